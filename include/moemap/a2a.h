/*
 * moemap/a2a.h — dispatch and combine (the two all-to-alls of an expert-parallel MoE
 * layer) in the cost model, so that a placement is judged by each GPU's whole layer:
 * dispatch + expert compute + combine, the straggler being the GPU whose sum is largest.
 *
 * The model (docs/placement.md, "Dispatch and combine"): the tokens of a batch start
 * evenly spread over the GPUs (data-parallel attention, each GPU the home of N / G of
 * them). Dispatch sends each token's hidden state (hidden x act_bytes bytes) to the GPUs
 * that compute its experts: one row per (token, GPU) when a token with several experts on
 * one GPU crosses the link once (MOEMAP_DISPATCH_TOKEN_GPU, what moemap's executor does),
 * or one row per (token, expert) (MOEMAP_DISPATCH_TOKEN_EXPERT). Combine sends the same
 * rows back. A row that stays on its home GPU costs nothing; rows to a GPU of the same
 * node go at intra_node_GBps, to another node at inter_node_GBps (the cluster file's
 * network). GPU g's time for one phase is
 *     latency_us + max(sent, received within the node) / intra + max(sent, received
 *     across nodes) / inter,
 * links being full duplex and the two kinds of link used one after the other (the
 * conservative choice). With only per-expert token counts (no token-level routing),
 * the rows a GPU receives under TOKEN_GPU are estimated as if tokens chose experts
 * independently: N * (1 - prod over its replicas of (1 - n_r / N)). Of those, the ones
 * whose token lives on the GPU stay home: 1 / G of them, or with local_first all of the
 * GPU's own tokens of the experts it holds (N / G * (1 - prod (1 - c_e / N))); the others
 * come evenly from the other GPUs.
 */
#ifndef MOEMAP_A2A_H
#define MOEMAP_A2A_H

#include "moemap/cluster.h"
#include "moemap/placement.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef enum moemap_dispatch {
    MOEMAP_DISPATCH_TOKEN_GPU = 0,    /* one row per (token, destination GPU) */
    MOEMAP_DISPATCH_TOKEN_EXPERT = 1, /* one row per (token, expert) */
} moemap_dispatch;

typedef struct moemap_a2a_params {
    int off;                   /* 1: compute only, dispatch and combine cost nothing (the
                                  model before all-to-all was added) */
    moemap_dispatch dispatch;  /* default MOEMAP_DISPATCH_TOKEN_GPU */
    double act_bytes;          /* bytes per hidden element sent (default 2: bf16) */
    int local_first;           /* 1: a GPU holding a copy of an expert computes its own
                                  tokens of that expert there, only the rest cross (SGLang's
                                  static dispatch: moemap_place and eval set it under
                                  --engine sglang); 0 (default): an expert's rows come from
                                  every GPU alike (vLLM's copy i mod k, moemap's executor) */
} moemap_a2a_params;
moemap_a2a_params moemap_a2a_default_params(void);

/* Name of a dispatch mode ("token-gpu", "token-expert") and back (-1: unknown name). */
const char *moemap_dispatch_name(moemap_dispatch d);
int moemap_dispatch_from_name(const char *name);

/* Dispatch time (us) of every GPU for one layer placement and batch (counts[experts]
 * tokens per expert, batch_tokens tokens in the batch; batch_tokens <= 0: the largest
 * count, the fewest tokens the counts allow) into dispatch_us[num_gpus] (may be NULL);
 * combine takes the same time. Returns the largest. 0 with one GPU or params->off. */
double moemap_a2a_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                              const double *counts, int experts, double batch_tokens,
                              const moemap_a2a_params *params, double *dispatch_us);

/* The same from the exact rows of one phase: rows[s * G + d] rows sent by GPU s to GPU d
 * (the diagonal, rows that stay home, costs nothing), as the executor's plan knows them. */
double moemap_a2a_rows_us(const moemap_cluster *c, const double *rows,
                          const moemap_a2a_params *params, double *dispatch_us);

/* Microseconds of dispatch + combine that each token routed to GPU g adds to g's layer
 * when rows are counted per (token, expert): the linear part of the model, which a
 * placement search can fold into the GPU's curve. into per_token_us[num_gpus]. */
void moemap_a2a_per_token_us(const moemap_cluster *c, const moemap_a2a_params *params,
                             double *per_token_us);

/* A copy of c whose every GPU has its own curve f_g(n) + per_token_us[g] * n: placing on
 * it balances compute plus the received part of dispatch and combine (moemap_place does
 * this unless its params say compute only). */
int moemap_cluster_with_a2a(const moemap_cluster *c, const moemap_a2a_params *params,
                            moemap_cluster **out, moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
