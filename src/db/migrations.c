/*
 * migrations.c - the versioned schema, applied in order by rhis init.
 *
 * Why: one schema on two engines.  Each step is common SQL with one
 * placeholder, @ID@, for an auto-numbered primary key; where the engines
 * truly differ (triggers), a step carries one text per engine.  Steps are
 * never edited once released: a change is a new step.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "rhis/alloc.h"
#include "rhis/buf.h"

typedef struct migration {
    int version;
    const char *name;
    const char *common;   /* both engines, may be NULL */
    const char *sqlite;   /* SQLite only, may be NULL */
    const char *postgres; /* PostgreSQL only, may be NULL */
} migration;

static const migration migrations[] = {
    {1, "core registries, users, audit",
     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
     "CREATE TABLE area ("
     " code TEXT PRIMARY KEY,"
     " name TEXT NOT NULL,"
     " level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
     " parent_code TEXT REFERENCES area(code),"
     " edition TEXT NOT NULL);"
     "CREATE INDEX area_parent ON area(parent_code);"
     "CREATE INDEX area_name ON area(name);"
     "CREATE TABLE population ("
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " year INTEGER NOT NULL,"
     " sex TEXT NOT NULL CHECK (sex IN ('M','F')),"
     " age_band INTEGER NOT NULL CHECK (age_band BETWEEN 0 AND 85"
     "  AND age_band % 5 = 0),"
     " population BIGINT NOT NULL CHECK (population >= 0),"
     " source TEXT,"
     " PRIMARY KEY (area_code, year, sex, age_band));"
     "CREATE TABLE institution ("
     " id @ID@,"
     " code TEXT NOT NULL UNIQUE,"
     " name TEXT NOT NULL,"
     " tier TEXT NOT NULL,"
     " grade TEXT,"
     " ownership TEXT NOT NULL CHECK (ownership IN ('public','private')),"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " beds_approved INTEGER NOT NULL DEFAULT 0 CHECK (beds_approved >= 0),"
     " beds_open INTEGER NOT NULL DEFAULT 0 CHECK (beds_open >= 0),"
     " lat DOUBLE PRECISION,"
     " lon DOUBLE PRECISION,"
     " phone TEXT,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE INDEX institution_area ON institution(area_code);"
     "CREATE INDEX institution_tier ON institution(tier, area_code);"
     "CREATE TABLE practitioner ("
     " id @ID@,"
     " name TEXT NOT NULL,"
     " sex TEXT CHECK (sex IN ('M','F')),"
     " licence_no TEXT UNIQUE,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE practitioner_role ("
     " id @ID@,"
     " practitioner_id BIGINT NOT NULL REFERENCES practitioner(id),"
     " institution_id BIGINT NOT NULL REFERENCES institution(id),"
     " role TEXT NOT NULL,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " updated_at BIGINT NOT NULL);"
     "CREATE INDEX practitioner_role_inst ON practitioner_role(institution_id);"
     "CREATE INDEX practitioner_role_pract ON "
     "practitioner_role(practitioner_id);"
     "CREATE TABLE app_user ("
     " id @ID@,"
     " username TEXT NOT NULL UNIQUE,"
     " password_hash TEXT NOT NULL,"
     " role TEXT NOT NULL,"
     " scope_area TEXT NOT NULL DEFAULT '',"
     " scope_institution BIGINT REFERENCES institution(id),"
     " disabled INTEGER NOT NULL DEFAULT 0,"
     " created_at BIGINT NOT NULL);"
     "CREATE TABLE auth_token ("
     " token_hash TEXT PRIMARY KEY,"
     " user_id BIGINT NOT NULL REFERENCES app_user(id),"
     " created_at BIGINT NOT NULL,"
     " expires_at BIGINT NOT NULL,"
     " revoked INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX auth_token_user ON auth_token(user_id);"
     "CREATE TABLE audit_event ("
     " id @ID@,"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " username TEXT,"
     " role TEXT,"
     " action TEXT NOT NULL,"
     " operation TEXT NOT NULL,"
     " resource_type TEXT,"
     " resource_id TEXT,"
     " patient_id TEXT,"
     " outcome INTEGER NOT NULL,"
     " address TEXT,"
     " request_id TEXT,"
     " detail TEXT);"
     "CREATE INDEX audit_event_ts ON audit_event(ts);"
     "CREATE INDEX audit_event_patient ON audit_event(patient_id);"
     "CREATE INDEX audit_event_user ON audit_event(user_id);",
     "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event"
     " BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
     "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event"
     " BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;",
     "CREATE FUNCTION audit_event_append_only() RETURNS trigger"
     " LANGUAGE plpgsql AS $$ BEGIN"
     " RAISE EXCEPTION 'audit_event is append-only'; END $$;"
     "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE"
     " ON audit_event FOR EACH ROW"
     " EXECUTE FUNCTION audit_event_append_only();"},
    {2, "residents, master patient index, health record",
     /* every version of every health-record resource, as served */
     "CREATE TABLE fhir_version ("
     " type TEXT NOT NULL,"
     " id BIGINT NOT NULL,"
     " version INTEGER NOT NULL,"
     " ts BIGINT NOT NULL,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " method TEXT NOT NULL,"
     " user_id BIGINT,"
     " patient_id BIGINT,"
     " json TEXT,"
     " PRIMARY KEY (type, id, version));"
     "CREATE INDEX fhir_version_ts ON fhir_version(ts);"
     "CREATE INDEX fhir_version_patient ON fhir_version(patient_id, ts);"
     "CREATE TABLE patient ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " id_number TEXT,"
     " name TEXT NOT NULL,"
     " family TEXT,"
     " given TEXT,"
     " name_pinyin TEXT,"
     " sex TEXT NOT NULL CHECK (sex IN ('M','F','O','U')),"
     " birth_date TEXT,"
     " birth_ms BIGINT,"
     " phone TEXT,"
     " area_code TEXT REFERENCES area(code),"
     " address_line TEXT,"
     " household TEXT,"
     " ethnicity TEXT,"
     " deceased_ms BIGINT,"
     " active INTEGER NOT NULL DEFAULT 1,"
     " merged_into BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE UNIQUE INDEX patient_id_number ON patient(id_number)"
     " WHERE deleted = 0 AND merged_into IS NULL;"
     "CREATE INDEX patient_name ON patient(name);"
     "CREATE INDEX patient_pinyin ON patient(name_pinyin);"
     "CREATE INDEX patient_birth ON patient(birth_ms);"
     "CREATE INDEX patient_area ON patient(area_code);"
     "CREATE INDEX patient_phone ON patient(phone);"
     "CREATE INDEX patient_merged ON patient(merged_into)"
     " WHERE merged_into IS NOT NULL;"
     "CREATE TABLE patient_identifier ("
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " system TEXT NOT NULL,"
     " value TEXT NOT NULL,"
     " PRIMARY KEY (system, value, patient_id));"
     "CREATE INDEX patient_identifier_value ON patient_identifier(value);"
     "CREATE INDEX patient_identifier_patient"
     " ON patient_identifier(patient_id);"
     /* master patient index */
     "CREATE TABLE mpi_review ("
     " id @ID@,"
     " patient_a BIGINT NOT NULL REFERENCES patient(id),"
     " patient_b BIGINT NOT NULL REFERENCES patient(id),"
     " score DOUBLE PRECISION NOT NULL,"
     " detail TEXT,"
     " status TEXT NOT NULL DEFAULT 'open'"
     "  CHECK (status IN ('open','merged','separate')),"
     " created_ms BIGINT NOT NULL,"
     " decided_ms BIGINT,"
     " decided_by BIGINT,"
     " UNIQUE (patient_a, patient_b),"
     " CHECK (patient_a < patient_b));"
     "CREATE INDEX mpi_review_status ON mpi_review(status, score);"
     "CREATE TABLE mpi_merge ("
     " id @ID@,"
     " survivor_id BIGINT NOT NULL REFERENCES patient(id),"
     " merged_id BIGINT NOT NULL REFERENCES patient(id),"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " reason TEXT,"
     " moved TEXT,"
     " undone_ms BIGINT,"
     " undone_by BIGINT);"
     "CREATE INDEX mpi_merge_merged ON mpi_merge(merged_id);"
     "CREATE INDEX mpi_merge_survivor ON mpi_merge(survivor_id);"
     "CREATE TABLE mpi_weight ("
     " field TEXT NOT NULL,"
     " level TEXT NOT NULL,"
     " m DOUBLE PRECISION NOT NULL,"
     " u DOUBLE PRECISION NOT NULL,"
     " estimated_ms BIGINT NOT NULL,"
     " PRIMARY KEY (field, level));"
     /* health record */
     "CREATE TABLE encounter ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " status TEXT NOT NULL,"
     " class TEXT NOT NULL,"
     " type_code TEXT,"
     " institution_id BIGINT REFERENCES institution(id),"
     " practitioner_id BIGINT REFERENCES practitioner(id),"
     " start_ms BIGINT,"
     " end_ms BIGINT,"
     " reason_code TEXT,"
     " reason_text TEXT);"
     "CREATE INDEX encounter_patient ON encounter(patient_id, start_ms);"
     "CREATE INDEX encounter_inst ON encounter(institution_id, start_ms);"
     "CREATE INDEX encounter_start ON encounter(start_ms);"
     "CREATE TABLE condition ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " clinical_status TEXT,"
     " verification_status TEXT,"
     " category TEXT,"
     " onset_ms BIGINT,"
     " recorded_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX condition_patient ON condition(patient_id);"
     "CREATE INDEX condition_code ON condition(code, recorded_ms);"
     "CREATE TABLE observation ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " category TEXT,"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " value_num DOUBLE PRECISION,"
     " value_text TEXT,"
     " unit TEXT,"
     " interpretation TEXT,"
     " effective_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX observation_patient"
     " ON observation(patient_id, code, effective_ms);"
     "CREATE INDEX observation_code ON observation(code, effective_ms);"
     "CREATE TABLE observation_component ("
     " observation_id BIGINT NOT NULL REFERENCES observation(id),"
     " code TEXT NOT NULL,"
     " code_system TEXT NOT NULL,"
     " value_num DOUBLE PRECISION,"
     " value_text TEXT,"
     " unit TEXT,"
     " PRIMARY KEY (observation_id, code));"
     "CREATE TABLE immunization ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " vaccine_code TEXT NOT NULL,"
     " vaccine_system TEXT NOT NULL,"
     " lot TEXT,"
     " dose_number INTEGER,"
     " occurrence_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id));"
     "CREATE INDEX immunization_patient"
     " ON immunization(patient_id, occurrence_ms);"
     "CREATE INDEX immunization_vaccine"
     " ON immunization(vaccine_code, occurrence_ms);"
     "CREATE TABLE document_reference ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " encounter_id BIGINT REFERENCES encounter(id),"
     " status TEXT NOT NULL,"
     " type_code TEXT,"
     " type_system TEXT,"
     " date_ms BIGINT,"
     " institution_id BIGINT REFERENCES institution(id),"
     " content_type TEXT,"
     " size BIGINT,"
     " title TEXT);"
     "CREATE INDEX document_reference_patient"
     " ON document_reference(patient_id, date_ms);"
     /* access to records */
     "CREATE TABLE consent ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " deleted INTEGER NOT NULL DEFAULT 0,"
     " updated_ms BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " status TEXT NOT NULL,"
     " provision TEXT NOT NULL CHECK (provision IN ('permit','deny')),"
     " actor_institution_id BIGINT REFERENCES institution(id),"
     " actor_area_code TEXT REFERENCES area(code),"
     " start_ms BIGINT,"
     " end_ms BIGINT,"
     " CHECK (actor_institution_id IS NOT NULL"
     "  OR actor_area_code IS NOT NULL));"
     "CREATE INDEX consent_patient ON consent(patient_id);"
     "CREATE TABLE break_glass ("
     " id @ID@,"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT NOT NULL,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " reason TEXT NOT NULL,"
     " request_id TEXT,"
     " reviewed_ms BIGINT,"
     " reviewed_by BIGINT,"
     " review_note TEXT);"
     "CREATE INDEX break_glass_open ON break_glass(reviewed_ms, ts);"
     "ALTER TABLE app_user ADD COLUMN patient_id BIGINT;"
     /* bulk data export jobs */
     "CREATE TABLE bulk_export ("
     " id @ID@,"
     " user_id BIGINT NOT NULL,"
     " level TEXT NOT NULL,"
     " params TEXT,"
     " status TEXT NOT NULL,"
     " created_ms BIGINT NOT NULL,"
     " completed_ms BIGINT,"
     " error TEXT);"
     "CREATE TABLE bulk_export_file ("
     " export_id BIGINT NOT NULL REFERENCES bulk_export(id),"
     " type TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " count BIGINT NOT NULL,"
     " ndjson TEXT NOT NULL,"
     " PRIMARY KEY (export_id, type, seq));",
     NULL, NULL},
    {3, "surveillance: report cards, channel counts",
     /* a report card (传染病报告卡): the current version, typed */
     "CREATE TABLE surveil_card ("
     " id @ID@,"
     " version INTEGER NOT NULL DEFAULT 1,"
     " status TEXT NOT NULL DEFAULT 'pending'"
     "  CHECK (status IN ('pending','audited','rejected','deleted',"
     "  'merged')),"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " id_number TEXT,"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " township_code TEXT NOT NULL,"
     " county_code TEXT NOT NULL,"
     " address_line TEXT,"
     " occupation TEXT NOT NULL,"
     " classification TEXT NOT NULL CHECK (classification IN"
     "  ('suspected','clinical','confirmed','carrier')),"
     " disease_code TEXT NOT NULL,"
     " disease_class TEXT NOT NULL,"
     " onset_ms BIGINT NOT NULL,"
     " onset_day TEXT NOT NULL,"
     " diagnosis_ms BIGINT NOT NULL,"
     " diagnosis_day TEXT NOT NULL,"
     " death_ms BIGINT,"
     " institution_id BIGINT NOT NULL REFERENCES institution(id),"
     " practitioner_id BIGINT REFERENCES practitioner(id),"
     " doctor TEXT,"
     " report_ms BIGINT NOT NULL,"
     " note TEXT,"
     " deadline_ms BIGINT NOT NULL,"
     " late INTEGER NOT NULL DEFAULT 0,"
     " audit_deadline_ms BIGINT NOT NULL,"
     " audited_ms BIGINT,"
     " audited_by BIGINT,"
     " audit_late INTEGER,"
     " audit_note TEXT,"
     " delete_reason TEXT,"
     " merged_into BIGINT,"
     " created_ms BIGINT NOT NULL,"
     " created_by BIGINT,"
     " updated_ms BIGINT NOT NULL,"
     " CHECK (onset_ms <= diagnosis_ms AND diagnosis_ms <= report_ms));"
     "CREATE INDEX surveil_card_person"
     " ON surveil_card(patient_id, disease_code, diagnosis_ms);"
     "CREATE INDEX surveil_card_county"
     " ON surveil_card(county_code, disease_code, diagnosis_day);"
     "CREATE INDEX surveil_card_audit"
     " ON surveil_card(status, audit_deadline_ms);"
     "CREATE INDEX surveil_card_inst"
     " ON surveil_card(institution_id, report_ms);"
     /* every version of every card, as it was */
     "CREATE TABLE surveil_card_version ("
     " card_id BIGINT NOT NULL REFERENCES surveil_card(id),"
     " version INTEGER NOT NULL,"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " action TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " json TEXT NOT NULL,"
     " PRIMARY KEY (card_id, version));"
     /* pairs of cards that look like one case reported twice */
     "CREATE TABLE surveil_card_dup ("
     " id @ID@,"
     " card_a BIGINT NOT NULL REFERENCES surveil_card(id),"
     " card_b BIGINT NOT NULL REFERENCES surveil_card(id),"
     " status TEXT NOT NULL DEFAULT 'open'"
     "  CHECK (status IN ('open','merged','separate')),"
     " created_ms BIGINT NOT NULL,"
     " decided_ms BIGINT,"
     " decided_by BIGINT,"
     " note TEXT,"
     " UNIQUE (card_a, card_b),"
     " CHECK (card_a < card_b));"
     "CREATE INDEX surveil_card_dup_status ON surveil_card_dup(status);"
     /* a fixed-threshold alert: one card of a listed disease, written with
      * the card; the signal workflow (migration 4) picks these up */
     "CREATE TABLE surveil_alert ("
     " id @ID@,"
     " kind TEXT NOT NULL CHECK (kind IN ('fixed_threshold')),"
     " disease_code TEXT NOT NULL,"
     " card_id BIGINT NOT NULL REFERENCES surveil_card(id),"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " county_code TEXT NOT NULL,"
     " day TEXT NOT NULL,"
     " created_ms BIGINT NOT NULL);"
     "CREATE INDEX surveil_alert_day ON surveil_alert(county_code, day);"
     /* daily counts of the surveillance channels */
     "CREATE TABLE channel_count ("
     " id @ID@,"
     " channel TEXT NOT NULL CHECK (channel IN ('fever_clinic',"
     "  'intestinal_clinic','school_absence','pharmacy','public_report',"
     "  'lab_positive')),"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " township_code TEXT NOT NULL,"
     " county_code TEXT NOT NULL,"
     " institution_id BIGINT REFERENCES institution(id),"
     " site TEXT NOT NULL DEFAULT '',"
     " day TEXT NOT NULL,"
     " day_ms BIGINT NOT NULL,"
     " category TEXT NOT NULL,"
     " count BIGINT NOT NULL CHECK (count >= 0),"
     " denominator BIGINT CHECK (denominator IS NULL OR denominator >= 0),"
     " source TEXT NOT NULL CHECK (source IN ('push','derived')),"
     " updated_ms BIGINT NOT NULL,"
     " user_id BIGINT);"
     "CREATE INDEX channel_count_key"
     " ON channel_count(channel, area_code, day, category);"
     "CREATE INDEX channel_count_township"
     " ON channel_count(channel, township_code, day);"
     "CREATE INDEX channel_count_county"
     " ON channel_count(channel, county_code, day);",
     NULL, NULL},
    {4, "surveillance signals, warnings, their workflow",
     /* a statistical signal; skey makes the daily run idempotent */
     "CREATE TABLE signal ("
     " id @ID@,"
     " skey TEXT NOT NULL UNIQUE,"
     " kind TEXT NOT NULL"
     "  CHECK (kind IN ('fixed','temporal','spatial','fused')),"
     " method TEXT NOT NULL,"
     " subject_type TEXT NOT NULL"
     "  CHECK (subject_type IN ('disease','channel','syndrome')),"
     " subject TEXT NOT NULL,"
     " subject_name TEXT,"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " day TEXT NOT NULL,"
     " period_start TEXT,"
     " observed DOUBLE PRECISION NOT NULL,"
     " expected DOUBLE PRECISION,"
     " upper_bound DOUBLE PRECISION,"
     " severity TEXT NOT NULL"
     "  CHECK (severity IN ('red','orange','yellow','blue')),"
     " evidence TEXT NOT NULL,"
     " created_ms BIGINT NOT NULL,"
     /* pushed 1: needs a response (deadline, escalation, KPI); 0: evidence
      * behind the pushed ones, no deadline (docs/internals/signals.md) */
     " pushed INTEGER NOT NULL DEFAULT 1 CHECK (pushed IN (0, 1)),"
     " deadline_ms BIGINT,"
     " responded_ms BIGINT,"
     " responded_by BIGINT,"
     " state TEXT NOT NULL DEFAULT 'new'"
     "  CHECK (state IN ('new','verified','dismissed','warning')),"
     " escalated INTEGER NOT NULL DEFAULT 0,"
     " escalated_ms BIGINT,"
     " escalated_to TEXT,"
     " fused_into BIGINT);"
     "CREATE INDEX signal_area_day ON signal(area_code, day);"
     "CREATE INDEX signal_day ON signal(day);"
     "CREATE INDEX signal_open ON signal(state, deadline_ms);"
     /* every change of state, with who, when and why */
     "CREATE TABLE signal_event ("
     " id @ID@,"
     " signal_id BIGINT NOT NULL REFERENCES signal(id),"
     " ts BIGINT NOT NULL,"
     " user_id BIGINT,"
     " username TEXT,"
     " action TEXT NOT NULL,"
     " from_state TEXT,"
     " to_state TEXT NOT NULL,"
     " note TEXT);"
     "CREATE INDEX signal_event_signal ON signal_event(signal_id, ts);"
     /* a warning (预警) is a person's decision on a signal */
     "CREATE TABLE warning ("
     " id @ID@,"
     " signal_id BIGINT NOT NULL UNIQUE REFERENCES signal(id),"
     " type TEXT NOT NULL"
     "  CHECK (type IN ('health_risk','alert_notice','decision_advice')),"
     " audience TEXT NOT NULL,"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " content TEXT NOT NULL,"
     " issued_ms BIGINT NOT NULL,"
     " issued_by BIGINT NOT NULL);"
     "CREATE INDEX warning_area ON warning(area_code, issued_ms);"
     /* one row per detection day: when it ran and what it found */
     "CREATE TABLE warn_run ("
     " day TEXT PRIMARY KEY,"
     " started_ms BIGINT NOT NULL,"
     " finished_ms BIGINT,"
     " status TEXT NOT NULL CHECK (status IN ('running','ok','failed')),"
     " series BIGINT NOT NULL DEFAULT 0,"
     " signals BIGINT NOT NULL DEFAULT 0,"
     " detail TEXT);",
     NULL, NULL},
    {5, "demo region: family-doctor contracts",
     /* a family-doctor contract (家庭医生签约): one row per continuous
      * spell, renewed every year; key_groups at signing (comma-separated
      * elderly, htn, t2d, maternal, child, disabled, smi; '' = none) */
     "CREATE TABLE fd_contract ("
     " id @ID@,"
     " patient_id BIGINT NOT NULL REFERENCES patient(id),"
     " institution_id BIGINT NOT NULL REFERENCES institution(id),"
     " practitioner_id BIGINT REFERENCES practitioner(id),"
     " start_ms BIGINT NOT NULL,"
     " end_ms BIGINT NOT NULL,"
     " key_groups TEXT NOT NULL,"
     " created_ms BIGINT NOT NULL,"
     " CHECK (end_ms >= start_ms));"
     "CREATE INDEX fd_contract_patient ON fd_contract(patient_id, start_ms);"
     "CREATE INDEX fd_contract_inst ON fd_contract(institution_id, start_ms);",
     NULL, NULL},
    {6, "plan monitoring: live aggregates of data elements",
     /* agg_count: per (element, leaf area, institution or 0, day) where
      * day = days since 1970-01-01 (China date), stocks on day 0;
      * agg_month: the same rolled up per month (YYYYMM) for every level
      * of the area code.  Both kept in the write's transaction
      * (src/plan/agg.c); SQLite stores them clustered by key. */
     NULL,
     "CREATE TABLE agg_count ("
     " element TEXT NOT NULL,"
     " area_code TEXT NOT NULL,"
     " institution_id BIGINT NOT NULL DEFAULT 0,"
     " day INTEGER NOT NULL,"
     " value BIGINT NOT NULL,"
     " PRIMARY KEY (element, area_code, day, institution_id))"
     " WITHOUT ROWID;"
     "CREATE TABLE agg_month ("
     " element TEXT NOT NULL,"
     " area_code TEXT NOT NULL,"
     " month INTEGER NOT NULL,"
     " value BIGINT NOT NULL,"
     " PRIMARY KEY (element, area_code, month)) WITHOUT ROWID;"
     "CREATE INDEX population_year ON population(year, area_code);",
     "CREATE TABLE agg_count ("
     " element TEXT COLLATE \"C\" NOT NULL,"
     " area_code TEXT COLLATE \"C\" NOT NULL,"
     " institution_id BIGINT NOT NULL DEFAULT 0,"
     " day INTEGER NOT NULL,"
     " value BIGINT NOT NULL,"
     " PRIMARY KEY (element, area_code, day, institution_id));"
     "CREATE TABLE agg_month ("
     " element TEXT COLLATE \"C\" NOT NULL,"
     " area_code TEXT COLLATE \"C\" NOT NULL,"
     " month INTEGER NOT NULL,"
     " value BIGINT NOT NULL,"
     " PRIMARY KEY (element, area_code, month));"
     "CREATE INDEX population_year ON population(year, area_code);"},
    {7, "plan monitoring: plans, targets, entered values",
     /* a plan (规划): jurisdiction code + horizon year, "220221:2025" */
     "CREATE TABLE plan ("
     " id TEXT PRIMARY KEY,"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " name_zh TEXT NOT NULL,"
     " name_en TEXT NOT NULL,"
     " baseline_year INTEGER NOT NULL,"
     " horizon INTEGER NOT NULL,"
     " loaded_ms BIGINT NOT NULL);"
     /* its targets and stated baselines, as in data/plan-targets.csv */
     "CREATE TABLE plan_target ("
     " plan_id TEXT NOT NULL REFERENCES plan(id),"
     " row_no INTEGER NOT NULL,"
     " kind TEXT NOT NULL CHECK (kind IN ('target','baseline')),"
     " domain TEXT NOT NULL,"
     " name_zh TEXT NOT NULL,"
     " name_en TEXT NOT NULL,"
     " indicator TEXT NOT NULL,"
     " measure TEXT NOT NULL,"
     " direction TEXT NOT NULL,"
     " unit TEXT NOT NULL,"
     " baseline_year INTEGER,"
     " baseline_text TEXT NOT NULL,"
     " baseline_num DOUBLE PRECISION,"
     " target_year INTEGER,"
     " target_text TEXT NOT NULL,"
     " op TEXT NOT NULL,"
     " target_num DOUBLE PRECISION,"
     " change TEXT NOT NULL,"
     " attribute TEXT NOT NULL,"
     " source TEXT NOT NULL,"
     " quote TEXT NOT NULL,"
     " PRIMARY KEY (plan_id, row_no));"
     "CREATE INDEX plan_target_measure ON plan_target(measure);"
     /* values of entered indicators (surveys, finance, environment):
      * append-only, the latest per (measure, area, year) is current */
     "CREATE TABLE plan_entered ("
     " id @ID@,"
     " measure TEXT NOT NULL,"
     " area_code TEXT NOT NULL REFERENCES area(code),"
     " year INTEGER NOT NULL,"
     " value DOUBLE PRECISION NOT NULL,"
     " source TEXT NOT NULL,"
     " person TEXT NOT NULL,"
     " note TEXT,"
     " user_id BIGINT,"
     " username TEXT,"
     " entered_ms BIGINT NOT NULL);"
     "CREATE INDEX plan_entered_key ON plan_entered(measure, area_code, year);",
     NULL, NULL},
    {8, "plan monitoring: month roll-up to townships, population roll-up",
     /* agg_month keeps province, city, county and township rows (codes of
      * at most 9 digits); villages are read from agg_count by key, and
      * each write dirties one aggregate row less per fact
      * (src/plan/agg.c, PLAN_MONTH_MAXLEN).  agg_pop: the population
      * table summed per area prefix of 2, 4, 6 and 9 digits (nrows: the
      * population rows summed), kept by triggers in the writer's
      * transaction, so a province's denominator is a few rows
      * (src/plan/value.c); derived, hence not in src/db/copy.c. */
     "DELETE FROM agg_month WHERE LENGTH(area_code) > 9;"
     "CREATE TABLE agg_pop ("
     " area_code TEXT NOT NULL,"
     " year INTEGER NOT NULL,"
     " sex TEXT NOT NULL,"
     " age_band INTEGER NOT NULL,"
     " population BIGINT NOT NULL,"
     " nrows BIGINT NOT NULL,"
     " PRIMARY KEY (area_code, year, sex, age_band));"
     "INSERT INTO agg_pop (area_code, year, sex, age_band, population, nrows)"
     " SELECT SUBSTR(p.area_code, 1, l.len), p.year, p.sex, p.age_band,"
     " SUM(p.population), COUNT(*) FROM population p,"
     " (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6"
     " UNION ALL SELECT 9) l WHERE LENGTH(p.area_code) >= l.len"
     " GROUP BY SUBSTR(p.area_code, 1, l.len), p.year, p.sex, p.age_band;",
     /* SQLite: one trigger per event; the SELECT of an upsert needs a
      * WHERE clause */
     "CREATE TRIGGER population_agg_ins AFTER INSERT ON population BEGIN"
     " INSERT INTO agg_pop (area_code, year, sex, age_band, population,"
     " nrows) SELECT SUBSTR(NEW.area_code, 1, l.len), NEW.year, NEW.sex,"
     " NEW.age_band, NEW.population, 1 FROM (SELECT 2 AS len UNION ALL"
     " SELECT 4 UNION ALL SELECT 6 UNION ALL SELECT 9) l"
     " WHERE LENGTH(NEW.area_code) >= l.len"
     " ON CONFLICT (area_code, year, sex, age_band) DO UPDATE SET"
     " population = agg_pop.population + excluded.population,"
     " nrows = agg_pop.nrows + excluded.nrows; END;"
     "CREATE TRIGGER population_agg_del AFTER DELETE ON population BEGIN"
     " UPDATE agg_pop SET population = population - OLD.population,"
     " nrows = nrows - 1 WHERE year = OLD.year AND sex = OLD.sex"
     " AND age_band = OLD.age_band AND area_code IN"
     " (SUBSTR(OLD.area_code, 1, 2), SUBSTR(OLD.area_code, 1, 4),"
     " SUBSTR(OLD.area_code, 1, 6), SUBSTR(OLD.area_code, 1, 9))"
     " AND LENGTH(area_code) <= LENGTH(OLD.area_code); END;"
     "CREATE TRIGGER population_agg_upd AFTER UPDATE ON population BEGIN"
     " UPDATE agg_pop SET population = population - OLD.population,"
     " nrows = nrows - 1 WHERE year = OLD.year AND sex = OLD.sex"
     " AND age_band = OLD.age_band AND area_code IN"
     " (SUBSTR(OLD.area_code, 1, 2), SUBSTR(OLD.area_code, 1, 4),"
     " SUBSTR(OLD.area_code, 1, 6), SUBSTR(OLD.area_code, 1, 9))"
     " AND LENGTH(area_code) <= LENGTH(OLD.area_code);"
     " INSERT INTO agg_pop (area_code, year, sex, age_band, population,"
     " nrows) SELECT SUBSTR(NEW.area_code, 1, l.len), NEW.year, NEW.sex,"
     " NEW.age_band, NEW.population, 1 FROM (SELECT 2 AS len UNION ALL"
     " SELECT 4 UNION ALL SELECT 6 UNION ALL SELECT 9) l"
     " WHERE LENGTH(NEW.area_code) >= l.len"
     " ON CONFLICT (area_code, year, sex, age_band) DO UPDATE SET"
     " population = agg_pop.population + excluded.population,"
     " nrows = agg_pop.nrows + excluded.nrows; END;",
     "CREATE FUNCTION population_agg() RETURNS trigger"
     " LANGUAGE plpgsql AS $$ BEGIN"
     " IF TG_OP IN ('UPDATE', 'DELETE') THEN"
     " UPDATE agg_pop SET population = population - OLD.population,"
     " nrows = nrows - 1 WHERE year = OLD.year AND sex = OLD.sex"
     " AND age_band = OLD.age_band AND area_code IN"
     " (SUBSTR(OLD.area_code, 1, 2), SUBSTR(OLD.area_code, 1, 4),"
     " SUBSTR(OLD.area_code, 1, 6), SUBSTR(OLD.area_code, 1, 9))"
     " AND LENGTH(area_code) <= LENGTH(OLD.area_code);"
     " END IF;"
     " IF TG_OP IN ('INSERT', 'UPDATE') THEN"
     " INSERT INTO agg_pop (area_code, year, sex, age_band, population,"
     " nrows) SELECT SUBSTR(NEW.area_code, 1, l.len), NEW.year, NEW.sex,"
     " NEW.age_band, NEW.population, 1 FROM unnest(ARRAY[2, 4, 6, 9])"
     " AS l(len) WHERE LENGTH(NEW.area_code) >= l.len"
     " ON CONFLICT (area_code, year, sex, age_band) DO UPDATE SET"
     " population = agg_pop.population + excluded.population,"
     " nrows = agg_pop.nrows + excluded.nrows;"
     " END IF;"
     " RETURN NULL; END $$;"
     "CREATE TRIGGER population_agg AFTER INSERT OR UPDATE OR DELETE"
     " ON population FOR EACH ROW EXECUTE FUNCTION population_agg();"},
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
rhis_db_schema_version_latest(void)
{
    return migrations[NMIGRATIONS - 1].version;
}

/* Copies sql into b with @ID@ replaced for the dialect. */
static rhis_status
expand(rhis_buf *b, const char *sql, rhis_dialect d)
{
    const char *id =
        d == RHIS_DIALECT_SQLITE
            ? "INTEGER PRIMARY KEY AUTOINCREMENT"
            : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    rhis_status rc = RHIS_OK;
    while (rc == RHIS_OK && *sql != '\0') {
        const char *at = strstr(sql, "@ID@");
        if (at == NULL)
            return rhis_buf_puts(b, sql);
        rc = rhis_buf_append(b, sql, (size_t)(at - sql));
        if (rc == RHIS_OK)
            rc = rhis_buf_puts(b, id);
        sql = at + 4;
    }
    return rc;
}

static rhis_status
current_version(rhis_db *db, int *version)
{
    rhis_status rc =
        rhis_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                         " version INTEGER PRIMARY KEY,"
                         " name TEXT NOT NULL,"
                         " applied_at BIGINT NOT NULL)");
    if (rc != RHIS_OK)
        return rc;
    int64_t v = 0;
    rc = rhis_db_scalar_int64(
        db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_version", "");
    *version = (int)v;
    return rc;
}

rhis_status
rhis_db_migrate(rhis_db *db, int *version)
{
    int cur = 0;
    rhis_status rc = current_version(db, &cur);
    if (rc != RHIS_OK)
        return rc;
    for (int i = 0; i < NMIGRATIONS; i++) {
        const migration *m = &migrations[i];
        if (m->version <= cur)
            continue;
        rhis_buf b;
        rhis_buf_init(&b, 1 << 20);
        const char *own = rhis_db_dialect(db) == RHIS_DIALECT_SQLITE
                              ? m->sqlite
                              : m->postgres;
        rc =
            expand(&b, m->common != NULL ? m->common : "", rhis_db_dialect(db));
        if (rc == RHIS_OK && own != NULL)
            rc = expand(&b, own, rhis_db_dialect(db));
        if (rc == RHIS_OK)
            rc = rhis_db_begin(db);
        if (rc == RHIS_OK)
            rc = rhis_db_exec(db, b.data);
        if (rc == RHIS_OK)
            rc = rhis_db_run(db,
                             "INSERT INTO schema_version"
                             " (version, name, applied_at) VALUES (?, ?, ?)",
                             "isi", (int64_t)m->version, m->name,
                             (int64_t)time(NULL));
        if (rc == RHIS_OK)
            rc = rhis_db_commit(db);
        rhis_buf_fini(&b);
        if (rc != RHIS_OK) {
            rhis_db_rollback(db);
            return rc;
        }
        cur = m->version;
    }
    *version = cur;
    return RHIS_OK;
}
