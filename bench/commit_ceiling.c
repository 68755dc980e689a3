/*
 * commit_ceiling.c - the disk's durable commit rate, as SQLite sees it: one
 * connection, WAL, synchronous=FULL, one small INSERT per transaction, for
 * a given number of seconds.  The ceiling that concurrent single creates
 * through the server are compared against (bench/patient.sh).
 *
 *   commit_ceiling FILE [SECONDS]   prints "commits=N seconds=S per_s=R"
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: commit_ceiling FILE [SECONDS]\n");
        return 2;
    }
    double secs = argc > 2 ? strtod(argv[2], NULL) : 5.0;
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        return 1;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY,"
                     " v TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return 1;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &st, NULL);
    long n = 0;
    double t0 = now(), t = t0;
    while (t - t0 < secs) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_text(st, 1, "{\"resourceType\":\"Patient\"}", -1,
                          SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        n++;
        t = now();
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("commits=%ld seconds=%.2f per_s=%.0f\n", n, t - t0,
           (double)n / (t - t0));
    return 0;
}
