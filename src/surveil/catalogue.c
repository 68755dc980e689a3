/*
 * catalogue.c - the notifiable-disease catalogue (法定传染病目录) as dated
 * reference data: data/notifiable-diseases.csv, read once per process,
 * looked up by code or ICD-10 code on a Beijing day.
 *
 * Why: the list changes by announcement (COVID-19 from 乙类甲管 to 乙类乙管
 * on 2023-01-08, mpox added 2023-09-20, the revised law of 2025-09-01),
 * and a card must be judged by the list in force on its diagnosis day,
 * not today's.  Each row carries its validity period; periods of one code
 * must not overlap, so "the row in force on day D" is unique.  The file
 * is small (≈50 rows): a linear scan beats any index.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/csv.h"
#include "rhis/log.h"
#include "surveil_int.h"

#define HEADER                                                                 \
    "code,name,name_en,class,managed_as_a,icd10,deadline_hours,"               \
    "fixed_threshold,mpm_percentile,min_cases,valid_from,valid_to,note"
#define NCOLS 13

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rhis_disease *catalogue; /* kept for the life of the process */
static size_t ncatalogue;

static int
copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

static int
small_int(const char *s, int lo, int hi, int *out)
{
    int v = rhis_parse_int(s);
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int
is_day(const char *s)
{
    int64_t ms;
    return rhis_surv_day_ms(s, &ms) == RHIS_OK;
}

/* ';'-separated ICD-10 codes or prefixes, or empty. */
static int
icd_list_valid(const char *s)
{
    char buf[32];
    while (*s != '\0') {
        const char *e = strchr(s, ';');
        size_t n = e != NULL ? (size_t)(e - s) : strlen(s);
        if (n == 0 || n >= sizeof(buf))
            return 0;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (!surv_icd10_valid(buf))
            return 0;
        s += n;
        if (*s == ';') {
            s++;
            if (*s == '\0')
                return 0;
        }
    }
    return 1;
}

/* Fills d from the fields of one row; on failure writes why to why. */
static int
fill(rhis_disease *d, char **f, char *why, size_t wlen)
{
    static const char *const classes[] = {"A", "B", "C", "other"};
    const char *what = NULL;
    memset(d, 0, sizeof(*d));
    d->dclass = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(f[3], classes[i]) == 0)
            d->dclass = i + 1;
    if (f[0][0] == '\0' || !copy(d->code, sizeof(d->code), f[0]))
        what = "code must be 1..15 bytes";
    else if (strspn(f[0], "abcdefghijklmnopqrstuvwxyz0123456789_") !=
             strlen(f[0]))
        what = "code must be lower-case letters, digits and '_'";
    else if (f[1][0] == '\0' || !copy(d->name, sizeof(d->name), f[1]))
        what = "name must be 1..95 bytes";
    else if (!copy(d->name_en, sizeof(d->name_en), f[2]))
        what = "name_en must be at most 95 bytes";
    else if (d->dclass == 0)
        what = "class must be A, B, C or other";
    else if (!small_int(f[4], 0, 1, &d->managed_as_a))
        what = "managed_as_a must be 0 or 1";
    else if (!copy(d->icd10, sizeof(d->icd10), f[5]) || !icd_list_valid(f[5]))
        what = "icd10 must be ';'-separated ICD-10 codes or prefixes";
    else if (!small_int(f[6], 2, 24, &d->deadline_hours) ||
             (d->deadline_hours != 2 && d->deadline_hours != 24))
        what = "deadline_hours must be 2 or 24";
    else if ((d->dclass == RHIS_CLASS_A || d->managed_as_a) &&
             d->deadline_hours != 2)
        what = "class A and 乙类甲管 diseases have a 2-hour deadline";
    else if (!small_int(f[7], 0, 1, &d->fixed_threshold))
        what = "fixed_threshold must be 0 or 1";
    else if (!small_int(f[8], 0, 99, &d->mpm_percentile) ||
             (d->mpm_percentile != 0 && d->mpm_percentile < 1))
        what = "mpm_percentile must be 0 (none) or 1..99";
    else if (!small_int(f[9], 1, 1000, &d->min_cases))
        what = "min_cases must be 1..1000";
    else if (!is_day(f[10]))
        what = "valid_from must be a date YYYY-MM-DD";
    else if (f[11][0] != '\0' && !is_day(f[11]))
        what = "valid_to must be empty or a date YYYY-MM-DD";
    else if (f[11][0] != '\0' && strcmp(f[11], f[10]) < 0)
        what = "valid_to is before valid_from";
    if (what != NULL) {
        (void)snprintf(why, wlen, "%s", what);
        return 0;
    }
    memcpy(d->valid_from, f[10], 11);
    (void)copy(d->valid_to, sizeof(d->valid_to), f[11]);
    return 1;
}

/* 1 if the periods of a and b share a day. */
static int
overlap(const rhis_disease *a, const rhis_disease *b)
{
    const char *ato = a->valid_to[0] != '\0' ? a->valid_to : "9999-12-31";
    const char *bto = b->valid_to[0] != '\0' ? b->valid_to : "9999-12-31";
    return strcmp(a->valid_from, bto) <= 0 && strcmp(b->valid_from, ato) <= 0;
}

rhis_status
rhis_disease_catalogue_parse(
    const char *path, rhis_disease **out, size_t *n, char *err, size_t errlen)
{
    rhis_csv csv;
    char **f;
    *out = NULL;
    *n = 0;
    rhis_status rc = rhis_csv_open(&csv, path, err, errlen);
    if (rc != RHIS_OK)
        return RHIS_EIO;
    int nf = rhis_csv_next(&csv, &f);
    char head[300] = "";
    size_t k = 0;
    for (int i = 0; i < nf && k < sizeof(head); i++) {
        int w = snprintf(head + k, sizeof(head) - k, "%s%s", i > 0 ? "," : "",
                         f[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    if (nf != NCOLS || strcmp(head, HEADER) != 0) {
        (void)snprintf(err, errlen, "%s:1: header must be %s", path, HEADER);
        rhis_csv_close(&csv);
        return RHIS_EINVAL;
    }
    size_t cap = 64, cnt = 0;
    rhis_disease *rows = rhis_xcalloc(cap, sizeof(*rows));
    char why[160];
    while (rc == RHIS_OK && (nf = rhis_csv_next(&csv, &f)) > 0) {
        if (cnt == cap) {
            cap *= 2;
            rows = rhis_xrealloc(rows, cap * sizeof(*rows));
        }
        if (nf != NCOLS) {
            (void)snprintf(err, errlen, "%s:%ld: %d fields, expected %d", path,
                           csv.line, nf, NCOLS);
            rc = RHIS_EINVAL;
        } else if (!fill(&rows[cnt], f, why, sizeof(why))) {
            (void)snprintf(err, errlen, "%s:%ld: %s", path, csv.line, why);
            rc = RHIS_EINVAL;
        } else {
            for (size_t i = 0; i < cnt; i++) {
                if (strcmp(rows[i].code, rows[cnt].code) == 0 &&
                    overlap(&rows[i], &rows[cnt])) {
                    (void)snprintf(err, errlen,
                                   "%s:%ld: validity of '%s' overlaps an "
                                   "earlier row of the same code",
                                   path, csv.line, rows[cnt].code);
                    rc = RHIS_EINVAL;
                    break;
                }
            }
            cnt++;
        }
    }
    if (rc == RHIS_OK && nf < 0) {
        (void)snprintf(err, errlen, "%s:%ld: malformed CSV record", path,
                       csv.next_line);
        rc = RHIS_EINVAL;
    }
    if (rc == RHIS_OK && cnt == 0) {
        (void)snprintf(err, errlen, "%s: no diseases", path);
        rc = RHIS_EINVAL;
    }
    rhis_csv_close(&csv);
    if (rc != RHIS_OK) {
        rhis_free(rows);
        return rc;
    }
    *out = rows;
    *n = cnt;
    return RHIS_OK;
}

rhis_status
rhis_disease_catalogue_load(const char *dir, char *err, size_t errlen)
{
    rhis_status rc = RHIS_OK;
    pthread_mutex_lock(&lock);
    if (catalogue == NULL) {
        char path[600];
        (void)snprintf(path, sizeof(path), "%s/notifiable-diseases.csv", dir);
        rhis_disease *rows;
        size_t n;
        rc = rhis_disease_catalogue_parse(path, &rows, &n, err, errlen);
        if (rc == RHIS_OK) {
            ncatalogue = n;
            catalogue = rows;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

rhis_status
surv_catalogue(rhis_fhir_ctx *c)
{
    char err[700];
    if (rhis_disease_catalogue_load(surv_data_dir(c), err, sizeof(err)) ==
        RHIS_OK)
        return RHIS_OK;
    rhis_log(RHIS_LOG_ERR, "surveil: cannot load the disease catalogue: %s",
             err);
    return rhis_fhir_fail(c, RHIS_EIO, NULL,
                          "the notifiable-disease catalogue cannot be read "
                          "(see the server log)");
}

const rhis_disease *
rhis_disease_all(size_t *n)
{
    pthread_mutex_lock(&lock);
    const rhis_disease *d = catalogue;
    *n = ncatalogue;
    pthread_mutex_unlock(&lock);
    return d;
}

static int
in_force(const rhis_disease *d, const char *day)
{
    return strcmp(d->valid_from, day) <= 0 &&
           (d->valid_to[0] == '\0' || strcmp(day, d->valid_to) <= 0);
}

rhis_status
rhis_disease_find(const char *code, const char *day, const rhis_disease **out)
{
    size_t n;
    const rhis_disease *all = rhis_disease_all(&n);
    *out = NULL;
    for (size_t i = 0; code != NULL && day != NULL && i < n; i++) {
        if (strcmp(all[i].code, code) == 0 && in_force(&all[i], day)) {
            *out = &all[i];
            return RHIS_OK;
        }
    }
    return RHIS_ENOTFOUND;
}

rhis_status
rhis_disease_by_icd10(const char *icd10,
                      const char *day,
                      const rhis_disease **out)
{
    size_t n, best = 0;
    const rhis_disease *all = rhis_disease_all(&n);
    *out = NULL;
    for (size_t i = 0; icd10 != NULL && day != NULL && i < n; i++) {
        if (!in_force(&all[i], day))
            continue;
        const char *s = all[i].icd10;
        while (*s != '\0') {
            const char *e = strchr(s, ';');
            size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
            /* a category (A22) matches its subcategories (A22.1,
             * A22.100); a subcategory matches by prefix (A22.1 ->
             * A22.100) */
            if (len > best && strncmp(icd10, s, len) == 0 &&
                (icd10[len] == '\0' || icd10[len] == '.' || len > 3)) {
                best = len;
                *out = &all[i];
            }
            s += len;
            if (*s == ';')
                s++;
        }
    }
    return *out != NULL ? RHIS_OK : RHIS_ENOTFOUND;
}
