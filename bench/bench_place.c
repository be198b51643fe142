/*
 * bench_place.c — benchmarks of the placement engine (issue 4).
 *
 *   bench_place speed   [--reps N] [--strategies a,b] [--gpus 32|64|128|256]
 *       whole-model placement time at DeepSeek-V3 scale: 58 MoE layers x 256 experts,
 *       top-8, loads from moemap_gen (256 batches of 4096 tokens), on 32/64/128/256 GPUs
 *       with 288-512 slots; each strategy timed over N runs (best and median wall time).
 *   bench_place quality [--data DIR] [--gpus G] [--slots S] [--strategies a,b]
 *                       [--dispatch token-gpu|token-expert|off]
 *       quality on real routing: the four ESFT tasks of ../shared/data, grouped into
 *       batches of 512 and 4096 tokens, on three clusters (homogeneous; speeds drawn from
 *       the PAL SGEMM V100 population; homogeneous with GPU 0 throttled to 0.8x): each
 *       strategy's mean and p90 model straggler time (expert compute), the lower bound and
 *       the gap, and the whole layer with dispatch and combine; placed and judged with
 *       --dispatch (default token-gpu; off: the compute-only model of issue 4).
 *
 * Every GPU uses DESIGN.md's example H200 curve shape (60 us floor to ~64 tokens, then
 * linear, 560 us at 4096 tokens), scaled by its speed. Results go to stdout as Markdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moemap.h"
#include "base_util.h"

static const double CURVE_T[5] = {1, 64, 256, 1024, 4096};
static const double CURVE_US[5] = {60, 61, 75, 150, 560};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const moemap_error *err)
{
    fprintf(stderr, "bench_place: %s: %s\n", what, err->msg);
    exit(1);
}

static moemap_curve base_curve(void)
{
    moemap_curve c = {5, (double *)CURVE_T, (double *)CURVE_US, 0};
    return c;
}

/* speeds NULL: homogeneous; population: drawn; throttle0: GPU 0 at 0.8x. */
static moemap_cluster *make_cluster(int G, int slots, const moemap_gpu_population *pop,
                                    int throttle0, uint64_t seed)
{
    moemap_error err = {0};
    moemap_curve base = base_curve();
    double *ones = malloc((size_t)G * sizeof *ones);
    for (int g = 0; g < G; g++)
        ones[g] = 1.0;
    int tg = 0;
    double tf = 0.8;
    moemap_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.num_gpus = G;
    sp.gpus_per_node = 8;
    sp.seed = seed;
    sp.slots = slots;
    sp.population = pop;
    if (!pop) {
        sp.speeds = ones;
        sp.num_speeds = G;
    }
    sp.base = &base;
    sp.hidden = 7168;
    sp.intermediate = 2048;
    if (throttle0) {
        sp.throttle_gpu = &tg;
        sp.throttle_factor = &tf;
        sp.num_throttle = 1;
    }
    sp.intra_node_GBps = 450;
    sp.inter_node_GBps = 50;
    sp.latency_us = 10;
    moemap_cluster *c;
    if (moemap_cluster_synth(&sp, &c, &err) != 0)
        die("cluster synth", &err);
    free(ones);
    return c;
}

static int in_list(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int speed(int reps, const char *only, int only_gpus)
{
    moemap_error err = {0};
    moemap_gen_params gp = moemap_gen_default_params();
    const moemap_model *m = moemap_model_find("deepseek-v3", &err);
    if (!m)
        die("model", &err);
    moemap_gen_params_from_model(&gp, m);
    moemap_loads *ld;
    if (moemap_gen(&gp, &ld, &err) != 0)
        die("gen", &err);
    printf("DeepSeek-V3 shape: %d MoE layers x %d experts, top-%d, %d batches of %ld tokens "
           "(moemap_gen defaults, seed %llu)\n\n", ld->num_layers, ld->experts, ld->top_k,
           ld->num_batches, gp.batch_tokens, (unsigned long long)gp.seed);
    printf("| GPUs | slots/GPU | total slots | strategy | best ms | median ms | CPU ms (median) | mean straggler us | gap to bound |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    const int gpus[4] = {32, 64, 128, 256};
    const int slots[4] = {9, 6, 4, 2}; /* 288, 384, 512, 512 slots */
    for (int k = 0; k < 4; k++) {
        if (only_gpus > 0 && gpus[k] != only_gpus)
            continue;
        moemap_cluster *c = make_cluster(gpus[k], slots[k], NULL, 0, 1);
        for (const char *const *s = moemap_place_strategy_names(); *s; s++) {
            if (!in_list(only, *s) || !strcmp(*s, "exact"))
                continue;
            double t[32], cpu[32];
            moemap_placement *p = NULL;
            int n = reps < 32 ? reps : 32;
            for (int r = 0; r < n; r++) {
                moemap_place_params pp = moemap_place_default_params();
                pp.strategy = *s;
                pp.no_predicted = 1; /* time the strategy, not the evaluation pass */
                moemap_placement_free(p);
                double t0 = mm_now_s(), c0 = cpu_s();
                if (moemap_place(ld, c, &pp, &p, &err) != 0)
                    die(*s, &err);
                t[r] = (mm_now_s() - t0) * 1e3;
                cpu[r] = (cpu_s() - c0) * 1e3;
            }
            qsort(t, (size_t)n, sizeof *t, cmp_d);
            qsort(cpu, (size_t)n, sizeof *cpu, cmp_d);
            moemap_eval_summary *es;
            if (moemap_eval_placement(ld, c, p, NULL, &es, &err) != 0)
                die("eval", &err);
            printf("| %d | %d | %d | %s | %.1f | %.1f | %.1f | %.0f | %.1f%% |\n", gpus[k],
                   slots[k], gpus[k] * slots[k], *s, t[0], t[n / 2], cpu[n / 2], es->mean_us,
                   100 * es->gap);
            fflush(stdout);
            moemap_eval_summary_free(es);
            moemap_placement_free(p);
        }
        moemap_cluster_free(c);
    }
    moemap_loads_free(ld);
    return 0;
}

static int quality(const char *data, int G, int slots, const char *only,
                   const moemap_a2a_params *a2a)
{
    moemap_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv",
             data);
    moemap_gpu_population *pop;
    if (moemap_gpu_population_read(path, NULL, &pop, &err) != 0)
        die(path, &err);
    const char *tasks[4] = {"intent", "law", "summary", "translation"};
    const long bt[2] = {512, 4096};
    const char *cname[3] = {"homogeneous", "PAL-sgemm", "one GPU 0.8x"};
    printf("%d GPUs x %d slots; ESFT DeepSeek-V2-Lite routing (26 MoE layers x 64 experts, top-6)\n\n",
           G, slots);
    printf("| task | batch tokens | cluster | strategy | mean us | p90 us | bound us | gap | vs eplb "
           "| whole layer us | vs eplb |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int t = 0; t < 4; t++) {
        for (int bi = 0; bi < 2; bi++) {
            snprintf(path, sizeof path, "%s/esft-dsv2lite-routing/expert_scores/%s", data, tasks[t]);
            moemap_read_params rp = moemap_read_default_params();
            rp.batch_tokens = bt[bi];
            moemap_loads *ld;
            if (moemap_workload_read(path, &rp, &ld, NULL, &err) != 0)
                die(path, &err);
            for (int k = 0; k < 3; k++) {
                moemap_cluster *c = make_cluster(G, slots, k == 1 ? pop : NULL, k == 2, 7);
                double eplb_mean = 0, eplb_layer = 0;
                /* eplb first: the other rows are compared with it */
                const char *order[32];
                int no = 0;
                order[no++] = "eplb";
                for (const char *const *s = moemap_place_strategy_names(); *s && no < 32; s++)
                    if (strcmp(*s, "eplb") != 0)
                        order[no++] = *s;
                for (int oi = 0; oi < no; oi++) {
                    const char *const *s = &order[oi];
                    if (!in_list(only, *s) || !strcmp(*s, "exact"))
                        continue;
                    moemap_place_params pp = moemap_place_default_params();
                    pp.strategy = *s;
                    pp.a2a = *a2a;
                    moemap_placement *p;
                    if (moemap_place(ld, c, &pp, &p, &err) != 0)
                        die(*s, &err);
                    moemap_eval_params ep = moemap_eval_default_params();
                    ep.a2a = *a2a;
                    moemap_eval_summary *es;
                    if (moemap_eval_placement(ld, c, p, &ep, &es, &err) != 0)
                        die("eval", &err);
                    if (!strcmp(*s, "eplb")) {
                        eplb_mean = es->mean_us;
                        eplb_layer = es->layer_mean_us;
                    }
                    char vs[32] = "", vl[32] = "";
                    if (eplb_mean > 0)
                        snprintf(vs, sizeof vs, "%+.1f%%", 100 * (es->mean_us / eplb_mean - 1));
                    if (eplb_layer > 0)
                        snprintf(vl, sizeof vl, "%+.1f%%",
                                 100 * (es->layer_mean_us / eplb_layer - 1));
                    printf("| %s | %ld | %s | %s | %.0f | %.0f | %.0f | %.1f%% | %s | %.0f | %s |\n",
                           tasks[t], bt[bi], cname[k], *s, es->mean_us, es->p90_us,
                           es->bound_mean_us, 100 * es->gap, vs, es->layer_mean_us, vl);
                    fflush(stdout);
                    moemap_eval_summary_free(es);
                    moemap_placement_free(p);
                }
                moemap_cluster_free(c);
            }
            moemap_loads_free(ld);
        }
    }
    moemap_gpu_population_free(pop);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "speed") && strcmp(argv[1], "quality"))) {
        fprintf(stderr, "usage: bench_place speed [--reps N] [--strategies a,b] [--gpus G]\n"
                        "       bench_place quality [--data DIR] [--gpus G] [--slots S] "
                        "[--strategies a,b] [--dispatch D]\n");
        return 2;
    }
    const char *data = getenv("MOEMAP_DATA");
    if (!data || !*data)
        data = "../shared/data";
    const char *only = NULL;
    int reps = 3, G = 8, slots = 10, gpus_given = 0;
    moemap_a2a_params a2a = moemap_a2a_default_params();
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data"))
            data = argv[i + 1];
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--gpus"))
            G = gpus_given = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--slots"))
            slots = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--strategies"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--dispatch")) {
            int d = moemap_dispatch_from_name(argv[i + 1]);
            if (d < 0 && strcmp(argv[i + 1], "off")) {
                fprintf(stderr, "bench_place: --dispatch: token-gpu, token-expert or off\n");
                return 2;
            }
            a2a.off = d < 0;
            a2a.dispatch = d < 0 ? MOEMAP_DISPATCH_TOKEN_GPU : (moemap_dispatch)d;
        }
        else {
            fprintf(stderr, "bench_place: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (reps < 1 || G < 1 || slots < 1) {
        fprintf(stderr, "bench_place: --reps, --gpus and --slots must be >= 1\n");
        return 2;
    }
    return !strcmp(argv[1], "speed") ? speed(reps, only, gpus_given)
                                     : quality(data, G, slots, only, &a2a);
}
