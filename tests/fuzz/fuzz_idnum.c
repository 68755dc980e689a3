/*
 * fuzz_idnum.c - libFuzzer target for the resident identity number
 * validator (src/registry/idnum.c).
 *
 * Why: identity numbers arrive from every import file and registration
 * form, typed, scanned or pasted, so the validator sees arbitrary bytes.
 * The input is copied into a fixed NUL-terminated buffer (no allocation;
 * longer inputs are cut, which still exercises the length check).
 * Oracles beyond "no crash":
 * - accepted numbers are 18 characters of digits and X whose last one is
 *   the check character recomputed from the first 17, with the parts
 *   agreeing with the text (sex with sequence parity);
 * - a rejected number gets a non-empty message that never carries more
 *   than six digits in a row (an area code), so it cannot hold the number;
 * - the mask is always 18 characters of digits, X and '*', starred in the
 *   middle.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/idnum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2024-06-01 00:00:00 UTC: a fixed "today" keeps runs reproducible. */
#define FUZZ_NOW ((time_t)1717200000)

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void
check_accepted(const rhis_idnum *id)
{
    const char *n = id->normalised;
    if (strlen(n) != RHIS_IDNUM_LEN)
        abort();
    for (int i = 0; i < 17; i++)
        if (!is_digit(n[i]))
            abort();
    if (rhis_idnum_check_char(n) != n[17] || id->check != n[17])
        abort();
    if (memcmp(id->area, n, 6) != 0 || id->area[6] != '\0')
        abort();
    if (id->year < 1900 || id->month < 1 || id->month > 12 || id->day < 1 ||
        id->day > 31)
        abort();
    if (id->sequence < 0 || id->sequence > 999 ||
        id->sex != (id->sequence % 2 == 1 ? 'M' : 'F'))
        abort();
    if (rhis_idnum_sex_agrees(id, id->sex) != 1)
        abort();
}

static void
check_rejected(const char *err, size_t errlen)
{
    if (memchr(err, '\0', errlen) == NULL || err[0] == '\0')
        abort();
    size_t run = 0;
    for (const char *p = err; *p != '\0'; p++) {
        run = is_digit(*p) ? run + 1 : 0;
        if (run > 6)
            abort();
    }
}

static void
check_mask(const char *s)
{
    char out[RHIS_IDNUM_LEN + 1];
    rhis_idnum_mask(s, out);
    if (strlen(out) != RHIS_IDNUM_LEN)
        abort();
    for (int i = 0; i < RHIS_IDNUM_LEN; i++) {
        if (i >= 6 && i < 14 && out[i] != '*')
            abort();
        if (out[i] != '*' && out[i] != 'X' && !is_digit(out[i]))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';

    rhis_idnum id;
    char err[256];
    rhis_status st = rhis_idnum_check_at(s, FUZZ_NOW, &id, err, sizeof(err));
    if (st == RHIS_OK) {
        check_accepted(&id);
        /* accepted means the input itself was the normalised number, up to
         * the case of a final x */
        if (strlen(s) != RHIS_IDNUM_LEN || memcmp(s, id.normalised, 17) != 0)
            abort();
    } else if (st == RHIS_EINVAL) {
        check_rejected(err, sizeof(err));
        if (id.normalised[0] != '\0' || id.sex != '\0')
            abort();
    } else {
        abort();
    }

    /* the same answer without out-params; the real clock only for
     * coverage (its answer for a date after FUZZ_NOW varies with it) */
    if (rhis_idnum_check_at(s, FUZZ_NOW, NULL, NULL, 0) != st)
        abort();
    (void)rhis_idnum_check(s, NULL, NULL, 0);

    /* the check character is total over 17 digits, '\0' otherwise */
    char c = rhis_idnum_check_char(s);
    int body = strlen(s) >= 17;
    for (int i = 0; body && i < 17; i++)
        body = is_digit(s[i]);
    if (body ? strchr("0123456789X", c) == NULL || c == '\0' : c != '\0')
        abort();

    check_mask(s);
    return 0;
}
