/*
 * bundle.c - FHIR batch and transaction Bundles (POST /fhir), and the local
 * GET that runs a read inside another request.
 *
 * Why: an integrator (a hospital system sending a visit: the patient, the
 * encounter, its diagnoses and vital signs) must write related resources
 * in one round trip, all or nothing, referring to resources that do not
 * exist yet by "urn:uuid:...".  FHIR R4 fixes the rules
 * (http://hl7.org/fhir/R4/http.html#trules): DELETEs, then POSTs, then
 * PUTs, then GETs; the urn:uuid of every created resource replaced by its
 * new "Type/id" wherever the Bundle refers to it; a transaction fails as a
 * whole, a batch entry by entry.
 *
 * Design: the entries are parsed and checked first, then run in that
 * order through the store's do_create / do_update / do_delete (which check
 * access to the patient's record) on the request's connection.  POSTs run
 * in dependency order, so an entry may refer to a POST placed after it in
 * the Bundle.  Before a resource is stored its urn:uuid references are
 * rewritten in place, so the stored JSON holds the real reference; a
 * urn:uuid that names no entry is refused.  GET entries go through the
 * route table (rhis_fhir_local_get), so they answer exactly what the same
 * GET would.  A transaction is one database transaction; a batch runs each
 * write entry in its own.  Every write is audited in the transaction that
 * makes it; a failed batch entry is audited after its rollback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_int.h"
#include "fhir_int.h"
#include "rhis/handlers.h"
#include "rhis/json.h"

/* Entries per Bundle at most (the CapabilityStatement says so too). */
#define BUNDLE_MAX_ENTRIES 1000
/* Longest request.url accepted. */
#define BUNDLE_MAX_URL 2048

enum { M_GET, M_POST, M_PUT, M_DELETE };
static const char *const method_names[] = {"GET", "POST", "PUT", "DELETE"};

typedef struct entry {
    int idx;
    int method;
    json_object *res;          /* borrowed from the request body */
    const char *full_url;      /* "urn:uuid:..." or NULL */
    const char *url;           /* relative to the FHIR base */
    const rhis_fhir_type *t;   /* POST, PUT and DELETE */
    int64_t id;                /* "Type/id" in url, 0 if none */
    const char *cond;          /* query of a conditional PUT/DELETE url */
    const char *if_none_exist; /* POST */
    int64_t if_match;          /* PUT: the version required, -1 if none */
    int *deps;                 /* POST entries this one refers to */
    int ndeps;
    /* outcome */
    int done;
    rhis_status rc;
    int status; /* HTTP status of the entry */
    int64_t rid, version, ts_ms;
    json_object *out; /* resource for the response (owned), or NULL */
    const char *etag; /* GET: the ETag of the answer */
    const char *err_text, *err_expr;
} entry;

typedef struct run {
    rhis_req *req;
    rhis_fhir_ctx c;
    entry *e;
    int n;
    int transaction;
    int representation; /* Prefer: return=representation */
    int audited;        /* some entry wrote its audit event */
} run;

/* ---- small helpers ---- */

static const char *
status_line(int code)
{
    static const struct {
        int code;
        const char *line;
    } lines[] = {
        {200, "200 OK"},
        {201, "201 Created"},
        {204, "204 No Content"},
        {400, "400 Bad Request"},
        {401, "401 Unauthorized"},
        {403, "403 Forbidden"},
        {404, "404 Not Found"},
        {405, "405 Method Not Allowed"},
        {409, "409 Conflict"},
        {410, "410 Gone"},
        {412, "412 Precondition Failed"},
        {413, "413 Payload Too Large"},
        {415, "415 Unsupported Media Type"},
        {422, "422 Unprocessable Entity"},
        {429, "429 Too Many Requests"},
        {500, "500 Internal Server Error"},
        {503, "503 Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (lines[i].code == code)
            return lines[i].line;
    return code < 400 ? "200 OK" : "500 Internal Server Error";
}

static int
parse_pos_int(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18 || *s < '1' || *s > '9')
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static const char *
entry_path(run *b, const entry *e, const char *suffix)
{
    return rhis_arena_printf(b->req->arena, "Bundle.entry[%d]%s", e->idx,
                             suffix != NULL ? suffix : "");
}

/* Marks e failed with rc; expr is "Bundle.entry[i]" + suffix. */
static rhis_status entry_fail(
    run *b, entry *e, rhis_status rc, const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static rhis_status
entry_fail(
    run *b, entry *e, rhis_status rc, const char *suffix, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    e->done = 1;
    e->rc = rc;
    e->status = rhis_http_code(rc);
    e->err_text = rhis_arena_strdup(b->req->arena, text);
    e->err_expr = entry_path(b, e, suffix);
    return rc;
}

/*
 * Maps an element path of the store ("Observation.subject", "resourceType",
 * "" for none) into the Bundle: "Bundle.entry[2].resource.subject".
 * where, when not NULL, replaces the mapping (the error is about a part of
 * the request, e.g. ".request.ifNoneExist").
 */
static const char *
map_expr(run *b, const entry *e, const char *expr, const char *where)
{
    if (where != NULL)
        return entry_path(b, e, where);
    if (expr == NULL || *expr == '\0')
        return entry_path(b, e, e->res != NULL ? ".resource" : NULL);
    if (strncmp(expr, "Bundle.", 7) == 0)
        return rhis_arena_strdup(b->req->arena, expr);
    if (e->t != NULL) {
        size_t tl = strlen(e->t->name);
        if (strncmp(expr, e->t->name, tl) == 0 &&
            (expr[tl] == '\0' || expr[tl] == '.' || expr[tl] == '['))
            return rhis_arena_printf(b->req->arena,
                                     "Bundle.entry[%d].resource%s", e->idx,
                                     expr + tl);
    }
    return rhis_arena_printf(b->req->arena, "Bundle.entry[%d].resource.%s",
                             e->idx, expr);
}

/* Marks e failed with the error the store recorded on the context. */
static rhis_status
entry_fail_ctx(run *b, entry *e, rhis_status rc, const char *where)
{
    rhis_fhir_ctx *c = &b->c;
    const char *text =
        c->err_status != RHIS_OK && c->err_text[0] != '\0' ? c->err_text
        : b->req->err_status != RHIS_OK && b->req->err_text[0] != '\0'
            ? b->req->err_text
            : rhis_status_name(rc);
    const char *expr = c->err_status != RHIS_OK ? c->err_expr : "";
    e->done = 1;
    e->rc = rc;
    e->status = rhis_http_code(rc);
    e->err_text = rhis_arena_strdup(b->req->arena, text);
    e->err_expr = map_expr(b, e, expr, where);
    return rc;
}

/* Forgets the error of the last entry on the context and the request. */
static void
clear_errors(run *b)
{
    b->c.err_status = RHIS_OK;
    b->c.err_text[0] = '\0';
    b->c.err_expr[0] = '\0';
    b->req->err_status = RHIS_OK;
    b->req->err_text[0] = '\0';
    b->req->err_expr = NULL;
}

/* ---- references ---- */

typedef void (*ref_visit)(void *arg,
                          json_object *holder,
                          const char *ref,
                          const char *path);

static void
walk(
    json_object *o, char *path, size_t len, size_t cap, ref_visit fn, void *arg)
{
    if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            int k = snprintf(path + len, cap - len, "[%zu]", i);
            size_t nl = k > 0 && (size_t)k < cap - len ? len + (size_t)k : len;
            walk(json_object_array_get_idx(o, i), path, nl, cap, fn, arg);
            path[len] = '\0';
        }
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object *r = rhis_json_get(o, "reference");
    if (r != NULL && json_object_is_type(r, json_type_string))
        fn(arg, o, json_object_get_string(r), path);
    json_object_object_foreach(o, key, val)
    {
        if (!json_object_is_type(val, json_type_object) &&
            !json_object_is_type(val, json_type_array))
            continue;
        int k = snprintf(path + len, cap - len, ".%s", key);
        size_t nl = k > 0 && (size_t)k < cap - len ? len + (size_t)k : len;
        walk(val, path, nl, cap, fn, arg);
        path[len] = '\0';
    }
}

void
rhis_fhir_walk_refs(json_object *res,
                    const char *root,
                    void (*fn)(void *arg,
                               json_object *holder,
                               const char *ref,
                               const char *path),
                    void *arg)
{
    char path[256];
    int k = snprintf(path, sizeof(path), "%s", root != NULL ? root : "");
    size_t len = k > 0 && (size_t)k < sizeof(path) ? (size_t)k : 0;
    path[len] = '\0';
    walk(res, path, len, sizeof(path), fn, arg);
}

typedef struct deps_arg {
    run *b;
    entry *e;
    int cap;
} deps_arg;

/* Records the POST entry whose fullUrl ref names as a dependency. */
static void
collect_dep(void *arg, json_object *holder, const char *ref, const char *path)
{
    deps_arg *d = arg;
    (void)holder;
    (void)path;
    if (strncmp(ref, "urn:uuid:", 9) != 0)
        return;
    for (int i = 0; i < d->b->n; i++) {
        entry *o = &d->b->e[i];
        if (o == d->e || o->method != M_POST || o->full_url == NULL ||
            strcmp(o->full_url, ref) != 0)
            continue;
        for (int j = 0; j < d->e->ndeps; j++)
            if (d->e->deps[j] == i)
                return;
        if (d->e->ndeps == d->cap) {
            int ncap = d->cap == 0 ? 4 : d->cap * 2;
            int *nd =
                rhis_arena_alloc(d->b->req->arena, sizeof(int) * (size_t)ncap);
            if (d->e->ndeps > 0)
                memcpy(nd, d->e->deps, sizeof(int) * (size_t)d->e->ndeps);
            d->e->deps = nd;
            d->cap = ncap;
        }
        d->e->deps[d->e->ndeps++] = i;
        return;
    }
}

typedef struct rewrite_arg {
    run *b;
    const char *unresolved; /* path of the first urn:uuid left */
    const char *unresolved_ref;
} rewrite_arg;

/* Replaces a urn:uuid reference by the Type/id it stands for. */
static void
rewrite_ref(void *arg, json_object *holder, const char *ref, const char *path)
{
    rewrite_arg *r = arg;
    rhis_fhir_ctx *c = &r->b->c;
    if (strncmp(ref, "urn:uuid:", 9) != 0)
        return;
    for (int i = 0; i < c->nrefs; i++) {
        if (strcmp(c->ref_from[i], ref) == 0) {
            json_object_object_add(holder, "reference",
                                   json_object_new_string(c->ref_to[i]));
            return;
        }
    }
    if (r->unresolved == NULL) {
        r->unresolved = rhis_arena_strdup(r->b->req->arena, path);
        r->unresolved_ref = rhis_arena_strdup(r->b->req->arena, ref);
    }
}

/* Rewrites the urn:uuid references of e's resource; refuses any left. */
static rhis_status
rewrite_refs(run *b, entry *e)
{
    rewrite_arg r = {b, NULL, NULL};
    rhis_fhir_walk_refs(e->res, "", rewrite_ref, &r);
    if (r.unresolved != NULL)
        return entry_fail(
            b, e, RHIS_EINVAL,
            rhis_arena_printf(b->req->arena, ".resource%s", r.unresolved),
            "reference %.80s names no created entry of this "
            "Bundle (a urn:uuid must be the fullUrl of a POST "
            "entry)",
            r.unresolved_ref);
    return RHIS_OK;
}

/* Makes full_url stand for "Type/id" in the rest of the Bundle. */
static void
add_mapping(run *b, const char *full_url, const char *type, int64_t id)
{
    if (full_url == NULL)
        return;
    rhis_fhir_ctx *c = &b->c;
    for (int i = 0; i < c->nrefs; i++)
        if (strcmp(c->ref_from[i], full_url) == 0)
            return;
    RHIS_ASSERT(c->nrefs < b->n);
    c->ref_from[c->nrefs] = full_url;
    c->ref_to[c->nrefs] =
        rhis_arena_printf(b->req->arena, "%s/%lld", type, (long long)id);
    c->nrefs++;
}

/* ---- parsing ---- */

/* The url relative to the FHIR base: "Patient/1", "/fhir/Patient/1" and
 * "https://host/fhir/Patient/1" all give "Patient/1".  NULL if unusable. */
static const char *
relative_url(const char *url)
{
    const char *p = url;
    const char *scheme = strstr(url, "://");
    if (scheme != NULL) {
        const char *base = strstr(scheme + 3, "/fhir/");
        if (base == NULL)
            return NULL;
        p = base + 6;
    } else if (strncmp(p, "/fhir/", 6) == 0) {
        p += 6;
    } else if (*p == '/') {
        p++;
    }
    return *p != '\0' ? p : NULL;
}

static int
type_has_char(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return 0;
    return n > 0;
}

/* Parses a W/"3", "3" or 3 version; 0 if malformed. */
static int
parse_etag(const char *s, int64_t *out)
{
    if (strncmp(s, "W/", 2) == 0)
        s += 2;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    return parse_pos_int(s, n, out);
}

static rhis_status
parse_write_url(run *b, entry *e)
{
    const char *u = e->url;
    size_t tl = strcspn(u, "/?");
    char *type = rhis_arena_strndup(b->req->arena, u, tl);
    e->t = type_has_char(u, tl) ? rhis_fhir_type_find(type) : NULL;
    if (e->t == NULL) {
        char list[256] = "";
        int n = 0;
        const rhis_fhir_type *const *all = rhis_fhir_types(&n);
        size_t used = 0;
        for (int i = 0; i < n && used < sizeof(list); i++) {
            int k = snprintf(list + used, sizeof(list) - used, "%s%s",
                             i > 0 ? ", " : "", all[i]->name);
            if (k > 0)
                used += (size_t)k;
        }
        return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                          "%s of '%.40s' is not supported in a Bundle; the "
                          "types written in Bundles are: %s",
                          method_names[e->method], type, list);
    }
    const char *rest = u + tl;
    if (*rest == '/') {
        rest++;
        size_t il = strcspn(rest, "?/");
        if (rest[il] != '\0' || !parse_pos_int(rest, il, &e->id))
            return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                              "request.url must be \"%s/<id>\" with a "
                              "positive integer id",
                              e->t->name);
    } else if (*rest == '?') {
        if (rest[1] == '\0')
            return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                              "a conditional request.url needs a search "
                              "after '?'");
        e->cond = rest + 1;
    }
    if (e->method == M_POST && (e->id != 0 || e->cond != NULL))
        return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                          "the url of a POST is the resource type alone "
                          "(\"%s\"); ids are assigned by the server",
                          e->t->name);
    if (e->method != M_POST && e->id == 0 && e->cond == NULL)
        return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                          "%s needs \"%s/<id>\" or a conditional "
                          "\"%s?<search>\"",
                          method_names[e->method], e->t->name, e->t->name);
    return RHIS_OK;
}

static rhis_status
parse_resource(run *b, entry *e, json_object *ej)
{
    e->res = rhis_json_get(ej, "resource");
    if (e->method == M_DELETE || e->method == M_GET) {
        e->res = NULL; /* FHIR: ignored */
        return RHIS_OK;
    }
    if (e->res == NULL || !json_object_is_type(e->res, json_type_object))
        return entry_fail(b, e, RHIS_EINVAL, ".resource",
                          "a %s entry needs a resource",
                          method_names[e->method]);
    const char *rt = rhis_json_get_str(e->res, "resourceType");
    if (rt == NULL || strcmp(rt, e->t->name) != 0)
        return entry_fail(b, e, RHIS_EINVAL, ".resource.resourceType",
                          "resource.resourceType must be \"%s\" as in "
                          "request.url",
                          e->t->name);
    return RHIS_OK;
}

static rhis_status
parse_conditions(run *b, entry *e, json_object *rq)
{
    static const char *const unsupported[] = {"ifNoneMatch", "ifModifiedSince"};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (rhis_json_get(rq, unsupported[i]) != NULL)
            return entry_fail(
                b, e, RHIS_EINVAL,
                rhis_arena_printf(b->req->arena, ".request.%s", unsupported[i]),
                "request.%s is not supported", unsupported[i]);
    json_object *ine = rhis_json_get(rq, "ifNoneExist");
    if (ine != NULL) {
        const char *s = json_object_is_type(ine, json_type_string)
                            ? json_object_get_string(ine)
                            : NULL;
        if (e->method != M_POST || s == NULL || *s == '\0')
            return entry_fail(b, e, RHIS_EINVAL, ".request.ifNoneExist",
                              "request.ifNoneExist is a search string and "
                              "only allowed on POST");
        e->if_none_exist = s;
    }
    e->if_match = -1;
    json_object *im = rhis_json_get(rq, "ifMatch");
    if (im != NULL) {
        const char *s = json_object_is_type(im, json_type_string)
                            ? json_object_get_string(im)
                            : NULL;
        if (e->method != M_PUT && e->method != M_DELETE)
            return entry_fail(b, e, RHIS_EINVAL, ".request.ifMatch",
                              "request.ifMatch is only allowed on PUT and "
                              "DELETE");
        if (s == NULL || !parse_etag(s, &e->if_match))
            return entry_fail(b, e, RHIS_EINVAL, ".request.ifMatch",
                              "request.ifMatch must look like W/\"3\"");
    }
    return RHIS_OK;
}

/* Parses entry i; a fault marks the entry failed (and returns it). */
static rhis_status
parse_entry(run *b, entry *e, json_object *ej)
{
    if (!json_object_is_type(ej, json_type_object))
        return entry_fail(b, e, RHIS_EINVAL, NULL,
                          "each Bundle.entry must be an object");
    json_object *rq = rhis_json_get(ej, "request");
    if (rq == NULL || !json_object_is_type(rq, json_type_object))
        return entry_fail(b, e, RHIS_EINVAL, ".request",
                          "each entry of a batch or transaction needs "
                          "request.method and request.url");
    const char *m = rhis_json_get_str(rq, "method");
    e->method = -1;
    for (int i = 0; m != NULL && i < 4; i++)
        if (strcmp(m, method_names[i]) == 0)
            e->method = i;
    if (e->method < 0)
        return entry_fail(b, e, RHIS_EINVAL, ".request.method",
                          "request.method must be GET, POST, PUT or DELETE");
    const char *url = rhis_json_get_str(rq, "url");
    if (url == NULL || strlen(url) > BUNDLE_MAX_URL ||
        (e->url = relative_url(url)) == NULL)
        return entry_fail(b, e, RHIS_EINVAL, ".request.url",
                          "request.url must be a relative url such as "
                          "\"Patient\" or \"Patient/12\" (at most %d bytes)",
                          BUNDLE_MAX_URL);
    const char *fu = rhis_json_get_str(ej, "fullUrl");
    if (fu != NULL && strncmp(fu, "urn:uuid:", 9) == 0) {
        if (strlen(fu) < 10 || strlen(fu) > 80)
            return entry_fail(b, e, RHIS_EINVAL, ".fullUrl",
                              "fullUrl urn:uuid: needs a uuid");
        e->full_url = fu;
    }
    rhis_status rc = parse_conditions(b, e, rq);
    if (rc == RHIS_OK && e->method != M_GET)
        rc = parse_write_url(b, e);
    if (rc == RHIS_OK)
        rc = parse_resource(b, e, ej);
    return rc;
}

/* Parses the Bundle: its type and every entry.  A fault of the Bundle
 * itself is recorded on the request and returned; faults of entries are
 * left on the entries. */
static rhis_status
parse_bundle(run *b, json_object *body)
{
    rhis_req *req = b->req;
    const char *rt = rhis_json_get_str(body, "resourceType");
    if (rt == NULL || strcmp(rt, "Bundle") != 0) {
        rhis_req_error_expr(req, "resourceType");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "POST /fhir takes a Bundle of type batch or "
                               "transaction");
    }
    const char *type = rhis_json_get_str(body, "type");
    if (type != NULL && strcmp(type, "transaction") == 0)
        b->transaction = 1;
    else if (type == NULL || strcmp(type, "batch") != 0) {
        rhis_req_error_expr(req, "Bundle.type");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Bundle.type must be batch or transaction");
    }
    json_object *entries = rhis_json_get(body, "entry");
    if (entries != NULL && !json_object_is_type(entries, json_type_array)) {
        rhis_req_error_expr(req, "Bundle.entry");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Bundle.entry must be an array");
    }
    size_t n = entries != NULL ? json_object_array_length(entries) : 0;
    if (n > BUNDLE_MAX_ENTRIES) {
        rhis_req_error_expr(req, "Bundle.entry");
        return rhis_req_errorf(req, RHIS_ETOOBIG,
                               "a Bundle may hold at most %d entries (this "
                               "one has %zu); split it",
                               BUNDLE_MAX_ENTRIES, n);
    }
    b->n = (int)n;
    b->e = rhis_arena_calloc(req->arena, sizeof(entry) * (n > 0 ? n : 1));
    b->c.ref_from =
        rhis_arena_calloc(req->arena, sizeof(char *) * (n > 0 ? n : 1));
    b->c.ref_to =
        rhis_arena_calloc(req->arena, sizeof(char *) * (n > 0 ? n : 1));
    for (int i = 0; i < b->n; i++) {
        b->e[i].idx = i;
        (void)parse_entry(b, &b->e[i],
                          json_object_array_get_idx(entries, (size_t)i));
    }
    /* fullUrls are names: each at most once */
    for (int i = 0; i < b->n; i++) {
        entry *e = &b->e[i];
        for (int j = 0; j < i && e->full_url != NULL && !e->done; j++)
            if (b->e[j].full_url != NULL &&
                strcmp(b->e[j].full_url, e->full_url) == 0)
                (void)entry_fail(b, e, RHIS_EINVAL, ".fullUrl",
                                 "fullUrl %.80s is also the fullUrl of "
                                 "Bundle.entry[%d]",
                                 e->full_url, j);
    }
    for (int i = 0; i < b->n; i++) {
        entry *e = &b->e[i];
        if (e->method == M_POST && !e->done) {
            deps_arg d = {b, e, 0};
            rhis_fhir_walk_refs(e->res, "", collect_dep, &d);
        }
        /* a PUT's fullUrl is known at once */
        if (e->method == M_PUT && !e->done && e->id != 0)
            add_mapping(b, e->full_url, e->t->name, e->id);
    }
    return RHIS_OK;
}

/* ---- running entries ---- */

static rhis_status
check_role(run *b, entry *e)
{
    const rhis_principal *u = b->c.user;
    if (u == NULL || (e->t->write_roles & u->role) != 0)
        return RHIS_OK;
    return entry_fail(b, e, RHIS_EFORBIDDEN, ".request",
                      "role %s may not %s %s", rhis_role_name(u->role),
                      method_names[e->method], e->t->name);
}

/* Finds the one match of a condition: *id = 0 when none; 412 when more. */
static rhis_status
match_one(run *b, entry *e, const char *cond, const char *where, int64_t *id)
{
    int n = 0;
    *id = 0;
    rhis_status rc = rhis_fhir_do_match(&b->c, e->t, cond, &n, id);
    if (rc != RHIS_OK)
        return entry_fail_ctx(b, e, rc, where);
    if (n > 1)
        return entry_fail(b, e, RHIS_EPRECOND, where,
                          "the condition matches more than one %s", e->t->name);
    if (n == 0)
        *id = 0;
    return RHIS_OK;
}

/* Takes the stored resource e->rid into e->out (Prefer: representation). */
static void
take_stored(run *b, entry *e)
{
    const char *json;
    int64_t v, pid;
    if (!b->representation ||
        rhis_fhir_do_read(&b->c, e->t, e->rid, &json, &v, &pid) != RHIS_OK ||
        json == NULL)
        return;
    char err[64];
    json_object *o = NULL;
    if (rhis_json_parse(json, strlen(json), 64, &o, err, sizeof(err)) ==
        RHIS_OK)
        e->out = o;
}

static rhis_status
run_create(run *b, entry *e)
{
    rhis_status rc;
    if (e->if_none_exist != NULL) {
        int64_t found;
        rc = match_one(b, e, e->if_none_exist, ".request.ifNoneExist", &found);
        if (rc != RHIS_OK)
            return rc;
        if (found != 0) { /* FHIR: the existing one stands for the entry */
            const char *json;
            int64_t deleted, pid;
            rc =
                rhis_fhir_do_read(&b->c, e->t, found, &json, &e->version, &pid);
            if (rc == RHIS_OK)
                rc = rhis_fhir_read_version(&b->c, e->t, found, e->version,
                                            &json, &deleted, &pid, &e->ts_ms);
            if (rc == RHIS_OK && pid != 0)
                rc = rhis_ehr_check_access(&b->c, pid, 0);
            if (rc != RHIS_OK)
                return entry_fail_ctx(b, e, rc, NULL);
            e->rid = found;
            e->status = 200;
            add_mapping(b, e->full_url, e->t->name, found);
            take_stored(b, e);
            return RHIS_OK;
        }
    }
    if ((rc = rewrite_refs(b, e)) != RHIS_OK)
        return rc;
    rc = rhis_fhir_do_create(&b->c, e->t, e->res, &e->rid, &e->version);
    if (rc != RHIS_OK)
        return entry_fail_ctx(b, e, rc, NULL);
    e->status = 201;
    e->ts_ms = b->c.now_ms;
    add_mapping(b, e->full_url, e->t->name, e->rid);
    if (b->representation)
        e->out = json_object_get(e->res);
    return RHIS_OK;
}

static rhis_status
run_update(run *b, entry *e)
{
    rhis_status rc;
    int64_t id = e->id;
    if (e->cond != NULL) {
        if ((rc = match_one(b, e, e->cond, ".request.url", &id)) != RHIS_OK)
            return rc;
        if (id == 0) { /* FHIR conditional update: no match creates */
            if (e->if_match >= 0)
                return entry_fail(b, e, RHIS_EPRECOND, ".request.ifMatch",
                                  "ifMatch given but nothing matches %s?%s",
                                  e->t->name, e->cond);
            return run_create(b, e);
        }
        const char *rid = rhis_json_get_str(e->res, "id");
        if (rid == NULL)
            json_object_object_add(e->res, "id",
                                   json_object_new_string(rhis_arena_printf(
                                       b->req->arena, "%lld", (long long)id)));
    }
    if ((rc = rewrite_refs(b, e)) != RHIS_OK)
        return rc;
    rc = rhis_fhir_do_update(&b->c, e->t, id, e->res, e->if_match, &e->version);
    if (rc != RHIS_OK)
        return entry_fail_ctx(b, e, rc, NULL);
    e->rid = id;
    e->status = 200;
    e->ts_ms = b->c.now_ms;
    add_mapping(b, e->full_url, e->t->name, id);
    if (b->representation)
        e->out = json_object_get(e->res);
    return RHIS_OK;
}

static rhis_status
run_delete(run *b, entry *e)
{
    rhis_status rc;
    int64_t id = e->id;
    if (e->cond != NULL) {
        if ((rc = match_one(b, e, e->cond, ".request.url", &id)) != RHIS_OK)
            return rc;
        if (id == 0) { /* nothing to delete is not an error */
            e->status = 204;
            return RHIS_OK;
        }
    }
    if (e->if_match >= 0) {
        const char *json;
        int64_t v = 0, pid;
        rc = rhis_fhir_do_read(&b->c, e->t, id, &json, &v, &pid);
        if (rc == RHIS_OK && v != e->if_match)
            return entry_fail(b, e, RHIS_EPRECOND, ".request.ifMatch",
                              "version conflict: ifMatch %lld but the "
                              "current version is %lld",
                              (long long)e->if_match, (long long)v);
    }
    rc = rhis_fhir_do_delete(&b->c, e->t, id, &e->version);
    if (rc != RHIS_OK)
        return entry_fail_ctx(b, e, rc, NULL);
    e->rid = id;
    e->status = 204;
    e->ts_ms = b->c.now_ms;
    return RHIS_OK;
}

static rhis_status
run_get(run *b, entry *e)
{
    rhis_fhir_local out;
    rhis_status rc = rhis_fhir_local_get(b->req, e->url, 0, &out);
    if (rc != RHIS_OK) {
        const char *expr =
            out.expr == NULL || *out.expr == '\0'
                ? entry_path(b, e, ".request.url")
                : rhis_arena_printf(b->req->arena,
                                    "Bundle.entry[%d].request.url (%s)", e->idx,
                                    out.expr);
        e->done = 1;
        e->rc = rc;
        e->status = out.status;
        e->err_text = out.text;
        e->err_expr = expr;
        return rc;
    }
    e->status = out.status;
    e->out = out.body;
    e->etag = out.etag;
    return RHIS_OK;
}

static const char *
audit_action(const entry *e)
{
    if (e->method == M_DELETE)
        return "D";
    return e->status == 201 ? "C" : "U";
}

static const char *
audit_operation(const entry *e)
{
    if (e->method == M_DELETE)
        return "delete";
    if (e->status == 201)
        return "create";
    return "update";
}

/* Forgets what the last entry left for the audit of the request. */
static void
reset_audit(rhis_req *req)
{
    req->audit_done = 0;
    req->audit_type = NULL;
    req->audit_id = NULL;
    req->audit_patient = NULL;
}

/*
 * Audits a write entry on the request's connection: a success inside the
 * transaction that writes it, a failure after its rollback.  A refusal of
 * the access rules left the patient on the request (rhis/fhirstore.h:
 * the dispatcher's part, done here per entry).
 */
static rhis_status
audit_entry(run *b, entry *e)
{
    rhis_req *req = b->req;
    if (e->rc == RHIS_OK)
        req->audit_patient =
            b->c.last_patient_id != 0
                ? rhis_arena_printf(req->arena, "%lld",
                                    (long long)b->c.last_patient_id)
                : NULL;
    const char *rid =
        e->rid != 0  ? rhis_arena_printf(req->arena, "%lld", (long long)e->rid)
        : e->id != 0 ? rhis_arena_printf(req->arena, "%lld", (long long)e->id)
                     : NULL;
    rhis_status rc = rhis_req_audit(
        req, b->c.db, audit_action(e), audit_operation(e), e->t->name, rid,
        e->rc == RHIS_OK ? e->status : rhis_http_code(e->rc));
    if (rc == RHIS_OK)
        b->audited = 1;
    reset_audit(req);
    return rc;
}

/* Runs e (already parsed): its outcome is left on e. */
static rhis_status
run_entry(run *b, entry *e)
{
    clear_errors(b);
    reset_audit(b->req);
    b->c.last_patient_id = 0;
    rhis_status rc = RHIS_OK;
    if (e->method != M_GET)
        rc = check_role(b, e);
    if (rc == RHIS_OK) {
        switch (e->method) {
        case M_POST:
            rc = run_create(b, e);
            break;
        case M_PUT:
            rc = run_update(b, e);
            break;
        case M_DELETE:
            rc = run_delete(b, e);
            break;
        default:
            rc = run_get(b, e);
            break;
        }
    }
    e->done = 1;
    e->rc = rc;
    /* a conditional create that found its resource wrote nothing */
    int wrote = e->method != M_GET && e->rid != 0 &&
                !(e->method == M_POST && e->status == 200);
    if (rc == RHIS_OK && wrote)
        rc = audit_entry(b, e);
    if (rc != RHIS_OK && e->rc == RHIS_OK) {
        e->rc = rc;
        e->status = rhis_http_code(rc);
        e->err_text = "cannot write the audit event";
        e->err_expr = entry_path(b, e, NULL);
    }
    return e->rc;
}

/* Runs one entry of a batch in a transaction of its own. */
static void
run_batch_entry(run *b, entry *e)
{
    rhis_db *db = b->c.db;
    if (e->method == M_GET) {
        (void)run_entry(b, e);
        return;
    }
    rhis_status rc = rhis_db_begin(db);
    if (rc != RHIS_OK) {
        (void)entry_fail(b, e, RHIS_EBUSY, NULL, "database busy, try again");
        return;
    }
    rc = run_entry(b, e);
    if (rc == RHIS_OK) {
        rc = rhis_db_commit(db);
        if (rc != RHIS_OK)
            (void)entry_fail(b, e, rc == RHIS_ECONFLICT ? rc : RHIS_EIO, NULL,
                             "cannot save this entry");
    }
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        /* the refusal or fault survives the rollback */
        (void)audit_entry(b, e);
    }
}

/* The POST to run next: one whose urn:uuid dependencies have all run.
 * *cycle is set when only entries waiting on each other are left. */
static entry *
next_post(run *b, int *cycle)
{
    entry *first = NULL;
    *cycle = 0;
    for (int i = 0; i < b->n; i++) {
        entry *e = &b->e[i];
        if (e->method != M_POST || e->done)
            continue;
        if (first == NULL)
            first = e;
        int ready = 1;
        for (int j = 0; j < e->ndeps && ready; j++)
            ready = b->e[e->deps[j]].done;
        if (ready)
            return e;
    }
    *cycle = first != NULL;
    return first;
}

/* A POST that refers to a failed POST fails with a clear reason. */
static int
failed_dep(run *b, entry *e)
{
    for (int j = 0; j < e->ndeps; j++) {
        entry *d = &b->e[e->deps[j]];
        if (d->rc != RHIS_OK) {
            (void)entry_fail(b, e, RHIS_EINVAL, ".resource",
                             "refers to %s (Bundle.entry[%d]), which failed",
                             d->full_url, d->idx);
            return 1;
        }
    }
    return 0;
}

/*
 * Runs the entries in FHIR order.  A transaction stops at the first
 * failure and returns it (the caller rolls back); a batch runs them all.
 */
static rhis_status
run_all(run *b)
{
    static const int order[] = {M_DELETE, M_POST, M_PUT, M_GET};
    for (int i = 0; i < b->n && b->transaction; i++)
        if (b->e[i].done)
            return b->e[i].rc; /* a parse fault fails the transaction */
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        for (int i = 0; i < b->n; i++) {
            entry *e;
            if (order[k] == M_POST) {
                int cycle;
                e = next_post(b, &cycle);
                if (e == NULL)
                    break;
                if (cycle)
                    (void)entry_fail(b, e, RHIS_EINVAL, ".resource",
                                     "the urn:uuid references of this "
                                     "entry form a cycle with other POST "
                                     "entries");
                else
                    (void)failed_dep(b, e);
            } else {
                e = &b->e[i];
                if (e->method != order[k] || e->done)
                    continue;
            }
            if (!e->done) {
                if (b->transaction)
                    (void)run_entry(b, e);
                else
                    run_batch_entry(b, e);
            }
            if (b->transaction && e->rc != RHIS_OK)
                return e->rc;
        }
    }
    return RHIS_OK;
}

/* ---- the answer ---- */

static json_object *
outcome(const entry *e)
{
    json_object *oo = json_object_new_object();
    json_object_object_add(oo, "resourceType",
                           json_object_new_string("OperationOutcome"));
    json_object *issue = json_object_new_object();
    json_object_object_add(
        issue, "severity",
        json_object_new_string(e->status >= 500 ? "fatal" : "error"));
    json_object_object_add(issue, "code",
                           json_object_new_string(rhis_fhir_issue_code(e->rc)));
    json_object_object_add(
        issue, "diagnostics",
        json_object_new_string(e->err_text != NULL ? e->err_text
                                                   : rhis_status_name(e->rc)));
    if (e->err_expr != NULL) {
        json_object *ex = json_object_new_array();
        json_object_array_add(ex, json_object_new_string(e->err_expr));
        json_object_object_add(issue, "expression", ex);
    }
    json_object *issues = json_object_new_array();
    json_object_array_add(issues, issue);
    json_object_object_add(oo, "issue", issues);
    return oo;
}

static json_object *
response_entry(run *b, entry *e)
{
    rhis_arena *a = b->req->arena;
    json_object *ent = json_object_new_object();
    if (e->rc == RHIS_OK && e->t != NULL && e->rid != 0)
        json_object_object_add(
            ent, "fullUrl",
            json_object_new_string(rhis_arena_printf(
                a, "/fhir/%s/%lld", e->t->name, (long long)e->rid)));
    if (e->out != NULL) {
        json_object_object_add(ent, "resource", e->out);
        e->out = NULL;
    }
    json_object *rs = json_object_new_object();
    json_object_object_add(rs, "status",
                           json_object_new_string(status_line(e->status)));
    if (e->rc != RHIS_OK) {
        json_object_object_add(rs, "outcome", outcome(e));
    } else if (e->t != NULL && e->rid != 0) {
        if (e->method != M_DELETE)
            json_object_object_add(
                rs, "location",
                json_object_new_string(rhis_arena_printf(
                    a, "%s/%lld/_history/%lld", e->t->name, (long long)e->rid,
                    (long long)e->version)));
        json_object_object_add(rs, "etag",
                               json_object_new_string(rhis_arena_printf(
                                   a, "W/\"%lld\"", (long long)e->version)));
        char when[40];
        rhis_fhir_instant_ms(e->ts_ms, when, sizeof(when));
        json_object_object_add(rs, "lastModified",
                               json_object_new_string(when));
    } else if (e->etag != NULL) {
        json_object_object_add(rs, "etag", json_object_new_string(e->etag));
    }
    json_object_object_add(ent, "response", rs);
    return ent;
}

static void
answer(run *b, rhis_resp *resp)
{
    json_object *bundle = json_object_new_object();
    json_object_object_add(bundle, "resourceType",
                           json_object_new_string("Bundle"));
    json_object_object_add(bundle, "type",
                           json_object_new_string(b->transaction
                                                      ? "transaction-response"
                                                      : "batch-response"));
    json_object *entries = json_object_new_array();
    for (int i = 0; i < b->n; i++)
        json_object_array_add(entries, response_entry(b, &b->e[i]));
    json_object_object_add(bundle, "entry", entries);
    rhis_fhir_respond(resp, 200, bundle);
    json_object_put(bundle);
}

static void
free_outputs(run *b)
{
    for (int i = 0; i < b->n; i++) {
        json_object_put(b->e[i].out);
        b->e[i].out = NULL;
    }
}

/* A failed transaction: nothing was written; the error names the entry. */
static rhis_status
transaction_failed(run *b, rhis_status rc)
{
    rhis_req *req = b->req;
    rhis_db_rollback(b->c.db);
    free_outputs(b);
    entry *e = NULL;
    for (int i = 0; i < b->n && e == NULL; i++)
        if (b->e[i].done && b->e[i].rc != RHIS_OK)
            e = &b->e[i];
    /* the failed write is audited after the rollback; anything else is
     * left to the dispatcher, as the audit of the whole request */
    if (e != NULL && e->t != NULL && e->method != M_GET &&
        audit_entry(b, e) == RHIS_OK) {
        req->audit_done = 1;
    } else {
        reset_audit(req);
        req->audit_type = "Bundle";
    }
    if (e == NULL)
        return rhis_req_errorf(req, rc,
                               "transaction failed; nothing was "
                               "written");
    const char *what = e->t != NULL     ? e->t->name
                       : e->url != NULL ? e->url
                                        : "?";
    rhis_req_errorf(req, e->rc,
                    "transaction failed at Bundle.entry[%d] (%s %.60s, %s); "
                    "nothing was written: %s",
                    e->idx, e->method >= 0 ? method_names[e->method] : "?",
                    what, status_line(e->status),
                    e->err_text != NULL ? e->err_text : "");
    rhis_req_error_expr(req, e->err_expr);
    return e->rc;
}

static int
wants_representation(rhis_req *req)
{
    const char *p = rhis_req_header(req, "Prefer");
    return p != NULL && strstr(p, "return=representation") != NULL;
}

rhis_status
api_fhir_bundle(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    run *b = rhis_arena_calloc(req->arena, sizeof(*b));
    b->req = req;
    if ((rc = rhis_fhir_ctx_req(&b->c, req)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database unavailable");
    b->representation = wants_representation(req);
    if ((rc = parse_bundle(b, body)) != RHIS_OK)
        return rc;
    if (b->transaction) {
        if (rhis_db_begin(b->c.db) != RHIS_OK)
            return rhis_req_errorf(req, RHIS_EBUSY, "database busy");
        rc = run_all(b);
        if (rc == RHIS_OK && (rc = rhis_db_commit(b->c.db)) != RHIS_OK)
            rc = rhis_req_errorf(req, rc == RHIS_ECONFLICT ? rc : RHIS_EIO,
                                 "cannot save the transaction");
        if (rc != RHIS_OK)
            return transaction_failed(b, rc);
    } else {
        (void)run_all(b);
    }
    clear_errors(b);
    /* with no write audited, the dispatcher audits the request */
    reset_audit(req);
    req->audit_type = "Bundle";
    req->audit_done = b->audited;
    answer(b, resp);
    return RHIS_OK;
}

/* ---- local GET ---- */

static const char *
header_value(const rhis_resp *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].key, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static rhis_status
local_fail(rhis_req *req,
           rhis_fhir_local *out,
           rhis_status rc,
           const char *text)
{
    out->rc = rc;
    out->status = rhis_http_code(rc);
    out->text = rhis_arena_strdup(req->arena, text);
    return rc;
}

rhis_status
rhis_fhir_local_get(rhis_req *req,
                    const char *url,
                    unsigned flags,
                    rhis_fhir_local *out)
{
    memset(out, 0, sizeof(*out));
    RHIS_ASSERT(req->db != NULL);
    const char *q = strchr(url, '?');
    size_t plen = q != NULL ? (size_t)(q - url) : strlen(url);
    char *path = rhis_url_decode(req->arena, url, plen, 0);
    if (path == NULL || strstr(path, "..") != NULL)
        return local_fail(req, out, RHIS_EINVAL,
                          "malformed percent-encoding in the url");
    /* arena, not stack: anything a handler defers may point at it */
    rhis_req *sub = rhis_arena_alloc(req->arena, sizeof(*sub));
    *sub = *req;
    if (req->user == &req->principal_store)
        sub->user = &sub->principal_store;
    sub->method = "GET";
    sub->path = rhis_arena_printf(req->arena, "/fhir/%s", path);
    sub->raw_query = q != NULL ? rhis_arena_strdup(req->arena, q + 1) : "";
    sub->body = "";
    sub->body_len = 0;
    sub->err_status = RHIS_OK;
    sub->err_text[0] = '\0';
    sub->err_expr = NULL;
    sub->audit_type = sub->audit_id = sub->audit_patient = NULL;
    sub->audit_done = 0;
    sub->defer_fn = NULL;
    sub->defer_data = NULL;
    rhis_status rc = rhis_query_parse(req->arena, sub->raw_query,
                                      strlen(sub->raw_query), &sub->query);
    if (rc != RHIS_OK)
        return local_fail(req, out, RHIS_EINVAL, "malformed query in the url");
    size_t nroutes;
    const rhis_route *routes = rhis_routes(&nroutes);
    rc = rhis_route_find(routes, nroutes, "GET", sub->path, req->arena,
                         &sub->match);
    const rhis_route *r = sub->match.route;
    if (rc == RHIS_OK && (r->flags & ROUTE_STATIC) != 0)
        rc = RHIS_ENOTFOUND;
    if (rc != RHIS_OK)
        return local_fail(
            req, out, rc == RHIS_EMETHOD ? rc : RHIS_ENOTFOUND,
            rhis_arena_printf(req->arena, "GET %s is not served", path));
    if ((r->flags & ROUTE_AUTH) != 0) {
        if (sub->user == NULL)
            return local_fail(req, out, RHIS_EUNAUTH,
                              "authentication required");
        if ((r->roles & sub->user->role) == 0) {
            if ((flags & RHIS_FHIR_LOCAL_QUIET) == 0)
                (void)rhis_req_audit(sub, req->db, NULL, "forbidden", NULL,
                                     NULL, 403);
            return local_fail(
                req, out, RHIS_EFORBIDDEN,
                rhis_arena_printf(req->arena, "role %s may not use GET %s",
                                  rhis_role_name(sub->user->role), r->pattern));
        }
    }
    rhis_resp *sr = rhis_arena_calloc(req->arena, sizeof(*sr));
    rhis_buf_init(&sr->body, 64u << 20);
    rc = r->fn(sub, sr);
    if (rc == RHIS_OK && sub->defer_fn != NULL)
        rc = rhis_req_errorf(sub, RHIS_EINTERNAL,
                             "GET %s cannot run inside a Bundle", r->pattern);
    int status = rc == RHIS_OK ? sr->status : rhis_http_code(rc);
    if (!sub->audit_done &&
        ((r->flags & ROUTE_AUDIT) != 0 ||
         (status == 403 && (flags & RHIS_FHIR_LOCAL_QUIET) == 0)))
        (void)rhis_req_audit(sub, req->db, NULL,
                             status == 403 ? "forbidden" : r->summary,
                             sub->audit_type, sub->audit_id, status);
    if (rc == RHIS_OK) {
        char err[160];
        json_object *o = NULL;
        if (sr->body.len == 0 ||
            rhis_json_parse(sr->body.data, sr->body.len, 64, &o, err,
                            sizeof(err)) != RHIS_OK) {
            rhis_buf_fini(&sr->body);
            return local_fail(req, out, RHIS_EINTERNAL,
                              "the answer is not JSON");
        }
        const char *etag = header_value(sr, "ETag");
        out->body = o;
        out->etag = etag != NULL ? rhis_arena_strdup(req->arena, etag) : NULL;
        out->status = status;
        out->rc = RHIS_OK;
    } else {
        out->rc = rc;
        out->status = status;
        out->text = rhis_arena_strdup(req->arena, sub->err_text[0] != '\0'
                                                      ? sub->err_text
                                                      : rhis_status_name(rc));
        out->expr = sub->err_expr != NULL
                        ? rhis_arena_strdup(req->arena, sub->err_expr)
                        : NULL;
    }
    rhis_buf_fini(&sr->body);
    return out->rc;
}
