/*
 * mpm.c - the CIDARS moving percentile method (移动百分位数法, MPM):
 * the count of the last 7 days against a percentile of the same 7-day
 * period and its 2 neighbouring periods on each side in each of the past
 * 3 years (15 historical sums).
 *
 * Why: it is China's national temporal detector (CIDARS method 2, computed
 * daily per county x disease), and the accuracy goal is stated
 * relative to its false-signal rate.  R surveillance has no MPM; the oracle
 * is quantile(H, P/100, type = 7).  Formulas and choices in detect.h.
 *
 * Cost: one prefix-sum array, then 15 block sums and a 15-value sort per
 * point.
 */
#include <math.h>
#include <string.h>

#include "detect_int.h"
#include "rhis/alloc.h"
#include "rhis/detect.h"

#define MPM_MAX_BASE 1024 /* years * (2 blocks + 1) */

rhis_status
rhis_detect_mpm(const rhis_detect_series *s,
                const rhis_detect_mpm_opts *o,
                size_t from,
                size_t to,
                rhis_detect_result *res,
                char *err,
                size_t errlen)
{
    rhis_status st = rhis_detect_check(s, from, to, res, err, errlen);
    if (st != RHIS_OK)
        return st;
    if (res->ncols < 2) {
        detect_errf(err, errlen, "mpm: result needs 2 columns");
        return RHIS_EINVAL;
    }
    long year = s->step == 1 ? 365 : 52;
    long L = o->window, Y = o->years, K = o->blocks;
    if (L < 1 || Y < 1 || K < 0 || Y > 50 || Y * (2 * K + 1) > MPM_MAX_BASE) {
        detect_errf(err, errlen,
                    "mpm: need window >= 1, 1 <= years <= 50, blocks >= 0 "
                    "and years * (2 blocks + 1) <= %d",
                    MPM_MAX_BASE);
        return RHIS_EINVAL;
    }
    if (L * (K + 1) > year) {
        detect_errf(err, errlen,
                    "mpm: window * (blocks + 1) = %ld exceeds a year (%ld "
                    "points): the baseline would overlap the current window",
                    L * (K + 1), year);
        return RHIS_EINVAL;
    }
    if (!(o->pct >= 0.0 && o->pct <= 100.0) ||
        !(o->min_count >= 0.0 && o->min_count < 1e12)) {
        detect_errf(err, errlen,
                    "mpm: pct must be in [0, 100], min-count >= 0");
        return RHIS_EINVAL;
    }
    rhis_detect_result_clear(res);
    size_t first = (size_t)(year * Y + L * K + L - 1);
    size_t start = from > first ? from : first;
    if (start >= to)
        return RHIS_OK;

    /* cum[i] = y[0] + ... + y[i-1]: exact in double for counts < 2^53. */
    double *cum = rhis_xmalloc((to + 1) * sizeof(double));
    cum[0] = 0.0;
    for (size_t i = 0; i < to; i++)
        cum[i + 1] = cum[i] + s->y[i];
    double base[MPM_MAX_BASE];
    for (size_t t = start; t < to; t++) {
        size_t nb = 0;
        for (long j = 1; j <= Y; j++) {
            for (long b = -K; b <= K; b++) {
                size_t a = (size_t)((long)t - year * j + L * b);
                base[nb++] = cum[a + 1] - cum[a + 1 - (size_t)L];
            }
        }
        double thr = rhis_detect_quantile7(base, nb, o->pct / 100.0);
        double obs = cum[t + 1] - cum[t + 1 - (size_t)L];
        int hit = o->ge ? obs >= thr : obs > thr;
        res->alarm[t] = (int8_t)(hit && obs >= o->min_count);
        res->upper[t] = thr - (obs - s->y[t]);
        res->cols[0][t] = obs;
        res->cols[1][t] = thr;
    }
    rhis_free(cum);
    return RHIS_OK;
}

/* ---- method table row -------------------------------------------------- */

static void
defaults(void *opts)
{
    rhis_detect_mpm_opts *o = opts;
    memset(o, 0, sizeof(*o));
    o->window = 7;
    o->years = 3;
    o->blocks = 2;
    o->pct = 50.0;
    o->ge = 0;
    o->min_count = 1.0;
}

static rhis_status
set_opt(
    void *opts, const char *name, const char *value, char *err, size_t errlen)
{
    rhis_detect_mpm_opts *o = opts;
    if (strcmp(name, "window") == 0)
        return detect_opt_int(name, value, 1, 366, &o->window, err, errlen);
    if (strcmp(name, "years") == 0)
        return detect_opt_int(name, value, 1, 50, &o->years, err, errlen);
    if (strcmp(name, "blocks") == 0)
        return detect_opt_int(name, value, 0, 100, &o->blocks, err, errlen);
    if (strcmp(name, "pct") == 0 || strcmp(name, "percentile") == 0)
        return detect_opt_double(name, value, 0.0, 100.0, &o->pct, err, errlen);
    if (strcmp(name, "ge") == 0)
        return detect_opt_int(name, value, 0, 1, &o->ge, err, errlen);
    if (strcmp(name, "min-count") == 0)
        return detect_opt_double(name, value, 0.0, 1e9, &o->min_count, err,
                                 errlen);
    return detect_opt_unknown("mpm", name, err, errlen);
}

static rhis_status
run(const rhis_detect_series *s,
    const void *opts,
    size_t from,
    size_t to,
    rhis_detect_result *res,
    char *err,
    size_t errlen)
{
    return rhis_detect_mpm(s, opts, from, to, res, err, errlen);
}

const rhis_detect_method rhis_detect_method_mpm = {
    .name = "mpm",
    .summary = "CIDARS moving percentile: last 7 days vs P50 of 15 past "
               "periods",
    .opt_help =
        "  --window L      current window in points (7)\n"
        "  --years Y       past years in the baseline (3)\n"
        "  --blocks K      neighbouring periods on each side (2)\n"
        "  --pct P         percentile of the 15 sums, R type 7 (50)\n"
        "  --ge 0|1        1: signal when the window sum >= threshold (0: >)\n"
        "  --min-count N   no signal below N cases in the window (1)\n"
        "  (upper is the day's count-equivalent: threshold minus the other\n"
        "  L-1 days of the window; a year is 365 days or 52 weeks)\n",
    .opts_size = sizeof(rhis_detect_mpm_opts),
    .ncols = 2,
    .col_names = {"window", "threshold"},
    .defaults = defaults,
    .set_opt = set_opt,
    .run = run,
};
