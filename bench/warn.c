/*
 * warn.c - benchmark of the nightly detection run at province scale
 * (issue 5, Performance: every township x disease x channel of a province
 * in < 60 s).
 *
 * Why: the nightly run is the one job that touches the whole province's
 * surveillance data every day; its time decides whether it fits the night
 * and whether an operator may rerun a day.  A province's real data cannot
 * be shipped, so it is generated (seeded, deterministic) straight into the
 * typed tables of migration 3: Jilin's 69 counties and 1075 townships from
 * data/divisions.csv; for every county x disease under the temporal model
 * 3 years and 5 weeks of report cards with a per-disease daily rate, plus
 * outbreaks injected in the last days; and for every township 11 channel
 * series (fever and intestinal clinics, school absences, pharmacy sales by
 * category) over 56 days.  Then rhis_warn_run for the last day is timed,
 * twice (the rerun must add nothing).
 *
 * usage: bench_warn [--db sqlite:PATH] [--data DIR] [--day YYYY-MM-DD]
 *                   [--seed N] [--replicas N]
 *        (the database is created; an existing SQLite file is replaced)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rhis/alloc.h"
#include "rhis/db.h"
#include "rhis/registry.h"
#include "rhis/surveil.h"
#include "rhis/warn.h"

#define HISTORY_DAYS (3 * 365 + 35)
#define CHANNEL_DAYS 56
#define DAY_MS       86400000LL

static uint64_t
next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

/* Poisson by inversion (small means) or a rounded normal (large). */
static int
poisson(uint64_t *s, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda > 30) {
        double u1 = uniform(s), u2 = uniform(s);
        double z = sqrt(-2.0 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
        int v = (int)lround(lambda + sqrt(lambda) * z);
        return v < 0 ? 0 : v;
    }
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= uniform(s);
    } while (p > l);
    return k - 1;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(rhis_db *db, const char *what)
{
    fprintf(stderr, "bench_warn: %s: %s\n", what,
            db != NULL ? rhis_db_errmsg(db) : "");
    exit(1);
}

typedef struct county {
    char code[8];
    int first, n; /* townships [first, first + n) */
} county;

typedef struct township {
    char code[12];
    int64_t inst, patient;
} township;

/* Daily cases per county of a disease: a rough Jilin-like level. */
static double
disease_rate(const char *code)
{
    static const struct {
        const char *code;
        double rate;
    } r[] = {{"hfmd", 0.9},           {"influenza", 2.0},
             {"other_diarrhea", 0.8}, {"mumps", 0.25},
             {"scarlet_fever", 0.15}, {"covid19", 0.5},
             {"hepatitis_e", 0.08},   {"brucellosis", 0.2},
             {"dysentery", 0.1},      {"rubella", 0.02}};
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if (strcmp(r[i].code, code) == 0)
            return r[i].rate;
    return 0.02;
}

int
main(int argc, char **argv)
{
    const char *url = "sqlite:/tmp/rhis-bench-warn.db";
    const char *data = "data";
    const char *day = "2026-10-15";
    uint64_t seed = 20261015;
    int replicas = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--day") == 0)
            day = argv[i + 1];
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--replicas") == 0)
            replicas = (int)strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "bench_warn: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (strncmp(url, "sqlite:", 7) == 0) {
        char p[600];
        const char *sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", url + 7, sfx[i]);
            (void)unlink(p);
        }
    }
    char err[512];
    rhis_db *db = NULL;
    if (rhis_db_open(&db, url, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "bench_warn: %s\n", err);
        return 1;
    }
    int version;
    if (rhis_db_migrate(db, &version) != RHIS_OK)
        die(db, "migrate");
    char path[600];
    snprintf(path, sizeof(path), "%s/divisions.csv", data);
    int64_t added;
    if (rhis_registry_load_divisions(db, path, &added, err, sizeof(err)) !=
        RHIS_OK) {
        fprintf(stderr, "bench_warn: %s\n", err);
        return 1;
    }
    if (rhis_disease_catalogue_load(data, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "bench_warn: %s\n", err);
        return 1;
    }
    int64_t dday = 0;
    if (rhis_surv_day_ms(day, &dday) != RHIS_OK) {
        fprintf(stderr, "bench_warn: bad --day\n");
        return 2;
    }
    double t0 = now_s();

    /* the province: counties and their townships */
    county *cs = rhis_xcalloc(200, sizeof(county));
    township *ts = rhis_xcalloc(3000, sizeof(township));
    int nc = 0, nt = 0;
    rhis_stmt *st = NULL;
    if (rhis_db_query(db, &st,
                      "SELECT code FROM area WHERE code LIKE '22%' AND"
                      " level = 4 ORDER BY code",
                      "") != RHIS_OK)
        die(db, "areas");
    while (rhis_db_step(st) == RHIS_ROW && nt < 3000) {
        const char *code = rhis_db_column_text(st, 0);
        if (nc == 0 || strncmp(cs[nc - 1].code, code, 6) != 0) {
            snprintf(cs[nc].code, sizeof(cs[nc].code), "%.6s", code);
            cs[nc].first = nt;
            nc++;
        }
        snprintf(ts[nt].code, sizeof(ts[nt].code), "%s", code);
        cs[nc - 1].n++;
        nt++;
    }
    rhis_db_finalize(st);

    if (rhis_db_begin(db) != RHIS_OK)
        die(db, "begin");
    /* one health centre (with a position) and one resident per township */
    uint64_t rng = seed;
    for (int c = 0; c < nc; c++) {
        double lat0 = 41.5 + 4.0 * uniform(&rng);
        double lon0 = 122.5 + 7.0 * uniform(&rng);
        for (int i = cs[c].first; i < cs[c].first + cs[c].n; i++) {
            char icode[32];
            snprintf(icode, sizeof(icode), "B-%s", ts[i].code);
            if (rhis_db_scalar_int64(
                    db, &ts[i].inst,
                    "INSERT INTO institution (code, name, tier, ownership,"
                    " area_code, lat, lon, updated_at) VALUES (?, ?,"
                    " 'township_hc', 'public', ?, ?, ?, 0) RETURNING id",
                    "sssdd", icode, icode, ts[i].code,
                    lat0 + 0.4 * uniform(&rng),
                    lon0 + 0.4 * uniform(&rng)) != RHIS_OK)
                die(db, "institution");
            if (rhis_db_scalar_int64(
                    db, &ts[i].patient,
                    "INSERT INTO patient (updated_ms, name, sex, area_code)"
                    " VALUES (0, 'bench', 'U', ?) RETURNING id",
                    "s", ts[i].code) != RHIS_OK)
                die(db, "patient");
        }
    }

    /* report cards: every county x disease under the temporal model */
    size_t nd = 0;
    const rhis_disease *all = rhis_disease_all(&nd);
    rhis_stmt *ins = NULL;
    if (rhis_db_prepare(
            db,
            "INSERT INTO surveil_card (status, patient_id, area_code,"
            " township_code, county_code, occupation, classification,"
            " disease_code, disease_class, onset_ms, onset_day, diagnosis_ms,"
            " diagnosis_day, institution_id, report_ms, deadline_ms,"
            " audit_deadline_ms, created_ms, updated_ms) VALUES"
            " ('audited', ?, ?, ?, ?, 'farmer', 'confirmed', ?, 'B', ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?)",
            &ins) != RHIS_OK)
        die(db, "prepare cards");
    int64_t ncards = 0, pairs = 0, outbreaks = 0;
    for (size_t k = 0; k < nd; k++) {
        const rhis_disease *d = &all[k];
        if (d->valid_to[0] != '\0' || d->mpm_percentile <= 0 ||
            d->fixed_threshold)
            continue;
        double rate = disease_rate(d->code);
        for (int c = 0; c < nc; c++) {
            pairs++;
            int outbreak = uniform(&rng) < 0.02;
            int hot = cs[c].first + (int)(uniform(&rng) * cs[c].n);
            outbreaks += outbreak;
            for (int back = HISTORY_DAYS - 1; back >= 0; back--) {
                int64_t ms = dday - back * DAY_MS + 10 * 3600 * 1000LL;
                double season =
                    1.0 + 0.5 * sin(2 * M_PI * (double)(ms / DAY_MS) / 365.25);
                int n = poisson(&rng, rate * season);
                int extra = outbreak && back < 5 ? 3 + back : 0;
                for (int j = 0; j < n + extra; j++) {
                    int t = j < n ? cs[c].first + (int)(uniform(&rng) * cs[c].n)
                                  : hot;
                    char dd[11];
                    rhis_surv_day_of(ms, dd);
                    rhis_db_reset(ins);
                    rhis_db_bind_int64(ins, 1, ts[t].patient);
                    rhis_db_bind_text(ins, 2, ts[t].code);
                    rhis_db_bind_text(ins, 3, ts[t].code);
                    rhis_db_bind_text(ins, 4, cs[c].code);
                    rhis_db_bind_text(ins, 5, d->code);
                    rhis_db_bind_int64(ins, 6, ms - DAY_MS);
                    rhis_db_bind_text(ins, 7, dd);
                    rhis_db_bind_int64(ins, 8, ms);
                    rhis_db_bind_text(ins, 9, dd);
                    rhis_db_bind_int64(ins, 10, ts[t].inst);
                    rhis_db_bind_int64(ins, 11, ms + 3600 * 1000LL);
                    rhis_db_bind_int64(ins, 12, ms + DAY_MS);
                    rhis_db_bind_int64(ins, 13, ms + 2 * DAY_MS);
                    rhis_db_bind_int64(ins, 14, ms);
                    rhis_db_bind_int64(ins, 15, ms);
                    if (rhis_db_step(ins) != RHIS_DONE)
                        die(db, "card");
                    ncards++;
                }
            }
        }
    }
    rhis_db_finalize(ins);

    /* channels: 11 series per township over 56 days */
    static const char *const series[][2] = {
        {"fever_clinic", "fever"},         {"fever_clinic", "respiratory"},
        {"fever_clinic", "rash"},          {"intestinal_clinic", "diarrhea"},
        {"intestinal_clinic", "vomiting"}, {"school_absence", "fever"},
        {"school_absence", "respiratory"}, {"school_absence", "gi"},
        {"pharmacy", "antipyretic"},       {"pharmacy", "antidiarrheal"},
        {"pharmacy", "cough_cold"}};
    size_t nseries = sizeof(series) / sizeof(series[0]);
    if (rhis_db_prepare(db,
                        "INSERT INTO channel_count (channel, area_code,"
                        " township_code, county_code, institution_id, day,"
                        " day_ms, category, count, source, updated_ms)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'push', 0)",
                        &ins) != RHIS_OK)
        die(db, "prepare channels");
    int64_t nrows = 0;
    for (int i = 0; i < nt; i++) {
        int spike = uniform(&rng) < 0.01;
        for (size_t s = 0; s < nseries; s++) {
            double lambda = 3.0 + 6.0 * uniform(&rng);
            for (int back = CHANNEL_DAYS - 1; back >= 0; back--) {
                int64_t ms = dday - back * DAY_MS;
                char dd[11];
                rhis_surv_day_of(ms, dd);
                int n = poisson(&rng, lambda) +
                        (spike && back == 0 && s % 3 == 0 ? 25 : 0);
                rhis_db_reset(ins);
                rhis_db_bind_text(ins, 1, series[s][0]);
                rhis_db_bind_text(ins, 2, ts[i].code);
                rhis_db_bind_text(ins, 3, ts[i].code);
                char cc[8];
                snprintf(cc, sizeof(cc), "%.6s", ts[i].code);
                rhis_db_bind_text(ins, 4, cc);
                rhis_db_bind_int64(ins, 5, ts[i].inst);
                rhis_db_bind_text(ins, 6, dd);
                rhis_db_bind_int64(ins, 7, ms);
                rhis_db_bind_text(ins, 8, series[s][1]);
                rhis_db_bind_int64(ins, 9, n);
                if (rhis_db_step(ins) != RHIS_DONE)
                    die(db, "channel");
                nrows++;
            }
        }
    }
    rhis_db_finalize(ins);
    if (rhis_db_commit(db) != RHIS_OK)
        die(db, "commit");
    (void)rhis_db_exec(db, "ANALYZE");
    double t1 = now_s();
    printf("province 22 (Jilin): %d counties, %d townships; %lld county x "
           "disease pairs, %lld report cards (%lld outbreaks injected), "
           "%lld channel rows (%zu series per township); generated in "
           "%.1f s\n",
           nc, nt, (long long)pairs, (long long)ncards, (long long)outbreaks,
           (long long)nrows, nseries, t1 - t0);
    printf("scope: %lld township x disease x channel series\n",
           (long long)nt * (long long)(pairs / (nc > 0 ? nc : 1)) +
               (long long)nt * (long long)nseries);

    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = data;
    o.scan_replicas = replicas;
    for (int pass = 1; pass <= 2; pass++) {
        rhis_warn_result r;
        double a = now_s();
        if (rhis_warn_run(db, day, &o, &r, err, sizeof(err)) != RHIS_OK) {
            fprintf(stderr, "bench_warn: run: %s\n", err);
            return 1;
        }
        printf("run %d (%s): %.2f s wall, series evaluated %lld, alarms %lld, "
               "new signals %lld, existing %lld%s%s\n",
               pass, pass == 1 ? "first" : "rerun", now_s() - a,
               (long long)r.series, (long long)r.alarms,
               (long long)r.signals_new, (long long)r.signals_seen,
               r.missing[0] != '\0' ? "; missing: " : "", r.missing);
    }
    rhis_free(cs);
    rhis_free(ts);
    rhis_db_close(db);
    return 0;
}
