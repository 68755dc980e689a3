/*
 * copy.c - copies a whole RHIS database from one engine to another.
 *
 * Why: a county starts on one SQLite file and moves to PostgreSQL when it
 * joins a city platform or outgrows the file; the move must keep every row,
 * id and audit event.  Tables are copied in foreign-key order inside one
 * target transaction, values travel as text (both engines parse them back
 * into the column's type), and PostgreSQL identity sequences are moved past
 * the copied ids.  The column lists below change with each migration that
 * adds a column.
 */
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "rhis/alloc.h"
#include "rhis/buf.h"

typedef struct table {
    const char *name;
    const char *columns;
    int ncols;
    int has_identity;    /* an auto-numbered id column */
    const char *doubles; /* DOUBLE PRECISION columns, ", "-separated, or
                          * NULL: bound as doubles, since SQLite's text of a
                          * REAL keeps only 15 digits */
} table;

static const table tables[] = {
    {"meta", "key, value", 2, 0, NULL},
    {"area", "code, name, level, parent_code, edition", 5, 0, NULL},
    {"population", "area_code, year, sex, age_band, population, source", 6, 0,
     NULL},
    {"institution",
     "id, code, name, tier, grade, ownership, area_code, beds_approved,"
     " beds_open, lat, lon, phone, active, version, updated_at",
     15, 1, "lat, lon"},
    {"practitioner", "id, name, sex, licence_no, active, version, updated_at",
     7, 1, NULL},
    {"practitioner_role",
     "id, practitioner_id, institution_id, role, active, version,"
     " updated_at",
     7, 1, NULL},
    {"app_user",
     "id, username, password_hash, role, scope_area, scope_institution,"
     " disabled, created_at, patient_id",
     9, 1, NULL},
    {"auth_token", "token_hash, user_id, created_at, expires_at, revoked", 5, 0,
     NULL},
    {"audit_event",
     "id, ts, user_id, username, role, action, operation, resource_type,"
     " resource_id, patient_id, outcome, address, request_id, detail",
     14, 1, NULL},
    /* migration 2: residents, master patient index, health record */
    {"fhir_version",
     "type, id, version, ts, deleted, method, user_id, patient_id, json", 9, 0,
     NULL},
    {"patient",
     "id, version, deleted, updated_ms, id_number, name, family, given,"
     " name_pinyin, sex, birth_date, birth_ms, phone, area_code,"
     " address_line, household, ethnicity, deceased_ms, active,"
     " merged_into, institution_id",
     21, 1, NULL},
    {"patient_identifier", "patient_id, system, value", 3, 0, NULL},
    {"mpi_review",
     "id, patient_a, patient_b, score, detail, status, created_ms,"
     " decided_ms, decided_by",
     9, 1, "score"},
    {"mpi_merge",
     "id, survivor_id, merged_id, ts, user_id, reason, moved, undone_ms,"
     " undone_by",
     9, 1, NULL},
    {"mpi_weight", "field, level, m, u, estimated_ms", 5, 0, "m, u"},
    {"encounter",
     "id, version, deleted, updated_ms, patient_id, status, class,"
     " type_code, institution_id, practitioner_id, start_ms, end_ms,"
     " reason_code, reason_text",
     14, 1, NULL},
    {"condition",
     "id, version, deleted, updated_ms, patient_id, encounter_id, code,"
     " code_system, clinical_status, verification_status, category,"
     " onset_ms, recorded_ms, institution_id",
     14, 1, NULL},
    {"observation",
     "id, version, deleted, updated_ms, patient_id, encounter_id, status,"
     " category, code, code_system, value_num, value_text, unit,"
     " interpretation, effective_ms, institution_id",
     16, 1, "value_num"},
    {"observation_component",
     "observation_id, code, code_system, value_num, value_text, unit", 6, 0,
     "value_num"},
    {"immunization",
     "id, version, deleted, updated_ms, patient_id, encounter_id, status,"
     " vaccine_code, vaccine_system, lot, dose_number, occurrence_ms,"
     " institution_id",
     13, 1, NULL},
    {"document_reference",
     "id, version, deleted, updated_ms, patient_id, encounter_id, status,"
     " type_code, type_system, date_ms, institution_id, content_type, size,"
     " title",
     14, 1, NULL},
    {"consent",
     "id, version, deleted, updated_ms, patient_id, status, provision,"
     " actor_institution_id, actor_area_code, start_ms, end_ms",
     11, 1, NULL},
    {"break_glass",
     "id, ts, user_id, patient_id, reason, request_id, reviewed_ms,"
     " reviewed_by, review_note",
     9, 1, NULL},
    {"bulk_export",
     "id, user_id, level, params, status, created_ms, completed_ms, error", 8,
     1, NULL},
    {"bulk_export_file", "export_id, type, seq, count, ndjson", 5, 0, NULL},
    /* migration 3: surveillance report cards and channel counts */
    {"surveil_card",
     "id, version, status, patient_id, id_number, area_code, township_code,"
     " county_code, address_line, occupation, classification, disease_code,"
     " disease_class, onset_ms, onset_day, diagnosis_ms, diagnosis_day,"
     " death_ms, institution_id, practitioner_id, doctor, report_ms, note,"
     " deadline_ms, late, audit_deadline_ms, audited_ms, audited_by,"
     " audit_late, audit_note, delete_reason, merged_into, created_ms,"
     " created_by, updated_ms",
     35, 1, NULL},
    {"surveil_card_version",
     "card_id, version, ts, user_id, action, status, json", 7, 0, NULL},
    {"surveil_card_dup",
     "id, card_a, card_b, status, created_ms, decided_ms, decided_by, note", 8,
     1, NULL},
    {"surveil_alert",
     "id, kind, disease_code, card_id, area_code, county_code, day,"
     " created_ms",
     8, 1, NULL},
    {"channel_count",
     "id, channel, area_code, township_code, county_code, institution_id,"
     " site, day, day_ms, category, count, denominator, source, updated_ms,"
     " user_id",
     15, 1, NULL},
    /* migration 4: surveillance signals and warnings */
    {"signal",
     "id, skey, kind, method, subject_type, subject, subject_name,"
     " area_code, day, period_start, observed, expected, upper_bound,"
     " severity, evidence, created_ms, pushed, deadline_ms, responded_ms,"
     " responded_by, state, escalated, escalated_ms, escalated_to,"
     " fused_into",
     25, 1, "observed, expected, upper_bound"},
    {"signal_event",
     "id, signal_id, ts, user_id, username, action, from_state, to_state,"
     " note",
     9, 1, NULL},
    {"warning",
     "id, signal_id, type, audience, area_code, content, issued_ms,"
     " issued_by",
     8, 1, NULL},
    {"warn_run",
     "day, started_ms, finished_ms, status, series, signals, detail", 7, 0,
     NULL},
    /* migration 5: the demo region (family-doctor contracts) */
    {"fd_contract",
     "id, patient_id, institution_id, practitioner_id, start_ms, end_ms,"
     " key_groups, created_ms",
     8, 1, NULL},
    /* migration 7: plan monitoring */
    {"plan",
     "id, area_code, name_zh, name_en, baseline_year, horizon,"
     " loaded_ms",
     7, 0, NULL},
    {"plan_target",
     "plan_id, row_no, kind, domain, name_zh, name_en, indicator, measure,"
     " direction, unit, baseline_year, baseline_text, baseline_num,"
     " target_year, target_text, op, target_num, change, attribute, source,"
     " quote",
     21, 0, "baseline_num, target_num"},
    {"plan_entered",
     "id, measure, area_code, year, value, source, person, note, user_id,"
     " username, entered_ms",
     11, 1, "value"},
    /* migration 6: plan monitoring aggregates */
    {"agg_count", "element, area_code, institution_id, day, value", 5, 0, NULL},
    {"agg_month", "element, area_code, month, value", 4, 0, NULL},
    /* migration 8: agg_pop is not copied: the triggers on population fill
     * it from the population rows copied above */
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static rhis_status
copy_table(rhis_db *src,
           rhis_db *dst,
           const table *t,
           int64_t *rows,
           char *err,
           size_t errlen)
{
    rhis_buf sel, ins;
    rhis_buf_init(&sel, 4096);
    rhis_buf_init(&ins, 4096);
    rhis_buf_puts(&sel, "SELECT ");
    rhis_buf_puts(&sel, t->columns);
    rhis_buf_puts(&sel, " FROM ");
    rhis_buf_puts(&sel, t->name);
    rhis_buf_puts(&ins, "INSERT INTO ");
    rhis_buf_puts(&ins, t->name);
    rhis_buf_puts(&ins, " (");
    rhis_buf_puts(&ins, t->columns);
    rhis_buf_puts(&ins, ") VALUES (");
    for (int i = 0; i < t->ncols; i++)
        rhis_buf_puts(&ins, i == 0 ? "?" : ", ?");
    rhis_buf_puts(&ins, ")");
    rhis_stmt *r = NULL, *w = NULL;
    rhis_status rc = rhis_db_prepare(src, sel.data, &r);
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(dst, ins.data, &w);
    /* which columns are doubles */
    char isdbl[64] = {0};
    RHIS_ASSERT(t->ncols <= (int)sizeof(isdbl));
    for (int i = 0, col = 0; t->doubles != NULL && t->columns[i] != '\0';
         col++) {
        size_t len = strcspn(t->columns + i, ",");
        const char *name = t->columns + i;
        for (const char *d = t->doubles; *d != '\0';) {
            size_t dl = strcspn(d, ",");
            if (dl == len && memcmp(d, name, len) == 0)
                isdbl[col] = 1;
            d += dl;
            d += strspn(d, ", ");
        }
        i += (int)len;
        i += (int)strspn(t->columns + i, ", ");
    }
    while (rc == RHIS_OK && (rc = rhis_db_step(r)) == RHIS_ROW) {
        rhis_db_reset(w);
        for (int i = 0; i < t->ncols; i++) {
            if (isdbl[i] && !rhis_db_column_is_null(r, i))
                rhis_db_bind_double(w, i + 1, rhis_db_column_double(r, i));
            else
                rhis_db_bind_text(w, i + 1, rhis_db_column_text(r, i));
        }
        rc = rhis_db_step(w);
        if (rc == RHIS_DONE) {
            (*rows)++;
            rc = RHIS_OK;
        }
    }
    if (rc == RHIS_DONE)
        rc = RHIS_OK;
    if (rc != RHIS_OK)
        (void)snprintf(err, errlen, "table %s: %s", t->name,
                       r == NULL ? rhis_db_errmsg(src) : rhis_db_errmsg(dst));
    rhis_db_finalize(r);
    rhis_db_finalize(w);
    rhis_buf_fini(&sel);
    rhis_buf_fini(&ins);
    if (rc == RHIS_OK && t->has_identity &&
        rhis_db_dialect(dst) == RHIS_DIALECT_POSTGRES) {
        /* move the identity past the copied ids */
        rhis_buf q;
        rhis_buf_init(&q, 1024);
        rhis_buf_puts(&q, "SELECT setval(pg_get_serial_sequence('");
        rhis_buf_puts(&q, t->name);
        rhis_buf_puts(&q, "', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM ");
        rhis_buf_puts(&q, t->name);
        rhis_buf_puts(&q, "), false)");
        rc = rhis_db_run(dst, q.data, "");
        rhis_buf_fini(&q);
        if (rc != RHIS_OK)
            (void)snprintf(err, errlen, "table %s: sequence: %s", t->name,
                           rhis_db_errmsg(dst));
    }
    return rc;
}

/*
 * Copies every table of src into dst.  Both must be at the same schema
 * version (the caller migrates them); dst must hold no users, institutions,
 * practitioners, audit events, patients or FHIR versions (reference tables
 * already there are
 * replaced).  All or nothing: on failure dst is left as it was.
 */
rhis_status
rhis_db_copy(
    rhis_db *src, rhis_db *dst, int64_t *rows, char *err, size_t errlen)
{
    *rows = 0;
    static const char *const must_be_empty[] = {
        "SELECT COUNT(*) FROM app_user",
        "SELECT COUNT(*) FROM institution",
        "SELECT COUNT(*) FROM practitioner",
        "SELECT COUNT(*) FROM audit_event",
        "SELECT COUNT(*) FROM patient",
        "SELECT COUNT(*) FROM fhir_version"};
    for (size_t i = 0; i < sizeof(must_be_empty) / sizeof(must_be_empty[0]);
         i++) {
        int64_t n = 0;
        rhis_status rc = rhis_db_scalar_int64(dst, &n, must_be_empty[i], "");
        if (rc != RHIS_OK || n != 0) {
            (void)snprintf(err, errlen,
                           "the target database is not empty (%s); copy into a "
                           "new database",
                           must_be_empty[i] + 21);
            return RHIS_ECONFLICT;
        }
    }
    rhis_status rc = rhis_db_begin(dst);
    /* reference tables a fresh init may have filled: replaced by the copy */
    if (rc == RHIS_OK)
        rc = rhis_db_exec(dst, "DELETE FROM plan_target; DELETE FROM plan;"
                               " DELETE FROM population; DELETE FROM area;"
                               " DELETE FROM meta");
    for (size_t i = 0; rc == RHIS_OK && i < NTABLES; i++)
        rc = copy_table(src, dst, &tables[i], rows, err, errlen);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(dst);
    if (rc != RHIS_OK)
        rhis_db_rollback(dst);
    return rc;
}
