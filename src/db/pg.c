/*
 * pg.c - the PostgreSQL storage driver (libpq).
 *
 * Why: cities and provinces run RHIS on PostgreSQL, counties on SQLite, and
 * the domain modules write their SQL once, with '?' parameters, in the
 * subset both engines share.  This file makes libpq look like the SQLite
 * statement model db.c expects: prepare rewrites '?' to $1..$n, the first
 * step runs the statement with PQexecParams (text parameters, types
 * inferred by the server) and later steps walk the rows of the result.
 *
 * Prepared statements are cached per connection, keyed by the SQL text, as
 * in the SQLite driver: a text seen a second time is prepared on the
 * server (PQprepare) and from then on runs with PQexecPrepared, so the
 * server parses and plans it once.  Texts seen once (searches built from
 * a request's parameters) run unnamed, as before.  Deferred writes
 * (rhis_db_set_deferred, for bulk loads) go out in libpq pipeline mode:
 * a bulk load of residents then waits for the server once per batch of
 * statements instead of once per statement.
 *
 * Nothing here logs: error text is kept on the connection for
 * rhis_db_errmsg() and carries only PostgreSQL's primary message (never the
 * DETAIL line, which quotes the offending row and so may hold patient data).
 * See docs/internals/db.md for the invariants and the dialect differences.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "rhis/alloc.h"
#include "rhis/db.h"

#include "driver.h"

/* PostgreSQL's wire protocol counts parameters in an int16. */
#define PG_MAX_PARAMS 65535
/* Statement texts remembered per connection (least recently used out). */
#define PG_CACHE 64
/* Deferred statements sent before the driver reads their answers: few
 * enough that the answers (some bytes each) always fit in the socket
 * buffers, so neither side can block the other. */
#define PG_PIPE_MAX 1024
/* Identity values reserved per round trip (rhis_db_next_id), and the
 * tables whose blocks are kept at once (a table's block is kept while
 * others are drawn from, so its ids stay consecutive). */
#define PG_ID_BLOCK  1024
#define PG_ID_TABLES 8

typedef struct pg_slot {
    char *key;     /* the caller's text ('?'); NULL = empty slot */
    char *text;    /* rewritten ($n) */
    uint64_t hash; /* of key */
    uint64_t last_used;
    uint64_t gen; /* changes when the slot is given to another text */
    unsigned uses;
    int nparams;
    int deferrable;
    int pending;   /* prepared inside the open pipeline, not yet confirmed */
    char name[24]; /* server-side statement, "" while not prepared */
} pg_slot;

/* Identity values of one table reserved by rhis_db_next_id. */
typedef struct pg_ids {
    char table[64]; /* "" = unused */
    int64_t v[PG_ID_BLOCK];
    int n, pos;
    uint64_t last_used;
} pg_ids;

typedef struct pg_db {
    rhis_db base; /* first: db.c casts between the two */
    PGconn *conn;
    int64_t changes;  /* rows changed by the last INSERT/UPDATE/DELETE */
    char errmsg[512]; /* last error, "" when none */
    pg_slot cache[PG_CACHE];
    uint64_t tick, names, gens;
    int deferred; /* rhis_db_set_deferred */
    int piped;    /* commands sent in pipeline mode, answers not yet read */
    pg_ids ids[PG_ID_TABLES]; /* rhis_db_next_id, one block per table */
    uint64_t id_tick;
} pg_db;

enum pg_state {
    PG_FRESH = 0, /* not yet executed: the next step runs it */
    PG_ROWS,      /* executed, res holds the rows, row is the current one */
    PG_DONE,      /* finished (or failed): step returns RHIS_DONE */
};

typedef struct pg_stmt {
    rhis_stmt base; /* first: db.c casts between the two */
    char *sql;      /* the rewritten text with $n placeholders */
    int slot;       /* in the statement cache, -1 when not cached */
    uint64_t gen;   /* the slot's gen when it was this text */
    int deferrable; /* INSERT, UPDATE or DELETE without RETURNING */
    int nparams;    /* placeholders found by prepare */
    char **values;  /* nparams owned strings; NULL is SQL NULL */
    PGresult *res;
    int ntuples;
    int row; /* current row in res, -1 when none */
    enum pg_state state;
} pg_stmt;

static pg_db *
pg_of(rhis_db *db)
{
    return (pg_db *)db;
}

static pg_stmt *
stmt_of(rhis_stmt *st)
{
    return (pg_stmt *)st;
}

/* Copies src into dst (capacity n) as one line: trailing whitespace
 * dropped, inner line breaks and tabs turned into spaces.  dst may be
 * NULL. */
static void
copy_trimmed(char *dst, size_t n, const char *src)
{
    size_t len;

    if (dst == NULL || n == 0)
        return;
    if (src == NULL)
        src = "";
    len = strlen(src);
    while (len > 0 && isspace((unsigned char)src[len - 1]))
        len--;
    if (len >= n)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        dst[i] = isspace((unsigned char)src[i]) ? ' ' : src[i];
    dst[len] = '\0';
}

static void
set_errmsg(pg_db *p, const char *msg)
{
    copy_trimmed(p->errmsg, sizeof(p->errmsg), msg);
}

/*
 * Maps a failed result to a status and records its message on p.  res may
 * be NULL (libpq ran out of memory or lost the connection).
 */
static rhis_status
fail_result(pg_db *p, const PGresult *res)
{
    const char *state = NULL;
    const char *msg = NULL;

    if (res != NULL) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (msg == NULL)
            msg = PQresultErrorMessage(res);
    }
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(p->conn);
    set_errmsg(p, msg);

    if (PQstatus(p->conn) == CONNECTION_BAD || state == NULL)
        return RHIS_EIO;
    if (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0)
        return RHIS_ECONFLICT;
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 ||
        strcmp(state, "23502") == 0 || strncmp(state, "22", 2) == 0)
        return RHIS_EINVAL;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        return RHIS_EBUSY;
    return RHIS_EIO;
}

/* Case-insensitive: does sql, after leading blanks, start with word? */
static int
starts_with_word(const char *sql, const char *word)
{
    size_t n = strlen(word);

    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)sql[i]) != word[i])
            return 0;
    }
    return !isalnum((unsigned char)sql[n]) && sql[n] != '_';
}

/*
 * COMMIT inside a transaction that already failed is answered with the
 * command tag ROLLBACK and no error.  SQLite would have committed the rest,
 * so a silent rollback must be reported to the caller as a failure.
 */
static rhis_status
check_commit(pg_db *p, const char *sql, PGresult *res)
{
    if ((starts_with_word(sql, "commit") || starts_with_word(sql, "end")) &&
        strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        set_errmsg(p, "transaction aborted by an earlier error; "
                      "rolled back instead of committed");
        return RHIS_EIO;
    }
    return RHIS_OK;
}

/* Records rows changed when res comes from INSERT, UPDATE, DELETE or MERGE;
 * other commands (SELECT, DDL) leave the count as it was, as in SQLite. */
static void
record_changes(pg_db *p, PGresult *res)
{
    const char *tag = PQcmdStatus(res);
    const char *n;

    if (strncmp(tag, "INSERT", 6) != 0 && strncmp(tag, "UPDATE", 6) != 0 &&
        strncmp(tag, "DELETE", 6) != 0 && strncmp(tag, "MERGE", 5) != 0)
        return;
    n = PQcmdTuples(res);
    if (n[0] != '\0')
        p->changes = strtoll(n, NULL, 10);
}

/* Notices and warnings would go to stderr; RHIS does not log from here. */
static void
quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void
pg_close(rhis_db *db)
{
    pg_db *p = pg_of(db);

    if (p == NULL)
        return;
    if (p->conn != NULL)
        PQfinish(p->conn);
    for (int i = 0; i < PG_CACHE; i++) {
        rhis_free(p->cache[i].key);
        rhis_free(p->cache[i].text);
    }
    rhis_free(p);
}

/*
 * Connects with url as libpq conninfo (a postgresql:// or postgres:// URI).
 * Defaults that the URL may override: client_encoding UTF8 (all RHIS text is
 * UTF-8), connect_timeout 10 s.  Then sets client_min_messages=warning and
 * the UTC time zone for the session.  Returns RHIS_EINVAL for a malformed
 * URL, RHIS_EIO when the server cannot be reached; *out is NULL then and err
 * (if not NULL) holds libpq's message.
 */
static rhis_status
pg_open(rhis_db **out, const char *url, char *err, size_t errlen)
{
    static const char *const keys[] = {"client_encoding", "connect_timeout",
                                       "dbname", NULL};
    const char *vals[] = {"UTF8", "10", url, NULL};
    PQconninfoOption *opts;
    char *perr = NULL;
    pg_db *p = NULL;
    PGresult *res = NULL;
    rhis_status rc;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (url == NULL) {
        copy_trimmed(err, errlen, "no PostgreSQL URL");
        return RHIS_EINVAL;
    }
    opts = PQconninfoParse(url, &perr);
    if (opts == NULL) {
        copy_trimmed(err, errlen, perr != NULL ? perr : "bad PostgreSQL URL");
        PQfreemem(perr);
        return RHIS_EINVAL;
    }
    PQconninfoFree(opts);

    p = rhis_xcalloc(1, sizeof(*p));
    p->base.drv = &rhis_pg_driver;
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (p->conn == NULL) {
        copy_trimmed(err, errlen, "out of memory in libpq");
        rc = RHIS_EIO;
        goto fail;
    }
    if (PQstatus(p->conn) != CONNECTION_OK) {
        copy_trimmed(err, errlen, PQerrorMessage(p->conn));
        rc = RHIS_EIO;
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, quiet_notice, NULL);
    PQsetErrorVerbosity(p->conn, PQERRORS_TERSE);

    res = PQexec(p->conn, "SET client_min_messages = warning; "
                          "SET TIME ZONE 'UTC'");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = fail_result(p, res);
        copy_trimmed(err, errlen, p->errmsg);
        goto fail;
    }
    PQclear(res);
    *out = &p->base;
    return RHIS_OK;
fail:
    PQclear(res);
    pg_close(&p->base); /* safe on a half-built object */
    return rc;
}

static const char *
pg_errmsg(rhis_db *db)
{
    return pg_of(db)->errmsg;
}

static int
ident_char(char c)
{
    unsigned char u = (unsigned char)c;

    return isalnum(u) || u == '_' || u == '$' || u >= 0x80;
}

/*
 * Length of a dollar-quote tag ("$$" or "$name$") starting at s, 0 when s
 * does not start one.  A tag cannot start with a digit, so "$1" is not one.
 */
static size_t
dollar_tag_len(const char *s)
{
    size_t i = 1;

    if (s[0] != '$')
        return 0;
    if (isdigit((unsigned char)s[1]))
        return 0;
    while (s[i] != '\0' && s[i] != '$' && ident_char(s[i]))
        i++;
    return s[i] == '$' ? i + 1 : 0;
}

/*
 * Length of the token at sql[i] that must be copied untouched: a quoted
 * string (with E'' backslash escapes), a double-quoted identifier, a
 * dollar-quoted string, a -- or (nested) block comment.  0 when sql[i]
 * starts none of these.  An unterminated token runs to the end of sql; the
 * server will reject it.
 */
static size_t
skip_len(const char *sql, size_t i)
{
    const char *s = sql + i;
    size_t n = 1;

    if (s[0] == '\'') {
        int esc = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                  (i < 2 || !ident_char(sql[i - 2]));
        while (s[n] != '\0') {
            if ((esc && s[n] == '\\' && s[n + 1] != '\0') ||
                (s[n] == '\'' && s[n + 1] == '\'')) {
                n += 2; /* a backslash escape or a doubled quote */
            } else if (s[n] == '\'') {
                return n + 1;
            } else {
                n++;
            }
        }
        return n;
    }
    if (s[0] == '"') {
        /* A doubled "" inside is two adjacent identifiers to this scan,
         * which skips the same characters. */
        while (s[n] != '\0' && s[n] != '"')
            n++;
        return s[n] == '"' ? n + 1 : n;
    }
    if (s[0] == '-' && s[1] == '-') {
        while (s[n] != '\0' && s[n] != '\n')
            n++;
        return n;
    }
    if (s[0] == '/' && s[1] == '*') {
        int depth = 1;
        n = 2;
        while (s[n] != '\0' && depth > 0) {
            if (s[n] == '/' && s[n + 1] == '*') {
                depth++;
                n += 2;
            } else if (s[n] == '*' && s[n + 1] == '/') {
                depth--;
                n += 2;
            } else {
                n++;
            }
        }
        return n;
    }
    if (s[0] == '$' && (i == 0 || !ident_char(sql[i - 1]))) {
        size_t tag = dollar_tag_len(s);
        if (tag == 0)
            return 0;
        n = tag;
        while (s[n] != '\0') {
            if (s[n] == '$' && strncmp(s + n, s, tag) == 0)
                return n + tag;
            n++;
        }
        return n;
    }
    return 0;
}

/*
 * Rewrites every '?' outside literals, quoted identifiers and comments to
 * $1..$n.  OUT: *rewritten (caller frees), *nparams.  Returns RHIS_EINVAL
 * for SQLite's numbered "?NNN" form (not in the shared subset) or more
 * parameters than the protocol allows.
 */
static rhis_status
rewrite_params(const char *sql, char **rewritten, int *nparams)
{
    size_t len = strlen(sql);
    size_t marks = 0;
    size_t i = 0;
    size_t o = 0;
    int n = 0;
    char *buf;

    *rewritten = NULL;
    *nparams = 0;
    for (size_t k = 0; k < len; k++) {
        if (sql[k] == '?')
            marks++;
    }
    /* Each '?' grows into at most "$65535": five more bytes. */
    buf = rhis_xmalloc(len + 5 * marks + 1);
    while (i < len) {
        size_t skip = skip_len(sql, i);
        if (skip > 0) {
            memcpy(buf + o, sql + i, skip);
            o += skip;
            i += skip;
            continue;
        }
        if (sql[i] != '?') {
            buf[o++] = sql[i++];
            continue;
        }
        if (isdigit((unsigned char)sql[i + 1]) || n >= PG_MAX_PARAMS)
            goto fail;
        n++;
        o += (size_t)snprintf(buf + o, 7, "$%d", n);
        i++;
    }
    buf[o] = '\0';
    *rewritten = buf;
    *nparams = n;
    return RHIS_OK;
fail:
    rhis_free(buf);
    return RHIS_EINVAL;
}

static uint64_t
hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Case-insensitive: does word occur in sql as a whole word?  (Also inside
 * a literal: then a statement is merely not deferred.) */
static int
has_word(const char *sql, const char *word)
{
    size_t n = strlen(word);

    for (const char *s = sql; *s != '\0'; s++) {
        if (s != sql && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
            continue;
        if (strncasecmp(s, word, n) == 0 && !isalnum((unsigned char)s[n]) &&
            s[n] != '_')
            return 1;
    }
    return 0;
}

/* ---- the statement cache ---- */

/* The cache slot holding key (hash h), -1 when none. */
static int
cache_find(const pg_db *p, const char *key, uint64_t h)
{
    for (int i = 0; i < PG_CACHE; i++) {
        const pg_slot *c = &p->cache[i];
        if (c->key != NULL && c->hash == h && strcmp(c->key, key) == 0)
            return i;
    }
    return -1;
}

/*
 * Remembers key and its rewriting in the least recently used slot (empty
 * slots first, then texts never prepared).  A prepared victim is closed
 * on the server (DEALLOCATE), which needs a connection outside pipeline
 * mode and outside a failed transaction; when that is not possible, -1:
 * the statement is simply not cached.
 */
static int
cache_add(pg_db *p,
          const char *key,
          uint64_t h,
          const char *text,
          int nparams,
          int deferrable)
{
    int v = -1, vrank = 3;

    for (int i = 0; i < PG_CACHE; i++) {
        const pg_slot *c = &p->cache[i];
        int rank = c->key == NULL ? 0 : c->name[0] == '\0' ? 1 : 2;
        if (rank < vrank ||
            (rank == vrank && c->last_used < p->cache[v].last_used)) {
            v = i;
            vrank = rank;
        }
    }
    pg_slot *c = &p->cache[v];
    if (vrank == 2) {
        PGTransactionStatusType ts = PQtransactionStatus(p->conn);
        char sql_close[64];
        if (p->piped > 0 || c->pending ||
            (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS))
            return -1;
        /* the name is ours ("rhis_N"); DEALLOCATE takes no parameter */
        (void)snprintf(sql_close, sizeof(sql_close), "DEALLOCATE %s", c->name);
        PQclear(PQexec(p->conn, sql_close)); /* a failure leaves it there */
    }
    rhis_free(c->key);
    rhis_free(c->text);
    memset(c, 0, sizeof(*c));
    c->key = rhis_xstrdup(key);
    c->text = rhis_xstrdup(text);
    c->hash = h;
    c->gen = ++p->gens;
    c->last_used = ++p->tick;
    c->nparams = nparams;
    c->deferrable = deferrable;
    return v;
}

/* The cache slot of s, counted as one more use; NULL when not cached. */
static pg_slot *
slot_use(pg_db *p, const pg_stmt *s)
{
    pg_slot *c;

    if (s->slot < 0 || p->cache[s->slot].gen != s->gen)
        return NULL;
    c = &p->cache[s->slot];
    c->uses++;
    c->last_used = ++p->tick;
    return c;
}

static void
new_name(pg_db *p, pg_slot *c)
{
    (void)snprintf(c->name, sizeof(c->name), "rhis_%llu",
                   (unsigned long long)++p->names);
}

/* ---- pipeline mode (deferred writes) ---- */

/* Records the answer r of a deferred command; rc: the first failure so
 * far, returned updated. */
static rhis_status
pipe_answer(pg_db *p, PGresult *r, rhis_status rc)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        record_changes(p, r);
    else if (st != PGRES_PIPELINE_ABORTED && rc == RHIS_OK)
        rc = fail_result(p, r);
    return rc;
}

/*
 * Reads the answers of every command sent in pipeline mode and leaves
 * pipeline mode.  Returns the first failure (its message recorded), else
 * RHIS_OK.  After a failure the transaction is aborted on the server, and
 * statements prepared inside the pipeline are forgotten (the server
 * skipped them).  last (may be NULL): receives the answer of the last
 * command sent, unread (a query sent behind the writes, pipe_query), or
 * NULL; the caller clears it.
 */
static rhis_status
pipe_sync_last(pg_db *p, PGresult **last)
{
    rhis_status rc = RHIS_OK;
    int nulls = 0;
    PGresult *prev = NULL; /* the latest answer, not yet recorded */

    if (last != NULL)
        *last = NULL;
    if (p->piped == 0)
        return RHIS_OK;
    if (PQpipelineSync(p->conn) != 1) {
        rc = fail_result(p, NULL);
    } else {
        for (;;) {
            PGresult *r = PQgetResult(p->conn);
            if (r == NULL) {
                /* one NULL ends each command's answers */
                if (PQstatus(p->conn) == CONNECTION_BAD ||
                    ++nulls > p->piped + 2) {
                    if (rc == RHIS_OK)
                        rc = fail_result(p, NULL);
                    break;
                }
                continue;
            }
            if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if (prev != NULL) {
                rc = pipe_answer(p, prev, rc);
                PQclear(prev);
            }
            prev = r;
        }
    }
    if (prev != NULL && last != NULL) {
        *last = prev;
    } else if (prev != NULL) {
        rc = pipe_answer(p, prev, rc);
        PQclear(prev);
    }
    p->piped = 0;
    if (PQexitPipelineMode(p->conn) != 1 && rc == RHIS_OK) {
        set_errmsg(p, PQerrorMessage(p->conn));
        rc = RHIS_EIO;
    }
    for (int i = 0; i < PG_CACHE; i++) {
        if (p->cache[i].pending && rc != RHIS_OK)
            p->cache[i].name[0] = '\0';
        p->cache[i].pending = 0;
    }
    return rc;
}

static rhis_status
pipe_sync(pg_db *p)
{
    return pipe_sync_last(p, NULL);
}

/* Sends s in pipeline mode (prepared on its second use); RHIS_OK or the
 * failure to send. */
static rhis_status
pipe_put(pg_db *p, pg_stmt *s)
{
    const char *const *vals = (const char *const *)s->values;
    pg_slot *c;
    int ok;

    if (p->piped == 0 && PQpipelineStatus(p->conn) == PQ_PIPELINE_OFF &&
        PQenterPipelineMode(p->conn) != 1)
        return fail_result(p, NULL);
    c = slot_use(p, s);
    if (c != NULL && c->name[0] == '\0' && c->uses >= 2) {
        new_name(p, c);
        if (PQsendPrepare(p->conn, c->name, s->sql, s->nparams, NULL) != 1) {
            c->name[0] = '\0';
            return fail_result(p, NULL);
        }
        c->pending = 1;
        p->piped++;
    }
    if (c != NULL && c->name[0] != '\0')
        ok = PQsendQueryPrepared(p->conn, c->name, s->nparams, vals, NULL, NULL,
                                 0);
    else
        ok = PQsendQueryParams(p->conn, s->sql, s->nparams, NULL, vals, NULL,
                               NULL, 0);
    if (ok != 1)
        return fail_result(p, NULL);
    p->piped++;
    return RHIS_OK;
}

/*
 * Sends s in pipeline mode; its answer is read by a later pipe_sync.
 * Returns RHIS_DONE, or a failure to send (or of the sync forced when
 * PG_PIPE_MAX commands are waiting).
 */
static rhis_status
pipe_send(pg_db *p, pg_stmt *s)
{
    rhis_status rc = pipe_put(p, s);
    if (rc != RHIS_OK)
        return rc;
    if (p->piped >= PG_PIPE_MAX) {
        rc = pipe_sync(p);
        if (rc != RHIS_OK)
            return rc;
    }
    return RHIS_DONE;
}

/*
 * Runs s, a statement that answers (a query, a RETURNING), behind the
 * deferred writes still unanswered: it goes out in the same pipeline and
 * one sync reads every answer, one round trip instead of two (sync, then
 * run).  *res: its answer.  A failure of an earlier write is returned
 * first, as pipe_sync would.
 */
static rhis_status
pipe_query(pg_db *p, pg_stmt *s, PGresult **res)
{
    *res = NULL;
    rhis_status rc = pipe_put(p, s);
    if (rc != RHIS_OK) {
        (void)pipe_sync(p);
        return rc;
    }
    rc = pipe_sync_last(p, res);
    if (rc != RHIS_OK) {
        PQclear(*res);
        *res = NULL;
        return rc;
    }
    if (*res == NULL) {
        set_errmsg(p, "no answer to the query");
        return RHIS_EIO;
    }
    return RHIS_OK;
}

/* Runs s now: prepared when its text is cached and seen before. */
static PGresult *
run_now(pg_db *p, pg_stmt *s)
{
    const char *const *vals = (const char *const *)s->values;
    pg_slot *c = slot_use(p, s);

    if (c != NULL && c->name[0] == '\0' && c->uses >= 2) {
        new_name(p, c);
        PGresult *r = PQprepare(p->conn, c->name, s->sql, s->nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            c->name[0] = '\0';
            return r; /* the statement's own error (syntax, aborted tx) */
        }
        PQclear(r);
    }
    if (c != NULL && c->name[0] != '\0')
        return PQexecPrepared(p->conn, c->name, s->nparams, vals, NULL, NULL,
                              0);
    return PQexecParams(p->conn, s->sql, s->nparams, NULL, vals, NULL, NULL, 0);
}

/*
 * Prepares sql locally: nothing reaches the server until the first step, so
 * syntax errors surface there, not here (unlike SQLite).
 */
static rhis_status
pg_prepare(rhis_db *db, const char *sql, rhis_stmt **out)
{
    pg_db *p = pg_of(db);
    pg_stmt *s;
    char *text;
    int n, deferrable, slot;
    uint64_t h;

    *out = NULL;
    if (sql == NULL) {
        set_errmsg(p, "no SQL");
        return RHIS_EINVAL;
    }
    h = hash_sql(sql);
    slot = cache_find(p, sql, h);
    if (slot >= 0) {
        const pg_slot *c = &p->cache[slot];
        text = rhis_xstrdup(c->text);
        n = c->nparams;
        deferrable = c->deferrable;
    } else {
        if (rewrite_params(sql, &text, &n) != RHIS_OK) {
            set_errmsg(p, "bad parameters: use '?' (not ?NNN), at most 65535");
            return RHIS_EINVAL;
        }
        deferrable = (starts_with_word(text, "insert") ||
                      starts_with_word(text, "update") ||
                      starts_with_word(text, "delete")) &&
                     !has_word(text, "returning");
        slot = cache_add(p, sql, h, text, n, deferrable);
    }
    s = rhis_xcalloc(1, sizeof(*s));
    s->base.drv = &rhis_pg_driver;
    s->base.db = db;
    s->sql = text;
    s->slot = slot;
    s->gen = slot >= 0 ? p->cache[slot].gen : 0;
    s->deferrable = deferrable;
    s->nparams = n;
    s->values = n > 0 ? rhis_xcalloc((size_t)n, sizeof(char *)) : NULL;
    s->row = -1;
    s->state = PG_FRESH;
    *out = &s->base;
    return RHIS_OK;
}

/*
 * Stores v (taken over) as parameter idx.  Binding is only allowed before
 * the first step or after a reset, as in SQLite; misuse and an index
 * outside 1..nparams return RHIS_EINVAL and free v.
 */
static rhis_status
bind_owned(rhis_stmt *st, int idx, char *v)
{
    pg_stmt *s = stmt_of(st);
    pg_db *p = pg_of(st->db);

    if (s->state != PG_FRESH) {
        rhis_free(v);
        set_errmsg(p, "bind after step: reset the statement first");
        return RHIS_EINVAL;
    }
    if (idx < 1 || idx > s->nparams) {
        rhis_free(v);
        set_errmsg(p, "bind index out of range");
        return RHIS_EINVAL;
    }
    rhis_free(s->values[idx - 1]);
    s->values[idx - 1] = v;
    return RHIS_OK;
}

static rhis_status
pg_bind_int64(rhis_stmt *st, int idx, int64_t v)
{
    char buf[24];
    char *e = buf + sizeof(buf) - 1;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

    /* decimal by hand: snprintf was a visible share of a bulk load */
    *e = '\0';
    do {
        *--e = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--e = '-';
    return bind_owned(st, idx, rhis_xstrdup(e));
}

static rhis_status
pg_bind_double(rhis_stmt *st, int idx, double v)
{
    char buf[40];

    /* 17 significant digits round-trip every double exactly. */
    (void)snprintf(buf, sizeof(buf), "%.17g", v);
    return bind_owned(st, idx, rhis_xstrdup(buf));
}

static rhis_status
pg_bind_text(rhis_stmt *st, int idx, const char *v)
{
    return bind_owned(st, idx, v != NULL ? rhis_xstrdup(v) : NULL);
}

static rhis_status
pg_bind_null(rhis_stmt *st, int idx)
{
    return bind_owned(st, idx, NULL);
}

/*
 * First call runs the statement; every call then yields RHIS_ROW with the
 * next row ready or RHIS_DONE.  A failed run returns the mapped error and
 * leaves the statement done: later steps return RHIS_DONE until a reset.
 */
static rhis_status
pg_step(rhis_stmt *st)
{
    pg_stmt *s = stmt_of(st);
    pg_db *p = pg_of(st->db);
    rhis_status rc;

    if (s->state == PG_DONE)
        return RHIS_DONE;
    if (s->state == PG_ROWS) {
        if (s->row + 1 < s->ntuples) {
            s->row++;
            return RHIS_ROW;
        }
        s->row = -1;
        s->state = PG_DONE;
        return RHIS_DONE;
    }

    s->state = PG_DONE;
    if (p->deferred && p->base.in_tx && s->deferrable)
        return pipe_send(p, s);
    if (p->piped > 0) {
        rc = pipe_query(p, s, &s->res);
        if (rc != RHIS_OK)
            return rc;
    } else {
        s->res = run_now(p, s);
    }
    switch (PQresultStatus(s->res)) {
    case PGRES_TUPLES_OK:
        record_changes(p, s->res);
        s->ntuples = PQntuples(s->res);
        if (s->ntuples == 0)
            return RHIS_DONE;
        s->state = PG_ROWS;
        s->row = 0;
        return RHIS_ROW;
    case PGRES_COMMAND_OK:
        record_changes(p, s->res);
        return check_commit(p, s->sql, s->res) == RHIS_OK ? RHIS_DONE
                                                          : RHIS_EIO;
    case PGRES_EMPTY_QUERY:
        return RHIS_DONE;
    default:
        rc = fail_result(p, s->res);
        PQclear(s->res);
        s->res = NULL;
        return rc;
    }
}

/* Is there a current row with column col? */
static int
has_cell(const pg_stmt *s, int col)
{
    return s->state == PG_ROWS && s->res != NULL && s->row >= 0 && col >= 0 &&
           col < PQnfields(s->res);
}

/* Columns of the result; 0 before the first step (the statement has not
 * reached the server yet) and for statements that return no rows. */
static int
pg_column_count(rhis_stmt *st)
{
    pg_stmt *s = stmt_of(st);

    return s->res != NULL ? PQnfields(s->res) : 0;
}

static int
pg_column_is_null(rhis_stmt *st, int col)
{
    pg_stmt *s = stmt_of(st);

    if (!has_cell(s, col))
        return 1;
    return PQgetisnull(s->res, s->row, col);
}

/* Text of the current cell, NULL for SQL NULL or no such cell; borrowed
 * until the next step, reset or finalize. */
static const char *
pg_column_text(rhis_stmt *st, int col)
{
    pg_stmt *s = stmt_of(st);

    if (!has_cell(s, col) || PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

/*
 * Integer value of the cell: booleans 't'/'f' are 1/0, numerics with a
 * fraction or exponent are truncated like SQLite does, text that is not a
 * number and NULL give 0.
 */
static int64_t
pg_column_int64(rhis_stmt *st, int col)
{
    const char *v = pg_column_text(st, col);
    char *end;
    long long n;
    double d;

    if (v == NULL)
        return 0;
    if (strcmp(v, "t") == 0)
        return 1;
    if (strcmp(v, "f") == 0)
        return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*end == '\0' && errno == 0)
        return (int64_t)n;
    d = strtod(v, &end);
    if (end == v || isnan(d))
        return (int64_t)n;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static double
pg_column_double(rhis_stmt *st, int col)
{
    const char *v = pg_column_text(st, col);

    if (v == NULL)
        return 0.0;
    return strtod(v, NULL);
}

/* Drops the result and the bindings; the statement runs again on the next
 * step. */
static rhis_status
pg_reset(rhis_stmt *st)
{
    pg_stmt *s = stmt_of(st);

    PQclear(s->res);
    s->res = NULL;
    s->ntuples = 0;
    s->row = -1;
    s->state = PG_FRESH;
    for (int i = 0; i < s->nparams; i++) {
        rhis_free(s->values[i]);
        s->values[i] = NULL;
    }
    return RHIS_OK;
}

static void
pg_finalize(rhis_stmt *st)
{
    pg_stmt *s = stmt_of(st);

    if (s == NULL)
        return;
    pg_reset(st);
    rhis_free(s->values);
    rhis_free(s->sql);
    rhis_free(s);
}

static int64_t
pg_changes(rhis_db *db)
{
    pg_db *p = pg_of(db);

    /* a failure stays with the aborted transaction: the next statement
     * or the commit reports it */
    (void)pipe_sync(p);
    return p->changes;
}

static rhis_status
pg_sync(rhis_db *db)
{
    return pipe_sync(pg_of(db));
}

static rhis_status
pg_set_deferred(rhis_db *db, int on)
{
    pg_db *p = pg_of(db);

    p->deferred = on;
    return on ? RHIS_OK : pipe_sync(p);
}

/*
 * Reserves identity values of table.id in blocks of PG_ID_BLOCK from the
 * column's sequence (nextval is not transactional: a value is never handed
 * out twice, a rolled-back one leaves a gap).  Up to PG_ID_TABLES tables
 * keep their blocks side by side (least recently used out, its rest left
 * as a gap), so drawing for one table does not throw another's away.
 */
static rhis_status
pg_next_id(rhis_db *db, const char *table, int64_t *out)
{
    pg_db *p = pg_of(db);
    const char *vals[1] = {table};
    pg_ids *k = NULL;
    PGresult *r;
    rhis_status rc;

    if (strlen(table) >= sizeof(p->ids[0].table)) {
        set_errmsg(p, "table name too long");
        return RHIS_EINVAL;
    }
    for (int i = 0; i < PG_ID_TABLES; i++) {
        pg_ids *x = &p->ids[i];
        if (strcmp(x->table, table) == 0) {
            k = x;
            break;
        }
        if (k == NULL || (k->table[0] != '\0' &&
                          (x->table[0] == '\0' || x->last_used < k->last_used)))
            k = x;
    }
    k->last_used = ++p->id_tick;
    if (strcmp(k->table, table) == 0 && k->pos < k->n) {
        *out = k->v[k->pos++];
        return RHIS_OK;
    }
    k->table[0] = '\0';
    k->n = k->pos = 0;
    if ((rc = pipe_sync(p)) != RHIS_OK)
        return rc;
    r = PQexecParams(p->conn,
                     "SELECT nextval(pg_get_serial_sequence($1, 'id'))"
                     " FROM generate_series(1, 1024)",
                     1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = fail_result(p, r);
        PQclear(r);
        return rc;
    }
    k->n = PQntuples(r) < PG_ID_BLOCK ? PQntuples(r) : PG_ID_BLOCK;
    for (int i = 0; i < k->n; i++)
        k->v[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    PQclear(r);
    if (k->n == 0) {
        set_errmsg(p, "no identity sequence");
        return RHIS_EIO;
    }
    (void)snprintf(k->table, sizeof(k->table), "%s", table);
    *out = k->v[k->pos++];
    return RHIS_OK;
}

/*
 * Runs sql, which may hold several ';'-separated statements and no
 * parameters.  Outside a transaction the server runs them as one implicit
 * transaction: all or nothing.  Rows returned are discarded.
 */
static rhis_status
pg_exec(rhis_db *db, const char *sql)
{
    pg_db *p = pg_of(db);
    PGresult *res;
    rhis_status rc = RHIS_OK;

    if (sql == NULL) {
        set_errmsg(p, "no SQL");
        return RHIS_EINVAL;
    }
    /* a savepoint opened or released amid deferred writes answers nothing
     * the caller needs: it joins their pipeline (a failure, possible only
     * in an aborted transaction, surfaces at the next sync like theirs).
     * db.c passes savepoint statements one per call. */
    if (p->deferred && p->base.in_tx &&
        (starts_with_word(sql, "savepoint") ||
         starts_with_word(sql, "release"))) {
        if (p->piped == 0 && PQpipelineStatus(p->conn) == PQ_PIPELINE_OFF &&
            PQenterPipelineMode(p->conn) != 1)
            return fail_result(p, NULL);
        if (PQsendQueryParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
            return fail_result(p, NULL);
        p->piped++;
        return p->piped >= PG_PIPE_MAX ? pipe_sync(p) : RHIS_OK;
    }
    /* deferred writes first; after a failure only ROLLBACK may run */
    rc = pipe_sync(p);
    if (rc != RHIS_OK && !starts_with_word(sql, "rollback"))
        return rc;
    rc = RHIS_OK;
    res = PQexec(p->conn, sql);
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        record_changes(p, res);
        rc = check_commit(p, sql, res);
        break;
    case PGRES_EMPTY_QUERY:
        break;
    default:
        rc = fail_result(p, res);
        break;
    }
    PQclear(res);
    return rc;
}

const rhis_db_driver rhis_pg_driver = {
    .scheme = "postgresql",
    .dialect = RHIS_DIALECT_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .changes = pg_changes,
    .exec = pg_exec,
    .set_deferred = pg_set_deferred,
    .sync = pg_sync,
    .next_id = pg_next_id,
};
