/*
 * channel.c - daily counts of the surveillance channels (多渠道监测):
 * fever- and intestinal-clinic visits, school and kindergarten
 * absenteeism by reason, pharmacy sales by drug class, public reports and
 * lab positives, each for an area, an institution (or site) and a day.
 *
 * Why: the multi-point early warning (多点触发) compares these series per
 * township; they arrive from systems RHIS does not control (school and
 * pharmacy systems, LIS), so every count is checked at the door - area
 * and institution exist, the count is not negative, the day is real and
 * not in the future, the category is in the channel's vocabulary - and a
 * resend of the same day replaces the earlier value instead of adding to
 * it (pushes are idempotent).
 */
#include <stdio.h>
#include <string.h>

#include "rhis/registry.h"
#include "surveil_int.h"

static const char *const channel_names[] = {
    NULL,       "fever_clinic",  "intestinal_clinic", "school_absence",
    "pharmacy", "public_report", "lab_positive",
};

static const char *const school_reasons[] = {
    "fever", "respiratory", "gi", "rash", "other", "unknown", NULL};
static const char *const drug_classes[] = {"antipyretic", "antidiarrheal",
                                           "cough_cold", "antiviral", NULL};
static const char *const public_types[] = {"rumor", "cluster", "other", NULL};

const char *
rhis_channel_name(rhis_channel ch)
{
    if ((int)ch < RHIS_CH_FEVER || (int)ch > RHIS_CH_LAB)
        return NULL;
    return channel_names[ch];
}

rhis_channel
rhis_channel_parse(const char *name)
{
    for (int i = RHIS_CH_FEVER; name != NULL && i <= RHIS_CH_LAB; i++)
        if (strcmp(channel_names[i], name) == 0)
            return (rhis_channel)i;
    return (rhis_channel)0;
}

static int
in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static int
code_chars(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 31 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static rhis_status
check_category(rhis_fhir_ctx *c, const rhis_channel_count *in)
{
    const char *cat = in->category;
    const char *expr = "category";
    switch (in->channel) {
    case RHIS_CH_FEVER:
    case RHIS_CH_INTESTINAL:
        if (!code_chars(cat))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "category of a clinic count is a syndrome "
                                  "code of data/syndromes.csv or \"all\"");
        return RHIS_OK;
    case RHIS_CH_SCHOOL:
        if (!in_list(cat, school_reasons))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "category of school_absence must be fever, "
                                  "respiratory, gi, rash, other or unknown");
        return RHIS_OK;
    case RHIS_CH_PHARMACY:
        if (!in_list(cat, drug_classes))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "category of pharmacy must be antipyretic, "
                                  "antidiarrheal, cough_cold or antiviral");
        return RHIS_OK;
    case RHIS_CH_PUBLIC:
        if (!in_list(cat, public_types))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "category of public_report must be rumor, "
                                  "cluster or other");
        return RHIS_OK;
    case RHIS_CH_LAB:
        if (!code_chars(cat))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "category of lab_positive is a pathogen "
                                  "code: 1..31 letters, digits, '_', '-', "
                                  "'.'");
        return RHIS_OK;
    }
    return rhis_fhir_fail(c, RHIS_EINVAL, "channel",
                          "channel must be fever_clinic, intestinal_clinic, "
                          "school_absence, pharmacy, public_report or "
                          "lab_positive");
}

/*
 * The area and institution checks already passed within one batch: a
 * batch (a day's counts of a township, or the demo's county) names the
 * same few areas and institutions over and over, and each check is a
 * query.  Only passes are kept, inside the batch's transaction, so a
 * cached answer is the one the database would give again.
 */
#define CHECK_CACHE 64
typedef struct rhis_channel_checks check_cache;
struct rhis_channel_checks {
    char area[CHECK_CACHE][16];
    int narea, next_area;
    int64_t inst[CHECK_CACHE];
    char inst_area[CHECK_CACHE][16];
    int ninst, next_inst;
};

static int
cached_area(const check_cache *k, const char *code)
{
    for (int i = 0; k != NULL && i < k->narea; i++)
        if (strcmp(k->area[i], code) == 0)
            return 1;
    return 0;
}

static void
remember_area(check_cache *k, const char *code)
{
    if (k == NULL || strlen(code) >= sizeof(k->area[0]))
        return;
    int i = k->narea < CHECK_CACHE ? k->narea++ : k->next_area;
    k->next_area = (i + 1) % CHECK_CACHE;
    (void)snprintf(k->area[i], sizeof(k->area[i]), "%s", code);
}

static const char *
cached_inst(const check_cache *k, int64_t id)
{
    for (int i = 0; k != NULL && i < k->ninst; i++)
        if (k->inst[i] == id)
            return k->inst_area[i];
    return NULL;
}

static void
remember_inst(check_cache *k, int64_t id, const char *area)
{
    if (k == NULL)
        return;
    int i = k->ninst < CHECK_CACHE ? k->ninst++ : k->next_inst;
    k->next_inst = (i + 1) % CHECK_CACHE;
    k->inst[i] = id;
    (void)snprintf(k->inst_area[i], sizeof(k->inst_area[i]), "%s", area);
}

/* Validation of one count, without writing (k: the batch's cache, or
 * NULL). */
static rhis_status
check_count(rhis_fhir_ctx *c,
            const rhis_channel_count *in,
            int64_t *day_ms,
            check_cache *k)
{
    if (rhis_channel_name(in->channel) == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, "channel",
                              "channel must be fever_clinic, "
                              "intestinal_clinic, school_absence, pharmacy, "
                              "public_report or lab_positive");
    if (rhis_surv_day_ms(in->day, day_ms) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, "day",
                              "day must be a real date YYYY-MM-DD");
    if (*day_ms > c->now_ms + SURV_SKEW_MS)
        return rhis_fhir_fail(c, RHIS_EINVAL, "day",
                              "day %s lies in the future", in->day);
    if (*day_ms < c->now_ms - (int64_t)20 * 366 * SURV_DAY_MS)
        return rhis_fhir_fail(c, RHIS_EINVAL, "day",
                              "day %s is more than 20 years ago", in->day);
    if (in->count < 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "count",
                              "count must not be negative");
    if (in->count > 100000000)
        return rhis_fhir_fail(c, RHIS_EINVAL, "count",
                              "count is implausibly large (over 10^8)");
    if (in->denominator < 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "denominator",
                              "denominator must not be negative");
    if (in->denominator > 0 && in->count > in->denominator)
        return rhis_fhir_fail(c, RHIS_EINVAL, "count",
                              "count (%lld) exceeds denominator (%lld)",
                              (long long)in->count, (long long)in->denominator);
    if (in->denominator > 0 && in->channel != RHIS_CH_SCHOOL)
        return rhis_fhir_fail(c, RHIS_EINVAL, "denominator",
                              "denominator is only for school_absence "
                              "(enrolled pupils)");
    if (strlen(in->site) >= sizeof(in->site))
        return rhis_fhir_fail(c, RHIS_EINVAL, "site", "site is too long");
    if (check_category(c, in) != RHIS_OK)
        return c->err_status;
    if (!cached_area(k, in->area_code)) {
        if (surv_check_area(c, in->area_code, 0, "area_code") != RHIS_OK)
            return c->err_status;
        remember_area(k, in->area_code);
    }
    if (!surv_covers(c, in->area_code) &&
        (c->user == NULL || c->user->scope_institution == 0))
        return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "area_code",
                              "area %s lies outside your area scope",
                              in->area_code);
    if (in->institution_id == 0) {
        /* schools and retail pharmacies are not health institutions of the
         * registry: they are named by site */
        if (in->channel != RHIS_CH_SCHOOL && in->channel != RHIS_CH_PUBLIC &&
            in->channel != RHIS_CH_PHARMACY)
            return rhis_fhir_fail(c, RHIS_EINVAL, "institution_id",
                                  "institution_id is required for %s",
                                  rhis_channel_name(in->channel));
        if (in->site[0] == '\0' && in->channel != RHIS_CH_PUBLIC)
            return rhis_fhir_fail(c, RHIS_EINVAL, "site",
                                  "site (the school, kindergarten or "
                                  "pharmacy) is required without "
                                  "institution_id");
        if (c->user != NULL && c->user->scope_institution != 0)
            return rhis_fhir_fail(c, RHIS_EFORBIDDEN, "institution_id",
                                  "you report for institution %lld: give "
                                  "institution_id",
                                  (long long)c->user->scope_institution);
        return RHIS_OK;
    }
    char iarea[16];
    const char *known = cached_inst(k, in->institution_id);
    if (known != NULL) {
        (void)snprintf(iarea, sizeof(iarea), "%s", known);
    } else {
        if (surv_check_institution(c, in->institution_id, "institution_id",
                                   iarea) != RHIS_OK)
            return c->err_status;
        remember_inst(k, in->institution_id, iarea);
    }
    /* the count's area is the institution's place or lies below it (a
     * township health centre reports for its villages) */
    size_t n = strlen(iarea);
    if (strncmp(in->area_code, iarea, n) != 0 &&
        strncmp(in->area_code, iarea, strlen(in->area_code)) != 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, "area_code",
                              "area_code %s does not contain and is not "
                              "inside the area %s of institution %lld",
                              in->area_code, iarea,
                              (long long)in->institution_id);
    return RHIS_OK;
}

/*
 * Rows per multi-row INSERT of rhis_channel_add_new: at most NEW_ROWS, 14
 * parameters a row, far below both engines' limits (SQLite 32 766,
 * PostgreSQL 65 535).  A batch is cut into statements of 128, 64, ..., 1
 * rows (powers of two), so the drivers' statement caches see at most
 * eight texts, whatever the batches' sizes.
 */
#define NEW_ROWS 128
#define NEW_ROW_SQL                                                            \
    "(?, ?, ?, ?, NULLIF(CAST(? AS BIGINT), 0), ?, ?, ?, ?, ?,"                \
    " NULLIF(CAST(? AS BIGINT), 0), ?, ?, NULLIF(CAST(? AS BIGINT), 0))"

/* Inserts in[0..n-1] (checked, day_ms[i] their days) with one statement. */
static rhis_status
insert_rows(rhis_fhir_ctx *c,
            const rhis_channel_count *in,
            const int64_t *day_ms,
            size_t n,
            const char *source)
{
    static const char head[] =
        "INSERT INTO channel_count (channel, area_code, township_code,"
        " county_code, institution_id, site, day, day_ms, category, count,"
        " denominator, source, updated_ms, user_id) VALUES ";
    size_t len = sizeof(head) + n * (sizeof(NEW_ROW_SQL) + 2);
    char *sql = rhis_xmalloc(len);
    size_t at = (size_t)snprintf(sql, len, "%s", head);
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(sql + at, len - at, "%s%s", i > 0 ? ", " : "",
                               NEW_ROW_SQL);
    rhis_stmt *st = NULL;
    rhis_status rc = rhis_db_prepare(c->db, sql, &st);
    rhis_free(sql);
    int64_t uid = c->user != NULL ? c->user->user_id : 0;
    for (size_t i = 0; i < n && rc == RHIS_OK; i++) {
        const rhis_channel_count *x = &in[i];
        char town[10], county[7];
        (void)snprintf(town, sizeof(town), "%.9s", x->area_code);
        (void)snprintf(county, sizeof(county), "%.6s", x->area_code);
        int p = (int)i * 14;
        if (rhis_db_bind_text(st, p + 1, rhis_channel_name(x->channel)) !=
                RHIS_OK ||
            rhis_db_bind_text(st, p + 2, x->area_code) != RHIS_OK ||
            rhis_db_bind_text(st, p + 3, town) != RHIS_OK ||
            rhis_db_bind_text(st, p + 4, county) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 5, x->institution_id) != RHIS_OK ||
            rhis_db_bind_text(st, p + 6, x->site) != RHIS_OK ||
            rhis_db_bind_text(st, p + 7, x->day) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 8, day_ms[i]) != RHIS_OK ||
            rhis_db_bind_text(st, p + 9, x->category) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 10, x->count) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 11, x->denominator) != RHIS_OK ||
            rhis_db_bind_text(st, p + 12, source) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 13, c->now_ms) != RHIS_OK ||
            rhis_db_bind_int64(st, p + 14, uid) != RHIS_OK)
            rc = RHIS_EIO;
    }
    if (rc == RHIS_OK) {
        rhis_status s = rhis_db_step(st);
        rc = s == RHIS_DONE ? RHIS_OK : s;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the counts");
    return RHIS_OK;
}

/*
 * Stores one checked count: UPDATE the row of its key, then INSERT it if
 * the UPDATE found none.  With deferred writes (a bulk load on
 * PostgreSQL) asking how many rows the UPDATE changed would cost a round
 * trip per count, so the INSERT tests for the row itself (NOT EXISTS) and
 * neither statement needs an answer: both go out pipelined.  Otherwise
 * the row count decides (on SQLite the NOT EXISTS form costs twice as
 * much: an INSERT reading its own table goes through a temporary table).
 */
static rhis_status
put_count(rhis_fhir_ctx *c,
          const rhis_channel_count *in,
          int64_t day_ms,
          const char *source)
{
    char town[10], county[7];
    (void)snprintf(town, sizeof(town), "%.9s", in->area_code);
    (void)snprintf(county, sizeof(county), "%.6s", in->area_code);
    const char *ch = rhis_channel_name(in->channel);
    int64_t uid = c->user != NULL ? c->user->user_id : 0;
    rhis_status rc = rhis_db_run(
        c->db,
        "UPDATE channel_count SET count = ?,"
        " denominator = NULLIF(CAST(? AS BIGINT), 0), source = ?, updated_ms = "
        "?,"
        " user_id = NULLIF(CAST(? AS BIGINT), 0)"
        " WHERE channel = ? AND area_code = ? AND COALESCE(institution_id, 0)"
        " = ? AND site = ? AND day = ? AND category = ?",
        "iisiississs", in->count, in->denominator, source, c->now_ms, uid, ch,
        in->area_code, in->institution_id, in->site, in->day, in->category);
    if (rc == RHIS_OK && !rhis_db_deferred(c->db)) {
        if (rhis_db_changes(c->db) == 0)
            rc = insert_rows(c, in, &day_ms, 1, source);
    } else if (rc == RHIS_OK) {
        rc = rhis_db_run(
            c->db,
            "INSERT INTO channel_count (channel, area_code, township_code,"
            " county_code, institution_id, site, day, day_ms, category, count,"
            " denominator, source, updated_ms, user_id)"
            " SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
            " CAST(? AS TEXT), NULLIF(CAST(? AS BIGINT), 0), CAST(? AS TEXT),"
            " CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT),"
            " CAST(? AS BIGINT), NULLIF(CAST(? AS BIGINT), 0),"
            " CAST(? AS TEXT), CAST(? AS BIGINT), NULLIF(CAST(? AS BIGINT), 0)"
            " WHERE NOT EXISTS (SELECT 1 FROM channel_count"
            " WHERE channel = ? AND area_code = ? AND COALESCE(institution_id,"
            " 0) = ? AND site = ? AND day = ? AND category = ?)",
            "ssssissisiisiississs", ch, in->area_code, town, county,
            in->institution_id, in->site, in->day, day_ms, in->category,
            in->count, in->denominator, source, c->now_ms, uid, ch,
            in->area_code, in->institution_id, in->site, in->day, in->category);
    }
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot store the count");
    return RHIS_OK;
}

rhis_status
surv_channel_put(rhis_fhir_ctx *c,
                 const rhis_channel_count *in,
                 const char *source)
{
    int64_t day_ms;
    if (rhis_surv_day_ms(in->day, &day_ms) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, "day", "bad day");
    return put_count(c, in, day_ms, source);
}

/* Names the item of a batch that failed: counts[3].day. */
static rhis_status
fail_item(rhis_fhir_ctx *c, size_t i)
{
    char expr[sizeof(c->err_expr) + 40];
    (void)snprintf(expr, sizeof(expr), "counts[%zu]%s%s", i,
                   c->err_expr[0] != '\0' ? "." : "", c->err_expr);
    char text[sizeof(c->err_text) + 40];
    (void)snprintf(text, sizeof(text), "counts[%zu]: %s", i, c->err_text);
    (void)rhis_fhir_fail(c, c->err_status, expr, "%s", text);
    return c->err_status;
}

rhis_status
rhis_channel_add_batch(rhis_fhir_ctx *c,
                       const rhis_channel_count *in,
                       size_t n,
                       size_t *n_done)
{
    *n_done = 0;
    int own;
    rhis_status rc = surv_tx_begin(c, &own);
    if (rc != RHIS_OK)
        return rc;
    check_cache *k = n > 1 ? rhis_xcalloc(1, sizeof(*k)) : NULL;
    for (size_t i = 0; i < n && rc == RHIS_OK; i++) {
        int64_t day_ms = 0;
        rc = check_count(c, &in[i], &day_ms, k);
        if (rc == RHIS_OK)
            rc = put_count(c, &in[i], day_ms, "push");
        if (rc != RHIS_OK && n > 1)
            rc = fail_item(c, i);
    }
    rhis_free(k);
    if (rc == RHIS_OK) {
        char detail[64];
        (void)snprintf(detail, sizeof(detail), "%zu counts", n);
        rc = surv_audit(c, "C", "channel-ingest", "ChannelCount", 0, 0, detail);
    }
    rc = surv_tx_end(c, own, rc);
    if (rc != RHIS_OK)
        return c->err_status != RHIS_OK ? c->err_status : rc;
    *n_done = n;
    return RHIS_OK;
}

rhis_channel_checks *
rhis_channel_checks_new(void)
{
    return rhis_xcalloc(1, sizeof(rhis_channel_checks));
}

void
rhis_channel_checks_free(rhis_channel_checks *k)
{
    rhis_free(k);
}

rhis_status
rhis_channel_add_new(rhis_fhir_ctx *c,
                     const rhis_channel_count *in,
                     size_t n,
                     rhis_channel_checks *checks,
                     size_t *n_done)
{
    *n_done = 0;
    int own;
    rhis_status rc = surv_tx_begin(c, &own);
    if (rc != RHIS_OK)
        return rc;
    check_cache *k = checks != NULL ? checks : rhis_xcalloc(1, sizeof(*k));
    int64_t *day_ms = rhis_xmalloc((n > 0 ? n : 1) * sizeof(*day_ms));
    for (size_t i = 0; i < n && rc == RHIS_OK; i++) {
        day_ms[i] = 0;
        rc = check_count(c, &in[i], &day_ms[i], k);
        if (rc != RHIS_OK && n > 1)
            rc = fail_item(c, i);
    }
    if (k != checks)
        rhis_free(k);
    for (size_t i = 0; i < n && rc == RHIS_OK;) {
        size_t m = NEW_ROWS;
        while (m > n - i)
            m /= 2;
        rc = insert_rows(c, in + i, day_ms + i, m, "push");
        i += m;
    }
    rhis_free(day_ms);
    if (rc == RHIS_OK) {
        char detail[64];
        (void)snprintf(detail, sizeof(detail), "%zu counts", n);
        rc = surv_audit(c, "C", "channel-ingest", "ChannelCount", 0, 0, detail);
    }
    rc = surv_tx_end(c, own, rc);
    if (rc != RHIS_OK)
        return c->err_status != RHIS_OK ? c->err_status : rc;
    *n_done = n;
    return RHIS_OK;
}

rhis_status
rhis_channel_add(rhis_fhir_ctx *c, const rhis_channel_count *in)
{
    size_t done;
    return rhis_channel_add_batch(c, in, 1, &done);
}
