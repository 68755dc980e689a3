#!/bin/sh
# user.sh RHIS - `rhis user add|list|disable|passwd` and `rhis init` end to end.
#
# Why: operators manage accounts from the shell; every refusal must say
# what is wrong and change nothing.  Runs on SQLite in a temp dir.
set -eu
rhis=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "user.sh: FAIL: $*"; exit 1; }
db="sqlite:$tmp/u.db"
printf 'Admin-Passw0rd!' > "$tmp/admin"
printf 'Planner-Pass-1' > "$tmp/pw"
printf 'short' > "$tmp/weak"
printf 'Another-Pass-2' > "$tmp/pw2"

out=$("$rhis" init --db "$db" --admin-password-file "$tmp/admin" --data-dir "$root/data")
echo "$out" | grep -q "areas: 13990 added" || fail "init: $out"
out=$("$rhis" init --db "$db" --data-dir "$root/data")
echo "$out" | grep -q "areas: 0 added" || fail "second init added areas: $out"
echo "$out" | grep -q "admin user exists" || fail "second init: $out"

"$rhis" user add --db "$db" --username planner1 --role planner --scope 220221 \
    --password-file "$tmp/pw" | grep -q "user planner1 added" || fail "add"
expect_refusal() {
    what=$1; shift
    if "$rhis" user "$@" >"$tmp/out" 2>"$tmp/err"; then
        fail "$what was accepted"
    fi
    grep -qi "$what" "$tmp/err" || fail "$what: unclear message: $(cat "$tmp/err")"
}
expect_refusal "already exists" add --db "$db" --username planner1 --role planner --scope 220221 --password-file "$tmp/pw"
expect_refusal "unknown role" add --db "$db" --username x1 --role doctor --scope 220221 --password-file "$tmp/pw"
expect_refusal "not a known area" add --db "$db" --username x2 --role planner --scope 229999 --password-file "$tmp/pw"
expect_refusal "only admin" add --db "$db" --username x3 --role planner --scope '*' --password-file "$tmp/pw"
expect_refusal "no such institution" add --db "$db" --username x4 --role clinician --scope inst:999 --password-file "$tmp/pw"
expect_refusal "8 to 128" add --db "$db" --username x5 --role planner --scope 220221 --password-file "$tmp/weak"
expect_refusal "username" add --db "$db" --username "bad name" --role planner --scope 220221 --password-file "$tmp/pw"
# passwords never on the command line
expect_refusal "usage" add --db "$db" --username x6 --role planner --scope 220221 --password Planner-Pass-1

list=$("$rhis" user list --db "$db")
n=$(echo "$list" | grep -c -E '^[0-9]+ ')
[ "$n" = 2 ] || fail "list shows $n users, want 2 (refusals must add nothing): $list"
echo "$list" | grep -E '^[0-9]+ +planner1 +planner +220221 +active' >/dev/null || fail "list: $list"

"$rhis" user passwd --db "$db" --username planner1 --password-file "$tmp/pw2" | grep -q "changed" || fail "passwd"
expect_refusal "no such user" passwd --db "$db" --username nobody --password-file "$tmp/pw2"
"$rhis" user disable --db "$db" --username planner1 | grep -q "disabled" || fail "disable"
"$rhis" user list --db "$db" | grep -E 'planner1 .* disabled' >/dev/null || fail "not shown disabled"
expect_refusal "no such user" disable --db "$db" --username nobody
echo "user.sh: ok"
