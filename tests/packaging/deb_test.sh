#!/usr/bin/env bash
# The .deb package, checked without installing it (this machine has no systemd as PID 1):
#   1. build it with CPack in a temporary directory (or take MODELMUX_DEB=path/to.deb);
#   2. control fields: name, Depends from dpkg-shlibdeps, conffiles, maintainer scripts;
#   3. `dpkg-deb -x` into a temporary root: files, modes, owners, the unit's hardening lines;
#   4. `systemd-analyze verify` on the unit (ExecStart mapped into the root) and the offline
#      `systemd-analyze security` exposure score;
#   5. the unit's ExecStart, parsed from the unit with its paths mapped into the root, run as an
#      unprivileged user (nobody) with a temporary state directory: `listening on`, /healthz and
#      one chat completion on the built-in simulator, then SIGTERM by PID.
#
# Usage: deb_test.sh BUILD_DIR     (ctest passes the build directory)
set -euo pipefail

build_dir=${1:-}
work=$(mktemp -d /tmp/mm-deb-test.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
need() { command -v "$1" >/dev/null || fail "$1 is missing (scripts/install-deps.sh installs it)"; }
need dpkg-deb
need curl
need systemd-analyze

# ---- 1. the package -----------------------------------------------------------------------
deb=${MODELMUX_DEB:-}
if [ -z "$deb" ]; then
  [ -n "$build_dir" ] && [ -f "$build_dir/CPackConfig.cmake" ] || fail "usage: $0 BUILD_DIR"
  need cpack
  need dpkg-shlibdeps
  cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack failed"; }
  deb=$(ls "$work"/cpack/modelmux_*_*.deb 2>/dev/null | head -n1)
fi
[ -f "$deb" ] || fail "no package found"
case "$(basename "$deb")" in
  modelmux_[0-9]*.[0-9]*.[0-9]*_amd64.deb) ok "file name $(basename "$deb")" ;;
  *) fail "unexpected file name $(basename "$deb")" ;;
esac

# ---- 2. control ---------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = modelmux ] || fail "Package: $(field Package)"
depends=$(field Depends)
for lib in libc6 libssl3 libsqlite3-0 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
grep -q "\badduser\b" <<<"$depends" || fail "Depends lacks adduser: $depends"
ok "Depends: $depends"
mkdir -p "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qx "/etc/modelmux/config.yaml" "$work/control/conffiles" || fail "config.yaml is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$work/control/$s" ] || fail "maintainer script $s missing or not executable"
  sh -n "$work/control/$s" || fail "$s: syntax error"
done
grep -q "adduser --system" "$work/control/postinst" || fail "postinst does not create the user"
grep -q "/var/lib/modelmux" "$work/control/postinst" || fail "postinst does not create the state dir"
ok "control: conffiles, maintainer scripts"

# ---- 3. contents --------------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"
dpkg-deb -x "$deb" "$root"
chmod 0755 "$work" "$root"
# Owners and modes as packaged (tar listing), not as extracted.
listing=$(dpkg-deb -c "$deb")
check_entry() {  # path mode
  local line
  line=$(awk -v p="./$1" '$6 == p' <<<"$listing")
  [ -n "$line" ] || fail "$1 not in the package"
  [ "$(awk '{print $1}' <<<"$line")" = "$2" ] || fail "$1: mode $(awk '{print $1}' <<<"$line"), want $2"
  [ "$(awk '{print $2}' <<<"$line")" = "root/root" ] || fail "$1: owner $(awk '{print $2}' <<<"$line")"
}
check_entry usr/bin/modelmux -rwxr-xr-x
check_entry lib/systemd/system/modelmux.service -rw-r--r--
check_entry etc/modelmux/config.yaml -rw-r--r--
if awk '{print $6}' <<<"$listing" | grep -Eq '^\./usr/(include|lib/.*\.(a|so))'; then
  fail "the SDK is in the service package"
fi
file "$root/usr/bin/modelmux" 2>/dev/null | grep -q "not stripped" && fail "the binary is not stripped"
ok "files, modes, owners"

unit="$root/lib/systemd/system/modelmux.service"
for line in "User=modelmux" "DynamicUser=no" "StateDirectory=modelmux" \
  "ExecStart=/usr/bin/modelmux serve --config /etc/modelmux/config.yaml --data-dir /var/lib/modelmux" \
  "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
  "PrivateDevices=yes" "ProtectKernelTunables=yes" "ProtectKernelModules=yes" \
  "ProtectKernelLogs=yes" "ProtectControlGroups=yes" \
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "RestrictNamespaces=yes" \
  "LockPersonality=yes" "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service" \
  "CapabilityBoundingSet=" "ReadWritePaths=/var/lib/modelmux" \
  "EnvironmentFile=-/etc/modelmux/env" "Restart=on-failure"; do
  grep -qxF "$line" "$unit" || fail "unit lacks '$line'"
done
grep -Eq '^LimitNOFILE=[0-9]+$' "$unit" || fail "unit lacks LimitNOFILE"
ok "unit hardening lines"

# ---- 4. systemd-analyze -------------------------------------------------------------------
mkdir -p "$work/unit"
sed -e "s#/usr/bin/modelmux#$root/usr/bin/modelmux#g" "$unit" >"$work/unit/modelmux.service"
if ! SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/unit/modelmux.service" \
  >"$work/verify.log" 2>&1; then
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify"
fi
# Warnings about the unit itself fail too (the machine's other units are not our business).
if grep -i "modelmux.service" "$work/verify.log" | grep -v "Failed to .* bus\|runtime directory\|Operation not permitted"; then
  fail "systemd-analyze verify warned about the unit"
fi
ok "systemd-analyze verify"
if systemd-analyze security --help 2>/dev/null | grep -q -- "--offline"; then
  systemd-analyze security --offline=yes --no-pager "$work/unit/modelmux.service" \
    >"$work/security.log" 2>&1 || true
  score=$(grep -Eo 'exposure level for modelmux.service: [0-9.]+' "$work/security.log" | awk '{print $NF}')
  [ -n "$score" ] || { cat "$work/security.log" >&2; fail "no exposure score"; }
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
  ok "systemd-analyze security: exposure $score"
fi

# ---- 5. run the unit's command line as nobody ----------------------------------------------
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
read -r -a argv <<<"$exec_start"
state="$work/state"
mkdir -p "$state"
mapped=()
for a in "${argv[@]}"; do
  case "$a" in
    /usr/bin/*|/etc/modelmux/*) mapped+=("$root$a") ;;
    /var/lib/modelmux) mapped+=("$state") ;;
    *) mapped+=("$a") ;;
  esac
done
mapped+=(--port 0)  # the test's port, not 8080
env_args=(PATH=/usr/bin:/bin HOME="$state")
while IFS= read -r kv; do env_args+=("$kv"); done < <(sed -n 's/^Environment=//p' "$unit")
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chown nobody:nogroup "$state"
  chmod 0750 "$state"
  run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs)
  want_user=nobody
else
  run_as=()
  want_user=$(id -un)
fi
# Starts the mapped command line with extra environment (KEY=VALUE...); sets server_pid, port.
start_service() {
  : >"$work/out.log"
  (cd "$state" && exec "${run_as[@]}" env -i "${env_args[@]}" "$@" "${mapped[@]}") \
    >"$work/out.log" 2>"$work/err.log" &
  server_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out.log" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/err.log" >&2; fail "the service exited"; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/out.log" "$work/err.log" >&2; fail "no 'listening on' in 30 s"; }
}
stop_service() {
  kill -TERM "$server_pid"
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then fail "the service ignored SIGTERM for 10 s"; fi
  wait "$server_pid" || fail "the service exited with status $? on SIGTERM"
  server_pid=
}
start_service
ok "listening on port $port"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$server_pid/status")
[ "$(id -un "$uid")" = "$want_user" ] || fail "runs as $(id -un "$uid"), want $want_user"
ok "runs as $want_user"

health=$(curl -sS --max-time 10 -o - -w '\n%{http_code}' "http://127.0.0.1:$port/healthz")
[ "$(tail -n1 <<<"$health")" = 200 ] || fail "/healthz: $health"
grep -q '"ok"' <<<"$health" || fail "/healthz body: $health"
ok "/healthz"
reply=$(curl -sS --max-time 20 -w '\n%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
  -H 'content-type: application/json' \
  -d '{"model":"sim/echo","messages":[{"role":"user","content":"packaged hello"}]}')
[ "$(tail -n1 <<<"$reply")" = 200 ] || fail "chat completion: $reply"
grep -q 'packaged hello' <<<"$reply" || fail "chat completion body: $reply"
grep -q '"chat.completion"' <<<"$reply" || fail "not a chat completion: $reply"
ok "chat completion on the simulator"
if [ -n "$(ls -A "$state")" ]; then
  bad=$(find "$state" -mindepth 1 ! -user "$want_user" | head -n1)
  [ -z "$bad" ] || fail "$bad in the state directory is not owned by $want_user"
  ok "state written as $want_user: $(ls "$state" | tr '\n' ' ')"
fi

stop_service
ok "stopped by SIGTERM"
# ---- 6. the same command line with TLS from the environment (as /etc/modelmux/env would) ----
need openssl
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" \
  >/dev/null 2>&1 || fail "openssl could not make a test certificate"
chmod 0755 "$work/tls"
chmod 0644 "$work/tls/cert.pem" "$work/tls/key.pem"
start_service MODELMUX_TLS_CERT="$work/tls/cert.pem" MODELMUX_TLS_KEY="$work/tls/key.pem"
health=$(curl -sS --max-time 10 --cacert "$work/tls/cert.pem" -w '\n%{http_code}' \
  "https://127.0.0.1:$port/healthz")
[ "$(tail -n1 <<<"$health")" = 200 ] || fail "https /healthz: $health"
if curl -sS --max-time 10 -k --tls-max 1.1 "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  fail "TLS 1.1 was accepted"
fi
if curl -sS --max-time 10 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  fail "plain HTTP was answered on the TLS port"
fi
stop_service
ok "TLS from MODELMUX_TLS_CERT/KEY: https /healthz, TLS 1.1 and plain HTTP refused"
echo "PASS"
