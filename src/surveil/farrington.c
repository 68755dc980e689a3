/*
 * farrington.c - Farrington-flexible outbreak detection (Farrington et al.
 * 1996; Noufaily et al. 2013), a port of R surveillance::farringtonFlexible
 * (1.20.3).
 *
 * Why: Farrington is the standard regression detector for weekly
 * notifiable-disease counts, and R needs 6-35 ms per evaluated point, too
 * slow for a nightly run over every township x disease x channel.  This
 * port reproduces the package's alarms exactly and its upper bounds to
 * 1e-6 relative on the reference files (tests/surveil/golden/), so R stays
 * the oracle and the server runs this.
 *
 * Per evaluated point t0 (docs/surveillance.md has the formulas):
 *  1. reference points t0 - j calendar years, j = 1..b (weekly series snap
 *     to the nearest same weekday); windows of +-w points around them;
 *     with noPeriods > 1 every point between the windows too, in blocks
 *     that get their own factor level; points t0-pastWeeksNotIncluded..t0
 *     dropped;
 *  2. quasi-Poisson GLM, log link, by IRLS exactly as R's glm.fit (start
 *     mu = y + 0.1, deviance criterion 1e-8, at most 25 iterations, the
 *     working weights of the last iteration kept for hat values and
 *     standard errors); without the trend if it does not converge;
 *  3. phi = max(1, Pearson dispersion); Anscombe residuals; weights
 *     gamma * s^-2 above weightsThreshold; refit once with those weights;
 *  4. the trend is kept only if its t-test p < pThresholdTrend, b >= 3 and
 *     the prediction does not exceed the largest baseline count;
 *  5. upper bound from the 2/3-power (delta) interval, or the negative
 *     binomial quantile (nbPlugin, muan);
 *  6. alarm iff score > 1, >= limit54[0] cases in the last limit54[1]
 *     points including t0, and y0 > 0.
 *
 * The normal equations are built from per-level sums (each design row has
 * at most three non-zeros: intercept, centred time, one block dummy), so a
 * fit over 1,800 daily points with ten levels costs O(n) per iteration
 * and never forms the n x p matrix.  Centring the time column changes the
 * intercept's parametrisation only; fitted values, the trend coefficient,
 * its p-value, hat values and the prediction are those of R's model.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect_int.h"
#include "rhis/alloc.h"
#include "rhis/detect.h"

/* glm.control() defaults of R. */
#define GLM_EPSILON 1e-8
#define GLM_MAXIT   25

/* Intercept + time + (noPeriods - 1) dummies. */
#define FARR_MAXP (2 + RHIS_DETECT_FARR_MAX_PERIODS)

/* Column indexes into rhis_detect_result.cols. */
enum {
    COL_EXPECTED,
    COL_SCORE,
    COL_PVALUE,
    COL_PHI,
    COL_TREND,
    COL_ENOUGH,
    FARR_NCOLS
};

/* ---- distributions ------------------------------------------------------ */

/* Upper tail of the standard normal. */
static double
pnorm_upper(double x)
{
    return 0.5 * erfc(x / M_SQRT2);
}

/* One modified-Lentz step with partial numerator aa; returns the factor. */
static double
lentz_step(double aa, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1.0 + aa * *d;
    if (fabs(*d) < tiny)
        *d = tiny;
    *c = 1.0 + aa / *c;
    if (fabs(*c) < tiny)
        *c = tiny;
    *d = 1.0 / *d;
    return *d * *c;
}

/*
 * Continued fraction of the regularised incomplete beta (modified Lentz),
 * valid for x < (a + 1) / (a + b + 2).
 */
static double
betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < 1e-300)
        d = 1e-300;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double del = lentz_step(
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return h;
}

static double stirlerr(double n);

/*
 * log B(a, b) as R's lbeta: with Stirling corrections when an argument is
 * large, where lgamma(a + b) - lgamma(a) would cancel (a ~ 1e9 in the
 * negative binomial tails loses 1e-6 relative otherwise).
 */
static double
lbeta(double a, double b)
{
    double p = a < b ? a : b, q = a < b ? b : a;
    const double ln_sqrt_2pi = 0.918938533204672741780329736406;
    if (p >= 10.0) {
        double corr = stirlerr(p) + stirlerr(q) - stirlerr(p + q);
        return -0.5 * log(q) + ln_sqrt_2pi + corr +
               (p - 0.5) * log(p / (p + q)) + q * log1p(-p / (p + q));
    }
    if (q >= 10.0) {
        double corr = stirlerr(q) - stirlerr(p + q);
        return lgamma(p) + corr + p - p * log(p + q) +
               (q - 0.5) * log1p(-p / (p + q));
    }
    return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/*
 * Regularised incomplete beta I_x(a, b), a, b > 0, given x and xc = 1 - x
 * (both, so that neither loses digits when the other is tiny).
 */
static double
pbeta_reg(double x, double xc, double a, double b)
{
    if (x <= 0.0)
        return 0.0;
    if (xc <= 0.0)
        return 1.0;
    double lx = x < 0.5 ? log(x) : log1p(-xc);
    double lxc = xc < 0.5 ? log(xc) : log1p(-x);
    double front = exp(a * lx + b * lxc - lbeta(a, b));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * betacf(a, b, x) / a;
    return 1.0 - front * betacf(b, a, xc) / b;
}

/* Two-sided p-value of a t statistic with df degrees of freedom. */
static double
pt_two_sided(double t, double df)
{
    if (isnan(t) || !(df > 0.0))
        return NAN;
    if (isinf(t))
        return 0.0;
    return pbeta_reg(df / (df + t * t), t * t / (df + t * t), df / 2.0, 0.5);
}

/*
 * Loader's saddle-point pieces (as in R's nmath dbinom.c), so the discrete
 * densities keep full relative accuracy far in the tails and for large
 * means, where prob^size underflows.
 */
static double
stirlerr(double n)
{
    const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260,
                 s3 = 1.0 / 1680, s4 = 1.0 / 1188;
    if (n <= 15.0)
        return lgamma(n + 1.0) - (n + 0.5) * log(n) + n -
               0.918938533204672741780329736406; /* log(sqrt(2 pi)) */
    double nn = n * n;
    if (n > 500)
        return (s0 - s1 / nn) / n;
    if (n > 80)
        return (s0 - (s1 - s2 / nn) / nn) / n;
    if (n > 35)
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* x log(x/np) + np - x, accurately when x is close to np. */
static double
bd0(double x, double np)
{
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np);
        double s = (x - np) * v;
        if (fabs(s) < DBL_MIN)
            return s;
        double ej = 2 * x * v;
        v = v * v;
        for (int j = 1; j < 1000; j++) {
            ej *= v;
            double s1 = s + ej / ((j << 1) + 1);
            if (s1 == s)
                return s1;
            s = s1;
        }
    }
    return x * log(x / np) + np - x;
}

/* Binomial density with real n (R's dbinom_raw), not logged. */
static double
dbinom_raw(double x, double n, double p, double q)
{
    if (p == 0.0)
        return x == 0.0 ? 1.0 : 0.0;
    if (q == 0.0)
        return x == n ? 1.0 : 0.0;
    if (x == 0.0) {
        if (n == 0.0)
            return 1.0;
        double lc = p < 0.1 ? -bd0(n, n * q) - n * p : n * log(q);
        return exp(lc);
    }
    if (x == n) {
        double lc = q < 0.1 ? -bd0(n, n * p) - n * q : n * log(p);
        return exp(lc);
    }
    if (x < 0.0 || x > n)
        return 0.0;
    double lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) -
                bd0(n - x, n * q);
    double lf = 1.837877066409345483560659472811 /* log(2 pi) */ + log(x) +
                log1p(-x / n);
    return exp(lc - 0.5 * lf);
}

/* One of the two discrete laws of the Noufaily bound. */
typedef struct discrete {
    int nb;      /* 1 negative binomial (size, prob), 0 Poisson (mu) */
    double size; /* NB */
    double prob; /* NB */
    double mu;   /* Poisson */
} discrete;

static double
dpmf(const discrete *dd, double k)
{
    if (dd->nb)
        return dd->size / (dd->size + k) *
               dbinom_raw(dd->size, k + dd->size, dd->prob, 1.0 - dd->prob);
    if (dd->mu == 0.0)
        return k == 0.0 ? 1.0 : 0.0;
    if (k == 0.0)
        return exp(-dd->mu);
    return exp(-stirlerr(k) - bd0(k, dd->mu)) / sqrt(2 * M_PI * k);
}

/* pmf(k + 1) / pmf(k). */
static double
dratio(const discrete *dd, double k)
{
    if (dd->nb)
        return (k + dd->size) / (k + 1.0) * (1.0 - dd->prob);
    return dd->mu / (k + 1.0);
}

static double
dmode(const discrete *dd)
{
    if (dd->nb) {
        if (dd->size <= 1.0)
            return 0.0;
        return floor((dd->size - 1.0) * (1.0 - dd->prob) / dd->prob);
    }
    return floor(dd->mu);
}

/*
 * Sum of pmf(k) for k < m, walking down from m - 1 by the density ratio
 * until the terms no longer matter.
 */
static double
lower_sum(const discrete *dd, double m)
{
    double s = 0.0;
    if (m <= 0.0)
        return 0.0;
    double k = m - 1.0, term = dpmf(dd, k);
    for (;;) {
        s += term;
        if (term < s * 1e-18 || term == 0.0 || k <= 0.0)
            break;
        term /= dratio(dd, k - 1.0);
        k -= 1.0;
    }
    return s;
}

/*
 * Wide laws.  Summing the density costs about 10 sd steps around the
 * mode, and a negative binomial tail shrinks only by (1 - prob) per step
 * (45 / prob steps to 1e-18).  When that exceeds WIDE_STEPS (a series of
 * absurd spikes, phi in the tens of thousands) the distribution functions
 * come from the regularised incomplete beta and gamma functions instead,
 * and the quantile from a bisection: accurate to about 1e-12 relative, so
 * the bound could differ from R's by one count only in a near-tie.  Below
 * it the sums are exact.  Without this one point of a spiky series could
 * take minutes.
 */
#define WIDE_STEPS 1e6

static double
dsd(const discrete *dd)
{
    if (dd->nb)
        return sqrt(dd->size * (1.0 - dd->prob)) / dd->prob;
    return sqrt(dd->mu);
}

static int
dwide(const discrete *dd)
{
    double steps = 10.0 * dsd(dd) + (dd->nb ? 45.0 / dd->prob : 45.0);
    return !(steps < WIDE_STEPS);
}

/* Regularised lower incomplete gamma P(a, x), a > 0 (series or CF). */
static double
gamma_p(double a, double x)
{
    if (x <= 0.0)
        return 0.0;
    /* x^a e^-x / Gamma(a) = a * dpois_raw(a, x), by Loader's saddle point
     * (lgamma differences lose ~1e-5 relative when a is ~1e10). */
    double front = a * exp(-stirlerr(a) - bd0(a, x)) / sqrt(2 * M_PI * a);
    if (x < a + 1.0) {
        double ap = a, sum = 1.0 / a, del = sum;
        for (long n = 0; n < 100000000L; n++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-16)
                break;
        }
        return sum * front;
    }
    double c = 1.0 / 1e-300, d = 1.0 / (x + 1.0 - a), h = d;
    for (int n = 1; n < 100000000; n++) {
        double dn = (double)n;
        double an = -dn * (dn - a);
        double bn = x + 1.0 - a + 2.0 * dn;
        d = an * d + bn;
        if (fabs(d) < 1e-300)
            d = 1e-300;
        c = bn + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return 1.0 - front * h;
}

/* P(X <= x) of a wide law, x >= 0. */
static double
wide_cdf(const discrete *dd, double x)
{
    if (dd->nb) /* pnbinom = pbeta(prob, size, x + 1) */
        return pbeta_reg(dd->prob, 1.0 - dd->prob, dd->size, x + 1.0);
    return 1.0 - gamma_p(x + 1.0, dd->mu); /* ppois = Q(x + 1, mu) */
}

static double
wide_quantile(const discrete *dd, double p)
{
    double mean = dd->nb ? dd->size * (1.0 - dd->prob) / dd->prob : dd->mu;
    /* Bracket: cdf(lo) < p <= cdf(hi), then bisect on integers. */
    double lo = -1.0, hi = floor(mean + 2.0 * dsd(dd)) + 1.0;
    while (wide_cdf(dd, hi) < p) {
        lo = hi;
        hi = 2.0 * hi + 1.0;
        if (hi > 1e18)
            return NAN;
    }
    while (hi - lo > 1.0) {
        double mid = floor((lo + hi) / 2.0);
        if (wide_cdf(dd, mid) >= p)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/*
 * Smallest integer q with P(X <= q) >= p, with R's left-continuity fuzz
 * (p * (1 - 64 eps)), as qnbinom / qpois.  NAN when the law is degenerate
 * beyond what a count can hold.
 */
static double
dquantile(const discrete *dd, double p)
{
    if (p + 1.01 * DBL_EPSILON >= 1.0)
        return INFINITY;
    p *= 1 - 64 * DBL_EPSILON;
    double m = dmode(dd);
    if (!(m < 1e15))
        return NAN;
    if (dwide(dd))
        return wide_quantile(dd, p);
    double cdf = lower_sum(dd, m); /* P(X <= m - 1) */
    if (cdf >= p && m > 0.0) {
        /* Quantile below the mode: walk down. */
        double k = m - 1.0, term = dpmf(dd, k);
        while (k > 0.0 && cdf - term >= p) {
            cdf -= term;
            term /= dratio(dd, k - 1.0);
            k -= 1.0;
        }
        return k;
    }
    double k = m, term = dpmf(dd, m);
    for (long guard = 0; guard < 100000000L; guard++) {
        cdf += term;
        if (cdf >= p || term == 0.0)
            return k;
        term *= dratio(dd, k);
        k += 1.0;
    }
    return NAN;
}

/* P(X >= y) for integer y >= 0. */
static double
dupper(const discrete *dd, double y)
{
    if (y <= 0.0)
        return 1.0;
    double m = dmode(dd);
    if (!(m < 1e15))
        return NAN;
    if (dwide(dd)) {
        if (dd->nb) /* P(X >= y) = pbeta(1 - prob, y, size) */
            return pbeta_reg(1.0 - dd->prob, dd->prob, y, dd->size);
        return gamma_p(y, dd->mu); /* P(X >= y) = P(y, mu) */
    }
    if (y <= m) /* 1 - P(X <= y - 1) */
        return 1.0 - lower_sum(dd, y);
    double s = 0.0, k = y, term = dpmf(dd, y);
    while (term > 0.0) {
        s += term;
        if (term < s * 1e-18)
            break;
        term *= dratio(dd, k);
        k += 1.0;
    }
    return s;
}

/* ---- IRLS --------------------------------------------------------------- */

/*
 * One model: n baseline points with count y, centred time t, level lev
 * (0 = reference level, no dummy) and prior weight prior.
 */
typedef struct design {
    size_t n;
    const double *y, *t;
    const int *lev;
    int nlev;
    /* Per-point constants shared by every fit: log(y) (0 for y = 0),
     * log(y + 0.1) (glm.fit's start) and y^(2/3) (Anscombe). */
    const double *ly, *l01, *y23;
} design;

/* The per-point constants of y[0..n-1]. */
static void
point_consts(const double *y, size_t n, double *ly, double *l01, double *y23)
{
    for (size_t i = 0; i < n; i++) {
        ly[i] = y[i] > 0.0 ? log(y[i]) : 0.0;
        l01[i] = log(y[i] + 0.1);
        y23[i] = pow(y[i], 2.0 / 3.0);
    }
}

typedef struct glm {
    int p, trend, conv;
    double coef[FARR_MAXP];
    double cov[FARR_MAXP * FARR_MAXP]; /* (X'WX)^-1 of the last iteration */
    double disp;                       /* Pearson chi2 / df, not floored */
    double disp_prior; /* sum prior * ((y - mu) / mu)^2 / df, see below */
    double disp_se;    /* what summary() and predict() see, see below */
    double df;
} glm;

typedef struct farr_ws {
    size_t cap;
    double *y, *t, *prior, *omega, *mu, *eta, *wk, *s;
    double *ly, *l01, *y23;    /* baseline copies of the constants */
    double *sly, *sl01, *sy23; /* the constants of the whole series */
    int *lev, *blk;
} farr_ws;

static void
ws_init(farr_ws *ws, size_t n)
{
    size_t cap = n > 0 ? n : 1;
    ws->cap = cap;
    ws->y = rhis_xmalloc(cap * sizeof(double));
    ws->t = rhis_xmalloc(cap * sizeof(double));
    ws->prior = rhis_xmalloc(cap * sizeof(double));
    ws->omega = rhis_xmalloc(cap * sizeof(double));
    ws->mu = rhis_xmalloc(cap * sizeof(double));
    ws->eta = rhis_xmalloc(cap * sizeof(double));
    ws->wk = rhis_xmalloc(cap * sizeof(double));
    ws->s = rhis_xmalloc(cap * sizeof(double));
    ws->ly = rhis_xmalloc(cap * sizeof(double));
    ws->l01 = rhis_xmalloc(cap * sizeof(double));
    ws->y23 = rhis_xmalloc(cap * sizeof(double));
    ws->sly = rhis_xmalloc(cap * sizeof(double));
    ws->sl01 = rhis_xmalloc(cap * sizeof(double));
    ws->sy23 = rhis_xmalloc(cap * sizeof(double));
    ws->lev = rhis_xmalloc(cap * sizeof(int));
    ws->blk = rhis_xmalloc(cap * sizeof(int));
}

static void
ws_fini(farr_ws *ws)
{
    rhis_free(ws->y);
    rhis_free(ws->t);
    rhis_free(ws->prior);
    rhis_free(ws->omega);
    rhis_free(ws->mu);
    rhis_free(ws->eta);
    rhis_free(ws->wk);
    rhis_free(ws->s);
    rhis_free(ws->ly);
    rhis_free(ws->l01);
    rhis_free(ws->y23);
    rhis_free(ws->sly);
    rhis_free(ws->sl01);
    rhis_free(ws->sy23);
    rhis_free(ws->lev);
    rhis_free(ws->blk);
}

/* Column of level l >= 1. */
static int
dummy_col(int trend, int l)
{
    return 1 + trend + l - 1;
}

/*
 * Poisson deviance.  ly[i] is log(y[i]) (0 for y = 0) and eta the linear
 * predictor with mu = max(exp(eta), eps), so log(y / mu) needs no log
 * call unless mu was clamped.
 */
static double
deviance(const design *d,
         const double *ly,
         const double *eta,
         const double *mu,
         const double *prior)
{
    double s = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double y = d->y[i];
        if (y > 0.0) {
            double lmu = mu[i] > DBL_EPSILON ? eta[i] : log(mu[i]);
            s += prior[i] * (y * (ly[i] - lmu) - (y - mu[i]));
        } else {
            s += prior[i] * mu[i];
        }
    }
    return 2.0 * s;
}

/*
 * eta = X coef and mu = max(exp(eta), eps) for every point; returns the
 * deviance, or INFINITY if some mu is not finite.  exp() is the hot spot of a
 * fit over 1,800 daily points, so mu is built as exp(level part) * exp(slope *
 * t): the time factor by a running product over the (ascending) time column,
 * which costs one exp per gap length instead of one per point.  The
 * product drifts by about 1e-13 relative over 2,000 steps, far below
 * the deviance tolerance.
 */
static double
update_mu(const design *d,
          int trend,
          const double *coef,
          const double *prior,
          double *eta /* OUT */,
          double *mu /* OUT */)
{
    double base[RHIS_DETECT_FARR_MAX_PERIODS];
    double ebase[RHIS_DETECT_FARR_MAX_PERIODS];
    const double *y = d->y, *ly = d->ly, *t = d->t;
    double c1 = trend ? coef[1] : 0.0, et = 1.0, gap = NAN, fac = 1.0;
    double dev = 0.0;
    for (int l = 0; l < d->nlev; l++) {
        base[l] = coef[0] + (l > 0 ? coef[dummy_col(trend, l)] : 0.0);
        ebase[l] = exp(base[l]);
    }
    for (size_t i = 0; i < d->n; i++) {
        int l = d->lev[i];
        double m;
        if (trend) {
            eta[i] = base[l] + c1 * t[i];
            if (i == 0) {
                et = exp(c1 * t[i]);
            } else {
                double g = t[i] - t[i - 1];
                if (g != gap) {
                    gap = g;
                    fac = exp(c1 * g);
                }
                et *= fac;
            }
            m = ebase[l] * et;
            if (!(m > DBL_EPSILON * 0x1p4) || !isfinite(m))
                m = exp(eta[i]); /* tiny or huge: exactly, as glm.fit */
        } else {
            eta[i] = base[l];
            m = ebase[l];
        }
        m = m > DBL_EPSILON ? m : DBL_EPSILON;
        mu[i] = m;
        /* The deviance term, as deviance() computes it. */
        if (y[i] > 0.0) {
            double lmu = m > DBL_EPSILON ? eta[i] : log(m);
            dev += prior[i] * (y[i] * (ly[i] - lmu) - (y[i] - m));
        } else {
            dev += prior[i] * m;
        }
    }
    dev *= 2.0;
    return isfinite(dev) ? dev : INFINITY;
}

/*
 * Cholesky factor (lower, in place) of the p x p matrix a.  Returns -1 if
 * a column is (numerically) linearly dependent on the previous ones,
 * where R's QR would drop it as aliased.
 */
static int
cholesky(double *a, int p)
{
    for (int j = 0; j < p; j++) {
        double d = a[j * p + j];
        double orig = d;
        for (int k = 0; k < j; k++)
            d -= a[j * p + k] * a[j * p + k];
        if (!(d > orig * 1e-20) || !(d > 0.0))
            return -1;
        d = sqrt(d);
        a[j * p + j] = d;
        for (int i = j + 1; i < p; i++) {
            double v = a[i * p + j];
            for (int k = 0; k < j; k++)
                v -= a[i * p + k] * a[j * p + k];
            a[i * p + j] = v / d;
        }
    }
    return 0;
}

/* Solves L L' x = b in place. */
static void
chol_solve(const double *l, int p, double *b)
{
    for (int i = 0; i < p; i++) {
        double v = b[i];
        for (int k = 0; k < i; k++)
            v -= l[i * p + k] * b[k];
        b[i] = v / l[i * p + i];
    }
    for (int i = p - 1; i >= 0; i--) {
        double v = b[i];
        for (int k = i + 1; k < p; k++)
            v -= l[k * p + i] * b[k];
        b[i] = v / l[i * p + i];
    }
}

/*
 * One IRLS step: the working response z = eta + (y - mu) / mu' and
 * weights w = prior mu'^2 / mu (mu' = d mu / d eta, which is mu itself
 * after the first iteration) from the current fit, the weights into wk,
 * then the weighted least squares coefficients into coef and the
 * Cholesky factor of X'WX into chol.  The normal equations come from
 * per-level sums; levels come in runs of consecutive points, so each run
 * is summed in registers.  Returns -1 on a singular system.
 */
static int
irls_step(const design *d,
          int trend,
          int first,
          const double *prior,
          const double *eta,
          const double *mu,
          double *wk /* OUT */,
          double *coef /* OUT */,
          double *chol /* OUT */)
{
    double s0[RHIS_DETECT_FARR_MAX_PERIODS], s1[RHIS_DETECT_FARR_MAX_PERIODS],
        s2[RHIS_DETECT_FARR_MAX_PERIODS], r0[RHIS_DETECT_FARR_MAX_PERIODS],
        r1[RHIS_DETECT_FARR_MAX_PERIODS];
    int p = 1 + trend + d->nlev - 1, nl = d->nlev;
    const double *y = d->y, *t = d->t;
    size_t n = d->n, i = 0;
    for (int l = 0; l < nl; l++)
        s0[l] = s1[l] = s2[l] = r0[l] = r1[l] = 0.0;
    while (i < n) {
        int l = d->lev[i];
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, b0 = 0.0, b1 = 0.0;
        do {
            double wi, zi;
            if (first) {
                double me = fmax(exp(eta[i]), DBL_EPSILON);
                zi = eta[i] + (y[i] - mu[i]) / me;
                wi = prior[i] * me * me / mu[i];
            } else {
                zi = eta[i] + (y[i] - mu[i]) / mu[i];
                wi = prior[i] * mu[i];
            }
            wk[i] = wi;
            double wt = wi * t[i];
            a0 += wi;
            a1 += wt;
            a2 += wt * t[i];
            b0 += wi * zi;
            b1 += wt * zi;
            i++;
        } while (i < n && d->lev[i] == l);
        s0[l] += a0;
        s1[l] += a1;
        s2[l] += a2;
        r0[l] += b0;
        r1[l] += b1;
    }
    memset(chol, 0, (size_t)(p * p) * sizeof(double));
    for (int j = 0; j < p; j++)
        coef[j] = 0.0;
    for (int l = 0; l < nl; l++) {
        chol[0] += s0[l];
        coef[0] += r0[l];
        if (trend) {
            chol[1 * p + 0] += s1[l];
            chol[1 * p + 1] += s2[l];
            coef[1] += r1[l];
        }
        if (l > 0) {
            int c = dummy_col(trend, l);
            chol[c * p + 0] = s0[l];
            if (trend)
                chol[c * p + 1] = s1[l];
            chol[c * p + c] = s0[l];
            coef[c] = r0[l];
        }
    }
    if (cholesky(chol, p) != 0)
        return -1;
    chol_solve(chol, p, coef);
    return 0;
}

/*
 * Fits the quasi-Poisson log-linear model with prior weights prior, the
 * way R's glm.fit does (see the file comment).  Returns -1 when no valid
 * coefficients exist (singular design, or a first step that overflows,
 * where glm.fit stops with an error); g->conv tells whether the deviance
 * criterion was met within 25 iterations.  Leaves the fitted means in
 * ws->mu and the working weights of the last iteration in ws->wk.
 */
static int
glm_fit(const design *d,
        int trend,
        const double *prior,
        farr_ws *ws,
        glm *g /* OUT */)
{
    size_t n = d->n;
    double *mu = ws->mu, *eta = ws->eta, *wk = ws->wk;
    double coef[FARR_MAXP] = {0}, coefold[FARR_MAXP] = {0};
    double chol[FARR_MAXP * FARR_MAXP] = {0};
    int p = 1 + trend + d->nlev - 1, have_old = 0;
    double devold;

    memset(g, 0, sizeof(*g));
    g->p = p;
    g->trend = trend;
    if ((double)n - p < 1.0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        mu[i] = d->y[i] + 0.1;
        eta[i] = d->l01[i];
    }
    devold = deviance(d, d->ly, eta, mu, prior);
    for (int iter = 1; iter <= GLM_MAXIT; iter++) {
        if (irls_step(d, trend, iter == 1, prior, eta, mu, wk, coef, chol) != 0)
            return -1;
        double dev = update_mu(d, trend, coef, prior, eta, mu);
        /* glm.fit's step halving towards the previous coefficients. */
        for (int ii = 1; !isfinite(dev); ii++) {
            if (!have_old || ii > GLM_MAXIT)
                return -1;
            for (int j = 0; j < p; j++)
                coef[j] = (coef[j] + coefold[j]) / 2.0;
            dev = update_mu(d, trend, coef, prior, eta, mu);
        }
        if (fabs(dev - devold) / (fabs(dev) + 0.1) < GLM_EPSILON) {
            g->conv = 1;
            break;
        }
        devold = dev;
        memcpy(coefold, coef, sizeof(coef));
        have_old = 1;
    }
    memcpy(g->coef, coef, (size_t)p * sizeof(double));
    /* (X'WX)^-1 from the factor, column by column. */
    for (int j = 0; j < p; j++) {
        double e[FARR_MAXP] = {0};
        e[j] = 1.0;
        chol_solve(chol, p, e);
        for (int i = 0; i < p; i++)
            g->cov[i * p + j] = e[i];
    }
    double chi2 = 0.0, chi2p = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = (d->y[i] - mu[i]) / mu[i];
        chi2 += wk[i] * r * r;
        chi2p += prior[i] * r * r;
    }
    g->df = (double)n - p;
    g->disp = chi2 / g->df;
    g->disp_prior = chi2p / g->df;
    g->disp_se = g->disp;
    return 0;
}

/* x' C x for the design row of (t, level l). */
static double
quad_form(const glm *g, double t, int l)
{
    int p = g->p;
    const double *c = g->cov;
    double v = c[0];
    if (g->trend)
        v += 2.0 * t * c[1] + t * t * c[1 * p + 1];
    if (l > 0) {
        int k = dummy_col(g->trend, l);
        v += c[k * p + k] + 2.0 * c[k];
        if (g->trend)
            v += 2.0 * t * c[k * p + 1];
    }
    return v;
}

/* ---- one Farrington model (algo.farrington.fitGLM.flexible) ------------- */

/*
 * Fits, then refits with Anscombe-residual weights when reweighting.
 * Returns -1 when R would return NULL (no convergence with nor without
 * the trend) or a fit is impossible; *used_trend says which model came
 * back, *phi is max(1, dispersion).
 */
static int
fit_flexible(const rhis_detect_farrington_opts *o,
             const design *d,
             int trend,
             farr_ws *ws,
             glm *g /* OUT */,
             double *phi /* OUT */)
{
    double *prior = ws->prior;
    for (size_t i = 0; i < d->n; i++)
        prior[i] = 1.0;
    int rc = glm_fit(d, trend, prior, ws, g);
    if ((rc != 0 || !g->conv) && trend) {
        trend = 0;
        rc = glm_fit(d, 0, prior, ws, g);
    }
    if (rc != 0 || !g->conv)
        return -1;
    double ph = fmax(g->disp, 1.0);
    if (!isfinite(ph))
        return -1;
    if (o->reweight) {
        double *s = ws->s, *omega = ws->omega, sum = 0.0;
        const double tol = 10 * DBL_EPSILON;
        for (size_t i = 0; i < d->n; i++) {
            double mu = ws->mu[i];
            double h = ws->wk[i] * quad_form(g, d->t[i], d->lev[i]);
            if (h > 1.0 - tol)
                h = 1.0;
            double a = 1.5 * (d->y23[i] * pow(mu, -1.0 / 6.0) - sqrt(mu));
            s[i] = a / sqrt(ph * (1.0 - h));
            if (!isfinite(s[i]))
                return -1;
            sum += s[i] > o->weights_threshold ? 1.0 / (s[i] * s[i]) : 1.0;
        }
        double gamma = (double)d->n / sum;
        for (size_t i = 0; i < d->n; i++)
            omega[i] =
                s[i] > o->weights_threshold ? gamma / (s[i] * s[i]) : gamma;
        /* R does not check the convergence of this refit. */
        if (glm_fit(d, trend, omega, ws, g) != 0)
            return -1;
        ph = fmax(g->disp, 1.0);
        if (!isfinite(ph))
            return -1;
        /*
         * Package quirk, reproduced: after computing phi the package
         * stores omega in model$weights, where glm keeps the working
         * weights.  summary() and predict(se.fit = TRUE) then estimate the
         * dispersion as sum(omega * ((y - mu) / mu)^2) / df, so the trend
         * p-value and se(eta0) use that value, while phi (the bound's
         * overdispersion) is the proper Pearson estimate.
         */
        g->disp_se = g->disp_prior;
    }
    *phi = ph;
    return 0;
}

/* ---- reference points and blocks ---------------------------------------- */

/* H. Hinnant's civil calendar conversions (public domain). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/*
 * The day j calendar years before day, as R's seq(by = "-1 year"): the
 * same month and day, 29 February becoming 1 March.
 */
static int64_t
years_back(int64_t day, int j)
{
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    return days_from_civil(y - j, m, d); /* Feb 29 normalises to Mar 1 */
}

/* 0 = Sunday ... 6 = Saturday, as format("%w"). */
static int
wday(int64_t day)
{
    int64_t w = (day + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/*
 * algo.farrington.referencetimepoints: for weekly series, the day of the
 * same weekday as t0 closest to the calendar date (ties to the first
 * candidate).
 */
static int64_t
reference_day(int64_t day0, int step, int j)
{
    int64_t r = years_back(day0, j);
    if (step != 7)
        return r;
    int64_t a = r - (wday(r) - wday(day0));
    int64_t b = a + (a > r ? -7 : 7);
    int64_t da = a > r ? a - r : r - a, db = b > r ? b - r : r - b;
    return da > db ? b : a;
}

/*
 * The reference scripts' first evaluable point rule (farrington_ref.R):
 * the calendar date b years back minus (w + 1) points lies in the series,
 * and t0 - pastWeeksNotIncluded >= 0.  It keeps a one-point margin for the
 * weekday snapping.
 */
static int
evaluable_start(const rhis_detect_series *s,
                const rhis_detect_farrington_opts *o,
                int pw,
                size_t i)
{
    int64_t day = s->day0 + (int64_t)i * s->step;
    int64_t back = years_back(day, o->b);
    return back - (int64_t)(o->w + 1) * s->step >= s->day0 &&
           (int64_t)i - pw >= 0;
}

/*
 * Builds the baseline of point i (algo.farrington.data.glm and blocks()):
 * fills ws->y, ws->t (centred), ws->lev, and returns the number of points,
 * or 0 when the point cannot be evaluated.  *t0 is the centred time of
 * point i, *lev0 the level of the prediction (noPeriods), *ymax the
 * largest baseline count.
 */
static size_t
build_baseline(const rhis_detect_series *s,
               const rhis_detect_farrington_opts *o,
               int pw,
               size_t i,
               farr_ws *ws,
               design *d /* OUT */,
               double *t0 /* OUT */,
               int *lev0 /* OUT */,
               double *ymax /* OUT */)
{
    int64_t ref[RHIS_DETECT_FARR_MAX_B + 1];
    int64_t day = s->day0 + (int64_t)i * s->step;
    int w = o->w, np = o->no_periods;

    ref[0] = (int64_t)i;
    for (int j = 1; j <= o->b; j++) {
        int64_t r = reference_day(day, s->step, j) - s->day0;
        if (r < 0 || r % s->step != 0)
            return 0;
        ref[j] = r / s->step;
        if (ref[j] >= ref[j - 1])
            return 0;
    }
    int64_t lo = ref[o->b] - w;
    if (lo < 0 || (int64_t)i - w < lo)
        return 0;
    size_t span = i - (size_t)lo + 1;
    int *blk = ws->blk; /* blk[k] is the level of point lo + k, or -1 */
    for (size_t k = 0; k < span; k++)
        blk[k] = -1;
    for (int64_t k = (int64_t)i - w; k <= (int64_t)i; k++)
        blk[k - lo] = np;
    for (int j = 1; j <= o->b; j++) {
        int64_t r = ref[j];
        for (int64_t k = r - w; k <= r + w; k++)
            blk[k - lo] = np;
        if (np != 1) {
            int64_t period = ref[j - 1] - 2 * (int64_t)w - 1 - r;
            if (period < np - 1)
                return 0; /* R stops or builds empty blocks here */
            int64_t len = period / (np - 1), rest = period % (np - 1);
            int64_t at = r + w + 1;
            for (int b = 1; b <= np - 1; b++) {
                int64_t lb = len + (b <= rest ? 1 : 0);
                for (int64_t k = 0; k < lb; k++)
                    blk[at + k - lo] = b;
                at += lb;
            }
        }
    }
    for (int64_t k = (int64_t)i - pw; k <= (int64_t)i; k++) {
        if (k >= lo)
            blk[k - lo] = -1;
    }
    /* Levels present, in increasing order; the smallest is the reference. */
    int map[RHIS_DETECT_FARR_MAX_PERIODS + 1];
    int present[RHIS_DETECT_FARR_MAX_PERIODS + 1] = {0};
    size_t n = 0;
    int64_t first = -1;
    for (size_t k = 0; k < span; k++) {
        if (blk[k] < 0)
            continue;
        if (first < 0)
            first = (int64_t)k;
        present[blk[k]] = 1;
        n++;
    }
    if (n == 0)
        return 0;
    int nlev = 0;
    for (int l = 0; l <= RHIS_DETECT_FARR_MAX_PERIODS; l++)
        map[l] = present[l] ? nlev++ : -1;
    if (np != 1 && (map[np] < 0 || nlev < 2))
        return 0; /* R: a new factor level at prediction, or one level */
    double tsum = 0.0, mx = 0.0;
    size_t m = 0;
    for (size_t k = (size_t)first; k < span; k++) {
        if (blk[k] < 0)
            continue;
        ws->y[m] = s->y[(size_t)lo + k];
        ws->ly[m] = ws->sly[(size_t)lo + k];
        ws->l01[m] = ws->sl01[(size_t)lo + k];
        ws->y23[m] = ws->sy23[(size_t)lo + k];
        ws->t[m] = (double)(k - (size_t)first);
        ws->lev[m] = np != 1 ? map[blk[k]] : 0;
        tsum += ws->t[m];
        if (ws->y[m] > mx)
            mx = ws->y[m];
        m++;
    }
    double tc = tsum / (double)m;
    for (size_t k = 0; k < m; k++)
        ws->t[k] -= tc;
    d->n = m;
    d->y = ws->y;
    d->t = ws->t;
    d->lev = ws->lev;
    d->nlev = np != 1 ? nlev : 1;
    d->ly = ws->ly;
    d->l01 = ws->l01;
    d->y23 = ws->y23;
    *t0 = (double)((size_t)i - (size_t)lo - (size_t)first) - tc;
    *lev0 = np != 1 ? map[np] : 0;
    *ymax = mx;
    return m;
}

/* ---- the detector ------------------------------------------------------- */

typedef struct bound {
    double upper, score, pvalue, expected;
} bound;

/* algo.farrington.threshold.farrington (the delta method). */
static void
bound_delta(const rhis_detect_farrington_opts *o,
            double z,
            double mu0,
            double se,
            double phi,
            double y,
            bound *b /* OUT */)
{
    double tau = phi + se * se / mu0, sd, ex;
    switch (o->powertrans) {
    case RHIS_DETECT_FARR_POW_NONE:
        sd = sqrt(mu0 * tau);
        ex = 1.0;
        break;
    case RHIS_DETECT_FARR_POW_HALF:
        sd = sqrt(0.25 * tau);
        ex = 0.5;
        break;
    default:
        sd = sqrt(4.0 / 9.0 * pow(mu0, 1.0 / 3.0) * tau);
        ex = 2.0 / 3.0;
        break;
    }
    double m = pow(mu0, ex);
    b->upper = pow(m + z * sd, 1.0 / ex);
    b->pvalue = pnorm_upper((pow(y, ex) - m) / sd);
    b->score = (y - mu0) / (b->upper - mu0);
    b->expected = mu0;
}

/* algo.farrington.threshold.noufaily (nbPlugin and muan). */
static void
bound_nb(const rhis_detect_farrington_opts *o,
         double z,
         double eta0,
         double se_eta,
         double phi,
         double y,
         bound *b /* OUT */)
{
    double mq = o->threshold == RHIS_DETECT_FARR_NBPLUGIN
                    ? exp(eta0)
                    : exp(eta0 + z * se_eta);
    discrete dd = {0};
    b->expected = exp(eta0);
    if (!isfinite(mq)) {
        b->upper = b->score = b->pvalue = NAN;
        return;
    }
    if (phi > 1.0) {
        dd.nb = 1;
        dd.size = mq / (phi - 1.0);
        dd.prob = 1.0 / phi;
    } else {
        dd.mu = mq;
    }
    b->upper = dquantile(&dd, 1.0 - o->alpha);
    b->pvalue = dupper(&dd, y);
    /* The package subtracts the linear predictor here, not the mean. */
    b->score = (y - eta0) / (b->upper - eta0);
}

/* Sum of y over the limit54 window ending at i. */
static double
recent_cases(const rhis_detect_series *s, int period, size_t i)
{
    double sum = 0.0;
    size_t first = i + 1 >= (size_t)period ? i + 1 - (size_t)period : 0;
    for (size_t k = first; k <= i; k++)
        sum += s->y[k];
    return sum;
}

/*
 * Evaluates point i; returns 0 and fills res, or -1 when the point is not
 * evaluable (left NA).
 */
static int
eval_point(const rhis_detect_series *s,
           const rhis_detect_farrington_opts *o,
           int pw,
           double z,
           size_t i,
           farr_ws *ws,
           rhis_detect_result *res)
{
    design d;
    double t0, ymax, phi;
    int lev0, trend;
    glm g;

    if (!evaluable_start(s, o, pw, i))
        return -1;
    if (build_baseline(s, o, pw, i, ws, &d, &t0, &lev0, &ymax) == 0)
        return -1;
    if (fit_flexible(o, &d, o->trend, ws, &g, &phi) != 0)
        return -1;
    trend = g.trend;
    double trend_coef = NAN;
    if (trend) {
        double eta0 = g.coef[0] + g.coef[1] * t0 +
                      (lev0 > 0 ? g.coef[dummy_col(1, lev0)] : 0.0);
        double mu0 = fmax(exp(eta0), DBL_EPSILON);
        double pval = pt_two_sided(
            g.coef[1] / sqrt(g.disp_se * g.cov[1 * g.p + 1]), g.df);
        int significant = pval < o->p_threshold_trend;
        int do_trend = o->b >= 3 && significant && mu0 <= ymax;
        if (do_trend) {
            trend_coef = g.coef[1];
        } else if (fit_flexible(o, &d, 0, ws, &g, &phi) != 0) {
            return -1;
        }
    }
    double eta0 = g.coef[0] + (g.trend ? g.coef[1] * t0 : 0.0) +
                  (lev0 > 0 ? g.coef[dummy_col(g.trend, lev0)] : 0.0);
    /* se.fit uses the model's dispersion as summary() sees it, not phi. */
    double se_eta = sqrt(quad_form(&g, t0, lev0) * g.disp_se);
    double y = s->y[i];
    bound b;
    if (o->threshold == RHIS_DETECT_FARR_DELTA) {
        double mu0 = fmax(exp(eta0), DBL_EPSILON);
        bound_delta(o, z, mu0, se_eta * mu0, phi, y, &b);
    } else {
        bound_nb(o, z, eta0, se_eta, phi, y, &b);
    }
    if (!isfinite(b.upper))
        return -1;
    int enough = recent_cases(s, o->limit54_period, i) >= o->limit54_cases;
    res->upper[i] = b.upper;
    res->alarm[i] =
        (int8_t)(enough && !isnan(b.score) && b.score > 1.0 && y != 0.0);
    res->cols[COL_EXPECTED][i] = b.expected;
    res->cols[COL_SCORE][i] = b.score;
    res->cols[COL_PVALUE][i] = b.pvalue;
    res->cols[COL_PHI][i] = phi;
    res->cols[COL_TREND][i] = trend_coef;
    res->cols[COL_ENOUGH][i] = enough;
    return 0;
}

static rhis_status
check_opts(const rhis_detect_farrington_opts *o, char *err, size_t errlen)
{
    if (o->b < 1 || o->b > RHIS_DETECT_FARR_MAX_B || o->w < 0 || o->w > 1000) {
        detect_errf(err, errlen, "farrington: b must be 1..%d and w 0..1000",
                    RHIS_DETECT_FARR_MAX_B);
        return RHIS_EINVAL;
    }
    if (!(o->alpha > 0.0 && o->alpha < 0.5)) {
        detect_errf(err, errlen, "farrington: alpha must be in (0, 0.5)");
        return RHIS_EINVAL;
    }
    if (o->no_periods < 1 || o->no_periods > RHIS_DETECT_FARR_MAX_PERIODS) {
        detect_errf(err, errlen, "farrington: no-periods must be 1..%d",
                    RHIS_DETECT_FARR_MAX_PERIODS);
        return RHIS_EINVAL;
    }
    if (o->limit54_cases < 0 || o->limit54_period < 1 ||
        o->past_weeks_not_included > 100000 || !(o->weights_threshold >= 0.0) ||
        !(o->p_threshold_trend >= 0.0)) {
        detect_errf(err, errlen, "farrington: option out of range");
        return RHIS_EINVAL;
    }
    return RHIS_OK;
}

rhis_status
rhis_detect_farrington(const rhis_detect_series *s,
                       const rhis_detect_farrington_opts *o,
                       size_t from,
                       size_t to,
                       rhis_detect_result *res,
                       char *err,
                       size_t errlen)
{
    rhis_status st = rhis_detect_check(s, from, to, res, err, errlen);
    if (st != RHIS_OK)
        return st;
    st = check_opts(o, err, errlen);
    if (st != RHIS_OK)
        return st;
    if (res->ncols < FARR_NCOLS) {
        detect_errf(err, errlen, "farrington: result has %d columns, need %d",
                    res->ncols, FARR_NCOLS);
        return RHIS_EINVAL;
    }
    rhis_detect_result_clear(res);
    if (from >= to)
        return RHIS_OK;
    int pw = o->past_weeks_not_included < 0 ? o->w : o->past_weeks_not_included;
    double z = detect_qnorm(1.0 - o->alpha);
    farr_ws ws;
    ws_init(&ws, to);
    point_consts(s->y, to, ws.sly, ws.sl01, ws.sy23);
    for (size_t i = from; i < to; i++)
        (void)eval_point(s, o, pw, z, i, &ws, res);
    ws_fini(&ws);
    return RHIS_OK;
}

void
rhis_detect_farrington_defaults(rhis_detect_farrington_opts *o, int noufaily)
{
    memset(o, 0, sizeof(*o));
    o->b = 5;
    o->w = 3;
    o->alpha = 0.05;
    o->reweight = 1;
    o->weights_threshold = 2.58;
    o->trend = 1;
    o->p_threshold_trend = 0.05;
    o->limit54_cases = 5;
    o->limit54_period = 4;
    o->powertrans = RHIS_DETECT_FARR_POW_23;
    o->no_periods = 1;
    o->past_weeks_not_included = -1;
    o->threshold = RHIS_DETECT_FARR_DELTA;
    if (noufaily) {
        o->no_periods = 10;
        o->past_weeks_not_included = 26;
        o->p_threshold_trend = 1.0;
        o->threshold = RHIS_DETECT_FARR_NBPLUGIN;
    }
}

/* ---- method table rows -------------------------------------------------- */

static void
defaults_farrington(void *opts)
{
    rhis_detect_farrington_defaults(opts, 0);
}

static void
defaults_noufaily(void *opts)
{
    rhis_detect_farrington_defaults(opts, 1);
}

/* "weightsThreshold", "weights-threshold", "weights_threshold" agree. */
static int
name_is(const char *name, const char *canon)
{
    for (;;) {
        while (*name == '-' || *name == '_')
            name++;
        while (*canon == '-')
            canon++;
        if (*name == '\0' || *canon == '\0')
            return *name == *canon;
        char a = *name, b = *canon;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
        name++;
        canon++;
    }
}

static rhis_status
opt_bool(
    const char *name, const char *value, int *out, char *err, size_t errlen)
{
    if (strcasecmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
        strcasecmp(value, "yes") == 0) {
        *out = 1;
        return RHIS_OK;
    }
    if (strcasecmp(value, "0") == 0 || strcasecmp(value, "false") == 0 ||
        strcasecmp(value, "no") == 0) {
        *out = 0;
        return RHIS_OK;
    }
    detect_errf(err, errlen, "option %s: '%s' is not true or false", name,
                value);
    return RHIS_EINVAL;
}

static rhis_status
set_opt(
    void *opts, const char *name, const char *value, char *err, size_t errlen)
{
    rhis_detect_farrington_opts *o = opts;
    if (name_is(name, "b"))
        return detect_opt_int(name, value, 1, RHIS_DETECT_FARR_MAX_B, &o->b,
                              err, errlen);
    if (name_is(name, "w"))
        return detect_opt_int(name, value, 0, 1000, &o->w, err, errlen);
    if (name_is(name, "alpha"))
        return detect_opt_double(name, value, 1e-12, 0.5, &o->alpha, err,
                                 errlen);
    if (name_is(name, "reweight"))
        return opt_bool(name, value, &o->reweight, err, errlen);
    if (name_is(name, "weights-threshold"))
        return detect_opt_double(name, value, 0.0, 1e6, &o->weights_threshold,
                                 err, errlen);
    if (name_is(name, "trend"))
        return opt_bool(name, value, &o->trend, err, errlen);
    if (name_is(name, "p-threshold-trend"))
        return detect_opt_double(name, value, 0.0, 1.0, &o->p_threshold_trend,
                                 err, errlen);
    if (name_is(name, "no-periods"))
        return detect_opt_int(name, value, 1, RHIS_DETECT_FARR_MAX_PERIODS,
                              &o->no_periods, err, errlen);
    if (name_is(name, "past-weeks-not-included"))
        return detect_opt_int(name, value, 0, 100000,
                              &o->past_weeks_not_included, err, errlen);
    if (name_is(name, "limit54")) {
        /* "5,4" on the command line; "5:4" or "5/4" inside a
         * comma-separated settings string. */
        char *end = NULL, *end2 = NULL;
        long c = strtol(value, &end, 10), p = 0;
        if (end != value && (*end == ',' || *end == ':' || *end == '/'))
            p = strtol(end + 1, &end2, 10);
        if (end == value || end2 == NULL || end2 == end + 1 || *end2 != '\0' ||
            c < 0 || c > 1000000 || p < 1 || p > 1000) {
            detect_errf(err, errlen,
                        "option %s: '%s' is not CASES,PERIOD (e.g. 5,4 or "
                        "5:4)",
                        name, value);
            return RHIS_EINVAL;
        }
        o->limit54_cases = (int)c;
        o->limit54_period = (int)p;
        return RHIS_OK;
    }
    if (name_is(name, "powertrans")) {
        if (strcmp(value, "2/3") == 0)
            o->powertrans = RHIS_DETECT_FARR_POW_23;
        else if (strcmp(value, "1/2") == 0)
            o->powertrans = RHIS_DETECT_FARR_POW_HALF;
        else if (strcmp(value, "none") == 0)
            o->powertrans = RHIS_DETECT_FARR_POW_NONE;
        else
            goto bad_enum;
        return RHIS_OK;
    }
    if (name_is(name, "threshold-method")) {
        if (strcmp(value, "delta") == 0)
            o->threshold = RHIS_DETECT_FARR_DELTA;
        else if (strcmp(value, "nbPlugin") == 0 ||
                 strcmp(value, "nbplugin") == 0)
            o->threshold = RHIS_DETECT_FARR_NBPLUGIN;
        else if (strcmp(value, "muan") == 0)
            o->threshold = RHIS_DETECT_FARR_MUAN;
        else
            goto bad_enum;
        return RHIS_OK;
    }
    return detect_opt_unknown("farrington", name, err, errlen);
bad_enum:
    detect_errf(err, errlen,
                "option %s: '%s' is not one of 2/3, 1/2, none (powertrans) "
                "or delta, nbPlugin, muan (threshold-method)",
                name, value);
    return RHIS_EINVAL;
}

static rhis_status
run(const rhis_detect_series *s,
    const void *opts,
    size_t from,
    size_t to,
    rhis_detect_result *res,
    char *err,
    size_t errlen)
{
    return rhis_detect_farrington(s, opts, from, to, res, err, errlen);
}

#define FARR_HELP                                                              \
    "  --b B                        years back, 1..50 (5)\n"                   \
    "  --w W                        half window in points (3)\n"               \
    "  --alpha A                    one-sided level (0.05)\n"                  \
    "  --reweight BOOL              Anscombe reweighting (true)\n"             \
    "  --weights-threshold C        reweight residuals above C (2.58)\n"       \
    "  --trend BOOL                 try a time trend (true)\n"                 \
    "  --limit54 C,P                alarm needs >= C cases in the last P "     \
    "points (5,4; also C:P)\n"                                                 \
    "  --powertrans 2/3|1/2|none    delta-method power (2/3)\n"

const rhis_detect_method rhis_detect_method_farrington = {
    .name = "farrington",
    .summary = "Farrington flexible (R farringtonFlexible defaults): "
               "quasi-Poisson GLM over b years x (2w+1) points",
    .opt_help = FARR_HELP
    "  --p-threshold-trend P        keep the trend if p < P (0.05)\n"
    "  --no-periods N               seasonal factor levels (1)\n"
    "  --past-weeks-not-included K  recent points left out (w)\n"
    "  --threshold-method M         delta|nbPlugin|muan (delta)\n",
    .opts_size = sizeof(rhis_detect_farrington_opts),
    .ncols = FARR_NCOLS,
    .col_names = {"expected", "score", "pvalue", "phi", "trend_coef", "enough"},
    .defaults = defaults_farrington,
    .set_opt = set_opt,
    .run = run,
};

const rhis_detect_method rhis_detect_method_noufaily = {
    .name = "noufaily",
    .summary = "Farrington flexible, Noufaily (2013) settings: 10 periods, "
               "26 points left out, negative binomial quantile",
    .opt_help = FARR_HELP
    "  --p-threshold-trend P        keep the trend if p < P (1)\n"
    "  --no-periods N               seasonal factor levels (10)\n"
    "  --past-weeks-not-included K  recent points left out (26)\n"
    "  --threshold-method M         delta|nbPlugin|muan (nbPlugin)\n",
    .opts_size = sizeof(rhis_detect_farrington_opts),
    .ncols = FARR_NCOLS,
    .col_names = {"expected", "score", "pvalue", "phi", "trend_coef", "enough"},
    .defaults = defaults_noufaily,
    .set_opt = set_opt,
    .run = run,
};
