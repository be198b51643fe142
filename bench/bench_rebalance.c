/*
 * bench_rebalance.c — the C side of bench/results/python.md: moemap_rebalance_experts
 * (the function behind the Python drop-in for DeepSeek's EPLB rebalance_experts) timed
 * in-process on DeepSeek-V3-sized inputs, so the Python call's overhead is the Python
 * time minus this one.
 *
 *   bench_rebalance LOADS [--cluster C --top-k K --batch-tokens N] [--replicas R]
 *                   [--groups G] [--nodes N] [--gpus G] [--reps N]
 *
 * LOADS is any workload input (e.g. a file of ../shared/data/sglang-dsv3-expert-stats, real
 * DeepSeek-V3 loads recorded by SGLang); the weight is its counts summed over batches,
 * [MoE layers][experts]. Defaults: 288 replicas, 8 groups, 4 nodes, 32 GPUs, 30 runs.
 * Prints the median and best wall time in ms, one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moemap.h"
#include "base_util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_rebalance LOADS [--cluster C --top-k K --batch-tokens N] "
                        "[--replicas R] [--groups G] [--nodes N] [--gpus G] [--reps N]\n");
        return 2;
    }
    const char *cluster_path = NULL;
    int R = 288, groups = 8, nodes = 4, G = 32, reps = 30, top_k = 0;
    double batch_tokens = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--cluster"))
            cluster_path = v;
        else if (!strcmp(k, "--top-k"))
            top_k = atoi(v);
        else if (!strcmp(k, "--batch-tokens"))
            batch_tokens = atof(v);
        else if (!strcmp(k, "--replicas"))
            R = atoi(v);
        else if (!strcmp(k, "--groups"))
            groups = atoi(v);
        else if (!strcmp(k, "--nodes"))
            nodes = atoi(v);
        else if (!strcmp(k, "--gpus"))
            G = atoi(v);
        else if (!strcmp(k, "--reps"))
            reps = atoi(v);
        else {
            fprintf(stderr, "bench_rebalance: unknown option '%s'\n", k);
            return 2;
        }
    }
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_cluster *c = NULL;
    moemap_read_params rp = moemap_read_default_params();
    if (moemap_workload_read(argv[1], &rp, &ld, NULL, &err) ||
        (cluster_path && moemap_cluster_read(cluster_path, &c, &err))) {
        fprintf(stderr, "bench_rebalance: %s\n", err.msg);
        return 1;
    }
    int L = ld->num_layers, E = ld->experts, W = moemap_rebalance_log2phy_width(E, R);
    double *w = calloc((size_t)L * E, sizeof *w);
    int64_t *p = malloc((size_t)L * R * sizeof *p);
    int64_t *l2p = malloc((size_t)L * E * W * sizeof *l2p);
    int64_t *cnt = malloc((size_t)L * E * sizeof *cnt);
    double *t = malloc((size_t)(reps > 0 ? reps : 1) * sizeof *t);
    if (!w || !p || !l2p || !cnt || !t || reps < 1) {
        fprintf(stderr, "bench_rebalance: out of memory or --reps < 1\n");
        return 1;
    }
    for (int l = 0; l < L; l++)
        moemap_loads_layer_total(ld, l, w + (size_t)l * E);
    moemap_rebalance_params prm = moemap_rebalance_default_params();
    prm.cluster = c;
    prm.top_k = top_k;
    prm.batch_tokens = batch_tokens;
    for (int i = 0; i < reps; i++) {
        double t0 = now_ms();
        if (moemap_rebalance_experts(w, L, E, R, groups, nodes, G, &prm, p, l2p, cnt, NULL,
                                     &err)) {
            fprintf(stderr, "bench_rebalance: %s\n", err.msg);
            return 1;
        }
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, mm_cmp_double);
    printf("C library: %d layers x %d experts, %d replicas on %d GPUs%s: median %.2f ms, "
           "best %.2f ms (%d runs)\n", L, E, R, G, c ? " (cluster)" : "", t[reps / 2], t[0],
           reps);
    free(w);
    free(p);
    free(l2p);
    free(cnt);
    free(t);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
    return 0;
}
