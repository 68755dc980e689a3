/*
 * access.c - who may read and write a resident's health record, the audit
 * trail of every disclosure, and the search restrictions that follow from
 * both.
 *
 * Why: the plans open the record "to the resident and to authorised
 * institutions".  Authorised means: the institution treated the resident,
 * or the resident consented (FHIR Consent, per institution or area, for a
 * period); public health (CDC) and administrators act within their area;
 * in an emergency a clinician may break the glass with a reason that is
 * recorded and reviewed.  Every read by anyone but the resident leaves an
 * audit event the resident can list.  The rules are written down in
 * docs/internals/ehr.md ("Access to records"); this file is their only
 * implementation, so the store engine, bundles, $everything and the
 * exporter all ask here.
 *
 * Transactions: reads are checked and audited outside any transaction, so
 * an audit event (one INSERT) commits on its own.  Write checks run inside
 * the caller's transaction; a refusal there is rolled back with it, so the
 * denied event is left to the dispatcher, which writes it after the
 * rollback with the patient id recorded on the request.
 */
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "rhis/audit.h"
#include "rhis/log.h"
#include "rhis/text.h"

/* A merge of a merge is followed this far (merges are rarely chained). */
#define MAX_MERGE_HOPS 4

#define ROLE_TREATING                                                          \
    (RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR)
#define ROLE_BREAK_GLASS (RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR)
#define ROLE_AREA_DUTY   (RHIS_ROLE_ADMIN | RHIS_ROLE_CDC)

rhis_status
rhis_ehr_subject_load(rhis_db *db, int64_t id, rhis_ehr_subject *s)
{
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->root = id;
    int64_t cur = id;
    for (int hop = 0; hop <= MAX_MERGE_HOPS; hop++) {
        rhis_stmt *st;
        rhis_status rc = rhis_db_query(db, &st,
                                       "SELECT merged_into, area_code FROM"
                                       " patient WHERE id = ?",
                                       "i", cur);
        if (rc != RHIS_OK)
            return rc;
        rc = rhis_db_step(st);
        if (rc != RHIS_ROW) {
            rhis_db_finalize(st);
            return rc == RHIS_DONE ? RHIS_OK : rc;
        }
        s->found = 1;
        s->root = cur;
        const char *area = rhis_db_column_text(st, 1);
        (void)snprintf(s->area_code, sizeof(s->area_code), "%s",
                       area != NULL ? area : "");
        int64_t next =
            rhis_db_column_is_null(st, 0) ? 0 : rhis_db_column_int64(st, 0);
        rhis_db_finalize(st);
        if (next == 0 || next == cur)
            break;
        cur = next;
    }
    return RHIS_OK;
}

int64_t
rhis_ehr_own_root(rhis_fhir_ctx *c)
{
    const rhis_principal *u = c->user;
    if (u == NULL || u->role != RHIS_ROLE_RESIDENT || u->patient_id == 0)
        return 0;
    rhis_ehr_subject own;
    if (rhis_ehr_subject_load(c->db, u->patient_id, &own) != RHIS_OK ||
        !own.found)
        return 0;
    return own.root;
}

/* The area prefix the caller acts in; "" when unrestricted. */
static const char *
scope_prefix(const rhis_principal *u)
{
    return u->scope_institution != 0 ? u->inst_area : u->scope_area;
}

static const char *
scope_label(const rhis_principal *u)
{
    const char *p = scope_prefix(u);
    return p[0] != '\0' ? p : "none";
}

/*
 * Counts, for institution inst (in area inst_area), the encounters of the
 * record of root and the active permit and deny consents naming it, the
 * institution or an area containing it.  The unary '+' keeps SQLite off
 * the institution's index (all its encounters) and on the patient's.
 */
static rhis_status
institution_ties(rhis_fhir_ctx *c,
                 int64_t root,
                 int64_t inst,
                 const char *inst_area,
                 int64_t *treated,
                 int64_t *permit,
                 int64_t *deny)
{
    rhis_status rc = rhis_db_scalar_int64(
        c->db, treated,
        "SELECT COUNT(*) FROM encounter e WHERE e.deleted = 0"
        " AND +e.institution_id = ? AND e.patient_id IN"
        " (SELECT id FROM patient WHERE id = ? OR merged_into = ?)",
        "iii", inst, root, root);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st;
    rc = rhis_db_query(
        c->db, &st,
        "SELECT COALESCE(SUM(CASE WHEN k.provision = 'permit' THEN 1 ELSE 0"
        " END), 0), COALESCE(SUM(CASE WHEN k.provision = 'deny' THEN 1"
        " ELSE 0 END), 0) FROM consent k WHERE k.deleted = 0"
        " AND k.status = 'active' AND k.patient_id IN"
        " (SELECT id FROM patient WHERE id = ? OR merged_into = ?)"
        " AND (k.start_ms IS NULL OR k.start_ms <= ?)"
        " AND (k.end_ms IS NULL OR k.end_ms > ?)"
        " AND (k.actor_institution_id = ? OR (k.actor_area_code IS NOT NULL"
        " AND CAST(? AS TEXT) LIKE (k.actor_area_code || '%')))",
        "iiiiis", root, root, c->now_ms, c->now_ms, inst, inst_area);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        *permit = rhis_db_column_int64(st, 0);
        *deny = rhis_db_column_int64(st, 1);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        *permit = *deny = 0;
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    return rc;
}

/*
 * The rules without break-glass: *allow = 1, or 0 with *why (an arena
 * string naming no patient data) saying what is missing.
 */
static rhis_status
decide(rhis_fhir_ctx *c,
       const rhis_ehr_subject *s,
       int write,
       int *allow,
       const char **why)
{
    const rhis_principal *u = c->user;
    *allow = 0;
    *why = NULL;
    if (u->role == RHIS_ROLE_RESIDENT) {
        int64_t own = rhis_ehr_own_root(c);
        if (own == 0)
            *why = "your account is not linked to a Patient record; ask the "
                   "registry office to link it";
        else if (s->found && s->root == own)
            *allow = 1;
        else
            *why = "a resident may see only their own record";
        return RHIS_OK;
    }
    if ((u->role & ROLE_AREA_DUTY) != 0 ||
        ((u->role & ROLE_TREATING) != 0 && u->scope_institution == 0)) {
        if (rhis_principal_covers_area(u, s->area_code))
            *allow = 1;
        else
            *why = rhis_arena_printf(
                c->arena, "Patient/%lld lives outside your area scope (%s)",
                (long long)s->id, scope_label(u));
        return RHIS_OK;
    }
    if ((u->role & ROLE_TREATING) == 0) {
        *why = rhis_arena_printf(c->arena,
                                 "role %s never sees patient-level records",
                                 rhis_role_name(u->role));
        return RHIS_OK;
    }
    /* staff of an institution */
    if (write) {
        *allow = 1; /* each store checks the resource's own institution */
        return RHIS_OK;
    }
    int64_t treated = 0, permit = 0, deny = 0;
    rhis_status rc = institution_ties(c, s->root, u->scope_institution,
                                      u->inst_area, &treated, &permit, &deny);
    if (rc != RHIS_OK)
        return rc;
    if (deny > 0)
        *why = rhis_arena_printf(
            c->arena,
            "Patient/%lld has refused access to the record by your "
            "institution (an active deny Consent)",
            (long long)s->id);
    else if (treated > 0 || permit > 0)
        *allow = 1;
    else
        *why = rhis_arena_printf(
            c->arena,
            "your institution has not treated Patient/%lld and holds no "
            "active Consent to read the record",
            (long long)s->id);
    return RHIS_OK;
}

int
rhis_ehr_may_read(rhis_fhir_ctx *c, int64_t patient_id, const char **why)
{
    const char *w = NULL;
    int allow = 0;
    rhis_ehr_subject s;
    if (why != NULL)
        *why = NULL;
    if (c->user == NULL)
        return 1;
    if (rhis_ehr_subject_load(c->db, patient_id, &s) != RHIS_OK ||
        decide(c, &s, 0, &allow, &w) != RHIS_OK) {
        w = "cannot check access to the record";
        allow = 0;
    }
    if (why != NULL)
        *why = w;
    return allow;
}

/* Fills ev: one audit event about patient_id by the caller of c. */
static void
fill_event(rhis_fhir_ctx *c,
           rhis_audit_event *ev,
           const char *action,
           const char *operation,
           const char *type,
           int64_t id,
           int64_t patient_id,
           int outcome,
           const char *detail)
{
    const rhis_principal *u = c->user;
    *ev = (rhis_audit_event){
        .user_id = u != NULL ? u->user_id : 0,
        .username = u != NULL ? u->username : NULL,
        .role = u != NULL ? rhis_role_name(u->role) : NULL,
        .action = action,
        .operation = operation,
        .resource_type = type,
        .resource_id =
            id != 0 ? rhis_arena_printf(c->arena, "%lld", (long long)id) : NULL,
        .patient_id = patient_id != 0 ? rhis_arena_printf(c->arena, "%lld",
                                                          (long long)patient_id)
                                      : NULL,
        .outcome = outcome,
        .address = c->req != NULL ? c->req->client_addr : NULL,
        .request_id = c->req != NULL ? c->req->request_id : NULL,
        .detail = detail,
    };
}

/* Writes one audit event about patient_id by the caller of c. */
static rhis_status
audit_event(rhis_fhir_ctx *c,
            const char *action,
            const char *operation,
            const char *type,
            int64_t id,
            int64_t patient_id,
            int outcome,
            const char *detail)
{
    rhis_audit_event ev;
    fill_event(c, &ev, action, operation, type, id, patient_id, outcome,
               detail);
    return rhis_audit_write(c->db, &ev);
}


/*
 * Records a refusal: RHIS_EFORBIDDEN with why on c (and its request), and
 * a denied audit event with the patient id.  Over HTTP the dispatcher
 * writes that event after rolling back whatever the handler began (a write
 * check runs inside the handler's transaction); without a request it is
 * written here.
 */
static rhis_status
refuse(rhis_fhir_ctx *c, int64_t patient_id, int write, const char *why)
{
    rhis_fhir_fail(c, RHIS_EFORBIDDEN, NULL, "%s", why);
    const char *pid = patient_id != 0 ? rhis_arena_printf(c->arena, "%lld",
                                                          (long long)patient_id)
                                      : NULL;
    if (c->req != NULL && !c->req->audit_done) {
        c->req->audit_patient = pid;
        if (pid != NULL) {
            c->req->audit_type = "Patient";
            c->req->audit_id = pid;
        }
        return RHIS_EFORBIDDEN;
    }
    if (audit_event(c, write ? "U" : "R",
                    write ? "write-denied" : "read-denied",
                    pid != NULL ? "Patient" : NULL, patient_id, patient_id, 403,
                    "access rules") != RHIS_OK)
        rhis_log(RHIS_LOG_ERR, "msg=\"denied audit write failed\" user=%lld",
                 (long long)(c->user != NULL ? c->user->user_id : 0));
    return RHIS_EFORBIDDEN;
}

/*
 * Trims reason and checks it: valid UTF-8 without control characters, at
 * least RHIS_EHR_REASON_MIN characters, at most RHIS_EHR_REASON_MAX bytes.
 * *out is the trimmed arena copy; RHIS_EINVAL (recorded) otherwise.
 */
static rhis_status
check_reason(rhis_fhir_ctx *c, const char *reason, const char **out)
{
    size_t start = strspn(reason, " \t"), n = strlen(reason + start), chars = 0;
    const char *b = reason + start;
    while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
        n--;
    if (n > RHIS_EHR_REASON_MAX)
        return rhis_fhir_fail(c, RHIS_EINVAL, "X-Break-Glass-Reason",
                              "X-Break-Glass-Reason is longer than %d bytes",
                              RHIS_EHR_REASON_MAX);
    if (!rhis_utf8_valid(b, n))
        return rhis_fhir_fail(c, RHIS_EINVAL, "X-Break-Glass-Reason",
                              "X-Break-Glass-Reason must be UTF-8 text");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)b[i];
        if (ch < 0x20 || ch == 0x7f)
            return rhis_fhir_fail(c, RHIS_EINVAL, "X-Break-Glass-Reason",
                                  "X-Break-Glass-Reason must not contain "
                                  "control characters");
        if ((ch & 0xc0) != 0x80)
            chars++;
    }
    if (chars < RHIS_EHR_REASON_MIN)
        return rhis_fhir_fail(c, RHIS_EINVAL, "X-Break-Glass-Reason",
                              "X-Break-Glass-Reason must give the emergency "
                              "in at least %d characters",
                              RHIS_EHR_REASON_MIN);
    *out = rhis_arena_strndup(c->arena, b, n);
    return RHIS_OK;
}

/* A break-glass read: the row to review and its audit event. */
static rhis_status
break_glass(rhis_fhir_ctx *c, int64_t patient_id, const char *reason)
{
    int64_t id = 0;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &id,
        "INSERT INTO break_glass (ts, user_id, patient_id, reason,"
        " request_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
        "iiiss", c->now_ms, c->user->user_id, patient_id, reason,
        c->req != NULL ? c->req->request_id : NULL);
    if (rc == RHIS_OK)
        rc = audit_event(
            c, "E", "break-glass", "Patient", patient_id, patient_id, 200,
            rhis_arena_printf(c->arena, "break-glass %lld", (long long)id));
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "cannot record the break-glass access");
    rhis_log(RHIS_LOG_WARN, "msg=\"break-glass\" rid=%s user=%lld bg=%lld",
             c->req != NULL ? c->req->request_id : "-",
             (long long)c->user->user_id, (long long)id);
    return RHIS_OK;
}

rhis_status
rhis_ehr_access_reason(rhis_fhir_ctx *c,
                       int64_t patient_id,
                       int write,
                       const char *reason)
{
    if (c->user == NULL)
        return RHIS_OK;
    rhis_ehr_subject s;
    int allow = 0;
    const char *why = NULL;
    rhis_status rc = rhis_ehr_subject_load(c->db, patient_id, &s);
    if (rc == RHIS_OK)
        rc = decide(c, &s, write, &allow, &why);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL, "cannot check access to the record");
    if (allow)
        return RHIS_OK;
    if (reason != NULL && !write && s.found &&
        (c->user->role & ROLE_BREAK_GLASS) != 0) {
        const char *r = NULL;
        if ((rc = check_reason(c, reason, &r)) != RHIS_OK)
            return rc;
        return break_glass(c, patient_id, r);
    }
    if (reason != NULL && (c->user->role & ROLE_BREAK_GLASS) == 0)
        why = rhis_arena_printf(c->arena,
                                "%s (break-glass is for clinicians and family "
                                "doctors only)",
                                why);
    else if (reason == NULL && !write &&
             (c->user->role & ROLE_BREAK_GLASS) != 0)
        why = rhis_arena_printf(c->arena,
                                "%s; in an emergency send the header "
                                "X-Break-Glass-Reason (reviewed later)",
                                why);
    return refuse(c, patient_id, write, why);
}

rhis_status
rhis_ehr_check_access(rhis_fhir_ctx *c, int64_t patient_id, int write)
{
    if (c->user == NULL)
        return RHIS_OK;
    const char *reason = NULL;
    if (c->req != NULL)
        reason = rhis_req_header(c->req, "X-Break-Glass-Reason");
    return rhis_ehr_access_reason(c, patient_id, write, reason);
}

/* 1 if this request broke the glass for patient_id. */
static int
broke_glass(rhis_fhir_ctx *c, int64_t patient_id)
{
    int64_t n = 0;
    if (c->req == NULL ||
        rhis_req_header(c->req, "X-Break-Glass-Reason") == NULL)
        return 0;
    if (rhis_db_scalar_int64(c->db, &n,
                             "SELECT COUNT(*) FROM break_glass WHERE"
                             " request_id = ? AND patient_id = ?",
                             "si", c->req->request_id, patient_id) != RHIS_OK)
        return 0;
    return n > 0;
}

rhis_status
rhis_ehr_audit_read(rhis_fhir_ctx *c,
                    const char *operation,
                    const char *type,
                    int64_t id,
                    int64_t patient_id)
{
    if (c->user == NULL)
        return RHIS_OK;
    if (c->user->role == RHIS_ROLE_RESIDENT && patient_id != 0) {
        /* the resident reading their own record is no disclosure */
        rhis_ehr_subject s;
        int64_t own = rhis_ehr_own_root(c);
        if (own != 0 &&
            rhis_ehr_subject_load(c->db, patient_id, &s) == RHIS_OK &&
            s.found && s.root == own)
            return RHIS_OK;
    }
    const char *detail =
        patient_id != 0 && broke_glass(c, patient_id) ? "break-glass" : NULL;
    /* committed before the response leaves, sharing a lazy group commit
     * with other reads (docs/internals/db.md, Durability) */
    rhis_status rc;
    if (c->req != NULL) {
        rhis_audit_event ev;
        fill_event(c, &ev, "R", operation, type, id, patient_id, 200, detail);
        rc = rhis_req_audit_disclosure(c->req, &ev);
    } else {
        rc = audit_event(c, "R", operation, type, id, patient_id, 200, detail);
    }
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "cannot write the audit event of this read");
    if (c->req != NULL)
        c->req->audit_done = 1;
    return RHIS_OK;
}

/* ---- searches ---- */

static int
is_self_patient(const rhis_fhir_type *t)
{
    return strcmp(t->patient_col, "t.id") == 0;
}

/* The term confining t to one record (two int binds: root, root); NULL
 * for a patient column this file has no literal for. */
static const char *
record_term(const rhis_fhir_type *t)
{
    if (is_self_patient(t))
        return "t.id IN (SELECT id FROM patient WHERE id = ? OR"
               " merged_into = ?)";
    if (strcmp(t->patient_col, "t.patient_id") == 0)
        return "t.patient_id IN (SELECT id FROM patient WHERE id = ? OR"
               " merged_into = ?)";
    return NULL;
}

/* The term confining t to patients living in an area (one text bind:
 * the prefix followed by '%'). */
static const char *
area_term(const rhis_fhir_type *t)
{
    if (is_self_patient(t))
        return "t.area_code LIKE ?";
    if (strcmp(t->patient_col, "t.patient_id") == 0)
        return "t.patient_id IN (SELECT id FROM patient WHERE area_code"
               " LIKE ?)";
    return NULL;
}

/* "Patient/12", ".../Patient/12" or "12" -> 12; 0 if not an id. */
static int64_t
ref_id(const char *v)
{
    const char *slash = strrchr(v, '/');
    const char *p = slash != NULL ? slash + 1 : v;
    int64_t id = 0;
    if (*p < '1' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (id > (INT64_MAX - 9) / 10)
            return 0;
        id = id * 10 + (*p - '0');
    }
    return *p == '\0' ? id : 0;
}

/* True if query key (with any :modifier) names the patient of t. */
static int
names_patient(const rhis_fhir_type *t, const char *key)
{
    const char *colon = strchr(key, ':');
    size_t n = colon != NULL ? (size_t)(colon - key) : strlen(key);
    if (colon != NULL && strcmp(colon + 1, "Patient") != 0)
        return 0;
    if (is_self_patient(t))
        return n == 3 && strncmp(key, "_id", 3) == 0;
    for (int i = 0; i < t->nparams; i++) {
        const rhis_fhir_param *p = &t->params[i];
        if (p->kind == RHIS_P_REF && p->ref_type != NULL &&
            strcmp(p->ref_type, "Patient") == 0 && strlen(p->name) == n &&
            strncmp(p->name, key, n) == 0)
            return 1;
    }
    return 0;
}

static rhis_status
refuse_search(rhis_fhir_ctx *c, const rhis_fhir_type *t, const char *why)
{
    if (c->req != NULL && !c->req->audit_done)
        c->req->audit_type = t->name;
    return refuse(c, 0, 0, why);
}

/* Adds the area restriction of the caller's scope, if any. */
static rhis_status
add_area(rhis_fhir_ctx *c, const rhis_fhir_type *t, rhis_sql_where *w)
{
    const rhis_principal *u = c->user;
    const char *prefix = scope_prefix(u);
    if (prefix[0] == '\0' && u->scope_institution == 0)
        return RHIS_OK; /* unrestricted */
    const char *term = area_term(t);
    if (term == NULL)
        return refuse_search(c, t, "no area rule for this resource type");
    rhis_sql_where_add(w, term, 's', 0,
                       rhis_arena_printf(c->arena, "%s%%", prefix));
    return RHIS_OK;
}

rhis_status
rhis_ehr_search_scope(rhis_fhir_ctx *c,
                      const rhis_fhir_type *t,
                      rhis_sql_where *w,
                      int64_t *patient_id)
{
    *patient_id = 0;
    const rhis_principal *u = c->user;
    if (u == NULL)
        return RHIS_OK;
    if ((u->role & (ROLE_AREA_DUTY | ROLE_TREATING | RHIS_ROLE_RESIDENT)) == 0)
        return refuse_search(
            c, t,
            rhis_arena_printf(c->arena,
                              "role %s never sees patient-level records",
                              rhis_role_name(u->role)));
    if (t->patient_col == NULL)
        return RHIS_OK; /* not part of anyone's record */

    /* a search naming its patient: the rules for that record decide, and
     * the type's own parameter already filters on it */
    int64_t named = 0;
    int distinct = 0;
    for (int i = 0; c->req != NULL && i < c->req->query.n; i++) {
        const rhis_kv *kv = &c->req->query.kv[i];
        if (!names_patient(t, kv->key))
            continue;
        int64_t pid = ref_id(kv->value);
        if (pid == 0)
            continue; /* not a plain id: the restrictions below apply */
        rhis_status rc = rhis_ehr_check_access(c, pid, 0);
        if (rc != RHIS_OK)
            return rc;
        if (pid != named)
            distinct++;
        named = pid;
    }
    if (distinct > 0) {
        *patient_id = distinct == 1 ? named : 0;
        return RHIS_OK;
    }

    if (u->role == RHIS_ROLE_RESIDENT) {
        int64_t own = rhis_ehr_own_root(c);
        const char *term = record_term(t);
        if (own == 0)
            return refuse_search(c, t,
                                 "your account is not linked to a Patient "
                                 "record; ask the registry office to link it");
        if (term == NULL)
            return refuse_search(c, t, "no access rule for this type");
        rhis_sql_where_add_ii(w, term, own, own);
        *patient_id = own;
        return RHIS_OK;
    }
    if ((u->role & ROLE_AREA_DUTY) != 0 || u->scope_institution == 0)
        return add_area(c, t, w);
    /* staff of an institution */
    if (is_self_patient(t))
        return RHIS_OK; /* registration look-up; lists are masked */
    if (strcmp(t->name, "Consent") == 0)
        rhis_sql_where_add(w, "t.actor_institution_id = ?", 'i',
                           u->scope_institution, NULL);
    else
        rhis_sql_where_add(w, "t.institution_id = ?", 'i', u->scope_institution,
                           NULL);
    return RHIS_OK;
}
