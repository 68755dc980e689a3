/*
 * detect.c - `rhis detect`: run one outbreak detector over a date,count
 * CSV series and print date,count,upper,alarm plus the method's columns.
 *
 * Why: epidemiologists check a series or a threshold setting by hand, and
 * the cross-check against R surveillance (tests/surveil/) drives the same
 * code path the server's nightly run uses: the method table of detect.h.
 * Input errors name the line and nothing is printed on error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/alloc.h"
#include "rhis/detect.h"

#define DETECT_MAX_INPUT ((size_t)64 * 1024 * 1024)

static void
detect_usage(FILE *f)
{
    const rhis_detect_method *m;
    (void)fputs(
        "usage: rhis detect --method M [--agg day|week] [--from DATE] "
        "[--to DATE]\n"
        "                   [--fill-gaps] [--input FILE] [method options] "
        "< series.csv\n"
        "\n"
        "Reads a CSV with columns date,count (ISO dates, one row per "
        "consecutive day)\n"
        "and writes date,count,upper,alarm and the method's own columns "
        "for every\n"
        "row; NA where a point is not evaluated (too little history, or "
        "outside\n"
        "--from/--to, which limit the evaluation, not the history used).\n"
        "--agg week sums Monday-Sunday weeks (incomplete first/last weeks "
        "dropped).\n"
        "\nmethods and their options (defaults in parentheses):\n",
        f);
    for (size_t i = 0; (m = rhis_detect_method_at(i)) != NULL; i++)
        (void)fprintf(f, "\n%s - %s\n%s", m->name, m->summary, m->opt_help);
}

static char *
read_all(FILE *in, size_t *len, const char *name)
{
    size_t cap = (size_t)64 * 1024, n = 0;
    char *buf = rhis_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= DETECT_MAX_INPUT) {
                (void)fprintf(stderr,
                              "rhis detect: %s is larger than %zu MiB\n", name,
                              DETECT_MAX_INPUT >> 20);
                rhis_free(buf);
                return NULL;
            }
            cap *= 2;
            buf = rhis_xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, in);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(in)) {
        (void)fprintf(stderr, "rhis detect: cannot read %s\n", name);
        rhis_free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void
put_num(FILE *out, double v)
{
    if (isnan(v))
        (void)fputs(",NA", out);
    else if (isinf(v))
        (void)fputs(v > 0 ? ",Inf" : ",-Inf", out);
    else
        (void)fprintf(out, ",%.10g", v);
}

static void
write_csv(FILE *out,
          const rhis_detect_method *m,
          const rhis_detect_series *s,
          const rhis_detect_result *res)
{
    char date[11];
    (void)fputs("date,count,upper,alarm", out);
    for (int c = 0; c < m->ncols; c++)
        (void)fprintf(out, ",%s", m->col_names[c]);
    (void)fputc('\n', out);
    for (size_t i = 0; i < s->n; i++) {
        rhis_detect_format_date(s->day0 + (int64_t)i * s->step, date);
        (void)fprintf(out, "%s,%.0f", date, s->y[i]);
        if (res->alarm[i] == RHIS_DETECT_NA) {
            (void)fputs(",NA,NA", out);
            for (int c = 0; c < m->ncols; c++)
                (void)fputs(",NA", out);
        } else {
            put_num(out, res->upper[i]);
            (void)fprintf(out, ",%d", res->alarm[i]);
            for (int c = 0; c < m->ncols; c++)
                put_num(out, res->cols[c][i]);
        }
        (void)fputc('\n', out);
    }
}

/* Index of the first point on or after day (n if none). */
static size_t
index_from(const rhis_detect_series *s, int64_t day)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->day0 + (int64_t)i * s->step >= day)
            return i;
    }
    return s->n;
}

/* What the command line asked for, besides the method's own options. */
typedef struct detect_args {
    const rhis_detect_method *m;
    void *opts; /* m->opts_size bytes, the method's options */
    const char *agg, *input;
    int fill_gaps;
    int64_t from_day, to_day; /* INT64_MIN / INT64_MAX when not given */
    int ranged;
} detect_args;

/*
 * Parses argv into a (a->opts is allocated once the method is known).
 * Returns 0, or the exit code after printing the error: 0 with help
 * printed is reported as -1.
 */
static int
parse_args(detect_args *a, int argc, char **argv)
{
    const char *method = NULL;
    char err[512] = "";
    memset(a, 0, sizeof(*a));
    a->agg = "day";
    a->from_day = INT64_MIN;
    a->to_day = INT64_MAX;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            detect_usage(stdout);
            return -1;
        }
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc)
            method = argv[++i];
    }
    a->m = rhis_detect_method_find(method);
    if (a->m == NULL) {
        if (method == NULL)
            (void)fputs("rhis detect: --method is required\n\n", stderr);
        else
            (void)fprintf(stderr, "rhis detect: unknown method '%s'\n\n",
                          method);
        detect_usage(stderr);
        return 2;
    }
    a->opts = rhis_xcalloc(1, a->m->opts_size);
    a->m->defaults(a->opts);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            (void)fprintf(stderr, "rhis detect: unexpected argument '%s'\n",
                          arg);
            return 2;
        }
        if (strcmp(arg, "--fill-gaps") == 0) {
            a->fill_gaps = 1;
            continue;
        }
        /* --name value or --name=value */
        char name[64];
        const char *val, *eq = strchr(arg, '=');
        size_t nl = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (nl == 0 || nl >= sizeof(name)) {
            (void)fprintf(stderr, "rhis detect: bad option '%s'\n", arg);
            return 2;
        }
        memcpy(name, arg + 2, nl);
        name[nl] = '\0';
        if (eq != NULL) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            (void)fprintf(stderr, "rhis detect: option --%s needs a value\n",
                          name);
            return 2;
        }
        if (strcmp(name, "method") == 0)
            continue;
        if (strcmp(name, "agg") == 0) {
            a->agg = val;
        } else if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
            int64_t *day = name[0] == 'f' ? &a->from_day : &a->to_day;
            if (rhis_detect_parse_date(val, day) != RHIS_OK) {
                (void)fprintf(stderr,
                              "rhis detect: --%s '%s' is not a date "
                              "YYYY-MM-DD\n",
                              name, val);
                return 2;
            }
            a->ranged = 1;
        } else if (strcmp(name, "input") == 0) {
            a->input = val;
        } else if (a->m->set_opt(a->opts, name, val, err, sizeof(err)) !=
                   RHIS_OK) {
            (void)fprintf(stderr, "rhis detect: %s\n", err);
            return 2;
        }
    }
    if (strcmp(a->agg, "day") != 0 && strcmp(a->agg, "week") != 0) {
        (void)fputs("rhis detect: --agg must be day or week\n", stderr);
        return 2;
    }
    return 0;
}

/* Reads and parses the input into *daily; 0 or 1 (error printed). */
static int
load_series(const detect_args *a, rhis_detect_daily *daily)
{
    FILE *in = stdin;
    const char *in_name = "standard input";
    char err[512] = "";
    if (a->input != NULL && strcmp(a->input, "-") != 0) {
        in = fopen(a->input, "rb");
        in_name = a->input;
        if (in == NULL) {
            (void)fprintf(stderr, "rhis detect: cannot open %s\n", a->input);
            return 1;
        }
    }
    size_t len = 0;
    char *data = read_all(in, &len, in_name);
    if (in != stdin)
        (void)fclose(in);
    if (data == NULL)
        return 1;
    rhis_status st =
        rhis_detect_csv_parse(data, len, a->fill_gaps, daily, err, sizeof(err));
    rhis_free(data);
    if (st != RHIS_OK) {
        (void)fprintf(stderr, "rhis detect: %s: %s\n", in_name, err);
        return 1;
    }
    return 0;
}

/* Runs the method over s and prints the CSV; the exit code. */
static int
run_and_write(const detect_args *a, const rhis_detect_series *s)
{
    char err[512] = "";
    size_t from = index_from(s, a->from_day);
    size_t to = a->to_day == INT64_MAX ? s->n : index_from(s, a->to_day + 1);
    if (a->ranged && from >= to) {
        (void)fprintf(stderr,
                      "rhis detect: no %s of the series lies in the "
                      "--from/--to range\n",
                      s->step == 1 ? "day" : "week");
        return 1;
    }
    rhis_detect_result res;
    int rc = 1;
    rhis_detect_result_init(&res, a->m, s->n);
    if (a->m->run(s, a->opts, from, to, &res, err, sizeof(err)) != RHIS_OK) {
        (void)fprintf(stderr, "rhis detect: %s\n", err);
    } else {
        write_csv(stdout, a->m, s, &res);
        rc = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
        if (rc != 0)
            (void)fputs("rhis detect: write error\n", stderr);
    }
    rhis_detect_result_fini(&res);
    return rc;
}

int
cmd_detect(int argc, char **argv)
{
    detect_args a;
    rhis_detect_daily daily = {0}, weekly = {0};
    int rc = parse_args(&a, argc, argv);
    if (rc != 0) {
        if (rc == 2)
            (void)fputs("run 'rhis detect --help' for the methods and "
                        "options\n",
                        stderr);
        rhis_free(a.opts);
        return rc < 0 ? 0 : rc;
    }
    rc = load_series(&a, &daily);
    if (rc == 0) {
        const rhis_detect_daily *use = &daily;
        if (strcmp(a.agg, "week") == 0) {
            rhis_detect_to_weekly(&daily, &weekly);
            use = &weekly;
        }
        rhis_detect_series s = {use->y, use->n, use->day0,
                                use == &daily ? 1 : 7};
        rc = run_and_write(&a, &s);
    }
    rhis_detect_daily_fini(&daily);
    rhis_detect_daily_fini(&weekly);
    rhis_free(a.opts);
    return rc;
}
