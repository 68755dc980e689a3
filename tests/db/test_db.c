/*
 * test_db.c - the database conformance suite, run against every engine.
 *
 * Why: modules write their SQL once and trust both drivers to behave the
 * same (SQLite's "permutations" idea).  The same table of tests runs on a
 * throw-away SQLite file and, when RHIS_TEST_PG_URL is set, on PostgreSQL
 * inside a freshly created schema with a random name, so several runs can
 * share one server in parallel.  A few extra tests cover what only the
 * PostgreSQL driver does ('?' rewriting inside E'' and $$ strings, COMMIT
 * of an aborted transaction).  Without RHIS_TEST_PG_URL the PostgreSQL
 * group is reported as skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rhis/db.h"
#include "testutil.h"

/* The engine under test: set by each group's setup. */
static const char *g_engine;   /* "sqlite" or "postgresql" */
static char g_url[1024];       /* what every connection of the run opens */
static char g_sqlite_path[64]; /* the temp file, "" when none */
static char g_schema[64];      /* the PostgreSQL schema, "" when none */
static rhis_db *g_db;          /* the connection of the current test */

/* Asserts that expr returns want, printing the driver's message if not. */
#define CHECK_RC(db, expr, want)                                               \
    do {                                                                       \
        rhis_status rc_ = (expr);                                              \
        if (rc_ != (want))                                                     \
            print_error("%s: %s -> %d, want %d (%s)\n", g_engine, #expr,       \
                        (int)rc_, (int)(want),                                 \
                        (db) != NULL ? rhis_db_errmsg(db) : "");               \
        assert_int_equal(rc_, (want));                                         \
    } while (0)

#define CHECK_OK(db, expr) CHECK_RC(db, expr, RHIS_OK)

static int64_t
count_rows(rhis_db *db, const char *sql)
{
    int64_t n = -1;

    CHECK_OK(db, rhis_db_scalar_int64(db, &n, sql, ""));
    return n;
}

static int
open_conn(void **state)
{
    char err[256];
    rhis_status rc;

    (void)state;
    rc = rhis_db_open(&g_db, g_url, err, sizeof(err));
    if (rc != RHIS_OK) {
        print_error("%s: open failed (%d): %s\n", g_engine, (int)rc, err);
        return -1;
    }
    return 0;
}

static int
close_conn(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

/* ---- the conformance suite ------------------------------------------ */

static void
open_rejects_unknown_url_scheme(void **state)
{
    rhis_db *db = (rhis_db *)&db; /* must be overwritten with NULL */
    char err[256] = "";

    (void)state;
    assert_int_equal(
        rhis_db_open(&db, "mysql://localhost/rhis", err, sizeof(err)),
        RHIS_EINVAL);
    assert_null(db);
    assert_true(err[0] != '\0');
}

static void
dialect_matches_the_url_scheme(void **state)
{
    (void)state;
    assert_int_equal(rhis_db_dialect(g_db), strcmp(g_engine, "sqlite") == 0
                                                ? RHIS_DIALECT_SQLITE
                                                : RHIS_DIALECT_POSTGRES);
}

static void
exec_runs_several_ddl_statements_at_once(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_ddl_a (id INTEGER);"
                                      "CREATE TABLE ct_ddl_b (id INTEGER);"
                                      "CREATE INDEX ct_ddl_b_id "
                                      "ON ct_ddl_b(id);"));
    CHECK_OK(g_db, rhis_db_exec(g_db, "INSERT INTO ct_ddl_a VALUES (1);"
                                      "INSERT INTO ct_ddl_b VALUES (2)"));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_ddl_a"), 1);
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_ddl_b"), 1);
}

static void
exec_reports_syntax_error_and_connection_survives(void **state)
{
    (void)state;
    assert_true(rhis_db_exec(g_db, "CREATE TABLEX nonsense") < 0);
    assert_true(rhis_db_errmsg(g_db)[0] != '\0');
    assert_int_equal(count_rows(g_db, "SELECT 1"), 1);
}

static void
bound_text_int_double_null_round_trip(void **state)
{
    static const char *const zh = "吉林省吉林市永吉县";
    rhis_stmt *st = NULL;
    int64_t n = -1;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_bind ("
                                      " id INTEGER PRIMARY KEY,"
                                      " name TEXT,"
                                      " n BIGINT,"
                                      " x DOUBLE PRECISION,"
                                      " note TEXT)"));
    CHECK_OK(g_db, rhis_db_prepare(g_db,
                                   "INSERT INTO ct_bind (id, name, n, x, note)"
                                   " VALUES (?, ?, ?, ?, ?)",
                                   &st));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 1, 1));
    CHECK_OK(g_db, rhis_db_bind_text(st, 2, zh));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 3, INT64_MAX));
    CHECK_OK(g_db, rhis_db_bind_double(st, 4, 0.1));
    CHECK_OK(g_db, rhis_db_bind_null(st, 5));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    CHECK_OK(g_db, rhis_db_reset(st));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 1, 2));
    CHECK_OK(g_db, rhis_db_bind_text(st, 2, "O'Brien; DROP TABLE x -- ?"));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 3, INT64_MIN));
    CHECK_OK(g_db, rhis_db_bind_double(st, 4, -1.5e300));
    CHECK_OK(g_db, rhis_db_bind_text(st, 5, NULL)); /* NULL text is NULL */
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);

    CHECK_OK(g_db, rhis_db_prepare(g_db,
                                   "SELECT name, n, x, note FROM ct_bind"
                                   " ORDER BY id",
                                   &st));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_count(st), 4);
    assert_string_equal(rhis_db_column_text(st, 0), zh);
    assert_true(rhis_db_column_int64(st, 1) == INT64_MAX);
    assert_true(rhis_db_column_double(st, 2) == 0.1);
    assert_true(rhis_db_column_is_null(st, 3));
    assert_null(rhis_db_column_text(st, 3));
    assert_false(rhis_db_column_is_null(st, 0));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0),
                        "O'Brien; DROP TABLE x -- ?");
    assert_true(rhis_db_column_int64(st, 1) == INT64_MIN);
    assert_true(rhis_db_column_double(st, 2) == -1.5e300);
    assert_true(rhis_db_column_is_null(st, 3));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);

    /* The Chinese text also works as a bound search key. */
    CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &n,
                                        "SELECT count(*) FROM ct_bind"
                                        " WHERE name = ?",
                                        "s", zh));
    assert_int_equal(n, 1);
}

static void
question_mark_in_literal_identifier_or_comment_is_not_a_parameter(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_q (\"what?\" TEXT)"));
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_q (\"what?\") -- who? \n"
                                 " VALUES ('it''s ?' || ?)",
                                 "s", "!"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);

    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "SELECT \"what?\", '?', ? FROM ct_q"
                                 " /* why? */ WHERE \"what?\" <> ?",
                                 "ss", "x?", "?"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "it's ?!");
    assert_string_equal(rhis_db_column_text(st, 1), "?");
    assert_string_equal(rhis_db_column_text(st, 2), "x?");
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
step_yields_rows_then_done_and_stays_done(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_rows (n INTEGER);"
                                      "INSERT INTO ct_rows VALUES (1);"
                                      "INSERT INTO ct_rows VALUES (2);"
                                      "INSERT INTO ct_rows VALUES (3)"));
    CHECK_OK(g_db,
             rhis_db_prepare(
                 g_db, "SELECT n FROM ct_rows WHERE n >= ? ORDER BY n", &st));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 1, 2));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 2);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 3);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);

    /* An empty result is DONE at once. */
    CHECK_OK(g_db, rhis_db_reset(st));
    CHECK_OK(g_db, rhis_db_bind_int64(st, 1, 99));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
reset_clears_bindings_and_runs_again(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_prepare(g_db, "SELECT ?", &st));
    CHECK_OK(g_db, rhis_db_bind_text(st, 1, "a"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "a");
    CHECK_OK(g_db, rhis_db_reset(st));
    CHECK_OK(g_db, rhis_db_bind_text(st, 1, "b"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "b");
    CHECK_OK(g_db, rhis_db_reset(st));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_true(rhis_db_column_is_null(st, 0));
    rhis_db_finalize(st);
    rhis_db_finalize(NULL); /* a no-op */
}

static void
unique_violation_is_conflict_and_connection_still_works(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_uniq ("
                                      " code TEXT PRIMARY KEY,"
                                      " name TEXT NOT NULL)"));
    CHECK_OK(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_uniq (code, name) VALUES (?, ?)",
                         "ss", "220221", "永吉县"));
    CHECK_RC(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_uniq (code, name) VALUES (?, ?)",
                         "ss", "220221", "again"),
             RHIS_ECONFLICT);
    assert_true(rhis_db_errmsg(g_db)[0] != '\0');
    /* The message must not quote the row (it may be patient data). */
    assert_null(strstr(rhis_db_errmsg(g_db), "220221"));
    CHECK_RC(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_uniq (code, name) VALUES (?, ?)",
                         "sn", "220222"),
             RHIS_EINVAL); /* NOT NULL */
    CHECK_OK(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_uniq (code, name) VALUES (?, ?)",
                         "ss", "220282", "桦甸市"));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_uniq"), 2);
}

static void
rollback_leaves_nothing_behind(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_rb (n INTEGER)"));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_rb VALUES (?)", "i",
                               (int64_t)1));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_rb VALUES (?)", "i",
                               (int64_t)2));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_rb"), 2);
    rhis_db_rollback(g_db);
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_rb"), 0);
    rhis_db_rollback(g_db); /* no transaction open: harmless */
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_rb"), 0);
}

static void
commit_persists_for_other_connections(void **state)
{
    rhis_db *other = NULL;
    char err[256];

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_commit (n INTEGER)"));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_commit VALUES (?)", "i",
                               (int64_t)7));
    CHECK_OK(g_db, rhis_db_commit(g_db));
    rhis_db_rollback(g_db); /* after commit: nothing to undo */

    CHECK_OK(NULL, rhis_db_open(&other, g_url, err, sizeof(err)));
    assert_int_equal(count_rows(other, "SELECT sum(n) FROM ct_commit"), 7);
    rhis_db_close(other);
}

static void
changes_counts_rows_of_the_last_write(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_chg (n INTEGER)"));
    for (int64_t i = 1; i <= 3; i++)
        CHECK_OK(g_db,
                 rhis_db_run(g_db, "INSERT INTO ct_chg VALUES (?)", "i", i));
    assert_int_equal(rhis_db_changes(g_db), 1);
    CHECK_OK(g_db, rhis_db_run(g_db, "UPDATE ct_chg SET n = n + 10", ""));
    assert_int_equal(rhis_db_changes(g_db), 3);
    CHECK_OK(g_db, rhis_db_run(g_db, "DELETE FROM ct_chg WHERE n > ?", "i",
                               (int64_t)11));
    assert_int_equal(rhis_db_changes(g_db), 2);
    CHECK_OK(g_db,
             rhis_db_run(g_db, "UPDATE ct_chg SET n = 0 WHERE n < 0", ""));
    assert_int_equal(rhis_db_changes(g_db), 0);
}

static void
query_run_and_scalar_helpers_bind_by_type_string(void **state)
{
    rhis_stmt *st = NULL;
    int64_t n = -1;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_help ("
                                      " id INTEGER PRIMARY KEY,"
                                      " name TEXT, x DOUBLE PRECISION,"
                                      " note TEXT)"));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_help VALUES (?, ?, ?, ?)",
                               "isdn", (int64_t)1, "舒兰市", 2.5));
    CHECK_OK(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_help VALUES (?, ?, ?, ?)",
                         "isds", (int64_t)2, (const char *)NULL, 3.5, "n"));
    CHECK_OK(g_db, rhis_db_scalar_int64(
                       g_db, &n, "SELECT count(*) FROM ct_help WHERE x > ?",
                       "d", 3.0));
    assert_int_equal(n, 1);
    CHECK_RC(g_db,
             rhis_db_scalar_int64(g_db, &n,
                                  "SELECT id FROM ct_help WHERE id = ?", "i",
                                  (int64_t)42),
             RHIS_ENOTFOUND);

    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "SELECT id, name, x FROM ct_help"
                                 " WHERE name IS NULL OR name = ?"
                                 " ORDER BY id",
                                 "s", "舒兰市"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 1);
    assert_string_equal(rhis_db_column_text(st, 1), "舒兰市");
    assert_true(rhis_db_column_double(st, 2) == 2.5);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 2);
    assert_null(rhis_db_column_text(st, 1));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
upsert_on_conflict_do_update_counts_up(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_upsert ("
                                      " code TEXT PRIMARY KEY,"
                                      " hits BIGINT NOT NULL,"
                                      " label TEXT)"));
    for (int64_t want = 1; want <= 3; want++) {
        CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                     "INSERT INTO ct_upsert (code, hits, label)"
                                     " VALUES (?, 1, ?)"
                                     " ON CONFLICT (code) DO UPDATE"
                                     " SET hits = ct_upsert.hits + 1,"
                                     " label = excluded.label"
                                     " RETURNING hits, label",
                                     "ss", "220221", "第几次"));
        CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
        assert_int_equal(rhis_db_column_int64(st, 0), want);
        assert_string_equal(rhis_db_column_text(st, 1), "第几次");
        CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
        rhis_db_finalize(st);
        assert_int_equal(rhis_db_changes(g_db), 1);
    }
    CHECK_OK(g_db,
             rhis_db_run(g_db,
                         "INSERT INTO ct_upsert (code, hits) VALUES (?, 9)"
                         " ON CONFLICT (code) DO NOTHING",
                         "s", "220221"));
    assert_int_equal(count_rows(g_db, "SELECT hits FROM ct_upsert"), 3);
}

static void
insert_returning_yields_the_new_row(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_ret ("
                                      " id INTEGER PRIMARY KEY,"
                                      " name TEXT NOT NULL)"));
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_ret (id, name) VALUES (?, ?)"
                                 " RETURNING id, name",
                                 "is", (int64_t)5, "蛟河市"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_count(st), 2);
    assert_int_equal(rhis_db_column_int64(st, 0), 5);
    assert_string_equal(rhis_db_column_text(st, 1), "蛟河市");
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);

    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "UPDATE ct_ret SET name = ? WHERE id = ?"
                                 " RETURNING name",
                                 "si", "磐石市", (int64_t)5));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "磐石市");
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
migrate_applies_and_second_run_is_a_noop(void **state)
{
    int v1 = -1;
    int v2 = -1;
    int64_t applied = -1;

    (void)state;
    CHECK_OK(g_db, rhis_db_migrate(g_db, &v1));
    assert_int_equal(v1, rhis_db_schema_version_latest());
    applied = count_rows(g_db, "SELECT count(*) FROM schema_version");
    CHECK_OK(g_db, rhis_db_migrate(g_db, &v2));
    assert_int_equal(v2, rhis_db_schema_version_latest());
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM schema_version"),
                     applied);
}

static void
pool_of_two_is_busy_while_both_are_out(void **state)
{
    rhis_db_pool *pool = NULL;
    rhis_db *a = NULL;
    rhis_db *b = NULL;
    rhis_db *c = (rhis_db *)&c;
    char err[256];
    struct timespec t0, t1;
    long ms;

    (void)state;
    CHECK_OK(NULL, rhis_db_pool_new(&pool, g_url, 2, err, sizeof(err)));
    CHECK_OK(NULL, rhis_db_pool_get(pool, 50, &a));
    CHECK_OK(NULL, rhis_db_pool_get(pool, 50, &b));
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(rhis_db_pool_get(pool, 50, &c), RHIS_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_null(c);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 40 && ms < 5000);

    /* A connection handed back is usable by the next taker. */
    rhis_db_pool_put(pool, a);
    CHECK_OK(NULL, rhis_db_pool_get(pool, 50, &c));
    assert_ptr_equal(c, a);
    assert_int_equal(count_rows(c, "SELECT 1"), 1);
    rhis_db_pool_put(pool, c);
    rhis_db_pool_put(pool, b);
    rhis_db_pool_free(pool);
}

static void
pool_put_rolls_back_an_open_transaction(void **state)
{
    rhis_db_pool *pool = NULL;
    rhis_db *a = NULL;
    char err[256];

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_pool (n INTEGER)"));
    CHECK_OK(NULL, rhis_db_pool_new(&pool, g_url, 1, err, sizeof(err)));
    CHECK_OK(NULL, rhis_db_pool_get(pool, 1000, &a));
    CHECK_OK(a, rhis_db_begin(a));
    CHECK_OK(a, rhis_db_run(a, "INSERT INTO ct_pool VALUES (1)", ""));
    rhis_db_pool_put(pool, a);
    CHECK_OK(NULL, rhis_db_pool_get(pool, 1000, &a));
    assert_int_equal(count_rows(a, "SELECT count(*) FROM ct_pool"), 0);
    rhis_db_pool_put(pool, a);
    rhis_db_pool_free(pool);
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_pool"), 0);
}

/* "INSERT ... VALUES (one row) RETURNING id": the SQLite driver answers
 * the row itself (src/db/sqlite.c, returning_rowid); the answers must be
 * those of a real RETURNING, and the other forms keep the real one. */
static void
insert_returning_id_of_one_row(void **state)
{
    rhis_stmt *st = NULL;
    int64_t id = 0;
    int sqlite = rhis_db_dialect(g_db) == RHIS_DIALECT_SQLITE;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, sqlite ? "CREATE TABLE ct_rid ("
                                               " id INTEGER PRIMARY KEY"
                                               " AUTOINCREMENT,"
                                               " name TEXT NOT NULL UNIQUE)"
                                             : "CREATE TABLE ct_rid ("
                                               " id BIGSERIAL PRIMARY KEY,"
                                               " name TEXT NOT NULL UNIQUE)"));
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_rid (name) VALUES (?)"
                                 " RETURNING id",
                                 "s", "a"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_count(st), 1);
    assert_false(rhis_db_column_is_null(st, 0));
    assert_int_equal(rhis_db_column_int64(st, 0), 1);
    assert_string_equal(rhis_db_column_text(st, 0), "1");
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    /* the same handle again */
    CHECK_OK(g_db, rhis_db_reset(st));
    CHECK_OK(g_db, rhis_db_bind_text(st, 1, "b"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 2);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
    /* a failed insert answers no row */
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_rid (name) VALUES (?)"
                                 " RETURNING id",
                                 "s", "a"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ECONFLICT);
    rhis_db_finalize(st);
    /* parentheses and quotes inside the row */
    CHECK_OK(g_db, rhis_db_scalar_int64(
                       g_db, &id,
                       "INSERT INTO ct_rid (name) VALUES (COALESCE(?, ')'))"
                       " RETURNING id",
                       "s", (const char *)NULL));
    assert_true(id > 2); /* a PostgreSQL sequence skips the failed one */
    assert_int_equal(count_rows(g_db, "SELECT MAX(id) FROM ct_rid"), id);
    assert_int_equal(count_rows(g_db, "SELECT COUNT(*) FROM ct_rid"
                                      " WHERE name = ')'"),
                     1);
    /* nothing inserted: no row (a real RETURNING) */
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_rid (name) VALUES (?)"
                                 " ON CONFLICT (name) DO NOTHING RETURNING id",
                                 "s", "b"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
    /* two rows: two answers */
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "INSERT INTO ct_rid (name) VALUES (?), (?)"
                                 " RETURNING id",
                                 "ss", "c", "d"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    CHECK_RC(g_db, rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
    /* an id that is not the rowid is returned as written */
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_rid2 (id BIGINT,"
                                      " k INTEGER, PRIMARY KEY (id, k))"));
    CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &id,
                                        "INSERT INTO ct_rid2 (id, k)"
                                        " VALUES (?, ?) RETURNING id",
                                        "ii", (int64_t)70, (int64_t)1));
    assert_int_equal(id, 70);
    assert_int_equal(count_rows(g_db, "SELECT COUNT(*) FROM ct_rid"), 5);
}

/* rhis_db_memo_*: kept within a transaction, void after it or after a
 * rolled-back savepoint, never kept outside one. */
static void
memo_lives_for_the_transaction(void **state)
{
    int64_t v = 0;

    (void)state;
    rhis_db_memo_put(g_db, 1, 7, 70);
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    rhis_db_memo_put(g_db, 1, 7, 70);
    rhis_db_memo_put(g_db, 2, 7, INT64_MIN);
    assert_true(rhis_db_memo_get(g_db, 1, 7, &v));
    assert_int_equal(v, 70);
    assert_true(rhis_db_memo_get(g_db, 2, 7, &v));
    assert_true(v == INT64_MIN);
    assert_false(rhis_db_memo_get(g_db, 1, 8, &v));
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT m"));
    assert_true(rhis_db_memo_get(g_db, 1, 7, &v));
    CHECK_OK(g_db, rhis_db_exec(g_db, "ROLLBACK TO SAVEPOINT m"));
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    rhis_db_memo_put(g_db, 1, 7, 71);
    CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE m"));
    assert_true(rhis_db_memo_get(g_db, 1, 7, &v));
    assert_int_equal(v, 71);
    rhis_db_memo_forget(g_db);
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    rhis_db_memo_put(g_db, 1, 7, 72);
    CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    rhis_db_memo_put(g_db, 1, 7, 73);
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_false(rhis_db_memo_get(g_db, 1, 7, &v));
    rhis_db_rollback(g_db);
}

static void
repeated_and_many_statements_give_the_same_answers(void **state)
{
    char sql[96];
    int64_t v = 0;

    (void)state;
    /* the same text again and again: prepared once on PostgreSQL */
    for (int i = 0; i < 5; i++) {
        CHECK_OK(g_db,
                 rhis_db_scalar_int64(g_db, &v, "SELECT CAST(? AS BIGINT) + 1",
                                      "i", (int64_t)i));
        assert_int_equal(v, i + 1);
    }
    /* more texts than the statement cache holds, each used twice:
     * prepared ones are pushed out and closed (distinct texts need a
     * formatted constant; the value is still bound) */
    for (int i = 0; i < 150; i++) {
        (void)snprintf(sql, sizeof(sql),
                       "SELECT CAST(? AS BIGINT) * %d /* text %d */", i % 7,
                       i); /* checksrc: ok */
        for (int k = 0; k < 2; k++) {
            CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &v, sql, "i",
                                                (int64_t)(i + k)));
            assert_int_equal(v, (int64_t)(i + k) * (i % 7));
        }
    }
    CHECK_OK(g_db,
             rhis_db_scalar_int64(g_db, &v, "SELECT CAST(? AS BIGINT) + 1", "i",
                                  (int64_t)41));
    assert_int_equal(v, 42);
}

static void
deferred_writes_are_all_there_and_counted(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_def ("
                                      " n INTEGER PRIMARY KEY, v INTEGER)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    /* more than the driver keeps in flight before it reads answers */
    for (int i = 1; i <= 600; i++)
        CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_def VALUES (?, 0)",
                                   "i", (int64_t)i));
    /* a statement with rows sees them */
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_def"), 600);
    CHECK_OK(g_db,
             rhis_db_run(g_db, "UPDATE ct_def SET v = 1 WHERE n <= 10", ""));
    assert_int_equal(rhis_db_changes(g_db), 10);
    CHECK_OK(g_db, rhis_db_sync(g_db));
    CHECK_OK(g_db, rhis_db_commit(g_db));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    assert_int_equal(rhis_db_deferred(g_db), 0);
    assert_int_equal(count_rows(g_db, "SELECT sum(v) FROM ct_def"), 10);
}

static void
deferred_failure_is_reported_and_rolled_back(void **state)
{
    rhis_status at_step, at_sync;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_deffail ("
                                      " n INTEGER PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_deffail VALUES (1)", ""));
    /* SQLite answers at once; PostgreSQL with deferral at the sync */
    at_step = rhis_db_run(g_db, "INSERT INTO ct_deffail VALUES (1)", "");
    at_sync = rhis_db_sync(g_db);
    assert_true(at_step == RHIS_ECONFLICT || at_sync == RHIS_ECONFLICT);
    if (rhis_db_deferred(g_db)) {
        assert_int_equal(at_step, RHIS_OK);
        assert_true(rhis_db_commit(g_db) < 0); /* never a silent commit */
    }
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_deffail"), 0);
}

/* A read behind deferred writes goes out in their pipeline (PostgreSQL):
 * it sees them, is prepared there on its second use, and reports an
 * earlier write's failure rather than its own answer. */
static void
deferred_read_behind_writes(void **state)
{
    int64_t n = -1;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_defread ("
                                      " n INTEGER PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    for (int i = 1; i <= 4; i++) {
        CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defread VALUES (?)",
                                   "i", (int64_t)i));
        CHECK_OK(g_db, rhis_db_scalar_int64(
                           g_db, &n, "SELECT count(*) FROM ct_defread", ""));
        assert_int_equal(n, i);
    }
    /* a read's own error is its own */
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defread VALUES (5)", ""));
    assert_true(rhis_db_scalar_int64(
                    g_db, &n, "SELECT count(*) FROM ct_no_such_table", "") < 0);
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defread VALUES (1)", ""));
    rhis_status at_step =
        rhis_db_run(g_db, "INSERT INTO ct_defread VALUES (1)", "");
    rhis_status at_read =
        rhis_db_scalar_int64(g_db, &n, "SELECT count(*) FROM ct_defread", "");
    if (rhis_db_deferred(g_db)) {
        assert_int_equal(at_step, RHIS_OK);
        assert_int_equal(at_read, RHIS_ECONFLICT); /* the write's failure */
        assert_true(rhis_db_commit(g_db) < 0);
    } else {
        assert_int_equal(at_step, RHIS_ECONFLICT);
        CHECK_OK(g_db, at_read);
    }
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_defread"), 0);
}

/* Savepoints amid deferred writes join their pipeline (PostgreSQL): they
 * keep their meaning, and a write that failed before a savepoint is never
 * undone by rolling back to it. */
static void
deferred_savepoints(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_defsp ("
                                      " n INTEGER PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defsp VALUES (1)", ""));
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT sa"));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defsp VALUES (2)", ""));
    CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE SAVEPOINT sa"));
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT sb"));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_defsp VALUES (3)", ""));
    CHECK_OK(g_db, rhis_db_exec(g_db, "ROLLBACK TO SAVEPOINT sb"));
    CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE SAVEPOINT sb"));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_defsp"), 2);
    rhis_status at_step =
        rhis_db_run(g_db, "INSERT INTO ct_defsp VALUES (1)", "");
    if (rhis_db_deferred(g_db)) {
        assert_int_equal(at_step, RHIS_OK);
        CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT sc"));
        assert_true(rhis_db_exec(g_db, "ROLLBACK TO SAVEPOINT sc") < 0);
        assert_true(rhis_db_commit(g_db) < 0); /* never a silent commit */
        rhis_db_rollback(g_db);
        assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_defsp"), 0);
    } else {
        assert_int_equal(at_step, RHIS_ECONFLICT);
        CHECK_OK(g_db, rhis_db_commit(g_db));
        assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_defsp"), 2);
    }
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
}

/* A transaction hook that records what db.c told it. */
typedef struct hook_log {
    int pre_commit, rollback, freed;
    char events[64]; /* "o1 o2 r1 l1 " ... */
} hook_log;

static rhis_status
log_pre_commit(rhis_db *db, void *arg)
{
    (void)db;
    ((hook_log *)arg)->pre_commit++;
    return RHIS_OK;
}

static void
log_rollback(void *arg)
{
    ((hook_log *)arg)->rollback++;
}

static void
log_savepoint(void *arg, rhis_db_sp_op op, int depth)
{
    hook_log *h = arg;
    size_t n = strlen(h->events);
    (void)snprintf(h->events + n, sizeof(h->events) - n, "%c%d ",
                   op == RHIS_SP_OPEN      ? 'o'
                   : op == RHIS_SP_RELEASE ? 'l'
                                           : 'r',
                   depth);
}

static void
log_free(void *arg)
{
    ((hook_log *)arg)->freed++;
}

static const rhis_db_tx_hook test_hook = {log_pre_commit, log_rollback,
                                          log_savepoint, log_free};

/* Savepoints written as SQL are tracked by name (nested, released and
 * rolled back to an outer one); the hook runs before commit and on
 * rollback. */
static void
tx_hook_sees_savepoints_commit_and_rollback(void **state)
{
    (void)state;
    hook_log h;
    memset(&h, 0, sizeof(h));
    rhis_db_set_tx_hook(g_db, &test_hook, &h);
    assert_ptr_equal(rhis_db_tx_hook_arg(g_db, &test_hook), &h);
    CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_int_equal(h.rollback, 1); /* begin drops stale state */
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT a"));
    CHECK_OK(g_db, rhis_db_exec(g_db, "savepoint b"));
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT c"));
    assert_int_equal(rhis_db_savepoint_depth(g_db), 3);
    CHECK_OK(g_db, rhis_db_exec(g_db, "ROLLBACK TO SAVEPOINT b"));
    assert_int_equal(rhis_db_savepoint_depth(g_db), 2);
    CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE a"));
    assert_int_equal(rhis_db_savepoint_depth(g_db), 0);
    assert_string_equal(h.events, "o1 o2 o3 r2 l1 ");
    assert_int_equal(h.pre_commit, 0);
    CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_int_equal(h.pre_commit, 1);
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT a"));
    rhis_db_rollback(g_db);
    assert_int_equal(h.rollback, 3);
    assert_int_equal(rhis_db_savepoint_depth(g_db), 0);
    rhis_db_set_tx_hook(g_db, NULL, NULL);
    assert_int_equal(h.freed, 1);
    assert_null(rhis_db_tx_hook_arg(g_db, &test_hook));
}

#define CONFORMANCE_TEST(f)                                                    \
    cmocka_unit_test_setup_teardown(f, open_conn, close_conn)

static const struct CMUnitTest conformance[] = {
    cmocka_unit_test(open_rejects_unknown_url_scheme),
    CONFORMANCE_TEST(dialect_matches_the_url_scheme),
    CONFORMANCE_TEST(exec_runs_several_ddl_statements_at_once),
    CONFORMANCE_TEST(exec_reports_syntax_error_and_connection_survives),
    CONFORMANCE_TEST(bound_text_int_double_null_round_trip),
    CONFORMANCE_TEST(
        question_mark_in_literal_identifier_or_comment_is_not_a_parameter),
    CONFORMANCE_TEST(step_yields_rows_then_done_and_stays_done),
    CONFORMANCE_TEST(reset_clears_bindings_and_runs_again),
    CONFORMANCE_TEST(unique_violation_is_conflict_and_connection_still_works),
    CONFORMANCE_TEST(rollback_leaves_nothing_behind),
    CONFORMANCE_TEST(commit_persists_for_other_connections),
    CONFORMANCE_TEST(changes_counts_rows_of_the_last_write),
    CONFORMANCE_TEST(query_run_and_scalar_helpers_bind_by_type_string),
    CONFORMANCE_TEST(upsert_on_conflict_do_update_counts_up),
    CONFORMANCE_TEST(insert_returning_yields_the_new_row),
    CONFORMANCE_TEST(migrate_applies_and_second_run_is_a_noop),
    CONFORMANCE_TEST(pool_of_two_is_busy_while_both_are_out),
    CONFORMANCE_TEST(pool_put_rolls_back_an_open_transaction),
    CONFORMANCE_TEST(insert_returning_id_of_one_row),
    CONFORMANCE_TEST(memo_lives_for_the_transaction),
    CONFORMANCE_TEST(repeated_and_many_statements_give_the_same_answers),
    CONFORMANCE_TEST(deferred_writes_are_all_there_and_counted),
    CONFORMANCE_TEST(deferred_failure_is_reported_and_rolled_back),
    CONFORMANCE_TEST(deferred_read_behind_writes),
    CONFORMANCE_TEST(deferred_savepoints),
    CONFORMANCE_TEST(tx_hook_sees_savepoints_commit_and_rollback),
};

/* ---- PostgreSQL only -------------------------------------------------- */

static void
pg_question_marks_in_escape_and_dollar_strings_are_not_parameters(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                 "SELECT E'it\\'s ?', $$a?b$$, $tag$?$tag$,"
                                 " ? /* nested /* ? */ ? */, ?",
                                 "ss", "one", "two"));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "it's ?");
    assert_string_equal(rhis_db_column_text(st, 1), "a?b");
    assert_string_equal(rhis_db_column_text(st, 2), "?");
    assert_string_equal(rhis_db_column_text(st, 3), "one");
    assert_string_equal(rhis_db_column_text(st, 4), "two");
    rhis_db_finalize(st);
}

static void
pg_numbered_parameter_and_bad_index_are_einval(void **state)
{
    rhis_stmt *st = (rhis_stmt *)&st;

    (void)state;
    CHECK_RC(g_db, rhis_db_prepare(g_db, "SELECT ?1", &st), RHIS_EINVAL);
    assert_null(st);
    CHECK_OK(g_db, rhis_db_prepare(g_db, "SELECT ?", &st));
    CHECK_RC(g_db, rhis_db_bind_int64(st, 2, 1), RHIS_EINVAL);
    CHECK_RC(g_db, rhis_db_bind_int64(st, 0, 1), RHIS_EINVAL);
    CHECK_OK(g_db, rhis_db_bind_int64(st, 1, 1));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    CHECK_RC(g_db, rhis_db_bind_int64(st, 1, 2), RHIS_EINVAL); /* misuse */
    rhis_db_finalize(st);
}

static void
pg_boolean_reads_as_one_or_zero(void **state)
{
    rhis_stmt *st = NULL;

    (void)state;
    CHECK_OK(g_db, rhis_db_prepare(g_db,
                                   "SELECT true, false, 2.9::numeric,"
                                   " 'abc', NULL::boolean",
                                   &st));
    CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 1);
    assert_int_equal(rhis_db_column_int64(st, 1), 0);
    assert_int_equal(rhis_db_column_int64(st, 2), 2);
    assert_true(rhis_db_column_double(st, 2) == 2.9);
    assert_int_equal(rhis_db_column_int64(st, 3), 0);
    assert_int_equal(rhis_db_column_int64(st, 4), 0);
    assert_true(rhis_db_column_is_null(st, 4));
    /* Out-of-range columns are NULL, never a crash. */
    assert_null(rhis_db_column_text(st, 5));
    assert_null(rhis_db_column_text(st, -1));
    rhis_db_finalize(st);
}

static void
pg_commit_after_failed_statement_reports_the_rollback(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_aborted ("
                                      " n INTEGER PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_aborted VALUES (1)", ""));
    CHECK_RC(g_db, rhis_db_run(g_db, "INSERT INTO ct_aborted VALUES (1)", ""),
             RHIS_ECONFLICT);
    assert_true(rhis_db_commit(g_db) < 0);
    rhis_db_rollback(g_db);
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_aborted"), 0);
}

static void
pg_next_id_reserves_distinct_values_ahead(void **state)
{
    int64_t id = 0, prev = 0;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_ids (id BIGINT"
                                      " GENERATED BY DEFAULT AS IDENTITY"
                                      " PRIMARY KEY, v TEXT)"));
    CHECK_RC(g_db, rhis_db_next_id(g_db, "ct_ids", &id), RHIS_EUNSUPPORTED);
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    assert_int_equal(rhis_db_deferred(g_db), 1);
    CHECK_OK(g_db, rhis_db_begin(g_db));
    for (int i = 0; i < 600; i++) {
        CHECK_OK(g_db, rhis_db_next_id(g_db, "ct_ids", &id));
        assert_true(id > prev);
        prev = id;
        CHECK_OK(g_db,
                 rhis_db_run(g_db, "INSERT INTO ct_ids (id, v) VALUES (?, 'x')",
                             "i", id));
    }
    CHECK_OK(g_db, rhis_db_commit(g_db));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    /* the column's own default never hands out a reserved value */
    CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &id,
                                        "INSERT INTO ct_ids (v) VALUES ('y')"
                                        " RETURNING id",
                                        ""));
    assert_true(id > prev);
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_ids"), 601);
}

/* Two tables drawn from in turn keep their own blocks: each table's ids
 * stay consecutive (as SQLite's would), none is thrown away. */
static void
pg_next_id_keeps_a_block_per_table(void **state)
{
    int64_t a = 0, b = 0, a0 = 0, b0 = 0;

    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_ida (id BIGINT"
                                      " GENERATED BY DEFAULT AS IDENTITY"
                                      " PRIMARY KEY);"
                                      "CREATE TABLE ct_idb (id BIGINT"
                                      " GENERATED BY DEFAULT AS IDENTITY"
                                      " PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    for (int i = 0; i < 50; i++) {
        CHECK_OK(g_db, rhis_db_next_id(g_db, "ct_ida", &a));
        CHECK_OK(g_db, rhis_db_next_id(g_db, "ct_idb", &b));
        if (i == 0) {
            a0 = a;
            b0 = b;
        }
        assert_int_equal(a, a0 + i);
        assert_int_equal(b, b0 + i);
    }
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
}

static void
pg_statements_prepared_in_a_failed_pipeline_are_prepared_again(void **state)
{
    (void)state;
    CHECK_OK(g_db, rhis_db_exec(g_db, "CREATE TABLE ct_pipe ("
                                      " n INTEGER PRIMARY KEY)"));
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (1)", ""));
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (1)", ""));
    /* seen twice inside the failed pipeline: its Parse is skipped by the
     * server, so the driver must not believe it prepared */
    for (int i = 10; i < 13; i++)
        CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (? + 0)",
                                   "i", (int64_t)i));
    CHECK_RC(g_db, rhis_db_sync(g_db), RHIS_ECONFLICT);
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    for (int i = 20; i < 23; i++)
        CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (? + 0)",
                                   "i", (int64_t)i));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_pipe"), 3);
    /* a prepared statement outlives a failed transaction */
    CHECK_OK(g_db, rhis_db_begin(g_db));
    CHECK_RC(g_db,
             rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (? + 0)", "i",
                         (int64_t)20),
             RHIS_ECONFLICT);
    rhis_db_rollback(g_db);
    CHECK_OK(g_db, rhis_db_run(g_db, "INSERT INTO ct_pipe VALUES (? + 0)", "i",
                               (int64_t)30));
    assert_int_equal(count_rows(g_db, "SELECT count(*) FROM ct_pipe"), 4);
}

static void
pg_unreachable_server_is_eio(void **state)
{
    rhis_db *db = (rhis_db *)&db;
    char err[512] = "";

    (void)state;
    assert_int_equal(rhis_db_open(&db,
                                  "postgresql://rhis@127.0.0.1:1/none"
                                  "?connect_timeout=2",
                                  err, sizeof(err)),
                     RHIS_EIO);
    assert_null(db);
    assert_true(err[0] != '\0');
    assert_int_equal(rhis_db_open(&db, "postgres://rhis@127.0.0.1/x?bogus=1",
                                  err, sizeof(err)),
                     RHIS_EINVAL);
    assert_null(db);
}

static const struct CMUnitTest pg_only[] = {
    CONFORMANCE_TEST(
        pg_question_marks_in_escape_and_dollar_strings_are_not_parameters),
    CONFORMANCE_TEST(pg_numbered_parameter_and_bad_index_are_einval),
    CONFORMANCE_TEST(pg_boolean_reads_as_one_or_zero),
    CONFORMANCE_TEST(pg_commit_after_failed_statement_reports_the_rollback),
    CONFORMANCE_TEST(pg_next_id_reserves_distinct_values_ahead),
    CONFORMANCE_TEST(pg_next_id_keeps_a_block_per_table),
    CONFORMANCE_TEST(
        pg_statements_prepared_in_a_failed_pipeline_are_prepared_again),
    cmocka_unit_test(pg_unreachable_server_is_eio),
};

static void
pg_suite_skipped_because_RHIS_TEST_PG_URL_is_unset(void **state)
{
    (void)state;
    print_message("note: RHIS_TEST_PG_URL is not set; PostgreSQL "
                  "conformance tests skipped\n");
    skip();
}

static const struct CMUnitTest pg_skipped[] = {
    cmocka_unit_test(pg_suite_skipped_because_RHIS_TEST_PG_URL_is_unset),
};

/* ---- group setup ------------------------------------------------------ */

static int
sqlite_group_setup(void **state)
{
    int fd;

    (void)state;
    g_engine = "sqlite";
    (void)snprintf(g_sqlite_path, sizeof(g_sqlite_path),
                   "/tmp/rhis-test-db-XXXXXX");
    fd = mkstemp(g_sqlite_path);
    if (fd < 0) {
        print_error("mkstemp failed\n");
        return -1;
    }
    close(fd);
    (void)snprintf(g_url, sizeof(g_url), "sqlite:%s", g_sqlite_path);
    return 0;
}

static int
sqlite_group_teardown(void **state)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char path[96];

    (void)state;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        (void)snprintf(path, sizeof(path), "%s%s", g_sqlite_path, suffix[i]);
        unlink(path);
    }
    g_sqlite_path[0] = '\0';
    return 0;
}

/* Creates the run's schema and points g_url at it; 0 on success. */
static int
pg_run_setup(const char *base)
{
    struct timespec ts;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    (void)snprintf(g_schema, sizeof(g_schema), "rhis_test_%ld_%lx",
                   (long)getpid(),
                   (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
    /* Every connection of the run, pool included, starts in the schema. */
    n = snprintf(g_url, sizeof(g_url), "%s%coptions=-csearch_path%%3D%s", base,
                 strchr(base, '?') != NULL ? '&' : '?', g_schema);
    if (n < 0 || (size_t)n >= sizeof(g_url)) {
        print_error("RHIS_TEST_PG_URL is too long\n");
        return -1;
    }
    return rhis_test_pg_schema_ddl(base, "CREATE SCHEMA %I", g_schema);
}

static int
pg_group_setup(void **state)
{
    (void)state;
    g_engine = "postgresql";
    return 0;
}

int
main(void)
{
    const char *pg = getenv("RHIS_TEST_PG_URL");
    int failed = 0;

    failed +=
        cmocka_run_group_tests_name("db conformance: sqlite", conformance,
                                    sqlite_group_setup, sqlite_group_teardown);
    if (pg == NULL || pg[0] == '\0') {
        failed += cmocka_run_group_tests_name("db conformance: postgresql",
                                              pg_skipped, NULL, NULL);
        return failed != 0;
    }
    if (pg_run_setup(pg) != 0)
        return 1;
    failed += cmocka_run_group_tests_name("db conformance: postgresql",
                                          conformance, pg_group_setup, NULL);
    failed += cmocka_run_group_tests_name("db postgresql only", pg_only,
                                          pg_group_setup, NULL);
    if (rhis_test_pg_schema_ddl(pg, "DROP SCHEMA %I CASCADE", g_schema) != 0)
        failed++;
    return failed != 0;
}
