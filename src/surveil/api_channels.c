/*
 * api_channels.c - the surveillance channels over HTTP: integrators push
 * daily counts (one or a batch), CDC staff read a channel's daily series
 * for an area and derive clinic counts from the encounters.
 *
 * Why: school, pharmacy and laboratory systems push a file's worth of
 * counts at a time; a batch is all or nothing, so a resend after a
 * failure is always safe (each count replaces the same key's value).
 */
#include <stdio.h>
#include <string.h>

#include "rhis/csv.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "rhis/text.h"
#include "surveil_int.h"

#define BATCH_MAX 10000

typedef struct count_job {
    rhis_channel_count *v;
    size_t n;
    const char *from, *to;
} count_job;

static rhis_status
bad(rhis_req *req, size_t i, int batch, const char *key, const char *msg)
{
    char *expr = batch ? rhis_arena_printf(req->arena, "counts[%zu].%s", i, key)
                       : rhis_arena_strdup(req->arena, key);
    rhis_req_error_expr(req, expr);
    return rhis_req_errorf(req, RHIS_EINVAL, "%s: %s", expr, msg);
}

static rhis_status
get_str(rhis_req *req,
        json_object *o,
        const char *key,
        size_t i,
        int batch,
        char *out,
        size_t len,
        int required)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
        if (required)
            return bad(req, i, batch, key, "is required");
        out[0] = '\0';
        return RHIS_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return bad(req, i, batch, key, "must be a string");
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (strlen(s) != n || !rhis_utf8_valid(s, n))
        return bad(req, i, batch, key, "must be UTF-8 without NUL");
    if (n >= len)
        return bad(req, i, batch, key, "is too long");
    memcpy(out, s, n + 1);
    return RHIS_OK;
}

static rhis_status
get_int(rhis_req *req,
        json_object *o,
        const char *key,
        size_t i,
        int batch,
        int64_t *out,
        int required)
{
    json_object *v = NULL;
    *out = 0;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
        if (required)
            return bad(req, i, batch, key, "is required");
        return RHIS_OK;
    }
    if (!json_object_is_type(v, json_type_int))
        return bad(req, i, batch, key, "must be an integer");
    *out = json_object_get_int64(v);
    return RHIS_OK;
}

/* One count object into *x (form only; channel.c checks the rest). */
static rhis_status
parse_count(
    rhis_req *req, json_object *o, size_t i, int batch, rhis_channel_count *x)
{
    static const char *const keys[] = {
        "channel",  "area_code", "institution_id", "site", "day",
        "category", "count",     "denominator",    NULL};
    if (!json_object_is_type(o, json_type_object))
        return bad(req, i, batch, "", "a count is a JSON object");
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int known = 0;
        for (int k = 0; keys[k] != NULL && !known; k++)
            known = strcmp(keys[k], key) == 0;
        if (!known)
            return bad(req, i, batch, key, "unknown field");
    }
    char ch[32];
    rhis_status rc = get_str(req, o, "channel", i, batch, ch, sizeof(ch), 1);
    if (rc == RHIS_OK && (x->channel = rhis_channel_parse(ch)) == 0)
        rc = bad(req, i, batch, "channel",
                 "must be fever_clinic, intestinal_clinic, school_absence, "
                 "pharmacy, public_report or lab_positive");
    if (rc == RHIS_OK)
        rc = get_str(req, o, "area_code", i, batch, x->area_code,
                     sizeof(x->area_code), 1);
    if (rc == RHIS_OK)
        rc = get_int(req, o, "institution_id", i, batch, &x->institution_id, 0);
    if (rc == RHIS_OK && x->institution_id < 0)
        rc = bad(req, i, batch, "institution_id", "must be a positive id");
    if (rc == RHIS_OK)
        rc = get_str(req, o, "site", i, batch, x->site, sizeof(x->site), 0);
    if (rc == RHIS_OK)
        rc = get_str(req, o, "day", i, batch, x->day, sizeof(x->day), 1);
    if (rc == RHIS_OK)
        rc = get_str(req, o, "category", i, batch, x->category,
                     sizeof(x->category), 1);
    if (rc == RHIS_OK)
        rc = get_int(req, o, "count", i, batch, &x->count, 1);
    if (rc == RHIS_OK)
        rc = get_int(req, o, "denominator", i, batch, &x->denominator, 0);
    return rc;
}

static rhis_status
ingest_commit(rhis_req *req, rhis_resp *resp)
{
    count_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    size_t done = 0;
    if (rc == RHIS_OK)
        rc = rhis_channel_add_batch(&c, j->v, j->n, &done);
    if (rc != RHIS_OK)
        return req->err_status != RHIS_OK
                   ? req->err_status
                   : rhis_req_errorf(req, rc, "cannot store the counts");
    json_object *out = json_object_new_object();
    json_object_object_add(out, "stored", json_object_new_int64((int64_t)done));
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/*
 * POST /api/v1/channel-counts - one count object, or {"counts": [...]}
 * (at most BATCH_MAX, all or nothing).
 */
rhis_status
api_channel_ingest(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    count_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    json_object *arr = NULL;
    if (json_object_is_type(body, json_type_object) &&
        json_object_object_get_ex(body, "counts", &arr)) {
        if (json_object_object_length(body) != 1 ||
            !json_object_is_type(arr, json_type_array)) {
            rhis_req_error_expr(req, "counts");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "a batch is {\"counts\": [...]} and "
                                   "nothing else");
        }
        size_t n = json_object_array_length(arr);
        if (n == 0 || n > BATCH_MAX) {
            rhis_req_error_expr(req, "counts");
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "counts must hold 1..%d items", BATCH_MAX);
        }
        j->v = rhis_arena_calloc(req->arena, n * sizeof(*j->v));
        j->n = n;
        for (size_t i = 0; i < n; i++)
            if ((rc = parse_count(req, json_object_array_get_idx(arr, i), i, 1,
                                  &j->v[i])) != RHIS_OK)
                return rc;
    } else {
        j->v = rhis_arena_calloc(req->arena, sizeof(*j->v));
        j->n = 1;
        if ((rc = parse_count(req, body, 0, 0, j->v)) != RHIS_OK)
            return rc;
    }
    req->defer_data = j;
    req->audit_type = "ChannelCount";
    return rhis_req_write(req, resp, ingest_commit);
}

/*
 * GET /api/v1/channel-counts?channel=&area=&from=&to=[&category=] - the
 * daily series of a channel summed over an area subtree (codes with the
 * prefix area), every day from..to (at most 3 years) with 0 where nothing
 * was reported: {"series": [{"day", "count", "denominator"}]}.
 */
rhis_status
api_channel_series(rhis_req *req, rhis_resp *resp)
{
    static const char *const keys[] = {"channel", "area",     "from",
                                       "to",      "category", NULL};
    for (int i = 0; i < req->query.n; i++) {
        int known = 0;
        for (int k = 0; keys[k] != NULL && !known; k++)
            known = strcmp(keys[k], req->query.kv[i].key) == 0;
        if (!known) {
            rhis_req_error_expr(req, req->query.kv[i].key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%.40s'",
                                   req->query.kv[i].key);
        }
    }
    const char *ch = rhis_req_query(req, "channel");
    const char *area = rhis_req_query(req, "area");
    const char *from = rhis_req_query(req, "from");
    const char *to = rhis_req_query(req, "to");
    const char *cat = rhis_req_query(req, "category");
    int64_t fms, tms;
    if (ch == NULL || rhis_channel_parse(ch) == 0) {
        rhis_req_error_expr(req, "channel");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "channel (fever_clinic, intestinal_clinic, "
                               "school_absence, pharmacy, public_report, "
                               "lab_positive) is required");
    }
    if (area == NULL || area[0] == '\0' || strlen(area) > 12 ||
        strspn(area, "0123456789") != strlen(area)) {
        rhis_req_error_expr(req, "area");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "area (a division code) is required");
    }
    if (from == NULL || rhis_surv_day_ms(from, &fms) != RHIS_OK || to == NULL ||
        rhis_surv_day_ms(to, &tms) != RHIS_OK || tms < fms ||
        tms - fms > (int64_t)3 * 366 * SURV_DAY_MS) {
        rhis_req_error_expr(req, "from");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "from and to are dates YYYY-MM-DD, from <= to,"
                               " at most 3 years apart");
    }
    if (rhis_req_check_area(req, area) != RHIS_OK)
        return req->err_status;
    rhis_db *db;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *st = NULL;
    char *pat = rhis_arena_printf(req->arena, "%s%%", area);
    rc = rhis_db_query(db, &st,
                       "SELECT day, SUM(count), SUM(COALESCE(denominator, 0))"
                       " FROM channel_count WHERE channel = ? AND"
                       " area_code LIKE ? AND day >= ? AND day <= ?"
                       " AND (? = '' OR category = ?)"
                       " GROUP BY day ORDER BY day",
                       "ssssss", ch, pat, from, to, cat != NULL ? cat : "",
                       cat != NULL ? cat : "");
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "cannot read counts");
    json_object *series = json_object_new_array();
    int64_t next = fms;
    char day[11];
    int step;
    while ((step = rhis_db_step(st)) == RHIS_ROW) {
        int64_t dms;
        const char *d = rhis_db_column_text(st, 0);
        if (rhis_surv_day_ms(d, &dms) != RHIS_OK)
            continue;
        for (; next < dms; next += SURV_DAY_MS) { /* the gaps are zeros */
            json_object *z = json_object_new_object();
            rhis_surv_day_of(next, day);
            json_object_object_add(z, "day", json_object_new_string(day));
            json_object_object_add(z, "count", json_object_new_int(0));
            json_object_array_add(series, z);
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "day", json_object_new_string(d));
        json_object_object_add(
            o, "count", json_object_new_int64(rhis_db_column_int64(st, 1)));
        int64_t den = rhis_db_column_int64(st, 2);
        if (den > 0)
            json_object_object_add(o, "denominator",
                                   json_object_new_int64(den));
        json_object_array_add(series, o);
        next = dms + SURV_DAY_MS;
    }
    rhis_db_finalize(st);
    if (step != RHIS_DONE) {
        json_object_put(series);
        return rhis_req_errorf(req, RHIS_EIO, "cannot read counts");
    }
    for (; next <= tms; next += SURV_DAY_MS) {
        json_object *z = json_object_new_object();
        rhis_surv_day_of(next, day);
        json_object_object_add(z, "day", json_object_new_string(day));
        json_object_object_add(z, "count", json_object_new_int(0));
        json_object_array_add(series, z);
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "channel", json_object_new_string(ch));
    json_object_object_add(out, "area", json_object_new_string(area));
    json_object_object_add(out, "category",
                           cat != NULL ? json_object_new_string(cat) : NULL);
    json_object_object_add(out, "series", series);
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

static rhis_status
derive_commit(rhis_req *req, rhis_resp *resp)
{
    count_job *j = req->defer_data;
    rhis_fhir_ctx c;
    rhis_status rc = rhis_fhir_ctx_req(&c, req);
    int64_t rows = 0;
    if (rc == RHIS_OK)
        rc = rhis_syndrome_derive(&c, j->from, j->to, &rows);
    if (rc != RHIS_OK)
        return req->err_status != RHIS_OK
                   ? req->err_status
                   : rhis_req_errorf(req, rc, "cannot derive the counts");
    json_object *out = json_object_new_object();
    json_object_object_add(out, "from", json_object_new_string(j->from));
    json_object_object_add(out, "to", json_object_new_string(j->to));
    json_object_object_add(out, "rows", json_object_new_int64(rows));
    rhis_resp_json(resp, 200, out);
    json_object_put(out);
    return RHIS_OK;
}

/* POST /api/v1/channel-counts/derive {"from", "to"}: clinic counts from
 * the encounters of those days (replacing earlier derived counts). */
rhis_status
api_channel_derive(rhis_req *req, rhis_resp *resp)
{
    json_object *body;
    rhis_status rc = rhis_req_json(req, &body);
    if (rc != RHIS_OK)
        return rc;
    count_job *j = rhis_arena_calloc(req->arena, sizeof(*j));
    if (!json_object_is_type(body, json_type_object))
        return rhis_req_errorf(req, RHIS_EINVAL, "the body is a JSON object");
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        if (strcmp(key, "from") != 0 && strcmp(key, "to") != 0) {
            rhis_req_error_expr(req, key);
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown field '%.40s' (from, to)", key);
        }
    }
    const char *f = rhis_json_get_str(body, "from");
    const char *t = rhis_json_get_str(body, "to");
    int64_t ms;
    if (f == NULL || rhis_surv_day_ms(f, &ms) != RHIS_OK || t == NULL ||
        rhis_surv_day_ms(t, &ms) != RHIS_OK) {
        rhis_req_error_expr(req, "from");
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "from and to are required dates YYYY-MM-DD");
    }
    j->from = rhis_arena_strdup(req->arena, f);
    j->to = rhis_arena_strdup(req->arena, t);
    req->defer_data = j;
    req->audit_type = "ChannelCount";
    return rhis_req_write(req, resp, derive_commit);
}
