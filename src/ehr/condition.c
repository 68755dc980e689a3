/*
 * condition.c - FHIR Condition: a diagnosis coded in ICD-10 (the WHO
 * edition or the Chinese clinical edition, 国家临床版), on the problem
 * list or made in an encounter, as a typed row of condition.
 *
 * Why: chronic-disease registers (hypertension I10, diabetes E11 ...) and
 * the disease indicators count diagnoses by ICD-10 code per area and
 * period; they need a well-formed code in a column, the encounter (hence
 * the institution) it was made in, and dates that can be trusted.
 */
#include "ehr_int.h"
#include "rhis/handlers.h"

static const char *const clinical[] = {"active",   "recurrence", "relapse",
                                       "inactive", "remission",  "resolved",
                                       NULL};
static const char *const abated[] = {"inactive", "remission", "resolved", NULL};
static const char *const verification[] = {
    "unconfirmed",      "provisional", "differential", "confirmed", "refuted",
    "entered-in-error", NULL};
static const char *const category[] = {"problem-list-item",
                                       "encounter-diagnosis", NULL};

static const ehr_elem cond_elems[] = {
    {"clinicalStatus", EK_CC, 0, NULL, NULL},
    {"verificationStatus", EK_CC, 0, NULL, NULL},
    {"category", EK_CC, EF_ARRAY, NULL, NULL},
    {"severity", EK_CC, 0, NULL, NULL},
    {"code", EK_CC, EF_REQ, NULL, NULL},
    {"bodySite", EK_CC, EF_ARRAY, NULL, NULL},
    {"subject", EK_REF, EF_REQ, NULL, NULL},
    {"encounter", EK_REF, 0, NULL, NULL},
    {"onsetDateTime", EK_DATETIME, 0, NULL, "onset"},
    {"abatementDateTime", EK_DATETIME, 0, NULL, "abatement"},
    {"recordedDate", EK_DATETIME, 0, NULL, NULL},
    {"recorder", EK_REF, 0, NULL, NULL},
    {"asserter", EK_REF, 0, NULL, NULL},
    {"note", EK_ANNOTATION, EF_ARRAY, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

typedef struct cond_row {
    int64_t pid, encounter, inst, onset, recorded;
    const char *code, *clinical, *verification, *category;
} cond_row;

static rhis_status
read_code(rhis_fhir_ctx *c, json_object *res, cond_row *r)
{
    char p[EHR_PATH];
    size_t i = 0;
    json_object *cd =
        ehr_coding(rhis_json_get(res, "code"), RHIS_SYS_ICD10, &i);
    if (cd == NULL)
        return rhis_fhir_fail(
            c, RHIS_EINVAL, "Condition.code.coding",
            "Condition.code needs a coding of system " RHIS_SYS_ICD10
            " (ICD-10, e.g. I10.x00)");
    (void)snprintf(p, sizeof(p), "Condition.code.coding[%zu].code", i);
    r->code = rhis_json_get_str(cd, "code");
    if (r->code == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s is required", p);
    if (!ehr_icd10_valid(r->code))
        return rhis_fhir_fail(c, RHIS_EINVAL, p,
                              "%s '%.20s' is not an ICD-10 code: a capital "
                              "letter and two digits (A00-Z99), then "
                              "optionally '.' and up to three digits or x "
                              "(I10.x00, E11.900, J18.9)",
                              p, r->code);
    return RHIS_OK;
}

static rhis_status
read_status(rhis_fhir_ctx *c, json_object *res, cond_row *r)
{
    char p[EHR_PATH];
    if (ehr_cc_in(c, rhis_json_get(res, "clinicalStatus"),
                  EHR_SYS_COND_CLINICAL, "Condition.clinicalStatus", clinical,
                  &r->clinical) != RHIS_OK ||
        ehr_cc_in(c, rhis_json_get(res, "verificationStatus"),
                  EHR_SYS_COND_VERIFY, "Condition.verificationStatus",
                  verification, &r->verification) != RHIS_OK)
        return c->err_status;
    if (r->clinical != NULL && r->verification != NULL &&
        strcmp(r->verification, "entered-in-error") == 0) /* con-5 */
        return rhis_fhir_fail(c, RHIS_EINVAL, "Condition.clinicalStatus",
                              "Condition.clinicalStatus must be absent when "
                              "the verificationStatus is entered-in-error");
    if (rhis_json_get(res, "abatementDateTime") != NULL &&
        (r->clinical == NULL || !ehr_in(r->clinical, abated))) /* con-4 */
        return rhis_fhir_fail(c, RHIS_EINVAL, "Condition.clinicalStatus",
                              "an abated condition needs clinicalStatus "
                              "inactive, remission or resolved");
    for (size_t i = 0; i < ehr_count(res, "category"); i++) {
        json_object *cc = ehr_item(res, "category", i);
        const char *code;
        if (ehr_coding(cc, EHR_SYS_COND_CATEGORY, NULL) == NULL)
            continue;
        ehr_idx(p, "Condition.category", i);
        if (ehr_cc_in(c, cc, EHR_SYS_COND_CATEGORY, p, category, &code) !=
            RHIS_OK)
            return c->err_status;
        if (r->category == NULL)
            r->category = code;
    }
    return RHIS_OK;
}

/* onset <= abatement, onset <= recorded, none in the future. */
static rhis_status
read_dates(rhis_fhir_ctx *c, json_object *res, cond_row *r)
{
    int64_t olo = 0, ohi = 0, lo, hi;
    int has_onset = ehr_time(res, "onsetDateTime", &olo, &ohi);
    r->onset = r->recorded = EHR_NONE;
    if (has_onset) {
        if (ehr_not_future(c, olo, "Condition.onsetDateTime") != RHIS_OK)
            return c->err_status;
        r->onset = olo;
    }
    if (ehr_time(res, "abatementDateTime", &lo, &hi)) {
        if (ehr_not_future(c, lo, "Condition.abatementDateTime") != RHIS_OK)
            return c->err_status;
        if (has_onset && hi <= olo)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Condition.abatementDateTime",
                                  "Condition.abatementDateTime is before "
                                  "Condition.onsetDateTime");
    }
    if (ehr_time(res, "recordedDate", &lo, &hi)) {
        if (ehr_not_future(c, lo, "Condition.recordedDate") != RHIS_OK)
            return c->err_status;
        if (has_onset && hi <= olo)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Condition.recordedDate",
                                  "Condition.recordedDate is before "
                                  "Condition.onsetDateTime");
        r->recorded = lo;
    }
    return RHIS_OK;
}

/* recorder and asserter: a Practitioner, or the patient themself. */
static rhis_status
read_people(rhis_fhir_ctx *c, json_object *res, const cond_row *r)
{
    static const char *const who[] = {"Practitioner", "Patient", NULL};
    static const char *const keys[] = {"recorder", "asserter"};
    for (int i = 0; i < 2; i++) {
        json_object *ref = rhis_json_get(res, keys[i]);
        char path[EHR_PATH], type[32];
        int64_t id = 0;
        if (ref == NULL)
            continue;
        ehr_sub(path, "Condition", keys[i]);
        if (ehr_ref_any(c, ref, who, path, type, &id) != RHIS_OK)
            return c->err_status;
        if (strcmp(type, "Patient") == 0 && id != r->pid)
            return rhis_fhir_fail(c, RHIS_EINVAL, path,
                                  "%s: a Patient here must be the subject",
                                  path);
    }
    return RHIS_OK;
}

static rhis_status
cond_store(rhis_fhir_ctx *c,
           json_object *res,
           int64_t *id,
           int64_t version,
           int64_t *patient_id)
{
    cond_row r;
    memset(&r, 0, sizeof(r));
    json_object *enc;
    if (ehr_check_resource(c, res, "Condition", cond_elems) != RHIS_OK ||
        read_code(c, res, &r) != RHIS_OK ||
        read_status(c, res, &r) != RHIS_OK ||
        rhis_fhir_ref(c, rhis_json_get(res, "subject"), "Patient",
                      "Condition.subject", &r.pid) != RHIS_OK ||
        ((enc = rhis_json_get(res, "encounter")) != NULL &&
         ehr_encounter_ref(c, enc, "Condition.encounter", r.pid, &r.encounter,
                           &r.inst) != RHIS_OK) ||
        read_dates(c, res, &r) != RHIS_OK || read_people(c, res, &r) != RHIS_OK)
        return c->err_status;
    ehr_val v[] = {
        ehr_i(version),    ehr_i(c->now_ms),
        ehr_i(r.pid),      ehr_i(r.encounter != 0 ? r.encounter : EHR_NONE),
        ehr_s(r.code),     ehr_s(RHIS_SYS_ICD10),
        ehr_s(r.clinical), ehr_s(r.verification),
        ehr_s(r.category), ehr_i(r.onset),
        ehr_i(r.recorded), ehr_i(ehr_inst_or_caller(c, r.inst)),
    };
    if (ehr_write_row(
            c,
            "INSERT INTO condition (version, deleted, updated_ms, patient_id,"
            " encounter_id, code, code_system, clinical_status,"
            " verification_status, category, onset_ms, recorded_ms,"
            " institution_id)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            "UPDATE condition SET version = ?, deleted = 0, updated_ms = ?,"
            " patient_id = ?, encounter_id = ?, code = ?, code_system = ?,"
            " clinical_status = ?, verification_status = ?, category = ?,"
            " onset_ms = ?, recorded_ms = ?, institution_id = ?"
            " WHERE id = ?",
            v, (int)(sizeof(v) / sizeof(v[0])), id, "Condition") != RHIS_OK)
        return c->err_status;
    *patient_id = r.pid;
    return RHIS_OK;
}

static const rhis_fhir_param cond_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"subject", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"encounter", RHIS_P_REF, "t.encounter_id", NULL, "Encounter", NULL, NULL,
     NULL},
    {"code", RHIS_P_TOKEN, "t.code", "t.code_system", NULL, NULL, NULL,
     "t.code"},
    {"clinical-status", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "t.clinical_status = ?",
     "(CAST(? AS TEXT) = '" EHR_SYS_COND_CLINICAL
     "' AND t.clinical_status = ?)",
     NULL},
    {"verification-status", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "t.verification_status = ?",
     "(CAST(? AS TEXT) = '" EHR_SYS_COND_VERIFY
     "' AND t.verification_status = ?)",
     NULL},
    {"category", RHIS_P_CUSTOM, NULL, NULL, NULL, "t.category = ?",
     "(CAST(? AS TEXT) = '" EHR_SYS_COND_CATEGORY "' AND t.category = ?)",
     NULL},
    {"onset-date", RHIS_P_DATE, "t.onset_ms", NULL, NULL, NULL, NULL,
     "t.onset_ms"},
    {"recorded-date", RHIS_P_DATE, "t.recorded_ms", NULL, NULL, NULL, NULL,
     "t.recorded_ms"},
};

const rhis_fhir_type rhis_type_condition = {
    "Condition",
    "condition",
    "t.patient_id",
    "condition t",
    "condition t JOIN fhir_version v ON v.type = 'Condition'"
    " AND v.id = t.id AND v.version = t.version",
    "UPDATE condition SET deleted = 1, version = ?, updated_ms = ?"
    " WHERE id = ?",
    cond_params,
    (int)(sizeof(cond_params) / sizeof(cond_params[0])),
    cond_store,
    NULL,
    EHR_READ_ROLES,
    EHR_WRITE_ROLES,
};

EHR_HANDLERS(condition, rhis_type_condition)
