/*
 * place_layer_fixture.h — runs one strategy layer function (src/place/strategy.h) on one
 * layer of a moemap_loads, the way the driver does, for the gem/vibe/exact tests: builds
 * the place_problem, turns the result into a one-layer placement and measures its mean
 * straggler time with the cost model (moemap_eval_layer_batch). Header-only.
 */
#ifndef MOEMAP_PLACE_LAYER_FIXTURE_H
#define MOEMAP_PLACE_LAYER_FIXTURE_H

#include "moemap.h"
#include "place/strategy.h"

typedef struct fx_layer {
    place_problem pb;
    moemap_place_params params;
    double *counts, *total;
    int *slots;
    moemap_rng rng;
} fx_layer;

/* Problem for loads entry l on cluster c; slots > 0 overrides the cluster's. */
__attribute__((unused)) static int fx_layer_init(fx_layer *fl, const moemap_loads *ld, int l,
                                                 const moemap_cluster *c, int slots,
                                                 double budget_s)
{
    memset(fl, 0, sizeof *fl);
    int E = ld->experts, B = ld->num_batches, G = c->num_gpus;
    fl->counts = malloc((size_t)B * E * sizeof(double));
    fl->total = calloc((size_t)E, sizeof(double));
    fl->slots = malloc((size_t)G * sizeof(int));
    if (!fl->counts || !fl->total || !fl->slots)
        return -1;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++) {
            fl->counts[(size_t)b * E + e] = MOEMAP_LOADS_AT(ld, b, l, e);
            fl->total[e] += fl->counts[(size_t)b * E + e];
        }
    for (int g = 0; g < G; g++)
        fl->slots[g] = slots > 0 ? slots : c->gpus[g].slots;
    fl->params = moemap_place_default_params();
    moemap_rng_seed(&fl->rng, 1);
    fl->pb.cluster = c;
    fl->pb.num_gpus = G;
    fl->pb.slots = fl->slots;
    fl->pb.experts = E;
    fl->pb.num_batches = B;
    fl->pb.counts = fl->counts;
    fl->pb.batch_tokens = ld->batch_tokens;
    fl->pb.total = fl->total;
    fl->pb.layer_id = ld->layer_ids[l];
    fl->pb.params = &fl->params;
    fl->pb.time_budget_s = budget_s;
    fl->pb.rng = &fl->rng;
    return 0;
}

__attribute__((unused)) static void fx_layer_clear(fx_layer *fl)
{
    free(fl->counts);
    free(fl->total);
    free(fl->slots);
}

/* Runs fn and returns its layer as a placement (shares normalised as the driver does),
 * or NULL with the status in *rc and the message in err. */
__attribute__((unused)) static moemap_placement *fx_layer_run(const fx_layer *fl,
                                                              place_layer_fn fn, int *rc,
                                                              moemap_error *err)
{
    place_result res = {0};
    moemap_placement *p = NULL;
    *rc = fn(&fl->pb, &res, err);
    if (*rc == 0)
        *rc = moemap_placement_create(fl->pb.num_gpus, fl->pb.experts, 1, &p, err);
    if (*rc == 0)
        *rc = moemap_placement_set_layer(p, 0, fl->pb.layer_id, res.reps, res.n, err);
    moemap_free(res.reps);
    if (*rc) {
        moemap_placement_free(p);
        return NULL;
    }
    return p;
}

/* Mean over batches of the straggler time of layer 0 of p. */
__attribute__((unused)) static double fx_layer_mean_us(const fx_layer *fl,
                                                       const moemap_placement *p)
{
    double s = 0;
    for (int b = 0; b < fl->pb.num_batches; b++)
        s += moemap_eval_layer_batch(fl->pb.cluster, &p->layers[0],
                                     fl->counts + (size_t)b * fl->pb.experts, fl->pb.experts,
                                     NULL);
    return s / fl->pb.num_batches;
}

/* Replica count per GPU of layer 0 into cnt[G]. */
__attribute__((unused)) static void fx_layer_per_gpu(const moemap_placement *p, int *cnt)
{
    for (int g = 0; g < p->num_gpus; g++)
        cnt[g] = 0;
    for (int i = 0; i < p->layers[0].num_replicas; i++)
        cnt[p->layers[0].replicas[i].gpu]++;
}

#endif
