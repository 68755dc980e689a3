/*
 * test_people.c - the demo generator's engine and residents (src/demo/
 * demo.c, people.c), checked on their drawn populations without the store:
 * the random streams and dates, the age pyramid and totals, ID numbers,
 * households, chronic-disease prevalence, and the rates the deaths and
 * births are drawn at (infant, under-5, maternal, premature NCD).
 *
 * Why: the demo is the ground truth for the indicators of issue 6; if the
 * generator drifts from the rates it claims, every indicator test built on
 * it checks the wrong thing.  The tolerances are about four standard
 * errors of the sample sizes used, so a correct generator does not fail by
 * chance and a wrong rate (a factor, a unit) does.
 */
#include "testutil.h"

#include "demo/people.c"
#include "rhis/idnum.h"

#define NVILLAGES   30
#define PER_VILLAGE 10000

typedef struct fixture {
    rhis_db *db;
    demo_ctx c;
    people pp;
} fixture;

static const char *
data_dir(void)
{
    const char *d = getenv("RHIS_DATA_DIR");
    return d != NULL && d[0] != '\0' ? d : "data";
}

/* A county of NVILLAGES villages in one township, 220221's rates. */
static void
fixture_init(fixture *f, uint64_t seed, int per_village)
{
    memset(f, 0, sizeof(*f));
    char err[512] = "";
    assert_int_equal(rhis_db_open(&f->db, "sqlite::memory:", err, sizeof(err)),
                     RHIS_OK);
    int v = 0;
    assert_int_equal(rhis_db_migrate(f->db, &v), RHIS_OK);
    assert_int_equal(demo_ctx_init(&f->c, f->db, data_dir(), seed, 2019, 2025,
                                   1.0, err, sizeof(err)),
                     RHIS_OK);
    demo_county *k = rhis_xcalloc(1, sizeof(*k));
    (void)snprintf(k->code, sizeof(k->code), "220221");
    k->name = rhis_xstrdup("永吉县");
    k->ntownships = 1;
    k->townships = rhis_xcalloc(1, sizeof(*k->townships));
    (void)snprintf(k->townships[0].code, sizeof(k->townships[0].code),
                   "220221100");
    k->townships[0].name = rhis_xstrdup("口前镇");
    k->townships[0].nvillages = NVILLAGES;
    k->townships[0].health_centre = -1;
    k->nvillages = NVILLAGES;
    k->villages = rhis_xcalloc(NVILLAGES, sizeof(*k->villages));
    for (int i = 0; i < NVILLAGES; i++) {
        (void)snprintf(k->villages[i].code, sizeof(k->villages[i].code),
                       "220221100%03d", i + 1);
        k->villages[i].name = rhis_xstrdup("测试村");
        k->villages[i].population = per_village;
        k->villages[i].clinic = -1;
        k->population += per_village;
    }
    f->c.county = k;
    demo_rates_of(&f->c, "220221", &f->c.rates);
    f->pp.c = &f->c;
    f->pp.A = ncd_scale(f->c.rates.ncd_premature);
    (void)snprintf(f->pp.county_name, sizeof(f->pp.county_name), "永吉县");
    natives_code(&f->pp);
    assert_int_equal(load_dests(&f->pp), RHIS_OK);
}

/* The life courses: first day, households, deaths, the years. */
static void
fixture_draw(fixture *f)
{
    draw_initial(&f->pp);
    size_t n0 = f->c.npeople;
    draw_households(&f->pp, 0, n0);
    for (size_t i = 0; i < n0; i++)
        settle_death(&f->pp, i, f->c.day_from);
    assert_int_equal(draw_years(&f->pp), RHIS_OK);
}

static void
fixture_fini(fixture *f)
{
    rhis_free(f->pp.idn);
    rhis_free(f->pp.dest);
    rhis_free(f->pp.last_birth);
    rhis_free(f->pp.ids.slot);
    rhis_free(f->pp.dests);
    demo_ctx_fini(&f->c);
    rhis_db_close(f->db);
}

/* ---- engine ---- */

static void
test_dates(void **state)
{
    (void)state;
    for (demo_day d = demo_day_of(1900, 1, 1); d < demo_day_of(2101, 1, 1);
         d++) {
        int y, m, dd;
        demo_ymd(d, &y, &m, &dd);
        assert_int_equal(demo_day_of(y, m, dd), d);
    }
    assert_int_equal(demo_day_of(1970, 1, 1), 0);
    assert_int_equal(demo_weekday(demo_day_of(2024, 1, 1)), 1); /* Monday */
    assert_int_equal(demo_weekday(demo_day_of(2025, 11, 23)), 7);
    /* local midnight of 1970-01-01 in China is 16:00 UTC the day before */
    assert_int_equal(demo_ms(0, 0, 0), -8LL * 3600 * 1000);
}

static void
test_rng(void **state)
{
    (void)state;
    demo_rng a, b;
    demo_rng_init(&a, 1, "x", 5);
    demo_rng_init(&b, 1, "x", 5);
    for (int i = 0; i < 100; i++)
        assert_true(demo_rng_u64(&a) == demo_rng_u64(&b));
    demo_rng_init(&b, 1, "y", 5);
    assert_false(demo_rng_u64(&a) == demo_rng_u64(&b));
    demo_rng_init(&b, 2, "x", 5);
    demo_rng_init(&a, 1, "x", 5);
    assert_false(demo_rng_u64(&a) == demo_rng_u64(&b));
    /* below(n) is uniform: 10 cells, 100 000 draws, chi-square < 30 */
    int cell[10] = {0};
    for (int i = 0; i < 100000; i++)
        cell[demo_rng_below(&a, 10)]++;
    double chi = 0;
    for (int i = 0; i < 10; i++)
        chi += (cell[i] - 10000.0) * (cell[i] - 10000.0) / 10000.0;
    assert_true(chi < 30);
    /* Poisson and binomial means */
    double s = 0, t = 0;
    for (int i = 0; i < 20000; i++) {
        s += demo_rng_poisson(&a, 3.5);
        t += demo_rng_binom(&a, 200, 0.3);
    }
    assert_true(fabs(s / 20000 - 3.5) < 0.1);
    assert_true(fabs(t / 20000 - 60) < 1.0);
}

/* ---- the first day ---- */

static void
test_pyramid(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 11, PER_VILLAGE);
    draw_initial(&f.pp);
    /* totals: exactly the villages' targets */
    assert_int_equal((int)f.c.npeople, NVILLAGES * PER_VILLAGE);
    int per_village[NVILLAGES] = {0};
    double band[DEMO_NBANDS] = {0}, male = 0;
    for (size_t i = 0; i < f.c.npeople; i++) {
        const demo_person *p = &f.c.people[i];
        per_village[p->village]++;
        int a = age_years(p->birth, f.c.day_from);
        band[a / 5 >= DEMO_NBANDS ? DEMO_NBANDS - 1 : a / 5]++;
        male += p->sex == 'M';
    }
    for (int v = 0; v < NVILLAGES; v++)
        assert_int_equal(per_village[v], PER_VILLAGE);
    double n = (double)f.c.npeople, old = 0;
    for (int b = 0; b < DEMO_NBANDS; b++) {
        double share = band[b] / n;
        /* 4 standard errors of a share near 0.1 in 300 000: 0.0022 */
        assert_true(fabs(share - f.c.data->band_share[b]) < 0.0025);
        if (b >= 13)
            old += share;
    }
    assert_true(fabs(old - 0.1561) < 0.004);      /* Jilin 2020: 65+ 15.61 % */
    assert_true(fabs(male / n - 0.4986) < 0.004); /* sex ratio about 99.5 */
    fixture_fini(&f);
}

static void
test_households_and_chronic(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 12, PER_VILLAGE / 2);
    fixture_draw(&f);
    double kh = f.c.rates.htn_prev / 100.0 / mean_weight(&f.c, htn_weight);
    double kt = f.c.rates.t2d_prev / 100.0 / mean_weight(&f.c, t2d_weight);
    double adults = 0, htn = 0, t2d = 0;
    for (size_t i = 0; i < f.c.npeople; i++) {
        demo_rng r;
        demo_rng_init(&r, 12, "chronic", i);
        draw_chronic(&f.pp, i, &r, kh, kt);
        const demo_person *p = &f.c.people[i];
        assert_true(p->household >= 0 && p->household < f.c.nhouseholds);
        if (p->in_day == f.c.day_from &&
            age_years(p->birth, f.c.day_from) >= 35) {
            adults++;
            htn += (p->flags & DEMO_HTN) && p->htn_onset <= f.c.day_from;
            t2d += (p->flags & DEMO_T2D) && p->t2d_onset <= f.c.day_from;
            if (p->flags & DEMO_HTN)
                assert_true(p->htn_onset != DEMO_NEVER);
        }
    }
    /* households of 2-3.5 people on average (rural Jilin: about 2.6) */
    double size = (double)f.c.npeople / f.c.nhouseholds;
    assert_true(size > 2.0 && size < 3.5);
    /* prevalence among residents 35+: 25 % and 10 % (issue 4) */
    assert_true(fabs(htn / adults - 0.25) < 0.01);
    assert_true(fabs(t2d / adults - 0.10) < 0.008);
    fixture_fini(&f);
}

/* ---- ID numbers ---- */

static void
test_id_numbers(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 13, 2000);
    fixture_draw(&f);
    size_t n = f.c.npeople;
    for (size_t i = 0; i < n; i++) {
        demo_rng r;
        demo_rng_init(&r, 13, "idnum", i);
        demo_person *p = &f.c.people[i];
        int native = !(p->flags & DEMO_MIGRANT) && demo_rng_bern(&r, 0.85);
        assert_int_equal(
            issue_id(&f.pp, i, native ? f.pp.birth_code : "230102", native, &r),
            RHIS_OK);
    }
    /* all valid (check character, date, area), agreeing with the person,
     * and unique */
    char(*sorted)[19] = rhis_xmalloc(n * sizeof(*sorted));
    for (size_t i = 0; i < n; i++) {
        rhis_idnum id;
        char err[128];
        const demo_person *p = &f.c.people[i];
        assert_int_equal(rhis_idnum_check(f.pp.idn[i], &id, err, sizeof(err)),
                         RHIS_OK);
        int y, m, d;
        demo_ymd(p->birth, &y, &m, &d);
        assert_int_equal(id.year, y);
        assert_int_equal(id.month, m);
        assert_int_equal(id.day, d);
        assert_int_equal(id.sex, p->sex);
        memcpy(sorted[i], f.pp.idn[i], 19);
    }
    qsort(sorted, n, sizeof(*sorted),
          (int (*)(const void *, const void *))strcmp);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(sorted[i - 1], sorted[i]) != 0);
    rhis_free(sorted);
    fixture_fini(&f);
}

/* ---- rates ---- */

static void
test_rates(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 14, PER_VILLAGE);
    /* more births and maternal deaths than real, for the precision of the
     * test; the infant, under-5 and NCD rates are the plan's own */
    f.c.rates.birth_rate = 40;
    f.c.rates.mmr = 300;
    fixture_draw(&f);
    const demo_ctx *c = &f.c;
    /* infant mortality over births 2019-2024, under-5 over 2019-2020 */
    double births = 0, infant = 0, births5 = 0, under5 = 0, maternal = 0;
    demo_day end_inf = demo_day_of(2025, 1, 1),
             end_u5 = demo_day_of(2021, 1, 1);
    for (size_t b = 0; b < c->nbirths; b++) {
        const demo_person *ch = &c->people[c->births[b].child];
        const demo_person *mo = &c->people[c->births[b].mother];
        /* present on the day (a maternal death may fall on it) */
        assert_true(mo->in_day <= c->births[b].day &&
                    c->births[b].day <= mo->death &&
                    c->births[b].day < mo->out_day);
        if (ch->birth < end_inf) {
            births++;
            infant += ch->death != DEMO_NEVER && ch->death - ch->birth < 365;
        }
        if (ch->birth < end_u5) {
            births5++;
            under5 += ch->death != DEMO_NEVER &&
                      ch->death - ch->birth < (demo_day)(5 * YEAR_DAYS);
        }
        maternal +=
            mo->death != DEMO_NEVER && mo->death_cause / 100 == T_MATERNAL &&
            mo->death >= c->births[b].day && mo->death <= c->births[b].day + 42;
    }
    double imr = 1000 * infant / births, u5mr = 1000 * under5 / births5;
    double mmr = 100000 * maternal / (double)c->nbirths;
    print_message("births %.0f, IMR %.2f (target %.2f), U5MR %.2f (%.2f), "
                  "MMR %.0f (%.0f)\n",
                  births, imr, c->rates.imr, u5mr, c->rates.u5mr, mmr,
                  c->rates.mmr);
    assert_true(fabs(imr - c->rates.imr) < 0.25 * c->rates.imr);
    assert_true(fabs(u5mr - c->rates.u5mr) < 0.25 * c->rates.u5mr);
    assert_true(fabs(mmr - c->rates.mmr) < 0.35 * c->rates.mmr);
    /* premature NCD mortality, 1 - prod(1 - 5q) over 30-69, period
     * 2019-2025, initial residents and arrivals alike */
    double py[8] = {0}, dn[8] = {0}, deaths = 0, pyall = 0;
    for (size_t i = 0; i < c->npeople; i++) {
        const demo_person *p = &c->people[i];
        demo_day from = p->in_day, to = c->day_to + 1;
        if (p->death != DEMO_NEVER && p->death < to)
            to = p->death;
        if (p->out_day != DEMO_NEVER && p->out_day < to)
            to = p->out_day;
        pyall += (to - from) / YEAR_DAYS;
        if (p->death != DEMO_NEVER) {
            deaths++;
            int a = age_years(p->birth, p->death);
            if (a >= 30 && a < 70 && p->death_cause / 100 == T_NCD)
                dn[(a - 30) / 5]++;
        }
        for (demo_day d = from; d < to; d += 30) {
            int a = age_years(p->birth, d);
            if (a >= 30 && a < 70)
                py[(a - 30) / 5] += (d + 30 <= to ? 30 : to - d) / YEAR_DAYS;
        }
    }
    double surv = 1;
    for (int b = 0; b < 8; b++) {
        double m = dn[b] / py[b];
        surv *= 1 - 5 * m / (1 + 2.5 * m);
    }
    double prem = 100 * (1 - surv), cdr = 1000 * deaths / pyall;
    print_message("premature NCD mortality %.2f %% (target %.2f), crude "
                  "death rate %.1f per 1000\n",
                  prem, c->rates.ncd_premature, cdr);
    assert_true(fabs(prem - c->rates.ncd_premature) <
                0.12 * c->rates.ncd_premature);
    assert_true(cdr > 6 && cdr < 13);
    fixture_fini(&f);
}

/* Same seed: the same people; another seed: others. */
static void
test_determinism(void **state)
{
    (void)state;
    fixture a, b, d;
    fixture_init(&a, 21, 1500);
    fixture_init(&b, 21, 1500);
    fixture_init(&d, 22, 1500);
    fixture_draw(&a);
    fixture_draw(&b);
    fixture_draw(&d);
    assert_int_equal(a.c.npeople, b.c.npeople);
    assert_memory_equal(a.c.people, b.c.people,
                        a.c.npeople * sizeof(demo_person));
    int differ =
        a.c.npeople != d.c.npeople ||
        memcmp(a.c.people, d.c.people, a.c.npeople * sizeof(demo_person)) != 0;
    assert_true(differ);
    /* names come from the person's own stream */
    char f1[32], g1[32], f2[32], g2[32];
    demo_rng r1, r2;
    demo_rng_init(&r1, 21, "identity", 7);
    demo_rng_init(&r2, 21, "identity", 7);
    demo_name(&a.c, &r1, 'F', 1990, 1, f1, sizeof(f1), g1, sizeof(g1));
    demo_name(&b.c, &r2, 'F', 1990, 1, f2, sizeof(f2), g2, sizeof(g2));
    assert_string_equal(f1, f2);
    assert_string_equal(g1, g2);
    assert_true(strlen(f1) >= 3 && strlen(g1) >= 3); /* hanzi */
    fixture_fini(&a);
    fixture_fini(&b);
    fixture_fini(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_pyramid),
        cmocka_unit_test(test_households_and_chronic),
        cmocka_unit_test(test_id_numbers),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
