/*
 * plans_int.h - internals shared by the plan-monitoring files of
 * src/plan/ (plans.c, status.c, lint.c, report.c, the API files); the
 * indicator engine's own internals are in plan_int.h.
 */
#ifndef RHIS_PLANS_INT_H
#define RHIS_PLANS_INT_H

#include <stdint.h>

#include "rhis/plan.h"

/* Wall-clock milliseconds. */
int64_t plans_now_ms(void);
/* Parses a whole decimal number: 1 and *out set, 0 for "", -1 malformed. */
int plans_parse_number(const char *s, double *out);

#endif
