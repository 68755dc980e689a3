#!/bin/sh
# accuracy.sh - detection accuracy on the demo region (issue 5, "Accuracy").
#
# For each seed: generates the demo county with its truth file
# (`rhis demo --truth`), runs the nightly detection for every day of the
# evaluation period (`rhis warn --date F --to T`, the code path of the
# scheduler), then bench/accuracy.py scores the stored signals and each
# detector run offline over the same series against the truth file.  The
# detectors never read the truth file; only accuracy.py does.
#
# usage: bench/accuracy.sh [BUILD_DIR]
# environment:
#   AREA (220221), YEARS (2021-2025), SCALE (0.3), SEEDS ("1 2"),
#   FROM (2021-03-01): sensitivity is scored on the outbreaks starting
#     from it;
#   FALSE_FROM (2024-01-22): the moving percentile method has its 3 years
#     of history from 2024-01-21; the false-signal goal compares rates
#     from the day after;
#   TO (2025-12-31), OUT (/var/tmp/rhis-accuracy, kept for KEEP=1),
#   REPLICAS (999: Monte-Carlo replicas of the scan, the nightly default),
#   KEEP=1 reuses a generated database (its signals are cleared first).
# Time per seed on this 2-core VM: the demo about 110 s CPU (8 min wall
# under a load of 12), the nightly run over 1,767 days about 25 s CPU
# (3-4 min wall), accuracy.py about 15 s.
set -eu
BUILD=${1:-build}
RHIS=$(cd "$(dirname "$BUILD/rhis")" && pwd)/rhis
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AREA=${AREA:-220221}
YEARS=${YEARS:-2021-2025}
SCALE=${SCALE:-0.3}
SEEDS=${SEEDS:-1 2}
FROM=${FROM:-2021-03-01}
FALSE_FROM=${FALSE_FROM:-2024-01-22}
TO=${TO:-2025-12-31}
OUT=${OUT:-/var/tmp/rhis-accuracy}
REPLICAS=${REPLICAS:-999}
mkdir -p "$OUT"
export RHIS_DATA_DIR="$ROOT/data"
echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "area $AREA years $YEARS scale $SCALE seeds '$SEEDS'" \
    "evaluation $FROM..$TO (false-signal rates from $FALSE_FROM)"
truths=""
for seed in $SEEDS; do
    db="$OUT/demo-$seed.db"
    truth="$OUT/truth-$seed"
    if [ "${KEEP:-0}" != 1 ] || [ ! -f "$db" ]; then
        rm -f "$db" "$db-wal" "$db-shm"
        rm -rf "$truth"
        "$RHIS" init --db "sqlite:$db" >/dev/null
        t0=$(date +%s)
        "$RHIS" demo --db "sqlite:$db" --area "$AREA" --years "$YEARS" \
            --seed "$seed" --scale "$SCALE" --truth "$truth" --no-progress \
            >"$OUT/demo-$seed.log" 2>&1
        echo "seed $seed: demo generated in $(($(date +%s) - t0)) s"
    fi
    # a rerun starts from no signals, so the figures are those of one pass
    sqlite3 "$db" "DELETE FROM signal_event; DELETE FROM warning;
                   DELETE FROM signal; DELETE FROM warn_run;" 2>/dev/null || true
    t0=$(date +%s)
    "$RHIS" warn --db "sqlite:$db" --date "$FROM" --to "$TO" \
        --replicas "$REPLICAS" >"$OUT/warn-$seed.log" 2>"$OUT/warn-$seed.err"
    echo "seed $seed: nightly run $FROM..$TO in $(($(date +%s) - t0)) s"
    python3 "$ROOT/bench/accuracy.py" --db "$db" \
        --truth "$truth/outbreaks-$AREA.csv" --rhis "$RHIS" \
        --data "$ROOT/data" --from "$FROM" --to "$TO" \
        --false-from "$FALSE_FROM" \
        --label "seed $seed" --json "$OUT/accuracy-$seed.json" |
        tee "$OUT/accuracy-$seed.md"
done
python3 "$ROOT/bench/accuracy.py" --pool $(for s in $SEEDS; do
    printf '%s ' "$OUT/accuracy-$s.json"; done) | tee "$OUT/accuracy-pooled.md"
