/*
 * test_engine.c - the indicator engine: periods, element rules, life
 * tables on hand-computed examples, live aggregates kept by the FHIR store
 * and registry writes versus a rebuild, roll-up by area-code prefix.
 *
 * Why: the live aggregates must equal a rebuild from the raw records after
 * any sequence of creates, updates (moves in area and time) and deletes,
 * including per-patient-per-year thresholds; every check below compares
 * with rhis_agg_verify (0 differing rows) and with hand-counted values.
 */
#include "testutil.h"

#include <math.h>

#include "plan/plan_int.h"
#include "rhis/agg.h"
#include "rhis/alloc.h"
#include "rhis/fhirstore.h"
#include "rhis/indicator.h"
#include "rhis/json.h"
#include "rhis/patient.h"
#include "rhis/registry.h"

/* ---- pure functions ---- */

static void
test_periods(void **state)
{
    (void)state;
    rhis_period p;
    char name[64];
    assert_int_equal(rhis_day_of(1970, 1, 1), 0);
    assert_int_equal(rhis_day_of(2024, 3, 1) - rhis_day_of(2024, 2, 28), 2);
    int y, m, d;
    rhis_day_date(rhis_day_of(2025, 12, 31), &y, &m, &d);
    assert_true(y == 2025 && m == 12 && d == 31);
    /* 2024-01-01 07:00 in Jilin is 2023-12-31T23:00Z: day of 2024-01-01 */
    assert_int_equal(rhis_day_of_ms(1704063600000LL), rhis_day_of(2024, 1, 1));
    assert_int_equal(rhis_period_parse("2025", &p), RHIS_OK);
    assert_int_equal(p.to_day - p.from_day, 364);
    rhis_period_name(p, name, sizeof(name));
    assert_string_equal(name, "2025");
    assert_int_equal(rhis_period_parse("2024Q1", &p), RHIS_OK);
    assert_int_equal(p.to_day - p.from_day, 90); /* leap year */
    rhis_period_name(p, name, sizeof(name));
    assert_string_equal(name, "2024Q1");
    assert_int_equal(rhis_period_parse("202402", &p), RHIS_OK);
    rhis_period_name(p, name, sizeof(name));
    assert_string_equal(name, "202402");
    assert_int_equal(rhis_period_parse("2021~2025", &p), RHIS_OK);
    assert_int_equal(p.from_day, rhis_day_of(2021, 1, 1));
    assert_int_equal(p.to_day, rhis_day_of(2025, 12, 31));
    assert_int_equal(rhis_period_parse("2024-02-10~2024-03-05", &p), RHIS_OK);
    rhis_period_name(p, name, sizeof(name));
    assert_string_equal(name, "2024-02-10~2024-03-05");
    assert_int_equal(rhis_period_parse("2025~2021", &p), RHIS_EINVAL);
    assert_int_equal(rhis_period_parse("2025Q5", &p), RHIS_EINVAL);
    assert_int_equal(rhis_period_parse("202513", &p), RHIS_EINVAL);
    assert_int_equal(rhis_period_parse("2023-02-29", &p), RHIS_EINVAL);
    assert_int_equal(rhis_period_parse("", &p), RHIS_EINVAL);
    /* ages and birthdays */
    int32_t b = rhis_day_of(2020, 2, 29);
    assert_int_equal(plan_age_years(b, rhis_day_of(2021, 2, 28)), 0);
    assert_int_equal(plan_age_years(b, rhis_day_of(2021, 3, 1)), 1);
    assert_int_equal(plan_birthday(b, 1), rhis_day_of(2021, 3, 1));
    assert_int_equal(plan_birthday(b, 4), rhis_day_of(2024, 2, 29));
    assert_int_equal(plan_band_of(0), 0);
    assert_int_equal(plan_band_of(4), 1);
    assert_int_equal(plan_band_lo(plan_band_of(37)), 35);
    assert_int_equal(plan_band_lo(plan_band_of(99)), 85);
}

static void
test_causes(void **state)
{
    (void)state;
    element e;
    memset(&e, 0, sizeof(e));
    e.ncauses = 2;
    snprintf(e.causes[0].lo, sizeof(e.causes[0].lo), "C00");
    snprintf(e.causes[0].hi, sizeof(e.causes[0].hi), "C97");
    snprintf(e.causes[1].lo, sizeof(e.causes[1].lo), "F20");
    assert_true(plan_cause_match(&e, "C34.9"));
    assert_true(plan_cause_match(&e, "c97"));
    assert_false(plan_cause_match(&e, "C98.1"));
    assert_false(plan_cause_match(&e, "D00"));
    assert_true(plan_cause_match(&e, "F20.9"));
    assert_false(plan_cause_match(&e, "F21"));
    assert_false(plan_cause_match(&e, ""));
}

/*
 * Hand-computed life tables.  Everyone survives to 85 (no deaths below),
 * 85+ has M = 20/100 = 0.2: T0 = 1 (infancy) + 4 (1-4) + 16 * 5 (5-84) +
 * 1/0.2 = 90.  With 10 infant deaths per 1000 births: q0 = 0.01,
 * L0 = 0.99 + 0.1 * 0.01 = 0.991, then l = 0.99: e0 = 0.991 + 0.99 * 89
 * = 89.101.
 */
static void
test_life_table(void **state)
{
    (void)state;
    double deaths[PLAN_NBANDS] = {0}, pop[PLAN_NBANDS];
    for (int b = 0; b < PLAN_NBANDS; b++)
        pop[b] = 1000;
    pop[1] = 1000 + 1000; /* person-years 0-4 incl. the 1000 infants */
    pop[PLAN_NBANDS - 1] = 100;
    deaths[PLAN_NBANDS - 1] = 20;
    assert_true(fabs(plan_life_e0(deaths, pop, 1000) - 90.0) < 1e-9);
    deaths[0] = 10;
    assert_true(fabs(plan_life_e0(deaths, pop, 1000) - 89.101) < 1e-9);
    assert_true(isnan(plan_life_e0(deaths, pop, 0)));
    /* premature NCD mortality: 8 bands 30..65 with M = 10/1000:
     * 5q = 0.05/1.025, 1 - (1 - 5q)^8 = 0.3297358326 */
    double nd[PLAN_NBANDS] = {0}, np[PLAN_NBANDS] = {0};
    for (int b = plan_band_of(30); b <= plan_band_of(65); b++) {
        nd[b] = 10;
        np[b] = 1000;
    }
    nd[plan_band_of(70)] = 500; /* outside 30-69: ignored */
    assert_true(fabs(plan_ncd_premature(nd, np) - 0.3297358326) < 1e-9);
    np[plan_band_of(40)] = 0; /* deaths without population: undefined */
    assert_true(isnan(plan_ncd_premature(nd, np)));
}

static void
test_defs(void **state)
{
    (void)state;
    const rhis_ind_defs *d = rhis_ind_defs_default();
    assert_non_null(d);
    assert_true(rhis_ind_count(d) >= 78);
    const rhis_indicator *imr = rhis_ind_find(d, "imr");
    assert_non_null(imr);
    assert_string_equal(imr->ref, "A4");
    assert_true(imr->factor == 1000);
    assert_int_equal(imr->method, RHIS_IND_RATIO);
    assert_int_equal(rhis_ind_find(d, "c1")->method, RHIS_IND_ENTERED);
    assert_null(rhis_ind_find(d, "nope"));
    /* a bad file is refused with its line */
    char dir[64], path[200], err[300];
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(
        rhis_test_write_file(dir, "data-elements.csv",
                             "code,kind,param,area,name_zh,name_en\n"
                             "a,enc_nth,htn-fu:x,resident,甲,A\n",
                             path, sizeof(path)),
        0);
    assert_int_equal(
        rhis_test_write_file(dir, "indicators.csv",
                             "code,ref,name_zh,name_en,aliases,unit,factor,"
                             "numerator,denominator,period_type,area_rule,"
                             "period_rule,method,min_den,source,note\n",
                             path, sizeof(path)),
        0);
    rhis_ind_defs *bad = NULL;
    assert_int_equal(rhis_ind_defs_load(&bad, dir, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(err, ":2: bad parameter"));
    assert_int_equal(
        rhis_test_write_file(dir, "data-elements.csv",
                             "code,kind,param,area,name_zh,name_en\n"
                             "a,enc_nth,htn-fu:4,resident,甲,A\n",
                             path, sizeof(path)),
        0);
    assert_int_equal(
        rhis_test_write_file(dir, "indicators.csv",
                             "code,ref,name_zh,name_en,aliases,unit,factor,"
                             "numerator,denominator,period_type,area_rule,"
                             "period_rule,method,min_den,source,note\n"
                             "x,X,甲,X,,%,100,a + b,a,year,sum,sum,ratio,1,"
                             "records,\n",
                             path, sizeof(path)),
        0);
    assert_int_equal(rhis_ind_defs_load(&bad, dir, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "unknown data element 'b'"));
    unlink(path);
    (void)snprintf(path, sizeof(path), "%s/data-elements.csv", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- live aggregates through the store ---- */

static rhis_db *g_db;
static rhis_arena *g_arena;
static rhis_fhir_ctx g_c;

static json_object *
parse(const char *text)
{
    json_object *o = NULL;
    char err[200];
    if (rhis_json_parse(text, strlen(text), 32, &o, err, sizeof(err)) !=
        RHIS_OK)
        print_error("bad test JSON: %s\n%s\n", err, text);
    assert_non_null(o);
    return o;
}

/* Creates (id 0), updates (id > 0) or deletes (del); in its own
 * transaction unless in_tx (one is open); returns the id. */
static int64_t
write_res_tx(const char *type, const char *text, int64_t id, int del, int in_tx)
{
    const rhis_fhir_type *t = rhis_fhir_type_find(type);
    assert_non_null(t);
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    if (!in_tx)
        RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    int64_t v = 0, nid = id;
    rhis_status rc;
    if (del) {
        rc = rhis_fhir_do_delete(&g_c, t, id, &v);
    } else {
        json_object *res = parse(text);
        rc = id == 0 ? rhis_fhir_do_create(&g_c, t, res, &nid, &v)
                     : rhis_fhir_do_update(&g_c, t, id, res, -1, &v);
        json_object_put(res);
    }
    if (rc != RHIS_OK)
        print_error("%s %s: %s [%s]\n", del ? "delete" : "write", type,
                    g_c.err_text, g_c.err_expr);
    assert_int_equal(rc, RHIS_OK);
    if (!in_tx)
        RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    return nid;
}

static int64_t
write_res(const char *type, const char *text, int64_t id, int del)
{
    return write_res_tx(type, text, id, del, 0);
}

static char g_buf[4096];

static const char *
patient_json(int64_t id,
             const char *sex,
             const char *birth,
             const char *village,
             const char *deceased)
{
    char idpart[40] = "", dead[80] = "";
    if (id > 0)
        (void)snprintf(idpart, sizeof(idpart), "\"id\":\"%lld\",",
                       (long long)id);
    if (deceased != NULL)
        (void)snprintf(dead, sizeof(dead), ",\"deceasedDateTime\":\"%s\"",
                       deceased);
    (void)snprintf(g_buf, sizeof(g_buf),
                   "{\"resourceType\":\"Patient\",%s\"name\":[{\"text\":"
                   "\"测试%s\"}],\"gender\":\"%s\",\"birthDate\":\"%s\","
                   "\"address\":[{\"extension\":[{\"url\":\"%s\","
                   "\"valueCode\":\"%s\"}]}]%s}",
                   idpart, birth, strcmp(sex, "M") == 0 ? "male" : "female",
                   birth, RHIS_EXT_ADDRESS_DIVISION, village, dead);
    return g_buf;
}

static const char *
enc_json(int64_t id, int64_t pid, const char *type, const char *start)
{
    char idpart[40] = "";
    if (id > 0)
        (void)snprintf(idpart, sizeof(idpart), "\"id\":\"%lld\",",
                       (long long)id);
    (void)snprintf(g_buf, sizeof(g_buf),
                   "{\"resourceType\":\"Encounter\",%s\"status\":\"finished\","
                   "\"class\":{\"system\":\"" RHIS_SYS_ACT_CODE
                   "\",\"code\":\"AMB\"},\"type\":[{\"coding\":[{\"system\":"
                   "\"https://rhis.cn/fhir/CodeSystem/service\",\"code\":"
                   "\"%s\"}]}],\"subject\":{\"reference\":\"Patient/%lld\"},"
                   "\"period\":{\"start\":\"%s\"}}",
                   idpart, type, (long long)pid, start);
    return g_buf;
}

static const char *
cause_json(int64_t pid, const char *icd, const char *when)
{
    (void)snprintf(
        g_buf, sizeof(g_buf),
        "{\"resourceType\":\"Observation\",\"status\":\"final\","
        "\"code\":{\"coding\":[{\"system\":\"" RHIS_SYS_LOINC
        "\",\"code\":\"69453-9\"}]},\"subject\":{\"reference\":"
        "\"Patient/%lld\"},\"effectiveDateTime\":\"%s\","
        "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" RHIS_SYS_ICD10
        "\",\"code\":\"%s\"}]}}",
        (long long)pid, when, icd);
    return g_buf;
}

/* The live tables agree with a rebuild. */
static void
check_verify(void)
{
    int64_t n = -1;
    char err[300] = "";
    RHIS_CHECK_OK(g_db, rhis_agg_verify(g_db, &n, err, sizeof(err)));
    if (n != 0)
        print_error("live != rebuild: %lld rows, first %s\n", (long long)n,
                    err);
    assert_int_equal(n, 0);
}

static double
elem(const char *code, const char *area, const char *period)
{
    rhis_period p;
    assert_int_equal(rhis_period_parse(period, &p), RHIS_OK);
    double v = -1;
    RHIS_CHECK_OK(g_db, rhis_ind_element_sum(g_db, rhis_ind_defs_default(),
                                             code, area, p, &v));
    return v;
}

static rhis_ind_value
ind(const char *code, const char *area, const char *period)
{
    rhis_period p;
    assert_int_equal(rhis_period_parse(period, &p), RHIS_OK);
    rhis_ind_value v;
    const rhis_ind_defs *d = rhis_ind_defs_default();
    RHIS_CHECK_OK(
        g_db, rhis_ind_value_get(g_db, d, rhis_ind_find(d, code), area, p, &v));
    return v;
}

#define V1 "220221100001" /* 口前镇 village 1 */
#define V2 "220221100002" /* 口前镇 village 2 */
#define V3 "220221101001" /* 另一镇 village */

static int
group_setup(void **state)
{
    (void)state;
    g_arena = rhis_arena_new();
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    static const char *const areas[][4] = {
        {"22", "吉林省", "1", ""},
        {"2202", "吉林市", "2", "22"},
        {"220221", "永吉县", "3", "2202"},
        {"220221100", "口前镇", "4", "220221"},
        {"220221101", "西阳镇", "4", "220221"},
        {V1, "一村", "5", "220221100"},
        {V2, "二村", "5", "220221100"},
        {V3, "三村", "5", "220221101"},
    };
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        if (rhis_db_run(g_db,
                        "INSERT INTO area (code, name, level, parent_code,"
                        " edition) VALUES (?, ?, ?, NULLIF(?, ''), '2023')",
                        "ssss", areas[i][0], areas[i][1], areas[i][2],
                        areas[i][3]) != RHIS_OK)
            return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_close(g_db);
    rhis_arena_free(g_arena);
    return 0;
}

/*
 * Hypertension follow-ups: the 4th of a year counts once on its day;
 * deleting one uncounts it; moving one to another year moves the count;
 * a patient who moves village takes his facts along; roll-up by prefix.
 */
static void
test_followups(void **state)
{
    (void)state;
    int64_t p = write_res("Patient",
                          patient_json(0, "M", "1950-05-01", V1, NULL), 0, 0);
    check_verify();
    static const char *const days[] = {
        "2024-02-01T09:00:00+08:00", "2024-05-01T09:00:00+08:00",
        "2024-08-01T09:00:00+08:00", "2024-11-20T09:00:00+08:00"};
    int64_t enc[4];
    for (int i = 0; i < 4; i++) {
        enc[i] =
            write_res("Encounter", enc_json(0, p, "htn-fu", days[i]), 0, 0);
        assert_true(elem("htn_fu4", "220221", "2024") == (i == 3 ? 1 : 0));
    }
    assert_true(elem("htn_fu1", "220221", "2024") == 1);
    assert_true(elem("htn_fu", "220221", "2024") == 4);
    /* counted on the 4th follow-up's day: Q4 not Q1 */
    assert_true(elem("htn_fu4", "220221", "2024Q4") == 1);
    assert_true(elem("htn_fu4", "220221", "2024Q1") == 0);
    assert_true(elem("htn_fu4", "220221", "2024-11-20~2024-11-20") == 1);
    assert_true(elem("htn_fu4", V1, "2024") == 1);
    assert_true(elem("htn_fu4", "220221101", "2024") == 0);
    assert_true(elem("htn_fu4", "", "2024") == 1);
    rhis_ind_value v = ind("htn_std", "220221", "2024");
    assert_true(v.numerator == 1 && v.denominator == 1 && v.value == 100);
    assert_true(v.flags & RHIS_IND_FLAG_SMALL);
    check_verify();
    /* an earlier extra follow-up makes the 4th one earlier */
    int64_t extra =
        write_res("Encounter",
                  enc_json(0, p, "htn-fu", "2024-01-10T09:00:00+08:00"), 0, 0);
    assert_true(elem("htn_fu4", "220221", "2024Q3") == 1);
    assert_true(elem("htn_fu4", "220221", "2024Q4") == 0);
    check_verify();
    /* deletes: back to 4, then below the threshold */
    write_res("Encounter", NULL, extra, 1);
    assert_true(elem("htn_fu4", "220221", "2024Q4") == 1);
    write_res("Encounter", NULL, enc[0], 1);
    assert_true(elem("htn_fu4", "220221", "2024") == 0);
    assert_true(elem("htn_fu", "220221", "2024") == 3);
    check_verify();
    /* an update moves a follow-up into 2025 */
    write_res("Encounter",
              enc_json(enc[1], p, "htn-fu", "2025-01-03T09:00:00+08:00"),
              enc[1], 0);
    assert_true(elem("htn_fu", "220221", "2024") == 2);
    assert_true(elem("htn_fu1", "220221", "2025") == 1);
    /* a type change removes it from the programme */
    write_res("Encounter", enc_json(enc[2], p, "opd", days[2]), enc[2], 0);
    assert_true(elem("htn_fu", "220221", "2024") == 1);
    check_verify();
    /* the patient moves to another township: his facts follow */
    write_res("Patient", patient_json(p, "M", "1950-05-01", V3, NULL), p, 0);
    assert_true(elem("htn_fu", "220221100", "2021~2025") == 0);
    assert_true(elem("htn_fu", "220221101", "2021~2025") == 2);
    assert_true(elem("htn_fu", "220221", "2021~2025") == 2);
    check_verify();
}

/* Births, deaths by age and cause, life-table bands, maternal deaths. */
static void
test_births_deaths(void **state)
{
    (void)state;
    int64_t baby = write_res(
        "Patient", patient_json(0, "F", "2024-03-05", V2, NULL), 0, 0);
    int64_t boy = write_res("Patient",
                            patient_json(0, "M", "2024-07-09", V2, NULL), 0, 0);
    assert_true(elem("live_births", "220221", "2024") == 2);
    assert_true(elem("live_births_f", "220221100", "2024") == 1);
    assert_true(elem("live_births_m", "220221100", "2024") == 1);
    assert_true(elem("live_births", "220221", "202403") == 1);
    /* the girl dies at 5 months */
    write_res(
        "Patient",
        patient_json(baby, "F", "2024-03-05", V2, "2024-08-10T10:00:00+08:00"),
        baby, 0);
    assert_true(elem("infant_deaths", "220221", "2024") == 1);
    assert_true(elem("u5_deaths", "220221", "2024") == 1);
    assert_true(elem("deaths_age.0", "220221", "2024") == 1);
    assert_true(elem("live_births", "220221", "2024") == 2);
    rhis_ind_value v = ind("imr", "220221", "2024");
    assert_true(v.numerator == 1 && v.denominator == 2 && v.value == 500);
    check_verify();
    /* a woman of 30 dies of an obstetric cause: maternal death once the
     * cause is recorded; a 60-year-old man of a stroke: NCD death */
    int64_t w = write_res("Patient",
                          patient_json(0, "F", "1994-01-15", V1, NULL), 0, 0);
    write_res(
        "Patient",
        patient_json(w, "F", "1994-01-15", V1, "2024-09-01T03:00:00+08:00"), w,
        0);
    assert_true(elem("maternal_deaths", "220221", "2024") == 0);
    int64_t c =
        write_res("Observation",
                  cause_json(w, "O72.1", "2024-09-01T03:01:00+08:00"), 0, 0);
    assert_true(elem("maternal_deaths", "220221", "2024") == 1);
    assert_true(elem("deaths_age.30", "220221", "2024") == 1);
    check_verify();
    write_res("Observation", NULL, c, 1); /* cause withdrawn */
    assert_true(elem("maternal_deaths", "220221", "2024") == 0);
    int64_t m = write_res("Patient",
                          patient_json(0, "M", "1964-02-01", V3, NULL), 0, 0);
    write_res("Observation",
              cause_json(m, "I63.9", "2024-12-31T23:30:00+08:00"), 0, 0);
    write_res(
        "Patient",
        patient_json(m, "M", "1964-02-01", V3, "2024-12-31T23:00:00+08:00"), m,
        0);
    assert_true(elem("ncd_deaths_age.60", "220221", "2024") == 1);
    assert_true(elem("ncd_deaths_age.60", "220221", "2025") == 0);
    assert_true(elem("ncd_deaths_age", "220221101", "2024") == 1);
    check_verify();
    /* deleting a patient removes every fact of his */
    write_res("Patient", NULL, boy, 1);
    assert_true(elem("live_births", "220221", "2024") == 1);
    check_verify();
}

/* Beds and staff from the registry (institution import), population. */
static void
test_registry_and_population(void **state)
{
    (void)state;
    char dir[64], path[200], err[300];
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(
        rhis_test_write_file(dir, "inst.csv",
                             "code,name,tier,grade,ownership,area_code,"
                             "beds_approved,beds_open,lat,lon\n"
                             "T1,口前镇卫生院,township_hc,1A,public,"
                             "220221100,60,50,,\n"
                             "T2,西阳镇卫生院,township_hc,1A,public,"
                             "220221101,40,30,,\n",
                             path, sizeof(path)),
        0);
    int64_t added = 0;
    RHIS_CHECK_OK(g_db, rhis_registry_import_institutions(g_db, path, &added,
                                                          err, sizeof(err)));
    assert_int_equal(added, 2);
    unlink(path);
    rmdir(dir);
    assert_true(elem("beds", "220221", "2024") == 80);
    assert_true(elem("beds", "220221101", "2024") == 30);
    check_verify();
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO population (area_code, year, sex,"
                              " age_band, population) VALUES"
                              " ('220221100', 2024, 'M', 65, 3000),"
                              " ('220221100', 2024, 'F', 65, 5000),"
                              " ('220221101', 2024, 'F', 0, 2000)",
                              ""));
    assert_true(elem("pop_all", "220221", "2024") == 10000);
    assert_true(elem("pop_65p", "220221", "2024") == 8000);
    assert_true(fabs(elem("pop_all", "220221", "2024Q1") - 10000 * 91.0 / 366) <
                1e-6);
    rhis_ind_value v = ind("beds_per_1000", "220221", "2024");
    assert_true(v.numerator == 80 && v.denominator == 10000);
    assert_true(fabs(v.value - 8.0) < 1e-9);
    v = ind("beds_per_1000", "220221", "2023");
    assert_true(v.flags & RHIS_IND_FLAG_NODATA);
    assert_true(v.flags & RHIS_IND_FLAG_NOPOP);
    /* drill-down: the townships of the county */
    rhis_ind_child ch[8];
    size_t n = 0;
    rhis_period p;
    assert_int_equal(rhis_period_parse("2024", &p), RHIS_OK);
    const rhis_ind_defs *d = rhis_ind_defs_default();
    RHIS_CHECK_OK(g_db,
                  rhis_ind_children(g_db, d, rhis_ind_find(d, "beds_per_1000"),
                                    "220221", p, ch, 8, &n));
    assert_int_equal(n, 2);
    assert_string_equal(ch[0].code, "220221100");
    assert_true(fabs(ch[0].v.value - 50.0 / 8000 * 1000) < 1e-9);
    assert_true(fabs(ch[1].v.value - 30.0 / 2000 * 1000) < 1e-9);
    /* a series by quarter */
    rhis_ind_point pts[8];
    RHIS_CHECK_OK(g_db, rhis_ind_series(g_db, d, rhis_ind_find(d, "htn_std"),
                                        "220221", p, RHIS_PERIOD_QUARTER, pts,
                                        8, &n));
    assert_int_equal(n, 4);
    /* a bad area code is refused */
    rhis_ind_value bad;
    assert_int_equal(
        rhis_ind_value_get(g_db, d, rhis_ind_find(d, "imr"), "22a", p, &bad),
        RHIS_EINVAL);
    /* rebuild gives the same tables */
    int64_t facts = 0;
    RHIS_CHECK_OK(g_db, rhis_agg_rebuild(g_db, &facts, err, sizeof(err)));
    assert_true(facts > 0);
    check_verify();
    assert_true(elem("beds", "220221", "2024") == 80);
}

/*
 * The deltas buffered per transaction (src/plan/agg.c) follow the
 * engine's savepoints and rollbacks: a write in a savepoint rolled back
 * leaves the aggregates unchanged, even when the buffer was written out
 * (by a read) inside that savepoint; reads in the transaction see its
 * writes.
 */
static void
test_savepoints(void **state)
{
    (void)state;
    int64_t p = write_res("Patient",
                          patient_json(0, "F", "1952-03-01", V2, NULL), 0, 0);
    const char *when = "2022-03-01T09:00:00+08:00";
    assert_true(elem("htn_fu", V2, "2022") == 0);
    /* a write in a savepoint rolled back, another released */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT w"));
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "ROLLBACK TO w"));
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE w"));
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT w"));
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE w"));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_true(elem("htn_fu", V2, "2022") == 1);
    check_verify();
    /* a write before the savepoint, written out by a read inside it, then
     * the savepoint rolled back: the engine undoes the table writes, the
     * earlier write's deltas must still reach the tables at commit */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT outer_sp"));
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT inner_sp"));
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    assert_true(elem("htn_fu", V2, "2022") == 3); /* read in the tx */
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE SAVEPOINT inner_sp"));
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "ROLLBACK TO SAVEPOINT outer_sp"));
    assert_true(elem("htn_fu", V2, "2022") == 2);
    RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE SAVEPOINT outer_sp"));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_true(elem("htn_fu", V2, "2022") == 2);
    check_verify();
    /* a whole transaction rolled back */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
    rhis_db_rollback(g_db);
    assert_true(elem("htn_fu", V2, "2022") == 2);
    check_verify();
    /* many writes in one transaction (the buffer merges its tail) */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    for (int i = 0; i < 300; i++) {
        RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "SAVEPOINT w"));
        write_res_tx("Encounter", enc_json(0, p, "htn-fu", when), 0, 0, 1);
        RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, i % 3 == 0 ? "ROLLBACK TO w"
                                                          : "RELEASE w"));
        if (i % 3 == 0)
            RHIS_CHECK_OK(g_db, rhis_db_exec(g_db, "RELEASE w"));
    }
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_true(elem("htn_fu", V2, "2022") == 202);
    check_verify();
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_causes),
        cmocka_unit_test(test_life_table),
        cmocka_unit_test(test_defs),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(test_followups),
        cmocka_unit_test(test_births_deaths),
        cmocka_unit_test(test_registry_and_population),
        cmocka_unit_test(test_savepoints),
    };
    int failed = cmocka_run_group_tests_name("plan engine", pure, NULL, NULL);
    failed +=
        rhis_test_run_engines("plan aggregates", db, sizeof(db) / sizeof(db[0]),
                              group_setup, group_teardown);
    return failed;
}
