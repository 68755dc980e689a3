#!/bin/bash
# bench/run.sh [all|org|burst|accesslog|profile] - RHIS HTTP benchmarks.
#
# Builds a Release `rhis` in build-bench, creates a throw-away SQLite
# database, runs `rhis init`, imports ~300 institutions generated from the
# real 永吉县 (220221) division codes in data/divisions.csv, starts
# `rhis serve` on 127.0.0.1 with --access-log 0 and a temporary web root
# holding a static copy of one Organization response (same bytes), logs in
# and runs:
#   org       bench/org_vs_static.sh   (3 alternating rounds, 10 s each)
#   burst     bench/login_burst.sh     (reads alone vs during login bursts)
#   accesslog one org/static round with --access-log 1 (stderr to a file)
#   profile   perf record -g on the server during 10 s of Organization reads
#   all       org, burst, accesslog (default)
# Environment: BUILD_DIR, PORT (18090), ORG_ID (5), SERVE_ARGS (extra flags
# for rhis serve), KEEP=1 keeps the temporary directory, NO_BUILD=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-all}
build=${BUILD_DIR:-$root/build-bench}
port=${PORT:-18090}
org_id=${ORG_ID:-5}
export BASE_URL=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

if [ -z "${NO_BUILD:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc)" --target rhis >/dev/null
fi
rhis=$build/rhis

work=$(mktemp -d /tmp/rhis-bench.XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# ---- data: a fresh database with ~300 institutions of 永吉县 ----
password="Bench-$(date +%s)-Pw"
printf '%s' "$password" >"$work/admin.pw"
export LOGIN_PASSWORD_FILE=$work/admin.pw
# one county hospital; a township health centre and a community health
# centre per town (level 4); two village clinics per village (level 5)
awk -F, 'BEGIN {
        OFS = ","
        print "code,name,tier,grade,ownership,area_code,beds_approved," \
              "beds_open,lat,lon"
        print "B220221000001,永吉县人民医院(基准),county_hospital,2A,public," \
              "220221100,600,580,43.68213,126.49428"
    }
    $1 ~ /^220221/ && $3 == 4 {
        t++
        printf "B%s01,%s中心卫生院,township_hc,1A,public,%s,60,48,%.5f,%.5f\n",
            $1, $2, $1, 43.68213 - 0.03 * t, 126.49428 + 0.02 * t
        printf "B%s02,%s社区卫生服务中心,community_hc,,public,%s,20,16,%.5f,%.5f\n",
            $1, $2, $1, 43.67213 - 0.03 * t, 126.49428 + 0.02 * t
    }
    $1 ~ /^220221/ && $3 == 5 {
        v++
        for (k = 1; k <= 2; k++)
            printf "B%s%d,%s第%d卫生室,village_clinic,,%s,%s,0,0,%.5f,%.5f\n",
                $1, k, $2, k, (k == 1 ? "public" : "private"), $1,
                43.2 + 0.003 * v, 126.3 + 0.002 * v + 0.001 * k
    }' "$root/data/divisions.csv" >"$work/institutions.csv"
db=sqlite:$work/bench.db
"$rhis" init --db "$db" --admin-password-file "$work/admin.pw" \
    --data-dir "$root/data" >"$work/init.log" 2>&1
"$rhis" import-institutions --db "$db" "$work/institutions.csv" \
    >>"$work/init.log" 2>&1
grep -E 'institutions:' "$work/init.log"
mkdir -p "$work/www"

# ---- server ----
start_server() { # start_server ACCESS_LOG
    # login_rate_addr: the burst sends far more than 30 logins from one
    # address; without this most of them would be 429s and never hashed.
    # shellcheck disable=SC2086
    "$rhis" serve --db "$db" --listen "127.0.0.1:$port" \
        --web-root "$work/www" --data-dir "$root/data" \
        --access-log "$1" --login-rate-addr 100000 ${SERVE_ARGS:-} \
        2>"$work/server-$1.log" &
    server_pid=$!
    for _ in $(seq 1 50); do
        curl -sf "$BASE_URL/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf "$BASE_URL/healthz" >/dev/null
    RHIS_TOKEN=$(curl -sf -H 'Content-Type: application/json' \
        --data-binary "{\"username\":\"admin\",\"password\":\"$password\"}" \
        "$BASE_URL/api/v1/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [ -n "$RHIS_TOKEN" ] || { echo "login failed" >&2; exit 1; }
    export RHIS_TOKEN
    export ORG_PATH=/fhir/Organization/$org_id STATIC_PATH=/org.json
    # the baseline: the same bytes as the Organization response, as a file
    curl -sf -H "Authorization: Bearer $RHIS_TOKEN" "$BASE_URL$ORG_PATH" \
        >"$work/www/org.json"
}
stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

echo "# $(date -u +%FT%TZ) $(uname -srm), nproc $(nproc)," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "# rhis serve --threads/--db-pool defaults unless SERVE_ARGS='${SERVE_ARGS:-}'"

if [ "$mode" = all ] || [ "$mode" = org ] || [ "$mode" = burst ] ||
    [ "$mode" = profile ]; then
    start_server 0
    if [ "$mode" = all ] || [ "$mode" = org ]; then
        echo "## Organization vs static (--access-log 0)"
        LABEL="access-log 0" WRK_LOG=$work/wrk.log "$root/bench/org_vs_static.sh"
    fi
    if [ "$mode" = all ] || [ "$mode" = burst ]; then
        echo "## login burst (--access-log 0)"
        "$root/bench/login_burst.sh"
    fi
    if [ "$mode" = profile ]; then
        command -v perf >/dev/null || { echo "perf not found" >&2; exit 1; }
        echo "## perf record -g -p $server_pid during wrk on $ORG_PATH"
        wrk -t2 -c64 -d12s -s "$root/bench/report.lua" "$BASE_URL$ORG_PATH" \
            >"$work/profile-wrk.txt" &
        wrk_pid=$!
        sleep 1
        perf record -g -F 999 -p "$server_pid" -o "$work/perf.data" \
            -- sleep 10 >/dev/null 2>&1
        wait "$wrk_pid"
        grep RESULT "$work/profile-wrk.txt"
        perf report -i "$work/perf.data" --no-children --sort symbol \
            --stdio -g none >"$work/perf-self.txt" 2>/dev/null || true
        perf report -i "$work/perf.data" --children --sort symbol \
            --stdio -g none >"$work/perf-children.txt" 2>/dev/null || true
        perf report -i "$work/perf.data" --no-children --sort dso \
            --stdio -g none >"$work/perf-dso.txt" 2>/dev/null || true
        echo "### self time, top 40"
        grep -E '^ +[0-9.]+%' "$work/perf-self.txt" | head -40 || true
        echo "### inclusive time (with callees), user-space symbols, top 40"
        grep -E '^ +[0-9.]+%' "$work/perf-children.txt" |
            grep -F '[.]' | head -40 || true
        echo "### by DSO"
        grep -E '^ +[0-9.]+%' "$work/perf-dso.txt" | head -15 || true
        cp "$work/perf.data" "${PERF_OUT:-/tmp/rhis-bench-perf.data}"
        echo "perf data: ${PERF_OUT:-/tmp/rhis-bench-perf.data}"
    fi
    stop_server
fi

if [ "$mode" = all ] || [ "$mode" = accesslog ]; then
    echo "## Organization vs static with --access-log 1 (stderr to a file)"
    start_server 1
    ROUNDS=1 LABEL="access-log 1" "$root/bench/org_vs_static.sh"
    echo "access log lines written: $(wc -l <"$work/server-1.log")"
    stop_server
fi
