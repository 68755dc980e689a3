/*
 * fusion.c - multi-point fusion (多点触发): the rule-file loader and the
 * fusion of channel signals (include/rhis/fusion.h).
 *
 * Why this shape: a rule is "k of these n channels, in one area of this
 * level, within these many days"; area matching is a prefix comparison
 * of division codes (a township's code begins with its county's), so
 * each rule sorts the eligible signals by (area prefix, channel, day, id)
 * and walks the groups once.  The rule file is untrusted input (edited by
 * hand at a CDC): every field is checked, the first error names the line
 * and the field, and the parser is fuzzed (tests/fuzz/fuzz_fusion.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/csv.h"
#include "rhis/fusion.h"
#include "rhis/text.h"

static const char *const channel_names[RHIS_FUSION_CHANNELS + 1] = {
    NULL,       "fever_clinic",  "intestinal_clinic", "school_absence",
    "pharmacy", "public_report", "lab_positive",      "report_card",
};

static const char *const severity_names[] = {NULL, "blue", "yellow", "orange",
                                             "red"};

const char *
rhis_fusion_channel_name(int channel)
{
    if (channel < 1 || channel > RHIS_FUSION_CHANNELS)
        return NULL;
    return channel_names[channel];
}

int
rhis_fusion_channel_parse(const char *name)
{
    for (int c = 1; name != NULL && c <= RHIS_FUSION_CHANNELS; c++)
        if (strcmp(name, channel_names[c]) == 0)
            return c;
    return 0;
}

const char *
rhis_fusion_severity_name(int severity)
{
    if (severity < RHIS_FUSION_BLUE || severity > RHIS_FUSION_RED)
        return NULL;
    return severity_names[severity];
}

int
rhis_fusion_severity_parse(const char *name)
{
    for (int s = RHIS_FUSION_BLUE; name != NULL && s <= RHIS_FUSION_RED; s++)
        if (strcmp(name, severity_names[s]) == 0)
            return s;
    return 0;
}

static int
popcount(uint32_t x)
{
    int n = 0;
    for (; x != 0; x &= x - 1)
        n++;
    return n;
}

/* ---- the rule file ------------------------------------------------------ */

static const char *const columns[] = {
    "rule_id",      "name_zh",      "name_en",  "channels",
    "min_channels", "required",     "syndrome", "area_level",
    "window_days",  "min_severity", "severity",
};
#define NCOLS ((int)(sizeof(columns) / sizeof(columns[0])))
enum {
    C_ID,
    C_NAME_ZH,
    C_NAME_EN,
    C_CHANNELS,
    C_MIN,
    C_REQUIRED,
    C_SYNDROME,
    C_LEVEL,
    C_WINDOW,
    C_MIN_SEV,
    C_SEV,
};

/* Error context of one row. */
typedef struct row_err {
    char *err;
    size_t errlen;
    const char *name;
    long line;
} row_err;

/* Writes "name:line: field 'f': msg (got 'v')" and returns RHIS_EINVAL.
 * The value is cut at 40 bytes (on a UTF-8 boundary) so that the message
 * stays readable; value NULL leaves the "(got ...)" out (text that is not
 * printable). */
static rhis_status
field_error(const row_err *e, int col, const char *msg, const char *value)
{
    if (value == NULL) {
        (void)snprintf(e->err, e->errlen, "%s:%ld: field '%s': %s", e->name,
                       e->line, columns[col], msg);
        return RHIS_EINVAL;
    }
    size_t n = strlen(value);
    if (n > 40) {
        n = 40;
        while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
            n--;
    }
    (void)snprintf(e->err, e->errlen, "%s:%ld: field '%s': %s (got '%.*s%s')",
                   e->name, e->line, columns[col], msg, (int)n, value,
                   n < strlen(value) ? "..." : "");
    return RHIS_EINVAL;
}

/* "a|b|c" -> channel bitmask; empty allowed when allow_empty. */
static rhis_status
parse_channels(
    const row_err *e, int col, const char *s, int allow_empty, uint32_t *out)
{
    uint32_t mask = 0;
    *out = 0;
    if (*s == '\0') {
        if (allow_empty)
            return RHIS_OK;
        return field_error(e, col, "at least one channel is required", s);
    }
    const char *p = s;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        char name[32];
        int ch = 0;
        if (len > 0 && len < sizeof(name)) {
            memcpy(name, p, len);
            name[len] = '\0';
            ch = rhis_fusion_channel_parse(name);
        }
        if (ch == 0)
            return field_error(e, col,
                               "channels are '|'-separated names: "
                               "fever_clinic, intestinal_clinic, "
                               "school_absence, pharmacy, public_report, "
                               "lab_positive, report_card",
                               s);
        if (mask & (1u << ch))
            return field_error(e, col, "a channel is listed twice", s);
        mask |= 1u << ch;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    *out = mask;
    return RHIS_OK;
}

/* Strict integer in [lo, hi]. */
static rhis_status
parse_range(const row_err *e, int col, const char *s, int lo, int hi, int *out)
{
    int v = rhis_parse_int(s);
    if (v < lo || v > hi) {
        char msg[64];
        (void)snprintf(msg, sizeof(msg), "must be an integer %d..%d", lo, hi);
        return field_error(e, col, msg, s);
    }
    *out = v;
    return RHIS_OK;
}

static rhis_status
parse_text(const row_err *e, int col, const char *s, char *dst, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap)
        return field_error(e, col, "must be 1..128 bytes", s);
    if (!rhis_utf8_valid(s, n))
        return field_error(e, col, "must be UTF-8 text", NULL);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return field_error(e, col, "control characters are not allowed",
                               NULL);
    memcpy(dst, s, n + 1);
    return RHIS_OK;
}

/* [A-Za-z0-9_.-]{1,max}, or [a-z0-9_]{0,max} when lower (syndromes). */
static int
token_ok(const char *s, size_t max, int lower)
{
    size_t n = strlen(s);
    if (n > max || (!lower && n == 0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!lower)
            ok = ok || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static rhis_status
parse_row(const row_err *e, char **f, rhis_fusion_rule *r)
{
    rhis_status rc;
    memset(r, 0, sizeof(*r));
    r->line = e->line;
    if (!token_ok(f[C_ID], RHIS_FUSION_ID_LEN, 0))
        return field_error(
            e, C_ID, "must be 1..32 characters of A-Z a-z 0-9 _ . -", f[C_ID]);
    memcpy(r->id, f[C_ID], strlen(f[C_ID]) + 1);
    rc = parse_text(e, C_NAME_ZH, f[C_NAME_ZH], r->name_zh, sizeof(r->name_zh));
    if (rc == RHIS_OK)
        rc = parse_text(e, C_NAME_EN, f[C_NAME_EN], r->name_en,
                        sizeof(r->name_en));
    if (rc == RHIS_OK)
        rc = parse_channels(e, C_CHANNELS, f[C_CHANNELS], 0, &r->channels);
    if (rc == RHIS_OK)
        rc = parse_range(e, C_MIN, f[C_MIN], 1, popcount(r->channels),
                         &r->min_channels);
    if (rc == RHIS_OK)
        rc = parse_channels(e, C_REQUIRED, f[C_REQUIRED], 1, &r->required);
    if (rc != RHIS_OK)
        return rc;
    if ((r->required & ~r->channels) != 0)
        return field_error(e, C_REQUIRED,
                           "required channels must be among 'channels'",
                           f[C_REQUIRED]);
    if (popcount(r->required) > r->min_channels)
        return field_error(e, C_REQUIRED,
                           "more required channels than min_channels",
                           f[C_REQUIRED]);
    if (!token_ok(f[C_SYNDROME], RHIS_FUSION_SYNDROME_LEN, 1))
        return field_error(e, C_SYNDROME,
                           "must be empty (any) or 1..32 characters of "
                           "a-z 0-9 _",
                           f[C_SYNDROME]);
    memcpy(r->syndrome, f[C_SYNDROME], strlen(f[C_SYNDROME]) + 1);
    if (strcmp(f[C_LEVEL], "township") == 0)
        r->level = RHIS_FUSION_TOWNSHIP;
    else if (strcmp(f[C_LEVEL], "county") == 0)
        r->level = RHIS_FUSION_COUNTY;
    else if (strcmp(f[C_LEVEL], "city") == 0)
        r->level = RHIS_FUSION_CITY;
    else
        return field_error(e, C_LEVEL, "must be township, county or city",
                           f[C_LEVEL]);
    rc = parse_range(e, C_WINDOW, f[C_WINDOW], 1, RHIS_FUSION_MAX_WINDOW,
                     &r->window_days);
    if (rc != RHIS_OK)
        return rc;
    r->min_severity = rhis_fusion_severity_parse(f[C_MIN_SEV]);
    if (r->min_severity == 0)
        return field_error(e, C_MIN_SEV, "must be blue, yellow, orange or red",
                           f[C_MIN_SEV]);
    r->severity = rhis_fusion_severity_parse(f[C_SEV]);
    if (r->severity == 0)
        return field_error(e, C_SEV, "must be blue, yellow, orange or red",
                           f[C_SEV]);
    return RHIS_OK;
}

rhis_status
rhis_fusion_rules_parse(const char *data,
                        size_t len,
                        const char *name,
                        rhis_fusion_rules **out,
                        char *err,
                        size_t errlen)
{
    *out = NULL;
    if (name == NULL)
        name = "fusion rules";
    if (len > RHIS_FUSION_MAX_FILE) {
        (void)snprintf(err, errlen, "%s: over %d bytes", name,
                       RHIS_FUSION_MAX_FILE);
        return RHIS_ETOOBIG;
    }
    rhis_csv csv;
    char **f = NULL;
    rhis_csv_open_mem(&csv, data, len);
    int nf = rhis_csv_next(&csv, &f);
    int header_ok = nf == NCOLS;
    for (int i = 0; header_ok && i < NCOLS; i++)
        header_ok = strcmp(f[i], columns[i]) == 0;
    if (!header_ok) {
        (void)snprintf(err, errlen,
                       "%s:1: the header must be rule_id,name_zh,name_en,"
                       "channels,min_channels,required,syndrome,area_level,"
                       "window_days,min_severity,severity",
                       name);
        rhis_csv_close(&csv);
        return RHIS_EINVAL;
    }
    rhis_fusion_rules *rs = rhis_xcalloc(1, sizeof(*rs));
    size_t cap = 8;
    rs->rules = rhis_xcalloc(cap, sizeof(rhis_fusion_rule));
    rhis_status rc = RHIS_OK;
    row_err e = {err, errlen, name, 0};
    while ((nf = rhis_csv_next(&csv, &f)) > 0) {
        e.line = csv.line;
        if (nf != NCOLS) {
            (void)snprintf(err, errlen, "%s:%ld: %d fields, want %d", name,
                           csv.line, nf, NCOLS);
            rc = RHIS_EINVAL;
            break;
        }
        if (rs->n == RHIS_FUSION_MAX_RULES) {
            (void)snprintf(err, errlen, "%s:%ld: more than %d rules", name,
                           csv.line, RHIS_FUSION_MAX_RULES);
            rc = RHIS_ETOOBIG;
            break;
        }
        if (rs->n == cap) {
            cap *= 2;
            rs->rules = rhis_xrealloc(rs->rules, cap * sizeof(*rs->rules));
        }
        rhis_fusion_rule *r = &rs->rules[rs->n];
        rc = parse_row(&e, f, r);
        if (rc != RHIS_OK)
            break;
        for (size_t i = 0; i < rs->n; i++) {
            if (strcmp(rs->rules[i].id, r->id) == 0) {
                char msg[80];
                (void)snprintf(msg, sizeof(msg),
                               "duplicate rule id (first on line %ld)",
                               rs->rules[i].line);
                rc = field_error(&e, C_ID, msg, r->id);
                break;
            }
        }
        if (rc != RHIS_OK)
            break;
        rs->n++;
    }
    if (nf < 0 && rc == RHIS_OK) {
        (void)snprintf(err, errlen,
                       "%s:%ld: malformed CSV (a quote not closed or stray)",
                       name, csv.line);
        rc = RHIS_EINVAL;
    }
    rhis_csv_close(&csv);
    if (rc == RHIS_OK && rs->n == 0) {
        (void)snprintf(err, errlen, "%s: no rules", name);
        rc = RHIS_EINVAL;
    }
    if (rc != RHIS_OK) {
        rhis_fusion_rules_free(rs);
        return rc;
    }
    *out = rs;
    return RHIS_OK;
}

rhis_status
rhis_fusion_rules_load(const char *path,
                       rhis_fusion_rules **out,
                       char *err,
                       size_t errlen)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        (void)snprintf(err, errlen, "%s: cannot open", path);
        return RHIS_EIO;
    }
    size_t cap = RHIS_FUSION_MAX_FILE + 1;
    char *buf = rhis_xmalloc(cap);
    size_t len = fread(buf, 1, cap, fp);
    int bad = ferror(fp);
    (void)fclose(fp);
    rhis_status rc;
    if (bad) {
        (void)snprintf(err, errlen, "%s: read error", path);
        rc = RHIS_EIO;
    } else {
        rc = rhis_fusion_rules_parse(buf, len, path, out, err, errlen);
    }
    rhis_free(buf);
    return rc;
}

void
rhis_fusion_rules_free(rhis_fusion_rules *r)
{
    if (r == NULL)
        return;
    rhis_free(r->rules);
    rhis_free(r);
}

/* ---- fusion ---------------------------------------------------------------
 */

/* |day numbers| accepted for asof: about 27,000 years either side of 1970 */
#define RHIS_FUSION_MAX_DAY 10000000

/* A signal that is evidence for the rule being evaluated. */
typedef struct elig {
    char key[13]; /* area prefix at the rule's level */
    int channel;
    int64_t day;
    int64_t id;
} elig;

static int
cmp_elig(const void *a, const void *b)
{
    const elig *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    if (x->channel != y->channel)
        return x->channel < y->channel ? -1 : 1;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A fired rule before it goes to the arena. */
typedef struct fired {
    rhis_fused_signal f;
    size_t rule_index;
    size_t first; /* its evidence: ev[first .. first + f.nids) */
} fired;

static int
cmp_fired(const void *a, const void *b)
{
    const fired *x = a, *y = b;
    if (x->f.severity != y->f.severity)
        return x->f.severity > y->f.severity ? -1 : 1;
    if (x->rule_index != y->rule_index)
        return x->rule_index < y->rule_index ? -1 : 1;
    return strcmp(x->f.area, y->f.area);
}

static rhis_status
check_signal(const rhis_fusion_signal *s, size_t i, char *err, size_t errlen)
{
    const char *what = NULL;
    if (s->channel < 1 || s->channel > RHIS_FUSION_CHANNELS)
        what = "channel must be 1..7";
    else if (s->severity < RHIS_FUSION_BLUE || s->severity > RHIS_FUSION_RED)
        what = "severity must be 1 (blue) .. 4 (red)";
    else if (s->area == NULL)
        what = "area is missing";
    else if (s->syndrome != NULL &&
             !token_ok(s->syndrome, RHIS_FUSION_SYNDROME_LEN, 1))
        what = "syndrome must be up to 32 characters of a-z 0-9 _";
    if (what == NULL) {
        size_t n = strlen(s->area);
        int digits = n == 6 || n == 9 || n == 12;
        for (size_t k = 0; digits && k < n; k++)
            digits = s->area[k] >= '0' && s->area[k] <= '9';
        if (!digits)
            what = "area must be a 6, 9 or 12-digit division code";
    }
    if (what == NULL)
        return RHIS_OK;
    (void)snprintf(err, errlen, "signal %zu (id %lld): %s", i, (long long)s->id,
                   what);
    return RHIS_EINVAL;
}

rhis_status
rhis_fusion_run(rhis_arena *a,
                const rhis_fusion_rules *rules,
                const rhis_fusion_signal *sig,
                size_t n,
                int64_t asof,
                int flags,
                rhis_fused_signal **out,
                size_t *nout,
                char *err,
                size_t errlen)
{
    *out = NULL;
    *nout = 0;
    if (rules == NULL || (sig == NULL && n > 0)) {
        (void)snprintf(err, errlen, "fusion: rules and signals are required");
        return RHIS_EINVAL;
    }
    if (asof < -RHIS_FUSION_MAX_DAY || asof > RHIS_FUSION_MAX_DAY) {
        (void)snprintf(err, errlen, "fusion: asof %lld is not a day number",
                       (long long)asof);
        return RHIS_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        rhis_status rc = check_signal(&sig[i], i, err, errlen);
        if (rc != RHIS_OK)
            return rc;
    }
    elig *ev = rhis_xcalloc(n > 0 ? n : 1, sizeof(*ev));
    size_t fcap = 16, nf = 0;
    fired *fs = rhis_xcalloc(fcap, sizeof(*fs));
    size_t icap = 64, ni = 0; /* evidence ids of every fired rule */
    int64_t *ids = rhis_xcalloc(icap, sizeof(int64_t));
    for (size_t ri = 0; ri < rules->n; ri++) {
        const rhis_fusion_rule *r = &rules->rules[ri];
        int64_t from = asof - r->window_days + 1;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const rhis_fusion_signal *s = &sig[i];
            const char *syn = s->syndrome != NULL ? s->syndrome : "";
            if ((r->channels & (1u << s->channel)) == 0 ||
                s->severity < r->min_severity || s->day < from ||
                s->day > asof || strlen(s->area) < (size_t)r->level ||
                (r->syndrome[0] != '\0' && strcmp(r->syndrome, syn) != 0))
                continue;
            elig *e = &ev[m++];
            memcpy(e->key, s->area, (size_t)r->level);
            e->key[r->level] = '\0';
            e->channel = s->channel;
            e->day = s->day;
            e->id = s->id;
        }
        qsort(ev, m, sizeof(*ev), cmp_elig);
        for (size_t g = 0; g < m;) {
            size_t h = g;
            uint32_t all = 0, before = 0, today = 0;
            for (; h < m && strcmp(ev[h].key, ev[g].key) == 0; h++) {
                uint32_t bit = 1u << ev[h].channel;
                all |= bit;
                if (ev[h].day == asof)
                    today |= bit;
                else
                    before |= bit;
            }
            int fire =
                popcount(all) >= r->min_channels &&
                (all & r->required) == r->required &&
                ((flags & RHIS_FUSION_ALL) != 0 || (today & ~before) != 0);
            if (fire) {
                if (nf == fcap) {
                    fcap *= 2;
                    fs = rhis_xrealloc(fs, fcap * sizeof(*fs));
                }
                fired *x = &fs[nf++];
                memset(x, 0, sizeof(*x));
                x->rule_index = ri;
                x->first = ni;
                x->f.rule = r;
                memcpy(x->f.area, ev[g].key, sizeof(x->f.area));
                x->f.severity = r->severity;
                x->f.channels = all;
                x->f.nchannels = popcount(all);
                x->f.nids = h - g;
                x->f.first_day = ev[g].day;
                x->f.last_day = ev[g].day;
                for (size_t k = g; k < h; k++) {
                    if (ni == icap) {
                        icap *= 2;
                        ids = rhis_xrealloc(ids, icap * sizeof(int64_t));
                    }
                    ids[ni++] = ev[k].id;
                    if (ev[k].day < x->f.first_day)
                        x->f.first_day = ev[k].day;
                    if (ev[k].day > x->f.last_day)
                        x->f.last_day = ev[k].day;
                }
            }
            g = h;
        }
    }
    qsort(fs, nf, sizeof(*fs), cmp_fired);
    rhis_fused_signal *res =
        rhis_arena_calloc(a, (nf > 0 ? nf : 1) * sizeof(*res));
    int64_t *aids = rhis_arena_alloc(a, (ni > 0 ? ni : 1) * sizeof(int64_t));
    size_t pos = 0;
    for (size_t i = 0; i < nf; i++) {
        res[i] = fs[i].f;
        memcpy(aids + pos, ids + fs[i].first, fs[i].f.nids * sizeof(int64_t));
        res[i].ids = aids + pos;
        pos += fs[i].f.nids;
    }
    rhis_free(ev);
    rhis_free(fs);
    rhis_free(ids);
    *out = res;
    *nout = nf;
    return RHIS_OK;
}
