/*
 * bench_scale.c — placement at scale (issue 13): time, peak memory and gaps from 32 to
 * 1,024 GPUs, the per-batch bound's speed-up, and quality against the time budget.
 *
 *   bench_scale scale  [--data DIR] [--models a,b] [--gpus 32,64,...] [--batches B]
 *                      [--strategies eplb,moemap] [--time-limit S]
 *       For each model preset (DeepSeek-V3, Kimi-K2, Qwen3-235B by default; loads from
 *       moemap_gen with the preset's shape, B batches of 4096 tokens) and each GPU count
 *       (slots per GPU: the fewest giving at least 1.125 x the experts, as DeepSeek's 288
 *       slots for 256 experts on 32 GPUs), a cluster drawn from the PAL V100 SGEMM
 *       population with the measured H200 DeepSeek-V3 curve (data/profiles), and every
 *       strategy placed by one moemap_place call with the default parameters (the
 *       predicted cost included) in a child process: wall time, peak resident memory of
 *       the child (the loads it shares with the parent, the bounds, the search, the
 *       placement), mean straggler, the gap to the per-batch bound and to the
 *       one-placement bound.
 *   bench_scale bound  [--data DIR] [--gpus ...] [--batches B]
 *       The per-batch bound of every layer and batch of the DeepSeek-V3 loads, by the
 *       bisection (main's algorithm before: one bisection, losses selected) and by the new one (a table for
 *       the busiest expert, regula falsi for pieces and tokens), cold and warm-started
 *       from the previous batch as mm_bound_loads does: time of each, the speed-up, the
 *       worst relative difference and how many new values the original finds feasible
 *       (at or above the true bound: must be 0).
 *   bench_scale budget [--data DIR] [--gpus G] [--batches B]
 *       `moemap` on DeepSeek-V3 at --time-limit 0.1, 0.3, 1 and 3: wall time of the call
 *       and quality (mean straggler, gap to both bounds).
 * Results are Markdown on stdout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cost/bound_internal.h"
#include "moemap.h"
#include "base_util.h"

static void die(const char *what, const moemap_error *err)
{
    fprintf(stderr, "bench_scale: %s: %s\n", what, err->msg);
    exit(1);
}

static const char *g_data = "../shared/data";

static moemap_cluster *make_cluster(int G, int slots)
{
    static moemap_gpu_population *pop;
    static moemap_cluster *profile;
    moemap_error err = {0};
    char path[4096];
    if (!pop) {
        snprintf(path, sizeof path,
                 "%s/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv", g_data);
        if (moemap_gpu_population_read(path, NULL, &pop, &err) != 0)
            die(path, &err);
        if (moemap_cluster_read("data/profiles/h200-deepseek-v3.json", &profile, &err) != 0)
            die("data/profiles/h200-deepseek-v3.json (run from the repository root)", &err);
    }
    moemap_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.num_gpus = G;
    sp.gpus_per_node = 8;
    sp.seed = 7;
    sp.slots = slots;
    sp.population = pop;
    sp.base = &profile->base;
    sp.hidden = 7168;
    sp.intermediate = 2048;
    sp.intra_node_GBps = 450;
    sp.inter_node_GBps = 50;
    sp.latency_us = 10;
    moemap_cluster *c;
    if (moemap_cluster_synth(&sp, &c, &err) != 0)
        die("cluster synth", &err);
    return c;
}

static moemap_loads *make_loads(const char *model, int batches)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find(model, &err);
    if (!m)
        die(model, &err);
    moemap_gen_params gp = moemap_gen_default_params();
    moemap_gen_params_from_model(&gp, m);
    gp.batches = batches;
    moemap_loads *ld;
    if (moemap_gen(&gp, &ld, &err) != 0)
        die("gen", &err);
    return ld;
}

static int slots_for(int experts, int G)
{
    int s = (int)((1.125 * experts + G - 1) / G);
    return s < 1 ? 1 : s;
}

static int parse_list(const char *s, int *out, int cap)
{
    int n = 0;
    for (const char *p = s; p && *p && n < cap; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        out[n++] = atoi(p);
    return n;
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

typedef struct run_result {
    int ok;
    double wall_s, mean_us, gap, fixed_gap, bound_us, fixed_us;
    long peak_kb;
} run_result;

/* One moemap_place call in a child process, so that its peak memory is its own. */
static run_result place_in_child(const moemap_loads *ld, const moemap_cluster *c,
                                 const char *strategy, double time_limit)
{
    run_result r;
    memset(&r, 0, sizeof r);
    int fd[2];
    if (pipe(fd) != 0)
        return r;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        moemap_error err = {0};
        moemap_place_params pp = moemap_place_default_params();
        pp.strategy = strategy;
        pp.time_limit_s = time_limit;
        moemap_placement *p = NULL;
        double t0 = mm_now_s();
        int rc = moemap_place(ld, c, &pp, &p, &err);
        r.wall_s = mm_now_s() - t0;
        moemap_eval_summary *s = NULL;
        if (!rc)
            rc = moemap_eval_placement(ld, c, p, NULL, &s, &err);
        if (!rc) {
            r.ok = 1;
            r.mean_us = s->mean_us, r.gap = s->gap, r.fixed_gap = s->fixed_gap;
            r.bound_us = s->bound_mean_us, r.fixed_us = s->fixed_bound_mean_us;
        } else {
            fprintf(stderr, "bench_scale: %s: %s\n", strategy, err.msg);
        }
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            r.peak_kb = ru.ru_maxrss; /* the child's own peak: it copied the loads' pages */
        if (write(fd[1], &r, sizeof r) != (ssize_t)sizeof r)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    run_result got;
    ssize_t n = read(fd[0], &got, sizeof got);
    close(fd[0]);
    int st;
    if (waitpid(pid, &st, 0) < 0 || n != (ssize_t)sizeof got)
        return r;
    return got;
}

static void print_load(void)
{
    double la[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
            la[0] = la[1] = la[2] = 0;
        fclose(f);
    }
    printf("\nLoad average at the end: %.2f %.2f %.2f\n", la[0], la[1], la[2]);
}

static int scale(const char *models, const int *gpus, int ng, int batches, const char *strategies,
                 double time_limit)
{
    printf("| model | experts x MoE layers | GPUs | slots/GPU | strategy | wall s | peak MB | "
           "mean straggler us | per-batch bound us | gap | one-placement bound us | gap |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    const char *all[3] = {"deepseek-v3", "kimi-k2", "qwen3-235b-a22b"};
    for (int mi = 0; mi < 3; mi++) {
        if (models && !in_list(models, all[mi]))
            continue;
        moemap_loads *ld = make_loads(all[mi], batches);
        for (int k = 0; k < ng; k++) {
            int s = slots_for(ld->experts, gpus[k]);
            moemap_cluster *c = make_cluster(gpus[k], s);
            for (const char *const *st = moemap_place_strategy_names(); *st; st++) {
                if (!in_list(strategies, *st))
                    continue;
                run_result r = place_in_child(ld, c, *st, time_limit);
                if (!r.ok) {
                    printf("| %s | %d x %d | %d | %d | %s | failed |||||||\n", all[mi],
                           ld->experts, ld->num_layers, gpus[k], s, *st);
                    continue;
                }
                printf("| %s | %d x %d | %d | %d | %s | %.2f | %.0f | %.0f | %.0f | %.1f%% | %.0f "
                       "| %.1f%% |\n", all[mi], ld->experts, ld->num_layers, gpus[k], s, *st,
                       r.wall_s, r.peak_kb / 1024.0, r.mean_us, r.bound_us, 100 * r.gap,
                       r.fixed_us, 100 * r.fixed_gap);
                fflush(stdout);
            }
            moemap_cluster_free(c);
        }
        moemap_loads_free(ld);
    }
    print_load();
    return 0;
}

static int bound(const int *gpus, int ng, int batches)
{
    moemap_loads *ld = make_loads("deepseek-v3", batches);
    printf("DeepSeek-V3 loads: %d MoE layers x %d experts, %d batches of 4096 tokens; one "
           "thread\n\n", ld->num_layers, ld->experts, ld->num_batches);
    printf("| GPUs | slots/GPU | bisection s | new s | speed-up | new, warm s | speed-up | "
           "worst rel. difference | above T* |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < ng; k++) {
        int s = slots_for(ld->experts, gpus[k]);
        moemap_cluster *c = make_cluster(gpus[k], s);
        moemap_error err = {0};
        moemap_bound *bd;
        if (moemap_bound_create(c, 0, &bd, &err) != 0)
            die("bound", &err);
        size_t n = (size_t)ld->num_layers * ld->num_batches, i = 0;
        double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *w = malloc(n * sizeof *w);
        double t0 = mm_now_s();
        for (int l = 0; l < ld->num_layers; l++)
            for (int bt = 0; bt < ld->num_batches; bt++)
                a[i++] = mm_bound_layer_batch_bisect(bd, &MOEMAP_LOADS_AT(ld, bt, l, 0),
                                                     ld->experts);
        double t1 = mm_now_s();
        i = 0;
        for (int l = 0; l < ld->num_layers; l++)
            for (int bt = 0; bt < ld->num_batches; bt++)
                b[i++] = moemap_bound_layer_batch(bd, &MOEMAP_LOADS_AT(ld, bt, l, 0),
                                                  ld->experts);
        double t2 = mm_now_s();
        i = 0;
        for (int l = 0; l < ld->num_layers; l++) {
            mm_bound_warm warm = {0};
            for (int bt = 0; bt < ld->num_batches; bt++)
                w[i++] = mm_bound_layer_batch_from(bd, &MOEMAP_LOADS_AT(ld, bt, l, 0),
                                                   ld->experts, &warm);
        }
        double t3 = mm_now_s();
        double worst = 0;
        size_t above = 0;
        i = 0;
        for (int l = 0; l < ld->num_layers; l++)
            for (int bt = 0; bt < ld->num_batches; bt++, i++) {
                const double *cnt = &MOEMAP_LOADS_AT(ld, bt, l, 0);
                for (int v = 0; v < 2; v++) {
                    double x = v ? w[i] : b[i];
                    double d = a[i] > 0 ? fabs(x - a[i]) / a[i] : fabs(x);
                    worst = d > worst ? d : worst;
                    above += x > 0 && mm_bound_feasible_at(bd, cnt, ld->experts, x) != 0;
                }
            }
        printf("| %d | %d | %.3f | %.3f | %.1fx | %.3f | %.1fx | %.1e | %zu of %zu |\n", gpus[k],
               s, t1 - t0, t2 - t1, (t1 - t0) / (t2 - t1), t3 - t2, (t1 - t0) / (t3 - t2), worst,
               above, 2 * n);
        fflush(stdout);
        free(w);
        free(a);
        free(b);
        moemap_bound_free(bd);
        moemap_cluster_free(c);
    }
    moemap_loads_free(ld);
    print_load();
    return 0;
}

static int budget(int G, int batches)
{
    moemap_loads *ld = make_loads("deepseek-v3", batches);
    int s = slots_for(ld->experts, G);
    moemap_cluster *c = make_cluster(G, s);
    printf("DeepSeek-V3 loads, %d batches of 4096 tokens, %d GPUs x %d slots; strategy moemap\n\n",
           ld->num_batches, G, s);
    printf("| --time-limit s | wall s | mean straggler us | gap to per-batch bound | gap to "
           "one-placement bound |\n");
    printf("|---|---|---|---|---|\n");
    const double limits[4] = {0.1, 0.3, 1, 3};
    for (int k = 0; k < 4; k++) {
        run_result r = place_in_child(ld, c, "moemap", limits[k]);
        printf("| %.1f | %.2f | %.0f | %.1f%% | %.1f%% |\n", limits[k], r.wall_s, r.mean_us,
               100 * r.gap, 100 * r.fixed_gap);
        fflush(stdout);
    }
    run_result e = place_in_child(ld, c, "eplb", 1);
    printf("| eplb | %.2f | %.0f | %.1f%% | %.1f%% |\n", e.wall_s, e.mean_us, 100 * e.gap,
           100 * e.fixed_gap);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
    print_load();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_scale scale|bound|budget [options] (see the file's top)\n");
        return 2;
    }
    const char *models = NULL, *strategies = "eplb,moemap";
    int gpus[16] = {32, 64, 128, 256, 512, 1024}, ng = 6, batches = 64;
    double time_limit = 0; /* 0: the default (1 s; 5 s at 512 GPUs and more) */
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data"))
            g_data = argv[i + 1];
        else if (!strcmp(argv[i], "--models"))
            models = argv[i + 1];
        else if (!strcmp(argv[i], "--gpus"))
            ng = parse_list(argv[i + 1], gpus, 16);
        else if (!strcmp(argv[i], "--batches"))
            batches = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--strategies"))
            strategies = argv[i + 1];
        else if (!strcmp(argv[i], "--time-limit"))
            time_limit = atof(argv[i + 1]);
        else {
            fprintf(stderr, "bench_scale: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!strcmp(argv[1], "scale")) {
        if (time_limit > 0)
            return scale(models, gpus, ng, batches, strategies, time_limit);
        /* the budgets: 1 s up to 256 GPUs, 5 s above */
        int small[16] = {0}, big[16] = {0}, ns = 0, nb = 0;
        for (int k = 0; k < ng; k++) {
            if (gpus[k] <= 256)
                small[ns++] = gpus[k];
            else
                big[nb++] = gpus[k];
        }
        printf("Default --time-limit 1 up to 256 GPUs:\n\n");
        scale(models, small, ns, batches, strategies, 1.0);
        if (nb) {
            printf("\n--time-limit 5 from 512 GPUs:\n\n");
            scale(models, big, nb, batches, strategies, 5.0);
        }
        return 0;
    }
    if (!strcmp(argv[1], "bound"))
        return bound(gpus, ng, batches);
    if (!strcmp(argv[1], "budget"))
        return budget(ng ? gpus[0] : 32, batches);
    fprintf(stderr, "bench_scale: unknown mode %s\n", argv[1]);
    return 2;
}
