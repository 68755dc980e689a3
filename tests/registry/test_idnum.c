/*
 * test_idnum.c - unit tests for the resident identity number validator
 * (src/registry/idnum.c, include/rhis/idnum.h).
 *
 * Why: the master patient index links records on this number; a validator
 * that lets a typo through creates a duplicate patient, one that rejects a
 * real card locks a resident out, and one whose message repeats the number
 * leaks personal data into whatever displays or stores the error.  Every
 * fault gets its exact message, every failure is checked for leaks, and a
 * property test covers the check character over 10 000 generated numbers.
 * All dates are judged against a pinned "now".
 */
#include "testutil.h"

#include "rhis/idnum.h"

/* 2024-06-01 00:00:00 UTC, i.e. 08:00 on 2024-06-01 in Beijing. */
#define NOW_20240601 ((time_t)1717200000)
/* 2024-05-31 16:00:00 UTC, i.e. midnight starting 2024-06-01 in Beijing. */
#define CST_MIDNIGHT_20240601 ((time_t)1717171200)

/* Builds a valid-shape number: 17 digits from the parts plus check. */
static void
make_id(const char *area, int y, int m, int d, int seq, char out[19])
{
    int n = snprintf(out, 19, "%.6s%04d%02d%02d%03d", area, y, m, d, seq);
    assert_int_equal(n, 17);
    out[17] = rhis_idnum_check_char(out);
    assert_true(out[17] != '\0');
    out[18] = '\0';
}

/* The longest run of ASCII digits in s. */
static size_t
longest_digit_run(const char *s)
{
    size_t best = 0, run = 0;
    for (; *s != '\0'; s++) {
        run = *s >= '0' && *s <= '9' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

/* Asserts that s fails at now with exactly msg, leaking nothing. */
static void
expect_fault_at(const char *s, time_t now, const char *msg)
{
    rhis_idnum id;
    char err[128];
    memset(&id, 0xAA, sizeof(id));
    rhis_status st = rhis_idnum_check_at(s, now, &id, err, sizeof(err));
    if (st != RHIS_EINVAL || strcmp(err, msg) != 0)
        print_error("want \"%s\", got %d \"%s\"\n", msg, (int)st, err);
    assert_int_equal(st, RHIS_EINVAL);
    assert_string_equal(err, msg);
    /* out is cleared, not left half-filled */
    assert_int_equal(id.normalised[0], '\0');
    assert_int_equal(id.sex, '\0');
    assert_int_equal(id.year, 0);
    /* never the whole number, never more than an area code in a row */
    if (s != NULL && s[0] != '\0')
        assert_null(strstr(err, s));
    assert_true(longest_digit_run(err) <= 6);
}

static void
expect_fault(const char *s, const char *msg)
{
    expect_fault_at(s, NOW_20240601, msg);
}

static void
expect_valid_at(const char *s, time_t now)
{
    char err[128];
    rhis_status st = rhis_idnum_check_at(s, now, NULL, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("rejected: %s\n", err);
    assert_int_equal(st, RHIS_OK);
    assert_string_equal(err, "");
}

static void
expect_valid(const char *s)
{
    expect_valid_at(s, NOW_20240601);
}

/* ---- check character ---- */

static void
check_char_matches_known_numbers(void **state)
{
    (void)state;
    /* the example of GB 11643-1999 itself */
    assert_int_equal(rhis_idnum_check_char("11010519491231002"), 'X');
    assert_int_equal(rhis_idnum_check_char("44052418800101001"), '4');
    assert_int_equal(rhis_idnum_check_char("22022119900512123"), '7');
    /* a full number may be passed: only 17 characters are read */
    assert_int_equal(rhis_idnum_check_char("220221199005121237"), '7');
    assert_int_equal(rhis_idnum_check_char("2202211990051212"), '\0');
    assert_int_equal(rhis_idnum_check_char("2202211990051212a"), '\0');
    assert_int_equal(rhis_idnum_check_char(""), '\0');
    assert_int_equal(rhis_idnum_check_char(NULL), '\0');
}

/* ---- valid numbers ---- */

static void
valid_yongji_number_parses_into_parts(void **state)
{
    (void)state;
    char s[19];
    make_id("220221", 1990, 5, 12, 123, s);
    assert_string_equal(s, "220221199005121237");

    rhis_idnum id;
    char err[128] = "stale";
    assert_int_equal(
        rhis_idnum_check_at(s, NOW_20240601, &id, err, sizeof(err)), RHIS_OK);
    assert_string_equal(err, "");
    assert_string_equal(id.normalised, s);
    assert_string_equal(id.area, "220221");
    assert_int_equal(id.year, 1990);
    assert_int_equal(id.month, 5);
    assert_int_equal(id.day, 12);
    assert_int_equal(id.sequence, 123);
    assert_int_equal(id.sex, 'M');
    assert_int_equal(id.check, '7');

    /* the standard's example, a Beijing Chaoyang woman born 1949 */
    expect_valid("11010519491231002X");
    /* other provinces, sequence 000 and 999, a recent birth */
    make_id("110105", 1985, 1, 1, 2, s);
    expect_valid(s);
    make_id("650102", 2023, 12, 31, 999, s);
    expect_valid(s);
    make_id("460201", 1960, 7, 15, 0, s);
    expect_valid(s);

    /* with the real clock too */
    make_id("220221", 1990, 5, 12, 124, s);
    assert_int_equal(rhis_idnum_check(s, &id, NULL, 0), RHIS_OK);
    assert_int_equal(id.sex, 'F');
}

static void
lowercase_x_is_normalised(void **state)
{
    (void)state;
    char s[19];
    int seq;
    /* find a Yongji 1990-05-12 sequence whose check character is X */
    for (seq = 0; seq < 1000; seq++) {
        make_id("220221", 1990, 5, 12, seq, s);
        if (s[17] == 'X')
            break;
    }
    assert_true(seq < 1000);
    s[17] = 'x';

    rhis_idnum id;
    char err[128];
    assert_int_equal(
        rhis_idnum_check_at(s, NOW_20240601, &id, err, sizeof(err)), RHIS_OK);
    assert_int_equal(id.check, 'X');
    assert_int_equal(id.normalised[17], 'X');
    assert_memory_equal(id.normalised, s, 17);
    assert_int_equal(strlen(id.normalised), 18);
    /* the input itself is not touched */
    assert_int_equal(s[17], 'x');
}

/* ---- faults, each with its exact message ---- */

static void
wrong_length_is_named_with_the_count(void **state)
{
    (void)state;
    expect_fault("22022119900512123",
                 "ID number must be 18 characters (got 17)");
    expect_fault("2202211990051212377",
                 "ID number must be 18 characters (got 19)");
    expect_fault("", "ID number must be 18 characters (got 0)");
    expect_fault(" 220221199005121237",
                 "ID number must be 18 characters (got 19)");
    /* the old 15-digit numbers are not accepted as such */
    expect_fault("220221900512123", "ID number must be 18 characters (got 15)");
    expect_fault(NULL, "ID number is missing");
}

static void
non_digit_is_named_by_position(void **state)
{
    (void)state;
    expect_fault("2202A1199005121237", "ID number character 5 is not a digit");
    expect_fault("X20221199005121237", "ID number character 1 is not a digit");
    expect_fault("2202211990051212X7", "ID number character 17 is not a digit");
    expect_fault("22022119900512123Y",
                 "ID number character 18 is not a digit or X");
    expect_fault("22022119900512123-",
                 "ID number character 18 is not a digit or X");
    expect_fault("220221 99005121237", "ID number character 7 is not a digit");
    /* 18 full-width digits (3 bytes each) are 18 characters, not 54 */
    expect_fault("２２０２２１１９９００５１２１２３７",
                 "ID number character 1 is not a digit");
    /* a non-ASCII character among ASCII ones keeps the count honest */
    expect_fault("22022１199005121237", "ID number character 6 is not a digit");
    expect_fault("22022119900512123７",
                 "ID number character 18 is not a digit or X");
    /* a stray UTF-8 continuation byte never slips through */
    expect_fault("\x80"
                 "220221199005121237",
                 "ID number character 1 is not a digit");
    expect_fault("2202211990\x80"
                 "05121237",
                 "ID number character 10 is not a digit");
}

static void
area_code_must_be_a_province_and_county(void **state)
{
    (void)state;
    char s[19];
    make_id("990101", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 990101 is not a Chinese province");
    make_id("000000", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 000000 is not a Chinese province");
    make_id("160101", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 160101 is not a Chinese province");
    make_id("840000", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 840000 is not a Chinese province");
    make_id("220200", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 220200 is not a county-level code");
    make_id("220000", 1990, 5, 12, 123, s);
    expect_fault(s, "ID number area code 220000 is not a county-level code");

    /* every province prefix of the list, first and last of each range */
    static const char *const ok[] = {"110101", "150102", "210102", "230102",
                                     "310101", "370102", "410102", "460106",
                                     "500101", "540102", "610102", "650102"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        make_id(ok[i], 1990, 5, 12, 123, s);
        expect_valid(s);
    }
    /* Taiwan, Hong Kong and Macao have no county codes */
    make_id("710000", 1990, 5, 12, 123, s);
    expect_valid(s);
    make_id("810000", 1990, 5, 12, 123, s);
    expect_valid(s);
    make_id("820000", 1990, 5, 12, 123, s);
    expect_valid(s);
    /* residence permits of Taiwan residents */
    make_id("830000", 1990, 5, 12, 123, s);
    expect_valid(s);
    /* codes retired from GB/T 2260 stay valid on issued cards: 110224 was
     * Daxing county before it became Daxing district (110115) */
    make_id("110224", 1962, 8, 30, 41, s);
    expect_valid(s);
}

static void
birth_date_must_be_a_real_past_date(void **state)
{
    (void)state;
    char s[19];
    /* make_id writes any digits; the check char is right so only the date
     * can fail */
    make_id("220221", 1990, 2, 30, 123, s);
    expect_fault(s, "ID number birth date 1990-02-30 is not a date");
    make_id("220221", 1990, 13, 1, 123, s);
    expect_fault(s, "ID number birth date 1990-13-01 is not a date");
    make_id("220221", 1990, 0, 1, 123, s);
    expect_fault(s, "ID number birth date 1990-00-01 is not a date");
    make_id("220221", 1990, 1, 0, 123, s);
    expect_fault(s, "ID number birth date 1990-01-00 is not a date");
    make_id("220221", 1990, 4, 31, 123, s);
    expect_fault(s, "ID number birth date 1990-04-31 is not a date");
    make_id("220221", 1990, 12, 32, 123, s);
    expect_fault(s, "ID number birth date 1990-12-32 is not a date");

    /* leap years: divisible by 4, except centuries not divisible by 400 */
    make_id("220221", 2000, 2, 29, 123, s);
    expect_valid(s);
    make_id("220221", 1996, 2, 29, 123, s);
    expect_valid(s);
    make_id("220221", 1900, 2, 29, 123, s);
    expect_fault(s, "ID number birth date 1900-02-29 is not a date");
    make_id("220221", 1999, 2, 29, 123, s);
    expect_fault(s, "ID number birth date 1999-02-29 is not a date");

    /* the lower bound */
    make_id("220221", 1900, 1, 1, 123, s);
    expect_valid(s);
    make_id("220221", 1899, 12, 31, 123, s);
    expect_fault(s, "ID number birth date 1899-12-31 is before 1900-01-01");
    expect_fault("440524188001010014",
                 "ID number birth date 1880-01-01 is before 1900-01-01");
    make_id("220221", 0, 1, 1, 123, s);
    expect_fault(s, "ID number birth date 0000-01-01 is before 1900-01-01");
}

static void
future_birth_date_is_rejected_in_beijing_time(void **state)
{
    (void)state;
    char s[19];
    /* born today is fine, tomorrow is not */
    make_id("220221", 2024, 6, 1, 123, s);
    expect_valid_at(s, NOW_20240601);
    make_id("220221", 2024, 6, 2, 123, s);
    expect_fault(s, "ID number birth date 2024-06-02 is in the future");
    make_id("220221", 2025, 1, 1, 123, s);
    expect_fault(s, "ID number birth date 2025-01-01 is in the future");
    make_id("220221", 9999, 12, 31, 123, s);
    expect_fault(s, "ID number birth date 9999-12-31 is in the future");

    /* 2024-06-01 starts at 16:00 UTC the day before in Beijing */
    make_id("220221", 2024, 6, 1, 123, s);
    expect_valid_at(s, CST_MIDNIGHT_20240601);
    expect_fault_at(s, CST_MIDNIGHT_20240601 - 1,
                    "ID number birth date 2024-06-01 is in the future");
    /* a clock before 1970 still gives an answer, not a crash */
    make_id("220221", 1960, 1, 1, 123, s);
    expect_valid_at(s, (time_t)-200000000); /* 1963-08-31 */
    expect_fault_at(s, (time_t)-400000000,  /* 1957-04-29 */
                    "ID number birth date 1960-01-01 is in the future");
}

static void
wrong_check_character_names_both(void **state)
{
    (void)state;
    expect_fault("220221199005121233",
                 "ID number check character 3 does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
    expect_fault("22022119900512123X",
                 "ID number check character X does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
    expect_fault("22022119900512123x",
                 "ID number check character X does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
    expect_fault("110105194912310021",
                 "ID number check character 1 does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
    /* a single mistyped digit in the body is caught */
    expect_fault("220221199005121337",
                 "ID number check character 7 does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
    /* so is a swap of two neighbours */
    expect_fault("220221199005121327",
                 "ID number check character 7 does not match the other "
                 "17 (ISO 7064 MOD 11-2): a character is mistyped");
}

static void
errors_fit_any_buffer(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'z', sizeof(err));
    assert_int_equal(rhis_idnum_check_at("220221199005121233", NOW_20240601,
                                         NULL, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_string_equal(err, "ID numb");
    assert_int_equal(rhis_idnum_check_at("1", NOW_20240601, NULL, NULL, 0),
                     RHIS_EINVAL);
    err[0] = 'z';
    assert_int_equal(rhis_idnum_check_at("1", NOW_20240601, NULL, err, 0),
                     RHIS_EINVAL);
    assert_int_equal(err[0], 'z');
}

/* ---- sex and masking ---- */

static void
sex_comes_from_sequence_parity(void **state)
{
    (void)state;
    char s[19];
    rhis_idnum id;
    for (int seq = 0; seq < 20; seq++) {
        make_id("220221", 1990, 5, 12, seq, s);
        assert_int_equal(rhis_idnum_check_at(s, NOW_20240601, &id, NULL, 0),
                         RHIS_OK);
        char want = seq % 2 == 1 ? 'M' : 'F';
        assert_int_equal(id.sex, want);
        assert_int_equal(rhis_idnum_sex_agrees(&id, want), 1);
        assert_int_equal(rhis_idnum_sex_agrees(&id, want == 'M' ? 'm' : 'f'),
                         1);
        assert_int_equal(rhis_idnum_sex_agrees(&id, want == 'M' ? 'F' : 'M'),
                         0);
        assert_int_equal(rhis_idnum_sex_agrees(&id, 'U'), 0);
        assert_int_equal(rhis_idnum_sex_agrees(&id, '1'), 0);
        assert_int_equal(rhis_idnum_sex_agrees(&id, '\0'), 0);
    }
    assert_int_equal(rhis_idnum_sex_agrees(NULL, 'M'), 0);
    /* a failed check leaves no sex to agree with */
    assert_int_equal(rhis_idnum_check_at("1", NOW_20240601, &id, NULL, 0),
                     RHIS_EINVAL);
    assert_int_equal(rhis_idnum_sex_agrees(&id, 'M'), 0);
    assert_int_equal(rhis_idnum_sex_agrees(&id, 'F'), 0);
}

static void
mask_keeps_first_six_and_last_four(void **state)
{
    (void)state;
    char out[19];
    rhis_idnum_mask("22022119900512123X", out);
    assert_string_equal(out, "220221********123X");
    rhis_idnum_mask("22022119900512123x", out);
    assert_string_equal(out, "220221********123X");
    rhis_idnum_mask("220221199005121237", out);
    assert_string_equal(out, "220221********1237");
    /* malformed input never shows more than digits and X */
    rhis_idnum_mask("2202211990051212", out);
    assert_string_equal(out, "******************");
    rhis_idnum_mask("2202211990051212377", out);
    assert_string_equal(out, "******************");
    rhis_idnum_mask("", out);
    assert_string_equal(out, "******************");
    rhis_idnum_mask(NULL, out);
    assert_string_equal(out, "******************");
    rhis_idnum_mask("ab0221199005121<3>", out);
    assert_string_equal(out, "**0221********1*3*");
}

/* ---- property: the check character catches every wrong last char ---- */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
next_rand(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

static int
rand_below(uint64_t *x, int n)
{
    return (int)(next_rand(x) % (uint64_t)n);
}

static void
computed_check_char_is_the_only_one_accepted(void **state)
{
    (void)state;
    static const int prov[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33,
                               34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
                               51, 52, 53, 54, 61, 62, 63, 64, 65};
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    static const char all[] = "0123456789X";
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    int accepted = 0, rejected = 0, males = 0;

    for (int i = 0; i < 10000; i++) {
        int p = prov[rand_below(&x, (int)(sizeof(prov) / sizeof(prov[0])))];
        int city = rand_below(&x, 100);
        int county = 1 + rand_below(&x, 99);
        int y = 1900 + rand_below(&x, 2024 - 1900); /* up to 2023 */
        int m = 1 + rand_below(&x, 12);
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int d = 1 + rand_below(&x, dim[m - 1] + (m == 2 && leap));
        int seq = rand_below(&x, 1000);
        char area[16], s[19];
        (void)snprintf(area, sizeof(area), "%02d%02d%02d", p, city, county);
        make_id(area, y, m, d, seq, s);

        rhis_idnum id;
        char err[128];
        rhis_status st =
            rhis_idnum_check_at(s, NOW_20240601, &id, err, sizeof(err));
        if (st != RHIS_OK)
            print_error("#%d rejected: %s\n", i, err);
        assert_int_equal(st, RHIS_OK);
        assert_int_equal(id.year * 10000 + id.month * 100 + id.day,
                         y * 10000 + m * 100 + d);
        assert_int_equal(id.sequence, seq);
        males += id.sex == 'M';
        accepted++;

        char good = s[17];
        for (const char *c = all; *c != '\0'; c++) {
            if (*c == good)
                continue;
            s[17] = *c;
            st = rhis_idnum_check_at(s, NOW_20240601, NULL, err, sizeof(err));
            assert_int_equal(st, RHIS_EINVAL);
            char want[128];
            (void)snprintf(want, sizeof(want),
                           "ID number check character %c does not match the "
                           "other 17 (ISO 7064 MOD 11-2): a character is "
                           "mistyped",
                           *c);
            assert_string_equal(err, want);
            rejected++;
        }
        s[17] = good;
        if (good == 'X')
            s[17] = 'x';
        assert_int_equal(rhis_idnum_check_at(s, NOW_20240601, NULL, NULL, 0),
                         RHIS_OK);
    }
    assert_int_equal(accepted, 10000);
    assert_int_equal(rejected, 100000);
    /* the generator is not degenerate: both sexes show up */
    assert_in_range(males, 4000, 6000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_char_matches_known_numbers),
        cmocka_unit_test(valid_yongji_number_parses_into_parts),
        cmocka_unit_test(lowercase_x_is_normalised),
        cmocka_unit_test(wrong_length_is_named_with_the_count),
        cmocka_unit_test(non_digit_is_named_by_position),
        cmocka_unit_test(area_code_must_be_a_province_and_county),
        cmocka_unit_test(birth_date_must_be_a_real_past_date),
        cmocka_unit_test(future_birth_date_is_rejected_in_beijing_time),
        cmocka_unit_test(wrong_check_character_names_both),
        cmocka_unit_test(errors_fit_any_buffer),
        cmocka_unit_test(sex_comes_from_sequence_parity),
        cmocka_unit_test(mask_keeps_first_six_and_last_four),
        cmocka_unit_test(computed_check_char_is_the_only_one_accepted),
    };
    return cmocka_run_group_tests_name("idnum", tests, NULL, NULL);
}
