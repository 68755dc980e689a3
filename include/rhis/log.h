/*
 * log.h - one line per event on stderr, key=value fields.
 *
 * Why: operators read logs with journald and grep; patient data never goes
 * here (ids only).  tools/checksrc.sh flags sensitive field names in calls.
 */
#ifndef RHIS_LOG_H
#define RHIS_LOG_H

enum { RHIS_LOG_ERR = 0, RHIS_LOG_WARN, RHIS_LOG_INFO, RHIS_LOG_DEBUG };

extern int rhis_log_level;

/* Skips argument evaluation below the threshold (Redis serverLog). */
#define rhis_log(level, ...)                                                   \
    do {                                                                       \
        if ((level) <= rhis_log_level)                                         \
            rhis_log_raw((level), __VA_ARGS__);                                \
    } while (0)

void rhis_log_raw(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parses "err", "warn", "info", "debug"; returns -1 if unknown. */
int rhis_log_level_parse(const char *s);

#endif
