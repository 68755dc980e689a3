/*
 * surveil_int.h - private helpers of the report-card and channel code
 * (catalogue.c, card.c, channel.c, syndrome.c, api_cards.c,
 * api_channels.c): Beijing-time calendar arithmetic, the "own transaction
 * unless the caller has one" rule, and audit events.
 *
 * Why: every write of the module follows the same shape (validate, open a
 * transaction if none, write, audit, commit or roll back), and every date
 * on a card is a Beijing date; both are written once here.
 */
#ifndef RHIS_SURVEIL_INT_H
#define RHIS_SURVEIL_INT_H

#include <stdint.h>

#include "rhis/fhirstore.h"
#include "rhis/surveil.h"

#define SURV_DAY_MS  ((int64_t)86400 * 1000)
#define SURV_HOUR_MS ((int64_t)3600 * 1000)
/* China Standard Time: UTC+8 all year */
#define SURV_TZ_MS (8 * SURV_HOUR_MS)
/* tolerated clock skew for "not in the future" */
#define SURV_SKEW_MS ((int64_t)5 * 60 * 1000)

/* Days since 1970-01-01 of a proleptic Gregorian date (no range check). */
int64_t surv_days_from_civil(int y, int m, int d);

/*
 * Parses "YYYY-MM-DD" (00:00 Beijing), "YYYY-MM-DDThh:mm[:ss[.fff]]"
 * (Beijing time) or the same followed by "Z" or "+hh:mm"/"-hh:mm".
 * Returns 1 and sets *ms on success, 0 for anything else (impossible
 * dates such as 2023-02-30 included).
 */
int surv_parse_time(const char *s, int64_t *ms);

/* Writes ms as "YYYY-MM-DDThh:mm:ss+08:00" (Beijing time). */
void surv_format_time(int64_t ms, char *out, size_t len);

/* The data directory for the caller: the server's data_dir, else
 * $RHIS_DATA_DIR, else "data". */
const char *surv_data_dir(const rhis_fhir_ctx *c);

/* Loads the catalogue if needed; on failure records a 503 on c. */
rhis_status surv_catalogue(rhis_fhir_ctx *c);

/* Opens a transaction when c->db has none, else a savepoint in the
 * caller's; *own says which (pass it to surv_tx_end). */
rhis_status surv_tx_begin(rhis_fhir_ctx *c, int *own);
/* Commits (rc == RHIS_OK) or rolls back what surv_tx_begin opened;
 * returns rc or the commit's failure. */
rhis_status surv_tx_end(rhis_fhir_ctx *c, int own, rhis_status rc);

/*
 * Writes an audit event about resource rtype/rid (patient pid, 0 = none)
 * for the caller of c (the system when c->user is NULL).  detail is short
 * and never patient data.
 */
rhis_status surv_audit(rhis_fhir_ctx *c,
                       const char *action,
                       const char *operation,
                       const char *rtype,
                       int64_t rid,
                       int64_t pid,
                       const char *detail);

/* 1 if the caller may act on data of area code (CLI: always). */
int surv_covers(const rhis_fhir_ctx *c, const char *code);

/*
 * The institution exists and is active, and the caller may report for
 * it: a user of one institution for that institution only, an
 * area-scoped user for institutions in the area.  expr names the field;
 * area (may be NULL) gets the institution's area code.
 */
rhis_status surv_check_institution(rhis_fhir_ctx *c,
                                   int64_t id,
                                   const char *expr,
                                   char area[16]);
/* code exists in the area table and is a village code (level 5) or,
 * with level 0, a township or village code. */
rhis_status surv_check_area(rhis_fhir_ctx *c,
                            const char *code,
                            int level,
                            const char *expr);

/* "SELECT <card columns> FROM surveil_card c ..." (alias c): append a
 * WHERE.  surv_card_json turns one of its rows into the API's JSON; mask
 * hides the ID number as lists do; now_ms decides audit_overdue. */
#define SURV_CARD_SELECT                                                       \
    "SELECT c.id, c.version, c.status, c.patient_id, c.id_number,"             \
    " c.area_code, c.address_line, c.occupation, c.classification,"            \
    " c.disease_code, c.disease_class, c.onset_ms, c.diagnosis_ms,"            \
    " c.death_ms, c.institution_id, c.practitioner_id, c.doctor,"              \
    " c.report_ms, c.note, c.deadline_ms, c.late, c.audit_deadline_ms,"        \
    " c.audited_ms, c.audited_by, c.audit_late, c.audit_note,"                 \
    " c.delete_reason, c.merged_into, c.created_ms, c.updated_ms,"             \
    " c.diagnosis_day, i.name, a.name"                                         \
    " FROM surveil_card c LEFT JOIN institution i ON i.id = c.institution_id"  \
    " LEFT JOIN area a ON a.code = c.area_code"
json_object *surv_card_json(rhis_stmt *st, int mask, int64_t now_ms);

/* Stores a count without the caller's checks (derived counts of
 * syndrome.c): replaces the row of the same key. */
rhis_status surv_channel_put(rhis_fhir_ctx *c,
                             const rhis_channel_count *in,
                             const char *source);

/* 1 if s is a well-formed ICD-10 code or prefix (A00, A01.0, I10.x00). */
int surv_icd10_valid(const char *s);

#endif
