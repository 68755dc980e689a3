/*
 * testutil.h - small helpers shared by the cmocka unit tests.
 *
 * Why: CMake builds every tests/<module>/test_*.c as its own executable, so
 * shared code cannot live in a linked object; it lives here as static inline
 * functions.  The database-backed suites (auth, registry, audit) must run
 * the same cases on a throw-away SQLite file and, when RHIS_TEST_PG_URL is
 * set, on PostgreSQL inside a private schema with a random name that is
 * dropped at the end (the approach of tests/db/test_db.c), so several runs
 * can share one server.  rhis_test_run_engines() does that dance once for
 * every suite; without RHIS_TEST_PG_URL it reports the PostgreSQL group as
 * skipped with a printed note.
 */
#ifndef RHIS_TESTUTIL_H
#define RHIS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rhis/db.h"

/* The engine a database-backed group runs on. */
typedef struct rhis_test_engine {
    const char *name;     /* "sqlite" or "postgresql" */
    char url[1024];       /* what the group's connections open */
    char sqlite_path[64]; /* the temp file, "" when none */
    char schema[64];      /* the PostgreSQL schema, "" when none */
} rhis_test_engine;

/* The engine of the group now running (one per process at a time). */
static inline rhis_test_engine *
rhis_test_engine_cur(void)
{
    static rhis_test_engine e;
    return &e;
}

/* Asserts that expr returns want; prints the driver message if not. */
#define RHIS_CHECK_RC(db, expr, want)                                          \
    do {                                                                       \
        rhis_status rc_ = (expr);                                              \
        if (rc_ != (want))                                                     \
            print_error("%s: %s -> %d, want %d (%s)\n",                        \
                        rhis_test_engine_cur()->name, #expr, (int)rc_,         \
                        (int)(want), (db) != NULL ? rhis_db_errmsg(db) : "");  \
        assert_int_equal(rc_, (want));                                         \
    } while (0)

#define RHIS_CHECK_OK(db, expr) RHIS_CHECK_RC(db, expr, RHIS_OK)

/* The first column of the first row of a parameterless query. */
static inline int64_t
rhis_test_scalar(rhis_db *db, const char *sql)
{
    int64_t n = -1;
    RHIS_CHECK_OK(db, rhis_db_scalar_int64(db, &n, sql, ""));
    return n;
}

/* Opens the current engine's URL and applies the migrations. */
static inline int
rhis_test_open_migrated(rhis_db **out)
{
    char err[256];
    int version = 0;
    rhis_test_engine *e = rhis_test_engine_cur();
    if (rhis_db_open(out, e->url, err, sizeof(err)) != RHIS_OK) {
        print_error("%s: open failed: %s\n", e->name, err);
        return -1;
    }
    if (rhis_db_migrate(*out, &version) != RHIS_OK ||
        version != rhis_db_schema_version_latest()) {
        print_error("%s: migrate failed: %s\n", e->name, rhis_db_errmsg(*out));
        rhis_db_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Path of a reference file: $RHIS_DATA_DIR/name, else data/name. */
static inline void
rhis_test_data_file(const char *name, char *out, size_t len)
{
    const char *dir = getenv("RHIS_DATA_DIR");
    (void)snprintf(out, len, "%s/%s",
                   dir != NULL && *dir != '\0' ? dir : "data", name);
}

/* Writes text to dir/name; out receives the path.  0 on success. */
static inline int
rhis_test_write_file(
    const char *dir, const char *name, const char *text, char *out, size_t len)
{
    (void)snprintf(out, len, "%s/%s", dir, name);
    FILE *f = fopen(out, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Creates a private temp directory; dir must hold 64 bytes. */
static inline int
rhis_test_mkdtemp(char dir[64])
{
    (void)snprintf(dir, 64, "/tmp/rhis-unit-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

/*
 * Runs "CREATE SCHEMA name" or "DROP SCHEMA name CASCADE" on the server at
 * base_url.  The server quotes the identifier (format %I) from a bound
 * parameter, so no SQL is built in C.
 */
static inline int
rhis_test_pg_schema_ddl(const char *base_url, const char *fmt, const char *name)
{
    rhis_db *db = NULL;
    rhis_stmt *st = NULL;
    char err[256];
    int ok = -1;

    if (rhis_db_open(&db, base_url, err, sizeof(err)) != RHIS_OK) {
        print_error("postgresql: cannot connect: %s\n", err);
        return -1;
    }
    if (rhis_db_query(db, &st, "SELECT format(?, ?::text)", "ss", fmt, name) !=
            RHIS_OK ||
        rhis_db_step(st) != RHIS_ROW)
        goto out;
    if (rhis_db_exec(db, rhis_db_column_text(st, 0)) != RHIS_OK)
        goto out;
    ok = 0;
out:
    if (ok != 0)
        print_error("postgresql: %s: %s\n", fmt, rhis_db_errmsg(db));
    rhis_db_finalize(st);
    rhis_db_close(db);
    return ok;
}

/* Points the current engine at a fresh SQLite temp file. */
static inline int
rhis_test_sqlite_begin(void)
{
    rhis_test_engine *e = rhis_test_engine_cur();
    memset(e, 0, sizeof(*e));
    e->name = "sqlite";
    (void)snprintf(e->sqlite_path, sizeof(e->sqlite_path),
                   "/tmp/rhis-unit-db-XXXXXX");
    int fd = mkstemp(e->sqlite_path);
    if (fd < 0)
        return -1;
    close(fd);
    (void)snprintf(e->url, sizeof(e->url), "sqlite:%s", e->sqlite_path);
    return 0;
}

/* Creates a private schema on base and points the engine at it. */
static inline int
rhis_test_pg_begin(const char *base)
{
    rhis_test_engine *e = rhis_test_engine_cur();
    struct timespec ts;
    memset(e, 0, sizeof(*e));
    e->name = "postgresql";
    clock_gettime(CLOCK_REALTIME, &ts);
    (void)snprintf(e->schema, sizeof(e->schema), "rhis_unit_%ld_%lx",
                   (long)getpid(),
                   (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
    int n = snprintf(e->url, sizeof(e->url), "%s%coptions=-csearch_path%%3D%s",
                     base, strchr(base, '?') != NULL ? '&' : '?', e->schema);
    if (n < 0 || (size_t)n >= sizeof(e->url)) {
        print_error("RHIS_TEST_PG_URL is too long\n");
        return -1;
    }
    return rhis_test_pg_schema_ddl(base, "CREATE SCHEMA %I", e->schema);
}

/* Removes what the current engine's begin created. */
static inline int
rhis_test_engine_end(const char *pg_base)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    rhis_test_engine *e = rhis_test_engine_cur();
    int rc = 0;
    if (e->sqlite_path[0] != '\0') {
        for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
            char path[160];
            (void)snprintf(path, sizeof(path), "%s%s", e->sqlite_path,
                           suffix[i]);
            (void)unlink(path);
        }
    }
    if (e->schema[0] != '\0' && pg_base != NULL)
        rc = rhis_test_pg_schema_ddl(pg_base, "DROP SCHEMA %I CASCADE",
                                     e->schema);
    memset(e, 0, sizeof(*e));
    return rc;
}

static inline void
postgresql_group_skipped_because_RHIS_TEST_PG_URL_is_unset(void **state)
{
    (void)state;
    print_message("note: RHIS_TEST_PG_URL is not set; PostgreSQL cases "
                  "skipped\n");
    skip();
}

/*
 * Runs tests[0..n) once on SQLite and once on PostgreSQL (or a skip note).
 * setup/teardown are the group fixtures; they find the URL in
 * rhis_test_engine_cur().  Returns the number of failures.
 */
static inline int
rhis_test_run_engines(const char *suite,
                      const struct CMUnitTest *tests,
                      size_t n,
                      CMFixtureFunction setup,
                      CMFixtureFunction teardown)
{
    static const struct CMUnitTest skipped[] = {cmocka_unit_test(
        postgresql_group_skipped_because_RHIS_TEST_PG_URL_is_unset)};
    char title[128];
    int failed = 0;

    if (rhis_test_sqlite_begin() != 0) {
        print_error("cannot create a SQLite temp file\n");
        return 1;
    }
    (void)snprintf(title, sizeof(title), "%s: sqlite", suite);
    failed += _cmocka_run_group_tests(title, tests, n, setup, teardown);
    (void)rhis_test_engine_end(NULL);

    const char *pg = getenv("RHIS_TEST_PG_URL");
    (void)snprintf(title, sizeof(title), "%s: postgresql", suite);
    if (pg == NULL || pg[0] == '\0')
        return failed + _cmocka_run_group_tests(title, skipped, 1, NULL, NULL);
    if (rhis_test_pg_begin(pg) != 0)
        return failed + 1;
    failed += _cmocka_run_group_tests(title, tests, n, setup, teardown);
    if (rhis_test_engine_end(pg) != 0)
        failed++;
    return failed;
}

#endif
