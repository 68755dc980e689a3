/*
 * everything.c - GET /fhir/Patient/{id}/$everything: a patient's whole
 * record as one searchset Bundle.
 *
 * Why: a clinician opening a resident's shared record, or a system taking
 * a copy of it, wants the patient, every encounter, diagnosis, result,
 * vaccination, document and consent - and the organisations and
 * practitioners they name - without a search per type.  The record
 * includes the records merged into the patient by the MPI
 * (patient.merged_into), as FHIR searches on the patient do.
 *
 * Paging: the patient's resources in a fixed order (the store's type
 * order, then id) are counted once per type and paged with _count/_offset
 * across types, so links are stable.  The Organizations and Practitioners
 * referenced by a page are added to that page with search.mode "include"
 * (not counted in total), read through the route table so each is exactly
 * what GET /fhir/Organization/{id} answers to this caller.
 *
 * Access: the record-access rule is checked once for the patient
 * (rhis_ehr_check_access, read) and one AuditEvent "everything" written;
 * types the caller's role may not read are left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_int.h"
#include "fhir_int.h"
#include "rhis/handlers.h"
#include "rhis/json.h"

#define EVERYTHING_DEFAULT_COUNT 100
/* Organizations and Practitioners included per page at most. */
#define EVERYTHING_MAX_INCLUDES 200

/* The patient and those merged into it (one MPI level, as searches). */
#define PATIENT_SET                                                            \
    "IN (SELECT id FROM patient WHERE id = ? OR merged_into = ?)"

typedef struct wanted {
    int all;                         /* no _type */
    const rhis_fhir_type *types[32]; /* from _type */
    int ntypes;
    int organization, practitioner; /* _type lists them */
} wanted;

static int
wants_type(const wanted *w, const rhis_fhir_type *t)
{
    if (w->all)
        return 1;
    for (int i = 0; i < w->ntypes; i++)
        if (w->types[i] == t)
            return 1;
    return 0;
}

/* Parses _type=Observation,Condition. */
static rhis_status
parse_types(rhis_req *req, const char *v, wanted *w)
{
    char *list = rhis_arena_strdup(req->arena, v);
    w->all = 0;
    for (char *tok = list; tok != NULL;) {
        char *comma = strchr(tok, ',');
        if (comma != NULL)
            *comma = '\0';
        const rhis_fhir_type *t = rhis_fhir_type_find(tok);
        if (strcmp(tok, "Organization") == 0) {
            w->organization = 1;
        } else if (strcmp(tok, "Practitioner") == 0) {
            w->practitioner = 1;
        } else if (t != NULL && t->patient_col != NULL &&
                   w->ntypes < (int)(sizeof(w->types) / sizeof(w->types[0]))) {
            w->types[w->ntypes++] = t;
        } else {
            rhis_req_error_expr(req, "_type");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_type: '%.40s' is not a type of a "
                                   "patient's record",
                                   tok);
        }
        tok = comma != NULL ? comma + 1 : NULL;
    }
    return RHIS_OK;
}

static rhis_status
parse_params(rhis_req *req, wanted *w, const char **since)
{
    static const char *const allowed[] = {"_since",  "_type",    "_count",
                                          "_offset", "_summary", "_format",
                                          "_pretty"};
    w->all = 1;
    *since = NULL;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        int ok = 0;
        for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++)
            ok |= strcmp(k, allowed[j]) == 0;
        if (!ok) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, k));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' for "
                                   "$everything (supported: _since, _type, "
                                   "_count, _offset)",
                                   k);
        }
        if (strcmp(k, "_type") == 0) {
            rhis_status rc = parse_types(req, v, w);
            if (rc != RHIS_OK)
                return rc;
        } else if (strcmp(k, "_since") == 0) {
            *since = v;
        }
    }
    return RHIS_OK;
}

/* The filter of type t: the patient set, live rows, _since. */
static rhis_status
type_where(rhis_req *req,
           const rhis_fhir_type *t,
           int64_t pid,
           const char *since,
           rhis_sql_where *w)
{
    rhis_sql_where_init(w);
    rhis_sql_where_add(w, "t.deleted = 0", 0, 0, NULL);
    /* patient_col is a literal of the type's descriptor */
    rhis_sql_where_add_ii(w,
                          rhis_sql_cat(req->arena, t->patient_col,
                                       " " PATIENT_SET, (const char *)NULL),
                          pid, pid);
    if (since != NULL) {
        char err[200];
        if (rhis_fhir_where_date(req->arena, w, "t.updated_ms",
                                 rhis_arena_printf(req->arena, "ge%s", since),
                                 err, sizeof(err)) != RHIS_OK) {
            rhis_req_error_expr(req, "_since");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_since must be an instant such as "
                                   "2024-05-01T00:00:00Z");
        }
    }
    return RHIS_OK;
}

typedef struct refs {
    rhis_arena *a;
    const char *ref[EVERYTHING_MAX_INCLUDES];
    int n;
} refs;

/* Keeps "Organization/12" and "Practitioner/3" (also at the end of an
 * absolute URL), once each. */
static void
collect_ref(void *arg, json_object *holder, const char *ref, const char *path)
{
    refs *r = arg;
    (void)holder;
    (void)path;
    static const char *const types[] = {"Organization/", "Practitioner/"};
    for (size_t k = 0; k < 2; k++) {
        const char *p = strstr(ref, types[k]);
        if (p == NULL || (p != ref && p[-1] != '/'))
            continue;
        const char *id = p + strlen(types[k]);
        size_t n = strlen(id);
        if (n == 0 || n > 18 || strspn(id, "0123456789") != n || *id == '0')
            continue;
        for (int i = 0; i < r->n; i++)
            if (strcmp(r->ref[i], p) == 0)
                return;
        if (r->n < EVERYTHING_MAX_INCLUDES)
            r->ref[r->n++] = rhis_arena_strdup(r->a, p);
    }
}

static void
add_includes(rhis_req *req, json_object *bundle, const refs *r, const wanted *w)
{
    json_object *entries = rhis_json_get(bundle, "entry");
    for (int i = 0; i < r->n; i++) {
        int org = strncmp(r->ref[i], "Organization/", 13) == 0;
        if (!w->all && !(org ? w->organization : w->practitioner))
            continue;
        rhis_fhir_local out;
        /* a role that may not read practitioners simply gets none */
        if (rhis_fhir_local_get(req, r->ref[i], RHIS_FHIR_LOCAL_QUIET, &out) !=
            RHIS_OK)
            continue;
        json_object *e = json_object_new_object();
        json_object_object_add(e, "fullUrl",
                               json_object_new_string(rhis_arena_printf(
                                   req->arena, "/fhir/%s", r->ref[i])));
        json_object_object_add(e, "resource", out.body);
        json_object *search = json_object_new_object();
        json_object_object_add(search, "mode",
                               json_object_new_string("include"));
        json_object_object_add(e, "search", search);
        json_object_array_add(entries, e);
    }
}

/* Adds up to *left resources of type t from row `skip` on to the bundle. */
static rhis_status
add_page(rhis_req *req,
         rhis_fhir_ctx *c,
         const rhis_fhir_type *t,
         const rhis_sql_where *w,
         int64_t skip,
         int *left,
         json_object *bundle,
         refs *r)
{
    rhis_stmt *st;
    rhis_status rc =
        rhis_sql_where_select(c->db, w,
                              rhis_sql_cat(req->arena, "SELECT v.json FROM ",
                                           t->from_json, (const char *)NULL),
                              "ORDER BY t.id", *left, skip, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the %s of the record",
                               t->name);
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        const char *json = rhis_db_column_text(st, 0);
        json_object *o = NULL;
        char err[64];
        if (json == NULL || rhis_json_parse(json, strlen(json), 64, &o, err,
                                            sizeof(err)) != RHIS_OK)
            continue;
        rhis_fhir_walk_refs(o, t->name, collect_ref, r);
        rhis_fhir_bundle_add(req, bundle, o, t->name);
        (*left)--;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rhis_req_errorf(req, RHIS_EIO,
                               "cannot read the %s of the record", t->name);
    return RHIS_OK;
}

/* The error the access helper recorded, or a generic one. */
static rhis_status
ctx_error(rhis_req *req, rhis_status rc, const char *what)
{
    if (req->err_status == RHIS_OK)
        return rhis_req_errorf(req, rc, "%s failed", what);
    return req->err_status;
}

rhis_status
api_patient_everything(rhis_req *req, rhis_resp *resp)
{
    const rhis_fhir_type *pt = rhis_fhir_type_find("Patient");
    if (pt == NULL)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "Patient resources are not served");
    int64_t id;
    rhis_status rc =
        rhis_fhir_parse_id(req, "Patient id", rhis_req_param(req, "id"), &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_fhir_search s;
    if ((rc = rhis_fhir_search_init(req, &s, EVERYTHING_DEFAULT_COUNT)) !=
        RHIS_OK)
        return rc;
    wanted want = {0};
    const char *since;
    if ((rc = parse_params(req, &want, &since)) != RHIS_OK)
        return rc;
    rhis_fhir_ctx c;
    if ((rc = rhis_fhir_ctx_req(&c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    const char *json;
    int64_t version, pid;
    rc = rhis_fhir_do_read(&c, pt, id, &json, &version, &pid);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "Patient/%lld not found",
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read Patient");
    if ((rc = rhis_ehr_check_access(&c, id, 0)) != RHIS_OK)
        return ctx_error(req, rc, "access check");
    if (json == NULL)
        return rhis_req_errorf(req, RHIS_EGONE, "Patient/%lld was deleted",
                               (long long)id);

    int nt;
    const rhis_fhir_type *const *types = rhis_fhir_types(&nt);
    int64_t *counts =
        rhis_arena_calloc(req->arena, sizeof(int64_t) * (size_t)(nt + 1));
    rhis_sql_where *wh = rhis_arena_calloc(req->arena, sizeof(rhis_sql_where) *
                                                           (size_t)(nt + 1));
    int64_t total = 0;
    unsigned role = req->user != NULL ? req->user->role : RHIS_ROLE_ANY;
    for (int i = 0; i < nt; i++) {
        const rhis_fhir_type *t = types[i];
        if (t->patient_col == NULL || (t->read_roles & role) == 0 ||
            !wants_type(&want, t))
            continue;
        if ((rc = type_where(req, t, id, since, &wh[i])) != RHIS_OK)
            return rc;
        rc = rhis_sql_where_count(c.db, &wh[i], t->from, &counts[i]);
        if (rc != RHIS_OK)
            return rhis_req_errorf(req, rc,
                                   "cannot count the %s of the "
                                   "record",
                                   t->name);
        total += counts[i];
    }

    json_object *b = rhis_fhir_bundle_new(req, &s, total);
    refs *r = rhis_arena_calloc(req->arena, sizeof(*r));
    r->a = req->arena;
    int left = s.summary_count ? 0 : s.count;
    int64_t skip = s.offset;
    for (int i = 0; i < nt && left > 0; i++) {
        if (counts[i] == 0)
            continue;
        if (skip >= counts[i]) {
            skip -= counts[i];
            continue;
        }
        rc = add_page(req, &c, types[i], &wh[i], skip, &left, b, r);
        if (rc != RHIS_OK) {
            json_object_put(b);
            return rc;
        }
        skip = 0;
    }
    if (!s.summary_count)
        add_includes(req, b, r, &want);
    rc = rhis_ehr_audit_read(&c, "everything", "Patient", id, id);
    if (rc != RHIS_OK) {
        json_object_put(b);
        return ctx_error(req, rc, "audit");
    }
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}
