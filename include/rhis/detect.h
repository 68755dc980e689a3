/*
 * detect.h - outbreak detectors over one count series (src/surveil/).
 *
 * Why: the surveillance module runs the same statistical detectors in three
 * places: `rhis detect` (an epidemiologist's tool over any CSV series), the
 * server's nightly run over every township x disease x channel, and the
 * cross-check against R `surveillance` in the tests.  Each detector is a
 * pure function: counts in, per-point upper bound, alarm and statistics out;
 * no database, no I/O, no global state, so it is unit-testable and the three
 * callers cannot drift apart.  docs/surveillance.md has the formulas.
 *
 * Conventions shared by every method:
 * - A series is y[0..n-1], y[0] the oldest, non-negative finite counts, one
 *   point per `step` days (1 daily, 7 weekly), y[0] on day `day0` (days
 *   since 1970-01-01; weekly points are labelled by their Monday).
 * - A method evaluates points from <= i < to and may read any y[j], j <= i
 *   (never the future).  Points outside [from, to) are not evaluable.
 * - alarm[i] is RHIS_DETECT_NA (-1) where the point is not evaluable (not
 *   enough history, outside the range, or the method's documented
 *   short-baseline rule), else 0 or 1.  Where alarm[i] is NA, upper[i] and
 *   every statistic are NAN and must not be used (the CSV writes "NA").
 * - Where alarm[i] is 0 or 1, upper[i] is finite: detectors never divide by
 *   zero and never emit a NaN threshold.  Statistics may be +-INFINITY
 *   where the method's definition makes them so (an EARS statistic over a
 *   baseline with sd 0); each method documents it.
 * - Unless a method says otherwise, alarm[i] == 1 iff y[i] > upper[i].
 *   Exceptions, documented per method: textbook EARS C3 can alarm whatever
 *   today's count is (upper is then 0); CUSUM's bound is R's rounded-up
 *   one (alarm iff y >= upper); MPM with ge = 1 compares with >= and its
 *   min_count floor can hold an alarm back.
 *
 * Threading: every function is reentrant; options and series are borrowed
 * read-only, results are written only into the caller's rhis_detect_result.
 */
#ifndef RHIS_DETECT_H
#define RHIS_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "rhis/status.h"

#define RHIS_DETECT_NA (-1)

/* Longest series accepted by the CSV reader and the CLI (about 270 years
 * of days); callers building series themselves should respect it too. */
#define RHIS_DETECT_MAX_POINTS 100000

typedef struct rhis_detect_series {
    const double *y; /* n counts, borrowed */
    size_t n;
    int64_t day0; /* day number of y[0], days since 1970-01-01 */
    int step;     /* 1 = daily, 7 = weekly (Monday-start weeks) */
} rhis_detect_series;

/* Method-specific output columns per method, at most this many. */
#define RHIS_DETECT_MAX_COLS 8

/*
 * Per-point results.  Caller-owned: rhis_detect_result_init allocates the
 * arrays for n points and the method's columns, _fini frees them.
 * cols[c][i] is statistic c (named method->col_names[c]) at point i.
 */
typedef struct rhis_detect_result {
    size_t n;
    double *upper;
    int8_t *alarm;
    int ncols;
    double *cols[RHIS_DETECT_MAX_COLS];
} rhis_detect_result;

/*
 * One row of the method table.  `opts` points at opts_size bytes that the
 * caller provides (e.g. a union or rhis_xmalloc(m->opts_size)); defaults()
 * fills it with the package defaults, set_opt() parses one "name", "value"
 * pair (the CLI passes `--name value`; the server passes settings from the
 * disease catalogue), and run() evaluates [from, to).  set_opt and run
 * write a message into err on RHIS_EINVAL; run fails only on invalid options
 * or a series with negative/non-finite counts, never because the history is
 * too short (those points come back NA).  opt_help is one line per option
 * for `rhis detect --help`.
 */
typedef struct rhis_detect_method {
    const char *name; /* "ears-c1", "mpm", ... */
    const char *summary;
    const char *opt_help;
    size_t opts_size;
    int ncols;
    const char *col_names[RHIS_DETECT_MAX_COLS];
    void (*defaults)(void *opts);
    rhis_status (*set_opt)(void *opts,
                           const char *name,
                           const char *value,
                           char *err,
                           size_t errlen);
    rhis_status (*run)(const rhis_detect_series *s,
                       const void *opts,
                       size_t from,
                       size_t to,
                       rhis_detect_result *res,
                       char *err,
                       size_t errlen);
} rhis_detect_method;

/*
 * The method table in a fixed order: rhis_detect_method_at(i) for i = 0,
 * 1, ... until it returns NULL.  Rows are defined next to their method;
 * Farrington's two rows live in src/surveil/farrington.c.
 */
const rhis_detect_method *rhis_detect_method_at(size_t i);

extern const rhis_detect_method rhis_detect_method_fixed;
extern const rhis_detect_method rhis_detect_method_ears_c1;
extern const rhis_detect_method rhis_detect_method_ears_c2;
extern const rhis_detect_method rhis_detect_method_ears_c3;
extern const rhis_detect_method rhis_detect_method_ears_c3_compat;
extern const rhis_detect_method rhis_detect_method_cusum;
extern const rhis_detect_method rhis_detect_method_mpm;
extern const rhis_detect_method rhis_detect_method_farrington;
extern const rhis_detect_method rhis_detect_method_noufaily;

/* Returns the method called name, or NULL. */
const rhis_detect_method *rhis_detect_method_find(const char *name);

/*
 * Parses "name=value,name=value" (spaces around items allowed; empty spec
 * is fine) through m->set_opt.  For per-disease settings stored as text.
 */
rhis_status rhis_detect_configure(const rhis_detect_method *m,
                                  void *opts,
                                  const char *spec,
                                  char *err,
                                  size_t errlen);

/* Allocates res for n points and m's columns, everything NA/NAN. */
void rhis_detect_result_init(rhis_detect_result *res,
                             const rhis_detect_method *m,
                             size_t n);
void rhis_detect_result_fini(rhis_detect_result *res);

/*
 * Marks every point of res NA (alarm NA, upper and columns NAN).  Methods
 * call it first, then fill what they evaluate.
 */
void rhis_detect_result_clear(rhis_detect_result *res);

/*
 * Checks the series (n <= RHIS_DETECT_MAX_POINTS, counts finite and >= 0,
 * step 1 or 7, from <= to <= n); RHIS_EINVAL with a message otherwise.
 * Every run() calls it.
 */
rhis_status rhis_detect_check(const rhis_detect_series *s,
                              size_t from,
                              size_t to,
                              const rhis_detect_result *res,
                              char *err,
                              size_t errlen);

/* ---- Methods with typed options (the table rows wrap these) ------------ */

/*
 * Fixed threshold (固定阈值法, CIDARS method 1): alarm iff y >= k; upper is
 * k - 1 so that alarm iff y > upper holds.  Every point is evaluable.
 * Default k = 1: a single case alerts.  The card module calls it on the
 * write with the day's count for a fixed-threshold disease.
 */
typedef struct rhis_detect_fixed_opts {
    double k; /* >= 1 */
} rhis_detect_fixed_opts;

rhis_status rhis_detect_fixed(const rhis_detect_series *s,
                              const rhis_detect_fixed_opts *o,
                              size_t from,
                              size_t to,
                              rhis_detect_result *res,
                              char *err,
                              size_t errlen);

/*
 * EARS C1, C2, C3 as in R surveillance::earsC (1.20.3) and the EARS
 * definitions.  Defaults: baseline 7, min_sigma 0, alpha 0.001 for C1/C2
 * and 0.025 for C3 (alpha < 0 in the struct means "the method's default").
 * - C1: window t-B..t-1; C2 and C3: window t-B-2..t-3 (2-point guard).
 * - mean and sd (n-1) of the window; sigma = max(sd, min_sigma);
 *   upper = mean + z(1-alpha) * sigma; alarm iff y > upper (strict, as R).
 * - sigma == 0 (a flat baseline, min_sigma 0): upper = mean, so any count
 *   above the flat baseline alarms, exactly like R; the statistic
 *   (y-mean)/sigma is +INFINITY above, -INFINITY below and 0 at the mean
 *   (R gives NaN there; we define it so C3 stays defined).
 * - C3 textbook: C3(t) = sum_{i=t-2..t} max(0, C2(i) - 1), alarm iff
 *   C3(t) > z(1-alpha).  Given r = z - p(t-1) - p(t-2): if r >= 0,
 *   upper = mean2 + sigma2 * (1 + r) and alarm iff y > upper; if r < 0 the
 *   alarm fires whatever y is and upper is reported as 0.
 * - C3 compat (ears-c3-compat) reproduces earsC's rule exactly:
 *   upper = max(0, y + sigma2 * (z - p(t-1) - p(t-2))), alarm iff y > upper
 *   (i.e. p(t-1) + p(t-2) > z and y > 0); today's C2 is not used.  With
 *   sigma2 == 0 the p terms are +-INFINITY or 0 as above; upper is then
 *   0 if p(t-1)+p(t-2) = +INF, else y (never NaN; R gives NaN and an NA
 *   alarm in these 0/0 cases, the only place compat differs).
 * First evaluable index (0-based): C1 B, C2 B+2, C3 B+4; B >= 3.
 * Columns: C1/C2 mean, sd, stat; C3 mean, sd, c2 (C2 at t), stat (the C3
 * sum); C3 compat the same plus p12 = p(t-1) + p(t-2).
 */
typedef enum rhis_detect_ears_kind {
    RHIS_DETECT_C1 = 1,
    RHIS_DETECT_C2 = 2,
    RHIS_DETECT_C3 = 3,
    RHIS_DETECT_C3_COMPAT = 4,
} rhis_detect_ears_kind;

typedef struct rhis_detect_ears_opts {
    rhis_detect_ears_kind kind;
    int baseline;     /* B >= 3, default 7 */
    double min_sigma; /* >= 0, default 0 */
    double alpha;     /* (0, 0.5]; < 0 = default for the kind */
} rhis_detect_ears_opts;

rhis_status rhis_detect_ears(const rhis_detect_series *s,
                             const rhis_detect_ears_opts *o,
                             size_t from,
                             size_t to,
                             rhis_detect_result *res,
                             char *err,
                             size_t errlen);

/*
 * CUSUM with reset: the Rossi approximate Poisson CUSUM of R
 * surveillance::cusum / algo.cusum (trans = "standard"), which is Page's
 * CUSUM on standardized counts.  Defaults as the package: k = 1.04,
 * h = 2.26, m = the mean of all points before `from` (R's m = NULL), and
 * reset after an alarm (the package's reset = TRUE of >= 1.25.0; 1.20.3
 * has no reset, use reset = 0 to match it).
 *   z_t = (y_t - m) / sqrt(m);  S_t = max(0, S_{t-1} + z_t - k);
 *   alarm iff S_t >= h;  with reset, S_t is set to 0 after an alarm;
 *   upper_t = ceil(sqrt(m) (h + k - S_{t-1}) + m), floored at 0 (the
 *   package's bound): for integer counts alarm iff y_t >= upper_t, the
 *   one method where the alarm is not "y > upper".
 * The recursion starts at S = 0 on the first evaluated point, so results
 * depend on `from` (the nightly run evaluates a trailing window).
 * m modes: TRAIN (default): m = mean of y[0..from-1]; with from == 0 the
 * first `train` points are the training period and evaluation starts after
 * them; neither is an error (RHIS_EINVAL).  FIXED: m given.  WINDOW: a
 * moving mean of the `window` points ending `guard` points before t.
 * m is floored at min_m (default 0).  m == 0 (an all-zero reference; the
 * package divides by zero): z = +INFINITY if y > 0, else 0, so any case
 * alarms, upper = 0.
 * Columns: m, z, S.
 */
typedef enum rhis_detect_cusum_mref {
    RHIS_DETECT_CUSUM_TRAIN = 0,
    RHIS_DETECT_CUSUM_FIXED = 1,
    RHIS_DETECT_CUSUM_WINDOW = 2,
} rhis_detect_cusum_mref;

typedef struct rhis_detect_cusum_opts {
    double k, h;
    rhis_detect_cusum_mref mref;
    double m;     /* FIXED */
    int train;    /* TRAIN with from == 0: training points, default 0 */
    int window;   /* WINDOW: points in the reference, default 28 */
    int guard;    /* WINDOW: points skipped before t, default 0 */
    double min_m; /* floor on m, default 0 */
    int reset;    /* 1 default */
} rhis_detect_cusum_opts;

rhis_status rhis_detect_cusum(const rhis_detect_series *s,
                              const rhis_detect_cusum_opts *o,
                              size_t from,
                              size_t to,
                              rhis_detect_result *res,
                              char *err,
                              size_t errlen);

/*
 * CIDARS moving percentile method (移动百分位数法, MPM).  With a "year" of
 * Yr = 365 points on a daily series (52 on a weekly one):
 *   O_t = sum of the L points ending at t (current window);
 *   for j in 1..Y, b in -K..K: a = t - Yr j + L b, H_jb = sum of the L
 *   points ending at a  -> Y (2K+1) = 15 baseline sums by default;
 *   T_t = quantile(H, P/100, type 7) (R's default, Excel PERCENTILE);
 *   alarm iff O_t > T_t (or >= with ge = 1) and O_t >= min_count.
 * "365 days back" is by day count, not calendar: leap days shift the block
 * by one day, which the +-K blocks absorb.  A point is evaluable when all
 * baseline blocks lie inside the series (t >= Yr Y + K L + L - 1, 0-based).
 * upper is the count-equivalent threshold T_t - (O_t - y_t): alarm iff
 * y_t > upper (with ge: y_t >= upper; and the min_count floor).  It can be
 * negative when the previous L-1 points already exceed the threshold.
 * Defaults L 7, Y 3, K 2, P 50, ge 0, min_count 1 (0 cases never signal).
 * L (K+1) must not exceed a year, so the baseline never overlaps O_t.
 * Columns: window (O_t), threshold (T_t).
 */
typedef struct rhis_detect_mpm_opts {
    int window; /* L >= 1 */
    int years;  /* Y >= 1 */
    int blocks; /* K >= 0 */
    double pct; /* P in [0, 100] */
    int ge;     /* 0: O > T; 1: O >= T */
    double min_count;
} rhis_detect_mpm_opts;

rhis_status rhis_detect_mpm(const rhis_detect_series *s,
                            const rhis_detect_mpm_opts *o,
                            size_t from,
                            size_t to,
                            rhis_detect_result *res,
                            char *err,
                            size_t errlen);

/* R quantile(x, p, type = 7) of x[0..n-1] (n >= 1); sorts x in place. */
double rhis_detect_quantile7(double *x, size_t n, double p);

/*
 * Farrington flexible (R surveillance::farringtonFlexible 1.20.3), rows
 * "farrington" (package defaults) and "noufaily" (Noufaily et al. 2013:
 * no_periods 10, past_weeks_not_included 26, p_threshold_trend 1,
 * threshold nbPlugin).  Defaults as the package: b 5, w 3, alpha 0.05
 * (one-sided), reweight with weights_threshold 2.58, trend with
 * p_threshold_trend 0.05, limit54 5 cases in 4 points, powertrans 2/3,
 * past_weeks_not_included = w (-1), threshold delta.
 * - For daily series every "week" parameter counts days; weekly series
 *   (step 7) snap reference dates to the closest same weekday.
 * - First evaluable point: the date b calendar years back minus (w + 1)
 *   points lies in the series (the reference scripts' rule), and
 *   t0 >= past_weeks_not_included.  Earlier points are NA.
 * - A point is also NA when R returns no result (no convergence with nor
 *   without the trend), where R would stop with an error (singular fit,
 *   empty blocks with no_periods > 1, a baseline with no residual degree
 *   of freedom), or when the bound is not finite.  Never NaN otherwise.
 * - alarm iff score > 1, >= limit54_cases in the last limit54_period
 *   points including t0, and y0 > 0.  Where the 5-in-4 rule fails R
 *   reports upper/expected NA with alarm 0; we report the bound anyway
 *   and the column `enough` = 0.
 * - An all-zero baseline gives a tiny mean and a tiny positive bound, as
 *   in R: any count (with enough recent cases) alarms.  With the Noufaily
 *   preset (~240 zero points per fit) R's IRLS does not converge in 25
 *   iterations, so those points are NA, as in R.
 * Columns: expected (mu0; exp(eta0) for nbPlugin/muan), score (R's, with
 * its link-scale subtraction for nbPlugin/muan), pvalue, phi, trend_coef
 * (NAN when the trend was dropped), enough (the limit54 rule, 0/1).
 */
#define RHIS_DETECT_FARR_MAX_B       50
#define RHIS_DETECT_FARR_MAX_PERIODS 30

typedef enum rhis_detect_farr_power {
    RHIS_DETECT_FARR_POW_23 = 0,
    RHIS_DETECT_FARR_POW_HALF = 1,
    RHIS_DETECT_FARR_POW_NONE = 2,
} rhis_detect_farr_power;

typedef enum rhis_detect_farr_threshold {
    RHIS_DETECT_FARR_DELTA = 0,
    RHIS_DETECT_FARR_NBPLUGIN = 1,
    RHIS_DETECT_FARR_MUAN = 2,
} rhis_detect_farr_threshold;

typedef struct rhis_detect_farrington_opts {
    int b, w;
    double alpha;
    int reweight;
    double weights_threshold;
    int trend;
    double p_threshold_trend;
    int limit54_cases, limit54_period;
    rhis_detect_farr_power powertrans;
    int no_periods;
    int past_weeks_not_included; /* < 0: w */
    rhis_detect_farr_threshold threshold;
} rhis_detect_farrington_opts;

/* Package defaults; noufaily != 0 gives the Noufaily preset. */
void rhis_detect_farrington_defaults(rhis_detect_farrington_opts *o,
                                     int noufaily);

rhis_status rhis_detect_farrington(const rhis_detect_series *s,
                                   const rhis_detect_farrington_opts *o,
                                   size_t from,
                                   size_t to,
                                   rhis_detect_result *res,
                                   char *err,
                                   size_t errlen);

/* ---- Series input: date,count CSV --------------------------------------- */

/* "YYYY-MM-DD" -> days since 1970-01-01; RHIS_EINVAL if not a real date. */
rhis_status rhis_detect_parse_date(const char *s, int64_t *out /* OUT */);
/* Writes "YYYY-MM-DD" (11 bytes with the NUL) into buf. */
void rhis_detect_format_date(int64_t day, char buf[static 11]);

/*
 * A parsed daily series (rhis_detect_csv_parse).  _fini frees y.
 */
typedef struct rhis_detect_daily {
    double *y;
    size_t n;
    int64_t day0;
} rhis_detect_daily;

/*
 * Parses a "date,count" CSV held in memory: a header line "date,count"
 * (case-insensitive, optional BOM, CRLF fine), then one row per
 * consecutive ISO day with a non-negative integer count (< 1e9), at most
 * RHIS_DETECT_MAX_POINTS days.  Dates must ascend one day at a time; with
 * fill_gaps a gap is zero-filled instead (dates must still ascend).  On
 * error returns RHIS_EINVAL, *out is empty, and err names the line:
 * "line 12: dates are not consecutive (2015-01-03 after 2015-01-01)".
 * An input with a header and no rows gives an empty series (n = 0).
 */
rhis_status rhis_detect_csv_parse(const char *data,
                                  size_t len,
                                  int fill_gaps,
                                  rhis_detect_daily *out /* OUT */,
                                  char *err,
                                  size_t errlen);
void rhis_detect_daily_fini(rhis_detect_daily *d);

/*
 * Sums a daily series into Monday-start weeks labelled by their Monday;
 * incomplete first and last weeks are dropped (as the reference scripts'
 * to_weekly).  out->y is allocated (free with rhis_detect_daily_fini);
 * out->n may be 0.
 */
void rhis_detect_to_weekly(const rhis_detect_daily *d,
                           rhis_detect_daily *out /* OUT */);

#endif
