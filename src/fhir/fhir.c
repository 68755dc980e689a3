/*
 * fhir.c - search paging, Bundles and the bound WHERE builder.
 *
 * Why: every FHIR search in RHIS shares the same control parameters, the
 * same Bundle shape and the same rule that values are bound, never pasted
 * into SQL.  Terms are string literals of the calling module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/buf.h"
#include "rhis/fhir.h"
#include "rhis/json.h"

static const char *const control_params[] = {
    "_count", "_offset", "_summary",  "_format",
    "_sort",  "_total",  "_elements", "_pretty",
};

int
rhis_fhir_is_control_param(const char *key)
{
    for (size_t i = 0; i < sizeof(control_params) / sizeof(control_params[0]);
         i++)
        if (strcmp(key, control_params[i]) == 0)
            return 1;
    return 0;
}

static int
parse_int64(const char *v, int64_t *out)
{
    if (v == NULL || *v == '\0' || strlen(v) > 18)
        return 0;
    int64_t n = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return 1;
}

rhis_status
rhis_fhir_parse_id(rhis_req *req, const char *what, const char *v, int64_t *out)
{
    if (!parse_int64(v, out) || *out <= 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "%s must be a positive integer id", what);
    return RHIS_OK;
}

rhis_status
rhis_fhir_search_init(rhis_req *req, rhis_fhir_search *s, int default_count)
{
    s->count = default_count;
    s->offset = 0;
    s->summary_count = 0;
    const char *v = rhis_req_query(req, "_count");
    int64_t n;
    if (v != NULL) {
        if (!parse_int64(v, &n) || n < 0 || n > RHIS_FHIR_MAX_COUNT)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_count must be an integer 0..%d",
                                   RHIS_FHIR_MAX_COUNT);
        s->count = (int)n;
        if (n == 0)
            s->summary_count = 1;
    }
    v = rhis_req_query(req, "_offset");
    if (v != NULL) {
        if (!parse_int64(v, &n))
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_offset must be a non-negative integer");
        s->offset = n;
    }
    v = rhis_req_query(req, "_summary");
    if (v != NULL) {
        if (strcmp(v, "count") == 0)
            s->summary_count = 1;
        else if (strcmp(v, "false") != 0)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "_summary supports only 'count' and "
                                   "'false'");
    }
    return RHIS_OK;
}

void
rhis_sql_where_init(rhis_sql_where *w)
{
    w->n = 0;
}

void
rhis_sql_where_add(rhis_sql_where *w,
                   const char *term,
                   char type,
                   int64_t ival,
                   const char *sval)
{
    RHIS_ASSERT(w->n < RHIS_SQL_MAX_TERMS);
    w->term[w->n] = term;
    w->type[w->n] = type;
    w->ival[w->n] = ival;
    w->sval[w->n] = sval;
    w->n++;
}

void
rhis_sql_where_add2(rhis_sql_where *w,
                    const char *term,
                    const char *s1,
                    const char *s2)
{
    RHIS_ASSERT(w->n < RHIS_SQL_MAX_TERMS);
    w->term[w->n] = term;
    w->type[w->n] = 'S';
    w->sval[w->n] = s1;
    w->sval2[w->n] = s2;
    w->n++;
}

void
rhis_sql_where_add_ii(rhis_sql_where *w,
                      const char *term,
                      int64_t i1,
                      int64_t i2)
{
    RHIS_ASSERT(w->n < RHIS_SQL_MAX_TERMS);
    w->term[w->n] = term;
    w->type[w->n] = 'I';
    w->ival[w->n] = i1;
    w->ival2[w->n] = i2;
    w->n++;
}

void
rhis_sql_where_add_double(rhis_sql_where *w, const char *term, double v)
{
    RHIS_ASSERT(w->n < RHIS_SQL_MAX_TERMS);
    w->term[w->n] = term;
    w->type[w->n] = 'd';
    w->dval[w->n] = v;
    w->n++;
}

static void
append_where(rhis_buf *b, const rhis_sql_where *w)
{
    for (int i = 0; i < w->n; i++) {
        rhis_buf_puts(b, i == 0 ? " WHERE (" : " AND (");
        rhis_buf_puts(b, w->term[i]);
        rhis_buf_puts(b, ")");
    }
}

static rhis_status
bind_where(rhis_stmt *st, const rhis_sql_where *w, int *idx)
{
    rhis_status rc = RHIS_OK;
    for (int i = 0; i < w->n && rc == RHIS_OK; i++) {
        if (w->type[i] == 'i')
            rc = rhis_db_bind_int64(st, ++*idx, w->ival[i]);
        else if (w->type[i] == 's')
            rc = rhis_db_bind_text(st, ++*idx, w->sval[i]);
        else if (w->type[i] == 'd')
            rc = rhis_db_bind_double(st, ++*idx, w->dval[i]);
        else if (w->type[i] == 'I') {
            rc = rhis_db_bind_int64(st, ++*idx, w->ival[i]);
            if (rc == RHIS_OK)
                rc = rhis_db_bind_int64(st, ++*idx, w->ival2[i]);
        } else if (w->type[i] == 'S') {
            rc = rhis_db_bind_text(st, ++*idx, w->sval[i]);
            if (rc == RHIS_OK)
                rc = rhis_db_bind_text(st, ++*idx, w->sval2[i]);
        }
    }
    return rc;
}

rhis_status
rhis_sql_where_count(rhis_db *db,
                     const rhis_sql_where *w,
                     const char *table,
                     int64_t *out)
{
    rhis_buf b;
    rhis_buf_init(&b, 16384);
    rhis_buf_puts(&b, "SELECT COUNT(*) FROM ");
    rhis_buf_puts(&b, table);
    append_where(&b, w);
    rhis_stmt *st;
    rhis_status rc = rhis_db_prepare(db, b.data, &st);
    rhis_buf_fini(&b);
    if (rc != RHIS_OK)
        return rc;
    int idx = 0;
    rc = bind_where(st, w, &idx);
    if (rc == RHIS_OK)
        rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        *out = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    return rc;
}

rhis_status
rhis_sql_where_select(rhis_db *db,
                      const rhis_sql_where *w,
                      const char *select_sql,
                      const char *order,
                      int count,
                      int64_t offset,
                      rhis_stmt **out)
{
    rhis_buf b;
    rhis_buf_init(&b, 16384);
    rhis_buf_puts(&b, select_sql);
    append_where(&b, w);
    if (order != NULL) {
        rhis_buf_puts(&b, " ");
        rhis_buf_puts(&b, order);
    }
    rhis_buf_puts(&b, " LIMIT ? OFFSET ?");
    rhis_status rc = rhis_db_prepare(db, b.data, out);
    rhis_buf_fini(&b);
    if (rc != RHIS_OK)
        return rc;
    int idx = 0;
    rc = bind_where(*out, w, &idx);
    if (rc == RHIS_OK)
        rc = rhis_db_bind_int64(*out, ++idx, count);
    if (rc == RHIS_OK)
        rc = rhis_db_bind_int64(*out, ++idx, offset);
    if (rc != RHIS_OK) {
        rhis_db_finalize(*out);
        *out = NULL;
    }
    return rc;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
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

/*
 * Parses a FHIR date/dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or with
 * Thh:mm[:ss][Z|+hh:mm]) into the half-open range [lo, hi) of unix ms.
 */
static int
parse_date_range(const char *v, int64_t *lo, int64_t *hi)
{
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0, n = 0;
    size_t len = strlen(v);
    if (len == 4 && sscanf(v, "%4d%n", &y, &n) == 1 && n == 4) {
        *lo = days_from_civil(y, 1, 1) * 86400000LL;
        *hi = days_from_civil(y + 1, 1, 1) * 86400000LL;
        return y >= 1900 && y <= 2200;
    }
    if (len == 7 && sscanf(v, "%4d-%2d%n", &y, &mo, &n) == 2 && n == 7) {
        if (mo < 1 || mo > 12 || y < 1900 || y > 2200)
            return 0;
        *lo = days_from_civil(y, mo, 1) * 86400000LL;
        *hi = days_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) *
              86400000LL;
        return 1;
    }
    if (len < 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return 0;
    int64_t day = days_from_civil(y, mo, d);
    if (len == 10) {
        *lo = day * 86400000LL;
        *hi = (day + 1) * 86400000LL;
        return 1;
    }
    const char *t = v + 10;
    int m2 = 0;
    if (sscanf(t, "T%2d:%2d%n", &h, &mi, &m2) != 2 || m2 != 6)
        return 0;
    t += m2;
    if (*t == ':') {
        if (sscanf(t, ":%2d%n", &s, &m2) != 1 || m2 != 3)
            return 0;
        t += 3;
        if (*t == '.') {
            t++;
            while (*t >= '0' && *t <= '9')
                t++;
        }
    }
    int64_t off = 0;
    if (*t == 'Z') {
        t++;
    } else if (*t == '+' || *t == '-') {
        int oh, om;
        if (sscanf(t + 1, "%2d:%2d%n", &oh, &om, &m2) != 2 || m2 != 5)
            return 0;
        off = (oh * 60 + om) * 60000LL * (*t == '+' ? 1 : -1);
        t += 6;
    } else {
        return 0; /* a time needs a zone in FHIR */
    }
    if (*t != '\0' || h > 23 || mi > 59 || s > 59)
        return 0;
    *lo = day * 86400000LL + ((int64_t)h * 3600 + mi * 60 + s) * 1000 - off;
    *hi = *lo + 1000;
    return 1;
}

rhis_status
rhis_fhir_where_date(rhis_arena *a,
                     rhis_sql_where *w,
                     const char *column,
                     const char *value,
                     char *err,
                     size_t errlen)
{
    const char *prefix = "eq";
    if (strlen(value) > 2 && value[0] >= 'a' && value[0] <= 'z' &&
        value[1] >= 'a' && value[1] <= 'z') {
        prefix = rhis_arena_strndup(a, value, 2);
        value += 2;
    }
    int64_t lo, hi;
    if (!parse_date_range(value, &lo, &hi)) {
        snprintf(err, errlen,
                 "'%.40s' is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or "
                 "YYYY-MM-DDThh:mm:ssZ)",
                 value);
        return RHIS_EINVAL;
    }
    /* the column name is one of the module's literals */
    const char *ge = rhis_arena_printf(a, "%s >= ?", column);
    const char *lt = rhis_arena_printf(a, "%s < ?", column);
    if (strcmp(prefix, "eq") == 0) {
        rhis_sql_where_add(w, ge, 'i', lo, NULL);
        rhis_sql_where_add(w, lt, 'i', hi, NULL);
    } else if (strcmp(prefix, "ne") == 0) {
        rhis_sql_where_add_ii(
            w, rhis_arena_printf(a, "(%s < ? OR %s >= ?)", column, column), lo,
            hi);
    } else if (strcmp(prefix, "ge") == 0) {
        rhis_sql_where_add(w, ge, 'i', lo, NULL);
    } else if (strcmp(prefix, "gt") == 0 || strcmp(prefix, "sa") == 0) {
        rhis_sql_where_add(w, ge, 'i', hi, NULL);
    } else if (strcmp(prefix, "lt") == 0 || strcmp(prefix, "eb") == 0) {
        rhis_sql_where_add(w, lt, 'i', lo, NULL);
    } else if (strcmp(prefix, "le") == 0) {
        rhis_sql_where_add(w, lt, 'i', hi, NULL);
    } else {
        snprintf(err, errlen,
                 "date prefix '%s' is not supported (eq ne ge gt le lt sa eb)",
                 prefix);
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

rhis_status
rhis_fhir_where_date_ms(rhis_req *req,
                        rhis_sql_where *w,
                        const char *column,
                        const char *value)
{
    char err[160];
    rhis_status rc =
        rhis_fhir_where_date(req->arena, w, column, value, err, sizeof(err));
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "%s", err);
    return RHIS_OK;
}

void
rhis_fhir_instant_ms(int64_t ms, char *out, size_t len)
{
    /* every stored version is stamped with one: the common case (1970 to
     * 9999) without gmtime_r and snprintf (civil date from days:
     * H. Hinnant's algorithm) */
    if (ms >= 0 && ms < 253402300800000LL && len >= 25) {
        int64_t days = ms / 86400000, rem = ms % 86400000;
        int64_t z = days + 719468, era = z / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);
        int y = (int)(yoe + era * 400 + (m <= 2));
        int v[7] = {y,
                    m,
                    d,
                    (int)(rem / 3600000),
                    (int)(rem / 60000 % 60),
                    (int)(rem / 1000 % 60),
                    (int)(rem % 1000)};
        static const int width[7] = {4, 2, 2, 2, 2, 2, 3};
        static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
        char *p = out;
        for (int i = 0; i < 7; i++) {
            for (int k = width[i] - 1, x = v[i]; k >= 0; k--, x /= 10)
                p[k] = (char)('0' + x % 10);
            p += width[i];
            *p++ = after[i];
        }
        *p = '\0';
        return;
    }
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ms % 1000));
}

void
rhis_fhir_instant(int64_t sec, char *out, size_t len)
{
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The request's query with _offset replaced, for paging links. */
static char *
page_url(rhis_req *req, int64_t offset)
{
    rhis_buf b;
    rhis_buf_init(&b, 65536);
    rhis_buf_puts(&b, req->path);
    int first = 1;
    const char *q = req->raw_query;
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
        if (n > 0 && !(n >= 8 && strncmp(q, "_offset=", 8) == 0) &&
            !(n == 7 && strncmp(q, "_offset", 7) == 0)) {
            rhis_buf_puts(&b, first ? "?" : "&");
            rhis_buf_append(&b, q, n);
            first = 0;
        }
        q = amp != NULL ? amp + 1 : NULL;
    }
    rhis_buf_printf(&b, "%s_offset=%lld", first ? "?" : "&", (long long)offset);
    char *s = rhis_arena_strdup(req->arena, b.data);
    rhis_buf_fini(&b);
    return s;
}

static void
add_link(json_object *links, const char *rel, const char *url)
{
    json_object *l = json_object_new_object();
    json_object_object_add(l, "relation", json_object_new_string(rel));
    json_object_object_add(l, "url", json_object_new_string(url));
    json_object_array_add(links, l);
}

json_object *
rhis_fhir_bundle_new(rhis_req *req, const rhis_fhir_search *s, int64_t total)
{
    json_object *b = json_object_new_object();
    json_object_object_add(b, "resourceType", json_object_new_string("Bundle"));
    json_object_object_add(b, "type", json_object_new_string("searchset"));
    json_object_object_add(b, "total", json_object_new_int64(total));
    json_object *links = json_object_new_array();
    add_link(links, "self", page_url(req, s->offset));
    if (!s->summary_count && s->count > 0 && s->offset + s->count < total)
        add_link(links, "next", page_url(req, s->offset + s->count));
    if (!s->summary_count && s->offset > 0)
        add_link(
            links, "previous",
            page_url(req, s->offset > s->count ? s->offset - s->count : 0));
    json_object_object_add(b, "link", links);
    if (!s->summary_count)
        json_object_object_add(b, "entry", json_object_new_array());
    return b;
}

void
rhis_fhir_bundle_add(rhis_req *req,
                     json_object *bundle,
                     json_object *resource,
                     const char *type)
{
    json_object *entries = rhis_json_get(bundle, "entry");
    if (entries == NULL) {
        json_object_put(resource);
        return;
    }
    json_object *e = json_object_new_object();
    const char *id = rhis_json_get_str(resource, "id");
    if (id != NULL)
        json_object_object_add(e, "fullUrl",
                               json_object_new_string(rhis_arena_printf(
                                   req->arena, "/fhir/%s/%s", type, id)));
    json_object_object_add(e, "resource", resource);
    json_object *search = json_object_new_object();
    json_object_object_add(search, "mode", json_object_new_string("match"));
    json_object_object_add(e, "search", search);
    json_object_array_add(entries, e);
}

void
rhis_fhir_respond(rhis_resp *resp, int status, json_object *obj)
{
    const char *s = rhis_json_print(obj);
    rhis_resp_text(resp, status, "application/fhir+json; charset=utf-8", s,
                   strlen(s));
}

void
rhis_fhir_set_version(rhis_req *req, rhis_resp *resp, int64_t version)
{
    rhis_resp_header(
        resp, "ETag",
        rhis_arena_printf(req->arena, "W/\"%lld\"", (long long)version));
}

rhis_status
rhis_fhir_check_if_match(rhis_req *req, int64_t version)
{
    const char *h = rhis_req_header(req, "If-Match");
    if (h == NULL)
        return RHIS_OK;
    const char *p = h;
    if (strncmp(p, "W/", 2) == 0)
        p += 2;
    size_t n = strlen(p);
    if (n < 3 || p[0] != '"' || p[n - 1] != '"')
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "If-Match must look like W/\"3\"");
    char num[24];
    if (n - 2 >= sizeof(num))
        return rhis_req_errorf(req, RHIS_EINVAL, "If-Match version too long");
    memcpy(num, p + 1, n - 2);
    num[n - 2] = '\0';
    int64_t v;
    if (!parse_int64(num, &v))
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "If-Match version must be an integer");
    if (v != version)
        return rhis_req_errorf(req, RHIS_EPRECOND,
                               "version conflict: If-Match %lld but the "
                               "current version is %lld",
                               (long long)v, (long long)version);
    return RHIS_OK;
}

rhis_status
rhis_fhir_search_respond(rhis_req *req,
                         rhis_resp *resp,
                         const rhis_fhir_search *s,
                         const rhis_sql_where *w,
                         const char *from,
                         const char *columns,
                         const char *order,
                         const char *type,
                         rhis_fhir_row_fn fn)
{
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    int64_t total = 0;
    rc = rhis_sql_where_count(db, w, from, &total);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot search %s", type);
    json_object *b = rhis_fhir_bundle_new(req, s, total);
    if (!s->summary_count && s->count > 0) {
        rhis_buf sql;
        rhis_buf_init(&sql, 4096);
        rhis_buf_puts(&sql, "SELECT ");
        rhis_buf_puts(&sql, columns);
        rhis_buf_puts(&sql, " FROM ");
        rhis_buf_puts(&sql, from);
        rhis_stmt *st;
        rc = rhis_sql_where_select(db, w, sql.data, order, s->count, s->offset,
                                   &st);
        rhis_buf_fini(&sql);
        if (rc == RHIS_OK) {
            while ((rc = rhis_db_step(st)) == RHIS_ROW)
                rhis_fhir_bundle_add(req, b, fn(st), type);
            rhis_db_finalize(st);
            if (rc == RHIS_DONE)
                rc = RHIS_OK;
        }
        if (rc != RHIS_OK) {
            json_object_put(b);
            return rhis_req_errorf(req, rc, "cannot search %s", type);
        }
    }
    rhis_fhir_respond(resp, 200, b);
    json_object_put(b);
    return RHIS_OK;
}
