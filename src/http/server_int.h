/*
 * server_int.h - the server's private state, shared by server.c,
 * ratelimit.c and api_system.c (src/http/ only).
 */
#ifndef RHIS_HTTP_SERVER_INT_H
#define RHIS_HTTP_SERVER_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rhis/http.h"

#define NBUCKETS     12
#define MAX_DEFERRED 256  /* logins waiting for a worker before 503 */
#define RL_SLOTS     8192 /* rate-limit keys remembered at once */

struct conn_ctx;

typedef struct work_item {
    struct work_item *next;
    struct conn_ctx *ctx;
} work_item;

typedef struct rl_slot {
    char key[80]; /* "" = free */
    int64_t window_start;
    int count;
} rl_slot;

struct rhis_server {
    rhis_config conf;
    const rhis_route *routes;
    size_t nroutes;
    struct MHD_Daemon *mhd;
    struct sockaddr_in addr;
    rhis_db_pool *pool;
    uint32_t boot_id;
    _Atomic uint64_t seq;
    _Atomic long inflight;
    _Atomic uint64_t total, aborted, dur_us;
    _Atomic uint64_t by_class[6];
    _Atomic uint64_t hist[NBUCKETS + 1];
    /* deferred-work pool */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    work_item *whead, *wtail;
    int wqueued, wstop, nworkers;
    pthread_t *workers;
    /* group commit: write requests waiting for the writer thread */
    pthread_mutex_t gmu;
    pthread_cond_t gcv;
    work_item *ghead, *gtail;
    int gqueued, gstop, gstarted;
    pthread_t gwriter;
    pthread_t checkpointer; /* SQLite: WAL checkpoints off the writer */
    pthread_cond_t ckcv;    /* its own: gcv wakes the writer only */
    int ckstarted;
    _Atomic uint64_t groups, group_writes;
    /* login rate limits */
    pthread_mutex_t rl_mu;
    rl_slot *rl;
};

void rhis_ratelimit_free_all(struct rhis_server *srv);

#endif
