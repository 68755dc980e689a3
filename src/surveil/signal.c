/*
 * signal.c - the signal store and its workflow: create (idempotent),
 * verify, dismiss, escalate, raise a warning; lists, detail and KPIs.
 *
 * Why: the statistics only propose; CDC duty staff decide, under a
 * deadline, and the platform must be able to show afterwards who decided
 * what and how fast (CIDARS publishes response rate and median response
 * time).  So every change is a guarded UPDATE (the expected state in the
 * WHERE clause: two people answering at once cannot both win), a row of
 * signal_event and an audit event, all in the caller's transaction.
 *
 * The rules (deadlines, escalation levels, severity) are in warn.h and
 * docs/surveillance.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/audit.h"
#include "rhis/fhir.h"
#include "rhis/json.h"
#include "rhis/text.h"
#include "rhis/warn.h"
#include "warn_int.h"

/* ---- days and clocks ---- */

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
warn_day_parse(const char *s, int64_t *days)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
            (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        return -1;
    int max = mdays[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
    if (d > max)
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

void
warn_day_format(int64_t days, char *out, size_t len)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(out, len, "%04lld-%02lld-%02lld", (long long)y, (long long)m,
             (long long)d);
}

int64_t
warn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- rules ---- */

static int
one_of(const char *s, const char *const *set)
{
    for (; s != NULL && *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static const char *const KINDS[] = {"fixed", "temporal", "spatial", "fused",
                                    NULL};
static const char *const SUBJECTS[] = {"disease", "channel", "syndrome", NULL};
static const char *const SEVERITIES[] = {"red", "orange", "yellow", "blue",
                                         NULL};
static const char *const WARNING_TYPES[] = {"health_risk", "alert_notice",
                                            "decision_advice", NULL};

const char *
rhis_signal_severity(const char *kind,
                     const char *subject_type,
                     double observed,
                     double upper,
                     int sources)
{
    if (kind == NULL)
        return "yellow";
    if (strcmp(kind, "fixed") == 0)
        return "red";
    if (strcmp(kind, "fused") == 0)
        return sources >= 3 ? "red" : "orange";
    if (strcmp(kind, "spatial") == 0)
        return "orange";
    if (subject_type != NULL && strcmp(subject_type, "disease") != 0)
        return "blue";
    if (!isnan(upper) && upper > 0 && observed >= 2.0 * upper)
        return "orange";
    return "yellow";
}

static int64_t
deadline_span(const char *kind)
{
    return strcmp(kind, "fixed") == 0 ? RHIS_SIGNAL_DEADLINE_FIXED_MS
                                      : RHIS_SIGNAL_DEADLINE_MS;
}

/*
 * The code of the CDC a signal of area code goes to after `level`
 * escalations: level 0 is the county (or the area itself above county),
 * each escalation the next level up.  "" when there is none.
 */
static void
level_code(const char *code, int level, char *out, size_t len)
{
    static const size_t lens[] = {6, 4, 2};
    size_t n = strlen(code);
    int first = 0;
    while (first < 3 && lens[first] > n)
        first++;
    int at = first + level;
    if (first >= 3 || at >= 3) {
        snprintf(out, len, "%s", "");
        return;
    }
    snprintf(out, len, "%.*s", (int)lens[at], code);
}

static int
note_ok(const char *s)
{
    return s != NULL && s[strspn(s, " \t\r\n")] != '\0' &&
           strlen(s) <= RHIS_SIGNAL_MAX_NOTE && rhis_utf8_valid(s, strlen(s));
}

/* ---- audit and events ---- */

static rhis_status
audit(rhis_db *db,
      const rhis_actor *who,
      const char *action,
      const char *operation,
      int64_t id,
      int outcome)
{
    char rid[24];
    snprintf(rid, sizeof(rid), "%lld", (long long)id);
    rhis_audit_event ev = {
        .user_id = who != NULL ? who->user_id : 0,
        .username =
            who != NULL && who->username != NULL ? who->username : "system",
        .role = who != NULL ? who->role : NULL,
        .action = action,
        .operation = operation,
        .resource_type = "Signal",
        .resource_id = rid,
        .outcome = outcome,
        .address = who != NULL ? who->address : NULL,
        .request_id = who != NULL ? who->request_id : NULL,
        .detail = NULL,
    };
    return rhis_audit_write(db, &ev);
}

static rhis_status
event(rhis_db *db,
      int64_t id,
      const rhis_actor *who,
      const char *action,
      const char *from,
      const char *to,
      const char *note,
      int64_t now_ms)
{
    int64_t uid = who != NULL ? who->user_id : 0;
    const char *uname =
        who != NULL && who->username != NULL ? who->username : "system";
    static const char sql[] =
        "INSERT INTO signal_event (signal_id, ts, user_id, username, action,"
        " from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    if (uid != 0)
        return rhis_db_run(db, sql, "iiisssss", id, now_ms, uid, uname, action,
                           from, to, note);
    return rhis_db_run(db, sql, "iinsssss", id, now_ms, uname, action, from, to,
                       note);
}

/* ---- create ---- */

static rhis_status
fail(char *err, size_t errlen, rhis_status rc, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
    return rc;
}

static rhis_status
check_spec(rhis_db *db, const rhis_signal_spec *s, char *err, size_t errlen)
{
    int64_t d;
    if (!one_of(s->kind, KINDS))
        return fail(err, errlen, RHIS_EINVAL,
                    "kind must be fixed, temporal, spatial or fused");
    if (!one_of(s->subject_type, SUBJECTS))
        return fail(err, errlen, RHIS_EINVAL,
                    "subject type must be disease, channel or syndrome");
    if (s->method == NULL || s->method[0] == '\0' || strlen(s->method) > 64 ||
        s->subject == NULL || s->subject[0] == '\0' ||
        strlen(s->subject) > 64 ||
        (s->key_extra != NULL && strlen(s->key_extra) > 64))
        return fail(err, errlen, RHIS_EINVAL,
                    "method and subject are required (at most 64 bytes)");
    if (warn_day_parse(s->day, &d) != 0 ||
        (s->period_start != NULL && warn_day_parse(s->period_start, &d) != 0))
        return fail(err, errlen, RHIS_EINVAL,
                    "day and period start must be dates YYYY-MM-DD");
    if (isnan(s->observed) || s->observed < 0 || isinf(s->observed) ||
        isinf(s->expected) || isinf(s->upper))
        return fail(err, errlen, RHIS_EINVAL,
                    "observed must be a finite number >= 0, expected and "
                    "threshold finite or absent");
    if (s->severity != NULL && !one_of(s->severity, SEVERITIES))
        return fail(err, errlen, RHIS_EINVAL,
                    "severity must be red, orange, yellow or blue");
    if (s->evidence != NULL) {
        json_object *o = NULL;
        char jerr[80];
        if (rhis_json_parse(s->evidence, strlen(s->evidence), 32, &o, jerr,
                            sizeof(jerr)) != RHIS_OK ||
            !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            return fail(err, errlen, RHIS_EINVAL,
                        "evidence must be a JSON object");
        }
        json_object_put(o);
    }
    int64_t n = 0;
    rhis_status rc = rhis_db_scalar_int64(
        db, &n, "SELECT COUNT(*) FROM area WHERE code = ?", "s", s->area_code);
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot read the areas");
    if (n == 0)
        return fail(err, errlen, RHIS_EINVAL, "unknown area code");
    return RHIS_OK;
}

static void
bind_opt_double(rhis_stmt *st, int idx, double v)
{
    if (isnan(v))
        rhis_db_bind_null(st, idx);
    else
        rhis_db_bind_double(st, idx, v);
}

rhis_status
rhis_signal_put(rhis_db *db,
                const rhis_signal_spec *s,
                const rhis_actor *who,
                int64_t now_ms,
                int64_t *id,
                int *created,
                char *err,
                size_t errlen)
{
    *id = 0;
    *created = 0;
    rhis_status rc = check_spec(db, s, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char key[400];
    int kn = snprintf(key, sizeof(key), "%s|%s|%s|%s|%s|%s|%s", s->kind,
                      s->method, s->subject_type, s->subject, s->area_code,
                      s->day, s->key_extra != NULL ? s->key_extra : "");
    if (kn < 0 || (size_t)kn >= sizeof(key))
        return fail(err, errlen, RHIS_EINVAL, "signal key too long");
    const char *sev = s->severity != NULL
                          ? s->severity
                          : rhis_signal_severity(s->kind, s->subject_type,
                                                 s->observed, s->upper, 0);
    rhis_stmt *st = NULL;
    rc = rhis_db_prepare(
        db,
        "INSERT INTO signal (skey, kind, method, subject_type, subject,"
        " area_code, day, period_start, observed, expected, upper_bound,"
        " severity, evidence, created_ms, deadline_ms, subject_name, pushed,"
        " state)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new')"
        " ON CONFLICT (skey) DO NOTHING RETURNING id",
        &st);
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot store the signal");
    rhis_db_bind_text(st, 1, key);
    rhis_db_bind_text(st, 2, s->kind);
    rhis_db_bind_text(st, 3, s->method);
    rhis_db_bind_text(st, 4, s->subject_type);
    rhis_db_bind_text(st, 5, s->subject);
    rhis_db_bind_text(st, 6, s->area_code);
    rhis_db_bind_text(st, 7, s->day);
    rhis_db_bind_text(st, 8, s->period_start);
    rhis_db_bind_double(st, 9, s->observed);
    bind_opt_double(st, 10, s->expected);
    bind_opt_double(st, 11, s->upper);
    rhis_db_bind_text(st, 12, sev);
    rhis_db_bind_text(st, 13, s->evidence != NULL ? s->evidence : "{}");
    rhis_db_bind_int64(st, 14, now_ms);
    if (s->background)
        rhis_db_bind_null(st, 15); /* evidence: no deadline */
    else
        rhis_db_bind_int64(st, 15, now_ms + deadline_span(s->kind));
    rhis_db_bind_text(st, 16, s->subject_name);
    rhis_db_bind_int64(st, 17, s->background ? 0 : 1);
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        *id = rhis_db_column_int64(st, 0);
        *created = 1;
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot store the signal");
    if (!*created) {
        rc = rhis_db_scalar_int64(
            db, id, "SELECT id FROM signal WHERE skey = ?", "s", key);
        return rc == RHIS_OK ? RHIS_OK
                             : fail(err, errlen, rc, "cannot read the signal");
    }
    rc = event(db, *id, who, "created", NULL, "new", NULL, now_ms);
    if (rc == RHIS_OK)
        rc = audit(db, who, "C", "signal-create", *id, 201);
    return rc == RHIS_OK ? RHIS_OK
                         : fail(err, errlen, rc, "cannot record the signal");
}

/* ---- workflow ---- */

typedef struct sig_state {
    char state[16];
    char kind[16];
    char area[16];
    int escalated;
    int64_t responded;
    int pushed;
} sig_state;

static void
fill_state(rhis_stmt *st, void *out)
{
    sig_state *s = out;
    const char *t = rhis_db_column_text(st, 0);
    snprintf(s->state, sizeof(s->state), "%s", t != NULL ? t : "");
    t = rhis_db_column_text(st, 1);
    snprintf(s->kind, sizeof(s->kind), "%s", t != NULL ? t : "");
    t = rhis_db_column_text(st, 2);
    snprintf(s->area, sizeof(s->area), "%s", t != NULL ? t : "");
    s->escalated = (int)rhis_db_column_int64(st, 3);
    s->responded = rhis_db_column_int64(st, 4);
    s->pushed = (int)rhis_db_column_int64(st, 5);
}

static rhis_status
load_state(rhis_db *db, int64_t id, sig_state *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    rhis_status rc =
        rhis_db_query_row(db, fill_state, s,
                          "SELECT state, kind, area_code, escalated,"
                          " COALESCE(responded_ms, 0), pushed FROM signal"
                          " WHERE id = ?",
                          "i", id);
    if (rc == RHIS_ENOTFOUND) {
        snprintf(err, errlen, "signal %lld not found", (long long)id);
        return rc;
    }
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot read the signal");
    return RHIS_OK;
}

/* Moves id from state `from` to `to`, counting the first response.  The
 * guard on `from` makes a concurrent answer lose with RHIS_ECONFLICT. */
static rhis_status
move(rhis_db *db,
     int64_t id,
     const char *from,
     const char *to,
     const rhis_actor *who,
     int64_t now_ms,
     char *err,
     size_t errlen)
{
    rhis_status rc = rhis_db_run(
        db,
        "UPDATE signal SET state = ?,"
        " responded_by = CASE WHEN responded_ms IS NULL THEN ?"
        "  ELSE responded_by END,"
        " responded_ms = COALESCE(responded_ms, ?)"
        " WHERE id = ? AND state = ?",
        "siiis", to, who != NULL ? who->user_id : 0, now_ms, id, from);
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot update the signal");
    if (rhis_db_changes(db) != 1) {
        snprintf(err, errlen,
                 "signal %lld changed meanwhile (it is no longer %s); "
                 "reload it",
                 (long long)id, from);
        return RHIS_ECONFLICT;
    }
    return RHIS_OK;
}

static rhis_status
escalate(rhis_db *db,
         int64_t id,
         const sig_state *s,
         const rhis_actor *who,
         const char *note,
         int64_t now_ms,
         char *err,
         size_t errlen)
{
    char to[16];
    if (!s->pushed) {
        snprintf(err, errlen,
                 "signal %lld is evidence (not pushed): it has no deadline "
                 "and is not escalated; escalate the signal it supports",
                 (long long)id);
        return RHIS_ECONFLICT;
    }
    level_code(s->area, s->escalated + 1, to, sizeof(to));
    if (to[0] == '\0' || s->escalated >= RHIS_SIGNAL_MAX_ESCALATION) {
        snprintf(err, errlen,
                 "signal %lld is already with the highest level's CDC",
                 (long long)id);
        return RHIS_ECONFLICT;
    }
    rhis_status rc = rhis_db_run(
        db,
        "UPDATE signal SET escalated = escalated + 1, escalated_ms = ?,"
        " escalated_to = ?, deadline_ms = ? WHERE id = ? AND escalated = ?",
        "isiii", now_ms, to, now_ms + deadline_span(s->kind), id,
        (int64_t)s->escalated);
    if (rc != RHIS_OK)
        return fail(err, errlen, rc, "cannot escalate the signal");
    if (rhis_db_changes(db) != 1) {
        snprintf(err, errlen, "signal %lld was escalated meanwhile",
                 (long long)id);
        return RHIS_ECONFLICT;
    }
    char text[RHIS_SIGNAL_MAX_NOTE + 64];
    snprintf(text, sizeof(text), "%s%s%s", to, note != NULL ? ": " : "",
             note != NULL ? note : "");
    rc = event(db, id, who, "escalate", s->state, s->state, text, now_ms);
    if (rc == RHIS_OK)
        rc = audit(db, who, "U", "signal-escalate", id, 200);
    return rc == RHIS_OK ? RHIS_OK
                         : fail(err, errlen, rc, "cannot record the change");
}

rhis_status
rhis_signal_act(rhis_db *db,
                int64_t id,
                const char *action,
                const char *note,
                const rhis_actor *who,
                int64_t now_ms,
                char *err,
                size_t errlen)
{
    static const char *const ACTIONS[] = {"verify", "dismiss", "escalate",
                                          "note", NULL};
    if (!one_of(action, ACTIONS))
        return fail(err, errlen, RHIS_EINVAL,
                    "action must be verify, dismiss, escalate or note");
    int needs_note = strcmp(action, "verify") != 0;
    if ((needs_note || note != NULL) && !note_ok(note)) {
        snprintf(err, errlen, "%s: a text of 1 to %d bytes (UTF-8) is required",
                 strcmp(action, "dismiss") == 0 ? "reason" : "note",
                 RHIS_SIGNAL_MAX_NOTE);
        return RHIS_EINVAL;
    }
    sig_state s;
    rhis_status rc = load_state(db, id, &s, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    if (strcmp(action, "escalate") == 0) {
        if (strcmp(s.state, "dismissed") == 0) {
            snprintf(err, errlen, "signal %lld was dismissed", (long long)id);
            return RHIS_ECONFLICT;
        }
        return escalate(db, id, &s, who, note, now_ms, err, errlen);
    }
    const char *to = s.state;
    if (strcmp(action, "verify") == 0) {
        if (strcmp(s.state, "new") != 0) {
            snprintf(err, errlen,
                     "signal %lld is %s, not new: only a new "
                     "signal can be verified",
                     (long long)id, s.state);
            return RHIS_ECONFLICT;
        }
        to = "verified";
    } else if (strcmp(action, "dismiss") == 0) {
        if (strcmp(s.state, "new") != 0 && strcmp(s.state, "verified") != 0) {
            snprintf(err, errlen,
                     "signal %lld is %s: only a new or verified "
                     "signal can be dismissed",
                     (long long)id, s.state);
            return RHIS_ECONFLICT;
        }
        to = "dismissed";
    }
    if (strcmp(to, s.state) != 0) {
        rc = move(db, id, s.state, to, who, now_ms, err, errlen);
        if (rc != RHIS_OK)
            return rc;
    }
    rc = event(db, id, who, action, s.state, to, note, now_ms);
    if (rc == RHIS_OK) {
        char op[32];
        snprintf(op, sizeof(op), "signal-%s", action);
        rc = audit(db, who, "U", op, id, 200);
    }
    return rc == RHIS_OK ? RHIS_OK
                         : fail(err, errlen, rc, "cannot record the change");
}

rhis_status
rhis_signal_warn(rhis_db *db,
                 int64_t id,
                 const rhis_warning_spec *w,
                 const rhis_actor *who,
                 int64_t now_ms,
                 int64_t *warning_id,
                 char *err,
                 size_t errlen)
{
    *warning_id = 0;
    if (!one_of(w->type, WARNING_TYPES))
        return fail(err, errlen, RHIS_EINVAL,
                    "type must be health_risk (健康风险提示), alert_notice "
                    "(警示信息通报) or decision_advice (预警决策建议)");
    if (w->audience == NULL || w->audience[strspn(w->audience, " ")] == '\0' ||
        strlen(w->audience) > 200 ||
        !rhis_utf8_valid(w->audience, strlen(w->audience)))
        return fail(err, errlen, RHIS_EINVAL,
                    "audience: a text of 1 to 200 bytes is required");
    if (!note_ok(w->content)) {
        snprintf(err, errlen, "content: a text of 1 to %d bytes is required",
                 RHIS_SIGNAL_MAX_NOTE);
        return RHIS_EINVAL;
    }
    sig_state s;
    rhis_status rc = load_state(db, id, &s, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    if (strcmp(s.state, "new") != 0 && strcmp(s.state, "verified") != 0) {
        snprintf(err, errlen,
                 "signal %lld is %s: a warning is raised on a new or "
                 "verified signal",
                 (long long)id, s.state);
        return RHIS_ECONFLICT;
    }
    rc = move(db, id, s.state, "warning", who, now_ms, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st = NULL;
    rc = rhis_db_query(db, &st,
                       "INSERT INTO warning (signal_id, type, audience,"
                       " area_code, content, issued_ms, issued_by)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                       "issssii", id, w->type, w->audience, s.area, w->content,
                       now_ms, who != NULL ? who->user_id : 0);
    if (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        *warning_id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_EIO;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_OK) {
        char text[64];
        snprintf(text, sizeof(text), "warning %lld (%s)",
                 (long long)*warning_id, w->type);
        rc = event(db, id, who, "warn", s.state, "warning", text, now_ms);
    }
    if (rc == RHIS_OK)
        rc = audit(db, who, "U", "signal-warn", id, 200);
    return rc == RHIS_OK ? RHIS_OK
                         : fail(err, errlen, rc, "cannot record the warning");
}

rhis_status
rhis_signal_escalate_overdue(rhis_db *db, int64_t now_ms, int *n)
{
    *n = 0;
    enum { BATCH = 256 };
    int64_t ids[BATCH];
    int k = 0;
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT id FROM signal WHERE state = 'new' AND pushed = 1"
        " AND deadline_ms < ? AND escalated < ? ORDER BY deadline_ms"
        " LIMIT 256",
        "ii", now_ms, (int64_t)RHIS_SIGNAL_MAX_ESCALATION);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        ids[k++] = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE && rc != RHIS_OK)
        return rc;
    if (k == 0)
        return RHIS_OK;
    if ((rc = rhis_db_begin(db)) != RHIS_OK)
        return rc;
    char err[256];
    for (int i = 0; i < k && rc == RHIS_OK; i++) {
        sig_state s;
        rc = load_state(db, ids[i], &s, err, sizeof(err));
        if (rc != RHIS_OK)
            break;
        char to[16];
        level_code(s.area, s.escalated + 1, to, sizeof(to));
        if (strcmp(s.state, "new") != 0 || to[0] == '\0')
            continue;
        rc = escalate(db, ids[i], &s, NULL, "response deadline passed", now_ms,
                      err, sizeof(err));
        if (rc == RHIS_OK)
            (*n)++;
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK) {
        rhis_db_rollback(db);
        *n = 0;
    }
    return rc;
}

/* ---- reading ---- */

#define SIG_COLS                                                               \
    "s.id, s.kind, s.method, s.subject_type, s.subject, s.area_code,"          \
    " a.name, s.day, s.period_start, s.observed, s.expected, s.upper_bound,"   \
    " s.severity, s.created_ms, s.deadline_ms, COALESCE(s.responded_ms, 0),"   \
    " s.state, s.escalated, s.escalated_to, COALESCE(s.fused_into, 0),"        \
    " s.subject_name, s.pushed"

static void
add_instant(json_object *o, const char *key, int64_t ms)
{
    char buf[40];
    if (ms == 0) {
        json_object_object_add(o, key, NULL);
        return;
    }
    rhis_fhir_instant_ms(ms, buf, sizeof(buf));
    json_object_object_add(o, key, json_object_new_string(buf));
}

static json_object *
opt_text(rhis_stmt *st, int col)
{
    const char *t = rhis_db_column_text(st, col);
    return t != NULL ? json_object_new_string(t) : NULL;
}

static json_object *
opt_double(rhis_stmt *st, int col)
{
    if (rhis_db_column_is_null(st, col))
        return NULL;
    return rhis_json_new_double(rhis_db_column_double(st, col));
}

/* The summary of the current row of a SIG_COLS query. */
static json_object *
summary(rhis_stmt *st)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id",
                           json_object_new_int64(rhis_db_column_int64(st, 0)));
    json_object_object_add(o, "kind", opt_text(st, 1));
    json_object_object_add(o, "method", opt_text(st, 2));
    json_object_object_add(o, "subjectType", opt_text(st, 3));
    json_object_object_add(o, "subject", opt_text(st, 4));
    json_object_object_add(o, "subjectName", opt_text(st, 20));
    json_object_object_add(o, "area", opt_text(st, 5));
    json_object_object_add(o, "areaName", opt_text(st, 6));
    json_object_object_add(o, "day", opt_text(st, 7));
    json_object_object_add(o, "periodStart", opt_text(st, 8));
    json_object_object_add(o, "observed", opt_double(st, 9));
    json_object_object_add(o, "expected", opt_double(st, 10));
    json_object_object_add(o, "threshold", opt_double(st, 11));
    json_object_object_add(o, "severity", opt_text(st, 12));
    int64_t created = rhis_db_column_int64(st, 13);
    int64_t deadline = rhis_db_column_int64(st, 14);
    int64_t responded = rhis_db_column_int64(st, 15);
    add_instant(o, "created", created);
    add_instant(o, "deadline", deadline);
    add_instant(o, "responded", responded);
    json_object_object_add(o, "deadlineMs",
                           deadline != 0 ? json_object_new_int64(deadline)
                                         : NULL);
    json_object_object_add(
        o, "pushed", json_object_new_boolean(rhis_db_column_int64(st, 21)));
    json_object_object_add(
        o, "responseHours",
        responded != 0
            ? rhis_json_new_fixed((double)(responded - created) / 3.6e6, 2)
            : NULL);
    json_object_object_add(o, "state", opt_text(st, 16));
    json_object_object_add(
        o, "escalated", json_object_new_int((int)rhis_db_column_int64(st, 17)));
    json_object_object_add(o, "escalatedTo", opt_text(st, 18));
    int64_t fused = rhis_db_column_int64(st, 19);
    json_object_object_add(o, "fusedInto",
                           fused != 0 ? json_object_new_int64(fused) : NULL);
    return o;
}

rhis_status
rhis_signal_list(rhis_db *db, const rhis_signal_filter *f, json_object **out)
{
    *out = NULL;
    rhis_arena *a = rhis_arena_new();
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    if (f->scope != NULL && f->scope[0] != '\0')
        rhis_sql_where_add(&w, "s.area_code LIKE ?", 's', 0,
                           rhis_arena_printf(a, "%s%%", f->scope));
    if (f->area != NULL && f->area[0] != '\0')
        rhis_sql_where_add(&w, "s.area_code LIKE ?", 's', 0,
                           rhis_arena_printf(a, "%s%%", f->area));
    if (f->state != NULL && strcmp(f->state, "open") == 0)
        rhis_sql_where_add(&w, "s.state IN ('new', 'verified')", 0, 0, NULL);
    else if (f->state != NULL && strcmp(f->state, "all") != 0)
        rhis_sql_where_add(&w, "s.state = ?", 's', 0, f->state);
    if (f->severity != NULL)
        rhis_sql_where_add(&w, "s.severity = ?", 's', 0, f->severity);
    if (f->kind != NULL)
        rhis_sql_where_add(&w, "s.kind = ?", 's', 0, f->kind);
    if (f->since != NULL)
        rhis_sql_where_add(&w, "s.day >= ?", 's', 0, f->since);
    if (f->until != NULL)
        rhis_sql_where_add(&w, "s.day <= ?", 's', 0, f->until);
    if (f->escalated)
        rhis_sql_where_add(&w, "s.escalated > 0", 0, 0, NULL);
    if (f->pushed != 0)
        rhis_sql_where_add(&w, f->pushed > 0 ? "s.pushed = 1" : "s.pushed = 0",
                           0, 0, NULL);
    int64_t total = 0;
    rhis_status rc = rhis_sql_where_count(db, &w, "signal s", &total);
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_sql_where_select(
            db, &w,
            "SELECT " SIG_COLS
            " FROM signal s LEFT JOIN area a ON a.code = s.area_code",
            "ORDER BY CASE s.state WHEN 'new' THEN 0 WHEN 'verified' THEN 1"
            " ELSE 2 END, CASE s.severity WHEN 'red' THEN 0 WHEN 'orange'"
            " THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END,"
            " COALESCE(s.deadline_ms, s.created_ms), s.id DESC",
            f->count, f->offset, &st);
    json_object *items = json_object_new_array();
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object_array_add(items, summary(st));
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    rhis_arena_free(a);
    if (rc != RHIS_DONE && rc != RHIS_OK) {
        json_object_put(items);
        return rc;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "items", items);
    *out = o;
    return RHIS_OK;
}

static json_object *
parse_obj(const char *text)
{
    json_object *o = NULL;
    char err[64];
    if (text == NULL || rhis_json_parse(text, strlen(text), 64, &o, err,
                                        sizeof(err)) != RHIS_OK)
        return json_object_new_object();
    return o;
}

/* Appends the summaries of the signals selected by sql (one int param). */
static rhis_status
add_related(rhis_db *db, json_object *arr, const char *sql, int64_t v)
{
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(db, &st, sql, "i", v);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object_array_add(arr, summary(st));
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

rhis_status
rhis_signal_get(rhis_db *db, int64_t id, json_object **out, char area[16])
{
    *out = NULL;
    area[0] = '\0';
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT " SIG_COLS ", s.evidence FROM signal s"
        " LEFT JOIN area a ON a.code = s.area_code WHERE s.id = ?",
        "i", id);
    if (rc == RHIS_OK)
        rc = rhis_db_step(st);
    if (rc != RHIS_ROW) {
        rhis_db_finalize(st);
        return rc == RHIS_DONE ? RHIS_ENOTFOUND : rc;
    }
    json_object *o = summary(st);
    json_object *ev = parse_obj(rhis_db_column_text(st, 22));
    json_object_object_add(o, "evidence", ev);
    const char *ac = rhis_db_column_text(st, 5);
    snprintf(area, 16, "%s", ac != NULL ? ac : "");
    rhis_db_finalize(st);

    /* the state history */
    json_object *events = json_object_new_array();
    rc = rhis_db_query(db, &st,
                       "SELECT ts, COALESCE(user_id, 0), username, action,"
                       " from_state, to_state, note FROM signal_event"
                       " WHERE signal_id = ? ORDER BY ts, id",
                       "i", id);
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *e = json_object_new_object();
        add_instant(e, "time", rhis_db_column_int64(st, 0));
        int64_t uid = rhis_db_column_int64(st, 1);
        json_object_object_add(e, "user",
                               uid != 0 ? json_object_new_int64(uid) : NULL);
        json_object_object_add(e, "username", opt_text(st, 2));
        json_object_object_add(e, "action", opt_text(st, 3));
        json_object_object_add(e, "from", opt_text(st, 4));
        json_object_object_add(e, "to", opt_text(st, 5));
        json_object_object_add(e, "note", opt_text(st, 6));
        json_object_array_add(events, e);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    json_object_object_add(o, "events", events);
    if (rc != RHIS_DONE && rc != RHIS_OK) {
        json_object_put(o);
        return rc;
    }

    /* the warning, if one was raised */
    rc = rhis_db_query(db, &st,
                       "SELECT id, type, audience, content, issued_ms,"
                       " issued_by FROM warning WHERE signal_id = ?",
                       "i", id);
    json_object *warning = NULL;
    if (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        warning = json_object_new_object();
        json_object_object_add(
            warning, "id", json_object_new_int64(rhis_db_column_int64(st, 0)));
        json_object_object_add(warning, "type", opt_text(st, 1));
        json_object_object_add(warning, "audience", opt_text(st, 2));
        json_object_object_add(warning, "content", opt_text(st, 3));
        add_instant(warning, "issued", rhis_db_column_int64(st, 4));
        json_object_object_add(
            warning, "issuedBy",
            json_object_new_int64(rhis_db_column_int64(st, 5)));
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    json_object_object_add(o, "warning", warning);

    /* the signals it fuses, or the fused signal it joined */
    json_object *members = json_object_new_array();
    if (rc == RHIS_OK || rc == RHIS_DONE)
        rc = add_related(db, members,
                         "SELECT " SIG_COLS " FROM signal s LEFT JOIN area a"
                         " ON a.code = s.area_code WHERE s.fused_into = ?"
                         " ORDER BY s.id",
                         id);
    json_object_object_add(o, "contributing", members);
    if (rc != RHIS_OK) {
        json_object_put(o);
        return rc;
    }
    *out = o;
    return RHIS_OK;
}

/* ---- KPIs ---- */

typedef struct kpi_acc {
    int64_t total, fresh, verified, dismissed, warned, escalated, responded,
        timely;
    double *hours;
    int64_t nhours, caphours;
} kpi_acc;

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile by linear interpolation (R type 7). */
static double
quantile(const double *v, int64_t n, double p)
{
    if (n == 0)
        return NAN;
    double h = (double)(n - 1) * p;
    int64_t lo = (int64_t)floor(h);
    int64_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

static void
acc_add(kpi_acc *k, rhis_stmt *st)
{
    const char *state = rhis_db_column_text(st, 1);
    const char *kind = rhis_db_column_text(st, 2);
    int64_t created = rhis_db_column_int64(st, 3);
    int64_t responded = rhis_db_column_int64(st, 4);
    k->total++;
    if (state == NULL)
        state = "";
    k->fresh += strcmp(state, "new") == 0;
    k->verified += strcmp(state, "verified") == 0;
    k->dismissed += strcmp(state, "dismissed") == 0;
    k->warned += strcmp(state, "warning") == 0;
    k->escalated += rhis_db_column_int64(st, 5) > 0;
    if (responded != 0) {
        k->responded++;
        if (responded - created <= deadline_span(kind != NULL ? kind : ""))
            k->timely++;
        if (k->nhours == k->caphours) {
            k->caphours = k->caphours == 0 ? 64 : 2 * k->caphours;
            k->hours =
                rhis_xrealloc(k->hours, sizeof(double) * (size_t)k->caphours);
        }
        k->hours[k->nhours++] = (double)(responded - created) / 3.6e6;
    }
}

static json_object *
acc_json(kpi_acc *k, const char *code, const char *name)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "area",
                           code != NULL ? json_object_new_string(code) : NULL);
    json_object_object_add(o, "areaName",
                           name != NULL ? json_object_new_string(name) : NULL);
    json_object_object_add(o, "signals", json_object_new_int64(k->total));
    json_object_object_add(o, "new", json_object_new_int64(k->fresh));
    json_object_object_add(o, "verified", json_object_new_int64(k->verified));
    json_object_object_add(o, "dismissed", json_object_new_int64(k->dismissed));
    json_object_object_add(o, "warnings", json_object_new_int64(k->warned));
    json_object_object_add(o, "escalated", json_object_new_int64(k->escalated));
    json_object_object_add(o, "responded", json_object_new_int64(k->responded));
    json_object_object_add(
        o, "responseRate",
        k->total > 0
            ? rhis_json_new_fixed((double)k->responded / (double)k->total, 4)
            : NULL);
    json_object_object_add(
        o, "timelyRate",
        k->total > 0
            ? rhis_json_new_fixed((double)k->timely / (double)k->total, 4)
            : NULL);
    if (k->nhours > 0)
        qsort(k->hours, (size_t)k->nhours, sizeof(double), cmp_double);
    double q[3] = {quantile(k->hours, k->nhours, 0.25),
                   quantile(k->hours, k->nhours, 0.5),
                   quantile(k->hours, k->nhours, 0.75)};
    static const char *const names[] = {
        "p25ResponseHours", "medianResponseHours", "p75ResponseHours"};
    for (int i = 0; i < 3; i++)
        json_object_object_add(
            o, names[i], isnan(q[i]) ? NULL : rhis_json_new_fixed(q[i], 2));
    return o;
}

static void
acc_free(kpi_acc *k)
{
    rhis_free(k->hours);
    memset(k, 0, sizeof(*k));
}

rhis_status
rhis_signal_kpi(rhis_db *db,
                const char *area,
                const char *from,
                const char *to,
                int by_child,
                json_object **out)
{
    *out = NULL;
    size_t alen = strlen(area);
    /* children are one level down: 2 -> 4 -> 6 -> 9 -> 12 digits */
    size_t clen = alen == 2 ? 4 : alen == 4 ? 6 : alen == 6 ? 9 : 12;
    char like[20];
    snprintf(like, sizeof(like), "%s%%", area);
    rhis_stmt *st = NULL;
    rhis_status rc =
        rhis_db_query(db, &st,
                      "SELECT area_code, state, kind, created_ms,"
                      " COALESCE(responded_ms, 0), escalated FROM signal"
                      " WHERE area_code LIKE ? AND day >= ? AND day <= ?"
                      " AND pushed = 1 ORDER BY area_code",
                      "sss", like, from, to);
    kpi_acc all;
    memset(&all, 0, sizeof(all));
    enum { MAXCHILD = 2048 };
    char(*codes)[16] = rhis_xcalloc(MAXCHILD, 16);
    kpi_acc *kids = rhis_xcalloc(MAXCHILD, sizeof(kpi_acc));
    int nkids = 0;
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        rc = RHIS_OK;
        acc_add(&all, st);
        const char *code = rhis_db_column_text(st, 0);
        if (!by_child || code == NULL || strlen(code) < clen || alen >= 12)
            continue;
        int i = nkids - 1;
        if (nkids == 0 || strncmp(codes[i], code, clen) != 0) {
            if (nkids == MAXCHILD)
                continue;
            i = nkids++;
            snprintf(codes[i], 16, "%.*s", (int)clen, code);
        }
        acc_add(&kids[i], st);
    }
    rhis_db_finalize(st);
    if (rc == RHIS_DONE)
        rc = RHIS_OK;
    json_object *o = NULL;
    if (rc == RHIS_OK) {
        o = json_object_new_object();
        json_object_object_add(o, "from", json_object_new_string(from));
        json_object_object_add(o, "to", json_object_new_string(to));
        json_object_object_add(
            o, "deadlineRule",
            json_object_new_string("pushed signals only: fixed threshold "
                                   "2 h, other signals 24 h"));
        json_object_object_add(o, "total", acc_json(&all, area, NULL));
        json_object *arr = json_object_new_array();
        for (int i = 0; i < nkids; i++) {
            char *name = NULL;
            rhis_stmt *ns = NULL;
            if (rhis_db_query(db, &ns, "SELECT name FROM area WHERE code = ?",
                              "s", codes[i]) == RHIS_OK &&
                rhis_db_step(ns) == RHIS_ROW &&
                rhis_db_column_text(ns, 0) != NULL)
                name = rhis_xstrdup(rhis_db_column_text(ns, 0));
            rhis_db_finalize(ns);
            json_object_array_add(arr, acc_json(&kids[i], codes[i], name));
            rhis_free(name);
        }
        if (by_child)
            json_object_object_add(o, "byArea", arr);
        else
            json_object_put(arr);
    }
    for (int i = 0; i < nkids; i++)
        acc_free(&kids[i]);
    acc_free(&all);
    rhis_free(kids);
    rhis_free(codes);
    *out = o;
    return rc;
}

rhis_status
rhis_signal_grid(rhis_db *db,
                 const char *area,
                 const char *from,
                 const char *to,
                 json_object **out)
{
    *out = NULL;
    size_t alen = strlen(area);
    int clen = alen == 2 ? 4 : alen == 4 ? 6 : alen == 6 ? 9 : 12;
    rhis_stmt *st = NULL;
    /* every child area, with the counts of the signals at or below it */
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT c.code, c.name,"
        " COUNT(s.id),"
        " COALESCE(SUM(CASE WHEN s.state IN ('new','verified') THEN 1"
        "  ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN s.severity = 'red' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN s.severity = 'orange' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN s.severity = 'yellow' THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN s.severity = 'blue' THEN 1 ELSE 0 END), 0)"
        " FROM area c LEFT JOIN signal s"
        "  ON substr(s.area_code, 1, ?) = c.code AND s.day >= ? AND s.day <= ?"
        " WHERE c.parent_code = ?"
        " GROUP BY c.code, c.name ORDER BY c.code",
        "isss", (int64_t)clen, from, to, area);
    json_object *items = json_object_new_array();
    while (rc == RHIS_OK && (rc = rhis_db_step(st)) == RHIS_ROW) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "code", opt_text(st, 0));
        json_object_object_add(it, "name", opt_text(st, 1));
        static const char *const keys[] = {"signals", "open",   "red",
                                           "orange",  "yellow", "blue"};
        for (int i = 0; i < 6; i++)
            json_object_object_add(
                it, keys[i],
                json_object_new_int64(rhis_db_column_int64(st, 2 + i)));
        json_object_array_add(items, it);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_DONE && rc != RHIS_OK) {
        json_object_put(items);
        return rc;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "area", json_object_new_string(area));
    json_object_object_add(o, "from", json_object_new_string(from));
    json_object_object_add(o, "to", json_object_new_string(to));
    json_object_object_add(o, "items", items);
    *out = o;
    return RHIS_OK;
}
