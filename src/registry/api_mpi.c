/*
 * api_mpi.c - the master patient index over HTTP: the review queue, merge
 * and unmerge, the merge history, and FHIR Patient/$match.
 *
 * Why: the index finds probable duplicates; a person (the MPI steward,
 * role admin) decides.  A merge never moves clinical records: it writes
 * new Patient versions - the merged record inactive and "replaced-by" the
 * survivor, the survivor "replaces" it - and the store follows
 * merged_into when it gathers a patient's record.  Everything needed to
 * undo a merge is kept in mpi_merge, and an undo writes new versions
 * again, so _history of both patients tells the whole story.  Every
 * decision is audited in the transaction that makes it.
 *
 * Routes (src/http/routes.c):
 *   GET  /api/v1/mpi/reviews?status=open&_count=&_offset=   admin, cdc
 *   POST /api/v1/mpi/reviews/{id}/merge     {"survivor","reason"}  admin
 *   POST /api/v1/mpi/reviews/{id}/separate  {"reason"}             admin
 *   POST /api/v1/mpi/merge          {"survivor","merged","reason"} admin
 *   POST /api/v1/mpi/merges/{id}/undo       {"reason"}             admin
 *   GET  /api/v1/mpi/merges?patient=N                       admin, cdc
 *   POST /fhir/Patient/$match   admin, integrator, clinician,
 *                               family_doctor, cdc
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/fhirstore.h"
#include "rhis/handlers.h"
#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/mpi.h"
#include "rhis/patient.h"

#define MATCH_EXT_GRADE "http://hl7.org/fhir/StructureDefinition/match-grade"
#define MAX_REASON      500
#define MAX_REPOINT     1000
#define MATCH_MAX       100
#define MATCH_DEFAULT   10
#define REVIEW_DEFAULT  20
#define REVIEW_MAX      100

/* ---- small helpers ---- */

static rhis_status
bad(rhis_req *req, const char *expr, const char *msg)
{
    if (expr != NULL)
        rhis_req_error_expr(req, expr);
    return rhis_req_errorf(req, RHIS_EINVAL, "%s", msg);
}

/* The error already recorded on req by the store, else a generic one. */
static rhis_status
ctx_fail(rhis_fhir_ctx *c, rhis_status rc, const char *what)
{
    if (c->req->err_status != RHIS_OK)
        return c->req->err_status;
    return rhis_req_errorf(c->req, rc, "%s", what);
}

static const char *
id_text(rhis_req *req, int64_t id)
{
    return rhis_arena_printf(req->arena, "%lld", (long long)id);
}

static json_object *
parse_json(const char *text)
{
    json_object *o = NULL;
    char err[64];
    if (text == NULL || rhis_json_parse(text, strlen(text), 64, &o, err,
                                        sizeof(err)) != RHIS_OK)
        return NULL;
    return o;
}

static const rhis_fhir_type *
patient_type(rhis_req *req)
{
    const rhis_fhir_type *t = rhis_fhir_type_find("Patient");
    if (t == NULL)
        rhis_req_errorf(req, RHIS_EINTERNAL, "the Patient store is missing");
    return t;
}

/* Sees the whole ID number and phone: the roles the brief names. */
static int
sees_full(const rhis_req *req)
{
    return req->user != NULL &&
           (req->user->role & (RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR)) != 0;
}

/* The current Patient JSON of id (new object, masked for lists unless the
 * caller sees it in full); NULL when absent or deleted. */
static json_object *
patient_json(rhis_fhir_ctx *c, const rhis_fhir_type *t, int64_t id)
{
    const char *json;
    int64_t v, pid;
    if (rhis_fhir_do_read(c, t, id, &json, &v, &pid) != RHIS_OK)
        return NULL;
    json_object *o = parse_json(json);
    if (o != NULL && !sees_full(c->req))
        rhis_patient_mask(o);
    return o;
}

/* The typed state of a patient the merge code needs. */
typedef struct pstate {
    int64_t id;
    int deleted;
    int64_t merged_into;
} pstate;

static void
fill_state(rhis_stmt *st, void *out)
{
    pstate *p = out;
    p->id = rhis_db_column_int64(st, 0);
    p->deleted = (int)rhis_db_column_int64(st, 1);
    p->merged_into = rhis_db_column_int64(st, 2);
}

static rhis_status
load_state(rhis_db *db, int64_t id, pstate *out)
{
    memset(out, 0, sizeof(*out));
    return rhis_db_query_row(db, fill_state, out,
                             "SELECT id, deleted, COALESCE(merged_into, 0)"
                             " FROM patient WHERE id = ?",
                             "i", id);
}

/* ---- request bodies ---- */

/* Refuses members of body other than those in allowed (NULL-terminated). */
static rhis_status
only_members(rhis_req *req, json_object *body, const char *const *allowed)
{
    if (!json_object_is_type(body, json_type_object))
        return bad(req, NULL, "the body must be a JSON object");
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, key));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown member '%.40s' in the body", key);
        }
    }
    return RHIS_OK;
}

/* "reason": a required string of 1..MAX_REASON bytes. */
static rhis_status
body_reason(rhis_req *req, json_object *body, const char **out)
{
    json_object *r = rhis_json_get(body, "reason");
    const char *s = r != NULL && json_object_is_type(r, json_type_string)
                        ? json_object_get_string(r)
                        : NULL;
    if (s == NULL || s[strspn(s, " \t\r\n")] == '\0' || strlen(s) > MAX_REASON)
        return bad(req, "reason",
                   "'reason' is required: a string of 1 to 500 bytes saying "
                   "why");
    *out = rhis_arena_strdup(req->arena, s);
    return RHIS_OK;
}

/* A patient named by an integer id, "12" or "Patient/12". */
static rhis_status
body_patient(rhis_req *req, json_object *body, const char *key, int64_t *out)
{
    json_object *v = rhis_json_get(body, key);
    int64_t id = 0;
    if (v != NULL && json_object_is_type(v, json_type_int)) {
        id = json_object_get_int64(v);
    } else if (v != NULL && json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strncmp(s, "Patient/", 8) == 0)
            s += 8;
        char *end;
        long long n = strtoll(s, &end, 10);
        id = (*s >= '1' && *s <= '9' && *end == '\0') ? n : 0;
    }
    if (id <= 0) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "'%s' must name a Patient: an id such as 12 "
                               "or \"Patient/12\"",
                               key);
    }
    *out = id;
    return RHIS_OK;
}

static rhis_status
path_id(rhis_req *req, const char *what, int64_t *id)
{
    const char *s = rhis_req_param(req, "id");
    if (rhis_fhir_parse_id(req, "id", s, id) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "%s %s not found", what,
                               s != NULL ? s : "");
    return RHIS_OK;
}

/* ---- Patient.link editing ---- */

/* The id a Reference {"reference": ".../Patient/12"} points to, or 0. */
static int64_t
ref_id(json_object *other)
{
    const char *r = rhis_json_get_str(other, "reference");
    const char *slash = r != NULL ? strrchr(r, '/') : NULL;
    if (slash == NULL)
        return 0;
    char *end;
    long long v = strtoll(slash + 1, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

static json_object *
links_of(json_object *res)
{
    json_object *l = rhis_json_get(res, "link");
    if (l == NULL || !json_object_is_type(l, json_type_array)) {
        l = json_object_new_array();
        json_object_object_add(res, "link", l);
    }
    return l;
}

static int
has_link(json_object *res, const char *type, int64_t other)
{
    json_object *l = rhis_json_get(res, "link");
    for (size_t i = 0; l != NULL && i < json_object_array_length(l); i++) {
        json_object *e = json_object_array_get_idx(l, i);
        const char *t = rhis_json_get_str(e, "type");
        if (t != NULL && strcmp(t, type) == 0 &&
            ref_id(rhis_json_get(e, "other")) == other)
            return 1;
    }
    return 0;
}

static void
add_link(json_object *res, const char *type, int64_t other)
{
    if (has_link(res, type, other))
        return;
    char buf[40];
    snprintf(buf, sizeof(buf), "Patient/%lld", (long long)other);
    json_object *ref = json_object_new_object();
    json_object_object_add(ref, "reference", json_object_new_string(buf));
    json_object *e = json_object_new_object();
    json_object_object_add(e, "other", ref);
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_array_add(links_of(res), e);
}

/* Removes the links of type (to other, or to anyone when other is 0);
 * the ids removed go to out (at most max; may be NULL).  Drops an empty
 * link array. */
static int
remove_links(
    json_object *res, const char *type, int64_t other, int64_t *out, int max)
{
    json_object *l = rhis_json_get(res, "link");
    int n = 0;
    if (l == NULL || !json_object_is_type(l, json_type_array))
        return 0;
    for (size_t i = json_object_array_length(l); i-- > 0;) {
        json_object *e = json_object_array_get_idx(l, i);
        const char *t = rhis_json_get_str(e, "type");
        int64_t o = ref_id(rhis_json_get(e, "other"));
        if (t == NULL || strcmp(t, type) != 0 || (other != 0 && o != other))
            continue;
        if (out != NULL && n < max)
            out[n] = o;
        n++;
        json_object_array_del_idx(l, i, 1);
    }
    if (json_object_array_length(l) == 0)
        json_object_object_del(res, "link");
    return n;
}

/* Loads the current JSON of Patient id for an update. */
static rhis_status
load_for_update(rhis_fhir_ctx *c,
                const rhis_fhir_type *t,
                int64_t id,
                json_object **out,
                int64_t *version)
{
    const char *json;
    int64_t pid;
    *out = NULL;
    rhis_status rc = rhis_fhir_do_read(c, t, id, &json, version, &pid);
    if (rc == RHIS_ENOTFOUND || (rc == RHIS_OK && json == NULL))
        return rhis_req_errorf(c->req, RHIS_ENOTFOUND, "Patient/%lld not found",
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(c->req, rc, "cannot read Patient/%lld",
                               (long long)id);
    *out = parse_json(json);
    if (*out == NULL)
        return rhis_req_errorf(c->req, RHIS_EINTERNAL,
                               "the stored Patient/%lld is not valid JSON",
                               (long long)id);
    return RHIS_OK;
}

/* Writes res as the next version of Patient id; takes ownership of res. */
static rhis_status
save(rhis_fhir_ctx *c,
     const rhis_fhir_type *t,
     int64_t id,
     json_object *res,
     int64_t version)
{
    int64_t nv;
    rhis_status rc = rhis_fhir_do_update(c, t, id, res, version, &nv);
    json_object_put(res);
    if (rc != RHIS_OK)
        return ctx_fail(c, rc, "cannot write the Patient version");
    return RHIS_OK;
}

/* Ids touched by a merge or an undo: the index is refreshed from the
 * database for them when the transaction rolls back. */
typedef struct touched {
    int64_t ids[MAX_REPOINT + 2];
    int n;
} touched;

static void
touch(touched *tc, int64_t id)
{
    if (tc->n < (int)(sizeof(tc->ids) / sizeof(tc->ids[0])))
        tc->ids[tc->n++] = id;
}

static void
roll_back(rhis_fhir_ctx *c, const touched *tc)
{
    rhis_db_rollback(c->db);
    for (int i = 0; i < tc->n; i++)
        (void)rhis_mpi_refresh(c->db, tc->ids[i]);
}

static rhis_status
audit_patient(rhis_req *req, rhis_db *db, const char *op, int64_t id)
{
    req->audit_patient = id_text(req, id);
    return rhis_req_audit(req, db, "U", op, "Patient", id_text(req, id), 200);
}

/* ---- merge ---- */

static json_object *
id_array(const int64_t *ids, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(ids[i]));
    return a;
}

/*
 * Merges `merged` into `survivor` inside the open transaction of c:
 * new versions of both (and of the patients merged into `merged`, which
 * now point at the survivor), an mpi_merge row, the review pair closed.
 * *merge_id gets the new row.  Errors are recorded on the request.
 */
static rhis_status
merge_tx(rhis_fhir_ctx *c,
         const rhis_fhir_type *t,
         int64_t survivor,
         int64_t merged,
         const char *reason,
         int64_t review_id,
         touched *tc,
         int64_t *merge_id)
{
    rhis_req *req = c->req;
    if (survivor == merged)
        return bad(req, "merged", "a Patient cannot be merged into itself");
    pstate s, m;
    rhis_status rc = load_state(c->db, survivor, &s);
    if (rc == RHIS_OK)
        rc = load_state(c->db, merged, &m);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "Patient/%lld not found",
                               (long long)(s.id == 0 ? survivor : merged));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the patients");
    if (s.deleted || m.deleted)
        return rhis_req_errorf(req, RHIS_ECONFLICT, "Patient/%lld is deleted",
                               (long long)(s.deleted ? survivor : merged));
    if (s.merged_into != 0)
        return rhis_req_errorf(req, RHIS_ECONFLICT,
                               "the survivor Patient/%lld was itself merged "
                               "into Patient/%lld; merge into that one",
                               (long long)survivor, (long long)s.merged_into);
    if (m.merged_into != 0)
        return rhis_req_errorf(req, RHIS_ECONFLICT,
                               "Patient/%lld is already merged into "
                               "Patient/%lld",
                               (long long)merged, (long long)m.merged_into);

    /* the merged record: inactive, replaced by the survivor; the records
     * it replaced move to the survivor */
    json_object *mj, *sj;
    int64_t mv, sv;
    rc = load_for_update(c, t, merged, &mj, &mv);
    if (rc != RHIS_OK)
        return rc;
    json_object *act = rhis_json_get(mj, "active");
    int active_before = act == NULL ||
                        !json_object_is_type(act, json_type_boolean) ||
                        json_object_get_boolean(act);
    int64_t *dropped =
        rhis_arena_alloc(req->arena, sizeof(int64_t) * MAX_REPOINT);
    int ndropped = remove_links(mj, "replaces", 0, dropped, MAX_REPOINT);
    if (ndropped > MAX_REPOINT) {
        json_object_put(mj);
        return rhis_req_errorf(req, RHIS_ETOOBIG,
                               "Patient/%lld replaces more than %d records",
                               (long long)merged, MAX_REPOINT);
    }
    json_object_object_add(mj, "active", json_object_new_boolean(0));
    add_link(mj, "replaced-by", survivor);
    touch(tc, merged);
    if ((rc = save(c, t, merged, mj, mv)) != RHIS_OK)
        return rc;

    /* earlier merges into the merged record now point at the survivor */
    int64_t *moved =
        rhis_arena_alloc(req->arena, sizeof(int64_t) * MAX_REPOINT);
    int nmoved = 0;
    rhis_stmt *st;
    rc = rhis_db_query(c->db, &st,
                       "SELECT id FROM patient WHERE merged_into = ?"
                       " AND deleted = 0 ORDER BY id",
                       "i", merged);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        if (nmoved == MAX_REPOINT) {
            rc = RHIS_ETOOBIG;
            break;
        }
        moved[nmoved++] = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_ETOOBIG)
        return rhis_req_errorf(req, RHIS_ETOOBIG,
                               "more than %d records are merged into "
                               "Patient/%lld",
                               MAX_REPOINT, (long long)merged);
    if (rc != RHIS_DONE && rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read earlier merges");
    for (int i = 0; i < nmoved; i++) {
        json_object *xj;
        int64_t xv;
        if ((rc = load_for_update(c, t, moved[i], &xj, &xv)) != RHIS_OK)
            return rc;
        remove_links(xj, "replaced-by", 0, NULL, 0);
        add_link(xj, "replaced-by", survivor);
        touch(tc, moved[i]);
        if ((rc = save(c, t, moved[i], xj, xv)) != RHIS_OK)
            return rc;
    }

    /* the survivor replaces the merged record and those it replaced */
    if ((rc = load_for_update(c, t, survivor, &sj, &sv)) != RHIS_OK)
        return rc;
    add_link(sj, "replaces", merged);
    for (int i = 0; i < nmoved; i++)
        add_link(sj, "replaces", moved[i]);
    touch(tc, survivor);
    if ((rc = save(c, t, survivor, sj, sv)) != RHIS_OK)
        return rc;

    json_object *info = json_object_new_object();
    json_object_object_add(info, "mergedActiveBefore",
                           json_object_new_boolean(active_before));
    json_object_object_add(info, "replacesMoved", id_array(dropped, ndropped));
    json_object_object_add(info, "repointed", id_array(moved, nmoved));
    json_object_object_add(info, "mergedVersion", json_object_new_int64(mv));
    json_object_object_add(info, "survivorVersion", json_object_new_int64(sv));
    if (review_id != 0)
        json_object_object_add(info, "review",
                               json_object_new_int64(review_id));
    rc = rhis_db_query(c->db, &st,
                       "INSERT INTO mpi_merge (survivor_id, merged_id, ts,"
                       " user_id, reason, moved) VALUES (?, ?, ?, ?, ?, ?)"
                       " RETURNING id",
                       "iiiiss", survivor, merged, c->now_ms,
                       req->user != NULL ? req->user->user_id : (int64_t)0,
                       reason, rhis_json_print(info));
    json_object_put(info);
    if (rc == RHIS_OK) {
        rc = rhis_db_step(st);
        if (rc == RHIS_ROW) {
            *merge_id = rhis_db_column_int64(st, 0);
            rc = RHIS_OK;
        }
        rhis_db_finalize(st);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_run(c->db,
                         "UPDATE mpi_review SET status = 'merged',"
                         " decided_ms = ?, decided_by = ? WHERE patient_a = ?"
                         " AND patient_b = ? AND status = 'open'",
                         "iiii", c->now_ms,
                         req->user != NULL ? req->user->user_id : (int64_t)0,
                         survivor < merged ? survivor : merged,
                         survivor < merged ? merged : survivor);
    if (rc == RHIS_OK)
        rc = audit_patient(req, c->db, "mpi-merge", merged);
    if (rc == RHIS_OK)
        rc = audit_patient(req, c->db, "mpi-merge", survivor);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot record the merge");
    return RHIS_OK;
}

static void
answer_merge(rhis_req *req,
             rhis_resp *resp,
             int64_t merge_id,
             int64_t survivor,
             int64_t merged)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "merge", json_object_new_int64(merge_id));
    json_object_object_add(o, "survivor", json_object_new_int64(survivor));
    json_object_object_add(o, "merged", json_object_new_int64(merged));
    req->audit_type = "Patient";
    req->audit_id = id_text(req, merged);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
}

/* Runs merge_tx in a transaction of its own and answers. */
static rhis_status
merge_and_answer(rhis_req *req,
                 rhis_resp *resp,
                 int64_t survivor,
                 int64_t merged,
                 const char *reason,
                 int64_t review_id)
{
    const rhis_fhir_type *t = patient_type(req);
    if (t == NULL)
        return req->err_status;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(c.db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    touched *tc = rhis_arena_calloc(req->arena, sizeof(*tc));
    int64_t merge_id = 0;
    rc = merge_tx(&c, t, survivor, merged, reason, review_id, tc, &merge_id);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(c.db);
    if (rc != RHIS_OK) {
        req->audit_done = 0;
        roll_back(&c, tc);
        return req->err_status != RHIS_OK
                   ? req->err_status
                   : rhis_req_errorf(req, rc, "cannot merge");
    }
    answer_merge(req, resp, merge_id, survivor, merged);
    return RHIS_OK;
}

rhis_status
api_mpi_merge(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"survivor", "merged", "reason", NULL};
    json_object *body;
    int64_t survivor, merged;
    const char *reason;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = only_members(req, body, allowed);
    if (rc == RHIS_OK)
        rc = body_patient(req, body, "survivor", &survivor);
    if (rc == RHIS_OK)
        rc = body_patient(req, body, "merged", &merged);
    if (rc == RHIS_OK)
        rc = body_reason(req, body, &reason);
    if (rc != RHIS_OK)
        return rc;
    return merge_and_answer(req, resp, survivor, merged, reason, 0);
}

/* ---- reviews ---- */

typedef struct review {
    int64_t id, a, b, created, decided, decided_by;
    double score;
    char status[16];
    char *detail;
} review;

static void
fill_review(rhis_stmt *st, void *out)
{
    review *r = out;
    r->id = rhis_db_column_int64(st, 0);
    r->a = rhis_db_column_int64(st, 1);
    r->b = rhis_db_column_int64(st, 2);
    r->score = rhis_db_column_double(st, 3);
    const char *s = rhis_db_column_text(st, 4);
    snprintf(r->status, sizeof(r->status), "%s", s != NULL ? s : "");
    r->created = rhis_db_column_int64(st, 5);
    r->decided = rhis_db_column_int64(st, 6);
    r->decided_by = rhis_db_column_int64(st, 7);
}

#define REVIEW_COLS                                                            \
    "r.id, r.patient_a, r.patient_b, r.score, r.status, r.created_ms,"         \
    " COALESCE(r.decided_ms, 0), COALESCE(r.decided_by, 0), r.detail"

static rhis_status
load_review(rhis_db *db, int64_t id, review *r)
{
    memset(r, 0, sizeof(*r));
    return rhis_db_query_row(
        db, fill_review, r,
        "SELECT " REVIEW_COLS " FROM mpi_review r WHERE r.id = ?", "i", id);
}

static rhis_status
open_review(rhis_req *req, rhis_db *db, int64_t id, review *r)
{
    rhis_status rc = load_review(db, id, r);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "review %lld not found", (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the review");
    if (strcmp(r->status, "open") != 0)
        return rhis_req_errorf(req, RHIS_ECONFLICT,
                               "review %lld was already decided (%s)",
                               (long long)id, r->status);
    return RHIS_OK;
}

rhis_status
api_mpi_review_merge(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"survivor", "reason", NULL};
    int64_t id, survivor;
    json_object *body;
    const char *reason;
    rhis_db *db;
    review r;
    rhis_status rc = path_id(req, "review", &id);
    if (rc == RHIS_OK)
        rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = only_members(req, body, allowed);
    if (rc == RHIS_OK)
        rc = body_patient(req, body, "survivor", &survivor);
    if (rc == RHIS_OK)
        rc = body_reason(req, body, &reason);
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = open_review(req, db, id, &r);
    if (rc != RHIS_OK)
        return rc;
    if (survivor != r.a && survivor != r.b) {
        rhis_req_error_expr(req, "survivor");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "'survivor' must be one of the pair: "
                               "Patient/%lld or Patient/%lld",
                               (long long)r.a, (long long)r.b);
    }
    return merge_and_answer(req, resp, survivor, survivor == r.a ? r.b : r.a,
                            reason, id);
}

rhis_status
api_mpi_review_separate(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"reason", NULL};
    int64_t id;
    json_object *body;
    const char *reason;
    rhis_db *db;
    review r;
    rhis_status rc = path_id(req, "review", &id);
    if (rc == RHIS_OK)
        rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = only_members(req, body, allowed);
    if (rc == RHIS_OK)
        rc = body_reason(req, body, &reason);
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc != RHIS_OK)
        return req->err_status != RHIS_OK
                   ? rc
                   : rhis_req_errorf(req, rc, "database unavailable");
    rc = open_review(req, db, id, &r);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        return rc;
    }
    /* the reason joins the detail, so the queue shows why */
    json_object *d = parse_json(r.detail);
    if (d == NULL)
        d = json_object_new_object();
    json_object_object_add(d, "decisionReason", json_object_new_string(reason));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    rc = rhis_db_run(db,
                     "UPDATE mpi_review SET status = 'separate',"
                     " decided_ms = ?, decided_by = ?, detail = ?"
                     " WHERE id = ? AND status = 'open'",
                     "iisi", now, req->user->user_id, rhis_json_print(d), id);
    json_object_put(d);
    if (rc == RHIS_OK)
        rc = audit_patient(req, db, "mpi-separate", r.a);
    if (rc == RHIS_OK)
        rc = audit_patient(req, db, "mpi-separate", r.b);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        req->audit_done = 0;
        rhis_db_rollback(db);
        return rhis_req_errorf(req, rc, "cannot record the decision");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(id));
    json_object_object_add(o, "status", json_object_new_string("separate"));
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static void
add_instant(json_object *o, const char *key, int64_t ms)
{
    char buf[40];
    if (ms == 0) {
        json_object_object_add(o, key, NULL);
        return;
    }
    rhis_fhir_instant_ms(ms, buf, sizeof(buf));
    json_object_object_add(o, key, json_object_new_string(buf));
}

/* The caller's area prefix for list filtering ("" = everything). */
static const char *
scope_prefix(rhis_req *req)
{
    const rhis_principal *u = req->user;
    if (u == NULL)
        return "";
    if (u->scope_institution != 0)
        return u->inst_area;
    return u->scope_area;
}

/* _count and _offset of the platform lists. */
static rhis_status
paging(rhis_req *req, int def, int max, int *count, int64_t *offset)
{
    const char *c = rhis_req_query(req, "_count");
    const char *o = rhis_req_query(req, "_offset");
    char *end;
    *count = def;
    *offset = 0;
    if (c != NULL) {
        long v = strtol(c, &end, 10);
        if (*c == '\0' || *end != '\0' || v < 1 || v > max) {
            rhis_req_error_expr(req, "_count");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_count must be an integer from 1 to %d",
                                   max);
        }
        *count = (int)v;
    }
    if (o != NULL) {
        long long v = strtoll(o, &end, 10);
        if (*o == '\0' || *end != '\0' || v < 0) {
            rhis_req_error_expr(req, "_offset");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_offset must be a non-negative integer");
        }
        *offset = v;
    }
    return RHIS_OK;
}

static rhis_status
known_params(rhis_req *req, const char *const *allowed, const char *list)
{
    for (int i = 0; i < req->query.n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, req->query.kv[i].key) == 0;
        if (!ok) {
            rhis_req_error_expr(
                req, rhis_arena_strdup(req->arena, req->query.kv[i].key));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' (%s)",
                                   req->query.kv[i].key, list);
        }
    }
    return RHIS_OK;
}

rhis_status
api_mpi_review_list(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"status", "_count", "_offset", NULL};
    int count;
    int64_t offset;
    rhis_status rc = known_params(req, allowed, "status, _count, _offset");
    if (rc == RHIS_OK)
        rc = paging(req, REVIEW_DEFAULT, REVIEW_MAX, &count, &offset);
    if (rc != RHIS_OK)
        return rc;
    const char *status = rhis_req_query(req, "status");
    if (status == NULL)
        status = "open";
    if (strcmp(status, "open") != 0 && strcmp(status, "merged") != 0 &&
        strcmp(status, "separate") != 0 && strcmp(status, "all") != 0)
        return bad(req, "status",
                   "status must be open, merged, separate or all");
    const rhis_fhir_type *t = patient_type(req);
    if (t == NULL)
        return req->err_status;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    /* a scoped caller sees the pairs with at least one resident of the
     * scope: duplicates of their residents matter to them */
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    if (strcmp(status, "all") != 0)
        rhis_sql_where_add(&w, "r.status = ?", 's', 0, status);
    const char *scope = scope_prefix(req);
    if (scope[0] != '\0')
        rhis_sql_where_add(&w,
                           "EXISTS (SELECT 1 FROM patient p WHERE p.id IN"
                           " (r.patient_a, r.patient_b) AND p.area_code"
                           " LIKE ?)",
                           's', 0,
                           rhis_arena_printf(req->arena, "%s%%", scope));
    int64_t total = 0;
    rc = rhis_sql_where_count(c.db, &w, "mpi_review r", &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(
            c.db, &w, "SELECT " REVIEW_COLS " FROM mpi_review r",
            "ORDER BY r.score DESC, r.id", count, offset, &st);
    review *rows = rhis_arena_alloc(req->arena, sizeof(review) * (size_t)count);
    int n = 0;
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        if (n < count) {
            fill_review(st, &rows[n]);
            rows[n].detail =
                rhis_arena_strdup(req->arena, rhis_db_column_text(st, 8) != NULL
                                                  ? rhis_db_column_text(st, 8)
                                                  : "{}");
            n++;
        }
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE && rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot list reviews");
    /* every resident shown is a disclosure: audited in one transaction */
    rc = rhis_db_begin(c.db);
    json_object *items = json_object_new_array();
    for (int i = 0; i < n && rc == RHIS_OK; i++) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "id", json_object_new_int64(rows[i].id));
        json_object_object_add(it, "score",
                               rhis_json_new_double(rows[i].score));
        json_object_object_add(it, "status",
                               json_object_new_string(rows[i].status));
        add_instant(it, "created", rows[i].created);
        add_instant(it, "decided", rows[i].decided);
        json_object_object_add(it, "a", patient_json(&c, t, rows[i].a));
        json_object_object_add(it, "b", patient_json(&c, t, rows[i].b));
        json_object *d = parse_json(rows[i].detail);
        json_object_object_add(it, "detail",
                               d != NULL ? d : json_object_new_object());
        json_object_array_add(items, it);
        rc = rhis_ehr_audit_read(&c, "mpi-review", "Patient", rows[i].a,
                                 rows[i].a);
        if (rc == RHIS_OK)
            rc = rhis_ehr_audit_read(&c, "mpi-review", "Patient", rows[i].b,
                                     rows[i].b);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(c.db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(c.db);
        req->audit_done = 0;
        json_object_put(items);
        return ctx_fail(&c, rc, "cannot audit the list");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "items", items);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* ---- merge history and undo ---- */

typedef struct mrow {
    int64_t id, survivor, merged, ts, user, undone, undone_by;
    const char *reason, *moved;
} mrow;

#define MERGE_COLS                                                             \
    "id, survivor_id, merged_id, ts, COALESCE(user_id, 0), reason, moved,"     \
    " COALESCE(undone_ms, 0), COALESCE(undone_by, 0)"

static void
fill_mrow(rhis_stmt *st, mrow *m, rhis_arena *a)
{
    const char *s;
    m->id = rhis_db_column_int64(st, 0);
    m->survivor = rhis_db_column_int64(st, 1);
    m->merged = rhis_db_column_int64(st, 2);
    m->ts = rhis_db_column_int64(st, 3);
    m->user = rhis_db_column_int64(st, 4);
    s = rhis_db_column_text(st, 5);
    m->reason = rhis_arena_strdup(a, s != NULL ? s : "");
    s = rhis_db_column_text(st, 6);
    m->moved = rhis_arena_strdup(a, s != NULL ? s : "{}");
    m->undone = rhis_db_column_int64(st, 7);
    m->undone_by = rhis_db_column_int64(st, 8);
}

static json_object *
mrow_json(const mrow *m)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(m->id));
    json_object_object_add(o, "survivor", json_object_new_int64(m->survivor));
    json_object_object_add(o, "merged", json_object_new_int64(m->merged));
    add_instant(o, "created", m->ts);
    json_object_object_add(o, "user", json_object_new_int64(m->user));
    json_object_object_add(o, "reason", json_object_new_string(m->reason));
    json_object *mv = parse_json(m->moved);
    json_object *rp = mv != NULL ? rhis_json_get(mv, "repointed") : NULL;
    json_object_object_add(o, "repointed",
                           rp != NULL ? json_object_get(rp)
                                      : json_object_new_array());
    add_instant(o, "undone", m->undone);
    json_object_object_add(
        o, "undoneBy",
        m->undone_by != 0 ? json_object_new_int64(m->undone_by) : NULL);
    const char *ur = mv != NULL ? rhis_json_get_str(mv, "undoReason") : NULL;
    json_object_object_add(o, "undoReason",
                           ur != NULL ? json_object_new_string(ur) : NULL);
    json_object_put(mv);
    return o;
}

rhis_status
api_mpi_merge_list(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"patient", "_count", "_offset", NULL};
    int count;
    int64_t offset, pid = 0;
    rhis_db *db;
    rhis_status rc = known_params(req, allowed, "patient, _count, _offset");
    if (rc == RHIS_OK)
        rc = paging(req, REVIEW_DEFAULT, REVIEW_MAX, &count, &offset);
    const char *p = rhis_req_query(req, "patient");
    if (rc == RHIS_OK && p != NULL)
        rc = rhis_fhir_parse_id(
            req, "patient", strncmp(p, "Patient/", 8) == 0 ? p + 8 : p, &pid);
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    int64_t total = 0;
    rhis_stmt *st = NULL;
    if (pid != 0) {
        rc = rhis_db_scalar_int64(db, &total,
                                  "SELECT COUNT(*) FROM mpi_merge WHERE"
                                  " survivor_id = ? OR merged_id = ?",
                                  "ii", pid, pid);
        if (rc == RHIS_OK)
            rc = rhis_db_query(db, &st,
                               "SELECT " MERGE_COLS " FROM mpi_merge WHERE"
                               " survivor_id = ? OR merged_id = ?"
                               " ORDER BY id DESC LIMIT ? OFFSET ?",
                               "iiii", pid, pid, (int64_t)count, offset);
    } else {
        rc = rhis_db_scalar_int64(db, &total, "SELECT COUNT(*) FROM mpi_merge",
                                  "");
        if (rc == RHIS_OK)
            rc = rhis_db_query(db, &st,
                               "SELECT " MERGE_COLS " FROM mpi_merge"
                               " ORDER BY id DESC LIMIT ? OFFSET ?",
                               "ii", (int64_t)count, offset);
    }
    json_object *items = json_object_new_array();
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        mrow m;
        fill_mrow(st, &m, req->arena);
        json_object_array_add(items, mrow_json(&m));
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE && rc != RHIS_OK) {
        json_object_put(items);
        return rhis_req_errorf(req, rc, "cannot list merges");
    }
    if (pid != 0)
        req->audit_patient = id_text(req, pid);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "items", items);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* The int64 members of a JSON array (at most max). */
static int
ids_of(json_object *arr, int64_t *out, int max)
{
    int n = 0;
    for (size_t i = 0;
         arr != NULL && json_object_is_type(arr, json_type_array) &&
         i < json_object_array_length(arr) && n < max;
         i++)
        out[n++] = json_object_get_int64(json_object_array_get_idx(arr, i));
    return n;
}

static rhis_status
undo_tx(rhis_fhir_ctx *c,
        const rhis_fhir_type *t,
        const mrow *m,
        const char *reason,
        touched *tc)
{
    rhis_req *req = c->req;
    pstate s, d;
    rhis_status rc = load_state(c->db, m->merged, &d);
    if (rc == RHIS_OK)
        rc = load_state(c->db, m->survivor, &s);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the patients");
    if (d.deleted || s.deleted)
        return rhis_req_errorf(
            req, RHIS_ECONFLICT, "Patient/%lld was deleted since the merge",
            (long long)(d.deleted ? m->merged : m->survivor));
    if (d.merged_into != m->survivor)
        return rhis_req_errorf(req, RHIS_ECONFLICT,
                               "Patient/%lld is no longer merged into "
                               "Patient/%lld; undo the later merges first",
                               (long long)m->merged, (long long)m->survivor);
    json_object *info = parse_json(m->moved);
    if (info == NULL)
        info = json_object_new_object();
    json_object *ab = rhis_json_get(info, "mergedActiveBefore");
    int active = ab == NULL || json_object_get_boolean(ab);
    int64_t *rep = rhis_arena_alloc(req->arena, sizeof(int64_t) * MAX_REPOINT);
    int64_t *back = rhis_arena_alloc(req->arena, sizeof(int64_t) * MAX_REPOINT);
    int nrep = ids_of(rhis_json_get(info, "repointed"), rep, MAX_REPOINT);
    int64_t *moved_links =
        rhis_arena_alloc(req->arena, sizeof(int64_t) * MAX_REPOINT);
    int nlinks =
        ids_of(rhis_json_get(info, "replacesMoved"), moved_links, MAX_REPOINT);
    /* those still pointing at the survivor go back to the merged record */
    int nback = 0;
    for (int i = 0; i < nrep && rc == RHIS_OK; i++) {
        pstate x;
        if (load_state(c->db, rep[i], &x) == RHIS_OK && !x.deleted &&
            x.merged_into == m->survivor)
            back[nback++] = rep[i];
    }

    json_object *dj, *sj;
    int64_t dv, sv;
    rc = load_for_update(c, t, m->merged, &dj, &dv);
    if (rc != RHIS_OK)
        goto out;
    remove_links(dj, "replaced-by", m->survivor, NULL, 0);
    for (int i = 0; i < nlinks; i++)
        for (int k = 0; k < nback; k++)
            if (moved_links[i] == back[k])
                add_link(dj, "replaces", moved_links[i]);
    json_object_object_add(dj, "active", json_object_new_boolean(active));
    touch(tc, m->merged);
    if ((rc = save(c, t, m->merged, dj, dv)) != RHIS_OK)
        goto out;
    for (int i = 0; i < nback; i++) {
        json_object *xj;
        int64_t xv;
        if ((rc = load_for_update(c, t, back[i], &xj, &xv)) != RHIS_OK)
            goto out;
        remove_links(xj, "replaced-by", 0, NULL, 0);
        add_link(xj, "replaced-by", m->merged);
        touch(tc, back[i]);
        if ((rc = save(c, t, back[i], xj, xv)) != RHIS_OK)
            goto out;
    }
    if ((rc = load_for_update(c, t, m->survivor, &sj, &sv)) != RHIS_OK)
        goto out;
    remove_links(sj, "replaces", m->merged, NULL, 0);
    for (int i = 0; i < nback; i++)
        remove_links(sj, "replaces", back[i], NULL, 0);
    touch(tc, m->survivor);
    if ((rc = save(c, t, m->survivor, sj, sv)) != RHIS_OK)
        goto out;

    json_object_object_add(info, "undoReason", json_object_new_string(reason));
    json_object_object_add(info, "restored", id_array(back, nback));
    rc = rhis_db_run(c->db,
                     "UPDATE mpi_merge SET undone_ms = ?, undone_by = ?,"
                     " moved = ? WHERE id = ? AND undone_ms IS NULL",
                     "iisi", c->now_ms,
                     req->user != NULL ? req->user->user_id : (int64_t)0,
                     rhis_json_print(info), m->id);
    /* the pair goes back to the queue for a new decision */
    if (rc == RHIS_OK)
        rc =
            rhis_db_run(c->db,
                        "UPDATE mpi_review SET status = 'open', decided_ms ="
                        " NULL, decided_by = NULL WHERE patient_a = ? AND"
                        " patient_b = ? AND status = 'merged'",
                        "ii", m->survivor < m->merged ? m->survivor : m->merged,
                        m->survivor < m->merged ? m->merged : m->survivor);
    if (rc == RHIS_OK)
        rc = audit_patient(req, c->db, "mpi-unmerge", m->merged);
    if (rc == RHIS_OK)
        rc = audit_patient(req, c->db, "mpi-unmerge", m->survivor);
    if (rc != RHIS_OK)
        rc = rhis_req_errorf(req, rc, "cannot record the undo");
out:
    json_object_put(info);
    return rc;
}

rhis_status
api_mpi_merge_undo(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"reason", NULL};
    int64_t id;
    json_object *body;
    const char *reason;
    rhis_status rc = path_id(req, "merge", &id);
    if (rc == RHIS_OK)
        rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = only_members(req, body, allowed);
    if (rc == RHIS_OK)
        rc = body_reason(req, body, &reason);
    if (rc != RHIS_OK)
        return rc;
    const rhis_fhir_type *t = patient_type(req);
    if (t == NULL)
        return req->err_status;
    rhis_fhir_ctx c;
    rc = rhis_fhir_ctx_req(&c, req);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(c.db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    touched *tc = rhis_arena_calloc(req->arena, sizeof(*tc));
    mrow m;
    rhis_stmt *st;
    rc = rhis_db_query(c.db, &st,
                       "SELECT " MERGE_COLS " FROM mpi_merge WHERE id = ?", "i",
                       id);
    if (rc == RHIS_OK) {
        rc = rhis_db_step(st);
        if (rc == RHIS_ROW) {
            fill_mrow(st, &m, req->arena);
            rc = RHIS_OK;
        } else if (rc == RHIS_DONE) {
            rc = rhis_req_errorf(req, RHIS_ENOTFOUND, "merge %lld not found",
                                 (long long)id);
        }
        rhis_db_finalize(st);
    }
    if (rc == RHIS_OK && m.undone != 0)
        rc = rhis_req_errorf(req, RHIS_ECONFLICT,
                             "merge %lld was already undone", (long long)id);
    if (rc == RHIS_OK)
        rc = undo_tx(&c, t, &m, reason, tc);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(c.db);
    if (rc != RHIS_OK) {
        req->audit_done = 0;
        roll_back(&c, tc);
        return req->err_status != RHIS_OK
                   ? req->err_status
                   : rhis_req_errorf(req, rc, "cannot undo the merge");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "merge", json_object_new_int64(id));
    json_object_object_add(o, "survivor", json_object_new_int64(m.survivor));
    json_object_object_add(o, "merged", json_object_new_int64(m.merged));
    json_object_object_add(o, "undone", json_object_new_boolean(1));
    req->audit_type = "Patient";
    req->audit_id = id_text(req, m.merged);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* ---- Patient/$match ---- */

/* What a $match query carries, parsed from its Patient. */
typedef struct mquery {
    char name[256];
    char idn[64];
    char sex;
    char birth[16];
    char phone[40];
    char area[16];
} mquery;

static rhis_status
match_patient(rhis_req *req, json_object *p, mquery *q)
{
    memset(q, 0, sizeof(*q));
    if (p == NULL || !json_object_is_type(p, json_type_object) ||
        rhis_json_get_str(p, "resourceType") == NULL ||
        strcmp(rhis_json_get_str(p, "resourceType"), "Patient") != 0)
        return bad(req, "Parameters.parameter.resource",
                   "the 'resource' parameter must be a Patient resource");
    json_object *names = rhis_json_get(p, "name");
    json_object *n0 = names != NULL &&
                              json_object_is_type(names, json_type_array) &&
                              json_object_array_length(names) > 0
                          ? json_object_array_get_idx(names, 0)
                          : NULL;
    const char *text = rhis_json_get_str(n0, "text");
    if (text != NULL) {
        snprintf(q->name, sizeof(q->name), "%s", text);
    } else if (n0 != NULL) {
        const char *f = rhis_json_get_str(n0, "family");
        snprintf(q->name, sizeof(q->name), "%s", f != NULL ? f : "");
        json_object *g = rhis_json_get(n0, "given");
        for (size_t i = 0;
             g != NULL && json_object_is_type(g, json_type_array) &&
             i < json_object_array_length(g);
             i++) {
            const char *s =
                json_object_get_string(json_object_array_get_idx(g, i));
            size_t l = strlen(q->name);
            snprintf(q->name + l, sizeof(q->name) - l, "%s%s",
                     l > 0 && s[0] != '\0' &&
                             (unsigned char)q->name[l - 1] < 0x80 &&
                             (unsigned char)s[0] < 0x80
                         ? " "
                         : "",
                     s);
        }
    }
    const char *g = rhis_json_get_str(p, "gender");
    if (g != NULL) {
        q->sex = rhis_patient_sex_of(g);
        if (q->sex == 0)
            return bad(req, "Patient.gender",
                       "gender must be male, female, other or unknown");
        if (q->sex == 'U')
            q->sex = 0;
    }
    const char *b = rhis_json_get_str(p, "birthDate");
    if (b != NULL) {
        if (strlen(b) >= sizeof(q->birth) || rhis_mpi_cmp_birth(b, b) < 0)
            return bad(req, "Patient.birthDate",
                       "birthDate must be a date: YYYY, YYYY-MM or "
                       "YYYY-MM-DD");
        snprintf(q->birth, sizeof(q->birth), "%s", b);
    }
    json_object *ids = rhis_json_get(p, "identifier");
    for (size_t i = 0;
         ids != NULL && json_object_is_type(ids, json_type_array) &&
         i < json_object_array_length(ids);
         i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = rhis_json_get_str(id, "system");
        const char *val = rhis_json_get_str(id, "value");
        if (sys != NULL && val != NULL && strcmp(sys, RHIS_SYS_IDNUM) == 0 &&
            q->idn[0] == '\0')
            snprintf(q->idn, sizeof(q->idn), "%s", val);
    }
    json_object *tel = rhis_json_get(p, "telecom");
    for (size_t i = 0;
         tel != NULL && json_object_is_type(tel, json_type_array) &&
         i < json_object_array_length(tel) && q->phone[0] == '\0';
         i++) {
        json_object *cp = json_object_array_get_idx(tel, i);
        const char *sys = rhis_json_get_str(cp, "system");
        const char *val = rhis_json_get_str(cp, "value");
        if (sys != NULL && val != NULL &&
            (strcmp(sys, "phone") == 0 || strcmp(sys, "sms") == 0))
            snprintf(q->phone, sizeof(q->phone), "%s", val);
    }
    json_object *addrs = rhis_json_get(p, "address");
    json_object *a0 = addrs != NULL &&
                              json_object_is_type(addrs, json_type_array) &&
                              json_object_array_length(addrs) > 0
                          ? json_object_array_get_idx(addrs, 0)
                          : NULL;
    json_object *exts = rhis_json_get(a0, "extension");
    for (size_t i = 0;
         exts != NULL && json_object_is_type(exts, json_type_array) &&
         i < json_object_array_length(exts);
         i++) {
        json_object *x = json_object_array_get_idx(exts, i);
        const char *url = rhis_json_get_str(x, "url");
        const char *code = rhis_json_get_str(x, "valueCode");
        if (url != NULL && code != NULL &&
            strcmp(url, RHIS_EXT_ADDRESS_DIVISION) == 0)
            snprintf(q->area, sizeof(q->area), "%s", code);
    }
    rhis_idnum chk;
    if (q->name[0] == '\0' &&
        (q->idn[0] == '\0' ||
         rhis_idnum_check(q->idn, &chk, NULL, 0) != RHIS_OK))
        return bad(req, "Patient.name",
                   "the Patient needs a name or a valid ID number to match "
                   "on");
    return RHIS_OK;
}

typedef struct mopts {
    json_object *patient;
    int only_certain, only_single, count;
    double link, review;
} mopts;

static rhis_status
threshold_value(rhis_req *req, const char *name, json_object *v, double *out)
{
    if (v == NULL || (!json_object_is_type(v, json_type_double) &&
                      !json_object_is_type(v, json_type_int))) {
        rhis_req_error_expr(req, name);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s needs a valueDecimal",
                               name);
    }
    double d = json_object_get_double(v);
    if (!(d >= RHIS_MPI_THRESHOLD_MIN && d <= RHIS_MPI_THRESHOLD_MAX)) {
        rhis_req_error_expr(req, name);
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "%s must lie between %g and %g", name,
                               RHIS_MPI_THRESHOLD_MIN, RHIS_MPI_THRESHOLD_MAX);
    }
    *out = d;
    return RHIS_OK;
}

static rhis_status
match_options(rhis_req *req, json_object *body, mopts *o)
{
    memset(o, 0, sizeof(*o));
    o->count = MATCH_DEFAULT;
    o->link = RHIS_MPI_LINK_THRESHOLD;
    o->review = RHIS_MPI_REVIEW_THRESHOLD;
    const char *rt = rhis_json_get_str(body, "resourceType");
    if (rt == NULL || strcmp(rt, "Parameters") != 0)
        return bad(req, "Parameters", "the body must be a Parameters resource");
    json_object *ps = rhis_json_get(body, "parameter");
    if (ps == NULL || !json_object_is_type(ps, json_type_array))
        return bad(req, "Parameters.parameter",
                   "Parameters.parameter must be an array");
    unsigned seen = 0;
    static const char *const names[] = {
        "resource", "onlyCertainMatches", "onlySingleMatch",
        "count",    "linkThreshold",      "reviewThreshold",
    };
    for (size_t i = 0; i < json_object_array_length(ps); i++) {
        json_object *p = json_object_array_get_idx(ps, i);
        const char *n = rhis_json_get_str(p, "name");
        int k = -1;
        for (int j = 0; n != NULL && j < 6 && k < 0; j++)
            if (strcmp(n, names[j]) == 0)
                k = j;
        char ex[48];
        snprintf(ex, sizeof(ex), "Parameters.parameter[%zu]", i);
        if (k < 0) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, ex));
            return rhis_req_errorf(
                req, RHIS_EINVAL,
                "unknown $match parameter '%.40s' (resource, "
                "onlyCertainMatches, onlySingleMatch, count, linkThreshold, "
                "reviewThreshold)",
                n != NULL ? n : "");
        }
        if (seen & (1u << k)) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, ex));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "parameter '%s' is given twice", n);
        }
        seen |= 1u << k;
        json_object *v;
        rhis_status rc = RHIS_OK;
        switch (k) {
        case 0:
            o->patient = rhis_json_get(p, "resource");
            break;
        case 1:
        case 2:
            v = rhis_json_get(p, "valueBoolean");
            if (v == NULL || !json_object_is_type(v, json_type_boolean))
                return bad(req, rhis_arena_strdup(req->arena, ex),
                           "onlyCertainMatches and onlySingleMatch need a "
                           "valueBoolean");
            if (k == 1)
                o->only_certain = json_object_get_boolean(v);
            else
                o->only_single = json_object_get_boolean(v);
            break;
        case 3:
            v = rhis_json_get(p, "valueInteger");
            if (v == NULL || !json_object_is_type(v, json_type_int) ||
                json_object_get_int64(v) < 1 ||
                json_object_get_int64(v) > MATCH_MAX)
                return bad(req, rhis_arena_strdup(req->arena, ex),
                           "count needs a valueInteger from 1 to 100");
            o->count = (int)json_object_get_int64(v);
            break;
        default:
            rc = threshold_value(req, n, rhis_json_get(p, "valueDecimal"),
                                 k == 4 ? &o->link : &o->review);
            break;
        }
        if (rc != RHIS_OK)
            return rc;
    }
    if ((seen & 1u) == 0)
        return bad(req, "Parameters.parameter",
                   "the 'resource' parameter (a Patient) is required");
    /* the query string may set the thresholds too */
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "linkThreshold") != 0 &&
            strcmp(k, "reviewThreshold") != 0) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, k));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' (linkThreshold, "
                                   "reviewThreshold)",
                                   k);
        }
        char *end;
        double d = strtod(v, &end);
        json_object *dv = *v != '\0' && *end == '\0' && isfinite(d)
                              ? json_object_new_double(d)
                              : NULL;
        rhis_status rc =
            threshold_value(req, k, dv, k[0] == 'l' ? &o->link : &o->review);
        json_object_put(dv);
        if (rc != RHIS_OK)
            return rc;
    }
    if (o->review > o->link)
        return bad(req, "reviewThreshold",
                   "reviewThreshold must not exceed linkThreshold");
    return RHIS_OK;
}

typedef struct hit {
    int64_t id;
    rhis_mpi_grade grade;
    rhis_mpi_compare cmp;
    json_object *res;
} hit;

static int
hit_better(const hit *a, const hit *b)
{
    int ra = a->grade == RHIS_MPI_CERTAIN         ? 2
             : a->grade == RHIS_MPI_CERTAINLY_NOT ? 0
                                                  : 1;
    int rb = b->grade == RHIS_MPI_CERTAIN         ? 2
             : b->grade == RHIS_MPI_CERTAINLY_NOT ? 0
                                                  : 1;
    if (ra != rb)
        return ra > rb;
    if (a->cmp.total != b->cmp.total)
        return a->cmp.total > b->cmp.total;
    return a->id < b->id;
}

/* The live record a merged one ends in (follows merged_into). */
static int64_t
live_root(rhis_db *db, int64_t id)
{
    for (int hop = 0; hop < 16; hop++) {
        pstate s;
        if (load_state(db, id, &s) != RHIS_OK || s.deleted)
            return 0;
        if (s.merged_into == 0)
            return id;
        id = s.merged_into;
    }
    return 0;
}

/* The typed columns of Patient id as a person (arena copies). */
static rhis_status
row_person(rhis_req *req, rhis_db *db, int64_t id, rhis_mpi_person *p)
{
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT name, id_number, sex, birth_date, phone, area_code FROM"
        " patient WHERE id = ? AND deleted = 0 AND merged_into IS NULL",
        "i", id);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        const char *s[6];
        for (int i = 0; i < 6; i++) {
            const char *v = rhis_db_column_text(st, i);
            s[i] = v != NULL ? rhis_arena_strdup(req->arena, v) : NULL;
        }
        *p = (rhis_mpi_person){.id = id,
                               .name = s[0],
                               .id_number = s[1],
                               .sex = s[2] != NULL ? s[2][0] : 0,
                               .birth_date = s[3],
                               .phone = s[4],
                               .area_code = s[5]};
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_ENOTFOUND;
    }
    rhis_db_finalize(st);
    return rc;
}

static json_object *
match_entry(rhis_req *req, hit *h, const mopts *o)
{
    json_object *e = json_object_new_object();
    json_object_object_add(
        e, "fullUrl",
        json_object_new_string(rhis_arena_printf(
            req->arena, "/fhir/Patient/%lld", (long long)h->id)));
    json_object_object_add(e, "resource", h->res);
    h->res = NULL;
    json_object *s = json_object_new_object();
    json_object *exts = json_object_new_array();
    json_object *x = json_object_new_object();
    json_object_object_add(x, "url", json_object_new_string(MATCH_EXT_GRADE));
    json_object_object_add(
        x, "valueCode", json_object_new_string(rhis_mpi_grade_code(h->grade)));
    json_object_array_add(exts, x);
    json_object_object_add(s, "extension", exts);
    json_object_object_add(s, "mode", json_object_new_string("match"));
    json_object_object_add(
        s, "score",
        rhis_json_new_double(rhis_mpi_score01(&h->cmp, o->link, o->review)));
    json_object_object_add(e, "search", s);
    return e;
}

rhis_status
api_patient_match(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    mopts o;
    mquery mq;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = match_options(req, body, &o);
    if (rc == RHIS_OK)
        rc = match_patient(req, o.patient, &mq);
    if (rc != RHIS_OK)
        return rc;
    const rhis_fhir_type *t = patient_type(req);
    if (t == NULL)
        return req->err_status;
    rhis_fhir_ctx c;
    rhis_mpi_index *ix;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    if ((rc = rhis_mpi_global(c.db, &ix)) != RHIS_OK)
        return rhis_req_errorf(req, rc,
                               "the master patient index is not "
                               "available");
    rhis_mpi_person q = {.name = mq.name,
                         .id_number = mq.idn,
                         .sex = mq.sex,
                         .birth_date = mq.birth,
                         .phone = mq.phone,
                         .area_code = mq.area};
    int want = o.count * 2 + 8;
    rhis_mpi_candidate *cand =
        rhis_arena_alloc(req->arena, sizeof(*cand) * (size_t)want);
    int n = rhis_mpi_index_match(ix, &q, o.link, o.review, cand, want);
    hit *hits = rhis_arena_calloc(req->arena, sizeof(hit) * (size_t)(want + 1));
    int nh = 0, certain = 0;
    /* re-score against the stored rows: the index only proposes */
    for (int i = 0; i < n; i++) {
        rhis_mpi_person p;
        rc = row_person(req, c.db, cand[i].id, &p);
        if (rc == RHIS_ENOTFOUND)
            continue;
        if (rc != RHIS_OK)
            return rhis_req_errorf(req, rc, "cannot read candidates");
        hit *h = &hits[nh];
        h->id = cand[i].id;
        rhis_mpi_index_compare(ix, &q, &p, &h->cmp);
        h->grade = rhis_mpi_grade_of(&h->cmp, o.link, o.review);
        if (h->grade == RHIS_MPI_NONE)
            continue;
        certain |= h->grade == RHIS_MPI_CERTAIN;
        nh++;
    }
    /* an ID number of a record merged away leads to its survivor */
    rhis_idnum idn;
    if (!certain && mq.idn[0] != '\0' &&
        rhis_idnum_check(mq.idn, &idn, NULL, 0) == RHIS_OK) {
        int64_t found = 0;
        rc = rhis_db_scalar_int64(c.db, &found,
                                  "SELECT id FROM patient WHERE id_number = ?"
                                  " AND deleted = 0 ORDER BY id LIMIT 1",
                                  "s", idn.normalised);
        int64_t root = rc == RHIS_OK ? live_root(c.db, found) : 0;
        int dup = 0;
        for (int i = 0; i < nh; i++)
            if (hits[i].id == root) {
                hits[i].grade = RHIS_MPI_CERTAIN;
                hits[i].cmp.id_equal = 1;
                dup = 1;
            }
        rhis_mpi_person p;
        if (root != 0 && !dup && row_person(req, c.db, root, &p) == RHIS_OK) {
            hit *h = &hits[nh++];
            h->id = root;
            rhis_mpi_index_compare(ix, &q, &p, &h->cmp);
            h->cmp.id_equal = 1;
            h->grade = RHIS_MPI_CERTAIN;
        }
    }
    /* order, then keep what the options ask for */
    for (int i = 1; i < nh; i++) {
        hit x = hits[i];
        int j = i;
        for (; j > 0 && hit_better(&x, &hits[j - 1]); j--)
            hits[j] = hits[j - 1];
        hits[j] = x;
    }
    int keep = 0;
    for (int i = 0; i < nh && keep < o.count; i++) {
        if (o.only_certain && hits[i].grade != RHIS_MPI_CERTAIN)
            continue;
        hits[keep++] = hits[i];
    }
    if (o.only_single && keep > 0)
        keep = hits[0].grade == RHIS_MPI_CERTAIN ||
                       hits[0].grade == RHIS_MPI_PROBABLE
                   ? 1
                   : 0;
    /* the resources, masked for roles that do not need the ID number and
     * phone; every one shown is an audited disclosure */
    rc = rhis_db_begin(c.db);
    json_object *b = json_object_new_object();
    json_object *entries = json_object_new_array();
    json_object_object_add(b, "resourceType", json_object_new_string("Bundle"));
    json_object_object_add(b, "type", json_object_new_string("searchset"));
    int shown = 0;
    for (int i = 0; i < keep && rc == RHIS_OK; i++) {
        hits[i].res = patient_json(&c, t, hits[i].id);
        if (hits[i].res == NULL)
            continue;
        json_object_array_add(entries, match_entry(req, &hits[i], &o));
        shown++;
        rc =
            rhis_ehr_audit_read(&c, "match", "Patient", hits[i].id, hits[i].id);
    }
    json_object_object_add(b, "total", json_object_new_int(shown));
    json_object_object_add(b, "entry", entries);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(c.db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(c.db);
        req->audit_done = 0;
        json_object_put(b);
        return ctx_fail(&c, rc, "cannot audit the match");
    }
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}
