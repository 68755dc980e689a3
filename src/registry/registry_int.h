/*
 * registry_int.h - shared between the files of src/registry/ only.
 */
#ifndef RHIS_REGISTRY_INT_H
#define RHIS_REGISTRY_INT_H

#include "rhis/http.h"

/* FHIR Location/inst-ID: the site of an institution (institutions.c). */
rhis_status registry_site_read(rhis_req *req, rhis_resp *resp, const char *id);
/* Location search over institution sites (organization=, type=bu). */
rhis_status registry_site_search(rhis_req *req, rhis_resp *resp);

#endif
