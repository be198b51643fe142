/*
 * bound_internal.h — what bound.c offers inside libmoemap beyond moemap/eval.h: the
 * per-batch bound by its original algorithm (every class's losses sorted at every
 * bisection step), which the selection in moemap_bound_layer_batch must match exactly
 * (tests/test_eval.c compares the two; bench/bench_bound.c times them).
 */
#ifndef MOEMAP_EVAL_BOUND_INTERNAL_H
#define MOEMAP_EVAL_BOUND_INTERNAL_H

#include "moemap/eval.h"

/* moemap_bound_layer_batch computed with the sorted loss list instead of the merge. */
double mm_bound_layer_batch_sorted(const moemap_bound *b, const double *counts, int experts);

#endif
