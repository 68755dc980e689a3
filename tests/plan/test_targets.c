/*
 * test_targets.c - plans and their targets: loading data/plan-targets.csv,
 * the status rule (goal, comparison, least-squares projection, state),
 * entered values, and the Yongji report (issue 6 items 2, 4, 7).
 *
 * The pure rule is tested on hand-made rows; the database cases run on
 * SQLite and, with RHIS_TEST_PG_URL, PostgreSQL.
 */
#include "testutil.h"

#include <math.h>

#include "rhis/alloc.h"
#include "rhis/indicator.h"
#include "rhis/plan.h"
#include "rhis/registry.h"

static rhis_plan_row
row(const char *op, double target, const char *dir)
{
    rhis_plan_row r;
    memset(&r, 0, sizeof(r));
    r.plan = "x:2025";
    r.row = 1;
    r.kind = "target";
    r.op = op;
    r.direction = dir;
    r.change = "";
    r.attribute = "";
    r.measure = "imr";
    r.indicator = "imr";
    r.has_target = 1;
    r.target = target;
    r.target_year = 2025;
    return r;
}

static void
test_goal(void **state)
{
    (void)state;
    double g;
    char c;
    rhis_plan_row r = row("<=", 4, "down");
    assert_true(rhis_plan_goal(&r, &g, &c));
    assert_true(g == 4 && c == '<');
    r = row("=", 38.5, "up"); /* a bare number on an "up" indicator */
    assert_true(rhis_plan_goal(&r, &g, &c) && c == '>' && g == 38.5);
    r = row("=", 1.23, ""); /* a ratio: neither direction */
    assert_true(rhis_plan_goal(&r, &g, &c) && c == '~');
    /* 提高0.5岁左右 on 79: 79.5 or more */
    r = row("increase_by", 0.5, "up");
    r.change = "absolute";
    assert_false(rhis_plan_goal(&r, &g, &c)); /* no baseline */
    r.has_baseline = 1;
    r.baseline = 79;
    assert_true(rhis_plan_goal(&r, &g, &c) && c == '>' && g == 79.5);
    /* 比2015年降低10% on 20.5: 18.45 */
    r = row("decrease_by", 10, "down");
    r.change = "relative";
    r.has_baseline = 1;
    r.baseline = 20.5;
    assert_true(rhis_plan_goal(&r, &g, &c) && c == '<');
    assert_true(fabs(g - 18.45) < 1e-9);
    /* 每年降低0.5个百分点 from 60.6 in 2020: 58.1 by 2025 */
    r = row("decrease_by", 0.5, "down");
    r.change = "per_year";
    r.has_baseline = 1;
    r.baseline = 60.6;
    r.baseline_year = 2020;
    assert_true(rhis_plan_goal(&r, &g, &c));
    assert_true(fabs(g - 58.1) < 1e-9);
    r = row("text", 0, "up");
    r.has_target = 0;
    assert_false(rhis_plan_goal(&r, &g, &c));
}

static void
test_meets_and_fit(void **state)
{
    (void)state;
    assert_true(rhis_plan_meets(4.0, 4.0, '<'));
    assert_false(rhis_plan_meets(4.01, 4.0, '<'));
    assert_true(rhis_plan_meets(90, 90, '>'));
    assert_false(rhis_plan_meets(89.9, 90, '>'));
    assert_true(rhis_plan_meets(7.2, 7.5, '~'));  /* within 5 % */
    assert_false(rhis_plan_meets(7.0, 7.5, '~')); /* 6.7 % off */
    int y[] = {2021, 2022, 2023, 2024};
    double v[] = {6.0, 5.5, 5.0, 4.5};
    double a, b;
    assert_true(rhis_plan_fit(y, v, 4, &a, &b));
    assert_true(fabs(b + 0.5) < 1e-9);
    assert_true(fabs(a + b * 2025 - 4.0) < 1e-9);
    int same[] = {2024, 2024};
    assert_false(rhis_plan_fit(same, v, 2, &a, &b));
    assert_false(rhis_plan_fit(y, v, 1, &a, &b));
}

static rhis_plan_state
classify(double value,
         double goal,
         char cmp,
         int proj,
         double projection,
         double slope,
         int year)
{
    rhis_plan_status s;
    memset(&s, 0, sizeof(s));
    s.has_goal = 1;
    s.goal = goal;
    s.cmp = cmp;
    s.has_value = 1;
    s.value = value;
    s.has_projection = proj;
    s.projection = projection;
    s.slope = slope;
    const char *why;
    rhis_plan_state st = rhis_plan_classify(&s, year, 2025, &why);
    assert_non_null(why);
    return st;
}

static void
test_classify(void **state)
{
    (void)state;
    assert_int_equal(classify(3.9, 4, '<', 0, 0, 0, 2023), RHIS_PLAN_MET);
    /* falling 0.5 a year from 5 in 2023: 4.0 in 2025 */
    assert_int_equal(classify(5, 4, '<', 1, 4.0, -0.5, 2023),
                     RHIS_PLAN_ON_TRACK);
    assert_int_equal(classify(5, 4, '<', 1, 4.6, -0.2, 2023),
                     RHIS_PLAN_AT_RISK);
    assert_int_equal(classify(5, 4, '<', 1, 5.4, 0.2, 2023),
                     RHIS_PLAN_OFF_TRACK);
    /* the target year has come */
    assert_int_equal(classify(5, 4, '<', 1, 4.0, -0.5, 2025),
                     RHIS_PLAN_OFF_TRACK);
    /* no trend: within 10 % is at risk, beyond off track */
    assert_int_equal(classify(85, 90, '>', 0, 0, 0, 2023), RHIS_PLAN_AT_RISK);
    assert_int_equal(classify(70, 90, '>', 0, 0, 0, 2023), RHIS_PLAN_OFF_TRACK);
    rhis_plan_status s;
    memset(&s, 0, sizeof(s));
    const char *why;
    assert_int_equal(rhis_plan_classify(&s, 2023, 2025, &why),
                     RHIS_PLAN_NO_DATA);
    assert_string_equal(rhis_plan_state_name(RHIS_PLAN_ON_TRACK), "on_track");
    assert_string_equal(rhis_plan_state_zh(RHIS_PLAN_MET), "已达标");
}

static void
test_evaluation(void **state)
{
    (void)state;
    rhis_plan p = {"220221:2025", "220221", "", "", "", 2020, 2025};
    assert_string_equal(rhis_plan_evaluation(&p, 2021), "annual");
    assert_string_equal(rhis_plan_evaluation(&p, 2022), "midterm");
    assert_string_equal(rhis_plan_evaluation(&p, 2025), "final");
    assert_string_equal(rhis_plan_evaluation_zh("midterm"), "中期评估");
    rhis_plan j = {"220281:2030", "220281", "", "", "", 2015, 2030};
    assert_string_equal(rhis_plan_evaluation(&j, 2022), "midterm");
}

/* ---- database ---- */

static rhis_db *db;

static int
setup(void **state)
{
    (void)state;
    if (rhis_test_open_migrated(&db) != 0)
        return -1;
    char path[512], err[512];
    int64_t n;
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    if (rhis_registry_load_divisions(db, path, &n, err, sizeof(err)) !=
        RHIS_OK) {
        print_error("divisions: %s\n", err);
        return -1;
    }
    const char *dir = getenv("RHIS_DATA_DIR");
    int rows = 0;
    if (rhis_plan_load(db, dir != NULL ? dir : "data", &rows, err,
                       sizeof(err)) != RHIS_OK) {
        print_error("plans: %s\n", err);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    rhis_db_close(db);
    db = NULL;
    return 0;
}

static void
test_load(void **state)
{
    (void)state;
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan"), 5);
    /* 282 rows of the shared table + 27 baselines stated in the text */
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan_target"),
                     309);
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan_target"
                                          " WHERE kind = 'target'"),
                     272);
    /* reloading replaces, never duplicates */
    const char *dir = getenv("RHIS_DATA_DIR");
    char err[256];
    int rows = 0;
    RHIS_CHECK_OK(db, rhis_plan_load(db, dir != NULL ? dir : "data", &rows, err,
                                     sizeof(err)));
    assert_int_equal(rows, 309);
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan_target"),
                     309);
    rhis_arena *a = rhis_arena_new();
    rhis_plan p;
    RHIS_CHECK_OK(db, rhis_plan_get(db, a, "220221:2025", &p));
    assert_string_equal(p.area, "220221");
    assert_string_equal(p.area_name, "永吉县");
    assert_int_equal(p.horizon, 2025);
    rhis_plan_row *r;
    size_t n;
    RHIS_CHECK_OK(db, rhis_plan_rows(db, a, "220221:2025", &r, &n));
    assert_int_equal(n, 56);
    assert_string_equal(r[3].name_zh, "婴儿死亡率");
    assert_string_equal(r[3].indicator, "imr");
    assert_true(r[3].has_baseline && r[3].baseline == 5.12);
    assert_string_equal(r[3].op, "<=");
    assert_true(r[3].target == 4);
    RHIS_CHECK_RC(db, rhis_plan_get(db, a, "220221:2030", &p), RHIS_ENOTFOUND);
    rhis_arena_free(a);
}

static void
test_load_bad_file(void **state)
{
    (void)state;
    char dir[64], path[256], err[256] = "";
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(
        rhis_test_write_file(dir, "plans.csv",
                             "plan,area_code,name_zh,name_en,baseline_year,"
                             "horizon,seed\n"
                             "220221:2025,220221,x,x,2020,2025,s\n",
                             path, sizeof(path)),
        0);
    /* one row with an unknown operator rejects the file */
    assert_int_equal(
        rhis_test_write_file(
            dir, "plan-targets.csv",
            "plan,row,area_code,jurisdiction,kind,domain,indicator_zh,"
            "indicator_en,indicator,measure,direction,unit,baseline_year,"
            "baseline_value,baseline_number,target_year,target_value,op,"
            "target_number,change,attribute,source,quote,seed\n"
            "220221:2025,1,220221,永吉县,target,d,婴儿死亡率,IMR,imr,imr,down,"
            "‰,2020,5.12,5.12,2025,≤4,<<,4,,预期性,table,q,s\n",
            path, sizeof(path)),
        0);
    int rows = 0;
    RHIS_CHECK_RC(db, rhis_plan_load(db, dir, &rows, err, sizeof(err)),
                  RHIS_EINVAL);
    assert_non_null(strstr(err, "plan-targets.csv:2"));
    assert_non_null(strstr(err, "operator"));
    /* nothing half-written: Yongji still has its 56 rows */
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan_target"
                                          " WHERE plan_id = '220221:2025'"),
                     56);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/plans.csv", dir);
    (void)unlink(path);
    (void)rmdir(dir);
}

static void
test_entered(void **state)
{
    (void)state;
    char err[256] = "";
    int64_t id = 0;
    rhis_plan_entry e = {"c1",   "220221", 2024, 23.6,     "2024年健康素养监测",
                         "张敏", NULL,     0,    "planner"};
    RHIS_CHECK_OK(db, rhis_plan_enter(db, &e, &id, err, sizeof(err)));
    assert_true(id > 0);
    rhis_plan_entry later = e;
    later.value = 24.1; /* a correction supersedes, history is kept */
    RHIS_CHECK_OK(db, rhis_plan_enter(db, &later, &id, err, sizeof(err)));
    rhis_plan_entry bad = e;
    bad.measure = "imr"; /* computed from records */
    RHIS_CHECK_RC(db, rhis_plan_enter(db, &bad, &id, err, sizeof(err)),
                  RHIS_EINVAL);
    assert_non_null(strstr(err, "computed"));
    bad = e;
    bad.person = "";
    RHIS_CHECK_RC(db, rhis_plan_enter(db, &bad, &id, err, sizeof(err)),
                  RHIS_EINVAL);
    bad = e;
    bad.value = NAN;
    RHIS_CHECK_RC(db, rhis_plan_enter(db, &bad, &id, err, sizeof(err)),
                  RHIS_EINVAL);
    bad = e;
    bad.area = "229999";
    RHIS_CHECK_RC(db, rhis_plan_enter(db, &bad, &id, err, sizeof(err)),
                  RHIS_EINVAL);
    bad = e;
    bad.measure = "nosuch";
    RHIS_CHECK_RC(db, rhis_plan_enter(db, &bad, &id, err, sizeof(err)),
                  RHIS_EINVAL);
    rhis_arena *a = rhis_arena_new();
    rhis_plan_entered *x;
    size_t n;
    RHIS_CHECK_OK(
        db, rhis_plan_entered_list(db, a, "c1", "220221", 2000, 2030, &x, &n));
    assert_int_equal(n, 1);
    assert_true(x[0].value == 24.1);
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) FROM plan_entered"),
                     2);

    /* the entered value drives the status of Yongji's literacy rows */
    rhis_plan_status *s;
    RHIS_CHECK_OK(db, rhis_plan_status_get(db, a, "220221:2025", 2024, &s, &n));
    assert_int_equal(n, 47);
    /* binding rows first */
    assert_string_equal(s[0].row->attribute, "约束性");
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].row->row == 7) { /* 居民健康素养水平 25 (2025) */
            seen = 1;
            assert_true(s[i].has_value && s[i].value == 24.1);
            assert_string_equal(s[i].value_from, "entered");
            assert_string_equal(s[i].entered_person, "张敏");
            /* 24.1 < 25, one year only: within 10 % */
            assert_int_equal(s[i].state, RHIS_PLAN_AT_RISK);
        }
    assert_true(seen);
    rhis_arena_free(a);
}

static void
test_report_yongji(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    char err[256] = "";
    RHIS_CHECK_OK(db, rhis_plan_report(db, "220221:2025", 2025, RHIS_PLAN_HTML,
                                       f, err, sizeof(err)));
    fclose(f);
    assert_non_null(strstr(text, "<html lang=\"zh-CN\">"));
    assert_non_null(strstr(text, "永吉县卫生健康“十四五”规划"));
    assert_non_null(strstr(text, "2025年末期评估报告"));
    assert_non_null(strstr(text, "@media print"));
    assert_non_null(strstr(text, "婴儿死亡率"));
    assert_non_null(strstr(text, "baseline_contradiction"));
    assert_non_null(strstr(text, "3.13"));
    rhis_free(text);

    f = open_memstream(&text, &len);
    RHIS_CHECK_OK(db, rhis_plan_report(db, "220221:2025", 2023, RHIS_PLAN_CSV,
                                       f, err, sizeof(err)));
    fclose(f);
    assert_int_equal(strncmp(text, "section,plan,year,evaluation,row", 32), 0);
    assert_non_null(strstr(text, "\"status\",\"220221:2025\",\"2023\","
                                 "\"annual\""));
    assert_non_null(strstr(text, "\"lint\",\"220221:2025\""));
    rhis_free(text);

    f = open_memstream(&text, &len);
    RHIS_CHECK_RC(db,
                  rhis_plan_report(db, "999999:2025", 2025, RHIS_PLAN_HTML, f,
                                   err, sizeof(err)),
                  RHIS_ENOTFOUND);
    fclose(f);
    rhis_free(text);
}

int
main(void)
{
    const char *dir = getenv("RHIS_DATA_DIR");
    rhis_ind_defs_set_dir(dir != NULL ? dir : "data");
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_goal),
        cmocka_unit_test(test_meets_and_fit),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_evaluation),
    };
    const struct CMUnitTest dbt[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_bad_file),
        cmocka_unit_test(test_entered),
        cmocka_unit_test(test_report_yongji),
    };
    int failed = cmocka_run_group_tests_name("plan targets", pure, NULL, NULL);
    failed += rhis_test_run_engines(
        "plan targets db", dbt, sizeof(dbt) / sizeof(dbt[0]), setup, teardown);
    return failed;
}
