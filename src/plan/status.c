/*
 * status.c - where each plan row stands in a year: value, trend, linear
 * projection to the target year, and a state (met, on track, at risk,
 * off track, no data).
 *
 * Why: planners evaluate every year against targets stated in several
 * ways ("≤4", "提高0.5岁左右", "每年降低0.5个百分点", "比2015年降低10%");
 * one rule turns each into a level and a comparison, so the same row is
 * judged the same way by the API, the report and the dashboard.  The rule
 * is documented in docs/internals/plan.md ("Status").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plans_int.h"
#include "rhis/indicator.h"

int
rhis_plan_goal(const rhis_plan_row *r, double *goal, char *cmp)
{
    const char *op = r->op;
    if (!r->has_target)
        return 0;
    if (strcmp(op, "<=") == 0 || strcmp(op, "<") == 0) {
        *cmp = '<';
        *goal = r->target;
        return 1;
    }
    if (strcmp(op, ">=") == 0 || strcmp(op, ">") == 0) {
        *cmp = '>';
        *goal = r->target;
        return 1;
    }
    if (strcmp(op, "=") == 0 || strcmp(op, "approx") == 0) {
        if (strcmp(op, "approx") != 0 && strcmp(r->direction, "up") == 0)
            *cmp = '>';
        else if (strcmp(op, "approx") != 0 && strcmp(r->direction, "down") == 0)
            *cmp = '<';
        else
            *cmp = '~';
        *goal = r->target;
        return 1;
    }
    int inc = strcmp(op, "increase_by") == 0;
    if (!inc && strcmp(op, "decrease_by") != 0)
        return 0; /* text, none */
    if (!r->has_baseline)
        return 0;
    double delta;
    if (strcmp(r->change, "relative") == 0) {
        delta = r->baseline * r->target / 100.0;
    } else if (strcmp(r->change, "per_year") == 0) {
        if (r->baseline_year == 0 || r->target_year <= r->baseline_year)
            return 0;
        delta = r->target * (r->target_year - r->baseline_year);
    } else {
        delta = r->target;
    }
    *goal = inc ? r->baseline + delta : r->baseline - delta;
    *cmp = inc ? '>' : '<';
    return 1;
}

int
rhis_plan_meets(double v, double goal, char cmp)
{
    double eps = 1e-9 * (fabs(goal) + 1);
    switch (cmp) {
    case '<':
        return v <= goal + eps;
    case '>':
        return v >= goal - eps;
    default: {
        double tol = fabs(goal) * 0.05;
        return fabs(v - goal) <= (tol > 0 ? tol : 0.05) + eps;
    }
    }
}

int
rhis_plan_fit(
    const int *years, const double *v, int n, double *intercept, double *slope)
{
    if (n < 2)
        return 0;
    double sx = 0, sy = 0;
    for (int i = 0; i < n; i++) {
        sx += years[i];
        sy += v[i];
    }
    double mx = sx / n, my = sy / n, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (years[i] - mx) * (years[i] - mx);
        sxy += (years[i] - mx) * (v[i] - my);
    }
    if (sxx <= 0)
        return 0;
    *slope = sxy / sxx;
    *intercept = my - *slope * mx;
    return 1;
}

rhis_plan_state
rhis_plan_classify(const rhis_plan_status *s,
                   int year,
                   int target_year,
                   const char **reason)
{
    if (!s->has_goal) {
        *reason = "the target is not a number (or needs a baseline the plan"
                  " does not give)";
        return RHIS_PLAN_NO_DATA;
    }
    if (!s->has_value) {
        *reason = "no value for the year";
        return RHIS_PLAN_NO_DATA;
    }
    if (rhis_plan_meets(s->value, s->goal, s->cmp)) {
        *reason = "the value meets the target";
        return RHIS_PLAN_MET;
    }
    if (target_year <= year) {
        *reason = "the target year has come and the target is not met";
        return RHIS_PLAN_OFF_TRACK;
    }
    if (s->has_projection) {
        if (rhis_plan_meets(s->projection, s->goal, s->cmp)) {
            *reason = "the linear trend reaches the target by the target"
                      " year";
            return RHIS_PLAN_ON_TRACK;
        }
        int toward = s->cmp == '<'   ? s->slope < 0
                     : s->cmp == '>' ? s->slope > 0
                                     : (s->goal - s->value) * s->slope > 0;
        if (toward) {
            *reason = "improving, but the linear trend misses the target";
            return RHIS_PLAN_AT_RISK;
        }
        *reason = "the trend is flat or moves away from the target";
        return RHIS_PLAN_OFF_TRACK;
    }
    double gap =
        fabs(s->value - s->goal) / (fabs(s->goal) > 1e-9 ? fabs(s->goal) : 1.0);
    if (gap <= 0.10) {
        *reason = "within 10 % of the target; too few years for a trend";
        return RHIS_PLAN_AT_RISK;
    }
    *reason = "more than 10 % from the target; too few years for a trend";
    return RHIS_PLAN_OFF_TRACK;
}

const char *
rhis_plan_state_name(rhis_plan_state s)
{
    switch (s) {
    case RHIS_PLAN_MET:
        return "met";
    case RHIS_PLAN_ON_TRACK:
        return "on_track";
    case RHIS_PLAN_AT_RISK:
        return "at_risk";
    case RHIS_PLAN_OFF_TRACK:
        return "off_track";
    case RHIS_PLAN_NO_DATA:
        break;
    }
    return "no_data";
}

const char *
rhis_plan_state_zh(rhis_plan_state s)
{
    switch (s) {
    case RHIS_PLAN_MET:
        return "已达标";
    case RHIS_PLAN_ON_TRACK:
        return "进度正常";
    case RHIS_PLAN_AT_RISK:
        return "有风险";
    case RHIS_PLAN_OFF_TRACK:
        return "偏离目标";
    case RHIS_PLAN_NO_DATA:
        break;
    }
    return "无数据";
}

/* Is the row's measure computed from the records (not entered)? */
static const rhis_indicator *
computed_def(const rhis_ind_defs *defs, const rhis_plan_row *r)
{
    if (defs == NULL || strchr(r->measure, ':') != NULL)
        return NULL;
    const rhis_indicator *d = rhis_ind_find(defs, r->indicator);
    return d != NULL && d->method != RHIS_IND_ENTERED ? d : NULL;
}

/* Values of a computed indicator for the trend years. */
static rhis_status
trend_computed(rhis_db *db,
               const rhis_ind_defs *defs,
               const rhis_indicator *d,
               const char *area,
               int last,
               rhis_plan_status *s)
{
    s->ntrend = 0;
    for (int y = last - RHIS_PLAN_TREND_YEARS + 1; y <= last; y++) {
        rhis_ind_value v;
        rhis_status rc =
            rhis_ind_value_get(db, defs, d, area, rhis_period_year(y), &v);
        if (rc != RHIS_OK)
            return rc;
        int i = s->ntrend++;
        s->trend_year[i] = y;
        s->trend_ok[i] =
            (v.flags & (RHIS_IND_FLAG_NODATA | RHIS_IND_FLAG_ENTERED)) == 0;
        s->trend[i] = s->trend_ok[i] ? v.value : 0;
        if (y == last) {
            s->has_value = s->trend_ok[i];
            s->value = v.value;
            s->value_year = y;
            s->flags = v.flags;
            s->value_from = s->trend_ok[i] ? "records" : "";
        }
    }
    return RHIS_OK;
}

static rhis_status
trend_entered(rhis_db *db,
              rhis_arena *a,
              const rhis_plan_row *r,
              const char *area,
              int last,
              rhis_plan_status *s)
{
    rhis_plan_entered *e;
    size_t n;
    rhis_status rc =
        rhis_plan_entered_list(db, a, r->measure, area,
                               last - RHIS_PLAN_TREND_YEARS + 1, last, &e, &n);
    if (rc != RHIS_OK)
        return rc;
    s->ntrend = 0;
    for (int y = last - RHIS_PLAN_TREND_YEARS + 1; y <= last; y++) {
        int i = s->ntrend++;
        s->trend_year[i] = y;
        s->trend_ok[i] = 0;
        s->trend[i] = 0;
        for (size_t k = 0; k < n; k++)
            if (e[k].year == y) {
                s->trend_ok[i] = 1;
                s->trend[i] = e[k].value;
            }
    }
    if (n > 0) { /* newest first */
        s->has_value = 1;
        s->value = e[0].value;
        s->value_year = e[0].year;
        s->value_from = "entered";
        s->entered_source = e[0].source;
        s->entered_person = e[0].person;
    }
    return RHIS_OK;
}

/* Fits the trend (and the plan's baseline when fewer than two years were
 * observed) and projects to the target year. */
static void
project(rhis_plan_status *s, int target_year)
{
    int years[RHIS_PLAN_TREND_YEARS + 1];
    double v[RHIS_PLAN_TREND_YEARS + 1];
    int n = 0;
    for (int i = 0; i < s->ntrend; i++)
        if (s->trend_ok[i]) {
            years[n] = s->trend_year[i];
            v[n++] = s->trend[i];
        }
    const rhis_plan_row *r = s->row;
    if (n < 2 && r->has_baseline && r->baseline_year > 0 &&
        (n == 0 || years[0] != r->baseline_year)) {
        years[n] = r->baseline_year;
        v[n++] = r->baseline;
    }
    double a, b;
    if (rhis_plan_fit(years, v, n, &a, &b)) {
        s->has_projection = 1;
        s->slope = b;
        s->projection = a + b * target_year;
        /* a straight line leaves the possible range: every indicator is
         * non-negative and a share stays within 100 % */
        if (s->projection < 0)
            s->projection = 0;
        if (strcmp(r->unit, "%") == 0 && s->projection > 100)
            s->projection = 100;
    }
}

static int
binding(const rhis_plan_row *r)
{
    return strcmp(r->attribute, "约束性") == 0;
}

static int
cmp_status(const void *x, const void *y)
{
    const rhis_plan_status *a = x, *b = y;
    int ba = binding(a->row), bb = binding(b->row);
    if (ba != bb)
        return bb - ba;
    return a->row->row - b->row->row;
}

rhis_status
rhis_plan_status_get(rhis_db *db,
                     rhis_arena *a,
                     const char *plan,
                     int year,
                     rhis_plan_status **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    rhis_plan p;
    rhis_status rc = rhis_plan_get(db, a, plan, &p);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan_row *rows;
    size_t nrows;
    rc = rhis_plan_rows(db, a, plan, &rows, &nrows);
    if (rc != RHIS_OK)
        return rc;
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    rhis_plan_status *v = rhis_arena_calloc(a, (nrows + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < nrows && rc == RHIS_OK; i++) {
        const rhis_plan_row *r = &rows[i];
        if (strcmp(r->kind, "target") != 0)
            continue;
        rhis_plan_status *s = &v[k++];
        s->row = r;
        s->value_from = "";
        int ty = r->target_year != 0 ? r->target_year : p.horizon;
        /* a target whose year has passed is judged on that year */
        int last = ty < year ? ty : year;
        s->has_goal = rhis_plan_goal(r, &s->goal, &s->cmp);
        const rhis_indicator *d = computed_def(defs, r);
        if (d != NULL)
            rc = trend_computed(db, defs, d, p.area, last, s);
        else
            rc = trend_entered(db, a, r, p.area, last, s);
        if (rc != RHIS_OK)
            break;
        project(s, ty);
        s->state = rhis_plan_classify(s, year, ty, &s->reason);
    }
    if (rc != RHIS_OK)
        return rc;
    qsort(v, k, sizeof(*v), cmp_status);
    *out = v;
    *n = k;
    return RHIS_OK;
}
