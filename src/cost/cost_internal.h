/*
 * cost_internal.h — the cost layer inside libmoemap (src/cost/, below place/ and eval/):
 * what a placement costs on given batches, computed from the GPU curves alone, and the
 * lower bounds no placement can beat. moemap_place uses it to record the predicted cost
 * of what it found and moemap_eval_placement to score a placement it is given, so the
 * two agree by construction and placement never needs the evaluation layer above it.
 * The public faces (moemap_eval_layer_batch, moemap_bound_*, moemap_placement_check_loads,
 * moemap_eval_summary_free) stay declared in moemap/eval.h.
 */
#ifndef MOEMAP_COST_INTERNAL_H
#define MOEMAP_COST_INTERNAL_H

#include "moemap/eval.h"

/* The two lower bounds of a workload, computed once apart from any placement, so that
 * moemap_place can compute them before its search (their time then comes out of the
 * search's share of the budget) and hand them to the costing of the placement it found.
 * (The public opaque moemap_eval_bounds is this struct.) */
struct moemap_eval_bounds {
    double *per_batch; /* [num_layers * num_batches]: layer entry l, batch b at l * B + b */
    double *fixed;     /* [num_layers] one-placement bound of each layer entry */
    int num_layers, num_batches, experts; /* of the loads they were computed on */
};
typedef struct moemap_eval_bounds mm_cost_bounds;

/* Both bounds of every layer entry of loads on cluster c (slots > 0 overrides every GPU's).
 * deadline (CLOCK_MONOTONIC seconds, mm_now_s; 0 = none) limits the one-placement LPs: a
 * layer whose LP runs out of time keeps its per-batch mean. */
int mm_cost_bounds_compute(const moemap_loads *loads, const moemap_cluster *c, int slots,
                           double deadline, mm_cost_bounds *out, moemap_error *err);
void mm_cost_bounds_clear(mm_cost_bounds *b);

/* The predicted cost of placement p on every batch of loads: the summary of
 * moemap_eval_placement except the moves (moved = -1; the caller with a previous
 * placement counts them). Uses params->slots, engine_slots and no_bound; bounds: computed
 * before for the same loads, cluster and slots (NULL: computed here unless no_bound).
 * Refuses a placement of another GPU count or one that does not cover the loads. */
int mm_cost_placement(const moemap_loads *loads, const moemap_cluster *c,
                      const moemap_placement *p, const moemap_eval_params *params,
                      const mm_cost_bounds *bounds, moemap_eval_summary **out,
                      moemap_error *err);

/* The checks mm_cost_placement starts with (GPU count, layers covering the loads): 0, or
 * MOEMAP_EINVAL with the first problem in err. */
int mm_cost_check_placement(const moemap_loads *loads, const moemap_cluster *c,
                            const moemap_placement *p, moemap_error *err);

/* Seconds each GPU spends on layer placement lp for counts[experts] tokens per expert, at
 * speed[g] (time divided by it; NULL: as profiled), into t[c->num_gpus]; returns the
 * largest over the GPUs with alive[g] != 0 (NULL: all). The simulator's iteration model
 * and the online rebalancing (src/place/rebalance.c) judge a layer with it. */
double mm_layer_gpu_s(const moemap_cluster *c, const moemap_layer_placement *lp,
                      const double *counts, const double *speed, const unsigned char *alive,
                      double *t);

/* moemap_a2a_layer_batch with the GPUs where alive[g] == 0 lost (NULL: none): they hold
 * no tokens, send and receive nothing and take 0 us; the tokens live on the others. */
double mm_a2a_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                          const double *counts, int experts, double batch_tokens,
                          const moemap_a2a_params *params, const unsigned char *alive,
                          double *dispatch_us);

/* 1 when loads' layer entry l has a token in some batch (0: a dense layer, never placed). */
int mm_layer_has_tokens(const moemap_loads *loads, int l);

/* The placement's entry for MoE layer layer_id, NULL when it has none. */
const moemap_layer_placement *mm_placement_layer(const moemap_placement *p, int layer_id);

#endif
