/*
 * exec_kernels.cu — the executor's small data-movement kernels: row gathers/scatters that
 * build the dispatch buffer, regroup received rows by expert and put results back in
 * arrival order; the gate-weighted combine; the same moves for int32 tags (the
 * correctness check's "every row arrives exactly once"); and the deterministic fill of
 * weights and hidden states (exec_value, the same function the CPU reference uses).
 * Rows are bf16 [rows, hidden] with hidden a multiple of 8, moved 16 bytes at a time.
 */
#include <cuda_bf16.h>

#include "cuda_check.h"
#include "exec_internal.h"
#include "exec_kernels.h"

static int grid_for(long work, int block)
{
    long g = (work + block - 1) / block;
    if (g < 1)
        g = 1;
    if (g > 65535L * 16)
        g = 65535L * 16;
    return (int)g;
}

/* dst[didx ? didx[i] : i] = src[sidx ? sidx[i] : i] for i < n, one 16-byte vector per
 * thread step. */
__global__ void copy_rows_kernel(uint4 *dst, const int32_t *didx, const uint4 *src,
                                 const int32_t *sidx, long n, int vec_per_row)
{
    long total = n * vec_per_row;
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < total;
         v += (long)gridDim.x * blockDim.x) {
        long i = v / vec_per_row, c = v % vec_per_row;
        long d = didx ? didx[i] : i, s = sidx ? sidx[i] : i;
        dst[d * vec_per_row + c] = src[s * vec_per_row + c];
    }
}

__global__ void copy_tags_kernel(int32_t *dst, const int32_t *didx, const int32_t *src,
                                 const int32_t *sidx, long n)
{
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n;
         i += (long)gridDim.x * blockDim.x)
        dst[didx ? didx[i] : i] = src[sidx ? sidx[i] : i];
}

/* out[t][d] = sum_j w[t*k+j] * ret[pos[t*k+j]][d] over pos >= 0, accumulated in float. */
__global__ void combine_kernel(float *out, const __nv_bfloat16 *ret, const int32_t *pos,
                               const float *w, long tokens, int k, int hidden)
{
    long pairs = tokens * (hidden / 2);
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < pairs;
         v += (long)gridDim.x * blockDim.x) {
        long t = v / (hidden / 2);
        int d = (int)(v % (hidden / 2)) * 2;
        float2 acc = make_float2(0.f, 0.f);
        for (int j = 0; j < k; j++) {
            long p = pos[t * k + j];
            if (p < 0) /* a choice whose GPU an earlier choice already counted */
                continue;
            float wj = w[t * k + j];
            float2 y = __bfloat1622float2(*(const __nv_bfloat162 *)(ret + p * hidden + d));
            acc.x += wj * y.x;
            acc.y += wj * y.y;
        }
        *(float2 *)(out + t * hidden + d) = acc;
    }
}

/* dst[r][d] = bf16(sum over q in [off[r], off[r+1]) of w[q] * src[row[q]][d]), the sums
 * in float: each receive row becomes its expert rows' weighted sum. */
__global__ void reduce_rows_kernel(__nv_bfloat16 *dst, const int32_t *off, const int32_t *row,
                                   const float *w, const __nv_bfloat16 *src, long n, int hidden)
{
    long pairs = n * (hidden / 2);
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < pairs;
         v += (long)gridDim.x * blockDim.x) {
        long r = v / (hidden / 2);
        int d = (int)(v % (hidden / 2)) * 2;
        float2 acc = make_float2(0.f, 0.f);
        for (int32_t q = off[r]; q < off[r + 1]; q++) {
            float2 y = __bfloat1622float2(*(const __nv_bfloat162 *)(src + (long)row[q] * hidden + d));
            acc.x += w[q] * y.x;
            acc.y += w[q] * y.y;
        }
        *(__nv_bfloat162 *)(dst + r * hidden + d) = __float22bfloat162_rn(acc);
    }
}

__global__ void fill_kernel(uint16_t *p, size_t n, uint64_t seed, uint64_t stream,
                            uint64_t index0, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = exec_f2bf(exec_value(seed, stream, index0 + i, scale));
}

extern "C" int exec_copy_rows(void *dst, const int32_t *didx, const void *src,
                              const int32_t *sidx, long n, int hidden, cudaStream_t s,
                              moemap_error *err)
{
    if (n <= 0)
        return 0;
    int vpr = hidden / 8;
    copy_rows_kernel<<<grid_for(n * vpr, 256), 256, 0, s>>>((uint4 *)dst, didx,
                                                              (const uint4 *)src, sidx, n, vpr);
    MM_LAUNCH_CHECK(err);
    return 0;
}

extern "C" int exec_copy_tags(int32_t *dst, const int32_t *didx, const int32_t *src,
                              const int32_t *sidx, long n, cudaStream_t s, moemap_error *err)
{
    if (n <= 0)
        return 0;
    copy_tags_kernel<<<grid_for(n, 256), 256, 0, s>>>(dst, didx, src, sidx, n);
    MM_LAUNCH_CHECK(err);
    return 0;
}

extern "C" int exec_combine(float *out, const void *ret, const int32_t *pos, const float *w,
                            long tokens, int k, int hidden, cudaStream_t s, moemap_error *err)
{
    if (tokens <= 0)
        return 0;
    combine_kernel<<<grid_for(tokens * (hidden / 2), 256), 256, 0, s>>>(
        out, (const __nv_bfloat16 *)ret, pos, w, tokens, k, hidden);
    MM_LAUNCH_CHECK(err);
    return 0;
}

extern "C" int exec_reduce_rows(void *dst, const int32_t *off, const int32_t *row,
                                const float *w, const void *src, long n, int hidden,
                                cudaStream_t s, moemap_error *err)
{
    if (n <= 0)
        return 0;
    reduce_rows_kernel<<<grid_for(n * (hidden / 2), 256), 256, 0, s>>>(
        (__nv_bfloat16 *)dst, off, row, w, (const __nv_bfloat16 *)src, n, hidden);
    MM_LAUNCH_CHECK(err);
    return 0;
}

extern "C" int exec_fill(void *p, size_t n, uint64_t seed, uint64_t stream, uint64_t index0,
                         float scale, cudaStream_t s, moemap_error *err)
{
    if (n == 0)
        return 0;
    fill_kernel<<<grid_for((long)(n < (size_t)1 << 40 ? n : (size_t)1 << 40), 256), 256, 0,
                  s>>>((uint16_t *)p, n, seed, stream, index0, scale);
    MM_LAUNCH_CHECK(err);
    return 0;
}
