#!/usr/bin/env bash
#
# run-tests.sh - the whole RHIS test suite, as CI runs it.
#
# Why: one command a developer and CI share. It builds twice and runs every
# ctest test in both builds against SQLite and a throw-away PostgreSQL:
#   1. build/       release-like (RelWithDebInfo), -Werror, ctest -j2
#   2. build-asan/  Debug with address,undefined sanitizers, ctest -j2
#   3. tools/checksrc.sh (counted as one test)
#   4. tools/fuzz.sh: each libFuzzer target for RHIS_FUZZ_SECONDS (default 20;
#      0 skips), counted as one test
# Unit, storage, API, browser and fuzz-replay tests are all ctest tests.
# The last line is "N passed, N failed"; the exit status is non-zero when
# anything failed.
#
# Environment:
#   RHIS_SKIP_ASAN=1     skip the sanitizer build (quick local runs)
#   RHIS_SKIP_PG=1       do not start PostgreSQL (PG cases then skip)
#   RHIS_TEST_PG_URL     use this PostgreSQL instead of starting one
#   RHIS_JOBS            parallel build/test jobs (default: nproc, at most 2)
#   RHIS_BUILD_DIR       release build directory (default: build)
#   RHIS_ASAN_BUILD_DIR  sanitizer build directory (default: build-asan)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

jobs=${RHIS_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -gt 2 ] 2>/dev/null && jobs=2

passed=0
failed=0
skipped=0
failures=()
started=$(date +%s)

note() {
    printf '\n==> %s\n' "$*"
}

fail_stage() {
    failed=$((failed + 1))
    failures+=("$1")
    echo "run-tests: FAILED: $1" >&2
}

# --- PostgreSQL -------------------------------------------------------------
pgdir=
cleanup() {
    if [ -n "$pgdir" ]; then
        "$root/tools/pg-test-cluster.sh" stop "$pgdir" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

own_pg=0
if [ -n "${RHIS_TEST_PG_URL:-}" ]; then
    note "PostgreSQL: using RHIS_TEST_PG_URL from the environment"
elif [ "${RHIS_SKIP_PG:-0}" = 1 ]; then
    note "PostgreSQL: skipped (RHIS_SKIP_PG=1)"
else
    note "PostgreSQL: starting a throw-away cluster"
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/rhis-pg.XXXXXX")
    if url=$("$root/tools/pg-test-cluster.sh" start "$pgdir"); then
        export RHIS_TEST_PG_URL=$url
        own_pg=1
        echo "RHIS_TEST_PG_URL=$RHIS_TEST_PG_URL"
    else
        fail_stage "postgresql-cluster"
        "$root/tools/pg-test-cluster.sh" stop "$pgdir" || true
        pgdir=
    fi
fi

# --- ctest result parsing --------------------------------------------------
# run_ctest NAME BUILDDIR: run ctest, add its counts to passed/failed.
run_ctest() {
    local name=$1 bdir=$2 log rc line total nfail nskip
    log="$bdir/ctest-summary.log"
    note "$name: ctest -j$jobs"
    ctest --test-dir "$bdir" -j"$jobs" --output-on-failure \
        --timeout "${RHIS_TEST_TIMEOUT:-600}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' \
        "$log" | tail -n 1)
    if [ -n "$line" ]; then
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
        total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
        nskip=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log" || true)
        passed=$((passed + total - nfail - nskip))
        skipped=$((skipped + nskip))
        failed=$((failed + nfail))
        if [ "$nfail" -gt 0 ]; then
            failures+=("$name: $nfail ctest test(s)")
        fi
        if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
            fail_stage "$name: ctest exited $rc"
        fi
    elif grep -q 'No tests were found' "$log"; then
        echo "run-tests: $name: no ctest tests registered" >&2
    else
        fail_stage "$name: ctest (no summary, exit $rc)"
    fi
}

# build_and_test NAME BUILDDIR CMAKE-ARGS...
build_and_test() {
    local name=$1 bdir=$2
    shift 2
    note "$name: configure ($bdir)"
    if ! cmake -S "$root" -B "$bdir" -DRHIS_WERROR=ON "$@"; then
        fail_stage "$name: cmake configure"
        return
    fi
    note "$name: build"
    if ! cmake --build "$bdir" -j"$jobs"; then
        fail_stage "$name: build"
        return
    fi
    run_ctest "$name" "$bdir"
}

# --- 1. release-like build --------------------------------------------------
build_and_test release "${RHIS_BUILD_DIR:-build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo

# --- 2. sanitizer build -----------------------------------------------------
if [ "${RHIS_SKIP_ASAN:-0}" = 1 ]; then
    note "asan: skipped (RHIS_SKIP_ASAN=1)"
else
    if [ "$own_pg" = 1 ]; then
        # A clean database, so the second run sees what the first saw.
        "$root/tools/pg-test-cluster.sh" reset "$pgdir" >/dev/null ||
            fail_stage "postgresql reset"
    fi
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    build_and_test asan "${RHIS_ASAN_BUILD_DIR:-build-asan}" -DCMAKE_BUILD_TYPE=Debug \
        -DRHIS_SANITIZE=address,undefined
fi

# --- 3. source checks -------------------------------------------------------
note "checksrc"
if "$root/tools/checksrc.sh"; then
    passed=$((passed + 1))
    echo "checksrc: clean"
else
    fail_stage "checksrc"
fi

# --- 4. fuzzing --------------------------------------------------------------
# Each libFuzzer target runs RHIS_FUZZ_SECONDS (default 20) from the stored
# corpus; the corpora themselves are replayed in both ctest runs above.
# RHIS_FUZZ_SECONDS=0 skips this stage.
fuzz_secs=${RHIS_FUZZ_SECONDS:-20}
if [ "$fuzz_secs" != 0 ] && command -v clang >/dev/null 2>&1; then
    note "fuzz: each target ${fuzz_secs}s (tools/fuzz.sh)"
    if "$root/tools/fuzz.sh" "$fuzz_secs" > fuzz.log 2>&1; then
        passed=$((passed + 1))
        grep -E '^== fuzz_|stat::number_of_executed_units' fuzz.log || true
    else
        tail -40 fuzz.log
        fail_stage "fuzz (see fuzz.log; crashers in build-fuzz/fuzz-out)"
    fi
fi

elapsed=$(($(date +%s) - started))
note "summary (${elapsed}s)"
if [ "${#failures[@]}" -gt 0 ]; then
    for f in "${failures[@]}"; do
        echo "  failed: $f"
    done
fi
if [ "$skipped" -gt 0 ]; then
    echo "($skipped ctest test(s) skipped, counted in neither number)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
