/*
 * care.h - the rates the demo's care stage (care.c) draws its events from,
 * per county, with their sources.
 *
 * Why: the demo region is the ground truth the plan indicators are checked
 * against.  A test must be able to compute each rate back from the
 * database and compare it with the value it was drawn for, so the values
 * live in one table with one lookup, not in the middle of the generator.
 *
 * A rate given as v[2] is the value in 2020 (the plans' baseline year) and
 * in 2025 (their target year), linear in between and held flat outside;
 * demo_care_rate() evaluates it for a year.
 */
#ifndef RHIS_DEMO_CARE_H
#define RHIS_DEMO_CARE_H

typedef struct demo_care_rates {
    const char *area; /* county code, a city prefix ("2201"), "" default */
    const char *source;
    /* chronic disease management, national basic public health service
     * (国家基本公共卫生服务规范 第三版) */
    double htn_enrol;  /* diagnosed hypertension patients in management */
    double htn_std[2]; /* 规范管理率: >= 4 follow-ups with BP in the year */
    double htn_ctrl[2]; /* 血压控制率: latest BP < 140/90 */
    double t2d_enrol;
    double t2d_std[2]; /* >= 4 follow-ups with fasting glucose */
    double t2d_ctrl[2]; /* 血糖控制率: latest fasting glucose < 7.0 mmol/L */
    double smi_mgmt[2]; /* 严重精神障碍管理率: >= 1 follow-up in the year */
    double elder[2];     /* 65+ annual health check (健康管理服务率) */
    double mat_sys[2];   /* 孕产妇系统管理率 */
    double child_sys[2]; /* 3岁以下儿童系统管理率 (4:2:2 checks) */
    double child_any;    /* 0-6 health management: >= 1 check in the year */
    double imm;        /* per-dose coverage, county mean (每乡镇 >= 90 %) */
    double fd_all[2];  /* 家庭医生签约率, all residents */
    double fd_key[2];  /* key populations (重点人群签约率) */
    double disabled;   /* share of residents with a disability, all ages */
    double opd_sample; /* share of general outpatient visits stored */
} demo_care_rates;

/* The rates for a county code (exact, else its city, else the default);
 * never NULL.  Borrowed, static. */
const demo_care_rates *demo_care_rates_for(const char *county_code);

/* v (2020, 2025 values) evaluated for year, clamped outside 2020-2025. */
double demo_care_rate(const double v[2], int year);

/* The encounter type system of the care stage (encounter.type_code). */
#define DEMO_SYS_SERVICE "https://rhis.cn/fhir/CodeSystem/service"

#endif
