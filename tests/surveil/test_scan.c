/*
 * test_scan.c - unit tests for the space-time permutation scan
 * (src/surveil/scan.c).
 *
 * Why: the scan decides whether a county's rise is a real space-time
 * cluster; a wrong expected count or a biased permutation would silently
 * move every p-value.  The tests pin the expected-count formula and the
 * LLR on a hand-computed 2 x 3 example, find a planted cluster (p < 0.05,
 * right place and days), keep p-values unremarkable on outbreak-free data
 * (one dataset and the rate of p < 0.05 over twenty), and check that the
 * seed makes results reproducible and that bad input is refused.
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
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/scan.h"

/* ---- the 2 x 3 example -------------------------------------------------
 *          d0 d1 d2 | N_z
 *   z0      2  0  4 |  6
 *   z1      3  1  0 |  4
 *   N_d     5  1  4 | C = 10
 * mu[z][d] = N_z * N_d / C: z0 = 3.0 0.6 2.4, z1 = 2.0 0.4 1.6.
 */
static const int32_t tiny_counts[] = {2, 0, 4, 3, 1, 0};
static const rhis_scan_location tiny_locs[] = {
    {"220221100", 43.60, 126.50},
    {"220221101", 43.70, 126.50},
};

static rhis_scan_input
tiny_input(void)
{
    rhis_scan_input in = {tiny_locs, 2, 3, 20000, tiny_counts};
    return in;
}

/* mu of zone `zone` (locations) x days [s, e] summed cell by cell */
static double
cell_sum_expected(
    const int32_t *m, int L, int D, const int *zone, int nz, int s, int e)
{
    double C = 0, mu = 0;
    for (int j = 0; j < L * D; j++)
        C += m[j];
    for (int a = 0; a < nz; a++) {
        double n_z = 0;
        for (int d = 0; d < D; d++)
            n_z += m[zone[a] * D + d];
        for (int d = s; d <= e; d++) {
            double n_d = 0;
            for (int z = 0; z < L; z++)
                n_d += m[z * D + d];
            mu += n_z * n_d / C;
        }
    }
    return mu;
}

static void
llr_matches_hand_computation(void **state)
{
    (void)state;
    /* 4 ln(4/2.4) + 6 ln(6/7.6) */
    double want = 4 * log(4 / 2.4) + 6 * log(6 / 7.6);
    assert_true(fabs(want - 0.624970) < 1e-6);
    assert_true(fabs(rhis_scan_llr(4, 2.4, 10) - want) < 1e-12);
    assert_true(rhis_scan_llr(2, 2.4, 10) == 0.0); /* c < mu */
    assert_true(rhis_scan_llr(3, 3.0, 10) == 0.0); /* c == mu */
    assert_true(rhis_scan_llr(0, 0.0, 10) == 0.0);
    /* the whole study: the outside term vanishes */
    assert_true(fabs(rhis_scan_llr(10, 5.0, 10) - 10 * log(2.0)) < 1e-12);
}

static void
distance_is_great_circle(void **state)
{
    (void)state;
    /* one degree of latitude is 111.195 km on the mean sphere */
    double d = rhis_scan_distance_km(43.0, 126.0, 44.0, 126.0);
    assert_true(fabs(d - 111.1951) < 1e-3);
    assert_true(rhis_scan_distance_km(43.6, 126.5, 43.6, 126.5) == 0.0);
    double e = rhis_scan_distance_km(0.0, 0.0, 0.0, 1.0);
    assert_true(fabs(e - 111.1951) < 1e-3);
}

static void
tiny_example_expected_counts_are_exact(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_input in = tiny_input();
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    p.max_neighbours = 1; /* zones are single locations */
    p.max_case_share = 0;
    p.max_window = 1;
    p.min_cases = 1;
    p.replications = 0;
    rhis_scan_result *r = NULL;
    char err[256];
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    assert_int_equal(r->total_cases, 10);
    assert_int_equal(r->nzones, 2);
    assert_int_equal(r->ncylinders, 2); /* prospective, 1-day window */
    /* only (z0, d2) has c > mu: 4 > 2.4; (z1, d2) has 0 < 1.6 */
    assert_int_equal(r->nclusters, 1);
    const rhis_scan_cluster *c = &r->clusters[0];
    assert_int_equal(c->centre, 0);
    assert_int_equal(c->nlocs, 1);
    assert_int_equal(c->locs[0], 0);
    assert_int_equal(c->start, 2);
    assert_int_equal(c->end, 2);
    assert_int_equal(c->start_day, 20002);
    assert_int_equal(c->end_day, 20002);
    assert_int_equal(c->observed, 4);
    assert_true(fabs(c->expected - 2.4) < 1e-12);
    int z0 = 0;
    assert_true(fabs(c->expected - cell_sum_expected(tiny_counts, 2, 3, &z0, 1,
                                                     2, 2)) < 1e-12);
    assert_true(fabs(c->llr - (4 * log(4 / 2.4) + 6 * log(6 / 7.6))) < 1e-12);
    assert_true(fabs(c->rr_inside - 4 / 2.4) < 1e-12);
    assert_true(fabs(c->rr_outside - 6 / 7.6) < 1e-12);
    assert_true(c->p == 1.0); /* no replicates */
    assert_int_equal(r->replications, 0);
    rhis_arena_free(a);
}

static void
tiny_example_retrospective_finds_secondary_cluster(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_input in = tiny_input();
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    p.max_neighbours = 1;
    p.max_case_share = 0;
    p.max_window = 2;
    p.prospective = 0;
    p.min_cases = 1;
    p.replications = 0;
    rhis_scan_result *r = NULL;
    char err[256];
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    /* windows [0,0] [1,1] [0,1] [2,2] [1,2] per zone */
    assert_int_equal(r->ncylinders, 10);
    assert_int_equal(r->nclusters, 2);
    /* z0: [2,2] 4 vs 2.4 beats [1,2] 4 vs 3.0 (0.2258);
     * z1: [0,1] 4 vs 4 * 6 / 10 = 2.4 beats [0,0] 3 vs 2.0 (0.2817) and
     * [1,1] 1 vs 0.4 (0.3354).  Both best LLRs are 4 ln(4/2.4) +
     * 6 ln(6/7.6) = 0.6250; which comes first is a floating-point tie. */
    double want = rhis_scan_llr(4, 2.4, 10);
    assert_true(want > rhis_scan_llr(4, 3.0, 10));
    assert_true(want > rhis_scan_llr(3, 2.0, 10));
    assert_true(want > rhis_scan_llr(1, 0.4, 10));
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        const rhis_scan_cluster *c = &r->clusters[k];
        assert_int_equal(c->nlocs, 1);
        assert_true(fabs(c->llr - want) < 1e-12);
        assert_int_equal(c->observed, 4);
        assert_true(fabs(c->expected - 2.4) < 1e-12);
        assert_true(
            fabs(c->expected - cell_sum_expected(tiny_counts, 2, 3, c->locs, 1,
                                                 c->start, c->end)) < 1e-12);
        if (c->locs[0] == 0) {
            assert_int_equal(c->start, 2);
            assert_int_equal(c->end, 2);
            seen |= 1;
        } else {
            assert_int_equal(c->start, 0);
            assert_int_equal(c->end, 1);
            seen |= 2;
        }
    }
    assert_int_equal(seen, 3);
    rhis_arena_free(a);
}

static void
zone_of_all_cases_is_never_a_cluster(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_input in = tiny_input();
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    p.max_case_share = 0; /* zones up to both locations */
    p.max_window = 3;
    p.min_cases = 1;
    p.replications = 0;
    rhis_scan_result *r = NULL;
    char err[256];
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    /* {z0}, {z0,z1}, {z1}; {z1,z0} is a duplicate */
    assert_int_equal(r->nzones, 3);
    for (int k = 0; k < r->nclusters; k++)
        assert_true(r->clusters[k].nlocs == 1);
    rhis_arena_free(a);
}

/* ---- synthetic region ---------------------------------------------------
 * 20 townships on a 5 x 4 grid about 9 km apart, 45 days, Poisson(2)
 * background; a deterministic generator so every run sees the same data.
 */
#define NL 20
#define ND 45

static uint64_t
lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 11;
}

static int
poisson(uint64_t *x, double lambda)
{
    double L = exp(-lambda), prod = 1.0;
    int k = -1;
    do {
        k++;
        prod *= (double)(lcg(x) >> 1) / (double)(1ULL << 52);
    } while (prod > L);
    return k;
}

static rhis_scan_location grid_locs[NL];
static char grid_codes[NL][16];

static void
make_grid(void)
{
    for (int i = 0; i < NL; i++) {
        (void)snprintf(grid_codes[i], sizeof(grid_codes[i]), "220221%03u",
                       100u + (unsigned)i);
        grid_locs[i].code = grid_codes[i];
        grid_locs[i].lat = 43.50 + 0.08 * (i / 5);
        grid_locs[i].lon = 126.30 + 0.11 * (i % 5);
    }
}

static void
make_null(int32_t *m, uint64_t seed)
{
    uint64_t x = seed;
    for (int j = 0; j < NL * ND; j++)
        m[j] = poisson(&x, 2.0);
}

static rhis_scan_result *
run_grid(rhis_arena *a, const int32_t *m, int replications, uint64_t seed)
{
    make_grid();
    rhis_scan_input in = {grid_locs, NL, ND, 20400, m};
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    p.max_window = 14;
    p.replications = replications;
    p.seed = seed;
    rhis_scan_result *r = NULL;
    char err[256];
    rhis_status rc = rhis_scan_run(a, &in, &p, &r, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("scan: %s\n", err);
    assert_int_equal(rc, RHIS_OK);
    return r;
}

/* ---- brute force ----------------------------------------------------------
 * Every cylinder enumerated directly: neighbours sorted by distance (the
 * centre first), mu summed cell by cell, the LLR from rhis_scan_llr; each
 * centre's best, then the greedy non-overlapping choice.  The scan must
 * agree on small random data in both modes and under each size limit.
 */
typedef struct bf_best {
    double llr;
    int k, s, e;
} bf_best;

static int bf_order[16][16];

static void
bf_neighbours(const rhis_scan_location *locs, int L)
{
    for (int i = 0; i < L; i++) {
        double d[16];
        for (int j = 0; j < L; j++) {
            d[j] = j == i ? -1.0
                          : rhis_scan_distance_km(locs[i].lat, locs[i].lon,
                                                  locs[j].lat, locs[j].lon);
            bf_order[i][j] = j;
        }
        for (int a = 1; a < L; a++) /* insertion sort by (d, index) */
            for (int b = a; b > 0; b--) {
                int x = bf_order[i][b - 1], y = bf_order[i][b];
                if (d[x] < d[y] || (d[x] == d[y] && x < y))
                    break;
                bf_order[i][b - 1] = y;
                bf_order[i][b] = x;
            }
    }
}

static void
brute_force(const rhis_scan_input *in,
            const rhis_scan_params *p,
            int W,
            bf_best *best)
{
    int L = in->nloc, D = in->ndays;
    int64_t C = 0, nz[16] = {0};
    for (int z = 0; z < L; z++)
        for (int d = 0; d < D; d++) {
            C += in->counts[z * D + d];
            nz[z] += in->counts[z * D + d];
        }
    bf_neighbours(in->locs, L);
    for (int i = 0; i < L; i++) {
        best[i].llr = 0;
        best[i].k = -1;
        int64_t cases = 0;
        for (int k = 0; k < L; k++) {
            int z = bf_order[i][k];
            cases += nz[z];
            double dist =
                rhis_scan_distance_km(in->locs[i].lat, in->locs[i].lon,
                                      in->locs[z].lat, in->locs[z].lon);
            if (k > 0 &&
                ((p->max_neighbours > 0 && k + 1 > p->max_neighbours) ||
                 (p->max_radius_km > 0 && dist > p->max_radius_km) ||
                 (p->max_case_share > 0 &&
                  (double)cases > p->max_case_share * (double)C + 1e-9)))
                break;
            for (int e = p->prospective ? D - 1 : 0; e < D; e++)
                for (int len = 1; len <= W && len <= e + 1; len++) {
                    int st = e - len + 1;
                    int64_t c = 0;
                    for (int q = 0; q <= k; q++)
                        for (int d = st; d <= e; d++)
                            c += in->counts[bf_order[i][q] * D + d];
                    double mu = cell_sum_expected(in->counts, L, D, bf_order[i],
                                                  k + 1, st, e);
                    if (c < p->min_cases)
                        continue;
                    double llr = rhis_scan_llr(c, mu, C);
                    if (llr > best[i].llr + 1e-9) {
                        best[i].llr = llr;
                        best[i].k = k;
                        best[i].s = st;
                        best[i].e = e;
                    }
                }
        }
    }
}

static void
scan_agrees_with_brute_force(void **state)
{
    (void)state;
    uint64_t x = 2024;
    rhis_scan_location locs[8];
    int32_t m[8 * 10];
    int checked = 0;
    for (int round = 0; round < 24; round++) {
        int L = 3 + round % 6, D = 4 + round % 7;
        for (int i = 0; i < L; i++) {
            locs[i].code = "x";
            locs[i].lat = 43.0 + (double)(lcg(&x) % 10000) / 20000.0;
            locs[i].lon = 126.0 + (double)(lcg(&x) % 10000) / 20000.0;
        }
        for (int j = 0; j < L * D; j++)
            m[j] = poisson(&x, 0.5 + (double)(lcg(&x) % 4));
        rhis_scan_input in = {locs, L, D, 0, m};
        rhis_scan_params p;
        rhis_scan_params_init(&p);
        p.prospective = round % 2;
        p.max_window = 1 + round % D;
        p.min_cases = 1 + round % 3;
        p.replications = 0;
        p.max_clusters = 8;
        switch (round % 4) {
        case 0:
            break; /* share 0.5 */
        case 1:
            p.max_case_share = 0;
            p.max_neighbours = 1 + round % 4;
            break;
        case 2:
            p.max_case_share = 0;
            p.max_radius_km = 15.0;
            break;
        default:
            p.max_case_share = 0;
            break;
        }
        rhis_arena *a = rhis_arena_new();
        rhis_scan_result *r = NULL;
        char err[256];
        assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                         RHIS_OK);
        bf_best bb[8];
        brute_force(&in, &p, p.max_window, bb);
        /* the greedy choice over the centres' bests */
        int used[8] = {0}, taken[8] = {0}, nc = 0;
        for (;;) {
            int pick = -1;
            for (int i = 0; i < L; i++) {
                if (taken[i] || bb[i].k < 0)
                    continue;
                if (pick < 0 || bb[i].llr > bb[pick].llr + 1e-9)
                    pick = i;
            }
            if (pick < 0)
                break;
            taken[pick] = 1;
            int overlap = 0;
            for (int q = 0; q <= bb[pick].k; q++)
                overlap |= used[bf_order[pick][q]];
            if (overlap)
                continue;
            for (int q = 0; q <= bb[pick].k; q++)
                used[bf_order[pick][q]] = 1;
            assert_true(nc < r->nclusters);
            const rhis_scan_cluster *c = &r->clusters[nc++];
            assert_true(fabs(c->llr - bb[pick].llr) < 1e-9);
            /* same LLR, and where the choice is unique the same cylinder */
            if (c->centre == pick) {
                assert_int_equal(c->nlocs, bb[pick].k + 1);
                assert_int_equal(c->start, bb[pick].s);
                assert_int_equal(c->end, bb[pick].e);
            }
            checked++;
        }
        assert_int_equal(r->nclusters, nc);
        rhis_arena_free(a);
    }
    assert_true(checked > 20);
}

static void
planted_cluster_is_found(void **state)
{
    (void)state;
    int32_t m[NL * ND];
    make_null(m, 7);
    /* townships 6, 7 and 11 (neighbours on the grid): +5 a day over the
     * last 4 days */
    static const int planted[] = {6, 7, 11};
    for (int k = 0; k < 3; k++)
        for (int d = ND - 4; d < ND; d++)
            m[planted[k] * ND + d] += 5;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_result *r = run_grid(a, m, 999, 42);
    assert_true(r->nclusters >= 1);
    const rhis_scan_cluster *c = &r->clusters[0];
    assert_true(c->p < 0.05);
    assert_int_equal(c->rank, 1);
    assert_true(fabs(c->p - 0.001) < 1e-12);
    assert_true(fabs(c->recurrence_days - 1000.0) < 1e-9);
    assert_int_equal(c->end, ND - 1);
    assert_true(c->start >= ND - 6 && c->start <= ND - 3);
    /* the zone is the planted townships, give or take one neighbour */
    int hit = 0;
    for (int k = 0; k < c->nlocs; k++)
        for (int q = 0; q < 3; q++)
            hit += c->locs[k] == planted[q];
    assert_true(hit >= 2);
    assert_true(c->nlocs <= 5);
    assert_true(c->observed > c->expected * 1.8);
    /* expected = N_Z * N_T / C, recomputed cell by cell */
    double mu =
        cell_sum_expected(m, NL, ND, c->locs, c->nlocs, c->start, c->end);
    assert_true(fabs(c->expected - mu) < 1e-9 * mu);
    /* secondary clusters never share a township with a more likely one */
    for (int i = 0; i < r->nclusters; i++)
        for (int j = 0; j < i; j++)
            for (int u = 0; u < r->clusters[i].nlocs; u++)
                for (int v = 0; v < r->clusters[j].nlocs; v++)
                    assert_true(r->clusters[i].locs[u] !=
                                r->clusters[j].locs[v]);
    /* replicate maxima are sorted and all below the planted cluster */
    for (int i = 1; i < r->replications; i++)
        assert_true(r->rep_max[i - 1] <= r->rep_max[i]);
    assert_true(r->rep_max[r->replications - 1] < c->llr);
    rhis_arena_free(a);
}

static void
null_data_gives_unremarkable_p(void **state)
{
    (void)state;
    int32_t m[NL * ND];
    make_null(m, 7); /* the planted test's background without the cluster */
    rhis_arena *a = rhis_arena_new();
    rhis_scan_result *r = run_grid(a, m, 999, 42);
    assert_true(r->nclusters >= 1);
    assert_true(r->clusters[0].p > 0.2);
    rhis_arena_free(a);
    /* over twenty outbreak-free datasets, p < 0.05 about once (5 %);
     * five or more has probability 0.3 % */
    int small = 0;
    for (uint64_t s = 100; s < 120; s++) {
        make_null(m, s);
        a = rhis_arena_new();
        r = run_grid(a, m, 199, s);
        if (r->nclusters > 0 && r->clusters[0].p < 0.05)
            small++;
        rhis_arena_free(a);
    }
    assert_true(small <= 4);
}

static void
same_seed_same_result(void **state)
{
    (void)state;
    int32_t m[NL * ND];
    make_null(m, 11);
    rhis_arena *a = rhis_arena_new();
    rhis_scan_result *r1 = run_grid(a, m, 99, 5);
    rhis_scan_result *r2 = run_grid(a, m, 99, 5);
    rhis_scan_result *r3 = run_grid(a, m, 99, 6);
    assert_int_equal(r1->nclusters, r2->nclusters);
    assert_memory_equal(r1->rep_max, r2->rep_max, 99 * sizeof(double));
    for (int k = 0; k < r1->nclusters; k++)
        assert_true(r1->clusters[k].p == r2->clusters[k].p);
    /* another seed: other replicates, the same observed clusters */
    assert_true(memcmp(r1->rep_max, r3->rep_max, 99 * sizeof(double)) != 0);
    assert_true(r1->clusters[0].llr == r3->clusters[0].llr);
    rhis_arena_free(a);
}

static void
limits_bound_the_zones(void **state)
{
    (void)state;
    int32_t m[NL * ND];
    make_null(m, 3);
    make_grid();
    rhis_scan_input in = {grid_locs, NL, ND, 0, m};
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    p.replications = 19;
    p.max_case_share = 0;
    p.max_neighbours = 3;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_result *r = NULL;
    char err[256];
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    assert_int_equal(r->max_window, ND / 2); /* default: half the period */
    for (int k = 0; k < r->nclusters; k++)
        assert_true(r->clusters[k].nlocs <= 3);
    /* 10 km radius: the grid is 8.9 km by 8.9 km, so a centre and its
     * four orthogonal neighbours at most */
    p.max_neighbours = 0;
    p.max_radius_km = 10.0;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    for (int k = 0; k < r->nclusters; k++) {
        assert_true(r->clusters[k].nlocs <= 5);
        assert_true(r->clusters[k].radius_km <= 10.0);
    }
    /* the case-share limit: no cluster zone holds over 30 % of all cases */
    p.max_radius_km = 0;
    p.max_case_share = 0.3;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    for (int k = 0; k < r->nclusters; k++) {
        const rhis_scan_cluster *c = &r->clusters[k];
        int64_t n = 0;
        for (int u = 0; u < c->nlocs; u++)
            for (int d = 0; d < ND; d++)
                n += m[c->locs[u] * ND + d];
        assert_true(c->nlocs == 1 || (double)n <= 0.3 * r->total_cases);
    }
    rhis_arena_free(a);
}

static void
bad_input_is_refused(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_scan_input in = tiny_input();
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    rhis_scan_result *r = NULL;
    char err[256];
    int32_t neg[] = {2, 0, -1, 3, 1, 0};
    in.counts = neg;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err, "location 0 day 2"));
    in = tiny_input();
    rhis_scan_location bad[] = {{"x", 91.0, 0.0}, {"y", 0.0, 0.0}};
    in.locs = bad;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "location 0"));
    bad[0].lat = NAN;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    in = tiny_input();
    p.max_window = 4;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "max_window"));
    rhis_scan_params_init(&p);
    p.max_case_share = 1.5;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    rhis_scan_params_init(&p);
    p.replications = -1;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    rhis_scan_params_init(&p);
    p.min_cases = 0;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    in.day0 = INT64_MAX;
    rhis_scan_params_init(&p);
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "day0"));
    in.day0 = 0;
    in.nloc = 0;
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                     RHIS_EINVAL);
    /* too many cylinders: 3000 days, every window up to 3000 days long */
    static int32_t longc[3000];
    static const rhis_scan_location one[] = {{"220221100", 43.6, 126.5}};
    longc[5] = 3;
    rhis_scan_input lin = {one, 1, 3000, 0, longc};
    p.prospective = 0;
    p.max_window = 3000;
    assert_int_equal(rhis_scan_run(a, &lin, &p, &r, err, sizeof(err)),
                     RHIS_ETOOBIG);
    assert_null(r);
    assert_non_null(strstr(err, "cylinders"));
    /* no cases at all: fine, no cluster */
    static int32_t zeros[6];
    in = tiny_input();
    in.counts = zeros;
    rhis_scan_params_init(&p);
    assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)), RHIS_OK);
    assert_int_equal(r->nclusters, 0);
    assert_int_equal(r->replications, 0);
    rhis_arena_free(a);
}

/* 999 replicates over 20 townships x 60 days, prospective (the nightly
 * case), and 99 retrospective ones; prints the times (docs/performance.md
 * has release figures) and fails only if the prospective run takes over
 * 5 s, which would mean a complexity bug even in a sanitizer build. */
static void
timing_of_999_replicates(void **state)
{
    (void)state;
    enum { D60 = 60 };
    static int32_t m[NL * D60];
    uint64_t x = 99;
    for (int j = 0; j < NL * D60; j++)
        m[j] = poisson(&x, 3.0);
    make_grid();
    rhis_scan_input in = {grid_locs, NL, D60, 0, m};
    rhis_scan_params p;
    rhis_scan_params_init(&p);
    for (int prosp = 1; prosp >= 0; prosp--) {
        p.prospective = prosp;
        p.max_window = prosp ? 30 : 14;
        p.replications = prosp ? 999 : 99;
        rhis_arena *a = rhis_arena_new();
        rhis_scan_result *r = NULL;
        char err[256];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(rhis_scan_run(a, &in, &p, &r, err, sizeof(err)),
                         RHIS_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        print_message("scan %s: 20 x 60 days, max window %d, %zu zones, "
                      "%zu cylinders, %ld cases, %d replicates: %.3f s\n",
                      prosp ? "prospective" : "retrospective", p.max_window,
                      r->nzones, r->ncylinders, (long)r->total_cases,
                      p.replications, s);
        if (prosp)
            assert_true(s < 5.0);
        rhis_arena_free(a);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llr_matches_hand_computation),
        cmocka_unit_test(distance_is_great_circle),
        cmocka_unit_test(tiny_example_expected_counts_are_exact),
        cmocka_unit_test(tiny_example_retrospective_finds_secondary_cluster),
        cmocka_unit_test(zone_of_all_cases_is_never_a_cluster),
        cmocka_unit_test(scan_agrees_with_brute_force),
        cmocka_unit_test(planted_cluster_is_found),
        cmocka_unit_test(null_data_gives_unremarkable_p),
        cmocka_unit_test(same_seed_same_result),
        cmocka_unit_test(limits_bound_the_zones),
        cmocka_unit_test(bad_input_is_refused),
        cmocka_unit_test(timing_of_999_replicates),
    };
    return cmocka_run_group_tests_name("surveil scan", tests, NULL, NULL);
}
