/*
 * api_signal.c - signals and warnings over HTTP: the CDC duty desk.
 *
 * Why: the console lists the signals a CDC must answer, most severe and
 * most urgent first, shows one with its evidence, and records the answer:
 * verify, dismiss with a reason, escalate, or raise a warning (预警) of a
 * type and an audience.  Each answer is one durable write through the
 * group-commit writer: the guarded state change, its signal_event row and
 * its audit event commit together or not at all.
 *
 * Routes (src/http/routes.c), roles cdc (within its area) and admin:
 *   GET  /api/v1/signals?state=&severity=&kind=&area=&since=&until=
 *                        &escalated=1&pushed=1|0&_count=&_offset=
 *        (pushed=1: the signals that need a response, what the console's
 *        main list shows; pushed=0: the evidence behind them; absent: both)
 *   GET  /api/v1/signals/kpi?area=&from=&to=&by=child   (+ planner)
 *   GET  /api/v1/signals/grid?area=&from=&to=
 *   GET  /api/v1/signals/{id}
 *   POST /api/v1/signals/{id}/verify    {"note"?}
 *   POST /api/v1/signals/{id}/dismiss   {"reason"}
 *   POST /api/v1/signals/{id}/escalate  {"note"}
 *   POST /api/v1/signals/{id}/warning   {"type","audience","content"}
 *   GET  /api/v1/warn/runs?_count=      the daily runs, newest first
 *   POST /api/v1/warn/runs  {"date"}    admin: run a day's detection now
 *                           (off the request threads, like a login hash)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/warn.h"
#include "warn_int.h"

#define LIST_DEFAULT 50
#define LIST_MAX     500

/* ---- parameters ---- */

static rhis_status
bad(rhis_req *req, const char *expr, const char *msg)
{
    if (expr != NULL)
        rhis_req_error_expr(req, expr);
    return rhis_req_errorf(req, RHIS_EINVAL, "%s", msg);
}

/* Refuses query parameters other than allowed (NULL-terminated). */
static rhis_status
known_params(rhis_req *req, const char *const *allowed, const char *list)
{
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key;
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok) {
            rhis_req_error_expr(req, k);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s' (known: %s)", k,
                                   list);
        }
    }
    return RHIS_OK;
}

static int
int_param(const char *s, long min, long max, long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A day parameter (YYYY-MM-DD) or NULL when absent. */
static rhis_status
day_param(rhis_req *req, const char *key, const char **out)
{
    const char *v = rhis_req_query(req, key);
    int64_t d;
    *out = NULL;
    if (v == NULL)
        return RHIS_OK;
    if (warn_day_parse(v, &d) != 0) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL, "%s must be a date YYYY-MM-DD",
                               key);
    }
    *out = v;
    return RHIS_OK;
}

/* An area code parameter: 2, 4, 6, 9 or 12 digits. */
static rhis_status
area_param(rhis_req *req, const char *key, const char **out)
{
    const char *v = rhis_req_query(req, key);
    *out = NULL;
    if (v == NULL)
        return RHIS_OK;
    size_t n = strlen(v);
    int ok = n == 2 || n == 4 || n == 6 || n == 9 || n == 12;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= '0' && v[i] <= '9';
    if (!ok) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "%s must be an area code of 2, 4, 6, 9 or 12 "
                               "digits",
                               key);
    }
    *out = v;
    return RHIS_OK;
}

/* The caller's area prefix ("" = everything). */
static const char *
scope_of(const rhis_req *req)
{
    if (req->user == NULL)
        return "";
    if (req->user->scope_area[0] != '\0')
        return req->user->scope_area;
    return req->user->inst_area;
}

static rhis_status
path_id(rhis_req *req, int64_t *out)
{
    const char *s = rhis_req_param(req, "id");
    char *end;
    long long v = s != NULL ? strtoll(s, &end, 10) : 0;
    if (s == NULL || *s < '1' || *s > '9' || *end != '\0' || v <= 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no signal '%.40s'",
                               s != NULL ? s : "");
    *out = v;
    return RHIS_OK;
}

static int
one_of(const char *s, const char *const *set)
{
    for (; s != NULL && *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* ---- reads ---- */

rhis_status
api_signal_list(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {
        "state",     "severity", "kind",   "area",    "since", "until",
        "escalated", "pushed",   "_count", "_offset", NULL};
    static const char *const STATES[] = {
        "new", "verified", "dismissed", "warning", "open", "all", NULL};
    static const char *const SEVS[] = {"red", "orange", "yellow", "blue", NULL};
    static const char *const KINDS[] = {"fixed", "temporal", "spatial", "fused",
                                        NULL};
    rhis_signal_filter f;
    memset(&f, 0, sizeof(f));
    rhis_status rc = known_params(req, allowed,
                                  "state, severity, kind, area, since, until, "
                                  "escalated, pushed, _count, _offset");
    if (rc != RHIS_OK)
        return rc;
    f.state = rhis_req_query(req, "state");
    if (f.state != NULL && !one_of(f.state, STATES))
        return bad(req, "state",
                   "state must be new, verified, dismissed, warning, open or "
                   "all");
    f.severity = rhis_req_query(req, "severity");
    if (f.severity != NULL && !one_of(f.severity, SEVS))
        return bad(req, "severity",
                   "severity must be red, orange, yellow or blue");
    f.kind = rhis_req_query(req, "kind");
    if (f.kind != NULL && !one_of(f.kind, KINDS))
        return bad(req, "kind",
                   "kind must be fixed, temporal, spatial or fused");
    const char *esc = rhis_req_query(req, "escalated");
    if (esc != NULL && strcmp(esc, "1") != 0 && strcmp(esc, "0") != 0)
        return bad(req, "escalated", "escalated must be 1 or 0");
    f.escalated = esc != NULL && strcmp(esc, "1") == 0;
    const char *pu = rhis_req_query(req, "pushed");
    if (pu != NULL && strcmp(pu, "1") != 0 && strcmp(pu, "0") != 0)
        return bad(req, "pushed",
                   "pushed must be 1 (signals that need a response) or 0 "
                   "(evidence)");
    f.pushed = pu == NULL ? 0 : strcmp(pu, "1") == 0 ? 1 : -1;
    long count = LIST_DEFAULT, offset = 0;
    const char *cs = rhis_req_query(req, "_count");
    const char *os = rhis_req_query(req, "_offset");
    if (cs != NULL && int_param(cs, 1, LIST_MAX, &count) != 0)
        return bad(req, "_count", "_count must be 1..500");
    if (os != NULL && int_param(os, 0, 100000000, &offset) != 0)
        return bad(req, "_offset", "_offset must be 0..100000000");
    f.count = (int)count;
    f.offset = offset;
    if ((rc = area_param(req, "area", &f.area)) != RHIS_OK ||
        (rc = day_param(req, "since", &f.since)) != RHIS_OK ||
        (rc = day_param(req, "until", &f.until)) != RHIS_OK)
        return rc;
    f.scope = scope_of(req);
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    json_object *o;
    rc = rhis_signal_list(db, &f, &o);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot list signals");
    json_object_object_add(o, "now", json_object_new_int64(warn_now_ms()));
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_signal_get(rhis_req *req, rhis_resp *resp)
{
    int64_t id = 0;
    rhis_db *db = NULL;
    rhis_status rc = path_id(req, &id);
    if (rc == RHIS_OK && req->query.n > 0)
        rc = bad(req, req->query.kv[0].key, "no query parameters here");
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    json_object *o;
    char area[16];
    rc = rhis_signal_get(db, id, &o, area);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "signal %lld not found", (long long)id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the signal");
    if ((rc = rhis_req_check_area(req, area)) != RHIS_OK) {
        json_object_put(o);
        return rc;
    }
    json_object_object_add(o, "now", json_object_new_int64(warn_now_ms()));
    req->audit_type = "Signal";
    req->audit_id = rhis_arena_printf(req->arena, "%lld", (long long)id);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* area (default: the caller's scope, else 22), from/to (default: the last
 * 30 days to today). */
static rhis_status
period_params(rhis_req *req,
              const char **area,
              const char **from,
              const char **to)
{
    rhis_status rc = area_param(req, "area", area);
    if (rc == RHIS_OK)
        rc = day_param(req, "from", from);
    if (rc == RHIS_OK)
        rc = day_param(req, "to", to);
    if (rc != RHIS_OK)
        return rc;
    if (*area == NULL) {
        const char *s = scope_of(req);
        *area = s[0] != '\0' ? s : "22";
    }
    if ((rc = rhis_req_check_area(req, *area)) != RHIS_OK)
        return rc;
    int64_t today = warn_now_ms() / 86400000;
    if (*to == NULL) {
        char *b = rhis_arena_alloc(req->arena, 11);
        warn_day_format(today, b, 11);
        *to = b;
    }
    if (*from == NULL) {
        int64_t t;
        char *b = rhis_arena_alloc(req->arena, 11);
        (void)warn_day_parse(*to, &t);
        warn_day_format(t - 29, b, 11);
        *from = b;
    }
    if (strcmp(*from, *to) > 0)
        return bad(req, "from", "from must not be after to");
    return RHIS_OK;
}

rhis_status
api_signal_kpi(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"area", "from", "to", "by", NULL};
    const char *area, *from, *to;
    rhis_status rc = known_params(req, allowed, "area, from, to, by");
    if (rc == RHIS_OK)
        rc = period_params(req, &area, &from, &to);
    if (rc != RHIS_OK)
        return rc;
    const char *by = rhis_req_query(req, "by");
    if (by != NULL && strcmp(by, "child") != 0 && strcmp(by, "none") != 0)
        return bad(req, "by", "by must be child or none");
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    json_object *o;
    rc = rhis_signal_kpi(db, area, from, to,
                         by == NULL || strcmp(by, "child") == 0, &o);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot compute the KPIs");
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_signal_grid(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"area", "from", "to", NULL};
    const char *area, *from, *to;
    rhis_status rc = known_params(req, allowed, "area, from, to");
    if (rc == RHIS_OK)
        rc = period_params(req, &area, &from, &to);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    json_object *o;
    rc = rhis_signal_grid(db, area, from, to, &o);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot count the signals");
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

rhis_status
api_warn_runs(rhis_req *req, rhis_resp *resp)
{
    static const char *const allowed[] = {"_count", NULL};
    rhis_status rc = known_params(req, allowed, "_count");
    if (rc != RHIS_OK)
        return rc;
    long count = 30;
    const char *cs = rhis_req_query(req, "_count");
    if (cs != NULL && int_param(cs, 1, 365, &count) != 0)
        return bad(req, "_count", "_count must be 1..365");
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_stmt *st = NULL;
    rc = rhis_db_query(db, &st,
                       "SELECT day, started_ms, COALESCE(finished_ms, 0),"
                       " status, series, signals, detail FROM warn_run"
                       " ORDER BY day DESC LIMIT ?",
                       "i", (int64_t)count);
    json_object *items = json_object_new_array();
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = json_object_new_object();
        const char *t;
        json_object_object_add(
            it, "day", json_object_new_string(rhis_db_column_text(st, 0)));
        json_object_object_add(
            it, "startedMs",
            json_object_new_int64(rhis_db_column_int64(st, 1)));
        int64_t fin = rhis_db_column_int64(st, 2);
        json_object_object_add(it, "finishedMs",
                               fin != 0 ? json_object_new_int64(fin) : NULL);
        json_object_object_add(
            it, "status", json_object_new_string(rhis_db_column_text(st, 3)));
        json_object_object_add(
            it, "series", json_object_new_int64(rhis_db_column_int64(st, 4)));
        json_object_object_add(
            it, "signals", json_object_new_int64(rhis_db_column_int64(st, 5)));
        t = rhis_db_column_text(st, 6);
        json_object_object_add(it, "detail",
                               t != NULL ? json_object_new_string(t) : NULL);
        json_object_array_add(items, it);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE && rc != RHIS_OK) {
        json_object_put(items);
        return rhis_req_errorf(req, rc, "cannot list the runs");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "items", items);
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

/* ---- answers ---- */

typedef struct answer {
    int64_t id;
    const char *action; /* verify, dismiss, escalate; NULL for a warning */
    const char *note;
    rhis_warning_spec w;
} answer;

/* A string member of at most max bytes; NULL when absent; error if it is
 * present with another type. */
static rhis_status
body_str(rhis_req *req,
         json_object *body,
         const char *key,
         int required,
         const char **out)
{
    json_object *v = rhis_json_get(body, key);
    *out = NULL;
    if (v == NULL && !required)
        return RHIS_OK;
    const char *s = v != NULL && json_object_is_type(v, json_type_string)
                        ? json_object_get_string(v)
                        : NULL;
    if (s == NULL || s[strspn(s, " \t\r\n")] == '\0') {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "'%s' is required: a non-empty string", key);
    }
    if (strlen(s) > RHIS_SIGNAL_MAX_NOTE) {
        rhis_req_error_expr(req, key);
        return rhis_req_errorf(req, RHIS_EINVAL, "'%s' is longer than %d bytes",
                               key, RHIS_SIGNAL_MAX_NOTE);
    }
    *out = rhis_arena_strdup(req->arena, s);
    return RHIS_OK;
}

static rhis_status
only_members(rhis_req *req, json_object *body, const char *const *allowed)
{
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        if (!one_of(key, allowed)) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, key));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown member '%.40s' in the body", key);
        }
    }
    return RHIS_OK;
}

static rhis_actor
actor_of(rhis_req *req)
{
    rhis_actor a = {
        .user_id = req->user != NULL ? req->user->user_id : 0,
        .username = req->user != NULL ? req->user->username : NULL,
        .role = req->user != NULL ? rhis_role_name(req->user->role) : NULL,
        .address = req->client_addr,
        .request_id = req->request_id,
    };
    return a;
}

/* The write, on the writer's connection inside its transaction. */
static rhis_status
answer_commit(rhis_req *req, rhis_resp *resp)
{
    answer *a = req->defer_data;
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    /* the scope is checked again here, on the state the write sees */
    json_object *cur;
    char area[16];
    rc = rhis_signal_get(db, a->id, &cur, area);
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "signal %lld not found",
                               (long long)a->id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the signal");
    json_object_put(cur);
    if ((rc = rhis_req_check_area(req, area)) != RHIS_OK)
        return rc;
    rhis_actor who = actor_of(req);
    char err[256] = "";
    int64_t now = warn_now_ms();
    int64_t wid = 0;
    if (a->action != NULL)
        rc = rhis_signal_act(db, a->id, a->action, a->note, &who, now, err,
                             sizeof(err));
    else
        rc = rhis_signal_warn(db, a->id, &a->w, &who, now, &wid, err,
                              sizeof(err));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "%s",
                               err[0] != '\0' ? err : "cannot save");
    req->audit_done = 1; /* the module audited inside this transaction */
    json_object *o;
    rc = rhis_signal_get(db, a->id, &o, area);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the signal");
    rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return RHIS_OK;
}

static rhis_status
answer_start(rhis_req *req, rhis_resp *resp, const char *action)
{
    answer *a = rhis_arena_calloc(req->arena, sizeof(*a));
    json_object *body = NULL;
    rhis_status rc = path_id(req, &a->id);
    if (rc != RHIS_OK)
        return rc;
    a->action = action;
    /* verify may come without a body */
    if (req->body_len > 0 || action == NULL || strcmp(action, "verify") != 0) {
        rc = rhis_req_json(req, &body);
        if (rc != RHIS_OK)
            return rc;
    }
    if (action == NULL) {
        static const char *const allowed[] = {"type", "audience", "content",
                                              NULL};
        rc = only_members(req, body, allowed);
        if (rc == RHIS_OK)
            rc = body_str(req, body, "type", 1, &a->w.type);
        if (rc == RHIS_OK)
            rc = body_str(req, body, "audience", 1, &a->w.audience);
        if (rc == RHIS_OK)
            rc = body_str(req, body, "content", 1, &a->w.content);
    } else if (strcmp(action, "dismiss") == 0) {
        static const char *const allowed[] = {"reason", NULL};
        rc = only_members(req, body, allowed);
        if (rc == RHIS_OK)
            rc = body_str(req, body, "reason", 1, &a->note);
    } else {
        static const char *const allowed[] = {"note", NULL};
        int required = strcmp(action, "escalate") == 0;
        if (body != NULL)
            rc = only_members(req, body, allowed);
        if (rc == RHIS_OK && body != NULL)
            rc = body_str(req, body, "note", required, &a->note);
        else if (rc == RHIS_OK && required)
            rc = bad(req, "note", "'note' is required: why escalate");
    }
    if (rc != RHIS_OK)
        return rc;
    req->audit_type = "Signal";
    req->audit_id = rhis_arena_printf(req->arena, "%lld", (long long)a->id);
    req->defer_data = a;
    return rhis_req_write(req, resp, answer_commit);
}

rhis_status
api_signal_verify(rhis_req *req, rhis_resp *resp)
{
    return answer_start(req, resp, "verify");
}

rhis_status
api_signal_dismiss(rhis_req *req, rhis_resp *resp)
{
    return answer_start(req, resp, "dismiss");
}

rhis_status
api_signal_escalate(rhis_req *req, rhis_resp *resp)
{
    return answer_start(req, resp, "escalate");
}

rhis_status
api_signal_warning(rhis_req *req, rhis_resp *resp)
{
    return answer_start(req, resp, NULL);
}

/* ---- running a day on demand ---- */

typedef struct run_job {
    char day[11];
} run_job;

/* On a worker thread: the run takes its own transaction. */
static rhis_status
run_deferred(rhis_req *req, rhis_resp *resp)
{
    run_job *j = req->defer_data;
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_actor who = actor_of(req);
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = req->conf->data_dir;
    o.push = req->conf->warn_push;
    o.push_severity = req->conf->warn_push_severity;
    o.push_days = req->conf->warn_push_days;
    o.actor = &who;
    rhis_warn_result r;
    char err[512] = "";
    rc = rhis_warn_run(db, j->day, &o, &r, err, sizeof(err));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "%s",
                               err[0] != '\0' ? err : "the run failed");
    json_object *out = json_object_new_object();
    json_object_object_add(out, "day", json_object_new_string(j->day));
    json_object_object_add(out, "series", json_object_new_int64(r.series));
    json_object_object_add(out, "alarms", json_object_new_int64(r.alarms));
    json_object_object_add(out, "newSignals",
                           json_object_new_int64(r.signals_new));
    json_object_object_add(out, "existingSignals",
                           json_object_new_int64(r.signals_seen));
    json_object_object_add(out, "pushedSignals",
                           json_object_new_int64(r.pushed));
    json_object_object_add(out, "seconds", rhis_json_new_fixed(r.seconds, 3));
    json_object_object_add(
        out, "missing",
        r.missing[0] != '\0' ? json_object_new_string(r.missing) : NULL);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

rhis_status
api_warn_run(rhis_req *req, rhis_resp *resp)
{
    (void)resp;
    static const char *const allowed[] = {"date", NULL};
    json_object *body;
    const char *day;
    int64_t d;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc == RHIS_OK)
        rc = only_members(req, body, allowed);
    if (rc == RHIS_OK)
        rc = body_str(req, body, "date", 1, &day);
    if (rc != RHIS_OK)
        return rc;
    if (warn_day_parse(day, &d) != 0)
        return bad(req, "date", "'date' must be a date YYYY-MM-DD");
    if (d > warn_now_ms() / 86400000 + 1)
        return bad(req, "date", "'date' lies in the future");
    run_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    snprintf(j->day, sizeof(j->day), "%s", day);
    req->audit_type = "WarnRun";
    req->audit_id = rhis_arena_strdup(req->arena, j->day);
    req->defer_data = j;
    req->defer_fn = run_deferred;
    return RHIS_OK;
}
