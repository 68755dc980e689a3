#!/bin/sh
# surveil.sh RHIS - the demo's surveillance data against its truth file.
#
# Why: the demo region is the ground truth the detectors are measured
# against; tests/demo/surveil_check.py checks with SQL that the injected
# outbreaks are in the data where the truth file says, and that seasons,
# late and duplicate cards, audits and channels look like a county's.
set -eu
rhis=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RHIS_DATA_DIR="$root/data"
printf 'Demo-Passw0rd!' >"$tmp/pw"
"$rhis" init --db "sqlite:$tmp/d.db" --admin-password-file "$tmp/pw" \
    --data-dir "$root/data" >/dev/null
"$rhis" demo --db "sqlite:$tmp/d.db" --area 220221 --scale 0.03 \
    --years 2021-2025 --seed 7 --truth "$tmp/truth" --data "$root/data" \
    --no-progress >"$tmp/demo.log" 2>&1 || {
    cat "$tmp/demo.log"
    exit 1
}
python3 "$root/tests/demo/surveil_check.py" "$tmp/d.db" "$tmp/truth"
