/*
 * types.c - the resource types of the versioned store, by name.
 *
 * Why: the engine, bundles, $everything, bulk export and the
 * CapabilityStatement iterate the same list, so adding a type is one line
 * here.  The references are weak so a module can be built and tested
 * before its neighbours exist; a missing type is simply absent.
 */
#include <string.h>

#include "rhis/fhirstore.h"

extern const rhis_fhir_type rhis_type_patient __attribute__((weak));
extern const rhis_fhir_type rhis_type_encounter __attribute__((weak));
extern const rhis_fhir_type rhis_type_condition __attribute__((weak));
extern const rhis_fhir_type rhis_type_observation __attribute__((weak));
extern const rhis_fhir_type rhis_type_immunization __attribute__((weak));
extern const rhis_fhir_type rhis_type_documentreference __attribute__((weak));
extern const rhis_fhir_type rhis_type_consent __attribute__((weak));

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
    static const rhis_fhir_type *present[NALL];
    static int npresent = -1;
    /* idempotent: every caller computes the same list */
    if (npresent < 0) {
        int k = 0;
        for (int i = 0; i < NALL; i++)
            if (all[i] != NULL)
                present[k++] = all[i];
        npresent = k;
    }
    *n = npresent;
    return present;
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
