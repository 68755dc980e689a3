/*
 * indicator.h - plan indicators as data, computed from live aggregates for
 * any area (by code prefix) and any period.
 *
 * Why: the five regional plans are monitored every year (年度监测) and at
 * mid-term and end; DHIS2 answers such questions from a nightly batch, so
 * its users see yesterday.  RHIS keeps counts per (data element, leaf area
 * or institution, day) current in the transaction of every write
 * (rhis/agg.h) and computes an indicator from them on demand: numerator
 * and denominator are sums of data elements over the area's subtree and
 * the period, scaled by a factor.
 *
 * Definitions are data: data/data-elements.csv (what record, what
 * condition, which day, which area: one of a fixed set of element kinds
 * implemented in src/plan/element.c) and data/indicators.csv (code, names,
 * unit, factor, numerator and denominator expressions, period type, area
 * aggregation, method).  Indicators only surveys, finance or other sectors
 * can supply are listed with method "entered" (no computation).
 *
 * Periods are day ranges (days since 1970-01-01, UTC dates, inclusive).
 * Threading: a loaded rhis_ind_defs is immutable and may be shared by
 * threads; each query uses the caller's connection.
 */
#ifndef RHIS_INDICATOR_H
#define RHIS_INDICATOR_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/status.h"

/* ---- periods ---- */

typedef enum rhis_period_type {
    RHIS_PERIOD_DAY = 1,
    RHIS_PERIOD_MONTH,
    RHIS_PERIOD_QUARTER,
    RHIS_PERIOD_YEAR,
} rhis_period_type;

typedef struct rhis_period {
    int32_t from_day; /* first day, days since 1970-01-01 */
    int32_t to_day;   /* last day, inclusive */
} rhis_period;

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int32_t rhis_day_of(int year, int month, int day);
/* The civil date of a day number. */
void rhis_day_date(int32_t day, int *year, int *month, int *mday);
/* The day of a unix time in milliseconds (UTC). */
int32_t rhis_day_of_ms(int64_t ms);

/* Calendar periods. */
rhis_period rhis_period_year(int year);
rhis_period rhis_period_quarter(int year, int q); /* q 1..4 */
rhis_period rhis_period_month(int year, int month);

/*
 * Parses a period: "2025", "2025Q3", "202507" (a month), "2025-07-14" (a
 * day), or a range of two of these joined by "~" ("2021~2025",
 * "2024Q3~2025Q2": from the start of the first to the end of the second).
 * RHIS_EINVAL for anything else or a range that ends before it starts.
 */
rhis_status rhis_period_parse(const char *s, rhis_period *out);
/* Writes the canonical name of p to out: "2025" for a calendar year,
 * "2025Q3", "202507", else "YYYY-MM-DD~YYYY-MM-DD". */
void rhis_period_name(rhis_period p, char *out, size_t len);

/* ---- definitions ---- */

typedef enum rhis_ind_method {
    RHIS_IND_RATIO = 1,     /* numerator / denominator * factor */
    RHIS_IND_LIFE_E0,       /* life expectancy at birth, abridged table */
    RHIS_IND_NCD_PREMATURE, /* 1 - prod(1 - 5q_x), x = 30..65, * factor */
    RHIS_IND_ENTERED,       /* survey/finance/environment: not computed */
} rhis_ind_method;

typedef enum rhis_ind_area_rule {
    RHIS_IND_AREA_SUM = 1,   /* ratio of the sums over the subtree */
    RHIS_IND_AREA_MIN_CHILD, /* the lowest value among the child areas
                                (e.g. vaccination coverage "in every
                                township"); value of the area itself when
                                it has no children with data */
} rhis_ind_area_rule;

typedef enum rhis_ind_period_rule {
    RHIS_IND_PERIOD_SUM = 1, /* flows: counts summed over the period */
    RHIS_IND_PERIOD_END,     /* stocks (beds, staff, population): the
                                value at the period's last year */
} rhis_ind_period_rule;

/* One indicator (a row of data/indicators.csv).  Strings are owned by the
 * rhis_ind_defs and live as long as it. */
typedef struct rhis_indicator {
    const char *code;        /* "imr" */
    const char *ref;         /* ID in indicator-definitions.md: "A4" */
    const char *name_zh;     /* "婴儿死亡率" */
    const char *name_en;     /* "Infant mortality rate" */
    const char *aliases;     /* other Chinese names used by the plans, ';' */
    const char *unit;        /* "‰" */
    double factor;           /* 1000 */
    const char *numerator;   /* "infant_deaths" ("" for entered) */
    const char *denominator; /* "live_births" */
    rhis_period_type period_type; /* the natural reporting period */
    rhis_ind_area_rule area_rule;
    rhis_ind_period_rule period_rule;
    rhis_ind_method method;
    double min_den;     /* below this denominator: RHIS_IND_FLAG_SMALL */
    const char *source; /* entered: who supplies it ("survey", ...) */
    const char *note;   /* operational definition in one sentence */
} rhis_indicator;

typedef struct rhis_ind_defs rhis_ind_defs;

/*
 * Loads dir/data-elements.csv and dir/indicators.csv and checks them: every
 * element kind and parameter parses, every expression names known
 * elements, codes are unique.  *out is NULL on failure; err names file,
 * line and problem.
 */
rhis_status rhis_ind_defs_load(rhis_ind_defs **out,
                               const char *dir,
                               char *err,
                               size_t errlen);
/* NULL is a no-op. */
void rhis_ind_defs_free(rhis_ind_defs *d);

/*
 * The process-wide definitions, loaded once from $RHIS_DATA_DIR or "data"
 * (thread-safe, never freed).  NULL when they cannot be loaded (logged
 * once); the aggregate hooks then do nothing and rhis plan rebuild fails.
 */
const rhis_ind_defs *rhis_ind_defs_default(void);
/* Uses dir for rhis_ind_defs_default (before its first call). */
void rhis_ind_defs_set_dir(const char *dir);

size_t rhis_ind_count(const rhis_ind_defs *d);
const rhis_indicator *rhis_ind_at(const rhis_ind_defs *d, size_t i);
/* By code; NULL if unknown. */
const rhis_indicator *rhis_ind_find(const rhis_ind_defs *d, const char *code);

/* Data elements (a row of data/data-elements.csv). */
typedef struct rhis_element_info {
    const char *code;  /* "live_births" */
    const char *kind;  /* "births" */
    const char *param; /* "" */
    const char *area;  /* "resident" or "institution" */
    const char *name_zh;
    const char *name_en;
} rhis_element_info;
size_t rhis_element_count(const rhis_ind_defs *d);
const rhis_element_info *rhis_element_at(const rhis_ind_defs *d, size_t i);

/* ---- values ---- */

/* Flags of a value. */
#define RHIS_IND_FLAG_NODATA  0x01 /* denominator 0 (or no deaths/pop) */
#define RHIS_IND_FLAG_SMALL   0x02 /* denominator below min_den: unstable */
#define RHIS_IND_FLAG_ENTERED 0x04 /* method entered: not computed here */
#define RHIS_IND_FLAG_NOPOP                                                    \
    0x08 /* population denominators missing for                                \
            some year of the period */

typedef struct rhis_ind_value {
    double numerator;   /* ratio: the sum; life table: deaths */
    double denominator; /* ratio: the sum; life table: person-years */
    double value;       /* valid unless RHIS_IND_FLAG_NODATA/ENTERED */
    unsigned flags;
} rhis_ind_value;

/*
 * The value of indicator ind for the area whose code is area (every leaf
 * under it: "220221" is 永吉县; "" is everything) and period p.  Answered
 * from the aggregate tables (agg_month, agg_count) and the population
 * table.  RHIS_EINVAL for a malformed area code.
 */
rhis_status rhis_ind_value_get(rhis_db *db,
                               const rhis_ind_defs *d,
                               const rhis_indicator *ind,
                               const char *area,
                               rhis_period p,
                               rhis_ind_value *out);

/*
 * The sum of data element `element` over area's subtree and period p
 * (stock elements: their current value; population elements: person-years
 * of the period's years).  RHIS_ENOTFOUND for an unknown element.
 */
rhis_status rhis_ind_element_sum(rhis_db *db,
                                 const rhis_ind_defs *d,
                                 const char *code,
                                 const char *area,
                                 rhis_period p,
                                 double *out);

/* One point of a series. */
typedef struct rhis_ind_point {
    rhis_period period;
    rhis_ind_value v;
} rhis_ind_point;

/*
 * The series of ind over p cut into periods of type pt (the first and last
 * may be partial).  At most cap points are written to out; *n gets the
 * number of periods (may exceed cap: then only cap were written).
 */
rhis_status rhis_ind_series(rhis_db *db,
                            const rhis_ind_defs *d,
                            const rhis_indicator *ind,
                            const char *area,
                            rhis_period p,
                            rhis_period_type pt,
                            rhis_ind_point *out,
                            size_t cap,
                            size_t *n);

/* One child area's value (drill-down). */
typedef struct rhis_ind_child {
    char code[16];
    char name[96];
    rhis_ind_value v;
} rhis_ind_child;

/*
 * The values of ind for every child of area in the area table (area ""
 * gives the provinces), in code order.  At most cap written; *n gets the
 * number of children.
 */
rhis_status rhis_ind_children(rhis_db *db,
                              const rhis_ind_defs *d,
                              const rhis_indicator *ind,
                              const char *area,
                              rhis_period p,
                              rhis_ind_child *out,
                              size_t cap,
                              size_t *n);

#endif
