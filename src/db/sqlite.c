/*
 * sqlite.c - the embedded SQLite backend.
 *
 * Why: a county runs on one file with no server to operate.  WAL lets
 * readers proceed during a write; busy_timeout makes concurrent writers
 * wait instead of failing; foreign keys are on, as in PostgreSQL.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "rhis/alloc.h"

/*
 * Prepared statements are cached per connection, keyed by their SQL text:
 * compiling SQL was more than half of the CPU of a simple read (perf, see
 * docs/performance.md).  A cached statement is reset and its bindings
 * cleared when the caller finalizes it; a statement already in use (the
 * same SQL twice at once) is prepared afresh and not cached.
 */
#define STMT_CACHE 64

typedef struct cache_slot {
    char *sql; /* NULL = empty */
    uint64_t hash;
    sqlite3_stmt *h;
    int in_use;
    uint64_t last_used;
} cache_slot;

/*
 * One writer at a time per database file, queued on a mutex rather than on
 * SQLite's busy handler, which sleeps 1 to 100 ms between retries: with the
 * request threads all writing audit rows, sleeping writers cost more than
 * the writes.  The gate is taken by BEGIN and by a write outside a
 * transaction, and released when the transaction or the statement ends.
 * Waiting is bounded like busy_timeout (RHIS_EBUSY after 5 s).
 */
#define NGATES       32
#define GATE_WAIT_MS 5000

typedef struct gate {
    char *path;
    pthread_mutex_t mu;
} gate;

static pthread_mutex_t gates_mu = PTHREAD_MUTEX_INITIALIZER;
static gate gates[NGATES];
static int ngates;

static pthread_mutex_t *
gate_for(const char *path)
{
    if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return NULL;
    pthread_mutex_t *mu = NULL;
    pthread_mutex_lock(&gates_mu);
    for (int i = 0; i < ngates && mu == NULL; i++)
        if (strcmp(gates[i].path, path) == 0)
            mu = &gates[i].mu;
    if (mu == NULL && ngates < NGATES) {
        gates[ngates].path = rhis_xstrdup(path);
        pthread_mutex_init(&gates[ngates].mu, NULL);
        mu = &gates[ngates++].mu;
    }
    pthread_mutex_unlock(&gates_mu);
    return mu; /* NULL when full: SQLite's busy handler still applies */
}

static int
gate_take(pthread_mutex_t *mu)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GATE_WAIT_MS / 1000;
    return pthread_mutex_timedlock(mu, &until) == 0;
}

typedef struct sq_db {
    struct rhis_db base;
    sqlite3 *h;
    pthread_mutex_t *gate; /* NULL for in-memory databases */
    int gate_tx;           /* held by the open transaction */
    int gate_stmt;         /* held by a statement writing outside one */
    cache_slot cache[STMT_CACHE];
    uint64_t tick;
} sq_db;

typedef struct sq_stmt {
    struct rhis_stmt base;
    sqlite3_stmt *h;
    int done;
    int gate;         /* holds the database's gate until the statement ends */
    cache_slot *slot; /* NULL when not cached */
} sq_stmt;

static rhis_status
map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return RHIS_OK;
    case SQLITE_ROW:
        return RHIS_ROW;
    case SQLITE_DONE:
        return RHIS_DONE;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE ||
            rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return RHIS_ECONFLICT;
        return RHIS_EINVAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return RHIS_EBUSY;
    case SQLITE_TOOBIG:
        return RHIS_ETOOBIG;
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return RHIS_EINVAL;
    default:
        return RHIS_EIO;
    }
}

static void sq_close(rhis_db *db);

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void
configure_library(void)
{
    /* memory statistics take a global mutex on every allocation, which
     * serialised the request threads; RHIS does not read them */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)sqlite3_initialize();
}

static rhis_status
sq_open(rhis_db **out, const char *url, char *err, size_t errlen)
{
    const char *path = url + strlen("sqlite:");
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    if (*path == '\0') {
        if (err != NULL)
            snprintf(err, errlen, "sqlite URL needs a file: sqlite:FILE");
        return RHIS_EINVAL;
    }
    pthread_once(&config_once, configure_library);
    sq_db *d = rhis_xcalloc(1, sizeof(*d));
    d->base.drv = &rhis_sqlite_driver;
    int rc = sqlite3_open_v2(
        path, &d->h,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (err != NULL)
            snprintf(err, errlen, "cannot open %s: %s", path,
                     d->h != NULL ? sqlite3_errmsg(d->h) : "out of memory");
        sq_close(&d->base);
        return RHIS_EIO;
    }
    sqlite3_busy_timeout(d->h, 5000);
    d->gate = gate_for(path);
    sqlite3_extended_result_codes(d->h, 1);
    rc = sqlite3_exec(d->h,
                      "PRAGMA foreign_keys=ON;"
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA synchronous=FULL;"
                      /* savepoints (group commit, import) journal in
                       * memory, not in a temporary file */
                      "PRAGMA temp_store=MEMORY;"
                      /* 8 MiB of pages per connection (default 2 MiB):
                       * index look-ups of a 1 M-resident county stay in
                       * memory; bounded so the pool stays under 100 MB */
                      "PRAGMA cache_size=-8192;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        if (err != NULL)
            snprintf(err, errlen, "cannot configure %s: %s", path,
                     sqlite3_errmsg(d->h));
        sq_close(&d->base);
        return map_rc(rc);
    }
    *out = &d->base;
    return RHIS_OK;
}

static void
sq_close(rhis_db *db)
{
    sq_db *d = (sq_db *)db;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (d->cache[i].sql == NULL)
            continue;
        sqlite3_finalize(d->cache[i].h);
        rhis_free(d->cache[i].sql);
    }
    sqlite3_close_v2(d->h);
    rhis_free(d);
}

static uint64_t
sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static const char *
sq_errmsg(rhis_db *db)
{
    return sqlite3_errmsg(((sq_db *)db)->h);
}

static rhis_status
sq_prepare(rhis_db *db, const char *sql, rhis_stmt **out)
{
    sq_db *d = (sq_db *)db;
    sqlite3_stmt *h = NULL;
    *out = NULL;
    uint64_t hash = sql_hash(sql);
    cache_slot *slot = NULL, *victim = NULL;
    for (int i = 0; i < STMT_CACHE; i++) {
        cache_slot *c = &d->cache[i];
        if (c->sql != NULL && c->hash == hash && strcmp(c->sql, sql) == 0) {
            if (!c->in_use)
                slot = c;
            victim = NULL;
            break;
        }
        if (!c->in_use &&
            (victim == NULL || c->sql == NULL ||
             (victim->sql != NULL && c->last_used < victim->last_used)))
            victim = c;
    }
    if (slot == NULL) {
        int rc = sqlite3_prepare_v3(
            d->h, sql, -1, victim != NULL ? SQLITE_PREPARE_PERSISTENT : 0, &h,
            NULL);
        if (rc != SQLITE_OK)
            return map_rc(rc) == RHIS_EBUSY ? RHIS_EBUSY : RHIS_EIO;
        if (victim != NULL) {
            if (victim->sql != NULL) {
                sqlite3_finalize(victim->h);
                rhis_free(victim->sql);
            }
            victim->sql = rhis_xstrdup(sql);
            victim->hash = hash;
            victim->h = h;
            slot = victim;
        }
    }
    sq_stmt *s = rhis_xcalloc(1, sizeof(*s));
    s->base.drv = &rhis_sqlite_driver;
    s->base.db = db;
    if (slot != NULL) {
        slot->in_use = 1;
        slot->last_used = ++d->tick;
        s->h = slot->h;
        s->slot = slot;
    } else {
        s->h = h;
    }
    *out = &s->base;
    return RHIS_OK;
}

static rhis_status
sq_bind_int64(rhis_stmt *st, int idx, int64_t v)
{
    return map_rc(sqlite3_bind_int64(((sq_stmt *)st)->h, idx, v));
}

static rhis_status
sq_bind_double(rhis_stmt *st, int idx, double v)
{
    return map_rc(sqlite3_bind_double(((sq_stmt *)st)->h, idx, v));
}

static rhis_status
sq_bind_text(rhis_stmt *st, int idx, const char *v)
{
    return map_rc(
        sqlite3_bind_text(((sq_stmt *)st)->h, idx, v, -1, SQLITE_TRANSIENT));
}

static rhis_status
sq_bind_null(rhis_stmt *st, int idx)
{
    return map_rc(sqlite3_bind_null(((sq_stmt *)st)->h, idx));
}

static void
stmt_gate_release(sq_stmt *s)
{
    if (!s->gate)
        return;
    sq_db *d = (sq_db *)s->base.db;
    s->gate = 0;
    d->gate_stmt = 0;
    pthread_mutex_unlock(d->gate);
}

static rhis_status
sq_step(rhis_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sq_db *d = (sq_db *)s->base.db;
    if (s->done)
        return RHIS_DONE;
    if (d->gate != NULL && !d->gate_tx && !d->gate_stmt &&
        sqlite3_get_autocommit(d->h) && !sqlite3_stmt_readonly(s->h)) {
        if (!gate_take(d->gate))
            return RHIS_EBUSY;
        s->gate = 1;
        d->gate_stmt = 1;
    }
    int rc = sqlite3_step(s->h);
    rhis_status r = map_rc(rc);
    if (r != RHIS_ROW) {
        s->done = 1;
        stmt_gate_release(s);
    }
    return r;
}

static int
sq_column_count(rhis_stmt *st)
{
    return sqlite3_column_count(((sq_stmt *)st)->h);
}

static int
sq_column_is_null(rhis_stmt *st, int col)
{
    return sqlite3_column_type(((sq_stmt *)st)->h, col) == SQLITE_NULL;
}

static int64_t
sq_column_int64(rhis_stmt *st, int col)
{
    return sqlite3_column_int64(((sq_stmt *)st)->h, col);
}

static double
sq_column_double(rhis_stmt *st, int col)
{
    return sqlite3_column_double(((sq_stmt *)st)->h, col);
}

static const char *
sq_column_text(rhis_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(((sq_stmt *)st)->h, col);
}

static rhis_status
sq_reset(rhis_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sqlite3_reset(s->h);
    sqlite3_clear_bindings(s->h);
    stmt_gate_release(s);
    s->done = 0;
    return RHIS_OK;
}

static void
sq_finalize(rhis_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->gate) {
        sqlite3_reset(s->h);
        stmt_gate_release(s);
    }
    if (s->slot != NULL) {
        sqlite3_reset(s->h);
        sqlite3_clear_bindings(s->h);
        s->slot->in_use = 0;
    } else {
        sqlite3_finalize(s->h);
    }
    rhis_free(s);
}

static int64_t
sq_changes(rhis_db *db)
{
    return sqlite3_changes64(((sq_db *)db)->h);
}

static rhis_status
sq_exec(rhis_db *db, const char *sql)
{
    sq_db *d = (sq_db *)db;
    int begins = strncmp(sql, "BEGIN", 5) == 0;
    if (d->gate != NULL && begins && !d->gate_tx && !d->gate_stmt) {
        if (!gate_take(d->gate))
            return RHIS_EBUSY;
        d->gate_tx = 1;
    }
    rhis_status rc = map_rc(sqlite3_exec(d->h, sql, NULL, NULL, NULL));
    /* the transaction is over (committed, rolled back or never begun) */
    if (d->gate_tx && sqlite3_get_autocommit(d->h)) {
        d->gate_tx = 0;
        pthread_mutex_unlock(d->gate);
    }
    return rc;
}

const rhis_db_driver rhis_sqlite_driver = {
    .scheme = "sqlite",
    .dialect = RHIS_DIALECT_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .errmsg = sq_errmsg,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .column_count = sq_column_count,
    .column_is_null = sq_column_is_null,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .changes = sq_changes,
    .exec = sq_exec,
};
