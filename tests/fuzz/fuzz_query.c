/*
 * fuzz_query.c - libFuzzer target for the query-string parser and the
 * percent-decoder (src/http/query.c).
 *
 * Why: the query string is the first untrusted text a request carries.
 * Oracles beyond "no crash": every decoded key and value is valid UTF-8
 * without NUL and no longer than its input, and decoding twice gives the
 * same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_decoded(const char *s, size_t inlen)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    if (n > inlen)
        abort(); /* decoding never grows the text */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhis_arena *a = rhis_arena_new();
    const char *s = (const char *)data;

    rhis_query q;
    rhis_status rc = rhis_query_parse(a, s, size, &q);
    if (rc == RHIS_OK) {
        if (q.n < 0 || q.n > RHIS_MAX_QUERY_PARAMS)
            abort();
        for (int i = 0; i < q.n; i++) {
            if (q.kv[i].key == NULL || q.kv[i].value == NULL ||
                q.kv[i].key[0] == '\0')
                abort();
            check_decoded(q.kv[i].key, size);
            check_decoded(q.kv[i].value, size);
        }
    } else if (rc != RHIS_EINVAL && rc != RHIS_ETOOBIG) {
        abort();
    }

    for (int plus = 0; plus <= 1; plus++) {
        char *d1 = rhis_url_decode(a, s, size, plus);
        char *d2 = rhis_url_decode(a, s, size, plus);
        if ((d1 == NULL) != (d2 == NULL))
            abort();
        if (d1 != NULL) {
            check_decoded(d1, size);
            if (strcmp(d1, d2) != 0)
                abort();
            /* a plain decode of text without '%' and '+' is the identity */
            if (memchr(s, '%', size) == NULL && memchr(s, '+', size) == NULL &&
                (strlen(d1) != size || memcmp(d1, s, size) != 0))
                abort();
        }
    }
    rhis_arena_free(a);
    return 0;
}
