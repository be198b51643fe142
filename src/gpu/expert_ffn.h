/*
 * expert_ffn.h — one routed MoE expert's feed-forward network in bf16 on a CUDA stream,
 * the unit of work whose cost moemap models:
 *
 *     h = x · W13ᵀ          (gate and up projections as one GEMM, W13 = [W1; W3])
 *     a = SiLU(h_gate) ⊙ h_up
 *     y = a · W2ᵀ           (down projection)
 *
 * Layouts (row-major, as PyTorch stores nn.Linear weights): x [tokens, hidden],
 * w13 [2·intermediate, hidden] (the gate rows first, then the up rows),
 * w2 [hidden, intermediate], y [tokens, hidden]; all bf16, device pointers aligned to
 * 256 bytes (cudaMalloc gives that), fp32 accumulation.
 *
 * GEMMs go through cuBLASLt. Its heuristic's first pick is not always fast (on an H200 a
 * single cuBLAS pick for the skinny shapes ran 3x above the weight-read floor), so for
 * every token count the two GEMMs' algorithms are chosen by timing the heuristic's
 * candidates (and, up to 512 tokens, split-K variants of its best four, which let skinny
 * GEMMs use every SM to read weights) on rotating weight sets and keeping the fastest
 * (mm_expert_ffn_tune).
 * Untuned token counts are tuned on first use unless autotuning is switched off, in
 * which case the heuristic's first pick is used.
 *
 * An object serves one stream (create it with the thread's current context being the one
 * the stream belongs to, e.g. a green context) and is not thread-safe.
 */
#ifndef MOEMAP_GPU_EXPERT_FFN_H
#define MOEMAP_GPU_EXPERT_FFN_H

#include <cuda_runtime.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_expert_ffn mm_expert_ffn;

/* Creates the runner for one expert shape and up to max_tokens tokens per expert; it owns
 * the intermediate buffer (max_tokens x 2·intermediate bf16) and a cuBLASLt workspace.
 * intermediate must be a multiple of 8 and hidden a multiple of 8 (16-byte rows). */
int mm_expert_ffn_create(int hidden, int intermediate, int max_tokens, cudaStream_t stream,
                         mm_expert_ffn **out, moemap_error *err);
void mm_expert_ffn_free(mm_expert_ffn *f);

/* Autotuning of untuned token counts on first use (default on). Tuning synchronises the
 * stream and runs the GEMMs many times on the buffers given, so callers that time runs
 * should tune their sizes first. */
void mm_expert_ffn_set_autotune(mm_expert_ffn *f, int on);

/* Picks the algorithms for `tokens` tokens by timing the candidates; each candidate runs
 * over the nsets weight sets (w13[i], w2[i]) in turn so that the timing is not flattered
 * by weights left in L2. x and y are scratch of at least tokens rows (contents
 * overwritten). Synchronises the stream. */
int mm_expert_ffn_tune(mm_expert_ffn *f, int tokens, int nsets, const void *const *w13,
                       const void *const *w2, const void *x, void *y, moemap_error *err);

/* Enqueues one expert on the stream (asynchronous). tokens = 0 does nothing. */
int mm_expert_ffn_run(mm_expert_ffn *f, int tokens, const void *x, const void *w13,
                      const void *w2, void *y, moemap_error *err);

/* Enqueues n experts in a row on the stream, the way a serving engine runs a layer's
 * experts on one GPU: expert e has tokens[e] tokens (0 = skipped), input x[e], weights
 * w13[e], w2[e] and output y[e]. */
int mm_expert_ffn_run_grouped(mm_expert_ffn *f, int n, const int *tokens,
                              const void *const *x, const void *const *w13,
                              const void *const *w2, void *const *y, moemap_error *err);

/* For reports: how many candidates were timed for `tokens` (0 when untuned) and the index
 * in the candidate list of the algorithm kept for each GEMM: 0 = the heuristic's first
 * pick; indices past the heuristic's own candidates are split-K variants. */
int mm_expert_ffn_tuned_info(const mm_expert_ffn *f, int tokens, int *candidates,
                             int *rank_gate_up, int *rank_down);

/* Fills n bf16 values at p with deterministic pseudo-random numbers uniform in
 * [-scale, scale] (never all zeros: zeros hide unwritten outputs and run faster). */
int mm_fill_bf16_random(void *p, size_t n, float scale, uint64_t seed, cudaStream_t stream,
                        moemap_error *err);

#ifdef __cplusplus
}
#endif
#endif
