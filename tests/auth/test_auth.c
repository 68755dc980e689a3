/*
 * test_auth.c - unit tests for users, roles, scopes, passwords and tokens
 * (src/auth/auth.c).
 *
 * Why: authentication and scope decide who sees which patients.  Roles and
 * scopes are pure functions and run once; everything that touches the
 * database runs on SQLite and, when RHIS_TEST_PG_URL is set, on PostgreSQL
 * (tests/testutil.h).  argon2id costs ~85 ms per hash, so the users are
 * made once per engine in the group setup and each test hashes only when
 * the hash is what it checks.
 */
#include "testutil.h"

#include <sodium.h>

#include "rhis/auth.h"

static rhis_db *g_db;
static int64_t g_inst_id; /* an institution in 口前镇 (220221100) */

#define PW_ADMIN   "admin-secret-1"
#define PW_PLANNER "planner-secret-1"
#define PW_DOC     "doctor-secret-1"
#define PW_GONE    "resident-secret-1"

/* ---- pure functions: roles, scopes, password policy, hashing ---- */

static void
role_names_parse_and_print(void **state)
{
    static const char *const names[] = {
        "admin",         "planner",  "cdc",        "clinician",
        "family_doctor", "resident", "dispatcher", "integrator"};
    (void)state;
    for (size_t i = 0; i < 8; i++) {
        unsigned bit = rhis_role_parse(names[i]);
        assert_int_equal(bit, 1u << i);
        assert_string_equal(rhis_role_name(bit), names[i]);
    }
    assert_int_equal(rhis_role_parse("Admin"), 0);
    assert_int_equal(rhis_role_parse(""), 0);
    assert_int_equal(rhis_role_parse("root"), 0);
    assert_int_equal(rhis_role_parse(NULL), 0);
    assert_string_equal(rhis_role_name(0), "none");
    assert_string_equal(rhis_role_name(RHIS_ROLE_ADMIN | RHIS_ROLE_CDC),
                        "none"); /* a principal has exactly one role */
}

static void
role_sets_format_as_comma_lists(void **state)
{
    char buf[128];
    (void)state;
    rhis_roles_format(RHIS_ROLE_ANY, buf, sizeof(buf));
    assert_string_equal(buf, "any");
    rhis_roles_format(RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR, buf, sizeof(buf));
    assert_string_equal(buf, "admin,integrator");
    rhis_roles_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
    rhis_roles_format(RHIS_ROLE_STAFF, buf, sizeof(buf));
    assert_string_equal(buf, "admin,planner,cdc,clinician,family_doctor,"
                             "dispatcher,integrator");
    /* a short buffer stays terminated and keeps the names that fit */
    rhis_roles_format(RHIS_ROLE_ADMIN | RHIS_ROLE_PLANNER, buf, 10);
    assert_true(strlen(buf) < 10);
    assert_true(strncmp(buf, "admin", 5) == 0);
}

static void
area_scope_covers_its_subtree_only(void **state)
{
    rhis_principal p;
    (void)state;
    memset(&p, 0, sizeof(p));
    p.role = RHIS_ROLE_PLANNER;
    snprintf(p.scope_area, sizeof(p.scope_area), "2202");
    assert_true(rhis_principal_covers_area(&p, "2202"));
    assert_true(rhis_principal_covers_area(&p, "220221"));
    assert_true(rhis_principal_covers_area(&p, "220221100001"));
    assert_false(rhis_principal_covers_area(&p, "2201"));
    assert_false(rhis_principal_covers_area(&p, "22")); /* the parent */
    assert_false(rhis_principal_covers_area(&p, "21"));
    assert_false(rhis_principal_covers_area(&p, ""));
}

static void
unrestricted_admin_covers_everything(void **state)
{
    rhis_principal p;
    (void)state;
    memset(&p, 0, sizeof(p));
    p.role = RHIS_ROLE_ADMIN;
    assert_true(rhis_principal_covers_area(&p, "21"));
    assert_true(rhis_principal_covers_area(&p, "220221100001"));
}

static void
institution_scope_covers_the_institution_area(void **state)
{
    rhis_principal p;
    (void)state;
    memset(&p, 0, sizeof(p));
    p.role = RHIS_ROLE_CLINICIAN;
    p.scope_institution = 7;
    snprintf(p.inst_area, sizeof(p.inst_area), "220221100");
    /* scope_area is ignored for institution users */
    snprintf(p.scope_area, sizeof(p.scope_area), "22");
    assert_true(rhis_principal_covers_area(&p, "220221100"));
    assert_true(rhis_principal_covers_area(&p, "220221100001"));
    assert_false(rhis_principal_covers_area(&p, "220221101"));
    assert_false(rhis_principal_covers_area(&p, "220221"));
    /* an institution whose area is unknown covers nothing (fails closed) */
    p.inst_area[0] = '\0';
    assert_false(rhis_principal_covers_area(&p, "220221100"));
    assert_false(rhis_principal_covers_area(&p, "21"));
}

static void
password_policy_is_8_to_128_bytes(void **state)
{
    char err[128] = "";
    char pw[130];
    (void)state;
    assert_int_equal(rhis_auth_password_check("1234567", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "8 to 128"));
    assert_int_equal(rhis_auth_password_check("", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(rhis_auth_password_check("12345678", err, sizeof(err)),
                     RHIS_OK);
    /* bytes, not characters: three CJK characters are 9 bytes */
    assert_int_equal(rhis_auth_password_check("密码好", err, sizeof(err)),
                     RHIS_OK);
    memset(pw, 'p', 128);
    pw[128] = '\0';
    assert_int_equal(rhis_auth_password_check(pw, err, sizeof(err)), RHIS_OK);
    pw[128] = 'p';
    pw[129] = '\0';
    assert_int_equal(rhis_auth_password_check(pw, err, sizeof(err)),
                     RHIS_EINVAL);
}

static void
argon2id_hash_verifies_only_the_right_password(void **state)
{
    char hash[crypto_pwhash_STRBYTES];
    char small[16];
    (void)state;
    assert_int_equal(
        rhis_auth_hash_password("correct horse", hash, sizeof(hash)), RHIS_OK);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_null(strstr(hash, "correct horse"));
    assert_true(rhis_auth_verify_password(hash, "correct horse"));
    assert_false(rhis_auth_verify_password(hash, "correct horsE"));
    assert_false(rhis_auth_verify_password(hash, ""));
    assert_false(rhis_auth_verify_password("not a hash", "correct horse"));
    assert_int_equal(rhis_auth_hash_password("x", small, sizeof(small)),
                     RHIS_EINVAL);
}

/* ---- database-backed ---- */

static int
auth_group_setup(void **state)
{
    char err[256];
    (void)state;
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    static const char *const areas[][4] = {
        {"21", "辽宁省", "1", NULL},
        {"22", "吉林省", "1", NULL},
        {"2202", "吉林市", "2", "22"},
        {"220221", "永吉县", "3", "2202"},
        {"220221100", "口前镇", "4", "220221"},
        {"220221101", "双河镇", "4", "220221"},
    };
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
        if (rhis_db_run(g_db,
                        "INSERT INTO area (code, name, level, parent_code,"
                        " edition) VALUES (?, ?, ?, ?, '2023')",
                        "ssis", areas[i][0], areas[i][1],
                        (int64_t)(areas[i][2][0] - '0'),
                        areas[i][3]) != RHIS_OK)
            goto fail;
    }
    if (rhis_db_run(g_db,
                    "INSERT INTO institution (code, name, tier, ownership,"
                    " area_code, updated_at) VALUES ('H220221001',"
                    " '永吉县人民医院', 'county_hospital', 'public',"
                    " '220221100', 0)",
                    "") != RHIS_OK ||
        rhis_db_scalar_int64(g_db, &g_inst_id,
                             "SELECT id FROM institution WHERE code ="
                             " 'H220221001'",
                             "") != RHIS_OK)
        goto fail;
    char scope[32];
    snprintf(scope, sizeof(scope), "inst:%lld", (long long)g_inst_id);
    /* the four users every test shares: 4 argon2id hashes per engine */
    if (rhis_auth_user_add(g_db, "admin1", "admin", "*", PW_ADMIN, err,
                           sizeof(err)) != RHIS_OK ||
        rhis_auth_user_add(g_db, "planner1", "planner", "2202", PW_PLANNER, err,
                           sizeof(err)) != RHIS_OK ||
        rhis_auth_user_add(g_db, "doc1", "clinician", scope, PW_DOC, err,
                           sizeof(err)) != RHIS_OK ||
        rhis_auth_user_add(g_db, "gone1", "resident", "220221100", PW_GONE, err,
                           sizeof(err)) != RHIS_OK) {
        print_error("%s: user add: %s\n", rhis_test_engine_cur()->name, err);
        goto fail;
    }
    return 0;
fail:
    print_error("%s: setup: %s\n", rhis_test_engine_cur()->name,
                rhis_db_errmsg(g_db));
    rhis_db_close(g_db);
    g_db = NULL;
    return -1;
}

static int
auth_group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

static void
user_add_stores_role_and_scope(void **state)
{
    rhis_stmt *st;
    (void)state;
    RHIS_CHECK_OK(g_db,
                  rhis_db_query(g_db, &st,
                                "SELECT username, role, scope_area,"
                                " scope_institution, disabled, password_hash"
                                " FROM app_user ORDER BY username",
                                ""));
    static const char *const want[][3] = {
        {"admin1", "admin", ""},
        {"doc1", "clinician", ""},
        {"gone1", "resident", "220221100"},
        {"planner1", "planner", "2202"},
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rhis_db_step(st), RHIS_ROW);
        assert_string_equal(rhis_db_column_text(st, 0), want[i][0]);
        assert_string_equal(rhis_db_column_text(st, 1), want[i][1]);
        assert_string_equal(rhis_db_column_text(st, 2), want[i][2]);
        if (strcmp(want[i][0], "doc1") == 0)
            assert_int_equal(rhis_db_column_int64(st, 3), g_inst_id);
        else
            assert_true(rhis_db_column_is_null(st, 3));
        assert_int_equal(rhis_db_column_int64(st, 4), 0);
        /* only the argon2id hash is stored, never the password */
        assert_true(strncmp(rhis_db_column_text(st, 5), "$argon2id$", 10) == 0);
    }
    assert_int_equal(rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static void
user_add_refuses_every_invalid_input(void **state)
{
    static const struct {
        const char *username, *role, *scope, *password, *msg;
    } bad[] = {
        {"a", "planner", "2202", "long-enough-1", "username"},
        {"bad name", "planner", "2202", "long-enough-1", "username"},
        {"用户", "planner", "2202", "long-enough-1", "username"},
        {"x';--", "planner", "2202", "long-enough-1", "username"},
        {"newuser", "superuser", "2202", "long-enough-1", "unknown role"},
        {"newuser", "", "2202", "long-enough-1", "unknown role"},
        {"newuser", "planner", "999999", "long-enough-1", "not a known area"},
        {"newuser", "planner", "", "long-enough-1", "not a known area"},
        {"newuser", "clinician", "inst:99999", "long-enough-1",
         "no such institution"},
        {"newuser", "clinician", "inst:abc", "long-enough-1", "needs an id"},
        {"newuser", "clinician", "inst:0", "long-enough-1", "needs an id"},
        {"newuser", "clinician", "inst:", "long-enough-1", "needs an id"},
        {"newuser", "planner", "*", "long-enough-1", "only admin"},
        {"newuser", "planner", "2202", "short", "8 to 128"},
    };
    char err[256];
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM app_user");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        rhis_status st =
            rhis_auth_user_add(g_db, bad[i].username, bad[i].role, bad[i].scope,
                               bad[i].password, err, sizeof(err));
        if (st != RHIS_EINVAL || strstr(err, bad[i].msg) == NULL)
            print_error("case %zu (%s/%s/%s): %d '%s'\n", i, bad[i].username,
                        bad[i].role, bad[i].scope, (int)st, err);
        assert_int_equal(st, RHIS_EINVAL);
        assert_non_null(strstr(err, bad[i].msg));
    }
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM app_user"),
                     before);
}

static void
user_add_duplicate_is_conflict(void **state)
{
    char err[256] = "";
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM app_user");
    assert_int_equal(rhis_auth_user_add(g_db, "planner1", "cdc", "22",
                                        "another-pass-1", err, sizeof(err)),
                     RHIS_ECONFLICT);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM app_user"),
                     before);
}

static void
login_issues_a_token_that_resolves_to_the_principal(void **state)
{
    char token[64];
    int64_t expires = 0, uid = 0, want_uid = 0;
    rhis_principal p;
    (void)state;
    int64_t now = (int64_t)time(NULL);
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "planner1", PW_PLANNER, 3600,
                                        token, &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &want_uid,
                                             "SELECT id FROM app_user WHERE"
                                             " username = 'planner1'",
                                             ""));
    assert_int_equal(uid, want_uid);
    assert_int_equal(strlen(token), 43);
    assert_in_range(expires, now + 3600, now + 3600 + 5);
    /* only a hash of the token is stored */
    int64_t n = -1;
    RHIS_CHECK_OK(g_db,
                  rhis_db_scalar_int64(g_db, &n,
                                       "SELECT COUNT(*) FROM auth_token WHERE"
                                       " token_hash = ?",
                                       "s", token));
    assert_int_equal(n, 0);
    assert_int_equal(rhis_test_scalar(g_db,
                                      "SELECT COUNT(*) FROM auth_token WHERE"
                                      " length(token_hash) = 64"),
                     rhis_test_scalar(g_db, "SELECT COUNT(*) FROM auth_token"));

    memset(&p, 0x5a, sizeof(p));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    assert_int_equal(p.user_id, uid);
    assert_string_equal(p.username, "planner1");
    assert_int_equal(p.role, RHIS_ROLE_PLANNER);
    assert_string_equal(p.scope_area, "2202");
    assert_int_equal(p.scope_institution, 0);
    assert_string_equal(p.inst_area, "");
    assert_int_equal(p.expires, expires);
    assert_true(rhis_principal_covers_area(&p, "220221100"));
    assert_false(rhis_principal_covers_area(&p, "21"));
}

static void
institution_user_token_carries_the_institution_area(void **state)
{
    char token[64];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "doc1", PW_DOC, 600, token,
                                        &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    assert_int_equal(p.role, RHIS_ROLE_CLINICIAN);
    assert_int_equal(p.scope_institution, g_inst_id);
    assert_string_equal(p.inst_area, "220221100");
    assert_true(rhis_principal_covers_area(&p, "220221100001"));
    assert_false(rhis_principal_covers_area(&p, "220221101"));
}

static void
admin_token_is_unrestricted(void **state)
{
    char token[64];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "admin1", PW_ADMIN, 600, token,
                                        &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    assert_int_equal(p.role, RHIS_ROLE_ADMIN);
    assert_string_equal(p.scope_area, "");
    assert_true(rhis_principal_covers_area(&p, "21"));
    assert_true(rhis_principal_covers_area(&p, "220221101"));
}

static void
login_fails_for_wrong_password_and_unknown_user(void **state)
{
    char token[64];
    int64_t expires = 0, uid = 99;
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM auth_token");
    memset(token, 'x', sizeof(token));
    assert_int_equal(rhis_auth_login(g_db, "planner1", "wrong-password", 3600,
                                     token, &expires, &uid),
                     RHIS_EUNAUTH);
    assert_string_equal(token, "");
    assert_int_equal(uid, 0);
    uid = 99;
    assert_int_equal(rhis_auth_login(g_db, "nobody", PW_PLANNER, 3600, token,
                                     &expires, &uid),
                     RHIS_EUNAUTH);
    assert_int_equal(uid, 0);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM auth_token"),
                     before);
}

static void
disabled_user_cannot_log_in_and_loses_tokens(void **state)
{
    char token[64], token2[64];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "gone1", PW_GONE, 3600, token,
                                        &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    RHIS_CHECK_OK(g_db, rhis_auth_user_disable(g_db, "gone1"));
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);
    assert_int_equal(
        rhis_auth_login(g_db, "gone1", PW_GONE, 3600, token2, &expires, &uid),
        RHIS_EUNAUTH);
    assert_int_equal(rhis_auth_user_disable(g_db, "nobody"), RHIS_ENOTFOUND);
}

static void
expired_tokens_are_refused(void **state)
{
    char token[64];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    int64_t now = (int64_t)time(NULL);
    /* a negative ttl issues a token that is already expired */
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "planner1", PW_PLANNER, -5, token,
                                        &expires, &uid));
    assert_true(expires < now);
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);

    /* a valid token whose expires_at is moved into the past */
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "planner1", PW_PLANNER, 3600,
                                        token, &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE auth_token SET expires_at = ?"
                                    " WHERE token_hash = ?",
                                    "is", now - 1, hex));
    assert_int_equal(rhis_db_changes(g_db), 1);
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);
}

static void
malformed_and_unknown_tokens_are_refused(void **state)
{
    rhis_principal p;
    char token[80];
    (void)state;
    assert_int_equal(rhis_auth_token_check(g_db, "", &p), RHIS_EUNAUTH);
    assert_int_equal(rhis_auth_token_check(g_db, "short", &p), RHIS_EUNAUTH);
    memset(token, 'A', 43);
    token[43] = '\0';
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);
    memset(token, 'A', 70);
    token[70] = '\0';
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);
}

static void
revoked_token_is_refused_and_others_survive(void **state)
{
    char t1[64], t2[64];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "admin1", PW_ADMIN, 3600, t1,
                                        &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "admin1", PW_ADMIN, 3600, t2,
                                        &expires, &uid));
    assert_string_not_equal(t1, t2);
    RHIS_CHECK_OK(g_db, rhis_auth_token_revoke(g_db, t1));
    assert_int_equal(rhis_auth_token_check(g_db, t1, &p), RHIS_EUNAUTH);
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, t2, &p));
    assert_string_equal(p.username, "admin1");
}

static void
password_change_revokes_tokens_and_swaps_the_password(void **state)
{
    char token[64], err[256];
    int64_t expires, uid;
    rhis_principal p;
    (void)state;
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "doc1", PW_DOC, 3600, token,
                                        &expires, &uid));
    assert_int_equal(
        rhis_auth_user_set_password(g_db, "doc1", "short", err, sizeof(err)),
        RHIS_EINVAL);
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    RHIS_CHECK_OK(g_db, rhis_auth_user_set_password(
                            g_db, "doc1", "doctor-secret-2", err, sizeof(err)));
    assert_int_equal(rhis_auth_token_check(g_db, token, &p), RHIS_EUNAUTH);
    assert_int_equal(
        rhis_auth_login(g_db, "doc1", PW_DOC, 3600, token, &expires, &uid),
        RHIS_EUNAUTH);
    RHIS_CHECK_OK(g_db, rhis_auth_login(g_db, "doc1", "doctor-secret-2", 3600,
                                        token, &expires, &uid));
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    assert_int_equal(rhis_auth_user_set_password(
                         g_db, "nobody", "whatever-pass", err, sizeof(err)),
                     RHIS_ENOTFOUND);
    assert_non_null(strstr(err, "nobody"));
}

int
main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(role_names_parse_and_print),
        cmocka_unit_test(role_sets_format_as_comma_lists),
        cmocka_unit_test(area_scope_covers_its_subtree_only),
        cmocka_unit_test(unrestricted_admin_covers_everything),
        cmocka_unit_test(institution_scope_covers_the_institution_area),
        cmocka_unit_test(password_policy_is_8_to_128_bytes),
        cmocka_unit_test(argon2id_hash_verifies_only_the_right_password),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(user_add_stores_role_and_scope),
        cmocka_unit_test(user_add_refuses_every_invalid_input),
        cmocka_unit_test(user_add_duplicate_is_conflict),
        cmocka_unit_test(login_issues_a_token_that_resolves_to_the_principal),
        cmocka_unit_test(institution_user_token_carries_the_institution_area),
        cmocka_unit_test(admin_token_is_unrestricted),
        cmocka_unit_test(login_fails_for_wrong_password_and_unknown_user),
        cmocka_unit_test(disabled_user_cannot_log_in_and_loses_tokens),
        cmocka_unit_test(expired_tokens_are_refused),
        cmocka_unit_test(malformed_and_unknown_tokens_are_refused),
        cmocka_unit_test(revoked_token_is_refused_and_others_survive),
        cmocka_unit_test(password_change_revokes_tokens_and_swaps_the_password),
    };
    int failed = cmocka_run_group_tests_name("auth", pure, NULL, NULL);
    failed += rhis_test_run_engines("auth db", db, sizeof(db) / sizeof(db[0]),
                                    auth_group_setup, auth_group_teardown);
    return failed != 0;
}
