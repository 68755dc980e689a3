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

/* src/fhir/export.c (issue 3, item 5: Bulk Data $export) */
rhis_status api_bulk_export_system(rhis_req *req, rhis_resp *resp);
rhis_status api_bulk_export_patient(rhis_req *req, rhis_resp *resp);
rhis_status api_bulk_export_group(rhis_req *req, rhis_resp *resp);
rhis_status api_bulk_status(rhis_req *req, rhis_resp *resp);
rhis_status api_bulk_cancel(rhis_req *req, rhis_resp *resp);
rhis_status api_bulk_file(rhis_req *req, rhis_resp *resp);
/* end of Bulk Data */

/* src/fhir/bundle.c, src/fhir/everything.c (Bundles and $everything) */
rhis_status api_fhir_bundle(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_everything(rhis_req *req, rhis_resp *resp);

/* src/registry/patient.c (issue 3: Patient, the population register) */
rhis_status api_patient_search(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_create(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_read(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_update(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_history(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_vread(rhis_req *req, rhis_resp *resp);
/* end of Patient */

/* src/registry/api_mpi.c (issue 3, item 2: the master patient index) */
rhis_status api_mpi_review_list(rhis_req *req, rhis_resp *resp);
rhis_status api_mpi_review_merge(rhis_req *req, rhis_resp *resp);
rhis_status api_mpi_review_separate(rhis_req *req, rhis_resp *resp);
rhis_status api_mpi_merge(rhis_req *req, rhis_resp *resp);
rhis_status api_mpi_merge_list(rhis_req *req, rhis_resp *resp);
rhis_status api_mpi_merge_undo(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_match(rhis_req *req, rhis_resp *resp);
/* end of master patient index */

/* src/ehr/consent.c, src/ehr/api_access.c (issue 3: access to records) */
rhis_status api_consent_read(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_history(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_create(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_update(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_consent_search(rhis_req *req, rhis_resp *resp);
rhis_status api_break_glass_list(rhis_req *req, rhis_resp *resp);
rhis_status api_break_glass_review(rhis_req *req, rhis_resp *resp);
rhis_status api_me_access_log(rhis_req *req, rhis_resp *resp);
rhis_status api_patient_access_log(rhis_req *req, rhis_resp *resp);
/* end of access to records */

/* src/ehr/{encounter,condition,observation,immunization,document}.c
 * (issue 3, item 3: the health record resources) */
rhis_status api_encounter_read(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_history(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_create(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_update(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_encounter_search(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_read(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_history(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_create(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_update(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_condition_search(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_read(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_history(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_create(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_update(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_observation_search(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_read(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_history(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_create(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_update(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_immunization_search(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_read(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_vread(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_history(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_create(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_update(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_documentreference_search(rhis_req *req, rhis_resp *resp);
/* end of health record resources */

/* src/surveil/api_cards.c, api_channels.c (issue 5, items 1-3: report
 * cards, the disease catalogue, channel counts) */
rhis_status api_card_create(rhis_req *req, rhis_resp *resp);
rhis_status api_card_read(rhis_req *req, rhis_resp *resp);
rhis_status api_card_search(rhis_req *req, rhis_resp *resp);
rhis_status api_card_revise(rhis_req *req, rhis_resp *resp);
rhis_status api_card_delete(rhis_req *req, rhis_resp *resp);
rhis_status api_card_audit(rhis_req *req, rhis_resp *resp);
rhis_status api_card_versions(rhis_req *req, rhis_resp *resp);
rhis_status api_card_fhir(rhis_req *req, rhis_resp *resp);
rhis_status api_card_duplicates(rhis_req *req, rhis_resp *resp);
rhis_status api_card_merge(rhis_req *req, rhis_resp *resp);
rhis_status api_card_not_duplicate(rhis_req *req, rhis_resp *resp);
rhis_status api_card_vocabulary(rhis_req *req, rhis_resp *resp);
rhis_status api_disease_list(rhis_req *req, rhis_resp *resp);
rhis_status api_channel_ingest(rhis_req *req, rhis_resp *resp);
rhis_status api_channel_series(rhis_req *req, rhis_resp *resp);
rhis_status api_channel_derive(rhis_req *req, rhis_resp *resp);
/* end of report cards and channels */

/* src/surveil/api_signal.c (issue 5, items 6-7: signals and warnings) */
rhis_status api_signal_list(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_get(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_kpi(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_grid(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_verify(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_dismiss(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_escalate(rhis_req *req, rhis_resp *resp);
rhis_status api_signal_warning(rhis_req *req, rhis_resp *resp);
rhis_status api_warn_runs(rhis_req *req, rhis_resp *resp);
rhis_status api_warn_run(rhis_req *req, rhis_resp *resp);
/* end of signals and warnings */

/* src/plan/api_plans.c, api_analytics.c, measure.c (issue 6: plans,
 * status, lint, entered values, analytics, FHIR Measure) */
rhis_status api_plan_list(rhis_req *req, rhis_resp *resp);
rhis_status api_plan_status(rhis_req *req, rhis_resp *resp);
rhis_status api_plan_lint(rhis_req *req, rhis_resp *resp);
rhis_status api_plan_report(rhis_req *req, rhis_resp *resp);
rhis_status api_plan_row_children(rhis_req *req, rhis_resp *resp);
rhis_status api_entered_list(rhis_req *req, rhis_resp *resp);
rhis_status api_entered_create(rhis_req *req, rhis_resp *resp);
rhis_status api_analytics(rhis_req *req, rhis_resp *resp);
rhis_status api_measure_search(rhis_req *req, rhis_resp *resp);
rhis_status api_measure_read(rhis_req *req, rhis_resp *resp);
rhis_status api_measure_evaluate(rhis_req *req, rhis_resp *resp);
rhis_status api_plan_measure_reports(rhis_req *req, rhis_resp *resp);
/* end of plans */

#endif
