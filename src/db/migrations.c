/*
 * migrations.c - the versioned schema, applied in order by rhis init.
 *
 * Why: one schema on two engines.  Each step is common SQL with one
 * placeholder, @ID@, for an auto-numbered primary key; where the engines
 * truly differ (triggers), a step carries one text per engine.  Steps are
 * never edited once released: a change is a new step.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "rhis/alloc.h"
#include "rhis/buf.h"

typedef struct migration {
    int version;
    const char *name;
    const char *common;   /* both engines, may be NULL */
    const char *sqlite;   /* SQLite only, may be NULL */
    const char *postgres; /* PostgreSQL only, may be NULL */
} migration;

static const migration migrations[] = {
    {1, "core registries, users, audit",
     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
     "CREATE TABLE area ("
     " code TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
     " parent_code TEXT REFERENCES area(code),"
     " edition TEXT NOT NULL);"
     "CREATE INDEX area_parent ON area(parent_code);"
     "CREATE INDEX area_name ON area(name);"
     "CREATE TABLE population ("
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " year INTEGER NOT NULL,"
     " sex TEXT NOT NULL CHECK (sex IN ('M','F')),"
     " age_band INTEGER NOT NULL CHECK (age_band BETWEEN 0 AND 85"
     "  AND age_band % 5 = 0),"
     " population BIGINT NOT NULL CHECK (population >= 0),"
     " source TEXT,"
     " PRIMARY KEY (area_code, year, sex, age_band));"
     "CREATE TABLE institution ("
     " id @ID@,"
     " code TEXT NOT NULL UNIQUE,"
     " name TEXT NOT NULL,"
     " tier TEXT NOT NULL,"
     " grade TEXT,"
     " ownership TEXT NOT NULL CHECK (ownership IN ('public','private')),"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " beds_approved INTEGER NOT NULL DEFAULT 0 CHECK (beds_approved >= 0),"
     " beds_open INTEGER NOT NULL DEFAULT 0 CHECK (beds_open >= 0),"
     " lat DOUBLE PRECISION,"
     " lon DOUBLE PRECISION,"
     " phone TEXT,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE INDEX institution_area ON institution(area_code);"
     "CREATE INDEX institution_tier ON institution(tier, area_code);"
     "CREATE TABLE practitioner ("
     " id @ID@,"
     " name TEXT NOT NULL,"
     " sex TEXT CHECK (sex IN ('M','F')),"
     " licence_no TEXT UNIQUE,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE practitioner_role ("
     " id @ID@,"
     " practitioner_id BIGINT NOT NULL REFERENCES practitioner(id),"
     " institution_id BIGINT NOT NULL REFERENCES institution(id),"
     " role TEXT NOT NULL,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE INDEX practitioner_role_inst ON practitioner_role(institution_id);"
     "CREATE INDEX practitioner_role_pract ON "
     "practitioner_role(practitioner_id);"
     "CREATE TABLE app_user ("
     " id @ID@,"
     " username TEXT NOT NULL UNIQUE,"
     " password_hash TEXT NOT NULL,"
     " role TEXT NOT NULL,"
     " scope_area TEXT NOT NULL DEFAULT '',"
     " scope_institution BIGINT REFERENCES institution(id),"
     " disabled INTEGER NOT NULL DEFAULT 0,"
     " created_at BIGINT NOT NULL);"
     "CREATE TABLE auth_token ("
     " token_hash TEXT PRIMARY KEY,"
     " user_id BIGINT NOT NULL REFERENCES app_user(id),"
     " created_at BIGINT NOT NULL,"
     " expires_at BIGINT NOT NULL,"
     " revoked INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX auth_token_user ON auth_token(user_id);"
     "CREATE TABLE audit_event ("
     " id @ID@,"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " username TEXT,"
     " role TEXT,"
     " action TEXT NOT NULL,"
     " operation TEXT NOT NULL,"
     " resource_type TEXT,"
     " resource_id TEXT,"
     " patient_id TEXT,"
     " outcome INTEGER NOT NULL,"
     " address TEXT,"
     " request_id TEXT,"
     " detail TEXT);"
     "CREATE INDEX audit_event_ts ON audit_event(ts);"
     "CREATE INDEX audit_event_patient ON audit_event(patient_id);"
     "CREATE INDEX audit_event_user ON audit_event(user_id);",
     "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event"
     " BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
     "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event"
     " BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;",
     "CREATE FUNCTION audit_event_append_only() RETURNS trigger"
     " LANGUAGE plpgsql AS $$ BEGIN"
     " RAISE EXCEPTION 'audit_event is append-only'; END $$;"
     "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE"
     " ON audit_event FOR EACH ROW"
     " EXECUTE FUNCTION audit_event_append_only();"},
    {2, "residents, master patient index, health record",
     /* every version of every health-record resource, as served */
     "CREATE TABLE fhir_version ("
     " type TEXT NOT NULL,"
     " id BIGINT NOT NULL,"
     " version INTEGER NOT NULL,"
     " ts BIGINT NOT NULL,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " method TEXT NOT NULL,"
     " user_id BIGINT,"
     " patient_id BIGINT,"
     " json TEXT,"
     " PRIMARY KEY (type, id, version));"
     "CREATE INDEX fhir_version_ts ON fhir_version(ts);"
     "CREATE INDEX fhir_version_patient ON fhir_version(patient_id, ts);"
     "CREATE TABLE patient ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " id_number TEXT,"
     " name TEXT NOT NULL,"
     " family TEXT,"
     " given TEXT,"
     " name_pinyin TEXT,"
     " sex TEXT NOT NULL CHECK (sex IN ('M','F','O','U')),"
     " birth_date TEXT,"
     " birth_ms BIGINT,"
     " phone TEXT,"
     " area_code TEXT REFERENCES area(code),"
     " address_line TEXT,"
     " household TEXT,"
     " ethnicity TEXT,"
     " deceased_ms BIGINT,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " merged_into BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE UNIQUE INDEX patient_id_number ON patient(id_number)"
     " WHERE deleted = 0 AND merged_into IS NULL;"
     "CREATE INDEX patient_name ON patient(name);"
     "CREATE INDEX patient_pinyin ON patient(name_pinyin);"
     "CREATE INDEX patient_birth ON patient(birth_ms);"
     "CREATE INDEX patient_area ON patient(area_code);"
     "CREATE INDEX patient_phone ON patient(phone);"
     "CREATE INDEX patient_merged ON patient(merged_into)"
     " WHERE merged_into IS NOT NULL;"
     "CREATE TABLE patient_identifier ("
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " system TEXT NOT NULL,"
     " value TEXT NOT NULL,"
     " PRIMARY KEY (system, value, patient_id));"
     "CREATE INDEX patient_identifier_value ON patient_identifier(value);"
     "CREATE INDEX patient_identifier_patient"
     " ON patient_identifier(patient_id);"
     /* master patient index */
     "CREATE TABLE mpi_review ("
     " id @ID@,"
     " patient_a BIGINT NOT NULL REFERENCES patient(id),"
     " patient_b BIGINT NOT NULL REFERENCES patient(id),"
     " score DOUBLE PRECISION NOT NULL,"
     " detail TEXT,"
     " status TEXT NOT NULL DEFAULT 'open'"
     "  CHECK (status IN ('open','merged','separate')),"
     " created_ms BIGINT NOT NULL,"
     " decided_ms BIGINT,"
     " decided_by BIGINT,"
     " UNIQUE (patient_a, patient_b),"
     " CHECK (patient_a < patient_b));"
     "CREATE INDEX mpi_review_status ON mpi_review(status, score);"
     "CREATE TABLE mpi_merge ("
     " id @ID@,"
     " survivor_id BIGINT NOT NULL REFERENCES patient(id),"
     " merged_id BIGINT NOT NULL REFERENCES patient(id),"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " reason TEXT,"
     " moved TEXT,"
     " undone_ms BIGINT,"
     " undone_by BIGINT);"
     "CREATE INDEX mpi_merge_merged ON mpi_merge(merged_id);"
     "CREATE INDEX mpi_merge_survivor ON mpi_merge(survivor_id);"
     "CREATE TABLE mpi_weight ("
     " field TEXT NOT NULL,"
     " level TEXT NOT NULL,"
     " m DOUBLE PRECISION NOT NULL,"
     " u DOUBLE PRECISION NOT NULL,"
     " estimated_ms BIGINT NOT NULL,"
     " PRIMARY KEY (field, level));"
     /* health record */
     "CREATE TABLE encounter ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " status TEXT NOT NULL,"
     " class TEXT NOT NULL,"
     " type_code TEXT,"
     " institution_id BIGINT REFERENCES institution(id),"
     " practitioner_id BIGINT REFERENCES practitioner(id),"
     " start_ms BIGINT,"
     " end_ms BIGINT,"
     " reason_code TEXT,"
     " reason_text TEXT);"
     "CREATE INDEX encounter_patient ON encounter(patient_id, start_ms);"
     "CREATE INDEX encounter_inst ON encounter(institution_id, start_ms);"
     "CREATE INDEX encounter_start ON encounter(start_ms);"
     "CREATE TABLE condition ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " clinical_status TEXT,"
     " verification_status TEXT,"
     " category TEXT,"
     " onset_ms BIGINT,"
     " recorded_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX condition_patient ON condition(patient_id);"
     "CREATE INDEX condition_code ON condition(code, recorded_ms);"
     "CREATE TABLE observation ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " category TEXT,"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " value_num DOUBLE PRECISION,"
     " value_text TEXT,"
     " unit TEXT,"
     " interpretation TEXT,"
     " effective_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX observation_patient"
     " ON observation(patient_id, code, effective_ms);"
     "CREATE INDEX observation_code ON observation(code, effective_ms);"
     "CREATE TABLE observation_component ("
     " observation_id BIGINT NOT NULL REFERENCES observation(id),"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " value_num DOUBLE PRECISION,"
     " value_text TEXT,"
     " unit TEXT,"
     " PRIMARY KEY (observation_id, code));"
     "CREATE TABLE immunization ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " vaccine_code TEXT NOT NULL,"
     " vaccine_system TEXT NOT NULL,"
     " lot TEXT,"
     " dose_number INTEGER,"
     " occurrence_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX immunization_patient"
     " ON immunization(patient_id, occurrence_ms);"
     "CREATE INDEX immunization_vaccine"
     " ON immunization(vaccine_code, occurrence_ms);"
     "CREATE TABLE document_reference ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " type_code TEXT,"
     " type_system TEXT,"
     " date_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id),"
     " content_type TEXT,"
     " size BIGINT,"
     " title TEXT);"
     "CREATE INDEX document_reference_patient"
     " ON document_reference(patient_id, date_ms);"
     /* access to records */
     "CREATE TABLE consent ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " status TEXT NOT NULL,"
     " provision TEXT NOT NULL CHECK (provision IN ('permit','deny')),"
     " actor_institution_id BIGINT REFERENCES institution(id),"
     " actor_area_code TEXT REFERENCES area(code),"
     " start_ms BIGINT,"
     " end_ms BIGINT,"
     " CHECK (actor_institution_id IS NOT NULL"
     "  OR actor_area_code IS NOT NULL));"
     "CREATE INDEX consent_patient ON consent(patient_id);"
     "CREATE TABLE break_glass ("
     " id @ID@,"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " reason TEXT NOT NULL,"
     " request_id TEXT,"
     " reviewed_ms BIGINT,"
     " reviewed_by BIGINT,"
     " review_note TEXT);"
     "CREATE INDEX break_glass_open ON break_glass(reviewed_ms, ts);"
     "ALTER TABLE app_user ADD COLUMN patient_id BIGINT;"
     /* bulk data export jobs */
     "CREATE TABLE bulk_export ("
     " id @ID@,"
     " user_id BIGINT NOT NULL,"
     " level TEXT NOT NULL,"
     " params TEXT,"
     " status TEXT NOT NULL,"
     " created_ms BIGINT NOT NULL,"
     " completed_ms BIGINT,"
     " error TEXT);"
     "CREATE TABLE bulk_export_file ("
     " export_id BIGINT NOT NULL REFERENCES bulk_export(id),"
     " type TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " count BIGINT NOT NULL,"
     " ndjson TEXT NOT NULL,"
     " PRIMARY KEY (export_id, type, seq));",
     NULL, NULL},
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
rhis_db_schema_version_latest(void)
{
    return migrations[NMIGRATIONS - 1].version;
}

/* Copies sql into b with @ID@ replaced for the dialect. */
static rhis_status
expand(rhis_buf *b, const char *sql, rhis_dialect d)
{
    const char *id =
        d == RHIS_DIALECT_SQLITE
            ? "INTEGER PRIMARY KEY AUTOINCREMENT"
            : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    rhis_status rc = RHIS_OK;
    while (rc == RHIS_OK && *sql != '\0') {
        const char *at = strstr(sql, "@ID@");
        if (at == NULL)
            return rhis_buf_puts(b, sql);
        rc = rhis_buf_append(b, sql, (size_t)(at - sql));
        if (rc == RHIS_OK)
            rc = rhis_buf_puts(b, id);
        sql = at + 4;
    }
    return rc;
}

static rhis_status
current_version(rhis_db *db, int *version)
{
    rhis_status rc =
        rhis_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                         " version INTEGER PRIMARY KEY,"
                         " name TEXT NOT NULL,"
                         " applied_at BIGINT NOT NULL)");
    if (rc != RHIS_OK)
        return rc;
    int64_t v = 0;
    rc = rhis_db_scalar_int64(
        db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_version", "");
    *version = (int)v;
    return rc;
}

rhis_status
rhis_db_migrate(rhis_db *db, int *version)
{
    int cur = 0;
    rhis_status rc = current_version(db, &cur);
    if (rc != RHIS_OK)
        return rc;
    for (int i = 0; i < NMIGRATIONS; i++) {
        const migration *m = &migrations[i];
        if (m->version <= cur)
            continue;
        rhis_buf b;
        rhis_buf_init(&b, 1 << 20);
        const char *own = rhis_db_dialect(db) == RHIS_DIALECT_SQLITE
                              ? m->sqlite
                              : m->postgres;
        rc =
            expand(&b, m->common != NULL ? m->common : "", rhis_db_dialect(db));
        if (rc == RHIS_OK && own != NULL)
            rc = expand(&b, own, rhis_db_dialect(db));
        if (rc == RHIS_OK)
            rc = rhis_db_begin(db);
        if (rc == RHIS_OK)
            rc = rhis_db_exec(db, b.data);
        if (rc == RHIS_OK)
            rc = rhis_db_run(db,
                             "INSERT INTO schema_version"
                             " (version, name, applied_at) VALUES (?, ?, ?)",
                             "isi", (int64_t)m->version, m->name,
                             (int64_t)time(NULL));
        if (rc == RHIS_OK)
            rc = rhis_db_commit(db);
        rhis_buf_fini(&b);
        if (rc != RHIS_OK) {
            rhis_db_rollback(db);
            return rc;
        }
        cur = m->version;
    }
    *version = cur;
    return RHIS_OK;
}
