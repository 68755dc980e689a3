/*
 * store.c - the versioned resource store: create, update, delete, read and
 * the search-parameter grammar, independent of HTTP.
 *
 * Why: HTTP handlers, transaction Bundles and the NDJSON importer all write
 * resources; they share these functions so a resource is validated, typed
 * and versioned the same way whichever door it came through.  None of them
 * opens a transaction: the caller owns it (one per request, one per Bundle,
 * a batch of lines per import transaction with a savepoint per line).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir_int.h"
#include "rhis/agg.h"
#include "rhis/json.h"

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

rhis_status
rhis_fhir_ctx_req(rhis_fhir_ctx *c, rhis_req *req)
{
    memset(c, 0, sizeof(*c));
    c->req = req;
    c->arena = req->arena;
    c->user = req->user;
    c->now_ms = now_ms();
    return rhis_req_db(req, &c->db);
}

void
rhis_fhir_ctx_cli(rhis_fhir_ctx *c, rhis_db *db, rhis_arena *a)
{
    memset(c, 0, sizeof(*c));
    c->db = db;
    c->arena = a;
    c->now_ms = now_ms();
}

rhis_status
rhis_fhir_fail(
    rhis_fhir_ctx *c, rhis_status st, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_text, sizeof(c->err_text), fmt, ap);
    va_end(ap);
    c->err_status = st;
    snprintf(c->err_expr, sizeof(c->err_expr), "%s", expr != NULL ? expr : "");
    if (c->req != NULL) {
        rhis_req_errorf(c->req, st, "%s", c->err_text);
        if (expr != NULL)
            rhis_req_error_expr(c->req, rhis_arena_strdup(c->req->arena, expr));
    }
    return st;
}

char *
rhis_sql_cat(rhis_arena *a, const char *first, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        n += strlen(s);
    va_end(ap);
    char *out = rhis_arena_alloc(a, n + 1), *p = out;
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
        size_t k = strlen(s);
        memcpy(p, s, k);
        p += k;
    }
    va_end(ap);
    *p = '\0';
    return out;
}

/* ---- versions ---- */

/* The memo kind (rhis_db_memo_*) of "type/id exists"; -1 for none. */
static int
exists_kind(const char *type, const rhis_fhir_type *t)
{
    if (t != NULL) {
        int n;
        const rhis_fhir_type *const *all = rhis_fhir_types(&n);
        for (int i = 0; i < n; i++)
            if (all[i] == t)
                return RHIS_MEMO_EXISTS + i;
        return -1;
    }
    if (strcmp(type, "Organization") == 0)
        return RHIS_MEMO_EXISTS + 16;
    if (strcmp(type, "Practitioner") == 0)
        return RHIS_MEMO_EXISTS + 17;
    if (strcmp(type, "Location") == 0)
        return RHIS_MEMO_EXISTS + 18;
    return -1;
}


typedef struct current {
    int64_t version;
    int64_t deleted;
    int64_t patient_id;
    int64_t ts;
    const char *json;
} current;

static rhis_status
load_version(rhis_fhir_ctx *c,
             const rhis_fhir_type *t,
             int64_t id,
             int64_t version,
             current *cur)
{
    rhis_stmt *st;
    rhis_status rc;
    if (version > 0)
        rc = rhis_db_query(c->db, &st,
                           "SELECT version, deleted, patient_id, ts, json"
                           " FROM fhir_version WHERE type = ? AND id = ?"
                           " AND version = ?",
                           "sii", t->name, id, version);
    else
        rc = rhis_db_query(c->db, &st,
                           "SELECT version, deleted, patient_id, ts, json"
                           " FROM fhir_version WHERE type = ? AND id = ?"
                           " ORDER BY version DESC LIMIT 1",
                           "si", t->name, id);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        cur->version = rhis_db_column_int64(st, 0);
        cur->deleted = rhis_db_column_int64(st, 1);
        cur->patient_id = rhis_db_column_int64(st, 2);
        cur->ts = rhis_db_column_int64(st, 3);
        const char *j = rhis_db_column_text(st, 4);
        cur->json = j != NULL ? rhis_arena_strdup(c->arena, j) : NULL;
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_ENOTFOUND;
    }
    rhis_db_finalize(st);
    return rc;
}

/* Sets id and meta (versionId, lastUpdated) on res; keeps profile/tag. */
static void
stamp(rhis_fhir_ctx *c, json_object *res, int64_t id, int64_t version)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%lld", (long long)id);
    json_object_object_add(res, "id", json_object_new_string(buf));
    json_object *meta = rhis_json_get(res, "meta");
    if (meta == NULL || !json_object_is_type(meta, json_type_object)) {
        meta = json_object_new_object();
        json_object_object_add(res, "meta", meta);
    }
    snprintf(buf, sizeof(buf), "%lld", (long long)version);
    json_object_object_add(meta, "versionId", json_object_new_string(buf));
    rhis_fhir_instant_ms(c->now_ms, buf, sizeof(buf));
    json_object_object_add(meta, "lastUpdated", json_object_new_string(buf));
}

static rhis_status
put_version(rhis_fhir_ctx *c,
            const rhis_fhir_type *t,
            int64_t id,
            int64_t version,
            int deleted,
            const char *method,
            int64_t patient_id,
            const char *json)
{
    rhis_status rc = rhis_db_run(
        c->db,
        "INSERT INTO fhir_version (type, id, version, ts, deleted, method,"
        " user_id, patient_id, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "siiiisiis", t->name, id, version, c->now_ms, (int64_t)deleted, method,
        c->user != NULL ? c->user->user_id : (int64_t)0, patient_id, json);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc == RHIS_ECONFLICT ? RHIS_ECONFLICT : rc,
                              NULL, "cannot store %s/%lld version %lld",
                              t->name, (long long)id, (long long)version);
    return RHIS_OK;
}

static rhis_status
check_type(rhis_fhir_ctx *c, const rhis_fhir_type *t, json_object *res)
{
    if (res == NULL || !json_object_is_type(res, json_type_object))
        return rhis_fhir_fail(c, RHIS_EINVAL, NULL,
                              "a %s resource must be a JSON object", t->name);
    const char *rt = rhis_json_get_str(res, "resourceType");
    if (rt == NULL || strcmp(rt, t->name) != 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "resourceType",
                              "resourceType must be \"%s\"", t->name);
    return RHIS_OK;
}

/* A store function that failed without saying why still needs a message. */
static rhis_status
store_failed(rhis_fhir_ctx *c, const rhis_fhir_type *t, rhis_status rc)
{
    if (c->err_status == RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot store %s", t->name);
    return rc;
}

/* A failed aggregate update fails the write (the caller rolls back). */
static rhis_status
agg_status(rhis_fhir_ctx *c, rhis_status rc)
{
    if (rc == RHIS_OK)
        return rc;
    return rhis_fhir_fail(c, rc, NULL, "cannot update the plan aggregates");
}

static int
is_self_patient(const rhis_fhir_type *t)
{
    return t->patient_col != NULL && strcmp(t->patient_col, "t.id") == 0;
}

rhis_status
rhis_fhir_do_create(rhis_fhir_ctx *c,
                    const rhis_fhir_type *t,
                    json_object *res,
                    int64_t *id,
                    int64_t *version)
{
    c->err_status = RHIS_OK;
    rhis_status rc = check_type(c, t, res);
    if (rc != RHIS_OK)
        return rc;
    json_object_object_del(res, "id");
    int64_t nid = 0, pid = 0;
    rc = t->store(c, res, &nid, 1, &pid);
    if (rc != RHIS_OK)
        return store_failed(c, t, rc);
    if (is_self_patient(t))
        pid = nid;
    else if (pid != 0 && (rc = rhis_ehr_check_access(c, pid, 1)) != RHIS_OK)
        return rc;
    c->last_patient_id = pid;
    stamp(c, res, nid, 1);
    rc = put_version(c, t, nid, 1, 0, "POST", pid, rhis_json_print(res));
    if (rc == RHIS_OK) /* plan aggregates, same transaction (rhis/agg.h) */
        rc = agg_status(c, rhis_agg_inserted(c->db, t->name, nid));
    if (rc != RHIS_OK)
        return rc;
    int kind = exists_kind(t->name, t);
    if (kind >= 0) /* written in this transaction (see exists) */
        rhis_db_memo_put(c->db, kind, nid, 1);
    *id = nid;
    if (version != NULL)
        *version = 1;
    return RHIS_OK;
}

static rhis_status
do_update(rhis_fhir_ctx *c,
          const rhis_fhir_type *t,
          int64_t id,
          json_object *res,
          int64_t if_match,
          int64_t *version)
{
    c->err_status = RHIS_OK;
    rhis_status rc = check_type(c, t, res);
    if (rc != RHIS_OK)
        return rc;
    const char *rid = rhis_json_get_str(res, "id");
    char want[32];
    snprintf(want, sizeof(want), "%lld", (long long)id);
    if (rid == NULL || strcmp(rid, want) != 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, t->name,
                              "%s.id must be present and equal the id in the "
                              "URL (%s)",
                              t->name, want);
    current cur = {0};
    rc = load_version(c, t, id, 0, &cur);
    if (rc == RHIS_ENOTFOUND)
        return rhis_fhir_fail(c, RHIS_ENOTFOUND, NULL,
                              "%s/%lld does not exist (create it with POST)",
                              t->name, (long long)id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot read %s", t->name);
    if (cur.deleted)
        return rhis_fhir_fail(c, RHIS_EGONE, NULL, "%s/%lld was deleted",
                              t->name, (long long)id);
    if (if_match >= 0 && if_match != cur.version)
        return rhis_fhir_fail(c, RHIS_EPRECOND, NULL,
                              "version conflict: If-Match %lld but the "
                              "current version is %lld",
                              (long long)if_match, (long long)cur.version);
    int64_t nv = cur.version + 1, pid = 0, sid = id;
    rc = t->store(c, res, &sid, nv, &pid);
    if (rc != RHIS_OK)
        return store_failed(c, t, rc);
    if (is_self_patient(t))
        pid = id;
    if (pid != 0 && (rc = rhis_ehr_check_access(c, pid, 1)) != RHIS_OK)
        return rc;
    if (cur.patient_id != 0 && cur.patient_id != pid &&
        (rc = rhis_ehr_check_access(c, cur.patient_id, 1)) != RHIS_OK)
        return rc;
    c->last_patient_id = pid;
    stamp(c, res, id, nv);
    rc = put_version(c, t, id, nv, 0, "PUT", pid, rhis_json_print(res));
    if (rc != RHIS_OK)
        return rc;
    if (version != NULL)
        *version = nv;
    return RHIS_OK;
}

static rhis_status
do_delete(rhis_fhir_ctx *c,
          const rhis_fhir_type *t,
          int64_t id,
          int64_t *version)
{
    c->err_status = RHIS_OK;
    current cur = {0};
    rhis_status rc = load_version(c, t, id, 0, &cur);
    if (rc == RHIS_ENOTFOUND)
        return rhis_fhir_fail(c, RHIS_ENOTFOUND, NULL, "%s/%lld does not exist",
                              t->name, (long long)id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot read %s", t->name);
    if (cur.deleted) { /* deleting twice is not an error (FHIR) */
        if (version != NULL)
            *version = cur.version;
        return RHIS_OK;
    }
    if (cur.patient_id != 0 &&
        (rc = rhis_ehr_check_access(c, cur.patient_id, 1)) != RHIS_OK)
        return rc;
    c->last_patient_id = cur.patient_id;
    int64_t nv = cur.version + 1;
    rhis_db_memo_forget(c->db); /* type/id exists no more (see exists) */
    rc = rhis_db_run(c->db, t->sql_delete, "iii", nv, c->now_ms, id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot delete %s/%lld", t->name,
                              (long long)id);
    rc = put_version(c, t, id, nv, 1, "DELETE", cur.patient_id, NULL);
    if (rc == RHIS_OK && version != NULL)
        *version = nv;
    return rc;
}

/*
 * Update and delete with the plan aggregates kept in the same transaction
 * (rhis/agg.h): the facts of the record before the write are taken first,
 * the difference applied after it.
 */
rhis_status
rhis_fhir_do_update(rhis_fhir_ctx *c,
                    const rhis_fhir_type *t,
                    int64_t id,
                    json_object *res,
                    int64_t if_match,
                    int64_t *version)
{
    rhis_agg_touch at;
    rhis_status rc = agg_status(c, rhis_agg_before(c->db, &at, t->name, id));
    if (rc != RHIS_OK)
        return rc;
    rc = do_update(c, t, id, res, if_match, version);
    if (rc != RHIS_OK) {
        rhis_agg_cancel(&at);
        return rc;
    }
    return agg_status(c, rhis_agg_after(c->db, &at, id));
}

rhis_status
rhis_fhir_do_delete(rhis_fhir_ctx *c,
                    const rhis_fhir_type *t,
                    int64_t id,
                    int64_t *version)
{
    rhis_agg_touch at;
    rhis_status rc = agg_status(c, rhis_agg_before(c->db, &at, t->name, id));
    if (rc != RHIS_OK)
        return rc;
    rc = do_delete(c, t, id, version);
    if (rc != RHIS_OK) {
        rhis_agg_cancel(&at);
        return rc;
    }
    return agg_status(c, rhis_agg_after(c->db, &at, id));
}

rhis_status
rhis_fhir_do_read(rhis_fhir_ctx *c,
                  const rhis_fhir_type *t,
                  int64_t id,
                  const char **json,
                  int64_t *version,
                  int64_t *patient_id)
{
    current cur = {0};
    rhis_status rc = load_version(c, t, id, 0, &cur);
    if (rc != RHIS_OK)
        return rc;
    *json = cur.deleted ? NULL : cur.json;
    if (version != NULL)
        *version = cur.version;
    if (patient_id != NULL)
        *patient_id = cur.patient_id;
    return RHIS_OK;
}

rhis_status
rhis_fhir_read_version(rhis_fhir_ctx *c,
                       const rhis_fhir_type *t,
                       int64_t id,
                       int64_t version,
                       const char **json,
                       int64_t *deleted,
                       int64_t *patient_id,
                       int64_t *ts)
{
    current cur = {0};
    rhis_status rc = load_version(c, t, id, version, &cur);
    if (rc != RHIS_OK)
        return rc;
    *json = cur.json;
    *deleted = cur.deleted;
    *patient_id = cur.patient_id;
    *ts = cur.ts;
    return RHIS_OK;
}

/* ---- references ---- */

static int
parse_pos_id(const char *s, int64_t *out)
{
    if (*s < '1' || *s > '9')
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return 0;
    *out = v;
    return 1;
}

static rhis_status exists_sql(rhis_fhir_ctx *c,
                              const char *type,
                              const rhis_fhir_type *t,
                              int64_t id,
                              int *found);

/*
 * Whether type/id exists (not deleted).  A found record is remembered for
 * the rest of the transaction (rhis_db_memo_*): no code hard-deletes
 * institutions, practitioners or FHIR records, a soft delete here forgets
 * the memo, and a rolled-back savepoint voids it; so a bulk load naming
 * the same patient, encounter or institution again is not asked again.
 * (On PostgreSQL another connection's soft delete committed meanwhile is
 * then not seen until the transaction ends, as if it had come after it.)
 */
static rhis_status
exists(rhis_fhir_ctx *c, const char *type, int64_t id, int *found)
{
    int64_t n = 0;
    rhis_status rc;
    const rhis_fhir_type *t = rhis_fhir_type_find(type);
    int kind = exists_kind(type, t);
    if (kind >= 0 && rhis_db_memo_get(c->db, kind, id, &n)) {
        *found = 1;
        return RHIS_OK;
    }
    rc = exists_sql(c, type, t, id, found);
    if (rc == RHIS_OK && *found && kind >= 0)
        rhis_db_memo_put(c->db, kind, id, 1);
    return rc;
}

static rhis_status
exists_sql(rhis_fhir_ctx *c,
           const char *type,
           const rhis_fhir_type *t,
           int64_t id,
           int *found)
{
    int64_t n = 0;
    rhis_status rc;
    if (t != NULL) {
        /* the typed row's deleted flag follows the current version (both
         * are written by every create, update and delete here); reading it
         * spares the version row and its JSON, a bulk load's most frequent
         * read */
        int64_t del = 0;
        rc = rhis_db_scalar_int64(
            c->db, &del,
            rhis_sql_cat(c->arena, "SELECT t.deleted FROM ", t->from,
                         " WHERE t.id = ?", (const char *)NULL),
            "i", id);
        *found = rc == RHIS_OK && del == 0;
        return rc == RHIS_ENOTFOUND ? RHIS_OK : rc;
    }
    if (strcmp(type, "Organization") == 0)
        rc = rhis_db_scalar_int64(c->db, &n,
                                  "SELECT COUNT(*) FROM institution"
                                  " WHERE id = ?",
                                  "i", id);
    else if (strcmp(type, "Practitioner") == 0)
        rc = rhis_db_scalar_int64(c->db, &n,
                                  "SELECT COUNT(*) FROM practitioner"
                                  " WHERE id = ?",
                                  "i", id);
    else if (strcmp(type, "Location") == 0)
        rc = rhis_db_scalar_int64(c->db, &n,
                                  "SELECT COUNT(*) FROM institution"
                                  " WHERE id = ?",
                                  "i", id);
    else
        return RHIS_EINVAL;
    *found = n > 0;
    return rc;
}

rhis_status
rhis_fhir_ref(rhis_fhir_ctx *c,
              json_object *reference_obj,
              const char *type,
              const char *expr,
              int64_t *id)
{
    if (reference_obj == NULL ||
        !json_object_is_type(reference_obj, json_type_object))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s must be a Reference object", expr);
    const char *ref = rhis_json_get_str(reference_obj, "reference");
    if (ref == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s.reference must be a string \"%s/<id>\"", expr,
                              type);
    if (strncmp(ref, "urn:uuid:", 9) == 0) {
        const char *to = NULL;
        for (int i = 0; i < c->nrefs; i++)
            if (strcmp(c->ref_from[i], ref) == 0)
                to = c->ref_to[i];
        if (to == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "%s.reference %s names no entry of this "
                                  "Bundle",
                                  expr, ref);
        json_object_object_add(reference_obj, "reference",
                               json_object_new_string(to));
        ref = rhis_json_get_str(reference_obj, "reference");
    }
    /* "Type/id", possibly at the end of an absolute URL */
    const char *slash = strrchr(ref, '/');
    if (slash == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s.reference must look like \"%s/<id>\"", expr,
                              type);
    size_t tl = strlen(type);
    const char *tstart = slash - tl;
    if (tstart < ref || strncmp(tstart, type, tl) != 0 ||
        (tstart > ref && tstart[-1] != '/'))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s must reference a %s",
                              expr, type);
    int64_t v;
    if (!parse_pos_id(slash + 1, &v))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s.reference: '%.40s' is not a %s id", expr,
                              slash + 1, type);
    int found = 0;
    rhis_status rc = exists(c, type, v, &found);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc == RHIS_EINVAL ? RHIS_EINTERNAL : rc, expr,
                              "cannot resolve %s", expr);
    if (!found)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s: %s/%lld does not exist", expr, type,
                              (long long)v);
    *id = v;
    return RHIS_OK;
}

/* ---- search parameters ---- */

static const rhis_fhir_param *
find_param(const rhis_fhir_type *t, const char *name)
{
    for (int i = 0; i < t->nparams; i++)
        if (strcmp(t->params[i].name, name) == 0)
            return &t->params[i];
    return NULL;
}

/* Escapes LIKE wildcards in v (ESCAPE '\'), lower-cases ASCII, and wraps
 * it in the given prefix/suffix '%'. */
static char *
like_value(rhis_arena *a, const char *v, int lead, int trail)
{
    size_t n = strlen(v);
    char *out = rhis_arena_alloc(a, 2 * n + 3);
    char *p = out;
    if (lead)
        *p++ = '%';
    for (const char *s = v; *s != '\0'; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *p++ = '\\';
        *p++ = (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
    }
    if (trail)
        *p++ = '%';
    *p = '\0';
    return out;
}

static rhis_status
where_number(rhis_fhir_ctx *c,
             rhis_sql_where *w,
             const rhis_fhir_param *p,
             const char *v)
{
    static const char *const pre[] = {"eq", "ne", "gt", "lt", "ge", "le"};
    static const char *const op[] = {"=", "<>", ">", "<", ">=", "<="};
    int k = 0;
    for (int i = 0; i < 6; i++)
        if (strncmp(v, pre[i], 2) == 0) {
            k = i;
            v += 2;
            break;
        }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0')
        return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                              "search parameter %s needs an integer", p->name);
    rhis_sql_where_add(w,
                       rhis_arena_printf(c->arena, "%s %s ?", p->column, op[k]),
                       'i', n, NULL);
    return RHIS_OK;
}

static rhis_status
where_ref(rhis_fhir_ctx *c,
          rhis_sql_where *w,
          const rhis_fhir_param *p,
          const char *v)
{
    const char *slash = strrchr(v, '/');
    const char *idpart = slash != NULL ? slash + 1 : v;
    if (slash != NULL && p->ref_type != NULL) {
        size_t tl = strlen(p->ref_type);
        if ((size_t)(slash - v) < tl ||
            strncmp(slash - tl, p->ref_type, tl) != 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                                  "search parameter %s takes a %s reference",
                                  p->name, p->ref_type);
    }
    int64_t id;
    if (!parse_pos_id(idpart, &id))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                              "search parameter %s: '%.40s' is not an id",
                              p->name, idpart);
    if (p->ref_type != NULL && strcmp(p->ref_type, "Patient") == 0) {
        /* a patient's record includes the records merged into it */
        rhis_sql_where_add_ii(
            w,
            rhis_sql_cat(c->arena, p->column,
                         " IN (SELECT id FROM patient WHERE id = ? OR"
                         " merged_into = ?)",
                         (const char *)NULL),
            id, id);
    } else {
        rhis_sql_where_add(w, rhis_arena_printf(c->arena, "%s = ?", p->column),
                           'i', id, NULL);
    }
    return RHIS_OK;
}

static rhis_status
where_token(rhis_fhir_ctx *c,
            rhis_sql_where *w,
            const rhis_fhir_param *p,
            const char *mod,
            const char *v)
{
    const char *bar = strchr(v, '|');
    const char *sys = NULL, *code = v;
    if (bar != NULL) {
        sys = rhis_arena_strndup(c->arena, v, (size_t)(bar - v));
        code = bar + 1;
    }
    int negate = mod != NULL && strcmp(mod, "not") == 0;
    if (mod != NULL && !negate)
        return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                              "modifier :%s is not supported on %s", mod,
                              p->name);
    if (p->kind == RHIS_P_CUSTOM) {
        if (negate)
            return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                                  "modifier :not is not supported on %s",
                                  p->name);
        if (sys != NULL && *sys != '\0' && *code != '\0') {
            if (p->sql_sys_value == NULL)
                return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                                      "%s does not take a system", p->name);
            rhis_sql_where_add2(w, p->sql_sys_value, sys, code);
        } else if (*code != '\0' && p->sql_value != NULL) {
            rhis_sql_where_add(w, p->sql_value, 's', 0, code);
        } else {
            return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                                  "search parameter %s needs a code", p->name);
        }
        return RHIS_OK;
    }
    if (*code != '\0')
        rhis_sql_where_add(w,
                           rhis_arena_printf(c->arena, "%s %s ?", p->column,
                                             negate ? "<>" : "="),
                           's', 0, code);
    if (sys != NULL && p->sys_col != NULL) {
        if (*sys == '\0')
            rhis_sql_where_add(
                w, rhis_arena_printf(c->arena, "%s IS NULL", p->sys_col), 0, 0,
                NULL);
        else
            rhis_sql_where_add(
                w, rhis_arena_printf(c->arena, "%s = ?", p->sys_col), 's', 0,
                sys);
    }
    if (*code == '\0' && (sys == NULL || *sys == '\0'))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                              "search parameter %s needs a code", p->name);
    return RHIS_OK;
}

static rhis_status
where_string(rhis_fhir_ctx *c,
             rhis_sql_where *w,
             const rhis_fhir_param *p,
             const char *mod,
             const char *v)
{
    if (mod != NULL && strcmp(mod, "exact") == 0) {
        rhis_sql_where_add(w, rhis_arena_printf(c->arena, "%s = ?", p->column),
                           's', 0, v);
        return RHIS_OK;
    }
    int contains = mod != NULL && strcmp(mod, "contains") == 0;
    if (mod != NULL && !contains)
        return rhis_fhir_fail(c, RHIS_EINVAL, p->name,
                              "modifier :%s is not supported on %s", mod,
                              p->name);
    rhis_sql_where_add(
        w,
        rhis_arena_printf(c->arena, "LOWER(%s) LIKE ? ESCAPE '\\'", p->column),
        's', 0, like_value(c->arena, v, contains, 1));
    return RHIS_OK;
}

static rhis_status
where_one(rhis_fhir_ctx *c,
          const rhis_fhir_type *t,
          rhis_sql_where *w,
          const char *key,
          const char *value)
{
    const char *colon = strchr(key, ':');
    const char *name = key, *mod = NULL;
    if (colon != NULL) {
        name = rhis_arena_strndup(c->arena, key, (size_t)(colon - key));
        mod = colon + 1;
    }
    if (w->n >= RHIS_SQL_MAX_TERMS - 2)
        return rhis_fhir_fail(c, RHIS_ETOOBIG, NULL,
                              "too many search parameters");
    if (*value == '\0')
        return rhis_fhir_fail(c, RHIS_EINVAL, name,
                              "search parameter %s has an empty value", name);
    if (strchr(value, ',') != NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, name,
                              "comma-separated alternatives (OR) are not "
                              "supported: search once per value");
    if (mod != NULL && strcmp(mod, "missing") == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, name,
                              "modifier :missing is not supported");
    char err[200];
    if (strcmp(name, "_id") == 0) {
        int64_t id;
        if (!parse_pos_id(value, &id))
            return rhis_fhir_fail(c, RHIS_EINVAL, "_id",
                                  "_id must be a positive integer");
        rhis_sql_where_add(w, "t.id = ?", 'i', id, NULL);
        return RHIS_OK;
    }
    if (strcmp(name, "_lastUpdated") == 0) {
        if (rhis_fhir_where_date(c->arena, w, "t.updated_ms", value, err,
                                 sizeof(err)) != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EINVAL, name, "%s", err);
        return RHIS_OK;
    }
    const rhis_fhir_param *p = find_param(t, name);
    if (p == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, name,
                              "unknown search parameter '%.60s' for %s (see "
                              "/fhir/metadata)",
                              name, t->name);
    switch (p->kind) {
    case RHIS_P_STRING:
        return where_string(c, w, p, mod, value);
    case RHIS_P_TOKEN:
    case RHIS_P_CUSTOM:
        return where_token(c, w, p, mod, value);
    case RHIS_P_DATE:
        if (mod != NULL)
            break;
        if (rhis_fhir_where_date(c->arena, w, p->column, value, err,
                                 sizeof(err)) != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EINVAL, name, "%s", err);
        return RHIS_OK;
    case RHIS_P_REF:
        if (mod != NULL && (p->ref_type == NULL || strcmp(mod, p->ref_type)))
            break;
        return where_ref(c, w, p, value);
    case RHIS_P_NUMBER:
        if (mod != NULL)
            break;
        return where_number(c, w, p, value);
    }
    return rhis_fhir_fail(c, RHIS_EINVAL, name,
                          "modifier :%s is not supported on %s", mod, name);
}

/* Parameters the engine handles itself rather than as filters. */
static int
is_result_param(const char *key)
{
    return rhis_fhir_is_control_param(key) || strcmp(key, "_include") == 0 ||
           strcmp(key, "_revinclude") == 0;
}

rhis_status
rhis_fhir_build_where(rhis_fhir_ctx *c,
                      const rhis_fhir_type *t,
                      const rhis_query *q,
                      rhis_sql_where *w)
{
    for (int i = 0; i < q->n; i++) {
        if (is_result_param(q->kv[i].key))
            continue;
        rhis_status rc = where_one(c, t, w, q->kv[i].key, q->kv[i].value);
        if (rc != RHIS_OK)
            return rc;
    }
    return RHIS_OK;
}

rhis_status
rhis_fhir_build_order(rhis_fhir_ctx *c,
                      const rhis_fhir_type *t,
                      const char *sort,
                      const char **order)
{
    if (sort == NULL || *sort == '\0') {
        *order = "ORDER BY t.id";
        return RHIS_OK;
    }
    const char *out = "ORDER BY ";
    int k = 0;
    char *list = rhis_arena_strdup(c->arena, sort);
    for (char *tok = list; tok != NULL && *tok != '\0';) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        int desc = tok[0] == '-';
        const char *name = desc ? tok + 1 : tok;
        const char *expr = NULL;
        if (strcmp(name, "_id") == 0)
            expr = "t.id";
        else if (strcmp(name, "_lastUpdated") == 0)
            expr = "t.updated_ms";
        else {
            const rhis_fhir_param *p = find_param(t, name);
            if (p != NULL)
                expr = p->sort;
        }
        if (expr == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, "_sort",
                                  "cannot sort %s by '%.40s'", t->name, name);
        if (++k > 4)
            return rhis_fhir_fail(c, RHIS_EINVAL, "_sort",
                                  "at most 4 sort keys");
        out = rhis_arena_printf(c->arena, "%s%s%s%s", out, k > 1 ? ", " : "",
                                expr, desc ? " DESC" : "");
        tok = comma != NULL ? comma + 1 : NULL;
    }
    *order = rhis_arena_printf(c->arena, "%s, t.id", out);
    return RHIS_OK;
}

rhis_status
rhis_fhir_do_match(rhis_fhir_ctx *c,
                   const rhis_fhir_type *t,
                   const char *query,
                   int *n,
                   int64_t *id)
{
    rhis_query q;
    const char *qs = query[0] == '?' ? query + 1 : query;
    if (strchr(qs, '?') != NULL) /* "Patient?identifier=..." */
        qs = strchr(qs, '?') + 1;
    if (rhis_query_parse(c->arena, qs, strlen(qs), &q) != RHIS_OK || q.n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, NULL,
                              "the condition '%.80s' is not a search query",
                              query);
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "t.deleted = 0", 0, 0, NULL);
    rhis_status rc = rhis_fhir_build_where(c, t, &q, &w);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_sql_where_select(c->db, &w,
                               rhis_sql_cat(c->arena, "SELECT t.id FROM ",
                                            t->from, (const char *)NULL),
                               "ORDER BY t.id", 2, 0, &st);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot search %s", t->name);
    *n = 0;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (*n == 0)
            *id = rhis_db_column_int64(st, 0);
        (*n)++;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rhis_fhir_fail(c, rc, NULL, "cannot search %s", t->name);
    return RHIS_OK;
}
