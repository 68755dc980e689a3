#!/bin/bash
# bench/farrington.sh - Farrington flexible in C (bench/farrington.c)
# against R surveillance::farringtonFlexible (bench/farrington.R) on the
# same 100 series x 10 years of days, measured in the same run.
#
# Why: the issue asks for >= 200x R's speed.  R is slow here (6-35 ms per
# evaluated point: the full daily history of 100 series is 20-30 min), so
# R is timed on the first R_SERIES of the series and C on all of them, and
# the ratio is per evaluated point.  Both report their alarms on the R
# subset: they must be equal.  The series are the EARS benchmark's
# (bench/detect.R: synth_series, seed 7).
#
# Tasks: day (package defaults, every evaluable day), week (defaults,
# weekly sums), week_nou (Noufaily preset, weekly), day_nou365 (Noufaily
# preset, daily, last 365 days).
# Needs Rscript and r-cran-surveillance (tools/install-deps.sh bench).
# Environment: NSERIES (100), YEARS (10), ROUNDS (3), TASKS (all four),
# R_SERIES_DAY (10), R_SERIES_WEEK (20), R_SERIES_NOU365 (2), BUILD_DIR
# (build-bench), NO_BUILD=1, KEEP=1.  Takes about 6 min on an idle box,
# almost all of it in R.  Both sides report CPU seconds of one
# single-threaded process (R: proc.time user + system; C:
# CLOCK_PROCESS_CPUTIME_ID), so other load on the machine does not skew
# the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
nseries=${NSERIES:-100}
years=${YEARS:-10}
rounds=${ROUNDS:-3}
tasks=${TASKS:-day week week_nou day_nou365}

if ! command -v Rscript >/dev/null 2>&1 ||
    ! Rscript -e 'quit(status = !requireNamespace("surveillance", quietly = TRUE))' >/dev/null 2>&1; then
    echo "bench/farrington.sh: needs Rscript and r-cran-surveillance;" \
        "run tools/install-deps.sh bench" >&2
    exit 2
fi
if [ -z "${NO_BUILD:-}" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target bench_farrington >/dev/null
fi
work=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then
    trap 'rm -rf "$work"' EXIT INT TERM
else
    echo "== series kept in $work"
fi

echo "== machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
Rscript "$root/bench/detect.R" "$work" nseries="$nseries" years="$years" time=FALSE

r_series() {
    case $1 in
    day) echo "${R_SERIES_DAY:-10}" ;;
    day_nou365) echo "${R_SERIES_NOU365:-2}" ;;
    *) echo "${R_SERIES_WEEK:-20}" ;;
    esac
}

status=0
rows=""
for t in $tasks; do
    k=$(r_series "$t")
    c=$("$build/bench_farrington" "$t" "$rounds" "$k" "$work"/series_*.csv)
    echo "$c"
    r=$(Rscript "$root/bench/farrington.R" "$work" task="$t" nseries="$k")
    echo "$r"
    read -r _ _ cp cs ca cpk cak <<<"$c"
    read -r _ _ rp rs ra <<<"$r"
    row=$(awk -v t="$t" -v k="$k" -v rp="$rp" -v rs="$rs" -v ra="$ra" \
        -v ns="$nseries" -v cp="$cp" -v cs="$cs" -v cak="$cak" 'BEGIN {
            rms = 1000 * rs / rp; cus = 1e6 * cs / cp
            printf "| %s | %d / %d | %.1f | %.2f | %d / %d | %.3f | %.1f | %.0fx | %d / %d |", \
                t, k, rp, rs, rms, ns, cp, cs, cus, 1000 * rms / cus, ra, cak
        }')
    rows="$rows$row"$'\n'
    if [ "$rp" != "$cpk" ] || [ "$ra" != "$cak" ]; then
        echo "!! $t: C and R disagree on the first $k series" \
            "(points $cpk vs $rp, alarms $cak vs $ra)" >&2
        status=1
    fi
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| task | R series / points | R CPU s | R ms/point | C series / points | C CPU s | C us/point | speed-up per point | alarms R / C (R's series) |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s' "$rows"
exit $status
