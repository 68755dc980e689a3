/*
 * test_pinyin.c - unit tests for names to toneless pinyin
 * (src/registry/pinyin.c and the table tools/gen-pinyin.py generates).
 *
 * Why: the master patient index links records by the sound of the name;
 * a wrong reading splits one person into two, a truncated or overrun
 * buffer corrupts a blocking key.  These cases pin the homophones the MPI
 * relies on, the common surnames, the surname-position readings of the
 * polyphonic ones, and the buffer and error rules of the contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "rhis/pinyin.h"

/* The pinyin of name, in a static buffer large enough for these tests. */
static const char *
py(const char *name)
{
    static char buf[256];
    size_t n = rhis_pinyin_of(name, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* The code point of a three-byte UTF-8 character (the BMP hanzi). */
static uint32_t
cp3(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 |
           (u[2] & 0x3f);
}

static void
homophones_give_the_same_pinyin(void **state)
{
    char a[64];
    char b[64];
    (void)state;
    assert_string_equal(py("王丽"), "wang li");
    rhis_pinyin_of("王丽", a, sizeof(a));
    rhis_pinyin_of("王莉", b, sizeof(b));
    assert_string_equal(a, b);
    rhis_pinyin_of("张伟", a, sizeof(a));
    rhis_pinyin_of("章伟", b, sizeof(b));
    assert_string_equal(a, "zhang wei");
    assert_string_equal(a, b);
    rhis_pinyin_of("李", a, sizeof(a));
    rhis_pinyin_of("王", b, sizeof(b));
    assert_string_not_equal(a, b);
}

static void
common_surnames_have_their_standard_readings(void **state)
{
    static const char *const cases[][2] = {
        {"王", "wang"}, {"李", "li"},   {"张", "zhang"}, {"刘", "liu"},
        {"陈", "chen"}, {"杨", "yang"}, {"黄", "huang"}, {"赵", "zhao"},
        {"吴", "wu"},   {"周", "zhou"}, {"徐", "xu"},    {"孙", "sun"},
        {"马", "ma"},   {"朱", "zhu"},  {"胡", "hu"},    {"郭", "guo"},
        {"何", "he"},   {"林", "lin"},  {"罗", "luo"},   {"高", "gao"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *syl = NULL;
        assert_string_equal(py(cases[i][0]), cases[i][1]);
        /* The plain table agrees: none of these is a polyphone rule. */
        assert_int_equal(rhis_pinyin_syllable(cp3(cases[i][0]), &syl),
                         strlen(cases[i][1]));
        assert_string_equal(syl, cases[i][1]);
    }
}

/*
 * The table holds the most common reading in running text (Unihan
 * kMandarin), which for these characters is not the surname's:
 * 单 dan, 曾 ceng, 区 qu, 仇 chou, 解 jie, 查 cha, 乐 le, 朴 pu, 覃 tan.
 * As the first character of a name they read as the surname; elsewhere
 * in the name they keep the table reading.
 */
static void
polyphonic_surnames_read_as_surnames_first_only(void **state)
{
    static const struct {
        uint32_t cp;
        const char *table, *name, *pinyin;
    } cases[] = {
        {0x5355, "dan", "单雄信", "shan xiong xin"},
        {0x66fe, "ceng", "曾国藩", "zeng guo fan"},
        {0x533a, "qu", "区志明", "ou zhi ming"},
        {0x4ec7, "chou", "仇英", "qiu ying"},
        {0x89e3, "jie", "解缙", "xie jin"},
        {0x67e5, "cha", "查良镛", "zha liang yong"},
        {0x4e50, "le", "乐嘉", "yue jia"},
        {0x6734, "pu", "朴正熙", "piao zheng xi"},
        {0x8983, "tan", "覃雪梅", "qin xue mei"},
        {0x7fdf, "di", "翟志刚", "zhai zhi gang"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *syl = NULL;
        rhis_pinyin_syllable(cases[i].cp, &syl);
        assert_string_equal(syl, cases[i].table);
        assert_string_equal(py(cases[i].name), cases[i].pinyin);
    }
    /* Not the first character: the table reading. */
    assert_string_equal(py("李单"), "li dan");
    assert_string_equal(py("王乐乐"), "wang le le");
    assert_string_equal(py("张曾"), "zhang ceng");
    /* Leading blanks do not hide the surname. */
    assert_string_equal(py("  曾丽"), "zeng li");
    /* 尉 alone is the surname Wei (the table reading), 尉迟 is Yuchi. */
    assert_string_equal(py("尉鹏"), "wei peng");
    assert_string_equal(py("尉迟恭"), "yu chi gong");
    assert_string_equal(py("万俟卨"), "mo qi xie");
    assert_string_equal(py("澹台灭明"), "tan tai mie ming");
    /* Homophones still meet after the rule: 单 Shan and 善 Shan. */
    assert_string_equal(py("单丽"), py("善丽"));
}

static void
minority_names_drop_the_middle_dot(void **state)
{
    (void)state;
    assert_string_equal(py("买买提·艾力"), "mai mai ti ai li");
    /* U+30FB katakana middle dot and U+2022 bullet are typed too. */
    assert_string_equal(py("买买提・艾力"), "mai mai ti ai li");
    assert_string_equal(py("买买提•艾力"), "mai mai ti ai li");
}

static void
ascii_letters_are_kept_lower_cased(void **state)
{
    (void)state;
    assert_string_equal(py("李Anna"), "li anna");
    assert_string_equal(py("John SMITH"), "john smith");
    assert_string_equal(py("王2丽"), "wang li");
    assert_string_equal(py("Mary王-Ann"), "mary wang ann");
    /* Full-width letters as an IME types them; ü spelled v like 吕 lv. */
    assert_string_equal(py("Ｌｉｎ"), "lin");
    assert_string_equal(py("吕"), "lv");
    assert_string_equal(py("Lü"), "lv");
    assert_string_equal(py("女"), "nv");
    assert_string_equal(py("123 ,.;"), "");
}

static void
characters_outside_the_bmp_are_looked_up(void **state)
{
    const char *syl = NULL;
    (void)state;
    /* U+2A6A5 𪚥 (four dragons), in Extension B, outside the BMP. */
    assert_int_equal(rhis_pinyin_syllable(0x2a6a5, &syl), 3);
    assert_string_equal(syl, "zhe");
    assert_string_equal(py("王𪚥"), "wang zhe");
    /*
     * U+20BB7 𠮷 (the 吉 variant some people write in their name) has no
     * Mandarin reading in Unihan 15.0: it is dropped, the limit of a
     * table built from Unihan alone.
     */
    assert_int_equal(rhis_pinyin_syllable(0x20bb7, &syl), 0);
    assert_string_equal(py("𠮷祥"), "xiang");
    /* No reading: Latin letters, punctuation, beyond the table. */
    assert_int_equal(rhis_pinyin_syllable('a', &syl), 0);
    assert_string_equal(syl, "");
    assert_int_equal(rhis_pinyin_syllable(0x10ffff, NULL), 0);
    assert_int_equal(rhis_pinyin_syllable(0, NULL), 0);
}

static void
initials_make_a_blocking_key(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(rhis_pinyin_initials("王丽", out, sizeof(out)), 2);
    assert_string_equal(out, "wl");
    rhis_pinyin_initials("张伟", out, sizeof(out));
    assert_string_equal(out, "zw");
    rhis_pinyin_initials("章伟", out, sizeof(out));
    assert_string_equal(out, "zw");
    rhis_pinyin_initials("曾国藩", out, sizeof(out));
    assert_string_equal(out, "zgf");
    rhis_pinyin_initials("买买提·艾力", out, sizeof(out));
    assert_string_equal(out, "mmtal");
    rhis_pinyin_initials("张Anna Li", out, sizeof(out));
    assert_string_equal(out, "zal");
    assert_int_equal(rhis_pinyin_initials("王丽", out, 2), 2);
    assert_string_equal(out, "w");
}

static void
truncation_keeps_whole_syllables(void **state)
{
    char out[16];
    (void)state;
    /* "zhang wei" is 9 bytes. */
    assert_int_equal(rhis_pinyin_of("张伟", out, 10), 9);
    assert_string_equal(out, "zhang wei");
    assert_int_equal(rhis_pinyin_of("张伟", out, 9), 9);
    assert_string_equal(out, "zhang");
    assert_int_equal(rhis_pinyin_of("张伟", out, 7), 9);
    assert_string_equal(out, "zhang");
    assert_int_equal(rhis_pinyin_of("张伟", out, 6), 9);
    assert_string_equal(out, "zhang");
    assert_int_equal(rhis_pinyin_of("张伟", out, 5), 9);
    assert_string_equal(out, "");
    assert_int_equal(rhis_pinyin_of("张伟", out, 1), 9);
    assert_string_equal(out, "");
    assert_int_equal(rhis_pinyin_of("张伟", NULL, 0), 9);
    /* A later, shorter syllable must not slip in after a dropped one. */
    assert_int_equal(rhis_pinyin_of("王庄李", out, 8), 14);
    assert_string_equal(out, "wang");
    /* ASCII words are cut whole too. */
    memset(out, 'x', sizeof(out));
    assert_int_equal(rhis_pinyin_of("李Alexandra", out, 8), 12);
    assert_string_equal(out, "li");
    /* Nothing is written past outlen. */
    memset(out, 'x', sizeof(out));
    rhis_pinyin_of("王丽王丽王丽", out, 4);
    assert_string_equal(out, "");
    assert_int_equal(out[4], 'x');
    /* The documented bound is enough for the longest syllables. */
    static const char name[] = "庄双庄𪚥";
    char big[3 * sizeof(name) + 1];
    size_t n = rhis_pinyin_of(name, big, 3 * strlen(name) + 1);
    assert_true(n < 3 * strlen(name) + 1);
    assert_string_equal(big, "zhuang shuang zhuang zhe");
}

static void
invalid_utf8_and_empty_input_give_empty_output(void **state)
{
    static const char *const bad[] = {
        "\xff",                 /* never valid */
        "\xe7\x8e",             /* 王 cut short */
        "\xc0\xaf",             /* overlong '/' */
        "\xed\xa0\x80",         /* surrogate */
        "\xf4\x90\x80\x80",     /* above U+10FFFF */
        "\xe7\x8e\x8b\xe4\xb8", /* 王 then a cut 丽 */
        "\xd5\xc5\xce\xb0",     /* 张伟 in GBK */
    };
    char out[32];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(out, 'x', sizeof(out));
        assert_int_equal(rhis_pinyin_of(bad[i], out, sizeof(out)), 0);
        assert_string_equal(out, "");
        memset(out, 'x', sizeof(out));
        assert_int_equal(rhis_pinyin_initials(bad[i], out, sizeof(out)), 0);
        assert_string_equal(out, "");
    }
    memset(out, 'x', sizeof(out));
    assert_int_equal(rhis_pinyin_of("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    memset(out, 'x', sizeof(out));
    assert_int_equal(rhis_pinyin_of(NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(rhis_pinyin_initials("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(rhis_pinyin_of("", NULL, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(homophones_give_the_same_pinyin),
        cmocka_unit_test(common_surnames_have_their_standard_readings),
        cmocka_unit_test(polyphonic_surnames_read_as_surnames_first_only),
        cmocka_unit_test(minority_names_drop_the_middle_dot),
        cmocka_unit_test(ascii_letters_are_kept_lower_cased),
        cmocka_unit_test(characters_outside_the_bmp_are_looked_up),
        cmocka_unit_test(initials_make_a_blocking_key),
        cmocka_unit_test(truncation_keeps_whole_syllables),
        cmocka_unit_test(invalid_utf8_and_empty_input_give_empty_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
