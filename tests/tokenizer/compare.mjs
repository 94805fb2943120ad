// Writes N deterministic test strings with js-tiktoken's token ids for cl100k_base and o200k_base
// (encode(text, [], []): special tokens are plain text) to OUT, for tokenizer_compare to check.
//
//   node compare.mjs OUT [N=10000] [SEED=1]        (js-tiktoken resolved through NODE_PATH)
//
// OUT: "TKC1", u32 count, then per string: u32 byte length, UTF-8 bytes, and for each encoding
// u32 token count followed by the u32 ids. All little-endian.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Prng, RandomText } from './generate.mjs';

const [out, countArg, seedArg] = process.argv.slice(2);
const count = Number(countArg ?? 10000);
const seed = Number(seedArg ?? 1);
// NODE_PATH does not apply to ES module imports; resolve js-tiktoken through require.
const require = createRequire(path.join(process.cwd(), 'noop.js'));
const { getEncoding } = require('js-tiktoken');
const encodings = [getEncoding('cl100k_base'), getEncoding('o200k_base')];

const r = Prng(seed);
const chunks = [Buffer.from('TKC1'), U32([count])];
const seen = new Set();
for (let i = 0; i < count; i++) {
  let text = RandomText(r);
  if (i < 3) text = ['', 'hello world', 'tiktoken is great!'][i];
  seen.add(text);
  const bytes = Buffer.from(text, 'utf8');
  chunks.push(U32([bytes.length]), bytes);
  for (const enc of encodings) {
    const ids = enc.encode(text, [], []);
    chunks.push(U32([ids.length, ...ids]));
  }
}
fs.writeFileSync(out, Buffer.concat(chunks));
console.log(`compare.mjs: ${count} strings (${seen.size} distinct), seed ${seed}, node ` +
  `${process.version} (Unicode ${process.versions.unicode}) -> ${out}`);

function U32(values) {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
  return b;
}
