/*
 * agg.c - keeps agg_count and agg_month current on every write, and
 * rebuilds them from the raw records.
 *
 * Why: see rhis/agg.h.  The hook computes the facts of the scopes a row
 * belongs to before and after the write and applies the difference, so a
 * value is never behind the records and an update that moves a record in
 * area or time, a delete, or a change that crosses a per-year threshold
 * is handled by the same code.  The rebuild reads the same columns in bulk
 * and runs the same pure rules (element.c), so it gives the same numbers.
 *
 * Tables (migration 6): agg_count(element, area_code, institution_id, day,
 * value) at the leaf area; agg_month(element, area_code, month, value) for
 * every level of the area code (province 2, city 4, county 6, township 9,
 * village 12 digits), so a year for a county is a dozen rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan_int.h"
#include "rhis/alloc.h"
#include "rhis/log.h"

typedef enum rkind {
    RK_NONE = 0,
    RK_PATIENT,
    RK_ENCOUNTER,
    RK_OBSERVATION,
    RK_IMMUNIZATION,
    RK_CONDITION,
    RK_CONTRACT,
    RK_INSTITUTION,
    RK_ROLE,
} rkind;

static rkind
kind_of(const char *k)
{
    static const struct {
        const char *name;
        rkind k;
    } map[] = {
        {"Patient", RK_PATIENT},         {"Encounter", RK_ENCOUNTER},
        {"Observation", RK_OBSERVATION}, {"Immunization", RK_IMMUNIZATION},
        {"Condition", RK_CONDITION},     {"fd_contract", RK_CONTRACT},
        {"institution", RK_INSTITUTION}, {"practitioner_role", RK_ROLE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, k) == 0)
            return map[i].k;
    return RK_NONE;
}

typedef struct scope {
    escope sc;
    int64_t id;   /* patient or institution */
    char key[24]; /* SC_OBS: the code, "*" = every code used */
    int fresh;    /* a patient just created: no records refer to it */
} scope;

#define MAX_SCOPES 10

typedef struct touch {
    const rhis_ind_defs *d;
    rkind kind;
    int nsc;
    scope sc[MAX_SCOPES];
    fvec before;
} touch;

/* 1 on, 0 off, -1 not decided yet: RHIS_PLAN_AGG=0 in the environment
 * turns maintenance off (benchmarks, bulk loads followed by a rebuild). */
static int agg_on = -1;

void
rhis_agg_set_enabled(int on)
{
    agg_on = on != 0;
}

int
rhis_agg_enabled(void)
{
    if (agg_on < 0) {
        const char *e = getenv("RHIS_PLAN_AGG");
        agg_on = e == NULL || strcmp(e, "0") != 0;
    }
    return agg_on;
}

/* ---- reading rows ---- */

static void
text(char *dst, size_t len, rhis_stmt *st, int col)
{
    const char *s = rhis_db_column_text(st, col);
    snprintf(dst, len, "%s", s != NULL ? s : "");
}

/* Columns: area_code, sex, birth_ms, deceased_ms, deleted, merged_into */
static void
fill_patient(prow *p, rhis_stmt *st, int c)
{
    text(p->area, sizeof(p->area), st, c);
    const char *sex = rhis_db_column_text(st, c + 1);
    p->sex = 'U';
    if (sex != NULL && sex[0] != '\0')
        p->sex = sex[0];
    p->has_birth = !rhis_db_column_is_null(st, c + 2);
    p->birth =
        p->has_birth ? rhis_day_of_ms(rhis_db_column_int64(st, c + 2)) : 0;
    p->dead = p->undated_dead = 0;
    if (!rhis_db_column_is_null(st, c + 3)) {
        int64_t ms = rhis_db_column_int64(st, c + 3);
        if (ms == 0) {
            p->undated_dead = 1;
        } else {
            p->dead = 1;
            p->death = rhis_day_of_ms(ms);
        }
    }
    p->ok = rhis_db_column_int64(st, c + 4) == 0 &&
            rhis_db_column_is_null(st, c + 5) && p->area[0] != '\0';
}

#define PATIENT_COLS                                                           \
    "area_code, sex, birth_ms, deceased_ms, deleted, merged_into"
#define ENC_COLS                                                               \
    "e.id, e.type_code, e.start_ms, e.end_ms, e.institution_id, i.area_code"
#define ENC_FROM                                                               \
    " FROM encounter e LEFT JOIN institution i ON i.id = e.institution_id"     \
    " WHERE e.deleted = 0 AND e.status NOT IN ('cancelled',"                   \
    " 'entered-in-error') AND e.type_code IS NOT NULL"
#define OBS_COLS "o.id, o.code, o.effective_ms, o.institution_id"
#define IMM_COLS                                                               \
    "m.id, m.vaccine_code, m.dose_number, m.occurrence_ms, m.institution_id"
#define IMM_FROM                                                               \
    " FROM immunization m WHERE m.deleted = 0 AND m.status = 'completed'"
#define COND_COLS "c.id, c.code, COALESCE(c.recorded_ms, c.onset_ms)"
#define COND_FROM                                                              \
    " FROM condition c WHERE c.deleted = 0"                                    \
    " AND c.category = 'problem-list-item'"                                    \
    " AND COALESCE(c.verification_status, '') NOT IN ('refuted',"              \
    " 'entered-in-error')"                                                     \
    " AND COALESCE(c.recorded_ms, c.onset_ms) IS NOT NULL"
#define CON_COLS "k.id, k.start_ms, k.end_ms"

static void
fill_enc(erow *r, rhis_stmt *st, int c)
{
    r->id = rhis_db_column_int64(st, c);
    text(r->type, sizeof(r->type), st, c + 1);
    r->start_ms =
        rhis_db_column_is_null(st, c + 2) ? 0 : rhis_db_column_int64(st, c + 2);
    r->end_ms =
        rhis_db_column_is_null(st, c + 3) ? 0 : rhis_db_column_int64(st, c + 3);
    r->inst = rhis_db_column_int64(st, c + 4);
    text(r->inst_area, sizeof(r->inst_area), st, c + 5);
}

static void
fill_obs(orow *r, rhis_stmt *st, int c)
{
    r->id = rhis_db_column_int64(st, c);
    text(r->code, sizeof(r->code), st, c + 1);
    r->eff_ms =
        rhis_db_column_is_null(st, c + 2) ? 0 : rhis_db_column_int64(st, c + 2);
    r->inst = rhis_db_column_int64(st, c + 3);
}

static void
fill_imm(irow *r, rhis_stmt *st, int c)
{
    r->id = rhis_db_column_int64(st, c);
    text(r->vaccine, sizeof(r->vaccine), st, c + 1);
    r->dose = (int)rhis_db_column_int64(st, c + 2);
    r->occ_ms =
        rhis_db_column_is_null(st, c + 3) ? 0 : rhis_db_column_int64(st, c + 3);
    r->inst = rhis_db_column_int64(st, c + 4);
}

static void
fill_cond(crow *r, rhis_stmt *st, int c)
{
    r->id = rhis_db_column_int64(st, c);
    text(r->code, sizeof(r->code), st, c + 1);
    r->day = rhis_day_of_ms(rhis_db_column_int64(st, c + 2));
}

static void
fill_con(krow *r, rhis_stmt *st, int c)
{
    r->id = rhis_db_column_int64(st, c);
    r->start = rhis_day_of_ms(rhis_db_column_int64(st, c + 1));
    r->end = rhis_day_of_ms(rhis_db_column_int64(st, c + 2));
}

/* Reads all rows of a prepared statement into vec with fill. */
#define READ_ROWS(st, vec, T, fill, col, rc)                                   \
    do {                                                                       \
        while (((rc) = rhis_db_step(st)) == RHIS_ROW)                          \
            fill((T *)plan_vec_push(&(vec), sizeof(T)), (st), (col));          \
        rhis_db_finalize(st);                                                  \
        (rc) = (rc) == RHIS_DONE ? RHIS_OK : (rc);                             \
    } while (0)

/* The patient's data for scope s, excluding row xid of kind xk. */
typedef struct pdata {
    prow p;
    evec enc;
    ovec obs;
    ivec imm;
    cvec cond;
    kvec con;
} pdata;

static void
pdata_fini(pdata *x)
{
    plan_vec_free(&x->enc);
    plan_vec_free(&x->obs);
    plan_vec_free(&x->imm);
    plan_vec_free(&x->cond);
    plan_vec_free(&x->con);
}

static rhis_status
load_patient(rhis_db *db, int64_t pid, rkind xk, int64_t xid, prow *p)
{
    memset(p, 0, sizeof(*p));
    p->id = pid;
    if (xk == RK_PATIENT && xid == pid)
        return RHIS_OK; /* p->ok = 0: no facts */
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        db, &st, "SELECT " PATIENT_COLS " FROM patient WHERE id = ?", "i", pid);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW)
        fill_patient(p, st, 0);
    rhis_db_finalize(st);
    if (rc != RHIS_ROW && rc != RHIS_DONE)
        return rc;
    if (!p->ok || !p->dead)
        return RHIS_OK;
    /* the cause of death: the latest cause-of-death Observation */
    rc = rhis_db_query(db, &st,
                       "SELECT o.value_text FROM observation o"
                       " WHERE o.patient_id = ? AND o.code = ?"
                       " AND o.deleted = 0 AND o.id <> ?"
                       " AND o.status IN ('final','amended','corrected')"
                       " ORDER BY o.effective_ms DESC, o.id DESC LIMIT 1",
                       "isi", pid, LOINC_DEATH_CAUSE,
                       xk == RK_OBSERVATION ? xid : (int64_t)0);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW)
        text(p->cause, sizeof(p->cause), st, 0);
    rhis_db_finalize(st);
    return rc == RHIS_ROW || rc == RHIS_DONE ? RHIS_OK : rc;
}

static rhis_status
load_scope_rows(rhis_db *db, const scope *s, rkind xk, int64_t xid, pdata *x)
{
    rhis_stmt *st;
    rhis_status rc = RHIS_OK;
    int64_t pid = s->id;
    switch (s->sc) {
    case SC_ENC:
        rc = rhis_db_query(db, &st,
                           "SELECT " ENC_COLS ENC_FROM
                           " AND e.patient_id = ? AND e.id <> ?",
                           "ii", pid, xk == RK_ENCOUNTER ? xid : (int64_t)0);
        if (rc == RHIS_OK)
            READ_ROWS(st, x->enc, erow, fill_enc, 0, rc);
        break;
    case SC_OBS:
        if (strcmp(s->key, "*") == 0)
            rc = rhis_db_query(db, &st,
                               "SELECT " OBS_COLS " FROM observation o"
                               " WHERE o.patient_id = ? AND o.deleted = 0"
                               " AND o.id <> ?"
                               " AND o.status IN ('final','amended',"
                               "'corrected')",
                               "ii", pid,
                               xk == RK_OBSERVATION ? xid : (int64_t)0);
        else
            rc = rhis_db_query(db, &st,
                               "SELECT " OBS_COLS " FROM observation o"
                               " WHERE o.patient_id = ? AND o.code = ?"
                               " AND o.deleted = 0 AND o.id <> ?"
                               " AND o.status IN ('final','amended',"
                               "'corrected')",
                               "isi", pid, s->key,
                               xk == RK_OBSERVATION ? xid : (int64_t)0);
        if (rc == RHIS_OK)
            READ_ROWS(st, x->obs, orow, fill_obs, 0, rc);
        break;
    case SC_CORE:
    case SC_IMM:
        rc = rhis_db_query(db, &st,
                           "SELECT " IMM_COLS IMM_FROM
                           " AND m.patient_id = ? AND m.id <> ?",
                           "ii", pid, xk == RK_IMMUNIZATION ? xid : (int64_t)0);
        if (rc == RHIS_OK)
            READ_ROWS(st, x->imm, irow, fill_imm, 0, rc);
        break;
    case SC_COND:
        rc = rhis_db_query(db, &st,
                           "SELECT " COND_COLS COND_FROM
                           " AND c.patient_id = ? AND c.id <> ?",
                           "ii", pid, xk == RK_CONDITION ? xid : (int64_t)0);
        if (rc == RHIS_OK)
            READ_ROWS(st, x->cond, crow, fill_cond, 0, rc);
        break;
    case SC_CONTRACT:
        rc = rhis_db_query(db, &st,
                           "SELECT " CON_COLS " FROM fd_contract k"
                           " WHERE k.patient_id = ? AND k.id <> ?",
                           "ii", pid, xk == RK_CONTRACT ? xid : (int64_t)0);
        if (rc == RHIS_OK)
            READ_ROWS(st, x->con, krow, fill_con, 0, rc);
        break;
    default:
        break;
    }
    return rc;
}

static rhis_status
inst_facts(rhis_db *db,
           const rhis_ind_defs *d,
           int64_t iid,
           rkind xk,
           int64_t xid,
           fvec *out)
{
    inrow in;
    memset(&in, 0, sizeof(in));
    in.id = iid;
    if (xk == RK_INSTITUTION && xid == iid)
        return RHIS_OK;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st,
                                   "SELECT area_code, tier, beds_open, active"
                                   " FROM institution WHERE id = ?",
                                   "i", iid);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        text(in.area, sizeof(in.area), st, 0);
        text(in.tier, sizeof(in.tier), st, 1);
        in.beds = rhis_db_column_int64(st, 2);
        in.ok = rhis_db_column_int64(st, 3) != 0;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_ROW)
        return rc == RHIS_DONE ? RHIS_OK : rc;
    svec roles = {0};
    rc = rhis_db_query(db, &st,
                       "SELECT id, role FROM practitioner_role"
                       " WHERE institution_id = ? AND active = 1 AND id <> ?",
                       "ii", iid, xk == RK_ROLE ? xid : (int64_t)0);
    if (rc == RHIS_OK) {
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            srow *r = plan_vec_push(&roles, sizeof(srow));
            r->id = rhis_db_column_int64(st, 0);
            text(r->role, sizeof(r->role), st, 1);
        }
        rhis_db_finalize(st);
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
    }
    if (rc == RHIS_OK)
        plan_facts_inst(d, &in, &roles, out);
    plan_vec_free(&roles);
    return rc;
}

/* The facts of scope s, excluding row xid of kind xk. */
static rhis_status
scope_facts(rhis_db *db,
            const rhis_ind_defs *d,
            const scope *s,
            rkind xk,
            int64_t xid,
            fvec *out)
{
    if (s->sc == SC_INST)
        return inst_facts(db, d, s->id, xk, xid, out);
    pdata x;
    memset(&x, 0, sizeof(x));
    rhis_status rc = load_patient(db, s->id, xk, xid, &x.p);
    if (rc == RHIS_OK && x.p.ok && !s->fresh)
        rc = load_scope_rows(db, s, xk, xid, &x);
    if (rc == RHIS_OK && x.p.ok)
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, out);
    pdata_fini(&x);
    return rc;
}

/* The scope whose rows are rows of kind k (0 if none). */
static escope
list_scope(rkind k)
{
    switch (k) {
    case RK_ENCOUNTER:
        return SC_ENC;
    case RK_OBSERVATION:
        return SC_OBS;
    case RK_IMMUNIZATION:
        return SC_IMM;
    case RK_CONDITION:
        return SC_COND;
    case RK_CONTRACT:
        return SC_CONTRACT;
    default:
        return SC_NONE;
    }
}

/* Removes the row with id xid from the list of scope sc in x. */
#define DROP_ROW(vec, xid)                                                     \
    do {                                                                       \
        size_t w_ = 0;                                                         \
        for (size_t i_ = 0; i_ < (vec).n; i_++)                                \
            if ((vec).v[i_].id != (xid))                                       \
                (vec).v[w_++] = (vec).v[i_];                                   \
        (vec).n = w_;                                                          \
    } while (0)

/*
 * For a scope new to a write whose rows are the written row's kind: reads
 * the rows once and computes the facts with the row (after) and without it
 * (before), instead of reading twice.
 */
static rhis_status
scope_facts_pair(rhis_db *db,
                 const rhis_ind_defs *d,
                 const scope *s,
                 rkind xk,
                 int64_t xid,
                 fvec *before,
                 fvec *after)
{
    pdata x;
    memset(&x, 0, sizeof(x));
    rhis_status rc = load_patient(db, s->id, RK_NONE, 0, &x.p);
    if (rc == RHIS_OK && x.p.ok)
        rc = load_scope_rows(db, s, RK_NONE, 0, &x);
    if (rc == RHIS_OK && x.p.ok) {
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, after);
        switch (xk) {
        case RK_ENCOUNTER:
            DROP_ROW(x.enc, xid);
            break;
        case RK_OBSERVATION:
            DROP_ROW(x.obs, xid);
            break;
        case RK_IMMUNIZATION:
            DROP_ROW(x.imm, xid);
            break;
        case RK_CONDITION:
            DROP_ROW(x.cond, xid);
            break;
        case RK_CONTRACT:
            DROP_ROW(x.con, xid);
            break;
        default:
            break;
        }
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, before);
    }
    pdata_fini(&x);
    return rc;
}

static void
add_scope(touch *t, escope sc, int64_t id, const char *key)
{
    if (!(t->d->scopes & (1u << sc)) || id == 0)
        return;
    for (int i = 0; i < t->nsc; i++)
        if (t->sc[i].sc == sc && t->sc[i].id == id &&
            strcmp(t->sc[i].key, key) == 0)
            return;
    if (t->nsc == MAX_SCOPES)
        return;
    scope *s = &t->sc[t->nsc++];
    s->sc = sc;
    s->id = id;
    s->fresh = 0;
    snprintf(s->key, sizeof(s->key), "%s", key);
}

/* Does an element of kind k read Immunizations of vaccine v? */
static int
imm_used(const rhis_ind_defs *d, ekind k, const char *v)
{
    for (size_t i = 0; i < d->nelems; i++)
        if (d->elems[i].kind == k &&
            (d->elems[i].code[0] == '\0' || strcmp(d->elems[i].code, v) == 0))
            return 1;
    return 0;
}

/* Adds the scopes the current row id of t->kind belongs to. */
static rhis_status
row_scopes(rhis_db *db, touch *t, int64_t id)
{
    if (id == 0)
        return RHIS_OK;
    rhis_stmt *st = NULL;
    rhis_status rc = RHIS_OK;
    int64_t pid = 0;
    char key[32] = "";
    switch (t->kind) {
    case RK_PATIENT:
        add_scope(t, SC_CORE, id, "");
        add_scope(t, SC_ENC, id, "");
        add_scope(t, SC_OBS, id, "*");
        add_scope(t, SC_IMM, id, "");
        add_scope(t, SC_COND, id, "");
        add_scope(t, SC_CONTRACT, id, "");
        return RHIS_OK;
    case RK_INSTITUTION:
        add_scope(t, SC_INST, id, "");
        return RHIS_OK;
    case RK_ENCOUNTER:
        rc = rhis_db_query(db, &st,
                           "SELECT patient_id, type_code FROM encounter"
                           " WHERE id = ?",
                           "i", id);
        break;
    case RK_OBSERVATION:
        rc = rhis_db_query(db, &st,
                           "SELECT patient_id, code FROM observation"
                           " WHERE id = ?",
                           "i", id);
        break;
    case RK_IMMUNIZATION:
        rc = rhis_db_query(db, &st,
                           "SELECT patient_id, vaccine_code FROM immunization"
                           " WHERE id = ?",
                           "i", id);
        break;
    case RK_CONDITION:
        rc = rhis_db_query(db, &st,
                           "SELECT patient_id, code FROM condition"
                           " WHERE id = ?",
                           "i", id);
        break;
    case RK_CONTRACT:
        rc = rhis_db_query(db, &st,
                           "SELECT patient_id, '' FROM fd_contract"
                           " WHERE id = ?",
                           "i", id);
        break;
    case RK_ROLE:
        rc = rhis_db_query(db, &st,
                           "SELECT institution_id, '' FROM practitioner_role"
                           " WHERE id = ?",
                           "i", id);
        break;
    default:
        return RHIS_OK;
    }
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        pid = rhis_db_column_int64(st, 0);
        text(key, sizeof(key), st, 1);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_OK || pid == 0)
        return rc;
    switch (t->kind) {
    case RK_ENCOUNTER:
        if (plan_uses_enc_type(t->d, key))
            add_scope(t, SC_ENC, pid, "");
        break;
    case RK_OBSERVATION:
        if (plan_uses_obs_code(t->d, key))
            add_scope(t, SC_OBS, pid, key);
        if (strcmp(key, LOINC_DEATH_CAUSE) == 0)
            add_scope(t, SC_CORE, pid, "");
        break;
    case RK_IMMUNIZATION:
        if (imm_used(t->d, EK_IMM, key))
            add_scope(t, SC_IMM, pid, "");
        if (imm_used(t->d, EK_BIRTHDAY_IMM, key))
            add_scope(t, SC_CORE, pid, "");
        break;
    case RK_CONDITION:
        add_scope(t, SC_COND, pid, "");
        break;
    case RK_CONTRACT:
        add_scope(t, SC_CONTRACT, pid, "");
        break;
    case RK_ROLE:
        add_scope(t, SC_INST, pid, "");
        break;
    default:
        break;
    }
    return RHIS_OK;
}

/* ---- the per-transaction buffer of deltas ----
 *
 * Inside a transaction (rhis_db_begin*), the deltas of each write are
 * appended to a log attached to the connection (a transaction hook, see
 * rhis/db.h) and written once per distinct (element, area, institution,
 * day) and (element, area prefix, month) just before COMMIT, instead of
 * one upsert per fact and write: a batch of writes touching the same
 * counters costs one B-tree update per counter.  Savepoints: each open
 * savepoint keeps the length of the log and of its already-written part
 * when it opened; ROLLBACK TO truncates the log to it, and since the
 * engine undid every table write made after the savepoint, the written
 * part shrinks back to what it was then.  A ROLLBACK drops the log.
 * Reads of the aggregate tables in the transaction (values, verify, the
 * institution hook, the rebuild) flush first (rhis_agg_flush).  Outside a
 * transaction a write applies its deltas at once. */

typedef struct spmark {
    size_t n, flushed;
} spmark;

typedef struct aggbuf {
    const rhis_ind_defs *d;
    fvec log;               /* the deltas of the open transaction */
    size_t flushed;         /* log[0, flushed) are in the tables already */
    size_t squeeze;         /* log length at which to merge the tail next */
    PLAN_VEC(spmark) marks; /* one per open savepoint, outermost first */
} aggbuf;

static void
buf_clear(aggbuf *b)
{
    b->log.n = 0;
    b->flushed = 0;
    b->marks.n = 0;
    b->squeeze = 0;
}

/* Writes the deltas not yet in the tables. */
static rhis_status
buf_flush(rhis_db *db, aggbuf *b)
{
    if (b->flushed >= b->log.n)
        return RHIS_OK;
    fvec f = {0};
    size_t n = b->log.n - b->flushed;
    f.v = rhis_xmalloc(n * sizeof(fact));
    memcpy(f.v, b->log.v + b->flushed, n * sizeof(fact));
    f.n = f.cap = n;
    plan_facts_normalize(&f);
    rhis_status rc = plan_apply(db, b->d, &f, 0);
    plan_vec_free(&f);
    if (rc != RHIS_OK)
        return rc;
    b->flushed = b->log.n;
    if (b->marks.n == 0) /* nothing can bring the written part back */
        b->log.n = b->flushed = 0;
    return RHIS_OK;
}

static rhis_status
hook_pre_commit(rhis_db *db, void *arg)
{
    aggbuf *b = arg;
    rhis_status rc = buf_flush(db, b);
    if (rc == RHIS_OK)
        buf_clear(b);
    return rc;
}

static void
hook_rollback(void *arg)
{
    buf_clear(arg);
}

static void
hook_savepoint(void *arg, rhis_db_sp_op op, int depth)
{
    aggbuf *b = arg;
    if (op == RHIS_SP_OPEN) {
        /* savepoints opened before the buffer existed had an empty log */
        while (b->marks.n < (size_t)depth) {
            spmark *m = plan_vec_push(&b->marks, sizeof(spmark));
            m->n = b->log.n;
            m->flushed = b->flushed;
        }
        return;
    }
    if (depth < 1)
        return;
    if (op == RHIS_SP_RELEASE) {
        if (b->marks.n >= (size_t)depth)
            b->marks.n = (size_t)depth - 1;
        return;
    }
    if (b->marks.n < (size_t)depth) {
        /* opened before the buffer: everything logged came after it */
        b->log.n = b->flushed = 0;
        return;
    }
    b->marks.n = (size_t)depth; /* the savepoint itself stays open */
    const spmark *m = &b->marks.v[depth - 1];
    if (b->log.n > m->n)
        b->log.n = m->n;
    if (b->flushed > m->flushed)
        b->flushed = m->flushed;
    if (b->squeeze > b->log.n)
        b->squeeze = 0;
}

static void
hook_free(void *arg)
{
    aggbuf *b = arg;
    plan_vec_free(&b->log);
    plan_vec_free(&b->marks);
    rhis_free(b);
}

static const rhis_db_tx_hook agg_hook = {
    hook_pre_commit,
    hook_rollback,
    hook_savepoint,
    hook_free,
};

/* The buffer of db, created on first use (marks for the savepoints
 * already open, which had an empty log). */
static aggbuf *
buf_of(rhis_db *db, const rhis_ind_defs *d)
{
    aggbuf *b = rhis_db_tx_hook_arg(db, &agg_hook);
    if (b == NULL) {
        b = rhis_xcalloc(1, sizeof(*b));
        rhis_db_set_tx_hook(db, &agg_hook, b);
        for (int i = 0; i < rhis_db_savepoint_depth(db); i++) {
            spmark *m = plan_vec_push(&b->marks, sizeof(spmark));
            m->n = m->flushed = 0;
        }
    }
    b->d = d;
    return b;
}

/* Merges equal keys of the log above the innermost savepoint mark and the
 * written part, when it has grown (bounds memory in a long transaction). */
static void
buf_squeeze(aggbuf *b)
{
    if (b->log.n < b->squeeze || b->log.n < 1024)
        return;
    size_t lo = b->flushed;
    if (b->marks.n > 0 && b->marks.v[b->marks.n - 1].n > lo)
        lo = b->marks.v[b->marks.n - 1].n;
    fvec tail = {b->log.v + lo, b->log.n - lo, b->log.n - lo};
    plan_facts_normalize(&tail);
    b->log.n = lo + tail.n;
    b->squeeze = 2 * b->log.n > 1024 ? 2 * b->log.n : 1024;
}

/* Adds the deltas f (normalized) of one write. */
static rhis_status
agg_add(rhis_db *db, const rhis_ind_defs *d, const fvec *f)
{
    if (!rhis_db_in_tx(db))
        return plan_apply(db, d, f, 0);
    aggbuf *b = buf_of(db, d);
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].value != 0)
            *(fact *)plan_vec_push(&b->log, sizeof(fact)) = f->v[i];
    buf_squeeze(b);
    return RHIS_OK;
}

rhis_status
rhis_agg_flush(rhis_db *db)
{
    aggbuf *b = rhis_db_tx_hook_arg(db, &agg_hook);
    return b != NULL ? buf_flush(db, b) : RHIS_OK;
}

rhis_status
rhis_agg_before(rhis_db *db, rhis_agg_touch *ht, const char *kind, int64_t id)
{
    ht->priv = NULL;
    if (!rhis_agg_enabled())
        return RHIS_OK;
    rkind k = kind_of(kind);
    if (k == RK_NONE)
        return RHIS_OK;
    const rhis_ind_defs *d = rhis_ind_defs_default();
    if (d == NULL)
        return RHIS_OK;
    touch *t = rhis_xcalloc(1, sizeof(*t));
    t->d = d;
    t->kind = k;
    ht->priv = t;
    rhis_status rc = row_scopes(db, t, id);
    for (int i = 0; rc == RHIS_OK && i < t->nsc; i++)
        rc = scope_facts(db, d, &t->sc[i], RK_NONE, 0, &t->before);
    if (rc != RHIS_OK)
        rhis_agg_cancel(ht);
    return rc;
}

void
rhis_agg_cancel(rhis_agg_touch *ht)
{
    touch *t = ht->priv;
    if (t == NULL)
        return;
    plan_vec_free(&t->before);
    rhis_free(t);
    ht->priv = NULL;
}

rhis_status
rhis_agg_after(rhis_db *db, rhis_agg_touch *ht, int64_t id)
{
    touch *t = ht->priv;
    if (t == NULL)
        return RHIS_OK;
    int nold = t->nsc;
    rhis_status rc = row_scopes(db, t, id);
    if (t->kind == RK_PATIENT && nold == 0 && t->nsc > 0) {
        /* a patient just created has no records yet: only its own row
         * (and no query for its records) */
        t->nsc = 0;
        add_scope(t, SC_CORE, id, "");
        if (t->nsc > 0)
            t->sc[0].fresh = 1;
    }
    fvec after = {0};
    int done[MAX_SCOPES] = {0};
    /* scopes new to this write did not hold the row before: their old
     * facts are those computed without it */
    for (int i = nold; rc == RHIS_OK && i < t->nsc; i++) {
        if (t->sc[i].sc == list_scope(t->kind)) {
            rc = scope_facts_pair(db, t->d, &t->sc[i], t->kind, id, &t->before,
                                  &after);
            done[i] = 1;
        } else {
            rc = scope_facts(db, t->d, &t->sc[i], t->kind, id, &t->before);
        }
    }
    for (int i = 0; rc == RHIS_OK && i < t->nsc; i++)
        if (!done[i])
            rc = scope_facts(db, t->d, &t->sc[i], RK_NONE, 0, &after);
    if (rc == RHIS_OK) {
        for (size_t i = 0; i < t->before.n; i++) {
            fact *f = plan_vec_push(&after, sizeof(fact));
            *f = t->before.v[i];
            f->value = -f->value;
        }
        plan_facts_normalize(&after);
        rc = agg_add(db, t->d, &after);
    }
    plan_vec_free(&after);
    rhis_agg_cancel(ht);
    return rc;
}

rhis_status
rhis_agg_inserted(rhis_db *db, const char *kind, int64_t id)
{
    rhis_agg_touch t;
    rhis_status rc = rhis_agg_before(db, &t, kind, 0);
    if (rc != RHIS_OK)
        return rc;
    return rhis_agg_after(db, &t, id);
}

/* ---- applying deltas ---- */

int
plan_area_levels(const char *leaf, int lens[6])
{
    static const int levels[] = {2, 4, 6, 9, 12};
    int n = 0, len = (int)strlen(leaf);
    for (int i = 0; i < 5; i++)
        if (levels[i] <= len)
            lens[n++] = levels[i];
    if (n == 0 || lens[n - 1] != len)
        lens[n++] = len;
    return n;
}

/* Month roll-up facts of f (area = each prefix, day = YYYYMM). */
static void
month_facts(const fvec *f, fvec *out)
{
    for (size_t i = 0; i < f->n; i++) {
        const fact *x = &f->v[i];
        if (x->value == 0)
            continue;
        int lens[6];
        int n = plan_area_levels(x->area, lens);
        int m = plan_month_of(x->day);
        for (int k = 0; k < n; k++) {
            fact *y = plan_vec_push(out, sizeof(fact));
            *y = *x;
            y->area[lens[k]] = '\0';
            y->inst = 0;
            y->day = m;
        }
    }
    plan_facts_normalize(out);
}

/* The upserts of the live path; the rebuild writes into empty tables. */
static const char *const sql_count[2] = {
    "INSERT INTO agg_count (element, area_code, institution_id, day, value)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (element, area_code, day,"
    " institution_id) DO UPDATE SET value = agg_count.value + excluded.value",
    "INSERT INTO agg_count (element, area_code, institution_id, day, value)"
    " VALUES (?, ?, ?, ?, ?)"};
static const char *const sql_month[2] = {
    "INSERT INTO agg_month (element, area_code, month, value)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (element, area_code, month) DO UPDATE"
    " SET value = agg_month.value + excluded.value",
    "INSERT INTO agg_month (element, area_code, month, value)"
    " VALUES (?, ?, ?, ?)"};

rhis_status
plan_apply(rhis_db *db, const rhis_ind_defs *d, const fvec *f, int fresh)
{
    rhis_status rc = RHIS_OK;
    char code[64];
    int k = fresh ? 1 : 0;
    for (size_t i = 0; rc == RHIS_OK && i < f->n; i++) {
        const fact *x = &f->v[i];
        if (x->value == 0)
            continue;
        plan_fact_code(d, x, code, sizeof(code));
        rc = rhis_db_run(db, sql_count[k], "ssiii", code, x->area, x->inst,
                         (int64_t)x->day, x->value);
    }
    if (rc != RHIS_OK)
        return rc;
    fvec m = {0};
    month_facts(f, &m);
    for (size_t i = 0; rc == RHIS_OK && i < m.n; i++) {
        const fact *x = &m.v[i];
        if (x->value == 0)
            continue;
        plan_fact_code(d, x, code, sizeof(code));
        rc = rhis_db_run(db, sql_month[k], "ssii", code, x->area,
                         (int64_t)x->day, x->value);
    }
    plan_vec_free(&m);
    return rc;
}

/* ---- rebuild ---- */

typedef PLAN_VEC(int64_t) pidvec;

/* Rows of one table for every patient, ordered by patient. */
typedef struct bulk {
    pidvec pid;
    size_t pos;
} bulk;

typedef struct all_rows {
    bulk be, bo, bi, bc, bk;
    evec enc;
    ovec obs;
    ivec imm;
    cvec cond;
    kvec con;
    /* death causes: (patient, effective, id, code), by patient */
    ovec cause;
    pidvec cause_pid;
    PLAN_VEC(prow) patients;
    PLAN_VEC(inrow) insts;
    svec roles;
    pidvec role_inst;
} all_rows;

static void
all_rows_fini(all_rows *a)
{
    plan_vec_free(&a->be.pid);
    plan_vec_free(&a->bo.pid);
    plan_vec_free(&a->bi.pid);
    plan_vec_free(&a->bc.pid);
    plan_vec_free(&a->bk.pid);
    plan_vec_free(&a->enc);
    plan_vec_free(&a->obs);
    plan_vec_free(&a->imm);
    plan_vec_free(&a->cond);
    plan_vec_free(&a->con);
    plan_vec_free(&a->cause);
    plan_vec_free(&a->cause_pid);
    plan_vec_free(&a->patients);
    plan_vec_free(&a->insts);
    plan_vec_free(&a->roles);
    plan_vec_free(&a->role_inst);
}

#define READ_BULK(db, sql, vec, T, fill, pidv, rc)                             \
    do {                                                                       \
        rhis_stmt *st_;                                                        \
        (rc) = rhis_db_query((db), &st_, (sql), "");                           \
        if ((rc) != RHIS_OK)                                                   \
            break;                                                             \
        while (((rc) = rhis_db_step(st_)) == RHIS_ROW) {                       \
            *(int64_t *)plan_vec_push(&(pidv), sizeof(int64_t)) =              \
                rhis_db_column_int64(st_, 0);                                  \
            fill((T *)plan_vec_push(&(vec), sizeof(T)), st_, 1);               \
        }                                                                      \
        rhis_db_finalize(st_);                                                 \
        (rc) = (rc) == RHIS_DONE ? RHIS_OK : (rc);                             \
    } while (0)

/* Reads every row the rules read, in patient order. */
static rhis_status
read_all(rhis_db *db, const rhis_ind_defs *d, all_rows *a)
{
    rhis_status rc = RHIS_OK;
    rhis_stmt *st;
    rc = rhis_db_query(
        db, &st, "SELECT id, " PATIENT_COLS " FROM patient ORDER BY id", "");
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        prow *p = plan_vec_push(&a->patients, sizeof(prow));
        p->id = rhis_db_column_int64(st, 0);
        fill_patient(p, st, 1);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rc;
    if (d->scopes & (1u << SC_ENC))
        READ_BULK(db,
                  "SELECT e.patient_id, " ENC_COLS ENC_FROM
                  " ORDER BY e.patient_id, e.id",
                  a->enc, erow, fill_enc, a->be.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_OBS)))
        READ_BULK(db,
                  "SELECT o.patient_id, " OBS_COLS " FROM observation o"
                  " WHERE o.deleted = 0"
                  " AND o.status IN ('final','amended','corrected')"
                  " AND o.code <> '" LOINC_DEATH_CAUSE "'"
                  " ORDER BY o.patient_id, o.id",
                  a->obs, orow, fill_obs, a->bo.pid, rc);
    if (rc == RHIS_OK && (d->scopes & ((1u << SC_IMM) | (1u << SC_CORE))))
        READ_BULK(db,
                  "SELECT m.patient_id, " IMM_COLS IMM_FROM
                  " ORDER BY m.patient_id, m.id",
                  a->imm, irow, fill_imm, a->bi.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_COND)))
        READ_BULK(db,
                  "SELECT c.patient_id, " COND_COLS COND_FROM
                  " ORDER BY c.patient_id, c.id",
                  a->cond, crow, fill_cond, a->bc.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_CONTRACT)))
        READ_BULK(db,
                  "SELECT k.patient_id, " CON_COLS " FROM fd_contract k"
                  " ORDER BY k.patient_id, k.id",
                  a->con, krow, fill_con, a->bk.pid, rc);
    if (rc != RHIS_OK)
        return rc;
    /* causes of death, latest first per patient */
    rc = rhis_db_query(db, &st,
                       "SELECT o.patient_id, o.id, o.value_text,"
                       " o.effective_ms FROM observation o"
                       " WHERE o.code = ? AND o.deleted = 0"
                       " AND o.status IN ('final','amended','corrected')"
                       " ORDER BY o.patient_id, o.effective_ms DESC,"
                       " o.id DESC",
                       "s", LOINC_DEATH_CAUSE);
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        *(int64_t *)plan_vec_push(&a->cause_pid, sizeof(int64_t)) =
            rhis_db_column_int64(st, 0);
        orow *o = plan_vec_push(&a->cause, sizeof(orow));
        o->id = rhis_db_column_int64(st, 1);
        text(o->code, sizeof(o->code), st, 2);
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rc;
    rc = rhis_db_query(db, &st,
                       "SELECT id, area_code, tier, beds_open, active"
                       " FROM institution ORDER BY id",
                       "");
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        inrow *in = plan_vec_push(&a->insts, sizeof(inrow));
        in->id = rhis_db_column_int64(st, 0);
        text(in->area, sizeof(in->area), st, 1);
        text(in->tier, sizeof(in->tier), st, 2);
        in->beds = rhis_db_column_int64(st, 3);
        in->ok = rhis_db_column_int64(st, 4) != 0;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rc;
    rc = rhis_db_query(db, &st,
                       "SELECT institution_id, id, role FROM practitioner_role"
                       " WHERE active = 1 ORDER BY institution_id, id",
                       "");
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        *(int64_t *)plan_vec_push(&a->role_inst, sizeof(int64_t)) =
            rhis_db_column_int64(st, 0);
        srow *r = plan_vec_push(&a->roles, sizeof(srow));
        r->id = rhis_db_column_int64(st, 1);
        text(r->role, sizeof(r->role), st, 2);
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

/* The slice [*lo, *hi) of rows of patient pid in b (rows ordered by
 * patient, visited in increasing pid). */
static void
slice(bulk *b, int64_t pid, size_t *lo, size_t *hi)
{
    while (b->pos < b->pid.n && b->pid.v[b->pos] < pid)
        b->pos++;
    *lo = b->pos;
    while (b->pos < b->pid.n && b->pid.v[b->pos] == pid)
        b->pos++;
    *hi = b->pos;
}

/* Computes every fact from rows in memory (pure). */
static void
compute_all(const rhis_ind_defs *d, all_rows *a, fvec *out)
{
    a->be.pos = a->bo.pos = a->bi.pos = a->bc.pos = a->bk.pos = 0;
    size_t cpos = 0;
    for (size_t i = 0; i < a->patients.n; i++) {
        prow p = a->patients.v[i];
        size_t lo, hi;
        evec e = {0};
        ovec o = {0};
        ivec m = {0};
        cvec c = {0};
        kvec k = {0};
        /* views into the big arrays (not owned) */
        slice(&a->be, p.id, &lo, &hi);
        e.v = a->enc.v + lo;
        e.n = hi - lo;
        slice(&a->bo, p.id, &lo, &hi);
        o.v = a->obs.v + lo;
        o.n = hi - lo;
        slice(&a->bi, p.id, &lo, &hi);
        m.v = a->imm.v + lo;
        m.n = hi - lo;
        slice(&a->bc, p.id, &lo, &hi);
        c.v = a->cond.v + lo;
        c.n = hi - lo;
        slice(&a->bk, p.id, &lo, &hi);
        k.v = a->con.v + lo;
        k.n = hi - lo;
        while (cpos < a->cause_pid.n && a->cause_pid.v[cpos] < p.id)
            cpos++;
        p.cause[0] = '\0';
        if (cpos < a->cause_pid.n && a->cause_pid.v[cpos] == p.id && p.dead)
            snprintf(p.cause, sizeof(p.cause), "%s", a->cause.v[cpos].code);
        if (!p.ok)
            continue;
        for (int sc = SC_CORE; sc <= SC_CONTRACT; sc++)
            if (d->scopes & (1u << sc))
                plan_facts_patient(d, (escope)sc, &p, &e, &o, &m, &c, &k, out);
    }
    size_t r = 0;
    for (size_t i = 0; i < a->insts.n; i++) {
        const inrow *in = &a->insts.v[i];
        while (r < a->role_inst.n && a->role_inst.v[r] < in->id)
            r++;
        size_t lo = r;
        while (r < a->role_inst.n && a->role_inst.v[r] == in->id)
            r++;
        svec roles = {a->roles.v + lo, r - lo, 0};
        plan_facts_inst(d, in, &roles, out);
    }
    plan_facts_normalize(out);
}

static double
clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

rhis_status
plan_rebuild_timed(rhis_db *db,
                   int write,
                   int64_t *facts,
                   double t[8],
                   fvec *keep,
                   char *err,
                   size_t errlen)
{
    const rhis_ind_defs *d = rhis_ind_defs_default();
    if (d == NULL) {
        snprintf(err, errlen,
                 "indicator definitions not loaded (data/"
                 "data-elements.csv, data/indicators.csv)");
        return RHIS_EINVAL;
    }
    all_rows a;
    memset(&a, 0, sizeof(a));
    fvec f = {0};
    double t0 = clock_s(CLOCK_MONOTONIC),
           c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    rhis_status rc = read_all(db, d, &a);
    double t1 = clock_s(CLOCK_MONOTONIC),
           c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (rc == RHIS_OK)
        compute_all(d, &a, &f);
    double t2 = clock_s(CLOCK_MONOTONIC),
           c2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    all_rows_fini(&a);
    int own = 0;
    if (rc == RHIS_OK && write && !rhis_db_in_tx(db)) {
        rc = rhis_db_begin(db);
        own = rc == RHIS_OK;
    }
    /* deltas buffered in this transaction are in the rows read: write
     * them first so a rollback to a savepoint stays consistent */
    if (rc == RHIS_OK && write)
        rc = rhis_agg_flush(db);
    if (rc == RHIS_OK && write)
        rc = rhis_db_exec(db, "DELETE FROM agg_count; DELETE FROM agg_month");
    if (rc == RHIS_OK && write) {
        /* PostgreSQL: pipelined inserts (SQLite ignores it) */
        int deferred = rhis_db_set_deferred(db, 1) == RHIS_OK;
        rc = plan_apply(db, d, &f, 1);
        if (deferred) {
            rhis_status r2 = rhis_db_set_deferred(db, 0);
            if (rc == RHIS_OK)
                rc = r2;
        }
    }
    if (own) {
        if (rc == RHIS_OK)
            rc = rhis_db_commit(db);
        else
            rhis_db_rollback(db);
    }
    double t3 = clock_s(CLOCK_MONOTONIC),
           c3 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (rc != RHIS_OK)
        snprintf(err, errlen, "rebuild failed: %s", rhis_db_errmsg(db));
    if (facts != NULL)
        *facts = (int64_t)f.n;
    if (t != NULL) {
        t[0] = t1 - t0; /* read */
        t[1] = t2 - t1; /* compute */
        t[2] = t3 - t2; /* write */
        t[3] = t3 - t0;
        t[4] = c1 - c0; /* the same in CPU seconds of the process */
        t[5] = c2 - c1;
        t[6] = c3 - c2;
        t[7] = c3 - c0;
    }
    if (keep != NULL && rc == RHIS_OK)
        *keep = f;
    else
        plan_vec_free(&f);
    return rc;
}

rhis_status
rhis_agg_rebuild(rhis_db *db, int64_t *facts, char *err, size_t errlen)
{
    return plan_rebuild_timed(db, 1, facts, NULL, NULL, err, errlen);
}

rhis_status
rhis_agg_rebuild_timed(
    rhis_db *db, int64_t *facts, double t[8], char *err, size_t errlen)
{
    return plan_rebuild_timed(db, 1, facts, t, NULL, err, errlen);
}

/* A row of an aggregate table, for comparisons. */
typedef struct aggrow {
    char element[64];
    char area[16];
    int64_t inst;
    int64_t day;
    int64_t value;
} aggrow;

typedef PLAN_VEC(aggrow) aggvec;

static int
aggrow_cmp(const void *a, const void *b)
{
    const aggrow *x = a, *y = b;
    int c = strcmp(x->element, y->element);
    if (c == 0)
        c = strcmp(x->area, y->area);
    if (c == 0 && x->inst != y->inst)
        c = x->inst < y->inst ? -1 : 1;
    if (c == 0 && x->day != y->day)
        c = x->day < y->day ? -1 : 1;
    return c;
}

static void
facts_rows(const rhis_ind_defs *d, const fvec *f, aggvec *out)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].value == 0)
            continue;
        aggrow *r = plan_vec_push(out, sizeof(aggrow));
        plan_fact_code(d, &f->v[i], r->element, sizeof(r->element));
        snprintf(r->area, sizeof(r->area), "%s", f->v[i].area);
        r->inst = f->v[i].inst;
        r->day = f->v[i].day;
        r->value = f->v[i].value;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(aggrow), aggrow_cmp);
}

static rhis_status
table_rows(rhis_db *db, const char *sql, aggvec *out)
{
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st, sql, "");
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        aggrow *r = plan_vec_push(out, sizeof(aggrow));
        text(r->element, sizeof(r->element), st, 0);
        text(r->area, sizeof(r->area), st, 1);
        r->inst = rhis_db_column_int64(st, 2);
        r->day = rhis_db_column_int64(st, 3);
        r->value = rhis_db_column_int64(st, 4);
    }
    rhis_db_finalize(st);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(aggrow), aggrow_cmp);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

static int64_t
count_diff(const aggvec *a, const aggvec *b, char *first, size_t len)
{
    size_t i = 0, j = 0;
    int64_t n = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : aggrow_cmp(&a->v[i], &b->v[j]);
        const aggrow *r = c <= 0 ? &a->v[i] : &b->v[j];
        if (c != 0 || a->v[i].value != b->v[j].value) {
            if (n == 0 && first != NULL)
                snprintf(first, len, "%s %s inst %lld day %lld: %lld vs %lld",
                         r->element, r->area, (long long)r->inst,
                         (long long)r->day,
                         c <= 0 ? (long long)a->v[i].value : 0LL,
                         c >= 0 ? (long long)b->v[j].value : 0LL);
            n++;
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    return n;
}

rhis_status
rhis_agg_verify(rhis_db *db, int64_t *ndiff, char *err, size_t errlen)
{
    fvec f = {0};
    *ndiff = 0;
    rhis_status rc = plan_rebuild_timed(db, 0, NULL, NULL, &f, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_agg_flush(db);
    if (rc != RHIS_OK) {
        plan_vec_free(&f);
        snprintf(err, errlen, "cannot write the buffered aggregates: %s",
                 rhis_db_errmsg(db));
        return rc;
    }
    const rhis_ind_defs *d = rhis_ind_defs_default();
    aggvec want = {0}, have = {0}, wantm = {0}, havem = {0};
    facts_rows(d, &f, &want);
    fvec m = {0};
    month_facts(&f, &m);
    facts_rows(d, &m, &wantm);
    plan_vec_free(&m);
    plan_vec_free(&f);
    rc = table_rows(db,
                    "SELECT element, area_code, institution_id, day, value"
                    " FROM agg_count WHERE value <> 0",
                    &have);
    if (rc == RHIS_OK)
        rc = table_rows(db,
                        "SELECT element, area_code, 0, month, value"
                        " FROM agg_month WHERE value <> 0",
                        &havem);
    if (rc == RHIS_OK) {
        char first[256] = "";
        *ndiff = count_diff(&want, &have, first, sizeof(first));
        if (*ndiff == 0)
            *ndiff = count_diff(&wantm, &havem, first, sizeof(first));
        snprintf(err, errlen, "%s", first);
    } else {
        snprintf(err, errlen, "cannot read the aggregates: %s",
                 rhis_db_errmsg(db));
    }
    plan_vec_free(&want);
    plan_vec_free(&have);
    plan_vec_free(&wantm);
    plan_vec_free(&havem);
    return rc;
}

rhis_status
rhis_agg_institution(rhis_db *db, int64_t inst)
{
    const rhis_ind_defs *d =
        rhis_agg_enabled() ? rhis_ind_defs_default() : NULL;
    if (d == NULL || inst == 0)
        return RHIS_OK;
    fvec f = {0};
    rhis_status rc = rhis_agg_flush(db);
    if (rc == RHIS_OK)
        rc = inst_facts(db, d, inst, RK_NONE, 0, &f);
    /* the stock facts held now for inst are the "before" */
    for (size_t i = 0; rc == RHIS_OK && i < d->nelems; i++) {
        if (d->elems[i].scope != SC_INST)
            continue;
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "SELECT area_code, value FROM agg_count"
                           " WHERE element = ? AND day = 0"
                           " AND institution_id = ? AND value <> 0",
                           "si", d->elems[i].info.code, inst);
        if (rc != RHIS_OK)
            break;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            fact *x = plan_vec_push(&f, sizeof(fact));
            x->elem = (int16_t)i;
            x->band = -1;
            text(x->area, sizeof(x->area), st, 0);
            x->inst = inst;
            x->day = 0;
            x->value = -rhis_db_column_int64(st, 1);
        }
        rhis_db_finalize(st);
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
    }
    if (rc == RHIS_OK) {
        plan_facts_normalize(&f);
        rc = plan_apply(db, d, &f, 0);
    }
    plan_vec_free(&f);
    return rc;
}
