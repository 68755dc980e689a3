#!/bin/sh
# tests/plan/demo.sh RHIS - plan monitoring on the demo region (永吉县):
# the aggregates kept live by the writes of `rhis demo` equal a rebuild
# (`rhis plan verify`), and every computable indicator of the engine, for
# the county and three townships in 2023-2025, equals an independent
# recount from the raw records (tests/plan/demo_check.py).
# Prints "N passed, N failed".
set -u
rhis=$1
here=$(cd "$(dirname "$0")" && pwd)
data=${RHIS_DATA_DIR:-$here/../../data}
work=$(mktemp -d /tmp/rhis-test-plan.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
check() {
    if [ "$1" = 0 ]; then
        pass=$((pass + 1))
        echo "ok - $2"
    else
        fail=$((fail + 1))
        echo "FAIL - $2"
    fi
}
if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 missing: skipped"
    exit 77
fi
export RHIS_DATA_DIR="$data"
printf 'Plan-Test-Passw0rd!' >"$work/pw"
"$rhis" init --db "sqlite:$work/d.db" --admin-password-file "$work/pw" \
    --data-dir "$data" >"$work/init.out" 2>&1
check $? "init"
"$rhis" demo --db "sqlite:$work/d.db" --area 220221 --scale 0.02 \
    --years 2023-2025 --seed 1 --data "$data" --no-progress \
    >"$work/demo.out" 2>&1
check $? "demo 220221 --scale 0.02 --years 2023-2025 --seed 1"
"$rhis" plan verify --db "sqlite:$work/d.db" >"$work/verify.out" 2>&1
check $? "live aggregates equal a rebuild: $(cat "$work/verify.out")"
python3 "$here/demo_check.py" "$rhis" "$work/d.db" 220221 2023-2025 \
    >"$work/check.out" 2>&1
check $? "indicators equal an independent recount (live): $(tail -1 "$work/check.out")"
grep FAIL "$work/check.out" | head -20
"$rhis" plan rebuild --db "sqlite:$work/d.db" >"$work/rebuild.out" 2>&1
check $? "rebuild"
python3 "$here/demo_check.py" "$rhis" "$work/d.db" 220221 2023-2025 \
    >"$work/check2.out" 2>&1
check $? "indicators equal an independent recount (rebuilt): $(tail -1 "$work/check2.out")"
"$rhis" plan value --db "sqlite:$work/d.db" --ind nope --period 2024 \
    >/dev/null 2>&1
[ $? = 2 ]
check $? "an unknown indicator is refused"
"$rhis" plan value --db "sqlite:$work/d.db" --ind imr --period 2024Q9 \
    >/dev/null 2>&1
[ $? = 2 ]
check $? "a bad period is refused"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
