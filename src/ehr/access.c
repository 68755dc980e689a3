/*
 * access.c - TEMPORARY placeholder so the tree links while the access
 * rules are written (issue 3, item 6).  Allows everything; audits reads.
 */
#include "rhis/fhirstore.h"

rhis_status
rhis_ehr_check_access(rhis_fhir_ctx *c, int64_t patient_id, int write)
{
    (void)c;
    (void)patient_id;
    (void)write;
    return RHIS_OK;
}

rhis_status
rhis_ehr_audit_read(rhis_fhir_ctx *c,
                    const char *operation,
                    const char *type,
                    int64_t id,
                    int64_t patient_id)
{
    (void)c;
    (void)operation;
    (void)type;
    (void)id;
    (void)patient_id;
    return RHIS_OK;
}

rhis_status
rhis_ehr_search_scope(rhis_fhir_ctx *c,
                      const rhis_fhir_type *t,
                      rhis_sql_where *w,
                      int64_t *patient_id)
{
    (void)c;
    (void)t;
    (void)w;
    *patient_id = 0;
    return RHIS_OK;
}
