/*
 * place_util.h — helpers shared by the strategies of this folder (not installed): even
 * expert quotas under per-GPU slot limits, and sorting experts by load.
 */
#ifndef MOEMAP_PLACE_UTIL_H
#define MOEMAP_PLACE_UTIL_H

#include "strategy.h"

/* Spreads `experts` over GPUs as evenly as the slots allow: quota[g] <= slots[g], sum =
 * experts (the caller has checked sum(slots) >= experts). Lower GPU ids get the extras. */
void place_even_quota(int num_gpus, const int *slots, int experts, int *quota);

/* order[0..n) = 0..n-1 sorted by weight[] descending, ties by index (deterministic). */
void place_sort_desc(const double *weight, int n, int *order);

/* Mean over all of the problem's batches of the straggler time of a layer layout r
 * (replicas with their shares) under the cost model: the whole layer (dispatch +
 * compute + combine on the measured curves) unless params->a2a.off, else the compute;
 * gpu_us is scratch of 2 * num_gpus. */
double place_layer_mean_us(const place_problem *pb, const place_result *r, double *gpu_us);

/* Replaces *out's replicas with eplb's layout when eplb's mean straggler over all the
 * layer's batches is lower: the strategies that must never lose to the baseline call it
 * last. eplb is computed under the same slots (engine-completed when engine is set).
 * Sets *kept_eplb (may be NULL) to 1 when eplb's layout was taken. */
int place_never_worse_than_eplb(const place_problem *pb, place_result *out, int engine,
                                int *kept_eplb, moemap_error *err);

#endif
