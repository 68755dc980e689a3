#!/bin/sh
# detect_cli.sh - `rhis detect` end to end: output shape, --agg week,
# --from/--to, --fill-gaps, and bad input (a gap, a malformed line, an
# unknown method or option) failing with a message naming the line and
# nothing on stdout.
#
# Usage: sh tests/surveil/detect_cli.sh path/to/rhis
set -eu
RHIS=${1:?usage: detect_cli.sh path/to/rhis}
HERE=$(cd "$(dirname "$0")" && pwd)
SYN=$HERE/golden/syn42.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
n=0
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() {
    n=$((n + 1))
}

# expect_error NAME EXIT_CODE PATTERN [args...] < input
expect_error() {
    name=$1 code=$2 pat=$3
    shift 3
    set +e
    "$RHIS" detect "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    set -e
    [ "$rc" -eq "$code" ] || fail "$name: exit $rc, wanted $code ($(cat "$TMP/err"))"
    [ ! -s "$TMP/out" ] || fail "$name: wrote to stdout on error"
    grep -q -- "$pat" "$TMP/err" || fail "$name: stderr lacks '$pat': $(cat "$TMP/err")"
    ok
}

# 1. daily EARS: header, one row per day, NA before the baseline
"$RHIS" detect --method ears-c1 <"$SYN" >"$TMP/c1.csv"
[ "$(head -1 "$TMP/c1.csv")" = "date,count,upper,alarm,mean,sd,stat" ] ||
    fail "ears-c1 header: $(head -1 "$TMP/c1.csv")"
[ "$(wc -l <"$TMP/c1.csv")" -eq 3653 ] || fail "ears-c1 row count"
[ "$(sed -n 8p "$TMP/c1.csv")" = "2015-01-07,9,NA,NA,NA,NA,NA" ] ||
    fail "ears-c1 row 7: $(sed -n 8p "$TMP/c1.csv")"
ok

# 2. --agg week: Monday labels, 521 complete weeks, same counts as R
"$RHIS" detect --method ears-c2 --agg week <"$SYN" >"$TMP/w.csv"
cut -d, -f1,2 "$TMP/w.csv" >"$TMP/w2.csv"
cut -d, -f1,2 "$HERE/golden/farr_week_default.csv" | diff - "$TMP/w2.csv" >/dev/null ||
    fail "weekly sums differ from the R reference's to_weekly"
ok

# 3. --from/--to limit the evaluation, not the history
"$RHIS" detect --method ears-c1 --from 2024-01-01 --to 2024-01-31 <"$SYN" >"$TMP/r.csv"
ev=$(awk -F, 'NR > 1 && $4 != "NA"' "$TMP/r.csv" | wc -l)
[ "$ev" -eq 31 ] || fail "--from/--to evaluated $ev days, wanted 31"
grep -q '^2024-01-01,' "$TMP/r.csv" || fail "range start missing"
[ "$(grep '^2024-01-05,' "$TMP/r.csv")" = "$(grep '^2024-01-05,' "$TMP/c1.csv")" ] ||
    fail "a ranged row differs from the full run"
ok

# 4. --name=value form, method columns, mpm and cusum run
"$RHIS" detect --method mpm --pct=80 <"$SYN" >"$TMP/m.csv"
[ "$(head -1 "$TMP/m.csv")" = "date,count,upper,alarm,window,threshold" ] ||
    fail "mpm header"
# weekly MPM: a year is 52 weeks; first evaluable week 52*3 + 2*1 (0-based)
"$RHIS" detect --method mpm --agg week --window 1 <"$SYN" >"$TMP/mw.csv"
[ "$(awk -F, 'NR > 1 && $4 != "NA"' "$TMP/mw.csv" | wc -l)" -eq $((521 - 158)) ] ||
    fail "weekly mpm evaluated weeks"
"$RHIS" detect --method cusum --from 2020-01-01 --reset 1 <"$SYN" >"$TMP/cu.csv"
[ "$(awk -F, 'NR > 1 && $4 == 1' "$TMP/cu.csv" | wc -l)" -gt 0 ] || fail "cusum: no alarm"
ok

# 5. gaps: an error naming the line, or zero-filled with --fill-gaps
printf 'date,count\n2015-01-01,1\n2015-01-02,2\n2015-01-05,3\n' >"$TMP/gap.csv"
expect_error gap 1 "line 4: dates are not consecutive" --method ears-c1 <"$TMP/gap.csv"
"$RHIS" detect --method fixed --fill-gaps <"$TMP/gap.csv" >"$TMP/f.csv"
[ "$(sed -n 4,5p "$TMP/f.csv" | cut -d, -f1,2 | tr '\n' ' ')" = "2015-01-03,0 2015-01-04,0 " ] ||
    fail "--fill-gaps: $(cat "$TMP/f.csv")"
ok

# 6. malformed lines
printf 'date,count\n2015-01-01,1\n2015-01-02,x\n' >"$TMP/bad.csv"
expect_error bad-count 1 "line 3: count 'x'" --method ears-c1 <"$TMP/bad.csv"
printf 'date,count\n2015-01-01,1\n2015/01/02,1\n' >"$TMP/bad.csv"
expect_error bad-date 1 "line 3: '2015/01/02' is not a date" --method ears-c1 <"$TMP/bad.csv"
printf 'when,n\n2015-01-01,1\n' >"$TMP/bad.csv"
expect_error bad-header 1 "line 1: header" --method ears-c1 <"$TMP/bad.csv"
expect_error empty 1 "empty input" --method ears-c1 </dev/null

# 7. bad arguments: exit 2
expect_error no-method 2 "method is required" <"$SYN"
expect_error unknown-method 2 "unknown method 'ears-c9'" --method ears-c9 <"$SYN"
expect_error unknown-option 2 "has no option 'lambda'" --method ears-c1 --lambda 3 <"$SYN"
expect_error bad-value 2 "option baseline" --method ears-c1 --baseline 2 <"$SYN"
expect_error bad-agg 2 "agg must be" --method ears-c1 --agg month <"$SYN"
expect_error bad-from 2 "--from '2015-02-30'" --method ears-c1 --from 2015-02-30 <"$SYN"
expect_error cusum-no-train 1 "training period" --method cusum <"$SYN"
expect_error empty-range 1 "no day of the series" --method ears-c1 --from 2030-01-01 <"$SYN"

# 8. --help lists every method
"$RHIS" detect --help >"$TMP/help"
for m in ears-c1 ears-c2 ears-c3 ears-c3-compat cusum mpm fixed; do
    grep -q "^$m - " "$TMP/help" || fail "--help lacks $m"
done
ok

echo "detect_cli: $n checks passed"
