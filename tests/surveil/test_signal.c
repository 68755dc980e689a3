/*
 * test_signal.c - unit tests for the signal store and its workflow
 * (src/surveil/signal.c), on SQLite and PostgreSQL.
 *
 * Why: the workflow is what CDC staff are measured by: a signal must be
 * stored once however often a day is rerun, every answer must obey the
 * state machine and leave its event and audit rows, a deadline that
 * passes must escalate exactly one level at a time and stop at the
 * province, and the KPIs must be the numbers a person would compute by
 * hand from the same responses.
 */
#include "testutil.h"

#include <math.h>

#include "rhis/json.h"
#include "rhis/warn.h"
#include "surveil/warn_int.h"

static rhis_db *g_db;

#define HOUR (3600LL * 1000)
#define T0   1790000000000LL /* 2026-09-21T13:33:20Z */

static const rhis_actor cdc = {42, "cdc", "cdc", "127.0.0.1", "rid-1"};

static void
area(const char *code, int level, const char *parent)
{
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO area (code, name, level,"
                              " parent_code, edition) VALUES (?, ?, ?,"
                              " ?, '2023')",
                              "ssis", code, code, (int64_t)level, parent));
}

static int
group_setup(void **state)
{
    (void)state;
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    area("22", 1, NULL);
    area("2202", 2, "22");
    area("220221", 3, "2202");
    area("220281", 3, "2202");
    area("220221100", 4, "220221");
    area("220221101", 4, "220221");
    area("220221100001", 5, "220221100");
    area("220281100", 4, "220281");
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

static rhis_signal_spec
spec(const char *kind,
     const char *subject,
     const char *area_code,
     const char *day)
{
    rhis_signal_spec s;
    memset(&s, 0, sizeof(s));
    s.kind = kind;
    s.method = strcmp(kind, "fixed") == 0 ? "fixed" : "mpm";
    s.subject_type = "disease";
    s.subject = subject;
    s.area_code = area_code;
    s.day = day;
    s.observed = 5;
    s.expected = NAN;
    s.upper = 3;
    s.evidence = "{\"series\":[]}";
    return s;
}

static int64_t
put(const rhis_signal_spec *s, int64_t now, int want_created)
{
    int64_t id = 0;
    int created = -1;
    char err[256] = "";
    rhis_status rc =
        rhis_signal_put(g_db, s, NULL, now, &id, &created, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("put: %s\n", err);
    assert_int_equal(rc, RHIS_OK);
    assert_int_equal(created, want_created);
    assert_true(id > 0);
    return id;
}

static int64_t
count(const char *sql, int64_t id)
{
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &n, sql, "i", id));
    return n;
}

static void
text_of(int64_t id, const char *col_sql, char *out, size_t len)
{
    rhis_stmt *st = NULL;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st, col_sql, "i", id));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    const char *t = rhis_db_column_text(st, 0);
    snprintf(out, len, "%s", t != NULL ? t : "");
    rhis_db_finalize(st);
}

/* ---- days ---- */

static void
test_days(void **state)
{
    (void)state;
    int64_t d;
    char b[16];
    assert_int_equal(warn_day_parse("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(warn_day_parse("2024-02-29", &d), 0);
    warn_day_format(d, b, sizeof(b));
    assert_string_equal(b, "2024-02-29");
    warn_day_format(d + 1, b, sizeof(b));
    assert_string_equal(b, "2024-03-01");
    assert_int_equal(warn_day_parse("2023-02-29", &d), -1);
    assert_int_equal(warn_day_parse("2026-13-01", &d), -1);
    assert_int_equal(warn_day_parse("2026-1-01", &d), -1);
    assert_int_equal(warn_day_parse("2026-01-01x", &d), -1);
    assert_int_equal(warn_day_parse(NULL, &d), -1);
    assert_int_equal(rhis_warn_time_parse("02:00"), 120);
    assert_int_equal(rhis_warn_time_parse("23:59"), 23 * 60 + 59);
    assert_int_equal(rhis_warn_time_parse("off"), -1);
    assert_int_equal(rhis_warn_time_parse("24:00"), -2);
    assert_int_equal(rhis_warn_time_parse("2:00"), -2);
}

/* ---- create ---- */

static void
test_put_idempotent(void **state)
{
    (void)state;
    rhis_signal_spec s = spec("temporal", "hfmd", "220221", "2026-09-20");
    int64_t id = put(&s, T0, 1);
    int64_t again = put(&s, T0 + HOUR, 0);
    assert_int_equal(again, id);
    assert_int_equal(count("SELECT COUNT(*) FROM signal WHERE subject = 'hfmd'"
                           " AND id >= ?",
                           0),
                     1);
    /* one created event and one audit event, not two */
    assert_int_equal(count("SELECT COUNT(*) FROM signal_event WHERE"
                           " signal_id = ?",
                           id),
                     1);
    char rid[24];
    snprintf(rid, sizeof(rid), "%lld", (long long)id);
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &n,
                            "SELECT COUNT(*) FROM audit_event WHERE"
                            " resource_type = 'Signal' AND resource_id = ?"
                            " AND operation = 'signal-create'",
                            "s", rid));
    assert_int_equal(n, 1);
    /* temporal: 24 h; the severity by rule (5 < 2 * 3: yellow) */
    assert_int_equal(count("SELECT deadline_ms - created_ms FROM signal"
                           " WHERE id = ?",
                           id),
                     24 * HOUR);
    char sev[16];
    text_of(id, "SELECT severity FROM signal WHERE id = ?", sev, sizeof(sev));
    assert_string_equal(sev, "yellow");

    /* another key_extra is another signal; fixed: 2 h, red */
    rhis_signal_spec f = spec("fixed", "cholera", "220221100001", "2026-09-20");
    f.key_extra = "card:1";
    int64_t f1 = put(&f, T0, 1);
    f.key_extra = "card:2";
    int64_t f2 = put(&f, T0, 1);
    assert_true(f1 != f2);
    assert_int_equal(count("SELECT deadline_ms - created_ms FROM signal"
                           " WHERE id = ?",
                           f1),
                     2 * HOUR);
    text_of(f1, "SELECT severity FROM signal WHERE id = ?", sev, sizeof(sev));
    assert_string_equal(sev, "red");
}

static void
test_put_bad_input(void **state)
{
    (void)state;
    char err[256];
    int64_t id;
    int created;
    rhis_signal_spec s = spec("temporal", "measles", "220221", "2026-09-20");
    s.kind = "hunch";
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "kind"));
    s = spec("temporal", "measles", "999999", "2026-09-20");
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "area"));
    s = spec("temporal", "measles", "220221", "2026-02-30");
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    s = spec("temporal", "measles", "220221", "2026-09-20");
    s.observed = NAN;
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    s = spec("temporal", "measles", "220221", "2026-09-20");
    s.evidence = "[1,2]";
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    s = spec("temporal", "measles", "220221", "2026-09-20");
    s.severity = "purple";
    assert_int_equal(
        rhis_signal_put(g_db, &s, NULL, T0, &id, &created, err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(count("SELECT COUNT(*) FROM signal WHERE subject ="
                           " 'measles' AND id > ?",
                           0),
                     0);
}

static void
test_severity_rule(void **state)
{
    (void)state;
    assert_string_equal(rhis_signal_severity("fixed", "disease", 1, 0, 0),
                        "red");
    assert_string_equal(rhis_signal_severity("fused", "syndrome", 2, 1, 2),
                        "orange");
    assert_string_equal(rhis_signal_severity("fused", "syndrome", 3, 1, 3),
                        "red");
    assert_string_equal(rhis_signal_severity("spatial", "disease", 4, NAN, 0),
                        "orange");
    assert_string_equal(rhis_signal_severity("temporal", "disease", 6, 3, 0),
                        "orange");
    assert_string_equal(rhis_signal_severity("temporal", "disease", 5, 3, 0),
                        "yellow");
    assert_string_equal(rhis_signal_severity("temporal", "channel", 50, 3, 0),
                        "blue");
}

/* ---- workflow ---- */

static void
test_verify_dismiss(void **state)
{
    (void)state;
    char err[256];
    rhis_signal_spec s = spec("temporal", "mumps", "220221", "2026-09-20");
    int64_t id = put(&s, T0, 1);
    /* dismiss needs a reason */
    assert_int_equal(rhis_signal_act(g_db, id, "dismiss", NULL, &cdc, T0 + HOUR,
                                     err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(rhis_signal_act(g_db, id, "dismiss", "   ", &cdc,
                                     T0 + HOUR, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(rhis_signal_act(g_db, id, "approve", NULL, &cdc, T0 + HOUR,
                                     err, sizeof(err)),
                     RHIS_EINVAL);
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, id, "verify",
                                        "called the "
                                        "hospital",
                                        &cdc, T0 + 2 * HOUR, err, sizeof(err)));
    char st[16];
    text_of(id, "SELECT state FROM signal WHERE id = ?", st, sizeof(st));
    assert_string_equal(st, "verified");
    assert_int_equal(count("SELECT responded_ms FROM signal WHERE id = ?", id),
                     T0 + 2 * HOUR);
    assert_int_equal(count("SELECT responded_by FROM signal WHERE id = ?", id),
                     42);
    /* verify twice: 409 */
    assert_int_equal(rhis_signal_act(g_db, id, "verify", NULL, &cdc,
                                     T0 + 3 * HOUR, err, sizeof(err)),
                     RHIS_ECONFLICT);
    assert_non_null(strstr(err, "verified"));
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, id, "dismiss",
                                        "same household, one cluster known",
                                        &cdc, T0 + 5 * HOUR, err, sizeof(err)));
    text_of(id, "SELECT state FROM signal WHERE id = ?", st, sizeof(st));
    assert_string_equal(st, "dismissed");
    /* the first response counts */
    assert_int_equal(count("SELECT responded_ms FROM signal WHERE id = ?", id),
                     T0 + 2 * HOUR);
    assert_int_equal(rhis_signal_act(g_db, id, "dismiss", "again", &cdc,
                                     T0 + 6 * HOUR, err, sizeof(err)),
                     RHIS_ECONFLICT);
    assert_int_equal(rhis_signal_act(g_db, id, "escalate", "too late", &cdc,
                                     T0 + 6 * HOUR, err, sizeof(err)),
                     RHIS_ECONFLICT);
    /* created, verify, dismiss; with the reason kept */
    assert_int_equal(count("SELECT COUNT(*) FROM signal_event WHERE"
                           " signal_id = ?",
                           id),
                     3);
    char note[128];
    text_of(id,
            "SELECT note FROM signal_event WHERE signal_id = ? AND action ="
            " 'dismiss'",
            note, sizeof(note));
    assert_string_equal(note, "same household, one cluster known");
    assert_int_equal(rhis_signal_act(g_db, 999999, "verify", NULL, &cdc, T0,
                                     err, sizeof(err)),
                     RHIS_ENOTFOUND);
}

static void
test_warning(void **state)
{
    (void)state;
    char err[256];
    int64_t wid = 0;
    rhis_signal_spec s =
        spec("spatial", "influenza", "220221101", "2026-09-20");
    int64_t id = put(&s, T0, 1);
    rhis_warning_spec w = {"rumour", "public", "wash hands"};
    assert_int_equal(
        rhis_signal_warn(g_db, id, &w, &cdc, T0, &wid, err, sizeof(err)),
        RHIS_EINVAL);
    w.type = "health_risk";
    w.audience = "";
    assert_int_equal(
        rhis_signal_warn(g_db, id, &w, &cdc, T0, &wid, err, sizeof(err)),
        RHIS_EINVAL);
    w.audience = "双河镇居民";
    w.content = "流感高发，请注意佩戴口罩";
    RHIS_CHECK_OK(g_db, rhis_signal_warn(g_db, id, &w, &cdc, T0 + HOUR, &wid,
                                         err, sizeof(err)));
    assert_true(wid > 0);
    char st[16];
    text_of(id, "SELECT state FROM signal WHERE id = ?", st, sizeof(st));
    assert_string_equal(st, "warning");
    text_of(wid, "SELECT area_code FROM warning WHERE id = ?", st, sizeof(st));
    assert_string_equal(st, "220221101");
    assert_int_equal(
        rhis_signal_warn(g_db, id, &w, &cdc, T0 + HOUR, &wid, err, sizeof(err)),
        RHIS_ECONFLICT);
    assert_int_equal(rhis_signal_act(g_db, id, "dismiss", "no", &cdc, T0 + HOUR,
                                     err, sizeof(err)),
                     RHIS_ECONFLICT);
    /* the detail carries the warning and the history */
    json_object *o = NULL;
    char a[16];
    RHIS_CHECK_OK(g_db, rhis_signal_get(g_db, id, &o, a));
    assert_string_equal(a, "220221101");
    json_object *wj = rhis_json_get(o, "warning");
    assert_non_null(wj);
    assert_string_equal(rhis_json_get_str(wj, "type"), "health_risk");
    assert_int_equal(json_object_array_length(rhis_json_get(o, "events")), 2);
    assert_string_equal(rhis_json_get_str(o, "subject"), "influenza");
    json_object_put(o);
}

static void
test_escalation_levels(void **state)
{
    (void)state;
    char err[256];
    rhis_signal_spec s =
        spec("temporal", "pertussis", "220221100", "2026-09-20");
    int64_t id = put(&s, T0, 1);
    assert_int_equal(
        rhis_signal_act(g_db, id, "escalate", NULL, &cdc, T0, err, sizeof(err)),
        RHIS_EINVAL);
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, id, "escalate", "needs the city",
                                        &cdc, T0 + HOUR, err, sizeof(err)));
    char to[16];
    text_of(id, "SELECT escalated_to FROM signal WHERE id = ?", to, sizeof(to));
    assert_string_equal(to, "2202");
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, id, "escalate", "province", &cdc,
                                        T0 + 2 * HOUR, err, sizeof(err)));
    text_of(id, "SELECT escalated_to FROM signal WHERE id = ?", to, sizeof(to));
    assert_string_equal(to, "22");
    assert_int_equal(rhis_signal_act(g_db, id, "escalate", "beyond", &cdc,
                                     T0 + 3 * HOUR, err, sizeof(err)),
                     RHIS_ECONFLICT);
    /* escalation keeps the state and is not a response */
    text_of(id, "SELECT state FROM signal WHERE id = ?", to, sizeof(to));
    assert_string_equal(to, "new");
    assert_int_equal(count("SELECT COUNT(*) FROM signal WHERE id = ? AND"
                           " responded_ms IS NULL",
                           id),
                     1);
}

static void
test_overdue_sweep(void **state)
{
    (void)state;
    /* a fresh period so other tests' signals are not overdue here */
    int64_t t = T0 + 1000 * HOUR;
    int n = -1;
    /* earlier tests' open signals: escalate them to the top first */
    for (int k = 0; k < 3; k++)
        RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(
                                g_db, t - (300 - 100 * k) * HOUR, &n));
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t, &n));
    assert_int_equal(n, 0);
    rhis_signal_spec s = spec("temporal", "rubella", "220281100", "2026-11-01");
    int64_t id = put(&s, t, 1);
    rhis_signal_spec f = spec("fixed", "plague", "220281100", "2026-11-01");
    f.key_extra = "card:77";
    int64_t fid = put(&f, t, 1);
    /* 3 h later only the fixed one (2 h) is overdue */
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t + 3 * HOUR, &n));
    assert_int_equal(n, 1);
    assert_int_equal(count("SELECT escalated FROM signal WHERE id = ?", fid),
                     1);
    assert_int_equal(count("SELECT escalated FROM signal WHERE id = ?", id), 0);
    /* the fixed one's new deadline is 2 h after its escalation */
    assert_int_equal(count("SELECT deadline_ms FROM signal WHERE id = ?", fid),
                     t + 5 * HOUR);
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t + 25 * HOUR, &n));
    assert_int_equal(n, 2); /* rubella to the city, plague to the province */
    char to[16];
    text_of(id, "SELECT escalated_to FROM signal WHERE id = ?", to, sizeof(to));
    assert_string_equal(to, "2202");
    text_of(fid, "SELECT escalated_to FROM signal WHERE id = ?", to,
            sizeof(to));
    assert_string_equal(to, "22");
    /* the province is the top: nothing more for the fixed one */
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t + 100 * HOUR, &n));
    assert_int_equal(n, 1); /* rubella reaches the province */
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t + 500 * HOUR, &n));
    assert_int_equal(n, 0);
    /* a verified signal is never escalated by the sweep */
    rhis_signal_spec v = spec("temporal", "typhoid", "220281100", "2026-11-01");
    int64_t vid = put(&v, t, 1);
    char err[128];
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, vid, "verify", NULL, &cdc,
                                        t + HOUR, err, sizeof(err)));
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(g_db, t + 900 * HOUR, &n));
    assert_int_equal(count("SELECT escalated FROM signal WHERE id = ?", vid),
                     0);
    /* system events carry no user */
    assert_int_equal(count("SELECT COUNT(*) FROM signal_event WHERE"
                           " signal_id = ? AND action = 'escalate' AND"
                           " user_id IS NULL",
                           fid),
                     2);
}

static void
test_kpi(void **state)
{
    (void)state;
    char err[128];
    /* four signals in 220281 on one day: responses after 1 h, 3 h, 30 h,
     * and none */
    const char *subj[] = {"k1", "k2", "k3", "k4"};
    int64_t ids[4];
    for (int i = 0; i < 4; i++) {
        rhis_signal_spec s =
            spec("temporal", subj[i], "220281100", "2026-10-05");
        ids[i] = put(&s, T0, 1);
    }
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, ids[0], "verify", NULL, &cdc,
                                        T0 + 1 * HOUR, err, sizeof(err)));
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, ids[1], "dismiss", "artefact",
                                        &cdc, T0 + 3 * HOUR, err, sizeof(err)));
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, ids[2], "verify", NULL, &cdc,
                                        T0 + 30 * HOUR, err, sizeof(err)));
    json_object *o = NULL;
    RHIS_CHECK_OK(g_db, rhis_signal_kpi(g_db, "220281", "2026-10-05",
                                        "2026-10-05", 1, &o));
    json_object *t = rhis_json_get(o, "total");
    int64_t v;
    RHIS_CHECK_OK(NULL, rhis_json_get_int(t, "signals", &v));
    assert_int_equal(v, 4);
    RHIS_CHECK_OK(NULL, rhis_json_get_int(t, "responded", &v));
    assert_int_equal(v, 3);
    assert_float_equal(json_object_get_double(rhis_json_get(t, "responseRate")),
                       0.75, 1e-9);
    /* within the 24 h deadline: 2 of 4 */
    assert_float_equal(json_object_get_double(rhis_json_get(t, "timelyRate")),
                       0.5, 1e-9);
    assert_float_equal(
        json_object_get_double(rhis_json_get(t, "medianResponseHours")), 3.0,
        1e-9);
    /* type 7 quartiles of {1, 3, 30}: 2 and 16.5 */
    assert_float_equal(
        json_object_get_double(rhis_json_get(t, "p25ResponseHours")), 2.0,
        1e-9);
    assert_float_equal(
        json_object_get_double(rhis_json_get(t, "p75ResponseHours")), 16.5,
        1e-9);
    json_object *by = rhis_json_get(o, "byArea");
    assert_int_equal(json_object_array_length(by), 1);
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(by, 0), "area"),
        "220281100");
    json_object_put(o);
    /* an empty period: zero signals, no rates */
    RHIS_CHECK_OK(g_db, rhis_signal_kpi(g_db, "220281", "2020-01-01",
                                        "2020-01-31", 0, &o));
    t = rhis_json_get(o, "total");
    RHIS_CHECK_OK(NULL, rhis_json_get_int(t, "signals", &v));
    assert_int_equal(v, 0);
    assert_null(rhis_json_get(t, "responseRate"));
    assert_null(rhis_json_get(o, "byArea"));
    json_object_put(o);
}

static void
test_list_and_grid(void **state)
{
    (void)state;
    rhis_signal_spec s = spec("temporal", "l1", "220221101", "2026-08-01");
    put(&s, T0, 1);
    s = spec("fixed", "l2", "220221100001", "2026-08-01");
    put(&s, T0, 1);
    s = spec("temporal", "l3", "220281100", "2026-08-01");
    put(&s, T0, 1);
    rhis_signal_filter f;
    memset(&f, 0, sizeof(f));
    f.scope = "220221";
    f.since = "2026-08-01";
    f.until = "2026-08-01";
    f.count = 10;
    json_object *o = NULL;
    RHIS_CHECK_OK(g_db, rhis_signal_list(g_db, &f, &o));
    int64_t total;
    RHIS_CHECK_OK(NULL, rhis_json_get_int(o, "total", &total));
    assert_int_equal(total, 2); /* 220281 is outside the scope */
    json_object *items = rhis_json_get(o, "items");
    /* red (fixed) first */
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(items, 0), "subject"),
        "l2");
    json_object_put(o);
    f.severity = "yellow";
    RHIS_CHECK_OK(g_db, rhis_signal_list(g_db, &f, &o));
    RHIS_CHECK_OK(NULL, rhis_json_get_int(o, "total", &total));
    assert_int_equal(total, 1);
    json_object_put(o);

    RHIS_CHECK_OK(
        g_db, rhis_signal_grid(g_db, "220221", "2026-08-01", "2026-08-01", &o));
    items = rhis_json_get(o, "items");
    assert_int_equal(json_object_array_length(items), 2);
    json_object *kq = json_object_array_get_idx(items, 0);
    assert_string_equal(rhis_json_get_str(kq, "code"), "220221100");
    int64_t v;
    RHIS_CHECK_OK(NULL, rhis_json_get_int(kq, "signals", &v));
    assert_int_equal(v, 1); /* the village's fixed signal rolls up */
    RHIS_CHECK_OK(NULL, rhis_json_get_int(kq, "red", &v));
    assert_int_equal(v, 1);
    json_object_put(o);
}

/* An evidence signal (not pushed): no deadline, never escalated, not in
 * the KPIs; the list tells the two apart. */
static void
test_evidence(void **state)
{
    (void)state;
    char err[256];
    rhis_signal_spec e =
        spec("temporal", "pharmacy:antipyretic", "220281100", "2026-10-06");
    e.method = "ears-c2";
    e.subject_type = "channel";
    e.background = 1;
    int64_t eid = put(&e, T0, 1);
    rhis_signal_spec p =
        spec("fused", "respiratory", "220281100", "2026-10-06");
    p.method = "fusion";
    p.subject_type = "syndrome";
    int64_t pid = put(&p, T0, 1);
    assert_int_equal(count("SELECT COUNT(*) FROM signal WHERE id = ? AND"
                           " pushed = 0 AND deadline_ms IS NULL",
                           eid),
                     1);
    assert_int_equal(count("SELECT deadline_ms FROM signal WHERE id = ?", pid),
                     T0 + 24 * HOUR);
    /* by hand: 409 with a reason; by the sweep: never */
    assert_int_equal(rhis_signal_act(g_db, eid, "escalate", "look", &cdc,
                                     T0 + HOUR, err, sizeof(err)),
                     RHIS_ECONFLICT);
    assert_non_null(strstr(err, "evidence"));
    int n = -1;
    RHIS_CHECK_OK(g_db,
                  rhis_signal_escalate_overdue(g_db, T0 + 5000 * HOUR, &n));
    assert_int_equal(count("SELECT escalated FROM signal WHERE id = ?", eid),
                     0);
    assert_true(count("SELECT escalated FROM signal WHERE id = ?", pid) > 0);
    /* it can still be answered (a dismissed one joins no fusion) */
    RHIS_CHECK_OK(g_db, rhis_signal_act(g_db, eid, "verify", NULL, &cdc,
                                        T0 + HOUR, err, sizeof(err)));
    /* the KPIs count the pushed one only */
    json_object *o = NULL;
    RHIS_CHECK_OK(g_db, rhis_signal_kpi(g_db, "220281", "2026-10-06",
                                        "2026-10-06", 0, &o));
    int64_t v;
    RHIS_CHECK_OK(NULL,
                  rhis_json_get_int(rhis_json_get(o, "total"), "signals", &v));
    assert_int_equal(v, 1);
    RHIS_CHECK_OK(
        NULL, rhis_json_get_int(rhis_json_get(o, "total"), "responded", &v));
    assert_int_equal(v, 0);
    json_object_put(o);
    /* the list: pushed=1, pushed=-1 (evidence), 0 both */
    rhis_signal_filter f;
    memset(&f, 0, sizeof(f));
    f.since = "2026-10-06";
    f.until = "2026-10-06";
    f.area = "220281";
    f.count = 10;
    const int want[][2] = {{1, 1}, {-1, 1}, {0, 2}};
    for (int i = 0; i < 3; i++) {
        f.pushed = want[i][0];
        RHIS_CHECK_OK(g_db, rhis_signal_list(g_db, &f, &o));
        RHIS_CHECK_OK(NULL, rhis_json_get_int(o, "total", &v));
        assert_int_equal(v, want[i][1]);
        json_object *first =
            json_object_array_get_idx(rhis_json_get(o, "items"), 0);
        if (f.pushed != 0) {
            assert_int_equal(
                json_object_get_boolean(rhis_json_get(first, "pushed")),
                f.pushed > 0);
            assert_int_equal(rhis_json_get(first, "deadline") == NULL,
                             f.pushed < 0);
        }
        json_object_put(o);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_put_idempotent),
        cmocka_unit_test(test_put_bad_input),
        cmocka_unit_test(test_severity_rule),
        cmocka_unit_test(test_verify_dismiss),
        cmocka_unit_test(test_warning),
        cmocka_unit_test(test_escalation_levels),
        cmocka_unit_test(test_overdue_sweep),
        cmocka_unit_test(test_kpi),
        cmocka_unit_test(test_list_and_grid),
        cmocka_unit_test(test_evidence),
    };
    return rhis_test_run_engines("signals", tests,
                                 sizeof(tests) / sizeof(tests[0]), group_setup,
                                 group_teardown);
}
