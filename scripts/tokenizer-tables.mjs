#!/usr/bin/env node
// Converts the BPE ranks shipped by the npm package js-tiktoken into the compact tables that
// src/text/bpe.cpp embeds, and derives the Unicode property tables the hand-written
// pre-tokenizer (src/text/pretokenize.cpp) needs from this node's own regex engine, so that both
// sides agree on the Unicode version that js-tiktoken uses under the same node.
//
//   node scripts/tokenizer-tables.mjs NODE_MODULES_DIR OUT_DIR      (`make tokenizer-tables`)
//
// Outputs (all little-endian):
//   <encoding>.bin       "TKR1", u32 rank_count, then for each rank 0..count-1: u8 length, bytes
//                        (length 0 marks a rank that the encoding does not use).
//   unicode_flags.bin    "TKU1", u32 block_count, u16 stage1[0x1100] (block of each 256 code
//                        points), u8 stage2[block_count][256] (flags of each code point):
//                        1 \p{L}, 2 \p{N}, 4 \s (JavaScript's), 8 [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}],
//                        16 [\p{Ll}\p{Lm}\p{Lo}\p{M}].
// The script refuses to write anything when js-tiktoken's split patterns differ from the ones
// the C++ pre-tokenizer implements.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [modulesDir, outDir] = process.argv.slice(2);
if (!modulesDir || !outDir) {
  console.error('usage: tokenizer-tables.mjs NODE_MODULES_DIR OUT_DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modulesDir), 'noop.js'));
const pkg = JSON.parse(fs.readFileSync(
  path.join(path.resolve(modulesDir), 'js-tiktoken', 'package.json'), 'utf8'));

const kContraction = "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)";
const kExpected = {
  cl100k_base: kContraction + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  o200k_base: String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` +
    kContraction + '?' +
    String.raw`|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` +
    kContraction + '?' +
    String.raw`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
};

function RankTable(name) {
  const ranks = require(`js-tiktoken/ranks/${name}`).default ?? require(`js-tiktoken/ranks/${name}`);
  if (ranks.pat_str !== kExpected[name]) {
    throw new Error(`${name}: js-tiktoken's pattern changed:\n${ranks.pat_str}`);
  }
  const tokens = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offsetStr, ...b64] = line.split(' ');
    const offset = Number.parseInt(offsetStr, 10);
    b64.forEach((t, i) => { tokens[offset + i] = Buffer.from(t, 'base64'); });
  }
  const parts = [Buffer.from('TKR1'), u32(tokens.length)];
  let bytes = 0, gaps = 0, maxLen = 0;
  for (let r = 0; r < tokens.length; r++) {
    const t = tokens[r];
    if (!t) { parts.push(Buffer.from([0])); gaps++; continue; }
    if (t.length === 0 || t.length > 255) throw new Error(`${name}: rank ${r} has length ${t.length}`);
    parts.push(Buffer.from([t.length]), t);
    bytes += t.length;
    maxLen = Math.max(maxLen, t.length);
  }
  const out = Buffer.concat(parts);
  console.log(`${name}: ${tokens.length} ranks (${gaps} unused), ${bytes} token bytes, ` +
    `longest ${maxLen}, ${out.length} bytes written`);
  return out;
}

function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }

function UnicodeFlags() {
  const tests = [
    [1, /^\p{L}$/u], [2, /^\p{N}$/u], [4, /^\s$/u],
    [8, /^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$/u], [16, /^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$/u],
  ];
  const kBlocks = 0x110000 >> 8;
  const stage1 = Buffer.alloc(kBlocks * 2);
  const blocks = new Map();  // block contents (hex) -> index
  const stage2 = [];
  for (let b = 0; b < kBlocks; b++) {
    const block = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) {
      const cp = (b << 8) | i;
      if (cp >= 0xd800 && cp <= 0xdfff) continue;  // surrogates are not valid in UTF-8
      const s = String.fromCodePoint(cp);
      let f = 0;
      for (const [bit, re] of tests) if (re.test(s)) f |= bit;
      block[i] = f;
    }
    const key = block.toString('hex');
    let index = blocks.get(key);
    if (index === undefined) {
      index = stage2.length;
      blocks.set(key, index);
      stage2.push(block);
    }
    stage1.writeUInt16LE(index, b * 2);
  }
  const out = Buffer.concat([Buffer.from('TKU1'), u32(stage2.length), stage1, ...stage2]);
  console.log(`unicode_flags: Unicode ${process.versions.unicode} (node ${process.version}), ` +
    `${stage2.length} distinct blocks, ${out.length} bytes written`);
  return out;
}

const outputs = {
  'cl100k_base.bin': RankTable('cl100k_base'),
  'o200k_base.bin': RankTable('o200k_base'),
  'unicode_flags.bin': UnicodeFlags(),
};
fs.mkdirSync(outDir, { recursive: true });
for (const [file, data] of Object.entries(outputs)) fs.writeFileSync(path.join(outDir, file), data);
fs.writeFileSync(path.join(outDir, 'SOURCE'),
  `Generated by scripts/tokenizer-tables.mjs (make tokenizer-tables); do not edit.\n` +
  `Ranks: npm js-tiktoken ${pkg.version} (MIT), ranks/cl100k_base and ranks/o200k_base.\n` +
  `Unicode properties: node ${process.version}, Unicode ${process.versions.unicode}.\n`);
