/*
 * moemap/eval.h — the predicted cost of placements under the cost model: per-batch
 * straggler time, its distribution, per-GPU times, and lower bounds.
 * Owned by the placement engine (issue 4).
 *
 * Cost model (DESIGN.md): for one layer and batch with token counts c_e, GPU g's time is
 * T_g = sum over its replicas r with n_r = share_r * c_e > 0 of f_g(n_r); the layer waits
 * for the straggler max_g T_g. A model's time for a batch is the sum of its MoE layers'
 * straggler times (layers run one after another).
 *
 * The lower bound of a layer and batch is a time that no placement can beat, not even one
 * chosen for that very batch with free replicas and shares (see docs/placement.md for the
 * argument): it combines (a) token capacity: GPU g serving n tokens in k pieces costs at
 * least k * conv_g(n / k), conv_g being the convex minorant of f_g on (0, inf) with the
 * weight-read floor at 0+, (b) every active expert needs a piece, at most slots_g pieces
 * per GPU, and (c) the busiest expert is split over at most one piece per GPU.
 *
 * Where the code is: the cost of a layer, of a placement and the bounds are in src/cost/
 * (below placement, which records its own predicted cost with them); src/eval/ adds what
 * only an evaluation of a given placement asks (checks and moves from a previous one).
 */
#ifndef MOEMAP_EVAL_H
#define MOEMAP_EVAL_H

#include "moemap/a2a.h"
#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* Straggler time (us) of one layer placement for one batch: counts[experts] are the
 * batch's tokens per expert of that layer. gpu_us (may be NULL) receives T_g for each of
 * the cluster's GPUs. Replicas naming GPUs outside the cluster are ignored (validate
 * first). */
double moemap_eval_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                               const double *counts, int experts, double *gpu_us);

/* Lower bound machinery for one cluster: per-GPU convex minorants, built once. */
typedef struct moemap_bound moemap_bound;
/* slots > 0 overrides every GPU's slots (as moemap_place_params.slots). */
int moemap_bound_create(const moemap_cluster *c, int slots, moemap_bound **out,
                        moemap_error *err);
void moemap_bound_free(moemap_bound *b);
/* Lower bound (us) on the straggler time of one layer and batch with counts[experts].
 * Thread-safe for a shared moemap_bound. */
double moemap_bound_layer_batch(const moemap_bound *b, const double *counts, int experts);

/* Lower bound (us) under engine rules (every GPU holds exactly S distinct experts, an
 * expert's k <= G copies split its tokens evenly): GPU g then pays at least
 * f_g(c_e / G) for each of its S experts, so at least the sum of f_g over the S smallest
 * c_e / G, and the straggler at least the largest such sum. At decode sizes every copy
 * sits on the curve's floor and this is S floors of the slowest GPU: a slow GPU with S
 * filled slots cannot finish sooner. scratch holds `experts` doubles. */
double moemap_bound_engine_layer_batch(const moemap_cluster *c, int S, const double *counts,
                                       int experts, double *scratch);
/* Lower bound (us) on the mean over batches of one layer's straggler time for ONE
 * placement serving every batch (its replicas and shares fixed): the linear relaxation of
 * choosing each expert's replica count, one replica getting at least 1/r of its tokens,
 * with the batches as scenarios (see src/cost/bound_scenario.c, docs/placement.md).
 * counts[b * batch_stride + e] are batch b's tokens, lb[b] its per-batch bound
 * (moemap_bound_layer_batch). *out >= the mean of lb; it is that mean without GLPK. */
int moemap_bound_scenario_layer(const moemap_bound *b, const double *counts, int num_batches,
                                size_t batch_stride, int experts, const double *lb,
                                double *out, moemap_error *err);

/* Both lower bounds of a workload on a cluster (per-batch and one-placement), which do
 * not depend on the placement: computed once, they serve every evaluation of the same
 * loads, cluster and slots (moemap_eval_params.bounds), and computing them first tells a
 * caller with a time budget what is left of it. time_limit_s > 0 stops the one-placement
 * LPs within that many seconds (a layer left without time keeps the per-batch mean). */
typedef struct moemap_eval_bounds moemap_eval_bounds;
int moemap_eval_bounds_create(const moemap_loads *loads, const moemap_cluster *c, int slots,
                              double time_limit_s, moemap_eval_bounds **out,
                              moemap_error *err);
void moemap_eval_bounds_free(moemap_eval_bounds *b);

typedef struct moemap_eval_params {
    int slots;                        /* > 0: every GPU's slots for the bound (default 0) */
    int no_bound;                     /* 1: skip the lower bounds (bound fields stay 0) */
    int engine_slots;                 /* > 0: also the engine-rules bound with this many
                                         slots on every GPU (default 0: not computed) */
    const moemap_placement *previous; /* experts moved are counted against it (NULL: 0) */
    const moemap_eval_bounds *bounds; /* the bounds of these loads, cluster and slots,
                                         already computed (NULL: computed here) */
    moemap_a2a_params a2a;            /* dispatch and combine of the whole-layer figures
                                         (moemap/a2a.h; default: per (token, GPU), bf16) */
} moemap_eval_params;
moemap_eval_params moemap_eval_default_params(void);

typedef struct moemap_eval_layer {
    int layer;              /* model layer index */
    double mean_us;         /* straggler time over batches: mean, p90, p99 */
    double p90_us;
    double p99_us;
    double bound_mean_us;   /* mean over batches of the per-batch lower bound */
    double engine_bound_mean_us; /* the same, under engine rules (max of both bounds);
                                    0 unless engine_slots was given */
    double gap;             /* mean_us / bound_mean_us - 1 */
    double fixed_bound_mean_us; /* one-placement bound (moemap_bound_scenario_layer) */
    double fixed_gap;       /* mean_us / fixed_bound_mean_us - 1 */
    double imbalance;       /* mean over batches of max_g T_g / mean_g T_g */
    int replicas;
    long moved;             /* replicas added relative to the previous placement */
    double layer_mean_us;   /* whole layer: mean over batches of max_g (dispatch_g +
                               T_g + combine_g) (moemap/a2a.h); mean_us when a2a.off */
    double a2a_mean_us;     /* mean over batches of the slowest GPU's dispatch + combine */
} moemap_eval_layer;

typedef struct moemap_eval_summary {
    char strategy[32];
    int num_batches;
    double *batch_us;       /* [num_batches] model time: sum over layers of the straggler */
    double *batch_bound_us; /* [num_batches] sum over layers of the lower bound */
    double mean_us, p90_us, p99_us; /* over batches of batch_us */
    double bound_mean_us, bound_p90_us;
    double engine_bound_mean_us; /* mean of the engine-rules bound (0 when not asked) */
    double gap;             /* mean_us / bound_mean_us - 1 */
    double fixed_bound_mean_us; /* sum over layers of the one-placement bound */
    double fixed_gap;       /* mean_us / fixed_bound_mean_us - 1 */
    double imbalance;       /* mean over layers and batches of max_g T_g / mean_g T_g */
    long replicas;
    long moved;             /* -1 when no previous placement was given */
    int num_layers;
    moemap_eval_layer *layers;
    int num_gpus;
    double *layer_gpu_us;   /* [num_layers * num_gpus] each GPU's time in layers[l],
                               mean over the batches (what the report's bars show) */
    /* The whole layer (dispatch + compute + combine, moemap/a2a.h): a batch's model time
     * is the sum over layers of the slowest GPU's whole layer. The fields above are the
     * expert compute alone (the straggler of T_g), kept as the figure the bounds bound. */
    double *batch_layer_us;  /* [num_batches] */
    double layer_mean_us, layer_p90_us, layer_p99_us; /* over batches of batch_layer_us */
    double a2a_mean_us;      /* mean over batches of the sum over layers of the slowest
                                GPU's dispatch + combine */
} moemap_eval_summary;

/* Evaluates placement p on every batch of loads: each MoE layer of loads with any token
 * must have an entry in p (matched by model layer id), p's experts must match loads'.
 * Fails with a message naming the layer otherwise. */
int moemap_eval_placement(const moemap_loads *loads, const moemap_cluster *c,
                          const moemap_placement *p, const moemap_eval_params *params,
                          moemap_eval_summary **out, moemap_error *err);
void moemap_eval_summary_free(moemap_eval_summary *s);

/* Checks that p fits loads: same experts, an entry for every MoE layer with tokens, no
 * entry for a layer loads lacks. Reports each problem through fn (may be NULL); returns
 * the number of problems. */
int moemap_placement_check_loads(const moemap_placement *p, const moemap_loads *loads,
                                 moemap_problem_fn fn, void *ctx);

/* An eval file (moemap.eval/v1, docs/formats.md): the summaries of several placements
 * evaluated on the same workload and cluster, each with the path of its placement file
 * as given, the per-batch model time and the per-GPU time of every layer. */
typedef struct moemap_eval_file {
    int num_batches;
    int num_placements;
    char **files;                     /* [num_placements] placement paths */
    moemap_eval_summary **summaries;  /* [num_placements] */
} moemap_eval_file;
/* Writes f to path ("-": standard output). */
int moemap_eval_write(const char *path, const moemap_eval_file *f, moemap_error *err);
/* Reads an eval file ("-": standard input); errors name the file and the JSON path. */
int moemap_eval_read(const char *path, moemap_eval_file **out, moemap_error *err);
/* The same from memory (name stands for the file in messages; fuzz targets). */
int moemap_eval_parse_buffer(const char *buf, size_t len, const char *name,
                             moemap_eval_file **out, moemap_error *err);
/* Frees f, its file names and its summaries. */
void moemap_eval_file_free(moemap_eval_file *f);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
