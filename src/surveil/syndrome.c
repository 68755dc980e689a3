/*
 * syndrome.c - fever- and intestinal-clinic daily counts derived from the
 * health record: each outpatient or emergency Encounter is matched against
 * the syndromes of data/syndromes.csv (chief-complaint keywords and
 * ICD-10 prefixes) and counted per (syndrome, township, institution, day).
 *
 * Why: sentinel clinics that already record encounters in RHIS should not
 * have to push counts as well; and a syndrome defined as data (ESSENCE
 * style) can be tuned without a rebuild.  The result goes into
 * channel_count as source 'derived', site 'encounters', so it never
 * overwrites a count an institution pushed itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/csv.h"
#include "rhis/log.h"
#include "surveil_int.h"

#define SYN_HEADER "code,name,channel,keywords,icd10,note"
#define SYN_MAX    32 /* a bit each in a mask */
#define SYN_TERMS  24

typedef struct syndrome {
    char code[32];
    char name[64];
    rhis_channel channel;
    int nkw, nicd;
    char kw[SYN_TERMS][48];
    char icd[SYN_TERMS][16];
} syndrome;

static pthread_mutex_t syn_lock = PTHREAD_MUTEX_INITIALIZER;
static syndrome *syndromes; /* kept for the life of the process */
static int nsyndromes;

/* Splits ';'-separated s into out[][w]; -1 when a term is empty, too long
 * or there are too many. */
static int
split(const char *s, char (*out)[48], size_t w, int max)
{
    int n = 0;
    while (*s != '\0') {
        const char *e = strchr(s, ';');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        if (len == 0 || len >= w || n == max)
            return -1;
        memcpy(out[n], s, len);
        out[n][len] = '\0';
        n++;
        s += len;
        if (*s == ';' && *++s == '\0')
            return -1;
    }
    return n;
}

/* Parses path into a new array; "path:line: why" in err on failure. */
static rhis_status
parse_syndromes(
    const char *path, syndrome **out, int *nout, char *err, size_t errlen)
{
    rhis_csv csv;
    char **f;
    if (rhis_csv_open(&csv, path, err, errlen) != RHIS_OK)
        return RHIS_EIO;
    int nf = rhis_csv_next(&csv, &f);
    if (nf != 6 || strcmp(f[0], "code") != 0 || strcmp(f[1], "name") != 0 ||
        strcmp(f[2], "channel") != 0 || strcmp(f[3], "keywords") != 0 ||
        strcmp(f[4], "icd10") != 0 || strcmp(f[5], "note") != 0) {
        (void)snprintf(err, errlen, "%s:1: header must be %s", path,
                       SYN_HEADER);
        rhis_csv_close(&csv);
        return RHIS_EINVAL;
    }
    syndrome *s = rhis_xcalloc(SYN_MAX, sizeof(*s));
    int n = 0;
    rhis_status rc = RHIS_OK;
    char icd[SYN_TERMS][48];
    while (rc == RHIS_OK && (nf = rhis_csv_next(&csv, &f)) > 0) {
        const char *why = NULL;
        syndrome *y = &s[n];
        if (n == SYN_MAX)
            why = "more than 32 syndromes";
        else if (nf != 6)
            why = "6 fields expected";
        else if (f[0][0] == '\0' || strlen(f[0]) >= sizeof(y->code) ||
                 strspn(f[0], "abcdefghijklmnopqrstuvwxyz_") != strlen(f[0]))
            why = "code must be 1..31 lower-case letters or '_'";
        else if (strlen(f[1]) >= sizeof(y->name))
            why = "name is too long";
        else if ((y->channel = rhis_channel_parse(f[2])) != RHIS_CH_FEVER &&
                 y->channel != RHIS_CH_INTESTINAL)
            why = "channel must be fever_clinic or intestinal_clinic";
        else if ((y->nkw = split(f[3], y->kw, 48, SYN_TERMS)) < 0)
            why = "keywords: ';'-separated, each 1..47 bytes, at most 24";
        else if ((y->nicd = split(f[4], icd, 16, SYN_TERMS)) < 0)
            why = "icd10: ';'-separated codes or prefixes, at most 24";
        else if (y->nkw + y->nicd == 0)
            why = "a syndrome needs keywords or ICD-10 codes";
        for (int i = 0; why == NULL && i < y->nicd; i++) {
            if (!surv_icd10_valid(icd[i]))
                why = "icd10: not an ICD-10 code or prefix";
            else
                memcpy(y->icd[i], icd[i], strlen(icd[i]) + 1);
        }
        if (why == NULL)
            (void)snprintf(y->code, sizeof(y->code), "%s", f[0]);
        for (int i = 0; why == NULL && i < n; i++)
            if (strcmp(s[i].code, y->code) == 0)
                why = "code repeats an earlier row";
        if (why != NULL) {
            (void)snprintf(err, errlen, "%s:%ld: %s", path, csv.line, why);
            rc = RHIS_EINVAL;
            break;
        }
        (void)snprintf(y->name, sizeof(y->name), "%s", f[1]);
        n++;
    }
    if (rc == RHIS_OK && nf < 0) {
        (void)snprintf(err, errlen, "%s:%ld: malformed CSV record", path,
                       csv.next_line);
        rc = RHIS_EINVAL;
    }
    rhis_csv_close(&csv);
    if (rc != RHIS_OK) {
        rhis_free(s);
        return rc;
    }
    *out = s;
    *nout = n;
    return RHIS_OK;
}

static rhis_status
load(rhis_fhir_ctx *c)
{
    char err[700];
    rhis_status rc = RHIS_OK;
    pthread_mutex_lock(&syn_lock);
    if (syndromes == NULL) {
        char path[600];
        (void)snprintf(path, sizeof(path), "%s/syndromes.csv",
                       surv_data_dir(c));
        rc = parse_syndromes(path, &syndromes, &nsyndromes, err, sizeof(err));
    }
    pthread_mutex_unlock(&syn_lock);
    if (rc == RHIS_OK)
        return RHIS_OK;
    rhis_log(RHIS_LOG_ERR, "surveil: cannot load the syndromes: %s", err);
    return rhis_fhir_fail(c, RHIS_EIO, NULL,
                          "the syndrome table cannot be read (see the server "
                          "log)");
}

/* ICD-10 code matches prefix p: a category matches its subcategories. */
static int
icd_match(const char *code, const char *p)
{
    size_t n = strlen(p);
    return code != NULL && strncmp(code, p, n) == 0 &&
           (code[n] == '\0' || code[n] == '.' || n > 3);
}

/* The syndromes (bit mask) an encounter's text and codes match. */
static unsigned
match(const char *text, const char *const *codes, int ncodes)
{
    unsigned m = 0;
    for (int s = 0; s < nsyndromes; s++) {
        const syndrome *y = &syndromes[s];
        int hit = 0;
        for (int i = 0; !hit && text != NULL && i < y->nkw; i++)
            hit = strstr(text, y->kw[i]) != NULL;
        for (int j = 0; !hit && j < ncodes; j++)
            for (int i = 0; !hit && i < y->nicd; i++)
                hit = icd_match(codes[j], y->icd[i]);
        if (hit)
            m |= 1u << s;
    }
    return m;
}

typedef struct tally {
    int syn;
    char town[16];
    int64_t inst;
    char day[11];
    int64_t n;
} tally;

static int
tally_cmp(const void *a, const void *b)
{
    const tally *x = a, *y = b;
    if (x->syn != y->syn)
        return x->syn < y->syn ? -1 : 1;
    int r = strcmp(x->town, y->town);
    if (r != 0)
        return r;
    if (x->inst != y->inst)
        return x->inst < y->inst ? -1 : 1;
    return strcmp(x->day, y->day);
}

typedef struct tallies {
    tally *v;
    size_t n, cap;
} tallies;

static void
add_encounter(
    tallies *t, unsigned mask, const char *area, int64_t inst, int64_t start_ms)
{
    char day[11];
    rhis_surv_day_of(start_ms, day);
    for (int s = 0; s < nsyndromes; s++) {
        if ((mask & (1u << s)) == 0)
            continue;
        if (t->n == t->cap) {
            t->cap = t->cap != 0 ? t->cap * 2 : 256;
            t->v = rhis_xrealloc(t->v, t->cap * sizeof(*t->v));
        }
        tally *x = &t->v[t->n++];
        x->syn = s;
        (void)snprintf(x->town, sizeof(x->town), "%.9s", area);
        x->inst = inst;
        memcpy(x->day, day, sizeof(day));
        x->n = 1;
    }
}

/* Reads the encounters of [from_ms, to_ms) with their diagnoses. */
static rhis_status
scan(rhis_fhir_ctx *c, int64_t from_ms, int64_t to_ms, tallies *t)
{
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_query(
        c->db, &st,
        "SELECT e.id, e.start_ms, e.reason_code, e.reason_text,"
        " i.area_code, e.institution_id, d.code FROM encounter e"
        " JOIN institution i ON i.id = e.institution_id"
        " LEFT JOIN condition d ON d.encounter_id = e.id AND d.deleted = 0"
        " WHERE e.deleted = 0 AND e.class IN ('AMB','EMER')"
        " AND e.status NOT IN ('cancelled','entered-in-error')"
        " AND e.start_ms >= ? AND e.start_ms < ? ORDER BY e.id",
        "ii", from_ms, to_ms);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read encounters");
    int64_t cur = 0, start = 0, inst = 0;
    char *text = NULL, area[16] = "";
    const char *codes[SYN_TERMS + 1];
    int ncodes = 0;
    rhis_arena *a = rhis_arena_new();
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        int64_t id = rhis_db_column_int64(st, 0);
        if (id != cur) {
            if (cur != 0)
                add_encounter(t, match(text, codes, ncodes), area, inst, start);
            rhis_arena_free(a);
            a = rhis_arena_new();
            cur = id;
            start = rhis_db_column_int64(st, 1);
            const char *rc_code = rhis_db_column_text(st, 2);
            const char *tx = rhis_db_column_text(st, 3);
            text = tx != NULL ? rhis_arena_strdup(a, tx) : NULL;
            (void)snprintf(area, sizeof(area), "%s",
                           rhis_db_column_text(st, 4));
            inst = rhis_db_column_int64(st, 5);
            ncodes = 0;
            if (rc_code != NULL)
                codes[ncodes++] = rhis_arena_strdup(a, rc_code);
        }
        const char *dx = rhis_db_column_text(st, 6);
        if (dx != NULL && ncodes < SYN_TERMS)
            codes[ncodes++] = rhis_arena_strdup(a, dx);
    }
    if (cur != 0 && rc == RHIS_DONE)
        add_encounter(t, match(text, codes, ncodes), area, inst, start);
    rhis_arena_free(a);
    rhis_db_finalize(st);
    if (rc != RHIS_DONE)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot read encounters");
    return RHIS_OK;
}

rhis_status
rhis_syndrome_derive(rhis_fhir_ctx *c,
                     const char *day_from,
                     const char *day_to,
                     int64_t *rows)
{
    int64_t from_ms, to_ms;
    *rows = 0;
    if (rhis_surv_day_ms(day_from, &from_ms) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, "from",
                              "from must be a date YYYY-MM-DD");
    if (rhis_surv_day_ms(day_to, &to_ms) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, "to",
                              "to must be a date YYYY-MM-DD");
    if (to_ms < from_ms)
        return rhis_fhir_fail(c, RHIS_EINVAL, "to", "to is before from");
    if (to_ms - from_ms > (int64_t)366 * SURV_DAY_MS)
        return rhis_fhir_fail(c, RHIS_EINVAL, "to",
                              "at most 367 days per derivation");
    rhis_status rc = load(c);
    if (rc != RHIS_OK)
        return rc;
    tallies t = {0};
    rc = scan(c, from_ms, to_ms + SURV_DAY_MS, &t);
    if (rc != RHIS_OK) {
        rhis_free(t.v);
        return rc;
    }
    if (t.n > 0)
        qsort(t.v, t.n, sizeof(*t.v), tally_cmp);
    int own;
    if ((rc = surv_tx_begin(c, &own)) != RHIS_OK) {
        rhis_free(t.v);
        return rc;
    }
    rc = rhis_db_run(c->db,
                     "DELETE FROM channel_count WHERE source = 'derived'"
                     " AND channel IN ('fever_clinic','intestinal_clinic')"
                     " AND day >= ? AND day <= ?",
                     "ss", day_from, day_to);
    if (rc != RHIS_OK)
        rc = rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot replace derived counts");
    for (size_t i = 0; rc == RHIS_OK && i < t.n;) {
        size_t j = i;
        int64_t n = 0;
        while (j < t.n && tally_cmp(&t.v[i], &t.v[j]) == 0)
            n += t.v[j++].n;
        rhis_channel_count x;
        memset(&x, 0, sizeof(x));
        x.channel = syndromes[t.v[i].syn].channel;
        (void)snprintf(x.area_code, sizeof(x.area_code), "%s", t.v[i].town);
        x.institution_id = t.v[i].inst;
        (void)snprintf(x.site, sizeof(x.site), "encounters");
        memcpy(x.day, t.v[i].day, sizeof(x.day));
        (void)snprintf(x.category, sizeof(x.category), "%s",
                       syndromes[t.v[i].syn].code);
        x.count = n;
        rc = surv_channel_put(c, &x, "derived");
        if (rc == RHIS_OK)
            (*rows)++;
        i = j;
    }
    rhis_free(t.v);
    if (rc == RHIS_OK) {
        char detail[80];
        (void)snprintf(detail, sizeof(detail), "derive %s..%s: %lld rows",
                       day_from, day_to, (long long)*rows);
        rc =
            surv_audit(c, "C", "syndrome-derive", "ChannelCount", 0, 0, detail);
    }
    return surv_tx_end(c, own, rc);
}
