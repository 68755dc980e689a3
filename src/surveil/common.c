/*
 * common.c - Beijing-time calendar arithmetic, transactions and audit
 * events shared by the report-card and channel code (surveil_int.h).
 *
 * Why: a card's deadline, the catalogue version in force and a channel's
 * day all hang on the Beijing calendar (UTC+8); doing that arithmetic in
 * one place keeps "the day of a diagnosis" the same everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/audit.h"
#include "rhis/auth.h"
#include "rhis/http.h"
#include "surveil_int.h"

/* H. Hinnant's days_from_civil: exact for the proleptic Gregorian
 * calendar. */
int64_t
surv_days_from_civil(int y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t mp = m > 2 ? m - 3 : m + 9;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
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
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int
month_days(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return md[m - 1];
}

/* n digits at s as a number, -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
surv_parse_time(const char *s, int64_t *ms)
{
    if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || y > 2199 || mo < 1 || mo > 12 || d < 1 ||
        d > month_days(y, mo))
        return 0;
    int64_t t = surv_days_from_civil(y, mo, d) * SURV_DAY_MS;
    int64_t off = SURV_TZ_MS;
    const char *p = s + 10;
    if (*p == 'T') {
        int h = digits(p + 1, 2);
        if (h < 0 || h > 23 || p[3] != ':')
            return 0;
        int mi = digits(p + 4, 2);
        if (mi < 0 || mi > 59)
            return 0;
        t += h * SURV_HOUR_MS + (int64_t)mi * 60000;
        p += 6;
        if (*p == ':') {
            int sec = digits(p + 1, 2);
            if (sec < 0 || sec > 59)
                return 0;
            t += (int64_t)sec * 1000;
            p += 3;
            if (*p == '.') {
                int n = 0, frac = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, n++)
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                if (n == 0 || n > 9)
                    return 0;
                for (int k = n; k < 3; k++)
                    frac *= 10;
                t += frac;
            }
        }
        if (*p == 'Z') {
            off = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = digits(p + 1, 2);
            if (oh < 0 || oh > 14 || p[3] != ':')
                return 0;
            int om = digits(p + 4, 2);
            if (om < 0 || om > 59)
                return 0;
            off = (oh * SURV_HOUR_MS + (int64_t)om * 60000) *
                  (*p == '-' ? -1 : 1);
            p += 6;
        }
    }
    if (*p != '\0')
        return 0;
    *ms = t - off;
    return 1;
}

void
surv_format_time(int64_t ms, char *out, size_t len)
{
    int64_t local = ms + SURV_TZ_MS;
    int64_t day = local >= 0 ? local / SURV_DAY_MS
                             : -((-local + SURV_DAY_MS - 1) / SURV_DAY_MS);
    int64_t rest = (local - day * SURV_DAY_MS) / 1000;
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    (void)snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d,
                   (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60));
}

void
rhis_surv_day_of(int64_t ms, char out[11])
{
    int64_t local = ms + SURV_TZ_MS;
    int64_t day = local >= 0 ? local / SURV_DAY_MS
                             : -((-local + SURV_DAY_MS - 1) / SURV_DAY_MS);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;
    char buf[40];
    (void)snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

rhis_status
rhis_surv_day_ms(const char *day, int64_t *ms)
{
    if (day == NULL || strlen(day) != 10)
        return RHIS_EINVAL;
    return surv_parse_time(day, ms) ? RHIS_OK : RHIS_EINVAL;
}

const char *
surv_data_dir(const rhis_fhir_ctx *c)
{
    if (c != NULL && c->req != NULL && c->req->conf != NULL &&
        c->req->conf->data_dir[0] != '\0')
        return c->req->conf->data_dir;
    const char *env = getenv("RHIS_DATA_DIR");
    return env != NULL && env[0] != '\0' ? env : "data";
}

/*
 * own: 1 = our transaction; 2 = a savepoint inside the caller's, so a
 * failed call leaves nothing behind even there.
 */
rhis_status
surv_tx_begin(rhis_fhir_ctx *c, int *own)
{
    *own = 0;
    if (rhis_db_in_tx(c->db)) {
        if (rhis_db_exec(c->db, "SAVEPOINT rhis_surveil") != RHIS_OK)
            return rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot open a savepoint");
        *own = 2;
        return RHIS_OK;
    }
    rhis_status rc = rhis_db_begin(c->db);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EBUSY, NULL, "database busy");
    *own = 1;
    return RHIS_OK;
}

rhis_status
surv_tx_end(rhis_fhir_ctx *c, int own, rhis_status rc)
{
    if (own == 2) {
        if (rc != RHIS_OK)
            (void)rhis_db_exec(c->db, "ROLLBACK TO SAVEPOINT rhis_surveil");
        if (rhis_db_exec(c->db, "RELEASE SAVEPOINT rhis_surveil") != RHIS_OK &&
            rc == RHIS_OK)
            rc = rhis_fhir_fail(c, RHIS_EIO, NULL,
                                "cannot release the savepoint");
        return rc;
    }
    if (!own)
        return rc;
    if (rc == RHIS_OK) {
        rc = rhis_db_commit(c->db);
        if (rc != RHIS_OK)
            (void)rhis_fhir_fail(c, RHIS_EIO, NULL, "cannot commit");
    }
    if (rc != RHIS_OK)
        rhis_db_rollback(c->db);
    return rc;
}

rhis_status
surv_audit(rhis_fhir_ctx *c,
           const char *action,
           const char *operation,
           const char *rtype,
           int64_t rid,
           int64_t pid,
           const char *detail)
{
    char id[24], p[24];
    (void)snprintf(id, sizeof(id), "%lld", (long long)rid);
    (void)snprintf(p, sizeof(p), "%lld", (long long)pid);
    rhis_audit_event ev = {
        .user_id = c->user != NULL ? c->user->user_id : 0,
        .username = c->user != NULL ? c->user->username : "system",
        .role = c->user != NULL ? rhis_role_name(c->user->role) : NULL,
        .action = action,
        .operation = operation,
        .resource_type = rtype,
        .resource_id = rid > 0 ? id : NULL,
        .patient_id = pid > 0 ? p : NULL,
        .outcome = 200,
        .address = c->req != NULL ? c->req->client_addr : NULL,
        .request_id = c->req != NULL ? c->req->request_id : NULL,
        .detail = detail,
    };
    rhis_status rc = rhis_audit_write(c->db, &ev);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EIO, NULL,
                              "cannot write the audit event");
    if (c->req != NULL)
        c->req->audit_done = 1;
    return RHIS_OK;
}

int
surv_covers(const rhis_fhir_ctx *c, const char *code)
{
    return c->user == NULL || rhis_principal_covers_area(c->user, code);
}

int
surv_icd10_valid(const char *s)
{
    if (s == NULL || s[0] < 'A' || s[0] > 'Z' || digits(s + 1, 2) < 0)
        return 0;
    s += 3;
    if (*s == '\0')
        return 1;
    if (*s != '.')
        return 0;
    s++;
    size_t n = 0;
    for (; *s != '\0' && n < 6; s++, n++)
        if (!((*s >= '0' && *s <= '9') || *s == 'x'))
            return 0;
    return n >= 1 && *s == '\0';
}
