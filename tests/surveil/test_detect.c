/*
 * test_detect.c - unit tests for the detectors (src/surveil/detect.c,
 * ears.c, cusum.c, mpm.c, fixed.c): hand-computed cases, empty and flat
 * baselines, short series, CUSUM reset, MPM percentiles, the date,count
 * CSV reader and weekly aggregation.
 *
 * Why: the detectors feed warnings that CDC staff must act on; a NaN
 * threshold or an off-by-one window silently changes who gets called.
 * The cross-check against R is tests/surveil/golden_check.sh; these cases
 * pin the behaviour R does not define (sd 0, empty baselines).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/detect.h"
#include "surveil/detect_int.h"

#define TOL 1e-9

typedef struct run_out {
    rhis_detect_result res;
    rhis_status st;
    char err[256];
} run_out;

/* Runs method `name` with options `spec` over y[0..n-1] (daily), range
 * [from, to); to == 0 means n. */
static void
run_method(run_out *r,
           const char *name,
           const char *spec,
           const double *y,
           size_t n,
           size_t from,
           size_t to)
{
    const rhis_detect_method *m = rhis_detect_method_find(name);
    assert_non_null(m);
    void *opts = rhis_xcalloc(1, m->opts_size);
    m->defaults(opts);
    r->err[0] = '\0';
    assert_int_equal(
        rhis_detect_configure(m, opts, spec, r->err, sizeof(r->err)), RHIS_OK);
    rhis_detect_series s = {y, n, 16436 /* 2015-01-01 */, 1};
    rhis_detect_result_init(&r->res, m, n);
    r->st = m->run(&s, opts, from, to == 0 ? n : to, &r->res, r->err,
                   sizeof(r->err));
    rhis_free(opts);
}

static void
qnorm_matches_r(void **state)
{
    (void)state;
    /* R: qnorm(0.999), qnorm(0.975), qnorm(1e-10), qnorm(0.5) */
    assert_true(fabs(detect_qnorm(0.999) - 3.090232306167813) < 1e-14);
    assert_true(fabs(detect_qnorm(0.975) - 1.959963984540054) < 1e-14);
    assert_true(fabs(detect_qnorm(1e-10) - -6.361340902404056) < 1e-12);
    assert_true(detect_qnorm(0.5) == 0.0);
}

static void
ears_c1_hand_computed(void **state)
{
    static const double y[] = {1, 2, 3, 4, 5, 6, 7, 20, 4};
    run_out r;
    (void)state;
    run_method(&r, "ears-c1", "", y, 9, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    for (int i = 0; i < 7; i++)
        assert_int_equal(r.res.alarm[i], RHIS_DETECT_NA);
    assert_true(isnan(r.res.upper[0]));
    /* window 1..7: mean 4, sd sqrt(28/6) */
    double sd = sqrt(28.0 / 6.0);
    assert_true(fabs(r.res.cols[0][7] - 4.0) < TOL);
    assert_true(fabs(r.res.cols[1][7] - sd) < TOL);
    assert_true(fabs(r.res.upper[7] - (4.0 + 3.090232306167813 * sd)) < TOL);
    assert_int_equal(r.res.alarm[7], 1);
    assert_true(fabs(r.res.cols[2][7] - 16.0 / sd) < TOL);
    /* window 2..7,20: mean 47/7 */
    assert_true(fabs(r.res.cols[0][8] - 47.0 / 7.0) < TOL);
    assert_int_equal(r.res.alarm[8], 0);
    rhis_detect_result_fini(&r.res);
}

static void
ears_c2_uses_guard_band(void **state)
{
    /* The 2 points before t must not enter C2's window. */
    static const double y[] = {2, 2, 2, 2, 2, 2, 2, 90, 90, 3};
    run_out r;
    (void)state;
    run_method(&r, "ears-c2", "alpha=0.01", y, 10, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(r.res.alarm[8], RHIS_DETECT_NA);
    assert_true(r.res.cols[0][9] == 2.0 && r.res.cols[1][9] == 0.0);
    assert_true(r.res.upper[9] == 2.0); /* flat baseline: upper = mean */
    assert_int_equal(r.res.alarm[9], 1);
    assert_true(isinf(r.res.cols[2][9]) && r.res.cols[2][9] > 0);
    rhis_detect_result_fini(&r.res);
}

static void
flat_zero_baseline_gives_finite_bounds(void **state)
{
    double y[40] = {0};
    const char *methods[] = {"ears-c1", "ears-c2", "ears-c3", "ears-c3-compat"};
    (void)state;
    y[20] = 1; /* a single case after a run of zeros */
    y[30] = 0;
    for (size_t k = 0; k < 4; k++) {
        run_out r;
        run_method(&r, methods[k], "", y, 40, 0, 0);
        assert_int_equal(r.st, RHIS_OK);
        for (size_t i = 0; i < 40; i++) {
            if (r.res.alarm[i] == RHIS_DETECT_NA)
                continue;
            assert_true(isfinite(r.res.upper[i]));
            for (int c = 0; c < r.res.ncols; c++)
                assert_false(isnan(r.res.cols[c][i]));
        }
        /* All-zero baseline, count 0: no alarm; count 1: alarm. */
        assert_int_equal(r.res.alarm[19], 0);
        assert_int_equal(r.res.alarm[20], k == 3 ? 0 : 1);
        if (k < 2) {
            assert_true(r.res.upper[19] == 0.0);
            assert_true(r.res.cols[2][19] == 0.0); /* 0/0 defined as 0 */
        }
        rhis_detect_result_fini(&r.res);
    }
}

static void
short_and_empty_series_are_all_na(void **state)
{
    static const double y[] = {3, 1, 4, 1, 5, 9};
    const rhis_detect_method *m;
    (void)state;
    for (size_t k = 0; (m = rhis_detect_method_at(k)) != NULL; k++) {
        if (strcmp(m->name, "cusum") == 0)
            continue; /* needs a training period, tested below */
        for (size_t n = 0; n <= 6; n += 6) {
            run_out r;
            run_method(&r, m->name, "", y, n, 0, 0);
            assert_int_equal(r.st, RHIS_OK);
            for (size_t i = 0; i < n; i++) {
                if (strcmp(m->name, "fixed") == 0)
                    assert_int_equal(r.res.alarm[i], y[i] >= 1);
                else
                    assert_int_equal(r.res.alarm[i], RHIS_DETECT_NA);
            }
            rhis_detect_result_fini(&r.res);
        }
    }
}

static void
range_limits_evaluation_not_history(void **state)
{
    static const double y[] = {1, 2, 3, 4, 5, 6, 7, 20, 4, 5};
    run_out r;
    (void)state;
    run_method(&r, "ears-c1", "", y, 10, 8, 9);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(r.res.alarm[7], RHIS_DETECT_NA);
    assert_int_equal(r.res.alarm[9], RHIS_DETECT_NA);
    assert_true(fabs(r.res.cols[0][8] - 47.0 / 7.0) < TOL);
    rhis_detect_result_fini(&r.res);
}

static void
ears_c3_textbook_and_compat(void **state)
{
    /* Baseline alternating 2,4 (mean 3 or so, sd > 0), then a rise. */
    double y[20];
    run_out tb, cp;
    (void)state;
    for (int i = 0; i < 20; i++)
        y[i] = i % 2 == 0 ? 2 : 4;
    y[14] = 9;
    y[15] = 9;
    y[16] = 3;
    run_method(&tb, "ears-c3", "", y, 20, 0, 0);
    run_method(&cp, "ears-c3-compat", "", y, 20, 0, 0);
    assert_int_equal(tb.st, RHIS_OK);
    assert_int_equal(cp.st, RHIS_OK);
    assert_int_equal(tb.res.alarm[10], RHIS_DETECT_NA);
    assert_int_not_equal(tb.res.alarm[11], RHIS_DETECT_NA);
    double z = 1.959963984540054;
    for (size_t t = 11; t < 20; t++) {
        /* recompute C2 at t, t-1, t-2 by hand */
        double p[3];
        for (int d = 0; d < 3; d++) {
            double mean, sd;
            detect_mean_sd(y + t - d - 9, 7, &mean, &sd);
            double c2 = (y[t - d] - mean) / sd;
            p[d] = c2 > 1 ? c2 - 1 : 0;
        }
        double c3 = p[0] + p[1] + p[2];
        assert_true(fabs(tb.res.cols[3][t] - c3) < TOL);
        assert_int_equal(tb.res.alarm[t], c3 > z);
        assert_int_equal(cp.res.alarm[t], p[1] + p[2] > z && y[t] > 0);
        if (tb.res.alarm[t] == 1 && p[1] + p[2] <= z)
            assert_true(y[t] > tb.res.upper[t]);
    }
    /* day 14 rises: textbook alarms on the day, compat only later */
    assert_int_equal(tb.res.alarm[14], 1);
    assert_int_equal(cp.res.alarm[14], 0);
    assert_int_equal(cp.res.alarm[16], 1);
    rhis_detect_result_fini(&tb.res);
    rhis_detect_result_fini(&cp.res);
}

static void
cusum_reset_hand_computed(void **state)
{
    static const double y[] = {4, 10, 4, 4, 10, 10};
    static const double s_reset[] = {0, 2.5, 0, 0, 2.5, 2.5};
    static const int a_reset[] = {0, 1, 0, 0, 1, 1};
    static const double s_plain[] = {0, 2.5, 2.0, 1.5, 4.0, 6.5};
    static const int a_plain[] = {0, 1, 1, 0, 1, 1};
    run_out r, p;
    (void)state;
    run_method(&r, "cusum", "m=4, k=0.5, h=2", y, 6, 0, 0);
    run_method(&p, "cusum", "m=4, k=0.5, h=2, reset=0", y, 6, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(p.st, RHIS_OK);
    for (int t = 0; t < 6; t++) {
        assert_true(fabs(r.res.cols[2][t] - s_reset[t]) < TOL);
        assert_int_equal(r.res.alarm[t], a_reset[t]);
        assert_true(fabs(p.res.cols[2][t] - s_plain[t]) < TOL);
        assert_int_equal(p.res.alarm[t], a_plain[t]);
    }
    /* upper = ceil(sqrt(m)(h + k - S_{t-1}) + m): t=1: ceil(2*2.5+4) = 9 */
    assert_true(r.res.upper[1] == 9.0);
    assert_true(r.res.upper[2] == 9.0); /* reset: S_1 counts as 0 */
    assert_true(p.res.upper[2] == 4.0); /* ceil(2*(2.5-2.5)+4) */
    /* without reset the bound falls with S: ceil(2*(2.5-4)+4) = 1 */
    assert_true(p.res.upper[5] == 1.0);
    rhis_detect_result_fini(&r.res);
    rhis_detect_result_fini(&p.res);
}

static void
cusum_training_and_zero_mean(void **state)
{
    static const double y[] = {0, 0, 0, 0, 1, 0};
    run_out r;
    (void)state;
    run_method(&r, "cusum", "", y, 6, 0, 0);
    assert_int_equal(r.st, RHIS_EINVAL); /* no training period */
    assert_non_null(strstr(r.err, "training"));
    rhis_detect_result_fini(&r.res);
    /* m = mean of the 4 training zeros = 0: any case alarms, no NaN */
    run_method(&r, "cusum", "train=4", y, 6, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(r.res.alarm[3], RHIS_DETECT_NA);
    assert_int_equal(r.res.alarm[4], 1);
    assert_int_equal(r.res.alarm[5], 0);
    assert_true(r.res.upper[4] == 0.0 && r.res.upper[5] == 0.0);
    rhis_detect_result_fini(&r.res);
    /* moving window: m at t=5 is the mean of y[1..4] = 0.25 */
    run_method(&r, "cusum", "m=window, window=4", y, 6, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(r.res.alarm[3], RHIS_DETECT_NA);
    assert_true(fabs(r.res.cols[0][5] - 0.25) < TOL);
    rhis_detect_result_fini(&r.res);
}

static void
quantile_type7_matches_r(void **state)
{
    double a[15], b[3] = {3, 1, 2}, c[1] = {5};
    (void)state;
    for (int i = 0; i < 15; i++)
        a[i] = 15 - i;
    /* R: quantile(1:15, c(.5, .8, 0, 1), type = 7) = 8, 12.2, 1, 15 */
    assert_true(rhis_detect_quantile7(a, 15, 0.5) == 8.0);
    assert_true(fabs(rhis_detect_quantile7(a, 15, 0.8) - 12.2) < TOL);
    assert_true(rhis_detect_quantile7(a, 15, 0.0) == 1.0);
    assert_true(rhis_detect_quantile7(a, 15, 1.0) == 15.0);
    /* quantile(c(3,1,2), 0.9) = 2.8 */
    assert_true(fabs(rhis_detect_quantile7(b, 3, 0.9) - 2.8) < TOL);
    assert_true(rhis_detect_quantile7(c, 1, 0.3) == 5.0);
}

static void
mpm_percentiles(void **state)
{
    /* first evaluable index: 365*3 + 2*7 + 7 - 1 = 1115 */
    size_t n = 1117;
    double *y = rhis_xcalloc(n, sizeof(double));
    run_out r;
    (void)state;
    for (size_t i = 0; i < n; i++)
        y[i] = 1;
    run_method(&r, "mpm", "", y, n, 0, 0);
    assert_int_equal(r.st, RHIS_OK);
    assert_int_equal(r.res.alarm[1114], RHIS_DETECT_NA);
    assert_int_equal(r.res.alarm[1115], 0); /* 7 vs P50 of 15 sevens */
    assert_true(r.res.cols[0][1115] == 7.0 && r.res.cols[1][1115] == 7.0);
    assert_true(r.res.upper[1115] == 1.0);
    rhis_detect_result_fini(&r.res);
    run_method(&r, "mpm", "ge=1", y, n, 0, 0);
    assert_int_equal(r.res.alarm[1115], 1);
    rhis_detect_result_fini(&r.res);

    /* Distinct baseline sums: at t = 1116 the block ending at
     * a = t - 365 j + 7 b holds j*5 + (b+2) extra cases on its last day. */
    for (size_t i = 0; i < n; i++)
        y[i] = 0;
    size_t t = 1116;
    for (int j = 1; j <= 3; j++) {
        for (int b = -2; b <= 2; b++)
            y[t - 365 * (size_t)j + (size_t)(7 * b + 14) - 14] =
                (double)((j - 1) * 5 + (b + 2));
    }
    /* H = {0..14}; P50 = 7, P80 = 11.2, P90 = 12.6 */
    y[t] = 8;
    run_method(&r, "mpm", "", y, n, 0, 0);
    assert_true(r.res.cols[1][t] == 7.0);
    assert_int_equal(r.res.alarm[t], 1);
    rhis_detect_result_fini(&r.res);
    run_method(&r, "mpm", "pct=80", y, n, 0, 0);
    assert_true(fabs(r.res.cols[1][t] - 11.2) < TOL);
    assert_int_equal(r.res.alarm[t], 0);
    assert_true(fabs(r.res.upper[t] - 11.2) < TOL);
    rhis_detect_result_fini(&r.res);
    /* min-count: 8 cases, floor 10 -> no signal even at P0 */
    run_method(&r, "mpm", "pct=0, min-count=10", y, n, 0, 0);
    assert_int_equal(r.res.alarm[t], 0);
    rhis_detect_result_fini(&r.res);
    rhis_free(y);
}

static void
fixed_threshold(void **state)
{
    static const double y[] = {0, 1, 0, 3};
    run_out r;
    (void)state;
    run_method(&r, "fixed", "", y, 4, 0, 0);
    assert_int_equal(r.res.alarm[0], 0);
    assert_int_equal(r.res.alarm[1], 1);
    assert_true(r.res.upper[1] == 0.0);
    rhis_detect_result_fini(&r.res);
    run_method(&r, "fixed", "k=3", y, 4, 0, 0);
    assert_int_equal(r.res.alarm[1], 0);
    assert_int_equal(r.res.alarm[3], 1);
    rhis_detect_result_fini(&r.res);
}

static void
bad_options_and_series_are_refused(void **state)
{
    const rhis_detect_method *m = rhis_detect_method_find("ears-c1");
    rhis_detect_ears_opts o;
    char err[256];
    static const double neg[] = {1, -1, 2};
    (void)state;
    m->defaults(&o);
    assert_int_equal(rhis_detect_configure(m, &o, "baseline=2", err, 256),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "baseline"));
    assert_int_equal(rhis_detect_configure(m, &o, "bogus=1", err, 256),
                     RHIS_EINVAL);
    assert_int_equal(rhis_detect_configure(m, &o, "alpha", err, 256),
                     RHIS_EINVAL);
    assert_int_equal(rhis_detect_configure(m, &o, "alpha=0.1x", err, 256),
                     RHIS_EINVAL);
    assert_int_equal(
        rhis_detect_configure(m, &o, " baseline = 5 , alpha=0.01", err, 256),
        RHIS_OK);
    assert_int_equal(o.baseline, 5);
    assert_true(o.alpha == 0.01);
    run_out r;
    run_method(&r, "ears-c1", "", neg, 3, 0, 0);
    assert_int_equal(r.st, RHIS_EINVAL);
    rhis_detect_result_fini(&r.res);
    run_method(&r, "mpm", "window=100, blocks=3", neg, 0, 0, 0);
    assert_int_equal(r.st, RHIS_EINVAL); /* baseline overlaps the window */
    rhis_detect_result_fini(&r.res);
    assert_null(rhis_detect_method_find("ears-c4"));
    assert_null(rhis_detect_method_find(NULL));
}

static void
csv_reader(void **state)
{
    rhis_detect_daily d;
    char err[256];
    (void)state;
    static const char ok[] = "\xef\xbb\xbf"
                             "Date,Count\r\n2024-02-28,3\r\n2024-02-29,0\r\n"
                             "2024-03-01, 12\r\n";
    assert_int_equal(rhis_detect_csv_parse(ok, sizeof(ok) - 1, 0, &d, err, 256),
                     RHIS_OK);
    assert_int_equal(d.n, 3);
    assert_true(d.y[0] == 3 && d.y[1] == 0 && d.y[2] == 12);
    char buf[11];
    rhis_detect_format_date(d.day0 + 2, buf);
    assert_string_equal(buf, "2024-03-01");
    rhis_detect_daily_fini(&d);

    static const char gap[] = "date,count\n2015-01-01,1\n2015-01-03,2\n";
    assert_int_equal(
        rhis_detect_csv_parse(gap, sizeof(gap) - 1, 0, &d, err, 256),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "not consecutive"));
    assert_null(d.y);
    assert_int_equal(
        rhis_detect_csv_parse(gap, sizeof(gap) - 1, 1, &d, err, 256), RHIS_OK);
    assert_int_equal(d.n, 3);
    assert_true(d.y[1] == 0 && d.y[2] == 2);
    rhis_detect_daily_fini(&d);

    static const char *const bad[] = {
        "",
        "day,n\n2015-01-01,1\n",
        "date,count\n2015-02-29,1\n",
        "date,count\n2015-01-01,-1\n",
        "date,count\n2015-01-01,1.5\n",
        "date,count\n2015-01-01,1\n2015-01-01,1\n",
        "date,count\n2015-01-02,1\n2015-01-01,1\n",
        "date,count\n2015-01-01\n",
        "date,count\n2015-01-01,1234567890\n",
        "date,count\n15-01-01,1\n",
        "date,count\n2015-01-01,\"1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            rhis_detect_csv_parse(bad[i], strlen(bad[i]), 1, &d, err, 256),
            RHIS_EINVAL);
        assert_true(err[0] != '\0');
        assert_int_equal(d.n, 0);
    }
    static const char head[] = "date,count\n";
    assert_int_equal(
        rhis_detect_csv_parse(head, sizeof(head) - 1, 0, &d, err, 256),
        RHIS_OK);
    assert_int_equal(d.n, 0);
    rhis_detect_daily_fini(&d);
}

static void
weekly_aggregation_uses_monday_weeks(void **state)
{
    /* 2015-01-01 is a Thursday: the first Monday is 2015-01-05 (index 4) */
    double y[25];
    rhis_detect_daily d = {y, 25, 16436}, w;
    char buf[11];
    (void)state;
    for (int i = 0; i < 25; i++)
        y[i] = i;
    rhis_detect_to_weekly(&d, &w);
    assert_int_equal(w.n, 3); /* 4..10, 11..17, 18..24 */
    rhis_detect_format_date(w.day0, buf);
    assert_string_equal(buf, "2015-01-05");
    assert_true(w.y[0] == 4 + 5 + 6 + 7 + 8 + 9 + 10);
    assert_true(w.y[2] == 18 + 19 + 20 + 21 + 22 + 23 + 24);
    rhis_detect_daily_fini(&w);
    d.n = 3;
    rhis_detect_to_weekly(&d, &w);
    assert_int_equal(w.n, 0);
    rhis_detect_daily_fini(&w);
}

static void
dates_round_trip(void **state)
{
    int64_t day;
    char buf[11];
    (void)state;
    assert_int_equal(rhis_detect_parse_date("1970-01-01", &day), RHIS_OK);
    assert_int_equal(day, 0);
    assert_int_equal(detect_weekday(day), 3); /* Thursday */
    assert_int_equal(rhis_detect_parse_date("2000-02-29", &day), RHIS_OK);
    rhis_detect_format_date(day, buf);
    assert_string_equal(buf, "2000-02-29");
    assert_int_equal(rhis_detect_parse_date("1900-02-29", &day), RHIS_EINVAL);
    assert_int_equal(rhis_detect_parse_date("2015-13-01", &day), RHIS_EINVAL);
    assert_int_equal(rhis_detect_parse_date("2015-1-01", &day), RHIS_EINVAL);
    assert_int_equal(rhis_detect_parse_date("2015-01-01x", &day), RHIS_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qnorm_matches_r),
        cmocka_unit_test(ears_c1_hand_computed),
        cmocka_unit_test(ears_c2_uses_guard_band),
        cmocka_unit_test(flat_zero_baseline_gives_finite_bounds),
        cmocka_unit_test(short_and_empty_series_are_all_na),
        cmocka_unit_test(range_limits_evaluation_not_history),
        cmocka_unit_test(ears_c3_textbook_and_compat),
        cmocka_unit_test(cusum_reset_hand_computed),
        cmocka_unit_test(cusum_training_and_zero_mean),
        cmocka_unit_test(quantile_type7_matches_r),
        cmocka_unit_test(mpm_percentiles),
        cmocka_unit_test(fixed_threshold),
        cmocka_unit_test(bad_options_and_series_are_refused),
        cmocka_unit_test(csv_reader),
        cmocka_unit_test(weekly_aggregation_uses_monday_weeks),
        cmocka_unit_test(dates_round_trip),
    };
    return cmocka_run_group_tests_name("surveil detect", tests, NULL, NULL);
}
