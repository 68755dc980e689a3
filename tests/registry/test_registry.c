/*
 * test_registry.c - unit tests for the area tree, population denominators,
 * institution import and the registry vocabularies (src/registry/areas.c,
 * src/registry/institutions.c).
 *
 * Why: every indicator is "per area and period"; a division file loaded
 * half-way, or a population file with one bad line partly applied, would
 * silently corrupt every rate computed later.  Imports are all-or-nothing
 * and must name the faulty line; these tests check that on SQLite and,
 * when RHIS_TEST_PG_URL is set, on PostgreSQL (tests/testutil.h).
 */
#include "testutil.h"

#include <math.h>

#include "rhis/registry.h"

#define DIVISIONS_ROWS 13990

static rhis_db *g_db;
static char g_dir[64]; /* temp dir for generated CSV files */

/* ---- pure functions ---- */

static void
code_level_follows_gb2260_lengths(void **state)
{
    (void)state;
    assert_int_equal(rhis_area_code_level("22"), 1);
    assert_int_equal(rhis_area_code_level("2202"), 2);
    assert_int_equal(rhis_area_code_level("220221"), 3);
    assert_int_equal(rhis_area_code_level("220221100"), 4);
    assert_int_equal(rhis_area_code_level("220221100001"), 5);
    assert_int_equal(rhis_area_code_level(""), 0);
    assert_int_equal(rhis_area_code_level("2"), 0);
    assert_int_equal(rhis_area_code_level("220"), 0);
    assert_int_equal(rhis_area_code_level("2202211"), 0);
    assert_int_equal(rhis_area_code_level("2202211000011"), 0);
    assert_int_equal(rhis_area_code_level("22022a"), 0);
    assert_int_equal(rhis_area_code_level("-22"), 0);
    assert_int_equal(rhis_area_code_level("22 "), 0);
}

static void
parent_code_drops_one_level(void **state)
{
    char out[16];
    (void)state;
    rhis_area_parent_code("220221100001", out, sizeof(out));
    assert_string_equal(out, "220221100");
    rhis_area_parent_code("220221100", out, sizeof(out));
    assert_string_equal(out, "220221");
    rhis_area_parent_code("220221", out, sizeof(out));
    assert_string_equal(out, "2202");
    rhis_area_parent_code("2202", out, sizeof(out));
    assert_string_equal(out, "22");
    rhis_area_parent_code("22", out, sizeof(out));
    assert_string_equal(out, "");
    rhis_area_parent_code("bogus", out, sizeof(out));
    assert_string_equal(out, "");
    /* a short output buffer is truncated, never overrun */
    rhis_area_parent_code("220221100001", out, 4);
    assert_string_equal(out, "220");
}

static void
tier_grade_and_role_labels(void **state)
{
    (void)state;
    assert_string_equal(rhis_tier_label("township_hc"), "乡镇卫生院");
    assert_string_equal(rhis_tier_label_en("township_hc"),
                        "Township health centre");
    assert_string_equal(rhis_tier_label("village_clinic"), "村卫生室");
    assert_string_equal(rhis_tier_label("cdc"), "疾病预防控制中心");
    assert_null(rhis_tier_label("hospital"));
    assert_null(rhis_tier_label(""));
    assert_null(rhis_tier_label(NULL));
    assert_null(rhis_tier_label_en("Township_hc"));
    assert_string_equal(rhis_grade_label("3A"), "三级甲等");
    assert_string_equal(rhis_grade_label("2B"), "二级乙等");
    assert_string_equal(rhis_grade_label("1"), "一级");
    assert_null(rhis_grade_label("3a"));
    assert_null(rhis_grade_label("4A"));
    assert_null(rhis_grade_label(""));
    assert_null(rhis_grade_label(NULL));
    assert_string_equal(rhis_practitioner_role_label("gp"), "全科医生");
    assert_string_equal(rhis_practitioner_role_label("assistant_physician"),
                        "执业助理医师");
    assert_null(rhis_practitioner_role_label("doctor"));
    assert_null(rhis_practitioner_role_label(NULL));
}

static void
vocabulary_iterators_end_with_null(void **state)
{
    size_t n = 0;
    (void)state;
    for (const char *t; (t = rhis_tier_at(n)) != NULL; n++) {
        assert_non_null(rhis_tier_label(t));
        assert_non_null(rhis_tier_label_en(t));
    }
    assert_int_equal(n, 12);
    n = 0;
    for (const char *r; (r = rhis_practitioner_role_at(n)) != NULL; n++)
        assert_non_null(rhis_practitioner_role_label(r));
    assert_int_equal(n, 7);
    assert_null(rhis_tier_at(SIZE_MAX));
}

/* ---- database-backed ---- */

static int
registry_group_setup(void **state)
{
    (void)state;
    if (rhis_test_mkdtemp(g_dir) != 0)
        return -1;
    return rhis_test_open_migrated(&g_db);
}

static int
registry_group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    /* remove the generated files, then the directory */
    static const char *const names[] = {"div.csv", "pop.csv", "inst.csv"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", g_dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(g_dir);
    return 0;
}

/* Loads data/divisions.csv unless the area table is already filled. */
static void
ensure_divisions(void)
{
    char path[512], err[512] = "";
    int64_t added = 0;
    if (rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area") >= DIVISIONS_ROWS)
        return;
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    rhis_status st =
        rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("load divisions: %s\n", err);
    assert_int_equal(st, RHIS_OK);
}

static int64_t
count_where(const char *sql, const char *arg)
{
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &n, sql, "s", arg));
    return n;
}

static void
divisions_load_13990_rows_then_reload_adds_none(void **state)
{
    char path[512], err[512] = "";
    int64_t added = -1;
    (void)state;
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area"), 0);
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    rhis_status st =
        rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_int_equal(added, DIVISIONS_ROWS);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area"),
                     DIVISIONS_ROWS);
    /* spot checks: 口前镇 under 永吉县, provinces have no parent */
    rhis_stmt *st2;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st2,
                                      "SELECT name, level, parent_code,"
                                      " edition FROM area WHERE code = ?",
                                      "s", "220221100"));
    assert_int_equal(rhis_db_step(st2), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st2, 0), "口前镇");
    assert_int_equal(rhis_db_column_int64(st2, 1), 4);
    assert_string_equal(rhis_db_column_text(st2, 2), "220221");
    assert_string_equal(rhis_db_column_text(st2, 3), RHIS_DIVISION_EDITION);
    rhis_db_finalize(st2);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area WHERE"
                                            " level = 1 AND parent_code IS NOT"
                                            " NULL"),
                     0);
    assert_int_equal(rhis_test_scalar(g_db,
                                      "SELECT COUNT(*) FROM area a WHERE"
                                      " a.level > 1 AND NOT EXISTS (SELECT 1"
                                      " FROM area p WHERE p.code ="
                                      " a.parent_code)"),
                     0);
    assert_int_equal(count_where("SELECT COUNT(*) FROM meta WHERE key ="
                                 " 'division_edition' AND value = ?",
                                 RHIS_DIVISION_EDITION),
                     1);
    /* idempotent */
    added = -1;
    RHIS_CHECK_OK(g_db, rhis_registry_load_divisions(g_db, path, &added, err,
                                                     sizeof(err)));
    assert_int_equal(added, 0);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area"),
                     DIVISIONS_ROWS);
}

static void
malformed_divisions_fail_with_line_and_load_nothing(void **state)
{
    static const struct {
        const char *text, *where;
    } bad[] = {
        /* level column disagrees with the code length */
        {"code,name,level,parent_code\n99,测试省,1,\n9901,测试市,2,99\n"
         "990101,测试县,2,9901\n",
         ":4: expected"},
        /* parent does not match the code prefix */
        {"code,name,level,parent_code\n99,测试省,1,\n9901,测试市,2,98\n",
         ":3: expected"},
        /* code of no valid length */
        {"99,测试省,1,\n991,x,2,99\n", ":2: expected"},
        /* empty name */
        {"99,测试省,1,\n9901,,2,99\n", ":2: expected"},
        /* too few fields */
        {"99,测试省,1,\n9901,测试市,2\n", ":2: expected"},
        /* broken quoting */
        {"99,测试省,1,\n9901,\"测试市,2,99\n", ":2: malformed CSV"},
    };
    char path[128], err[512];
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t added = -1;
        err[0] = '\0';
        assert_int_equal(rhis_test_write_file(g_dir, "div.csv", bad[i].text,
                                              path, sizeof(path)),
                         0);
        rhis_status st =
            rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err));
        if (st != RHIS_EINVAL || strstr(err, bad[i].where) == NULL)
            print_error("case %zu: %d '%s'\n", i, (int)st, err);
        assert_int_equal(st, RHIS_EINVAL);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, bad[i].where));
        /* the valid rows before the fault were rolled back */
        assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area"
                                                " WHERE code LIKE '99%'"),
                         0);
        assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM area"),
                         before);
    }
    int64_t added = -1;
    assert_int_equal(rhis_registry_load_divisions(g_db, "/nonexistent/d.csv",
                                                  &added, err, sizeof(err)),
                     RHIS_ENOTFOUND);
    assert_int_equal(added, 0);
}

/* Sum and count of population rows for 口前镇, as one comparable pair. */
static void
population_snapshot(int64_t *count, int64_t *sum)
{
    *count = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM population");
    *sum = rhis_test_scalar(g_db, "SELECT COALESCE(SUM(population), 0) FROM"
                                  " population");
}

static void
population_import_stores_and_replaces_rows(void **state)
{
    char path[128], err[512] = "";
    int64_t rows = -1;
    (void)state;
    ensure_divisions();
    assert_int_equal(
        rhis_test_write_file(g_dir, "pop.csv",
                             "area_code,year,sex,age_band,population,source\n"
                             "220221100,2020,M,0,2284,census\n"
                             "220221100,2020,F,0,2275,\n"
                             "220221100,2020,M,85,310,census\n"
                             "220221101,2020,F,5,1000\n",
                             path, sizeof(path)),
        0);
    rhis_status st =
        rhis_registry_import_population(g_db, path, &rows, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_int_equal(rows, 4);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM population"),
                     4);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT SUM(population) FROM"
                                            " population"),
                     2284 + 2275 + 310 + 1000);
    /* an empty or absent source is stored as NULL */
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM population"
                                            " WHERE source IS NULL"),
                     2);
    /* the same key again replaces the value */
    assert_int_equal(rhis_test_write_file(g_dir, "pop.csv",
                                          "220221100,2020,M,0,2300,v2\n", path,
                                          sizeof(path)),
                     0);
    RHIS_CHECK_OK(g_db, rhis_registry_import_population(g_db, path, &rows, err,
                                                        sizeof(err)));
    assert_int_equal(rows, 1);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM population"),
                     4);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT population FROM population"
                                            " WHERE area_code = '220221100' AND"
                                            " sex = 'M' AND age_band = 0"),
                     2300);
}

static void
population_bad_line_rejects_the_whole_file(void **state)
{
    /* line 2 is valid and would change an existing row; line 3 is bad */
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {"220221100,2020,X,5,100", "sex must be M or F"},
        {"220221100,2020,m,5,100", "sex must be M or F"},
        {"220221100,2020,M,3,100", "age_band"},
        {"220221100,2020,M,90,100", "age_band"},
        {"220221100,2020,M,-5,100", "age_band"},
        {"220221100,2020,M,,100", "age_band"},
        {"220221999,2020,M,5,100", "unknown area code"},
        {"99,2020,M,5,100", "unknown area code"},
        {"220221100,2020,M,5,-1", "non-negative"},
        {"220221100,2020,M,5,1.5", "non-negative"},
        {"220221100,2020,M,5,", "non-negative"},
        {"220221100,1900,M,5,100", "year must be"},
        {"220221100,20x0,M,5,100", "year must be"},
        {"220221100,2020,M,5", "expected area_code"},
    };
    char path[128], err[512], text[256];
    (void)state;
    ensure_divisions();
    int64_t rows = 0;
    /* make sure there is something to leave unchanged */
    assert_int_equal(rhis_test_write_file(g_dir, "pop.csv",
                                          "220221100,2021,F,10,777\n", path,
                                          sizeof(path)),
                     0);
    RHIS_CHECK_OK(g_db, rhis_registry_import_population(g_db, path, &rows, err,
                                                        sizeof(err)));
    int64_t count0, sum0;
    population_snapshot(&count0, &sum0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "area_code,year,sex,age_band,population,source\n"
                 "220221100,2021,F,10,1,changed\n"
                 "220221100,2021,M,15,5,new\n"
                 "%s\n",
                 bad[i].line);
        assert_int_equal(
            rhis_test_write_file(g_dir, "pop.csv", text, path, sizeof(path)),
            0);
        err[0] = '\0';
        rhis_status st = rhis_registry_import_population(g_db, path, &rows, err,
                                                         sizeof(err));
        if (st != RHIS_EINVAL || strstr(err, bad[i].msg) == NULL)
            print_error("case %zu (%s): %d '%s'\n", i, bad[i].line, (int)st,
                        err);
        assert_int_equal(st, RHIS_EINVAL);
        assert_non_null(strstr(err, ":4: "));
        assert_non_null(strstr(err, bad[i].msg));
        int64_t count, sum;
        population_snapshot(&count, &sum);
        assert_int_equal(count, count0);
        assert_int_equal(sum, sum0);
    }
    assert_int_equal(rhis_test_scalar(g_db, "SELECT population FROM population"
                                            " WHERE area_code = '220221100' AND"
                                            " year = 2021 AND sex = 'F' AND"
                                            " age_band = 10"),
                     777);
}

static void
shipped_population_file_imports(void **state)
{
    char path[512], err[512] = "";
    int64_t rows = -1;
    (void)state;
    ensure_divisions();
    rhis_test_data_file("population-220221.csv", path, sizeof(path));
    rhis_status st =
        rhis_registry_import_population(g_db, path, &rows, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_int_equal(rows, 324); /* every line but the header */
}

static const char inst_header[] =
    "code,name,tier,grade,ownership,area_code,beds_approved,beds_open,lat,"
    "lon\n";

static void
institutions_import_valid_rows_once(void **state)
{
    char path[128], err[512] = "", text[1024];
    int64_t added = -1;
    (void)state;
    ensure_divisions();
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM institution");
    snprintf(text, sizeof(text),
             "%s"
             "T220221001,口前镇卫生院,township_hc,1A,public,220221100,40,38,"
             "43.6721,126.4976\n"
             "T220221002,\"口前镇河北社区卫生服务站, 北院\",community_station,,"
             "private,220221100001,,,,\n",
             inst_header);
    assert_int_equal(
        rhis_test_write_file(g_dir, "inst.csv", text, path, sizeof(path)), 0);
    rhis_status st =
        rhis_registry_import_institutions(g_db, path, &added, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_int_equal(added, 2);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM institution"),
                     before + 2);

    rhis_stmt *q;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &q,
                                      "SELECT name, tier, grade, ownership,"
                                      " area_code, beds_approved, beds_open,"
                                      " lat, lon, active, version FROM"
                                      " institution WHERE code LIKE ?"
                                      " ORDER BY code",
                                      "s", "T22022100%"));
    assert_int_equal(rhis_db_step(q), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(q, 0), "口前镇卫生院");
    assert_string_equal(rhis_db_column_text(q, 1), "township_hc");
    assert_string_equal(rhis_db_column_text(q, 2), "1A");
    assert_string_equal(rhis_db_column_text(q, 3), "public");
    assert_string_equal(rhis_db_column_text(q, 4), "220221100");
    assert_int_equal(rhis_db_column_int64(q, 5), 40);
    assert_int_equal(rhis_db_column_int64(q, 6), 38);
    assert_true(fabs(rhis_db_column_double(q, 7) - 43.6721) < 1e-9);
    assert_true(fabs(rhis_db_column_double(q, 8) - 126.4976) < 1e-9);
    assert_int_equal(rhis_db_column_int64(q, 9), 1);
    assert_int_equal(rhis_db_column_int64(q, 10), 1);
    assert_int_equal(rhis_db_step(q), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(q, 0),
                        "口前镇河北社区卫生服务站, 北院");
    assert_true(rhis_db_column_is_null(q, 2)); /* empty grade is NULL */
    assert_string_equal(rhis_db_column_text(q, 3), "private");
    assert_int_equal(rhis_db_column_int64(q, 5), 0); /* empty beds are 0 */
    assert_true(rhis_db_column_is_null(q, 7));       /* no geo */
    assert_true(rhis_db_column_is_null(q, 8));
    assert_int_equal(rhis_db_step(q), RHIS_DONE);
    rhis_db_finalize(q);

    /* idempotent: existing codes are skipped */
    RHIS_CHECK_OK(g_db, rhis_registry_import_institutions(g_db, path, &added,
                                                          err, sizeof(err)));
    assert_int_equal(added, 0);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM institution"),
                     before + 2);
}

static void
institutions_bad_row_writes_nothing(void **state)
{
    static const struct {
        const char *row, *msg;
    } bad[] = {
        {"T9002,某医院,hospital,2A,public,220221100,10,10,43.6,126.5",
         "tier 'hospital' is unknown"},
        {"T9002,某医院,county_hospital,4A,public,220221100,10,10,43.6,126.5",
         "grade '4A' is unknown"},
        {"T9002,某医院,county_hospital,2A,state,220221100,10,10,43.6,126.5",
         "ownership must be public or private"},
        {"T9002,某医院,county_hospital,2A,public,220221999,10,10,43.6,126.5",
         "area code '220221999' does not exist"},
        {"T9002,某医院,county_hospital,2A,public,22022,10,10,43.6,126.5",
         "is not a division code"},
        {"T9002,某医院,county_hospital,2A,public,220221100,10,10,91,126.5",
         "latitude must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,10,10,43.6,181",
         "latitude must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,10,10,abc,126.5",
         "latitude must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,10,10,43.6,",
         "latitude must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,10,10,nan,126.5",
         "latitude must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,-1,10,43.6,126.5",
         "beds must be"},
        {"T9002,某医院,county_hospital,2A,public,220221100,x,10,43.6,126.5",
         "beds must be"},
        {"T 9002,某医院,county_hospital,2A,public,220221100,1,1,43.6,126.5",
         "code must be"},
        {"T9002,,county_hospital,2A,public,220221100,1,1,43.6,126.5",
         "name is required"},
        {"T9002,某医院,county_hospital,2A,public,220221100,1,1,43.6",
         "expected code,name"},
    };
    char path[128], err[512], text[1024];
    (void)state;
    ensure_divisions();
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM institution");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t added = -1;
        snprintf(text, sizeof(text),
                 "%s"
                 "T9001,永吉县口前镇新医院,county_hospital,2A,public,"
                 "220221100,100,90,43.68,126.49\n"
                 "%s\n",
                 inst_header, bad[i].row);
        assert_int_equal(
            rhis_test_write_file(g_dir, "inst.csv", text, path, sizeof(path)),
            0);
        err[0] = '\0';
        rhis_status st = rhis_registry_import_institutions(g_db, path, &added,
                                                           err, sizeof(err));
        if (st != RHIS_EINVAL || strstr(err, bad[i].msg) == NULL)
            print_error("case %zu: %d '%s'\n", i, (int)st, err);
        assert_int_equal(st, RHIS_EINVAL);
        assert_non_null(strstr(err, ":3: "));
        assert_non_null(strstr(err, bad[i].msg));
        assert_int_equal(
            rhis_test_scalar(g_db, "SELECT COUNT(*) FROM institution"), before);
        assert_int_equal(count_where("SELECT COUNT(*) FROM institution WHERE"
                                     " code = ?",
                                     "T9001"),
                         0);
    }
}

/*
 * A name longer than the 255 bytes the importer keeps must be refused or
 * stored whole: cutting it silently loses data and, with a one-byte prefix,
 * cuts a 3-byte CJK character in half (invalid UTF-8 in the database).
 */
static void
institution_name_over_255_bytes_is_not_silently_cut(void **state)
{
    char name[400], text[1024], path[128], err[512] = "";
    int64_t added = -1;
    size_t n = 0;
    (void)state;
    ensure_divisions();
    name[n++] = 'A';
    for (int i = 0; i < 90; i++) {
        memcpy(name + n, "院", 3);
        n += 3;
    }
    name[n] = '\0'; /* 271 bytes */
    snprintf(text, sizeof(text),
             "%sT9100,%s,township_hc,,public,220221100,1,1,,\n", inst_header,
             name);
    assert_int_equal(
        rhis_test_write_file(g_dir, "inst.csv", text, path, sizeof(path)), 0);
    rhis_status st =
        rhis_registry_import_institutions(g_db, path, &added, err, sizeof(err));
    if (st == RHIS_OK) {
        rhis_stmt *q;
        RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &q,
                                          "SELECT name FROM institution"
                                          " WHERE code = 'T9100'",
                                          ""));
        assert_int_equal(rhis_db_step(q), RHIS_ROW);
        /* copy and finalize before asserting: a failed assert jumps out */
        char got[400];
        snprintf(got, sizeof(got), "%s", rhis_db_column_text(q, 0));
        rhis_db_finalize(q);
        if (strcmp(got, name) != 0)
            print_error("stored %zu of %zu bytes\n", strlen(got), n);
        assert_string_equal(got, name);
    } else {
        if (st != RHIS_EINVAL || strstr(err, "name") == NULL)
            print_error("%d '%s'\n", (int)st, err);
        assert_int_equal(st, RHIS_EINVAL);
        assert_non_null(strstr(err, "name"));
    }
}

static void
shipped_institutions_file_imports(void **state)
{
    char path[512], err[512] = "";
    int64_t added = -1;
    (void)state;
    ensure_divisions();
    rhis_test_data_file("institutions-220221.csv", path, sizeof(path));
    rhis_status st =
        rhis_registry_import_institutions(g_db, path, &added, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_int_equal(added, 163); /* every line but the header */
    assert_int_equal(count_where("SELECT COUNT(*) FROM institution WHERE"
                                 " code = ? AND tier = 'county_hospital'",
                                 "H220221001"),
                     1);
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(code_level_follows_gb2260_lengths),
        cmocka_unit_test(parent_code_drops_one_level),
        cmocka_unit_test(tier_grade_and_role_labels),
        cmocka_unit_test(vocabulary_iterators_end_with_null),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(divisions_load_13990_rows_then_reload_adds_none),
        cmocka_unit_test(malformed_divisions_fail_with_line_and_load_nothing),
        cmocka_unit_test(population_import_stores_and_replaces_rows),
        cmocka_unit_test(population_bad_line_rejects_the_whole_file),
        cmocka_unit_test(shipped_population_file_imports),
        cmocka_unit_test(institutions_import_valid_rows_once),
        cmocka_unit_test(institutions_bad_row_writes_nothing),
        cmocka_unit_test(institution_name_over_255_bytes_is_not_silently_cut),
        cmocka_unit_test(shipped_institutions_file_imports),
    };
    int failed = cmocka_run_group_tests_name("registry", pure, NULL, NULL);
    failed +=
        rhis_test_run_engines("registry db", db, sizeof(db) / sizeof(db[0]),
                              registry_group_setup, registry_group_teardown);
    return failed != 0;
}
