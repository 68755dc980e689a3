/*
 * log.c - key=value lines on stderr.
 *
 * Why: one line per event, greppable, with a timestamp and level; journald
 * adds the rest.  Never PHI: callers pass ids, not names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rhis/log.h"

int rhis_log_level = RHIS_LOG_INFO;

static const char *const level_names[] = {"err", "warn", "info", "debug"};

void
rhis_log_raw(int level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level < 0   ? 0
                                 : level > 3 ? 3
                                             : level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write keeps lines from interleaving between threads */
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len] = '\n';
    fwrite(line, 1, len + 1, stderr);
}

int
rhis_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}
