/*
 * fusion.h - multi-point fusion (多点触发): signals of different channels
 * about the same area and days combine into one higher-level signal with
 * the evidence attached.
 *
 * Why: one channel alone (a fever-clinic rise, absent pupils, antipyretic
 * sales) is noisy; two or three independent channels agreeing in one
 * township within a few days is what the plans mean by 多点触发 and what a
 * CDC epidemiologist acts on.  Which combinations count, over which area
 * and days, and how severe the result is, is decided by the CDC, so the
 * rule set is data (data/fusion-rules.csv, loaded here with line and field
 * in every error) and the fusion itself is a pure function: signals and
 * rules in, fused signals out, no database, no global state.
 * docs/surveillance.md ("Multi-point fusion") has the logic and the file
 * format.
 *
 * Threading: reentrant; a loaded rule set is read-only and may be shared.
 */
#ifndef RHIS_FUSION_H
#define RHIS_FUSION_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/alloc.h"
#include "rhis/status.h"

/*
 * Evidence channels.  1..6 are the numbers and names of rhis_channel in
 * rhis/surveil.h (fever_clinic 发热门诊, intestinal_clinic 肠道门诊,
 * school_absence 因病缺课, pharmacy 药店销售, public_report 群众报告/舆情,
 * lab_positive 实验室阳性); 7 is a signal from notifiable report cards
 * (report_card 传染病报告卡, e.g. a moving-percentile or scan signal).
 */
#define RHIS_FUSION_CHANNELS    7
#define RHIS_FUSION_REPORT_CARD 7

/* Severity grades (红橙黄蓝 4 级), higher is more severe. */
enum {
    RHIS_FUSION_BLUE = 1,   /* 蓝 */
    RHIS_FUSION_YELLOW = 2, /* 黄 */
    RHIS_FUSION_ORANGE = 3, /* 橙 */
    RHIS_FUSION_RED = 4,    /* 红 */
};

/* Area levels: the length of the division-code prefix compared. */
enum {
    RHIS_FUSION_CITY = 4,
    RHIS_FUSION_COUNTY = 6,
    RHIS_FUSION_TOWNSHIP = 9,
};

#define RHIS_FUSION_MAX_RULES    1000
#define RHIS_FUSION_MAX_WINDOW   90      /* days */
#define RHIS_FUSION_MAX_FILE     1048576 /* bytes */
#define RHIS_FUSION_ID_LEN       32
#define RHIS_FUSION_NAME_LEN     128
#define RHIS_FUSION_SYNDROME_LEN 32

typedef struct rhis_fusion_rule {
    char id[RHIS_FUSION_ID_LEN + 1]; /* "F01"; unique in the set */
    char name_zh[RHIS_FUSION_NAME_LEN + 1];
    char name_en[RHIS_FUSION_NAME_LEN + 1];
    uint32_t channels; /* bit c set: channel c counts (the n) */
    int min_channels;  /* k: distinct channels needed, 1..n */
    uint32_t required; /* channels that must be among them (subset) */
    char syndrome[RHIS_FUSION_SYNDROME_LEN + 1]; /* "" = any */
    int level;        /* RHIS_FUSION_TOWNSHIP, _COUNTY or _CITY */
    int window_days;  /* all evidence within these many days, 1..90 */
    int min_severity; /* weaker signals are not evidence */
    int severity;     /* of the fused signal */
    long line;        /* where it was defined */
} rhis_fusion_rule;

typedef struct rhis_fusion_rules {
    size_t n;
    rhis_fusion_rule *rules; /* in file order */
} rhis_fusion_rules;

/*
 * Parses a rule file held in memory (name is used in messages only, e.g.
 * the path).  On success *out is a new rule set (free with
 * rhis_fusion_rules_free).  RHIS_EINVAL with "name:line: field 'f': what
 * is wrong (got 'v')" in err for the first bad row; RHIS_ETOOBIG over
 * RHIS_FUSION_MAX_FILE bytes or RHIS_FUSION_MAX_RULES rules.  *out is NULL
 * on failure.
 */
rhis_status rhis_fusion_rules_parse(const char *data,
                                    size_t len,
                                    const char *name,
                                    rhis_fusion_rules **out,
                                    char *err,
                                    size_t errlen);

/* Reads and parses the file at path (RHIS_EIO if it cannot be read). */
rhis_status rhis_fusion_rules_load(const char *path,
                                   rhis_fusion_rules **out,
                                   char *err,
                                   size_t errlen);

/* NULL is a no-op. */
void rhis_fusion_rules_free(rhis_fusion_rules *r);

/* One channel signal, as a detector or a fixed rule raised it. */
typedef struct rhis_fusion_signal {
    int64_t id;           /* the caller's signal id (evidence) */
    int channel;          /* 1..RHIS_FUSION_CHANNELS */
    const char *area;     /* division code, 6, 9 or 12 digits; borrowed */
    int64_t day;          /* detection day: days since 1970-01-01 */
    int severity;         /* RHIS_FUSION_BLUE..RED */
    const char *syndrome; /* syndrome group ("respiratory", ...); NULL or
                           * "" = none (then only rules for any syndrome
                           * use it); borrowed */
} rhis_fusion_signal;

/* One fused signal: a rule satisfied in one area. */
typedef struct rhis_fused_signal {
    const rhis_fusion_rule *rule; /* borrowed from the rule set */
    char area[13];                /* the area: code prefix of rule->level */
    int64_t first_day, last_day;  /* of the evidence */
    int severity;                 /* rule->severity */
    uint32_t channels;            /* contributing channels (bit c) */
    int nchannels;
    size_t nids;
    const int64_t *ids; /* contributing signal ids, by channel, day, id */
} rhis_fused_signal;

/* Flags of rhis_fusion_run.  RHIS_FUSION_ALL: report every satisfied rule
 * and area, not only those with a new channel on day asof. */
#define RHIS_FUSION_ALL 1

/*
 * Evaluates every rule on day asof over the window [asof - window_days + 1,
 * asof] (signals outside it are ignored).  A signal is evidence for a rule
 * when its channel is one of the rule's, its severity >= min_severity, its
 * syndrome equals the rule's (any, if the rule has none) and its area is
 * at least as fine as the rule's level; the area of the fused signal is
 * the first `level` digits of the code.  A rule fires in an area when the
 * evidence covers >= min_channels distinct channels including every
 * required one, and (unless flags has RHIS_FUSION_ALL) at least one
 * channel appears on day asof that had no evidence in the earlier days of
 * the window, so a standing situation is not raised again every night.
 * Every rule that fires is reported (a township and a county rule may both
 * fire on the same evidence).  The novelty test assumes signals are dated
 * by the day they were raised; when signals can arrive dated in the past
 * (late lab results), pass RHIS_FUSION_ALL and drop fused signals already
 * stored with the same rule, area and channels.
 *
 * *out (arena a) is ordered by severity (highest first), then rule order,
 * then area; *nout is its length.  RHIS_EINVAL with "signal i (id N): ..."
 * in err for a malformed signal (channel, severity, area, syndrome).
 */
rhis_status rhis_fusion_run(rhis_arena *a,
                            const rhis_fusion_rules *rules,
                            const rhis_fusion_signal *sig,
                            size_t n,
                            int64_t asof,
                            int flags,
                            rhis_fused_signal **out,
                            size_t *nout,
                            char *err,
                            size_t errlen);

/* "fever_clinic" ... "report_card"; NULL if unknown. */
const char *rhis_fusion_channel_name(int channel);
/* 1..7, or 0 if unknown. */
int rhis_fusion_channel_parse(const char *name);
/* "blue" .. "red"; NULL if unknown. */
const char *rhis_fusion_severity_name(int severity);
/* 1..4, or 0 if unknown. */
int rhis_fusion_severity_parse(const char *name);

#endif
