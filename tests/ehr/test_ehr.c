/*
 * test_ehr.c - unit tests for the health record resources (src/ehr/
 * encounter.c, condition.c, observation.c, immunization.c, document.c):
 * the element checker, the code tables, every refusal with its element
 * path, the typed rows each resource becomes and its search parameters.
 *
 * Why: what the store accepts it serves back, and indicators count its
 * typed rows; a decimal that loses "0.10", a blood pressure without its
 * diastolic, a diagnosis on another patient's encounter or a dose before
 * birth would all be silent corruption.  Every refusal must name the
 * element and write nothing.  The database cases run on SQLite and, when
 * RHIS_TEST_PG_URL is set, on PostgreSQL (tests/testutil.h), through the
 * store engine (rhis_fhir_do_create / _update) as HTTP, Bundles and the
 * importer use it, each in a transaction of its own.
 */
#include "testutil.h"

#include <stdarg.h>

#include "ehr/ehr_int.h"
#include "rhis/fhirstore.h"
#include "rhis/json.h"

extern const rhis_fhir_type rhis_type_encounter;
extern const rhis_fhir_type rhis_type_condition;
extern const rhis_fhir_type rhis_type_observation;
extern const rhis_fhir_type rhis_type_immunization;
extern const rhis_fhir_type rhis_type_documentreference;

#define ENC  (&rhis_type_encounter)
#define COND (&rhis_type_condition)
#define OBS  (&rhis_type_observation)
#define IMM  (&rhis_type_immunization)
#define DOC  (&rhis_type_documentreference)

static rhis_db *g_db;
static rhis_arena *g_arena;
static rhis_fhir_ctx g_c;
/* seeded by the group setup */
static int64_t g_p1;    /* 王建国, born 1980-03-15 */
static int64_t g_p2;    /* 刘欣怡, born 2023-06-01 (a baby) */
static int64_t g_inst;  /* 永吉县口前镇卫生院, 220221100 */
static int64_t g_inst2; /* 蛟河市人民医院, 220281 */
static int64_t g_pract; /* 李明 */
static int64_t g_enc1;  /* an encounter of g_p1 at g_inst */
static int64_t g_enc2;  /* an encounter of g_p2 */

/* A string from the test arena. */
static const char *J(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static const char *
J(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return rhis_arena_strdup(g_arena, buf);
}

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

/*
 * Creates (id 0) or updates resource text of type t in a transaction of
 * its own; the outcome is in g_c.  *out_id gets the id; *out (may be NULL)
 * the stored JSON (a new reference).
 */
static rhis_status
put(const rhis_fhir_type *t,
    const char *text,
    int64_t id,
    int64_t *out_id,
    json_object **out)
{
    json_object *res = parse(text);
    int64_t version = 0, nid = id;
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    rhis_status rc = id == 0
                         ? rhis_fhir_do_create(&g_c, t, res, &nid, &version)
                         : rhis_fhir_do_update(&g_c, t, id, res, -1, &version);
    if (rc == RHIS_OK)
        RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    else
        rhis_db_rollback(g_db);
    if (out_id != NULL)
        *out_id = rc == RHIS_OK ? nid : 0;
    if (out != NULL)
        *out = res;
    else
        json_object_put(res);
    return rc;
}

static int64_t
created(const rhis_fhir_type *t, const char *text)
{
    int64_t id = 0;
    rhis_status rc = put(t, text, 0, &id, NULL);
    if (rc != RHIS_OK)
        print_error("create %s failed: %s [%s]\n", t->name, g_c.err_text,
                    g_c.err_expr);
    assert_int_equal(rc, RHIS_OK);
    assert_true(id > 0);
    return id;
}

static int64_t
rows(void)
{
    return rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version") +
           rhis_test_scalar(g_db, "SELECT COUNT(*) FROM encounter") +
           rhis_test_scalar(g_db, "SELECT COUNT(*) FROM condition") +
           rhis_test_scalar(g_db, "SELECT COUNT(*) FROM observation") +
           rhis_test_scalar(g_db,
                            "SELECT COUNT(*) FROM observation_component") +
           rhis_test_scalar(g_db, "SELECT COUNT(*) FROM immunization") +
           rhis_test_scalar(g_db, "SELECT COUNT(*) FROM document_reference");
}

/* Asserts that creating text fails with st at element expr, writing
 * nothing. */
static void
refused(const rhis_fhir_type *t,
        const char *text,
        rhis_status st,
        const char *expr)
{
    int64_t before = rows();
    rhis_status rc = put(t, text, 0, NULL, NULL);
    if (rc != st || strcmp(g_c.err_expr, expr) != 0)
        print_error("%s: want %d at '%s', got %d at '%s': %s\n%s\n", t->name,
                    (int)st, expr, (int)rc, g_c.err_expr, g_c.err_text, text);
    assert_int_equal(rc, st);
    assert_string_equal(g_c.err_expr, expr);
    assert_true(g_c.err_text[0] != '\0');
    assert_int_equal(rows(), before);
}

/* A text column of one row: SQL with one '?' bound to id; "" for NULL. */
static const char *
text_of(const char *sql, int64_t id)
{
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st, sql, "i", id));
    RHIS_CHECK_RC(g_db, rhis_db_step(st), RHIS_ROW);
    const char *v = rhis_db_column_text(st, 0);
    const char *out = rhis_arena_strdup(g_arena, v != NULL ? v : "");
    rhis_db_finalize(st);
    return out;
}

static int64_t
int_of(const char *sql, int64_t id)
{
    int64_t v = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &v, sql, "i", id));
    return v;
}

/* Ids matching a search query for t (at most 2 counted). */
static int
matches(const rhis_fhir_type *t, const char *query)
{
    int n = -1;
    int64_t id = 0;
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    rhis_status rc = rhis_fhir_do_match(&g_c, t, query, &n, &id);
    if (rc != RHIS_OK)
        print_error("search %s?%s: %s\n", t->name, query, g_c.err_text);
    assert_int_equal(rc, RHIS_OK);
    return n;
}

/* The JSON stored as the current version of t/id. */
static const char *
stored(const rhis_fhir_type *t, int64_t id)
{
    const char *json = NULL;
    int64_t v, pid;
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    RHIS_CHECK_OK(g_db, rhis_fhir_do_read(&g_c, t, id, &json, &v, &pid));
    assert_non_null(json);
    return json;
}

/* ---- pure functions ---- */

static void
icd10_shapes(void **state)
{
    (void)state;
    static const char *const good[] = {"I10",   "I10.x00",     "E11.900",
                                       "J18.9", "K35.800x004", "U07.1",
                                       "A00.0", "Z99.81",      NULL};
    static const char *const bad[] = {
        "i10",        "I1",   "I10.",   "I10.x", "I10.0000", "I10.x00x",
        "I10.9x001",  "10.1", "II0",    "I10 ",  "I10.x0a",  "I10-x00",
        "I10.x00x12", "",     "I10..0", NULL};
    for (int i = 0; good[i] != NULL; i++)
        if (!ehr_icd10_valid(good[i]))
            fail_msg("ICD-10 %s refused", good[i]);
    for (int i = 0; bad[i] != NULL; i++)
        if (ehr_icd10_valid(bad[i]))
            fail_msg("ICD-10 '%s' accepted", bad[i]);
}

static void
loinc_check_digits(void **state)
{
    (void)state;
    assert_true(rhis_ehr_loinc_valid("8480-6"));
    assert_true(rhis_ehr_loinc_valid("85354-9"));
    assert_true(rhis_ehr_loinc_valid("2339-0"));
    assert_true(rhis_ehr_loinc_valid("718-7"));
    assert_false(rhis_ehr_loinc_valid("8480-5"));
    assert_false(rhis_ehr_loinc_valid("8480"));
    assert_false(rhis_ehr_loinc_valid("-6"));
    assert_false(rhis_ehr_loinc_valid("12345678-9"));
    assert_false(rhis_ehr_loinc_valid("8480-66"));
    assert_false(rhis_ehr_loinc_valid("8a80-6"));
}

static void
fhir_times(void **state)
{
    (void)state;
    int64_t lo = 0, hi = 0;
    assert_true(ehr_parse_time("2024", EK_DATETIME, &lo, &hi));
    assert_int_equal(lo, 1704067200000LL);
    assert_int_equal(hi, 1735689600000LL);
    assert_true(ehr_parse_time("2024-02-29", EK_DATE, &lo, &hi));
    assert_int_equal(hi - lo, 86400000LL);
    assert_false(ehr_parse_time("2023-02-29", EK_DATE, &lo, &hi));
    assert_true(
        ehr_parse_time("2024-05-01T08:00:00+08:00", EK_DATETIME, &lo, &hi));
    assert_int_equal(lo, 1714521600000LL); /* 2024-05-01T00:00:00Z */
    assert_true(
        ehr_parse_time("2024-05-01T00:00:00.25Z", EK_INSTANT, &lo, &hi));
    assert_int_equal(lo, 1714521600250LL);
    assert_false(ehr_parse_time("2024-05-01T08:00+08:00", EK_DATETIME, &lo,
                                &hi)); /* seconds are required */
    assert_false(ehr_parse_time("2024-05-01T08:00:00", EK_DATETIME, &lo,
                                &hi)); /* so is a zone */
    assert_false(ehr_parse_time("2024-05-01", EK_INSTANT, &lo, &hi));
    assert_false(ehr_parse_time("2024-05-01T08:00:00Z", EK_DATE, &lo, &hi));
    assert_false(ehr_parse_time("2024-13-01", EK_DATE, &lo, &hi));
    assert_false(ehr_parse_time("2024-1-01", EK_DATE, &lo, &hi));
    assert_false(ehr_parse_time("1899-12-31", EK_DATE, &lo, &hi));
    assert_false(ehr_parse_time("2024-05-01T24:00:00Z", EK_DATETIME, &lo, &hi));
    assert_false(
        ehr_parse_time("2024-05-01T08:00:00+15:00", EK_DATETIME, &lo, &hi));
    assert_false(
        ehr_parse_time("2024-05-01T08:00:00.Z", EK_DATETIME, &lo, &hi));
    assert_false(ehr_parse_time("+024-05-01", EK_DATE, &lo, &hi));
}

static void
base64_sizes(void **state)
{
    (void)state;
    size_t n = 0;
    assert_true(ehr_base64_size("AAAA", &n));
    assert_int_equal(n, 3);
    assert_true(ehr_base64_size("AA==", &n));
    assert_int_equal(n, 1);
    assert_true(ehr_base64_size("AAA=", &n));
    assert_int_equal(n, 2);
    assert_true(ehr_base64_size("AA AA\nAA==", &n));
    assert_int_equal(n, 4);
    assert_false(ehr_base64_size("A===", &n));
    assert_false(ehr_base64_size("AA=A", &n));
    assert_false(ehr_base64_size("AAA", &n));
    assert_false(ehr_base64_size("AA*A", &n));
    assert_false(ehr_base64_size("", &n));
}

static void
code_tables_load(void **state)
{
    (void)state;
    rhis_fhir_ctx c;
    const ehr_loinc *l = NULL;
    const ehr_vaccine *v = NULL;
    rhis_fhir_ctx_cli(&c, NULL, g_arena);
    assert_int_equal(rhis_ehr_loinc_find(&c, "85354-9", &l), RHIS_OK);
    assert_non_null(l);
    assert_string_equal(l->kind, "panel");
    assert_string_equal(l->name_zh, "血压");
    assert_int_equal(rhis_ehr_loinc_find(&c, "8480-6", &l), RHIS_OK);
    assert_string_equal(l->units, "mm[Hg]");
    assert_int_equal(rhis_ehr_loinc_find(&c, "18842-5", &l), RHIS_OK);
    assert_string_equal(l->kind, "document");
    assert_int_equal(rhis_ehr_loinc_find(&c, "1234-5", &l), RHIS_OK);
    assert_null(l);
    assert_int_equal(rhis_ehr_vaccine_find(&c, "HepB", &v), RHIS_OK);
    assert_non_null(v);
    assert_string_equal(v->name_zh, "乙肝疫苗");
    assert_int_equal(v->doses, 3);
    assert_int_equal(rhis_ehr_vaccine_find(&c, "MPSV-AC", &v), RHIS_OK);
    assert_non_null(v);
    assert_int_equal(rhis_ehr_vaccine_find(&c, "hepb", &v), RHIS_OK);
    assert_null(v);
}

/* ---- database-backed ---- */

static int64_t
seed_patient(const char *name, const char *sex, const char *birth, int64_t ms)
{
    int64_t id = 0;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &id,
                            "INSERT INTO patient (updated_ms, name, sex,"
                            " birth_date, birth_ms, area_code) VALUES (0, ?,"
                            " ?, ?, ?, '220221100') RETURNING id",
                            "sssi", name, sex, birth, ms));
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO fhir_version (type, id, version, ts,"
                              " method, patient_id, json) VALUES ('Patient', ?,"
                              " 1, 0, 'POST', ?, '{}')",
                              "ii", id, id));
    return id;
}

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
        {"220281", "蛟河市", "3", "2202"},
    };
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        if (rhis_db_run(g_db,
                        "INSERT INTO area (code, name, level, parent_code,"
                        " edition) VALUES (?, ?, ?, NULLIF(?, ''), '2023')",
                        "ssss", areas[i][0], areas[i][1], areas[i][2],
                        areas[i][3]) != RHIS_OK) {
            print_error("seed area: %s\n", rhis_db_errmsg(g_db));
            return -1;
        }
    if (rhis_db_scalar_int64(g_db, &g_inst,
                             "INSERT INTO institution (code, name, tier,"
                             " ownership, area_code, updated_at) VALUES"
                             " ('YJ-KQ-THC', '永吉县口前镇卫生院',"
                             " 'township_hc', 'public', '220221100', 0)"
                             " RETURNING id",
                             "") != RHIS_OK ||
        rhis_db_scalar_int64(g_db, &g_inst2,
                             "INSERT INTO institution (code, name, tier,"
                             " ownership, area_code, updated_at) VALUES"
                             " ('JH-RMYY', '蛟河市人民医院',"
                             " 'county_hospital', 'public', '220281', 0)"
                             " RETURNING id",
                             "") != RHIS_OK ||
        rhis_db_scalar_int64(g_db, &g_pract,
                             "INSERT INTO practitioner (name, sex,"
                             " updated_at) VALUES ('李明', 'M', 0)"
                             " RETURNING id",
                             "") != RHIS_OK) {
        print_error("seed: %s\n", rhis_db_errmsg(g_db));
        return -1;
    }
    /* 1980-03-15 and 2023-06-01 as UTC midnight */
    g_p1 = seed_patient("王建国", "M", "1980-03-15", 321926400000LL);
    g_p2 = seed_patient("刘欣怡", "F", "2023-06-01", 1685577600000LL);
    g_enc1 = created(ENC, J("{\"resourceType\":\"Encounter\","
                            "\"status\":\"finished\",\"class\":{\"system\":"
                            "\"" RHIS_SYS_ACT_CODE "\",\"code\":\"AMB\"},"
                            "\"subject\":{\"reference\":\"Patient/%lld\"},"
                            "\"serviceProvider\":{\"reference\":"
                            "\"Organization/%lld\"},\"period\":{\"start\":"
                            "\"2024-03-01T09:00:00+08:00\"}}",
                            (long long)g_p1, (long long)g_inst));
    g_enc2 = created(ENC, J("{\"resourceType\":\"Encounter\","
                            "\"status\":\"finished\",\"class\":{\"system\":"
                            "\"" RHIS_SYS_ACT_CODE "\",\"code\":\"AMB\"},"
                            "\"subject\":{\"reference\":\"Patient/%lld\"},"
                            "\"period\":{\"start\":\"2024-03-02\"}}",
                            (long long)g_p2));
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_close(g_db);
    g_db = NULL;
    rhis_arena_free(g_arena);
    g_arena = NULL;
    return 0;
}

#define ACT "{\"system\":\"" RHIS_SYS_ACT_CODE "\",\"code\":\"%s\"}"

/* An Encounter of patient p with class cls and extra members. */
static const char *
enc_json(int64_t p, const char *cls, const char *extra)
{
    return J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
             "\"class\":" ACT ",\"subject\":{\"reference\":\"Patient/%lld\"},"
             "\"period\":{\"start\":\"2024-04-02T10:30:00+08:00\"}%s%s}",
             cls, (long long)p, extra[0] != '\0' ? "," : "", extra);
}

static void
encounter_rows(void **state)
{
    (void)state;
    json_object *out = NULL;
    int64_t id = 0;
    const char *text = enc_json(
        g_p1, "IMP",
        J("\"type\":[{\"coding\":[{\"system\":\"https://rhis.cn/fhir/"
          "CodeSystem/encounter-type\",\"code\":\"general\"}]}],"
          "\"serviceProvider\":{\"reference\":\"Organization/%lld\"},"
          "\"participant\":[{\"individual\":{\"reference\":"
          "\"Practitioner/%lld\"}}],\"reasonCode\":[{\"coding\":[{\"system\":"
          "\"" RHIS_SYS_ICD10 "\",\"code\":\"I10.x00\"}],\"text\":"
          "\"头晕三天，血压升高\"}],\"hospitalization\":{\"admitSource\":"
          "{\"text\":\"门诊\"}}",
          (long long)g_inst, (long long)g_pract));
    assert_int_equal(put(ENC, text, 0, &id, &out), RHIS_OK);
    assert_string_equal(text_of("SELECT class FROM encounter WHERE id = ?", id),
                        "IMP");
    assert_string_equal(
        text_of("SELECT type_code FROM encounter WHERE id = ?", id), "general");
    assert_int_equal(
        int_of("SELECT institution_id FROM encounter WHERE id = ?", id),
        g_inst);
    assert_int_equal(
        int_of("SELECT practitioner_id FROM encounter WHERE id = ?", id),
        g_pract);
    assert_int_equal(int_of("SELECT start_ms FROM encounter WHERE id = ?", id),
                     1712025000000LL);
    assert_string_equal(
        text_of("SELECT reason_code FROM encounter WHERE id = ?", id),
        "I10.x00");
    assert_string_equal(
        text_of("SELECT reason_text FROM encounter WHERE id = ?", id),
        "头晕三天，血压升高");
    /* the class display is filled in */
    assert_string_equal(
        rhis_json_get_str(rhis_json_get(out, "class"), "display"),
        "inpatient encounter");
    json_object_put(out);
    /* an update replaces the row */
    text = J("{\"resourceType\":\"Encounter\",\"id\":\"%lld\","
             "\"status\":\"finished\",\"class\":" ACT ",\"subject\":"
             "{\"reference\":\"Patient/%lld\"},\"period\":{\"start\":"
             "\"2024-04-02T10:30:00+08:00\",\"end\":"
             "\"2024-04-05T09:00:00+08:00\"}}",
             (long long)id, "IMP", (long long)g_p1);
    assert_int_equal(put(ENC, text, id, NULL, NULL), RHIS_OK);
    assert_int_equal(int_of("SELECT version FROM encounter WHERE id = ?", id),
                     2);
    assert_int_equal(
        int_of("SELECT COUNT(*) FROM encounter WHERE id = ? AND"
               " institution_id IS NULL AND reason_text IS NULL AND"
               " end_ms = 1712278800000",
               id),
        1);
}

static void
encounter_refusals(void **state)
{
    (void)state;
    refused(ENC, enc_json(g_p1, "OBS", ""), RHIS_EINVAL,
            "Encounter.class.code");
    refused(ENC,
            J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
              "\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":"
              "\"Patient/%lld\"}}",
              (long long)g_p1),
            RHIS_EINVAL, "Encounter.class.system");
    refused(
        ENC,
        J("{\"resourceType\":\"Encounter\",\"status\":\"done\",\"class\":" ACT
          ",\"subject\":{\"reference\":\"Patient/%lld\"}}",
          "AMB", (long long)g_p1),
        RHIS_EINVAL, "Encounter.status");
    refused(ENC,
            J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
              "\"class\":" ACT ",\"subject\":{\"reference\":"
              "\"Patient/%lld\"}}",
              "AMB", (long long)g_p1),
            RHIS_EINVAL, "Encounter.period.start");
    refused(ENC,
            J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
              "\"class\":" ACT ",\"subject\":{\"reference\":\"Patient/%lld\"},"
              "\"period\":{\"start\":\"2024-04-02T10:30:00+08:00\","
              "\"end\":\"2024-04-01T10:30:00+08:00\"}}",
              "AMB", (long long)g_p1),
            RHIS_EINVAL, "Encounter.period.end");
    refused(ENC,
            J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
              "\"class\":" ACT ",\"subject\":{\"reference\":\"Patient/%lld\"},"
              "\"period\":{\"start\":\"2099-04-02\"}}",
              "AMB", (long long)g_p1),
            RHIS_EINVAL, "Encounter.period.start");
    refused(ENC,
            J("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
              "\"class\":" ACT ",\"subject\":{\"reference\":\"Patient/%lld\"},"
              "\"period\":{\"start\":\"2023-01-02\"}}",
              "AMB", (long long)g_p2),
            RHIS_EINVAL, "Encounter.period.start"); /* before birth */
    refused(ENC, enc_json(999999, "AMB", ""), RHIS_EINVAL, "Encounter.subject");
    refused(ENC,
            enc_json(g_p1, "AMB",
                     "\"serviceProvider\":{\"reference\":"
                     "\"Organization/999999\"}"),
            RHIS_EINVAL, "Encounter.serviceProvider");
    refused(ENC,
            enc_json(g_p1, "AMB",
                     "\"participant\":[{\"individual\":{\"reference\":"
                     "\"Practitioner/999999\"}}]"),
            RHIS_EINVAL, "Encounter.participant[0].individual");
    refused(ENC,
            enc_json(g_p1, "AMB",
                     "\"reasonCode\":[{\"coding\":[{\"system\":"
                     "\"" RHIS_SYS_ICD10 "\",\"code\":\"高血压\"}]}]"),
            RHIS_EINVAL, "Encounter.reasonCode[0].coding[0].code");
    refused(ENC, enc_json(g_p1, "AMB", "\"location\":[]"), RHIS_EINVAL,
            "Encounter.location");
    refused(ENC, enc_json(g_p1, "AMB", "\"extension\":[]"), RHIS_EINVAL,
            "Encounter.extension");
    refused(ENC, enc_json(g_p1, "AMB", "\"reasonCode\":[]"), RHIS_EINVAL,
            "Encounter.reasonCode");
    refused(ENC, enc_json(g_p1, "AMB", "\"reasonCode\":{\"text\":\"x\"}"),
            RHIS_EINVAL, "Encounter.reasonCode");
    refused(ENC, enc_json(g_p1, "AMB", "\"reasonCode\":[{\"text\":\"\"}]"),
            RHIS_EINVAL, "Encounter.reasonCode[0].text");
    refused(ENC, enc_json(g_p1, "AMB", "\"reasonCode\":[{}]"), RHIS_EINVAL,
            "Encounter.reasonCode[0]");
    refused(ENC, enc_json(g_p1, "AMB", "\"serviceProvider\":null"), RHIS_EINVAL,
            "Encounter.serviceProvider");
    refused(ENC, enc_json(g_p1, "AMB", "\"_status\":{}"), RHIS_EINVAL,
            "Encounter._status");
}

/* A caller working for one institution records only its encounters. */
static void
encounter_institution_scope(void **state)
{
    (void)state;
    rhis_principal u;
    memset(&u, 0, sizeof(u));
    u.user_id = 7;
    u.role = RHIS_ROLE_CLINICIAN;
    u.scope_institution = g_inst;
    (void)snprintf(u.inst_area, sizeof(u.inst_area), "220221100");
    int64_t pid = 0, id = 0;
    json_object *res = parse(enc_json(g_p1, "AMB",
                                      J("\"serviceProvider\":{\"reference\":"
                                        "\"Organization/%lld\"}",
                                        (long long)g_inst2)));
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    g_c.user = &u;
    assert_int_equal(rhis_type_encounter.store(&g_c, res, &id, 1, &pid),
                     RHIS_EFORBIDDEN);
    assert_string_equal(g_c.err_expr, "Encounter.serviceProvider");
    json_object_put(res);
    /* without a serviceProvider, the caller's institution is filled in */
    res = parse(enc_json(g_p1, "AMB", ""));
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    g_c.user = &u;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_int_equal(rhis_type_encounter.store(&g_c, res, &id, 1, &pid),
                     RHIS_OK);
    assert_int_equal(pid, g_p1);
    assert_int_equal(
        int_of("SELECT institution_id FROM encounter WHERE id = ?", id),
        g_inst);
    assert_string_equal(
        rhis_json_get_str(rhis_json_get(res, "serviceProvider"), "reference"),
        J("Organization/%lld", (long long)g_inst));
    rhis_db_rollback(g_db);
    json_object_put(res);
    /* other records made by the caller: its institution when they name
     * none (the record was made there) */
    res = parse(J("{\"resourceType\":\"Observation\",\"status\":\"final\","
                  "\"code\":{\"coding\":[{\"system\":\"" RHIS_SYS_LOINC
                  "\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":"
                  "\"Patient/%lld\"}}",
                  (long long)g_p1));
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    g_c.user = &u;
    id = 0;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    assert_int_equal(rhis_type_observation.store(&g_c, res, &id, 1, &pid),
                     RHIS_OK);
    assert_int_equal(
        int_of("SELECT institution_id FROM observation WHERE id = ?", id),
        g_inst);
    rhis_db_rollback(g_db);
    json_object_put(res);
    /* an area-scoped caller: institutions of the area only */
    memset(&u, 0, sizeof(u));
    u.role = RHIS_ROLE_INTEGRATOR;
    (void)snprintf(u.scope_area, sizeof(u.scope_area), "220221");
    res = parse(enc_json(g_p1, "AMB",
                         J("\"serviceProvider\":{\"reference\":"
                           "\"Organization/%lld\"}",
                           (long long)g_inst2)));
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    g_c.user = &u;
    assert_int_equal(rhis_type_encounter.store(&g_c, res, &id, 1, &pid),
                     RHIS_EFORBIDDEN);
    json_object_put(res);
}

#define ICD(code)                                                              \
    "{\"coding\":[{\"system\":\"" RHIS_SYS_ICD10 "\",\"code\":\"" code "\"}]}"
#define CLIN(code)                                                             \
    "{\"coding\":[{\"system\":\"" EHR_SYS_COND_CLINICAL "\",\"code\":\"" code  \
    "\"}]}"

static const char *
cond_json(int64_t p, const char *code, const char *extra)
{
    return J("{\"resourceType\":\"Condition\",\"code\":%s,\"subject\":"
             "{\"reference\":\"Patient/%lld\"}%s%s}",
             code, (long long)p, extra[0] != '\0' ? "," : "", extra);
}

static void
condition_rows(void **state)
{
    (void)state;
    int64_t id = created(
        COND,
        cond_json(
            g_p1, ICD("I10.x00"),
            J("\"clinicalStatus\":" CLIN(
                  "active") ","
                            "\"verificationStatus\":{\"coding\":[{\"system\":"
                            "\"" EHR_SYS_COND_VERIFY
                            "\",\"code\":\"confirmed\"}]},"
                            "\"category\":[{\"coding\":[{\"system\":"
                            "\"" EHR_SYS_COND_CATEGORY "\",\"code\":"
                            "\"encounter-diagnosis\"}]}],"
                            "\"encounter\":{\"reference\":\"Encounter/%lld\"},"
                            "\"onsetDateTime\":\"2023-11\",\"recordedDate\":"
                            "\"2024-03-01T09:20:00+08:00\",\"recorder\":"
                            "{\"reference\":\"Practitioner/"
                            "%lld\"},\"asserter\":"
                            "{\"reference\":\"Patient/%lld\"}",
              (long long)g_enc1, (long long)g_pract, (long long)g_p1)));
    assert_string_equal(text_of("SELECT code FROM condition WHERE id = ?", id),
                        "I10.x00");
    assert_string_equal(
        text_of("SELECT code_system FROM condition WHERE id = ?", id),
        RHIS_SYS_ICD10);
    assert_string_equal(
        text_of("SELECT clinical_status FROM condition WHERE id = ?", id),
        "active");
    assert_string_equal(
        text_of("SELECT category FROM condition WHERE id = ?", id),
        "encounter-diagnosis");
    assert_int_equal(
        int_of("SELECT institution_id FROM condition WHERE id = ?", id),
        g_inst);
    assert_int_equal(int_of("SELECT onset_ms FROM condition WHERE id = ?", id),
                     1698796800000LL);
    created(COND, cond_json(g_p1, ICD("E11.900"), ""));
    assert_int_equal(
        matches(COND, J("patient=%lld&code=" RHIS_SYS_ICD10 "|I10.x00",
                        (long long)g_p1)),
        1);
    assert_int_equal(matches(COND, J("subject=Patient/%lld&onset-date="
                                     "ge2023-11-01&onset-date=le2023-11-30",
                                     (long long)g_p1)),
                     1);
    assert_int_equal(matches(COND, "clinical-status=" EHR_SYS_COND_CLINICAL
                                   "|active&code=I10.x00"),
                     1);
    assert_int_equal(matches(COND, "category=encounter-diagnosis&code=I10.x00"),
                     1);
    assert_int_equal(matches(COND, J("encounter=%lld", (long long)g_enc1)), 1);
}

static void
condition_refusals(void **state)
{
    (void)state;
    refused(COND, cond_json(g_p1, ICD("I1O"), ""), RHIS_EINVAL,
            "Condition.code.coding[0].code");
    refused(COND,
            cond_json(g_p1,
                      "{\"coding\":[{\"system\":\"http://snomed.info/sct\","
                      "\"code\":\"38341003\"}]}",
                      ""),
            RHIS_EINVAL, "Condition.code.coding");
    refused(COND, cond_json(g_p1, ICD("I10"), "\"clinicalStatus\":" CLIN("ok")),
            RHIS_EINVAL, "Condition.clinicalStatus.coding[0].code");
    refused(
        COND,
        cond_json(g_p1, ICD("I10"), "\"clinicalStatus\":{\"text\":\"active\"}"),
        RHIS_EINVAL, "Condition.clinicalStatus.coding");
    refused(COND,
            cond_json(
                g_p1, ICD("I10"),
                "\"clinicalStatus\":" CLIN(
                    "active") ","
                              "\"verificationStatus\":{\"coding\":[{\"system\":"
                              "\"" EHR_SYS_COND_VERIFY "\",\"code\":"
                              "\"entered-in-error\"}]}"),
            RHIS_EINVAL, "Condition.clinicalStatus");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      "\"clinicalStatus\":" CLIN(
                          "active") ","
                                    "\"abatementDateTime\":\"2024-01-01\""),
            RHIS_EINVAL, "Condition.clinicalStatus");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      "\"category\":[{\"coding\":[{\"system\":"
                      "\"" EHR_SYS_COND_CATEGORY "\",\"code\":"
                      "\"diagnosis\"}]}]"),
            RHIS_EINVAL, "Condition.category[0].coding[0].code");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      J("\"encounter\":{\"reference\":\"Encounter/%lld\"}",
                        (long long)g_enc2)),
            RHIS_EINVAL, "Condition.encounter");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      "\"encounter\":{\"reference\":\"Encounter/999999\"}"),
            RHIS_EINVAL, "Condition.encounter");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      J("\"encounter\":{\"reference\":\"Patient/%lld\"}",
                        (long long)g_p1)),
            RHIS_EINVAL, "Condition.encounter");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      "\"onsetDateTime\":\"2024-02-01\",\"recordedDate\":"
                      "\"2024-01-01\""),
            RHIS_EINVAL, "Condition.recordedDate");
    refused(COND, cond_json(g_p1, ICD("I10"), "\"onsetDateTime\":\"2099\""),
            RHIS_EINVAL, "Condition.onsetDateTime");
    refused(COND,
            cond_json(g_p1, ICD("I10"), "\"onsetDateTime\":\"2024/01/01\""),
            RHIS_EINVAL, "Condition.onsetDateTime");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      "\"onsetDateTime\":\"2024\",\"onsetString\":\"x\""),
            RHIS_EINVAL, "Condition.onsetString");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      J("\"asserter\":{\"reference\":\"Patient/%lld\"}",
                        (long long)g_p2)),
            RHIS_EINVAL, "Condition.asserter");
    refused(COND,
            cond_json(g_p1, ICD("I10"),
                      J("\"recorder\":{\"reference\":\"Organization/%lld\"}",
                        (long long)g_inst)),
            RHIS_EINVAL, "Condition.recorder.reference");
    refused(COND, J("{\"resourceType\":\"Condition\",\"code\":" ICD("I10") "}"),
            RHIS_EINVAL, "Condition.subject");
}

#define LOINC(code)                                                            \
    "{\"coding\":[{\"system\":\"" RHIS_SYS_LOINC "\",\"code\":\"" code "\"}]}"
#define QTY(v, unit)                                                           \
    "{\"value\":" v ",\"unit\":\"" unit "\",\"system\":\"" RHIS_SYS_UCUM       \
    "\",\"code\":\"" unit "\"}"

static const char *
obs_json(int64_t p, const char *code, const char *extra)
{
    return J("{\"resourceType\":\"Observation\",\"status\":\"final\","
             "\"code\":%s,\"subject\":{\"reference\":\"Patient/%lld\"},"
             "\"effectiveDateTime\":\"2024-03-01T09:10:00+08:00\"%s%s}",
             code, (long long)p, extra[0] != '\0' ? "," : "", extra);
}

static const char *
bp_json(const char *sys, const char *dia)
{
    return obs_json(
        g_p1, LOINC("85354-9"),
        J("\"category\":[{\"coding\":[{\"system\":\"" EHR_SYS_OBS_CATEGORY
          "\",\"code\":\"vital-signs\"}]}],\"component\":["
          "{\"code\":" LOINC("8480-6") ",\"valueQuantity\":%s},"
                                       "{\"code\":" LOINC(
                                           "8462-4") ",\"valueQuantity\":%s}]",
          sys, dia));
}

static void
observation_decimals_keep_their_text(void **state)
{
    (void)state;
    json_object *out = NULL;
    int64_t id = 0;
    const char *text = obs_json(
        g_p1, LOINC("4548-4"),
        "\"valueQuantity\":" QTY(
            "6.10", "%") ",\"referenceRange\":[{\"low\":"
                         "{\"value\":4.00},\"high\":{\"value\":6.0}}],"
                         "\"interpretation\":["
                         "{\"coding\":[{\"system\":\"" EHR_SYS_INTERPRETATION
                         "\",\"code\":"
                         "\"H\"}]}]");
    assert_int_equal(put(OBS, text, 0, &id, &out), RHIS_OK);
    assert_string_equal(
        text_of("SELECT value_text FROM observation WHERE id = ?", id), "6.10");
    assert_int_equal(
        int_of("SELECT COUNT(*) FROM observation WHERE id = ? AND"
               " value_num > 6.09 AND value_num < 6.11 AND unit = '%'"
               " AND interpretation = 'H' AND category IS NULL",
               id),
        1);
    const char *json = stored(OBS, id);
    assert_non_null(strstr(json, "\"value\":6.10,"));
    assert_non_null(strstr(json, "{\"value\":4.00}"));
    assert_non_null(strstr(json, "{\"value\":6.0}"));
    /* the LOINC display and the Chinese name are filled in */
    assert_non_null(strstr(json, "\"display\":\"Hemoglobin A1c/Hemoglobin."
                                 "total in Blood\""));
    assert_non_null(strstr(json, "\"text\":\"糖化血红蛋白\""));
    json_object_put(out);
    id = created(OBS, obs_json(g_p1, LOINC("14749-6"),
                               "\"valueQuantity\":" QTY("0.10", "mmol/L")));
    assert_string_equal(
        text_of("SELECT value_text FROM observation WHERE id = ?", id), "0.10");
    assert_non_null(strstr(stored(OBS, id), "\"value\":0.10,"));
    id = created(OBS, obs_json(g_p1, LOINC("8867-4"),
                               "\"valueQuantity\":" QTY("72", "/min")));
    assert_string_equal(
        text_of("SELECT value_text FROM observation WHERE id = ?", id), "72");
    /* an unknown code of another system: stored as given */
    id = created(OBS, obs_json(g_p1,
                               "{\"coding\":[{\"system\":\"https://rhis.cn/"
                               "lab\",\"code\":\"UPRO\"}]}",
                               "\"valueString\":\"++\""));
    assert_string_equal(
        text_of("SELECT value_text FROM observation WHERE id = ?", id), "++");
    assert_int_equal(int_of("SELECT COUNT(*) FROM observation WHERE id = ? AND"
                            " value_num IS NULL AND code = 'UPRO'",
                            id),
                     1);
}

static void
observation_blood_pressure(void **state)
{
    (void)state;
    int64_t id = created(
        OBS, J("%s", bp_json(QTY("120.0", "mm[Hg]"), QTY("80", "mm[Hg]"))));
    assert_int_equal(int_of("SELECT COUNT(*) FROM observation_component WHERE"
                            " observation_id = ?",
                            id),
                     2);
    assert_string_equal(text_of("SELECT value_text FROM observation_component"
                                " WHERE observation_id = ? AND code = '8480-6'",
                                id),
                        "120.0");
    assert_string_equal(text_of("SELECT unit FROM observation_component"
                                " WHERE observation_id = ? AND code = '8462-4'",
                                id),
                        "mm[Hg]");
    assert_string_equal(
        text_of("SELECT category FROM observation WHERE id = ?", id),
        "vital-signs");
    assert_non_null(strstr(stored(OBS, id), "\"value\":120.0,"));
    /* an update replaces the components */
    const char *upd = J(
        "{\"resourceType\":\"Observation\",\"id\":\"%lld\",\"status\":"
        "\"amended\",\"code\":" LOINC(
            "85354-9") ",\"subject\":{\"reference\":"
                       "\"Patient/%lld\"},\"component\":[{\"code\":" LOINC(
                           "8480-6") ","
                                     "\"valueQuantity\":" QTY(
                                         "135",
                                         "mm["
                                         "Hg]") "},{\"code\":" LOINC("8462-"
                                                                     "4") ",\"v"
                                                                          "alue"
                                                                          "Quan"
                                                                          "tity"
                                                                          "\""
                                                                          ":" QTY(
                                                                              "85",
                                                                              "mm[Hg]") "},{"
                                                                                        "\"cod"
                                                                                        "e\""
                                                                                        ":" LOINC("8867-4") ",\"valueQuantity\":" QTY(
                                                                                            "70",
                                                                                            "/min") "}]}",
        (long long)id, (long long)g_p1);
    assert_int_equal(put(OBS, upd, id, NULL, NULL), RHIS_OK);
    assert_int_equal(int_of("SELECT COUNT(*) FROM observation_component WHERE"
                            " observation_id = ?",
                            id),
                     3);
    assert_string_equal(text_of("SELECT value_text FROM observation_component"
                                " WHERE observation_id = ? AND code = '8480-6'",
                                id),
                        "135");
    assert_int_equal(matches(OBS, J("patient=%lld&component-code=8462-4&"
                                    "status=amended",
                                    (long long)g_p1)),
                     1);
    assert_int_equal(matches(OBS, J("patient=%lld&code=" RHIS_SYS_LOINC
                                    "|85354-9&date=ge2024-03-01&date="
                                    "le2024-03-01",
                                    (long long)g_p1)),
                     0); /* the update has no effectiveDateTime */
}

/* A blood pressure needs both components with consistent values. */
static void
observation_blood_pressure_refusals(void **state)
{
    (void)state;
    refused(
        OBS,
        obs_json(g_p1, LOINC("85354-9"),
                 "\"component\":[{\"code\":" LOINC(
                     "8480-6") ","
                               "\"valueQuantity\":" QTY("120", "mm[Hg]") "}]"),
        RHIS_EINVAL, "Observation.component");
    refused(OBS, obs_json(g_p1, LOINC("85354-9"), ""), RHIS_EINVAL,
            "Observation.component");
    /* a component without a value needs a dataAbsentReason (vs-3) */
    refused(
        OBS,
        obs_json(
            g_p1, LOINC("85354-9"),
            "\"component\":[{\"code\":" LOINC(
                "8480-6") ","
                          "\"valueQuantity\":" QTY(
                              "120",
                              "mm[Hg]") "},{\"code\":" LOINC("8462-4") "}]"),
        RHIS_EINVAL, "Observation.component[1].value[x]");
    created(
        OBS,
        obs_json(
            g_p1, LOINC("85354-9"),
            "\"component\":[{\"code\":" LOINC(
                "8480-6") ","
                          "\"valueQuantity\":" QTY(
                              "120",
                              "mm[Hg]") "},"
                                        "{\"code\":" LOINC(
                                            "8462-4") ",\"dataAbsentReason\":"
                                                      "{\"text\":\"袖带故障\"}}"
                                                      "]"));
    refused(OBS, bp_json(QTY("80", "mm[Hg]"), QTY("120", "mm[Hg]")),
            RHIS_EINVAL, "Observation.component[1].valueQuantity.value");
    refused(OBS, bp_json(QTY("120", "mm[Hg]"), QTY("80", "mmHg")), RHIS_EINVAL,
            "Observation.component[1].valueQuantity.code");
    refused(OBS,
            bp_json(QTY("120", "mm[Hg]"),
                    "{\"value\":\"80\",\"system\":\"" RHIS_SYS_UCUM
                    "\",\"code\":\"mm[Hg]\"}"),
            RHIS_EINVAL, "Observation.component[1].valueQuantity.value");
    refused(OBS, bp_json(QTY("120", "mm[Hg]"), "{\"unit\":\"mm[Hg]\"}"),
            RHIS_EINVAL, "Observation.component[1].valueQuantity.value");
    refused(OBS,
            bp_json(QTY("120", "mm[Hg]"), "{\"value\":80,\"unit\":\"mmHg\"}"),
            RHIS_EINVAL, "Observation.component[1].valueQuantity.system");
    refused(
        OBS,
        obs_json(
            g_p1, LOINC("85354-9"),
            "\"component\":[{\"code\":" LOINC(
                "8480-6") ","
                          "\"valueQuantity\":" QTY(
                              "120",
                              "mm[Hg]") "},{\"code\":" LOINC("8480-6") ",\"valu"
                                                                       "eQuanti"
                                                                       "ty\""
                                                                       ":" QTY(
                                                                           "80",
                                                                           "mm["
                                                                           "Hg"
                                                                           "]") "}]"),
        RHIS_EINVAL, "Observation.component[1].code");
    refused(
        OBS,
        obs_json(
            g_p1, LOINC("85354-9"),
            "\"valueQuantity\":" QTY(
                "120",
                "mm[Hg]") ","
                          "\"component\":[{\"code\":" LOINC(
                              "8480-6") ","
                                        "\"valueQuantity\":" QTY(
                                            "120",
                                            "mm"
                                            "[H"
                                            "g"
                                            "]") "},{"
                                                 "\"code\""
                                                 ":" LOINC(
                                                     "8462-"
                                                     "4") ",\"valueQuantity\""
                                                          ":" QTY(
                                                              "80",
                                                              "mm[Hg]") "}"
                                                                        "]"),
        RHIS_EINVAL, "Observation.valueQuantity.value");
    refused(
        OBS,
        obs_json(
            g_p1, LOINC("85354-9"),
            "\"component\":[{\"code\":" LOINC(
                "8480-6") ","
                          "\"valueQuantity\":" QTY(
                              "120",
                              "mm[Hg]") "},{\"code\":" LOINC("8462-4") ",\"valu"
                                                                       "eQuanti"
                                                                       "ty\""
                                                                       ":" QTY(
                                                                           "80",
                                                                           "mm["
                                                                           "Hg"
                                                                           "]") ",\"unknown\":1}]"),
        RHIS_EINVAL, "Observation.component[1].unknown");
}

static void
observation_refusals(void **state)
{
    (void)state;
    refused(OBS, obs_json(g_p1, LOINC("8480-5"), ""), RHIS_EINVAL,
            "Observation.code.coding[0].code");
    refused(OBS, obs_json(g_p1, LOINC("18842-5"), ""), RHIS_EINVAL,
            "Observation.code.coding[0].code");
    refused(OBS, obs_json(g_p1, "{\"text\":\"血糖\"}", ""), RHIS_EINVAL,
            "Observation.code.coding");
    refused(OBS,
            J("{\"resourceType\":\"Observation\",\"status\":\"done\","
              "\"code\":" LOINC("8867-4") ",\"subject\":{\"reference\":"
                                          "\"Patient/%lld\"}}",
              (long long)g_p1),
            RHIS_EINVAL, "Observation.status");
    refused(
        OBS,
        obs_json(g_p1, LOINC("8867-4"),
                 "\"valueQuantity\":" QTY(
                     "72", "/min") ","
                                   "\"dataAbsentReason\":{\"text\":\"asked\"}"),
        RHIS_EINVAL, "Observation.dataAbsentReason");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"valueQuantity\":" QTY("72",
                                              "/min") ","
                                                      "\"valueString\":\"72\""),
            RHIS_EINVAL, "Observation.valueQuantity");
    refused(
        OBS,
        obs_json(
            g_p1, LOINC("8867-4"),
            "\"valueQuantity\":" QTY(
                "72",
                "/min") ","
                        "\"referenceRange\":[{\"low\":{\"value\":100},\"high\":"
                        "{\"value\":60}}]"),
        RHIS_EINVAL, "Observation.referenceRange[0].high.value");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"valueQuantity\":" QTY(
                         "72",
                         "/min") ","
                                 "\"interpretation\":[{\"coding\":[{\"system\":"
                                 "\"" EHR_SYS_INTERPRETATION
                                 "\",\"code\":\"high\"}]}]"),
            RHIS_EINVAL, "Observation.interpretation[0].coding[0].code");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"category\":[{\"coding\":[{\"system\":"
                     "\"" EHR_SYS_OBS_CATEGORY "\",\"code\":\"vitals\"}]}]"),
            RHIS_EINVAL, "Observation.category[0].coding[0].code");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"valueQuantity\":{\"value\":72,\"code\":\"/min\"}"),
            RHIS_EINVAL, "Observation.valueQuantity.system");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"valueQuantity\":{\"value\":72,\"comparator\":\"~\"}"),
            RHIS_EINVAL, "Observation.valueQuantity.comparator");
}

/* Dates, references and the institution of an Observation. */
static void
observation_context(void **state)
{
    (void)state;
    refused(OBS,
            J("{\"resourceType\":\"Observation\",\"status\":\"final\","
              "\"code\":" LOINC(
                  "8867-4") ",\"subject\":{\"reference\":"
                            "\"Patient/"
                            "%lld\"},\"effectiveDateTime\":\"2099-01-01\"}",
              (long long)g_p1),
            RHIS_EINVAL, "Observation.effectiveDateTime");
    refused(OBS,
            J("{\"resourceType\":\"Observation\",\"status\":\"final\","
              "\"code\":" LOINC(
                  "8867-4") ",\"subject\":{\"reference\":"
                            "\"Patient/"
                            "%lld\"},\"effectiveDateTime\":\"2022-01-01\"}",
              (long long)g_p2),
            RHIS_EINVAL, "Observation.effectiveDateTime"); /* before birth */
    refused(
        OBS,
        obs_json(g_p1, LOINC("8867-4"), "\"issued\":\"2024-02-01T00:00:00Z\""),
        RHIS_EINVAL, "Observation.issued");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"issued\":\"2024-03-02\""),
            RHIS_EINVAL, "Observation.issued");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     J("\"encounter\":{\"reference\":\"Encounter/%lld\"}",
                       (long long)g_enc2)),
            RHIS_EINVAL, "Observation.encounter");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"performer\":[{\"reference\":\"Organization/999999\"}]"),
            RHIS_EINVAL, "Observation.performer[0]");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     J("\"performer\":[{\"reference\":\"Patient/%lld\"}]",
                       (long long)g_p1)),
            RHIS_EINVAL, "Observation.performer[0].reference");
    refused(OBS, obs_json(999999, LOINC("8867-4"), ""), RHIS_EINVAL,
            "Observation.subject");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"valueInteger\":72"),
            RHIS_EINVAL, "Observation.valueInteger");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"), "\"note\":[{\"time\":\"2024\"}]"),
            RHIS_EINVAL, "Observation.note[0].text");
    /* a performing organisation becomes the institution */
    int64_t id = created(
        OBS,
        obs_json(
            g_p1, LOINC("2345-7"),
            J("\"valueQuantity\":" QTY(
                  "101",
                  "mg/dL") ","
                           "\"encounter\":{\"reference\":\"Encounter/%lld\"},"
                           "\"performer\":[{\"reference\":\"Practitioner/"
                           "%lld\"},"
                           "{\"reference\":\"Organization/%lld\"}]",
              (long long)g_enc1, (long long)g_pract, (long long)g_inst2)));
    assert_int_equal(
        int_of("SELECT institution_id FROM observation WHERE id = ?", id),
        g_inst2);
    assert_int_equal(
        int_of("SELECT encounter_id FROM observation WHERE id = ?", id),
        g_enc1);
    assert_int_equal(
        matches(OBS, J("performer=Organization/%lld&encounter=%lld",
                       (long long)g_inst2, (long long)g_enc1)),
        1);
}

#define VAX(code)                                                              \
    "{\"coding\":[{\"system\":\"" RHIS_SYS_VACCINE_CN "\",\"code\":\"" code    \
    "\"}]}"

static const char *
imm_json(int64_t p, const char *vaccine, const char *when, const char *extra)
{
    return J("{\"resourceType\":\"Immunization\",\"status\":\"completed\","
             "\"vaccineCode\":%s,\"patient\":{\"reference\":\"Patient/%lld\"},"
             "\"occurrenceDateTime\":\"%s\"%s%s}",
             vaccine, (long long)p, when, extra[0] != '\0' ? "," : "", extra);
}

static void
immunization_rows(void **state)
{
    (void)state;
    json_object *out = NULL;
    int64_t id = 0;
    const char *text = imm_json(
        g_p2, VAX("HepB"), "2023-06-01T10:00:00+08:00",
        J("\"lotNumber\":\"202305A012\",\"expirationDate\":\"2025-05\","
          "\"performer\":[{\"actor\":{\"reference\":\"Organization/%lld\"}}],"
          "\"protocolApplied\":[{\"doseNumberPositiveInt\":1,"
          "\"seriesDosesPositiveInt\":3}],\"primarySource\":true",
          (long long)g_inst));
    assert_int_equal(put(IMM, text, 0, &id, &out), RHIS_OK);
    assert_int_equal(
        int_of(
            "SELECT COUNT(*) FROM immunization WHERE id = ? AND"
            " vaccine_code = 'HepB' AND vaccine_system = '" RHIS_SYS_VACCINE_CN
            "' AND lot = '202305A012' AND dose_number = 1 AND"
            " occurrence_ms = 1685584800000",
            id),
        1);
    assert_int_equal(
        int_of("SELECT institution_id FROM immunization WHERE id = ?", id),
        g_inst);
    json_object *cc = rhis_json_get(out, "vaccineCode");
    assert_string_equal(rhis_json_get_str(cc, "text"), "乙肝疫苗");
    json_object_put(out);
    id = created(IMM, imm_json(g_p2,
                               "{\"coding\":[{\"system\":\"" RHIS_SYS_CVX
                               "\",\"code\":\"19\"}]}",
                               "2023-06-02",
                               J("\"encounter\":{\"reference\":"
                                 "\"Encounter/%lld\"}",
                                 (long long)g_enc2)));
    assert_string_equal(
        text_of("SELECT vaccine_system FROM immunization WHERE id = ?", id),
        RHIS_SYS_CVX);
    assert_int_equal(
        matches(IMM, J("patient=%lld&vaccine-code=" RHIS_SYS_VACCINE_CN "|HepB",
                       (long long)g_p2)),
        1);
    assert_int_equal(matches(IMM, J("patient=%lld&date=ge2023-06-01&"
                                    "date=le2023-06-30",
                                    (long long)g_p2)),
                     2);
    assert_int_equal(
        matches(IMM, J("patient=%lld&date=gt2023-06-01", (long long)g_p2)), 1);
    assert_int_equal(matches(IMM, "lot-number=202305a"), 1);
}

static void
immunization_refusals(void **state)
{
    (void)state;
    refused(IMM, imm_json(g_p2, VAX("HBV"), "2023-07-01", ""), RHIS_EINVAL,
            "Immunization.vaccineCode.coding[0].code");
    refused(IMM,
            imm_json(g_p2,
                     "{\"coding\":[{\"system\":\"" RHIS_SYS_CVX
                     "\",\"code\":\"1234\"}]}",
                     "2023-07-01", ""),
            RHIS_EINVAL, "Immunization.vaccineCode.coding[0].code");
    refused(IMM, imm_json(g_p2, "{\"text\":\"乙肝\"}", "2023-07-01", ""),
            RHIS_EINVAL, "Immunization.vaccineCode.coding");
    refused(IMM,
            imm_json(g_p2, VAX("HepB"), "2023-07-01",
                     "\"protocolApplied\":[{\"doseNumberPositiveInt\":4}]"),
            RHIS_EINVAL,
            "Immunization.protocolApplied[0].doseNumberPositiveInt");
    refused(IMM,
            imm_json(g_p2, VAX("HepB"), "2023-07-01",
                     "\"protocolApplied\":[{\"doseNumberPositiveInt\":0}]"),
            RHIS_EINVAL,
            "Immunization.protocolApplied[0].doseNumberPositiveInt");
    refused(IMM,
            imm_json(g_p2, VAX("DTaP"), "2023-09-01",
                     "\"protocolApplied\":[{\"doseNumberPositiveInt\":3,"
                     "\"seriesDosesPositiveInt\":2}]"),
            RHIS_EINVAL,
            "Immunization.protocolApplied[0].doseNumberPositiveInt");
    refused(IMM,
            imm_json(g_p2, VAX("HepB"), "2023-07-01",
                     "\"protocolApplied\":[{\"series\":\"基础免疫\"}]"),
            RHIS_EINVAL,
            "Immunization.protocolApplied[0].doseNumberPositiveInt");
    refused(IMM, imm_json(g_p2, VAX("BCG"), "2023-05-01", ""), RHIS_EINVAL,
            "Immunization.occurrenceDateTime"); /* before birth */
    refused(IMM, imm_json(g_p2, VAX("BCG"), "2099-05-01", ""), RHIS_EINVAL,
            "Immunization.occurrenceDateTime");
    refused(IMM,
            imm_json(g_p2, VAX("MMR"), "2024-02-01",
                     "\"expirationDate\":\"2024-01-31\""),
            RHIS_EINVAL, "Immunization.expirationDate");
    refused(
        IMM,
        imm_json(g_p2, VAX("MMR"), "2024-02-01", "\"recorded\":\"2024-01-15\""),
        RHIS_EINVAL, "Immunization.recorded");
    refused(IMM,
            imm_json(g_p2, VAX("MMR"), "2024-02-01",
                     "\"statusReason\":{\"text\":\"发热\"}"),
            RHIS_EINVAL, "Immunization.statusReason");
    refused(IMM,
            imm_json(g_p2, VAX("MMR"), "2024-02-01",
                     "\"performer\":[{\"function\":{\"text\":\"接种\"}}]"),
            RHIS_EINVAL, "Immunization.performer[0].actor");
    refused(IMM,
            imm_json(g_p2, VAX("MMR"), "2024-02-01",
                     J("\"encounter\":{\"reference\":\"Encounter/%lld\"}",
                       (long long)g_enc1)),
            RHIS_EINVAL, "Immunization.encounter");
    refused(IMM,
            J("{\"resourceType\":\"Immunization\",\"status\":\"completed\","
              "\"vaccineCode\":" VAX("BCG") ",\"patient\":{\"reference\":"
                                            "\"Patient/%lld\"}}",
              (long long)g_p2),
            RHIS_EINVAL, "Immunization.occurrenceDateTime");
    refused(
        IMM,
        imm_json(g_p2, VAX("MMR"), "2024-02-01", "\"primarySource\":\"yes\""),
        RHIS_EINVAL, "Immunization.primarySource");
}

/* "出院小结" in UTF-8, base64: 12 bytes */
#define DOC_DATA "5Ye66Zmi5bCP57uT"

static const char *
doc_json(int64_t p, const char *type, const char *attachment, const char *extra)
{
    return J("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
             "\"type\":%s,\"subject\":{\"reference\":\"Patient/%lld\"},"
             "\"date\":\"2024-04-05T10:00:00+08:00\",\"content\":[{"
             "\"attachment\":%s}]%s%s}",
             type, (long long)p, attachment, extra[0] != '\0' ? "," : "",
             extra);
}

static void
document_rows(void **state)
{
    (void)state;
    json_object *out = NULL;
    int64_t id = 0;
    const char *text = doc_json(
        g_p1, LOINC("18842-5"),
        "{\"contentType\":\"text/plain; charset=utf-8\",\"data\":\"" DOC_DATA
        "\",\"title\":\"出院小结 2024-04-05\"}",
        J("\"author\":[{\"reference\":\"Practitioner/%lld\"}],"
          "\"context\":{\"encounter\":[{\"reference\":\"Encounter/%lld\"}]}",
          (long long)g_pract, (long long)g_enc1));
    assert_int_equal(put(DOC, text, 0, &id, &out), RHIS_OK);
    assert_int_equal(
        int_of("SELECT COUNT(*) FROM document_reference WHERE id = ? AND"
               " size = 12 AND content_type = 'text/plain; charset=utf-8'"
               " AND type_code = '18842-5' AND title = '出院小结 2024-04-05'"
               " AND date_ms = 1712282400000",
               id),
        1);
    /* no custodian: the encounter's institution */
    assert_int_equal(
        int_of("SELECT institution_id FROM document_reference WHERE id = ?",
               id),
        g_inst);
    /* the size is filled in, the data kept in the version's JSON */
    const char *json = stored(DOC, id);
    assert_non_null(strstr(json, "\"size\":12"));
    assert_non_null(strstr(json, DOC_DATA));
    json_object_put(out);
    id = created(DOC, doc_json(g_p1, LOINC("11502-2"),
                               "{\"contentType\":\"application/pdf\","
                               "\"url\":\"https://pacs.example.cn/r/1\","
                               "\"size\":102400}",
                               J("\"custodian\":{\"reference\":"
                                 "\"Organization/%lld\"}",
                                 (long long)g_inst2)));
    assert_int_equal(
        int_of("SELECT institution_id FROM document_reference WHERE id = ?",
               id),
        g_inst2);
    assert_int_equal(matches(DOC, J("patient=%lld&type=" RHIS_SYS_LOINC
                                    "|18842-5&date=ge2024-04-05",
                                    (long long)g_p1)),
                     1);
    assert_int_equal(matches(DOC, J("custodian=%lld", (long long)g_inst2)), 1);
}

static void
document_refusals(void **state)
{
    (void)state;
    const char *att =
        "{\"contentType\":\"text/plain\",\"data\":\"" DOC_DATA "\"}";
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"),
                     "{\"contentType\":\"text/plain\",\"data\":"
                     "\"5Ye66Zmi5bCP57u\"}",
                     ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.data");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"),
                     "{\"contentType\":\"text/plain\",\"data\":"
                     "\"5Ye6!Zmi5bCP57uT\"}",
                     ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.data");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"), "{\"data\":\"" DOC_DATA "\"}", ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.contentType");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"),
                     "{\"contentType\":\"text\",\"data\":\"" DOC_DATA "\"}",
                     ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.contentType");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"),
                     "{\"contentType\":\"text/plain\",\"data\":\"" DOC_DATA
                     "\",\"size\":13}",
                     ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.size");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"),
                     "{\"contentType\":\"text/plain\",\"data\":\"" DOC_DATA
                     "\",\"hash\":\"AAAA\"}",
                     ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.hash");
    refused(DOC, doc_json(g_p1, LOINC("18842-5"), "{\"title\":\"x\"}", ""),
            RHIS_EINVAL, "DocumentReference.content[0].attachment.data");
    refused(DOC, doc_json(g_p1, LOINC("8480-6"), att, ""), RHIS_EINVAL,
            "DocumentReference.type.coding[0].code");
    refused(DOC, doc_json(g_p1, "{\"text\":\"出院小结\"}", att, ""),
            RHIS_EINVAL, "DocumentReference.type.coding");
    refused(DOC,
            J("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
              "\"type\":" LOINC("18842-5") ",\"subject\":{\"reference\":"
                                           "\"Patient/%lld\"}}",
              (long long)g_p1),
            RHIS_EINVAL, "DocumentReference.content");
    refused(DOC,
            J("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
              "\"type\":" LOINC(
                  "18842-5") ",\"subject\":{\"reference\":"
                             "\"Patient/"
                             "%lld\"},\"date\":\"2024-04-05\",\"content\":[{"
                             "\"attachment\":%s}]}",
              (long long)g_p1, att),
            RHIS_EINVAL, "DocumentReference.date"); /* an instant */
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"), att,
                     J("\"context\":{\"encounter\":[{\"reference\":"
                       "\"Encounter/%lld\"}]}",
                       (long long)g_enc2)),
            RHIS_EINVAL, "DocumentReference.context.encounter[0]");
    refused(DOC,
            doc_json(g_p1, LOINC("18842-5"), att,
                     "\"custodian\":{\"reference\":\"Organization/999999\"}"),
            RHIS_EINVAL, "DocumentReference.custodian");
    refused(
        DOC,
        J("{\"resourceType\":\"DocumentReference\",\"status\":\"final\","
          "\"type\":" LOINC(
              "18842-5") ",\"subject\":{\"reference\":"
                         "\"Patient/%lld\"},\"content\":[{\"attachment\":%s}]}",
          (long long)g_p1, att),
        RHIS_EINVAL, "DocumentReference.status");
    /* over the cap: 4 MiB + 3 bytes decoded */
    size_t n = ((size_t)4 * 1024 * 1024) / 3 * 4 + 8;
    char *big = rhis_arena_alloc(g_arena, n + 200);
    int k =
        snprintf(big, 200, "{\"contentType\":\"application/pdf\",\"data\":\"");
    assert_true(k > 0);
    memset(big + k, 'A', n);
    (void)snprintf(big + k + n, 100, "\"}");
    char *doc = rhis_arena_alloc(g_arena, n + 1000);
    (void)snprintf(
        doc, n + 1000,
        "{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        "\"type\":" LOINC(
            "18842-5") ",\"subject\":{\"reference\":"
                       "\"Patient/%lld\"},\"content\":[{\"attachment\":%s}]}",
        (long long)g_p1, big);
    refused(DOC, doc, RHIS_ETOOBIG,
            "DocumentReference.content[0].attachment.data");
}

/* Element checks common to every type. */
static void
generic_element_checks(void **state)
{
    (void)state;
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"meta\":{\"tag\":{}}"),
            RHIS_EINVAL, "Observation.meta.tag");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"text\":{\"status\":\"generated\",\"div\":\"hello\"}"),
            RHIS_EINVAL, "Observation.text.div");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"identifier\":[{\"system\":\"urn:oid:1 2\","
                     "\"value\":\"x\"}]"),
            RHIS_EINVAL, "Observation.identifier[0].system");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"identifier\":[{\"use\":\"main\",\"value\":\"x\"}]"),
            RHIS_EINVAL, "Observation.identifier[0].use");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"contained\":[]"),
            RHIS_EINVAL, "Observation.contained");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"modifierExtension\":[]"),
            RHIS_EINVAL, "Observation.modifierExtension");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"language\":\" zh\""),
            RHIS_EINVAL, "Observation.language");
    refused(OBS,
            obs_json(g_p1, LOINC("8867-4"),
                     "\"bodySite\":[{\"text\":"
                     "\"左臂\"}]"),
            RHIS_EINVAL, "Observation.bodySite");
    refused(OBS, obs_json(g_p1, LOINC("8867-4"), "\"performer\":[null]"),
            RHIS_EINVAL, "Observation.performer[0]");
    refused(OBS,
            J("{\"resourceType\":\"Observation\",\"status\":\"final\","
              "\"code\":" LOINC("8867-4") ",\"subject\":\"Patient/%lld\"}",
              (long long)g_p1),
            RHIS_EINVAL, "Observation.subject");
    /* accepted: identifier, meta.profile, narrative */
    created(
        OBS,
        obs_json(g_p1, LOINC("8310-5"),
                 "\"valueQuantity\":" QTY(
                     "36.5",
                     "Cel") ","
                            "\"identifier\":[{\"system\":\"urn:oid:1.2.3\","
                            "\"value\":\"T-1\"}],\"meta\":{\"profile\":["
                            "\"http://hl7.org/fhir/StructureDefinition/"
                            "bodytemp\"]},\"text\":{\"status\":\"generated\","
                            "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/"
                            "xhtml\\\">36.5 ℃</div>\"}"));
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(icd10_shapes),
        cmocka_unit_test(loinc_check_digits),
        cmocka_unit_test(fhir_times),
        cmocka_unit_test(base64_sizes),
        cmocka_unit_test(code_tables_load),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(encounter_rows),
        cmocka_unit_test(encounter_refusals),
        cmocka_unit_test(encounter_institution_scope),
        cmocka_unit_test(condition_rows),
        cmocka_unit_test(condition_refusals),
        cmocka_unit_test(observation_decimals_keep_their_text),
        cmocka_unit_test(observation_blood_pressure),
        cmocka_unit_test(observation_blood_pressure_refusals),
        cmocka_unit_test(observation_refusals),
        cmocka_unit_test(observation_context),
        cmocka_unit_test(immunization_rows),
        cmocka_unit_test(immunization_refusals),
        cmocka_unit_test(document_rows),
        cmocka_unit_test(document_refusals),
        cmocka_unit_test(generic_element_checks),
    };
    g_arena = rhis_arena_new();
    int failed =
        cmocka_run_group_tests_name("ehr: codes and checker", pure, NULL, NULL);
    rhis_arena_free(g_arena);
    g_arena = NULL;
    return failed + rhis_test_run_engines("ehr", db, sizeof(db) / sizeof(db[0]),
                                          group_setup, group_teardown);
}
