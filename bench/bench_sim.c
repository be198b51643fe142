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
 *                         With a 5th argument "mixed", placements are made on 512- and
 *                         2048-token batches (the engine's operating mix), (a) and (b) only.
 *   bench_sim write DIR   writes the cluster, loads and placements of (a) for CLI runs.
 *
 * Data from $MOEMAP_DATA (default ../shared/data). Expert cost curves are roofline-shaped
 * (stated below), since no measured H200 profile is committed yet.
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

/* Expert curve from a roofline at 60% of an H200's peak: 5 us launch + max(weights /
 * 4.3 TB/s, tokens x 6 x hidden x inter FLOPs / (0.6 x 790 TFLOP/s)). */
static void roofline_curve(int hidden, int inter, double *tok, double *us, int *n)
{
    static const double pts[] = {1, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    double bytes = 3.0 * hidden * inter * 2, flop = 6.0 * hidden * inter;
    *n = (int)(sizeof pts / sizeof pts[0]);
    for (int i = 0; i < *n; i++) {
        double tb = bytes / 4.3e12, tf = pts[i] * flop / (0.6 * 790e12);
        tok[i] = pts[i];
        us[i] = 5 + 1e6 * (tb > tf ? tb : tf);
    }
}

/* Where GPU speeds come from: the real 32-GPU cluster of the PAL data (normalised
 * slowdowns of class A workloads), a draw from the 392 V100s of the PAL sgemm runs, or
 * identical GPUs. */
enum { SPEEDS_SAME = 0, SPEEDS_PAL32, SPEEDS_SGEMM };

/* A cluster of n GPUs, 8 per node, `slots` slots, speeds as `src` says. */
static moemap_cluster *cluster(const moemap_model *m, int n, int slots, int src, uint64_t seed)
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
    double tok[16], us[16];
    int np;
    roofline_curve(m->hidden, m->expert_intermediate, tok, us, &np);
    moemap_curve base = {np, tok, us, 0.02};
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
    moemap_cluster *c = cluster(m, G, 9, SPEEDS_PAL32, 1);
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
        s->het = cluster(s->m, 32, 9, SPEEDS_PAL32, 1);
        s->same = cluster(s->m, 32, 9, SPEEDS_SAME, 1);
        snprintf(s->desc, sizeof s->desc,
                 "DeepSeek-V3 (58 MoE layers x 256 experts, top-8) on 32 GPUs x 9 slots, "
                 "speeds of the real 32-GPU cluster in the PAL data (32gpu-variability.csv, "
                 "class A); routing: moemap gen, DeepSeek-V3 shape (zipf 0.5, consistent and "
                 "bursty experts), 128 batches of 512 tokens");
    } else {
        s->m = moemap_model_find("deepseek-v2-lite", NULL);
        s->ld = esft("law", 512);
        s->drift_to = esft("translation", 512);
        s->het = cluster(s->m, 8, 9, SPEEDS_SGEMM, 3);
        s->same = cluster(s->m, 8, 9, SPEEDS_SAME, 3);
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
}

static void speeds(const moemap_cluster *c)
{
    printf("GPU speeds: ");
    for (int g = 0; g < c->num_gpus; g++)
        printf("%.3f ", c->gpus[g].speed);
    printf("\n");
}

/* The workload with, after its batches, sums of 4 consecutive ones: placements made on it
 * see both decode-sized and prefill-sized iterations (the engine's operating mix). */
static moemap_loads *mixed(const moemap_loads *ld)
{
    int nb = ld->num_batches, na = nb / 4, L = ld->num_layers, E = ld->experts;
    moemap_loads *w = NULL;
    moemap_error err = {0};
    if (moemap_loads_create(E, ld->top_k, L, nb + na, &w, &err))
        die("mixed loads", &err);
    for (int l = 0; l < L; l++)
        w->layer_ids[l] = ld->layer_ids[l];
    for (int b = 0; b < nb; b++) {
        w->batch_tokens[b] = ld->batch_tokens[b];
        for (int l = 0; l < L; l++)
            for (int e = 0; e < E; e++)
                MOEMAP_LOADS_AT(w, b, l, e) = MOEMAP_LOADS_AT(ld, b, l, e);
    }
    for (int k = 0; k < na; k++)
        for (int j = 0; j < 4; j++) {
            w->batch_tokens[nb + k] += ld->batch_tokens[4 * k + j];
            for (int l = 0; l < L; l++)
                for (int e = 0; e < E; e++)
                    MOEMAP_LOADS_AT(w, nb + k, l, e) += MOEMAP_LOADS_AT(ld, 4 * k + j, l, e);
        }
    return w;
}

static int place_on_mix; /* 1: placements are made on mixed(ld) */

/* One scenario: every strategy on the same arrivals and seed. */
static void scenario(const char *title, const moemap_model *m, const moemap_cluster *c,
                     const moemap_loads *ld, const moemap_arrivals *a,
                     const moemap_sim_params *sp)
{
    static const char *const strategies[] = {"eplb", "gem", "vibe", "moemap"};
    printf("\n%s\n\n", title);
    header();
    for (int i = 0; i < 4; i++) {
        double t0 = now();
        moemap_loads *mx = place_on_mix ? mixed(ld) : NULL;
        moemap_placement *p = place(mx ? mx : ld, c, strategies[i]);
        moemap_loads_free(mx);
        double t1 = now();
        moemap_sim_result *r = sim(m, c, p, ld, a, sp);
        fprintf(stderr, "%s: placed in %.1f s, simulated in %.1f s\n", strategies[i], t1 - t0,
                now() - t1);
        row(strategies[i], r);
        moemap_sim_result_free(r);
        moemap_placement_free(p);
    }
}

/* SLO targets: TTFT 1 s; TPOT 50 ms for DeepSeek-V3, 10 ms for the 16B DeepSeek-V2-Lite
 * (its decode iterations take a few ms). */
static moemap_sim_params slo_params(const setup *s)
{
    moemap_sim_params sp = moemap_sim_default_params();
    sp.slo_ttft_s = 1.0;
    sp.slo_tpot_s = !strcmp(s->name, "dsv3") ? 0.05 : 0.01;
    return sp;
}

static int bench_strategies(const char *name, double rate_scale, double duration)
{
    setup s;
    setup_make(name, &s);
    moemap_arrivals *a = azure("conv", duration, rate_scale);
    moemap_sim_params sp = slo_params(&s);
    sp.horizon_s = duration;
    printf("%s.\nAzure conv arrivals, first %.0f s at %.1fx rate (%ld requests); SLO: TTFT <= "
           "%g s and TPOT <= %g ms; seed 1\n",
           s.desc, duration, rate_scale, a->n, sp.slo_ttft_s, sp.slo_tpot_s * 1e3);
    speeds(s.het);
    if (place_on_mix)
        printf("Placements made on the routing's 512-token batches plus sums of 4 consecutive "
               "ones (2048 tokens)\n");
    scenario("(a) GPUs of unequal speed, skewed routing", s.m, s.het, s.ld, a, &sp);
    if (place_on_mix) {
        scenario("(b) identical GPUs, the same routing", s.m, s.same, s.ld, a, &sp);
        moemap_arrivals_free(a);
        setup_free(&s);
        return 0;
    }
    scenario("(b) identical GPUs, the same routing", s.m, s.same, s.ld, a, &sp);
    scenario("(c) GPUs of unequal speed, nearly uniform routing (zipf 0, noise 0.05)", s.m,
             s.het, s.uni, a, &sp);
    scenario("(d) identical GPUs, nearly uniform routing", s.m, s.same, s.uni, a, &sp);
    moemap_arrivals_free(a);
    setup_free(&s);
    return 0;
}

static int bench_drift(const char *name, double rate_scale, double duration)
{
    setup s;
    setup_make(name, &s);
    moemap_arrivals *a = azure("conv", duration, rate_scale);
    moemap_placement *p = place(s.ld, s.het, "moemap");
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
           "periodic re-runs %s; SLO TTFT <= %g s, TPOT <= %g ms\n\n",
           s.desc, duration / 3, !strcmp(name, "dsv3") ? "gen seed 2" : "ESFT translation",
           duration / 2, duration, rate_scale, a->n, sp.recal_interval, sp.recal_window,
           sp.drift_threshold, sp.strategy, sp.slo_ttft_s, sp.slo_tpot_s * 1e3);
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
        moemap_placement *p = place(s.ld, s.het, strategies[i]);
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
    place_on_mix = argc > 5 && !strcmp(argv[5], "mixed");
    if (!strcmp(what, "strategies"))
        return bench_strategies(name, rate > 0 ? rate : 8, dur > 0 ? dur : 600);
    if (!strcmp(what, "drift"))
        return bench_drift(name, rate > 0 ? rate : 8, dur > 0 ? dur : 900);
    if (!strcmp(what, "write") && argc > 3)
        return bench_write(name, argv[3]);
    fprintf(stderr, "usage: bench_sim speed | strategies SETUP [RATE_SCALE DURATION] | drift "
                    "SETUP [RATE_SCALE DURATION] | write SETUP DIR   (SETUP: dsv2lite, dsv3)\n");
    return 2;
}
