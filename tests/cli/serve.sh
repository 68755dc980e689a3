#!/bin/sh
# serve.sh RHIS - `rhis serve` configuration: file < environment < flags,
# --check-config, --dump-config, --routes.
#
# Why: operators rely on --check-config (like nginx -t) before a restart;
# a bad value must be named with its source and stop the start.
set -eu
rhis=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "serve.sh: FAIL: $*"; exit 1; }
printf 'Admin-Passw0rd!' > "$tmp/admin"
db="sqlite:$tmp/s.db"
"$rhis" init --db "$db" --admin-password-file "$tmp/admin" --data-dir "$root/data" >/dev/null

cat > "$tmp/rhis.conf" <<CONF
# a comment
db $db
threads 3
max_body_bytes 2048
login_workers 1
CONF
out=$(RHIS_THREADS=5 "$rhis" serve --config "$tmp/rhis.conf" --login-workers 4 --dump-config --check-config)
echo "$out" | grep -qx "threads 5" || fail "environment must override the file: $out"
echo "$out" | grep -qx "max_body_bytes 2048" || fail "file value lost: $out"
echo "$out" | grep -qx "login_workers 4" || fail "flag must override the file: $out"
echo "$out" | grep -qx "configuration ok" || fail "check: $out"

printf 'threads 3\nmax_body_bytes lots\n' > "$tmp/bad.conf"
if "$rhis" serve --config "$tmp/bad.conf" --check-config 2>"$tmp/err"; then
    fail "bad config accepted"
fi
grep -q "bad.conf:2: max_body_bytes: 'lots' is not an integer" "$tmp/err" || fail "message: $(cat "$tmp/err")"
if RHIS_JSON_MAX_DEPTH=1000 "$rhis" serve --db "$db" --check-config 2>"$tmp/err"; then
    fail "out-of-range environment value accepted"
fi
grep -q "RHIS_JSON_MAX_DEPTH: json_max_depth: 1000 is outside" "$tmp/err" || fail "message: $(cat "$tmp/err")"
if "$rhis" serve --db "$db" --no-such-setting 1 --check-config 2>"$tmp/err"; then
    fail "unknown flag accepted"
fi
grep -q "unknown setting 'no_such_setting'" "$tmp/err" || fail "message: $(cat "$tmp/err")"
# a database without the schema is not ready to serve
if "$rhis" serve --db "sqlite:$tmp/empty.db" --check-config 2>"$tmp/err"; then
    fail "uninitialised database passed the check"
fi
grep -q "run 'rhis init" "$tmp/err" || fail "message: $(cat "$tmp/err")"

routes=$("$rhis" serve --routes)
echo "$routes" | grep -E '^GET +/fhir/Organization/\{id\} +yes' >/dev/null || fail "routes: $routes"
echo "$routes" | grep -E '^POST +/fhir/Organization +yes +in-tx +admin,integrator' >/dev/null || fail "routes: $routes"
echo "serve.sh: ok"
