/*
 * detect_int.h - helpers shared by the detector files of src/surveil/
 * (detect.c, ears.c, cusum.c, mpm.c, fixed.c, farrington.c); not a public
 * interface.
 */
#ifndef RHIS_DETECT_INT_H
#define RHIS_DETECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/status.h"

/* snprintf into err (NULL-safe). */
void detect_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Option values: strict parse within [lo, hi], message naming the option. */
rhis_status detect_opt_double(const char *name,
                              const char *value,
                              double lo,
                              double hi,
                              double *out,
                              char *err,
                              size_t errlen);
rhis_status detect_opt_int(const char *name,
                           const char *value,
                           int lo,
                           int hi,
                           int *out,
                           char *err,
                           size_t errlen);
/* Always RHIS_EINVAL: "method M has no option 'name'". */
rhis_status detect_opt_unknown(const char *method,
                               const char *name,
                               char *err,
                               size_t errlen);

/* Standard normal quantile, R's qnorm (AS 241). */
double detect_qnorm(double p);

/* Mean and sd (n-1 denominator; 0 when n == 1) of w[0..n-1], two-pass. */
void detect_mean_sd(const double *w, int n, double *mean, double *sd);

/* 0 = Monday ... 6 = Sunday. */
int detect_weekday(int64_t day);

#endif
