/*
 * moemap/gpu_exec.h — the multi-GPU expert-parallel executor (CUDA + NCCL): runs MoE
 * layers under a placement and measures them. Owned by the executor work (issue 6).
 *
 * What one run does, per iteration and MoE layer: tokens_per_iter tokens of a real
 * routing trace start on their data-parallel rank (contiguous blocks); each token's top-k
 * choices are dispatched to the GPUs holding the chosen experts' replicas (an expert's
 * tokens are split over its replicas by the placement's shares, deterministically in
 * token order), sent with NCCL grouped send/recv (all-to-all) — by default one row per
 * (token, GPU), a token whose choices meet on one GPU crossing the link once — run
 * through each GPU's experts (bf16 FFN: gate/up GEMM, SiLU(gate) * up, down GEMM),
 * summed per row with the gate weights, sent back (all-to-all) and summed at home. CUDA
 * events time every phase on every GPU.
 *
 * Ranks: on one host the executor drives every GPU from one process, one thread per GPU,
 * each thread owning one NCCL communicator (ncclCommInitRank with a unique id shared in
 * memory). Built with MPI and launched under mpirun, each MPI process is one rank (GPU
 * local_rank of its host), the NCCL id is broadcast over MPI and results are gathered on
 * rank 0; only rank 0 should print (moemap_exec_is_root).
 *
 * Without CUDA or NCCL every function returns MOEMAP_ENOTSUP, "built without GPU support".
 */
#ifndef MOEMAP_GPU_EXEC_H
#define MOEMAP_GPU_EXEC_H

#include "moemap/a2a.h"
#include "moemap/base.h"
#include "moemap/cluster.h"
#include "moemap/model.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* Arrays in these structs are sized by the run (num_gpus), never by a fixed maximum:
 * results come from moemap_exec_run or moemap_exec_read and go back with
 * moemap_exec_result_free; a summary's arrays are released by moemap_exec_summary_clear. */

typedef struct moemap_exec_params {
    int hidden;             /* expert hidden size (required, e.g. the model preset's) */
    int intermediate;       /* expert intermediate size (required) */
    int layers;             /* MoE layers to run: the placement's first `layers`; 0 = all
                               placement layers (default 4) */
    int iterations;         /* timed iterations (default 10) */
    int warmup;             /* untimed iterations before them (default 2) */
    long tokens_per_iter;   /* tokens of the trace per iteration, all ranks together
                               (default 4096); iteration i takes trace tokens
                               [i*T, (i+1)*T) modulo the trace length */
    const int *sm_limit;    /* [num_sm_limit], borrowed; NULL = none: sm_limit[g] > 0 runs
                               GPU g's expert compute in a green context of this many SMs;
                               0 (or g >= num_sm_limit) = the whole GPU */
    int num_sm_limit;       /* entries of sm_limit (at most the placement's GPUs) */
    int check;              /* 1: also copy every output back and compare it with a CPU
                               float64 reference; tag every row and verify it returns
                               exactly once (small configurations only: slow) */
    uint64_t seed;          /* weights and hidden states (default 1) */
    moemap_dispatch dispatch; /* rows per (token, GPU) (default) or per (token, expert) */
    /* Progress (may be NULL): called from the calling thread with the timed and warm-up
     * steps done / total ("steps"). */
    moemap_progress_fn progress;
    void *progress_ctx;
} moemap_exec_params;

moemap_exec_params moemap_exec_default_params(void);
/* The sizes of a correctness check (params.check): the CPU reference costs about
 * 6 x hidden x intermediate flops per row, so 256 tokens, 2 iterations of 2 layers and
 * 1 warm-up. Sets check and those four fields. */
void moemap_exec_check_params(moemap_exec_params *p);

/* Measurements of one placement. Arrays indexed [(iter * layers + layer) * gpus + gpu]
 * (MOEMAP_EXEC_AT), times in microseconds. */
typedef struct moemap_exec_result {
    int num_gpus;
    int layers;
    int iterations;
    int *layer_ids;          /* [layers] model layer index */
    moemap_dispatch dispatch;/* how rows were sent */
    double *compute_us;      /* expert compute (green-context stream when limited) */
    double *predicted_us;    /* cost model: sum of f_g(n) over the GPU's replicas */
    double *predicted_dispatch_us; /* cost model (moemap/a2a.h) on the exact rows each GPU
                                sends and receives; combine predicted the same (NULL in
                                run files from before it) */
    double *dispatch_us;     /* dispatch all-to-all (incl. its local gather) */
    double *wait_us;         /* barrier after compute: waiting for the slowest GPU */
    double *combine_us;      /* combine all-to-all and weighted sum */
    double *layer_us;        /* whole layer on that GPU */
    long *rows;              /* token-expert rows computed on that GPU */
    long *replicas_active;   /* replicas with at least one row */
    /* Correctness (when params.check): */
    int checked;             /* 1 when the check ran */
    double check_max_rel_err;/* max over tokens of |out - ref| / |ref| (L2 per token) */
    double check_rel_err;    /* ||out - ref|| / ||ref|| over all outputs */
    long check_rows;         /* rows that came back */
    long check_rows_expected;/* rows that had to come back: tokens * top_k */
    long check_tag_errors;   /* rows that came back with the wrong tag, or twice */
    char (*device_names)[64];/* [num_gpus] device name of each GPU */
    int *device_sms;         /* [num_gpus] SMs the compute actually ran on */
} moemap_exec_result;

#define MOEMAP_EXEC_AT(res, arr, it, l, g) \
    ((res)->arr[((size_t)(it) * (size_t)(res)->layers + (size_t)(l)) * (size_t)(res)->num_gpus + (size_t)(g)])

void moemap_exec_result_free(moemap_exec_result *r);
/* The correctness verdict of a checked result: 1 when every row came back once with its
 * tag and the error is what bf16 storage explains (<= 1e-2 overall, 3e-2 per token); a
 * misrouted row gives errors of order 1. */
int moemap_exec_check_passed(const moemap_exec_result *r);

/* Runs every placement in turn over the same trace tokens and iterations, on the
 * placement's number of GPUs (all placements must agree; on one host that many GPUs must
 * be visible; under MPI, that many ranks). routing: per-token choices (ESFT traces, or
 * moemap_exec_routing_from_loads). cluster (may be NULL: no predictions) gives f_g.
 * results[i] receives placement i's measurements (on rank 0 under MPI; NULL elsewhere).
 * Placement layers are matched to routing layers by model layer index; a missing one or
 * a different expert count is an error naming the layer. */
int moemap_exec_run(const moemap_exec_params *params, const moemap_cluster *cluster,
                    const moemap_routing *routing, const moemap_placement *const *placements,
                    int num_placements, moemap_exec_result **results, moemap_error *err);

/* Token-level routing from aggregate loads: batch b's tokens get top_k distinct experts
 * each so that expert e is chosen round(counts) times (scaled to tokens * top_k), gate
 * weights 1/top_k. Deterministic. top_k <= 0 takes loads->top_k. */
int moemap_exec_routing_from_loads(const moemap_loads *loads, int top_k,
                                   moemap_routing **out, moemap_error *err);
/* `moemap run` as one call: the routing from any workload input at loads (a per-token
 * trace as recorded, cut into batches of batch_tokens, 0: the run's tokens per iteration;
 * other inputs' loads expanded to token choices, top-k and experts from the model, may be
 * NULL), the cluster at cluster_path (may be NULL: *cl stays NULL, no predictions) and
 * the np placement files, then moemap_exec_run into res[np]. *cl is the caller's. */
int moemap_exec_run_files(const moemap_exec_params *p, const char *loads,
                          const moemap_model *m, long batch_tokens, const char *cluster_path,
                          char *const *paths, int np, moemap_exec_result **res,
                          moemap_cluster **cl, moemap_error *err);

/* Summary of one result (all over iterations x layers). */
typedef struct moemap_exec_summary {
    double straggler_mean_us;    /* max over GPUs of compute_us, mean */
    double straggler_p90_us;
    double pred_straggler_mean_us;
    double pred_straggler_p90_us;
    double layer_mean_us;        /* max over GPUs of layer_us, mean */
    double pred_layer_mean_us;   /* max over GPUs of predicted compute + dispatch +
                                    combine, mean (0 without dispatch predictions) */
    double layer_err;            /* (pred_layer_mean - layer_mean) / layer_mean */
    double pred_dispatch_mean_us;/* mean over GPUs and samples of the predicted dispatch */
    double dispatch_err;         /* (pred - measured) / measured, dispatch and combine
                                    means together */
    double dispatch_mean_us;     /* mean over GPUs and samples */
    double combine_mean_us;
    double wait_mean_us;
    int num_gpus;                /* entries of the per-GPU arrays below */
    double *gpu_compute_mean_us; /* [num_gpus] */
    double *gpu_pred_mean_us;    /* [num_gpus] */
    double *gpu_rows_mean;       /* [num_gpus] */
    double median_abs_err;       /* median over (iter, layer, gpu) of |pred-meas|/meas */
    double *gpu_mean_err;        /* [num_gpus] (mean pred - mean meas) / mean meas */
    double median_gpu_mean_abs_err; /* median over GPUs of |gpu_mean_err| */
    double straggler_err;        /* (pred mean - meas mean) / meas mean */
} moemap_exec_summary;

/* Fills *out (overwritten: clear a summary before summarising into it again); the
 * caller releases its arrays with moemap_exec_summary_clear, also after a failure. */
int moemap_exec_summarize(const moemap_exec_result *r, moemap_exec_summary *out,
                          moemap_error *err);
/* Releases a summary's arrays and zeroes it; NULL or a zeroed summary is a no-op. */
void moemap_exec_summary_clear(moemap_exec_summary *s);

/* A run file (moemap.run/v1, docs/formats.md): the measurements of several placements
 * run with the same parameters. The writer needs of each result its shape, device names,
 * compute_us, predicted_us and check; the reader fills those (and params' hidden,
 * intermediate, layers, iterations, tokens_per_iter). Host-only: works without CUDA. */
typedef struct moemap_exec_file {
    int num_placements;
    char **files;                   /* [num_placements] placement paths */
    moemap_exec_params params;
    moemap_exec_result **results;   /* [num_placements] */
    moemap_exec_summary *summaries; /* [num_placements] (cleared by moemap_exec_file_free) */
} moemap_exec_file;
int moemap_exec_write(const char *path, const moemap_exec_file *f, moemap_error *err);
int moemap_exec_read(const char *path, moemap_exec_file **out, moemap_error *err);
void moemap_exec_file_free(moemap_exec_file *f);

/* 1 in the process that should print results: always on one host; MPI rank 0 under
 * mpirun. */
int moemap_exec_is_root(void);
/* Ends MPI when the executor started it (no-op otherwise). Call once before exiting. */
void moemap_exec_shutdown(void);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
