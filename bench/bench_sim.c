/*
 * bench_sim.c — benchmarks and experiments of the serving simulator (results in
 * bench/results/sim*.md):
 *
 *   bench_sim speed       one hour of the Azure conversation trace, DeepSeek-V3 shape
 *                         (58 MoE layers x 256 experts) on 32 GPUs: wall time of the
 *                         simulation and of one iteration evaluation.
 *   bench_sim strategies  eplb / gem / vibe / moemap placements served on the same
 *                         arrivals: (a) GPUs whose speeds are drawn from real variability
 *                         data (PAL sgemm, V100 Longhorn), real ESFT routing; (b) identical
 *                         GPUs, same routing; (c) PAL speeds, nearly uniform routing.
 *   bench_sim drift       a task switch (ESFT law -> translation) plus a GPU throttled
 *                         mid-run: SLO attainment and bytes moved per recalibration policy.
 *   bench_sim write DIR   writes the cluster, loads and placements of (a) for CLI runs.
 *
 * Data from $MOEMAP_DATA (default ../shared/data). Expert cost curves are measured H200
 * profiles from data/profiles ($MOEMAP_PROFILES; see measured_curve below).
 *   bench_sim scan SETUP 0 DURATION PLACE_TOKENS RATE...   eplb's SLO attainment per rate
 *                         (finds the operating point near capacity); scan-same: the same on
 *                         identical GPUs. identical SETUP RATE DURATION PLACE_TOKENS: the
 *                         strategies on identical GPUs alone, at their own operating point.
 * PLACE_TOKENS: placements are made on batches of that many tokens (sliding sums of
 * consecutive 512-token batches), the size of the engine's iterations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "moemap.h"
#include "sim/sim_internal.h"

static const char *data(const char *rel)
{
    static char buf[4][2048];
    static int k;
    const char *root = getenv("MOEMAP_DATA");
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", root && *root ? root : "../shared/data", rel);
    return b;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of this process: what the work costs when the machine is shared. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const moemap_error *err)
{
    fprintf(stderr, "bench_sim: %s: %s\n", what, err->msg);
    exit(1);
}

/* Expert cost curves, measured on an H200 by `moemap profile` (data/profiles, committed):
 * DeepSeek-V3 uses its own expert's curve (7168 x 2048). DeepSeek-V2-Lite's expert
 * (2048 x 1408) was not profiled; it uses the Qwen3-30B-A3B curve (2048 x 768: the same
 * hidden size) at equal FLOPs, i.e. n tokens of a 1408-wide expert cost what 1408/768 n
 * tokens cost the 768-wide one (the launch-bound floor stays as measured). The profile
 * directory is $MOEMAP_PROFILES, default data/profiles (run from the repository root). */
static char curve_desc[1024];

static void measured_curve(const moemap_model *m, double *tok, double *us, int *n, double *cv)
{
    const char *dir = getenv("MOEMAP_PROFILES");
    int v3 = m->expert_intermediate == 2048 && m->hidden == 7168;
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "data/profiles",
             v3 ? "h200-deepseek-v3.json" : "h200-qwen3-30b-a3b.json");
    moemap_cluster *pc = NULL;
    moemap_error err = {0};
    if (moemap_cluster_read(path, &pc, &err))
        die(path, &err);
    if (pc->base.n < 2 || pc->base.n > 64)
        die(path, &(moemap_error){.msg = "base curve missing or too long"});
    double scale = v3 ? 1.0 : (double)pc->intermediate / m->expert_intermediate;
    *n = pc->base.n;
    for (int i = 0; i < *n; i++) {
        tok[i] = pc->base.tokens[i] * scale;
        us[i] = pc->base.us[i];
    }
    *cv = pc->base.cv;
    snprintf(curve_desc, sizeof curve_desc,
             "%s (measured H200 %d x %d curve%s, cv %.3f; %.1f us at 1 token, %.0f us at 8192)",
             path, pc->hidden, pc->intermediate,
             v3 ? "" : ", tokens scaled by 768/1408 for the 2048 x 1408 expert", *cv,
             moemap_curve_eval(&(moemap_curve){*n, tok, us, *cv}, 1),
             moemap_curve_eval(&(moemap_curve){*n, tok, us, *cv}, 8192));
    moemap_cluster_free(pc);
}

/* Where GPU speeds come from: the real 32-GPU cluster of the PAL data (normalised
 * slowdowns of class A workloads), a draw from the 392 V100s of the PAL sgemm runs, or
 * identical GPUs. */
enum { SPEEDS_SAME = 0, SPEEDS_PAL32, SPEEDS_SGEMM };

/* A cluster of n GPUs, 8 per node, `slots` slots, speeds as `src` says; `throttle` > 0
 * multiplies GPU 0's speed by it (a GPU held at a power or thermal limit). */
static moemap_cluster *cluster(const moemap_model *m, int n, int slots, int src, uint64_t seed,
                               double throttle)
{
    moemap_error err = {0};
    moemap_gpu_population *pop = NULL;
    int pal = src != SPEEDS_SAME;
    moemap_variability_params vp = {0};
    vp.column = src == SPEEDS_PAL32 ? "PerfVar_classA" : "perf";
    vp.min_runs = src == SPEEDS_PAL32 ? 1 : 3;
    if (pal && moemap_gpu_population_read(
                   data(src == SPEEDS_PAL32
                            ? "gpu-variability-pal/aggregated_data/32gpu-variability.csv"
                            : "gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv"),
                   &vp, &pop, &err))
        die("PAL population", &err);
    double tok[64], us[64], cv;
    int np;
    measured_curve(m, tok, us, &np, &cv);
    moemap_curve base = {np, tok, us, cv};
    const int tg = 0;
    double *ones = malloc((size_t)n * sizeof *ones);
    for (int i = 0; i < n; i++)
        ones[i] = 1.0;
    moemap_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.num_gpus = n;
    sp.gpus_per_node = 8;
    sp.seed = seed;
    sp.slots = slots;
    sp.population = pop;
    sp.speeds = pal ? NULL : ones;
    sp.num_speeds = pal ? 0 : n;
    sp.base = &base;
    sp.hidden = m->hidden;
    sp.intermediate = m->expert_intermediate;
    sp.intra_node_GBps = 450;
    sp.inter_node_GBps = 50;
    sp.latency_us = 10;
    if (throttle > 0) {
        sp.throttle_gpu = &tg;
        sp.throttle_factor = &throttle;
        sp.num_throttle = 1;
    }
    moemap_cluster *c = NULL;
    if (moemap_cluster_synth(&sp, &c, &err))
        die("cluster synth", &err);
    free(ones);
    moemap_gpu_population_free(pop);
    return c;
}

static moemap_loads *esft(const char *task, long batch_tokens)
{
    char rel[256];
    snprintf(rel, sizeof rel, "esft-dsv2lite-routing/expert_scores/%s", task);
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = batch_tokens;
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_workload_read(data(rel), &rp, &ld, NULL, &err))
        die(task, &err);
    return ld;
}

static moemap_placement *place(const moemap_loads *ld, const moemap_cluster *c,
                               const char *strategy)
{
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = strategy;
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_place(ld, c, &pp, &p, &err))
        die(strategy, &err);
    return p;
}

static moemap_arrivals *azure(const char *which, double duration, double rate_scale)
{
    char rel[256];
    snprintf(rel, sizeof rel, "azure-llm-2023/data/AzureLLMInferenceTrace_%s.csv", which);
    moemap_arrivals *a = NULL, *w = NULL;
    moemap_error err = {0};
    if (moemap_arrivals_read(data(rel), &a, &err) ||
        moemap_arrivals_window(a, duration, rate_scale, &w, &err))
        die("arrivals", &err);
    moemap_arrivals_free(a);
    return w;
}

static moemap_sim_result *sim(const moemap_model *m, const moemap_cluster *c,
                              const moemap_placement *p, const moemap_loads *ld,
                              const moemap_arrivals *a, const moemap_sim_params *sp)
{
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    if (moemap_simulate(m, c, p, ld, a, sp, &r, &err))
        die("simulate", &err);
    return r;
}

static void header(void)
{
    printf("| run | TTFT p50 s | TTFT p90 s | TTFT p99 s | TPOT p50 ms | TPOT p90 ms | "
           "TPOT p99 ms | E2E p90 s | SLO att. | goodput req/s | barrier idle %% | moved GB |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void row(const char *label, const moemap_sim_result *r)
{
    double idle = 0;
    for (int g = 0; g < r->num_gpus; g++)
        idle += r->gpu_idle_s[g];
    idle = 100 * idle / (r->num_gpus * r->sim_time_s);
    printf("| %s | %.3f | %.3f | %.3f | %.2f | %.2f | %.2f | %.2f | %.1f%% | %.2f | %.1f | "
           "%.2f |\n",
           label, r->ttft.p50, r->ttft.p90, r->ttft.p99, r->tpot.p50 * 1e3, r->tpot.p90 * 1e3,
           r->tpot.p99 * 1e3, r->e2e.p90, 100 * r->slo_attainment, r->goodput_rps, idle,
           r->migration_bytes / 1e9);
    fflush(stdout);
}

static int bench_speed_n(int G)
{
    const moemap_model *m = moemap_model_find("deepseek-v3", NULL);
    moemap_gen_params gp = moemap_gen_default_params();
    moemap_gen_params_from_model(&gp, m);
    gp.batches = 256;
    gp.batch_tokens = 4096;
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_gen(&gp, &ld, &err))
        die("gen", &err);
    moemap_cluster *c = cluster(m, G, 9, SPEEDS_PAL32, 1, 0);
    double t0 = now();
    moemap_placement *p = place(ld, c, "eplb");
    double t_place = now() - t0;
    moemap_arrivals *a = azure("conv", 0, 1.0);
    moemap_sim_params sp = moemap_sim_default_params();
    t0 = now();
    double c0 = cpu();
    moemap_sim_result *r = sim(m, c, p, ld, a, &sp);
    double wall = now() - t0, cput = cpu() - c0;
    printf("DeepSeek-V3 shape (%d layers, %d MoE x %d experts, top-%d) on %d GPUs (9 slots),"
           " eplb placement (%.2f s to place)\n",
           m->num_layers, moemap_model_moe_layer_count(m), m->experts, m->top_k, G, t_place);
    printf("Azure conv trace, %ld requests over %.0f s simulated: %ld iterations in %.2f s "
           "wall, %.2f s CPU (%.2f us CPU per iteration incl. table fills, scheduling and "
           "metrics)\n",
           r->requests, r->sim_time_s, r->iterations, wall, cput, cput / r->iterations * 1e6);
    printf("TTFT p50/p90/p99 %.3f/%.3f/%.3f s, TPOT p50/p90/p99 %.2f/%.2f/%.2f ms, mean "
           "iteration %.2f ms, MoE share %.2f\n",
           r->ttft.p50, r->ttft.p90, r->ttft.p99, r->tpot.p50 * 1e3, r->tpot.p90 * 1e3,
           r->tpot.p99 * 1e3, r->mean_iteration_ms, r->moe_share);
    moemap_sim_result_free(r);
    /* One iteration evaluation alone, tables warm: 1024-token and 256-token iterations. */
    itermodel *im = NULL;
    if (itermodel_create(m, c, p, ld, &sp, &im, &err))
        die("itermodel", &err);
    double *idle = calloc((size_t)G, sizeof *idle);
    moemap_rng rng;
    moemap_rng_seed(&rng, 1);
    sim_batch b = {1024, 200, 2, 1024 * 900.0, 200 * 1500.0};
    sim_iter it;
    for (int i = 0; i < 20000; i++) /* warm every (batch, bucket) used */
        itermodel_eval(im, &b, &rng, idle, &it);
    const int N = 200000;
    t0 = cpu();
    double sink = 0;
    for (int i = 0; i < N; i++) {
        b.tokens = i & 1 ? 1024 : 256;
        itermodel_eval(im, &b, &rng, idle, &it);
        sink += it.time_s;
    }
    double per = (cpu() - t0) / N;
    printf("one iteration evaluation (58 MoE + 3 dense layers, %d GPUs, jitter on, tables "
           "warm): %.2f us CPU (checksum %.3f)\n", G, per * 1e6, sink);
    free(idle);
    itermodel_free(im);
    moemap_arrivals_free(a);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
    return 0;
}

static int bench_speed(void)
{
    bench_speed_n(32);
    printf("\n");
    return bench_speed_n(64);
}

/* A model, its workloads and clusters. */
typedef struct setup {
    const char *name;
    const moemap_model *m;
    moemap_loads *ld;       /* routing the placements are made for */
    moemap_loads *drift_to; /* the routing after a task switch */
    moemap_loads *uni;      /* nearly uniform routing */
    moemap_cluster *het;    /* GPUs of unequal speed from real variability data */
    moemap_cluster *same;   /* identical GPUs */
    moemap_cluster *thr;    /* identical GPUs but GPU 0 throttled to 0.8x */
    char desc[512];
} setup;

static moemap_loads *gen(const moemap_model *m, double zipf, int skewed, uint64_t seed)
{
    moemap_gen_params gp = moemap_gen_default_params();
    moemap_gen_params_from_model(&gp, m);
    gp.batches = 128;
    gp.batch_tokens = 512;
    gp.seed = seed;
    gp.zipf = zipf;
    if (!skewed) {
        gp.consistent = 0;
        gp.temporal_groups = 0;
        gp.noise = 0.05;
    }
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_gen(&gp, &ld, &err))
        die("gen", &err);
    return ld;
}

static void setup_make(const char *name, setup *s)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    if (!strcmp(name, "dsv3")) {
        s->m = moemap_model_find("deepseek-v3", NULL);
        s->ld = gen(s->m, 0.5, 1, 1);
        s->drift_to = gen(s->m, 0.5, 1, 2);
        s->het = cluster(s->m, 32, 9, SPEEDS_PAL32, 1, 0);
        s->same = cluster(s->m, 32, 9, SPEEDS_SAME, 1, 0);
        s->thr = cluster(s->m, 32, 9, SPEEDS_SAME, 1, 0.8);
        snprintf(s->desc, sizeof s->desc,
                 "DeepSeek-V3 (58 MoE layers x 256 experts, top-8) on 32 GPUs x 9 slots, "
                 "speeds of the real 32-GPU cluster in the PAL data (32gpu-variability.csv, "
                 "class A); routing: moemap gen, DeepSeek-V3 shape (zipf 0.5, consistent and "
                 "bursty experts), 128 batches of 512 tokens");
    } else {
        s->m = moemap_model_find("deepseek-v2-lite", NULL);
        s->ld = esft("law", 512);
        s->drift_to = esft("translation", 512);
        s->het = cluster(s->m, 8, 9, SPEEDS_SGEMM, 3, 0);
        s->same = cluster(s->m, 8, 9, SPEEDS_SAME, 3, 0);
        s->thr = cluster(s->m, 8, 9, SPEEDS_SAME, 3, 0.8);
        snprintf(s->desc, sizeof s->desc,
                 "DeepSeek-V2-Lite (26 MoE layers x 64 experts, top-6) on 8 GPUs x 9 slots, "
                 "speeds drawn (seed 3) from the 392 V100s of PAL sgemm-longhorn; routing: "
                 "real ESFT traces (law), batches of 512 tokens");
    }
    s->uni = gen(s->m, 0, 0, 1);
}

static void setup_free(setup *s)
{
    moemap_loads_free(s->ld);
    moemap_loads_free(s->drift_to);
    moemap_loads_free(s->uni);
    moemap_cluster_free(s->het);
    moemap_cluster_free(s->same);
    moemap_cluster_free(s->thr);
}

static void speeds(const moemap_cluster *c)
{
    printf("GPU speeds: ");
    for (int g = 0; g < c->num_gpus; g++)
        printf("%.3f ", c->gpus[g].speed);
    printf("\n");
}

/* Placements are made on batches of the size the engine runs: each batch of the workload
 * the simulator replays (512 tokens) summed with the k-1 that follow it (cyclically), so
 * there are as many placement batches as replayed ones, each k x 512 tokens — what an
 * iteration of k x 512 tokens sees, since the simulator builds large iterations the same
 * way. k = 1 places on the 512-token batches themselves. */
static int place_k = 1;

static moemap_loads *windows(const moemap_loads *ld, int k)
{
    int nb = ld->num_batches, L = ld->num_layers, E = ld->experts;
    moemap_loads *w = NULL;
    moemap_error err = {0};
    if (moemap_loads_create(E, ld->top_k, L, nb, &w, &err))
        die("window loads", &err);
    for (int l = 0; l < L; l++)
        w->layer_ids[l] = ld->layer_ids[l];
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < k; j++) {
            int src = (b + j) % nb;
            w->batch_tokens[b] += ld->batch_tokens[src];
            for (int l = 0; l < L; l++)
                for (int e = 0; e < E; e++)
                    MOEMAP_LOADS_AT(w, b, l, e) += MOEMAP_LOADS_AT(ld, src, l, e);
        }
    return w;
}

static moemap_placement *place_engine(const moemap_loads *ld, const moemap_cluster *c,
                                      const char *strategy)
{
    moemap_loads *w = place_k > 1 ? windows(ld, place_k) : NULL;
    moemap_placement *p = place(w ? w : ld, c, strategy);
    moemap_loads_free(w);
    return p;
}

/* One scenario: every strategy on the same arrivals and seed, placed for cluster c and
 * served on it; "moemap-blind" is moemap placed for `blind` (the same GPUs, slots and
 * network, all at speed 1) and served on c: what moemap gains without knowing the speeds. */
static void scenario(const char *title, const moemap_model *m, const moemap_cluster *c,
                     const moemap_cluster *blind, const moemap_loads *ld,
                     const moemap_arrivals *a, const moemap_sim_params *sp)
{
    static const char *const strategies[] = {"eplb", "gem", "vibe", "moemap", "moemap-blind"};
    printf("\n%s\n\n", title);
    header();
    for (int i = 0; i < (blind ? 5 : 4); i++) {
        double t0 = now();
        moemap_placement *p =
            place_engine(ld, i == 4 ? blind : c, i == 4 ? "moemap" : strategies[i]);
        double t1 = now();
        moemap_sim_result *r = sim(m, c, p, ld, a, sp);
        fprintf(stderr, "%s: placed in %.1f s, simulated in %.1f s\n", strategies[i], t1 - t0,
                now() - t1);
        row(strategies[i], r);
        moemap_sim_result_free(r);
        moemap_placement_free(p);
    }
}

/* SLO targets: DeepSeek-V3 the simulator's defaults (TTFT 2 s, TPOT 100 ms: its
 * iterations take 45-55 ms with the measured H200 curve, so a 50 ms TPOT target would
 * measure the curve, not the placement); the 16B DeepSeek-V2-Lite TTFT 1 s, TPOT 20 ms
 * (its iterations take 7-10 ms; the same ~2x margin). */
static moemap_sim_params slo_params(const setup *s)
{
    moemap_sim_params sp = moemap_sim_default_params();
    int v3 = !strcmp(s->name, "dsv3");
    sp.slo_ttft_s = v3 ? 2.0 : 1.0;
    sp.slo_tpot_s = v3 ? 0.1 : 0.02;
    return sp;
}

/* eplb on the unequal cluster at several rates: where the engine nears capacity. */
static int bench_scan(const char *name, double duration, char **rates, int nrates, int same)
{
    setup s;
    setup_make(name, &s);
    moemap_cluster *c = same ? s.same : s.het;
    moemap_sim_params sp = slo_params(&s);
    sp.horizon_s = duration;
    printf("%s.\nexpert curve: %s\neplb on the %s cluster, Azure conv, first %.0f s; "
           "placed on batches of %d tokens\n\n",
           s.desc, curve_desc, same ? "identical-GPU" : "unequal", duration, 512 * place_k);
    printf("| rate x | requests | tokens/iter | iteration ms | TTFT p90 s | TPOT p90 ms | "
           "SLO att. |\n|---|---|---|---|---|---|---|\n");
    moemap_placement *p = place_engine(s.ld, c, "eplb");
    for (int i = 0; i < nrates; i++) {
        double rate = atof(rates[i]);
        moemap_arrivals *a = azure("conv", duration, rate);
        moemap_sim_result *r = sim(s.m, c, p, s.ld, a, &sp);
        printf("| %.2f | %ld | %.0f | %.2f | %.3f | %.2f | %.1f%% |\n", rate, a->n,
               r->mean_iteration_tokens, r->mean_iteration_ms, r->ttft.p90, r->tpot.p90 * 1e3,
               100 * r->slo_attainment);
        fflush(stdout);
        moemap_sim_result_free(r);
        moemap_arrivals_free(a);
    }
    moemap_placement_free(p);
    setup_free(&s);
    return 0;
}

/* Scenario (b) alone, at a rate of its own: identical GPUs have more capacity than the
 * unequal cluster, so "near capacity" is a higher rate for them. */
static int bench_identical(const char *name, double rate_scale, double duration)
{
    setup s;
    setup_make(name, &s);
    moemap_arrivals *a = azure("conv", duration, rate_scale);
    moemap_sim_params sp = slo_params(&s);
    sp.horizon_s = duration;
    printf("%s.\nexpert curve: %s\nAzure conv, first %.0f s at %.2fx (%ld requests); placed on "
           "batches of %d tokens\n",
           s.desc, curve_desc, duration, rate_scale, a->n, 512 * place_k);
    scenario("(b) identical GPUs, skewed routing", s.m, s.same, NULL, s.ld, a, &sp);
    moemap_arrivals_free(a);
    setup_free(&s);
    return 0;
}

static int bench_strategies(const char *name, double rate_scale, double duration)
{
    setup s;
    setup_make(name, &s);
    moemap_arrivals *a = azure("conv", duration, rate_scale);
    moemap_sim_params sp = slo_params(&s);
    sp.horizon_s = duration;
    printf("%s.\nexpert curve: %s\nAzure conv arrivals, first %.0f s at %.1fx rate (%ld "
           "requests); SLO: TTFT <= %g s and TPOT <= %g ms; seed 1; placements made on "
           "batches of %d tokens (%d consecutive 512-token batches)\n",
           s.desc, curve_desc, duration, rate_scale, a->n, sp.slo_ttft_s, sp.slo_tpot_s * 1e3,
           512 * place_k, place_k);
    speeds(s.het);
    scenario("(a) GPUs of unequal speed (real variability data), skewed routing", s.m, s.het,
             s.same, s.ld, a, &sp);
    scenario("(a') identical GPUs but GPU 0 throttled to 0.8x, skewed routing", s.m, s.thr,
             s.same, s.ld, a, &sp);
    scenario("(b) identical GPUs, the same routing", s.m, s.same, NULL, s.ld, a, &sp);
    scenario("(c) GPUs of unequal speed, nearly uniform routing (zipf 0, noise 0.05)", s.m,
             s.het, s.same, s.uni, a, &sp);
    scenario("(c') GPU 0 throttled to 0.8x, nearly uniform routing", s.m, s.thr, s.same, s.uni,
             a, &sp);
    moemap_arrivals_free(a);
    setup_free(&s);
    return 0;
}

static int bench_drift(const char *name, double rate_scale, double duration)
{
    setup s;
    setup_make(name, &s);
    moemap_arrivals *a = azure("conv", duration, rate_scale);
    moemap_placement *p = place_engine(s.ld, s.het, "moemap");
    moemap_sim_event ev[2];
    moemap_error err = {0};
    char s1[64], s2[64];
    snprintf(s1, sizeof s1, "switch@%g=new-task", duration / 3);
    snprintf(s2, sizeof s2, "slow@%g=2:0.6", duration / 2);
    if (moemap_sim_event_parse(s1, &ev[0], NULL, &err) ||
        moemap_sim_event_parse(s2, &ev[1], NULL, &err))
        die("event", &err);
    ev[0].loads = s.drift_to;
    moemap_sim_params sp = slo_params(&s);
    sp.events = ev;
    sp.num_events = 2;
    sp.horizon_s = duration;
    printf("%s.\nDrift: moemap placement for the first task; at %.0f s the routing switches "
           "to another task (%s), at %.0f s GPU 2 throttles to 0.6x. Azure conv, first %.0f s "
           "at %.1fx (%ld requests); recal interval %d iterations, window %d, threshold %.2f; "
           "periodic re-runs %s; SLO TTFT <= %g s, TPOT <= %g ms; initial placement on "
           "batches of %d tokens\nexpert curve: %s\n\n",
           s.desc, duration / 3, !strcmp(name, "dsv3") ? "gen seed 2" : "ESFT translation",
           duration / 2, duration, rate_scale, a->n, sp.recal_interval, sp.recal_window,
           sp.drift_threshold, sp.strategy, sp.slo_ttft_s, sp.slo_tpot_s * 1e3,
           512 * place_k, curve_desc);
    printf("| policy | TTFT p90 s | TTFT p99 s | TPOT p90 ms | TPOT p99 ms | SLO att. | "
           "recalibrations | replicas moved | moved GB | stall s |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < 4; k++) {
        sp.policy = (moemap_recal_policy)k;
        double t0 = now();
        moemap_sim_result *r = sim(s.m, s.het, p, s.ld, a, &sp);
        fprintf(stderr, "%s: %.1f s\n", moemap_recal_policy_name(sp.policy), now() - t0);
        printf("| %s | %.3f | %.3f | %.2f | %.2f | %.1f%% | %d | %ld | %.2f | %.3f |\n",
               moemap_recal_policy_name(sp.policy), r->ttft.p90, r->ttft.p99,
               r->tpot.p90 * 1e3, r->tpot.p99 * 1e3, 100 * r->slo_attainment,
               r->recalibrations, r->replicas_moved, r->migration_bytes / 1e9,
               r->migration_stall_s);
        fflush(stdout);
        moemap_sim_result_free(r);
    }
    moemap_placement_free(p);
    moemap_arrivals_free(a);
    setup_free(&s);
    return 0;
}

/* Files for CLI runs: cluster (unequal speeds), loads, placements per strategy. */
static int bench_write(const char *name, const char *dir)
{
    setup s;
    setup_make(name, &s);
    moemap_error err = {0};
    char path[1024];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/cluster.json", dir);
    if (moemap_cluster_write(s.het, path, &err))
        die(path, &err);
    snprintf(path, sizeof path, "%s/loads.json", dir);
    if (moemap_loads_write(s.ld, path, &err))
        die(path, &err);
    snprintf(path, sizeof path, "%s/drift_loads.json", dir);
    if (moemap_loads_write(s.drift_to, path, &err))
        die(path, &err);
    static const char *const strategies[] = {"eplb", "gem", "vibe", "moemap"};
    for (int i = 0; i < 4; i++) {
        moemap_placement *p = place_engine(s.ld, s.het, strategies[i]);
        snprintf(path, sizeof path, "%s/%s.json", dir, strategies[i]);
        if (moemap_placement_write(p, path, &err))
            die(path, &err);
        moemap_placement_free(p);
    }
    setup_free(&s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "speed";
    const char *name = argc > 2 ? argv[2] : "dsv2lite";
    double rate = argc > 3 ? atof(argv[3]) : 0, dur = argc > 4 ? atof(argv[4]) : 0;
    if (!strcmp(what, "speed"))
        return bench_speed();
    /* PLACE_TOKENS (5th argument): tokens per placement batch, a multiple of 512. */
    if (argc > 5) {
        place_k = atoi(argv[5]) / 512;
        if (place_k < 1 || place_k * 512 != atoi(argv[5])) {
            fprintf(stderr, "bench_sim: PLACE_TOKENS %s: a multiple of 512 expected\n", argv[5]);
            return 2;
        }
    }
    if ((!strcmp(what, "scan") || !strcmp(what, "scan-same")) && argc > 5)
        return bench_scan(name, dur > 0 ? dur : 600, argv + 6, argc - 6,
                          !strcmp(what, "scan-same"));
    if (!strcmp(what, "identical"))
        return bench_identical(name, rate > 0 ? rate : 4, dur > 0 ? dur : 600);
    if (!strcmp(what, "strategies"))
        return bench_strategies(name, rate > 0 ? rate : 8, dur > 0 ? dur : 600);
    if (!strcmp(what, "drift"))
        return bench_drift(name, rate > 0 ? rate : 8, dur > 0 ? dur : 900);
    if (!strcmp(what, "write") && argc > 3)
        return bench_write(name, argv[3]);
    fprintf(stderr, "usage: bench_sim speed | strategies SETUP [RATE_SCALE DURATION "
                    "[PLACE_TOKENS]] | drift SETUP [RATE_SCALE DURATION [PLACE_TOKENS]] | scan "
                    "[-same] SETUP 0 DURATION PLACE_TOKENS RATE... | identical SETUP RATE DURATION "
                    "PLACE_TOKENS | write SETUP DIR   (SETUP: "
                    "dsv2lite, dsv3)\n");
    return 2;
}
