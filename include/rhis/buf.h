/*
 * buf.h - a growable byte buffer with a hard cap (curl dynbuf).
 *
 * Why: request bodies, responses and generated SQL-free text all grow; each
 * growth must stop at a limit fixed when the buffer is made.
 */
#ifndef RHIS_BUF_H
#define RHIS_BUF_H

#include <stddef.h>

#include "rhis/status.h"

typedef struct rhis_buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t max; /* appends that would exceed this fail with RHIS_ETOOBIG */
} rhis_buf;

void rhis_buf_init(rhis_buf *b, size_t max);
void rhis_buf_fini(rhis_buf *b);
void rhis_buf_reset(rhis_buf *b);
rhis_status rhis_buf_append(rhis_buf *b, const void *p, size_t n);
rhis_status rhis_buf_puts(rhis_buf *b, const char *s);
rhis_status rhis_buf_printf(rhis_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
rhis_status rhis_buf_json_str(rhis_buf *b, const char *s);
/* Gives up ownership of the data to the caller (free with rhis_free). */
char *rhis_buf_take(rhis_buf *b);

#endif
