/*
 * cuda_driver.h — the few CUDA driver API functions moemap uses (green contexts, context
 * switching, error names), reached through the runtime's cudaGetDriverEntryPointByVersion
 * instead of linking libcuda.so.
 *
 * Why: a binary linked against libcuda.so.1 does not even start on a machine that has the
 * CUDA toolkit but no GPU driver (CI, a laptop): every test would fail to load instead of
 * skipping. The runtime loads the driver itself when one exists, so resolving the driver
 * functions through it keeps one binary that runs everywhere and finds "no GPU" at run
 * time. Include this after <cuda.h>: the macros below redirect the cu* calls to the
 * resolved pointers; a function that could not be resolved returns
 * CUDA_ERROR_NOT_INITIALIZED (it cannot be reached anyway: callers first find a GPU).
 */
#ifndef MOEMAP_GPU_CUDA_DRIVER_H
#define MOEMAP_GPU_CUDA_DRIVER_H

#include <cuda.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_cu_driver {
    CUresult(CUDAAPI *GetErrorName)(CUresult, const char **);
    CUresult(CUDAAPI *Init)(unsigned int);
    CUresult(CUDAAPI *DeviceGet)(CUdevice *, int);
    CUresult(CUDAAPI *DeviceGetDevResource)(CUdevice, CUdevResource *, CUdevResourceType);
    CUresult(CUDAAPI *DevSmResourceSplitByCount)(CUdevResource *, unsigned int *,
                                                 const CUdevResource *, CUdevResource *,
                                                 unsigned int, unsigned int);
    CUresult(CUDAAPI *DevResourceGenerateDesc)(CUdevResourceDesc *, CUdevResource *,
                                               unsigned int);
    CUresult(CUDAAPI *GreenCtxCreate)(CUgreenCtx *, CUdevResourceDesc, CUdevice, unsigned int);
    CUresult(CUDAAPI *CtxFromGreenCtx)(CUcontext *, CUgreenCtx);
    CUresult(CUDAAPI *GreenCtxStreamCreate)(CUstream *, CUgreenCtx, unsigned int, int);
    CUresult(CUDAAPI *GreenCtxDestroy)(CUgreenCtx);
    CUresult(CUDAAPI *CtxGetCurrent)(CUcontext *);
    CUresult(CUDAAPI *CtxSetCurrent)(CUcontext);
    CUresult(CUDAAPI *StreamDestroy)(CUstream);
} mm_cu_driver;

/* The resolved table (resolved once, thread-safe). Members are NULL where the driver is
 * missing or too old. */
const mm_cu_driver *mm_cu(void);

#ifdef __cplusplus
}
#endif

#define MM_CU_CALL_(member, ...) \
    (mm_cu()->member ? mm_cu()->member(__VA_ARGS__) : CUDA_ERROR_NOT_INITIALIZED)

#undef cuStreamDestroy
#define cuGetErrorName(...) MM_CU_CALL_(GetErrorName, __VA_ARGS__)
#define cuInit(...) MM_CU_CALL_(Init, __VA_ARGS__)
#define cuDeviceGet(...) MM_CU_CALL_(DeviceGet, __VA_ARGS__)
#define cuDeviceGetDevResource(...) MM_CU_CALL_(DeviceGetDevResource, __VA_ARGS__)
#define cuDevSmResourceSplitByCount(...) MM_CU_CALL_(DevSmResourceSplitByCount, __VA_ARGS__)
#define cuDevResourceGenerateDesc(...) MM_CU_CALL_(DevResourceGenerateDesc, __VA_ARGS__)
#define cuGreenCtxCreate(...) MM_CU_CALL_(GreenCtxCreate, __VA_ARGS__)
#define cuCtxFromGreenCtx(...) MM_CU_CALL_(CtxFromGreenCtx, __VA_ARGS__)
#define cuGreenCtxStreamCreate(...) MM_CU_CALL_(GreenCtxStreamCreate, __VA_ARGS__)
#define cuGreenCtxDestroy(...) MM_CU_CALL_(GreenCtxDestroy, __VA_ARGS__)
#define cuCtxGetCurrent(...) MM_CU_CALL_(CtxGetCurrent, __VA_ARGS__)
#define cuCtxSetCurrent(...) MM_CU_CALL_(CtxSetCurrent, __VA_ARGS__)
#define cuStreamDestroy(...) MM_CU_CALL_(StreamDestroy, __VA_ARGS__)

#endif
