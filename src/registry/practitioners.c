/*
 * practitioners.c - health workers (FHIR Practitioner) and their posts in
 * institutions (FHIR PractitionerRole).
 *
 * Why: the plans count physicians, nurses and GPs per 1000 residents per
 * area; referrals, follow-ups and reports are signed by a practitioner at
 * an institution.  A person is one Practitioner; each post is a
 * PractitionerRole, so a doctor working at a township centre and a village
 * clinic is counted once per head and once per post.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rhis/agg.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/registry.h"

#define SYS_LICENCE "urn:rhis:practitioner-licence"
#define SYS_PROLE   "urn:rhis:practitioner-role"

typedef struct pract {
    int64_t id;
    char name[128];
    char sex[2];
    char licence[48];
    int active;
    int64_t version, updated_at;
} pract;

typedef struct prole {
    int64_t id, practitioner_id, institution_id;
    char role[32];
    int active;
    int64_t version, updated_at;
} prole;

static void
meta(json_object *o, int64_t version, int64_t updated)
{
    char buf[40];
    json_object *m = json_object_new_object();
    snprintf(buf, sizeof(buf), "%lld", (long long)version);
    json_object_object_add(m, "versionId", json_object_new_string(buf));
    rhis_fhir_instant(updated, buf, sizeof(buf));
    json_object_object_add(m, "lastUpdated", json_object_new_string(buf));
    json_object_object_add(o, "meta", m);
}

static json_object *
ref(const char *type, int64_t id)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s/%lld", type, (long long)id);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "reference", json_object_new_string(buf));
    return r;
}

static json_object *
pract_fhir(const pract *p)
{
    json_object *o = json_object_new_object();
    char buf[32];
    json_object_object_add(o, "resourceType",
                           json_object_new_string("Practitioner"));
    snprintf(buf, sizeof(buf), "%lld", (long long)p->id);
    json_object_object_add(o, "id", json_object_new_string(buf));
    meta(o, p->version, p->updated_at);
    if (p->licence[0] != '\0') {
        json_object *ids = json_object_new_array();
        json_object *id = json_object_new_object();
        json_object_object_add(id, "system",
                               json_object_new_string(SYS_LICENCE));
        json_object_object_add(id, "value", json_object_new_string(p->licence));
        json_object_array_add(ids, id);
        json_object_object_add(o, "identifier", ids);
    }
    json_object_object_add(o, "active", json_object_new_boolean(p->active));
    json_object *names = json_object_new_array();
    json_object *n = json_object_new_object();
    json_object_object_add(n, "text", json_object_new_string(p->name));
    json_object_array_add(names, n);
    json_object_object_add(o, "name", names);
    if (p->sex[0] != '\0')
        json_object_object_add(
            o, "gender",
            json_object_new_string(p->sex[0] == 'M' ? "male" : "female"));
    return o;
}

static json_object *
prole_fhir(const prole *r)
{
    json_object *o = json_object_new_object();
    char buf[32];
    json_object_object_add(o, "resourceType",
                           json_object_new_string("PractitionerRole"));
    snprintf(buf, sizeof(buf), "%lld", (long long)r->id);
    json_object_object_add(o, "id", json_object_new_string(buf));
    meta(o, r->version, r->updated_at);
    json_object_object_add(o, "active", json_object_new_boolean(r->active));
    json_object_object_add(o, "practitioner",
                           ref("Practitioner", r->practitioner_id));
    json_object_object_add(o, "organization",
                           ref("Organization", r->institution_id));
    json_object *codes = json_object_new_array();
    json_object *cc = json_object_new_object();
    json_object *codings = json_object_new_array();
    json_object *c = json_object_new_object();
    json_object_object_add(c, "system", json_object_new_string(SYS_PROLE));
    json_object_object_add(c, "code", json_object_new_string(r->role));
    json_object_object_add(
        c, "display",
        json_object_new_string(rhis_practitioner_role_label(r->role)));
    json_object_array_add(codings, c);
    json_object_object_add(cc, "coding", codings);
    json_object_array_add(codes, cc);
    json_object_object_add(o, "code", codes);
    return o;
}

static void
pract_row(rhis_stmt *st, void *out)
{
    pract *p = out;
    memset(p, 0, sizeof(*p));
    p->id = rhis_db_column_int64(st, 0);
    snprintf(p->name, sizeof(p->name), "%s", rhis_db_column_text(st, 1));
    const char *s = rhis_db_column_text(st, 2);
    snprintf(p->sex, sizeof(p->sex), "%s", s != NULL ? s : "");
    const char *l = rhis_db_column_text(st, 3);
    snprintf(p->licence, sizeof(p->licence), "%s", l != NULL ? l : "");
    p->active = (int)rhis_db_column_int64(st, 4);
    p->version = rhis_db_column_int64(st, 5);
    p->updated_at = rhis_db_column_int64(st, 6);
}

static rhis_status
pract_load(rhis_db *db, int64_t id, pract *p)
{
    return rhis_db_query_row(db, pract_row, p,
                             "SELECT id, name, sex, licence_no, active,"
                             " version, updated_at FROM practitioner"
                             " WHERE id = ?",
                             "i", id);
}

#define PROLE_COLS                                                             \
    "r.id, r.practitioner_id, r.institution_id, r.role, r.active,"             \
    " r.version, r.updated_at"

static void
prole_row(rhis_stmt *st, prole *r)
{
    memset(r, 0, sizeof(*r));
    r->id = rhis_db_column_int64(st, 0);
    r->practitioner_id = rhis_db_column_int64(st, 1);
    r->institution_id = rhis_db_column_int64(st, 2);
    snprintf(r->role, sizeof(r->role), "%s", rhis_db_column_text(st, 3));
    r->active = (int)rhis_db_column_int64(st, 4);
    r->version = rhis_db_column_int64(st, 5);
    r->updated_at = rhis_db_column_int64(st, 6);
}

static void
fill_prole(rhis_stmt *st, void *out)
{
    prole_row(st, out);
}

static rhis_status
prole_load(rhis_db *db, int64_t id, prole *r)
{
    return rhis_db_query_row(db, fill_prole, r,
                             "SELECT " PROLE_COLS
                             " FROM practitioner_role r WHERE r.id = ?",
                             "i", id);
}

static rhis_status
bad(rhis_req *req, const char *expr, const char *msg)
{
    rhis_req_error_expr(req, expr);
    return rhis_req_errorf(req, RHIS_EINVAL, "%s", msg);
}

static rhis_status
pract_parse(rhis_req *req, json_object *o, pract *p)
{
    const char *rt = rhis_json_get_str(o, "resourceType");
    if (rt == NULL || strcmp(rt, "Practitioner") != 0)
        return bad(req, "resourceType", "resourceType must be Practitioner");
    memset(p, 0, sizeof(*p));
    p->active = 1;
    json_object *v = rhis_json_get(o, "active");
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_boolean))
            return bad(req, "Practitioner.active", "active must be boolean");
        p->active = json_object_get_boolean(v);
    }
    json_object *names = rhis_json_get(o, "name");
    json_object *n0 = names != NULL &&
                              json_object_is_type(names, json_type_array) &&
                              json_object_array_length(names) > 0
                          ? json_object_array_get_idx(names, 0)
                          : NULL;
    const char *text = rhis_json_get_str(n0, "text");
    const char *family = rhis_json_get_str(n0, "family");
    json_object *given = rhis_json_get(n0, "given");
    if (text != NULL) {
        snprintf(p->name, sizeof(p->name), "%s", text);
    } else if (family != NULL) {
        /* Chinese order: family name first, no space */
        const char *g =
            given != NULL && json_object_is_type(given, json_type_array) &&
                    json_object_array_length(given) > 0
                ? json_object_get_string(json_object_array_get_idx(given, 0))
                : "";
        snprintf(p->name, sizeof(p->name), "%s%s", family, g);
    }
    if (p->name[0] == '\0' || strlen(p->name) > 100)
        return bad(req, "Practitioner.name",
                   "Practitioner.name[0] needs text or family (at most 100 "
                   "bytes)");
    const char *g = rhis_json_get_str(o, "gender");
    if (g != NULL) {
        if (strcmp(g, "male") == 0)
            p->sex[0] = 'M';
        else if (strcmp(g, "female") == 0)
            p->sex[0] = 'F';
        else if (strcmp(g, "unknown") != 0 && strcmp(g, "other") != 0)
            return bad(req, "Practitioner.gender",
                       "gender must be male, female, other or unknown");
    }
    json_object *ids = rhis_json_get(o, "identifier");
    for (size_t i = 0;
         ids != NULL && json_object_is_type(ids, json_type_array) &&
         i < json_object_array_length(ids);
         i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = rhis_json_get_str(id, "system");
        const char *val = rhis_json_get_str(id, "value");
        if (sys != NULL && strcmp(sys, SYS_LICENCE) == 0) {
            if (val == NULL || val[0] == '\0' || strlen(val) > 40)
                return bad(req, "Practitioner.identifier.value",
                           "licence number must be 1-40 bytes");
            snprintf(p->licence, sizeof(p->licence), "%s", val);
        }
    }
    return RHIS_OK;
}

/* Parses "Type/123" into id; 400 naming expr otherwise. */
static rhis_status
parse_ref(rhis_req *req,
          json_object *o,
          const char *type,
          const char *expr,
          int64_t *id)
{
    const char *r = rhis_json_get_str(o, "reference");
    size_t n = strlen(type);
    if (r == NULL || strncmp(r, type, n) != 0 || r[n] != '/' ||
        rhis_fhir_parse_id(req, expr, r + n + 1, id) != RHIS_OK) {
        rhis_req_error_expr(req, expr);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be a reference %s/ID",
                               expr, type);
    }
    return RHIS_OK;
}

static rhis_status
prole_parse(rhis_req *req, json_object *o, prole *r)
{
    const char *rt = rhis_json_get_str(o, "resourceType");
    if (rt == NULL || strcmp(rt, "PractitionerRole") != 0)
        return bad(req, "resourceType",
                   "resourceType must be PractitionerRole");
    memset(r, 0, sizeof(*r));
    r->active = 1;
    json_object *v = rhis_json_get(o, "active");
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_boolean))
            return bad(req, "PractitionerRole.active",
                       "active must be boolean");
        r->active = json_object_get_boolean(v);
    }
    rhis_status rc =
        parse_ref(req, rhis_json_get(o, "practitioner"), "Practitioner",
                  "PractitionerRole.practitioner", &r->practitioner_id);
    if (rc == RHIS_OK)
        rc = parse_ref(req, rhis_json_get(o, "organization"), "Organization",
                       "PractitionerRole.organization", &r->institution_id);
    if (rc != RHIS_OK)
        return rc;
    json_object *codes = rhis_json_get(o, "code");
    for (size_t i = 0;
         codes != NULL && json_object_is_type(codes, json_type_array) &&
         i < json_object_array_length(codes) && r->role[0] == '\0';
         i++) {
        json_object *cs =
            rhis_json_get(json_object_array_get_idx(codes, i), "coding");
        for (size_t j = 0;
             cs != NULL && json_object_is_type(cs, json_type_array) &&
             j < json_object_array_length(cs);
             j++) {
            json_object *c = json_object_array_get_idx(cs, j);
            const char *sys = rhis_json_get_str(c, "system");
            const char *code = rhis_json_get_str(c, "code");
            if (sys != NULL && strcmp(sys, SYS_PROLE) == 0 && code != NULL &&
                strlen(code) < sizeof(r->role))
                snprintf(r->role, sizeof(r->role), "%s", code);
        }
    }
    if (rhis_practitioner_role_label(r->role) == NULL)
        return bad(req, "PractitionerRole.code",
                   "PractitionerRole.code needs a coding of system "
                   "'" SYS_PROLE "' with one of physician, "
                   "assistant_physician, nurse, gp, pharmacist, technician, "
                   "public_health");
    return RHIS_OK;
}

/* The area of institution id; 400 if the institution does not exist. */
static rhis_status
institution_area(rhis_req *req, rhis_db *db, int64_t id, char *area, size_t len)
{
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st,
                                   "SELECT area_code FROM institution WHERE"
                                   " id = ?",
                                   "i", id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read institution");
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW)
        snprintf(area, len, "%s", rhis_db_column_text(st, 0));
    rhis_db_finalize(st);
    if (rc == RHIS_DONE) {
        rhis_req_error_expr(req, "PractitionerRole.organization");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Organization/%lld does not exist",
                               (long long)id);
    }
    return rc == RHIS_ROW ? RHIS_OK
                          : rhis_req_errorf(req, rc, "cannot read institution");
}

static rhis_status
commit_and_answer(rhis_req *req,
                  rhis_resp *resp,
                  rhis_db *db,
                  const char *type,
                  int64_t id,
                  int64_t version,
                  int created,
                  json_object *o)
{
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    req->audit_type = type;
    req->audit_id = rhis_arena_strdup(req->arena, ids);
    rhis_status rc = rhis_req_audit(req, db, created ? "C" : "U",
                                    created ? "create" : "update", type, ids,
                                    created ? 201 : 200);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        req->audit_done = 0;
        rhis_db_rollback(db);
        json_object_put(o);
        return rhis_req_errorf(req, rc, "cannot store %s", type);
    }
    rhis_fhir_set_version(req, resp, version);
    if (created)
        rhis_resp_header(
            resp, "Location",
            rhis_arena_printf(req->arena, "/fhir/%s/%s", type, ids));
    rhis_fhir_respond(resp, created ? 201 : 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static rhis_status
id_param(rhis_req *req, const char *type, int64_t *id)
{
    const char *s = rhis_req_param(req, "id");
    if (rhis_fhir_parse_id(req, "id", s, id) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "%s/%s not found", type, s);
    return RHIS_OK;
}

rhis_status
api_practitioner_read(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_status rc = id_param(req, "Practitioner", &id);
    rhis_db *db;
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    pract p;
    rc = pract_load(db, id, &p);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "Practitioner/%lld %s", (long long)id,
                               rc == RHIS_ENOTFOUND ? "not found"
                                                    : "cannot be read");
    json_object *o = pract_fhir(&p);
    rhis_fhir_set_version(req, resp, p.version);
    rhis_fhir_respond(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static json_object *
pract_row_fhir(rhis_stmt *st)
{
    pract p;
    pract_row(st, &p);
    return pract_fhir(&p);
}

static json_object *
prole_row_fhir(rhis_stmt *st)
{
    prole r;
    prole_row(st, &r);
    return prole_fhir(&r);
}

rhis_status
api_practitioner_search(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n && rc == RHIS_OK; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "name") == 0) {
            rhis_sql_where_add(&w, "name LIKE ?", 's', 0,
                               rhis_arena_printf(req->arena, "%s%%", v));
        } else if (strcmp(k, "identifier") == 0) {
            const char *bar = strchr(v, '|');
            rhis_sql_where_add(&w, "licence_no = ?", 's', 0,
                               bar != NULL ? bar + 1 : v);
        } else if (strcmp(k, "organization") == 0) {
            int64_t oid;
            const char *p = strncmp(v, "Organization/", 13) == 0 ? v + 13 : v;
            rc = rhis_fhir_parse_id(req, "organization", p, &oid);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w,
                                   "id IN (SELECT practitioner_id FROM"
                                   " practitioner_role WHERE"
                                   " institution_id = ?)",
                                   'i', oid, NULL);
        } else if (!rhis_fhir_is_control_param(k)) {
            rc = rhis_req_errorf(req, RHIS_EINVAL,
                                 "unknown search parameter '%s' for "
                                 "Practitioner (name, identifier, "
                                 "organization)",
                                 k);
        }
    }
    if (rc != RHIS_OK)
        return rc;
    return rhis_fhir_search_respond(
        req, resp, &s, &w, "practitioner",
        "id, name, sex, licence_no, active, version, updated_at", "ORDER BY id",
        "Practitioner", pract_row_fhir);
}

static rhis_status
pract_write(rhis_req *req, rhis_resp *resp, int create)
{
    int64_t id = 0;
    rhis_status rc = RHIS_OK;
    if (!create && (rc = id_param(req, "Practitioner", &id)) != RHIS_OK)
        return rc;
    json_object *body;
    rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    pract p;
    rc = pract_parse(req, body, &p);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot store Practitioner");
    int64_t now = (int64_t)time(NULL);
    if (create) {
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "INSERT INTO practitioner (name, sex, licence_no,"
                           " active, version, updated_at) VALUES (?, ?, ?, ?,"
                           " 1, ?) RETURNING id",
                           "sssii", p.name, p.sex[0] != '\0' ? p.sex : NULL,
                           p.licence[0] != '\0' ? p.licence : NULL,
                           (int64_t)p.active, now);
        if (rc == RHIS_OK) {
            rc = rhis_db_step(st);
            if (rc == RHIS_ROW) {
                p.id = rhis_db_column_int64(st, 0);
                rc = RHIS_OK;
            }
            rhis_db_finalize(st);
        }
        p.version = 1;
    } else {
        pract old;
        rc = pract_load(db, id, &old);
        if (rc == RHIS_OK)
            rc = rhis_fhir_check_if_match(req, old.version);
        if (rc == RHIS_OK) {
            p.id = id;
            p.version = old.version + 1;
            rc = rhis_db_run(db,
                             "UPDATE practitioner SET name = ?, sex = ?,"
                             " licence_no = ?, active = ?, version = ?,"
                             " updated_at = ? WHERE id = ?",
                             "sssiiii", p.name, p.sex[0] != '\0' ? p.sex : NULL,
                             p.licence[0] != '\0' ? p.licence : NULL,
                             (int64_t)p.active, p.version, now, id);
        }
    }
    p.updated_at = now;
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        if (req->err_status == rc)
            return rc;
        if (rc == RHIS_ECONFLICT)
            return rhis_req_errorf(
                req, rc, "a practitioner with licence '%s' exists", p.licence);
        if (rc == RHIS_ENOTFOUND)
            return rhis_req_errorf(req, rc, "Practitioner/%lld not found",
                                   (long long)id);
        return rhis_req_errorf(req, rc, "cannot store Practitioner");
    }
    return commit_and_answer(req, resp, db, "Practitioner", p.id, p.version,
                             create, pract_fhir(&p));
}

rhis_status
api_practitioner_create(rhis_req *req, rhis_resp *resp)
{
    return pract_write(req, resp, 1);
}

rhis_status
api_practitioner_update(rhis_req *req, rhis_resp *resp)
{
    return pract_write(req, resp, 0);
}

rhis_status
api_practitionerrole_read(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_status rc = id_param(req, "PractitionerRole", &id);
    rhis_db *db;
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    prole r;
    rc = prole_load(db, id, &r);
    if (rc != RHIS_OK)
        return rhis_req_errorf(
            req, rc, "PractitionerRole/%lld %s", (long long)id,
            rc == RHIS_ENOTFOUND ? "not found" : "cannot be read");
    json_object *o = prole_fhir(&r);
    rhis_fhir_set_version(req, resp, r.version);
    rhis_fhir_respond(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_practitionerrole_search(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n && rc == RHIS_OK; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        int64_t x;
        if (strcmp(k, "practitioner") == 0) {
            const char *p = strncmp(v, "Practitioner/", 13) == 0 ? v + 13 : v;
            rc = rhis_fhir_parse_id(req, k, p, &x);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w, "r.practitioner_id = ?", 'i', x, NULL);
        } else if (strcmp(k, "organization") == 0) {
            const char *p = strncmp(v, "Organization/", 13) == 0 ? v + 13 : v;
            rc = rhis_fhir_parse_id(req, k, p, &x);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w, "r.institution_id = ?", 'i', x, NULL);
        } else if (strcmp(k, "role") == 0) {
            const char *bar = strchr(v, '|');
            rhis_sql_where_add(&w, "r.role = ?", 's', 0,
                               bar != NULL ? bar + 1 : v);
        } else if (strcmp(k, "area") == 0) {
            if (rhis_area_code_level(v) == 0)
                rc = rhis_req_errorf(req, RHIS_EINVAL,
                                     "area must be a division code");
            else
                rhis_sql_where_add(&w,
                                   "r.institution_id IN (SELECT id FROM"
                                   " institution WHERE area_code LIKE ?)",
                                   's', 0,
                                   rhis_arena_printf(req->arena, "%s%%", v));
        } else if (!rhis_fhir_is_control_param(k)) {
            rc = rhis_req_errorf(req, RHIS_EINVAL,
                                 "unknown search parameter '%s' for "
                                 "PractitionerRole (practitioner, "
                                 "organization, role, area)",
                                 k);
        }
    }
    if (rc != RHIS_OK)
        return rc;
    return rhis_fhir_search_respond(req, resp, &s, &w, "practitioner_role r",
                                    PROLE_COLS, "ORDER BY r.id",
                                    "PractitionerRole", prole_row_fhir);
}

static rhis_status
prole_write(rhis_req *req, rhis_resp *resp, int create)
{
    int64_t id = 0;
    rhis_status rc = RHIS_OK;
    if (!create && (rc = id_param(req, "PractitionerRole", &id)) != RHIS_OK)
        return rc;
    json_object *body;
    rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    prole r;
    rc = prole_parse(req, body, &r);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    char area[16];
    rc = institution_area(req, db, r.institution_id, area, sizeof(area));
    if (rc == RHIS_OK)
        rc = rhis_req_check_area(req, area);
    if (rc != RHIS_OK)
        return rc;
    pract p;
    rc = pract_load(db, r.practitioner_id, &p);
    if (rc == RHIS_ENOTFOUND) {
        rhis_req_error_expr(req, "PractitionerRole.practitioner");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Practitioner/%lld does not exist",
                               (long long)r.practitioner_id);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot store PractitionerRole");
    int64_t now = (int64_t)time(NULL);
    if (create) {
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "INSERT INTO practitioner_role (practitioner_id,"
                           " institution_id, role, active, version,"
                           " updated_at) VALUES (?, ?, ?, ?, 1, ?)"
                           " RETURNING id",
                           "iisii", r.practitioner_id, r.institution_id, r.role,
                           (int64_t)r.active, now);
        if (rc == RHIS_OK) {
            rc = rhis_db_step(st);
            if (rc == RHIS_ROW) {
                r.id = rhis_db_column_int64(st, 0);
                rc = RHIS_OK;
            }
            rhis_db_finalize(st);
        }
        if (rc == RHIS_OK) /* staff aggregates (rhis/agg.h) */
            rc = rhis_agg_institution(db, r.institution_id);
        r.version = 1;
    } else {
        prole old;
        char oarea[16];
        rc = prole_load(db, id, &old);
        if (rc == RHIS_OK)
            rc = institution_area(req, db, old.institution_id, oarea,
                                  sizeof(oarea));
        if (rc == RHIS_OK)
            rc = rhis_req_check_area(req, oarea);
        if (rc == RHIS_OK)
            rc = rhis_fhir_check_if_match(req, old.version);
        if (rc == RHIS_OK) {
            r.id = id;
            r.version = old.version + 1;
            rc = rhis_db_run(db,
                             "UPDATE practitioner_role SET practitioner_id"
                             " = ?, institution_id = ?, role = ?, active = ?,"
                             " version = ?, updated_at = ? WHERE id = ?",
                             "iisiiii", r.practitioner_id, r.institution_id,
                             r.role, (int64_t)r.active, r.version, now, id);
            if (rc == RHIS_OK) /* staff aggregates of both institutions */
                rc = rhis_agg_institution(db, old.institution_id);
            if (rc == RHIS_OK && old.institution_id != r.institution_id)
                rc = rhis_agg_institution(db, r.institution_id);
        }
    }
    r.updated_at = now;
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        if (req->err_status == rc)
            return rc;
        if (rc == RHIS_ENOTFOUND)
            return rhis_req_errorf(req, rc, "PractitionerRole/%lld not found",
                                   (long long)id);
        return rhis_req_errorf(req, rc, "cannot store PractitionerRole");
    }
    return commit_and_answer(req, resp, db, "PractitionerRole", r.id, r.version,
                             create, prole_fhir(&r));
}

rhis_status
api_practitionerrole_create(rhis_req *req, rhis_resp *resp)
{
    return prole_write(req, resp, 1);
}

rhis_status
api_practitionerrole_update(rhis_req *req, rhis_resp *resp)
{
    return prole_write(req, resp, 0);
}
