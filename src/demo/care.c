/*
 * care.c - the demo region's care events (rhis demo, stage 3): encounters
 * at the right tier with diagnoses, vital signs and laboratory results;
 * hypertension, type 2 diabetes and severe-mental-disorder patients in
 * management with their follow-ups; the annual health check of residents
 * aged 65+; antenatal, delivery and postpartum care of every birth; child
 * health checks; immunisations by the national schedule; family-doctor
 * contracts.
 *
 * Why: the plan indicators (issue 6) are counted from these records, and
 * the demo is their ground truth.  Each service is drawn so that a rate
 * computed back from the database with SQL reproduces the rate of
 * care.h's table (the plans' baselines and targets); docs/internals/
 * demo.md ("Care events") states each rule and tests/demo/test_care.c
 * checks them.  Everything except the contracts is written through the
 * FHIR store (demo_create): validation, typed rows, versions.
 *
 * Determinism: every draw comes from a stream keyed by (county, resident
 * index, year) and a purpose, so the events of one resident do not depend
 * on anyone else's; the order of the writes is the order of the residents
 * (then of the births), so ids are stable too.
 *
 * Volume (budget: a county of 0.35 M residents in < 60 s with the other
 * stages): general outpatient visits and inpatient stays are sampled
 * (demo_care_rates.opd_sample of them are stored), results are written
 * only where an indicator or a rule reads them, and a tenth of diagnosed
 * hypertension and diabetes patients are in management; the services the
 * indicators count are otherwise complete.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "care.h"
#include "demo.h"
#include "rhis/agg.h"
#include "rhis/alloc.h"
#include "rhis/json.h"
#include "rhis/log.h"

#define SYS_COND_CLINICAL                                                      \
    "http://terminology.hl7.org/CodeSystem/condition-clinical"
#define SYS_COND_VERIFY                                                        \
    "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#define SYS_COND_CATEGORY                                                      \
    "http://terminology.hl7.org/CodeSystem/condition-category"
#define SYS_OBS_CATEGORY                                                       \
    "http://terminology.hl7.org/CodeSystem/observation-category"

#define MINUTE_MS ((int64_t)60 * 1000)
#define DAY_MS    ((int64_t)86400 * 1000)

/* ---- the rates (care.h) ---- */

/*
 * Sources: [S] stated in a plan (../shared/data/plan_indicators.csv, the
 * plans' running text as summarised in docs indicator-definitions.md §4),
 * [K] a national figure or an assumption where the plan gives none.
 * Where a plan gives only a target, the 2020 value is set a little below it
 * and the 2025 value at or above it, so the monitoring shows a plan on
 * track.  Order: exact county codes first, then city prefixes, then the
 * default (last, area "").
 */
/* Rates shared by every area [K]: the share of diagnosed hypertension and
 * diabetes patients in management is set low (real 管理率 is nearer 40 %)
 * to keep a county within the volume budget (docs/internals/demo.md); no
 * plan indicator counts it.  Disability: 2006 national sample survey. */
#define COMMON_RATES                                                           \
    .htn_enrol = 0.10, .t2d_enrol = 0.10, .imm = 0.97, .disabled = 0.064,      \
    .opd_sample = 0.003

static const demo_care_rates rate_table[] = {
    {.area = "220221",
     .source =
         "永吉县: 孕产妇/3岁以下儿童系统管理率 95.91/94.25 (2020 table) [S];"
         " 高血压、Ⅱ型糖尿病基层规范管理率 >= 65 % (text) [S]; 65+ "
         "健康管理 >= 65 % 2025 [S]; 签约率 37 %, 重点人群 70 % (2020 "
         "text) [S]; 免疫规划接种率 > 90 % per township [S]; "
         "严重精神障碍管理率 97.22 (2020) [S]; the rest [K]",
     .htn_std = {0.66, 0.70},
     .htn_ctrl = {0.60, 0.65},
     .t2d_std = {0.66, 0.70},
     .t2d_ctrl = {0.55, 0.60},
     .smi_mgmt = {0.9722, 0.95},
     .elder = {0.63, 0.68},
     .mat_sys = {0.9591, 0.95},
     .child_sys = {0.9425, 0.94},
     .child_any = 0.93,
     .fd_all = {0.37, 0.45},
     .fd_key = {0.70, 0.80},
     COMMON_RATES},
    {.area = "210604",
     .source = "振安区 (2020 text) [S]: 高血压规范管理率 75.7 %, 2型糖尿病 "
               "74.74 %, 65岁以上健康管理率 80 %, 孕产妇系统管理率 90.03 %, "
               "3岁以下儿童系统管理率 91.89 %; 2025 targets 80/80/65/90/90 "
               "[S]; the rest [K]",
     .htn_std = {0.757, 0.80},
     .htn_ctrl = {0.60, 0.65},
     .t2d_std = {0.7474, 0.80},
     .t2d_ctrl = {0.55, 0.60},
     .smi_mgmt = {0.92, 0.92},
     .elder = {0.80, 0.80},
     .mat_sys = {0.9003, 0.92},
     .child_sys = {0.9189, 0.92},
     .child_any = 0.92,
     .fd_all = {0.35, 0.42},
     .fd_key = {0.65, 0.75},
     COMMON_RATES},
    {.area = "220881",
     .source = "洮南市: 重点人群签约服务覆盖率 >= 80 % 2025 [S]; the rest [K]",
     .htn_std = {0.68, 0.72},
     .htn_ctrl = {0.60, 0.65},
     .t2d_std = {0.66, 0.70},
     .t2d_ctrl = {0.55, 0.60},
     .smi_mgmt = {0.92, 0.92},
     .elder = {0.62, 0.66},
     .mat_sys = {0.93, 0.93},
     .child_sys = {0.92, 0.92},
     .child_any = 0.93,
     .fd_all = {0.35, 0.42},
     .fd_key = {0.70, 0.80},
     COMMON_RATES},
    {.area = "2201",
     .source = "长春市: 高血压/糖尿病规范管理率 80 %/75 % 2025 [S]; 65+ "
               "健康管理率 62.8 % (2020 text) -> 65 % [S]; 家庭医生签约率 "
               "80 % 2025 (read as the key populations') [S]; the rest [K]",
     .htn_std = {0.72, 0.80},
     .htn_ctrl = {0.60, 0.65},
     .t2d_std = {0.70, 0.75},
     .t2d_ctrl = {0.55, 0.60},
     .smi_mgmt = {0.92, 0.92},
     .elder = {0.628, 0.66},
     .mat_sys = {0.93, 0.93},
     .child_sys = {0.92, 0.92},
     .child_any = 0.93,
     .fd_all = {0.35, 0.42},
     .fd_key = {0.70, 0.80},
     COMMON_RATES},
    {.area = "",
     .source = "default (吉林省) [K]: national basic public health service "
               "figures around 2020",
     .htn_std = {0.68, 0.72},
     .htn_ctrl = {0.60, 0.65},
     .t2d_std = {0.66, 0.70},
     .t2d_ctrl = {0.55, 0.60},
     .smi_mgmt = {0.92, 0.92},
     .elder = {0.62, 0.66},
     .mat_sys = {0.93, 0.93},
     .child_sys = {0.92, 0.92},
     .child_any = 0.93,
     .fd_all = {0.35, 0.42},
     .fd_key = {0.65, 0.75},
     COMMON_RATES},
};

const demo_care_rates *
demo_care_rates_for(const char *county_code)
{
    size_t n = sizeof(rate_table) / sizeof(rate_table[0]);
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(rate_table[i].area);
        if (county_code != NULL &&
            strncmp(county_code, rate_table[i].area, k) == 0)
            return &rate_table[i];
    }
    return &rate_table[n - 1];
}

double
demo_care_rate(const double v[2], int year)
{
    if (year <= 2020)
        return v[0];
    if (year >= 2025)
        return v[1];
    return v[0] + (v[1] - v[0]) * (year - 2020) / 5.0;
}

/* ---- the stage's state ---- */

typedef struct care {
    demo_ctx *c;
    const demo_care_rates *r;
    uint64_t ckey; /* county code as a number */
    const rhis_fhir_type *t_enc, *t_cond, *t_obs, *t_imm;
    /* per resident: registration day in management, DEMO_NEVER = none */
    demo_day *htn_reg, *t2d_reg, *smi_reg;
    uint32_t *preg_years; /* bit y - year_from: pregnant (ANC) that year */
    double imm_twp[64];   /* per-dose coverage of each township */
    int have_contracts;   /* table fd_contract exists */
    int64_t ncontracts;
} care;

/* Stream key: county, resident (or other) index, year. */
static uint64_t
skey(const care *k, uint64_t idx, int year)
{
    return ((k->ckey & 0xFFFFF) << 44) | ((idx & 0xFFFFFFFFu) << 12) |
           ((uint64_t)year & 0xFFF);
}

static void
stream(const care *k, demo_rng *r, const char *purpose, uint64_t idx, int year)
{
    demo_rng_init(r, k->c->seed, purpose, skey(k, idx, year));
}

/* End (exclusive) of someone's presence in the county. */
static demo_day
p_end(const demo_person *p)
{
    return p->death < p->out_day ? p->death : p->out_day;
}

/* The days of year y someone is present, within the run: *lo..*hi
 * (inclusive); 0 when none. */
static int
present_in(
    const care *k, const demo_person *p, int y, demo_day *lo, demo_day *hi)
{
    demo_day a = demo_day_of(y, 1, 1), b = demo_day_of(y, 12, 31);
    if (a < k->c->day_from)
        a = k->c->day_from;
    if (a < p->in_day)
        a = p->in_day;
    if (a < p->birth)
        a = p->birth;
    if (b > k->c->day_to)
        b = k->c->day_to;
    if (b > p_end(p) - 1)
        b = p_end(p) - 1;
    *lo = a;
    *hi = b;
    return a <= b;
}

static int
present_on(const care *k, const demo_person *p, demo_day d)
{
    return d >= k->c->day_from && d <= k->c->day_to && d >= p->in_day &&
           d >= p->birth && d < p_end(p);
}

static int
year_of(demo_day d)
{
    int y, m, dd;
    demo_ymd(d, &y, &m, &dd);
    return y;
}

/* Age in whole years on day d. */
static int
age_on(const demo_person *p, demo_day d)
{
    int by, bm, bd, y, m, dd;
    demo_ymd(p->birth, &by, &bm, &bd);
    demo_ymd(d, &y, &m, &dd);
    int a = y - by;
    if (m < bm || (m == bm && dd < bd))
        a--;
    return a;
}

/* A working-hours minute of the day (8:00-16:59), as ms on day d. */
static int64_t
work_ms(demo_rng *r, demo_day d)
{
    return demo_ms(d, 8 + (int)demo_rng_below(r, 9),
                   (int)demo_rng_below(r, 60));
}

static double
clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- institutions ---- */

static const demo_inst *
inst_at(const care *k, int idx)
{
    if (idx < 0 || idx >= k->c->county->ninsts)
        return NULL;
    return &k->c->county->insts[idx];
}

static const demo_inst *
township_hc(const care *k, const demo_person *p)
{
    const demo_county *cty = k->c->county;
    int t = cty->villages[p->village].township;
    const demo_inst *in = inst_at(k, cty->townships[t].health_centre);
    return in != NULL ? in : inst_at(k, cty->county_hospital);
}

/* The village clinic, else the township health centre. */
static const demo_inst *
village_clinic(const care *k, const demo_person *p)
{
    const demo_inst *in = inst_at(k, k->c->county->villages[p->village].clinic);
    return in != NULL && in->id != 0 ? in : township_hc(k, p);
}

static const demo_inst *
county_hospital(const care *k, demo_rng *r)
{
    const demo_county *cty = k->c->county;
    const demo_inst *tcm = inst_at(k, cty->tcm_hospital);
    if (tcm != NULL && demo_rng_bern(r, 0.15))
        return tcm;
    return inst_at(k, cty->county_hospital);
}

/* A physician of in (any staff member if it has no physician), 0 none. */
static int64_t
doctor(const demo_inst *in, demo_rng *r)
{
    if (in == NULL || in->nstaff <= 0 || in->staff == NULL)
        return 0;
    int n = in->nphysicians > 0 ? in->nphysicians : in->nstaff;
    if (n > in->nstaff)
        n = in->nstaff;
    return in->staff[demo_rng_below(r, (uint32_t)n)];
}

/* ---- JSON ---- */

static json_object *
js(const char *s)
{
    return json_object_new_string(s);
}

static void
put(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static json_object *
ref(const char *type, int64_t id)
{
    char b[64];
    (void)snprintf(b, sizeof(b), "%s/%lld", type, (long long)id);
    json_object *o = json_object_new_object();
    put(o, "reference", js(b));
    return o;
}

static json_object *
arr1(json_object *x)
{
    json_object *a = json_object_new_array();
    json_object_array_add(a, x);
    return a;
}

static json_object *
coding(const char *sys, const char *code, const char *display)
{
    json_object *o = json_object_new_object();
    put(o, "system", js(sys));
    put(o, "code", js(code));
    if (display != NULL)
        put(o, "display", js(display));
    return o;
}

/* A CodeableConcept of one coding, with text when given. */
static json_object *
cc(const char *sys, const char *code, const char *display, const char *text)
{
    json_object *o = json_object_new_object();
    put(o, "coding", arr1(coding(sys, code, display)));
    if (text != NULL)
        put(o, "text", js(text));
    return o;
}

static json_object *
qty(double v, int decimals, const char *ucum)
{
    json_object *o = json_object_new_object();
    put(o, "value", rhis_json_new_fixed(v, decimals));
    put(o, "unit", js(ucum));
    put(o, "system", js(RHIS_SYS_UCUM));
    put(o, "code", js(ucum));
    return o;
}

/* FHIR dateTime of ms in China time: 2021-03-04T09:15:00+08:00. */
static json_object *
when(int64_t ms)
{
    char b[64];
    int64_t s = ms / 1000 + 8 * 3600;
    demo_day d = (demo_day)(s / 86400);
    int rem = (int)(s % 86400), y, m, dd;
    demo_ymd(d, &y, &m, &dd);
    (void)snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d+08:00",
                   y % 10000, m % 100, dd % 100, rem / 3600, rem / 60 % 60,
                   rem % 60);
    return js(b);
}

/* ---- writers (each takes the event's instants; at_ms is when it was
 * recorded, never before them) ---- */

static const struct {
    const char *code, *zh;
} services[] = {
    {"opd", "门诊"},
    {"ipd", "住院"},
    {"htn-fu", "高血压患者随访"},
    {"t2d-fu", "2型糖尿病患者随访"},
    {"smi-fu", "严重精神障碍患者随访"},
    {"elder-check", "老年人健康体检"},
    {"anc", "产前检查"},
    {"delivery", "住院分娩"},
    {"pnc", "产后访视"},
    {"pnc42", "产后42天健康检查"},
    {"newborn", "新生儿家庭访视"},
    {"child-check", "儿童健康检查"},
};

static const char *
service_zh(const char *code)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (strcmp(services[i].code, code) == 0)
            return services[i].zh;
    return NULL;
}

typedef struct enc_in {
    const demo_person *p;
    const demo_inst *inst; /* NULL: city hospital (city_id) */
    int64_t city_id;
    int64_t doctor;
    const char *cls;     /* AMB, IMP, HH */
    const char *service; /* services[] code */
    int64_t start, end;
    const char *icd, *icd_zh, *complaint;
} enc_in;

/* Writes an Encounter; *id gets it, *at the instant it was recorded. */
static rhis_status
write_encounter(care *k, const enc_in *e, int64_t *id, int64_t *at)
{
    json_object *o = json_object_new_object();
    put(o, "resourceType", js("Encounter"));
    put(o, "status", js("finished"));
    put(o, "class", coding(RHIS_SYS_ACT_CODE, e->cls, NULL));
    put(o, "type",
        arr1(cc(DEMO_SYS_SERVICE, e->service, service_zh(e->service), NULL)));
    put(o, "subject", ref("Patient", e->p->patient_id));
    if (e->doctor != 0) {
        json_object *pa = json_object_new_object();
        put(pa, "individual", ref("Practitioner", e->doctor));
        put(o, "participant", arr1(pa));
    }
    json_object *per = json_object_new_object();
    put(per, "start", when(e->start));
    put(per, "end", when(e->end));
    put(o, "period", per);
    if (e->icd != NULL || e->complaint != NULL) {
        json_object *rc = json_object_new_object();
        if (e->icd != NULL)
            put(rc, "coding", arr1(coding(RHIS_SYS_ICD10, e->icd, e->icd_zh)));
        if (e->complaint != NULL)
            put(rc, "text", js(e->complaint));
        put(o, "reasonCode", arr1(rc));
    }
    int64_t org = e->inst != NULL ? e->inst->id : e->city_id;
    if (org != 0)
        put(o, "serviceProvider", ref("Organization", org));
    *at = e->end + MINUTE_MS;
    demo_tick(k->c, 1);
    return demo_create(k->c, k->t_enc, o, *at, id);
}

/* The common head of an Observation. */
static json_object *
obs_head(const demo_person *p,
         int64_t enc,
         const char *category,
         const char *loinc,
         int64_t t)
{
    json_object *o = json_object_new_object();
    put(o, "resourceType", js("Observation"));
    put(o, "status", js("final"));
    put(o, "category", arr1(cc(SYS_OBS_CATEGORY, category, NULL, NULL)));
    put(o, "code", cc(RHIS_SYS_LOINC, loinc, NULL, NULL));
    put(o, "subject", ref("Patient", p->patient_id));
    if (enc != 0)
        put(o, "encounter", ref("Encounter", enc));
    put(o, "effectiveDateTime", when(t));
    return o;
}

static rhis_status
write_qty(care *k,
          const demo_person *p,
          int64_t enc,
          int64_t t,
          int64_t at,
          const char *category,
          const char *loinc,
          double v,
          int decimals,
          const char *ucum)
{
    json_object *o = obs_head(p, enc, category, loinc, t);
    put(o, "valueQuantity", qty(v, decimals, ucum));
    return demo_create(k->c, k->t_obs, o, at, NULL);
}

static json_object *
bp_part(const char *loinc, int v)
{
    json_object *o = json_object_new_object();
    put(o, "code", cc(RHIS_SYS_LOINC, loinc, NULL, NULL));
    put(o, "valueQuantity", qty(v, 0, "mm[Hg]"));
    return o;
}

/* A blood pressure panel (85354-9) with both components. */
static rhis_status
write_bp(care *k,
         const demo_person *p,
         int64_t enc,
         int64_t t,
         int64_t at,
         int sbp,
         int dbp)
{
    json_object *o = obs_head(p, enc, "vital-signs", "85354-9", t);
    json_object *comp = json_object_new_array();
    json_object_array_add(comp, bp_part("8480-6", sbp));
    json_object_array_add(comp, bp_part("8462-4", dbp));
    put(o, "component", comp);
    return demo_create(k->c, k->t_obs, o, at, NULL);
}

/* A Condition: category problem-list-item or encounter-diagnosis; onset 0
 * = not given. */
static rhis_status
write_condition(care *k,
                const demo_person *p,
                int64_t enc,
                const char *icd,
                const char *text,
                const char *category,
                int64_t onset,
                int64_t recorded,
                int64_t at)
{
    json_object *o = json_object_new_object();
    put(o, "resourceType", js("Condition"));
    put(o, "clinicalStatus", cc(SYS_COND_CLINICAL, "active", NULL, NULL));
    put(o, "verificationStatus", cc(SYS_COND_VERIFY, "confirmed", NULL, NULL));
    put(o, "category", arr1(cc(SYS_COND_CATEGORY, category, NULL, NULL)));
    put(o, "code", cc(RHIS_SYS_ICD10, icd, NULL, text));
    put(o, "subject", ref("Patient", p->patient_id));
    if (enc != 0)
        put(o, "encounter", ref("Encounter", enc));
    if (onset != 0)
        put(o, "onsetDateTime", when(onset));
    put(o, "recordedDate", when(recorded));
    return demo_create(k->c, k->t_cond, o, at, NULL);
}

static rhis_status
write_immunization(care *k,
                   const demo_person *p,
                   const demo_inst *in,
                   const char *vaccine,
                   int dose,
                   int doses,
                   int64_t t)
{
    char lot[32];
    int y, m, d;
    demo_ymd((demo_day)((t + 8 * 3600 * 1000) / DAY_MS) - 120, &y, &m, &d);
    /* lot: manufacture year and month, then a batch number */
    (void)snprintf(lot, sizeof(lot), "%04d%02d%03d", y % 10000, m % 100,
                   (int)((p->patient_id * 7 + dose) % 997));
    json_object *o = json_object_new_object();
    put(o, "resourceType", js("Immunization"));
    put(o, "status", js("completed"));
    put(o, "vaccineCode", cc(RHIS_SYS_VACCINE_CN, vaccine, NULL, NULL));
    put(o, "patient", ref("Patient", p->patient_id));
    put(o, "occurrenceDateTime", when(t));
    put(o, "primarySource", json_object_new_boolean(1));
    put(o, "lotNumber", js(lot));
    if (in != NULL && in->id != 0) {
        json_object *pf = json_object_new_object();
        put(pf, "actor", ref("Organization", in->id));
        put(o, "performer", arr1(pf));
    }
    json_object *pa = json_object_new_object();
    put(pa, "doseNumberPositiveInt", json_object_new_int(dose));
    put(pa, "seriesDosesPositiveInt", json_object_new_int(doses));
    put(o, "protocolApplied", arr1(pa));
    demo_tick(k->c, 1);
    return demo_create(k->c, k->t_imm, o, t + 10 * MINUTE_MS, NULL);
}

/* ---- measurements ---- */

/* Blood pressure: controlled (< 140/90) or not. */
static void
draw_bp(demo_rng *r, int controlled, int *sbp, int *dbp)
{
    if (controlled) {
        *sbp = (int)clampd(round(128 + 6 * demo_rng_normal(r)), 105, 139);
        *dbp = (int)clampd(round(78 + 5 * demo_rng_normal(r)), 58, 89);
    } else {
        *sbp = (int)clampd(round(154 + 10 * demo_rng_normal(r)), 140, 195);
        *dbp = (int)clampd(round(94 + 7 * demo_rng_normal(r)), 70, 118);
    }
    if (*dbp >= *sbp - 20)
        *dbp = *sbp - 20;
}

/* Fasting glucose in mmol/L, one decimal: controlled (< 7.0) or not. */
static double
draw_fbg(demo_rng *r, int controlled)
{
    double v = controlled ? 6.1 + 0.4 * demo_rng_normal(r)
                          : 8.8 + 1.4 * demo_rng_normal(r);
    v = round(v * 10) / 10;
    return controlled ? clampd(v, 4.4, 6.9) : clampd(v, 7.0, 18.0);
}

/* ---- chronic disease management ---- */

typedef struct prog {
    const char *purpose;
    int flag;
    const char *service, *icd, *icd_zh, *complaint;
    double enrol;
    const double *std, *ctrl;
} prog;

/* Registration day in management for p (DEMO_NEVER when never registered
 * within the run): residents present at the start with an earlier onset
 * were registered before the run (the day may be before day_from); others
 * a week to two months after onset or arrival. */
static demo_day
registration(const care *k, const demo_person *p, demo_day onset, demo_rng *r)
{
    demo_day base = onset;
    if (p->in_day > k->c->day_from && p->in_day > base)
        base = p->in_day;
    demo_day reg = base + 7 + (demo_day)demo_rng_below(r, 60);
    if (reg >= p_end(p) || reg > k->c->day_to)
        return DEMO_NEVER;
    return reg;
}

/* The follow-up days of year y in [lo, hi], sorted; returns how many.
 * full: registered before the year; then std decides >= 4 (one a quarter)
 * or 1-3.  Otherwise (registration year) every three months from reg. */
static int
followup_days(demo_rng *r,
              int y,
              demo_day lo,
              demo_day hi,
              int full,
              int std,
              demo_day reg,
              demo_day out[8])
{
    demo_day ys = demo_day_of(y, 1, 1), cand[8];
    int n = 0, m = 0;
    if (full && std) {
        for (int q = 0; q < 4; q++)
            cand[n++] = ys + q * 91 + (demo_day)demo_rng_below(r, 91);
        if (demo_rng_bern(r, 0.1))
            cand[n++] = ys + (demo_day)demo_rng_below(r, 364);
    } else if (full) {
        int want = 1 + (int)demo_rng_below(r, 3), used[4] = {0, 0, 0, 0};
        while (n < want) {
            int q = (int)demo_rng_below(r, 4);
            if (used[q])
                continue;
            used[q] = 1;
            cand[n++] = ys + q * 91 + (demo_day)demo_rng_below(r, 91);
        }
    } else {
        for (demo_day d = reg; d <= hi && n < 5;
             d += 85 + (demo_day)demo_rng_below(r, 11))
            cand[n++] = d;
    }
    for (int i = 0; i < n; i++)
        if (cand[i] >= lo && cand[i] <= hi)
            out[m++] = cand[i];
    for (int i = 1; i < m; i++) /* insertion sort, m <= 5 */
        for (int j = i; j > 0 && out[j] < out[j - 1]; j--) {
            demo_day t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return m;
}

/* One follow-up visit with its measurement (and HbA1c once a year). */
static rhis_status
followup(care *k,
         const prog *g,
         const demo_person *p,
         demo_rng *r,
         demo_day day,
         int controlled,
         int annual_lab,
         int64_t *enc_out,
         int64_t *at_out)
{
    const demo_inst *in =
        demo_rng_bern(r, 0.5) ? village_clinic(k, p) : township_hc(k, p);
    enc_in e = {p, in, 0,      doctor(in, r), "AMB",       g->service,
                0, 0,  g->icd, g->icd_zh,     g->complaint};
    e.start = work_ms(r, day);
    e.end = e.start + (10 + (int64_t)demo_rng_below(r, 20)) * MINUTE_MS;
    int64_t enc, at;
    rhis_status rc = write_encounter(k, &e, &enc, &at);
    if (rc != RHIS_OK)
        return rc;
    int64_t t = e.start + 5 * MINUTE_MS;
    if (g->flag == DEMO_HTN) {
        int sbp, dbp;
        draw_bp(r, controlled, &sbp, &dbp);
        rc = write_bp(k, p, enc, t, at, sbp, dbp);
    } else {
        rc = write_qty(k, p, enc, t, at, "laboratory", "14771-0",
                       draw_fbg(r, controlled), 1, "mmol/L");
        if (rc == RHIS_OK && annual_lab) {
            double a1c = controlled ? 6.4 + 0.4 * demo_rng_normal(r)
                                    : 8.3 + 1.0 * demo_rng_normal(r);
            rc = write_qty(k, p, enc, t, at, "laboratory", "4548-4",
                           clampd(a1c, 5.0, 14.0), 1, "%");
        }
    }
    *enc_out = enc;
    *at_out = at;
    return rc;
}

/*
 * Hypertension or diabetes in management for resident i.  Rules (each drawn
 * from a stream of (resident, year)):
 *   enrolled in management with probability g->enrol, else diagnosed at a
 *   county-hospital visit when the onset falls in the run (60 %);
 *   the Condition (problem-list-item, I10.x00 / E11.900) is recorded at
 *   the registration visit, or, for a registration before the run, written
 *   without an encounter on the run's first day;
 *   in every year after the registration year: standardised (>= 4
 *   follow-ups, one a quarter) with probability std(year), else 1-3;
 *   the last follow-up of the year is controlled (BP < 140/90, fasting
 *   glucose < 7.0) with probability ctrl(year), the others likewise;
 *   follow-ups fall only on days the resident is present.
 */
static rhis_status
program(care *k, const prog *g, size_t i, demo_day onset, demo_day *reg_out)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    demo_rng r;
    rhis_status rc = RHIS_OK;
    *reg_out = DEMO_NEVER;
    stream(k, &r, g->purpose, i, 0);
    if (onset == DEMO_NEVER || onset > c->day_to || onset >= p_end(p))
        return RHIS_OK;
    if (!demo_rng_bern(&r, g->enrol)) {
        demo_day d = onset + 3 + (demo_day)demo_rng_below(&r, 30);
        if (onset < c->day_from || !present_on(k, p, d) ||
            !demo_rng_bern(&r, 0.6))
            return RHIS_OK;
        const demo_inst *in = county_hospital(k, &r);
        enc_in e = {p, in, 0,      doctor(in, &r), "AMB",       "opd",
                    0, 0,  g->icd, g->icd_zh,      g->complaint};
        e.start = work_ms(&r, d);
        e.end = e.start + 15 * MINUTE_MS;
        int64_t enc, at;
        rc = write_encounter(k, &e, &enc, &at);
        if (rc == RHIS_OK)
            rc = write_condition(k, p, enc, g->icd, g->icd_zh,
                                 "encounter-diagnosis", demo_ms(onset, 12, 0),
                                 e.start + 10 * MINUTE_MS, at);
        return rc;
    }
    demo_day reg = registration(k, p, onset, &r);
    if (reg == DEMO_NEVER)
        return RHIS_OK;
    *reg_out = reg;
    int64_t onset_ms = demo_ms(onset, 12, 0);
    if (reg < c->day_from) /* registered before the run */
        rc = write_condition(k, p, 0, g->icd, g->icd_zh, "problem-list-item",
                             onset_ms, demo_ms(reg, 9, 0),
                             demo_ms(c->day_from, 10, 0));
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day lo, hi, days[8];
        if (!present_in(k, p, y, &lo, &hi) || hi < reg)
            continue;
        if (lo < reg)
            lo = reg;
        demo_rng ry;
        stream(k, &ry, g->purpose, i, y);
        int full = reg < demo_day_of(y, 1, 1);
        int std = demo_rng_bern(&ry, demo_care_rate(g->std, y));
        double pc = demo_care_rate(g->ctrl, y);
        int last_ctrl = demo_rng_bern(&ry, pc);
        int n = followup_days(&ry, y, lo, hi, full, std, reg, days);
        for (int j = 0; j < n && rc == RHIS_OK; j++) {
            int ctrl = j == n - 1 ? last_ctrl : demo_rng_bern(&ry, pc);
            int64_t enc, at;
            rc = followup(k, g, p, &ry, days[j], ctrl, j == n - 1, &enc, &at);
            if (rc == RHIS_OK && days[j] == reg) /* the registration visit */
                rc = write_condition(k, p, enc, g->icd, g->icd_zh,
                                     "problem-list-item", onset_ms,
                                     at - MINUTE_MS, at);
        }
    }
    return rc;
}

static const char *const smi_icd[][2] = {
    {"F20.9", "精神分裂症"},
    {"F31.9", "双相情感障碍"},
    {"F25.9", "分裂情感性障碍"},
};

/*
 * Severe mental disorder (DEMO_SMI): registered (Condition, problem list)
 * before the run for residents present at the start, else 1-4 months after
 * arrival, never before age 12; managed in a year after registration with
 * probability smi_mgmt(year): then 4 follow-ups (home visit or clinic),
 * else none (管理率 = >= 1 follow-up in the year / registered patients).
 */
static rhis_status
smi(care *k, size_t i, demo_day *reg_out)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    demo_rng r;
    rhis_status rc = RHIS_OK;
    *reg_out = DEMO_NEVER;
    stream(k, &r, "care-smi", i, 0);
    demo_day reg = p->in_day > c->day_from
                       ? p->in_day + 30 + (demo_day)demo_rng_below(&r, 90)
                       : c->day_from - 30 - (demo_day)demo_rng_below(&r, 3000);
    if (reg < p->birth + 12 * 365)
        reg = p->birth + 12 * 365 + (demo_day)demo_rng_below(&r, 365);
    if (reg >= p_end(p) || reg > c->day_to)
        return RHIS_OK;
    *reg_out = reg;
    int which = demo_rng_bern(&r, 0.7) ? 0 : demo_rng_bern(&r, 0.67) ? 1 : 2;
    if (reg < c->day_from) /* registered before the run */
        rc = write_condition(k, p, 0, smi_icd[which][0], smi_icd[which][1],
                             "problem-list-item", 0, demo_ms(reg, 9, 0),
                             demo_ms(c->day_from, 10, 0));
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day lo, hi, days[5];
        int n = 0;
        if (!present_in(k, p, y, &lo, &hi) || hi < reg)
            continue;
        demo_rng ry;
        stream(k, &ry, "care-smi", i, y);
        int managed = demo_rng_bern(&ry, demo_care_rate(k->r->smi_mgmt, y));
        demo_day ys = demo_day_of(y, 1, 1);
        if (reg >= lo) /* the registration visit (reg <= hi here) */
            days[n++] = reg;
        for (int q = 0; q < 4; q++) {
            demo_day d = ys + q * 91 + (demo_day)demo_rng_below(&ry, 91);
            if (managed && d > reg && d >= lo && d <= hi)
                days[n++] = d;
        }
        for (int j = 0; j < n && rc == RHIS_OK; j++) {
            int home = demo_rng_bern(&ry, 0.5);
            const demo_inst *in =
                home ? village_clinic(k, p) : township_hc(k, p);
            enc_in e = {p,
                        in,
                        0,
                        0,
                        home ? "HH" : "AMB",
                        "smi-fu",
                        0,
                        0,
                        smi_icd[which][0],
                        smi_icd[which][1],
                        "精神状况随访"};
            e.doctor = doctor(in, &ry);
            e.start = work_ms(&ry, days[j]);
            e.end = e.start + 30 * MINUTE_MS;
            int64_t enc, at;
            rc = write_encounter(k, &e, &enc, &at);
            if (rc == RHIS_OK && days[j] == reg)
                rc = write_condition(k, p, enc, smi_icd[which][0],
                                     smi_icd[which][1], "problem-list-item", 0,
                                     at - MINUTE_MS, at);
        }
    }
    return rc;
}

/* ---- the 65+ annual health check ---- */

/*
 * Residents born in year y - 65 or earlier and present in year y get the
 * check with probability elder(y), on a day they are present: an
 * encounter at the township centre (the check record; its results are not
 * written, for volume), with the blood pressure of hypertension patients
 * and the fasting glucose of diabetes patients in management (programs
 * run before, so their registration days are known).
 */
static rhis_status
elder_checks(care *k, size_t i)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    rhis_status rc = RHIS_OK;
    int by = year_of(p->birth);
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day lo, hi;
        if (by > y - 65 || !present_in(k, p, y, &lo, &hi))
            continue;
        demo_rng r;
        stream(k, &r, "care-elder", i, y);
        if (!demo_rng_bern(&r, demo_care_rate(k->r->elder, y)))
            continue;
        demo_day d = lo + (demo_day)demo_rng_below(&r, (uint32_t)(hi - lo + 1));
        const demo_inst *in = township_hc(k, p);
        enc_in e = {
            p, in, 0,       doctor(in, &r), "AMB",           "elder-check",
            0, 0,  "Z00.0", "一般医学检查", "老年人健康体检"};
        e.start = demo_ms(d, 7 + (int)demo_rng_below(&r, 3),
                          (int)demo_rng_below(&r, 60));
        e.end = e.start + 50 * MINUTE_MS;
        int64_t enc, at, t = e.start + 10 * MINUTE_MS;
        /* results of patients in management only (volume) */
        int sbp, dbp, htn = k->htn_reg[i] <= d, dm = k->t2d_reg[i] <= d;
        rc = write_encounter(k, &e, &enc, &at);
        if (rc == RHIS_OK && htn) {
            draw_bp(&r, demo_rng_bern(&r, 0.6), &sbp, &dbp);
            rc = write_bp(k, p, enc, t, at, sbp, dbp);
        }
        if (rc == RHIS_OK && dm)
            rc = write_qty(k, p, enc, t, at, "laboratory", "14771-0",
                           draw_fbg(&r, demo_rng_bern(&r, 0.55)), 1, "mmol/L");
    }
    return rc;
}

/* ---- general outpatient visits and inpatient stays (sampled) ---- */

typedef struct dx {
    const char *icd, *zh, *complaint;
    int min_age, max_age;
    double weight;
    int kind; /* 0 plain, 1 respiratory (temperature, blood count), 2
                 cardio-metabolic (BP, glucose, lipids) */
} dx;

static const dx opd_dx[] = {
    {"J06.9", "急性上呼吸道感染", "发热、咳嗽、咽痛", 0, 120, 30, 1},
    {"J20.9", "急性支气管炎", "咳嗽、咳痰", 0, 120, 10, 1},
    {"J02.9", "急性咽炎", "咽痛", 3, 120, 6, 1},
    {"K29.7", "胃炎", "上腹痛、反酸", 15, 120, 8, 0},
    {"K52.9", "非感染性胃肠炎", "腹痛、腹泻", 0, 120, 5, 0},
    {"M54.5", "腰痛", "腰痛", 25, 120, 6, 0},
    {"M17.9", "膝关节病", "膝关节疼痛", 45, 120, 5, 0},
    {"I10", "高血压", "头晕、头痛", 35, 120, 8, 2},
    {"E11.9", "2型糖尿病", "口干、多饮", 35, 120, 4, 2},
    {"I25.1", "动脉硬化性心脏病", "胸闷、心悸", 45, 120, 4, 2},
    {"J44.9", "慢性阻塞性肺疾病", "咳嗽、气短", 45, 120, 3, 1},
    {"R51", "头痛", "头痛", 10, 120, 3, 0},
    {"L30.9", "皮炎", "皮疹、瘙痒", 0, 120, 4, 0},
    {"H10.9", "结膜炎", "眼红、眼痒", 0, 120, 2, 0},
    {"K02.9", "龋病", "牙痛", 3, 120, 3, 0},
    {"N39.0", "泌尿道感染", "尿频、尿痛", 15, 120, 2, 0},
    {"S93.4", "踝关节扭伤", "踝部肿痛", 5, 70, 2, 0},
    {"E78.5", "高脂血症", "体检发现血脂高", 35, 120, 2, 2},
};

static const dx ipd_dx[] = {
    {"J18.9", "肺炎", "发热、咳嗽", 0, 120, 20, 1},
    {"I63.9", "脑梗死", "肢体无力、言语不清", 45, 120, 14, 2},
    {"I25.1", "动脉硬化性心脏病", "胸闷、胸痛", 45, 120, 10, 2},
    {"J44.1", "慢性阻塞性肺疾病急性加重", "咳嗽、喘息加重", 50, 120, 7, 1},
    {"I50.9", "心力衰竭", "气短、双下肢水肿", 55, 120, 5, 2},
    {"K80.2", "胆囊结石", "右上腹痛", 25, 120, 5, 0},
    {"K35.8", "急性阑尾炎", "转移性右下腹痛", 5, 80, 4, 0},
    {"N20.0", "肾结石", "腰痛、血尿", 20, 80, 3, 0},
    {"S72.0", "股骨颈骨折", "摔伤后髋部疼痛", 60, 120, 3, 0},
    {"E11.9", "2型糖尿病", "血糖控制不佳", 35, 120, 4, 2},
};

/* Visits a year per resident by age (all tiers), before sampling [K]:
 * China ≈ 6 visits and 0.18 admissions per resident a year. */
static double
opd_rate(int age)
{
    return age < 5 ? 7 : age < 15 ? 3 : age < 45 ? 3.5 : age < 65 ? 6 : 9;
}

static double
ipd_rate(int age)
{
    return age < 5    ? 0.15
           : age < 15 ? 0.05
           : age < 45 ? 0.10
           : age < 65 ? 0.18
                      : 0.35;
}

static const dx *
pick_dx(demo_rng *r, const dx *t, size_t n, int age)
{
    double total = 0;
    for (size_t j = 0; j < n; j++)
        if (age >= t[j].min_age && age <= t[j].max_age)
            total += t[j].weight;
    double u = demo_rng_unif(r) * total;
    for (size_t j = 0; j < n; j++) {
        if (age < t[j].min_age || age > t[j].max_age)
            continue;
        if (u < t[j].weight)
            return &t[j];
        u -= t[j].weight;
    }
    return &t[0];
}

/* Results of a visit by the diagnosis kind and tier. */
static rhis_status
visit_results(care *k,
              const demo_person *p,
              demo_rng *r,
              const dx *x,
              int tier,
              int age,
              int64_t enc,
              int64_t t,
              int64_t at)
{
    rhis_status rc = RHIS_OK;
    if (x->kind == 1)
        rc = write_qty(k, p, enc, t, at, "vital-signs", "8310-5",
                       clampd(37.6 + 0.7 * demo_rng_normal(r), 36.0, 40.5), 1,
                       "Cel");
    if (rc == RHIS_OK && age >= 35 &&
        (x->kind == 2 || (tier >= DEMO_TOWNSHIP && demo_rng_bern(r, 0.3)))) {
        int sbp, dbp;
        draw_bp(r,
                !((p->flags & DEMO_HTN) && demo_rng_bern(r, 0.5)) &&
                    demo_rng_bern(r, 0.85),
                &sbp, &dbp);
        rc = write_bp(k, p, enc, t, at, sbp, dbp);
    }
    if (tier < DEMO_COUNTY || !demo_rng_bern(r, 0.4))
        return rc;
    /* laboratory results at county and city hospitals */
    if (rc == RHIS_OK && x->kind == 1) {
        rc = write_qty(k, p, enc, t, at, "laboratory", "6690-2",
                       clampd(9.5 + 3 * demo_rng_normal(r), 2.5, 30), 1,
                       "10*9/L");
        if (rc == RHIS_OK)
            rc = write_qty(k, p, enc, t, at, "laboratory", "718-7",
                           clampd(round((p->sex == 'M' ? 145 : 128) +
                                        10 * demo_rng_normal(r)),
                                  80, 190),
                           0, "g/L");
    }
    if (rc == RHIS_OK && x->kind == 2 && age >= 35) {
        int dm = (p->flags & DEMO_T2D) != 0;
        double glu = dm ? 9.0 + 2.0 * demo_rng_normal(r)
                        : 5.6 + 0.7 * demo_rng_normal(r);
        double tc = clampd(5.0 + 0.9 * demo_rng_normal(r), 2.8, 9.5);
        double hdl = clampd(1.3 + 0.25 * demo_rng_normal(r), 0.6, 2.5);
        double tg = clampd(1.7 + 0.7 * demo_rng_normal(r), 0.4, 8.0);
        double ldl = clampd(tc - hdl - tg / 2.2, 0.8, 7.0);
        rc = write_qty(k, p, enc, t, at, "laboratory", "14749-6",
                       clampd(glu, 3.5, 25), 1, "mmol/L");
        if (rc == RHIS_OK)
            rc = write_qty(k, p, enc, t, at, "laboratory", "14647-2", tc, 2,
                           "mmol/L");
        if (rc == RHIS_OK)
            rc = write_qty(k, p, enc, t, at, "laboratory", "14927-8", tg, 2,
                           "mmol/L");
        if (rc == RHIS_OK)
            rc = write_qty(k, p, enc, t, at, "laboratory", "14646-4", hdl, 2,
                           "mmol/L");
        if (rc == RHIS_OK)
            rc = write_qty(k, p, enc, t, at, "laboratory", "22748-8", ldl, 2,
                           "mmol/L");
    }
    return rc;
}

/* Where a visit goes: village clinic, township centre, county or city
 * hospital (outpatients), county or city (inpatients). */
static int
pick_tier(const care *k, demo_rng *r, int inpatient, int age)
{
    double u = demo_rng_unif(r);
    int has_city = k->c->county->city_hospital_id != 0;
    if (inpatient)
        return has_city && u < 0.15 ? DEMO_CITY
               : u < 0.35           ? DEMO_TOWNSHIP
                                    : DEMO_COUNTY;
    if (age < 15) /* children go to the county hospital more */
        return u < 0.35               ? DEMO_VILLAGE_CLINIC
               : u < 0.6              ? DEMO_TOWNSHIP
               : has_city && u > 0.95 ? DEMO_CITY
                                      : DEMO_COUNTY;
    return u < 0.45               ? DEMO_VILLAGE_CLINIC
           : u < 0.72             ? DEMO_TOWNSHIP
           : has_city && u > 0.96 ? DEMO_CITY
                                  : DEMO_COUNTY;
}

static rhis_status
visit(care *k,
      const demo_person *p,
      demo_rng *r,
      demo_day d,
      demo_day hi,
      int inpatient)
{
    int age = age_on(p, d);
    const dx *x =
        inpatient ? pick_dx(r, ipd_dx, sizeof(ipd_dx) / sizeof(*ipd_dx), age)
                  : pick_dx(r, opd_dx, sizeof(opd_dx) / sizeof(*opd_dx), age);
    int tier = pick_tier(k, r, inpatient, age);
    enc_in e = {p,
                NULL,
                0,
                0,
                inpatient ? "IMP" : "AMB",
                inpatient ? "ipd" : "opd",
                0,
                0,
                x->icd,
                x->zh,
                x->complaint};
    e.inst = tier == DEMO_VILLAGE_CLINIC ? village_clinic(k, p)
             : tier == DEMO_TOWNSHIP     ? township_hc(k, p)
             : tier == DEMO_COUNTY       ? county_hospital(k, r)
                                         : NULL;
    e.city_id = tier == DEMO_CITY ? k->c->county->city_hospital_id : 0;
    e.doctor = doctor(e.inst, r);
    e.start = work_ms(r, d);
    if (inpatient) {
        demo_day end = d + 3 + (demo_day)demo_rng_below(r, 10);
        if (end > hi)
            end = hi;
        e.end = demo_ms(end, 9 + (int)demo_rng_below(r, 3),
                        (int)demo_rng_below(r, 60));
        if (e.end <= e.start)
            e.end = e.start + 6 * 60 * MINUTE_MS;
    } else {
        e.end = e.start + (5 + (int64_t)demo_rng_below(r, 25)) * MINUTE_MS;
    }
    int64_t enc, at;
    rhis_status rc = write_encounter(k, &e, &enc, &at);
    if (rc == RHIS_OK)
        rc = visit_results(k, p, r, x, inpatient ? DEMO_COUNTY : tier, age, enc,
                           e.start + 3 * MINUTE_MS, at);
    return rc;
}

/*
 * General visits of resident i: per year Poisson(rate(age) * share of the
 * year present * opd_sample) outpatient visits and Poisson(ipd_rate * ... *
 * 5 * opd_sample) inpatient stays, each with its diagnosis and chief
 * complaint in Encounter.reasonCode (no Condition: volume), vital signs
 * and, at county and city hospitals, laboratory results.
 */
static rhis_status
general_visits(care *k, size_t i)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    rhis_status rc = RHIS_OK;
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day lo, hi;
        if (!present_in(k, p, y, &lo, &hi))
            continue;
        demo_rng r;
        stream(k, &r, "care-opd", i, y);
        int age = age_on(p, lo);
        double share = (hi - lo + 1) / 365.0;
        uint32_t n =
            demo_rng_poisson(&r, opd_rate(age) * share * k->r->opd_sample);
        uint32_t m =
            demo_rng_poisson(&r, ipd_rate(age) * share * 5 * k->r->opd_sample);
        for (uint32_t j = 0; j < n + m && rc == RHIS_OK; j++) {
            demo_day d =
                lo + (demo_day)demo_rng_below(&r, (uint32_t)(hi - lo + 1));
            rc = visit(k, p, &r, d, hi, j >= n);
        }
    }
    return rc;
}

/* ---- children: health checks and immunisations ---- */

/* The national immunisation schedule (国家免疫规划疫苗儿童免疫程序 2021):
 * vaccine, dose, age in days when due. */
static const struct {
    const char *vaccine;
    int dose, doses, age;
} schedule[] = {
    {"HepB", 1, 3, 0},       {"BCG", 1, 1, 0},      {"HepB", 2, 3, 30},
    {"IPV", 1, 2, 61},       {"IPV", 2, 2, 91},     {"DTaP", 1, 4, 91},
    {"bOPV", 1, 2, 122},     {"DTaP", 2, 4, 122},   {"DTaP", 3, 4, 152},
    {"HepB", 3, 3, 182},     {"MPSV-A", 1, 2, 182}, {"MMR", 1, 2, 243},
    {"JE-L", 1, 2, 243},     {"MPSV-A", 2, 2, 274}, {"DTaP", 4, 4, 547},
    {"MMR", 2, 2, 547},      {"HepA-L", 1, 1, 547}, {"JE-L", 2, 2, 730},
    {"MPSV-AC", 1, 2, 1095}, {"bOPV", 2, 2, 1461},  {"DT", 1, 1, 2191},
    {"MPSV-AC", 2, 2, 2191},
};

/*
 * Each scheduled dose is given with probability imm_twp[township] (the
 * county's coverage with a township offset), on the due day (birth doses)
 * or after a delay of a few days to weeks, by the township centre's
 * vaccination clinic (birth doses: the county hospital).  Doses due before
 * the run or after it, or on days the child is absent, are not written.
 */
static rhis_status
immunizations(care *k, size_t i)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    demo_rng r;
    rhis_status rc = RHIS_OK;
    int twp = c->county->villages[p->village].township;
    double pd = k->imm_twp[twp % 64];
    stream(k, &r, "care-imm", i, 0);
    for (size_t j = 0; j < sizeof(schedule) / sizeof(*schedule); j++) {
        int given = demo_rng_bern(&r, pd);
        double delay = schedule[j].age == 0
                           ? 0
                           : -12.0 * log(1.0 - demo_rng_unif(&r) * 0.99);
        if (!given)
            continue;
        demo_day d = p->birth + schedule[j].age + (demo_day)delay;
        if (!present_on(k, p, d))
            continue;
        const demo_inst *in = schedule[j].age == 0
                                  ? inst_at(k, c->county->county_hospital)
                                  : township_hc(k, p);
        int64_t t = schedule[j].age == 0
                        ? demo_ms(d, 20 + (int)demo_rng_below(&r, 3), 0)
                        : work_ms(&r, d);
        rc = write_immunization(k, p, in, schedule[j].vaccine, schedule[j].dose,
                                schedule[j].doses, t);
        if (rc != RHIS_OK)
            break;
    }
    return rc;
}

/* Child health checks: age in days, and whether it is one of the eight
 * checks of the 0-3 systematic management (4:2:2). */
static const struct {
    int age, sys;
    double weight, height; /* WHO medians, girls (boys +4 %) */
} checks[] = {
    {7, 0, 3.4, 0},         {30, 0, 4.2, 0},        {91, 1, 5.8, 0},
    {182, 1, 7.3, 0},       {243, 1, 8.0, 0},       {365, 1, 8.9, 74.0},
    {547, 1, 10.2, 0},      {730, 1, 11.5, 85.7},   {912, 1, 12.7, 0},
    {1095, 1, 13.9, 95.1},  {1461, 0, 16.1, 102.7}, {1826, 0, 18.2, 109.4},
    {2191, 0, 20.2, 115.1},
};

/*
 * A child's checks: the 0-3 schedule complete (all 8 checks of 4:2:2) with
 * probability child_sys(birth year + 1), else 1-3 of them missed; the
 * newborn home visit and the 1-month check with 95 %; the checks at 4, 5
 * and 6 years each with child_any.  Each check: an encounter at the
 * township centre (newborn visit: a home visit), with weight at the yearly
 * checks from 1 year and height at 1, 2 and 3 years (for volume, not at
 * every check).
 */
static rhis_status
child_checks(care *k, size_t i)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    demo_rng r;
    rhis_status rc = RHIS_OK;
    stream(k, &r, "care-child", i, 0);
    int sys = demo_rng_bern(
        &r, demo_care_rate(k->r->child_sys, year_of(p->birth) + 1));
    int miss[3] = {-1, -1, -1},
        nmiss = sys ? 0 : 1 + (int)demo_rng_below(&r, 3);
    for (int j = 0; j < nmiss; j++)
        miss[j] = (int)demo_rng_below(&r, 8); /* index among the 8 */
    int s = 0;
    for (size_t j = 0; j < sizeof(checks) / sizeof(*checks); j++) {
        int skip;
        if (checks[j].sys) {
            skip = miss[0] == s || miss[1] == s || miss[2] == s;
            s++;
        } else {
            skip = !demo_rng_bern(&r,
                                  checks[j].age <= 30 ? 0.95 : k->r->child_any);
        }
        demo_day d = p->birth + checks[j].age +
                     (demo_day)demo_rng_below(&r, checks[j].age < 60 ? 5 : 15);
        double w = checks[j].weight * (p->sex == 'M' ? 1.04 : 1.0) *
                   (1 + 0.08 * demo_rng_normal(&r));
        if (skip || !present_on(k, p, d))
            continue;
        int newborn = checks[j].age == 7;
        const demo_inst *in =
            newborn ? village_clinic(k, p) : township_hc(k, p);
        enc_in e = {p,
                    in,
                    0,
                    doctor(in, &r),
                    newborn ? "HH" : "AMB",
                    newborn ? "newborn" : "child-check",
                    0,
                    0,
                    "Z00.1",
                    "儿童常规健康检查",
                    newborn ? "新生儿家庭访视" : "儿童健康检查"};
        e.start = work_ms(&r, d);
        e.end = e.start + 20 * MINUTE_MS;
        int64_t enc, at, t = e.start + 5 * MINUTE_MS;
        rc = write_encounter(k, &e, &enc, &at);
        if (rc == RHIS_OK && checks[j].height > 0)
            rc = write_qty(k, p, enc, t, at, "vital-signs", "29463-7",
                           clampd(w, 1.5, 40), 1, "kg");
        if (rc == RHIS_OK && checks[j].height > 0 && checks[j].age <= 1095)
            rc = write_qty(k, p, enc, t, at, "vital-signs", "8302-2",
                           checks[j].height * (p->sex == 'M' ? 1.015 : 1.0) *
                               (1 + 0.035 * demo_rng_normal(&r)),
                           1, "cm");
        if (rc != RHIS_OK)
            break;
    }
    return rc;
}

/* ---- maternal care ---- */

/*
 * For each live birth (day D, mother present): the last menstrual period
 * 273-287 days before D; systematic management (孕产妇系统管理) with
 * probability mat_sys(year of D): registration (建册, the first antenatal
 * visit, with a pregnancy Condition Z34.9 whose onset is the LMP and a
 * blood pressure) before 13 weeks, >= 5 antenatal visits and a postpartum
 * home visit within a week; otherwise one of the three fails (late
 * registration 13-24 weeks, 2-4 visits, or no postpartum visit).  The
 * delivery is an inpatient stay; the 42-day check follows (90 %).
 */
static rhis_status
maternal(care *k, const demo_birth *b)
{
    demo_ctx *c = k->c;
    if (b->mother < 0 || (size_t)b->mother >= c->npeople)
        return RHIS_OK;
    const demo_person *m = &c->people[b->mother];
    demo_day D = b->day;
    demo_rng r;
    rhis_status rc = RHIS_OK;
    stream(k, &r, "care-mat", (uint64_t)b->child, 0);
    demo_day lmp = D - 273 - (demo_day)demo_rng_below(&r, 15);
    int sys = demo_rng_bern(&r, demo_care_rate(k->r->mat_sys, year_of(D)));
    int fail = sys ? -1 : (int)demo_rng_below(&r, 3);
    int reg_week = fail == 0 ? 13 + (int)demo_rng_below(&r, 12)
                             : 6 + (int)demo_rng_below(&r, 7);
    int nanc = fail == 1 ? 2 + (int)demo_rng_below(&r, 3)
                         : 5 + (int)demo_rng_below(&r, 4);
    int pnc = fail != 2;
    demo_day reg = lmp + reg_week * 7 + (demo_day)demo_rng_below(&r, 7);
    /* antenatal visits: registration, then evenly to a week before D */
    for (int j = 0; j < nanc && rc == RHIS_OK; j++) {
        demo_day d = j == 0 ? reg
                            : reg + (D - 7 - reg) * j / (nanc - 1) -
                                  (demo_day)demo_rng_below(&r, 4);
        if (!present_on(k, m, d) || d >= D)
            continue;
        const demo_inst *in = j == 0 ? township_hc(k, m)
                              : demo_rng_bern(&r, 0.5)
                                  ? inst_at(k, c->county->mch)
                                  : inst_at(k, c->county->county_hospital);
        if (in == NULL)
            in = township_hc(k, m);
        enc_in e = {m,
                    in,
                    0,
                    doctor(in, &r),
                    "AMB",
                    "anc",
                    0,
                    0,
                    "Z34.9",
                    "正常妊娠监督",
                    j == 0 ? "早孕建册" : "孕期检查"};
        e.start = work_ms(&r, d);
        e.end = e.start + 30 * MINUTE_MS;
        int64_t enc, at;
        rc = write_encounter(k, &e, &enc, &at);
        if (rc == RHIS_OK && j == 0) {
            int sbp, dbp;
            draw_bp(&r, demo_rng_bern(&r, 0.97), &sbp, &dbp);
            rc = write_condition(k, m, enc, "Z34.9", "妊娠状态",
                                 "problem-list-item", demo_ms(lmp, 0, 0),
                                 e.start + 10 * MINUTE_MS, at);
            if (rc == RHIS_OK)
                rc = write_bp(k, m, enc, e.start + 5 * MINUTE_MS, at, sbp, dbp);
        }
        int y = year_of(d) - c->year_from;
        if (y >= 0 && y < 32)
            k->preg_years[b->mother] |= 1u << y;
    }
    /* the delivery */
    if (rc == RHIS_OK && present_on(k, m, D)) {
        double u = demo_rng_unif(&r);
        const demo_inst *in = u < 0.25 ? inst_at(k, c->county->mch)
                                       : inst_at(k, c->county->county_hospital);
        int caesar = demo_rng_bern(&r, 0.4);
        demo_day end = D + (caesar ? 4 : 2);
        if (end >= p_end(m))
            end = p_end(m) - 1;
        if (end > c->day_to)
            end = c->day_to;
        enc_in e = {m,
                    in,
                    0,
                    doctor(in, &r),
                    "IMP",
                    "delivery",
                    0,
                    0,
                    caesar ? "O82.0" : "O80.0",
                    caesar ? "选择性剖宫产" : "单胎顺产",
                    "临产"};
        e.start = demo_ms(D, (int)demo_rng_below(&r, 8), 0);
        e.end = demo_ms(end, 10, 0);
        if (e.end <= e.start)
            e.end = e.start + 6 * 60 * MINUTE_MS;
        int64_t enc, at;
        rc = write_encounter(k, &e, &enc, &at);
    }
    /* postpartum: home visit day 3-7, the 42-day check */
    for (int j = 0; j < 2 && rc == RHIS_OK; j++) {
        demo_day d = j == 0 ? D + 3 + (demo_day)demo_rng_below(&r, 5)
                            : D + 42 + (demo_day)demo_rng_below(&r, 4);
        int want = j == 0 ? pnc : demo_rng_bern(&r, 0.9);
        if (!want || !present_on(k, m, d))
            continue;
        const demo_inst *in = j == 0 ? village_clinic(k, m) : township_hc(k, m);
        enc_in e = {m,
                    in,
                    0,
                    doctor(in, &r),
                    j == 0 ? "HH" : "AMB",
                    j == 0 ? "pnc" : "pnc42",
                    0,
                    0,
                    "Z39.2",
                    "产后常规随访",
                    j == 0 ? "产后访视" : "产后42天健康检查"};
        e.start = work_ms(&r, d);
        e.end = e.start + 30 * MINUTE_MS;
        int64_t enc, at;
        rc = write_encounter(k, &e, &enc, &at);
    }
    return rc;
}

/* ---- family-doctor contracts ---- */

enum {
    KG_ELDERLY = 1,
    KG_HTN = 2,
    KG_T2D = 4,
    KG_MATERNAL = 8,
    KG_CHILD = 16,
    KG_DISABLED = 32,
    KG_SMI = 64,
};

static const char *const kg_names[] = {"elderly", "htn",      "t2d", "maternal",
                                       "child",   "disabled", "smi"};

/* Key groups of resident i in year y (what a contract team can know that
 * year: age, registrations in management, an antenatal record). */
static int
key_groups(const care *k, size_t i, int y, int disabled)
{
    const demo_person *p = &k->c->people[i];
    demo_day ye = demo_day_of(y, 12, 31);
    int by = year_of(p->birth), g = 0;
    if (by <= y - 65)
        g |= KG_ELDERLY;
    if (by >= y - 6)
        g |= KG_CHILD;
    if (k->htn_reg[i] <= ye)
        g |= KG_HTN;
    if (k->t2d_reg[i] <= ye)
        g |= KG_T2D;
    if (k->smi_reg[i] <= ye)
        g |= KG_SMI;
    if (y - k->c->year_from < 32 &&
        (k->preg_years[i] >> (y - k->c->year_from) & 1u))
        g |= KG_MATERNAL;
    if (disabled)
        g |= KG_DISABLED;
    return g;
}

/* Disability, drawn once per resident: rarer in children, commoner in
 * the old [K: 2006 national sample survey, 6.34 % of all ages]. */
static int
draw_disabled(const care *k, const demo_person *p, demo_rng *r)
{
    int a = age_on(p, k->c->day_from > p->birth ? k->c->day_from : p->birth);
    double f = a < 15 ? 0.3 : a < 60 ? 0.8 : 2.2;
    return demo_rng_bern(r, clampd(k->r->disabled * f, 0, 1));
}

static rhis_status
insert_contract(care *k,
                const demo_person *p,
                demo_rng *r,
                demo_day start,
                demo_day end,
                int groups)
{
    char kg[96] = "";
    size_t n = 0;
    for (int j = 0; j < 7; j++)
        if (groups & (1 << j)) {
            int w = snprintf(kg + n, sizeof(kg) - n, "%s%s", n > 0 ? "," : "",
                             kg_names[j]);
            if (w > 0 && (size_t)w < sizeof(kg) - n)
                n += (size_t)w;
        }
    const demo_inst *in = village_clinic(k, p);
    int64_t doc = doctor(in, r), t = work_ms(r, start);
    int64_t e = demo_ms(end, 23, 59);
    k->ncontracts++;
    demo_tick(k->c, 1);
    if (e <= t)
        e = t + MINUTE_MS;
    rhis_stmt *st = NULL;
    rhis_status rc =
        doc != 0
            ? rhis_db_query(k->c->db, &st,
                            "INSERT INTO fd_contract (patient_id,"
                            " institution_id, practitioner_id, start_ms,"
                            " end_ms, key_groups, created_ms)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                            "iiiiisi", p->patient_id, in->id, doc, t, e, kg, t)
            : rhis_db_query(k->c->db, &st,
                            "INSERT INTO fd_contract (patient_id,"
                            " institution_id, practitioner_id, start_ms,"
                            " end_ms, key_groups, created_ms)"
                            " VALUES (?, ?, NULL, ?, ?, ?, ?) RETURNING id",
                            "iiiisi", p->patient_id, in->id, t, e, kg, t);
    int64_t id = 0;
    if (rc == RHIS_OK) {
        rc = rhis_db_step(st);
        if (rc == RHIS_ROW) {
            id = rhis_db_column_int64(st, 0);
            rc = RHIS_OK;
        } else if (rc == RHIS_DONE) {
            rc = RHIS_EINTERNAL;
        }
    }
    rhis_db_finalize(st);
    if (rc != RHIS_OK) {
        rhis_log(RHIS_LOG_ERR, "demo: cannot store a contract: %s",
                 rhis_db_errmsg(k->c->db));
        return rc;
    }
    /* the plan's live aggregates (the store does this for FHIR writes) */
    return rhis_agg_inserted(k->c->db, "fd_contract", id);
}

/*
 * Contracts: resident i is signed in year y (present that year) when its
 * fixed uniform draw u < p(y), p = fd_key(y) for key populations and, for
 * the others, the rate that makes the whole population's share fd_all(y)
 * (gen[y]).  One fixed u per resident makes signing years contiguous (a
 * contract renewed every year is one row, a spell) while every year's
 * share is the target.  A spell starts within two months of the first
 * signed year's presence and ends with the last signed year or the day the
 * resident left.
 */
static rhis_status
contracts(care *k, size_t i, const double *gen, const uint8_t *disabled)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    demo_rng r;
    rhis_status rc = RHIS_OK;
    stream(k, &r, "care-fd", i, 0);
    double u = demo_rng_unif(&r);
    demo_day start = DEMO_NEVER, end = 0;
    int groups = 0;
    for (int y = c->year_from; y <= c->year_to && rc == RHIS_OK; y++) {
        demo_day lo, hi;
        int in = present_in(k, p, y, &lo, &hi);
        int g = in ? key_groups(k, i, y, disabled[i]) : 0;
        double pr =
            g != 0 ? demo_care_rate(k->r->fd_key, y) : gen[y - c->year_from];
        int signed_y = in && u < pr;
        if (signed_y && start == DEMO_NEVER) {
            uint32_t span = (uint32_t)(hi - lo + 1);
            start = lo + (demo_day)demo_rng_below(&r, span < 60 ? span : 60);
            groups = g;
        }
        if (signed_y)
            end = hi;
        if ((!signed_y || y == c->year_to) && start != DEMO_NEVER) {
            rc = insert_contract(k, p, &r, start, end, groups);
            start = DEMO_NEVER;
        }
    }
    return rc;
}

/* The general population's signing rate per year such that the whole
 * population's share is fd_all (given fd_key for the key groups). */
static void
contract_rates(care *k, const uint8_t *disabled, double *gen)
{
    demo_ctx *c = k->c;
    for (int y = c->year_from; y <= c->year_to; y++) {
        double n = 0, key = 0;
        for (size_t i = 0; i < c->npeople; i++) {
            demo_day lo, hi;
            if (!present_in(k, &c->people[i], y, &lo, &hi))
                continue;
            n++;
            if (key_groups(k, i, y, disabled[i]) != 0)
                key++;
        }
        double all = demo_care_rate(k->r->fd_all, y);
        double kr = demo_care_rate(k->r->fd_key, y);
        gen[y - c->year_from] =
            n > key ? clampd((all * n - kr * key) / (n - key), 0, 1) : 0;
    }
}

/* Does the contract table exist (migration 5)? */
static int
contract_table(rhis_db *db)
{
    rhis_stmt *st;
    if (rhis_db_query(db, &st, "SELECT 1 FROM fd_contract WHERE 1 = 0", "") !=
        RHIS_OK)
        return 0;
    rhis_db_finalize(st);
    return 1;
}

/* ---- the stage ---- */

static rhis_status
person(care *k, size_t i)
{
    demo_ctx *c = k->c;
    const demo_person *p = &c->people[i];
    static const prog htn = {"care-htn", DEMO_HTN, "htn-fu",
                             "I10.x00",  "高血压", "血压随访",
                             0,          NULL,     NULL};
    static const prog t2d = {"care-t2d", DEMO_T2D,    "t2d-fu",
                             "E11.900",  "2型糖尿病", "血糖随访",
                             0,          NULL,        NULL};
    prog g;
    rhis_status rc = RHIS_OK;
    if (p->patient_id <= 0 || p->in_day > c->day_to || p_end(p) <= c->day_from)
        return RHIS_OK;
    rc = general_visits(k, i);
    if (rc == RHIS_OK && (p->flags & DEMO_HTN)) {
        g = htn;
        g.enrol = k->r->htn_enrol;
        g.std = k->r->htn_std;
        g.ctrl = k->r->htn_ctrl;
        rc = program(k, &g, i, p->htn_onset, &k->htn_reg[i]);
    }
    if (rc == RHIS_OK && (p->flags & DEMO_T2D)) {
        g = t2d;
        g.enrol = k->r->t2d_enrol;
        g.std = k->r->t2d_std;
        g.ctrl = k->r->t2d_ctrl;
        rc = program(k, &g, i, p->t2d_onset, &k->t2d_reg[i]);
    }
    if (rc == RHIS_OK && (p->flags & DEMO_SMI))
        rc = smi(k, i, &k->smi_reg[i]);
    if (rc == RHIS_OK)
        rc = elder_checks(k, i);
    if (rc == RHIS_OK && p->birth > c->day_from - 7 * 365) {
        rc = child_checks(k, i);
        if (rc == RHIS_OK)
            rc = immunizations(k, i);
    }
    return rc;
}

rhis_status
demo_care(demo_ctx *c)
{
    care k;
    memset(&k, 0, sizeof(k));
    k.c = c;
    k.r = demo_care_rates_for(c->county->code);
    k.ckey = (uint64_t)strtoull(c->county->code, NULL, 10);
    k.t_enc = rhis_fhir_type_find("Encounter");
    k.t_cond = rhis_fhir_type_find("Condition");
    k.t_obs = rhis_fhir_type_find("Observation");
    k.t_imm = rhis_fhir_type_find("Immunization");
    if (k.t_enc == NULL || k.t_cond == NULL || k.t_obs == NULL ||
        k.t_imm == NULL || c->year_to - c->year_from >= 32)
        return RHIS_EINVAL;
    size_t n = c->npeople > 0 ? c->npeople : 1;
    k.htn_reg = rhis_xmalloc(n * sizeof(demo_day));
    k.t2d_reg = rhis_xmalloc(n * sizeof(demo_day));
    k.smi_reg = rhis_xmalloc(n * sizeof(demo_day));
    k.preg_years = rhis_xcalloc(n, sizeof(uint32_t));
    uint8_t *disabled = rhis_xcalloc(n, 1);
    for (size_t i = 0; i < c->npeople; i++)
        k.htn_reg[i] = k.t2d_reg[i] = k.smi_reg[i] = DEMO_NEVER;
    for (int t = 0; t < c->county->ntownships && t < 64; t++) {
        demo_rng r;
        stream(&k, &r, "care-imm-twp", (uint64_t)t, 0);
        k.imm_twp[t] =
            clampd(k.r->imm - 0.025 + 0.04 * demo_rng_unif(&r), 0, 0.995);
    }
    for (int t = c->county->ntownships; t < 64; t++)
        k.imm_twp[t] = k.r->imm;
    k.have_contracts = contract_table(c->db);

    rhis_status rc = RHIS_OK;
    for (size_t i = 0; i < c->npeople && rc == RHIS_OK; i++)
        rc = person(&k, i);
    for (size_t b = 0; b < c->nbirths && rc == RHIS_OK; b++)
        rc = maternal(&k, &c->births[b]);
    if (rc == RHIS_OK && k.have_contracts) {
        for (size_t i = 0; i < c->npeople; i++) {
            demo_rng r;
            stream(&k, &r, "care-disabled", i, 0);
            disabled[i] = (uint8_t)draw_disabled(&k, &c->people[i], &r);
        }
        double gen[32];
        contract_rates(&k, disabled, gen);
        for (size_t i = 0; i < c->npeople && rc == RHIS_OK; i++) {
            const demo_person *p = &c->people[i];
            if (p->patient_id > 0)
                rc = contracts(&k, i, gen, disabled);
        }
    } else if (rc == RHIS_OK) {
        rhis_log(RHIS_LOG_WARN, "demo: no fd_contract table, contracts "
                                "skipped");
    }
    rhis_free(k.htn_reg);
    rhis_free(k.t2d_reg);
    rhis_free(k.smi_reg);
    rhis_free(k.preg_years);
    rhis_free(disabled);
    return rc;
}
