/*
 * api_access.c - the platform API around access to records: the review
 * list of break-glass reads, and the access log of a record (for the
 * resident, and for an administrator).
 *
 * Why: break-glass only works as an emergency door if someone looks at
 * every opening afterwards; and the resident's right to see "who read my
 * record" is what makes the audit trail a promise rather than a file.
 * The shapes here ({"total", "items": [...]}) are what the web UI builds
 * its pages on; keep them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_int.h"
#include "rhis/handlers.h"
#include "rhis/json.h"

#define LIST_DEFAULT 50
#define LIST_MAX     200
#define NOTE_MAX     1000

/* _count and _offset of a list; any other parameter is a 400 unless it is
 * in `also` (NULL-terminated, may be NULL). */
static rhis_status
list_params(rhis_req *req, const char *const *also, int *count, int64_t *offset)
{
    *count = LIST_DEFAULT;
    *offset = 0;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        char *end;
        long long n = strtoll(v, &end, 10);
        int num = *v >= '0' && *v <= '9' && *end == '\0';
        if (strcmp(k, "_count") == 0) {
            if (!num || n < 1 || n > LIST_MAX) {
                rhis_req_error_expr(req, "_count");
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "_count must be an integer 1..%d",
                                       LIST_MAX);
            }
            *count = (int)n;
            continue;
        }
        if (strcmp(k, "_offset") == 0) {
            if (!num || n < 0) {
                rhis_req_error_expr(req, "_offset");
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "_offset must be a non-negative "
                                       "integer");
            }
            *offset = n;
            continue;
        }
        int known = 0;
        for (int j = 0; also != NULL && also[j] != NULL && !known; j++)
            known = strcmp(k, also[j]) == 0;
        if (!known)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' (supported: "
                                   "_count, _offset%s%s)",
                                   k, also != NULL ? ", " : "",
                                   also != NULL ? also[0] : "");
    }
    return RHIS_OK;
}

static json_object *
text_or_null(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

static json_object *
instant_or_null(rhis_stmt *st, int col)
{
    char buf[40];
    if (rhis_db_column_is_null(st, col))
        return NULL;
    rhis_fhir_instant_ms(rhis_db_column_int64(st, col), buf, sizeof(buf));
    return json_object_new_string(buf);
}

/* ---- access log ---- */

/*
 * Answers {"total", "items": [...]} with the audit events about the record
 * of root (and the records merged into it), newest first; events of user
 * exclude_user (the resident themself; 0 = none) are left out.
 */
static rhis_status
access_log(rhis_req *req, rhis_resp *resp, int64_t root, int64_t exclude_user)
{
    int count;
    int64_t offset, total = 0;
    rhis_status rc = list_params(req, NULL, &count, &offset);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add_ii(&w,
                          "a.patient_id IN (SELECT CAST(id AS TEXT) FROM"
                          " patient WHERE id = ? OR merged_into = ?)",
                          root, root);
    if (exclude_user != 0)
        rhis_sql_where_add(&w, "a.user_id IS NULL OR a.user_id <> ?", 'i',
                           exclude_user, NULL);
    rc = rhis_sql_where_count(db, &w, "audit_event a", &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(
            db, &w,
            "SELECT a.ts, a.username, a.role, i.name, a.operation,"
            " a.resource_type, a.outcome, a.detail FROM audit_event a"
            " LEFT JOIN app_user u ON u.id = a.user_id"
            " LEFT JOIN institution i ON i.id = u.scope_institution",
            "ORDER BY a.ts DESC, a.id DESC", count, offset, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read the access log");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = json_object_new_object();
        const char *op = rhis_db_column_text(st, 4);
        const char *detail = rhis_db_column_text(st, 7);
        json_object_object_add(it, "ts", instant_or_null(st, 0));
        json_object_object_add(it, "username",
                               text_or_null(rhis_db_column_text(st, 1)));
        json_object_object_add(it, "role",
                               text_or_null(rhis_db_column_text(st, 2)));
        json_object_object_add(it, "institution",
                               text_or_null(rhis_db_column_text(st, 3)));
        json_object_object_add(it, "operation", text_or_null(op));
        json_object_object_add(it, "resource_type",
                               text_or_null(rhis_db_column_text(st, 5)));
        json_object_object_add(
            it, "outcome", json_object_new_int64(rhis_db_column_int64(st, 6)));
        json_object_object_add(
            it, "break_glass",
            json_object_new_boolean(
                (op != NULL && strcmp(op, "break-glass") == 0) ||
                (detail != NULL && strcmp(detail, "break-glass") == 0)));
        json_object_array_add(items, it);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(items);
        return rhis_req_errorf(req, RHIS_EIO, "cannot read the access log");
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "total", json_object_new_int64(total));
    json_object_object_add(out, "items", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/*
 * GET /api/v1/me/access-log?_count=&_offset= - for a resident: who (other
 * than the resident) read or tried to read their record.
 */
rhis_status
api_me_access_log(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    if (rc != RHIS_OK)
        return rc;
    int64_t own = rhis_ehr_own_root(&c);
    if (own == 0)
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "your account is not linked to a Patient "
                               "record; ask the registry office to link it");
    return access_log(req, resp, own, req->user->user_id);
}

/*
 * GET /api/v1/patients/{id}/access-log - for an administrator within the
 * patient's area: every audit event about the record.
 */
rhis_status
api_patient_access_log(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_status rc =
        rhis_fhir_parse_id(req, "patient", rhis_req_param(req, "id"), &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_ehr_subject s;
    if (rhis_ehr_subject_load(db, id, &s) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read Patient/%lld",
                               (long long)id);
    if (!s.found)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "Patient/%lld not found",
                               (long long)id);
    req->audit_type = "Patient";
    req->audit_id = req->audit_patient =
        rhis_arena_printf(req->arena, "%lld", (long long)id);
    if (!rhis_principal_covers_area(req->user, s.area_code))
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "Patient/%lld lives outside your area scope",
                               (long long)id);
    return access_log(req, resp, s.root, 0);
}

/* ---- break-glass review ---- */

#define BG_SELECT                                                              \
    "SELECT b.id, b.ts, b.user_id, u.username, u.role, i.name,"                \
    " b.patient_id, b.reason, b.request_id, b.reviewed_ms, r.username,"        \
    " b.review_note FROM break_glass b"                                        \
    " LEFT JOIN app_user u ON u.id = b.user_id"                                \
    " LEFT JOIN institution i ON i.id = u.scope_institution"                   \
    " LEFT JOIN app_user r ON r.id = b.reviewed_by"
#define BG_FROM "break_glass b LEFT JOIN app_user u ON u.id = b.user_id"

/* One break_glass row (columns of BG_SELECT) as an item. */
static json_object *
bg_item(rhis_stmt *st)
{
    json_object *it = json_object_new_object();
    json_object_object_add(it, "id",
                           json_object_new_int64(rhis_db_column_int64(st, 0)));
    json_object_object_add(it, "ts", instant_or_null(st, 1));
    json_object_object_add(it, "user_id",
                           json_object_new_int64(rhis_db_column_int64(st, 2)));
    json_object_object_add(it, "username",
                           text_or_null(rhis_db_column_text(st, 3)));
    json_object_object_add(it, "role",
                           text_or_null(rhis_db_column_text(st, 4)));
    json_object_object_add(it, "institution",
                           text_or_null(rhis_db_column_text(st, 5)));
    json_object_object_add(it, "patient_id",
                           json_object_new_int64(rhis_db_column_int64(st, 6)));
    json_object_object_add(it, "reason",
                           text_or_null(rhis_db_column_text(st, 7)));
    json_object_object_add(it, "request_id",
                           text_or_null(rhis_db_column_text(st, 8)));
    json_object_object_add(it, "status",
                           json_object_new_string(rhis_db_column_is_null(st, 9)
                                                      ? "open"
                                                      : "reviewed"));
    json_object_object_add(it, "reviewed_ts", instant_or_null(st, 9));
    json_object_object_add(it, "reviewed_by",
                           text_or_null(rhis_db_column_text(st, 10)));
    json_object_object_add(it, "review_note",
                           text_or_null(rhis_db_column_text(st, 11)));
    return it;
}

/* Confines w to break-glass reads of patients inside the caller's area. */
static void
bg_scope(rhis_req *req, rhis_sql_where *w)
{
    const rhis_principal *u = req->user;
    const char *prefix =
        u->scope_institution != 0 ? u->inst_area : u->scope_area;
    if (prefix[0] == '\0' && u->scope_institution == 0)
        return;
    rhis_sql_where_add(w,
                       "b.patient_id IN (SELECT id FROM patient WHERE"
                       " area_code LIKE ?)",
                       's', 0, rhis_arena_printf(req->arena, "%s%%", prefix));
}

/*
 * GET /api/v1/break-glass?status=open|reviewed|all&_count=&_offset= - the
 * break-glass reads of patients in the caller's area (admin, cdc), newest
 * first; status defaults to open.
 */
rhis_status
api_break_glass_list(rhis_req *req, rhis_resp *resp)
{
    static const char *const also[] = {"status", NULL};
    int count;
    int64_t offset, total = 0;
    rhis_status rc = list_params(req, also, &count, &offset);
    if (rc != RHIS_OK)
        return rc;
    const char *status = rhis_req_query(req, "status");
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    if (status == NULL || strcmp(status, "open") == 0)
        rhis_sql_where_add(&w, "b.reviewed_ms IS NULL", 0, 0, NULL);
    else if (strcmp(status, "reviewed") == 0)
        rhis_sql_where_add(&w, "b.reviewed_ms IS NOT NULL", 0, 0, NULL);
    else if (strcmp(status, "all") != 0) {
        rhis_req_error_expr(req, "status");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "status must be open, reviewed or all");
    }
    bg_scope(req, &w);
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    req->audit_type = "BreakGlass";
    rc = rhis_sql_where_count(db, &w, BG_FROM, &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(db, &w, BG_SELECT,
                                   "ORDER BY b.ts DESC, b.id DESC", count,
                                   offset, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO,
                               "cannot read the break-glass list");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW)
        json_object_array_add(items, bg_item(st));
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(items);
        return rhis_req_errorf(req, RHIS_EIO,
                               "cannot read the break-glass list");
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "total", json_object_new_int64(total));
    json_object_object_add(out, "items", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* {"note": "..."}: the trimmed note (1..NOTE_MAX bytes), else a 400. */
static rhis_status
review_note(rhis_req *req, const char **note)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        if (strcmp(key, "note") != 0) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(
                req, RHIS_EINVAL, "unknown field '%.40s' (only \"note\")", key);
        }
    }
    const char *n = rhis_json_get_str(body, "note");
    rhis_req_error_expr(req, "note");
    if (n == NULL)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "\"note\" is required: a string saying what "
                               "the review found");
    while (*n == ' ' || *n == '\t' || *n == '\n' || *n == '\r')
        n++;
    size_t len = strlen(n);
    while (len > 0 && (n[len - 1] == ' ' || n[len - 1] == '\t' ||
                       n[len - 1] == '\n' || n[len - 1] == '\r'))
        len--;
    if (len == 0)
        return rhis_req_errorf(req, RHIS_EINVAL, "\"note\" must not be empty");
    if (len > NOTE_MAX)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "\"note\" is longer than %d bytes", NOTE_MAX);
    rhis_req_error_expr(req, NULL);
    *note = rhis_arena_strndup(req->arena, n, len);
    return RHIS_OK;
}

typedef struct bg_state {
    int64_t patient_id;
    int reviewed;
} bg_state;

static void
fill_bg_state(rhis_stmt *st, void *out)
{
    bg_state *s = out;
    s->patient_id = rhis_db_column_int64(st, 0);
    s->reviewed = !rhis_db_column_is_null(st, 1);
}

/*
 * POST /api/v1/break-glass/{id}/review {"note": "..."} - closes one
 * break-glass read (admin, cdc within the patient's area).  Audited in the
 * same transaction.  409 if it was already reviewed.
 */
rhis_status
api_break_glass_review(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    const char *note = NULL;
    rhis_status rc =
        rhis_fhir_parse_id(req, "break-glass", rhis_req_param(req, "id"), &id);
    if (rc == RHIS_OK)
        rc = review_note(req, &note);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    req->audit_type = "BreakGlass";
    req->audit_id = rhis_arena_printf(req->arena, "%lld", (long long)id);
    bg_state bs;
    rc = rhis_db_query_row(db, fill_bg_state, &bs,
                           "SELECT patient_id, reviewed_ms FROM break_glass"
                           " WHERE id = ?",
                           "i", id);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "break-glass %lld not found",
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read break-glass %lld",
                               (long long)id);
    req->audit_patient =
        rhis_arena_printf(req->arena, "%lld", (long long)bs.patient_id);
    rhis_ehr_subject s;
    if (rhis_ehr_subject_load(db, bs.patient_id, &s) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read the patient");
    if (!rhis_principal_covers_area(req->user, s.area_code))
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "break-glass %lld concerns a patient outside "
                               "your area scope",
                               (long long)id);
    if (bs.reviewed)
        return rhis_req_errorf(req, RHIS_ECONFLICT,
                               "break-glass %lld was already reviewed",
                               (long long)id);
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rc;
    if (rhis_db_begin(db) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EBUSY, "database busy");
    rc = rhis_db_run(db,
                     "UPDATE break_glass SET reviewed_ms = ?, reviewed_by = ?,"
                     " review_note = ? WHERE id = ? AND reviewed_ms IS NULL",
                     "iisi", c.now_ms, req->user->user_id, note, id);
    if (rc == RHIS_OK && rhis_db_changes(db) != 1)
        rc = RHIS_ECONFLICT; /* reviewed by someone else meanwhile */
    if (rc == RHIS_OK)
        rc = rhis_req_audit(req, db, "U", "break-glass review", "BreakGlass",
                            req->audit_id, 200);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        req->audit_done = 0;
        if (rc == RHIS_ECONFLICT)
            return rhis_req_errorf(req, rc,
                                   "break-glass %lld was already reviewed",
                                   (long long)id);
        return rhis_req_errorf(req, RHIS_EIO,
                               "cannot save the review of break-glass %lld",
                               (long long)id);
    }
    rhis_stmt *st = NULL;
    rc = rhis_db_query(db, &st, BG_SELECT " WHERE b.id = ?", "i", id);
    if (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = bg_item(st);
        rhis_resp_json(resp, 200, it);
        json_object_put(it);
        rc = RHIS_OK;
    } else if (rc == RHIS_OK || rc == RHIS_DONE) {
        rc = rhis_req_errorf(req, RHIS_EIO, "cannot read break-glass %lld",
                             (long long)id);
    }
    rhis_db_finalize(st);
    return rc;
}
