#!/bin/sh
# run.sh BUILD_DIR - browser tests of the web UI against a live `rhis serve`.
#
# Why: the UI is only proven by driving a real browser against the real server.
# Makes a throwaway SQLite database (init + the 永吉县 institutions + the test
# users below, all with the admin's password), serves web/ on a free 127.0.0.1
# port, runs `node --test tests/browser/` (every *.test.mjs there) with Debian's
# chromium through playwright-core, and exits with node's status. The tests
# seed their own patients and records through the API; RHIS_BIN, RHIS_DB and
# RHIS_PASSWORD_FILE let them add a resident linked to a patient they made.
# Exit 77 (ctest SKIP_RETURN_CODE) when node, chromium or playwright-core is missing.
# Screenshots go to $RHIS_SCREENSHOT_DIR (default: the temp dir, removed at exit
# unless RHIS_KEEP_TMP=1).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
rhis="$build/rhis"
chromium=${RHIS_CHROMIUM:-/usr/bin/chromium}

skip() { echo "run.sh: SKIP: $*" >&2; exit 77; }
[ -x "$rhis" ] || { echo "run.sh: $rhis not found" >&2; exit 1; }
command -v node >/dev/null 2>&1 || skip "node not installed"
[ -x "$chromium" ] || skip "$chromium not installed"

cd "$root"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/echarts ]; then
    # Never downloads a browser: playwright-core has no install step.
    npm ci --no-audit --no-fund >&2 || skip "npm ci failed (playwright-core, echarts)"
fi
sh web/build.sh >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rhis-browser.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "${RHIS_KEEP_TMP:-0}" = 1 ]; then
        echo "run.sh: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

password='Test-Passw0rd!'
printf '%s\n' "$password" > "$tmp/pw"
chmod 600 "$tmp/pw"
db="sqlite:$tmp/t.db"

"$rhis" init --db "$db" --admin-password-file "$tmp/pw" >"$tmp/init.log" 2>&1 || {
    cat "$tmp/init.log" >&2; echo "run.sh: rhis init failed" >&2; exit 1; }
"$rhis" import-institutions --db "$db" data/institutions-220221.csv >"$tmp/import.log" 2>&1 || {
    cat "$tmp/import.log" >&2; echo "run.sh: rhis import-institutions failed" >&2; exit 1; }

# Test users (tests/browser/record.test.mjs): integrator writes the seed
# records, cdc reads within 永吉县, clinician works at institution 1 (永吉县人民医院).
for u in integrator:integrator:220221 cdc:cdc:220221 clinician:clinician:inst:1; do
    name=${u%%:*}
    rest=${u#*:}
    "$rhis" user add --db "$db" --username "$name" --role "${rest%%:*}" \
        --scope "${rest#*:}" --password-file "$tmp/pw" >>"$tmp/users.log" 2>&1 || {
        cat "$tmp/users.log" >&2; echo "run.sh: rhis user add $name failed" >&2; exit 1; }
done

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
url="http://127.0.0.1:$port"

RHIS_WEB_ROOT=web "$rhis" serve --db "$db" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pid=$!

i=0
until curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; do
    i=$((i + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 100 ]; then
        cat "$tmp/serve.log" >&2
        echo "run.sh: server did not become healthy at $url" >&2
        exit 1
    fi
    sleep 0.1
done

status=0
RHIS_URL="$url" RHIS_USER=admin RHIS_PASSWORD="$password" \
RHIS_SCREENSHOT_DIR="${RHIS_SCREENSHOT_DIR:-$tmp}" RHIS_CHROMIUM="$chromium" \
RHIS_BIN="$rhis" RHIS_DB="$db" RHIS_PASSWORD_FILE="$tmp/pw" \
    node --test tests/browser/ || status=$?

if [ $status -ne 0 ]; then
    echo "run.sh: server log:" >&2
    tail -n 50 "$tmp/serve.log" >&2
fi
exit $status
