/*
 * card.c - notifiable-disease report cards (传染病报告卡): validation,
 * reporting and audit deadlines, versions, county-CDC audit (审核),
 * deletion with a reason, duplicate detection and merge.
 *
 * Why: the card is the legal unit of notifiable-disease reporting.  The
 * law fixes its deadlines (2 h for class A and 乙类甲管, 24 h otherwise),
 * the county CDC must audit each card within its own deadline, and a case
 * reported twice (two hospitals, a revisit) distorts every count the
 * detectors see.  Every change is a new version kept in
 * surveil_card_version and an audit event in the same transaction.
 *
 * The typed row surveil_card always holds the current version; the
 * version table holds each version's JSON (the shape the API serves).
 */
#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/patient.h"
#include "rhis/registry.h"
#include "surveil_int.h"

/* Occupations (人群分类) as printed on the card. */
static const struct {
    const char *code, *label;
} occupations[] = {
    {"kindergarten_child", "幼托儿童"},
    {"scattered_child", "散居儿童"},
    {"student", "学生(大中小学)"},
    {"teacher", "教师"},
    {"childcare_worker", "保育员及保姆"},
    {"food_service", "餐饮食品业"},
    {"public_service", "商业服务"},
    {"medical_staff", "医务人员"},
    {"worker", "工人"},
    {"migrant_worker", "民工"},
    {"farmer", "农民"},
    {"herdsman", "牧民"},
    {"fisherman", "渔(船)民"},
    {"office_staff", "干部职员"},
    {"retired", "离退人员"},
    {"homemaker", "家务及待业"},
    {"other", "其他"},
    {"unknown", "不详"},
};
#define NOCC (sizeof(occupations) / sizeof(occupations[0]))

static const char *const classifications[] = {
    RHIS_CARD_SUSPECTED, RHIS_CARD_CLINICAL, RHIS_CARD_CONFIRMED,
    RHIS_CARD_CARRIER, NULL};

const char *
rhis_card_occupation_at(size_t i, const char **label)
{
    if (i >= NOCC)
        return NULL;
    if (label != NULL)
        *label = occupations[i].label;
    return occupations[i].code;
}

int
rhis_card_occupation_valid(const char *code)
{
    for (size_t i = 0; code != NULL && i < NOCC; i++)
        if (strcmp(occupations[i].code, code) == 0)
            return 1;
    return 0;
}

static int
in_list(const char *s, const char *const *list)
{
    for (int i = 0; s != NULL && list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int64_t
rhis_card_deadline(const rhis_disease *d, int64_t diagnosis_ms)
{
    int hours = 2; /* the strictest when the disease is unknown */
    if (d != NULL && d->dclass != RHIS_CLASS_A && !d->managed_as_a)
        hours = d->deadline_hours;
    return diagnosis_ms + hours * SURV_HOUR_MS;
}

static const char *
class_name(int dclass)
{
    switch (dclass) {
    case RHIS_CLASS_A:
        return "A";
    case RHIS_CLASS_B:
        return "B";
    case RHIS_CLASS_C:
        return "C";
    default:
        return "other";
    }
}

/* ---- validation ---- */

/* What validation resolved, for the write. */
typedef struct checked {
    int64_t patient_id;
    char id_number[RHIS_IDNUM_LEN + 1];
    const rhis_disease *disease;
    char diag_day[11], onset_day[11];
    int64_t report_ms;
} checked;

typedef struct pat_row {
    int found, deleted;
    int64_t merged_into;
    char id_number[RHIS_IDNUM_LEN + 1];
} pat_row;

static void
fill_pat(rhis_stmt *st, void *out)
{
    pat_row *p = out;
    p->found = 1;
    p->deleted = (int)rhis_db_column_int64(st, 0);
    p->merged_into =
        rhis_db_column_is_null(st, 1) ? 0 : rhis_db_column_int64(st, 1);
    const char *n = rhis_db_column_text(st, 2);
    (void)snprintf(p->id_number, sizeof(p->id_number), "%s",
                   n != NULL ? n : "");
}

static rhis_status
check_patient(rhis_fhir_ctx *c, const rhis_card *in, checked *k)
{
    rhis_idnum idn;
    char why[200];
    if (in->id_number[0] != '\0' &&
        rhis_idnum_check_at(in->id_number, (time_t)(c->now_ms / 1000), &idn,
                            why, sizeof(why)) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.id_number", "%s", why);
    pat_row p = {0};
    rhis_status rc;
    if (in->patient_id > 0) {
        rc = rhis_db_query_row(c->db, fill_pat, &p,
                               "SELECT deleted, merged_into, id_number FROM"
                               " patient WHERE id = ?",
                               "i", in->patient_id);
        if (rc == RHIS_ENOTFOUND || (rc == RHIS_OK && p.deleted))
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.patient_id",
                                  "Patient/%lld does not exist",
                                  (long long)in->patient_id);
        if (rc != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read patients");
        if (p.merged_into != 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.patient_id",
                                  "Patient/%lld was merged into Patient/%lld;"
                                  " report on Patient/%lld",
                                  (long long)in->patient_id,
                                  (long long)p.merged_into,
                                  (long long)p.merged_into);
        k->patient_id = in->patient_id;
        if (in->id_number[0] != '\0' && p.id_number[0] != '\0' &&
            strcmp(p.id_number, idn.normalised) != 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.id_number",
                                  "card.id_number is not the ID number of "
                                  "Patient/%lld",
                                  (long long)in->patient_id);
        (void)snprintf(k->id_number, sizeof(k->id_number), "%s",
                       p.id_number[0] != '\0'
                           ? p.id_number
                           : (in->id_number[0] != '\0' ? idn.normalised : ""));
        return RHIS_OK;
    }
    if (in->id_number[0] == '\0')
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.patient_id",
                              "card.patient_id or card.id_number is required");
    rc = rhis_db_scalar_int64(c->db, &k->patient_id,
                              "SELECT id FROM patient WHERE id_number = ?"
                              " AND deleted = 0 AND merged_into IS NULL",
                              "s", idn.normalised);
    if (rc == RHIS_ENOTFOUND)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.id_number",
                              "no resident has this ID number: register the "
                              "resident first (POST /fhir/Patient) or give "
                              "card.patient_id");
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read patients");
    memcpy(k->id_number, idn.normalised, sizeof(k->id_number));
    return RHIS_OK;
}

static rhis_status
check_times(rhis_fhir_ctx *c, const rhis_card *in, checked *k, int revise)
{
    int64_t limit = c->now_ms + SURV_SKEW_MS;
    if (in->onset_ms == RHIS_SURV_NONE || in->onset_ms == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.onset",
                              "card.onset (发病日期) is required");
    if (in->diagnosis_ms == RHIS_SURV_NONE || in->diagnosis_ms == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.diagnosis",
                              "card.diagnosis (诊断时间) is required");
    if (in->onset_ms > limit)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.onset",
                              "card.onset lies in the future");
    if (in->diagnosis_ms > limit)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.diagnosis",
                              "card.diagnosis lies in the future");
    if (in->onset_ms > in->diagnosis_ms)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.onset",
                              "card.onset is after card.diagnosis");
    if (in->diagnosis_ms - in->onset_ms > (int64_t)3660 * SURV_DAY_MS)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.onset",
                              "card.onset is more than 10 years before "
                              "card.diagnosis");
    if (in->death_ms != RHIS_SURV_NONE) {
        if (in->death_ms > limit)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.death",
                                  "card.death lies in the future");
        /* a death is recorded by day: it may precede the diagnosis time
         * (post-mortem diagnosis) but not the onset day */
        char dday[11];
        rhis_surv_day_of(in->death_ms, dday);
        rhis_surv_day_of(in->onset_ms, k->onset_day);
        if (strcmp(dday, k->onset_day) < 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.death",
                                  "card.death is before card.onset");
    }
    if (!revise) {
        k->report_ms = in->report_ms != 0 ? in->report_ms : c->now_ms;
        if (k->report_ms > limit)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.report_time",
                                  "card.report_time lies in the future");
        if (k->report_ms < in->diagnosis_ms)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.report_time",
                                  "card.report_time is before "
                                  "card.diagnosis");
    } else if (k->report_ms < in->diagnosis_ms) {
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.diagnosis",
                              "card.diagnosis is after the card's report "
                              "time");
    }
    rhis_surv_day_of(in->onset_ms, k->onset_day);
    rhis_surv_day_of(in->diagnosis_ms, k->diag_day);
    return RHIS_OK;
}

typedef struct inst_row {
    char area[16];
    int active;
} inst_row;

static void
fill_inst(rhis_stmt *st, void *out)
{
    inst_row *r = out;
    const char *a = rhis_db_column_text(st, 0);
    (void)snprintf(r->area, sizeof(r->area), "%s", a != NULL ? a : "");
    r->active = (int)rhis_db_column_int64(st, 1);
}

/*
 * The institution exists and is active, and the caller may report for
 * it: a user of one institution reports for that institution only, an
 * area-scoped user for institutions in the area.  expr names the field.
 */
rhis_status
surv_check_institution(rhis_fhir_ctx *c,
                       int64_t id,
                       const char *expr,
                       char area[16])
{
    inst_row r = {0};
    if (id <= 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s is required", expr);
    rhis_status rc = rhis_db_query_row(c->db, fill_inst, &r,
                                       "SELECT area_code, active FROM"
                                       " institution WHERE id = ?",
                                       "i", id);
    if (rc == RHIS_ENOTFOUND || (rc == RHIS_OK && !r.active))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s: no active institution %lld", expr,
                              (long long)id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read institutions");
    if (c->user != NULL && c->user->scope_institution != 0 &&
        c->user->scope_institution != id)
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, expr,
                              "you report for institution %lld only",
                              (long long)c->user->scope_institution);
    if (c->user != NULL && c->user->scope_institution == 0 &&
        !surv_covers(c, r.area))
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, expr,
                              "institution %lld lies outside your area scope",
                              (long long)id);
    if (area != NULL)
        (void)snprintf(area, 16, "%s", r.area);
    return RHIS_OK;
}

/* An area code of `level` (0 = township or village) that exists. */
rhis_status
surv_check_area(rhis_fhir_ctx *c, const char *code, int level, const char *expr)
{
    int lv = rhis_area_code_level(code);
    if (level == 5 && lv != 5)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s must be a 12-digit village/community code",
                              expr);
    if (level == 0 && lv != 4 && lv != 5)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s must be a 9-digit township or 12-digit "
                              "village code",
                              expr);
    int64_t n = 0;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &n, "SELECT COUNT(*) FROM area WHERE code = ?", "s", code);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read areas");
    if (n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s: no area with code %.12s", expr, code);
    return RHIS_OK;
}

static rhis_status
check_card(rhis_fhir_ctx *c, const rhis_card *in, checked *k, int revise)
{
    rhis_status rc = surv_catalogue(c);
    if (rc != RHIS_OK)
        return rc;
    if (check_times(c, in, k, revise) != RHIS_OK ||
        check_patient(c, in, k) != RHIS_OK ||
        surv_check_area(c, in->area_code, 5, "card.area_code") != RHIS_OK)
        return c->err_status;
    if (!rhis_card_occupation_valid(in->occupation))
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.occupation",
                              "card.occupation '%.31s' is not an occupation "
                              "code (farmer, student, worker, ...: see "
                              "GET /api/v1/report-cards/vocabulary)",
                              in->occupation);
    if (!in_list(in->classification, classifications))
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.classification",
                              "card.classification must be suspected, "
                              "clinical, confirmed or carrier");
    if (rhis_disease_find(in->disease, k->diag_day, &k->disease) != RHIS_OK) {
        const rhis_disease *any;
        size_t n;
        const rhis_disease *all = rhis_disease_all(&n);
        any = NULL;
        for (size_t i = 0; i < n && any == NULL; i++)
            if (strcmp(all[i].code, in->disease) == 0)
                any = &all[i];
        if (any == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.disease",
                                  "card.disease '%.15s' is not in the "
                                  "notifiable-disease catalogue",
                                  in->disease);
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.disease",
                              "card.disease '%.15s' was not notifiable on "
                              "the diagnosis day %s",
                              in->disease, k->diag_day);
    }
    if (surv_check_institution(c, in->institution_id, "card.institution_id",
                               NULL) != RHIS_OK)
        return c->err_status;
    if (in->practitioner_id != 0) {
        int64_t n = 0;
        rc = rhis_db_scalar_int64(c->db, &n,
                                  "SELECT COUNT(*) FROM practitioner WHERE"
                                  " id = ? AND active = 1",
                                  "i", in->practitioner_id);
        if (rc != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL,
                                  "cannot read practitioners");
        if (n == 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, "card.practitioner_id",
                                  "no active practitioner %lld",
                                  (long long)in->practitioner_id);
    } else if (in->doctor[0] == '\0') {
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.doctor",
                              "the reporting doctor is required: "
                              "card.practitioner_id or card.doctor");
    }
    return RHIS_OK;
}

/* ---- rows, JSON and versions ---- */

static json_object *
time_or_null(rhis_stmt *st, int col)
{
    char buf[40];
    if (rhis_db_column_is_null(st, col))
        return NULL;
    surv_format_time(rhis_db_column_int64(st, col), buf, sizeof(buf));
    return json_object_new_string(buf);
}

static json_object *
text_or_null(rhis_stmt *st, int col)
{
    const char *s = rhis_db_column_text(st, col);
    return s != NULL && s[0] != '\0' ? json_object_new_string(s) : NULL;
}

static json_object *
int_or_null(rhis_stmt *st, int col)
{
    return rhis_db_column_is_null(st, col)
               ? NULL
               : json_object_new_int64(rhis_db_column_int64(st, col));
}

/*
 * A card row (columns of SURV_CARD_SELECT) as the API's JSON.  mask: the
 * ID number as in lists (220221********123X).  now_ms decides the
 * "audit_overdue" flag.
 */
json_object *
surv_card_json(rhis_stmt *st, int mask, int64_t now_ms)
{
    json_object *o = json_object_new_object();
    const char *status = rhis_db_column_text(st, 2);
    const char *dcode = rhis_db_column_text(st, 9);
    json_object_object_add(o, "id", int_or_null(st, 0));
    json_object_object_add(o, "version", int_or_null(st, 1));
    json_object_object_add(o, "status", text_or_null(st, 2));
    json_object_object_add(o, "patient_id", int_or_null(st, 3));
    const char *idn = rhis_db_column_text(st, 4);
    if (idn != NULL && idn[0] != '\0' && mask) {
        char m[RHIS_IDNUM_LEN + 1];
        rhis_idnum_mask(idn, m);
        json_object_object_add(o, "id_number", json_object_new_string(m));
    } else {
        json_object_object_add(o, "id_number", text_or_null(st, 4));
    }
    json_object_object_add(o, "area_code", text_or_null(st, 5));
    json_object_object_add(o, "area_name", text_or_null(st, 32));
    json_object_object_add(o, "address_line", text_or_null(st, 6));
    json_object_object_add(o, "occupation", text_or_null(st, 7));
    json_object_object_add(o, "classification", text_or_null(st, 8));
    json_object *d = json_object_new_object();
    json_object_object_add(d, "code", text_or_null(st, 9));
    const rhis_disease *dis = NULL;
    (void)rhis_disease_find(dcode, rhis_db_column_text(st, 30), &dis);
    json_object_object_add(
        d, "name", dis != NULL ? json_object_new_string(dis->name) : NULL);
    json_object_object_add(d, "class", text_or_null(st, 10));
    json_object_object_add(
        d, "managed_as_a",
        json_object_new_boolean(dis != NULL && dis->managed_as_a));
    json_object_object_add(o, "disease", d);
    json_object_object_add(o, "onset", time_or_null(st, 11));
    json_object_object_add(o, "diagnosis", time_or_null(st, 12));
    json_object_object_add(o, "death", time_or_null(st, 13));
    json_object_object_add(o, "institution_id", int_or_null(st, 14));
    json_object_object_add(o, "institution_name", text_or_null(st, 31));
    json_object_object_add(o, "practitioner_id", int_or_null(st, 15));
    json_object_object_add(o, "doctor", text_or_null(st, 16));
    json_object_object_add(o, "report_time", time_or_null(st, 17));
    json_object_object_add(o, "note", text_or_null(st, 18));
    json_object_object_add(o, "deadline", time_or_null(st, 19));
    json_object_object_add(
        o, "late", json_object_new_boolean(rhis_db_column_int64(st, 20) != 0));
    json_object_object_add(o, "audit_deadline", time_or_null(st, 21));
    json_object_object_add(o, "audited_time", time_or_null(st, 22));
    json_object_object_add(o, "audited_by", int_or_null(st, 23));
    json_object_object_add(
        o, "audit_late",
        rhis_db_column_is_null(st, 24)
            ? NULL
            : json_object_new_boolean(rhis_db_column_int64(st, 24) != 0));
    json_object_object_add(
        o, "audit_overdue",
        json_object_new_boolean(status != NULL &&
                                strcmp(status, RHIS_CARD_PENDING) == 0 &&
                                now_ms > rhis_db_column_int64(st, 21)));
    json_object_object_add(o, "audit_note", text_or_null(st, 25));
    json_object_object_add(o, "delete_reason", text_or_null(st, 26));
    json_object_object_add(o, "merged_into", int_or_null(st, 27));
    json_object_object_add(o, "created", time_or_null(st, 28));
    json_object_object_add(o, "updated", time_or_null(st, 29));
    return o;
}

/* Appends the current row of card id as version `version` (action:
 * create, revise, audit, reject, delete, merge). */
static rhis_status
snapshot(rhis_fhir_ctx *c, int64_t id, const char *action)
{
    rhis_stmt *st = NULL;
    rhis_status rc =
        rhis_db_query(c->db, &st, SURV_CARD_SELECT " WHERE c.id = ?", "i", id);
    if (rc == RHIS_OK && rhis_db_step(st) != RHIS_ROW)
        rc = RHIS_EIO;
    if (rc != RHIS_OK) {
        rhis_db_finalize(st);
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read card %lld",
                              (long long)id);
    }
    json_object *o = surv_card_json(st, 0, c->now_ms);
    int64_t version = rhis_db_column_int64(st, 1);
    char *status = rhis_arena_strdup(c->arena, rhis_db_column_text(st, 2));
    rhis_db_finalize(st);
    rc = rhis_db_run(c->db,
                     "INSERT INTO surveil_card_version (card_id, version, ts,"
                     " user_id, action, status, json)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     "iiiisss", id, version, c->now_ms,
                     c->user != NULL ? c->user->user_id : (int64_t)0, action,
                     status, rhis_json_print(o));
    json_object_put(o);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "cannot store version %lld of card %lld",
                              (long long)version, (long long)id);
    return RHIS_OK;
}

/* ---- duplicates and alerts ---- */

/*
 * Records a review pair for every other live card of the same person
 * (the patient or records merged into it) and disease whose diagnosis
 * lies within RHIS_CARD_DUP_DAYS; *first = the earliest such card.
 */
static rhis_status
find_duplicates(rhis_fhir_ctx *c,
                int64_t id,
                int64_t pid,
                const char *disease,
                int64_t diag_ms,
                int64_t *first)
{
    int64_t win = RHIS_CARD_DUP_DAYS * SURV_DAY_MS;
    rhis_stmt *st = NULL;
    *first = 0;
    rhis_status rc = rhis_db_query(
        c->db, &st,
        "SELECT id FROM surveil_card WHERE id <> ? AND disease_code = ?"
        " AND status NOT IN ('deleted','merged')"
        " AND patient_id IN (SELECT CAST(? AS BIGINT) UNION SELECT id FROM "
        "patient"
        "  WHERE merged_into = ?)"
        " AND diagnosis_ms BETWEEN ? AND ? ORDER BY diagnosis_ms, id",
        "isiiii", id, disease, pid, pid, diag_ms - win, diag_ms + win);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot look for duplicates");
    int64_t others[16];
    int n = 0;
    while ((rc = rhis_db_step(st)) == RHIS_ROW && n < 16)
        others[n++] = rhis_db_column_int64(st, 0);
    rhis_db_finalize(st);
    if (rc != RHIS_ROW && rc != RHIS_DONE)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot look for duplicates");
    for (int i = 0; i < n; i++) {
        int64_t a = others[i] < id ? others[i] : id;
        int64_t b = others[i] < id ? id : others[i];
        rc = rhis_db_run(c->db,
                         "INSERT INTO surveil_card_dup (card_a, card_b,"
                         " created_ms) VALUES (?, ?, ?)"
                         " ON CONFLICT (card_a, card_b) DO NOTHING",
                         "iii", a, b, c->now_ms);
        if (rc != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL,
                                  "cannot record a duplicate pair");
    }
    if (n > 0)
        *first = others[0];
    return RHIS_OK;
}

/* A fixed-threshold disease: one alert row per card and disease. */
static rhis_status
fixed_alert(rhis_fhir_ctx *c,
            int64_t id,
            const rhis_disease *d,
            const char *area,
            const char *day,
            int64_t *alert_id)
{
    *alert_id = 0;
    if (!d->fixed_threshold)
        return RHIS_OK;
    int64_t n = 0;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &n,
        "SELECT COUNT(*) FROM surveil_alert WHERE card_id = ? AND"
        " disease_code = ?",
        "is", id, d->code);
    if (rc == RHIS_OK && n > 0)
        return RHIS_OK;
    char county[7];
    (void)snprintf(county, sizeof(county), "%.6s", area);
    if (rc == RHIS_OK)
        rc = rhis_db_scalar_int64(
            c->db, alert_id,
            "INSERT INTO surveil_alert (kind, disease_code, card_id,"
            " area_code, county_code, day, created_ms)"
            " VALUES ('fixed_threshold', ?, ?, ?, ?, ?, ?) RETURNING id",
            "sisssi", d->code, id, area, county, day, c->now_ms);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "cannot record the fixed-threshold alert");
    return RHIS_OK;
}

/* ---- create and revise ---- */

static void
result_of(rhis_card_result *out,
          int64_t id,
          int64_t version,
          int64_t deadline,
          int late,
          int64_t audit_deadline,
          int64_t dup,
          int64_t alert)
{
    if (out == NULL)
        return;
    out->id = id;
    out->version = version;
    out->deadline_ms = deadline;
    out->late = late;
    out->audit_deadline_ms = audit_deadline;
    out->duplicate_of = dup;
    out->alert_id = alert;
}

static const char *
opt(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

rhis_status
rhis_card_create(rhis_fhir_ctx *c, const rhis_card *in, rhis_card_result *out)
{
    checked k;
    memset(&k, 0, sizeof(k));
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (check_card(c, in, &k, 0) != RHIS_OK)
        return c->err_status;
    const rhis_disease *d = k.disease;
    int64_t deadline = rhis_card_deadline(d, in->diagnosis_ms);
    int late = k.report_ms > deadline;
    /* the county CDC audits within the same 2 h / 24 h of receiving the
     * card (docs/internals/surveil.md) */
    int64_t audit_deadline = k.report_ms + (deadline - in->diagnosis_ms);
    char town[10], county[7];
    (void)snprintf(town, sizeof(town), "%.9s", in->area_code);
    (void)snprintf(county, sizeof(county), "%.6s", in->area_code);
    int own;
    rhis_status rc = surv_tx_begin(c, &own);
    if (rc != RHIS_OK)
        return rc;
    int64_t id = 0, dup = 0, alert = 0;
    rc = rhis_db_scalar_int64(
        c->db, &id,
        "INSERT INTO surveil_card (version, status, patient_id, id_number,"
        " area_code, township_code, county_code, address_line, occupation,"
        " classification, disease_code, disease_class, onset_ms, onset_day,"
        " diagnosis_ms, diagnosis_day, death_ms, institution_id,"
        " practitioner_id, doctor, report_ms, note, deadline_ms, late,"
        " audit_deadline_ms, created_ms, created_by, updated_ms)"
        " VALUES (1, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " CASE WHEN ? = 1 THEN NULL ELSE CAST(? AS BIGINT) END, ?, "
        "NULLIF(CAST(? AS BIGINT), 0), ?, ?, ?, ?,"
        " ?, ?, ?, NULLIF(CAST(? AS BIGINT), 0), ?) RETURNING id",
        "isssssssssisisiiiisisiiiiii", k.patient_id, opt(k.id_number),
        in->area_code, town, county, opt(in->address_line), in->occupation,
        in->classification, d->code, class_name(d->dclass), in->onset_ms,
        k.onset_day, in->diagnosis_ms, k.diag_day,
        (int64_t)(in->death_ms == RHIS_SURV_NONE),
        in->death_ms != RHIS_SURV_NONE ? in->death_ms : (int64_t)0,
        in->institution_id, in->practitioner_id, opt(in->doctor), k.report_ms,
        opt(in->note), deadline, (int64_t)late, audit_deadline, c->now_ms,
        c->user != NULL ? c->user->user_id : (int64_t)0, c->now_ms);
    if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the card");
    if (rc == RHIS_OK)
        rc = snapshot(c, id, "create");
    if (rc == RHIS_OK)
        rc = find_duplicates(c, id, k.patient_id, d->code, in->diagnosis_ms,
                             &dup);
    if (rc == RHIS_OK)
        rc = fixed_alert(c, id, d, in->area_code, k.diag_day, &alert);
    if (rc == RHIS_OK)
        rc = surv_audit(c, "C", "create", "ReportCard", id, k.patient_id,
                        late ? "late" : NULL);
    rc = surv_tx_end(c, own, rc);
    if (rc != RHIS_OK)
        return c->err_status != RHIS_OK ? c->err_status : rc;
    c->last_patient_id = k.patient_id;
    result_of(out, id, 1, deadline, late, audit_deadline, dup, alert);
    return RHIS_OK;
}

typedef struct card_state {
    int64_t version, patient_id, report_ms, audit_deadline_ms;
    char status[16], area[16], disease[16];
    int64_t diagnosis_ms;
} card_state;

static void
fill_state(rhis_stmt *st, void *out)
{
    card_state *s = out;
    s->version = rhis_db_column_int64(st, 0);
    (void)snprintf(s->status, sizeof(s->status), "%s",
                   rhis_db_column_text(st, 1));
    s->patient_id = rhis_db_column_int64(st, 2);
    s->report_ms = rhis_db_column_int64(st, 3);
    (void)snprintf(s->area, sizeof(s->area), "%s", rhis_db_column_text(st, 4));
    (void)snprintf(s->disease, sizeof(s->disease), "%s",
                   rhis_db_column_text(st, 5));
    s->audit_deadline_ms = rhis_db_column_int64(st, 6);
    s->diagnosis_ms = rhis_db_column_int64(st, 7);
}

/*
 * Loads the state of card id and checks the caller may act on it: an
 * institution's user on its own cards, an area-scoped user on cards whose
 * address or institution is in the area.  live: deleted and merged cards
 * are a conflict.
 */
static rhis_status
load_state(rhis_fhir_ctx *c, int64_t id, card_state *s, int live)
{
    rhis_status rc =
        rhis_db_query_row(c->db, fill_state, s,
                          "SELECT c.version, c.status, c.patient_id,"
                          " c.report_ms, c.area_code, c.disease_code,"
                          " c.audit_deadline_ms, c.diagnosis_ms"
                          " FROM surveil_card c WHERE c.id = ?",
                          "i", id);
    if (rc == RHIS_ENOTFOUND)
        return rhis_fhir_fail(c, RHIS_ENOTFOUND, NULL,
                              "report card %lld not found", (long long)id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read report card %lld",
                              (long long)id);
    if (c->user != NULL) {
        int64_t inst = 0;
        char iarea[16] = "";
        rc = rhis_db_scalar_int64(c->db, &inst,
                                  "SELECT institution_id FROM surveil_card"
                                  " WHERE id = ?",
                                  "i", id);
        if (rc == RHIS_OK && c->user->scope_institution == 0) {
            rhis_stmt *st = NULL;
            if (rhis_db_query(c->db, &st,
                              "SELECT area_code FROM institution WHERE id = ?",
                              "i", inst) == RHIS_OK &&
                rhis_db_step(st) == RHIS_ROW)
                (void)snprintf(iarea, sizeof(iarea), "%s",
                               rhis_db_column_text(st, 0));
            rhis_db_finalize(st);
        }
        int ok = c->user->scope_institution != 0
                     ? inst == c->user->scope_institution
                     : (surv_covers(c, s->area) || surv_covers(c, iarea));
        if (!ok)
            return rhis_fhir_fail(c, RHIS_EFORBIDDEN, NULL,
                                  "report card %lld is outside your scope",
                                  (long long)id);
    }
    if (live && (strcmp(s->status, RHIS_CARD_DELETED) == 0 ||
                 strcmp(s->status, RHIS_CARD_MERGED) == 0))
        return rhis_fhir_fail(c, RHIS_ECONFLICT, NULL, "report card %lld is %s",
                              (long long)id, s->status);
    return RHIS_OK;
}

rhis_status
rhis_card_revise(rhis_fhir_ctx *c,
                 int64_t id,
                 const rhis_card *in,
                 int64_t if_version,
                 rhis_card_result *out)
{
    card_state s;
    checked k;
    memset(&k, 0, sizeof(k));
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    rhis_status rc = load_state(c, id, &s, 1);
    if (rc != RHIS_OK)
        return rc;
    if (if_version > 0 && if_version != s.version)
        return rhis_fhir_fail(c, RHIS_EPRECOND, NULL,
                              "report card %lld is at version %lld, not %lld",
                              (long long)id, (long long)s.version,
                              (long long)if_version);
    k.report_ms = s.report_ms; /* the report time is the first one */
    if (check_card(c, in, &k, 1) != RHIS_OK)
        return c->err_status;
    if (k.patient_id != s.patient_id)
        return rhis_fhir_fail(c, RHIS_EINVAL, "card.patient_id",
                              "a revision cannot change the patient; delete "
                              "the card and report a new one");
    const rhis_disease *d = k.disease;
    int64_t deadline = rhis_card_deadline(d, in->diagnosis_ms);
    int late = s.report_ms > deadline;
    int64_t audit_deadline = c->now_ms + (deadline - in->diagnosis_ms);
    char town[10], county[7];
    (void)snprintf(town, sizeof(town), "%.9s", in->area_code);
    (void)snprintf(county, sizeof(county), "%.6s", in->area_code);
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK)
        return rc;
    int64_t dup = 0, alert = 0;
    rc = rhis_db_run(
        c->db,
        "UPDATE surveil_card SET version = version + 1, status = 'pending',"
        " area_code = ?, township_code = ?, county_code = ?,"
        " address_line = ?, occupation = ?, classification = ?,"
        " disease_code = ?, disease_class = ?, onset_ms = ?, onset_day = ?,"
        " diagnosis_ms = ?, diagnosis_day = ?,"
        " death_ms = CASE WHEN ? = 1 THEN NULL ELSE CAST(? AS BIGINT) END,"
        " institution_id = ?, practitioner_id = NULLIF(CAST(? AS BIGINT), 0), "
        "doctor = ?,"
        " note = ?, deadline_ms = ?, late = ?, audit_deadline_ms = ?,"
        " audited_ms = NULL, audited_by = NULL, audit_late = NULL,"
        " audit_note = NULL, updated_ms = ? WHERE id = ? AND version = ?",
        "ssssssssisisiiiissiiiiii", in->area_code, town, county,
        opt(in->address_line), in->occupation, in->classification, d->code,
        class_name(d->dclass), in->onset_ms, k.onset_day, in->diagnosis_ms,
        k.diag_day, (int64_t)(in->death_ms == RHIS_SURV_NONE),
        in->death_ms != RHIS_SURV_NONE ? in->death_ms : (int64_t)0,
        in->institution_id, in->practitioner_id, opt(in->doctor), opt(in->note),
        deadline, (int64_t)late, audit_deadline, c->now_ms, id, s.version);
    if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        rc = rhis_fhir_fail(c, RHIS_EPRECOND, NULL,
                            "report card %lld changed meanwhile; read it "
                            "again",
                            (long long)id);
    else if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the card");
    if (rc == RHIS_OK)
        rc = snapshot(c, id, "revise");
    if (rc == RHIS_OK)
        rc = find_duplicates(c, id, k.patient_id, d->code, in->diagnosis_ms,
                             &dup);
    if (rc == RHIS_OK)
        rc = fixed_alert(c, id, d, in->area_code, k.diag_day, &alert);
    if (rc == RHIS_OK)
        rc = surv_audit(c, "U", "revise", "ReportCard", id, k.patient_id, NULL);
    rc = surv_tx_end(c, own, rc);
    if (rc != RHIS_OK)
        return c->err_status != RHIS_OK ? c->err_status : rc;
    c->last_patient_id = k.patient_id;
    result_of(out, id, s.version + 1, deadline, late, audit_deadline, dup,
              alert);
    return RHIS_OK;
}

/* ---- audit, delete, merge ---- */

static rhis_status
check_note(rhis_fhir_ctx *c, const char *note, int required, const char *what)
{
    size_t n = note != NULL ? strlen(note) : 0;
    if (required && n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, what, "%s is required", what);
    if (n > 500)
        return rhis_fhir_fail(c, RHIS_EINVAL, what,
                              "%s is longer than 500 bytes", what);
    return RHIS_OK;
}

rhis_status
rhis_card_audit(rhis_fhir_ctx *c,
                int64_t id,
                const char *decision,
                const char *note)
{
    int reject = decision != NULL && strcmp(decision, RHIS_CARD_REJECTED) == 0;
    if (decision == NULL ||
        (!reject && strcmp(decision, RHIS_CARD_AUDITED) != 0))
        return rhis_fhir_fail(c, RHIS_EINVAL, "decision",
                              "decision must be audited or rejected");
    if (check_note(c, note, reject, "note") != RHIS_OK)
        return c->err_status;
    if (c->user != NULL &&
        (c->user->role & (RHIS_ROLE_CDC | RHIS_ROLE_ADMIN)) == 0)
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, NULL,
                              "only CDC staff audit report cards");
    card_state s;
    rhis_status rc = load_state(c, id, &s, 1);
    if (rc != RHIS_OK)
        return rc;
    if (strcmp(s.status, RHIS_CARD_PENDING) != 0)
        return rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                              "report card %lld is %s, not pending",
                              (long long)id, s.status);
    int late = c->now_ms > s.audit_deadline_ms;
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK)
        return rc;
    rc = rhis_db_run(c->db,
                     "UPDATE surveil_card SET version = version + 1,"
                     " status = ?, audited_ms = ?, audited_by = NULLIF(CAST(? "
                     "AS BIGINT), 0),"
                     " audit_late = ?, audit_note = ?, updated_ms = ?"
                     " WHERE id = ? AND version = ?",
                     "siiisiii", decision, c->now_ms,
                     c->user != NULL ? c->user->user_id : (int64_t)0,
                     (int64_t)late, opt(note), c->now_ms, id, s.version);
    if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        rc =
            rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                           "report card %lld changed meanwhile", (long long)id);
    else if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the audit");
    if (rc == RHIS_OK)
        rc = snapshot(c, id, reject ? "reject" : "audit");
    if (rc == RHIS_OK)
        rc = surv_audit(c, "U", reject ? "card-reject" : "card-audit",
                        "ReportCard", id, s.patient_id,
                        late ? "audit late" : NULL);
    rc = surv_tx_end(c, own, rc);
    return rc != RHIS_OK ? (c->err_status != RHIS_OK ? c->err_status : rc)
                         : RHIS_OK;
}

rhis_status
rhis_card_delete(rhis_fhir_ctx *c, int64_t id, const char *reason)
{
    if (check_note(c, reason, 1, "reason") != RHIS_OK)
        return c->err_status;
    card_state s;
    rhis_status rc = load_state(c, id, &s, 1);
    if (rc != RHIS_OK)
        return rc;
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK)
        return rc;
    rc = rhis_db_run(c->db,
                     "UPDATE surveil_card SET version = version + 1,"
                     " status = 'deleted', delete_reason = ?, updated_ms = ?"
                     " WHERE id = ? AND version = ?",
                     "siii", reason, c->now_ms, id, s.version);
    if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        rc =
            rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                           "report card %lld changed meanwhile", (long long)id);
    else if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot delete the card");
    if (rc == RHIS_OK)
        rc = snapshot(c, id, "delete");
    if (rc == RHIS_OK)
        rc = surv_audit(c, "D", "delete", "ReportCard", id, s.patient_id, NULL);
    rc = surv_tx_end(c, own, rc);
    return rc != RHIS_OK ? (c->err_status != RHIS_OK ? c->err_status : rc)
                         : RHIS_OK;
}

/* The root record of a patient (its survivor when merged). */
static int64_t
patient_root(rhis_fhir_ctx *c, int64_t pid)
{
    int64_t m = 0;
    if (rhis_db_scalar_int64(c->db, &m,
                             "SELECT COALESCE(merged_into, id) FROM patient"
                             " WHERE id = ?",
                             "i", pid) != RHIS_OK)
        return pid;
    return m;
}

rhis_status
rhis_card_merge(rhis_fhir_ctx *c, int64_t keep, int64_t dup, const char *note)
{
    if (keep == dup)
        return rhis_fhir_fail(c, RHIS_EINVAL, "into",
                              "a card cannot be merged into itself");
    if (check_note(c, note, 0, "note") != RHIS_OK)
        return c->err_status;
    card_state k, d;
    rhis_status rc = load_state(c, keep, &k, 1);
    if (rc == RHIS_OK)
        rc = load_state(c, dup, &d, 1);
    if (rc != RHIS_OK)
        return rc;
    if (strcmp(k.disease, d.disease) != 0 ||
        patient_root(c, k.patient_id) != patient_root(c, d.patient_id))
        return rhis_fhir_fail(c, RHIS_EINVAL, "into",
                              "cards %lld and %lld are not about the same "
                              "person and disease",
                              (long long)keep, (long long)dup);
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK)
        return rc;
    int64_t a = keep < dup ? keep : dup, b = keep < dup ? dup : keep;
    rc = rhis_db_run(c->db,
                     "UPDATE surveil_card SET version = version + 1,"
                     " status = 'merged', merged_into = ?, updated_ms = ?"
                     " WHERE id = ? AND version = ?",
                     "iiii", keep, c->now_ms, dup, d.version);
    if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        rc = rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                            "report card %lld changed meanwhile",
                            (long long)dup);
    else if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot merge the cards");
    if (rc == RHIS_OK &&
        rhis_db_run(c->db,
                    "INSERT INTO surveil_card_dup (card_a, card_b,"
                    " created_ms) VALUES (?, ?, ?)"
                    " ON CONFLICT (card_a, card_b) DO NOTHING",
                    "iii", a, b, c->now_ms) != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot record the merge");
    if (rc == RHIS_OK &&
        rhis_db_run(c->db,
                    "UPDATE surveil_card_dup SET status = 'merged',"
                    " decided_ms = ?, decided_by = NULLIF(CAST(? AS BIGINT), "
                    "0), note = ?"
                    " WHERE card_a = ? AND card_b = ? AND status = 'open'",
                    "iisii", c->now_ms,
                    c->user != NULL ? c->user->user_id : (int64_t)0, opt(note),
                    a, b) != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot record the merge");
    else if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        /* someone kept the pair apart meanwhile: do not overrule it */
        rc = rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                            "cards %lld and %lld were judged not to be "
                            "duplicates",
                            (long long)a, (long long)b);
    if (rc == RHIS_OK)
        rc = snapshot(c, dup, "merge");
    if (rc == RHIS_OK)
        rc = surv_audit(c, "U", "merge", "ReportCard", dup, d.patient_id, NULL);
    rc = surv_tx_end(c, own, rc);
    return rc != RHIS_OK ? (c->err_status != RHIS_OK ? c->err_status : rc)
                         : RHIS_OK;
}

rhis_status
rhis_card_not_duplicate(rhis_fhir_ctx *c,
                        int64_t a,
                        int64_t b,
                        const char *note)
{
    /* keeping two cards apart is a judgement: say why */
    if (check_note(c, note, 1, "note") != RHIS_OK)
        return c->err_status;
    card_state sa, sb;
    rhis_status rc = load_state(c, a, &sa, 0);
    if (rc == RHIS_OK)
        rc = load_state(c, b, &sb, 0);
    if (rc != RHIS_OK)
        return rc;
    int64_t lo = a < b ? a : b, hi = a < b ? b : a;
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK)
        return rc;
    rc = rhis_db_run(
        c->db,
        "UPDATE surveil_card_dup SET status = 'separate',"
        " decided_ms = ?, decided_by = NULLIF(CAST(? AS BIGINT), 0), note = ?"
        " WHERE card_a = ? AND card_b = ? AND status = 'open'",
        "iisii", c->now_ms, c->user != NULL ? c->user->user_id : (int64_t)0,
        opt(note), lo, hi);
    if (rc == RHIS_OK && rhis_db_changes(c->db) != 1)
        rc = rhis_fhir_fail(c, RHIS_ECONFLICT, NULL,
                            "cards %lld and %lld are not an open duplicate "
                            "pair",
                            (long long)lo, (long long)hi);
    else if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the decision");
    if (rc == RHIS_OK)
        rc = surv_audit(c, "U", "not-duplicate", "ReportCard", lo,
                        sa.patient_id, NULL);
    rc = surv_tx_end(c, own, rc);
    return rc != RHIS_OK ? (c->err_status != RHIS_OK ? c->err_status : rc)
                         : RHIS_OK;
}
