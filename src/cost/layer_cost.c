/*
 * layer_cost.c — what one layer of a placement costs on one batch (the straggler: the
 * busiest GPU's summed expert times, each from moemap_cluster_expert_us), and the small
 * lookups every user of placements needs: which layer entries of a workload carry tokens,
 * a placement's entry for a layer id, and whether a placement covers a workload.
 */
#include "moemap/eval.h"

#include <math.h>

#include "base_util.h"
#include "cost_internal.h"

double moemap_eval_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                               const double *counts, int experts, double *gpu_us)
{
    double stack_buf[256];
    double *t = gpu_us;
    if (!t)
        t = c->num_gpus <= 256 ? stack_buf : moemap_malloc((size_t)c->num_gpus * sizeof *t);
    if (!t)
        return NAN;
    for (int g = 0; g < c->num_gpus; g++)
        t[g] = 0;
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (r->gpu < 0 || r->gpu >= c->num_gpus || r->expert < 0 || r->expert >= experts)
            continue;
        t[r->gpu] += moemap_cluster_expert_us(c, r->gpu, r->share * counts[r->expert]);
    }
    double mx = 0;
    for (int g = 0; g < c->num_gpus; g++)
        if (t[g] > mx)
            mx = t[g];
    if (t != gpu_us && t != stack_buf)
        moemap_free(t);
    return mx;
}

double mm_layer_gpu_s(const moemap_cluster *c, const moemap_layer_placement *lp,
                      const double *counts, const double *speed, const unsigned char *alive,
                      double *t)
{
    int G = c->num_gpus;
    for (int g = 0; g < G; g++)
        t[g] = 0;
    for (int r = 0; r < lp->num_replicas; r++) {
        const moemap_replica *rep = &lp->replicas[r];
        double n = rep->share * counts[rep->expert];
        if (n > 0)
            t[rep->gpu] += moemap_cluster_expert_us(c, rep->gpu, n) * 1e-6;
    }
    double mx = 0;
    for (int g = 0; g < G; g++) {
        if (speed)
            t[g] /= speed[g];
        if ((!alive || alive[g]) && t[g] > mx)
            mx = t[g];
    }
    return mx;
}

int mm_layer_has_tokens(const moemap_loads *ld, int l)
{
    for (int b = 0; b < ld->num_batches; b++)
        for (int e = 0; e < ld->experts; e++)
            if (MOEMAP_LOADS_AT(ld, b, l, e) > 0)
                return 1;
    return 0;
}

const moemap_layer_placement *mm_placement_layer(const moemap_placement *p, int layer_id)
{
    for (int i = 0; p && i < p->num_layers; i++)
        if (p->layers[i].layer == layer_id)
            return &p->layers[i];
    return NULL;
}

int moemap_placement_check_loads(const moemap_placement *p, const moemap_loads *loads,
                                 moemap_problem_fn fn, void *ctx)
{
    int n = 0;
    if (p->experts != loads->experts) {
        mm_problem(fn, ctx, &n, "placement has %d experts per layer but the loads have %d",
               p->experts, loads->experts);
        return n;
    }
    for (int l = 0; l < loads->num_layers; l++)
        if (mm_layer_has_tokens(loads, l) && !mm_placement_layer(p, loads->layer_ids[l]))
            mm_problem(fn, ctx, &n, "layer %d: MoE layer of the loads has no placement",
                   loads->layer_ids[l]);
    for (int i = 0; i < p->num_layers; i++)
        if (moemap_loads_find_layer(loads, p->layers[i].layer) < 0)
            mm_problem(fn, ctx, &n, "layer %d: placed but not an MoE layer of the loads",
                   p->layers[i].layer);
    return n;
}
