/*
 * api_plans.c - plans over HTTP: the list, a plan's status for a year, its
 * lint, drill-down of a row to child areas, the printable report, and the
 * data-entry API for indicators only surveys, finance or other sectors
 * can supply.
 *
 * Why: the planner dashboard (web/pages/plan.js) and other systems read
 * the same status and lint as `rhis report`; entered values are writes
 * with an audit event in their transaction, naming their source and the
 * person who supplied them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plans_int.h"
#include "rhis/csv.h"
#include "rhis/handlers.h"
#include "rhis/indicator.h"
#include "rhis/json.h"
#include "rhis/registry.h"

static json_object *
jnum(int ok, double v)
{
    return ok && isfinite(v) ? rhis_json_new_double(v) : NULL;
}

static json_object *
jstr_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_object_new_string(s) : NULL;
}

static int
this_year(void)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

/* ?year=YYYY (default: this year). */
static rhis_status
query_year(rhis_req *req, int *year)
{
    const char *y = rhis_req_query(req, "year");
    *year = this_year();
    if (y == NULL)
        return RHIS_OK;
    int v = rhis_parse_int(y);
    if (v < 1949 || v > 2100)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "year must be 1949..2100, not '%s'", y);
    *year = v;
    return RHIS_OK;
}

/* Loads the {plan} of the path and checks the caller's area scope. */
static rhis_status
plan_from_path(rhis_req *req, rhis_db **db, rhis_plan *p)
{
    const char *id = rhis_req_param(req, "plan");
    if (id == NULL || strlen(id) > 32)
        return rhis_req_errorf(req, RHIS_EINVAL, "bad plan id");
    rhis_status rc = rhis_req_db(req, db);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_plan_get(*db, req->arena, id, p);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc,
                               "no plan '%s' (plans are named AREA:HORIZON,"
                               " e.g. 220221:2025)",
                               id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read plan");
    return rhis_req_check_area(req, p->area);
}

static json_object *
plan_json(const rhis_plan *p, int year)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(p->id));
    json_object_object_add(o, "area", json_object_new_string(p->area));
    json_object_object_add(o, "area_name",
                           json_object_new_string(p->area_name));
    json_object_object_add(o, "name", json_object_new_string(p->name_zh));
    json_object_object_add(o, "name_en", json_object_new_string(p->name_en));
    json_object_object_add(o, "baseline_year",
                           json_object_new_int(p->baseline_year));
    json_object_object_add(o, "horizon", json_object_new_int(p->horizon));
    const char *ev = rhis_plan_evaluation(p, year);
    json_object_object_add(o, "evaluation", json_object_new_string(ev));
    json_object_object_add(o, "evaluation_zh",
                           json_object_new_string(rhis_plan_evaluation_zh(ev)));
    return o;
}

rhis_status
api_plan_list(rhis_req *req, rhis_resp *resp)
{
    int year;
    rhis_status rc = query_year(req, &year);
    rhis_db *db = NULL;
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan *ps;
    size_t n;
    rc = rhis_plan_list(db, req->arena, &ps, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot list plans");
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        if (req->user == NULL ||
            rhis_principal_covers_area(req->user, ps[i].area))
            json_object_array_add(arr, plan_json(&ps[i], year));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "year", json_object_new_int(year));
    json_object_object_add(o, "plans", arr);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static json_object *
row_json(const rhis_plan_row *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "row", json_object_new_int(r->row));
    json_object_object_add(o, "domain", json_object_new_string(r->domain));
    json_object_object_add(o, "indicator_zh",
                           json_object_new_string(r->name_zh));
    json_object_object_add(o, "indicator_en",
                           json_object_new_string(r->name_en));
    json_object_object_add(o, "indicator",
                           json_object_new_string(r->indicator));
    json_object_object_add(o, "measure", json_object_new_string(r->measure));
    json_object_object_add(o, "unit", json_object_new_string(r->unit));
    json_object_object_add(o, "direction", jstr_or_null(r->direction));
    json_object_object_add(o, "attribute", jstr_or_null(r->attribute));
    json_object_object_add(
        o, "binding",
        json_object_new_boolean(strcmp(r->attribute, "约束性") == 0));
    json_object_object_add(
        o, "baseline_year",
        r->baseline_year ? json_object_new_int(r->baseline_year) : NULL);
    json_object_object_add(o, "baseline_text", jstr_or_null(r->baseline_text));
    json_object_object_add(o, "baseline", jnum(r->has_baseline, r->baseline));
    json_object_object_add(o, "target_year",
                           r->target_year ? json_object_new_int(r->target_year)
                                          : NULL);
    json_object_object_add(o, "target_text", jstr_or_null(r->target_text));
    json_object_object_add(o, "op", json_object_new_string(r->op));
    json_object_object_add(o, "target", jnum(r->has_target, r->target));
    json_object_object_add(o, "source", json_object_new_string(r->source));
    return o;
}

static json_object *
status_json(const rhis_plan_status *s)
{
    json_object *o = row_json(s->row);
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    const rhis_indicator *d =
        defs != NULL ? rhis_ind_find(defs, s->row->indicator) : NULL;
    json_object_object_add(
        o, "entered",
        json_object_new_boolean(d == NULL || d->method == RHIS_IND_ENTERED ||
                                strchr(s->row->measure, ':') != NULL));
    if (s->has_goal) {
        char cmp[2] = {s->cmp, 0};
        json_object_object_add(o, "goal", rhis_json_new_double(s->goal));
        json_object_object_add(o, "goal_cmp", json_object_new_string(cmp));
    }
    json_object_object_add(o, "value", jnum(s->has_value, s->value));
    json_object_object_add(o, "value_year",
                           s->has_value ? json_object_new_int(s->value_year)
                                        : NULL);
    json_object_object_add(o, "value_from", jstr_or_null(s->value_from));
    json_object_object_add(
        o, "small_numbers",
        json_object_new_boolean((s->flags & RHIS_IND_FLAG_SMALL) != 0));
    if (s->entered_source != NULL) {
        json_object_object_add(o, "entered_source",
                               json_object_new_string(s->entered_source));
        json_object_object_add(o, "entered_person",
                               json_object_new_string(s->entered_person));
    }
    json_object *tr = json_object_new_array();
    for (int i = 0; i < s->ntrend; i++) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "year",
                               json_object_new_int(s->trend_year[i]));
        json_object_object_add(p, "value", jnum(s->trend_ok[i], s->trend[i]));
        json_object_array_add(tr, p);
    }
    json_object_object_add(o, "trend", tr);
    json_object_object_add(o, "projection",
                           jnum(s->has_projection, s->projection));
    json_object_object_add(o, "slope", jnum(s->has_projection, s->slope));
    json_object_object_add(
        o, "status", json_object_new_string(rhis_plan_state_name(s->state)));
    json_object_object_add(
        o, "status_zh", json_object_new_string(rhis_plan_state_zh(s->state)));
    json_object_object_add(o, "reason", json_object_new_string(s->reason));
    return o;
}

rhis_status
api_plan_status(rhis_req *req, rhis_resp *resp)
{
    int year;
    rhis_db *db = NULL;
    rhis_plan p;
    memset(&p, 0, sizeof(p));
    rhis_status rc = query_year(req, &year);
    if (rc == RHIS_OK)
        rc = plan_from_path(req, &db, &p);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan_status *s;
    size_t n;
    rc = rhis_plan_status_get(db, req->arena, p.id, year, &s, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot evaluate plan %s", p.id);
    json_object *o = plan_json(&p, year);
    json_object_object_add(o, "year", json_object_new_int(year));
    json_object *rows = json_object_new_array();
    int cnt[6] = {0};
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(rows, status_json(&s[i]));
        cnt[s[i].state]++;
    }
    json_object *sum = json_object_new_object();
    for (int k = RHIS_PLAN_MET; k <= RHIS_PLAN_NO_DATA; k++)
        json_object_object_add(sum, rhis_plan_state_name(k),
                               json_object_new_int(cnt[k]));
    json_object_object_add(o, "summary", sum);
    json_object_object_add(o, "rows", rows);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_plan_lint(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db = NULL;
    rhis_plan p;
    memset(&p, 0, sizeof(p));
    rhis_status rc = plan_from_path(req, &db, &p);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan_finding *x;
    size_t n;
    rc = rhis_plan_lint(db, req->arena, p.id, &x, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot lint plan %s", p.id);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "row", json_object_new_int(x[i].row));
        json_object_object_add(
            f, "other_row",
            x[i].other_row ? json_object_new_int(x[i].other_row) : NULL);
        json_object_object_add(f, "kind", json_object_new_string(x[i].kind));
        json_object_object_add(f, "indicator_zh",
                               json_object_new_string(x[i].indicator));
        json_object_object_add(f, "message",
                               json_object_new_string(x[i].message));
        json_object_array_add(arr, f);
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "plan", json_object_new_string(p.id));
    json_object_object_add(o, "findings", arr);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

#define MAX_CHILDREN 512

/* GET /api/v1/plans/{plan}/rows/{row}/children?year=Y[&area=CODE]: the
 * row's value for each child of the plan's area (or of a descendant). */
rhis_status
api_plan_row_children(rhis_req *req, rhis_resp *resp)
{
    int year;
    rhis_db *db = NULL;
    rhis_plan p;
    memset(&p, 0, sizeof(p));
    rhis_status rc = query_year(req, &year);
    if (rc == RHIS_OK)
        rc = plan_from_path(req, &db, &p);
    if (rc != RHIS_OK)
        return rc;
    const char *rowp = rhis_req_param(req, "row");
    int rowno = rowp != NULL ? rhis_parse_int(rowp) : -1;
    const char *area = rhis_req_query(req, "area");
    if (area == NULL)
        area = p.area;
    if (area == NULL || p.area == NULL || rhis_area_code_level(area) == 0 ||
        strncmp(area, p.area, strlen(p.area)) != 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "area must be %s or an area under it", p.area);
    if ((rc = rhis_req_check_area(req, area)) != RHIS_OK)
        return rc;
    rhis_plan_row *rows;
    size_t n;
    rc = rhis_plan_rows(db, req->arena, p.id, &rows, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read plan rows");
    const rhis_plan_row *r = NULL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].row == rowno)
            r = &rows[i];
    if (r == NULL)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "plan %s has no row %s",
                               p.id, rhis_req_param(req, "row"));
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    const rhis_indicator *d =
        defs != NULL ? rhis_ind_find(defs, r->indicator) : NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "plan", json_object_new_string(p.id));
    json_object_object_add(o, "row", row_json(r));
    json_object_object_add(o, "area", json_object_new_string(area));
    rhis_stmt *nst;
    if (rhis_db_query(db, &nst, "SELECT name FROM area WHERE code = ?", "s",
                      area) == RHIS_OK) {
        if (rhis_db_step(nst) == RHIS_ROW)
            json_object_object_add(
                o, "area_name",
                json_object_new_string(rhis_db_column_text(nst, 0)));
        rhis_db_finalize(nst);
    }
    json_object_object_add(o, "year", json_object_new_int(year));
    json_object *arr = json_object_new_array();
    if (d != NULL && d->method != RHIS_IND_ENTERED &&
        strchr(r->measure, ':') == NULL) {
        rhis_ind_child *c =
            rhis_arena_alloc(req->arena, MAX_CHILDREN * sizeof(*c));
        size_t nc = 0;
        rc = rhis_ind_children(db, defs, d, area, rhis_period_year(year), c,
                               MAX_CHILDREN, &nc);
        if (rc != RHIS_OK) {
            json_object_put(o);
            json_object_put(arr);
            return rhis_req_errorf(req, rc, "cannot compute child values");
        }
        for (size_t i = 0; i < nc && i < MAX_CHILDREN; i++) {
            json_object *x = json_object_new_object();
            int ok = (c[i].v.flags &
                      (RHIS_IND_FLAG_NODATA | RHIS_IND_FLAG_ENTERED)) == 0;
            json_object_object_add(x, "code",
                                   json_object_new_string(c[i].code));
            json_object_object_add(x, "name",
                                   json_object_new_string(c[i].name));
            json_object_object_add(x, "value", jnum(ok, c[i].v.value));
            json_object_object_add(x, "numerator",
                                   rhis_json_new_double(c[i].v.numerator));
            json_object_object_add(x, "denominator",
                                   rhis_json_new_double(c[i].v.denominator));
            json_object_object_add(
                x, "small_numbers",
                json_object_new_boolean((c[i].v.flags & RHIS_IND_FLAG_SMALL) !=
                                        0));
            json_object_array_add(arr, x);
        }
    }
    json_object_object_add(o, "children", arr);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* GET /api/v1/plans/{plan}/report?year=Y&format=html|csv */
rhis_status
api_plan_report(rhis_req *req, rhis_resp *resp)
{
    int year;
    rhis_db *db = NULL;
    rhis_plan p;
    memset(&p, 0, sizeof(p));
    rhis_status rc = query_year(req, &year);
    if (rc == RHIS_OK)
        rc = plan_from_path(req, &db, &p);
    if (rc != RHIS_OK)
        return rc;
    const char *fmt = rhis_req_query(req, "format");
    int csv = fmt != NULL && strcmp(fmt, "csv") == 0;
    if (fmt != NULL && !csv && strcmp(fmt, "html") != 0)
        return rhis_req_errorf(req, RHIS_EINVAL, "format must be html or csv");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return rhis_req_errorf(req, RHIS_EINTERNAL, "out of memory");
    char err[256] = "";
    rc = rhis_plan_report(db, p.id, year, csv ? RHIS_PLAN_CSV : RHIS_PLAN_HTML,
                          f, err, sizeof(err));
    fclose(f);
    if (rc == RHIS_OK)
        rhis_resp_text(resp, 200,
                       csv ? "text/csv; charset=utf-8"
                           : "text/html; charset=utf-8",
                       text, len);
    rhis_free(text); /* open_memstream's buffer (libc malloc) */
    return rc == RHIS_OK ? RHIS_OK : rhis_req_errorf(req, rc, "%s", err);
}

/* ---- entered values ---- */

static json_object *
entered_json(const rhis_plan_entered *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(e->id));
    json_object_object_add(o, "measure", json_object_new_string(e->measure));
    json_object_object_add(o, "area", json_object_new_string(e->area));
    json_object_object_add(o, "year", json_object_new_int(e->year));
    json_object_object_add(o, "value", rhis_json_new_double(e->value));
    json_object_object_add(o, "source", json_object_new_string(e->source));
    json_object_object_add(o, "person", json_object_new_string(e->person));
    json_object_object_add(o, "note", jstr_or_null(e->note));
    json_object_object_add(o, "entered_by", jstr_or_null(e->username));
    json_object_object_add(o, "entered_ms",
                           json_object_new_int64(e->entered_ms));
    return o;
}

/* GET /api/v1/entered-values?area=CODE[&measure=M][&from=Y&to=Y] */
rhis_status
api_entered_list(rhis_req *req, rhis_resp *resp)
{
    const char *area = rhis_req_query(req, "area");
    const char *measure = rhis_req_query(req, "measure");
    const char *fs = rhis_req_query(req, "from"),
               *ts = rhis_req_query(req, "to");
    int from = fs != NULL ? rhis_parse_int(fs) : 1949;
    int to = ts != NULL ? rhis_parse_int(ts) : 2100;
    if (area == NULL || rhis_area_code_level(area) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "area (a division code) is required");
    if (from < 1949 || to > 2100 || to < from)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "from/to must be years 1949..2100");
    rhis_status rc = rhis_req_check_area(req, area);
    rhis_db *db = NULL;
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan_entered *e;
    size_t n;
    rc =
        rhis_plan_entered_list(db, req->arena, measure, area, from, to, &e, &n);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read entered values");
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, entered_json(&e[i]));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "values", arr);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static rhis_status
entered_commit(rhis_req *req, rhis_resp *resp)
{
    rhis_plan_entry *e = req->defer_data;
    rhis_db *db = NULL;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    char err[256] = "";
    int64_t id = 0;
    rc = rhis_plan_enter(db, e, &id, err, sizeof(err));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "%s",
                               err[0] != '\0' ? err : "cannot save");
    char *rid = rhis_arena_printf(req->arena, "%lld", (long long)id);
    rc = rhis_req_audit(req, db, "C", "enter-value", "PlanEnteredValue", rid,
                        201);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot audit");
    req->audit_done = 1;
    rhis_plan_entered x = {id,          e->measure,    e->area,   e->year,
                           e->value,    e->source,     e->person, e->note,
                           e->username, plans_now_ms()};
    json_object *o = entered_json(&x);
    rhis_resp_json(resp, 201, o);
    json_object_put(o);
    return RHIS_OK;
}

static rhis_status
body_text(rhis_req *req,
          json_object *body,
          const char *key,
          int required,
          const char **out)
{
    json_object *v = rhis_json_get(body, key);
    *out = NULL;
    if (v == NULL || json_object_is_type(v, json_type_null)) {
        if (!required)
            return RHIS_OK;
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL, "'%s' is required", key);
    }
    if (!json_object_is_type(v, json_type_string)) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL, "'%s' must be a string", key);
    }
    *out = rhis_arena_strdup(req->arena, json_object_get_string(v));
    return RHIS_OK;
}

/* POST /api/v1/entered-values {measure, area, year, value, source, person,
 * note?} */
rhis_status
api_entered_create(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    if (!json_object_is_type(body, json_type_object))
        return rhis_req_errorf(req, RHIS_EINVAL, "body must be an object");
    static const char *const allowed[] = {"measure", "area",   "year", "value",
                                          "source",  "person", "note", NULL};
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        int ok = 0;
        for (int i = 0; allowed[i] != NULL; i++)
            ok |= strcmp(allowed[i], key) == 0;
        if (!ok) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown member '%s' (allowed: measure,"
                                   " area, year, value, source, person, note)",
                                   key);
        }
    }
    rhis_plan_entry *e = rhis_arena_calloc(req->arena, sizeof(*e));
    if (rc == RHIS_OK)
        rc = body_text(req, body, "measure", 1, &e->measure);
    if (rc == RHIS_OK)
        rc = body_text(req, body, "area", 1, &e->area);
    if (rc == RHIS_OK)
        rc = body_text(req, body, "source", 1, &e->source);
    if (rc == RHIS_OK)
        rc = body_text(req, body, "person", 1, &e->person);
    if (rc == RHIS_OK)
        rc = body_text(req, body, "note", 0, &e->note);
    if (rc != RHIS_OK)
        return rc;
    int64_t y;
    if (rhis_json_get_int(body, "year", &y) != RHIS_OK || y < 1949 ||
        y > 2100) {
        rhis_req_error_expr(req, "year");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "'year' must be an integer 1949..2100");
    }
    e->year = (int)y;
    json_object *v = rhis_json_get(body, "value");
    if (v == NULL || !(json_object_is_type(v, json_type_double) ||
                       json_object_is_type(v, json_type_int))) {
        rhis_req_error_expr(req, "value");
        return rhis_req_errorf(req, RHIS_EINVAL, "'value' must be a number");
    }
    e->value = json_object_get_double(v);
    if (rhis_area_code_level(e->area) == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "area must be a division"
                               " code");
    if ((rc = rhis_req_check_area(req, e->area)) != RHIS_OK)
        return rc;
    if (req->user != NULL) {
        e->user_id = req->user->user_id;
        e->username = req->user->username;
    }
    req->audit_type = "PlanEnteredValue";
    req->defer_data = e;
    return rhis_req_write(req, resp, entered_commit);
}
