#!/usr/bin/env bash
# Counting speed of modelmux's tokenizers against js-tiktoken on the same text, in one run.
#
#   tests/tokenizer/bench.sh BUILD_DIR [NODE_MODULES_DIR]
# BUILD_DIR: a Release build with MODELMUX_DEVELOPER_MODE=ON (for bin/text_benchmark);
# NODE_MODULES_DIR: where js-tiktoken is installed (default BUILD_DIR/npm/node_modules, as
# scripts/npm-ci.sh tests/e2e BUILD_DIR/npm leaves it).
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n '2,7p' "$0" >&2; exit 2; }
build="$(cd "$1" && pwd)"
modules="${2:-$build/npm/node_modules}"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$build/tokenizer_bench_corpus.txt"
node "$here/bench_js.mjs" corpus "$corpus"
echo "corpus: $corpus ($(wc -c <"$corpus") bytes of English, Chinese and code)"
cpp_json="$build/tokenizer_bench_cpp.json"
MODELMUX_TOKENIZER_BENCH_TEXT="$corpus" "$build/bin/text_benchmark" \
  --benchmark_filter='BM_TokenizerCount' --benchmark_min_time=2 \
  --benchmark_out="$cpp_json" --benchmark_out_format=json >/dev/null
js_lines="$(cd "$modules/.." && node "$here/bench_js.mjs" time "$corpus" 5)"
node - "$cpp_json" "$js_lines" <<'JS'
const fs = require('fs');
const [cppFile, jsLines] = process.argv.slice(2);
const cpp = JSON.parse(fs.readFileSync(cppFile, 'utf8')).benchmarks;
const js = jsLines.trim().split('\n').map((l) => JSON.parse(l));
const mb = (b) => b.bytes_per_second / (1 << 20);
for (const j of js) {
  const c = cpp.find((b) => b.label === j.encoding);
  const wall = (c.bytes / (1 << 20)) / (c.real_time / 1e3);
  console.log(`${j.encoding}: modelmux ${mb(c).toFixed(1)} MB/s (cpu), ${wall.toFixed(1)} MB/s (wall), ` +
    `${c.tokens} tokens | js-tiktoken ${j.mb_per_s_cpu} MB/s (cpu), ${j.mb_per_s_wall} MB/s (wall), ` +
    `${j.tokens} tokens | ratio ${(mb(c) / j.mb_per_s_cpu).toFixed(1)}x` +
    (c.tokens === j.tokens ? '' : '  TOKEN COUNTS DIFFER'));
}
JS
