/*
 * cards.c - write rate of report cards and channel counts through the C
 * API (include/rhis/surveil.h), as the demo generator and importers use it.
 *
 * Why: a province-scale demo writes hundreds of thousands of cards and
 * millions of channel counts through the same validation as the HTTP API;
 * this says how fast that is on each engine and where the time goes
 * (every card: patient, area and institution checks, the row, a version
 * snapshot, the duplicate search, an audit event, a savepoint).
 *
 * usage: bench_cards URL [N]
 *   URL: an empty database (sqlite:FILE or postgresql://...); the bench
 *   migrates it and adds one county, one institution and N/2 residents.
 *   Writes N cards (five diseases, every resident twice, so half of them
 *   are duplicates) in one transaction, then N fever-clinic counts in
 *   batches of 500, and prints:
 *   RESULT engine=... cards=N cards_s=... counts=N counts_s=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/db.h"
#include "rhis/surveil.h"

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
setup(rhis_db *db, int n, int64_t *inst, int64_t **pid)
{
    static const struct {
        const char *code;
        int level;
        const char *parent;
    } areas[] = {
        {"22", 1, NULL},
        {"2202", 2, "22"},
        {"220221", 3, "2202"},
        {"220221100", 4, "220221"},
        {"220221100006", 5, "220221100"},
    };
    for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
        if (rhis_db_run(db,
                        "INSERT INTO area (code, name, level, parent_code,"
                        " edition) VALUES (?, ?, ?, ?, '2023')",
                        "ssis", areas[i].code, areas[i].code,
                        (int64_t)areas[i].level, areas[i].parent) != RHIS_OK)
            return -1;
    if (rhis_db_scalar_int64(db, inst,
                             "INSERT INTO institution (code, name, tier,"
                             " ownership, area_code, updated_at) VALUES"
                             " ('B-KQ', 'KQ', 'township_hc', 'public',"
                             " '220221100', 0) RETURNING id",
                             "") != RHIS_OK)
        return -1;
    *pid = rhis_xmalloc((size_t)n * sizeof(**pid));
    if (rhis_db_begin(db) != RHIS_OK)
        return -1;
    for (int i = 0; i < n / 2 + 1; i++)
        if (rhis_db_scalar_int64(db, &(*pid)[i],
                                 "INSERT INTO patient (updated_ms, name, sex,"
                                 " area_code) VALUES (0, 'P', 'M',"
                                 " '220221100006') RETURNING id",
                                 "") != RHIS_OK)
            return -1;
    return rhis_db_commit(db) == RHIS_OK ? 0 : -1;
}

int
main(int argc, char **argv)
{
    static const char *const dis[] = {"hfmd", "influenza", "other_diarrhea",
                                      "tb", "hepatitis_b"};
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cards URL [N]\n");
        return 2;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5000;
    if (n < 2 || n > 10000000) {
        fprintf(stderr, "bench_cards: N must be 2..10^7\n");
        return 2;
    }
    const char *dir = getenv("RHIS_DATA_DIR");
    char err[700];
    rhis_db *db = NULL;
    int version;
    int64_t inst, *pid = NULL;
    if (rhis_db_open(&db, argv[1], err, sizeof(err)) != RHIS_OK ||
        rhis_db_migrate(db, &version) != RHIS_OK || setup(db, n, &inst, &pid) ||
        rhis_disease_catalogue_load(dir != NULL ? dir : "data", err,
                                    sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "bench_cards: setup: %s %s\n", err,
                db != NULL ? rhis_db_errmsg(db) : "");
        return 1;
    }
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, db, a);
    int64_t t0 = 1700000000000LL; /* 2023-11-14 */
    double s0 = now_s();
    if (rhis_db_begin(db) != RHIS_OK)
        return 1;
    for (int i = 0; i < n; i++) {
        rhis_card k;
        memset(&k, 0, sizeof(k));
        k.patient_id = pid[i % (n / 2)];
        (void)snprintf(k.area_code, sizeof(k.area_code), "220221100006");
        (void)snprintf(k.occupation, sizeof(k.occupation), "farmer");
        (void)snprintf(k.classification, sizeof(k.classification), "confirmed");
        (void)snprintf(k.disease, sizeof(k.disease), "%s", dis[i % 5]);
        k.diagnosis_ms = t0 + (int64_t)i * 600000;
        k.onset_ms = k.diagnosis_ms - 86400000;
        k.death_ms = RHIS_SURV_NONE;
        k.institution_id = inst;
        (void)snprintf(k.doctor, sizeof(k.doctor), "D");
        k.report_ms = k.diagnosis_ms + 3600000;
        if (rhis_card_create(&c, &k, NULL) != RHIS_OK) {
            fprintf(stderr, "bench_cards: card %d: %s\n", i, c.err_text);
            return 1;
        }
    }
    if (rhis_db_commit(db) != RHIS_OK)
        return 1;
    double s1 = now_s();
    rhis_channel_count *x = rhis_xcalloc((size_t)n, sizeof(*x));
    for (int i = 0; i < n; i++) {
        x[i].channel = RHIS_CH_FEVER;
        (void)snprintf(x[i].area_code, sizeof(x[i].area_code), "220221100");
        x[i].institution_id = inst;
        rhis_surv_day_of(t0 - (int64_t)((i / 2) % 3650) * 86400000, x[i].day);
        (void)snprintf(x[i].category, sizeof(x[i].category), "%s",
                       i % 2 != 0 ? "fever" : "respiratory");
        x[i].count = i % 17;
    }
    double s2 = now_s();
    for (int i = 0; i < n; i += 500) {
        size_t done;
        size_t m = (size_t)(n - i < 500 ? n - i : 500);
        if (rhis_channel_add_batch(&c, x + i, m, &done) != RHIS_OK) {
            fprintf(stderr, "bench_cards: counts: %s\n", c.err_text);
            return 1;
        }
    }
    double s3 = now_s();
    printf("RESULT engine=%s cards=%d cards_s=%.0f counts=%d counts_s=%.0f\n",
           rhis_db_dialect(db) == RHIS_DIALECT_SQLITE ? "sqlite" : "postgresql",
           n, n / (s1 - s0), n, n / (s3 - s2));
    rhis_free(x);
    rhis_free(pid);
    rhis_arena_free(a);
    rhis_db_close(db);
    return 0;
}
