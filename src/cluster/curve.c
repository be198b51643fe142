/*
 * curve.c — the per-GPU latency curve f(n): evaluation, validation, copying and noisy
 * draws.
 *
 * moemap_curve_eval is the innermost call of placement search and evaluation (every
 * candidate move re-prices a few replicas), so it is a branch or two plus a binary search
 * over a handful of points, with no allocation and no error path: curves are checked once
 * when they enter the library (file reader, fit, finalize) and trusted afterwards.
 */
#include "moemap/cluster.h"

#include <math.h>
#include <string.h>

/* The curve at n with every time divided by div, when `divide` (a GPU that runs the base
 * curve at its speed); inlined into the two entry points, so the plain one pays nothing.
 * Points are divided before they are combined, as a divided copy of the curve would be. */
static inline double eval_(const moemap_curve *c, double n, int divide, double div)
{
    if (!(n > 0) || c->n <= 0)
        return 0.0;
    const double *t = c->tokens, *u = c->us;
#define U_(i) (divide ? u[i] / div : u[i])
    int last = c->n - 1;
    /* Below the first point: the weight-read floor, flat. */
    if (n <= t[0])
        return U_(0);
    if (n >= t[last]) {
        if (last == 0 || n == t[last])
            return U_(last);
        /* Past the last point: the last segment's slope, never below the last value. */
        double ul = U_(last);
        double slope = (ul - U_(last - 1)) / (t[last] - t[last - 1]);
        double v = ul + (slope > 0 ? slope : 0.0) * (n - t[last]);
        return v;
    }
    /* t[0] < n < t[last]: branch-free binary search for the last point <= n (random
     * token counts make the branches of a classic search unpredictable). */
    const double *b = t;
    int len = last + 1;
    while (len > 1) {
        int half = len >> 1;
        b = b[half] <= n ? b + half : b;
        len -= half;
    }
    int lo = (int)(b - t), hi = lo + 1;
    double f = (n - t[lo]) / (t[hi] - t[lo]);
    double ulo = U_(lo);
    return ulo + f * (U_(hi) - ulo);
#undef U_
}

double moemap_curve_eval(const moemap_curve *c, double n)
{
    return eval_(c, n, 0, 1.0);
}

double moemap_curve_eval_div(const moemap_curve *c, double n, double div)
{
    return eval_(c, n, 1, div);
}

double moemap_curve_sample(const moemap_curve *c, double n, moemap_rng *rng)
{
    double mean = moemap_curve_eval(c, n);
    if (!(c->cv > 0) || mean <= 0)
        return mean;
    /* Log-normal with E = 1 and CV = cv: sigma^2 = ln(1 + cv^2), mu = -sigma^2 / 2.
     * Multiplicative and never negative, like real kernel-time jitter. */
    double s2 = log1p(c->cv * c->cv);
    double z = moemap_rng_normal(rng);
    return mean * exp(sqrt(s2) * z - 0.5 * s2);
}

int moemap_curve_check(const moemap_curve *c, const char *what, moemap_error *err)
{
    if (!what)
        what = "curve";
    if (c->n < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: has no points", what);
    if (!c->tokens || !c->us)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: points are missing", what);
    if (!isfinite(c->cv) || c->cv < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.cv: %g must be finite and >= 0",
                                what, c->cv);
    for (int i = 0; i < c->n; i++) {
        double t = c->tokens[i], u = c->us[i];
        if (!isfinite(t) || t <= 0)
            return moemap_error_set(err, MOEMAP_ERANGE,
                                    "%s.tokens[%d]: %g must be a finite number > 0", what, i,
                                    t);
        if (!isfinite(u) || u < 0)
            return moemap_error_set(err, MOEMAP_ERANGE,
                                    "%s.us[%d]: %g must be a finite number >= 0", what, i, u);
        if (i > 0 && !(t > c->tokens[i - 1]))
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "%s.tokens[%d]: %g is not above tokens[%d] = %g "
                                    "(token counts must increase strictly)",
                                    what, i, t, i - 1, c->tokens[i - 1]);
        if (i > 0 && u < c->us[i - 1])
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "%s.us[%d]: %g us at %g tokens is below us[%d] = %g at %g "
                                    "tokens (the curve must be non-decreasing)",
                                    what, i, u, t, i - 1, c->us[i - 1], c->tokens[i - 1]);
    }
    return 0;
}

int moemap_curve_copy(const moemap_curve *src, moemap_curve *dst, moemap_error *err)
{
    moemap_curve tmp = {0};
    tmp.cv = src->cv;
    if (src->n > 0) {
        tmp.tokens = moemap_malloc((size_t)src->n * sizeof *tmp.tokens);
        tmp.us = moemap_malloc((size_t)src->n * sizeof *tmp.us);
        if (!tmp.tokens || !tmp.us) {
            moemap_free(tmp.tokens);
            moemap_free(tmp.us);
            return moemap_error_set(err, MOEMAP_ENOMEM, "copying a curve of %d points: "
                                    "out of memory", src->n);
        }
        memcpy(tmp.tokens, src->tokens, (size_t)src->n * sizeof *tmp.tokens);
        memcpy(tmp.us, src->us, (size_t)src->n * sizeof *tmp.us);
        tmp.n = src->n;
    }
    /* src and dst may be the same curve: release the old points only after copying. */
    moemap_curve_clear(dst);
    *dst = tmp;
    return 0;
}

void moemap_curve_clear(moemap_curve *c)
{
    if (!c)
        return;
    moemap_free(c->tokens);
    moemap_free(c->us);
    c->tokens = c->us = NULL;
    c->n = 0;
    c->cv = 0;
}
