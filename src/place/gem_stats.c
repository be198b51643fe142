/*
 * gem_stats.c — see gem_stats.h. The correlation matrix is the costly part (E^2 x
 * batches); it is computed for the consistent and temporal experts only, on at most
 * MAX_CORR_BATCHES evenly spaced batches, which keeps a 256-expert layer with
 * thousands of batches in the milliseconds.
 */
#include "gem_stats.h"

#include <math.h>
#include <string.h>

#define MAX_CORR_BATCHES 256

void gem_stats_clear(gem_stats *st)
{
    moemap_free(st->mean_load);
    moemap_free(st->active_frac);
    moemap_free(st->active_load);
    moemap_free(st->kind);
    moemap_free(st->corr);
    memset(st, 0, sizeof *st);
}

/* Per-batch counts of the important experts, centred and scaled to unit norm, so that
 * the correlation of two experts is a dot product. */
static void fill_correlation(const place_problem *pb, gem_stats *st, const int *imp, int ni,
                             double *z, int nb, int stride)
{
    int E = pb->experts;
    for (int i = 0; i < ni; i++) {
        double *zi = z + (size_t)i * nb, mean = 0, norm = 0;
        for (int k = 0; k < nb; k++) {
            zi[k] = pb->counts[(size_t)k * stride * E + imp[i]];
            mean += zi[k];
        }
        mean /= nb;
        for (int k = 0; k < nb; k++) {
            zi[k] -= mean;
            norm += zi[k] * zi[k];
        }
        norm = sqrt(norm);
        for (int k = 0; k < nb; k++)
            zi[k] = norm > 0 ? zi[k] / norm : 0;
    }
    for (int i = 0; i < ni; i++)
        for (int j = i + 1; j < ni; j++) {
            double r = 0;
            for (int k = 0; k < nb; k++)
                r += z[(size_t)i * nb + k] * z[(size_t)j * nb + k];
            float v = r > 0 ? (float)r : 0.0f;
            st->corr[(size_t)imp[i] * E + imp[j]] = v;
            st->corr[(size_t)imp[j] * E + imp[i]] = v;
        }
}

int gem_stats_build(const place_problem *pb, gem_stats *st, moemap_error *err)
{
    int E = pb->experts, B = pb->num_batches;
    memset(st, 0, sizeof *st);
    st->experts = E;
    st->mean_load = moemap_calloc((size_t)E, sizeof(double));
    st->active_frac = moemap_calloc((size_t)E, sizeof(double));
    st->active_load = moemap_calloc((size_t)E, sizeof(double));
    st->kind = moemap_calloc((size_t)E, 1);
    st->corr = moemap_calloc((size_t)E * (size_t)E, sizeof(float));
    int *imp = moemap_malloc((size_t)E * sizeof(int));
    int stride = B > MAX_CORR_BATCHES ? (B + MAX_CORR_BATCHES - 1) / MAX_CORR_BATCHES : 1;
    int nb = (B + stride - 1) / stride;
    double *z = moemap_malloc((size_t)E * (size_t)(nb > 0 ? nb : 1) * sizeof(double));
    if (!st->mean_load || !st->active_frac || !st->active_load || !st->kind || !st->corr ||
        !imp || !z) {
        moemap_free(imp);
        moemap_free(z);
        gem_stats_clear(st);
        return moemap_error_set(err, MOEMAP_ENOMEM, "gem: out of memory");
    }
    double layer_mean = 0;
    for (int e = 0; e < E; e++) {
        int active = 0;
        for (int b = 0; b < B; b++)
            active += pb->counts[(size_t)b * E + e] > 0;
        st->mean_load[e] = B > 0 ? pb->total[e] / B : 0;
        st->active_frac[e] = B > 0 ? (double)active / B : 0;
        st->active_load[e] = active > 0 ? pb->total[e] / active : 0;
        layer_mean += st->mean_load[e];
    }
    layer_mean /= E;
    const moemap_place_params *pp = pb->params;
    int ni = 0;
    for (int e = 0; e < E; e++) {
        if (st->active_frac[e] > 0 && st->active_frac[e] >= pp->consistent_threshold) {
            st->kind[e] = GEM_CONSISTENT;
            st->num_consistent++;
        } else if (st->active_frac[e] > 0 && st->active_frac[e] <= pp->temporal_max_active &&
                   st->active_load[e] >= pp->temporal_min_ratio * layer_mean) {
            st->kind[e] = GEM_TEMPORAL;
            st->num_temporal++;
        }
        if (st->kind[e] != GEM_REGULAR)
            imp[ni++] = e;
    }
    /* With fewer than 3 batches a correlation says nothing: no co-activation terms. */
    if (nb >= 3)
        fill_correlation(pb, st, imp, ni, z, nb, stride);
    moemap_free(imp);
    moemap_free(z);
    return 0;
}
