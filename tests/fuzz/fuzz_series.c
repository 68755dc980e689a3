/*
 * fuzz_series.c - libFuzzer target for the date,count series reader of
 * `rhis detect` (src/surveil/detect.c) and the detectors behind it.
 *
 * The first byte picks --fill-gaps; the rest is the CSV.  Oracles: a
 * parsed series has at most RHIS_DETECT_MAX_POINTS finite non-negative
 * counts; a failed parse leaves an empty series and a message; the weekly
 * series is at most n/7 long; and every cheap detector (EARS, CUSUM, MPM,
 * fixed) accepts the series, returns alarms in {-1, 0, 1} and a finite
 * upper bound wherever the alarm is not NA (never a NaN threshold).
 * Farrington is left to its own tests: a GLM per point is too slow here.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_method(const char *name, const char *spec, const rhis_detect_series *s)
{
    const rhis_detect_method *m = rhis_detect_method_find(name);
    char err[256];
    if (m == NULL)
        abort();
    void *opts = rhis_xcalloc(1, m->opts_size);
    m->defaults(opts);
    if (rhis_detect_configure(m, opts, spec, err, sizeof(err)) != RHIS_OK)
        abort();
    rhis_detect_result res;
    rhis_detect_result_init(&res, m, s->n);
    if (m->run(s, opts, 0, s->n, &res, err, sizeof(err)) != RHIS_OK)
        abort();
    for (size_t i = 0; i < s->n; i++) {
        if (res.alarm[i] < -1 || res.alarm[i] > 1)
            abort();
        if (res.alarm[i] != RHIS_DETECT_NA && !isfinite(res.upper[i]))
            abort();
    }
    rhis_detect_result_fini(&res);
    rhis_free(opts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhis_detect_daily d, w;
    char err[256] = "";
    if (size == 0)
        return 0;
    int fill = data[0] & 1;
    rhis_status st = rhis_detect_csv_parse((const char *)data + 1, size - 1,
                                           fill, &d, err, sizeof(err));
    if (st != RHIS_OK) {
        if (d.n != 0 || d.y != NULL || err[0] == '\0')
            abort();
        return 0;
    }
    if (d.n > RHIS_DETECT_MAX_POINTS)
        abort();
    for (size_t i = 0; i < d.n; i++) {
        if (!isfinite(d.y[i]) || d.y[i] < 0)
            abort();
    }
    rhis_detect_to_weekly(&d, &w);
    if (w.n > d.n / 7)
        abort();
    rhis_detect_series s = {d.y, d.n, d.day0, 1};
    rhis_detect_series sw = {w.y, w.n, w.day0, 7};
    /* Long series make the slow paths slow; the parser is the target. */
    if (d.n <= 4000) {
        check_method("ears-c1", "", &s);
        check_method("ears-c2", "min-sigma=0", &s);
        check_method("ears-c3", "baseline=3", &s);
        check_method("ears-c3-compat", "", &s);
        check_method("cusum", "m=window, window=7, reset=0", &s);
        check_method("mpm", "", &s);
        check_method("mpm", "window=1, years=1, blocks=1", &sw);
        check_method("fixed", "k=2", &s);
    }
    rhis_detect_daily_fini(&w);
    rhis_detect_daily_fini(&d);
    return 0;
}
