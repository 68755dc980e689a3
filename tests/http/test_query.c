/*
 * test_query.c - unit tests for percent-decoding and query-string parsing
 * (src/http/query.c).
 *
 * Why: FHIR search depends on repeated parameters in their order and on
 * exact decoding; a malformed escape or invalid UTF-8 must become a 400,
 * never a silently mangled search value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "rhis/http.h"

static int
arena_setup(void **state)
{
    *state = rhis_arena_new();
    return 0;
}

static int
arena_teardown(void **state)
{
    rhis_arena_free(*state);
    return 0;
}

static rhis_status
parse(rhis_arena *a, const char *qs, rhis_query *q)
{
    memset(q, 0x5a, sizeof(*q));
    return rhis_query_parse(a, qs, strlen(qs), q);
}

static void
pairs_are_decoded_in_order_with_repeats(void **state)
{
    rhis_query q;
    assert_int_equal(parse(*state,
                           "name=%E5%8F%A3%E5%89%8D&tier=township_hc"
                           "&name=x&_count=10",
                           &q),
                     RHIS_OK);
    assert_int_equal(q.n, 4);
    assert_string_equal(q.kv[0].key, "name");
    assert_string_equal(q.kv[0].value, "口前");
    assert_string_equal(q.kv[1].key, "tier");
    assert_string_equal(q.kv[1].value, "township_hc");
    assert_string_equal(q.kv[2].key, "name");
    assert_string_equal(q.kv[2].value, "x");
    assert_string_equal(q.kv[3].key, "_count");
    assert_string_equal(q.kv[3].value, "10");
}

static void
plus_is_space_and_encoded_plus_is_plus(void **state)
{
    rhis_query q;
    assert_int_equal(parse(*state, "a+b=c+d&e=%2B1", &q), RHIS_OK);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.kv[0].key, "a b");
    assert_string_equal(q.kv[0].value, "c d");
    assert_string_equal(q.kv[1].value, "+1");
}

static void
missing_and_empty_values_and_empty_pairs(void **state)
{
    rhis_query q;
    assert_int_equal(parse(*state, "flag&&x=&y==1&", &q), RHIS_OK);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.kv[0].key, "flag");
    assert_string_equal(q.kv[0].value, "");
    assert_string_equal(q.kv[1].key, "x");
    assert_string_equal(q.kv[1].value, "");
    assert_string_equal(q.kv[2].key, "y");
    assert_string_equal(q.kv[2].value, "=1"); /* only the first '=' splits */
    assert_int_equal(parse(*state, "", &q), RHIS_OK);
    assert_int_equal(q.n, 0);
    assert_int_equal(parse(*state, "&&&", &q), RHIS_OK);
    assert_int_equal(q.n, 0);
}

static void
empty_key_is_einval(void **state)
{
    rhis_query q;
    assert_int_equal(parse(*state, "=1", &q), RHIS_EINVAL);
    assert_int_equal(parse(*state, "a=1&=2", &q), RHIS_EINVAL);
}

static void
bad_escapes_and_bad_utf8_are_einval(void **state)
{
    static const char *const bad[] = {
        "a=%",
        "a=%4",
        "a=%zz",
        "a=%4g",
        "%=1",
        "a=%00",          /* NUL */
        "a=%C3%28",       /* bad continuation */
        "a=%C0%AF",       /* overlong */
        "a=%ED%A0%80",    /* surrogate */
        "a=%F4%90%80%80", /* above U+10FFFF */
        "a=%E5%8F",       /* truncated */
        "a=%FF",
    };
    rhis_query q;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rhis_status st = parse(*state, bad[i], &q);
        if (st != RHIS_EINVAL)
            print_error("accepted %s\n", bad[i]);
        assert_int_equal(st, RHIS_EINVAL);
    }
}

static void
parameter_count_is_capped(void **state)
{
    char qs[1024];
    size_t n = 0;
    rhis_query q;
    for (int i = 0; i < RHIS_MAX_QUERY_PARAMS; i++)
        n += (size_t)snprintf(qs + n, sizeof(qs) - n, "%sk=%d",
                              i > 0 ? "&" : "", i);
    assert_int_equal(rhis_query_parse(*state, qs, n, &q), RHIS_OK);
    assert_int_equal(q.n, RHIS_MAX_QUERY_PARAMS);
    assert_string_equal(q.kv[RHIS_MAX_QUERY_PARAMS - 1].value, "63");
    /* empty pairs do not count */
    n += (size_t)snprintf(qs + n, sizeof(qs) - n, "&&");
    assert_int_equal(rhis_query_parse(*state, qs, n, &q), RHIS_OK);
    n += (size_t)snprintf(qs + n, sizeof(qs) - n, "k=64");
    assert_int_equal(rhis_query_parse(*state, qs, n, &q), RHIS_ETOOBIG);
}

static void
length_bounds_the_query(void **state)
{
    rhis_query q;
    assert_int_equal(rhis_query_parse(*state, "a=1&b=2", 3, &q), RHIS_OK);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.kv[0].value, "1");
    /* an escape cut by len is malformed */
    assert_int_equal(rhis_query_parse(*state, "a=%41", 4, &q), RHIS_EINVAL);
}

static void
url_decode_decodes_and_keeps_plus_outside_queries(void **state)
{
    rhis_arena *a = *state;
    assert_string_equal(rhis_url_decode(a, "/fhir/Organization/a%2Fb", 24, 0),
                        "/fhir/Organization/a/b");
    assert_string_equal(rhis_url_decode(a, "a+b", 3, 0), "a+b");
    assert_string_equal(rhis_url_decode(a, "a+b", 3, 1), "a b");
    assert_string_equal(rhis_url_decode(a, "%e6%b0%b8%E5%90%89", 18, 0),
                        "永吉");
    assert_string_equal(rhis_url_decode(a, "", 0, 0), "");
    assert_string_equal(rhis_url_decode(a, "%25", 3, 0), "%");
    assert_string_equal(rhis_url_decode(a, "永吉", strlen("永吉"), 0), "永吉");
    assert_null(rhis_url_decode(a, "%2", 2, 0));
    assert_null(rhis_url_decode(a, "%%41", 4, 0));
    assert_null(rhis_url_decode(a, "%00", 3, 0));
    assert_null(rhis_url_decode(a, "\xff", 1, 0)); /* raw invalid UTF-8 */
    assert_null(rhis_url_decode(a, "a\0b", 3, 0)); /* raw NUL */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pairs_are_decoded_in_order_with_repeats,
                                        arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(plus_is_space_and_encoded_plus_is_plus,
                                        arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(
            missing_and_empty_values_and_empty_pairs, arena_setup,
            arena_teardown),
        cmocka_unit_test_setup_teardown(empty_key_is_einval, arena_setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(bad_escapes_and_bad_utf8_are_einval,
                                        arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(parameter_count_is_capped, arena_setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(length_bounds_the_query, arena_setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(
            url_decode_decodes_and_keeps_plus_outside_queries, arena_setup,
            arena_teardown),
    };
    return cmocka_run_group_tests_name("http query", tests, NULL, NULL);
}
