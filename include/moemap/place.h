/*
 * moemap/place.h — computing placements: strategies (linear, round_robin, eplb, gem,
 * vibe, moemap, exact), lower bounds and migration-aware re-placement.
 * Exports for serving engines are in moemap/export.h; migration plans in moemap/migrate.h;
 * evaluation of placements in moemap/eval.h.
 */
#ifndef MOEMAP_PLACE_H
#define MOEMAP_PLACE_H

#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct moemap_place_params {
    const char *strategy;       /* "moemap" (default), "linear", "round_robin", "eplb",
                                   "eplb_global", "gem", "vibe", "exact" */
    uint64_t seed;              /* determinism for randomized strategies (default 1) */
    int slots;                  /* > 0: overrides every GPU's slots (default 0: cluster's) */
    double tail_weight;         /* moemap objective: mean + tail_weight * p90 of the
                                   straggler time over batches (default 0.5) */
    double time_limit_s;        /* budget per whole-model call for search (default 1.0;
                                   exact: per layer, default 60) */
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
    int no_predicted;           /* 1: do not record the predicted cost in the placement
                                   (saves one evaluation pass; default 0) */
    /* Optional: called after each layer is placed (from worker threads, one call at a
     * time) with the layers done and the total; NULL = none. */
    void (*progress)(void *ctx, int done, int total);
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

#ifdef __cplusplus
}
#endif
#endif
