/*
 * detect.c - the detector framework: method table, results, options text,
 * the date,count CSV reader, weekly aggregation and shared maths.
 *
 * Why: the methods themselves (ears.c, cusum.c, mpm.c, fixed.c,
 * farrington.c) are pure functions over a series; everything they share
 * (checking the series, NA results, option parsing, quantiles, the normal
 * quantile function) lives here once so `rhis detect`, the nightly run and
 * the tests see exactly the same behaviour.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect_int.h"
#include "rhis/alloc.h"
#include "rhis/csv.h"
#include "rhis/detect.h"

/* Rows are defined next to their methods (Farrington's in farrington.c);
 * this order is the order of `rhis detect --help`. */
static const rhis_detect_method *const methods[] = {
    &rhis_detect_method_ears_c1,    &rhis_detect_method_ears_c2,
    &rhis_detect_method_ears_c3,    &rhis_detect_method_ears_c3_compat,
    &rhis_detect_method_cusum,      &rhis_detect_method_mpm,
    &rhis_detect_method_farrington, &rhis_detect_method_noufaily,
    &rhis_detect_method_fixed,
};

const rhis_detect_method *
rhis_detect_method_at(size_t i)
{
    return i < sizeof(methods) / sizeof(methods[0]) ? methods[i] : NULL;
}

const rhis_detect_method *
rhis_detect_method_find(const char *name)
{
    const rhis_detect_method *m;
    if (name == NULL)
        return NULL;
    for (size_t i = 0; (m = rhis_detect_method_at(i)) != NULL; i++) {
        if (strcmp(m->name, name) == 0)
            return m;
    }
    return NULL;
}

void
detect_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

rhis_status
rhis_detect_configure(const rhis_detect_method *m,
                      void *opts,
                      const char *spec,
                      char *err,
                      size_t errlen)
{
    char name[64], value[128];
    const char *p = spec;
    if (p == NULL)
        return RHIS_OK;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        const char *end = p;
        while (*end != '\0' && *end != ',')
            end++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL) {
            detect_errf(err, errlen, "option '%.*s' has no '=value'",
                        (int)(end - p), p);
            return RHIS_EINVAL;
        }
        size_t nl = (size_t)(eq - p), vl = (size_t)(end - eq - 1);
        while (nl > 0 && p[nl - 1] == ' ')
            nl--;
        const char *v = eq + 1;
        while (vl > 0 && *v == ' ') {
            v++;
            vl--;
        }
        while (vl > 0 && v[vl - 1] == ' ')
            vl--;
        if (nl == 0 || nl >= sizeof(name) || vl >= sizeof(value)) {
            detect_errf(err, errlen, "option '%.*s' is malformed",
                        (int)(end - p), p);
            return RHIS_EINVAL;
        }
        memcpy(name, p, nl);
        name[nl] = '\0';
        memcpy(value, v, vl);
        value[vl] = '\0';
        rhis_status st = m->set_opt(opts, name, value, err, errlen);
        if (st != RHIS_OK)
            return st;
        p = end;
    }
    return RHIS_OK;
}

void
rhis_detect_result_init(rhis_detect_result *res,
                        const rhis_detect_method *m,
                        size_t n)
{
    size_t cap = n > 0 ? n : 1;
    memset(res, 0, sizeof(*res));
    res->n = n;
    res->upper = rhis_xmalloc(cap * sizeof(double));
    res->alarm = rhis_xmalloc(cap * sizeof(int8_t));
    res->ncols = m != NULL ? m->ncols : 0;
    RHIS_ASSERT(res->ncols >= 0 && res->ncols <= RHIS_DETECT_MAX_COLS);
    for (int c = 0; c < res->ncols; c++)
        res->cols[c] = rhis_xmalloc(cap * sizeof(double));
    rhis_detect_result_clear(res);
}

void
rhis_detect_result_fini(rhis_detect_result *res)
{
    if (res == NULL)
        return;
    rhis_free(res->upper);
    rhis_free(res->alarm);
    for (int c = 0; c < res->ncols; c++)
        rhis_free(res->cols[c]);
    memset(res, 0, sizeof(*res));
}

void
rhis_detect_result_clear(rhis_detect_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        res->upper[i] = NAN;
        res->alarm[i] = RHIS_DETECT_NA;
    }
    for (int c = 0; c < res->ncols; c++) {
        for (size_t i = 0; i < res->n; i++)
            res->cols[c][i] = NAN;
    }
}

rhis_status
rhis_detect_check(const rhis_detect_series *s,
                  size_t from,
                  size_t to,
                  const rhis_detect_result *res,
                  char *err,
                  size_t errlen)
{
    if (s == NULL || res == NULL || (s->y == NULL && s->n > 0)) {
        detect_errf(err, errlen, "no series");
        return RHIS_EINVAL;
    }
    if (s->n > RHIS_DETECT_MAX_POINTS) {
        detect_errf(err, errlen, "series has %zu points, at most %d allowed",
                    s->n, RHIS_DETECT_MAX_POINTS);
        return RHIS_EINVAL;
    }
    if (s->step != 1 && s->step != 7) {
        detect_errf(err, errlen, "series step must be 1 or 7 days");
        return RHIS_EINVAL;
    }
    if (res->n != s->n) {
        detect_errf(err, errlen, "result sized for %zu points, series has %zu",
                    res->n, s->n);
        return RHIS_EINVAL;
    }
    if (from > to || to > s->n) {
        detect_errf(err, errlen, "range [%zu, %zu) outside the series of %zu",
                    from, to, s->n);
        return RHIS_EINVAL;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->y[i]) || s->y[i] < 0) {
            detect_errf(err, errlen, "count %zu is negative or not finite",
                        i + 1);
            return RHIS_EINVAL;
        }
    }
    return RHIS_OK;
}

/* ---- option value parsing ------------------------------------------------ */

rhis_status
detect_opt_double(const char *name,
                  const char *value,
                  double lo,
                  double hi,
                  double *out,
                  char *err,
                  size_t errlen)
{
    char *end = NULL;
    double v;
    if (value == NULL || value[0] == '\0' || isspace((unsigned char)value[0]))
        goto bad;
    v = strtod(value, &end);
    if (end == value || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        goto bad;
    *out = v;
    return RHIS_OK;
bad:
    detect_errf(err, errlen, "option %s: '%s' is not a number in [%g, %g]",
                name, value != NULL ? value : "", lo, hi);
    return RHIS_EINVAL;
}

rhis_status
detect_opt_int(const char *name,
               const char *value,
               int lo,
               int hi,
               int *out,
               char *err,
               size_t errlen)
{
    char *end = NULL;
    long v;
    if (value == NULL || value[0] == '\0' ||
        !(isdigit((unsigned char)value[0]) || value[0] == '-'))
        goto bad;
    v = strtol(value, &end, 10);
    if (end == value || *end != '\0' || v < lo || v > hi)
        goto bad;
    *out = (int)v;
    return RHIS_OK;
bad:
    detect_errf(err, errlen, "option %s: '%s' is not an integer in [%d, %d]",
                name, value != NULL ? value : "", lo, hi);
    return RHIS_EINVAL;
}

rhis_status
detect_opt_unknown(const char *method,
                   const char *name,
                   char *err,
                   size_t errlen)
{
    detect_errf(err, errlen, "method %s has no option '%s'", method, name);
    return RHIS_EINVAL;
}

/* ---- maths ------------------------------------------------------------ */

/*
 * Wichura's AS 241 (PPND16), the algorithm behind R's qnorm: about 1e-16
 * relative accuracy, so z(1-alpha) matches R to the last bits.
 */
double
detect_qnorm(double p)
{
    double q = p - 0.5, r, val;
    if (!(p > 0.0 && p < 1.0))
        return p == 0.0 ? -INFINITY : (p == 1.0 ? INFINITY : NAN);
    if (fabs(q) <= 0.425) {
        r = 0.180625 - q * q;
        return q *
               (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r +
                     67265.770927008700853) *
                        r +
                    45921.953931549871457) *
                       r +
                   13731.693765509461125) *
                      r +
                  1971.5909503065514427) *
                     r +
                 133.14166789178437745) *
                    r +
                3.387132872796366608) /
               (((((((r * 5226.495278852545925 + 28729.085735721942674) * r +
                     39307.89580009271061) *
                        r +
                    21213.794301586595867) *
                       r +
                   5394.1960214247511077) *
                      r +
                  687.1870074920579083) *
                     r +
                 42.313330701600911252) *
                    r +
                1.0);
    }
    r = q < 0 ? p : 1.0 - p;
    r = sqrt(-log(r));
    if (r <= 5.0) {
        r -= 1.6;
        val = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) *
                        r +
                    0.24178072517745061177) *
                       r +
                   1.27045825245236838258) *
                      r +
                  3.64784832476320460504) *
                     r +
                 5.7694972214606914055) *
                    r +
                4.6303378461565452959) *
                   r +
               1.42343711074968357734) /
              (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) *
                        r +
                    0.0151986665636164571966) *
                       r +
                   0.14810397642748007459) *
                      r +
                  0.68976733498510000455) *
                     r +
                 1.6763848301838038494) *
                    r +
                2.05319162663775882187) *
                   r +
               1.0);
    } else {
        r -= 5.0;
        val =
            (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) *
                      r +
                  0.0012426609473880784386) *
                     r +
                 0.026532189526576123093) *
                    r +
                0.29656057182850489123) *
                   r +
               1.7848265399172913358) *
                  r +
              5.4637849111641143699) *
                 r +
             6.6579046435011037772) /
            (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) *
                      r +
                  1.8463183175100546818e-5) *
                     r +
                 7.868691311456132591e-4) *
                    r +
                0.0148753612908506148525) *
                   r +
               0.13692988092273580531) *
                  r +
              0.59983220655588793769) *
                 r +
             1.0);
    }
    return q < 0.0 ? -val : val;
}

double
rhis_detect_quantile7(double *x, size_t n, double p)
{
    RHIS_ASSERT(n >= 1);
    /* Insertion sort: baselines are short (15 values by default). */
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
    if (p <= 0.0)
        return x[0];
    if (p >= 1.0)
        return x[n - 1];
    /* R: index = 1 + (n-1) p; lo = floor, hi = ceiling (1-based). */
    double index = (double)(n - 1) * p;
    size_t lo = (size_t)floor(index);
    size_t hi = (size_t)ceil(index);
    if (hi >= n)
        hi = n - 1;
    double h = index - (double)lo;
    if (h <= 0.0 || x[hi] == x[lo])
        return x[lo];
    return (1.0 - h) * x[lo] + h * x[hi];
}

void
detect_mean_sd(const double *w, int n, double *mean, double *sd)
{
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        s += w[i];
    double m = s / n;
    for (int i = 0; i < n; i++) {
        double d = w[i] - m;
        ss += d * d;
    }
    *mean = m;
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

/* ---- dates ------------------------------------------------------------ */

/* H. Hinnant's days_from_civil / civil_from_days (public domain). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

rhis_status
rhis_detect_parse_date(const char *s, int64_t *out)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    *out = 0;
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return RHIS_EINVAL;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return RHIS_EINVAL;
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
            (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        return RHIS_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > dim[m - 1] + (m == 2 && leap))
        return RHIS_EINVAL;
    *out = days_from_civil(y, m, d);
    return RHIS_OK;
}

void
rhis_detect_format_date(int64_t day, char buf[static 11])
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(buf, "0000-00-00", 11);
        return;
    }
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}

/* 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday. */
int
detect_weekday(int64_t day)
{
    int64_t w = (day + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* ---- date,count CSV ------------------------------------------------------ */

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int
parse_count(const char *s, double *out)
{
    long long v = 0;
    if (*s == '\0' || strlen(s) > 9)
        return -1;
    for (const char *p = s; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = (double)v;
    return 0;
}

void
rhis_detect_daily_fini(rhis_detect_daily *d)
{
    if (d == NULL)
        return;
    rhis_free(d->y);
    memset(d, 0, sizeof(*d));
}

rhis_status
rhis_detect_csv_parse(const char *data,
                      size_t len,
                      int fill_gaps,
                      rhis_detect_daily *out,
                      char *err,
                      size_t errlen)
{
    rhis_csv c;
    char **f = NULL;
    int nf, col_date = -1, col_count = -1, ncol;
    size_t cap = 1024;
    rhis_status st = RHIS_EINVAL;
    char prev_s[11] = "";

    memset(out, 0, sizeof(*out));
    out->y = rhis_xmalloc(cap * sizeof(double));
    rhis_csv_open_mem(&c, data, len);
    nf = rhis_csv_next(&c, &f);
    if (nf <= 0) {
        detect_errf(err, errlen,
                    nf == 0 ? "empty input: expected a 'date,count' header"
                            : "line %ld: malformed CSV header",
                    c.line);
        goto out;
    }
    ncol = nf;
    for (int i = 0; i < nf; i++) {
        const char *h = trim(f[i]);
        if (strcasecmp(h, "date") == 0 && col_date < 0)
            col_date = i;
        else if (strcasecmp(h, "count") == 0 && col_count < 0)
            col_count = i;
    }
    if (col_date < 0 || col_count < 0) {
        detect_errf(err, errlen,
                    "line %ld: header must name the columns date and count",
                    c.line);
        goto out;
    }
    for (;;) {
        nf = rhis_csv_next(&c, &f);
        if (nf == 0)
            break;
        if (nf < 0) {
            detect_errf(err, errlen, "line %ld: malformed CSV", c.line);
            goto out;
        }
        if (nf != ncol) {
            detect_errf(err, errlen, "line %ld: %d fields, the header has %d",
                        c.line, nf, ncol);
            goto out;
        }
        const char *ds = trim(f[col_date]);
        const char *cs = trim(f[col_count]);
        int64_t day;
        double v;
        if (rhis_detect_parse_date(ds, &day) != RHIS_OK) {
            detect_errf(err, errlen,
                        "line %ld: '%.20s' is not a date YYYY-MM-DD "
                        "(1900..2999)",
                        c.line, ds);
            goto out;
        }
        if (parse_count(cs, &v) != 0) {
            detect_errf(err, errlen,
                        "line %ld: count '%.20s' is not a non-negative "
                        "integer below 1e9",
                        c.line, cs);
            goto out;
        }
        size_t at = 0;
        if (out->n == 0) {
            out->day0 = day;
        } else {
            int64_t want = out->day0 + (int64_t)out->n;
            if (day < want) {
                detect_errf(err, errlen,
                            "line %ld: date %s is not after %s (dates must "
                            "ascend, no duplicates)",
                            c.line, ds, prev_s);
                goto out;
            }
            if (day > want && !fill_gaps) {
                detect_errf(err, errlen,
                            "line %ld: dates are not consecutive (%s after "
                            "%s, %lld day(s) missing); use --fill-gaps to "
                            "zero-fill",
                            c.line, ds, prev_s, (long long)(day - want));
                goto out;
            }
        }
        if (day - out->day0 >= RHIS_DETECT_MAX_POINTS) {
            detect_errf(err, errlen, "line %ld: series longer than %d days",
                        c.line, RHIS_DETECT_MAX_POINTS);
            goto out;
        }
        at = (size_t)(day - out->day0);
        while (cap <= at) {
            cap *= 2;
            out->y = rhis_xrealloc(out->y, cap * sizeof(double));
        }
        for (size_t i = out->n; i < at; i++)
            out->y[i] = 0.0; /* --fill-gaps */
        out->y[at] = v;
        out->n = at + 1;
        memcpy(prev_s, ds, 11);
    }
    st = RHIS_OK;
out:
    rhis_csv_close(&c);
    if (st != RHIS_OK)
        rhis_detect_daily_fini(out);
    return st;
}

void
rhis_detect_to_weekly(const rhis_detect_daily *d, rhis_detect_daily *out)
{
    memset(out, 0, sizeof(*out));
    out->y = rhis_xmalloc((d->n / 7 + 1) * sizeof(double));
    if (d->n == 0)
        return;
    /* First Monday on or after day0. */
    size_t i = (size_t)((7 - detect_weekday(d->day0)) % 7);
    out->day0 = d->day0 + (int64_t)i;
    for (; i + 7 <= d->n; i += 7) {
        double s = 0.0;
        for (size_t k = 0; k < 7; k++)
            s += d->y[i + k];
        out->y[out->n++] = s;
    }
}
