/*
 * test_farrington.c - unit tests for Farrington flexible
 * (src/surveil/farrington.c): the IRLS fit, the distribution functions,
 * reference dates and Noufaily blocks against values computed with R
 * 4.2.2 / surveillance 1.20.3, and the behaviour on short, empty and
 * all-zero histories.
 *
 * Why: the golden comparison (tests/surveil/golden_check.sh) shows that
 * the whole pipeline matches R on three reference runs; these cases pin
 * the pieces one by one, so a regression points at the piece that broke,
 * and they cover what the golden files do not (no history, zeros).
 * The file includes farrington.c to reach its static functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "surveil/farrington.c"

/* Relative comparison, with a floor for values near 0. */
static void
near(double got, double want, double rel)
{
    double d = fabs(got - want), m = fabs(want);
    if (!(d <= rel * m + 1e-15)) {
        print_error("got %.17g, want %.17g (rel %.3g)\n", got, want,
                    m > 0 ? d / m : d);
        fail();
    }
}

/* The 8-point example, fitted in R with
 *   glm(y ~ t, family = quasipoisson(link = "log")), t = 0..7. */
static const double ex_y[8] = {3, 5, 4, 8, 6, 9, 7, 10};

static double ex_ly[8], ex_l01[8], ex_y23[8];

static void
example_design(design *d, double *t, int *lev, double tc)
{
    for (int i = 0; i < 8; i++) {
        t[i] = i - tc;
        lev[i] = 0;
    }
    point_consts(ex_y, 8, ex_ly, ex_l01, ex_y23);
    d->n = 8;
    d->y = ex_y;
    d->t = t;
    d->lev = lev;
    d->nlev = 1;
    d->ly = ex_ly;
    d->l01 = ex_l01;
    d->y23 = ex_y23;
}

static void
glm_matches_r(void **state)
{
    (void)state;
    double t[8], prior[8];
    int lev[8];
    design d;
    glm g;
    farr_ws ws;
    ws_init(&ws, 8);
    for (int i = 0; i < 8; i++)
        prior[i] = 1.0;
    /* Centred time (our parametrisation): slope, dispersion, standard
     * errors of the slope, p-value and prediction are R's. */
    example_design(&d, t, lev, 3.5);
    assert_int_equal(glm_fit(&d, 1, prior, &ws, &g), 0);
    assert_true(g.conv);
    near(g.coef[1], 0.1344294333606221, 1e-9);
    near(g.coef[0] - 3.5 * g.coef[1], 1.3543180668453487, 1e-9);
    near(g.disp, 0.33003419797628097, 1e-9);
    near(sqrt(g.disp * g.cov[1 * g.p + 1]), 0.035788582900379194, 1e-9);
    near(pt_two_sided(g.coef[1] / sqrt(g.disp * g.cov[3]), g.df),
         0.0094405155545211391, 1e-9);
    /* Hat values of the last IRLS iteration (hatvalues(m)). */
    static const double hat[8] = {0.33874877828601696, 0.26048662903785857,
                                  0.19203583831775323, 0.14350123644810431,
                                  0.12850693534009225, 0.16511707010697085,
                                  0.27696550571635581, 0.49463800674684777};
    for (int i = 0; i < 8; i++)
        near(ws.wk[i] * quad_form(&g, t[i], 0), hat[i], 1e-9);
    /* predict(m, data.frame(t = 8), se.fit = TRUE, type = "response") */
    double eta0 = g.coef[0] + g.coef[1] * (8 - 3.5);
    double mu0 = exp(eta0);
    near(mu0, 11.356082843680364, 1e-9);
    near(sqrt(quad_form(&g, 8 - 3.5, 0) * g.disp) * mu0, 1.7925657136177622,
         1e-9);

    /* Uncentred time gives the same model. */
    example_design(&d, t, lev, 0.0);
    assert_int_equal(glm_fit(&d, 1, prior, &ws, &g), 0);
    near(g.coef[0], 1.3543180668453487, 1e-9);
    near(g.coef[1], 0.1344294333606221, 1e-9);

    /* Prior weights: glm(..., weights = c(1,1,.5,1,2,1,1,1)). */
    static const double w[8] = {1, 1, 0.5, 1, 2, 1, 1, 1};
    assert_int_equal(glm_fit(&d, 1, w, &ws, &g), 0);
    near(g.coef[0], 1.37065611556057654, 1e-9);
    near(g.coef[1], 0.13018194602575583, 1e-9);
    near(g.disp, 0.31989891425591593, 1e-9);
    ws_fini(&ws);
}

static void
glm_rejects_singular_and_saturated(void **state)
{
    (void)state;
    double t[8], prior[8];
    int lev[8];
    design d;
    glm g;
    farr_ws ws;
    ws_init(&ws, 8);
    for (int i = 0; i < 8; i++)
        prior[i] = 1.0;
    example_design(&d, t, lev, 0.0);
    for (int i = 0; i < 8; i++)
        t[i] = 2.0; /* time constant: aliased with the intercept */
    assert_int_equal(glm_fit(&d, 1, prior, &ws, &g), -1);
    example_design(&d, t, lev, 0.0);
    d.n = 2; /* two points, two parameters: no residual df */
    assert_int_equal(glm_fit(&d, 1, prior, &ws, &g), -1);
    ws_fini(&ws);
}

static void
distributions_match_r(void **state)
{
    (void)state;
    discrete nb1 = {1, 40 / 0.7, 1 / 1.7, 0};
    discrete nb2 = {1, 3000 / 0.05, 1 / 1.05, 0};
    discrete po1 = {0, 0, 0, 2.5};
    discrete po2 = {0, 0, 0, 12345.6};
    assert_true(dquantile(&nb1, 0.95) == 54);
    assert_true(dquantile(&nb2, 0.95) == 3093);
    assert_true(dquantile(&po1, 0.95) == 5);
    assert_true(dquantile(&po2, 0.95) == 12529);
    near(dupper(&nb1, 60), 0.014387453022245264, 1e-9);
    near(dupper(&po1, 10), 0.00027735209462083593, 1e-9);
    near(dupper(&po1, 0), 1.0, 0);
    /* Wide laws (a million summation steps or more): incomplete beta or
     * gamma and a bisection. */
    discrete nb3 = {1, 0.01, 1e-9, 0};
    discrete nb4 = {1, 2, 1e-5, 0};
    discrete nb5 = {1, 3, 3e-6, 0};
    discrete po3 = {0, 0, 0, 1e10};
    assert_true(dquantile(&nb3, 0.95) == 3362624);
    assert_true(dquantile(&nb4, 0.95) == 474383);
    assert_true(dquantile(&nb5, 0.95) == 2098593);
    assert_true(dquantile(&po3, 0.95) == 10000164486.0);
    near(dupper(&nb3, 5e8), 0.0056267561969354941, 1e-9);
    near(dupper(&po3, 1e10 + 2e5), 0.02275067185874417, 1e-9);
    near(pt_two_sided(2.1, 33), 0.043454619610266906, 1e-9);
    near(pt_two_sided(-0.3, 5), 0.77624904226327451, 1e-9);
    near(pt_two_sided(7.5, 1800), 9.9663962293689123e-14, 1e-6);
}

static void
reference_dates_follow_r(void **state)
{
    (void)state;
    int64_t d;
    /* seq(as.Date("2024-02-29"), by = "-1 year"): 2023-03-01 ...
     * 2020-02-29, 2019-03-01. */
    assert_int_equal(rhis_detect_parse_date("2024-02-29", &d), RHIS_OK);
    int64_t want;
    assert_int_equal(rhis_detect_parse_date("2023-03-01", &want), RHIS_OK);
    assert_true(years_back(d, 1) == want);
    assert_int_equal(rhis_detect_parse_date("2020-02-29", &want), RHIS_OK);
    assert_true(years_back(d, 4) == want);
    assert_int_equal(rhis_detect_parse_date("2019-03-01", &want), RHIS_OK);
    assert_true(years_back(d, 5) == want);
    /* Weekly: algo.farrington.referencetimepoints for Monday 2021-07-19
     * gives 2020-07-20, 2019-07-22, 2018-07-16, 2017-07-17, 2016-07-18. */
    static const char *const weeks[5] = {
        "2020-07-20", "2019-07-22", "2018-07-16", "2017-07-17", "2016-07-18"};
    assert_int_equal(rhis_detect_parse_date("2021-07-19", &d), RHIS_OK);
    for (int j = 1; j <= 5; j++) {
        assert_int_equal(rhis_detect_parse_date(weeks[j - 1], &want), RHIS_OK);
        assert_true(reference_day(d, 7, j) == want);
    }
}

/* blocks() of surveillance for 300 weeks from 2016-01-04, t0 = week 290
 * (1-based), b 5, w 3, noPeriods 10: runs of (length, level) from the
 * first non-NA point (1-based 26). */
static void
noufaily_blocks_match_r(void **state)
{
    (void)state;
    static const int runs[][2] = {
        {7, 10}, {5, 1}, {5, 2},  {5, 3}, {5, 4},  {5, 5}, {5, 6},  {5, 7},
        {5, 8},  {5, 9}, {7, 10}, {5, 1}, {5, 2},  {5, 3}, {5, 4},  {5, 5},
        {5, 6},  {5, 7}, {5, 8},  {5, 9}, {7, 10}, {6, 1}, {5, 2},  {5, 3},
        {5, 4},  {5, 5}, {5, 6},  {5, 7}, {5, 8},  {5, 9}, {7, 10}, {5, 1},
        {5, 2},  {5, 3}, {5, 4},  {5, 5}, {5, 6},  {5, 7}, {5, 8},  {5, 9},
        {7, 10}, {5, 1}, {5, 2},  {5, 3}, {5, 4},  {5, 5}, {5, 6},  {5, 7},
        {5, 8},  {5, 9}, {4, 10}};
    double y[300];
    int64_t day0;
    for (int i = 0; i < 300; i++)
        y[i] = 10 + i % 7;
    assert_int_equal(rhis_detect_parse_date("2016-01-04", &day0), RHIS_OK);
    rhis_detect_series s = {y, 300, day0, 7};
    rhis_detect_farrington_opts o;
    rhis_detect_farrington_defaults(&o, 1);
    farr_ws ws;
    ws_init(&ws, 300);
    point_consts(y, 300, ws.sly, ws.sl01, ws.sy23);
    design d;
    double t0, ymax;
    int lev0;
    /* pw = 0 leaves everything but t0 itself, so blk is R's vector. */
    assert_true(build_baseline(&s, &o, 0, 289, &ws, &d, &t0, &lev0, &ymax) > 0);
    size_t k = 0;
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        for (int j = 0; j < runs[r][0]; j++, k++) {
            int want = runs[r][1];
            if (k == 289 - 25)
                want = -1; /* t0, excluded */
            assert_int_equal(ws.blk[k], want);
        }
    }
    assert_int_equal(k, 289 - 25 + 1);
    assert_int_equal(d.nlev, 10);
    assert_int_equal(lev0, 9);
    ws_fini(&ws);
}

typedef struct run_out {
    rhis_detect_result res;
    rhis_status st;
    char err[256];
} run_out;

static void
run_on(run_out *r,
       const char *method,
       const char *spec,
       const double *y,
       size_t n,
       int step)
{
    const rhis_detect_method *m = rhis_detect_method_find(method);
    assert_non_null(m);
    rhis_detect_farrington_opts o;
    m->defaults(&o);
    assert_int_equal(rhis_detect_configure(m, &o, spec, r->err, sizeof(r->err)),
                     RHIS_OK);
    rhis_detect_series s = {y, n, 16805 /* 2016-01-04, a Monday */, step};
    rhis_detect_result_init(&r->res, m, n);
    r->st = m->run(&s, &o, 0, n, &r->res, r->err, sizeof(r->err));
}

static void
short_and_empty_series_are_na(void **state)
{
    (void)state;
    run_out r;
    double y[400];
    for (int i = 0; i < 400; i++)
        y[i] = 5 + i % 3;
    /* Empty series: nothing to do, no error. */
    run_on(&r, "farrington", "", y, 0, 7);
    assert_int_equal(r.st, RHIS_OK);
    rhis_detect_result_fini(&r.res);
    /* 200 weeks < 5 years + margin: every point NA, no error. */
    run_on(&r, "farrington", "", y, 200, 7);
    assert_int_equal(r.st, RHIS_OK);
    for (size_t i = 0; i < 200; i++) {
        assert_int_equal(r.res.alarm[i], RHIS_DETECT_NA);
        assert_true(isnan(r.res.upper[i]));
    }
    rhis_detect_result_fini(&r.res);
    /* With b = 2 the same series is evaluable from about week 108 on. */
    run_on(&r, "noufaily", "b=2", y, 200, 7);
    assert_int_equal(r.st, RHIS_OK);
    size_t first = 0;
    while (first < 200 && r.res.alarm[first] == RHIS_DETECT_NA)
        first++;
    assert_true(first > 100 && first < 115);
    for (size_t i = first; i < 200; i++) {
        assert_true(r.res.alarm[i] == 0 || r.res.alarm[i] == 1);
        assert_true(isfinite(r.res.upper[i]));
    }
    rhis_detect_result_fini(&r.res);
}

/*
 * An all-zero history.  farrington: the GLM drives the mean towards 0 (R's
 * glm.fit converges after 24 iterations on 35 points), the bound stays
 * finite and tiny, nothing alarms while the counts stay 0, and the first
 * week with >= 5 cases in the last 4 alarms.  noufaily: over ~240 zero
 * points the same IRLS needs more than 25 iterations, so R returns no
 * result with nor without the trend; every point is NA, as in R
 * (checked with farrington_ref.R on the same series).
 */
static void
zero_history_gives_finite_bounds(void **state)
{
    (void)state;
    enum { N = 7 * 53 };
    double y[N];
    for (int i = 0; i < N; i++)
        y[i] = 0;
    y[N - 2] = 3;
    y[N - 1] = 4;
    run_out r;
    run_on(&r, "farrington", "", y, N, 7);
    assert_int_equal(r.st, RHIS_OK);
    size_t evaluated = 0;
    for (size_t i = 0; i < N; i++) {
        if (r.res.alarm[i] == RHIS_DETECT_NA)
            continue;
        evaluated++;
        assert_true(isfinite(r.res.upper[i]));
        assert_true(r.res.upper[i] >= 0 && r.res.upper[i] < 0.01);
        assert_true(r.res.cols[COL_PHI][i] == 1.0);
        if (i < N - 2)
            assert_int_equal(r.res.alarm[i], 0);
    }
    assert_true(evaluated > 50);
    /* 3 cases: fewer than 5 in the last 4 weeks, no alarm. */
    assert_int_equal(r.res.alarm[N - 2], 0);
    assert_true(r.res.cols[COL_ENOUGH][N - 2] == 0);
    assert_int_equal(r.res.alarm[N - 1], 1);
    rhis_detect_result_fini(&r.res);

    run_on(&r, "noufaily", "", y, N, 7);
    assert_int_equal(r.st, RHIS_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(r.res.alarm[i], RHIS_DETECT_NA);
        assert_true(isnan(r.res.upper[i]));
    }
    rhis_detect_result_fini(&r.res);
}

static void
options_are_validated(void **state)
{
    (void)state;
    const rhis_detect_method *m = rhis_detect_method_find("noufaily");
    assert_non_null(m);
    rhis_detect_farrington_opts o;
    char err[256];
    m->defaults(&o);
    assert_int_equal(o.no_periods, 10);
    assert_int_equal(o.past_weeks_not_included, 26);
    assert_true(o.threshold == RHIS_DETECT_FARR_NBPLUGIN);
    assert_int_equal(rhis_detect_configure(m, &o,
                                           "weightsThreshold=1, "
                                           "limit54=3:2, powertrans=1/2, "
                                           "threshold-method=muan, trend=false",
                                           err, sizeof(err)),
                     RHIS_OK);
    assert_true(o.weights_threshold == 1.0);
    assert_int_equal(o.limit54_cases, 3);
    assert_int_equal(o.limit54_period, 2);
    assert_true(o.powertrans == RHIS_DETECT_FARR_POW_HALF);
    assert_true(o.threshold == RHIS_DETECT_FARR_MUAN);
    assert_int_equal(o.trend, 0);
    assert_int_equal(
        rhis_detect_configure(m, &o, "alpha=0.7", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(
        rhis_detect_configure(m, &o, "limit54=5", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(
        rhis_detect_configure(m, &o, "no-periods=99", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(
        rhis_detect_configure(m, &o, "powertrans=3/4", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(rhis_detect_configure(m, &o, "bogus=1", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "bogus"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glm_matches_r),
        cmocka_unit_test(glm_rejects_singular_and_saturated),
        cmocka_unit_test(distributions_match_r),
        cmocka_unit_test(reference_dates_follow_r),
        cmocka_unit_test(noufaily_blocks_match_r),
        cmocka_unit_test(short_and_empty_series_are_na),
        cmocka_unit_test(zero_history_gives_finite_bounds),
        cmocka_unit_test(options_are_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
