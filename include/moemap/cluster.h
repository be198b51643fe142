/*
 * moemap/cluster.h — GPUs, nodes, slots, network, and the per-GPU cost model.
 *
 * A GPU's MoE time for one expert with n tokens is f_g(n): its own measured curve when it
 * has one, else the cluster's base curve divided by its relative speed. Curves are
 * piecewise-linear in n, monotone, extended linearly past the last point, and f_g(0) = 0
 * (an expert with no tokens costs nothing). The time of a GPU for one layer and batch is
 * the sum of f_g over the replicas it holds that receive tokens. See DESIGN.md.
 */
#ifndef MOEMAP_CLUSTER_H
#define MOEMAP_CLUSTER_H

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A latency curve: us[i] microseconds for tokens[i] tokens, tokens strictly increasing,
 * us non-decreasing. cv is the run-to-run coefficient of variation (0 when unknown). */
typedef struct moemap_curve {
    int n;
    double *tokens;
    double *us;
    double cv;
} moemap_curve;

/* Evaluates a curve at n tokens: n <= 0 costs 0; between points, linear interpolation;
 * below the first point, the first point's value (a replica with any tokens pays at least
 * the weight-read floor); past the last point, extended with the last segment's slope. */
double moemap_curve_eval(const moemap_curve *c, double n);
int moemap_curve_copy(const moemap_curve *src, moemap_curve *dst, moemap_error *err);
void moemap_curve_clear(moemap_curve *c);
/* Checks points: n >= 1, tokens > 0 strictly increasing, us >= 0 finite non-decreasing.
 * `what` names the curve in the message ("gpus[3].curve"). */
int moemap_curve_check(const moemap_curve *c, const char *what, moemap_error *err);

typedef struct moemap_gpu {
    int id;              /* index in the cluster, 0..num_gpus-1 */
    int node;            /* node (host) index */
    char name[64];       /* device name, "" when unknown */
    int slots;           /* expert slots per MoE layer */
    double speed;        /* relative speed (1 = base curve) when no own curve */
    moemap_curve curve;  /* own curve; curve.n == 0 when absent */
    double mem_gb;       /* memory for experts (0 = unconstrained) */
    int sm_limit;        /* SMs the profile was taken under (0 = full GPU) */
    /* Effective curve f_g (own curve, or base / speed), built by moemap_cluster_finalize;
     * the cost functions read this one. */
    moemap_curve eff;
} moemap_gpu;

typedef struct moemap_cluster {
    int hidden;             /* expert shape the curves were measured for */
    int intermediate;
    char dtype[16];         /* "bf16" */
    moemap_curve base;      /* base curve (may be empty when every GPU has its own) */
    int num_gpus;
    moemap_gpu *gpus;
    double intra_node_GBps; /* network, for dispatch/combine modelling */
    double inter_node_GBps;
    double latency_us;
} moemap_cluster;

/* An empty cluster of num_gpus GPUs (speed 1, node 0, slots 0, no curves). */
int moemap_cluster_create(int num_gpus, moemap_cluster **out, moemap_error *err);
void moemap_cluster_free(moemap_cluster *c);
int moemap_cluster_clone(const moemap_cluster *c, moemap_cluster **out, moemap_error *err);
/* Validates the cluster and (re)builds every GPU's effective curve. Must be called after
 * any change to curves or speeds and before the cost functions are used. */
int moemap_cluster_finalize(moemap_cluster *c, moemap_error *err);

/* moemap.cluster/v1 I/O. read validates and finalizes; messages name the file and field. */
int moemap_cluster_read(const char *path, moemap_cluster **out, moemap_error *err);
int moemap_cluster_write(const moemap_cluster *c, const char *path, moemap_error *err);

/* f_g(n): time in microseconds of one expert with n tokens on GPU g. */
static inline double moemap_cluster_expert_us(const moemap_cluster *c, int g, double n)
{
    return n > 0 ? moemap_curve_eval(&c->gpus[g].eff, n) : 0.0;
}

/* Sum of slots over GPUs. */
int moemap_cluster_total_slots(const moemap_cluster *c);

#ifdef __cplusplus
}
#endif
#endif
