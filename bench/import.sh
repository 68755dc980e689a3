#!/bin/bash
# bench/import.sh [sqlite|postgres|all] - `rhis import` of N Patient lines
# against a raw batched insert of the same rows (bench/import.c).
#
# Why: the issue's target is import >= 50 % of the raw insert, measured in
# the same run, on SQLite (prepared statements) and PostgreSQL (multi-row
# INSERTs).  Each round gets two fresh `rhis init` databases: the raw
# insert runs on one, `rhis import` (a child process) on the other, the
# raw side first in odd rounds, the import first in even ones.  One RESULT
# line per round, then the mean and the lowest ratio.
#
# Environment: N (default 100000), ROUNDS (3), BATCH (500), BUILD_DIR
# (default build-bench), NO_BUILD=1, KEEP=1 (keep the temp dir),
# RHIS_TEST_PG_URL (postgres: a server where the user may CREATE DATABASE;
# without it a throw-away cluster is started with tools/pg-test-cluster.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-all}
n=${N:-100000}
rounds=${ROUNDS:-3}
batch=${BATCH:-500}
build=${BUILD_DIR:-$root/build-bench}

if [ -z "${NO_BUILD:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target rhis bench_import >/dev/null
fi
rhis=$build/rhis
bench=$build/bench_import

work=$(mktemp -d /tmp/rhis-bench-import.XXXXXX)
chmod 755 "$work"
pgdir=
pg_url=
pgdbs=()
cleanup() {
    for d in "${pgdbs[@]}"; do
        psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
    if [ -n "$pgdir" ]; then "$root/tools/pg-test-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
printf 'Bench-Passw0rd!' >"$work/pw"

# fresh_db ENGINE NAME: prints the URL of a new, initialised database
fresh_db() {
    local url
    if [ "$1" = sqlite ]; then
        url="sqlite:$work/$2.db"
        rm -f "$work/$2.db" "$work/$2.db-wal" "$work/$2.db-shm"
    else
        local db="rhis_bench_${2}_$$"
        psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null
        psql -q "$pg_url" -c "CREATE DATABASE $db" >/dev/null
        pgdbs+=("$db")
        url="${pg_url%/*}/$db"
    fi
    "$rhis" init --db "$url" --admin-password-file "$work/pw" \
        --data-dir "$root/data" >/dev/null
    echo "$url"
}

run_engine() {
    local engine=$1 sum=0 min=
    echo "== $engine: N=$n, batch $batch, $rounds rounds"
    for r in $(seq 1 "$rounds"); do
        local raw imp line ratio
        raw=$(fresh_db "$engine" "raw$r")
        imp=$(fresh_db "$engine" "imp$r")
        # alternate which side runs first (caches, background load)
        order=raw-first
        [ $((r % 2)) -eq 0 ] && order=import-first
        line=$("$bench" "$rhis" "$n" "$raw" "$imp" "$work" "$batch" "$order" | grep '^RESULT')
        echo "round $r: $line"
        ratio=$(echo "$line" | sed -n 's/.*ratio=\([0-9.]*\)%.*/\1/p')
        sum=$(echo "$sum + $ratio" | bc -l)
        if [ -z "$min" ] || [ "$(echo "$ratio < $min" | bc -l)" = 1 ]; then min=$ratio; fi
    done
    printf '%s: import/raw mean %.1f %%, lowest %.1f %% (target >= 50 %%)\n' \
        "$engine" "$(echo "$sum / $rounds" | bc -l)" "$min"
}

if [ "$mode" = sqlite ] || [ "$mode" = all ]; then
    run_engine sqlite
fi
if [ "$mode" = postgres ] || [ "$mode" = all ]; then
    pg_url=${RHIS_TEST_PG_URL:-}
    if [ -z "$pg_url" ]; then
        pgdir=$work/pg
        mkdir -p "$pgdir"
        pg_url=$("$root/tools/pg-test-cluster.sh" start "$pgdir" | tail -n 1)
    fi
    run_engine postgres
fi
