/*
 * alloc.c - checked allocation and arenas.
 *
 * Why: with every buffer capped before allocation, OOM is a bug; aborting
 * with file:line beats thousands of untestable NULL branches (h2o, jq).
 * The only file allowed to call malloc/free directly.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"

_Noreturn void
rhis_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "level=err msg=\"assertion failed\" expr=\"%s\" at=%s:%d\n",
            expr, file, line);
    abort();
}

static _Noreturn void
oom(size_t n)
{
    fprintf(stderr, "level=err msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *
rhis_xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL)
        oom(n);
    return p;
}

void *
rhis_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count == 0 ? 1 : count, n == 0 ? 1 : n);
    if (p == NULL)
        oom(count * n);
    return p;
}

void *
rhis_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);
    if (q == NULL)
        oom(n);
    return q;
}

char *
rhis_xstrdup(const char *s)
{
    return rhis_xstrndup(s, strlen(s));
}

char *
rhis_xstrndup(const char *s, size_t n)
{
    RHIS_ASSERT(n < ((size_t)1 << 40));
    char *p = rhis_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
rhis_free(void *p)
{
    free(p);
}

/* Blocks are chained; big requests get a block of their own. */
#define ARENA_BLOCK 8192

typedef struct block {
    struct block *next;
    size_t used, size;
    _Alignas(max_align_t) unsigned char data[];
} block;

typedef struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *data;
} deferred;

struct rhis_arena {
    block *head;
    deferred *defers;
};

rhis_arena *
rhis_arena_new(void)
{
    return rhis_xcalloc(1, sizeof(rhis_arena));
}

void
rhis_arena_free(rhis_arena *a)
{
    if (a == NULL)
        return;
    for (deferred *d = a->defers; d != NULL; d = d->next)
        d->fn(d->data);
    block *b = a->head;
    while (b != NULL) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *
rhis_arena_alloc(rhis_arena *a, size_t n)
{
    /* sizes come from capped buffers; a huge one is a bug, not an error */
    RHIS_ASSERT(n < ((size_t)1 << 40));
    size_t need =
        (n + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
    if (need == 0)
        need = _Alignof(max_align_t);
    block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        block *nb = rhis_xmalloc(sizeof(block) + size);
        nb->used = 0;
        nb->size = size;
        if (need > ARENA_BLOCK && b != NULL) {
            /* keep the current block on top for small requests */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void *
rhis_arena_calloc(rhis_arena *a, size_t n)
{
    void *p = rhis_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *
rhis_arena_strndup(rhis_arena *a, const char *s, size_t n)
{
    char *p = rhis_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
rhis_arena_strdup(rhis_arena *a, const char *s)
{
    return s == NULL ? NULL : rhis_arena_strndup(a, s, strlen(s));
}

char *
rhis_arena_printf(rhis_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    RHIS_ASSERT(n >= 0);
    char *p = rhis_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
rhis_arena_defer(rhis_arena *a, void (*fn)(void *), void *data)
{
    deferred *d = rhis_arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->data = data;
    d->next = a->defers;
    a->defers = d;
}
