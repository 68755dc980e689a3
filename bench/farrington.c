/*
 * farrington.c - the C side of bench/farrington.sh: Farrington flexible
 * (package defaults and the Noufaily preset) over many date,count series,
 * the same files R's farringtonFlexible is timed on.
 *
 * Why: the issue asks for Farrington-flexible over 100 series x 10 years
 * of days at least 200x faster than R on the same input, measured in the
 * same run.  The series are parsed (and summed into weeks) before the
 * clock starts, as R's series are in memory; every task then runs over all
 * series, ROUNDS times, and the fastest round counts.  Times are CPU
 * seconds of this single-threaded process, as on the R side, so that a
 * shared machine does not skew the ratio.  Alarm totals are
 * printed for all series and for the first K, the subset R is timed on,
 * so the script can check that both agree there.
 *
 * usage: bench_farrington TASK ROUNDS K FILE.csv...
 *   TASK: day | week | week_nou | day_nou365 (see bench/farrington.R)
 * prints "C <task> <points> <seconds> <alarms> <points_K> <alarms_K>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/detect.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = rhis_xmalloc(cap);
    for (;;) {
        if (n == cap)
            buf = rhis_xrealloc(buf, cap *= 2);
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    (void)fclose(f);
    *len = n;
    return buf;
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        (void)fputs("usage: bench_farrington TASK ROUNDS K FILE.csv...\n",
                    stderr);
        return 2;
    }
    const char *task = argv[1];
    int rounds = (int)strtol(argv[2], NULL, 10);
    int k = (int)strtol(argv[3], NULL, 10);
    int weekly = strncmp(task, "week", 4) == 0;
    int nou = strstr(task, "nou") != NULL;
    int last365 = strcmp(task, "day_nou365") == 0;
    if (strcmp(task, "day") != 0 && strcmp(task, "week") != 0 &&
        strcmp(task, "week_nou") != 0 && !last365) {
        (void)fprintf(stderr, "bench_farrington: unknown task %s\n", task);
        return 2;
    }
    if (rounds < 1)
        rounds = 1;
    int ns = argc - 4;
    rhis_detect_daily *d = rhis_xcalloc((size_t)ns, sizeof(*d));
    char err[256];
    for (int i = 0; i < ns; i++) {
        size_t len;
        char *buf = slurp(argv[i + 4], &len);
        rhis_detect_daily day;
        if (rhis_detect_csv_parse(buf, len, 0, &day, err, sizeof(err)) !=
            RHIS_OK) {
            (void)fprintf(stderr, "%s: %s\n", argv[i + 4], err);
            return 1;
        }
        rhis_free(buf);
        if (weekly) {
            rhis_detect_to_weekly(&day, &d[i]);
            rhis_detect_daily_fini(&day);
        } else {
            d[i] = day;
        }
    }

    const rhis_detect_method *m =
        rhis_detect_method_find(nou ? "noufaily" : "farrington");
    rhis_detect_farrington_opts o;
    m->defaults(&o);
    rhis_detect_result *res = rhis_xcalloc((size_t)ns, sizeof(*res));
    for (int i = 0; i < ns; i++)
        rhis_detect_result_init(&res[i], m, d[i].n);
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t = now();
        for (int i = 0; i < ns; i++) {
            rhis_detect_series s = {d[i].y, d[i].n, d[i].day0, weekly ? 7 : 1};
            size_t from = last365 && s.n > 365 ? s.n - 365 : 0;
            if (m->run(&s, &o, from, s.n, &res[i], err, sizeof(err)) !=
                RHIS_OK) {
                (void)fprintf(stderr, "%s: %s\n", task, err);
                return 1;
            }
        }
        t = now() - t;
        if (t < best)
            best = t;
    }
    long long points = 0, alarms = 0, points_k = 0, alarms_k = 0;
    for (int i = 0; i < ns; i++) {
        for (size_t j = 0; j < d[i].n; j++) {
            int ev = res[i].alarm[j] != RHIS_DETECT_NA;
            int al = res[i].alarm[j] == 1;
            points += ev;
            alarms += al;
            if (i < k) {
                points_k += ev;
                alarms_k += al;
            }
        }
        rhis_detect_result_fini(&res[i]);
        rhis_detect_daily_fini(&d[i]);
    }
    rhis_free(res);
    rhis_free(d);
    printf("C %s %lld %.6f %lld %lld %lld\n", task, points, best, alarms,
           points_k, alarms_k);
    return 0;
}
