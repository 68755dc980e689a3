/*
 * test_warn.c - unit tests for the daily detection run (src/surveil/warn.c)
 * on SQLite and PostgreSQL.
 *
 * Why: the run is where the detectors meet the data: it must build the
 * county series from live cards only, apply the catalogue's percentile,
 * chain the scan to the temporal alarm and point at the township where the
 * cases are, keep fused signals' members linked, never store a day twice,
 * and leave quiet series quiet.  The fixture writes typed rows (cards,
 * channel counts) directly, three years of a steady baseline and an
 * outbreak in one township in the last days.
 */
#include "testutil.h"

#include <math.h>

#include "rhis/json.h"
#include "rhis/registry.h"
#include "rhis/surveil.h"
#include "rhis/warn.h"
#include "surveil/warn_int.h"

static rhis_db *g_db;
static char g_data[512];

#define DAY_MS (86400000LL)
static const char *const TOWNS[] = {"220221100", "220221101", "220221102",
                                    "220221103"};
static int64_t inst[4], pat[4];
static int64_t g_day; /* ms of 2026-10-15 00:00 Beijing */

static void
card(int town, const char *disease, int64_t ms, const char *status)
{
    char d[11];
    rhis_surv_day_of(ms, d);
    RHIS_CHECK_OK(
        g_db,
        rhis_db_run(g_db,
                    "INSERT INTO surveil_card (status, patient_id, area_code,"
                    " township_code, county_code, occupation, classification,"
                    " disease_code, disease_class, onset_ms, onset_day,"
                    " diagnosis_ms, diagnosis_day, institution_id, report_ms,"
                    " deadline_ms, audit_deadline_ms, created_ms, updated_ms)"
                    " VALUES (?, ?, ?, ?, '220221', 'farmer', 'confirmed', ?,"
                    " 'C', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "sisssisisiiiiii", status, pat[town], TOWNS[town],
                    TOWNS[town], disease, ms, d, ms, d, inst[town], ms,
                    ms + DAY_MS, ms + DAY_MS, ms, ms));
}

static void
channel(const char *town, const char *ch, const char *cat, int64_t ms, int n)
{
    char d[11];
    rhis_surv_day_of(ms, d);
    RHIS_CHECK_OK(
        g_db, rhis_db_run(g_db,
                          "INSERT INTO channel_count (channel, area_code,"
                          " township_code, county_code, day, day_ms,"
                          " category, count, source, updated_ms) VALUES"
                          " (?, ?, ?, '220221', ?, ?, ?, ?, 'push', 0)",
                          "ssssisi", ch, town, town, d, ms, cat, (int64_t)n));
}

static int
group_setup(void **state)
{
    (void)state;
    rhis_test_data_file("", g_data, sizeof(g_data));
    g_data[strlen(g_data) - 1] = '\0'; /* the directory */
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    char path[600], err[256];
    int64_t added;
    snprintf(path, sizeof(path), "%s/divisions.csv", g_data);
    if (rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err)) !=
        RHIS_OK) {
        print_error("divisions: %s\n", err);
        return -1;
    }
    if (rhis_disease_catalogue_load(g_data, err, sizeof(err)) != RHIS_OK) {
        print_error("catalogue: %s\n", err);
        return -1;
    }
    RHIS_CHECK_OK(g_db, rhis_surv_day_ms("2026-10-15", &g_day));
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    for (int i = 0; i < 4; i++) {
        char code[32];
        snprintf(code, sizeof(code), "T-%s", TOWNS[i]);
        RHIS_CHECK_OK(g_db,
                      rhis_db_scalar_int64(
                          g_db, &inst[i],
                          "INSERT INTO institution (code, name, tier,"
                          " ownership, area_code, lat, lon, updated_at)"
                          " VALUES (?, ?, 'township_hc', 'public', ?, ?, ?,"
                          " 0) RETURNING id",
                          "sssdd", code, code, TOWNS[i], 43.6 + 0.1 * i,
                          126.4 + 0.1 * i));
        RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                                g_db, &pat[i],
                                "INSERT INTO patient (updated_ms, name, sex,"
                                " area_code) VALUES (0, 't', 'U', ?)"
                                " RETURNING id",
                                "s", TOWNS[i]));
    }
    /* hfmd (P50, at least 3 cases, in the catalogue): one case every 4th
     * day for 3 years and 5 weeks up to a week before, in turn in each
     * township (7-day sums of 1 or 2: never 3); then 4 cases a day in
     * township 1 on the last 4 days */
    for (int back = 3 * 365 + 35; back >= 7; back--)
        if (back % 4 == 0)
            card(back % 16 / 4, "hfmd", g_day - back * DAY_MS + 36000000LL,
                 "audited");
    for (int back = 3; back >= 0; back--)
        for (int k = 0; k < 4; k++)
            card(1, "hfmd", g_day - back * DAY_MS + 36000000LL + k, "pending");
    /* deleted cards do not count: a burst of mumps, all deleted */
    for (int k = 0; k < 20; k++)
        card(2, "mumps", g_day + 36000000LL + k, "deleted");
    /* channels in township 3: school absence (respiratory) and pharmacy
     * (antipyretic) jump on the day; a flat fever-clinic series does not */
    for (int back = 9; back >= 0; back--) {
        int64_t ms = g_day - back * DAY_MS;
        channel(TOWNS[3], "school_absence", "respiratory", ms,
                back == 0 ? 30 : 3 + back % 2);
        channel(TOWNS[3], "pharmacy", "antipyretic", ms,
                back == 0 ? 40 : 6 + back % 3);
        channel(TOWNS[3], "fever_clinic", "fever", ms, 5 + back % 2);
    }
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
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

static int64_t
scalar(const char *sql)
{
    return rhis_test_scalar(g_db, sql);
}

static void
run_day(rhis_warn_result *r)
{
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = g_data;
    o.scan_replicas = 199;
    o.seed = 7;
    o.push_severity = "orange"; /* the severity rule is what is tested */
    char err[512] = "";
    rhis_status rc = rhis_warn_run(g_db, "2026-10-15", &o, r, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("run: %s\n", err);
    assert_int_equal(rc, RHIS_OK);
}

static void
test_run_finds_the_outbreak(void **state)
{
    (void)state;
    rhis_warn_result r;
    run_day(&r);
    assert_string_equal(r.missing, "");
    /* the moving percentile at the county: 16 cases in 7 days, P50 of a
     * baseline of about 2 per week */
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'temporal' AND method = 'mpm' AND subject ="
                            " 'hfmd' AND area_code = '220221' AND day ="
                            " '2026-10-15' AND observed = 16"),
                     1);
    /* the scan points at the township of the cases */
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'spatial' AND subject = 'hfmd' AND area_code ="
                            " '220221101'"),
                     1);
    /* deleted cards are not cases */
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE subject ="
                            " 'mumps'"),
                     0);
    /* the two channels of township 3, and their fusion; not the flat one */
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'temporal' AND subject_type = 'channel' AND"
                            " area_code = '220221103'"),
                     2);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE subject ="
                            " 'fever_clinic:fever'"),
                     0);
    int64_t fused = scalar("SELECT id FROM signal WHERE kind = 'fused' AND"
                           " area_code = '220221103' AND skey LIKE '%|F01'");
    assert_true(fused > 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE fused_into ="
                            " (SELECT id FROM signal WHERE kind = 'fused' AND"
                            " area_code = '220221103' AND skey LIKE '%|F01')"),
                     2);
    /* push policy "confirmed": a single channel's alarm is evidence, with
     * no deadline; the fused signal it joined, the scan's cluster and the
     * county's strong (orange) temporal alarm are pushed with 24 h */
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'temporal' AND subject_type = 'channel' AND"
                            " area_code = '220221103' AND pushed = 0 AND"
                            " deadline_ms IS NULL"),
                     2);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'fused' AND area_code = '220221103' AND"
                            " pushed = 1 AND deadline_ms = created_ms +"
                            " 86400000"),
                     1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'spatial' AND pushed = 1 AND deadline_ms IS NOT"
                            " NULL"),
                     1);
    assert_int_equal(scalar("SELECT pushed FROM signal WHERE method = 'mpm'"
                            " AND subject = 'hfmd' AND severity = 'orange'"),
                     1);
    assert_int_equal(r.pushed, scalar("SELECT COUNT(*) FROM signal WHERE day ="
                                      " '2026-10-15' AND pushed = 1"));
    assert_true(r.pushed < r.signals_new);
    /* evidence is never escalated, however late */
    int esc = -1;
    RHIS_CHECK_OK(g_db, rhis_signal_escalate_overdue(
                            g_db, 4102444800000LL /* 2100 */, &esc));
    assert_true(esc > 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE pushed = 0 AND"
                            " escalated > 0"),
                     0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE pushed = 1 AND"
                            " escalated = 0 AND state = 'new'"),
                     0);
    /* the run is recorded */
    assert_int_equal(scalar("SELECT COUNT(*) FROM warn_run WHERE day ="
                            " '2026-10-15' AND status = 'ok'"),
                     1);
    assert_int_equal(r.signals_new,
                     scalar("SELECT COUNT(*) FROM signal WHERE day ="
                            " '2026-10-15'"));
    /* the evidence: a series with the MPM threshold curve and the baseline
     * of 15 block sums */
    rhis_stmt *st = NULL;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT evidence FROM signal WHERE"
                                      " method = 'mpm' AND subject = 'hfmd'",
                                      ""));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    json_object *ev = NULL;
    char err[64];
    const char *txt = rhis_db_column_text(st, 0);
    RHIS_CHECK_OK(NULL,
                  rhis_json_parse(txt, strlen(txt), 32, &ev, err, sizeof(err)));
    rhis_db_finalize(st);
    assert_int_equal(json_object_array_length(rhis_json_get(ev, "baseline")),
                     15);
    json_object *series = rhis_json_get(ev, "series");
    json_object *last =
        json_object_array_get_idx(series, json_object_array_length(series) - 1);
    assert_string_equal(rhis_json_get_str(last, "date"), "2026-10-15");
    assert_true(json_object_get_boolean(rhis_json_get(last, "alarm")));
    assert_float_equal(json_object_get_double(rhis_json_get(last, "window")),
                       16, 1e-9);
    json_object_put(ev);
}

static void
test_rerun_adds_nothing(void **state)
{
    (void)state;
    int64_t before = scalar("SELECT COUNT(*) FROM signal");
    int64_t events = scalar("SELECT COUNT(*) FROM signal_event");
    rhis_warn_result r;
    run_day(&r);
    assert_int_equal(r.signals_new, 0);
    assert_true(r.signals_seen > 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal"), before);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal_event"), events);
}

static void
test_bad_day(void **state)
{
    (void)state;
    rhis_warn_result r;
    char err[256];
    assert_int_equal(
        rhis_warn_run(g_db, "2026-02-30", NULL, &r, err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "2026-02-30"));
    assert_int_equal(scalar("SELECT COUNT(*) FROM warn_run WHERE day ="
                            " '2026-02-30'"),
                     0);
}

static void
test_quiet_day(void **state)
{
    (void)state;
    /* a day of the steady baseline: no signal of any kind */
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = g_data;
    rhis_warn_result r;
    char err[256];
    RHIS_CHECK_OK(g_db,
                  rhis_warn_run(g_db, "2026-08-01", &o, &r, err, sizeof(err)));
    assert_int_equal(r.signals_new, 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE day ="
                            " '2026-08-01'"),
                     0);
}

/* Before the county has 3 years of cards the moving percentile has no
 * baseline: days before the first card are no data, not zero cases, so
 * the run falls back to EARS C3 instead of an all-zero MPM threshold. */
static void
test_short_history_falls_back(void **state)
{
    (void)state;
    int64_t d0;
    RHIS_CHECK_OK(g_db, rhis_surv_day_ms("2023-10-20", &d0));
    for (int back = 2; back >= 0; back--)
        for (int k = 0; k < 3; k++)
            card(0, "influenza", d0 - back * DAY_MS + 36000000LL + k,
                 "audited");
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = g_data;
    o.scan_replicas = 199;
    o.seed = 7;
    rhis_warn_result r;
    char err[256];
    RHIS_CHECK_OK(g_db,
                  rhis_warn_run(g_db, "2023-10-20", &o, &r, err, sizeof(err)));
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE day ="
                            " '2023-10-20' AND method = 'mpm'"),
                     0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE day ="
                            " '2023-10-20' AND method = 'ears-c3' AND"
                            " subject = 'influenza' AND area_code ="
                            " '220221'"),
                     1);
}

static void
test_alert_sync(void **state)
{
    (void)state;
    /* a cholera card and the alert the card module writes with it */
    card(0, "cholera", g_day + 50000000LL, "pending");
    int64_t cid = scalar("SELECT MAX(id) FROM surveil_card");
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO surveil_alert (kind,"
                                    " disease_code, card_id, area_code,"
                                    " county_code, day, created_ms) VALUES"
                                    " ('fixed_threshold', 'cholera', ?,"
                                    " '220221100', '220221', '2026-10-15',"
                                    " 1790000000000)",
                                    "i", cid));
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, warn_sync_alerts(g_db, &n));
    assert_int_equal(n, 1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'fixed' AND subject = 'cholera' AND severity ="
                            " 'red' AND subject_name = '霍乱'"),
                     1);
    /* the 2 h run from the alert's write, not from the sync */
    assert_int_equal(scalar("SELECT deadline_ms FROM signal WHERE kind ="
                            " 'fixed' AND subject = 'cholera'"),
                     1790000000000LL + 2 * 3600 * 1000);
    /* nothing new: nothing done; the daily run finds the same signal */
    RHIS_CHECK_OK(g_db, warn_sync_alerts(g_db, &n));
    assert_int_equal(n, 0);
    rhis_warn_result r;
    run_day(&r);
    assert_int_equal(r.signals_new, 0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE subject ="
                            " 'cholera'"),
                     1);
}

/* warn_push "all" (the CIDARS behaviour): every signal of the day is
 * pushed with a deadline, channel-only ones included. */
static void
test_push_all(void **state)
{
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "DELETE FROM signal_event WHERE signal_id"
                                    " IN (SELECT id FROM signal WHERE day ="
                                    " '2026-10-15')",
                                    ""));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "DELETE FROM signal WHERE day ="
                                    " '2026-10-15'",
                                    ""));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = g_data;
    o.scan_replicas = 199;
    o.seed = 7;
    o.push = "all";
    rhis_warn_result r;
    char err[512] = "";
    RHIS_CHECK_OK(g_db,
                  rhis_warn_run(g_db, "2026-10-15", &o, &r, err, sizeof(err)));
    assert_true(r.signals_new > 0);
    assert_int_equal(r.pushed, r.signals_new);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE day ="
                            " '2026-10-15' AND (pushed = 0 OR deadline_ms IS"
                            " NULL)"),
                     0);
    assert_int_equal(scalar("SELECT COUNT(*) FROM signal WHERE kind ="
                            " 'temporal' AND subject_type = 'channel' AND"
                            " area_code = '220221103' AND deadline_ms ="
                            " created_ms + 86400000"),
                     2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_finds_the_outbreak),
        cmocka_unit_test(test_rerun_adds_nothing),
        cmocka_unit_test(test_bad_day),
        cmocka_unit_test(test_quiet_day),
        cmocka_unit_test(test_short_history_falls_back),
        cmocka_unit_test(test_alert_sync),
        cmocka_unit_test(test_push_all),
    };
    return rhis_test_run_engines("daily run", tests,
                                 sizeof(tests) / sizeof(tests[0]), group_setup,
                                 group_teardown);
}
