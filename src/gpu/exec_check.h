/*
 * exec_check.h — the executor's correctness check on the CPU (exec_check.c): a float64
 * reference of one rank's MoE outputs, and tag comparison for "every row exactly once".
 */
#ifndef MOEMAP_EXEC_CHECK_H
#define MOEMAP_EXEC_CHECK_H

#include "exec_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct exec_check_in {
    const moemap_routing *rt;
    int route_layer;      /* routing entry */
    int layer_id;         /* model layer index (weights are generated per layer id) */
    int hidden, inter;
    uint64_t seed;
    long tokens_per_iter;
    int iter;
    long tok_begin, tok_count; /* this rank's tokens within the iteration */
    const float *out;     /* [tok_count * hidden] what the executor produced */
} exec_check_in;

typedef struct exec_check_acc {
    double err2, ref2;    /* sums of squared error and squared reference */
    double max_rel;       /* max per-token relative L2 error */
    long rows_ok;         /* tags that matched */
    long tag_errors;      /* tags that did not */
    long rows_expected;   /* rows that left home, each of which must come back */
} exec_check_acc;

int exec_check_layer(const exec_check_in *in, exec_check_acc *acc, moemap_error *err);
/* Counts got[i] == want[i] into rows_ok, others into tag_errors. */
void exec_check_tags(const int32_t *got, const int32_t *want, long n, exec_check_acc *acc);

#ifdef __cplusplus
}
#endif
#endif
