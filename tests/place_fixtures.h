/*
 * place_fixtures.h — clusters and loads built in code for the placement tests (issue 4):
 * flat-then-linear expert curves as measured on H200s (GPU-NOTES.md: ~60 us floor up to
 * ~150-500 tokens, then linear), per-GPU speeds, uneven slots, random loads. Header-only
 * so each test binary stays one file.
 */
#ifndef MOEMAP_PLACE_FIXTURES_H
#define MOEMAP_PLACE_FIXTURES_H

#include <math.h>

#include "moemap.h"

/* Base curve: floor `floor_us` up to `knee` tokens, then `slope` us per token. */
__attribute__((unused)) static int fx_set_curve(moemap_curve *c, double floor_us, double knee,
                                                double slope)
{
    c->n = 3;
    c->tokens = moemap_malloc(3 * sizeof(double));
    c->us = moemap_malloc(3 * sizeof(double));
    if (!c->tokens || !c->us)
        return -1;
    c->tokens[0] = 1;
    c->us[0] = floor_us;
    c->tokens[1] = knee;
    c->us[1] = floor_us;
    c->tokens[2] = knee + 1000;
    c->us[2] = floor_us + 1000 * slope;
    c->cv = 0;
    return 0;
}

/* G GPUs, `slots` each (or slot_list[g] when non-NULL), speeds (NULL = all 1), nodes of
 * gpus_per_node GPUs (0 = one node). Returns NULL on failure (message in err). */
__attribute__((unused)) static moemap_cluster *fx_cluster(int G, int slots, const int *slot_list,
                                                          const double *speeds,
                                                          int gpus_per_node, double floor_us,
                                                          double knee, double slope,
                                                          moemap_error *err)
{
    moemap_cluster *c;
    if (moemap_cluster_create(G, &c, err) != 0)
        return NULL;
    if (fx_set_curve(&c->base, floor_us, knee, slope) != 0) {
        moemap_cluster_free(c);
        return NULL;
    }
    for (int g = 0; g < G; g++) {
        c->gpus[g].slots = slot_list ? slot_list[g] : slots;
        c->gpus[g].speed = speeds ? speeds[g] : 1.0;
        c->gpus[g].node = gpus_per_node > 0 ? g / gpus_per_node : 0;
    }
    if (moemap_cluster_finalize(c, err) != 0) {
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

/* Random skewed loads: L layers (ids 1..L), B batches of T tokens, top-k routing drawn
 * from a per-layer Zipf-like popularity with per-batch noise. */
__attribute__((unused)) static moemap_loads *fx_loads(int E, int L, int B, int T, int k,
                                                      uint64_t seed, moemap_error *err)
{
    moemap_loads *ld;
    if (moemap_loads_create(E, k, L, B, &ld, err) != 0)
        return NULL;
    moemap_rng rng;
    moemap_rng_seed(&rng, seed);
    double *pop = moemap_malloc((size_t)E * sizeof *pop);
    if (!pop) {
        moemap_loads_free(ld);
        return NULL;
    }
    for (int l = 0; l < L; l++) {
        ld->layer_ids[l] = l + 1;
        for (int e = 0; e < E; e++)
            pop[e] = 1.0 / pow(1.0 + (double)moemap_rng_below(&rng, (uint64_t)E), 0.9);
        for (int b = 0; b < B; b++) {
            double sum = 0;
            double w[1024];
            for (int e = 0; e < E && e < 1024; e++) {
                w[e] = pop[e] * exp(0.3 * moemap_rng_normal(&rng));
                sum += w[e];
            }
            /* Expected counts, rounded: k * T tokens per layer, at most T per expert. */
            for (int e = 0; e < E && e < 1024; e++) {
                double cnt = floor(k * T * w[e] / sum + moemap_rng_uniform(&rng));
                MOEMAP_LOADS_AT(ld, b, l, e) = cnt > T ? T : cnt;
            }
        }
    }
    for (int b = 0; b < B; b++)
        ld->batch_tokens[b] = T;
    moemap_free(pop);
    return ld;
}

#endif
