#!/bin/bash
# bench/patient.sh [all|read|search|create|profile|profile-create] - Patient benchmarks of issue 3.
#
# Builds a Release rhis in build-bench, creates a throw-away SQLite database
# with N synthetic residents (bench/gen_patients.py, loaded with rhis
# import; default N=1000000), starts rhis serve and measures, each as a ratio
# to a baseline taken in the same run:
#   read    GET /fhir/Patient/{id} vs a static file of the same bytes
#           (bench/org_vs_static.sh; target >= 60 %)
#   search  GET /fhir/Patient?identifier=SYSTEM|ID for random existing IDs
#           (target p99 < 10 ms), with GET /fhir/Patient/{id} as baseline
#   create  POST /fhir/Patient (durable, group commit) at 64 connections vs
#           the disk's durable commit ceiling measured by bench/commit_ceiling
#           on the same file system (target >= 80 %)
#   profile perf record -g on the server during Patient reads
#           (profile-create: during creates)
# Environment: N, BUILD_DIR, PORT (18391), DURATION (10), KEEP=1, NO_BUILD=1,
# REUSE=DIR (a kept run's directory: no generation or import), SEARCH_CONNS (64),
# DB=postgresql://... to run on PostgreSQL instead (must be empty).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-all}
build=${BUILD_DIR:-$root/build-bench}
port=${PORT:-18391}
n=${N:-1000000}
duration=${DURATION:-10}
export BASE_URL=http://127.0.0.1:$port
export BENCH_DIR=$root/bench

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
if [ -z "${NO_BUILD:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target rhis >/dev/null
fi
rhis=$build/rhis
cc -O2 -o "$build/commit_ceiling" "$root/bench/commit_ceiling.c" -lsqlite3

# REUSE=DIR: a directory kept (KEEP=1) by an earlier run with the same N;
# its database, ID list and password are used again, nothing is imported.
work=${REUSE:-$(mktemp -d /var/tmp/rhis-bench.XXXXXX)}
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -z "${KEEP:-}" ] && [ -z "${REUSE:-}" ]; then rm -rf "$work"
    else echo "kept $work"; fi
}
trap cleanup EXIT

db=${DB:-sqlite:$work/rhis.db}
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
if [ -n "${REUSE:-}" ]; then
    password=$(cat "$work/admin.pw")
    n=$(wc -l <"$work/ids.txt")
    echo "# reusing $work ($n residents)"
else
    password="Bench-$(date +%s)-Pw"
    printf '%s' "$password" >"$work/admin.pw"
    "$rhis" init --db "$db" --data-dir "$root/data" \
        --admin-password-file "$work/admin.pw" >/dev/null
    echo "# generating $n residents"
    IDS_OUT=$work/ids.txt python3 "$root/bench/gen_patients.py" "$n" 7 \
        >"$work/patients.ndjson"
    t0=$(date +%s.%N)
    "$rhis" import --db "$db" "$work/patients.ndjson" \
        2>"$work/import.err" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {
        printf "import: %d residents in %.1f s (%.0f/s)\n", n, b - a, n / (b - a) }'
fi

mkdir -p "$work/web"
"$rhis" serve --db "$db" --listen "127.0.0.1:$port" --access-log 0 \
    --web-root "$work/web" --data-dir "$root/data" ${SERVE_ARGS:-} \
    2>"$work/serve.err" &
server_pid=$!
mkdir -p "$work/web"
# the server loads the master patient index first (1 M residents: seconds,
# more on a loaded machine)
for _ in $(seq 1 1200); do
    curl -sf "$BASE_URL/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
for _ in 1 2 3 4 5; do curl -sf "$BASE_URL/healthz" >/dev/null && break; sleep 0.5; done
RHIS_TOKEN=$(curl -s -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
    "$BASE_URL/api/v1/login" | tee "$work/login.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export RHIS_TOKEN

pid=$((n / 2))
curl -sf -H "Authorization: Bearer $RHIS_TOKEN" \
    "$BASE_URL/fhir/Patient/$pid" >"$work/web/patient.json"

run_read() {
    echo "## GET /fhir/Patient/$pid vs static (same bytes)"
    ORG_PATH=/fhir/Patient/$pid STATIC_PATH=/patient.json DURATION=$duration \
        LABEL="Patient read, $n residents" "$root/bench/org_vs_static.sh"
}

run_search() {
    echo "## GET /fhir/Patient?identifier=... (random existing IDs)"
    shuf -n 20000 --random-source=<(yes) "$work/ids.txt" >"$work/sample.txt"
    for round in 1 2; do
        IDS_FILE=$work/sample.txt wrk -t2 -c"${SEARCH_CONNS:-64}" -d"${duration}s" --latency \
            -s "$root/bench/identifier.lua" "$BASE_URL" |
            awk -v r="$round" '/^RESULT/ { print "search round " r ": " $0 }'
        wrk -t2 -c"${SEARCH_CONNS:-64}" -d"${duration}s" --latency -s "$root/bench/report.lua" \
            "$BASE_URL/fhir/Patient/$pid" |
            awk -v r="$round" '/^RESULT/ { print "read   round " r ": " $0 }'
    done
}

run_create() {
    echo "## durable single creates at 64 connections vs commit ceiling"
    for round in 1 2; do
        "$build/commit_ceiling" "$work/ceiling.db" "$duration" |
            sed "s/^/ceiling round $round: /"
        rm -f "$work"/ceiling.db*
        wrk -t2 -c64 -d"${duration}s" --latency -s "$root/bench/create.lua" \
            "$BASE_URL" | awk -v r="$round" '/^RESULT/ { print "create round " r ": " $0 }'
    done
    curl -sf "$BASE_URL/metrics" | grep -E '^rhis_(commit_groups|group_writes)_total'
}

run_profile() { # run_profile [create]
    local script=$root/bench/report.lua url=$BASE_URL/fhir/Patient/$pid
    if [ "${1:-}" = create ]; then
        script=$root/bench/create.lua url=$BASE_URL
    fi
    echo "## perf record -g during ${1:-read}"
    wrk -t2 -c64 -d"$((duration + 2))s" -s "$script" "$url" >/dev/null &
    local wrk_pid=$!
    sleep 1
    perf record -g -F 999 -p "$server_pid" -o "$work/perf.data" \
        -- sleep "$duration" >/dev/null 2>&1
    wait "$wrk_pid"
    perf report -i "$work/perf.data" --no-children --sort symbol \
        --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40
}

case $mode in
read) run_read ;;
profile) run_profile ;;
profile-create) run_profile create ;;
search) run_search ;;
create) run_create ;;
all) run_read; run_search; run_create ;;
*) echo "usage: bench/patient.sh [all|read|search|create]" >&2; exit 2 ;;
esac
