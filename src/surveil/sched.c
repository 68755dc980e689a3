/*
 * sched.c - the detection scheduler inside `rhis serve`.
 *
 * Why: CIDARS computes every day without anyone asking; the server does
 * the same.  One thread with its own database connection (as the WAL
 * checkpointer in src/http/server.c) wakes every 5 s:
 *   - turns new fixed-threshold alerts into signals (so a single case of
 *     cholera reaches the duty desk within seconds of the card, with the
 *     2 h deadline counted from the card's write);
 *   - escalates signals whose response deadline has passed;
 *   - once a day after warn_time (server local time), runs the detection
 *     for yesterday (the last complete Beijing day) unless warn_run says
 *     that day already ran; so a server started after warn_time catches
 *     up at once, and a restart does not run a day twice.
 * Stopping signals the thread and joins it; a run in progress finishes
 * first (it is one transaction either way).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/log.h"
#include "rhis/warn.h"
#include "warn_int.h"

#define TICK_SECONDS 5
#define BEIJING_MS   (8LL * 3600 * 1000)

struct rhis_warn_sched {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int minute; /* warn_time in minutes after midnight, -1 off */
    char db_url[512];
    char data_dir[512];
    char push[16], push_severity[8]; /* the push policy (config) */
    int push_days;
    char tried[11]; /* the day last attempted: once per day per process */
};

int
rhis_warn_time_parse(const char *s)
{
    if (s == NULL)
        return -2;
    if (strcmp(s, "off") == 0)
        return -1;
    if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
        s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' ||
        s[4] > '9')
        return -2;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 ? h * 60 + m : -2;
}

/* Minutes after local midnight now. */
static int
local_minute(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_hour * 60 + tm.tm_min;
}

/* Runs yesterday's detection unless warn_run has it (ok or running). */
static void
daily(rhis_warn_sched *s, rhis_db *db)
{
    char day[11];
    int64_t today = (warn_now_ms() + BEIJING_MS) / 86400000;
    warn_day_format(today - 1, day, sizeof(day));
    if (strcmp(day, s->tried) == 0)
        return;
    int64_t n = 0;
    if (rhis_db_scalar_int64(db, &n,
                             "SELECT COUNT(*) FROM warn_run WHERE day = ?"
                             " AND status IN ('ok', 'running')",
                             "s", day) != RHIS_OK ||
        n > 0)
        return;
    memcpy(s->tried, day, sizeof(s->tried));
    rhis_warn_opts o;
    memset(&o, 0, sizeof(o));
    o.data_dir = s->data_dir;
    o.push = s->push;
    o.push_severity = s->push_severity;
    o.push_days = s->push_days;
    rhis_warn_result r;
    char err[256] = "";
    rhis_status rc = rhis_warn_run(db, day, &o, &r, err, sizeof(err));
    if (rc != RHIS_OK)
        rhis_log(RHIS_LOG_ERR,
                 "msg=\"daily detection failed\" day=%s "
                 "err=\"%s\"",
                 day, err);
    else
        rhis_log(RHIS_LOG_INFO,
                 "msg=\"daily detection\" day=%s series=%lld alarms=%lld "
                 "new_signals=%lld seconds=%.2f",
                 day, (long long)r.series, (long long)r.alarms,
                 (long long)r.signals_new, r.seconds);
}

static void *
sched_main(void *arg)
{
    rhis_warn_sched *s = arg;
    rhis_db *db = NULL;
    char err[256];
    for (;;) {
        if (db == NULL &&
            rhis_db_open(&db, s->db_url, err, sizeof(err)) != RHIS_OK) {
            rhis_log(RHIS_LOG_WARN, "msg=\"detection scheduler cannot open "
                                    "the database\"");
            db = NULL;
        }
        if (db != NULL) {
            int64_t n = 0;
            int esc = 0;
            if (warn_sync_alerts(db, &n) == RHIS_OK && n > 0)
                rhis_log(RHIS_LOG_INFO,
                         "msg=\"fixed-threshold signals\" new=%lld",
                         (long long)n);
            if (rhis_signal_escalate_overdue(db, warn_now_ms(), &esc) ==
                    RHIS_OK &&
                esc > 0)
                rhis_log(RHIS_LOG_INFO, "msg=\"signals escalated\" n=%d", esc);
            if (s->minute >= 0 && local_minute() >= s->minute)
                daily(s, db);
        }
        pthread_mutex_lock(&s->mu);
        if (!s->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += TICK_SECONDS;
            (void)pthread_cond_timedwait(&s->cv, &s->mu, &until);
        }
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
    }
    rhis_db_close(db);
    return NULL;
}

rhis_status
rhis_warn_sched_start(rhis_warn_sched **out, const rhis_config *conf)
{
    *out = NULL;
    int minute = rhis_warn_time_parse(conf->warn_time);
    if (minute == -2) {
        rhis_log(RHIS_LOG_ERR, "msg=\"warn_time is not HH:MM or off\"");
        return RHIS_EINVAL;
    }
    rhis_warn_sched *s = rhis_xcalloc(1, sizeof(*s));
    s->minute = minute;
    snprintf(s->db_url, sizeof(s->db_url), "%s", conf->db);
    snprintf(s->data_dir, sizeof(s->data_dir), "%s", conf->data_dir);
    snprintf(s->push, sizeof(s->push), "%s", conf->warn_push);
    snprintf(s->push_severity, sizeof(s->push_severity), "%s",
             conf->warn_push_severity);
    s->push_days = conf->warn_push_days;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, sched_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        rhis_free(s);
        return RHIS_EINTERNAL;
    }
    *out = s;
    return RHIS_OK;
}

void
rhis_warn_sched_stop(rhis_warn_sched *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    rhis_free(s);
}
