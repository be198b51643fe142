/*
 * sim_internal.h — the simulator's internal interfaces between its parts: the iteration
 * time model (itermodel.c), the scheduler (scheduler.c), events (events.c),
 * recalibration policies (recal.c) and metrics (metrics.c), driven by simulate.c.
 * Internal to libmoemap.
 */
#ifndef MOEMAP_SIM_INTERNAL_H
#define MOEMAP_SIM_INTERNAL_H

#include "moemap/sim.h"

/* ---- iteration time model ---------------------------------------------------------- */

/* What one iteration computes, as the scheduler formed it. */
typedef struct sim_batch {
    long tokens;        /* tokens through the model this iteration (prefill + decode) */
    long decode;        /* decode tokens (one per running, prefilled request) */
    long prefill_done;  /* requests whose prefill completes (they emit a first token) */
    double attn_ctx;    /* sum over tokens of the context each attends to (score FLOPs) */
    double kv_read;     /* sum over sequences of context tokens read from KV cache */
} sim_batch;

/* Output of one iteration's evaluation. */
typedef struct sim_iter {
    double time_s;       /* wall time of the iteration */
    double moe_s;        /* MoE part (sum over layers of the straggler) */
    double moe_mean_s;   /* sum over layers of the mean alive GPU's MoE time */
    int batch;           /* workload batch sampled */
    double scale;        /* tokens / that batch's tokens */
    long tokens;         /* tokens of the iteration */
} sim_iter;

typedef struct itermodel itermodel;

/* Builds the model for a placement and workload. The placement is cloned. */
int itermodel_create(const moemap_model *model, const moemap_cluster *cluster,
                     const moemap_placement *placement, const moemap_loads *loads,
                     const moemap_sim_params *params, itermodel **out, moemap_error *err);
void itermodel_free(itermodel *im);
/* Evaluates one iteration; adds per-GPU barrier waits into idle[G]. */
void itermodel_eval(itermodel *im, const sim_batch *b, moemap_rng *rng, double *idle,
                    sim_iter *out);
/* Switches the workload counts are sampled from (same experts and layers). */
int itermodel_set_loads(itermodel *im, const moemap_loads *loads, moemap_error *err);
/* Replaces the placement (cloned); caches are rebuilt lazily. */
int itermodel_set_placement(itermodel *im, const moemap_placement *p, moemap_error *err);
const moemap_placement *itermodel_placement(const itermodel *im);
const moemap_loads *itermodel_loads(const itermodel *im);
/* GPU state changed by events. */
void itermodel_set_factor(itermodel *im, int gpu, double factor);
double itermodel_factor(const itermodel *im, int gpu);
void itermodel_set_lost(itermodel *im, int gpu);
int itermodel_alive(const itermodel *im, int gpu);
/* Every GPU's factor and alive flag, [G] each, as the rebalancing functions take them. */
const double *itermodel_factors(const itermodel *im);
const unsigned char *itermodel_alive_mask(const itermodel *im);
int itermodel_num_gpus(const itermodel *im);
int itermodel_moe_layers(const itermodel *im);
/* Loads entry (row of the current loads) of placement layer l. */
int itermodel_loads_entry(const itermodel *im, int l);
/* Predicted MoE time (s) of placement layer l's replicas for counts c[experts], per GPU,
 * with speed estimate est[g] (time divided by it; NULL = profiled speeds) into t[G];
 * returns the max over alive GPUs. */
double itermodel_layer_times(const itermodel *im, const moemap_layer_placement *lp,
                             const double *c, const double *est, double *t);

/* ---- scheduler ------------------------------------------------------------------------ */

typedef struct sim_req {
    double arrival;
    int prompt, output;
    int prefilled;       /* prompt tokens processed */
    int generated;       /* output tokens emitted */
    double first_token;  /* time of the first token (< 0: none yet) */
    double done;         /* completion time (< 0: running) */
} sim_req;

typedef struct scheduler scheduler;

int scheduler_create(const moemap_arrivals *arr, const moemap_sim_params *params,
                     scheduler **out, moemap_error *err);
void scheduler_free(scheduler *s);
/* Admits arrivals up to time t. Returns the arrival time of the next request not yet
 * admitted (INFINITY when none). */
double scheduler_admit(scheduler *s, double t);
/* Forms the next iteration's batch; returns 0 when there is nothing to run. */
int scheduler_form(scheduler *s, sim_batch *b);
/* Applies the batch formed last, finishing at time t: progress, first tokens,
 * completions. Calls on_first(ctx, req) for each first token. */
void scheduler_commit(scheduler *s, double t, void (*on_first)(void *, const sim_req *),
                      void *ctx);
long scheduler_pending(const scheduler *s); /* admitted, not completed */
long scheduler_arrived(const scheduler *s);
const sim_req *scheduler_requests(const scheduler *s, long *n);
long scheduler_completed(const scheduler *s);
long scheduler_tokens_out(const scheduler *s);

/* ---- recalibration -------------------------------------------------------------------- */

typedef struct recal recal;

typedef struct recal_action {
    int changed;            /* 1 when the placement was replaced */
    double bytes;           /* weights moved */
    double stall_s;         /* time the engine stalls for it */
    long moves;             /* replicas added */
    char why[120];          /* marker text (also set when a re-placement was skipped) */
} recal_action;

int recal_create(const moemap_sim_params *params, const moemap_model *model,
                 const moemap_cluster *cluster, itermodel *im, recal **out,
                 moemap_error *err);
void recal_free(recal *r);
/* Records one iteration (batch sampled, scale, MoE times per GPU observed). */
void recal_record(recal *r, const sim_iter *it);
/* Called after every iteration; may replace the placement in im. */
int recal_step(recal *r, long iteration, recal_action *act, moemap_error *err);
/* Repairs the placement after GPU `gpu` is lost (every policy must), with
 * moemap_rebalance_repair_lost. */
int recal_repair_lost(recal *r, int gpu, recal_action *act, moemap_error *err);

/* ---- metrics --------------------------------------------------------------------------- */

typedef struct metrics metrics;

int metrics_create(const moemap_sim_params *params, int num_gpus, metrics **out,
                   moemap_error *err);
void metrics_free(metrics *m);
void metrics_first_token(metrics *m, const sim_req *q);
void metrics_iteration(metrics *m, double t_end, const sim_iter *it, long tokens_out);
int metrics_marker(metrics *m, double t, const char *label);
double *metrics_idle(metrics *m);
/* Builds the result from the finished requests. */
int metrics_finish(metrics *m, const sim_req *reqs, long n, double sim_time,
                   long iterations, moemap_sim_result **out, moemap_error *err);

#endif
