/*
 * observation.c - FHIR Observation: vital signs (blood pressure with its
 * systolic and diastolic components, heart rate, weight, height, BMI,
 * temperature ...), glucose and other laboratory results, as typed rows of
 * observation and observation_component; and the LOINC table RHIS knows.
 *
 * Why: chronic-disease follow-up, the vitals chart and the indicators read
 * numbers by LOINC code from columns, while integrators send and read back
 * FHIR.  The decimal a lab sent is kept exactly as written ("0.10" stays
 * "0.10"): value_text holds the JSON text, value_num the number for
 * arithmetic, and the served JSON is the received JSON.
 *
 * The LOINC table (data/loinc-rhis.csv: code, kind, Chinese and English
 * names, allowed UCUM units) is read once, on first use, from the data
 * directory; a code in it must carry one of its units.
 */

#include "ehr_int.h"
#include "rhis/handlers.h"

#define LOINC_BP       "85354-9"
#define LOINC_SYSTOLIC "8480-6"
#define LOINC_DIASTOL  "8462-4"

/* ---- reference tables ---- */

const char *
rhis_ehr_data_dir(const rhis_fhir_ctx *c)
{
    if (c->req != NULL && c->req->conf != NULL &&
        c->req->conf->data_dir[0] != '\0')
        return c->req->conf->data_dir;
    const char *env = getenv("RHIS_DATA_DIR");
    return env != NULL && env[0] != '\0' ? env : "data";
}

int
rhis_ehr_loinc_valid(const char *code)
{
    /* LOINC: 1-7 digits, '-', a mod-10 (Luhn) check digit */
    size_t n = strspn(code, "0123456789");
    if (n == 0 || n > 7 || code[n] != '-' || code[n + 1] < '0' ||
        code[n + 1] > '9' || code[n + 2] != '\0')
        return 0;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = code[n - 1 - i] - '0';
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10 == code[n + 1] - '0';
}

static int
fill_loinc(void *row, char **f, rhis_arena *a)
{
    static const char *const kinds[] = {"panel", "vital", "lab", "document",
                                        NULL};
    ehr_loinc *l = row;
    if (!rhis_ehr_loinc_valid(f[0]) || !ehr_in(f[1], kinds) ||
        f[2][0] == '\0' || f[3][0] == '\0')
        return 0;
    l->code = rhis_arena_strdup(a, f[0]);
    l->kind = rhis_arena_strdup(a, f[1]);
    l->name_zh = rhis_arena_strdup(a, f[2]);
    l->name_en = rhis_arena_strdup(a, f[3]);
    l->units = rhis_arena_strdup(a, f[4]);
    return 1;
}

static ehr_reftable loinc = {
    .file = "loinc-rhis.csv",
    .what = "LOINC",
    .header = "code,kind,name_zh,name_en,units,source",
    .ncols = 6,
    .rowsize = sizeof(ehr_loinc),
    .fill = fill_loinc,
    .row_rule = "code with check digit, kind panel/vital/lab/document, "
                "both names",
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

rhis_status
rhis_ehr_loinc_find(rhis_fhir_ctx *c, const char *code, const ehr_loinc **out)
{
    const void *row;
    rhis_status rc = rhis_ehr_reftable_find(c, &loinc, code, &row);
    *out = row;
    return rc;
}

/* ---- validation ---- */

static const char *const obs_status[] = {
    "registered", "preliminary",      "final",   "amended", "corrected",
    "cancelled",  "entered-in-error", "unknown", NULL};
static const char *const obs_category[] = {
    "social-history", "vital-signs", "imaging", "laboratory", "procedure",
    "survey",         "exam",        "therapy", "activity",   NULL};
static const char *const obs_interp[] = {"N",  "A",   "AA",  "H",   "HH",
                                         "HU", "L",   "LL",  "LU",  "<",
                                         ">",  "POS", "NEG", "IND", NULL};

static const ehr_elem range_elems[] = {
    {"low", EK_SIMPLEQTY, 0, NULL, NULL},
    {"high", EK_SIMPLEQTY, 0, NULL, NULL},
    {"type", EK_CC, 0, NULL, NULL},
    {"text", EK_STRING, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem component_elems[] = {
    {"code", EK_CC, EF_REQ, NULL, NULL},
    {"valueQuantity", EK_QUANTITY, 0, NULL, "value"},
    {"valueString", EK_STRING, 0, NULL, "value"},
    {"valueCodeableConcept", EK_CC, 0, NULL, "value"},
    {"dataAbsentReason", EK_CC, 0, NULL, NULL},
    {"interpretation", EK_CC, EF_ARRAY, NULL, NULL},
    {"referenceRange", EK_BACKBONE, EF_ARRAY, range_elems, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem obs_elems[] = {
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"category", EK_CC, EF_ARRAY, NULL, NULL},
    {"code", EK_CC, EF_REQ, NULL, NULL},
    {"subject", EK_REF, EF_REQ, NULL, NULL},
    {"encounter", EK_REF, 0, NULL, NULL},
    {"effectiveDateTime", EK_DATETIME, 0, NULL, "effective"},
    {"issued", EK_INSTANT, 0, NULL, NULL},
    {"performer", EK_REF, EF_ARRAY, NULL, NULL},
    {"valueQuantity", EK_QUANTITY, 0, NULL, "value"},
    {"valueString", EK_STRING, 0, NULL, "value"},
    {"valueCodeableConcept", EK_CC, 0, NULL, "value"},
    {"dataAbsentReason", EK_CC, 0, NULL, NULL},
    {"interpretation", EK_CC, EF_ARRAY, NULL, NULL},
    {"note", EK_ANNOTATION, EF_ARRAY, NULL, NULL},
    {"bodySite", EK_CC, 0, NULL, NULL},
    {"method", EK_CC, 0, NULL, NULL},
    {"referenceRange", EK_BACKBONE, EF_ARRAY, range_elems, NULL},
    {"component", EK_BACKBONE, EF_ARRAY, component_elems, NULL},
    {NULL, 0, 0, NULL, NULL},
};

/* The code and value of an Observation or one of its components. */
typedef struct obs_part {
    const char *system, *code;
    const ehr_loinc *known;
    int has_value;  /* any value[x] */
    int has_absent; /* dataAbsentReason */
    int has_num;
    double num;
    const char *text; /* exact JSON text of a decimal, or string/code */
    const char *unit;
    const char *interp;
    char path[EHR_PATH]; /* of the value, for errors about it */
} obs_part;

/*
 * Reads CodeableConcept cc (at path): the LOINC coding if there is one
 * (well-formed, and named in Chinese and English when the table knows it),
 * else the first coding with a system and a code.
 */
static rhis_status
read_code(rhis_fhir_ctx *c, json_object *cc, const char *path, obs_part *o)
{
    char p[EHR_PATH];
    size_t i = 0;
    json_object *cd = ehr_coding(cc, RHIS_SYS_LOINC, &i);
    if (cd != NULL) {
        char q[EHR_PATH], r[EHR_PATH];
        const char *code = rhis_json_get_str(cd, "code");
        ehr_sub(r, ehr_idx(q, ehr_sub(p, path, "coding"), i), "code");
        if (code == NULL || !rhis_ehr_loinc_valid(code))
            return rhis_fhir_fail(c, RHIS_EINVAL, r,
                                  "%s '%.20s' is not a LOINC code (digits, "
                                  "'-', check digit)",
                                  r, code != NULL ? code : "");
        if (rhis_ehr_loinc_find(c, code, &o->known) != RHIS_OK)
            return c->err_status;
        if (o->known != NULL && strcmp(o->known->kind, "document") == 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, r,
                                  "%s %s is a document type, not an "
                                  "observation",
                                  r, code);
        if (o->known != NULL && rhis_json_get(cd, "display") == NULL)
            json_object_object_add(cd, "display",
                                   json_object_new_string(o->known->name_en));
        if (o->known != NULL && rhis_json_get(cc, "text") == NULL)
            json_object_object_add(cc, "text",
                                   json_object_new_string(o->known->name_zh));
        o->system = RHIS_SYS_LOINC;
        o->code = code;
        return RHIS_OK;
    }
    for (i = 0; i < ehr_count(cc, "coding"); i++) {
        cd = ehr_item(cc, "coding", i);
        if (rhis_json_get_str(cd, "system") != NULL &&
            rhis_json_get_str(cd, "code") != NULL) {
            o->system = rhis_json_get_str(cd, "system");
            o->code = rhis_json_get_str(cd, "code");
            return RHIS_OK;
        }
    }
    return rhis_fhir_fail(
        c, RHIS_EINVAL, ehr_sub(p, path, "coding"),
        "%s needs a coding with system and code (LOINC, " RHIS_SYS_LOINC
        ", where one fits)",
        path);
}

/* Is unit one of the space-separated UCUM codes in list? */
static int
unit_in(const char *unit, const char *list)
{
    size_t n = strlen(unit);
    for (const char *p = list; *p != '\0';) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, unit, n) == 0)
            return 1;
        p += k;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static rhis_status
read_quantity(rhis_fhir_ctx *c, json_object *q, const char *path, obs_part *o)
{
    char p[EHR_PATH];
    json_object *v = rhis_json_get(q, "value");
    if (v == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, path, "value"),
                              "%s.value is required", path);
    o->has_num = 1;
    o->num = json_object_get_double(v);
    /* json-c prints a parsed number as it was written: "0.10", "120.0" */
    o->text = rhis_arena_strdup(
        c->arena, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    const char *sys = rhis_json_get_str(q, "system");
    const char *code = rhis_json_get_str(q, "code");
    o->unit = code != NULL ? code : rhis_json_get_str(q, "unit");
    if (o->known == NULL || o->known->units[0] == '\0')
        return RHIS_OK;
    if (sys == NULL || strcmp(sys, RHIS_SYS_UCUM) != 0 || code == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL,
                              ehr_sub(p, path, sys == NULL ? "system" : "code"),
                              "%s of LOINC %s needs system " RHIS_SYS_UCUM
                              " and a UCUM code (%s)",
                              path, o->known->code, o->known->units);
    if (!unit_in(code, o->known->units))
        return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, path, "code"),
                              "%s.code '%.20s' is not a unit of LOINC %s "
                              "(%s): use %s",
                              path, code, o->known->code, o->known->name_zh,
                              o->known->units);
    return RHIS_OK;
}

/* Reads value[x], dataAbsentReason, interpretation and referenceRange of o
 * (the Observation or a component at path). */
static rhis_status
read_value(rhis_fhir_ctx *c, json_object *obj, const char *path, obs_part *o)
{
    char p[EHR_PATH], q[EHR_PATH];
    json_object *v;
    if ((v = rhis_json_get(obj, "valueQuantity")) != NULL) {
        o->has_value = 1;
        ehr_sub(o->path, path, "valueQuantity");
        if (read_quantity(c, v, o->path, o) != RHIS_OK)
            return c->err_status;
        ehr_sub(o->path, path, "valueQuantity.value");
    } else if ((v = rhis_json_get(obj, "valueString")) != NULL) {
        o->has_value = 1;
        o->text = json_object_get_string(v);
        ehr_sub(o->path, path, "valueString");
    } else if ((v = rhis_json_get(obj, "valueCodeableConcept")) != NULL) {
        o->has_value = 1;
        json_object *cd = ehr_item(v, "coding", 0);
        o->text = cd != NULL ? rhis_json_get_str(cd, "code")
                             : rhis_json_get_str(v, "text");
        ehr_sub(o->path, path, "valueCodeableConcept");
    } else {
        ehr_sub(o->path, path, "value[x]");
    }
    o->has_absent = rhis_json_get(obj, "dataAbsentReason") != NULL;
    if (o->has_value && o->has_absent)
        return rhis_fhir_fail(c, RHIS_EINVAL,
                              ehr_sub(p, path, "dataAbsentReason"),
                              "%s.dataAbsentReason is only for a missing "
                              "value, and %s has one",
                              path, path); /* obs-6 */
    for (size_t i = 0; i < ehr_count(obj, "interpretation"); i++) {
        json_object *cc = ehr_item(obj, "interpretation", i);
        size_t k = 0;
        json_object *cd = ehr_coding(cc, EHR_SYS_INTERPRETATION, &k);
        if (cd == NULL)
            continue;
        const char *code = rhis_json_get_str(cd, "code");
        ehr_idx(q, ehr_sub(p, path, "interpretation"), i);
        if (code == NULL || !ehr_in(code, obs_interp)) {
            char r[EHR_PATH];
            ehr_idx(r, ehr_sub(p, q, "coding"), k);
            return ehr_fail_list(c, ehr_sub(q, r, "code"), code, obs_interp);
        }
        if (o->interp == NULL)
            o->interp = code;
    }
    for (size_t i = 0; i < ehr_count(obj, "referenceRange"); i++) {
        json_object *rr = ehr_item(obj, "referenceRange", i);
        json_object *lo = rhis_json_get(rhis_json_get(rr, "low"), "value");
        json_object *hi = rhis_json_get(rhis_json_get(rr, "high"), "value");
        ehr_idx(q, ehr_sub(p, path, "referenceRange"), i);
        if (lo == NULL && hi == NULL && rhis_json_get(rr, "text") == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, q,
                                  "%s needs low, high or text", q); /* obs-3 */
        if (lo != NULL && hi != NULL &&
            json_object_get_double(lo) > json_object_get_double(hi))
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, q, "high.value"),
                                  "%s.high is below %s.low", q, q);
    }
    return RHIS_OK;
}

/* The blood pressure panel needs both components with a value each, and
 * the diastolic below the systolic. */
static rhis_status
check_bp(rhis_fhir_ctx *c, const obs_part *comp, size_t n)
{
    const obs_part *sys = NULL, *dia = NULL;
    for (size_t i = 0; i < n; i++) {
        if (comp[i].system == NULL ||
            strcmp(comp[i].system, RHIS_SYS_LOINC) != 0)
            continue;
        if (strcmp(comp[i].code, LOINC_SYSTOLIC) == 0)
            sys = &comp[i];
        else if (strcmp(comp[i].code, LOINC_DIASTOL) == 0)
            dia = &comp[i];
    }
    if (sys == NULL || dia == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Observation.component",
                              "a blood pressure panel (LOINC " LOINC_BP
                              ") needs a systolic (" LOINC_SYSTOLIC
                              ") and a diastolic (" LOINC_DIASTOL
                              ") component; %s is missing",
                              sys == NULL ? LOINC_SYSTOLIC : LOINC_DIASTOL);
    for (int k = 0; k < 2; k++) {
        const obs_part *x = k == 0 ? sys : dia;
        if (!x->has_num && (x->has_value || !x->has_absent))
            return rhis_fhir_fail(c, RHIS_EINVAL, x->path,
                                  "%s: blood pressure takes a valueQuantity "
                                  "(or a dataAbsentReason)",
                                  x->path);
    }
    if (sys->has_num && dia->has_num && dia->num >= sys->num)
        return rhis_fhir_fail(c, RHIS_EINVAL, dia->path,
                              "%s: the diastolic pressure (%s) must be below "
                              "the systolic (%s)",
                              dia->path, dia->text, sys->text);
    return RHIS_OK;
}

typedef struct obs_row {
    int64_t pid, encounter, inst;
    const char *status, *category;
    int64_t effective;
    obs_part main;
    obs_part *comp;
    size_t ncomp;
} obs_row;

static rhis_status
read_components(rhis_fhir_ctx *c, json_object *res, obs_row *r)
{
    char p[EHR_PATH], q[EHR_PATH];
    r->ncomp = ehr_count(res, "component");
    r->comp = rhis_arena_calloc(c->arena, (r->ncomp + 1) * sizeof(obs_part));
    for (size_t i = 0; i < r->ncomp; i++) {
        json_object *cm = ehr_item(res, "component", i);
        obs_part *o = &r->comp[i];
        ehr_idx(p, "Observation.component", i);
        if (read_code(c, rhis_json_get(cm, "code"), ehr_sub(q, p, "code"), o) !=
                RHIS_OK ||
            read_value(c, cm, p, o) != RHIS_OK)
            return c->err_status;
        for (size_t j = 0; j < i; j++)
            /* one row per code (observation_component's key) */
            if (strcmp(r->comp[j].code, o->code) == 0)
                return rhis_fhir_fail(c, RHIS_EINVAL, q,
                                      "%s repeats the code of "
                                      "Observation.component[%zu] (%s)",
                                      q, j, o->code);
        if (strcmp(o->code, r->main.code) == 0 && r->main.has_value)
            return rhis_fhir_fail(c, RHIS_EINVAL, q,
                                  "%s equals Observation.code, which has a "
                                  "value of its own",
                                  q); /* obs-7 */
    }
    if (r->main.known != NULL && strcmp(r->main.code, LOINC_BP) == 0) {
        if (r->main.has_value)
            return rhis_fhir_fail(c, RHIS_EINVAL, r->main.path,
                                  "%s: a blood pressure panel carries its "
                                  "values in Observation.component",
                                  r->main.path);
        return check_bp(c, r->comp, r->ncomp);
    }
    return RHIS_OK;
}

/* Status, category, subject, encounter, times and performers. */
static rhis_status
read_context(rhis_fhir_ctx *c, json_object *res, obs_row *r)
{
    char p[EHR_PATH], q[EHR_PATH];
    if (ehr_code_in(c, res, "status", "Observation", obs_status, &r->status) !=
        RHIS_OK)
        return c->err_status;
    for (size_t i = 0; i < ehr_count(res, "category"); i++) {
        json_object *cc = ehr_item(res, "category", i);
        const char *code;
        if (ehr_coding(cc, EHR_SYS_OBS_CATEGORY, NULL) == NULL)
            continue;
        ehr_idx(p, "Observation.category", i);
        if (ehr_cc_in(c, cc, EHR_SYS_OBS_CATEGORY, p, obs_category, &code) !=
            RHIS_OK)
            return c->err_status;
        if (r->category == NULL)
            r->category = code;
    }
    if (rhis_fhir_ref(c, rhis_json_get(res, "subject"), "Patient",
                      "Observation.subject", &r->pid) != RHIS_OK)
        return c->err_status;
    json_object *enc = rhis_json_get(res, "encounter");
    if (enc != NULL &&
        ehr_encounter_ref(c, enc, "Observation.encounter", r->pid,
                          &r->encounter, &r->inst) != RHIS_OK)
        return c->err_status;
    int64_t lo = 0, hi = 0, ilo, ihi, birth;
    int known = 0;
    r->effective = EHR_NONE;
    if (ehr_time(res, "effectiveDateTime", &lo, &hi)) {
        if (ehr_not_future(c, lo, "Observation.effectiveDateTime") != RHIS_OK)
            return c->err_status;
        if (ehr_patient_birth(c, r->pid, &birth, &known) != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read the patient");
        if (known && hi <= birth - 86400000LL)
            return rhis_fhir_fail(c, RHIS_EINVAL,
                                  "Observation.effectiveDateTime",
                                  "Observation.effectiveDateTime is before "
                                  "the patient's birth");
        r->effective = lo;
    }
    if (ehr_time(res, "issued", &ilo, &ihi)) {
        if (ehr_not_future(c, ilo, "Observation.issued") != RHIS_OK)
            return c->err_status;
        if (r->effective != EHR_NONE && ihi <= lo)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Observation.issued",
                                  "Observation.issued is before "
                                  "Observation.effectiveDateTime");
    }
    static const char *const perf[] = {"Organization", "Practitioner", NULL};
    int64_t perf_inst = 0;
    for (size_t i = 0; i < ehr_count(res, "performer"); i++) {
        char type[32];
        int64_t id = 0;
        ehr_idx(q, "Observation.performer", i);
        if (ehr_ref_any(c, ehr_item(res, "performer", i), perf, q, type, &id) !=
            RHIS_OK)
            return c->err_status;
        if (strcmp(type, "Organization") == 0 && perf_inst == 0)
            perf_inst = id; /* the first performing organisation */
    }
    if (perf_inst != 0)
        r->inst = perf_inst; /* else the encounter's institution */
    return RHIS_OK;
}

static rhis_status
write_rows(rhis_fhir_ctx *c, obs_row *r, int64_t *id, int64_t version)
{
    ehr_val v[] = {
        ehr_i(version),
        ehr_i(c->now_ms),
        ehr_i(r->pid),
        ehr_i(r->encounter != 0 ? r->encounter : EHR_NONE),
        ehr_s(r->status),
        ehr_s(r->category),
        ehr_s(r->main.code),
        ehr_s(r->main.system),
        ehr_d(r->main.num, r->main.has_num),
        ehr_s(r->main.text),
        ehr_s(r->main.unit),
        ehr_s(r->main.interp),
        ehr_i(r->effective),
        ehr_i(ehr_inst_or_caller(c, r->inst)),
    };
    int update = *id != 0;
    rhis_status rc = ehr_write_row(
        c,
        "INSERT INTO observation (version, deleted, updated_ms, patient_id,"
        " encounter_id, status, category, code, code_system, value_num,"
        " value_text, unit, interpretation, effective_ms, institution_id)"
        " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        "UPDATE observation SET version = ?, deleted = 0, updated_ms = ?,"
        " patient_id = ?, encounter_id = ?, status = ?, category = ?,"
        " code = ?, code_system = ?, value_num = ?, value_text = ?,"
        " unit = ?, interpretation = ?, effective_ms = ?,"
        " institution_id = ? WHERE id = ?",
        v, (int)(sizeof(v) / sizeof(v[0])), id, "Observation");
    if (rc != RHIS_OK)
        return rc;
    if (update)
        rc = rhis_db_run(c->db,
                         "DELETE FROM observation_component"
                         " WHERE observation_id = ?",
                         "i", *id);
    for (size_t i = 0; rc == RHIS_OK && i < r->ncomp; i++) {
        const obs_part *o = &r->comp[i];
        ehr_val cv[] = {ehr_i(*id),       ehr_s(o->code),
                        ehr_s(o->system), ehr_d(o->num, o->has_num),
                        ehr_s(o->text),   ehr_s(o->unit)};
        rhis_stmt *st = NULL;
        rc = rhis_db_prepare(c->db,
                             "INSERT INTO observation_component"
                             " (observation_id, code, code_system, value_num,"
                             " value_text, unit) VALUES (?, ?, ?, ?, ?, ?)",
                             &st);
        for (int k = 0; rc == RHIS_OK && k < 6; k++)
            rc = ehr_bind(st, k + 1, &cv[k]);
        if (rc == RHIS_OK)
            rc = rhis_db_step(st) == RHIS_DONE ? RHIS_OK : RHIS_EIO;
        rhis_db_finalize(st);
    }
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL,
                              "cannot store the Observation components");
    return RHIS_OK;
}

static rhis_status
obs_store(rhis_fhir_ctx *c,
          json_object *res,
          int64_t *id,
          int64_t version,
          int64_t *patient_id)
{
    obs_row r;
    memset(&r, 0, sizeof(r));
    if (ehr_check_resource(c, res, "Observation", obs_elems) != RHIS_OK ||
        read_context(c, res, &r) != RHIS_OK ||
        read_code(c, rhis_json_get(res, "code"), "Observation.code", &r.main) !=
            RHIS_OK ||
        read_value(c, res, "Observation", &r.main) != RHIS_OK ||
        read_components(c, res, &r) != RHIS_OK)
        return c->err_status;
    if (write_rows(c, &r, id, version) != RHIS_OK)
        return c->err_status;
    *patient_id = r.pid;
    return RHIS_OK;
}

/* ---- the type ---- */

static const rhis_fhir_param obs_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"subject", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"encounter", RHIS_P_REF, "t.encounter_id", NULL, "Encounter", NULL, NULL,
     NULL},
    {"code", RHIS_P_TOKEN, "t.code", "t.code_system", NULL, NULL, NULL,
     "t.code"},
    {"component-code", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "EXISTS (SELECT 1 FROM observation_component oc"
     " WHERE oc.observation_id = t.id AND oc.code = ?)",
     "EXISTS (SELECT 1 FROM observation_component oc"
     " WHERE oc.observation_id = t.id AND oc.code_system = ?"
     " AND oc.code = ?)",
     NULL},
    {"category", RHIS_P_CUSTOM, NULL, NULL, NULL, "t.category = ?",
     "(CAST(? AS TEXT) = '" EHR_SYS_OBS_CATEGORY "' AND t.category = ?)", NULL},
    {"status", RHIS_P_TOKEN, "t.status", NULL, NULL, NULL, NULL, NULL},
    {"date", RHIS_P_DATE, "t.effective_ms", NULL, NULL, NULL, NULL,
     "t.effective_ms"},
    {"performer", RHIS_P_REF, "t.institution_id", NULL, "Organization", NULL,
     NULL, NULL},
};

const rhis_fhir_type rhis_type_observation = {
    "Observation",
    "observation",
    "t.patient_id",
    "observation t",
    "observation t JOIN fhir_version v ON v.type = 'Observation'"
    " AND v.id = t.id AND v.version = t.version",
    "UPDATE observation SET deleted = 1, version = ?, updated_ms = ?"
    " WHERE id = ?",
    obs_params,
    (int)(sizeof(obs_params) / sizeof(obs_params[0])),
    obs_store,
    NULL,
    EHR_READ_ROLES,
    EHR_WRITE_ROLES,
};

EHR_HANDLERS(observation, rhis_type_observation)
