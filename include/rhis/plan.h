/*
 * plan.h - the five regional health plans: their targets, their status
 * against live indicator values, the lint of the plans themselves, values
 * entered by hand, and the monitoring report.
 *
 * Why: each plan ends with the same duty - monitor its indicators every
 * year and evaluate at mid-term and at the end (年度监测、中期评估、末期评估).
 * A plan is named by its jurisdiction's area code and horizon year
 * ("220221:2025" is 永吉县's 14th five-year plan).  Its rows come from
 * data/plans.csv and data/plan-targets.csv (normalised from the plans'
 * own tables and text); each row names an indicator of data/indicators.csv
 * (rhis/indicator.h).  Computed indicators take their value from the live
 * aggregates; "entered" ones (surveys, finance, environment) from values a
 * person records with their source (table plan_entered, append-only).
 *
 * Memory: everything returned lives in the caller's arena.
 */
#ifndef RHIS_PLAN_H
#define RHIS_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rhis/alloc.h"
#include "rhis/db.h"
#include "rhis/status.h"

/* A plan (a row of data/plans.csv). */
typedef struct rhis_plan {
    const char *id;      /* "220221:2025" */
    const char *area;    /* "220221" */
    const char *name_zh; /* 永吉县卫生健康“十四五”规划 */
    const char *name_en;
    const char *area_name; /* 永吉县 */
    int baseline_year;     /* 2020 */
    int horizon;           /* 2025 */
} rhis_plan;

/* One row of a plan: a target, or a baseline the plan states without a
 * target (kind "baseline"). */
typedef struct rhis_plan_row {
    const char *plan;
    int row;          /* 1.. within the plan, as in plan-targets.csv */
    const char *kind; /* "target" | "baseline" */
    const char *domain;
    const char *name_zh; /* the plan's own wording */
    const char *name_en;
    const char *indicator; /* code in data/indicators.csv */
    const char *measure;   /* what an entered value is keyed by */
    const char *direction; /* "down" (lower is better), "up", "" */
    const char *unit;
    int baseline_year; /* 0 = none */
    const char *baseline_text;
    int has_baseline;
    double baseline;
    int target_year; /* 0 = none stated */
    const char *target_text;
    const char *op; /* <= < >= > = approx increase_by decrease_by text none */
    int has_target;
    double target;         /* the number in the target */
    const char *change;    /* increase/decrease_by: absolute relative
                              per_year */
    const char *attribute; /* 约束性 | 预期性 | "" */
    const char *source;    /* "table" | "text" */
    const char *quote;
} rhis_plan_row;

/*
 * Loads dir/plans.csv and dir/plan-targets.csv into the plan tables,
 * replacing the rows of every plan listed (entered values are kept).  One
 * transaction.  err names the file and line of a fault.  *nrows (may be
 * NULL) gets the number of plan rows loaded.
 */
rhis_status rhis_plan_load(
    rhis_db *db, const char *dir, int *nrows, char *err, size_t errlen);

/* Every plan, in id order.  */
rhis_status
rhis_plan_list(rhis_db *db, rhis_arena *a, rhis_plan **out, size_t *n);
/* One plan; RHIS_ENOTFOUND if not loaded. */
rhis_status
rhis_plan_get(rhis_db *db, rhis_arena *a, const char *id, rhis_plan *out);
/* The rows of a plan in row order. */
rhis_status rhis_plan_rows(rhis_db *db,
                           rhis_arena *a,
                           const char *plan,
                           rhis_plan_row **out,
                           size_t *n);

/* "annual" (年度监测), "midterm" (中期评估: the middle year of the plan,
 * rounded down) or "final" (末期评估: the horizon year and after). */
const char *rhis_plan_evaluation(const rhis_plan *p, int year);
const char *rhis_plan_evaluation_zh(const char *evaluation);

/* ---- entered values ---- */

typedef struct rhis_plan_entry {
    const char *measure; /* a measure of an entered indicator's row */
    const char *area;
    int year;
    double value;
    const char *source; /* "2024年居民健康素养监测" */
    const char *person; /* who supplied it */
    const char *note;   /* may be NULL */
    int64_t user_id;    /* who typed it in */
    const char *username;
} rhis_plan_entry;

/*
 * Records a value (a new row; the latest for measure, area and year is
 * current).  RHIS_EINVAL (message in err) for an unknown measure, a
 * measure of a computed indicator, an unknown area, a year outside
 * 1949..2100, a non-finite value, or an empty source or person.  The
 * caller owns the transaction and writes the audit event in it.
 */
rhis_status rhis_plan_enter(rhis_db *db,
                            const rhis_plan_entry *e,
                            int64_t *id,
                            char *err,
                            size_t errlen);

typedef struct rhis_plan_entered {
    int64_t id;
    const char *measure;
    const char *area;
    int year;
    double value;
    const char *source, *person, *note, *username;
    int64_t entered_ms;
} rhis_plan_entered;

/* Current values of measure (NULL = any) for area (exact code), years
 * from..to, newest year first. */
rhis_status rhis_plan_entered_list(rhis_db *db,
                                   rhis_arena *a,
                                   const char *measure,
                                   const char *area,
                                   int from,
                                   int to,
                                   rhis_plan_entered **out,
                                   size_t *n);

/* ---- status ---- */

typedef enum rhis_plan_state {
    RHIS_PLAN_MET = 1,
    RHIS_PLAN_ON_TRACK,
    RHIS_PLAN_AT_RISK,
    RHIS_PLAN_OFF_TRACK,
    RHIS_PLAN_NO_DATA,
} rhis_plan_state;

const char *rhis_plan_state_name(rhis_plan_state s); /* "on_track" */
const char *rhis_plan_state_zh(rhis_plan_state s);   /* "进度正常" */

#define RHIS_PLAN_TREND_YEARS 5

typedef struct rhis_plan_status {
    const rhis_plan_row *row;
    /* the target as a level: value must be cmp goal ('<' at most, '>' at
     * least, '~' within 5 % of it) */
    int has_goal;
    double goal;
    char cmp;
    /* the value for the year (or the latest entered one up to it) */
    int has_value;
    double value;
    int value_year;
    unsigned flags;         /* RHIS_IND_FLAG_* of the value */
    const char *value_from; /* "records" | "entered" | "" */
    const char *entered_source, *entered_person;
    /* the last RHIS_PLAN_TREND_YEARS years up to the year */
    int ntrend;
    int trend_year[RHIS_PLAN_TREND_YEARS];
    double trend[RHIS_PLAN_TREND_YEARS];
    int trend_ok[RHIS_PLAN_TREND_YEARS];
    /* least-squares line through baseline and trend, at the target year */
    int has_projection;
    double projection, slope;
    rhis_plan_state state;
    const char *reason; /* why, in one short English sentence */
} rhis_plan_status;

/* Pure parts of the status rule (src/plan/status.c, unit-tested). */
/* Resolves r's target to a level; 0 when it is not a number. */
int rhis_plan_goal(const rhis_plan_row *r, double *goal, char *cmp);
/* Does v meet goal under cmp? */
int rhis_plan_meets(double v, double goal, char cmp);
/* Least squares over n points; 0 with fewer than 2 distinct years. */
int rhis_plan_fit(
    const int *years, const double *v, int n, double *intercept, double *slope);
/*
 * The state from the goal, the value, its year, the projection and the
 * slope (see docs/internals/plan.md "Status").
 */
rhis_plan_state rhis_plan_classify(const rhis_plan_status *s,
                                   int year,
                                   int target_year,
                                   const char **reason);

/*
 * Status of every target row of plan for year: binding (约束性) rows
 * first, then row order.  Computed indicators are read for the plan's
 * area through rhis/indicator.h.
 */
rhis_status rhis_plan_status_get(rhis_db *db,
                                 rhis_arena *a,
                                 const char *plan,
                                 int year,
                                 rhis_plan_status **out,
                                 size_t *n);

/* ---- lint ---- */

typedef struct rhis_plan_finding {
    const char *plan;
    int row;
    int other_row;         /* the row it conflicts with, 0 if none */
    const char *kind;      /* worse_than_baseline, conflicting_targets,
                              baseline_contradiction, impossible_target */
    const char *indicator; /* the plan's wording */
    const char *message;
} rhis_plan_finding;

/* Findings for plan (NULL: every plan).  Reads only; changes nothing. */
rhis_status rhis_plan_lint(rhis_db *db,
                           rhis_arena *a,
                           const char *plan,
                           rhis_plan_finding **out,
                           size_t *n);
/* One line: "220221:2025 row 4 baseline_contradiction 婴儿死亡率: ...". */
void rhis_plan_finding_print(FILE *f, const rhis_plan_finding *x);

/* ---- report ---- */

typedef enum rhis_plan_format {
    RHIS_PLAN_HTML = 1,
    RHIS_PLAN_CSV,
} rhis_plan_format;

/* Writes the monitoring report of plan for year to out. */
rhis_status rhis_plan_report(rhis_db *db,
                             const char *plan,
                             int year,
                             rhis_plan_format fmt,
                             FILE *out,
                             char *err,
                             size_t errlen);

#endif
