/*
 * ratelimit.c - fixed-window counters for login attempts.
 *
 * Why: argon2id costs 83 ms and 64 MiB per try, so an unthrottled login
 * endpoint is the cheapest denial of service and a password-guessing
 * oracle.  Counters are per process and in memory: a restart forgets them,
 * which is acceptable for windows of minutes.  The table is bounded; when
 * it is full of live keys, new keys are refused (fail closed).
 */
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "server_int.h"

static uint64_t
hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Finds key's slot, or a free/expired one to take; NULL when full. */
static rl_slot *
lookup(rhis_server *srv, const char *key, int window, int64_t now)
{
    if (srv->rl == NULL)
        srv->rl = rhis_xcalloc(RL_SLOTS, sizeof(rl_slot));
    size_t i = hash(key) & (RL_SLOTS - 1);
    rl_slot *reuse = NULL;
    for (size_t probe = 0; probe < 64; probe++) {
        rl_slot *s = &srv->rl[(i + probe) & (RL_SLOTS - 1)];
        if (strcmp(s->key, key) == 0)
            return s;
        if (reuse == NULL &&
            (s->key[0] == '\0' || now - s->window_start >= window))
            reuse = s;
    }
    if (reuse != NULL) {
        snprintf(reuse->key, sizeof(reuse->key), "%s", key);
        reuse->window_start = now;
        reuse->count = 0;
    }
    return reuse;
}

rhis_status
rhis_ratelimit_hit(
    rhis_server *srv, const char *key, int limit, int window, int record)
{
    int64_t now = (int64_t)time(NULL);
    rhis_status rc = RHIS_OK;
    pthread_mutex_lock(&srv->rl_mu);
    rl_slot *s = lookup(srv, key, window, now);
    if (s == NULL) {
        rc = RHIS_ERATE;
    } else {
        if (now - s->window_start >= window) {
            s->window_start = now;
            s->count = 0;
        }
        if (s->count >= limit)
            rc = RHIS_ERATE;
        else if (record)
            s->count++;
    }
    pthread_mutex_unlock(&srv->rl_mu);
    return rc;
}

void
rhis_ratelimit_clear(rhis_server *srv, const char *key)
{
    pthread_mutex_lock(&srv->rl_mu);
    if (srv->rl != NULL) {
        size_t i = hash(key) & (RL_SLOTS - 1);
        for (size_t probe = 0; probe < 64; probe++) {
            rl_slot *s = &srv->rl[(i + probe) & (RL_SLOTS - 1)];
            if (strcmp(s->key, key) == 0) {
                s->count = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&srv->rl_mu);
}

void
rhis_ratelimit_free_all(rhis_server *srv)
{
    rhis_free(srv->rl);
    srv->rl = NULL;
}
