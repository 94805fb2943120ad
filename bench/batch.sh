#!/usr/bin/env bash
# `make bench-batch`: 10,000 chat requests against `modelmux sim --latency-ms 1000` with 500 in
# flight (ideal wall time: 10,000 / 500 x 1 s = 20 s), run twice in one benchmark run:
#   modelmux   `modelmux batch` (in-process routing, simple-format lines, results fsync'ed)
#   aiohttp    bench/batch_aiohttp.py: Python asyncio + aiohttp with a semaphore of 500 (the seed)
# The client runs on CLIENT_CPUS, the simulator on SERVER_CPUS. Wall time from the client's own
# clock, CPU time (user + system) of the client process from GNU time's rusage.
# Prints a table; stops everything it started, by pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${MODELMUX_BIN:-$ROOT/build/release/bin/modelmux}"
SIM_BIN="${SIM_BIN:-$BIN}"
N="${N:-10000}" CONCURRENCY="${CONCURRENCY:-500}" LATENCY_MS="${LATENCY_MS:-1000}"
CLIENT_CPUS="${CLIENT_CPUS:-0}" SERVER_CPUS="${SERVER_CPUS:-1}"
PYTHON="${PYTHON:-/usr/bin/python3}"  # Debian's python3 with python3-aiohttp
OUT="${OUTDIR:-/tmp/modelmux-bench/batch-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"

die() { echo "bench-batch: $*" >&2; exit 1; }
[[ -x "$BIN" ]] || die "no modelmux binary at $BIN (run make build)"
"$PYTHON" -c "import aiohttp" 2>/dev/null || die "python3-aiohttp is not installed (run make deps)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed for CPU times"
ulimit -n 65536 2>/dev/null || true

sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

taskset -c "$SERVER_CPUS" "$SIM_BIN" sim --port 0 --latency-ms "$LATENCY_MS" >"$OUT/sim.log" 2>&1 &
sim_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$OUT/sim.log" | head -1)"
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || die "the simulator did not start: $(cat "$OUT/sim.log")"
SIM="http://127.0.0.1:$port"

python3 - "$N" >"$OUT/in.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": i, "prompt": f"Question {i}: summarise the main features of blockchain technology"}))
PY
printf 'providers:\n  up: {type: sim, base_url: "%s/v1"}\n' "$SIM" >"$OUT/modelmux.yaml"

sim_total() { curl -s "$SIM/sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

# ---- modelmux batch ----
curl -s -X POST "$SIM/sim/reset" >/dev/null
rm -f "$OUT/out.jsonl" "$OUT/out.errors.jsonl"
/usr/bin/time -f '%e %U %S' -o "$OUT/mm.time" taskset -c "$CLIENT_CPUS" \
  "$BIN" batch "$OUT/in.jsonl" -o "$OUT/out.jsonl" --config "$OUT/modelmux.yaml" -m up/m \
  -c "$CONCURRENCY" --quiet --report "$OUT/mm.report.json" 2>"$OUT/mm.stderr" || true
mm_calls="$(sim_total)"
mm_ok="$(wc -l <"$OUT/out.jsonl")"
read -r mm_wall mm_user mm_sys <"$OUT/mm.time"

# ---- Python asyncio + aiohttp ----
curl -s -X POST "$SIM/sim/reset" >/dev/null
/usr/bin/time -f '%e %U %S' -o "$OUT/py.time" taskset -c "$CLIENT_CPUS" \
  "$PYTHON" "$ROOT/bench/batch_aiohttp.py" "$SIM/v1/chat/completions" "$OUT/in.jsonl" \
  "$OUT/py.out.jsonl" --concurrency "$CONCURRENCY" >"$OUT/py.json" 2>"$OUT/py.stderr" || true
py_calls="$(sim_total)"
py_ok="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$OUT/py.json" 2>/dev/null || echo 0)"
read -r py_wall py_user py_sys <"$OUT/py.time"

ideal=$(python3 -c "print($N / $CONCURRENCY * $LATENCY_MS / 1000)")
row() {  # name ok calls wall user sys
  python3 - "$@" "$N" "$ideal" <<'PY'
import sys
name, ok, calls, wall, user, sys_, n, ideal = sys.argv[1:]
ok, calls, n = int(ok), int(calls), int(n)
wall, user, sys_, ideal = float(wall), float(user), float(sys_), float(ideal)
cpu = user + sys_
print(f"{name:<10} {ok:>6}/{n:<6} {calls:>7} {wall:>7.2f}s {100 * (wall / ideal - 1):>+7.1f}% "
      f"{n / wall:>8.1f} {cpu:>7.2f}s {1e6 * cpu / n:>8.0f}us")
PY
}
echo "bench-batch: $N requests, concurrency $CONCURRENCY, simulator latency ${LATENCY_MS} ms, ideal ${ideal}s"
printf '%-10s %13s %7s %8s %8s %8s %8s %10s\n' client ok calls wall "vs-ideal" "req/s" cpu "cpu/req"
row modelmux "$mm_ok" "$mm_calls" "$mm_wall" "$mm_user" "$mm_sys" | tee "$OUT/table.txt"
row aiohttp "$py_ok" "$py_calls" "$py_wall" "$py_user" "$py_sys" | tee -a "$OUT/table.txt"
echo "bench-batch: details in $OUT"
