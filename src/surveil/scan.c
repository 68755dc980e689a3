/*
 * scan.c - the space-time permutation scan statistic (include/rhis/scan.h).
 *
 * Why this shape: the statistic is a maximum over every cylinder (zone x
 * time window), taken again for each of R replicates, so the whole cost
 * is in the inner loop.  Everything that does not depend on the
 * permutation is computed once:
 * - the zones (nearest-neighbour lists of every centre, cut at the size
 *   limits) and which of them are duplicates of an earlier zone (the same
 *   location set seen from another centre: replicates skip them, their
 *   maximum cannot change);
 * - the expected counts: mu_A = N_Z * N_T / C depends on the margins
 *   only, and permuting day labels keeps both margins, so ln mu_A is
 *   ln N_Z + ln N_T - ln C and ln(C - mu_A) is stored per cylinder;
 * - c ln c for c = 0..C.
 * A replicate then costs a shuffle of the C day labels, a count matrix,
 * and per zone one pass over the days (running sums) plus a few table
 * look-ups and multiply-adds per window.
 *
 * Randomness: xoshiro256** seeded from the caller's seed by splitmix64,
 * Lemire's unbiased bounded integers, Fisher-Yates shuffles; the same
 * seed gives the same p-values on every platform.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/scan.h"

#define EARTH_RADIUS_KM 6371.0088
#define DEG2RAD         (3.14159265358979323846 / 180.0)

/* ---- random numbers ---------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n >= 1 (Lemire 2019, unbiased). */
static uint32_t
rng_below(rng *r, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* ---- geometry ------------------------------------------------------------ */

double
rhis_scan_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD;
    double dp = p2 - p1, dl = (lon2 - lon1) * DEG2RAD;
    double h = sin(dp / 2) * sin(dp / 2) +
               cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    if (h > 1.0)
        h = 1.0;
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(h));
}

double
rhis_scan_llr(int64_t c, double mu, int64_t C)
{
    if ((double)c <= mu || c <= 0)
        return 0.0;
    double in = (double)c * log((double)c / mu);
    double rest = (double)(C - c);
    double out = rest > 0 ? rest * log(rest / ((double)C - mu)) : 0.0;
    return in + out;
}

void
rhis_scan_params_init(rhis_scan_params *p)
{
    memset(p, 0, sizeof(*p));
    p->max_case_share = 0.5;
    p->prospective = 1;
    p->min_cases = 2;
    p->replications = 999;
    p->seed = 20050301;
    p->max_clusters = 10;
}

/* ---- the precomputed search space ---------------------------------------- */

typedef struct scan {
    int L, D, W;
    int prospective, min_cases;
    int64_t C;
    /* zones: centre i has nk[i] sizes; its neighbours, nearest first, are
     * nbr[off[i] .. off[i] + nk[i]), at distances dist[...]; uniq[...] is 1
     * where the zone of the first k+1 neighbours is new */
    int *nk;
    size_t *off;
    int *nbr;
    double *dist;
    uint8_t *uniq;
    int64_t *nz; /* per location: cases over the period */
    size_t nzones;
    /* windows: [ws[w], we[w]], with N_T and ln N_T */
    int nw;
    int *ws, *we;
    double *nt, *lnt;
    size_t ncyl;
    double *lcmu; /* per cylinder (zone-major): ln(C - mu) */
    double *cl;   /* c ln c, c = 0..C */
    double lnC;
    /* scratch */
    int64_t *series, *prefix;
} scan;

/* The best cylinder of one centre (observed data only). */
typedef struct best {
    double llr;
    int k; /* zone = first k+1 neighbours */
    int w;
    int64_t c;
    double mu;
} best;

typedef struct nbr_sort {
    double d;
    int i;
} nbr_sort;

static int
cmp_nbr(const void *a, const void *b)
{
    const nbr_sort *x = a, *y = b;
    if (x->d < y->d)
        return -1;
    if (x->d > y->d)
        return 1;
    return (x->i > y->i) - (x->i < y->i);
}

static void
scan_fini(scan *s)
{
    rhis_free(s->nk);
    rhis_free(s->off);
    rhis_free(s->nbr);
    rhis_free(s->dist);
    rhis_free(s->uniq);
    rhis_free(s->nz);
    rhis_free(s->ws);
    rhis_free(s->we);
    rhis_free(s->nt);
    rhis_free(s->lnt);
    rhis_free(s->lcmu);
    rhis_free(s->cl);
    rhis_free(s->series);
    rhis_free(s->prefix);
}

/*
 * Neighbour lists cut at the size limits: a zone grows by the next
 * nearest location while it meets every limit; the first violation stops
 * it (the centre alone is always a zone).
 */
static rhis_status
build_zones(scan *s, const rhis_scan_input *in, const rhis_scan_params *p)
{
    int L = s->L;
    nbr_sort *tmp = rhis_xcalloc((size_t)L, sizeof(*tmp));
    s->nk = rhis_xcalloc((size_t)L, sizeof(int));
    s->off = rhis_xcalloc((size_t)L + 1, sizeof(size_t));
    size_t cap = (size_t)L * 4, n = 0;
    s->nbr = rhis_xcalloc(cap, sizeof(int));
    s->dist = rhis_xcalloc(cap, sizeof(double));
    double share_cap =
        p->max_case_share > 0 ? p->max_case_share * (double)s->C + 1e-9 : 0.0;
    for (int i = 0; i < L; i++) {
        for (int j = 0; j < L; j++) {
            tmp[j].i = j;
            tmp[j].d =
                j == i
                    ? 0.0
                    : rhis_scan_distance_km(in->locs[i].lat, in->locs[i].lon,
                                            in->locs[j].lat, in->locs[j].lon);
        }
        /* the centre first even if another location shares its point */
        tmp[i].d = -1.0;
        qsort(tmp, (size_t)L, sizeof(*tmp), cmp_nbr);
        tmp[0].d = 0.0;
        s->off[i] = n;
        int64_t cases = 0;
        int k = 0;
        for (; k < L; k++) {
            cases += s->nz[tmp[k].i];
            if (k > 0) {
                if (p->max_neighbours > 0 && k + 1 > p->max_neighbours)
                    break;
                if (p->max_radius_km > 0 && tmp[k].d > p->max_radius_km)
                    break;
                if (share_cap > 0 && (double)cases > share_cap)
                    break;
            }
            if (n == (size_t)RHIS_SCAN_MAX_CYLINDERS) {
                rhis_free(tmp);
                return RHIS_ETOOBIG;
            }
            if (n == cap) {
                cap *= 2;
                s->nbr = rhis_xrealloc(s->nbr, cap * sizeof(int));
                s->dist = rhis_xrealloc(s->dist, cap * sizeof(double));
            }
            s->nbr[n] = tmp[k].i;
            s->dist[n] = tmp[k].d;
            n++;
        }
        s->nk[i] = k;
    }
    s->off[L] = n;
    rhis_free(tmp);
    return RHIS_OK;
}

/*
 * Marks duplicate zones.  A zone's key is the XOR of per-location random
 * keys (order-free, updated as the zone grows); equal keys are confirmed
 * member by member before a zone counts as a duplicate.
 */
static void
dedupe_zones(scan *s)
{
    int L = s->L;
    size_t total = s->off[L];
    uint64_t *key = rhis_xcalloc((size_t)L, sizeof(uint64_t));
    uint64_t sm = 0x5ca1ab1e;
    for (int j = 0; j < L; j++)
        key[j] = splitmix64(&sm);
    size_t hcap = 16;
    while (hcap < total * 2)
        hcap *= 2;
    /* slot: index+1 into nbr of the zone's last member, 0 = empty */
    uint32_t *slot = rhis_xcalloc(hcap, sizeof(uint32_t));
    uint64_t *slot_key = rhis_xcalloc(hcap, sizeof(uint64_t));
    int *owner = rhis_xcalloc(total > 0 ? total : 1, sizeof(int)); /* centre */
    uint8_t *mark = rhis_xcalloc((size_t)L, 1);
    s->uniq = rhis_xcalloc(total > 0 ? total : 1, 1);
    s->nzones = 0;
    for (int i = 0; i < L; i++) {
        uint64_t h = 0;
        for (int k = 0; k < s->nk[i]; k++) {
            size_t pos = s->off[i] + (size_t)k;
            owner[pos] = i;
            h ^= key[s->nbr[pos]];
            size_t b = (size_t)(h * 0x9e3779b97f4a7c15ULL) & (hcap - 1);
            int dup = 0;
            while (slot[b] != 0) {
                size_t q = slot[b] - 1;
                int qi = owner[q];
                int qk = (int)(q - s->off[qi]);
                if (slot_key[b] == h && qk == k) {
                    for (int m = 0; m <= k; m++)
                        mark[s->nbr[s->off[i] + (size_t)m]] = 1;
                    int same = 1;
                    for (int m = 0; m <= k && same; m++)
                        same = mark[s->nbr[s->off[qi] + (size_t)m]];
                    for (int m = 0; m <= k; m++)
                        mark[s->nbr[s->off[i] + (size_t)m]] = 0;
                    if (same) {
                        dup = 1;
                        break;
                    }
                }
                b = (b + 1) & (hcap - 1);
            }
            if (!dup) {
                slot[b] = (uint32_t)(pos + 1);
                slot_key[b] = h;
                s->uniq[pos] = 1;
                s->nzones++;
            }
        }
    }
    rhis_free(key);
    rhis_free(slot);
    rhis_free(slot_key);
    rhis_free(owner);
    rhis_free(mark);
}

/* The time windows in a fixed order, with their case totals. */
static void
build_windows(scan *s, const int64_t *nd)
{
    int D = s->D, W = s->W;
    size_t n = 0;
    if (s->prospective)
        n = (size_t)W;
    else
        for (int e = 0; e < D; e++)
            n += (size_t)(e + 1 < W ? e + 1 : W);
    s->nw = (int)n;
    s->ws = rhis_xcalloc(n, sizeof(int));
    s->we = rhis_xcalloc(n, sizeof(int));
    s->nt = rhis_xcalloc(n, sizeof(double));
    s->lnt = rhis_xcalloc(n, sizeof(double));
    int64_t *pre = rhis_xcalloc((size_t)D + 1, sizeof(int64_t));
    for (int d = 0; d < D; d++)
        pre[d + 1] = pre[d] + nd[d];
    size_t w = 0;
    for (int e = s->prospective ? D - 1 : 0; e < D; e++) {
        for (int len = 1; len <= W && len <= e + 1; len++) {
            s->ws[w] = e - len + 1;
            s->we[w] = e;
            s->nt[w] = (double)(pre[e + 1] - pre[e - len + 1]);
            s->lnt[w] = s->nt[w] > 0 ? log(s->nt[w]) : 0.0;
            w++;
        }
    }
    RHIS_ASSERT(w == n);
    rhis_free(pre);
}

/* ln(C - mu) of a cylinder; one expression for the precomputed table and
 * the observed pass, so both give bit-identical LLRs. */
static double
log_rest(int64_t nzone, double nt, double C)
{
    double mu = (double)nzone * nt / C;
    return mu < C ? log(C - mu) : 0.0;
}

static void
precompute(scan *s)
{
    s->lnC = log((double)s->C);
    s->cl = rhis_xcalloc((size_t)s->C + 1, sizeof(double));
    for (int64_t c = 1; c <= s->C; c++)
        s->cl[c] = (double)c * log((double)c);
    s->lcmu = rhis_xcalloc(s->ncyl > 0 ? s->ncyl : 1, sizeof(double));
    double C = (double)s->C;
    size_t cyl = 0;
    for (int i = 0; i < s->L; i++) {
        int64_t nzone = 0;
        for (int k = 0; k < s->nk[i]; k++) {
            size_t pos = s->off[i] + (size_t)k;
            nzone += s->nz[s->nbr[pos]];
            if (!s->uniq[pos])
                continue;
            for (int w = 0; w < s->nw; w++)
                s->lcmu[cyl++] = log_rest(nzone, s->nt[w], C);
        }
    }
    RHIS_ASSERT(cyl == s->ncyl);
    s->series = rhis_xcalloc((size_t)s->D, sizeof(int64_t));
    s->prefix = rhis_xcalloc((size_t)s->D + 1, sizeof(int64_t));
}

/*
 * The maximum LLR over all cylinders of the count matrix m (L x D).  With
 * per_centre != NULL (the observed data, evaluated once) every zone of
 * every centre is evaluated, duplicates included, and each centre's best
 * cylinder is recorded: a centre whose best zone was first seen from
 * another centre must still have that zone as its best, or the choice of
 * secondary clusters would change.  Replicates need the maximum only and
 * skip duplicate zones.  The arithmetic is the same in both uses, so a
 * replicate equal to the data gives exactly the same maximum.
 */
static double
scan_pass(scan *s, const int32_t *m, best *per_centre)
{
    int D = s->D;
    /* prospective windows all lie in the last W days: only those count */
    int lo = s->prospective ? D - s->W : 0;
    int64_t C = s->C;
    double Cd = (double)C;
    double maxllr = 0.0;
    size_t cyl = 0;
    int64_t *ser = s->series, *pre = s->prefix;
    for (int i = 0; i < s->L; i++) {
        best b = {0.0, -1, -1, 0, 0.0};
        memset(ser + lo, 0, (size_t)(D - lo) * sizeof(int64_t));
        int64_t nzone = 0;
        for (int k = 0; k < s->nk[i]; k++) {
            size_t pos = s->off[i] + (size_t)k;
            int z = s->nbr[pos];
            const int32_t *row = m + (size_t)z * (size_t)D;
            for (int d = lo; d < D; d++)
                ser[d] += row[d];
            nzone += s->nz[z];
            const double *lcmu = NULL;
            if (s->uniq[pos]) {
                lcmu = s->lcmu + cyl;
                cyl += (size_t)s->nw;
            } else if (per_centre == NULL) {
                continue;
            }
            if (nzone == 0)
                continue;
            double lnz = log((double)nzone) - s->lnC;
            double nzc = (double)nzone / Cd;
            pre[lo] = 0;
            for (int d = lo; d < D; d++)
                pre[d + 1] = pre[d] + ser[d];
            for (int w = 0; w < s->nw; w++) {
                int64_t c = pre[s->we[w] + 1] - pre[s->ws[w]];
                double mu = nzc * s->nt[w];
                if (c < s->min_cases || (double)c <= mu)
                    continue;
                double lc =
                    lcmu != NULL ? lcmu[w] : log_rest(nzone, s->nt[w], Cd);
                double llr = s->cl[c] - (double)c * (lnz + s->lnt[w]) +
                             s->cl[C - c] - (double)(C - c) * lc;
                if (llr > maxllr)
                    maxllr = llr;
                if (per_centre != NULL && llr > b.llr) {
                    b.llr = llr;
                    b.k = k;
                    b.w = w;
                    b.c = c;
                    b.mu = mu;
                }
            }
        }
        if (per_centre != NULL)
            per_centre[i] = b;
    }
    return maxllr;
}

/* ---- validation ------------------------------------------------------- */

static rhis_status
check_input(const rhis_scan_input *in,
            const rhis_scan_params *p,
            int64_t *total,
            char *err,
            size_t errlen)
{
    if (in == NULL || p == NULL) {
        (void)snprintf(err, errlen, "scan: no input or parameters");
        return RHIS_EINVAL;
    }
    if (in->nloc < 1 || in->nloc > RHIS_SCAN_MAX_LOCATIONS) {
        (void)snprintf(err, errlen, "scan: nloc must be 1..%d (got %d)",
                       RHIS_SCAN_MAX_LOCATIONS, in->nloc);
        return RHIS_EINVAL;
    }
    if (in->ndays < 1 || in->ndays > RHIS_SCAN_MAX_DAYS) {
        (void)snprintf(err, errlen, "scan: ndays must be 1..%d (got %d)",
                       RHIS_SCAN_MAX_DAYS, in->ndays);
        return RHIS_EINVAL;
    }
    if (in->day0 < -100000000 || in->day0 > 100000000) {
        (void)snprintf(err, errlen, "scan: day0 %lld is not a day number",
                       (long long)in->day0);
        return RHIS_EINVAL;
    }
    if (in->locs == NULL || in->counts == NULL) {
        (void)snprintf(err, errlen, "scan: locs and counts are required");
        return RHIS_EINVAL;
    }
    for (int i = 0; i < in->nloc; i++) {
        double lat = in->locs[i].lat, lon = in->locs[i].lon;
        if (!isfinite(lat) || !isfinite(lon) || lat < -90 || lat > 90 ||
            lon < -180 || lon > 180) {
            (void)snprintf(err, errlen,
                           "scan: location %d: lat/lon out of range", i);
            return RHIS_EINVAL;
        }
    }
    int64_t C = 0;
    size_t cells = (size_t)in->nloc * (size_t)in->ndays;
    for (size_t j = 0; j < cells; j++) {
        if (in->counts[j] < 0) {
            (void)snprintf(err, errlen,
                           "scan: count of location %zu day %zu is negative",
                           j / (size_t)in->ndays, j % (size_t)in->ndays);
            return RHIS_EINVAL;
        }
        C += in->counts[j];
        if (C > RHIS_SCAN_MAX_CASES) {
            (void)snprintf(err, errlen, "scan: more than %ld cases",
                           RHIS_SCAN_MAX_CASES);
            return RHIS_EINVAL;
        }
    }
    if (p->max_neighbours < 0) {
        (void)snprintf(err, errlen, "scan: max_neighbours must be >= 0");
        return RHIS_EINVAL;
    }
    if (!isfinite(p->max_radius_km) || p->max_radius_km < 0) {
        (void)snprintf(err, errlen, "scan: max_radius_km must be >= 0");
        return RHIS_EINVAL;
    }
    if (!isfinite(p->max_case_share) || p->max_case_share < 0 ||
        p->max_case_share > 1) {
        (void)snprintf(err, errlen, "scan: max_case_share must be 0..1");
        return RHIS_EINVAL;
    }
    if (p->max_window < 0 || p->max_window > in->ndays) {
        (void)snprintf(err, errlen,
                       "scan: max_window must be 0..ndays (%d), got %d",
                       in->ndays, p->max_window);
        return RHIS_EINVAL;
    }
    if (p->prospective != 0 && p->prospective != 1) {
        (void)snprintf(err, errlen, "scan: prospective must be 0 or 1");
        return RHIS_EINVAL;
    }
    if (p->min_cases < 1) {
        (void)snprintf(err, errlen, "scan: min_cases must be >= 1");
        return RHIS_EINVAL;
    }
    if (p->replications < 0 || p->replications > RHIS_SCAN_MAX_REPLICATIONS) {
        (void)snprintf(err, errlen, "scan: replications must be 0..%d",
                       RHIS_SCAN_MAX_REPLICATIONS);
        return RHIS_EINVAL;
    }
    if (p->max_clusters < 1 || p->max_clusters > RHIS_SCAN_MAX_CLUSTERS) {
        (void)snprintf(err, errlen, "scan: max_clusters must be 1..%d",
                       RHIS_SCAN_MAX_CLUSTERS);
        return RHIS_EINVAL;
    }
    *total = C;
    return RHIS_OK;
}

/* ---- clusters ----------------------------------------------------------- */

typedef struct cand {
    double llr;
    int centre;
} cand;

static int
cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->llr > y->llr)
        return -1;
    if (x->llr < y->llr)
        return 1;
    return (x->centre > y->centre) - (x->centre < y->centre);
}

/*
 * The most likely cluster and the secondary ones: each centre's best
 * cylinder, by LLR, kept when it shares no location with a cluster kept
 * before it (SaTScan's default "no geographical overlap").
 */
static int
pick_clusters(rhis_arena *a,
              const scan *s,
              const rhis_scan_input *in,
              const best *bc,
              int max_clusters,
              rhis_scan_cluster **out)
{
    int L = s->L, n = 0;
    cand *cs = rhis_xcalloc((size_t)L, sizeof(*cs));
    for (int i = 0; i < L; i++)
        if (bc[i].k >= 0 && bc[i].llr > 0)
            cs[n++] = (cand){bc[i].llr, i};
    qsort(cs, (size_t)n, sizeof(*cs), cmp_cand);
    uint8_t *used = rhis_xcalloc((size_t)L, 1);
    rhis_scan_cluster *cl = rhis_arena_calloc(
        a, (size_t)(n < max_clusters ? n : max_clusters) * sizeof(*cl) + 1);
    int m = 0;
    for (int j = 0; j < n && m < max_clusters; j++) {
        int i = cs[j].centre;
        const best *b = &bc[i];
        const int *mem = s->nbr + s->off[i];
        int overlap = 0;
        for (int k = 0; k <= b->k && !overlap; k++)
            overlap = used[mem[k]];
        if (overlap)
            continue;
        int *locs = rhis_arena_alloc(a, (size_t)(b->k + 1) * sizeof(int));
        for (int k = 0; k <= b->k; k++) {
            locs[k] = mem[k];
            used[mem[k]] = 1;
        }
        rhis_scan_cluster *c = &cl[m++];
        double C = (double)s->C;
        c->centre = i;
        c->nlocs = b->k + 1;
        c->locs = locs;
        c->radius_km = s->dist[s->off[i] + (size_t)b->k];
        c->start = s->ws[b->w];
        c->end = s->we[b->w];
        c->start_day = in->day0 + c->start;
        c->end_day = in->day0 + c->end;
        c->observed = b->c;
        c->expected = b->mu;
        c->rr_inside = (double)b->c / b->mu;
        c->rr_outside =
            C - b->mu > 0 ? ((double)(s->C - b->c)) / (C - b->mu) : 0.0;
        c->llr = b->llr;
        c->rank = 1;
        c->p = 1.0;
        c->recurrence_days = 1.0;
    }
    rhis_free(cs);
    rhis_free(used);
    *out = cl;
    return m;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Replicate maxima >= x in the ascending array r[0..n). */
static int
count_at_least(const double *r, int n, double x)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (r[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

/* The R replicate maxima (ascending) into rep[0..R). */
static void
replicate(scan *s, const rhis_scan_input *in, uint64_t seed, int R, double *rep)
{
    int L = s->L, D = s->D;
    /* case j's day label; cases are grouped by location (nz[z] each) */
    uint16_t *day = rhis_xcalloc((size_t)s->C + 1, sizeof(uint16_t));
    size_t j = 0;
    for (int z = 0; z < L; z++)
        for (int d = 0; d < D; d++)
            for (int32_t c = 0; c < in->counts[(size_t)z * (size_t)D + d]; c++)
                day[j++] = (uint16_t)d;
    int32_t *m = rhis_xcalloc((size_t)L * (size_t)D, sizeof(int32_t));
    rng r;
    rng_seed(&r, seed);
    uint32_t n = (uint32_t)s->C;
    for (int rep_i = 0; rep_i < R; rep_i++) {
        /* a uniform shuffle of the previous order is a uniform shuffle */
        for (uint32_t i = n; i > 1; i--) {
            uint32_t k = rng_below(&r, i);
            uint16_t t = day[i - 1];
            day[i - 1] = day[k];
            day[k] = t;
        }
        memset(m, 0, (size_t)L * (size_t)D * sizeof(int32_t));
        j = 0;
        for (int z = 0; z < L; z++) {
            int32_t *row = m + (size_t)z * (size_t)D;
            for (int64_t c = 0; c < s->nz[z]; c++)
                row[day[j++]]++;
        }
        rep[rep_i] = scan_pass(s, m, NULL);
    }
    qsort(rep, (size_t)R, sizeof(double), cmp_double);
    rhis_free(day);
    rhis_free(m);
}

rhis_status
rhis_scan_run(rhis_arena *a,
              const rhis_scan_input *in,
              const rhis_scan_params *p,
              rhis_scan_result **out,
              char *err,
              size_t errlen)
{
    int64_t C = 0;
    *out = NULL;
    rhis_status rc = check_input(in, p, &C, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    scan s;
    memset(&s, 0, sizeof(s));
    s.L = in->nloc;
    s.D = in->ndays;
    s.W = p->max_window > 0 ? p->max_window
                            : (in->ndays / 2 > 0 ? in->ndays / 2 : 1);
    s.prospective = p->prospective;
    s.min_cases = p->min_cases;
    s.C = C;
    s.nz = rhis_xcalloc((size_t)s.L, sizeof(int64_t));
    int64_t *nd = rhis_xcalloc((size_t)s.D, sizeof(int64_t));
    for (int z = 0; z < s.L; z++)
        for (int d = 0; d < s.D; d++) {
            int32_t c = in->counts[(size_t)z * (size_t)s.D + d];
            s.nz[z] += c;
            nd[d] += c;
        }
    /* the number of windows, before anything of that size is allocated */
    double nw = 0;
    if (s.prospective)
        nw = s.W;
    else
        for (int e = 0; e < s.D; e++)
            nw += e + 1 < s.W ? e + 1 : s.W;
    rc = nw > (double)RHIS_SCAN_MAX_CYLINDERS ? RHIS_ETOOBIG
                                              : build_zones(&s, in, p);
    if (rc == RHIS_OK) {
        dedupe_zones(&s);
        if ((double)s.nzones * nw > (double)RHIS_SCAN_MAX_CYLINDERS)
            rc = RHIS_ETOOBIG;
    }
    if (rc != RHIS_OK) {
        (void)snprintf(err, errlen,
                       "scan: more than %ld cylinders (zones x %.0f time "
                       "windows); lower max_neighbours, max_radius_km, "
                       "max_case_share or max_window",
                       RHIS_SCAN_MAX_CYLINDERS, nw);
        rhis_free(nd);
        scan_fini(&s);
        return rc;
    }
    build_windows(&s, nd);
    rhis_free(nd);
    s.ncyl = s.nzones * (size_t)s.nw;

    rhis_scan_result *res = rhis_arena_calloc(a, sizeof(*res));
    res->total_cases = C;
    res->max_window = s.W;
    res->nzones = s.nzones;
    res->ncylinders = s.ncyl;
    res->replications = 0; /* set when the replicates have run */
    double *rep = rhis_arena_calloc(
        a,
        (size_t)(p->replications > 0 ? p->replications : 1) * sizeof(double));
    res->rep_max = rep;
    res->clusters = rhis_arena_calloc(a, sizeof(rhis_scan_cluster));
    if (C == 0) {
        scan_fini(&s);
        *out = res;
        return RHIS_OK;
    }
    precompute(&s);
    best *bc = rhis_xcalloc((size_t)s.L, sizeof(*bc));
    double obs = scan_pass(&s, in->counts, bc);
    if (obs > 0)
        res->nclusters =
            pick_clusters(a, &s, in, bc, p->max_clusters, &res->clusters);
    rhis_free(bc);
    /* without a cluster there is nothing to rank: no replicates */
    if (res->nclusters > 0 && p->replications > 0) {
        int R = p->replications;
        res->replications = R;
        replicate(&s, in, p->seed, R, rep);
        for (int k = 0; k < res->nclusters; k++) {
            rhis_scan_cluster *c = &res->clusters[k];
            c->rank = 1 + count_at_least(rep, R, c->llr);
            c->p = (double)c->rank / (double)(R + 1);
            c->recurrence_days = 1.0 / c->p;
        }
    }
    scan_fini(&s);
    *out = res;
    return RHIS_OK;
}
