// Times js-tiktoken on a text file (or writes the benchmark corpus), for tests/tokenizer/bench.sh.
//
//   node bench_js.mjs corpus OUT [BYTES=2097152]   write the mixed English/Chinese/code corpus
//   node bench_js.mjs time FILE [SECONDS=5]        MB/s of encode(text).length per encoding
// Prints one JSON line per encoding: {"encoding", "tokens", "mb_per_s_cpu", "mb_per_s_wall"}
// (MB = 2^20 bytes, as Google Benchmark reports; CPU time of this process).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BenchCorpus } from './generate.mjs';

const [mode, file, arg] = process.argv.slice(2);
if (mode === 'corpus') {
  fs.writeFileSync(file, BenchCorpus(Number(arg ?? 2 << 20)));
  process.exit(0);
}
const require = createRequire(path.join(process.cwd(), 'noop.js'));
const { getEncoding } = require('js-tiktoken');
const text = fs.readFileSync(file, 'utf8');
const bytes = Buffer.byteLength(text);
const seconds = Number(arg ?? 5);
for (const name of ['cl100k_base', 'o200k_base']) {
  const enc = getEncoding(name);
  const tokens = enc.encode(text, [], []).length;  // warm-up
  let runs = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  do {
    enc.encode(text, [], []);
    runs++;
  } while (performance.now() - wall0 < seconds * 1000 || runs < 2);
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const wallS = (performance.now() - wall0) / 1000;
  const mb = (runs * bytes) / (1 << 20);
  console.log(JSON.stringify({ encoding: name, bytes, tokens, runs,
    mb_per_s_cpu: +(mb / cpuS).toFixed(2), mb_per_s_wall: +(mb / wallS).toFixed(2) }));
}
