/*
 * green_ctx.h — a CUDA green context: a slice of N streaming multiprocessors of one GPU,
 * with a stream whose kernels (cuBLAS ones included) run on those SMs only. moemap uses
 * it to emulate a slower GPU on real hardware (`--sm-limit GPU=N`) and so to create real,
 * controlled variability between otherwise identical GPUs.
 *
 * The SM count is rounded to a partition size the driver allows (on Hopper a multiple of
 * 8 SMs): to the nearest allowed size, ties downward, so 66 of 132 SMs becomes 64 and the
 * compute-bound cost doubles as asked. mm_green_ctx_sm_count() gives what was
 * actually granted; record that, not the request.
 *
 * Typical use (one thread):
 *     mm_green_ctx *g;
 *     mm_green_ctx_create(dev, 64, &g, &err);
 *     mm_green_ctx_make_current(g, &err);   // cudaMalloc, cuBLASLt now use the slice
 *     ... launch work on mm_green_ctx_stream(g) ...
 *     mm_green_ctx_free(g);                  // restores the device's primary context
 */
#ifndef MOEMAP_GPU_GREEN_CTX_H
#define MOEMAP_GPU_GREEN_CTX_H

#include <cuda.h>
#include <cuda_runtime.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_green_ctx mm_green_ctx;

/* SM facts of a device: total SMs, the smallest partition and the partition granularity
 * the driver allows. Any pointer may be NULL. */
int mm_green_ctx_query(int device, int *total_sms, int *min_partition, int *alignment,
                       moemap_error *err);

/* Creates a green context of about `sms` SMs on CUDA device `device` (rounded as above;
 * EINVAL when `sms` is below 1 or above the device's SM count) with one non-blocking
 * stream. Does not change the calling thread's current context. */
int mm_green_ctx_create(int device, int sms, mm_green_ctx **out, moemap_error *err);
/* Destroys the stream and the context; if the green context was current on this thread,
 * the device's primary context is made current again. NULL is a no-op. */
void mm_green_ctx_free(mm_green_ctx *g);

/* The stream whose work runs on the context's SMs (usable with the runtime API, cuBLAS
 * and cuBLASLt: cudaStream_t and CUstream are the same type). */
cudaStream_t mm_green_ctx_stream(const mm_green_ctx *g);
/* SMs actually granted, and the count that was asked for. */
int mm_green_ctx_sm_count(const mm_green_ctx *g);
int mm_green_ctx_requested(const mm_green_ctx *g);
/* The context as a CUcontext (for driver API calls and cuCtxSetCurrent). */
CUcontext mm_green_ctx_context(const mm_green_ctx *g);
/* Makes the green context current on the calling thread, so that runtime calls
 * (cudaMalloc, cudaEventRecord, cuBLASLt's device queries) use it. */
int mm_green_ctx_make_current(const mm_green_ctx *g, moemap_error *err);

#ifdef __cplusplus
}
#endif
#endif
