/*
 * bound_internal.h — what bound.c offers inside libmoemap beyond moemap/eval.h: the
 * per-batch bound by its original algorithm (one bisection, every class's losses sorted
 * at every step), which moemap_bound_layer_batch must match within 1e-9 relative and never
 * exceed (tests/test_eval.c compares the two; bench/bench_scale.c times them).
 */
#ifndef MOEMAP_COST_BOUND_INTERNAL_H
#define MOEMAP_COST_BOUND_INTERNAL_H

#include "moemap/eval.h"

/* The per-batch bound by the original algorithm (one bisection on all conditions, the
 * sorted loss list): the reference moemap_bound_layer_batch is tested and timed against. */
double mm_bound_layer_batch_sorted(const moemap_bound *b, const double *counts, int experts);
/* The same bisection with the losses selected, not sorted: the algorithm before the
 * regula falsi (what bench_scale bound times as "bisection"). */
double mm_bound_layer_batch_bisect(const moemap_bound *b, const double *counts, int experts);
/* Where the previous batch's search for the pieces-and-tokens root ended: the root t
 * (0: none yet), the surplus tokens per us there, and that batch's tokens and active
 * experts. */
typedef struct mm_bound_warm {
    double t, slope, n, a;
} mm_bound_warm;
/* moemap_bound_layer_batch starting its search from *w, which it then updates: what
 * mm_bound_loads does along each layer's batches. */
double mm_bound_layer_batch_from(const moemap_bound *b, const double *counts, int experts,
                                 mm_bound_warm *w);
/* Whether the original algorithm finds T feasible for the batch (1/0; -1: out of memory):
 * a value at or above the true bound T* is feasible, so a lower bound must not be. */
int mm_bound_feasible_at(const moemap_bound *b, const double *counts, int experts, double T);


/* A lower bound on min over the GPUs of f_g(n) for n > 0, exact at the curves' points:
 * the least time any GPU takes for one piece of n tokens; 0 for n <= 0. */
double mm_bound_fastest_us(const moemap_bound *b, double n);
/* The cluster's GPUs and slots per layer, as the bound sees them (slots overridden). */
void mm_bound_size(const moemap_bound *b, int *gpus, long *slots);
/* The per-batch bound of every layer entry and batch of loads (layers without tokens
 * get 0), computed by one worker per core: *out is [num_layers * num_batches], entry
 * l * num_batches + b, freed with moemap_free. */
int mm_bound_loads(const moemap_bound *b, const moemap_loads *loads, double **out,
                   moemap_error *err);

/* The pieces-and-tokens line at piece size nstar: every class's convex minorant is at
 * least its tangent a_j + s_j n there (a_j > 0), so a GPU busy T with k pieces of n
 * tokens in all has k <= (T - s_j n) / a_j, and summed over the GPUs: a layer serving N
 * tokens in P pieces has straggler T >= (P + mu N) / H, H = sum_g 1 / a_g, mu = min s/a.
 * Returns 0 when some tangent has no positive intercept (no line then). */
int mm_bound_piece_line(const moemap_bound *b, double nstar, double *H, double *mu);

/* moemap_bound_scenario_layer with the simplex limited to tm_ms milliseconds (the public
 * one allows 2000); an LP cut short leaves *out at the mean of lb. */
int mm_bound_scenario_layer_ms(const moemap_bound *b, const double *counts, int num_batches,
                               size_t batch_stride, int experts, const double *lb, int tm_ms,
                               double *out, moemap_error *err);

#endif
