/*
 * exec_kernels.h — launchers of the executor's data-movement kernels (exec_kernels.cu).
 * All are asynchronous on stream s and check the launch; n <= 0 does nothing. Row
 * buffers are bf16 [rows, hidden], hidden a multiple of 8, 16-byte aligned.
 */
#ifndef MOEMAP_EXEC_KERNELS_H
#define MOEMAP_EXEC_KERNELS_H

#include <stdint.h>

#include <cuda_runtime.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dst[didx ? didx[i] : i] = src[sidx ? sidx[i] : i] for i < n (whole rows). */
int exec_copy_rows(void *dst, const int32_t *didx, const void *src, const int32_t *sidx,
                   long n, int hidden, cudaStream_t s, moemap_error *err);
/* The same for one int32 per row (tags). */
int exec_copy_tags(int32_t *dst, const int32_t *didx, const int32_t *src, const int32_t *sidx,
                   long n, cudaStream_t s, moemap_error *err);
/* out[t] (float [tokens, hidden]) = sum_j w[t*k+j] * ret[pos[t*k+j]] (bf16 rows), the
 * entries with pos < 0 skipped. */
int exec_combine(float *out, const void *ret, const int32_t *pos, const float *w, long tokens,
                 int k, int hidden, cudaStream_t s, moemap_error *err);
/* dst[r] = sum over q in [off[r], off[r+1]) of w[q] * src[row[q]] for r < n (bf16 rows,
 * float sums): each received row's expert outputs, weighted, before they go back. */
int exec_reduce_rows(void *dst, const int32_t *off, const int32_t *row, const float *w,
                     const void *src, long n, int hidden, cudaStream_t s, moemap_error *err);
/* n bf16 values p[i] = bf16(exec_value(seed, stream, index0 + i, scale)). */
int exec_fill(void *p, size_t n, uint64_t seed, uint64_t stream, uint64_t index0, float scale,
              cudaStream_t s, moemap_error *err);

#ifdef __cplusplus
}
#endif
#endif
