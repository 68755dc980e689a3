/*
 * reftable.c - the health record's reference tables (LOINC codes RHIS
 * knows, the national immunisation programme's vaccines): CSV files of the
 * data directory, read once on first use, looked up by code.
 *
 * Why: every table has the same life - check the header, turn each row
 * into a record or name the bad line, keep the records for the life of the
 * process, fail a request with 503 (and a log line) when the file cannot
 * be read - so it is written once and each table is a descriptor.
 */
#include <stdio.h>
#include <string.h>

#include "ehr_int.h"
#include "rhis/csv.h"
#include "rhis/log.h"

/* The fields of a header row joined by commas, for comparison. */
static void
join(char **f, int nf, char *out, size_t len)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < nf && k < len; i++) {
        int w = snprintf(out + k, len - k, "%s%s", i > 0 ? "," : "", f[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

static rhis_status
load(ehr_reftable *t, const char *dir, char *err, size_t errlen)
{
    char path[600], head[256];
    rhis_csv csv;
    char **f;
    (void)snprintf(path, sizeof(path), "%s/%s", dir, t->file);
    rhis_status rc = rhis_csv_open(&csv, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    int nf = rhis_csv_next(&csv, &f);
    if (nf > 0)
        join(f, nf, head, sizeof(head));
    if (nf != t->ncols || strcmp(head, t->header) != 0) {
        (void)snprintf(err, errlen, "%s: header must be %s", path, t->header);
        rhis_csv_close(&csv);
        return RHIS_EINVAL;
    }
    size_t cap = 64, n = 0;
    char *rows = rhis_xcalloc(cap, t->rowsize);
    rhis_arena *a = rhis_arena_new(); /* the rows' strings */
    while ((nf = rhis_csv_next(&csv, &f)) > 0) {
        if (n == cap) {
            cap *= 2;
            rows = rhis_xrealloc(rows, cap * t->rowsize);
        }
        memset(rows + n * t->rowsize, 0, t->rowsize);
        if (nf != t->ncols || !t->fill(rows + n * t->rowsize, f, a)) {
            (void)snprintf(err, errlen, "%s:%ld: bad row (%s)", path, csv.line,
                           t->row_rule);
            rc = RHIS_EINVAL;
            break;
        }
        n++;
    }
    if (nf < 0 && rc == RHIS_OK) {
        (void)snprintf(err, errlen, "%s:%ld: malformed CSV", path, csv.line);
        rc = RHIS_EINVAL;
    }
    rhis_csv_close(&csv);
    if (rc != RHIS_OK) {
        rhis_free(rows);
        rhis_arena_free(a);
        return rc;
    }
    t->rows = rows; /* kept for the life of the process */
    t->strings = a;
    t->n = n;
    return RHIS_OK;
}

rhis_status
rhis_ehr_reftable_find(rhis_fhir_ctx *c,
                       ehr_reftable *t,
                       const char *code,
                       const void **out)
{
    char err[700];
    rhis_status rc = RHIS_OK;
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    if (t->rows == NULL)
        rc = load(t, rhis_ehr_data_dir(c), err, sizeof(err));
    pthread_mutex_unlock(&t->lock);
    if (rc != RHIS_OK) {
        rhis_log(RHIS_LOG_ERR, "ehr: cannot load the %s table: %s", t->what,
                 err);
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "the %s reference table cannot be read (see "
                              "the server log)",
                              t->what);
    }
    const char *rows = t->rows;
    for (size_t i = 0; code != NULL && i < t->n; i++) {
        /* every record begins with its code */
        const char *key = *(const char *const *)(rows + i * t->rowsize);
        if (strcmp(key, code) == 0) {
            *out = rows + i * t->rowsize;
            break;
        }
    }
    return RHIS_OK;
}
