/*
 * api_cards.c - report cards over HTTP: /api/v1/report-cards (create,
 * read, search, revise, delete, audit, versions, duplicates, merge), the
 * disease catalogue (/api/v1/diseases) and the FHIR view of a card.
 *
 * Why: a platform endpoint, not a FHIR store type (docs/decisions.md): a
 * card has a workflow (pending -> audited/rejected, deleted, merged) with
 * deadlines and a review queue that FHIR's CRUD does not express, and it
 * is a public-health record the CDC owns rather than an entry in the
 * patient's clinical record.  Its FHIR R4 face is a Condition
 * (GET .../{id}/fhir), mapped in docs/internals/surveil.md.  Handlers
 * parse, call card.c through rhis/surveil.h and answer; the rules live
 * there, so the demo generator gets exactly the same checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/csv.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "surveil_int.h"

#define LIST_DEFAULT 50
#define LIST_MAX     200

static rhis_status
path_id(rhis_req *req, const char *name, int64_t *id)
{
    return rhis_fhir_parse_id(req, "report card", rhis_req_param(req, name),
                              id);
}

static const char *
id_text(rhis_req *req, int64_t id)
{
    return rhis_arena_printf(req->arena, "%lld", (long long)id);
}

/* Answers the current row of card id (status code, extra fields). */
static rhis_status
answer_card(rhis_req *req,
            rhis_resp *resp,
            rhis_db *db,
            int64_t id,
            int status,
            const rhis_card_result *r)
{
    rhis_stmt *st = NULL;
    rhis_status rc =
        rhis_db_query(db, &st, SURV_CARD_SELECT " WHERE c.id = ?", "i", id);
    if (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *o = surv_card_json(st, 0, (int64_t)time(NULL) * 1000);
        if (r != NULL) {
            json_object_object_add(o, "duplicate_of",
                                   r->duplicate_of != 0
                                       ? json_object_new_int64(r->duplicate_of)
                                       : NULL);
            json_object_object_add(
                o, "alert_id",
                r->alert_id != 0 ? json_object_new_int64(r->alert_id) : NULL);
        }
        char *etag = rhis_arena_printf(req->arena, "W/\"%lld\"",
                                       (long long)rhis_db_column_int64(st, 1));
        rhis_resp_header(resp, "ETag", etag);
        if (status == 201)
            rhis_resp_header(resp, "Location",
                             rhis_arena_printf(req->arena,
                                               "/api/v1/report-cards/%lld",
                                               (long long)id));
        rhis_resp_json(resp, status, o);
        json_object_put(o);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = rhis_req_errorf(req, RHIS_ENOTFOUND, "report card %lld not found",
                             (long long)id);
    } else {
        rc = rhis_req_errorf(req, RHIS_EIO, "cannot read report card %lld",
                             (long long)id);
    }
    rhis_db_finalize(st);
    return rc;
}

/* ---- create and revise ---- */

typedef struct card_job {
    rhis_card card;
    int64_t id, if_version;
    const char *decision, *note;
    int64_t other;
} card_job;

static rhis_status
ctx_fail(rhis_req *req, rhis_fhir_ctx *c, rhis_status rc)
{
    if (req->err_status == RHIS_OK)
        return rhis_req_errorf(req, rc, "%s",
                               c->err_text[0] != '\0' ? c->err_text
                                                      : "request failed");
    return req->err_status;
}

static rhis_status
create_commit(rhis_req *req, rhis_resp *resp)
{
    card_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    rhis_card_result r;
    if (rc == RHIS_OK)
        rc = rhis_card_create(&c, &j->card, &r);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, r.id);
    req->audit_patient = id_text(req, c.last_patient_id);
    return answer_card(req, resp, c.db, r.id, 201, &r);
}

/* Parses the body into a new job on the request. */
static rhis_status
parse_job(rhis_req *req, card_job **out)
{
    *out = NULL;
    card_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    rhis_fhir_ctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.arena = req->arena;
    c.user = req->user;
    rhis_status rc = rhis_card_parse(&c, req->body != NULL ? req->body : "",
                                     req->body_len, &j->card);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    req->defer_data = j;
    *out = j;
    return RHIS_OK;
}

/* POST /api/v1/report-cards */
rhis_status
api_card_create(rhis_req *req, rhis_resp *resp)
{
    card_job *j;
    rhis_status rc = parse_job(req, &j);
    if (rc != RHIS_OK)
        return rc;
    return rhis_req_write(req, resp, create_commit);
}

static rhis_status
revise_commit(rhis_req *req, rhis_resp *resp)
{
    card_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    rhis_card_result r;
    if (rc == RHIS_OK)
        rc = rhis_card_revise(&c, j->id, &j->card, j->if_version, &r);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    req->audit_patient = id_text(req, c.last_patient_id);
    return answer_card(req, resp, c.db, j->id, 200, &r);
}

/* If-Match: W/"n" or "n" or n; 0 when absent. */
static rhis_status
if_match(rhis_req *req, int64_t *out)
{
    const char *h = rhis_req_header(req, "If-Match");
    *out = 0;
    if (h == NULL)
        return RHIS_OK;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"')
        h = rhis_arena_strndup(req->arena, h + 1, n - 2);
    long long v = rhis_parse_int64(h);
    if (v < 1) {
        rhis_req_error_expr(req, "If-Match");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "If-Match must be W/\"<version>\"");
    }
    *out = v;
    return RHIS_OK;
}

/* PUT /api/v1/report-cards/{id}: a revision (订正), a new version. */
rhis_status
api_card_revise(rhis_req *req, rhis_resp *resp)
{
    int64_t id, want;
    rhis_status rc = path_id(req, "id", &id);
    if (rc == RHIS_OK)
        rc = if_match(req, &want);
    card_job *j = NULL;
    if (rc == RHIS_OK)
        rc = parse_job(req, &j);
    if (rc != RHIS_OK || j == NULL)
        return rc != RHIS_OK ? rc : RHIS_EINTERNAL;
    j->id = id;
    j->if_version = want;
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, id);
    return rhis_req_write(req, resp, revise_commit);
}

/* ---- audit, delete, merge, not-duplicate ---- */

/* Reads a small JSON body of the allowed string/integer keys. */
static rhis_status
small_body(rhis_req *req,
           const char *const *keys,
           const char **s1,
           const char **s2,
           int64_t *n)
{
    json_object *b;
    rhis_status rc = rhis_req_json(req, &b);
    if (rc != RHIS_OK)
        return rc;
    if (!json_object_is_type(b, json_type_object))
        return rhis_req_errorf(req, RHIS_EINVAL, "the body is a JSON object");
    json_object_object_foreach(b, key, val)
    {
        int known = -1;
        for (int i = 0; keys[i] != NULL; i++)
            if (strcmp(keys[i], key) == 0)
                known = i;
        if (known < 0) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(req, RHIS_EINVAL, "unknown field '%.40s'",
                                   key);
        }
        if (known < 2) {
            if (!json_object_is_type(val, json_type_string)) {
                rhis_req_error_expr(req, key);
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "'%s' must be a string", key);
            }
            const char *v = json_object_get_string(val);
            *(known == 0 ? s1 : s2) = rhis_arena_strdup(req->arena, v);
        } else {
            if (!json_object_is_type(val, json_type_int) ||
                json_object_get_int64(val) < 1) {
                rhis_req_error_expr(req, key);
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "'%s' must be a positive integer id",
                                       key);
            }
            *n = json_object_get_int64(val);
        }
    }
    return RHIS_OK;
}

static rhis_status
audit_commit(rhis_req *req, rhis_resp *resp)
{
    card_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    if (rc == RHIS_OK)
        rc = rhis_card_audit(&c, j->id, j->decision, j->note);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    return answer_card(req, resp, c.db, j->id, 200, NULL);
}

/* POST /api/v1/report-cards/{id}/audit {"decision", "note"} */
rhis_status
api_card_audit(rhis_req *req, rhis_resp *resp)
{
    static const char *const keys[] = {"decision", "note", NULL};
    card_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    rhis_status rc = path_id(req, "id", &j->id);
    if (rc == RHIS_OK)
        rc = small_body(req, keys, &j->decision, &j->note, NULL);
    if (rc != RHIS_OK)
        return rc;
    if (j->decision == NULL) {
        rhis_req_error_expr(req, "decision");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "\"decision\" (audited or rejected) is "
                               "required");
    }
    req->defer_data = j;
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, j->id);
    return rhis_req_write(req, resp, audit_commit);
}

static rhis_status
delete_commit(rhis_req *req, rhis_resp *resp)
{
    card_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    if (rc == RHIS_OK)
        rc = rhis_card_delete(&c, j->id, j->note);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    return answer_card(req, resp, c.db, j->id, 200, NULL);
}

/* POST /api/v1/report-cards/{id}/delete {"reason"} */
rhis_status
api_card_delete(rhis_req *req, rhis_resp *resp)
{
    static const char *const keys[] = {"reason", NULL};
    card_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    rhis_status rc = path_id(req, "id", &j->id);
    if (rc == RHIS_OK)
        rc = small_body(req, keys, &j->note, NULL, NULL);
    if (rc != RHIS_OK)
        return rc;
    req->defer_data = j;
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, j->id);
    return rhis_req_write(req, resp, delete_commit);
}

static rhis_status
merge_commit(rhis_req *req, rhis_resp *resp)
{
    card_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    if (rc == RHIS_OK)
        rc = j->decision != NULL
                 ? rhis_card_not_duplicate(&c, j->id, j->other, j->note)
                 : rhis_card_merge(&c, j->other, j->id, j->note);
    if (rc != RHIS_OK)
        return ctx_fail(req, &c, rc);
    return answer_card(req, resp, c.db, j->id, 200, NULL);
}

/* POST /api/v1/report-cards/{id}/merge {"into": keep, "note"} and
 * POST /api/v1/report-cards/{id}/not-duplicate {"other": id, "note"} */
static rhis_status
merge_like(rhis_req *req, rhis_resp *resp, int separate)
{
    static const char *const kmerge[] = {"note", "-", "into", NULL};
    static const char *const ksep[] = {"note", "-", "other", NULL};
    card_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    const char *unused = NULL;
    rhis_status rc = path_id(req, "id", &j->id);
    if (rc == RHIS_OK)
        rc = small_body(req, separate ? ksep : kmerge, &j->note, &unused,
                        &j->other);
    if (rc != RHIS_OK)
        return rc;
    if (j->other == 0) {
        rhis_req_error_expr(req, separate ? "other" : "into");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "\"%s\" (a card id) is "
                               "required",
                               separate ? "other" : "into");
    }
    j->decision = separate ? "separate" : NULL;
    req->defer_data = j;
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, j->id);
    return rhis_req_write(req, resp, merge_commit);
}

rhis_status
api_card_merge(rhis_req *req, rhis_resp *resp)
{
    return merge_like(req, resp, 0);
}

rhis_status
api_card_not_duplicate(rhis_req *req, rhis_resp *resp)
{
    return merge_like(req, resp, 1);
}

/* ---- reads ---- */

/* Confines w (cards aliased c) to the caller's scope. */
static void
card_scope(rhis_req *req, rhis_sql_where *w)
{
    const rhis_principal *u = req->user;
    if (u->scope_institution != 0) {
        rhis_sql_where_add(w, "c.institution_id = ?", 'i', u->scope_institution,
                           NULL);
        return;
    }
    if (u->scope_area[0] == '\0')
        return;
    const char *pat = rhis_arena_printf(req->arena, "%s%%", u->scope_area);
    rhis_sql_where_add2(w,
                        "(c.area_code LIKE ? OR c.institution_id IN (SELECT"
                        " id FROM institution WHERE area_code LIKE ?))",
                        pat, pat);
}

/*
 * Resolves {id} to a card the caller may see: 404 if there is none, 403
 * outside the caller's scope; sets the request's audit fields (the read
 * of a card discloses a patient's diagnosis).
 */
static rhis_status
card_access(rhis_req *req, rhis_db **db, int64_t *id)
{
    rhis_status rc = path_id(req, "id", id);
    if (rc != RHIS_OK)
        return rc;
    if ((rc = rhis_req_db(req, db)) != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rc;
    if ((rc = surv_catalogue(&c)) != RHIS_OK)
        return rc;
    req->audit_type = "ReportCard";
    req->audit_id = id_text(req, *id);
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "c.id = ?", 'i', *id, NULL);
    int64_t n = 0, any = 0;
    if (rhis_sql_where_count(*db, &w, "surveil_card c", &any) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read report cards");
    card_scope(req, &w);
    if (rhis_sql_where_count(*db, &w, "surveil_card c", &n) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read report cards");
    if (any == 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "report card %lld not found", (long long)*id);
    if (n == 0)
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "report card %lld is outside your scope",
                               (long long)*id);
    int64_t pid = 0;
    (void)rhis_db_scalar_int64(*db, &pid,
                               "SELECT patient_id FROM surveil_card WHERE"
                               " id = ?",
                               "i", *id);
    req->audit_patient = id_text(req, pid);
    return RHIS_OK;
}

/* GET /api/v1/report-cards/{id} */
rhis_status
api_card_read(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_db *db;
    rhis_status rc = card_access(req, &db, &id);
    if (rc != RHIS_OK)
        return rc;
    return answer_card(req, resp, db, id, 200, NULL);
}

/* _count, _offset and the listed filters; anything else is a 400. */
static rhis_status
list_params(rhis_req *req, const char *const *also, int *count, int64_t *offset)
{
    *count = LIST_DEFAULT;
    *offset = 0;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        long long n = rhis_parse_int64(v);
        if (strcmp(k, "_count") == 0) {
            if (n < 1 || n > LIST_MAX) {
                rhis_req_error_expr(req, "_count");
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "_count must be an integer 1..%d",
                                       LIST_MAX);
            }
            *count = (int)n;
            continue;
        }
        if (strcmp(k, "_offset") == 0) {
            if (n < 0) {
                rhis_req_error_expr(req, "_offset");
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "_offset must be a non-negative "
                                       "integer");
            }
            *offset = n;
            continue;
        }
        int known = 0;
        for (int j = 0; also[j] != NULL && !known; j++)
            known = strcmp(k, also[j]) == 0;
        if (!known) {
            rhis_req_error_expr(req, k);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s'", k);
        }
    }
    return RHIS_OK;
}

static rhis_status
day_param(rhis_req *req, const char *key, const char **out)
{
    const char *v = rhis_req_query(req, key);
    int64_t ms;
    *out = v;
    if (v != NULL && rhis_surv_day_ms(v, &ms) != RHIS_OK) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be a date YYYY-MM-DD",
                               key);
    }
    return RHIS_OK;
}

/*
 * GET /api/v1/report-cards?status=&disease=&area=&patient=&from=&to=
 *     &late=true|false&overdue=true&_count=&_offset=
 * The audit queue is status=pending (ordered by audit deadline); other
 * lists are newest report first.  ID numbers are masked.
 */
rhis_status
api_card_search(rhis_req *req, rhis_resp *resp)
{
    static const char *const also[] = {"status",  "disease", "area",
                                       "patient", "from",    "to",
                                       "late",    "overdue", NULL};
    int count;
    int64_t offset, total = 0;
    rhis_status rc = list_params(req, also, &count, &offset);
    const char *from = NULL, *to = NULL;
    if (rc == RHIS_OK)
        rc = day_param(req, "from", &from);
    if (rc == RHIS_OK)
        rc = day_param(req, "to", &to);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK ||
        (rc = surv_catalogue(&c)) != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    const char *status = rhis_req_query(req, "status");
    if (status != NULL) {
        static const char *const st[] = {"pending", "audited", "rejected",
                                         "deleted", "merged",  NULL};
        int ok = 0;
        for (int i = 0; st[i] != NULL; i++)
            ok |= strcmp(st[i], status) == 0;
        if (!ok) {
            rhis_req_error_expr(req, "status");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "status must be pending, audited, "
                                   "rejected, deleted or merged");
        }
        rhis_sql_where_add(&w, "c.status = ?", 's', 0, status);
    }
    const char *v;
    if ((v = rhis_req_query(req, "disease")) != NULL)
        rhis_sql_where_add(&w, "c.disease_code = ?", 's', 0, v);
    if ((v = rhis_req_query(req, "area")) != NULL) {
        if (strlen(v) > 12 || strspn(v, "0123456789") != strlen(v) ||
            v[0] == '\0') {
            rhis_req_error_expr(req, "area");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "area must be a division code prefix");
        }
        rhis_sql_where_add(&w, "c.area_code LIKE ?", 's', 0,
                           rhis_arena_printf(req->arena, "%s%%", v));
    }
    if ((v = rhis_req_query(req, "patient")) != NULL) {
        int64_t pid;
        if (strncmp(v, "Patient/", 8) == 0)
            v += 8;
        if ((rc = rhis_fhir_parse_id(req, "patient", v, &pid)) != RHIS_OK)
            return rc;
        rhis_sql_where_add(&w, "c.patient_id = ?", 'i', pid, NULL);
    }
    if (from != NULL)
        rhis_sql_where_add(&w, "c.diagnosis_day >= ?", 's', 0, from);
    if (to != NULL)
        rhis_sql_where_add(&w, "c.diagnosis_day <= ?", 's', 0, to);
    if ((v = rhis_req_query(req, "late")) != NULL) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            rhis_req_error_expr(req, "late");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "late must be true or false");
        }
        rhis_sql_where_add(&w, "c.late = ?", 'i', strcmp(v, "true") == 0, NULL);
    }
    if ((v = rhis_req_query(req, "overdue")) != NULL) {
        if (strcmp(v, "true") != 0) {
            rhis_req_error_expr(req, "overdue");
            return rhis_req_errorf(req, RHIS_EINVAL, "overdue must be true");
        }
        rhis_sql_where_add(&w,
                           "c.status = 'pending' AND c.audit_deadline_ms < ?",
                           'i', c.now_ms, NULL);
    }
    card_scope(req, &w);
    req->audit_type = "ReportCard";
    rhis_db *db = c.db;
    rc = rhis_sql_where_count(db, &w, "surveil_card c", &total);
    rhis_stmt *st = NULL;
    const char *order = status != NULL && strcmp(status, "pending") == 0
                            ? "ORDER BY c.audit_deadline_ms, c.id"
                            : "ORDER BY c.report_ms DESC, c.id DESC";
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(db, &w, SURV_CARD_SELECT, order, count,
                                   offset, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot search report cards");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW)
        json_object_array_add(items, surv_card_json(st, 1, c.now_ms));
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(items);
        return rhis_req_errorf(req, RHIS_EIO, "cannot search report cards");
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "total", json_object_new_int64(total));
    json_object_object_add(out, "items", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* GET /api/v1/report-cards/{id}/versions */
rhis_status
api_card_versions(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_db *db;
    rhis_status rc = card_access(req, &db, &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st = NULL;
    rc = rhis_db_query(db, &st,
                       "SELECT v.version, v.ts, v.user_id, u.username,"
                       " v.action, v.status, v.json FROM surveil_card_version"
                       " v LEFT JOIN app_user u ON u.id = v.user_id"
                       " WHERE v.card_id = ? ORDER BY v.version",
                       "i", id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read versions");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = json_object_new_object();
        char ts[40];
        surv_format_time(rhis_db_column_int64(st, 1), ts, sizeof(ts));
        json_object_object_add(
            it, "version", json_object_new_int64(rhis_db_column_int64(st, 0)));
        json_object_object_add(it, "ts", json_object_new_string(ts));
        const char *un = rhis_db_column_text(st, 3);
        json_object_object_add(it, "username",
                               un != NULL ? json_object_new_string(un) : NULL);
        json_object_object_add(
            it, "action", json_object_new_string(rhis_db_column_text(st, 4)));
        json_object_object_add(
            it, "status", json_object_new_string(rhis_db_column_text(st, 5)));
        json_object *card = NULL;
        const char *js = rhis_db_column_text(st, 6);
        char err[100];
        if (rhis_json_parse(js, strlen(js), 8, &card, err, sizeof(err)) !=
            RHIS_OK)
            card = NULL;
        json_object_object_add(it, "card", card);
        json_object_array_add(items, it);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(items);
        return rhis_req_errorf(req, RHIS_EIO, "cannot read versions");
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "id", json_object_new_int64(id));
    json_object_object_add(out, "versions", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/*
 * GET /api/v1/report-cards/duplicates?status=open|merged|separate - pairs
 * of cards of one person and disease within RHIS_CARD_DUP_DAYS, both in
 * the caller's scope; open pairs only where both cards are still live.
 */
rhis_status
api_card_duplicates(rhis_req *req, rhis_resp *resp)
{
    static const char *const also[] = {"status", NULL};
    int count;
    int64_t offset, total = 0;
    rhis_status rc = list_params(req, also, &count, &offset);
    if (rc != RHIS_OK)
        return rc;
    const char *status = rhis_req_query(req, "status");
    if (status == NULL)
        status = "open";
    if (strcmp(status, "open") != 0 && strcmp(status, "merged") != 0 &&
        strcmp(status, "separate") != 0) {
        rhis_req_error_expr(req, "status");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "status must be open, merged or separate");
    }
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK ||
        (rc = surv_catalogue(&c)) != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "d.status = ?", 's', 0, status);
    if (strcmp(status, "open") == 0)
        rhis_sql_where_add(&w,
                           "d.card_a IN (SELECT id FROM surveil_card WHERE"
                           " status NOT IN ('deleted','merged')) AND d.card_b"
                           " IN (SELECT id FROM surveil_card WHERE status"
                           " NOT IN ('deleted','merged'))",
                           0, 0, NULL);
    /* both cards in scope: c is card_a; card_b is checked alike below */
    card_scope(req, &w);
    const rhis_principal *u = req->user;
    if (u->scope_institution != 0)
        rhis_sql_where_add(&w,
                           "d.card_b IN (SELECT id FROM surveil_card WHERE"
                           " institution_id = ?)",
                           'i', u->scope_institution, NULL);
    else if (u->scope_area[0] != '\0')
        rhis_sql_where_add(
            &w,
            "d.card_b IN (SELECT id FROM surveil_card WHERE"
            " area_code LIKE ?)",
            's', 0, rhis_arena_printf(req->arena, "%s%%", u->scope_area));
    req->audit_type = "ReportCard";
    rhis_db *db = c.db;
    const char *from = "surveil_card_dup d JOIN surveil_card c"
                       " ON c.id = d.card_a";
    rc = rhis_sql_where_count(db, &w, from, &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(
            db, &w,
            "SELECT d.id, d.card_a, d.card_b, d.status, d.created_ms,"
            " d.decided_ms, d.note, c.disease_code, c.patient_id"
            " FROM surveil_card_dup d JOIN surveil_card c ON c.id = d.card_a",
            "ORDER BY d.created_ms DESC, d.id DESC", count, offset, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read duplicates");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = json_object_new_object();
        char ts[40];
        json_object_object_add(
            it, "id", json_object_new_int64(rhis_db_column_int64(st, 0)));
        json_object_object_add(
            it, "card_a", json_object_new_int64(rhis_db_column_int64(st, 1)));
        json_object_object_add(
            it, "card_b", json_object_new_int64(rhis_db_column_int64(st, 2)));
        json_object_object_add(
            it, "status", json_object_new_string(rhis_db_column_text(st, 3)));
        surv_format_time(rhis_db_column_int64(st, 4), ts, sizeof(ts));
        json_object_object_add(it, "created", json_object_new_string(ts));
        if (!rhis_db_column_is_null(st, 5)) {
            surv_format_time(rhis_db_column_int64(st, 5), ts, sizeof(ts));
            json_object_object_add(it, "decided", json_object_new_string(ts));
        }
        const char *note = rhis_db_column_text(st, 6);
        if (note != NULL)
            json_object_object_add(it, "note", json_object_new_string(note));
        json_object_object_add(
            it, "disease", json_object_new_string(rhis_db_column_text(st, 7)));
        json_object_object_add(
            it, "patient_id",
            json_object_new_int64(rhis_db_column_int64(st, 8)));
        json_object_array_add(items, it);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(items);
        return rhis_req_errorf(req, RHIS_EIO, "cannot read duplicates");
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "total", json_object_new_int64(total));
    json_object_object_add(out, "items", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* ---- the catalogue and vocabularies ---- */

static json_object *
disease_json(const rhis_disease *d)
{
    static const char *const cls[] = {"", "A", "B", "C", "other"};
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(d->code));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "name_en", json_object_new_string(d->name_en));
    json_object_object_add(o, "class", json_object_new_string(cls[d->dclass]));
    json_object_object_add(o, "managed_as_a",
                           json_object_new_boolean(d->managed_as_a));
    json_object_object_add(o, "icd10", json_object_new_string(d->icd10));
    json_object_object_add(o, "deadline_hours",
                           json_object_new_int(d->deadline_hours));
    json_object_object_add(o, "fixed_threshold",
                           json_object_new_boolean(d->fixed_threshold));
    json_object_object_add(
        o, "mpm_percentile",
        d->mpm_percentile != 0 ? json_object_new_int(d->mpm_percentile) : NULL);
    json_object_object_add(o, "min_cases", json_object_new_int(d->min_cases));
    json_object_object_add(o, "valid_from",
                           json_object_new_string(d->valid_from));
    json_object_object_add(
        o, "valid_to",
        d->valid_to[0] != '\0' ? json_object_new_string(d->valid_to) : NULL);
    return o;
}

/*
 * GET /api/v1/diseases?date=YYYY-MM-DD|all - the catalogue in force on a
 * Beijing day (default today), or every version with date=all.
 */
rhis_status
api_disease_list(rhis_req *req, rhis_resp *resp)
{
    for (int i = 0; i < req->query.n; i++)
        if (strcmp(req->query.kv[i].key, "date") != 0) {
            rhis_req_error_expr(req, req->query.kv[i].key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' (only date)",
                                   req->query.kv[i].key);
        }
    rhis_fhir_ctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.arena = req->arena;
    rhis_status rc = surv_catalogue(&c);
    if (rc != RHIS_OK)
        return rc;
    const char *date = rhis_req_query(req, "date");
    char today[11];
    int all = date != NULL && strcmp(date, "all") == 0;
    if (date == NULL) {
        rhis_surv_day_of((int64_t)time(NULL) * 1000, today);
        date = today;
    } else if (!all && (rc = day_param(req, "date", &date)) != RHIS_OK) {
        return rc;
    }
    size_t n;
    const rhis_disease *d = rhis_disease_all(&n);
    json_object *items = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (!all &&
            (strcmp(d[i].valid_from, date) > 0 ||
             (d[i].valid_to[0] != '\0' && strcmp(date, d[i].valid_to) > 0)))
            continue;
        json_object_array_add(items, disease_json(&d[i]));
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "date",
                           all ? json_object_new_string("all")
                               : json_object_new_string(date));
    json_object_object_add(out, "diseases", items);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* GET /api/v1/report-cards/vocabulary: occupations, classifications. */
rhis_status
api_card_vocabulary(rhis_req *req, rhis_resp *resp)
{
    (void)req;
    static const struct {
        const char *code, *label;
    } cls[] = {{RHIS_CARD_SUSPECTED, "疑似病例"},
               {RHIS_CARD_CLINICAL, "临床诊断病例"},
               {RHIS_CARD_CONFIRMED, "确诊病例"},
               {RHIS_CARD_CARRIER, "病原携带者"}};
    json_object *occ = json_object_new_array();
    const char *label, *code;
    for (size_t i = 0; (code = rhis_card_occupation_at(i, &label)) != NULL;
         i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "code", json_object_new_string(code));
        json_object_object_add(o, "label", json_object_new_string(label));
        json_object_array_add(occ, o);
    }
    json_object *cl = json_object_new_array();
    for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "code", json_object_new_string(cls[i].code));
        json_object_object_add(o, "label",
                               json_object_new_string(cls[i].label));
        json_object_array_add(cl, o);
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "occupations", occ);
    json_object_object_add(out, "classifications", cl);
    json_object_object_add(out, "duplicate_window_days",
                           json_object_new_int(RHIS_CARD_DUP_DAYS));
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* ---- the FHIR view ---- */

#define SYS_DISEASE "https://rhis.cn/fhir/CodeSystem/notifiable-disease"
#define SYS_CARD    "https://rhis.cn/fhir/sid/report-card"
#define SYS_CLIN    "http://terminology.hl7.org/CodeSystem/condition-clinical"
#define SYS_VER     "http://terminology.hl7.org/CodeSystem/condition-ver-status"

static json_object *
coding_cc(const char *sys, const char *code, const char *display)
{
    json_object *cc = json_object_new_object();
    json_object *arr = json_object_new_array();
    json_object *cd = json_object_new_object();
    json_object_object_add(cd, "system", json_object_new_string(sys));
    json_object_object_add(cd, "code", json_object_new_string(code));
    if (display != NULL)
        json_object_object_add(cd, "display", json_object_new_string(display));
    json_object_array_add(arr, cd);
    json_object_object_add(cc, "coding", arr);
    if (display != NULL)
        json_object_object_add(cc, "text", json_object_new_string(display));
    return cc;
}

static void
ext(json_object *arr, const char *name, const char *type, json_object *v)
{
    if (v == NULL)
        return;
    json_object *e = json_object_new_object();
    char url[160];
    (void)snprintf(url, sizeof(url), "%s%s", RHIS_EXT_BASE, name);
    json_object_object_add(e, "url", json_object_new_string(url));
    json_object_object_add(e, type, v);
    json_object_array_add(arr, e);
}

static json_object *
ref(const char *type, json_object *id)
{
    if (id == NULL)
        return NULL;
    json_object *r = json_object_new_object();
    char buf[64];
    (void)snprintf(buf, sizeof(buf), "%s/%lld", type,
                   (long long)json_object_get_int64(id));
    json_object_object_add(r, "reference", json_object_new_string(buf));
    return r;
}

static json_object *
copy_of(json_object *card, const char *key)
{
    json_object *v = rhis_json_get(card, key);
    return v != NULL ? json_object_get(v) : NULL;
}

/*
 * The FHIR R4 face of a card (docs/internals/surveil.md): a Condition
 * with the card's own fields as RHIS extensions.
 */
static json_object *
card_condition(json_object *card)
{
    const char *status = rhis_json_get_str(card, "status");
    const char *cls = rhis_json_get_str(card, "classification");
    int gone = status != NULL && (strcmp(status, RHIS_CARD_DELETED) == 0 ||
                                  strcmp(status, RHIS_CARD_MERGED) == 0);
    const char *ver = "confirmed";
    if (gone)
        ver = "entered-in-error";
    else if (cls != NULL && strcmp(cls, RHIS_CARD_SUSPECTED) == 0)
        ver = "unconfirmed";
    else if (cls != NULL && strcmp(cls, RHIS_CARD_CLINICAL) == 0)
        ver = "provisional";
    json_object *c = json_object_new_object();
    json_object_object_add(c, "resourceType",
                           json_object_new_string("Condition"));
    char id[40];
    (void)snprintf(id, sizeof(id), "card-%lld",
                   (long long)json_object_get_int64(rhis_json_get(card, "id")));
    json_object_object_add(c, "id", json_object_new_string(id));
    json_object *meta = json_object_new_object();
    char vid[24];
    (void)snprintf(
        vid, sizeof(vid), "%lld",
        (long long)json_object_get_int64(rhis_json_get(card, "version")));
    json_object_object_add(meta, "versionId", json_object_new_string(vid));
    json_object_object_add(meta, "lastUpdated", copy_of(card, "updated"));
    json_object_object_add(c, "meta", meta);
    json_object *exts = json_object_new_array();
    ext(exts, "report-card-status", "valueCode", copy_of(card, "status"));
    ext(exts, "report-card-classification", "valueCode",
        copy_of(card, "classification"));
    ext(exts, "occupation", "valueCode", copy_of(card, "occupation"));
    ext(exts, "address-division", "valueCode", copy_of(card, "area_code"));
    ext(exts, "diagnosis-time", "valueDateTime", copy_of(card, "diagnosis"));
    ext(exts, "death-date", "valueDateTime", copy_of(card, "death"));
    ext(exts, "reporting-organization", "valueReference",
        ref("Organization", rhis_json_get(card, "institution_id")));
    ext(exts, "report-deadline", "valueDateTime", copy_of(card, "deadline"));
    ext(exts, "report-late", "valueBoolean", copy_of(card, "late"));
    json_object_object_add(c, "extension", exts);
    json_object *ids = json_object_new_array();
    json_object *ident = json_object_new_object();
    json_object_object_add(ident, "system", json_object_new_string(SYS_CARD));
    json_object_object_add(ident, "value", json_object_new_string(id + 5));
    json_object_array_add(ids, ident);
    json_object_object_add(c, "identifier", ids);
    if (!gone)
        json_object_object_add(c, "clinicalStatus",
                               coding_cc(SYS_CLIN, "active", NULL));
    json_object_object_add(c, "verificationStatus",
                           coding_cc(SYS_VER, ver, NULL));
    json_object *d = rhis_json_get(card, "disease");
    json_object_object_add(c, "code",
                           coding_cc(SYS_DISEASE, rhis_json_get_str(d, "code"),
                                     rhis_json_get_str(d, "name")));
    json_object_object_add(c, "subject",
                           ref("Patient", rhis_json_get(card, "patient_id")));
    json_object_object_add(c, "onsetDateTime", copy_of(card, "onset"));
    json_object_object_add(c, "recordedDate", copy_of(card, "report_time"));
    json_object *pr = rhis_json_get(card, "practitioner_id");
    if (pr != NULL)
        json_object_object_add(c, "asserter", ref("Practitioner", pr));
    const char *note = rhis_json_get_str(card, "note");
    if (note != NULL) {
        json_object *notes = json_object_new_array();
        json_object *n = json_object_new_object();
        json_object_object_add(n, "text", json_object_new_string(note));
        json_object_array_add(notes, n);
        json_object_object_add(c, "note", notes);
    }
    return c;
}

/* GET /api/v1/report-cards/{id}/fhir */
rhis_status
api_card_fhir(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_db *db;
    rhis_status rc = card_access(req, &db, &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st = NULL;
    rc = rhis_db_query(db, &st, SURV_CARD_SELECT " WHERE c.id = ?", "i", id);
    if (rc != RHIS_OK || rhis_db_step(st) != RHIS_ROW) {
        rhis_db_finalize(st);
        return rhis_req_errorf(req, RHIS_EIO, "cannot read report card %lld",
                               (long long)id);
    }
    json_object *card = surv_card_json(st, 0, (int64_t)time(NULL) * 1000);
    rhis_db_finalize(st);
    json_object *cond = card_condition(card);
    json_object_put(card);
    rhis_fhir_respond(resp, 200, cond);
    json_object_put(cond);
    return RHIS_OK;
}
