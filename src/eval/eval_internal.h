/*
 * eval_internal.h — evaluation pieces shared inside libmoemap: the two lower bounds of a
 * workload computed once, apart from any placement, so that moemap_place can compute them
 * before its search (their time then comes out of the search's share of the budget) and
 * hand them to the evaluation of the placement it found.
 */
#ifndef MOEMAP_EVAL_INTERNAL_H
#define MOEMAP_EVAL_INTERNAL_H

#include "moemap/eval.h"

#include "base_util.h"

struct moemap_eval_bounds {
    double *per_batch; /* [num_layers * num_batches]: layer entry l, batch b at l * B + b */
    double *fixed;     /* [num_layers] one-placement bound of each layer entry */
    int num_layers, num_batches, experts; /* of the loads they were computed on */
};
typedef struct moemap_eval_bounds mm_eval_bounds;

/* Both bounds of every layer entry of loads on cluster c (slots > 0 overrides every GPU's).
 * deadline (CLOCK_MONOTONIC seconds, mm_now_s; 0 = none) limits the one-placement LPs: a
 * layer whose LP runs out of time keeps its per-batch mean. */
int mm_eval_bounds_compute(const moemap_loads *loads, const moemap_cluster *c, int slots,
                           double deadline, mm_eval_bounds *out, moemap_error *err);
void mm_eval_bounds_clear(mm_eval_bounds *b);

/* moemap_eval_placement with the bounds already computed for the same loads, cluster
 * and slots (NULL: computed here). */
int mm_eval_placement_with(const moemap_loads *loads, const moemap_cluster *c,
                           const moemap_placement *p, const moemap_eval_params *params,
                           const mm_eval_bounds *bounds, moemap_eval_summary **out,
                           moemap_error *err);

#endif
