#!/usr/bin/env bash
# `make bench-media`: how much memory one large image request costs the gateway (issue
# "Multimodal": at most two full copies of a media file on the request path).
#
# For each case a fresh release gateway is started in front of `modelmux sim`, sent exactly one
# request, and its peak resident memory (VmHWM, /proc/PID/status) is read; the idle peak of the
# same process before the request is the baseline measured in the same run. The result is the
# peak over idle, also as a multiple of the request body and of the image's bytes:
#   small     64x48 JPEG (a few KB), OpenAI dialect upstream
#   large     8000x6000 JPEG (~30 MB; a ~40 MB body), OpenAI dialect upstream (re-encoded)
#   gemini    the same large JPEG, Gemini dialect upstream (re-encoded)
#   anthropic the same large JPEG, Anthropic dialect upstream (re-encoded)
# Prints a markdown table. Stops everything it started, by pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build/release}"
BIN="${MODELMUX_BIN:-$BUILD/bin/modelmux}"
PHOTO="${MAKE_PHOTO:-$BUILD/bin/make_photo}"
OUT="${OUTDIR:-/tmp/modelmux-bench/media-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"

die() { echo "bench-media: $*" >&2; exit 1; }
[[ -x "$BIN" ]] || die "no modelmux binary at $BIN (run make build)"
[[ -x "$PHOTO" ]] || die "no make_photo at $PHOTO (run make build)"

pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_of LOG: the port a modelmux process printed ("listening on 127.0.0.1:PORT").
port_of() {
  local port=""
  for _ in $(seq 1 100); do
    port="$(sed -n 's/^.*listening on .*:\([0-9]*\)$/\1/p' "$1" | head -1)"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || die "no port in $1: $(tail -3 "$1")"
  echo "$port"
}
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

"$PHOTO" 64 48 "$OUT/small.jpg" >/dev/null
"$PHOTO" 8000 6000 "$OUT/large.jpg" 89 >/dev/null  # about 30 MB

"$BIN" sim --port 0 >"$OUT/sim.log" 2>&1 &
pids+=($!)
SIM="http://127.0.0.1:$(port_of "$OUT/sim.log")"

# body FILE MODEL -> request body on stdout
body() {
  python3 - "$1" "$2" <<'PY'
import base64, json, sys
data = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
print(json.dumps({"model": sys.argv[2], "max_tokens": 16, "messages": [{"role": "user", "content": [
    {"type": "text", "text": "What is in this photo?"},
    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + data}}]}]}))
PY
}

cat >"$OUT/modelmux.yaml" <<YAML
providers:
  oa: {type: openai, base_url: "$SIM/v1", api_key: k-oa}
  gem: {type: gemini, base_url: "$SIM", api_key: k-gem}
  claude: {type: anthropic, base_url: "$SIM", api_key: k-cl}
cache: {enabled: false}
server: {limits: {chat_body: 67108864}}  # the default 32 MiB would refuse the 40 MB body
YAML

echo "| request | body | idle peak | peak | over idle | over idle / body | status |" >"$OUT/table.md"
echo "|---|---|---|---|---|---|---|" >>"$OUT/table.md"
run_case() {  # name image model
  local name="$1" image="$2" model="$3"
  body "$image" "$model" >"$OUT/$name.json"
  MALLOC_CONF="${MALLOC_CONF:-}" "$BIN" serve --config "$OUT/modelmux.yaml" --port 0 --data-dir "$OUT/data-$name" \
    >"$OUT/gw-$name.log" 2>&1 &
  local gw=$!
  pids+=("$gw")
  local port
  port="$(port_of "$OUT/gw-$name.log")"
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz"
  local idle
  idle="$(hwm_kb "$gw")"
  local status
  status="$(curl -s -o "$OUT/$name.out" -w '%{http_code}' -H 'content-type: application/json' \
    --data-binary @"$OUT/$name.json" "http://127.0.0.1:$port/v1/chat/completions")"
  local peak
  peak="$(hwm_kb "$gw")"
  kill -TERM "$gw" 2>/dev/null || true
  wait "$gw" 2>/dev/null || true
  local bytes
  bytes="$(stat -c %s "$OUT/$name.json")"
  python3 - "$name" "$bytes" "$idle" "$peak" "$status" <<'PY' >>"$OUT/table.md"
import sys
name, body, idle, peak, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
mib = lambda kb: f"{kb / 1024:.0f} MiB"
over = (peak - idle) * 1024
print(f"| {name} | {body / 1e6:.1f} MB | {mib(idle)} | {mib(peak)} | {over / 2**20:.0f} MiB | "
      f"{over / body:.2f} | {status} |")
PY
}

run_case small "$OUT/small.jpg" oa/gpt-echo-1
run_case large "$OUT/large.jpg" oa/gpt-echo-1
run_case gemini "$OUT/large.jpg" gem/gemini-echo
run_case anthropic "$OUT/large.jpg" claude/claude-echo-1

echo "bench-media: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "image: $(stat -c %s "$OUT/large.jpg") bytes (8000x6000 JPEG)"
cat "$OUT/table.md"
