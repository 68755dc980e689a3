/*
 * pinyin.c - Chinese names to toneless pinyin (see rhis/pinyin.h).
 *
 * Why: the master patient index scores names by sound, so homophone typing
 * errors (王丽 / 王莉) still link.  The per-character readings come from a
 * table generated at build time by tools/gen-pinyin.py from Debian's
 * Unihan data (generated/pinyin_table.h in the build directory, never
 * committed); this file adds what a per-character table cannot know: the
 * reading a polyphonic character takes as a surname.
 *
 * The table is one sorted uint32_t per code point, the code point in the
 * high bits and the syllable number in the low RHIS_PINYIN_SYL_BITS, so a
 * lookup is a binary search over 41k entries (16 steps) with no start-up
 * cost and no allocation.
 *
 * Output is built by a small writer that streams characters and, when a
 * syllable does not fit, rolls back to where that syllable started and
 * stops: truncated output never ends in a partial syllable that would
 * match a different name.
 */
#include <stdint.h>
#include <string.h>

#include "rhis/pinyin.h"
#include "rhis/text.h"

#include "generated/pinyin_table.h"

#define NENTRIES (sizeof(pinyin_entries) / sizeof(pinyin_entries[0]))

/*
 * Surname-position readings of well-known polyphonic surnames, applied to
 * the first character of a name only.  The generated table holds the most
 * common reading in running text (kMandarin), which for these characters
 * is not the surname's: 单 dan (surname Shan), 曾 ceng (Zeng), 区 qu (Ou),
 * 仇 chou (Qiu), 解 jie (Xie), 查 cha (Zha), 乐 le (Yue), 朴 pu (Piao), 覃
 * tan (Qin), 翟 di (Zhai), 缪 mou (Miao), 盖 gai (Ge), 秘 mi (Bi), 召 zhao
 * (Shao), 种 zhong (Chong).  Compound surnames are matched first, as a
 * prefix: 尉 alone is the surname Wei (the table reading), but 尉迟 is
 * Yuchi; 万俟 is Moqi, 澹台 Tantai.
 *
 * Where a surname has two accepted readings (覃 Qin / Tan, 乐 Yue / Le)
 * the more common one is listed; the registry compares names with this
 * same function on both sides, so consistency matters more than the pick.
 * Entries whose toneless table reading is already right (华 hua, 长孙
 * zhang sun, 令狐 ling hu) are not listed.
 */
static const struct surname {
    const char *hanzi; /* UTF-8, one or two characters */
    const char *syl[2];
} surnames[] = {
    {"尉迟", {"yu", "chi"}}, {"万俟", {"mo", "qi"}}, {"澹台", {"tan", "tai"}},
    {"单", {"shan", NULL}},  {"曾", {"zeng", NULL}}, {"区", {"ou", NULL}},
    {"仇", {"qiu", NULL}},   {"解", {"xie", NULL}},  {"查", {"zha", NULL}},
    {"乐", {"yue", NULL}},   {"朴", {"piao", NULL}}, {"覃", {"qin", NULL}},
    {"翟", {"zhai", NULL}},  {"缪", {"miao", NULL}}, {"盖", {"ge", NULL}},
    {"秘", {"bi", NULL}},    {"召", {"shao", NULL}}, {"种", {"chong", NULL}},
};

uint32_t
rhis_pinyin_syllable(uint32_t codepoint, const char **syl)
{
    size_t lo = 0;
    size_t hi = NENTRIES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t cp = pinyin_entries[mid] >> RHIS_PINYIN_SYL_BITS;
        if (cp < codepoint) {
            lo = mid + 1;
        } else if (cp > codepoint) {
            hi = mid;
        } else {
            uint32_t k = pinyin_entries[mid] &
                         ((UINT32_C(1) << RHIS_PINYIN_SYL_BITS) - 1);
            const char *s = pinyin_pool + pinyin_pool_off[k];
            if (syl != NULL)
                *syl = s;
            return (uint32_t)strlen(s);
        }
    }
    if (syl != NULL)
        *syl = "";
    return 0;
}

/*
 * The output writer.  full counts the length the complete result has;
 * used is what is in out.  Once a token does not fit, stopped is set and
 * nothing more is written (a shorter later token must not slip in after a
 * dropped one).
 */
typedef struct writer {
    char *out;
    size_t cap;
    size_t used;
    size_t full;
    size_t mark; /* used before the current token began */
    int stopped;
    int initials; /* first letter of each token, no separators */
} writer;

static void
put(writer *w, char c)
{
    w->full++;
    if (w->stopped)
        return;
    if (w->used + 1 < w->cap) {
        w->out[w->used++] = c;
    } else {
        w->stopped = 1;
        w->used = w->mark;
    }
}

/* Starts a token: records the rollback point, then the separator. */
static void
begin_token(writer *w)
{
    w->mark = w->used;
    if (!w->initials && w->full > 0)
        put(w, ' ');
}

static void
put_syllable(writer *w, const char *s)
{
    begin_token(w);
    if (w->initials) {
        put(w, s[0]);
        return;
    }
    for (; *s != '\0'; s++)
        put(w, *s);
}

/* Decodes one character of already validated UTF-8; returns its length. */
static size_t
decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xe0) {
        *cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
        return 2;
    }
    if (s[0] < 0xf0) {
        *cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
              (s[2] & 0x3f);
        return 3;
    }
    *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
          (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
    return 4;
}

/*
 * The Latin letter a code point stands for in a name, lower-cased, or 0:
 * ASCII, full-width Ａ-Ｚ ａ-ｚ (what a Chinese IME types in full-width
 * mode) and ü / Ü, spelled "v" like the table spells 吕 lv.
 */
static char
latin_letter(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return (char)(cp - 'A' + 'a');
    if (cp >= 'a' && cp <= 'z')
        return (char)cp;
    if (cp >= 0xff21 && cp <= 0xff3a)
        return (char)(cp - 0xff21 + 'a');
    if (cp >= 0xff41 && cp <= 0xff5a)
        return (char)(cp - 0xff41 + 'a');
    if (cp == 0xfc || cp == 0xdc)
        return 'v';
    return 0;
}

/* The surname entry name starts with, or NULL. */
static const struct surname *
find_surname(const char *name)
{
    for (size_t i = 0; i < sizeof(surnames) / sizeof(surnames[0]); i++) {
        size_t n = strlen(surnames[i].hanzi);
        if (strncmp(name, surnames[i].hanzi, n) == 0)
            return &surnames[i];
    }
    return NULL;
}

/* Shared body of rhis_pinyin_of and rhis_pinyin_initials. */
static size_t
convert(const char *utf8, char *out, size_t outlen, int initials)
{
    writer w = {out, outlen, 0, 0, 0, 0, initials};
    if (outlen > 0)
        out[0] = '\0';
    if (utf8 == NULL || !rhis_utf8_valid(utf8, strlen(utf8)))
        return 0;

    const unsigned char *s = (const unsigned char *)utf8;
    while (*s == ' ' || *s == '\t')
        s++;
    const struct surname *sn = find_surname((const char *)s);
    if (sn != NULL) {
        for (size_t i = 0; i < 2 && sn->syl[i] != NULL; i++)
            put_syllable(&w, sn->syl[i]);
        s += strlen(sn->hanzi);
    }

    int in_word = 0;
    while (*s != '\0') {
        uint32_t cp;
        s += decode(s, &cp);
        char c = latin_letter(cp);
        if (c != 0) {
            if (!in_word)
                begin_token(&w);
            if (!in_word || !initials)
                put(&w, c);
            in_word = 1;
            continue;
        }
        in_word = 0;
        const char *syl;
        if (rhis_pinyin_syllable(cp, &syl) > 0)
            put_syllable(&w, syl);
    }
    if (outlen > 0)
        out[w.used] = '\0';
    return w.full;
}

size_t
rhis_pinyin_of(const char *utf8, char *out, size_t outlen)
{
    return convert(utf8, out, outlen, 0);
}

size_t
rhis_pinyin_initials(const char *utf8, char *out, size_t len)
{
    return convert(utf8, out, len, 1);
}
