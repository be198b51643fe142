/*
 * curve_fit.c — fitting a GPU's latency curve from raw timings (the profiler's repeats).
 *
 * Kernel timings have heavy right tails (a clock dip, another process, a page fault), so
 * each token count's value is the median of its repeats, not the mean. Medians of noisy
 * neighbouring sizes can still step down (e.g. at a GEMM tile boundary where a better
 * kernel takes over), and a cost model that is cheaper for more tokens would let the
 * placement search exploit noise; weighted isotonic regression (pool adjacent violators)
 * gives the closest non-decreasing sequence. Jitter is a robust cv: 1.4826 * MAD / median,
 * which equals the cv for normal noise and ignores the rare outlier.
 */
#include "moemap/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base_util.h"

typedef struct sample {
    double t, u;
} sample;

static int cmp_sample(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->u > y->u) - (x->u < y->u);
}

/* Median of a sorted array. */
static double median_sorted(const double *x, int n)
{
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Weighted isotonic regression (non-decreasing) of y[0..n) in place: pool adjacent
 * violators with a stack of blocks. Returns the number of values changed. */
static int pav(double *y, const double *w, int n, double *bval, double *bw, int *blen)
{
    int nb = 0;
    for (int i = 0; i < n; i++) {
        bval[nb] = y[i];
        bw[nb] = w[i];
        blen[nb] = 1;
        nb++;
        while (nb > 1 && bval[nb - 2] > bval[nb - 1]) {
            double wt = bw[nb - 2] + bw[nb - 1];
            bval[nb - 2] = (bval[nb - 2] * bw[nb - 2] + bval[nb - 1] * bw[nb - 1]) / wt;
            bw[nb - 2] = wt;
            blen[nb - 2] += blen[nb - 1];
            nb--;
        }
    }
    int changed = 0, i = 0;
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < blen[b]; k++, i++) {
            changed += y[i] != bval[b];
            y[i] = bval[b];
        }
    return changed;
}

int moemap_curve_fit(const double *tokens, const double *us, int n_samples,
                     moemap_curve *out, moemap_curve_fit_report *report, moemap_error *err)
{
    if (n_samples < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "curve fit: no samples");
    for (int i = 0; i < n_samples; i++) {
        if (!isfinite(tokens[i]) || tokens[i] <= 0)
            return moemap_error_set(err, MOEMAP_ERANGE, "curve fit: sample %d: token count "
                                    "%g must be a finite number > 0", i, tokens[i]);
        if (!isfinite(us[i]) || us[i] < 0)
            return moemap_error_set(err, MOEMAP_ERANGE, "curve fit: sample %d: time %g us "
                                    "must be a finite number >= 0", i, us[i]);
    }
    size_t n = (size_t)n_samples;
    sample *s = moemap_malloc(n * sizeof *s);
    double *vals = moemap_malloc(n * sizeof *vals);
    double *pt = moemap_malloc(n * sizeof *pt);   /* distinct token counts */
    double *pm = moemap_malloc(n * sizeof *pm);   /* per-point medians */
    double *pw = moemap_malloc(n * sizeof *pw);   /* repeats per point (PAV weights) */
    double *py = moemap_malloc(n * sizeof *py);   /* fitted values */
    double *bval = moemap_malloc(n * sizeof *bval);
    double *bw = moemap_malloc(n * sizeof *bw);
    int *blen = moemap_malloc(n * sizeof *blen);
    double *cvs = moemap_malloc(n * sizeof *cvs);
    double *rel = moemap_malloc(n * sizeof *rel);
    int rc = 0;
    if (!s || !vals || !pt || !pm || !pw || !py || !bval || !bw || !blen || !cvs || !rel) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "curve fit of %d samples: out of memory",
                              n_samples);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        s[i] = (sample){tokens[i], us[i]};
    qsort(s, n, sizeof *s, cmp_sample);

    /* Per token count: median and robust spread of the repeats (already sorted by us). */
    moemap_curve_fit_report rep = {0};
    int np = 0, ncv = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].t == s[i].t)
            j++;
        int m = (int)(j - i);
        for (int k = 0; k < m; k++)
            vals[k] = s[i + (size_t)k].u;
        double med = median_sorted(vals, m);
        for (int k = 0; k < m; k++)
            vals[k] = fabs(vals[k] - med);
        qsort(vals, (size_t)m, sizeof *vals, mm_cmp_double);
        double mad = median_sorted(vals, m);
        if (m >= 3 && med > 0)
            cvs[ncv++] = 1.4826 * mad / med;
        /* Outliers: beyond 5 robust sigmas (only meaningful with a spread to measure). */
        if (m >= 3 && mad > 0)
            for (size_t k = i; k < j; k++)
                rep.outliers += fabs(s[k].u - med) > 5 * 1.4826 * mad;
        pt[np] = s[i].t;
        pm[np] = med;
        pw[np] = m;
        np++;
        i = j;
    }
    memcpy(py, pm, (size_t)np * sizeof *py);
    rep.monotone_fixes = pav(py, pw, np, bval, bw, blen);

    /* Quality: fitted points against the medians, and R^2 against every sample. */
    int nrel = 0;
    for (int p = 0; p < np; p++) {
        double d = fabs(py[p] - pm[p]);
        rel[nrel++] = pm[p] > 0 ? d / pm[p] : (d > 0 ? INFINITY : 0);
    }
    qsort(rel, (size_t)nrel, sizeof *rel, mm_cmp_double);
    rep.max_rel_err = rel[nrel - 1];
    rep.median_rel_err = median_sorted(rel, nrel);
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += s[i].u;
    mean /= (double)n;
    double ss_tot = 0, ss_res = 0;
    for (size_t i = 0, p = 0; i < n; i++) {
        while (pt[p] != s[i].t)
            p++;
        ss_res += (s[i].u - py[p]) * (s[i].u - py[p]);
        ss_tot += (s[i].u - mean) * (s[i].u - mean);
    }
    /* All samples equal: the curve explains them fully when it hits them. */
    rep.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1.0 : 0.0);
    if (ncv > 0) {
        qsort(cvs, (size_t)ncv, sizeof *cvs, mm_cmp_double);
        rep.cv = median_sorted(cvs, ncv);
    }
    rep.samples = n_samples;
    rep.points = np;

    /* The curve takes the point arrays (shrunk to size). */
    moemap_curve_clear(out);
    out->tokens = moemap_realloc(pt, (size_t)np * sizeof *pt);
    out->us = moemap_realloc(py, (size_t)np * sizeof *py);
    if (!out->tokens)
        out->tokens = pt;
    if (!out->us)
        out->us = py;
    pt = py = NULL;
    out->n = np;
    out->cv = rep.cv;
    if (report)
        *report = rep;
done:
    moemap_free(s);
    moemap_free(vals);
    moemap_free(pt);
    moemap_free(pm);
    moemap_free(pw);
    moemap_free(py);
    moemap_free(bval);
    moemap_free(bw);
    moemap_free(blen);
    moemap_free(cvs);
    moemap_free(rel);
    return rc;
}
