/*
 * strategy_vibe.c — ViBE (Variability-Informed Binning of Experts), one layer at a time.
 *
 * ViBE bins experts so that every GPU's predicted finish time is equal: GPU g's time is
 * predicted as F_g = sum over its experts of f_g(w_e), f_g its own latency curve and w_e
 * the expert's mean tokens per batch. Heavy experts go first, each to the GPU that would
 * finish earliest with it (so hot experts land on fast GPUs), under a cap of equal
 * experts per GPU (one replica per expert). Then pairwise swaps between the GPU that
 * finishes last and the others, while they lower the latest finish time (ties broken by
 * the sum of squared finish times, so the search keeps moving on plateaus). Curves are
 * evaluated per GPU, so a slower slope or a higher weight-read floor both count.
 * (ViBE's drift recalibration belongs to the serving simulator, not to placement.)
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "place_util.h"
#include "base_util.h"

#define MAX_ROUNDS 10000

/* Objective of a finish-time vector: the latest finish, then spread. */
static void objective(const double *fin, int G, double *mx, double *sq)
{
    *mx = 0;
    *sq = 0;
    for (int g = 0; g < G; g++) {
        *mx = fin[g] > *mx ? fin[g] : *mx;
        *sq += fin[g] * fin[g];
    }
}

int place_vibe(const place_problem *pb, place_result *out, moemap_error *err)
{
    int G = pb->num_gpus, E = pb->experts, B = pb->num_batches, rc = 0;
    long total_slots = 0;
    for (int g = 0; g < G; g++)
        total_slots += pb->slots[g];
    if (total_slots < E)
        return moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                "vibe: %ld slots for %d experts (one replica each)",
                                total_slots, E);
    double deadline = mm_now_s() + (pb->time_budget_s > 0 ? pb->time_budget_s : 1.0);
    double *w = moemap_malloc((size_t)E * sizeof(double));
    double *cost = moemap_malloc((size_t)E * (size_t)G * sizeof(double)); /* f_g(w_e) */
    double *fin = moemap_calloc((size_t)G, sizeof(double));
    int *quota = moemap_malloc((size_t)G * sizeof(int));
    int *left = moemap_malloc((size_t)G * sizeof(int));
    int *order = moemap_malloc((size_t)E * sizeof(int));
    int *where = moemap_malloc((size_t)E * sizeof(int));
    if (!w || !cost || !fin || !quota || !left || !order || !where) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "vibe: out of memory");
        goto done;
    }
    for (int e = 0; e < E; e++) {
        w[e] = B > 0 ? pb->total[e] / B : 0;
        for (int g = 0; g < G; g++)
            cost[(size_t)e * G + g] = moemap_cluster_expert_us(pb->cluster, g, w[e]);
    }
    place_even_quota(G, pb->slots, E, quota);
    memcpy(left, quota, (size_t)G * sizeof(int));
    place_sort_desc(w, E, order);
    for (int i = 0; i < E; i++) {
        int e = order[i], best = -1;
        for (int g = 0; g < G; g++) {
            if (left[g] <= 0)
                continue;
            double t = fin[g] + cost[(size_t)e * G + g];
            if (best < 0 || t < fin[best] + cost[(size_t)e * G + best])
                best = g;
        }
        MOEMAP_ASSERT(best >= 0); /* quotas sum to E */
        where[e] = best;
        fin[best] += cost[(size_t)e * G + best];
        left[best]--;
    }
    /* Swaps: an expert of the latest GPU against an expert of another GPU. */
    for (int round = 0; round < MAX_ROUNDS && mm_now_s() < deadline; round++) {
        double mx, sq;
        objective(fin, G, &mx, &sq);
        int top = 0;
        for (int g = 1; g < G; g++)
            top = fin[g] > fin[top] ? g : top;
        int be = -1, bf = -1;
        double bmx = mx, bsq = sq;
        for (int e = 0; e < E; e++) {
            if (where[e] != top)
                continue;
            for (int f = 0; f < E; f++) {
                int h = where[f];
                if (h == top)
                    continue;
                double ft = fin[top] - cost[(size_t)e * G + top] + cost[(size_t)f * G + top];
                double fh = fin[h] - cost[(size_t)f * G + h] + cost[(size_t)e * G + h];
                /* New max: the two changed GPUs against the rest (top was the max, so the
                 * rest's max is at most the old max; recompute exactly). */
                double nmx = ft > fh ? ft : fh, nsq = sq;
                for (int g = 0; g < G; g++)
                    if (g != top && g != h && fin[g] > nmx)
                        nmx = fin[g];
                nsq += ft * ft - fin[top] * fin[top] + fh * fh - fin[h] * fin[h];
                if (nmx < bmx - 1e-9 || (nmx <= bmx + 1e-9 && nsq < bsq - 1e-9)) {
                    bmx = nmx;
                    bsq = nsq;
                    be = e;
                    bf = f;
                }
            }
        }
        if (be < 0)
            break;
        int h = where[bf];
        fin[top] += cost[(size_t)bf * G + top] - cost[(size_t)be * G + top];
        fin[h] += cost[(size_t)be * G + h] - cost[(size_t)bf * G + h];
        where[be] = h;
        where[bf] = top;
    }
    for (int e = 0; e < E && !rc; e++)
        rc = place_result_add(out, e, where[e], 1.0, err);
done:
    moemap_free(w);
    moemap_free(cost);
    moemap_free(fin);
    moemap_free(quota);
    moemap_free(left);
    moemap_free(order);
    moemap_free(where);
    return rc;
}
