/*
 * moemap/rebalance.h — moemap behind the function serving engines already call: DeepSeek's
 * EPLB entry point rebalance_experts(weight, num_replicas, num_groups, num_nodes,
 * num_gpus), which vLLM's EPLB policy and SGLang's EPLB algorithms call to place experts
 * online. Plain arrays in and out, so that the Python drop-in (python/moemap) and any
 * other binding call it without building moemap's structs.
 *
 * Conventions are DeepSeek's: weight is [layers][experts] (tokens each logical expert
 * received); the answer is phy2log [layers][num_replicas] (the logical expert of each
 * physical slot; slot p lives on GPU p / (num_replicas / num_gpus), every slot filled;
 * like DeepSeek's, a GPU may hold two copies of an expert when that balances best), log2phy [layers][experts][width] (the physical
 * slots of each expert in increasing order, padded with -1) and logcnt [layers][experts]
 * (copies of each expert). An expert's tokens are split evenly over its copies, as both
 * engines do.
 */
#ifndef MOEMAP_REBALANCE_H
#define MOEMAP_REBALANCE_H

#include <stdint.h>

#include "moemap/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_rebalance_params {
    const moemap_cluster *cluster; /* NULL: GPUs of equal speed, nodes of num_gpus /
                                      num_nodes GPUs; the answer balances tokens and is
                                      never worse than DeepSeek's by the busiest GPU's
                                      tokens. Else GPU g is EP rank g, and the moemap
                                      strategy places for speed (needs top_k) */
    const char *engine;            /* "vllm" (default) or "sglang": whose rules apply */
    double batch_tokens;           /* tokens per engine iteration, the operating point of
                                      the speed-aware placement (0: the library's default,
                                      moemap_operating_point_default_tokens) */
    int top_k;                     /* experts per token (0: unknown; required with a
                                      cluster, to turn the load into iterations) */
    const char *strategy;          /* NULL: eplb without a cluster, moemap with one */
    double time_limit_s;           /* search budget of the whole call (0: default 1 s) */
} moemap_rebalance_params;
moemap_rebalance_params moemap_rebalance_default_params(void);

/* The width of log2phy the caller allocates: the most copies one expert can have,
 * num_replicas - num_experts + 1 (DeepSeek pads to the most copies actually given;
 * *max_copies says how many of the width are used). */
int moemap_rebalance_log2phy_width(int num_experts, int num_replicas);

/* Places num_replicas physical experts of every layer on num_gpus GPUs.
 *   weight     [num_layers * num_experts] load of each expert (finite, >= 0); a row of
 *              zeros (nothing recorded yet) is placed as if every expert were equal
 *   num_groups expert groups (DeepSeek's hierarchical variant packs groups to nodes when
 *              num_groups % num_nodes == 0; else the global variant)
 *   params     may be NULL (defaults)
 *   OUT: phy2log [num_layers * num_replicas], log2phy [num_layers * num_experts * width]
 *        (width = moemap_rebalance_log2phy_width), logcnt [num_layers * num_experts],
 *        *max_copies (may be NULL): the largest logcnt.
 * Returns 0, or MOEMAP_EINVAL with a message naming the argument that is wrong
 * ("num_replicas 300 is not a multiple of num_gpus 32"). */
int moemap_rebalance_experts(const double *weight, int num_layers, int num_experts,
                             int num_replicas, int num_groups, int num_nodes, int num_gpus,
                             const moemap_rebalance_params *params, int64_t *phy2log,
                             int64_t *log2phy, int64_t *logcnt, int *max_copies,
                             moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
