/*
 * text.h - small text checks shared by parsers of untrusted input.
 *
 * Why: URLs, CSV imports and JSON all carry Chinese text; anything that is
 * not valid UTF-8 (a GBK spreadsheet, a truncated character) must be
 * refused at the boundary, never stored.
 */
#ifndef RHIS_TEXT_H
#define RHIS_TEXT_H

#include <stddef.h>

/* True if [s, s+n) is valid UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF) without NUL bytes. */
int rhis_utf8_valid(const char *s, size_t n);

#endif
