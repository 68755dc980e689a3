/*
 * demo.h - the synthetic demo region (rhis demo): shared state of the
 * generator's stages.
 *
 * Why: a health platform is judged on data that looks like its region.
 * rhis demo generates one from the plans' own numbers and loads it through
 * the platform's real write paths (the FHIR store's create, the registry's
 * and the surveillance module's own functions), so every validation, every
 * typed row and every aggregate a user later sees was produced the way
 * production data is.
 *
 * Shape: the region is generated one county at a time (memory stays
 * bounded at province scale: only the current county's residents are
 * held).  Per county the stages run in order:
 *
 *   demo_registry()  institutions and staff           (registry.c)
 *   demo_people()    residents, households, births,   (people.c)
 *                    deaths with causes, migrations
 *   demo_care()      encounters, diagnoses, vitals,   (care.c)
 *                    labs, chronic follow-ups, 65+
 *                    checks, antenatal/child visits,
 *                    immunizations, family-doctor
 *                    contracts
 *   demo_surveil()   notifiable-disease report cards, (surveil.c)
 *                    daily channel signals, injected
 *                    outbreaks (+ truth file)
 *
 * Determinism: every random draw comes from a demo_rng stream seeded by
 * (run seed, purpose, key), never from the clock or from generation order
 * across stages, and the store's clock is the simulated time of the event
 * (demo_at).  Same seed and arguments: byte-identical database.
 */
#ifndef RHIS_DEMO_H
#define RHIS_DEMO_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rhis/alloc.h"
#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/status.h"

/* ---- random streams (xoshiro256**, seeded with splitmix64) ---- */

typedef struct demo_rng {
    uint64_t s[4];
} demo_rng;

/* Seeds r from the run's seed, a purpose ("people", "care", "flu") and a
 * key (a county code, a year, a resident index): streams never depend on
 * how many draws another stage made. */
void
demo_rng_init(demo_rng *r, uint64_t seed, const char *purpose, uint64_t key);
uint64_t demo_rng_u64(demo_rng *r);
double demo_rng_unif(demo_rng *r);                /* [0, 1) */
uint32_t demo_rng_below(demo_rng *r, uint32_t n); /* [0, n), unbiased */
int demo_rng_bern(demo_rng *r, double p);
double demo_rng_normal(demo_rng *r); /* N(0, 1) */
uint32_t demo_rng_poisson(demo_rng *r, double mean);
uint32_t demo_rng_binom(demo_rng *r, uint32_t n, double p);
/* Index drawn from cumulative weights cum[0..n-1] (cum[n-1] = total). */
int demo_rng_pick(demo_rng *r, const double *cum, int n);

/* ---- simulated time ---- */

/* Days since 1970-01-01. */
typedef int32_t demo_day;
#define DEMO_NEVER INT32_MAX /* death/out day of someone alive and present */

demo_day demo_day_of(int y, int m, int d);
void demo_ymd(demo_day day, int *y, int *m, int *d);
int demo_weekday(demo_day day); /* 1 = Monday .. 7 = Sunday */
/* Epoch milliseconds of a local (China, UTC+8) time on that day. */
int64_t demo_ms(demo_day day, int hour, int minute);

/* ---- the region ---- */

enum demo_tier {
    DEMO_VILLAGE_CLINIC = 1, /* 村卫生室 / 社区卫生服务站 */
    DEMO_TOWNSHIP,           /* 乡镇卫生院 / 社区卫生服务中心 */
    DEMO_COUNTY,             /* county hospitals (general, TCM, private) */
    DEMO_CITY,               /* city / province hospitals */
    DEMO_PUBLIC_HEALTH,      /* CDC, MCH */
};

typedef struct demo_inst {
    int64_t id;    /* Organization id once stored */
    char code[32]; /* institution code */
    int tier;      /* enum demo_tier */
    int township;  /* index into demo_county.townships, -1 county-wide */
    int village;   /* index into demo_county.villages, -1 if none */
    int beds;
    int nstaff;     /* practitioners stored for it */
    int64_t *staff; /* Practitioner ids, first ones physicians */
    int nphysicians;
} demo_inst;

typedef struct demo_village {
    char code[13]; /* 12-digit village/community code */
    char *name;
    int township; /* index */
    int urban;    /* 社区 (community) rather than 村 */
    double lat, lon;
    int population; /* target residents at the start year */
    int clinic;     /* index into insts, -1 when none */
} demo_village;

typedef struct demo_township {
    char code[10]; /* 9-digit township/street code */
    char *name;
    double lat, lon;
    int first_village, nvillages;
    int health_centre; /* index into insts (乡镇卫生院 / 社区卫生服务中心) */
} demo_township;

typedef struct demo_county {
    char code[7];
    char *name;
    int population; /* target at the start year, after --scale */
    demo_township *townships;
    int ntownships;
    demo_village *villages;
    int nvillages;
    demo_inst *insts;
    int ninsts;
    int county_hospital;      /* index: the county people's hospital */
    int tcm_hospital;         /* index, -1 when none */
    int mch;                  /* index: 妇幼保健院/所 */
    int cdc;                  /* index: 疾控中心 */
    int64_t city_hospital_id; /* referral target above the county, 0 none */
} demo_county;

/* Flags of demo_person.flags. */
enum {
    DEMO_HTN = 1 << 0,     /* hypertension (onset htn_onset) */
    DEMO_T2D = 1 << 1,     /* type 2 diabetes (onset t2d_onset) */
    DEMO_SMI = 1 << 2,     /* severe mental disorder */
    DEMO_MIGRANT = 1 << 3, /* arrived by migration (in_day) */
    DEMO_FD_KEY = 1 << 4,  /* key population for family-doctor contracts */
};

/* One resident of the county being generated (about 48 bytes). */
typedef struct demo_person {
    int64_t patient_id; /* Patient id once stored, 0 before */
    demo_day birth;
    demo_day death;                /* DEMO_NEVER if alive at the end */
    demo_day in_day;               /* birth, or the day they moved in */
    demo_day out_day;              /* DEMO_NEVER, or the day they moved away */
    demo_day htn_onset, t2d_onset; /* when flagged */
    int32_t village;               /* index into demo_county.villages */
    int32_t household;             /* index, unique within the county */
    uint16_t flags;
    int16_t death_cause; /* index into the cause table, -1 alive */
    int16_t mother;      /* unused: see demo_ctx.births */
    char sex;            /* 'M' or 'F' */
    uint8_t
        ethnicity; /* GB/T 3304 number: 1 Han, 2 Mongol, 10 Korean, 11 Manchu */
} demo_person;

/* One live birth in the county: indexes into demo_ctx.people. */
typedef struct demo_birth {
    int32_t mother;
    int32_t child;
    demo_day day;
} demo_birth;

/*
 * Rates and resource ratios of an area (data/demo-rates.csv, looked up by
 * the longest code prefix; see data/README.md for the sources).  A negative
 * value means "not given".
 */
typedef struct demo_rates {
    double birth_rate;               /* live births per 1000 residents a year */
    double imr, u5mr;                /* per 1000 live births */
    double mmr;                      /* per 100 000 live births */
    double ncd_premature;            /* % dying 30-70 from the 4 major NCDs */
    double beds, physicians, nurses; /* per 1000 */
    double gps;                      /* per 10 000 */
    double pharmacists, public_health;                 /* per 1000 */
    double beds_count, physicians_count, nurses_count; /* absolute, or < 0 */
    double htn_prev, t2d_prev;                         /* % of residents 35+ */
    double smi_prev;                                   /* % of all residents */
    double out_migration; /* % of residents 15-49 leaving a year */
    double in_migration;  /* % of the population arriving a year */
    double hospitals, primary, township_hc, village_clinic; /* counts */
} demo_rates;

typedef struct demo_data demo_data; /* reference tables (demo.c) */

typedef struct demo_ctx {
    rhis_db *db;
    demo_data *data; /* loaded by demo_ctx_init */
    uint64_t seed;
    int year_from, year_to; /* inclusive */
    demo_day day_from, day_to;
    double scale;          /* --scale, 1.0 = real size */
    const char *truth_dir; /* --truth DIR, NULL when not given */
    int progress;          /* draw a progress bar on stderr */

    /* writing: the store context; fx.now_ms is set per write (demo_at) */
    rhis_fhir_ctx fx;
    rhis_arena *arena; /* scratch, reset by demo_scratch_reset */

    /* the county being generated */
    demo_county *county;
    demo_person *people;
    size_t npeople;
    int nhouseholds;
    demo_birth *births; /* every live birth of the years, by day */
    size_t nbirths;
    demo_rates rates; /* of the county being generated */

    /* counters for the report and the benchmark */
    int64_t nresources;   /* rows written through the store */
    int64_t nevents;      /* care and surveillance events */
    double gen_seconds;   /* time spent generating */
    double store_seconds; /* time spent in the write paths */
} demo_ctx;

/* The stages (see the top of this file). */
rhis_status demo_registry(demo_ctx *c);
rhis_status demo_people(demo_ctx *c);
rhis_status demo_care(demo_ctx *c);
rhis_status demo_surveil(demo_ctx *c);

/* Sets the store's clock to a simulated instant (meta.lastUpdated). */
void demo_at(demo_ctx *c, int64_t ms);

/*
 * Creates a FHIR resource through the store (validation, typed rows,
 * version JSON) with the clock at at_ms.  Takes ownership of res.  On a
 * validation failure the store's message is printed and RHIS_EINVAL
 * returned: generated data that the platform rejects is a generator bug.
 */
rhis_status demo_create(demo_ctx *c,
                        const rhis_fhir_type *t,
                        json_object *res,
                        int64_t at_ms,
                        int64_t *id);

/*
 * Updates resource id to res (unconditionally) with the clock at at_ms:
 * a new version.  Takes ownership of res; sets res's id itself.
 */
rhis_status demo_update(demo_ctx *c,
                        const rhis_fhir_type *t,
                        int64_t id,
                        json_object *res,
                        int64_t at_ms);

/* Frees the scratch arena's memory (call between batches). */
void demo_scratch_reset(demo_ctx *c);

/* Counts one stored event and redraws the progress bar when due. */
void demo_tick(demo_ctx *c, int64_t n);

/* ---- the run (demo.c), used by `rhis demo` ---- */

/*
 * Initialises c for a run on db: loads the reference tables from data_dir
 * (demo-*.csv).  years inclusive; scale > 0.  Errors go to err.
 */
rhis_status demo_ctx_init(demo_ctx *c,
                          rhis_db *db,
                          const char *data_dir,
                          uint64_t seed,
                          int year_from,
                          int year_to,
                          double scale,
                          char *err,
                          size_t errlen);
void demo_ctx_fini(demo_ctx *c);

/*
 * Expands a comma-separated list of area codes (province 2 digits, city 4,
 * county 6) to the county-level codes under them, in code order without
 * duplicates.  *codes is an array of 7-byte codes (caller frees with
 * rhis_free).  Unknown codes are an error naming the code.
 */
rhis_status demo_expand_areas(demo_ctx *c,
                              const char *list,
                              char (**codes)[7],
                              int *n,
                              char *err,
                              size_t errlen);

/* The target population of a county before --scale, and how it was got
 * ("census", "derived ..."): the basis is a static string or c's data. */
rhis_status demo_county_population(demo_ctx *c,
                                   const char *code,
                                   double *population,
                                   const char **basis);

/*
 * Generates one county in one transaction: all four stages and the meta
 * row "demo.county.CODE" recording the seed and arguments.  A county
 * already done with the same arguments is skipped (*skipped = 1); done
 * with other arguments is RHIS_ECONFLICT.  On failure nothing of the
 * county stays in the database.
 */
rhis_status demo_county_run(
    demo_ctx *c, const char *code, int *skipped, char *err, size_t errlen);

/*
 * SHA-256 (hex) of a canonical dump of what the demo writes: every stored
 * FHIR version (ids, timestamps and JSON), the typed patient rows,
 * institutions, practitioners and their roles, population rows and the
 * demo's meta rows.  Same seed and arguments: same hash.
 */
rhis_status demo_hash(rhis_db *db, char hex[65]);

/* Prints the resources written and the store's time per type to f. */
void demo_report_types(const demo_ctx *c, FILE *f);

/* The progress bar's total work (people to generate) and label. */
void demo_progress_begin(demo_ctx *c, const char *label, int64_t total);
void demo_progress_end(demo_ctx *c);

#endif
