/*
 * test_csv.c - unit tests for the RFC 4180 reader (src/core/csv.c).
 *
 * Why: divisions, population and institution imports arrive as CSV from
 * spreadsheets; quoted commas and newlines must survive, line numbers must
 * be right for error messages, and malformed input must be refused (-1),
 * never crash or be silently mangled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "rhis/alloc.h"
#include "rhis/csv.h"
#include "testutil.h"

static void
plain_records_split_on_commas(void **state)
{
    static const char text[] = "code,name\n220221100,口前镇\n";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_int_equal(c.line, 1);
    assert_string_equal(f[0], "code");
    assert_string_equal(f[1], "name");
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_int_equal(c.line, 2);
    assert_string_equal(f[0], "220221100");
    assert_string_equal(f[1], "口前镇");
    assert_int_equal(rhis_csv_next(&c, &f), 0);
    assert_int_equal(rhis_csv_next(&c, &f), 0); /* EOF is sticky */
    rhis_csv_close(&c);
}

static void
empty_fields_are_counted(void **state)
{
    static const char text[] = "a,,c,\n,\n";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 4);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "");
    assert_string_equal(f[2], "c");
    assert_string_equal(f[3], "");
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[0], "");
    assert_string_equal(f[1], "");
    assert_int_equal(rhis_csv_next(&c, &f), 0);
    rhis_csv_close(&c);
}

static void
quoted_fields_keep_commas_quotes_and_newlines(void **state)
{
    static const char text[] =
        "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\n"
        "next,row\n";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 4);
    assert_int_equal(c.line, 1);
    assert_string_equal(f[0], "a,b");
    assert_string_equal(f[1], "say \"hi\"");
    assert_string_equal(f[2], "two\nlines");
    assert_string_equal(f[3], "");
    /* the record after a quoted newline starts on line 3 */
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_int_equal(c.line, 3);
    assert_string_equal(f[0], "next");
    rhis_csv_close(&c);
}

static void
crlf_cr_and_blank_lines_count_lines(void **state)
{
    static const char text[] = "a\r\n\r\nb\rc\n\n\nd";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 1);
    assert_string_equal(f[0], "a");
    assert_int_equal(c.line, 1);
    assert_int_equal(rhis_csv_next(&c, &f), 1);
    assert_string_equal(f[0], "b");
    assert_int_equal(c.line, 3);
    assert_int_equal(rhis_csv_next(&c, &f), 1);
    assert_string_equal(f[0], "c");
    assert_int_equal(c.line, 4);
    assert_int_equal(rhis_csv_next(&c, &f), 1); /* no final newline */
    assert_string_equal(f[0], "d");
    assert_int_equal(c.line, 7);
    assert_int_equal(rhis_csv_next(&c, &f), 0);
    rhis_csv_close(&c);
}

static void
utf8_bom_is_skipped(void **state)
{
    static const char text[] = "\xef\xbb\xbf"
                               "code,name\n1,x\n";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[0], "code");
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[0], "1");
    rhis_csv_close(&c);
}

static void
first_field_starting_with_ef_byte_is_not_a_bom(void **state)
{
    /* U+FF08 FULLWIDTH LEFT PARENTHESIS is EF BC 88: a common first
     * character of a Chinese cell, and not a BOM */
    static const char text[] = "（注）,x\n";
    rhis_csv c;
    char **f;
    (void)state;
    rhis_csv_open_mem(&c, text, sizeof(text) - 1);
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[0], "（注）");
    rhis_csv_close(&c);
}

static void
malformed_records_return_minus_one_with_line(void **state)
{
    static const char *const bad[] = {
        "a,\"unterminated\n", /* quote never closed */
        "a,b\"c\n",           /* stray quote inside a bare field */
        "a,\"q\"x\n",         /* text after closing quote */
        "a,\"q\" \n",         /* even a space */
        "ok\nnul\0here\n",    /* NUL byte (line 2) */
    };
    static const size_t lens[] = {16, 6, 7, 7, 12};
    static const long lines[] = {1, 1, 1, 1, 2};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rhis_csv c;
        char **f;
        int n;
        rhis_csv_open_mem(&c, bad[i], lens[i]);
        while ((n = rhis_csv_next(&c, &f)) > 0)
            ;
        if (n != -1)
            print_error("case %zu: %d\n", i, n);
        assert_int_equal(n, -1);
        assert_int_equal(c.line, lines[i]);
        rhis_csv_close(&c);
    }
}

static void
field_count_cap_is_exact(void **state)
{
    char text[256];
    size_t n = 0;
    rhis_csv c;
    char **f;
    (void)state;
    /* 64 fields: fine */
    for (int i = 0; i < RHIS_CSV_MAX_FIELDS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%d",
                              i > 0 ? "," : "", i % 10);
    rhis_csv_open_mem(&c, text, n);
    assert_int_equal(rhis_csv_next(&c, &f), RHIS_CSV_MAX_FIELDS);
    assert_string_equal(f[RHIS_CSV_MAX_FIELDS - 1], "3");
    rhis_csv_close(&c);
    /* 65 fields: refused */
    n += (size_t)snprintf(text + n, sizeof(text) - n, ",x");
    rhis_csv_open_mem(&c, text, n);
    assert_int_equal(rhis_csv_next(&c, &f), -1);
    rhis_csv_close(&c);
}

static void
record_size_cap_is_enforced(void **state)
{
    size_t n = RHIS_CSV_MAX_RECORD + 10;
    char *text = rhis_xmalloc(n);
    rhis_csv c;
    char **f;
    (void)state;
    memset(text, 'a', n);
    rhis_csv_open_mem(&c, text, n);
    assert_int_equal(rhis_csv_next(&c, &f), -1);
    rhis_csv_close(&c);
    /* a quoted field over the cap too */
    text[0] = '"';
    rhis_csv_open_mem(&c, text, n);
    assert_int_equal(rhis_csv_next(&c, &f), -1);
    rhis_csv_close(&c);
    rhis_free(text);
}

static void
file_reader_matches_memory_reader(void **state)
{
    char dir[64], path[128], err[256];
    rhis_csv c;
    char **f;
    (void)state;
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(rhis_test_write_file(dir, "x.csv",
                                          "\xef\xbb\xbf"
                                          "a,\"b\r\nc\"\r\n\r\nd,e\r\n",
                                          path, sizeof(path)),
                     0);
    assert_int_equal(rhis_csv_open(&c, path, err, sizeof(err)), RHIS_OK);
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[1], "b\r\nc");
    assert_int_equal(c.line, 1);
    assert_int_equal(rhis_csv_next(&c, &f), 2);
    assert_string_equal(f[0], "d");
    assert_int_equal(c.line, 4);
    assert_int_equal(rhis_csv_next(&c, &f), 0);
    rhis_csv_close(&c);
    unlink(path);
    rmdir(dir);
}

static void
open_missing_file_is_enotfound_with_message(void **state)
{
    rhis_csv c;
    char err[256] = "";
    (void)state;
    assert_int_equal(
        rhis_csv_open(&c, "/nonexistent/rhis/x.csv", err, sizeof(err)),
        RHIS_ENOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/rhis/x.csv"));
    rhis_csv_close(&c); /* safe after a failed open */
}

static void
parse_int_accepts_only_plain_digits(void **state)
{
    (void)state;
    assert_int_equal(rhis_parse_int("0"), 0);
    assert_int_equal(rhis_parse_int("2020"), 2020);
    assert_int_equal(rhis_parse_int("2147483647"), 2147483647);
    assert_int_equal(rhis_parse_int("2147483648"), -1);
    assert_int_equal(rhis_parse_int(""), -1);
    assert_int_equal(rhis_parse_int(NULL), -1);
    assert_int_equal(rhis_parse_int("-1"), -1);
    assert_int_equal(rhis_parse_int("+1"), -1);
    assert_int_equal(rhis_parse_int(" 1"), -1);
    assert_int_equal(rhis_parse_int("1 "), -1);
    assert_int_equal(rhis_parse_int("1.0"), -1);
    assert_int_equal(rhis_parse_int("0x10"), -1);
    assert_true(rhis_parse_int64("999999999999999999") == 999999999999999999LL);
    assert_true(rhis_parse_int64("9999999999999999999") == -1); /* 19 */
    assert_true(rhis_parse_int64("12a") == -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_records_split_on_commas),
        cmocka_unit_test(empty_fields_are_counted),
        cmocka_unit_test(quoted_fields_keep_commas_quotes_and_newlines),
        cmocka_unit_test(crlf_cr_and_blank_lines_count_lines),
        cmocka_unit_test(utf8_bom_is_skipped),
        cmocka_unit_test(first_field_starting_with_ef_byte_is_not_a_bom),
        cmocka_unit_test(malformed_records_return_minus_one_with_line),
        cmocka_unit_test(field_count_cap_is_exact),
        cmocka_unit_test(record_size_cap_is_enforced),
        cmocka_unit_test(file_reader_matches_memory_reader),
        cmocka_unit_test(open_missing_file_is_enotfound_with_message),
        cmocka_unit_test(parse_int_accepts_only_plain_digits),
    };
    return cmocka_run_group_tests_name("core csv", tests, NULL, NULL);
}
