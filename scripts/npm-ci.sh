#!/usr/bin/env bash
# Installs the pinned npm packages of a folder (package.json + package-lock.json) into another one,
# with `npm ci` and a persistent cache, so that repeated test runs work offline.
#
#   scripts/npm-ci.sh SRC_DIR DEST_DIR      -> DEST_DIR/node_modules
#
#   MODELMUX_NPM_CACHE   npm cache folder (default $HOME/.cache/modelmux-npm)
# Nothing is done when DEST_DIR already holds an install of the same lock file.
set -euo pipefail
[[ $# -eq 2 ]] || { sed -n '2,8p' "$0" >&2; exit 2; }
src="$1"
dest="$2"
cache="${MODELMUX_NPM_CACHE:-${HOME:-/root}/.cache/modelmux-npm}"
for f in package.json package-lock.json; do
  [[ -f "$src/$f" ]] || { echo "npm-ci: $src/$f is missing" >&2; exit 1; }
done
mkdir -p "$dest" "$cache"
if [[ -f "$dest/node_modules/.package-lock.json" ]] && cmp -s "$src/package.json" "$dest/package.json" \
  && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "npm-ci: $dest/node_modules is up to date"
  exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --prefer-offline --cache "$cache" --loglevel=error
echo "npm-ci: installed into $dest/node_modules:"
npm ls --depth=0 --cache "$cache" 2>/dev/null | tail -n +2 || true
