/*
 * value.c - indicator values for an area subtree and a period, from the
 * aggregate tables and the population table; life tables; series and
 * drill-down.
 *
 * Why: a planner asks "infant mortality of 永吉县 in 2024" or "hypertension
 * management by township, 2021-2025" and expects the answer at once.  A
 * period made of whole months is read from agg_month at the exact area
 * (a few rows per element); only the ragged ends of a day range touch
 * agg_count, by area-code prefix.  Villages have no month rows (migration
 * 8): their days are read from agg_count by key.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "rhis/alloc.h"

static int
valid_area(const char *a)
{
    size_t n = strlen(a);
    if (n > 12)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] < '0' || a[i] > '9')
            return 0;
    return n == 0 || n == 2 || n == 4 || n == 6 || n == 9 || n == 12;
}

/* The exclusive upper bound of the codes starting with prefix a. */
static void
prefix_end(const char *a, char *out, size_t len)
{
    snprintf(out, len, "%s", a);
    size_t n = strlen(out);
    if (n > 0)
        out[n - 1] = (char)(out[n - 1] + 1);
}

static int
days_in_month_of(int y, int m)
{
    rhis_period p = rhis_period_month(y, m);
    return p.to_day - p.from_day + 1;
}

static rhis_status
scalar(rhis_db *db, double *out, rhis_stmt *st)
{
    rhis_status rc = rhis_db_step(st);
    *out = 0;
    if (rc == RHIS_ROW) {
        if (!rhis_db_column_is_null(st, 0))
            *out = rhis_db_column_double(st, 0);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    (void)db;
    return rc;
}

/* Sum of element code over whole months m1..m2 (YYYYMM) at area a. */
static rhis_status
sum_months(
    rhis_db *db, const char *code, const char *a, int m1, int m2, double *out)
{
    rhis_stmt *st;
    rhis_status frc = rhis_agg_flush(db); /* this transaction's writes */
    if (frc != RHIS_OK)
        return frc;
    rhis_status rc;
    if (a[0] == '\0')
        rc = rhis_db_query(db, &st,
                           "SELECT SUM(value) FROM agg_month WHERE element = ?"
                           " AND month BETWEEN ? AND ?"
                           " AND LENGTH(area_code) = 2",
                           "sii", code, (int64_t)m1, (int64_t)m2);
    else
        rc = rhis_db_query(db, &st,
                           "SELECT SUM(value) FROM agg_month WHERE element = ?"
                           " AND area_code = ? AND month BETWEEN ? AND ?",
                           "ssii", code, a, (int64_t)m1, (int64_t)m2);
    if (rc != RHIS_OK)
        return rc;
    return scalar(db, out, st);
}

/* Sum of element code over days d1..d2 under prefix a (agg_count). */
static rhis_status
sum_days(rhis_db *db,
         const char *code,
         const char *a,
         int32_t d1,
         int32_t d2,
         double *out)
{
    rhis_stmt *st;
    rhis_status rc = rhis_agg_flush(db); /* this transaction's writes */
    if (rc != RHIS_OK)
        return rc;
    if (a[0] == '\0') {
        rc = rhis_db_query(db, &st,
                           "SELECT SUM(value) FROM agg_count WHERE element = ?"
                           " AND day BETWEEN ? AND ?",
                           "sii", code, (int64_t)d1, (int64_t)d2);
    } else if (strlen(a) >= 12) {
        /* a village (the longest code): its days by key */
        rc = rhis_db_query(db, &st,
                           "SELECT SUM(value) FROM agg_count WHERE element = ?"
                           " AND area_code = ? AND day BETWEEN ? AND ?",
                           "ssii", code, a, (int64_t)d1, (int64_t)d2);
    } else {
        char hi[16];
        prefix_end(a, hi, sizeof(hi));
        rc = rhis_db_query(db, &st,
                           "SELECT SUM(value) FROM agg_count WHERE element = ?"
                           " AND area_code >= ? AND area_code < ?"
                           " AND day BETWEEN ? AND ?",
                           "sssii", code, a, hi, (int64_t)d1, (int64_t)d2);
    }
    if (rc != RHIS_OK)
        return rc;
    return scalar(db, out, st);
}

/* Sum of a counted element (by code string) over area and period. */
static rhis_status
sum_flow(
    rhis_db *db, const char *code, const char *a, rhis_period p, double *out)
{
    *out = 0;
    int y1, m1, d1, y2, m2, d2;
    rhis_day_date(p.from_day, &y1, &m1, &d1);
    rhis_day_date(p.to_day, &y2, &m2, &d2);
    int first = y1 * 100 + m1, last = y2 * 100 + m2;
    double v = 0;
    rhis_status rc = RHIS_OK;
    if (strlen(a) > PLAN_MONTH_MAXLEN) /* no month rows below townships */
        return sum_days(db, code, a, p.from_day, p.to_day, out);
    if (first == last && (d1 != 1 || d2 != days_in_month_of(y2, m2)))
        return sum_days(db, code, a, p.from_day, p.to_day, out);
    int mfrom = first, mto = last;
    if (d1 != 1) {
        rc = sum_days(db, code, a, p.from_day, rhis_period_month(y1, m1).to_day,
                      &v);
        *out += v;
        mfrom = m1 == 12 ? (y1 + 1) * 100 + 1 : first + 1;
    }
    if (rc == RHIS_OK && d2 != days_in_month_of(y2, m2)) {
        rc = sum_days(db, code, a, rhis_period_month(y2, m2).from_day, p.to_day,
                      &v);
        *out += v;
        mto = m2 == 1 ? (y2 - 1) * 100 + 12 : last - 1;
    }
    if (rc == RHIS_OK && mfrom <= mto) {
        rc = sum_months(db, code, a, mfrom, mto, &v);
        *out += v;
    }
    return rc;
}

static rhis_status
sum_stock(rhis_db *db, const char *code, const char *a, double *out)
{
    if (strlen(a) > PLAN_MONTH_MAXLEN) /* stocks sit on day 0 */
        return sum_days(db, code, a, INT32_MIN, INT32_MAX, out);
    return sum_months(db, code, a, 0, 999999, out);
}

/* Does agg_pop hold area a (a code of 2, 4, 6 or 9 digits)? */
static int
pop_rolled(const char *a)
{
    size_t n = strlen(a);
    return n == 2 || n == 4 || n == 6 || n == 9;
}

/* Person-years of population [lo, hi) (sex 0 = both) in area a over p:
 * each year's population weighted by the share of the year in p.
 * *missing is set when some year has no population rows. */
static rhis_status
sum_pop(rhis_db *db,
        const char *a,
        int lo,
        int hi,
        char sex,
        rhis_period p,
        int end_only,
        double *out,
        int *missing)
{
    *out = 0;
    int y1, y2, m, d;
    rhis_day_date(p.from_day, &y1, &m, &d);
    rhis_day_date(p.to_day, &y2, &m, &d);
    if (end_only)
        y1 = y2;
    char hi_code[16];
    prefix_end(a, hi_code, sizeof(hi_code));
    char sx[2] = {sex, 0};
    for (int y = y1; y <= y2; y++) {
        rhis_period yp = rhis_period_year(y);
        int32_t f = p.from_day > yp.from_day ? p.from_day : yp.from_day;
        int32_t t = p.to_day < yp.to_day ? p.to_day : yp.to_day;
        double share = end_only ? 1.0
                                : (double)(t - f + 1) /
                                      (double)(yp.to_day - yp.from_day + 1);
        rhis_stmt *st;
        /* a province, city, county or township: its rows of agg_pop (the
         * population rolled up by the triggers of migration 8); a village
         * or the whole country: the population table (two texts so the
         * prefix range uses the primary key) */
        rhis_status rc =
            pop_rolled(a)
                ? rhis_db_query(db, &st,
                                "SELECT SUM(population), SUM(nrows)"
                                " FROM agg_pop WHERE area_code = ?"
                                " AND year = ? AND age_band >= ?"
                                " AND age_band < ? AND (? = '' OR sex = ?)",
                                "siiiss", a, (int64_t)y, (int64_t)lo,
                                (int64_t)hi, sx, sx)
            : a[0] == '\0'
                ? rhis_db_query(db, &st,
                                "SELECT SUM(population), COUNT(*)"
                                " FROM population WHERE year = ?"
                                " AND age_band >= ? AND age_band < ?"
                                " AND (? = '' OR sex = ?)",
                                "iiiss", (int64_t)y, (int64_t)lo, (int64_t)hi,
                                sx, sx)
                : rhis_db_query(db, &st,
                                "SELECT SUM(population), COUNT(*)"
                                " FROM population WHERE area_code >= ?"
                                " AND area_code < ? AND year = ?"
                                " AND age_band >= ? AND age_band < ?"
                                " AND (? = '' OR sex = ?)",
                                "ssiiiss", a, hi_code, (int64_t)y, (int64_t)lo,
                                (int64_t)hi, sx, sx);
        if (rc != RHIS_OK)
            return rc;
        rc = rhis_db_step(st);
        if (rc == RHIS_ROW) {
            if (rhis_db_column_int64(st, 1) == 0)
                *missing = 1;
            *out += share * rhis_db_column_double(st, 0);
            rc = RHIS_OK;
        }
        rhis_db_finalize(st);
        if (rc != RHIS_OK)
            return rc;
    }
    return RHIS_OK;
}

static rhis_status
elem_sum(rhis_db *db,
         const element *e,
         const char *a,
         rhis_period p,
         int end_only,
         double *out,
         int *missing)
{
    switch (e->kind) {
    case EK_POP:
        return sum_pop(db, a, e->lo, e->hi, e->sex, p, end_only, out, missing);
    case EK_BEDS:
    case EK_STAFF:
        return sum_stock(db, e->info.code, a, out);
    case EK_DEATHS_BAND: {
        /* all bands */
        double v = 0;
        *out = 0;
        for (int b = 0; b < PLAN_NBANDS; b++) {
            char code[64];
            snprintf(code, sizeof(code), "%s.%d", e->info.code,
                     plan_band_lo(b));
            rhis_status rc = sum_flow(db, code, a, p, &v);
            if (rc != RHIS_OK)
                return rc;
            *out += v;
        }
        return RHIS_OK;
    }
    default:
        return sum_flow(db, e->info.code, a, p, out);
    }
}

rhis_status
rhis_ind_element_sum(rhis_db *db,
                     const rhis_ind_defs *d,
                     const char *code,
                     const char *area,
                     rhis_period p,
                     double *out)
{
    *out = 0;
    if (area == NULL || !valid_area(area))
        return RHIS_EINVAL;
    const char *dot = strchr(code, '.');
    if (dot != NULL) { /* one band of a deaths_band element */
        char base[48];
        snprintf(base, sizeof(base), "%.*s", (int)(dot - code), code);
        int i = plan_elem_find(d, base);
        if (i < 0 || d->elems[i].kind != EK_DEATHS_BAND)
            return RHIS_ENOTFOUND;
        return sum_flow(db, code, area, p, out);
    }
    int i = plan_elem_find(d, code);
    if (i < 0)
        return RHIS_ENOTFOUND;
    int missing = 0;
    return elem_sum(db, &d->elems[i], area, p, 0, out, &missing);
}

static const ind_def *
def_of(const rhis_ind_defs *d, const rhis_indicator *ind)
{
    for (size_t i = 0; i < d->ninds; i++)
        if (&d->inds[i].pub == ind)
            return &d->inds[i];
    return NULL;
}

static rhis_status
expr_sum(rhis_db *db,
         const rhis_ind_defs *d,
         const term *t,
         int n,
         const char *a,
         rhis_period p,
         int end_only,
         double *out,
         int *missing)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        double v;
        rhis_status rc =
            elem_sum(db, &d->elems[t[i].elem], a, p, end_only, &v, missing);
        if (rc != RHIS_OK)
            return rc;
        *out += t[i].coef * v;
    }
    return RHIS_OK;
}

/* Person-years per 5-year band (index 0 = 0-4 ... 17 = 85+) of area a
 * over p: one grouped query per year. */
static rhis_status
pop_bands(
    rhis_db *db, const char *a, rhis_period p, double pb[18], int *missing)
{
    int y1, y2, m, d;
    rhis_day_date(p.from_day, &y1, &m, &d);
    rhis_day_date(p.to_day, &y2, &m, &d);
    char hi_code[16];
    prefix_end(a, hi_code, sizeof(hi_code));
    for (int i = 0; i < 18; i++)
        pb[i] = 0;
    for (int y = y1; y <= y2; y++) {
        rhis_period yp = rhis_period_year(y);
        int32_t f = p.from_day > yp.from_day ? p.from_day : yp.from_day;
        int32_t t = p.to_day < yp.to_day ? p.to_day : yp.to_day;
        double share =
            (double)(t - f + 1) / (double)(yp.to_day - yp.from_day + 1);
        rhis_stmt *st;
        rhis_status rc =
            pop_rolled(a) ? rhis_db_query(db, &st,
                                          "SELECT age_band, SUM(population)"
                                          " FROM agg_pop WHERE area_code = ?"
                                          " AND year = ? GROUP BY age_band"
                                          " HAVING SUM(nrows) > 0",
                                          "si", a, (int64_t)y)
            : a[0] == '\0'
                ? rhis_db_query(db, &st,
                                "SELECT age_band, SUM(population)"
                                " FROM population WHERE year = ?"
                                " GROUP BY age_band",
                                "i", (int64_t)y)
                : rhis_db_query(db, &st,
                                "SELECT age_band, SUM(population)"
                                " FROM population WHERE year = ?"
                                " AND area_code >= ? AND area_code < ?"
                                " GROUP BY age_band",
                                "iss", (int64_t)y, a, hi_code);
        if (rc != RHIS_OK)
            return rc;
        int rows = 0;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            int64_t band = rhis_db_column_int64(st, 0);
            if (band >= 0 && band <= 85 && band % 5 == 0)
                pb[band / 5] += share * rhis_db_column_double(st, 1);
            rows++;
        }
        rhis_db_finalize(st);
        if (rc != RHIS_DONE)
            return rc;
        if (rows == 0)
            *missing = 1;
    }
    return RHIS_OK;
}

/* Deaths per band and person-years per band for a life table. */
static rhis_status
band_data(rhis_db *db,
          const element *e,
          const char *a,
          rhis_period p,
          double deaths[PLAN_NBANDS],
          double pop[PLAN_NBANDS],
          int *missing)
{
    double pb[18];
    rhis_status rc = pop_bands(db, a, p, pb, missing);
    if (rc != RHIS_OK)
        return rc;
    for (int b = 0; b < PLAN_NBANDS; b++) {
        char code[64];
        snprintf(code, sizeof(code), "%s.%d", e->info.code, plan_band_lo(b));
        rc = sum_flow(db, code, a, p, &deaths[b]);
        if (rc != RHIS_OK)
            return rc;
        /* band 0 (infants) has no population of its own; band 1 holds
         * 0-4, bands 2.. are 5-9 ... 85+ */
        pop[b] = b == 0 ? 0 : pb[b - 1];
    }
    return RHIS_OK;
}

/*
 * Life expectancy at birth from deaths and person-years by band (0, 1-4,
 * 5-9 ... 85+).  pop[1] holds person-years 0-4 on entry; births the live
 * births of the period (the infant exposure).  Returns NAN when some band
 * with deaths has no exposure.
 */
double
plan_life_e0(const double deaths[PLAN_NBANDS],
             const double pop[PLAN_NBANDS],
             double births)
{
    if (births <= 0)
        return NAN;
    double l = 1.0, T = 0;
    for (int b = 0; b < PLAN_NBANDS; b++) {
        double n = b == 0 ? 1 : b == 1 ? 4 : 5;
        double expo = b == 0 ? births : b == 1 ? pop[1] - births : pop[b];
        if (b == PLAN_NBANDS - 1) {
            if (expo <= 0 || deaths[b] <= 0)
                return NAN; /* no open-interval mortality: undefined */
            T += l / (deaths[b] / expo);
            break;
        }
        double q;
        if (b == 0) {
            q = deaths[0] / births; /* probability of dying in infancy */
        } else {
            if (expo <= 0) {
                if (deaths[b] > 0)
                    return NAN;
                q = 0;
            } else {
                double M = deaths[b] / expo;
                q = n * M / (1 + (n - n / 2) * M);
            }
        }
        if (q > 1)
            q = 1;
        double a0 = b == 0 ? 0.1 : n / 2;
        double next = l * (1 - q);
        T += n * next + a0 * (l - next);
        l = next;
    }
    return T;
}

/* 1 - prod over bands 30-34 .. 65-69 of (1 - 5q). */
double
plan_ncd_premature(const double deaths[PLAN_NBANDS],
                   const double pop[PLAN_NBANDS])
{
    double surv = 1.0;
    for (int b = plan_band_of(30); b <= plan_band_of(65); b++) {
        if (pop[b] <= 0) {
            if (deaths[b] > 0)
                return NAN;
            continue;
        }
        double M = deaths[b] / pop[b];
        double q = 5 * M / (1 + 2.5 * M);
        surv *= 1 - (q > 1 ? 1 : q);
    }
    return 1 - surv;
}

static rhis_status
life_value(rhis_db *db,
           const rhis_ind_defs *d,
           const ind_def *x,
           const char *a,
           rhis_period p,
           rhis_ind_value *out)
{
    double deaths[PLAN_NBANDS], pop[PLAN_NBANDS];
    int missing = 0;
    const element *e = &d->elems[x->num[0].elem];
    rhis_status rc = band_data(db, e, a, p, deaths, pop, &missing);
    if (rc != RHIS_OK)
        return rc;
    double num = 0, den = 0, v;
    if (x->pub.method == RHIS_IND_LIFE_E0) {
        double births = 0;
        rc =
            elem_sum(db, &d->elems[x->den[0].elem], a, p, 0, &births, &missing);
        if (rc != RHIS_OK)
            return rc;
        for (int b = 0; b < PLAN_NBANDS; b++) {
            num += deaths[b];
            den += pop[b];
        }
        v = plan_life_e0(deaths, pop, births);
    } else {
        for (int b = plan_band_of(30); b <= plan_band_of(65); b++) {
            num += deaths[b];
            den += pop[b];
        }
        v = plan_ncd_premature(deaths, pop) * x->pub.factor;
    }
    out->numerator = num;
    out->denominator = den;
    if (missing)
        out->flags |= RHIS_IND_FLAG_NOPOP;
    if (isnan(v) || den <= 0) {
        out->flags |= RHIS_IND_FLAG_NODATA;
        return RHIS_OK;
    }
    out->value = v;
    if (num < x->pub.min_den)
        out->flags |= RHIS_IND_FLAG_SMALL;
    return RHIS_OK;
}

/* out->value from its numerator and denominator: no data without a
 * denominator, "small" under the indicator's minimum. */
static void
ratio_of(const rhis_indicator *pi, rhis_ind_value *out)
{
    if (out->denominator <= 0) {
        out->flags |= RHIS_IND_FLAG_NODATA;
        return;
    }
    out->value = out->numerator / out->denominator * pi->factor;
    if (out->denominator < pi->min_den)
        out->flags |= RHIS_IND_FLAG_SMALL;
}

static rhis_status
sum_value(rhis_db *db,
          const rhis_ind_defs *d,
          const ind_def *x,
          const char *a,
          rhis_period p,
          rhis_ind_value *out)
{
    memset(out, 0, sizeof(*out));
    const rhis_indicator *pi = &x->pub;
    if (pi->method == RHIS_IND_ENTERED) {
        out->flags = RHIS_IND_FLAG_ENTERED | RHIS_IND_FLAG_NODATA;
        return RHIS_OK;
    }
    if (pi->period_rule == RHIS_IND_PERIOD_END) {
        int y, m, dd;
        rhis_day_date(p.to_day, &y, &m, &dd);
        p = rhis_period_year(y);
    }
    if (pi->method != RHIS_IND_RATIO)
        return life_value(db, d, x, a, p, out);
    int missing = 0, end = pi->period_rule == RHIS_IND_PERIOD_END;
    rhis_status rc =
        expr_sum(db, d, x->num, x->nnum, a, p, end, &out->numerator, &missing);
    if (rc == RHIS_OK)
        rc = expr_sum(db, d, x->den, x->nden, a, p, end, &out->denominator,
                      &missing);
    if (rc != RHIS_OK)
        return rc;
    if (missing)
        out->flags |= RHIS_IND_FLAG_NOPOP;
    ratio_of(pi, out);
    return RHIS_OK;
}

/* Is day the first (last) day of its month? */
static int
month_start(int32_t day)
{
    int y, m, dd;
    rhis_day_date(day, &y, &m, &dd);
    return dd == 1;
}

static int
month_end(int32_t day)
{
    int y, m, dd;
    rhis_day_date(day, &y, &m, &dd);
    return dd == days_in_month_of(y, m);
}

static int
code_cmp(const void *k, const void *e)
{
    return strcmp((const char *)k, (const char *)e);
}

/*
 * The lowest township under area, from one grouped read per element: the
 * per-township loop costs two keyed queries per township (a province has
 * about 1 100: 17 ms on SQLite, 170 ms on PostgreSQL).  Only for ratios of
 * counted flows over whole months (agg_month keeps township rows); *done
 * stays 0 otherwise and the caller falls back to the loop.  codes[] holds
 * the townships in code order.
 */
static rhis_status
min_child_grouped(rhis_db *db,
                  const rhis_ind_defs *d,
                  const ind_def *x,
                  const char *area,
                  const char *hi,
                  rhis_period p,
                  char (*codes)[16],
                  size_t n,
                  rhis_ind_value *out,
                  int *found,
                  int *done)
{
    const rhis_indicator *pi = &x->pub;
    *done = 0;
    if (pi->method != RHIS_IND_RATIO || pi->period_rule == RHIS_IND_PERIOD_END)
        return RHIS_OK;
    if (!month_start(p.from_day) || !month_end(p.to_day))
        return RHIS_OK;
    int nt = x->nnum + x->nden;
    for (int i = 0; i < nt; i++) {
        const term *t = i < x->nnum ? &x->num[i] : &x->den[i - x->nnum];
        switch (d->elems[t->elem].kind) {
        case EK_POP:
        case EK_BEDS:
        case EK_STAFF:
        case EK_DEATHS_BAND:
            return RHIS_OK;
        default:
            break;
        }
    }
    rhis_status rc = rhis_agg_flush(db); /* this transaction's writes */
    if (rc != RHIS_OK)
        return rc;
    int y1, m1, d1, y2, m2, d2;
    rhis_day_date(p.from_day, &y1, &m1, &d1);
    rhis_day_date(p.to_day, &y2, &m2, &d2);
    /* num[i], den[i]: township i's numerator and denominator */
    double *num = rhis_xcalloc(2 * n, sizeof(*num));
    double *den = num + n;
    for (int i = 0; rc == RHIS_OK && i < nt; i++) {
        const term *t = i < x->nnum ? &x->num[i] : &x->den[i - x->nnum];
        double *acc = i < x->nnum ? num : den;
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "SELECT area_code, SUM(value) FROM agg_month"
                           " WHERE element = ? AND area_code >= ?"
                           " AND area_code < ? AND LENGTH(area_code) = 9"
                           " AND month BETWEEN ? AND ? GROUP BY area_code",
                           "sssii", d->elems[t->elem].info.code, area, hi,
                           (int64_t)(y1 * 100 + m1), (int64_t)(y2 * 100 + m2));
        if (rc != RHIS_OK)
            break;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            const char *c = rhis_db_column_text(st, 0);
            const char(*hit)[16] =
                c != NULL ? bsearch(c, codes, n, sizeof(*codes), code_cmp)
                          : NULL;
            if (hit != NULL)
                acc[hit - codes] +=
                    t->coef * (double)rhis_db_column_int64(st, 1);
        }
        rhis_db_finalize(st);
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
    }
    for (size_t i = 0; rc == RHIS_OK && i < n; i++) {
        rhis_ind_value v = {.numerator = num[i], .denominator = den[i]};
        ratio_of(pi, &v);
        if ((v.flags & RHIS_IND_FLAG_NODATA) ||
            (*found && v.value >= out->value))
            continue;
        *out = v;
        *found = 1;
    }
    rhis_free(num);
    *done = rc == RHIS_OK;
    return rc;
}

rhis_status
rhis_ind_value_get(rhis_db *db,
                   const rhis_ind_defs *d,
                   const rhis_indicator *ind,
                   const char *area,
                   rhis_period p,
                   rhis_ind_value *out)
{
    memset(out, 0, sizeof(*out));
    const ind_def *x = def_of(d, ind);
    if (x == NULL || area == NULL || !valid_area(area) || p.to_day < p.from_day)
        return RHIS_EINVAL;
    if (ind->area_rule != RHIS_IND_AREA_MIN_CHILD || strlen(area) >= 9 ||
        ind->method == RHIS_IND_ENTERED)
        return sum_value(db, d, x, area, p, out);
    /* the lowest township under area */
    char hi[16];
    prefix_end(area, hi, sizeof(hi));
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st,
                                   "SELECT code FROM area WHERE level = 4"
                                   " AND (? = '' OR (code >= ? AND code < ?))"
                                   " ORDER BY code",
                                   "sss", area, area, hi);
    if (rc != RHIS_OK)
        return rc;
    char(*codes)[16] = NULL;
    size_t n = 0, cap = 0;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            codes = rhis_xrealloc(codes, cap * sizeof(*codes));
        }
        const char *c = rhis_db_column_text(st, 0);
        snprintf(codes[n++], sizeof(codes[0]), "%s", c != NULL ? c : "");
    }
    rhis_db_finalize(st);
    rc = rc == RHIS_DONE ? RHIS_OK : rc;
    int found = 0;
    if (rc == RHIS_OK && n > 0) {
        int done = 0;
        rc = min_child_grouped(db, d, x, area, hi, p, codes, n, out, &found,
                               &done);
        if (rc != RHIS_OK || done)
            n = 0; /* answered (or failed) by the grouped reads */
    }
    for (size_t i = 0; rc == RHIS_OK && i < n; i++) {
        rhis_ind_value v;
        rc = sum_value(db, d, x, codes[i], p, &v);
        if (rc != RHIS_OK || (v.flags & RHIS_IND_FLAG_NODATA))
            continue;
        if (!found || v.value < out->value)
            *out = v;
        found = 1;
    }
    rhis_free(codes);
    if (rc == RHIS_OK && !found)
        rc = sum_value(db, d, x, area, p, out);
    return rc;
}

static rhis_period
cut(rhis_period whole, int32_t day, rhis_period_type pt)
{
    int y, m, dd;
    rhis_day_date(day, &y, &m, &dd);
    rhis_period c;
    switch (pt) {
    case RHIS_PERIOD_YEAR:
        c = rhis_period_year(y);
        break;
    case RHIS_PERIOD_QUARTER:
        c = rhis_period_quarter(y, (m - 1) / 3 + 1);
        break;
    case RHIS_PERIOD_MONTH:
        c = rhis_period_month(y, m);
        break;
    default:
        c.from_day = c.to_day = day;
        break;
    }
    if (c.from_day < whole.from_day)
        c.from_day = whole.from_day;
    if (c.to_day > whole.to_day)
        c.to_day = whole.to_day;
    return c;
}

rhis_status
rhis_ind_series(rhis_db *db,
                const rhis_ind_defs *d,
                const rhis_indicator *ind,
                const char *area,
                rhis_period p,
                rhis_period_type pt,
                rhis_ind_point *out,
                size_t cap,
                size_t *n)
{
    *n = 0;
    if (p.to_day < p.from_day ||
        (int64_t)p.to_day - p.from_day > (int64_t)366 * 200)
        return RHIS_EINVAL;
    for (int32_t day = p.from_day; day <= p.to_day;) {
        rhis_period c = cut(p, day, pt);
        if (*n < cap) {
            out[*n].period = c;
            rhis_status rc =
                rhis_ind_value_get(db, d, ind, area, c, &out[*n].v);
            if (rc != RHIS_OK)
                return rc;
        }
        (*n)++;
        day = c.to_day + 1;
    }
    return RHIS_OK;
}

rhis_status
rhis_ind_children(rhis_db *db,
                  const rhis_ind_defs *d,
                  const rhis_indicator *ind,
                  const char *area,
                  rhis_period p,
                  rhis_ind_child *out,
                  size_t cap,
                  size_t *n)
{
    *n = 0;
    if (area == NULL || !valid_area(area))
        return RHIS_EINVAL;
    rhis_stmt *st;
    rhis_status rc;
    if (area[0] == '\0')
        rc = rhis_db_query(db, &st,
                           "SELECT code, name FROM area"
                           " WHERE parent_code IS NULL ORDER BY code",
                           "");
    else
        rc = rhis_db_query(db, &st,
                           "SELECT code, name FROM area WHERE parent_code = ?"
                           " ORDER BY code",
                           "s", area);
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (*n < cap) {
            const char *c = rhis_db_column_text(st, 0),
                       *nm = rhis_db_column_text(st, 1);
            snprintf(out[*n].code, sizeof(out[*n].code), "%s",
                     c != NULL ? c : "");
            snprintf(out[*n].name, sizeof(out[*n].name), "%s",
                     nm != NULL ? nm : "");
        }
        (*n)++;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rc;
    size_t m = *n < cap ? *n : cap;
    for (size_t i = 0; i < m; i++) {
        if (!valid_area(out[i].code)) {
            memset(&out[i].v, 0, sizeof(out[i].v));
            out[i].v.flags = RHIS_IND_FLAG_NODATA;
            continue;
        }
        rc = rhis_ind_value_get(db, d, ind, out[i].code, p, &out[i].v);
        if (rc != RHIS_OK)
            return rc;
    }
    return RHIS_OK;
}
