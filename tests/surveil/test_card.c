/*
 * test_card.c - report cards and the disease catalogue (src/surveil/
 * catalogue.c, card.c, card_parse.c, common.c, channel.c): Beijing-day
 * arithmetic, reporting deadlines, the catalogue by date (the 2023 and
 * 2025 changes), ICD-10 lookup, line-precise catalogue errors, duplicate
 * detection, the fixed-threshold alert, all-or-nothing writes, the card
 * parser and channel counts; on SQLite and, with RHIS_TEST_PG_URL, on
 * PostgreSQL.
 */
#include "testutil.h"

#include <sys/time.h>

#include "rhis/alloc.h"
#include "rhis/surveil.h"
#include "surveil/surveil_int.h"

#define DAY  (86400000LL)
#define HOUR (3600000LL)

static rhis_db *g_db;
static int64_t g_inst, g_pat, g_pat2, g_merged;

static void
load_catalogue(void)
{
    char err[700];
    const char *dir = getenv("RHIS_DATA_DIR");
    rhis_status rc = rhis_disease_catalogue_load(
        dir != NULL && *dir != '\0' ? dir : "data", err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, RHIS_OK);
}

static int64_t
t(const char *s)
{
    int64_t ms = 0;
    assert_true(surv_parse_time(s, &ms));
    return ms;
}

/* ---- pure functions ---- */

static void
beijing_days(void **state)
{
    (void)state;
    char day[11];
    /* 2026-03-01T16:00Z is midnight in Beijing: already 03-02 */
    rhis_surv_day_of(t("2026-03-01T16:00:00Z"), day);
    assert_string_equal(day, "2026-03-02");
    rhis_surv_day_of(t("2026-03-01T15:59:59Z"), day);
    assert_string_equal(day, "2026-03-01");
    assert_int_equal(t("2026-03-02"), t("2026-03-01T16:00:00Z"));
    assert_int_equal(t("2026-03-02T08:00"), t("2026-03-02T00:00:00Z"));
    assert_int_equal(t("2026-03-02T08:00:00+08:00"), t("2026-03-02T00:00Z"));
    assert_int_equal(t("2026-03-02T01:30:00.250-05:00"),
                     t("2026-03-02T06:30:00Z") + 250);
    int64_t ms;
    assert_true(surv_parse_time("2024-02-29", &ms));
    assert_false(surv_parse_time("2023-02-29", &ms));
    assert_false(surv_parse_time("2026-02-30", &ms));
    assert_false(surv_parse_time("2026-13-01", &ms));
    assert_false(surv_parse_time("2026-03-02T24:00", &ms));
    assert_false(surv_parse_time("2026-03-02T", &ms));
    assert_false(surv_parse_time("2026-03-02T10", &ms));
    assert_false(surv_parse_time("2026-03-02T10:00+08", &ms));
    assert_false(surv_parse_time("2026-03-02 10:00", &ms));
    assert_false(surv_parse_time("2026-3-2", &ms));
    assert_false(surv_parse_time("", &ms));
    assert_false(surv_parse_time(NULL, &ms));
    char buf[40];
    surv_format_time(t("2026-03-02T00:00:00Z"), buf, sizeof(buf));
    assert_string_equal(buf, "2026-03-02T08:00:00+08:00");
    surv_format_time(t("1969-12-31T23:00:00Z"), buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T07:00:00+08:00");
}

static void
deadlines(void **state)
{
    (void)state;
    load_catalogue();
    const rhis_disease *d;
    int64_t dx = t("2026-04-11T10:00:00+08:00");
    assert_int_equal(rhis_disease_find("cholera", "2026-04-11", &d), RHIS_OK);
    assert_int_equal(rhis_card_deadline(d, dx), dx + 2 * HOUR);
    assert_int_equal(rhis_disease_find("dysentery", "2026-04-11", &d), RHIS_OK);
    assert_int_equal(rhis_card_deadline(d, dx), dx + 24 * HOUR);
    assert_int_equal(rhis_disease_find("pulm_anthrax", "2026-04-11", &d),
                     RHIS_OK);
    assert_true(d->managed_as_a);
    assert_int_equal(rhis_card_deadline(d, dx), dx + 2 * HOUR);
    /* COVID-19: 乙类甲管 (2 h) to 2023-01-07, 乙类乙管 (24 h) from 01-08 */
    assert_int_equal(rhis_disease_find("covid19", "2023-01-07", &d), RHIS_OK);
    assert_true(d->managed_as_a);
    assert_int_equal(rhis_card_deadline(d, 0), 2 * HOUR);
    assert_int_equal(rhis_disease_find("covid19", "2023-01-08", &d), RHIS_OK);
    assert_false(d->managed_as_a);
    assert_int_equal(rhis_card_deadline(d, 0), 24 * HOUR);
    /* a class A row that says 24 h still gets 2 h */
    rhis_disease fake = *d;
    fake.dclass = RHIS_CLASS_A;
    assert_int_equal(rhis_card_deadline(&fake, 0), 2 * HOUR);
    assert_int_equal(rhis_card_deadline(NULL, 0), 2 * HOUR);
}

/* Counts the legal items of each class in force on day: the catalogue
 * splits 病毒性肝炎 by type and 炭疽 by form, the law counts each once. */
static void
class_counts(const char *day, int *a, int *b, int *c)
{
    size_t n;
    const rhis_disease *all = rhis_disease_all(&n);
    int hep = 0, anthrax = 0;
    *a = *b = *c = 0;
    for (size_t i = 0; i < n; i++) {
        const rhis_disease *d;
        if (rhis_disease_find(all[i].code, day, &d) != RHIS_OK || d != &all[i])
            continue;
        if (strncmp(d->code, "hepatitis_", 10) == 0 && hep++ > 0)
            continue;
        if (strstr(d->code, "anthrax") != NULL && anthrax++ > 0)
            continue;
        if (d->dclass == RHIS_CLASS_A)
            (*a)++;
        else if (d->dclass == RHIS_CLASS_B)
            (*b)++;
        else if (d->dclass == RHIS_CLASS_C)
            (*c)++;
    }
}

static void
catalogue_by_date(void **state)
{
    (void)state;
    load_catalogue();
    int a, b, c;
    /* "法定传染病共有40种: 甲类2种, 乙类27种, 丙类11种" from 2023-01-08 */
    class_counts("2023-01-08", &a, &b, &c);
    assert_int_equal(a, 2);
    assert_int_equal(b, 27);
    assert_int_equal(c, 11);
    /* mpox joins class B on 2023-09-20 */
    class_counts("2023-09-19", &a, &b, &c);
    assert_int_equal(b, 27);
    class_counts("2023-09-20", &a, &b, &c);
    assert_int_equal(b, 28);
    /* 2025-09-01: two avian influenza items merge into one */
    class_counts("2025-08-31", &a, &b, &c);
    assert_int_equal(b, 28);
    class_counts("2025-09-01", &a, &b, &c);
    assert_int_equal(b, 27);
    const rhis_disease *d;
    assert_int_equal(rhis_disease_find("mpox", "2023-09-19", &d),
                     RHIS_ENOTFOUND);
    assert_int_equal(rhis_disease_find("hpai", "2025-09-01", &d),
                     RHIS_ENOTFOUND);
    assert_int_equal(rhis_disease_find("novel_flu", "2025-09-01", &d), RHIS_OK);
    assert_true(d->fixed_threshold);
    assert_int_equal(rhis_disease_find("ebola", "2025-09-01", &d),
                     RHIS_ENOTFOUND);
    assert_int_equal(rhis_disease_find("scarlet_fever", "2024-01-01", &d),
                     RHIS_OK);
    assert_int_equal(d->mpm_percentile, 90);
    /* ICD-10: longest prefix, category matches subcategories */
    assert_int_equal(rhis_disease_by_icd10("A22.1", "2024-01-01", &d), RHIS_OK);
    assert_string_equal(d->code, "pulm_anthrax");
    assert_int_equal(rhis_disease_by_icd10("A22.000", "2024-01-01", &d),
                     RHIS_OK);
    assert_string_equal(d->code, "anthrax");
    assert_int_equal(rhis_disease_by_icd10("A09.900", "2024-01-01", &d),
                     RHIS_OK);
    assert_string_equal(d->code, "other_diarrhea");
    assert_int_equal(rhis_disease_by_icd10("B17.1", "2024-01-01", &d), RHIS_OK);
    assert_string_equal(d->code, "hepatitis_c");
    assert_int_equal(rhis_disease_by_icd10("U07.1", "2022-06-01", &d), RHIS_OK);
    assert_true(d->managed_as_a);
    assert_int_equal(rhis_disease_by_icd10("I10.x00", "2024-01-01", &d),
                     RHIS_ENOTFOUND);
    assert_int_equal(rhis_disease_by_icd10("A220", "2024-01-01", &d),
                     RHIS_ENOTFOUND);
}

/* Parses text as a catalogue file; returns the status, err the message. */
static rhis_status
parse_text(const char *text, char *err, size_t len)
{
    char dir[64], path[128];
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(
        rhis_test_write_file(dir, "c.csv", text, path, sizeof(path)), 0);
    rhis_disease *rows = NULL;
    size_t n = 0;
    err[0] = '\0';
    rhis_status rc = rhis_disease_catalogue_parse(path, &rows, &n, err, len);
    rhis_free(rows);
    (void)unlink(path);
    (void)rmdir(dir);
    return rc;
}

#define HEAD                                                                   \
    "code,name,name_en,class,managed_as_a,icd10,deadline_hours,"               \
    "fixed_threshold,mpm_percentile,min_cases,valid_from,valid_to,note\n"

static void
catalogue_errors_name_the_line(void **state)
{
    (void)state;
    char err[700];
    assert_int_equal(parse_text(HEAD "plague,鼠疫,Plague,A,0,A20,2,1,0,1,"
                                     "2013-11-01,,\n",
                                err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(parse_text("code,name\nplague,x\n", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:1: header"));
    assert_int_equal(parse_text(HEAD "plague,鼠疫,Plague,A,0,A20,24,1,0,1,"
                                     "2013-11-01,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: class A"));
    assert_int_equal(parse_text(HEAD "plague,鼠疫,Plague,A,0,A20,2,1,0,1,"
                                     "2013-11-01,,\n"
                                     "cholera,霍乱,Cholera,A,0,A00,2,1,0,1,"
                                     "2013-02-30,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:3: valid_from"));
    assert_int_equal(parse_text(HEAD "covid19,a,b,B,1,U07.1,2,0,0,3,"
                                     "2020-01-20,2023-01-08,\n"
                                     "covid19,a,b,B,0,U07.1,24,0,50,3,"
                                     "2023-01-08,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:3: validity of 'covid19' overlaps"));
    assert_int_equal(parse_text(HEAD "x,a,b,B,0,A0,24,0,0,3,2020-01-01,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: icd10"));
    assert_int_equal(parse_text(HEAD "x,a,b,D,0,A01,24,0,0,3,2020-01-01,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: class"));
    assert_int_equal(parse_text(HEAD "X Y,a,b,B,0,A01,24,0,0,3,2020-01-01,,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: code"));
    assert_int_equal(parse_text(HEAD "x,a,b,B,0,A01,24,0,0,3,2020-01-01,"
                                     "2019-01-01,\n",
                                err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: valid_to is before"));
    assert_int_equal(parse_text(HEAD "x,a,b,B,0,A01,24,0\n", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "c.csv:2: 8 fields"));
    assert_int_equal(parse_text(HEAD, err, sizeof(err)), RHIS_EINVAL);
    assert_non_null(strstr(err, "no diseases"));
}

static void
card_parser(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, NULL, a);
    rhis_card k;
    const char *ok = "{\"patient_id\": 7, \"area_code\": \"220221100006\","
                     " \"occupation\": \"farmer\", \"classification\":"
                     " \"confirmed\", \"disease\": \"tb\", \"onset\":"
                     " \"2026-02-01\", \"diagnosis\": \"2026-02-20T15:00\","
                     " \"death\": null, \"institution_id\": 3,"
                     " \"doctor\": \"李医生\"}";
    assert_int_equal(rhis_card_parse(&c, ok, strlen(ok), &k), RHIS_OK);
    assert_int_equal(k.patient_id, 7);
    assert_string_equal(k.disease, "tb");
    assert_int_equal(k.death_ms, RHIS_SURV_NONE);
    assert_int_equal(k.diagnosis_ms, t("2026-02-20T07:00:00Z"));
    static const struct {
        const char *json, *expr;
    } bad[] = {
        {"", ""},
        {"[]", ""},
        {"{\"patient_id\": 7", ""},
        {"{\"patient\": 7}", ""},
        {"{\"patient_id\": -1}", "card.patient_id"},
        {"{\"patient_id\": 1.5}", "card.patient_id"},
        {"{\"area_code\": 220221100006}", "card.area_code"},
        {"{\"onset\": \"yesterday\"}", "card.onset"},
        {"{\"disease\": \"aaaaaaaaaaaaaaaaaaaaaaaaa\"}", "card.disease"},
        {"{\"area_code\": \"\"}", "card.area_code"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rhis_status rc =
            rhis_card_parse(&c, bad[i].json, strlen(bad[i].json), &k);
        if (rc == RHIS_OK || strcmp(c.err_expr, bad[i].expr) != 0)
            print_error("case %zu: rc %d expr '%s'\n", i, (int)rc, c.err_expr);
        assert_int_equal(rc, RHIS_EINVAL);
        assert_string_equal(c.err_expr, bad[i].expr);
    }
    /* a required field missing */
    const char *missing = "{\"patient_id\": 7}";
    assert_int_equal(rhis_card_parse(&c, missing, strlen(missing), &k),
                     RHIS_EINVAL);
    assert_string_equal(c.err_expr, "card.area_code");
    rhis_arena_free(a);
}

/* ---- database-backed ---- */

static void
area(const char *code, int level, const char *parent)
{
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO area (code, name, level,"
                              " parent_code, edition) VALUES (?, ?, ?, ?,"
                              " '2023')",
                              "ssis", code, code, (int64_t)level, parent));
}

static int64_t
patient(const char *idn)
{
    int64_t id = 0;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &id,
                            "INSERT INTO patient (updated_ms, name, sex,"
                            " id_number, area_code) VALUES (0, 'P', 'M', ?,"
                            " '220221100006') RETURNING id",
                            "s", idn));
    return id;
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
    area("220221100", 4, "220221");
    area("220221100006", 5, "220221100");
    RHIS_CHECK_OK(
        g_db, rhis_db_scalar_int64(g_db, &g_inst,
                                   "INSERT INTO institution (code, name, tier,"
                                   " ownership, area_code, updated_at) VALUES"
                                   " ('KQ', 'KQ', 'township_hc', 'public',"
                                   " '220221100', 0) RETURNING id",
                                   ""));
    g_pat = patient("220221198504021236");
    g_pat2 = patient("220221199007122348");
    g_merged = patient(NULL);
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE patient SET merged_into = ?"
                                    " WHERE id = ?",
                                    "ii", g_pat2, g_merged));
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

static rhis_card
a_card(int64_t pid, const char *disease, const char *diagnosis)
{
    rhis_card k;
    memset(&k, 0, sizeof(k));
    k.patient_id = pid;
    snprintf(k.area_code, sizeof(k.area_code), "220221100006");
    snprintf(k.occupation, sizeof(k.occupation), "farmer");
    snprintf(k.classification, sizeof(k.classification), "confirmed");
    snprintf(k.disease, sizeof(k.disease), "%s", disease);
    k.diagnosis_ms = t(diagnosis);
    k.onset_ms = k.diagnosis_ms - 2 * DAY;
    k.death_ms = RHIS_SURV_NONE;
    k.institution_id = g_inst;
    snprintf(k.doctor, sizeof(k.doctor), "李医生");
    k.report_ms = k.diagnosis_ms + HOUR;
    return k;
}

static int64_t
count_rows(const char *sql)
{
    return rhis_test_scalar(g_db, sql);
}

static void
duplicates_within_the_window(void **state)
{
    (void)state;
    load_catalogue();
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    rhis_card_result r1, r2, r3, r4;
    rhis_card k = a_card(g_pat, "hepatitis_e", "2026-06-03T09:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r1));
    assert_int_equal(r1.duplicate_of, 0);
    assert_int_equal(r1.version, 1);
    assert_false(r1.late);
    /* 30 days later: still within the window */
    k = a_card(g_pat, "hepatitis_e", "2026-07-03T09:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r2));
    assert_int_equal(r2.duplicate_of, r1.id);
    /* another disease is no duplicate; nor 31 days after the first */
    k = a_card(g_pat, "hepatitis_a", "2026-06-04T09:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r3));
    assert_int_equal(r3.duplicate_of, 0);
    k = a_card(g_pat, "hepatitis_e", "2026-07-25T09:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r4));
    assert_int_equal(r4.duplicate_of, r2.id);
    assert_int_equal(
        count_rows("SELECT COUNT(*) FROM surveil_card_dup WHERE status ="
                   " 'open'"),
        2);
    /* merge r2 into r1; then r1's later duplicate is only r4's pair */
    RHIS_CHECK_OK(g_db, rhis_card_merge(&c, r1.id, r2.id, "同一病例"));
    assert_int_equal(rhis_card_merge(&c, r1.id, r2.id, NULL), RHIS_ECONFLICT);
    assert_int_equal(rhis_card_merge(&c, r1.id, r3.id, NULL), RHIS_EINVAL);
    assert_int_equal(
        count_rows("SELECT COUNT(*) FROM surveil_card WHERE status ="
                   " 'merged'"),
        1);
    /* the record merged into g_pat2 counts as the same person */
    k = a_card(g_pat2, "measles", "2026-05-01T09:00:00+08:00");
    rhis_card_result m1, m2;
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &m1));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE surveil_card SET patient_id = ?"
                                    " WHERE id = ?",
                                    "ii", g_merged, m1.id));
    k = a_card(g_pat2, "measles", "2026-05-05T09:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &m2));
    assert_int_equal(m2.duplicate_of, m1.id);
    /* every write left an audit event and a version */
    assert_true(count_rows("SELECT COUNT(*) FROM audit_event WHERE"
                           " resource_type = 'ReportCard'") >= 7);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM surveil_card_version"
                                " WHERE action = 'merge'"),
                     1);
    rhis_arena_free(a);
}

static void
fixed_threshold_and_late(void **state)
{
    (void)state;
    load_catalogue();
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    rhis_card k = a_card(g_pat, "plague", "2026-04-11T10:00:00+08:00");
    k.report_ms = k.diagnosis_ms + 3 * HOUR;
    rhis_card_result r;
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r));
    assert_true(r.late);
    assert_int_equal(r.deadline_ms, k.diagnosis_ms + 2 * HOUR);
    assert_int_equal(r.audit_deadline_ms, k.report_ms + 2 * HOUR);
    assert_true(r.alert_id > 0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM surveil_alert WHERE"
                                " disease_code = 'plague' AND county_code ="
                                " '220221' AND day = '2026-04-11'"),
                     1);
    /* revising the card does not raise a second alert */
    k.classification[0] = '\0';
    snprintf(k.classification, sizeof(k.classification), "clinical");
    rhis_card_result rv;
    RHIS_CHECK_OK(g_db, rhis_card_revise(&c, r.id, &k, 1, &rv));
    assert_int_equal(rv.version, 2);
    assert_int_equal(rv.alert_id, 0);
    assert_int_equal(rhis_card_revise(&c, r.id, &k, 1, &rv), RHIS_EPRECOND);
    /* a card of a 24 h disease reported within the day is on time */
    k = a_card(g_pat, "dysentery", "2026-04-11T10:00:00+08:00");
    k.report_ms = k.diagnosis_ms + 23 * HOUR;
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r));
    assert_false(r.late);
    assert_int_equal(r.alert_id, 0);
    rhis_arena_free(a);
}

static void
bad_cards_write_nothing(void **state)
{
    (void)state;
    load_catalogue();
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    int64_t before = count_rows("SELECT COUNT(*) FROM surveil_card");
    int64_t audits = count_rows("SELECT COUNT(*) FROM audit_event");
    rhis_card k = a_card(g_pat, "mpox", "2023-09-19T10:00:00+08:00");
    assert_int_equal(rhis_card_create(&c, &k, NULL), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "card.disease");
    k = a_card(g_pat, "measles", "2026-04-11T10:00:00+08:00");
    k.onset_ms = k.diagnosis_ms + 1;
    assert_int_equal(rhis_card_create(&c, &k, NULL), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "card.onset");
    k = a_card(g_pat, "measles", "2026-04-11T10:00:00+08:00");
    snprintf(k.area_code, sizeof(k.area_code), "220221100");
    assert_int_equal(rhis_card_create(&c, &k, NULL), RHIS_EINVAL);
    snprintf(k.area_code, sizeof(k.area_code), "220221100007");
    assert_int_equal(rhis_card_create(&c, &k, NULL), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "card.area_code");
    k = a_card(g_merged, "measles", "2026-04-11T10:00:00+08:00");
    assert_int_equal(rhis_card_create(&c, &k, NULL), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "card.patient_id");
    k = a_card(0, "measles", "2026-04-11T10:00:00+08:00");
    snprintf(k.id_number, sizeof(k.id_number), "220221199007122348");
    rhis_card_result r;
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, &r)); /* by ID number */
    int64_t pid = 0;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &pid,
                            "SELECT patient_id FROM surveil_card WHERE id = ?",
                            "i", r.id));
    assert_int_equal(pid, g_pat2);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM surveil_card"),
                     before + 1);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM audit_event"),
                     audits + 1);
    /* inside the caller's transaction, a failure leaves it to roll back */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    k = a_card(g_pat, "measles", "2026-04-11T10:00:00+08:00");
    RHIS_CHECK_OK(g_db, rhis_card_create(&c, &k, NULL));
    rhis_db_rollback(g_db);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM surveil_card"),
                     before + 1);
    rhis_arena_free(a);
}

static void
channel_counts(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    rhis_channel_count x[2];
    memset(x, 0, sizeof(x));
    x[0].channel = RHIS_CH_FEVER;
    snprintf(x[0].area_code, sizeof(x[0].area_code), "220221100");
    x[0].institution_id = g_inst;
    snprintf(x[0].day, sizeof(x[0].day), "2026-10-01");
    snprintf(x[0].category, sizeof(x[0].category), "all");
    x[0].count = 12;
    x[1] = x[0];
    snprintf(x[1].day, sizeof(x[1].day), "2026-10-02");
    size_t done = 9;
    RHIS_CHECK_OK(g_db, rhis_channel_add_batch(&c, x, 2, &done));
    assert_int_equal(done, 2);
    x[0].count = 15; /* a resend replaces */
    RHIS_CHECK_OK(g_db, rhis_channel_add(&c, &x[0]));
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     27);
    x[1].count = -1; /* all or nothing */
    x[0].count = 99;
    assert_int_equal(rhis_channel_add_batch(&c, x, 2, &done), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "counts[1].count");
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     27);
    /* inside the caller's transaction: the failed call leaves nothing
     * and the transaction goes on */
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_int_equal(rhis_channel_add_batch(&c, x, 2, &done), RHIS_EINVAL);
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     27);
    x[1].count = 3;
    RHIS_CHECK_OK(g_db, rhis_channel_add_batch(&c, x, 2, &done));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     102);
    /* deferred writes (a bulk load; pipelined on PostgreSQL): a resend
     * still replaces, a new key is inserted once even when it comes twice
     * in the batch */
    rhis_channel_count y[3] = {x[0], x[0], x[0]};
    y[0].count = 20;
    snprintf(y[1].day, sizeof(y[1].day), "2026-10-03");
    y[1].count = 5;
    y[2] = y[1];
    y[2].count = 7;
    RHIS_CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db, rhis_channel_add_batch(&c, y, 3, &done));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    RHIS_CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     20 + 3 + 7);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count WHERE"
                                " channel = 'fever_clinic'"),
                     3);
    x[1].count = 1;
    x[1].channel = RHIS_CH_SCHOOL;
    x[1].institution_id = 0;
    assert_int_equal(rhis_channel_add(&c, &x[1]), RHIS_EINVAL); /* site */
    snprintf(x[1].site, sizeof(x[1].site), "一小");
    assert_int_equal(rhis_channel_add(&c, &x[1]), RHIS_EINVAL); /* "all" */
    snprintf(x[1].category, sizeof(x[1].category), "fever");
    x[1].denominator = 400;
    RHIS_CHECK_OK(g_db, rhis_channel_add(&c, &x[1]));
    assert_int_equal(rhis_channel_parse("pharmacy"), RHIS_CH_PHARMACY);
    assert_int_equal(rhis_channel_parse("twitter"), 0);
    assert_null(rhis_channel_name((rhis_channel)9));
    rhis_arena_free(a);
}

/* rhis_channel_add_new: the bulk path of a fresh load writes the same rows
 * as the replacing path, in statements of many rows, all or nothing. */
static void
channel_counts_new(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    enum { N = 300 }; /* more than one statement's rows, and a rest */
    rhis_channel_count *x = rhis_xcalloc(N, sizeof(*x));
    for (int i = 0; i < N; i++) {
        x[i].channel = i % 2 == 0 ? RHIS_CH_INTESTINAL : RHIS_CH_PHARMACY;
        snprintf(x[i].area_code, sizeof(x[i].area_code), "220221100");
        x[i].institution_id = i % 2 == 0 ? g_inst : 0;
        snprintf(x[i].site, sizeof(x[i].site), "%s",
                 i % 2 == 0 ? "" : "第一大药房");
        snprintf(x[i].day, sizeof(x[i].day), "2025-%02d-%02d", 1 + i / 28,
                 1 + i % 28);
        snprintf(x[i].category, sizeof(x[i].category), "%s",
                 i % 2 == 0 ? "diarrhea" : "antipyretic");
        x[i].count = i;
    }
    size_t done = 9;
    /* a bad count anywhere: nothing written, the item named */
    x[200].count = -1;
    assert_int_equal(rhis_channel_add_new(&c, x, N, NULL, &done), RHIS_EINVAL);
    assert_string_equal(c.err_expr, "counts[200].count");
    assert_int_equal(done, 0);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count WHERE"
                                " day LIKE '2025-%'"),
                     0);
    x[200].count = 200;
    /* in a transaction with deferred writes (pipelined on PostgreSQL),
     * in two calls sharing the checks */
    rhis_channel_checks *k = rhis_channel_checks_new();
    RHIS_CHECK_OK(g_db, rhis_db_set_deferred(g_db, 1));
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db, rhis_channel_add_new(&c, x, 130, k, &done));
    assert_int_equal(done, 130);
    RHIS_CHECK_OK(g_db, rhis_channel_add_new(&c, x + 130, N - 130, k, &done));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    RHIS_CHECK_OK(g_db, rhis_db_set_deferred(g_db, 0));
    rhis_channel_checks_free(k);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count WHERE"
                                " day LIKE '2025-%'"),
                     N);
    assert_int_equal(count_rows("SELECT SUM(count) FROM channel_count WHERE"
                                " day LIKE '2025-%'"),
                     N * (N - 1) / 2);
    /* the columns the replacing path fills, filled alike */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count WHERE"
                                " day LIKE '2025-%' AND township_code ="
                                " '220221100' AND county_code = '220221'"
                                " AND source = 'push' AND denominator IS NULL"
                                " AND user_id IS NULL AND day_ms > 0"),
                     N);
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count WHERE"
                                " day LIKE '2025-%' AND institution_id IS"
                                " NULL AND site = '第一大药房'"),
                     N / 2);
    /* ids follow the order of the counts */
    assert_int_equal(count_rows("SELECT COUNT(*) FROM channel_count a JOIN"
                                " channel_count b ON b.id = a.id + 1 WHERE"
                                " a.day LIKE '2025-%' AND b.count ="
                                " a.count + 1"),
                     N - 1);
    rhis_free(x);
    rhis_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(beijing_days),
        cmocka_unit_test(deadlines),
        cmocka_unit_test(catalogue_by_date),
        cmocka_unit_test(catalogue_errors_name_the_line),
        cmocka_unit_test(card_parser),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(duplicates_within_the_window),
        cmocka_unit_test(fixed_threshold_and_late),
        cmocka_unit_test(bad_cards_write_nothing),
        cmocka_unit_test(channel_counts),
        cmocka_unit_test(channel_counts_new),
    };
    int failed = cmocka_run_group_tests_name("surveil cards", pure, NULL, NULL);
    return failed + rhis_test_run_engines("surveil cards (db)", db,
                                          sizeof(db) / sizeof(db[0]),
                                          group_setup, group_teardown);
}
