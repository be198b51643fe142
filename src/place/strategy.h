/*
 * strategy.h — the internal interface between the placement driver (place.c) and the
 * strategies. The driver splits the model into layers, builds one place_problem per MoE
 * layer and calls the strategy's layer function, which appends replicas to a
 * place_result. Each strategy lives in its own file src/place/strategy_<name>.c.
 * A strategy that solves to a proof (exact) also says, in place_result.solver, whether
 * its answer is proven optimal: the return code says "the call worked", the solver
 * field "what the answer is". The driver aggregates it into the placement's "predicted"
 * object (docs/placement.md).
 */
#ifndef MOEMAP_PLACE_STRATEGY_H
#define MOEMAP_PLACE_STRATEGY_H

#include "moemap/place.h"

typedef struct place_problem {
    const moemap_cluster *cluster; /* the curves the search balances: the measured ones,
                                      plus the received part of dispatch and combine
                                      unless params->a2a.off (moemap_cluster_with_a2a) */
    const moemap_cluster *measured; /* the cluster as measured: the whole-layer judge
                                      (place_layer_mean_us); NULL: cluster */
    int num_gpus;
    const int *slots;              /* [num_gpus] slots of each GPU for this layer */
    int experts;
    int num_batches;
    const double *counts;          /* [num_batches * experts] this layer's token counts,
                                      batch-major: counts[b * experts + e] */
    const double *batch_tokens;    /* [num_batches] */
    const double *total;           /* [experts] sum over batches */
    int layer_id;                  /* model layer index */
    const moemap_place_params *params;
    const moemap_layer_placement *previous; /* same layer of params->previous, or NULL */
    double time_budget_s;          /* search time this layer may use */
    double deadline_s;             /* > 0: CLOCK_MONOTONIC second (mm_now_s) by which the
                                      search must stop, whatever its budget says */
    moemap_rng *rng;               /* seeded per layer from params->seed */
} place_problem;

/* What a solver that can prove optimality says about one layer's answer. Heuristics
 * leave PLACE_SOLVER_NONE (the driver resets it before each layer). */
typedef enum {
    PLACE_SOLVER_NONE = 0,       /* no claim: a heuristic */
    PLACE_SOLVER_OPTIMAL = 1,    /* proven optimal for the strategy's model */
    PLACE_SOLVER_TIME_LIMIT = 2  /* the time limit struck: the best found, not proven */
} place_solver_status;

typedef struct place_result {
    moemap_replica *reps;
    int n;
    int cap;
    place_solver_status solver; /* optional report, see above */
    double solver_gap;          /* (objective - proven bound) / objective: 0 when optimal,
                                   1 when nothing was proven; only with solver != NONE */
} place_result;

/* Appends one replica (grows the array); returns MOEMAP_ENOMEM on failure. */
int place_result_add(place_result *r, int expert, int gpu, double share, moemap_error *err);

typedef int (*place_layer_fn)(const place_problem *pb, place_result *out, moemap_error *err);

/* The strategies (one file each). */
int place_linear(const place_problem *pb, place_result *out, moemap_error *err);
int place_round_robin(const place_problem *pb, place_result *out, moemap_error *err);
int place_eplb(const place_problem *pb, place_result *out, moemap_error *err);
int place_eplb_global(const place_problem *pb, place_result *out, moemap_error *err);
int place_gem(const place_problem *pb, place_result *out, moemap_error *err);
int place_vibe(const place_problem *pb, place_result *out, moemap_error *err);
int place_moemap(const place_problem *pb, place_result *out, moemap_error *err);
int place_exact(const place_problem *pb, place_result *out, moemap_error *err);

#endif
