/*
 * fhirstore.h - the versioned FHIR resource store behind the health record:
 * one engine for read, vread, _history, create, update, conditional create,
 * delete and search, driven by a descriptor per resource type.
 *
 * Why: the design keeps typed domain tables (analytics and rules run on
 * columns) with FHIR as the interface.  Every resource type does the same
 * dance - validate, write typed rows, keep every version, answer ETags,
 * search by parameters, check who may read - so the dance lives here once
 * and a module supplies only what is its own: the mapping from a FHIR
 * resource to its typed rows and the search parameters.
 *
 * Storage: each type has a typed table with at least the columns
 * id, version, deleted, updated_ms (and patient_id where the resource
 * belongs to a patient).  Every version of every resource, as served, is a
 * row of fhir_version(type, id, version, ts, deleted, method, user_id,
 * patient_id, json).  The typed row always describes the current version.
 *
 * The same operations run from HTTP (with a request) and from the CLI
 * importer (without one): a rhis_fhir_ctx carries the connection, the
 * caller and the error of either.
 */
#ifndef RHIS_FHIRSTORE_H
#define RHIS_FHIRSTORE_H

#include <json-c/json.h>
#include <stdint.h>

#include "rhis/alloc.h"
#include "rhis/auth.h"
#include "rhis/db.h"
#include "rhis/fhir.h"
#include "rhis/http.h"
#include "rhis/status.h"

/* Code systems RHIS knows (FHIR canonical URLs and Chinese OIDs). */
#define RHIS_SYS_IDNUM      "urn:oid:2.16.156.10011.1.3"  /* 居民身份证 */
#define RHIS_SYS_HEALTHCARD "urn:oid:2.16.156.10011.1.19" /* 居民健康卡 */
#define RHIS_SYS_INSURANCE  "urn:oid:2.16.156.10011.1.14" /* 医保号 */
#define RHIS_SYS_MRN_PREFIX "https://rhis.cn/fhir/sid/mrn/" /* + inst code */
#define RHIS_SYS_ICD10      "http://hl7.org/fhir/sid/icd-10"
#define RHIS_SYS_LOINC      "http://loinc.org"
#define RHIS_SYS_UCUM       "http://unitsofmeasure.org"
#define RHIS_SYS_CVX        "http://hl7.org/fhir/sid/cvx"
#define RHIS_SYS_VACCINE_CN                                                    \
    "https://rhis.cn/fhir/CodeSystem/vaccine" /* 国家免疫规划疫苗 */
#define RHIS_SYS_AREA                                                          \
    "https://rhis.cn/fhir/CodeSystem/division" /* GB/T 2260 + statistical */
#define RHIS_SYS_ETHNICITY "urn:oid:2.16.156.10011.2.3.3.3" /* GB/T 3304 */
#define RHIS_SYS_ACT_CODE  "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define RHIS_EXT_BASE      "https://rhis.cn/fhir/StructureDefinition/"

/*
 * Where an operation runs: a request (HTTP) or the CLI.  Errors are
 * recorded here with the FHIRPath of the faulty element; with a request
 * they are also recorded on it, so handlers just return the status.
 */
typedef struct rhis_fhir_ctx {
    rhis_req *req; /* NULL outside HTTP */
    rhis_db *db;
    rhis_arena *arena;          /* per-operation scratch */
    const rhis_principal *user; /* NULL = system (CLI import) */
    int64_t now_ms;
    /* the error of the last failed call */
    rhis_status err_status;
    char err_text[512];
    char err_expr[160];
    /* the patient (subject) of the last successful write, 0 if none */
    int64_t last_patient_id;
    /* urn:uuid:... -> "Type/id" rewrites of the transaction being run */
    int nrefs;
    const char **ref_from;
    const char **ref_to;
} rhis_fhir_ctx;

/* Initialises c for a request (takes its connection: may fail busy). */
rhis_status rhis_fhir_ctx_req(rhis_fhir_ctx *c, rhis_req *req);
/* Initialises c for the CLI with db, a system caller and arena a. */
void rhis_fhir_ctx_cli(rhis_fhir_ctx *c, rhis_db *db, rhis_arena *a);

/* Records an error: st, the element path (may be NULL) and a message. */
rhis_status rhis_fhir_fail(rhis_fhir_ctx *c,
                           rhis_status st,
                           const char *expr,
                           const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));

/* ---- search parameters ---- */

typedef enum rhis_fhir_pkind {
    RHIS_P_STRING = 1, /* prefix match, case-insensitive; :exact, :contains */
    RHIS_P_TOKEN,      /* [system|]code; column = code, sys_col = system */
    RHIS_P_DATE,       /* prefixes eq ge gt le lt sa eb; column in unix ms */
    RHIS_P_REF,        /* Type/id or id; column holds the id */
    RHIS_P_NUMBER,     /* integer with prefixes; column */
    RHIS_P_CUSTOM,     /* token with custom SQL (sql_value, sql_sys_value) */
} rhis_fhir_pkind;

/*
 * A search parameter of a type.  Columns and SQL are literals of the
 * module, written against the typed table aliased "t"; values are always
 * bound.  RHIS_P_CUSTOM: sql_value has one '?' (the code), sql_sys_value
 * two ('?' system then '?' code); either may be NULL when not supported.
 */
typedef struct rhis_fhir_param {
    const char *name; /* "birthdate" */
    rhis_fhir_pkind kind;
    const char *column;   /* "t.birth_ms" */
    const char *sys_col;  /* RHIS_P_TOKEN: "t.code_system", or NULL */
    const char *ref_type; /* RHIS_P_REF: "Patient" */
    const char *sql_value;
    const char *sql_sys_value;
    const char *sort; /* expression for _sort, NULL = not sortable */
} rhis_fhir_param;

/* ---- resource types ---- */

typedef struct rhis_fhir_type rhis_fhir_type;

/*
 * Validates res (a parsed FHIR resource of this type, resourceType already
 * checked) and writes its typed rows.  *id == 0: inserts and sets *id.
 * Otherwise replaces the typed rows of *id.  version and c->now_ms go into
 * the typed row.  Sets *patient_id to the subject (0 if none).  Every
 * failure goes through rhis_fhir_fail with the element path.  Runs inside
 * the engine's transaction; must not touch fhir_version.  May normalise
 * res in place (e.g. add a display text); the engine then sets id and
 * meta and stores res as the version's JSON.
 */
typedef rhis_status (*rhis_fhir_store_fn)(rhis_fhir_ctx *c,
                                          json_object *res,
                                          int64_t *id,
                                          int64_t version,
                                          int64_t *patient_id);
/* Masks res for list responses when the caller's role does not need the
 * full value (Patient ID number and phone).  May be NULL. */
typedef void (*rhis_fhir_redact_fn)(rhis_fhir_ctx *c, json_object *res);

struct rhis_fhir_type {
    const char *name;  /* "Patient" */
    const char *table; /* "patient" (documentation, CapabilityStatement) */
    const char *patient_col; /* "t.id" for Patient, "t.patient_id", or NULL */
    /* SQL literals: the typed table aliased t, and the same joined to the
     * current version's JSON as v ("patient t JOIN fhir_version v ON
     * v.type = 'Patient' AND v.id = t.id AND v.version = t.version") */
    const char *from;
    const char *from_json;
    /* "UPDATE patient SET deleted = 1, version = ?, updated_ms = ?
     *  WHERE id = ?" (bound version, ms, id) */
    const char *sql_delete;
    const rhis_fhir_param *params;
    int nparams;
    rhis_fhir_store_fn store;
    rhis_fhir_redact_fn redact;
    unsigned read_roles;  /* roles that may read (then record access rules) */
    unsigned write_roles; /* roles that may create/update/delete */
};

/* Every type the store knows (src/fhir/types.c), and lookup by name. */
const rhis_fhir_type *const *rhis_fhir_types(int *n);
const rhis_fhir_type *rhis_fhir_type_find(const char *name);

/* ---- operations usable without HTTP (transactions, import) ---- */

/*
 * Write operations check the caller's access to the resource's patient
 * (rhis_ehr_check_access, write = 1) after validating it, and set
 * c->last_patient_id.  They never begin or commit: the caller owns the
 * transaction.
 */

/* Creates res (any id in it is ignored): *id and *version out. */
rhis_status rhis_fhir_do_create(rhis_fhir_ctx *c,
                                const rhis_fhir_type *t,
                                json_object *res,
                                int64_t *id,
                                int64_t *version);
/* Updates resource id to res; if_match < 0 = unconditional.  RHIS_ENOTFOUND
 * if absent or deleted, RHIS_EPRECOND on a version mismatch. */
rhis_status rhis_fhir_do_update(rhis_fhir_ctx *c,
                                const rhis_fhir_type *t,
                                int64_t id,
                                json_object *res,
                                int64_t if_match,
                                int64_t *version);
/* Soft-deletes: a new version marked deleted; typed row deleted = 1. */
rhis_status rhis_fhir_do_delete(rhis_fhir_ctx *c,
                                const rhis_fhir_type *t,
                                int64_t id,
                                int64_t *version);
/* Current version: *json (arena copy, NULL if deleted), version, patient. */
rhis_status rhis_fhir_do_read(rhis_fhir_ctx *c,
                              const rhis_fhir_type *t,
                              int64_t id,
                              const char **json,
                              int64_t *version,
                              int64_t *patient_id);
/*
 * Resolves a search query string (the part after '?') to matching ids, for
 * conditional create (If-None-Exist) and conditional references.  *n gets
 * the number of matches (at most 2 are looked at); *id the first.
 */
rhis_status rhis_fhir_do_match(rhis_fhir_ctx *c,
                               const rhis_fhir_type *t,
                               const char *query,
                               int *n,
                               int64_t *id);

/*
 * Resolves a Reference's "reference" string ("Patient/12", a transaction's
 * "urn:uuid:..." or an absolute URL ending in Type/id) to an id of a live
 * resource of type `type` (a FHIR type of this store, or "Organization",
 * "Practitioner", "Location").  expr names the element for the error.
 */
rhis_status rhis_fhir_ref(rhis_fhir_ctx *c,
                          json_object *reference_obj,
                          const char *type,
                          const char *expr,
                          int64_t *id);

/* ---- HTTP handlers (generic; routes pass the type) ---- */

rhis_status
rhis_fhir_read(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_vread(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_history(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_create(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_update(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_delete(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);
rhis_status
rhis_fhir_search_type(rhis_req *req, rhis_resp *resp, const rhis_fhir_type *t);

/* ---- access to records (src/ehr/access.c) ---- */

/*
 * May the caller of c read (write = 0) or write (write = 1) the record of
 * patient_id?  Rules (docs/internals/ehr.md): the resident themself; a
 * clinician whose institution treated the patient or holds an active
 * consent (institution or area); break-glass with a reason (header
 * X-Break-Glass-Reason) recorded for review; CDC and admin within their
 * area.  A refusal is RHIS_EFORBIDDEN, recorded with a message, and writes
 * a denied audit event.  CLI callers (c->user == NULL) are always allowed.
 */
rhis_status
rhis_ehr_check_access(rhis_fhir_ctx *c, int64_t patient_id, int write);
/*
 * Audits a read of resource `type/id` of patient_id by the caller (skipped
 * when the caller is that patient, as the resident reading their own
 * record is not a disclosure).  operation: "read", "vread", "search",
 * "history", "everything", "export".
 */
rhis_status rhis_ehr_audit_read(rhis_fhir_ctx *c,
                                const char *operation,
                                const char *type,
                                int64_t id,
                                int64_t patient_id);
/*
 * Restricts a search of type t for the caller: adds terms to w (e.g. the
 * patient named by the search, the caller's area) or refuses with
 * RHIS_EFORBIDDEN.  *patient_id gets the single patient the search is
 * confined to, 0 if none.
 */
rhis_status rhis_ehr_search_scope(rhis_fhir_ctx *c,
                                  const rhis_fhir_type *t,
                                  rhis_sql_where *w,
                                  int64_t *patient_id);

#endif
