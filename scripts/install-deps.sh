#!/usr/bin/env bash
# Installs what modelmux needs to build, test and benchmark, and nothing that is already there.
# Idempotent; run as root on Debian 12. Tools are checked with `command -v`, libraries by their
# headers / pkg-config files, so a Node.js or npm that came from elsewhere is never replaced.
set -euo pipefail

need=()

have_header() { [ -e "$1" ]; }
want_pkg() { need+=("$1"); }

# Toolchain and build tools.
command -v g++ >/dev/null || want_pkg g++
command -v cmake >/dev/null || want_pkg cmake
command -v ninja >/dev/null || want_pkg ninja-build
command -v pkg-config >/dev/null || want_pkg pkg-config
command -v ccache >/dev/null || want_pkg ccache
command -v clang-format >/dev/null || want_pkg clang-format

# Libraries (Debian 12 packages only).
have_header /usr/include/boost/version.hpp && grep -q 'BOOST_LIB_VERSION "1_81"' /usr/include/boost/version.hpp \
  || want_pkg libboost1.81-dev
have_header /usr/lib/x86_64-linux-gnu/cmake/boost_json-1.81.0 || want_pkg libboost-json1.81-dev
have_header /usr/lib/x86_64-linux-gnu/cmake/boost_url-1.81.0 || want_pkg libboost-url1.81-dev
have_header /usr/include/openssl/ssl.h || want_pkg libssl-dev
have_header /usr/include/sqlite3.h || want_pkg libsqlite3-dev
have_header /usr/include/spdlog/spdlog.h || want_pkg libspdlog-dev
have_header /usr/include/fmt/core.h || want_pkg libfmt-dev
have_header /usr/include/CLI/CLI.hpp || want_pkg libcli11-dev
have_header /usr/include/yaml-cpp/yaml.h || want_pkg libyaml-cpp-dev
have_header /usr/include/gtest/gtest.h || want_pkg libgtest-dev
have_header /usr/include/gmock/gmock.h || want_pkg libgmock-dev
have_header /usr/include/benchmark/benchmark.h || want_pkg libbenchmark-dev
have_header /usr/include/jemalloc/jemalloc.h || want_pkg libjemalloc-dev
have_header /usr/include/vips/vips.h || want_pkg libvips-dev
have_header /usr/include/x86_64-linux-gnu/libavformat/avformat.h || want_pkg libavformat-dev
have_header /usr/include/x86_64-linux-gnu/libavcodec/avcodec.h || want_pkg libavcodec-dev
have_header /usr/include/x86_64-linux-gnu/libswscale/swscale.h || want_pkg libswscale-dev
have_header /usr/include/x86_64-linux-gnu/libavutil/avutil.h || want_pkg libavutil-dev

# Test and benchmark peers: real servers on loopback, and Node.js for the official SDKs.
command -v nginx >/dev/null || want_pkg nginx
[ -e /usr/share/nginx/modules-available/mod-http-lua.conf ] || [ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] \
  || want_pkg libnginx-mod-http-lua
command -v wrk >/dev/null || want_pkg wrk
command -v redis-server >/dev/null || want_pkg redis-server
command -v node >/dev/null || want_pkg nodejs
command -v npm >/dev/null || want_pkg npm
command -v curl >/dev/null || want_pkg curl
command -v openssl >/dev/null || want_pkg openssl
command -v pgrep >/dev/null || want_pkg procps        # the benchmark harness finds nginx workers
command -v taskset >/dev/null || want_pkg util-linux  # the benchmark pins servers and wrk to CPUs
command -v python3 >/dev/null || want_pkg python3
# Packaging test (tests/packaging/deb_test.sh): CPack's dpkg-shlibdeps, systemd-analyze, file.
command -v dpkg-shlibdeps >/dev/null || want_pkg dpkg-dev
command -v systemd-analyze >/dev/null || want_pkg systemd
command -v file >/dev/null || want_pkg file
/usr/bin/python3 -c "import aiohttp" 2>/dev/null || want_pkg python3-aiohttp  # bench/batch_aiohttp.py
[ -x /usr/bin/chromium ] || want_pkg chromium         # the dashboard test (playwright-core drives it)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${need[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
# The nginx package starts a server on port 80; the tests start their own on free ports.
if [[ " ${need[*]} " == *" nginx "* ]] && command -v service >/dev/null; then
  service nginx stop >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" redis-server "* ]] && command -v service >/dev/null; then
  service redis-server stop >/dev/null 2>&1 || true
fi
