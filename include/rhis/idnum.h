/*
 * idnum.h - the resident identity number (居民身份证号码, GB 11643-1999)
 * validator used by the master patient index.
 *
 * Why: the identity number is the strongest key the master patient index
 * has for linking a person's records across institutions, so a mistyped
 * number must be caught at the door, with a message that says which part
 * is wrong, before it creates a duplicate patient or merges two.  The
 * number is personal data: messages name positions and the faulty part,
 * never the whole number, and lists show it masked.
 *
 * Layout of the 18 characters: 6-digit area code (GB/T 2260 code of the
 * place of registration at issue), 8-digit birth date YYYYMMDD, 3-digit
 * sequence (odd = male, even = female), ISO 7064 MOD 11-2 check character
 * (a digit or X).
 *
 * The area code is checked only for a real province prefix and a non-zero
 * county part, not against today's division table: counties are merged and
 * renumbered between GB/T 2260 editions, but a number, once issued, never
 * changes, so a code retired decades ago is still valid on a card.
 *
 * Everything here is pure and allocation-free; safe from any thread.
 */
#ifndef RHIS_IDNUM_H
#define RHIS_IDNUM_H

#include <stddef.h>
#include <time.h>

#include "rhis/status.h"

/* Characters in a resident identity number. */
#define RHIS_IDNUM_LEN 18

/* The parts of a valid number, filled by rhis_idnum_check(). */
typedef struct rhis_idnum {
    char normalised[RHIS_IDNUM_LEN + 1]; /* the number, 'x' written 'X' */
    char area[7];                        /* 6-digit area code */
    int year, month, day;                /* birth date */
    int sequence;                        /* 0..999 */
    char sex;                            /* 'M' odd sequence, 'F' even */
    char check;                          /* '0'..'9' or 'X' */
} rhis_idnum;

/*
 * Validates s as a resident identity number on the calendar date that now
 * falls on in China Standard Time (UTC+8, no daylight saving): exactly 18
 * characters, the first 17 ASCII digits, the last a digit, 'X' or 'x'; a
 * province code from GB/T 2260 (11-15, 21-23, 31-37, 41-46, 50-54, 61-65,
 * 71, 81, 82) with a county part other than 00; a real birth date from
 * 1900-01-01 to today; and the MOD 11-2 check character.  s is taken as
 * is: callers trim whitespace and convert full-width digits themselves.
 *
 * On success returns RHIS_OK and fills *out (OUT, may be NULL).  On failure
 * returns RHIS_EINVAL, zeroes *out and writes one English sentence naming
 * the first fault to err (may be NULL; truncated to errlen), e.g. "ID
 * number character 5 is not a digit".  Positions are 1-based characters.
 * The message may quote the faulty part (the area code or the birth date)
 * but never the whole number; it is for the person who typed the number,
 * not for logs.
 */
rhis_status rhis_idnum_check_at(
    const char *s, time_t now, rhis_idnum *out, char *err, size_t errlen);

/* rhis_idnum_check_at() with now = time(NULL). */
rhis_status
rhis_idnum_check(const char *s, rhis_idnum *out, char *err, size_t errlen);

/*
 * The check character ('0'..'9' or 'X') for the first 17 characters of
 * first17, or '\0' if any of them is not an ASCII digit or the string is
 * shorter.  Reads at most 17 characters, so a full 18-character number may
 * be passed.
 */
char rhis_idnum_check_char(const char *first17);

/*
 * 1 if sex ('M' or 'F', either case) is the sex the sequence encodes, 0 if
 * it is the other one, or if sex is anything else (unknown is not
 * agreement) or id is NULL.
 */
int rhis_idnum_sex_agrees(const rhis_idnum *id, char sex);

/*
 * Writes the display form of s for lists to out (OUT, always
 * NUL-terminated): the first 6 and last 4 characters kept, the 8 between
 * as '*', e.g. "220221********123X"; 'x' is shown as 'X'.  Any kept
 * character that is not a digit or X is starred too, and a string that is
 * NULL or not 18 bytes long gives 18 stars, so nothing but digits and X
 * can leak from malformed input.  s need not be valid.
 */
void rhis_idnum_mask(const char *s, char out[RHIS_IDNUM_LEN + 1]);

#endif
