/*
 * strategy_gem.c — GEM ("GPU-variability-aware Expert Mapping"), one layer at a time.
 *
 * GEM's idea: a GPU's token load should match its speed, and the experts that make
 * stragglers (consistent experts, active in almost every batch, and temporal experts,
 * rare but heavy bursts) should not pile up on one GPU when they are active together.
 * Steps:
 *   1. speed: each GPU's speed relative to the fastest at a representative token count
 *      (the mean tokens of an active expert in this layer), from its latency curve;
 *   2. targets: each GPU's share of the layer's mean token load, proportional to speed;
 *   3. classify experts and measure co-activation (gem_stats.c);
 *   4. greedy: experts heaviest first, each to the GPU with the most room under its
 *      target, respecting equal experts per GPU (one replica per expert) and keeping the
 *      hot experts (>= 2x the layer's mean expert load) off the slowest GPUs;
 *   5. improvement: pairwise swaps of experts between GPUs while they lower
 *      J = max_g |L_g - T_g| / T_mean + 0.01 * mean_g ((L_g - T_g) / T_mean)^2
 *        + LAMBDA * sum over co-located important pairs of corr_ij * min(w_i, w_j) / T_mean
 *      (swaps keep the per-GPU expert counts). The squared term breaks ties of the max
 *      so the search does not stall; the conflict term is in the same unit as the
 *      deviation (a fraction of a GPU's target load).
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "gem_stats.h"
#include "place_util.h"
#include "base_util.h"

#define LAMBDA 0.1
#define MAX_PASSES 200

typedef struct gem {
    const place_problem *pb;
    const gem_stats *st;
    int G, E;
    double *target;       /* [G] */
    double tmean;
    double *load;         /* [G] current mean token load */
    int *where;           /* [E] GPU of each expert */
    double *conf;         /* [E * G] sum of conflict weights of e with experts on g */
    unsigned char *slow;  /* [G] */
    unsigned char *hot;   /* [E] */
    int forbid;           /* 1: hot experts may not go to slow GPUs */
} gem;

static double pair_weight(const gem *s, int i, int j)
{
    double c = s->st->corr[(size_t)i * s->E + j];
    if (c <= 0)
        return 0;
    double wi = s->st->mean_load[i], wj = s->st->mean_load[j];
    return c * (wi < wj ? wi : wj) / s->tmean;
}

static int allowed(const gem *s, int e, int g)
{
    return !(s->forbid && s->hot[e] && s->slow[g]);
}

/* Marks the slowest GPUs (in the lower half of the speed range, when speeds differ by
 * more than 2%) and the hot experts (at least twice the layer's mean expert load, the
 * hottest first, no more than the other experts can leave room for); hot experts then
 * may not go to slow GPUs, as long as the other experts can fill the slow GPUs' quotas. */
static void mark_hot_slow(gem *s, const double *rel, const int *quota)
{
    double lo = 1, hi = 0, mean = 0;
    for (int g = 0; g < s->G; g++) {
        lo = rel[g] < lo ? rel[g] : lo;
        hi = rel[g] > hi ? rel[g] : hi;
    }
    int slow_quota = 0;
    for (int g = 0; g < s->G; g++) {
        s->slow[g] = hi - lo > 0.02 && rel[g] < lo + 0.5 * (hi - lo);
        slow_quota += s->slow[g] ? quota[g] : 0;
    }
    for (int e = 0; e < s->E; e++)
        mean += s->st->mean_load[e] / s->E;
    int *order = moemap_malloc((size_t)s->E * sizeof(int));
    if (!order)
        return; /* no hot set: the targets alone still favour fast GPUs */
    place_sort_desc(s->st->mean_load, s->E, order);
    int nhot = 0;
    for (int i = 0; i < s->E - slow_quota; i++)
        if (s->st->mean_load[order[i]] >= 2.0 * mean && mean > 0) {
            s->hot[order[i]] = 1;
            nhot++;
        }
    moemap_free(order);
    s->forbid = slow_quota > 0 && nhot > 0;
}

/* The three largest deviations and the sum of squares, so that the deviation part of J
 * after a swap (only two GPUs change) costs O(1) instead of O(G). */
typedef struct dev_summary {
    double top[3];
    int who[3];
    double sq;
} dev_summary;

static double dev_of(const gem *s, int g, double l)
{
    return fabs(l - s->target[g]) / s->tmean;
}

static void summarise(const gem *s, dev_summary *d)
{
    d->sq = 0;
    for (int k = 0; k < 3; k++) {
        d->top[k] = -1;
        d->who[k] = -1;
    }
    for (int g = 0; g < s->G; g++) {
        double v = dev_of(s, g, s->load[g]);
        d->sq += v * v;
        for (int k = 0; k < 3; k++)
            if (v > d->top[k]) {
                for (int j = 2; j > k; j--) {
                    d->top[j] = d->top[j - 1];
                    d->who[j] = d->who[j - 1];
                }
                d->top[k] = v;
                d->who[k] = g;
                break;
            }
    }
}

/* Deviation part of J when GPUs a and b take loads la and lb (a = b = -1: as is). */
static double dev_cost(const gem *s, const dev_summary *d, int a, double la, int b, double lb)
{
    double mx = 0, sq = d->sq;
    for (int k = 0; k < 3; k++)
        if (d->who[k] >= 0 && d->who[k] != a && d->who[k] != b) {
            mx = d->top[k];
            break;
        }
    if (a >= 0) {
        double da = dev_of(s, a, la), db = dev_of(s, b, lb);
        double oa = dev_of(s, a, s->load[a]), ob = dev_of(s, b, s->load[b]);
        sq += da * da + db * db - oa * oa - ob * ob;
        mx = da > mx ? da : mx;
        mx = db > mx ? db : mx;
    }
    return mx + 0.01 * sq / s->G;
}

static void place_expert(gem *s, int e, int g)
{
    s->where[e] = g;
    s->load[g] += s->st->mean_load[e];
    for (int k = 0; k < s->E; k++)
        if (k != e)
            s->conf[(size_t)k * s->G + g] += pair_weight(s, k, e);
}

static void remove_expert(gem *s, int e)
{
    int g = s->where[e];
    s->load[g] -= s->st->mean_load[e];
    for (int k = 0; k < s->E; k++)
        if (k != e)
            s->conf[(size_t)k * s->G + g] -= pair_weight(s, k, e);
    s->where[e] = -1;
}

static int greedy(gem *s, const int *quota, moemap_error *err)
{
    int *order = moemap_malloc((size_t)s->E * sizeof(int));
    int *left = moemap_malloc((size_t)s->G * sizeof(int));
    if (!order || !left) {
        moemap_free(order);
        moemap_free(left);
        return moemap_error_set(err, MOEMAP_ENOMEM, "gem: out of memory");
    }
    memcpy(left, quota, (size_t)s->G * sizeof(int));
    place_sort_desc(s->st->mean_load, s->E, order);
    for (int i = 0; i < s->E; i++) {
        int e = order[i], best = -1;
        double best_score = INFINITY;
        for (int pass = 0; pass < 2 && best < 0; pass++)
            for (int g = 0; g < s->G; g++) {
                if (left[g] <= 0 || (pass == 0 && !allowed(s, e, g)))
                    continue;
                double score = (s->load[g] + s->st->mean_load[e] - s->target[g]) / s->tmean +
                               LAMBDA * s->conf[(size_t)e * s->G + g];
                /* best < 0: take the first open GPU even when the score is not a
                 * number (extreme loads), so only the quotas decide feasibility. */
                if (score < best_score || best < 0) {
                    best_score = score;
                    best = g;
                }
            }
        MOEMAP_ASSERT(best >= 0); /* quotas sum to E */
        place_expert(s, e, best);
        left[best]--;
    }
    moemap_free(order);
    moemap_free(left);
    return 0;
}

/* Change of the conflict term when experts e (on ge) and f (on gf) trade GPUs. */
static double conf_delta(const gem *s, int e, int f)
{
    int ge = s->where[e], gf = s->where[f];
    double wef = pair_weight(s, e, f);
    return (s->conf[(size_t)e * s->G + gf] - wef) - s->conf[(size_t)e * s->G + ge] +
           (s->conf[(size_t)f * s->G + ge] - wef) - s->conf[(size_t)f * s->G + gf];
}

static void improve(gem *s, double deadline)
{
    dev_summary d;
    summarise(s, &d);
    double cur = dev_cost(s, &d, -1, 0, -1, 0);
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        int improved = 0;
        for (int e = 0; e < s->E; e++) {
            if ((e & 15) == 0 && mm_now_s() > deadline)
                return;
            int best_f = -1;
            double best = cur - 1e-12, best_dev = cur;
            int ge = s->where[e];
            double we = s->st->mean_load[e];
            for (int f = 0; f < s->E; f++) {
                int gf = s->where[f];
                if (gf == ge || !allowed(s, e, gf) || !allowed(s, f, ge))
                    continue;
                double wf = s->st->mean_load[f];
                if (we == wf && s->conf[(size_t)e * s->G + gf] == 0 &&
                    s->conf[(size_t)f * s->G + ge] == 0)
                    continue;
                double dv = dev_cost(s, &d, ge, s->load[ge] - we + wf, gf,
                                     s->load[gf] - wf + we);
                double total = dv + LAMBDA * conf_delta(s, e, f);
                if (total < best) {
                    best = total;
                    best_dev = dv;
                    best_f = f;
                }
            }
            if (best_f >= 0) {
                int gf = s->where[best_f];
                remove_expert(s, e);
                remove_expert(s, best_f);
                place_expert(s, e, gf);
                place_expert(s, best_f, ge);
                summarise(s, &d);
                cur = best_dev;
                improved = 1;
            }
        }
        if (!improved)
            break;
    }
}

int place_gem(const place_problem *pb, place_result *out, moemap_error *err)
{
    int G = pb->num_gpus, E = pb->experts;
    long total_slots = 0;
    for (int g = 0; g < G; g++)
        total_slots += pb->slots[g];
    if (total_slots < E)
        return moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                "gem: %ld slots for %d experts (one replica each)",
                                total_slots, E);
    double t0 = mm_now_s();
    gem_stats st;
    int rc = gem_stats_build(pb, &st, err);
    if (rc)
        return rc;
    gem s = {.pb = pb, .st = &st, .G = G, .E = E};
    s.target = moemap_calloc((size_t)G, sizeof(double));
    s.load = moemap_calloc((size_t)G, sizeof(double));
    s.where = moemap_malloc((size_t)E * sizeof(int));
    s.conf = moemap_calloc((size_t)E * (size_t)G, sizeof(double));
    s.slow = moemap_calloc((size_t)G, 1);
    s.hot = moemap_calloc((size_t)E, 1);
    double *rel = moemap_malloc((size_t)G * sizeof(double));
    int *quota = moemap_malloc((size_t)G * sizeof(int));
    if (!s.target || !s.load || !s.where || !s.conf || !s.slow || !s.hot || !rel || !quota) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "gem: out of memory");
        goto done;
    }
    /* Representative token count: the mean tokens of an active expert in a batch. */
    double act = 0, wsum = 0;
    int nact = 0;
    for (int e = 0; e < E; e++) {
        wsum += st.mean_load[e];
        if (st.active_load[e] > 0) {
            act += st.active_load[e];
            nact++;
        }
    }
    moemap_cluster_relative_speed(pb->cluster, nact ? act / nact : 1.0, rel);
    double rsum = 0;
    for (int g = 0; g < G; g++)
        rsum += rel[g];
    for (int g = 0; g < G; g++)
        s.target[g] = wsum * rel[g] / rsum;
    s.tmean = wsum > 0 ? wsum / G : 1.0;
    place_even_quota(G, pb->slots, E, quota);
    mark_hot_slow(&s, rel, quota);
    for (int e = 0; e < E; e++)
        s.where[e] = -1;
    if ((rc = greedy(&s, quota, err)) != 0)
        goto done;
    improve(&s, t0 + (pb->time_budget_s > 0 ? pb->time_budget_s : 1.0));
    for (int e = 0; e < E && !rc; e++)
        rc = place_result_add(out, e, s.where[e], 1.0, err);
done:
    gem_stats_clear(&st);
    moemap_free(s.target);
    moemap_free(s.load);
    moemap_free(s.where);
    moemap_free(s.conf);
    moemap_free(s.slow);
    moemap_free(s.hot);
    moemap_free(rel);
    moemap_free(quota);
    return rc;
}
