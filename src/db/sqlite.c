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
 * same SQL twice at once) is prepared afresh and not cached.  The lookup
 * is a hash table (the hash of the text, then its length, then memcmp on
 * a hit): a bulk load prepares a dozen statements per resource, and a
 * linear scan of the slots with strcmp cost 8 % of the demo's CPU.  The
 * least recently used free slot is found by a scan only on a miss.  Each
 * slot carries its statement wrapper, so a cached prepare allocates
 * nothing.
 */
#define STMT_CACHE   128
#define STMT_BUCKETS 256 /* a power of two */

typedef struct sq_stmt {
    struct rhis_stmt base;
    sqlite3_stmt *h;
    int done;
    int gate;                /* holds the database's gate until it ends */
    struct cache_slot *slot; /* NULL when not cached */
    int ret_rowid;           /* "RETURNING id" answered by the driver */
    int has_row;             /* ... and its row is the current one */
    int64_t rowid;
    char rowid_text[24];
} sq_stmt;

typedef struct cache_slot {
    char *sql; /* NULL = empty */
    size_t len;
    uint64_t hash;
    sqlite3_stmt *h;
    int in_use;
    int ret_rowid; /* see returning_rowid */
    int next;      /* next slot of the same bucket, -1 = none */
    uint64_t last_used;
    sq_stmt st; /* the wrapper handed out while in use */
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
    int bucket[STMT_BUCKETS]; /* first slot of each bucket, -1 = none */
    uint64_t tick;
} sq_db;

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
    for (int i = 0; i < STMT_BUCKETS; i++)
        d->bucket[i] = -1;
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

/* FNV-1a-like over 8 bytes at a time (the text's length is known). */
static uint64_t
sql_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static const char *
sq_errmsg(rhis_db *db)
{
    return sqlite3_errmsg(((sq_db *)db)->h);
}

static cache_slot *
cache_find(sq_db *d, const char *sql, size_t len, uint64_t hash)
{
    for (int i = d->bucket[hash & (STMT_BUCKETS - 1)]; i >= 0;
         i = d->cache[i].next) {
        cache_slot *c = &d->cache[i];
        if (c->hash == hash && c->len == len && memcmp(c->sql, sql, len) == 0)
            return c;
    }
    return NULL;
}

static void
cache_unlink(sq_db *d, cache_slot *c)
{
    int me = (int)(c - d->cache);
    int *p = &d->bucket[c->hash & (STMT_BUCKETS - 1)];
    while (*p != me)
        p = &d->cache[*p].next;
    *p = c->next;
    sqlite3_finalize(c->h);
    rhis_free(c->sql);
    c->sql = NULL;
}

/* An empty slot, else the least recently used one not in use (unlinked);
 * NULL when all are in use. */
static cache_slot *
cache_victim(sq_db *d)
{
    cache_slot *victim = NULL;
    for (int i = 0; i < STMT_CACHE; i++) {
        cache_slot *c = &d->cache[i];
        if (c->sql == NULL)
            return c;
        if (!c->in_use && (victim == NULL || c->last_used < victim->last_used))
            victim = c;
    }
    if (victim != NULL)
        cache_unlink(d, victim);
    return victim;
}

/*
 * SQLite runs "INSERT ... RETURNING id" as a trigger program: every such
 * INSERT opens a statement journal and an ephemeral table for its one
 * row, which doubled the cost of a small insert (the store writes each
 * typed row so).  For the plain form - INSERT INTO table (...) VALUES
 * (one row) RETURNING id, no ON CONFLICT, no SELECT - into a table whose
 * id is its rowid (INTEGER PRIMARY KEY, not WITHOUT ROWID), the driver
 * prepares the INSERT without the clause and answers the row itself from
 * sqlite3_last_insert_rowid: the same one row with the same id.
 * Returns the length of the SQL to prepare, 0 when sql is not that form.
 */
#define RETURNING_ID " RETURNING id"

static int
rowid_table(sq_db *d, const char *table, size_t n)
{
    sqlite3_stmt *q = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(
            d->h,
            "SELECT (SELECT COUNT(*) FROM pragma_table_info(?1) WHERE pk > 0),"
            " (SELECT COUNT(*) FROM pragma_table_info(?1) WHERE pk = 1"
            " AND name = 'id' AND upper(type) = 'INTEGER'),"
            " (SELECT COUNT(*) FROM pragma_table_list WHERE name = ?1"
            " AND schema = 'main' AND type = 'table' AND wr = 0)",
            -1, &q, NULL) == SQLITE_OK &&
        sqlite3_bind_text(q, 1, table, (int)n, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        ok = sqlite3_column_int(q, 0) == 1 && sqlite3_column_int(q, 1) == 1 &&
             sqlite3_column_int(q, 2) == 1;
    sqlite3_finalize(q);
    return ok;
}

static size_t
returning_rowid(sq_db *d, const char *sql, size_t len)
{
    static const char head[] = "INSERT INTO ";
    size_t rl = strlen(RETURNING_ID), hl = strlen(head);
    if (len <= hl + rl || strncmp(sql, head, hl) != 0 ||
        strcmp(sql + len - rl, RETURNING_ID) != 0)
        return 0;
    size_t body = len - rl;
    const char *t = sql + hl;
    size_t tn = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (tn == 0 || t[tn] != ' ')
        return 0;
    /* the column list, then " VALUES (", one row, and nothing after it */
    const char *v = strstr(t + tn, " VALUES (");
    if (v == NULL || (size_t)(v - sql) >= body)
        return 0;
    int depth = 0, quoted = 0;
    size_t i = (size_t)(v - sql) + strlen(" VALUES ");
    for (; i < body; i++) {
        char ch = sql[i];
        if (quoted) {
            quoted = ch != '\'';
        } else if (ch == '\'') {
            quoted = 1;
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')' && --depth == 0) {
            break;
        }
    }
    if (i + 1 != body || depth != 0)
        return 0;
    return rowid_table(d, t, tn) ? body : 0;
}

static rhis_status
sq_prepare(rhis_db *db, const char *sql, rhis_stmt **out)
{
    sq_db *d = (sq_db *)db;
    sqlite3_stmt *h = NULL;
    *out = NULL;
    size_t len = strlen(sql);
    uint64_t hash = sql_hash(sql, len);
    cache_slot *slot = cache_find(d, sql, len, hash);
    int cached = slot != NULL && !slot->in_use;
    size_t cut = 0;
    if (!cached)
        cut = returning_rowid(d, sql, len);
    if (slot == NULL) {
        int rc = sqlite3_prepare_v3(d->h, sql, cut > 0 ? (int)cut : (int)len,
                                    SQLITE_PREPARE_PERSISTENT, &h, NULL);
        if (rc != SQLITE_OK)
            return map_rc(rc) == RHIS_EBUSY ? RHIS_EBUSY : RHIS_EIO;
        slot = cache_victim(d);
        if (slot != NULL) {
            slot->sql = rhis_xmalloc(len + 1);
            memcpy(slot->sql, sql, len + 1);
            slot->len = len;
            slot->hash = hash;
            slot->h = h;
            slot->ret_rowid = cut > 0;
            int *b = &d->bucket[hash & (STMT_BUCKETS - 1)];
            slot->next = *b;
            *b = (int)(slot - d->cache);
            cached = 1;
        }
    } else if (!cached) { /* the same SQL twice at once */
        int rc = sqlite3_prepare_v3(d->h, sql, cut > 0 ? (int)cut : (int)len, 0,
                                    &h, NULL);
        if (rc != SQLITE_OK)
            return map_rc(rc) == RHIS_EBUSY ? RHIS_EBUSY : RHIS_EIO;
    }
    sq_stmt *s;
    if (cached) {
        slot->in_use = 1;
        slot->last_used = ++d->tick;
        s = &slot->st;
        memset(s, 0, sizeof(*s));
        s->h = slot->h;
        s->slot = slot;
        s->ret_rowid = slot->ret_rowid;
    } else {
        s = rhis_xcalloc(1, sizeof(*s));
        s->h = h;
        s->ret_rowid = cut > 0;
    }
    s->base.drv = &rhis_sqlite_driver;
    s->base.db = db;
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
sq_bind_text_static(rhis_stmt *st, int idx, const char *v)
{
    return map_rc(
        sqlite3_bind_text(((sq_stmt *)st)->h, idx, v, -1, SQLITE_STATIC));
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
    s->has_row = 0;
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
    if (r == RHIS_DONE && s->ret_rowid) { /* see returning_rowid */
        s->rowid = sqlite3_last_insert_rowid(d->h);
        s->has_row = 1;
        r = RHIS_ROW;
    }
    return r;
}

static int
sq_column_count(rhis_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    return s->ret_rowid ? 1 : sqlite3_column_count(s->h);
}

static int
sq_column_is_null(rhis_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->ret_rowid)
        return !s->has_row || col != 0;
    return sqlite3_column_type(s->h, col) == SQLITE_NULL;
}

static int64_t
sq_column_int64(rhis_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->ret_rowid)
        return s->has_row && col == 0 ? s->rowid : 0;
    return sqlite3_column_int64(s->h, col);
}

static double
sq_column_double(rhis_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->ret_rowid)
        return s->has_row && col == 0 ? (double)s->rowid : 0;
    return sqlite3_column_double(s->h, col);
}

static const char *
sq_column_text(rhis_stmt *st, int col)
{
    sq_stmt *s = (sq_stmt *)st;
    if (s->ret_rowid) {
        if (!s->has_row || col != 0)
            return NULL;
        (void)snprintf(s->rowid_text, sizeof(s->rowid_text), "%lld",
                       (long long)s->rowid);
        return s->rowid_text;
    }
    return (const char *)sqlite3_column_text(s->h, col);
}

static rhis_status
sq_reset(rhis_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sqlite3_reset(s->h);
    sqlite3_clear_bindings(s->h);
    stmt_gate_release(s);
    s->done = 0;
    s->has_row = 0;
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
        s->slot->in_use = 0; /* s is the slot's own wrapper */
    } else {
        sqlite3_finalize(s->h);
        rhis_free(s);
    }
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
    .bind_text_static = sq_bind_text_static,
};
