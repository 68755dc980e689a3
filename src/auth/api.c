/*
 * api.c - POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me.
 *
 * Why: the web UI and integrators authenticate here.  Login validates and
 * rate-limits on the request thread (cheap), then hands the argon2id check
 * to the server's bounded worker pool (rhis_req.defer_fn) so that a burst
 * of logins never stalls reads.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"

typedef struct login_args {
    char username[64];
    char password[160];
    char user_key[96];
    char addr_key[96];
} login_args;

static void
wipe(void *data)
{
    sodium_memzero(data, sizeof(login_args));
}

/* Runs on a login worker: the slow, constant-time part. */
static rhis_status
do_login(rhis_req *req, rhis_resp *resp)
{
    login_args *a = req->defer_data;
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    char token[64];
    int64_t expires = 0, uid = 0;
    rc = rhis_auth_login(db, a->username, a->password, req->conf->token_ttl,
                         token, &expires, &uid);
    req->audit_type = "Session";
    if (rc == RHIS_EUNAUTH) {
        /* count the failure against the username */
        (void)rhis_ratelimit_hit(req->srv, a->user_key,
                                 req->conf->login_rate_user,
                                 req->conf->login_rate_window, 1);
        rhis_principal anon = {0};
        snprintf(anon.username, sizeof(anon.username), "%s", a->username);
        req->user = &anon;
        (void)rhis_req_audit(req, db, "E", "login", "Session", NULL, 401);
        req->user = NULL;
        return rhis_req_errorf(req, rc, "wrong username or password");
    }
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot log in now, try again");
    rhis_ratelimit_clear(req->srv, a->user_key);
    rc = rhis_auth_token_check(db, token, &req->principal_store);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EINTERNAL, "token not stored");
    req->user = &req->principal_store;
    (void)rhis_req_audit(req, db, "E", "login", "Session", NULL, 200);

    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string(token));
    char when[40];
    rhis_fhir_instant(expires, when, sizeof(when));
    json_object_object_add(o, "expires", json_object_new_string(when));
    json_object *u = json_object_new_object();
    json_object_object_add(u, "username",
                           json_object_new_string(req->user->username));
    json_object_object_add(
        u, "role", json_object_new_string(rhis_role_name(req->user->role)));
    char scope[40];
    if (req->user->scope_institution != 0)
        snprintf(scope, sizeof(scope), "inst:%lld",
                 (long long)req->user->scope_institution);
    else
        snprintf(scope, sizeof(scope), "%s",
                 req->user->scope_area[0] != '\0' ? req->user->scope_area
                                                  : "*");
    json_object_object_add(u, "scope", json_object_new_string(scope));
    json_object_object_add(o, "user", u);
    rhis_resp_json(resp, 200, o);
    rhis_resp_header(resp, "Cache-Control", "no-store");
    json_object_put(o);
    sodium_memzero(token, sizeof(token));
    return RHIS_OK;
}

rhis_status
api_login(rhis_req *req, rhis_resp *resp)
{
    (void)resp;
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        if (strcmp(key, "username") != 0 && strcmp(key, "password") != 0) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown field '%s' (expected username "
                                   "and password)",
                                   key);
        }
    }
    json_object *u = rhis_json_get(body, "username");
    json_object *p = rhis_json_get(body, "password");
    if (u == NULL || !json_object_is_type(u, json_type_string) ||
        json_object_get_string_len(u) < 1 ||
        json_object_get_string_len(u) > 63) {
        rhis_req_error_expr(req, "username");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "username must be a string of 1-63 bytes");
    }
    if (p == NULL || !json_object_is_type(p, json_type_string) ||
        json_object_get_string_len(p) < 1 ||
        json_object_get_string_len(p) > 128) {
        rhis_req_error_expr(req, "password");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "password must be a string of 1-128 bytes");
    }
    login_args *a = rhis_arena_calloc(req->arena, sizeof(*a));
    rhis_arena_defer(req->arena, wipe, a);
    snprintf(a->username, sizeof(a->username), "%s", json_object_get_string(u));
    snprintf(a->password, sizeof(a->password), "%s", json_object_get_string(p));
    snprintf(a->user_key, sizeof(a->user_key), "u:%s", a->username);
    snprintf(a->addr_key, sizeof(a->addr_key), "a:%s", req->client_addr);
    /* per address: every attempt counts; per user: failures count */
    if (rhis_ratelimit_hit(req->srv, a->addr_key, req->conf->login_rate_addr,
                           req->conf->login_rate_window, 1) != RHIS_OK ||
        rhis_ratelimit_hit(req->srv, a->user_key, req->conf->login_rate_user,
                           req->conf->login_rate_window, 0) != RHIS_OK) {
        rhis_resp_header(
            resp, "Retry-After",
            rhis_arena_printf(req->arena, "%d", req->conf->login_rate_window));
        return rhis_req_errorf(req, RHIS_ERATE,
                               "too many login attempts; wait %d seconds",
                               req->conf->login_rate_window);
    }
    req->defer_data = a;
    req->defer_fn = do_login;
    return RHIS_OK;
}

rhis_status
api_logout(rhis_req *req, rhis_resp *resp)
{
    const char *h = rhis_req_header(req, "Authorization");
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_auth_token_revoke(db, h + 7); /* AUTH phase checked it */
    if (rc == RHIS_OK)
        rc = rhis_req_audit(req, db, "E", "logout", "Session", NULL, 204);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        req->audit_done = 0;
        return rhis_req_errorf(req, rc, "cannot log out now");
    }
    resp->status = 204;
    return RHIS_OK;
}

rhis_status
api_me(rhis_req *req, rhis_resp *resp)
{
    const rhis_principal *p = req->user;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(p->user_id));
    json_object_object_add(o, "username", json_object_new_string(p->username));
    json_object_object_add(o, "role",
                           json_object_new_string(rhis_role_name(p->role)));
    const char *scope =
        p->scope_institution != 0 ? p->inst_area : p->scope_area;
    json_object_object_add(o, "scope_area", json_object_new_string(scope));
    json_object_object_add(o, "scope_institution",
                           p->scope_institution != 0
                               ? json_object_new_int64(p->scope_institution)
                               : NULL);
    json_object_object_add(o, "scope_area_name", NULL);
    /* a resident's own record (Patient id), for the UI */
    json_object_object_add(
        o, "patient_id",
        p->patient_id != 0 ? json_object_new_int64(p->patient_id) : NULL);
    rhis_db *db;
    if (scope[0] != '\0' && rhis_req_db(req, &db) == RHIS_OK) {
        rhis_stmt *st;
        if (rhis_db_query(db, &st, "SELECT name FROM area WHERE code = ?", "s",
                          scope) == RHIS_OK) {
            if (rhis_db_step(st) == RHIS_ROW)
                json_object_object_add(
                    o, "scope_area_name",
                    json_object_new_string(rhis_db_column_text(st, 0)));
            rhis_db_finalize(st);
        }
    }
    char when[40];
    rhis_fhir_instant(p->expires, when, sizeof(when));
    json_object_object_add(o, "expires", json_object_new_string(when));
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}
