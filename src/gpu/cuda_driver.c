/*
 * cuda_driver.c — resolves the driver functions of cuda_driver.h once, through the CUDA
 * runtime (cudaGetDriverEntryPointByVersion), so libmoemap never links libcuda.so.
 */
#include <pthread.h>

#include <cuda_runtime.h>

#include "cuda_driver.h"

static mm_cu_driver table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void *resolve(const char *symbol)
{
    void *fn = NULL;
    enum cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion(symbol, &fn, CUDART_VERSION, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
        return NULL;
    return fn;
}

static void resolve_all(void)
{
    /* The casts go through void * as POSIX dlsym users do; the types are cuda.h's. */
#define RESOLVE_(member, name) *(void **)&table.member = resolve(name)
    RESOLVE_(GetErrorName, "cuGetErrorName");
    RESOLVE_(Init, "cuInit");
    RESOLVE_(DeviceGet, "cuDeviceGet");
    RESOLVE_(DeviceGetDevResource, "cuDeviceGetDevResource");
    RESOLVE_(DevSmResourceSplitByCount, "cuDevSmResourceSplitByCount");
    RESOLVE_(DevResourceGenerateDesc, "cuDevResourceGenerateDesc");
    RESOLVE_(GreenCtxCreate, "cuGreenCtxCreate");
    RESOLVE_(CtxFromGreenCtx, "cuCtxFromGreenCtx");
    RESOLVE_(GreenCtxStreamCreate, "cuGreenCtxStreamCreate");
    RESOLVE_(GreenCtxDestroy, "cuGreenCtxDestroy");
    RESOLVE_(CtxGetCurrent, "cuCtxGetCurrent");
    RESOLVE_(CtxSetCurrent, "cuCtxSetCurrent");
    RESOLVE_(StreamDestroy, "cuStreamDestroy");
#undef RESOLVE_
}

const mm_cu_driver *mm_cu(void)
{
    pthread_once(&table_once, resolve_all);
    return &table;
}
