/*
 * auth.h - users, roles, scopes, password hashes and bearer tokens.
 *
 * Why: every route admits a set of roles and every user is confined to an
 * area subtree (division-code prefix) or one institution.  Passwords are
 * argon2id (libsodium); tokens are random, stored only as a hash, expire
 * and can be revoked.
 */
#ifndef RHIS_AUTH_H
#define RHIS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/status.h"

enum {
    RHIS_ROLE_ADMIN = 1u << 0,
    RHIS_ROLE_PLANNER = 1u << 1,
    RHIS_ROLE_CDC = 1u << 2,
    RHIS_ROLE_CLINICIAN = 1u << 3,
    RHIS_ROLE_FAMILY_DOCTOR = 1u << 4,
    RHIS_ROLE_RESIDENT = 1u << 5,
    RHIS_ROLE_DISPATCHER = 1u << 6,
    RHIS_ROLE_INTEGRATOR = 1u << 7,
    RHIS_ROLE_ANY = 0xffu,
    /* every role that works for an institution or authority */
    RHIS_ROLE_STAFF = 0xffu & ~(1u << 5),
};

/* The authenticated caller of a request. */
typedef struct rhis_principal {
    int64_t user_id;
    char username[64];
    unsigned role;             /* exactly one RHIS_ROLE_* bit */
    char scope_area[16];       /* division-code prefix; "" = whole country */
    int64_t scope_institution; /* 0 when scoped by area */
    char inst_area[16];        /* area code of scope_institution, if any */
    int64_t patient_id;        /* resident: the linked Patient, 0 if none */
    int64_t expires;           /* token expiry, unix seconds */
} rhis_principal;

/* "admin" -> RHIS_ROLE_ADMIN; 0 if unknown. */
unsigned rhis_role_parse(const char *name);
const char *rhis_role_name(unsigned role);
/* Writes a comma-separated role list into buf. */
void rhis_roles_format(unsigned roles, char *buf, size_t len);

/*
 * True if area code `code` lies inside the principal's scope.  A user scoped
 * to an institution sees the institution's own area subtree.
 */
int rhis_principal_covers_area(const rhis_principal *p, const char *code);

/* Password policy: 8..128 bytes.  Returns RHIS_EINVAL with a message. */
rhis_status rhis_auth_password_check(const char *pw, char *err, size_t len);
/* argon2id (interactive limits); out must hold crypto_pwhash_STRBYTES. */
rhis_status rhis_auth_hash_password(const char *pw, char *out, size_t len);
int rhis_auth_verify_password(const char *hash, const char *pw);

/*
 * Creates a user.  scope is an existing area code, or "inst:ID" naming an
 * existing institution.  RHIS_ECONFLICT if the username exists,
 * RHIS_EINVAL (message in err) for an unknown role/scope/weak password.
 */
rhis_status rhis_auth_user_add(rhis_db *db,
                               const char *username,
                               const char *role,
                               const char *scope,
                               const char *password,
                               char *err,
                               size_t errlen);
rhis_status rhis_auth_user_set_password(rhis_db *db,
                                        const char *username,
                                        const char *password,
                                        char *err,
                                        size_t errlen);
rhis_status rhis_auth_user_disable(rhis_db *db, const char *username);
/*
 * Links resident `username` to its own record, Patient patient_id (which
 * must exist, not be deleted and not be merged into another).  RHIS_EINVAL
 * (message in err) for another role or an unknown patient, RHIS_ENOTFOUND
 * for an unknown user.
 */
rhis_status rhis_auth_user_link_patient(rhis_db *db,
                                        const char *username,
                                        int64_t patient_id,
                                        char *err,
                                        size_t errlen);

/*
 * Checks username/password (the slow argon2id step; call it off the request
 * threads) and on success issues a token: *token (43 chars + NUL) is the
 * secret shown once, only its hash is stored.
 */
rhis_status rhis_auth_login(rhis_db *db,
                            const char *username,
                            const char *password,
                            int ttl_seconds,
                            char token[64],
                            int64_t *expires,
                            int64_t *user_id);
/* Resolves a bearer token; RHIS_EUNAUTH if unknown, revoked or expired. */
rhis_status
rhis_auth_token_check(rhis_db *db, const char *token, rhis_principal *out);
rhis_status rhis_auth_token_revoke(rhis_db *db, const char *token);

#endif
