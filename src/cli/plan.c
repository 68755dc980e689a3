/*
 * plan.c - `rhis plan VERB`: plan monitoring from the command line.
 *
 * Why: the aggregates behind every indicator are kept live on each write;
 * `rebuild` recomputes them from the raw records (repair, or after the
 * element definitions changed), `verify` checks live against a rebuild
 * without writing, and `value` prints an indicator for an area and period
 * (the same function the API uses).  The verb table takes other verbs
 * (load, lint: src/cli/plan_targets.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/agg.h"
#include "rhis/indicator.h"

static void
plan_usage(FILE *f)
{
    (void)fputs(
        "usage: rhis plan VERB [--db URL] [options]\n"
        "  rebuild [--timing]      recompute the plan aggregates from the "
        "records\n"
        "  verify                  compare the live aggregates with a "
        "rebuild (no write)\n"
        "  value --ind CODE|all [--area CODE] --period P\n"
        "                          print numerator, denominator, value, "
        "flags\n"
        "                          (P: 2025, 2025Q3, 202507, 2021~2025)\n"
        "  load                    load the plans and their targets\n"
        "  lint [--plan P]         list inconsistencies in the plans\n",
        f);
}

/* Parses --db URL and the flags of verb; 0 on success. */
typedef struct opts {
    const char *db, *ind, *area, *period;
    int timing;
} opts;

static int
parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    o->db = cli_default_db();
    o->area = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--timing") == 0) {
            o->timing = 1;
            continue;
        }
        if (v == NULL) {
            (void)fprintf(stderr, "rhis plan: %s needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "--db") == 0)
            o->db = v;
        else if (strcmp(a, "--ind") == 0)
            o->ind = v;
        else if (strcmp(a, "--area") == 0)
            o->area = v;
        else if (strcmp(a, "--period") == 0)
            o->period = v;
        else {
            (void)fprintf(stderr, "rhis plan: unknown option %s\n", a);
            return -1;
        }
        i++;
    }
    return 0;
}

static int
plan_rebuild(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    rhis_db *db = cli_open_db(o.db);
    char err[512] = "";
    int64_t n = 0;
    double t[8];
    rhis_status rc = rhis_agg_rebuild_timed(db, &n, t, err, sizeof(err));
    rhis_db_close(db);
    if (rc != RHIS_OK) {
        (void)fprintf(stderr, "rhis plan rebuild: %s\n", err);
        return 1;
    }
    printf("rebuilt %lld aggregate rows\n", (long long)n);
    if (o.timing) {
        printf("wall: read %.3f s, compute %.3f s, write %.3f s, total "
               "%.3f s\n",
               t[0], t[1], t[2], t[3]);
        printf("cpu:  read %.3f s, compute %.3f s, write %.3f s, total "
               "%.3f s\n",
               t[4], t[5], t[6], t[7]);
    }
    return 0;
}

static int
plan_verify(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    rhis_db *db = cli_open_db(o.db);
    char err[512] = "";
    int64_t n = 0;
    rhis_status rc = rhis_agg_verify(db, &n, err, sizeof(err));
    rhis_db_close(db);
    if (rc != RHIS_OK) {
        (void)fprintf(stderr, "rhis plan verify: %s\n", err);
        return 1;
    }
    if (n != 0) {
        printf("%lld aggregate rows differ from a rebuild; first: %s\n",
               (long long)n, err);
        return 1;
    }
    printf("aggregates agree with a rebuild\n");
    return 0;
}

static int
plan_value(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    if (o.ind == NULL || o.period == NULL) {
        plan_usage(stderr);
        return 2;
    }
    const rhis_ind_defs *d = rhis_ind_defs_default();
    if (d == NULL) {
        (void)fprintf(stderr, "rhis plan value: definitions not loaded\n");
        return 1;
    }
    int all = strcmp(o.ind, "all") == 0;
    const rhis_indicator *one = all ? NULL : rhis_ind_find(d, o.ind);
    rhis_period p;
    if ((!all && one == NULL) || rhis_period_parse(o.period, &p) != RHIS_OK) {
        (void)fprintf(stderr, "rhis plan value: unknown indicator or bad "
                              "period\n");
        return 2;
    }
    rhis_db *db = cli_open_db(o.db);
    int ret = 0;
    for (size_t i = 0; i < rhis_ind_count(d) && ret == 0; i++) {
        const rhis_indicator *ind = all ? rhis_ind_at(d, i) : one;
        if (all && ind->method == RHIS_IND_ENTERED)
            continue;
        rhis_ind_value v;
        rhis_status rc = rhis_ind_value_get(db, d, ind, o.area, p, &v);
        if (rc != RHIS_OK) {
            (void)fprintf(stderr, "rhis plan value: %s\n",
                          rhis_status_name(rc));
            ret = 1;
            break;
        }
        printf("%s,%s,%s,%.10g,%.10g,%.10g,%s%s%s%s\n", ind->code,
               o.area[0] != '\0' ? o.area : "*", o.period, v.numerator,
               v.denominator, v.value,
               (v.flags & RHIS_IND_FLAG_NODATA) ? "nodata " : "",
               (v.flags & RHIS_IND_FLAG_SMALL) ? "small " : "",
               (v.flags & RHIS_IND_FLAG_ENTERED) ? "entered " : "",
               (v.flags & RHIS_IND_FLAG_NOPOP) ? "nopop" : "");
        if (!all)
            break;
    }
    rhis_db_close(db);
    return ret;
}

static const struct {
    const char *verb;
    int (*fn)(int argc, char **argv);
} verbs[] = {
    {"rebuild", plan_rebuild}, {"verify", plan_verify}, {"value", plan_value},
    {"load", cmd_plan_load},   {"lint", cmd_plan_lint},
};

int
cmd_plan(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        plan_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].verb) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    (void)fprintf(stderr, "rhis plan: unknown verb '%s'\n", argv[1]);
    plan_usage(stderr);
    return 2;
}
