/*
 * measure.c - FHIR R4 Measure (one per indicator of data/indicators.csv)
 * and MeasureReport (Measure/{id}/$evaluate-measure for an area and a
 * period).
 *
 * Why: systems that speak FHIR (quality-measure tools, the city and
 * province nodes) read indicator definitions and values without learning
 * RHIS's own API.  A Measure is generated from the definition each time,
 * so it cannot drift from what is computed; a MeasureReport is computed
 * from the live aggregates on request (type "summary"; nothing stored).
 * The subject is an area as a Group: Group/area-220221.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plans_int.h"
#include "rhis/csv.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/indicator.h"
#include "rhis/json.h"
#include "rhis/registry.h"

#define BASE_URL "https://rhis.cn/fhir/Measure/"

/* The FHIR id of an indicator: its code with '_' as '-' (ids allow
 * [A-Za-z0-9.-] only); codes never contain '-'. */
static const char *
fhir_id(char *buf, size_t len, const char *code)
{
    snprintf(buf, len, "%s", code);
    for (char *p = buf; *p != '\0'; p++)
        if (*p == '_')
            *p = '-';
    return buf;
}

static json_object *
coding(const char *system, const char *code, const char *display)
{
    json_object *c = json_object_new_object();
    json_object_object_add(c, "system", json_object_new_string(system));
    json_object_object_add(c, "code", json_object_new_string(code));
    if (display != NULL)
        json_object_object_add(c, "display", json_object_new_string(display));
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, c);
    json_object *cc = json_object_new_object();
    json_object_object_add(cc, "coding", arr);
    return cc;
}

static json_object *
population(const char *code, const char *expr)
{
    json_object *p = json_object_new_object();
    json_object_object_add(
        p, "code",
        coding("http://terminology.hl7.org/CodeSystem/measure-population", code,
               NULL));
    json_object *cr = json_object_new_object();
    /* the name of an RHIS data element (data/data-elements.csv), in the
     * way CQL-based measures name their definitions; not runnable CQL */
    json_object_object_add(cr, "language", json_object_new_string("text/cql"));
    json_object_object_add(cr, "expression", json_object_new_string(expr));
    json_object_object_add(p, "criteria", cr);
    return p;
}

static json_object *
measure_json(const rhis_indicator *d)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "resourceType",
                           json_object_new_string("Measure"));
    char fid[64], url[160];
    fhir_id(fid, sizeof(fid), d->code);
    json_object_object_add(m, "id", json_object_new_string(fid));
    snprintf(url, sizeof(url), BASE_URL "%s", fid);
    json_object_object_add(m, "url", json_object_new_string(url));
    json_object *ids = json_object_new_array();
    json_object *id = json_object_new_object();
    json_object_object_add(
        id, "system",
        json_object_new_string("https://rhis.cn/fhir/indicator-ref"));
    json_object_object_add(id, "value", json_object_new_string(d->ref));
    json_object_array_add(ids, id);
    json_object_object_add(m, "identifier", ids);
    json_object_object_add(m, "name", json_object_new_string(d->code));
    json_object_object_add(m, "title", json_object_new_string(d->name_zh));
    json_object_object_add(m, "subtitle", json_object_new_string(d->name_en));
    json_object_object_add(m, "status", json_object_new_string("active"));
    char desc[1024];
    snprintf(desc, sizeof(desc), "%s (unit %s, factor %g). %s", d->name_en,
             d->unit[0] ? d->unit : "-", d->factor, d->note);
    json_object_object_add(m, "description", json_object_new_string(desc));
    json_object_object_add(m, "subjectCodeableConcept",
                           coding("http://hl7.org/fhir/resource-types", "Group",
                                  "area (Group/area-CODE)"));
    if (d->method == RHIS_IND_ENTERED) {
        json_object_object_add(
            m, "usage",
            json_object_new_string("Entered with its source (survey, finance,"
                                   " other sector); not computed from"
                                   " records, so $evaluate-measure does not"
                                   " apply."));
        return m;
    }
    const char *scoring =
        d->method == RHIS_IND_RATIO ? "ratio" : "continuous-variable";
    json_object_object_add(
        m, "scoring",
        coding("http://terminology.hl7.org/CodeSystem/measure-scoring", scoring,
               NULL));
    json_object *pops = json_object_new_array();
    if (d->numerator[0] != '\0')
        json_object_array_add(pops, population("numerator", d->numerator));
    if (d->denominator[0] != '\0')
        json_object_array_add(pops, population("denominator", d->denominator));
    json_object *g = json_object_new_object();
    json_object_object_add(g, "population", pops);
    json_object *groups = json_object_new_array();
    json_object_array_add(groups, g);
    json_object_object_add(m, "group", groups);
    return m;
}

static const rhis_indicator *
from_path(rhis_req *req)
{
    const rhis_ind_defs *d = rhis_ind_defs_default();
    const char *id = rhis_req_param(req, "id");
    char code[64] = "";
    if (id != NULL && strlen(id) < sizeof(code))
        for (size_t i = 0; i <= strlen(id); i++)
            code[i] = id[i] == '-' ? '_' : id[i];
    const rhis_indicator *ind =
        d != NULL && code[0] != '\0' ? rhis_ind_find(d, code) : NULL;
    if (ind == NULL)
        rhis_req_errorf(req, RHIS_ENOTFOUND, "Measure/%s is not known",
                        id != NULL ? id : "");
    return ind;
}

rhis_status
api_measure_read(rhis_req *req, rhis_resp *resp)
{
    const rhis_indicator *ind = from_path(req);
    if (ind == NULL)
        return RHIS_ENOTFOUND;
    json_object *m = measure_json(ind);
    rhis_fhir_respond(resp, 200, m);
    json_object_put(m);
    return RHIS_OK;
}

/* GET /fhir/Measure[?_id=X][&name=prefix][&title=substring] */
rhis_status
api_measure_search(rhis_req *req, rhis_resp *resp)
{
    const char *want_id = NULL, *name = NULL, *title = NULL;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "_id") == 0)
            want_id = v;
        else if (strcmp(k, "name") == 0)
            name = v;
        else if (strcmp(k, "title") == 0)
            title = v;
        else
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown search parameter '%s' (Measure"
                                   " supports _id, name, title)",
                                   k);
    }
    const rhis_ind_defs *d = rhis_ind_defs_default();
    if (d == NULL)
        return rhis_req_errorf(req, RHIS_EIO,
                               "indicator definitions are not loaded");
    json_object *b = json_object_new_object();
    json_object_object_add(b, "resourceType", json_object_new_string("Bundle"));
    json_object_object_add(b, "type", json_object_new_string("searchset"));
    json_object *entries = json_object_new_array();
    for (size_t i = 0; i < rhis_ind_count(d); i++) {
        const rhis_indicator *x = rhis_ind_at(d, i);
        char fid[64];
        fhir_id(fid, sizeof(fid), x->code);
        if (want_id != NULL && strcmp(want_id, fid) != 0)
            continue;
        if (name != NULL && strncmp(x->code, name, strlen(name)) != 0)
            continue;
        if (title != NULL && strstr(x->name_zh, title) == NULL &&
            strstr(x->name_en, title) == NULL)
            continue;
        json_object *e = json_object_new_object();
        char url[160];
        snprintf(url, sizeof(url), "/fhir/Measure/%s", fid);
        json_object_object_add(e, "fullUrl", json_object_new_string(url));
        json_object_object_add(e, "resource", measure_json(x));
        json_object *s = json_object_new_object();
        json_object_object_add(s, "mode", json_object_new_string("match"));
        json_object_object_add(e, "search", s);
        json_object_array_add(entries, e);
    }
    json_object_object_add(
        b, "total",
        json_object_new_int((int)json_object_array_length(entries)));
    json_object_object_add(b, "entry", entries);
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}

/* Digits s[at..at+n) as a number; -1 unless all are digits. */
static int
digits(const char *s, size_t at, size_t n)
{
    int v = 0;
    for (size_t i = at; i < at + n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* YYYY, YYYY-MM or YYYY-MM-DD: first (end=0) or last (end=1) day. */
static int
parse_date(const char *s, int end, int32_t *day)
{
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10)
        return -1;
    int y = digits(s, 0, 4);
    int m = n >= 7 ? digits(s, 5, 2) : 1;
    int d = n == 10 ? digits(s, 8, 2) : 1;
    if ((n >= 7 && s[4] != '-') || (n == 10 && s[7] != '-') || m < 1 ||
        m > 12 || d < 1)
        return -1;
    if (y < 1900 || y > 2100)
        return -1;
    if (n == 10) {
        int yy, mm, dd;
        rhis_day_date(rhis_day_of(y, m, d), &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d)
            return -1; /* 2025-02-30 */
        *day = rhis_day_of(y, m, d);
        return 0;
    }
    rhis_period p = n == 4 ? rhis_period_year(y) : rhis_period_month(y, m);
    *day = end ? p.to_day : p.from_day;
    return 0;
}

static void
day_text(int32_t day, char *buf, size_t len)
{
    int y, m, d;
    rhis_day_date(day, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

static json_object *
report_population(const char *code, double count)
{
    json_object *p = json_object_new_object();
    json_object_object_add(
        p, "code",
        coding("http://terminology.hl7.org/CodeSystem/measure-population", code,
               NULL));
    json_object_object_add(p, "count", json_object_new_int64((int64_t)count));
    return p;
}

/* A summary MeasureReport of ind for subject over p with value v. */
static json_object *
report_json(const rhis_indicator *ind,
            const char *subject,
            rhis_period p,
            const rhis_ind_value *vp)
{
    rhis_ind_value v = *vp;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "resourceType",
                           json_object_new_string("MeasureReport"));
    json_object_object_add(r, "status", json_object_new_string("complete"));
    json_object_object_add(r, "type", json_object_new_string("summary"));
    char url[160], a[16], b[16];
    char fid[64];
    snprintf(url, sizeof(url), BASE_URL "%s",
             fhir_id(fid, sizeof(fid), ind->code));
    json_object_object_add(r, "measure", json_object_new_string(url));
    json_object *subj = json_object_new_object();
    json_object_object_add(subj, "reference", json_object_new_string(subject));
    json_object_object_add(r, "subject", subj);
    char now[40];
    rhis_fhir_instant((int64_t)time(NULL), now, sizeof(now));
    json_object_object_add(r, "date", json_object_new_string(now));
    json_object *per = json_object_new_object();
    day_text(p.from_day, a, sizeof(a));
    day_text(p.to_day, b, sizeof(b));
    json_object_object_add(per, "start", json_object_new_string(a));
    json_object_object_add(per, "end", json_object_new_string(b));
    json_object_object_add(r, "period", per);
    json_object *g = json_object_new_object();
    if (ind->method == RHIS_IND_RATIO) {
        json_object *pops = json_object_new_array();
        json_object_array_add(pops,
                              report_population("numerator", v.numerator));
        json_object_array_add(pops,
                              report_population("denominator", v.denominator));
        json_object_object_add(g, "population", pops);
    }
    if ((v.flags & RHIS_IND_FLAG_NODATA) == 0) {
        json_object *score = json_object_new_object();
        json_object_object_add(score, "value", rhis_json_new_double(v.value));
        if (ind->unit[0] != '\0')
            json_object_object_add(score, "unit",
                                   json_object_new_string(ind->unit));
        json_object_object_add(g, "measureScore", score);
    }
    json_object *groups = json_object_new_array();
    json_object_array_add(groups, g);
    json_object_object_add(r, "group", groups);
    if (v.flags & RHIS_IND_FLAG_SMALL) {
        json_object *ext = json_object_new_array();
        json_object *e = json_object_new_object();
        json_object_object_add(
            e, "url",
            json_object_new_string(
                "https://rhis.cn/fhir/StructureDefinition/small-numbers"));
        json_object_object_add(e, "valueBoolean", json_object_new_boolean(1));
        json_object_array_add(ext, e);
        json_object_object_add(r, "extension", ext);
    }
    return r;
}

/* GET /fhir/Measure/{id}/$evaluate-measure?periodStart&periodEnd
 *     &subject=Group/area-CODE[&reportType=summary] */
rhis_status
api_measure_evaluate(rhis_req *req, rhis_resp *resp)
{
    const rhis_indicator *ind = from_path(req);
    if (ind == NULL)
        return RHIS_ENOTFOUND;
    const char *ps = NULL, *pe = NULL, *subject = NULL;
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "periodStart") == 0)
            ps = v;
        else if (strcmp(k, "periodEnd") == 0)
            pe = v;
        else if (strcmp(k, "subject") == 0)
            subject = v;
        else if (strcmp(k, "reportType") == 0) {
            if (strcmp(v, "summary") != 0)
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "reportType: only 'summary' (an"
                                       " area's aggregate) is supported");
        } else {
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%s' (periodStart,"
                                   " periodEnd, subject, reportType)",
                                   k);
        }
    }
    rhis_period p;
    if (ps == NULL || pe == NULL || parse_date(ps, 0, &p.from_day) != 0 ||
        parse_date(pe, 1, &p.to_day) != 0 || p.to_day < p.from_day)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "periodStart and periodEnd are required dates"
                               " (YYYY, YYYY-MM or YYYY-MM-DD), start <="
                               " end");
    const char *area =
        subject != NULL && strncmp(subject, "Group/area-", 11) == 0
            ? subject + 11
            : NULL;
    if (area == NULL || rhis_area_code_level(area) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "subject must be Group/area-CODE with a"
                               " division code, e.g. Group/area-220221");
    rhis_status rc = rhis_req_check_area(req, area);
    if (rc != RHIS_OK)
        return rc;
    if (ind->method == RHIS_IND_ENTERED)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "Measure/%s is entered by hand (survey,"
                               " finance, other sector), not computed; see"
                               " GET /api/v1/entered-values",
                               ind->code);
    rhis_db *db = NULL;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_ind_value v;
    rc = rhis_ind_value_get(db, rhis_ind_defs_default(), ind, area, p, &v);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot compute Measure/%s", ind->code);
    json_object *r = report_json(ind, subject, p, &v);
    rhis_fhir_respond(resp, 200, r);
    json_object_put(r);
    return RHIS_OK;
}

/*
 * GET /api/v1/plans/{plan}/measure-reports?year=Y: the plan evaluation as a
 * FHIR Bundle (type collection) of summary MeasureReports, one per plan
 * row measured from the records, for the plan's area and the year; each
 * carries the row's target and status as extensions.
 */
rhis_status
api_plan_measure_reports(rhis_req *req, rhis_resp *resp)
{
    const char *id = rhis_req_param(req, "plan");
    const char *ys = rhis_req_query(req, "year");
    int year = ys != NULL ? rhis_parse_int(ys) : 0;
    if (year < 1949 || year > 2100)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "year (1949..2100) is required");
    rhis_db *db = NULL;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan p;
    memset(&p, 0, sizeof(p));
    rc = rhis_plan_get(db, req->arena, id != NULL ? id : "", &p);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "no plan '%s'", id != NULL ? id : "");
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read plan");
    if ((rc = rhis_req_check_area(req, p.area)) != RHIS_OK)
        return rc;
    rhis_plan_status *s;
    size_t n;
    rc = rhis_plan_status_get(db, req->arena, p.id, year, &s, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot evaluate plan %s", p.id);
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    char subject[32];
    snprintf(subject, sizeof(subject), "Group/area-%s", p.area);
    json_object *b = json_object_new_object();
    json_object_object_add(b, "resourceType", json_object_new_string("Bundle"));
    json_object_object_add(b, "type", json_object_new_string("collection"));
    json_object *entries = json_object_new_array();
    for (size_t i = 0; i < n && rc == RHIS_OK; i++) {
        const rhis_plan_row *r = s[i].row;
        const rhis_indicator *ind =
            defs != NULL ? rhis_ind_find(defs, r->indicator) : NULL;
        if (ind == NULL || ind->method == RHIS_IND_ENTERED ||
            strchr(r->measure, ':') != NULL)
            continue;
        rhis_period per =
            rhis_period_year(s[i].has_value ? s[i].value_year : year);
        rhis_ind_value v;
        rc = rhis_ind_value_get(db, defs, ind, p.area, per, &v);
        if (rc != RHIS_OK)
            break;
        json_object *m = report_json(ind, subject, per, &v);
        json_object *ext = rhis_json_get(m, "extension");
        if (ext == NULL) {
            ext = json_object_new_array();
            json_object_object_add(m, "extension", ext);
        }
        json_object *e = json_object_new_object();
        json_object_object_add(
            e, "url",
            json_object_new_string(
                "https://rhis.cn/fhir/StructureDefinition/plan-target"));
        json_object_object_add(e, "valueString",
                               json_object_new_string(rhis_arena_printf(
                                   req->arena, "%s %d row %d: %s", p.id,
                                   r->target_year ? r->target_year : p.horizon,
                                   r->row, r->target_text)));
        json_object_array_add(ext, e);
        e = json_object_new_object();
        json_object_object_add(
            e, "url",
            json_object_new_string(
                "https://rhis.cn/fhir/StructureDefinition/plan-status"));
        json_object_object_add(
            e, "valueCode",
            json_object_new_string(rhis_plan_state_name(s[i].state)));
        json_object_array_add(ext, e);
        json_object *en = json_object_new_object();
        json_object_object_add(en, "resource", m);
        json_object_array_add(entries, en);
    }
    json_object_object_add(b, "entry", entries);
    if (rc == RHIS_OK)
        rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return rc == RHIS_OK ? RHIS_OK
                         : rhis_req_errorf(req, rc, "cannot compute values");
}
