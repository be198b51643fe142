/*
 * moemap/workload.h — MoE workloads: per-batch expert token counts (loads) and per-token
 * routing traces, their importers, the generator and statistics.
 *
 * The central type is moemap_loads: for every batch (an engine iteration, or a group of
 * consecutive tokens of a trace) and every MoE layer, the number of tokens each routed
 * expert received. moemap_routing keeps the per-token choices when the input has them
 * (ESFT traces), for the GPU executor which needs token-level routing.
 */
#ifndef MOEMAP_WORKLOAD_H
#define MOEMAP_WORKLOAD_H

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_loads {
    int experts;          /* routed experts per MoE layer */
    int top_k;            /* experts per token (0 when unknown) */
    int num_layers;       /* MoE layers present */
    int *layer_ids;       /* [num_layers] model layer index of each entry */
    int num_batches;
    double *batch_tokens; /* [num_batches] tokens in each batch */
    double *counts;       /* [num_batches * num_layers * experts], see MOEMAP_LOADS_AT */
} moemap_loads;

/* The largest token count (of one expert in one batch) and batch size any reader
 * accepts: 10^15 tokens, far above any real dump, and small enough that sums over
 * experts, layers and batches and the cost model stay finite and exact to the token. */
#define MOEMAP_MAX_COUNT 1e15

/* Token count of expert e in MoE-layer entry l of batch b. */
#define MOEMAP_LOADS_AT(ld, b, l, e) \
    ((ld)->counts[((size_t)(b) * (size_t)(ld)->num_layers + (size_t)(l)) * (size_t)(ld)->experts + (size_t)(e)])

/* Allocates zeroed loads of the given shape; layer_ids are set to 0..num_layers-1. */
int moemap_loads_create(int experts, int top_k, int num_layers, int num_batches,
                        moemap_loads **out, moemap_error *err);
void moemap_loads_free(moemap_loads *ld);
/* Deep copy. */
int moemap_loads_clone(const moemap_loads *ld, moemap_loads **out, moemap_error *err);
/* Sum over batches of one layer entry's counts into out[experts]. */
void moemap_loads_layer_total(const moemap_loads *ld, int l, double *out);
/* Index of the entry for model layer `layer_id`, or -1. */
int moemap_loads_find_layer(const moemap_loads *ld, int layer_id);

/* Per-token routing (ESFT-style traces). Token t of layer entry l chose experts
 * ids[(l * num_tokens + t) * top_k + j] with gate weights at the same index. Tokens
 * line up across layers; seq_start marks where each sequence begins. */
typedef struct moemap_routing {
    int experts;
    int top_k;
    int num_layers;
    int *layer_ids;      /* [num_layers] model layer index */
    long num_tokens;
    int16_t *ids;        /* [num_layers * num_tokens * top_k] */
    float *weights;      /* [num_layers * num_tokens * top_k] */
    long num_sequences;
    long *seq_start;     /* [num_sequences + 1], last = num_tokens */
} moemap_routing;
void moemap_routing_free(moemap_routing *rt);

/* Input formats for moemap_workload_read. */
typedef enum {
    MOEMAP_FORMAT_AUTO = 0,  /* detect by content */
    MOEMAP_FORMAT_ESFT,      /* folder of expert_weights_<layer>.txt per-token traces */
    MOEMAP_FORMAT_SGLANG,    /* {"logical_count": [[...]]} or [steps][layers][experts] */
    MOEMAP_FORMAT_LOADS,     /* moemap.loads/v1 */
    MOEMAP_FORMAT_CSV        /* one row per layer, one column per expert */
} moemap_workload_format;

typedef struct moemap_read_params {
    moemap_workload_format format; /* MOEMAP_FORMAT_AUTO by default */
    long batch_tokens;             /* tokens per batch for per-token traces; default 512 */
    int experts;                   /* expected experts (0: infer; ESFT traces: 64) */
    int top_k;                     /* experts per token of a trace (0: ESFT's 6) */
} moemap_read_params;
moemap_read_params moemap_read_default_params(void);

/* Reads any workload input into loads. For per-token inputs, *routing_out (if non-NULL)
 * also receives the per-token routing; it is set to NULL for aggregate inputs. */
int moemap_workload_read(const char *path, const moemap_read_params *params,
                         moemap_loads **loads_out, moemap_routing **routing_out,
                         moemap_error *err);
/* Name of a format ("esft", "sglang", "loads", "csv"); parse a name (-1 if unknown). */
const char *moemap_workload_format_name(moemap_workload_format f);
int moemap_workload_format_parse(const char *name);

/* moemap.loads/v1 writer. */
int moemap_loads_write(const moemap_loads *ld, const char *path, moemap_error *err);

/* Parses one input held in memory (fuzz targets and tests need no file system). `name`
 * stands for the file name in messages. With MOEMAP_FORMAT_AUTO the content decides:
 * JSON by its keys, an ESFT layer file by a tab-tab on its first line, else CSV. For ESFT
 * the buffer is one layer file (its layer id is read from a name like
 * "expert_weights_7.txt", else 0) and the result has one layer entry. */
int moemap_workload_parse_buffer(const char *buf, size_t len, const char *name,
                                 const moemap_read_params *params, moemap_loads **loads_out,
                                 moemap_error *err);

/* ---- the operating point ------------------------------------------------------------ */

/* The operating point is the number of tokens per engine iteration: decode iterations
 * (a few thousand tokens over all GPUs) put experts on the flat floor of the cost curve,
 * prefill iterations (tens of thousands) on its slope. An aggregate input (one batch:
 * an SGLang logical_count dump, a one-row-per-layer CSV, a loads file with one batch)
 * says nothing about it, so it is given: see moemap_loads_at_operating_point. */
typedef struct moemap_operating_point {
    double batch_tokens;   /* tokens per engine iteration (> 0) */
    int top_k;             /* experts per token; 0: the loads' own top_k (must be known) */
    int samples;           /* sampled iterations besides the expected one (default 32) */
    uint64_t seed;         /* sampling seed (default 1) */
} moemap_operating_point;
moemap_operating_point moemap_operating_point_default(void);

/* Default tokens per iteration when none is given: a decode-sized iteration, 128
 * running requests per EP rank (4,096 tokens on 32 GPUs), so 128 * num_gpus. */
double moemap_operating_point_default_tokens(int num_gpus);

/* 1 when the loads are an aggregate (one batch): per-iteration counts must then be
 * derived at an operating point before a placement can be judged by batches. */
int moemap_loads_is_aggregate(const moemap_loads *ld);

/* Per-iteration loads at op->batch_tokens tokens from `in`:
 *  - an aggregate (one batch): batch 0 holds the expected counts N * k * p_e (p_e the
 *    expert's fraction of the layer's token-slots), batches 1..samples are iterations
 *    sampled around them (each token of the N picks expert e with probability k * p_e,
 *    independently per expert: binomial counts), so the tail is seen;
 *  - per-iteration loads (several batches): consecutive batches are merged until they
 *    hold at least N tokens, and each merged batch is scaled to exactly N tokens.
 * Fails when top-k is unknown for an aggregate (op->top_k 0 and in->top_k 0) with a
 * message naming --top-k and --model. Deterministic for op->seed. */
int moemap_loads_at_operating_point(const moemap_loads *in, const moemap_operating_point *op,
                                    moemap_loads **out, moemap_error *err);

/* A mix of operating points for an aggregate: iterations of tokens[i] tokens making up
 * weights[i] of the iterations (weights are normalised; an engine that runs decode and
 * prefill iterations side by side, say 4096 and 16384 tokens at 0.8 / 0.2). Each point
 * gets its expected iteration and round(weight * op->samples) sampled ones (at least
 * one); the result holds them point after point. Per-iteration inputs are refused (their
 * iterations have one size each already). n = 1 is moemap_loads_at_operating_point. */
int moemap_loads_at_operating_mix(const moemap_loads *in, const moemap_operating_point *op,
                                  const double *tokens, const double *weights, int n,
                                  moemap_loads **out, moemap_error *err);

/* ---- synthetic workloads (the generator) -------------------------------------------- */

/* Knobs of moemap_gen; see docs/workload.md for what each one does to the loads. */
typedef struct moemap_gen_params {
    int num_layers;        /* all model layers (dense ones get no entry) */
    int first_dense;       /* leading dense layers */
    int moe_every;         /* every moe_every-th layer after first_dense is MoE (1 = all) */
    int experts;           /* routed experts per MoE layer */
    int top_k;             /* experts per token */
    int batches;           /* batches (engine iterations) to generate */
    long batch_tokens;     /* tokens per batch */
    uint64_t seed;
    double zipf;           /* popularity exponent s: weight of rank r is 1/r^s */
    int consistent;        /* experts per layer active in almost every batch */
    double consistent_boost; /* popularity multiplier of consistent experts */
    int temporal_groups;   /* groups of temporal experts per layer */
    int temporal_size;     /* experts per temporal group */
    double burst_prob;     /* chance per batch that an idle group starts a burst */
    int burst_len;         /* mean burst length in batches (geometric) */
    double burst_boost;    /* popularity of a bursting expert, x the mean popularity */
    double noise;          /* batch-to-batch log-normal noise sigma on popularity */
    int drift_at;          /* batch at which the task switches (new permutation); -1 none */
} moemap_gen_params;
/* The defaults: a DeepSeek-V3 shape (61 layers, 3 dense, 256 experts, top-8), 256
 * batches of 4096 tokens, seed 1, zipf 0.5, 8 consistent experts, 4 temporal groups of 4,
 * burst_prob 0.08, burst_len 4, burst_boost 6, noise 0.25, no drift. */
moemap_gen_params moemap_gen_default_params(void);
/* Fills the shape fields (layers, dense layers, experts, top-k) from a model preset and
 * scales consistent / temporal_groups / temporal_size to its expert count (E/32
 * consistent, 4 groups of E/64, at least 1; one group below 16 experts). */
struct moemap_model;
void moemap_gen_params_from_model(moemap_gen_params *p, const struct moemap_model *m);
/* Generates loads; deterministic for params (including the seed). Every batch routes
 * exactly batch_tokens * top_k token-slots per MoE layer, at most batch_tokens per expert. */
int moemap_gen(const moemap_gen_params *params, moemap_loads **out, moemap_error *err);

/* ---- statistics ----------------------------------------------------------------------- */

/* An expert is *active* in a batch when it receives tokens, and *hot* when it receives
 * at least temporal_min_ratio x the batch's mean per-expert load. Consistent experts are
 * active in >= consistent_threshold of the batches; temporal experts are hot in at least
 * one batch but in at most temporal_max_active of them, and bursty: their mean load
 * (relative to the batch mean) when hot is >= temporal_min_contrast x that in the other
 * batches, so experts hovering at the threshold do not count. With hundreds of tokens per batch nearly every
 * expert receives some tokens, which is why temporal is judged on hot, not active. */
typedef struct moemap_stats_params {
    double consistent_threshold; /* fraction of batches active (default 0.8) */
    double temporal_max_active;  /* at most this fraction of batches hot (default 0.3) */
    double temporal_min_ratio;   /* hot: >= this x the batch's mean load (default 2) */
    double temporal_min_contrast; /* hot-batch load / other-batch load (default 1.5) */
    int max_pairs;               /* co-activated pairs kept per layer (default 5) */
    double cluster_min_corr;     /* correlation linking hot experts into clusters (0.5) */
} moemap_stats_params;
moemap_stats_params moemap_stats_default_params(void);

typedef struct moemap_coactive_pair {
    int a, b;      /* expert ids, a < b */
    double corr;   /* Pearson correlation of their per-batch counts */
} moemap_coactive_pair;

typedef struct moemap_layer_stats {
    int layer;               /* model layer id */
    double tokens;           /* tokens over all batches */
    double *load_share;      /* [experts] fraction of the layer's token-slots */
    double *active_frac;     /* [experts] fraction of batches in which it gets tokens */
    double *hot_frac;        /* [experts] fraction of batches in which it is hot */
    double max_over_mean;    /* busiest expert's total / mean total */
    double cv;               /* coefficient of variation of the totals */
    double gini;             /* Gini coefficient of the totals */
    int num_consistent;
    int *consistent;         /* expert ids, ascending */
    int num_temporal;
    int *temporal;           /* expert ids, ascending */
    int num_pairs;
    moemap_coactive_pair *pairs; /* by decreasing correlation */
    int num_clusters;
    int *cluster_start;      /* [num_clusters + 1] offsets into cluster_experts */
    int *cluster_experts;    /* experts of the clusters, each cluster ascending */
} moemap_layer_stats;

typedef struct moemap_workload_stats {
    int experts;
    int num_batches;
    int num_layers;
    moemap_layer_stats *layers; /* [num_layers], in the order of the loads' entries */
    int top_k;                  /* the loads' top-k (0 unknown) */
    double *cosine_distance;    /* [num_layers] against another workload (moemap stats
                                   --compare, moemap_loads_cosine_distance), or NULL;
                                   moemap_workload_stats_free frees it */
} moemap_workload_stats;

int moemap_workload_stats_compute(const moemap_loads *ld, const moemap_stats_params *params,
                                  moemap_workload_stats **out, moemap_error *err);
void moemap_workload_stats_free(moemap_workload_stats *st);
/* Fills st->cosine_distance: per layer of a (the workload st profiles), the cosine
 * distance of its expert loads to b's layer of the same id (moemap_loads_cosine_distance);
 * fails naming the layer b lacks. */
int moemap_workload_stats_compare(moemap_workload_stats *st, const moemap_loads *a,
                                  const moemap_loads *b, moemap_error *err);
/* Reads the workload at `input` and profiles it; with compare (may be NULL) also reads
 * that workload the same way and records the per-layer distance to it (the message names
 * it). *ld and *st are the caller's to free, also after a failure. */
int moemap_workload_stats_files(const char *input, const char *compare,
                                const moemap_read_params *rp, const moemap_stats_params *sp,
                                moemap_loads **ld, moemap_workload_stats **st,
                                moemap_error *err);
/* The stats file (moemap.stats/v1, docs/formats.md): st written to path ("-": standard
 * output), with the paths of the workload it profiles and of the one it is compared with
 * (either may be NULL). The reader fills what the file holds (no active_frac/hot_frac). */
int moemap_workload_stats_write(const char *path, const moemap_workload_stats *st,
                                const char *input, const char *compare, moemap_error *err);
int moemap_workload_stats_read(const char *path, moemap_workload_stats **out,
                               moemap_error *err);
int moemap_workload_stats_parse_buffer(const char *buf, size_t len, const char *name,
                                       moemap_workload_stats **out, moemap_error *err);

/* Cosine distance (1 - cosine similarity) between the total expert-load vectors of layer
 * entry la of a and the entry of b with the same model layer id. Returns 0 and sets *out,
 * or an error when b lacks the layer or the expert counts differ. */
int moemap_loads_cosine_distance(const moemap_loads *a, int la, const moemap_loads *b,
                                 double *out, moemap_error *err);
/* Same between two single batches' vectors of the same loads (drift within a trace). */
double moemap_loads_batch_cosine_distance(const moemap_loads *ld, int l, int b1, int b2);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
