/*
 * idnum.c - resident identity number (GB 11643-1999) validation, check
 * character and masking; the contracts are in include/rhis/idnum.h.
 *
 * Why here: the number identifies a resident, so it belongs with the
 * registry; the master patient index, the importers and the demo generator
 * all call these functions instead of each growing its own partial check.
 *
 * Decisions:
 * - The area code is not looked up in the division table (data/divisions.csv
 *   is one GB/T 2260 edition, and cards keep codes retired since).  Only the
 *   province prefix is checked, plus a county part other than 00: no card
 *   is issued to a province or a prefecture as a whole.  Taiwan (71), Hong
 *   Kong (81) and Macao (82) have no county codes in GB/T 2260; their only
 *   codes are 710000, 810000 and 820000 (the last two are what residence
 *   permits for Hong Kong and Macao residents carry; 830000 is on permits
 *   for Taiwan residents), so the county rule is not applied to them.
 * - A wrong check character is reported without the right one: telling it
 *   would turn a mistyped digit into an accepted wrong number.
 * - "Today" is the calendar date in China Standard Time (UTC+8, no daylight
 *   saving), computed from now without localtime(), so the answer does not
 *   depend on the server's TZ and tests can pin now.
 * - Lengths and positions count characters (UTF-8 sequences), so full-width
 *   digits typed with an IME get "character 1 is not a digit" rather than a
 *   byte count; any non-ASCII byte fails, so an accepted number is always
 *   exactly 18 ASCII bytes.
 * - Messages quote at most the area code or the birth date; never more than
 *   six digits of the number in a row (the fuzz target checks this).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rhis/idnum.h"

/* ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 and the sum mod 11 -> char. */
static const int weights[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                3, 7, 9,  10, 5, 8, 4, 2};
static const char check_chars[] = "10X98765432";

/* GB/T 2260 province-level codes, as inclusive ranges of the first two
 * digits. */
static const struct {
    int lo, hi;
} provinces[] = {
    {11, 15}, {21, 23}, {31, 37}, {41, 46},
    {50, 54}, {61, 65}, {71, 71}, {81, 83},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The value of the n ASCII digits at p (the caller has checked them). */
static int
digits_value(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* Writes the message to err if there is room; always returns RHIS_EINVAL. */
static rhis_status __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RHIS_EINVAL;
}

/* Characters in s: every byte except UTF-8 continuation bytes. */
static size_t
count_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

static int
is_province(int code)
{
    for (size_t i = 0; i < N(provinces); i++)
        if (code >= provinces[i].lo && code <= provinces[i].hi)
            return 1;
    return 0;
}

static int
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/*
 * Today's date in China Standard Time as y * 10000 + m * 100 + d, from the
 * days-since-epoch to civil date conversion of H. Hinnant ("chrono-
 * compatible low-level date algorithms"); valid for every time_t value.
 */
static long long
today_cst(time_t now)
{
    const long long day = 86400, cst = 8LL * 3600;
    long long t = (long long)now;
    long long z = t / day;
    long long rem = t % day;
    if (rem < 0) {
        rem += day;
        z--;
    }
    if (rem + cst >= day)
        z++;
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    long long y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    return y * 10000 + m * 100 + d;
}

char
rhis_idnum_check_char(const char *first17)
{
    if (first17 == NULL)
        return '\0';
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        /* stops at the terminating NUL, which is not a digit */
        if (!is_digit((unsigned char)first17[i]))
            return '\0';
        sum += (first17[i] - '0') * weights[i];
    }
    return check_chars[sum % 11];
}

/*
 * Checks that s is 18 characters, 17 digits then a digit or X/x.  On
 * success s is exactly 18 ASCII bytes.
 */
static rhis_status
check_chars_of(const char *s, char *err, size_t errlen)
{
    size_t n = count_chars(s);
    if (n != RHIS_IDNUM_LEN)
        return fail(err, errlen, "ID number must be 18 characters (got %zu)",
                    n);
    const unsigned char *p = (const unsigned char *)s;
    size_t pos = 0;
    for (size_t i = 0; p[i] != '\0'; i++) {
        if ((p[i] & 0xC0) != 0x80)
            pos++;
        int ok = is_digit(p[i]) ||
                 (pos == RHIS_IDNUM_LEN && (p[i] == 'X' || p[i] == 'x'));
        if (ok)
            continue;
        /* a stray continuation byte first belongs to no character yet */
        size_t at = pos == 0 ? 1 : pos;
        if (at < RHIS_IDNUM_LEN)
            return fail(err, errlen, "ID number character %zu is not a digit",
                        at);
        return fail(err, errlen, "ID number character 18 is not a digit or X");
    }
    return RHIS_OK;
}

rhis_status
rhis_idnum_check_at(
    const char *s, time_t now, rhis_idnum *out, char *err, size_t errlen)
{
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (s == NULL)
        return fail(err, errlen, "ID number is missing");
    rhis_status st = check_chars_of(s, err, errlen);
    if (st != RHIS_OK)
        return st;

    int province = digits_value(s, 2);
    if (!is_province(province))
        return fail(err, errlen,
                    "ID number area code %.6s is not a Chinese province", s);
    if (province < 71 && s[4] == '0' && s[5] == '0')
        return fail(err, errlen,
                    "ID number area code %.6s is not a county-level code", s);

    int y = digits_value(s + 6, 4);
    int m = digits_value(s + 10, 2);
    int d = digits_value(s + 12, 2);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return fail(err, errlen,
                    "ID number birth date %.4s-%.2s-%.2s is not a date", s + 6,
                    s + 10, s + 12);
    if (y < 1900)
        return fail(err, errlen,
                    "ID number birth date %.4s-%.2s-%.2s is before 1900-01-01",
                    s + 6, s + 10, s + 12);
    if ((long long)y * 10000 + (long long)m * 100 + d > today_cst(now))
        return fail(err, errlen,
                    "ID number birth date %.4s-%.2s-%.2s is in the future",
                    s + 6, s + 10, s + 12);

    char want = rhis_idnum_check_char(s);
    char got = s[17];
    if (got == 'x')
        got = 'X';
    if (got != want)
        return fail(err, errlen,
                    "ID number check character %c does not match the other "
                    "17 (ISO 7064 MOD 11-2): a character is mistyped",
                    got);

    if (out != NULL) {
        memcpy(out->normalised, s, RHIS_IDNUM_LEN);
        out->normalised[17] = got;
        out->normalised[RHIS_IDNUM_LEN] = '\0';
        memcpy(out->area, s, 6);
        out->area[6] = '\0';
        out->year = y;
        out->month = m;
        out->day = d;
        out->sequence = digits_value(s + 14, 3);
        out->sex = out->sequence % 2 == 1 ? 'M' : 'F';
        out->check = got;
    }
    return RHIS_OK;
}

rhis_status
rhis_idnum_check(const char *s, rhis_idnum *out, char *err, size_t errlen)
{
    return rhis_idnum_check_at(s, time(NULL), out, err, errlen);
}

int
rhis_idnum_sex_agrees(const rhis_idnum *id, char sex)
{
    if (id == NULL || (id->sex != 'M' && id->sex != 'F'))
        return 0;
    if (sex == 'm')
        sex = 'M';
    else if (sex == 'f')
        sex = 'F';
    return sex == id->sex;
}

void
rhis_idnum_mask(const char *s, char out[RHIS_IDNUM_LEN + 1])
{
    memset(out, '*', RHIS_IDNUM_LEN);
    out[RHIS_IDNUM_LEN] = '\0';
    /* strnlen: a long or unterminated-looking input is read no further */
    if (s == NULL || strnlen(s, RHIS_IDNUM_LEN + 1) != RHIS_IDNUM_LEN)
        return;
    for (int i = 0; i < RHIS_IDNUM_LEN; i++) {
        if (i >= 6 && i < 14)
            continue;
        unsigned char c = (unsigned char)s[i];
        if (c == 'x')
            c = 'X';
        if (is_digit(c) || c == 'X')
            out[i] = (char)c;
    }
}
