#!/bin/sh
# copy.sh RHIS - `rhis copy` from SQLite to a new PostgreSQL database.
#
# Why: the README's way from SQLite to PostgreSQL must keep every row and
# id, refuse a non-empty target and leave ids usable afterwards.  Needs
# RHIS_TEST_PG_URL and psql; exits 77 (skip) without them.
set -eu
rhis=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${RHIS_TEST_PG_URL:-}" ] || { echo "copy.sh: SKIP: no RHIS_TEST_PG_URL"; exit 77; }
command -v psql >/dev/null || { echo "copy.sh: SKIP: no psql"; exit 77; }
tmp=$(mktemp -d)
db="rhis_copy_$$"
base=${RHIS_TEST_PG_URL%/*}
cleanup() {
    psql -q "$RHIS_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "copy.sh: FAIL: $*"; exit 1; }

printf 'Copy-Passw0rd!' > "$tmp/pw"
src="sqlite:$tmp/src.db"
dst="$base/$db"
"$rhis" init --db "$src" --admin-password-file "$tmp/pw" --data-dir "$root/data" >/dev/null
"$rhis" import-institutions --db "$src" "$root/data/institutions-220221.csv" >/dev/null
"$rhis" import-population --db "$src" "$root/data/population-220221.csv" >/dev/null
psql -q "$RHIS_TEST_PG_URL" -c "CREATE DATABASE $db" >/dev/null

out=$("$rhis" copy --from "$src" --to "$dst") || fail "copy failed: $out"
echo "$out"
for t in area institution population app_user; do
    a=$(sqlite3 "$tmp/src.db" "SELECT COUNT(*) FROM $t" 2>/dev/null || python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM $t').fetchone()[0])" "$tmp/src.db")
    b=$(psql -qtA "$dst" -c "SELECT COUNT(*) FROM $t")
    [ "$a" = "$b" ] || fail "$t: $a rows in SQLite, $b in PostgreSQL"
done
name=$(psql -qtA "$dst" -c "SELECT name FROM institution WHERE code = 'H220221001'")
[ "$name" = "永吉县人民医院" ] || fail "Chinese text did not survive: '$name'"
# a second copy is refused and changes nothing
if "$rhis" copy --from "$src" --to "$dst" 2>"$tmp/err"; then
    fail "second copy into a non-empty database succeeded"
fi
grep -q "not empty" "$tmp/err" || fail "unclear refusal: $(cat "$tmp/err")"
# new rows get ids after the copied ones
id=$(psql -qtA "$dst" -c "INSERT INTO institution (code, name, tier, ownership, area_code, updated_at) VALUES ('COPYTEST', '测试', 'other', 'public', '220221', 0) RETURNING id" | head -1)
max=$(psql -qtA "$dst" -c "SELECT COUNT(*) FROM institution")
[ "$id" = "$max" ] || fail "identity not moved past copied ids: new id $id, rows $max"
echo "copy.sh: ok"
