/*
 * mpi.h - the master patient index: which Patient records are the same
 * resident.
 *
 * Why: hospitals, clinics and the public-health programmes each register
 * residents, often without the ID number (children, the elderly, an
 * emergency) and with typing errors: a homophone character picked from the
 * pinyin input method (王丽 / 王莉), day and month swapped, a changed phone.
 * Each such record is a duplicate that splits one person's history.  The
 * index finds them: a valid ID number that is equal is a certain match;
 * otherwise a Fellegi-Sunter score sums, per field, log2(m/u) of the
 * agreement level seen (m: how often true matches show that level, u: how
 * often non-matches do), and two thresholds cut it into link / review /
 * non-link.  m and u are estimated from the data by EM (table mpi_weight);
 * the defaults below serve until then.
 *
 * Pieces:
 * - comparators and weights: pure functions, safe from any thread;
 * - rhis_mpi_index: an in-memory index of residents with blocking keys, so a
 *   query scores tens of candidates, not a million; one rwlock inside, so
 *   queries run in parallel and writers (Patient create/update) take turns;
 * - the server's global index (loaded from table patient on first use) and
 *   the hooks the Patient store and the HTTP handlers use.
 *
 * Nothing here logs personal data.
 */
#ifndef RHIS_MPI_H
#define RHIS_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/patient.h"
#include "rhis/status.h"

/*
 * Decision thresholds on the total weight (sum of log2(m/u) over fields).
 * A pair at or above LINK is a probable match (FHIR match-grade
 * "probable"); at or above REVIEW it goes to the review queue ("possible");
 * below it is a non-link.  The API may override both per request:
 * $match Parameters "linkThreshold" / "reviewThreshold" (valueDecimal), or
 * the same names in its query string; they must lie within
 * RHIS_MPI_THRESHOLD_MIN..MAX and review <= link.  The values come from
 * bench/mpi.c (docs/internals/mpi.md).
 */
#define RHIS_MPI_LINK_THRESHOLD   20.0
#define RHIS_MPI_REVIEW_THRESHOLD 12.0
/*
 * A pair reaches review only when the fields other than the name add at
 * least this much weight: a shared name (even a rare one) with a shared
 * birth year and nothing else is a namesake, not a case for review.
 */
#define RHIS_MPI_REVIEW_MIN_OTHER 2.0
#define RHIS_MPI_THRESHOLD_MIN    (-60.0)
#define RHIS_MPI_THRESHOLD_MAX    100.0

/* The fields compared, and their agreement levels (best first). */
typedef enum rhis_mpi_field {
    RHIS_MPI_NAME = 0,
    RHIS_MPI_BIRTH,
    RHIS_MPI_SEX,
    RHIS_MPI_AREA,
    RHIS_MPI_PHONE,
    RHIS_MPI_NFIELDS
} rhis_mpi_field;

#define RHIS_MPI_MAXLEVELS 4
/* A field missing on either side: weight 0, and EM ignores it. */
#define RHIS_MPI_MISSING (-1)

/* name */
#define RHIS_MPI_NAME_EXACT    0 /* same characters */
#define RHIS_MPI_NAME_PINYIN   1 /* same toneless pinyin: a homophone */
#define RHIS_MPI_NAME_SIMILAR  2 /* pinyin within 1 edit, or same initials */
#define RHIS_MPI_NAME_DISAGREE 3
/* birth date */
#define RHIS_MPI_BIRTH_EXACT    0
#define RHIS_MPI_BIRTH_NEAR     1 /* day/month swapped, 1 digit, transposed */
#define RHIS_MPI_BIRTH_YEAR     2 /* same year only */
#define RHIS_MPI_BIRTH_DISAGREE 3
/* sex */
#define RHIS_MPI_SEX_AGREE    0
#define RHIS_MPI_SEX_DISAGREE 1
/* village code */
#define RHIS_MPI_AREA_EXACT    0 /* same 12-digit village/community */
#define RHIS_MPI_AREA_TOWNSHIP 1 /* same 9-digit township prefix */
#define RHIS_MPI_AREA_DISAGREE 2
/* phone */
#define RHIS_MPI_PHONE_EXACT    0
#define RHIS_MPI_PHONE_DISAGREE 1

/* Number of agreement levels of field f (2..4). */
int rhis_mpi_nlevels(rhis_mpi_field f);
/* "name", "birthDate", "gender", "village", "phone". */
const char *rhis_mpi_field_name(rhis_mpi_field f);
/* "exact", "pinyin", "similar", "disagree", ... ; "missing" for
 * RHIS_MPI_MISSING; NULL for a level the field does not have. */
const char *rhis_mpi_level_name(rhis_mpi_field f, int level);

/*
 * A person as the index sees one: borrowed strings, any of which may be
 * NULL or "" when unknown.  birth_date is a FHIR date (YYYY, YYYY-MM or
 * YYYY-MM-DD); area_code a division code of 6, 9 or 12 digits; sex 'M',
 * 'F', 'O', or 0 / 'U' when unknown.  id_number counts only when
 * rhis_idnum_check accepts it.
 */
typedef struct rhis_mpi_person {
    int64_t id; /* Patient id; 0 for a query */
    const char *name;
    const char *id_number;
    char sex;
    const char *birth_date;
    const char *phone;
    const char *area_code;
} rhis_mpi_person;

/* ---- comparators (pure) ---- */

/* Each returns a level of its field or RHIS_MPI_MISSING. */
int rhis_mpi_cmp_name(const char *a, const char *b);
int rhis_mpi_cmp_birth(const char *a, const char *b);
int rhis_mpi_cmp_sex(char a, char b);
int rhis_mpi_cmp_area(const char *a, const char *b);
int rhis_mpi_cmp_phone(const char *a, const char *b);

/* ---- weights ---- */

/*
 * m and u per field and level; w = log2(m / u).  Levels a field does not
 * have are 0.  estimated_ms is 0 for the defaults.
 */
typedef struct rhis_mpi_weights {
    double m[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS];
    double u[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS];
    double w[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS];
    int64_t estimated_ms;
} rhis_mpi_weights;

/* The built-in m/u (docs/internals/mpi.md says where they come from). */
void rhis_mpi_weights_default(rhis_mpi_weights *w);
/* Recomputes w from m and u (both clamped to [1e-6, 1 - 1e-6]). */
void rhis_mpi_weights_update(rhis_mpi_weights *w);
/*
 * Reads table mpi_weight over the defaults: a (field, level) row replaces
 * the default m/u; missing rows keep the default.  Unknown rows are
 * ignored.
 */
rhis_status rhis_mpi_weights_load(rhis_db *db, rhis_mpi_weights *w);
/* Replaces every row of mpi_weight with w (one transaction of the
 * caller's, or its own when none is open). */
rhis_status rhis_mpi_weights_save(rhis_db *db, const rhis_mpi_weights *w);

/* ---- comparing two persons ---- */

/* How a pair compares: per field level and weight, the total, and the ID
 * numbers (both valid: equal or different). */
typedef struct rhis_mpi_compare {
    signed char level[RHIS_MPI_NFIELDS];
    double weight[RHIS_MPI_NFIELDS];
    double total;
    int id_equal;  /* both valid and equal: a certain match */
    int id_differ; /* both valid and different: certainly not */
} rhis_mpi_compare;

void rhis_mpi_compare_persons(const rhis_mpi_weights *w,
                              const rhis_mpi_person *a,
                              const rhis_mpi_person *b,
                              rhis_mpi_compare *out);

/* FHIR match-grade, plus "none" below the review threshold. */
typedef enum rhis_mpi_grade {
    RHIS_MPI_NONE = 0,      /* non-link */
    RHIS_MPI_CERTAINLY_NOT, /* different valid ID numbers */
    RHIS_MPI_POSSIBLE,      /* review band */
    RHIS_MPI_PROBABLE,      /* link band */
    RHIS_MPI_CERTAIN,       /* equal valid ID numbers */
} rhis_mpi_grade;

/* The grade of c under the thresholds (link >= review); possible also
 * needs RHIS_MPI_REVIEW_MIN_OTHER from the fields besides the name. */
rhis_mpi_grade
rhis_mpi_grade_of(const rhis_mpi_compare *c, double link, double review);
/* "certain", "probable", "possible", "certainly-not"; NULL for NONE. */
const char *rhis_mpi_grade_code(rhis_mpi_grade g);
/*
 * The 0..1 score $match reports (Bundle.entry.search.score): 1 for a
 * certain match, else the logistic of total centred half-way between the
 * thresholds, so review maps near 0.1 and link near 0.9 at the defaults.
 */
double rhis_mpi_score01(const rhis_mpi_compare *c, double link, double review);
/*
 * The field-by-field detail as JSON (new object, caller's):
 * {"name":{"level":"pinyin","weight":4.1}, ..., "idNumber":"equal"|
 * "different"|"missing", "total":14.2}.
 */
json_object *rhis_mpi_detail_json(const rhis_mpi_compare *c);

/* ---- the in-memory index ---- */

typedef struct rhis_mpi_index rhis_mpi_index;

/* A new empty index with the default weights.  Free with _free. */
rhis_mpi_index *rhis_mpi_index_new(void);
/* NULL is a no-op. */
void rhis_mpi_index_free(rhis_mpi_index *ix);
/* Adds p (p->id > 0), replacing any entry of the same id. */
void rhis_mpi_index_put(rhis_mpi_index *ix, const rhis_mpi_person *p);
/* Removes id; absent ids are ignored. */
void rhis_mpi_index_remove(rhis_mpi_index *ix, int64_t id);
/* Residents indexed, and the heap bytes the index holds. */
size_t rhis_mpi_index_count(rhis_mpi_index *ix);
size_t rhis_mpi_index_memory(rhis_mpi_index *ix);
/* Copies the weights in use to *out / replaces them by *w. */
void rhis_mpi_index_weights(rhis_mpi_index *ix, rhis_mpi_weights *out);
void rhis_mpi_index_set_weights(rhis_mpi_index *ix, const rhis_mpi_weights *w);

/*
 * Loads every live Patient (not deleted, not merged) of table patient into
 * ix, in pages of 10,000 rows (keyset on id), and the weights of table
 * mpi_weight.  *n (may be NULL) gets the number loaded.
 */
rhis_status rhis_mpi_index_load(rhis_mpi_index *ix, rhis_db *db, int64_t *n);

/* One scored candidate of a query. */
typedef struct rhis_mpi_candidate {
    int64_t id;
    rhis_mpi_grade grade;
    rhis_mpi_compare cmp;
} rhis_mpi_candidate;

/*
 * Compares a and b as rhis_mpi_compare_persons does, with ix's weights and
 * the name weight adjusted to how common b's name is in ix (see
 * rhis_mpi_index_match).  Re-scoring a candidate of a match from its
 * stored row must use this, not rhis_mpi_compare_persons.
 */
void rhis_mpi_index_compare(rhis_mpi_index *ix,
                            const rhis_mpi_person *a,
                            const rhis_mpi_person *b,
                            rhis_mpi_compare *out);

/*
 * Scores q against the residents sharing a blocking key with it (its ID
 * number; pinyin initials + birth date, also with day and month swapped;
 * full pinyin + birth year; phone; pinyin initials + village) and writes
 * the best at most max candidates to out, best first: certain, then by
 * total weight; certainly-not last.  Candidates below review are left out,
 * as is q->id.  The weight of an exact or pinyin name agreement is
 * frequency-adjusted: u is the share of the index's residents with that
 * name (pinyin), counted over at least 100 000, when that is above the
 * weights' u - a common name weighs less.  Returns the number written.
 * Takes the read lock only.
 */
int rhis_mpi_index_match(rhis_mpi_index *ix,
                         const rhis_mpi_person *q,
                         double link,
                         double review,
                         rhis_mpi_candidate *out,
                         int max);

/* ---- estimating m and u (EM) ---- */

/* Blocking key types (bit masks for rhis_mpi_index_em_pairs). */
enum {
    RHIS_MPI_KEY_ID = 1u << 0,      /* the ID number */
    RHIS_MPI_KEY_INIDATE = 1u << 1, /* pinyin initials + birth date */
    RHIS_MPI_KEY_PYYEAR = 1u << 2,  /* full pinyin + birth year */
    RHIS_MPI_KEY_PHONE = 1u << 3,
    RHIS_MPI_KEY_INIVIL = 1u << 4, /* pinyin initials + village */
};

/*
 * Counts of comparison patterns: one cell per combination of levels
 * (missing included) of the five fields; pairs with equal valid ID numbers
 * (known matches) apart from the rest.
 */
#define RHIS_MPI_NPATTERNS (5 * 5 * 3 * 4 * 3)
typedef struct rhis_mpi_em {
    double count[RHIS_MPI_NPATTERNS];
    double match[RHIS_MPI_NPATTERNS];
    int64_t pairs;
} rhis_mpi_em;

void rhis_mpi_em_init(rhis_mpi_em *em);
/* Counts one compared pair; a pair with different valid ID numbers (a
 * known non-match) is skipped. */
void rhis_mpi_em_add(rhis_mpi_em *em, const rhis_mpi_compare *c);
/*
 * Adds the candidate pairs the blocking keys in keys_mask (RHIS_MPI_KEY_*)
 * give for (at most) max_residents residents of ix spread over the whole
 * index (0 = all): each against every other resident sharing one of those
 * keys, each pair once.  Returns the pairs added.
 */
int64_t rhis_mpi_index_em_pairs(rhis_mpi_index *ix,
                                rhis_mpi_em *em,
                                int64_t max_residents,
                                unsigned keys_mask);
/*
 * Sets w->u from npairs random pairs of residents (nearly all of them
 * non-matches), and recomputes w.  Returns the pairs used; with fewer than
 * 1000 w is unchanged.
 */
int64_t rhis_mpi_index_u_sample(rhis_mpi_index *ix,
                                rhis_mpi_weights *w,
                                int64_t npairs,
                                uint64_t seed);

typedef struct rhis_mpi_em_result {
    int iterations;
    int converged;  /* the largest change fell below tol */
    double p;       /* estimated share of matches among unknown pairs */
    double matches; /* expected matches: p * unknown + known matches */
    double loglik;
} rhis_mpi_em_result;

/*
 * EM for m: estimates m of the fields in the mask `fields` (bit 1 << f)
 * and the match share from the counted pairs, with u held at w->u and the
 * other fields left out of the likelihood; writes those m to *w (w
 * recomputed, estimated_ms untouched).  Stops after max_iter iterations or
 * when no parameter moves by more than tol.  RHIS_EINVAL (w unchanged)
 * with fewer than 100 pairs, fewer than 20 expected matches, or when the
 * best level of an estimated field is not more frequent among matches
 * than in u.
 */
rhis_status rhis_mpi_em_run(const rhis_mpi_em *em,
                            unsigned fields,
                            rhis_mpi_weights *w,
                            int max_iter,
                            double tol,
                            rhis_mpi_em_result *res);

/*
 * Estimates the weights of ix's residents the way Splink does (see
 * docs/internals/mpi.md): u from 2 M random pairs; m by EM in two passes,
 * each over the pairs of some blocking keys and only for the fields those
 * keys neither block on nor share within a household:
 *   pass 1: initials + date, pinyin + year  -> m of village and phone;
 *   pass 2: phone                           -> m of name, birth date, sex.
 * A pass with too few duplicates keeps the m of *w (rep->rc says which).
 * Writes the estimate to *w.  RHIS_EINVAL (w unchanged) when there are too
 * few residents to sample u.
 */
#define RHIS_MPI_EM_PASSES 2
typedef struct rhis_mpi_estimate {
    int64_t u_pairs;
    int64_t pairs[RHIS_MPI_EM_PASSES];
    rhis_mpi_em_result pass[RHIS_MPI_EM_PASSES];
    rhis_status rc[RHIS_MPI_EM_PASSES];
} rhis_mpi_estimate;

rhis_status rhis_mpi_index_estimate(rhis_mpi_index *ix,
                                    rhis_mpi_weights *w,
                                    int64_t max_residents,
                                    rhis_mpi_estimate *rep);

/* ---- the server's index ---- */

/*
 * The process-wide index, loaded from db on first use (others wait for
 * the load).  Call it at server start to load before the first request.
 * *out is borrowed for the life of the process (until _global_reset).
 */
rhis_status rhis_mpi_global(rhis_db *db, rhis_mpi_index **out);
/* Frees the global index; the next use reloads.  Tests only: no caller
 * may be using it. */
void rhis_mpi_global_reset(void);
/*
 * Re-reads Patient id from db into the global index (live: put, else
 * remove).  For callers whose transaction rolled back after
 * rhis_mpi_note_patient ran.  No-op when the index is not loaded.
 */
rhis_status rhis_mpi_refresh(rhis_db *db, int64_t id);

/*
 * The Patient store's hook: call it from the store function of
 * rhis_type_patient after the typed row of p is written (p->id set), in
 * the same transaction.  A live row (not deleted, merged_into 0) is scored
 * against the index: every existing resident in the review or link band
 * gets a row in mpi_review (patient_a < patient_b, score = total weight,
 * detail JSON), a pair already decided is left alone; then p is put in
 * the index.  A deleted or merged row is removed from the index.  Errors
 * go through rhis_fhir_fail.
 */
rhis_status rhis_mpi_note_patient(rhis_fhir_ctx *c, const rhis_patient *p);
/* Removes id from the global index (a deleted Patient). */
void rhis_mpi_forget_patient(int64_t id);

/*
 * `rhis mpi estimate [--db URL] [--sample N] [--dry-run]`: loads the
 * index, runs EM over blocked pairs and stores the estimate in mpi_weight
 * (unless --dry-run or degenerate), printing m, u and the weights.
 * argv[0] is "mpi".  Returns the process exit status.
 */
int rhis_mpi_cli(int argc, char **argv, const char *default_db);

#endif
