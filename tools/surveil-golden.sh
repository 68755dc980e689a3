#!/bin/sh
# tools/surveil-golden.sh [--check] [OUTDIR] - regenerate the golden files
# of tests/surveil/golden/ with R and the `surveillance` package.
#
# Runs the reference scripts in tools/surveil-ref/ (copied from the
# project's shared reference, plus mpm_ref.R, cusum_ref.R and make_edge.R
# written for RHIS) on the seed-42 synthetic series and a 120-day edge-case
# series.  Needs Rscript and the Debian package r-cran-surveillance (1.20.3 on bookworm; other versions print
# their own version into the .log files).  The tests never need R: they
# read the committed files.
#   OUTDIR   where to write (default tests/surveil/golden)
#   --check  write into a temporary directory and diff against the
#            committed files; exit 1 on any difference.
# Takes one to two minutes (the daily Farrington run dominates).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
ref=$root/tools/surveil-ref
check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi
if ! command -v Rscript >/dev/null 2>&1; then
    echo "surveil-golden: Rscript not found (apt-get install r-cran-surveillance)" >&2
    exit 2
fi
if [ $check -eq 1 ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT INT TERM
else
    out=${1:-$root/tests/surveil/golden}
    mkdir -p "$out"
fi

run() { # run NAME SCRIPT ARGS...: NAME.csv on stdout, NAME.log on stderr
    name=$1 script=$2
    shift 2
    echo "surveil-golden: $name" >&2
    # the .log keeps the scripts' summary lines without the timing, as
    # the committed logs do
    Rscript "$ref/$script" "$@" >"$out/$name.csv" 2>"$out/$name.log.tmp"
    sed 's/, elapsed .*$//' "$out/$name.log.tmp" >"$out/$name.log"
    rm -f "$out/$name.log.tmp"
}

Rscript "$ref/make_synthetic.R" "$out/syn42.csv" years=10 seed=42
syn=$out/syn42.csv
run ears_default ears_ref.R "$syn"
run farr_day_default farrington_ref.R "$syn"
run farr_week_default farrington_ref.R "$syn" agg=week
run farr_week_noufaily farrington_ref.R "$syn" variant=noufaily agg=week
# Farrington edge cases (owner: e2): sparse counts (0.3/day, many weeks
# below the 5-in-4 rule), large counts (200/day: negative binomial
# quantiles far from 0), the original weightsThreshold 1, muan with a
# square-root transform, and the daily Noufaily preset.
Rscript "$ref/make_synthetic.R" "$out/syn_low.csv" years=7 seed=7 base=0.3
Rscript "$ref/make_synthetic.R" "$out/syn_high.csv" years=7 seed=3 base=200
run farr_low_week_orig farrington_ref.R "$out/syn_low.csv" agg=week variant=orig
run farr_low_week_muan farrington_ref.R "$out/syn_low.csv" agg=week \
    thresholdMethod=muan powertrans=1/2 b=3 w=2 alpha=0.01
run farr_low_day_noufaily farrington_ref.R "$out/syn_low.csv" \
    variant=noufaily from=2021-11-01
run farr_high_week_noufaily farrington_ref.R "$out/syn_high.csv" agg=week \
    variant=noufaily
run mpm_p50 mpm_ref.R "$syn"
run mpm_p90 mpm_ref.R "$syn" pct=90
run cusum_2024 cusum_ref.R "$syn" from=2024-01-01
Rscript "$ref/make_edge.R" "$out/edge.csv"
run ears_edge ears_ref.R "$out/edge.csv"

if [ $check -eq 1 ]; then
    st=0
    for f in "$out"/*.csv; do
        b=$(basename "$f")
        if ! cmp -s "$f" "$root/tests/surveil/golden/$b"; then
            echo "surveil-golden: $b differs from the committed file" >&2
            st=1
        fi
    done
    [ $st -eq 0 ] && echo "surveil-golden: all golden files reproduced" >&2
    exit $st
fi
echo "surveil-golden: wrote $out" >&2
