/*
 * query.c - percent-decoding and query-string parsing.
 *
 * Why: FHIR search repeats parameters and cares about their order, which
 * libmicrohttpd's argument table does not keep; and malformed escapes must
 * be a 400, not silently mangled.  Pure functions, fuzzed by
 * tests/fuzz/fuzz_query.c.
 */
#include <string.h>

#include "rhis/http.h"
#include "rhis/text.h"

static int
hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

char *
rhis_url_decode(rhis_arena *a, const char *s, size_t len, int plus_is_space)
{
    char *out = rhis_arena_alloc(a, len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return NULL;
            int h = hexval((unsigned char)s[i + 1]);
            int l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return NULL;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    if (!rhis_utf8_valid(out, o))
        return NULL;
    return out;
}

rhis_status
rhis_query_parse(rhis_arena *a, const char *qs, size_t len, rhis_query *q)
{
    q->n = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && qs[i] != '&')
            i++;
        size_t end = i;
        if (i < len)
            i++; /* skip '&' */
        if (end == start)
            continue; /* "a=1&&b=2" */
        if (q->n >= RHIS_MAX_QUERY_PARAMS)
            return RHIS_ETOOBIG;
        const char *eq = memchr(qs + start, '=', end - start);
        size_t klen = eq != NULL ? (size_t)(eq - (qs + start)) : end - start;
        if (klen == 0)
            return RHIS_EINVAL;
        char *k = rhis_url_decode(a, qs + start, klen, 1);
        char *v = eq != NULL ? rhis_url_decode(a, eq + 1,
                                               (size_t)(qs + end - eq - 1), 1)
                             : rhis_arena_strdup(a, "");
        if (k == NULL || v == NULL)
            return RHIS_EINVAL;
        q->kv[q->n].key = k;
        q->kv[q->n].value = v;
        q->n++;
    }
    return RHIS_OK;
}
