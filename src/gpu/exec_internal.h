/*
 * exec_internal.h — what the executor's files share (internal to libmoemap): the host-side
 * dispatch plan of one rank for one iteration and layer, the mapping of placement layers
 * to routing layers, the deterministic value generator used for weights and hidden states
 * (the same function on the GPU and on the CPU, so the CPU reference needs no copies), and
 * the CPU reference of one expert.
 *
 * The plan is pure host code (exec_plan.c) and is built in every configuration so that
 * CI tests it without a GPU; the CUDA files only execute it.
 */
#ifndef MOEMAP_EXEC_INTERNAL_H
#define MOEMAP_EXEC_INTERNAL_H

#include <stdint.h>

#include "moemap/a2a.h"
#include "moemap/gpu_exec.h"

/* GPUs one executor run drives (one process's threads, or MPI ranks): the launcher keeps
 * its per-rank bookkeeping on the stack, sized by this; building the plan refuses more,
 * naming it. The public structs are sized by the run instead. */
#define EXEC_MAX_GPUS 64

#ifdef __CUDACC__
#define EXEC_HD __host__ __device__ __forceinline__
#else
#define EXEC_HD static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Which placement layer and routing entry each executed layer uses, and the experts each
 * GPU holds there (its "slots", in placement order). */
typedef struct exec_layer_map {
    int layers;             /* executed layers */
    int num_gpus;
    int experts;
    int top_k;
    int *place_layer;       /* [layers] index into placement->layers */
    int *route_layer;       /* [layers] index into routing layers */
    int *layer_id;          /* [layers] model layer index */
    int *num_slots;         /* [layers * num_gpus] replicas held */
    int *slot_expert;       /* [layers * num_gpus * max_slots] expert of each slot */
    int max_slots;
} exec_layer_map;

int exec_layer_map_build(const moemap_placement *p, const moemap_routing *rt, int layers,
                         exec_layer_map *out, moemap_error *err);
void exec_layer_map_clear(exec_layer_map *m);

/* One rank's plan for one iteration and layer. A row is one hidden state crossing the
 * link: per (token, choice) under MOEMAP_DISPATCH_TOKEN_EXPERT, per (token, destination
 * GPU) under MOEMAP_DISPATCH_TOKEN_GPU (a token whose choices meet on one GPU is sent
 * there once). A row is tagged with the (token, choice) id t * top_k + j of its first
 * choice on that GPU. Send side (rows of this rank's own tokens) ordered by (destination,
 * slot, token) — slot 0 for every row under TOKEN_GPU; receive side in the order they
 * arrive, by (source, slot, token); the expert-contiguous order the FFN runs in is (slot,
 * source, token, choice), one expert row per (token, choice) computed here, gathered from
 * its receive row (perm). Before combine, each receive row becomes the sum of its expert
 * rows times their weights (red_*): 1 under TOKEN_EXPERT, where the origin applies the
 * gate weights, the gate weights under TOKEN_GPU, where the origin sums its rows. */
typedef struct exec_rank_plan {
    int num_gpus, top_k;
    moemap_dispatch dispatch;
    long tok_begin, tok_count;  /* this rank's tokens within the iteration */
    long n_send, n_recv;        /* rows sent and received */
    long n_exp;                 /* expert rows computed here: (token, choice) pairs */
    long *send_counts;          /* [num_gpus] rows sent to each rank */
    long *recv_counts;          /* [num_gpus] rows received from each rank */
    int32_t *send_idx;          /* [n_send] local token of each send row */
    int32_t *send_tag;          /* [n_send] tag of each send row */
    int32_t *comb_pos;          /* [tok_count * top_k] send row summed for (token, choice),
                                   -1: none (a later choice on an already counted GPU) */
    float *comb_w;              /* [tok_count * top_k] its weight at the origin */
    int32_t *perm;              /* [n_exp] expert-contiguous row -> receive row */
    int32_t *recv_tag;          /* [n_exp] expected tag in expert-contiguous order */
    long *red_off;              /* [n_recv + 1] expert rows summed into receive row r:
                                   red_row[red_off[r] .. red_off[r + 1]) */
    int32_t *red_row;           /* [n_exp] expert-contiguous row */
    float *red_w;               /* [n_exp] its weight */
    int num_slots;
    long *slot_rows;            /* [num_slots] rows of each slot (expert-contiguous) */
} exec_rank_plan;

/* Builds rank `rank`'s plan for iteration `iter` and executed layer `l`: trace tokens
 * [iter*T, (iter+1)*T) modulo the trace length; token t's home rank is the one whose
 * block [r*T/G, (r+1)*T/G) holds it; expert e's c_e rows go to its replicas in placement
 * order, replica i taking the rows whose occurrence index q lies in
 * [round(c_e * S_{i-1}), round(c_e * S_i)) with S_i the running sum of shares. */
int exec_plan_build(const exec_layer_map *m, const moemap_placement *p,
                    const moemap_routing *rt, long tokens_per_iter, int iter, int l,
                    int rank, moemap_dispatch dispatch, exec_rank_plan *out,
                    moemap_error *err);
void exec_plan_clear(exec_rank_plan *pl);

/* Rows every GPU sends every GPU in one iteration and layer (dispatch; combine sends them
 * back): traffic[src * num_gpus + dst], the diagonal being rows that stay home. */
int exec_plan_traffic(const exec_layer_map *m, const moemap_placement *p,
                      const moemap_routing *rt, long tokens_per_iter, int iter, int l,
                      moemap_dispatch dispatch, double *traffic, moemap_error *err);

/* Rows of every slot of every GPU for one iteration and layer (all ranks at once, for
 * predictions): rows_out[g * max_slots + s]. */
int exec_plan_slot_rows(const exec_layer_map *m, const moemap_placement *p,
                        const moemap_routing *rt, long tokens_per_iter, int iter, int l,
                        long *rows_out, moemap_error *err);

/* The cost model's predictions for one placement's run, into r: each GPU's expert
 * compute (sum of f_g over its slots' exact rows) and its dispatch (moemap/a2a.h on the
 * exact rows it sends and receives, rows of P->hidden bf16 values), for every iteration
 * and executed layer (the first `layers` of the map). */
int exec_predict(const exec_layer_map *m, const moemap_placement *p, const moemap_routing *rt,
                 const moemap_exec_params *P, int layers, const moemap_cluster *c,
                 moemap_exec_result *r, moemap_error *err);

/* Result allocation (zeroed arrays of the right sizes). */
int exec_result_alloc(int num_gpus, int layers, int iterations, moemap_exec_result **out,
                      moemap_error *err);
/* The per-GPU device arrays of r (num_gpus set), zeroed: names and SM counts. */
int exec_result_devices_alloc(moemap_exec_result *r, moemap_error *err);
/* Zeroes *s and gives it zeroed per-GPU arrays for num_gpus GPUs. */
int exec_summary_alloc(moemap_exec_summary *s, int num_gpus, moemap_error *err);

/* --- deterministic values ---------------------------------------------------------------
 * value(seed, stream, index) in [-scale, scale): a 64-bit mix of the three, so any element
 * of any weight matrix or hidden state can be produced independently on GPU and CPU.
 * stream packs what the tensor is: kind (0 hidden, 1 gate/up, 2 down), layer, expert. */
EXEC_HD uint64_t exec_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
EXEC_HD uint64_t exec_stream_id(int kind, int layer, int expert)
{
    return ((uint64_t)(unsigned)kind << 48) ^ ((uint64_t)(unsigned)layer << 24) ^
           (uint64_t)(unsigned)expert;
}
EXEC_HD float exec_value(uint64_t seed, uint64_t stream, uint64_t index, float scale)
{
    uint64_t h = exec_mix64(seed * 0x9e3779b97f4a7c15ULL ^ exec_mix64(stream + 0x632be59bd9b4e019ULL) ^
                            (index * 0xd1b54a32d192ed03ULL));
    /* 24 random bits -> [-1, 1) */
    float u = (float)(h >> 40) * (1.0f / 8388608.0f) - 1.0f;
    return u * scale;
}
/* bf16 round-to-nearest-even of a float, as bits, and back (host and device agree). */
EXEC_HD uint16_t exec_f2bf(float f)
{
    union { float f; uint32_t u; } v;
    v.f = f;
    uint32_t lsb = (v.u >> 16) & 1u;
    v.u += 0x7fffu + lsb;
    return (uint16_t)(v.u >> 16);
}
EXEC_HD float exec_bf2f(uint16_t b)
{
    union { float f; uint32_t u; } v;
    v.u = (uint32_t)b << 16;
    return v.f;
}

enum { EXEC_KIND_HIDDEN = 0, EXEC_KIND_GATEUP = 1, EXEC_KIND_DOWN = 2 };

/* Scales that keep activations O(1): weights uniform in +-1/sqrt(fan_in). */
float exec_weight_scale(int fan_in);

/* CPU float64 reference of one expert for one token: x[hidden] (bf16 values as float)
 * -> y[hidden]; weights generated on the fly (gate/up [2I x H] row-major, down [H x I]).
 * h[intermediate] is scratch. The intermediate is rounded to bf16 as the GPU stores it. */
void exec_ref_expert(uint64_t seed, int layer_id, int expert, int hidden, int inter,
                     const float *x, double *y, double *h_scratch, const float *wgu,
                     const float *wd);
/* Materialises one expert's weights as floats (bf16-rounded): wgu[2I*H], wd[H*I]. */
void exec_ref_weights(uint64_t seed, int layer_id, int expert, int hidden, int inter,
                      float *wgu, float *wd);

#ifdef __cplusplus
}
#endif
#endif
