#!/bin/bash
# bench/org_vs_static.sh - GET /fhir/Organization/{id} against a static JSON
# file of the same byte size served by the same server (GET /{*path}), so
# both go through the same dispatcher.  Needs a running server; bench/run.sh
# starts one and sets the environment:
#   BASE_URL      http://127.0.0.1:PORT
#   RHIS_TOKEN    bearer token (sent to both, so the requests are the same size)
#   ORG_PATH      e.g. /fhir/Organization/5
#   STATIC_PATH   e.g. /org.json (same bytes as the Organization response)
#   ROUNDS (3) DURATION (10, seconds) CONNS (64) THREADS (2) LABEL (free text)
# Prints one row per run and a summary with the ratio org/static per round.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BASE_URL:?}" "${RHIS_TOKEN:?}" "${ORG_PATH:?}" "${STATIC_PATH:?}"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
LABEL=${LABEL:-}
export RHIS_TOKEN

org_size=$(curl -sf -H "Authorization: Bearer $RHIS_TOKEN" \
    "$BASE_URL$ORG_PATH" | wc -c)
static_size=$(curl -sf "$BASE_URL$STATIC_PATH" | wc -c)
echo "# $LABEL org $ORG_PATH $org_size bytes, static $STATIC_PATH" \
    "$static_size bytes; wrk -t$THREADS -c$CONNS -d${DURATION}s --latency"
if [ "$org_size" != "$static_size" ]; then
    echo "warning: body sizes differ" >&2
fi

# run_one NAME PATH -> prints "NAME rps p50 p99 ..." (fields from RESULT)
run_one() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
        -s "$here/report.lua" "$BASE_URL$2")
    echo "$out" >>"${WRK_LOG:-/dev/null}"
    echo "$out" | awk -v name="$1" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-7s %10s %8s %8s %8s %8s %6s %6s\n", name, v["rps"],
            v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["non2xx"],
            v["sockerr"] }'
}

printf "%-5s %-7s %10s %8s %8s %8s %8s %6s %6s\n" round target req/s \
    p50_ms p90_ms p99_ms max_ms non2xx sockerr
rows=()
for r in $(seq 1 "$ROUNDS"); do
    # alternate the order so warm-up and drift do not favour one side
    if [ $((r % 2)) -eq 1 ]; then order="org static"; else order="static org"; fi
    for t in $order; do
        if [ "$t" = org ]; then p=$ORG_PATH; else p=$STATIC_PATH; fi
        row=$(run_one "$t" "$p")
        printf "%-5s %s\n" "$r" "$row"
        rows+=("$r $row")
        sleep 1
    done
done

printf '%s\n' "${rows[@]}" | awk '
    { rps[$1, $2] = $3; p99[$1, $2] = $6; n = ($1 > n ? $1 : n)
      if ($8 + 0 > 0 || $9 + 0 > 0) bad = 1 }
    END {
        for (r = 1; r <= n; r++) {
            ratio = rps[r, "org"] / rps[r, "static"]
            sum += ratio; so += rps[r, "org"]; ss += rps[r, "static"]
            if (p99[r, "org"] > worst) worst = p99[r, "org"]
            printf "round %d: org/static = %.1f %% (org p99 %s ms)\n", r,
                100 * ratio, p99[r, "org"]
            if (min == "" || ratio < min) min = ratio
        }
        printf "mean ratio %.1f %%, lowest %.1f %%, worst org p99 %.3f ms\n",
            100 * sum / n, 100 * min, worst
        printf "target ratio >= 60 %%: %s; target p99 < 5 ms: %s%s\n",
            (min >= 0.6 ? "MET" : "NOT MET"), (worst < 5 ? "MET" : "NOT MET"),
            (bad ? "; WARNING: non-2xx or socket errors" : "")
    }'
