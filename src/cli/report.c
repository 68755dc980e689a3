/*
 * report.c - `rhis report`: the plan monitoring report for a year.
 *
 * Why: the annual monitoring, mid-term and final evaluations are documents;
 * `rhis report --plan 220221:2025 --year 2025` writes one to stdout as
 * printable HTML (zh-CN, print CSS) or CSV, from the same status and lint
 * the dashboard shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/indicator.h"
#include "rhis/plan.h"

static void
report_usage(FILE *f)
{
    fputs("usage: rhis report [--db URL] --plan PLAN --year YYYY"
          " [--format html|csv]\n"
          "  writes the monitoring report of PLAN (e.g. 220221:2025) for\n"
          "  the year to stdout: annual monitoring, or the mid-term/final\n"
          "  evaluation by year; each indicator's baseline, target, current\n"
          "  value, trend and status, then the plan lint findings.\n",
          f);
}

int
cmd_report(int argc, char **argv)
{
    const char *url = cli_default_db(), *plan = NULL, *fmt = "html";
    int year = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            report_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            report_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--db") == 0)
            url = v;
        else if (strcmp(argv[i - 1], "--plan") == 0)
            plan = v;
        else if (strcmp(argv[i - 1], "--format") == 0)
            fmt = v;
        else if (strcmp(argv[i - 1], "--year") == 0) {
            char *end;
            long y = strtol(v, &end, 10);
            if (*end != '\0' || y < 1949 || y > 2100) {
                fprintf(stderr, "rhis report: bad year '%s'\n", v);
                return 2;
            }
            year = (int)y;
        } else {
            fprintf(stderr, "rhis report: unknown option '%s'\n", argv[i - 1]);
            report_usage(stderr);
            return 2;
        }
    }
    if (plan == NULL || year == 0 ||
        (strcmp(fmt, "html") != 0 && strcmp(fmt, "csv") != 0)) {
        report_usage(stderr);
        return 2;
    }
    const char *dir = getenv("RHIS_DATA_DIR");
    rhis_ind_defs_set_dir(dir != NULL && dir[0] != '\0' ? dir : "data");
    rhis_db *db = cli_open_db(url);
    char err[512] = "";
    rhis_status rc = rhis_plan_report(db, plan, year,
                                      strcmp(fmt, "csv") == 0 ? RHIS_PLAN_CSV
                                                              : RHIS_PLAN_HTML,
                                      stdout, err, sizeof(err));
    rhis_db_close(db);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis report: %s\n", err);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
