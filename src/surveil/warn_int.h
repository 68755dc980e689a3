/*
 * warn_int.h - helpers shared by the signal store, the daily run and its
 * handlers (src/surveil/signal.c, warn.c, api_signal.c, sched.c only).
 */
#ifndef RHIS_WARN_INT_H
#define RHIS_WARN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/status.h"

/*
 * Parses an ISO date "YYYY-MM-DD" (a real calendar day, years 1900..2999)
 * into days since 1970-01-01.  Returns 0 on success, -1 otherwise.
 */
int warn_day_parse(const char *s, int64_t *days);
/* Formats days since 1970-01-01 as YYYY-MM-DD into out (>= 11 bytes). */
void warn_day_format(int64_t days, char *out, size_t len);
/* Milliseconds since the epoch, wall clock. */
int64_t warn_now_ms(void);

/*
 * Turns the fixed-threshold alerts the report-card module wrote since the
 * last call (meta 'warn.alert_seen') into signals, in one transaction;
 * *n counts the new ones (src/surveil/warn.c).
 */
rhis_status warn_sync_alerts(rhis_db *db, int64_t *n);

#endif
