/*
 * test_patient.c - unit tests for residents as FHIR Patient
 * (src/registry/patient.c): the checks before a Patient is stored, the
 * typed rows it becomes, the search parameters' SQL and list masking.
 *
 * Why: a mistyped ID number or a second record for the same resident
 * costs every later match of the master patient index, and a list that
 * leaks ID numbers is a disclosure.  Every refusal must name the element
 * (OperationOutcome expression) and write nothing.  The cases run on
 * SQLite and, when RHIS_TEST_PG_URL is set, on PostgreSQL
 * (tests/testutil.h), through the store engine (rhis_fhir_do_create /
 * _update) as transactions and the CLI importer use it.
 */
#include "testutil.h"

#include "rhis/fhirstore.h"
#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/mpi.h"
#include "rhis/patient.h"

/* The index may not be linked in yet: see src/registry/patient.c. */
#pragma weak rhis_mpi_global_reset

static rhis_db *g_db;
static rhis_arena *g_arena;
static rhis_fhir_ctx g_c;
static int64_t g_inst; /* institution YJ-RMYY */

/* A valid ID number: area (6), birth YYYYMMDD, sequence (3) + check. */
static const char *
idnum(const char *area, const char *birth, const char *seq)
{
    static char buf[4][RHIS_IDNUM_LEN + 1];
    static int k;
    char *out = buf[k++ % 4];
    (void)snprintf(out, RHIS_IDNUM_LEN + 1, "%s%s%s?", area, birth, seq);
    out[17] = rhis_idnum_check_char(out);
    return out;
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

/* Creates (id 0) or updates the Patient in text in a transaction of its
 * own; the outcome is in g_c.  *out (may be NULL) gets the stored JSON
 * (a new reference). */
static rhis_status
put_json(const char *text, int64_t id, int64_t *out_id, json_object **out)
{
    json_object *res = parse(text);
    int64_t version = 0, nid = id;
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    rhis_status rc = id == 0 ? rhis_fhir_do_create(&g_c, &rhis_type_patient,
                                                   res, &nid, &version)
                             : rhis_fhir_do_update(&g_c, &rhis_type_patient, id,
                                                   res, -1, &version);
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
create_ok(const char *text)
{
    int64_t id = 0;
    rhis_status rc = put_json(text, 0, &id, NULL);
    if (rc != RHIS_OK)
        print_error("%s: create failed: %s (%s)\n",
                    rhis_test_engine_cur()->name, g_c.err_text, g_c.err_expr);
    assert_int_equal(rc, RHIS_OK);
    assert_true(id > 0);
    return id;
}

/* Expects text to be refused with st at expr, the message containing
 * part, and nothing written. */
static void
refused(const char *text, rhis_status st, const char *expr, const char *part)
{
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM patient");
    int64_t ids = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM"
                                         " patient_identifier");
    rhis_status rc = put_json(text, 0, NULL, NULL);
    if (rc != st || strcmp(g_c.err_expr, expr) != 0 ||
        strstr(g_c.err_text, part) == NULL)
        print_error("%s: got %d '%s' at '%s'; want %d '%s' at '%s'\n",
                    rhis_test_engine_cur()->name, (int)rc, g_c.err_text,
                    g_c.err_expr, (int)st, part, expr);
    assert_int_equal(rc, st);
    assert_string_equal(g_c.err_expr, expr);
    assert_non_null(strstr(g_c.err_text, part));
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM patient"),
                     before);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM"
                                            " patient_identifier"),
                     ids);
}

/* Identifier rows of patient id (of system sys, or all when NULL). */
static int64_t
count_identifiers(int64_t id, const char *sys)
{
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &n,
                            "SELECT COUNT(*) FROM patient_identifier"
                            " WHERE patient_id = ? AND (CAST(? AS TEXT) IS"
                            " NULL OR system = ?)",
                            "iss", id, sys, sys));
    return n;
}

static const char *fmt(const char *f, ...)
    __attribute__((format(printf, 1, 2)));

static const char *
fmt(const char *f, ...)
{
    static char ring[4][4096];
    static int k;
    char buf[4096];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    char *out = ring[k++ % 4];
    memcpy(out, buf, (size_t)n + 1);
    return out;
}

#define IDSYS "\"system\": \"" RHIS_SYS_IDNUM "\""
#define EXT   RHIS_EXT_BASE

/* ---- pure helpers ---- */

static void
phone_numbers_mobile_and_landline(void **state)
{
    (void)state;
    assert_true(rhis_patient_phone_valid("13812345678"));
    assert_true(rhis_patient_phone_valid("19900001111"));
    assert_true(rhis_patient_phone_valid("0432-64201234"));
    assert_true(rhis_patient_phone_valid("043264201234"));
    assert_true(rhis_patient_phone_valid("010-6512345"));
    assert_false(rhis_patient_phone_valid("12812345678"));  /* 12x */
    assert_false(rhis_patient_phone_valid("1381234567"));   /* 10 digits */
    assert_false(rhis_patient_phone_valid("138123456789")); /* 12 digits */
    assert_false(rhis_patient_phone_valid("1381234567a"));
    assert_false(rhis_patient_phone_valid("64201234")); /* no area code */
    assert_false(rhis_patient_phone_valid("0432-0420123"));
    assert_false(rhis_patient_phone_valid("+8613812345678"));
    assert_false(rhis_patient_phone_valid(""));
    assert_false(rhis_patient_phone_valid(NULL));
}

static void
phone_mask_keeps_three_and_four(void **state)
{
    char out[32];
    (void)state;
    rhis_patient_mask_phone("13812345678", out, sizeof(out));
    assert_string_equal(out, "138****5678");
    rhis_patient_mask_phone("0432-64201234", out, sizeof(out));
    assert_string_equal(out, "043******1234");
    rhis_patient_mask_phone("1234567", out, sizeof(out));
    assert_string_equal(out, "****");
    rhis_patient_mask_phone(NULL, out, sizeof(out));
    assert_string_equal(out, "****");
    /* too long for out: stars, never a cut number */
    rhis_patient_mask_phone("13812345678", out, 8);
    assert_string_equal(out, "****");
}

static void
gender_codes_both_ways(void **state)
{
    (void)state;
    assert_int_equal(rhis_patient_sex_of("male"), 'M');
    assert_int_equal(rhis_patient_sex_of("female"), 'F');
    assert_int_equal(rhis_patient_sex_of("other"), 'O');
    assert_int_equal(rhis_patient_sex_of("unknown"), 'U');
    assert_int_equal(rhis_patient_sex_of("Male"), 0);
    assert_int_equal(rhis_patient_sex_of(NULL), 0);
    assert_string_equal(rhis_patient_gender_of('F'), "female");
    assert_null(rhis_patient_gender_of('X'));
}

static void
mask_hides_idnum_and_phone_and_drops_text(void **state)
{
    (void)state;
    json_object *r = parse(fmt(
        "{\"resourceType\": \"Patient\","
        " \"text\": {\"status\": \"generated\", \"div\": \"<div>%s</div>\"},"
        " \"identifier\": [{" IDSYS ", \"value\": \"%s\"},"
        "  {\"system\": \"" RHIS_SYS_HEALTHCARD "\", \"value\": \"HC1\"}],"
        " \"telecom\": [{\"system\": \"phone\", \"value\": \"13812345678\"},"
        "  {\"system\": \"email\", \"value\": \"wl@example.cn\"}],"
        " \"contact\": [{\"telecom\": [{\"system\": \"sms\","
        "  \"value\": \"13900001111\"}]}]}",
        idnum("220221", "19850312", "002"),
        idnum("220221", "19850312", "002")));
    rhis_patient_mask(r);
    json_object *ids = rhis_json_get(r, "identifier");
    const char *v =
        rhis_json_get_str(json_object_array_get_idx(ids, 0), "value");
    assert_string_equal(
        v, fmt("220221********%.4s", idnum("220221", "19850312", "002") + 14));
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(ids, 1), "value"), "HC1");
    json_object *tel = rhis_json_get(r, "telecom");
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(tel, 0), "value"),
        "138****5678");
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(tel, 1), "value"),
        "wl@example.cn");
    assert_null(rhis_json_get(r, "text"));
    json_object *ct = rhis_json_get(
        json_object_array_get_idx(rhis_json_get(r, "contact"), 0), "telecom");
    assert_string_equal(
        rhis_json_get_str(json_object_array_get_idx(ct, 0), "value"),
        "139****1111");
    json_object_put(r);
}

static void
redact_depends_on_role(void **state)
{
    (void)state;
    const char *text =
        "{\"resourceType\": \"Patient\","
        " \"telecom\": [{\"system\": \"phone\", \"value\": \"13812345678\"}]}";
    rhis_principal p;
    rhis_fhir_ctx c;
    memset(&p, 0, sizeof(p));
    memset(&c, 0, sizeof(c));
    c.user = &p;
    static const unsigned full[] = {RHIS_ROLE_ADMIN, RHIS_ROLE_INTEGRATOR};
    static const unsigned masked[] = {RHIS_ROLE_CLINICIAN, RHIS_ROLE_CDC,
                                      RHIS_ROLE_FAMILY_DOCTOR,
                                      RHIS_ROLE_RESIDENT};
    for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        json_object *r = parse(text);
        p.role = full[i];
        rhis_type_patient.redact(&c, r);
        assert_string_equal(
            rhis_json_get_str(
                json_object_array_get_idx(rhis_json_get(r, "telecom"), 0),
                "value"),
            "13812345678");
        json_object_put(r);
    }
    for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
        json_object *r = parse(text);
        p.role = masked[i];
        rhis_type_patient.redact(&c, r);
        assert_string_equal(
            rhis_json_get_str(
                json_object_array_get_idx(rhis_json_get(r, "telecom"), 0),
                "value"),
            "138****5678");
        json_object_put(r);
    }
}

/* ---- the store, on a database ---- */

static int
group_setup(void **state)
{
    (void)state;
    if (rhis_mpi_global_reset != NULL)
        rhis_mpi_global_reset();
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    g_arena = rhis_arena_new();
    static const char *const areas[][4] = {
        {"22", "吉林省", "1", NULL},
        {"2202", "吉林市", "2", "22"},
        {"220221", "永吉县", "3", "2202"},
        {"220221100", "口前镇", "4", "220221"},
        {"220221101", "双河镇", "4", "220221"},
        {"220221100001", "河北社区", "5", "220221100"},
        {"220221100200", "歪头村", "5", "220221100"},
        {"220221101201", "双河村", "5", "220221101"},
    };
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        if (rhis_db_run(g_db,
                        "INSERT INTO area (code, name, level, parent_code,"
                        " edition) VALUES (?, ?, ?, ?, '2023')",
                        "ssis", areas[i][0], areas[i][1],
                        (int64_t)(areas[i][2][0] - '0'),
                        areas[i][3]) != RHIS_OK)
            return -1;
    if (rhis_db_run(g_db,
                    "INSERT INTO institution (code, name, tier, ownership,"
                    " area_code, updated_at) VALUES ('YJ-RMYY',"
                    " '永吉县人民医院', 'county_hospital', 'public',"
                    " '220221', 0)",
                    "") != RHIS_OK ||
        rhis_db_scalar_int64(g_db, &g_inst,
                             "SELECT id FROM institution"
                             " WHERE code = 'YJ-RMYY'",
                             "") != RHIS_OK)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    rhis_arena_free(g_arena);
    g_arena = NULL;
    if (rhis_mpi_global_reset != NULL)
        rhis_mpi_global_reset();
    return 0;
}

static void
text_name_gets_pinyin_and_typed_row(void **state)
{
    (void)state;
    int64_t id = create_ok(fmt(
        "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"王丽\"}],"
        " \"gender\": \"female\", \"birthDate\": \"1985-03-12\","
        " \"telecom\": [{\"system\": \"phone\", \"value\": \"13812345678\"}],"
        " \"address\": [{\"text\": \"口前镇河北社区朝阳街12号\","
        "   \"extension\": [{\"url\": \"" EXT "address-division\","
        "                    \"valueCode\": \"220221100001\"}]}],"
        " \"extension\": [{\"url\": \"" EXT "household\","
        "                  \"valueString\": \"2202211000010042\"}],"
        " \"managingOrganization\": {\"reference\": \"Organization/%lld\"}}",
        (long long)g_inst));
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_string_equal(p.name, "王丽");
    assert_string_equal(p.name_pinyin, "wang li");
    assert_string_equal(p.family, "");
    assert_int_equal(p.sex, 'F');
    assert_string_equal(p.birth_date, "1985-03-12");
    assert_true(p.has_birth);
    assert_int_equal(p.birth_ms, 479433600000LL); /* 1985-03-12T00:00Z */
    assert_string_equal(p.phone, "13812345678");
    assert_string_equal(p.area_code, "220221100001");
    assert_string_equal(p.address_line, "口前镇河北社区朝阳街12号");
    assert_string_equal(p.household, "2202211000010042");
    assert_string_equal(p.id_number, "");
    assert_int_equal(p.active, 1);
    assert_false(p.deceased);
    assert_int_equal(p.merged_into, 0);
    assert_int_equal(p.institution_id, g_inst);
    assert_int_equal(p.version, 1);
    assert_int_equal(p.deleted, 0);
    /* the version row holds the JSON as served */
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version"
                                            " WHERE type = 'Patient'"),
                     rhis_test_scalar(g_db, "SELECT COUNT(*) FROM patient"));
}

static void
family_and_given_are_joined_in_chinese_order(void **state)
{
    (void)state;
    int64_t id = create_ok(
        "{\"resourceType\": \"Patient\","
        " \"name\": [{\"family\": \"欧阳\", \"given\": [\"娜\", \"娜\"]}],"
        " \"gender\": \"female\", \"birthDate\": \"1990-07\"}");
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_string_equal(p.name, "欧阳娜娜");
    assert_string_equal(p.family, "欧阳");
    assert_string_equal(p.given, "娜娜");
    assert_string_equal(p.name_pinyin, "ou yang na na");
    /* a partial birthDate starts at its first day */
    assert_string_equal(p.birth_date, "1990-07");
    assert_int_equal(p.birth_ms, 646790400000LL); /* 1990-07-01T00:00Z */
    /* Latin names keep a space between words */
    id = create_ok("{\"resourceType\": \"Patient\","
                   " \"name\": [{\"family\": \"Smith\", \"given\": [\"Anna\","
                   " \"Lee\"]}], \"gender\": \"female\","
                   " \"birthDate\": \"1979\"}");
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_string_equal(p.name, "Smith Anna Lee");
    assert_string_equal(p.name_pinyin, "smith anna lee");
}

static void
id_number_fills_birth_date_and_is_normalised(void **state)
{
    (void)state;
    char id18[RHIS_IDNUM_LEN + 1];
    /* a female number whose check character is X, typed lower-case */
    const char *seq[] = {"002", "004", "006", "008", "010", "012", "014"};
    id18[0] = '\0';
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        const char *n = idnum("220221", "19620708", seq[i]);
        if (n[17] == 'X') {
            memcpy(id18, n, sizeof(id18));
            break;
        }
    }
    assert_int_equal(strlen(id18), 18);
    id18[17] = 'x';
    json_object *res = NULL;
    int64_t id = 0;
    rhis_status rc =
        put_json(fmt("{\"resourceType\": \"Patient\", \"name\": [{\"text\": "
                     "\"张桂兰\"}],"
                     " \"gender\": \"female\","
                     " \"identifier\": [{" IDSYS ", \"value\": \" %s\"}]}",
                     id18),
                 0, &id, &res);
    assert_int_equal(rc, RHIS_OK);
    id18[17] = 'X';
    assert_string_equal(rhis_json_get_str(res, "birthDate"), "1962-07-08");
    assert_string_equal(
        rhis_json_get_str(
            json_object_array_get_idx(rhis_json_get(res, "identifier"), 0),
            "value"),
        id18);
    json_object_put(res);
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_string_equal(p.id_number, id18);
    assert_string_equal(p.birth_date, "1962-07-08");
    assert_int_equal(count_identifiers(id, RHIS_SYS_IDNUM), 1);
}

#define TMPL1                                                                  \
    "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"王丽\"}],"      \
    " \"gender\": \"%s\", %s"                                                  \
    " \"identifier\": [{\"system\": \"" RHIS_SYS_HEALTHCARD "\","              \
    " \"value\": \"HC-%s\"}, {" IDSYS ", \"value\": \"%s\"}]}"

static void
id_number_faults_are_named(void **state)
{
    (void)state;
    const char *good = idnum("220221", "19850312", "002"); /* female */
    char badcheck[RHIS_IDNUM_LEN + 1];
    memcpy(badcheck, good, sizeof(badcheck));
    badcheck[17] = badcheck[17] == '0' ? '1' : '0';
    const char *ex = "Patient.identifier[1].value";
    refused(fmt(TMPL1, "female", "", "a", badcheck), RHIS_EINVAL, ex,
            "check character");
    refused(fmt(TMPL1, "female", "", "b", idnum("220221", "19850230", "002")),
            RHIS_EINVAL, ex, "1985-02-30 is not a date");
    refused(fmt(TMPL1, "female", "", "c", "22022119850312002"), RHIS_EINVAL, ex,
            "18 characters");
    refused(fmt(TMPL1, "male", "", "d", good), RHIS_EINVAL, ex,
            "is that of a female, but Patient.gender is male");
    refused(fmt(TMPL1, "female", "\"birthDate\": \"1985-03-21\",", "e", good),
            RHIS_EINVAL, ex,
            "ID number birth date 1985-03-12 does not agree with "
            "Patient.birthDate 1985-03-21");
    refused(fmt(TMPL1, "female", "\"birthDate\": \"1986\",", "f", good),
            RHIS_EINVAL, ex, "does not agree");
    /* gender unknown or other is not checked against the number */
    create_ok(fmt(TMPL1, "unknown", "\"birthDate\": \"1985-03\",", "g", good));
}

#define TMPL2                                                                  \
    "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"%s\"}],"          \
    " \"gender\": \"male\", \"identifier\": [{" IDSYS ","                      \
    " \"value\": \"%s\"}]}"

static void
duplicate_id_number_names_the_resident(void **state)
{
    (void)state;
    const char *n = idnum("220221", "19700101", "131");
    int64_t first = create_ok(fmt(TMPL2, "李建国", n));
    refused(fmt(TMPL2, "李健国", n), RHIS_ECONFLICT,
            "Patient.identifier[0].value",
            fmt("already registered: Patient/%lld", (long long)first));
    /* updating the first with its own number is not a duplicate */
    int64_t got = 0;
    assert_int_equal(
        put_json(fmt("{\"resourceType\": \"Patient\", \"id\": \"%lld\","
                     " \"name\": [{\"text\": \"李建国\"}],"
                     " \"gender\": \"male\", \"identifier\": [{" IDSYS ","
                     " \"value\": \"%s\"}]}",
                     (long long)first, n),
                 first, &got, NULL),
        RHIS_OK);
    /* a deleted resident's number may be registered again */
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(g_db,
                  rhis_fhir_do_delete(&g_c, &rhis_type_patient, first, NULL));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    create_ok(fmt(TMPL2, "李建国", n));
}

#define TMPL3                                                                  \
    "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"%s\"}],"          \
    " \"gender\": \"male\", \"birthDate\": \"2010-01-15\","                    \
    " \"identifier\": [{\"system\": \"" RHIS_SYS_MRN_PREFIX "%s\","            \
    " \"value\": \"%s\"},"                                                     \
    " {\"system\": \"" RHIS_SYS_INSURANCE "\", \"value\": \"%s\"},"            \
    " {\"system\": \"" RHIS_SYS_MRN_PREFIX "%s\", \"value\": \"%s\"}]}"

static void
identifiers_go_to_their_table_and_conflict_per_system(void **state)
{
    (void)state;
    int64_t id = create_ok(fmt(TMPL3, "赵小宝", "YJ-RMYY", "MRN-0001", "INS-77",
                               "YJ-RMYY", "MRN-0001"));
    /* the repeated identifier is stored once */
    assert_int_equal(count_identifiers(id, NULL), 2);
    /* the same MRN of the same hospital for someone else */
    refused(fmt(TMPL3, "钱多多", "YJ-RMYY", "MRN-0002", "INS-78", "YJ-RMYY",
                "MRN-0001"),
            RHIS_ECONFLICT, "Patient.identifier[2].value",
            fmt("already belongs to Patient/%lld", (long long)id));
    /* an MRN system must name a known institution */
    refused(fmt(TMPL3, "钱多多", "NO-SUCH", "MRN-0002", "INS-78", "YJ-RMYY",
                "MRN-0003"),
            RHIS_EINVAL, "Patient.identifier[0].system",
            "'NO-SUCH', which is not a known institution");
    /* system and value are required */
    refused(
        "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"钱多多\"}],"
        " \"gender\": \"male\", \"birthDate\": \"2010-01-15\","
        " \"identifier\": [{\"value\": \"X1\"}]}",
        RHIS_EINVAL, "Patient.identifier[0].system",
        "needs a system and a value");
    refused(
        "{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"钱多多\"}],"
        " \"gender\": \"male\", \"birthDate\": \"2010-01-15\","
        " \"identifier\": [{\"system\": \"urn:x\"}]}",
        RHIS_EINVAL, "Patient.identifier[0].value",
        "needs a system and a value");
    /* an update replaces the identifier rows */
    int64_t got;
    assert_int_equal(
        put_json(fmt("{\"resourceType\": \"Patient\", \"id\": \"%lld\","
                     " \"name\": [{\"text\": \"赵小宝\"}],"
                     " \"gender\": \"male\", \"birthDate\": \"2010-01-15\","
                     " \"identifier\": [{\"system\": \"" RHIS_SYS_INSURANCE
                     "\", \"value\": \"INS-77\"}]}",
                     (long long)id),
                 id, &got, NULL),
        RHIS_OK);
    assert_int_equal(count_identifiers(id, NULL), 1);
    /* so the MRN is free again */
    create_ok(fmt(TMPL3, "钱多多", "YJ-RMYY", "MRN-0002", "INS-78", "YJ-RMYY",
                  "MRN-0001"));
}

static void
unknown_and_mistyped_elements_are_refused(void **state)
{
    (void)state;
    const char *base = "\"resourceType\": \"Patient\","
                       " \"name\": [{\"text\": \"孙悟\"}],"
                       " \"gender\": \"male\", \"birthDate\": \"1988-08-08\"";
    refused(fmt("{%s, \"nickname\": \"猴子\"}", base), RHIS_EINVAL,
            "Patient.nickname", "unknown element 'nickname' in Patient");
    refused(fmt("{%s, \"telecom\": [{\"system\": \"phone\","
                " \"value\": \"13812345678\", \"kind\": \"x\"}]}",
                base),
            RHIS_EINVAL, "Patient.telecom[0].kind", "unknown element 'kind'");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"孙悟\"}],"
            " \"gender\": 1, \"birthDate\": \"1988-08-08\"}",
            RHIS_EINVAL, "Patient.gender", "must be a code");
    refused("{\"resourceType\": \"Patient\", \"name\": {\"text\": \"孙悟\"},"
            " \"gender\": \"male\", \"birthDate\": \"1988-08-08\"}",
            RHIS_EINVAL, "Patient.name", "must be an array");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"孙悟\"}],"
            " \"gender\": \"male\", \"birthDate\": \"08/08/1988\"}",
            RHIS_EINVAL, "Patient.birthDate", "must be a date");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"孙悟\"}],"
            " \"gender\": \"male\", \"birthDate\": \"1988-02-30\"}",
            RHIS_EINVAL, "Patient.birthDate", "must be a date");
    refused(fmt("{%s, \"active\": \"yes\"}", base), RHIS_EINVAL,
            "Patient.active", "must be a boolean");
    refused(fmt("{%s, \"multipleBirthInteger\": 1.5}", base), RHIS_EINVAL,
            "Patient.multipleBirthInteger", "must be an integer");
    refused(fmt("{%s, \"identifier\": []}", base), RHIS_EINVAL,
            "Patient.identifier", "empty array");
    refused(fmt("{%s, \"address\": [{\"city\": null}]}", base), RHIS_EINVAL,
            "Patient.address[0].city", "is null");
    refused(fmt("{%s, \"modifierExtension\": [{\"url\": \"urn:x\","
                " \"valueBoolean\": true}]}",
                base),
            RHIS_EINVAL, "Patient.modifierExtension", "not supported");
    refused(fmt("{%s, \"extension\": [{\"url\": \"urn:x\"}]}", base),
            RHIS_EINVAL, "Patient.extension[0]", "exactly one value[x]");
    refused(fmt("{%s, \"extension\": [{\"url\": \"urn:x\", \"valueInteger\":"
                " \"7\"}]}",
                base),
            RHIS_EINVAL, "Patient.extension[0].valueInteger",
            "must be an integer");
    refused(fmt("{%s, \"link\": [{\"type\": \"seealso\"}]}", base), RHIS_EINVAL,
            "Patient.link[0]",
            "Patient.link[0].other is "
            "required");
    refused(fmt("{%s, \"_birthDate\": {\"foo\": 1}}", base), RHIS_EINVAL,
            "Patient._birthDate.foo", "unknown element 'foo'");
    refused(fmt("{%s, \"deceasedBoolean\": true,"
                " \"deceasedDateTime\": \"2020-01-01\"}",
                base),
            RHIS_EINVAL, "Patient.deceasedDateTime", "not both");
    refused(fmt("{%s, \"deceasedDateTime\": \"1980-01-01\"}", base),
            RHIS_EINVAL, "Patient.deceasedDateTime", "before birthDate");
    refused(fmt("{%s, \"deceasedDateTime\": \"2020-01-01T10:00\"}", base),
            RHIS_EINVAL, "Patient.deceasedDateTime", "must be a dateTime");
    /* the unmapped elements of R4 are accepted and kept */
    json_object *res = NULL;
    int64_t id = 0;
    assert_int_equal(
        put_json(fmt("{%s, \"maritalStatus\": {\"coding\": [{\"system\":"
                     " \"http://terminology.hl7.org/CodeSystem/v3-"
                     "MaritalStatus\", \"code\": \"M\"}]},"
                     " \"multipleBirthBoolean\": false,"
                     " \"_birthDate\": {\"extension\": [{\"url\": \"urn:t\","
                     "   \"valueDateTime\": \"1988-08-08T08:08:00+08:00\"}]},"
                     " \"deceasedDateTime\": \"2023-05-01T06:30:00+08:00\","
                     " \"communication\": [{\"language\": {\"coding\":"
                     "   [{\"system\": \"urn:ietf:bcp:47\", \"code\":"
                     "   \"zh-CN\"}]}, \"preferred\": true}],"
                     " \"contact\": [{\"name\": {\"text\": \"孙大圣\"},"
                     "   \"telecom\": [{\"system\": \"phone\","
                     "   \"value\": \"13900001111\"}]}]}",
                     base),
                 0, &id, &res),
        RHIS_OK);
    assert_non_null(rhis_json_get(res, "maritalStatus"));
    json_object_put(res);
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_true(p.deceased);
    assert_int_equal(p.deceased_ms, 1682893800000LL); /* 2023-04-30T22:30Z */
}

static void
required_elements_are_named(void **state)
{
    (void)state;
    refused("{\"resourceType\": \"Patient\", \"gender\": \"male\","
            " \"birthDate\": \"1988-08-08\"}",
            RHIS_EINVAL, "Patient.name", "Patient.name is required");
    refused(
        "{\"resourceType\": \"Patient\", \"name\": [{\"use\": \"official\"}],"
        " \"gender\": \"male\", \"birthDate\": \"1988-08-08\"}",
        RHIS_EINVAL, "Patient.name[0]", "needs text, or family");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"周杰\"}],"
            " \"birthDate\": \"1988-08-08\"}",
            RHIS_EINVAL, "Patient.gender", "Patient.gender is required");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"周杰\"}],"
            " \"gender\": \"man\", \"birthDate\": \"1988-08-08\"}",
            RHIS_EINVAL, "Patient.gender", "male, female, other or unknown");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"周杰\"}],"
            " \"gender\": \"male\"}",
            RHIS_EINVAL, "Patient.birthDate",
            "needs a birthDate or a valid resident ID number");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"周杰\"}],"
            " \"gender\": \"male\", \"birthDate\": \"2999-01-01\"}",
            RHIS_EINVAL, "Patient.birthDate", "in the future");
    refused("{\"resourceType\": \"Patient\", \"name\": [{\"text\": \"周杰\"}],"
            " \"gender\": \"male\", \"birthDate\": \"1988-08-08\","
            " \"telecom\": [{\"system\": \"phone\", \"value\": \"12345\"}]}",
            RHIS_EINVAL, "Patient.telecom[0].value", "11-digit mobile");
}

#define TMPL4                                                                  \
    "{\"resourceType\": \"Patient\","                                          \
    " \"name\": [{\"text\": \"吴敏\"}],"                                     \
    " \"gender\": \"female\", \"birthDate\": \"1995-05-05\","                  \
    " %s}"

static void
codes_and_references_must_exist(void **state)
{
    (void)state;
    refused(fmt(TMPL4,
                "\"address\": [{\"extension\": [{\"url\": \"" EXT
                "address-division\", \"valueCode\": \"220221100999\"}]}]"),
            RHIS_EINVAL, "Patient.address[0].extension[0].valueCode",
            "'220221100999' is not a known area");
    refused(fmt(TMPL4, "\"address\": [{\"extension\": [{\"url\": \"" EXT
                       "address-division\", \"valueString\": \"220221\"}]}]"),
            RHIS_EINVAL, "Patient.address[0].extension[0].valueCode",
            "needs a valueCode");
    refused(fmt(TMPL4, "\"managingOrganization\": {\"reference\":"
                       " \"Organization/999999\"}"),
            RHIS_EINVAL, "Patient.managingOrganization", "does not exist");
    refused(fmt(TMPL4, "\"link\": [{\"other\": {\"reference\":"
                       " \"Patient/999999\"}, \"type\": \"replaced-by\"}]"),
            RHIS_EINVAL, "Patient.link[0].other", "does not exist");
    refused(fmt(TMPL4, "\"extension\": [{\"url\": \"" EXT "ethnicity\","
                       " \"valueCoding\": {\"system\": \"" RHIS_SYS_ETHNICITY
                       "\", \"code\": \"57\"}}]"),
            RHIS_EINVAL, "Patient.extension[0].valueCoding.code", "01..56");
    refused(fmt(TMPL4, "\"extension\": [{\"url\": \"" EXT "religion\","
                       " \"valueString\": \"x\"}]"),
            RHIS_EINVAL, "Patient.extension[0].url", "not defined on Patient");
    /* a township code is a known area too; ethnicity gets its display */
    json_object *res = NULL;
    int64_t id = 0;
    assert_int_equal(
        put_json(fmt(TMPL4,
                     "\"address\": [{\"line\": [\"双河镇\", \"双河村3组\"],"
                     " \"extension\": [{\"url\": \"" EXT
                     "address-division\", \"valueCode\": \"220221101\"}]}],"
                     " \"extension\": [{\"url\": \"" EXT "ethnicity\","
                     " \"valueCoding\": {\"system\": \"" RHIS_SYS_ETHNICITY
                     "\", \"code\": \"10\"}}]"),
                 0, &id, &res),
        RHIS_OK);
    json_object *cd = rhis_json_get(
        json_object_array_get_idx(rhis_json_get(res, "extension"), 0),
        "valueCoding");
    assert_string_equal(rhis_json_get_str(cd, "display"), "朝鲜族");
    json_object_put(res);
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, id, &p));
    assert_string_equal(p.area_code, "220221101");
    assert_string_equal(p.address_line, "双河镇双河村3组");
    assert_string_equal(p.ethnicity, "10");
}

#define TMPL5                                                                  \
    "{\"resourceType\": \"Patient\", %s \"name\": [{\"text\": \"%s\"}],"       \
    " \"gender\": \"male\", \"identifier\": [{" IDSYS ","                      \
    " \"value\": \"%s\"}]%s}"

static void
replaced_by_link_sets_merged_into(void **state)
{
    (void)state;
    const char *n = idnum("220221", "19560606", "211");
    int64_t survivor = create_ok(fmt(TMPL5, "", "陈志强", n, ""));
    /* a record merged into the survivor may keep the same number */
    int64_t merged = create_ok(
        fmt(TMPL5, "", "陈志墙", n,
            fmt(", \"active\": false, \"link\": [{\"other\": {\"reference\":"
                " \"Patient/%lld\"}, \"type\": \"replaced-by\"}]",
                (long long)survivor)));
    rhis_patient p;
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, merged, &p));
    assert_int_equal(p.merged_into, survivor);
    assert_int_equal(p.active, 0);
    /* the survivor records what it replaces */
    int64_t got;
    assert_int_equal(
        put_json(fmt(TMPL5, fmt("\"id\": \"%lld\",", (long long)survivor),
                     "陈志强", n,
                     fmt(", \"link\": [{\"other\": {\"reference\":"
                         " \"Patient/%lld\"}, \"type\": \"replaces\"}]",
                         (long long)merged)),
                 survivor, &got, NULL),
        RHIS_OK);
    RHIS_CHECK_OK(g_db, rhis_patient_load(g_db, survivor, &p));
    assert_int_equal(p.merged_into, 0);
    assert_int_equal(p.version, 2);
    /* not to itself */
    assert_int_equal(
        put_json(fmt(TMPL5, fmt("\"id\": \"%lld\",", (long long)survivor),
                     "陈志强", n,
                     fmt(", \"link\": [{\"other\": {\"reference\":"
                         " \"Patient/%lld\"}, \"type\": \"replaced-by\"}]",
                         (long long)survivor)),
                 survivor, &got, NULL),
        RHIS_EINVAL);
    assert_string_equal(g_c.err_expr, "Patient.link[0].other");
}

/* Runs the search query q on Patient: the number of matches. */
static int
matches(const char *q)
{
    int n = -1;
    int64_t id;
    rhis_fhir_ctx_cli(&g_c, g_db, g_arena);
    rhis_status rc = rhis_fhir_do_match(&g_c, &rhis_type_patient, q, &n, &id);
    if (rc != RHIS_OK)
        print_error("%s: %s: %s\n", rhis_test_engine_cur()->name, q,
                    g_c.err_text);
    assert_int_equal(rc, RHIS_OK);
    return n;
}

static void
search_parameters_run_on_both_engines(void **state)
{
    (void)state;
    const char *n = idnum("220221", "19991231", "024");
    create_ok(fmt(
        "{\"resourceType\": \"Patient\", \"name\": [{\"family\": \"郑\","
        " \"given\": [\"晓燕\"]}], \"gender\": \"female\","
        " \"identifier\": [{" IDSYS ", \"value\": \"%s\"},"
        "  {\"system\": \"" RHIS_SYS_HEALTHCARD "\", \"value\": \"HC-ZXY-9\"}],"
        " \"telecom\": [{\"system\": \"phone\", \"value\": \"13512340000\"}],"
        " \"address\": [{\"extension\": [{\"url\": \"" EXT "address-division\","
        "   \"valueCode\": \"220221100200\"}]}],"
        " \"managingOrganization\": {\"reference\": \"Organization/%lld\"}}",
        n, (long long)g_inst));
    assert_int_equal(matches(fmt("identifier=%s", n)), 1);
    assert_int_equal(matches(fmt("identifier=" RHIS_SYS_IDNUM "|%s", n)), 1);
    assert_int_equal(matches("identifier=" RHIS_SYS_HEALTHCARD "|HC-ZXY-9"), 1);
    assert_int_equal(matches("identifier=" RHIS_SYS_INSURANCE "|HC-ZXY-9"), 0);
    assert_int_equal(matches("name=%E9%83%91%E6%99%93&birthdate=1999-12-31"),
                     1); /* 郑晓 */
    assert_int_equal(matches("name=%E9%83%91&birthdate=1999-12-30"), 0);
    assert_int_equal(matches("family=%E9%83%91&gender=female"), 1);
    assert_int_equal(matches("family=%E9%83%91&gender=male"), 0);
    assert_int_equal(matches("gender=http://hl7.org/fhir/"
                             "administrative-gender|female&family=%E9%83%91"),
                     1);
    assert_int_equal(matches("name-pinyin=ZhengXiao"), 1);
    assert_int_equal(matches("name-pinyin=zheng%20xiaoyan"), 1);
    assert_int_equal(matches("name-pinyin=zhengxiaoyang"), 0);
    assert_int_equal(matches("phone=13512340000"), 1);
    assert_int_equal(matches("address-division=220221100&family=%E9%83%91"), 1);
    assert_int_equal(matches("address-division=220221101&family=%E9%83%91"), 0);
    assert_int_equal(matches(fmt("organization=Organization/%lld&family=%%E9"
                                 "%%83%%91",
                                 (long long)g_inst)),
                     1);
    assert_int_equal(matches("active=true&family=%E9%83%91"), 1);
    assert_int_equal(matches("active=false&family=%E9%83%91"), 0);
    assert_int_equal(matches("deceased=false&family=%E9%83%91"), 1);
    assert_int_equal(matches("birthdate=ge1999-12-01&birthdate=le1999-12-31"
                             "&family=%E9%83%91"),
                     1);
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(phone_numbers_mobile_and_landline),
        cmocka_unit_test(phone_mask_keeps_three_and_four),
        cmocka_unit_test(gender_codes_both_ways),
        cmocka_unit_test(mask_hides_idnum_and_phone_and_drops_text),
        cmocka_unit_test(redact_depends_on_role),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(text_name_gets_pinyin_and_typed_row),
        cmocka_unit_test(family_and_given_are_joined_in_chinese_order),
        cmocka_unit_test(id_number_fills_birth_date_and_is_normalised),
        cmocka_unit_test(id_number_faults_are_named),
        cmocka_unit_test(duplicate_id_number_names_the_resident),
        cmocka_unit_test(identifiers_go_to_their_table_and_conflict_per_system),
        cmocka_unit_test(unknown_and_mistyped_elements_are_refused),
        cmocka_unit_test(required_elements_are_named),
        cmocka_unit_test(codes_and_references_must_exist),
        cmocka_unit_test(replaced_by_link_sets_merged_into),
        cmocka_unit_test(search_parameters_run_on_both_engines),
    };
    int failed = cmocka_run_group_tests_name("patient", pure, NULL, NULL);
    failed +=
        rhis_test_run_engines("patient db", db, sizeof(db) / sizeof(db[0]),
                              group_setup, group_teardown);
    return failed != 0;
}
