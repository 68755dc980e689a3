/*
 * people.c - demo_people: the county's residents, households, births,
 * deaths with their causes, migrations, and the chronic-disease flags the
 * care stage follows up; then the population denominators.
 *
 * Why: every indicator of the plans is a count over residents (births,
 * deaths under 1 and under 5, maternal deaths, NCD deaths at 30-70, people
 * 65+, hypertension patients ...) divided by a population; the generator
 * draws them at the rates the plans give as baselines (data/demo-rates.csv)
 * so that the platform's indicator engine must find those rates again.
 *
 * Order: first the whole life course of everyone is drawn in memory (the
 * residents on 1 January of the first year, then year by year the births,
 * deaths, arrivals and departures), then it is written in time order
 * through the FHIR store: a Patient per resident (created at the start, at
 * registration after birth, or on arrival), a new Patient version with
 * deceasedDateTime at death plus an Observation "cause of death" (LOINC
 * 69453-9, ICD-10 value), and a new version with the new address on
 * departure.
 *
 * ID numbers (GB 11643): the birth place's county code, the birth date, a
 * sequence with the sex's parity and the check character.  Sequences 000-599
 * are given to people born in the county being generated, 600-999 to people
 * born elsewhere (checked against the database, since another county's run
 * may have issued the same number): numbers are unique across a province
 * run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_int.h"
#include "rhis/json.h"
#include "rhis/patient.h"

#define YEAR_DAYS 365.2425

/* The ehr module's Observation type (src/ehr). */
extern const rhis_fhir_type rhis_type_observation;

/* ------------------------------------------------------------ causes */

typedef struct cause {
    const char *icd, *zh;
    double w;
} cause;

/* Four major NCDs (CVD, cancer, chronic respiratory, diabetes). */
static const cause ncd_causes[] = {
    {"I21.9", "急性心肌梗死", 14},
    {"I25.1", "动脉粥样硬化性心脏病", 8},
    {"I63.9", "脑梗死", 14},
    {"I61.9", "脑内出血", 9},
    {"I11.9", "高血压性心脏病", 4},
    {"I50.9", "心力衰竭", 4},
    {"C34.9", "支气管和肺恶性肿瘤", 9},
    {"C22.0", "肝细胞癌", 5},
    {"C16.9", "胃恶性肿瘤", 4},
    {"C18.9", "结肠恶性肿瘤", 3},
    {"C15.9", "食管恶性肿瘤", 2},
    {"C25.9", "胰恶性肿瘤", 2},
    {"C50.9", "乳房恶性肿瘤", 2},
    {"C53.9", "子宫颈恶性肿瘤", 1},
    {"J44.9", "慢性阻塞性肺病", 10},
    {"E11.9", "2型糖尿病", 4},
};
static const cause other_causes[] = {
    {"V89.2", "机动车交通事故", 8},
    {"W19", "跌倒", 7},
    {"X70", "悬吊、绞勒和窒息方式故意自害", 4},
    {"W74", "溺水", 2},
    {"J18.9", "肺炎", 12},
    {"K74.6", "肝硬化", 6},
    {"N18.9", "慢性肾脏病", 5},
    {"A16.2", "肺结核", 1},
    {"G30.9", "阿尔茨海默病", 5},
    {"R54", "老年", 6},
    {"K92.2", "胃肠出血", 3},
    {"I26.9", "肺栓塞", 2},
};
static const cause child_causes[] = {
    {"P07.3", "早产", 22},
    {"P21.9", "出生窒息", 12},
    {"Q24.9", "先天性心脏畸形", 18},
    {"Q89.9", "先天性畸形", 8},
    {"J18.9", "肺炎", 12},
    {"W79", "食物吸入致窒息", 6},
    {"W74", "溺水", 6},
    {"A09", "感染性腹泻", 4},
    {"V89.2", "机动车交通事故", 6},
    {"P36.9", "新生儿败血症", 6},
};
static const cause maternal_causes[] = {
    {"O72.1", "产后出血", 35},   {"O14.1", "重度子痫前期", 15},
    {"O88.1", "羊水栓塞", 20},   {"O99.4", "妊娠合并心脏病", 20},
    {"O85", "产褥期脓毒症", 10},
};

#define NCAUSES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* cause ids: table * 100 + index */
enum { T_NCD = 1, T_OTHER, T_CHILD, T_MATERNAL };

static const cause *
cause_of(int id)
{
    int t = id / 100, i = id % 100;
    switch (t) {
    case T_NCD:
        return &ncd_causes[i];
    case T_OTHER:
        return &other_causes[i];
    case T_CHILD:
        return &child_causes[i];
    default:
        return &maternal_causes[i];
    }
}

static int
draw_cause(demo_rng *r, int table, char sex)
{
    const cause *tab;
    int n;
    switch (table) {
    case T_NCD:
        tab = ncd_causes;
        n = NCAUSES(ncd_causes);
        break;
    case T_OTHER:
        tab = other_causes;
        n = NCAUSES(other_causes);
        break;
    case T_CHILD:
        tab = child_causes;
        n = NCAUSES(child_causes);
        break;
    default:
        tab = maternal_causes;
        n = NCAUSES(maternal_causes);
        break;
    }
    for (int tries = 0; tries < 8; tries++) {
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += tab[i].w;
        double u = demo_rng_unif(r) * sum;
        int i = 0;
        for (; i < n - 1 && u >= tab[i].w; i++)
            u -= tab[i].w;
        /* sex-specific cancers */
        if (sex == 'M' && (strncmp(tab[i].icd, "C50", 3) == 0 ||
                           strncmp(tab[i].icd, "C53", 3) == 0))
            continue;
        return table * 100 + i;
    }
    return table * 100;
}

/* ------------------------------------------------------------ hazards */

/* NCD hazard scale A: 1 - exp(-A * (e^{0.085*40} - 1) / 0.085) = target. */
static double
ncd_scale(double target_pct)
{
    double p = target_pct / 100.0;
    if (p <= 0 || p >= 0.9)
        p = 0.165;
    return -log(1 - p) / ((exp(0.085 * 40) - 1) / 0.085);
}

/* Yearly hazards at exact age a (years) of sex s: NCD and other causes. */
static void
hazards(
    const demo_ctx *c, double A, double a, char s, double *ncd, double *other)
{
    double sm = s == 'M' ? 1.3 : 0.7;
    *ncd = 0;
    if (a < 1) {
        *other = 0; /* infants: drawn at birth */
    } else if (a < 5) {
        *other = (c->rates.u5mr - c->rates.imr) / 1000.0 / 4.0;
        if (*other < 0)
            *other = 0;
    } else if (a < 15) {
        *other = 0.00018;
    } else if (a < 30) {
        *other = s == 'M' ? 0.0007 : 0.0003;
    } else {
        *ncd = A * exp(0.085 * (a - 30)) * sm;
        *other = 0.0004 * exp(0.072 * (a - 30)) * sm;
    }
}

/* Age-specific fertility weights per 5-year band 15..45 (China 2020
 * shape: peak at 25-29). */
static const double asfr[7] = {0.05, 0.9, 1.6, 1.1, 0.45, 0.1, 0.01};

/* ------------------------------------------------------------ ethnicity */

typedef struct ethnic_mix {
    const char *prefix;
    double korean, manchu, mongol, hui; /* % */
} ethnic_mix;

/* Approximate shares of the larger minorities (2020 census orders of
 * magnitude; see data/README.md). */
static const ethnic_mix mixes[] = {
    {"2224", 30.8, 2.0, 0.2, 0.3},   /* 延边朝鲜族自治州 */
    {"220623", 15.0, 1.0, 0.0, 0.2}, /* 长白朝鲜族自治县 */
    {"220323", 0.3, 38.0, 0.2, 0.5}, /* 伊通满族自治县 */
    {"220721", 0.5, 1.5, 9.0, 1.0},  /* 前郭尔罗斯蒙古族自治县 */
    {"2202", 1.2, 5.0, 0.2, 0.5},    /* 吉林市 */
    {"2106", 1.0, 35.0, 0.2, 0.5},   /* 丹东市 */
    {"22", 0.6, 3.0, 0.5, 0.4},      /* 吉林省 */
    {"", 0.5, 2.0, 0.3, 0.4},
};

static int
draw_ethnicity(demo_rng *r, const char *county)
{
    const ethnic_mix *m = &mixes[0];
    for (size_t i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++)
        if (strncmp(county, mixes[i].prefix, strlen(mixes[i].prefix)) == 0) {
            m = &mixes[i];
            break;
        }
    double u = demo_rng_unif(r) * 100;
    if ((u -= m->korean) < 0)
        return 10;
    if ((u -= m->manchu) < 0)
        return 11;
    if ((u -= m->mongol) < 0)
        return 2;
    if ((u -= m->hui) < 0)
        return 3;
    return 1;
}

static const char *
ethnicity_name(int e)
{
    switch (e) {
    case 2:
        return "蒙古族";
    case 3:
        return "回族";
    case 10:
        return "朝鲜族";
    case 11:
        return "满族";
    default:
        return "汉族";
    }
}

/* ------------------------------------------------------------ ID numbers */

/* Open-addressing set of 17-digit ID prefixes (as integers). */
typedef struct idset {
    uint64_t *slot;
    size_t cap, n;
} idset;

static int
idset_add(idset *s, uint64_t v)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap == 0 ? 1024 : 2 * s->cap;
        uint64_t *ns = rhis_xcalloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slot[i] == 0)
                continue;
            size_t j = (s->slot[i] * 0x9e3779b97f4a7c15ULL) >> 20 & (ncap - 1);
            while (ns[j] != 0)
                j = (j + 1) & (ncap - 1);
            ns[j] = s->slot[i];
        }
        rhis_free(s->slot);
        s->slot = ns;
        s->cap = ncap;
    }
    size_t j = (v * 0x9e3779b97f4a7c15ULL) >> 20 & (s->cap - 1);
    while (s->slot[j] != 0) {
        if (s->slot[j] == v)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = v;
    s->n++;
    return 1;
}

static char
check_char(const char *d17)
{
    static const int w[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                              3, 7, 9,  10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (d17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

/* County codes of other places residents were born in (GB/T 2260): other
 * Jilin counties and the provinces Jilin's residents came from most. */
static const char *const elsewhere[] = {
    "220102", "220104", "220105", "220122", "220182", "220183", "220202",
    "220204", "220281", "220282", "220283", "220284", "220302", "220381",
    "220382", "220402", "220421", "220502", "220521", "220581", "220602",
    "220702", "220721", "220802", "220881", "222401", "222403", "230102",
    "230103", "230202", "230602", "210102", "210202", "210602", "370102",
    "370202", "371302", "130102", "410102", "150102", "110105",
};

/* ------------------------------------------------------------ state */

typedef struct people {
    demo_ctx *c;
    double A;             /* NCD hazard scale */
    char birth_code[7];   /* the county's code for natives' ID numbers */
    char (*idn)[19];      /* per person */
    int32_t *dest;        /* per person: destination of a departure */
    demo_day *last_birth; /* per person: her last delivery, or 0 */
    idset ids;
    size_t cap;
    int32_t *village_people; /* scratch */
    char (*dests)[7];        /* counties people move to */
    int ndests;
    char province[3], city[5];
    char county_name[64];
} people;

static demo_person *
person_new(people *pp)
{
    demo_ctx *c = pp->c;
    if (c->npeople == pp->cap) {
        pp->cap = pp->cap == 0 ? 1024 : pp->cap * 2;
        c->people = rhis_xrealloc(c->people, pp->cap * sizeof(*c->people));
        pp->idn = rhis_xrealloc(pp->idn, pp->cap * sizeof(*pp->idn));
        pp->dest = rhis_xrealloc(pp->dest, pp->cap * sizeof(*pp->dest));
        pp->last_birth =
            rhis_xrealloc(pp->last_birth, pp->cap * sizeof(*pp->last_birth));
    }
    demo_person *p = &c->people[c->npeople];
    memset(p, 0, sizeof(*p));
    p->death = DEMO_NEVER;
    p->out_day = DEMO_NEVER;
    p->death_cause = -1;
    p->htn_onset = p->t2d_onset = DEMO_NEVER;
    p->household = -1;
    p->ethnicity = 1;
    pp->idn[c->npeople][0] = '\0';
    pp->dest[c->npeople] = -1;
    pp->last_birth[c->npeople] = 0;
    c->npeople++;
    return p;
}

static int
age_years(demo_day birth, demo_day day)
{
    int by, bm, bd, y, m, d;
    demo_ymd(birth, &by, &bm, &bd);
    demo_ymd(day, &y, &m, &d);
    int a = y - by;
    if (m < bm || (m == bm && d < bd))
        a--;
    return a;
}

/* Issues the ID number of person i born in area (6 digits). */
static rhis_status
issue_id(people *pp, size_t i, const char *area, int native, demo_rng *r)
{
    demo_ctx *c = pp->c;
    demo_person *p = &c->people[i];
    int y, m, d;
    demo_ymd(p->birth, &y, &m, &d);
    char d17[18];
    for (int tries = 0; tries < 400; tries++) {
        int seq = native ? (int)demo_rng_below(r, 300) * 2
                         : 600 + (int)demo_rng_below(r, 200) * 2;
        if (p->sex == 'M')
            seq++;
        (void)snprintf(d17, sizeof(d17), "%.6s%04d%02d%02d%03d", area, y, m, d,
                       seq);
        uint64_t v = strtoull(d17, NULL, 10);
        if (!idset_add(&pp->ids, v))
            continue;
        char full[19];
        (void)snprintf(full, sizeof(full), "%s%c", d17, check_char(d17));
        if (!native) {
            int64_t n = 0;
            rhis_status rc = rhis_db_scalar_int64(
                c->db, &n,
                "SELECT COUNT(*) FROM patient_identifier WHERE system = ?"
                " AND value = ?",
                "ss", RHIS_SYS_IDNUM, full);
            if (rc != RHIS_OK)
                return rc;
            if (n > 0)
                continue;
        }
        memcpy(pp->idn[i], full, 19);
        return RHIS_OK;
    }
    (void)fprintf(stderr, "\nrhis demo: no free ID number sequence left\n");
    return RHIS_EINTERNAL;
}

/* ------------------------------------------------------------ drawing */

/* Draws the death of person i between from and to (inclusive days),
 * unless already drawn. */
static void
draw_death(people *pp, size_t i, demo_day from, demo_day to, demo_rng *r)
{
    demo_ctx *c = pp->c;
    demo_person *p = &c->people[i];
    if (p->death != DEMO_NEVER)
        return;
    demo_day d = from;
    while (d <= to) {
        demo_day next = d + 365;
        if (next > to + 1)
            next = to + 1;
        double a = (d - p->birth) / YEAR_DAYS + (next - d) / (2 * YEAR_DAYS);
        double hn, ho;
        hazards(c, pp->A, a, p->sex, &hn, &ho);
        double frac = (next - d) / 365.0;
        double pdie = 1 - exp(-(hn + ho) * frac);
        if (demo_rng_bern(r, pdie)) {
            p->death = d + (demo_day)demo_rng_below(r, (uint32_t)(next - d));
            if (p->death < p->birth)
                p->death = p->birth;
            int table = demo_rng_bern(r, hn / (hn + ho)) ? T_NCD
                        : a < 5                          ? T_CHILD
                                                         : T_OTHER;
            p->death_cause = (int16_t)draw_cause(r, table, p->sex);
            return;
        }
        d = next;
    }
}

/* Draws the death of person i from day `from` to the end of the run. */
static void
settle_death(people *pp, size_t i, demo_day from)
{
    demo_ctx *c = pp->c;
    demo_rng r;
    demo_rng_init(&r, c->seed, "death",
                  demo_code_key(c->county->code) * 100000000ULL + i);
    draw_death(pp, i, from, c->day_to, &r);
    demo_person *p = &c->people[i];
    if (p->death != DEMO_NEVER && p->death > c->day_to) {
        p->death = DEMO_NEVER;
        p->death_cause = -1;
    }
}

/* Prevalence weights of hypertension and diabetes by age band (35+),
 * relative; scaled to the area's prevalence. */
static double
htn_weight(int age)
{
    return age < 45   ? 0.4
           : age < 55 ? 0.85
           : age < 65 ? 1.4
           : age < 75 ? 1.9
                      : 2.2;
}

static double
t2d_weight(int age)
{
    return age < 45   ? 0.45
           : age < 55 ? 0.9
           : age < 65 ? 1.35
           : age < 75 ? 1.6
                      : 1.5;
}

/* Mean weight over the 35+ population of the band table. */
static double
mean_weight(const demo_ctx *c, double (*wf)(int))
{
    double s = 0, n = 0;
    for (int b = 7; b < DEMO_NBANDS; b++) {
        s += c->data->band_share[b] * wf(b * 5 + 2);
        n += c->data->band_share[b];
    }
    return n > 0 ? s / n : 1;
}

static void
draw_chronic(people *pp, size_t i, demo_rng *r, double kh, double kt)
{
    demo_ctx *c = pp->c;
    demo_person *p = &c->people[i];
    demo_day start = p->in_day > c->day_from ? p->in_day : c->day_from;
    int age0 = age_years(p->birth, start);
    if (age0 >= 35) {
        if (demo_rng_bern(r, kh * htn_weight(age0))) {
            p->flags |= DEMO_HTN;
            p->htn_onset =
                start - (demo_day)(demo_rng_unif(r) * (age0 - 30) * 365 * 0.4);
        }
        if (demo_rng_bern(r, kt * t2d_weight(age0))) {
            p->flags |= DEMO_T2D;
            p->t2d_onset =
                start - (demo_day)(demo_rng_unif(r) * (age0 - 30) * 365 * 0.3);
        }
    }
    /* incidence in the years: keeps prevalence about level */
    for (int y = c->year_from; y <= c->year_to; y++) {
        demo_day d0 = demo_day_of(y, 1, 1);
        if (d0 < start)
            d0 = start;
        int age = age_years(p->birth, d0);
        if (age < 35 || d0 >= p->death || d0 >= p->out_day)
            continue;
        demo_day on = d0 + (demo_day)demo_rng_below(r, 365);
        if (!(p->flags & DEMO_HTN) &&
            demo_rng_bern(r, 0.045 * kh * htn_weight(age))) {
            p->flags |= DEMO_HTN;
            p->htn_onset = on;
        }
        if (!(p->flags & DEMO_T2D) &&
            demo_rng_bern(r, 0.05 * kt * t2d_weight(age))) {
            p->flags |= DEMO_T2D;
            p->t2d_onset = on;
        }
    }
    if (age0 >= 15 && demo_rng_bern(r, c->rates.smi_prev / 100.0 * 1.2))
        p->flags |= DEMO_SMI;
}

/* The residents on the first day, village by village. */
static void
draw_initial(people *pp)
{
    demo_ctx *c = pp->c;
    demo_county *k = c->county;
    const demo_data *d = c->data;
    double cum[DEMO_NBANDS];
    for (int b = 0; b < DEMO_NBANDS; b++)
        cum[b] = (b > 0 ? cum[b - 1] : 0) + d->band_share[b];
    for (int v = 0; v < k->nvillages; v++) {
        demo_rng r;
        demo_rng_init(&r, c->seed, "residents",
                      demo_code_key(k->villages[v].code));
        for (int n = 0; n < k->villages[v].population; n++) {
            demo_person *p = person_new(pp);
            int b = demo_rng_pick(&r, cum, DEMO_NBANDS);
            double age = b * 5 + 5 * demo_rng_unif(&r);
            if (b == DEMO_NBANDS - 1) {
                double u = demo_rng_unif(&r);
                age = 85 + 15 * u * u;
            }
            p->sex = demo_rng_bern(&r, d->band_male[b]) ? 'M' : 'F';
            p->birth = c->day_from - 1 - (demo_day)(age * YEAR_DAYS);
            p->in_day = c->day_from;
            p->village = v;
            p->ethnicity = (uint8_t)draw_ethnicity(&r, k->code);
        }
    }
}

/* Compare by birth day (then index) for sorting index arrays. */
static const demo_person *sort_base;

static int
by_birth(const void *a, const void *b)
{
    const demo_person *x = &sort_base[*(const int32_t *)a];
    const demo_person *y = &sort_base[*(const int32_t *)b];
    if (x->birth != y->birth)
        return x->birth < y->birth ? -1 : 1;
    return *(const int32_t *)a < *(const int32_t *)b ? -1 : 1;
}

/*
 * Households of the initial residents, village by village: couples by
 * age, dependants (under 25 and unpaired) with a mother 20-40 years older,
 * everyone else alone or as an elderly single.
 */
static void
draw_households(people *pp, size_t first, size_t end)
{
    demo_ctx *c = pp->c;
    demo_person *P = c->people;
    size_t i = first;
    sort_base = P;
    int32_t *men = rhis_xmalloc((end - first + 1) * sizeof(int32_t));
    int32_t *women = rhis_xmalloc((end - first + 1) * sizeof(int32_t));
    int32_t *mothers = rhis_xmalloc((end - first + 1) * sizeof(int32_t));
    while (i < end) {
        int v = P[i].village;
        size_t j = i;
        while (j < end && P[j].village == v)
            j++;
        demo_rng r;
        demo_rng_init(&r, c->seed, "households",
                      demo_code_key(c->county->villages[v].code));
        size_t nm = 0, nw = 0, nmo = 0;
        for (size_t x = i; x < j; x++) {
            int a = age_years(P[x].birth, c->day_from);
            if (a < 22)
                continue;
            if (P[x].sex == 'M')
                men[nm++] = (int32_t)x;
            else
                women[nw++] = (int32_t)x;
        }
        qsort(men, nm, sizeof(int32_t), by_birth);
        qsort(women, nw, sizeof(int32_t), by_birth);
        /* couples: a woman 0-8 years younger or up to 2 older */
        size_t w = 0;
        for (size_t m = 0; m < nm; m++) {
            demo_person *man = &P[men[m]];
            if (!demo_rng_bern(&r, 0.86))
                continue;
            while (w < nw && P[women[w]].birth < man->birth - 2 * 365)
                w++;
            if (w < nw && P[women[w]].birth <= man->birth + 8 * 365 &&
                P[women[w]].household < 0) {
                man->household = P[women[w]].household = c->nhouseholds++;
                mothers[nmo++] = women[w];
                w++;
            }
        }
        /* mothers sorted by birth already (women were) */
        for (size_t x = i; x < j; x++) {
            if (P[x].household >= 0)
                continue;
            int a = age_years(P[x].birth, c->day_from);
            if (a < 25 && nmo > 0) {
                /* mothers born 20-40 years before */
                demo_day lo = P[x].birth - 40 * 365, hi = P[x].birth - 20 * 365;
                size_t l = 0, h = nmo;
                while (l < h) {
                    size_t mid = (l + h) / 2;
                    if (P[mothers[mid]].birth < lo)
                        l = mid + 1;
                    else
                        h = mid;
                }
                size_t s = l;
                l = s;
                h = nmo;
                while (l < h) {
                    size_t mid = (l + h) / 2;
                    if (P[mothers[mid]].birth <= hi)
                        l = mid + 1;
                    else
                        h = mid;
                }
                if (l > s) {
                    size_t pick = s + demo_rng_below(&r, (uint32_t)(l - s));
                    P[x].household = P[mothers[pick]].household;
                    continue;
                }
            }
            P[x].household = c->nhouseholds++;
        }
        i = j;
    }
    rhis_free(men);
    rhis_free(women);
    rhis_free(mothers);
}

/* Index arrays of the people present on day d (in_day <= d < death/out). */
static int
present(const demo_person *p, demo_day d)
{
    return p->in_day <= d && d < p->death && d < p->out_day;
}

/* Births, deaths, arrivals and departures, year by year. */
static rhis_status
draw_years(people *pp)
{
    demo_ctx *c = pp->c;
    size_t cap_b = 0;
    for (int y = c->year_from; y <= c->year_to; y++) {
        demo_day y0 = demo_day_of(y, 1, 1), y1 = demo_day_of(y + 1, 1, 1) - 1;
        if (y1 > c->day_to)
            y1 = c->day_to;
        demo_rng r;
        demo_rng_init(&r, c->seed, "year",
                      demo_code_key(c->county->code) * 10000 + (uint64_t)y);
        /* departures of residents 15-49 (whole-year draw per person) */
        size_t n0 = c->npeople;
        int64_t npresent = 0;
        for (size_t i = 0; i < n0; i++) {
            demo_person *p = &c->people[i];
            if (!present(p, y0) && !(p->in_day > y0 && p->in_day <= y1))
                continue;
            npresent++;
            int a = age_years(p->birth, y0);
            if (a >= 15 && a < 50 && p->out_day == DEMO_NEVER &&
                demo_rng_bern(&r, c->rates.out_migration / 100.0)) {
                demo_day d = y0 + (demo_day)demo_rng_below(&r, 365);
                if (d > p->in_day && d < p->death && d <= y1) {
                    p->out_day = d;
                    pp->dest[i] = (int32_t)demo_rng_below(
                        &r, (uint32_t)(pp->ndests > 0 ? pp->ndests : 1));
                }
            }
        }
        /* births: mothers among the women 15-49 present at mid-year */
        demo_day mid = y0 + 181;
        size_t nw = 0;
        int32_t *wi = rhis_xmalloc((n0 + 1) * sizeof(int32_t));
        double *wc = rhis_xmalloc((n0 + 1) * sizeof(double));
        for (size_t i = 0; i < n0; i++) {
            demo_person *p = &c->people[i];
            if (p->sex != 'F' || !present(p, mid))
                continue;
            int a = age_years(p->birth, mid);
            if (a < 15 || a >= 50)
                continue;
            wi[nw] = (int32_t)i;
            wc[nw] = (nw > 0 ? wc[nw - 1] : 0) + asfr[(a - 15) / 5];
            nw++;
        }
        uint32_t nb =
            demo_rng_poisson(&r, c->rates.birth_rate / 1000.0 *
                                     (double)npresent * (y1 - y0 + 1) / 365.0);
        for (uint32_t b = 0; b < nb && nw > 0; b++) {
            int32_t mi = wi[demo_rng_pick(&r, wc, (int)nw)];
            demo_day day =
                y0 + (demo_day)demo_rng_below(&r, (uint32_t)(y1 - y0 + 1));
            if (!present(&c->people[mi], day))
                continue; /* she died or left first: no birth */
            if (pp->last_birth[mi] != 0 && day - pp->last_birth[mi] < 365 &&
                pp->last_birth[mi] - day < 365)
                continue; /* one delivery a year at most */
            pp->last_birth[mi] = day;
            demo_person *ch = person_new(pp);
            demo_person *mo = &c->people[mi];
            ch->birth = ch->in_day = day;
            ch->sex = demo_rng_bern(&r, 0.512) ? 'M' : 'F';
            ch->village = mo->village;
            ch->household = mo->household;
            ch->ethnicity = mo->ethnicity;
            ch->flags |= DEMO_FD_KEY;
            size_t ci = c->npeople - 1;
            if (demo_rng_bern(&r, c->rates.imr / 1000.0)) {
                /* 60 % neonatal */
                demo_day age = demo_rng_bern(&r, 0.6)
                                   ? (demo_day)demo_rng_below(&r, 28)
                                   : 28 + (demo_day)demo_rng_below(&r, 337);
                ch->death = day + age;
                ch->death_cause = (int16_t)draw_cause(&r, T_CHILD, ch->sex);
            } else if (demo_rng_bern(&r, (c->rates.u5mr - c->rates.imr) /
                                             (1000.0 - c->rates.imr))) {
                ch->death = day + 365 + (demo_day)demo_rng_below(&r, 1461);
                ch->death_cause = (int16_t)draw_cause(&r, T_CHILD, ch->sex);
            } else {
                ch->death = DEMO_NEVER - 1; /* drawn later from age 5 */
            }
            if (ch->death > c->day_to)
                ch->death = DEMO_NEVER;
            if (demo_rng_bern(&r, c->rates.mmr / 100000.0)) {
                demo_day md = day + (demo_day)demo_rng_below(&r, 43);
                if (md < mo->death && md <= c->day_to) {
                    mo->death = md;
                    mo->death_cause =
                        (int16_t)draw_cause(&r, T_MATERNAL, mo->sex);
                    if (mo->out_day <= md)
                        mo->out_day = DEMO_NEVER;
                }
            }
            mo->flags |= DEMO_FD_KEY;
            if (c->nbirths == cap_b) {
                cap_b = cap_b == 0 ? 256 : 2 * cap_b;
                c->births =
                    rhis_xrealloc(c->births, cap_b * sizeof(*c->births));
            }
            c->births[c->nbirths++] = (demo_birth){mi, (int32_t)ci, day};
        }
        rhis_free(wi);
        rhis_free(wc);
        /* arrivals: a person, sometimes with a spouse and a child */
        uint32_t na = demo_rng_poisson(&r, c->rates.in_migration / 100.0 *
                                               (double)npresent / 1.6);
        for (uint32_t a = 0; a < na; a++) {
            demo_day day =
                y0 + (demo_day)demo_rng_below(&r, (uint32_t)(y1 - y0 + 1));
            int v = (int)demo_rng_below(&r, (uint32_t)c->county->nvillages);
            int hh = c->nhouseholds++;
            int size = 1 + (int)demo_rng_bern(&r, 0.4);
            for (int m = 0; m < size; m++) {
                demo_person *p = person_new(pp);
                double age = 20 + 25 * demo_rng_unif(&r);
                p->sex =
                    m == 1 ? (c->people[c->npeople - 2].sex == 'M' ? 'F' : 'M')
                           : (demo_rng_bern(&r, 0.5) ? 'M' : 'F');
                p->birth = day - (demo_day)(age * YEAR_DAYS);
                p->in_day = day;
                p->village = v;
                p->household = hh;
                p->flags |= DEMO_MIGRANT;
                p->ethnicity = (uint8_t)draw_ethnicity(&r, c->county->code);
                settle_death(pp, c->npeople - 1, day);
            }
            if (size == 2 && demo_rng_bern(&r, 0.5)) {
                demo_person *p = person_new(pp);
                double age = 8 * demo_rng_unif(&r);
                p->sex = demo_rng_bern(&r, 0.51) ? 'M' : 'F';
                p->birth = day - (demo_day)(age * YEAR_DAYS);
                p->in_day = day;
                p->village = v;
                p->household = hh;
                p->flags |= DEMO_MIGRANT;
                p->ethnicity = c->people[c->npeople - 2].ethnicity;
                settle_death(pp, c->npeople - 1, day);
            }
        }
    }
    /* deaths from age 5 of the children born in the years */
    for (size_t i = 0; i < c->npeople; i++) {
        demo_person *p = &c->people[i];
        if (p->death == DEMO_NEVER - 1) {
            p->death = DEMO_NEVER;
            demo_day from = p->birth + (demo_day)(5 * YEAR_DAYS);
            if (from <= c->day_to)
                settle_death(pp, i, from);
        }
        if (p->out_day != DEMO_NEVER && p->death <= p->out_day) {
            p->out_day = DEMO_NEVER;
            pp->dest[i] = -1;
        }
        if (p->death != DEMO_NEVER && p->out_day <= p->death) {
            p->death = DEMO_NEVER; /* died elsewhere, not our record */
            p->death_cause = -1;
        }
    }
    return RHIS_OK;
}

/* ------------------------------------------------------------ records */

static json_object *
jstr(const char *s)
{
    return json_object_new_string(s);
}

static void
fmt_date(demo_day day, char *out, size_t len)
{
    int y, m, d;
    demo_ymd(day, &y, &m, &d);
    (void)snprintf(out, len, "%04d-%02d-%02d", y, m, d);
}

/* ISO instant in China time of ms. */
static void
fmt_instant(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000 + 8 * 3600;
    demo_day day = (demo_day)(s / 86400);
    int sec = (int)(s % 86400);
    int y, m, d;
    demo_ymd(day, &y, &m, &d);
    (void)snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d,
                   sec / 3600, sec / 60 % 60, sec % 60);
}

static const char *const phone_prefix[] = {
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "155", "156", "157", "158", "159", "176", "177",
    "180", "181", "182", "183", "185", "186", "187", "188", "189", "198"};

/*
 * The Patient of person i.  dest < 0: living in its village; else moved to
 * county pp->dests[dest].  deceased_ms 0: alive.
 */
static json_object *
patient_json(people *pp, size_t i, int dest, int64_t deceased_ms)
{
    demo_ctx *c = pp->c;
    const demo_person *p = &c->people[i];
    const demo_village *v = &c->county->villages[p->village];
    demo_rng r;
    demo_rng_init(&r, c->seed, "identity",
                  demo_code_key(c->county->code) * 100000000ULL + i);
    int by, bm, bd;
    demo_ymd(p->birth, &by, &bm, &bd);
    char family[32], given[32];
    demo_name(c, &r, p->sex, by, p->ethnicity, family, sizeof(family), given,
              sizeof(given));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "resourceType", jstr("Patient"));
    json_object *ids = json_object_new_array();
    json_object *id = json_object_new_object();
    json_object_object_add(id, "system", jstr(RHIS_SYS_IDNUM));
    json_object_object_add(id, "value", jstr(pp->idn[i]));
    json_object_array_add(ids, id);
    json_object_object_add(o, "identifier", ids);
    json_object *names = json_object_new_array();
    json_object *n = json_object_new_object();
    char full[64];
    (void)snprintf(full, sizeof(full), "%s%s", family, given);
    json_object_object_add(n, "text", jstr(full));
    json_object_object_add(n, "family", jstr(family));
    json_object *g = json_object_new_array();
    json_object_array_add(g, jstr(given));
    json_object_object_add(n, "given", g);
    json_object_array_add(names, n);
    json_object_object_add(o, "name", names);
    json_object_object_add(o, "gender",
                           jstr(p->sex == 'M' ? "male" : "female"));
    char bdate[16];
    fmt_date(p->birth, bdate, sizeof(bdate));
    json_object_object_add(o, "birthDate", jstr(bdate));
    int age = age_years(p->birth, c->day_to);
    if (age >= 15 && demo_rng_bern(&r, age < 70 ? 0.95 : 0.7)) {
        char phone[16];
        (void)snprintf(phone, sizeof(phone), "%s%08u",
                       phone_prefix[demo_rng_below(
                           &r, sizeof(phone_prefix) / sizeof(phone_prefix[0]))],
                       demo_rng_below(&r, 100000000));
        json_object *tel = json_object_new_array();
        json_object *cp = json_object_new_object();
        json_object_object_add(cp, "system", jstr("phone"));
        json_object_object_add(cp, "value", jstr(phone));
        json_object_object_add(cp, "use", jstr("mobile"));
        json_object_array_add(tel, cp);
        json_object_object_add(o, "telecom", tel);
    }
    json_object *addrs = json_object_new_array();
    json_object *ad = json_object_new_object();
    json_object *aext = json_object_new_array();
    json_object *ax = json_object_new_object();
    json_object_object_add(ax, "url", jstr(RHIS_EXT_ADDRESS_DIVISION));
    char text[256];
    if (dest < 0) {
        json_object_object_add(ax, "valueCode", jstr(v->code));
        (void)snprintf(text, sizeof(text), "%s%s%s%u号", pp->county_name,
                       c->county->townships[v->township].name, v->name,
                       1 + demo_rng_below(&r, 200));
    } else {
        json_object_object_add(ax, "valueCode", jstr(pp->dests[dest]));
        (void)snprintf(text, sizeof(text), "迁出至%s", pp->dests[dest]);
        json_object_object_add(o, "active", json_object_new_boolean(0));
    }
    json_object_array_add(aext, ax);
    json_object_object_add(ad, "extension", aext);
    json_object_object_add(ad, "text", jstr(text));
    json_object_array_add(addrs, ad);
    json_object_object_add(o, "address", addrs);
    json_object *ext = json_object_new_array();
    json_object *hx = json_object_new_object();
    char hh[40];
    (void)snprintf(hh, sizeof(hh), "%s-%06d", c->county->code, p->household);
    json_object_object_add(hx, "url", jstr(RHIS_EXT_HOUSEHOLD));
    json_object_object_add(hx, "valueString", jstr(hh));
    json_object_array_add(ext, hx);
    json_object *ex = json_object_new_object();
    json_object_object_add(ex, "url", jstr(RHIS_EXT_ETHNICITY));
    json_object *cd = json_object_new_object();
    char ecode[4];
    (void)snprintf(ecode, sizeof(ecode), "%02d", p->ethnicity);
    json_object_object_add(cd, "system", jstr(RHIS_SYS_ETHNICITY));
    json_object_object_add(cd, "code", jstr(ecode));
    json_object_object_add(cd, "display", jstr(ethnicity_name(p->ethnicity)));
    json_object_object_add(ex, "valueCoding", cd);
    json_object_array_add(ext, ex);
    json_object_object_add(o, "extension", ext);
    if (deceased_ms != 0) {
        char when[40];
        fmt_instant(deceased_ms, when, sizeof(when));
        json_object_object_add(o, "deceasedDateTime", jstr(when));
    }
    const demo_county *k = c->county;
    int inst =
        v->clinic >= 0 ? v->clinic : k->townships[v->township].health_centre;
    if (inst >= 0 && k->insts[inst].id > 0) {
        char ref[40];
        (void)snprintf(ref, sizeof(ref), "Organization/%lld",
                       (long long)k->insts[inst].id);
        json_object *mo = json_object_new_object();
        json_object_object_add(mo, "reference", jstr(ref));
        json_object_object_add(o, "managingOrganization", mo);
    }
    return o;
}

static json_object *
cause_json(int64_t patient_id, int cause_id, int64_t ms)
{
    const cause *cs = cause_of(cause_id);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "resourceType", jstr("Observation"));
    json_object_object_add(o, "status", jstr("final"));
    json_object *code = json_object_new_object();
    json_object *codings = json_object_new_array();
    json_object *cd = json_object_new_object();
    json_object_object_add(cd, "system", jstr(RHIS_SYS_LOINC));
    json_object_object_add(cd, "code", jstr("69453-9"));
    json_object_object_add(cd, "display", jstr("Cause of death"));
    json_object_array_add(codings, cd);
    json_object_object_add(code, "coding", codings);
    json_object_object_add(code, "text", jstr("根本死因"));
    json_object_object_add(o, "code", code);
    char ref[40];
    (void)snprintf(ref, sizeof(ref), "Patient/%lld", (long long)patient_id);
    json_object *subj = json_object_new_object();
    json_object_object_add(subj, "reference", jstr(ref));
    json_object_object_add(o, "subject", subj);
    char when[40];
    fmt_instant(ms, when, sizeof(when));
    json_object_object_add(o, "effectiveDateTime", jstr(when));
    json_object *val = json_object_new_object();
    json_object *vcs = json_object_new_array();
    json_object *vc = json_object_new_object();
    json_object_object_add(vc, "system", jstr(RHIS_SYS_ICD10));
    json_object_object_add(vc, "code", jstr(cs->icd));
    json_object_array_add(vcs, vc);
    json_object_object_add(val, "coding", vcs);
    json_object_object_add(val, "text", jstr(cs->zh));
    json_object_object_add(o, "valueCodeableConcept", val);
    return o;
}

/* One write in time order. */
typedef struct event {
    int64_t ms;
    int32_t person;
    int32_t kind; /* 0 create, 1 depart, 2 death */
} event;

static int
by_time(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return x->kind - y->kind;
}

static int64_t
death_ms(const demo_ctx *c, size_t i)
{
    const demo_person *p = &c->people[i];
    demo_rng r;
    demo_rng_init(&r, c->seed, "death-time",
                  (uint64_t)p->death * 1000003ULL + (uint64_t)i);
    /* on the day of the record's creation: after it (noon at the latest) */
    int hour = p->death == p->in_day ? 13 + (int)demo_rng_below(&r, 11)
                                     : (int)demo_rng_below(&r, 24);
    return demo_ms(p->death, hour, (int)demo_rng_below(&r, 60));
}

static int64_t
create_ms(const demo_ctx *c, size_t i)
{
    const demo_person *p = &c->people[i];
    if (p->in_day == c->day_from && !(p->flags & DEMO_MIGRANT) &&
        p->birth < c->day_from)
        return demo_ms(c->day_from, 8, 0) + (int64_t)(i % 3600) * 1000;
    return demo_ms(p->in_day, p->in_day == p->birth ? 12 : 9, (int)(i % 60));
}

static rhis_status
write_records(people *pp)
{
    demo_ctx *c = pp->c;
    size_t n = c->npeople, ne = 0;
    event *ev = rhis_xmalloc((3 * n + 1) * sizeof(*ev));
    for (size_t i = 0; i < n; i++) {
        const demo_person *p = &c->people[i];
        ev[ne++] = (event){create_ms(c, i), (int32_t)i, 0};
        if (p->out_day != DEMO_NEVER)
            ev[ne++] = (event){demo_ms(p->out_day, 10, 0), (int32_t)i, 1};
        if (p->death != DEMO_NEVER)
            ev[ne++] = (event){death_ms(c, i), (int32_t)i, 2};
    }
    qsort(ev, ne, sizeof(*ev), by_time);
    rhis_status rc = RHIS_OK;
    for (size_t e = 0; e < ne && rc == RHIS_OK; e++) {
        size_t i = (size_t)ev[e].person;
        demo_person *p = &c->people[i];
        if (ev[e].kind == 0) {
            rc = demo_create(c, &rhis_type_patient, patient_json(pp, i, -1, 0),
                             ev[e].ms, &p->patient_id);
        } else if (ev[e].kind == 1) {
            rc = demo_update(c, &rhis_type_patient, p->patient_id,
                             patient_json(pp, i, pp->dest[i], 0), ev[e].ms);
        } else {
            rc = demo_update(c, &rhis_type_patient, p->patient_id,
                             patient_json(pp, i, -1, ev[e].ms), ev[e].ms);
            if (rc == RHIS_OK && p->death_cause >= 0)
                rc = demo_create(
                    c, &rhis_type_observation,
                    cause_json(p->patient_id, p->death_cause, ev[e].ms),
                    ev[e].ms + 60000, NULL);
        }
        demo_tick(c, 1);
    }
    rhis_free(ev);
    return rc;
}

/* Destinations of departures: the province's county-level units (the
 * capital's districts weigh more), read from the area table. */
static rhis_status
load_dests(people *pp)
{
    demo_ctx *c = pp->c;
    rhis_stmt *st;
    char lo[3], hi[3];
    (void)snprintf(lo, sizeof(lo), "%.2s", c->county->code);
    (void)snprintf(hi, sizeof(hi), "%.2s", c->county->code);
    hi[1]++;
    rhis_status rc = rhis_db_query(
        c->db, &st,
        "SELECT code FROM area WHERE level = 3 AND code >= ? AND code < ?"
        " ORDER BY code",
        "ss", lo, hi);
    if (rc != RHIS_OK)
        return rc;
    int cap = 0;
    while (rhis_db_step(st) == RHIS_ROW) {
        const char *code = rhis_db_column_text(st, 0);
        if (strcmp(code, c->county->code) == 0)
            continue;
        int copies = strncmp(code, "2201", 4) == 0 ? 4 : 1;
        for (int k = 0; k < copies; k++) {
            if (pp->ndests == cap) {
                cap = cap == 0 ? 64 : 2 * cap;
                pp->dests =
                    rhis_xrealloc(pp->dests, (size_t)cap * sizeof(*pp->dests));
            }
            (void)snprintf(pp->dests[pp->ndests++], 7, "%s", code);
        }
    }
    rhis_db_finalize(st);
    if (pp->ndests == 0) {
        pp->dests = rhis_xrealloc(pp->dests, sizeof(*pp->dests));
        (void)snprintf(pp->dests[0], 7, "%s", c->county->code);
        pp->ndests = 1;
    }
    return RHIS_OK;
}

/* The code natives' ID numbers carry: the county's own, or for a
 * development zone (statistical code 7x, never on an ID card) the first
 * ordinary county-level code of its city. */
static void
natives_code(people *pp)
{
    demo_ctx *c = pp->c;
    const char *code = c->county->code;
    (void)snprintf(pp->birth_code, sizeof(pp->birth_code), "%s", code);
    if (code[4] != '7')
        return;
    char lo[5], hi[5];
    (void)snprintf(lo, sizeof(lo), "%.4s", code);
    (void)snprintf(hi, sizeof(hi), "%.4s", code);
    hi[3]++;
    rhis_stmt *st;
    if (rhis_db_query(c->db, &st,
                      "SELECT code FROM area WHERE level = 3 AND code >= ?"
                      " AND code < ? ORDER BY code",
                      "ss", lo, hi) != RHIS_OK)
        return;
    while (rhis_db_step(st) == RHIS_ROW) {
        const char *k = rhis_db_column_text(st, 0);
        if (k[4] != '7') {
            (void)snprintf(pp->birth_code, sizeof(pp->birth_code), "%s", k);
            break;
        }
    }
    rhis_db_finalize(st);
}

rhis_status
demo_people(demo_ctx *c)
{
    people pp;
    memset(&pp, 0, sizeof(pp));
    pp.c = c;
    pp.A = ncd_scale(c->rates.ncd_premature);
    (void)snprintf(pp.county_name, sizeof(pp.county_name), "%s",
                   c->county->name);
    natives_code(&pp);
    rhis_status rc = load_dests(&pp);
    if (rc != RHIS_OK)
        return rc;
    c->npeople = 0;
    c->nhouseholds = 0;
    draw_initial(&pp);
    size_t ninit = c->npeople;
    draw_households(&pp, 0, ninit);
    for (size_t i = 0; i < ninit; i++)
        settle_death(&pp, i, c->day_from);
    rc = draw_years(&pp);
    /* chronic conditions and key-population flags */
    double kh = c->rates.htn_prev / 100.0 / mean_weight(c, htn_weight);
    double kt = c->rates.t2d_prev / 100.0 / mean_weight(c, t2d_weight);
    for (size_t i = 0; i < c->npeople && rc == RHIS_OK; i++) {
        demo_rng r;
        demo_rng_init(&r, c->seed, "chronic",
                      demo_code_key(c->county->code) * 100000000ULL + i);
        draw_chronic(&pp, i, &r, kh, kt);
        demo_person *p = &c->people[i];
        if (p->flags & (DEMO_HTN | DEMO_T2D | DEMO_SMI) ||
            age_years(p->birth, c->day_to) >= 65)
            p->flags |= DEMO_FD_KEY;
    }
    /* ID numbers: natives 85 % of the initial residents and every birth */
    for (size_t i = 0; i < c->npeople && rc == RHIS_OK; i++) {
        demo_rng r;
        demo_rng_init(&r, c->seed, "idnum",
                      demo_code_key(c->county->code) * 100000000ULL + i);
        demo_person *p = &c->people[i];
        int native = !(p->flags & DEMO_MIGRANT) &&
                     (p->birth >= c->day_from || demo_rng_bern(&r, 0.85));
        const char *area =
            native ? pp.birth_code
                   : elsewhere[demo_rng_below(&r, sizeof(elsewhere) /
                                                      sizeof(elsewhere[0]))];
        if (!native && strcmp(area, pp.birth_code) == 0)
            area = "220102";
        /* a development zone's natives carry a district's code, whose own
         * natives use 000-599: they take the checked range instead */
        rc =
            issue_id(&pp, i, area,
                     native && strcmp(pp.birth_code, c->county->code) == 0, &r);
    }
    if (rc == RHIS_OK)
        rc = write_records(&pp);
    rhis_free(pp.idn);
    rhis_free(pp.dest);
    rhis_free(pp.last_birth);
    rhis_free(pp.ids.slot);
    rhis_free(pp.dests);
    return rc;
}

/* ------------------------------------------------------------ denominators */

rhis_status
demo_population_rows(demo_ctx *c)
{
    const demo_county *k = c->county;
    int nv = k->nvillages;
    int32_t *cnt = rhis_xmalloc((size_t)nv * 2 * DEMO_NBANDS * sizeof(int32_t));
    char source[64];
    (void)snprintf(source, sizeof(source), "rhis demo seed %llu",
                   (unsigned long long)c->seed);
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_prepare(
        c->db,
        "INSERT INTO population (area_code, year, sex, age_band, population,"
        " source) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (area_code, year,"
        " sex, age_band) DO UPDATE SET population = excluded.population,"
        " source = excluded.source",
        &st);
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day mid = demo_day_of(y, 7, 1);
        memset(cnt, 0, (size_t)nv * 2 * DEMO_NBANDS * sizeof(int32_t));
        for (size_t i = 0; i < c->npeople; i++) {
            const demo_person *p = &c->people[i];
            if (!present(p, mid))
                continue;
            int a = age_years(p->birth, mid);
            int b = a / 5 >= DEMO_NBANDS ? DEMO_NBANDS - 1 : a / 5;
            cnt[(p->village * 2 + (p->sex == 'M' ? 0 : 1)) * DEMO_NBANDS + b]++;
        }
        for (int v = 0; v < nv && rc == RHIS_OK; v++)
            for (int s = 0; s < 2 && rc == RHIS_OK; s++)
                for (int b = 0; b < DEMO_NBANDS && rc == RHIS_OK; b++) {
                    int32_t n = cnt[(v * 2 + s) * DEMO_NBANDS + b];
                    if (n == 0)
                        continue;
                    rhis_db_bind_text(st, 1, k->villages[v].code);
                    rhis_db_bind_int64(st, 2, y);
                    rhis_db_bind_text(st, 3, s == 0 ? "M" : "F");
                    rhis_db_bind_int64(st, 4, b * 5);
                    rhis_db_bind_int64(st, 5, n);
                    rhis_db_bind_text(st, 6, source);
                    rc = rhis_db_step(st);
                    rc = rc == RHIS_DONE ? RHIS_OK : rc;
                    rhis_db_reset(st);
                }
    }
    rhis_db_finalize(st);
    rhis_free(cnt);
    return rc;
}
