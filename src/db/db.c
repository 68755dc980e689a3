/*
 * db.c - picks a driver by URL and offers the helpers every module uses.
 *
 * Why: modules write SQL once; this file dispatches through the driver's
 * const table, adds typed binding helpers (no SQL is ever formatted), the
 * connection pool the request threads share, and transactions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "driver.h"
#include "rhis/alloc.h"

static const rhis_db_driver *const drivers[] = {
    &rhis_sqlite_driver,
#ifdef RHIS_WITH_POSTGRES
    &rhis_pg_driver,
#endif
};

rhis_status
rhis_db_open(rhis_db **out, const char *url, char *err, size_t errlen)
{
    *out = NULL;
    const char *colon = strchr(url, ':');
    if (colon == NULL) {
        if (err != NULL)
            snprintf(err, errlen,
                     "database URL '%s' has no scheme (sqlite:FILE or "
                     "postgresql://...)",
                     url);
        return RHIS_EINVAL;
    }
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
        const char *sch = drivers[i]->scheme;
        int match = strlen(sch) == (size_t)(colon - url) &&
                    strncmp(url, sch, (size_t)(colon - url)) == 0;
        if (!match && drivers[i]->dialect == RHIS_DIALECT_POSTGRES &&
            (size_t)(colon - url) == 8 && strncmp(url, "postgres", 8) == 0)
            match = 1;
        if (match)
            return drivers[i]->open(out, url, err, errlen);
    }
    if (err != NULL)
        snprintf(err, errlen, "unsupported database scheme '%.*s'",
                 (int)(colon - url), url);
    return RHIS_EINVAL;
}

void
rhis_db_close(rhis_db *db)
{
    if (db == NULL)
        return;
    if (db->hook != NULL && db->hook->free != NULL)
        db->hook->free(db->hook_arg);
    rhis_free(db->memo);
    db->drv->close(db);
}

rhis_dialect
rhis_db_dialect(const rhis_db *db)
{
    return db->drv->dialect;
}

const char *
rhis_db_errmsg(rhis_db *db)
{
    return db->drv->errmsg(db);
}

rhis_status
rhis_db_prepare(rhis_db *db, const char *sql, rhis_stmt **out)
{
    return db->drv->prepare(db, sql, out);
}

rhis_status
rhis_db_bind_int64(rhis_stmt *st, int idx, int64_t v)
{
    return st->drv->bind_int64(st, idx, v);
}

rhis_status
rhis_db_bind_double(rhis_stmt *st, int idx, double v)
{
    return st->drv->bind_double(st, idx, v);
}

rhis_status
rhis_db_bind_text(rhis_stmt *st, int idx, const char *v)
{
    if (v == NULL)
        return st->drv->bind_null(st, idx);
    return st->drv->bind_text(st, idx, v);
}

rhis_status
rhis_db_bind_null(rhis_stmt *st, int idx)
{
    return st->drv->bind_null(st, idx);
}

rhis_status
rhis_db_step(rhis_stmt *st)
{
    return st->drv->step(st);
}

int
rhis_db_column_count(rhis_stmt *st)
{
    return st->drv->column_count(st);
}

int
rhis_db_column_is_null(rhis_stmt *st, int col)
{
    return st->drv->column_is_null(st, col);
}

int64_t
rhis_db_column_int64(rhis_stmt *st, int col)
{
    return st->drv->column_int64(st, col);
}

double
rhis_db_column_double(rhis_stmt *st, int col)
{
    return st->drv->column_double(st, col);
}

const char *
rhis_db_column_text(rhis_stmt *st, int col)
{
    return st->drv->column_text(st, col);
}

rhis_status
rhis_db_reset(rhis_stmt *st)
{
    return st->drv->reset(st);
}

void
rhis_db_finalize(rhis_stmt *st)
{
    if (st != NULL)
        st->drv->finalize(st);
}

int64_t
rhis_db_changes(rhis_db *db)
{
    return db->drv->changes(db);
}

/* Skips blanks, then word w (case-insensitive) followed by a blank;
 * returns what follows, or NULL. */
static const char *
word(const char *s, const char *w)
{
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    size_t n = strlen(w);
    if (strncasecmp(s, w, n) != 0 ||
        (s[n] != ' ' && s[n] != '\t' && s[n] != '\n'))
        return NULL;
    return s + n;
}

/* The savepoint statement sql is (RHIS_SP_*), 0 if none; name gets the
 * savepoint's name. */
static int
savepoint_stmt(const char *sql, char *name, size_t len)
{
    const char *r;
    int op = 0;
    if ((r = word(sql, "SAVEPOINT")) != NULL) {
        op = RHIS_SP_OPEN;
    } else if ((r = word(sql, "RELEASE")) != NULL) {
        op = RHIS_SP_RELEASE;
    } else if ((r = word(sql, "ROLLBACK")) != NULL &&
               (r = word(r, "TO")) != NULL) {
        op = RHIS_SP_ROLLBACK;
    } else {
        return 0;
    }
    if (op != RHIS_SP_OPEN) {
        const char *k = word(r, "SAVEPOINT");
        if (k != NULL)
            r = k;
    }
    while (*r == ' ' || *r == '\t' || *r == '\n')
        r++;
    size_t n = 0;
    while (r[n] != '\0' && r[n] != ' ' && r[n] != ';' && r[n] != '\n' &&
           n + 1 < len) {
        name[n] = r[n];
        n++;
    }
    name[n] = '\0';
    return op;
}

/* The depth (1 = outermost) of the innermost savepoint called name; the
 * innermost one when the name is not known. */
static int
sp_find(const rhis_db *db, const char *name)
{
    int top = db->nsp < RHIS_DB_MAX_SP ? db->nsp : RHIS_DB_MAX_SP;
    for (int i = top; i > 0; i--)
        if (strcasecmp(db->sp[i - 1], name) == 0)
            return i;
    return db->nsp;
}

static void
sp_event(rhis_db *db, int op, const char *name)
{
    int depth;
    switch (op) {
    case RHIS_SP_OPEN:
        if (db->nsp < RHIS_DB_MAX_SP)
            snprintf(db->sp[db->nsp], sizeof(db->sp[0]), "%s", name);
        depth = ++db->nsp;
        break;
    case RHIS_SP_RELEASE:
        depth = sp_find(db, name);
        if (depth == 0)
            return;
        db->nsp = depth - 1;
        break;
    default:
        depth = sp_find(db, name);
        if (depth == 0)
            return;
        db->nsp = depth;
        break;
    }
    if (db->hook != NULL && db->hook->savepoint != NULL)
        db->hook->savepoint(db->hook_arg, (rhis_db_sp_op)op, depth);
}

rhis_status
rhis_db_exec(rhis_db *db, const char *sql)
{
    char name[32];
    int op = savepoint_stmt(sql, name, sizeof(name));
    if (op != RHIS_SP_OPEN && op != RHIS_SP_RELEASE)
        db->epoch++; /* may undo writes: forget the memo */
    rhis_status rc = db->drv->exec(db, sql);
    if (rc == RHIS_OK && op != 0)
        sp_event(db, op, name);
    else if (rc == RHIS_OK && (strcasecmp(sql, "ROLLBACK") == 0 ||
                               strcasecmp(sql, "COMMIT") == 0))
        db->nsp = 0; /* a raw end (a read snapshot, src/fhir/export.c) */
    return rc;
}

int
rhis_db_savepoint_depth(const rhis_db *db)
{
    return db->nsp;
}

void
rhis_db_set_tx_hook(rhis_db *db, const rhis_db_tx_hook *h, void *arg)
{
    if (db->hook != NULL && db->hook->free != NULL)
        db->hook->free(db->hook_arg);
    db->hook = h;
    db->hook_arg = arg;
}

void *
rhis_db_tx_hook_arg(const rhis_db *db, const rhis_db_tx_hook *h)
{
    return db->hook == h ? db->hook_arg : NULL;
}

#define RHIS_DB_MEMO 4096 /* a power of two */

struct rhis_db_memo_slot {
    uint64_t epoch; /* 0 = empty (epochs in use start at 1) */
    int64_t key;
    int64_t value;
    int kind;
};

static struct rhis_db_memo_slot *
memo_slot(rhis_db *db, int kind, int64_t key)
{
    uint64_t h = ((uint64_t)key * 0x9E3779B97F4A7C15ull) ^
                 ((uint64_t)kind * 0xC2B2AE3D27D4EB4Full);
    return &db->memo[(h >> 40) & (RHIS_DB_MEMO - 1)];
}

int
rhis_db_memo_get(rhis_db *db, int kind, int64_t key, int64_t *value)
{
    if (db->memo == NULL || !db->in_tx)
        return 0;
    const struct rhis_db_memo_slot *s = memo_slot(db, kind, key);
    if (s->epoch != db->epoch || s->kind != kind || s->key != key)
        return 0;
    *value = s->value;
    return 1;
}

void
rhis_db_memo_put(rhis_db *db, int kind, int64_t key, int64_t value)
{
    if (!db->in_tx)
        return;
    if (db->memo == NULL)
        db->memo = rhis_xcalloc(RHIS_DB_MEMO, sizeof(*db->memo));
    struct rhis_db_memo_slot *s = memo_slot(db, kind, key);
    s->epoch = db->epoch;
    s->kind = kind;
    s->key = key;
    s->value = value;
}

void
rhis_db_memo_forget(rhis_db *db)
{
    db->epoch++;
}

static void
end_lazy(rhis_db *db)
{
    if (!db->lazy)
        return;
    db->lazy = 0;
    (void)db->drv->exec(db, "PRAGMA synchronous=FULL");
}

rhis_status
rhis_db_begin(rhis_db *db)
{
    /* SQLite: take the write lock up front so two writers never deadlock
     * upgrading a read transaction (busy_timeout cannot resolve that). */
    rhis_status rc = db->drv->exec(db, db->drv->dialect == RHIS_DIALECT_SQLITE
                                           ? "BEGIN IMMEDIATE"
                                           : "BEGIN");
    db->epoch++;
    if (rc == RHIS_OK) {
        db->in_tx = 1;
        db->nsp = 0;
        /* state left by a transaction not ended through this file */
        if (db->hook != NULL && db->hook->rollback != NULL)
            db->hook->rollback(db->hook_arg);
    }
    return rc;
}

int
rhis_db_in_tx(const rhis_db *db)
{
    return db->in_tx;
}

rhis_status
rhis_db_begin_lazy(rhis_db *db)
{
    rhis_status rc;
    if (db->drv->dialect == RHIS_DIALECT_SQLITE) {
        /* per connection, read at commit; restored by commit/rollback */
        rc = db->drv->exec(db, "PRAGMA synchronous=NORMAL");
        if (rc != RHIS_OK)
            return rc;
        db->lazy = 1;
        rc = rhis_db_begin(db);
        if (rc != RHIS_OK)
            end_lazy(db);
        return rc;
    }
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK &&
        (rc = db->drv->exec(db, "SET LOCAL synchronous_commit TO off")) !=
            RHIS_OK)
        rhis_db_rollback(db);
    return rc;
}

rhis_status
rhis_db_commit(rhis_db *db)
{
    rhis_status rc = RHIS_OK;
    if (db->in_tx && db->hook != NULL && db->hook->pre_commit != NULL)
        rc = db->hook->pre_commit(db, db->hook_arg);
    if (rc == RHIS_OK)
        rc = db->drv->exec(db, "COMMIT");
    db->epoch++;
    if (rc == RHIS_OK) {
        db->in_tx = 0;
        db->nsp = 0;
        end_lazy(db);
    }
    return rc;
}

void
rhis_db_rollback(rhis_db *db)
{
    if (!db->in_tx)
        return;
    (void)db->drv->exec(db, "ROLLBACK");
    db->epoch++;
    db->in_tx = 0;
    db->nsp = 0;
    if (db->hook != NULL && db->hook->rollback != NULL)
        db->hook->rollback(db->hook_arg);
    end_lazy(db);
}

rhis_status
rhis_db_set_deferred(rhis_db *db, int on)
{
    if (db->drv->set_deferred == NULL)
        return RHIS_OK;
    rhis_status rc = db->drv->set_deferred(db, on);
    db->deferred = rc == RHIS_OK && on;
    return rc;
}

int
rhis_db_deferred(const rhis_db *db)
{
    return db->deferred;
}

rhis_status
rhis_db_sync(rhis_db *db)
{
    return db->drv->sync != NULL ? db->drv->sync(db) : RHIS_OK;
}

rhis_status
rhis_db_next_id(rhis_db *db, const char *table, int64_t *out)
{
    *out = 0;
    if (!db->deferred || db->drv->next_id == NULL)
        return RHIS_EUNSUPPORTED;
    return db->drv->next_id(db, table, out);
}

/* keep: the statement is stepped and finalized before the call that bound
 * it returns (rhis_db_run, rhis_db_query_row), so text arguments outlive
 * it and need not be copied */
static rhis_status
bind_va(rhis_stmt *st, const char *types, va_list ap, int keep)
{
    rhis_status rc = RHIS_OK;
    for (int i = 0; types != NULL && types[i] != '\0' && rc == RHIS_OK; i++) {
        const char *v;
        switch (types[i]) {
        case 'i':
            rc = rhis_db_bind_int64(st, i + 1, va_arg(ap, int64_t));
            break;
        case 'd':
            rc = rhis_db_bind_double(st, i + 1, va_arg(ap, double));
            break;
        case 's':
            v = va_arg(ap, const char *);
            if (v != NULL && keep && st->drv->bind_text_static != NULL)
                rc = st->drv->bind_text_static(st, i + 1, v);
            else
                rc = rhis_db_bind_text(st, i + 1, v);
            break;
        case 'n':
            rc = rhis_db_bind_null(st, i + 1);
            break;
        default:
            RHIS_ASSERT(!"unknown bind type");
        }
    }
    return rc;
}

static rhis_status
query_va(rhis_db *db,
         rhis_stmt **out,
         const char *sql,
         const char *types,
         va_list ap,
         int keep)
{
    rhis_status rc = rhis_db_prepare(db, sql, out);
    if (rc != RHIS_OK)
        return rc;
    rc = bind_va(*out, types, ap, keep);
    if (rc != RHIS_OK) {
        rhis_db_finalize(*out);
        *out = NULL;
    }
    return rc;
}

rhis_status
rhis_db_query(
    rhis_db *db, rhis_stmt **out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    rhis_status rc = query_va(db, out, sql, types, ap, 0);
    va_end(ap);
    return rc;
}

rhis_status
rhis_db_run(rhis_db *db, const char *sql, const char *types, ...)
{
    rhis_stmt *st;
    va_list ap;
    va_start(ap, types);
    rhis_status rc = query_va(db, &st, sql, types, ap, 1);
    va_end(ap);
    if (rc != RHIS_OK)
        return rc;
    do
        rc = rhis_db_step(st);
    while (rc == RHIS_ROW);
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

/* Runs sql and calls fill(st, out) on its first row (see db.h). */
static rhis_status
query_row_va(rhis_db *db,
             void (*fill)(rhis_stmt *, void *),
             void *out,
             const char *sql,
             const char *types,
             va_list ap)
{
    rhis_stmt *st;
    rhis_status rc = query_va(db, &st, sql, types, ap, 1);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        fill(st, out);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_ENOTFOUND;
    }
    rhis_db_finalize(st);
    return rc;
}

static void
fill_int64(rhis_stmt *st, void *out)
{
    *(int64_t *)out = rhis_db_column_int64(st, 0);
}

rhis_status
rhis_db_scalar_int64(
    rhis_db *db, int64_t *out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    rhis_status rc = query_row_va(db, fill_int64, out, sql, types, ap);
    va_end(ap);
    return rc;
}

rhis_status
rhis_db_query_row(rhis_db *db,
                  void (*fill)(rhis_stmt *, void *),
                  void *out,
                  const char *sql,
                  const char *types,
                  ...)
{
    va_list ap;
    va_start(ap, types);
    rhis_status rc = query_row_va(db, fill, out, sql, types, ap);
    va_end(ap);
    return rc;
}

/* The pool: a fixed array of connections and a free stack. */
struct rhis_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size, nfree;
    rhis_db **all;
    rhis_db **free;
};

rhis_status
rhis_db_pool_new(
    rhis_db_pool **out, const char *url, int size, char *err, size_t errlen)
{
    *out = NULL;
    if (size < 1)
        size = 1;
    rhis_db_pool *p = rhis_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->all = rhis_xcalloc((size_t)size, sizeof(rhis_db *));
    p->free = rhis_xcalloc((size_t)size, sizeof(rhis_db *));
    for (int i = 0; i < size; i++) {
        rhis_status rc = rhis_db_open(&p->all[i], url, err, errlen);
        if (rc != RHIS_OK) {
            rhis_db_pool_free(p);
            return rc;
        }
        p->size++;
        p->free[p->nfree++] = p->all[i];
    }
    *out = p;
    return RHIS_OK;
}

void
rhis_db_pool_free(rhis_db_pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        rhis_db_close(p->all[i]);
    rhis_free(p->all);
    rhis_free(p->free);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    rhis_free(p);
}

rhis_status
rhis_db_pool_get(rhis_db_pool *p, int timeout_ms, rhis_db **out)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    *out = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
            break;
    }
    if (p->nfree > 0)
        *out = p->free[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return *out != NULL ? RHIS_OK : RHIS_EBUSY;
}

void
rhis_db_pool_put(rhis_db_pool *p, rhis_db *db)
{
    if (db == NULL)
        return;
    rhis_db_rollback(db);
    pthread_mutex_lock(&p->mu);
    RHIS_ASSERT(p->nfree < p->size);
    p->free[p->nfree++] = db;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
