/*
 * demo.c - the demo generator's engine: random streams, simulated time,
 * the reference tables, writing through the store, the progress bar, the
 * county geography and the county loop of `rhis demo`.
 *
 * Why: every stage (registry.c, people.c, care.c, surveil.c) draws from
 * the same kind of stream, writes through the same store calls and runs
 * inside the same county transaction; keeping those here lets each stage
 * be only what it generates.
 *
 * Determinism: streams are xoshiro256** seeded by splitmix64 over
 * (seed, FNV-1a(purpose), key).  Floating point stays in IEEE double with
 * glibc's libm (exp, log): the same binary gives byte-identical data; a
 * libm that rounds exp() differently could move a draw across a
 * threshold.  The store's clock is the simulated instant of each write.
 *
 * Restartability: one transaction per county, committed with the meta row
 * "demo.county.CODE" (seed and arguments).  A killed run loses only the
 * county in progress (rolled back by the engine); the next run skips the
 * counties whose meta row matches and redoes the rest.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "demo_int.h"
#include "rhis/csv.h"
#include "rhis/json.h"

/* ------------------------------------------------------------ streams */

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t
demo_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t
demo_code_key(const char *code)
{
    uint64_t k = 0;
    for (; *code >= '0' && *code <= '9'; code++)
        k = k * 10 + (uint64_t)(*code - '0');
    return k;
}

void
demo_rng_init(demo_rng *r, uint64_t seed, const char *purpose, uint64_t key)
{
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    x = a ^ demo_hash_str(purpose);
    uint64_t b = splitmix64(&x);
    x = b ^ (key * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
demo_rng_u64(demo_rng *r)
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

double
demo_rng_unif(demo_rng *r)
{
    return (double)(demo_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Lemire's multiply-and-reject: unbiased. */
uint32_t
demo_rng_below(demo_rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    uint64_t m = (uint64_t)(uint32_t)demo_rng_u64(r) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)(uint32_t)demo_rng_u64(r) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

int
demo_rng_bern(demo_rng *r, double p)
{
    return demo_rng_unif(r) < p;
}

/* Irwin-Hall (12 uniforms): no libm, close enough to N(0, 1) for data. */
double
demo_rng_normal(demo_rng *r)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += demo_rng_unif(r);
    return s - 6.0;
}

uint32_t
demo_rng_poisson(demo_rng *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 40) {
        double x = mean + sqrt(mean) * demo_rng_normal(r) + 0.5;
        return x < 0 ? 0 : (uint32_t)x;
    }
    double limit = exp(-mean), p = 1.0;
    uint32_t k = 0;
    do {
        k++;
        p *= demo_rng_unif(r);
    } while (p > limit);
    return k - 1;
}

uint32_t
demo_rng_binom(demo_rng *r, uint32_t n, double p)
{
    if (p <= 0 || n == 0)
        return 0;
    if (p >= 1)
        return n;
    if (n < 64) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            k += (uint32_t)demo_rng_bern(r, p);
        return k;
    }
    double mean = n * p;
    if (mean < 20) {
        uint32_t k = demo_rng_poisson(r, mean);
        return k > n ? n : k;
    }
    double x = mean + sqrt(mean * (1 - p)) * demo_rng_normal(r) + 0.5;
    if (x < 0)
        return 0;
    return x > n ? n : (uint32_t)x;
}

int
demo_rng_pick(demo_rng *r, const double *cum, int n)
{
    if (n <= 0)
        return 0;
    double u = demo_rng_unif(r) * cum[n - 1];
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------ time */

/* Howard Hinnant's days_from_civil. */
demo_day
demo_day_of(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
demo_ymd(demo_day day, int *y, int *m, int *d)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int dd = doy - (153 * mp + 2) / 5 + 1;
    int mm = mp + (mp < 10 ? 3 : -9);
    *y = yy + (mm <= 2);
    *m = mm;
    *d = dd;
}

int
demo_weekday(demo_day day)
{
    /* 1970-01-01 was a Thursday (4) */
    int w = (int)((day % 7 + 7 + 3) % 7);
    return w + 1;
}

int64_t
demo_ms(demo_day day, int hour, int minute)
{
    return ((int64_t)day * 86400 + hour * 3600 + minute * 60 - 8 * 3600) * 1000;
}

double
demo_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ choices */

void
demo_choice_add(demo_choice *ch, const char *item, double weight)
{
    if (ch->n == ch->cap) {
        ch->cap = ch->cap == 0 ? 16 : 2 * ch->cap;
        ch->items = rhis_xrealloc(ch->items, (size_t)ch->cap * sizeof(char *));
        ch->cum = rhis_xrealloc(ch->cum, (size_t)ch->cap * sizeof(double));
    }
    ch->items[ch->n] = rhis_xstrdup(item);
    ch->cum[ch->n] = (ch->n > 0 ? ch->cum[ch->n - 1] : 0) + weight;
    ch->n++;
}

const char *
demo_choice_draw(const demo_choice *ch, demo_rng *r)
{
    if (ch->n == 0)
        return "";
    return ch->items[demo_rng_pick(r, ch->cum, ch->n)];
}

void
demo_choice_fini(demo_choice *ch)
{
    for (int i = 0; i < ch->n; i++)
        rhis_free(ch->items[i]);
    rhis_free(ch->items);
    rhis_free(ch->cum);
    memset(ch, 0, sizeof(*ch));
}

/* ------------------------------------------------------------ tables */

typedef int (*row_fn)(demo_data *d, char **f, int n, char *err, size_t errlen);

/* Reads data_dir/name with header `header`, calling fn for every row. */
static rhis_status
load_csv(demo_data *d,
         const char *dir,
         const char *name,
         const char *header,
         int nfields,
         row_fn fn,
         char *err,
         size_t errlen)
{
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    rhis_csv csv;
    if (rhis_csv_open(&csv, path, err, errlen) != RHIS_OK)
        return RHIS_EIO;
    char **f;
    int n = rhis_csv_next(&csv, &f);
    char got[256] = "";
    for (int i = 0; i < n; i++) {
        size_t l = strlen(got);
        (void)snprintf(got + l, sizeof(got) - l, "%s%s", i > 0 ? "," : "",
                       f[i]);
    }
    if (n <= 0 || strcmp(got, header) != 0) {
        (void)snprintf(err, errlen, "%s: the header must be '%s'", path,
                       header);
        rhis_csv_close(&csv);
        return RHIS_EINVAL;
    }
    rhis_status rc = RHIS_OK;
    while ((n = rhis_csv_next(&csv, &f)) != 0) {
        char why[256] = "";
        if (n < 0 || n < nfields || fn(d, f, n, why, sizeof(why)) != 0) {
            (void)snprintf(err, errlen, "%s line %ld: %s", path, csv.line,
                           why[0] != '\0' ? why : "malformed row");
            rc = RHIS_EINVAL;
            break;
        }
    }
    rhis_csv_close(&csv);
    return rc;
}

static int
parse_num(const char *s, double *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return -1;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int
digits_only(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int
row_age(demo_data *d, char **f, int n, char *err, size_t errlen)
{
    (void)n;
    int band = rhis_parse_int(f[0]);
    double share, male;
    if (band < 0 || band % 5 != 0 || band / 5 >= DEMO_NBANDS ||
        parse_num(f[1], &share) != 0 || parse_num(f[2], &male) != 0 ||
        male > 1) {
        (void)snprintf(err, errlen, "age_band 0..85 by 5, share, male_share");
        return -1;
    }
    d->band_share[band / 5] = share;
    d->band_male[band / 5] = male;
    return 0;
}

static int
row_area(demo_data *d, char **f, int n, char *err, size_t errlen)
{
    (void)n;
    double pop;
    if (!digits_only(f[0], 2, 6) || parse_num(f[2], &pop) != 0) {
        (void)snprintf(err, errlen, "code (2-6 digits), name, population");
        return -1;
    }
    d->areas =
        rhis_xrealloc(d->areas, (size_t)(d->nareas + 1) * sizeof(*d->areas));
    demo_area_pop *a = &d->areas[d->nareas++];
    memset(a, 0, sizeof(*a));
    (void)snprintf(a->code, sizeof(a->code), "%s", f[0]);
    a->population = pop;
    (void)snprintf(a->basis, sizeof(a->basis), "%s", f[4]);
    return 0;
}

static int
row_rate(demo_data *d, char **f, int n, char *err, size_t errlen)
{
    (void)n;
    double v;
    if (!digits_only(f[0], 2, 6) || strlen(f[1]) >= 24 ||
        parse_num(f[2], &v) != 0) {
        (void)snprintf(err, errlen, "area (2-6 digits), indicator, value");
        return -1;
    }
    d->rates =
        rhis_xrealloc(d->rates, (size_t)(d->nrates + 1) * sizeof(*d->rates));
    demo_rate_row *r = &d->rates[d->nrates++];
    (void)snprintf(r->area, sizeof(r->area), "%s", f[0]);
    (void)snprintf(r->indicator, sizeof(r->indicator), "%s", f[1]);
    r->value = v;
    return 0;
}

static int
row_surname(demo_data *d, char **f, int n, char *err, size_t errlen)
{
    (void)n;
    double w;
    if (f[0][0] == '\0' || strlen(f[0]) > 12 || parse_num(f[2], &w) != 0) {
        (void)snprintf(err, errlen, "surname, group (han/korean), weight");
        return -1;
    }
    if (strcmp(f[1], "han") == 0)
        demo_choice_add(&d->surname_han, f[0], w);
    else if (strcmp(f[1], "korean") == 0)
        demo_choice_add(&d->surname_korean, f[0], w);
    else {
        (void)snprintf(err, errlen, "group must be han or korean");
        return -1;
    }
    return 0;
}

static int
row_given(demo_data *d, char **f, int n, char *err, size_t errlen)
{
    (void)n;
    int era = rhis_parse_int(f[1]);
    double w;
    char sex = f[0][0];
    if ((sex != 'M' && sex != 'F') || f[0][1] != '\0' || era < 1800 ||
        f[3][0] == '\0' || strlen(f[3]) > 12 || parse_num(f[4], &w) != 0) {
        (void)snprintf(err, errlen, "sex M/F, era year, kind, text, weight");
        return -1;
    }
    demo_given *g = NULL;
    for (int i = 0; i < d->ngiven; i++)
        if (d->given[i].sex == sex && d->given[i].era == era)
            g = &d->given[i];
    if (g == NULL) {
        if (d->ngiven == DEMO_MAX_GIVEN) {
            (void)snprintf(err, errlen, "too many (sex, era) tables");
            return -1;
        }
        g = &d->given[d->ngiven++];
        memset(g, 0, sizeof(*g));
        g->sex = sex;
        g->era = era;
    }
    if (strcmp(f[2], "full") == 0)
        demo_choice_add(&g->full, f[3], w);
    else if (strcmp(f[2], "c1") == 0)
        demo_choice_add(&g->c1, f[3], w);
    else if (strcmp(f[2], "c2") == 0)
        demo_choice_add(&g->c2, f[3], w);
    else if (strcmp(f[2], "single") == 0)
        demo_choice_add(&g->single, f[3], w);
    else {
        (void)snprintf(err, errlen, "kind must be full, c1, c2 or single");
        return -1;
    }
    return 0;
}

static void
data_free(demo_data *d)
{
    if (d == NULL)
        return;
    demo_choice_fini(&d->surname_han);
    demo_choice_fini(&d->surname_korean);
    for (int i = 0; i < d->ngiven; i++) {
        demo_choice_fini(&d->given[i].full);
        demo_choice_fini(&d->given[i].c1);
        demo_choice_fini(&d->given[i].c2);
        demo_choice_fini(&d->given[i].single);
    }
    rhis_free(d->areas);
    rhis_free(d->rates);
    rhis_free(d);
}

static rhis_status
data_load(demo_data *d, const char *dir, char *err, size_t errlen)
{
    rhis_status rc =
        load_csv(d, dir, "demo-age-sex.csv", "age_band,share,male_share,source",
                 3, row_age, err, errlen);
    if (rc == RHIS_OK)
        rc = load_csv(d, dir, "demo-areas.csv",
                      "code,name,population,year,basis,source", 5, row_area,
                      err, errlen);
    if (rc == RHIS_OK)
        rc = load_csv(d, dir, "demo-rates.csv", "area,indicator,value,source",
                      3, row_rate, err, errlen);
    if (rc == RHIS_OK)
        rc =
            load_csv(d, dir, "demo-surnames.csv", "surname,group,weight,source",
                     3, row_surname, err, errlen);
    if (rc == RHIS_OK)
        rc = load_csv(d, dir, "demo-given-names.csv",
                      "sex,era,kind,text,weight", 5, row_given, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    double sum = 0;
    for (int i = 0; i < DEMO_NBANDS; i++)
        sum += d->band_share[i];
    if (sum < 0.99 || sum > 1.01 || d->surname_han.n == 0 ||
        d->surname_korean.n == 0 || d->ngiven == 0) {
        (void)snprintf(err, errlen,
                       "%s: demo-age-sex.csv shares must sum to 1 and the "
                       "name tables must not be empty",
                       dir);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

void
demo_rates_of(const demo_ctx *c, const char *code, demo_rates *out)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
#define F(x) {#x, offsetof(demo_rates, x)}
        F(birth_rate),
        F(imr),
        F(u5mr),
        F(mmr),
        F(ncd_premature),
        F(beds),
        F(physicians),
        F(nurses),
        F(gps),
        F(pharmacists),
        F(public_health),
        F(beds_count),
        F(physicians_count),
        F(nurses_count),
        F(htn_prev),
        F(t2d_prev),
        F(smi_prev),
        F(out_migration),
        F(in_migration),
        F(hospitals),
        F(primary),
        F(township_hc),
        F(village_clinic),
#undef F
    };
    const demo_data *d = c->data;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        double v = -1;
        size_t best = 0;
        for (int k = 0; k < d->nrates; k++) {
            const demo_rate_row *r = &d->rates[k];
            size_t l = strlen(r->area);
            if (strcmp(r->indicator, fields[i].name) == 0 && l > best &&
                strncmp(code, r->area, l) == 0) {
                best = l;
                v = r->value;
            }
        }
        *(double *)((char *)out + fields[i].off) = v;
    }
    /* defaults where no row applies (Liaoning areas fall back to Jilin's
     * national figures) */
    const struct {
        double *p;
        double v;
    } dflt[] = {
        {&out->birth_rate, 4.84},    {&out->imr, 5.4},
        {&out->u5mr, 7.5},           {&out->mmr, 16.9},
        {&out->ncd_premature, 16.5}, {&out->beds, 6.46},
        {&out->physicians, 2.90},    {&out->nurses, 3.34},
        {&out->gps, 2.90},           {&out->pharmacists, 0.32},
        {&out->public_health, 0.68}, {&out->htn_prev, 25.0},
        {&out->t2d_prev, 10.0},      {&out->smi_prev, 0.5},
        {&out->out_migration, 1.2},  {&out->in_migration, 0.5},
    };
    for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++)
        if (*dflt[i].p < 0)
            *dflt[i].p = dflt[i].v;
}

/* ------------------------------------------------------------ names */

void
demo_name(const demo_ctx *c,
          demo_rng *r,
          char sex,
          int birth_year,
          int ethnicity,
          char *family,
          size_t flen,
          char *given,
          size_t glen)
{
    const demo_data *d = c->data;
    const demo_choice *sn =
        ethnicity == 10 ? &d->surname_korean : &d->surname_han;
    (void)snprintf(family, flen, "%s", demo_choice_draw(sn, r));
    const demo_given *g = NULL;
    for (int i = 0; i < d->ngiven; i++) {
        const demo_given *x = &d->given[i];
        if (x->sex == sex && x->era <= birth_year &&
            (g == NULL || x->era > g->era))
            g = x;
    }
    if (g == NULL)
        for (int i = 0; i < d->ngiven; i++)
            if (d->given[i].sex == sex &&
                (g == NULL || d->given[i].era < g->era))
                g = &d->given[i];
    if (g == NULL) {
        (void)snprintf(given, glen, "%s", sex == 'M' ? "明" : "丽");
        return;
    }
    double u = demo_rng_unif(r);
    if (u < 0.35 && g->full.n > 0)
        (void)snprintf(given, glen, "%s", demo_choice_draw(&g->full, r));
    else if (u < 0.47 && g->single.n > 0)
        (void)snprintf(given, glen, "%s", demo_choice_draw(&g->single, r));
    else {
        const char *a = demo_choice_draw(&g->c1, r);
        const char *b = demo_choice_draw(&g->c2, r);
        if (strcmp(a, b) == 0 && demo_rng_bern(r, 0.7))
            b = demo_choice_draw(&g->c2, r);
        (void)snprintf(given, glen, "%s%s", a, b);
    }
}

/* ------------------------------------------------------------ context */

rhis_status
demo_ctx_init(demo_ctx *c,
              rhis_db *db,
              const char *data_dir,
              uint64_t seed,
              int year_from,
              int year_to,
              double scale,
              char *err,
              size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (year_from < 2000 || year_to > 2030 || year_from > year_to ||
        !(scale > 0 && scale <= 10)) {
        (void)snprintf(err, errlen,
                       "years must lie in 2000-2030 and the scale in (0, 10]");
        return RHIS_EINVAL;
    }
    c->data = rhis_xcalloc(1, sizeof(*c->data));
    (void)snprintf(c->data->dir, sizeof(c->data->dir), "%s", data_dir);
    rhis_status rc = data_load(c->data, data_dir, err, errlen);
    if (rc != RHIS_OK) {
        data_free(c->data);
        c->data = NULL;
        return rc;
    }
    c->db = db;
    c->seed = seed;
    c->year_from = year_from;
    c->year_to = year_to;
    c->day_from = demo_day_of(year_from, 1, 1);
    c->day_to = demo_day_of(year_to + 1, 1, 1) - 1;
    c->scale = scale;
    c->arena = rhis_arena_new();
    rhis_fhir_ctx_cli(&c->fx, db, rhis_arena_new());
    /* a county is one transaction: keep its pages in memory rather than
     * spilling them to the log mid-way (256 MiB; the default is 8) */
    if (rhis_db_dialect(db) == RHIS_DIALECT_SQLITE)
        (void)rhis_db_exec(db, "PRAGMA cache_size = -262144");
    return RHIS_OK;
}

void
demo_ctx_fini(demo_ctx *c)
{
    demo_county_free(c->county);
    c->county = NULL;
    rhis_free(c->people);
    rhis_free(c->births);
    rhis_arena_free(c->arena);
    rhis_arena_free(c->fx.arena);
    data_free(c->data);
    memset(c, 0, sizeof(*c));
}

void
demo_scratch_reset(demo_ctx *c)
{
    rhis_arena_free(c->arena);
    c->arena = rhis_arena_new();
}

void
demo_at(demo_ctx *c, int64_t ms)
{
    c->fx.now_ms = ms;
}

static rhis_status
store_result(demo_ctx *c, const rhis_fhir_type *t, rhis_status rc, double t0)
{
    rhis_arena_free(c->fx.arena);
    c->fx.arena = rhis_arena_new();
    double dt = demo_now() - t0;
    c->store_seconds += dt;
    for (int i = 0; i < 16 && rc == RHIS_OK; i++) {
        if (c->data->per_type[i].type == NULL)
            c->data->per_type[i].type = t->name;
        if (strcmp(c->data->per_type[i].type, t->name) == 0) {
            c->data->per_type[i].n++;
            c->data->per_type[i].sec += dt;
            break;
        }
    }
    if (rc == RHIS_OK) {
        c->nresources++;
        return RHIS_OK;
    }
    (void)fprintf(
        stderr, "\nrhis demo: the store refused a generated %s (%s): %s%s%s\n",
        t->name, rhis_status_name(rc), c->fx.err_text,
        c->fx.err_expr[0] != '\0' ? " at " : "", c->fx.err_expr);
    return rc == RHIS_EINVAL ? RHIS_EINTERNAL : rc;
}

rhis_status
demo_create(demo_ctx *c,
            const rhis_fhir_type *t,
            json_object *res,
            int64_t at_ms,
            int64_t *id)
{
    double t0 = demo_now();
    demo_at(c, at_ms);
    int64_t version = 0, nid = 0;
    rhis_status rc = rhis_fhir_do_create(&c->fx, t, res, &nid, &version);
    json_object_put(res);
    if (id != NULL)
        *id = nid;
    return store_result(c, t, rc, t0);
}

rhis_status
demo_update(demo_ctx *c,
            const rhis_fhir_type *t,
            int64_t id,
            json_object *res,
            int64_t at_ms)
{
    double t0 = demo_now();
    demo_at(c, at_ms);
    char sid[24];
    (void)snprintf(sid, sizeof(sid), "%lld", (long long)id);
    json_object_object_add(res, "id", json_object_new_string(sid));
    int64_t version = 0;
    rhis_status rc = rhis_fhir_do_update(&c->fx, t, id, res, -1, &version);
    json_object_put(res);
    return store_result(c, t, rc, t0);
}

void
demo_report_types(const demo_ctx *c, FILE *f)
{
    static const char *const names[6] = {"institutions", "residents",
                                         "care",         "surveillance",
                                         "denominators", "commit"};
    (void)fputs("  stage seconds:", f);
    for (int i = 0; i < 6; i++)
        (void)fprintf(f, " %s %.1f", names[i], c->data->stage_sec[i]);
    (void)fputc('\n', f);
    for (int i = 0; i < 16 && c->data->per_type[i].type != NULL; i++)
        (void)fprintf(
            f, "  %-14s %9lld written  %7.1f s in the store  %6.0f/s\n",
            c->data->per_type[i].type, (long long)c->data->per_type[i].n,
            c->data->per_type[i].sec,
            c->data->per_type[i].sec > 0
                ? (double)c->data->per_type[i].n / c->data->per_type[i].sec
                : 0);
}

/* ------------------------------------------------------------ progress */

static const char *const stage_names[] = {"机构", "居民", "诊疗", "监测"};

void
demo_progress_begin(demo_ctx *c, const char *label, int64_t total)
{
    demo_data *d = c->data;
    (void)snprintf(d->label, sizeof(d->label), "%s", label);
    d->work_total = total;
    d->t_start = demo_now();
    d->t_drawn = 0;
}

static void
bar_draw(demo_ctx *c, int force)
{
    demo_data *d = c->data;
    if (!c->progress)
        return;
    double now = demo_now();
    if (!force && now - d->t_drawn < 0.2)
        return;
    d->t_drawn = now;
    double frac = d->work_total > 0 ? ((double)d->work_done + d->stage_frac) /
                                          (double)d->work_total
                                    : 0;
    if (frac > 1)
        frac = 1;
    char bar[32];
    int fill = (int)(frac * 24);
    for (int i = 0; i < 24; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[24] = '\0';
    double sec = now - d->t_start;
    (void)fprintf(stderr, "\r\033[K[%s] %3d%%  %s  %lld events  %.0f/s  %.0fs",
                  bar, (int)(frac * 100), d->label, (long long)c->nevents,
                  sec > 0 ? (double)c->nevents / sec : 0, sec);
    (void)fflush(stderr);
    d->bar_shown = 1;
}

void
demo_progress_end(demo_ctx *c)
{
    if (c->progress && c->data->bar_shown) {
        bar_draw(c, 1);
        (void)fputc('\n', stderr);
        c->data->bar_shown = 0;
    }
}

void
demo_tick(demo_ctx *c, int64_t n)
{
    c->nevents += n;
    if (c->progress && (c->nevents & 1023) < n)
        bar_draw(c, 0);
}

/* ------------------------------------------------------------ areas */

rhis_status
demo_expand_areas(demo_ctx *c,
                  const char *list,
                  char (**codes)[7],
                  int *n,
                  char *err,
                  size_t errlen)
{
    *codes = NULL;
    *n = 0;
    int cap = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t l = strcspn(p, ",");
        char code[8];
        if (l != 2 && l != 4 && l != 6) {
            (void)snprintf(err, errlen,
                           "area '%.*s' is not a province (2 digits), city (4) "
                           "or county (6) code",
                           (int)(l > 12 ? 12 : l), p);
            goto fail;
        }
        memcpy(code, p, l);
        code[l] = '\0';
        if (!digits_only(code, l, l)) {
            (void)snprintf(err, errlen, "area '%s' is not a number", code);
            goto fail;
        }
        char hi[8];
        (void)snprintf(hi, sizeof(hi), "%.6s", code);
        hi[l - 1]++; /* '9' + 1 = ':' sorts after every digit */
        rhis_stmt *st;
        rhis_status rc = rhis_db_query(
            c->db, &st,
            "SELECT code FROM area WHERE level = 3 AND code >= ? AND code < ?"
            " ORDER BY code",
            "ss", code, hi);
        if (rc != RHIS_OK) {
            (void)snprintf(err, errlen, "cannot read the area table: %s",
                           rhis_db_errmsg(c->db));
            goto fail;
        }
        int found = 0;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            const char *k = rhis_db_column_text(st, 0);
            found++;
            int dup = 0;
            for (int i = 0; i < *n; i++)
                dup |= strcmp((*codes)[i], k) == 0;
            if (dup)
                continue;
            if (*n == cap) {
                cap = cap == 0 ? 16 : 2 * cap;
                *codes = rhis_xrealloc(*codes, (size_t)cap * sizeof(**codes));
            }
            (void)snprintf((*codes)[(*n)++], 7, "%s", k);
        }
        rhis_db_finalize(st);
        if (found == 0) {
            (void)snprintf(err, errlen,
                           "no county-level division under area '%s' (is the "
                           "database initialised with rhis init?)",
                           code);
            goto fail;
        }
        p += l;
        if (*p == ',')
            p++;
    }
    /* code order, so that a run is the same whatever order was given */
    for (int i = 1; i < *n; i++)
        for (int j = i; j > 0 && strcmp((*codes)[j - 1], (*codes)[j]) > 0;
             j--) {
            char t[7];
            memcpy(t, (*codes)[j], 7);
            memcpy((*codes)[j], (*codes)[j - 1], 7);
            memcpy((*codes)[j - 1], t, 7);
        }
    if (*n == 0) {
        (void)snprintf(err, errlen, "no area given");
        goto fail;
    }
    return RHIS_OK;
fail:
    rhis_free(*codes);
    *codes = NULL;
    *n = 0;
    return RHIS_EINVAL;
}

static int
is_urban_name(const char *name)
{
    return strstr(name, "社区") != NULL || strstr(name, "居委会") != NULL ||
           strstr(name, "居民委员会") != NULL;
}

/* Weight of a county for sharing a city's figure: its villages (1) and
 * communities (3).  0 on error. */
static double
county_weight(rhis_db *db, const char *code)
{
    char hi[8];
    (void)snprintf(hi, sizeof(hi), "%.6s", code);
    hi[5]++;
    rhis_stmt *st;
    if (rhis_db_query(db, &st,
                      "SELECT name FROM area WHERE level = 5 AND code >= ?"
                      " AND code < ?",
                      "ss", code, hi) != RHIS_OK)
        return 0;
    double w = 0;
    while (rhis_db_step(st) == RHIS_ROW)
        w += is_urban_name(rhis_db_column_text(st, 0)) ? 3.0 : 1.0;
    rhis_db_finalize(st);
    return w;
}

static const demo_area_pop *
area_row(const demo_data *d, const char *code)
{
    for (int i = 0; i < d->nareas; i++)
        if (strcmp(d->areas[i].code, code) == 0)
            return &d->areas[i];
    return NULL;
}

rhis_status
demo_county_population(demo_ctx *c,
                       const char *code,
                       double *population,
                       const char **basis)
{
    const demo_area_pop *a = area_row(c->data, code);
    if (a != NULL) {
        *population = a->population;
        *basis = a->basis;
        return RHIS_OK;
    }
    /* the city's figure, less the counties given, shared by weight */
    char city[5];
    (void)snprintf(city, sizeof(city), "%.4s", code);
    const demo_area_pop *ca = area_row(c->data, city);
    if (ca == NULL)
        return RHIS_ENOTFOUND;
    char hi[6];
    (void)snprintf(hi, sizeof(hi), "%.4s", city);
    hi[3]++;
    rhis_stmt *st;
    if (rhis_db_query(c->db, &st,
                      "SELECT code FROM area WHERE level = 3 AND code >= ?"
                      " AND code < ? ORDER BY code",
                      "ss", city, hi) != RHIS_OK)
        return RHIS_EIO;
    double rest = ca->population, wsum = 0, mine = 0;
    char sib[64][7];
    int nsib = 0;
    while (rhis_db_step(st) == RHIS_ROW && nsib < 64)
        (void)snprintf(sib[nsib++], 7, "%s", rhis_db_column_text(st, 0));
    rhis_db_finalize(st);
    for (int i = 0; i < nsib; i++) {
        const demo_area_pop *s = area_row(c->data, sib[i]);
        if (s != NULL) {
            rest -= s->population;
            continue;
        }
        double w = county_weight(c->db, sib[i]);
        wsum += w;
        if (strcmp(sib[i], code) == 0)
            mine = w;
    }
    if (wsum <= 0 || mine <= 0 || rest <= 0)
        return RHIS_ENOTFOUND;
    *population = rest * mine / wsum;
    *basis = "derived";
    return RHIS_OK;
}

/* ------------------------------------------------------------ geography */

void
demo_county_free(demo_county *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < k->ntownships; i++)
        rhis_free(k->townships[i].name);
    for (int i = 0; i < k->nvillages; i++)
        rhis_free(k->villages[i].name);
    for (int i = 0; i < k->ninsts; i++)
        rhis_free(k->insts[i].staff);
    rhis_free(k->townships);
    rhis_free(k->villages);
    rhis_free(k->insts);
    rhis_free(k->name);
    rhis_free(k);
}

/*
 * The everyday name of a village or community: the statistical names end
 * in the committee (XX村委会, XX社区居委会, XX村民委员会); addresses and
 * clinics say XX村, XX社区.
 */
static char *
village_name(const char *name)
{
    static const struct {
        const char *suffix, *repl;
    } rules[] = {
        {"社区居民委员会", "社区"}, {"社区居委会", "社区"},
        {"村民委员会", "村"},       {"居民委员会", "社区"},
        {"村委会", "村"},           {"居委会", "社区"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        size_t l = strlen(rules[i].suffix);
        if (n > l && strcmp(name + n - l, rules[i].suffix) == 0) {
            size_t keep = n - l, rl = strlen(rules[i].repl);
            char *out = rhis_xmalloc(keep + rl + 1);
            memcpy(out, name, keep);
            memcpy(out + keep, rules[i].repl, rl + 1);
            return out;
        }
    }
    return rhis_xstrdup(name);
}

/* Seat coordinates: data/demo-seats.csv is small; read on each county. */
static int
seat_of(const char *dir, const char *code, double *lat, double *lon)
{
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/demo-seats.csv", dir);
    rhis_csv csv;
    char err[128];
    if (rhis_csv_open(&csv, path, err, sizeof(err)) != RHIS_OK)
        return 0;
    char **f;
    int n, found = 0;
    while ((n = rhis_csv_next(&csv, &f)) > 0) {
        if (n >= 3 && strcmp(f[0], code) == 0) {
            double a, b;
            if (parse_num(f[1], &a) == 0 && parse_num(f[2], &b) == 0) {
                *lat = a;
                *lon = b;
                found = 1;
            }
            break;
        }
    }
    rhis_csv_close(&csv);
    return found;
}

int
demo_county_seat(const demo_ctx *c, const char *code, double *lat, double *lon)
{
    return seat_of(c->data->dir, code, lat, lon);
}

void
demo_township_coords(const demo_ctx *c, int township, double *lat, double *lon)
{
    const demo_township *t = &c->county->townships[township];
    *lat = t->lat;
    *lon = t->lon;
}

rhis_status
demo_county_build(demo_ctx *c, const char *code, char *err, size_t errlen)
{
    demo_county *k = rhis_xcalloc(1, sizeof(*k));
    (void)snprintf(k->code, sizeof(k->code), "%s", code);
    k->county_hospital = k->tcm_hospital = k->mch = k->cdc = -1;
    rhis_status rc = RHIS_OK;
    {
        rhis_stmt *st;
        rc = rhis_db_query(c->db, &st, "SELECT name FROM area WHERE code = ?",
                           "s", code);
        if (rc == RHIS_OK && rhis_db_step(st) == RHIS_ROW)
            k->name = rhis_xstrdup(rhis_db_column_text(st, 0));
        rhis_db_finalize(st);
        if (k->name == NULL) {
            (void)snprintf(err, errlen, "county %s is not in the area table",
                           code);
            demo_county_free(k);
            return RHIS_ENOTFOUND;
        }
    }
    char hi[8];
    (void)snprintf(hi, sizeof(hi), "%.6s", code);
    hi[5]++;
    rhis_stmt *st;
    rc = rhis_db_query(c->db, &st,
                       "SELECT code, name, level FROM area WHERE code >= ?"
                       " AND code < ? AND level IN (4, 5) ORDER BY code",
                       "ss", code, hi);
    if (rc != RHIS_OK) {
        (void)snprintf(err, errlen, "cannot read the area table");
        demo_county_free(k);
        return rc;
    }
    int tcap = 0, vcap = 0;
    while (rhis_db_step(st) == RHIS_ROW) {
        const char *ac = rhis_db_column_text(st, 0);
        const char *name = rhis_db_column_text(st, 1);
        int level = (int)rhis_db_column_int64(st, 2);
        if (level == 4) {
            if (k->ntownships == tcap) {
                tcap = tcap == 0 ? 16 : 2 * tcap;
                k->townships = rhis_xrealloc(
                    k->townships, (size_t)tcap * sizeof(*k->townships));
            }
            demo_township *t = &k->townships[k->ntownships++];
            memset(t, 0, sizeof(*t));
            (void)snprintf(t->code, sizeof(t->code), "%s", ac);
            t->name = rhis_xstrdup(name);
            t->first_village = k->nvillages;
            t->health_centre = -1;
        } else if (k->ntownships > 0 &&
                   strncmp(ac, k->townships[k->ntownships - 1].code, 9) == 0) {
            if (k->nvillages == vcap) {
                vcap = vcap == 0 ? 64 : 2 * vcap;
                k->villages = rhis_xrealloc(
                    k->villages, (size_t)vcap * sizeof(*k->villages));
            }
            demo_village *v = &k->villages[k->nvillages++];
            memset(v, 0, sizeof(*v));
            (void)snprintf(v->code, sizeof(v->code), "%s", ac);
            v->name = village_name(name);
            v->township = k->ntownships - 1;
            v->urban =
                is_urban_name(name) ||
                strstr(k->townships[k->ntownships - 1].name, "街道") != NULL;
            v->clinic = -1;
            k->townships[k->ntownships - 1].nvillages++;
        }
    }
    rhis_db_finalize(st);
    if (k->nvillages == 0) {
        (void)snprintf(err, errlen,
                       "county %s has no villages or communities in the area "
                       "table",
                       code);
        demo_county_free(k);
        return RHIS_ENOTFOUND;
    }
    /* coordinates: the seat table, else around the city's or county's seat */
    double clat = 0, clon = 0;
    char city[5];
    (void)snprintf(city, sizeof(city), "%.4s", code);
    demo_rng g;
    demo_rng_init(&g, 0, "geo", demo_code_key(code)); /* seed-independent */
    if (!seat_of(c->data->dir, code, &clat, &clon)) {
        if (!seat_of(c->data->dir, city, &clat, &clon)) {
            clat = 43.5;
            clon = 126.0;
        }
        clat += (demo_rng_unif(&g) - 0.5) * 0.8;
        clon += (demo_rng_unif(&g) - 0.5) * 1.0;
    }
    for (int i = 0; i < k->ntownships; i++) {
        demo_township *t = &k->townships[i];
        if (seat_of(c->data->dir, t->code, &t->lat, &t->lon))
            continue;
        int street = strstr(t->name, "街道") != NULL;
        double rad = street ? 0.02 + 0.03 * demo_rng_unif(&g)
                            : 0.08 + 0.22 * demo_rng_unif(&g);
        double ang = 6.283185307179586 * demo_rng_unif(&g);
        t->lat = clat + rad * sin(ang);
        t->lon = clon + rad * 1.35 * cos(ang);
    }
    for (int i = 0; i < k->nvillages; i++) {
        demo_village *v = &k->villages[i];
        const demo_township *t = &k->townships[v->township];
        double r = v->urban ? 0.015 : 0.05;
        v->lat = t->lat + (demo_rng_unif(&g) - 0.5) * 2 * r;
        v->lon = t->lon + (demo_rng_unif(&g) - 0.5) * 2 * r * 1.35;
    }
    /* target populations: county figure x scale, by village weight */
    double pop;
    const char *basis;
    if (demo_county_population(c, code, &pop, &basis) != RHIS_OK) {
        (void)snprintf(err, errlen,
                       "no population figure for %s: add its city or itself "
                       "to demo-areas.csv",
                       code);
        demo_county_free(k);
        return RHIS_ENOTFOUND;
    }
    k->population = (int)(pop * c->scale + 0.5);
    double *w = rhis_xcalloc((size_t)k->nvillages, sizeof(double));
    double wsum = 0;
    demo_rng wr;
    demo_rng_init(&wr, c->seed, "village-weight", demo_code_key(code));
    for (int i = 0; i < k->nvillages; i++) {
        double j = exp(0.25 * demo_rng_normal(&wr));
        w[i] = (k->villages[i].urban ? 3.0 : 1.0) * j;
        wsum += w[i];
    }
    int assigned = 0;
    for (int i = 0; i < k->nvillages; i++) {
        k->villages[i].population = (int)(k->population * w[i] / wsum);
        assigned += k->villages[i].population;
    }
    /* the remainder, one each, round-robin from a drawn start */
    int start = (int)demo_rng_below(&wr, (uint32_t)k->nvillages);
    for (int i = 0; assigned < k->population; i++, assigned++)
        k->villages[(start + i) % k->nvillages].population++;
    rhis_free(w);
    c->county = k;
    return RHIS_OK;
}

/* ------------------------------------------------------------ the run */

static void
meta_value(const demo_ctx *c, char *out, size_t len)
{
    (void)snprintf(out, len, "seed=%llu years=%d-%d scale=%g",
                   (unsigned long long)c->seed, c->year_from, c->year_to,
                   c->scale);
}

static rhis_status
stage(demo_ctx *c, int i, rhis_status (*fn)(demo_ctx *))
{
    demo_data *d = c->data;
    /* the stages' usual shares of a county's time (bench/demo.sh) */
    static const double share[4] = {0.0, 0.02, 0.14, 0.94};
    d->stage_frac = share[i];
    (void)snprintf(d->label, sizeof(d->label), "%s %s %s", c->county->code,
                   c->county->name, stage_names[i]);
    bar_draw(c, 1);
    double t0 = demo_now();
    rhis_status rc = fn(c);
    d->stage_sec[i] += demo_now() - t0;
    demo_scratch_reset(c);
    return rc;
}

/*
 * Deferred (pipelined) writes on PostgreSQL, unless RHIS_DEMO_DEFER=0:
 * with them off, a failing statement fails at its own call (to locate
 * it) and the store runs one round trip per statement (to compare).
 */
static int
demo_defer_wanted(void)
{
    const char *e = getenv("RHIS_DEMO_DEFER");
    return e == NULL || strcmp(e, "0") != 0;
}

/*
 * SQLite: the journal mode of a county's load.  A county is one
 * transaction of up to 2 GB; through the write-ahead log every page is
 * written twice (to the log, then by the checkpoint into the file).  A
 * rollback journal keeps only the pages the file had before the
 * transaction began (the new pages beyond its end need no undo), so each
 * new page is written once.  The county stays all-or-nothing: a failure
 * rolls back through the journal, and after a kill the next connection
 * finds the hot journal and rolls it back before anything else (SQLite).
 * Other connections cannot read while the load holds its lock (from its
 * first spilled page to the commit; the log would let them):
 * RHIS_DEMO_JOURNAL=wal keeps the log, for a load next to a running
 * `rhis serve`.  When the switch cannot be made (another connection is
 * reading) the county loads through the log as before.  Returns 1 when
 * the mode was switched (switch it back with on = 0).
 */
static int
bulk_journal(demo_ctx *c, int on)
{
    if (rhis_db_dialect(c->db) != RHIS_DIALECT_SQLITE)
        return 0;
    const char *e = getenv("RHIS_DEMO_JOURNAL");
    if (on && e != NULL && strcmp(e, "wal") == 0)
        return 0;
    rhis_stmt *st;
    int switched = 0;
    if (rhis_db_query(c->db, &st,
                      on ? "PRAGMA journal_mode = DELETE"
                         : "PRAGMA journal_mode = WAL",
                      NULL) == RHIS_OK &&
        rhis_db_step(st) == RHIS_ROW) {
        const char *m = rhis_db_column_text(st, 0);
        switched = m != NULL && strcmp(m, on ? "delete" : "wal") == 0;
    }
    rhis_db_finalize(st);
    return switched;
}

rhis_status
demo_county_run(
    demo_ctx *c, const char *code, int *skipped, char *err, size_t errlen)
{
    *skipped = 0;
    char key[64], want[128];
    (void)snprintf(key, sizeof(key), "demo.county.%s", code);
    meta_value(c, want, sizeof(want));
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        c->db, &st, "SELECT value FROM meta WHERE key = ?", "s", key);
    if (rc != RHIS_OK) {
        (void)snprintf(err, errlen, "cannot read meta: %s",
                       rhis_db_errmsg(c->db));
        return rc;
    }
    if (rhis_db_step(st) == RHIS_ROW) {
        const char *have = rhis_db_column_text(st, 0);
        int same = have != NULL && strcmp(have, want) == 0;
        if (!same)
            (void)snprintf(err, errlen,
                           "county %s was generated with %s; this run asks "
                           "for %s (use another database)",
                           code, have != NULL ? have : "?", want);
        rhis_db_finalize(st);
        if (same) {
            *skipped = 1;
            c->data->work_done++;
            return RHIS_OK;
        }
        return RHIS_ECONFLICT;
    }
    rhis_db_finalize(st);

    double t0 = demo_now();
    double store0 = c->store_seconds;
    /* PostgreSQL: the county's writes go out pipelined (deferred), not
     * one round trip each; a failed one fails a later call, the county
     * is rolled back whole and the error names the statement's message
     * (SQLite ignores deferral). */
    int deferred =
        rhis_db_dialect(c->db) == RHIS_DIALECT_POSTGRES && demo_defer_wanted();
    rc = deferred ? rhis_db_set_deferred(c->db, 1) : RHIS_OK;
    /* with a rollback journal the commit syncs in full (lazy is for the
     * log: see bulk_journal) */
    int journal = rc == RHIS_OK && bulk_journal(c, 1);
    if (rc == RHIS_OK)
        rc = journal ? rhis_db_begin(c->db) : rhis_db_begin_lazy(c->db);
    if (rc != RHIS_OK) {
        (void)snprintf(err, errlen, "cannot begin: %s", rhis_db_errmsg(c->db));
        if (deferred)
            (void)rhis_db_set_deferred(c->db, 0);
        if (journal)
            (void)bulk_journal(c, 0);
        return rc;
    }
    rc = demo_county_build(c, code, err, errlen);
    if (rc == RHIS_OK) {
        demo_rates_of(c, code, &c->rates);
        static rhis_status (*const stages[])(demo_ctx *) = {
            demo_registry, demo_people, demo_care, demo_surveil};
        for (int i = 0; i < 4 && rc == RHIS_OK; i++)
            rc = stage(c, i, stages[i]);
        double tp = demo_now();
        if (rc == RHIS_OK)
            rc = demo_population_rows(c);
        c->data->stage_sec[4] += demo_now() - tp;
        if (rc != RHIS_OK && err[0] == '\0' && deferred)
            /* the statement that failed may be an earlier, pipelined one:
             * the database's message names it */
            (void)snprintf(err, errlen,
                           "county %s: %s (see above); the database says: "
                           "%.200s (writes were pipelined: RHIS_DEMO_DEFER=0 "
                           "stops at the failing one)",
                           code, rhis_status_name(rc), rhis_db_errmsg(c->db));
        else if (rc != RHIS_OK && err[0] == '\0')
            (void)snprintf(err, errlen, "county %s: %s (see above)", code,
                           rhis_status_name(rc));
    }
    if (rc == RHIS_OK) {
        rc = rhis_db_run(c->db, "INSERT INTO meta (key, value) VALUES (?, ?)",
                         "ss", key, want);
        if (rc != RHIS_OK)
            (void)snprintf(err, errlen, "cannot record the county: %s",
                           rhis_db_errmsg(c->db));
    }
    if (rc == RHIS_OK && deferred) {
        double tc = demo_now();
        rc = rhis_db_sync(c->db);
        c->store_seconds += demo_now() - tc;
        c->data->stage_sec[5] += demo_now() - tc;
        if (rc != RHIS_OK)
            (void)snprintf(err, errlen,
                           "county %s: a pipelined write failed: %s", code,
                           rhis_db_errmsg(c->db));
    }
    if (rc == RHIS_OK) {
        double tc = demo_now();
        rc = rhis_db_commit(c->db);
        c->store_seconds += demo_now() - tc;
        c->data->stage_sec[5] += demo_now() - tc;
        if (rc != RHIS_OK)
            (void)snprintf(err, errlen, "cannot commit county %s: %s", code,
                           rhis_db_errmsg(c->db));
    }
    if (deferred) {
        /* reads the answers still due (a failure's message is already in
         * err) and leaves pipeline mode before the rollback */
        rhis_status rs = rhis_db_set_deferred(c->db, 0);
        if (rc == RHIS_OK && rs != RHIS_OK) {
            rc = rs;
            (void)snprintf(err, errlen, "county %s: %s", code,
                           rhis_db_errmsg(c->db));
        }
    }
    if (rc != RHIS_OK)
        rhis_db_rollback(c->db);
    if (journal) {
        double tc = demo_now();
        (void)bulk_journal(c, 0);
        c->store_seconds += demo_now() - tc;
        c->data->stage_sec[5] += demo_now() - tc;
    } else if (rc == RHIS_OK && rhis_db_dialect(c->db) == RHIS_DIALECT_SQLITE) {
        double tc = demo_now();
        (void)rhis_db_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)");
        c->store_seconds += demo_now() - tc;
        c->data->stage_sec[5] += demo_now() - tc;
    }
    c->gen_seconds += (demo_now() - t0) - (c->store_seconds - store0);
    demo_county_free(c->county);
    c->county = NULL;
    rhis_free(c->people);
    c->people = NULL;
    c->npeople = 0;
    rhis_free(c->births);
    c->births = NULL;
    c->nbirths = 0;
    c->data->work_done++;
    c->data->stage_frac = 0;
    return rc;
}

/* ------------------------------------------------------------ hash */

/*
 * Streams a query's rows into the hash: each column as text (NULL as a
 * distinct marker), columns and rows separated by bytes no UTF-8 text has.
 */
static rhis_status
hash_query(rhis_db *db, crypto_hash_sha256_state *h, const char *sql)
{
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st, sql, "");
    if (rc != RHIS_OK)
        return rc;
    crypto_hash_sha256_update(h, (const unsigned char *)sql, strlen(sql));
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        int n = rhis_db_column_count(st);
        for (int i = 0; i < n; i++) {
            static const unsigned char sep = 0xfe, nul = 0xff;
            if (rhis_db_column_is_null(st, i)) {
                crypto_hash_sha256_update(h, &nul, 1);
            } else {
                const char *s = rhis_db_column_text(st, i);
                crypto_hash_sha256_update(h, (const unsigned char *)s,
                                          strlen(s));
            }
            crypto_hash_sha256_update(h, &sep, 1);
        }
        static const unsigned char eol = 0xfd;
        crypto_hash_sha256_update(h, &eol, 1);
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

rhis_status
demo_hash(rhis_db *db, char hex[65])
{
    /* Doubles are hashed as text: both engines print them round-trip. */
    static const char *const queries[] = {
        "SELECT type, id, version, ts, deleted, method, patient_id, json"
        " FROM fhir_version ORDER BY type, id, version",
        "SELECT id, version, updated_ms, id_number, name, sex, birth_date,"
        " phone, area_code, household, ethnicity, deceased_ms, active,"
        " institution_id FROM patient ORDER BY id",
        "SELECT id, code, name, tier, grade, ownership, area_code,"
        " beds_approved, beds_open, CAST(ROUND(lat * 100000) AS INTEGER),"
        " CAST(ROUND(lon * 100000) AS INTEGER) FROM institution ORDER BY id",
        "SELECT id, name, sex, licence_no, updated_at FROM practitioner"
        " ORDER BY id",
        "SELECT id, practitioner_id, institution_id, role FROM"
        " practitioner_role ORDER BY id",
        "SELECT area_code, year, sex, age_band, population, source FROM"
        " population ORDER BY area_code, year, sex, age_band",
        "SELECT key, value FROM meta WHERE key LIKE 'demo.%' ORDER BY key",
        /* the care and surveillance stages' own tables */
        "SELECT * FROM fd_contract ORDER BY id",
        "SELECT * FROM surveil_card ORDER BY id",
        "SELECT * FROM surveil_card_version ORDER BY card_id, version",
        "SELECT * FROM surveil_card_dup ORDER BY id",
        "SELECT * FROM surveil_alert ORDER BY id",
        "SELECT * FROM channel_count ORDER BY id",
        "SELECT * FROM mpi_review ORDER BY id",
        /* audit events without their time: the audit trail records when a
         * write reached the platform (the wall clock), not the simulated
         * time of the event */
        "SELECT user_id, action, operation, resource_type, resource_id,"
        " patient_id, outcome, detail FROM audit_event ORDER BY id",
    };
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        rhis_status rc = hash_query(db, &h, queries[i]);
        if (rc != RHIS_OK)
            return rc;
    }
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, out);
    for (int i = 0; i < (int)crypto_hash_sha256_BYTES; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", out[i]);
    return RHIS_OK;
}
