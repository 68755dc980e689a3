/*
 * access_int.h - private to src/ehr: the access rules of access.c as
 * consent.c and api_access.c need them.
 *
 * Why: the public entry points (rhis/fhirstore.h) read the break-glass
 * header from the request; recording a consent and listing the access log
 * need the same rules without that header, and the unit tests need them
 * with a reason but without HTTP.
 */
#ifndef RHIS_EHR_ACCESS_INT_H
#define RHIS_EHR_ACCESS_INT_H

#include <stdint.h>

#include "rhis/fhirstore.h"

/* The FHIR store type Consent (src/ehr/consent.c). */
extern const rhis_fhir_type rhis_type_consent;

/* Longest break-glass reason kept, in bytes. */
#define RHIS_EHR_REASON_MAX 500
/* Shortest break-glass reason, in characters after trimming. */
#define RHIS_EHR_REASON_MIN 10

/*
 * A patient's record as the rules see it: merged records belong to their
 * survivor (root), and every record merged into root is part of it.
 */
typedef struct rhis_ehr_subject {
    int64_t id;         /* the patient asked about */
    int64_t root;       /* id, or the survivor it was merged into */
    char area_code[16]; /* of root; "" when unknown */
    int found;          /* 0: no such patient row */
} rhis_ehr_subject;

/* Loads s for patient id (follows merged_into up to a few hops). */
rhis_status rhis_ehr_subject_load(rhis_db *db, int64_t id, rhis_ehr_subject *s);

/*
 * rhis_ehr_check_access with the break-glass reason given directly
 * (NULL = none) instead of read from the request header.  Same effects:
 * a refusal is recorded on c and audited; a break-glass read inserts a
 * break_glass row and its audit event.
 */
rhis_status rhis_ehr_access_reason(rhis_fhir_ctx *c,
                                   int64_t patient_id,
                                   int write,
                                   const char *reason);

/*
 * 1 if the caller may read the record of patient_id by the ordinary rules
 * (no break-glass), 0 if not; no error is recorded and nothing audited.
 * *why (may be NULL) gets the reason of a refusal (arena string).
 */
int rhis_ehr_may_read(rhis_fhir_ctx *c, int64_t patient_id, const char **why);

/* The root of the caller's own record (role resident), 0 if the caller is
 * no resident or not linked. */
int64_t rhis_ehr_own_root(rhis_fhir_ctx *c);

#endif
