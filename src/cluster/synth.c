/*
 * synth.c — synthetic clusters: N GPUs sharing one measured curve shape, each scaled by a
 * speed drawn from a real GPU population (or given explicitly), optionally throttled.
 *
 * This is how moemap gets realistic variability without a room full of GPUs: the curve
 * shape comes from a real profile (moemap profile on one GPU), the spread of speeds from
 * hundreds of real GPUs of one cluster (PAL data). Drawing is without replacement when
 * the population is large enough, as a real cluster holds distinct physical GPUs; the
 * draw is a partial Fisher-Yates shuffle with the caller's seed, so a seed always gives
 * the same cluster.
 */
#include "moemap/cluster.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int moemap_synth_params_check(const moemap_synth_params *p, moemap_error *err)
{
    if (p->num_gpus < 1 || p->num_gpus > MOEMAP_MAX_GPUS)
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "synth: %d GPUs is outside 1..%d, the limit (docs/limits.md)",
                                p->num_gpus, MOEMAP_MAX_GPUS);
    for (int g = 0; p->speeds && g < p->num_speeds; g++)
        if (!isfinite(p->speeds[g]) || p->speeds[g] <= 0)
            return moemap_error_set(err, MOEMAP_ERANGE, "synth: speed %g of GPU %d must be a "
                                    "finite number > 0", p->speeds[g], g);
    for (int i = 0; i < p->num_throttle; i++) {
        if (p->throttle_gpu[i] < 0 || p->throttle_gpu[i] >= p->num_gpus)
            return moemap_error_set(err, MOEMAP_ERANGE, "synth: throttle of GPU %d, but the "
                                    "cluster has GPUs 0..%d", p->throttle_gpu[i],
                                    p->num_gpus - 1);
        if (!isfinite(p->throttle_factor[i]) || p->throttle_factor[i] <= 0)
            return moemap_error_set(err, MOEMAP_ERANGE, "synth: throttle factor %g of GPU %d "
                                    "must be > 0", p->throttle_factor[i], p->throttle_gpu[i]);
    }
    int rc = p->base ? moemap_curve_check(p->base, "base_curve", err) : 0;
    if (rc)
        return moemap_error_prefix(err, "synth"), rc;
    if (p->dtype && moemap_dtype_bytes(p->dtype) == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: dtype \"%.20s\" is not a known "
                                "weight type (bf16, fp16, fp32, fp8, int8, int4, mxfp4)",
                                p->dtype);
    return 0;
}

int moemap_cluster_synth(const moemap_synth_params *p, moemap_cluster **out,
                         moemap_error *err)
{
    *out = NULL;
    int check = moemap_synth_params_check(p, err);
    if (check)
        return check;
    if (p->gpus_per_node < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: %d GPUs per node must be >= 0",
                                p->gpus_per_node);
    if (p->slots < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: %d slots must be >= 0", p->slots);
    if (!p->base || p->base->n < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: a base curve is required (it "
                                "gives the shape that every GPU's speed scales)");
    if (p->hidden < 1 || p->intermediate < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: expert shape hidden %d, "
                                "intermediate %d: both must be >= 1", p->hidden,
                                p->intermediate);
    if ((p->population != NULL) == (p->speeds != NULL))
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: give either a GPU population "
                                "or explicit speeds (exactly one)");
    if (p->speeds && p->num_speeds != p->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: %d speeds for %d GPUs (need one "
                                "per GPU)", p->num_speeds, p->num_gpus);
    if (p->cv_from_population && !p->population)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: jitter from the population needs "
                                "a population (not explicit speeds)");
    if (p->population && p->population->n < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "synth: the GPU population is empty");
    moemap_cluster *c;
    int rc = moemap_cluster_create(p->num_gpus, &c, err);
    if (rc)
        return rc;
    c->hidden = p->hidden;
    c->intermediate = p->intermediate;
    snprintf(c->dtype, sizeof c->dtype, "%s", p->dtype ? p->dtype : "bf16");
    c->intra_node_GBps = p->intra_node_GBps;
    c->inter_node_GBps = p->inter_node_GBps;
    c->latency_us = p->latency_us;
    rc = moemap_curve_copy(p->base, &c->base, err);
    if (!rc && p->population) {
        const moemap_gpu_population *pop = p->population;
        int *idx = moemap_malloc((size_t)pop->n * sizeof *idx);
        if (!idx) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "synth: out of memory");
        } else {
            moemap_rng rng;
            moemap_rng_seed(&rng, p->seed);
            for (int i = 0; i < pop->n; i++)
                idx[i] = i;
            for (int g = 0; g < p->num_gpus; g++) {
                int pick;
                if (p->num_gpus <= pop->n) {
                    /* Partial Fisher-Yates: position g takes a random remaining GPU. */
                    int j = g + (int)moemap_rng_below(&rng, (uint64_t)(pop->n - g));
                    int t = idx[g];
                    idx[g] = idx[j];
                    idx[j] = t;
                    pick = idx[g];
                } else {
                    pick = (int)moemap_rng_below(&rng, (uint64_t)pop->n);
                }
                c->gpus[g].speed = pop->speed[pick];
                if (p->cv_from_population)
                    c->gpus[g].curve.cv = pop->cv[pick];
            }
            moemap_free(idx);
        }
    } else if (!rc) {
        for (int g = 0; g < p->num_gpus; g++)
            c->gpus[g].speed = p->speeds[g];
    }
    for (int g = 0; g < p->num_gpus && !rc; g++) {
        c->gpus[g].slots = p->slots;
        c->gpus[g].node = p->gpus_per_node > 0 ? g / p->gpus_per_node : 0;
    }
    for (int i = 0; i < p->num_throttle && !rc; i++)
        c->gpus[p->throttle_gpu[i]].speed *= p->throttle_factor[i];
    if (!rc)
        rc = moemap_cluster_finalize(c, err);
    if (rc) {
        if (err && p->speeds && rc == MOEMAP_ERANGE)
            moemap_error_prefix(err, "synth");
        moemap_cluster_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int moemap_synth_params_from_base(moemap_synth_params *p, const moemap_cluster *base,
                                  moemap_curve *curve, moemap_error *err)
{
    if (p->hidden >= 1 || p->intermediate >= 1) {
        int rc = moemap_cluster_check_shape(base, p->hidden >= 1 ? p->hidden : base->hidden,
                                            p->intermediate >= 1 ? p->intermediate
                                                                 : base->intermediate,
                                            p->dtype, err);
        if (rc)
            return rc;
    }
    if (p->slots < 0 && base->gpus[0].slots == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "the base profile's GPUs have no slots; "
                                "give --slots K");
    /* The shape: the base curve, else the first GPU's own (measured) curve. */
    int rc = base->base.n > 0 ? moemap_curve_copy(&base->base, curve, err)
                              : moemap_cluster_gpu_curve(base, 0, curve, err);
    if (rc)
        return rc;
    p->base = curve;
    p->hidden = base->hidden;
    p->intermediate = base->intermediate;
    p->dtype = base->dtype;
    if (p->slots < 0)
        p->slots = base->gpus[0].slots;
    if (p->intra_node_GBps < 0)
        p->intra_node_GBps = base->intra_node_GBps;
    if (p->inter_node_GBps < 0)
        p->inter_node_GBps = base->inter_node_GBps;
    if (p->latency_us < 0)
        p->latency_us = base->latency_us;
    return 0;
}

void moemap_synth_params_network_defaults(moemap_synth_params *p)
{
    if (p->intra_node_GBps < 0)
        p->intra_node_GBps = MOEMAP_NET_INTRA_NODE_GBPS;
    if (p->inter_node_GBps < 0)
        p->inter_node_GBps = MOEMAP_NET_INTER_NODE_GBPS;
    if (p->latency_us < 0)
        p->latency_us = MOEMAP_NET_LATENCY_US;
}
