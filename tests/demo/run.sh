#!/bin/sh
# tests/demo/run.sh RHIS - `rhis demo` end to end on SQLite, at a small
# scale of 永吉县 (220221): determinism (two runs, same hash; another seed,
# another hash), resuming (a second run skips the county and changes
# nothing; other arguments on the same database are refused), the totals
# and ID numbers in the database, and the command's input checks.
# Prints "N passed, N failed".
set -u
rhis=$1
data=${RHIS_DATA_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/data}
work=$(mktemp -d /tmp/rhis-test-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else bad "$2"; fi; }

printf 'Demo-Test-Passw0rd!' >"$work/pw"
for d in a b c; do
    "$rhis" init --db "sqlite:$work/$d.db" --admin-password-file "$work/pw" \
        --data-dir "$data" >/dev/null 2>&1 || { echo "init failed"; exit 1; }
done
args="--area 220221 --years 2024-2025 --scale 0.004 --data $data --no-progress"
# shellcheck disable=SC2086
"$rhis" demo --db "sqlite:$work/a.db" $args --seed 5 >"$work/a.out" 2>&1
check $? "demo runs (seed 5)"
# shellcheck disable=SC2086
"$rhis" demo --db "sqlite:$work/b.db" $args --seed 5 >/dev/null 2>&1
check $? "demo runs again into another database"
# shellcheck disable=SC2086
"$rhis" demo --db "sqlite:$work/c.db" $args --seed 6 >/dev/null 2>&1
check $? "demo runs with seed 6"
ha=$("$rhis" demo --db "sqlite:$work/a.db" --hash)
hb=$("$rhis" demo --db "sqlite:$work/b.db" --hash)
hc=$("$rhis" demo --db "sqlite:$work/c.db" --hash)
[ -n "$ha" ] && [ "$ha" = "$hb" ]
check $? "same seed and arguments: same hash ($ha)"
[ "$ha" != "$hc" ]
check $? "another seed: another hash"

# shellcheck disable=SC2086
"$rhis" demo --db "sqlite:$work/a.db" $args --seed 5 >"$work/again.out" 2>&1
check $? "a second run succeeds"
grep -q "1 already there" "$work/again.out"
check $? "a second run skips the county"
[ "$("$rhis" demo --db "sqlite:$work/a.db" --hash)" = "$ha" ]
check $? "a second run changes nothing"
# shellcheck disable=SC2086
"$rhis" demo --db "sqlite:$work/a.db" $args --seed 9 >"$work/conflict.out" 2>&1
[ $? = 1 ] && grep -q "was generated with seed=5" "$work/conflict.out"
check $? "other arguments on the same database are refused"

"$rhis" demo --db "sqlite:$work/a.db" --area 229999 --data "$data" \
    >"$work/bad.out" 2>&1
[ $? = 2 ] && grep -q "no county-level division under area '229999'" "$work/bad.out"
check $? "an unknown area is refused by name"
"$rhis" demo --db "sqlite:$work/a.db" --area 220221 --scale 0 >/dev/null 2>&1
[ $? = 2 ]
check $? "--scale 0 is refused"
"$rhis" demo --db "sqlite:$work/a.db" --area 220221 --years 2025-2019 >/dev/null 2>&1
[ $? = 2 ]
check $? "--years backwards is refused"

# The database: python3's sqlite3 module reads it.
python3 - "$work/a.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
fails = 0
def check(cond, what):
    global fails
    print(("ok - " if cond else "FAIL - ") + what)
    fails += 0 if cond else 1
# residents on the first day: exactly round(350000 * 0.004) = 1400
first = db.execute("SELECT COUNT(*) FROM fhir_version WHERE type = 'Patient'"
                   " AND version = 1 AND ts < ?", (1704067200000 + 86400000 - 8 * 3600000,)).fetchone()[0]
check(first == 1400, "residents on the first day: %d of 1400" % first)
# the denominators of 2024 (mid-year) within 1.5 % of it
pop = db.execute("SELECT SUM(population) FROM population WHERE year = 2024"
                 " AND area_code LIKE '220221%'").fetchone()[0] or 0
check(abs(pop - 1400) <= 21, "mid-2024 population %d within 1.5 %% of 1400" % pop)
# ID numbers: 18 characters, valid check character, unique, agreeing
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
rows = db.execute("SELECT id_number, birth_date, sex FROM patient").fetchall()
bad = 0
for idn, birth, sex in rows:
    s = sum(int(idn[i]) * W[i] for i in range(17))
    if ("10X98765432"[s % 11] != idn[17] or idn[6:14] != birth.replace("-", "")
            or (int(idn[16]) % 2 == 1) != (sex == "M")):
        bad += 1
check(bad == 0 and len(rows) > 1400, "%d ID numbers valid and agreeing (%d bad)" % (len(rows), bad))
n = db.execute("SELECT COUNT(DISTINCT id_number) FROM patient").fetchone()[0]
check(n == len(rows), "ID numbers unique")
# deaths carry a cause; institutions and staff exist
dead = db.execute("SELECT COUNT(*) FROM patient WHERE deceased_ms IS NOT NULL").fetchone()[0]
causes = db.execute("SELECT COUNT(*) FROM observation WHERE code = '69453-9'").fetchone()[0]
check(dead > 0 and causes == dead, "%d deaths, %d causes of death" % (dead, causes))
vc = db.execute("SELECT COUNT(*) FROM institution WHERE tier IN ('village_clinic', 'community_station')"
                " AND area_code LIKE '220221%'").fetchone()[0]
nv = db.execute("SELECT COUNT(*) FROM area WHERE level = 5 AND code LIKE '220221%'").fetchone()[0]
check(vc == nv, "a clinic per village or community (%d of %d)" % (vc, nv))
ph = db.execute("SELECT COUNT(DISTINCT practitioner_id) FROM practitioner_role"
                " WHERE role IN ('physician', 'assistant_physician')").fetchone()[0]
check(3 <= ph <= 6, "physicians %d for 1400 residents at 2.86 per 1000" % ph)
sys.exit(1 if fails else 0)
EOF
check $? "database checks"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
