/*
 * mpi.c - the master patient index: comparators, Fellegi-Sunter weights,
 * the in-memory blocking index, EM estimation of m and u, and the hooks
 * the Patient store and the CLI use (see rhis/mpi.h).
 *
 * Why: a duplicate resident splits a person's health record; most
 * duplicates come from records without the ID number and with typing
 * errors, so an exact key cannot find them.  Scoring every pair is out of
 * the question (10^12 pairs for a million residents), so residents are
 * indexed in memory under a few blocking keys, each robust to a different
 * error, and a query scores only the residents sharing a key with it.
 *
 * Layout of the index (memory per resident matters at 10 M):
 * - resident: one 72-byte struct per slot; strings are offsets into one
 *   interned pool (names repeat: 王伟 is a million people);
 * - blocking: one open-addressing table from a 64-bit key hash to the
 *   first resident of its chain; each resident carries one next-link per
 *   key type, so a chain costs 4 bytes per member and no allocation;
 * - ids: an open-addressing table from Patient id to slot;
 * - name frequencies: how many residents carry each name and each pinyin
 *   (keyed by pool offset), for the frequency-adjusted name weight.
 * One rwlock guards all of it: queries share it, writers take turns.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/log.h"
#include "rhis/mpi.h"
#include "rhis/pinyin.h"
#include "rhis/text.h"

/* ---- fields and levels ---- */

static const int nlevels[RHIS_MPI_NFIELDS] = {4, 4, 2, 3, 2};

static const char *const field_names[RHIS_MPI_NFIELDS] = {
    "name", "birthDate", "gender", "village", "phone"};

static const char *const level_names[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS] = {
    {"exact", "pinyin", "similar", "disagree"},
    {"exact", "near", "year", "disagree"},
    {"agree", "disagree", NULL, NULL},
    {"exact", "township", "disagree", NULL},
    {"exact", "disagree", NULL, NULL},
};

int
rhis_mpi_nlevels(rhis_mpi_field f)
{
    return (unsigned)f < RHIS_MPI_NFIELDS ? nlevels[f] : 0;
}

const char *
rhis_mpi_field_name(rhis_mpi_field f)
{
    return (unsigned)f < RHIS_MPI_NFIELDS ? field_names[f] : NULL;
}

const char *
rhis_mpi_level_name(rhis_mpi_field f, int level)
{
    if ((unsigned)f >= RHIS_MPI_NFIELDS)
        return NULL;
    if (level == RHIS_MPI_MISSING)
        return "missing";
    if (level < 0 || level >= nlevels[f])
        return NULL;
    return level_names[f][level];
}

/* ---- normalised values ---- */

#define NAME_CAP 128
#define PY_CAP   400
#define INI_CAP  136

/* A person reduced to what the comparators read. */
typedef struct norm {
    uint64_t idkey;      /* valid ID number as a number, 0 = none */
    uint64_t phone;      /* (digits << 8) | count, 0 = none */
    uint64_t area;       /* code padded to 12 digits, 0 = none */
    uint32_t birth;      /* yyyymmdd, 00 for an unknown month/day, 0 = none */
    uint8_t area_len;    /* 6, 9 or 12 */
    char sex;            /* 'M', 'F', 'O' or 0 */
    char name[NAME_CAP]; /* without spaces and middle dots, ASCII lower */
    char py[PY_CAP];     /* compact toneless pinyin: "wangli" */
    char ini[INI_CAP];   /* initials: "wl" */
} norm;

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t
u8len(unsigned char c)
{
    if (c < 0xC0)
        return 1;
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return 4;
}

/* Copies name without white space (ASCII, U+3000) or middle dots (U+00B7,
 * U+2022, U+30FB, '.'), ASCII lower-cased, whole characters only. */
static void
norm_name(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (s == NULL || !rhis_utf8_valid(s, strlen(s)))
        return;
    for (size_t i = 0; s[i] != '\0';) {
        unsigned char c = (unsigned char)s[i];
        size_t k = u8len(c);
        const char *p = s + i;
        i += k;
        if (c == ' ' || c == '\t' || c == '.' || c == '\r' || c == '\n')
            continue;
        if ((k == 2 && memcmp(p, "\xC2\xB7", 2) == 0) ||
            (k == 3 && (memcmp(p, "\xE3\x80\x80", 3) == 0 ||
                        memcmp(p, "\xE2\x80\xA2", 3) == 0 ||
                        memcmp(p, "\xE3\x83\xBB", 3) == 0)))
            continue;
        if (o + k >= cap)
            break;
        for (size_t j = 0; j < k; j++) {
            char ch = p[j];
            out[o++] =
                (k == 1 && ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
    }
    out[o] = '\0';
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" -> yyyymmdd (00 for what is not
 * given); 0 when absent or malformed. */
static uint32_t
parse_birth(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10)
        return 0;
    unsigned v[3] = {0, 0, 0};
    const int len[3] = {4, 2, 2};
    size_t i = 0;
    for (int part = 0; part < 3 && i < n; part++) {
        if (part > 0) {
            if (s[i] != '-')
                return 0;
            i++;
        }
        for (int k = 0; k < len[part]; k++, i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            v[part] = v[part] * 10 + (unsigned)(s[i] - '0');
        }
    }
    if (v[0] < 1800 || v[0] > 2999 || v[1] > 12 || v[2] > 31)
        return 0;
    if ((n >= 7 && v[1] == 0) || (n == 10 && v[2] == 0))
        return 0;
    return v[0] * 10000 + v[1] * 100 + v[2];
}

/* Digits of a phone number, without +86 / 0086; (digits << 8) | count,
 * 0 when there are fewer than 5 or more than 15 digits. */
static uint64_t
parse_phone(const char *s)
{
    if (s == NULL)
        return 0;
    char d[32];
    size_t n = 0;
    int plus = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n >= sizeof(d) - 1)
                return 0;
            d[n++] = *p;
        } else if (*p == '+' && n == 0) {
            plus = 1;
        } else if (*p != ' ' && *p != '-' && *p != '(' && *p != ')') {
            return 0;
        }
    }
    d[n] = '\0';
    const char *p = d;
    if (n > 4 && strncmp(d, "0086", 4) == 0)
        p += 4;
    else if ((plus || n == 13) && strncmp(d, "86", 2) == 0)
        p += 2;
    size_t k = strlen(p);
    if (k < 5 || k > 15)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    return (v << 8) | k;
}

/* A division code of 6, 9 or 12 digits, padded to 12; 0 otherwise. */
static uint64_t
parse_area(const char *s, uint8_t *len)
{
    *len = 0;
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n != 6 && n != 9 && n != 12)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    for (size_t i = n; i < 12; i++)
        v *= 10;
    if (v == 0)
        return 0;
    *len = (uint8_t)n;
    return v;
}

/* A valid ID number as one number: 17 digits * 11 + check (X = 10). */
static uint64_t
id_key(const char *s)
{
    rhis_idnum id;
    if (s == NULL || s[0] == '\0' ||
        rhis_idnum_check(s, &id, NULL, 0) != RHIS_OK)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 17; i++)
        v = v * 10 + (uint64_t)(id.normalised[i] - '0');
    return v * 11 + (uint64_t)(id.check == 'X' ? 10 : id.check - '0');
}

static void
normalise(const rhis_mpi_person *p, norm *n)
{
    n->idkey = id_key(p->id_number);
    n->phone = parse_phone(p->phone);
    n->area = parse_area(p->area_code, &n->area_len);
    n->birth = parse_birth(p->birth_date);
    char s = p->sex;
    if (s >= 'a' && s <= 'z')
        s = (char)(s - 32);
    n->sex = (s == 'M' || s == 'F' || s == 'O') ? s : 0;
    norm_name(p->name, n->name, sizeof(n->name));
    n->py[0] = n->ini[0] = '\0';
    if (n->name[0] == '\0')
        return;
    /* the original spelling: '·' separates words for the pinyin; a
     * longer result is cut at a syllable */
    char spaced[PY_CAP];
    rhis_pinyin_of(p->name, spaced, sizeof(spaced));
    size_t o = 0;
    for (const char *q = spaced; *q != '\0' && o + 1 < sizeof(n->py); q++)
        if (*q != ' ')
            n->py[o++] = *q;
    n->py[o] = '\0';
    rhis_pinyin_initials(p->name, n->ini, sizeof(n->ini));
}

/* ---- comparators on normalised values ---- */

/* 1 when a and b (not equal) are one insertion, deletion or substitution
 * apart. */
static int
edit1(const char *a, size_t la, const char *b, size_t lb)
{
    if (la == 0 || lb == 0)
        return 0;
    if (la == lb) {
        int diff = 0;
        for (size_t i = 0; i < la; i++)
            if (a[i] != b[i] && ++diff > 1)
                return 0;
        return diff == 1;
    }
    if (la + 1 == lb || lb + 1 == la) {
        const char *s = la < lb ? a : b, *l = la < lb ? b : a;
        size_t i = 0, j = 0;
        int skipped = 0;
        while (s[i] != '\0') {
            if (s[i] == l[j]) {
                i++;
                j++;
            } else if (skipped++) {
                return 0;
            } else {
                j++;
            }
        }
        return 1;
    }
    return 0;
}

/* The two sides of a comparison.  Interned sides compare strings by pool
 * offset (equal strings have equal offsets); off 0 = not in the pool. */
typedef struct side {
    const char *name, *py, *ini;
    uint32_t oname, opy, oini;
    int interned;
    uint8_t has_name, has_py, has_ini;
    size_t py_len;
    uint64_t idkey, phone, area;
    uint32_t birth;
    uint8_t area_len;
    char sex;
} side;

static int
same_str(const char *a, uint32_t oa, const char *b, uint32_t ob, int interned)
{
    if (interned)
        return oa != 0 && oa == ob;
    return strcmp(a, b) == 0;
}

/* Reads the strings of an interned side only for the edit distance, so
 * most candidates cost no access to the string pool. */
static int
level_name(const side *a, const side *b)
{
    if (!a->has_name || !b->has_name)
        return RHIS_MPI_MISSING;
    int in = a->interned && b->interned;
    if (same_str(a->name, a->oname, b->name, b->oname, in))
        return RHIS_MPI_NAME_EXACT;
    if (!a->has_py || !b->has_py)
        return RHIS_MPI_NAME_DISAGREE;
    if (same_str(a->py, a->opy, b->py, b->opy, in))
        return RHIS_MPI_NAME_PINYIN;
    if (a->has_ini && b->has_ini &&
        same_str(a->ini, a->oini, b->ini, b->oini, in))
        return RHIS_MPI_NAME_SIMILAR;
    if (a->py_len + 1 >= b->py_len && b->py_len + 1 >= a->py_len &&
        edit1(a->py, a->py_len, b->py, b->py_len))
        return RHIS_MPI_NAME_SIMILAR;
    return RHIS_MPI_NAME_DISAGREE;
}

static int
level_birth(uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0)
        return RHIS_MPI_MISSING;
    if (a == b && a % 100 != 0)
        return RHIS_MPI_BIRTH_EXACT;
    uint32_t ya = a / 10000, yb = b / 10000;
    int full = a % 100 != 0 && b % 100 != 0;
    if (full) {
        uint32_t ma = a / 100 % 100, da = a % 100;
        uint32_t mb = b / 100 % 100, db = b % 100;
        if (ya == yb && ma == db && da == mb)
            return RHIS_MPI_BIRTH_NEAR;
        int pos[8], ndiff = 0;
        uint32_t x = a, y = b;
        int ax[8], bx[8];
        for (int i = 7; i >= 0; i--) {
            ax[i] = (int)(x % 10);
            bx[i] = (int)(y % 10);
            x /= 10;
            y /= 10;
        }
        for (int i = 0; i < 8; i++)
            if (ax[i] != bx[i]) {
                if (ndiff == 2) {
                    ndiff = 3;
                    break;
                }
                pos[ndiff++] = i;
            }
        if (ndiff == 1)
            return RHIS_MPI_BIRTH_NEAR;
        if (ndiff == 2 && pos[1] == pos[0] + 1 && ax[pos[0]] == bx[pos[1]] &&
            ax[pos[1]] == bx[pos[0]])
            return RHIS_MPI_BIRTH_NEAR;
    }
    return ya == yb ? RHIS_MPI_BIRTH_YEAR : RHIS_MPI_BIRTH_DISAGREE;
}

static int
level_sex(char a, char b)
{
    if (a == 0 || b == 0)
        return RHIS_MPI_MISSING;
    return a == b ? RHIS_MPI_SEX_AGREE : RHIS_MPI_SEX_DISAGREE;
}

static int
level_area(uint64_t a, uint8_t la, uint64_t b, uint8_t lb)
{
    if (a == 0 || b == 0)
        return RHIS_MPI_MISSING;
    if (a / 1000000 != b / 1000000) /* another county */
        return RHIS_MPI_AREA_DISAGREE;
    if (la < 9 || lb < 9) /* same county, finer place unknown */
        return RHIS_MPI_MISSING;
    if (la == 12 && lb == 12 && a == b)
        return RHIS_MPI_AREA_EXACT;
    if (a / 1000 == b / 1000)
        return RHIS_MPI_AREA_TOWNSHIP;
    return RHIS_MPI_AREA_DISAGREE;
}

static int
level_phone(uint64_t a, uint64_t b)
{
    if (a == 0 || b == 0)
        return RHIS_MPI_MISSING;
    return a == b ? RHIS_MPI_PHONE_EXACT : RHIS_MPI_PHONE_DISAGREE;
}

static void
side_of_norm(const norm *n, side *s)
{
    memset(s, 0, sizeof(*s));
    s->name = n->name;
    s->py = n->py;
    s->ini = n->ini;
    s->has_name = n->name[0] != '\0';
    s->has_py = n->py[0] != '\0';
    s->has_ini = n->ini[0] != '\0';
    s->py_len = strlen(n->py);
    s->idkey = n->idkey;
    s->phone = n->phone;
    s->area = n->area;
    s->area_len = n->area_len;
    s->birth = n->birth;
    s->sex = n->sex;
}

static void
compare_sides(const rhis_mpi_weights *w,
              const side *a,
              const side *b,
              rhis_mpi_compare *c)
{
    c->level[RHIS_MPI_NAME] = (signed char)level_name(a, b);
    c->level[RHIS_MPI_BIRTH] = (signed char)level_birth(a->birth, b->birth);
    c->level[RHIS_MPI_SEX] = (signed char)level_sex(a->sex, b->sex);
    c->level[RHIS_MPI_AREA] =
        (signed char)level_area(a->area, a->area_len, b->area, b->area_len);
    c->level[RHIS_MPI_PHONE] = (signed char)level_phone(a->phone, b->phone);
    c->total = 0;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        int l = c->level[f];
        c->weight[f] = l == RHIS_MPI_MISSING ? 0.0 : w->w[f][l];
        c->total += c->weight[f];
    }
    c->id_equal = a->idkey != 0 && a->idkey == b->idkey;
    c->id_differ = a->idkey != 0 && b->idkey != 0 && a->idkey != b->idkey;
}

/* ---- public comparators ---- */

int
rhis_mpi_cmp_name(const char *a, const char *b)
{
    rhis_mpi_person pa = {.name = a}, pb = {.name = b};
    norm na, nb;
    side sa, sb;
    normalise(&pa, &na);
    normalise(&pb, &nb);
    side_of_norm(&na, &sa);
    side_of_norm(&nb, &sb);
    return level_name(&sa, &sb);
}

int
rhis_mpi_cmp_birth(const char *a, const char *b)
{
    return level_birth(parse_birth(a), parse_birth(b));
}

int
rhis_mpi_cmp_sex(char a, char b)
{
    rhis_mpi_person pa = {.sex = a}, pb = {.sex = b};
    norm na, nb;
    normalise(&pa, &na);
    normalise(&pb, &nb);
    return level_sex(na.sex, nb.sex);
}

int
rhis_mpi_cmp_area(const char *a, const char *b)
{
    uint8_t la, lb;
    uint64_t va = parse_area(a, &la), vb = parse_area(b, &lb);
    return level_area(va, la, vb, lb);
}

int
rhis_mpi_cmp_phone(const char *a, const char *b)
{
    return level_phone(parse_phone(a), parse_phone(b));
}

/* ---- weights ---- */

/*
 * Defaults, on the scale of random pairs (u = how often two residents
 * picked at random agree at that level): u and m rounded from what
 * rhis_mpi_index_estimate finds on bench/mpi.c's synthetic population of
 * 1 M Jilin residents with 10 % duplicates (docs/internals/mpi.md); m
 * where the synthetic errors are silent (partial dates giving "year",
 * people moving within a township) is set from registry experience.
 * `rhis mpi estimate` replaces them with the data's own.
 */
static const double def_m[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS] = {
    {0.81, 0.17, 0.01, 0.01}, {0.87, 0.11, 0.018, 0.002}, {0.99, 0.01, 0, 0},
    {0.94, 0.03, 0.03, 0},    {0.80, 0.20, 0, 0},
};
static const double def_u[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS] = {
    {0.00006, 0.00004, 0.0016, 0.99830},
    {0.00003, 0.0012, 0.013, 0.98577},
    {0.5, 0.5, 0, 0},
    {0.0001, 0.0013, 0.9986, 0},
    {0.0005, 0.9995, 0, 0},
};

static double
clamp01(double v)
{
    if (!(v >= 1e-6)) /* also NaN */
        return 1e-6;
    return v > 1 - 1e-6 ? 1 - 1e-6 : v;
}

void
rhis_mpi_weights_update(rhis_mpi_weights *w)
{
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
        for (int l = 0; l < RHIS_MPI_MAXLEVELS; l++) {
            if (l >= nlevels[f]) {
                w->m[f][l] = w->u[f][l] = w->w[f][l] = 0;
                continue;
            }
            w->m[f][l] = clamp01(w->m[f][l]);
            w->u[f][l] = clamp01(w->u[f][l]);
            w->w[f][l] = log2(w->m[f][l] / w->u[f][l]);
        }
}

void
rhis_mpi_weights_default(rhis_mpi_weights *w)
{
    memset(w, 0, sizeof(*w));
    memcpy(w->m, def_m, sizeof(def_m));
    memcpy(w->u, def_u, sizeof(def_u));
    rhis_mpi_weights_update(w);
}

static int
find_field(const char *name)
{
    for (int f = 0; name != NULL && f < RHIS_MPI_NFIELDS; f++)
        if (strcmp(field_names[f], name) == 0)
            return f;
    return -1;
}

static int
find_level(int f, const char *name)
{
    for (int l = 0; name != NULL && l < nlevels[f]; l++)
        if (strcmp(level_names[f][l], name) == 0)
            return l;
    return -1;
}

rhis_status
rhis_mpi_weights_load(rhis_db *db, rhis_mpi_weights *w)
{
    rhis_mpi_weights_default(w);
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        db, &st, "SELECT field, level, m, u, estimated_ms FROM mpi_weight", "");
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        int f = find_field(rhis_db_column_text(st, 0));
        int l = f >= 0 ? find_level(f, rhis_db_column_text(st, 1)) : -1;
        if (l < 0)
            continue;
        w->m[f][l] = rhis_db_column_double(st, 2);
        w->u[f][l] = rhis_db_column_double(st, 3);
        int64_t ms = rhis_db_column_int64(st, 4);
        if (ms > w->estimated_ms)
            w->estimated_ms = ms;
    }
    rhis_db_finalize(st);
    rhis_mpi_weights_update(w);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

rhis_status
rhis_mpi_weights_save(rhis_db *db, const rhis_mpi_weights *w)
{
    rhis_status rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db, "DELETE FROM mpi_weight", "");
    for (int f = 0; rc == RHIS_OK && f < RHIS_MPI_NFIELDS; f++)
        for (int l = 0; rc == RHIS_OK && l < nlevels[f]; l++)
            rc = rhis_db_run(db,
                             "INSERT INTO mpi_weight (field, level, m, u,"
                             " estimated_ms) VALUES (?, ?, ?, ?, ?)",
                             "ssddi", field_names[f], level_names[f][l],
                             w->m[f][l], w->u[f][l], w->estimated_ms);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    return rc;
}

/* ---- comparing persons, grades ---- */

void
rhis_mpi_compare_persons(const rhis_mpi_weights *w,
                         const rhis_mpi_person *a,
                         const rhis_mpi_person *b,
                         rhis_mpi_compare *out)
{
    norm na, nb;
    side sa, sb;
    normalise(a, &na);
    normalise(b, &nb);
    side_of_norm(&na, &sa);
    side_of_norm(&nb, &sb);
    compare_sides(w, &sa, &sb, out);
}

rhis_mpi_grade
rhis_mpi_grade_of(const rhis_mpi_compare *c, double link, double review)
{
    if (c->id_equal)
        return RHIS_MPI_CERTAIN;
    if (c->id_differ)
        return c->total >= review ? RHIS_MPI_CERTAINLY_NOT : RHIS_MPI_NONE;
    if (c->total >= link)
        return RHIS_MPI_PROBABLE;
    if (c->total >= review &&
        c->total - c->weight[RHIS_MPI_NAME] >= RHIS_MPI_REVIEW_MIN_OTHER)
        return RHIS_MPI_POSSIBLE;
    return RHIS_MPI_NONE;
}

const char *
rhis_mpi_grade_code(rhis_mpi_grade g)
{
    switch (g) {
    case RHIS_MPI_CERTAIN:
        return "certain";
    case RHIS_MPI_PROBABLE:
        return "probable";
    case RHIS_MPI_POSSIBLE:
        return "possible";
    case RHIS_MPI_CERTAINLY_NOT:
        return "certainly-not";
    case RHIS_MPI_NONE:
        break;
    }
    return NULL;
}

double
rhis_mpi_score01(const rhis_mpi_compare *c, double link, double review)
{
    if (c->id_equal)
        return 1.0;
    if (c->id_differ)
        return 0.0;
    double half = (link - review) / 2;
    double k = half > 0.01 ? log(9.0) / half : log(9.0);
    double s = 1.0 / (1.0 + exp(-k * (c->total - (link + review) / 2)));
    return round(s * 10000) / 10000;
}

json_object *
rhis_mpi_detail_json(const rhis_mpi_compare *c)
{
    json_object *o = json_object_new_object();
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "level",
                               json_object_new_string(rhis_mpi_level_name(
                                   (rhis_mpi_field)f, c->level[f])));
        json_object_object_add(
            e, "weight", rhis_json_new_double(round(c->weight[f] * 100) / 100));
        json_object_object_add(o, field_names[f], e);
    }
    json_object_object_add(o, "idNumber",
                           json_object_new_string(c->id_equal    ? "equal"
                                                  : c->id_differ ? "different"
                                                                 : "missing"));
    json_object_object_add(o, "total",
                           rhis_json_new_double(round(c->total * 100) / 100));
    return o;
}

/* ---- hashing ---- */

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t
hash_bytes(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return mix64(h);
}

/* ---- u64 -> u32 open-addressing table (key 0 = empty) ---- */

#define NONE UINT32_MAX

typedef struct u64map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap; /* power of two, or 0 */
    size_t n;
} u64map;

static uint32_t
map_get(const u64map *m, uint64_t key)
{
    if (m->cap == 0)
        return NONE;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (m->keys[i] == 0)
            return NONE;
    }
}

static void map_grow(u64map *m);

/*
 * The value slot of key, inserting the key (value NONE) when absent: one
 * probe sequence where a get and a set would take two.
 */
static uint32_t *
map_slot(u64map *m, uint64_t key)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        map_grow(m);
    size_t mask = m->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (m->keys[i] != 0 && m->keys[i] != key)
        i = (i + 1) & mask;
    if (m->keys[i] == 0) {
        m->keys[i] = key;
        m->vals[i] = NONE;
        m->n++;
    }
    return &m->vals[i];
}

static void
map_set(u64map *m, uint64_t key, uint32_t val)
{
    *map_slot(m, key) = val;
}

static void
map_grow(u64map *m)
{
    u64map old = *m;
    m->cap = old.cap == 0 ? 1024 : old.cap * 2;
    m->keys = rhis_xcalloc(m->cap, sizeof(uint64_t));
    m->vals = rhis_xmalloc(m->cap * sizeof(uint32_t));
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i] != 0)
            map_set(m, old.keys[i], old.vals[i]);
    rhis_free(old.keys);
    rhis_free(old.vals);
}

/* Deletes key, shifting later members of its cluster back (no
 * tombstones, so lookups stay short after churn). */
static void
map_del(u64map *m, uint64_t key)
{
    if (m->cap == 0)
        return;
    size_t mask = m->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (m->keys[i] != key) {
        if (m->keys[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = (size_t)mix64(m->keys[j]) & mask;
        /* j may move to i when home is not cyclically in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->n--;
}

static void
map_fini(u64map *m)
{
    rhis_free(m->keys);
    rhis_free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- interned strings ---- */

/* Slots hold the high 32 bits of the string's hash above its offset, so
 * a probe reads the string only when the hashes agree. */
typedef struct pool {
    char *buf; /* offset 0 is never a string */
    size_t len, cap;
    uint64_t *slot; /* (hash >> 32) << 32 | offset; 0 = empty */
    size_t scap, sn;
} pool;

static uint32_t
pool_find_h(const pool *p, const char *s, size_t n, uint64_t h)
{
    if (p->scap == 0)
        return 0;
    size_t mask = p->scap - 1;
    uint64_t tag = h >> 32;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t e = p->slot[i];
        if (e == 0)
            return 0;
        uint32_t off = (uint32_t)e;
        if (e >> 32 == tag && memcmp(p->buf + off, s, n) == 0 &&
            p->buf[off + n] == '\0')
            return off;
    }
}

static uint32_t
pool_find(const pool *p, const char *s)
{
    if (s[0] == '\0')
        return 0;
    size_t n = strlen(s);
    return pool_find_h(p, s, n, hash_bytes(s, n));
}

static void
pool_slot_put(pool *p, uint32_t off, uint64_t h)
{
    size_t mask = p->scap - 1;
    size_t i = (size_t)h & mask;
    while (p->slot[i] != 0)
        i = (i + 1) & mask;
    p->slot[i] = (h >> 32) << 32 | off;
}

static uint32_t
pool_intern(pool *p, const char *s)
{
    if (s[0] == '\0')
        return 0;
    size_t n = strlen(s);
    uint64_t h = hash_bytes(s, n);
    uint32_t off = pool_find_h(p, s, n, h);
    if (off != 0)
        return off;
    if ((p->sn + 1) * 2 > p->scap) {
        size_t ocap = p->scap;
        uint64_t *old = p->slot;
        p->scap = ocap == 0 ? 1024 : ocap * 2;
        p->slot = rhis_xcalloc(p->scap, sizeof(uint64_t));
        for (size_t i = 0; i < ocap; i++)
            if (old[i] != 0) {
                const char *t = p->buf + (uint32_t)old[i];
                pool_slot_put(p, (uint32_t)old[i], hash_bytes(t, strlen(t)));
            }
        rhis_free(old);
    }
    if (p->len + n + 1 > p->cap) {
        size_t ncap = p->cap == 0 ? 65536 : p->cap;
        while (p->len + n + 1 > ncap)
            ncap *= 2;
        RHIS_ASSERT(ncap <= UINT32_MAX);
        p->buf = rhis_xrealloc(p->buf, ncap);
        p->cap = ncap;
        if (p->len == 0) {
            p->buf[0] = '\0';
            p->len = 1;
        }
    }
    off = (uint32_t)p->len;
    memcpy(p->buf + off, s, n + 1);
    p->len += n + 1;
    pool_slot_put(p, off, h);
    p->sn++;
    return off;
}

/* ---- the index ---- */

/* Blocking key types; a resident is on at most one chain of each. */
enum { K_ID, K_INIDATE, K_PYYEAR, K_PHONE, K_INIVIL, NKEYS };
_Static_assert(RHIS_MPI_KEY_ID == 1u << K_ID &&
                   RHIS_MPI_KEY_INIDATE == 1u << K_INIDATE &&
                   RHIS_MPI_KEY_PYYEAR == 1u << K_PYYEAR &&
                   RHIS_MPI_KEY_PHONE == 1u << K_PHONE &&
                   RHIS_MPI_KEY_INIVIL == 1u << K_INIVIL,
               "public key bits follow the key types");

/* Longest chain walked per key: a phone shared by a whole nursing home
 * must not make every query slow. */
#define CHAIN_CAP 512
#define CAND_CAP  (CHAIN_CAP * (NKEYS + 1))

typedef struct resident {
    int64_t id; /* 0: free slot */
    uint64_t idkey, phone, area;
    uint32_t name, py, ini; /* pool offsets */
    uint32_t birth;
    uint32_t next[NKEYS];
    uint8_t area_len, py_len; /* py_len capped at 255 */
    char sex;
} resident;

struct rhis_mpi_index {
    pthread_rwlock_t lock;
    resident *r;
    uint32_t n, cap; /* slots used (high water), allocated */
    uint32_t live, free_head;
    u64map ids;      /* Patient id -> slot */
    u64map blocks;   /* key hash -> first slot of its chain */
    u64map freq;     /* tf_key(level, pool offset) -> residents with it */
    uint32_t idless; /* live residents without a valid ID number */
    pool strs;
    rhis_mpi_weights w;
};

/*
 * Name frequencies.  Agreement on a name shared by many residents is
 * weaker evidence than agreement on a rare one (Winkler's frequency-based
 * matching, Splink's term-frequency adjustment): for the exact and pinyin
 * levels u becomes the share of residents carrying that name (pinyin),
 * when that is above the average u of the weights.  The share is taken of
 * at least TF_MIN_POP residents, so that a small registry (a test, a new
 * district) keeps the plain weights: its few namesakes say little about
 * how common a name is.  Rare names are never weighted up.
 */
#define TF_MIN_POP 100000.0

static uint64_t
tf_key(int level, uint32_t off)
{
    return (uint64_t)(level + 1) << 32 | off;
}

/* Counts a resident's name and pinyin in (delta +1) or out (-1). */
static void
freq_add(rhis_mpi_index *ix, const resident *r, int delta)
{
    uint32_t offs[2] = {r->name, r->py};
    for (int i = 0; i < 2; i++) {
        if (offs[i] == 0)
            continue;
        uint64_t k = tf_key(i == 0 ? RHIS_MPI_NAME_EXACT : RHIS_MPI_NAME_PINYIN,
                            offs[i]);
        if (delta > 0) {
            uint32_t *v = map_slot(&ix->freq, k);
            *v = *v == NONE ? 1 : *v + 1;
        } else {
            uint32_t v = map_get(&ix->freq, k);
            if (v == NONE || v <= 1)
                map_del(&ix->freq, k);
            else
                map_set(&ix->freq, k, v - 1);
        }
    }
    if (r->idkey == 0)
        ix->idless = delta > 0 ? ix->idless + 1 : ix->idless - 1;
}

/*
 * Replaces the name weight of c by its frequency-adjusted value when the
 * name (level exact) or the pinyin (level pinyin) at pool offset oname /
 * opy is common.  Read lock held.
 */
static void
tf_adjust(const rhis_mpi_index *ix,
          uint32_t oname,
          uint32_t opy,
          rhis_mpi_compare *c)
{
    int l = c->level[RHIS_MPI_NAME];
    if (l != RHIS_MPI_NAME_EXACT && l != RHIS_MPI_NAME_PINYIN)
        return;
    uint32_t off = l == RHIS_MPI_NAME_EXACT ? oname : opy;
    if (off == 0)
        return;
    uint32_t n = map_get(&ix->freq, tf_key(l, off));
    if (n == NONE)
        return;
    double pop = ix->live > TF_MIN_POP ? (double)ix->live : TF_MIN_POP;
    double u = (double)n / pop;
    const rhis_mpi_weights *w = &ix->w;
    if (u <= w->u[RHIS_MPI_NAME][l])
        return;
    double nw = log2(w->m[RHIS_MPI_NAME][l] / u);
    c->total += nw - c->weight[RHIS_MPI_NAME];
    c->weight[RHIS_MPI_NAME] = nw;
}

rhis_mpi_index *
rhis_mpi_index_new(void)
{
    rhis_mpi_index *ix = rhis_xcalloc(1, sizeof(*ix));
    RHIS_ASSERT(pthread_rwlock_init(&ix->lock, NULL) == 0);
    ix->free_head = NONE;
    rhis_mpi_weights_default(&ix->w);
    return ix;
}

void
rhis_mpi_index_free(rhis_mpi_index *ix)
{
    if (ix == NULL)
        return;
    pthread_rwlock_destroy(&ix->lock);
    rhis_free(ix->r);
    map_fini(&ix->ids);
    map_fini(&ix->blocks);
    map_fini(&ix->freq);
    rhis_free(ix->strs.buf);
    rhis_free(ix->strs.slot);
    rhis_free(ix);
}

static uint64_t
block_key(int type, uint64_t h)
{
    uint64_t k =
        mix64(h ^ ((uint64_t)(type + 1) * UINT64_C(0x9e3779b97f4a7c15)));
    return k != 0 ? k : 1;
}

static int
full_date(uint32_t b)
{
    return b != 0 && b % 100 != 0 && b / 100 % 100 != 0;
}

/* The date with day and month swapped, 0 when that is no other date. */
static uint32_t
swapped_date(uint32_t b)
{
    uint32_t m = b / 100 % 100, d = b % 100;
    if (!full_date(b) || d > 12 || d == m)
        return 0;
    return b / 10000 * 10000 + d * 100 + m;
}

/* What the keys are made of, from a normalised person or a resident. */
typedef struct keysrc {
    const char *py, *ini;
    uint64_t idkey, phone, area;
    uint32_t birth;
    uint8_t area_len;
} keysrc;

/*
 * The blocking keys of k: keys[t] for each type t (0 when k has none);
 * with query != 0 one more, the initials with the swapped date, written
 * to *swapped (else 0).
 */
static void
make_keys(const keysrc *k, uint64_t keys[NKEYS], uint64_t *swapped)
{
    memset(keys, 0, sizeof(uint64_t) * NKEYS);
    if (swapped != NULL)
        *swapped = 0;
    if (k->idkey != 0)
        keys[K_ID] = block_key(K_ID, k->idkey);
    if (k->ini[0] != '\0' && full_date(k->birth)) {
        uint64_t h = hash_bytes(k->ini, strlen(k->ini));
        keys[K_INIDATE] = block_key(K_INIDATE, h ^ mix64(k->birth));
        uint32_t sw = swapped_date(k->birth);
        if (swapped != NULL && sw != 0)
            *swapped = block_key(K_INIDATE, h ^ mix64(sw));
    }
    if (k->py[0] != '\0' && k->birth != 0)
        keys[K_PYYEAR] = block_key(K_PYYEAR, hash_bytes(k->py, strlen(k->py)) ^
                                                 mix64(k->birth / 10000));
    if (k->phone != 0)
        keys[K_PHONE] = block_key(K_PHONE, k->phone);
    if (k->ini[0] != '\0' && k->area_len == 12)
        keys[K_INIVIL] = block_key(
            K_INIVIL, hash_bytes(k->ini, strlen(k->ini)) ^ mix64(k->area));
}

static void
resident_keysrc(const rhis_mpi_index *ix, const resident *r, keysrc *k)
{
    k->py = ix->strs.buf != NULL ? ix->strs.buf + r->py : "";
    k->ini = ix->strs.buf != NULL ? ix->strs.buf + r->ini : "";
    if (r->py == 0)
        k->py = "";
    if (r->ini == 0)
        k->ini = "";
    k->idkey = r->idkey;
    k->phone = r->phone;
    k->area = r->area;
    k->area_len = r->area_len;
    k->birth = r->birth;
}

static void
norm_keysrc(const norm *n, keysrc *k)
{
    k->py = n->py;
    k->ini = n->ini;
    k->idkey = n->idkey;
    k->phone = n->phone;
    k->area = n->area;
    k->area_len = n->area_len;
    k->birth = n->birth;
}

static void
link_slot(rhis_mpi_index *ix, uint32_t s)
{
    resident *r = &ix->r[s];
    keysrc k;
    uint64_t keys[NKEYS];
    resident_keysrc(ix, r, &k);
    make_keys(&k, keys, NULL);
    for (int t = 0; t < NKEYS; t++) {
        r->next[t] = NONE;
        if (keys[t] == 0)
            continue;
        uint32_t *head = map_slot(&ix->blocks, keys[t]);
        r->next[t] = *head;
        *head = s;
    }
}

static void
unlink_slot(rhis_mpi_index *ix, uint32_t s)
{
    resident *r = &ix->r[s];
    keysrc k;
    uint64_t keys[NKEYS];
    resident_keysrc(ix, r, &k);
    make_keys(&k, keys, NULL);
    for (int t = 0; t < NKEYS; t++) {
        if (keys[t] == 0)
            continue;
        uint32_t head = map_get(&ix->blocks, keys[t]);
        if (head == s) {
            if (r->next[t] == NONE)
                map_del(&ix->blocks, keys[t]);
            else
                map_set(&ix->blocks, keys[t], r->next[t]);
            continue;
        }
        for (uint32_t p = head; p != NONE; p = ix->r[p].next[t])
            if (ix->r[p].next[t] == s) {
                ix->r[p].next[t] = r->next[t];
                break;
            }
    }
}

/* Adds the normalised person n as Patient id (> 0), replacing an entry of
 * the same id. */
static void
put_norm(rhis_mpi_index *ix, int64_t id, const norm *n)
{
    pthread_rwlock_wrlock(&ix->lock);
    uint32_t *idslot = map_slot(&ix->ids, (uint64_t)id);
    uint32_t s = *idslot;
    if (s != NONE) {
        unlink_slot(ix, s);
        freq_add(ix, &ix->r[s], -1);
    } else if (ix->free_head != NONE) {
        s = ix->free_head;
        ix->free_head = ix->r[s].next[0];
        ix->live++;
    } else {
        if (ix->n == ix->cap) {
            uint32_t ncap = ix->cap == 0 ? 1024 : ix->cap * 2;
            RHIS_ASSERT(ncap > ix->cap && ncap < NONE);
            ix->r = rhis_xrealloc(ix->r, (size_t)ncap * sizeof(resident));
            ix->cap = ncap;
        }
        s = ix->n++;
        ix->live++;
    }
    resident *r = &ix->r[s];
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->idkey = n->idkey;
    r->phone = n->phone;
    r->area = n->area;
    r->area_len = n->area_len;
    r->birth = n->birth;
    r->sex = n->sex;
    r->name = pool_intern(&ix->strs, n->name);
    r->py = pool_intern(&ix->strs, n->py);
    size_t pl = strlen(n->py);
    r->py_len = (uint8_t)(pl > 255 ? 255 : pl);
    r->ini = pool_intern(&ix->strs, n->ini);
    *idslot = s; /* nothing above touched the id table */
    link_slot(ix, s);
    freq_add(ix, r, +1);
    pthread_rwlock_unlock(&ix->lock);
}

void
rhis_mpi_index_put(rhis_mpi_index *ix, const rhis_mpi_person *p)
{
    if (p->id <= 0)
        return;
    norm *n = rhis_xmalloc(sizeof(*n));
    normalise(p, n);
    put_norm(ix, p->id, n);
    rhis_free(n);
}

void
rhis_mpi_index_remove(rhis_mpi_index *ix, int64_t id)
{
    if (id <= 0)
        return;
    pthread_rwlock_wrlock(&ix->lock);
    uint32_t s = map_get(&ix->ids, (uint64_t)id);
    if (s != NONE) {
        unlink_slot(ix, s);
        freq_add(ix, &ix->r[s], -1);
        map_del(&ix->ids, (uint64_t)id);
        memset(&ix->r[s], 0, sizeof(resident));
        ix->r[s].next[0] = ix->free_head;
        ix->free_head = s;
        ix->live--;
    }
    pthread_rwlock_unlock(&ix->lock);
}

size_t
rhis_mpi_index_count(rhis_mpi_index *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->live;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

size_t
rhis_mpi_index_memory(rhis_mpi_index *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    size_t b = sizeof(*ix) + (size_t)ix->cap * sizeof(resident) +
               ix->ids.cap * 12 + ix->blocks.cap * 12 + ix->freq.cap * 12 +
               ix->strs.cap + ix->strs.scap * 8;
    pthread_rwlock_unlock(&ix->lock);
    return b;
}

void
rhis_mpi_index_weights(rhis_mpi_index *ix, rhis_mpi_weights *out)
{
    pthread_rwlock_rdlock(&ix->lock);
    *out = ix->w;
    pthread_rwlock_unlock(&ix->lock);
}

void
rhis_mpi_index_set_weights(rhis_mpi_index *ix, const rhis_mpi_weights *w)
{
    pthread_rwlock_wrlock(&ix->lock);
    ix->w = *w;
    pthread_rwlock_unlock(&ix->lock);
}

/* The comparison side of slot s (read lock held). */
static void
resident_side(const rhis_mpi_index *ix, uint32_t s, side *d)
{
    const resident *r = &ix->r[s];
    const char *b = ix->strs.buf;
    d->name = r->name != 0 ? b + r->name : "";
    d->py = r->py != 0 ? b + r->py : "";
    d->ini = r->ini != 0 ? b + r->ini : "";
    d->oname = r->name;
    d->opy = r->py;
    d->oini = r->ini;
    d->interned = 1;
    d->has_name = r->name != 0;
    d->has_py = r->py != 0;
    d->has_ini = r->ini != 0;
    d->py_len = r->py_len == 255 ? strlen(d->py) : r->py_len;
    d->idkey = r->idkey;
    d->phone = r->phone;
    d->area = r->area;
    d->area_len = r->area_len;
    d->birth = r->birth;
    d->sex = r->sex;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct slots on the chains of keys (read lock held). */
static int
collect(const rhis_mpi_index *ix,
        const uint64_t *keys,
        const int *types,
        int nkeys,
        uint32_t *cand)
{
    int n = 0;
    for (int i = 0; i < nkeys; i++) {
        if (keys[i] == 0)
            continue;
        int walked = 0;
        for (uint32_t s = map_get(&ix->blocks, keys[i]);
             s != NONE && walked < CHAIN_CAP && n < CAND_CAP;
             s = ix->r[s].next[types[i]], walked++)
            cand[n++] = s;
    }
    if (n > 1) {
        if (n <= 32) {
            for (int i = 1; i < n; i++) {
                uint32_t v = cand[i];
                int j = i;
                for (; j > 0 && cand[j - 1] > v; j--)
                    cand[j] = cand[j - 1];
                cand[j] = v;
            }
        } else {
            qsort(cand, (size_t)n, sizeof(uint32_t), cmp_u32);
        }
        int k = 1;
        for (int i = 1; i < n; i++)
            if (cand[i] != cand[k - 1])
                cand[k++] = cand[i];
        n = k;
    }
    return n;
}

/* The query keys: the resident's own five and the swapped date. */
static int
query_keys(const keysrc *k, uint64_t keys[NKEYS + 1], int types[NKEYS + 1])
{
    uint64_t sw;
    make_keys(k, keys, &sw);
    for (int t = 0; t < NKEYS; t++)
        types[t] = t;
    keys[NKEYS] = sw;
    types[NKEYS] = K_INIDATE;
    return NKEYS + 1;
}

/* Ranks for ordering: certain, then the scored, certainly-not last. */
static int
rank_of(rhis_mpi_grade g)
{
    return g == RHIS_MPI_CERTAIN ? 2 : g == RHIS_MPI_CERTAINLY_NOT ? 0 : 1;
}

static int
better(const rhis_mpi_candidate *a, const rhis_mpi_candidate *b)
{
    int ra = rank_of(a->grade), rb = rank_of(b->grade);
    if (ra != rb)
        return ra > rb;
    if (a->cmp.total != b->cmp.total)
        return a->cmp.total > b->cmp.total;
    return a->id < b->id;
}

/* Inserts c into the sorted top list out[0..*n) of at most max. */
static void
top_insert(rhis_mpi_candidate *out,
           int *n,
           int max,
           const rhis_mpi_candidate *c)
{
    if (max <= 0)
        return;
    if (*n == max && !better(c, &out[max - 1]))
        return;
    int i = *n < max ? (*n)++ : max - 1;
    while (i > 0 && better(c, &out[i - 1])) {
        out[i] = out[i - 1];
        i--;
    }
    out[i] = *c;
}

/*
 * rhis_mpi_index_match on a normalised query n (self: its own Patient id,
 * skipped).  With only_idless, residents holding a valid ID number are
 * not scored: for a query with a valid number they can only be a certain
 * match or certainly not, never a case for review.
 */
static int
match_norm(rhis_mpi_index *ix,
           const norm *nq,
           int64_t self,
           double link,
           double review,
           rhis_mpi_candidate *out,
           int max,
           int only_idless)
{
    const norm *n = nq;
    keysrc k;
    norm_keysrc(n, &k);
    uint64_t keys[NKEYS + 1];
    int types[NKEYS + 1];
    int nk = query_keys(&k, keys, types);
    uint32_t cand[CAND_CAP];
    int nout = 0;

    pthread_rwlock_rdlock(&ix->lock);
    if (only_idless && ix->idless == 0) {
        pthread_rwlock_unlock(&ix->lock);
        return 0;
    }
    side qs;
    side_of_norm(n, &qs);
    qs.interned = 1;
    qs.oname = pool_find(&ix->strs, n->name);
    qs.opy = pool_find(&ix->strs, n->py);
    qs.oini = pool_find(&ix->strs, n->ini);
    int nc = collect(ix, keys, types, nk, cand);
    for (int i = 0; i < nc; i++) {
        const resident *r = &ix->r[cand[i]];
        if (r->id == self || (only_idless && r->idkey != 0))
            continue;
        side rs;
        resident_side(ix, cand[i], &rs);
        rhis_mpi_candidate c;
        c.id = r->id;
        compare_sides(&ix->w, &qs, &rs, &c.cmp);
        tf_adjust(ix, r->name, r->py, &c.cmp);
        c.grade = rhis_mpi_grade_of(&c.cmp, link, review);
        if (c.grade != RHIS_MPI_NONE)
            top_insert(out, &nout, max, &c);
    }
    pthread_rwlock_unlock(&ix->lock);
    return nout;
}

int
rhis_mpi_index_match(rhis_mpi_index *ix,
                     const rhis_mpi_person *q,
                     double link,
                     double review,
                     rhis_mpi_candidate *out,
                     int max)
{
    norm n;
    normalise(q, &n);
    return match_norm(ix, &n, q->id, link, review, out, max, 0);
}

void
rhis_mpi_index_compare(rhis_mpi_index *ix,
                       const rhis_mpi_person *a,
                       const rhis_mpi_person *b,
                       rhis_mpi_compare *out)
{
    norm *n = rhis_xmalloc(2 * sizeof(*n));
    side sa, sb;
    normalise(a, &n[0]);
    normalise(b, &n[1]);
    side_of_norm(&n[0], &sa);
    side_of_norm(&n[1], &sb);
    pthread_rwlock_rdlock(&ix->lock);
    compare_sides(&ix->w, &sa, &sb, out);
    tf_adjust(ix, pool_find(&ix->strs, n[1].name),
              pool_find(&ix->strs, n[1].py), out);
    pthread_rwlock_unlock(&ix->lock);
    rhis_free(n);
}

/* ---- EM ---- */

static const int pat_dims[RHIS_MPI_NFIELDS] = {5, 5, 3, 4, 3};

static int
pattern_of(const signed char level[RHIS_MPI_NFIELDS])
{
    int p = 0;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        int l = level[f] == RHIS_MPI_MISSING ? nlevels[f] : level[f];
        p = p * pat_dims[f] + l;
    }
    return p;
}

static void
levels_of(int p, int level[RHIS_MPI_NFIELDS])
{
    for (int f = RHIS_MPI_NFIELDS - 1; f >= 0; f--) {
        int l = p % pat_dims[f];
        p /= pat_dims[f];
        level[f] = l == nlevels[f] ? RHIS_MPI_MISSING : l;
    }
}

void
rhis_mpi_em_init(rhis_mpi_em *em)
{
    memset(em, 0, sizeof(*em));
}

void
rhis_mpi_em_add(rhis_mpi_em *em, const rhis_mpi_compare *c)
{
    if (c->id_differ) /* a known non-match says nothing about m */
        return;
    int g = pattern_of(c->level);
    if (c->id_equal)
        em->match[g] += 1;
    else
        em->count[g] += 1;
    em->pairs++;
}

/* The query keys restricted to the key types in mask (bit 1 << K_*). */
static int
masked_keys(const keysrc *k,
            unsigned mask,
            uint64_t keys[NKEYS + 1],
            int types[NKEYS + 1])
{
    int nk = query_keys(k, keys, types);
    for (int i = 0; i < nk; i++)
        if ((mask & (1u << types[i])) == 0)
            keys[i] = 0;
    return nk;
}

int64_t
rhis_mpi_index_em_pairs(rhis_mpi_index *ix,
                        rhis_mpi_em *em,
                        int64_t max_residents,
                        unsigned keys_mask)
{
    int64_t added = 0;
    uint32_t *cand = rhis_xmalloc(sizeof(uint32_t) * CAND_CAP);
    pthread_rwlock_rdlock(&ix->lock);
    uint32_t stride = 1;
    if (max_residents > 0 && ix->live > (uint64_t)max_residents)
        stride = (uint32_t)(ix->n / (uint64_t)max_residents) + 1;
    for (uint32_t s = 0; s < ix->n; s += stride) {
        if (ix->r[s].id == 0)
            continue;
        keysrc k;
        uint64_t keys[NKEYS + 1];
        int types[NKEYS + 1];
        resident_keysrc(ix, &ix->r[s], &k);
        int nk = masked_keys(&k, keys_mask, keys, types);
        int nc = collect(ix, keys, types, nk, cand);
        side a;
        resident_side(ix, s, &a);
        for (int i = 0; i < nc; i++) {
            uint32_t t = cand[i];
            /* a pair of two sampled residents is counted once */
            if (t == s || (t % stride == 0 && t < s))
                continue;
            side b;
            resident_side(ix, t, &b);
            rhis_mpi_compare c;
            compare_sides(&ix->w, &a, &b, &c);
            rhis_mpi_em_add(em, &c);
            added++;
        }
    }
    pthread_rwlock_unlock(&ix->lock);
    rhis_free(cand);
    return added;
}

int64_t
rhis_mpi_index_u_sample(rhis_mpi_index *ix,
                        rhis_mpi_weights *w,
                        int64_t npairs,
                        uint64_t seed)
{
    double c[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS] = {{0}};
    int64_t used = 0;
    pthread_rwlock_rdlock(&ix->lock);
    if (ix->live >= 2) {
        uint64_t st = seed;
        for (int64_t i = 0, tries = 0; i < npairs && tries < npairs * 4;
             tries++) {
            uint32_t a =
                (uint32_t)(mix64(st += UINT64_C(0x9e3779b97f4a7c15)) % ix->n);
            uint32_t b =
                (uint32_t)(mix64(st += UINT64_C(0x9e3779b97f4a7c15)) % ix->n);
            if (a == b || ix->r[a].id == 0 || ix->r[b].id == 0)
                continue;
            side sa, sb;
            resident_side(ix, a, &sa);
            resident_side(ix, b, &sb);
            rhis_mpi_compare cmp;
            compare_sides(&ix->w, &sa, &sb, &cmp);
            i++;
            if (cmp.id_equal)
                continue;
            for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
                if (cmp.level[f] != RHIS_MPI_MISSING)
                    c[f][cmp.level[f]] += 1;
            used++;
        }
    }
    pthread_rwlock_unlock(&ix->lock);
    if (used < 1000)
        return used;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        double t = 0;
        for (int l = 0; l < nlevels[f]; l++)
            t += c[f][l];
        for (int l = 0; l < nlevels[f]; l++)
            w->u[f][l] = (c[f][l] + 0.5) / (t + 0.5 * nlevels[f]);
    }
    rhis_mpi_weights_update(w);
    return used;
}

static double
sum_counts(const double *g)
{
    double t = 0;
    for (int i = 0; i < RHIS_MPI_NPATTERNS; i++)
        t += g[i];
    return t;
}

rhis_status
rhis_mpi_em_run(const rhis_mpi_em *em,
                unsigned fields,
                rhis_mpi_weights *w,
                int max_iter,
                double tol,
                rhis_mpi_em_result *res)
{
    memset(res, 0, sizeof(*res));
    double total = sum_counts(em->count), known = sum_counts(em->match);
    if (total + known < 100 || fields == 0)
        return RHIS_EINVAL;
    double m[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS];
    memcpy(m, w->m, sizeof(m));
    /* the patterns seen, decoded once; fields outside the mask count as
     * missing */
    int np = 0;
    int(*lv)[RHIS_MPI_NFIELDS] = rhis_xmalloc(sizeof(*lv) * RHIS_MPI_NPATTERNS);
    double *cnt = rhis_xmalloc(sizeof(double) * RHIS_MPI_NPATTERNS);
    double *sure = rhis_xmalloc(sizeof(double) * RHIS_MPI_NPATTERNS);
    for (int g = 0; g < RHIS_MPI_NPATTERNS; g++)
        if (em->count[g] > 0 || em->match[g] > 0) {
            levels_of(g, lv[np]);
            for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
                if ((fields & (1u << f)) == 0)
                    lv[np][f] = RHIS_MPI_MISSING;
            cnt[np] = em->count[g];
            sure[np++] = em->match[g];
        }
    double p = 0.05;
    int it;
    for (it = 1; it <= max_iter; it++) {
        double sm[RHIS_MPI_NFIELDS][RHIS_MPI_MAXLEVELS] = {{0}};
        double nm = 0, ll = 0;
        for (int i = 0; i < np; i++) {
            double pm = p, pu = 1 - p;
            for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
                if (lv[i][f] != RHIS_MPI_MISSING) {
                    pm *= m[f][lv[i][f]];
                    pu *= w->u[f][lv[i][f]];
                }
            double g = pm / (pm + pu);
            if (cnt[i] > 0)
                ll += cnt[i] * log(pm + pu);
            nm += cnt[i] * g;
            double wm = cnt[i] * g + sure[i];
            for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
                if (lv[i][f] != RHIS_MPI_MISSING)
                    sm[f][lv[i][f]] += wm;
        }
        double change = total > 0 ? fabs(nm / total - p) : 0;
        p = total > 0 ? nm / total : 0.5;
        if (p < 1e-9)
            p = 1e-9;
        if (p > 1 - 1e-9)
            p = 1 - 1e-9;
        for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
            if ((fields & (1u << f)) == 0)
                continue;
            double tm = 0;
            for (int l = 0; l < nlevels[f]; l++)
                tm += sm[f][l];
            for (int l = 0; l < nlevels[f]; l++) {
                /* a pseudo-count keeps unseen levels off zero */
                double v = (sm[f][l] + 0.5) / (tm + 0.5 * nlevels[f]);
                if (fabs(v - m[f][l]) > change)
                    change = fabs(v - m[f][l]);
                m[f][l] = v;
            }
        }
        res->loglik = ll;
        if (change < tol) {
            res->converged = 1;
            break;
        }
    }
    rhis_free(lv);
    rhis_free(cnt);
    rhis_free(sure);
    res->iterations = it > max_iter ? max_iter : it;
    res->p = p;
    res->matches = p * total + known;
    if (res->matches < 20)
        return RHIS_EINVAL;
    /* the match class must be the one agreeing on the estimated fields */
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
        if ((fields & (1u << f)) != 0 && !(m[f][0] > w->u[f][0]))
            return RHIS_EINVAL;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
        if ((fields & (1u << f)) != 0)
            memcpy(w->m[f], m[f], sizeof(m[f]));
    rhis_mpi_weights_update(w);
    return RHIS_OK;
}

/*
 * The passes of rhis_mpi_index_estimate: the pairs one set of blocking
 * keys gives, and the fields whose m that set can estimate: those it did
 * not block on and that do not travel with a household.
 */
static const struct em_pass {
    unsigned keys;
    unsigned fields;
} em_passes[RHIS_MPI_EM_PASSES] = {
    {(1u << K_INIDATE) | (1u << K_PYYEAR),
     (1u << RHIS_MPI_AREA) | (1u << RHIS_MPI_PHONE)},
    {1u << K_PHONE,
     (1u << RHIS_MPI_NAME) | (1u << RHIS_MPI_BIRTH) | (1u << RHIS_MPI_SEX)},
};

rhis_status
rhis_mpi_index_estimate(rhis_mpi_index *ix,
                        rhis_mpi_weights *w,
                        int64_t max_residents,
                        rhis_mpi_estimate *rep)
{
    memset(rep, 0, sizeof(*rep));
    rhis_mpi_weights est = *w;
    rep->u_pairs = rhis_mpi_index_u_sample(ix, &est, 2000000, 0x6d7069);
    if (rep->u_pairs < 1000)
        return RHIS_EINVAL;
    rhis_mpi_em *em = rhis_xmalloc(sizeof(*em));
    for (int i = 0; i < RHIS_MPI_EM_PASSES; i++) {
        rhis_mpi_em_init(em);
        rep->pairs[i] =
            rhis_mpi_index_em_pairs(ix, em, max_residents, em_passes[i].keys);
        rep->rc[i] = rhis_mpi_em_run(em, em_passes[i].fields, &est, 1000, 1e-7,
                                     &rep->pass[i]);
    }
    rhis_free(em);
    *w = est;
    return RHIS_OK;
}

/* ---- loading from table patient ---- */

#define PATIENT_COLS "id, name, id_number, sex, birth_date, phone, area_code"

static void
person_of_row(rhis_stmt *st, rhis_mpi_person *p)
{
    const char *sex = rhis_db_column_text(st, 3);
    p->id = rhis_db_column_int64(st, 0);
    p->name = rhis_db_column_text(st, 1);
    p->id_number = rhis_db_column_text(st, 2);
    p->sex = sex != NULL ? sex[0] : 0;
    p->birth_date = rhis_db_column_text(st, 4);
    p->phone = rhis_db_column_text(st, 5);
    p->area_code = rhis_db_column_text(st, 6);
}

rhis_status
rhis_mpi_index_load(rhis_mpi_index *ix, rhis_db *db, int64_t *n)
{
    rhis_mpi_weights w;
    rhis_status rc = rhis_mpi_weights_load(db, &w);
    if (rc != RHIS_OK)
        return rc;
    rhis_mpi_index_set_weights(ix, &w);
    int64_t last = 0, count = 0;
    for (;;) {
        rhis_stmt *st;
        rc = rhis_db_query(db, &st,
                           "SELECT " PATIENT_COLS " FROM patient"
                           " WHERE deleted = 0 AND merged_into IS NULL"
                           " AND id > ? ORDER BY id LIMIT 10000",
                           "i", last);
        if (rc != RHIS_OK)
            return rc;
        int rows = 0;
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            rhis_mpi_person p;
            person_of_row(st, &p);
            rhis_mpi_index_put(ix, &p);
            last = p.id;
            rows++;
        }
        rhis_db_finalize(st);
        if (rc != RHIS_DONE)
            return rc;
        count += rows;
        if (rows < 10000)
            break;
    }
    if (n != NULL)
        *n = count;
    return RHIS_OK;
}

/* ---- the server's index ---- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(rhis_mpi_index *) g_ix;

rhis_status
rhis_mpi_global(rhis_db *db, rhis_mpi_index **out)
{
    rhis_mpi_index *ix = atomic_load(&g_ix);
    if (ix != NULL) {
        *out = ix;
        return RHIS_OK;
    }
    pthread_mutex_lock(&g_mu);
    ix = atomic_load(&g_ix);
    rhis_status rc = RHIS_OK;
    if (ix == NULL) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t n = 0;
        ix = rhis_mpi_index_new();
        rc = rhis_mpi_index_load(ix, db, &n);
        if (rc == RHIS_OK) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            rhis_log(RHIS_LOG_INFO,
                     "msg=\"mpi index loaded\" residents=%lld bytes=%zu"
                     " ms=%lld",
                     (long long)n, rhis_mpi_index_memory(ix),
                     (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
                                 (t1.tv_nsec - t0.tv_nsec) / 1000000));
            atomic_store(&g_ix, ix);
        } else {
            rhis_mpi_index_free(ix);
            ix = NULL;
        }
    }
    pthread_mutex_unlock(&g_mu);
    *out = ix;
    return rc;
}

void
rhis_mpi_global_reset(void)
{
    pthread_mutex_lock(&g_mu);
    rhis_mpi_index *ix = atomic_exchange(&g_ix, NULL);
    pthread_mutex_unlock(&g_mu);
    rhis_mpi_index_free(ix);
}

void
rhis_mpi_forget_patient(int64_t id)
{
    rhis_mpi_index *ix = atomic_load(&g_ix);
    if (ix != NULL)
        rhis_mpi_index_remove(ix, id);
}

typedef struct row_person {
    rhis_mpi_person p;
    char name[NAME_CAP], idn[32], sex[2], birth[16], phone[32], area[16];
} row_person;

static void
copy_col(rhis_stmt *st, int col, char *out, size_t len)
{
    const char *s = rhis_db_column_text(st, col);
    snprintf(out, len, "%s", s != NULL ? s : "");
}

static void
fill_row_person(rhis_stmt *st, void *out)
{
    row_person *r = out;
    memset(r, 0, sizeof(*r));
    r->p.id = rhis_db_column_int64(st, 0);
    copy_col(st, 1, r->name, sizeof(r->name));
    copy_col(st, 2, r->idn, sizeof(r->idn));
    copy_col(st, 3, r->sex, sizeof(r->sex));
    copy_col(st, 4, r->birth, sizeof(r->birth));
    copy_col(st, 5, r->phone, sizeof(r->phone));
    copy_col(st, 6, r->area, sizeof(r->area));
    r->p.name = r->name;
    r->p.id_number = r->idn;
    r->p.sex = r->sex[0];
    r->p.birth_date = r->birth;
    r->p.phone = r->phone;
    r->p.area_code = r->area;
}

/* The live typed row of Patient id; RHIS_ENOTFOUND if deleted, merged or
 * absent. */
static rhis_status
load_live(rhis_db *db, int64_t id, row_person *out)
{
    return rhis_db_query_row(db, fill_row_person, out,
                             "SELECT " PATIENT_COLS " FROM patient"
                             " WHERE id = ? AND deleted = 0"
                             " AND merged_into IS NULL",
                             "i", id);
}

rhis_status
rhis_mpi_refresh(rhis_db *db, int64_t id)
{
    rhis_mpi_index *ix = atomic_load(&g_ix);
    if (ix == NULL)
        return RHIS_OK;
    row_person r;
    rhis_status rc = load_live(db, id, &r);
    if (rc == RHIS_OK)
        rhis_mpi_index_put(ix, &r.p);
    else if (rc == RHIS_ENOTFOUND)
        rhis_mpi_index_remove(ix, id);
    return rc == RHIS_ENOTFOUND ? RHIS_OK : rc;
}

/* Queues the pair (a, b) for review, or refreshes an open entry. */
static rhis_status
queue_review(rhis_fhir_ctx *c, int64_t a, int64_t b, const rhis_mpi_compare *m)
{
    int64_t lo = a < b ? a : b, hi = a < b ? b : a;
    json_object *d = rhis_mpi_detail_json(m);
    rhis_status rc =
        rhis_db_run(c->db,
                    "INSERT INTO mpi_review (patient_a, patient_b, score,"
                    " detail, status, created_ms) VALUES (?, ?, ?, ?,"
                    " 'open', ?) ON CONFLICT (patient_a, patient_b) DO"
                    " UPDATE SET score = excluded.score, detail ="
                    " excluded.detail WHERE mpi_review.status = 'open'",
                    "iidsi", lo, hi, round(m->total * 100) / 100,
                    rhis_json_print(d), c->now_ms);
    json_object_put(d);
    return rc;
}

#define NOTE_MAX 16

rhis_status
rhis_mpi_note_patient(rhis_fhir_ctx *c, const rhis_patient *p)
{
    if (p->deleted || p->merged_into != 0) {
        rhis_mpi_forget_patient(p->id);
        return RHIS_OK;
    }
    rhis_mpi_index *ix;
    rhis_status rc = rhis_mpi_global(c->db, &ix);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, NULL,
                              "the master patient index cannot be loaded");
    char sex[2] = {p->sex, '\0'};
    rhis_mpi_person me = {
        .id = p->id,
        .name = p->name,
        .id_number = p->id_number,
        .sex = sex[0],
        .birth_date = p->birth_date,
        .phone = p->phone,
        .area_code = p->area_code,
    };
    /* normalised once for the match and the index; a resident with a
     * valid ID number is scored only against those without one (the
     * others are certain or certainly not, never a case for review),
     * which a registry loaded from the population register mostly has
     * none of */
    norm *nm = rhis_xmalloc(sizeof(*nm));
    normalise(&me, nm);
    rhis_mpi_candidate cand[NOTE_MAX];
    int n =
        match_norm(ix, nm, me.id, RHIS_MPI_LINK_THRESHOLD,
                   RHIS_MPI_REVIEW_THRESHOLD, cand, NOTE_MAX, nm->idkey != 0);
    for (int i = 0; i < n && rc == RHIS_OK; i++) {
        if (cand[i].grade != RHIS_MPI_POSSIBLE &&
            cand[i].grade != RHIS_MPI_PROBABLE)
            continue;
        /* score against the stored row: the index may lag behind a
         * rolled-back transaction */
        row_person other;
        rc = load_live(c->db, cand[i].id, &other);
        if (rc == RHIS_ENOTFOUND) {
            rc = RHIS_OK;
            continue;
        }
        if (rc != RHIS_OK)
            break;
        rhis_mpi_compare m;
        rhis_mpi_index_compare(ix, &me, &other.p, &m);
        rhis_mpi_grade g = rhis_mpi_grade_of(&m, RHIS_MPI_LINK_THRESHOLD,
                                             RHIS_MPI_REVIEW_THRESHOLD);
        if (g == RHIS_MPI_POSSIBLE || g == RHIS_MPI_PROBABLE)
            rc = queue_review(c, p->id, cand[i].id, &m);
    }
    if (rc != RHIS_OK) {
        rhis_free(nm);
        return rhis_fhir_fail(c, rc, NULL,
                              "cannot queue a possible duplicate for review");
    }
    put_norm(ix, me.id, nm);
    rhis_free(nm);
    return RHIS_OK;
}

/* ---- rhis mpi estimate ---- */

static void
print_weights(FILE *f, const rhis_mpi_weights *w)
{
    fprintf(f, "%-10s %-9s %10s %10s %8s\n", "field", "level", "m", "u",
            "weight");
    for (int fi = 0; fi < RHIS_MPI_NFIELDS; fi++)
        for (int l = 0; l < nlevels[fi]; l++)
            fprintf(f, "%-10s %-9s %10.6f %10.6f %8.2f\n", field_names[fi],
                    level_names[fi][l], w->m[fi][l], w->u[fi][l], w->w[fi][l]);
}

int
rhis_mpi_cli(int argc, char **argv, const char *default_db)
{
    const char *url = default_db;
    int64_t sample = 200000;
    int dry = 0, ok_args = argc >= 2 && strcmp(argv[1], "estimate") == 0;
    for (int i = 2; ok_args && i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            url = argv[++i];
        } else if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc) {
            char *end;
            sample = strtoll(argv[++i], &end, 10);
            ok_args = *end == '\0' && sample >= 1000 && sample <= 100000000;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            dry = 1;
        } else {
            ok_args = 0;
        }
    }
    if (!ok_args) {
        fputs(
            "usage: rhis mpi estimate [--db URL] [--sample N] [--dry-run]\n"
            "  estimates the m/u probabilities of the master patient index\n"
            "  by EM over the candidate pairs blocking gives for N residents\n"
            "  (default 200000) and stores them in mpi_weight.\n",
            stderr);
        return 2;
    }
    char err[512] = "";
    rhis_db *db = NULL;
    if (rhis_db_open(&db, url, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis mpi: cannot open database: %s\n", err);
        return 1;
    }
    rhis_mpi_index *ix = rhis_mpi_index_new();
    int64_t n = 0;
    int status = 1;
    rhis_status rc = rhis_mpi_index_load(ix, db, &n);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis mpi: cannot load patients: %s\n",
                rhis_db_errmsg(db));
        goto out;
    }
    rhis_mpi_weights w;
    rhis_mpi_index_weights(ix, &w);
    rhis_mpi_estimate rep;
    rc = rhis_mpi_index_estimate(ix, &w, sample, &rep);
    printf("residents %lld; u from %lld random pairs\n", (long long)n,
           (long long)rep.u_pairs);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis mpi: too few residents to estimate; the "
                        "weights in use are kept\n");
        goto out;
    }
    for (int i = 0; i < RHIS_MPI_EM_PASSES; i++)
        printf("m pass %d (%s): %lld candidate pairs, %d iterations%s, %.0f "
               "matches: %s\n",
               i + 1, i == 0 ? "village, phone" : "name, birth date, sex",
               (long long)rep.pairs[i], rep.pass[i].iterations,
               rep.pass[i].converged ? "" : " (not converged)",
               rep.pass[i].matches,
               rep.rc[i] == RHIS_OK
                   ? "estimated"
                   : "too few duplicates, m kept from the weights in use");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w.estimated_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    print_weights(stdout, &w);
    if (dry) {
        puts("dry run: nothing stored");
    } else if ((rc = rhis_mpi_weights_save(db, &w)) != RHIS_OK) {
        fprintf(stderr, "rhis mpi: cannot store the weights: %s\n",
                rhis_db_errmsg(db));
        goto out;
    } else {
        puts("stored in mpi_weight; a running server uses them after a "
             "restart");
    }
    status = 0;
out:
    rhis_mpi_index_free(ix);
    rhis_db_close(db);
    return status;
}
