#!/bin/sh
# golden_check.sh - cross-check `rhis detect` against R surveillance 1.20.3.
#
# Usage: sh tests/surveil/golden_check.sh path/to/rhis
#
# Runs the EARS methods on tests/surveil/golden/syn42.csv (and edge.csv)
# and compares, row by row, with ears_default.csv (ears_edge.csv) (written by tools/surveil-ref/ears_ref.R,
# see tests/surveil/golden/README.md): NA positions and alarms exactly,
# upper bounds and statistics to 1e-6 relative.  Needs no R: only the
# committed golden files.  Exit 0 = all equal, 1 = a mismatch (printed).
set -eu
RHIS=${1:?usage: golden_check.sh path/to/rhis}
HERE=$(cd "$(dirname "$0")" && pwd)
G=$HERE/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

fail=0

# compare METHOD "ourcol:goldcol:kind ..." [INPUT GOLDEN]
# kind: a = alarm (exact), n = number (1e-6 relative); A and N the same
# except that where R gives NA (its 0/0 cases, see docs/surveillance.md)
# ours must be defined: an alarm 0/1, a number or +-Inf, never NA.
compare() {
    method=$1
    pairs=$2
    input=${3:-syn42.csv}
    golden=${4:-ears_default.csv}
    "$RHIS" detect --method "$method" <"$G/$input" >"$TMP/$method.csv"
    if ! awk -F, -v pairs="$pairs" -v method="$method $input" '
        BEGIN { np = split(pairs, P, " ") }
        NR == FNR { ours[FNR] = $0; nours = FNR; next }
        {
            if (FNR > nours) { print method ": golden has more rows"; bad++; exit }
            split(ours[FNR], o, ",")
            if (FNR == 1) next
            if (o[1] != $1 || o[2] != $2) {
                print method ": row " FNR " date/count differ: " o[1] "," o[2] " vs " $1 "," $2
                bad++; next
            }
            for (k = 1; k <= np; k++) {
                split(P[k], c, ":")
                a = o[c[1]]; b = $(c[2])
                if (b == "NA" && (c[3] == "A" || c[3] == "N") && \
                    o[4] != "NA") {
                    if (a == "NA") {
                        print method ": row " FNR " (" $1 ") col " c[2] ": NA where R is NA but the point is evaluated"
                        bad++
                    } else rdef++
                    continue
                }
                if (a == "NA" || b == "NA") {
                    if (a != b) {
                        print method ": row " FNR " (" $1 ") col " c[2] ": NA mismatch " a " vs " b
                        bad++
                    }
                    continue
                }
                if (c[3] == "a" || c[3] == "A") {
                    if (a + 0 != b + 0) {
                        print method ": row " FNR " (" $1 ") alarm " a " vs R " b
                        bad++
                    } else if (b + 0 == 1) alarms++
                    continue
                }
                if (a == "Inf" || a == "-Inf" || b == "Inf" || b == "-Inf") {
                    if (a != b) { print method ": row " FNR " inf mismatch"; bad++ }
                    continue
                }
                d = a - b; if (d < 0) d = -d
                m = b; if (m < 0) m = -m
                if (d > 1e-6 * m + 1e-12) {
                    print method ": row " FNR " (" $1 ") col " c[2] ": " a " vs R " b
                    bad++
                }
                if (m > 0 && d / m > maxrel) maxrel = d / m
                nnum++
            }
            rows++
        }
        END {
            if (rows + 1 != nours && !bad) { print method ": row count differs"; bad++ }
            printf "%-15s rows=%d alarms=%d numbers=%d max_rel_diff=%.3g%s %s\n", \
                method, rows, alarms, nnum, maxrel, \
                rdef ? " defined_where_R_NA=" rdef : "", bad ? "FAIL" : "ok"
            exit bad ? 1 : 0
        }' "$TMP/$method.csv" "$G/$golden"; then
        fail=1
    fi
}

# ours: date,count,upper,alarm,mean,sd,stat[,..]
# golden: 1 date 2 count 3 C1_mean 4 C1_sd 5 C1_stat 6 C1_ub 7 C1_alarm
#         8 C2_mean 9 C2_sd 10 C2_stat 11 C2_ub 12 C2_alarm
#         13 C3_stat_def 14 C3_alarm_def 15 C3_ub 16 C3_alarm
compare ears-c1 "3:6:n 4:7:a 5:3:n 6:4:n 7:5:n"
compare ears-c2 "3:11:n 4:12:a 5:8:n 6:9:n 7:10:n"
compare ears-c3-compat "3:15:n 4:16:a"
compare ears-c3 "4:14:a 8:13:n"
# Edge cases (tools/surveil-ref/make_edge.R): flat baselines with sd 0, an
# all-zero baseline then one case, a leap day.  C1/C2 equal R everywhere;
# C3 equals R wherever R is defined.
compare ears-c1 "3:6:n 4:7:a 5:3:n 6:4:n 7:5:N" edge.csv ears_edge.csv
compare ears-c2 "3:11:n 4:12:a 5:8:n 6:9:n 7:10:N" edge.csv ears_edge.csv
compare ears-c3-compat "3:15:N 4:16:A" edge.csv ears_edge.csv
compare ears-c3 "4:14:A 8:13:N" edge.csv ears_edge.csv

# MPM against tools/surveil-ref/mpm_ref.R (R quantile type 7):
# ours 1 date 2 count 3 upper 4 alarm 5 window 6 threshold;
# golden 1 date 2 count 3 window 4 threshold 5 alarm.
compare_mpm() {
    golden=$1
    shift
    "$RHIS" detect --method mpm "$@" <"$G/syn42.csv" >"$TMP/mpm.csv"
    if ! awk -F, -v name="mpm $* ($golden)" '
        NR == FNR { ours[FNR] = $0; nours = FNR; next }
        FNR == 1 { next }
        {
            split(ours[FNR], o, ",")
            if (o[1] != $1 || o[2] != $2 || o[4] != $5 || o[5] != $3) {
                print name ": row " FNR ": " ours[FNR] " vs R " $0; bad++; next
            }
            if ($5 == "NA") next
            pts++
            if ($5 == 1) alarms++
            d = o[6] - $4; if (d < 0) d = -d
            if (d > 1e-6 * ($4 < 0 ? -$4 : $4) + 1e-12) {
                print name ": " $1 " threshold " o[6] " vs R " $4; bad++
            }
        }
        END {
            if (FNR != nours) { print name ": row counts differ"; bad++ }
            printf "%s: points=%d alarms=%d %s\n", name, pts, alarms, bad ? "FAIL" : "ok"
            exit bad ? 1 : 0
        }' "$TMP/mpm.csv" "$G/$golden"; then
        fail=1
    fi
}
compare_mpm mpm_p50.csv
compare_mpm mpm_p90.csv --pct 90

# CUSUM against surveillance::cusum 1.20.3 (tools/surveil-ref/cusum_ref.R,
# m = mean before 2024-01-01, no reset in that version):
# ours 1 date 2 count 3 upper 4 alarm 5 m 6 z 7 S; golden 3 upper 4 alarm 5 S.
"$RHIS" detect --method cusum --reset 0 --from 2024-01-01 <"$G/syn42.csv" >"$TMP/cusum.csv"
if ! awk -F, '
    NR == FNR { ours[FNR] = $0; nours = FNR; next }
    FNR == 1 { next }
    {
        split(ours[FNR], o, ",")
        if (o[1] != $1 || o[2] != $2 || o[3] != $3 || o[4] != $4) {
            print "cusum: row " FNR ": " ours[FNR] " vs R " $0; bad++; next
        }
        if ($4 == "NA") next
        pts++
        if ($4 == 1) alarms++
        d = o[7] - $5; if (d < 0) d = -d
        if (d > 1e-6 * $5 + 1e-9) { print "cusum: " $1 " S " o[7] " vs R " $5; bad++ }
    }
    END {
        if (FNR != nours) { print "cusum: row counts differ"; bad++ }
        printf "cusum --reset 0 (cusum_2024.csv): points=%d alarms=%d %s\n", pts, alarms, bad ? "FAIL" : "ok"
        exit bad ? 1 : 0
    }' "$TMP/cusum.csv" "$G/cusum_2024.csv"; then
    fail=1
fi


# Farrington (farringtonFlexible): compare_farr GOLDEN INPUT METHOD [ARGS..]
# ours:   1 date 2 count 3 upper 4 alarm 5 expected 6 score 7 pvalue 8 phi
#         9 trend_coef 10 enough
# golden: 1 date 2 count 3 expected 4 upperbound 5 alarm 6 score 7 pvalue
#         8 phi 9 trend_coef (farrington_ref.R)
# NA alarms and alarms exactly; where R's upperbound is NA (the limit54
# rule failed) ours must say enough = 0; numbers to 1e-6 relative.
compare_farr() {
    golden=$1
    input=$2
    shift 2
    name="$* ($golden)"
    "$RHIS" detect "$@" <"$G/$input" >"$TMP/farr.csv"
    if ! awk -F, -v name="$name" '
        function num(a, b, what,    d, m) {
            if (b == "NA") {
                if (what == "trend_coef" && a != "NA") {
                    print name ": " $1 " " what " " a " vs R NA"; bad++
                }
                return
            }
            if (a == "NA") { print name ": " $1 " " what " NA vs R " b; bad++; return }
            d = a - b; if (d < 0) d = -d
            m = b; if (m < 0) m = -m
            if (d > 1e-6 * m + 1e-9) {
                print name ": " $1 " " what " " a " vs R " b; bad++
            }
            if (m > 1e-9 && d / m > maxrel) maxrel = d / m
            nnum++
        }
        NR == FNR { ours[FNR] = $0; nours = FNR; next }
        FNR == 1 { next }
        {
            split(ours[FNR], o, ",")
            if (o[1] != $1 || o[2] != $2) {
                print name ": row " FNR " date/count differ"; bad++; next
            }
            if (o[4] == "NA" || $5 == "NA") {
                if (o[4] != $5) { print name ": " $1 " alarm " o[4] " vs R " $5; bad++ }
                next
            }
            pts++
            if (o[4] + 0 != $5 + 0) { print name ": " $1 " alarm " o[4] " vs R " $5; bad++ }
            if ($5 + 0 == 1) alarms++
            if ($4 == "NA") {
                if (o[10] != "0") { print name ": " $1 " R upper NA, enough " o[10]; bad++ }
            } else {
                if (o[10] != "1") { print name ": " $1 " enough " o[10] " vs R upper " $4; bad++ }
                num(o[3], $4, "upper")
                num(o[5], $3, "expected")
            }
            num(o[6], $6, "score")
            num(o[7], $7, "pvalue")
            num(o[8], $8, "phi")
            num(o[9], $9, "trend_coef")
        }
        END {
            if (FNR != nours) { print name ": row counts differ"; bad++ }
            printf "%s: points=%d alarms=%d numbers=%d max_rel_diff=%.3g %s\n", \
                name, pts, alarms, nnum, maxrel, bad ? "FAIL" : "ok"
            exit bad ? 1 : 0
        }' "$TMP/farr.csv" "$G/$golden"; then
        fail=1
    fi
}

compare_farr farr_day_default.csv syn42.csv --method farrington
compare_farr farr_week_default.csv syn42.csv --method farrington --agg week
compare_farr farr_week_noufaily.csv syn42.csv --method noufaily --agg week
compare_farr farr_low_week_orig.csv syn_low.csv --method farrington --agg week \
    --weights-threshold 1
compare_farr farr_low_week_muan.csv syn_low.csv --method farrington --agg week \
    --threshold-method muan --powertrans 1/2 --b 3 --w 2 --alpha 0.01
compare_farr farr_low_day_noufaily.csv syn_low.csv --method noufaily \
    --from 2021-11-01
compare_farr farr_high_week_noufaily.csv syn_high.csv --method noufaily \
    --agg week

exit $fail
