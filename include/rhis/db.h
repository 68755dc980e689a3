/*
 * db.h - the database interface every module uses.
 *
 * Why: counties run on one SQLite file, cities and provinces on PostgreSQL;
 * callers see only this interface and each backend fills a const ops table
 * (src/db/driver.h).  SQL is written once with '?' parameters in the subset
 * both engines share; the PostgreSQL driver rewrites '?' to $n.  SQL is never
 * built with printf: values are always bound.
 */
#ifndef RHIS_DB_H
#define RHIS_DB_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/status.h"

typedef struct rhis_db rhis_db;
typedef struct rhis_stmt rhis_stmt;

typedef enum rhis_dialect {
    RHIS_DIALECT_SQLITE = 1,
    RHIS_DIALECT_POSTGRES = 2,
} rhis_dialect;

/*
 * Opens a connection.  url is "sqlite:PATH" (or "sqlite::memory:") or
 * "postgresql://..." / "postgres://...".  *out is NULL on failure; err (if
 * not NULL) receives a message.
 */
rhis_status
rhis_db_open(rhis_db **out, const char *url, char *err, size_t errlen);
/* NULL is a no-op.  Finalize statements first. */
void rhis_db_close(rhis_db *db);
rhis_dialect rhis_db_dialect(const rhis_db *db);
/* The last error message of this connection; borrowed until the next call. */
const char *rhis_db_errmsg(rhis_db *db);

/* Prepares sql ('?' parameters).  *out is NULL on failure. */
rhis_status rhis_db_prepare(rhis_db *db, const char *sql, rhis_stmt **out);
/* Parameter indexes start at 1.  Text is copied. NULL text binds SQL NULL. */
rhis_status rhis_db_bind_int64(rhis_stmt *st, int idx, int64_t v);
rhis_status rhis_db_bind_double(rhis_stmt *st, int idx, double v);
rhis_status rhis_db_bind_text(rhis_stmt *st, int idx, const char *v);
rhis_status rhis_db_bind_null(rhis_stmt *st, int idx);
/* RHIS_ROW when a row is ready, RHIS_DONE at the end, or an error:
 * RHIS_ECONFLICT for a unique or check violation, RHIS_EBUSY when locked,
 * RHIS_EIO otherwise. */
rhis_status rhis_db_step(rhis_stmt *st);
/* Column indexes start at 0.  Text is borrowed until the next step, reset or
 * finalize; NULL for SQL NULL. */
int rhis_db_column_count(rhis_stmt *st);
int rhis_db_column_is_null(rhis_stmt *st, int col);
int64_t rhis_db_column_int64(rhis_stmt *st, int col);
double rhis_db_column_double(rhis_stmt *st, int col);
const char *rhis_db_column_text(rhis_stmt *st, int col);
/* Clears bindings and rewinds so the statement can run again. */
rhis_status rhis_db_reset(rhis_stmt *st);
/* NULL is a no-op. */
void rhis_db_finalize(rhis_stmt *st);
/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t rhis_db_changes(rhis_db *db);

/* Runs one or more parameterless statements (DDL, pragmas). */
rhis_status rhis_db_exec(rhis_db *db, const char *sql);
/* Transactions are durable at commit (SQLite synchronous=FULL, PostgreSQL
 * synchronous_commit on). */
rhis_status rhis_db_begin(rhis_db *db);
/*
 * A transaction whose commit need not reach the disk before returning: it
 * survives a crash of the process, and a power failure once the next
 * durable commit or checkpoint syncs the log (SQLite WAL with
 * synchronous=NORMAL; PostgreSQL synchronous_commit off).  For audit rows
 * of reads, written on every read, where an fsync each would cap reads at
 * the disk's commit rate.
 */
rhis_status rhis_db_begin_lazy(rhis_db *db);
/* True while a transaction opened by rhis_db_begin* is open. */
int rhis_db_in_tx(const rhis_db *db);
rhis_status rhis_db_commit(rhis_db *db);
/* Safe to call when no transaction is open. */
void rhis_db_rollback(rhis_db *db);

/*
 * Savepoints are written as SQL through rhis_db_exec ("SAVEPOINT name",
 * "RELEASE [SAVEPOINT] name", "ROLLBACK TO [SAVEPOINT] name", one
 * statement per call); rhis_db_exec recognises them and keeps the stack of
 * open savepoints, so a transaction hook (below) can undo its own state
 * with the engine's.
 */
/* Open savepoints (0 outside any). */
int rhis_db_savepoint_depth(const rhis_db *db);

/*
 * A transaction hook: per-connection state that lives for one transaction
 * and is written out just before the engine's COMMIT (live aggregates
 * buffer their deltas this way, src/plan/agg.c).  One hook per connection.
 */
typedef enum rhis_db_sp_op {
    RHIS_SP_OPEN = 1,     /* a savepoint opened; depth: the new depth */
    RHIS_SP_RELEASE = 2,  /* savepoint number depth (1 = outermost) and the
                           * ones inside it released; kept changes stay */
    RHIS_SP_ROLLBACK = 3, /* rolled back to savepoint number depth, which
                           * stays open; the ones inside it are gone */
} rhis_db_sp_op;

typedef struct rhis_db_tx_hook {
    /* Called by rhis_db_commit inside the transaction, before COMMIT; an
     * error fails the commit (the caller then rolls back). */
    rhis_status (*pre_commit)(rhis_db *db, void *arg);
    /* The transaction was rolled back (rhis_db_rollback), or a new one
     * begins: drop the state. */
    void (*rollback)(void *arg);
    /* A savepoint event (see rhis_db_sp_op). */
    void (*savepoint)(void *arg, rhis_db_sp_op op, int depth);
    /* The connection is closing: release arg. */
    void (*free)(void *arg);
} rhis_db_tx_hook;

/* Installs hook h with state arg on db (replacing and freeing any other). */
void rhis_db_set_tx_hook(rhis_db *db, const rhis_db_tx_hook *h, void *arg);

/* The state of hook h on db, NULL when h is not installed. */
void *rhis_db_tx_hook_arg(const rhis_db *db, const rhis_db_tx_hook *h);

/*
 * Facts learnt in the open transaction, per connection ("Patient/7
 * exists", "the birth of Patient/7 is ..."), so a bulk write does not ask
 * the database again for each resource that names the same record.  An
 * entry lives until the transaction ends (commit, rollback, a new begin),
 * any savepoint is rolled back or another rhis_db_exec runs (which may
 * undo writes), or rhis_db_memo_forget; outside a transaction opened by
 * rhis_db_begin* nothing is kept.  A module puts only what stays true
 * while its own transaction lasts (rows are never hard-deleted; a soft
 * delete calls rhis_db_memo_forget).  A small direct-mapped table: a miss
 * means "ask the database".  kind: RHIS_MEMO_*, key: usually a row id.
 */
enum {
    RHIS_MEMO_EXISTS = 0, /* + a number per resource type (src/fhir) */
    RHIS_MEMO_BIRTH = 32, /* patient birth_ms, INT64_MIN when unknown */
};
/* 1 and *value when (kind, key) is known, else 0. */
int rhis_db_memo_get(rhis_db *db, int kind, int64_t key, int64_t *value);
void rhis_db_memo_put(rhis_db *db, int kind, int64_t key, int64_t value);
void rhis_db_memo_forget(rhis_db *db);

/*
 * Deferred writes, for bulk loads (PostgreSQL; SQLite ignores them, its
 * calls are local).  While on and inside a transaction, an INSERT, UPDATE
 * or DELETE without RETURNING is sent in libpq pipeline mode and its step
 * returns RHIS_DONE at once; the answers are read at the next statement
 * that returns rows, exec, commit, rhis_db_changes or rhis_db_sync.  A
 * deferred statement that failed makes that later call fail with its
 * status and message (the transaction is aborted, as after any error on
 * PostgreSQL): the caller cannot tell which statement failed, so it rolls
 * back and redoes the work without deferral.  Turning it off syncs.
 */
rhis_status rhis_db_set_deferred(rhis_db *db, int on);
/* True when writes are being deferred (on, and the driver supports it). */
int rhis_db_deferred(const rhis_db *db);
/* Waits for the deferred writes; their first failure, else RHIS_OK. */
rhis_status rhis_db_sync(rhis_db *db);
/*
 * The next value of the identity column "id" of table, reserved ahead of
 * the INSERT so a deferred INSERT needs no RETURNING (PostgreSQL: from
 * the column's sequence, in blocks; values are never reused, gaps are
 * possible).  RHIS_EUNSUPPORTED when writes are not deferred.
 */
rhis_status rhis_db_next_id(rhis_db *db, const char *table, int64_t *out);

/*
 * Convenience: prepare sql and bind arguments described by types, one
 * character per '?': 'i' int64_t, 'd' double, 's' const char * (NULL binds
 * NULL), 'n' SQL NULL (no argument).  *out is the ready statement.
 */
rhis_status rhis_db_query(
    rhis_db *db, rhis_stmt **out, const char *sql, const char *types, ...);
/* Same, then steps to the end and finalizes. */
rhis_status rhis_db_run(rhis_db *db, const char *sql, const char *types, ...);
/* Same, and returns the first column of the first row as int64 in *out
 * (RHIS_ENOTFOUND when there is no row). */
rhis_status rhis_db_scalar_int64(
    rhis_db *db, int64_t *out, const char *sql, const char *types, ...);

/*
 * Same, for a query expected to return at most one row: calls fill(st, out)
 * on it.  RHIS_ENOTFOUND when there is no row.
 */
rhis_status rhis_db_query_row(rhis_db *db,
                              void (*fill)(rhis_stmt *, void *),
                              void *out,
                              const char *sql,
                              const char *types,
                              ...);

/* Applies pending migrations (src/db/migrations.c); *version gets the
 * schema version reached. */
rhis_status rhis_db_migrate(rhis_db *db, int *version);
int rhis_db_schema_version_latest(void);

/*
 * Copies every table of src into dst (src/db/copy.c), e.g. SQLite to
 * PostgreSQL.  Both at the latest schema; dst without users, institutions,
 * practitioners or audit events.  All or nothing.  *rows counts rows.
 */
rhis_status rhis_db_copy(
    rhis_db *src, rhis_db *dst, int64_t *rows, char *err, size_t errlen);

/*
 * A fixed-size pool of connections to one URL, shared by the request
 * threads (a connection per worker).  get blocks up to timeout_ms and
 * returns RHIS_EBUSY when none frees up.
 */
typedef struct rhis_db_pool rhis_db_pool;
rhis_status rhis_db_pool_new(
    rhis_db_pool **out, const char *url, int size, char *err, size_t errlen);
void rhis_db_pool_free(rhis_db_pool *p);
rhis_status rhis_db_pool_get(rhis_db_pool *p, int timeout_ms, rhis_db **out);
/* Returns db to the pool; rolls back any transaction left open. */
void rhis_db_pool_put(rhis_db_pool *p, rhis_db *db);

#endif
