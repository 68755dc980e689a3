/*
 * api_system.c - /healthz, /metrics, the CapabilityStatement and static
 * files of the web UI.
 *
 * Why: operators probe health and scrape metrics; integrators read
 * /fhir/metadata to learn what this server supports, so it is generated
 * from the route table and cannot claim an interaction that has no route.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rhis/fhir.h"
#include "rhis/fhirstore.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "server_int.h"

rhis_status
api_health(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    int64_t v = 0;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = rhis_db_scalar_int64(db, &v,
                                  "SELECT COALESCE(MAX(version), 0) FROM"
                                  " schema_version",
                                  "");
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "database unavailable");
    char body[160];
    int n = snprintf(
        body, sizeof(body), "{\"status\":\"ok\",\"db\":\"%s\",\"schema\":%lld}",
        rhis_db_dialect(db) == RHIS_DIALECT_SQLITE ? "sqlite" : "postgresql",
        (long long)v);
    rhis_resp_text(resp, 200, "application/json; charset=utf-8", body,
                   (size_t)n);
    rhis_resp_header(resp, "Cache-Control", "no-store");
    return RHIS_OK;
}

rhis_status
api_metrics(rhis_req *req, rhis_resp *resp)
{
    rhis_buf b;
    rhis_buf_init(&b, 1 << 20);
    rhis_server_metrics_write(req->srv, &b);
    rhis_resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
                   b.data, b.len);
    rhis_buf_fini(&b);
    return RHIS_OK;
}

rhis_status
api_static(rhis_req *req, rhis_resp *resp)
{
    const char *rel = rhis_req_param(req, "path");
    if (rel == NULL || rel[0] == '\0')
        rel = "index.html";
    if (strncmp(rel, "api/", 4) == 0 || strncmp(rel, "fhir/", 5) == 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such endpoint: /%s",
                               rel);
    /* no dot-files, no parent directories, no absolute paths */
    if (strstr(rel, "..") != NULL || rel[0] == '/' || strstr(rel, "/.") ||
        rel[0] == '.')
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file");
    char root[PATH_MAX], full[PATH_MAX];
    if (realpath(req->conf->web_root, root) == NULL)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "web UI not installed (web_root %s)",
                               req->conf->web_root);
    char *path = rhis_arena_printf(req->arena, "%s/%s", root, rel);
    if (realpath(path, full) == NULL ||
        strncmp(full, root, strlen(root)) != 0 || full[strlen(root)] != '/')
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file: /%s", rel);
    struct stat sb;
    if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode))
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file: /%s", rel);
    resp->status = 200;
    resp->file_path = rhis_arena_strdup(req->arena, full);
    rhis_resp_header(resp, "Cache-Control",
                     strncmp(rel, "vendor/", 7) == 0 ? "max-age=86400"
                                                     : "no-cache");
    return RHIS_OK;
}

/* ---- the CapabilityStatement ---- */

/*
 * Type-level interactions in the order of FHIR's TypeRestfulInteraction
 * value set; bit i of cap_type.inter stands for type_codes[i].  Each is
 * claimed only when a route of that shape exists (route_shape), so the
 * statement cannot promise what the dispatcher would answer with 404/405.
 */
enum {
    I_READ,
    I_VREAD,
    I_UPDATE,
    I_PATCH,
    I_DELETE,
    I_HISTORY_INSTANCE,
    I_HISTORY_TYPE,
    I_CREATE,
    I_SEARCH_TYPE,
    I_COUNT
};
static const char *const type_codes[I_COUNT] = {
    "read",         "vread",  "update",
    "patch",        "delete", "history-instance",
    "history-type", "create", "search-type"};

/* System-level interactions (rest.interaction). */
enum { S_TRANSACTION, S_BATCH, S_SEARCH_SYSTEM, S_HISTORY_SYSTEM, S_COUNT };
static const char *const system_codes[S_COUNT] = {
    "transaction", "batch", "search-system", "history-system"};

#define CAP_MAX_TYPES 64
#define CAP_MAX_OPS   8
#define CAP_NAME_LEN  48

typedef struct cap_type {
    char name[CAP_NAME_LEN];
    unsigned inter; /* 1u << I_* */
    int nops;
    char ops[CAP_MAX_OPS][CAP_NAME_LEN]; /* "everything", without '$' */
} cap_type;

typedef struct cap {
    int ntypes;
    cap_type types[CAP_MAX_TYPES]; /* in route-table order */
    unsigned sys;                  /* 1u << S_* */
    int nops;
    char ops[CAP_MAX_OPS][CAP_NAME_LEN]; /* system-level operations */
} cap;

/* Canonical OperationDefinitions of the operations RHIS routes.  Those of
 * the base specification and the Bulk Data IG are named so clients know
 * the contract; anything else is RHIS's own. */
static const struct {
    const char *type; /* NULL = system level */
    const char *name;
    const char *definition;
} op_defs[] = {
    {"Patient", "everything",
     "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
    {"Patient", "match",
     "http://hl7.org/fhir/OperationDefinition/Patient-match"},
    {NULL, "export",
     "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
    {"Patient", "export",
     "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"},
    {"Group", "export",
     "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"},
    {"Measure", "evaluate-measure",
     "http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure"},
};

static const char *
op_definition(rhis_arena *a, const char *type, const char *name)
{
    for (size_t i = 0; i < sizeof(op_defs) / sizeof(op_defs[0]); i++)
        if (strcmp(op_defs[i].name, name) == 0 &&
            (type == NULL ? op_defs[i].type == NULL
                          : op_defs[i].type != NULL &&
                                strcmp(op_defs[i].type, type) == 0))
            return op_defs[i].definition;
    return rhis_arena_printf(
        a, "https://rhis.cn/fhir/OperationDefinition/%s%s%s",
        type != NULL ? type : "", type != NULL ? "-" : "", name);
}

/* The entry for type name, added on first sight; NULL when full. */
static cap_type *
cap_type_get(cap *c, const char *name, size_t len)
{
    for (int i = 0; i < c->ntypes; i++)
        if (strlen(c->types[i].name) == len &&
            memcmp(c->types[i].name, name, len) == 0)
            return &c->types[i];
    if (c->ntypes == CAP_MAX_TYPES || len >= CAP_NAME_LEN)
        return NULL;
    cap_type *t = &c->types[c->ntypes++];
    memset(t, 0, sizeof(*t));
    memcpy(t->name, name, len);
    return t;
}

/* Adds operation seg ("$name") to ops unless present or the list is full. */
static void
add_op(char (*ops)[CAP_NAME_LEN], int *n, const char *seg, size_t len)
{
    if (len < 2 || len > CAP_NAME_LEN || *n == CAP_MAX_OPS)
        return;
    for (int i = 0; i < *n; i++)
        if (strlen(ops[i]) == len - 1 && memcmp(ops[i], seg + 1, len - 1) == 0)
            return;
    memcpy(ops[*n], seg + 1, len - 1);
    ops[*n][len - 1] = '\0';
    (*n)++;
}

/* Path segments of a route pattern after "/fhir": pointers and lengths. */
typedef struct segs {
    int n;
    const char *s[4];
    size_t len[4];
} segs;

static int
split_pattern(const char *p, segs *out)
{
    out->n = 0;
    while (*p == '/') {
        p++;
        if (out->n == 4)
            return -1;
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        out->s[out->n] = p;
        out->len[out->n++] = len;
        p += len;
    }
    return *p == '\0' ? 0 : -1;
}

static int
seg_is(const segs *g, int i, const char *lit)
{
    return i < g->n && g->len[i] == strlen(lit) &&
           memcmp(g->s[i], lit, g->len[i]) == 0;
}

static int
seg_is_param(const segs *g, int i)
{
    return i < g->n && g->len[i] > 2 && g->s[i][0] == '{' && g->s[i][1] != '*';
}

static int
seg_is_op(const segs *g, int i)
{
    return i < g->n && g->len[i] > 1 && g->s[i][0] == '$';
}

/*
 * Records what one /fhir route serves, by the shape of its pattern:
 *   POST /fhir                        transaction and batch
 *   GET /fhir                         search-system
 *   GET /fhir/_history                history-system
 *   /fhir/$op                         a system operation
 *   GET /fhir/T, /fhir/T/_search      search-type
 *   POST /fhir/T                      create
 *   GET /fhir/T/_history              history-type
 *   /fhir/T/$op, /fhir/T/{id}/$op     an operation of T
 *   GET|PUT|PATCH|DELETE /fhir/T/{id} read, update, patch, delete
 *   GET /fhir/T/{id}/_history         history-instance
 *   GET /fhir/T/{id}/_history/{vid}   vread
 * Routes of any other shape are not FHIR interactions and are skipped.
 */
static void
route_shape(cap *c, const char *method, const char *pattern)
{
    segs g;
    if (split_pattern(pattern + strlen("/fhir"), &g) != 0)
        return;
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (g.n == 0 || (g.n == 1 && g.len[0] == 0)) { /* the base */
        if (post)
            c->sys |= 1u << S_TRANSACTION | 1u << S_BATCH;
        else if (get)
            c->sys |= 1u << S_SEARCH_SYSTEM;
        return;
    }
    if (g.n == 1 && seg_is(&g, 0, "_history") && get) {
        c->sys |= 1u << S_HISTORY_SYSTEM;
        return;
    }
    if (g.n == 1 && seg_is_op(&g, 0)) {
        add_op(c->ops, &c->nops, g.s[0], g.len[0]);
        return;
    }
    if (g.s[0][0] < 'A' || g.s[0][0] > 'Z')
        return; /* metadata, non-FHIR helpers */
    cap_type *t = cap_type_get(c, g.s[0], g.len[0]);
    if (t == NULL)
        return;
    int code = -1;
    if (g.n == 1)
        code = get ? I_SEARCH_TYPE : post ? I_CREATE : -1;
    else if (g.n == 2 && seg_is(&g, 1, "_search") && (get || post))
        code = I_SEARCH_TYPE;
    else if (g.n == 2 && seg_is(&g, 1, "_history") && get)
        code = I_HISTORY_TYPE;
    else if (g.n == 2 && seg_is_op(&g, 1))
        add_op(t->ops, &t->nops, g.s[1], g.len[1]);
    else if (g.n == 2 && seg_is_param(&g, 1))
        code = get                             ? I_READ
               : strcmp(method, "PUT") == 0    ? I_UPDATE
               : strcmp(method, "PATCH") == 0  ? I_PATCH
               : strcmp(method, "DELETE") == 0 ? I_DELETE
                                               : -1;
    else if (g.n == 3 && seg_is_param(&g, 1) && seg_is_op(&g, 2))
        add_op(t->ops, &t->nops, g.s[2], g.len[2]);
    else if (g.n == 3 && seg_is_param(&g, 1) && seg_is(&g, 2, "_history") &&
             get)
        code = I_HISTORY_INSTANCE;
    else if (g.n == 4 && seg_is_param(&g, 1) && seg_is(&g, 2, "_history") &&
             seg_is_param(&g, 3) && get)
        code = I_VREAD;
    if (code >= 0)
        t->inter |= 1u << code;
}

static json_object *
code_list(unsigned bits, const char *const *codes, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        if (bits & (1u << i)) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "code", json_object_new_string(codes[i]));
            json_object_array_add(a, o);
        }
    return a;
}

static json_object *
op_list(rhis_arena *a, const char *type, const char (*ops)[CAP_NAME_LEN], int n)
{
    json_object *arr = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(ops[i]));
        json_object_object_add(
            o, "definition",
            json_object_new_string(op_definition(a, type, ops[i])));
        json_object_array_add(arr, o);
    }
    return arr;
}

static void
add_param(json_object *arr, const char *name, const char *type, const char *doc)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "documentation", json_object_new_string(doc));
    json_object_array_add(arr, o);
}

/* The FHIR search parameter type and what RHIS accepts of it
 * (src/fhir/store.c, where_*). */
static void
param_kind(rhis_fhir_pkind k, const char **type, const char **doc)
{
    switch (k) {
    case RHIS_P_STRING:
        *type = "string";
        *doc = "Case-insensitive prefix match; modifiers :exact, :contains.";
        return;
    case RHIS_P_TOKEN:
        *type = "token";
        *doc = "[system]|code or code; modifier :not.";
        return;
    case RHIS_P_CUSTOM:
        *type = "token";
        *doc = "[system]|code or code.";
        return;
    case RHIS_P_DATE:
        *type = "date";
        *doc = "Prefixes eq ne gt lt ge le sa eb; YYYY, YYYY-MM, YYYY-MM-DD "
               "or an instant with a zone.";
        return;
    case RHIS_P_REF:
        *type = "reference";
        *doc = "Type/id or id.";
        return;
    case RHIS_P_NUMBER:
        *type = "number";
        *doc = "Integer with prefixes eq ne gt lt ge le.";
        return;
    }
    *type = "special";
    *doc = "";
}

/* searchParam and searchInclude of a store type that is searchable. */
static void
add_search(json_object *res, const rhis_fhir_type *st)
{
    json_object *params = json_object_new_array();
    json_object *inc = json_object_new_array();
    add_param(params, "_id", "token", "The logical id.");
    add_param(params, "_lastUpdated", "date",
              "When the current version was written; date prefixes.");
    for (int i = 0; i < st->nparams; i++) {
        const rhis_fhir_param *p = &st->params[i];
        const char *type, *doc;
        /* the engine's own (store.c, where_one); a type may list them too */
        if (strcmp(p->name, "_id") == 0 || strcmp(p->name, "_lastUpdated") == 0)
            continue;
        param_kind(p->kind, &type, &doc);
        add_param(params, p->name, type, doc);
        /* _include of the patient (src/fhir/rest.c, wants_include) */
        if (p->kind == RHIS_P_REF && p->ref_type != NULL &&
            strcmp(p->ref_type, "Patient") == 0 && st->patient_col != NULL &&
            strcmp(st->patient_col, "t.id") != 0) {
            char buf[2 * CAP_NAME_LEN + 2];
            (void)snprintf(buf, sizeof(buf), "%s:%s", st->name, p->name);
            json_object_array_add(inc, json_object_new_string(buf));
        }
    }
    if (json_object_array_length(inc) > 0)
        json_object_object_add(res, "searchInclude", inc);
    else
        json_object_put(inc);
    json_object_object_add(res, "searchParam", params);
}

/* One rest.resource entry.  Types of the versioned store (rhis_fhir_types)
 * get their search parameters and conditional create; the registry's own
 * resources (Organization, Location, ...) only what their routes serve. */
static json_object *
resource_entry(rhis_arena *a, const cap_type *t)
{
    const rhis_fhir_type *st = rhis_fhir_type_find(t->name);
    unsigned in = t->inter;
    json_object *res = json_object_new_object();
    json_object_object_add(res, "type", json_object_new_string(t->name));
    if (in != 0)
        json_object_object_add(res, "interaction",
                               code_list(in, type_codes, I_COUNT));
    /* meta.versionId: every store version; the registry's resources that
     * are created and updated here (Organization, Practitioner ...) carry
     * their row version; others (Location areas, AuditEvent) do not. */
    unsigned crud = 1u << I_CREATE | 1u << I_UPDATE;
    if (st != NULL || (in & crud) == crud) {
        json_object_object_add(res, "versioning",
                               json_object_new_string("versioned"));
        json_object_object_add(
            res, "readHistory",
            json_object_new_boolean((in & (1u << I_VREAD)) != 0));
    }
    if (in & (1u << I_UPDATE)) {
        json_object_object_add(res, "updateCreate", json_object_new_boolean(0));
        json_object_object_add(res, "conditionalUpdate",
                               json_object_new_boolean(0));
    }
    if (in & (1u << I_CREATE))
        json_object_object_add(res, "conditionalCreate",
                               json_object_new_boolean(st != NULL));
    if (in & (1u << I_READ))
        json_object_object_add(res, "conditionalRead",
                               json_object_new_string("not-supported"));
    if (in & (1u << I_DELETE))
        json_object_object_add(res, "conditionalDelete",
                               json_object_new_string("not-supported"));
    if (st != NULL && (in & (1u << I_SEARCH_TYPE)))
        add_search(res, st);
    if (t->nops > 0)
        json_object_object_add(res, "operation",
                               op_list(a, t->name, t->ops, t->nops));
    return res;
}

static json_object *
rest_entry(rhis_arena *a, const cap *c)
{
    json_object *rest = json_object_new_object();
    json_object_object_add(rest, "mode", json_object_new_string("server"));
    json_object *sec = json_object_new_object();
    json_object_object_add(
        sec, "description",
        json_object_new_string("Bearer token from POST /api/v1/login; each "
                               "route admits listed roles and the user's "
                               "area scope; clinical records also follow "
                               "the access rules (treatment, consent, "
                               "break-glass)"));
    json_object_object_add(rest, "security", sec);
    json_object *resources = json_object_new_array();
    for (int i = 0; i < c->ntypes; i++)
        json_object_array_add(resources, resource_entry(a, &c->types[i]));
    json_object_object_add(rest, "resource", resources);
    if (c->sys != 0)
        json_object_object_add(rest, "interaction",
                               code_list(c->sys, system_codes, S_COUNT));
    if (c->nops > 0)
        json_object_object_add(rest, "operation",
                               op_list(a, NULL, c->ops, c->nops));
    return rest;
}

/*
 * GET /fhir/metadata: the CapabilityStatement (kind instance), generated
 * from the route table and the store's type descriptors on every request,
 * so it lists exactly the interactions, operations and search parameters
 * this binary serves.
 */
rhis_status
api_fhir_metadata(rhis_req *req, rhis_resp *resp)
{
    cap *c = rhis_arena_calloc(req->arena, sizeof(*c));
    size_t n;
    const rhis_route *routes = rhis_routes(&n);
    for (size_t i = 0; i < n; i++)
        if (strncmp(routes[i].pattern, "/fhir", 5) == 0 &&
            (routes[i].pattern[5] == '\0' || routes[i].pattern[5] == '/'))
            route_shape(c, routes[i].method, routes[i].pattern);

    char date[40];
    rhis_fhir_instant((int64_t)time(NULL), date, sizeof(date));
    json_object *cs = json_object_new_object();
    json_object_object_add(cs, "resourceType",
                           json_object_new_string("CapabilityStatement"));
    json_object_object_add(cs, "name", json_object_new_string("RHIS"));
    json_object_object_add(
        cs, "title",
        json_object_new_string("RHIS regional health information platform"));
    json_object_object_add(cs, "status", json_object_new_string("active"));
    json_object_object_add(cs, "date", json_object_new_string(date));
    json_object_object_add(cs, "kind", json_object_new_string("instance"));
    json_object *sw = json_object_new_object();
    json_object_object_add(sw, "name", json_object_new_string("RHIS"));
    json_object_object_add(sw, "version", json_object_new_string("0.1.0"));
    json_object_object_add(cs, "software", sw);
    /* kind instance: implementation is required (cpb-14) */
    json_object *impl = json_object_new_object();
    json_object_object_add(
        impl, "description",
        json_object_new_string("RHIS FHIR R4 server (this instance)"));
    json_object_object_add(cs, "implementation", impl);
    json_object_object_add(cs, "fhirVersion", json_object_new_string("4.0.1"));
    json_object *fmt = json_object_new_array();
    json_object_array_add(fmt, json_object_new_string("application/fhir+json"));
    json_object_object_add(cs, "format", fmt);
    json_object *rests = json_object_new_array();
    json_object_array_add(rests, rest_entry(req->arena, c));
    json_object_object_add(cs, "rest", rests);
    rhis_fhir_respond(resp, 200, cs);
    json_object_put(cs);
    return RHIS_OK;
}
