/*
 * bench_workload.c — timings of the workload layer: reading a real ESFT task folder
 * (26 layer files, ~8.3k tokens), generating a DeepSeek-V3-shaped workload (58 MoE layers
 * x 256 experts x 256 batches of 4096 tokens), and its statistics. Prints the median of
 * a few runs of each. Usage: bench_workload [DATA_DIR] (default ../shared/data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "moemap.h"

/* Process CPU time: on a shared machine wall time mostly measures the neighbours. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median CPU and wall time of RUNS calls of fn. */
#define RUNS 5
typedef int (*bench_fn)(void *arg);
static int timed(bench_fn fn, void *arg, double *cpu_ms, double *wall_ms)
{
    double c[RUNS], w[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double c0 = cpu_now(), w0 = wall_now();
        if (fn(arg))
            return 1;
        c[r] = cpu_now() - c0;
        w[r] = wall_now() - w0;
    }
    *cpu_ms = 1e3 * moemap_quantile(c, RUNS, 0.5);
    *wall_ms = 1e3 * moemap_quantile(w, RUNS, 0.5);
    return 0;
}

static moemap_error err;

static int do_read(void *arg)
{
    moemap_loads *ld = NULL;
    moemap_routing *rt = NULL;
    int rc = moemap_workload_read((const char *)arg, NULL, &ld, &rt, &err);
    moemap_loads_free(ld);
    moemap_routing_free(rt);
    return rc;
}

static moemap_loads *generated;

static int do_gen(void *arg)
{
    moemap_loads_free(generated);
    generated = NULL;
    return moemap_gen((const moemap_gen_params *)arg, &generated, &err);
}

static int do_stats(void *arg)
{
    moemap_workload_stats *st = NULL;
    (void)arg;
    int rc = moemap_workload_stats_compute(generated, NULL, &st, &err);
    moemap_workload_stats_free(st);
    return rc;
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "../shared/data";
    char law[4096];
    snprintf(law, sizeof law, "%s/esft-dsv2lite-routing/expert_scores/law", data);
    moemap_gen_params p = moemap_gen_default_params(); /* DeepSeek-V3 shape, 256 batches */
    double c, w;
    printf("median of %d runs                                   CPU ms    wall ms\n", RUNS);
    if (timed(do_read, law, &c, &w))
        goto fail;
    printf("read ESFT law folder (26 files, 12.6 MB)          %8.1f   %8.1f\n", c, w);
    if (timed(do_gen, &p, &c, &w))
        goto fail;
    printf("gen DeepSeek-V3 shape, 58 x 256 x 256 batches     %8.1f   %8.1f\n", c, w);
    if (timed(do_stats, NULL, &c, &w))
        goto fail;
    printf("stats of that workload (all pairs correlated)     %8.1f   %8.1f\n", c, w);
    moemap_loads_free(generated);
    return 0;
fail:
    fprintf(stderr, "%s\n", err.msg);
    moemap_loads_free(generated);
    return 1;
}
