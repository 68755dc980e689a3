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
    int has_identity; /* an auto-numbered id column */
} table;

static const table tables[] = {
    {"meta", "key, value", 2, 0},
    {"area", "code, name, level, parent_code, edition", 5, 0},
    {"population", "area_code, year, sex, age_band, population, source", 6, 0},
    {"institution",
     "id, code, name, tier, grade, ownership, area_code, beds_approved,"
     " beds_open, lat, lon, phone, active, version, updated_at",
     15, 1},
    {"practitioner", "id, name, sex, licence_no, active, version, updated_at",
     7, 1},
    {"practitioner_role",
     "id, practitioner_id, institution_id, role, active, version,"
     " updated_at",
     7, 1},
    {"app_user",
     "id, username, password_hash, role, scope_area, scope_institution,"
     " disabled, created_at",
     8, 1},
    {"auth_token", "token_hash, user_id, created_at, expires_at, revoked", 5,
     0},
    {"audit_event",
     "id, ts, user_id, username, role, action, operation, resource_type,"
     " resource_id, patient_id, outcome, address, request_id, detail",
     14, 1},
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
    while (rc == RHIS_OK && (rc = rhis_db_step(r)) == RHIS_ROW) {
        rhis_db_reset(w);
        for (int i = 0; i < t->ncols; i++)
            rhis_db_bind_text(w, i + 1, rhis_db_column_text(r, i));
        rc = rhis_db_step(w);
        if (rc == RHIS_DONE) {
            (*rows)++;
            rc = RHIS_OK;
        }
    }
    if (rc == RHIS_DONE)
        rc = RHIS_OK;
    if (rc != RHIS_OK)
        snprintf(err, errlen, "table %s: %s", t->name,
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
            snprintf(err, errlen, "table %s: sequence: %s", t->name,
                     rhis_db_errmsg(dst));
    }
    return rc;
}

/*
 * Copies every table of src into dst.  Both must be at the same schema
 * version (the caller migrates them); dst must hold no users, institutions,
 * practitioners or audit events (reference tables already there are
 * replaced).  All or nothing: on failure dst is left as it was.
 */
rhis_status
rhis_db_copy(
    rhis_db *src, rhis_db *dst, int64_t *rows, char *err, size_t errlen)
{
    *rows = 0;
    static const char *const must_be_empty[] = {
        "SELECT COUNT(*) FROM app_user", "SELECT COUNT(*) FROM institution",
        "SELECT COUNT(*) FROM practitioner",
        "SELECT COUNT(*) FROM audit_event"};
    for (size_t i = 0; i < sizeof(must_be_empty) / sizeof(must_be_empty[0]);
         i++) {
        int64_t n = 0;
        rhis_status rc = rhis_db_scalar_int64(dst, &n, must_be_empty[i], "");
        if (rc != RHIS_OK || n != 0) {
            snprintf(err, errlen,
                     "the target database is not empty (%s); copy into a "
                     "new database",
                     must_be_empty[i] + 21);
            return RHIS_ECONFLICT;
        }
    }
    rhis_status rc = rhis_db_begin(dst);
    /* reference tables a fresh init may have filled: replaced by the copy */
    if (rc == RHIS_OK)
        rc = rhis_db_exec(dst, "DELETE FROM population; DELETE FROM area;"
                               " DELETE FROM meta");
    for (size_t i = 0; rc == RHIS_OK && i < NTABLES; i++)
        rc = copy_table(src, dst, &tables[i], rows, err, errlen);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(dst);
    if (rc != RHIS_OK)
        rhis_db_rollback(dst);
    return rc;
}
