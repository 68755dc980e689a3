/*
 * document.c - FHIR DocumentReference: discharge summaries, referral
 * notes, lab and imaging reports, with the document itself as a base64
 * attachment, as a typed row of document_reference.
 *
 * Why: much of a hospital record travels as documents, not as structured
 * data.  The attachment is stored inside the resource's JSON (the version
 * row of fhir_version), so every version keeps its document; the typed row
 * keeps what lists and the timeline need (type, date, institution, size,
 * content type, title).  Attachments are capped at 4 MiB decoded - bigger
 * files belong in an image archive referenced by URL - and must be valid
 * base64 whose size matches what the sender declared.
 */
#include "ehr_int.h"
#include "rhis/handlers.h"

#define DOC_MAX_BYTES ((size_t)4 * 1024 * 1024)

static const char *const doc_status[] = {"current", "superseded",
                                         "entered-in-error", NULL};
static const char *const doc_status2[] = {"preliminary", "final", "amended",
                                          "entered-in-error", NULL};

static const ehr_elem content_elems[] = {
    {"attachment", EK_ATTACHMENT, EF_REQ, NULL, NULL},
    {"format", EK_CODING, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem context_elems[] = {
    {"encounter", EK_REF, EF_ARRAY, NULL, NULL},
    {"period", EK_PERIOD, 0, NULL, NULL},
    {"facilityType", EK_CC, 0, NULL, NULL},
    {"practiceSetting", EK_CC, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const ehr_elem doc_elems[] = {
    {"masterIdentifier", EK_IDENTIFIER, 0, NULL, NULL},
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"docStatus", EK_CODE, 0, NULL, NULL},
    {"type", EK_CC, EF_REQ, NULL, NULL},
    {"category", EK_CC, EF_ARRAY, NULL, NULL},
    {"subject", EK_REF, EF_REQ, NULL, NULL},
    {"date", EK_INSTANT, 0, NULL, NULL},
    {"author", EK_REF, EF_ARRAY, NULL, NULL},
    {"custodian", EK_REF, 0, NULL, NULL},
    {"description", EK_STRING, 0, NULL, NULL},
    {"content", EK_BACKBONE, EF_ARRAY | EF_REQ, content_elems, NULL},
    {"context", EK_BACKBONE, 0, context_elems, NULL},
    {NULL, 0, 0, NULL, NULL},
};

typedef struct doc_row {
    int64_t pid, encounter, inst, date, size;
    const char *status, *type_code, *type_system, *content_type, *title;
} doc_row;

/* type: a LOINC document code (named when the table knows it), or any
 * other coding with system and code. */
static rhis_status
read_type(rhis_fhir_ctx *c, json_object *res, doc_row *r)
{
    json_object *cc = rhis_json_get(res, "type");
    size_t i = 0;
    json_object *cd = ehr_coding(cc, RHIS_SYS_LOINC, &i);
    if (cd != NULL) {
        char p[EHR_PATH];
        const ehr_loinc *k = NULL;
        (void)snprintf(p, sizeof(p), "DocumentReference.type.coding[%zu].code",
                       i);
        r->type_code = rhis_json_get_str(cd, "code");
        if (r->type_code == NULL || !rhis_ehr_loinc_valid(r->type_code))
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s '%.20s' is not a LOINC code (digits, "
                                  "'-', check digit)",
                                  p, r->type_code != NULL ? r->type_code : "");
        if (rhis_ehr_loinc_find(c, r->type_code, &k) != RHIS_OK)
            return c->err_status;
        if (k != NULL && strcmp(k->kind, "document") != 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s %s (%s) is an observation, not a "
                                  "document type (e.g. 18842-5 discharge "
                                  "summary)",
                                  p, k->code, k->name_en);
        if (k != NULL && rhis_json_get(cd, "display") == NULL)
            json_object_object_add(cd, "display",
                                   json_object_new_string(k->name_en));
        if (k != NULL && rhis_json_get(cc, "text") == NULL)
            json_object_object_add(cc, "text",
                                   json_object_new_string(k->name_zh));
        r->type_system = RHIS_SYS_LOINC;
        return RHIS_OK;
    }
    for (i = 0; i < ehr_count(cc, "coding"); i++) {
        cd = ehr_item(cc, "coding", i);
        if (rhis_json_get_str(cd, "system") != NULL &&
            rhis_json_get_str(cd, "code") != NULL) {
            r->type_system = rhis_json_get_str(cd, "system");
            r->type_code = rhis_json_get_str(cd, "code");
            return RHIS_OK;
        }
    }
    return rhis_fhir_fail(c, RHIS_EINVAL, "DocumentReference.type.coding",
                          "DocumentReference.type needs a coding with system "
                          "and code (LOINC, e.g. 18842-5 discharge summary)");
}

/* Every attachment: data or url, valid base64 within the cap, a declared
 * size that matches, a SHA-1 hash of 20 bytes; the first one's details go
 * to the typed row. */
static rhis_status
read_content(rhis_fhir_ctx *c, json_object *res, doc_row *r)
{
    char p[EHR_PATH], q[EHR_PATH];
    size_t total = 0;
    r->size = EHR_NONE;
    for (size_t i = 0; i < ehr_count(res, "content"); i++) {
        json_object *att =
            rhis_json_get(ehr_item(res, "content", i), "attachment");
        const char *data = rhis_json_get_str(att, "data");
        const char *hash = rhis_json_get_str(att, "hash");
        const char *ctype = rhis_json_get_str(att, "contentType");
        json_object *size = rhis_json_get(att, "size");
        size_t n = 0;
        int64_t lo, hi;
        (void)snprintf(p, sizeof(p),
                       "DocumentReference.content[%zu].attachment", i);
        if (data == NULL && rhis_json_get(att, "url") == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(q, p, "data"),
                                  "%s needs data (base64) or a url", p);
        if (ctype != NULL && strchr(ctype, '/') == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(q, p, "contentType"),
                                  "%s.contentType '%.40s' is not a MIME type "
                                  "(e.g. application/pdf)",
                                  p, ctype);
        if (data != NULL) {
            ehr_sub(q, p, "data");
            if (!ehr_base64_size(data, &n))
                return rhis_fhir_fail(c, RHIS_EINVAL, q,
                                      "%s is not valid base64", q);
            total += n;
            if (n > DOC_MAX_BYTES || total > DOC_MAX_BYTES)
                return rhis_fhir_fail(
                    c, RHIS_ETOOBIG, q,
                    "%s: the attachments decode to %zu bytes; at most %zu "
                    "bytes (4 MiB) are stored: keep larger files in an "
                    "archive and give its url",
                    q, total, DOC_MAX_BYTES);
            if (size != NULL && json_object_get_int64(size) != (int64_t)n)
                return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(q, p, "size"),
                                      "%s.size says %lld bytes but data "
                                      "decodes to %zu",
                                      p, (long long)json_object_get_int64(size),
                                      n);
            if (size == NULL)
                json_object_object_add(att, "size",
                                       json_object_new_int64((int64_t)n));
        }
        if (hash != NULL && (!ehr_base64_size(hash, &n) || n != 20))
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(q, p, "hash"),
                                  "%s.hash must be the base64 of a SHA-1 "
                                  "digest (20 bytes)",
                                  p);
        if (ehr_time(att, "creation", &lo, &hi) &&
            ehr_not_future(c, lo, ehr_sub(q, p, "creation")) != RHIS_OK)
            return c->err_status;
        if (i == 0) {
            size = rhis_json_get(att, "size");
            r->size = size != NULL ? json_object_get_int64(size) : EHR_NONE;
            r->content_type = ctype;
            r->title = rhis_json_get_str(att, "title");
        }
    }
    return RHIS_OK;
}

/* author (Practitioner, Organization or the patient), custodian and the
 * institution of the typed row: custodian, else an author organisation,
 * else the encounter's. */
static rhis_status
read_people(rhis_fhir_ctx *c, json_object *res, doc_row *r)
{
    static const char *const who[] = {"Practitioner", "Organization", "Patient",
                                      NULL};
    char p[EHR_PATH], type[32];
    int64_t id = 0, author_inst = 0, custodian = 0;
    for (size_t i = 0; i < ehr_count(res, "author"); i++) {
        ehr_idx(p, "DocumentReference.author", i);
        if (ehr_ref_any(c, ehr_item(res, "author", i), who, p, type, &id) !=
            RHIS_OK)
            return c->err_status;
        if (strcmp(type, "Patient") == 0 && id != r->pid)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s: a Patient author must be the subject",
                                  p);
        if (strcmp(type, "Organization") == 0 && author_inst == 0)
            author_inst = id;
    }
    json_object *cu = rhis_json_get(res, "custodian");
    if (cu != NULL &&
        rhis_fhir_ref(c, cu, "Organization", "DocumentReference.custodian",
                      &custodian) != RHIS_OK)
        return c->err_status;
    if (custodian != 0)
        r->inst = custodian;
    else if (author_inst != 0)
        r->inst = author_inst;
    return RHIS_OK;
}

static rhis_status
read_context(rhis_fhir_ctx *c, json_object *res, doc_row *r)
{
    char p[EHR_PATH];
    json_object *ctx = rhis_json_get(res, "context");
    for (size_t i = 0; i < ehr_count(ctx, "encounter"); i++) {
        int64_t id, inst = 0;
        ehr_idx(p, "DocumentReference.context.encounter", i);
        if (ehr_encounter_ref(c, ehr_item(ctx, "encounter", i), p, r->pid, &id,
                              &inst) != RHIS_OK)
            return c->err_status;
        if (r->encounter == 0) {
            r->encounter = id;
            if (r->inst == 0)
                r->inst = inst;
        }
    }
    int64_t lo, hi;
    r->date = EHR_NONE;
    if (ehr_time(res, "date", &lo, &hi)) {
        if (ehr_not_future(c, lo, "DocumentReference.date") != RHIS_OK)
            return c->err_status;
        r->date = lo;
    }
    return RHIS_OK;
}

static rhis_status
doc_store(rhis_fhir_ctx *c,
          json_object *res,
          int64_t *id,
          int64_t version,
          int64_t *patient_id)
{
    doc_row r;
    const char *st2;
    memset(&r, 0, sizeof(r));
    if (ehr_check_resource(c, res, "DocumentReference", doc_elems) != RHIS_OK ||
        ehr_code_in(c, res, "status", "DocumentReference", doc_status,
                    &r.status) != RHIS_OK ||
        ehr_code_in(c, res, "docStatus", "DocumentReference", doc_status2,
                    &st2) != RHIS_OK ||
        read_type(c, res, &r) != RHIS_OK ||
        rhis_fhir_ref(c, rhis_json_get(res, "subject"), "Patient",
                      "DocumentReference.subject", &r.pid) != RHIS_OK ||
        read_content(c, res, &r) != RHIS_OK ||
        read_people(c, res, &r) != RHIS_OK ||
        read_context(c, res, &r) != RHIS_OK)
        return c->err_status;
    ehr_val v[] = {
        ehr_i(version),
        ehr_i(c->now_ms),
        ehr_i(r.pid),
        ehr_i(r.encounter != 0 ? r.encounter : EHR_NONE),
        ehr_s(r.status),
        ehr_s(r.type_code),
        ehr_s(r.type_system),
        ehr_i(r.date),
        ehr_i(ehr_inst_or_caller(c, r.inst)),
        ehr_s(r.content_type),
        ehr_i(r.size),
        ehr_s(r.title),
    };
    if (ehr_write_row(
            c,
            "INSERT INTO document_reference (version, deleted, updated_ms,"
            " patient_id, encounter_id, status, type_code, type_system,"
            " date_ms, institution_id, content_type, size, title)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            "UPDATE document_reference SET version = ?, deleted = 0,"
            " updated_ms = ?, patient_id = ?, encounter_id = ?, status = ?,"
            " type_code = ?, type_system = ?, date_ms = ?,"
            " institution_id = ?, content_type = ?, size = ?, title = ?"
            " WHERE id = ?",
            v, (int)(sizeof(v) / sizeof(v[0])), id,
            "DocumentReference") != RHIS_OK)
        return c->err_status;
    *patient_id = r.pid;
    return RHIS_OK;
}

static const rhis_fhir_param doc_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"subject", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"encounter", RHIS_P_REF, "t.encounter_id", NULL, "Encounter", NULL, NULL,
     NULL},
    {"type", RHIS_P_TOKEN, "t.type_code", "t.type_system", NULL, NULL, NULL,
     "t.type_code"},
    {"status", RHIS_P_TOKEN, "t.status", NULL, NULL, NULL, NULL, NULL},
    {"date", RHIS_P_DATE, "t.date_ms", NULL, NULL, NULL, NULL, "t.date_ms"},
    {"custodian", RHIS_P_REF, "t.institution_id", NULL, "Organization", NULL,
     NULL, NULL},
    {"contenttype", RHIS_P_TOKEN, "t.content_type", NULL, NULL, NULL, NULL,
     NULL},
};

const rhis_fhir_type rhis_type_documentreference = {
    "DocumentReference",
    "document_reference",
    "t.patient_id",
    "document_reference t",
    "document_reference t JOIN fhir_version v ON v.type = "
    "'DocumentReference' AND v.id = t.id AND v.version = t.version",
    "UPDATE document_reference SET deleted = 1, version = ?, updated_ms = ?"
    " WHERE id = ?",
    doc_params,
    (int)(sizeof(doc_params) / sizeof(doc_params[0])),
    doc_store,
    NULL,
    EHR_READ_ROLES,
    EHR_WRITE_ROLES,
};

EHR_HANDLERS(documentreference, rhis_type_documentreference)
