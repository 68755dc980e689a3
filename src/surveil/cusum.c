/*
 * cusum.c - CUSUM with reset: R surveillance::cusum (algo.cusum,
 * trans = "standard"; Rossi, Lampugnani & Marchi 1999), i.e. Page's
 * one-sided CUSUM on Poisson counts standardized by the reference mean.
 *
 * Why: CIDARS evaluations and ESSENCE users compare against CUSUM; the
 * package default never resets in 1.20.3, so after an outbreak its
 * statistic stays high and days with 0 cases alarm (a complaint in the
 * package's issues).  We default to reset = 1 (the package's reset = TRUE
 * since 1.25.0) and keep reset = 0 for an exact comparison with 1.20.3.
 * The recursion and the options are documented in detect.h.
 */
#include <math.h>
#include <string.h>

#include "detect_int.h"
#include "rhis/detect.h"

static double
ref_mean(const double *y, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++)
        s += y[i];
    return s / (double)(hi - lo);
}

rhis_status
rhis_detect_cusum(const rhis_detect_series *s,
                  const rhis_detect_cusum_opts *o,
                  size_t from,
                  size_t to,
                  rhis_detect_result *res,
                  char *err,
                  size_t errlen)
{
    rhis_status st = rhis_detect_check(s, from, to, res, err, errlen);
    if (st != RHIS_OK)
        return st;
    if (res->ncols < 3) {
        detect_errf(err, errlen, "cusum: result needs 3 columns");
        return RHIS_EINVAL;
    }
    if (!(o->k >= 0.0 && o->k < 1e6) || !(o->h > 0.0 && o->h < 1e6) ||
        !(o->min_m >= 0.0 && o->min_m < 1e9)) {
        detect_errf(err, errlen, "cusum: need k >= 0, h > 0, min-m >= 0");
        return RHIS_EINVAL;
    }
    size_t start = from;
    double m_fixed = 0.0;
    switch (o->mref) {
    case RHIS_DETECT_CUSUM_TRAIN:
        if (start == 0)
            start = o->train > 0 ? (size_t)o->train : 0;
        if (start == 0) {
            detect_errf(err, errlen,
                        "cusum: no training period; give --from DATE (m is "
                        "the mean before it), --train N or --m VALUE");
            return RHIS_EINVAL;
        }
        if (start > s->n) {
            detect_errf(err, errlen, "cusum: training longer than the series");
            return RHIS_EINVAL;
        }
        m_fixed = ref_mean(s->y, 0, start);
        break;
    case RHIS_DETECT_CUSUM_FIXED:
        if (!(o->m >= 0.0 && o->m < 1e9)) {
            detect_errf(err, errlen, "cusum: m must be >= 0");
            return RHIS_EINVAL;
        }
        m_fixed = o->m;
        break;
    case RHIS_DETECT_CUSUM_WINDOW:
        if (o->window < 1 || o->guard < 0 || o->window > 3650 ||
            o->guard > 3650) {
            detect_errf(err, errlen, "cusum: window 1..3650, guard 0..3650");
            return RHIS_EINVAL;
        }
        if (start < (size_t)o->window + (size_t)o->guard)
            start = (size_t)o->window + (size_t)o->guard;
        break;
    default:
        detect_errf(err, errlen, "cusum: unknown m mode");
        return RHIS_EINVAL;
    }
    rhis_detect_result_clear(res);
    double prev = 0.0; /* S_{t-1}; the recursion starts at 0 on `start` */
    for (size_t t = start; t < to; t++) {
        double m = m_fixed;
        if (o->mref == RHIS_DETECT_CUSUM_WINDOW) {
            size_t hi = t - (size_t)o->guard;
            m = ref_mean(s->y, hi - (size_t)o->window, hi);
        }
        if (m < o->min_m)
            m = o->min_m;
        double y = s->y[t], z;
        if (m > 0.0)
            z = (y - m) / sqrt(m);
        else
            z = y > 0.0 ? INFINITY : 0.0; /* m == 0: any case is excess */
        double S = prev + z - o->k;
        if (!(S > 0.0))
            S = 0.0;
        int alarm = S >= o->h;
        /* The package's bound: ceil(sqrt(m) (h + k - S_{t-1}) + m), >= 0;
         * alarm iff y >= upper for integer counts. */
        double ub = sqrt(m) * (o->h + o->k - prev) + m;
        ub = ub > 0.0 ? ceil(ub) : 0.0;
        res->upper[t] = ub;
        res->alarm[t] = (int8_t)alarm;
        res->cols[0][t] = m;
        res->cols[1][t] = z;
        res->cols[2][t] = S;
        prev = alarm && o->reset ? 0.0 : S;
    }
    return RHIS_OK;
}

/* ---- method table row -------------------------------------------------- */

static void
defaults(void *opts)
{
    rhis_detect_cusum_opts *o = opts;
    memset(o, 0, sizeof(*o));
    o->k = 1.04;
    o->h = 2.26;
    o->mref = RHIS_DETECT_CUSUM_TRAIN;
    o->window = 28;
    o->guard = 0;
    o->min_m = 0.0;
    o->reset = 1;
}

static rhis_status
set_opt(
    void *opts, const char *name, const char *value, char *err, size_t errlen)
{
    rhis_detect_cusum_opts *o = opts;
    if (strcmp(name, "k") == 0)
        return detect_opt_double(name, value, 0.0, 1e6, &o->k, err, errlen);
    if (strcmp(name, "h") == 0)
        return detect_opt_double(name, value, 1e-9, 1e6, &o->h, err, errlen);
    if (strcmp(name, "m") == 0) {
        if (strcmp(value, "train") == 0) {
            o->mref = RHIS_DETECT_CUSUM_TRAIN;
            return RHIS_OK;
        }
        if (strcmp(value, "window") == 0) {
            o->mref = RHIS_DETECT_CUSUM_WINDOW;
            return RHIS_OK;
        }
        o->mref = RHIS_DETECT_CUSUM_FIXED;
        return detect_opt_double(name, value, 0.0, 1e9, &o->m, err, errlen);
    }
    if (strcmp(name, "train") == 0)
        return detect_opt_int(name, value, 1, RHIS_DETECT_MAX_POINTS, &o->train,
                              err, errlen);
    if (strcmp(name, "window") == 0)
        return detect_opt_int(name, value, 1, 3650, &o->window, err, errlen);
    if (strcmp(name, "guard") == 0)
        return detect_opt_int(name, value, 0, 3650, &o->guard, err, errlen);
    if (strcmp(name, "min-m") == 0)
        return detect_opt_double(name, value, 0.0, 1e9, &o->min_m, err, errlen);
    if (strcmp(name, "reset") == 0)
        return detect_opt_int(name, value, 0, 1, &o->reset, err, errlen);
    return detect_opt_unknown("cusum", name, err, errlen);
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
    return rhis_detect_cusum(s, opts, from, to, res, err, errlen);
}

const rhis_detect_method rhis_detect_method_cusum = {
    .name = "cusum",
    .summary = "CUSUM on (y-m)/sqrt(m) with reset (R surveillance::cusum)",
    .opt_help =
        "  --k K           reference value (1.04)\n"
        "  --h H           decision interval, alarm if S >= h (2.26)\n"
        "  --m train|window|VALUE  reference mean: mean of the points before\n"
        "                  --from (train, the package's m = NULL), a moving\n"
        "                  window, or a number (train)\n"
        "  --train N       with no --from: the first N points are training\n"
        "  --window W      moving reference length in points (28)\n"
        "  --guard G       points skipped between window and t (0)\n"
        "  --min-m M       floor on m (0; m = 0 makes any case an excess)\n"
        "  --reset 0|1     S = 0 after an alarm (1; 0 = surveillance 1.20.3)\n",
    .opts_size = sizeof(rhis_detect_cusum_opts),
    .ncols = 3,
    .col_names = {"m", "z", "S"},
    .defaults = defaults,
    .set_opt = set_opt,
    .run = run,
};
