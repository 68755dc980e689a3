#!/bin/bash
# bench/login_burst.sh - do reads keep flowing while logins hash passwords?
#
# Logins run argon2id (64 MiB, tens of ms of CPU each) on a bounded worker
# pool (login_workers, default 2) with the connection suspended, so request
# threads should keep answering reads.  This runs wrk on ORG_PATH for
# DURATION twice: alone, then while bursts of BURST concurrent logins are
# fired back to back (from 1 s after wrk starts until 2 s before it ends).
# Needs a running server (bench/run.sh) and:
#   BASE_URL RHIS_TOKEN ORG_PATH
#   LOGIN_USER (admin) LOGIN_PASSWORD_FILE  the password, no quotes/backslash
#   BURST (40) DURATION (10) CONNS (64) THREADS (2)
# The server's login_rate_addr must allow the bursts (bench/run.sh raises
# it), otherwise most logins are 429s and nothing is hashed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BASE_URL:?}" "${RHIS_TOKEN:?}" "${ORG_PATH:?}" "${LOGIN_PASSWORD_FILE:?}"
BURST=${BURST:-40}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
LOGIN_USER=${LOGIN_USER:-admin}
export RHIS_TOKEN
work=$(mktemp -d /tmp/rhis-burst.XXXXXX)
trap 'rm -rf "$work"' EXIT

body="{\"username\":\"$LOGIN_USER\",\"password\":\"$(cat "$LOGIN_PASSWORD_FILE")\"}"
printf '%s' "$body" >"$work/body.json"

wrk_result() {
    awk '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%10s %8s %8s %8s %6s %6s\n", v["rps"], v["p50_ms"],
            v["p99_ms"], v["max_ms"], v["non2xx"], v["sockerr"] }' "$1"
}

# one burst: BURST logins at once; appends "code seconds" lines to $1
burst() {
    local pids=() i
    for i in $(seq 1 "$BURST"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
            -H 'Content-Type: application/json' \
            --data-binary @"$work/body.json" \
            "$BASE_URL/api/v1/login" >>"$1.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    cat "$1".* >>"$1"
    rm -f "$1".*
}

echo "# reads: wrk -t$THREADS -c$CONNS -d${DURATION}s $ORG_PATH;" \
    "bursts of $BURST concurrent logins"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$here/report.lua" "$BASE_URL$ORG_PATH" >"$work/alone.txt"
sleep 1

wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$here/report.lua" "$BASE_URL$ORG_PATH" >"$work/burst.txt" &
wrk_pid=$!
sleep 1
start=$(date +%s.%N)
rounds=0
: >"$work/logins"
while :; do
    now=$(date +%s.%N)
    # stop starting bursts 2 s before wrk ends
    awk -v s="$start" -v n="$now" -v d="$DURATION" \
        'BEGIN { exit !(n - s < d - 3) }' || break
    burst "$work/logins"
    rounds=$((rounds + 1))
done
end=$(date +%s.%N)
wait "$wrk_pid"

printf "%-14s %10s %8s %8s %8s %6s %6s\n" reads req/s p50_ms p99_ms max_ms \
    non2xx sockerr
printf "%-14s %s\n" "alone" "$(wrk_result "$work/alone.txt")"
printf "%-14s %s\n" "during-logins" "$(wrk_result "$work/burst.txt")"
awk -v r="$rounds" -v s="$start" -v e="$end" -v b="$BURST" '
    { n++; code[$1]++; t[n] = $2 * 1000 }
    END {
        printf "logins: %d bursts of %d over %.1f s (%.1f logins/s); ", r, b,
            e - s, n / (e - s)
        for (c in code) printf "HTTP %s x%d ", c, code[c]
        printf "\nlogin latency ms: min %.0f p50 %.0f p90 %.0f max %.0f\n",
            t[1], t[int(n * 0.5 + 0.5)], t[int(n * 0.9 + 0.5)], t[n]
    }' <(sort -n -k2 "$work/logins")
