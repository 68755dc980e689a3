/*
 * immunization.c - FHIR Immunization: a vaccination of the national
 * immunisation programme (国家免疫规划) or another vaccine coded in CVX,
 * as a typed row of immunization; and the programme's vaccine table.
 *
 * Why: coverage indicators count doses by vaccine, dose number, area and
 * month, and the child's vaccination card must be right: a dose is given
 * after birth, not in the future, from a lot that had not expired, and
 * its dose number fits the programme's schedule.
 *
 * The vaccine table (data/vaccines-cn.csv: code, Chinese and English name,
 * doses in the schedule) follows 国家免疫规划疫苗儿童免疫程序及说明（2021年
 * 版） and its abbreviations (HepB, BCG, IPV, bOPV, DTaP, DT, MMR, JE-L,
 * JE-I, MPSV-A, MPSV-AC, HepA-L, HepA-I); it is read once, on first use.
 */
#include "ehr_int.h"
#include "rhis/csv.h"
#include "rhis/handlers.h"

/* ---- the vaccine table ---- */

static int
fill_vaccine(void *row, char **f, rhis_arena *a)
{
    ehr_vaccine *v = row;
    int doses = rhis_parse_int(f[3]);
    if (f[0][0] == '\0' || !ehr_is_code(f[0]) || f[1][0] == '\0' || doses < 1 ||
        doses > 10)
        return 0;
    v->code = rhis_arena_strdup(a, f[0]);
    v->name_zh = rhis_arena_strdup(a, f[1]);
    v->name_en = rhis_arena_strdup(a, f[2]);
    v->doses = doses;
    return 1;
}

static ehr_reftable vaccines = {
    .file = "vaccines-cn.csv",
    .what = "vaccine",
    .header = "code,name_zh,name_en,doses",
    .ncols = 4,
    .rowsize = sizeof(ehr_vaccine),
    .fill = fill_vaccine,
    .row_rule = "code, names, doses 1-10",
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

rhis_status
rhis_ehr_vaccine_find(rhis_fhir_ctx *c,
                      const char *code,
                      const ehr_vaccine **out)
{
    const void *row;
    rhis_status rc = rhis_ehr_reftable_find(c, &vaccines, code, &row);
    *out = row;
    return rc;
}

/* ---- validation ---- */

static const char *const imm_status[] = {"completed", "entered-in-error",
                                         "not-done", NULL};

static const ehr_elem performer_elems[] = {
    {"function", EK_CC, 0, NULL, NULL},
    {"actor", EK_REF, EF_REQ, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem protocol_elems[] = {
    {"series", EK_STRING, 0, NULL, NULL},
    {"targetDisease", EK_CC, EF_ARRAY, NULL, NULL},
    {"doseNumberPositiveInt", EK_POSINT, 0, NULL, "doseNumber"},
    {"doseNumberString", EK_STRING, 0, NULL, "doseNumber"},
    {"seriesDosesPositiveInt", EK_POSINT, 0, NULL, "seriesDoses"},
    {"seriesDosesString", EK_STRING, 0, NULL, "seriesDoses"},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem imm_elems[] = {
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"statusReason", EK_CC, 0, NULL, NULL},
    {"vaccineCode", EK_CC, EF_REQ, NULL, NULL},
    {"patient", EK_REF, EF_REQ, NULL, NULL},
    {"encounter", EK_REF, 0, NULL, NULL},
    {"occurrenceDateTime", EK_DATETIME, EF_REQ, NULL, "occurrence"},
    {"recorded", EK_DATETIME, 0, NULL, NULL},
    {"primarySource", EK_BOOL, 0, NULL, NULL},
    {"lotNumber", EK_STRING, 0, NULL, NULL},
    {"expirationDate", EK_DATE, 0, NULL, NULL},
    {"site", EK_CC, 0, NULL, NULL},
    {"route", EK_CC, 0, NULL, NULL},
    {"doseQuantity", EK_SIMPLEQTY, 0, NULL, NULL},
    {"performer", EK_BACKBONE, EF_ARRAY, performer_elems, NULL},
    {"note", EK_ANNOTATION, EF_ARRAY, NULL, NULL},
    {"reasonCode", EK_CC, EF_ARRAY, NULL, NULL},
    {"isSubpotent", EK_BOOL, 0, NULL, NULL},
    {"protocolApplied", EK_BACKBONE, EF_ARRAY, protocol_elems, NULL},
    {NULL, 0, 0, NULL, NULL},
};

typedef struct imm_row {
    int64_t pid, encounter, inst, occurrence, dose;
    const char *status, *system, *code, *lot;
    const ehr_vaccine *known;
} imm_row;

/* vaccineCode: a programme vaccine (named when the text is missing) or a
 * CVX code. */
static rhis_status
read_vaccine(rhis_fhir_ctx *c, json_object *res, imm_row *r)
{
    char p[EHR_PATH];
    json_object *cc = rhis_json_get(res, "vaccineCode");
    size_t i = 0;
    json_object *cd = ehr_coding(cc, RHIS_SYS_VACCINE_CN, &i);
    if (cd != NULL) {
        (void)snprintf(p, sizeof(p),
                       "Immunization.vaccineCode.coding[%zu].code", i);
        r->code = rhis_json_get_str(cd, "code");
        if (rhis_ehr_vaccine_find(c, r->code, &r->known) != RHIS_OK)
            return c->err_status;
        if (r->known == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s '%.20s' is not a vaccine of the national "
                                  "immunisation programme (HepB, BCG, IPV, "
                                  "bOPV, DTaP, DT, MMR, JE-L, JE-I, MPSV-A, "
                                  "MPSV-AC, HepA-L, HepA-I)",
                                  p, r->code != NULL ? r->code : "");
        r->system = RHIS_SYS_VACCINE_CN;
        if (rhis_json_get(cd, "display") == NULL)
            json_object_object_add(cd, "display",
                                   json_object_new_string(r->known->name_zh));
        if (rhis_json_get(cc, "text") == NULL)
            json_object_object_add(cc, "text",
                                   json_object_new_string(r->known->name_zh));
        return RHIS_OK;
    }
    cd = ehr_coding(cc, RHIS_SYS_CVX, &i);
    if (cd != NULL) {
        (void)snprintf(p, sizeof(p),
                       "Immunization.vaccineCode.coding[%zu].code", i);
        r->code = rhis_json_get_str(cd, "code");
        size_t n = r->code != NULL ? strlen(r->code) : 0;
        if (n == 0 || n > 3 || strspn(r->code, "0123456789") != n)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s '%.20s' is not a CVX code (1-3 digits)",
                                  p, r->code != NULL ? r->code : "");
        r->system = RHIS_SYS_CVX;
        return RHIS_OK;
    }
    return rhis_fhir_fail(
        c, RHIS_EINVAL, "Immunization.vaccineCode.coding",
        "Immunization.vaccineCode needs a coding of system " RHIS_SYS_VACCINE_CN
        " (national programme: HepB, "
        "BCG ...) or " RHIS_SYS_CVX);
}

/* occurrence: after birth, not in the future; recorded after it; the lot
 * not expired when given. */
static rhis_status
read_dates(rhis_fhir_ctx *c, json_object *res, imm_row *r)
{
    int64_t lo = 0, hi = 0, xlo, xhi, birth;
    int known = 0;
    if (!ehr_time(res, "occurrenceDateTime", &lo, &hi))
        return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.occurrenceDateTime",
                              "Immunization.occurrenceDateTime is required");
    if (ehr_not_future(c, lo, "Immunization.occurrenceDateTime") != RHIS_OK)
        return c->err_status;
    if (ehr_patient_birth(c, r->pid, &birth, &known) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read the patient");
    /* birth_ms is the birth date's UTC midnight; a day of slack covers
     * a dose on the day of birth given in a zone east of UTC */
    if (known && hi <= birth - 86400000LL)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.occurrenceDateTime",
                              "Immunization.occurrenceDateTime is before the "
                              "patient's birth");
    r->occurrence = lo;
    if (ehr_time(res, "recorded", &xlo, &xhi)) {
        if (ehr_not_future(c, xlo, "Immunization.recorded") != RHIS_OK)
            return c->err_status;
        if (xhi <= lo)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.recorded",
                                  "Immunization.recorded is before "
                                  "Immunization.occurrenceDateTime");
    }
    const char *exp = rhis_json_get_str(res, "expirationDate");
    if (exp != NULL && ehr_parse_time(exp, EK_DATE, &xlo, &xhi) &&
        strcmp(r->status, "completed") == 0 && xhi <= lo)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.expirationDate",
                              "the lot expired (%s) before the vaccination",
                              exp);
    return RHIS_OK;
}

static rhis_status
read_protocol(rhis_fhir_ctx *c, json_object *res, imm_row *r)
{
    char p[EHR_PATH], q[EHR_PATH];
    r->dose = EHR_NONE;
    for (size_t i = 0; i < ehr_count(res, "protocolApplied"); i++) {
        json_object *pa = ehr_item(res, "protocolApplied", i);
        json_object *dn = rhis_json_get(pa, "doseNumberPositiveInt");
        json_object *sd = rhis_json_get(pa, "seriesDosesPositiveInt");
        ehr_idx(p, "Immunization.protocolApplied", i);
        if (dn == NULL && rhis_json_get(pa, "doseNumberString") == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL,
                                  ehr_sub(q, p, "doseNumberPositiveInt"),
                                  "%s.doseNumber[x] is required", p);
        if (dn == NULL)
            continue;
        int64_t d = json_object_get_int64(dn);
        ehr_sub(q, p, "doseNumberPositiveInt");
        if (sd != NULL && d > json_object_get_int64(sd))
            return rhis_fhir_fail(c, RHIS_EINVAL, q,
                                  "%s (%lld) exceeds %s.seriesDosesPositiveInt",
                                  q, (long long)d, p);
        if (r->known != NULL && d > r->known->doses)
            return rhis_fhir_fail(
                c, RHIS_EINVAL, q,
                "%s: the programme schedules %d dose%s of "
                "%s (%s), not %lld",
                q, r->known->doses, r->known->doses > 1 ? "s" : "",
                r->known->code, r->known->name_zh, (long long)d);
        if (r->dose == EHR_NONE)
            r->dose = d;
    }
    return RHIS_OK;
}

static rhis_status
read_performers(rhis_fhir_ctx *c, json_object *res, imm_row *r)
{
    static const char *const who[] = {"Organization", "Practitioner", NULL};
    char p[EHR_PATH], q[EHR_PATH], type[32];
    int64_t id = 0, inst = 0;
    for (size_t i = 0; i < ehr_count(res, "performer"); i++) {
        json_object *pf = ehr_item(res, "performer", i);
        ehr_sub(q, ehr_idx(p, "Immunization.performer", i), "actor");
        if (ehr_ref_any(c, rhis_json_get(pf, "actor"), who, q, type, &id) !=
            RHIS_OK)
            return c->err_status;
        if (strcmp(type, "Organization") == 0 && inst == 0)
            inst = id;
    }
    if (inst != 0)
        r->inst = inst; /* else the encounter's institution */
    return RHIS_OK;
}

static rhis_status
imm_store(rhis_fhir_ctx *c,
          json_object *res,
          int64_t *id,
          int64_t version,
          int64_t *patient_id)
{
    imm_row r;
    memset(&r, 0, sizeof(r));
    json_object *enc;
    if (ehr_check_resource(c, res, "Immunization", imm_elems) != RHIS_OK ||
        ehr_code_in(c, res, "status", "Immunization", imm_status, &r.status) !=
            RHIS_OK)
        return c->err_status;
    if (rhis_json_get(res, "statusReason") != NULL &&
        strcmp(r.status, "not-done") != 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.statusReason",
                              "Immunization.statusReason is for status "
                              "not-done only");
    r.lot = rhis_json_get_str(res, "lotNumber");
    if (r.lot != NULL && strlen(r.lot) > 64)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Immunization.lotNumber",
                              "Immunization.lotNumber is longer than 64 "
                              "bytes");
    if (read_vaccine(c, res, &r) != RHIS_OK ||
        rhis_fhir_ref(c, rhis_json_get(res, "patient"), "Patient",
                      "Immunization.patient", &r.pid) != RHIS_OK ||
        ((enc = rhis_json_get(res, "encounter")) != NULL &&
         ehr_encounter_ref(c, enc, "Immunization.encounter", r.pid,
                           &r.encounter, &r.inst) != RHIS_OK) ||
        read_dates(c, res, &r) != RHIS_OK ||
        read_protocol(c, res, &r) != RHIS_OK ||
        read_performers(c, res, &r) != RHIS_OK)
        return c->err_status;
    ehr_val v[] = {
        ehr_i(version),
        ehr_i(c->now_ms),
        ehr_i(r.pid),
        ehr_i(r.encounter != 0 ? r.encounter : EHR_NONE),
        ehr_s(r.status),
        ehr_s(r.code),
        ehr_s(r.system),
        ehr_s(r.lot),
        ehr_i(r.dose),
        ehr_i(r.occurrence),
        ehr_i(ehr_inst_or_caller(c, r.inst)),
    };
    if (ehr_write_row(
            c,
            "INSERT INTO immunization (version, deleted, updated_ms,"
            " patient_id, encounter_id, status, vaccine_code, vaccine_system,"
            " lot, dose_number, occurrence_ms, institution_id)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            "UPDATE immunization SET version = ?, deleted = 0,"
            " updated_ms = ?, patient_id = ?, encounter_id = ?, status = ?,"
            " vaccine_code = ?, vaccine_system = ?, lot = ?,"
            " dose_number = ?, occurrence_ms = ?, institution_id = ?"
            " WHERE id = ?",
            v, (int)(sizeof(v) / sizeof(v[0])), id, "Immunization") != RHIS_OK)
        return c->err_status;
    *patient_id = r.pid;
    return RHIS_OK;
}

static const rhis_fhir_param imm_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"date", RHIS_P_DATE, "t.occurrence_ms", NULL, NULL, NULL, NULL,
     "t.occurrence_ms"},
    {"vaccine-code", RHIS_P_TOKEN, "t.vaccine_code", "t.vaccine_system", NULL,
     NULL, NULL, "t.vaccine_code"},
    {"status", RHIS_P_TOKEN, "t.status", NULL, NULL, NULL, NULL, NULL},
    {"lot-number", RHIS_P_STRING, "t.lot", NULL, NULL, NULL, NULL, NULL},
    {"performer", RHIS_P_REF, "t.institution_id", NULL, "Organization", NULL,
     NULL, NULL},
    {"encounter", RHIS_P_REF, "t.encounter_id", NULL, "Encounter", NULL, NULL,
     NULL},
};

const rhis_fhir_type rhis_type_immunization = {
    "Immunization",
    "immunization",
    "t.patient_id",
    "immunization t",
    "immunization t JOIN fhir_version v ON v.type = 'Immunization'"
    " AND v.id = t.id AND v.version = t.version",
    "UPDATE immunization SET deleted = 1, version = ?, updated_ms = ?"
    " WHERE id = ?",
    imm_params,
    (int)(sizeof(imm_params) / sizeof(imm_params[0])),
    imm_store,
    NULL,
    EHR_READ_ROLES,
    EHR_WRITE_ROLES,
};

EHR_HANDLERS(immunization, rhis_type_immunization)
