/*
 * api_areas.c - the area tree over HTTP: /api/v1/areas and FHIR Location.
 *
 * Why: the web UI's area picker, every later indicator page and connecting
 * systems need the tree, its names and its denominators.  Division names
 * and codes are public reference data, so any signed-in role may read
 * them; scope is enforced where data about people or institutions is
 * written.
 */
#include <stdio.h>
#include <string.h>

#include "registry_int.h"
#include "rhis/csv.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/registry.h"

typedef struct area_row {
    char code[16];
    char name[128];
    int level;
    char parent[16];
    char edition[16];
} area_row;

static void
area_row_fill(rhis_stmt *st, void *data)
{
    area_row *out = data;
    snprintf(out->code, sizeof(out->code), "%s", rhis_db_column_text(st, 0));
    snprintf(out->name, sizeof(out->name), "%s", rhis_db_column_text(st, 1));
    out->level = (int)rhis_db_column_int64(st, 2);
    const char *p = rhis_db_column_text(st, 3);
    snprintf(out->parent, sizeof(out->parent), "%s", p != NULL ? p : "");
    snprintf(out->edition, sizeof(out->edition), "%s",
             rhis_db_column_text(st, 4));
}

static rhis_status
area_load(rhis_db *db, const char *code, area_row *out)
{
    return rhis_db_query_row(db, area_row_fill, out,
                             "SELECT code, name, level, parent_code,"
                             " edition FROM area WHERE code = ?",
                             "s", code);
}

/* Validates the {code} path parameter and loads the area (404 if none). */
static rhis_status
area_from_path(rhis_req *req, rhis_db **db, area_row *a)
{
    const char *code = rhis_req_param(req, "code");
    if (code == NULL || rhis_area_code_level(code) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "'%s' is not a division code (2, 4, 6, 9 or "
                               "12 digits)",
                               code != NULL ? code : "");
    rhis_status rc = rhis_req_db(req, db);
    if (rc != RHIS_OK)
        return rc;
    rc = area_load(*db, code, a);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "no area with code %s", code);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read area");
    return RHIS_OK;
}

static json_object *
area_brief(const char *code, const char *name, int level)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "level", json_object_new_int(level));
    return o;
}

/* Ancestors of code, root first, as a JSON array (excluding code). */
static rhis_status
ancestors(rhis_db *db, const char *code, json_object **out, rhis_buf *path)
{
    *out = json_object_new_array();
    int level = rhis_area_code_level(code);
    static const int lens[] = {0, 2, 4, 6, 9, 12};
    for (int l = 1; l < level; l++) {
        char pc[16];
        snprintf(pc, sizeof(pc), "%.*s", lens[l], code);
        area_row a;
        rhis_status rc = area_load(db, pc, &a);
        if (rc == RHIS_ENOTFOUND)
            continue;
        if (rc != RHIS_OK)
            return rc;
        json_object_array_add(*out, area_brief(a.code, a.name, a.level));
        if (path != NULL) {
            rhis_buf_puts(path, a.name);
            rhis_buf_puts(path, " / ");
        }
    }
    return RHIS_OK;
}

static int64_t
child_count(rhis_db *db, const char *code)
{
    int64_t n = 0;
    (void)rhis_db_scalar_int64(db, &n,
                               "SELECT COUNT(*) FROM area WHERE"
                               " parent_code = ?",
                               "s", code);
    return n;
}

rhis_status
api_area_get(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    area_row a;
    rhis_status rc = area_from_path(req, &db, &a);
    if (rc != RHIS_OK)
        return rc;
    json_object *o = area_brief(a.code, a.name, a.level);
    json_object_object_add(
        o, "parent",
        a.parent[0] != '\0' ? json_object_new_string(a.parent) : NULL);
    json_object_object_add(o, "edition", json_object_new_string(a.edition));
    json_object *anc;
    rc = ancestors(db, a.code, &anc, NULL);
    json_object_object_add(o, "ancestors", anc);
    json_object_object_add(o, "child_count",
                           json_object_new_int64(child_count(db, a.code)));
    if (rc == RHIS_OK)
        rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_OK ? RHIS_OK
                         : rhis_req_errorf(req, rc, "cannot read area");
}

rhis_status
api_area_ancestors(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    area_row a;
    rhis_status rc = area_from_path(req, &db, &a);
    if (rc != RHIS_OK)
        return rc;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(a.code));
    json_object *anc;
    rc = ancestors(db, a.code, &anc, NULL);
    json_object_object_add(o, "ancestors", anc);
    if (rc == RHIS_OK)
        rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_OK ? RHIS_OK
                         : rhis_req_errorf(req, rc, "cannot read area");
}

rhis_status
api_area_children(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    area_row a;
    rhis_status rc = area_from_path(req, &db, &a);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT a.code, a.name, a.level,"
                       " (SELECT COUNT(*) FROM area c WHERE"
                       "  c.parent_code = a.code)"
                       " FROM area a WHERE a.parent_code = ? ORDER BY a.code",
                       "s", a.code);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read areas");
    json_object *arr = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *c =
            area_brief(rhis_db_column_text(st, 0), rhis_db_column_text(st, 1),
                       (int)rhis_db_column_int64(st, 2));
        json_object_object_add(
            c, "child_count",
            json_object_new_int64(rhis_db_column_int64(st, 3)));
        json_object_array_add(arr, c);
    }
    rhis_db_finalize(st);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(a.code));
    json_object_object_add(o, "name", json_object_new_string(a.name));
    json_object_object_add(o, "children", arr);
    if (rc == RHIS_DONE)
        rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_DONE ? RHIS_OK
                           : rhis_req_errorf(req, rc, "cannot read areas");
}

rhis_status
api_area_search(rhis_req *req, rhis_resp *resp)
{
    const char *q = rhis_req_query(req, "q");
    const char *lim = rhis_req_query(req, "limit");
    int limit = lim != NULL ? rhis_parse_int(lim) : 20;
    if (q == NULL || q[0] == '\0' || strlen(q) > 60)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "q (1-60 bytes of an area name or code "
                               "prefix) is required");
    if (limit < 1 || limit > 200)
        return rhis_req_errorf(req, RHIS_EINVAL, "limit must be 1..200");
    const char *level = rhis_req_query(req, "level");
    int lv = level != NULL ? rhis_parse_int(level) : 0;
    if (level != NULL && (lv < 1 || lv > 5))
        return rhis_req_errorf(req, RHIS_EINVAL, "level must be 1..5");
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    /* names match anywhere, codes by prefix; escape LIKE wildcards */
    rhis_buf pat;
    rhis_buf_init(&pat, 512);
    rhis_buf_puts(&pat, "%");
    for (const char *p = q; *p != '\0'; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            rhis_buf_append(&pat, "\\", 1);
        rhis_buf_append(&pat, p, 1);
    }
    rhis_buf_puts(&pat, "%");
    int is_code = rhis_area_code_level(q) != 0 || rhis_parse_int64(q) >= 0;
    char *codepat = rhis_arena_printf(req->arena, "%s%%", q);
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT code, name, level, parent_code FROM area"
                       " WHERE (name LIKE ? ESCAPE '\\' OR"
                       "  (? = 1 AND code LIKE ?))"
                       " AND (? = 0 OR level = ?)"
                       " ORDER BY level, code LIMIT ?",
                       "sisiii", pat.data, (int64_t)is_code, codepat,
                       (int64_t)lv, (int64_t)lv, (int64_t)limit);
    rhis_buf_fini(&pat);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot search areas");
    json_object *arr = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *c =
            area_brief(rhis_db_column_text(st, 0), rhis_db_column_text(st, 1),
                       (int)rhis_db_column_int64(st, 2));
        const char *parent = rhis_db_column_text(st, 3);
        json_object_object_add(c, "parent",
                               parent != NULL ? json_object_new_string(parent)
                                              : NULL);
        json_object_array_add(arr, c);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        json_object_put(arr);
        return rhis_req_errorf(req, rc, "cannot search areas");
    }
    /* the full path of each hit, for choosing between same-named places */
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        const char *code = rhis_json_get_str(c, "code");
        rhis_buf path;
        rhis_buf_init(&path, 1024);
        json_object *anc;
        if (ancestors(db, code, &anc, &path) == RHIS_OK) {
            rhis_buf_puts(&path, rhis_json_get_str(c, "name"));
            json_object_object_add(c, "path",
                                   json_object_new_string(path.data));
        }
        json_object_put(anc);
        rhis_buf_fini(&path);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "areas", arr);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* Population of a subtree for a year (all if year is 0: the latest). */
static rhis_status
population_total(rhis_db *db, const char *code, int *year, int64_t *total)
{
    char *pat = NULL;
    size_t n = strlen(code);
    pat = rhis_xmalloc(n + 2);
    memcpy(pat, code, n);
    memcpy(pat + n, "%", 2);
    int64_t y = *year;
    rhis_status rc = RHIS_OK;
    if (y == 0) {
        rc = rhis_db_scalar_int64(db, &y,
                                  "SELECT COALESCE(MAX(year), 0) FROM"
                                  " population WHERE area_code LIKE ?",
                                  "s", pat);
    }
    *total = -1;
    if (rc == RHIS_OK && y > 0) {
        /* leaves only, so a county row and its villages never add twice:
         * take the deepest level present in the subtree for that year */
        rc = rhis_db_scalar_int64(
            db, total,
            "SELECT COALESCE(SUM(p.population), 0) FROM population p"
            " JOIN area a ON a.code = p.area_code"
            " WHERE p.area_code LIKE ? AND p.year = ? AND a.level ="
            " (SELECT MAX(a2.level) FROM population p2 JOIN area a2 ON"
            "  a2.code = p2.area_code WHERE p2.area_code LIKE ? AND"
            "  p2.year = ?)",
            "sisi", pat, y, pat, y);
    }
    rhis_free(pat);
    *year = (int)y;
    return rc;
}

rhis_status
api_area_population(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    area_row a;
    rhis_status rc = area_from_path(req, &db, &a);
    if (rc != RHIS_OK)
        return rc;
    const char *ys = rhis_req_query(req, "year");
    int year = ys != NULL ? rhis_parse_int(ys) : 0;
    if (ys != NULL && (year < 1950 || year > 2100))
        return rhis_req_errorf(req, RHIS_EINVAL, "year must be 1950..2100");
    int64_t total;
    rc = population_total(db, a.code, &year, &total);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read population");
    char *pat = rhis_arena_printf(req->arena, "%s%%", a.code);
    rhis_stmt *st;
    rc = rhis_db_query(
        db, &st,
        "SELECT p.sex, p.age_band, SUM(p.population) FROM population p"
        " JOIN area a ON a.code = p.area_code"
        " WHERE p.area_code LIKE ? AND p.year = ? AND a.level ="
        " (SELECT MAX(a2.level) FROM population p2 JOIN area a2 ON"
        "  a2.code = p2.area_code WHERE p2.area_code LIKE ? AND"
        "  p2.year = ?)"
        " GROUP BY p.sex, p.age_band ORDER BY p.sex, p.age_band",
        "sisi", pat, (int64_t)year, pat, (int64_t)year);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read population");
    json_object *bands = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *b = json_object_new_object();
        json_object_object_add(
            b, "sex", json_object_new_string(rhis_db_column_text(st, 0)));
        json_object_object_add(
            b, "age_band", json_object_new_int64(rhis_db_column_int64(st, 1)));
        json_object_object_add(
            b, "population",
            json_object_new_int64(rhis_db_column_int64(st, 2)));
        json_object_array_add(bands, b);
    }
    rhis_db_finalize(st);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(a.code));
    json_object_object_add(o, "name", json_object_new_string(a.name));
    json_object_object_add(o, "year",
                           year > 0 ? json_object_new_int(year) : NULL);
    json_object_object_add(o, "total",
                           total >= 0 ? json_object_new_int64(total) : NULL);
    json_object_object_add(o, "bands", bands);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_DONE ? RHIS_OK
                           : rhis_req_errorf(req, rc, "cannot read population");
}

static json_object *
count_rows(rhis_db *db,
           const char *sql,
           const char *pat,
           const char *(*label)(const char *),
           const char *key,
           int64_t *total)
{
    json_object *arr = json_object_new_array();
    rhis_stmt *st;
    *total = 0;
    if (rhis_db_query(db, &st, sql, "s", pat) != RHIS_OK)
        return arr;
    while (rhis_db_step(st) == RHIS_ROW) {
        const char *v = rhis_db_column_text(st, 0);
        int64_t n = rhis_db_column_int64(st, 1);
        json_object *o = json_object_new_object();
        json_object_object_add(o, key, json_object_new_string(v));
        const char *l = label(v);
        json_object_object_add(o, "label",
                               json_object_new_string(l != NULL ? l : v));
        json_object_object_add(o, "count", json_object_new_int64(n));
        json_object_array_add(arr, o);
        *total += n;
    }
    rhis_db_finalize(st);
    return arr;
}

rhis_status
api_area_summary(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    area_row a;
    rhis_status rc = area_from_path(req, &db, &a);
    if (rc != RHIS_OK)
        return rc;
    char *pat = rhis_arena_printf(req->arena, "%s%%", a.code);
    int64_t ninst, nstaff;
    json_object *tiers = count_rows(
        db,
        "SELECT tier, COUNT(*) FROM institution WHERE area_code LIKE ?"
        " AND active = 1 GROUP BY tier ORDER BY COUNT(*) DESC, tier",
        pat, rhis_tier_label, "tier", &ninst);
    json_object *roles =
        count_rows(db,
                   "SELECT r.role, COUNT(*) FROM practitioner_role r"
                   " JOIN institution i ON i.id = r.institution_id"
                   " WHERE i.area_code LIKE ? AND r.active = 1 AND i.active = 1"
                   " GROUP BY r.role ORDER BY COUNT(*) DESC, r.role",
                   pat, rhis_practitioner_role_label, "role", &nstaff);
    /* a practitioner counts once in the total even with two roles */
    int64_t people = 0, beds_a = 0, beds_o = 0;
    (void)rhis_db_scalar_int64(
        db, &people,
        "SELECT COUNT(DISTINCT r.practitioner_id) FROM practitioner_role r"
        " JOIN institution i ON i.id = r.institution_id"
        " WHERE i.area_code LIKE ? AND r.active = 1 AND i.active = 1",
        "s", pat);
    (void)rhis_db_scalar_int64(db, &beds_a,
                               "SELECT COALESCE(SUM(beds_approved), 0) FROM"
                               " institution WHERE area_code LIKE ? AND"
                               " active = 1",
                               "s", pat);
    (void)rhis_db_scalar_int64(db, &beds_o,
                               "SELECT COALESCE(SUM(beds_open), 0) FROM"
                               " institution WHERE area_code LIKE ? AND"
                               " active = 1",
                               "s", pat);
    int year = 0;
    int64_t pop = -1;
    rc = population_total(db, a.code, &year, &pop);
    if (rc != RHIS_OK) {
        json_object_put(tiers);
        json_object_put(roles);
        return rhis_req_errorf(req, rc, "cannot read population");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(a.code));
    json_object_object_add(o, "name", json_object_new_string(a.name));
    json_object *inst = json_object_new_object();
    json_object_object_add(inst, "total", json_object_new_int64(ninst));
    json_object_object_add(inst, "by_tier", tiers);
    json_object_object_add(o, "institutions", inst);
    json_object *beds = json_object_new_object();
    json_object_object_add(beds, "approved", json_object_new_int64(beds_a));
    json_object_object_add(beds, "open", json_object_new_int64(beds_o));
    json_object_object_add(o, "beds", beds);
    json_object *pr = json_object_new_object();
    json_object_object_add(pr, "total", json_object_new_int64(people));
    json_object_object_add(pr, "by_role", roles);
    json_object_object_add(o, "practitioners", pr);
    if (pop > 0) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "year", json_object_new_int(year));
        json_object_object_add(p, "total", json_object_new_int64(pop));
        /* the plans' resource ratios: per 1000 residents */
        json_object_object_add(
            p, "beds_per_1000",
            rhis_json_new_fixed((double)beds_a * 1000.0 / (double)pop, 2));
        json_object_object_add(o, "population", p);
    } else {
        json_object_object_add(o, "population", NULL);
    }
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* FHIR Location for an area: a jurisdiction (mode instance, physicalType
 * jdn), partOf its parent. */
static json_object *
area_location(const area_row *a)
{
    json_object *l = json_object_new_object();
    json_object_object_add(l, "resourceType",
                           json_object_new_string("Location"));
    char id[24];
    snprintf(id, sizeof(id), "area-%s", a->code);
    json_object_object_add(l, "id", json_object_new_string(id));
    json_object *ids = json_object_new_array();
    json_object *ident = json_object_new_object();
    json_object_object_add(
        ident, "system",
        json_object_new_string("urn:oid:2.16.156.10011.2.3.1.39"));
    json_object_object_add(ident, "value", json_object_new_string(a->code));
    json_object_array_add(ids, ident);
    json_object_object_add(l, "identifier", ids);
    json_object_object_add(l, "status", json_object_new_string("active"));
    json_object_object_add(l, "name", json_object_new_string(a->name));
    json_object_object_add(l, "mode", json_object_new_string("instance"));
    json_object *pt = json_object_new_object();
    json_object *codings = json_object_new_array();
    json_object *c = json_object_new_object();
    json_object_object_add(
        c, "system",
        json_object_new_string(
            "http://terminology.hl7.org/CodeSystem/location-physical-type"));
    json_object_object_add(c, "code", json_object_new_string("jdn"));
    json_object_object_add(c, "display",
                           json_object_new_string("Jurisdiction"));
    json_object_array_add(codings, c);
    json_object_object_add(pt, "coding", codings);
    json_object_object_add(l, "physicalType", pt);
    json_object *ext = json_object_new_array();
    json_object *e = json_object_new_object();
    json_object_object_add(e, "url",
                           json_object_new_string("urn:rhis:area-level"));
    json_object_object_add(e, "valueInteger", json_object_new_int(a->level));
    json_object_array_add(ext, e);
    json_object *e2 = json_object_new_object();
    json_object_object_add(e2, "url",
                           json_object_new_string("urn:rhis:division-edition"));
    json_object_object_add(e2, "valueString",
                           json_object_new_string(a->edition));
    json_object_array_add(ext, e2);
    json_object_object_add(l, "extension", ext);
    if (a->parent[0] != '\0') {
        json_object *po = json_object_new_object();
        char ref[40];
        snprintf(ref, sizeof(ref), "Location/area-%s", a->parent);
        json_object_object_add(po, "reference", json_object_new_string(ref));
        json_object_object_add(l, "partOf", po);
    }
    return l;
}

static json_object *
area_row_location(rhis_stmt *st)
{
    area_row a;
    area_row_fill(st, &a);
    return area_location(&a);
}

rhis_status
api_location_read(rhis_req *req, rhis_resp *resp)
{
    const char *id = rhis_req_param(req, "id");
    if (strncmp(id, "inst-", 5) == 0)
        return registry_site_read(req, resp, id);
    if (strncmp(id, "area-", 5) != 0 || rhis_area_code_level(id + 5) == 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "Location/%s not found (jurisdictions are "
                               "area-CODE, institution sites inst-ID)",
                               id);
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    area_row a;
    rc = area_load(db, id + 5, &a);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "Location/%s not found", id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read area");
    json_object *l = area_location(&a);
    rhis_fhir_respond(resp, 200, l);
    json_object_put(l);
    return RHIS_OK;
}

/* GET /fhir/Location?name=&identifier=&partof=&type=jdn */
rhis_status
api_location_search(rhis_req *req, rhis_resp *resp)
{
    /* institution sites when asked for by organization or type=bu */
    const char *type = rhis_req_query(req, "type");
    if (rhis_req_query(req, "organization") != NULL ||
        (type != NULL &&
         (strcmp(type, "bu") == 0 || strstr(type, "|bu") != NULL)))
        return registry_site_search(req, resp);
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "name") == 0 || strcmp(k, "name:contains") == 0) {
            rhis_sql_where_add(&w, "name LIKE ?", 's', 0,
                               rhis_arena_printf(req->arena, "%s%s%%",
                                                 k[4] == ':' ? "%" : "", v));
        } else if (strcmp(k, "identifier") == 0) {
            const char *bar = strchr(v, '|');
            rhis_sql_where_add(&w, "code = ?", 's', 0,
                               bar != NULL ? bar + 1 : v);
        } else if (strcmp(k, "partof") == 0) {
            const char *p = strncmp(v, "Location/", 9) == 0 ? v + 9 : v;
            if (strncmp(p, "area-", 5) != 0)
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "partof must be Location/area-CODE");
            rhis_sql_where_add(&w, "parent_code = ?", 's', 0, p + 5);
        } else if (strcmp(k, "type") == 0) {
            if (strcmp(v, "jdn") != 0 && strstr(v, "|jdn") == NULL)
                rhis_sql_where_add(&w, "1 = 0", 0, 0, NULL);
        } else if (!rhis_fhir_is_control_param(k)) {
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown search parameter '%s' for "
                                   "Location",
                                   k);
        }
    }
    return rhis_fhir_search_respond(
        req, resp, &s, &w, "area", "code, name, level, parent_code, edition",
        "ORDER BY code", "Location", area_row_location);
}
