/*
 * plans.c - the five plans and their rows: loading data/plans.csv and
 * data/plan-targets.csv, reading them back, and values entered by hand.
 *
 * Why: plan targets are reference data reviewed by people (the file says
 * where each number comes from, with its verbatim quote), so they are
 * loaded as they are - contradictions included, for the lint to report -
 * and replaced as a whole when the file changes.  Entered values belong
 * to people, not to the file: they survive a reload and are never
 * overwritten, only superseded by a later row.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plans_int.h"
#include "rhis/csv.h"
#include "rhis/indicator.h"
#include "rhis/registry.h"

int64_t
plans_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
plans_parse_number(const char *s, double *out)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 1;
}

/* A year column: 0 when empty, -1 when malformed. */
static int
parse_year(const char *s)
{
    if (s[0] == '\0')
        return 0;
    int y = rhis_parse_int(s);
    return y >= 1900 && y <= 2100 ? y : -1;
}

static const char *const ops[] = {
    "<=",          ">=",          "<",    ">",    "=", "approx",
    "increase_by", "decrease_by", "text", "none", NULL};

static int
op_known(const char *op)
{
    for (int i = 0; ops[i] != NULL; i++)
        if (strcmp(ops[i], op) == 0)
            return 1;
    return 0;
}

/* Column indexes of plan-targets.csv by header name. */
enum {
    C_PLAN,
    C_ROW,
    C_AREA,
    C_KIND,
    C_DOMAIN,
    C_NAME_ZH,
    C_NAME_EN,
    C_INDICATOR,
    C_MEASURE,
    C_DIRECTION,
    C_UNIT,
    C_BYEAR,
    C_BVALUE,
    C_BNUM,
    C_TYEAR,
    C_TVALUE,
    C_OP,
    C_TNUM,
    C_CHANGE,
    C_ATTR,
    C_SOURCE,
    C_QUOTE,
    C_NCOLS
};
static const char *const target_cols[C_NCOLS] = {"plan",
                                                 "row",
                                                 "area_code",
                                                 "kind",
                                                 "domain",
                                                 "indicator_zh",
                                                 "indicator_en",
                                                 "indicator",
                                                 "measure",
                                                 "direction",
                                                 "unit",
                                                 "baseline_year",
                                                 "baseline_value",
                                                 "baseline_number",
                                                 "target_year",
                                                 "target_value",
                                                 "op",
                                                 "target_number",
                                                 "change",
                                                 "attribute",
                                                 "source",
                                                 "quote"};

static rhis_status
map_header(char **f, int n, int *idx, char *err, size_t errlen)
{
    for (int c = 0; c < C_NCOLS; c++) {
        idx[c] = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(f[i], target_cols[c]) == 0)
                idx[c] = i;
        if (idx[c] < 0) {
            snprintf(err, errlen, "plan-targets.csv: no column '%s'",
                     target_cols[c]);
            return RHIS_EINVAL;
        }
    }
    return RHIS_OK;
}

static rhis_status
load_plans(rhis_db *db, const char *path, char *err, size_t errlen)
{
    rhis_csv c;
    rhis_status rc = rhis_csv_open(&c, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char **f;
    int n = rhis_csv_next(&c, &f); /* header */
    if (n < 6) {
        snprintf(err, errlen, "%s: header expected", path);
        rhis_csv_close(&c);
        return RHIS_EINVAL;
    }
    int64_t now = plans_now_ms();
    while (rc == RHIS_OK && (n = rhis_csv_next(&c, &f)) != 0) {
        int by = n >= 6 ? parse_year(f[4]) : -1;
        int hz = n >= 6 ? parse_year(f[5]) : -1;
        if (n < 6 || by <= 0 || hz <= by || rhis_area_code_level(f[1]) == 0) {
            snprintf(err, errlen, "%s:%ld: malformed plan", path, c.line);
            rc = RHIS_EINVAL;
            break;
        }
        rc = rhis_db_run(db,
                         "INSERT INTO plan (id, area_code, name_zh, name_en,"
                         " baseline_year, horizon, loaded_ms)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)"
                         " ON CONFLICT (id) DO UPDATE SET"
                         " area_code = excluded.area_code,"
                         " name_zh = excluded.name_zh,"
                         " name_en = excluded.name_en,"
                         " baseline_year = excluded.baseline_year,"
                         " horizon = excluded.horizon,"
                         " loaded_ms = excluded.loaded_ms",
                         "ssssiii", f[0], f[1], f[2], f[3], (int64_t)by,
                         (int64_t)hz, now);
        if (rc == RHIS_OK)
            rc = rhis_db_run(db, "DELETE FROM plan_target WHERE plan_id = ?",
                             "s", f[0]);
        if (rc != RHIS_OK)
            snprintf(err, errlen, "%s:%ld: plan %s: %s", path, c.line, f[0],
                     rhis_db_errmsg(db));
    }
    if (n < 0 && rc == RHIS_OK) {
        snprintf(err, errlen, "%s:%ld: malformed CSV record", path, c.line);
        rc = RHIS_EINVAL;
    }
    rhis_csv_close(&c);
    return rc;
}

/* Checks one plan-targets.csv record; 0 or -1 with err set. */
static int
check_target(char **f,
             const int *ix,
             const rhis_ind_defs *defs,
             char *err,
             size_t errlen)
{
    const char *kind = f[ix[C_KIND]], *op = f[ix[C_OP]];
    const char *dir = f[ix[C_DIRECTION]];
    double v;
    if (strcmp(kind, "target") != 0 && strcmp(kind, "baseline") != 0)
        return snprintf(err, errlen, "kind '%s'", kind), -1;
    if (!op_known(op))
        return snprintf(err, errlen, "operator '%s'", op), -1;
    if (strcmp(dir, "up") != 0 && strcmp(dir, "down") != 0 && dir[0] != '\0')
        return snprintf(err, errlen, "direction '%s'", dir), -1;
    if (rhis_parse_int(f[ix[C_ROW]]) <= 0)
        return snprintf(err, errlen, "row '%s'", f[ix[C_ROW]]), -1;
    if (parse_year(f[ix[C_BYEAR]]) < 0 || parse_year(f[ix[C_TYEAR]]) < 0)
        return snprintf(err, errlen, "year"), -1;
    if (plans_parse_number(f[ix[C_BNUM]], &v) < 0 ||
        plans_parse_number(f[ix[C_TNUM]], &v) < 0)
        return snprintf(err, errlen, "number"), -1;
    if (f[ix[C_MEASURE]][0] == '\0')
        return snprintf(err, errlen, "empty measure"), -1;
    if (defs != NULL && rhis_ind_find(defs, f[ix[C_INDICATOR]]) == NULL)
        return snprintf(err, errlen, "unknown indicator '%s'",
                        f[ix[C_INDICATOR]]),
               -1;
    return 0;
}

static rhis_status
bind_opt_year(const char *s, int64_t *y)
{
    *y = parse_year(s);
    return RHIS_OK;
}

static rhis_status
load_targets(
    rhis_db *db, const char *path, int *nrows, char *err, size_t errlen)
{
    rhis_csv c;
    rhis_status rc = rhis_csv_open(&c, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char **f;
    int n = rhis_csv_next(&c, &f), ix[C_NCOLS];
    rc = n > 0 ? map_header(f, n, ix, err, errlen) : RHIS_EINVAL;
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    rhis_stmt *st = NULL;
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(
            db,
            "INSERT INTO plan_target (plan_id, row_no, kind, domain, name_zh,"
            " name_en, indicator, measure, direction, unit, baseline_year,"
            " baseline_text, baseline_num, target_year, target_text, op,"
            " target_num, change, attribute, source, quote) VALUES (?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &st);
    int count = 0;
    while (rc == RHIS_OK && (n = rhis_csv_next(&c, &f)) != 0) {
        char why[160] = "";
        if (n < C_NCOLS) {
            snprintf(err, errlen, "%s:%ld: %d fields", path, c.line, n);
            rc = RHIS_EINVAL;
            break;
        }
        if (check_target(f, ix, defs, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s:%ld: bad %s", path, c.line, why);
            rc = RHIS_EINVAL;
            break;
        }
        int64_t by, ty;
        bind_opt_year(f[ix[C_BYEAR]], &by);
        bind_opt_year(f[ix[C_TYEAR]], &ty);
        double bn = 0, tn = 0;
        int hb = plans_parse_number(f[ix[C_BNUM]], &bn) == 1;
        int ht = plans_parse_number(f[ix[C_TNUM]], &tn) == 1;
        int k = 1;
        rhis_db_bind_text(st, k++, f[ix[C_PLAN]]);
        rhis_db_bind_int64(st, k++, rhis_parse_int(f[ix[C_ROW]]));
        static const int texts[] = {C_KIND,      C_DOMAIN,    C_NAME_ZH,
                                    C_NAME_EN,   C_INDICATOR, C_MEASURE,
                                    C_DIRECTION, C_UNIT};
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
            rhis_db_bind_text(st, k++, f[ix[texts[i]]]);
        if (by > 0)
            rhis_db_bind_int64(st, k++, by);
        else
            rhis_db_bind_null(st, k++);
        rhis_db_bind_text(st, k++, f[ix[C_BVALUE]]);
        if (hb)
            rhis_db_bind_double(st, k++, bn);
        else
            rhis_db_bind_null(st, k++);
        if (ty > 0)
            rhis_db_bind_int64(st, k++, ty);
        else
            rhis_db_bind_null(st, k++);
        rhis_db_bind_text(st, k++, f[ix[C_TVALUE]]);
        rhis_db_bind_text(st, k++, f[ix[C_OP]]);
        if (ht)
            rhis_db_bind_double(st, k++, tn);
        else
            rhis_db_bind_null(st, k++);
        rhis_db_bind_text(st, k++, f[ix[C_CHANGE]]);
        rhis_db_bind_text(st, k++, f[ix[C_ATTR]]);
        rhis_db_bind_text(st, k++, f[ix[C_SOURCE]]);
        rhis_db_bind_text(st, k++, f[ix[C_QUOTE]]);
        rc = rhis_db_step(st);
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
        if (rc != RHIS_OK)
            snprintf(err, errlen, "%s:%ld: %s (is the plan in plans.csv?)",
                     path, c.line, rhis_db_errmsg(db));
        rhis_db_reset(st);
        count++;
    }
    if (n < 0 && rc == RHIS_OK) {
        snprintf(err, errlen, "%s:%ld: malformed CSV record", path, c.line);
        rc = RHIS_EINVAL;
    }
    rhis_db_finalize(st);
    rhis_csv_close(&c);
    if (nrows != NULL)
        *nrows = count;
    return rc;
}

rhis_status
rhis_plan_load(
    rhis_db *db, const char *dir, int *nrows, char *err, size_t errlen)
{
    char path[1024];
    rhis_status rc = rhis_db_begin(db);
    if (rc != RHIS_OK) {
        snprintf(err, errlen, "cannot begin: %s", rhis_db_errmsg(db));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/plans.csv", dir);
    rc = load_plans(db, path, err, errlen);
    if (rc == RHIS_OK) {
        snprintf(path, sizeof(path), "%s/plan-targets.csv", dir);
        rc = load_targets(db, path, nrows, err, errlen);
    }
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    return rc;
}

/* ---- reading ---- */

static const char *
col_str(rhis_arena *a, rhis_stmt *st, int i)
{
    const char *s = rhis_db_column_text(st, i);
    return rhis_arena_strdup(a, s != NULL ? s : "");
}

static void
fill_plan(rhis_arena *a, rhis_stmt *st, rhis_plan *p)
{
    p->id = col_str(a, st, 0);
    p->area = col_str(a, st, 1);
    p->name_zh = col_str(a, st, 2);
    p->name_en = col_str(a, st, 3);
    p->baseline_year = (int)rhis_db_column_int64(st, 4);
    p->horizon = (int)rhis_db_column_int64(st, 5);
    p->area_name = col_str(a, st, 6);
}

#define PLAN_SELECT                                                            \
    "SELECT p.id, p.area_code, p.name_zh, p.name_en, p.baseline_year,"         \
    " p.horizon, COALESCE(a.name, '') FROM plan p"                             \
    " LEFT JOIN area a ON a.code = p.area_code"

rhis_status
rhis_plan_list(rhis_db *db, rhis_arena *a, rhis_plan **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(db, &st, PLAN_SELECT " ORDER BY p.id", "");
    if (rc != RHIS_OK)
        return rc;
    size_t cap = 8;
    rhis_plan *v = rhis_arena_alloc(a, cap * sizeof(*v));
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (*n == cap) {
            rhis_plan *w = rhis_arena_alloc(a, 2 * cap * sizeof(*v));
            memcpy(w, v, cap * sizeof(*v));
            v = w;
            cap *= 2;
        }
        fill_plan(a, st, &v[(*n)++]);
    }
    rhis_db_finalize(st);
    *out = v;
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

rhis_status
rhis_plan_get(rhis_db *db, rhis_arena *a, const char *id, rhis_plan *out)
{
    rhis_stmt *st;
    rhis_status rc =
        rhis_db_query(db, &st, PLAN_SELECT " WHERE p.id = ?", "s", id);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        fill_plan(a, st, out);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_ENOTFOUND;
    }
    rhis_db_finalize(st);
    return rc;
}

static void
fill_row(rhis_arena *a, rhis_stmt *st, rhis_plan_row *r)
{
    r->plan = col_str(a, st, 0);
    r->row = (int)rhis_db_column_int64(st, 1);
    r->kind = col_str(a, st, 2);
    r->domain = col_str(a, st, 3);
    r->name_zh = col_str(a, st, 4);
    r->name_en = col_str(a, st, 5);
    r->indicator = col_str(a, st, 6);
    r->measure = col_str(a, st, 7);
    r->direction = col_str(a, st, 8);
    r->unit = col_str(a, st, 9);
    r->baseline_year =
        rhis_db_column_is_null(st, 10) ? 0 : (int)rhis_db_column_int64(st, 10);
    r->baseline_text = col_str(a, st, 11);
    r->has_baseline = !rhis_db_column_is_null(st, 12);
    r->baseline = r->has_baseline ? rhis_db_column_double(st, 12) : 0;
    r->target_year =
        rhis_db_column_is_null(st, 13) ? 0 : (int)rhis_db_column_int64(st, 13);
    r->target_text = col_str(a, st, 14);
    r->op = col_str(a, st, 15);
    r->has_target = !rhis_db_column_is_null(st, 16);
    r->target = r->has_target ? rhis_db_column_double(st, 16) : 0;
    r->change = col_str(a, st, 17);
    r->attribute = col_str(a, st, 18);
    r->source = col_str(a, st, 19);
    r->quote = col_str(a, st, 20);
}

rhis_status
rhis_plan_rows(rhis_db *db,
               rhis_arena *a,
               const char *plan,
               rhis_plan_row **out,
               size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t count = 0;
    rhis_status rc = rhis_db_scalar_int64(
        db, &count, "SELECT COUNT(*) FROM plan_target WHERE plan_id = ?", "s",
        plan);
    if (rc != RHIS_OK)
        return rc;
    rhis_plan_row *v = rhis_arena_calloc(a, (size_t)(count + 1) * sizeof(*v));
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "SELECT plan_id, row_no, kind, domain, name_zh,"
                       " name_en, indicator, measure, direction, unit,"
                       " baseline_year, baseline_text, baseline_num,"
                       " target_year, target_text, op, target_num, change,"
                       " attribute, source, quote FROM plan_target"
                       " WHERE plan_id = ? ORDER BY row_no",
                       "s", plan);
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW && *n < (size_t)count)
        fill_row(a, st, &v[(*n)++]);
    rhis_db_finalize(st);
    *out = v;
    return rc == RHIS_DONE || rc == RHIS_ROW ? RHIS_OK : rc;
}

const char *
rhis_plan_evaluation(const rhis_plan *p, int year)
{
    if (year >= p->horizon)
        return "final";
    if (year == p->baseline_year + (p->horizon - p->baseline_year) / 2)
        return "midterm";
    return "annual";
}

const char *
rhis_plan_evaluation_zh(const char *evaluation)
{
    if (strcmp(evaluation, "final") == 0)
        return "末期评估";
    if (strcmp(evaluation, "midterm") == 0)
        return "中期评估";
    return "年度监测";
}

/* ---- entered values ---- */

rhis_status
rhis_plan_enter(rhis_db *db,
                const rhis_plan_entry *e,
                int64_t *id,
                char *err,
                size_t errlen)
{
    if (e->measure == NULL || e->measure[0] == '\0' ||
        strlen(e->measure) > 200) {
        snprintf(err, errlen, "measure is required");
        return RHIS_EINVAL;
    }
    if (e->year < 1949 || e->year > 2100) {
        snprintf(err, errlen, "year %d is outside 1949..2100", e->year);
        return RHIS_EINVAL;
    }
    if (!isfinite(e->value)) {
        snprintf(err, errlen, "value must be a finite number");
        return RHIS_EINVAL;
    }
    if (e->source == NULL || e->source[0] == '\0' || strlen(e->source) > 500) {
        snprintf(err, errlen, "source is required (at most 500 bytes)");
        return RHIS_EINVAL;
    }
    if (e->person == NULL || e->person[0] == '\0' || strlen(e->person) > 200) {
        snprintf(err, errlen, "person is required (at most 200 bytes)");
        return RHIS_EINVAL;
    }
    if (e->note != NULL && strlen(e->note) > 2000) {
        snprintf(err, errlen, "note is longer than 2000 bytes");
        return RHIS_EINVAL;
    }
    if (e->area == NULL || rhis_area_code_level(e->area) == 0) {
        snprintf(err, errlen, "area must be a division code");
        return RHIS_EINVAL;
    }
    int64_t k = 0;
    rhis_status rc = rhis_db_scalar_int64(
        db, &k, "SELECT COUNT(*) FROM area WHERE code = ?", "s", e->area);
    if (rc != RHIS_OK)
        return rc;
    if (k == 0) {
        snprintf(err, errlen, "no area with code %s", e->area);
        return RHIS_EINVAL;
    }
    char ind[64] = "";
    rc = rhis_db_scalar_int64(db, &k,
                              "SELECT COUNT(*) FROM plan_target"
                              " WHERE measure = ?",
                              "s", e->measure);
    if (rc != RHIS_OK)
        return rc;
    if (k == 0) {
        snprintf(err, errlen, "no plan row measures '%s'", e->measure);
        return RHIS_EINVAL;
    }
    snprintf(ind, sizeof(ind), "%.*s", (int)strcspn(e->measure, ":"),
             e->measure);
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    const rhis_indicator *d = defs != NULL ? rhis_ind_find(defs, ind) : NULL;
    if (d != NULL && d->method != RHIS_IND_ENTERED &&
        strchr(e->measure, ':') == NULL) {
        snprintf(err, errlen,
                 "'%s' is computed from the records; only entered"
                 " indicators take values by hand",
                 e->measure);
        return RHIS_EINVAL;
    }
    rhis_stmt *st;
    rc = rhis_db_query(db, &st,
                       "INSERT INTO plan_entered (measure, area_code, year,"
                       " value, source, person, note, user_id, username,"
                       " entered_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " RETURNING id",
                       "ssidsssisi", e->measure, e->area, (int64_t)e->year,
                       e->value, e->source, e->person, e->note, e->user_id,
                       e->username, plans_now_ms());
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        *id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        rc = RHIS_EINTERNAL;
    }
    rhis_db_finalize(st);
    return rc;
}

rhis_status
rhis_plan_entered_list(rhis_db *db,
                       rhis_arena *a,
                       const char *measure,
                       const char *area,
                       int from,
                       int to,
                       rhis_plan_entered **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    rhis_stmt *st;
    /* the latest row of each (measure, area, year) */
    rhis_status rc = rhis_db_query(
        db, &st,
        "SELECT e.id, e.measure, e.area_code, e.year, e.value, e.source,"
        " e.person, e.note, e.username, e.entered_ms FROM plan_entered e"
        " WHERE (CAST(? AS TEXT) IS NULL OR e.measure = ?)"
        " AND e.area_code = ?"
        " AND e.year BETWEEN ? AND ? AND e.id = (SELECT MAX(x.id) FROM"
        " plan_entered x WHERE x.measure = e.measure AND x.area_code ="
        " e.area_code AND x.year = e.year)"
        " ORDER BY e.year DESC, e.measure LIMIT 1000",
        "sssii", measure, measure, area, (int64_t)from, (int64_t)to);
    if (rc != RHIS_OK)
        return rc;
    size_t cap = 16;
    rhis_plan_entered *v = rhis_arena_alloc(a, cap * sizeof(*v));
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        if (*n == cap) {
            rhis_plan_entered *w = rhis_arena_alloc(a, 2 * cap * sizeof(*v));
            memcpy(w, v, cap * sizeof(*v));
            v = w;
            cap *= 2;
        }
        rhis_plan_entered *x = &v[(*n)++];
        x->id = rhis_db_column_int64(st, 0);
        x->measure = col_str(a, st, 1);
        x->area = col_str(a, st, 2);
        x->year = (int)rhis_db_column_int64(st, 3);
        x->value = rhis_db_column_double(st, 4);
        x->source = col_str(a, st, 5);
        x->person = col_str(a, st, 6);
        x->note = col_str(a, st, 7);
        x->username = col_str(a, st, 8);
        x->entered_ms = rhis_db_column_int64(st, 9);
    }
    rhis_db_finalize(st);
    *out = v;
    return rc == RHIS_DONE ? RHIS_OK : rc;
}
