/*
 * test_lint.c - the plan lint lists the contradictions issue 6 names and
 * changes nothing: Yongji's infant mortality baseline 5.12 (table) vs
 * 3.13 ‰ (text), Taonan's GPs per 10 000 target 4.13 vs 3.93, a maternal
 * mortality target one death among Yongji's births breaks, Jiaohe's
 * mortality targets above their baselines.
 */
#include "testutil.h"

#include "rhis/alloc.h"
#include "rhis/indicator.h"
#include "rhis/plan.h"
#include "rhis/registry.h"

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
    if (rhis_registry_load_divisions(db, path, &n, err, sizeof(err)) != RHIS_OK)
        return -1;
    rhis_test_data_file("population-220221.csv", path, sizeof(path));
    if (rhis_registry_import_population(db, path, &n, err, sizeof(err)) !=
        RHIS_OK) {
        print_error("population: %s\n", err);
        return -1;
    }
    const char *dir = getenv("RHIS_DATA_DIR");
    int rows;
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

/* The finding of kind at plan/row, or NULL. */
static const rhis_plan_finding *
find(const rhis_plan_finding *x,
     size_t n,
     const char *plan,
     int row,
     const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(x[i].plan, plan) == 0 && x[i].row == row &&
            strcmp(x[i].kind, kind) == 0)
            return &x[i];
    return NULL;
}

static void
test_named_contradictions(void **state)
{
    (void)state;
    int64_t before =
        rhis_test_scalar(db, "SELECT COUNT(*) + SUM(row_no) FROM plan_target");
    rhis_arena *a = rhis_arena_new();
    rhis_plan_finding *x;
    size_t n;
    RHIS_CHECK_OK(db, rhis_plan_lint(db, a, NULL, &x, &n));
    assert_true(n >= 10);

    /* Yongji: table 5.12 (row 4) vs text 3.13 ‰ (row 48) */
    const rhis_plan_finding *f =
        find(x, n, "220221:2025", 48, "baseline_contradiction");
    assert_non_null(f);
    assert_int_equal(f->other_row, 4);
    assert_string_equal(f->indicator, "婴儿死亡率");
    assert_non_null(strstr(f->message, "5.12"));
    assert_non_null(strstr(f->message, "3.13"));
    /* and under-5 mortality 6.39 vs 3.91 */
    f = find(x, n, "220221:2025", 49, "baseline_contradiction");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "6.39"));
    /* maternal mortality 0 (table) = 0 (text): no contradiction */
    assert_null(find(x, n, "220221:2025", 50, "baseline_contradiction"));

    /* Taonan: GPs per 10 000, 4.13 (row 12) vs 3.93 (row 43) */
    f = find(x, n, "220881:2025", 43, "conflicting_targets");
    assert_non_null(f);
    assert_int_equal(f->other_row, 12);
    assert_non_null(strstr(f->message, "4.13"));
    assert_non_null(strstr(f->message, "3.93"));
    /* the text's "达到4.13人" agrees with the table: not a conflict */
    assert_null(find(x, n, "220881:2025", 65, "conflicting_targets"));

    /* Yongji: ≤14.5/10万 maternal mortality with ~2500 births a year */
    f = find(x, n, "220221:2025", 3, "impossible_target");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "no death at all"));
    /* ≤4 ‰ infant mortality is not broken by one death (0.4 ‰) */
    assert_null(find(x, n, "220221:2025", 4, "impossible_target"));

    /* Jiaohe: 2020 infant mortality target 4.2 on a 2015 baseline 2.75 */
    assert_non_null(find(x, n, "220281:2030", 3, "worse_than_baseline"));
    /* Zhen'an: ≤4.5 ‰ against 1.53 ‰ stated in the text */
    f = find(x, n, "210604:2025", 4, "worse_than_baseline");
    assert_non_null(f);
    assert_int_equal(f->other_row, 48);

    /* one plan only */
    rhis_plan_finding *y;
    size_t m;
    RHIS_CHECK_OK(db, rhis_plan_lint(db, a, "220881:2025", &y, &m));
    assert_true(m > 0 && m < n);
    for (size_t i = 0; i < m; i++)
        assert_string_equal(y[i].plan, "220881:2025");
    RHIS_CHECK_RC(db, rhis_plan_lint(db, a, "1:1", &y, &m), RHIS_ENOTFOUND);

    /* the lint only reads */
    assert_int_equal(rhis_test_scalar(db, "SELECT COUNT(*) + SUM(row_no)"
                                          " FROM plan_target"),
                     before);

    /* one line per finding */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rhis_plan_finding_print(
        out, find(x, n, "220221:2025", 48, "baseline_contradiction"));
    fclose(out);
    assert_int_equal(strncmp(text,
                             "220221:2025 row 48 baseline_contradiction"
                             " 婴儿死亡率: ",
                             strlen("220221:2025 row 48 baseline_"
                                    "contradiction 婴儿死亡率: ")),
                     0);
    assert_non_null(strchr(text, '\n'));
    assert_true(strchr(text, '\n') == text + len - 1);
    rhis_free(text);
    rhis_arena_free(a);
}

int
main(void)
{
    const char *dir = getenv("RHIS_DATA_DIR");
    rhis_ind_defs_set_dir(dir != NULL ? dir : "data");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_contradictions),
    };
    return rhis_test_run_engines(
        "plan lint", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
