/*
 * import.c - `rhis import` against a raw batched insert of the same rows.
 *
 * Why: the issue asks that importing N Patient lines reach at least half
 * the speed of the cheapest way to put the same rows into the database,
 * measured in the same run: on SQLite prepared single-row INSERTs reused
 * for every row, on PostgreSQL multi-row INSERTs, both committed every
 * BATCH patients.  "The same rows": each patient's typed row (patient),
 * its identifier row (patient_identifier) and its version row
 * (fhir_version, with the resource JSON), all computed before the clock
 * starts - the raw side parses and validates nothing.
 *
 * usage: bench_import RHIS N RAW_URL IMPORT_URL WORKDIR [BATCH [import-first]]
 *   Both databases must be fresh `rhis init` ones (areas loaded).  Writes
 *   WORKDIR/patients.ndjson, times the raw insert into RAW_URL and
 *   `RHIS import --db IMPORT_URL --batch BATCH` (a child process), in this
 *   order or the other, checks both hold N patients and prints one line:
 *   RESULT engine=... n=... raw_s=... raw_rows_s=... import_s=...
 *          import_rows_s=... ratio=...
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/buf.h"
#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/pinyin.h"

extern char **environ;

/* One generated resident: the typed values and the resource JSON. */
typedef struct person {
    char idnum[19];
    char name[16], family[8], given[12], pinyin[48];
    char sex;
    char birth[24];
    int64_t birth_ms;
    char phone[12];
    const char *area;
    char *json;    /* the NDJSON line, no id */
    char *version; /* what the store keeps: with id and meta */
} person;

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨",
                                       "赵", "黄", "周", "吴", "徐", "孙",
                                       "马", "朱", "胡", "郭", "何", "高"};
static const char *const givens_m[] = {"伟", "强", "磊", "军", "勇", "杰",
                                       "涛", "明", "超", "刚", "平", "辉"};
static const char *const givens_f[] = {"芳", "娜", "敏",   "静", "丽",   "艳",
                                       "娟", "霞", "秀英", "玲", "桂英", "燕"};
/* villages and communities of 永吉县 (data/divisions.csv) */
static const char *const areas[] = {
    "220221100001", "220221100002", "220221100003", "220221100004",
    "220221100005", "220221100006", "220221100200", "220221101",
    "220221102",    "220221103",    "220221104",    "220221200"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static char
check_char(const char *s17)
{
    static const int w[] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                            3, 7, 9,  10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

/*
 * Resident i: birth dates spread over 80 years (about 3 residents per day
 * at 100 000, as in a real county: the MPI blocks on the birth date), a
 * unique (birth day, sequence) pair and a valid ID number.
 */
static void
make_person(person *p, long i)
{
    unsigned long r = (unsigned long)i * 2654435761u;
    long day = i % 29220;
    int seq = (int)((i / 29220) % 500) * 2 + (int)(r >> 7 & 1);
    int64_t d0 = days_from_civil(1940, 1, 1) + day;
    /* civil from days (Howard Hinnant) */
    int64_t z = d0 + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    y += mm <= 2;
    char s17[32];
    (void)snprintf(s17, sizeof(s17), "220221%04d%02d%02d%03d", (int)y % 10000,
                   (int)mm, (int)dd, seq % 1000);
    (void)snprintf(p->idnum, sizeof(p->idnum), "%.17s%c", s17, check_char(s17));
    p->sex = seq % 2 == 1 ? 'M' : 'F';
    (void)snprintf(p->birth, sizeof(p->birth), "%04d-%02d-%02d", (int)y,
                   (int)mm, (int)dd);
    p->birth_ms = d0 * 86400000LL;
    const char *fam = surnames[r % NELEM(surnames)];
    const char *giv = p->sex == 'M' ? givens_m[(r >> 8) % NELEM(givens_m)]
                                    : givens_f[(r >> 8) % NELEM(givens_f)];
    (void)snprintf(p->family, sizeof(p->family), "%s", fam);
    (void)snprintf(p->given, sizeof(p->given), "%s", giv);
    (void)snprintf(p->name, sizeof(p->name), "%s%s", fam, giv);
    rhis_pinyin_of(p->name, p->pinyin, sizeof(p->pinyin));
    (void)snprintf(p->phone, sizeof(p->phone), "138%08ld",
                   (long)(r % 100000000));
    p->area = areas[(r >> 16) % NELEM(areas)];
    rhis_buf b;
    rhis_buf_init(&b, 4096);
    rhis_buf_printf(
        &b,
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"%s\","
        "\"value\":\"%s\"}],\"name\":[{\"use\":\"official\",\"text\":\"%s\","
        "\"family\":\"%s\",\"given\":[\"%s\"]}],\"telecom\":[{\"system\":"
        "\"phone\",\"value\":\"%s\",\"use\":\"mobile\"}],\"gender\":\"%s\","
        "\"birthDate\":\"%s\",\"address\":[{\"use\":\"home\",\"extension\":"
        "[{\"url\":\"%saddress-division\",\"valueCode\":\"%s\"}]}]",
        RHIS_SYS_IDNUM, p->idnum, p->name, p->family, p->given, p->phone,
        p->sex == 'M' ? "male" : "female", p->birth, RHIS_EXT_BASE, p->area);
    rhis_buf_puts(&b, "}");
    p->json = rhis_xstrdup(b.data);
    rhis_buf_reset(&b);
    rhis_buf_printf(&b,
                    "{\"resourceType\":\"Patient\",\"id\":\"%ld\",\"meta\":"
                    "{\"versionId\":\"1\",\"lastUpdated\":"
                    "\"2026-11-23T12:00:00.000Z\"},%s",
                    i + 1, p->json + strlen("{\"resourceType\":\"Patient\","));
    p->version = rhis_buf_take(&b);
}

static void
die(rhis_db *db, const char *what)
{
    (void)fprintf(stderr, "bench_import: %s: %s\n", what,
                  db != NULL ? rhis_db_errmsg(db) : "");
    exit(1);
}

/* SQLite: one prepared statement per table, reset and rebound per row. */
static void
raw_sqlite(rhis_db *db, person *ps, long n, int batch, int64_t ts)
{
    rhis_stmt *pat, *ident, *ver;
    if (rhis_db_prepare(db,
                        "INSERT INTO patient (id, version, deleted,"
                        " updated_ms, id_number, name, family, given,"
                        " name_pinyin, sex, birth_date, birth_ms, phone,"
                        " area_code, active) VALUES (?, 1, 0, ?, ?, ?, ?, ?,"
                        " ?, ?, ?, ?, ?, ?, 1)",
                        &pat) != RHIS_OK ||
        rhis_db_prepare(db,
                        "INSERT INTO patient_identifier (patient_id, system,"
                        " value) VALUES (?, ?, ?)",
                        &ident) != RHIS_OK ||
        rhis_db_prepare(db,
                        "INSERT INTO fhir_version (type, id, version, ts,"
                        " deleted, method, user_id, patient_id, json)"
                        " VALUES ('Patient', ?, 1, ?, 0, 'POST', 0, ?, ?)",
                        &ver) != RHIS_OK)
        die(db, "prepare");
    for (long i = 0; i < n; i++) {
        if (i % batch == 0 && rhis_db_begin(db) != RHIS_OK)
            die(db, "begin");
        person *p = &ps[i];
        char sex[2] = {p->sex, '\0'};
        int64_t id = i + 1;
        rhis_db_reset(pat);
        rhis_db_bind_int64(pat, 1, id);
        rhis_db_bind_int64(pat, 2, ts);
        rhis_db_bind_text(pat, 3, p->idnum);
        rhis_db_bind_text(pat, 4, p->name);
        rhis_db_bind_text(pat, 5, p->family);
        rhis_db_bind_text(pat, 6, p->given);
        rhis_db_bind_text(pat, 7, p->pinyin);
        rhis_db_bind_text(pat, 8, sex);
        rhis_db_bind_text(pat, 9, p->birth);
        rhis_db_bind_int64(pat, 10, p->birth_ms);
        rhis_db_bind_text(pat, 11, p->phone);
        rhis_db_bind_text(pat, 12, p->area);
        if (rhis_db_step(pat) != RHIS_DONE)
            die(db, "insert patient");
        rhis_db_reset(ident);
        rhis_db_bind_int64(ident, 1, id);
        rhis_db_bind_text(ident, 2, RHIS_SYS_IDNUM);
        rhis_db_bind_text(ident, 3, p->idnum);
        if (rhis_db_step(ident) != RHIS_DONE)
            die(db, "insert identifier");
        rhis_db_reset(ver);
        rhis_db_bind_int64(ver, 1, id);
        rhis_db_bind_int64(ver, 2, ts);
        rhis_db_bind_int64(ver, 3, id);
        rhis_db_bind_text(ver, 4, p->version);
        if (rhis_db_step(ver) != RHIS_DONE)
            die(db, "insert version");
        if ((i + 1) % batch == 0 || i + 1 == n)
            if (rhis_db_commit(db) != RHIS_OK)
                die(db, "commit");
    }
    rhis_db_finalize(pat);
    rhis_db_finalize(ident);
    rhis_db_finalize(ver);
}

#define PG_ROWS 100 /* rows per multi-row INSERT */

/* Builds "INSERT ... VALUES (row), (row), ..." for k rows. */
static char *
multi_sql(const char *head, const char *row, int k)
{
    rhis_buf b;
    rhis_buf_init(&b, 1u << 20);
    rhis_buf_puts(&b, head);
    for (int i = 0; i < k; i++) {
        rhis_buf_puts(&b, i == 0 ? " " : ", ");
        rhis_buf_puts(&b, row);
    }
    return rhis_buf_take(&b);
}

/* PostgreSQL: multi-row INSERTs of PG_ROWS rows per table. */
static void
raw_pg(rhis_db *db, person *ps, long n, int batch, int64_t ts)
{
    static const char pat_head[] =
        "INSERT INTO patient (id, version, deleted, updated_ms, id_number,"
        " name, family, given, name_pinyin, sex, birth_date, birth_ms, phone,"
        " area_code, active) VALUES";
    static const char pat_row[] =
        "(?, 1, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
    static const char id_head[] =
        "INSERT INTO patient_identifier (patient_id, system, value) VALUES";
    static const char ver_head[] =
        "INSERT INTO fhir_version (type, id, version, ts, deleted, method,"
        " user_id, patient_id, json) VALUES";
    static const char ver_row[] = "('Patient', ?, 1, ?, 0, 'POST', 0, ?, ?)";
    for (long i = 0; i < n;) {
        if (i % batch == 0 && rhis_db_begin(db) != RHIS_OK)
            die(db, "begin");
        int k = (int)(n - i < PG_ROWS ? n - i : PG_ROWS);
        if ((i % batch) + k > batch)
            k = (int)(batch - i % batch);
        char *q1 = multi_sql(pat_head, pat_row, k);
        char *q2 = multi_sql(id_head, "(?, ?, ?)", k);
        char *q3 = multi_sql(ver_head, ver_row, k);
        rhis_stmt *s1, *s2, *s3;
        if (rhis_db_prepare(db, q1, &s1) != RHIS_OK ||
            rhis_db_prepare(db, q2, &s2) != RHIS_OK ||
            rhis_db_prepare(db, q3, &s3) != RHIS_OK)
            die(db, "prepare");
        int a = 1, b = 1, c = 1;
        for (int j = 0; j < k; j++) {
            person *p = &ps[i + j];
            char sex[2] = {p->sex, '\0'};
            int64_t id = i + j + 1;
            rhis_db_bind_int64(s1, a++, id);
            rhis_db_bind_int64(s1, a++, ts);
            rhis_db_bind_text(s1, a++, p->idnum);
            rhis_db_bind_text(s1, a++, p->name);
            rhis_db_bind_text(s1, a++, p->family);
            rhis_db_bind_text(s1, a++, p->given);
            rhis_db_bind_text(s1, a++, p->pinyin);
            rhis_db_bind_text(s1, a++, sex);
            rhis_db_bind_text(s1, a++, p->birth);
            rhis_db_bind_int64(s1, a++, p->birth_ms);
            rhis_db_bind_text(s1, a++, p->phone);
            rhis_db_bind_text(s1, a++, p->area);
            rhis_db_bind_int64(s2, b++, id);
            rhis_db_bind_text(s2, b++, RHIS_SYS_IDNUM);
            rhis_db_bind_text(s2, b++, p->idnum);
            rhis_db_bind_int64(s3, c++, id);
            rhis_db_bind_int64(s3, c++, ts);
            rhis_db_bind_int64(s3, c++, id);
            rhis_db_bind_text(s3, c++, p->version);
        }
        if (rhis_db_step(s1) != RHIS_DONE)
            die(db, "insert patients");
        if (rhis_db_step(s2) != RHIS_DONE)
            die(db, "insert identifiers");
        if (rhis_db_step(s3) != RHIS_DONE)
            die(db, "insert versions");
        rhis_db_finalize(s1);
        rhis_db_finalize(s2);
        rhis_db_finalize(s3);
        rhis_free(q1);
        rhis_free(q2);
        rhis_free(q3);
        i += k;
        if (i % batch == 0 || i == n)
            if (rhis_db_commit(db) != RHIS_OK)
                die(db, "commit");
    }
    /* the identity must continue after the explicit ids */
    if (rhis_db_run(db,
                    "SELECT setval(pg_get_serial_sequence('patient', 'id'),"
                    " (SELECT MAX(id) FROM patient))",
                    "") != RHIS_OK)
        die(db, "setval");
}

static int64_t
count_patients(const char *url)
{
    rhis_db *db = NULL;
    char err[256];
    if (rhis_db_open(&db, url, err, sizeof(err)) != RHIS_OK) {
        (void)fprintf(stderr, "bench_import: %s\n", err);
        exit(1);
    }
    int64_t n = 0;
    if (rhis_db_scalar_int64(db, &n,
                             "SELECT COUNT(*) FROM patient p JOIN fhir_version"
                             " v ON v.type = 'Patient' AND v.id = p.id",
                             "") != RHIS_OK)
        die(db, "count");
    rhis_db_close(db);
    return n;
}

static double
time_raw(const char *url, person *ps, long n, int batch, int *pg)
{
    rhis_db *db = NULL;
    char err[256];
    if (rhis_db_open(&db, url, err, sizeof(err)) != RHIS_OK) {
        (void)fprintf(stderr, "bench_import: %s\n", err);
        exit(1);
    }
    *pg = rhis_db_dialect(db) == RHIS_DIALECT_POSTGRES;
    /* the page cache `rhis import` gives its connection, so both sides
     * read their indexes from the same amount of memory */
    if (!*pg && rhis_db_exec(db, "PRAGMA cache_size = -65536") != RHIS_OK)
        die(db, "cache_size");
    double t0 = now_s();
    if (*pg)
        raw_pg(db, ps, n, batch, (int64_t)time(NULL) * 1000);
    else
        raw_sqlite(db, ps, n, batch, (int64_t)time(NULL) * 1000);
    double sec = now_s() - t0;
    rhis_db_close(db);
    return sec;
}

/* Runs the real command, `RHIS import`, as a child process. */
static double
time_import(const char *rhis, const char *url, char *path, int batch)
{
    char nbuf[16];
    (void)snprintf(nbuf, sizeof(nbuf), "%d", batch);
    char a_import[] = "import", a_db[] = "--db", a_batch[] = "--batch",
         a_quiet[] = "--no-progress";
    char *args[] = {(char *)(uintptr_t)rhis,
                    a_import,
                    a_db,
                    (char *)(uintptr_t)url,
                    a_batch,
                    nbuf,
                    a_quiet,
                    path,
                    NULL};
    pid_t pid;
    double t0 = now_s();
    if (posix_spawn(&pid, rhis, NULL, NULL, args, environ) != 0) {
        perror(rhis);
        exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double sec = now_s() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        (void)fprintf(stderr, "bench_import: rhis import failed (status %d)\n",
                      status);
        exit(1);
    }
    return sec;
}

int
main(int argc, char **argv)
{
    if (argc < 6) {
        (void)fprintf(stderr, "usage: bench_import RHIS N RAW_URL IMPORT_URL "
                              "WORKDIR [BATCH]\n");
        return 2;
    }
    const char *rhis = argv[1];
    long n = strtol(argv[2], NULL, 10);
    const char *raw_url = argv[3], *imp_url = argv[4], *dir = argv[5];
    int batch = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 500;
    if (n < 1 || n > 10000000 || batch < 1) {
        (void)fprintf(stderr, "bench_import: bad N or BATCH\n");
        return 2;
    }

    /* the data, before any clock starts */
    person *ps = rhis_xcalloc((size_t)n, sizeof(*ps));
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/patients.ndjson", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        make_person(&ps[i], i);
        (void)fputs(ps[i].json, f);
        (void)fputc('\n', f);
    }
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }

    int import_first = argc > 7 && strcmp(argv[7], "import-first") == 0;
    double raw_s = 0, imp_s = 0;
    int pg = 0;
    for (int step = 0; step < 2; step++) {
        if ((step == 0) != import_first)
            raw_s = time_raw(raw_url, ps, n, batch, &pg);
        else
            imp_s = time_import(rhis, imp_url, path, batch);
    }
    int64_t nraw = count_patients(raw_url), nimp = count_patients(imp_url);
    if (nraw != n || nimp != n) {
        (void)fprintf(
            stderr,
            "bench_import: expected %ld patients, raw has %lld, import "
            "%lld\n",
            n, (long long)nraw, (long long)nimp);
        return 1;
    }
    printf("RESULT engine=%s n=%ld batch=%d first=%s raw_s=%.3f "
           "raw_rows_s=%.0f import_s=%.3f import_rows_s=%.0f ratio=%.1f%%\n",
           pg ? "postgres" : "sqlite", n, batch,
           import_first ? "import" : "raw", raw_s, (double)n / raw_s, imp_s,
           (double)n / imp_s, 100.0 * raw_s / imp_s);
    for (long i = 0; i < n; i++) {
        rhis_free(ps[i].json);
        rhis_free(ps[i].version);
    }
    rhis_free(ps);
    return 0;
}
