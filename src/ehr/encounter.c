/*
 * encounter.c - FHIR Encounter: an outpatient visit, an inpatient stay, an
 * emergency visit, a home visit or a telehealth consultation, as a typed
 * row of encounter.
 *
 * Why: encounters are the spine of the record - conditions, observations,
 * immunizations and documents hang off them, and "the institution treated
 * the resident" (the access rule of docs/internals/ehr.md) is an encounter
 * at that institution.  So the institution (serviceProvider) must be real
 * and, for a caller working for one institution, must be that institution:
 * nobody records a visit at someone else's hospital.
 */
#include "ehr_int.h"
#include "rhis/handlers.h"

static const char *const enc_status[] = {
    "planned",  "arrived",   "triaged",          "in-progress", "onleave",
    "finished", "cancelled", "entered-in-error", "unknown",     NULL};

/* v3 ActCode classes RHIS records, with their v3 display and Chinese name */
static const char *const enc_class[] = {"AMB", "IMP", "EMER", "HH", "VR", NULL};
static const char *const class_display[] = {
    "ambulatory", "inpatient encounter", "emergency", "home health", "virtual"};

/* statuses for which the encounter has begun, so period.start is known */
static const char *const enc_started[] = {"arrived", "triaged",  "in-progress",
                                          "onleave", "finished", NULL};

static const ehr_elem participant_elems[] = {
    {"type", EK_CC, EF_ARRAY, NULL, NULL},
    {"period", EK_PERIOD, 0, NULL, NULL},
    {"individual", EK_REF, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem hosp_elems[] = {
    {"admitSource", EK_CC, 0, NULL, NULL},
    {"reAdmission", EK_CC, 0, NULL, NULL},
    {"dischargeDisposition", EK_CC, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem enc_elems[] = {
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"class", EK_CODING, EF_REQ, NULL, NULL},
    {"type", EK_CC, EF_ARRAY, NULL, NULL},
    {"serviceType", EK_CC, 0, NULL, NULL},
    {"priority", EK_CC, 0, NULL, NULL},
    {"subject", EK_REF, EF_REQ, NULL, NULL},
    {"participant", EK_BACKBONE, EF_ARRAY, participant_elems, NULL},
    {"period", EK_PERIOD, 0, NULL, NULL},
    {"reasonCode", EK_CC, EF_ARRAY, NULL, NULL},
    {"hospitalization", EK_BACKBONE, 0, hosp_elems, NULL},
    {"serviceProvider", EK_REF, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

typedef struct enc_row {
    int64_t pid, inst, practitioner, start, end;
    const char *status, *class_code, *type_code, *reason_code, *reason_text;
} enc_row;

static rhis_status
read_class(rhis_fhir_ctx *c, json_object *res, enc_row *r)
{
    json_object *cl = rhis_json_get(res, "class");
    const char *sys = rhis_json_get_str(cl, "system");
    if (sys == NULL || strcmp(sys, RHIS_SYS_ACT_CODE) != 0)
        return rhis_fhir_fail(
            c, RHIS_EINVAL, "Encounter.class.system",
            "Encounter.class.system must be " RHIS_SYS_ACT_CODE);
    if (ehr_code_in(c, cl, "code", "Encounter.class", enc_class,
                    &r->class_code) != RHIS_OK)
        return c->err_status;
    if (r->class_code == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Encounter.class.code",
                              "Encounter.class.code is required (AMB "
                              "outpatient, IMP inpatient, EMER emergency, HH "
                              "home visit, VR telehealth)");
    for (int i = 0; enc_class[i] != NULL; i++)
        if (strcmp(enc_class[i], r->class_code) == 0 &&
            rhis_json_get(cl, "display") == NULL)
            json_object_object_add(cl, "display",
                                   json_object_new_string(class_display[i]));
    return RHIS_OK;
}

/* reasonCode: an ICD-10 coding and/or the chief complaint (主诉) as text. */
static rhis_status
read_reasons(rhis_fhir_ctx *c, json_object *res, enc_row *r)
{
    char p[EHR_PATH], q[EHR_PATH], s[EHR_PATH];
    for (size_t i = 0; i < ehr_count(res, "reasonCode"); i++) {
        json_object *cc = ehr_item(res, "reasonCode", i);
        size_t k = 0;
        ehr_idx(p, "Encounter.reasonCode", i);
        json_object *cd = ehr_coding(cc, RHIS_SYS_ICD10, &k);
        if (cd != NULL) {
            const char *code = rhis_json_get_str(cd, "code");
            ehr_sub(s, ehr_idx(q, ehr_sub(s, p, "coding"), k), "code");
            if (code == NULL || !ehr_icd10_valid(code))
                return rhis_fhir_fail(c, RHIS_EINVAL, s,
                                      "%s '%.20s' is not an ICD-10 code "
                                      "(A00-Z99, e.g. I10.x00, E11.900)",
                                      s, code != NULL ? code : "");
            if (r->reason_code == NULL)
                r->reason_code = code;
        }
        const char *text = rhis_json_get_str(cc, "text");
        if (text != NULL && r->reason_text == NULL)
            r->reason_text = text;
    }
    return RHIS_OK;
}

/* serviceProvider: must exist; a caller working for one institution
 * records only its own encounters (and gets it filled in), an area-scoped
 * caller only those of institutions in the area. */
static rhis_status
read_provider(rhis_fhir_ctx *c, json_object *res, enc_row *r)
{
    json_object *sp = rhis_json_get(res, "serviceProvider");
    const rhis_principal *u = c->user;
    if (sp == NULL && u != NULL && u->scope_institution != 0) {
        sp = json_object_new_object();
        json_object_object_add(sp, "reference",
                               json_object_new_string(rhis_arena_printf(
                                   c->arena, "Organization/%lld",
                                   (long long)u->scope_institution)));
        json_object_object_add(res, "serviceProvider", sp);
    }
    if (sp == NULL)
        return RHIS_OK;
    if (rhis_fhir_ref(c, sp, "Organization", "Encounter.serviceProvider",
                      &r->inst) != RHIS_OK)
        return c->err_status;
    if (u == NULL)
        return RHIS_OK;
    if (u->scope_institution != 0 && u->scope_institution != r->inst)
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "Encounter.serviceProvider",
                              "you work for Organization/%lld and may not "
                              "record encounters of Organization/%lld",
                              (long long)u->scope_institution,
                              (long long)r->inst);
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        c->db, &st, "SELECT area_code FROM institution WHERE id = ?", "i",
        r->inst);
    if (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        int ok = rhis_principal_covers_area(u, rhis_db_column_text(st, 0));
        rhis_db_finalize(st);
        if (!ok)
            return rhis_fhir_fail(
                c, RHIS_EFORBIDDEN, "Encounter.serviceProvider",
                "Organization/%lld lies outside your area", (long long)r->inst);
        return RHIS_OK;
    }
    rhis_db_finalize(st);
    return rhis_fhir_fail(c, rc == RHIS_DONE ? RHIS_EINVAL : rc,
                          "Encounter.serviceProvider",
                          "cannot read Organization/%lld", (long long)r->inst);
}

static rhis_status
read_period(rhis_fhir_ctx *c, json_object *res, enc_row *r)
{
    json_object *per = rhis_json_get(res, "period");
    int64_t lo, hi, birth;
    int known = 0;
    r->start = r->end = EHR_NONE;
    if (ehr_time(per, "start", &lo, &hi)) {
        r->start = lo;
        if (strcmp(r->status, "planned") != 0 &&
            ehr_not_future(c, lo, "Encounter.period.start") != RHIS_OK)
            return c->err_status;
        if (ehr_patient_birth(c, r->pid, &birth, &known) != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read the patient");
        if (known && hi <= birth - 86400000LL)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Encounter.period.start",
                                  "Encounter.period.start is before the "
                                  "patient's birth");
    } else if (ehr_in(r->status, enc_started)) {
        return rhis_fhir_fail(c, RHIS_EINVAL, "Encounter.period.start",
                              "Encounter.period.start is required when the "
                              "status is %s",
                              r->status);
    }
    if (ehr_time(per, "end", &lo, &hi)) {
        if (r->start == EHR_NONE)
            return rhis_fhir_fail(c, RHIS_EINVAL, "Encounter.period.start",
                                  "Encounter.period.end needs a start");
        if (ehr_not_future(c, lo, "Encounter.period.end") != RHIS_OK)
            return c->err_status;
        r->end = lo;
    }
    return RHIS_OK;
}

static rhis_status
read_participants(rhis_fhir_ctx *c, json_object *res, enc_row *r)
{
    char p[EHR_PATH], q[EHR_PATH];
    for (size_t i = 0; i < ehr_count(res, "participant"); i++) {
        json_object *pa = ehr_item(res, "participant", i);
        json_object *ind = rhis_json_get(pa, "individual");
        int64_t id;
        if (ind == NULL)
            continue;
        ehr_sub(q, ehr_idx(p, "Encounter.participant", i), "individual");
        if (rhis_fhir_ref(c, ind, "Practitioner", q, &id) != RHIS_OK)
            return c->err_status;
        if (r->practitioner == 0)
            r->practitioner = id;
    }
    return RHIS_OK;
}

static rhis_status
enc_store(rhis_fhir_ctx *c,
          json_object *res,
          int64_t *id,
          int64_t version,
          int64_t *patient_id)
{
    enc_row r;
    memset(&r, 0, sizeof(r));
    if (ehr_check_resource(c, res, "Encounter", enc_elems) != RHIS_OK ||
        ehr_code_in(c, res, "status", "Encounter", enc_status, &r.status) !=
            RHIS_OK ||
        read_class(c, res, &r) != RHIS_OK ||
        rhis_fhir_ref(c, rhis_json_get(res, "subject"), "Patient",
                      "Encounter.subject", &r.pid) != RHIS_OK ||
        read_provider(c, res, &r) != RHIS_OK ||
        read_period(c, res, &r) != RHIS_OK ||
        read_participants(c, res, &r) != RHIS_OK ||
        read_reasons(c, res, &r) != RHIS_OK)
        return c->err_status;
    json_object *t0 = ehr_item(ehr_item(res, "type", 0), "coding", 0);
    r.type_code = rhis_json_get_str(t0, "code");
    ehr_val v[] = {
        ehr_i(version),
        ehr_i(c->now_ms),
        ehr_i(r.pid),
        ehr_s(r.status),
        ehr_s(r.class_code),
        ehr_s(r.type_code),
        ehr_i(r.inst != 0 ? r.inst : EHR_NONE),
        ehr_i(r.practitioner != 0 ? r.practitioner : EHR_NONE),
        ehr_i(r.start),
        ehr_i(r.end),
        ehr_s(r.reason_code),
        ehr_s(r.reason_text),
    };
    if (ehr_write_row(
            c,
            "INSERT INTO encounter (version, deleted, updated_ms, patient_id,"
            " status, class, type_code, institution_id, practitioner_id,"
            " start_ms, end_ms, reason_code, reason_text)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            "UPDATE encounter SET version = ?, deleted = 0, updated_ms = ?,"
            " patient_id = ?, status = ?, class = ?, type_code = ?,"
            " institution_id = ?, practitioner_id = ?, start_ms = ?,"
            " end_ms = ?, reason_code = ?, reason_text = ? WHERE id = ?",
            v, (int)(sizeof(v) / sizeof(v[0])), id, "Encounter") != RHIS_OK)
        return c->err_status;
    *patient_id = r.pid;
    return RHIS_OK;
}

static const rhis_fhir_param enc_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"subject", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"date", RHIS_P_DATE, "t.start_ms", NULL, NULL, NULL, NULL, "t.start_ms"},
    {"class", RHIS_P_CUSTOM, NULL, NULL, NULL, "t.class = ?",
     "(CAST(? AS TEXT) = '" RHIS_SYS_ACT_CODE "' AND t.class = ?)", "t.class"},
    {"status", RHIS_P_TOKEN, "t.status", NULL, NULL, NULL, NULL, "t.status"},
    {"type", RHIS_P_TOKEN, "t.type_code", NULL, NULL, NULL, NULL, NULL},
    {"reason-code", RHIS_P_CUSTOM, NULL, NULL, NULL, "t.reason_code = ?",
     "(CAST(? AS TEXT) = '" RHIS_SYS_ICD10 "' AND t.reason_code = ?)", NULL},
    {"service-provider", RHIS_P_REF, "t.institution_id", NULL, "Organization",
     NULL, NULL, NULL},
    {"practitioner", RHIS_P_REF, "t.practitioner_id", NULL, "Practitioner",
     NULL, NULL, NULL},
    {"participant", RHIS_P_REF, "t.practitioner_id", NULL, "Practitioner", NULL,
     NULL, NULL},
};

const rhis_fhir_type rhis_type_encounter = {
    "Encounter",
    "encounter",
    "t.patient_id",
    "encounter t",
    "encounter t JOIN fhir_version v ON v.type = 'Encounter'"
    " AND v.id = t.id AND v.version = t.version",
    "UPDATE encounter SET deleted = 1, version = ?, updated_ms = ?"
    " WHERE id = ?",
    enc_params,
    (int)(sizeof(enc_params) / sizeof(enc_params[0])),
    enc_store,
    NULL,
    EHR_READ_ROLES,
    EHR_WRITE_ROLES,
};

EHR_HANDLERS(encounter, rhis_type_encounter)
