/*
 * defs.c - loads and checks data/data-elements.csv and data/indicators.csv.
 *
 * Why: indicator definitions are data a planner can read and review; the
 * vocabulary of element rules is small and fixed (the kinds below, each
 * implemented in element.c), so a definition either parses into one of
 * them or is rejected at load with its file and line.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "rhis/alloc.h"
#include "rhis/csv.h"
#include "rhis/log.h"

static const struct {
    const char *name;
    ekind kind;
    escope scope;
    int inst_ok; /* may count by the institution's area */
} kinds[] = {
    {"obs", EK_OBS, SC_OBS, 0},
    {"enc", EK_ENC, SC_ENC, 1},
    {"enc_nth", EK_ENC_NTH, SC_ENC, 0},
    {"enc_prior", EK_ENC_PRIOR, SC_ENC, 0},
    {"discharges", EK_DISCHARGES, SC_ENC, 1},
    {"stay_days", EK_STAY_DAYS, SC_ENC, 1},
    {"births", EK_BIRTHS, SC_CORE, 0},
    {"deaths", EK_DEATHS, SC_CORE, 0},
    {"deaths_band", EK_DEATHS_BAND, SC_CORE, 0},
    {"residents", EK_RESIDENTS, SC_CORE, 0},
    {"birthday", EK_BIRTHDAY, SC_CORE, 0},
    {"birthday_imm", EK_BIRTHDAY_IMM, SC_CORE, 0},
    {"imm", EK_IMM, SC_IMM, 0},
    {"registered", EK_REGISTERED, SC_COND, 0},
    {"contracts", EK_CONTRACTS, SC_CONTRACT, 0},
    {"beds", EK_BEDS, SC_INST, 1},
    {"staff", EK_STAFF, SC_INST, 1},
    {"pop", EK_POP, SC_NONE, 0},
};

/* Splits s at ':' into at most max parts (in place). */
static int
split(char *s, char sep, char **parts, int max)
{
    int n = 0;
    parts[n++] = s;
    for (char *p = s; *p != '\0'; p++)
        if (*p == sep) {
            if (n == max)
                return -1;
            *p = '\0';
            parts[n++] = p + 1;
        }
    return n;
}

static int
parse_range(const char *s, int *lo, int *hi)
{
    char buf[32];
    if (strlen(s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    char *p[2];
    if (split(buf, '-', p, 2) != 2)
        return -1;
    *lo = rhis_parse_int(p[0]);
    *hi = rhis_parse_int(p[1]);
    if (*lo < 0 || *hi <= *lo || *hi > 200)
        return -1;
    return 0;
}

static int
copy_code(char *dst, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= len)
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

static int
parse_causes(element *e, const char *s)
{
    char buf[512];
    if (strlen(s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    char *items[PLAN_MAX_CAUSES];
    int n = split(buf, '|', items, PLAN_MAX_CAUSES);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        cause_range *c = &e->causes[i];
        char *r[2];
        int k = split(items[i], '-', r, 2);
        if (k < 1 || copy_code(c->lo, sizeof(c->lo), r[0]) != 0)
            return -1;
        c->hi[0] = '\0';
        if (k == 2 && (strlen(r[0]) != 3 || strlen(r[1]) != 3 ||
                       copy_code(c->hi, sizeof(c->hi), r[1]) != 0 ||
                       strcmp(c->lo, c->hi) > 0))
            return -1;
    }
    e->ncauses = n;
    return 0;
}

static int
parse_set(element *e, const char *s)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    char *items[PLAN_MAX_SET];
    int n = split(buf, '|', items, PLAN_MAX_SET);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (copy_code(e->set[i], sizeof(e->set[i]), items[i]) != 0)
            return -1;
    e->nset = n;
    return 0;
}

static int
parse_sex(const char *s, char *sex)
{
    if (strcmp(s, "") == 0)
        *sex = 0;
    else if (strcmp(s, "M") == 0 || strcmp(s, "F") == 0)
        *sex = s[0];
    else
        return -1;
    return 0;
}

/* Parses e->info.param for e->kind; -1 when malformed. */
static int
parse_param(element *e)
{
    char buf[512];
    const char *param = e->info.param;
    if (strlen(param) >= sizeof(buf))
        return -1;
    memcpy(buf, param, strlen(param) + 1);
    char *p[5];
    int n = split(buf, ':', p, 5);
    e->lo = 0;
    e->hi = 200;
    switch (e->kind) {
    case EK_OBS:
    case EK_ENC:
    case EK_DISCHARGES:
    case EK_STAY_DAYS:
        return n == 1 ? copy_code(e->code, sizeof(e->code), p[0]) : -1;
    case EK_ENC_NTH:
        if (n < 2 || n > 3 || copy_code(e->code, sizeof(e->code), p[0]) != 0)
            return -1;
        e->n = rhis_parse_int(p[1]);
        if (e->n < 1 || e->n > 100)
            return -1;
        return n == 3 ? parse_range(p[2], &e->lo, &e->hi) : 0;
    case EK_ENC_PRIOR:
        if (n != 4 || copy_code(e->code, sizeof(e->code), p[0]) != 0 ||
            copy_code(e->code2, sizeof(e->code2), p[1]) != 0)
            return -1;
        e->n = rhis_parse_int(p[2]);
        e->window = rhis_parse_int(p[3]);
        return e->n < 1 || e->n > 100 || e->window < 1 || e->window > 3660 ? -1
                                                                           : 0;
    case EK_BIRTHS:
        return n == 1 ? parse_sex(p[0], &e->sex) : -1;
    case EK_DEATHS:
        if (n > 3 || parse_range(p[0], &e->lo, &e->hi) != 0)
            return -1;
        if (n >= 2 && p[1][0] != '\0' && parse_causes(e, p[1]) != 0)
            return -1;
        return n == 3 ? parse_sex(p[2], &e->sex) : 0;
    case EK_DEATHS_BAND:
    case EK_REGISTERED:
        if (n != 1)
            return -1;
        if (p[0][0] == '\0')
            return e->kind == EK_REGISTERED ? -1 : 0;
        return parse_causes(e, p[0]);
    case EK_RESIDENTS:
        return n == 1 ? parse_range(p[0], &e->lo, &e->hi) : -1;
    case EK_POP:
        if (n > 2 || parse_range(p[0], &e->lo, &e->hi) != 0)
            return -1;
        if ((e->lo % 5) != 0 || (e->hi % 5) != 0)
            return -1;
        return n == 2 ? parse_sex(p[1], &e->sex) : 0;
    case EK_BIRTHDAY:
        if (n != 1)
            return -1;
        e->n = rhis_parse_int(p[0]);
        return e->n < 1 || e->n > 120 ? -1 : 0;
    case EK_BIRTHDAY_IMM:
        if (n != 3 || copy_code(e->code, sizeof(e->code), p[1]) != 0)
            return -1;
        e->n = rhis_parse_int(p[0]);
        e->window = rhis_parse_int(p[2]); /* the dose */
        return e->n < 1 || e->n > 120 || e->window < 1 ? -1 : 0;
    case EK_IMM:
        if (n != 1)
            return -1;
        return p[0][0] == '\0' ? 0 : copy_code(e->code, sizeof(e->code), p[0]);
    case EK_CONTRACTS:
        return n == 1 && p[0][0] == '\0' ? 0 : -1;
    case EK_BEDS:
        if (n != 1)
            return -1;
        return p[0][0] == '\0' ? 0 : parse_set(e, p[0]);
    case EK_STAFF:
        return n == 1 && p[0][0] != '\0' ? parse_set(e, p[0]) : -1;
    }
    return -1;
}

int
plan_elem_find(const rhis_ind_defs *d, const char *code)
{
    for (size_t i = 0; i < d->nelems; i++)
        if (strcmp(d->elems[i].info.code, code) == 0)
            return (int)i;
    return -1;
}

int
plan_uses_enc_type(const rhis_ind_defs *d, const char *t)
{
    for (size_t i = 0; i < d->nelems; i++) {
        const element *e = &d->elems[i];
        if (e->scope == SC_ENC &&
            (strcmp(e->code, t) == 0 || strcmp(e->code2, t) == 0))
            return 1;
    }
    return 0;
}

int
plan_uses_obs_code(const rhis_ind_defs *d, const char *code)
{
    for (size_t i = 0; i < d->nelems; i++)
        if (d->elems[i].kind == EK_OBS && strcmp(d->elems[i].code, code) == 0)
            return 1;
    return 0;
}

int
plan_cause_match(const element *e, const char *c)
{
    if (e->ncauses == 0)
        return 1;
    if (c == NULL || c[0] == '\0')
        return 0;
    char cat[4] = {0};
    for (int i = 0; i < 3 && c[i] != '\0'; i++) {
        cat[i] = c[i];
        if (c[i] >= 'a' && c[i] <= 'z')
            cat[i] = (char)(c[i] - ('a' - 'A'));
    }
    for (int i = 0; i < e->ncauses; i++) {
        const cause_range *r = &e->causes[i];
        if (r->hi[0] != '\0') {
            if (strlen(cat) == 3 && strcmp(cat, r->lo) >= 0 &&
                strcmp(cat, r->hi) <= 0)
                return 1;
        } else if (strncmp(c, r->lo, strlen(r->lo)) == 0) {
            return 1;
        }
    }
    return 0;
}

static char *
dup(rhis_arena *a, const char *s)
{
    return rhis_arena_strdup(a, s != NULL ? s : "");
}

static rhis_status
load_elements(rhis_ind_defs *d, const char *path, char *err, size_t errlen)
{
    rhis_csv c;
    rhis_status rc = rhis_csv_open(&c, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char **f;
    int nf;
    size_t cap = 0;
    rc = RHIS_OK;
    int header = 1;
    while ((nf = rhis_csv_next(&c, &f)) != 0) {
        if (nf != 6) {
            snprintf(err, errlen, "%s:%ld: expected 6 fields", path, c.line);
            rc = RHIS_EINVAL;
            break;
        }
        if (header) {
            header = 0;
            if (strcmp(f[0], "code") != 0 || strcmp(f[1], "kind") != 0) {
                snprintf(err, errlen, "%s:%ld: bad header", path, c.line);
                rc = RHIS_EINVAL;
                break;
            }
            continue;
        }
        if (d->nelems == cap) {
            cap = cap ? cap * 2 : 64;
            d->elems = rhis_xrealloc(d->elems, cap * sizeof(element));
        }
        element *e = &d->elems[d->nelems];
        memset(e, 0, sizeof(*e));
        e->info.code = dup(d->arena, f[0]);
        e->info.kind = dup(d->arena, f[1]);
        e->info.param = dup(d->arena, f[2]);
        e->info.area = dup(d->arena, f[3]);
        e->info.name_zh = dup(d->arena, f[4]);
        e->info.name_en = dup(d->arena, f[5]);
        int k = -1;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (strcmp(kinds[i].name, f[1]) == 0)
                k = (int)i;
        if (f[0][0] == '\0' || strlen(f[0]) > 40 || strchr(f[0], '.') != NULL) {
            snprintf(err, errlen, "%s:%ld: bad element code '%s'", path, c.line,
                     f[0]);
            rc = RHIS_EINVAL;
            break;
        }
        if (plan_elem_find(d, f[0]) >= 0) {
            snprintf(err, errlen, "%s:%ld: duplicate element '%s'", path,
                     c.line, f[0]);
            rc = RHIS_EINVAL;
            break;
        }
        if (k < 0) {
            snprintf(err, errlen, "%s:%ld: unknown element kind '%s'", path,
                     c.line, f[1]);
            rc = RHIS_EINVAL;
            break;
        }
        e->kind = kinds[k].kind;
        e->scope = kinds[k].scope;
        if (strcmp(f[3], "institution") == 0 && kinds[k].inst_ok)
            e->by_inst = 1;
        else if (strcmp(f[3], "resident") != 0 || e->kind == EK_BEDS ||
                 e->kind == EK_STAFF) {
            if (!(e->by_inst)) {
                snprintf(err, errlen,
                         "%s:%ld: area '%s' not allowed for kind %s", path,
                         c.line, f[3], f[1]);
                rc = RHIS_EINVAL;
                break;
            }
        }
        if (parse_param(e) != 0) {
            snprintf(err, errlen, "%s:%ld: bad parameter '%s' for kind %s",
                     path, c.line, f[2], f[1]);
            rc = RHIS_EINVAL;
            break;
        }
        d->scopes |= 1u << e->scope;
        d->nelems++;
        if (d->nelems > 30000) {
            snprintf(err, errlen, "%s: too many elements", path);
            rc = RHIS_EINVAL;
            break;
        }
    }
    rhis_csv_close(&c);
    return rc;
}

/* Parses "a + b - c" into terms; -1 with the unknown name in bad. */
static int
parse_expr(const rhis_ind_defs *d,
           const char *s,
           term *t,
           int *n,
           char *bad,
           size_t badlen)
{
    *n = 0;
    int sign = 1;
    const char *p = s;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p == '+' || *p == '-') {
            sign = *p == '-' ? -1 : 1;
            p++;
            continue;
        }
        const char *q = p;
        while (*q != '\0' && *q != ' ' && *q != '+' && *q != '-')
            q++;
        char name[48];
        size_t len = (size_t)(q - p);
        if (len >= sizeof(name) || *n == PLAN_MAX_TERMS) {
            snprintf(bad, badlen, "%.*s", (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int e = plan_elem_find(d, name);
        if (e < 0) {
            snprintf(bad, badlen, "%s", name);
            return -1;
        }
        t[*n].elem = e;
        t[*n].coef = sign;
        (*n)++;
        sign = 1;
        p = q;
    }
    return 0;
}

static int
lookup(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static rhis_status
check_indicator(const rhis_ind_defs *d,
                ind_def *x,
                const char *where,
                char *err,
                size_t errlen)
{
    rhis_indicator *pi = &x->pub;
    if (pi->method == RHIS_IND_ENTERED)
        return RHIS_OK;
    if (pi->factor <= 0) {
        snprintf(err, errlen, "%s: factor must be positive", where);
        return RHIS_EINVAL;
    }
    if (x->nnum == 0) {
        snprintf(err, errlen, "%s: numerator is empty", where);
        return RHIS_EINVAL;
    }
    if (pi->method == RHIS_IND_RATIO) {
        if (x->nden == 0) {
            snprintf(err, errlen, "%s: denominator is empty", where);
            return RHIS_EINVAL;
        }
        for (int i = 0; i < x->nnum; i++)
            if (d->elems[x->num[i].elem].kind == EK_DEATHS_BAND) {
                snprintf(err, errlen,
                         "%s: a band element needs a life-table "
                         "method",
                         where);
                return RHIS_EINVAL;
            }
        return RHIS_OK;
    }
    /* life tables: numerator one deaths_band element */
    if (x->nnum != 1 || d->elems[x->num[0].elem].kind != EK_DEATHS_BAND) {
        snprintf(err, errlen,
                 "%s: a life-table numerator is one deaths_band "
                 "element",
                 where);
        return RHIS_EINVAL;
    }
    if (pi->method == RHIS_IND_LIFE_E0 &&
        (x->nden != 1 || d->elems[x->den[0].elem].kind != EK_BIRTHS)) {
        snprintf(err, errlen, "%s: life_e0 needs live births as denominator",
                 where);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

static rhis_status
load_indicators(rhis_ind_defs *d, const char *path, char *err, size_t errlen)
{
    static const char *const ptypes[] = {"day", "month", "quarter", "year"};
    static const char *const arules[] = {"sum", "min_child"};
    static const char *const prules[] = {"sum", "end"};
    static const char *const methods[] = {"ratio", "life_e0", "ncd_premature",
                                          "entered"};
    rhis_csv c;
    rhis_status rc = rhis_csv_open(&c, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    char **f;
    int nf, header = 1;
    size_t cap = 0;
    while ((nf = rhis_csv_next(&c, &f)) != 0) {
        char where[1100];
        snprintf(where, sizeof(where), "%s:%ld", path, c.line);
        if (nf != 16) {
            snprintf(err, errlen, "%s: expected 16 fields", where);
            rc = RHIS_EINVAL;
            break;
        }
        if (header) {
            header = 0;
            if (strcmp(f[0], "code") != 0 || strcmp(f[7], "numerator") != 0) {
                snprintf(err, errlen, "%s: bad header", where);
                rc = RHIS_EINVAL;
                break;
            }
            continue;
        }
        if (d->ninds == cap) {
            cap = cap ? cap * 2 : 64;
            d->inds = rhis_xrealloc(d->inds, cap * sizeof(ind_def));
        }
        ind_def *x = &d->inds[d->ninds];
        memset(x, 0, sizeof(*x));
        rhis_indicator *pi = &x->pub;
        int pt = lookup(f[9], ptypes, 4), ar = lookup(f[10], arules, 2),
            pr = lookup(f[11], prules, 2), me = lookup(f[12], methods, 4);
        if (f[0][0] == '\0' || rhis_ind_find(d, f[0]) != NULL) {
            snprintf(err, errlen, "%s: empty or duplicate code '%s'", where,
                     f[0]);
            rc = RHIS_EINVAL;
            break;
        }
        if (pt < 0 || ar < 0 || pr < 0 || me < 0) {
            snprintf(err, errlen,
                     "%s: bad period_type, area_rule, period_rule or method",
                     where);
            rc = RHIS_EINVAL;
            break;
        }
        pi->code = dup(d->arena, f[0]);
        pi->ref = dup(d->arena, f[1]);
        pi->name_zh = dup(d->arena, f[2]);
        pi->name_en = dup(d->arena, f[3]);
        pi->aliases = dup(d->arena, f[4]);
        pi->unit = dup(d->arena, f[5]);
        pi->factor = f[6][0] != '\0' ? strtod(f[6], NULL) : 0;
        pi->numerator = dup(d->arena, f[7]);
        pi->denominator = dup(d->arena, f[8]);
        pi->period_type = (rhis_period_type)(pt + 1);
        pi->area_rule = (rhis_ind_area_rule)(ar + 1);
        pi->period_rule = (rhis_ind_period_rule)(pr + 1);
        pi->method = (rhis_ind_method)(me + 1);
        pi->min_den = f[13][0] != '\0' ? strtod(f[13], NULL) : 0;
        pi->source = dup(d->arena, f[14]);
        pi->note = dup(d->arena, f[15]);
        char bad[64];
        if (parse_expr(d, f[7], x->num, &x->nnum, bad, sizeof(bad)) != 0 ||
            parse_expr(d, f[8], x->den, &x->nden, bad, sizeof(bad)) != 0) {
            snprintf(err, errlen, "%s: unknown data element '%s'", where, bad);
            rc = RHIS_EINVAL;
            break;
        }
        rc = check_indicator(d, x, where, err, errlen);
        if (rc != RHIS_OK)
            break;
        d->ninds++;
    }
    rhis_csv_close(&c);
    return rc;
}

rhis_status
rhis_ind_defs_load(rhis_ind_defs **out,
                   const char *dir,
                   char *err,
                   size_t errlen)
{
    *out = NULL;
    rhis_ind_defs *d = rhis_xcalloc(1, sizeof(*d));
    d->arena = rhis_arena_new();
    char path[1024];
    snprintf(path, sizeof(path), "%s/data-elements.csv", dir);
    rhis_status rc = load_elements(d, path, err, errlen);
    if (rc == RHIS_OK) {
        snprintf(path, sizeof(path), "%s/indicators.csv", dir);
        rc = load_indicators(d, path, err, errlen);
    }
    if (rc != RHIS_OK) {
        rhis_ind_defs_free(d);
        return rc;
    }
    *out = d;
    return RHIS_OK;
}

void
rhis_ind_defs_free(rhis_ind_defs *d)
{
    if (d == NULL)
        return;
    rhis_free(d->elems);
    rhis_free(d->inds);
    rhis_arena_free(d->arena);
    rhis_free(d);
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static rhis_ind_defs *default_defs;
static char default_dir[512];

void
rhis_ind_defs_set_dir(const char *dir)
{
    snprintf(default_dir, sizeof(default_dir), "%s", dir);
}

static void
load_default(void)
{
    const char *dir = default_dir;
    if (dir[0] == '\0') {
        dir = getenv("RHIS_DATA_DIR");
        if (dir == NULL || dir[0] == '\0')
            dir = "data";
    }
    char err[512];
    if (rhis_ind_defs_load(&default_defs, dir, err, sizeof(err)) != RHIS_OK)
        rhis_log(RHIS_LOG_WARN, "plan: indicator definitions not loaded: %s",
                 err);
}

const rhis_ind_defs *
rhis_ind_defs_default(void)
{
    pthread_once(&default_once, load_default);
    return default_defs;
}

size_t
rhis_ind_count(const rhis_ind_defs *d)
{
    return d->ninds;
}

const rhis_indicator *
rhis_ind_at(const rhis_ind_defs *d, size_t i)
{
    return i < d->ninds ? &d->inds[i].pub : NULL;
}

const rhis_indicator *
rhis_ind_find(const rhis_ind_defs *d, const char *code)
{
    for (size_t i = 0; i < d->ninds; i++)
        if (strcmp(d->inds[i].pub.code, code) == 0)
            return &d->inds[i].pub;
    return NULL;
}

size_t
rhis_element_count(const rhis_ind_defs *d)
{
    return d->nelems;
}

const rhis_element_info *
rhis_element_at(const rhis_ind_defs *d, size_t i)
{
    return i < d->nelems ? &d->elems[i].info : NULL;
}
