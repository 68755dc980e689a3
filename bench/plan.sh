#!/bin/sh
# bench/plan.sh [SCALE] [YEARS] - plan monitoring figures (docs/performance.md,
# "Issue 6"), on a Release build in build-rel (or $BUILD):
#  1. writes: `rhis demo` for 永吉县 with aggregate maintenance on and off
#     (RHIS_PLAN_AGG=0), store seconds per resource type and wall time;
#  2. rebuild vs the in-memory computation of the same facts (`rhis plan
#     rebuild --timing`: read, compute, write);
#  3. live = rebuild (`rhis plan verify`);
#  4. indicator x area x period from the aggregates vs SQL GROUP BY over
#     the raw records (bench_plan), same run;
#  5. single-record write transactions with maintenance on vs off
#     (bench_plan --writes, on a copy: it leaves the aggregates stale).
# County scale: SCALE 1 = 0.35 M residents (default 0.2), YEARS 2021-2025.
# Province: run `rhis demo --area 22 --scale S` yourself, then `rhis plan
# rebuild --timing` and `bench_plan DB 22 300` on it (docs/performance.md).
# CPU times are the figures to compare on a shared machine.
set -eu
scale=${1:-0.2}
years=${2:-2021-2025}
build=${BUILD:-build-rel}
here=$(cd "$(dirname "$0")/.." && pwd)
export RHIS_DATA_DIR="$here/data"
rhis="$here/$build/rhis"
work=$(mktemp -d /tmp/rhis-bench-plan.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'Bench-Passw0rd-123!' >"$work/pw"
for mode in on off; do
    "$rhis" init --db "sqlite:$work/$mode.db" --admin-password-file "$work/pw" \
        --data-dir "$RHIS_DATA_DIR" >/dev/null 2>&1
    if [ "$mode" = off ]; then agg=0; else agg=1; fi
    RHIS_PLAN_AGG=$agg /usr/bin/time -f "%U s user, %S s sys, %e s wall" \
        "$rhis" demo --db "sqlite:$work/$mode.db" --area 220221 \
        --scale "$scale" --years "$years" --seed 1 --no-progress \
        >"$work/$mode.out" 2>&1
    echo "== demo, aggregates $mode: $(tail -1 "$work/$mode.out")"
    grep -E "written" "$work/$mode.out" || true
done
echo "== rebuild (on the database written without aggregates)"
"$rhis" plan rebuild --db "sqlite:$work/off.db" --timing
echo "== live vs rebuild"
"$rhis" plan verify --db "sqlite:$work/on.db" || true
echo "== indicator x area x period"
"$here/$build/bench_plan" "sqlite:$work/on.db" 220221 300
echo "== single-record writes, aggregates on vs off"
cp "$work/on.db" "$work/w.db"
"$here/$build/bench_plan" "sqlite:$work/w.db" --writes 400
