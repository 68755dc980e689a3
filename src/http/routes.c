/*
 * routes.c - every endpoint of RHIS, in one table (Redis command table).
 *
 * Why: policy is data.  Each row names the handler, whether a token is
 * required, which roles may call it and whether the call is audited; the
 * dispatcher applies these in fixed phases so no handler re-checks them.
 * Literal paths come before patterns with parameters; the static catch-all
 * is last.  `rhis serve --routes` prints this table.
 */
#include "rhis/handlers.h"

#define STAFF            RHIS_ROLE_STAFF
#define ANY              RHIS_ROLE_ANY
#define ADMIN            RHIS_ROLE_ADMIN
#define REGISTRY_WRITERS (RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR)

static const rhis_route routes[] = {
    {"GET", "/healthz", api_health, 0, 0, "health"},
    {"GET", "/metrics", api_metrics, 0, 0, "metrics"},

    {"POST", "/api/v1/login", api_login, ROUTE_LOGIN | ROUTE_BODY | ROUTE_AUDIT,
     0, "login"},
    {"POST", "/api/v1/logout", api_logout, ROUTE_AUTH | ROUTE_WRITE, ANY,
     "logout"},
    {"GET", "/api/v1/me", api_me, ROUTE_AUTH, ANY, "me"},

    {"GET", "/api/v1/areas", api_area_search, ROUTE_AUTH, ANY, "search areas"},
    {"GET", "/api/v1/areas/{code}", api_area_get, ROUTE_AUTH, ANY, "area"},
    {"GET", "/api/v1/areas/{code}/children", api_area_children, ROUTE_AUTH, ANY,
     "area children"},
    {"GET", "/api/v1/areas/{code}/ancestors", api_area_ancestors, ROUTE_AUTH,
     ANY, "area ancestors"},
    {"GET", "/api/v1/areas/{code}/population", api_area_population, ROUTE_AUTH,
     STAFF, "area population"},
    {"GET", "/api/v1/areas/{code}/summary", api_area_summary, ROUTE_AUTH, STAFF,
     "area summary"},
    {"GET", "/api/v1/institutions", api_institution_list, ROUTE_AUTH, ANY,
     "list institutions"},
    {"GET", "/api/v1/institutions/{id}", api_institution_get, ROUTE_AUTH, ANY,
     "institution"},

    {"GET", "/fhir/metadata", api_fhir_metadata, 0, 0, "capabilities"},
    {"GET", "/fhir/AuditEvent", api_auditevent_search, ROUTE_AUTH | ROUTE_AUDIT,
     ADMIN, "search audit"},
    {"GET", "/fhir/Location", api_location_search, ROUTE_AUTH, ANY,
     "search Location"},
    {"GET", "/fhir/Location/{id}", api_location_read, ROUTE_AUTH, ANY,
     "read Location"},
    {"PUT", "/fhir/Location/{id}", api_location_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "update Location"},
    {"GET", "/fhir/Organization", api_organization_search, ROUTE_AUTH, ANY,
     "search Organization"},
    {"POST", "/fhir/Organization", api_organization_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "create Organization"},
    {"GET", "/fhir/Organization/{id}", api_organization_read, ROUTE_AUTH, ANY,
     "read Organization"},
    {"PUT", "/fhir/Organization/{id}", api_organization_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "update Organization"},
    {"GET", "/fhir/Practitioner", api_practitioner_search, ROUTE_AUTH, STAFF,
     "search Practitioner"},
    {"POST", "/fhir/Practitioner", api_practitioner_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "create Practitioner"},
    {"GET", "/fhir/Practitioner/{id}", api_practitioner_read, ROUTE_AUTH, STAFF,
     "read Practitioner"},
    {"PUT", "/fhir/Practitioner/{id}", api_practitioner_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "update Practitioner"},
    {"GET", "/fhir/PractitionerRole", api_practitionerrole_search, ROUTE_AUTH,
     STAFF, "search PractitionerRole"},
    {"POST", "/fhir/PractitionerRole", api_practitionerrole_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "create PractitionerRole"},
    {"GET", "/fhir/PractitionerRole/{id}", api_practitionerrole_read,
     ROUTE_AUTH, STAFF, "read PractitionerRole"},
    {"PUT", "/fhir/PractitionerRole/{id}", api_practitionerrole_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, REGISTRY_WRITERS,
     "update PractitionerRole"},

    {"GET", "/", api_static, ROUTE_STATIC, 0, "web UI"},
    {"GET", "/{*path}", api_static, ROUTE_STATIC, 0, "web UI files"},
};

const rhis_route *
rhis_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
