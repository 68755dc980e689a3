/*
 * fuzz_route.c - libFuzzer target for the router (src/http/router.c) with
 * the real route table.
 *
 * Input: "METHOD PATH" - the bytes up to the first space (or, without one,
 * "GET") are the method, the rest the already-decoded path.  Oracles: a
 * match names a row of the table whose method fits, with no more parameters
 * than the pattern has, each a non-empty-keyed arena string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* the server hands the router NUL-terminated strings */
    char *buf = rhis_xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *method = "GET";
    char *path = buf;
    char *sp = memchr(buf, ' ', size);
    if (sp != NULL) {
        *sp = '\0';
        method = buf;
        path = sp + 1;
    }

    size_t n;
    const rhis_route *table = rhis_routes(&n);
    rhis_arena *a = rhis_arena_new();
    rhis_route_match m;
    rhis_status rc = rhis_route_find(table, n, method, path, a, &m);
    if (rc == RHIS_OK) {
        if (m.route == NULL || m.route < table || m.route >= table + n)
            abort();
        if (strcmp(m.route->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 &&
              strcmp(m.route->method, "GET") == 0))
            abort();
        if (m.nparams < 0 || m.nparams > RHIS_MAX_PATH_PARAMS)
            abort();
        for (int i = 0; i < m.nparams; i++) {
            if (m.params[i].key == NULL || m.params[i].value == NULL ||
                m.params[i].key[0] == '\0')
                abort();
            if (strstr(m.route->pattern, m.params[i].key) == NULL)
                abort();
            /* {name} values are one non-empty segment */
            if (strchr(m.params[i].value, '/') != NULL &&
                strstr(m.route->pattern, "{*") == NULL)
                abort();
        }
        /* matching is deterministic */
        rhis_route_match m2;
        if (rhis_route_find(table, n, method, path, a, &m2) != RHIS_OK ||
            m2.route != m.route)
            abort();
    } else if (rc != RHIS_ENOTFOUND && rc != RHIS_EMETHOD) {
        abort();
    }
    rhis_arena_free(a);
    rhis_free(buf);
    return 0;
}
