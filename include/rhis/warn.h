/*
 * warn.h - surveillance signals, warnings (预警) and the daily detection run.
 *
 * Why: a signal (预警信号) is statistical - a detector found a count above
 * its threshold - while a warning (预警) is a person's decision about it.
 * CIDARS pushes every signal to the county CDC's duty staff, who must
 * respond (verify or exclude) within a deadline; response rate and time
 * are the system's published KPIs.  This module keeps both apart: the
 * detectors and the daily run only ever create signals; CDC staff verify,
 * dismiss, escalate or raise a warning of one of the three types of
 * 传染病疫情预警管理办法（试行） (2025).  Every change of state is a row of
 * signal_event and an audit event, written in the caller's transaction.
 *
 * Response deadlines (the rule, docs/surveillance.md):
 *   - fixed threshold (固定阈值法, a single case of a listed disease):
 *     2 h from the signal, as the 2 h reporting rule for those diseases;
 *   - every other signal (temporal, spatial, fused): 24 h, the CIDARS
 *     expectation for daily signals.
 * A signal still 'new' at its deadline is escalated (升级) to the CDC of
 * the next level up (county -> city -> province), with a fresh deadline of
 * the same length there; escalation is recorded, never silent.
 *
 * Pushed or evidence (docs/internals/signals.md, figures in
 * docs/surveillance.md "Accuracy on the demo region"): only pushed signals
 * get a deadline, escalation and count in the KPIs.  With warn_push
 * "confirmed" (the default) the daily run pushes fixed-threshold, spatial
 * and fused signals, and a temporal disease signal of at least
 * warn_push_severity or one that persists unconfirmed (see
 * rhis_warn_opts); every channel-only signal and the other temporal ones
 * are evidence (证据信号): stored, listed, shown behind the signal they
 * support.  warn_push "all" pushes everything (the CIDARS behaviour).
 */
#ifndef RHIS_WARN_H
#define RHIS_WARN_H

#include <json-c/json.h>
#include <stdint.h>

#include "rhis/config.h"
#include "rhis/db.h"
#include "rhis/status.h"

#define RHIS_SIGNAL_DEADLINE_FIXED_MS (2LL * 3600 * 1000)
#define RHIS_SIGNAL_DEADLINE_MS       (24LL * 3600 * 1000)
/* County -> city -> province: at most two escalations. */
#define RHIS_SIGNAL_MAX_ESCALATION 2
/* Notes, reasons and warning texts: bytes at most. */
#define RHIS_SIGNAL_MAX_NOTE 1000

/* What a detector found: the input of rhis_signal_put. */
typedef struct rhis_signal_spec {
    const char *kind;         /* "fixed", "temporal", "spatial", "fused" */
    const char *method;       /* "fixed", "mpm", "ears-c3", "cusum", ... */
    const char *subject_type; /* "disease", "channel" or "syndrome" */
    const char *subject;      /* disease or channel code */
    const char *subject_name; /* shown to people ("手足口病"), or NULL */
    const char *area_code;    /* an existing area (township, county ...) */
    const char *day;          /* YYYY-MM-DD: the last day of the evidence */
    const char *period_start; /* first day of the window, or NULL */
    const char *key_extra;    /* tells apart several signals of the same
                               * kind, method, subject, area and day (a
                               * card id for fixed threshold); or NULL */
    double observed;
    double expected;      /* NAN: none */
    double upper;         /* the threshold; NAN: none */
    const char *severity; /* "red", "orange", "yellow", "blue"; NULL: by
                           * rhis_signal_severity */
    const char *evidence; /* JSON object text (series, baseline, params,
                           * contributing signal ids); NULL: {} */
    int background;       /* 1: evidence only (no deadline, no escalation,
                           * not in the KPIs); 0: pushed */
} rhis_signal_spec;

/* Who changes a signal.  user_id 0 is the system (the scheduled run). */
typedef struct rhis_actor {
    int64_t user_id;
    const char *username;
    const char *role;
    const char *address;    /* may be NULL */
    const char *request_id; /* may be NULL */
} rhis_actor;

/*
 * The default severity of a signal (red > orange > yellow > blue, the four
 * grades of the Shanghai multi-point system): fixed threshold red; fused
 * orange, red from three sources; spatial orange; temporal on a disease
 * yellow, orange when observed is at least twice the threshold; temporal
 * on a channel or syndrome blue.  sources: distinct sources of a fused
 * signal (0 otherwise).  Returns a static string.
 */
const char *rhis_signal_severity(const char *kind,
                                 const char *subject_type,
                                 double observed,
                                 double upper,
                                 int sources);

/*
 * Stores a signal unless one with the same key (kind, method, subject
 * type, subject, area, day, key_extra) exists: reruns of a day never
 * duplicate.  A new signal gets state 'new' and, when pushed (not
 * s->background), its deadline, a 'created'
 * event and an audit event by who.  *id gets the signal's id (new or
 * existing), *created 1 when it is new.  Runs in the caller's transaction
 * if one is open.  RHIS_EINVAL (message in err) for bad input: unknown
 * kind, area or severity, a malformed day, evidence that is not a JSON
 * object, NaN or negative observed.
 */
rhis_status rhis_signal_put(rhis_db *db,
                            const rhis_signal_spec *s,
                            const rhis_actor *who,
                            int64_t now_ms,
                            int64_t *id,
                            int *created,
                            char *err,
                            size_t errlen);

/*
 * A person's response to a signal.  action:
 *   "verify"   new -> verified (初步核实: not excluded, being followed);
 *   "dismiss"  new|verified -> dismissed (排除), note = the reason;
 *   "escalate" any state but dismissed, pushed signals only: hands the
 *              signal to the next level's CDC (escalated + 1), the state
 *              is kept;
 *   "note"     adds a note, the state is kept.
 * note is required for dismiss and escalate (1..RHIS_SIGNAL_MAX_NOTE
 * bytes) and optional otherwise.  The first verify or dismiss sets the
 * response time.  RHIS_ENOTFOUND, RHIS_ECONFLICT (the state does not
 * allow it: message in err) or RHIS_EINVAL.  Caller's transaction.
 */
rhis_status rhis_signal_act(rhis_db *db,
                            int64_t id,
                            const char *action,
                            const char *note,
                            const rhis_actor *who,
                            int64_t now_ms,
                            char *err,
                            size_t errlen);

/* A warning raised on a signal. */
typedef struct rhis_warning_spec {
    const char *type;     /* "health_risk" 健康风险提示, "alert_notice"
                           * 警示信息通报, "decision_advice" 预警决策建议 */
    const char *audience; /* to whom: the public, departments, hospitals,
                           * decision makers ... (free text, 1..200) */
    const char *content;  /* the text (1..RHIS_SIGNAL_MAX_NOTE) */
} rhis_warning_spec;

/*
 * Raises a warning on signal id (new or verified -> warning; one warning
 * per signal).  Counts as the response when none came before.
 * *warning_id gets its id.  Errors as rhis_signal_act.
 */
rhis_status rhis_signal_warn(rhis_db *db,
                             int64_t id,
                             const rhis_warning_spec *w,
                             const rhis_actor *who,
                             int64_t now_ms,
                             int64_t *warning_id,
                             char *err,
                             size_t errlen);

/*
 * Escalates every signal still 'new' whose deadline passed before now_ms
 * (and whose escalation level allows), as the system; *n counts them.
 * Opens and commits its own transaction.
 */
rhis_status rhis_signal_escalate_overdue(rhis_db *db, int64_t now_ms, int *n);

/* Filters of rhis_signal_list; NULL or 0 members do not filter. */
typedef struct rhis_signal_filter {
    const char *scope;    /* area prefix the caller may see ("" = all) */
    const char *area;     /* area code prefix */
    const char *state;    /* new, verified, dismissed, warning, open (new or
                           * verified) */
    const char *severity; /* red, orange, yellow, blue */
    const char *kind;
    const char *since; /* YYYY-MM-DD: day >= since */
    const char *until; /* YYYY-MM-DD: day <= until */
    int escalated;     /* 1: only escalated ones */
    int pushed;        /* 1: only pushed, -1: only evidence, 0: both */
    int count;         /* page size (1..500) */
    int64_t offset;
} rhis_signal_filter;

/*
 * A page of signals, most severe and most urgent first:
 * {"total": N, "items": [signal summaries]}.  *out is a new object.
 */
rhis_status
rhis_signal_list(rhis_db *db, const rhis_signal_filter *f, json_object **out);

/*
 * One signal with its evidence, events, warning and the signals it was
 * fused from (or into).  *area gets its area code (for scope checks;
 * at most 15 bytes + NUL).  RHIS_ENOTFOUND.
 */
rhis_status
rhis_signal_get(rhis_db *db, int64_t id, json_object **out, char area[16]);

/*
 * Response KPIs of the pushed signals of area (prefix) whose day is in
 * [from, to]: counts by state, response rate, share responded within the
 * deadline, median (P25, P75) response time in hours, escalations; and
 * with by_child the same per child area.  *out is a new object.
 */
rhis_status rhis_signal_kpi(rhis_db *db,
                            const char *area,
                            const char *from,
                            const char *to,
                            int by_child,
                            json_object **out);

/* Signal counts per child area of area for days in [from, to] (the
 * township grid): {"area":..., "items":[{code,name,signals,open,
 * red,...}]}. */
rhis_status rhis_signal_grid(rhis_db *db,
                             const char *area,
                             const char *from,
                             const char *to,
                             json_object **out);

/* ---- the daily detection run (src/surveil/warn.c) ---- */

typedef struct rhis_warn_opts {
    const char *data_dir;    /* reference data (catalogue, fusion rules) */
    int scan_replicas;       /* Monte-Carlo replicas of the scan (0: 999) */
    uint64_t seed;           /* of the scan's replicas (0: from the day) */
    int history_days;        /* days of series to load (0: 3 years + 5
                              * weeks, what the moving percentile needs) */
    const rhis_actor *actor; /* who runs it (NULL: the system) */
    /* The push policy (settings warn_push, warn_push_severity,
     * warn_push_days).  push "all": every signal is pushed; "confirmed"
     * or NULL: fixed, spatial and fused signals are pushed, and a temporal
     * signal on a disease when its severity is at least push_severity
     * (NULL: "red", which temporal signals never reach) or when the same county
     * and disease signalled on an earlier day of the last push_days days (0:
     * 3), nothing in the county confirmed it in those days (a spatial signal of
     * the disease or a fused signal) and none of those earlier signals was
     * pushed. */
    const char *push;
    const char *push_severity;
    int push_days;
} rhis_warn_opts;

typedef struct rhis_warn_result {
    int64_t series;       /* count series evaluated */
    int64_t alarms;       /* detector alarms on the day */
    int64_t signals_new;  /* signals created by this run */
    int64_t signals_seen; /* signals already there (a rerun) */
    int64_t pushed;       /* of signals_new: pushed (the others evidence) */
    int64_t escalated;    /* overdue signals escalated */
    double seconds;
    char missing[256]; /* parts that could not run and why ("" if none) */
} rhis_warn_result;

/*
 * Runs detection for day (YYYY-MM-DD): builds the count series per
 * county x disease and township x disease from report cards and per area x
 * channel from channel counts, runs each disease's configured detectors,
 * the space-time scan over the townships of a county, fixed thresholds on
 * the day's cards and multi-point fusion; stores the signals (idempotent)
 * and records the run in warn_run.  All signals of the day are written in
 * one transaction.  Errors: RHIS_EINVAL (bad day, message in err), RHIS_EIO.
 */
rhis_status rhis_warn_run(rhis_db *db,
                          const char *day,
                          const rhis_warn_opts *o,
                          rhis_warn_result *r,
                          char *err,
                          size_t errlen);

/*
 * The scheduler inside `rhis serve`: a thread that runs rhis_warn_run for
 * yesterday once a day at conf->warn_time (HH:MM, server local time; "off"
 * disables it), catches up a missed run on start, and escalates overdue
 * signals every minute.  Its own database connection.
 */
typedef struct rhis_warn_sched rhis_warn_sched;
rhis_status rhis_warn_sched_start(rhis_warn_sched **out,
                                  const rhis_config *conf);
/* Stops and joins the thread (waits for a run in progress). NULL: no-op. */
void rhis_warn_sched_stop(rhis_warn_sched *s);

/* Parses "HH:MM" into minutes after midnight; -1 for "off"; -2 if bad. */
int rhis_warn_time_parse(const char *s);

/* `rhis warn`: the command line (src/cli/main.c calls it). */
int rhis_warn_cli(int argc, char **argv, const char *default_db);

#endif
