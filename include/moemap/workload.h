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

typedef struct moemap_loads {
    int experts;          /* routed experts per MoE layer */
    int top_k;            /* experts per token (0 when unknown) */
    int num_layers;       /* MoE layers present */
    int *layer_ids;       /* [num_layers] model layer index of each entry */
    int num_batches;
    double *batch_tokens; /* [num_batches] tokens in each batch */
    double *counts;       /* [num_batches * num_layers * experts], see MOEMAP_LOADS_AT */
} moemap_loads;

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
    int experts;                   /* expected experts (0: infer) */
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

#ifdef __cplusplus
}
#endif
#endif
