/*
 * moemap/place.h — computing placements: strategies (linear, round_robin, eplb, gem,
 * vibe, moemap, exact), lower bounds and migration-aware re-placement.
 * Exports for serving engines are in moemap/export.h; migration plans in moemap/migrate.h;
 * evaluation of placements in moemap/eval.h.
 */
#ifndef MOEMAP_PLACE_H
#define MOEMAP_PLACE_H

#include "moemap/a2a.h"
#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* What a serving engine can run (DESIGN.md "Operating point and engine rules"). Under an
 * engine's rules every GPU has the same number of slots, every slot is filled, GPU g is
 * EP rank g, and an expert's tokens are split over its copies by the engine's dispatch
 * rule. Both rules give each of an expert's k copies 1/k of its tokens in expectation:
 *  - vLLM picks a copy by the token's position modulo the copy count;
 *  - SGLang's static dispatch (its default with a placement file) sends a rank's tokens
 *    to the rank's own copy when it holds one and deals the other ranks fairly over all
 *    copies, so each copy serves its own rank plus (G - k) / k others on average: 1/k
 *    of tokens spread evenly over the ranks; its dynamic mode picks uniformly.
 * docs/placement.md ("Engine rules") says what is modelled and what is not. */
typedef enum moemap_engine {
    MOEMAP_ENGINE_NONE = 0,   /* a free placement: empty slots and unequal shares allowed */
    MOEMAP_ENGINE_SGLANG,
    MOEMAP_ENGINE_VLLM
} moemap_engine;
/* "sglang", "vllm" ("none" for NONE); -1 when unknown. */
int moemap_engine_parse(const char *name);
const char *moemap_engine_name(moemap_engine e);

/* Checks that every layer of p is what `engine` runs on cluster c: every GPU holds the
 * same number of copies (slots > 0: exactly that many; else the cluster's slots, equal on
 * every GPU) and each expert's copies have equal shares. Reports one problem per layer
 * through fn (may be NULL); returns how many were found (< 0: out of memory). */
int moemap_placement_check_engine(const moemap_placement *p, const moemap_cluster *c,
                                  int slots, moemap_engine engine, moemap_problem_fn fn,
                                  void *ctx);

typedef struct moemap_place_params {
    const char *strategy;       /* "moemap" (default), "linear", "round_robin", "eplb",
                                   "eplb_global", "gem", "vibe", "exact" */
    uint64_t seed;              /* determinism for randomized strategies (default 1) */
    int slots;                  /* > 0: overrides every GPU's slots (default 0: cluster's) */
    double tail_weight;         /* moemap objective: mean + tail_weight * p90 of the
                                   straggler time over batches (default 0.5) */
    double time_limit_s;        /* wall-clock budget of the whole call: search, bounds,
                                   evaluation (default 1.0; exact: search per layer,
                                   default 60) */
    int deterministic;          /* 1: the search stops on its work budget (evaluations,
                                   scaled by time_limit_s) only, never on the clock, so
                                   the result is the same on any machine and load; the
                                   call may then overrun time_limit_s (default 0) */
    double consistent_threshold;/* active in >= this fraction of batches (default 0.8) */
    double temporal_max_active; /* temporal: active in <= this fraction ... (default 0.3) */
    double temporal_min_ratio;  /* ... with mean load when active >= ratio * layer mean
                                   expert load (default 2.0) */
    int nodes_groups;           /* eplb: use the hierarchical variant when > 0 (expert
                                   groups per node = this); 0 = global */
    /* Migration-aware re-placement (optional): */
    const moemap_placement *previous; /* NULL: place from scratch */
    int max_moves;              /* > 0: at most this many replica additions per layer
                                   relative to previous (0: unlimited) */
    double move_cost_us_per_gb; /* > 0: objective pays this per GB of weights moved */
    double expert_bytes;        /* bytes of one expert (for move costs and memory) */
    moemap_engine engine;       /* != NONE: place under that engine's rules (above) */
    double batch_tokens;        /* tokens per engine iteration (the operating point); 0:
                                   moemap_operating_point_default_tokens. Aggregate loads
                                   (one batch) are expanded to iterations of this size
                                   (moemap_loads_at_operating_point) before placing, and
                                   the moemap strategy judges its answer on iterations of
                                   this size */
    int top_k;                  /* experts per token for expanding aggregate loads (0: the
                                   loads' own) */
    int no_predicted;           /* 1: do not record the predicted cost in the placement
                                   (saves one evaluation pass; default 0) */
    moemap_a2a_params a2a;      /* dispatch and combine (moemap/a2a.h): unless a2a.off,
                                   the search balances each GPU's expert compute plus the
                                   dispatch and combine of the tokens it receives (their
                                   linear part folded into its curve), and the predicted
                                   cost carries the whole-layer figures (default: on, one
                                   row per (token, GPU), bf16) */
    /* Optional: called after each layer is placed (from worker threads, one call at a
     * time) with the layers done and the total ("layers"); NULL = none. */
    moemap_progress_fn progress;
    void *progress_ctx;
} moemap_place_params;

moemap_place_params moemap_place_default_params(void);

/* Names of the strategies, NULL-terminated. */
const char *const *moemap_place_strategy_names(void);

/* Places every MoE layer of `loads` on `cluster`. Rows that are all zero (dense layers)
 * get no placement entry. The result passes moemap_placement_validate. Returns
 * MOEMAP_EINFEASIBLE with a message when the request is impossible (fewer total slots
 * than experts, ...). */
int moemap_place(const moemap_loads *loads, const moemap_cluster *cluster,
                 const moemap_place_params *params, moemap_placement **out,
                 moemap_error *err);

/* Records an evaluation of p (moemap_eval_placement on the loads it was placed for) as
 * its "predicted" object, keeping what is there already (the exact solver's verdict).
 * Callers that evaluate anyway place with no_predicted = 1 and call this, so the
 * placement is evaluated once. */
struct moemap_eval_summary;
int moemap_placement_set_predicted(moemap_placement *p, const struct moemap_eval_summary *s,
                                   moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
