/*
 * test_gpu_profile.c — the GPU profiler and its CUDA building blocks.
 *
 * With CUDA and a GPU: the bf16 expert FFN against a float64 CPU reference (poisoned
 * outputs, random inputs, several token counts, tuned and untuned), the grouped form
 * against single runs, green contexts (granted SMs, correctness on the slice, bad
 * requests), the error macros' messages, a small real profile written as a cluster and
 * read back, and bad parameters. Without a GPU in a CUDA build: exit 77. Without CUDA:
 * profiling refuses with "built without CUDA", and the default grid is checked.
 */
#include <stdint.h>
#include <sys/wait.h>

#include "harness.h"
#include "moemap.h"

static void check_default_grid(void)
{
    int grid[256];
    int n = moemap_profile_default_grid(16384, grid, 256);
    REQUIRE(n > 20 && n <= 256);
    CHECK_INT_EQ(grid[0], 1);
    CHECK_INT_EQ(grid[n - 1], 16384);
    int has64 = 0, has128 = 0, has256 = 0, has96 = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            CHECK(grid[i] > grid[i - 1]);
        has64 |= grid[i] == 64;
        has96 |= grid[i] == 96;
        has128 |= grid[i] == 128;
        has256 |= grid[i] == 256;
    }
    CHECK(has64 && has96 && has128 && has256);
    /* A max that is not a grid step is still measured, and nothing beyond it. */
    n = moemap_profile_default_grid(1000, grid, 256);
    CHECK_INT_EQ(grid[n - 1], 1000);
    CHECK(grid[n - 2] < 1000);
    /* cap smaller than the grid: the count is still the full one. */
    int small[3];
    CHECK(moemap_profile_default_grid(16384, small, 3) > 3);
    CHECK_INT_EQ(small[2], 4);
}
TEST(default_grid)
{
    check_default_grid();
}

/* Runs the built moemap binary with `args` (stdout and stderr captured into out);
 * returns its exit status, or -1 when MOEMAP_BIN is not set (test run by hand). */
static int run_cli(const char *args, char *out, size_t cap)
{
    const char *bin = getenv("MOEMAP_BIN");
    if (!bin || !*bin)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The CLI's argument checks, which work in every build. */
TEST(cli_usage_errors)
{
    static char out[65536];
    int rc = run_cli("profile --help", out, sizeof out);
    if (rc == -1)
        return; /* no binary to run (MOEMAP_BIN unset) */
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "--sm-limit GPU=N");
    CHECK_INT_EQ(run_cli("profile", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "give --model NAME");
    CHECK_INT_EQ(run_cli("profile --model no-such-model", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "unknown model");
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --sm-limit 0", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "is not GPU=VALUE");
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --sm-limit x=4", out, sizeof out), 2);
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --tokens 1,2.5", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "--tokens");
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --hidden 64", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "not both");
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --group 4 --no-group", out, sizeof out), 2);
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 --repeats 2", out, sizeof out), 2);
    CHECK_INT_EQ(run_cli("profile --model deepseek-v3 extra", out, sizeof out), 2);
    CHECK_STR_CONTAINS(out, "unexpected argument");
}

#ifndef MOEMAP_HAVE_CUDA

TEST(no_cuda_refuses)
{
    moemap_profile_params p = moemap_profile_default_params();
    p.hidden = 7168;
    p.intermediate = 2048;
    moemap_profile_result *r = (moemap_profile_result *)1;
    moemap_error err = {0};
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_ENOTSUP);
    CHECK(r == NULL);
    CHECK_STR_CONTAINS(err.msg, "built without CUDA");
    moemap_cluster *c = (moemap_cluster *)1;
    CHECK_INT_EQ(moemap_profile_to_cluster(NULL, "x", &c, &err), MOEMAP_ENOTSUP);
    CHECK(c == NULL);
    moemap_profile_result_free(NULL);
    static char out[4096];
    int rc = run_cli("profile --model deepseek-v3", out, sizeof out);
    if (rc != -1) {
        CHECK_INT_EQ(rc, 1);
        CHECK_STR_CONTAINS(out, "moemap profile: GPU profiling: built without CUDA");
    }
}

int main(void)
{
    RUN(default_grid);
    RUN(cli_usage_errors);
    RUN(no_cuda_refuses);
    return mm_test_done();
}

#else /* CUDA build */

#include <cuda_runtime.h>

#include "gpu/cuda_check.h"
#include "gpu/expert_ffn.h"
#include "gpu/green_ctx.h"

static float bf2f(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint16_t f2bf(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static uint64_t rng_state = 88172645463325252ull;
static float urand(float scale)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return scale * (2.0f * (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) - 1.0f);
}

static void fill_host(uint16_t *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = f2bf(urand(scale));
}

/* float64 reference of the expert on the bf16 inputs: y = (silu(x W1ᵀ) ⊙ x W3ᵀ) W2ᵀ. */
static void reference(int T, int H, int I, const uint16_t *x, const uint16_t *w13,
                      const uint16_t *w2, double *y)
{
    double *a = malloc((size_t)I * sizeof *a);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < I; i++) {
            double g = 0, u = 0;
            for (int k = 0; k < H; k++) {
                double xv = bf2f(x[(size_t)t * H + k]);
                g += xv * bf2f(w13[(size_t)i * H + k]);
                u += xv * bf2f(w13[(size_t)(I + i) * H + k]);
            }
            a[i] = g / (1.0 + exp(-g)) * u;
        }
        for (int h = 0; h < H; h++) {
            double s = 0;
            for (int i = 0; i < I; i++)
                s += a[i] * bf2f(w2[(size_t)h * I + i]);
            y[(size_t)t * H + h] = s;
        }
    }
    free(a);
}

/* ||out - ref|| / ||ref||, or INFINITY when any output is not finite (unwritten). */
static double rel_error(const uint16_t *out, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double v = bf2f(out[i]);
        if (!isfinite(v))
            return INFINITY;
        num += (v - ref[i]) * (v - ref[i]);
        den += ref[i] * ref[i];
    }
    return sqrt(num / den);
}

enum { H = 256, I = 128, MAXT = 160 };

typedef struct fixture {
    uint16_t *hx, *hw13, *hw2, *hy;
    void *dx, *dw13, *dw2, *dy;
} fixture;

static int fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->hx = malloc((size_t)MAXT * H * 2);
    f->hw13 = malloc((size_t)2 * I * H * 2);
    f->hw2 = malloc((size_t)H * I * 2);
    f->hy = malloc((size_t)MAXT * H * 2);
    fill_host(f->hx, (size_t)MAXT * H, 1.0f);
    fill_host(f->hw13, (size_t)2 * I * H, 1.0f / 16);
    fill_host(f->hw2, (size_t)H * I, 1.0f / 11);
    if (cudaMalloc(&f->dx, (size_t)MAXT * H * 2) || cudaMalloc(&f->dw13, (size_t)2 * I * H * 2) ||
        cudaMalloc(&f->dw2, (size_t)H * I * 2) || cudaMalloc(&f->dy, (size_t)MAXT * H * 2))
        return -1;
    cudaMemcpy(f->dx, f->hx, (size_t)MAXT * H * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(f->dw13, f->hw13, (size_t)2 * I * H * 2, cudaMemcpyHostToDevice);
    cudaMemcpy(f->dw2, f->hw2, (size_t)H * I * 2, cudaMemcpyHostToDevice);
    return 0;
}

static void fixture_free(fixture *f)
{
    free(f->hx);
    free(f->hw13);
    free(f->hw2);
    free(f->hy);
    cudaFree(f->dx);
    cudaFree(f->dw13);
    cudaFree(f->dw2);
    cudaFree(f->dy);
}

/* Runs the expert at T tokens on stream s (poisoned output first) and returns the error
 * against the reference. */
static double ffn_error(mm_expert_ffn *ffn, fixture *f, int T, cudaStream_t s, int tune)
{
    moemap_error err = {0};
    cudaMemset(f->dy, 0xff, (size_t)MAXT * H * 2); /* bf16 0xffff is a NaN */
    cudaDeviceSynchronize();
    if (tune) {
        const void *w13 = f->dw13, *w2 = f->dw2;
        CHECK_OK(mm_expert_ffn_tune(ffn, T, 1, &w13, &w2, f->dx, f->dy, &err), &err);
        cudaMemsetAsync(f->dy, 0xff, (size_t)MAXT * H * 2, s);
    }
    CHECK_OK(mm_expert_ffn_run(ffn, T, f->dx, f->dw13, f->dw2, f->dy, &err), &err);
    if (cudaStreamSynchronize(s) != cudaSuccess)
        return INFINITY;
    cudaMemcpy(f->hy, f->dy, (size_t)T * H * 2, cudaMemcpyDeviceToHost);
    double *ref = malloc((size_t)T * H * sizeof *ref);
    reference(T, H, I, f->hx, f->hw13, f->hw2, ref);
    double e = rel_error(f->hy, ref, (size_t)T * H);
    free(ref);
    return e;
}

TEST(expert_ffn_matches_cpu)
{
    fixture f;
    REQUIRE(fixture_init(&f) == 0);
    cudaStream_t s;
    REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
    mm_expert_ffn *ffn = NULL;
    moemap_error err = {0};
    CHECK_OK(mm_expert_ffn_create(H, I, MAXT, s, &ffn, &err), &err);
    REQUIRE(ffn);
    static const int sizes[] = {1, 7, 33, 130, 160};
    for (int i = 0; i < 5; i++) {
        double e = ffn_error(ffn, &f, sizes[i], s, i % 2);
        if (!(e < 1e-2))
            fprintf(stderr, "  %d tokens: rel error %g\n", sizes[i], e);
        CHECK(e < 1e-2);
        int cand = 0, r1, r2;
        CHECK_OK(mm_expert_ffn_tuned_info(ffn, sizes[i], &cand, &r1, &r2), &err);
        CHECK(cand >= 1 && r1 >= 0 && r1 < cand && r2 >= 0 && r2 < cand);
    }
    /* Autotune off: the heuristic's pick is used and is just as correct. */
    mm_expert_ffn_set_autotune(ffn, 0);
    CHECK(ffn_error(ffn, &f, 21, s, 0) < 1e-2);
    /* Bad calls. */
    CHECK_INT_EQ(mm_expert_ffn_run(ffn, MAXT + 1, f.dx, f.dw13, f.dw2, f.dy, &err),
                 MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "max_tokens");
    CHECK_INT_EQ(mm_expert_ffn_run(ffn, 4, (char *)f.dx + 2, f.dw13, f.dw2, f.dy, &err),
                 MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "aligned");
    mm_expert_ffn *bad = NULL;
    CHECK_INT_EQ(mm_expert_ffn_create(100, 130, 4, s, &bad, &err), MOEMAP_EINVAL);
    CHECK(bad == NULL);
    mm_expert_ffn_free(ffn);
    mm_expert_ffn_free(NULL);
    cudaStreamDestroy(s);
    fixture_free(&f);
}

TEST(grouped_equals_single_runs)
{
    fixture f;
    REQUIRE(fixture_init(&f) == 0);
    mm_expert_ffn *ffn = NULL;
    moemap_error err = {0};
    CHECK_OK(mm_expert_ffn_create(H, I, MAXT, 0, &ffn, &err), &err);
    REQUIRE(ffn);
    int tokens[3] = {5, 0, 17};
    size_t stride = (size_t)32 * H * 2; /* 256-byte aligned slices of dy */
    const void *x[3] = {f.dx, f.dx, (char *)f.dx + stride};
    const void *w13[3] = {f.dw13, f.dw13, f.dw13}, *w2[3] = {f.dw2, f.dw2, f.dw2};
    void *y[3] = {f.dy, (char *)f.dy + stride, (char *)f.dy + 2 * stride};
    cudaMemset(f.dy, 0xff, (size_t)MAXT * H * 2);
    CHECK_OK(mm_expert_ffn_run_grouped(ffn, 3, tokens, x, w13, w2, y, &err), &err);
    uint16_t *grouped = malloc((size_t)MAXT * H * 2), *single = malloc((size_t)MAXT * H * 2);
    cudaMemcpy(grouped, f.dy, (size_t)MAXT * H * 2, cudaMemcpyDeviceToHost);
    cudaMemset(f.dy, 0xff, (size_t)MAXT * H * 2);
    for (int e = 0; e < 3; e++)
        CHECK_OK(mm_expert_ffn_run(ffn, tokens[e], x[e], w13[e], w2[e], y[e], &err), &err);
    cudaMemcpy(single, f.dy, (size_t)MAXT * H * 2, cudaMemcpyDeviceToHost);
    /* Same algorithms, same inputs: bit-identical; the 0-token expert left its output. */
    CHECK(memcmp(grouped, single, (size_t)MAXT * H * 2) == 0);
    const uint16_t *y1 = grouped + stride / 2;
    CHECK(y1[0] == 0xffff && y1[(size_t)5 * H - 1] == 0xffff);
    CHECK(isfinite(bf2f(grouped[0])) && isfinite(bf2f(grouped[2 * stride / 2 + 17 * H - 1])));
    int bad_tokens[2] = {3, MAXT + 5};
    CHECK_INT_EQ(mm_expert_ffn_run_grouped(ffn, 2, bad_tokens, x, w13, w2, y, &err),
                 MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "expert 1 of 2");
    free(grouped);
    free(single);
    mm_expert_ffn_free(ffn);
    fixture_free(&f);
}

TEST(green_context)
{
    moemap_error err = {0};
    int total = 0, minp = 0, align = 0;
    CHECK_OK(mm_green_ctx_query(0, &total, &minp, &align, &err), &err);
    REQUIRE(total > 0 && align >= 1);
    mm_green_ctx *g = NULL;
    CHECK_OK(mm_green_ctx_create(0, total / 2, &g, &err), &err);
    REQUIRE(g);
    int got = mm_green_ctx_sm_count(g);
    CHECK(got >= minp && got <= total && got % align == 0);
    CHECK(abs(got - total / 2) <= align / 2 + 1);
    CHECK_INT_EQ(mm_green_ctx_requested(g), total / 2);
    CHECK_OK(mm_green_ctx_make_current(g, &err), &err);
    /* Work on the slice computes the same function. */
    fixture f;
    REQUIRE(fixture_init(&f) == 0);
    mm_expert_ffn *ffn = NULL;
    CHECK_OK(mm_expert_ffn_create(H, I, MAXT, mm_green_ctx_stream(g), &ffn, &err), &err);
    if (ffn)
        CHECK(ffn_error(ffn, &f, 48, mm_green_ctx_stream(g), 1) < 1e-2);
    mm_expert_ffn_free(ffn);
    fixture_free(&f);
    mm_green_ctx_free(g);
    /* The primary context is current again: plain runtime calls work. */
    void *p = NULL;
    CHECK(cudaMalloc(&p, 256) == cudaSuccess);
    cudaFree(p);

    CHECK_INT_EQ(mm_green_ctx_create(0, 0, &g, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "SM limit 0");
    CHECK_INT_EQ(mm_green_ctx_create(0, total + 1, &g, &err), MOEMAP_EINVAL);
    CHECK_INT_EQ(mm_green_ctx_create(999, 8, &g, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "GPU 999 does not exist");
    CHECK(g == NULL);
    mm_green_ctx_free(NULL);
}

static int failing_call(moemap_error *err)
{
    MM_CUDA_CHECK(cudaSetDevice(12345), err);
    return 0;
}

TEST(check_macros_name_the_call)
{
    moemap_error err = {0};
    CHECK_INT_EQ(failing_call(&err), MOEMAP_EGPU);
    CHECK_STR_CONTAINS(err.msg, "test_gpu_profile.c:");
    CHECK_STR_CONTAINS(err.msg, "cudaSetDevice(12345) failed: cudaErrorInvalidDevice");
    cudaGetLastError(); /* clear the sticky-free error the failed call left */
}

static void small_params(moemap_profile_params *p, const int *gpu, const int *tokens,
                         const int *group)
{
    *p = moemap_profile_default_params();
    p->hidden = 512;
    p->intermediate = 256;
    p->gpus = gpu;
    p->num_gpus = 1;
    p->tokens = tokens;
    p->num_tokens = 4;
    p->repeats = 7;
    p->rounds = 3;
    p->warmup = 1;
    p->group_tokens = group;
    p->num_group = 3;
}

TEST(profile_small_shape)
{
    static const int gpu[1] = {0}, tokens[4] = {1, 8, 64, 256}, group[3] = {64, 8, 1};
    moemap_profile_params p;
    small_params(&p, gpu, tokens, group);
    moemap_profile_result *r = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_profile_run(&p, &r, &err), &err);
    REQUIRE(r && r->num_gpus == 1);
    CHECK_INT_EQ(r->rounds, 3);
    const moemap_profile_gpu *g = &r->gpus[0];
    CHECK_INT_EQ(g->num_points, 4);
    CHECK_INT_EQ(g->num_samples, 4 * 7);
    CHECK_INT_EQ(g->curve.n, 4);
    CHECK_INT_EQ(g->sm_limit, 0);
    CHECK(g->sm_total > 0 && g->name[0]);
    CHECK(g->weight_sets >= 2 && g->weight_sets * 3.0 * 512 * 256 * 2 >= 4 * g->l2_mb * 1e6);
    for (int i = 0; i < 4; i++) {
        CHECK(g->points[i].median_us > 0 && g->points[i].min_us <= g->points[i].median_us);
        CHECK(g->points[i].candidates >= 1);
        if (i > 0)
            CHECK(g->curve.us[i] >= g->curve.us[i - 1]);
    }
    CHECK(g->copy_GBps > 10 && g->floor_us > 0);
    CHECK(g->group_measured_us > 0 && g->group_predicted_us > 0);
    /* Loose: the figure itself is a benchmark result; this only catches nonsense. */
    CHECK(g->group_measured_us < 3 * g->group_predicted_us &&
          g->group_predicted_us < 3 * g->group_measured_us);

    moemap_cluster *c = NULL;
    CHECK_OK(moemap_profile_to_cluster(r, "moemap profile --test", &c, &err), &err);
    REQUIRE(c);
    const char *path = mm_tmp_path("gpu_profile_small.json");
    CHECK_OK(moemap_cluster_write(c, path, &err), &err);
    moemap_cluster *back = NULL;
    CHECK_OK(moemap_cluster_read(path, &back, &err), &err);
    if (back) {
        CHECK_INT_EQ(back->hidden, 512);
        CHECK_INT_EQ(back->intermediate, 256);
        CHECK_INT_EQ(back->gpus[0].curve.n, 4);
        CHECK_NEAR(moemap_cluster_expert_us(back, 0, 64), g->curve.us[2], 1e-3 * g->curve.us[2]);
        CHECK(back->source_json && strstr(back->source_json, "moemap profile --test"));
        CHECK(strstr(back->source_json, "grouped_layer") != NULL);
    }
    moemap_cluster_free(back);
    moemap_cluster_free(c);
    moemap_profile_result_free(r);

    /* The same under an SM limit: the granted count is recorded. */
    int total = 0;
    CHECK_OK(mm_green_ctx_query(0, &total, NULL, NULL, &err), &err);
    int lim_gpu[1] = {0}, lim_sms[1] = {total / 2};
    p.sm_limit_gpu = lim_gpu;
    p.sm_limit_sms = lim_sms;
    p.num_sm_limits = 1;
    p.num_group = -1;
    CHECK_OK(moemap_profile_run(&p, &r, &err), &err);
    if (r) {
        CHECK(r->gpus[0].sm_limit > 0 && r->gpus[0].sm_limit < total);
        CHECK_INT_EQ(r->gpus[0].sm_requested, total / 2);
        CHECK_INT_EQ(r->gpus[0].num_group, 0);
    }
    moemap_profile_result_free(r);
}

/* The CLI end to end on a small shape: the file it writes is a valid cluster. */
TEST(cli_profile_small)
{
    static char out[65536];
    const char *path = mm_tmp_path("gpu_profile_cli.json");
    char args[1024];
    snprintf(args, sizeof args,
             "profile --hidden 512 --intermediate 256 --tokens 1,8,64 --repeats 6 --rounds 2 "
             "--group 8,1 --gpus 0 --out '%s'", path);
    int rc = run_cli(args, out, sizeof out);
    if (rc == -1)
        return;
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "grouped layer (2 experts)");
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_cluster_read(path, &c, &err), &err);
    if (c) {
        CHECK_INT_EQ(c->num_gpus, 1);
        CHECK_INT_EQ(c->gpus[0].curve.n, 3);
        CHECK(c->source_json && strstr(c->source_json, "--hidden 512"));
    }
    moemap_cluster_free(c);
    CHECK_INT_EQ(run_cli("profile --hidden 512 --intermediate 256 --gpus 77", out, sizeof out),
                 1);
    CHECK_STR_CONTAINS(out, "GPU 77 does not exist");
}

TEST(profile_bad_params)
{
    static const int gpu[1] = {0}, tokens[4] = {1, 8, 64, 256}, group[3] = {64, 8, 1};
    moemap_profile_params p;
    moemap_profile_result *r = NULL;
    moemap_error err = {0};

    small_params(&p, gpu, tokens, group);
    p.hidden = 100;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "multiples of 8");

    small_params(&p, gpu, tokens, group);
    static const int nine[1] = {99};
    p.gpus = nine;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "GPU 99 does not exist");

    small_params(&p, gpu, tokens, group);
    static const int down[4] = {1, 8, 8, 256};
    p.tokens = down;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "token grid point 2");

    small_params(&p, gpu, tokens, group);
    int lg[1] = {5}, ls[1] = {8};
    p.sm_limit_gpu = lg;
    p.sm_limit_sms = ls;
    p.num_sm_limits = 1;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "SM limit for GPU 5");

    small_params(&p, gpu, tokens, group);
    p.dtype = "fp8";
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "only bf16");

    small_params(&p, gpu, tokens, group);
    p.rounds = 0;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "rounds 0");

    small_params(&p, gpu, tokens, group);
    p.repeats = 1;
    CHECK_INT_EQ(moemap_profile_run(&p, &r, &err), MOEMAP_EINVAL);
    CHECK(r == NULL);
}

int main(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0)
        SKIP_ALL("no CUDA GPU");
    RUN(default_grid);
    RUN(cli_usage_errors);
    RUN(check_macros_name_the_call);
    RUN(expert_ffn_matches_cpu);
    RUN(grouped_equals_single_runs);
    RUN(green_context);
    RUN(profile_small_shape);
    RUN(profile_bad_params);
    RUN(cli_profile_small);
    return mm_test_done();
}

#endif
