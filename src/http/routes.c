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

    /* ---- FHIR Bulk Data $export (issue 3, item 5: src/fhir/export.c) ---- */
    /* Before the Patient routes: GET /fhir/Patient/{id} would take
     * /fhir/Patient/$export.  Scope and job ownership: the handlers. */
    {"GET", "/fhir/$export", api_bulk_export_system, ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export kick-off"},
    {"GET", "/fhir/Patient/$export", api_bulk_export_patient,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export kick-off (Patient)"},
    {"GET", "/fhir/Group/{id}/$export", api_bulk_export_group,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export kick-off (Group)"},
    {"GET", "/fhir/bulkstatus/{job}", api_bulk_status, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export status"},
    {"DELETE", "/fhir/bulkstatus/{job}", api_bulk_cancel,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export cancel"},
    {"GET", "/fhir/bulkfiles/{job}/{type}/{seq}", api_bulk_file,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CDC,
     "bulk export file"},
    /* ---- end of Bulk Data ---- */

    /* ---- FHIR batch/transaction Bundles and $everything (issue 3) ---- */
    /* The route admits every role that writes some type; each entry is
     * checked against its type's write_roles (src/fhir/bundle.c). */
    {"POST", "/fhir", api_fhir_bundle, ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "batch/transaction"},
    {"GET", "/fhir/Patient/{id}/$everything", api_patient_everything,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "Patient $everything"},
    /* ---- end of Bundles and $everything ---- */

    /* ---- master patient index (issue 3, item 2: src/registry/api_mpi.c) */
    /* Before the Patient routes (literal /fhir/Patient/$match).  Merge and
     * unmerge: the MPI steward (admin); the queue is read by admin and
     * cdc; $match audits every resident it shows. */
    {"POST", "/fhir/Patient/$match", api_patient_match,
     ROUTE_AUTH | ROUTE_AUDIT | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_CDC,
     "Patient $match"},
    {"GET", "/api/v1/mpi/reviews", api_mpi_review_list,
     ROUTE_AUTH | ROUTE_AUDIT, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "MPI review queue"},
    {"POST", "/api/v1/mpi/reviews/{id}/merge", api_mpi_review_merge,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN,
     "MPI review: merge"},
    {"POST", "/api/v1/mpi/reviews/{id}/separate", api_mpi_review_separate,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN,
     "MPI review: keep separate"},
    {"POST", "/api/v1/mpi/merge", api_mpi_merge,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN, "MPI merge"},
    {"GET", "/api/v1/mpi/merges", api_mpi_merge_list, ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC, "MPI merge history"},
    {"POST", "/api/v1/mpi/merges/{id}/undo", api_mpi_merge_undo,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN, "MPI unmerge"},
    /* ---- end of master patient index ---- */

    /* ---- FHIR Patient (issue 3, item 1: src/registry/patient.c) ---- */
    /* Literal paths under /fhir/Patient/ ($match ...) must come before
     * these: GET /fhir/Patient/{id} would take them. */
    {"GET", "/fhir/Patient", api_patient_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Patient"},
    {"POST", "/fhir/Patient", api_patient_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_INTEGRATOR,
     "create Patient"},
    {"GET", "/fhir/Patient/{id}", api_patient_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Patient"},
    {"PUT", "/fhir/Patient/{id}", api_patient_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_INTEGRATOR,
     "update Patient"},
    {"DELETE", "/fhir/Patient/{id}", api_patient_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_INTEGRATOR,
     "delete Patient"},
    {"GET", "/fhir/Patient/{id}/_history", api_patient_history, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of Patient"},
    {"GET", "/fhir/Patient/{id}/_history/{vid}", api_patient_vread, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Patient"},
    /* ---- end of Patient ---- */

    /* ---- access to records (issue 3, item 6: src/ehr/consent.c,
     * src/ehr/api_access.c).  Consent reads are then confined by the
     * record rules (src/ehr/access.c); only the resident and admins
     * withdraw a consent by deleting it. ---- */
    {"GET", "/fhir/Consent", api_consent_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Consent"},
    {"POST", "/fhir/Consent", api_consent_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_RESIDENT,
     "create Consent"},
    {"GET", "/fhir/Consent/{id}", api_consent_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Consent"},
    {"PUT", "/fhir/Consent/{id}", api_consent_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |
         RHIS_ROLE_RESIDENT,
     "update Consent"},
    {"DELETE", "/fhir/Consent/{id}", api_consent_delete,
     ROUTE_AUTH | ROUTE_WRITE, RHIS_ROLE_ADMIN | RHIS_ROLE_RESIDENT,
     "delete Consent"},
    {"GET", "/fhir/Consent/{id}/_history", api_consent_history, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history Consent"},
    {"GET", "/fhir/Consent/{id}/_history/{vid}", api_consent_vread, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Consent"},
    {"GET", "/api/v1/break-glass", api_break_glass_list,
     ROUTE_AUTH | ROUTE_AUDIT, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "break-glass reads to review"},
    {"POST", "/api/v1/break-glass/{id}/review", api_break_glass_review,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "review a break-glass read"},
    {"GET", "/api/v1/me/access-log", api_me_access_log, ROUTE_AUTH,
     RHIS_ROLE_RESIDENT, "who read my record"},
    {"GET", "/api/v1/patients/{id}/access-log", api_patient_access_log,
     ROUTE_AUTH | ROUTE_AUDIT, RHIS_ROLE_ADMIN, "access log of a record"},
    /* ---- end of access to records ---- */

    /* ---- health record resources (issue 3, item 3: src/ehr/encounter.c,
     * condition.c, observation.c, immunization.c, document.c).  Each
     * handler runs the generic store (src/fhir/rest.c) with its type;
     * record access rules apply inside. ---- */
    {"GET", "/fhir/Encounter", api_encounter_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Encounter"},
    {"POST", "/fhir/Encounter", api_encounter_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "create Encounter"},
    {"GET", "/fhir/Encounter/{id}", api_encounter_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Encounter"},
    {"PUT", "/fhir/Encounter/{id}", api_encounter_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "update Encounter"},
    {"DELETE", "/fhir/Encounter/{id}", api_encounter_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "delete Encounter"},
    {"GET", "/fhir/Encounter/{id}/_history", api_encounter_history, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of Encounter"},
    {"GET", "/fhir/Encounter/{id}/_history/{vid}", api_encounter_vread,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Encounter"},
    {"GET", "/fhir/Condition", api_condition_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Condition"},
    {"POST", "/fhir/Condition", api_condition_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "create Condition"},
    {"GET", "/fhir/Condition/{id}", api_condition_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Condition"},
    {"PUT", "/fhir/Condition/{id}", api_condition_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "update Condition"},
    {"DELETE", "/fhir/Condition/{id}", api_condition_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "delete Condition"},
    {"GET", "/fhir/Condition/{id}/_history", api_condition_history, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of Condition"},
    {"GET", "/fhir/Condition/{id}/_history/{vid}", api_condition_vread,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Condition"},
    {"GET", "/fhir/Observation", api_observation_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Observation"},
    {"POST", "/fhir/Observation", api_observation_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "create Observation"},
    {"GET", "/fhir/Observation/{id}", api_observation_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Observation"},
    {"PUT", "/fhir/Observation/{id}", api_observation_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "update Observation"},
    {"DELETE", "/fhir/Observation/{id}", api_observation_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "delete Observation"},
    {"GET", "/fhir/Observation/{id}/_history", api_observation_history,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of Observation"},
    {"GET", "/fhir/Observation/{id}/_history/{vid}", api_observation_vread,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Observation"},
    {"GET", "/fhir/Immunization", api_immunization_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search Immunization"},
    {"POST", "/fhir/Immunization", api_immunization_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "create Immunization"},
    {"GET", "/fhir/Immunization/{id}", api_immunization_read, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read Immunization"},
    {"PUT", "/fhir/Immunization/{id}", api_immunization_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "update Immunization"},
    {"DELETE", "/fhir/Immunization/{id}", api_immunization_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "delete Immunization"},
    {"GET", "/fhir/Immunization/{id}/_history", api_immunization_history,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of Immunization"},
    {"GET", "/fhir/Immunization/{id}/_history/{vid}", api_immunization_vread,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread Immunization"},
    {"GET", "/fhir/DocumentReference", api_documentreference_search, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "search DocumentReference"},
    {"POST", "/fhir/DocumentReference", api_documentreference_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "create DocumentReference"},
    {"GET", "/fhir/DocumentReference/{id}", api_documentreference_read,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "read DocumentReference"},
    {"PUT", "/fhir/DocumentReference/{id}", api_documentreference_update,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "update DocumentReference"},
    {"DELETE", "/fhir/DocumentReference/{id}", api_documentreference_delete,
     ROUTE_AUTH | ROUTE_WRITE,
     RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "delete DocumentReference"},
    {"GET", "/fhir/DocumentReference/{id}/_history",
     api_documentreference_history, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "history of DocumentReference"},
    {"GET", "/fhir/DocumentReference/{id}/_history/{vid}",
     api_documentreference_vread, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT,
     "vread DocumentReference"},
    /* ---- end of health record resources ---- */

    /* ---- report cards and channels (issue 5, items 1-3:
     * src/surveil/api_cards.c, api_channels.c).  Clinicians (and family
     * doctors) report for their institution, cdc and admin within their
     * area; only cdc and admin audit, delete duplicates and merge;
     * integrators push channel counts.  Literal paths before {id}. ---- */
    {"GET", "/api/v1/diseases", api_disease_list, ROUTE_AUTH, RHIS_ROLE_STAFF,
     "notifiable-disease catalogue"},
    {"GET", "/api/v1/report-cards/vocabulary", api_card_vocabulary, ROUTE_AUTH,
     RHIS_ROLE_STAFF, "report card vocabularies"},
    {"GET", "/api/v1/report-cards/duplicates", api_card_duplicates,
     ROUTE_AUTH | ROUTE_AUDIT, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "duplicate report cards to review"},
    {"GET", "/api/v1/report-cards", api_card_search, ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "search report cards (audit queue: status=pending)"},
    {"POST", "/api/v1/report-cards", api_card_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "report a case (传染病报告卡)"},
    {"GET", "/api/v1/report-cards/{id}", api_card_read,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "read a report card"},
    {"PUT", "/api/v1/report-cards/{id}", api_card_revise,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "revise a report card (订正)"},
    {"GET", "/api/v1/report-cards/{id}/versions", api_card_versions,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "versions of a report card"},
    {"GET", "/api/v1/report-cards/{id}/fhir", api_card_fhir,
     ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR,
     "a report card as FHIR R4 Condition"},
    {"POST", "/api/v1/report-cards/{id}/audit", api_card_audit,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "audit a report card (审核)"},
    {"POST", "/api/v1/report-cards/{id}/delete", api_card_delete,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |
         RHIS_ROLE_FAMILY_DOCTOR,
     "delete a report card with a reason"},
    {"POST", "/api/v1/report-cards/{id}/merge", api_card_merge,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "merge a duplicate report card into another"},
    {"POST", "/api/v1/report-cards/{id}/not-duplicate", api_card_not_duplicate,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "keep two report cards apart"},
    {"POST", "/api/v1/channel-counts/derive", api_channel_derive,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "derive clinic counts from encounters"},
    {"POST", "/api/v1/channel-counts", api_channel_ingest,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "push channel daily counts"},
    {"GET", "/api/v1/channel-counts", api_channel_series, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_PLANNER,
     "daily series of a channel"},
    /* ---- end of report cards and channels ---- */

    /* ---- signals and warnings (issue 5, items 6-7:
     * src/surveil/api_signal.c).  cdc within its area, admin; the
     * handlers confine lists to the caller's area and check the signal's
     * area before any answer.  Literal paths before {id}. ---- */
    {"GET", "/api/v1/signals", api_signal_list, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC, "list signals"},
    {"GET", "/api/v1/signals/kpi", api_signal_kpi, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_PLANNER,
     "signal response KPIs"},
    {"GET", "/api/v1/signals/grid", api_signal_grid, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC, "signals per child area"},
    {"GET", "/api/v1/signals/{id}", api_signal_get, ROUTE_AUTH | ROUTE_AUDIT,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC, "read a signal"},
    {"POST", "/api/v1/signals/{id}/verify", api_signal_verify,
     ROUTE_AUTH | ROUTE_WRITE, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "verify a signal"},
    {"POST", "/api/v1/signals/{id}/dismiss", api_signal_dismiss,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "dismiss a signal"},
    {"POST", "/api/v1/signals/{id}/escalate", api_signal_escalate,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "escalate a signal"},
    {"POST", "/api/v1/signals/{id}/warning", api_signal_warning,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_CDC,
     "raise a warning"},
    {"GET", "/api/v1/warn/runs", api_warn_runs, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_CDC, "daily detection runs"},
    {"POST", "/api/v1/warn/runs", api_warn_run,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN,
     "run a day's detection now"},
    /* ---- end of signals and warnings ---- */

    /* ---- plan monitoring (issue 6: src/plan/api_plans.c,
     * api_analytics.c, measure.c).  Planners, cdc, admin and integrators
     * read within their area (the handlers check the plan's or query's
     * areas); planners and admin enter survey/finance values. ---- */
    {"GET", "/api/v1/plans", api_plan_list, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "list plans"},
    {"GET", "/api/v1/plans/{plan}/status", api_plan_status, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "status of a plan's targets for a year"},
    {"GET", "/api/v1/plans/{plan}/lint", api_plan_lint, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "inconsistencies in a plan"},
    {"GET", "/api/v1/plans/{plan}/report", api_plan_report, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC,
     "monitoring report (html|csv)"},
    {"GET", "/api/v1/plans/{plan}/measure-reports", api_plan_measure_reports,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "the plan evaluation as FHIR MeasureReports"},
    {"GET", "/api/v1/plans/{plan}/rows/{row}/children", api_plan_row_children,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "a plan row's values per child area"},
    {"GET", "/api/v1/entered-values", api_entered_list, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "entered indicator values"},
    {"POST", "/api/v1/entered-values", api_entered_create,
     ROUTE_AUTH | ROUTE_WRITE | ROUTE_BODY, RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER,
     "enter a survey/finance/environment indicator value"},
    {"GET", "/api/v1/analytics", api_analytics, ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "analytics (DHIS2-style dx/ou/pe)"},
    {"GET", "/fhir/Measure", api_measure_search, ROUTE_AUTH, RHIS_ROLE_STAFF,
     "search Measure"},
    {"GET", "/fhir/Measure/{id}", api_measure_read, ROUTE_AUTH, RHIS_ROLE_STAFF,
     "read Measure"},
    {"GET", "/fhir/Measure/{id}/$evaluate-measure", api_measure_evaluate,
     ROUTE_AUTH,
     RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER | RHIS_ROLE_CDC | RHIS_ROLE_INTEGRATOR,
     "MeasureReport for an area and period"},
    /* ---- end of plan monitoring ---- */

    {"GET", "/", api_static, ROUTE_STATIC, 0, "web UI"},
    {"GET", "/{*path}", api_static, ROUTE_STATIC, 0, "web UI files"},
};

const rhis_route *
rhis_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}
