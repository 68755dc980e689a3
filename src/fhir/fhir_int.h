/*
 * fhir_int.h - private to src/fhir: pieces of the store that the HTTP
 * handlers (rest.c), bundles and $everything share.
 */
#ifndef RHIS_FHIR_INT_H
#define RHIS_FHIR_INT_H

#include "rhis/fhirstore.h"

/* Concatenates SQL fragments that are literals of the code (type
 * descriptors), never input; the list ends with NULL. */
char *rhis_sql_cat(rhis_arena *a, const char *first, ...)
    __attribute__((sentinel));

/* A given version (> 0) of id: json (NULL when deleted), its flags. */
rhis_status rhis_fhir_read_version(rhis_fhir_ctx *c,
                                   const rhis_fhir_type *t,
                                   int64_t id,
                                   int64_t version,
                                   const char **json,
                                   int64_t *deleted,
                                   int64_t *patient_id,
                                   int64_t *ts);

/* Adds the filters of query q (search parameters of t) to w. */
rhis_status rhis_fhir_build_where(rhis_fhir_ctx *c,
                                  const rhis_fhir_type *t,
                                  const rhis_query *q,
                                  rhis_sql_where *w);

/* ORDER BY clause from _sort ("-date,name"), always ending in t.id. */
rhis_status rhis_fhir_build_order(rhis_fhir_ctx *c,
                                  const rhis_fhir_type *t,
                                  const char *sort,
                                  const char **order);

#endif
