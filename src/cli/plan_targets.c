/*
 * plan_targets.c - `rhis plan load` and `rhis plan lint` (the verbs of
 * `rhis plan` that concern the plans' targets; src/cli/plan.c dispatches).
 *
 * Why: planners reload the targets when data/plan-targets.csv is reviewed,
 * and check the plans themselves from the shell; lint prints one finding
 * a line so it can be grepped, diffed and counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/indicator.h"
#include "rhis/plan.h"

static const char *
data_dir_default(void)
{
    const char *d = getenv("RHIS_DATA_DIR");
    return d != NULL && d[0] != '\0' ? d : "data";
}

int
cmd_plan_load(int argc, char **argv)
{
    const char *url = cli_default_db(), *dir = data_dir_default();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: rhis plan load [--db URL]"
                            " [--data-dir DIR]\n"
                            "  loads DIR/plans.csv and DIR/plan-targets.csv"
                            " (replaces the plans' rows;\n"
                            "  entered values are kept)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    rhis_ind_defs_set_dir(dir);
    rhis_db *db = cli_open_db(url);
    char err[512] = "";
    int n = 0;
    rhis_status rc = rhis_plan_load(db, dir, &n, err, sizeof(err));
    rhis_db_close(db);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis plan load: %s\n", err);
        return 1;
    }
    printf("plans: %d rows loaded from %s/plan-targets.csv\n", n, dir);
    return 0;
}

int
cmd_plan_lint(int argc, char **argv)
{
    const char *url = cli_default_db(), *plan = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
            plan = argv[++i];
        else {
            fprintf(stderr,
                    "usage: rhis plan lint [--db URL] [--plan P]\n"
                    "  prints one finding a line: PLAN row N KIND INDICATOR:"
                    " message\n"
                    "  (kinds: worse_than_baseline conflicting_targets\n"
                    "   baseline_contradiction impossible_target)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    rhis_ind_defs_set_dir(data_dir_default());
    rhis_db *db = cli_open_db(url);
    rhis_arena *a = rhis_arena_new();
    rhis_plan_finding *x;
    size_t n;
    rhis_status rc = rhis_plan_lint(db, a, plan, &x, &n);
    if (rc == RHIS_OK)
        for (size_t i = 0; i < n; i++)
            rhis_plan_finding_print(stdout, &x[i]);
    else if (rc == RHIS_ENOTFOUND)
        fprintf(stderr, "rhis plan lint: no plan %s (run rhis plan load)\n",
                plan);
    else
        fprintf(stderr, "rhis plan lint: %s\n", rhis_db_errmsg(db));
    rhis_arena_free(a);
    rhis_db_close(db);
    return rc == RHIS_OK ? 0 : 1;
}
