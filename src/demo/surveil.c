/*
 * surveil.c - demo_surveil: notifiable-disease report cards, the daily
 * counts of the surveillance channels and injected outbreaks of one
 * county of the demo region.
 *
 * Why: the detectors and the alert workflow (issue 5) need a region whose
 * surveillance data looks like a Chinese county's - endemic diseases with
 * their own seasons, reporting delays, late and duplicate cards, clinic,
 * school, pharmacy, public and laboratory channels - and outbreaks whose
 * place, start and size are known, so sensitivity and delay can be
 * measured against a ground truth.  Everything goes through the
 * surveillance module's own write functions (rhis/surveil.h): the same
 * validation, deadlines, duplicate detection, fixed-threshold alerts and
 * audit events as cards reported over HTTP.
 *
 * Model (rates and seasons are documented in data/README.md):
 *   - endemic cases: for each disease a yearly reported incidence per
 *     100 000 and twelve monthly factors; a case is a resident present
 *     that day in the disease's age range; onset-to-diagnosis and
 *     diagnosis-to-report delays per disease (about 3 % of cards late);
 *     2.5 % of cases reported twice by a second institution, most
 *     duplicates merged by the county CDC, the rest left for review;
 *     the county CDC audits cards within, and sometimes after, the
 *     deadline (the last days' cards still pending);
 *   - channels: fever and intestinal clinics (county hospital; township
 *     centres' intestinal clinics May-October), absenteeism by reason at
 *     each township's central primary school and kindergarten on school
 *     days, sales by drug class at one retail pharmacy per township (a
 *     site, not a health institution), public reports and
 *     laboratory positives by pathogen;
 *   - outbreaks: about four a year per 350 000 residents, of five kinds
 *     (school influenza, kindergarten HFMD, school norovirus, village
 *     dysentery, school mumps), plus one fixed-threshold cholera case per
 *     county; each case raises its channels and, with a probability,
 *     a card.  The outbreaks are drawn whether or not --truth is given
 *     (the data never depends on it); the truth file
 *     DIR/outbreaks-<county>.csv lists them only when it is.
 *
 * Determinism: one demo_rng stream per (purpose, county[, disease]); the
 * writes are applied in the order of their simulated time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo.h"
#include "demo_int.h"
#include "rhis/surveil.h"

/* ---- endemic diseases ---- */

typedef struct disease_model {
    const char *code; /* catalogue code (data/notifiable-diseases.csv) */
    double per100k;   /* reported incidence a year */
    int age_lo, age_hi;
    int child_weight;   /* under-15s weigh 3x (influenza, diarrhoea) */
    double confirmed;   /* share of cards confirmed, the rest clinical */
    double onset_delay; /* mean days from onset to diagnosis */
    int county_level;   /* diagnosed at the county hospital only */
    double month[12];   /* relative season, January first */
} disease_model;

/*
 * Yearly reported incidence per 100 000 of the main notifiable diseases
 * in north-east China, and their seasons (see data/README.md).
 */
static const disease_model diseases[] = {
    {"influenza",
     120,
     0,
     99,
     1,
     0.35,
     1.0,
     0,
     {3.0, 2.0, 1.2, 0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.4, 1.0, 2.5}},
    {"hfmd",
     60,
     0,
     5,
     0,
     0.20,
     1.0,
     0,
     {0.2, 0.15, 0.3, 0.8, 1.8, 2.6, 2.2, 1.3, 1.0, 0.9, 0.5, 0.25}},
    {"other_diarrhea",
     35,
     0,
     99,
     1,
     0.30,
     1.0,
     0,
     {1.2, 0.9, 0.7, 0.6, 0.8, 1.1, 1.5, 1.5, 1.1, 1.0, 1.2, 1.4}},
    {"dysentery",
     3,
     0,
     99,
     0,
     0.50,
     1.5,
     0,
     {0.3, 0.3, 0.4, 0.6, 0.9, 1.4, 2.2, 2.4, 1.6, 0.8, 0.5, 0.4}},
    {"hepatitis_b",
     45,
     20,
     75,
     0,
     0.90,
     20.0,
     1,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"hepatitis_c",
     8,
     30,
     80,
     0,
     0.90,
     20.0,
     1,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"hepatitis_e",
     3,
     30,
     80,
     0,
     0.90,
     5.0,
     1,
     {1.3, 1.3, 1.4, 1.2, 1, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1}},
    {"hepatitis_a",
     0.8,
     2,
     60,
     0,
     0.90,
     4.0,
     1,
     {1, 1, 1.1, 1.1, 1, 1, 1, 1, 1, 0.9, 0.9, 1}},
    {"tb",
     40,
     15,
     90,
     0,
     0.40,
     30.0,
     1,
     {0.9, 0.9, 1.2, 1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0}},
    {"syphilis",
     22,
     20,
     80,
     0,
     0.95,
     15.0,
     1,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"gonorrhea",
     3,
     18,
     55,
     0,
     0.95,
     5.0,
     1,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"hiv", 2, 20, 70, 0, 1.00, 60.0, 1, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"mumps",
     8,
     4,
     14,
     0,
     0.10,
     1.5,
     0,
     {0.8, 0.6, 0.8, 1.2, 1.6, 1.6, 1.2, 0.7, 0.7, 1.0, 1.0, 0.8}},
    {"scarlet_fever",
     4,
     3,
     10,
     0,
     0.30,
     1.5,
     0,
     {1.1, 0.6, 1.0, 1.4, 1.8, 1.6, 0.8, 0.3, 0.4, 0.8, 1.1, 1.1}},
    {"brucellosis",
     10,
     25,
     70,
     0,
     0.90,
     20.0,
     1,
     {0.5, 0.5, 0.9, 1.4, 1.8, 1.7, 1.4, 1.1, 0.9, 0.7, 0.6, 0.5}},
    {"hfrs",
     1.5,
     20,
     70,
     0,
     0.90,
     3.0,
     1,
     {1.3, 0.8, 0.8, 1.0, 1.0, 0.8, 0.6, 0.6, 0.7, 1.3, 1.9, 1.7}},
    {"pertussis",
     1,
     0,
     10,
     0,
     0.60,
     10.0,
     0,
     {0.8, 0.7, 0.8, 1.0, 1.2, 1.3, 1.3, 1.2, 1.0, 0.9, 0.9, 0.9}},
    {"ahc",
     0.4,
     5,
     60,
     0,
     0.20,
     1.0,
     0,
     {0.3, 0.3, 0.3, 0.5, 0.8, 1.2, 2.0, 2.5, 2.0, 1.0, 0.6, 0.4}},
    {"cholera",
     0,
     5,
     80,
     0,
     1.00,
     1.0,
     1,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
};
#define NDISEASES ((int)(sizeof(diseases) / sizeof(diseases[0])))

/* Indexes of the diseases outbreaks and channels refer to. */
enum {
    D_FLU = 0,
    D_HFMD = 1,
    D_DIARRHEA = 2,
    D_DYSENTERY = 3,
    D_MUMPS = 12,
    D_CHOLERA = 18,
};

/* Brucellosis is endemic in the western grasslands (白城 2208, 松原
 * 2207): reported incidence several times the province's. */
static double
county_factor(const char *county, int d)
{
    if (strcmp(diseases[d].code, "brucellosis") != 0)
        return 1.0;
    if (strncmp(county, "2208", 4) == 0)
        return 3.0;
    if (strncmp(county, "2207", 4) == 0)
        return 2.0;
    return 1.0;
}

/* Season of disease d on day (month factors interpolated between the
 * middles of the months, normalised to a mean of 1). */
static double
season(const disease_model *m, demo_day day)
{
    int y, mo, dd;
    demo_ymd(day, &y, &mo, &dd);
    double pos = (mo - 1) + (dd - 1) / 30.44 - 0.5; /* month middles */
    if (pos < 0)
        pos += 12;
    int i = (int)pos % 12;
    double f = pos - floor(pos);
    double sum = 0;
    for (int k = 0; k < 12; k++)
        sum += m->month[k];
    double v = m->month[i] * (1 - f) + m->month[(i + 1) % 12] * f;
    return sum > 0 ? v * 12 / sum : 1.0;
}

/* ---- outbreaks ---- */

typedef enum ob_kind {
    OB_FLU_SCHOOL = 0,
    OB_HFMD_KINDER,
    OB_NORO_SCHOOL,
    OB_DYSENTERY_VILLAGE,
    OB_MUMPS_SCHOOL,
    OB_CHOLERA,
    OB_NKINDS
} ob_kind;

typedef struct ob_model {
    const char *name;
    int disease;
    int m_from, m_to; /* months it can start in (wrapping) */
    int size_lo, size_hi;
    int dur_lo, dur_hi;
    int age_lo, age_hi;
    double card_share; /* cases that get a card */
    int school;        /* 0 none, 1 primary school, 2 kindergarten */
} ob_model;

static const ob_model ob_models[OB_NKINDS] = {
    {"influenza-school", D_FLU, 11, 3, 20, 60, 7, 14, 6, 11, 0.4, 1},
    {"hfmd-kindergarten", D_HFMD, 4, 7, 8, 25, 10, 21, 3, 5, 0.9, 2},
    {"norovirus-school", D_DIARRHEA, 10, 4, 20, 50, 4, 8, 6, 11, 0.3, 1},
    {"dysentery-village", D_DYSENTERY, 7, 9, 5, 15, 7, 14, 0, 99, 0.8, 0},
    {"mumps-school", D_MUMPS, 3, 6, 8, 20, 14, 28, 6, 11, 0.9, 1},
    {"cholera-case", D_CHOLERA, 6, 9, 1, 1, 1, 1, 5, 80, 1.0, 0},
};

typedef struct outbreak {
    int kind;
    int township, village; /* village -1 unless a village outbreak */
    demo_day start, end;   /* first and last onset */
    int cases, cards;
} outbreak;

/* ---- cards and the actions on them ---- */

typedef struct card_ev {
    int32_t person;
    int16_t disease;
    int16_t inst; /* index into county insts */
    demo_day onset;
    int64_t diag_ms, report_ms;
    int confirmed;
    int32_t dup_of;   /* index of the card this one duplicates, -1 */
    int32_t outbreak; /* index, -1 */
    int64_t id;       /* card id once written */
} card_ev;

enum { ACT_CREATE = 0, ACT_AUDIT, ACT_MERGE };

typedef struct action {
    int64_t at_ms;
    int32_t card;
    int8_t kind;
    int8_t late; /* audit: after the deadline (for the note) */
} action;

/* ---- channels ---- */

enum { SC_FEVER, SC_RESP, SC_GI, SC_RASH, SC_OTHER, NREASONS };
static const char *const reasons[NREASONS] = {"fever", "respiratory", "gi",
                                              "rash", "other"};
enum { PH_ANTIPYRETIC, PH_ANTIDIARRHEAL, PH_COUGH, NDRUGS };
static const char *const drugs[NDRUGS] = {"antipyretic", "antidiarrheal",
                                          "cough_cold"};
enum { LAB_FLU_A, LAB_FLU_B, LAB_NORO, LAB_ROTA, LAB_EV, NLABS };
static const char *const lab_names[NLABS] = {
    "influenza_a", "influenza_b", "norovirus", "rotavirus", "enterovirus"};

/* Day-indexed counts of one county; [township][...][day] flattened. */
typedef struct channels {
    int ndays, ntw;
    int32_t *fever, *resp, *rash; /* county hospital fever clinic */
    int32_t *intest_county;       /* county hospital intestinal clinic */
    int32_t *intest_tw;           /* [tw][day] */
    int32_t *school;              /* [tw][2][reason][day] */
    int32_t *enrolled;            /* [tw][2][year] */
    int32_t *pharmacy;            /* [tw][drug][day] */
    int32_t *public_rep;          /* [tw][day] cluster reports */
    int32_t *lab;                 /* [pathogen][day] */
} channels;

typedef struct gen {
    demo_ctx *c;
    demo_county *k;
    int ndays;
    /* people by township, for drawing cases */
    int32_t **tw_people;
    int *tw_n;
    card_ev *cards;
    size_t ncards, cap;
    outbreak *obs;
    int nobs, obcap;
    channels ch;
} gen;

static double
age_at(const demo_person *p, demo_day d)
{
    return (d - p->birth) / 365.25;
}

static int
present(const demo_person *p, demo_day d)
{
    demo_day end = p->death < p->out_day ? p->death : p->out_day;
    return p->in_day <= d && d < end;
}

/*
 * Draws a resident present on day d, aged [lo, hi], in township tw (-1:
 * anywhere), village v (-1: any).  child_weight: under-15s three times as
 * likely.  -1 when none was found in a bounded number of tries.
 */
static int32_t
draw_person(gen *g,
            demo_rng *r,
            int tw,
            int v,
            int lo,
            int hi,
            int child_weight,
            demo_day d)
{
    demo_ctx *c = g->c;
    for (int tries = 0; tries < 600; tries++) {
        int t = tw;
        if (t < 0) {
            /* a township in proportion to its people */
            t = (int)demo_rng_below(r, (uint32_t)c->npeople);
            t = c->county->villages[c->people[t].village].township;
        }
        if (g->tw_n[t] == 0)
            return -1;
        int32_t i = g->tw_people[t][demo_rng_below(r, (uint32_t)g->tw_n[t])];
        const demo_person *p = &c->people[i];
        if (!present(p, d) || (v >= 0 && p->village != v))
            continue;
        double a = age_at(p, d);
        if (a < lo || a >= hi + 1)
            continue;
        if (child_weight && a >= 15 && demo_rng_unif(r) > 1.0 / 3)
            continue;
        return i;
    }
    return -1;
}

/* The institution that diagnoses a case of disease d living in
 * township tw: the county hospital, or half the time for diseases seen
 * in primary care the township's health centre. */
static int
diagnosing_inst(gen *g, demo_rng *r, int d, int tw)
{
    const demo_county *k = g->k;
    int hc = k->townships[tw].health_centre;
    if (!diseases[d].county_level && hc >= 0 && demo_rng_bern(r, 0.5))
        return hc;
    return k->county_hospital >= 0 ? k->county_hospital : hc;
}

static void
add_card(gen *g, demo_rng *r, int32_t person, int d, demo_day onset, int32_t ob)
{
    const disease_model *m = &diseases[d];
    const demo_person *p = &g->c->people[person];
    int tw = g->k->villages[p->village].township;
    /* diagnosis: geometric delay after onset, during clinic hours */
    demo_day diag = onset;
    double q = 1.0 / (1.0 + m->onset_delay);
    while (!demo_rng_bern(r, q) && diag - onset < 180)
        diag++;
    if (diag > g->c->day_to)
        return;
    demo_day last = p->death < p->out_day ? p->death : p->out_day;
    if (diag >= last)
        return;
    int64_t diag_ms = demo_ms(diag, 8 + (int)demo_rng_below(r, 9),
                              (int)demo_rng_below(r, 60));
    /* reporting: most within hours, ~3 % after the deadline */
    int deadline_h = strcmp(m->code, "cholera") == 0 ? 2 : 24;
    int64_t delay;
    double u = demo_rng_unif(r);
    if (u < 0.97)
        delay = (int64_t)(demo_rng_unif(r) * deadline_h * 0.9 * 3600000.0 *
                          (u < 0.8 ? 0.25 : 1.0));
    else
        delay = (int64_t)((deadline_h + demo_rng_unif(r) * 48) * 3600000.0);
    delay += 60000; /* at least a minute to fill the card */
    if (g->ncards == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1024;
        g->cards = rhis_xrealloc(g->cards, g->cap * sizeof(*g->cards));
    }
    card_ev *e = &g->cards[g->ncards++];
    memset(e, 0, sizeof(*e));
    e->person = person;
    e->disease = (int16_t)d;
    e->inst = (int16_t)diagnosing_inst(g, r, d, tw);
    e->onset = onset;
    e->diag_ms = diag_ms;
    e->report_ms = diag_ms + delay;
    e->confirmed = demo_rng_bern(r, m->confirmed);
    e->dup_of = -1;
    e->outbreak = ob;
    if (ob >= 0)
        g->obs[ob].cards++;
    /* a second card from another institution a few days later */
    if (demo_rng_bern(r, 0.025) && g->ncards < INT32_MAX) {
        int other = e->inst == g->k->county_hospital
                        ? g->k->townships[tw].health_centre
                        : g->k->county_hospital;
        if (other >= 0 && other != e->inst) {
            card_ev dup = *e;
            dup.inst = (int16_t)other;
            dup.diag_ms += (1 + demo_rng_below(r, 6)) * 86400000LL;
            dup.report_ms = dup.diag_ms + 3600000LL;
            dup.dup_of = (int32_t)(g->ncards - 1);
            dup.outbreak = -1;
            if (dup.report_ms < demo_ms(g->c->day_to + 1, 0, 0)) {
                if (g->ncards == g->cap) {
                    g->cap *= 2;
                    g->cards =
                        rhis_xrealloc(g->cards, g->cap * sizeof(*g->cards));
                }
                g->cards[g->ncards++] = dup;
            }
        }
    }
}

/* ---- channel bookkeeping ---- */

static int
day_ix(const gen *g, demo_day d)
{
    int i = d - g->c->day_from;
    return i >= 0 && i < g->ndays ? i : -1;
}

static int32_t *
school_cell(gen *g, int tw, int kind, int reason)
{
    return g->ch.school +
           (((size_t)tw * 2 + (size_t)kind) * NREASONS + (size_t)reason) *
               (size_t)g->ndays;
}

/*
 * School days in Jilin: Monday to Friday outside the winter holiday
 * (mid-January to February), the summer holiday (10 July to 25 August),
 * the May Day and National Day weeks, and the closures of spring 2020
 * and spring 2022 (COVID-19: teaching moved online).
 */
static int
school_day(demo_day d)
{
    int y, m, dd;
    demo_ymd(d, &y, &m, &dd);
    if (demo_weekday(d) > 5)
        return 0;
    int md = m * 100 + dd;
    if ((md >= 115 && md <= 228) || (md >= 710 && md <= 825) ||
        (md >= 501 && md <= 505) || (md >= 1001 && md <= 1007))
        return 0;
    if (y == 2020 && md < 511)
        return 0;
    if (y == 2022 && md >= 305 && md <= 531)
        return 0;
    return 1;
}

/* Marks a pupil absent for `days` school days from day d. */
static void
absent(gen *g, int tw, int kind, int reason, demo_day d, int days)
{
    for (int n = 0; n < days && d <= g->c->day_to; d++) {
        if (!school_day(d))
            continue;
        int i = day_ix(g, d);
        if (i >= 0)
            school_cell(g, tw, kind, reason)[i]++;
        n++;
    }
}

static void
bump(gen *g, int32_t *series, demo_day d, int n)
{
    int i = day_ix(g, d);
    if (i >= 0)
        series[i] += n;
}

/* ---- generation ---- */

static void
endemic(gen *g)
{
    demo_ctx *c = g->c;
    double pop = (double)g->k->population;
    for (int d = 0; d < NDISEASES; d++) {
        const disease_model *m = &diseases[d];
        if (m->per100k <= 0)
            continue;
        demo_rng r;
        demo_rng_init(&r, c->seed, "surv-endemic",
                      demo_code_key(g->k->code) * 64 + (uint64_t)d);
        double daily =
            m->per100k * pop / 100000.0 / 365.25 * county_factor(g->k->code, d);
        for (demo_day day = c->day_from; day <= c->day_to; day++) {
            uint32_t n = demo_rng_poisson(&r, daily * season(m, day));
            for (uint32_t i = 0; i < n; i++) {
                int32_t p = draw_person(g, &r, -1, -1, m->age_lo, m->age_hi,
                                        m->child_weight, day);
                if (p >= 0)
                    add_card(g, &r, p, d, day, -1);
            }
        }
    }
}

/* Background channel counts from the season of the diseases behind them. */
static void
background(gen *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    demo_rng r;
    demo_rng_init(&r, c->seed, "surv-channels", demo_code_key(k->code));
    double pop = (double)k->population;
    for (demo_day day = c->day_from; day <= c->day_to; day++) {
        int i = day_ix(g, day);
        double flu = season(&diseases[D_FLU], day);
        double gi = season(&diseases[D_DIARRHEA], day);
        double hfmd = season(&diseases[D_HFMD], day);
        int y, mo, dd;
        demo_ymd(day, &y, &mo, &dd);
        g->ch.fever[i] = (int32_t)demo_rng_poisson(&r, pop / 100000.0 * 3.0 *
                                                           (0.5 + 0.5 * flu));
        g->ch.resp[i] = (int32_t)demo_rng_poisson(&r, pop / 100000.0 * 4.0 *
                                                          (0.4 + 0.6 * flu));
        g->ch.rash[i] = (int32_t)demo_rng_poisson(&r, pop / 100000.0 * 0.4 *
                                                          (0.5 + 0.5 * hfmd));
        g->ch.intest_county[i] =
            (int32_t)demo_rng_poisson(&r, pop / 100000.0 * 2.0 * gi);
        for (int p = 0; p < NLABS; p++) {
            double base = p == LAB_FLU_A   ? 0.25 * flu
                          : p == LAB_FLU_B ? 0.1 * flu
                          : p == LAB_NORO
                              ? 0.1 * (2.0 - gi > 0.2 ? 2.0 - gi : 0.2)
                          : p == LAB_ROTA ? 0.08 * flu
                                          : 0.12 * hfmd;
            g->ch.lab[(size_t)p * (size_t)g->ndays + (size_t)i] =
                (int32_t)demo_rng_poisson(&r, base * pop / 350000.0);
        }
        for (int t = 0; t < g->ch.ntw; t++) {
            double tpop = (double)g->tw_n[t];
            size_t cell = (size_t)t * (size_t)g->ndays + (size_t)i;
            if (mo >= 5 && mo <= 10)
                g->ch.intest_tw[cell] =
                    (int32_t)demo_rng_poisson(&r, tpop / 100000.0 * 1.5 * gi);
            double dr[NDRUGS] = {3.0 * flu, 1.5 * gi, 5.0 * (0.5 + 0.5 * flu)};
            for (int dg = 0; dg < NDRUGS; dg++)
                g->ch.pharmacy[((size_t)t * NDRUGS + (size_t)dg) *
                                   (size_t)g->ndays +
                               (size_t)i] =
                    (int32_t)demo_rng_poisson(&r, tpop / 10000.0 * dr[dg]);
            if (!school_day(day))
                continue;
            int yi = y - c->year_from;
            for (int s = 0; s < 2; s++) {
                double enr =
                    g->ch.enrolled[((size_t)t * 2 + (size_t)s) *
                                       (size_t)(c->year_to - c->year_from + 1) +
                                   (size_t)yi];
                double rate[NREASONS] = {0.0015 * flu, 0.0025 * flu,
                                         0.0008 * gi, 0.0002 * hfmd, 0.002};
                for (int re = 0; re < NREASONS; re++)
                    school_cell(g, t, s, re)[i] +=
                        (int32_t)demo_rng_poisson(&r, enr * rate[re]);
            }
        }
    }
}

/* Pupils of the township's central school (6-11) and kindergarten (3-5)
 * on 1 September of each year (or the first day for the first year). */
static void
enrolment(gen *g)
{
    demo_ctx *c = g->c;
    int ny = c->year_to - c->year_from + 1;
    for (int t = 0; t < g->ch.ntw; t++)
        for (int y = 0; y < ny; y++) {
            demo_day d = demo_day_of(c->year_from + y, 9, 1);
            int n6 = 0, n3 = 0;
            for (int j = 0; j < g->tw_n[t]; j++) {
                const demo_person *p = &c->people[g->tw_people[t][j]];
                if (!present(p, d))
                    continue;
                double a = age_at(p, d);
                n6 += a >= 6 && a < 12;
                n3 += a >= 3 && a < 6;
            }
            /* the central school takes most pupils of a township */
            g->ch.enrolled[((size_t)t * 2) * (size_t)ny + (size_t)y] =
                (int32_t)(n6 * 0.7);
            g->ch.enrolled[((size_t)t * 2 + 1) * (size_t)ny + (size_t)y] =
                (int32_t)(n3 * 0.6);
        }
}

static demo_day
start_in_season(demo_rng *r, int year, int m_from, int m_to)
{
    int months = m_to >= m_from ? m_to - m_from + 1 : 12 - m_from + m_to + 1;
    int m = m_from + (int)demo_rng_below(r, (uint32_t)months);
    int y = year;
    if (m > 12) {
        m -= 12;
        y++;
    }
    return demo_day_of(y, m, 1) + (demo_day)demo_rng_below(r, 28);
}

/* Triangular draw on [0, n) with its mode at n/3: an epidemic curve. */
static int
epi_offset(demo_rng *r, int n)
{
    double a = 0, b = n, m = n / 3.0, u = demo_rng_unif(r);
    double x = u < (m - a) / (b - a) ? a + sqrt(u * (b - a) * (m - a))
                                     : b - sqrt((1 - u) * (b - a) * (b - m));
    int v = (int)x;
    return v < n ? v : n - 1;
}

static void
one_outbreak(gen *g, demo_rng *r, int kind, int year)
{
    demo_ctx *c = g->c;
    const ob_model *om = &ob_models[kind];
    demo_day start = start_in_season(r, year, om->m_from, om->m_to);
    int dur = om->dur_lo +
              (int)demo_rng_below(r, (uint32_t)(om->dur_hi - om->dur_lo + 1));
    if (start < c->day_from || start + dur > c->day_to)
        return;
    /* schools spread outbreaks only in term time (not in the holidays,
     * not during the 2020 and 2022 closures) */
    if (om->school) {
        int weekdays = 0, open = 0;
        for (demo_day d = start; d <= start + dur; d++) {
            weekdays += demo_weekday(d) <= 5;
            open += school_day(d);
        }
        if (open * 10 < weekdays * 8)
            return;
    }
    /* the township: in proportion to its people */
    int32_t anyone = (int32_t)demo_rng_below(r, (uint32_t)c->npeople);
    int tw = g->k->villages[c->people[anyone].village].township;
    int village = kind == OB_DYSENTERY_VILLAGE ? c->people[anyone].village : -1;
    int size = om->size_lo + (int)demo_rng_below(
                                 r, (uint32_t)(om->size_hi - om->size_lo + 1));
    /* a small (scaled-down) township cannot have a large outbreak */
    int cap = g->tw_n[tw] / (om->school ? 60 : 20);
    if (kind == OB_DYSENTERY_VILLAGE)
        cap = g->tw_n[tw] / 40;
    if (size > cap)
        size = cap;
    if (size < 3 && kind != OB_CHOLERA)
        return;
    if (g->nobs == g->obcap) {
        g->obcap = g->obcap ? g->obcap * 2 : 32;
        g->obs = rhis_xrealloc(g->obs, (size_t)g->obcap * sizeof(*g->obs));
    }
    int32_t ob = g->nobs++;
    outbreak *o = &g->obs[ob];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->township = tw;
    o->village = village;
    o->start = start;
    o->end = start;
    int school = om->school - 1; /* 0 primary, 1 kindergarten, -1 none */
    for (int i = 0; i < size; i++) {
        demo_day onset = start + epi_offset(r, dur);
        int32_t p =
            draw_person(g, r, tw, village, om->age_lo, om->age_hi, 0, onset);
        if (p < 0)
            continue;
        o = &g->obs[ob];
        o->cases++;
        if (onset > o->end)
            o->end = onset;
        if (demo_rng_bern(r, om->card_share))
            add_card(g, r, p, om->disease, onset, ob);
        /* the channels this case shows in */
        switch (kind) {
        case OB_FLU_SCHOOL:
            absent(g, tw, school, demo_rng_bern(r, 0.6) ? SC_FEVER : SC_RESP,
                   onset + 1, 2 + (int)demo_rng_below(r, 3));
            if (demo_rng_bern(r, 0.5))
                bump(g, g->ch.fever, onset + (demo_day)demo_rng_below(r, 2), 1);
            if (demo_rng_bern(r, 0.3))
                bump(g,
                     g->ch.pharmacy + ((size_t)tw * NDRUGS + PH_ANTIPYRETIC) *
                                          (size_t)g->ndays,
                     onset, 2);
            if (demo_rng_bern(r, 0.15))
                bump(g, g->ch.lab + (size_t)LAB_FLU_A * (size_t)g->ndays,
                     onset + 2, 1);
            break;
        case OB_HFMD_KINDER:
            absent(g, tw, school, demo_rng_bern(r, 0.7) ? SC_RASH : SC_FEVER,
                   onset + 1, 5 + (int)demo_rng_below(r, 3));
            if (demo_rng_bern(r, 0.3))
                bump(g, g->ch.rash, onset + 1, 1);
            if (demo_rng_bern(r, 0.2))
                bump(g, g->ch.lab + (size_t)LAB_EV * (size_t)g->ndays,
                     onset + 3, 1);
            break;
        case OB_NORO_SCHOOL:
            absent(g, tw, school, SC_GI, onset + 1,
                   1 + (int)demo_rng_below(r, 2));
            if (demo_rng_bern(r, 0.4))
                bump(g, g->ch.intest_county, onset, 1);
            if (demo_rng_bern(r, 0.3))
                bump(g,
                     g->ch.pharmacy + ((size_t)tw * NDRUGS + PH_ANTIDIARRHEAL) *
                                          (size_t)g->ndays,
                     onset, 2);
            if (demo_rng_bern(r, 0.1))
                bump(g, g->ch.lab + (size_t)LAB_NORO * (size_t)g->ndays,
                     onset + 2, 1);
            break;
        case OB_DYSENTERY_VILLAGE:
            if (demo_rng_bern(r, 0.6))
                bump(g, g->ch.intest_tw + (size_t)tw * (size_t)g->ndays, onset,
                     1);
            if (demo_rng_bern(r, 0.4))
                bump(g,
                     g->ch.pharmacy + ((size_t)tw * NDRUGS + PH_ANTIDIARRHEAL) *
                                          (size_t)g->ndays,
                     onset, 2);
            break;
        case OB_MUMPS_SCHOOL:
            absent(g, tw, school, SC_OTHER, onset + 1,
                   5 + (int)demo_rng_below(r, 4));
            break;
        default:
            break;
        }
    }
    o = &g->obs[ob];
    /* a cluster reported by the public (parents, a village head) */
    if (o->cases >= 5 && demo_rng_bern(r, 0.4))
        bump(g, g->ch.public_rep + (size_t)tw * (size_t)g->ndays,
             o->start + 3 + (demo_day)demo_rng_below(r, 4), 1);
}

static void
outbreaks(gen *g)
{
    demo_ctx *c = g->c;
    demo_rng r;
    demo_rng_init(&r, c->seed, "surv-outbreaks", demo_code_key(g->k->code));
    double lambda = 4.0 * g->k->population / 350000.0;
    if (lambda < 1.0)
        lambda = 1.0;
    for (int y = c->year_from; y <= c->year_to; y++) {
        uint32_t n = demo_rng_poisson(&r, lambda);
        for (uint32_t i = 0; i < n; i++) {
            /* school influenza and kindergarten HFMD are the most common */
            static const double cum[] = {0.35, 0.65, 0.85, 0.93, 1.0};
            one_outbreak(g, &r, demo_rng_pick(&r, cum, 5), y);
        }
    }
    /* one imported cholera case per county: the fixed-threshold test */
    int y = c->year_from +
            (int)demo_rng_below(&r, (uint32_t)(c->year_to - c->year_from + 1));
    one_outbreak(g, &r, OB_CHOLERA, y);
}

/* ---- writing ---- */

static int
cmp_action(const void *a, const void *b)
{
    const action *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->card - y->card;
}

static const char *
occupation(demo_rng *r, const demo_person *p, int urban, demo_day d)
{
    double a = age_at(p, d), u = demo_rng_unif(r);
    if (a < 3)
        return "scattered_child";
    if (a < 7)
        return u < 0.8 ? "kindergarten_child" : "scattered_child";
    if (a < 19)
        return "student";
    if (a >= 60)
        return urban ? (u < 0.8 ? "retired" : "homemaker")
                     : (u < 0.6   ? "farmer"
                        : u < 0.7 ? "retired"
                                  : "homemaker");
    if (!urban)
        return u < 0.7    ? "farmer"
               : u < 0.8  ? "worker"
               : u < 0.85 ? "migrant_worker"
               : u < 0.95 ? "homemaker"
                          : "other";
    return u < 0.3    ? "worker"
           : u < 0.5  ? "office_staff"
           : u < 0.68 ? "public_service"
           : u < 0.83 ? "homemaker"
           : u < 0.88 ? "food_service"
           : u < 0.91 ? "teacher"
           : u < 0.93 ? "medical_staff"
                      : "other";
}

static rhis_status
fail(demo_ctx *c, const char *what, rhis_status rc)
{
    fprintf(stderr, "rhis demo: %s %s: %s (%s)\n", c->county->code, what,
            c->fx.err_text[0] != '\0' ? c->fx.err_text : rhis_status_name(rc),
            c->fx.err_expr);
    return rc == RHIS_OK ? RHIS_EINVAL : rc;
}

static rhis_status
write_cards(gen *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    demo_rng r;
    demo_rng_init(&r, c->seed, "surv-actions", demo_code_key(k->code));
    int64_t end_ms = demo_ms(c->day_to + 1, 0, 0);
    size_t nact = 0, cap = g->ncards * 3 + 1;
    action *acts = rhis_xmalloc(cap * sizeof(*acts));
    for (size_t i = 0; i < g->ncards; i++) {
        card_ev *e = &g->cards[i];
        acts[nact++] = (action){e->report_ms, (int32_t)i, ACT_CREATE, 0};
        /* the county CDC's audit: mostly within the deadline */
        int dl_h = strcmp(diseases[e->disease].code, "cholera") == 0 ? 2 : 24;
        double u = demo_rng_unif(&r);
        int late = u >= 0.97;
        int64_t at = e->report_ms +
                     (int64_t)((late ? dl_h * (1.0 + demo_rng_unif(&r) * 2)
                                     : dl_h * 0.9 * demo_rng_unif(&r)) *
                               3600000.0) +
                     60000;
        if (e->dup_of < 0 && at < end_ms)
            acts[nact++] = (action){at, (int32_t)i, ACT_AUDIT, (int8_t)late};
        /* duplicates: most merged within days, some left for review */
        if (e->dup_of >= 0 && demo_rng_bern(&r, 0.85)) {
            int64_t mt = e->report_ms +
                         (int64_t)(demo_rng_unif(&r) * 3 * 86400000.0) + 60000;
            if (mt < end_ms)
                acts[nact++] = (action){mt, (int32_t)i, ACT_MERGE, 0};
        }
    }
    qsort(acts, nact, sizeof(*acts), cmp_action);

    rhis_status rc = RHIS_OK;
    double t0 = demo_now();
    for (size_t a = 0; a < nact && rc == RHIS_OK; a++) {
        card_ev *e = &g->cards[acts[a].card];
        demo_at(c, acts[a].at_ms);
        if (acts[a].kind == ACT_CREATE) {
            const demo_person *p = &c->people[e->person];
            const demo_inst *in = &k->insts[e->inst];
            rhis_card kc;
            memset(&kc, 0, sizeof(kc));
            kc.patient_id = p->patient_id;
            (void)snprintf(kc.area_code, sizeof(kc.area_code), "%s",
                           k->villages[p->village].code);
            (void)snprintf(
                kc.occupation, sizeof(kc.occupation), "%s",
                occupation(&r, p, k->villages[p->village].urban, e->onset));
            (void)snprintf(kc.classification, sizeof(kc.classification), "%s",
                           e->confirmed ? RHIS_CARD_CONFIRMED
                                        : RHIS_CARD_CLINICAL);
            (void)snprintf(kc.disease, sizeof(kc.disease), "%s",
                           diseases[e->disease].code);
            kc.onset_ms = demo_ms(e->onset, 0, 0);
            if (kc.onset_ms > e->diag_ms)
                kc.onset_ms = e->diag_ms;
            kc.diagnosis_ms = e->diag_ms;
            kc.death_ms = RHIS_SURV_NONE;
            kc.institution_id = in->id;
            if (in->nphysicians > 0)
                kc.practitioner_id =
                    in->staff[demo_rng_below(&r, (uint32_t)in->nphysicians)];
            else
                (void)snprintf(kc.doctor, sizeof(kc.doctor), "%s", "接诊医生");
            kc.report_ms = e->report_ms;
            rhis_card_result res;
            rc = rhis_card_create(&c->fx, &kc, &res);
            if (rc != RHIS_OK) {
                rc = fail(c, "report card", rc);
                break;
            }
            e->id = res.id;
        } else if (acts[a].kind == ACT_AUDIT) {
            if (e->id == 0)
                continue;
            rc = rhis_card_audit(&c->fx, e->id, RHIS_CARD_AUDITED,
                                 acts[a].late ? "逾期审核" : NULL);
            if (rc != RHIS_OK)
                rc = fail(c, "card audit", rc);
        } else {
            int64_t keep = g->cards[e->dup_of].id;
            if (e->id == 0 || keep == 0)
                continue;
            rc = rhis_card_merge(&c->fx, keep, e->id, "重复报告卡，已合并");
            if (rc != RHIS_OK)
                rc = fail(c, "card merge", rc);
        }
        demo_tick(c, 1);
        if ((a & 255) == 255)
            demo_scratch_reset(c);
    }
    c->store_seconds += demo_now() - t0;
    rhis_free(acts);
    return rc;
}

/* Appends one count to the day's batch when it is worth a row. */
static void
put(rhis_channel_count *b,
    size_t *n,
    rhis_channel ch,
    const char *area,
    int64_t inst,
    const char *site,
    const char *day,
    const char *cat,
    int64_t count,
    int64_t denom)
{
    rhis_channel_count *x = &b[(*n)++];
    memset(x, 0, sizeof(*x));
    x->channel = ch;
    (void)snprintf(x->area_code, sizeof(x->area_code), "%s", area);
    x->institution_id = inst;
    (void)snprintf(x->site, sizeof(x->site), "%s", site);
    (void)snprintf(x->day, sizeof(x->day), "%s", day);
    (void)snprintf(x->category, sizeof(x->category), "%s", cat);
    x->count = count;
    x->denominator = denom;
}

/*
 * True when the county has no channel counts yet (its first load, in its
 * own transaction): its counts can then go in as new rows, in bulk
 * (rhis_channel_add_new), since each (channel, place, site, day,
 * category) occurs once in write_channels.  Counts pushed or derived
 * before the demo ran keep the replacing path.
 */
static int
county_fresh(demo_ctx *c, const char *county)
{
    for (int ch = RHIS_CH_FEVER; ch <= RHIS_CH_LAB; ch++) {
        int64_t one = 0;
        rhis_status rc = rhis_db_scalar_int64(
            c->db, &one,
            "SELECT 1 FROM channel_count WHERE channel = ? AND county_code = ?"
            " LIMIT 1",
            "ss", rhis_channel_name((rhis_channel)ch), county);
        if (rc != RHIS_ENOTFOUND)
            return 0;
    }
    return 1;
}

static rhis_status
write_channels(gen *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    int ntw = g->ch.ntw, ny = c->year_to - c->year_from + 1;
    size_t cap = (size_t)ntw * (2 * NREASONS + NDRUGS + 2) + 16;
    rhis_channel_count *b = rhis_xmalloc(cap * sizeof(*b));
    const demo_inst *hosp =
        k->county_hospital >= 0 ? &k->insts[k->county_hospital] : NULL;
    const char *hosp_tw = hosp != NULL && hosp->township >= 0
                              ? k->townships[hosp->township].code
                              : k->townships[0].code;
    rhis_status rc = RHIS_OK;
    double t0 = demo_now();
    int fresh = county_fresh(c, k->code);
    /* the county's areas and institutions, checked once (one transaction) */
    rhis_channel_checks *checks = fresh ? rhis_channel_checks_new() : NULL;
    for (demo_day day = c->day_from; day <= c->day_to && rc == RHIS_OK; day++) {
        int i = day_ix(g, day), y, m, d;
        demo_ymd(day, &y, &m, &d);
        char ds[11];
        (void)snprintf(ds, sizeof(ds), "%04d-%02d-%02d", y, m, d);
        size_t n = 0;
        if (hosp != NULL) {
            /* the clinics report every day, zeros included */
            put(b, &n, RHIS_CH_FEVER, hosp_tw, hosp->id, "", ds, "fever",
                g->ch.fever[i], 0);
            put(b, &n, RHIS_CH_FEVER, hosp_tw, hosp->id, "", ds, "respiratory",
                g->ch.resp[i], 0);
            put(b, &n, RHIS_CH_FEVER, hosp_tw, hosp->id, "", ds, "rash",
                g->ch.rash[i], 0);
            put(b, &n, RHIS_CH_INTESTINAL, hosp_tw, hosp->id, "", ds,
                "diarrhea", g->ch.intest_county[i], 0);
            for (int p = 0; p < NLABS; p++) {
                int32_t v = g->ch.lab[(size_t)p * (size_t)g->ndays + (size_t)i];
                if (v > 0)
                    put(b, &n, RHIS_CH_LAB, hosp_tw, hosp->id, "", ds,
                        lab_names[p], v, 0);
            }
        }
        for (int t = 0; t < ntw; t++) {
            const demo_township *tw = &k->townships[t];
            const demo_inst *hc =
                tw->health_centre >= 0 ? &k->insts[tw->health_centre] : hosp;
            if (hc == NULL)
                continue;
            size_t cell = (size_t)t * (size_t)g->ndays + (size_t)i;
            if (m >= 5 && m <= 10 && tw->health_centre >= 0)
                put(b, &n, RHIS_CH_INTESTINAL, tw->code, hc->id, "", ds,
                    "diarrhea", g->ch.intest_tw[cell], 0);
            char site[64];
            (void)snprintf(site, sizeof(site), "%s第一大药房", tw->name);
            for (int dg = 0; dg < NDRUGS; dg++)
                put(b, &n, RHIS_CH_PHARMACY, tw->code, 0, site, ds, drugs[dg],
                    g->ch.pharmacy[((size_t)t * NDRUGS + (size_t)dg) *
                                       (size_t)g->ndays +
                                   (size_t)i],
                    0);
            if (g->ch.public_rep[cell] > 0)
                put(b, &n, RHIS_CH_PUBLIC, tw->code, 0, "", ds, "cluster",
                    g->ch.public_rep[cell], 0);
            if (!school_day(day))
                continue;
            for (int s = 0; s < 2; s++) {
                (void)snprintf(site, sizeof(site), "%s中心%s", tw->name,
                               s == 0 ? "小学" : "幼儿园");
                int32_t enr =
                    g->ch.enrolled[((size_t)t * 2 + (size_t)s) * (size_t)ny +
                                   (size_t)(y - c->year_from)];
                if (enr <= 0)
                    continue;
                /* absences by reason; a reason with none is not sent */
                for (int re = 0; re < NREASONS; re++) {
                    int32_t v = school_cell(g, t, s, re)[i];
                    if (v > 0)
                        put(b, &n, RHIS_CH_SCHOOL, tw->code, 0, site, ds,
                            reasons[re], v > enr ? enr : v, enr);
                }
            }
        }
        /* the counts of a day are sent the next morning */
        demo_at(c, demo_ms(day + 1, 8, 30));
        size_t done = 0;
        rc = fresh ? rhis_channel_add_new(&c->fx, b, n, checks, &done)
                   : rhis_channel_add_batch(&c->fx, b, n, &done);
        if (rc != RHIS_OK) {
            rc = fail(c, "channel counts", rc);
            break;
        }
        demo_tick(c, (int64_t)n);
        demo_scratch_reset(c);
    }
    c->store_seconds += demo_now() - t0;
    rhis_channel_checks_free(checks);
    rhis_free(b);
    return rc;
}

/* DIR/outbreaks-<county>.csv: the injected outbreaks (never read by RHIS). */
static rhis_status
write_truth(gen *g)
{
    demo_ctx *c = g->c;
    if (mkdir(c->truth_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "rhis demo: cannot create %s: %s\n", c->truth_dir,
                strerror(errno));
        return RHIS_EIO;
    }
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/outbreaks-%s.csv", c->truth_dir,
                   g->k->code);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "rhis demo: cannot write %s: %s\n", path,
                strerror(errno));
        return RHIS_EIO;
    }
    fputs("id,county,township,township_name,village,kind,disease,start,end,"
          "cases,cards\n",
          f);
    for (int i = 0; i < g->nobs; i++) {
        const outbreak *o = &g->obs[i];
        if (o->cases == 0)
            continue;
        int y1, m1, d1, y2, m2, d2;
        demo_ymd(o->start, &y1, &m1, &d1);
        demo_ymd(o->end, &y2, &m2, &d2);
        fprintf(
            f,
            "%s-%d,%s,%s,%s,%s,%s,%s,%04d-%02d-%02d,%04d-%02d-%02d,%d,"
            "%d\n",
            g->k->code, i + 1, g->k->code, g->k->townships[o->township].code,
            g->k->townships[o->township].name,
            o->village >= 0 ? g->k->villages[o->village].code : "",
            ob_models[o->kind].name, diseases[ob_models[o->kind].disease].code,
            y1, m1, d1, y2, m2, d2, o->cases, o->cards);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "rhis demo: cannot write %s\n", path);
        return RHIS_EIO;
    }
    return RHIS_OK;
}

static void
gen_fini(gen *g)
{
    if (g->tw_people != NULL)
        for (int t = 0; t < g->ch.ntw; t++)
            rhis_free(g->tw_people[t]);
    rhis_free(g->tw_people);
    rhis_free(g->tw_n);
    rhis_free(g->cards);
    rhis_free(g->obs);
    rhis_free(g->ch.fever);
    rhis_free(g->ch.resp);
    rhis_free(g->ch.rash);
    rhis_free(g->ch.intest_county);
    rhis_free(g->ch.intest_tw);
    rhis_free(g->ch.school);
    rhis_free(g->ch.enrolled);
    rhis_free(g->ch.pharmacy);
    rhis_free(g->ch.public_rep);
    rhis_free(g->ch.lab);
}

rhis_status
demo_surveil(demo_ctx *c)
{
    demo_county *k = c->county;
    if (c->npeople == 0 || k->ntownships == 0)
        return RHIS_OK;
    char err[512] = "";
    if (rhis_disease_catalogue_load(c->data->dir, err, sizeof(err)) !=
        RHIS_OK) {
        fprintf(stderr, "rhis demo: disease catalogue: %s\n", err);
        return RHIS_EINVAL;
    }
    gen g;
    memset(&g, 0, sizeof(g));
    g.c = c;
    g.k = k;
    g.ndays = c->day_to - c->day_from + 1;
    int ntw = k->ntownships, ny = c->year_to - c->year_from + 1;
    size_t nd = (size_t)g.ndays;
    g.ch.ndays = g.ndays;
    g.ch.ntw = ntw;
    g.ch.fever = rhis_xcalloc(nd, sizeof(int32_t));
    g.ch.resp = rhis_xcalloc(nd, sizeof(int32_t));
    g.ch.rash = rhis_xcalloc(nd, sizeof(int32_t));
    g.ch.intest_county = rhis_xcalloc(nd, sizeof(int32_t));
    g.ch.intest_tw = rhis_xcalloc(nd * (size_t)ntw, sizeof(int32_t));
    g.ch.school =
        rhis_xcalloc(nd * (size_t)ntw * 2 * NREASONS, sizeof(int32_t));
    g.ch.enrolled = rhis_xcalloc((size_t)ntw * 2 * (size_t)ny, sizeof(int32_t));
    g.ch.pharmacy = rhis_xcalloc(nd * (size_t)ntw * NDRUGS, sizeof(int32_t));
    g.ch.public_rep = rhis_xcalloc(nd * (size_t)ntw, sizeof(int32_t));
    g.ch.lab = rhis_xcalloc(nd * NLABS, sizeof(int32_t));

    /* people by township */
    g.tw_n = rhis_xcalloc((size_t)ntw, sizeof(int));
    g.tw_people = rhis_xcalloc((size_t)ntw, sizeof(int32_t *));
    for (size_t i = 0; i < c->npeople; i++)
        g.tw_n[k->villages[c->people[i].village].township]++;
    for (int t = 0; t < ntw; t++) {
        g.tw_people[t] =
            rhis_xmalloc(((size_t)g.tw_n[t] + 1) * sizeof(int32_t));
        g.tw_n[t] = 0;
    }
    for (size_t i = 0; i < c->npeople; i++) {
        int t = k->villages[c->people[i].village].township;
        g.tw_people[t][g.tw_n[t]++] = (int32_t)i;
    }

    enrolment(&g);
    background(&g);
    endemic(&g);
    outbreaks(&g);

    rhis_status rc = write_cards(&g);
    if (rc == RHIS_OK)
        rc = write_channels(&g);
    if (rc == RHIS_OK && c->truth_dir != NULL)
        rc = write_truth(&g);
    gen_fini(&g);
    return rc;
}
