/*
 * expert_ffn.cu — the bf16 expert FFN of expert_ffn.h: two cuBLASLt GEMMs in the "TN"
 * layout (weights transposed, activations not: the layout cuBLASLt's fastest Hopper
 * kernels are built for) around a vectorised SiLU-and-multiply kernel, plus per-token-
 * count algorithm selection by timing.
 *
 * In cuBLAS's column-major view a row-major [rows, cols] matrix is a cols x rows matrix,
 * so with T = tokens, H = hidden, I = intermediate:
 *   gate/up: C(2I x T) = op(W13: H x 2I)ᵀ · X(H x T)     (lda = H, ldb = H, ldc = 2I)
 *   act:     in place over the gate half: h[t][i] = silu(h[t][i]) * h[t][I + i]
 *   down:    Y(H x T) = op(W2: I x H)ᵀ · A(I x T)          (lda = I, ldb = 2I, ldc = H)
 * Writing the activation over the gate half saves a buffer and a pass; each element
 * reads only its own gate and up values, so there is no race.
 */
#include "expert_ffn.h"

#include <cuda_bf16.h>
#include <stdint.h>

#include "cuda_check.h"

#define MAX_CANDIDATES 16 /* asked of the heuristic */
#define MAX_TUNED 48      /* heuristic candidates plus split-K variants */
#define SPLIT_BASES 4     /* heuristic candidates that get split-K variants */
#define SPLIT_MAX_TOKENS 512
#define WORKSPACE_BYTES ((size_t)32 << 20)
#define TUNE_REPS 4
#define TUNE_ROUNDS 5
#define FINALISTS 3
#define FINAL_ROUNDS 15

typedef struct gemm {
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
    int rank;      /* rank of the kept algorithm in the heuristic's list */
    int has_algo;
} gemm;

typedef struct shape {
    int tokens;
    int candidates; /* candidates timed (0 = heuristic's first pick, untimed) */
    gemm up, down;
} shape;

struct mm_expert_ffn {
    int hidden, inter, max_tokens;
    int autotune;
    cudaStream_t stream;
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t desc;
    cublasLtMatmulPreference_t pref;
    void *ws;
    __nv_bfloat16 *h;      /* max_tokens x 2I intermediate */
    shape *shapes;         /* one per token count seen */
    int nshapes, cap;
    cudaEvent_t ev0, ev1;  /* for tuning */
};

/* ---- kernels ------------------------------------------------------------------------ */

/* SiLU(gate) * up over 8 bf16 at a time (16-byte loads and stores). */
__global__ void silu_mul_kernel(__nv_bfloat16 *h, int tokens, int inter)
{
    int vec_per_row = inter / 8;
    long total = (long)tokens * vec_per_row;
    for (long v = blockIdx.x * (long)blockDim.x + threadIdx.x; v < total;
         v += (long)gridDim.x * blockDim.x) {
        long t = v / vec_per_row, j = v % vec_per_row;
        __nv_bfloat16 *gate = h + t * 2 * inter + j * 8;
        uint4 graw = *(const uint4 *)gate;
        uint4 uraw = *(const uint4 *)(gate + inter);
        __nv_bfloat162 *g2 = (__nv_bfloat162 *)&graw;
        const __nv_bfloat162 *u2 = (const __nv_bfloat162 *)&uraw;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            float2 g = __bfloat1622float2(g2[k]);
            float2 u = __bfloat1622float2(u2[k]);
            g.x = g.x / (1.0f + __expf(-g.x)) * u.x;
            g.y = g.y / (1.0f + __expf(-g.y)) * u.y;
            g2[k] = __float22bfloat162_rn(g);
        }
        *(uint4 *)gate = graw;
    }
}

__device__ static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

__global__ void fill_kernel(__nv_bfloat16 *p, size_t n, float scale, uint64_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint64_t r = splitmix64(seed * 0x100000001b3ull + i);
        float u = (float)(r >> 40) * (1.0f / 16777216.0f); /* [0, 1) */
        p[i] = __float2bfloat16((2.0f * u - 1.0f) * scale);
    }
}

static int grid_for(long work, int block)
{
    long g = (work + block - 1) / block;
    if (g > 4096)
        g = 4096;
    return g < 1 ? 1 : (int)g;
}

extern "C" int mm_fill_bf16_random(void *p, size_t n, float scale, uint64_t seed,
                                   cudaStream_t stream, moemap_error *err)
{
    if (n == 0)
        return MOEMAP_OK;
    fill_kernel<<<grid_for((long)n, 256), 256, 0, stream>>>((__nv_bfloat16 *)p, n, scale, seed);
    MM_LAUNCH_CHECK(err);
    return MOEMAP_OK;
}

/* ---- shapes ------------------------------------------------------------------------- */

static void gemm_clear(gemm *g)
{
    if (g->a)
        cublasLtMatrixLayoutDestroy(g->a);
    if (g->b)
        cublasLtMatrixLayoutDestroy(g->b);
    if (g->c)
        cublasLtMatrixLayoutDestroy(g->c);
    g->a = g->b = g->c = NULL;
}

static int gemm_init(gemm *g, uint64_t m, uint64_t n, uint64_t k, int64_t lda, int64_t ldb,
                     int64_t ldc, moemap_error *err)
{
    /* Stored shapes: A is k x m (transposed by the op), B is k x n, C is m x n. */
    MM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->a, CUDA_R_16BF, k, m, lda), err);
    MM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->b, CUDA_R_16BF, k, n, ldb), err);
    MM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&g->c, CUDA_R_16BF, m, n, ldc), err);
    return MOEMAP_OK;
}

/* Heuristic candidates for one GEMM, best-ranked first. */
static int candidates(mm_expert_ffn *f, gemm *g, cublasLtMatmulHeuristicResult_t *res,
                      int *count, moemap_error *err)
{
    int got = 0;
    MM_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(f->lt, f->desc, g->a, g->b, g->c, g->c,
                                                   f->pref, MAX_CANDIDATES, res, &got),
                    err);
    int n = 0;
    for (int i = 0; i < got; i++)
        if (res[i].state == CUBLAS_STATUS_SUCCESS)
            res[n++] = res[i];
    if (n == 0)
        return moemap_error_set(err, MOEMAP_EGPU,
                                "cuBLASLt offers no bf16 GEMM algorithm for this expert shape");
    *count = n;
    return MOEMAP_OK;
}

/* Split-K variants of the best few heuristic candidates: with few tokens a GEMM has only
 * hidden/tile output tiles, too few to keep every SM reading weights, and splitting the
 * reduction dimension is how such skinny GEMMs reach the memory floor. Each variant is
 * validated with cublasLtMatmulAlgoCheck (and must fit the workspace); the timing decides
 * whether it is kept. Appends to res[*count..max). */
static void add_split_variants(mm_expert_ffn *f, gemm *g,
                               cublasLtMatmulHeuristicResult_t *res, int *count, int max)
{
    static const uint32_t splits[] = {2, 4, 8, 16};
    static const uint32_t schemes[] = {CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE,
                                       CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE,
                                       CUBLASLT_REDUCTION_SCHEME_INPLACE};
    int base = *count < SPLIT_BASES ? *count : SPLIT_BASES;
    for (int k = 0; k < base; k++) {
        int32_t cap = 0, cur = 1;
        uint32_t mask = 0;
        size_t w;
        if (cublasLtMatmulAlgoCapGetAttribute(&res[k].algo, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT, &cap,
                                              sizeof cap, &w) != CUBLAS_STATUS_SUCCESS ||
            !cap)
            continue;
        cublasLtMatmulAlgoCapGetAttribute(&res[k].algo, CUBLASLT_ALGO_CAP_REDUCTION_SCHEME_MASK,
                                          &mask, sizeof mask, &w);
        cublasLtMatmulAlgoConfigGetAttribute(&res[k].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &cur,
                                             sizeof cur, &w);
        if (cur > 1)
            continue; /* already split by the heuristic */
        for (size_t si = 0; si < sizeof splits / sizeof splits[0] && *count < max; si++)
            for (size_t ri = 0; ri < sizeof schemes / sizeof schemes[0]; ri++) {
                if (!(mask & schemes[ri]))
                    continue;
                cublasLtMatmulAlgo_t a = res[k].algo;
                cublasLtMatmulHeuristicResult_t chk;
                memset(&chk, 0, sizeof chk);
                if (cublasLtMatmulAlgoConfigSetAttribute(&a, CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
                                                         &splits[si], sizeof splits[si]) ||
                    cublasLtMatmulAlgoConfigSetAttribute(&a, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME,
                                                         &schemes[ri], sizeof schemes[ri]) ||
                    cublasLtMatmulAlgoCheck(f->lt, f->desc, g->a, g->b, g->c, g->c, &a, &chk) !=
                        CUBLAS_STATUS_SUCCESS ||
                    chk.workspaceSize > WORKSPACE_BYTES)
                    continue;
                res[*count] = chk;
                res[*count].algo = a;
                res[*count].state = CUBLAS_STATUS_SUCCESS;
                (*count)++;
                break; /* one reduction scheme per split count */
            }
    }
}

static shape *find_shape(const mm_expert_ffn *f, int tokens)
{
    for (int i = 0; i < f->nshapes; i++)
        if (f->shapes[i].tokens == tokens)
            return &f->shapes[i];
    return NULL;
}

/* The layouts of a token count, with the heuristic's first pick as the algorithm. */
static int add_shape(mm_expert_ffn *f, int tokens, shape **out, moemap_error *err)
{
    if (f->nshapes == f->cap) {
        int cap = f->cap ? 2 * f->cap : 32;
        shape *s = (shape *)moemap_realloc(f->shapes, (size_t)cap * sizeof *s);
        if (!s)
            return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (expert FFN shapes)");
        f->shapes = s;
        f->cap = cap;
    }
    shape *s = &f->shapes[f->nshapes];
    memset(s, 0, sizeof *s);
    s->tokens = tokens;
    int H = f->hidden, I = f->inter, rc;
    if ((rc = gemm_init(&s->up, 2 * (uint64_t)I, tokens, H, H, H, 2 * (int64_t)I, err)) ||
        (rc = gemm_init(&s->down, H, tokens, I, I, 2 * (int64_t)I, H, err))) {
        gemm_clear(&s->up);
        gemm_clear(&s->down);
        return rc;
    }
    f->nshapes++;
    cublasLtMatmulHeuristicResult_t res[MAX_CANDIDATES];
    int n;
    if ((rc = candidates(f, &s->up, res, &n, err)))
        return rc;
    s->up.algo = res[0].algo;
    s->up.has_algo = 1;
    if ((rc = candidates(f, &s->down, res, &n, err)))
        return rc;
    s->down.algo = res[0].algo;
    s->down.has_algo = 1;
    *out = s;
    return MOEMAP_OK;
}

static int matmul(mm_expert_ffn *f, const gemm *g, const cublasLtMatmulAlgo_t *algo,
                  const void *a, const void *b, void *c, moemap_error *err)
{
    const float alpha = 1.0f, beta = 0.0f;
    MM_CUBLAS_CHECK(cublasLtMatmul(f->lt, f->desc, &alpha, a, g->a, b, g->b, &beta, c, g->c, c,
                                   g->c, algo, f->ws, WORKSPACE_BYTES, f->stream),
                    err);
    return MOEMAP_OK;
}

static int silu_mul(mm_expert_ffn *f, int tokens, moemap_error *err)
{
    long work = (long)tokens * (f->inter / 8);
    silu_mul_kernel<<<grid_for(work, 256), 256, 0, f->stream>>>(f->h, tokens, f->inter);
    MM_LAUNCH_CHECK(err);
    return MOEMAP_OK;
}

/* ---- public ------------------------------------------------------------------------- */

extern "C" int mm_expert_ffn_create(int hidden, int intermediate, int max_tokens,
                                    cudaStream_t stream, mm_expert_ffn **out,
                                    moemap_error *err)
{
    *out = NULL;
    if (hidden < 8 || hidden % 8 || intermediate < 8 || intermediate % 8)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert shape hidden %d, intermediate %d: both must be positive "
                                "multiples of 8", hidden, intermediate);
    if (max_tokens < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "max tokens %d: must be at least 1",
                                max_tokens);
    mm_expert_ffn *f = (mm_expert_ffn *)moemap_calloc(1, sizeof *f);
    if (!f)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (expert FFN)");
    f->hidden = hidden;
    f->inter = intermediate;
    f->max_tokens = max_tokens;
    f->autotune = 1;
    f->stream = stream;
    int rc = MOEMAP_OK;
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    size_t ws = WORKSPACE_BYTES;
    MM_CUBLAS_GOTO(cublasLtCreate(&f->lt), err, rc, fail);
    MM_CUBLAS_GOTO(cublasLtMatmulDescCreate(&f->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), err, rc,
                   fail);
    MM_CUBLAS_GOTO(cublasLtMatmulDescSetAttribute(f->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta,
                                                  sizeof ta), err, rc, fail);
    MM_CUBLAS_GOTO(cublasLtMatmulDescSetAttribute(f->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb,
                                                  sizeof tb), err, rc, fail);
    MM_CUBLAS_GOTO(cublasLtMatmulPreferenceCreate(&f->pref), err, rc, fail);
    MM_CUBLAS_GOTO(cublasLtMatmulPreferenceSetAttribute(
                       f->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
                   err, rc, fail);
    MM_CUDA_GOTO(cudaMalloc(&f->ws, WORKSPACE_BYTES), err, rc, fail);
    MM_CUDA_GOTO(cudaMalloc((void **)&f->h, (size_t)max_tokens * 2 * intermediate *
                                                sizeof(__nv_bfloat16)),
                 err, rc, fail);
    MM_CUDA_GOTO(cudaEventCreate(&f->ev0), err, rc, fail);
    MM_CUDA_GOTO(cudaEventCreate(&f->ev1), err, rc, fail);
    *out = f;
    return MOEMAP_OK;
fail:
    moemap_error_prefix(err, "expert FFN %dx%d, %d tokens", hidden, intermediate, max_tokens);
    mm_expert_ffn_free(f);
    return rc;
}

extern "C" void mm_expert_ffn_free(mm_expert_ffn *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nshapes; i++) {
        gemm_clear(&f->shapes[i].up);
        gemm_clear(&f->shapes[i].down);
    }
    moemap_free(f->shapes);
    if (f->ev0)
        cudaEventDestroy(f->ev0);
    if (f->ev1)
        cudaEventDestroy(f->ev1);
    cudaFree(f->h);
    cudaFree(f->ws);
    if (f->pref)
        cublasLtMatmulPreferenceDestroy(f->pref);
    if (f->desc)
        cublasLtMatmulDescDestroy(f->desc);
    if (f->lt)
        cublasLtDestroy(f->lt);
    moemap_free(f);
}

extern "C" void mm_expert_ffn_set_autotune(mm_expert_ffn *f, int on)
{
    f->autotune = on;
}

static int check_tokens(const mm_expert_ffn *f, int tokens, moemap_error *err)
{
    if (tokens < 0 || tokens > f->max_tokens)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert FFN: %d tokens is outside 0..%d (its max_tokens)", tokens,
                                f->max_tokens);
    return MOEMAP_OK;
}

/* Median of a few values (sorted in place: insertion sort). */
static float median_f(float *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            float t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* Times every candidate of one GEMM and keeps the fastest. The candidates are timed in
 * TUNE_ROUNDS interleaved rounds (TUNE_REPS runs each over rotating weight sets) and each
 * scores the median of its rounds: a GPU near its power limit changes clock from one
 * millisecond to the next, and timing each candidate once in turn (or keeping its luckiest
 * round) would let that drift pick the winner (seen on an H200: two profiles picked
 * different algorithms at 3072 and 4096 tokens, 4-5% apart).
 * `b` is the GEMM's input, `c` its output. */
static int tune_gemm(mm_expert_ffn *f, gemm *g, int tokens, int nsets,
                     const void *const *w, const void *b, void *c, int *ncand,
                     moemap_error *err)
{
    cublasLtMatmulHeuristicResult_t res[MAX_TUNED];
    float score[MAX_TUNED], round_ms[MAX_TUNED][TUNE_ROUNDS];
    int runs[MAX_TUNED];
    int n, rc;
    if ((rc = candidates(f, g, res, &n, err)))
        return rc;
    if (tokens <= SPLIT_MAX_TOKENS)
        add_split_variants(f, g, res, &n, MAX_TUNED);
    for (int k = 0; k < n; k++) {
        /* A candidate may still refuse at run time (workspace, alignment): skip it. This
         * first run is also its warm-up. */
        const float alpha = 1.0f, beta = 0.0f;
        runs[k] = cublasLtMatmul(f->lt, f->desc, &alpha, w[0], g->a, b, g->b, &beta, c, g->c, c,
                                 g->c, &res[k].algo, f->ws, WORKSPACE_BYTES,
                                 f->stream) == CUBLAS_STATUS_SUCCESS;
        score[k] = 0;
    }
    long rot = 1;
    for (int round = 0; round < TUNE_ROUNDS; round++)
        for (int k = 0; k < n; k++) {
            if (!runs[k])
                continue;
            MM_CUDA_CHECK(cudaEventRecord(f->ev0, f->stream), err);
            for (int r = 0; r < TUNE_REPS; r++)
                if ((rc = matmul(f, g, &res[k].algo, w[rot++ % nsets], b, c, err)))
                    return rc;
            MM_CUDA_CHECK(cudaEventRecord(f->ev1, f->stream), err);
            MM_CUDA_CHECK(cudaEventSynchronize(f->ev1), err);
            float ms = 0;
            MM_CUDA_CHECK(cudaEventElapsedTime(&ms, f->ev0, f->ev1), err);
            round_ms[k][round] = ms;
        }
    for (int k = 0; k < n; k++)
        if (runs[k])
            score[k] = median_f(round_ms[k], TUNE_ROUNDS);
    /* Second stage: candidates within a few percent of each other are told apart only by
     * more rounds, so the best FINALISTS are timed again over FINAL_ROUNDS rounds. */
    int fin[FINALISTS], nfin = 0;
    for (int k = 0; k < n; k++) {
        if (!runs[k])
            continue;
        int pos = nfin < FINALISTS ? nfin++ : FINALISTS;
        while (pos > 0 && score[k] < score[fin[pos - 1]]) {
            if (pos < FINALISTS)
                fin[pos] = fin[pos - 1];
            pos--;
        }
        if (pos < FINALISTS)
            fin[pos] = k;
    }
    if (nfin == 0)
        return moemap_error_set(err, MOEMAP_EGPU, "no cuBLASLt candidate ran for this shape");
    float fms[FINALISTS][FINAL_ROUNDS];
    for (int round = 0; nfin > 1 && round < FINAL_ROUNDS; round++)
        for (int j = 0; j < nfin; j++) {
            MM_CUDA_CHECK(cudaEventRecord(f->ev0, f->stream), err);
            for (int r = 0; r < TUNE_REPS; r++)
                if ((rc = matmul(f, g, &res[fin[j]].algo, w[rot++ % nsets], b, c, err)))
                    return rc;
            MM_CUDA_CHECK(cudaEventRecord(f->ev1, f->stream), err);
            MM_CUDA_CHECK(cudaEventSynchronize(f->ev1), err);
            MM_CUDA_CHECK(cudaEventElapsedTime(&fms[j][round], f->ev0, f->ev1), err);
        }
    int best = fin[0];
    if (nfin > 1) {
        float best_score = -1;
        for (int j = 0; j < nfin; j++) {
            float m = median_f(fms[j], FINAL_ROUNDS);
            if (best_score < 0 || m < best_score) {
                best_score = m;
                best = fin[j];
            }
        }
    }
    g->algo = res[best].algo;
    g->rank = best;
    g->has_algo = 1;
    *ncand = n;
    return MOEMAP_OK;
}

extern "C" int mm_expert_ffn_tune(mm_expert_ffn *f, int tokens, int nsets,
                                  const void *const *w13, const void *const *w2,
                                  const void *x, void *y, moemap_error *err)
{
    int rc = check_tokens(f, tokens, err);
    if (rc || tokens == 0)
        return rc;
    if (nsets < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "expert FFN tune: no weight sets");
    shape *s = find_shape(f, tokens);
    if (!s && (rc = add_shape(f, tokens, &s, err)))
        return rc;
    int n1 = 0, n2 = 0;
    if ((rc = tune_gemm(f, &s->up, tokens, nsets, w13, x, f->h, &n1, err)))
        return rc;
    /* The down GEMM is tuned on a real activation, not on whatever the buffer held. */
    if ((rc = silu_mul(f, tokens, err)))
        return rc;
    if ((rc = tune_gemm(f, &s->down, tokens, nsets, w2, f->h, y, &n2, err)))
        return rc;
    s->candidates = n1 > n2 ? n1 : n2;
    return MOEMAP_OK;
}

extern "C" int mm_expert_ffn_run(mm_expert_ffn *f, int tokens, const void *x,
                                 const void *w13, const void *w2, void *y, moemap_error *err)
{
    int rc = check_tokens(f, tokens, err);
    if (rc || tokens == 0)
        return rc;
    if (((uintptr_t)x | (uintptr_t)w13 | (uintptr_t)w2 | (uintptr_t)y) % 256)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert FFN: buffers must be 256-byte aligned");
    shape *s = find_shape(f, tokens);
    if (!s) {
        if (f->autotune)
            rc = mm_expert_ffn_tune(f, tokens, 1, &w13, &w2, x, y, err);
        else
            rc = add_shape(f, tokens, &s, err);
        if (rc)
            return rc;
        s = find_shape(f, tokens);
    }
    if ((rc = matmul(f, &s->up, &s->up.algo, w13, x, f->h, err)) ||
        (rc = silu_mul(f, tokens, err)) ||
        (rc = matmul(f, &s->down, &s->down.algo, w2, f->h, y, err)))
        return rc;
    return MOEMAP_OK;
}

extern "C" int mm_expert_ffn_run_grouped(mm_expert_ffn *f, int n, const int *tokens,
                                         const void *const *x, const void *const *w13,
                                         const void *const *w2, void *const *y,
                                         moemap_error *err)
{
    for (int e = 0; e < n; e++) {
        int rc = mm_expert_ffn_run(f, tokens[e], x[e], w13[e], w2[e], y[e], err);
        if (rc) {
            moemap_error_prefix(err, "expert %d of %d", e, n);
            return rc;
        }
    }
    return MOEMAP_OK;
}

extern "C" int mm_expert_ffn_tuned_info(const mm_expert_ffn *f, int tokens,
                                        int *ncand, int *rank_gate_up, int *rank_down)
{
    const shape *s = find_shape(f, tokens);
    *ncand = s ? s->candidates : 0;
    *rank_gate_up = s ? s->up.rank : -1;
    *rank_down = s ? s->down.rank : -1;
    return s ? MOEMAP_OK : MOEMAP_EINVAL;
}
