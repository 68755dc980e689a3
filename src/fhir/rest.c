/*
 * rest.c - the FHIR REST interactions of every store type: read, vread,
 * history, create (with If-None-Exist), update (with If-Match), delete and
 * search (with _sort, _include of the patient and paging).
 *
 * Why: one implementation of the HTTP semantics, so every resource answers
 * ETags, 404/410/412 and OperationOutcomes the same way.  The route table
 * names the type; the handlers here do the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir_int.h"
#include "rhis/json.h"

#define FHIR_CTYPE "application/fhir+json; charset=utf-8"

static rhis_status
path_id(rhis_req *req, const rhis_fhir_type *t, const char *name, int64_t *id)
{
    return rhis_fhir_parse_id(req, t->name, rhis_req_param(req, name), id);
}

static int
is_self_patient(const rhis_fhir_type *t)
{
    return t->patient_col != NULL && strcmp(t->patient_col, "t.id") == 0;
}

static const char *
id_text(rhis_req *req, int64_t id)
{
    return rhis_arena_printf(req->arena, "%lld", (long long)id);
}

/* The error of c, or a generic one when nothing was recorded. */
static rhis_status
ctx_error(rhis_fhir_ctx *c, rhis_status rc, const char *what)
{
    if (c->req->err_status == RHIS_OK)
        return rhis_req_errorf(c->req, rc, "%s failed", what);
    return c->req->err_status;
}

static void
answer_json_text(rhis_req *req,
                 rhis_resp *resp,
                 int status,
                 const char *json,
                 int64_t version)
{
    rhis_fhir_set_version(req, resp, version);
    rhis_resp_text(resp, status, FHIR_CTYPE, json, strlen(json));
}

/* Access to the record of patient pid (0 = not a patient's record). */
static rhis_status
may_read(rhis_fhir_ctx *c, int64_t pid)
{
    if (pid == 0)
        return RHIS_OK;
    return rhis_ehr_check_access(c, pid, 0);
}

rhis_status
rhis_fhir_read(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    int64_t id, version, pid;
    rhis_status rc = path_id(req, t, "id", &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    const char *json;
    rc = rhis_fhir_do_read(&c, t, id, &json, &version, &pid);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "%s/%lld not found", t->name,
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read %s", t->name);
    if ((rc = may_read(&c, pid)) != RHIS_OK)
        return ctx_error(&c, rc, "access check");
    if (json == NULL)
        return rhis_req_errorf(req, RHIS_EGONE, "%s/%lld was deleted", t->name,
                               (long long)id);
    if ((rc = rhis_ehr_audit_read(&c, "read", t->name, id, pid)) != RHIS_OK)
        return ctx_error(&c, rc, "audit");
    answer_json_text(req, resp, 200, json, version);
    return RHIS_OK;
}

rhis_status
rhis_fhir_vread(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    int64_t id, vid;
    rhis_status rc = path_id(req, t, "id", &id);
    if (rc == RHIS_OK)
        rc = rhis_fhir_parse_id(req, "version", rhis_req_param(req, "vid"),
                                &vid);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    const char *json;
    int64_t deleted, pid, ts;
    rc = rhis_fhir_read_version(&c, t, id, vid, &json, &deleted, &pid, &ts);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "%s/%lld has no version %lld", t->name,
                               (long long)id, (long long)vid);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read %s", t->name);
    if ((rc = may_read(&c, pid)) != RHIS_OK)
        return ctx_error(&c, rc, "access check");
    if (deleted || json == NULL)
        return rhis_req_errorf(req, RHIS_EGONE,
                               "version %lld of %s/%lld is a deletion",
                               (long long)vid, t->name, (long long)id);
    if ((rc = rhis_ehr_audit_read(&c, "vread", t->name, id, pid)) != RHIS_OK)
        return ctx_error(&c, rc, "audit");
    answer_json_text(req, resp, 200, json, vid);
    return RHIS_OK;
}

static json_object *
parse_stored(const char *json)
{
    json_object *o = NULL;
    char err[64];
    if (json == NULL || rhis_json_parse(json, strlen(json), 64, &o, err,
                                        sizeof(err)) != RHIS_OK)
        return NULL;
    return o;
}

rhis_status
rhis_fhir_history(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    int64_t id, version, pid;
    rhis_status rc = path_id(req, t, "id", &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_search s;
    if ((rc = rhis_fhir_search_init(req, &s, 50)) != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    const char *json;
    rc = rhis_fhir_do_read(&c, t, id, &json, &version, &pid);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "%s/%lld not found", t->name,
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read %s", t->name);
    if ((rc = may_read(&c, pid)) != RHIS_OK)
        return ctx_error(&c, rc, "access check");
    json_object *b = rhis_fhir_bundle_new(req, &s, version);
    json_object_object_add(b, "type", json_object_new_string("history"));
    if (!s.summary_count && s.count > 0) {
        rhis_stmt *st = NULL;
        rc = rhis_db_query(c.db, &st,
                           "SELECT version, deleted, ts, method, json"
                           " FROM fhir_version WHERE type = ? AND id = ?"
                           " ORDER BY version DESC LIMIT ? OFFSET ?",
                           "siii", t->name, id, (int64_t)s.count, s.offset);
        json_object *entries = rhis_json_get(b, "entry");
        int ok = rc == RHIS_OK;
        while (ok && (rc = rhis_db_step(st)) == RHIS_ROW) {
            int64_t v = rhis_db_column_int64(st, 0);
            int deleted = (int)rhis_db_column_int64(st, 1);
            char when[40];
            rhis_fhir_instant_ms(rhis_db_column_int64(st, 2), when,
                                 sizeof(when));
            const char *method = rhis_db_column_text(st, 3);
            json_object *e = json_object_new_object();
            json_object_object_add(
                e, "fullUrl",
                json_object_new_string(rhis_arena_printf(
                    req->arena, "/fhir/%s/%lld", t->name, (long long)id)));
            json_object *r =
                deleted ? NULL : parse_stored(rhis_db_column_text(st, 4));
            if (r != NULL)
                json_object_object_add(e, "resource", r);
            json_object *rq = json_object_new_object();
            json_object_object_add(rq, "method",
                                   json_object_new_string(method));
            json_object_object_add(
                rq, "url",
                json_object_new_string(
                    strcmp(method, "POST") == 0
                        ? t->name
                        : rhis_arena_printf(req->arena, "%s/%lld", t->name,
                                            (long long)id)));
            json_object_object_add(e, "request", rq);
            json_object *rs = json_object_new_object();
            json_object_object_add(
                rs, "status",
                json_object_new_string(strcmp(method, "POST") == 0
                                           ? "201 Created"
                                       : deleted ? "204 No Content"
                                                 : "200 OK"));
            json_object_object_add(
                rs, "etag",
                json_object_new_string(
                    rhis_arena_printf(req->arena, "W/\"%lld\"", (long long)v)));
            json_object_object_add(rs, "lastModified",
                                   json_object_new_string(when));
            json_object_object_add(e, "response", rs);
            json_object_array_add(entries, e);
        }
        rhis_db_finalize(st);
        if (rc != RHIS_DONE) {
            json_object_put(b);
            return rhis_req_errorf(req, RHIS_EIO, "cannot read history");
        }
    }
    rc = rhis_ehr_audit_read(&c, "history", t->name, id, pid);
    if (rc != RHIS_OK) {
        json_object_put(b);
        return ctx_error(&c, rc, "audit");
    }
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}

/* W/"3", "3" or 3 -> 3; -1 when absent; RHIS_EINVAL when malformed. */
static rhis_status
if_match(rhis_req *req, int64_t *out)
{
    const char *h = rhis_req_header(req, "If-Match");
    *out = -1;
    if (h == NULL)
        return RHIS_OK;
    if (strncmp(h, "W/", 2) == 0)
        h += 2;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
        h = rhis_arena_strndup(req->arena, h + 1, n - 2);
    }
    char *end;
    long long v = strtoll(h, &end, 10);
    if (*h == '\0' || *end != '\0' || v < 1) {
        rhis_req_error_expr(req, "If-Match");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "If-Match must be W/\"<version>\"");
    }
    *out = v;
    return RHIS_OK;
}

static void
set_audit_patient(rhis_req *req, int64_t pid)
{
    req->audit_patient = pid != 0 ? id_text(req, pid) : NULL;
}

/* Audits the write of c in its transaction (the write's own). */
static rhis_status
audit_write(rhis_fhir_ctx *c,
            const rhis_fhir_type *t,
            const char *action,
            const char *operation,
            int64_t id,
            int status)
{
    rhis_req *req = c->req;
    set_audit_patient(req, c->last_patient_id);
    rhis_status rc = rhis_req_audit(req, c->db, action, operation, t->name,
                                    id_text(req, id), status);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot audit the change");
    return RHIS_OK;
}

static void
answer_written(rhis_req *req,
               rhis_resp *resp,
               const rhis_fhir_type *t,
               int status,
               int64_t id,
               int64_t version,
               json_object *res)
{
    rhis_resp_header(resp, "Location",
                     rhis_arena_printf(req->arena,
                                       "/fhir/%s/%lld/_history/%lld", t->name,
                                       (long long)id, (long long)version));
    const char *lm =
        rhis_json_get_str(rhis_json_get(res, "meta"), "lastUpdated");
    if (lm != NULL)
        rhis_resp_header(resp, "Last-Modified",
                         rhis_arena_strdup(req->arena, lm));
    rhis_fhir_set_version(req, resp, version);
    rhis_fhir_respond(resp, status, res);
}

/* A write waiting for its turn in a (group) transaction. */
typedef struct write_job {
    const rhis_fhir_type *t;
    json_object *res;
    int64_t id;
    int64_t if_match;
} write_job;

static write_job *
new_job(rhis_req *req,
        const rhis_fhir_type *t,
        json_object *res,
        int64_t id,
        int64_t if_match)
{
    write_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    j->t = t;
    j->res = res;
    j->id = id;
    j->if_match = if_match;
    req->defer_data = j;
    return j;
}

static rhis_status
create_commit(rhis_req *req, rhis_resp *resp)
{
    write_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    int64_t id = 0, version = 0;
    if (rc == RHIS_OK)
        rc = rhis_fhir_do_create(&c, j->t, j->res, &id, &version);
    if (rc != RHIS_OK)
        return ctx_error(&c, rc, "create");
    if ((rc = audit_write(&c, j->t, "C", "create", id, 201)) != RHIS_OK)
        return rc;
    answer_written(req, resp, j->t, 201, id, version, j->res);
    return RHIS_OK;
}

static rhis_status
update_commit(rhis_req *req, rhis_resp *resp)
{
    write_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    int64_t version = 0;
    if (rc == RHIS_OK)
        rc =
            rhis_fhir_do_update(&c, j->t, j->id, j->res, j->if_match, &version);
    if (rc != RHIS_OK)
        return ctx_error(&c, rc, "update");
    if ((rc = audit_write(&c, j->t, "U", "update", j->id, 200)) != RHIS_OK)
        return rc;
    answer_written(req, resp, j->t, 200, j->id, version, j->res);
    return RHIS_OK;
}

static rhis_status
delete_commit(rhis_req *req, rhis_resp *resp)
{
    write_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    int64_t version = 0;
    if (rc == RHIS_OK)
        rc = rhis_fhir_do_delete(&c, j->t, j->id, &version);
    if (rc != RHIS_OK)
        return ctx_error(&c, rc, "delete");
    if ((rc = audit_write(&c, j->t, "D", "delete", j->id, 204)) != RHIS_OK)
        return rc;
    rhis_fhir_set_version(req, resp, version);
    rhis_resp_text(resp, 204, FHIR_CTYPE, "", 0);
    return RHIS_OK;
}

rhis_status
rhis_fhir_create(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    json_object *res;
    rhis_status rc = rhis_req_json(req, &res);
    if (rc != RHIS_OK)
        return rc;
    const char *cond = rhis_req_header(req, "If-None-Exist");
    if (cond != NULL) {
        rhis_fhir_ctx c;
        if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
            return rhis_req_errorf(req, rc, "database unavailable");
        int n = 0;
        int64_t found = 0;
        rc = rhis_fhir_do_match(&c, t, cond, &n, &found);
        if (rc != RHIS_OK)
            return ctx_error(&c, rc, "If-None-Exist");
        if (n > 1)
            return rhis_req_errorf(req, RHIS_EPRECOND,
                                   "If-None-Exist matches more than one %s",
                                   t->name);
        if (n == 1) { /* FHIR: answer the existing resource, 200 */
            const char *json;
            int64_t version, pid;
            rc = rhis_fhir_do_read(&c, t, found, &json, &version, &pid);
            if (rc != RHIS_OK || json == NULL)
                return rhis_req_errorf(req, RHIS_EIO, "cannot read %s",
                                       t->name);
            if ((rc = may_read(&c, pid)) != RHIS_OK)
                return ctx_error(&c, rc, "access check");
            if ((rc = rhis_ehr_audit_read(&c, "read", t->name, found, pid)) !=
                RHIS_OK)
                return ctx_error(&c, rc, "audit");
            rhis_resp_header(resp, "Location",
                             rhis_arena_printf(req->arena,
                                               "/fhir/%s/%lld/_history/%lld",
                                               t->name, (long long)found,
                                               (long long)version));
            answer_json_text(req, resp, 200, json, version);
            return RHIS_OK;
        }
    }
    new_job(req, t, res, 0, -1);
    return rhis_req_write(req, resp, create_commit);
}

rhis_status
rhis_fhir_update(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    int64_t id, want;
    rhis_status rc = path_id(req, t, "id", &id);
    if (rc == RHIS_OK)
        rc = if_match(req, &want);
    if (rc != RHIS_OK)
        return rc;
    json_object *res;
    if ((rc = rhis_req_json(req, &res)) != RHIS_OK)
        return rc;
    new_job(req, t, res, id, want);
    return rhis_req_write(req, resp, update_commit);
}

rhis_status
rhis_fhir_delete(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    int64_t id;
    rhis_status rc = path_id(req, t, "id", &id);
    if (rc != RHIS_OK)
        return rc;
    new_job(req, t, NULL, id, -1);
    return rhis_req_write(req, resp, delete_commit);
}

/* _include: only the patient of the matches ("Type:patient"/":subject"). */
static rhis_status
wants_include(rhis_fhir_ctx *c, const rhis_fhir_type *t, int *want)
{
    rhis_req *req = c->req;
    *want = 0;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "_revinclude") == 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, "_revinclude",
                                  "_revinclude is not supported; use "
                                  "Patient/{id}/$everything");
        if (strcmp(k, "_include") != 0)
            continue;
        size_t tl = strlen(t->name);
        const char *param = v + tl + 1;
        const rhis_fhir_param *p = NULL;
        if (strncmp(v, t->name, tl) == 0 && v[tl] == ':') {
            for (int j = 0; j < t->nparams; j++)
                if (strcmp(t->params[j].name, param) == 0)
                    p = &t->params[j];
        }
        if (p == NULL || p->kind != RHIS_P_REF || p->ref_type == NULL ||
            strcmp(p->ref_type, "Patient") != 0 || is_self_patient(t))
            return rhis_fhir_fail(c, RHIS_EINVAL, "_include",
                                  "only _include=%s:patient is supported",
                                  t->name);
        *want = 1;
    }
    return RHIS_OK;
}

static void
add_include(rhis_fhir_ctx *c, json_object *bundle, int64_t pid)
{
    const rhis_fhir_type *pt = rhis_fhir_type_find("Patient");
    const char *json;
    int64_t v, p;
    if (pt == NULL || rhis_fhir_do_read(c, pt, pid, &json, &v, &p) != RHIS_OK ||
        json == NULL)
        return;
    json_object *r = parse_stored(json);
    if (r == NULL)
        return;
    if (pt->redact != NULL)
        pt->redact(c, r);
    json_object *e = json_object_new_object();
    json_object_object_add(
        e, "fullUrl",
        json_object_new_string(
            rhis_arena_printf(c->arena, "/fhir/Patient/%lld", (long long)pid)));
    json_object_object_add(e, "resource", r);
    json_object *search = json_object_new_object();
    json_object_object_add(search, "mode", json_object_new_string("include"));
    json_object_object_add(e, "search", search);
    json_object_array_add(rhis_json_get(bundle, "entry"), e);
}

rhis_status
rhis_fhir_search_type(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "t.deleted = 0", 0, 0, NULL);
    const char *order;
    int include = 0;
    int64_t scope_pid = 0;
    if ((rc = rhis_fhir_build_where(&c, t, &req->query, &w)) != RHIS_OK ||
        (rc = rhis_fhir_build_order(&c, t, rhis_req_query(req, "_sort"),
                                    &order)) != RHIS_OK ||
        (rc = wants_include(&c, t, &include)) != RHIS_OK ||
        (rc = rhis_ehr_search_scope(&c, t, &w, &scope_pid)) != RHIS_OK)
        return ctx_error(&c, rc, "search");
    /* the page first: when it is not full, its size is the total and the
     * COUNT query is not needed (the common identifier look-up) */
    int64_t total = -1;
    json_object *page = json_object_new_array();
    int64_t *pids = NULL;
    int npids = 0;
    if (!s.summary_count && s.count > 0) {
        const char *sql =
            rhis_sql_cat(req->arena, "SELECT v.json, ",
                         t->patient_col != NULL ? t->patient_col : "0",
                         " FROM ", t->from_json, (const char *)NULL);
        rhis_stmt *st = NULL;
        rc =
            rhis_sql_where_select(c.db, &w, sql, order, s.count, s.offset, &st);
        int ok = rc == RHIS_OK, nrows = 0;
        pids = rhis_arena_alloc(req->arena, sizeof(int64_t) * (size_t)s.count);
        while (ok && (rc = rhis_db_step(st)) == RHIS_ROW) {
            nrows++;
            json_object *r = parse_stored(rhis_db_column_text(st, 0));
            int64_t pid = rhis_db_column_int64(st, 1);
            if (r == NULL)
                continue;
            if (t->redact != NULL)
                t->redact(&c, r);
            json_object_array_add(page, r);
            int seen = 0;
            for (int i = 0; i < npids && !seen; i++)
                seen = pids[i] == pid;
            if (!seen && pid != 0 && npids < s.count)
                pids[npids++] = pid;
        }
        rhis_db_finalize(st);
        if (rc != RHIS_DONE) {
            json_object_put(page);
            return rhis_req_errorf(req, RHIS_EIO, "cannot search %s", t->name);
        }
        if (nrows < s.count && (nrows > 0 || s.offset == 0))
            total = s.offset + nrows;
    }
    if (total < 0 &&
        (rc = rhis_sql_where_count(c.db, &w, t->from, &total)) != RHIS_OK) {
        json_object_put(page);
        return rhis_req_errorf(req, rc, "cannot search %s", t->name);
    }
    json_object *b = rhis_fhir_bundle_new(req, &s, total);
    size_t n = json_object_array_length(page);
    for (size_t i = 0; i < n; i++)
        rhis_fhir_bundle_add(
            req, b, json_object_get(json_object_array_get_idx(page, i)),
            t->name);
    json_object_put(page);
    for (int i = 0; include && i < npids; i++)
        add_include(&c, b, pids[i]);
    rc = rhis_ehr_audit_read(&c, "search", t->name, 0, scope_pid);
    if (rc != RHIS_OK) {
        json_object_put(b);
        return ctx_error(&c, rc, "audit");
    }
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}
