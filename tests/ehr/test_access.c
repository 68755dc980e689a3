/*
 * test_access.c - unit tests for access to records (src/ehr/access.c) and
 * the Consent store type (src/ehr/consent.c), on SQLite and PostgreSQL.
 *
 * Why: the rules decide who sees a resident's health record; each rule
 * (treated, consent by institution and by area, periods, deny wins,
 * break-glass, the resident's own record and merged records, area duty of
 * CDC and admins, roles that never see records) gets a case that would
 * fail if the rule were dropped, and every refusal and disclosure must
 * leave its audit row.  The fixture writes the typed rows directly, so
 * these tests need no HTTP server and no other resource type's mapping.
 */
#include "testutil.h"

#include <sys/time.h>

#include <sodium.h>

#include "ehr/access_int.h"
#include "rhis/alloc.h"
#include "rhis/auth.h"
#include "rhis/fhirstore.h"
#include "rhis/json.h"

static rhis_db *g_db;

/* ids of the fixture */
static int64_t inst_kq, inst_sh, inst_xy, inst_rmyy, inst_jh;
static int64_t p_treated, p_inst_consent, p_area_consent, p_expired, p_denied,
    p_merged, p_jh;

static int64_t
now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
area(const char *code, int level, const char *parent)
{
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO area (code, name, level,"
                              " parent_code, edition) VALUES (?, ?, ?,"
                              " ?, '2023')",
                              "ssis", code, code, (int64_t)level, parent));
}

static int64_t
institution(const char *code, const char *area_code)
{
    int64_t id = 0;
    RHIS_CHECK_OK(g_db,
                  rhis_db_scalar_int64(
                      g_db, &id,
                      "INSERT INTO institution (code, name, tier, ownership,"
                      " area_code, updated_at) VALUES (?, ?, 'township_hc',"
                      " 'public', ?, 0) RETURNING id",
                      "sss", code, code, area_code));
    return id;
}

/* A Patient row and its version 1 (so references to it resolve). */
static int64_t
patient(const char *name, const char *area_code)
{
    int64_t id = 0;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &id,
                            "INSERT INTO patient (updated_ms, name, sex,"
                            " area_code) VALUES (?, ?, 'F', ?) RETURNING id",
                            "iss", now_ms(), name, area_code));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO fhir_version (type, id,"
                                    " version, ts, method, patient_id, json)"
                                    " VALUES ('Patient', ?, 1, ?, 'POST', ?,"
                                    " '{\"resourceType\":\"Patient\"}')",
                                    "iii", id, now_ms(), id));
    return id;
}

static void
encounter(int64_t pid, int64_t inst, int deleted)
{
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO encounter (updated_ms,"
                              " patient_id, status, class,"
                              " institution_id, deleted) VALUES (?, ?,"
                              " 'finished', 'AMB', ?, ?)",
                              "iiii", now_ms(), pid, inst, (int64_t)deleted));
}

/* A consent row; inst 0 = actor is area; start/end 0 = open. */
static void
consent(int64_t pid,
        const char *provision,
        int64_t inst,
        const char *area_code,
        int64_t start,
        int64_t end)
{
    rhis_stmt *st;
    RHIS_CHECK_OK(
        g_db, rhis_db_prepare(g_db,
                              "INSERT INTO consent (updated_ms, patient_id,"
                              " status, provision, actor_institution_id,"
                              " actor_area_code, start_ms, end_ms) VALUES (?,"
                              " ?, 'active', ?, ?, ?, ?, ?)",
                              &st));
    RHIS_CHECK_OK(g_db, rhis_db_bind_int64(st, 1, now_ms()));
    RHIS_CHECK_OK(g_db, rhis_db_bind_int64(st, 2, pid));
    RHIS_CHECK_OK(g_db, rhis_db_bind_text(st, 3, provision));
    if (inst != 0)
        RHIS_CHECK_OK(g_db, rhis_db_bind_int64(st, 4, inst));
    else
        RHIS_CHECK_OK(g_db, rhis_db_bind_null(st, 4));
    RHIS_CHECK_OK(g_db, rhis_db_bind_text(st, 5, area_code));
    if (start != 0)
        RHIS_CHECK_OK(g_db, rhis_db_bind_int64(st, 6, start));
    else
        RHIS_CHECK_OK(g_db, rhis_db_bind_null(st, 6));
    if (end != 0)
        RHIS_CHECK_OK(g_db, rhis_db_bind_int64(st, 7, end));
    else
        RHIS_CHECK_OK(g_db, rhis_db_bind_null(st, 7));
    assert_int_equal(rhis_db_step(st), RHIS_DONE);
    rhis_db_finalize(st);
}

static int
group_setup(void **state)
{
    (void)state;
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    area("22", 1, NULL);
    area("2202", 2, "22");
    area("220221", 3, "2202");
    area("220281", 3, "2202");
    area("220221100", 4, "220221");
    area("220221101", 4, "220221");
    area("220221102", 4, "220221");
    inst_kq = institution("YJ-KQ-THC", "220221100");
    inst_sh = institution("YJ-SH-THC", "220221101");
    inst_xy = institution("YJ-XY-THC", "220221102");
    inst_rmyy = institution("YJ-RMYY", "220221");
    inst_jh = institution("JH-RMYY", "220281");
    int64_t day = 86400000LL, now = now_ms();

    p_treated = patient("P1", "220221100");
    encounter(p_treated, inst_kq, 0);
    encounter(p_treated, inst_sh, 1); /* deleted: does not count */
    p_inst_consent = patient("P2", "220221101");
    consent(p_inst_consent, "permit", inst_rmyy, NULL, now - day, 0);
    p_area_consent = patient("P3", "220221101");
    consent(p_area_consent, "permit", 0, "220221", 0, now + day);
    p_expired = patient("P4", "220221100");
    consent(p_expired, "permit", inst_kq, NULL, now - 10 * day, now - day);
    consent(p_expired, "permit", inst_kq, NULL, now + day, 0); /* later */
    p_denied = patient("P5", "220221100");
    encounter(p_denied, inst_kq, 0);
    consent(p_denied, "permit", inst_kq, NULL, 0, 0);
    consent(p_denied, "deny", 0, "2202", 0, 0);
    p_merged = patient("P6", "220221100");
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE patient SET merged_into = ?"
                                    " WHERE id = ?",
                                    "ii", p_treated, p_merged));
    encounter(p_merged, inst_xy, 0);
    p_jh = patient("P7", "220281");
    encounter(p_jh, inst_jh, 0);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_rollback(g_db);
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

/* ---- principals ---- */

static rhis_principal
who(const char *name, unsigned role, const char *area_scope, int64_t inst)
{
    static int64_t next_id = 100;
    rhis_principal p;
    memset(&p, 0, sizeof(p));
    p.user_id = next_id++;
    snprintf(p.username, sizeof(p.username), "%s", name);
    p.role = role;
    snprintf(p.scope_area, sizeof(p.scope_area), "%s", area_scope);
    p.scope_institution = inst;
    if (inst != 0) {
        rhis_stmt *st;
        RHIS_CHECK_OK(g_db,
                      rhis_db_query(g_db, &st,
                                    "SELECT area_code FROM institution WHERE"
                                    " id = ?",
                                    "i", inst));
        assert_int_equal(rhis_db_step(st), RHIS_ROW);
        snprintf(p.inst_area, sizeof(p.inst_area), "%s",
                 rhis_db_column_text(st, 0));
        rhis_db_finalize(st);
    }
    return p;
}

typedef struct fixture {
    rhis_arena *arena;
    rhis_fhir_ctx c;
    rhis_principal u;
    rhis_req req; /* a fake request for the search cases */
} fixture;

static fixture *
ctx_for(const rhis_principal *u)
{
    fixture *f = rhis_xcalloc(1, sizeof(*f));
    f->arena = rhis_arena_new();
    rhis_fhir_ctx_cli(&f->c, g_db, f->arena);
    if (u != NULL) {
        f->u = *u;
        f->c.user = &f->u;
    }
    return f;
}

static void
ctx_free(fixture *f)
{
    rhis_arena_free(f->arena);
    rhis_free(f);
}

/* Attaches a fake request with query qs (for rhis_ehr_search_scope). */
static void
with_query(fixture *f, const char *qs)
{
    f->req.arena = f->arena;
    f->req.method = "GET";
    snprintf(f->req.request_id, sizeof(f->req.request_id), "unit-%lld",
             (long long)now_ms());
    f->req.user = &f->u;
    assert_int_equal(rhis_query_parse(f->arena, qs, strlen(qs), &f->req.query),
                     RHIS_OK);
    f->c.req = &f->req;
}

static rhis_status
read_as(const rhis_principal *u, int64_t pid, const char *reason)
{
    fixture *f = ctx_for(u);
    rhis_status rc = rhis_ehr_access_reason(&f->c, pid, 0, reason);
    if (rc == RHIS_EFORBIDDEN)
        assert_true(f->c.err_text[0] != '\0'); /* a clear message */
    ctx_free(f);
    return rc;
}

static int64_t
count_audit(const char *operation, int64_t pid, int outcome)
{
    int64_t n = -1;
    char p[32];
    snprintf(p, sizeof(p), "%lld", (long long)pid);
    RHIS_CHECK_OK(g_db,
                  rhis_db_scalar_int64(g_db, &n,
                                       "SELECT COUNT(*) FROM audit_event WHERE"
                                       " operation = ? AND patient_id = ? AND"
                                       " outcome = ?",
                                       "ssi", operation, p, (int64_t)outcome));
    return n;
}

/* ---- the rules ---- */

static void
treated_vs_not_treated(void **state)
{
    (void)state;
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    rhis_principal sh = who("doc_sh", RHIS_ROLE_CLINICIAN, "", inst_sh);
    rhis_principal rm = who("doc_rmyy", RHIS_ROLE_CLINICIAN, "", inst_rmyy);
    rhis_principal ig = who("integ_kq", RHIS_ROLE_INTEGRATOR, "", inst_kq);
    assert_int_equal(read_as(&kq, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&ig, p_treated, NULL), RHIS_OK);
    /* a deleted encounter is no treatment ... */
    int64_t before = count_audit("read-denied", p_treated, 403);
    assert_int_equal(read_as(&sh, p_treated, NULL), RHIS_EFORBIDDEN);
    /* ... and every refusal is audited with the patient */
    assert_int_equal(count_audit("read-denied", p_treated, 403), before + 1);
    assert_int_equal(read_as(&rm, p_treated, NULL), RHIS_EFORBIDDEN);
    /* an encounter of a record merged into p_treated counts for it */
    rhis_principal xy = who("doc_xy", RHIS_ROLE_CLINICIAN, "", inst_xy);
    assert_int_equal(read_as(&xy, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&xy, p_merged, NULL), RHIS_OK);
    assert_int_equal(read_as(&sh, p_merged, NULL), RHIS_EFORBIDDEN);
    /* writes by staff of an institution are allowed (the store checks the
     * resource's institution) */
    fixture *f = ctx_for(&rm);
    assert_int_equal(rhis_ehr_check_access(&f->c, p_treated, 1), RHIS_OK);
    ctx_free(f);
}

static void
consent_by_institution(void **state)
{
    (void)state;
    rhis_principal rm = who("doc_rmyy", RHIS_ROLE_CLINICIAN, "", inst_rmyy);
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    assert_int_equal(read_as(&rm, p_inst_consent, NULL), RHIS_OK);
    assert_int_equal(read_as(&kq, p_inst_consent, NULL), RHIS_EFORBIDDEN);
}

static void
consent_by_area(void **state)
{
    (void)state;
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    rhis_principal rm = who("doc_rmyy", RHIS_ROLE_CLINICIAN, "", inst_rmyy);
    rhis_principal jh = who("doc_jh", RHIS_ROLE_CLINICIAN, "", inst_jh);
    /* area 220221 covers 口前镇 220221100 and the county hospital 220221 */
    assert_int_equal(read_as(&kq, p_area_consent, NULL), RHIS_OK);
    assert_int_equal(read_as(&rm, p_area_consent, NULL), RHIS_OK);
    /* but not 蛟河市 220281 */
    assert_int_equal(read_as(&jh, p_area_consent, NULL), RHIS_EFORBIDDEN);
}

static void
consent_outside_its_period(void **state)
{
    (void)state;
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    assert_int_equal(read_as(&kq, p_expired, NULL), RHIS_EFORBIDDEN);
}

static void
deny_wins(void **state)
{
    (void)state;
    /* treated by KQ and a permit to KQ, but a deny to area 2202 */
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    fixture *f = ctx_for(&kq);
    assert_int_equal(rhis_ehr_access_reason(&f->c, p_denied, 0, NULL),
                     RHIS_EFORBIDDEN);
    assert_non_null(strstr(f->c.err_text, "deny"));
    ctx_free(f);
}

static void
break_glass_needs_a_reason(void **state)
{
    (void)state;
    rhis_principal jh = who("doc_jh", RHIS_ROLE_CLINICIAN, "", inst_jh);
    rhis_principal fd = who("fd_jh", RHIS_ROLE_FAMILY_DOCTOR, "", inst_jh);
    rhis_principal ig = who("integ_jh", RHIS_ROLE_INTEGRATOR, "", inst_jh);
    rhis_principal cdc = who("cdc_jh", RHIS_ROLE_CDC, "220281", 0);
    int64_t rows = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM break_glass");

    /* without the header: refused, and told about break-glass */
    fixture *f = ctx_for(&jh);
    assert_int_equal(rhis_ehr_access_reason(&f->c, p_treated, 0, NULL),
                     RHIS_EFORBIDDEN);
    assert_non_null(strstr(f->c.err_text, "X-Break-Glass-Reason"));
    ctx_free(f);
    /* too short after trimming, control characters, not UTF-8: 400 */
    f = ctx_for(&jh);
    assert_int_equal(
        rhis_ehr_access_reason(&f->c, p_treated, 0, "   urgent!    "),
        RHIS_EINVAL);
    assert_string_equal(f->c.err_expr, "X-Break-Glass-Reason");
    ctx_free(f);
    assert_int_equal(read_as(&jh, p_treated, "unconscious\x01 patient in ER"),
                     RHIS_EINVAL);
    assert_int_equal(read_as(&jh, p_treated, "unconscious \xff patient ER"),
                     RHIS_EINVAL);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM break_glass"),
                     rows);

    /* a reason opens the record, once per read, for review */
    int64_t events = count_audit("break-glass", p_treated, 200);
    assert_int_equal(read_as(&jh, p_treated,
                             "  unconscious after a car crash, need "
                             "allergies  "),
                     RHIS_OK);
    /* ten characters of Chinese are enough */
    assert_int_equal(read_as(&fd, p_treated, "患者昏迷急诊抢救需查病史"),
                     RHIS_OK);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM break_glass"),
                     rows + 2);
    assert_int_equal(count_audit("break-glass", p_treated, 200), events + 2);
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT user_id, patient_id, reason,"
                                      " reviewed_ms FROM break_glass"
                                      " WHERE user_id = ?",
                                      "i", jh.user_id));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 1), p_treated);
    assert_string_equal(rhis_db_column_text(st, 2),
                        "unconscious after a car crash, need allergies");
    assert_true(rhis_db_column_is_null(st, 3)); /* open for review */
    rhis_db_finalize(st);
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT action, detail FROM audit_event"
                                      " WHERE operation = 'break-glass' AND"
                                      " user_id = ?",
                                      "i", jh.user_id));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "E");
    assert_non_null(strstr(rhis_db_column_text(st, 1), "break-glass"));
    rhis_db_finalize(st);

    /* an integrator or the CDC cannot break the glass; nor for a write */
    assert_int_equal(read_as(&ig, p_treated, "unconscious patient in the ER"),
                     RHIS_EFORBIDDEN);
    assert_int_equal(read_as(&cdc, p_treated, "unconscious patient in the ER"),
                     RHIS_EFORBIDDEN);
    rhis_principal fd_area =
        who("fd_area", RHIS_ROLE_FAMILY_DOCTOR, "220281", 0);
    f = ctx_for(&fd_area);
    assert_int_equal(rhis_ehr_access_reason(&f->c, p_treated, 1,
                                            "unconscious patient in the ER"),
                     RHIS_EFORBIDDEN);
    ctx_free(f);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM break_glass"),
                     rows + 2);
}

static void
resident_own_record_only(void **state)
{
    (void)state;
    rhis_principal res = who("resident", RHIS_ROLE_RESIDENT, "220221", 0);
    res.patient_id = p_treated;
    rhis_principal unlinked = who("res2", RHIS_ROLE_RESIDENT, "220221", 0);
    rhis_principal merged = who("res3", RHIS_ROLE_RESIDENT, "220221", 0);
    merged.patient_id = p_merged; /* linked before the merge */
    assert_int_equal(read_as(&res, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&res, p_merged, NULL), RHIS_OK);
    assert_int_equal(read_as(&merged, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&res, p_inst_consent, NULL), RHIS_EFORBIDDEN);
    assert_int_equal(read_as(&unlinked, p_treated, NULL), RHIS_EFORBIDDEN);
    /* a break-glass header does not help a resident */
    assert_int_equal(read_as(&res, p_jh, "I want to see my neighbour"),
                     RHIS_EFORBIDDEN);

    /* reading their own record is no disclosure: no audit row */
    int64_t before = count_audit("read", p_treated, 200);
    fixture *f = ctx_for(&res);
    RHIS_CHECK_OK(g_db, rhis_ehr_audit_read(&f->c, "read", "Patient", p_treated,
                                            p_treated));
    RHIS_CHECK_OK(g_db,
                  rhis_ehr_audit_read(&f->c, "read", "Encounter", 9, p_merged));
    ctx_free(f);
    assert_int_equal(count_audit("read", p_treated, 200), before);
}

static void
roles_that_never_see_records(void **state)
{
    (void)state;
    rhis_principal pl = who("planner", RHIS_ROLE_PLANNER, "220221", 0);
    rhis_principal di = who("dispatcher", RHIS_ROLE_DISPATCHER, "220221", 0);
    assert_int_equal(read_as(&pl, p_treated, NULL), RHIS_EFORBIDDEN);
    assert_int_equal(read_as(&di, p_treated, NULL), RHIS_EFORBIDDEN);
    assert_int_equal(read_as(&pl, p_treated, "a very good reason, really"),
                     RHIS_EFORBIDDEN);
    fixture *f = ctx_for(&pl);
    assert_int_equal(rhis_ehr_check_access(&f->c, p_treated, 1),
                     RHIS_EFORBIDDEN);
    ctx_free(f);
}

static void
area_duty_of_cdc_and_admin(void **state)
{
    (void)state;
    rhis_principal cdc = who("cdc", RHIS_ROLE_CDC, "220221", 0);
    rhis_principal admin = who("admin", RHIS_ROLE_ADMIN, "", 0);
    rhis_principal admin_jh = who("admin_jh", RHIS_ROLE_ADMIN, "220281", 0);
    rhis_principal fd = who("fd_kq", RHIS_ROLE_FAMILY_DOCTOR, "220221100", 0);
    assert_int_equal(read_as(&cdc, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&cdc, p_denied, NULL), RHIS_OK); /* duty */
    assert_int_equal(read_as(&cdc, p_jh, NULL), RHIS_EFORBIDDEN);
    assert_int_equal(read_as(&admin, p_jh, NULL), RHIS_OK);
    assert_int_equal(read_as(&admin_jh, p_jh, NULL), RHIS_OK);
    assert_int_equal(read_as(&admin_jh, p_treated, NULL), RHIS_EFORBIDDEN);
    /* staff scoped by area: the patient's area decides */
    assert_int_equal(read_as(&fd, p_treated, NULL), RHIS_OK);
    assert_int_equal(read_as(&fd, p_inst_consent, NULL), RHIS_EFORBIDDEN);
}

static void
cli_is_always_allowed_and_not_audited(void **state)
{
    (void)state;
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event");
    fixture *f = ctx_for(NULL);
    RHIS_CHECK_OK(g_db, rhis_ehr_check_access(&f->c, p_jh, 0));
    RHIS_CHECK_OK(g_db,
                  rhis_ehr_audit_read(&f->c, "read", "Patient", p_jh, p_jh));
    ctx_free(f);
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
                     before);
}

static void
audit_read_writes_one_event(void **state)
{
    (void)state;
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    fixture *f = ctx_for(&kq);
    int64_t before = count_audit("vread", p_treated, 200);
    RHIS_CHECK_OK(
        g_db, rhis_ehr_audit_read(&f->c, "vread", "Encounter", 77, p_treated));
    ctx_free(f);
    assert_int_equal(count_audit("vread", p_treated, 200), before + 1);
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT action, resource_type,"
                                      " resource_id, username, role FROM"
                                      " audit_event WHERE operation = 'vread'"
                                      " AND user_id = ?",
                                      "i", kq.user_id));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "R");
    assert_string_equal(rhis_db_column_text(st, 1), "Encounter");
    assert_string_equal(rhis_db_column_text(st, 2), "77");
    assert_string_equal(rhis_db_column_text(st, 3), "doc_kq");
    assert_string_equal(rhis_db_column_text(st, 4), "clinician");
    rhis_db_finalize(st);
}

/* ---- searches ---- */

static const rhis_fhir_param enc_params[] = {
    {"patient", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
    {"subject", RHIS_P_REF, "t.patient_id", NULL, "Patient", NULL, NULL, NULL},
};
static const rhis_fhir_type enc_type = {
    .name = "Encounter",
    .table = "encounter",
    .patient_col = "t.patient_id",
    .from = "encounter t",
    .params = enc_params,
    .nparams = 2,
};
static const rhis_fhir_type pat_type = {
    .name = "Patient",
    .table = "patient",
    .patient_col = "t.id",
    .from = "patient t",
};

/* Runs the scope of u over type t with query qs: the status, *pid and the
 * number of rows the restricted search would see (-1 if refused). */
static rhis_status
scope_as(const rhis_principal *u,
         const rhis_fhir_type *t,
         const char *qs,
         int64_t *pid,
         int64_t *rows)
{
    fixture *f = ctx_for(u);
    with_query(f, qs);
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    rhis_sql_where_add(&w, "t.deleted = 0", 0, 0, NULL);
    rhis_status rc = rhis_ehr_search_scope(&f->c, t, &w, pid);
    *rows = -1;
    if (rc == RHIS_OK)
        RHIS_CHECK_OK(g_db, rhis_sql_where_count(g_db, &w, t->from, rows));
    if (rc == RHIS_EFORBIDDEN) {
        /* recorded on the request for the dispatcher's audit event */
        assert_int_equal(f->req.err_status, RHIS_EFORBIDDEN);
        assert_true(f->req.err_text[0] != '\0');
    }
    ctx_free(f);
    return rc;
}

static void
search_scopes(void **state)
{
    (void)state;
    int64_t pid, rows;
    rhis_principal res = who("resident", RHIS_ROLE_RESIDENT, "220221", 0);
    res.patient_id = p_treated;
    rhis_principal kq = who("doc_kq", RHIS_ROLE_CLINICIAN, "", inst_kq);
    rhis_principal cdc = who("cdc", RHIS_ROLE_CDC, "220221", 0);
    rhis_principal admin = who("admin", RHIS_ROLE_ADMIN, "", 0);
    rhis_principal pl = who("planner", RHIS_ROLE_PLANNER, "220221", 0);

    /* the resident: confined to their record (p_treated + p_merged) */
    RHIS_CHECK_OK(g_db, scope_as(&res, &enc_type, "", &pid, &rows));
    assert_int_equal(pid, p_treated);
    assert_int_equal(rows, 2); /* KQ + XY of the merged record */
    RHIS_CHECK_OK(g_db, scope_as(&res, &pat_type, "", &pid, &rows));
    assert_int_equal(rows, 2);
    char q[64];
    snprintf(q, sizeof(q), "patient=Patient/%lld", (long long)p_jh);
    assert_int_equal(scope_as(&res, &enc_type, q, &pid, &rows),
                     RHIS_EFORBIDDEN);

    /* a clinician naming a patient: that record's rules */
    snprintf(q, sizeof(q), "subject=%lld", (long long)p_treated);
    RHIS_CHECK_OK(g_db, scope_as(&kq, &enc_type, q, &pid, &rows));
    assert_int_equal(pid, p_treated);
    snprintf(q, sizeof(q), "patient:Patient=%lld", (long long)p_jh);
    assert_int_equal(scope_as(&kq, &enc_type, q, &pid, &rows), RHIS_EFORBIDDEN);
    snprintf(q, sizeof(q), "_id=%lld", (long long)p_jh);
    assert_int_equal(scope_as(&kq, &pat_type, q, &pid, &rows), RHIS_EFORBIDDEN);
    /* without a patient: only the institution's own records; Patient
     * look-ups are open (lists are masked by the type) */
    RHIS_CHECK_OK(g_db, scope_as(&kq, &enc_type, "", &pid, &rows));
    assert_int_equal(pid, 0);
    assert_int_equal(rows, 2); /* p_treated and p_denied at KQ */
    RHIS_CHECK_OK(g_db, scope_as(&kq, &pat_type, "", &pid, &rows));
    assert_int_equal(rows, 7);

    /* CDC: patients living in its area */
    RHIS_CHECK_OK(g_db, scope_as(&cdc, &enc_type, "", &pid, &rows));
    assert_int_equal(rows, 3); /* all but 蛟河市 and the deleted one */
    RHIS_CHECK_OK(g_db, scope_as(&cdc, &pat_type, "", &pid, &rows));
    assert_int_equal(rows, 6);
    RHIS_CHECK_OK(g_db, scope_as(&admin, &enc_type, "", &pid, &rows));
    assert_int_equal(rows, 4);

    assert_int_equal(scope_as(&pl, &enc_type, "", &pid, &rows),
                     RHIS_EFORBIDDEN);
}

/* ---- the Consent type ---- */

static rhis_status
create_consent(const rhis_principal *u, const char *json, int64_t *id)
{
    fixture *f = ctx_for(u);
    json_object *res = NULL;
    char err[160];
    assert_int_equal(
        rhis_json_parse(json, strlen(json), 32, &res, err, sizeof(err)),
        RHIS_OK);
    int64_t version = 0;
    *id = 0;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    rhis_status rc =
        rhis_fhir_do_create(&f->c, &rhis_type_consent, res, id, &version);
    if (rc == RHIS_OK)
        RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    else
        rhis_db_rollback(g_db);
    if (rc != RHIS_OK && rc != RHIS_EFORBIDDEN)
        print_message("consent refused (%s): %s\n", f->c.err_expr,
                      f->c.err_text);
    json_object_put(res);
    ctx_free(f);
    return rc;
}

/* A Consent of patient pid to actor (a reference) of provision type. */
static const char *
consent_json(char *buf,
             size_t len,
             int64_t pid,
             const char *type,
             const char *actor,
             const char *extra)
{
    snprintf(buf, len,
             "{\"resourceType\":\"Consent\",\"status\":\"active\","
             "\"scope\":{\"coding\":[{\"system\":\"http://"
             "terminology.hl7.org/CodeSystem/consentscope\",\"code\":"
             "\"patient-privacy\"}]},"
             "\"category\":[{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"59284-0\"}]}],"
             "\"patient\":{\"reference\":\"Patient/%lld\"},"
             "\"provision\":{\"type\":\"%s\",%s\"actor\":[{\"role\":"
             "{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/v3-ParticipationType\",\"code\":\"IRCP\"}]},"
             "\"reference\":{\"reference\":\"%s\"}}]}}",
             (long long)pid, type, extra, actor);
    return buf;
}

static void
consent_store_rules(void **state)
{
    (void)state;
    char buf[1024], ref[64];
    int64_t id;
    rhis_principal admin = who("admin", RHIS_ROLE_ADMIN, "", 0);
    rhis_principal res = who("resident", RHIS_ROLE_RESIDENT, "220221", 0);
    res.patient_id = p_jh;
    rhis_principal jh = who("doc_jh", RHIS_ROLE_CLINICIAN, "", inst_jh);
    rhis_principal sh = who("doc_sh", RHIS_ROLE_CLINICIAN, "", inst_sh);

    /* the resident of 蛟河 lets 双河镇卫生院 read the record */
    assert_int_equal(read_as(&sh, p_jh, NULL), RHIS_EFORBIDDEN);
    snprintf(ref, sizeof(ref), "Organization/%lld", (long long)inst_sh);
    RHIS_CHECK_OK(g_db, create_consent(&res,
                                       consent_json(buf, sizeof(buf), p_jh,
                                                    "permit", ref, ""),
                                       &id));
    assert_true(id > 0);
    assert_int_equal(read_as(&sh, p_jh, NULL), RHIS_OK);
    /* and then refuses 吉林 (area 2202) again: deny wins */
    RHIS_CHECK_OK(g_db,
                  create_consent(&res,
                                 consent_json(buf, sizeof(buf), p_jh, "deny",
                                              "Location/area-2202", ""),
                                 &id));
    assert_int_equal(read_as(&sh, p_jh, NULL), RHIS_EFORBIDDEN);
    /* the treating hospital 蛟河 is in 2202 too */
    assert_int_equal(read_as(&jh, p_jh, NULL), RHIS_EFORBIDDEN);

    /* a resident records consents only for their own record */
    assert_int_equal(create_consent(&res,
                                    consent_json(buf, sizeof(buf), p_treated,
                                                 "permit", ref, ""),
                                    &id),
                     RHIS_EFORBIDDEN);
    /* staff only for records they may read: no granting oneself access */
    snprintf(ref, sizeof(ref), "Organization/%lld", (long long)inst_sh);
    assert_int_equal(create_consent(&sh,
                                    consent_json(buf, sizeof(buf), p_treated,
                                                 "permit", ref, ""),
                                    &id),
                     RHIS_EFORBIDDEN);

    /* bad input */
    assert_int_equal(create_consent(&admin,
                                    consent_json(buf, sizeof(buf), p_treated,
                                                 "maybe", ref, ""),
                                    &id),
                     RHIS_EINVAL);
    assert_int_equal(
        create_consent(&admin,
                       consent_json(buf, sizeof(buf), p_treated, "permit",
                                    "Location/area-999999", ""),
                       &id),
        RHIS_EINVAL);
    assert_int_equal(
        create_consent(&admin,
                       consent_json(buf, sizeof(buf), p_treated, "permit",
                                    "Practitioner/1", ""),
                       &id),
        RHIS_EINVAL);
    assert_int_equal(
        create_consent(&admin,
                       consent_json(buf, sizeof(buf), p_treated, "permit", ref,
                                    "\"period\":{\"start\":\"2025-03-01\","
                                    "\"end\":\"2025-01-01\"},"),
                       &id),
        RHIS_EINVAL);
    assert_int_equal(
        create_consent(&admin,
                       consent_json(buf, sizeof(buf), p_treated, "permit", ref,
                                    "\"action\":[{\"text\":\"access\"}],"),
                       &id),
        RHIS_EINVAL);

    /* a period: the end day is included */
    int64_t before = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM consent");
    RHIS_CHECK_OK(g_db, create_consent(&admin,
                                       consent_json(buf, sizeof(buf), p_treated,
                                                    "permit", ref,
                                                    "\"period\":{\"start\":"
                                                    "\"2024-01-01\",\"end\":"
                                                    "\"2024-12-31\"},"),
                                       &id));
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM consent"),
                     before + 1);
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT start_ms, end_ms, provision,"
                                      " actor_institution_id FROM consent"
                                      " WHERE id = ?",
                                      "i", id));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_int_equal(rhis_db_column_int64(st, 0), 1704067200000LL);
    assert_int_equal(rhis_db_column_int64(st, 1), 1735689600000LL);
    assert_string_equal(rhis_db_column_text(st, 2), "permit");
    assert_int_equal(rhis_db_column_int64(st, 3), inst_sh);
    rhis_db_finalize(st);
}

/* ---- linking a resident to their record ---- */

static void
resident_link_and_token(void **state)
{
    (void)state;
    char err[256];
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO app_user (username,"
                              " password_hash, role, scope_area,"
                              " created_at) VALUES (?, 'x', ?, ?, 0)",
                              "sss", "wang_shufen", "resident", "220221"));
    RHIS_CHECK_OK(g_db,
                  rhis_db_run(g_db,
                              "INSERT INTO app_user (username,"
                              " password_hash, role, scope_area,"
                              " created_at) VALUES (?, 'x', ?, ?, 0)",
                              "sss", "planner_link", "planner", "220221"));
    assert_int_equal(rhis_auth_user_link_patient(g_db, "nobody", p_treated, err,
                                                 sizeof(err)),
                     RHIS_ENOTFOUND);
    assert_int_equal(rhis_auth_user_link_patient(g_db, "planner_link",
                                                 p_treated, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(rhis_auth_user_link_patient(g_db, "wang_shufen", 999999,
                                                 err, sizeof(err)),
                     RHIS_EINVAL);
    /* a merged record is linked through its survivor */
    assert_int_equal(rhis_auth_user_link_patient(g_db, "wang_shufen", p_merged,
                                                 err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "merged"));
    RHIS_CHECK_OK(g_db, rhis_auth_user_link_patient(
                            g_db, "wang_shufen", p_treated, err, sizeof(err)));

    /* the token check puts the link into the principal */
    const char *token = "unit-test-token-0123456789abcdefghijkl";
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO auth_token (token_hash,"
                                    " user_id, created_at, expires_at)"
                                    " SELECT ?, id, 0, ? FROM app_user"
                                    " WHERE username = ?",
                                    "sis", hex, (int64_t)time(NULL) + 600,
                                    "wang_shufen"));
    rhis_principal p;
    RHIS_CHECK_OK(g_db, rhis_auth_token_check(g_db, token, &p));
    assert_int_equal(p.role, RHIS_ROLE_RESIDENT);
    assert_int_equal(p.patient_id, p_treated);
    assert_int_equal(read_as(&p, p_merged, NULL), RHIS_OK);
    assert_int_equal(read_as(&p, p_jh, NULL), RHIS_EFORBIDDEN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(treated_vs_not_treated),
        cmocka_unit_test(consent_by_institution),
        cmocka_unit_test(consent_by_area),
        cmocka_unit_test(consent_outside_its_period),
        cmocka_unit_test(deny_wins),
        cmocka_unit_test(break_glass_needs_a_reason),
        cmocka_unit_test(resident_own_record_only),
        cmocka_unit_test(roles_that_never_see_records),
        cmocka_unit_test(area_duty_of_cdc_and_admin),
        cmocka_unit_test(cli_is_always_allowed_and_not_audited),
        cmocka_unit_test(audit_read_writes_one_event),
        cmocka_unit_test(search_scopes),
        cmocka_unit_test(consent_store_rules),
        cmocka_unit_test(resident_link_and_token),
    };
    return rhis_test_run_engines("ehr access", tests,
                                 sizeof(tests) / sizeof(tests[0]), group_setup,
                                 group_teardown);
}
