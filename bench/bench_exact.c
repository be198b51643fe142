/*
 * bench_exact.c — how far the heuristics are from optimal: on small random instances
 * (one MoE layer, 8-16 experts, 4-8 GPUs of unequal speed, spare slots), the exact
 * strategy (GLPK MIP) against moemap (through moemap_place, strategy "moemap"), eplb,
 * gem and vibe. Every placement is judged with the cost model (mean straggler time over
 * the batches); the table gives the exact optimum, its solver status and time, and each
 * heuristic's gap to it. Results: bench/results/exact.md.
 *
 * Usage: bench_exact [SEEDS [BUDGET_S]]   (default 4 seeds, 30 s per MIP)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap.h"
#include "place/exact_mip.h"
#include "place/strategy.h"

typedef struct config {
    int experts, gpus, slots, batches, tokens;
} config;

static const config configs[] = {
    {6, 3, 3, 4, 512},   {6, 3, 3, 4, 4096},  {8, 4, 3, 4, 512},  {8, 4, 3, 4, 4096},
    {12, 4, 4, 8, 512},  {12, 4, 4, 8, 4096}, {16, 8, 3, 8, 512}, {16, 8, 3, 8, 4096},
};

/* H200-like expert curve from DESIGN.md: 60 us floor, then a growing slope (convex). */
static moemap_cluster *make_cluster(int G, int slots, moemap_rng *rng)
{
    static const double tok[] = {1, 64, 256, 1024, 4096}, us[] = {60, 61, 75, 150, 560};
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    if (moemap_cluster_create(G, &c, &err))
        return NULL;
    c->base.n = 5;
    c->base.tokens = moemap_malloc(sizeof tok);
    c->base.us = moemap_malloc(sizeof us);
    if (!c->base.tokens || !c->base.us) {
        moemap_cluster_free(c);
        return NULL;
    }
    memcpy(c->base.tokens, tok, sizeof tok);
    memcpy(c->base.us, us, sizeof us);
    for (int g = 0; g < G; g++) {
        c->gpus[g].slots = slots;
        /* nominally identical GPUs spread 0.85-1.0 (PAL data: ~1.26x fastest/slowest),
         * one throttled to 0.8 */
        c->gpus[g].speed = g == G - 1 ? 0.8 : 0.85 + 0.15 * moemap_rng_uniform(rng);
    }
    if (moemap_cluster_finalize(c, &err)) {
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

/* Skewed top-2 routing: a Zipf-like popularity per instance, log-normal noise per batch. */
static moemap_loads *make_loads(const config *cf, moemap_rng *rng)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_loads_create(cf->experts, 2, 1, cf->batches, &ld, &err))
        return NULL;
    double pop[64], w[64];
    for (int e = 0; e < cf->experts; e++)
        pop[e] = 1.0 / pow(1.0 + (double)moemap_rng_below(rng, (uint64_t)cf->experts), 0.9);
    for (int b = 0; b < cf->batches; b++) {
        double sum = 0;
        for (int e = 0; e < cf->experts; e++)
            sum += w[e] = pop[e] * exp(0.4 * moemap_rng_normal(rng));
        for (int e = 0; e < cf->experts; e++) {
            double n = floor(2.0 * cf->tokens * w[e] / sum + moemap_rng_uniform(rng));
            MOEMAP_LOADS_AT(ld, b, 0, e) = n > cf->tokens ? cf->tokens : n;
        }
        ld->batch_tokens[b] = cf->tokens;
    }
    ld->layer_ids[0] = 1;
    return ld;
}

static double mean_cost(const moemap_cluster *c, const moemap_loads *ld,
                        const moemap_layer_placement *lp)
{
    double s = 0;
    for (int b = 0; b < ld->num_batches; b++)
        s += moemap_eval_layer_batch(c, lp, &MOEMAP_LOADS_AT(ld, b, 0, 0), ld->experts, NULL);
    return s / ld->num_batches;
}

/* The exact layer through exact_solve (to see the solver report). */
static int run_exact(const moemap_cluster *c, const moemap_loads *ld, int slots, double budget,
                     exact_report *rep, double *cost)
{
    int E = ld->experts, B = ld->num_batches, G = c->num_gpus;
    double *total = calloc((size_t)E, sizeof(double));
    int *sl = malloc((size_t)G * sizeof(int));
    if (!total || !sl)
        return -1;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            total[e] += MOEMAP_LOADS_AT(ld, b, 0, e);
    for (int g = 0; g < G; g++)
        sl[g] = slots;
    moemap_place_params pp = moemap_place_default_params();
    moemap_rng rng;
    moemap_rng_seed(&rng, 1);
    place_problem pb = {.cluster = c, .num_gpus = G, .slots = sl, .experts = E,
                        .num_batches = B, .counts = ld->counts, .batch_tokens = ld->batch_tokens,
                        .total = total, .layer_id = 1, .params = &pp, .previous = NULL,
                        .time_budget_s = budget, .rng = &rng};
    place_result res = {0};
    moemap_error err = {0};
    int rc = exact_solve(&pb, &res, rep, &err);
    if (rc == 0) {
        moemap_layer_placement lp = {1, res.n, res.reps};
        *cost = mean_cost(c, ld, &lp);
        if (getenv("BENCH_EXACT_DEBUG"))
            fprintf(stderr, "exact: status %d cost %.3f mip %.3f start %.3f bound %.3f %.2fs\n",
                    rep->status, *cost, rep->objective_us, rep->start_us, rep->bound_us,
                    rep->seconds);
    } else {
        fprintf(stderr, "exact: %s\n", err.msg);
    }
    moemap_free(res.reps);
    free(total);
    free(sl);
    return rc;
}

static double run_strategy(const char *name, const moemap_cluster *c, const moemap_loads *ld)
{
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = name;
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_place(ld, c, &pp, &p, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return NAN;
    }
    double v = mean_cost(c, ld, &p->layers[0]);
    moemap_placement_free(p);
    return v;
}

int main(int argc, char **argv)
{
    int seeds = argc > 1 ? atoi(argv[1]) : 4;
    double budget = argc > 2 ? atof(argv[2]) : 30.0;
    if (seeds < 1 || !(budget > 0)) {
        fprintf(stderr, "usage: bench_exact [SEEDS [BUDGET_S]]\n");
        return 2;
    }
    static const char *heur[] = {"moemap", "eplb", "gem", "vibe"};
    enum { NH = 4 };
    printf("| experts | GPUs | slots/GPU | batches x tokens | exact mean us | proven optimal |"
           " MIP s (mean / max) | exact vs MIP bound | moemap vs MIP bound (max) |"
           " moemap gap | eplb gap | gem gap | vibe gap |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double all_gap[NH] = {0}, all_max[NH] = {0};
    int all_n = 0;
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        const config *cf = &configs[k];
        double sum_ex = 0, sum_t = 0, max_t = 0, gap[NH] = {0}, gmax[NH] = {0};
        double bgap = 0, mb = 0, mbmax = 0;
        int proven = 0, n = 0;
        for (int s = 0; s < seeds; s++) {
            moemap_rng rng;
            moemap_rng_seed(&rng, 1000 * (uint64_t)k + (uint64_t)s + 1);
            moemap_cluster *c = make_cluster(cf->gpus, cf->slots, &rng);
            moemap_loads *ld = make_loads(cf, &rng);
            exact_report rep;
            double ex;
            if (!c || !ld || run_exact(c, ld, cf->slots, budget, &rep, &ex) != 0) {
                moemap_cluster_free(c);
                moemap_loads_free(ld);
                continue;
            }
            n++;
            sum_ex += ex;
            sum_t += rep.seconds;
            max_t = rep.seconds > max_t ? rep.seconds : max_t;
            proven += rep.status == EXACT_OPTIMAL;
            /* The MIP bound is a lower bound on the optimum (for convex curves), so a
             * heuristic's excess over it bounds its true optimality gap from above. */
            double bnd = rep.bound_us > 0 ? rep.bound_us : ex;
            bgap += ex / bnd - 1;
            for (int h = 0; h < NH; h++) {
                double v = run_strategy(heur[h], c, ld), g = v / ex - 1;
                if (h == 0) {
                    mb += v / bnd - 1;
                    mbmax = v / bnd - 1 > mbmax ? v / bnd - 1 : mbmax;
                }
                gap[h] += g;
                gmax[h] = g > gmax[h] ? g : gmax[h];
                all_gap[h] += g;
                all_max[h] = g > all_max[h] ? g : all_max[h];
            }
            all_n++;
            moemap_cluster_free(c);
            moemap_loads_free(ld);
        }
        if (n == 0)
            continue;
        printf("| %d | %d | %d | %d x %d | %.1f | %d/%d | %.2f / %.2f | %.2f%% | %.2f%% (%.2f%%) |",
               cf->experts, cf->gpus, cf->slots, cf->batches, cf->tokens, sum_ex / n, proven, n,
               sum_t / n, max_t, 100 * bgap / n, 100 * mb / n, 100 * mbmax);
        for (int h = 0; h < NH; h++)
            printf(" %.2f%% (max %.2f%%) |", 100 * gap[h] / n, 100 * gmax[h]);
        printf("\n");
        fflush(stdout);
    }
    printf("| **all** | | | | | | | | |");
    for (int h = 0; h < NH; h++)
        printf(" **%.2f%%** (max %.2f%%) |", all_n ? 100 * all_gap[h] / all_n : 0,
               100 * all_max[h]);
    printf("\n");
    return 0;
}
