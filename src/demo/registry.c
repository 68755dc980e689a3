/*
 * registry.c - demo_registry: the county's health institutions and staff
 * at the plans' baselines.
 *
 * Why: the resource indicators (beds, physicians, nurses and GPs per 1000
 * or 10 000 residents) are counted from the institution and practitioner
 * registers, and the care stage needs a place and a person for every
 * encounter: a clinic per village, a health centre per township, the
 * county hospitals, the MCH, the CDC and a city hospital to refer to.
 *
 * Institutions already in the database for the county (make run loads
 * data/institutions-220221.csv) are reused, never duplicated; the missing
 * ones are added with names in the real style (XX县人民医院, XX镇卫生院,
 * XX村卫生室, XX社区卫生服务站) and the plans' real names where the plans
 * give them.  Beds and staff are added until the county reaches the
 * ratios of data/demo-rates.csv (the plan's baseline for the county, else
 * the national 2020 figures), shared over the institutions by size.
 *
 * The registry module has no function for a CLI to add an institution or
 * practitioner inside a caller's transaction, so the rows are written here
 * with the same columns its import and API write (institution,
 * practitioner, practitioner_role), with the simulated time as updated_at.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_int.h"
#include "rhis/agg.h"

/* What the database says about an institution beyond demo_inst. */
typedef struct inst_extra {
    char tier[24];
    int64_t beds;
    int exists; /* was in the database before the run */
    char name[160];
} inst_extra;

typedef struct reg {
    demo_ctx *c;
    demo_county *k;
    inst_extra *x;
    int cap;
    int64_t updated_at; /* seconds */
    int city_created;   /* the city hospital was added by this county */
} reg;

static int
add_inst(reg *g, int tier, int township, int village)
{
    demo_county *k = g->k;
    if (k->ninsts == g->cap) {
        g->cap = g->cap == 0 ? 64 : 2 * g->cap;
        k->insts = rhis_xrealloc(k->insts, (size_t)g->cap * sizeof(*k->insts));
        g->x = rhis_xrealloc(g->x, (size_t)g->cap * sizeof(*g->x));
    }
    demo_inst *in = &k->insts[k->ninsts];
    memset(in, 0, sizeof(*in));
    memset(&g->x[k->ninsts], 0, sizeof(*g->x));
    in->tier = tier;
    in->township = township;
    in->village = village;
    return k->ninsts++;
}

static int
tier_of(const char *t)
{
    if (strcmp(t, "village_clinic") == 0 || strcmp(t, "community_station") == 0)
        return DEMO_VILLAGE_CLINIC;
    if (strcmp(t, "township_hc") == 0 || strcmp(t, "community_hc") == 0)
        return DEMO_TOWNSHIP;
    if (strcmp(t, "county_hospital") == 0 || strcmp(t, "tcm_hospital") == 0)
        return DEMO_COUNTY;
    if (strcmp(t, "city_hospital") == 0 || strcmp(t, "province_hospital") == 0)
        return DEMO_CITY;
    if (strcmp(t, "mch") == 0 || strcmp(t, "cdc") == 0)
        return DEMO_PUBLIC_HEALTH;
    return 0;
}

static int
township_index(const demo_county *k, const char *area)
{
    for (int i = 0; i < k->ntownships; i++)
        if (strncmp(area, k->townships[i].code, 9) == 0)
            return i;
    return -1;
}

static int
village_index(const demo_county *k, const char *area)
{
    if (strlen(area) != 12)
        return -1;
    int lo = 0, hi = k->nvillages - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int cmp = strcmp(k->villages[mid].code, area);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The institutions of the county already stored. */
static rhis_status
load_existing(reg *g)
{
    demo_county *k = g->k;
    char hi[8];
    (void)snprintf(hi, sizeof(hi), "%.6s", k->code);
    hi[5]++;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        g->c->db, &st,
        "SELECT id, code, name, tier, area_code, beds_open FROM institution"
        " WHERE area_code >= ? AND area_code < ? AND active = 1 ORDER BY code",
        "ss", k->code, hi);
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        const char *tier = rhis_db_column_text(st, 3);
        int t = tier_of(tier);
        if (t == 0)
            continue; /* EMS stations and "other" are no care sites */
        const char *area = rhis_db_column_text(st, 4);
        int i = add_inst(g, t, township_index(k, area), village_index(k, area));
        demo_inst *in = &k->insts[i];
        in->id = rhis_db_column_int64(st, 0);
        (void)snprintf(in->code, sizeof(in->code), "%s",
                       rhis_db_column_text(st, 1));
        in->beds = (int)rhis_db_column_int64(st, 5);
        inst_extra *x = &g->x[i];
        (void)snprintf(x->tier, sizeof(x->tier), "%s", tier);
        (void)snprintf(x->name, sizeof(x->name), "%s",
                       rhis_db_column_text(st, 2));
        x->beds = in->beds;
        x->exists = 1;
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

static int
find_code(const reg *g, const char *code)
{
    for (int i = 0; i < g->k->ninsts; i++)
        if (strcmp(g->k->insts[i].code, code) == 0)
            return i;
    return -1;
}

/* Short name of the county for private hospitals: 永吉县 -> 永吉. */
static void
short_name(const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    if (strstr(name, "自治") != NULL && n >= 6) {
        (void)snprintf(out, len, "%.6s", name); /* two characters */
        return;
    }
    if (n > 6)
        n -= 3; /* drop 县/市/区 */
    (void)snprintf(out, len, "%.*s", (int)n, name);
}

static int
new_inst(reg *g,
         int tier,
         const char *db_tier,
         const char *code,
         const char *name,
         int township,
         int village)
{
    int i = find_code(g, code);
    if (i >= 0)
        return i;
    i = add_inst(g, tier, township, village);
    demo_inst *in = &g->k->insts[i];
    (void)snprintf(in->code, sizeof(in->code), "%s", code);
    (void)snprintf(g->x[i].tier, sizeof(g->x[i].tier), "%s", db_tier);
    (void)snprintf(g->x[i].name, sizeof(g->x[i].name), "%s", name);
    return i;
}

static const char *const private_names[] = {
    "仁爱医院", "康宁医院",     "博爱医院", "中西医结合医院", "骨科医院",
    "眼科医院", "康复医院",     "口腔医院", "妇产医院",       "精神康复医院",
    "肛肠医院", "心血管病医院", "肿瘤医院", "皮肤病医院",     "同仁医院",
};

/* The institutions the county must have. */
static void
plan_insts(reg *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    char code[40], name[160];
    int zone = k->code[4] == '7'; /* development zone: no county hospitals */
    for (int t = 0; t < k->ntownships; t++) {
        demo_township *tw = &k->townships[t];
        int town = (strstr(tw->name, "镇") != NULL ||
                    strstr(tw->name, "乡") != NULL) &&
                   strstr(tw->name, "特殊") == NULL;
        /* reuse whatever centre the township has */
        int have = -1;
        for (int i = 0; i < k->ninsts && have < 0; i++)
            if (k->insts[i].tier == DEMO_TOWNSHIP && k->insts[i].township == t)
                have = i;
        if (have < 0) {
            if (town) {
                (void)snprintf(code, sizeof(code), "T%s", tw->code);
                (void)snprintf(name, sizeof(name), "%s%s卫生院", k->name,
                               tw->name);
                have = new_inst(g, DEMO_TOWNSHIP, "township_hc", code, name, t,
                                -1);
            } else {
                (void)snprintf(code, sizeof(code), "C%s", tw->code);
                (void)snprintf(name, sizeof(name), "%s%s社区卫生服务中心",
                               k->name, tw->name);
                have = new_inst(g, DEMO_TOWNSHIP, "community_hc", code, name, t,
                                -1);
            }
        }
        tw->health_centre = have;
    }
    for (int v = 0; v < k->nvillages; v++) {
        demo_village *vi = &k->villages[v];
        int have = -1;
        for (int i = 0; i < k->ninsts && have < 0; i++)
            if (k->insts[i].tier == DEMO_VILLAGE_CLINIC &&
                k->insts[i].village == v)
                have = i;
        if (have < 0) {
            if (vi->urban) {
                (void)snprintf(code, sizeof(code), "S%s", vi->code);
                (void)snprintf(name, sizeof(name), "%s卫生服务站", vi->name);
                have = new_inst(g, DEMO_VILLAGE_CLINIC, "community_station",
                                code, name, vi->township, v);
            } else {
                (void)snprintf(code, sizeof(code), "V%s", vi->code);
                (void)snprintf(name, sizeof(name), "%s卫生室", vi->name);
                have = new_inst(g, DEMO_VILLAGE_CLINIC, "village_clinic", code,
                                name, vi->township, v);
            }
        }
        vi->clinic = have;
    }
    /* county-level institutions: reuse by tier, else add */
    for (int i = 0; i < k->ninsts; i++) {
        const char *t = g->x[i].tier;
        if (strcmp(t, "county_hospital") == 0 && k->county_hospital < 0 &&
            strstr(g->x[i].name, "医院") != NULL &&
            (strstr(g->x[i].name, "人民医院") != NULL ||
             strcmp(g->x[i].name + strlen(g->x[i].name) - 9, "区医院") == 0))
            k->county_hospital = i;
        else if (strcmp(t, "tcm_hospital") == 0 && k->tcm_hospital < 0)
            k->tcm_hospital = i;
        else if (strcmp(t, "mch") == 0 && k->mch < 0)
            k->mch = i;
        else if (strcmp(t, "cdc") == 0 && k->cdc < 0)
            k->cdc = i;
    }
    int seat = 0; /* the first township: the county seat in code order */
    if (!zone) {
        if (k->county_hospital < 0) {
            (void)snprintf(code, sizeof(code), "H%s001", k->code);
            /* the Zhenan plan's own name */
            (void)snprintf(name, sizeof(name), "%s%s", k->name,
                           strcmp(k->code, "210604") == 0 ? "医院"
                                                          : "人民医院");
            k->county_hospital = new_inst(g, DEMO_COUNTY, "county_hospital",
                                          code, name, seat, -1);
        }
        if (k->tcm_hospital < 0) {
            (void)snprintf(code, sizeof(code), "H%s002", k->code);
            (void)snprintf(name, sizeof(name), "%s中医院", k->name);
            k->tcm_hospital =
                new_inst(g, DEMO_COUNTY, "tcm_hospital", code, name, seat, -1);
        }
        if (k->mch < 0) {
            (void)snprintf(code, sizeof(code), "H%s003", k->code);
            (void)snprintf(name, sizeof(name), "%s妇幼保健院", k->name);
            k->mch =
                new_inst(g, DEMO_PUBLIC_HEALTH, "mch", code, name, seat, -1);
        }
        if (k->cdc < 0) {
            (void)snprintf(code, sizeof(code), "P%s001", k->code);
            (void)snprintf(name, sizeof(name), "%s疾病预防控制中心", k->name);
            k->cdc =
                new_inst(g, DEMO_PUBLIC_HEALTH, "cdc", code, name, seat, -1);
        }
        /* private hospitals up to the plan's number of hospitals */
        int target = c->rates.hospitals > 0
                         ? (int)c->rates.hospitals
                         : 2 + (int)(k->population / c->scale / 40000);
        int nh = 0;
        for (int i = 0; i < k->ninsts; i++)
            nh += k->insts[i].tier == DEMO_COUNTY;
        char sn[32];
        short_name(k->name, sn, sizeof(sn));
        for (int j = 0; nh < target && j < 40; j++) {
            (void)snprintf(code, sizeof(code), "H%s%03d", k->code, 101 + j);
            if (find_code(g, code) >= 0)
                continue;
            (void)snprintf(name, sizeof(name), "%s%s", sn,
                           private_names[j % (int)(sizeof(private_names) /
                                                   sizeof(private_names[0]))]);
            if (j >= (int)(sizeof(private_names) / sizeof(private_names[0])))
                (void)snprintf(name, sizeof(name), "%s%s医院", sn,
                               k->townships[j % k->ntownships].name);
            int t = j % 3 == 2 ? j % k->ntownships : seat;
            new_inst(g, DEMO_COUNTY, "county_hospital", code, name, t, -1);
            nh++;
        }
    }
    if (k->county_hospital < 0)
        k->county_hospital = k->townships[seat].health_centre;
    if (k->mch < 0)
        k->mch = k->county_hospital;
    if (k->cdc < 0)
        k->cdc = k->county_hospital;
}

/* The city's hospital above the county: reused, else created in the
 * city's first district. */
static rhis_status
city_hospital(reg *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    char city[5], code[16], name[160];
    (void)snprintf(city, sizeof(city), "%.4s", k->code);
    (void)snprintf(code, sizeof(code), "Y%s001", city);
    int64_t id = 0;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &id, "SELECT id FROM institution WHERE code = ?", "s", code);
    if (rc == RHIS_OK) {
        k->city_hospital_id = id;
        return RHIS_OK;
    }
    if (rc != RHIS_ENOTFOUND)
        return rc;
    static const struct {
        const char *city, *name;
    } real[] = {
        {"2201", "长春市中心医院"}, /* named in the Changchun plan */
        {"2202", "吉林市人民医院"},
        {"2208", "白城市中心医院"},
        {"2106", "丹东市中心医院"},
    };
    const char *nm = NULL;
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
        if (strcmp(real[i].city, city) == 0)
            nm = real[i].name;
    char cname[64] = "";
    char area[8] = "";
    {
        rhis_stmt *st;
        char hi[6];
        (void)snprintf(hi, sizeof(hi), "%.4s", city);
        hi[3]++;
        rc = rhis_db_query(c->db, &st, "SELECT name FROM area WHERE code = ?",
                           "s", city);
        if (rc != RHIS_OK)
            return rc;
        if (rhis_db_step(st) == RHIS_ROW)
            (void)snprintf(cname, sizeof(cname), "%s",
                           rhis_db_column_text(st, 0));
        rhis_db_finalize(st);
        rc = rhis_db_query(c->db, &st,
                           "SELECT code FROM area WHERE level = 3 AND code >= ?"
                           " AND code < ? ORDER BY code",
                           "ss", city, hi);
        if (rc != RHIS_OK)
            return rc;
        while (rhis_db_step(st) == RHIS_ROW) {
            const char *a = rhis_db_column_text(st, 0);
            if (a[4] != '7') {
                (void)snprintf(area, sizeof(area), "%s", a);
                break;
            }
        }
        rhis_db_finalize(st);
    }
    if (area[0] == '\0')
        return RHIS_OK; /* no ordinary district: no city hospital */
    if (nm == NULL) {
        (void)snprintf(name, sizeof(name), "%s中心医院", cname);
        nm = name;
    }
    double lat = 0, lon = 0;
    (void)demo_county_seat(c, city, &lat, &lon);
    rhis_stmt *st;
    rc = rhis_db_query(
        c->db, &st,
        "INSERT INTO institution (code, name, tier, grade, ownership,"
        " area_code, beds_approved, beds_open, lat, lon, active, version,"
        " updated_at) VALUES (?, ?, 'city_hospital', '3A', 'public', ?, 1500,"
        " 1420, ?, ?, 1, 1, ?) RETURNING id",
        "sssddi", code, nm, area, lat, lon, g->updated_at);
    if (rc != RHIS_OK)
        return rc;
    if ((rc = rhis_db_step(st)) == RHIS_ROW) {
        k->city_hospital_id = rhis_db_column_int64(st, 0);
        g->city_created = 1;
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    return rc;
}

/* Shares total over n slots by weights w (largest remainder). */
static void
apportion(const double *w, int n, int64_t total, int64_t *out)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += w[i];
    int64_t given = 0;
    for (int i = 0; i < n; i++) {
        out[i] = sum > 0 ? (int64_t)floor(total * w[i] / sum) : 0;
        given += out[i];
    }
    while (given < total && sum > 0) {
        int best = -1;
        double bestr = -1;
        for (int i = 0; i < n; i++) {
            double r = total * w[i] / sum - (double)out[i];
            if (w[i] > 0 && r > bestr) {
                bestr = r;
                best = i;
            }
        }
        if (best < 0)
            break;
        out[best]++;
        given++;
    }
}

static rhis_status
insert_inst(reg *g, int i)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    demo_inst *in = &k->insts[i];
    inst_extra *x = &g->x[i];
    double lat, lon;
    demo_rng r;
    demo_rng_init(&r, 0, "inst-geo", demo_hash_str(in->code));
    if (in->village >= 0) {
        lat = k->villages[in->village].lat;
        lon = k->villages[in->village].lon;
    } else {
        demo_township_coords(c, in->township >= 0 ? in->township : 0, &lat,
                             &lon);
        lat += (demo_rng_unif(&r) - 0.5) * 0.02;
        lon += (demo_rng_unif(&r) - 0.5) * 0.02;
    }
    const char *grade = NULL;
    if (strcmp(x->tier, "county_hospital") == 0)
        grade = in->beds >= 500 ? "2A" : in->beds >= 100 ? "2B" : "1A";
    else if (strcmp(x->tier, "tcm_hospital") == 0)
        grade = "2A";
    else if (strcmp(x->tier, "mch") == 0)
        grade = "2B";
    else if (strcmp(x->tier, "township_hc") == 0)
        grade = "1A";
    const char *area = in->village >= 0    ? k->villages[in->village].code
                       : in->township >= 0 ? k->townships[in->township].code
                                           : k->code;
    const char *own = strncmp(in->code + 7, "1", 1) == 0 && in->code[0] == 'H'
                          ? "private"
                          : "public";
    int64_t approved = in->beds + in->beds / 20;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        c->db, &st,
        "INSERT INTO institution (code, name, tier, grade, ownership,"
        " area_code, beds_approved, beds_open, lat, lon, active, version,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)"
        " RETURNING id",
        "ssssssiiddi", in->code, x->name, x->tier, grade, own, area, approved,
        (int64_t)in->beds, round(lat * 1e5) / 1e5, round(lon * 1e5) / 1e5,
        g->updated_at);
    if (rc != RHIS_OK)
        return rc;
    if ((rc = rhis_db_step(st)) == RHIS_ROW) {
        in->id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    return rc;
}

/* Beds of the new institutions up to the county's target. */
static void
plan_beds(reg *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    double target = c->rates.beds_count > 0
                        ? c->rates.beds_count * c->scale
                        : c->rates.beds * k->population / 1000.0;
    double have = 0;
    for (int i = 0; i < k->ninsts; i++)
        if (g->x[i].exists)
            have += (double)g->x[i].beds;
    int64_t rest = (int64_t)(target - have + 0.5);
    if (rest < 0)
        rest = 0;
    double *w = rhis_xcalloc((size_t)k->ninsts + 1, sizeof(double));
    int64_t *out = rhis_xcalloc((size_t)k->ninsts + 1, sizeof(int64_t));
    for (int i = 0; i < k->ninsts; i++) {
        if (g->x[i].exists)
            continue;
        const char *t = g->x[i].tier;
        if (i == k->county_hospital)
            w[i] = 38;
        else if (i == k->tcm_hospital)
            w[i] = 15;
        else if (strcmp(t, "mch") == 0)
            w[i] = 4;
        else if (strcmp(t, "county_hospital") == 0)
            w[i] = 3;
        else if (strcmp(t, "township_hc") == 0)
            w[i] = 2.5;
        else if (strcmp(t, "community_hc") == 0)
            w[i] = 0.8;
    }
    apportion(w, k->ninsts, rest, out);
    for (int i = 0; i < k->ninsts; i++)
        if (!g->x[i].exists)
            k->insts[i].beds = (int)out[i];
    rhis_free(w);
    rhis_free(out);
}

/* ---- staff ---- */

enum { R_PHYS, R_NURSE, R_PHARM, R_PH, NROLES };

static rhis_status
existing_staff(reg *g, int64_t have[NROLES], int64_t *gps)
{
    demo_county *k = g->k;
    char hi[8];
    (void)snprintf(hi, sizeof(hi), "%.6s", k->code);
    hi[5]++;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(
        g->c->db, &st,
        "SELECT r.role, COUNT(DISTINCT r.practitioner_id) FROM"
        " practitioner_role r JOIN institution i ON i.id = r.institution_id"
        " WHERE i.area_code >= ? AND i.area_code < ? AND r.active = 1"
        " GROUP BY r.role ORDER BY r.role",
        "ss", k->code, hi);
    if (rc != RHIS_OK)
        return rc;
    while ((rc = rhis_db_step(st)) == RHIS_ROW) {
        const char *role = rhis_db_column_text(st, 0);
        int64_t n = rhis_db_column_int64(st, 1);
        if (strcmp(role, "physician") == 0 ||
            strcmp(role, "assistant_physician") == 0)
            have[R_PHYS] += n;
        else if (strcmp(role, "nurse") == 0)
            have[R_NURSE] += n;
        else if (strcmp(role, "pharmacist") == 0)
            have[R_PHARM] += n;
        else if (strcmp(role, "public_health") == 0)
            have[R_PH] += n;
        else if (strcmp(role, "gp") == 0)
            *gps += n;
    }
    rhis_db_finalize(st);
    return rc == RHIS_DONE ? RHIS_OK : rc;
}

typedef struct staff_stmts {
    rhis_stmt *pract, *role;
} staff_stmts;

static rhis_status
add_person(reg *g,
           staff_stmts *ss,
           int inst,
           const char *role,
           const char *role2,
           char kind,
           int64_t seq,
           demo_rng *r)
{
    demo_ctx *c = g->c;
    demo_inst *in = &g->k->insts[inst];
    char sex = kind == 'N' ? (demo_rng_bern(r, 0.97) ? 'F' : 'M')
                           : (demo_rng_bern(r, 0.52) ? 'F' : 'M');
    int by = 1962 + (int)demo_rng_below(r, 36);
    char fam[32], giv[32], name[64], lic[32];
    demo_name(c, r, sex, by, 1, fam, sizeof(fam), giv, sizeof(giv));
    (void)snprintf(name, sizeof(name), "%s%s", fam, giv);
    /* licence: category digit, county, year of first licence, sequence */
    int cat = kind == 'P' ? 1 : kind == 'A' ? 2 : kind == 'N' ? 9 : 8;
    (void)snprintf(lic, sizeof(lic), "%d%s%02d%06lld", cat, g->k->code,
                   (by + 25) % 100, (long long)seq);
    rhis_stmt *st = ss->pract;
    rhis_db_bind_text(st, 1, name);
    rhis_db_bind_text(st, 2, sex == 'M' ? "M" : "F");
    rhis_db_bind_text(st, 3, lic);
    rhis_db_bind_int64(st, 4, g->updated_at);
    rhis_status rc = rhis_db_step(st);
    int64_t pid = 0;
    if (rc == RHIS_ROW) {
        pid = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    }
    rhis_db_reset(st);
    if (rc != RHIS_OK)
        return rc;
    for (int k = 0; k < 2 && rc == RHIS_OK; k++) {
        const char *ro = k == 0 ? role : role2;
        if (ro == NULL)
            continue;
        st = ss->role;
        rhis_db_bind_int64(st, 1, pid);
        rhis_db_bind_int64(st, 2, in->id);
        rhis_db_bind_text(st, 3, ro);
        rhis_db_bind_int64(st, 4, g->updated_at);
        rc = rhis_db_step(st);
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
        rhis_db_reset(st);
    }
    if (rc != RHIS_OK)
        return rc;
    /* physicians first in in->staff: physicians are added first */
    in->staff =
        rhis_xrealloc(in->staff, (size_t)(in->nstaff + 1) * sizeof(int64_t));
    in->staff[in->nstaff++] = pid;
    if (kind == 'P' || kind == 'A')
        in->nphysicians++;
    return RHIS_OK;
}

static rhis_status
plan_staff(reg *g)
{
    demo_ctx *c = g->c;
    demo_county *k = g->k;
    double pop = k->population;
    int64_t have[NROLES] = {0}, have_gp = 0;
    rhis_status rc = existing_staff(g, have, &have_gp);
    if (rc != RHIS_OK)
        return rc;
    double want[NROLES];
    want[R_PHYS] = c->rates.physicians_count > 0
                       ? c->rates.physicians_count * c->scale
                       : c->rates.physicians * pop / 1000.0;
    want[R_NURSE] = c->rates.nurses_count > 0 ? c->rates.nurses_count * c->scale
                                              : c->rates.nurses * pop / 1000.0;
    want[R_PHARM] = c->rates.pharmacists * pop / 1000.0;
    want[R_PH] = c->rates.public_health * pop / 1000.0;
    double want_gp = c->rates.gps * pop / 10000.0;
    int n = k->ninsts;
    double *w = rhis_xcalloc((size_t)n + 1, sizeof(double));
    int64_t *cnt[NROLES], *gp = rhis_xcalloc((size_t)n + 1, sizeof(int64_t));
    for (int r = 0; r < NROLES; r++)
        cnt[r] = rhis_xcalloc((size_t)n + 1, sizeof(int64_t));
    for (int r = 0; r < NROLES; r++) {
        for (int i = 0; i < n; i++) {
            const demo_inst *in = &k->insts[i];
            const char *t = g->x[i].tier;
            int ph = strcmp(t, "cdc") == 0 || strcmp(t, "mch") == 0;
            switch (r) {
            case R_PHYS:
                w[i] = in->tier == DEMO_VILLAGE_CLINIC ? 0
                       : strcmp(t, "cdc") == 0         ? 0
                       : in->tier == DEMO_TOWNSHIP     ? in->beds * 0.3 + 6
                                                       : in->beds * 0.45 + 4;
                break;
            case R_NURSE:
                w[i] = in->tier == DEMO_VILLAGE_CLINIC ? 0
                       : strcmp(t, "cdc") == 0         ? 0
                       : in->tier == DEMO_TOWNSHIP     ? in->beds * 0.35 + 4
                                                       : in->beds * 0.62 + 3;
                break;
            case R_PHARM:
                w[i] = in->tier == DEMO_VILLAGE_CLINIC || strcmp(t, "cdc") == 0
                           ? 0
                           : in->beds * 0.05 + 1;
                break;
            default:
                w[i] = strcmp(t, "cdc") == 0 ? 7 : ph ? 3 : 0;
                break;
            }
            if (g->x[i].exists && in->nstaff > 0)
                w[i] = 0;
        }
        double rest = want[r] - (double)have[r];
        /* a licensed (assistant) physician in new village clinics, while
         * they take less than a sixth of the county's physicians */
        if (r == R_PHYS)
            for (int i = 0; i < n; i++)
                if (k->insts[i].tier == DEMO_VILLAGE_CLINIC &&
                    !g->x[i].exists && rest >= 1 && rest > want[r] * 5 / 6) {
                    cnt[r][i] = 1;
                    rest -= 1;
                }
        int64_t *tmp = rhis_xcalloc((size_t)n + 1, sizeof(int64_t));
        apportion(w, n, rest > 0 ? (int64_t)(rest + 0.5) : 0, tmp);
        for (int i = 0; i < n; i++)
            cnt[r][i] += tmp[i];
        rhis_free(tmp);
    }
    /* GPs: physicians of the township and community centres first */
    for (int i = 0; i < n; i++)
        w[i] = k->insts[i].tier == DEMO_TOWNSHIP ? (double)cnt[R_PHYS][i]
               : i == k->county_hospital         ? 0.1 * (double)cnt[R_PHYS][i]
                                                 : 0;
    double rest_gp = want_gp - (double)have_gp;
    apportion(w, n, rest_gp > 0 ? (int64_t)(rest_gp + 0.5) : 0, gp);
    staff_stmts ss = {NULL, NULL};
    rc = rhis_db_prepare(c->db,
                         "INSERT INTO practitioner (name, sex, licence_no,"
                         " active, version, updated_at) VALUES (?, ?, ?, 1,"
                         " 1, ?) RETURNING id",
                         &ss.pract);
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(c->db,
                             "INSERT INTO practitioner_role (practitioner_id,"
                             " institution_id, role, active, version,"
                             " updated_at) VALUES (?, ?, ?, 1, 1, ?)",
                             &ss.role);
    int64_t seq = 0;
    for (int i = 0; i < n && rc == RHIS_OK; i++) {
        demo_rng r;
        demo_rng_init(&r, c->seed, "staff", demo_hash_str(k->insts[i].code));
        int village = k->insts[i].tier == DEMO_VILLAGE_CLINIC;
        for (int64_t j = 0; j < cnt[R_PHYS][i] && rc == RHIS_OK; j++) {
            int assistant = village || demo_rng_bern(&r, 0.18);
            rc = add_person(
                g, &ss, i, assistant ? "assistant_physician" : "physician",
                j < gp[i] ? "gp" : NULL, assistant ? 'A' : 'P', ++seq, &r);
        }
        for (int64_t j = 0; j < cnt[R_NURSE][i] && rc == RHIS_OK; j++)
            rc = add_person(g, &ss, i, "nurse", NULL, 'N', ++seq, &r);
        for (int64_t j = 0; j < cnt[R_PHARM][i] && rc == RHIS_OK; j++)
            rc = add_person(g, &ss, i, "pharmacist", NULL, 'X', ++seq, &r);
        for (int64_t j = 0; j < cnt[R_PH][i] && rc == RHIS_OK; j++)
            rc = add_person(g, &ss, i, "public_health", NULL, 'H', ++seq, &r);
    }
    rhis_db_finalize(ss.pract);
    rhis_db_finalize(ss.role);
    rhis_free(w);
    rhis_free(gp);
    for (int r = 0; r < NROLES; r++)
        rhis_free(cnt[r]);
    return rc;
}

/* Staff already stored for the reused institutions (ids for care). */
static rhis_status
load_staff(reg *g)
{
    demo_county *k = g->k;
    rhis_stmt *st;
    rhis_status rc = rhis_db_prepare(
        g->c->db,
        "SELECT practitioner_id, role FROM practitioner_role WHERE"
        " institution_id = ? AND active = 1 ORDER BY (CASE WHEN role IN"
        " ('physician', 'assistant_physician') THEN 0 ELSE 1 END),"
        " practitioner_id",
        &st);
    for (int i = 0; i < k->ninsts && rc == RHIS_OK; i++) {
        demo_inst *in = &k->insts[i];
        if (!g->x[i].exists)
            continue;
        rhis_db_bind_int64(st, 1, in->id);
        while ((rc = rhis_db_step(st)) == RHIS_ROW) {
            int64_t pid = rhis_db_column_int64(st, 0);
            const char *role = rhis_db_column_text(st, 1);
            int dup = 0;
            for (int j = 0; j < in->nstaff; j++)
                dup |= in->staff[j] == pid;
            if (dup)
                continue;
            in->staff = rhis_xrealloc(in->staff, (size_t)(in->nstaff + 1) *
                                                     sizeof(int64_t));
            in->staff[in->nstaff++] = pid;
            if (strcmp(role, "physician") == 0 ||
                strcmp(role, "assistant_physician") == 0)
                in->nphysicians++;
        }
        rc = rc == RHIS_DONE ? RHIS_OK : rc;
        rhis_db_reset(st);
    }
    rhis_db_finalize(st);
    return rc;
}

rhis_status
demo_registry(demo_ctx *c)
{
    reg g;
    memset(&g, 0, sizeof(g));
    g.c = c;
    g.k = c->county;
    g.k->insts = NULL;
    g.k->ninsts = 0;
    /* registered a year before the run starts */
    g.updated_at = demo_ms(c->day_from - 365, 9, 0) / 1000;
    rhis_status rc = load_existing(&g);
    if (rc == RHIS_OK)
        rc = load_staff(&g);
    if (rc == RHIS_OK) {
        plan_insts(&g);
        plan_beds(&g);
        for (int i = 0; i < g.k->ninsts && rc == RHIS_OK; i++)
            if (!g.x[i].exists)
                rc = insert_inst(&g, i);
    }
    if (rc == RHIS_OK)
        rc = city_hospital(&g);
    if (rc == RHIS_OK)
        rc = plan_staff(&g);
    /* the plan's live aggregates (beds, staff by role) follow rows written
     * outside the FHIR store only through this call */
    for (int i = 0; i < g.k->ninsts && rc == RHIS_OK; i++)
        rc = rhis_agg_institution(c->db, g.k->insts[i].id);
    if (rc == RHIS_OK && g.city_created)
        rc = rhis_agg_institution(c->db, g.k->city_hospital_id);
    rhis_free(g.x);
    return rc;
}
