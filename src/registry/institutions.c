/*
 * institutions.c - health institutions: validation, storage, CSV import,
 * the platform list API and FHIR Organization.
 *
 * Why: every later module (records, referrals, reporting, dispatch) names an
 * institution; its tier decides where a patient belongs in tiered care and
 * its beds and staff feed the plans' resource ratios.  One validation path
 * serves the CSV import and the FHIR API, so both refuse the same input
 * with the same words.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry_int.h"
#include "rhis/agg.h"
#include "rhis/csv.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/registry.h"
#include "rhis/text.h"

#define SYS_CODE          "urn:rhis:institution-code"
#define SYS_TIER          "urn:rhis:institution-tier"
#define SYS_GRADE         "urn:rhis:hospital-grade"
#define EXT_AREA          "urn:rhis:area-code"
#define EXT_OWNERSHIP     "urn:rhis:ownership"
#define EXT_BEDS_APPROVED "urn:rhis:beds-approved"
#define EXT_BEDS_OPEN     "urn:rhis:beds-open"
#define EXT_GEO           "http://hl7.org/fhir/StructureDefinition/geolocation"

typedef struct inst {
    int64_t id;
    char code[48];
    char name[256];
    char tier[32];
    char grade[8];
    char ownership[16];
    char area_code[16];
    int64_t beds_approved, beds_open;
    int has_geo;
    double lat, lon;
    char phone[40];
    int active;
    int64_t version, updated_at;
} inst;

static rhis_status
check_fields(const inst *in, char *err, size_t errlen, const char **field);

static int
valid_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 40)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= 'a' && *s <= 'z') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/*
 * Checks an institution's fields and that its area exists.  On failure
 * writes a message naming the field into err and returns RHIS_EINVAL.
 */
static rhis_status
validate(
    rhis_db *db, const inst *in, char *err, size_t errlen, const char **field)
{
    rhis_status rc = check_fields(in, err, errlen, field);
    if (rc != RHIS_OK)
        return rc;
    int64_t n = 0;
    rc = rhis_db_scalar_int64(
        db, &n, "SELECT COUNT(*) FROM area WHERE code = ?", "s", in->area_code);
    if (rc != RHIS_OK)
        return rc;
    if (n == 0) {
        *field = "Organization.extension";
        snprintf(err, errlen, "area code '%s' does not exist", in->area_code);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

/* The checks that need no database; *field names the FHIR element. */
static rhis_status
check_fields(const inst *in, char *err, size_t errlen, const char **field)
{
    if (!valid_code(in->code)) {
        *field = "Organization.identifier";
        snprintf(err, errlen,
                 "code must be 1-40 characters of A-Z a-z 0-9 - _");
        return RHIS_EINVAL;
    }
    if (in->name[0] == '\0') {
        *field = "Organization.name";
        snprintf(err, errlen, "name is required");
        return RHIS_EINVAL;
    }
    if (rhis_tier_label(in->tier) == NULL) {
        *field = "Organization.type";
        snprintf(err, errlen,
                 "tier '%s' is unknown (village_clinic, township_hc, "
                 "community_hc, community_station, county_hospital, "
                 "city_hospital, province_hospital, tcm_hospital, mch, cdc, "
                 "ems_station, other)",
                 in->tier);
        return RHIS_EINVAL;
    }
    if (in->grade[0] != '\0' && rhis_grade_label(in->grade) == NULL) {
        *field = "Organization.type";
        snprintf(err, errlen,
                 "grade '%s' is unknown (3A 3B 3C 2A 2B 2C 1A 1B 1C 3 2 1)",
                 in->grade);
        return RHIS_EINVAL;
    }
    if (strcmp(in->ownership, "public") != 0 &&
        strcmp(in->ownership, "private") != 0) {
        *field = "Organization.extension";
        snprintf(err, errlen, "ownership must be public or private");
        return RHIS_EINVAL;
    }
    if (in->beds_approved < 0 || in->beds_open < 0 ||
        in->beds_approved > 100000 || in->beds_open > 100000) {
        *field = "Organization.extension";
        snprintf(err, errlen, "beds must be 0..100000");
        return RHIS_EINVAL;
    }
    if (in->has_geo &&
        (!isfinite(in->lat) || !isfinite(in->lon) || in->lat < -90 ||
         in->lat > 90 || in->lon < -180 || in->lon > 180)) {
        *field = "Organization.extension";
        snprintf(err, errlen, "latitude must be -90..90, longitude -180..180");
        return RHIS_EINVAL;
    }
    if (rhis_area_code_level(in->area_code) == 0) {
        *field = "Organization.extension";
        snprintf(err, errlen, "area code '%s' is not a division code",
                 in->area_code);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

static rhis_status
insert(rhis_db *db, inst *in)
{
    in->updated_at = (int64_t)time(NULL);
    in->version = 1;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        db, &st,
        "INSERT INTO institution (code, name, tier, grade, ownership,"
        " area_code, beds_approved, beds_open, lat, lon, phone, active,"
        " version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 1, ?) RETURNING id",
        "ssssssii", in->code, in->name, in->tier,
        in->grade[0] != '\0' ? in->grade : NULL, in->ownership, in->area_code,
        in->beds_approved, in->beds_open);
    if (rc != RHIS_OK)
        return rc;
    if (in->has_geo) {
        rhis_db_bind_double(st, 9, in->lat);
        rhis_db_bind_double(st, 10, in->lon);
    } else {
        rhis_db_bind_null(st, 9);
        rhis_db_bind_null(st, 10);
    }
    rhis_db_bind_text(st, 11, in->phone[0] != '\0' ? in->phone : NULL);
    rhis_db_bind_int64(st, 12, in->active);
    rhis_db_bind_int64(st, 13, in->updated_at);
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        in->id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_OK) /* beds and staff aggregates (rhis/agg.h) */
        rc = rhis_agg_institution(db, in->id);
    return rc;
}

#define INST_COLS                                                              \
    "i.id, i.code, i.name, i.tier, i.grade, i.ownership, i.area_code,"         \
    " i.beds_approved, i.beds_open, i.lat, i.lon, i.phone, i.active,"          \
    " i.version, i.updated_at"

static void
from_row(rhis_stmt *st, inst *in)
{
    memset(in, 0, sizeof(*in));
    in->id = rhis_db_column_int64(st, 0);
    snprintf(in->code, sizeof(in->code), "%s", rhis_db_column_text(st, 1));
    snprintf(in->name, sizeof(in->name), "%s", rhis_db_column_text(st, 2));
    snprintf(in->tier, sizeof(in->tier), "%s", rhis_db_column_text(st, 3));
    const char *g = rhis_db_column_text(st, 4);
    snprintf(in->grade, sizeof(in->grade), "%s", g != NULL ? g : "");
    snprintf(in->ownership, sizeof(in->ownership), "%s",
             rhis_db_column_text(st, 5));
    snprintf(in->area_code, sizeof(in->area_code), "%s",
             rhis_db_column_text(st, 6));
    in->beds_approved = rhis_db_column_int64(st, 7);
    in->beds_open = rhis_db_column_int64(st, 8);
    in->has_geo = !rhis_db_column_is_null(st, 9);
    in->lat = rhis_db_column_double(st, 9);
    in->lon = rhis_db_column_double(st, 10);
    const char *ph = rhis_db_column_text(st, 11);
    snprintf(in->phone, sizeof(in->phone), "%s", ph != NULL ? ph : "");
    in->active = (int)rhis_db_column_int64(st, 12);
    in->version = rhis_db_column_int64(st, 13);
    in->updated_at = rhis_db_column_int64(st, 14);
}

static void
fill_inst(rhis_stmt *st, void *out)
{
    from_row(st, out);
}

static rhis_status
load(rhis_db *db, int64_t id, inst *out)
{
    return rhis_db_query_row(
        db, fill_inst, out,
        "SELECT " INST_COLS " FROM institution i WHERE i.id = ?", "i", id);
}

/* ---- CSV import ---- */

/* Copies a CSV field; -1 if it does not fit or is not UTF-8. */
static int
copy_field(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len || !rhis_utf8_valid(src, n))
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

rhis_status
rhis_registry_import_institutions(
    rhis_db *db, const char *path, int64_t *added, char *err, size_t errlen)
{
    rhis_csv csv;
    *added = 0;
    rhis_status rc = rhis_csv_open(&csv, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_begin(db);
    int nf;
    char **f;
    while (rc == RHIS_OK && (nf = rhis_csv_next(&csv, &f)) > 0) {
        if (csv.line == 1 && strcmp(f[0], "code") == 0)
            continue;
        if (nf < 10) {
            snprintf(err, errlen,
                     "%s:%ld: expected code,name,tier,grade,ownership,"
                     "area_code,beds_approved,beds_open,lat,lon",
                     path, csv.line);
            rc = RHIS_EINVAL;
            break;
        }
        inst in = {.active = 1};
        const char *bad =
            copy_field(in.code, sizeof(in.code), f[0]) != 0     ? "code"
            : copy_field(in.name, sizeof(in.name), f[1]) != 0   ? "name"
            : copy_field(in.tier, sizeof(in.tier), f[2]) != 0   ? "tier"
            : copy_field(in.grade, sizeof(in.grade), f[3]) != 0 ? "grade"
            : copy_field(in.ownership, sizeof(in.ownership), f[4]) != 0
                ? "ownership"
            : copy_field(in.area_code, sizeof(in.area_code), f[5]) != 0
                ? "area_code"
                : NULL;
        if (bad != NULL) {
            snprintf(err, errlen,
                     "%s:%ld: %s is too long or not UTF-8 (save the file as "
                     "UTF-8)",
                     path, csv.line, bad);
            rc = RHIS_EINVAL;
            break;
        }
        in.beds_approved = f[6][0] != '\0' ? rhis_parse_int64(f[6]) : 0;
        in.beds_open = f[7][0] != '\0' ? rhis_parse_int64(f[7]) : 0;
        if (f[8][0] != '\0' || f[9][0] != '\0') {
            char *e1, *e2;
            in.lat = strtod(f[8], &e1);
            in.lon = strtod(f[9], &e2);
            in.has_geo = 1;
            if (*e1 != '\0' || *e2 != '\0' || e1 == f[8] || e2 == f[9])
                in.lat = NAN;
        }
        char msg[256];
        const char *field = NULL;
        rc = validate(db, &in, msg, sizeof(msg), &field);
        if (rc != RHIS_OK) {
            snprintf(err, errlen, "%s:%ld: %s", path, csv.line, msg);
            break;
        }
        int64_t exists = 0;
        rc = rhis_db_scalar_int64(db, &exists,
                                  "SELECT COUNT(*) FROM institution WHERE"
                                  " code = ?",
                                  "s", in.code);
        if (rc == RHIS_OK && exists == 0) {
            rc = insert(db, &in);
            if (rc == RHIS_OK)
                (*added)++;
        }
        if (rc != RHIS_OK)
            snprintf(err, errlen, "%s:%ld: %s", path, csv.line,
                     rhis_db_errmsg(db));
    }
    if (rc == RHIS_OK && nf < 0) {
        snprintf(err, errlen, "%s:%ld: malformed CSV", path, csv.line);
        rc = RHIS_EINVAL;
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    rhis_csv_close(&csv);
    return rc;
}

/* ---- platform JSON (/api/v1/institutions) ---- */

static json_object *
inst_json(const inst *in, const char *area_name)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(in->id));
    json_object_object_add(o, "code", json_object_new_string(in->code));
    json_object_object_add(o, "name", json_object_new_string(in->name));
    json_object_object_add(o, "tier", json_object_new_string(in->tier));
    json_object_object_add(o, "tier_label",
                           json_object_new_string(rhis_tier_label(in->tier)));
    const char *gl = rhis_grade_label(in->grade);
    json_object_object_add(
        o, "grade",
        in->grade[0] != '\0' ? json_object_new_string(in->grade) : NULL);
    json_object_object_add(o, "grade_label",
                           gl != NULL ? json_object_new_string(gl) : NULL);
    json_object_object_add(o, "ownership",
                           json_object_new_string(in->ownership));
    json_object_object_add(o, "area_code",
                           json_object_new_string(in->area_code));
    json_object_object_add(o, "area_name",
                           area_name != NULL ? json_object_new_string(area_name)
                                             : NULL);
    json_object_object_add(o, "beds_approved",
                           json_object_new_int64(in->beds_approved));
    json_object_object_add(o, "beds_open",
                           json_object_new_int64(in->beds_open));
    json_object_object_add(o, "lat",
                           in->has_geo ? rhis_json_new_double(in->lat) : NULL);
    json_object_object_add(o, "lon",
                           in->has_geo ? rhis_json_new_double(in->lon) : NULL);
    json_object_object_add(o, "active", json_object_new_boolean(in->active));
    return o;
}

/* Adds the filters shared by the list API and FHIR search. */
static rhis_status
filter_area(rhis_req *req, rhis_sql_where *w, const char *area)
{
    if (rhis_area_code_level(area) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "area '%s' is not a division code", area);
    rhis_sql_where_add(w, "i.area_code LIKE ?", 's', 0,
                       rhis_arena_printf(req->arena, "%s%%", area));
    return RHIS_OK;
}

rhis_status
api_institution_list(rhis_req *req, rhis_resp *resp)
{
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "i.active = 1", 0, 0, NULL);
    const char *area = rhis_req_query(req, "area");
    const char *tier = rhis_req_query(req, "tier");
    const char *q = rhis_req_query(req, "q");
    const char *ls = rhis_req_query(req, "limit");
    const char *os = rhis_req_query(req, "offset");
    int limit = ls != NULL ? rhis_parse_int(ls) : 50;
    long long offset = os != NULL ? rhis_parse_int64(os) : 0;
    if (limit < 1 || limit > 500)
        return rhis_req_errorf(req, RHIS_EINVAL, "limit must be 1..500");
    if (offset < 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "offset must be a non-negative integer");
    rhis_status rc;
    if (area != NULL && (rc = filter_area(req, &w, area)) != RHIS_OK)
        return rc;
    if (tier != NULL && tier[0] != '\0') {
        if (rhis_tier_label(tier) == NULL)
            return rhis_req_errorf(req, RHIS_EINVAL, "unknown tier '%s'", tier);
        rhis_sql_where_add(&w, "i.tier = ?", 's', 0, tier);
    }
    if (q != NULL && q[0] != '\0') {
        if (strlen(q) > 100)
            return rhis_req_errorf(req, RHIS_EINVAL, "q is too long");
        rhis_buf pat;
        rhis_buf_init(&pat, 512);
        rhis_buf_puts(&pat, "%");
        for (const char *p = q; *p != '\0'; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                rhis_buf_append(&pat, "\\", 1);
            rhis_buf_append(&pat, p, 1);
        }
        rhis_buf_puts(&pat, "%");
        rhis_sql_where_add(&w, "i.name LIKE ? ESCAPE '\\' ", 's', 0,
                           rhis_arena_strdup(req->arena, pat.data));
        rhis_buf_fini(&pat);
    }
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    int64_t total;
    rc = rhis_sql_where_count(db, &w, "institution i", &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(
            db, &w,
            "SELECT " INST_COLS ", a.name FROM institution i"
            " LEFT JOIN area a ON a.code = i.area_code",
            "ORDER BY i.area_code, i.tier, i.name", limit, offset, &st);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot list institutions");
    json_object *items = json_object_new_array();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        inst in;
        from_row(st, &in);
        json_object_array_add(items,
                              inst_json(&in, rhis_db_column_text(st, 15)));
    }
    rhis_db_finalize(st);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "items", items);
    if (rc == RHIS_DONE)
        rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_DONE
               ? RHIS_OK
               : rhis_req_errorf(req, rc, "cannot list institutions");
}

rhis_status
api_institution_get(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    rhis_status rc = rhis_fhir_parse_id(req, "institution id",
                                        rhis_req_param(req, "id"), &id);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    inst in;
    rc = load(db, id, &in);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "no institution with id %lld",
                               (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read institution");
    /* area path for display */
    rhis_buf path;
    rhis_buf_init(&path, 1024);
    static const int lens[] = {2, 4, 6, 9, 12};
    const char *area_name = NULL;
    for (int l = 0; l < 5 && (size_t)lens[l] <= strlen(in.area_code); l++) {
        char pc[16];
        snprintf(pc, sizeof(pc), "%.*s", lens[l], in.area_code);
        rhis_stmt *st;
        if (rhis_db_query(db, &st, "SELECT name FROM area WHERE code = ?", "s",
                          pc) != RHIS_OK)
            continue;
        if (rhis_db_step(st) == RHIS_ROW) {
            if (path.len > 0)
                rhis_buf_puts(&path, " / ");
            rhis_buf_puts(&path, rhis_db_column_text(st, 0));
            if (strcmp(pc, in.area_code) == 0)
                area_name =
                    rhis_arena_strdup(req->arena, rhis_db_column_text(st, 0));
        }
        rhis_db_finalize(st);
    }
    json_object *o = inst_json(&in, area_name);
    json_object_object_add(
        o, "area_path", json_object_new_string(path.len > 0 ? path.data : ""));
    rhis_buf_fini(&path);
    json_object_object_add(
        o, "phone",
        in.phone[0] != '\0' ? json_object_new_string(in.phone) : NULL);
    json_object_object_add(o, "version", json_object_new_int64(in.version));
    json_object *roles = json_object_new_array();
    int64_t total = 0;
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT role, COUNT(*) FROM practitioner_role WHERE"
                       " institution_id = ? AND active = 1 GROUP BY role"
                       " ORDER BY role",
                       "i", id);
    while (rc == RHIS_OK && rhis_db_step(st) == RHIS_ROW) {
        const char *role = rhis_db_column_text(st, 0);
        json_object *r = json_object_new_object();
        json_object_object_add(r, "role", json_object_new_string(role));
        const char *l = rhis_practitioner_role_label(role);
        json_object_object_add(r, "label",
                               json_object_new_string(l != NULL ? l : role));
        json_object_object_add(
            r, "count", json_object_new_int64(rhis_db_column_int64(st, 1)));
        total += rhis_db_column_int64(st, 1);
        json_object_array_add(roles, r);
    }
    if (rc == RHIS_OK)
        rhis_db_finalize(st);
    json_object *staff = json_object_new_object();
    json_object_object_add(staff, "total", json_object_new_int64(total));
    json_object_object_add(staff, "by_role", roles);
    json_object_object_add(o, "staff", staff);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* ---- FHIR Organization ---- */

static json_object *
coding_cc(const char *system, const char *code, const char *display)
{
    json_object *cc = json_object_new_object();
    json_object *arr = json_object_new_array();
    json_object *c = json_object_new_object();
    json_object_object_add(c, "system", json_object_new_string(system));
    json_object_object_add(c, "code", json_object_new_string(code));
    if (display != NULL)
        json_object_object_add(c, "display", json_object_new_string(display));
    json_object_array_add(arr, c);
    json_object_object_add(cc, "coding", arr);
    if (display != NULL)
        json_object_object_add(cc, "text", json_object_new_string(display));
    return cc;
}

static json_object *
ext(const char *url, const char *vtype, json_object *v)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "url", json_object_new_string(url));
    json_object_object_add(e, vtype, v);
    return e;
}

static json_object *
to_fhir(const inst *in)
{
    json_object *o = json_object_new_object();
    char buf[48];
    json_object_object_add(o, "resourceType",
                           json_object_new_string("Organization"));
    snprintf(buf, sizeof(buf), "%lld", (long long)in->id);
    json_object_object_add(o, "id", json_object_new_string(buf));
    json_object *meta = json_object_new_object();
    snprintf(buf, sizeof(buf), "%lld", (long long)in->version);
    json_object_object_add(meta, "versionId", json_object_new_string(buf));
    rhis_fhir_instant(in->updated_at, buf, sizeof(buf));
    json_object_object_add(meta, "lastUpdated", json_object_new_string(buf));
    json_object_object_add(o, "meta", meta);

    json_object *exts = json_object_new_array();
    json_object_array_add(exts, ext(EXT_AREA, "valueCode",
                                    json_object_new_string(in->area_code)));
    json_object_array_add(exts, ext(EXT_OWNERSHIP, "valueCode",
                                    json_object_new_string(in->ownership)));
    json_object_array_add(exts, ext(EXT_BEDS_APPROVED, "valueInteger",
                                    json_object_new_int64(in->beds_approved)));
    json_object_array_add(exts, ext(EXT_BEDS_OPEN, "valueInteger",
                                    json_object_new_int64(in->beds_open)));
    if (in->has_geo) {
        json_object *geo = json_object_new_object();
        json_object_object_add(geo, "url", json_object_new_string(EXT_GEO));
        json_object *sub = json_object_new_array();
        json_object_array_add(sub, ext("latitude", "valueDecimal",
                                       rhis_json_new_double(in->lat)));
        json_object_array_add(sub, ext("longitude", "valueDecimal",
                                       rhis_json_new_double(in->lon)));
        json_object_object_add(geo, "extension", sub);
        json_object_array_add(exts, geo);
    }
    json_object_object_add(o, "extension", exts);

    json_object *ids = json_object_new_array();
    json_object *ident = json_object_new_object();
    json_object_object_add(ident, "system", json_object_new_string(SYS_CODE));
    json_object_object_add(ident, "value", json_object_new_string(in->code));
    json_object_array_add(ids, ident);
    json_object_object_add(o, "identifier", ids);
    json_object_object_add(o, "active", json_object_new_boolean(in->active));
    json_object *types = json_object_new_array();
    json_object_array_add(
        types, coding_cc(SYS_TIER, in->tier, rhis_tier_label(in->tier)));
    if (in->grade[0] != '\0')
        json_object_array_add(types, coding_cc(SYS_GRADE, in->grade,
                                               rhis_grade_label(in->grade)));
    json_object_object_add(o, "type", types);
    json_object_object_add(o, "name", json_object_new_string(in->name));
    if (in->phone[0] != '\0') {
        json_object *tel = json_object_new_array();
        json_object *t = json_object_new_object();
        json_object_object_add(t, "system", json_object_new_string("phone"));
        json_object_object_add(t, "value", json_object_new_string(in->phone));
        json_object_array_add(tel, t);
        json_object_object_add(o, "telecom", tel);
    }
    return o;
}

/* Copies a JSON string member into dst; errors name the element. */
static rhis_status
take_str(rhis_req *req, json_object *v, const char *what, char *dst, size_t len)
{
    if (v == NULL || !json_object_is_type(v, json_type_string)) {
        rhis_req_error_expr(req, what);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be a string", what);
    }
    const char *s = json_object_get_string(v);
    if (strlen(s) >= len) {
        rhis_req_error_expr(req, what);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s is too long (max %zu)",
                               what, len - 1);
    }
    snprintf(dst, len, "%s", s);
    return RHIS_OK;
}

static rhis_status
take_int(rhis_req *req, json_object *v, const char *what, int64_t *out)
{
    if (v == NULL || !json_object_is_type(v, json_type_int)) {
        rhis_req_error_expr(req, what);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be an integer", what);
    }
    *out = json_object_get_int64(v);
    return RHIS_OK;
}

static rhis_status
take_decimal(rhis_req *req, json_object *v, const char *what, double *out)
{
    if (v == NULL || (!json_object_is_type(v, json_type_double) &&
                      !json_object_is_type(v, json_type_int))) {
        rhis_req_error_expr(req, what);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be a number", what);
    }
    *out = json_object_get_double(v);
    return RHIS_OK;
}

/* Parses an Organization resource into in (id/version not touched). */
static rhis_status
from_fhir(rhis_req *req, json_object *o, inst *in)
{
    const char *rt = rhis_json_get_str(o, "resourceType");
    if (rt == NULL || strcmp(rt, "Organization") != 0) {
        rhis_req_error_expr(req, "resourceType");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "resourceType must be Organization");
    }
    static const char *const known[] = {
        "resourceType", "id",      "meta",  "extension", "identifier",
        "active",       "type",    "name",  "telecom",   "text",
        "alias",        "address", "partOf"};
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(key, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0])) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "Organization.%s is not supported", key);
        }
    }
    in->active = 1;
    json_object *v = rhis_json_get(o, "active");
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_boolean)) {
            rhis_req_error_expr(req, "Organization.active");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "Organization.active must be a boolean");
        }
        in->active = json_object_get_boolean(v);
    }
    rhis_status rc = take_str(req, rhis_json_get(o, "name"),
                              "Organization.name", in->name, sizeof(in->name));
    if (rc != RHIS_OK)
        return rc;
    json_object *ids = rhis_json_get(o, "identifier");
    in->code[0] = '\0';
    for (size_t i = 0;
         ids != NULL && json_object_is_type(ids, json_type_array) &&
         i < json_object_array_length(ids);
         i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = rhis_json_get_str(id, "system");
        if (sys != NULL && strcmp(sys, SYS_CODE) == 0) {
            rc = take_str(req, rhis_json_get(id, "value"),
                          "Organization.identifier.value", in->code,
                          sizeof(in->code));
            if (rc != RHIS_OK)
                return rc;
        }
    }
    if (in->code[0] == '\0') {
        rhis_req_error_expr(req, "Organization.identifier");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Organization.identifier with system "
                               "'" SYS_CODE "' is required");
    }
    in->tier[0] = in->grade[0] = '\0';
    json_object *types = rhis_json_get(o, "type");
    for (size_t i = 0;
         types != NULL && json_object_is_type(types, json_type_array) &&
         i < json_object_array_length(types);
         i++) {
        json_object *codings =
            rhis_json_get(json_object_array_get_idx(types, i), "coding");
        for (size_t j = 0;
             codings != NULL && json_object_is_type(codings, json_type_array) &&
             j < json_object_array_length(codings);
             j++) {
            json_object *c = json_object_array_get_idx(codings, j);
            const char *sys = rhis_json_get_str(c, "system");
            if (sys == NULL)
                continue;
            if (strcmp(sys, SYS_TIER) == 0)
                rc = take_str(req, rhis_json_get(c, "code"),
                              "Organization.type.coding.code", in->tier,
                              sizeof(in->tier));
            else if (strcmp(sys, SYS_GRADE) == 0)
                rc = take_str(req, rhis_json_get(c, "code"),
                              "Organization.type.coding.code", in->grade,
                              sizeof(in->grade));
            if (rc != RHIS_OK)
                return rc;
        }
    }
    if (in->tier[0] == '\0') {
        rhis_req_error_expr(req, "Organization.type");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Organization.type with a coding of system "
                               "'" SYS_TIER "' is required");
    }
    snprintf(in->ownership, sizeof(in->ownership), "public");
    in->area_code[0] = '\0';
    in->has_geo = 0;
    json_object *exts = rhis_json_get(o, "extension");
    if (exts != NULL && !json_object_is_type(exts, json_type_array)) {
        rhis_req_error_expr(req, "Organization.extension");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Organization.extension must be an array");
    }
    for (size_t i = 0; exts != NULL && i < json_object_array_length(exts);
         i++) {
        json_object *e = json_object_array_get_idx(exts, i);
        const char *url = rhis_json_get_str(e, "url");
        if (url == NULL)
            continue;
        if (strcmp(url, EXT_AREA) == 0) {
            rc = take_str(req, rhis_json_get(e, "valueCode"),
                          "Organization.extension(area-code).valueCode",
                          in->area_code, sizeof(in->area_code));
        } else if (strcmp(url, EXT_OWNERSHIP) == 0) {
            rc = take_str(req, rhis_json_get(e, "valueCode"),
                          "Organization.extension(ownership).valueCode",
                          in->ownership, sizeof(in->ownership));
        } else if (strcmp(url, EXT_BEDS_APPROVED) == 0) {
            rc = take_int(req, rhis_json_get(e, "valueInteger"),
                          "Organization.extension(beds-approved)."
                          "valueInteger",
                          &in->beds_approved);
        } else if (strcmp(url, EXT_BEDS_OPEN) == 0) {
            rc = take_int(req, rhis_json_get(e, "valueInteger"),
                          "Organization.extension(beds-open).valueInteger",
                          &in->beds_open);
        } else if (strcmp(url, EXT_GEO) == 0) {
            json_object *sub = rhis_json_get(e, "extension");
            int got = 0;
            for (size_t j = 0;
                 sub != NULL && json_object_is_type(sub, json_type_array) &&
                 j < json_object_array_length(sub) && rc == RHIS_OK;
                 j++) {
                json_object *s = json_object_array_get_idx(sub, j);
                const char *u = rhis_json_get_str(s, "url");
                if (u != NULL && strcmp(u, "latitude") == 0) {
                    rc = take_decimal(req, rhis_json_get(s, "valueDecimal"),
                                      "geolocation.latitude", &in->lat);
                    got |= 1;
                } else if (u != NULL && strcmp(u, "longitude") == 0) {
                    rc = take_decimal(req, rhis_json_get(s, "valueDecimal"),
                                      "geolocation.longitude", &in->lon);
                    got |= 2;
                }
            }
            if (rc == RHIS_OK && got != 3) {
                rhis_req_error_expr(req, "Organization.extension(geolocation)");
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "geolocation needs latitude and "
                                       "longitude");
            }
            in->has_geo = 1;
        }
        if (rc != RHIS_OK)
            return rc;
    }
    if (in->area_code[0] == '\0') {
        rhis_req_error_expr(req, "Organization.extension");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "the extension '" EXT_AREA
                               "' (valueCode: the division code where the "
                               "institution is) is required");
    }
    in->phone[0] = '\0';
    json_object *tel = rhis_json_get(o, "telecom");
    for (size_t i = 0;
         tel != NULL && json_object_is_type(tel, json_type_array) &&
         i < json_object_array_length(tel);
         i++) {
        json_object *t = json_object_array_get_idx(tel, i);
        const char *sys = rhis_json_get_str(t, "system");
        if (sys != NULL && strcmp(sys, "phone") == 0) {
            rc = take_str(req, rhis_json_get(t, "value"),
                          "Organization.telecom.value", in->phone,
                          sizeof(in->phone));
            if (rc != RHIS_OK)
                return rc;
        }
    }
    return RHIS_OK;
}

rhis_status
api_organization_read(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    const char *ids = rhis_req_param(req, "id");
    if (rhis_fhir_parse_id(req, "Organization id", ids, &id) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "Organization/%s not found",
                               ids);
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    inst in;
    rc = load(db, id, &in);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "Organization/%s not found", ids);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read Organization");
    json_object *o = to_fhir(&in);
    rhis_fhir_set_version(req, resp, in.version);
    rhis_fhir_respond(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static json_object *
org_row_fhir(rhis_stmt *st)
{
    inst in;
    from_row(st, &in);
    return to_fhir(&in);
}

rhis_status
api_organization_search(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "name") == 0) {
            rhis_sql_where_add(&w, "i.name LIKE ?", 's', 0,
                               rhis_arena_printf(req->arena, "%s%%", v));
        } else if (strcmp(k, "name:contains") == 0) {
            rhis_sql_where_add(&w, "i.name LIKE ?", 's', 0,
                               rhis_arena_printf(req->arena, "%%%s%%", v));
        } else if (strcmp(k, "identifier") == 0) {
            const char *bar = strchr(v, '|');
            if (bar != NULL && (size_t)(bar - v) != strlen(SYS_CODE) &&
                bar != v) {
                rhis_sql_where_add(&w, "1 = 0", 0, 0, NULL);
                continue;
            }
            if (bar != NULL && bar != v &&
                strncmp(v, SYS_CODE, strlen(SYS_CODE)) != 0) {
                rhis_sql_where_add(&w, "1 = 0", 0, 0, NULL);
                continue;
            }
            rhis_sql_where_add(&w, "i.code = ?", 's', 0,
                               bar != NULL ? bar + 1 : v);
        } else if (strcmp(k, "type") == 0) {
            const char *bar = strchr(v, '|');
            const char *code = bar != NULL ? bar + 1 : v;
            if (rhis_grade_label(code) != NULL && rhis_tier_label(code) == NULL)
                rhis_sql_where_add(&w, "i.grade = ?", 's', 0, code);
            else
                rhis_sql_where_add(&w, "i.tier = ?", 's', 0, code);
        } else if (strcmp(k, "area") == 0 || strcmp(k, "address-area") == 0) {
            rc = filter_area(req, &w, v);
        } else if (strcmp(k, "active") == 0) {
            if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
                rc = rhis_req_errorf(req, RHIS_EINVAL,
                                     "active must be true or false");
            else
                rhis_sql_where_add(&w, "i.active = ?", 'i',
                                   strcmp(v, "true") == 0, NULL);
        } else if (strcmp(k, "_id") == 0) {
            int64_t id;
            rc = rhis_fhir_parse_id(req, "_id", v, &id);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w, "i.id = ?", 'i', id, NULL);
        } else if (!rhis_fhir_is_control_param(k)) {
            rc = rhis_req_errorf(req, RHIS_EINVAL,
                                 "unknown search parameter '%s' for "
                                 "Organization (supported: name, "
                                 "name:contains, identifier, type, area, "
                                 "active, _id, _count, _offset, _summary)",
                                 k);
        }
        if (rc != RHIS_OK)
            return rc;
    }
    return rhis_fhir_search_respond(req, resp, &s, &w, "institution i",
                                    INST_COLS, "ORDER BY i.id", "Organization",
                                    org_row_fhir);
}

/* Finishes a write: audit in the same transaction, commit, answer. */
static rhis_status
finish_write(rhis_req *req, rhis_resp *resp, rhis_db *db, inst *in, int created)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)in->id);
    req->audit_type = "Organization";
    req->audit_id = rhis_arena_strdup(req->arena, id);
    rhis_status rc = rhis_req_audit(req, db, created ? "C" : "U",
                                    created ? "create" : "update",
                                    "Organization", id, created ? 201 : 200);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        req->audit_done = 0; /* rolled back with the change */
        rhis_db_rollback(db);
        return rhis_req_errorf(req, rc, "cannot store Organization");
    }
    json_object *o = to_fhir(in);
    rhis_fhir_set_version(req, resp, in->version);
    if (created)
        rhis_resp_header(resp, "Location",
                         rhis_arena_printf(req->arena,
                                           "/fhir/Organization/%s/_history/1",
                                           id));
    rhis_fhir_respond(resp, created ? 201 : 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_organization_create(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    inst in;
    memset(&in, 0, sizeof(in));
    rc = from_fhir(req, body, &in);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_req_check_area(req, in.area_code);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    char msg[256];
    const char *field = NULL;
    rc = validate(db, &in, msg, sizeof(msg), &field);
    if (rc != RHIS_OK) {
        rhis_req_error_expr(req, field);
        return rhis_req_errorf(req, rc, "%s", msg);
    }
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = insert(db, &in);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        if (rc == RHIS_ECONFLICT)
            return rhis_req_errorf(
                req, rc, "an institution with code '%s' exists", in.code);
        return rhis_req_errorf(req, rc, "cannot store Organization");
    }
    return finish_write(req, resp, db, &in, 1);
}

rhis_status
api_organization_update(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    const char *ids = rhis_req_param(req, "id");
    rhis_status rc = rhis_fhir_parse_id(req, "Organization id", ids, &id);
    if (rc != RHIS_OK)
        return rc;
    json_object *body;
    rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    const char *bid = rhis_json_get_str(body, "id");
    if (bid == NULL || strcmp(bid, ids) != 0) {
        rhis_req_error_expr(req, "Organization.id");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Organization.id must equal the id in the URL "
                               "(%s)",
                               ids);
    }
    inst in;
    memset(&in, 0, sizeof(in));
    rc = from_fhir(req, body, &in);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_req_check_area(req, in.area_code);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    char msg[256];
    const char *field = NULL;
    rc = validate(db, &in, msg, sizeof(msg), &field);
    if (rc != RHIS_OK) {
        rhis_req_error_expr(req, field);
        return rhis_req_errorf(req, rc, "%s", msg);
    }
    rc = rhis_db_begin(db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot store Organization");
    inst old;
    rc = load(db, id, &old);
    if (rc == RHIS_ENOTFOUND) {
        rhis_db_rollback(db);
        return rhis_req_errorf(req, rc,
                               "Organization/%s not found (create with "
                               "POST)",
                               ids);
    }
    /* the old place must be in scope too: no moving others' records in */
    if (rc == RHIS_OK)
        rc = rhis_req_check_area(req, old.area_code);
    if (rc == RHIS_OK)
        rc = rhis_fhir_check_if_match(req, old.version);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        if (req->err_status == rc)
            return rc;
        return rhis_req_errorf(req, rc, "cannot read Organization");
    }
    in.id = id;
    in.version = old.version + 1;
    in.updated_at = (int64_t)time(NULL);
    rhis_stmt *st;
    rc = rhis_db_query(
        db, &st,
        "UPDATE institution SET code = ?, name = ?, tier = ?, grade = ?,"
        " ownership = ?, area_code = ?, beds_approved = ?, beds_open = ?,"
        " lat = ?, lon = ?, phone = ?, active = ?, version = ?,"
        " updated_at = ? WHERE id = ? AND version = ?",
        "ssssssii", in.code, in.name, in.tier,
        in.grade[0] != '\0' ? in.grade : NULL, in.ownership, in.area_code,
        in.beds_approved, in.beds_open);
    if (rc == RHIS_OK) {
        if (in.has_geo) {
            rhis_db_bind_double(st, 9, in.lat);
            rhis_db_bind_double(st, 10, in.lon);
        } else {
            rhis_db_bind_null(st, 9);
            rhis_db_bind_null(st, 10);
        }
        rhis_db_bind_text(st, 11, in.phone[0] != '\0' ? in.phone : NULL);
        rhis_db_bind_int64(st, 12, in.active);
        rhis_db_bind_int64(st, 13, in.version);
        rhis_db_bind_int64(st, 14, in.updated_at);
        rhis_db_bind_int64(st, 15, id);
        rhis_db_bind_int64(st, 16, old.version);
        rc = rhis_db_step(st);
        rhis_db_finalize(st);
        if (rc == RHIS_DONE)
            rc = rhis_db_changes(db) == 1 ? RHIS_OK : RHIS_EPRECOND;
        if (rc == RHIS_OK)
            rc = rhis_agg_institution(db, id);
    }
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        if (rc == RHIS_ECONFLICT)
            return rhis_req_errorf(
                req, rc, "an institution with code '%s' exists", in.code);
        if (rc == RHIS_EPRECOND)
            return rhis_req_errorf(req, rc, "Organization/%s changed meanwhile",
                                   ids);
        return rhis_req_errorf(req, rc, "cannot store Organization");
    }
    return finish_write(req, resp, db, &in, 0);
}

/* ---- FHIR Location for an institution's site ----
 *
 * An institution has one site; Location/inst-ID is derived from the
 * institution (name, status, position, area) and updating it changes the
 * institution's coordinates, under the institution's version.  Sites are
 * created with their Organization, so Location has no create.
 */

static json_object *
site_fhir(const inst *in)
{
    json_object *l = json_object_new_object();
    char buf[64];
    json_object_object_add(l, "resourceType",
                           json_object_new_string("Location"));
    snprintf(buf, sizeof(buf), "inst-%lld", (long long)in->id);
    json_object_object_add(l, "id", json_object_new_string(buf));
    json_object *m = json_object_new_object();
    snprintf(buf, sizeof(buf), "%lld", (long long)in->version);
    json_object_object_add(m, "versionId", json_object_new_string(buf));
    rhis_fhir_instant(in->updated_at, buf, sizeof(buf));
    json_object_object_add(m, "lastUpdated", json_object_new_string(buf));
    json_object_object_add(l, "meta", m);
    json_object_object_add(
        l, "status",
        json_object_new_string(in->active ? "active" : "inactive"));
    json_object_object_add(l, "name", json_object_new_string(in->name));
    json_object_object_add(l, "mode", json_object_new_string("instance"));
    json_object_object_add(l, "physicalType",
                           coding_cc("http://terminology.hl7.org/CodeSystem/"
                                     "location-physical-type",
                                     "bu", "Building"));
    if (in->has_geo) {
        json_object *pos = json_object_new_object();
        json_object_object_add(pos, "latitude", rhis_json_new_double(in->lat));
        json_object_object_add(pos, "longitude", rhis_json_new_double(in->lon));
        json_object_object_add(l, "position", pos);
    }
    json_object *mo = json_object_new_object();
    snprintf(buf, sizeof(buf), "Organization/%lld", (long long)in->id);
    json_object_object_add(mo, "reference", json_object_new_string(buf));
    json_object_object_add(l, "managingOrganization", mo);
    json_object *po = json_object_new_object();
    snprintf(buf, sizeof(buf), "Location/area-%s", in->area_code);
    json_object_object_add(po, "reference", json_object_new_string(buf));
    json_object_object_add(l, "partOf", po);
    return l;
}

/* Parses "inst-ID"; 404 for anything else. */
static rhis_status
site_id(rhis_req *req, const char *id, int64_t *out)
{
    if (strncmp(id, "inst-", 5) != 0 ||
        rhis_fhir_parse_id(req, "Location id", id + 5, out) != RHIS_OK)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "Location/%s not found",
                               id);
    return RHIS_OK;
}

rhis_status
registry_site_read(rhis_req *req, rhis_resp *resp, const char *id)
{
    int64_t iid;
    rhis_status rc = site_id(req, id, &iid);
    rhis_db *db;
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    inst in;
    rc = load(db, iid, &in);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "Location/%s %s", id,
                               rc == RHIS_ENOTFOUND ? "not found"
                                                    : "cannot be read");
    json_object *l = site_fhir(&in);
    rhis_fhir_set_version(req, resp, in.version);
    rhis_fhir_respond(resp, 200, l);
    json_object_put(l);
    return RHIS_OK;
}

static json_object *
site_row_fhir(rhis_stmt *st)
{
    inst in;
    from_row(st, &in);
    return site_fhir(&in);
}

rhis_status
registry_site_search(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n && rc == RHIS_OK; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        int64_t id;
        if (strcmp(k, "organization") == 0) {
            const char *p = strncmp(v, "Organization/", 13) == 0 ? v + 13 : v;
            rc = rhis_fhir_parse_id(req, k, p, &id);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w, "i.id = ?", 'i', id, NULL);
        } else if (strcmp(k, "type") == 0) {
            /* type=bu selects sites; checked by the caller */
        } else if (strcmp(k, "name") == 0) {
            rhis_sql_where_add(&w, "i.name LIKE ?", 's', 0,
                               rhis_arena_printf(req->arena, "%s%%", v));
        } else if (strcmp(k, "partof") == 0) {
            const char *p = strncmp(v, "Location/", 9) == 0 ? v + 9 : v;
            if (strncmp(p, "area-", 5) != 0)
                rc = rhis_req_errorf(req, RHIS_EINVAL,
                                     "partof must be Location/area-CODE");
            else
                rc = filter_area(req, &w, p + 5);
        } else if (!rhis_fhir_is_control_param(k)) {
            rc = rhis_req_errorf(req, RHIS_EINVAL,
                                 "unknown search parameter '%s' for "
                                 "Location sites (organization, type, name, "
                                 "partof)",
                                 k);
        }
    }
    if (rc != RHIS_OK)
        return rc;
    return rhis_fhir_search_respond(req, resp, &s, &w, "institution i",
                                    INST_COLS, "ORDER BY i.id", "Location",
                                    site_row_fhir);
}

/* PUT /fhir/Location/inst-ID: moves the site (position, status). */
rhis_status
api_location_update(rhis_req *req, rhis_resp *resp)
{
    const char *ids = rhis_req_param(req, "id");
    if (strncmp(ids, "area-", 5) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Location/%s is a jurisdiction from the "
                               "division codes (reference data, loaded by "
                               "rhis init); it cannot be changed here",
                               ids);
    int64_t id;
    rhis_status rc = site_id(req, ids, &id);
    if (rc != RHIS_OK)
        return rc;
    json_object *body;
    rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    const char *rt = rhis_json_get_str(body, "resourceType");
    const char *bid = rhis_json_get_str(body, "id");
    if (rt == NULL || strcmp(rt, "Location") != 0) {
        rhis_req_error_expr(req, "resourceType");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "resourceType must be Location");
    }
    if (bid == NULL || strcmp(bid, ids) != 0) {
        rhis_req_error_expr(req, "Location.id");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Location.id must equal the id in the URL");
    }
    int has_geo = 0, active = -1;
    double lat = 0, lon = 0;
    json_object *pos = rhis_json_get(body, "position");
    if (pos != NULL) {
        rc = take_decimal(req, rhis_json_get(pos, "latitude"),
                          "Location.position.latitude", &lat);
        if (rc == RHIS_OK)
            rc = take_decimal(req, rhis_json_get(pos, "longitude"),
                              "Location.position.longitude", &lon);
        if (rc != RHIS_OK)
            return rc;
        if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
            rhis_req_error_expr(req, "Location.position");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "latitude must be -90..90, longitude "
                                   "-180..180");
        }
        has_geo = 1;
    }
    const char *status = rhis_json_get_str(body, "status");
    if (status != NULL) {
        if (strcmp(status, "active") == 0)
            active = 1;
        else if (strcmp(status, "inactive") == 0)
            active = 0;
        else {
            rhis_req_error_expr(req, "Location.status");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "status must be active or inactive");
        }
    }
    rhis_db *db;
    rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot store Location");
    inst in;
    rc = load(db, id, &in);
    if (rc == RHIS_OK)
        rc = rhis_req_check_area(req, in.area_code);
    if (rc == RHIS_OK)
        rc = rhis_fhir_check_if_match(req, in.version);
    if (rc == RHIS_OK) {
        in.has_geo = has_geo;
        in.lat = lat;
        in.lon = lon;
        if (active >= 0)
            in.active = active;
        in.version++;
        in.updated_at = (int64_t)time(NULL);
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "UPDATE institution SET lat = ?, lon = ?,"
                           " active = ?, version = ?, updated_at = ?"
                           " WHERE id = ?",
                           "");
        if (rc == RHIS_OK) {
            if (has_geo) {
                rhis_db_bind_double(st, 1, lat);
                rhis_db_bind_double(st, 2, lon);
            } else {
                rhis_db_bind_null(st, 1);
                rhis_db_bind_null(st, 2);
            }
            rhis_db_bind_int64(st, 3, in.active);
            rhis_db_bind_int64(st, 4, in.version);
            rhis_db_bind_int64(st, 5, in.updated_at);
            rhis_db_bind_int64(st, 6, id);
            rc = rhis_db_step(st);
            rhis_db_finalize(st);
            if (rc == RHIS_DONE) /* active may change: beds aggregates */
                rc = rhis_agg_institution(db, id);
        }
    }
    if (rc == RHIS_OK) {
        req->audit_type = "Location";
        req->audit_id = ids;
        rc = rhis_req_audit(req, db, "U", "update", "Location", ids, 200);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        req->audit_done = 0;
        rhis_db_rollback(db);
        if (req->err_status == rc)
            return rc;
        if (rc == RHIS_ENOTFOUND)
            return rhis_req_errorf(req, rc, "Location/%s not found", ids);
        return rhis_req_errorf(req, rc, "cannot store Location");
    }
    json_object *l = site_fhir(&in);
    rhis_fhir_set_version(req, resp, in.version);
    rhis_fhir_respond(resp, 200, l);
    json_object_put(l);
    return RHIS_OK;
}
