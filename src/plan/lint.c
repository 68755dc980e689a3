/*
 * lint.c - inconsistencies in the plans themselves.
 *
 * Why: several targets cannot all be right - a table and the text give
 * the same indicator two different 2025 targets (洮南市 GPs per 10 000:
 * 4.13 vs 3.93), a table baseline contradicts the text (永吉县 infant
 * mortality 5.12 vs 3.13 ‰), a "reduce" target is above its baseline, or
 * a mortality target is broken by a single death among the area's
 * births.  Planners must see these; the data is never "fixed" silently,
 * so the lint only reads.
 *
 * Checks (docs/internals/plan.md "Lint"):
 *   worse_than_baseline    target level worse than the baseline (the
 *                          row's own, else a baseline the plan states
 *                          for the same measure in an earlier year)
 *   conflicting_targets    same measure, same target year (a missing
 *                          year counts as the horizon), same unit,
 *                          different numbers
 *   baseline_contradiction same measure and baseline year, two numbers
 *                          (table vs text, or two tables)
 *   impossible_target      a rate per live births whose target is below
 *                          what one event among the area's annual births
 *                          gives (births from the live aggregates, else
 *                          the population table); a count in 万人 above
 *                          the area's population
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plans_int.h"
#include "rhis/indicator.h"

typedef struct lint {
    rhis_arena *a;
    rhis_plan_finding *v;
    size_t n, cap;
} lint;

static void
add(lint *l,
    const rhis_plan_row *r,
    int other,
    const char *kind,
    const char *msg)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        rhis_plan_finding *w = rhis_arena_alloc(l->a, cap * sizeof(*w));
        if (l->n > 0)
            memcpy(w, l->v, l->n * sizeof(*w));
        l->v = w;
        l->cap = cap;
    }
    rhis_plan_finding *f = &l->v[l->n++];
    f->plan = r->plan;
    f->row = r->row;
    f->other_row = other;
    f->kind = kind;
    f->indicator = r->name_zh;
    f->message = msg;
}

static int
same(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1);
}

static int
level_op(const char *op)
{
    return strcmp(op, "<=") == 0 || strcmp(op, "<") == 0 ||
           strcmp(op, ">=") == 0 || strcmp(op, ">") == 0 ||
           strcmp(op, "=") == 0 || strcmp(op, "approx") == 0;
}

static int
change_op(const char *op)
{
    return strcmp(op, "increase_by") == 0 || strcmp(op, "decrease_by") == 0;
}

/* The baseline to judge target row r by: its own, else the latest
 * baseline row of the same measure before the target year. */
static const rhis_plan_row *
baseline_for(const rhis_plan_row *rows,
             size_t n,
             const rhis_plan_row *r,
             int horizon)
{
    if (r->has_baseline)
        return r;
    int ty = r->target_year ? r->target_year : horizon;
    const rhis_plan_row *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_row *b = &rows[i];
        if (b->has_baseline && strcmp(b->measure, r->measure) == 0 &&
            strcmp(b->unit, r->unit) == 0 && b->baseline_year > 0 &&
            b->baseline_year < ty &&
            (best == NULL || b->baseline_year > best->baseline_year))
            best = b;
    }
    return best;
}

static void
check_worse(lint *l, const rhis_plan_row *rows, size_t n, int horizon)
{
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_row *r = &rows[i];
        if (strcmp(r->kind, "target") != 0 || !level_op(r->op) ||
            !r->has_target || r->direction[0] == '\0')
            continue;
        const rhis_plan_row *b = baseline_for(rows, n, r, horizon);
        if (b == NULL)
            continue;
        int down = strcmp(r->direction, "down") == 0;
        int lower_ops = strcmp(r->op, "<=") == 0 || strcmp(r->op, "<") == 0;
        int upper_ops = strcmp(r->op, ">=") == 0 || strcmp(r->op, ">") == 0;
        const char *src =
            b == r ? "its baseline"
                   : rhis_arena_printf(l->a, "the baseline in row %d (%s)",
                                       b->row, b->source);
        if (down && !upper_ops && r->target > b->baseline &&
            !same(r->target, b->baseline))
            add(l, r, b == r ? 0 : b->row, "worse_than_baseline",
                rhis_arena_printf(
                    l->a,
                    "lower is better, but the %d target %s is above %s"
                    " %g %s (%d)",
                    r->target_year ? r->target_year : horizon, r->target_text,
                    src, b->baseline, r->unit, b->baseline_year));
        else if (!down && !lower_ops && r->target < b->baseline &&
                 !same(r->target, b->baseline))
            add(l, r, b == r ? 0 : b->row, "worse_than_baseline",
                rhis_arena_printf(
                    l->a,
                    "higher is better, but the %d target %s is below %s"
                    " %g %s (%d): it is met even after a decline",
                    r->target_year ? r->target_year : horizon, r->target_text,
                    src, b->baseline, r->unit, b->baseline_year));
    }
}

static void
check_conflicts(lint *l, const rhis_plan_row *rows, size_t n, int horizon)
{
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_row *r = &rows[i];
        if (strcmp(r->kind, "target") != 0 || !r->has_target)
            continue;
        int ty = r->target_year ? r->target_year : horizon;
        /* compare with the first earlier row of the same key only, so a
         * conflict among k rows is reported once per differing row */
        for (size_t j = 0; j < i; j++) {
            const rhis_plan_row *o = &rows[j];
            int oy = o->target_year ? o->target_year : horizon;
            if (strcmp(o->kind, "target") != 0 || !o->has_target || oy != ty ||
                strcmp(o->measure, r->measure) != 0 ||
                strcmp(o->unit, r->unit) != 0)
                continue;
            int comparable = (level_op(o->op) && level_op(r->op)) ||
                             (change_op(o->op) && strcmp(o->op, r->op) == 0 &&
                              strcmp(o->change, r->change) == 0);
            if (!comparable)
                continue;
            if (!same(o->target, r->target))
                add(l, r, o->row, "conflicting_targets",
                    rhis_arena_printf(
                        l->a,
                        "two %d targets for one indicator: %s (row %d, %s)"
                        " vs %s (row %d, %s)",
                        ty, o->target_text, o->row, o->source, r->target_text,
                        r->row, r->source));
            break;
        }
    }
}

static void
check_baselines(lint *l, const rhis_plan_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_row *r = &rows[i];
        if (!r->has_baseline || r->baseline_year == 0)
            continue;
        for (size_t j = 0; j < i; j++) {
            const rhis_plan_row *o = &rows[j];
            if (!o->has_baseline || o->baseline_year != r->baseline_year ||
                strcmp(o->measure, r->measure) != 0 ||
                strcmp(o->unit, r->unit) != 0)
                continue;
            if (!same(o->baseline, r->baseline))
                add(l, r, o->row, "baseline_contradiction",
                    rhis_arena_printf(
                        l->a,
                        "%d baseline %g %s in the %s (row %d) vs %g %s in the"
                        " %s (row %d): \"%s\"",
                        r->baseline_year, o->baseline, o->unit, o->source,
                        o->row, r->baseline, r->unit, r->source, r->row,
                        strcmp(r->source, "text") == 0 ? r->quote : o->quote));
            break;
        }
    }
}

/* Annual live births of area: from the aggregates (the largest year of
 * the six up to the horizon, so a year still in progress does not count
 * as a small one), else a fifth of the population aged 0-4 in the latest
 * year of the population table.  0 when unknown. */
static double
annual_births(rhis_db *db,
              const rhis_ind_defs *defs,
              const char *area,
              int horizon,
              int *year,
              const char **from)
{
    double best = 0;
    for (int y = horizon; defs != NULL && y > horizon - 6; y--) {
        double b = 0;
        if (rhis_ind_element_sum(db, defs, "live_births", area,
                                 rhis_period_year(y), &b) == RHIS_OK &&
            b > best) {
            best = b;
            *year = y;
            *from = "live births recorded";
        }
    }
    if (best > 0)
        return best;
    rhis_stmt *st;
    char like[24];
    snprintf(like, sizeof(like), "%s%%", area);
    if (rhis_db_query(db, &st,
                      "SELECT year, SUM(population) FROM population"
                      " WHERE area_code LIKE ? AND age_band = 0"
                      " GROUP BY year ORDER BY year DESC LIMIT 1",
                      "s", like) != RHIS_OK)
        return 0;
    double b = 0;
    if (rhis_db_step(st) == RHIS_ROW) {
        *year = (int)rhis_db_column_int64(st, 0);
        b = rhis_db_column_double(st, 1) / 5.0;
        *from = "population aged 0-4 / 5";
    }
    rhis_db_finalize(st);
    return b;
}

static void
check_population(lint *l,
                 rhis_db *db,
                 const rhis_plan_row *rows,
                 size_t n,
                 const char *area,
                 int horizon)
{
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    double births = -1, pop = -1;
    int by = 0;
    const char *from = "";
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_row *r = &rows[i];
        if (strcmp(r->kind, "target") != 0)
            continue;
        const rhis_indicator *d =
            defs != NULL ? rhis_ind_find(defs, r->indicator) : NULL;
        double goal;
        char cmp;
        if (d != NULL && d->method == RHIS_IND_RATIO &&
            strcmp(d->denominator, "live_births") == 0 &&
            strchr(r->measure, ':') == NULL && rhis_plan_goal(r, &goal, &cmp) &&
            cmp == '<' && goal > 0) {
            if (births < 0)
                births = annual_births(db, defs, area, horizon, &by, &from);
            if (births <= 0)
                continue;
            double step = d->factor / births;
            if (step > goal)
                add(l, r, 0, "impossible_target",
                    rhis_arena_printf(
                        l->a,
                        "one death among the area's ~%.0f births a year"
                        " (%s, %d) gives %.4g %s, above the target %s: the"
                        " target means no death at all",
                        births, from, by, step, r->unit, r->target_text));
        }
        if (strcmp(r->unit, "万人") == 0 && r->has_target && defs != NULL) {
            if (pop < 0) {
                pop = 0;
                for (int y = horizon; y > horizon - 15 && pop <= 0; y--)
                    if (rhis_ind_element_sum(db, defs, "pop_all", area,
                                             rhis_period_year(y),
                                             &pop) != RHIS_OK)
                        pop = 0;
            }
            if (pop > 0 && r->target * 10000 > pop)
                add(l, r, 0, "impossible_target",
                    rhis_arena_printf(l->a,
                                      "%s 万人 is more than the area's whole"
                                      " population (%.0f)",
                                      r->target_text, pop));
        }
    }
}

static rhis_status
lint_plan(lint *l, rhis_db *db, const rhis_plan *p)
{
    rhis_plan_row *rows;
    size_t n;
    rhis_status rc = rhis_plan_rows(db, l->a, p->id, &rows, &n);
    if (rc != RHIS_OK)
        return rc;
    check_baselines(l, rows, n);
    check_conflicts(l, rows, n, p->horizon);
    check_worse(l, rows, n, p->horizon);
    check_population(l, db, rows, n, p->area, p->horizon);
    return RHIS_OK;
}

rhis_status
rhis_plan_lint(rhis_db *db,
               rhis_arena *a,
               const char *plan,
               rhis_plan_finding **out,
               size_t *n)
{
    lint l = {a, NULL, 0, 0};
    rhis_status rc;
    if (plan != NULL) {
        rhis_plan p;
        rc = rhis_plan_get(db, a, plan, &p);
        if (rc == RHIS_OK)
            rc = lint_plan(&l, db, &p);
    } else {
        rhis_plan *ps;
        size_t np;
        rc = rhis_plan_list(db, a, &ps, &np);
        for (size_t i = 0; rc == RHIS_OK && i < np; i++)
            rc = lint_plan(&l, db, &ps[i]);
    }
    *out = l.v;
    *n = rc == RHIS_OK ? l.n : 0;
    return rc;
}

void
rhis_plan_finding_print(FILE *f, const rhis_plan_finding *x)
{
    fprintf(f, "%s row %d %s %s: %s\n", x->plan, x->row, x->kind, x->indicator,
            x->message);
}
