#!/bin/bash
# bench/demo.sh [county|province] - `rhis demo` generation and load time.
#
# Why: issue 4 asks for a county (220221, about 0.35 M residents, 5 years
# of events) generated and loaded in < 60 s on SQLite, with events per
# second and the share of time in generation vs storage, the province at
# --scale 0.1 (and 1.0) on PostgreSQL with time and disk size, and the
# resident set size of `rhis serve` on the county demo (< 200 MB).
#
#   county    (default) SQLite, 220221, scale SCALE (1), years YEARS;
#             then `rhis serve` on the result: RSS after start and after
#             a round of requests
#   province  PostgreSQL (RHIS_TEST_PG_URL, else a throw-away cluster by
#             tools/pg-test-cluster.sh), area 22 at SCALE (default 0.1)
#
# Environment: SCALE, AREA, YEARS (2021-2025), BUILD_DIR (default
# build-bench, RelWithDebInfo), NO_BUILD=1, KEEP=1 (keep the temp dir,
# and in province mode the cluster and database: the URL is printed),
# SEED (1), RHIS_PLAN_AGG=0 (without the plan's live aggregates; they
# must then be rebuilt with `rhis plan rebuild`).  The machine is usually
# shared: the RESULT line gives CPU time (user + sys) beside wall time;
# in province mode also the PostgreSQL server's CPU time (the cluster of
# tools/pg-test-cluster.sh only: its postmaster's children).
#
# JOBS=N (province mode): N `rhis demo` processes at once, each on its own
# share of the area's cities (largest first, to the least loaded), each its
# own connection and county transactions.  A measuring device, not a mode
# of `rhis demo`: the loaders run without the live aggregates (the rows of
# the province and its cities are shared by every county's transaction,
# so concurrent counties would wait on each other's row locks until
# COMMIT) and `rhis plan rebuild` builds them at the end (timed, then
# `rhis plan verify`); a county that fails (two loaders drawing the same
# checked ID number for people born elsewhere: the second one's INSERT
# waits for the first COMMIT, then fails on the unique index) is rolled
# back and its loader resumes.  The data then differs from a single run's
# in ids and in those ID numbers, so `rhis demo --hash` is not comparable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-county}
build=${BUILD_DIR:-$root/build-bench}
seed=${SEED:-1}
years=${YEARS:-2021-2025}

if [ -z "${NO_BUILD:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j2 --target rhis >/dev/null
fi
rhis=$build/rhis
work=$(mktemp -d /tmp/rhis-bench-demo.XXXXXX)
pgdir=
pg_db=
pg_url=
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    if [ -n "$pg_db" ]; then psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
    if [ -n "$pgdir" ]; then "$root/tools/pg-test-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
printf 'Bench-Passw0rd!' >"$work/pw"

if [ "$mode" = county ]; then
    area=${AREA:-220221}
    scale=${SCALE:-1}
    url="sqlite:$work/demo.db"
else
    area=${AREA:-22}
    scale=${SCALE:-0.1}
    if [ -n "${RHIS_TEST_PG_URL:-}" ]; then
        pg_url=$RHIS_TEST_PG_URL
    else
        pgdir=$work/pg
        # the cluster's own user (root runs it as rhistest) must reach DIR
        chmod 755 "$work"
        chmod 600 "$work/pw"
        pg_url=$("$root/tools/pg-test-cluster.sh" start "$pgdir")
    fi
    pg_db="rhis_bench_demo_$$"
    psql -q "$pg_url" -c "CREATE DATABASE $pg_db" >/dev/null
    url="${pg_url%/*}/$pg_db"
fi
"$rhis" init --db "$url" --admin-password-file "$work/pw" \
    --data-dir "$root/data" >/dev/null

# server_cpu: CPU seconds of the throw-away cluster so far (postmaster,
# its reaped children, the live ones); empty without one.
server_cpu() {
    [ -n "$pgdir" ] && [ -f "$pgdir/data/postmaster.pid" ] || return 0
    local pm t c
    pm=$(head -1 "$pgdir/data/postmaster.pid")
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
    for c in $(ps -o pid= --ppid "$pm"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
    done
    echo "scale=1; $t / $(getconf CLK_TCK)" | bc
}

# city_groups N: the area's cities (level 2 below $area) in N groups, one
# comma-separated line each, by population (data/demo-areas.csv).
city_groups() {
    psql -qAt "$url" -c "SELECT code FROM area WHERE level = 2 AND code LIKE '$area%' ORDER BY code" |
        awk -F, -v n="$1" 'NR == FNR { pop[$1] = $3; next }
            { c[++m] = $1; p[m] = ($1 in pop) ? pop[$1] : 1e6 }
            END {
                for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
                    if (p[j] > p[i]) { t = p[i]; p[i] = p[j]; p[j] = t; t = c[i]; c[i] = c[j]; c[j] = t }
                for (i = 1; i <= m; i++) {
                    b = 1; for (g = 2; g <= n; g++) if (load[g] < load[b]) b = g
                    load[b] += p[i]; grp[b] = grp[b] (grp[b] == "" ? "" : ",") c[i]
                }
                for (g = 1; g <= n; g++) if (grp[g] != "") print grp[g]
            }' "$root/data/demo-areas.csv" -
}

jobs=${JOBS:-1}
echo "rhis demo --area $area --years $years --seed $seed --scale $scale ($mode, jobs $jobs)"
srv0=$(server_cpu)
start=$(date +%s.%N)
if [ "$mode" = province ] && [ "$jobs" -gt 1 ]; then
    i=0
    for g in $(city_groups "$jobs"); do
        i=$((i + 1))
        (
            export RHIS_PLAN_AGG=0
            for try in $(seq 1 50); do
                /usr/bin/time -v "$rhis" demo --db "$url" --area "$g" \
                    --years "$years" --seed "$seed" --scale "$scale" \
                    --data "$root/data" --no-progress 2>"$work/demo-$i-$try.log" &&
                    exit 0
                echo "loader $i ($g): try $try failed: $(grep '^rhis demo: county' "$work/demo-$i-$try.log" | tail -1)"
            done
            exit 1
        ) &
    done
    wait
    tl=$(date +%s.%N)
    RHIS_DATA_DIR=$root/data /usr/bin/time -v "$rhis" plan rebuild --db "$url" \
        2>"$work/rebuild.log" >&2
    tr=$(date +%s.%N)
    echo "plan rebuild: $(echo "$tr - $tl" | bc) s wall, $(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$work/rebuild.log") s CPU"
    cat "$work"/demo-*.log >"$work/demo.log"
else
    /usr/bin/time -v "$rhis" demo --db "$url" --area "$area" --years "$years" \
        --seed "$seed" --scale "$scale" --data "$root/data" --no-progress \
        2>"$work/demo.log"
fi
end=$(date +%s.%N)
srv1=$(server_cpu)
grep -v '^ts=' "$work/demo.log" | grep -v -E '^\s+(Command|User|System|Percent|Elapsed|Average|Major|Minor|Volun|Invol|Swaps|File|Socket|Signals|Page|Exit|Maximum)' || true
rss_demo=$(awk '/Maximum resident set size/ {if ($6 > m) m = $6} END {print m}' "$work/demo.log")
cpu=$(awk -F': ' '/User time/ {s += $2} /System time/ {s += $2} END {print s}' "$work/demo.log")
events=$(sed -n 's/.* \([0-9]*\) events in.*/\1/p' "$work/demo.log" | awk '{s += $1} END {print s}')
resources=$(sed -n 's/.* \([0-9]*\) resources,.*/\1/p' "$work/demo.log" | awk '{s += $1} END {print s}')
wall=$(echo "$end - $start" | bc)
srv=
[ -n "$srv0" ] && srv=" server_cpu_s=$(echo "$srv1 - $srv0" | bc)"
echo "RESULT demo mode=$mode area=$area scale=$scale jobs=$jobs wall_s=$wall resources=$resources events=$events resources_per_s=$(echo "$resources / $wall" | bc) cpu_s=$cpu$srv max_rss_kb=$rss_demo load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)"
if [ "$mode" = county ]; then
    du -b "$work"/demo.db* | awk '{s += $1} END {printf "RESULT disk bytes=%.0f (%.0f MiB)\n", s, s / 1048576}'
    port=$((20000 + RANDOM % 10000))
    "$rhis" serve --db "$url" --listen "127.0.0.1:$port" --data_dir "$root/data" \
        >"$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.2
    done
    rss0=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
    tok=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/login" \
        -H 'Content-Type: application/json' \
        -d '{"username":"admin","password":"Bench-Passw0rd!"}' |
        sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p' || true)
    for q in "Patient?name=王&_count=50" "Patient?address-division=220221100001&_count=50" \
        "Observation?code=69453-9&_count=50" "Encounter?_count=50"; do
        for _ in 1 2 3; do
            curl -fsS -o /dev/null -H "Authorization: Bearer $tok" \
                "http://127.0.0.1:$port/fhir/$q" || true
        done
    done
    rss1=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
    echo "RESULT serve rss_start_kb=$rss0 rss_after_kb=$rss1 peak_kb=$hwm (limit 204800)"
else
    psql -qAt "$url" -c "SELECT pg_database_size(current_database())" |
        awk '{printf "RESULT disk bytes=%.0f (%.0f MiB)\n", $1, $1 / 1048576}'
    if RHIS_DATA_DIR=$root/data "$rhis" plan verify --db "$url" >"$work/verify.log" 2>&1; then
        echo "plan verify: ok"
    else
        echo "plan verify: FAILED (see $work/verify.log)"
    fi
    if [ -n "${KEEP:-}" ]; then
        echo "kept database $url (cluster dir $pgdir; stop it with tools/pg-test-cluster.sh stop DIR)"
        pg_db=
        pgdir=
    fi
fi
