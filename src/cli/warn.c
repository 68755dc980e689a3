/*
 * warn.c - `rhis warn`: the daily outbreak detection on demand.
 *
 * Why: `rhis serve` runs detection every day on its own (setting
 * warn_time); operators also need to run a given day again (late cards),
 * or a range of days (a new node, the demo region) from the shell.  Reruns
 * never duplicate signals (src/surveil/warn.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "rhis/warn.h"

static void
warn_usage(FILE *f)
{
    fputs("usage: rhis warn [--db URL] --date YYYY-MM-DD [--to YYYY-MM-DD]\n"
          "                 [--data-dir DIR] [--replicas N] [--seed N]\n"
          "                 [--push confirmed|all]\n"
          "  runs the outbreak detection for the day (each day of --date.."
          "--to),\n"
          "  stores new signals (a rerun adds none twice), then escalates\n"
          "  signals past their response deadline.  Prints one line per "
          "day.\n"
          "  --push: which new signals need a response (setting warn_push;\n"
          "  default confirmed, all = every signal, the CIDARS way).\n",
          f);
}

/* Replaces day (YYYY-MM-DD) by the next calendar day; -1 if malformed. */
static int
next_day(char *day, size_t len)
{
    char *end;
    long y = strtol(day, &end, 10);
    if (end != day + 4 || *end != '-')
        return -1;
    long m = strtol(day + 5, &end, 10);
    if (end != day + 7 || *end != '-')
        return -1;
    long d = strtol(day + 8, &end, 10);
    if (end != day + 10 || *end != '\0')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)m - 1;
    tm.tm_mday = (int)d + 1;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    struct tm out;
    if (t == (time_t)-1 || gmtime_r(&t, &out) == NULL)
        return -1;
    return strftime(day, len, "%Y-%m-%d", &out) == 10 ? 0 : -1;
}

static int
parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
rhis_warn_cli(int argc, char **argv, const char *default_db)
{
    const char *db_url = default_db, *from = NULL, *to = NULL;
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            warn_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rhis warn: '%s' needs a value\n", a);
            warn_usage(stderr);
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--db") == 0) {
            db_url = val;
        } else if (strcmp(a, "--date") == 0) {
            from = val;
        } else if (strcmp(a, "--to") == 0) {
            to = val;
        } else if (strcmp(a, "--push") == 0 &&
                   (strcmp(val, "confirmed") == 0 || strcmp(val, "all") == 0)) {
            o.push = val;
        } else if (strcmp(a, "--data-dir") == 0) {
            o.data_dir = val;
        } else if (strcmp(a, "--replicas") == 0 &&
                   parse_long(val, 1, 99999, &v) == 0) {
            o.scan_replicas = (int)v;
        } else if (strcmp(a, "--seed") == 0 &&
                   parse_long(val, 1, 2147483647L, &v) == 0) {
            o.seed = (uint64_t)v;
        } else {
            fprintf(stderr, "rhis warn: bad option '%s %s'\n", a, val);
            warn_usage(stderr);
            return 2;
        }
    }
    if (from == NULL) {
        fputs("rhis warn: --date is required\n", stderr);
        warn_usage(stderr);
        return 2;
    }
    if (to == NULL)
        to = from;
    if (strlen(from) != 10 || strlen(to) != 10 || strcmp(from, to) > 0) {
        fprintf(stderr,
                "rhis warn: --date %s --to %s: dates YYYY-MM-DD, "
                "--to not before --date\n",
                from, to);
        return 2;
    }
    rhis_db *db = cli_open_db(db_url);
    int version = 0;
    if (rhis_db_migrate(db, &version) != RHIS_OK) {
        fprintf(stderr, "rhis warn: cannot migrate the database: %s\n",
                rhis_db_errmsg(db));
        rhis_db_close(db);
        return 1;
    }
    int status = 0;
    char day[16];
    snprintf(day, sizeof(day), "%s", from);
    for (int guard = 0; guard < 3700; guard++) {
        rhis_warn_result r;
        char err[512] = "";
        rhis_status rc = rhis_warn_run(db, day, &o, &r, err, sizeof(err));
        if (rc != RHIS_OK) {
            fprintf(stderr, "rhis warn: %s\n", err);
            status = 1;
            break;
        }
        printf("%s series=%lld alarms=%lld new_signals=%lld existing=%lld "
               "pushed=%lld seconds=%.2f%s%s\n",
               day, (long long)r.series, (long long)r.alarms,
               (long long)r.signals_new, (long long)r.signals_seen,
               (long long)r.pushed, r.seconds,
               r.missing[0] != '\0' ? " missing: " : "", r.missing);
        if (strcmp(day, to) >= 0)
            break;
        /* the next calendar day (timegm normalises the 32nd of a month) */
        if (next_day(day, sizeof(day)) != 0)
            break;
    }
    int esc = 0;
    if (status == 0 && rhis_signal_escalate_overdue(
                           db, (int64_t)time(NULL) * 1000, &esc) != RHIS_OK)
        status = 1;
    rhis_db_close(db);
    return status;
}
