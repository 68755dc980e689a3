/*
 * export.c - FHIR Bulk Data $export (IG v2, the asynchronous pattern):
 * kick-off at system, Patient and Group level, status polling, NDJSON
 * downloads and cancellation.
 *
 * Why: a HIS, the CDC or a research warehouse pulls whole populations;
 * paging through searches would hold a request thread per page and give no
 * consistent cut.  A kick-off records the job (bulk_export) and hands it to
 * a detached thread with its own connections, which reads one snapshot of
 * the store and writes the NDJSON files (bulk_export_file); clients poll
 * and download them.
 *
 * Groups: RHIS has no Group resources; a Group is an area of the division
 * tree, "Group/area-220221" = every resident whose address lies in the
 * subtree of 220221, with their records.  Scope: admin sees every area;
 * integrator and cdc see their own area (a Group outside it is a 403, and
 * system/Patient level exports are confined to it).  Only the user who
 * started a job may poll, download or cancel it.
 *
 * Threading: each job thread opens two connections: one reads inside one
 * read-only transaction (the snapshot: SQLite WAL read transaction,
 * PostgreSQL REPEATABLE READ), the other writes the files, the progress
 * and at the end the audit events, so a long export never holds the write
 * lock.  The job registry below is the only state shared with the request
 * threads (a mutex and a condition variable); progress is also written to
 * bulk_export.params so any server on the same database can answer a poll
 * and a job whose server went away is detected (no heartbeat) and failed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rhis/audit.h"
#include "rhis/fhirstore.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/log.h"

#define NDJSON_CTYPE         "application/fhir+ndjson"
#define EXPORT_MAX_RUNNING   4           /* jobs at once in one server */
#define EXPORT_PAGE          1000        /* rows per read */
#define EXPORT_FILE_MAX      50000       /* resources per file */
#define EXPORT_FILE_BYTES    (16u << 20) /* bytes per file */
#define EXPORT_BEAT_MS       1000  /* progress written at most this often */
#define EXPORT_STALE_MS      60000 /* no heartbeat this long: the job is dead */
#define EXPORT_KEEP_MS       86400000LL /* files kept after completion: 24 h */
#define EXPORT_FIRST_WAIT_MS 3000 /* polls of a young job wait this long */
#define EXPORT_AUDIT_ROWS    100  /* per-patient audit rows per INSERT */

/* ---- the job registry (shared with the request threads) ---- */

typedef struct export_job {
    int64_t id;
    char db_url[512];
    rhis_principal who;
    char level[8]; /* "system", "Patient", "Group" */
    char area[16]; /* division-code prefix; "" = every area */
    char group[32];
    int ntypes;
    const rhis_fhir_type *types[16];
    int64_t since_ms; /* -1 = none */
    int64_t created_ms;
    char request[1024];
    char request_id[24];
    char address[64];
    /* progress: written by the job thread, read under jobs_mu */
    _Atomic int cancel;
    int64_t done, total;
    const char *current;
    struct export_job *next;
} export_job;

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static export_job *jobs;
static int njobs;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Caller holds jobs_mu. */
static export_job *
job_find_locked(int64_t id)
{
    for (export_job *j = jobs; j != NULL; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

/* Removes j; returns whether a cancel was asked (under the same lock, so a
 * DELETE either reaches the running job or finds it gone). */
static int
job_unregister(export_job *j)
{
    pthread_mutex_lock(&jobs_mu);
    for (export_job **p = &jobs; *p != NULL; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            njobs--;
            break;
        }
    int cancelled = atomic_load(&j->cancel);
    pthread_cond_broadcast(&jobs_cv);
    pthread_mutex_unlock(&jobs_mu);
    return cancelled;
}

/* ---- small helpers ---- */

/* Concatenates SQL literals of this file and of type descriptors. */
static const char *
cat(rhis_arena *a, const char *s1, const char *s2, const char *s3)
{
    return rhis_arena_printf(a, "%s%s%s", s1, s2, s3);
}

/* "http://host" from the request (X-Forwarded-Proto honoured), or "". */
static const char *
base_url(rhis_req *req)
{
    const char *host = rhis_req_header(req, "Host");
    if (host == NULL || *host == '\0' || strpbrk(host, " \"<>\\") != NULL)
        return "";
    const char *proto = rhis_req_header(req, "X-Forwarded-Proto");
    if (proto == NULL || strcmp(proto, "https") != 0)
        proto = "http";
    return rhis_arena_printf(req->arena, "%s://%s", proto, host);
}

static json_object *
outcome(const char *severity, const char *code, const char *text)
{
    json_object *oo = json_object_new_object();
    json_object_object_add(oo, "resourceType",
                           json_object_new_string("OperationOutcome"));
    json_object *issue = json_object_new_object();
    json_object_object_add(issue, "severity", json_object_new_string(severity));
    json_object_object_add(issue, "code", json_object_new_string(code));
    json_object_object_add(issue, "diagnostics", json_object_new_string(text));
    json_object *issues = json_object_new_array();
    json_object_array_add(issues, issue);
    json_object_object_add(oo, "issue", issues);
    return oo;
}

static void
respond_outcome(rhis_resp *resp, int status, const char *text)
{
    json_object *oo = outcome("information", "informational", text);
    rhis_fhir_respond(resp, status, oo);
    json_object_put(oo);
}

/* The area the caller may export: "" = all; NULL = none at all. */
static const char *
caller_area(const rhis_principal *p)
{
    if (p->scope_institution != 0)
        return p->inst_area[0] != '\0' ? p->inst_area : NULL;
    return p->scope_area;
}

static int
is_patient_type(const rhis_fhir_type *t)
{
    return t->patient_col != NULL;
}

/* ---- kick-off ---- */

/* Parses _type into j->types in the store's order (referenced types
 * first, so the files re-import in manifest order). */
static rhis_status
parse_types(rhis_req *req, export_job *j, int patient_level)
{
    int n;
    const rhis_fhir_type *const *all = rhis_fhir_types(&n);
    int want[32] = {0};
    int any = 0;
    for (int q = 0; q < req->query.n; q++) {
        if (strcmp(req->query.kv[q].key, "_type") != 0)
            continue;
        char *list = rhis_arena_strdup(req->arena, req->query.kv[q].value);
        for (char *tok = list; tok != NULL;) {
            char *comma = strchr(tok, ',');
            if (comma != NULL)
                *comma = '\0';
            while (*tok == ' ')
                tok++;
            if (*tok != '\0') {
                int k = -1;
                for (int i = 0; i < n && i < 32; i++)
                    if (strcmp(all[i]->name, tok) == 0)
                        k = i;
                if (k < 0 || (patient_level && !is_patient_type(all[k]))) {
                    rhis_req_error_expr(req, "_type");
                    return rhis_req_errorf(
                        req, RHIS_EINVAL,
                        "_type: '%.40s' is not a resource type this server "
                        "exports%s",
                        tok, patient_level ? " at Patient or Group level" : "");
                }
                if ((all[k]->read_roles & req->user->role) == 0) {
                    rhis_req_error_expr(req, "_type");
                    return rhis_req_errorf(
                        req, RHIS_EFORBIDDEN, "role %s may not read %s",
                        rhis_role_name(req->user->role), all[k]->name);
                }
                want[k] = 1;
                any = 1;
            }
            tok = comma != NULL ? comma + 1 : NULL;
        }
    }
    for (int i = 0; i < n && i < 32 && j->ntypes < 16; i++) {
        int pick = any ? want[i]
                       : (!patient_level || is_patient_type(all[i])) &&
                             (all[i]->read_roles & req->user->role) != 0;
        if (pick)
            j->types[j->ntypes++] = all[i];
    }
    if (j->ntypes == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "there is no resource type to export");
    return RHIS_OK;
}

static rhis_status
parse_params(rhis_req *req, export_job *j, int patient_level)
{
    for (int q = 0; q < req->query.n; q++) {
        const char *k = req->query.kv[q].key;
        if (strcmp(k, "_type") != 0 && strcmp(k, "_since") != 0 &&
            strcmp(k, "_outputFormat") != 0) {
            rhis_req_error_expr(req, rhis_arena_strdup(req->arena, k));
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "parameter '%.40s' is not supported by "
                                   "$export (supported: _type, _since, "
                                   "_outputFormat)",
                                   k);
        }
    }
    const char *fmt = rhis_req_query(req, "_outputFormat");
    if (fmt != NULL && strcmp(fmt, "application/fhir+ndjson") != 0 &&
        strcmp(fmt, "application/ndjson") != 0 && strcmp(fmt, "ndjson") != 0) {
        rhis_req_error_expr(req, "_outputFormat");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "_outputFormat '%.60s' is not supported: only "
                               "application/fhir+ndjson",
                               fmt);
    }
    j->since_ms = -1;
    const char *since = rhis_req_query(req, "_since");
    if (since != NULL) {
        /* a '+' of a time zone arrives as ' ' when not percent-encoded */
        char *v = rhis_arena_printf(req->arena, "ge%s", since);
        for (char *p = v; *p != '\0'; p++)
            if (*p == ' ')
                *p = '+';
        rhis_sql_where w;
        rhis_sql_where_init(&w);
        char err[200];
        if (rhis_fhir_where_date(req->arena, &w, "t.updated_ms", v, err,
                                 sizeof(err)) != RHIS_OK ||
            w.n != 1) {
            rhis_req_error_expr(req, "_since");
            return rhis_req_errorf(req, RHIS_EINVAL, "_since: %s",
                                   w.n != 1 ? "not an instant" : err);
        }
        j->since_ms = w.ival[0];
    }
    return parse_types(req, j, patient_level);
}

static void *export_main(void *arg);

/* The job's row in bulk_export.params: the request, the filters and the
 * progress with its heartbeat (beat, unix ms). */
static json_object *
job_params(const export_job *j,
           int64_t beat,
           int64_t done,
           int64_t total,
           const char *current)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "request", json_object_new_string(j->request));
    json_object *types = json_object_new_array();
    for (int i = 0; i < j->ntypes; i++)
        json_object_array_add(types, json_object_new_string(j->types[i]->name));
    json_object_object_add(p, "types", types);
    json_object_object_add(p, "area", json_object_new_string(j->area));
    json_object_object_add(p, "since", json_object_new_int64(j->since_ms));
    json_object_object_add(p, "beat", json_object_new_int64(beat));
    json_object_object_add(p, "done", json_object_new_int64(done));
    json_object_object_add(p, "total", json_object_new_int64(total));
    if (current != NULL)
        json_object_object_add(p, "current", json_object_new_string(current));
    return p;
}

/* Files are kept EXPORT_KEEP_MS after completion, jobs that never
 * finished twice as long after they started. */
static void
purge_old(rhis_db *db, int64_t now)
{
    int64_t old = now - EXPORT_KEEP_MS;
    (void)rhis_db_run(db,
                      "DELETE FROM bulk_export_file WHERE export_id IN"
                      " (SELECT id FROM bulk_export WHERE completed_ms < ?"
                      " OR created_ms < ?)",
                      "ii", old, old - EXPORT_KEEP_MS);
    (void)rhis_db_run(db,
                      "DELETE FROM bulk_export WHERE completed_ms < ?"
                      " OR created_ms < ?",
                      "ii", old, old - EXPORT_KEEP_MS);
}

/* Registers j and starts its detached thread, which then owns j.  On
 * failure j is freed and its row marked failed. */
static rhis_status
job_start(rhis_req *req, rhis_db *db, export_job *j)
{
    pthread_mutex_lock(&jobs_mu);
    j->next = jobs;
    jobs = j;
    njobs++;
    pthread_mutex_unlock(&jobs_mu);
    int64_t id = j->id;
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&th, &attr, export_main, j);
    pthread_attr_destroy(&attr);
    if (err == 0)
        return RHIS_OK;
    (void)job_unregister(j);
    rhis_free(j);
    (void)rhis_db_run(db,
                      "UPDATE bulk_export SET status = 'failed',"
                      " completed_ms = ?, error = ? WHERE id = ?",
                      "isi", now_ms(), "cannot start a thread", id);
    return rhis_req_errorf(req, RHIS_EBUSY,
                           "cannot start the export now; try again");
}

/* Fills j from the request and the caller; checks the scope. */
static rhis_status
job_init(rhis_req *req,
         export_job *j,
         const char *level,
         const char *group,
         const char *group_area)
{
    rhis_status rc = parse_params(req, j, strcmp(level, "system") != 0);
    if (rc != RHIS_OK)
        return rc;
    const char *area = caller_area(req->user);
    if (area == NULL)
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "your scope has no area to export");
    if (group_area != NULL) {
        if (!rhis_principal_covers_area(req->user, group_area))
            return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                                   "Group/%s is outside your scope (%s)", group,
                                   area);
        area = group_area;
    }
    (void)snprintf(j->db_url, sizeof(j->db_url), "%s", req->conf->db);
    j->who = *req->user;
    (void)snprintf(j->level, sizeof(j->level), "%s", level);
    (void)snprintf(j->area, sizeof(j->area), "%s", area);
    (void)snprintf(j->group, sizeof(j->group), "%s",
                   group != NULL ? group : "");
    (void)snprintf(j->request, sizeof(j->request), "%s%s%s%s", base_url(req),
                   req->path, req->raw_query[0] != '\0' ? "?" : "",
                   req->raw_query);
    (void)snprintf(j->request_id, sizeof(j->request_id), "%s", req->request_id);
    (void)snprintf(j->address, sizeof(j->address), "%s",
                   req->client_addr != NULL ? req->client_addr : "");
    j->created_ms = now_ms();
    return RHIS_OK;
}

/* Records the job, starts its thread and answers 202. */
static rhis_status
kickoff(rhis_req *req,
        rhis_resp *resp,
        const char *level,
        const char *group,
        const char *group_area)
{
    const char *prefer = rhis_req_header(req, "Prefer");
    if (prefer == NULL || strstr(prefer, "respond-async") == NULL)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "$export runs asynchronously: send the header "
                               "'Prefer: respond-async'");
    export_job *j = rhis_xcalloc(1, sizeof(*j));
    rhis_db *db = NULL;
    rhis_status rc = job_init(req, j, level, group, group_area);
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK) {
        rhis_free(j);
        return rc;
    }
    purge_old(db, j->created_ms);
    pthread_mutex_lock(&jobs_mu);
    int busy = njobs >= EXPORT_MAX_RUNNING;
    pthread_mutex_unlock(&jobs_mu);
    if (busy) {
        rhis_free(j);
        rhis_resp_header(resp, "Retry-After", "60");
        return rhis_req_errorf(req, RHIS_ERATE,
                               "%d exports are running; try again later",
                               EXPORT_MAX_RUNNING);
    }
    json_object *params = job_params(j, j->created_ms, 0, 0, NULL);
    rc = rhis_db_scalar_int64(db, &j->id,
                              "INSERT INTO bulk_export (user_id, level, params,"
                              " status, created_ms) VALUES (?, ?, ?,"
                              " 'in-progress', ?) RETURNING id",
                              "issi", j->who.user_id, level,
                              rhis_json_print(params), j->created_ms);
    json_object_put(params);
    if (rc != RHIS_OK) {
        rhis_free(j);
        return rhis_req_errorf(req, rc, "cannot record the export job");
    }
    req->audit_type = group != NULL                   ? "Group"
                      : strcmp(level, "Patient") == 0 ? "Patient"
                                                      : NULL;
    req->audit_id = group;
    int64_t id = j->id;
    if ((rc = job_start(req, db, j)) != RHIS_OK)
        return rc;
    rhis_log(RHIS_LOG_INFO, "msg=\"export started\" rid=%s job=%lld level=%s",
             req->request_id, (long long)id, level);
    /* a relative reference (RFC 9110 allows it in Content-Location): the
     * server cannot know its public address behind a proxy; the manifest's
     * file URLs are absolute, built from Host */
    const char *loc =
        rhis_arena_printf(req->arena, "/fhir/bulkstatus/%lld", (long long)id);
    rhis_resp_header(resp, "Content-Location", loc);
    respond_outcome(resp, 202,
                    rhis_arena_printf(req->arena,
                                      "export job %lld accepted; poll %s",
                                      (long long)id, loc));
    return RHIS_OK;
}

rhis_status
api_bulk_export_system(rhis_req *req, rhis_resp *resp)
{
    return kickoff(req, resp, "system", NULL, NULL);
}

rhis_status
api_bulk_export_patient(rhis_req *req, rhis_resp *resp)
{
    return kickoff(req, resp, "Patient", NULL, NULL);
}

rhis_status
api_bulk_export_group(rhis_req *req, rhis_resp *resp)
{
    const char *id = rhis_req_param(req, "id");
    const char *code = id != NULL && strncmp(id, "area-", 5) == 0 ? id + 5 : "";
    size_t n = strlen(code);
    int digits = n >= 2 && n <= 12 && strspn(code, "0123456789") == n;
    if (!digits) {
        rhis_req_error_expr(req, "Group.id");
        return rhis_req_errorf(
            req, RHIS_ENOTFOUND,
            "Group/%.40s does not exist: a Group is an area, "
            "'area-' and its division code "
            "(Group/area-220221)",
            id != NULL ? id : "");
    }
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    int64_t found = 0;
    rc = rhis_db_scalar_int64(
        db, &found, "SELECT COUNT(*) FROM area WHERE code = ?", "s", code);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot look up the area");
    if (found == 0)
        return rhis_req_errorf(
            req, RHIS_ENOTFOUND,
            "Group/%s does not exist: %s is not an area code", id, code);
    return kickoff(req, resp, "Group", id, code);
}

/* ---- the job thread ---- */

/* A set of patient ids (open addressing; 0 is the empty slot). */
typedef struct idset {
    int64_t *v;
    size_t cap, n;
} idset;

static void
idset_add(idset *s, int64_t id)
{
    if (id <= 0)
        return;
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap == 0 ? 1024 : 2 * s->cap;
        int64_t *nv = rhis_xcalloc(ncap, sizeof(*nv));
        for (size_t i = 0; i < s->cap; i++) {
            if (s->v[i] == 0)
                continue;
            size_t k = ((uint64_t)s->v[i] * 0x9E3779B97F4A7C15ULL) & (ncap - 1);
            while (nv[k] != 0)
                k = (k + 1) & (ncap - 1);
            nv[k] = s->v[i];
        }
        rhis_free(s->v);
        s->v = nv;
        s->cap = ncap;
    }
    size_t k = ((uint64_t)id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->v[k] != 0) {
        if (s->v[k] == id)
            return;
        k = (k + 1) & (s->cap - 1);
    }
    s->v[k] = id;
    s->n++;
}

typedef struct run {
    export_job *j;
    rhis_db *rdb; /* the snapshot */
    rhis_db *wdb; /* files, progress, audit */
    rhis_arena *a;
    idset patients;
    int64_t resources;
    int64_t beat_ms;
    char err[300];
} run;

/* Whether the job's area filter needs the patient joined to rows of t. */
static int
joins_patient(const export_job *j, const rhis_fhir_type *t)
{
    return j->area[0] != '\0' && t->patient_col != NULL &&
           strcmp(t->patient_col, "t.id") != 0;
}

/*
 * The FROM clause for t (from = t->from or t->from_json): joined to the
 * patient when the area filter needs it.  A join, not an IN (subquery):
 * with the keyset on t.id every page stops after its rows, where LIKE in a
 * subquery would scan every patient on every page.
 */
static const char *
job_from(run *r, const rhis_fhir_type *t, const char *from)
{
    if (!joins_patient(r->j, t))
        return from;
    return cat(r->a, from, " JOIN patient p ON p.id = ", t->patient_col);
}

/* Filters of type t for this job (without the keyset term). */
static void
job_where(run *r, const rhis_fhir_type *t, rhis_sql_where *w)
{
    export_job *j = r->j;
    rhis_sql_where_init(w);
    rhis_sql_where_add(w, "t.deleted = 0", 0, 0, NULL);
    if (j->since_ms >= 0)
        rhis_sql_where_add(w, "t.updated_ms >= ?", 'i', j->since_ms, NULL);
    if (j->area[0] == '\0')
        return;
    /* area codes are digits: no LIKE wildcard to escape */
    const char *like = cat(r->a, j->area, "%", "");
    if (t->patient_col == NULL) /* no patient, no area: not exported */
        rhis_sql_where_add(w, "1 = 0", 0, 0, NULL);
    else if (joins_patient(j, t))
        rhis_sql_where_add(w, "p.area_code LIKE ?", 's', 0, like);
    else
        rhis_sql_where_add(w, "t.area_code LIKE ?", 's', 0, like);
}

/* Writes the progress (and a heartbeat) to the job row; RHIS_ENOTFOUND
 * when the row is no longer in progress (cancelled elsewhere). */
static rhis_status
beat(run *r, int force)
{
    export_job *j = r->j;
    int64_t now = now_ms();
    if (!force && now - r->beat_ms < EXPORT_BEAT_MS)
        return RHIS_OK;
    r->beat_ms = now;
    int64_t done, total;
    const char *cur;
    pthread_mutex_lock(&jobs_mu);
    done = j->done;
    total = j->total;
    cur = j->current;
    pthread_mutex_unlock(&jobs_mu);
    json_object *p = job_params(j, now, done, total, cur);
    rhis_status rc = rhis_db_run(r->wdb,
                                 "UPDATE bulk_export SET params = ?"
                                 " WHERE id = ? AND status = 'in-progress'",
                                 "si", rhis_json_print(p), j->id);
    json_object_put(p);
    if (rc == RHIS_OK && rhis_db_changes(r->wdb) == 0)
        return RHIS_ENOTFOUND;
    return rc;
}

static rhis_status
put_file(run *r, const char *type, int seq, int64_t count, rhis_buf *b)
{
    rhis_status rc =
        rhis_db_run(r->wdb,
                    "INSERT INTO bulk_export_file (export_id, type,"
                    " seq, count, ndjson) VALUES (?, ?, ?, ?, ?)",
                    "isiis", r->j->id, type, (int64_t)seq, count,
                    b->data != NULL ? b->data : "");
    if (rc != RHIS_OK)
        (void)snprintf(r->err, sizeof(r->err), "cannot store a file: %s",
                       rhis_db_errmsg(r->wdb));
    rhis_buf_reset(b);
    return rc;
}

/* Exports every matching resource of t, page by page, into files. */
static rhis_status
export_type(run *r, const rhis_fhir_type *t)
{
    export_job *j = r->j;
    pthread_mutex_lock(&jobs_mu);
    j->current = t->name;
    pthread_mutex_unlock(&jobs_mu);
    const char *select =
        cat(r->a, "SELECT t.id, v.json, ",
            t->patient_col != NULL ? t->patient_col : "0", " FROM ");
    select = cat(r->a, select, job_from(r, t, t->from_json), "");
    rhis_buf file;
    rhis_buf_init(&file, EXPORT_FILE_BYTES + (16u << 20));
    int seq = 0;
    int64_t in_file = 0, last = 0;
    rhis_status rc = RHIS_OK;
    for (;;) {
        if (atomic_load(&j->cancel))
            return rhis_buf_fini(&file), RHIS_ENOTFOUND;
        rhis_sql_where w;
        job_where(r, t, &w);
        rhis_sql_where_add(&w, "t.id > ?", 'i', last, NULL);
        rhis_stmt *st = NULL;
        rc = rhis_sql_where_select(r->rdb, &w, select, "ORDER BY t.id",
                                   EXPORT_PAGE, 0, &st);
        if (rc != RHIS_OK) {
            (void)snprintf(r->err, sizeof(r->err), "cannot read %s: %s",
                           t->name, rhis_db_errmsg(r->rdb));
            break;
        }
        int rows = 0;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            rows++;
            last = rhis_db_column_int64(st, 0);
            const char *json = rhis_db_column_text(st, 1);
            if (json == NULL)
                continue;
            idset_add(&r->patients, rhis_db_column_int64(st, 2));
            size_t len = strlen(json);
            if (in_file > 0 && (in_file >= EXPORT_FILE_MAX ||
                                file.len + len + 1 > EXPORT_FILE_BYTES)) {
                rc = put_file(r, t->name, ++seq, in_file, &file);
                in_file = 0;
                if (rc != RHIS_OK)
                    break;
            }
            /* the stored JSON is one line: serialised without newlines */
            if (rhis_buf_append(&file, json, len) != RHIS_OK ||
                rhis_buf_append(&file, "\n", 1) != RHIS_OK) {
                (void)snprintf(r->err, sizeof(r->err),
                               "%s/%lld is larger than a file", t->name,
                               (long long)last);
                rc = RHIS_ETOOBIG;
                break;
            }
            in_file++;
            r->resources++;
        }
        rhis_db_finalize(st);
        if (rc == RHIS_DONE)
            rc = RHIS_OK;
        else if (rc != RHIS_OK && r->err[0] == '\0')
            (void)snprintf(r->err, sizeof(r->err), "cannot read %s: %s",
                           t->name, rhis_db_errmsg(r->rdb));
        if (rc != RHIS_OK)
            break;
        pthread_mutex_lock(&jobs_mu);
        j->done += rows;
        pthread_mutex_unlock(&jobs_mu);
        rc = beat(r, 0);
        if (rc != RHIS_OK || rows < EXPORT_PAGE)
            break;
    }
    if (rc == RHIS_OK && in_file > 0)
        rc = put_file(r, t->name, ++seq, in_file, &file);
    rhis_buf_fini(&file);
    return rc;
}

/* One audit event per exported patient, EXPORT_AUDIT_ROWS per INSERT. */
static rhis_status
audit_patients(run *r)
{
    export_job *j = r->j;
    static const char row[] = "(?, ?, ?, ?, 'R', 'export', 'Patient', ?, ?,"
                              " 200, ?, ?, ?)";
    rhis_buf q;
    rhis_buf_init(&q, 64u << 10);
    const char *role = rhis_role_name(j->who.role);
    const char *detail =
        rhis_arena_printf(r->a, "bulk export job %lld", (long long)j->id);
    int64_t ts = now_ms();
    rhis_status rc = RHIS_OK;
    size_t i = 0;
    while (rc == RHIS_OK && i < r->patients.cap) {
        int64_t ids[EXPORT_AUDIT_ROWS];
        int k = 0;
        for (; i < r->patients.cap && k < EXPORT_AUDIT_ROWS; i++)
            if (r->patients.v[i] != 0)
                ids[k++] = r->patients.v[i];
        if (k == 0)
            break;
        rhis_buf_reset(&q);
        rhis_buf_puts(&q, "INSERT INTO audit_event (ts, user_id, username,"
                          " role, action, operation, resource_type,"
                          " resource_id, patient_id, outcome, address,"
                          " request_id, detail) VALUES ");
        for (int n = 0; n < k; n++) {
            if (n > 0)
                rhis_buf_puts(&q, ", ");
            rhis_buf_puts(&q, row);
        }
        rhis_stmt *st;
        rc = rhis_db_prepare(r->wdb, q.data, &st);
        for (int n = 0, p = 1; rc == RHIS_OK && n < k; n++) {
            char idtxt[24];
            (void)snprintf(idtxt, sizeof(idtxt), "%lld", (long long)ids[n]);
            rhis_db_bind_int64(st, p++, ts);
            rhis_db_bind_int64(st, p++, j->who.user_id);
            rhis_db_bind_text(st, p++, j->who.username);
            rhis_db_bind_text(st, p++, role);
            rhis_db_bind_text(st, p++, idtxt);
            rhis_db_bind_text(st, p++, idtxt);
            rhis_db_bind_text(st, p++, j->address);
            rhis_db_bind_text(st, p++, j->request_id);
            rhis_db_bind_text(st, p++, detail);
        }
        if (rc == RHIS_OK) {
            rc = rhis_db_step(st);
            rc = rc == RHIS_DONE ? RHIS_OK : rc;
            rhis_db_finalize(st);
        }
    }
    rhis_buf_fini(&q);
    if (rc != RHIS_OK)
        (void)snprintf(r->err, sizeof(r->err), "cannot write the audit: %s",
                       rhis_db_errmsg(r->wdb));
    return rc;
}

/* The end of a successful run: audit and completion in one transaction.
 * RHIS_ENOTFOUND if the job was cancelled meanwhile. */
static rhis_status
complete(run *r)
{
    export_job *j = r->j;
    rhis_status rc = rhis_db_begin(r->wdb);
    if (rc == RHIS_OK)
        rc = audit_patients(r);
    if (rc == RHIS_OK) {
        char detail[160];
        (void)snprintf(
            detail, sizeof(detail),
            "bulk export job %lld level=%s resources=%lld patients=%zu",
            (long long)j->id, j->level, (long long)r->resources, r->patients.n);
        char rid[24];
        (void)snprintf(rid, sizeof(rid), "%lld", (long long)j->id);
        rhis_audit_event ev = {
            .user_id = j->who.user_id,
            .username = j->who.username,
            .role = rhis_role_name(j->who.role),
            .action = "R",
            .operation = "export",
            .resource_type = j->group[0] != '\0' ? "Group" : "Bundle",
            .resource_id = j->group[0] != '\0' ? j->group : rid,
            .outcome = 200,
            .address = j->address,
            .request_id = j->request_id,
            .detail = detail,
        };
        rc = rhis_audit_write(r->wdb, &ev);
    }
    if (rc == RHIS_OK) {
        rc = beat(r, 1); /* final progress into params */
        if (rc == RHIS_OK)
            rc = rhis_db_run(r->wdb,
                             "UPDATE bulk_export SET status = 'completed',"
                             " completed_ms = ? WHERE id = ?"
                             " AND status = 'in-progress'",
                             "ii", now_ms(), j->id);
        if (rc == RHIS_OK && rhis_db_changes(r->wdb) == 0)
            rc = RHIS_ENOTFOUND;
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(r->wdb);
    if (rc != RHIS_OK)
        rhis_db_rollback(r->wdb);
    return rc;
}

static void
drop_job(rhis_db *db, int64_t id)
{
    (void)rhis_db_run(db, "DELETE FROM bulk_export_file WHERE export_id = ?",
                      "i", id);
    (void)rhis_db_run(db, "DELETE FROM bulk_export WHERE id = ?", "i", id);
}

static void *
export_main(void *arg)
{
    export_job *j = arg;
    run r = {.j = j, .a = rhis_arena_new()};
    char err[512] = "";
    rhis_status rc = rhis_db_open(&r.wdb, j->db_url, err, sizeof(err));
    if (rc == RHIS_OK)
        rc = rhis_db_open(&r.rdb, j->db_url, err, sizeof(err));
    if (rc != RHIS_OK)
        (void)snprintf(r.err, sizeof(r.err), "cannot open the database");
    /* the snapshot: a read transaction that never holds the write lock.
     * On SQLite a SAVEPOINT opens a deferred transaction (a read one as
     * long as it only reads) without the per-file writer gate that BEGIN
     * takes (src/db/sqlite.c). */
    if (rc == RHIS_OK)
        rc = rhis_db_exec(r.rdb, rhis_db_dialect(r.rdb) == RHIS_DIALECT_POSTGRES
                                     ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                       " READ ONLY"
                                     : "SAVEPOINT export_snapshot");
    for (int i = 0; rc == RHIS_OK && i < j->ntypes; i++) {
        rhis_sql_where w;
        job_where(&r, j->types[i], &w);
        int64_t n = 0;
        rc = rhis_sql_where_count(
            r.rdb, &w, job_from(&r, j->types[i], j->types[i]->from), &n);
        if (rc != RHIS_OK)
            (void)snprintf(r.err, sizeof(r.err), "cannot count %s: %s",
                           j->types[i]->name, rhis_db_errmsg(r.rdb));
        pthread_mutex_lock(&jobs_mu);
        j->total += n;
        pthread_mutex_unlock(&jobs_mu);
    }
    if (rc == RHIS_OK)
        rc = beat(&r, 1);
    for (int i = 0; rc == RHIS_OK && i < j->ntypes; i++)
        rc = export_type(&r, j->types[i]);
    if (r.rdb != NULL)
        (void)rhis_db_exec(r.rdb, "ROLLBACK"); /* read only: ends it */
    if (rc == RHIS_OK && !atomic_load(&j->cancel))
        rc = complete(&r);
    int cancelled = job_unregister(j) || rc == RHIS_ENOTFOUND;
    if (r.wdb != NULL && cancelled) {
        drop_job(r.wdb, j->id);
    } else if (r.wdb != NULL && rc != RHIS_OK) {
        (void)rhis_db_run(r.wdb,
                          "DELETE FROM bulk_export_file WHERE export_id = ?",
                          "i", j->id);
        (void)rhis_db_run(r.wdb,
                          "UPDATE bulk_export SET status = 'failed',"
                          " completed_ms = ?, error = ? WHERE id = ?"
                          " AND status = 'in-progress'",
                          "isi", now_ms(),
                          r.err[0] != '\0' ? r.err : rhis_status_name(rc),
                          j->id);
    }
    rhis_log(rc == RHIS_OK || cancelled ? RHIS_LOG_INFO : RHIS_LOG_ERR,
             "msg=\"export %s\" job=%lld resources=%lld patients=%zu%s%s",
             rc == RHIS_OK ? "completed"
             : cancelled   ? "cancelled"
                           : "failed",
             (long long)j->id, (long long)r.resources, r.patients.n,
             rc != RHIS_OK && !cancelled ? " error=" : "",
             rc != RHIS_OK && !cancelled ? rhis_status_name(rc) : "");
    rhis_db_close(r.rdb);
    rhis_db_close(r.wdb);
    rhis_free(r.patients.v);
    rhis_arena_free(r.a);
    rhis_free(j);
    return NULL;
}

/* ---- status, download, cancel ---- */

typedef struct job_row {
    int64_t user_id;
    int64_t created_ms;
    int64_t completed_ms;
    const char *level;
    const char *params;
    const char *status;
    const char *error;
} job_row;

static rhis_status
load_job(rhis_req *req, int64_t *id, job_row *row)
{
    *row = (job_row){.status = ""};
    rhis_status rc =
        rhis_fhir_parse_id(req, "export job", rhis_req_param(req, "job"), id);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT user_id, created_ms, completed_ms, level,"
                       " params, status, error FROM bulk_export WHERE id = ?",
                       "i", *id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the export job");
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        row->user_id = rhis_db_column_int64(st, 0);
        row->created_ms = rhis_db_column_int64(st, 1);
        row->completed_ms = rhis_db_column_int64(st, 2);
        const char *s[4];
        for (int i = 0; i < 4; i++) {
            const char *v = rhis_db_column_text(st, 3 + i);
            s[i] = v != NULL ? rhis_arena_strdup(req->arena, v) : NULL;
        }
        row->level = s[0];
        row->params = s[1];
        row->status = s[2] != NULL ? s[2] : "";
        row->error = s[3];
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_ENOTFOUND;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_OK && strcmp(row->status, "cancelled") == 0)
        rc = RHIS_ENOTFOUND;
    if (rc == RHIS_ENOTFOUND)
        return rhis_req_errorf(req, rc, "export job %lld does not exist",
                               (long long)*id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the export job");
    req->audit_type = "Bundle";
    req->audit_id = rhis_arena_printf(req->arena, "%lld", (long long)*id);
    if (row->user_id != req->user->user_id)
        return rhis_req_errorf(req, RHIS_EFORBIDDEN,
                               "export job %lld was started by another user",
                               (long long)*id);
    return RHIS_OK;
}

static int64_t
param_int(json_object *p, const char *key, int64_t dflt)
{
    int64_t v;
    return rhis_json_get_int(p, key, &v) == RHIS_OK ? v : dflt;
}

/* Index of type name in the store's order (unknown last). */
static int
type_rank(const char *name)
{
    int n;
    const rhis_fhir_type *const *all = rhis_fhir_types(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return i;
    return n;
}

typedef struct out_file {
    const char *type;
    int64_t seq, count;
    int rank;
} out_file;

static int
cmp_out(const void *a, const void *b)
{
    const out_file *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static rhis_status
manifest(rhis_req *req, rhis_resp *resp, int64_t id, const job_row *row)
{
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT type, seq, count FROM bulk_export_file"
                       " WHERE export_id = ?",
                       "i", id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot list the export files");
    int nf = 0, cap = 16;
    out_file *f = rhis_arena_alloc(req->arena, (size_t)cap * sizeof(*f));
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (nf == cap) {
            out_file *g =
                rhis_arena_alloc(req->arena, (size_t)cap * 2 * sizeof(*f));
            memcpy(g, f, (size_t)nf * sizeof(*f));
            f = g;
            cap *= 2;
        }
        f[nf].type = rhis_arena_strdup(req->arena, rhis_db_column_text(st, 0));
        f[nf].seq = rhis_db_column_int64(st, 1);
        f[nf].count = rhis_db_column_int64(st, 2);
        f[nf].rank = type_rank(f[nf].type);
        nf++;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rhis_req_errorf(req, RHIS_EIO, "cannot list the export files");
    qsort(f, (size_t)nf, sizeof(*f), cmp_out);

    json_object *params = NULL;
    char perr[64];
    if (row->params != NULL)
        (void)rhis_json_parse(row->params, strlen(row->params), 8, &params,
                              perr, sizeof(perr));
    const char *base = base_url(req);
    json_object *m = json_object_new_object();
    char when[40];
    rhis_fhir_instant_ms(row->created_ms, when, sizeof(when));
    json_object_object_add(m, "transactionTime", json_object_new_string(when));
    const char *request =
        params != NULL ? rhis_json_get_str(params, "request") : NULL;
    json_object_object_add(
        m, "request", json_object_new_string(request != NULL ? request : ""));
    json_object_object_add(m, "requiresAccessToken",
                           json_object_new_boolean(1));
    json_object *out = json_object_new_array();
    for (int i = 0; i < nf; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string(f[i].type));
        json_object_object_add(
            o, "url",
            json_object_new_string(rhis_arena_printf(
                req->arena, "%s/fhir/bulkfiles/%lld/%s/%lld", base,
                (long long)id, f[i].type, (long long)f[i].seq)));
        json_object_object_add(o, "count", json_object_new_int64(f[i].count));
        json_object_array_add(out, o);
    }
    json_object_object_add(m, "output", out);
    json_object_object_add(m, "error", json_object_new_array());
    const char *s = rhis_json_print(m);
    rhis_resp_text(resp, 200, "application/json; charset=utf-8", s, strlen(s));
    json_object_put(m);
    json_object_put(params);
    /* the files go after EXPORT_KEEP_MS (HTTP date of the expiry) */
    time_t exp = (time_t)((row->completed_ms + EXPORT_KEEP_MS) / 1000);
    struct tm tm;
    gmtime_r(&exp, &tm);
    char *date = rhis_arena_alloc(req->arena, 40);
    (void)strftime(date, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    rhis_resp_header(resp, "Expires", date);
    return RHIS_OK;
}

/* Waits (on a deferred worker, not a request thread) until job id ends or
 * until_ms passes. */
static void
wait_job(int64_t id, int64_t until_ms)
{
    pthread_mutex_lock(&jobs_mu);
    for (;;) {
        if (job_find_locked(id) == NULL || now_ms() >= until_ms)
            break;
        /* jobs_cv waits on CLOCK_REALTIME, as now_ms() counts */
        struct timespec ts = {.tv_sec = (time_t)(until_ms / 1000),
                              .tv_nsec = (long)(until_ms % 1000 * 1000000)};
        pthread_cond_timedwait(&jobs_cv, &jobs_mu, &ts);
    }
    pthread_mutex_unlock(&jobs_mu);
}

static rhis_status status_answer(rhis_req *req, rhis_resp *resp, int wait);

static rhis_status
status_deferred(rhis_req *req, rhis_resp *resp)
{
    const int64_t *w = req->defer_data;
    wait_job(w[0], w[1]);
    return status_answer(req, resp, 0);
}

/*
 * Answers a poll: the manifest (200), a failure (500 with the reason) or
 * 202 with X-Progress.  A job younger than EXPORT_FIRST_WAIT_MS that runs
 * in this server is waited for on the deferred-work pool first (wait = 1),
 * so a small export answers its first poll with the manifest.
 */
static rhis_status
status_answer(rhis_req *req, rhis_resp *resp, int wait)
{
    int64_t id;
    job_row row;
    rhis_status rc = load_job(req, &id, &row);
    if (rc != RHIS_OK)
        return rc;
    if (strcmp(row.status, "completed") == 0)
        return manifest(req, resp, id, &row);
    if (strcmp(row.status, "failed") == 0)
        return rhis_req_errorf(req, RHIS_EINTERNAL,
                               "export job %lld failed: %s", (long long)id,
                               row.error != NULL ? row.error : "unknown error");
    /* in progress: in this server, in another one, or dead */
    int64_t now = now_ms();
    int64_t done = 0, total = 0;
    const char *cur = NULL;
    pthread_mutex_lock(&jobs_mu);
    export_job *j = job_find_locked(id);
    if (j != NULL) {
        done = j->done;
        total = j->total;
        cur = j->current;
    }
    pthread_mutex_unlock(&jobs_mu);
    if (j != NULL && wait && now - row.created_ms < EXPORT_FIRST_WAIT_MS) {
        int64_t *w = rhis_arena_alloc(req->arena, 2 * sizeof(*w));
        w[0] = id;
        w[1] = row.created_ms + EXPORT_FIRST_WAIT_MS;
        req->defer_data = w;
        req->defer_fn = status_deferred;
        return RHIS_OK;
    }
    json_object *params = NULL;
    char perr[64];
    if (row.params != NULL)
        (void)rhis_json_parse(row.params, strlen(row.params), 8, &params, perr,
                              sizeof(perr));
    if (j == NULL) {
        int64_t beat_ms = param_int(params, "beat", row.created_ms);
        done = param_int(params, "done", 0);
        total = param_int(params, "total", 0);
        const char *c =
            params != NULL ? rhis_json_get_str(params, "current") : NULL;
        cur = c != NULL ? rhis_arena_strdup(req->arena, c) : NULL;
        if (now - beat_ms > EXPORT_STALE_MS) {
            json_object_put(params);
            rhis_db *db;
            if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
                return rc;
            (void)rhis_db_run(db,
                              "UPDATE bulk_export SET status = 'failed',"
                              " completed_ms = ?, error = ? WHERE id = ?"
                              " AND status = 'in-progress'",
                              "isi", now,
                              "the server running the export stopped", id);
            return rhis_req_errorf(req, RHIS_EINTERNAL,
                                   "export job %lld failed: the server "
                                   "running it stopped; start a new export",
                                   (long long)id);
        }
    }
    json_object_put(params);
    int pct = total > 0 ? (int)(100 * done / total) : 0;
    const char *progress =
        cur != NULL
            ? rhis_arena_printf(req->arena, "%d%% (%lld of %lld resources; %s)",
                                pct, (long long)done, (long long)total, cur)
            : rhis_arena_printf(req->arena, "%d%% (starting)", pct);
    rhis_resp_header(resp, "X-Progress", progress);
    rhis_resp_header(resp, "Retry-After", "2");
    respond_outcome(resp, 202,
                    rhis_arena_printf(req->arena, "export job %lld: %s",
                                      (long long)id, progress));
    return RHIS_OK;
}

rhis_status
api_bulk_status(rhis_req *req, rhis_resp *resp)
{
    return status_answer(req, resp, 1);
}

rhis_status
api_bulk_cancel(rhis_req *req, rhis_resp *resp)
{
    int64_t id;
    job_row row;
    rhis_status rc = load_job(req, &id, &row);
    if (rc != RHIS_OK)
        return rc;
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rc = rhis_db_run(db,
                     "UPDATE bulk_export SET status = 'cancelled'"
                     " WHERE id = ?",
                     "i", id);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot cancel export job %lld",
                               (long long)id);
    /* a job running here cleans up after itself; otherwise it is done (or
     * runs on another server, which sees the status and stops) */
    pthread_mutex_lock(&jobs_mu);
    export_job *j = job_find_locked(id);
    if (j != NULL)
        atomic_store(&j->cancel, 1);
    pthread_mutex_unlock(&jobs_mu);
    if (j == NULL)
        drop_job(db, id);
    respond_outcome(resp, 202,
                    rhis_arena_printf(req->arena,
                                      "export job %lld %s and its files "
                                      "deleted",
                                      (long long)id,
                                      strcmp(row.status, "in-progress") == 0
                                          ? "cancelled"
                                          : "removed"));
    return RHIS_OK;
}

rhis_status
api_bulk_file(rhis_req *req, rhis_resp *resp)
{
    int64_t id, seq;
    job_row row;
    rhis_status rc = load_job(req, &id, &row);
    if (rc != RHIS_OK)
        return rc;
    const char *type = rhis_req_param(req, "type");
    if ((rc = rhis_fhir_parse_id(req, "file number", rhis_req_param(req, "seq"),
                                 &seq)) != RHIS_OK)
        return rc;
    req->audit_type = "Binary";
    req->audit_id = rhis_arena_printf(req->arena, "%lld/%s/%lld", (long long)id,
                                      type, (long long)seq);
    if (strcmp(row.status, "completed") != 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "export job %lld has no files yet",
                               (long long)id);
    rhis_db *db;
    if ((rc = rhis_req_db(req, &db)) != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT ndjson FROM bulk_export_file"
                       " WHERE export_id = ? AND type = ? AND seq = ?",
                       "isi", id, type, seq);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the file");
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        const char *text = rhis_db_column_text(st, 0);
        if (text == NULL)
            text = "";
        rhis_resp_text(resp, 200, NDJSON_CTYPE, text, strlen(text));
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_DONE)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "export job %lld has no file %s/%lld",
                               (long long)id, type, (long long)seq);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read the file");
    return RHIS_OK;
}
