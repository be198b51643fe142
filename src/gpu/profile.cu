/*
 * profile.cu — `moemap profile`'s measurement (see moemap/gpu_profile.h): for each GPU,
 * optionally inside a green context, the expert FFN is timed at every grid point and as a
 * grouped layer, with NVML readings taken throughout, and a curve is fitted.
 *
 * Three things keep the numbers honest:
 *  - L2: an expert's weights are rotated over enough sets that their total is at least
 *    four times the L2 cache, so a small expert cannot be served from cache (a real
 *    layer's next expert is never the one just run);
 *  - launch overhead: the timed runs are queued behind a device-side delay so the GPU
 *    executes them back to back, as under a CUDA graph; otherwise a 20 us expert would be
 *    timed at the CPU's launch rate;
 *  - algorithm choice: every cuBLASLt candidate is timed per shape (expert_ffn.cu), and
 *    the weight-read floor (weights / measured copy bandwidth) is recorded next to it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cuda_check.h"
#include "expert_ffn.h"
#include "green_ctx.h"
#include "nvml.h"
#include "gpu_module.h"
#include "profile_internal.h"

#define MAX_GRID 256
#define X_SETS 4 /* input buffers rotated */
#define Y_SETS 2

/* ---- device-side delay ---------------------------------------------------------------- */

__global__ void delay_kernel(unsigned long long ns)
{
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while (t - t0 < ns);
}

/* ---- one GPU's buffers ---------------------------------------------------------------- */

typedef struct gpu_run {
    const moemap_profile_params *p;
    cudaStream_t stream;
    mm_green_ctx *green;
    mm_expert_ffn *ffn;
    int nsets;
    char *wpool, *xpool, *ypool;   /* device allocations */
    const void **w13, **w2;        /* [nsets] */
    void *x[X_SETS], *y[Y_SETS];
    long rot;                      /* rotation counter across all runs */
    cudaEvent_t *ev;               /* repeats + 1 */
    float *ms;                     /* repeats */
} gpu_run;

static size_t round256(size_t n)
{
    return (n + 255) / 256 * 256;
}

static int alloc_buffers(gpu_run *g, int H, int I, int max_tokens, double l2_bytes,
                         int min_sets, moemap_error *err)
{
    size_t w13b = round256((size_t)2 * I * H * 2), w2b = round256((size_t)H * I * 2);
    double wbytes = (double)(w13b + w2b);
    int nsets = (int)ceil(4.0 * l2_bytes / wbytes);
    if (nsets < 2)
        nsets = 2;
    if (nsets < min_sets)
        nsets = min_sets;
    /* Memory bound on the weights: 16 GiB is ample for any expert shape with >= 4x L2. */
    while (nsets > 2 && nsets > min_sets && nsets * wbytes > 16.0 * (1 << 30))
        nsets--;
    g->nsets = nsets;
    g->w13 = (const void **)moemap_calloc((size_t)nsets, sizeof *g->w13);
    g->w2 = (const void **)moemap_calloc((size_t)nsets, sizeof *g->w2);
    if (!g->w13 || !g->w2)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (weight tables)");
    size_t xb = round256((size_t)max_tokens * H * 2);
    MM_CUDA_CHECK(cudaMalloc((void **)&g->wpool, nsets * (w13b + w2b)), err);
    MM_CUDA_CHECK(cudaMalloc((void **)&g->xpool, X_SETS * xb), err);
    MM_CUDA_CHECK(cudaMalloc((void **)&g->ypool, Y_SETS * xb), err);
    uint64_t seed = g->p->seed;
    int rc;
    for (int s = 0; s < nsets; s++) {
        char *base = g->wpool + (size_t)s * (w13b + w2b);
        g->w13[s] = base;
        g->w2[s] = base + w13b;
        /* Scaled like trained weights (1/sqrt(fan-in)) so activations stay O(1). */
        if ((rc = mm_fill_bf16_random(base, (size_t)2 * I * H, 1.0f / sqrtf((float)H),
                                      seed + 2 * s, g->stream, err)) ||
            (rc = mm_fill_bf16_random(base + w13b, (size_t)H * I, 1.0f / sqrtf((float)I),
                                      seed + 2 * s + 1, g->stream, err)))
            return rc;
    }
    for (int i = 0; i < X_SETS; i++) {
        g->x[i] = g->xpool + i * xb;
        if ((rc = mm_fill_bf16_random(g->x[i], (size_t)max_tokens * H, 1.0f,
                                      seed + 1000003 + i, g->stream, err)))
            return rc;
    }
    for (int i = 0; i < Y_SETS; i++)
        g->y[i] = g->ypool + i * xb;
    MM_CUDA_CHECK(cudaStreamSynchronize(g->stream), err);
    return MOEMAP_OK;
}

static void free_buffers(gpu_run *g)
{
    if (g->ev)
        for (int i = 0; i <= g->p->repeats; i++)
            if (g->ev[i])
                cudaEventDestroy(g->ev[i]);
    moemap_free(g->ev);
    moemap_free(g->ms);
    mm_expert_ffn_free(g->ffn);
    cudaFree(g->wpool);
    cudaFree(g->xpool);
    cudaFree(g->ypool);
    moemap_free(g->w13);
    moemap_free(g->w2);
}

/* ---- timing ----------------------------------------------------------------------------- */

/* One expert run with the next weight set and input. */
static int run_single(gpu_run *g, int tokens, moemap_error *err)
{
    long r = g->rot++;
    return mm_expert_ffn_run(g->ffn, tokens, g->x[r % X_SETS], g->w13[r % g->nsets],
                             g->w2[r % g->nsets], g->y[r % Y_SETS], err);
}

/* The grouped layer: expert e gets its own weight set (nsets >= experts). */
static int run_group(gpu_run *g, const int *tokens, int n, moemap_error *err)
{
    long r = g->rot++;
    for (int e = 0; e < n; e++) {
        long k = r * n + e;
        int rc = mm_expert_ffn_run(g->ffn, tokens[e], g->x[k % X_SETS],
                                   g->w13[k % g->nsets], g->w2[k % g->nsets],
                                   g->y[k % Y_SETS], err);
        if (rc)
            return rc;
    }
    return MOEMAP_OK;
}

/* Warm-up runs, then `count` timed runs queued behind a delay; fills g->ms[0..count).
 * group_n < 0 means a single expert of `tokens[0]` tokens. */
static int time_runs(gpu_run *g, const int *tokens, int group_n, int count, moemap_error *err)
{
    const moemap_profile_params *p = g->p;
    int rc;
    for (int w = 0; w < p->warmup; w++)
        if ((rc = group_n < 0 ? run_single(g, tokens[0], err) : run_group(g, tokens, group_n,
                                                                          err)))
            return rc;
    /* Long enough for the CPU to queue every run (a few us of launches each). */
    unsigned long long ns = 100000ull + 40000ull * (unsigned long long)count *
                                            (group_n < 0 ? 1 : (unsigned long long)group_n);
    if (ns > 200000000ull)
        ns = 200000000ull;
    delay_kernel<<<1, 1, 0, g->stream>>>(ns);
    MM_LAUNCH_CHECK(err);
    for (int r = 0; r < count; r++) {
        MM_CUDA_CHECK(cudaEventRecord(g->ev[r], g->stream), err);
        if ((rc = group_n < 0 ? run_single(g, tokens[0], err) : run_group(g, tokens, group_n,
                                                                          err)))
            return rc;
    }
    MM_CUDA_CHECK(cudaEventRecord(g->ev[count], g->stream), err);
    MM_CUDA_CHECK(cudaEventSynchronize(g->ev[count]), err);
    for (int r = 0; r < count; r++)
        MM_CUDA_CHECK(cudaEventElapsedTime(&g->ms[r], g->ev[r], g->ev[r + 1]), err);
    return MOEMAP_OK;
}

static void summarise(const double *us, int n, double *median, double *mn, double *mx,
                      double *cv)
{
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++)
        sum += us[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++)
        sq += (us[i] - mean) * (us[i] - mean);
    *median = moemap_quantile(us, (size_t)n, 0.5);
    *mn = moemap_quantile(us, (size_t)n, 0.0);
    *mx = moemap_quantile(us, (size_t)n, 1.0);
    *cv = n > 1 && mean > 0 ? sqrt(sq / (n - 1)) / mean : 0;
}

/* Device-to-device copy bandwidth (bytes read + written per second), the reference for
 * the weight-read floor. */
static int copy_bandwidth(gpu_run *g, double *gbps, moemap_error *err)
{
    size_t bytes = (size_t)1 << 30;
    void *a = NULL, *b = NULL;
    int rc = MOEMAP_OK;
    float best = -1;
    MM_CUDA_GOTO(cudaMalloc(&a, bytes), err, rc, done);
    MM_CUDA_GOTO(cudaMalloc(&b, bytes), err, rc, done);
    MM_CUDA_GOTO(cudaMemsetAsync(a, 1, bytes, g->stream), err, rc, done);
    for (int i = 0; i < 4; i++) {
        MM_CUDA_GOTO(cudaEventRecord(g->ev[0], g->stream), err, rc, done);
        MM_CUDA_GOTO(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, g->stream), err, rc,
                     done);
        MM_CUDA_GOTO(cudaEventRecord(g->ev[1], g->stream), err, rc, done);
        MM_CUDA_GOTO(cudaEventSynchronize(g->ev[1]), err, rc, done);
        float ms;
        MM_CUDA_GOTO(cudaEventElapsedTime(&ms, g->ev[0], g->ev[1]), err, rc, done);
        if (i > 0 && (best < 0 || ms < best))
            best = ms;
    }
    *gbps = 2.0 * bytes / (best * 1e-3) / 1e9;
done:
    cudaFree(a);
    cudaFree(b);
    return rc;
}

/* ---- one GPU ------------------------------------------------------------------------------ */

static int profile_gpu(const moemap_profile_params *p, int dev, int sm_req, const int *grid,
                       int ngrid, const int *group, int ngroup, moemap_profile_gpu *out,
                       moemap_error *err)
{
    gpu_run g;
    memset(&g, 0, sizeof g);
    g.p = p;
    int H = p->hidden, I = p->intermediate, rc = MOEMAP_OK;
    int max_tokens = grid[ngrid - 1];
    for (int e = 0; e < ngroup; e++)
        if (group[e] > max_tokens)
            max_tokens = group[e];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mm_nvml_sampler *nvml = NULL;
    mm_nvml_stats ns;
    memset(&ns, 0, sizeof ns);
    char what[128];
    int rounds = p->rounds < 1 ? 1 : (p->rounds > p->repeats ? p->repeats : p->rounds);
    long step = 0, steps = ngrid + rounds + 1;
    double *group_us = NULL;

    out->device = dev;
    out->sm_requested = sm_req;
    if (gethostname(out->host, sizeof out->host - 1) != 0)
        snprintf(out->host, sizeof out->host, "unknown");
    MM_CUDA_GOTO(cudaSetDevice(dev), err, rc, fail);
    if (sm_req > 0) {
        if ((rc = mm_green_ctx_create(dev, sm_req, &g.green, err)) ||
            (rc = mm_green_ctx_make_current(g.green, err)))
            goto fail;
        g.stream = mm_green_ctx_stream(g.green);
        out->sm_limit = mm_green_ctx_sm_count(g.green);
    } else {
        MM_CUDA_GOTO(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking), err, rc, fail);
    }
    {
        cudaDeviceProp prop;
        MM_CUDA_GOTO(cudaGetDeviceProperties(&prop, dev), err, rc, fail);
        snprintf(out->name, sizeof out->name, "%.63s", prop.name);
        out->sm_total = prop.multiProcessorCount;
        out->l2_mb = prop.l2CacheSize / 1e6;
        MM_CUDA_GOTO(cudaDeviceGetPCIBusId(out->pci_bus_id, (int)sizeof out->pci_bus_id, dev),
                     err, rc, fail);
    }
    snprintf(what, sizeof what, "GPU %d %s%s", dev, out->name, sm_req ? " (green context)" : "");
    if (p->progress)
        p->progress(p->progress_ctx, what, step, steps);

    g.ev = (cudaEvent_t *)moemap_calloc((size_t)p->repeats + 1, sizeof *g.ev);
    g.ms = (float *)moemap_calloc((size_t)p->repeats, sizeof *g.ms);
    out->points = (moemap_profile_point *)moemap_calloc((size_t)ngrid, sizeof *out->points);
    out->samples_tokens = (double *)moemap_calloc((size_t)ngrid * p->repeats, sizeof(double));
    out->samples_us = (double *)moemap_calloc((size_t)ngrid * p->repeats, sizeof(double));
    if (ngroup > 0) {
        out->group_tokens = (int *)moemap_calloc((size_t)ngroup, sizeof(int));
        group_us = (double *)moemap_calloc((size_t)p->repeats, sizeof(double));
    }
    if (!g.ev || !g.ms || !out->points || !out->samples_tokens || !out->samples_us ||
        (ngroup > 0 && (!out->group_tokens || !group_us))) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (profile of GPU %d)", dev);
        goto fail;
    }
    for (int i = 0; i <= p->repeats; i++)
        MM_CUDA_GOTO(cudaEventCreate(&g.ev[i]), err, rc, fail);
    if ((rc = alloc_buffers(&g, H, I, max_tokens, out->l2_mb * 1e6, ngroup, err)) ||
        (rc = mm_expert_ffn_create(H, I, max_tokens, g.stream, &g.ffn, err)) ||
        (rc = copy_bandwidth(&g, &out->copy_GBps, err)))
        goto fail;
    out->weight_sets = g.nsets;
    out->weight_bytes = 3.0 * H * I * 2;
    out->floor_us = out->weight_bytes / (out->copy_GBps * 1e3);
    if (p->progress)
        p->progress(p->progress_ctx, what, ++step, steps);

    /* NVML is optional: without it the profile is still valid, only the readings miss. */
    if (mm_nvml_sampler_start(out->pci_bus_id, 10, &nvml, NULL) != MOEMAP_OK)
        nvml = NULL;

    /* Algorithm choice for every size first, so no tuning lands inside timed runs. */
    for (int i = 0; i < ngrid; i++) {
        int n = grid[i];
        moemap_profile_point *pt = &out->points[i];
        pt->tokens = n;
        if ((rc = mm_expert_ffn_tune(g.ffn, n, g.nsets, g.w13, g.w2, g.x[0], g.y[0], err))) {
            moemap_error_prefix(err, "GPU %d, %d tokens", dev, n);
            goto fail;
        }
        mm_expert_ffn_tuned_info(g.ffn, n, &pt->candidates, &pt->rank_gate_up,
                                 &pt->rank_down);
        if (p->progress)
            p->progress(p->progress_ctx, what, ++step, steps);
    }
    for (int e = 0; e < ngroup; e++) {
        int cand, r1, r2;
        out->group_tokens[e] = group[e];
        int known = mm_expert_ffn_tuned_info(g.ffn, group[e], &cand, &r1, &r2) == 0;
        if (group[e] > 0 && (!known || cand == 0) &&
            (rc = mm_expert_ffn_tune(g.ffn, group[e], g.nsets, g.w13, g.w2, g.x[0],
                                     g.y[0], err)))
            goto fail;
    }
    out->num_group = ngroup;

    /* Settle: a cold GPU boosts higher than a warm one, so the first profile of a fresh
     * machine measured up to 5.6% faster than the next (H100, 62 vs 69-72 degC). Running
     * the largest (compute-bound, hottest) size until settle_s has passed brings the GPU
     * to its working temperature and clocks before anything is timed. */
    {
        struct timespec s0, s1;
        clock_gettime(CLOCK_MONOTONIC, &s0);
        for (;;) {
            clock_gettime(CLOCK_MONOTONIC, &s1);
            if ((double)(s1.tv_sec - s0.tv_sec) + 1e-9 * (double)(s1.tv_nsec - s0.tv_nsec) >=
                p->settle_s)
                break;
            for (int k = 0; k < 8; k++)
                if ((rc = run_single(&g, grid[ngrid - 1], err))) {
                    moemap_error_prefix(err, "GPU %d, settling", dev);
                    goto fail;
                }
            MM_CUDA_GOTO(cudaStreamSynchronize(g.stream), err, rc, fail);
        }
    }

    /* The repeats are spread over `rounds` passes over the whole grid (and the grouped
     * layer), so every point sees the same mix of clock and temperature states: a GPU
     * near its power limit drifts over tens of milliseconds, and measuring each point in
     * one block would let that drift differ between two otherwise identical profiles. */
    for (int round = 0; round < rounds; round++) {
        int r0 = (int)((long)p->repeats * round / rounds);
        int cnt = (int)((long)p->repeats * (round + 1) / rounds) - r0;
        for (int i = 0; i < ngrid && cnt > 0; i++) {
            if ((rc = time_runs(&g, &grid[i], -1, cnt, err))) {
                moemap_error_prefix(err, "GPU %d, %d tokens", dev, grid[i]);
                goto fail;
            }
            for (int r = 0; r < cnt; r++)
                out->samples_us[(size_t)i * p->repeats + r0 + r] = 1000.0 * g.ms[r];
        }
        if (ngroup > 0 && cnt > 0) {
            if ((rc = time_runs(&g, group, ngroup, cnt, err))) {
                moemap_error_prefix(err, "GPU %d, grouped layer", dev);
                goto fail;
            }
            for (int r = 0; r < cnt; r++)
                group_us[r0 + r] = 1000.0 * g.ms[r];
        }
        if (p->progress)
            p->progress(p->progress_ctx, what, ++step, steps);
    }
    for (int i = 0; i < ngrid; i++) {
        moemap_profile_point *pt = &out->points[i];
        double *us = out->samples_us + (size_t)i * p->repeats;
        summarise(us, p->repeats, &pt->median_us, &pt->min_us, &pt->max_us, &pt->cv);
        for (int r = 0; r < p->repeats; r++)
            out->samples_tokens[(size_t)i * p->repeats + r] = grid[i];
        out->num_samples += p->repeats;
        out->num_points++;
    }
    if (ngroup > 0) {
        double mn, mx;
        summarise(group_us, p->repeats, &out->group_measured_us, &mn, &mx, &out->group_cv);
    }
    mm_nvml_sampler_stop(nvml, &ns);
    nvml = NULL;
    out->nvml_samples = ns.samples;
    out->sm_clock_mhz_mean = ns.sm_clock_mhz_mean;
    out->sm_clock_mhz_min = ns.sm_clock_mhz_min;
    out->sm_clock_mhz_max = ns.sm_clock_mhz_max;
    out->power_w_mean = ns.power_w_mean;
    out->power_w_max = ns.power_w_max;
    out->power_limit_w = ns.power_limit_w;
    out->temp_c_mean = ns.temp_c_mean;
    out->temp_c_max = ns.temp_c_max;

    if ((rc = moemap_curve_fit(out->samples_tokens, out->samples_us, out->num_samples,
                               &out->curve, &out->fit, err))) {
        moemap_error_prefix(err, "GPU %d", dev);
        goto fail;
    }
    for (int e = 0; e < ngroup; e++)
        out->group_predicted_us += moemap_curve_eval(&out->curve, group[e]);
fail:
    mm_nvml_sampler_stop(nvml, NULL);
    moemap_free(group_us);
    free_buffers(&g);
    if (g.green)
        mm_green_ctx_free(g.green);
    else if (g.stream)
        cudaStreamDestroy(g.stream);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->seconds = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    return rc;
}

/* ---- parameters --------------------------------------------------------------------------- */

static int check_params(const moemap_profile_params *p, int visible, int *grid, int *ngrid,
                        moemap_error *err)
{
    if (p->hidden < 8 || p->hidden % 8 || p->intermediate < 8 || p->intermediate % 8)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert shape hidden %d, intermediate %d: both must be positive "
                                "multiples of 8", p->hidden, p->intermediate);
    if (p->dtype && strcmp(p->dtype, "bf16") != 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "dtype \"%s\": only bf16 is supported",
                                p->dtype);
    if (p->repeats < 3 || p->repeats > 100000)
        return moemap_error_set(err, MOEMAP_EINVAL, "repeats %d: must be 3..100000",
                                p->repeats);
    if (p->rounds < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "rounds %d: must be at least 1", p->rounds);
    if (p->warmup < 0 || p->warmup > 100000)
        return moemap_error_set(err, MOEMAP_EINVAL, "warmup %d: must be 0..100000", p->warmup);
    if (!(p->settle_s >= 0 && p->settle_s <= 600))
        return moemap_error_set(err, MOEMAP_EINVAL, "settle %g s: must be 0..600", p->settle_s);
    if (p->max_tokens < 1 || p->max_tokens > (1 << 20))
        return moemap_error_set(err, MOEMAP_EINVAL, "max tokens %d: must be 1..%d",
                                p->max_tokens, 1 << 20);
    if (p->tokens) {
        if (p->num_tokens < 1 || p->num_tokens > MAX_GRID)
            return moemap_error_set(err, MOEMAP_EINVAL, "token grid: %d points (1..%d allowed)",
                                    p->num_tokens, MAX_GRID);
        for (int i = 0; i < p->num_tokens; i++) {
            if (p->tokens[i] < 1 || p->tokens[i] > (1 << 20) ||
                (i > 0 && p->tokens[i] <= p->tokens[i - 1]))
                return moemap_error_set(err, MOEMAP_EINVAL,
                                        "token grid point %d (%d): points must be increasing "
                                        "and in 1..%d", i, p->tokens[i], 1 << 20);
            grid[i] = p->tokens[i];
        }
        *ngrid = p->num_tokens;
    } else {
        *ngrid = moemap_profile_default_grid(p->max_tokens, grid, MAX_GRID);
    }
    if (p->group_tokens && p->num_group > 0) {
        if (p->num_group > 1024)
            return moemap_error_set(err, MOEMAP_EINVAL, "grouped layer: %d experts (max 1024)",
                                    p->num_group);
        for (int e = 0; e < p->num_group; e++)
            if (p->group_tokens[e] < 0 || p->group_tokens[e] > (1 << 20))
                return moemap_error_set(err, MOEMAP_EINVAL,
                                        "grouped layer expert %d: %d tokens (0..%d allowed)", e,
                                        p->group_tokens[e], 1 << 20);
    }
    for (int i = 0; p->gpus && i < p->num_gpus; i++) {
        if (p->gpus[i] < 0 || p->gpus[i] >= visible)
            return moemap_error_set(err, MOEMAP_EINVAL, "GPU %d does not exist (%d visible)",
                                    p->gpus[i], visible);
        for (int j = 0; j < i; j++)
            if (p->gpus[j] == p->gpus[i])
                return moemap_error_set(err, MOEMAP_EINVAL, "GPU %d listed twice", p->gpus[i]);
    }
    for (int i = 0; i < p->num_sm_limits; i++) {
        int gpu = p->sm_limit_gpu[i], listed = !p->gpus;
        for (int j = 0; p->gpus && j < p->num_gpus; j++)
            listed |= p->gpus[j] == gpu;
        if (gpu < 0 || gpu >= visible || !listed)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "SM limit for GPU %d: that GPU is not profiled (%d visible)",
                                    gpu, visible);
        if (p->sm_limit_sms[i] < 1)
            return moemap_error_set(err, MOEMAP_EINVAL, "SM limit for GPU %d: %d SMs", gpu,
                                    p->sm_limit_sms[i]);
        for (int j = 0; j < i; j++)
            if (p->sm_limit_gpu[j] == gpu)
                return moemap_error_set(err, MOEMAP_EINVAL, "SM limit for GPU %d given twice",
                                        gpu);
    }
    return MOEMAP_OK;
}

extern "C" int mm_gpu_profile_run(const moemap_profile_params *p, moemap_profile_result **out,
                                  moemap_error *err)
{
    *out = NULL;
    int visible = 0;
    cudaError_t ce = cudaGetDeviceCount(&visible);
    if (ce != cudaSuccess || visible == 0)
        return moemap_error_set(err, MOEMAP_EGPU, "no CUDA GPU visible (%s)",
                                ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
    int grid[MAX_GRID], ngrid = 0, rc;
    if ((rc = check_params(p, visible, grid, &ngrid, err)))
        return rc;
    const int *group = p->group_tokens ? p->group_tokens : mm_profile_default_group;
    int ngroup = p->group_tokens ? p->num_group
                                 : (int)(sizeof mm_profile_default_group / sizeof(int));
    if (p->num_group < 0)
        ngroup = 0;

    /* Which GPUs: the list (or all), dealt round-robin among MPI ranks sharing a host. */
    int list[1024], nlist = 0, share = 0, nshare = 1;
    if (mm_profile_mpi_active() && (rc = mm_profile_mpi_host_share(&share, &nshare, err)))
        return rc;
    int total = p->gpus ? p->num_gpus : visible;
    for (int i = 0; i < total && nlist < 1024; i++)
        if (i % nshare == share)
            list[nlist++] = p->gpus ? p->gpus[i] : i;

    moemap_profile_result *r = (moemap_profile_result *)moemap_calloc(1, sizeof *r);
    if (!r || !(r->gpus = (moemap_profile_gpu *)moemap_calloc(nlist ? (size_t)nlist : 1,
                                                              sizeof *r->gpus))) {
        moemap_free(r);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (profile result)");
    }
    r->hidden = p->hidden;
    r->intermediate = p->intermediate;
    snprintf(r->dtype, sizeof r->dtype, "bf16");
    r->repeats = p->repeats;
    r->rounds = p->rounds > p->repeats ? p->repeats : p->rounds;
    r->warmup = p->warmup;
    r->settle_s = p->settle_s;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->date, sizeof r->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int rtv = 0, drv = 0;
    cudaRuntimeGetVersion(&rtv);
    cudaDriverGetVersion(&drv);
    snprintf(r->cuda_version, sizeof r->cuda_version, "runtime %d.%d, driver %d.%d",
             rtv / 1000, rtv % 1000 / 10, drv / 1000, drv % 1000 / 10);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nlist; i++) {
        int sm_req = 0;
        for (int j = 0; j < p->num_sm_limits; j++)
            if (p->sm_limit_gpu[j] == list[i])
                sm_req = p->sm_limit_sms[j];
        r->num_gpus++;
        if ((rc = profile_gpu(p, list[i], sm_req, grid, ngrid, group, ngroup, &r->gpus[i],
                              err))) {
            moemap_profile_result_free(r);
            return rc;
        }
    }
    if ((rc = mm_profile_mpi_gather(r, err))) {
        moemap_profile_result_free(r);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    *out = r;
    return MOEMAP_OK;
}
