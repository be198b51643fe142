/*
 * gem_stats.h — internal to the GEM strategy (strategy_gem.c): per-expert statistics of
 * one layer's batches. GEM calls an expert "consistent" when it is active in most
 * batches and "temporal" when it is rarely active but heavy when it is; those two kinds
 * matter for straggling, and pairs of them that are active together (positively
 * correlated per-batch token counts) should not share a GPU.
 */
#ifndef MOEMAP_GEM_STATS_H
#define MOEMAP_GEM_STATS_H

#include "strategy.h"

enum { GEM_REGULAR = 0, GEM_CONSISTENT = 1, GEM_TEMPORAL = 2 };

typedef struct gem_stats {
    int experts;
    double *mean_load;     /* [E] tokens per batch (total / batches) */
    double *active_frac;   /* [E] fraction of batches with tokens */
    double *active_load;   /* [E] mean tokens in the batches where active */
    unsigned char *kind;   /* [E] GEM_REGULAR / GEM_CONSISTENT / GEM_TEMPORAL */
    float *corr;           /* [E * E] Pearson correlation of per-batch counts, kept only
                              when positive and both experts are consistent or
                              temporal; 0 elsewhere (and on the diagonal) */
    int num_consistent, num_temporal;
} gem_stats;

/* Fills st from pb's batches and params (thresholds). MOEMAP_ENOMEM on failure. */
int gem_stats_build(const place_problem *pb, gem_stats *st, moemap_error *err);
void gem_stats_clear(gem_stats *st);

#endif
