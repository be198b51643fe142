/*
 * moemap/gpu_profile.h — measuring each GPU's expert cost curve f_g(n): the real bf16
 * expert FFN (gate/up GEMM, SiLU·up, down GEMM through cuBLASLt) timed with CUDA events at
 * token counts that include the GEMM tile boundaries, optionally inside a green context of
 * N SMs (an emulated slower GPU). The result becomes a moemap.cluster/v1 profile with each
 * GPU's own curve, run-to-run cv, SM limit and the provenance of the measurement.
 *
 * How a point is measured: every algorithm candidate cuBLASLt offers for the shape is
 * timed and the fastest kept; then the `repeats` timed runs are taken in `rounds` passes
 * over the whole grid (so that every point sees the same mix of the GPU's clock and
 * temperature states), each block behind `warmup` runs and a short device-side delay (so
 * the GPU runs the block back to back, as a CUDA graph would, instead of waiting on the
 * CPU's launches), each run between its own pair of events, rotating over enough weight
 * sets (and inputs) that the L2 cache cannot hold them; the curve is fitted from all
 * repeats (median, then monotone; moemap_curve_fit).
 *
 * Without CUDA, moemap_profile_run and moemap_profile_to_cluster return MOEMAP_ENOTSUP
 * with "built without CUDA". In a CUDA build the measuring code lives in the GPU module
 * libmoemap_gpu.so, opened on the first moemap_profile_run (see src/gpu/gpu_module.h);
 * when it or a GPU library it needs cannot be loaded, the call returns MOEMAP_ENOTSUP
 * naming the missing file.
 */
#ifndef MOEMAP_GPU_PROFILE_H
#define MOEMAP_GPU_PROFILE_H

#include "moemap/base.h"
#include "moemap/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_profile_params {
    int hidden;                 /* expert shape (required, multiples of 8) */
    int intermediate;
    const char *dtype;          /* only "bf16"; NULL = "bf16" */
    const int *gpus;            /* CUDA device ordinals to profile; NULL = every visible */
    int num_gpus;
    const int *sm_limit_gpu;    /* GPU sm_limit_gpu[i] runs inside a green context of */
    const int *sm_limit_sms;    /* sm_limit_sms[i] SMs (rounded to what the driver allows) */
    int num_sm_limits;
    const int *tokens;          /* token grid; NULL = moemap_profile_default_grid */
    int num_tokens;
    int max_tokens;             /* default grid up to this (default 16384) */
    int repeats;                /* timed runs per point (default 200) */
    int rounds;                 /* passes over the grid the repeats are spread over
                                   (default 20, at most `repeats`; see above) */
    int warmup;                 /* untimed runs before each block of timed runs (default 2) */
    double settle_s;            /* before the timed rounds, run the largest size for this
                                   long so clocks and temperature settle (default 3; a cold
                                   GPU otherwise measures faster than a warm one) */
    const int *group_tokens;    /* the grouped layer: tokens of each expert; NULL = the */
    int num_group;              /* default skewed layer; num_group < 0 = no grouped run */
    uint64_t seed;              /* random weights and inputs */
    /* Progress (may be NULL): called from the calling thread between measurements, with
     * `what` naming the GPU and phase ("GPU 0 NVIDIA H200"). */
    moemap_progress_fn progress;
    void *progress_ctx;
} moemap_profile_params;

/* The defaults above (hidden/intermediate 0: the caller must set them). */
moemap_profile_params moemap_profile_default_params(void);

/* The default grid up to max_tokens: powers of two and the steps between them that
 * cuBLAS tiles change at (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256,
 * 320, 384, ..., 16384), plus max_tokens itself. Writes at most cap values to out and
 * returns how many the grid has. */
int moemap_profile_default_grid(int max_tokens, int *out, int cap);

/* One grid point of one GPU. */
typedef struct moemap_profile_point {
    int tokens;
    double median_us, min_us, max_us;
    double cv;                  /* std / mean of the repeats */
    int candidates;             /* cuBLASLt algorithms timed for this shape */
    int rank_gate_up, rank_down;/* heuristic rank of the algorithms kept (0 = first pick) */
} moemap_profile_point;

typedef struct moemap_profile_gpu {
    int device;                 /* CUDA ordinal on its host */
    char name[64];              /* "NVIDIA H200" */
    char pci_bus_id[32];
    char host[64];              /* host name (node ids come from it) */
    int node;                   /* node index in the result */
    int sm_total;               /* SMs of the device */
    int sm_limit;               /* SMs granted by the green context; 0 = whole GPU */
    int sm_requested;           /* --sm-limit value asked for; 0 = none */
    int weight_sets;            /* weight sets rotated (their total exceeds 4x L2) */
    double l2_mb;
    int num_points;
    moemap_profile_point *points;
    int num_samples;            /* every timed run: samples_tokens[i] tokens took */
    double *samples_tokens;     /* samples_us[i] microseconds */
    double *samples_us;
    moemap_curve curve;         /* fitted from the samples; curve.cv = robust jitter */
    moemap_curve_fit_report fit;
    double copy_GBps;           /* device-to-device copy, bytes read + written per s */
    double weight_bytes;        /* one expert's weights */
    double floor_us;            /* weight_bytes / copy_GBps: no expert runs faster */
    int num_group;              /* the grouped layer (0 = not run) */
    int *group_tokens;
    double group_measured_us;   /* median time of the whole group on one stream */
    double group_predicted_us;  /* sum of curve(tokens) over its experts */
    double group_cv;
    int nvml_samples;           /* 0 = NVML gave no readings */
    double sm_clock_mhz_mean, sm_clock_mhz_min, sm_clock_mhz_max;
    double power_w_mean, power_w_max, power_limit_w;
    double temp_c_mean, temp_c_max;
    double seconds;             /* wall time spent on this GPU */
} moemap_profile_gpu;

typedef struct moemap_profile_result {
    int hidden, intermediate;
    char dtype[16];
    int repeats, rounds, warmup;
    double settle_s;            /* seconds of settling load before timing */
    int num_gpus;
    moemap_profile_gpu *gpus;
    char date[32];              /* UTC, ISO 8601, when the run started */
    char cuda_version[64];      /* "runtime 13.0, driver 13.0" */
    double seconds;             /* wall time of the whole run */
} moemap_profile_result;

/* Profiles the GPUs. Bad parameters (shape, unknown GPU, SM limit out of range, grid not
 * increasing or above max_tokens) give MOEMAP_EINVAL with a message naming them; CUDA
 * failures MOEMAP_EGPU naming the call. When built with MPI and MPI is initialised, each
 * rank profiles its own GPUs (ranks sharing a host split the host's GPUs) and rank 0
 * receives every rank's results with node ids from the host names; other ranks receive
 * only their own. */
int moemap_profile_run(const moemap_profile_params *p, moemap_profile_result **out,
                       moemap_error *err);
void moemap_profile_result_free(moemap_profile_result *r);

/* Under an MPI launcher (mpirun sets OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK) in a
 * build with MPI, initialises MPI for moemap_profile_run; returns this process's rank, 0
 * when not launched by MPI or built without it. MPI lives in the GPU module, so a program
 * calls this instead of MPI_Init. moemap_profile_mpi_finalize ends what it started. */
int moemap_profile_mpi_init(int *argc, char ***argv);
void moemap_profile_mpi_finalize(void);

/* Builds the moemap.cluster/v1 cluster of a profile (finalized): each GPU with its own
 * curve, cv, name, node and sm_limit; the first full-GPU curve as base_curve; a "source"
 * object with `command`, the machine, the date, the CUDA version and per-GPU details
 * (points, NVML readings, grouped layer, floor). Write it with moemap_cluster_write. */
int moemap_profile_to_cluster(const moemap_profile_result *r, const char *command,
                              moemap_cluster **out, moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
