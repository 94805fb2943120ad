#!/usr/bin/env bash
# `make bench-chaos`: the gateway under upstream faults. For each fault profile, three `modelmux
# sim` processes are the three deployments of one alias; wrk (closed loop, keep-alive) drives the
# gateway and the simulators' /sim/stats count what reached them. Reported per profile: success
# rate, upstream attempts per request, p50 and p99 latency. A request fails when wrk sees a non-2xx
# status, a timeout or a read error, or when the gateway counted it in
# modelmux_request_errors_total (a stream that failed after its 200 head looks fine to wrk); the
# larger of wrk's status errors and the gateway's count is used.
#
# Profiles:
#   healthy     three healthy deployments
#   429-30pct   every deployment answers 30 % of its requests 429 with retry-after-ms: 20
#   500-1of3    one of the three answers every request 500
#   stall-1of3  one of the three never answers (a 10 s stall before the headers); the provider's
#               first-byte timeout (500 ms) ends those attempts
#   500-all     every deployment answers every request 500 (a total outage): the retry budget
#               keeps upstream attempts near 1 per request once it has drained
#   stream-reset-1of3  streamed requests; one of the three closes the connection before any header
#               (retried on another deployment: nothing was sent to the caller yet)
#   stream-cut-1of3    streamed requests; one of the three ends every stream after 3 chunks
#               without a terminator (not retried: the caller already has part of the answer)
#
# Environment:
#   MODELMUX_BIN  gateway/simulator binary (default build/release/bin/modelmux)
#   SHARED_DIR    the shared folder with bench/wrk/chat.lua (default ../shared beside the repo)
#   PROFILES      profiles to run (default: all, in the order above)
#   DURATION=10   seconds of load per profile   CONNS=16  wrk connections   THREADS=2
#   OUTDIR        results folder (default /tmp/modelmux-bench/chaos-<utc time>)
# Prints a markdown table (also OUTDIR/summary.md). Stops everything it started (by pid) on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$ROOT/../shared}"
LUA="$SHARED_DIR/bench/wrk/chat.lua"
BIN="${MODELMUX_BIN:-$ROOT/build/release/bin/modelmux}"
PROFILES="${PROFILES:-healthy 429-30pct 500-1of3 stall-1of3 500-all stream-reset-1of3 stream-cut-1of3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-16}"
THREADS="${THREADS:-2}"
OUT="${OUTDIR:-/tmp/modelmux-bench/chaos-$(date -u +%Y%m%dT%H%M%SZ)}"

die() { echo "chaos: $*" >&2; exit 1; }
[[ -x "$BIN" ]] || die "no binary at $BIN (run make build, or set MODELMUX_BIN)"
[[ -f "$LUA" ]] || die "no wrk script at $LUA (the shared folder sits beside the repository)"
for tool in wrk curl; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
(( DURATION >= 1 && DURATION <= 60 )) || die "DURATION must be 1..60 seconds"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start NAME ARGS...: runs BIN ARGS in a clean environment, waits for "listening on", sets PORT.
PORT=""
start() {
  local name="$1"; shift
  env -i PATH="$PATH" HOME="${HOME:-/root}" MODELMUX_DATA_DIR="$OUT/$name-data" \
    "$BIN" "$@" </dev/null >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 200); do
    local line
    line="$(grep -m1 '^listening on ' "$OUT/$name.stdout" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then PORT="${line##*:}"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -5 "$OUT/$name.stderr" >&2; die "$name exited"; }
    sleep 0.05
  done
  die "$name: no 'listening on' line within 10 s"
}

sim_total() { curl -s "http://127.0.0.1:$1/sim/stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p'; }
# gateway_errors PORT: the sum of modelmux_request_errors_total over its series.
gateway_errors() {
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^modelmux_request_errors_total[{ ]/ { n += $NF } END { printf "%d\n", n }'
}

# run_profile NAME: prints one markdown row.
run_profile() {
  local name="$1"
  local a=() b=() c=() extra3="" mode=json
  case "$name" in
    healthy) ;;
    429-30pct)
      a=(--fail-rate 0.3 --fail-status 429 --retry-after-ms 20); b=("${a[@]}"); c=("${a[@]}") ;;
    500-1of3) c=(--fail-rate 1 --fail-status 500) ;;
    stall-1of3) extra3=', headers: {x-sim-stall-ms: "10000"}' ;;
    500-all) a=(--fail-rate 1 --fail-status 500); b=("${a[@]}"); c=("${a[@]}") ;;
    stream-reset-1of3) mode=stream; extra3=', headers: {x-sim-reset: "1"}' ;;
    stream-cut-1of3) mode=stream; extra3=', headers: {x-sim-cut-after: "3"}' ;;
    *) die "unknown profile $name" ;;
  esac
  local p1 p2 p3
  start "$name-sim1" sim --port 0 "${a[@]}"; p1="$PORT"
  start "$name-sim2" sim --port 0 "${b[@]}"; p2="$PORT"
  start "$name-sim3" sim --port 0 "${c[@]}"; p3="$PORT"
  local t='timeouts: {first_byte: 500ms}'
  cat >"$OUT/$name.yaml" <<EOF
providers:
  s1: {type: openai, base_url: "http://127.0.0.1:$p1/v1", api_key: sk-bench, $t}
  s2: {type: openai, base_url: "http://127.0.0.1:$p2/v1", api_key: sk-bench, $t}
  s3: {type: openai, base_url: "http://127.0.0.1:$p3/v1", api_key: sk-bench, $t$extra3}
models:
  - name: chat
    deployments:
      - {provider: s1, model: gpt-4o-mini}
      - {provider: s2, model: gpt-4o-mini}
      - {provider: s3, model: gpt-4o-mini}
router:
  timeout: 5s
  retry_base: 25ms
  retry_cap: 250ms
  outlier: {consecutive_failures: 5, base_ejection: 2s, max_ejection: 10s}
EOF
  local gp
  start "$name-gateway" serve --host 127.0.0.1 --port 0 --config "$OUT/$name.yaml"; gp="$PORT"
  BENCH_MODE="$mode" BENCH_MODEL=chat wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 6s -s "$LUA" \
    "http://127.0.0.1:$gp/v1/chat/completions" >"$OUT/$name.wrk" 2>&1 || true
  local line
  line="$(grep '^BENCH ' "$OUT/$name.wrk" || true)"
  [[ -n "$line" ]] || { cat "$OUT/$name.wrk" >&2; die "$name: no BENCH line from wrk"; }
  local upstream=$(( $(sim_total "$p1") + $(sim_total "$p2") + $(sim_total "$p3") ))
  local gw_errors
  gw_errors="$(gateway_errors "$gp")"
  stop_all
  awk -v name="$name" -v up="$upstream" -v gwe="${gw_errors:-0}" -v line="$line" 'BEGIN {
    n = split(line, kv, " ");
    for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2]; }
    st = v["err_status"] > gwe ? v["err_status"] : gwe;
    req = v["requests"]; bad = st + v["err_timeout"] + v["err_read"];
    if (bad > req) bad = req;
    if (req == 0) req = 1;
    printf "| %s | %d | %.1f | %.2f%% | %.2f | %.1f | %.1f |\n", name, v["requests"], v["rps"],
      100 * (req - bad) / req, up / req, v["p50_us"] / 1000, v["p99_us"] / 1000;
  }'
}

{
  echo "<!-- bench/chaos.sh $(date -u +%FT%TZ): $("$BIN" --version 2>/dev/null | head -1 || echo modelmux)," \
    "$(nproc) cpus, wrk -t$THREADS -c$CONNS -d${DURATION}s -->"
  echo "| profile | requests | req/s | success | upstream attempts / request | p50 ms | p99 ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for profile in $PROFILES; do run_profile "$profile"; done
} | tee "$OUT/summary.md"
echo "results in $OUT"
