/*
 * http.h - requests, responses, routes: what handlers see of HTTP.
 *
 * Why: handlers parse input, call a module, fill a response; they never touch
 * sockets or check policy.  The dispatcher (src/http/server.c) runs fixed
 * phases - parse, route, authenticate, authorise, handler, audit/log - using
 * the flags each route carries in the one route table (src/http/routes.c).
 */
#ifndef RHIS_HTTP_H
#define RHIS_HTTP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "rhis/alloc.h"
#include "rhis/audit.h"
#include "rhis/auth.h"
#include "rhis/buf.h"
#include "rhis/config.h"
#include "rhis/db.h"
#include "rhis/status.h"

#define RHIS_MAX_PATH_PARAMS  6
#define RHIS_MAX_QUERY_PARAMS 64

/* Route flags: policy the dispatcher applies before the handler runs. */
enum {
    ROUTE_AUTH = 1u << 0,   /* a valid bearer token is required */
    ROUTE_AUDIT = 1u << 1,  /* the dispatcher writes an audit event */
    ROUTE_WRITE = 1u << 2,  /* changes data (the handler audits in its tx) */
    ROUTE_LOGIN = 1u << 3,  /* login rate class */
    ROUTE_STATIC = 1u << 4, /* static file; no JSON error bodies */
    ROUTE_BODY = 1u << 5,   /* expects a JSON body */
};

typedef struct rhis_req rhis_req;
typedef struct rhis_resp rhis_resp;
typedef rhis_status (*rhis_handler)(rhis_req *req, rhis_resp *resp);

typedef struct rhis_route {
    const char *method;
    const char *pattern; /* "/fhir/Organization/{id}", "/web/{*path}" */
    rhis_handler fn;
    unsigned flags;
    unsigned roles; /* RHIS_ROLE_* bits admitted; ignored without AUTH */
    const char *summary;
} rhis_route;

typedef struct rhis_kv {
    const char *key;
    const char *value;
} rhis_kv;

/* Parsed query string: keys and values percent-decoded, order kept. */
typedef struct rhis_query {
    int n;
    rhis_kv kv[RHIS_MAX_QUERY_PARAMS];
} rhis_query;

/*
 * Parses a raw query string (without '?') into q, allocating from a.
 * RHIS_EINVAL on bad percent-encoding, invalid UTF-8 or NUL; RHIS_ETOOBIG on
 * more than RHIS_MAX_QUERY_PARAMS pairs.
 */
rhis_status
rhis_query_parse(rhis_arena *a, const char *qs, size_t len, rhis_query *q);
/* Percent-decodes [s, s+len) into a NUL-terminated arena string; NULL if
 * malformed.  plus_is_space turns '+' into ' ' (query strings only). */
char *
rhis_url_decode(rhis_arena *a, const char *s, size_t len, int plus_is_space);

typedef struct rhis_route_match {
    const rhis_route *route;
    int nparams;
    rhis_kv params[RHIS_MAX_PATH_PARAMS];
    int path_matched; /* routes whose pattern matched the path */
} rhis_route_match;

/*
 * Finds the route for method and decoded path.  Returns RHIS_OK with m->route
 * set, RHIS_EMETHOD if the path matched but no method did, RHIS_ENOTFOUND
 * otherwise.  Parameter values are arena copies.
 */
rhis_status rhis_route_find(const rhis_route *table,
                            size_t n,
                            const char *method,
                            const char *path,
                            rhis_arena *a,
                            rhis_route_match *m);

/* The route table (src/http/routes.c). */
const rhis_route *rhis_routes(size_t *n);

struct rhis_server;

struct rhis_req {
    rhis_arena *arena;
    const char *method;
    const char *path;      /* percent-decoded, no query */
    const char *raw_query; /* as received, may be "" */
    rhis_query query;
    char request_id[24];
    const char *client_addr;
    const char *body; /* NUL-terminated, body_len bytes */
    size_t body_len;
    rhis_route_match match;
    const rhis_principal *user; /* NULL when not authenticated */
    rhis_principal principal_store;
    const rhis_config *conf;
    struct rhis_server *srv;
    void *conn;  /* struct MHD_Connection *, for headers */
    rhis_db *db; /* lazily taken from the pool */
    /* error reported by the handler or a phase */
    rhis_status err_status;
    char err_text[512];
    const char *err_expr; /* FHIR OperationOutcome.issue.expression */
    /* what the dispatcher audits for ROUTE_AUDIT routes */
    const char *audit_type;
    const char *audit_id;
    const char *audit_patient;
    int audit_done; /* the handler wrote its own audit event */
    /* Set by a handler whose work is slow (password hashing): the server
     * suspends the connection and runs defer_fn(req, resp) on a bounded
     * worker pool, off the request threads, then resumes and answers. */
    rhis_status (*defer_fn)(rhis_req *req, rhis_resp *resp);
    void *defer_data;
    /* Set through rhis_req_write: the write the group-commit writer runs. */
    rhis_status (*commit_fn)(rhis_req *req, rhis_resp *resp);
    int commit_lazy; /* that write needs no fsync (disclosure audits only) */
    /* Disclosures to audit before the response leaves; sub-requests (Bundle
     * entries) record them on the request that owns them. */
    rhis_req *audit_owner;
    rhis_audit_event *pending_audit;
    int npending_audit, cap_pending_audit;
};

struct rhis_resp {
    int status;
    const char *content_type;
    rhis_buf body;
    int nheaders;
    rhis_kv headers[8];
    const char *file_path; /* serve this file instead of body (static) */
};

/* Path parameter by name; NULL if absent. */
const char *rhis_req_param(const rhis_req *req, const char *name);
/* First query value for key; NULL if absent. */
const char *rhis_req_query(const rhis_req *req, const char *key);
/* Request header value (case-insensitive); NULL if absent. */
const char *rhis_req_header(rhis_req *req, const char *name);
/* The request's database connection (from the pool, released after the
 * response).  RHIS_EBUSY if none frees up in time. */
rhis_status rhis_req_db(rhis_req *req, rhis_db **out);
/*
 * Runs fn(req, resp) as a durable write.  With group commit on (setting
 * group_commit > 0, the default) the connection is suspended and fn runs
 * on the server's writer thread, inside one transaction shared with the
 * other writes waiting at that moment and a savepoint of its own; the group
 * commits once (one fsync for all) and every connection resumes.  fn must
 * use rhis_req_db (it then gets the writer's connection), must not begin or
 * commit, and answers by filling resp or by returning an error (its
 * savepoint is then rolled back, the others are unaffected).  Without
 * group commit fn runs now in a transaction of its own.  The handler
 * returns what this returns.
 */
rhis_status rhis_req_write(rhis_req *req,
                           rhis_resp *resp,
                           rhis_status (*fn)(rhis_req *req, rhis_resp *resp));
/*
 * Records that this request discloses a record (a read): the event is
 * committed before the response leaves.  With group commit the server
 * writes the request's events in the writer's next group (a lazy commit,
 * see rhis_db_begin_lazy) and only then answers, so reads share commits;
 * without it the event is written now in a lazy transaction of its own.
 * Strings of ev must live as long as the request (arena).
 */
rhis_status rhis_req_audit_disclosure(rhis_req *req,
                                      const rhis_audit_event *ev);
/* Parses the body as JSON under the configured caps; on failure records the
 * error and returns it.  *out is owned by the request (freed with it). */
rhis_status rhis_req_json(rhis_req *req, json_object **out);
/* Records an error for the response and returns st. */
rhis_status rhis_req_errorf(rhis_req *req, rhis_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records which element of the input is at fault (FHIRPath-like). */
void rhis_req_error_expr(rhis_req *req, const char *expr);
/* RHIS_EFORBIDDEN (recorded, with a message) if code is outside the
 * caller's area scope. */
rhis_status rhis_req_check_area(rhis_req *req, const char *code);
/* Writes an audit event for this request on db (handler-owned tx). */
rhis_status rhis_req_audit(rhis_req *req,
                           rhis_db *db,
                           const char *action,
                           const char *operation,
                           const char *rtype,
                           const char *rid,
                           int outcome);

/* Takes a reference on obj's serialisation (obj may be freed after). */
void rhis_resp_json(rhis_resp *resp, int status, json_object *obj);
void rhis_resp_text(rhis_resp *resp,
                    int status,
                    const char *ctype,
                    const char *text,
                    size_t len);
/* Adds a header; name and value must outlive the response (arena). */
void rhis_resp_header(rhis_resp *resp, const char *name, const char *value);

/* Maps a status to its HTTP code and to its OperationOutcome issue code. */
int rhis_http_code(rhis_status st);
const char *rhis_fhir_issue_code(rhis_status st);
/* Fills resp with an OperationOutcome for st and text. */
void rhis_resp_error(rhis_resp *resp,
                     rhis_status st,
                     const char *text,
                     const char *expr,
                     const char *request_id);

/* Writes the Prometheus text exposition of the server's counters. */
void rhis_server_metrics_write(struct rhis_server *srv, rhis_buf *out);

/* Login throttling shared by all request threads (src/http/ratelimit.c):
 * returns RHIS_ERATE when key has seen `limit` hits within `window`
 * seconds; otherwise records a hit when `record` is true. */
rhis_status rhis_ratelimit_hit(struct rhis_server *srv,
                               const char *key,
                               int limit,
                               int window,
                               int record);
/* Forgets the hits of key (after a successful login). */
void rhis_ratelimit_clear(struct rhis_server *srv, const char *key);

/* Server lifecycle (src/http/server.c). */
typedef struct rhis_server rhis_server;
rhis_status rhis_server_new(rhis_server **out,
                            const rhis_config *conf,
                            char *err,
                            size_t errlen);
/* Blocks until SIGTERM/SIGINT, then stops accepting, finishes in-flight
 * requests within conf->shutdown_grace and returns. */
rhis_status rhis_server_run(rhis_server *srv);
void rhis_server_free(rhis_server *srv);

#endif
