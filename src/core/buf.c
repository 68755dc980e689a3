/*
 * buf.c - capped growable buffers.
 *
 * Why: a response or body that could grow without bound is a denial of
 * service; every buffer states its maximum when made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/buf.h"

void
rhis_buf_init(rhis_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
rhis_buf_fini(rhis_buf *b)
{
    rhis_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
rhis_buf_reset(rhis_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static rhis_status
reserve(rhis_buf *b, size_t n)
{
    if (n > b->max || b->len + n > b->max)
        return RHIS_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return RHIS_OK;
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->data = rhis_xrealloc(b->data, cap);
    b->cap = cap;
    return RHIS_OK;
}

rhis_status
rhis_buf_append(rhis_buf *b, const void *p, size_t n)
{
    rhis_status st = reserve(b, n);
    if (st != RHIS_OK)
        return st;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return RHIS_OK;
}

rhis_status
rhis_buf_puts(rhis_buf *b, const char *s)
{
    return rhis_buf_append(b, s, strlen(s));
}

rhis_status
rhis_buf_printf(rhis_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RHIS_EINVAL;
    rhis_status st = reserve(b, (size_t)n);
    if (st != RHIS_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RHIS_OK;
}

rhis_status
rhis_buf_json_str(rhis_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    rhis_status st = rhis_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s;
         st == RHIS_OK && *p != '\0'; p++) {
        char esc[7];
        switch (*p) {
        case '"':
            st = rhis_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            st = rhis_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            st = rhis_buf_append(b, "\\n", 2);
            break;
        case '\r':
            st = rhis_buf_append(b, "\\r", 2);
            break;
        case '\t':
            st = rhis_buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                st = rhis_buf_append(b, esc, 6);
            } else {
                st = rhis_buf_append(b, p, 1);
            }
        }
    }
    if (st == RHIS_OK)
        st = rhis_buf_append(b, "\"", 1);
    return st;
}

char *
rhis_buf_take(rhis_buf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = rhis_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
