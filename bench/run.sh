#!/usr/bin/env bash
# `make bench`: the loopback overhead benchmark of the gateway against nginx, with the shared
# harness of ../shared/bench (see its README.md). In one run, on one machine:
#   direct upstream (nginx + Lua fake OpenAI), floor (nginx proxy_pass), modelmux, and (optionally)
#   the Portkey gateway as a peer; wrk on CPU 0, the servers on CPU 1.
#
# Environment:
#   MODELMUX_BIN   gateway binary (default build/release/bin/modelmux)
#   SHARED_DIR     the shared folder (default ../shared beside the repository)
#   BENCH_PEER     1: also measure Portkey (default 1 when npm works), 0: skip it
#   OUTDIR         results folder (default $BENCH_HOME/results/<utc time>)
#   GATEWAY_LOG    where the gateway's stderr goes (default OUTDIR/gateway.stderr)
#   BENCH_HOME, MODES, CONNS, DURATION, WARMUP, CLIENT_CPUS, SERVER_CPUS: as in the shared scripts
# Writes OUTDIR/{direct,floor,gateway,portkey}.tsv, OUTDIR/summary.md and bench/last-run.md (the
# fragment for docs/BENCHMARKS.md). Stops everything it started (by pid) on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$ROOT/../shared}"
HARNESS="$SHARED_DIR/bench"
BIN="${MODELMUX_BIN:-$ROOT/build/release/bin/modelmux}"
export BENCH_HOME="${BENCH_HOME:-/tmp/modelmux-bench}"
export CLIENT_CPUS="${CLIENT_CPUS:-0}" SERVER_CPUS="${SERVER_CPUS:-1}"
OUT="${OUTDIR:-$BENCH_HOME/results/$(date -u +%Y%m%dT%H%M%SZ)}"
UPSTREAM_PORT="${UPSTREAM_PORT:-18080}"

die() { echo "bench: $*" >&2; exit 1; }
[[ -d "$HARNESS" ]] || die "no benchmark harness at $HARNESS (the shared folder sits beside the repository)"
[[ -x "$BIN" ]] || die "no gateway binary at $BIN (run make build)"
for tool in nginx wrk taskset curl node; do
  command -v "$tool" >/dev/null || [[ -x "/usr/sbin/$tool" ]] || die "$tool is not installed (run make deps)"
done
if [[ -z "${BENCH_PEER:-}" ]]; then
  if npm --version >/dev/null 2>&1; then BENCH_PEER=1; else BENCH_PEER=0; fi
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
GATEWAY_LOG="${GATEWAY_LOG:-$OUT/gateway.stderr}"

gw_pid=""
started_upstream=0
cleanup() {
  if [[ -n "$gw_pid" ]] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$gw_pid" 2>/dev/null && kill -KILL "$gw_pid" 2>/dev/null
    wait "$gw_pid" 2>/dev/null || true
  fi
  if (( started_upstream )); then "$HARNESS/upstream.sh" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The neutral upstream (left running if it already was).
if ! "$HARNESS/upstream.sh" status >/dev/null 2>&1; then
  "$HARNESS/upstream.sh" start
  started_upstream=1
fi

# 2. The gateway under test, pinned to the servers' CPU, in a clean environment whose only
#    provider is the upstream. `env` and `taskset` exec, so $! is the gateway's own pid.
env -i PATH="$PATH" HOME="${HOME:-/root}" \
  OPENAI_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT/v1" OPENAI_API_KEY=sk-bench \
  MODELMUX_DATA_DIR="$OUT/gateway-data" \
  taskset -c "$SERVER_CPUS" "$BIN" serve --host 127.0.0.1 --port 0 \
  </dev/null >"$OUT/gateway.stdout" 2>"$GATEWAY_LOG" &
gw_pid=$!
port=""
for _ in $(seq 1 300); do
  line="$(grep -m1 '^listening on ' "$OUT/gateway.stdout" 2>/dev/null || true)"
  if [[ -n "$line" ]]; then port="${line##*:}"; port="${port%%[^0-9]*}"; break; fi
  kill -0 "$gw_pid" 2>/dev/null || { tail -20 "$GATEWAY_LOG" >&2; die "the gateway exited before listening"; }
  sleep 0.1
done
[[ -n "$port" ]] || { tail -20 "$GATEWAY_LOG" >&2; die "no 'listening on' line from the gateway within 30 s"; }
echo "gateway: pid $gw_pid on 127.0.0.1:$port (cpus $SERVER_CPUS), upstream http://127.0.0.1:$UPSTREAM_PORT/v1"

# 3. The matrix: direct, floor, gateway (and the peer).
WITH_PORTKEY="$BENCH_PEER" "$HARNESS/compare.sh" "http://127.0.0.1:$port/v1" "$gw_pid" "$OUT" \
  | tee "$OUT/compare.txt"

# 4. Peak memory of the gateway over the whole run.
hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$gw_pid/status" 2>/dev/null || echo 0)"
echo "$hwm_kb" >"$OUT/gateway-vmhwm-kb.txt"

# 5. The markdown fragment for docs/BENCHMARKS.md.
{
  version="$(timeout 5 "$BIN" --version 2>/dev/null | head -1 || true)"
  echo "<!-- bench/run.sh $(date -u +%FT%TZ): ${version:-modelmux}, $(nproc) cpus, kernel $(uname -r), wrk on cpu $CLIENT_CPUS, servers on cpu $SERVER_CPUS -->"
  node "$ROOT/bench/summary.mjs" --dir "$OUT" --rss-kb "$hwm_kb"
  for cand in floor gateway portkey; do
    [[ -f "$OUT/$cand.tsv" ]] || continue
    echo
    echo "<details><summary>added by $cand, every point (report.mjs)</summary>"
    echo
    node "$HARNESS/report.mjs" "$OUT/direct.tsv" "$OUT/$cand.tsv" --md | grep -v '^# ' || true
    echo
    echo "</details>"
  done
} >"$OUT/summary.md"
cp "$OUT/summary.md" "$ROOT/bench/last-run.md"

echo
sed -n '1,/<details>/p' "$OUT/summary.md" | grep -v '<details>' || true
echo
echo "gateway peak RSS (VmHWM): $((hwm_kb / 1024)) MiB"
echo "results in $OUT; markdown fragment in bench/last-run.md (paste into docs/BENCHMARKS.md)"
