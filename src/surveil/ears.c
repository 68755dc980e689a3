/*
 * ears.c - EARS C1, C2, C3 (CDC Early Aberration Reporting System), the
 * textbook C3 and a mode that reproduces R surveillance::earsC's C3.
 *
 * Why: EARS is the short-baseline detector CIDARS and most health
 * departments compare against; the cross-check against R earsC (1.20.3)
 * is exact (tests/surveil/golden/).  The formulas and the package's C3
 * quirk are in detect.h and docs/surveillance.md.
 *
 * Cost: O(B) per point with the two-pass mean/sd of each window, which is
 * both exact to R's rounding and faster than R by three orders (bench/).
 */
#include <math.h>
#include <string.h>

#include "detect_int.h"
#include "rhis/detect.h"

static double
default_alpha(rhis_detect_ears_kind kind)
{
    return kind == RHIS_DETECT_C1 || kind == RHIS_DETECT_C2 ? 0.001 : 0.025;
}

/*
 * (y - mean) / sigma, defined where sigma is 0 (a flat baseline with
 * min_sigma 0): +INFINITY above the mean, -INFINITY below, 0 at the mean.
 */
static double
ears_stat(double y, double mean, double sigma)
{
    if (sigma > 0.0)
        return (y - mean) / sigma;
    if (y > mean)
        return INFINITY;
    return y < mean ? -INFINITY : 0.0;
}

static double
c3_part(double c2)
{
    return c2 - 1.0 > 0.0 ? c2 - 1.0 : 0.0;
}

/* Mean and sd of the window ending `lag_to` points before t, B long. */
static void
window_stats(
    const double *y, size_t t, int b, int lag_to, double *mean, double *sd)
{
    detect_mean_sd(y + t - (size_t)lag_to - (size_t)b + 1, b, mean, sd);
}

static void
run_c12(const rhis_detect_series *s,
        const rhis_detect_ears_opts *o,
        double z,
        size_t from,
        size_t to,
        rhis_detect_result *res)
{
    int b = o->baseline;
    int lag = o->kind == RHIS_DETECT_C1 ? 1 : 3;
    size_t first = (size_t)(b + lag - 1);
    for (size_t t = from > first ? from : first; t < to; t++) {
        double mean, sd;
        window_stats(s->y, t, b, lag, &mean, &sd);
        double sigma = sd > o->min_sigma ? sd : o->min_sigma;
        double ub = mean + z * sigma;
        res->upper[t] = ub;
        res->alarm[t] = (int8_t)(s->y[t] > ub);
        res->cols[0][t] = mean;
        res->cols[1][t] = sd;
        res->cols[2][t] = ears_stat(s->y[t], mean, sigma);
    }
}

static void
run_c3(const rhis_detect_series *s,
       const rhis_detect_ears_opts *o,
       double z,
       size_t from,
       size_t to,
       rhis_detect_result *res)
{
    int b = o->baseline;
    size_t first = (size_t)b + 4;
    size_t start = from > first ? from : first;
    double p1 = 0.0, p2 = 0.0; /* p(t-1), p(t-2) */
    if (start >= to)
        return;
    /* C2 at start-2 .. to-1; the first two only seed p(t-1), p(t-2). */
    for (size_t i = start - 2; i < to; i++) {
        double mean, sd;
        window_stats(s->y, i, b, 3, &mean, &sd);
        double sigma = sd > o->min_sigma ? sd : o->min_sigma;
        double c2 = ears_stat(s->y[i], mean, sigma);
        double p0 = c3_part(c2);
        if (i >= start) {
            double c3 = p0 + p1 + p2;
            double r = z - p1 - p2;
            res->cols[0][i] = mean;
            res->cols[1][i] = sd;
            res->cols[2][i] = c2;
            res->cols[3][i] = c3;
            if (o->kind == RHIS_DETECT_C3) {
                /* Textbook: alarm iff C3 > z; as a count bound see
                 * detect.h (r < 0 alarms whatever y is; upper 0). */
                res->alarm[i] = (int8_t)(c3 > z);
                res->upper[i] = r >= 0.0 ? mean + sigma * (1.0 + r) : 0.0;
            } else {
                /* earsC: max(0, y + sigma (z - p(t-1) - p(t-2))). */
                double ub;
                if (sigma > 0.0)
                    ub = s->y[i] + sigma * r;
                else
                    ub = isinf(r) ? 0.0 : s->y[i];
                if (!(ub > 0.0))
                    ub = 0.0; /* also turns -INFINITY into 0, as R */
                res->upper[i] = ub;
                res->alarm[i] = (int8_t)(s->y[i] > ub);
                res->cols[4][i] = p1 + p2;
            }
        }
        p2 = p1;
        p1 = p0;
    }
}

rhis_status
rhis_detect_ears(const rhis_detect_series *s,
                 const rhis_detect_ears_opts *o,
                 size_t from,
                 size_t to,
                 rhis_detect_result *res,
                 char *err,
                 size_t errlen)
{
    rhis_status st = rhis_detect_check(s, from, to, res, err, errlen);
    if (st != RHIS_OK)
        return st;
    if (o->kind < RHIS_DETECT_C1 || o->kind > RHIS_DETECT_C3_COMPAT) {
        detect_errf(err, errlen, "EARS: unknown kind %d", (int)o->kind);
        return RHIS_EINVAL;
    }
    if (o->baseline < 3 || o->baseline > 3650) {
        detect_errf(err, errlen, "EARS: baseline must be 3..3650");
        return RHIS_EINVAL;
    }
    if (!(o->min_sigma >= 0.0) || !isfinite(o->min_sigma)) {
        detect_errf(err, errlen, "EARS: min-sigma must be >= 0");
        return RHIS_EINVAL;
    }
    int want = o->kind == RHIS_DETECT_C3_COMPAT ? 5
               : o->kind == RHIS_DETECT_C3      ? 4
                                                : 3;
    if (res->ncols < want) {
        detect_errf(err, errlen, "EARS: result has %d columns, needs %d",
                    res->ncols, want);
        return RHIS_EINVAL;
    }
    double alpha = o->alpha < 0.0 ? default_alpha(o->kind) : o->alpha;
    if (!(alpha > 0.0 && alpha <= 0.5)) {
        detect_errf(err, errlen, "EARS: alpha must be in (0, 0.5]");
        return RHIS_EINVAL;
    }
    double z = detect_qnorm(1.0 - alpha);
    rhis_detect_result_clear(res);
    if (o->kind == RHIS_DETECT_C1 || o->kind == RHIS_DETECT_C2)
        run_c12(s, o, z, from, to, res);
    else
        run_c3(s, o, z, from, to, res);
    return RHIS_OK;
}

/* ---- method table rows ------------------------------------------------- */

static void
defaults_kind(void *opts, rhis_detect_ears_kind kind)
{
    rhis_detect_ears_opts *o = opts;
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->baseline = 7;
    o->min_sigma = 0.0;
    o->alpha = -1.0;
}

static void
defaults_c1(void *opts)
{
    defaults_kind(opts, RHIS_DETECT_C1);
}

static void
defaults_c2(void *opts)
{
    defaults_kind(opts, RHIS_DETECT_C2);
}

static void
defaults_c3(void *opts)
{
    defaults_kind(opts, RHIS_DETECT_C3);
}

static void
defaults_c3_compat(void *opts)
{
    defaults_kind(opts, RHIS_DETECT_C3_COMPAT);
}

static rhis_status
set_opt(
    void *opts, const char *name, const char *value, char *err, size_t errlen)
{
    rhis_detect_ears_opts *o = opts;
    if (strcmp(name, "baseline") == 0)
        return detect_opt_int(name, value, 3, 3650, &o->baseline, err, errlen);
    if (strcmp(name, "min-sigma") == 0)
        return detect_opt_double(name, value, 0.0, 1e9, &o->min_sigma, err,
                                 errlen);
    if (strcmp(name, "alpha") == 0)
        return detect_opt_double(name, value, 1e-12, 0.5, &o->alpha, err,
                                 errlen);
    return detect_opt_unknown("EARS", name, err, errlen);
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
    return rhis_detect_ears(s, opts, from, to, res, err, errlen);
}

#define EARS_HELP                                                              \
    "  --baseline B    baseline length in points, >= 3 (7)\n"                  \
    "  --min-sigma S   floor on the baseline sd (0)\n"

const rhis_detect_method rhis_detect_method_ears_c1 = {
    .name = "ears-c1",
    .summary = "EARS C1: window t-7..t-1, alarm if y > mean + z sd",
    .opt_help = EARS_HELP "  --alpha A       one-sided level (0.001)\n",
    .opts_size = sizeof(rhis_detect_ears_opts),
    .ncols = 3,
    .col_names = {"mean", "sd", "stat"},
    .defaults = defaults_c1,
    .set_opt = set_opt,
    .run = run,
};

const rhis_detect_method rhis_detect_method_ears_c2 = {
    .name = "ears-c2",
    .summary = "EARS C2: window t-9..t-3 (2-day guard band)",
    .opt_help = EARS_HELP "  --alpha A       one-sided level (0.001)\n",
    .opts_size = sizeof(rhis_detect_ears_opts),
    .ncols = 3,
    .col_names = {"mean", "sd", "stat"},
    .defaults = defaults_c2,
    .set_opt = set_opt,
    .run = run,
};

const rhis_detect_method rhis_detect_method_ears_c3 = {
    .name = "ears-c3",
    .summary = "EARS C3 (textbook): sum of max(0, C2-1) over t-2..t > z",
    .opt_help = EARS_HELP "  --alpha A       one-sided level (0.025)\n",
    .opts_size = sizeof(rhis_detect_ears_opts),
    .ncols = 4,
    .col_names = {"mean", "sd", "c2", "stat"},
    .defaults = defaults_c3,
    .set_opt = set_opt,
    .run = run,
};

const rhis_detect_method rhis_detect_method_ears_c3_compat = {
    .name = "ears-c3-compat",
    .summary = "EARS C3 as R surveillance::earsC computes it (cross-check)",
    .opt_help = EARS_HELP "  --alpha A       one-sided level (0.025)\n",
    .opts_size = sizeof(rhis_detect_ears_opts),
    .ncols = 5,
    .col_names = {"mean", "sd", "c2", "stat", "p12"},
    .defaults = defaults_c3_compat,
    .set_opt = set_opt,
    .run = run,
};
