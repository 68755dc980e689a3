/*
 * alloc.h - checked allocation and per-request arenas.
 *
 * Why: every buffer in RHIS has a hard cap before anything is allocated, so
 * running out of memory is a bug, not an error to handle at each call site.
 * rhis_xmalloc aborts with file:line on failure.  Request-scoped memory comes
 * from an arena released in one go after the response (nginx r->pool).
 */
#ifndef RHIS_ALLOC_H
#define RHIS_ALLOC_H

#include <stddef.h>

#define RHIS_ASSERT(x)                                                         \
    do {                                                                       \
        if (!(x))                                                              \
            rhis_assert_fail(#x, __FILE__, __LINE__);                          \
    } while (0)

_Noreturn void rhis_assert_fail(const char *expr, const char *file, int line);

void *rhis_xmalloc(size_t n);
void *rhis_xcalloc(size_t count, size_t n);
void *rhis_xrealloc(void *p, size_t n);
char *rhis_xstrdup(const char *s);
char *rhis_xstrndup(const char *s, size_t n);
void rhis_free(void *p);

typedef struct rhis_arena rhis_arena;

/* Returns a new arena; free it with rhis_arena_free. */
rhis_arena *rhis_arena_new(void);
/* Runs the deferred cleanups (last registered first) and frees all blocks.
 * NULL is a no-op. */
void rhis_arena_free(rhis_arena *a);
/* Memory valid until the arena is freed; aligned for any type. */
void *rhis_arena_alloc(rhis_arena *a, size_t n);
void *rhis_arena_calloc(rhis_arena *a, size_t n);
char *rhis_arena_strdup(rhis_arena *a, const char *s);
char *rhis_arena_strndup(rhis_arena *a, const char *s, size_t n);
char *rhis_arena_printf(rhis_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Registers fn(data) to run when the arena is freed. */
void rhis_arena_defer(rhis_arena *a, void (*fn)(void *), void *data);

#endif
