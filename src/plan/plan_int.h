/*
 * plan_int.h - internals of the indicator engine (src/plan/ only): parsed
 * element definitions, the record snapshots element rules read, and facts.
 *
 * Why: one set of pure functions turns the records of one patient (or one
 * institution) into facts (element, leaf area, institution, day, value);
 * the live hooks feed them rows read by id, the rebuild rows read by bulk
 * scans, so both give the same facts by construction.
 */
#ifndef RHIS_PLAN_INT_H
#define RHIS_PLAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/agg.h"
#include "rhis/alloc.h"
#include "rhis/indicator.h"

/*
 * Facts are kept for days in PLAN_FIRST_YEAR .. PLAN_HORIZON_YEAR only
 * (both the hook and the rebuild drop the others, so live = rebuild):
 * the plans monitor 2015-2035, and a resident's birth in 1950 or 2nd
 * birthday in 1952 would cost a write on every Patient create for
 * nothing.  Stocks (beds, staff) sit on day 0 and are kept.  Periods
 * before PLAN_FIRST_YEAR have no data.
 */
#define PLAN_HORIZON_YEAR 2040
#define PLAN_FIRST_YEAR   2010
#define PLAN_MIN_YEAR     1900 /* periods parse from here */

#define LOINC_DEATH_CAUSE "69453-9"

typedef enum ekind {
    EK_OBS = 1,
    EK_ENC,
    EK_ENC_NTH,
    EK_ENC_PRIOR,
    EK_DISCHARGES,
    EK_STAY_DAYS,
    EK_BIRTHS,
    EK_DEATHS,
    EK_DEATHS_BAND,
    EK_RESIDENTS,
    EK_BIRTHDAY,
    EK_BIRTHDAY_IMM,
    EK_IMM,
    EK_REGISTERED,
    EK_CONTRACTS,
    EK_BEDS,
    EK_STAFF,
    EK_POP,
} ekind;

/* Which records an element reads (the scope its facts belong to). */
typedef enum escope {
    SC_NONE = 0, /* population: read at query time */
    SC_CORE,     /* the patient row, death cause, immunisations */
    SC_ENC,      /* the patient's encounters */
    SC_OBS,      /* the patient's observations of one code */
    SC_IMM,      /* the patient's immunisations */
    SC_COND,     /* the patient's conditions */
    SC_CONTRACT, /* the patient's family-doctor contracts */
    SC_INST,     /* one institution and its practitioner roles */
} escope;

#define PLAN_MAX_CAUSES 16
#define PLAN_MAX_SET    4
#define PLAN_NBANDS     19 /* 0, 1, 5, 10, ..., 85 */

typedef struct cause_range {
    char lo[8], hi[8]; /* 3-character categories, inclusive; hi "" = prefix */
} cause_range;

typedef struct element {
    rhis_element_info info; /* strings owned by the defs */
    ekind kind;
    escope scope;
    int by_inst;    /* area = the institution's */
    char code[32];  /* obs code, encounter type, vaccine */
    char code2[32]; /* enc_prior: the prior type */
    int n;          /* nth, count, years, dose */
    int window;     /* enc_prior: days */
    int lo, hi;     /* ages in years, [lo, hi) */
    char sex;       /* 0 = any */
    int ncauses;
    cause_range causes[PLAN_MAX_CAUSES];
    int nset; /* staff roles, bed tiers */
    char set[PLAN_MAX_SET][32];
} element;

/* A term of an expression: coef * element. */
typedef struct term {
    int elem;
    int coef;
} term;

#define PLAN_MAX_TERMS 8

typedef struct ind_def {
    rhis_indicator pub;
    int nnum, nden;
    term num[PLAN_MAX_TERMS], den[PLAN_MAX_TERMS];
} ind_def;

struct rhis_ind_defs {
    rhis_arena *arena;
    element *elems;
    size_t nelems;
    ind_def *inds;
    size_t ninds;
    /* which scopes any element reads */
    unsigned scopes;
};

int plan_elem_find(const rhis_ind_defs *d, const char *code);
/* 1 if an element of d reads encounters of type t / observations of code. */
int plan_uses_enc_type(const rhis_ind_defs *d, const char *t);
int plan_uses_obs_code(const rhis_ind_defs *d, const char *code);
/* Band lower bound of band index i (0, 1, 5, ... 85) and the index of an
 * age in years. */
int plan_band_lo(int i);
int plan_band_of(int age);
/* Age in completed years on day d of someone born on day b. */
int plan_age_years(int32_t b, int32_t d);
/* The day of the n-th birthday (29 Feb -> 1 Mar). */
int32_t plan_birthday(int32_t b, int n);
/* Does ICD-10 code c fall in e's causes (always true with none)? */
int plan_cause_match(const element *e, const char *c);

/* ---- record snapshots ---- */

typedef struct prow { /* patient */
    int64_t id;
    int ok; /* exists, not deleted, not merged */
    char area[16];
    char sex;
    int has_birth;
    int32_t birth;    /* day */
    int dead;         /* 1: dated death */
    int undated_dead; /* deceased without a date */
    int32_t death;    /* day */
    char cause[24];   /* ICD-10 of the latest cause-of-death Observation */
} prow;

typedef struct erow { /* encounter */
    int64_t id;
    char type[24];
    int64_t start_ms, end_ms; /* 0 = none */
    int64_t inst;
    char inst_area[16];
} erow;

typedef struct orow { /* observation */
    int64_t id;
    char code[24];
    int64_t eff_ms; /* 0 = none */
    int64_t inst;
} orow;

typedef struct irow { /* immunization */
    int64_t id;
    char vaccine[24];
    int dose;
    int64_t occ_ms;
    int64_t inst;
} irow;

typedef struct crow { /* condition (problem list, not refuted) */
    int64_t id;
    char code[16];
    int32_t day; /* recorded (or onset) day */
} crow;

typedef struct krow { /* family-doctor contract */
    int64_t id;
    int32_t start, end;
} krow;

typedef struct srow { /* practitioner role */
    int64_t id;
    char role[32];
} srow;

typedef struct inrow { /* institution */
    int64_t id;
    int ok;
    char area[16];
    char tier[32];
    int64_t beds;
} inrow;

/* A growable array of rows (rhis_xrealloc). */
#define PLAN_VEC(T)                                                            \
    struct {                                                                   \
        T *v;                                                                  \
        size_t n, cap;                                                         \
    }

typedef PLAN_VEC(erow) evec;
typedef PLAN_VEC(orow) ovec;
typedef PLAN_VEC(irow) ivec;
typedef PLAN_VEC(crow) cvec;
typedef PLAN_VEC(krow) kvec;
typedef PLAN_VEC(srow) svec;

void *plan_vec_push(void *vec, size_t elsize);
void plan_vec_free(void *vec);

/* ---- facts ---- */

typedef struct fact {
    int16_t elem; /* element index */
    int16_t band; /* deaths_band: band index; else -1 */
    char area[16];
    int64_t inst;
    int32_t day;
    int64_t value;
} fact;

typedef PLAN_VEC(fact) fvec;

/* The element code of a fact ("deaths_age.35" for a band) into out. */
void
plan_fact_code(const rhis_ind_defs *d, const fact *f, char *out, size_t len);

/* Facts of scope sc of one patient from its rows (pure).  obs are the rows
 * of the codes concerned (SC_OBS); imm for SC_CORE and SC_IMM. */
void plan_facts_patient(const rhis_ind_defs *d,
                        escope sc,
                        const prow *p,
                        const evec *enc,
                        const ovec *obs,
                        const ivec *imm,
                        const cvec *cond,
                        const kvec *con,
                        fvec *out);
/* Facts of one institution (pure). */
void plan_facts_inst(const rhis_ind_defs *d,
                     const inrow *in,
                     const svec *roles,
                     fvec *out);

/* Sorts facts and merges equal keys (summing values). */
void plan_facts_normalize(fvec *f);

/* Adds the values of f (deltas) to the aggregate tables; fresh: the
 * tables are empty and f is normalized (plain inserts). */
rhis_status
plan_apply(rhis_db *db, const rhis_ind_defs *d, const fvec *f, int fresh);

/* Leaf-area prefixes per level: writes up to 5 prefix lengths. */
int plan_area_levels(const char *leaf, int lens[6]);

/*
 * agg_month holds the levels whose code is at most this long (province 2,
 * city 4, county 6, township 9; migration 8 dropped the village rows):
 * a village's months are read from agg_count by key (its rows are few),
 * and every fact dirties one page less on each write.
 */
#define PLAN_MONTH_MAXLEN 9

/*
 * Rebuild: reads every record, computes the facts in memory and (write)
 * replaces the aggregate tables.  t (may be NULL) gets seconds for read,
 * compute, write and total, wall then CPU; keep (may be NULL) takes the
 * facts.
 */
rhis_status plan_rebuild_timed(rhis_db *db,
                               int write,
                               int64_t *facts,
                               double t[8],
                               fvec *keep,
                               char *err,
                               size_t errlen);

/* Life tables (value.c): deaths and person-years by band; pop[1] holds
 * person-years 0-4.  NAN when undefined. */
double plan_life_e0(const double deaths[PLAN_NBANDS],
                    const double pop[PLAN_NBANDS],
                    double births);
double plan_ncd_premature(const double deaths[PLAN_NBANDS],
                          const double pop[PLAN_NBANDS]);

/* Month key (YYYYMM) of a day. */
int plan_month_of(int32_t day);

#endif
