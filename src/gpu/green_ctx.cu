/*
 * green_ctx.cu — green contexts through the CUDA driver API (see green_ctx.h):
 * cuDeviceGetDevResource (the device's SMs) -> cuDevSmResourceSplitByCount (one group of
 * the wanted size) -> cuDevResourceGenerateDesc -> cuGreenCtxCreate ->
 * cuGreenCtxStreamCreate.
 */
#include "green_ctx.h"

#include "cuda_check.h"

struct mm_green_ctx {
    CUgreenCtx green;   /* the green context */
    CUcontext ctx;      /* the same as a CUcontext (cuCtxFromGreenCtx) */
    CUstream stream;    /* non-blocking stream bound to the green context */
    int device;         /* CUDA device ordinal */
    int sm_count;       /* SMs granted */
    int requested;      /* SMs asked for */
};

/* The driver API needs cuInit and a device handle; the runtime may not have touched the
 * device yet, so initialise both here. */
static int device_sm_resource(int device, CUdevice *dev, CUdevResource *res, moemap_error *err)
{
    int count = 0;
    MM_CUDA_CHECK(cudaGetDeviceCount(&count), err);
    if (device < 0 || device >= count)
        return moemap_error_set(err, MOEMAP_EINVAL, "GPU %d does not exist (%d visible)", device,
                                count);
    MM_CU_CHECK(cuInit(0), err);
    MM_CU_CHECK(cuDeviceGet(dev, device), err);
    MM_CU_CHECK(cuDeviceGetDevResource(*dev, res, CU_DEV_RESOURCE_TYPE_SM), err);
    return MOEMAP_OK;
}

int mm_green_ctx_query(int device, int *total_sms, int *min_partition, int *alignment,
                       moemap_error *err)
{
    CUdevice dev;
    CUdevResource res;
    int rc = device_sm_resource(device, &dev, &res, err);
    if (rc)
        return rc;
    if (total_sms)
        *total_sms = (int)res.sm.smCount;
    if (min_partition)
        *min_partition = (int)res.sm.minSmPartitionSize;
    if (alignment)
        *alignment = (int)res.sm.smCoscheduledAlignment;
    return MOEMAP_OK;
}

/* Nearest partition size the driver allows: at least the minimum, a multiple of the
 * alignment, at most the device; ties go down (66 of 132 on Hopper -> 64, not 72). */
static int round_sms(int want, int total, int min_part, int align)
{
    if (align < 1)
        align = 1;
    int lo = want / align * align, hi = lo + (want % align ? align : 0);
    int r = (want - lo <= hi - want) ? lo : hi;
    if (r < min_part)
        r = min_part;
    if (r > total)
        r = total / align * align;
    return r;
}

int mm_green_ctx_create(int device, int sms, mm_green_ctx **out, moemap_error *err)
{
    *out = NULL;
    CUdevice dev;
    CUdevResource res;
    int rc = device_sm_resource(device, &dev, &res, err);
    if (rc)
        return rc;
    int total = (int)res.sm.smCount;
    if (sms < 1 || sms > total)
        return moemap_error_set(err, MOEMAP_EINVAL, "SM limit %d for GPU %d: must be 1..%d", sms,
                                device, total);
    int want = round_sms(sms, total, (int)res.sm.minSmPartitionSize,
                         (int)res.sm.smCoscheduledAlignment);

    mm_green_ctx *g = (mm_green_ctx *)moemap_calloc(1, sizeof *g);
    if (!g)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (green context)");
    g->device = device;
    g->requested = sms;

    CUdevResource group, rest;
    unsigned int ngroups = 1;
    CUdevResourceDesc desc;
    MM_CU_GOTO(cuDevSmResourceSplitByCount(&group, &ngroups, &res, &rest, 0, (unsigned)want), err,
               rc, fail);
    if (ngroups != 1) {
        rc = moemap_error_set(err, MOEMAP_EGPU, "GPU %d: could not split off %d SMs", device, want);
        goto fail;
    }
    MM_CU_GOTO(cuDevResourceGenerateDesc(&desc, &group, 1), err, rc, fail);
    MM_CU_GOTO(cuGreenCtxCreate(&g->green, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM), err, rc, fail);
    MM_CU_GOTO(cuCtxFromGreenCtx(&g->ctx, g->green), err, rc, fail);
    MM_CU_GOTO(cuGreenCtxStreamCreate(&g->stream, g->green, CU_STREAM_NON_BLOCKING, 0), err, rc,
               fail);
    g->sm_count = (int)group.sm.smCount;
    *out = g;
    return MOEMAP_OK;
fail:
    mm_green_ctx_free(g);
    return rc;
}

void mm_green_ctx_free(mm_green_ctx *g)
{
    if (!g)
        return;
    CUcontext cur = NULL;
    if (g->ctx && cuCtxGetCurrent(&cur) == CUDA_SUCCESS && cur == g->ctx) {
        /* Leave the thread on the device's primary context, which the runtime expects. */
        cuCtxSetCurrent(NULL);
        cudaSetDevice(g->device);
    }
    if (g->stream)
        cuStreamDestroy(g->stream);
    if (g->green)
        cuGreenCtxDestroy(g->green);
    moemap_free(g);
}

cudaStream_t mm_green_ctx_stream(const mm_green_ctx *g)
{
    return (cudaStream_t)g->stream;
}

int mm_green_ctx_sm_count(const mm_green_ctx *g)
{
    return g->sm_count;
}

int mm_green_ctx_requested(const mm_green_ctx *g)
{
    return g->requested;
}

CUcontext mm_green_ctx_context(const mm_green_ctx *g)
{
    return g->ctx;
}

int mm_green_ctx_make_current(const mm_green_ctx *g, moemap_error *err)
{
    MM_CU_CHECK(cuCtxSetCurrent(g->ctx), err);
    return MOEMAP_OK;
}
