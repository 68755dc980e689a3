/*
 * auth.c - users, roles, scopes, passwords and tokens.
 *
 * Why: a regional platform's users range from a village doctor to the
 * province CDC; each is confined to a subtree of the division codes or to
 * one institution.  Passwords are argon2id with libsodium's interactive
 * limits (83 ms, 64 MiB here); tokens are 256 random bits shown once and
 * stored only as SHA-256, so a database leak yields no usable token.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/auth.h"

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
    {"admin", RHIS_ROLE_ADMIN},
    {"planner", RHIS_ROLE_PLANNER},
    {"cdc", RHIS_ROLE_CDC},
    {"clinician", RHIS_ROLE_CLINICIAN},
    {"family_doctor", RHIS_ROLE_FAMILY_DOCTOR},
    {"resident", RHIS_ROLE_RESIDENT},
    {"dispatcher", RHIS_ROLE_DISPATCHER},
    {"integrator", RHIS_ROLE_INTEGRATOR},
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

unsigned
rhis_role_parse(const char *name)
{
    for (size_t i = 0; name != NULL && i < NROLES; i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *
rhis_role_name(unsigned role)
{
    for (size_t i = 0; i < NROLES; i++)
        if (roles[i].bit == role)
            return roles[i].name;
    return "none";
}

void
rhis_roles_format(unsigned mask, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    if ((mask & RHIS_ROLE_ANY) == RHIS_ROLE_ANY) {
        snprintf(buf, len, "any");
        return;
    }
    for (size_t i = 0; i < NROLES; i++) {
        if ((mask & roles[i].bit) == 0)
            continue;
        int w =
            snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "", roles[i].name);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

int
rhis_principal_covers_area(const rhis_principal *p, const char *code)
{
    const char *scope =
        p->scope_institution != 0 ? p->inst_area : p->scope_area;
    size_t n = strlen(scope);
    if (n == 0)
        return p->scope_institution == 0; /* unrestricted */
    return strncmp(code, scope, n) == 0;
}

rhis_status
rhis_auth_password_check(const char *pw, char *err, size_t len)
{
    size_t n = strlen(pw);
    if (n < 8 || n > 128) {
        snprintf(err, len, "password must be 8 to 128 bytes long");
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

rhis_status
rhis_auth_hash_password(const char *pw, char *out, size_t len)
{
    if (len < crypto_pwhash_STRBYTES)
        return RHIS_EINVAL;
    if (crypto_pwhash_str_alg(out, pw, strlen(pw),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return RHIS_EINTERNAL; /* out of memory for the 64 MiB */
    return RHIS_OK;
}

int
rhis_auth_verify_password(const char *hash, const char *pw)
{
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

static int
valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > 63)
        return 0;
    for (const char *p = u; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

rhis_status
rhis_auth_user_add(rhis_db *db,
                   const char *username,
                   const char *role,
                   const char *scope,
                   const char *password,
                   char *err,
                   size_t errlen)
{
    if (!valid_username(username)) {
        snprintf(err, errlen,
                 "username must be 2-63 characters of A-Z a-z 0-9 _ - .");
        return RHIS_EINVAL;
    }
    if (rhis_role_parse(role) == 0) {
        snprintf(err, errlen,
                 "unknown role '%s' (admin, planner, cdc, clinician, "
                 "family_doctor, resident, dispatcher, integrator)",
                 role);
        return RHIS_EINVAL;
    }
    rhis_status rc = rhis_auth_password_check(password, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    const char *area = "";
    int64_t inst = 0;
    if (strncmp(scope, "inst:", 5) == 0) {
        char *end;
        long long v = strtoll(scope + 5, &end, 10);
        if (*end != '\0' || v <= 0) {
            snprintf(err, errlen, "scope '%s': inst: needs an id", scope);
            return RHIS_EINVAL;
        }
        int64_t found;
        if (rhis_db_scalar_int64(db, &found,
                                 "SELECT id FROM institution WHERE id = ?", "i",
                                 (int64_t)v) != RHIS_OK) {
            snprintf(err, errlen, "scope '%s': no such institution", scope);
            return RHIS_EINVAL;
        }
        inst = v;
    } else if (strcmp(scope, "*") == 0) {
        if (strcmp(role, "admin") != 0) {
            snprintf(err, errlen,
                     "only admin may have the unrestricted scope '*'");
            return RHIS_EINVAL;
        }
    } else {
        int64_t n;
        if (rhis_db_scalar_int64(db, &n,
                                 "SELECT COUNT(*) FROM area WHERE code = ?",
                                 "s", scope) != RHIS_OK ||
            n == 0) {
            snprintf(err, errlen,
                     "scope '%s' is not a known area code (or inst:ID, or "
                     "* for an unrestricted admin)",
                     scope);
            return RHIS_EINVAL;
        }
        area = scope;
    }
    char hash[crypto_pwhash_STRBYTES];
    rc = rhis_auth_hash_password(password, hash, sizeof(hash));
    if (rc != RHIS_OK) {
        snprintf(err, errlen, "cannot hash the password");
        return rc;
    }
    rc = rhis_db_run(db,
                     "INSERT INTO app_user (username, password_hash, role,"
                     " scope_area, scope_institution, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     inst != 0 ? "ssssii" : "ssssni", username, hash, role,
                     area, inst != 0 ? inst : (int64_t)time(NULL),
                     (int64_t)time(NULL));
    if (rc == RHIS_ECONFLICT)
        snprintf(err, errlen, "user '%s' already exists", username);
    else if (rc != RHIS_OK)
        snprintf(err, errlen, "cannot store the user: %s", rhis_db_errmsg(db));
    return rc;
}

rhis_status
rhis_auth_user_set_password(rhis_db *db,
                            const char *username,
                            const char *password,
                            char *err,
                            size_t errlen)
{
    rhis_status rc = rhis_auth_password_check(password, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char hash[crypto_pwhash_STRBYTES];
    rc = rhis_auth_hash_password(password, hash, sizeof(hash));
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "UPDATE app_user SET password_hash = ? WHERE "
                         "username = ?",
                         "ss", hash, username);
    if (rc == RHIS_OK && rhis_db_changes(db) == 0)
        rc = RHIS_ENOTFOUND;
    /* a new password ends every session of the old one */
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "UPDATE auth_token SET revoked = 1 WHERE user_id ="
                         " (SELECT id FROM app_user WHERE username = ?)",
                         "s", username);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        snprintf(err, errlen,
                 rc == RHIS_ENOTFOUND ? "no such user '%s'"
                                      : "cannot update '%s'",
                 username);
    }
    return rc;
}

rhis_status
rhis_auth_user_link_patient(rhis_db *db,
                            const char *username,
                            int64_t patient_id,
                            char *err,
                            size_t errlen)
{
    int64_t n = 0;
    rhis_status rc = rhis_db_scalar_int64(
        db, &n, "SELECT COUNT(*) FROM app_user WHERE username = ?", "s",
        username);
    if (rc != RHIS_OK || n == 0) {
        snprintf(err, errlen, "no such user '%s'", username);
        return rc != RHIS_OK ? rc : RHIS_ENOTFOUND;
    }
    rc = rhis_db_scalar_int64(
        db, &n, "SELECT COUNT(*) FROM app_user WHERE username = ? AND role = ?",
        "ss", username, "resident");
    if (rc != RHIS_OK || n == 0) {
        snprintf(err, errlen,
                 "only a resident account is linked to a Patient record");
        return rc != RHIS_OK ? rc : RHIS_EINVAL;
    }
    rc = rhis_db_scalar_int64(db, &n,
                              "SELECT COUNT(*) FROM patient WHERE id = ?"
                              " AND deleted = 0 AND merged_into IS NULL",
                              "i", patient_id);
    if (rc != RHIS_OK || n == 0) {
        snprintf(err, errlen,
                 "Patient/%lld does not exist (or was deleted or merged)",
                 (long long)patient_id);
        return rc != RHIS_OK ? rc : RHIS_EINVAL;
    }
    rc =
        rhis_db_run(db, "UPDATE app_user SET patient_id = ? WHERE username = ?",
                    "is", patient_id, username);
    if (rc != RHIS_OK)
        snprintf(err, errlen, "cannot link '%s': %s", username,
                 rhis_db_errmsg(db));
    return rc;
}

rhis_status
rhis_auth_user_disable(rhis_db *db, const char *username)
{
    rhis_status rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "UPDATE app_user SET disabled = 1 WHERE username = ?",
                         "s", username);
    if (rc == RHIS_OK && rhis_db_changes(db) == 0)
        rc = RHIS_ENOTFOUND;
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "UPDATE auth_token SET revoked = 1 WHERE user_id ="
                         " (SELECT id FROM app_user WHERE username = ?)",
                         "s", username);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    return rc;
}

/* SHA-256 of the token, hex. */
static void
token_hash(const char *token, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy(void)
{
    char pw[33];
    unsigned char raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
    RHIS_ASSERT(rhis_auth_hash_password(pw, dummy, sizeof(dummy)) == RHIS_OK);
}

rhis_status
rhis_auth_login(rhis_db *db,
                const char *username,
                const char *password,
                int ttl_seconds,
                char token[64],
                int64_t *expires,
                int64_t *user_id)
{
    /* hashing against a dummy keeps an unknown user as slow as a known
     * one, so timing does not reveal which usernames exist */
    pthread_once(&dummy_once, make_dummy);
    token[0] = '\0';
    *user_id = 0;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st,
                                   "SELECT id, password_hash, disabled FROM"
                                   " app_user WHERE username = ?",
                                   "s", username);
    if (rc != RHIS_OK)
        return rc;
    char hash[crypto_pwhash_STRBYTES] = "";
    int64_t id = 0, disabled = 0;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        id = rhis_db_column_int64(st, 0);
        snprintf(hash, sizeof(hash), "%s", rhis_db_column_text(st, 1));
        disabled = rhis_db_column_int64(st, 2);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_ROW && rc != RHIS_DONE)
        return rc;
    int ok = rhis_auth_verify_password(id != 0 ? hash : dummy, password);
    if (id == 0 || !ok || disabled != 0)
        return RHIS_EUNAUTH;

    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, 64, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char th[65];
    token_hash(token, th);
    int64_t now = (int64_t)time(NULL);
    *expires = now + ttl_seconds;
    rc = rhis_db_run(db,
                     "INSERT INTO auth_token (token_hash, user_id,"
                     " created_at, expires_at) VALUES (?, ?, ?, ?)",
                     "siii", th, id, now, *expires);
    if (rc != RHIS_OK) {
        sodium_memzero(token, 64);
        return rc;
    }
    /* expired tokens of this user are of no further use */
    (void)rhis_db_run(db,
                      "DELETE FROM auth_token WHERE user_id = ? AND"
                      " expires_at < ?",
                      "ii", id, now - 86400);
    *user_id = id;
    return RHIS_OK;
}

rhis_status
rhis_auth_token_check(rhis_db *db, const char *token, rhis_principal *out)
{
    size_t n = strlen(token);
    if (n < 20 || n > 63)
        return RHIS_EUNAUTH;
    char th[65];
    token_hash(token, th);
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT u.id, u.username, u.role, u.scope_area,"
        " u.scope_institution, i.area_code, t.expires_at, u.patient_id"
        " FROM auth_token t JOIN app_user u ON u.id = t.user_id"
        " LEFT JOIN institution i ON i.id = u.scope_institution"
        " WHERE t.token_hash = ? AND t.revoked = 0 AND u.disabled = 0"
        " AND t.expires_at > ?",
        "si", th, (int64_t)time(NULL));
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        memset(out, 0, sizeof(*out));
        out->user_id = rhis_db_column_int64(st, 0);
        snprintf(out->username, sizeof(out->username), "%s",
                 rhis_db_column_text(st, 1));
        out->role = rhis_role_parse(rhis_db_column_text(st, 2));
        const char *sa = rhis_db_column_text(st, 3);
        snprintf(out->scope_area, sizeof(out->scope_area), "%s",
                 sa != NULL ? sa : "");
        out->scope_institution =
            rhis_db_column_is_null(st, 4) ? 0 : rhis_db_column_int64(st, 4);
        const char *ia = rhis_db_column_text(st, 5);
        snprintf(out->inst_area, sizeof(out->inst_area), "%s",
                 ia != NULL ? ia : "");
        out->expires = rhis_db_column_int64(st, 6);
        out->patient_id =
            rhis_db_column_is_null(st, 7) ? 0 : rhis_db_column_int64(st, 7);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_EUNAUTH;
    }
    rhis_db_finalize(st);
    return rc;
}

rhis_status
rhis_auth_token_revoke(rhis_db *db, const char *token)
{
    char th[65];
    token_hash(token, th);
    return rhis_db_run(
        db, "UPDATE auth_token SET revoked = 1 WHERE token_hash = ?", "s", th);
}
