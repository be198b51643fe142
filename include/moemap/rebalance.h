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
 *
 * The second half is online rebalancing of a running deployment, for whatever decides
 * when to rebalance (the simulator's recalibration policies, an engine's controller): the
 * ViBE drift swaps, the repair after a GPU is lost, what moving from one placement to
 * another costs, and the cluster a re-placement should see once GPUs are measured slower
 * or lost. Each takes plain inputs: the placement, the cluster, and the GPUs' state as
 * two arrays, speed[g] (measured speed over profiled: 0.5 = twice slower; NULL = all 1)
 * and alive[g] (1 = serving, 0 = lost; NULL = all alive).
 */
#ifndef MOEMAP_REBALANCE_H
#define MOEMAP_REBALANCE_H

#include <stdint.h>

#include "moemap/cluster.h"
#include "moemap/placement.h"

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

/* ---- online rebalancing ------------------------------------------------------------- */

/* ViBE's incremental drift swaps: in every layer, up to max_swaps exchanges of one
 * replica of the slowest live GPU with one of the fastest (the pair whose larger time
 * drops the most, at least 1%), judged on counts at the measured speeds.
 *   counts  [p->num_layers * p->experts]: the tokens each expert is expected to get per
 *           iteration, row l for p->layers[l] (e.g. the mean of a recent window)
 * Shares and replica counts are kept; only GPUs change. *out is a new placement (free with
 * moemap_placement_free), equal to p when no swap helps. */
int moemap_rebalance_swaps(const moemap_placement *p, const moemap_cluster *c,
                           const double *counts, const double *speed,
                           const unsigned char *alive, int max_swaps,
                           moemap_placement **out, moemap_error *err);

/* The placement after GPU lost_gpu (and every GPU with alive[g] == 0) stops serving: their
 * replicas are dropped, the surviving replicas of each expert take its tokens in
 * proportion to their shares, and an expert left with none goes to the live GPU with a
 * free slot holding the fewest replicas (the fewest overall when every slot is taken: an
 * engine then over-subscribes memory). MOEMAP_EINFEASIBLE when no GPU is left. */
int moemap_rebalance_repair_lost(const moemap_placement *p, const moemap_cluster *c,
                                 const unsigned char *alive, int lost_gpu,
                                 moemap_placement **out, moemap_error *err);

/* What moving a deployment from placement `from` to `to` costs, as the engines do it:
 * every replica of `to` whose (expert, GPU) pair is not in `from` copies expert_bytes of
 * weights, over the intra-node link when a live GPU of the same node holds the expert,
 * else over the migration link; the engine stalls until the busiest receiving GPU has
 * its weights, plus one link latency (c->latency_us) when anything moves. */
typedef struct moemap_rebalance_cost {
    long moves;     /* replicas added */
    double bytes;   /* weights copied */
    double stall_s; /* the engine's stall for the copies */
} moemap_rebalance_cost;
/* link_GBps: the migration link (between nodes; > 0); intra_GBps: within a node (0: the
 * same as link_GBps). Layers are matched by layer id; a layer new in `to` copies all its
 * replicas. */
int moemap_rebalance_migration_cost(const moemap_placement *from, const moemap_placement *to,
                                    const moemap_cluster *c, const unsigned char *alive,
                                    double expert_bytes, double link_GBps, double intra_GBps,
                                    moemap_rebalance_cost *out, moemap_error *err);

/* The cluster a re-placement should see: a copy of c where every lost GPU (alive[g] == 0)
 * has no slots and, when speed is given, GPU g's curve is divided by speed[g] (its
 * relative speed multiplied, for a GPU without a curve). Free with moemap_cluster_free. */
int moemap_rebalance_cluster(const moemap_cluster *c, const double *speed,
                             const unsigned char *alive, moemap_cluster **out,
                             moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
