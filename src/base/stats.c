/*
 * stats.c — small statistics over double arrays (mean, interpolated quantiles) used by
 * workload statistics, evaluation and the simulator's metrics.
 */
#include "moemap/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base_util.h"

double moemap_mean(const double *x, size_t n)
{
    if (n == 0)
        return 0.0;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

double moemap_quantile(const double *x, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return NAN;
    memcpy(tmp, x, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, mm_cmp_double);
    if (q <= 0)
        q = 0;
    if (q >= 1)
        q = 1;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    double r = tmp[lo] + (tmp[hi] - tmp[lo]) * frac;
    free(tmp);
    return r;
}
