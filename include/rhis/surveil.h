/*
 * surveil.h - notifiable-disease surveillance: the dated disease catalogue
 * (法定传染病目录), report cards (传染病报告卡) and the daily counts of the
 * surveillance channels (fever and intestinal clinics, school absenteeism,
 * pharmacy sales, public reports, lab positives).
 *
 * Why: the same rules must hold whether a card arrives over HTTP, from
 * the demo generator or from an importer - dates in order, a village code
 * that exists, a disease that is notifiable on the diagnosis date, the
 * legal reporting deadline, duplicate detection, an audit event per change
 * and a fixed-threshold alert on the write.  This header is the one door;
 * the HTTP handlers (src/surveil/api_*.c) call exactly these functions.
 *
 * Times are Unix milliseconds (UTC).  Calendar days ("YYYY-MM-DD") are
 * days in China Standard Time (UTC+8, no daylight saving): the day of a
 * diagnosis, the date a catalogue version takes effect and the day of a
 * channel count are all Beijing dates.
 *
 * Errors go through the rhis_fhir_ctx (rhis/fhirstore.h): c->err_text and
 * c->err_expr name the faulty field ("card.onset"); with a request they are
 * also recorded on it.  Outside HTTP use rhis_fhir_ctx_cli(c, db, arena):
 * the caller is then the system (audit events say user "system").
 *
 * Transactions: every write function runs inside the caller's transaction
 * when one is open (rhis_db_in_tx), in a savepoint of its own, else opens
 * and commits its own transaction; a failed call never leaves a partial
 * write (its savepoint or transaction is rolled back), so the caller's
 * transaction stays usable.
 */
#ifndef RHIS_SURVEIL_H
#define RHIS_SURVEIL_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/status.h"

/* "no value" for the optional times of a card */
#define RHIS_SURV_NONE INT64_MIN

/* ---- disease catalogue (data/notifiable-diseases.csv) ---- */

/* Reporting classes of 传染病防治法 */
typedef enum rhis_disease_class {
    RHIS_CLASS_A = 1,     /* 甲类 */
    RHIS_CLASS_B = 2,     /* 乙类 */
    RHIS_CLASS_C = 3,     /* 丙类 */
    RHIS_CLASS_OTHER = 4, /* 其他法定管理以及重点监测传染病 */
} rhis_disease_class;

/* One row of the catalogue: a disease over one validity period. */
typedef struct rhis_disease {
    char code[16];       /* RHIS catalogue code, stable across versions:
                          * "plague", "covid19" (data/README.md) */
    char name[96];       /* 中文名 "鼠疫" */
    char name_en[96];    /* "Plague" */
    int dclass;          /* rhis_disease_class */
    int managed_as_a;    /* 乙类甲管: reported and handled as class A */
    char icd10[128];     /* ';'-separated codes or prefixes: "A20;A21" */
    int deadline_hours;  /* reporting deadline from diagnosis: 2 or 24 */
    int fixed_threshold; /* one case raises an alert on the write */
    int mpm_percentile;  /* CIDARS moving percentile threshold (P50..P90),
                          * 0 = not under the temporal model */
    int min_cases;       /* detector minimum count before an alert */
    char valid_from[11]; /* first day in force, "YYYY-MM-DD" */
    char valid_to[11];   /* last day in force, "" = still in force */
} rhis_disease;

/*
 * Loads the catalogue from dir/notifiable-diseases.csv, once per process
 * (the first call; later calls reuse it; thread-safe).  RHIS_EINVAL with
 * "path:line: message" in err for a malformed file (bad header, bad field,
 * overlapping validity periods of one code); RHIS_EIO if unreadable.
 */
rhis_status
rhis_disease_catalogue_load(const char *dir, char *err, size_t errlen);

/*
 * Parses a catalogue file into a new array (*out, *n; free with
 * rhis_free).  The checks of rhis_disease_catalogue_load; for tests and
 * `rhis check`.
 */
rhis_status rhis_disease_catalogue_parse(
    const char *path, rhis_disease **out, size_t *n, char *err, size_t errlen);

/*
 * The catalogue entry of disease `code` in force on Beijing day `day`
 * ("YYYY-MM-DD").  The catalogue must be loaded.  RHIS_ENOTFOUND when the
 * code is unknown or not notifiable on that day; *out points into the
 * loaded catalogue (lives for the process).
 */
rhis_status
rhis_disease_find(const char *code, const char *day, const rhis_disease **out);

/*
 * The catalogue entry for an ICD-10 code on a day (longest matching
 * prefix: "A01.0" matches "A01" 伤寒和副伤寒).  RHIS_ENOTFOUND if none.
 */
rhis_status rhis_disease_by_icd10(const char *icd10,
                                  const char *day,
                                  const rhis_disease **out);

/* Every loaded row (all versions), for listing; NULL before loading. */
const rhis_disease *rhis_disease_all(size_t *n);

/* ---- report cards ---- */

/* Case classification on the card (病例分类) */
#define RHIS_CARD_SUSPECTED "suspected" /* 疑似病例 */
#define RHIS_CARD_CLINICAL  "clinical"  /* 临床诊断病例 */
#define RHIS_CARD_CONFIRMED "confirmed" /* 确诊病例 */
#define RHIS_CARD_CARRIER   "carrier"   /* 病原携带者 */

/* What a caller fills to create or revise a card. */
typedef struct rhis_card {
    int64_t patient_id;      /* Patient/id; 0 = find by id_number */
    char id_number[19];      /* 18-character resident ID; "" if unknown
                              * (then patient_id is required) */
    char area_code[16];      /* current address: a 12-digit village code */
    char address_line[128];  /* street and house, may be "" */
    char occupation[32];     /* a code of rhis_card_occupations() */
    char classification[16]; /* RHIS_CARD_* */
    char disease[16];        /* catalogue code, e.g. "0201" */
    int64_t onset_ms;        /* onset (发病日期); required */
    int64_t diagnosis_ms;    /* diagnosis time (诊断时间); required */
    int64_t death_ms;        /* death (死亡日期); RHIS_SURV_NONE if alive */
    int64_t institution_id;  /* reporting institution; required */
    int64_t practitioner_id; /* reporting doctor; 0 = none (then doctor) */
    char doctor[64];         /* reporting doctor's name if not registered */
    int64_t report_ms;       /* report time (报告时间); 0 = now */
    char note[256];          /* 备注, may be "" */
} rhis_card;

/* Audit states of a card (审核) */
#define RHIS_CARD_PENDING  "pending"  /* awaiting county-CDC audit */
#define RHIS_CARD_AUDITED  "audited"  /* 已审核 */
#define RHIS_CARD_REJECTED "rejected" /* 审核不通过: returned to revise */
#define RHIS_CARD_DELETED  "deleted"  /* 已删除 (with a reason) */
#define RHIS_CARD_MERGED   "merged"   /* duplicate merged into another */

/* What a write reports back. */
typedef struct rhis_card_result {
    int64_t id;
    int64_t version;
    int64_t deadline_ms;       /* diagnosis + 2 h or 24 h */
    int late;                  /* report_ms > deadline_ms */
    int64_t audit_deadline_ms; /* county CDC audit due (see surveil.md) */
    int64_t duplicate_of;      /* an earlier live card of the same person
                                * and disease within the window, or 0 */
    int64_t alert_id;          /* surveil_alert row written, or 0 */
} rhis_card_result;

/* Duplicate window: same person, same disease, diagnoses this close. */
#define RHIS_CARD_DUP_DAYS 30

/*
 * Validates in and creates a card (version 1, status pending): the patient
 * exists (or is found by id_number, which must match when both are given),
 * area_code is an existing village code, the disease is in the catalogue
 * on the Beijing day of the diagnosis, onset <= diagnosis <= report <= now
 * (+5 min clock skew), death >= onset, the institution exists and the
 * caller may report for it (clinicians: their own institution; cdc and
 * admin: within their area).  Computes the deadline, the late flag and a
 * possible duplicate; writes an audit event and, for a fixed-threshold
 * disease, a surveil_alert row.  *out may be NULL.
 */
rhis_status
rhis_card_create(rhis_fhir_ctx *c, const rhis_card *in, rhis_card_result *out);

/*
 * Revises card id to in (same validation): a new version; the previous
 * one stays readable (surveil_card_version).  if_version > 0 must equal
 * the current version (else RHIS_EPRECOND).  An audited card goes back to
 * pending.  RHIS_ENOTFOUND if missing; RHIS_ECONFLICT if deleted/merged.
 */
rhis_status rhis_card_revise(rhis_fhir_ctx *c,
                             int64_t id,
                             const rhis_card *in,
                             int64_t if_version,
                             rhis_card_result *out);

/*
 * County-CDC audit (审核): decision "audited" or "rejected" (rejected needs
 * a note).  Caller must be cdc or admin covering the card's area.  Records
 * who and when and whether the audit met its deadline.
 */
rhis_status rhis_card_audit(rhis_fhir_ctx *c,
                            int64_t id,
                            const char *decision,
                            const char *note);

/* Deletes card id with a reason (required, 1..500 bytes): status deleted,
 * a new version; the card stays readable. */
rhis_status rhis_card_delete(rhis_fhir_ctx *c, int64_t id, const char *reason);

/*
 * Merges duplicate card dup into card keep (same patient and disease):
 * dup becomes status merged with merged_into = keep; its review row (if
 * any) is closed.  RHIS_EINVAL if patient or disease differ.
 */
rhis_status
rhis_card_merge(rhis_fhir_ctx *c, int64_t keep, int64_t dup, const char *note);

/* Marks the review pair of card a and b as not duplicates. */
rhis_status rhis_card_not_duplicate(rhis_fhir_ctx *c,
                                    int64_t a,
                                    int64_t b,
                                    const char *note);

/*
 * Reporting deadline of a disease: diagnosis_ms + 2 h for class A and
 * managed as A, else + the catalogue's deadline_hours (2 or 24); + 2 h
 * when d is NULL.
 */
int64_t rhis_card_deadline(const rhis_disease *d, int64_t diagnosis_ms);

/* Occupation codes (人群分类 of the card) and their labels; NULL past end.
 */
const char *rhis_card_occupation_at(size_t i, const char **label);
int rhis_card_occupation_valid(const char *code);

/*
 * Parses a card from JSON (the body of POST /api/v1/report-cards) into
 * *out, checking types, lengths and formats only (no database).  Unknown
 * fields are an error.  Used by the handler and the fuzz target.
 */
rhis_status
rhis_card_parse(rhis_fhir_ctx *c, const char *json, size_t len, rhis_card *out);

/* ---- channels ---- */

typedef enum rhis_channel {
    RHIS_CH_FEVER = 1,      /* fever-clinic visits (发热门诊) */
    RHIS_CH_INTESTINAL = 2, /* intestinal-clinic visits (肠道门诊) */
    RHIS_CH_SCHOOL = 3,     /* school/kindergarten absenteeism (因病缺课) */
    RHIS_CH_PHARMACY = 4,   /* pharmacy sales by drug class (药店销售) */
    RHIS_CH_PUBLIC = 5,     /* public reports (群众报告/舆情) */
    RHIS_CH_LAB = 6,        /* lab positives (实验室阳性) */
} rhis_channel;

/* "fever_clinic", "intestinal_clinic", "school_absence", "pharmacy",
 * "public_report", "lab_positive"; NULL if ch is unknown. */
const char *rhis_channel_name(rhis_channel ch);
/* The channel of a name, 0 if unknown. */
rhis_channel rhis_channel_parse(const char *name);

/* One daily count. */
typedef struct rhis_channel_count {
    rhis_channel channel;
    char area_code[16];     /* township (9) or village (12) code */
    int64_t institution_id; /* reporting institution; 0 allowed only for
                             * school_absence, pharmacy (then site is
                             * required) and public_report */
    char site[64];          /* school / pharmacy / source name, may be "" */
    char day[11];           /* Beijing day "YYYY-MM-DD", not in future */
    char category[32];      /* what is counted, by channel:
                             * fever/intestinal: a syndrome code or "all";
                             * school: reason (fever, respiratory, gi,
                             *   rash, other, unknown);
                             * pharmacy: drug class (antipyretic,
                             *   antidiarrheal, cough_cold, antiviral);
                             * public: report type (rumor, cluster, other);
                             * lab: pathogen code (free, 1..31 chars) */
    int64_t count;          /* >= 0 */
    int64_t denominator;    /* school: enrolled pupils; else 0 */
} rhis_channel_count;

/*
 * Validates and stores one count, replacing the row of the same (channel,
 * area, institution, site, day, category).  Audited (operation
 * "channel-ingest", no patient).  The channel's vocabulary for category
 * is checked.
 */
rhis_status rhis_channel_add(rhis_fhir_ctx *c, const rhis_channel_count *in);

/* Several counts, all or nothing; *n_done = rows written. */
rhis_status rhis_channel_add_batch(rhis_fhir_ctx *c,
                                   const rhis_channel_count *in,
                                   size_t n,
                                   size_t *n_done);

/*
 * Area and institution checks already passed, remembered across calls of
 * rhis_channel_add_new within ONE transaction (each check is a query;
 * the demo's county sends the same few areas and institutions day after
 * day).  Free it before the transaction ends: after a commit or rollback
 * its answers may no longer be the database's.
 */
typedef struct rhis_channel_checks rhis_channel_checks;
rhis_channel_checks *rhis_channel_checks_new(void);
/* NULL is a no-op. */
void rhis_channel_checks_free(rhis_channel_checks *k);

/*
 * Same checks and audit as rhis_channel_add_batch, for counts whose keys
 * have no row yet and are distinct within the batch (the demo's county,
 * loaded fresh in its own transaction): the rows are INSERTed in bulk,
 * many rows a statement, without the UPDATE that replaces an earlier
 * value.  The caller guarantees the precondition; a count whose key
 * already has a row would leave two rows.  checks: see above, or NULL.
 */
rhis_status rhis_channel_add_new(rhis_fhir_ctx *c,
                                 const rhis_channel_count *in,
                                 size_t n,
                                 rhis_channel_checks *checks,
                                 size_t *n_done);

/* ---- syndromes from encounters (data/syndromes.csv) ---- */

/*
 * Counts Encounters per (syndrome, township, day) for Beijing days
 * [day_from, day_to]: an encounter counts for a syndrome when its chief
 * complaint (encounter.reason_text) contains one of the syndrome's
 * keywords or its reason_code / a Condition of the encounter starts with
 * one of its ICD-10 prefixes; township = the first 9 digits of the
 * institution's area code.  Writes the counts into channel_count as
 * channel fever_clinic (syndrome "fever") or intestinal_clinic
 * ("intestinal") with category = syndrome and institution = the
 * encounter's institution, replacing derived rows of those days.
 * *rows = rows written.
 */
rhis_status rhis_syndrome_derive(rhis_fhir_ctx *c,
                                 const char *day_from,
                                 const char *day_to,
                                 int64_t *rows);

/* ---- helpers ---- */

/* Beijing day of a Unix ms instant into out[11]. */
void rhis_surv_day_of(int64_t ms, char out[11]);
/* Unix ms of 00:00 Beijing time of day "YYYY-MM-DD"; RHIS_EINVAL if it is
 * not a real calendar date. */
rhis_status rhis_surv_day_ms(const char *day, int64_t *ms);

#endif
