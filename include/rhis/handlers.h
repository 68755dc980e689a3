/*
 * handlers.h - the HTTP handlers each module exports to the route table.
 *
 * Why: src/http/routes.c is the one table of endpoints; it needs each
 * module's handler prototypes and nothing else of the module.  Handlers are
 * rhis_status api_<resource>_<verb>(rhis_req *, rhis_resp *).
 */
#ifndef RHIS_HANDLERS_H
#define RHIS_HANDLERS_H

#include "rhis/http.h"

/* src/http/api_system.c */
rhis_status api_health(rhis_req *req, rhis_resp *resp);
rhis_status api_metrics(rhis_req *req, rhis_resp *resp);
rhis_status api_static(rhis_req *req, rhis_resp *resp);
rhis_status api_fhir_metadata(rhis_req *req, rhis_resp *resp);

/* src/auth/api.c */
rhis_status api_login(rhis_req *req, rhis_resp *resp);
rhis_status api_logout(rhis_req *req, rhis_resp *resp);
rhis_status api_me(rhis_req *req, rhis_resp *resp);

/* src/audit/audit.c */
rhis_status api_auditevent_search(rhis_req *req, rhis_resp *resp);

/* src/registry/api_areas.c */
rhis_status api_area_get(rhis_req *req, rhis_resp *resp);
rhis_status api_area_children(rhis_req *req, rhis_resp *resp);
rhis_status api_area_ancestors(rhis_req *req, rhis_resp *resp);
rhis_status api_area_search(rhis_req *req, rhis_resp *resp);
rhis_status api_area_population(rhis_req *req, rhis_resp *resp);
rhis_status api_area_summary(rhis_req *req, rhis_resp *resp);
rhis_status api_location_read(rhis_req *req, rhis_resp *resp);
rhis_status api_location_search(rhis_req *req, rhis_resp *resp);

/* src/registry/api_institutions.c */
rhis_status api_institution_list(rhis_req *req, rhis_resp *resp);
rhis_status api_institution_get(rhis_req *req, rhis_resp *resp);
rhis_status api_organization_read(rhis_req *req, rhis_resp *resp);
rhis_status api_organization_search(rhis_req *req, rhis_resp *resp);
rhis_status api_organization_create(rhis_req *req, rhis_resp *resp);
rhis_status api_organization_update(rhis_req *req, rhis_resp *resp);
rhis_status api_location_update(rhis_req *req, rhis_resp *resp);

/* src/registry/api_practitioners.c */
rhis_status api_practitioner_read(rhis_req *req, rhis_resp *resp);
rhis_status api_practitioner_search(rhis_req *req, rhis_resp *resp);
rhis_status api_practitioner_create(rhis_req *req, rhis_resp *resp);
rhis_status api_practitioner_update(rhis_req *req, rhis_resp *resp);
rhis_status api_practitionerrole_read(rhis_req *req, rhis_resp *resp);
rhis_status api_practitionerrole_search(rhis_req *req, rhis_resp *resp);
rhis_status api_practitionerrole_create(rhis_req *req, rhis_resp *resp);
rhis_status api_practitionerrole_update(rhis_req *req, rhis_resp *resp);

#endif
