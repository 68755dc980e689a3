#!/usr/bin/env bash
#
# install-deps.sh - install the Debian 12 packages RHIS needs, and nothing else.
#
# Why: `make run` and `make test` must work on a fresh Debian 12 machine (and
# in CI, which runs as root with no stdin), yet stay fast when everything is
# already there. Packages are checked with dpkg-query first; apt-get runs
# (after one apt-get update) only for the missing ones.
#
# Usage: tools/install-deps.sh [run|test|bench]    (default: run)
#   bench adds R and r-cran-surveillance for bench/detect.sh (about 550
#   packages; neither `make run` nor `make test` needs them).
set -euo pipefail

mode=${1:-run}
case "$mode" in
run | test | bench) ;;
*)
    echo "usage: $0 [run|test|bench]" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

run_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev
    libsqlite3-dev libpq-dev libsodium-dev libcmocka-dev nodejs npm
    unicode-data ca-certificates)
# clang + libclang-rt-14-dev: libFuzzer and the sanitizer runtimes.
test_pkgs=(postgresql-15 clang libclang-rt-14-dev chromium wrk python3 procps)

pkgs=("${run_pkgs[@]}")
if [ "$mode" = test ]; then
    pkgs+=("${test_pkgs[@]}")
fi
if [ "$mode" = bench ]; then
    pkgs+=(r-cran-surveillance)
fi

installed() {
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [ "$st" = "install ok installed" ]
}

missing=()
for p in "${pkgs[@]}"; do
    case "$p" in
    nodejs | npm)
        # A machine's Node.js may come from another packaging (e.g.
        # NodeSource's nodejs ships npm itself); Debian's npm package would
        # conflict with it, so a working command is good enough.
        if command -v "${p/nodejs/node}" >/dev/null 2>&1; then
            continue
        fi
        ;;
    esac
    if ! installed "$p"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "install-deps: missing ${missing[*]}; not root and no sudo" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
    echo "install-deps: all $mode packages present"
fi

# Web dependencies (ECharts, playwright-core) from npm, when the project has
# a package.json and node_modules is missing or older than it.
if [ -f "$root/package.json" ]; then
    need=0
    if [ ! -d "$root/node_modules" ]; then
        need=1
    elif [ "$root/package.json" -nt "$root/node_modules" ]; then
        need=1
    elif [ -f "$root/package-lock.json" ] &&
        [ "$root/package-lock.json" -nt "$root/node_modules" ]; then
        need=1
    fi
    if [ "$need" = 1 ]; then
        cd "$root"
        # Never let an npm package download a browser of its own: the
        # tests drive Debian's /usr/bin/chromium.
        export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        export PUPPETEER_SKIP_DOWNLOAD=1
        if [ -f package-lock.json ]; then
            echo "install-deps: npm ci"
            npm ci --no-audit --no-fund </dev/null
        else
            echo "install-deps: npm install"
            npm install --no-audit --no-fund </dev/null
        fi
        # npm ci may leave the directory's mtime older than package.json.
        touch "$root/node_modules"
    fi
fi
