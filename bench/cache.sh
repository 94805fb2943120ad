#!/usr/bin/env bash
# `make bench-cache`: what a response-cache hit costs through the gateway, in one run on one
# machine (issue "Caching"). The same deterministic request (temperature 0) is sent by wrk to:
#   floor      nginx proxy_pass to the zero-latency nginx upstream (../shared/bench)
#   passthrough  modelmux, the same request with temperature 0.2 (not cacheable: the fast path)
#   miss       modelmux, `Cache-Control: no-cache` (every request goes upstream and is stored)
#   memory     modelmux, cache.backend memory: every request a hit
#   sqlite     modelmux, cache.backend sqlite (the embedded default's persistent tier alone)
#   redis      modelmux, cache.backend redis (a redis-server started here)
# wrk on CPU 0, the servers on CPU 1. Prints a table of requests/s and latency, and the ratio of
# each to the floor. Stops everything it started, by pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${SHARED_DIR:-$ROOT/../shared}/bench"
BIN="${MODELMUX_BIN:-$ROOT/build/release/bin/modelmux}"
export BENCH_HOME="${BENCH_HOME:-/tmp/modelmux-bench}"
export CLIENT_CPUS="${CLIENT_CPUS:-0}" SERVER_CPUS="${SERVER_CPUS:-1}"
export UPSTREAM_PORT="${UPSTREAM_PORT:-18080}" FLOOR_PORT="${FLOOR_PORT:-18081}"
OUT="${OUTDIR:-$BENCH_HOME/cache-$(date -u +%Y%m%dT%H%M%SZ)}"
CONNS="${CONNS:-16}" DURATION="${DURATION:-8}"
mkdir -p "$OUT"

die() { echo "bench-cache: $*" >&2; exit 1; }
[[ -x "$BIN" ]] || die "no gateway binary at $BIN (run make build)"
command -v redis-server >/dev/null || die "redis-server is not installed (run make deps)"

pids=()
started_upstream=0 started_floor=0
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if (( started_floor )); then "$HARNESS/floor.sh" stop >/dev/null 2>&1 || true; fi
  if (( started_upstream )); then "$HARNESS/upstream.sh" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$HARNESS/upstream.sh" status >/dev/null 2>&1; then
  "$HARNESS/upstream.sh" start >/dev/null; started_upstream=1
fi
if ! "$HARNESS/floor.sh" status >/dev/null 2>&1; then
  "$HARNESS/floor.sh" start >/dev/null; started_floor=1
fi

# A free port for redis.
redis_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
taskset -c "$SERVER_CPUS" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
  --appendonly no --daemonize no --dir "$OUT" --logfile "$OUT/redis.log" &
pids+=($!)

body="$OUT/body.json"
printf '%s' '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France? Answer in one sentence."}],"temperature":0,"max_tokens":64}' >"$body"

start_gateway() {  # name backend -> sets gw_port
  local name="$1" backend="$2" cfg="$OUT/$1.yaml"
  printf 'providers:\n  openai: {type: openai, base_url: "http://127.0.0.1:%s/v1", api_key: sk-bench}\ncache: {backend: %s}\n' \
    "$UPSTREAM_PORT" "$backend" >"$cfg"
  env -i PATH="$PATH" HOME="${HOME:-/root}" MODELMUX_DATA_DIR="$OUT/data-$name" \
    taskset -c "$SERVER_CPUS" "$BIN" serve --host 127.0.0.1 --port 0 --config "$cfg" \
    --redis "redis://127.0.0.1:$redis_port" --no-access-log \
    </dev/null >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
  gw_pid=$!
  pids+=("$gw_pid")
  gw_port=""
  for _ in $(seq 1 300); do
    line="$(grep -m1 '^listening on ' "$OUT/$name.stdout" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then gw_port="${line##*:}"; gw_port="${gw_port%%[^0-9]*}"; break; fi
    sleep 0.1
  done
  [[ -n "$gw_port" ]] || die "gateway $name did not start: $(tail -5 "$OUT/$name.stderr")"
  # Warm: the first request stores the answer.
  curl -s -o /dev/null "http://127.0.0.1:$gw_port/v1/chat/completions" \
    -H 'content-type: application/json' --data-binary "@$body"
}

load() {  # label url [header]
  local label="$1" url="$2"; shift 2
  SERVER_PIDS="${SRV_PIDS:-}" LABEL="$label" MODES=json CONNS="$CONNS" DURATION="$DURATION" WARMUP=2 PREFLIGHT=0 \
    BENCH_BODY_FILE="${BODY:-$body}" TSV_OUT="$OUT/$label.tsv" \
    "$HARNESS/load.sh" "$url" "$@" >"$OUT/$label.txt"
}

load floor "http://127.0.0.1:$FLOOR_PORT/v1"
start_gateway miss memory
SRV_PIDS="$gw_pid" load miss "http://127.0.0.1:$gw_port/v1" "Cache-Control: no-cache"
# The same request, not cacheable (temperature 0.2): the byte-for-byte pass-through fast path.
sed 's/"temperature":0,/"temperature":0.2,/' "$body" >"$OUT/body-pass.json"
SRV_PIDS="$gw_pid" BODY="$OUT/body-pass.json" load passthrough "http://127.0.0.1:$gw_port/v1"
for backend in memory sqlite redis; do
  start_gateway "$backend" "$backend"
  hit="$(curl -s -D - -o /dev/null "http://127.0.0.1:$gw_port/v1/chat/completions" \
    -H 'content-type: application/json' --data-binary "@$body" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="x-modelmux-cache" {print $2}')"
  [[ "$hit" == "hit" ]] || die "$backend: the warmed request was not a hit ($hit)"
  SRV_PIDS="$gw_pid" load "$backend" "http://127.0.0.1:$gw_port/v1"
done

echo "<!-- bench/cache.sh $(date -u +%FT%TZ): $(nproc) cpus, wrk on cpu $CLIENT_CPUS, servers on cpu $SERVER_CPUS, $CONNS connections, ${DURATION}s per point -->"
printf '| path | requests/s | p50 ms | p99 ms | server CPU µs/request | vs floor (rps) |\n|---|---|---|---|---|---|\n'
floor_rps="$(awk -F'\t' 'NR==2 {print $5}' "$OUT/floor.tsv")"
for label in floor passthrough miss memory sqlite redis; do
  awk -F'\t' -v label="$label" -v floor="$floor_rps" 'NR==2 {
    printf "| %s | %.0f | %.2f | %.2f | %s | %.2fx |\n", label, $5, $6, $8, $15, $5 / floor }' \
    "$OUT/$label.tsv"
done
echo "results in $OUT"
