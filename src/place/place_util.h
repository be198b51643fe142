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

#endif
