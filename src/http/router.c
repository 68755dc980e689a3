/*
 * router.c - matches a method and path against the route table.
 *
 * Why: one linear pass over a small static table is fast enough (tens of
 * routes) and easy to audit.  Patterns are literal segments, {name}
 * segments and a final {*name} that takes the rest of the path.  Paths that
 * match some route with another method give 405 rather than 404 (Kore).
 */
#include <string.h>

#include "rhis/http.h"

/* Matches path against pattern; fills params on success. */
static int
match(const char *pattern, const char *path, rhis_arena *a, rhis_route_match *m)
{
    const char *p = pattern, *s = path;
    int n = 0;
    while (*p != '\0') {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pend = strchr(p, '/');
        size_t plen = pend != NULL ? (size_t)(pend - p) : strlen(p);
        const char *send = strchr(s, '/');
        size_t slen = send != NULL ? (size_t)(send - s) : strlen(s);
        if (plen >= 3 && p[0] == '{' && p[1] == '*') {
            /* tail wildcard: the rest, possibly empty or with slashes */
            if (n >= RHIS_MAX_PATH_PARAMS)
                return 0;
            m->params[n].key = rhis_arena_strndup(a, p + 2, plen - 3);
            m->params[n].value = rhis_arena_strdup(a, s);
            m->nparams = n + 1;
            return 1;
        }
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || n >= RHIS_MAX_PATH_PARAMS)
                return 0;
            m->params[n].key = rhis_arena_strndup(a, p + 1, plen - 2);
            m->params[n].value = rhis_arena_strndup(a, s, slen);
            n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    if (*s != '\0')
        return 0;
    m->nparams = n;
    return 1;
}

rhis_status
rhis_route_find(const rhis_route *table,
                size_t n,
                const char *method,
                const char *path,
                rhis_arena *a,
                rhis_route_match *m)
{
    memset(m, 0, sizeof(*m));
    if (path[0] != '/')
        return RHIS_ENOTFOUND;
    int head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < n; i++) {
        rhis_route_match cand = {0};
        if (!match(table[i].pattern, path, a, &cand))
            continue;
        int same = strcmp(table[i].method, method) == 0 ||
                   (head && strcmp(table[i].method, "GET") == 0);
        /* the static catch-all must not turn every unknown path into 405 */
        if (!same && (table[i].flags & ROUTE_STATIC) != 0)
            continue;
        /* a path that some API route takes with another method is a 405,
         * not a static file */
        if (same && (table[i].flags & ROUTE_STATIC) != 0 && m->path_matched > 0)
            return RHIS_EMETHOD;
        m->path_matched++;
        if (same) {
            int matched = m->path_matched;
            *m = cand;
            m->route = &table[i];
            m->path_matched = matched;
            return RHIS_OK;
        }
    }
    return m->path_matched > 0 ? RHIS_EMETHOD : RHIS_ENOTFOUND;
}
