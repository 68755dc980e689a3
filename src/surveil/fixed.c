/*
 * fixed.c - the fixed-threshold detector (固定阈值法, CIDARS method 1).
 *
 * Why: for plague, cholera, SARS, polio, human avian influenza, pulmonary
 * anthrax and pneumonia of unknown cause (the catalogue lists them), one
 * case alerts in real time at report time, not in the nightly batch.  The
 * card module calls rhis_detect_fixed on the write with the day's count;
 * the table row lets `rhis detect` and the nightly run use it too.
 */
#include <math.h>
#include <string.h>

#include "detect_int.h"
#include "rhis/detect.h"

rhis_status
rhis_detect_fixed(const rhis_detect_series *s,
                  const rhis_detect_fixed_opts *o,
                  size_t from,
                  size_t to,
                  rhis_detect_result *res,
                  char *err,
                  size_t errlen)
{
    rhis_status st = rhis_detect_check(s, from, to, res, err, errlen);
    if (st != RHIS_OK)
        return st;
    if (!(o->k >= 1.0 && o->k < 1e9)) {
        detect_errf(err, errlen, "fixed: k must be >= 1");
        return RHIS_EINVAL;
    }
    rhis_detect_result_clear(res);
    for (size_t t = from; t < to; t++) {
        res->alarm[t] = (int8_t)(s->y[t] >= o->k);
        res->upper[t] = o->k - 1.0;
    }
    return RHIS_OK;
}

static void
defaults(void *opts)
{
    rhis_detect_fixed_opts *o = opts;
    memset(o, 0, sizeof(*o));
    o->k = 1.0;
}

static rhis_status
set_opt(
    void *opts, const char *name, const char *value, char *err, size_t errlen)
{
    rhis_detect_fixed_opts *o = opts;
    if (strcmp(name, "k") == 0)
        return detect_opt_double(name, value, 1.0, 1e9, &o->k, err, errlen);
    return detect_opt_unknown("fixed", name, err, errlen);
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
    return rhis_detect_fixed(s, opts, from, to, res, err, errlen);
}

const rhis_detect_method rhis_detect_method_fixed = {
    .name = "fixed",
    .summary = "fixed threshold: alarm when the count reaches k (1)",
    .opt_help = "  --k K           alarm when count >= K (1: a single case)\n",
    .opts_size = sizeof(rhis_detect_fixed_opts),
    .ncols = 0,
    .col_names = {NULL},
    .defaults = defaults,
    .set_opt = set_opt,
    .run = run,
};
