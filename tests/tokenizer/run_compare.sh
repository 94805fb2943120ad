#!/usr/bin/env bash
# ctest tokenizer.js_tiktoken: js-tiktoken (node) writes strings and their token ids, then
# tokenizer_compare checks modelmux's tokenizers against them.
#
#   run_compare.sh NODE NODE_MODULES_DIR COMPARE_BIN WORK_DIR [COUNT] [SEED]
set -euo pipefail
[[ $# -ge 4 ]] || { sed -n '2,5p' "$0" >&2; exit 2; }
node="$1"; modules="$2"; bin="$3"; work="$4"; count="${5:-10000}"; seed="${6:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
cases="$work/tokenizer_cases_${seed}.bin"
(cd "$modules/.." && NODE_PATH="$modules" "$node" "$here/compare.mjs" "$cases" "$count" "$seed")
"$bin" "$cases"
