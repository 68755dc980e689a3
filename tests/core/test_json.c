/*
 * test_json.c - unit tests for the strict JSON front end (src/core/json.c).
 *
 * Why: every request body passes through rhis_json_parse; json-c alone is
 * lenient (single quotes, NaN, duplicate keys, trailing commas).  These
 * cases pin down what the pre-checker refuses, that the error names the
 * byte offset, that depth is capped, and that numbers print as FHIR needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/json.h"

/* Parses a NUL-terminated text; returns the status, frees the object. */
static rhis_status
parse(const char *text, char *err, size_t errlen)
{
    json_object *o = NULL;
    rhis_status st = rhis_json_parse(text, strlen(text), 0, &o, err, errlen);
    if (st == RHIS_OK)
        assert_non_null(o);
    else
        assert_null(o);
    json_object_put(o);
    return st;
}

static void
valid_documents_parse(void **state)
{
    static const char *const ok[] = {
        "{}",
        "[]",
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}}",
        "  {\"a\" : -0.5e+10 }  \n",
        "[0, -0, 1.25, 1E3, 2e-3]",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}",
        "{\"zh\":\"永吉县\"}",
        "{\"emoji\":\"\\ud83d\\ude00\"}",
        "\"just a string\"",
        "[{\"a\":1},{\"a\":2}]", /* same key in different objects */
    };
    char err[128];
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        err[0] = '\0';
        rhis_status st = parse(ok[i], err, sizeof(err));
        if (st != RHIS_OK)
            print_error("rejected %s: %s\n", ok[i], err);
        assert_int_equal(st, RHIS_OK);
    }
}

static void
lenient_json_c_extensions_are_rejected(void **state)
{
    static const char *const bad[] = {
        "{'a':1}",                    /* single quotes */
        "{\"a\":NaN}",                /* NaN */
        "{\"a\":Infinity}",           /* Infinity */
        "[1,2,]",                     /* trailing comma in array */
        "{\"a\":1,}",                 /* trailing comma in object */
        "{\"a\":01}",                 /* leading zero */
        "{\"a\":1.}",                 /* no digits after point */
        "{\"a\":.5}",                 /* no digit before point */
        "{\"a\":1e}",                 /* empty exponent */
        "{\"a\":+1}",                 /* plus sign */
        "/* c */ {}",                 /* comment */
        "{\"a\":1} // c",             /* line comment */
        "{a:1}",                      /* bare key */
        "{\"a\":tru}",                /* bad literal */
        "{\"a\":\"x\ty\"}",           /* raw control char in string */
        "{\"a\":\"\\x41\"}",          /* bad escape */
        "{\"a\":\"\\u12\"}",          /* truncated \u */
        "{\"a\":\"\\u0000\"}",        /* NUL by escape */
        "{\"a\":\"\\udc00\"}",        /* lone low surrogate */
        "{\"a\":\"\\ud800\"}",        /* lone high surrogate */
        "{\"a\":\"\\ud800\\u0041\"}", /* bad pair */
        "{\"a\":\"abc}",              /* unterminated string */
        "{\"a\":1}{}",                /* trailing data */
        "{\"a\":1} x",                /* trailing garbage */
        "",                           /* empty */
        "   ",                        /* only whitespace */
        "{\"a\" 1}",                  /* missing colon */
        "[1 2]",                      /* missing comma */
        "null",                       /* null is not a document */
    };
    char err[128];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        rhis_status st = parse(bad[i], err, sizeof(err));
        if (st != RHIS_EINVAL)
            print_error("accepted %s\n", bad[i]);
        assert_int_equal(st, RHIS_EINVAL);
        assert_true(err[0] != '\0');
    }
}

static void
invalid_utf8_is_rejected(void **state)
{
    static const char *const bad[] = {
        "{\"a\":\"\xff\"}",             /* never valid */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
        "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong 3-byte */
        "{\"a\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"a\":\"\xe6\xb0\"}",         /* truncated sequence */
        "{\"a\":\"\xe6\x41\x41\"}",     /* bad continuation */
    };
    char err[128];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i], err, sizeof(err)), RHIS_EINVAL);
        assert_non_null(strstr(err, "UTF-8"));
    }
}

static void
embedded_nul_byte_is_rejected(void **state)
{
    static const char text[] = "{\"a\":\"x\0y\"}";
    json_object *o = (json_object *)(uintptr_t)1;
    char err[128];
    (void)state;
    assert_int_equal(
        rhis_json_parse(text, sizeof(text) - 1, 0, &o, err, sizeof(err)),
        RHIS_EINVAL);
    assert_null(o);
}

static void
duplicate_key_is_rejected_with_its_offset(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(parse("{\"a\":1,\"b\":2,\"a\":3}", err, sizeof(err)),
                     RHIS_EINVAL);
    /* the second "a" starts at byte 13 */
    assert_string_equal(err, "invalid JSON at byte 13: duplicate key in "
                             "object");
    /* nested duplicate */
    assert_int_equal(parse("{\"x\":{\"k\":1,\"k\":2}}", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "duplicate key"));
}

static void
many_distinct_keys_grow_the_key_table(void **state)
{
    /* more keys than the initial 64-slot table: forces rehashing */
    char text[8192];
    size_t n = 0;
    json_object *o = NULL;
    char err[128];
    (void)state;
    text[n++] = '{';
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"k%d\":%d",
                              i > 0 ? "," : "", i, i);
    text[n++] = '}';
    text[n] = '\0';
    assert_int_equal(rhis_json_parse(text, n, 0, &o, err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(json_object_object_length(o), 300);
    int64_t v = 0;
    assert_int_equal(rhis_json_get_int(o, "k299", &v), RHIS_OK);
    assert_int_equal(v, 299);
    json_object_put(o);
    /* and a duplicate among them is still found after the rehash */
    text[n - 1] = '\0';
    n--;
    n += (size_t)snprintf(text + n, sizeof(text) - n, ",\"k7\":0}");
    assert_int_equal(rhis_json_parse(text, n, 0, &o, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "duplicate key"));
}

static void
error_message_names_byte_offset(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(parse("[1,2,]", err, sizeof(err)), RHIS_EINVAL);
    assert_string_equal(err, "invalid JSON at byte 5: unexpected character");
    assert_int_equal(parse("{\"a\":01}", err, sizeof(err)), RHIS_EINVAL);
    assert_string_equal(err, "invalid JSON at byte 6: leading zero in number");
}

static void
depth_is_capped(void **state)
{
    char text[200];
    json_object *o = NULL;
    char err[128];
    (void)state;
    /* depth 5 passes a cap of 5, fails a cap of 4 */
    memcpy(text, "[[[[[1]]]]]", 12);
    assert_int_equal(
        rhis_json_parse(text, strlen(text), 5, &o, err, sizeof(err)), RHIS_OK);
    json_object_put(o);
    assert_int_equal(
        rhis_json_parse(text, strlen(text), 4, &o, err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "nesting too deep"));
    /* default cap (32) applies when max_depth <= 0 */
    size_t n = 0;
    for (int i = 0; i < 33; i++)
        text[n++] = '[';
    for (int i = 0; i < 33; i++)
        text[n++] = ']';
    assert_int_equal(rhis_json_parse(text, n, 0, &o, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(rhis_json_parse(text + 1, n - 2, 0, &o, err, sizeof(err)),
                     RHIS_OK);
    json_object_put(o);
}

static void
length_bounds_the_parse_not_the_nul(void **state)
{
    /* only the first len bytes count: trailing garbage beyond is unseen */
    static const char text[] = "{\"a\":\"b\"}garbage";
    json_object *o = NULL;
    (void)state;
    assert_int_equal(rhis_json_parse(text, 9, 0, &o, NULL, 0), RHIS_OK);
    assert_string_equal(rhis_json_get_str(o, "a"), "b");
    json_object_put(o);
    /* a NULL errbuf is allowed on failure too */
    assert_int_equal(rhis_json_parse(text, 8, 0, &o, NULL, 0), RHIS_EINVAL);
    assert_null(o);
}

static void
decimals_are_kept_exactly(void **state)
{
    json_object *o = NULL;
    char err[128];
    (void)state;
    const char *text = "{\"v\":0.10,\"w\":43.682130}";
    assert_int_equal(
        rhis_json_parse(text, strlen(text), 0, &o, err, sizeof(err)), RHIS_OK);
    assert_string_equal(rhis_json_print(o), "{\"v\":0.10,\"w\":43.682130}");
    json_object_put(o);
}

static void
print_is_compact_and_does_not_escape_slash(void **state)
{
    json_object *o = json_object_new_object();
    (void)state;
    json_object_object_add(o, "url", json_object_new_string("a/b"));
    json_object_object_add(o, "zh", json_object_new_string("口前镇"));
    assert_string_equal(rhis_json_print(o),
                        "{\"url\":\"a/b\",\"zh\":\"口前镇\"}");
    json_object_put(o);
}

static void
new_double_uses_shortest_round_trip_form(void **state)
{
    (void)state;
    json_object *d = rhis_json_new_double(43.68213);
    assert_string_equal(rhis_json_print(d), "43.68213");
    json_object_put(d);
    d = rhis_json_new_double(0.1 + 0.2);
    assert_string_equal(rhis_json_print(d), "0.3");
    json_object_put(d);
    d = rhis_json_new_double(1234567.0);
    assert_string_equal(rhis_json_print(d), "1234567");
    json_object_put(d);
}

static void
new_fixed_keeps_trailing_zeros(void **state)
{
    (void)state;
    json_object *d = rhis_json_new_fixed(6.19, 2);
    assert_string_equal(rhis_json_print(d), "6.19");
    json_object_put(d);
    d = rhis_json_new_fixed(6.1, 2);
    assert_string_equal(rhis_json_print(d), "6.10");
    json_object_put(d);
    d = rhis_json_new_fixed(2.0 / 3.0, 1);
    assert_string_equal(rhis_json_print(d), "0.7");
    json_object_put(d);
}

static void
typed_getters_check_types(void **state)
{
    json_object *o = NULL;
    const char *text = "{\"s\":\"x\",\"i\":42,\"f\":1.5,\"n\":null,"
                       "\"big\":9007199254740993,\"neg\":-7}";
    int64_t v = -1;
    (void)state;
    assert_int_equal(rhis_json_parse(text, strlen(text), 0, &o, NULL, 0),
                     RHIS_OK);
    assert_string_equal(rhis_json_get_str(o, "s"), "x");
    assert_null(rhis_json_get_str(o, "i"));    /* wrong type */
    assert_null(rhis_json_get_str(o, "nope")); /* absent */
    /* json-c represents a JSON null as a NULL object */
    assert_true(json_object_object_get_ex(o, "n", NULL));
    assert_null(rhis_json_get(o, "n"));
    assert_null(rhis_json_get(o, "nope"));
    assert_int_equal(rhis_json_get_int(o, "i", &v), RHIS_OK);
    assert_int_equal(v, 42);
    assert_int_equal(rhis_json_get_int(o, "neg", &v), RHIS_OK);
    assert_int_equal(v, -7);
    assert_int_equal(rhis_json_get_int(o, "big", &v), RHIS_OK);
    assert_true(v == 9007199254740993LL);
    v = 5;
    assert_int_equal(rhis_json_get_int(o, "f", &v), RHIS_EINVAL);
    assert_int_equal(rhis_json_get_int(o, "s", &v), RHIS_EINVAL);
    assert_int_equal(rhis_json_get_int(o, "n", &v), RHIS_ENOTFOUND);
    assert_int_equal(rhis_json_get_int(o, "nope", &v), RHIS_ENOTFOUND);
    assert_int_equal(v, 5); /* untouched on failure */
    /* getters on a non-object are NULL, not a crash */
    json_object *arr = json_object_new_array();
    assert_null(rhis_json_get(arr, "s"));
    assert_null(rhis_json_get(NULL, "s"));
    assert_int_equal(rhis_json_get_int(arr, "i", &v), RHIS_ENOTFOUND);
    json_object_put(arr);
    json_object_put(o);
}

static void
top_level_scalars_parse(void **state)
{
    /* RFC 8259 allows any value at the top level */
    char err[128];
    (void)state;
    err[0] = '\0';
    rhis_status st = parse("true", err, sizeof(err));
    if (st != RHIS_OK)
        print_error("true: %s\n", err);
    assert_int_equal(st, RHIS_OK);
    err[0] = '\0';
    st = parse("42", err, sizeof(err));
    if (st != RHIS_OK)
        print_error("42: %s\n", err);
    assert_int_equal(st, RHIS_OK);
}

static void
integers_outside_int64_are_refused_not_clamped(void **state)
{
    (void)state;
    char err[160];
    assert_int_equal(parse("[9223372036854775807]", err, sizeof(err)), RHIS_OK);
    assert_int_equal(parse("[-9223372036854775808]", err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(parse("[9223372036854775808]", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parse("[-9223372036854775809]", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(parse("{\"n\":99999999999999999999}", err, sizeof(err)),
                     RHIS_EINVAL);
    /* decimals of any size stay decimals (FHIR keeps their text) */
    assert_int_equal(parse("[99999999999999999999.5]", err, sizeof(err)),
                     RHIS_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_documents_parse),
        cmocka_unit_test(lenient_json_c_extensions_are_rejected),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(embedded_nul_byte_is_rejected),
        cmocka_unit_test(duplicate_key_is_rejected_with_its_offset),
        cmocka_unit_test(many_distinct_keys_grow_the_key_table),
        cmocka_unit_test(error_message_names_byte_offset),
        cmocka_unit_test(depth_is_capped),
        cmocka_unit_test(length_bounds_the_parse_not_the_nul),
        cmocka_unit_test(decimals_are_kept_exactly),
        cmocka_unit_test(print_is_compact_and_does_not_escape_slash),
        cmocka_unit_test(new_double_uses_shortest_round_trip_form),
        cmocka_unit_test(new_fixed_keeps_trailing_zeros),
        cmocka_unit_test(typed_getters_check_types),
        cmocka_unit_test(top_level_scalars_parse),
        cmocka_unit_test(integers_outside_int64_are_refused_not_clamped),
    };
    return cmocka_run_group_tests_name("core json", tests, NULL, NULL);
}
