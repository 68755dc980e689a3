/*
 * agg.h - live aggregates of the data elements: the write hooks and the
 * rebuild.
 *
 * Why: an indicator for any area and period is answered from counts per
 * (data element, leaf area, institution, day) (table agg_count) and their
 * monthly roll-up per area level (agg_month).  They are kept current in
 * the transaction of the write that changes them, so a value is never
 * behind the records, and a full rebuild recomputes them from the raw
 * records for repair; both give identical numbers.
 *
 * How: the facts a record contributes are a function of the database
 * state of a small "scope" (the Observations of one patient with one
 * code, the Encounters of one patient, the patient's own row with its
 * immunisations and cause of death, one institution...).  A writer calls
 * rhis_agg_before() before it changes a row and rhis_agg_after() once the
 * row is written, in the same transaction: the facts of the scopes the old
 * and new rows belong to are computed before and after, and only the
 * difference is applied.  Updates that move a record to another area or
 * day, deletes, and per-patient-per-year thresholds ("the 4th follow-up of
 * the year") therefore need no special code.
 *
 * Kinds of rows ("kind" arguments): the FHIR type names "Patient",
 * "Encounter", "Observation", "Immunization", "Condition", and the
 * registry tables "institution", "practitioner_role", "fd_contract".
 * Other kinds are ignored (cheap no-op).
 */
#ifndef RHIS_AGG_H
#define RHIS_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/status.h"

/* Scopes and facts of one write; caller-owned, opaque contents. */
typedef struct rhis_agg_touch {
    void *priv;
} rhis_agg_touch;

/*
 * Before writing row id of kind (id 0 for an insert): records the scopes
 * of the current row and their facts.  Must be followed by exactly one
 * rhis_agg_after() or rhis_agg_cancel() on t.
 */
rhis_status
rhis_agg_before(rhis_db *db, rhis_agg_touch *t, const char *kind, int64_t id);
/*
 * After the write (id: the row written, the new id for an insert):
 * recomputes the scopes of the old and new rows and applies the
 * difference to agg_count and agg_month.  Releases t.  On failure the
 * caller must roll back its transaction.
 */
rhis_status rhis_agg_after(rhis_db *db, rhis_agg_touch *t, int64_t id);
/*
 * Inside a transaction the differences are buffered on the connection and
 * written once per distinct counter just before COMMIT (a savepoint rolled
 * back drops its part, a rollback all).  Writes the buffered differences
 * now: call before reading agg_count or agg_month in a transaction that
 * may have written records (the value API, verify and rebuild do).
 */
rhis_status rhis_agg_flush(rhis_db *db);

/* Releases t without applying anything (the write failed). */
void rhis_agg_cancel(rhis_agg_touch *t);

/* Shorthand for a plain INSERT of row id: before(0) + after(id). */
rhis_status rhis_agg_inserted(rhis_db *db, const char *kind, int64_t id);

/*
 * After any write to institution id inst or to one of its practitioner
 * roles (a role that moves: call for both institutions): brings the stock
 * elements of inst (open beds, staff by role) in line with its rows.
 * Needs no "before" call, so a registry writer adds one line.
 */
rhis_status rhis_agg_institution(rhis_db *db, int64_t inst);

/*
 * Turns maintenance off (0) or on (1) for this process (benchmarks and
 * bulk loads followed by a rebuild).  On by default; the environment
 * variable RHIS_PLAN_AGG=0 turns it off.
 */
void rhis_agg_set_enabled(int on);
int rhis_agg_enabled(void);

/*
 * Recomputes agg_count and agg_month from the raw records in one
 * transaction (all or nothing).  *facts (may be NULL) gets the number of
 * non-zero agg_count rows written.
 */
rhis_status
rhis_agg_rebuild(rhis_db *db, int64_t *facts, char *err, size_t errlen);

/* Same, with seconds spent in t: read, compute (rules over the rows in
 * memory), write, total as wall time (t[0..3]) and as CPU time of the
 * process (t[4..7]). */
rhis_status rhis_agg_rebuild_timed(
    rhis_db *db, int64_t *facts, double t[8], char *err, size_t errlen);

/*
 * Recomputes the aggregates in memory and compares them with the tables
 * without writing: *ndiff gets the number of differing rows (0 = live
 * maintenance agrees with a rebuild); err gets the first difference.
 */
rhis_status
rhis_agg_verify(rhis_db *db, int64_t *ndiff, char *err, size_t errlen);

#endif
