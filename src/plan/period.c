/*
 * period.c - day numbers, calendar periods and their names.
 *
 * Why: aggregates are kept per day and rolled up per month; every
 * indicator query is a day range.  Days are China standard time (UTC+8)
 * dates, the dates health workers write on forms: an event at 07:00 in
 * Jilin is on that day, not on the previous UTC day.
 */
#include <stdio.h>
#include <string.h>

#include "plan_int.h"

#define DAY_MS 86400000LL
#define CST_MS (8LL * 3600 * 1000)

/* Howard Hinnant's days_from_civil. */
int32_t
rhis_day_of(int year, int month, int day)
{
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = (unsigned)(month + (month > 2 ? -3 : 9));
    unsigned doy = (153 * mp + 2) / 5 + (unsigned)day - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void
rhis_day_date(int32_t day, int *year, int *month, int *mday)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = (int)m;
    *mday = (int)d;
}

int32_t
rhis_day_of_ms(int64_t ms)
{
    int64_t t = ms + CST_MS;
    int64_t d = t / DAY_MS;
    if (t % DAY_MS < 0)
        d--;
    return (int32_t)d;
}

static int
days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

rhis_period
rhis_period_year(int year)
{
    rhis_period p = {rhis_day_of(year, 1, 1), rhis_day_of(year, 12, 31)};
    return p;
}

rhis_period
rhis_period_quarter(int year, int q)
{
    int m = (q - 1) * 3 + 1;
    rhis_period p = {rhis_day_of(year, m, 1),
                     rhis_day_of(year, m + 2, days_in_month(year, m + 2))};
    return p;
}

rhis_period
rhis_period_month(int year, int month)
{
    rhis_period p = {rhis_day_of(year, month, 1),
                     rhis_day_of(year, month, days_in_month(year, month))};
    return p;
}

static int
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int
num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* One period name of length n (not NUL-terminated). */
static rhis_status
parse_one(const char *s, size_t n, rhis_period *out)
{
    if (n == 4 && digits(s, 4)) {
        int y = num(s, 4);
        if (y < PLAN_MIN_YEAR || y > 2200)
            return RHIS_EINVAL;
        *out = rhis_period_year(y);
        return RHIS_OK;
    }
    if (n == 6 && digits(s, 4) && s[4] == 'Q' && s[5] >= '1' && s[5] <= '4') {
        int y = num(s, 4);
        if (y < PLAN_MIN_YEAR || y > 2200)
            return RHIS_EINVAL;
        *out = rhis_period_quarter(y, s[5] - '0');
        return RHIS_OK;
    }
    if (n == 6 && digits(s, 6)) {
        int y = num(s, 4), m = num(s + 4, 2);
        if (y < PLAN_MIN_YEAR || y > 2200 || m < 1 || m > 12)
            return RHIS_EINVAL;
        *out = rhis_period_month(y, m);
        return RHIS_OK;
    }
    if (n == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
        s[7] == '-' && digits(s + 8, 2)) {
        int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
        if (y < PLAN_MIN_YEAR || y > 2200 || m < 1 || m > 12 || d < 1 ||
            d > days_in_month(y, m))
            return RHIS_EINVAL;
        out->from_day = out->to_day = rhis_day_of(y, m, d);
        return RHIS_OK;
    }
    return RHIS_EINVAL;
}

rhis_status
rhis_period_parse(const char *s, rhis_period *out)
{
    if (s == NULL)
        return RHIS_EINVAL;
    size_t len = strlen(s);
    const char *t = strchr(s, '~');
    if (t == NULL)
        return parse_one(s, len, out);
    rhis_period a, b;
    if (parse_one(s, (size_t)(t - s), &a) != RHIS_OK ||
        parse_one(t + 1, len - (size_t)(t - s) - 1, &b) != RHIS_OK ||
        b.to_day < a.from_day)
        return RHIS_EINVAL;
    out->from_day = a.from_day;
    out->to_day = b.to_day;
    return RHIS_OK;
}

void
rhis_period_name(rhis_period p, char *out, size_t len)
{
    int y1, m1, d1, y2, m2, d2;
    rhis_day_date(p.from_day, &y1, &m1, &d1);
    rhis_day_date(p.to_day, &y2, &m2, &d2);
    if (y1 == y2 && m1 == 1 && d1 == 1 && m2 == 12 && d2 == 31)
        snprintf(out, len, "%04d", y1);
    else if (y1 == y2 && d1 == 1 && (m1 - 1) % 3 == 0 && m2 == m1 + 2 &&
             d2 == days_in_month(y2, m2))
        snprintf(out, len, "%04dQ%d", y1, (m1 - 1) / 3 + 1);
    else if (y1 == y2 && m1 == m2 && d1 == 1 && d2 == days_in_month(y2, m2))
        snprintf(out, len, "%04d%02d", y1, m1);
    else
        snprintf(out, len, "%04d-%02d-%02d~%04d-%02d-%02d", y1, m1, d1, y2, m2,
                 d2);
}

int
plan_month_of(int32_t day)
{
    int y, m, d;
    rhis_day_date(day, &y, &m, &d);
    return y * 100 + m;
}

int
plan_age_years(int32_t b, int32_t d)
{
    int by, bm, bd, y, m, dd;
    rhis_day_date(b, &by, &bm, &bd);
    rhis_day_date(d, &y, &m, &dd);
    int age = y - by;
    if (m < bm || (m == bm && dd < bd))
        age--;
    return age;
}

int32_t
plan_birthday(int32_t b, int n)
{
    int by, bm, bd;
    rhis_day_date(b, &by, &bm, &bd);
    int y = by + n;
    if (bm == 2 && bd == 29 && days_in_month(y, 2) == 28)
        return rhis_day_of(y, 3, 1);
    return rhis_day_of(y, bm, bd);
}

int
plan_band_lo(int i)
{
    return i == 0 ? 0 : i == 1 ? 1 : (i - 1) * 5;
}

int
plan_band_of(int age)
{
    if (age < 1)
        return 0;
    if (age < 5)
        return 1;
    if (age >= 85)
        return PLAN_NBANDS - 1;
    return age / 5 + 1;
}
