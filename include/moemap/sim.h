/*
 * moemap/sim.h — discrete-event simulator of an expert-parallel MoE serving engine
 * (TTFT, TPOT, SLO attainment). Owned by the simulator (issue 5).
 *
 * Requests arrive from a real trace (Azure LLM 2023, Mooncake) or a generator; a
 * continuous-batching scheduler with a per-iteration token budget and chunked prefill
 * forms each engine iteration; an iteration's time is the sum over layers, in lock step,
 * of attention/dense work (roofline per GPU), dispatch/combine all-to-all and the MoE part
 * (slowest GPU under the cluster's cost model, for expert counts sampled from a real
 * workload). Events (routing drift, GPU slowdown, GPU loss) and recalibration policies run
 * inside the simulation. Deterministic for a seed. See docs/simulate.md.
 */
#ifndef MOEMAP_SIM_H
#define MOEMAP_SIM_H

#include "moemap/a2a.h"
#include "moemap/cluster.h"
#include "moemap/model.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* ---- arrivals ------------------------------------------------------------------------ */

typedef struct moemap_request {
    double arrival_s;   /* seconds from the start of the trace */
    int prompt_tokens;  /* >= 1 */
    int output_tokens;  /* >= 1 (the first one comes out of the prefill iteration) */
} moemap_request;

typedef struct moemap_arrivals {
    long n;
    moemap_request *reqs; /* sorted by arrival_s, first at >= 0 */
} moemap_arrivals;

void moemap_arrivals_free(moemap_arrivals *a);
/* Reads an arrival trace, detecting the format by content: Azure LLM inference CSV
 * (TIMESTAMP,ContextTokens,GeneratedTokens; wall-clock timestamps, the first subtracted)
 * or Mooncake JSONL ({"timestamp": ms, "input_length": n, "output_length": n} per line).
 * Messages name the file and line. */
int moemap_arrivals_read(const char *path, moemap_arrivals **out, moemap_error *err);
/* The file of a named arrival trace (azure-conv, azure-code, mooncake-conv,
 * mooncake-synth) under the data folder: $MOEMAP_DATA, ../shared/data from the working
 * directory, or ../../shared/data from the running program (build/moemap in a checkout).
 * A name that is no known trace is copied as is (a file path). Fails, naming where it
 * looked, when a known name is in none of those folders. */
int moemap_arrivals_find(const char *name, char *path, size_t size, moemap_error *err);
/* The same from memory; `name` stands for the file name in messages. */
int moemap_arrivals_parse_azure(const char *buf, size_t len, const char *name,
                                moemap_arrivals **out, moemap_error *err);
int moemap_arrivals_parse_mooncake(const char *buf, size_t len, const char *name,
                                   moemap_arrivals **out, moemap_error *err);

typedef enum {
    MOEMAP_ARRIVALS_POISSON = 0, /* exponential inter-arrival times */
    MOEMAP_ARRIVALS_BURSTY       /* hyper-exponential inter-arrivals, CV 3 (bursts) */
} moemap_arrival_process;

/* Generates arrivals at `rate` requests/s for duration_s seconds. Prompt/output lengths
 * are drawn from `lengths` (a real trace's requests, resampled) when non-NULL, else
 * fixed at prompt_tokens/output_tokens. Deterministic for a seed. */
int moemap_arrivals_generate(moemap_arrival_process proc, double rate, double duration_s,
                             const moemap_arrivals *lengths, int prompt_tokens,
                             int output_tokens, uint64_t seed, moemap_arrivals **out,
                             moemap_error *err);
/* The requests of the first duration_s seconds (<= 0: all) after compressing time by
 * rate_scale (2 = twice the arrival rate). */
int moemap_arrivals_window(const moemap_arrivals *a, double duration_s, double rate_scale,
                           moemap_arrivals **out, moemap_error *err);

/* ---- events -------------------------------------------------------------------------- */

typedef enum {
    MOEMAP_EVENT_SWITCH = 0, /* routing drift: expert counts come from another workload */
    MOEMAP_EVENT_SLOW,       /* a GPU's speed becomes `factor` x its profiled speed
                                (1 = recovered) */
    MOEMAP_EVENT_LOST        /* a GPU fails: its replicas are lost */
} moemap_event_kind;

typedef struct moemap_sim_event {
    moemap_event_kind kind;
    double time_s;
    int gpu;                   /* SLOW, LOST */
    double factor;             /* SLOW: relative speed, in (0, 10] */
    const moemap_loads *loads; /* SWITCH: the new workload (borrowed, not freed) */
    char spec[128];            /* the text it was parsed from, for markers */
} moemap_sim_event;

/* Parses "switch@300=PATH", "slow@600=GPU:0.7", "recover@700=GPU" (= slow to 1) or
 * "lost@900=GPU". For a switch, *path_out receives a pointer into spec (the caller reads
 * the loads and sets ev->loads); NULL otherwise. */
int moemap_sim_event_parse(const char *spec, moemap_sim_event *ev, const char **path_out,
                           moemap_error *err);

/* ---- recalibration policies ---------------------------------------------------------- */

typedef enum {
    MOEMAP_RECAL_NONE = 0,
    MOEMAP_RECAL_PERIODIC, /* every N iterations re-place from scratch on recent loads
                              (vLLM/SGLang EPLB) */
    MOEMAP_RECAL_DRIFT,    /* ViBE: on load drift or measured/predicted time drift past a
                              threshold, a few incremental swaps */
    MOEMAP_RECAL_MOEMAP    /* migration-aware re-placement, applied only when the predicted
                              saving over the coming window exceeds the migration cost */
} moemap_recal_policy;

const char *moemap_recal_policy_name(moemap_recal_policy p);
int moemap_recal_policy_parse(const char *name); /* -1 when unknown */

/* ---- parameters and results ---------------------------------------------------------- */

typedef struct moemap_sim_params {
    int max_batch_tokens;    /* token budget of one iteration (default 8192) */
    int max_running;         /* concurrent requests in the engine (default 256) */
    double slo_ttft_s;       /* SLO targets (default 2 s and 0.1 s) */
    double slo_tpot_s;
    uint64_t seed;           /* default 1 */
    double horizon_s;        /* stop simulating after this time (0: run until drained) */
    /* Roofline rates of a speed-1 GPU (defaults: H200 bf16 dense ~790 TFLOP/s, HBM
     * ~4300 GB/s as measured on this project's H200s) and a fixed per-layer overhead. */
    double peak_tflops;
    double mem_GBps;
    double layer_overhead_us; /* kernel launches etc. per layer (default 20) */
    double jitter_scale;      /* multiplies each GPU's curve cv (default 1; 0 = none) */
    /* Recalibration. */
    moemap_recal_policy policy;
    const char *strategy;     /* strategy the periodic policy re-runs (default "eplb") */
    int recal_interval;       /* iterations between checks / periodic runs (default 2000) */
    int recal_window;         /* iterations of recorded loads used (default 500) */
    double drift_threshold;   /* cosine distance or relative time error (default 0.05) */
    int drift_swaps;          /* drift policy: swaps per layer (default 2) */
    int moemap_max_moves;     /* moemap policy: replica additions per layer (default 4) */
    double link_GBps;         /* weight-migration bandwidth (0: the cluster's inter-node) */
    moemap_a2a_params a2a;    /* dispatch and combine of every MoE layer (moemap/a2a.h;
                                 default: one row per (token, GPU), bf16; off: none) */
    /* Events (sorted by the simulator; borrowed). */
    const moemap_sim_event *events;
    int num_events;
    double timeseries_dt;     /* seconds per time-series bucket (default 1) */
    /* Progress (optional): called from the calling thread about every 1% of the
     * arrivals ("arrivals"). */
    moemap_progress_fn progress;
    void *progress_ctx;
} moemap_sim_params;

moemap_sim_params moemap_sim_default_params(void);

/* p50, p90, p99 and mean of a latency, in seconds. */
typedef struct moemap_latency {
    double p50, p90, p99, mean;
} moemap_latency;

typedef struct moemap_sim_marker {
    double time_s;
    char label[160];
} moemap_sim_marker;

typedef struct moemap_sim_result {
    long requests;             /* arrived */
    long completed;
    long iterations;
    double sim_time_s;         /* simulated wall-clock time */
    moemap_latency ttft, tpot, e2e;
    double slo_attainment;     /* share of arrived requests meeting both targets */
    double ttft_attainment, tpot_attainment;
    double goodput_rps;        /* requests meeting both targets per second */
    double throughput_rps;     /* completed requests per second */
    double throughput_tps;     /* output tokens per second */
    double mean_iteration_ms;
    double mean_iteration_tokens; /* tokens per iteration: the engine's operating point,
                                     the batch size placements should be profiled at */
    double moe_share;          /* fraction of busy time in the MoE part */
    int num_gpus;
    double *gpu_idle_s;        /* [num_gpus] time spent waiting at layer barriers */
    double migration_bytes;
    double migration_stall_s;
    long replicas_moved;
    int recalibrations;
    /* Time series, one entry per timeseries_dt bucket that had work, plus the empty
     * buckets of idle stretches up to MOEMAP_SIM_TS_MAX_GAP long; longer idle stretches
     * are skipped (ts_time_s jumps), so its length follows the work, not the time span.
     * At most MOEMAP_SIM_TS_MAX_POINTS entries (a marker says when it was cut). */
    int ts_n;
    double *ts_time_s;         /* bucket start */
    double *ts_p90_ttft_s;     /* p90 TTFT of requests whose first token came in it (NAN) */
    double *ts_straggler_ms;   /* barrier wait summed over the bucket's iterations: MoE
                                  straggler time minus the mean GPU's time */
    double *ts_tokens_per_s;   /* output tokens produced */
    int num_markers;
    moemap_sim_marker *markers; /* events and recalibrations, in time order */
    /* Capacity (moemap_sim_capacity; capacity_n = 0 when not measured). */
    double capacity_rps;       /* highest swept rate with slo_attainment >= the target at
                                  it and every lower rate; 0 when even the lowest misses */
    double capacity_target;    /* the attainment required (0.9 by default) */
    int capacity_n;            /* rates simulated (the sweep stops at the first miss) */
    double *capacity_rate;     /* [capacity_n] req/s */
    double *capacity_slo;      /* [capacity_n] SLO attainment at each */
} moemap_sim_result;

#define MOEMAP_SIM_TS_MAX_GAP 60
#define MOEMAP_SIM_TS_MAX_POINTS 1000000

void moemap_sim_result_free(moemap_sim_result *r);

/* Simulates serving `arrivals` on `cluster` with `placement`, expert counts sampled from
 * `loads` (its experts and layer ids must match the placement's). Fills *out (free with
 * moemap_sim_result_free). */
int moemap_simulate(const moemap_model *model, const moemap_cluster *cluster,
                    const moemap_placement *placement, const moemap_loads *loads,
                    const moemap_arrivals *arrivals, const moemap_sim_params *params,
                    moemap_sim_result **out, moemap_error *err);

/* How much load a placement sustains: Poisson (or bursty) arrivals at each rate of an
 * ascending list, request lengths resampled from `lengths` (NULL: prompt/output fixed
 * by the arrivals generator), each simulated for duration_s seconds with the same seed
 * for every placement; the capacity is the highest rate whose SLO attainment (share of
 * arrived requests meeting both targets) is at least `target` there and at every lower
 * rate. The sweep stops at the first rate below the target. */
typedef struct moemap_capacity_params {
    const double *rates;       /* req/s, ascending */
    int num_rates;
    double duration_s;         /* arrivals per rate (default 60 s) */
    double target;             /* default 0.9 */
    moemap_arrival_process process; /* default Poisson */
    const moemap_arrivals *lengths; /* lengths to resample (NULL: generator's defaults) */
} moemap_capacity_params;
moemap_capacity_params moemap_capacity_default_params(void);

/* Runs the sweep and records it in `into` (capacity_* fields; `into` is a result of the
 * same placement, e.g. from moemap_simulate). sp as for moemap_simulate (its seed seeds
 * the arrivals too; its progress callback is not called). */
int moemap_sim_capacity(const moemap_model *model, const moemap_cluster *cluster,
                        const moemap_placement *placement, const moemap_loads *loads,
                        const moemap_capacity_params *cp, const moemap_sim_params *sp,
                        moemap_sim_result *into, moemap_error *err);

/* The result as a JSON text (keys documented in docs/simulate.md; malloc'ed, caller
 * frees with moemap_free). `label` names the run ("eplb", "moemap/drift"). */
char *moemap_sim_result_json(const moemap_sim_result *r, const char *label, int timeseries);

/* A simulate file (moemap.simulate/v1, docs/formats.md): one or more runs, each with its
 * label. Always {"format": ..., "runs": [...]}. */
typedef struct moemap_sim_file {
    int num_runs;
    char **labels;              /* [num_runs] */
    moemap_sim_result **runs;   /* [num_runs] */
} moemap_sim_file;
/* Writes f to path ("-": standard output); timeseries adds each run's time series. */
int moemap_sim_write(const char *path, const moemap_sim_file *f, int timeseries,
                     moemap_error *err);
/* Reads a simulate file ("-": standard input). A metric a run lacks is NAN (counts 0);
 * a metric of the wrong type is an error naming the file and the JSON path. */
int moemap_sim_read(const char *path, moemap_sim_file **out, moemap_error *err);
int moemap_sim_parse_buffer(const char *buf, size_t len, const char *name,
                            moemap_sim_file **out, moemap_error *err);
void moemap_sim_file_free(moemap_sim_file *f);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
