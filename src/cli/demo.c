/*
 * demo.c - `rhis demo`: generates the synthetic demo region into a
 * database, one county at a time (src/demo/), and `rhis demo --hash`.
 *
 * Why: make run, the benchmarks and the tests of the indicators and
 * detectors all need a region that looks like the plans' own; this is the
 * command that makes it, deterministically, resumably and with a progress
 * bar, so that a province-scale run can be interrupted and continued.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rhis/alloc.h"
#include "rhis/demo.h"

static void
usage(FILE *f)
{
    fputs("usage: rhis demo [--db URL] --area CODE[,CODE...] [--years "
          "2019-2025]\n"
          "                 [--seed N] [--scale F] [--truth DIR] "
          "[--data DIR] [--no-progress]\n"
          "       rhis demo [--db URL] --hash\n"
          "\n"
          "Generates the synthetic demo region (residents, institutions, "
          "staff,\n"
          "care and surveillance events) for the areas: a county (6 "
          "digits), a\n"
          "city (4) or a province (2), one county at a time, each county in "
          "one\n"
          "transaction.  Counties already generated with the same arguments "
          "are\n"
          "skipped, so an interrupted run is resumed by running it again.\n"
          "--scale shrinks the population (0.1 = a tenth); --truth writes "
          "the\n"
          "injected outbreaks to DIR; --hash prints the SHA-256 of a "
          "canonical\n"
          "dump of the generated data (same seed and arguments, same "
          "hash).\n",
          f);
}

static int
parse_years(const char *s, int *from, int *to)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    long b = a;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (errno != 0 || end == p)
            return -1;
    }
    if (*end != '\0' || a < 2000 || b > 2030 || a > b)
        return -1;
    *from = (int)a;
    *to = (int)b;
    return 0;
}

int
cmd_demo(int argc, char **argv)
{
    const char *url = cli_default_db(), *areas = NULL, *truth = NULL;
    const char *data = getenv("RHIS_DATA_DIR");
    if (data == NULL || data[0] == '\0')
        data = "data";
    int year_from = 2019, year_to = 2025, progress = isatty(2), hash = 0;
    unsigned long long seed = 1;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-progress") == 0) {
            progress = 0;
        } else if (strcmp(a, "--progress") == 0) {
            progress = 1;
        } else if (strcmp(a, "--hash") == 0) {
            hash = 1;
        } else if (v == NULL) {
            fprintf(stderr, "rhis demo: unknown option or missing value: %s\n",
                    a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--db") == 0) {
            url = v;
            i++;
        } else if (strcmp(a, "--area") == 0) {
            areas = v;
            i++;
        } else if (strcmp(a, "--data") == 0) {
            data = v;
            i++;
        } else if (strcmp(a, "--truth") == 0) {
            truth = v;
            i++;
        } else if (strcmp(a, "--years") == 0) {
            if (parse_years(v, &year_from, &year_to) != 0) {
                fprintf(stderr,
                        "rhis demo: --years wants FROM-TO within 2000-2030, "
                        "e.g. 2019-2025\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            seed = strtoull(v, &end, 10);
            if (errno != 0 || *end != '\0' || v[0] == '-' || v[0] == '\0') {
                fprintf(stderr, "rhis demo: --seed wants a whole number\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--scale") == 0) {
            char *end;
            errno = 0;
            scale = strtod(v, &end);
            if (errno != 0 || *end != '\0' || !(scale > 0 && scale <= 10)) {
                fprintf(stderr,
                        "rhis demo: --scale wants a number in (0, 10]\n");
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "rhis demo: unknown option: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    /* the store's reference tables (LOINC, vaccines) are read from
     * $RHIS_DATA_DIR: the same directory as ours */
    if (setenv("RHIS_DATA_DIR", data, 1) != 0) {
        fprintf(stderr, "rhis demo: cannot set RHIS_DATA_DIR\n");
        return 1;
    }
    rhis_db *db = cli_open_db(url);
    if (hash) {
        char hex[65];
        rhis_status rc = demo_hash(db, hex);
        rhis_db_close(db);
        if (rc != RHIS_OK) {
            fprintf(stderr, "rhis demo: cannot hash the database (%s)\n",
                    rhis_status_name(rc));
            return 1;
        }
        puts(hex);
        return 0;
    }
    if (areas == NULL) {
        fprintf(stderr, "rhis demo: --area is required\n");
        usage(stderr);
        rhis_db_close(db);
        return 2;
    }
    int version = 0;
    char err[1024] = "";
    if (rhis_db_migrate(db, &version) != RHIS_OK) {
        fprintf(stderr, "rhis demo: cannot migrate the database: %s\n",
                rhis_db_errmsg(db));
        rhis_db_close(db);
        return 1;
    }
    demo_ctx c;
    if (demo_ctx_init(&c, db, data, seed, year_from, year_to, scale, err,
                      sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis demo: %s\n", err);
        rhis_db_close(db);
        return 1;
    }
    c.progress = progress;
    c.truth_dir = truth;
    char(*codes)[7] = NULL;
    int n = 0;
    if (demo_expand_areas(&c, areas, &codes, &n, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis demo: %s\n", err);
        demo_ctx_fini(&c);
        rhis_db_close(db);
        return 2;
    }
    double total = 0;
    for (int i = 0; i < n; i++) {
        double pop;
        const char *basis;
        if (demo_county_population(&c, codes[i], &pop, &basis) != RHIS_OK) {
            fprintf(stderr,
                    "rhis demo: no population figure for county %s (add it "
                    "or its city to %s/demo-areas.csv)\n",
                    codes[i], data);
            rhis_free(codes);
            demo_ctx_fini(&c);
            rhis_db_close(db);
            return 1;
        }
        total += pop * scale;
    }
    fprintf(stderr,
            "rhis demo: %d count%s, about %.0f residents, %d-%d, seed %llu, "
            "scale %g\n",
            n, n == 1 ? "y" : "ies", total, year_from, year_to, seed, scale);
    demo_progress_begin(&c, "", n);
    int rc = 0, done = 0, skipped_n = 0;
    for (int i = 0; i < n; i++) {
        int skipped = 0;
        err[0] = '\0';
        rhis_status st =
            demo_county_run(&c, codes[i], &skipped, err, sizeof(err));
        if (st != RHIS_OK) {
            demo_progress_end(&c);
            fprintf(stderr, "rhis demo: %s\n",
                    err[0] != '\0' ? err : rhis_status_name(st));
            rc = 1;
            break;
        }
        done++;
        skipped_n += skipped;
    }
    demo_progress_end(&c);
    double sec = c.gen_seconds + c.store_seconds;
    fprintf(stderr,
            "rhis demo: %d count%s done (%d already there); %lld resources, "
            "%lld events in %.1f s (generation %.1f s, storage %.1f s)\n",
            done, done == 1 ? "y" : "ies", skipped_n, (long long)c.nresources,
            (long long)c.nevents, sec, c.gen_seconds, c.store_seconds);
    demo_report_types(&c, stderr);
    rhis_free(codes);
    demo_ctx_fini(&c);
    rhis_db_close(db);
    return rc;
}
