/*
 * server.c - the libmicrohttpd listener and the request dispatcher.
 *
 * Why: every request passes the same fixed phases - parse, route,
 * authenticate, authorise, handler, audit/log - so policy lives in the route
 * table, not in handlers (nginx phases).  libmicrohttpd runs an epoll thread
 * pool; slow work (argon2id at login) is handed to a small worker pool while
 * the connection is suspended, so it never blocks other requests.
 *
 * libmicrohttpd 0.9.75 closes keep-alive connections when a response is
 * queued in the first, headers-only callback, so ordinary answers are
 * queued after the body phase.  Only refusals (body over the cap) answer
 * early, on purpose closing the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rhis/audit.h"
#include "rhis/http.h"
#include "rhis/json.h"
#include "rhis/log.h"
#include "rhis/mpi.h"
#include "server_int.h"

/* Latency histogram bounds in seconds (Prometheus le labels). */
static const double buckets[NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};

enum { PHASE_HEADERS = 0, PHASE_BODY, PHASE_DEFERRED, PHASE_READY };

typedef struct conn_ctx {
    rhis_server *srv;
    rhis_req req;
    rhis_resp resp;
    rhis_buf body;
    _Atomic int phase; /* written by a login worker, read after resume */
    int too_big;
    struct timespec start;
    char *raw_uri;
    struct MHD_Connection *conn;
} conn_ctx;

static double
elapsed(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- request helpers used by handlers ---- */

const char *
rhis_req_param(const rhis_req *req, const char *name)
{
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.params[i].key, name) == 0)
            return req->match.params[i].value;
    return NULL;
}

const char *
rhis_req_query(const rhis_req *req, const char *key)
{
    for (int i = 0; i < req->query.n; i++)
        if (strcmp(req->query.kv[i].key, key) == 0)
            return req->query.kv[i].value;
    return NULL;
}

const char *
rhis_req_header(rhis_req *req, const char *name)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static void
put_db(void *data)
{
    rhis_req *req = data;
    if (req->db != NULL) {
        rhis_db_pool_put(req->srv->pool, req->db);
        req->db = NULL;
    }
}

/* The writer's job for a request whose only writes are its disclosures. */
static rhis_status
write_disclosures(rhis_req *req, rhis_resp *resp)
{
    (void)resp;
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    for (int i = 0; rc == RHIS_OK && i < req->npending_audit; i++)
        rc = rhis_audit_write(db, &req->pending_audit[i]);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO,
                               "cannot write the audit event of this read");
    return RHIS_OK;
}

rhis_status
rhis_req_audit_disclosure(rhis_req *req, const rhis_audit_event *ev)
{
    rhis_req *own = req->audit_owner != NULL ? req->audit_owner : req;
    if (own->srv != NULL && own->srv->gstarted && own->commit_fn == NULL) {
        if (own->npending_audit == own->cap_pending_audit) {
            int cap =
                own->cap_pending_audit == 0 ? 4 : 2 * own->cap_pending_audit;
            rhis_audit_event *a =
                rhis_arena_alloc(own->arena, sizeof(*a) * (size_t)cap);
            if (own->npending_audit > 0)
                memcpy(a, own->pending_audit,
                       sizeof(*a) * (size_t)own->npending_audit);
            own->pending_audit = a;
            own->cap_pending_audit = cap;
        }
        own->pending_audit[own->npending_audit++] = *ev;
        return RHIS_OK;
    }
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    int own_tx = !rhis_db_in_tx(db);
    if (own_tx && (rc = rhis_db_begin_lazy(db)) != RHIS_OK)
        return rc;
    rc = rhis_audit_write(db, ev);
    if (own_tx) {
        if (rc == RHIS_OK)
            rc = rhis_db_commit(db);
        if (rc != RHIS_OK)
            rhis_db_rollback(db);
    }
    return rc;
}

rhis_status
rhis_req_db(rhis_req *req, rhis_db **out)
{
    if (req->db == NULL) {
        rhis_status rc = rhis_db_pool_get(req->srv->pool, 5000, &req->db);
        if (rc != RHIS_OK) {
            *out = NULL;
            return rhis_req_errorf(req, RHIS_EBUSY, "database busy, try again");
        }
        rhis_arena_defer(req->arena, put_db, req);
    }
    *out = req->db;
    return RHIS_OK;
}

static void
json_put(void *data)
{
    json_object_put(data);
}

rhis_status
rhis_req_json(rhis_req *req, json_object **out)
{
    *out = NULL;
    const char *ct = rhis_req_header(req, "Content-Type");
    if (ct != NULL && strncmp(ct, "application/json", 16) != 0 &&
        strncmp(ct, "application/fhir+json", 21) != 0)
        return rhis_req_errorf(req, RHIS_EUNSUPPORTED,
                               "Content-Type must be application/json or "
                               "application/fhir+json");
    if (req->body_len == 0)
        return rhis_req_errorf(req, RHIS_EINVAL, "a JSON body is required");
    char err[160];
    json_object *obj;
    rhis_status rc =
        rhis_json_parse(req->body, req->body_len, req->conf->json_max_depth,
                        &obj, err, sizeof(err));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "%s", err);
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "the JSON body must be an object");
    }
    rhis_arena_defer(req->arena, json_put, obj);
    *out = obj;
    return RHIS_OK;
}

rhis_status
rhis_req_errorf(rhis_req *req, rhis_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->err_text, sizeof(req->err_text), fmt, ap);
    va_end(ap);
    req->err_status = st;
    return st;
}

void
rhis_req_error_expr(rhis_req *req, const char *expr)
{
    req->err_expr = expr;
}

rhis_status
rhis_req_check_area(rhis_req *req, const char *code)
{
    if (req->user == NULL || rhis_principal_covers_area(req->user, code))
        return RHIS_OK;
    return rhis_req_errorf(
        req, RHIS_EFORBIDDEN, "area %s is outside your scope (%s)", code,
        req->user->scope_area[0] != '\0' ? req->user->scope_area
                                         : req->user->inst_area);
}

static const char *
method_action(const char *method)
{
    if (strcmp(method, "POST") == 0)
        return "C";
    if (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
        return "U";
    if (strcmp(method, "DELETE") == 0)
        return "D";
    return "R";
}

rhis_status
rhis_req_audit(rhis_req *req,
               rhis_db *db,
               const char *action,
               const char *operation,
               const char *rtype,
               const char *rid,
               int outcome)
{
    rhis_audit_event ev = {
        .user_id = req->user != NULL ? req->user->user_id : 0,
        .username = req->user != NULL ? req->user->username : NULL,
        .role = req->user != NULL ? rhis_role_name(req->user->role) : NULL,
        .action = action != NULL ? action : method_action(req->method),
        .operation = operation,
        .resource_type = rtype,
        .resource_id = rid,
        .patient_id = req->audit_patient,
        .outcome = outcome,
        .address = req->client_addr,
        .request_id = req->request_id,
        .detail = req->match.route != NULL ? req->match.route->pattern : NULL,
    };
    rhis_status rc = rhis_audit_write(db, &ev);
    if (rc == RHIS_OK)
        req->audit_done = 1;
    return rc;
}

/* ---- phases ---- */

static rhis_status
authenticate(rhis_req *req)
{
    const char *h = rhis_req_header(req, "Authorization");
    if (h == NULL)
        return rhis_req_errorf(req, RHIS_EUNAUTH,
                               "authentication required: send "
                               "'Authorization: Bearer TOKEN' from POST "
                               "/api/v1/login");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return rhis_req_errorf(req, RHIS_EUNAUTH,
                               "Authorization must use the Bearer scheme");
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_auth_token_check(db, h + 7, &req->principal_store);
    if (rc == RHIS_EUNAUTH)
        return rhis_req_errorf(req, RHIS_EUNAUTH,
                               "token is unknown, revoked or expired; log in "
                               "again");
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot check the token");
    req->user = &req->principal_store;
    return RHIS_OK;
}

static rhis_status
authorise(rhis_req *req)
{
    const rhis_route *r = req->match.route;
    if ((r->roles & req->user->role) != 0)
        return RHIS_OK;
    char roles[160];
    rhis_roles_format(r->roles, roles, sizeof(roles));
    return rhis_req_errorf(
        req, RHIS_EFORBIDDEN, "role %s may not use %s %s (allowed: %s)",
        rhis_role_name(req->user->role), r->method, r->pattern, roles);
}

/* Writes the dispatcher's audit event for audited routes and refusals. */
static void
audit_phase(rhis_req *req, int status)
{
    const rhis_route *r = req->match.route;
    if (req->audit_done || r == NULL)
        return;
    int audited =
        (r->flags & (ROUTE_AUDIT | ROUTE_WRITE)) != 0 || status == 403;
    if (!audited)
        return;
    rhis_db *db;
    if (rhis_req_db(req, &db) != RHIS_OK)
        return;
    rhis_db_rollback(db); /* never inside a failed handler transaction */
    const char *op = status == 403 ? "forbidden" : r->summary;
    if (rhis_req_audit(req, db, NULL, op, req->audit_type, req->audit_id,
                       status) != RHIS_OK)
        rhis_log(RHIS_LOG_ERR, "msg=\"audit write failed\" rid=%s",
                 req->request_id);
}

static void
dispatch(conn_ctx *c)
{
    rhis_req *req = &c->req;
    rhis_resp *resp = &c->resp;
    rhis_server *srv = c->srv;
    rhis_status rc;

    /* parse */
    const char *q = strchr(c->raw_uri, '?');
    size_t plen = q != NULL ? (size_t)(q - c->raw_uri) : strlen(c->raw_uri);
    req->raw_query = q != NULL ? q + 1 : "";
    req->path = rhis_url_decode(req->arena, c->raw_uri, plen, 0);
    if (req->path == NULL) {
        rc = rhis_req_errorf(req, RHIS_EINVAL,
                             "malformed percent-encoding in the path");
        goto done;
    }
    rc = rhis_query_parse(req->arena, req->raw_query, strlen(req->raw_query),
                          &req->query);
    if (rc != RHIS_OK) {
        rhis_req_errorf(req, rc,
                        rc == RHIS_ETOOBIG
                            ? "too many query parameters (at most %d)"
                            : "malformed query string (bad %%-escape, "
                              "invalid UTF-8 or empty name)",
                        RHIS_MAX_QUERY_PARAMS);
        goto done;
    }
    if (c->too_big) {
        rc = rhis_req_errorf(req, RHIS_ETOOBIG, "request body exceeds %d bytes",
                             req->conf->max_body_bytes);
        goto done;
    }
    req->body = c->body.data != NULL ? c->body.data : "";
    req->body_len = c->body.len;

    /* route */
    rc = rhis_route_find(srv->routes, srv->nroutes, req->method, req->path,
                         req->arena, &req->match);
    if (rc == RHIS_ENOTFOUND) {
        rhis_req_errorf(req, rc, "no such endpoint: %s", req->path);
        goto done;
    }
    if (rc == RHIS_EMETHOD) {
        rhis_req_errorf(req, rc, "method %s is not allowed on %s", req->method,
                        req->path);
        goto done;
    }
    const rhis_route *r = req->match.route;

    /* authenticate, authorise */
    if ((r->flags & ROUTE_AUTH) != 0) {
        rc = authenticate(req);
        if (rc == RHIS_OK)
            rc = authorise(req);
        if (rc != RHIS_OK)
            goto done;
    }

    /* handler */
    if ((r->flags & ROUTE_BODY) != 0 && req->body_len == 0) {
        rc = rhis_req_errorf(req, RHIS_EINVAL, "a JSON body is required");
        goto done;
    }
    rc = r->fn(req, resp);
    if (rc == RHIS_OK && req->defer_fn == NULL && req->commit_fn == NULL &&
        req->npending_audit > 0) {
        /* audit before disclosure, in the writer's next group */
        put_db(req);
        req->commit_fn = write_disclosures;
        req->commit_lazy = 1;
    }
    if (rc == RHIS_OK && (req->defer_fn != NULL || req->commit_fn != NULL))
        return; /* the caller suspends and hands off */
done:
    if (rc != RHIS_OK) {
        if (req->err_status == RHIS_OK || req->err_status != rc)
            if (req->err_text[0] == '\0')
                snprintf(req->err_text, sizeof(req->err_text), "%s",
                         rhis_status_name(rc));
        rhis_resp_error(resp, rc, req->err_text, req->err_expr,
                        req->request_id);
    }
    c->phase = PHASE_READY;
}

static void
access_log(conn_ctx *c, int status, size_t bytes)
{
    double sec = elapsed(&c->start);
    rhis_server *srv = c->srv;
    int b = 0;
    while (b < NBUCKETS && sec > buckets[b])
        b++;
    atomic_fetch_add(&srv->hist[b], 1);
    atomic_fetch_add(&srv->dur_us, (uint64_t)(sec * 1e6));
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&srv->by_class[cls], 1);
    if (!srv->conf.access_log)
        return;
    const rhis_req *req = &c->req;
    /* the route pattern, never the path: paths and queries may carry
     * identifiers of people */
    rhis_log(RHIS_LOG_INFO,
             "msg=access rid=%s method=%s route=%s status=%d bytes=%zu "
             "dur_ms=%.3f user=%lld addr=%s",
             req->request_id, req->method,
             req->match.route != NULL ? req->match.route->pattern : "-", status,
             bytes, sec * 1000.0,
             req->user != NULL ? (long long)req->user->user_id : 0LL,
             req->client_addr != NULL ? req->client_addr : "-");
}

static const char *
mime_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static enum MHD_Result
queue(conn_ctx *c)
{
    rhis_req *req = &c->req;
    rhis_resp *resp = &c->resp;
    struct MHD_Response *mr = NULL;
    size_t bytes = 0;

    audit_phase(req, resp->status);
    if (req->db != NULL) {
        rhis_db_pool_put(c->srv->pool, req->db);
        req->db = NULL;
    }
    if (resp->file_path != NULL) {
        int fd = open(resp->file_path, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
            mr = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
            bytes = (size_t)sb.st_size;
            resp->content_type = mime_type(resp->file_path);
        } else {
            if (fd >= 0)
                close(fd);
            rhis_resp_error(resp, RHIS_ENOTFOUND, "no such file", NULL,
                            req->request_id);
        }
    }
    if (mr == NULL) {
        if (resp->status == 0)
            resp->status = 204;
        bytes = resp->body.len;
        if (resp->body.data == NULL)
            (void)rhis_buf_append(&resp->body, "", 0);
        mr = MHD_create_response_from_buffer(resp->body.len, resp->body.data,
                                             MHD_RESPMEM_MUST_COPY);
    }
    if (mr == NULL)
        return MHD_NO;
    if (resp->content_type != NULL)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type);
    MHD_add_response_header(mr, "X-Request-Id", req->request_id);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (resp->status == 405 && req->path != NULL) {
        /* Allow lists the methods the path does take */
        char allow[64] = "";
        size_t n = 0;
        for (size_t i = 0; i < c->srv->nroutes; i++) {
            const rhis_route *r = &c->srv->routes[i];
            rhis_route_match m;
            if ((r->flags & ROUTE_STATIC) != 0 ||
                rhis_route_find(r, 1, r->method, req->path, req->arena, &m) !=
                    RHIS_OK ||
                strstr(allow, r->method) != NULL)
                continue;
            int w = snprintf(allow + n, sizeof(allow) - n, "%s%s",
                             n > 0 ? ", " : "", r->method);
            if (w > 0 && (size_t)w < sizeof(allow) - n)
                n += (size_t)w;
        }
        MHD_add_response_header(mr, "Allow", allow);
    }
    if (resp->status == 401)
        MHD_add_response_header(mr, "WWW-Authenticate",
                                "Bearer realm=\"rhis\"");
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].key,
                                resp->headers[i].value);
    enum MHD_Result ret =
        MHD_queue_response(c->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    access_log(c, resp->status, bytes);
    return ret;
}

/* ---- deferred work: a bounded pool of worker threads ---- */

static void *
worker_main(void *arg)
{
    rhis_server *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->wmu);
        while (srv->whead == NULL && !srv->wstop)
            pthread_cond_wait(&srv->wcv, &srv->wmu);
        if (srv->whead == NULL && srv->wstop) {
            pthread_mutex_unlock(&srv->wmu);
            return NULL;
        }
        conn_ctx *c = srv->whead->ctx;
        work_item *it = srv->whead;
        srv->whead = it->next;
        if (srv->whead == NULL)
            srv->wtail = NULL;
        srv->wqueued--;
        pthread_mutex_unlock(&srv->wmu);
        rhis_free(it);

        rhis_status rc = c->req.defer_fn(&c->req, &c->resp);
        if (rc != RHIS_OK) {
            if (c->req.err_text[0] == '\0')
                snprintf(c->req.err_text, sizeof(c->req.err_text), "%s",
                         rhis_status_name(rc));
            rhis_resp_error(&c->resp, rc, c->req.err_text, c->req.err_expr,
                            c->req.request_id);
        }
        c->phase = PHASE_READY;
        MHD_resume_connection(c->conn);
    }
}

/* Queues c for the workers; RHIS_EBUSY when the queue is full. */
static rhis_status
defer(rhis_server *srv, conn_ctx *c)
{
    pthread_mutex_lock(&srv->wmu);
    if (srv->wqueued >= MAX_DEFERRED) {
        pthread_mutex_unlock(&srv->wmu);
        return RHIS_EBUSY;
    }
    work_item *it = rhis_xcalloc(1, sizeof(*it));
    it->ctx = c;
    if (srv->wtail != NULL)
        srv->wtail->next = it;
    else
        srv->whead = it;
    srv->wtail = it;
    srv->wqueued++;
    pthread_cond_signal(&srv->wcv);
    pthread_mutex_unlock(&srv->wmu);
    return RHIS_OK;
}

/* ---- group commit: one writer thread, one durable commit per group ---- */

/* The answer of a request whose work failed (worker or writer). */
static void
fail_response(conn_ctx *c, rhis_status rc)
{
    if (c->req.err_status == RHIS_OK || c->req.err_text[0] == '\0') {
        c->req.err_status = rc;
        if (c->req.err_text[0] == '\0')
            snprintf(c->req.err_text, sizeof(c->req.err_text), "%s",
                     rhis_status_name(rc));
    }
    rhis_resp_error(&c->resp, rc, c->req.err_text, c->req.err_expr,
                    c->req.request_id);
}

rhis_status
rhis_req_write(rhis_req *req,
               rhis_resp *resp,
               rhis_status (*fn)(rhis_req *req, rhis_resp *resp))
{
    if (req->srv != NULL && req->srv->gstarted) {
        /* the pooled connection is not needed while waiting */
        put_db(req);
        req->commit_fn = fn;
        return RHIS_OK;
    }
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    if ((rc = rhis_db_begin(db)) != RHIS_OK)
        return rhis_req_errorf(req, rc, "database busy, try again");
    rc = fn(req, resp);
    if (rc == RHIS_OK && (rc = rhis_db_commit(db)) != RHIS_OK)
        rhis_req_errorf(req, rc == RHIS_ECONFLICT ? rc : RHIS_EIO,
                        "cannot save the change");
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    return rc;
}

/* Runs one queued write inside the group's transaction. */
static rhis_status
run_write(rhis_db *db, conn_ctx *c)
{
    rhis_req *req = &c->req;
    rhis_status rc = rhis_db_exec(db, "SAVEPOINT w");
    if (rc != RHIS_OK)
        return rc;
    rhis_db *own = req->db;
    req->db = db;
    rc = req->commit_fn(req, &c->resp);
    req->db = own;
    if (rc != RHIS_OK) {
        (void)rhis_db_exec(db, "ROLLBACK TO w");
        (void)rhis_db_exec(db, "RELEASE w");
        fail_response(c, rc);
        return RHIS_OK; /* this write failed, the group goes on */
    }
    return rhis_db_exec(db, "RELEASE w");
}

static void
finish_group(conn_ctx **batch, int n)
{
    for (int i = 0; i < n; i++) {
        batch[i]->phase = PHASE_READY;
        MHD_resume_connection(batch[i]->conn);
    }
}

static void *
writer_main(void *arg)
{
    rhis_server *srv = arg;
    int max = srv->conf.group_commit;
    conn_ctx **batch = rhis_xcalloc((size_t)max, sizeof(*batch));
    rhis_db *db = NULL;
    int wal_handed_off = 0;
    char err[256];
    for (;;) {
        pthread_mutex_lock(&srv->gmu);
        while (srv->ghead == NULL && !srv->gstop)
            pthread_cond_wait(&srv->gcv, &srv->gmu);
        if (srv->ghead == NULL && srv->gstop) {
            pthread_mutex_unlock(&srv->gmu);
            break;
        }
        int n = 0;
        while (srv->ghead != NULL && n < max) {
            work_item *it = srv->ghead;
            srv->ghead = it->next;
            batch[n++] = it->ctx;
            rhis_free(it);
        }
        if (srv->ghead == NULL)
            srv->gtail = NULL;
        srv->gqueued -= n;
        pthread_mutex_unlock(&srv->gmu);

        rhis_status rc = RHIS_OK;
        if (db == NULL &&
            rhis_db_open(&db, srv->conf.db, err, sizeof(err)) != RHIS_OK) {
            rhis_log(RHIS_LOG_ERR,
                     "msg=\"group-commit writer cannot open the database\"");
            db = NULL;
            rc = RHIS_EIO;
        } else if (db != NULL && srv->ckstarted && !wal_handed_off) {
            /* the checkpointer thread copies the WAL back, so a commit of
             * this thread never pays for a checkpoint */
            (void)rhis_db_exec(db, "PRAGMA wal_autocheckpoint=0");
            wal_handed_off = 1;
        }
        int lazy = 1;
        for (int i = 0; i < n; i++)
            lazy &= batch[i]->req.commit_lazy;
        if (rc == RHIS_OK)
            rc = lazy ? rhis_db_begin_lazy(db) : rhis_db_begin(db);
        for (int i = 0; i < n && rc == RHIS_OK; i++)
            rc = run_write(db, batch[i]);
        if (rc == RHIS_OK)
            rc = rhis_db_commit(db);
        if (rc != RHIS_OK) {
            /* the whole group is lost: every request gets the error */
            if (db != NULL)
                rhis_db_rollback(db);
            for (int i = 0; i < n; i++) {
                batch[i]->req.err_text[0] = '\0';
                rhis_req_errorf(&batch[i]->req, RHIS_EBUSY,
                                "the change could not be saved, try again");
                fail_response(batch[i], RHIS_EBUSY);
            }
        }
        atomic_fetch_add(&srv->groups, 1);
        atomic_fetch_add(&srv->group_writes, (uint64_t)n);
        finish_group(batch, n);
    }
    rhis_db_close(db);
    rhis_free(batch);
    return NULL;
}

/*
 * SQLite only: checkpoints the WAL every 250 ms (PASSIVE: never blocks a
 * writer or a reader), so the writer thread's commits do not run them.
 * Without it the commit that crosses 1000 WAL pages copies them back and
 * syncs the database file while every waiting write waits too.
 */
static void *
checkpointer_main(void *arg)
{
    rhis_server *srv = arg;
    rhis_db *db = NULL;
    char err[256];
    if (rhis_db_open(&db, srv->conf.db, err, sizeof(err)) != RHIS_OK)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&srv->gmu);
        int stop = srv->gstop;
        if (!stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 250 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&srv->ckcv, &srv->gmu, &until);
            stop = srv->gstop;
        }
        pthread_mutex_unlock(&srv->gmu);
        if (stop)
            break;
        (void)rhis_db_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    }
    rhis_db_close(db);
    return NULL;
}

/* Queues c for the writer; RHIS_EBUSY when too many writes wait. */
static rhis_status
enqueue_write(rhis_server *srv, conn_ctx *c)
{
    pthread_mutex_lock(&srv->gmu);
    if (srv->gqueued >= MAX_DEFERRED * 4) {
        pthread_mutex_unlock(&srv->gmu);
        return RHIS_EBUSY;
    }
    work_item *it = rhis_xcalloc(1, sizeof(*it));
    it->ctx = c;
    if (srv->gtail != NULL)
        srv->gtail->next = it;
    else
        srv->ghead = it;
    srv->gtail = it;
    srv->gqueued++;
    pthread_cond_signal(&srv->gcv);
    pthread_mutex_unlock(&srv->gmu);
    return RHIS_OK;
}

/* ---- libmicrohttpd callbacks ---- */

static void *
uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    rhis_server *srv = cls;
    conn_ctx *c = rhis_xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->req.arena = rhis_arena_new();
    c->raw_uri = rhis_arena_strdup(c->req.arena, uri != NULL ? uri : "/");
    c->req.conf = &srv->conf;
    c->req.srv = srv;
    c->req.audit_owner = &c->req;
    c->req.conn = conn;
    uint64_t n = atomic_fetch_add(&srv->seq, 1);
    snprintf(c->req.request_id, sizeof(c->req.request_id), "%08x%012llx",
             srv->boot_id, (unsigned long long)n);
    rhis_buf_init(&c->body, (size_t)srv->conf.max_body_bytes);
    rhis_buf_init(&c->resp.body, 64u << 20);
    atomic_fetch_add(&srv->inflight, 1);
    atomic_fetch_add(&srv->total, 1);
    return c;
}

static void
completed_cb(void *cls,
             struct MHD_Connection *conn,
             void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    rhis_server *srv = cls;
    conn_ctx *c = *con_cls;
    if (c == NULL)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        atomic_fetch_add(&srv->aborted, 1);
    rhis_arena_free(c->req.arena); /* also returns the db connection */
    rhis_buf_fini(&c->body);
    rhis_buf_fini(&c->resp.body);
    rhis_free(c);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

static void
client_address(conn_ctx *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char buf[INET6_ADDRSTRLEN] = "-";
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                      sizeof(buf));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                      buf, sizeof(buf));
    }
    c->req.client_addr = rhis_arena_strdup(c->req.arena, buf);
}

static enum MHD_Result
access_cb(void *cls,
          struct MHD_Connection *conn,
          const char *url,
          const char *method,
          const char *version,
          const char *upload_data,
          size_t *upload_data_size,
          void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    conn_ctx *c = *con_cls;
    if (c == NULL)
        return MHD_NO; /* cannot happen: uri_log_cb always runs first */

    switch (atomic_load(&c->phase)) {
    case PHASE_HEADERS: {
        c->req.method = rhis_arena_strdup(c->req.arena, method);
        client_address(c);
        const char *cl = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end == cl || *end != '\0' ||
                n > (unsigned long long)c->srv->conf.max_body_bytes) {
                /* refuse before reading: this closes the connection */
                c->too_big = 1;
                c->phase = PHASE_BODY;
                dispatch(c);
                return queue(c);
            }
        }
        c->phase = PHASE_BODY;
        return MHD_YES;
    }
    case PHASE_BODY:
        if (*upload_data_size > 0) {
            if (!c->too_big && rhis_buf_append(&c->body, upload_data,
                                               *upload_data_size) != RHIS_OK)
                c->too_big = 1;
            *upload_data_size = 0;
            return MHD_YES;
        }
        dispatch(c);
        if (c->phase != PHASE_READY) {
            /* suspend before the hand-off, so the worker's resume can never
             * come first */
            c->phase = PHASE_DEFERRED;
            MHD_suspend_connection(conn);
            int is_write = c->req.commit_fn != NULL;
            if ((is_write ? enqueue_write(c->srv, c) : defer(c->srv, c)) !=
                RHIS_OK) {
                rhis_req_errorf(&c->req, RHIS_EBUSY,
                                is_write ? "too many writes waiting, try again"
                                         : "too many logins in progress, "
                                           "try again");
                rhis_resp_error(&c->resp, RHIS_EBUSY, c->req.err_text, NULL,
                                c->req.request_id);
                c->phase = PHASE_READY;
                MHD_resume_connection(conn);
            }
            return MHD_YES;
        }
        return queue(c);
    case PHASE_DEFERRED:
        return MHD_YES; /* spurious wake-up before the worker finished */
    case PHASE_READY:
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return queue(c);
    }
    return MHD_NO;
}

/* ---- lifecycle ---- */

static rhis_status
parse_listen(const char *listen,
             struct sockaddr_in *sa,
             char *err,
             size_t errlen)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL) {
        snprintf(err, errlen, "listen '%s' must be HOST:PORT", listen);
        return RHIS_EINVAL;
    }
    char host[64];
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof(host)) {
        snprintf(err, errlen, "listen host too long");
        return RHIS_EINVAL;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
        snprintf(err, errlen, "listen port '%s' is not 1..65535", colon + 1);
        return RHIS_EINVAL;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, hlen == 0 ? "0.0.0.0" : host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "listen host '%s' is not an IPv4 address", host);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

rhis_status
rhis_server_new(rhis_server **out,
                const rhis_config *conf,
                char *err,
                size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return RHIS_EINTERNAL;
    }
    rhis_server *srv = rhis_xcalloc(1, sizeof(*srv));
    srv->conf = *conf;
    srv->routes = rhis_routes(&srv->nroutes);
    srv->boot_id = randombytes_random();
    pthread_mutex_init(&srv->wmu, NULL);
    pthread_cond_init(&srv->wcv, NULL);
    pthread_mutex_init(&srv->gmu, NULL);
    pthread_cond_init(&srv->gcv, NULL);
    pthread_cond_init(&srv->ckcv, NULL);
    pthread_mutex_init(&srv->rl_mu, NULL);
    rhis_status rc = parse_listen(conf->listen, &srv->addr, err, errlen);
    if (rc == RHIS_OK)
        rc = rhis_db_pool_new(&srv->pool, conf->db, conf->db_pool, err, errlen);
    if (rc != RHIS_OK) {
        rhis_server_free(srv);
        return rc;
    }
    /* load the master patient index now, not on the first request */
    rhis_db *db;
    if (rhis_db_pool_get(srv->pool, 5000, &db) == RHIS_OK) {
        rhis_mpi_index *ix;
        if (rhis_mpi_global(db, &ix) != RHIS_OK)
            rhis_log(RHIS_LOG_WARN,
                     "msg=\"master patient index not loaded; it loads on "
                     "first use\"");
        rhis_db_pool_put(srv->pool, db);
    }
    *out = srv;
    return RHIS_OK;
}

static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p != '\0'; p++)
        if (*p == '"')
            *p = '\'';
    rhis_log(RHIS_LOG_DEBUG, "msg=\"mhd: %s\"", msg);
}

rhis_status
rhis_server_run(rhis_server *srv)
{
    rhis_config *conf = &srv->conf;
    if (conf->threads == 0) {
        /* one per core: measured best on p99 (docs/performance.md) */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        conf->threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* block before any thread starts so only sigwait below sees them */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (conf->group_commit > 0) {
        if (strncmp(conf->db, "sqlite:", 7) == 0) {
            srv->ckstarted = 1;
            pthread_create(&srv->checkpointer, NULL, checkpointer_main, srv);
        }
        srv->gstarted = 1;
        pthread_create(&srv->gwriter, NULL, writer_main, srv);
    }
    srv->nworkers = conf->login_workers;
    srv->workers = rhis_xcalloc((size_t)srv->nworkers, sizeof(pthread_t));
    for (int i = 0; i < srv->nworkers; i++)
        pthread_create(&srv->workers[i], NULL, worker_main, srv);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)&srv->addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)conf->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)conf->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)conf->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)conf->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)conf->max_header_bytes, MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, srv,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        rhis_log(RHIS_LOG_ERR, "msg=\"cannot listen\" listen=%s errno=%d",
                 conf->listen, errno);
        return RHIS_EIO;
    }
    rhis_log(RHIS_LOG_INFO,
             "msg=\"serving\" listen=%s threads=%d db_pool=%d routes=%zu",
             conf->listen, conf->threads, conf->db_pool, srv->nroutes);

    int sig = 0;
    sigwait(&set, &sig);
    rhis_log(RHIS_LOG_INFO, "msg=\"shutting down\" signal=%d inflight=%ld", sig,
             (long)atomic_load(&srv->inflight));
    /* stop accepting, then let in-flight requests finish */
    MHD_socket ls = MHD_quiesce_daemon(srv->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (atomic_load(&srv->inflight) > 0 &&
           elapsed(&start) < (double)conf->shutdown_grace) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    long left = (long)atomic_load(&srv->inflight);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    rhis_log(RHIS_LOG_INFO, "msg=\"stopped\" unfinished=%ld", left);
    return RHIS_OK;
}

void
rhis_server_free(rhis_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->mhd != NULL)
        MHD_stop_daemon(srv->mhd);
    if (srv->gstarted) {
        pthread_mutex_lock(&srv->gmu);
        srv->gstop = 1;
        pthread_cond_broadcast(&srv->gcv);
        pthread_cond_broadcast(&srv->ckcv);
        pthread_mutex_unlock(&srv->gmu);
        pthread_join(srv->gwriter, NULL);
        if (srv->ckstarted)
            pthread_join(srv->checkpointer, NULL);
    }
    if (srv->workers != NULL) {
        pthread_mutex_lock(&srv->wmu);
        srv->wstop = 1;
        pthread_cond_broadcast(&srv->wcv);
        pthread_mutex_unlock(&srv->wmu);
        for (int i = 0; i < srv->nworkers; i++)
            pthread_join(srv->workers[i], NULL);
        rhis_free(srv->workers);
    }
    rhis_ratelimit_free_all(srv);
    rhis_db_pool_free(srv->pool);
    pthread_mutex_destroy(&srv->wmu);
    pthread_cond_destroy(&srv->wcv);
    pthread_mutex_destroy(&srv->gmu);
    pthread_cond_destroy(&srv->gcv);
    pthread_cond_destroy(&srv->ckcv);
    pthread_mutex_destroy(&srv->rl_mu);
    rhis_free(srv);
}

void
rhis_server_metrics_write(rhis_server *srv, rhis_buf *out)
{
    rhis_buf_puts(out, "# HELP rhis_http_requests_total HTTP requests by "
                       "status class.\n# TYPE rhis_http_requests_total "
                       "counter\n");
    for (int cls = 1; cls <= 5; cls++)
        rhis_buf_printf(out, "rhis_http_requests_total{code=\"%dxx\"} %llu\n",
                        cls,
                        (unsigned long long)atomic_load(&srv->by_class[cls]));
    rhis_buf_printf(out,
                    "# HELP rhis_http_requests_in_flight Requests being "
                    "served.\n# TYPE rhis_http_requests_in_flight gauge\n"
                    "rhis_http_requests_in_flight %ld\n",
                    (long)atomic_load(&srv->inflight));
    rhis_buf_printf(out,
                    "# HELP rhis_http_requests_aborted_total Requests ended "
                    "by timeout or client.\n# TYPE "
                    "rhis_http_requests_aborted_total counter\n"
                    "rhis_http_requests_aborted_total %llu\n",
                    (unsigned long long)atomic_load(&srv->aborted));
    rhis_buf_puts(out, "# HELP rhis_http_request_duration_seconds Request "
                       "latency.\n# TYPE rhis_http_request_duration_seconds "
                       "histogram\n");
    unsigned long long cum = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        cum += atomic_load(&srv->hist[b]);
        rhis_buf_printf(out,
                        "rhis_http_request_duration_seconds_bucket{le=\"%g\"}"
                        " %llu\n",
                        buckets[b], cum);
    }
    cum += atomic_load(&srv->hist[NBUCKETS]);
    rhis_buf_printf(out,
                    "rhis_http_request_duration_seconds_bucket{le=\"+Inf\"} "
                    "%llu\n"
                    "rhis_http_request_duration_seconds_sum %.6f\n"
                    "rhis_http_request_duration_seconds_count %llu\n",
                    cum, (double)atomic_load(&srv->dur_us) / 1e6, cum);
    rhis_buf_printf(out,
                    "# HELP rhis_login_queue Logins waiting for a hashing "
                    "worker.\n# TYPE rhis_login_queue gauge\n"
                    "rhis_login_queue %d\n",
                    srv->wqueued);
    rhis_buf_printf(out,
                    "# HELP rhis_commit_groups_total Durable commits of the "
                    "group-commit writer.\n# TYPE rhis_commit_groups_total "
                    "counter\nrhis_commit_groups_total %llu\n"
                    "# HELP rhis_group_writes_total Writes committed by the "
                    "group-commit writer.\n# TYPE rhis_group_writes_total "
                    "counter\nrhis_group_writes_total %llu\n",
                    (unsigned long long)atomic_load(&srv->groups),
                    (unsigned long long)atomic_load(&srv->group_writes));
}
