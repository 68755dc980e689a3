/*
 * patient.h - residents (全员人口) as FHIR R4 Patient: the typed row other
 * modules read, and the masking lists apply.
 *
 * Why: the population register is the spine of the health record; the
 * master patient index scores candidates on its typed columns (name and its
 * pinyin, sex, birth date, village code, phone), and every list that shows
 * residents must mask the ID number and phone the same way.  The FHIR
 * mapping itself is the store type rhis_type_patient (src/registry/
 * patient.c), used through the generic engine (rhis/fhirstore.h).
 *
 * Storage: table patient (one row per resident, the current version) and
 * patient_identifier (every identifier of the current version, the
 * resident ID number included).  A merged record keeps its row with
 * merged_into set (FHIR Patient.link type replaced-by).
 */
#ifndef RHIS_PATIENT_H
#define RHIS_PATIENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/idnum.h"
#include "rhis/status.h"

/* The FHIR store type (src/registry/patient.c). */
extern const rhis_fhir_type rhis_type_patient;

/* Extensions of Patient (RHIS_EXT_BASE + name). */
#define RHIS_EXT_ADDRESS_DIVISION RHIS_EXT_BASE "address-division"
#define RHIS_EXT_HOUSEHOLD        RHIS_EXT_BASE "household"
#define RHIS_EXT_ETHNICITY        RHIS_EXT_BASE "ethnicity"

/* deceased_ms when deceasedBoolean is true and the date is unknown. */
#define RHIS_PATIENT_DECEASED_UNDATED 0

/* The typed row of one resident (table patient). */
typedef struct rhis_patient {
    int64_t id;
    int64_t version;
    int deleted;
    int64_t updated_ms;
    char id_number[RHIS_IDNUM_LEN + 1]; /* "" when none */
    char name[128];                     /* "王丽" */
    char family[64];                    /* "" when not given */
    char given[64];
    char name_pinyin[400]; /* "wang li" */
    char sex;              /* 'M', 'F', 'O' or 'U' */
    char birth_date[11];   /* FHIR date: YYYY, YYYY-MM or YYYY-MM-DD; "" */
    int has_birth;         /* birth_ms is set */
    int64_t birth_ms;      /* UTC midnight of the (first) birth day */
    char phone[32];        /* "" when none */
    char area_code[16];    /* village/community code, "" when none */
    char address_line[256];
    char household[64];
    char ethnicity[3]; /* GB/T 3304 "01".."56", "97", "98"; "" */
    int deceased;      /* 1: deceased_ms is set */
    int64_t deceased_ms;
    int active;
    int64_t merged_into;    /* 0 unless merged (link replaced-by) */
    int64_t institution_id; /* managingOrganization, 0 if none */
} rhis_patient;

/*
 * Loads the typed row of Patient id into *out (deleted and merged rows
 * too: check out->deleted and out->merged_into).  RHIS_ENOTFOUND if there
 * is no such row.
 */
rhis_status rhis_patient_load(rhis_db *db, int64_t id, rhis_patient *out);

/* "male" -> 'M', "female" -> 'F', "other" -> 'O', "unknown" -> 'U';
 * 0 for anything else (NULL included). */
char rhis_patient_sex_of(const char *gender);
/* 'M' -> "male" ... 'U' -> "unknown"; NULL for anything else. */
const char *rhis_patient_gender_of(char sex);

/*
 * 1 if s is a phone number RHIS accepts: an 11-digit mobile number
 * starting with 1 (13x..19x), or a landline with its area code, "0" and 2
 * or 3 digits, an optional '-', then 7 or 8 digits ("0432-64201234").
 */
int rhis_patient_phone_valid(const char *s);

/*
 * Writes the list form of a phone number to out (always NUL-terminated):
 * the first 3 and last 4 characters kept, those between as '*'
 * ("138****5678", "043******1234").  Anything shorter than 8 characters,
 * or NULL, gives "****", so a short value never shows through.
 */
void rhis_patient_mask_phone(const char *s, char *out, size_t len);

/*
 * Masks a Patient resource in place for a list: the value of every
 * identifier of system RHIS_SYS_IDNUM with rhis_idnum_mask, every phone or
 * sms telecom value (the resident's and the contacts') with
 * rhis_patient_mask_phone, and drops the narrative (Patient.text), which
 * may repeat either.
 */
void rhis_patient_mask(json_object *res);

#endif
