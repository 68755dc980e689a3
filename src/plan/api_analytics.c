/*
 * api_analytics.c - GET /api/v1/analytics: a DHIS2-style analytics query
 * over the live indicator values.
 *
 * Why: tools built for DHIS2 ask `dx` (data: indicator codes) x `ou`
 * (organisation units: areas) x `pe` (periods) and read a table of headers
 * and rows.  DHIS2 answers from analytics tables rebuilt by a nightly
 * batch; RHIS answers the same query from aggregates kept current on
 * every write (rhis/indicator.h), so a record is counted as soon as it is
 * stored.
 *
 * Syntax (docs/internals/plan.md "Analytics"):
 *   dx=imr;mmr                 indicator codes of data/indicators.csv
 *   ou=220221;LEVEL-4          area codes; LEVEL-n (1 province .. 5
 *                              village) and CHILDREN expand the listed
 *                              codes (then only the expansion is output)
 *   pe=2021;2022Q1;202203;2021~2025;LAST_5_YEARS
 *   or dimension=dx:..&dimension=ou:..&dimension=pe:.. (DHIS2 form)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plans_int.h"
#include "rhis/csv.h"
#include "rhis/handlers.h"
#include "rhis/indicator.h"
#include "rhis/json.h"
#include "rhis/registry.h"

#define MAX_DX    50
#define MAX_OU    2000
#define MAX_PE    120
#define MAX_CELLS 20000
#define MAX_ITEM  64

typedef struct ou_item {
    char code[16];
    const char *name;
} ou_item;

typedef struct query {
    const char *dx, *ou, *pe;
    const rhis_indicator *ind[MAX_DX];
    int ndx;
    ou_item *ou_v;
    int nou;
    rhis_period pe_v[MAX_PE];
    int npe;
} query;

/* Splits s at ';' into an arena array; -1 when more than max items or an
 * item is empty or too long. */
static int
split_items(rhis_arena *a, const char *s, char ***out, int max)
{
    char *buf = rhis_arena_strdup(a, s);
    char **v = rhis_arena_alloc(a, (size_t)max * sizeof(*v));
    int n = 0;
    for (char *p = buf;;) {
        char *e = strchr(p, ';');
        if (e != NULL)
            *e = '\0';
        if (n == max || p[0] == '\0' || strlen(p) >= MAX_ITEM)
            return -1;
        v[n++] = p;
        if (e == NULL)
            break;
        p = e + 1;
    }
    *out = v;
    return n;
}

static rhis_status
take_dimensions(rhis_req *req, query *q)
{
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        const char **slot = NULL;
        if (strcmp(k, "dx") == 0)
            slot = &q->dx;
        else if (strcmp(k, "ou") == 0)
            slot = &q->ou;
        else if (strcmp(k, "pe") == 0)
            slot = &q->pe;
        else if (strcmp(k, "dimension") == 0) {
            if (strncmp(v, "dx:", 3) == 0)
                slot = &q->dx;
            else if (strncmp(v, "ou:", 3) == 0)
                slot = &q->ou;
            else if (strncmp(v, "pe:", 3) == 0)
                slot = &q->pe;
            else
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "dimension '%s': only dx, ou and pe"
                                       " are supported",
                                       v);
            v += 3;
        } else {
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "unknown parameter '%s' (supported: dx,"
                                   " ou, pe, dimension)",
                                   k);
        }
        if (*slot != NULL)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "dimension given twice: %s", k);
        *slot = v;
    }
    if (q->dx == NULL || q->ou == NULL || q->pe == NULL)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "dx, ou and pe are required, e.g."
                               " dx=imr&ou=220221;LEVEL-4&pe=2021;2022");
    return RHIS_OK;
}

static rhis_status
parse_dx(rhis_req *req, query *q)
{
    const rhis_ind_defs *d = rhis_ind_defs_default();
    if (d == NULL)
        return rhis_req_errorf(req, RHIS_EIO,
                               "indicator definitions are not loaded");
    char **items;
    int n = split_items(req->arena, q->dx, &items, MAX_DX);
    if (n < 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "dx: 1..%d indicator codes separated by ';'",
                               MAX_DX);
    for (int i = 0; i < n; i++) {
        q->ind[i] = rhis_ind_find(d, items[i]);
        if (q->ind[i] == NULL)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "dx: unknown indicator '%s'", items[i]);
    }
    q->ndx = n;
    return RHIS_OK;
}

static const char *
area_name(rhis_req *req, rhis_db *db, const char *code)
{
    rhis_stmt *st;
    const char *name = "";
    if (rhis_db_query(db, &st, "SELECT name FROM area WHERE code = ?", "s",
                      code) != RHIS_OK)
        return name;
    if (rhis_db_step(st) == RHIS_ROW)
        name = rhis_arena_strdup(req->arena, rhis_db_column_text(st, 0));
    rhis_db_finalize(st);
    return name;
}

static int
ou_add(query *q, const char *code, const char *name)
{
    for (int i = 0; i < q->nou; i++)
        if (strcmp(q->ou_v[i].code, code) == 0)
            return 0;
    if (q->nou == MAX_OU)
        return -1;
    ou_item *o = &q->ou_v[q->nou++];
    snprintf(o->code, sizeof(o->code), "%s", code);
    o->name = name;
    return 0;
}

/* Adds the areas at `level` under boundary (or its children: level 0). */
static rhis_status
expand(rhis_req *req, rhis_db *db, query *q, const char *boundary, int level)
{
    rhis_stmt *st;
    char like[24];
    snprintf(like, sizeof(like), "%s%%", boundary);
    rhis_status rc =
        level == 0
            ? rhis_db_query(db, &st,
                            "SELECT code, name FROM area WHERE parent_code ="
                            " ? ORDER BY code",
                            "s", boundary)
            : rhis_db_query(db, &st,
                            "SELECT code, name FROM area WHERE code LIKE ?"
                            " AND level = ? ORDER BY code",
                            "si", like, (int64_t)level);
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, rc, "cannot read areas");
    while ((rc = rhis_db_step(st)) == RHIS_ROW)
        if (ou_add(q, rhis_db_column_text(st, 0),
                   rhis_arena_strdup(req->arena, rhis_db_column_text(st, 1))) !=
            0) {
            rhis_db_finalize(st);
            return rhis_req_errorf(req, RHIS_ETOOBIG, "ou: more than %d areas",
                                   MAX_OU);
        }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rhis_req_errorf(req, rc, "areas");
}

static rhis_status
parse_ou(rhis_req *req, rhis_db *db, query *q)
{
    char **items;
    int n = split_items(req->arena, q->ou, &items, 64);
    if (n < 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "ou: 1..64 items separated by ';'");
    int levels[8], nl = 0, children = 0;
    const char *codes[64];
    int nc = 0;
    for (int i = 0; i < n; i++) {
        if (strncmp(items[i], "LEVEL-", 6) == 0) {
            int l = rhis_parse_int(items[i] + 6);
            if (l < 1 || l > 5 || nl == 8)
                return rhis_req_errorf(req, RHIS_EINVAL,
                                       "ou: %s: levels are LEVEL-1 (province)"
                                       " .. LEVEL-5 (village)",
                                       items[i]);
            levels[nl++] = l;
        } else if (strcmp(items[i], "CHILDREN") == 0) {
            children = 1;
        } else if (rhis_area_code_level(items[i]) > 0) {
            rhis_status rc = rhis_req_check_area(req, items[i]);
            if (rc != RHIS_OK)
                return rc;
            codes[nc++] = items[i];
        } else {
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "ou: '%s' is not a division code,"
                                   " LEVEL-n or CHILDREN",
                                   items[i]);
        }
    }
    if (nc == 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "ou: name at least one area code");
    q->ou_v = rhis_arena_alloc(req->arena, MAX_OU * sizeof(*q->ou_v));
    for (int i = 0; i < nc; i++) {
        rhis_status rc = RHIS_OK;
        if (nl == 0 && !children)
            ou_add(q, codes[i], area_name(req, db, codes[i]));
        for (int k = 0; k < nl && rc == RHIS_OK; k++)
            rc = expand(req, db, q, codes[i], levels[k]);
        if (children && rc == RHIS_OK)
            rc = expand(req, db, q, codes[i], 0);
        if (rc != RHIS_OK)
            return rc;
    }
    return RHIS_OK;
}

static int
pe_add(query *q, rhis_period p)
{
    if (q->npe == MAX_PE)
        return -1;
    q->pe_v[q->npe++] = p;
    return 0;
}

/* DHIS2 relative periods, relative to today (UTC). */
static int
relative(query *q, const char *s)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1, qu = (m - 1) / 3 + 1;
    int rc = 0;
    if (strcmp(s, "THIS_YEAR") == 0)
        rc = pe_add(q, rhis_period_year(y));
    else if (strcmp(s, "LAST_YEAR") == 0)
        rc = pe_add(q, rhis_period_year(y - 1));
    else if (strcmp(s, "LAST_5_YEARS") == 0)
        for (int i = 5; i >= 1 && rc == 0; i--)
            rc = pe_add(q, rhis_period_year(y - i));
    else if (strcmp(s, "LAST_4_QUARTERS") == 0)
        for (int i = 4; i >= 1 && rc == 0; i--) {
            int k = (y * 4 + qu - 1) - i;
            rc = pe_add(q, rhis_period_quarter(k / 4, k % 4 + 1));
        }
    else if (strcmp(s, "LAST_12_MONTHS") == 0)
        for (int i = 12; i >= 1 && rc == 0; i--) {
            int k = (y * 12 + m - 1) - i;
            rc = pe_add(q, rhis_period_month(k / 12, k % 12 + 1));
        }
    else
        return 1; /* not a relative period */
    return rc;
}

static rhis_status
parse_pe(rhis_req *req, query *q)
{
    char **items;
    int n = split_items(req->arena, q->pe, &items, MAX_PE);
    if (n < 0)
        return rhis_req_errorf(req, RHIS_EINVAL,
                               "pe: 1..%d periods separated by ';'", MAX_PE);
    for (int i = 0; i < n; i++) {
        int r = relative(q, items[i]);
        if (r < 0)
            return rhis_req_errorf(req, RHIS_ETOOBIG,
                                   "pe: more than %d periods", MAX_PE);
        if (r == 0)
            continue;
        rhis_period p;
        if (rhis_period_parse(items[i], &p) != RHIS_OK)
            return rhis_req_errorf(req, RHIS_EINVAL,
                                   "pe: '%s' is not a period (2025, 2025Q3,"
                                   " 202507, 2021~2025, THIS_YEAR,"
                                   " LAST_YEAR, LAST_5_YEARS,"
                                   " LAST_4_QUARTERS, LAST_12_MONTHS)",
                                   items[i]);
        if (pe_add(q, p) != 0)
            return rhis_req_errorf(req, RHIS_ETOOBIG,
                                   "pe: more than %d periods", MAX_PE);
    }
    return RHIS_OK;
}

static void
header(json_object *arr,
       const char *name,
       const char *column,
       const char *vtype,
       int meta)
{
    json_object *h = json_object_new_object();
    json_object_object_add(h, "name", json_object_new_string(name));
    json_object_object_add(h, "column", json_object_new_string(column));
    json_object_object_add(h, "valueType", json_object_new_string(vtype));
    json_object_object_add(h, "type",
                           json_object_new_string(strcmp(vtype, "NUMBER") == 0
                                                      ? "java.lang.Double"
                                                      : "java.lang.String"));
    json_object_object_add(h, "hidden", json_object_new_boolean(0));
    json_object_object_add(h, "meta", json_object_new_boolean(meta));
    json_object_array_add(arr, h);
}

static json_object *
num_str(double v)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%.10g", v);
    return json_object_new_string(buf);
}

static void
item(json_object *items, const char *id, const char *name)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(items, id, o);
}

rhis_status
api_analytics(rhis_req *req, rhis_resp *resp)
{
    query q;
    memset(&q, 0, sizeof(q));
    rhis_db *db = NULL;
    rhis_status rc = take_dimensions(req, &q);
    if (rc == RHIS_OK)
        rc = parse_dx(req, &q);
    if (rc == RHIS_OK)
        rc = parse_pe(req, &q);
    if (rc == RHIS_OK)
        rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = parse_ou(req, db, &q);
    if (rc != RHIS_OK)
        return rc;
    if ((long)q.ndx * q.nou * q.npe > MAX_CELLS)
        return rhis_req_errorf(req, RHIS_ETOOBIG,
                               "%d x %d x %d cells: at most %d per query",
                               q.ndx, q.nou, q.npe, MAX_CELLS);
    const rhis_ind_defs *defs = rhis_ind_defs_default();
    json_object *o = json_object_new_object();
    json_object *hs = json_object_new_array();
    header(hs, "dx", "Data", "TEXT", 1);
    header(hs, "ou", "Organisation unit", "TEXT", 1);
    header(hs, "pe", "Period", "TEXT", 1);
    header(hs, "value", "Value", "NUMBER", 0);
    header(hs, "numerator", "Numerator", "NUMBER", 0);
    header(hs, "denominator", "Denominator", "NUMBER", 0);
    header(hs, "factor", "Factor", "NUMBER", 0);
    header(hs, "flags", "Flags", "TEXT", 0);
    json_object *rows = json_object_new_array();
    json_object *items = json_object_new_object();
    json_object *ddx = json_object_new_array(), *dou = json_object_new_array(),
                *dpe = json_object_new_array();
    for (int i = 0; i < q.ndx; i++) {
        item(items, q.ind[i]->code, q.ind[i]->name_zh);
        json_object_array_add(ddx, json_object_new_string(q.ind[i]->code));
    }
    for (int j = 0; j < q.nou; j++) {
        item(items, q.ou_v[j].code, q.ou_v[j].name);
        json_object_array_add(dou, json_object_new_string(q.ou_v[j].code));
    }
    char pname[64];
    for (int k = 0; k < q.npe; k++) {
        rhis_period_name(q.pe_v[k], pname, sizeof(pname));
        item(items, pname, pname);
        json_object_array_add(dpe, json_object_new_string(pname));
    }
    for (int i = 0; i < q.ndx && rc == RHIS_OK; i++)
        for (int j = 0; j < q.nou && rc == RHIS_OK; j++)
            for (int k = 0; k < q.npe && rc == RHIS_OK; k++) {
                rhis_ind_value v;
                rc = rhis_ind_value_get(db, defs, q.ind[i], q.ou_v[j].code,
                                        q.pe_v[k], &v);
                if (rc != RHIS_OK || (v.flags & (RHIS_IND_FLAG_NODATA |
                                                 RHIS_IND_FLAG_ENTERED)) != 0)
                    continue;
                rhis_period_name(q.pe_v[k], pname, sizeof(pname));
                json_object *r = json_object_new_array();
                json_object_array_add(r,
                                      json_object_new_string(q.ind[i]->code));
                json_object_array_add(r,
                                      json_object_new_string(q.ou_v[j].code));
                json_object_array_add(r, json_object_new_string(pname));
                json_object_array_add(r, num_str(v.value));
                json_object_array_add(r, num_str(v.numerator));
                json_object_array_add(r, num_str(v.denominator));
                json_object_array_add(r, num_str(q.ind[i]->factor));
                json_object_array_add(
                    r,
                    json_object_new_string(
                        (v.flags & RHIS_IND_FLAG_SMALL) != 0 ? "small" : ""));
                json_object_array_add(rows, r);
            }
    json_object_object_add(o, "headers", hs);
    json_object *md = json_object_new_object();
    json_object *dims = json_object_new_object();
    json_object_object_add(dims, "dx", ddx);
    json_object_object_add(dims, "ou", dou);
    json_object_object_add(dims, "pe", dpe);
    json_object_object_add(md, "items", items);
    json_object_object_add(md, "dimensions", dims);
    json_object_object_add(o, "metaData", md);
    json_object_object_add(o, "width", json_object_new_int(8));
    json_object_object_add(o, "headerWidth", json_object_new_int(8));
    json_object_object_add(
        o, "height", json_object_new_int((int)json_object_array_length(rows)));
    json_object_object_add(o, "rows", rows);
    if (rc == RHIS_OK)
        rhis_resp_json(resp, 200, o);
    json_object_put(o);
    return rc == RHIS_OK ? RHIS_OK
                         : rhis_req_errorf(req, rc, "cannot compute values");
}
