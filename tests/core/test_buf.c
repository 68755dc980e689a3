/*
 * test_buf.c - unit tests for capped buffers (src/core/buf.c) and arenas
 * (src/core/alloc.c).
 *
 * Why: every response body and request-scoped string lives in one of these;
 * the cap is the denial-of-service guard and must hold exactly at its edge,
 * and an arena must hand out aligned memory and run its cleanups last-in
 * first-out.
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
#include "rhis/buf.h"

static void
buf_append_and_puts_accumulate_nul_terminated(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(rhis_buf_append(&b, "abc", 3), RHIS_OK);
    assert_int_equal(rhis_buf_puts(&b, "def"), RHIS_OK);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    /* an empty append still yields a terminated buffer */
    assert_int_equal(rhis_buf_append(&b, "", 0), RHIS_OK);
    assert_string_equal(b.data, "abcdef");
    rhis_buf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);

    rhis_buf_init(&b, 10);
    assert_int_equal(rhis_buf_append(&b, "", 0), RHIS_OK);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    rhis_buf_fini(&b);
}

static void
buf_cap_holds_exactly_at_the_limit(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 8);
    assert_int_equal(rhis_buf_append(&b, "12345678", 8), RHIS_OK);
    assert_int_equal(b.len, 8);
    assert_true(b.cap <= 9); /* never more than max + NUL */
    assert_int_equal(rhis_buf_append(&b, "9", 1), RHIS_ETOOBIG);
    assert_int_equal(b.len, 8); /* a refused append changes nothing */
    assert_string_equal(b.data, "12345678");
    assert_int_equal(rhis_buf_puts(&b, "x"), RHIS_ETOOBIG);
    assert_int_equal(rhis_buf_printf(&b, "%d", 1), RHIS_ETOOBIG);
    assert_int_equal(rhis_buf_json_str(&b, ""), RHIS_ETOOBIG);
    rhis_buf_fini(&b);

    /* a single append larger than the cap is refused up front */
    rhis_buf_init(&b, 4);
    assert_int_equal(rhis_buf_append(&b, "12345", 5), RHIS_ETOOBIG);
    assert_int_equal(b.len, 0);
    /* a huge n must not overflow the cap arithmetic */
    assert_int_equal(rhis_buf_append(&b, "x", SIZE_MAX), RHIS_ETOOBIG);
    rhis_buf_fini(&b);
}

static void
buf_grows_past_the_first_block(void **state)
{
    rhis_buf b;
    char chunk[100];
    (void)state;
    memset(chunk, 'z', sizeof(chunk));
    rhis_buf_init(&b, 100000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rhis_buf_append(&b, chunk, sizeof(chunk)), RHIS_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap >= 100001);
    assert_int_equal(b.data[99999], 'z');
    assert_int_equal(b.data[100000], '\0');
    assert_int_equal(rhis_buf_append(&b, "z", 1), RHIS_ETOOBIG);
    rhis_buf_fini(&b);
}

static void
buf_printf_formats_and_appends(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 64);
    assert_int_equal(rhis_buf_printf(&b, "%s=%d", "n", 42), RHIS_OK);
    assert_int_equal(rhis_buf_printf(&b, ";%05.1f", 3.14159), RHIS_OK);
    assert_string_equal(b.data, "n=42;003.1");
    assert_int_equal(b.len, strlen("n=42;003.1"));
    rhis_buf_fini(&b);

    /* exactly filling the cap with printf is allowed */
    rhis_buf_init(&b, 5);
    assert_int_equal(rhis_buf_printf(&b, "%s", "abcde"), RHIS_OK);
    assert_string_equal(b.data, "abcde");
    rhis_buf_fini(&b);
}

static void
buf_json_str_escapes_quotes_backslashes_and_controls(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 256);
    assert_int_equal(rhis_buf_json_str(&b, "a\"b\\c\nd\re\tf\x01g\x1f/"),
                     RHIS_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f/\"");
    rhis_buf_reset(&b);
    assert_int_equal(rhis_buf_json_str(&b, "永吉"), RHIS_OK);
    assert_string_equal(b.data, "\"永吉\"");
    rhis_buf_reset(&b);
    assert_int_equal(rhis_buf_json_str(&b, ""), RHIS_OK);
    assert_string_equal(b.data, "\"\"");
    rhis_buf_fini(&b);
}

static void
buf_reset_keeps_memory_and_empties(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 64);
    rhis_buf_reset(&b); /* on a never-used buffer: no crash, still empty */
    assert_int_equal(b.len, 0);
    assert_int_equal(rhis_buf_puts(&b, "hello"), RHIS_OK);
    size_t cap = b.cap;
    rhis_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, cap);
    assert_int_equal(rhis_buf_puts(&b, "x"), RHIS_OK);
    assert_string_equal(b.data, "x");
    rhis_buf_fini(&b);
}

static void
buf_take_hands_over_ownership(void **state)
{
    rhis_buf b;
    (void)state;
    rhis_buf_init(&b, 64);
    char *empty = rhis_buf_take(&b); /* never appended: "" not NULL */
    assert_non_null(empty);
    assert_string_equal(empty, "");
    rhis_free(empty);
    assert_int_equal(rhis_buf_puts(&b, "data"), RHIS_OK);
    char *p = rhis_buf_take(&b);
    assert_string_equal(p, "data");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* the buffer is usable again after take */
    assert_int_equal(rhis_buf_puts(&b, "more"), RHIS_OK);
    assert_string_equal(b.data, "more");
    rhis_buf_fini(&b);
    rhis_free(p);
}

static void
arena_allocations_are_aligned_and_distinct(void **state)
{
    rhis_arena *a = rhis_arena_new();
    (void)state;
    char *prev = NULL;
    for (size_t n = 0; n < 200; n++) {
        char *p = rhis_arena_alloc(a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_true(p != prev);
        memset(p, 0xab, n); /* ASan catches overlap with the block header */
        prev = p;
    }
    rhis_arena_free(a);
}

static void
arena_big_allocation_gets_its_own_block(void **state)
{
    rhis_arena *a = rhis_arena_new();
    (void)state;
    char *small1 = rhis_arena_alloc(a, 16);
    memcpy(small1, "first", 6);
    char *big = rhis_arena_alloc(a, 100000);
    memset(big, 'b', 100000);
    char *small2 = rhis_arena_alloc(a, 16);
    memcpy(small2, "second", 7);
    assert_string_equal(small1, "first");
    assert_string_equal(small2, "second");
    assert_int_equal(big[99999], 'b');
    /* many small allocations across block boundaries stay intact */
    char *ptrs[3000];
    for (int i = 0; i < 3000; i++) {
        ptrs[i] = rhis_arena_printf(a, "s%d", i);
    }
    for (int i = 0; i < 3000; i += 499) {
        char want[16];
        snprintf(want, sizeof(want), "s%d", i);
        assert_string_equal(ptrs[i], want);
    }
    rhis_arena_free(a);
}

static void
arena_strings_copy(void **state)
{
    rhis_arena *a = rhis_arena_new();
    (void)state;
    char src[] = "口前镇";
    char *d = rhis_arena_strdup(a, src);
    src[0] = 'X';
    assert_string_equal(d, "口前镇");
    assert_null(rhis_arena_strdup(a, NULL));
    assert_string_equal(rhis_arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(rhis_arena_strndup(a, "ab\0cd", 5), "ab");
    assert_string_equal(rhis_arena_printf(a, "%s-%03d", "x", 7), "x-007");
    assert_string_equal(rhis_arena_printf(a, "%s", ""), "");
    char *z = rhis_arena_calloc(a, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    rhis_arena_free(a);
}

static int order_log[8];
static int order_n;

static void
record(void *data)
{
    order_log[order_n++] = *(int *)data;
}

static void
arena_defers_run_last_registered_first(void **state)
{
    static int one = 1, two = 2, three = 3;
    rhis_arena *a = rhis_arena_new();
    (void)state;
    order_n = 0;
    rhis_arena_defer(a, record, &one);
    rhis_arena_defer(a, record, &two);
    (void)rhis_arena_alloc(a, 50000); /* defers survive big blocks */
    rhis_arena_defer(a, record, &three);
    assert_int_equal(order_n, 0);
    rhis_arena_free(a);
    assert_int_equal(order_n, 3);
    assert_int_equal(order_log[0], 3);
    assert_int_equal(order_log[1], 2);
    assert_int_equal(order_log[2], 1);
    rhis_arena_free(NULL); /* no-op */
}

static void
xalloc_helpers_copy_and_zero(void **state)
{
    (void)state;
    char *s = rhis_xstrdup("abc");
    assert_string_equal(s, "abc");
    rhis_free(s);
    s = rhis_xstrndup("abcdef", 2);
    assert_string_equal(s, "ab");
    rhis_free(s);
    int *z = rhis_xcalloc(10, sizeof(int));
    for (int i = 0; i < 10; i++)
        assert_int_equal(z[i], 0);
    z = rhis_xrealloc(z, 1000 * sizeof(int));
    assert_int_equal(z[9], 0);
    rhis_free(z);
    rhis_free(NULL);
    void *p = rhis_xmalloc(0); /* never NULL */
    assert_non_null(p);
    rhis_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_append_and_puts_accumulate_nul_terminated),
        cmocka_unit_test(buf_cap_holds_exactly_at_the_limit),
        cmocka_unit_test(buf_grows_past_the_first_block),
        cmocka_unit_test(buf_printf_formats_and_appends),
        cmocka_unit_test(buf_json_str_escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(buf_reset_keeps_memory_and_empties),
        cmocka_unit_test(buf_take_hands_over_ownership),
        cmocka_unit_test(arena_allocations_are_aligned_and_distinct),
        cmocka_unit_test(arena_big_allocation_gets_its_own_block),
        cmocka_unit_test(arena_strings_copy),
        cmocka_unit_test(arena_defers_run_last_registered_first),
        cmocka_unit_test(xalloc_helpers_copy_and_zero),
    };
    return cmocka_run_group_tests_name("core buf and arena", tests, NULL, NULL);
}
