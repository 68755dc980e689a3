/*
 * test_audit.c - unit tests for the append-only audit trail
 * (src/audit/audit.c and the audit_event triggers of migration 1).
 *
 * Why: who read or changed which record must survive every later change;
 * the guarantee rests on a trigger per engine, so both engines are checked:
 * an event is written with every field, and UPDATE and DELETE are refused
 * even for the table's owner.
 */
#include "testutil.h"

#include <sys/time.h>

#include "rhis/audit.h"

static rhis_db *g_db;

static int
audit_group_setup(void **state)
{
    (void)state;
    return rhis_test_open_migrated(&g_db);
}

static int
audit_group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

static int64_t
now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
write_inserts_every_field(void **state)
{
    rhis_audit_event ev = {
        .user_id = 42,
        .username = "planner1",
        .role = "planner",
        .action = "R",
        .operation = "read",
        .resource_type = "Organization",
        .resource_id = "7",
        .patient_id = "P-123",
        .outcome = 200,
        .address = "127.0.0.1",
        .request_id = "req-abc",
        .detail = "ok",
    };
    rhis_stmt *st;
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event");
    int64_t t0 = now_ms();
    RHIS_CHECK_OK(g_db, rhis_audit_write(g_db, &ev));
    int64_t t1 = now_ms();
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
                     before + 1);
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT ts, user_id, username, role,"
                                      " action, operation, resource_type,"
                                      " resource_id, patient_id, outcome,"
                                      " address, request_id, detail FROM"
                                      " audit_event WHERE request_id = ?",
                                      "s", "req-abc"));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_in_range(rhis_db_column_int64(st, 0), t0, t1); /* milliseconds */
    assert_int_equal(rhis_db_column_int64(st, 1), 42);
    assert_string_equal(rhis_db_column_text(st, 2), "planner1");
    assert_string_equal(rhis_db_column_text(st, 3), "planner");
    assert_string_equal(rhis_db_column_text(st, 4), "R");
    assert_string_equal(rhis_db_column_text(st, 5), "read");
    assert_string_equal(rhis_db_column_text(st, 6), "Organization");
    assert_string_equal(rhis_db_column_text(st, 7), "7");
    assert_string_equal(rhis_db_column_text(st, 8), "P-123");
    assert_int_equal(rhis_db_column_int64(st, 9), 200);
    assert_string_equal(rhis_db_column_text(st, 10), "127.0.0.1");
    assert_string_equal(rhis_db_column_text(st, 11), "req-abc");
    assert_string_equal(rhis_db_column_text(st, 12), "ok");
    assert_int_equal(rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
write_defaults_missing_action_and_operation(void **state)
{
    rhis_audit_event ev = {.outcome = 401, .request_id = "req-anon"};
    rhis_stmt *st;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_audit_write(g_db, &ev));
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT action, operation, username,"
                                      " resource_type, patient_id, outcome"
                                      " FROM audit_event WHERE request_id ="
                                      " ?",
                                      "s", "req-anon"));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "E");
    assert_string_equal(rhis_db_column_text(st, 1), "unknown");
    assert_true(rhis_db_column_is_null(st, 2));
    assert_true(rhis_db_column_is_null(st, 3));
    assert_true(rhis_db_column_is_null(st, 4));
    assert_int_equal(rhis_db_column_int64(st, 5), 401);
    rhis_db_finalize(st);
}

static void
write_joins_the_callers_transaction(void **state)
{
    rhis_audit_event ev = {.action = "C",
                           .operation = "create",
                           .outcome = 201,
                           .request_id = "req-rolled-back"};
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db, rhis_audit_write(g_db, &ev));
    rhis_db_rollback(g_db);
    assert_int_equal(rhis_test_scalar(g_db,
                                      "SELECT COUNT(*) FROM audit_event WHERE"
                                      " request_id = 'req-rolled-back'"),
                     0);
}

static void
update_is_refused_by_trigger(void **state)
{
    rhis_audit_event ev = {.action = "R",
                           .operation = "read",
                           .outcome = 200,
                           .request_id = "req-upd",
                           .username = "someone"};
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_audit_write(g_db, &ev));
    rhis_status st = rhis_db_run(g_db,
                                 "UPDATE audit_event SET username = 'forged'"
                                 " WHERE request_id = 'req-upd'",
                                 "");
    assert_true(st < 0);
    assert_non_null(strstr(rhis_db_errmsg(g_db), "append-only"));
    rhis_db_rollback(g_db);
    assert_int_equal(rhis_test_scalar(g_db,
                                      "SELECT COUNT(*) FROM audit_event WHERE"
                                      " username = 'someone' AND request_id"
                                      " = 'req-upd'"),
                     1);
    /* an UPDATE matching every row is refused too */
    st = rhis_db_run(g_db, "UPDATE audit_event SET outcome = 200", "");
    assert_true(st < 0);
}

static void
delete_is_refused_by_trigger(void **state)
{
    rhis_audit_event ev = {.action = "D",
                           .operation = "delete",
                           .outcome = 204,
                           .request_id = "req-del"};
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_audit_write(g_db, &ev));
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event");
    rhis_status st = rhis_db_run(g_db,
                                 "DELETE FROM audit_event WHERE request_id ="
                                 " 'req-del'",
                                 "");
    assert_true(st < 0);
    assert_non_null(strstr(rhis_db_errmsg(g_db), "append-only"));
    st = rhis_db_run(g_db, "DELETE FROM audit_event", "");
    assert_true(st < 0);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
                     before);
    /* inside a transaction the refusal aborts it; nothing is lost */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    st = rhis_db_run(g_db, "DELETE FROM audit_event", "");
    assert_true(st < 0);
    rhis_db_rollback(g_db);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
                     before);
}

int
main(void)
{
    const struct CMUnitTest db[] = {
        cmocka_unit_test(write_inserts_every_field),
        cmocka_unit_test(write_defaults_missing_action_and_operation),
        cmocka_unit_test(write_joins_the_callers_transaction),
        cmocka_unit_test(update_is_refused_by_trigger),
        cmocka_unit_test(delete_is_refused_by_trigger),
    };
    return rhis_test_run_engines("audit", db, sizeof(db) / sizeof(db[0]),
                                 audit_group_setup, audit_group_teardown) != 0;
}
