#!/bin/sh
# build.sh - copies the npm-installed ECharts into web/vendor/ (git-ignored).
# Why: the UI is static and needs no bundler; the only third-party file it loads is
# /vendor/echarts.min.js, which comes from node_modules and is never committed.
# Run from anywhere after `npm ci` (or `npm install`) at the project root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
src="$root/node_modules/echarts/dist/echarts.min.js"
if [ ! -f "$src" ]; then
    echo "build.sh: $src not found; run 'npm ci' in $root first" >&2
    exit 1
fi
mkdir -p "$here/vendor"
cp "$src" "$here/vendor/echarts.min.js"
echo "web/vendor/echarts.min.js <- node_modules/echarts/dist/echarts.min.js"
