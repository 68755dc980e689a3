/*
 * pinyin.h - Chinese names to toneless pinyin, for matching by sound.
 *
 * Why: the master patient index must link records whose names were typed
 * with a homophone (王丽 / 王莉, 张伟 / 章伟): pinyin input methods offer
 * every character of a sound, and clerks pick the wrong one.  Comparing
 * the toneless pinyin ("wang li") catches these; the initials ("wl") make a
 * cheap blocking key.  The per-character table is generated at build time
 * from Unihan (Debian unicode-data, see tools/gen-pinyin.py): one reading
 * per character, the most common one, tones dropped, u-umlaut spelled "v".
 *
 * A name is read surname first.  Its first character gets the surname
 * reading where that differs from the common one (单 shan, 曾 zeng, 区 ou,
 * 仇 qiu, 解 xie, 查 zha, 乐 yue, 朴 piao, 覃 qin, ...; compound 尉迟 yu chi);
 * the same character later in the name keeps the table reading.  So pass
 * the whole name, not a given name alone.  Both sides of a comparison go
 * through the same function, so a wrong guess on a rare polyphone still
 * compares equal with itself.
 *
 * Thread-safe: the tables are const and nothing is cached.
 */
#ifndef RHIS_PINYIN_H
#define RHIS_PINYIN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the toneless pinyin of the UTF-8 name utf8 into out, syllables
 * separated by one space: "王丽" -> "wang li", "买买提·艾力" -> "mai mai ti
 * ai li".  Runs of ASCII letters (and full-width Latin letters) are kept
 * as one lower-cased word: "李Anna" -> "li anna"; ü becomes "v".  Anything
 * else without a reading (punctuation such as the '·' of minority names,
 * digits, spaces, kana) is dropped and only separates words.
 *
 * out is always NUL-terminated when outlen > 0 (out may be NULL when
 * outlen is 0).  Truncation drops whole syllables, never part of one.
 * Returns the length the complete result has (like snprintf), so a return
 * value >= outlen means out was truncated; 3 * strlen(utf8) + 1 bytes is
 * always enough.  utf8 NULL or not valid UTF-8: returns 0, out is "".
 */
size_t rhis_pinyin_of(const char *utf8, char *out, size_t outlen);

/*
 * Like rhis_pinyin_of, but writes only the first letter of each syllable
 * or word, without spaces: "王丽" -> "wl", "张Anna" -> "za".  Meant as a
 * blocking key.  Same return value, truncation and error rules.
 */
size_t rhis_pinyin_initials(const char *utf8, char *out, size_t len);

/*
 * The table reading of one code point, without any surname rule: 单 gives
 * "dan" here although rhis_pinyin_of("单...") gives "shan".  Sets *syl (if
 * syl is not NULL) to a static NUL-terminated syllable and returns its
 * length; for a code point without a reading sets *syl to "" and returns 0.
 */
uint32_t rhis_pinyin_syllable(uint32_t codepoint, const char **syl);

#endif
