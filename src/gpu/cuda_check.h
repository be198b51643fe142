/*
 * cuda_check.h — one macro family that checks CUDA runtime, driver, cuBLAS(Lt) and NCCL
 * calls and turns a failure into a moemap status (MOEMAP_EGPU) with a message naming the
 * call, the source file and line, and the library's own error name:
 *
 *   "expert_ffn.cu:212: cublasLtMatmul(...) failed: CUBLAS_STATUS_NOT_SUPPORTED"
 *
 * The library never aborts on a GPU error (a bad --gpus value or an out-of-memory on a
 * user's shape must reach the CLI as a one-line error), so unlike ggml's CUDA_CHECK these
 * macros return or jump instead of aborting. Each API has two forms:
 *
 *   MM_CUDA_CHECK(call, err)            on failure: return the status from this function
 *   MM_CUDA_GOTO(call, err, rc, label)  on failure: rc = status; goto label (for cleanup)
 *
 * and likewise MM_CU_* (driver API), MM_CUBLAS_* (cuBLAS and cuBLASLt, which share
 * cublasStatus_t) and MM_NCCL_* (when built with NCCL). MM_LAUNCH_CHECK / MM_LAUNCH_GOTO
 * check cudaGetLastError() after a kernel launch. Usable from C and CUDA C++ sources.
 */
#ifndef MOEMAP_GPU_CUDA_CHECK_H
#define MOEMAP_GPU_CUDA_CHECK_H

#include <string.h>

#include <cuda.h>
#include <cuda_runtime.h>
#include <cublasLt.h>

#include "cuda_driver.h" /* driver calls through the runtime: no libcuda link */
#ifdef MOEMAP_HAVE_NCCL
#include <nccl.h>
#endif

#include "moemap/base.h"

/* The file name without its directories, so messages stay short and do not depend on
 * where the tree was built. */
static inline const char *mm_gpu_basename_(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Records "<file>:<line>: <call> failed: <what>" in err and returns MOEMAP_EGPU. */
static inline int mm_gpu_fail_(moemap_error *err, const char *what, const char *call,
                               const char *file, int line)
{
    return moemap_error_set(err, MOEMAP_EGPU, "%s:%d: %s failed: %s", mm_gpu_basename_(file),
                            line, call, what);
}

static inline const char *mm_cuda_rt_str_(cudaError_t e)
{
    return cudaGetErrorName(e);
}

static inline const char *mm_cu_str_(CUresult e)
{
    const char *s = NULL;
    if (cuGetErrorName(e, &s) != CUDA_SUCCESS || !s)
        s = "unknown CUDA driver error";
    return s;
}

static inline const char *mm_cublas_str_(cublasStatus_t e)
{
    return cublasLtGetStatusName(e);
}

/* The generator: evaluates `call` once, compares with the API's success value, and on
 * failure runs `on_fail` with st_ holding the moemap status. */
#define MM_GPU_CHECK_(type, ok, strfn, call, err, on_fail)                              \
    do {                                                                               \
        type e_ = (call);                                                              \
        if (e_ != (ok)) {                                                              \
            int st_ = mm_gpu_fail_((err), strfn(e_), #call, __FILE__, __LINE__);       \
            on_fail;                                                                   \
        }                                                                              \
    } while (0)

#define MM_CUDA_CHECK(call, err) \
    MM_GPU_CHECK_(cudaError_t, cudaSuccess, mm_cuda_rt_str_, call, err, return st_)
#define MM_CUDA_GOTO(call, err, rc, label)                                        \
    MM_GPU_CHECK_(cudaError_t, cudaSuccess, mm_cuda_rt_str_, call, err, \
                  { (rc) = st_; goto label; })

#define MM_CU_CHECK(call, err) \
    MM_GPU_CHECK_(CUresult, CUDA_SUCCESS, mm_cu_str_, call, err, return st_)
#define MM_CU_GOTO(call, err, rc, label) \
    MM_GPU_CHECK_(CUresult, CUDA_SUCCESS, mm_cu_str_, call, err, { (rc) = st_; goto label; })

#define MM_CUBLAS_CHECK(call, err) \
    MM_GPU_CHECK_(cublasStatus_t, CUBLAS_STATUS_SUCCESS, mm_cublas_str_, call, err, return st_)
#define MM_CUBLAS_GOTO(call, err, rc, label)                                             \
    MM_GPU_CHECK_(cublasStatus_t, CUBLAS_STATUS_SUCCESS, mm_cublas_str_, call, err, \
                  { (rc) = st_; goto label; })

#ifdef MOEMAP_HAVE_NCCL
#define MM_NCCL_CHECK(call, err) \
    MM_GPU_CHECK_(ncclResult_t, ncclSuccess, ncclGetErrorString, call, err, return st_)
#define MM_NCCL_GOTO(call, err, rc, label) \
    MM_GPU_CHECK_(ncclResult_t, ncclSuccess, ncclGetErrorString, call, err, \
                  { (rc) = st_; goto label; })
#endif

/* After a kernel launch: a bad launch configuration shows up only in cudaGetLastError. */
#define MM_LAUNCH_CHECK(err) MM_CUDA_CHECK(cudaGetLastError(), err)
#define MM_LAUNCH_GOTO(err, rc, label) MM_CUDA_GOTO(cudaGetLastError(), err, rc, label)

#endif
