#!/bin/sh
# tools/fuzz.sh [SECONDS] [TARGET...] - build the libFuzzer targets with clang
# (-DRHIS_FUZZ=ON, ASan+UBSan) into build-fuzz and run each for SECONDS
# (default 60) over a scratch copy of its corpus, so the committed corpus in
# tests/fuzz/corpus stays small.  Crashers are written to
# build-fuzz/fuzz-out/<name>/; copy them to tests/fuzz/regression/<name>/
# (they must pass once fixed).  Exits non-zero if any target crashed.
#
# Environment: BUILD_DIR (default build-fuzz), CC (default clang),
# JOBS (parallel build jobs, default 2), FUZZ_ARGS (extra libFuzzer flags).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-query route json csv config idnum fhir ndjson series fusion card analytics}
build=${BUILD_DIR:-$root/build-fuzz}
cc=${CC:-clang}

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DRHIS_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
set --
for t in $targets; do
    set -- "$@" "fuzz_$t"
done
cmake --build "$build" -j"${JOBS:-2}" --target "$@"

status=0
for t in $targets; do
    work=$build/fuzz-out/$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/crashes"
    cp "$root/tests/fuzz/corpus/$t/"* "$work/corpus/"
    dict=
    [ -f "$root/tests/fuzz/$t.dict" ] && dict=-dict=$root/tests/fuzz/$t.dict
    echo "== fuzz_$t for ${secs}s"
    # corpus growth goes to the scratch copy; the committed seeds are read-only
    # shellcheck disable=SC2086
    if ! "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/" $dict ${FUZZ_ARGS:-} \
        "$work/corpus" "$root/tests/fuzz/regression/$t" \
        >"$work/log" 2>&1; then
        status=1
        echo "!! fuzz_$t failed; see $work/log and $work/crashes/" >&2
        tail -n 40 "$work/log" >&2
    else
        grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss)' \
            "$work/log" || true
    fi
done
exit $status
