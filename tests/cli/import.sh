#!/bin/sh
# import.sh RHIS - `rhis import FILE.ndjson` end to end, and the Bulk Data
# round trip: what $export writes, `rhis import` loads.
#
# Why: the importer's promises are about whole files and exit codes - every
# good line loaded whatever the bad ones around it, a bad line reported
# with its number, type and element path and leaving nothing behind,
# references between lines rewritten to the new ids, the same result
# whatever the batch size.  Runs on SQLite, and on PostgreSQL too when
# RHIS_TEST_PG_URL is set (psql needed).
set -eu
rhis=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pgdbs=""
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    for d in $pgdbs; do
        psql -q "$RHIS_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
    [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "import.sh: FAIL [$engine]: $*"; exit 1; }
engine=-
export RHIS_DATA_DIR="$root/data"
printf 'Import-Passw0rd!' >"$tmp/pw"

# new_db NAME: a fresh, initialised database of $engine with institutions
new_db() {
    if [ "$engine" = sqlite ]; then
        url="sqlite:$tmp/$1.db"
    else
        d="rhis_import_$1_$$"
        psql -q "$RHIS_TEST_PG_URL" -c "CREATE DATABASE $d" >/dev/null
        pgdbs="$pgdbs $d"
        url="${RHIS_TEST_PG_URL%/*}/$d"
    fi
    "$rhis" init --db "$url" --admin-password-file "$tmp/pw" >/dev/null
    "$rhis" import-institutions --db "$url" \
        "$root/data/institutions-220221.csv" >/dev/null
    echo "$url"
}

# q URL SQL: the first column of the first row
q() {
    case $1 in
    sqlite:*)
        python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "${1#sqlite:}" "$2" ;;
    *) psql -qtA "$1" -c "$2" | head -n 1 ;;
    esac
}

# expect_rc WANT CMD...: runs CMD (stdout/stderr to $tmp/out, $tmp/err)
expect_rc() {
    want=$1
    shift
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    set -e
    [ "$got" = "$want" ] || fail "exit $got, not $want: $* ($(cat "$tmp/err"))"
}

# the store's own invariant: a typed row for every current version
check_versions() {
    for t in Patient:patient Encounter:encounter Condition:condition \
        Observation:observation Immunization:immunization; do
        typ=${t%%:*}
        tab=${t#*:}
        a=$(q "$1" "SELECT COUNT(*) FROM $tab")
        b=$(q "$1" "SELECT COUNT(DISTINCT id) FROM fhir_version WHERE type = '$typ'")
        [ "$a" = "$b" ] || fail "$typ: $a typed rows but $b resources with versions"
    done
}

write_files() {
    org=$1
    # a record: three residents, an encounter, a diagnosis, a blood
    # pressure and a vaccination, referring to each other by file ids
    cat >"$tmp/good.ndjson" <<EOF
{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221196001010114"}],"name":[{"text":"张伟","family":"张","given":["伟"]}],"gender":"male","birthDate":"1960-01-01","address":[{"extension":[{"url":"https://rhis.cn/fhir/StructureDefinition/address-division","valueCode":"220221100001"}]}]}
{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221197002020220"}],"name":[{"text":"王丽","family":"王","given":["丽"]}],"gender":"female","birthDate":"1970-02-02","address":[{"extension":[{"url":"https://rhis.cn/fhir/StructureDefinition/address-division","valueCode":"220221101"}]}]}

{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},"period":{"start":"2024-03-01T09:00:00+08:00","end":"2024-03-01T09:20:00+08:00"},"serviceProvider":{"reference":"Organization/$org"}}
{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10"}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"recordedDate":"2024-03-01T09:15:00+08:00"}
{"resourceType":"Observation","id":"o1","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"effectiveDateTime":"2024-03-01T09:10:00+08:00","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":150,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":95,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}
{"resourceType":"Immunization","id":"i1","status":"completed","vaccineCode":{"coding":[{"system":"https://rhis.cn/fhir/CodeSystem/vaccine","code":"HepB"}]},"patient":{"reference":"Patient/p2"},"occurrenceDateTime":"2024-04-02T10:00:00+08:00","lotNumber":"202312A07","performer":[{"actor":{"reference":"Organization/$org"}}],"protocolApplied":[{"doseNumberPositiveInt":2}]}
{"resourceType":"Patient","id":"p3","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221198003030337"}],"name":[{"text":"赵强","family":"赵","given":["强"]}],"gender":"male","birthDate":"1980-03-03","address":[{"extension":[{"url":"https://rhis.cn/fhir/StructureDefinition/address-division","valueCode":"220281"}]}]}
EOF
    # good and bad lines mixed: bad JSON, a mistyped ID number, a reference
    # to a line that failed, an unknown type, a duplicate ID number
    cat >"$tmp/mixed.ndjson" <<EOF
{"resourceType":"Patient","id":"m1","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221199004040443"}],"name":[{"text":"刘芳"}],"gender":"female","birthDate":"1990-04-04"}
{"resourceType":"Patient", "name":
{"resourceType":"Patient","id":"m2","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221200005050551"}],"name":[{"text":"陈明"}],"gender":"male","birthDate":"2000-05-05"}
{"resourceType":"Observation","id":"mo","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"14749-6"}]},"subject":{"reference":"Patient/m2"},"effectiveDateTime":"2024-05-01T08:00:00+08:00","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}
{"resourceType":"Practitioner","name":[{"text":"李明"}]}
{"resourceType":"Observation","id":"mg","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"14749-6"}]},"subject":{"reference":"Patient/m1"},"effectiveDateTime":"2024-05-01T08:00:00+08:00","valueQuantity":{"value":5.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}
{"resourceType":"Patient","id":"m3","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221199004040443"}],"name":[{"text":"刘芳"}],"gender":"female","birthDate":"1990-04-04"}
{"resourceType":"Patient","id":"m4","identifier":[{"system":"urn:oid:2.16.156.10011.1.3","value":"220221201006060667"}],"name":[{"text":"周敏"}],"gender":"female","birthDate":"2010-06-06"}
EOF
}

run_engine() {
    engine=$1
    db=$(new_db a)
    org=$(q "$db" "SELECT id FROM institution WHERE code = 'H220221001'")
    write_files "$org"

    # the whole record loads; references point at the new ids
    expect_rc 0 "$rhis" import --db "$db" "$tmp/good.ndjson"
    grep -q "8 lines, 7 resources loaded, 0 failed" "$tmp/out" ||
        fail "good file: $(cat "$tmp/out")"
    p1=$(q "$db" "SELECT id FROM patient WHERE id_number = '220221196001010114'")
    p2=$(q "$db" "SELECT id FROM patient WHERE id_number = '220221197002020220'")
    [ -n "$p1" ] && [ -n "$p2" ] || fail "patients not loaded"
    [ "$(q "$db" "SELECT patient_id FROM encounter")" = "$p1" ] ||
        fail "Encounter.subject not rewritten to Patient/$p1"
    e1=$(q "$db" "SELECT id FROM encounter")
    [ "$(q "$db" "SELECT encounter_id FROM condition")" = "$e1" ] ||
        fail "Condition.encounter not rewritten to Encounter/$e1"
    [ "$(q "$db" "SELECT patient_id FROM observation")" = "$p1" ] ||
        fail "Observation.subject not rewritten"
    [ "$(q "$db" "SELECT patient_id FROM immunization")" = "$p2" ] ||
        fail "Immunization.patient not rewritten"
    json=$(q "$db" "SELECT json FROM fhir_version WHERE type = 'Condition'")
    echo "$json" | grep -q "\"reference\":\"Patient/$p1\"" ||
        fail "stored Condition keeps the file reference: $json"
    echo "$json" | grep -q '"id":"c1"' && fail "the file id was kept: $json"
    check_versions "$db"
    # a first load rebuilds the plan aggregates once, at the end
    grep -q "plan aggregates rebuilt" "$tmp/out" ||
        fail "no aggregate rebuild after a first load: $(cat "$tmp/out")"
    expect_rc 0 "$rhis" plan verify --db "$db"

    # mixed file: good lines load, bad ones are reported, exit 1
    before=$(q "$db" "SELECT COUNT(*) FROM patient")
    expect_rc 1 "$rhis" import --db "$db" --batch 3 --errors "$tmp/errors" \
        "$tmp/mixed.ndjson"
    grep -q "8 lines, 3 resources loaded, 5 failed" "$tmp/out" ||
        fail "mixed file: $(cat "$tmp/out")"
    grep -q "see $tmp/errors" "$tmp/err" || fail "no pointer to the report"
    # into a database with records: live maintenance, line by line (the
    # careful replay's savepoints rolled back lines: live = rebuild)
    grep -q "plan aggregates rebuilt" "$tmp/out" &&
        fail "aggregates rebuilt although the database had records"
    expect_rc 0 "$rhis" plan verify --db "$db"
    [ "$(wc -l <"$tmp/errors")" -eq 5 ] || fail "report: $(cat "$tmp/errors")"
    grep -q '^line 2: -: -: invalid JSON' "$tmp/errors" ||
        fail "bad JSON: $(cat "$tmp/errors")"
    grep -q '^line 3: Patient: Patient.identifier\[0\].value: .*check character' \
        "$tmp/errors" || fail "ID number: $(cat "$tmp/errors")"
    grep -q '^line 4: Observation: Observation.subject: .*Patient/m2 is line 3, which was not loaded' \
        "$tmp/errors" || fail "reference to a failed line: $(cat "$tmp/errors")"
    grep -q "^line 5: -: resourceType: resourceType 'Practitioner' cannot be imported" \
        "$tmp/errors" || fail "unknown type: $(cat "$tmp/errors")"
    grep -q '^line 7: Patient: Patient.identifier\[0\].value: .*already registered' \
        "$tmp/errors" || fail "duplicate ID number: $(cat "$tmp/errors")"
    after=$(q "$db" "SELECT COUNT(*) FROM patient")
    [ "$after" -eq $((before + 2)) ] || fail "patients $before -> $after"
    check_versions "$db"
    [ "$(q "$db" "SELECT COUNT(*) FROM patient_identifier")" = "$(q "$db" "SELECT COUNT(*) FROM patient")" ] ||
        fail "identifier rows left behind by a failed line"

    # the same file line by line (batch 1) and in one batch: the same
    for b in 1 1000; do
        db2=$(new_db "b$b")
        expect_rc 1 "$rhis" import --db "$db2" --batch "$b" "$tmp/mixed.ndjson"
        grep -q "3 resources loaded, 5 failed" "$tmp/out" ||
            fail "--batch $b: $(cat "$tmp/out")"
        [ "$(grep -c '^line ' "$tmp/err")" -eq 5 ] ||
            fail "--batch $b report: $(cat "$tmp/err")"
    done

    # stdin
    db3=$(new_db c)
    expect_rc 0 sh -c "\"$rhis\" import --db '$db3' - <'$tmp/good.ndjson'"
    grep -q "7 resources loaded" "$tmp/out" || fail "stdin: $(cat "$tmp/out")"

    # usage and I/O errors: exit 2, nothing loaded
    expect_rc 2 "$rhis" import --db "$db"
    expect_rc 2 "$rhis" import --db "$db" --batch 0 "$tmp/good.ndjson"
    expect_rc 2 "$rhis" import --db "$db" --frobnicate "$tmp/good.ndjson"
    expect_rc 2 "$rhis" import --db "$db" "$tmp/no-such-file.ndjson"
    grep -q "cannot open" "$tmp/err" || fail "missing file: $(cat "$tmp/err")"
    expect_rc 2 "$rhis" import --db "sqlite:$tmp/empty-$engine.db" "$tmp/good.ndjson"
    grep -q "rhis init" "$tmp/err" || fail "uninitialised: $(cat "$tmp/err")"
    expect_rc 0 "$rhis" import --help

    # one audit event per run, counts only
    n=$(q "$db" "SELECT COUNT(*) FROM audit_event WHERE operation = 'import'")
    [ "$n" = 2 ] || fail "$n import audit events, not 2"

    round_trip "$db"
}

# $export of everything the import loaded, then `rhis import` of the
# files into a new database: the same resources come back.
round_trip() {
    src=$1
    printf 'Other-Integrator-1' >"$tmp/pw2"
    "$rhis" user add --db "$src" --username other --role integrator \
        --scope 220221 --password-file "$tmp/pw2" >/dev/null
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$rhis" serve --db "$src" --listen "127.0.0.1:$port" --access-log 0 \
        --web-root "$root/web" >"$tmp/serve.log" 2>&1 &
    server=$!
    python3 - "$port" "$tmp/pw" "$tmp/export.ndjson" <<'PY' || fail "export: $(tail -5 "$tmp/serve.log")"
import json, sys, time, urllib.request
port, pwfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
base = "http://127.0.0.1:%s" % port
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
def call(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=body,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
def login(user, pw):
    st, _, b = call("POST", "/api/v1/login",
                    json.dumps({"username": user, "password": pw}).encode(),
                    {"Content-Type": "application/json"})
    assert st == 200, (st, b)
    return {"Authorization": "Bearer " + json.loads(b)["token"]}
auth = login("admin", open(pwfile).read())
other = login("other", open(pwfile + "2").read())
st, h, b = call("GET", "/fhir/$export", None,
                dict(auth, Prefer="respond-async"))
assert st == 202, (st, b)
status_url = h["Content-Location"]
assert status_url.endswith("/fhir/bulkstatus/%s" % status_url.split("/")[-1])
path = "/fhir/bulkstatus/" + status_url.split("/")[-1]
for _ in range(300):
    st, h, b = call("GET", path, None, auth)
    if st != 202:
        break
    assert "X-Progress" in h, h
    time.sleep(0.1)
assert st == 200, (st, b)
m = json.loads(b)
assert m["requiresAccessToken"] is True and m["error"] == [], m
with open(out, "wb") as f:
    for o in m["output"]:
        st, h, data = call("GET", o["url"].split(port, 1)[1], None, auth)
        assert st == 200, (st, data)
        assert h["Content-Type"].startswith("application/fhir+ndjson"), h
        lines = data.decode().splitlines()
        assert len(lines) == o["count"], (o, len(lines))
        for line in lines:
            assert json.loads(line)["resourceType"] == o["type"], line
        f.write(data)
        # only the user who started the export may fetch its files
        st, _, _ = call("GET", o["url"].split(port, 1)[1], None, other)
        assert st == 403, st
st, _, _ = call("GET", path, None, other)
assert st == 403, st
st, _, b = call("DELETE", path, None, auth)
assert st == 202, (st, b)
st, _, b = call("GET", path, None, auth)
assert st == 404, (st, b)
PY
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    dst=$(new_db rt)
    expect_rc 0 "$rhis" import --db "$dst" "$tmp/export.ndjson"
    for tab in patient encounter condition observation immunization; do
        a=$(q "$src" "SELECT COUNT(*) FROM $tab WHERE deleted = 0")
        b=$(q "$dst" "SELECT COUNT(*) FROM $tab")
        [ "$a" = "$b" ] || fail "round trip: $tab $a -> $b"
    done
    check_versions "$dst"
    n=$(q "$src" "SELECT COUNT(*) FROM audit_event WHERE operation = 'export' AND resource_type = 'Patient'")
    [ "$n" = "$(q "$src" "SELECT COUNT(*) FROM patient")" ] ||
        fail "$n per-patient export audit events"
}

run_engine sqlite
if [ -n "${RHIS_TEST_PG_URL:-}" ] && command -v psql >/dev/null; then
    run_engine postgres
else
    echo "import.sh: PostgreSQL skipped (no RHIS_TEST_PG_URL)"
fi
echo "import.sh: ok"
