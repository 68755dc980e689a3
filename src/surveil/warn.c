/*
 * warn.c - the daily detection run: count series from the report cards
 * and the channel counts, the configured detectors, the space-time scan,
 * fixed thresholds, and the signals they produce.
 *
 * Why: CIDARS computes once a day, per county and disease, and pushes what
 * it finds to the duty staff; the platform does the same for day D from
 * the tables of the report-card module (surveil_card, surveil_alert,
 * channel_count: migration 3) with the detectors of rhis/detect.h and the
 * scan of rhis/scan.h.  The run only reads those tables and only writes
 * signals (through rhis_signal_put, whose key makes a rerun of D add
 * nothing twice) and its warn_run row.
 *
 * What runs, for day D (docs/surveillance.md has the reasons):
 *   1. fixed threshold: every surveil_alert of D (one per card of a
 *      fixed-threshold disease, written with the card) becomes a signal;
 *      the scheduler also picks them up within a minute of the write.
 *   2. temporal, county x disease: the moving percentile method with the
 *      catalogue's percentile and minimum count, evaluated at D, for the
 *      diseases under the temporal model (mpm_percentile > 0) that had at
 *      least min_cases cases in the 7 days ending D; where MPM cannot be
 *      evaluated (less than 3 years of history) EARS C3 instead.
 *   3. spatial: for each county x disease with a temporal alarm and at
 *      least 3 cases in the 7 days ending D, the prospective space-time
 *      permutation scan over the county's townships (study period 26
 *      weeks, windows up to 7 days); clusters with p < 0.05 become signals (the
 * CIDARS pilot chained its space-time model to the temporal one).
 *   4. channels, township x channel x category: EARS C2 at D when D's
 *      count is at least 3.
 *   5. multi-point fusion (rhis/fusion.h, data/fusion-rules.csv) over the
 *      signals of the rules' windows ending D, dismissed ones excluded:
 *      each rule that fires in an area is one fused signal, and its
 *      members point to it (fused_into).  Which syndrome a signal speaks
 *      for comes from the table syndrome_of() below.
 * Only series that can alarm are built, which is what keeps a province's
 * run short: the few county x disease pairs with recent cases, not every
 * township x disease x channel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/detect.h"
#include "rhis/fusion.h"
#include "rhis/json.h"
#include "rhis/log.h"
#include "rhis/scan.h"
#include "rhis/surveil.h"
#include "rhis/warn.h"
#include "warn_int.h"

#define MPM_HISTORY    (3 * 365 + 2 * 7 + 7 + 7) /* 3 years + 5 weeks */
#define EVIDENCE_DAYS  56 /* days of series kept in a signal */
#define EVIDENCE_CURVE 28 /* days with a threshold curve */
/* study period of the scan: 26 weeks, so that in a quiet county the
 * township of an outbreak still holds less than the zone limit (half of
 * the period's cases) and the cylinder can be evaluated at all */
#define SCAN_DAYS      182
#define SCAN_WINDOW    7 /* longest cluster window */
#define SCAN_MIN_CASES 3
#define SCAN_ALPHA     0.05
#define CHANNEL_DAYS   56
#define CHANNEL_MIN    3 /* channel count on D before EARS may signal */
#define LIVE_CARD      "status NOT IN ('deleted', 'merged')"

static const char *data_dir(const rhis_warn_opts *o);

/* ---- collected signals ---- */

typedef struct pending {
    rhis_signal_spec s;
    int64_t at_ms; /* creation time (the alert's, for fixed signals) */
} pending;

typedef struct run {
    rhis_db *db;
    rhis_arena *a;
    const rhis_warn_opts *o;
    rhis_warn_result *r;
    const char *day;
    int64_t d;
    int64_t now;
    pending *p;
    size_t np, cap;
    char missing[256];
} run;

static void
add_missing(run *x, const char *what)
{
    size_t n = strlen(x->missing);
    snprintf(x->missing + n, sizeof(x->missing) - n, "%s%s", n > 0 ? "; " : "",
             what);
}

static pending *
push(run *x)
{
    if (x->np == x->cap) {
        x->cap = x->cap == 0 ? 64 : 2 * x->cap;
        x->p = rhis_xrealloc(x->p, sizeof(pending) * x->cap);
    }
    pending *p = &x->p[x->np++];
    memset(p, 0, sizeof(*p));
    p->s.expected = NAN;
    p->s.upper = NAN;
    p->at_ms = x->now;
    return p;
}

static const char *
day_text(run *x, int64_t d)
{
    char *b = rhis_arena_alloc(x->a, 11);
    warn_day_format(d, b, 11);
    return b;
}

/* Keeps the JSON text of o in the run's arena and releases o. */
static const char *
keep_json(run *x, json_object *o)
{
    const char *t = rhis_arena_strdup(x->a, rhis_json_print(o));
    json_object_put(o);
    return t;
}

/* ---- 1. fixed threshold ---- */

static rhis_status
fixed_signals(run *x)
{
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT id, disease_code, card_id, area_code, day, created_ms"
        " FROM surveil_alert WHERE day = ? ORDER BY id",
        "s", x->day);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        pending *p = push(x);
        const char *disease = rhis_db_column_text(st, 1);
        int64_t card = rhis_db_column_int64(st, 2);
        const rhis_disease *dz = NULL;
        (void)rhis_disease_find(disease, x->day, &dz);
        p->s.kind = "fixed";
        p->s.method = "fixed";
        p->s.subject_type = "disease";
        p->s.subject = rhis_arena_strdup(x->a, disease);
        p->s.subject_name =
            dz != NULL ? rhis_arena_strdup(x->a, dz->name) : NULL;
        p->s.area_code = rhis_arena_strdup(x->a, rhis_db_column_text(st, 3));
        p->s.day = rhis_arena_strdup(x->a, rhis_db_column_text(st, 4));
        p->s.key_extra = rhis_arena_printf(x->a, "card:%lld", (long long)card);
        p->s.observed = 1;
        p->s.upper = 0;
        p->at_ms = rhis_db_column_int64(st, 5);
        json_object *ev = json_object_new_object();
        json_object_object_add(
            ev, "rule",
            json_object_new_string("one case of a fixed-threshold disease "
                                   "(固定阈值法)"));
        json_object_object_add(ev, "card", json_object_new_int64(card));
        json_object_object_add(
            ev, "alert", json_object_new_int64(rhis_db_column_int64(st, 0)));
        p->s.evidence = keep_json(x, ev);
        x->r->alarms++;
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

/* ---- series helpers ---- */

/* Fills y[0..n-1] (day0 = first day) from a (day, count) query. */
static rhis_status
fill_series(rhis_stmt *st, double *y, size_t n, int64_t day0)
{
    memset(y, 0, sizeof(double) * n);
    rhis_status rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        int64_t d;
        if (warn_day_parse(rhis_db_column_text(st, 0), &d) != 0)
            continue;
        if (d >= day0 && d < day0 + (int64_t)n)
            y[d - day0] += (double)rhis_db_column_int64(st, 1);
    }
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

static json_object *
num_or_null(double v)
{
    return isnan(v) ? NULL : rhis_json_new_double(v);
}

/*
 * The evidence of a temporal alarm: the last EVIDENCE_DAYS days of y, and
 * for the last EVIDENCE_CURVE days the method's upper bound (and window
 * and threshold columns when it has them) from a rerun over that range.
 */
static json_object *
series_evidence(const rhis_detect_method *m,
                const void *opts,
                const rhis_detect_series *s,
                const char *colname_a,
                const char *colname_b)
{
    size_t n = s->n;
    size_t from = n > EVIDENCE_CURVE ? n - EVIDENCE_CURVE : 0;
    rhis_detect_result res;
    rhis_detect_result_init(&res, m, n);
    char err[128];
    if (m->run(s, opts, from, n, &res, err, sizeof(err)) != RHIS_OK)
        rhis_detect_result_clear(&res);
    int ca = -1, cb = -1;
    for (int c = 0; c < m->ncols; c++) {
        if (colname_a != NULL && strcmp(m->col_names[c], colname_a) == 0)
            ca = c;
        if (colname_b != NULL && strcmp(m->col_names[c], colname_b) == 0)
            cb = c;
    }
    json_object *arr = json_object_new_array();
    size_t first = n > EVIDENCE_DAYS ? n - EVIDENCE_DAYS : 0;
    for (size_t i = first; i < n; i++) {
        json_object *pt = json_object_new_object();
        char date[11];
        rhis_detect_format_date(s->day0 + (int64_t)i, date);
        json_object_object_add(pt, "date", json_object_new_string(date));
        json_object_object_add(pt, "count", rhis_json_new_double(s->y[i]));
        int evaluable = res.alarm[i] != RHIS_DETECT_NA;
        json_object_object_add(pt, "upper",
                               evaluable ? num_or_null(res.upper[i]) : NULL);
        if (ca >= 0)
            json_object_object_add(
                pt, colname_a, evaluable ? num_or_null(res.cols[ca][i]) : NULL);
        if (cb >= 0)
            json_object_object_add(
                pt, colname_b, evaluable ? num_or_null(res.cols[cb][i]) : NULL);
        json_object_object_add(
            pt, "alarm",
            evaluable ? json_object_new_boolean(res.alarm[i] == 1) : NULL);
        json_object_array_add(arr, pt);
    }
    rhis_detect_result_fini(&res);
    return arr;
}

/* The 15 CIDARS baseline sums of MPM at the last point (for display). */
static json_object *
mpm_baseline(const rhis_detect_series *s, const rhis_detect_mpm_opts *o)
{
    json_object *arr = json_object_new_array();
    int64_t t = (int64_t)s->n - 1;
    for (int j = 1; j <= o->years; j++)
        for (int b = -o->blocks; b <= o->blocks; b++) {
            int64_t end = t - 365LL * j + (int64_t)o->window * b;
            if (end - o->window + 1 < 0 || end >= (int64_t)s->n)
                continue;
            double sum = 0;
            for (int64_t k = end - o->window + 1; k <= end; k++)
                sum += s->y[k];
            json_object *it = json_object_new_object();
            char date[11];
            rhis_detect_format_date(s->day0 + end, date);
            json_object_object_add(it, "end", json_object_new_string(date));
            json_object_object_add(it, "count", rhis_json_new_double(sum));
            json_object_array_add(arr, it);
        }
    return arr;
}

/* ---- 2. temporal, county x disease ---- */

typedef struct pair {
    const char *county, *disease;
    int64_t recent; /* cases in the 7 days ending D */
    int alarm;      /* temporal alarm at D */
} pair;

static rhis_status
load_pairs(run *x, int days, int min_cases, pair **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT county_code, disease_code, COUNT(*) FROM surveil_card"
        " WHERE " LIVE_CARD " AND diagnosis_day >= ? AND diagnosis_day <= ?"
        " GROUP BY county_code, disease_code ORDER BY 1, 2",
        "ss", day_text(x, x->d - days + 1), x->day);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        if (rhis_db_column_int64(st, 2) < min_cases)
            continue;
        if (*n == cap) {
            cap = cap == 0 ? 64 : 2 * cap;
            pair *np = rhis_arena_alloc(x->a, sizeof(pair) * cap);
            if (*n > 0)
                memcpy(np, *out, sizeof(pair) * *n);
            *out = np;
        }
        pair *p = &(*out)[(*n)++];
        p->county = rhis_arena_strdup(x->a, rhis_db_column_text(st, 0));
        p->disease = rhis_arena_strdup(x->a, rhis_db_column_text(st, 1));
        p->recent = rhis_db_column_int64(st, 2);
        p->alarm = 0;
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

static void
temporal_signal(run *x,
                const pair *pr,
                const rhis_disease *dz,
                const rhis_detect_method *m,
                const void *opts,
                const rhis_detect_series *s,
                const rhis_detect_result *res,
                json_object *params)
{
    size_t t = s->n - 1;
    pending *p = push(x);
    p->s.kind = "temporal";
    p->s.method = m->name;
    p->s.subject_type = "disease";
    p->s.subject = pr->disease;
    p->s.subject_name = rhis_arena_strdup(x->a, dz->name);
    p->s.area_code = pr->county;
    p->s.day = x->day;
    int is_mpm = strcmp(m->name, "mpm") == 0;
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "params", params);
    if (is_mpm) {
        /* MPM compares 7-day sums: observed and threshold are sums */
        p->s.period_start = day_text(x, x->d - 6);
        p->s.observed = res->cols[0][t];
        p->s.upper = res->cols[1][t];
        json_object_object_add(
            ev, "baseline",
            mpm_baseline(s, (const rhis_detect_mpm_opts *)opts));
        json_object_object_add(
            ev, "series", series_evidence(m, opts, s, "window", "threshold"));
        json_object_object_add(ev, "measure",
                               json_object_new_string("7-day sum"));
    } else {
        p->s.observed = s->y[t];
        p->s.upper = res->upper[t];
        p->s.expected = res->cols[0][t]; /* the baseline mean */
        json_object_object_add(ev, "series",
                               series_evidence(m, opts, s, "mean", NULL));
        json_object_object_add(ev, "measure",
                               json_object_new_string("daily count"));
    }
    json_object_object_add(ev, "threshold", num_or_null(p->s.upper));
    p->s.evidence = keep_json(x, ev);
}

static rhis_status
temporal_signals(run *x, pair *pairs, size_t npairs)
{
    const rhis_detect_method *mpm = rhis_detect_method_find("mpm");
    const rhis_detect_method *c3 = rhis_detect_method_find("ears-c3");
    if (mpm == NULL || c3 == NULL) {
        add_missing(x, "detectors mpm/ears-c3 not built");
        return RHIS_OK;
    }
    int hist = x->o->history_days > 0 ? x->o->history_days : MPM_HISTORY;
    double *y = rhis_xcalloc((size_t)hist, sizeof(double));
    void *mo = rhis_xcalloc(1, mpm->opts_size);
    void *eo = rhis_xcalloc(1, c3->opts_size);
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_prepare(
        x->db,
        "SELECT diagnosis_day, COUNT(*) FROM surveil_card"
        " WHERE county_code = ? AND disease_code = ? AND " LIVE_CARD
        " AND diagnosis_day >= ? AND diagnosis_day <= ?"
        " GROUP BY diagnosis_day",
        &st);
    int64_t day0 = x->d - hist + 1;
    const char *from = day_text(x, day0);
    const char *cur_county = NULL;
    int64_t reporting_from = day0;
    for (size_t i = 0; i < npairs && rc == RHIS_OK; i++) {
        pair *pr = &pairs[i];
        if (cur_county == NULL || strcmp(cur_county, pr->county) != 0) {
            /* the county's first card: days before it are no data, not
             * zero cases (else MPM runs on an all-zero baseline for the
             * first 3 years and the EARS C3 fallback never runs) */
            cur_county = pr->county;
            reporting_from = day0;
            rhis_stmt *fs = NULL;
            rc = rhis_db_query(x->db, &fs,
                               "SELECT MIN(diagnosis_day) FROM surveil_card"
                               " WHERE county_code = ?",
                               "s", pr->county);
            int64_t fd;
            if (rc == RHIS_OK && (rc = rhis_db_step(fs)) == RHIS_ROW &&
                rhis_db_column_text(fs, 0) != NULL &&
                warn_day_parse(rhis_db_column_text(fs, 0), &fd) == 0 &&
                fd > day0)
                reporting_from = fd < x->d ? fd : x->d;
            rhis_db_finalize(fs);
            if (rc != RHIS_ROW && rc != RHIS_DONE && rc != RHIS_OK)
                break;
            rc = RHIS_OK;
        }
        const rhis_disease *dz = NULL;
        if (rhis_disease_find(pr->disease, x->day, &dz) != RHIS_OK ||
            dz->fixed_threshold || dz->mpm_percentile <= 0)
            continue;
        int minc = dz->min_cases > 0 ? dz->min_cases : 1;
        if (pr->recent < minc)
            continue;
        rhis_db_reset(st);
        rhis_db_bind_text(st, 1, pr->county);
        rhis_db_bind_text(st, 2, pr->disease);
        rhis_db_bind_text(st, 3, from);
        rhis_db_bind_text(st, 4, x->day);
        if ((rc = fill_series(st, y, (size_t)hist, day0)) != RHIS_OK)
            break;
        x->r->series++;
        size_t skip = (size_t)(reporting_from - day0);
        rhis_detect_series s = {y + skip, (size_t)hist - skip, reporting_from,
                                1};
        char err[160], val[32];
        mpm->defaults(mo);
        snprintf(val, sizeof(val), "%d", dz->mpm_percentile);
        rhis_status orc = mpm->set_opt(mo, "pct", val, err, sizeof(err));
        snprintf(val, sizeof(val), "%d", minc);
        if (orc == RHIS_OK)
            orc = mpm->set_opt(mo, "min-count", val, err, sizeof(err));
        rhis_detect_result res;
        rhis_detect_result_init(&res, mpm, s.n);
        if (orc == RHIS_OK)
            orc = mpm->run(&s, mo, s.n - 1, s.n, &res, err, sizeof(err));
        const rhis_detect_method *used = mpm;
        const void *uopts = mo;
        json_object *params = json_object_new_object();
        if (orc == RHIS_OK && res.alarm[s.n - 1] == RHIS_DETECT_NA) {
            /* under 3 years of history: EARS C3 over the last days */
            rhis_detect_result_fini(&res);
            c3->defaults(eo);
            rhis_detect_result_init(&res, c3, s.n);
            orc = c3->run(&s, eo, s.n - 1, s.n, &res, err, sizeof(err));
            used = c3;
            uopts = eo;
            json_object_object_add(
                params, "fallback",
                json_object_new_string("less than 3 years of history for the "
                                       "moving percentile method"));
        } else {
            json_object_object_add(params, "percentile",
                                   json_object_new_int(dz->mpm_percentile));
            json_object_object_add(params, "window", json_object_new_int(7));
            json_object_object_add(params, "years", json_object_new_int(3));
            json_object_object_add(params, "blocks", json_object_new_int(2));
        }
        json_object_object_add(params, "minCases", json_object_new_int(minc));
        int alarm = orc == RHIS_OK && res.alarm[s.n - 1] == 1 &&
                    (used == mpm || s.y[s.n - 1] >= 1);
        const char *method = used->name;
        if (orc != RHIS_OK)
            rhis_log(RHIS_LOG_WARN,
                     "msg=\"detector failed\" method=%s county=%s "
                     "disease=%s err=\"%s\"",
                     method, pr->county, pr->disease, err);
        if (alarm) {
            pr->alarm = 1;
            x->r->alarms++;
            temporal_signal(x, pr, dz, used, uopts, &s, &res, params);
        } else {
            json_object_put(params);
        }
        rhis_detect_result_fini(&res);
    }
    rhis_db_finalize(st);
    rhis_free(mo);
    rhis_free(eo);
    rhis_free(y);
    return rc;
}

/* ---- 3. spatial: the scan over a county's townships ---- */

typedef struct centroid {
    char code[16];
    double lat, lon;
} centroid;

static int
cmp_centroid(const void *a, const void *b)
{
    return strcmp(((const centroid *)a)->code, ((const centroid *)b)->code);
}

/* Township centroids: the mean position of the institutions in each
 * township (the area table has no geometry). */
static rhis_status
load_centroids(run *x, centroid **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT substr(area_code, 1, 9), AVG(lat), AVG(lon) FROM institution"
        " WHERE lat IS NOT NULL AND lon IS NOT NULL"
        " AND length(area_code) >= 9 GROUP BY substr(area_code, 1, 9)",
        "");
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        if (*n == cap) {
            cap = cap == 0 ? 256 : 2 * cap;
            centroid *nc = rhis_arena_alloc(x->a, sizeof(centroid) * cap);
            if (*n > 0)
                memcpy(nc, *out, sizeof(centroid) * *n);
            *out = nc;
        }
        centroid *c = &(*out)[(*n)++];
        snprintf(c->code, sizeof(c->code), "%s", rhis_db_column_text(st, 0));
        c->lat = rhis_db_column_double(st, 1);
        c->lon = rhis_db_column_double(st, 2);
    }
    rhis_db_finalize(st);
    if (*n > 1)
        qsort(*out, *n, sizeof(centroid), cmp_centroid);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

static uint64_t
mix_seed(uint64_t seed, const char *s)
{
    uint64_t h = seed ^ 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Stores one significant cluster of the scan as a spatial signal. */
static void
cluster_signal(run *x,
               const pair *pr,
               const rhis_scan_input *in,
               const rhis_scan_result *res,
               const rhis_scan_cluster *cl)
{
    const rhis_disease *dz = NULL;
    (void)rhis_disease_find(pr->disease, x->day, &dz);
    x->r->alarms++;
    pending *p = push(x);
    p->s.kind = "spatial";
    p->s.method = "stp-scan";
    p->s.subject_type = "disease";
    p->s.subject = pr->disease;
    p->s.subject_name = dz != NULL ? rhis_arena_strdup(x->a, dz->name) : NULL;
    p->s.area_code = in->locs[cl->centre].code;
    p->s.day = x->day;
    p->s.period_start = day_text(x, cl->start_day);
    p->s.observed = (double)cl->observed;
    p->s.expected = cl->expected;
    json_object *ev = json_object_new_object();
    json_object *tw = json_object_new_array();
    for (int m = 0; m < cl->nlocs; m++) {
        int z = cl->locs[m];
        int64_t c = 0;
        for (int dd = cl->start; dd <= cl->end; dd++)
            c += in->counts[(size_t)z * SCAN_DAYS + (size_t)dd];
        json_object *t = json_object_new_object();
        json_object_object_add(t, "area",
                               json_object_new_string(in->locs[z].code));
        json_object_object_add(t, "cases", json_object_new_int64(c));
        json_object_array_add(tw, t);
    }
    json_object_object_add(ev, "townships", tw);
    json_object_object_add(ev, "county", json_object_new_string(pr->county));
    json_object_object_add(ev, "llr", rhis_json_new_double(cl->llr));
    json_object_object_add(ev, "p", rhis_json_new_double(cl->p));
    json_object_object_add(ev, "relativeRisk",
                           rhis_json_new_double(cl->rr_inside));
    json_object_object_add(ev, "radiusKm", rhis_json_new_double(cl->radius_km));
    json_object_object_add(ev, "replications",
                           json_object_new_int(res->replications));
    json_object_object_add(ev, "studyDays", json_object_new_int(SCAN_DAYS));
    json_object_object_add(ev, "maxWindow", json_object_new_int(SCAN_WINDOW));
    p->s.evidence = keep_json(x, ev);
}

static rhis_status
scan_pair(run *x, const pair *pr, const centroid *cs, size_t ncs)
{
    /* the county's townships with a centroid */
    size_t clen = strlen(pr->county);
    int nloc = 0;
    rhis_scan_location *locs =
        rhis_arena_alloc(x->a, sizeof(rhis_scan_location) * (ncs + 1));
    for (size_t i = 0; i < ncs; i++)
        if (strncmp(cs[i].code, pr->county, clen) == 0) {
            locs[nloc].code = cs[i].code;
            locs[nloc].lat = cs[i].lat;
            locs[nloc].lon = cs[i].lon;
            nloc++;
        }
    if (nloc < 2)
        return RHIS_OK;
    int32_t *counts =
        rhis_arena_calloc(x->a, sizeof(int32_t) * (size_t)nloc * SCAN_DAYS);
    int64_t day0 = x->d - SCAN_DAYS + 1;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT township_code, diagnosis_day, COUNT(*) FROM surveil_card"
        " WHERE county_code = ? AND disease_code = ? AND " LIVE_CARD
        " AND diagnosis_day >= ? AND diagnosis_day <= ?"
        " GROUP BY township_code, diagnosis_day",
        "ssss", pr->county, pr->disease, day_text(x, day0), x->day);
    int64_t total = 0;
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        const char *tc = rhis_db_column_text(st, 0);
        int64_t d;
        if (tc == NULL || warn_day_parse(rhis_db_column_text(st, 1), &d) != 0)
            continue;
        for (int z = 0; z < nloc; z++)
            if (strcmp(locs[z].code, tc) == 0) {
                int64_t c = rhis_db_column_int64(st, 2);
                counts[(size_t)z * SCAN_DAYS + (size_t)(d - day0)] +=
                    (int32_t)c;
                total += c;
                break;
            }
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rc;
    if (total < SCAN_MIN_CASES)
        return RHIS_OK;
    rhis_scan_input in = {locs, nloc, SCAN_DAYS, day0, counts};
    rhis_scan_params sp;
    rhis_scan_params_init(&sp);
    sp.max_window = SCAN_WINDOW;
    sp.prospective = 1;
    sp.replications = x->o->scan_replicas > 0 ? x->o->scan_replicas : 999;
    sp.seed =
        mix_seed(x->o->seed != 0 ? x->o->seed : (uint64_t)x->d,
                 rhis_arena_printf(x->a, "%s|%s", pr->county, pr->disease));
    sp.max_clusters = 3;
    rhis_scan_result *res = NULL;
    char err[200];
    rhis_status src = rhis_scan_run(x->a, &in, &sp, &res, err, sizeof(err));
    rhis_log(RHIS_LOG_DEBUG,
             "msg=scan county=%s disease=%s locations=%d cases=%lld "
             "clusters=%d p=%g",
             pr->county, pr->disease, nloc, (long long)total,
             src == RHIS_OK ? res->nclusters : -1,
             src == RHIS_OK && res->nclusters > 0 ? res->clusters[0].p : 1.0);
    if (src != RHIS_OK) {
        rhis_log(RHIS_LOG_WARN,
                 "msg=\"scan failed\" county=%s disease=%s err=\"%s\"",
                 pr->county, pr->disease, err);
        return RHIS_OK;
    }
    for (int k = 0; k < res->nclusters; k++)
        if (res->clusters[k].p < SCAN_ALPHA)
            cluster_signal(x, pr, &in, res, &res->clusters[k]);
    return RHIS_OK;
}

static rhis_status
spatial_signals(run *x, const pair *pairs, size_t npairs)
{
    centroid *cs;
    size_t ncs;
    rhis_status rc = load_centroids(x, &cs, &ncs);
    for (size_t i = 0; i < npairs && rc == RHIS_OK; i++)
        if (pairs[i].alarm)
            rc = scan_pair(x, &pairs[i], cs, ncs);
    return rc;
}

/* ---- 4. channels ---- */

static void
channel_group(run *x,
              const char *township,
              const char *channel,
              const char *category,
              const double *y,
              size_t n,
              int64_t day0,
              const rhis_detect_method *m,
              void *opts)
{
    if (y[n - 1] < CHANNEL_MIN)
        return;
    x->r->series++;
    rhis_detect_series s = {y, n, day0, 1};
    rhis_detect_result res;
    rhis_detect_result_init(&res, m, n);
    char err[160];
    m->defaults(opts);
    if (m->run(&s, opts, n - 1, n, &res, err, sizeof(err)) == RHIS_OK &&
        res.alarm[n - 1] == 1) {
        x->r->alarms++;
        pending *p = push(x);
        p->s.kind = "temporal";
        p->s.method = m->name;
        p->s.subject_type = "channel";
        p->s.subject = rhis_arena_printf(x->a, "%s:%s", channel, category);
        p->s.area_code = rhis_arena_strdup(x->a, township);
        p->s.day = x->day;
        p->s.observed = y[n - 1];
        p->s.upper = res.upper[n - 1];
        p->s.expected = res.cols[0][n - 1];
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "channel", json_object_new_string(channel));
        json_object_object_add(ev, "category",
                               json_object_new_string(category));
        json_object_object_add(ev, "measure",
                               json_object_new_string("daily count"));
        json_object_object_add(ev, "threshold", num_or_null(p->s.upper));
        json_object *params = json_object_new_object();
        json_object_object_add(params, "minCount",
                               json_object_new_int(CHANNEL_MIN));
        json_object_object_add(ev, "params", params);
        json_object_object_add(ev, "series",
                               series_evidence(m, opts, &s, "mean", NULL));
        p->s.evidence = keep_json(x, ev);
    }
    rhis_detect_result_fini(&res);
}

static rhis_status
channel_signals(run *x)
{
    const rhis_detect_method *m = rhis_detect_method_find("ears-c2");
    if (m == NULL) {
        add_missing(x, "detector ears-c2 not built");
        return RHIS_OK;
    }
    int64_t day0 = x->d - CHANNEL_DAYS + 1;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT township_code, channel, category, day, SUM(count)"
        " FROM channel_count WHERE day >= ? AND day <= ?"
        " AND township_code IN (SELECT DISTINCT township_code"
        "  FROM channel_count WHERE day = ? AND count >= ?)"
        " GROUP BY township_code, channel, category, day"
        " ORDER BY township_code, channel, category, day",
        "sssi", day_text(x, day0), x->day, x->day, (int64_t)CHANNEL_MIN);
    double y[CHANNEL_DAYS];
    char key[3][64] = {"", "", ""};
    int have = 0;
    void *opts = rhis_xcalloc(1, m->opts_size);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        const char *k[3] = {rhis_db_column_text(st, 0),
                            rhis_db_column_text(st, 1),
                            rhis_db_column_text(st, 2)};
        if (k[0] == NULL || k[1] == NULL || k[2] == NULL)
            continue;
        if (!have || strcmp(k[0], key[0]) != 0 || strcmp(k[1], key[1]) != 0 ||
            strcmp(k[2], key[2]) != 0) {
            if (have)
                channel_group(x, key[0], key[1], key[2], y, CHANNEL_DAYS, day0,
                              m, opts);
            for (int i = 0; i < 3; i++)
                snprintf(key[i], sizeof(key[i]), "%s", k[i]);
            memset(y, 0, sizeof(y));
            have = 1;
        }
        int64_t d;
        if (warn_day_parse(rhis_db_column_text(st, 3), &d) == 0 && d >= day0 &&
            d <= x->d)
            y[d - day0] += (double)rhis_db_column_int64(st, 4);
    }
    rhis_db_finalize(st);
    if (rc == RHIS_DONE && have)
        channel_group(x, key[0], key[1], key[2], y, CHANNEL_DAYS, day0, m,
                      opts);
    rhis_free(opts);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

/* ---- 5. multi-point fusion ---- */

static int
has(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strstr(s, *words) != NULL)
            return 1;
    return 0;
}

/*
 * The syndrome group (the rule file's "respiratory", "gastrointestinal",
 * "rash") a signal is evidence for, or NULL.  Diseases by their usual
 * presentation; channels by category; lab positives by pathogen name.
 */
static const char *
syndrome_of(const char *subject_type, const char *subject)
{
    static const char *const resp_d[] = {"influenza",
                                         "covid19",
                                         "novel_flu",
                                         "hpai",
                                         "h7n9",
                                         "sars",
                                         "pertussis",
                                         "tb",
                                         "meningococcal",
                                         "diphtheria",
                                         "mumps",
                                         "unexplained_pneumonia",
                                         "anthrax_pulmonary",
                                         NULL};
    static const char *const gi_d[] = {"cholera", "dysentery", "typhoid",
                                       "other_diarrhea", NULL};
    static const char *const rash_d[] = {"measles",       "rubella", "hfmd",
                                         "scarlet_fever", "mpox",    NULL};
    static const char *const resp_c[] = {
        "fever", "respiratory", "antipyretic", "cough_cold", "antiviral", NULL};
    static const char *const gi_c[] = {"diarrhea", "vomiting", "gi",
                                       "antidiarrheal", NULL};
    static const char *const resp_lab[] = {
        "flu", "rsv", "sars", "covid", "adeno", "mycoplasma", NULL};
    static const char *const gi_lab[] = {
        "noro", "rota", "salmonella", "shigella", "vibrio", "campylo", NULL};
    static const char *const rash_lab[] = {"measles",   "rubella",     "ev71",
                                           "coxsackie", "enterovirus", NULL};
    if (strcmp(subject_type, "disease") == 0) {
        for (int i = 0; resp_d[i] != NULL; i++)
            if (strcmp(subject, resp_d[i]) == 0)
                return "respiratory";
        for (int i = 0; gi_d[i] != NULL; i++)
            if (strcmp(subject, gi_d[i]) == 0)
                return "gastrointestinal";
        for (int i = 0; rash_d[i] != NULL; i++)
            if (strcmp(subject, rash_d[i]) == 0)
                return "rash";
        return NULL;
    }
    const char *colon = strchr(subject, ':');
    if (colon == NULL)
        return NULL;
    const char *cat = colon + 1;
    if (strncmp(subject, "intestinal_clinic:", 18) == 0)
        return "gastrointestinal";
    if (strncmp(subject, "public_report:", 14) == 0)
        return NULL;
    if (strncmp(subject, "lab_positive:", 13) == 0) {
        char low[64];
        size_t n = 0;
        for (; cat[n] != '\0' && n + 1 < sizeof(low); n++)
            low[n] =
                (char)(cat[n] >= 'A' && cat[n] <= 'Z' ? cat[n] + 32 : cat[n]);
        low[n] = '\0';
        return has(low, resp_lab)   ? "respiratory"
               : has(low, gi_lab)   ? "gastrointestinal"
               : has(low, rash_lab) ? "rash"
                                    : NULL;
    }
    if (strcmp(cat, "rash") == 0)
        return "rash";
    for (int i = 0; resp_c[i] != NULL; i++)
        if (strcmp(cat, resp_c[i]) == 0)
            return "respiratory";
    for (int i = 0; gi_c[i] != NULL; i++)
        if (strcmp(cat, gi_c[i]) == 0)
            return "gastrointestinal";
    return NULL;
}

static int
fusion_channel(const char *subject_type, const char *subject)
{
    if (strcmp(subject_type, "disease") == 0)
        return RHIS_FUSION_REPORT_CARD;
    if (strcmp(subject_type, "channel") != 0)
        return 0;
    char name[40];
    size_t n = strcspn(subject, ":");
    snprintf(name, sizeof(name), "%.*s", (int)(n < 39 ? n : 39), subject);
    return rhis_fusion_channel_parse(name);
}

/* Stores one fused signal and points its members at it. */
static rhis_status
store_fused(run *x, const rhis_fused_signal *fs)
{
    const rhis_fusion_rule *ru = fs->rule;
    char err[300];
    rhis_signal_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.kind = "fused";
    sp.method = "fusion";
    sp.subject_type = "syndrome";
    sp.subject = ru->syndrome[0] != '\0' ? ru->syndrome : "any";
    sp.subject_name = ru->name_zh;
    sp.area_code = fs->area;
    sp.day = x->day;
    sp.period_start = day_text(x, fs->first_day);
    sp.key_extra = ru->id;
    sp.observed = fs->nchannels;
    sp.expected = NAN;
    sp.upper = ru->min_channels - 1;
    sp.severity = rhis_fusion_severity_name(fs->severity);
    json_object *ev = json_object_new_object();
    json_object *rj = json_object_new_object();
    json_object_object_add(rj, "id", json_object_new_string(ru->id));
    json_object_object_add(rj, "name", json_object_new_string(ru->name_zh));
    json_object_object_add(rj, "nameEn", json_object_new_string(ru->name_en));
    json_object_object_add(rj, "minChannels",
                           json_object_new_int(ru->min_channels));
    json_object_object_add(rj, "windowDays",
                           json_object_new_int(ru->window_days));
    json_object_object_add(ev, "rule", rj);
    json_object *chs = json_object_new_array();
    for (int c = 1; c <= RHIS_FUSION_CHANNELS; c++)
        if ((fs->channels & (1u << c)) != 0)
            json_object_array_add(
                chs, json_object_new_string(rhis_fusion_channel_name(c)));
    json_object_object_add(ev, "channels", chs);
    json_object *ids = json_object_new_array();
    for (size_t k = 0; k < fs->nids; k++)
        json_object_array_add(ids, json_object_new_int64(fs->ids[k]));
    json_object_object_add(ev, "contributing", ids);
    sp.evidence = keep_json(x, ev);
    int64_t id;
    int created;
    x->r->alarms++;
    rhis_status rc = rhis_signal_put(x->db, &sp, x->o->actor, x->now, &id,
                                     &created, err, sizeof(err));
    if (rc == RHIS_EINVAL) {
        rhis_log(RHIS_LOG_WARN, "msg=\"fused signal refused\" err=\"%s\"", err);
        return RHIS_OK;
    }
    if (rc != RHIS_OK)
        return rc;
    if (created) {
        x->r->signals_new++;
        x->r->pushed++; /* fused signals are always pushed */
    } else {
        x->r->signals_seen++;
    }
    for (size_t k = 0; k < fs->nids && rc == RHIS_OK; k++)
        rc = rhis_db_run(x->db,
                         "UPDATE signal SET fused_into = ? WHERE id = ?"
                         " AND fused_into IS NULL",
                         "ii", id, fs->ids[k]);
    return rc;
}

/* Runs the rules over the stored signals of their windows ending D and
 * stores the fused signals (inside the run's transaction). */
static rhis_status
fused_signals(run *x)
{
    char path[1100], err[300];
    const char *dir = data_dir(x->o);
    snprintf(path, sizeof(path), "%s/fusion-rules.csv", dir);
    rhis_fusion_rules *rules = NULL;
    if (rhis_fusion_rules_load(path, &rules, err, sizeof(err)) != RHIS_OK) {
        add_missing(x, "multi-point fusion: rule file not loaded");
        rhis_log(RHIS_LOG_WARN, "msg=\"fusion rules not loaded\" err=\"%s\"",
                 err);
        return RHIS_OK;
    }
    int maxw = 1;
    for (size_t i = 0; i < rules->n; i++)
        if (rules->rules[i].window_days > maxw)
            maxw = rules->rules[i].window_days;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        x->db, &st,
        "SELECT id, subject_type, subject, area_code, day, severity"
        " FROM signal WHERE day >= ? AND day <= ? AND kind <> 'fused'"
        " AND state <> 'dismissed' ORDER BY id",
        "ss", day_text(x, x->d - maxw + 1), x->day);
    size_t n = 0, cap = 0;
    rhis_fusion_signal *sig = NULL;
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        const char *stype = rhis_db_column_text(st, 1);
        const char *subj = rhis_db_column_text(st, 2);
        const char *area = rhis_db_column_text(st, 3);
        int64_t day;
        if (stype == NULL || subj == NULL || area == NULL ||
            warn_day_parse(rhis_db_column_text(st, 4), &day) != 0)
            continue;
        size_t alen = strlen(area);
        int ch = fusion_channel(stype, subj);
        int sev = rhis_fusion_severity_parse(rhis_db_column_text(st, 5));
        if (ch == 0 || sev == 0 || (alen != 6 && alen != 9 && alen != 12))
            continue;
        if (n == cap) {
            cap = cap == 0 ? 128 : 2 * cap;
            rhis_fusion_signal *ns = rhis_arena_alloc(x->a, sizeof(*ns) * cap);
            if (n > 0)
                memcpy(ns, sig, sizeof(*ns) * n);
            sig = ns;
        }
        rhis_fusion_signal *f = &sig[n++];
        f->id = rhis_db_column_int64(st, 0);
        f->channel = ch;
        f->area = rhis_arena_strdup(x->a, area);
        f->day = day;
        f->severity = sev;
        f->syndrome = syndrome_of(stype, subj);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE) {
        rhis_fusion_rules_free(rules);
        return rc;
    }
    rc = RHIS_OK;
    rhis_fused_signal *out = NULL;
    size_t nout = 0;
    if (n > 0 && rhis_fusion_run(x->a, rules, sig, n, x->d, 0, &out, &nout, err,
                                 sizeof(err)) != RHIS_OK) {
        rhis_log(RHIS_LOG_WARN, "msg=\"fusion failed\" err=\"%s\"", err);
        nout = 0;
    }
    for (size_t i = 0; i < nout && rc == RHIS_OK; i++)
        rc = store_fused(x, &out[i]);
    rhis_fusion_rules_free(rules);
    return rc;
}

/* ---- the push policy (warn.h, docs/internals/signals.md) ---- */

static int
sev_rank(const char *s)
{
    static const char *const SEV[] = {"blue", "yellow", "orange", "red"};
    for (int i = 0; s != NULL && i < 4; i++)
        if (strcmp(s, SEV[i]) == 0)
            return i + 1;
    return 0;
}

/*
 * 1 when the pending signal i is pushed (needs a response), 0 when it is
 * evidence.  A failed query pushes: losing an alarm is worse than one more.
 */
static int
is_pushed(run *x, size_t i)
{
    const rhis_warn_opts *o = x->o;
    const rhis_signal_spec *s = &x->p[i].s;
    if (o->push != NULL && strcmp(o->push, "all") == 0)
        return 1;
    if (strcmp(s->kind, "temporal") != 0)
        return 1; /* fixed threshold, scan-confirmed cluster, fused */
    if (strcmp(s->subject_type, "disease") != 0)
        return 0; /* a single channel: evidence unless fused */
    const char *sev = s->severity != NULL
                          ? s->severity
                          : rhis_signal_severity(s->kind, s->subject_type,
                                                 s->observed, s->upper, 0);
    const char *floor_sev = o->push_severity != NULL ? o->push_severity : "red";
    if (sev_rank(sev) >= sev_rank(floor_sev))
        return 1;
    /* a persisting alarm the scan and fusion have not confirmed */
    int days = o->push_days > 0 ? o->push_days : 3;
    const char *from = day_text(x, x->d - days);
    const char *prev = day_text(x, x->d - 1);
    char county[8];
    snprintf(county, sizeof(county), "%.6s", s->area_code);
    int64_t earlier = 0, pushed = 0, confirmed = 0;
    if (rhis_db_scalar_int64(
            x->db, &earlier,
            "SELECT COUNT(*) FROM signal WHERE kind = 'temporal'"
            " AND subject_type = 'disease' AND subject = ? AND area_code = ?"
            " AND day >= ? AND day <= ?",
            "ssss", s->subject, s->area_code, from, prev) != RHIS_OK ||
        rhis_db_scalar_int64(
            x->db, &pushed,
            "SELECT COUNT(*) FROM signal WHERE kind = 'temporal'"
            " AND subject_type = 'disease' AND subject = ? AND area_code = ?"
            " AND day >= ? AND day <= ? AND pushed = 1",
            "ssss", s->subject, s->area_code, from, prev) != RHIS_OK ||
        rhis_db_scalar_int64(
            x->db, &confirmed,
            "SELECT COUNT(*) FROM signal WHERE area_code LIKE ?"
            " AND day >= ? AND day <= ?"
            " AND ((kind = 'spatial' AND subject = ?) OR kind = 'fused')",
            "ssss", rhis_arena_printf(x->a, "%s%%", county), from, x->day,
            s->subject) != RHIS_OK)
        return 1;
    if (earlier == 0 || pushed > 0 || confirmed > 0)
        return 0;
    /* the day's own clusters are stored after the temporal signals */
    for (size_t j = 0; j < x->np; j++) {
        const rhis_signal_spec *c = &x->p[j].s;
        if (strcmp(c->kind, "spatial") == 0 &&
            strcmp(c->subject, s->subject) == 0 &&
            strncmp(c->area_code, county, strlen(county)) == 0)
            return 0;
    }
    return 1;
}

/* ---- the run ---- */

static rhis_status
write_signals(run *x)
{
    rhis_status rc = RHIS_OK;
    char err[256];
    const rhis_actor *who = x->o->actor;
    for (size_t i = 0; i < x->np && rc == RHIS_OK; i++) {
        int64_t id;
        int created;
        x->p[i].s.background = !is_pushed(x, i);
        rc = rhis_signal_put(x->db, &x->p[i].s, who, x->p[i].at_ms, &id,
                             &created, err, sizeof(err));
        if (rc == RHIS_EINVAL) {
            /* one bad signal (an area code gone from the table) must not
             * cost the day's others */
            rhis_log(RHIS_LOG_WARN, "msg=\"signal refused\" err=\"%s\"", err);
            rc = RHIS_OK;
            continue;
        }
        if (created) {
            x->r->signals_new++;
            x->r->pushed += !x->p[i].s.background;
        } else
            x->r->signals_seen++;
    }
    return rc;
}

static const char *
data_dir(const rhis_warn_opts *o)
{
    if (o != NULL && o->data_dir != NULL)
        return o->data_dir;
    const char *e = getenv("RHIS_DATA_DIR");
    return e != NULL && e[0] != '\0' ? e : "data";
}

rhis_status
rhis_warn_run(rhis_db *db,
              const char *day,
              const rhis_warn_opts *o,
              rhis_warn_result *r,
              char *err,
              size_t errlen)
{
    rhis_warn_opts defaults;
    memset(&defaults, 0, sizeof(defaults));
    if (o == NULL)
        o = &defaults;
    memset(r, 0, sizeof(*r));
    run x;
    memset(&x, 0, sizeof(x));
    if (warn_day_parse(day, &x.d) != 0) {
        snprintf(err, errlen, "'%s' is not a date YYYY-MM-DD", day);
        return RHIS_EINVAL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rhis_status rc = rhis_disease_catalogue_load(data_dir(o), err, errlen);
    if (rc != RHIS_OK)
        return rc;
    x.db = db;
    x.a = rhis_arena_new();
    x.o = o;
    x.r = r;
    x.day = rhis_arena_strdup(x.a, day);
    x.now = warn_now_ms();
    rc = rhis_db_run(db,
                     "INSERT INTO warn_run (day, started_ms, status)"
                     " VALUES (?, ?, 'running') ON CONFLICT (day) DO UPDATE"
                     " SET started_ms = excluded.started_ms,"
                     " finished_ms = NULL, status = 'running', detail = NULL",
                     "si", day, x.now);
    pair *pairs = NULL;
    size_t npairs = 0;
    if (rc == RHIS_OK)
        rc = fixed_signals(&x);
    if (rc == RHIS_OK)
        rc = load_pairs(&x, 7, 1, &pairs, &npairs);
    if (rc == RHIS_OK)
        rc = temporal_signals(&x, pairs, npairs);
    if (rc == RHIS_OK)
        rc = spatial_signals(&x, pairs, npairs);
    if (rc == RHIS_OK)
        rc = channel_signals(&x);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = write_signals(&x);
    if (rc == RHIS_OK)
        rc = fused_signals(&x);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) +
                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    snprintf(r->missing, sizeof(r->missing), "%s", x.missing);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "UPDATE warn_run SET finished_ms = ?, status = 'ok',"
                         " series = ?, signals = ?, detail = ? WHERE day = ?",
                         "iiiss", warn_now_ms(), r->series,
                         r->signals_new + r->signals_seen,
                         x.missing[0] != '\0' ? x.missing : NULL, day);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        snprintf(err, errlen, "detection for %s failed: %s", day,
                 rhis_db_errmsg(db));
        (void)rhis_db_run(db,
                          "UPDATE warn_run SET finished_ms = ?,"
                          " status = 'failed', detail = ? WHERE day = ?",
                          "iss", warn_now_ms(), err, day);
        r->signals_new = 0;
    }
    rhis_free(x.p);
    rhis_arena_free(x.a);
    return rc;
}

/*
 * Turns fixed-threshold alerts written since the last call into signals
 * (the watermark is meta 'warn.alert_seen'), in one transaction.  *n
 * counts new signals.  The alert's creation time starts the 2 h deadline.
 */
rhis_status
warn_sync_alerts(rhis_db *db, int64_t *n)
{
    *n = 0;
    int64_t seen = 0;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        db, &st, "SELECT value FROM meta WHERE key = 'warn.alert_seen'", "");
    if (rc == RHIS_OK && rhis_db_step(st) == RHIS_ROW)
        seen = strtoll(rhis_db_column_text(st, 0), NULL, 10);
    rhis_db_finalize(st);
    int64_t top = 0;
    rc = rhis_db_scalar_int64(
        db, &top, "SELECT COALESCE(MAX(id), 0) FROM surveil_alert", "");
    if (rc != RHIS_OK || top <= seen)
        return rc;
    if (rhis_disease_catalogue_load(data_dir(NULL), NULL, 0) != RHIS_OK) {
        /* names are optional: signals are stored without them */
    }
    rhis_arena *a = rhis_arena_new();
    run x;
    memset(&x, 0, sizeof(x));
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    rhis_warn_result r;
    memset(&r, 0, sizeof(r));
    x.db = db;
    x.a = a;
    x.o = &o;
    x.r = &r;
    x.now = warn_now_ms();
    rc = rhis_db_query(db, &st,
                       "SELECT DISTINCT day FROM surveil_alert WHERE id > ?"
                       " AND id <= ?",
                       "ii", seen, top);
    const char *days[64];
    int ndays = 0;
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        if (ndays < 64)
            days[ndays++] = rhis_arena_strdup(a, rhis_db_column_text(st, 0));
    }
    rhis_db_finalize(st);
    if (rc == RHIS_DONE)
        rc = RHIS_OK;
    for (int i = 0; i < ndays && rc == RHIS_OK; i++) {
        x.day = days[i];
        rc = fixed_signals(&x);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = write_signals(&x);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "INSERT INTO meta (key, value) VALUES"
                         " ('warn.alert_seen', ?) ON CONFLICT (key) DO UPDATE"
                         " SET value = excluded.value",
                         "s", rhis_arena_printf(a, "%lld", (long long)top));
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    else
        *n = r.signals_new;
    rhis_free(x.p);
    rhis_arena_free(a);
    return rc;
}
