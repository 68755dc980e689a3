/*
 * driver.h - what each storage backend implements (private to src/db/).
 *
 * Why: db.c dispatches through this const table so modules never know which
 * engine they run on (SQLite sqlite3_io_methods, curl Curl_ssl).
 */
#ifndef RHIS_DB_DRIVER_H
#define RHIS_DB_DRIVER_H

#include "rhis/db.h"

#define RHIS_DB_MAX_SP 16

typedef struct rhis_db_driver {
    const char *scheme;
    rhis_dialect dialect;
    rhis_status (*open)(rhis_db **out,
                        const char *url,
                        char *err,
                        size_t errlen);
    void (*close)(rhis_db *db);
    const char *(*errmsg)(rhis_db *db);
    rhis_status (*prepare)(rhis_db *db, const char *sql, rhis_stmt **out);
    rhis_status (*bind_int64)(rhis_stmt *st, int idx, int64_t v);
    rhis_status (*bind_double)(rhis_stmt *st, int idx, double v);
    rhis_status (*bind_text)(rhis_stmt *st, int idx, const char *v);
    rhis_status (*bind_null)(rhis_stmt *st, int idx);
    rhis_status (*step)(rhis_stmt *st);
    int (*column_count)(rhis_stmt *st);
    int (*column_is_null)(rhis_stmt *st, int col);
    int64_t (*column_int64)(rhis_stmt *st, int col);
    double (*column_double)(rhis_stmt *st, int col);
    const char *(*column_text)(rhis_stmt *st, int col);
    rhis_status (*reset)(rhis_stmt *st);
    void (*finalize)(rhis_stmt *st);
    int64_t (*changes)(rhis_db *db);
    rhis_status (*exec)(rhis_db *db, const char *sql);
    /* deferred writes (NULL: not supported, see rhis_db_set_deferred) */
    rhis_status (*set_deferred)(rhis_db *db, int on);
    rhis_status (*sync)(rhis_db *db);
    rhis_status (*next_id)(rhis_db *db, const char *table, int64_t *out);
    /* binds text the caller keeps alive until the statement is reset or
     * finalized (no copy); NULL: bind_text is used */
    rhis_status (*bind_text_static)(rhis_stmt *st, int idx, const char *v);
} rhis_db_driver;

/* First member of every driver's connection and statement struct. */
struct rhis_db {
    const rhis_db_driver *drv;
    int in_tx;    /* maintained by db.c begin/commit/rollback */
    int lazy;     /* the open transaction is a lazy one (rhis_db_begin_lazy) */
    int deferred; /* rhis_db_set_deferred on, and the driver supports it */
    /* open savepoints, outermost first (names as written, for RELEASE and
     * ROLLBACK TO of an outer one); nsp may exceed RHIS_DB_MAX_SP, the
     * names of the deeper ones are then not kept */
    int nsp;
    char sp[RHIS_DB_MAX_SP][32];
    const rhis_db_tx_hook *hook; /* rhis_db_set_tx_hook */
    void *hook_arg;
    /* rhis_db_memo_*: entries of an older epoch are void; the epoch moves
     * on at every transaction boundary and savepoint rollback */
    uint64_t epoch;
    struct rhis_db_memo_slot *memo; /* RHIS_DB_MEMO slots, NULL until used */
};
struct rhis_stmt {
    const rhis_db_driver *drv;
    rhis_db *db;
};

extern const rhis_db_driver rhis_sqlite_driver;
extern const rhis_db_driver rhis_pg_driver;

#endif
