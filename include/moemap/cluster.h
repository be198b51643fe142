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
MOEMAP_API_BEGIN

/* A latency curve: us[i] microseconds for tokens[i] tokens, tokens strictly increasing,
 * us non-decreasing. cv is the run-to-run coefficient of variation (0 when unknown).
 * A GPU without its own curve keeps its jitter in curve.cv with curve.n == 0. */
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
/* The same for the curve whose times are c's divided by div (> 0): a GPU without its own
 * curve runs the base curve divided by its speed. Each point is divided before
 * interpolating, so the result is bit for bit that of evaluating a divided copy. */
double moemap_curve_eval_div(const moemap_curve *c, double n, double div);
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
} moemap_gpu;
/* The struct holds only what the profile says: f_g is computed from curve, speed and the
 * cluster's base curve on every call (moemap_cluster_expert_us), never cached, so an
 * edit to a curve or a speed counts at once. */

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
    /* Provenance kept verbatim from the file's optional "source" object (compact JSON
     * text, e.g. the command and machine that measured the profile); NULL when absent.
     * Owned by the cluster; set with moemap_cluster_set_source. */
    char *source_json;
} moemap_cluster;

/* Bytes per weight of a dtype name ("bf16" 2, "fp8" 1, "int4" 0.5, ...), or 0 when the
 * name is not one moemap knows (bf16, fp16, fp32, fp8, int8, int4, mxfp4). */
double moemap_dtype_bytes(const char *dtype);
/* Bytes of one expert's weights under the cluster's expert shape: 3 matrices of hidden x
 * intermediate (gate, up, down) at its dtype's width. */
double moemap_cluster_expert_bytes(const moemap_cluster *c);

/* The most GPUs a cluster may have: 1024, the largest size placement is tested and
 * timed at (DeepSeek-V3 shape, docs/limits.md). Readers, synth, merge and create refuse
 * more, naming this limit, rather than run for hours. */
#define MOEMAP_MAX_GPUS 1024

/* An empty cluster of num_gpus GPUs (speed 1, node 0, slots 0, no curves). */
int moemap_cluster_create(int num_gpus, moemap_cluster **out, moemap_error *err);
void moemap_cluster_free(moemap_cluster *c);
int moemap_cluster_clone(const moemap_cluster *c, moemap_cluster **out, moemap_error *err);
/* Validates the cluster: shape, network, every GPU's fields, and that every GPU has a
 * cost (its own curve, or a base curve to scale by its speed, staying finite). Readers
 * and synth call it; a caller that builds or edits a cluster calls it before handing the
 * cluster to the library, since the cost functions trust it. Nothing is built or cached. */
int moemap_cluster_finalize(moemap_cluster *c, moemap_error *err);

/* moemap.cluster/v1 I/O. read validates and finalizes; messages name the file and field. */
int moemap_cluster_read(const char *path, moemap_cluster **out, moemap_error *err);
int moemap_cluster_write(const moemap_cluster *c, const char *path, moemap_error *err);

/* f_g(n): time in microseconds of one expert with n tokens on GPU g: its own curve when
 * it has one, else the base curve divided by its speed. The innermost call of every
 * search, hence inline and without a cache (see moemap_gpu). */
static inline double moemap_cluster_expert_us(const moemap_cluster *c, int g, double n)
{
    const moemap_gpu *gpu = &c->gpus[g];
    if (!(n > 0))
        return 0.0;
    return gpu->curve.n > 0 ? moemap_curve_eval(&gpu->curve, n)
                            : moemap_curve_eval_div(&c->base, n, gpu->speed);
}
/* f_g as a curve of its own, for code that needs its points (hulls, charts, merging):
 * a copy of the GPU's curve, or of the base curve with every time divided by its speed;
 * cv is moemap_cluster_gpu_cv. out's previous points are released; the caller clears
 * it (moemap_curve_clear). */
int moemap_cluster_gpu_curve(const moemap_cluster *c, int g, moemap_curve *out,
                             moemap_error *err);
/* 1 when GPUs g and h cost the same at every token count (their f_g have the same points,
 * as moemap_cluster_gpu_curve would give them), else 0. Strategies group GPUs by it. */
int moemap_cluster_same_cost(const moemap_cluster *c, int g, int h);

/* Sum of slots over GPUs. */
int moemap_cluster_total_slots(const moemap_cluster *c);
/* Nodes the GPUs sit on: the largest node index + 1. */
int moemap_cluster_num_nodes(const moemap_cluster *c);

/* The network a profile gets when none was measured: NVLink-class 450 GB/s inside a
 * node, 50 GB/s between nodes, 10 us latency (cluster synth, moemap profile). */
#define MOEMAP_NET_INTRA_NODE_GBPS 450.0
#define MOEMAP_NET_INTER_NODE_GBPS 50.0
#define MOEMAP_NET_LATENCY_US 10.0

/* --- cost of a whole GPU / layer (cluster must be finalized) --------------------------- */

/* T_g: time of GPU g for one layer and one batch, the sum of f_g(tokens[i]) over its n
 * replicas' token counts (entries <= 0 cost nothing). */
double moemap_cluster_gpu_layer_us(const moemap_cluster *c, int g, const double *tokens,
                                   int n);
/* The layer's straggler time max_g T_g for n replicas: replica i runs tokens[i] tokens on
 * GPU gpu[i]. per_gpu[num_gpus] (OUT, required) receives every T_g. */
double moemap_cluster_layer_max_us(const moemap_cluster *c, const int *gpu,
                                   const double *tokens, int n, double *per_gpu);
/* Speed of every GPU relative to the fastest at n tokens: rel[g] = min_h f_h(n) / f_g(n),
 * so the fastest GPU is 1 and one taking twice as long is 0.5 (1 for all when n <= 0).
 * rel[num_gpus] is OUT. */
void moemap_cluster_relative_speed(const moemap_cluster *c, double n, double *rel);
/* Run-to-run jitter of GPU g (coefficient of variation of f_g: its curve's cv when > 0,
 * else the base curve's; 0 when unknown). */
double moemap_cluster_gpu_cv(const moemap_cluster *c, int g);
/* One noisy draw of a curve's time at n tokens: f(n) times a log-normal factor of mean 1
 * and coefficient of variation c->cv (exactly f(n) when cv is 0). Never negative. */
double moemap_curve_sample(const moemap_curve *c, double n, moemap_rng *rng);

/* --- checks and I/O helpers ----------------------------------------------------------- */

/* Fails (MOEMAP_EINVAL, naming both shapes) when the cluster was profiled for another
 * expert shape. dtype may be NULL (not compared). */
int moemap_cluster_check_shape(const moemap_cluster *c, int hidden, int intermediate,
                               const char *dtype, moemap_error *err);
/* Parses moemap.cluster/v1 from memory; `name` stands for the file name in messages.
 * Validates and finalizes like moemap_cluster_read (the fuzz entry point). */
int moemap_cluster_parse_buffer(const char *buf, size_t len, const char *name,
                                moemap_cluster **out, moemap_error *err);
/* Replaces the provenance text (a JSON object as text, or NULL to clear). */
int moemap_cluster_set_source(moemap_cluster *c, const char *json_object_text,
                              moemap_error *err);

/* Concatenates clusters measured separately (e.g. one `moemap profile` file per machine
 * or SM limit) into one: their GPUs in order, each with its cost f_g as its own
 * curve (so differing base curves do not matter) and its cv; nodes renumbered so that each
 * part keeps its own nodes after the previous parts' (one_node = 1: all on node 0); base
 * curve and network from the first part; slots >= 0 replaces every GPU's slots (measured
 * profiles have none), -1 keeps them. Every part must have the first part's expert shape
 * (the message names the part's index). */
int moemap_cluster_merge(const moemap_cluster *const *parts, int num_parts, int one_node,
                         int slots, moemap_cluster **out, moemap_error *err);

/* --- fitting a curve from raw timings ------------------------------------------------- */

/* How well a fitted curve explains the samples it came from. */
typedef struct moemap_curve_fit_report {
    int samples;            /* samples used */
    int points;             /* distinct token counts = points of the curve */
    int monotone_fixes;     /* points whose median was changed to keep the curve monotone */
    int outliers;           /* samples further than 5 robust sigmas from their median */
    double max_rel_err;     /* max |fit - median| / median over points */
    double median_rel_err;  /* median of the same */
    double r2;              /* 1 - SS_res / SS_tot of the curve against all samples */
    double cv;              /* robust jitter estimate (same as the curve's cv) */
} moemap_curve_fit_report;

/* Fits a curve to n_samples timings (tokens[i] tokens took us[i] microseconds; any order,
 * repeats of a token count expected): the median of the repeats of each token count
 * (robust to outliers), then the closest non-decreasing sequence (weighted isotonic
 * regression, pool-adjacent-violators). cv is the median over token counts with at least
 * 3 repeats of 1.4826 * MAD / median (0 when no count has 3 repeats). out is overwritten
 * (its previous points are released); report may be NULL. */
int moemap_curve_fit(const double *tokens, const double *us, int n_samples,
                     moemap_curve *out, moemap_curve_fit_report *report, moemap_error *err);

/* --- GPU populations from real variability data, and synthetic clusters ---------------- */

typedef enum {
    MOEMAP_SPEED_MEDIAN = 0,  /* the population's median GPU has speed 1 (default) */
    MOEMAP_SPEED_FASTEST = 1  /* the population's fastest GPU has speed 1 */
} moemap_speed_norm;

typedef struct moemap_variability_params {
    const char *column;     /* time column (lower = faster); NULL = "perf" */
    int min_runs;           /* GPUs with fewer runs are dropped; 0 = default 3 */
    moemap_speed_norm norm;
} moemap_variability_params;
/* column "perf", min_runs 3, MOEMAP_SPEED_MEDIAN (a zeroed struct means the same). */
moemap_variability_params moemap_variability_default_params(void);

/* Per-GPU statistics of a benchmark run on many nominally identical GPUs. */
typedef struct moemap_gpu_population {
    int n;             /* GPUs kept, sorted by uuid */
    char **uuid;       /* [n] */
    int *runs;         /* [n] runs (rows) of each GPU */
    double *time;      /* [n] median time of its runs */
    double *speed;     /* [n] normalised: reference time / time (higher = faster) */
    int rows;          /* data rows read */
    int dropped;       /* GPUs with fewer than min_runs runs */
    double *cv;        /* [n] run-to-run jitter of each GPU: 1.4826 * MAD / median of its
                          runs (0 with fewer than 3 runs) */
} moemap_gpu_population;

/* Reads a CSV with a header line, a GPU id column ("uuid" or "GPU_UUID") and a time
 * column (params->column, default "perf"), e.g. the PAL files (sgemm-longhorn-agg.csv) or
 * 32gpu-variability.csv with column PerfVar_classA. Rows are grouped by GPU; each GPU's
 * time is the median of its runs. params may be NULL (defaults). */
int moemap_gpu_population_read(const char *path, const moemap_variability_params *params,
                               moemap_gpu_population **out, moemap_error *err);
void moemap_gpu_population_free(moemap_gpu_population *p);

typedef struct moemap_synth_params {
    int num_gpus;                 /* >= 1 */
    int gpus_per_node;            /* GPU g is on node g / gpus_per_node; 0 = one node */
    uint64_t seed;                /* draws from the population */
    int slots;                    /* slots of every GPU (>= 0) */
    const moemap_gpu_population *population; /* speeds drawn from it, or ... */
    const double *speeds;         /* ... explicit speeds [num_speeds == num_gpus] */
    int num_speeds;
    const moemap_curve *base;     /* the curve shape (required); becomes base_curve */
    int hidden, intermediate;     /* expert shape the base curve stands for */
    const char *dtype;            /* NULL = "bf16" */
    const int *throttle_gpu;      /* speed of GPU throttle_gpu[i] *= throttle_factor[i] */
    const double *throttle_factor;
    int num_throttle;
    double intra_node_GBps, inter_node_GBps, latency_us;
    int cv_from_population;       /* 1: each drawn GPU keeps its population jitter as its
                                     cv (else the base curve's cv applies to all) */
} moemap_synth_params;
/* Defaults: moemap_synth_default_params (moemap/cluster_synth.h). */

/* Builds a finalized cluster: GPU speeds drawn from the population with the seed (without
 * replacement when num_gpus <= population size, else with replacement) or taken from
 * speeds, then throttled; all GPUs share the base curve scaled by their speed. */
int moemap_cluster_synth(const moemap_synth_params *p, moemap_cluster **out,
                         moemap_error *err);
/* What a caller gives directly, checked before any file is read (moemap_cluster_synth
 * checks it too): the GPU count, every speed finite and > 0, throttles of existing GPUs
 * by factors > 0, a base curve (when set) as moemap_curve_check wants it, and a known
 * dtype (when set). MOEMAP_ERANGE (a number out of range) or MOEMAP_EINVAL with
 * what is wrong: for a front end, a usage error. */
int moemap_synth_params_check(const moemap_synth_params *p, moemap_error *err);
/* Fills what p leaves unset from a base profile (a measured or earlier cluster): the
 * curve shape (its base curve, else its first GPU's curve: copied into *curve, which p->base
 * then points at; the caller clears it), the expert shape (hidden/intermediate < 1; when
 * given they must match the base's), slots (p->slots < 0: the first GPU's; an error when
 * the base's GPUs have none, as a measured profile's) and the network (fields < 0). */
int moemap_synth_params_from_base(moemap_synth_params *p, const moemap_cluster *base,
                                  moemap_curve *curve, moemap_error *err);
/* Any network field still < 0 gets the nominal network (MOEMAP_NET_*). */
void moemap_synth_params_network_defaults(moemap_synth_params *p);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
