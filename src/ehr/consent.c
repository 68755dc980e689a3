/*
 * consent.c - a resident's consent to (or refusal of) access to their
 * record by an institution or by every institution of an area, as FHIR R4
 * Consent, stored in the versioned store.
 *
 * Why: besides the institutions that treated a resident, only those the
 * resident consented to may read the record (the plans' "opened to the
 * resident and to authorised institutions").  A consent names exactly one
 * actor - an Organization or an area as Location/area-CODE - and may be
 * limited to a period; a deny wins over any permit.  The rules that read
 * the typed row live in access.c; this file validates and stores it.
 *
 * RHIS consents cover the whole record: provision elements that would
 * narrow a consent to some data, actions or purposes are refused rather
 * than silently widened.
 */
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "ehr_int.h"
#include "rhis/handlers.h"

#define SYS_CONSENT_SCOPE "http://terminology.hl7.org/CodeSystem/consentscope"

static const ehr_elem policy_elems[] = {
    {"authority", EK_URI, 0, NULL, NULL},
    {"uri", EK_URI, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem verification_elems[] = {
    {"verified", EK_BOOL, EF_REQ, NULL, NULL},
    {"verifiedWith", EK_REF, 0, NULL, NULL},
    {"verificationDate", EK_DATETIME, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem actor_elems[] = {
    {"role", EK_CC, EF_REQ, NULL, NULL},
    {"reference", EK_REF, EF_REQ, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem provision_elems[] = {
    {"type", EK_CODE, EF_REQ, NULL, NULL},
    {"period", EK_PERIOD, 0, NULL, NULL},
    {"actor", EK_BACKBONE, EF_ARRAY | EF_REQ, actor_elems, NULL},
    /* R4 elements refused by check_narrowing with a clear message */
    {"action", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"securityLabel", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"purpose", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"class", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"code", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"dataPeriod", EK_SKIP, 0, NULL, NULL},
    {"data", EK_SKIP, EF_ARRAY, NULL, NULL},
    {"provision", EK_SKIP, EF_ARRAY, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem consent_elems[] = {
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"scope", EK_CC, EF_REQ, NULL, NULL},
    {"category", EK_CC, EF_ARRAY | EF_REQ, NULL, NULL},
    {"patient", EK_REF, EF_REQ, NULL, NULL},
    {"dateTime", EK_DATETIME, 0, NULL, NULL},
    {"performer", EK_REF, EF_ARRAY, NULL, NULL},
    {"organization", EK_REF, EF_ARRAY, NULL, NULL},
    {"sourceAttachment", EK_ATTACHMENT, 0, NULL, "source"},
    {"sourceReference", EK_REF, 0, NULL, "source"},
    {"policy", EK_BACKBONE, EF_ARRAY, policy_elems, NULL},
    {"policyRule", EK_CC, 0, NULL, NULL},
    {"verification", EK_BACKBONE, EF_ARRAY, verification_elems, NULL},
    {"provision", EK_BACKBONE, EF_REQ, provision_elems, NULL},
    {NULL, 0, 0, NULL, NULL},
};

/* R4 provision elements that would narrow a consent to part of the
 * record; RHIS consents are all-or-nothing, so these are refused. */
static const char *const narrowing[] = {
    "action",     "securityLabel", "purpose",   "class", "code",
    "dataPeriod", "data",          "provision", NULL,
};

static const char *const statuses[] = {
    "draft",    "proposed",         "active", "rejected",
    "inactive", "entered-in-error", NULL,
};
static const char *const provision_types[] = {"permit", "deny", NULL};
static const char *const scopes[] = {"patient-privacy", NULL};

/* The typed row of one Consent. */
typedef struct consent_row {
    int64_t patient_id;
    const char *status;
    const char *provision;
    int64_t actor_inst; /* EHR_NONE when the actor is an area */
    const char *actor_area;
    int64_t start_ms, end_ms; /* EHR_NONE when open */
} consent_row;

static rhis_status
check_narrowing(rhis_fhir_ctx *c, json_object *prov)
{
    char p[EHR_PATH];
    for (int i = 0; narrowing[i] != NULL; i++)
        if (rhis_json_get(prov, narrowing[i]) != NULL)
            return rhis_fhir_fail(
                c, RHIS_EINVAL, ehr_sub(p, "Consent.provision", narrowing[i]),
                "%s is not supported: an RHIS Consent permits or denies the "
                "whole record to one actor",
                p);
    return RHIS_OK;
}

/* Location/area-CODE (or a URL ending so) -> an existing area code. */
static rhis_status
area_actor(rhis_fhir_ctx *c,
           json_object *ref,
           const char *path,
           const char **code)
{
    char p[EHR_PATH];
    const char *r = rhis_json_get_str(ref, "reference");
    const char *slash = r != NULL ? strrchr(r, '/') : NULL;
    ehr_sub(p, path, "reference");
    if (slash == NULL || strncmp(slash + 1, "area-", 5) != 0 ||
        slash[6] == '\0')
        return rhis_fhir_fail(c, RHIS_EINVAL, p,
                              "%s: an area is named as Location/area-CODE "
                              "(e.g. Location/area-220221)",
                              p);
    const char *a = slash + 6;
    int64_t n = 0;
    if (strlen(a) > 12 || strspn(a, "0123456789") != strlen(a) ||
        rhis_db_scalar_int64(c->db, &n,
                             "SELECT COUNT(*) FROM area WHERE code = ?", "s",
                             a) != RHIS_OK ||
        n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s: no area has code '%.20s'",
                              p, a);
    *code = a;
    return RHIS_OK;
}

/* provision: type, period, the one actor. */
static rhis_status
map_provision(rhis_fhir_ctx *c, json_object *prov, consent_row *row)
{
    char p[EHR_PATH], q[EHR_PATH];
    rhis_status rc = check_narrowing(c, prov);
    if (rc == RHIS_OK)
        rc = ehr_code_in(c, prov, "type", "Consent.provision", provision_types,
                         &row->provision);
    if (rc != RHIS_OK)
        return rc;
    json_object *period = rhis_json_get(prov, "period");
    int64_t lo, hi;
    row->start_ms = row->end_ms = EHR_NONE;
    if (ehr_time(period, "start", &lo, &hi))
        row->start_ms = lo;
    if (ehr_time(period, "end", &lo, &hi))
        row->end_ms = hi; /* the end day (or second) is included */
    if (ehr_count(prov, "actor") != 1)
        return rhis_fhir_fail(c, RHIS_EINVAL, "Consent.provision.actor",
                              "Consent.provision.actor must name exactly one "
                              "actor (an Organization or Location/area-CODE)");
    json_object *ref = rhis_json_get(ehr_item(prov, "actor", 0), "reference");
    ehr_sub(p, ehr_idx(q, "Consent.provision.actor", 0), "reference");
    char type[32];
    row->actor_inst = EHR_NONE;
    row->actor_area = NULL;
    if (ehr_ref_type(c, ref, type, sizeof(type)) &&
        strcmp(type, "Location") == 0)
        return area_actor(c, ref, p, &row->actor_area);
    static const char *const actor_types[] = {"Organization", "Location", NULL};
    int64_t inst = 0;
    rc = ehr_ref_any(c, ref, actor_types, p, type, &inst);
    if (rc == RHIS_OK)
        row->actor_inst = inst;
    return rc;
}

/*
 * Who may record this consent: a resident only their own; staff of an
 * institution only for a record they may already read (so nobody grants
 * themselves access); admins within their area (checked by the engine).
 */
static rhis_status
check_recorder(rhis_fhir_ctx *c, int64_t pid)
{
    const rhis_principal *u = c->user;
    if (u == NULL || u->role == RHIS_ROLE_ADMIN)
        return RHIS_OK;
    if (u->role == RHIS_ROLE_RESIDENT) {
        rhis_ehr_subject s;
        int64_t own = rhis_ehr_own_root(c);
        if (own == 0)
            return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "Consent.patient",
                                  "your account is not linked to a Patient "
                                  "record; ask the registry office to link "
                                  "it");
        if (rhis_ehr_subject_load(c->db, pid, &s) != RHIS_OK || !s.found ||
            s.root != own)
            return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "Consent.patient",
                                  "a resident may record consents only for "
                                  "their own record");
        return RHIS_OK;
    }
    const char *why = NULL;
    if (!rhis_ehr_may_read(c, pid, &why))
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "Consent.patient",
                              "you may record a consent only for a record you "
                              "may read: %s",
                              why != NULL ? why : "no access");
    return RHIS_OK;
}

/* An update keeps the consent on the same record (or its survivor). */
static rhis_status
check_same_record(rhis_fhir_ctx *c, int64_t id, int64_t pid)
{
    int64_t old = 0;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &old, "SELECT patient_id FROM consent WHERE id = ?", "i", id);
    if (rc != RHIS_OK || old == pid)
        return rc == RHIS_ENOTFOUND ? RHIS_OK : rc;
    rhis_ehr_subject a, b;
    if (rhis_ehr_subject_load(c->db, old, &a) == RHIS_OK &&
        rhis_ehr_subject_load(c->db, pid, &b) == RHIS_OK && a.root == b.root)
        return RHIS_OK;
    return rhis_fhir_fail(c, RHIS_EINVAL, "Consent.patient",
                          "Consent.patient cannot change (Patient/%lld); "
                          "record a new Consent instead",
                          (long long)old);
}

/* The store function of rhis_type_consent (contract in rhis/fhirstore.h). */
static rhis_status
consent_store(rhis_fhir_ctx *c,
              json_object *res,
              int64_t *id,
              int64_t version,
              int64_t *patient_id)
{
    consent_row row;
    memset(&row, 0, sizeof(row));
    const char *scope = NULL;
    rhis_status rc = ehr_check_resource(c, res, "Consent", consent_elems);
    if (rc == RHIS_OK)
        rc = ehr_code_in(c, res, "status", "Consent", statuses, &row.status);
    if (rc == RHIS_OK)
        rc = ehr_cc_in(c, rhis_json_get(res, "scope"), SYS_CONSENT_SCOPE,
                       "Consent.scope", scopes, &scope);
    if (rc == RHIS_OK)
        rc = rhis_fhir_ref(c, rhis_json_get(res, "patient"), "Patient",
                           "Consent.patient", &row.patient_id);
    if (rc == RHIS_OK)
        rc = map_provision(c, rhis_json_get(res, "provision"), &row);
    if (rc == RHIS_OK)
        rc = check_recorder(c, row.patient_id);
    if (rc == RHIS_OK && *id != 0)
        rc = check_same_record(c, *id, row.patient_id);
    if (rc != RHIS_OK)
        return c->err_status != RHIS_OK ? c->err_status : rc;

    const ehr_val v[] = {
        ehr_i(version),        ehr_i(c->now_ms),     ehr_i(row.patient_id),
        ehr_s(row.status),     ehr_s(row.provision), ehr_i(row.actor_inst),
        ehr_s(row.actor_area), ehr_i(row.start_ms),  ehr_i(row.end_ms),
    };
    rc = ehr_write_row(c,
                       "INSERT INTO consent (version, updated_ms, patient_id,"
                       " status, provision, actor_institution_id,"
                       " actor_area_code, start_ms, end_ms)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                       "UPDATE consent SET version = ?, updated_ms = ?,"
                       " patient_id = ?, status = ?, provision = ?,"
                       " actor_institution_id = ?, actor_area_code = ?,"
                       " start_ms = ?, end_ms = ?, deleted = 0 WHERE id = ?",
                       v, (int)(sizeof(v) / sizeof(v[0])), id, "Consent");
    if (rc == RHIS_OK)
        *patient_id = row.patient_id;
    return rc;
}

static const rhis_fhir_param consent_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL,
     "t.patient_id"},
    {"status", RHIS_P_TOKEN, "t.status", NULL, NULL, NULL, NULL, "t.status"},
    /* actor=Organization/3 or actor=Location/area-220221 */
    {"actor", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "? IN ('Organization/' || CAST(t.actor_institution_id AS TEXT),"
     " 'Location/area-' || t.actor_area_code)",
     NULL, NULL},
};

const rhis_fhir_type rhis_type_consent = {
    .name = "Consent",
    .table = "consent",
    .patient_col = "t.patient_id",
    .from = "consent t",
    .from_json = "consent t JOIN fhir_version v ON v.type = 'Consent'"
                 " AND v.id = t.id AND v.version = t.version",
    .sql_delete = "UPDATE consent SET deleted = 1, version = ?,"
                  " updated_ms = ? WHERE id = ?",
    .params = consent_params,
    .nparams = (int)(sizeof(consent_params) / sizeof(consent_params[0])),
    .store = consent_store,
    .redact = NULL,
    .read_roles = EHR_READ_ROLES,
    .write_roles = RHIS_ROLE_RESIDENT | RHIS_ROLE_CLINICIAN |
                   RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_ADMIN,
};

/* ---- HTTP handlers: the generic engine with this type ---- */

rhis_status
api_consent_read(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_read(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_vread(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_vread(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_history(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_history(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_create(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_create(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_update(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_update(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_delete(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_delete(req, resp, &rhis_type_consent);
}

rhis_status
api_consent_search(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_search_type(req, resp, &rhis_type_consent);
}
