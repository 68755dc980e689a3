/*
 * types.c - the resource types of the versioned store, by name.
 *
 * Why: the engine, bundles, $everything, bulk export and the
 * CapabilityStatement iterate the same list, so adding a type is one line
 * here.
 */
#include <string.h>

#include "rhis/fhirstore.h"

extern const rhis_fhir_type rhis_type_patient;
extern const rhis_fhir_type rhis_type_encounter;
extern const rhis_fhir_type rhis_type_condition;
extern const rhis_fhir_type rhis_type_observation;
extern const rhis_fhir_type rhis_type_immunization;
extern const rhis_fhir_type rhis_type_documentreference;
extern const rhis_fhir_type rhis_type_consent;

static const rhis_fhir_type *const all[] = {
    &rhis_type_patient,      &rhis_type_encounter,
    &rhis_type_condition,    &rhis_type_observation,
    &rhis_type_immunization, &rhis_type_documentreference,
    &rhis_type_consent,
};

#define NALL ((int)(sizeof(all) / sizeof(all[0])))

const rhis_fhir_type *const *
rhis_fhir_types(int *n)
{
    *n = NALL;
    return all;
}

const rhis_fhir_type *
rhis_fhir_type_find(const char *name)
{
    int n;
    const rhis_fhir_type *const *t = rhis_fhir_types(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(t[i]->name, name) == 0)
            return t[i];
    return NULL;
}
