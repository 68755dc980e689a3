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
 * Tables (migrations 6, 8): agg_count(element, area_code, institution_id,
 * day, value) at the leaf area; agg_month(element, area_code, month, value)
 * for the levels of the area code up to townships (province 2, city 4,
 * county 6, township 9 digits: PLAN_MONTH_MAXLEN), so a year for a county
 * is a dozen rows; a village's months are read from agg_count.
 */
#include <pthread.h>
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

struct pcache;

typedef struct touch {
    const rhis_ind_defs *d;
    struct pcache *pc; /* the transaction's cache (NULL outside one) */
    int insert;        /* rhis_agg_before(id 0): a new row */
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
/* The rows the rules read, as conditions (the live path reads them per
 * patient, the rebuild in bulk, the cache tests a new row with them). */
#define ENC_OK                                                                 \
    "e.deleted = 0 AND e.status NOT IN ('cancelled',"                          \
    " 'entered-in-error') AND e.type_code IS NOT NULL"
#define OBS_OK "o.deleted = 0 AND o.status IN ('final','amended','corrected')"
#define IMM_OK "m.deleted = 0 AND m.status = 'completed'"
#define COND_OK                                                                \
    "c.deleted = 0 AND c.category = 'problem-list-item'"                       \
    " AND COALESCE(c.verification_status, '') NOT IN ('refuted',"              \
    " 'entered-in-error')"                                                     \
    " AND COALESCE(c.recorded_ms, c.onset_ms) IS NOT NULL"
#define ENC_WHERE " WHERE " ENC_OK
#define ENC_FROM                                                               \
    " FROM encounter e LEFT JOIN institution i ON i.id = "                     \
    "e.institution_id" ENC_WHERE
#define OBS_COLS "o.id, o.code, o.effective_ms, o.institution_id"
#define IMM_COLS                                                               \
    "m.id, m.vaccine_code, m.dose_number, m.occurrence_ms, m.institution_id"
#define IMM_FROM  " FROM immunization m WHERE " IMM_OK
#define COND_COLS "c.id, c.code, COALESCE(c.recorded_ms, c.onset_ms)"
#define COND_FROM " FROM condition c WHERE " COND_OK
#define CON_COLS  "k.id, k.start_ms, k.end_ms"

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

/* ---- the per-transaction cache of patients' rows ----
 *
 * Inside a transaction, the hook keeps the rows it read for the last few
 * patients it touched: the patient's row (when not dead: a dead patient's
 * row carries the cause of death, which depends on Observations) and the
 * lists of its records per scope (encounters, observations of a code,
 * immunisations, conditions, contracts).  A new record is then read once
 * (by id, with the test of the list's conditions) instead of three times
 * (its patient and code, the patient's row, the list), and appended to the
 * cached list.  Valid because every write of these tables goes through the
 * hooks (which the invariant needs anyway) and the transaction has one
 * writer: an update or delete of a record drops its patient's entry, a
 * Patient write drops the patient's entry, an institution or role write
 * (encounters carry the institution's area) drops all; so do COMMIT,
 * ROLLBACK and ROLLBACK TO a savepoint. */

#define PC_SLOTS 16 /* patients */
#define PC_OBS   8  /* observation codes per patient */

typedef struct pcobs {
    char code[24];
    ovec rows;
} pcobs;

typedef struct pcent {
    int64_t pid; /* 0: free */
    int has_p;
    prow p;
    unsigned lists; /* 1 << scope of the lists held (not SC_OBS) */
    evec enc;
    ivec imm;
    cvec cond;
    kvec con;
    int nobs;
    pcobs obs[PC_OBS];
} pcent;

typedef struct pcache {
    pcent e[PC_SLOTS];
    int next; /* round-robin eviction */
} pcache;

static void
pc_reset(pcent *e)
{
    e->pid = 0;
    e->has_p = 0;
    e->lists = 0;
    e->enc.n = e->imm.n = e->cond.n = e->con.n = 0;
    for (int i = 0; i < e->nobs; i++)
        e->obs[i].rows.n = 0;
    e->nobs = 0;
}

static void
pc_free(pcache *c)
{
    for (int i = 0; i < PC_SLOTS; i++) {
        pcent *e = &c->e[i];
        plan_vec_free(&e->enc);
        plan_vec_free(&e->imm);
        plan_vec_free(&e->cond);
        plan_vec_free(&e->con);
        for (int j = 0; j < PC_OBS; j++)
            plan_vec_free(&e->obs[j].rows);
    }
}

static void
pc_drop_all(pcache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < PC_SLOTS; i++)
        pc_reset(&c->e[i]);
}

static pcent *
pc_find(pcache *c, int64_t pid)
{
    if (c == NULL || pid == 0)
        return NULL;
    for (int i = 0; i < PC_SLOTS; i++)
        if (c->e[i].pid == pid)
            return &c->e[i];
    return NULL;
}

static void
pc_drop(pcache *c, int64_t pid)
{
    pcent *e = pc_find(c, pid);
    if (e != NULL)
        pc_reset(e);
}

/* The entry of pid, made (evicting one) when missing. */
static pcent *
pc_get(pcache *c, int64_t pid)
{
    pcent *e = pc_find(c, pid);
    if (e != NULL || c == NULL)
        return e;
    e = &c->e[c->next];
    c->next = (c->next + 1) % PC_SLOTS;
    pc_reset(e);
    e->pid = pid;
    return e;
}

/* The cached list of scope sc (key: the observation code) of e; NULL when
 * not held.  make: hold an empty one (the caller fills it). */
static void *
pc_list(pcent *e, escope sc, const char *key, int make)
{
    if (e == NULL)
        return NULL;
    if (sc == SC_OBS) {
        for (int i = 0; i < e->nobs; i++)
            if (strcmp(e->obs[i].code, key) == 0)
                return &e->obs[i].rows;
        if (!make || e->nobs == PC_OBS || strcmp(key, "*") == 0)
            return NULL;
        pcobs *o = &e->obs[e->nobs++];
        snprintf(o->code, sizeof(o->code), "%s", key);
        o->rows.n = 0;
        return &o->rows;
    }
    void *v = NULL;
    switch (sc) {
    case SC_ENC:
        v = &e->enc;
        break;
    case SC_IMM:
        v = &e->imm;
        break;
    case SC_COND:
        v = &e->cond;
        break;
    case SC_CONTRACT:
        v = &e->con;
        break;
    default:
        return NULL;
    }
    if (e->lists & (1u << sc))
        return v;
    if (!make)
        return NULL;
    e->lists |= 1u << sc;
    ((evec *)v)->n = 0; /* every list vector has the same layout */
    return v;
}

/* A record just written, read by id with the test of its list's
 * conditions (qual). */
typedef struct newrow {
    int ok, qual;
    int64_t pid;
    char key[32];
    erow e;
    orow o;
    irow i;
    crow c;
    krow k;
} newrow;

static rhis_status
load_patient(
    rhis_db *db, pcache *pc, int64_t pid, rkind xk, int64_t xid, prow *p)
{
    memset(p, 0, sizeof(*p));
    p->id = pid;
    if (xk == RK_PATIENT && xid == pid)
        return RHIS_OK; /* p->ok = 0: no facts */
    pcent *ce = pc_find(pc, pid);
    if (ce != NULL && ce->has_p) {
        *p = ce->p;
        return RHIS_OK;
    }
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
    if (!p->ok || !p->dead) {
        if (pc != NULL) {
            ce = pc_get(pc, pid);
            ce->p = *p;
            ce->has_p = 1;
        }
        return RHIS_OK;
    }
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
            pcache *pc,
            const scope *s,
            rkind xk,
            int64_t xid,
            fvec *out)
{
    if (s->sc == SC_INST)
        return inst_facts(db, d, s->id, xk, xid, out);
    pdata x;
    memset(&x, 0, sizeof(x));
    rhis_status rc = load_patient(db, pc, s->id, xk, xid, &x.p);
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

#define COPY_ROWS(dst, src, T)                                                 \
    do {                                                                       \
        for (size_t i_ = 0; i_ < (src).n; i_++)                                \
            *(T *)plan_vec_push((dst), sizeof(T)) = (src).v[i_];               \
    } while (0)

/* Appends the new row nr to v, the cached list of scope sc. */
static void
pc_append(void *v, escope sc, const newrow *nr)
{
    switch (sc) {
    case SC_ENC:
        *(erow *)plan_vec_push(v, sizeof(erow)) = nr->e;
        break;
    case SC_OBS:
        *(orow *)plan_vec_push(v, sizeof(orow)) = nr->o;
        break;
    case SC_IMM:
        *(irow *)plan_vec_push(v, sizeof(irow)) = nr->i;
        break;
    case SC_COND:
        *(crow *)plan_vec_push(v, sizeof(crow)) = nr->c;
        break;
    case SC_CONTRACT:
        *(krow *)plan_vec_push(v, sizeof(krow)) = nr->k;
        break;
    default:
        break;
    }
}

/* Holds the list of scope s read into x (after the write) in the cache. */
static void
pc_store(pcache *pc, const scope *s, const pdata *x)
{
    void *v = pc_list(pc_get(pc, s->id), s->sc, s->key, 1);
    if (v == NULL)
        return;
    switch (s->sc) {
    case SC_ENC:
        COPY_ROWS(v, x->enc, erow);
        break;
    case SC_OBS:
        COPY_ROWS(v, x->obs, orow);
        break;
    case SC_IMM:
        COPY_ROWS(v, x->imm, irow);
        break;
    case SC_COND:
        COPY_ROWS(v, x->cond, crow);
        break;
    case SC_CONTRACT:
        COPY_ROWS(v, x->con, krow);
        break;
    default:
        break;
    }
}

/* Points the list of scope sc in x at v (a view: x is not freed). */
static void
view_list(pdata *x, escope sc, void *v)
{
    switch (sc) {
    case SC_ENC:
        x->enc = *(evec *)v;
        break;
    case SC_OBS:
        x->obs = *(ovec *)v;
        break;
    case SC_IMM:
        x->imm = *(ivec *)v;
        break;
    case SC_COND:
        x->cond = *(cvec *)v;
        break;
    case SC_CONTRACT:
        x->con = *(kvec *)v;
        break;
    default:
        break;
    }
}

/*
 * A new row nr in a scope whose list the cache holds (the state before
 * the write): the facts without it (before) and with it (after), and the
 * row joins the list; no query but the patient's row when not held.
 */
static rhis_status
scope_facts_cached(rhis_db *db,
                   const rhis_ind_defs *d,
                   pcache *pc,
                   const scope *s,
                   void *v,
                   const newrow *nr,
                   fvec *before,
                   fvec *after)
{
    pdata x;
    memset(&x, 0, sizeof(x));
    rhis_status rc = load_patient(db, pc, s->id, RK_NONE, 0, &x.p);
    if (rc != RHIS_OK)
        return rc;
    if (x.p.ok) {
        view_list(&x, s->sc, v);
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, before);
    }
    if (nr->qual)
        pc_append(v, s->sc, nr);
    if (x.p.ok) {
        view_list(&x, s->sc, v);
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, after);
    }
    return RHIS_OK;
}

/*
 * For a scope new to a write whose rows are the written row's kind: reads
 * the rows once and computes the facts with the row (after) and without it
 * (before), instead of reading twice.  pc (may be NULL): a new row's list
 * is kept in the transaction's cache.
 */
static rhis_status
scope_facts_pair(rhis_db *db,
                 const rhis_ind_defs *d,
                 pcache *pc,
                 const scope *s,
                 rkind xk,
                 int64_t xid,
                 fvec *before,
                 fvec *after)
{
    pdata x;
    memset(&x, 0, sizeof(x));
    rhis_status rc = load_patient(db, pc, s->id, RK_NONE, 0, &x.p);
    if (rc == RHIS_OK && x.p.ok)
        rc = load_scope_rows(db, s, RK_NONE, 0, &x);
    if (rc == RHIS_OK && x.p.ok) {
        plan_facts_patient(d, s->sc, &x.p, &x.enc, &x.obs, &x.imm, &x.cond,
                           &x.con, after);
        if (pc != NULL)
            pc_store(pc, s, &x);
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

static rhis_status add_row_scopes(touch *t, int64_t pid, const char *key);

/* The queries of row_scopes that also read the row (nr): the patient,
 * the key, the list's columns, the list's conditions. */
static const char *const sql_newrow[] = {
    [RK_ENCOUNTER] = "SELECT e.patient_id, e.type_code, " ENC_COLS
                     ", CASE WHEN " ENC_OK " THEN 1 ELSE 0 END"
                     " FROM encounter e LEFT JOIN institution i"
                     " ON i.id = e.institution_id WHERE e.id = ?",
    [RK_OBSERVATION] = "SELECT o.patient_id, o.code, " OBS_COLS
                       ", CASE WHEN " OBS_OK " THEN 1 ELSE 0 END"
                       " FROM observation o WHERE o.id = ?",
    [RK_IMMUNIZATION] = "SELECT m.patient_id, m.vaccine_code, " IMM_COLS
                        ", CASE WHEN " IMM_OK " THEN 1 ELSE 0 END"
                        " FROM immunization m WHERE m.id = ?",
    [RK_CONDITION] = "SELECT c.patient_id, c.code, " COND_COLS
                     ", CASE WHEN " COND_OK " THEN 1 ELSE 0 END"
                     " FROM condition c WHERE c.id = ?",
    [RK_CONTRACT] = "SELECT k.patient_id, '', " CON_COLS ", 1"
                    " FROM fd_contract k WHERE k.id = ?",
};

static void
fill_newrow(newrow *nr, rkind k, rhis_stmt *st)
{
    switch (k) {
    case RK_ENCOUNTER:
        fill_enc(&nr->e, st, 2);
        break;
    case RK_OBSERVATION:
        fill_obs(&nr->o, st, 2);
        break;
    case RK_IMMUNIZATION:
        fill_imm(&nr->i, st, 2);
        break;
    case RK_CONDITION:
        fill_cond(&nr->c, st, 2);
        break;
    case RK_CONTRACT:
        fill_con(&nr->k, st, 2);
        break;
    default:
        return;
    }
    /* the qualifying flag is the last column of sql_newrow */
    nr->qual = rhis_db_column_int64(st, rhis_db_column_count(st) - 1) != 0;
    nr->ok = 1;
}

/* Adds the scopes the current row id of t->kind belongs to; nr (may be
 * NULL): also reads the row.  Drops the cache entries the write may make
 * stale (see "the per-transaction cache"). */
static rhis_status
row_scopes(rhis_db *db, touch *t, int64_t id, newrow *nr)
{
    if (id == 0)
        return RHIS_OK;
    rhis_stmt *st = NULL;
    rhis_status rc = RHIS_OK;
    int64_t pid = 0;
    char key[32] = "";
    if (nr != NULL)
        memset(nr, 0, sizeof(*nr));
    if (t->kind == RK_PATIENT)
        pc_drop(t->pc, id);
    else if (t->kind == RK_INSTITUTION || t->kind == RK_ROLE)
        pc_drop_all(t->pc);
    if (nr != NULL && t->kind >= RK_ENCOUNTER && t->kind <= RK_CONTRACT) {
        rc = rhis_db_query(db, &st, sql_newrow[t->kind], "i", id);
        if (rc != RHIS_OK)
            return rc;
        rc = rhis_db_step(st);
        if (rc == RHIS_ROW) {
            pid = rhis_db_column_int64(st, 0);
            text(key, sizeof(key), st, 1);
            fill_newrow(nr, t->kind, st);
            nr->pid = pid;
            if (!t->insert)
                pc_drop(t->pc, pid);
            snprintf(nr->key, sizeof(nr->key), "%s", key);
            rc = RHIS_OK;
        } else if (rc == RHIS_DONE) {
            rc = RHIS_OK;
        }
        rhis_db_finalize(st);
        if (rc != RHIS_OK || pid == 0)
            return rc;
        return add_row_scopes(t, pid, key);
    }
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
    if (!t->insert)
        pc_drop(t->pc, pid); /* its lists change */
    return add_row_scopes(t, pid, key);
}

/* The scopes of a row of t->kind of patient (or institution) pid with
 * key (code, type, vaccine). */
static rhis_status
add_row_scopes(touch *t, int64_t pid, const char *key)
{
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
    pcache pc;              /* rows read by the hooks in the transaction */
} aggbuf;

static void
buf_clear(aggbuf *b)
{
    pc_drop_all(&b->pc);
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
        pc_drop_all(&b->pc);
        return;
    }
    pc_drop_all(&b->pc);        /* rows read after the savepoint may be gone */
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
    pc_free(&b->pc);
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
    t->insert = id == 0;
    t->pc = rhis_db_in_tx(db) ? &buf_of(db, d)->pc : NULL;
    ht->priv = t;
    rhis_status rc = row_scopes(db, t, id, NULL);
    for (int i = 0; rc == RHIS_OK && i < t->nsc; i++)
        rc = scope_facts(db, d, t->pc, &t->sc[i], RK_NONE, 0, &t->before);
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
    /* a new row in a transaction: read it with its list's columns */
    newrow nr;
    int cache = t->insert && t->pc != NULL && list_scope(t->kind) != SC_NONE;
    rhis_status rc = row_scopes(db, t, id, cache ? &nr : NULL);
    cache = cache && nr.ok;
    int appended = 0;
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
        const scope *s = &t->sc[i];
        if (s->sc == list_scope(t->kind)) {
            void *v =
                cache ? pc_list(pc_find(t->pc, s->id), s->sc, s->key, 0) : NULL;
            if (v != NULL) {
                rc = scope_facts_cached(db, t->d, t->pc, s, v, &nr, &t->before,
                                        &after);
                appended = 1;
            } else {
                /* the list read holds the row: kept as read */
                rc = scope_facts_pair(db, t->d, cache ? t->pc : NULL, s,
                                      t->kind, id, &t->before, &after);
            }
            done[i] = 1;
            appended = 1;
        } else {
            rc = scope_facts(db, t->d, t->pc, s, t->kind, id, &t->before);
        }
    }
    for (int i = 0; rc == RHIS_OK && i < t->nsc; i++)
        if (!done[i])
            rc = scope_facts(db, t->d, t->pc, &t->sc[i], RK_NONE, 0, &after);
    if (rc == RHIS_OK && cache && !appended && nr.qual) {
        /* a row no element reads through this list: the cached list (if
         * any) still mirrors the table */
        void *v =
            pc_list(pc_find(t->pc, nr.pid), list_scope(t->kind), nr.key, 0);
        if (v != NULL)
            pc_append(v, list_scope(t->kind), &nr);
    }
    if (rc != RHIS_OK)
        pc_drop_all(t->pc);
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
        for (int k = 0; k < n && lens[k] <= PLAN_MONTH_MAXLEN; k++) {
            fact *y = plan_vec_push(out, sizeof(fact));
            *y = *x;
            y->area[lens[k]] = '\0';
            y->inst = 0;
            y->day = m;
        }
    }
    plan_facts_normalize(out);
}

static rhis_status
write_sorted(rhis_db *db, const rhis_ind_defs *d, const fvec *f, int upsert);

rhis_status
plan_apply(rhis_db *db, const rhis_ind_defs *d, const fvec *f, int fresh)
{
    /* rows in key order, multi-row statements (see "bulk write") */
    return f->n > 0 ? write_sorted(db, d, f, !fresh) : RHIS_OK;
}

/* ---- bulk write of the rebuild ----
 *
 * The rebuild writes into empty tables: rows sorted in the tables' key
 * order (element code as a string, area, day, institution), so every
 * insert appends to the last B-tree page, through multi-row INSERTs of a
 * statement prepared once (SQLite: one VDBE run per BULK_ROWS rows;
 * PostgreSQL: pipelined).  The month roll-up is summed in one pass over
 * the sorted count rows: the rows under one area prefix of one element
 * are consecutive, so each level keeps one accumulator of months. */

typedef struct wrow {
    int32_t code; /* rank of the element code in string order */
    int32_t day;  /* agg_count: day; agg_month: YYYYMM */
    int64_t inst;
    int64_t value;
    char area[16];
} wrow;

typedef PLAN_VEC(wrow) wvec;

typedef struct ccode {
    char s[64];
    int idx;
} ccode;

#define NBK (PLAN_NBANDS + 1) /* band -1 (none) and the bands */

static int
ccode_cmp(const void *a, const void *b)
{
    return strcmp(((const ccode *)a)->s, ((const ccode *)b)->s);
}

static int
wrow_cmp(const void *a, const void *b)
{
    const wrow *x = a, *y = b;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    int c = strcmp(x->area, y->area);
    if (c != 0)
        return c;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->inst < y->inst ? -1 : x->inst > y->inst;
}

/* Codes of every (element, band) sorted as strings: codes[r] is the code
 * of rank r, rank[elem * NBK + band + 1] the rank of a fact's code. */
static void
code_ranks(const rhis_ind_defs *d, ccode **codes, int **rank)
{
    size_t m = d->nelems * NBK;
    ccode *c = rhis_xmalloc((m > 0 ? m : 1) * sizeof(ccode));
    for (size_t i = 0; i < d->nelems; i++)
        for (int b = -1; b < PLAN_NBANDS; b++) {
            fact f;
            memset(&f, 0, sizeof(f));
            f.elem = (int16_t)i;
            f.band = (int16_t)b;
            ccode *x = &c[i * NBK + (size_t)(b + 1)];
            plan_fact_code(d, &f, x->s, sizeof(x->s));
            x->idx = (int)(i * NBK + (size_t)(b + 1));
        }
    qsort(c, m, sizeof(ccode), ccode_cmp);
    int *r = rhis_xmalloc((m > 0 ? m : 1) * sizeof(int));
    for (size_t k = 0; k < m; k++)
        r[c[k].idx] = (int)k;
    *codes = c;
    *rank = r;
}

/* code_ranks of the definitions in use, computed once (they are immutable
 * and live as long as the process). */
static pthread_mutex_t ranks_mu = PTHREAD_MUTEX_INITIALIZER;
static const rhis_ind_defs *ranks_d;
static ccode *ranks_codes;
static int *ranks_rank;

static void
ranks_of(const rhis_ind_defs *d, const ccode **codes, const int **rank)
{
    pthread_mutex_lock(&ranks_mu);
    if (ranks_d != d) {
        rhis_free(ranks_codes);
        rhis_free(ranks_rank);
        code_ranks(d, &ranks_codes, &ranks_rank);
        ranks_d = d;
    }
    *codes = ranks_codes;
    *rank = ranks_rank;
    pthread_mutex_unlock(&ranks_mu);
}

#define MON_Y0 1970
#define NMON   (12 * (PLAN_HORIZON_YEAR + 1 - MON_Y0))

/* The months of one element under one area prefix. */
typedef struct macc {
    int used, code, nt;
    char prefix[16];
    int64_t sum[NMON];
    unsigned char on[NMON];
    int touched[NMON];
} macc;

static int
int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static void
macc_flush(macc *a, wvec *out)
{
    if (!a->used)
        return;
    qsort(a->touched, (size_t)a->nt, sizeof(int), int_cmp);
    for (int i = 0; i < a->nt; i++) {
        int k = a->touched[i];
        if (a->sum[k] != 0) {
            wrow *w = plan_vec_push(out, sizeof(wrow));
            w->code = a->code;
            w->day = (MON_Y0 + k / 12) * 100 + k % 12 + 1;
            w->inst = 0;
            w->value = a->sum[k];
            memcpy(w->area, a->prefix, sizeof(w->area));
        }
        a->sum[k] = 0;
        a->on[k] = 0;
    }
    a->nt = 0;
    a->used = 0;
}

/* The month rows of the count rows c (sorted by wrow_cmp) into out, in
 * key order; 0 when a day falls outside the accumulators' years. */
static int
month_rows(const wvec *c, wvec *out)
{
    macc *acc = rhis_xcalloc(16, sizeof(macc)); /* by prefix length */
    int ok = 1;
    for (size_t i = 0; ok && i < c->n; i++) {
        const wrow *r = &c->v[i];
        int m = plan_month_of(r->day);
        int k = (m / 100 - MON_Y0) * 12 + m % 100 - 1;
        if (k < 0 || k >= NMON) {
            ok = 0;
            break;
        }
        int lens[6];
        int n = plan_area_levels(r->area, lens);
        for (int j = 0; j < n && lens[j] <= PLAN_MONTH_MAXLEN; j++) {
            macc *a = &acc[lens[j]];
            size_t l = (size_t)lens[j];
            if (a->used &&
                (a->code != r->code || strncmp(a->prefix, r->area, l) != 0))
                macc_flush(a, out);
            if (!a->used) {
                a->used = 1;
                a->code = r->code;
                memset(a->prefix, 0, sizeof(a->prefix));
                memcpy(a->prefix, r->area, l);
            }
            if (!a->on[k]) {
                a->on[k] = 1;
                a->touched[a->nt++] = k;
            }
            a->sum[k] += r->value;
        }
    }
    for (int l = 0; ok && l < 16; l++)
        macc_flush(&acc[l], out);
    rhis_free(acc);
    if (ok && out->n > 1)
        qsort(out->v, out->n, sizeof(wrow), wrow_cmp);
    return ok;
}

typedef struct fblock {
    int rank;
    size_t lo, hi;
} fblock;

static int
fblock_cmp(const void *a, const void *b)
{
    const fblock *x = a, *y = b;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/*
 * Facts f as rows (value 0 dropped), sorted in key order.  f is normalized
 * (element, band, area, institution, day): its blocks of one code are
 * put in the codes' string order, and within an area the rows of several
 * institutions are put in (day, institution) order; a final check sorts
 * whatever is still out of order.
 */
static void
fact_rows(const fvec *f, const int *rank, wvec *out)
{
    PLAN_VEC(fblock) b = {0};
    for (size_t i = 0; i < f->n;) {
        size_t j = i + 1;
        while (j < f->n && f->v[j].elem == f->v[i].elem &&
               f->v[j].band == f->v[i].band)
            j++;
        fblock *x = plan_vec_push(&b, sizeof(fblock));
        x->rank = rank[f->v[i].elem * NBK + f->v[i].band + 1];
        x->lo = i;
        x->hi = j;
        i = j;
    }
    if (b.n > 1)
        qsort(b.v, b.n, sizeof(fblock), fblock_cmp);
    for (size_t k = 0; k < b.n; k++) {
        for (size_t i = b.v[k].lo; i < b.v[k].hi; i++) {
            const fact *x = &f->v[i];
            if (x->value == 0)
                continue;
            wrow *w = plan_vec_push(out, sizeof(wrow));
            w->code = b.v[k].rank;
            w->day = x->day;
            w->inst = x->inst;
            w->value = x->value;
            memcpy(w->area, x->area, sizeof(w->area));
        }
    }
    plan_vec_free(&b);
    /* runs of one code and area: (institution, day) -> (day, institution) */
    for (size_t i = 0; i < out->n;) {
        size_t j = i + 1, bad = 0;
        while (j < out->n && out->v[j].code == out->v[i].code &&
               strcmp(out->v[j].area, out->v[i].area) == 0) {
            if (!bad && wrow_cmp(&out->v[j - 1], &out->v[j]) > 0)
                bad = 1;
            j++;
        }
        if (bad)
            qsort(out->v + i, j - i, sizeof(wrow), wrow_cmp);
        i = j;
    }
    for (size_t i = 1; i < out->n; i++)
        if (wrow_cmp(&out->v[i - 1], &out->v[i]) > 0) {
            qsort(out->v, out->n, sizeof(wrow), wrow_cmp);
            break;
        }
    /* equal keys (f not normalized) summed: an upsert of several rows
     * must not meet one key twice (PostgreSQL refuses it) */
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w > 0 && wrow_cmp(&out->v[w - 1], &out->v[i]) == 0)
            out->v[w - 1].value += out->v[i].value;
        else
            out->v[w++] = out->v[i];
    }
    out->n = w;
}

#define BULK_ROWS 128

/* Inserts rows r into agg_count (month 0) or agg_month (month 1); upsert:
 * adds to the rows there (the keys of r are distinct). */
static rhis_status
bulk_insert(rhis_db *db,
            int month,
            int upsert,
            const ccode *codes,
            const wrow *r,
            size_t n)
{
    static const char *const head[2] = {
        "INSERT INTO agg_count (element, area_code, institution_id, day,"
        " value) VALUES ",
        "INSERT INTO agg_month (element, area_code, month, value) VALUES "};
    static const char *const tuple[2] = {"(?, ?, ?, ?, ?)", "(?, ?, ?, ?)"};
    static const char *const tail[2] = {
        " ON CONFLICT (element, area_code, day, institution_id) DO UPDATE"
        " SET value = agg_count.value + excluded.value",
        " ON CONFLICT (element, area_code, month) DO UPDATE"
        " SET value = agg_month.value + excluded.value"};
    char sql[BULK_ROWS * 24 + 256];
    rhis_stmt *st = NULL;
    size_t have = 0; /* rows of the prepared statement */
    rhis_status rc = RHIS_OK;
    for (size_t i = 0; rc == RHIS_OK && i < n;) {
        /* statements of 128, 32, 8 or 1 rows: few texts to prepare */
        size_t k = BULK_ROWS;
        while (k > n - i)
            k = k > 8 ? k / 4 : 1;
        if (k != have) {
            rhis_db_finalize(st);
            st = NULL;
            int len = snprintf(sql, sizeof(sql), "%s", head[month]);
            for (size_t j = 0; j < k; j++)
                len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s%s",
                                j > 0 ? ", " : "", tuple[month]);
            if (upsert)
                (void)snprintf(sql + len, sizeof(sql) - (size_t)len, "%s",
                               tail[month]);
            rc = rhis_db_prepare(db, sql, &st);
            if (rc != RHIS_OK)
                break;
            have = k;
        }
        int p = 1;
        for (size_t j = 0; rc == RHIS_OK && j < k; j++) {
            const wrow *w = &r[i + j];
            rc = rhis_db_bind_text(st, p++, codes[w->code].s);
            if (rc == RHIS_OK)
                rc = rhis_db_bind_text(st, p++, w->area);
            if (rc == RHIS_OK && !month)
                rc = rhis_db_bind_int64(st, p++, w->inst);
            if (rc == RHIS_OK)
                rc = rhis_db_bind_int64(st, p++, w->day);
            if (rc == RHIS_OK)
                rc = rhis_db_bind_int64(st, p++, w->value);
        }
        if (rc == RHIS_OK) {
            rc = rhis_db_step(st);
            rc = rc == RHIS_DONE ? RHIS_OK : rc;
        }
        if (rc == RHIS_OK)
            rc = rhis_db_reset(st);
        i += k;
    }
    rhis_db_finalize(st);
    return rc;
}

/* Writes facts f (normalized) in key order: into the empty tables
 * (upsert 0, the rebuild) or added to them (upsert 1, a large flush). */
static rhis_status
write_sorted(rhis_db *db, const rhis_ind_defs *d, const fvec *f, int upsert)
{
    const ccode *codes;
    const int *rank;
    ranks_of(d, &codes, &rank);
    wvec c = {0}, m = {0};
    fact_rows(f, rank, &c);
    if (!month_rows(&c, &m)) { /* a day beyond the accumulators */
        fvec mf = {0};
        m.n = 0;
        month_facts(f, &mf);
        fact_rows(&mf, rank, &m);
        plan_vec_free(&mf);
    }
    rhis_status rc = bulk_insert(db, 0, upsert, codes, c.v, c.n);
    if (rc == RHIS_OK)
        rc = bulk_insert(db, 1, upsert, codes, m.v, m.n);
    plan_vec_free(&c);
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

typedef struct pidpos {
    int64_t pid, id;
    size_t pos;
} pidpos;

static int
pidpos_cmp(const void *a, const void *b)
{
    const pidpos *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Orders rows (elsize bytes each, starting with their int64_t id) and
 * their patient ids pid by (patient, id).  The bulk reads scan each table
 * in storage order (a table scan, no sort in the engine, no lookup of
 * every row through the patient index) and sort here.
 */
static void
order_by_patient(pidvec *pid, void *rows, size_t elsize)
{
    size_t n = pid->n;
    char *r = rows;
    int sorted = 1;
    for (size_t i = 1; sorted && i < n; i++) {
        int64_t a, b;
        memcpy(&a, r + (i - 1) * elsize, sizeof(a));
        memcpy(&b, r + i * elsize, sizeof(b));
        sorted =
            pid->v[i - 1] < pid->v[i] || (pid->v[i - 1] == pid->v[i] && a <= b);
    }
    if (sorted)
        return;
    pidpos *ix = rhis_xmalloc(n * sizeof(pidpos));
    for (size_t i = 0; i < n; i++) {
        ix[i].pid = pid->v[i];
        memcpy(&ix[i].id, r + i * elsize, sizeof(int64_t));
        ix[i].pos = i;
    }
    qsort(ix, n, sizeof(pidpos), pidpos_cmp);
    char *tmp = rhis_xmalloc(n * elsize);
    for (size_t i = 0; i < n; i++) {
        memcpy(tmp + i * elsize, r + ix[i].pos * elsize, elsize);
        pid->v[i] = ix[i].pid;
    }
    memcpy(r, tmp, n * elsize);
    rhis_free(tmp);
    rhis_free(ix);
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
        if ((rc) == RHIS_OK)                                                   \
            order_by_patient(&(pidv), (vec).v, sizeof(T));                     \
    } while (0)

static int
inrow_find(const void *key, const void *el)
{
    int64_t k = *(const int64_t *)key, id = ((const inrow *)el)->id;
    return k < id ? -1 : k > id;
}

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
                  "SELECT e.patient_id, e.id, e.type_code, e.start_ms,"
                  " e.end_ms, e.institution_id, NULL"
                  " FROM encounter e" ENC_WHERE,
                  a->enc, erow, fill_enc, a->be.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_OBS)))
        READ_BULK(db,
                  "SELECT o.patient_id, " OBS_COLS " FROM observation o"
                  " WHERE o.deleted = 0"
                  " AND o.status IN ('final','amended','corrected')"
                  " AND o.code <> '" LOINC_DEATH_CAUSE "'",
                  a->obs, orow, fill_obs, a->bo.pid, rc);
    if (rc == RHIS_OK && (d->scopes & ((1u << SC_IMM) | (1u << SC_CORE))))
        READ_BULK(db, "SELECT m.patient_id, " IMM_COLS IMM_FROM, a->imm, irow,
                  fill_imm, a->bi.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_COND)))
        READ_BULK(db, "SELECT c.patient_id, " COND_COLS COND_FROM, a->cond,
                  crow, fill_cond, a->bc.pid, rc);
    if (rc == RHIS_OK && (d->scopes & (1u << SC_CONTRACT)))
        READ_BULK(db, "SELECT k.patient_id, " CON_COLS " FROM fd_contract k",
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
    if (rc != RHIS_DONE)
        return rc;
    /* the encounters' institution areas (the live path joins them) */
    for (size_t i = 0; i < a->enc.n; i++) {
        erow *e = &a->enc.v[i];
        const inrow *in = e->inst != 0 && a->insts.n > 0
                              ? bsearch(&e->inst, a->insts.v, a->insts.n,
                                        sizeof(inrow), inrow_find)
                              : NULL;
        if (in != NULL)
            snprintf(e->inst_area, sizeof(e->inst_area), "%s", in->area);
    }
    return RHIS_OK;
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
        rc = write_sorted(db, d, &f, 0);
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
    aggbuf *b = rhis_db_tx_hook_arg(db, &agg_hook);
    if (b != NULL) /* encounters carry the institution's area */
        pc_drop_all(&b->pc);
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
