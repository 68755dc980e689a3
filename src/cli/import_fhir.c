/*
 * import_fhir.c - `rhis import FILE.ndjson`: loads FHIR resources, one per
 * line (NDJSON, the format a Bulk Data $export writes).
 *
 * Why: hospitals and the previous record system hand over their data as
 * files of millions of resources.  The import streams them (memory does not
 * grow with the file) and commits in batches (a commit per line would cost
 * a disk flush per resource).  A bad line is reported with its number,
 * type and element path and undone alone: it never loses the good lines
 * around it and never leaves half a resource behind.  Every line goes
 * through the store engine (rhis_fhir_do_create), the same validation and
 * versioning as a POST.
 *
 * Savepoints: with a savepoint per line SQLite copies every page the line
 * changes into a statement journal first.  So a batch first runs
 * without them ("fast"), keeping its lines' text; when the store refuses a
 * line, the batch is rolled back and replayed with a savepoint per line
 * ("careful"), which reports the bad line and keeps the others.  After a
 * batch with a bad line the next one starts careful.  The result is the
 * same as with a savepoint per line throughout.
 *
 * Deferred writes: a fast batch also defers its writes
 * (rhis_db_set_deferred; on PostgreSQL they go out pipelined, so a batch
 * does not wait for the server once per statement).  Then a failure may
 * surface at a later statement or at the end of the batch, without saying
 * which line caused it, so in a fast batch any failure - a refusal or a
 * database error - replays the batch carefully, without deferral, where
 * each line's checks run before its writes and name the line.
 *
 * Ids: every resource is created new and gets the server's id; an "id" in
 * the file is not kept.  References between lines of the same file
 * ("Patient/p1" where a Patient line had "id": "p1", or "urn:uuid:<id>")
 * are rewritten to the new ids, so a resource must come after the ones it
 * references (the order $export writes: Patient, Encounter, then the rest).
 * A reference to an id the file has not defined names a resource already
 * on the server.
 *
 * Plan aggregates (rhis/agg.h): when the database holds no clinical
 * records yet (no Patient, Encounter, Observation, Immunization,
 * Condition or contract), a first load does not maintain them per line;
 * it rebuilds them once at the end (rhis_agg_rebuild, the same numbers as
 * live maintenance: `rhis plan verify`).  Until then the values served
 * do not include the file's records; a run that dies before the rebuild
 * leaves them behind until `rhis plan rebuild`.  Into a database that
 * has records, each line maintains them as any write does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rhis/agg.h"
#include "rhis/alloc.h"
#include "rhis/audit.h"
#include "rhis/buf.h"
#include "rhis/fhirstore.h"
#include "rhis/json.h"

#define IMPORT_LINE_CAP      (16u << 20) /* longest line accepted */
#define IMPORT_DEFAULT_BATCH 500
#define IMPORT_MAX_BATCH     100000
#define IMPORT_READ_CHUNK    (256u << 10)
#define IMPORT_HELD_SOFT     (64u << 20) /* commit early past this */

/* ---- file id -> new id ---- */

/* One entry: key "Type/fileid" (or "urn:uuid:fileid"), the new id. */
typedef struct idmap_slot {
    char *key;
    const char *type; /* the store type's name (static) */
    int64_t id;
} idmap_slot;

/* Open addressing, linear probing, FNV-1a; grows at 1/2 load. */
typedef struct idmap {
    idmap_slot *slot;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} idmap;

static uint64_t
hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static idmap_slot *
idmap_find(const idmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i].key == NULL)
            return NULL;
        if (strcmp(m->slot[i].key, key) == 0)
            return &m->slot[i];
    }
}

/* Inserts or replaces key (copied). */
static void
idmap_put(idmap *m, const char *key, const char *type, int64_t id)
{
    idmap_slot *s = idmap_find(m, key);
    if (s != NULL) {
        s->type = type;
        s->id = id;
        return;
    }
    if (2 * (m->n + 1) > m->cap) {
        size_t ncap = m->cap == 0 ? 1024 : 2 * m->cap;
        idmap_slot *ns = rhis_xcalloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slot[i].key == NULL)
                continue;
            size_t j = hash_str(m->slot[i].key) & (ncap - 1);
            while (ns[j].key != NULL)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slot[i];
        }
        rhis_free(m->slot);
        m->slot = ns;
        m->cap = ncap;
    }
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->slot[i].key != NULL)
        i = (i + 1) & (m->cap - 1);
    m->slot[i].key = rhis_xstrdup(key);
    m->slot[i].type = type;
    m->slot[i].id = id;
    m->n++;
}

static void
idmap_fini(idmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        rhis_free(m->slot[i].key);
    rhis_free(m->slot);
    memset(m, 0, sizeof(*m));
}

/* ---- the importer ---- */

/* A line of the open transaction, kept in importer.held. */
typedef struct held_line {
    int64_t line;
    size_t off, len;
} held_line;

typedef struct importer {
    rhis_db *db;
    int batch;         /* lines per transaction */
    FILE *err;         /* the error report */
    int err_on_stderr; /* the report shares the terminal with the bar */
    int progress;      /* draw a progress bar on stderr */
    int64_t total;     /* input size in bytes, 0 when unknown (a pipe) */
    int64_t bytes;     /* bytes read so far */
    int64_t lines;     /* lines read (blank ones included) */
    int64_t loaded;    /* resources committed */
    int64_t failed;    /* lines reported */
    int64_t pending;   /* resources created in the open transaction */
    int64_t tx_first;  /* first line of the open transaction */
    int in_tx;
    char fatal[512];   /* why the import stopped early, "" if it did not */
    idmap ids;         /* "Type/fileid" -> new id, committed lines */
    idmap pending_ids; /* the same for the open transaction */
    idmap failed_ids;  /* "Type/fileid" -> line number of refused lines */
    /* fast mode: the open transaction has no savepoints; its lines are
     * kept so that a refusal can replay them carefully */
    int careful;     /* a savepoint per line in the open transaction */
    int had_failure; /* a line of the open transaction was refused */
    int replaying;
    rhis_buf held; /* the lines of the open fast transaction, NUL-ended */
    held_line *hl;
    size_t nheld, capheld;
    struct timespec start, drawn_at;
    int bar_shown;
} importer;

static double
seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
bar_clear(importer *im)
{
    if (im->bar_shown) {
        (void)fputs("\r\033[K", stderr);
        im->bar_shown = 0;
    }
}

/* Redraws the progress line at most 10 times a second (force: now). */
static void
bar_draw(importer *im, int force)
{
    if (!im->progress)
        return;
    if (!force && seconds_since(&im->drawn_at) < 0.1)
        return;
    clock_gettime(CLOCK_MONOTONIC, &im->drawn_at);
    double sec = seconds_since(&im->start);
    double rate = sec > 0 ? (double)im->lines / sec : 0;
    char bar[32] = "";
    int pct = -1;
    if (im->total > 0) {
        pct = (int)(100.0 * (double)im->bytes / (double)im->total);
        if (pct > 100)
            pct = 100;
        int fill = pct / 5;
        for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
    }
    if (pct >= 0)
        (void)fprintf(stderr, "\r\033[K[%s] %3d%%  %lld lines  %.0f lines/s",
                      bar, pct, (long long)im->lines, rate);
    else
        (void)fprintf(stderr, "\r\033[K%lld lines  %.0f lines/s",
                      (long long)im->lines, rate);
    if (im->failed > 0)
        (void)fprintf(stderr, "  %lld failed", (long long)im->failed);
    (void)fflush(stderr);
    im->bar_shown = 1;
}

/*
 * Reports line `line` as failed: resourceType (or "-"), the FHIRPath of the
 * faulty element (or "-") and the message.  The lines of the report are
 * "line N: TYPE: PATH: MESSAGE".
 */
static void
report(importer *im,
       int64_t line,
       const char *type,
       const char *expr,
       const char *msg)
{
    if (im->err_on_stderr)
        bar_clear(im);
    im->failed++;
    (void)fprintf(im->err, "line %lld: %s: %s: %s\n", (long long)line,
                  type != NULL && *type != '\0' ? type : "-",
                  expr != NULL && *expr != '\0' ? expr : "-", msg);
}

/* A FHIR id: [A-Za-z0-9-.]{1,64}. */
static int
valid_fhir_id(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char ch = s[n];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
            return 0;
    }
    return n >= 1 && n <= 64;
}

/* 8-4-4-4-12 hexadecimal digits (ids of files that use urn:uuid: refs). */
static int
is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (ch != '-')
                return 0;
        } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                     (ch >= 'A' && ch <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static int
all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static idmap_slot *lookup_id(importer *im, const char *key);

/*
 * Rewrites every Reference.reference of v that names a resource of this
 * file to its new id.  unresolved (len bytes, "" on entry) gets the first
 * reference of the form Type/x (x not a number) or urn:uuid:x that names
 * no loaded line: it cannot be a server id, so the line will fail and the
 * report says why.
 */
static void
rewrite_refs(importer *im, json_object *v, char *unresolved, size_t len)
{
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            rewrite_refs(im, json_object_array_get_idx(v, i), unresolved, len);
        return;
    }
    if (!json_object_is_type(v, json_type_object))
        return;
    json_object_object_foreach(v, key, val)
    {
        if (strcmp(key, "reference") != 0 ||
            !json_object_is_type(val, json_type_string)) {
            rewrite_refs(im, val, unresolved, len);
            continue;
        }
        const char *ref = json_object_get_string(val);
        idmap_slot *s = lookup_id(im, ref);
        if (s != NULL) {
            char to[96];
            (void)snprintf(to, sizeof(to), "%s/%lld", s->type,
                           (long long)s->id);
            json_object_set_string(val, to);
            continue;
        }
        const char *slash = strchr(ref, '/');
        if (unresolved[0] == '\0' &&
            ((slash != NULL && strchr(slash + 1, '/') == NULL &&
              strchr(ref, ':') == NULL && !all_digits(slash + 1)) ||
             strncmp(ref, "urn:uuid:", 9) == 0))
            (void)snprintf(unresolved, len, "%s", ref);
    }
}

/* A savepoint statement: through rhis_db_exec, which tracks savepoints
 * for the aggregate buffer (rhis/db.h). */
static rhis_status
sql(importer *im, const char *stmt)
{
    return rhis_db_exec(im->db, stmt);
}

/* The new id of a reference key: this transaction's lines, then earlier
 * ones. */
static idmap_slot *
lookup_id(importer *im, const char *key)
{
    idmap_slot *s = idmap_find(&im->pending_ids, key);
    return s != NULL ? s : idmap_find(&im->ids, key);
}

/* Records the keys of a line's file id in m. */
static void
map_file_id(idmap *m,
            const rhis_fhir_type *t,
            const char *file_id,
            int64_t value)
{
    char key[96];
    (void)snprintf(key, sizeof(key), "%s/%s", t->name, file_id);
    idmap_put(m, key, t->name, value);
    if (is_uuid(file_id)) {
        (void)snprintf(key, sizeof(key), "urn:uuid:%s", file_id);
        idmap_put(m, key, t->name, value);
    }
}

static void
drop_held(importer *im)
{
    rhis_buf_reset(&im->held);
    im->nheld = 0;
}

static rhis_status replay_batch(importer *im);

/*
 * Commits the open batch.  A fast batch whose deferred writes failed is
 * replayed carefully first.  A failed commit loses the batch: fatal.
 */
static rhis_status
batch_commit(importer *im)
{
    if (!im->in_tx)
        return RHIS_OK;
    if (!im->careful && rhis_db_deferred(im->db) &&
        rhis_db_sync(im->db) != RHIS_OK) {
        rhis_status rr = replay_batch(im);
        if (rr != RHIS_OK || !im->in_tx)
            return rr;
    }
    rhis_status rc = rhis_db_commit(im->db);
    im->in_tx = 0;
    if (rc != RHIS_OK) {
        (void)snprintf(
            im->fatal, sizeof(im->fatal),
            "the batch of lines %lld-%lld could not be committed (%s); "
            "its %lld resources were not loaded",
            (long long)im->tx_first, (long long)im->lines,
            rhis_db_errmsg(im->db), (long long)im->pending);
        rhis_db_rollback(im->db);
        im->pending = 0;
        return rc;
    }
    im->loaded += im->pending;
    im->pending = 0;
    for (size_t i = 0; i < im->pending_ids.cap; i++) {
        idmap_slot *s = &im->pending_ids.slot[i];
        if (s->key != NULL)
            idmap_put(&im->ids, s->key, s->type, s->id);
    }
    idmap_fini(&im->pending_ids);
    drop_held(im);
    /* after a batch with a bad line, one batch with savepoints: bad lines
     * tend to come in runs */
    im->careful = im->had_failure;
    im->had_failure = 0;
    return RHIS_OK;
}

static rhis_status
batch_begin(importer *im, int64_t line)
{
    if (im->in_tx)
        return RHIS_OK;
    /* defer the writes of fast batches only: a careful batch must see
     * each line's failure at that line */
    rhis_status rc = rhis_db_set_deferred(im->db, !im->careful);
    if (rc == RHIS_OK)
        rc = rhis_db_begin(im->db);
    if (rc != RHIS_OK) {
        (void)snprintf(im->fatal, sizeof(im->fatal),
                       "cannot begin a transaction at line %lld: %s",
                       (long long)line, rhis_db_errmsg(im->db));
        return rc;
    }
    im->in_tx = 1;
    im->tx_first = line;
    return RHIS_OK;
}

/* Failures of the database itself stop the import; bad data does not. */
static int
is_db_failure(rhis_status rc)
{
    return rc == RHIS_EIO || rc == RHIS_EBUSY;
}

/* Reports a line the store refused, with a hint when a reference to
 * another line of the file could not be resolved. */
static void
report_refused(importer *im,
               int64_t line,
               const rhis_fhir_type *t,
               const rhis_fhir_ctx *c,
               rhis_status rc,
               const char *file_id,
               const char *unresolved)
{
    char hint[160] = "";
    if (unresolved[0] != '\0') {
        idmap_slot *f = idmap_find(&im->failed_ids, unresolved);
        if (f != NULL)
            (void)snprintf(hint, sizeof(hint),
                           " (%.80s is line %lld, which was not loaded)",
                           unresolved, (long long)f->id);
        else
            (void)snprintf(
                hint, sizeof(hint),
                " (%.80s names no earlier line: a resource must come "
                "after the ones it references)",
                unresolved);
    }
    if (file_id != NULL)
        map_file_id(&im->failed_ids, t, file_id, line);
    char msg[700];
    (void)snprintf(msg, sizeof(msg), "%s%s",
                   c->err_text[0] != '\0' ? c->err_text : rhis_status_name(rc),
                   hint);
    report(im, line, t->name, c->err_expr, msg);
}

/*
 * Creates the resource of one parsed line.  In careful mode inside a
 * savepoint: a refusal is reported and undone alone.  In fast mode
 * (no savepoint) a refusal sets *replay and reports nothing: the caller
 * rolls the whole batch back and replays it carefully.  Returns RHIS_OK, a
 * refusal, or a database failure (im->fatal set).
 */
static rhis_status
create_one(importer *im,
           int64_t line,
           const rhis_fhir_type *t,
           json_object *res,
           const char *file_id,
           const char *unresolved,
           int *replay)
{
    rhis_status rc = batch_begin(im, line);
    if (rc != RHIS_OK)
        return rc;
    if (im->careful && (rc = sql(im, "SAVEPOINT rhis_line")) != RHIS_OK) {
        (void)snprintf(im->fatal, sizeof(im->fatal), "line %lld: savepoint: %s",
                       (long long)line, rhis_db_errmsg(im->db));
        return rc;
    }
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, im->db, a);
    int64_t id = 0, version = 0;
    rc = rhis_fhir_do_create(&c, t, res, &id, &version);
    if (rc == RHIS_OK) {
        if (im->careful &&
            (rc = sql(im, "RELEASE SAVEPOINT rhis_line")) != RHIS_OK)
            (void)snprintf(im->fatal, sizeof(im->fatal),
                           "line %lld: release: %s", (long long)line,
                           rhis_db_errmsg(im->db));
        if (rc == RHIS_OK) {
            im->pending++;
            if (file_id != NULL)
                map_file_id(&im->pending_ids, t, file_id, id);
        }
        rhis_arena_free(a);
        return rc;
    }
    /* a fast batch with deferred writes cannot tell a database failure
     * from a refusal of an earlier line: the careful replay decides */
    if (!im->careful && rhis_db_deferred(im->db)) {
        *replay = 1;
        rhis_arena_free(a);
        return rc;
    }
    if (is_db_failure(rc)) {
        (void)snprintf(im->fatal, sizeof(im->fatal),
                       "line %lld: database failure: %.400s", (long long)line,
                       c.err_text[0] != '\0' ? c.err_text
                                             : rhis_db_errmsg(im->db));
        rhis_arena_free(a);
        return rc;
    }
    if (!im->careful) {
        *replay = 1;
        rhis_arena_free(a);
        return rc;
    }
    rhis_status undo = sql(im, "ROLLBACK TO SAVEPOINT rhis_line");
    if (undo == RHIS_OK)
        undo = sql(im, "RELEASE SAVEPOINT rhis_line");
    if (undo != RHIS_OK) {
        (void)snprintf(im->fatal, sizeof(im->fatal),
                       "line %lld: cannot undo the line: %.400s",
                       (long long)line, rhis_db_errmsg(im->db));
        rhis_arena_free(a);
        return undo;
    }
    im->had_failure = 1;
    report_refused(im, line, t, &c, rc, file_id, unresolved);
    rhis_arena_free(a);
    return rc;
}

static rhis_status
import_line(importer *im, char *text, size_t len, int64_t line);

/*
 * A line of a fast batch was refused: nothing of the batch is committed
 * yet, so roll it back and run its lines again with a savepoint each (the
 * refused one last).  Lines before it load again, it gets reported.
 */
static rhis_status
replay_batch(importer *im)
{
    rhis_db_rollback(im->db);
    im->in_tx = 0;
    im->pending = 0;
    idmap_fini(&im->pending_ids);
    im->careful = 1;
    im->replaying = 1;
    rhis_status rc = RHIS_OK;
    for (size_t i = 0; i < im->nheld && rc == RHIS_OK; i++)
        rc = import_line(im, im->held.data + im->hl[i].off, im->hl[i].len,
                         im->hl[i].line);
    im->replaying = 0;
    drop_held(im);
    return rc;
}

/* Keeps the text of a line of a fast batch for a possible replay. */
static void
hold_line(importer *im, const char *text, size_t len, int64_t line)
{
    if (im->nheld == im->capheld) {
        im->capheld = im->capheld == 0 ? 64 : 2 * im->capheld;
        im->hl = rhis_xrealloc(im->hl, im->capheld * sizeof(*im->hl));
    }
    size_t off = im->held.len;
    /* cannot fail: the batch is committed once held passes its soft cap,
     * and the hard cap leaves room for one more line */
    rhis_status rc = rhis_buf_append(&im->held, text, len);
    if (rc == RHIS_OK)
        rc = rhis_buf_append(&im->held, "", 1);
    RHIS_ASSERT(rc == RHIS_OK);
    im->hl[im->nheld].off = off;
    im->hl[im->nheld].len = len;
    im->hl[im->nheld].line = line;
    im->nheld++;
}

/*
 * Handles one line (text is NUL-terminated, len bytes).  Returns RHIS_OK
 * also for a bad line (it was reported); only a database failure
 * (im->fatal set) stops the import.
 */
static rhis_status
import_line(importer *im, char *text, size_t len, int64_t line)
{
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ' ||
                       text[len - 1] == '\t'))
        len--;
    size_t skip = 0;
    while (skip < len && (text[skip] == ' ' || text[skip] == '\t'))
        skip++;
    if (skip == len)
        return RHIS_OK; /* blank lines are allowed */
    text += skip;
    len -= skip;
    json_object *res = NULL;
    char err[200];
    if (rhis_json_parse(text, len, RHIS_JSON_DEFAULT_DEPTH, &res, err,
                        sizeof(err)) != RHIS_OK) {
        report(im, line, NULL, NULL, err);
        return RHIS_OK;
    }
    rhis_status rc = RHIS_OK;
    if (!json_object_is_type(res, json_type_object)) {
        report(im, line, NULL, NULL,
               "a line must hold one JSON object (a FHIR resource)");
        goto out;
    }
    const char *rt = rhis_json_get_str(res, "resourceType");
    if (rt == NULL) {
        report(im, line, NULL, "resourceType",
               "resourceType is missing or not a string");
        goto out;
    }
    const rhis_fhir_type *t = rhis_fhir_type_find(rt);
    if (t == NULL) {
        char names[300] = "";
        int n;
        const rhis_fhir_type *const *all = rhis_fhir_types(&n);
        size_t used = 0;
        for (int i = 0; i < n && used < sizeof(names); i++) {
            int w = snprintf(names + used, sizeof(names) - used, "%s%s",
                             i > 0 ? ", " : "", all[i]->name);
            if (w > 0)
                used += (size_t)w;
        }
        char msg[420];
        (void)snprintf(
            msg, sizeof(msg),
            "resourceType '%.40s' cannot be imported (supported: %s)", rt,
            n > 0 ? names : "none");
        report(im, line, NULL, "resourceType", msg);
        goto out;
    }
    char *file_id = NULL;
    json_object *idv = rhis_json_get(res, "id");
    if (idv != NULL) {
        const char *given = json_object_is_type(idv, json_type_string)
                                ? json_object_get_string(idv)
                                : NULL;
        if (given == NULL || !valid_fhir_id(given)) {
            char path[64];
            (void)snprintf(path, sizeof(path), "%s.id", t->name);
            report(im, line, t->name, path,
                   "id must be a string of 1 to 64 letters, digits, '-' or "
                   "'.'");
            goto out;
        }
        /* do_create drops "id": keep a copy for the id map */
        file_id = rhis_xstrdup(given);
    }
    if (!im->careful)
        hold_line(im, text, len, line);
    char unresolved[96] = "";
    rewrite_refs(im, res, unresolved, sizeof(unresolved));
    int replay = 0;
    rc = create_one(im, line, t, res, file_id, unresolved, &replay);
    rhis_free(file_id);
    if (replay)
        rc = replay_batch(im);
    else if (!is_db_failure(rc) && im->fatal[0] == '\0')
        rc = RHIS_OK;
    if (rc == RHIS_OK && !im->replaying &&
        (im->pending >= im->batch || im->held.len >= IMPORT_HELD_SOFT))
        rc = batch_commit(im);
out:
    json_object_put(res);
    return rc;
}

/* ---- reading lines ---- */

typedef struct reader {
    FILE *f;
    char *chunk;
    size_t pos, len;
    int eof;
} reader;

/*
 * Reads the next line (without its '\n') into line.  Returns 1 with a
 * line, 0 at the end, -1 on a read error.  A line over IMPORT_LINE_CAP is
 * consumed and returned empty with *too_long set.
 */
static int
read_line(reader *r, rhis_buf *line, int *too_long, int64_t *bytes)
{
    rhis_buf_reset(line);
    *too_long = 0;
    int any = 0;
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                return any ? 1 : 0;
            r->len = fread(r->chunk, 1, IMPORT_READ_CHUNK, r->f);
            r->pos = 0;
            if (r->len < IMPORT_READ_CHUNK) {
                if (ferror(r->f))
                    return -1;
                r->eof = 1;
            }
            if (r->len == 0)
                continue;
        }
        any = 1;
        char *start = r->chunk + r->pos;
        size_t avail = r->len - r->pos;
        char *nl = memchr(start, '\n', avail);
        size_t take = nl != NULL ? (size_t)(nl - start) : avail;
        if (!*too_long && rhis_buf_append(line, start, take) != RHIS_OK) {
            *too_long = 1;
            rhis_buf_reset(line);
        }
        r->pos += take + (nl != NULL);
        *bytes += (int64_t)(take + (nl != NULL));
        if (nl != NULL)
            return 1;
    }
}

/*
 * Imports every line of in.  Returns RHIS_OK when the input was read to
 * its end (some lines may have failed: im->failed), RHIS_EIO on a read
 * error or a database failure (message in im->fatal).
 */
static rhis_status
import_stream(importer *im, FILE *in)
{
    reader r = {.f = in, .chunk = rhis_xmalloc(IMPORT_READ_CHUNK)};
    rhis_buf line;
    rhis_buf_init(&line, IMPORT_LINE_CAP);
    clock_gettime(CLOCK_MONOTONIC, &im->start);
    im->drawn_at = im->start;
    rhis_status rc = RHIS_OK;
    for (;;) {
        int too_long = 0;
        int got = read_line(&r, &line, &too_long, &im->bytes);
        if (got < 0) {
            (void)snprintf(im->fatal, sizeof(im->fatal),
                           "read error after line %lld: %s",
                           (long long)im->lines, strerror(errno));
            rc = RHIS_EIO;
            break;
        }
        if (got == 0)
            break;
        im->lines++;
        if (too_long) {
            char msg[120];
            (void)snprintf(msg, sizeof(msg), "the line is longer than %u MiB",
                           IMPORT_LINE_CAP >> 20);
            report(im, im->lines, NULL, NULL, msg);
        } else if (line.data != NULL) {
            rc = import_line(im, line.data, line.len, im->lines);
            if (rc != RHIS_OK)
                break;
        }
        bar_draw(im, 0);
    }
    if (rc == RHIS_OK)
        rc = batch_commit(im);
    else if (im->in_tx) {
        rhis_db_rollback(im->db);
        im->in_tx = 0;
        im->pending = 0;
    }
    if (im->progress) {
        bar_draw(im, 1);
        (void)fputc('\n', stderr);
        im->bar_shown = 0;
    }
    rhis_buf_fini(&line);
    rhis_free(r.chunk);
    return rc == RHIS_OK ? RHIS_OK : RHIS_EIO;
}

static void
importer_init(importer *im, rhis_db *db, int batch, FILE *err)
{
    memset(im, 0, sizeof(*im));
    im->db = db;
    im->batch = batch;
    im->err = err;
    rhis_buf_init(&im->held, IMPORT_HELD_SOFT + IMPORT_LINE_CAP + 1);
}

static void
importer_fini(importer *im)
{
    if (im->in_tx)
        rhis_db_rollback(im->db);
    (void)rhis_db_set_deferred(im->db, 0);
    idmap_fini(&im->ids);
    idmap_fini(&im->pending_ids);
    idmap_fini(&im->failed_ids);
    rhis_buf_fini(&im->held);
    rhis_free(im->hl);
}

/* ---- the command ---- */

static int
import_usage(FILE *f)
{
    (void)fputs(
        "usage: rhis import [--db URL] [--batch N] [--errors FILE]\n"
        "                   [--no-progress] FILE.ndjson | -\n"
        "\n"
        "Loads FHIR R4 resources, one JSON object per line ('-' reads\n"
        "stdin).  Each resource is created with a new server id;\n"
        "references to earlier lines of the file are rewritten.  Lines\n"
        "are committed N at a time (default 500), each in its own\n"
        "savepoint: a bad line is reported (line: type: path: message)\n"
        "on stderr or in FILE and loses nothing else.\n"
        "Exit status: 0 all lines loaded, 1 some failed, 2 usage, input\n"
        "or database error.\n",
        f);
    return f == stdout ? 0 : 2;
}

typedef struct import_opts {
    const char *url, *file, *errfile;
    long batch;
    int progress;
} import_opts;

/* Fills o from argv; returns -1 to go on, or the exit status. */
static int
parse_args(int argc, char **argv, import_opts *o)
{
    *o = (import_opts){
        .url = cli_default_db(), .batch = IMPORT_DEFAULT_BATCH, .progress = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return import_usage(stdout);
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            o->url = argv[++i];
        } else if (strcmp(a, "--errors") == 0 && i + 1 < argc) {
            o->errfile = argv[++i];
        } else if (strcmp(a, "--no-progress") == 0) {
            o->progress = 0;
        } else if (strcmp(a, "--batch") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            o->batch = strtol(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || o->batch < 1 ||
                o->batch > IMPORT_MAX_BATCH) {
                (void)fprintf(stderr, "rhis import: --batch must be 1 to %d\n",
                              IMPORT_MAX_BATCH);
                return 2;
            }
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && o->file == NULL) {
            o->file = a;
        } else {
            (void)fprintf(stderr, "rhis import: unexpected argument '%s'\n", a);
            return import_usage(stderr);
        }
    }
    return o->file == NULL ? import_usage(stderr) : -1;
}

/* Opens the target and checks its schema; NULL (said why) on failure. */
static rhis_db *
open_target(const char *url)
{
    char dberr[512] = "";
    rhis_db *db = NULL;
    int64_t schema = 0;
    if (rhis_db_open(&db, url, dberr, sizeof(dberr)) != RHIS_OK) {
        (void)fprintf(stderr, "rhis import: cannot open database: %s\n", dberr);
        return NULL;
    }
    if (rhis_db_scalar_int64(db, &schema,
                             "SELECT COALESCE(MAX(version), 0)"
                             " FROM schema_version",
                             "") != RHIS_OK ||
        schema != rhis_db_schema_version_latest()) {
        (void)fprintf(
            stderr,
            "rhis import: the database is at schema version %lld, not "
            "%d: run 'rhis init' first\n",
            (long long)schema, rhis_db_schema_version_latest());
        rhis_db_close(db);
        return NULL;
    }
    /* SQLite keeps the undo of each line's savepoint in a statement
     * journal, a temporary file by default: one write per changed page
     * per line; in memory it costs no system calls.  A 64 MiB page cache
     * (not 2) keeps the indexes every line probes (ID number, names,
     * identifiers) in memory past a few ten thousand residents. */
    if (rhis_db_dialect(db) == RHIS_DIALECT_SQLITE)
        (void)rhis_db_exec(db, "PRAGMA temp_store = MEMORY;"
                               " PRAGMA cache_size = -65536");
    return db;
}

/* True when db has no clinical records (the aggregates can be rebuilt
 * after the load at the cost of the file alone). */
static int
no_clinical_rows(rhis_db *db)
{
    static const char *const sql[] = {
        "SELECT 1 FROM patient LIMIT 1",
        "SELECT 1 FROM encounter LIMIT 1",
        "SELECT 1 FROM observation LIMIT 1",
        "SELECT 1 FROM immunization LIMIT 1",
        "SELECT 1 FROM condition LIMIT 1",
        "SELECT 1 FROM fd_contract LIMIT 1",
    };
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        int64_t one;
        if (rhis_db_scalar_int64(db, &one, sql[i], "") != RHIS_ENOTFOUND)
            return 0; /* a row, or an error: keep live maintenance */
    }
    return 1;
}

/* After a first load without live maintenance: the rebuild. */
static rhis_status
rebuild_aggregates(rhis_db *db)
{
    char err[300] = "";
    int64_t facts = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rhis_status rc = rhis_agg_rebuild(db, &facts, err, sizeof(err));
    if (rc != RHIS_OK) {
        (void)fprintf(stderr,
                      "rhis import: plan aggregates not rebuilt: %s; run "
                      "'rhis plan rebuild'\n",
                      err);
        return rc;
    }
    printf("plan aggregates rebuilt: %lld facts, %.2f s\n", (long long)facts,
           seconds_since(&t0));
    return RHIS_OK;
}

/* The audit event of the run (who loaded how much, never what) and the
 * summary lines. */
static void
summarise(importer *im, rhis_status rc, const import_opts *o)
{
    double sec = seconds_since(&im->start);
    char detail[160];
    (void)snprintf(
        detail, sizeof(detail), "ndjson lines=%lld loaded=%lld failed=%lld",
        (long long)im->lines, (long long)im->loaded, (long long)im->failed);
    rhis_audit_event ev = {.username = "cli",
                           .action = "C",
                           .operation = "import",
                           .outcome = rc == RHIS_OK ? 200 : 500,
                           .detail = detail};
    if (im->loaded > 0 || im->failed > 0)
        (void)rhis_audit_write(im->db, &ev);
    if (rc != RHIS_OK)
        (void)fprintf(stderr, "rhis import: stopped: %s\n", im->fatal);
    printf("%s: %lld lines, %lld resources loaded, %lld failed, %.2f s "
           "(%.0f lines/s)\n",
           o->file, (long long)im->lines, (long long)im->loaded,
           (long long)im->failed, sec, sec > 0 ? (double)im->lines / sec : 0.0);
    if (im->failed > 0 && o->errfile != NULL)
        (void)fprintf(stderr, "rhis import: %lld lines failed, see %s\n",
                      (long long)im->failed, o->errfile);
}

int
cmd_import_fhir(int argc, char **argv)
{
    import_opts o;
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    FILE *in = strcmp(o.file, "-") == 0 ? stdin : fopen(o.file, "rb");
    if (in == NULL) {
        (void)fprintf(stderr, "rhis import: cannot open %s: %s\n", o.file,
                      strerror(errno));
        return 2;
    }
    struct stat sb;
    int64_t total = 0;
    if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
        total = (int64_t)sb.st_size;
    FILE *err = o.errfile != NULL ? fopen(o.errfile, "w") : stderr;
    if (err == NULL)
        (void)fprintf(stderr, "rhis import: cannot write %s: %s\n", o.errfile,
                      strerror(errno));
    rhis_db *db = err != NULL ? open_target(o.url) : NULL;
    if (db == NULL) {
        if (in != stdin)
            (void)fclose(in);
        if (err != NULL && err != stderr)
            (void)fclose(err);
        return 2;
    }
    importer im;
    importer_init(&im, db, (int)o.batch, err);
    im.total = total;
    im.progress = o.progress && isatty(STDERR_FILENO);
    im.err_on_stderr = err == stderr;
    /* a first load: aggregates rebuilt once at the end (see the top) */
    int bulk_agg = rhis_agg_enabled() && no_clinical_rows(db);
    if (bulk_agg)
        rhis_agg_set_enabled(0);
    rhis_status rc = import_stream(&im, in);
    summarise(&im, rc, &o);
    status = rc != RHIS_OK ? 2 : im.failed > 0 ? 1 : 0;
    if (bulk_agg) {
        rhis_agg_set_enabled(1);
        if (im.loaded > 0 && rebuild_aggregates(db) != RHIS_OK)
            status = 2;
    }
    importer_fini(&im);
    rhis_db_close(db);
    if (in != stdin)
        (void)fclose(in);
    if (err != stderr && fclose(err) != 0) {
        (void)fprintf(stderr, "rhis import: cannot write %s\n", o.errfile);
        return 2;
    }
    return status;
}
