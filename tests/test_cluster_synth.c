/*
 * test_cluster_synth.c — GPU populations from the real PAL variability data and clusters
 * synthesised from them.
 *
 * The main property: 32 GPUs drawn from the 392 Longhorn V100s of the SGEMM data have the
 * population's spread. The check is distribution-free: if the 32 speeds are a random
 * sample, the population CDF at the sample's q-quantile (linear interpolation between
 * order statistics, position q*31) has mean (31q + 1) / 33 and standard deviation about
 * sqrt(q(1-q)/32). Over 20 seeds the mean of that rank must lie within 3.5 standard
 * errors (sd / sqrt(20)) of its expectation — a false alarm once in ~2000 runs, while a
 * draw biased towards fast or slow GPUs, or a lost spread, moves it far outside.
 */
#include "harness.h"

#include "moemap/cluster.h"
#include "moemap/cluster_synth.h"
#include "base_util.h"

#define SGEMM "gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv"

static double T[] = {1, 64, 256, 1024, 4096};
static double U[] = {60, 61, 75, 150, 560};

static moemap_synth_params base_params(const moemap_gpu_population *pop, int n, uint64_t seed)
{
    static moemap_curve base = {5, T, U, 0.02};
    moemap_synth_params p = moemap_synth_default_params();
    p.num_gpus = n;
    p.gpus_per_node = 4;
    p.seed = seed;
    p.slots = 9;
    p.population = pop;
    p.base = &base;
    p.hidden = 7168;
    p.intermediate = 2048;
    moemap_synth_params_network_defaults(&p); /* the nominal network */
    return p;
}

static moemap_gpu_population *sgemm(int min_runs)
{
    moemap_variability_params vp = moemap_variability_default_params();
    vp.min_runs = min_runs;
    moemap_gpu_population *pop = NULL;
    moemap_error err = {0};
    int rc = moemap_gpu_population_read(mm_data_path(SGEMM), &vp, &pop, &err);
    if (rc)
        fprintf(stderr, "  %s\n", err.msg);
    return pop;
}

TEST(population_of_sgemm)
{
    /* With every GPU kept: 392 V100s over 11,087 runs whose median times spread 1.26x
     * (the data's README). */
    moemap_gpu_population *all = sgemm(1);
    REQUIRE(all);
    CHECK_INT_EQ(all->n, 392);
    CHECK_INT_EQ(all->rows, 11087);
    CHECK_INT_EQ(all->dropped, 0);
    double tmin = 1e300, tmax = 0, smax = 0;
    int runs = 0;
    for (int i = 0; i < all->n; i++) {
        tmin = all->time[i] < tmin ? all->time[i] : tmin;
        tmax = all->time[i] > tmax ? all->time[i] : tmax;
        smax = all->speed[i] > smax ? all->speed[i] : smax;
        runs += all->runs[i];
        CHECK_NEAR(all->speed[i] * all->time[i], all->speed[0] * all->time[0], 1e-6);
        if (i)
            CHECK(strcmp(all->uuid[i - 1], all->uuid[i]) < 0);
    }
    CHECK_INT_EQ(runs, all->rows);
    CHECK_NEAR(tmax / tmin, 1.26, 0.01);
    /* Median normalisation: half the GPUs are faster than 1, and the fastest is 1.26x
     * faster than the slowest. */
    int faster = 0, slower = 0;
    for (int i = 0; i < all->n; i++) {
        faster += all->speed[i] > 1;
        slower += all->speed[i] < 1;
    }
    CHECK_INT_EQ(faster, all->n / 2);
    CHECK_INT_EQ(slower, all->n / 2);
    CHECK_NEAR(smax * tmax / all->time[0] / all->speed[0], tmax / tmin, 1e-9);
    /* Dropping GPUs with fewer than 3 runs removes the 8 with 1 or 2 runs. */
    moemap_gpu_population *three = sgemm(3);
    REQUIRE(three);
    CHECK_INT_EQ(three->n + three->dropped, 392);
    CHECK_INT_EQ(three->dropped, 8);
    for (int i = 0; i < three->n; i++)
        CHECK(three->runs[i] >= 3);
    /* Run-to-run jitter of one GPU's SGEMM runs is small next to the 26% spread between
     * GPUs: that is what makes per-GPU speeds meaningful. */
    double cv_med = moemap_quantile(three->cv, (size_t)three->n, 0.5);
    printf("# SGEMM run-to-run cv: median %.4f\n", cv_med);
    CHECK(cv_med > 0 && cv_med < 0.02);
    /* Fastest normalisation: the best GPU is exactly 1, all others below. */
    moemap_variability_params vp = {NULL, 3, MOEMAP_SPEED_FASTEST};
    moemap_gpu_population *fast = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_gpu_population_read(mm_data_path(SGEMM), &vp, &fast, &err), &err);
    REQUIRE(fast);
    double fmax = 0;
    for (int i = 0; i < fast->n; i++)
        fmax = fast->speed[i] > fmax ? fast->speed[i] : fmax;
    CHECK_NEAR(fmax, 1.0, 0);
    moemap_gpu_population_free(all);
    moemap_gpu_population_free(three);
    moemap_gpu_population_free(fast);
}

TEST(synth_32_matches_population_quantiles)
{
    moemap_gpu_population *pop = sgemm(3);
    REQUIRE(pop);
    double *pops = malloc((size_t)pop->n * sizeof *pops);
    REQUIRE(pops);
    memcpy(pops, pop->speed, (size_t)pop->n * sizeof *pops);
    qsort(pops, (size_t)pop->n, sizeof *pops, mm_cmp_double);
    const double qs[3] = {0.1, 0.5, 0.9};
    enum { SEEDS = 20, N = 32 };
    double rank_sum[3] = {0}, val_sum[3] = {0}, spread_sum = 0;
    moemap_error err = {0};
    for (int s = 0; s < SEEDS; s++) {
        moemap_synth_params p = base_params(pop, N, 1000 + (uint64_t)s);
        moemap_cluster *c = NULL;
        CHECK_OK(moemap_cluster_synth(&p, &c, &err), &err);
        REQUIRE(c);
        double sp[N];
        for (int g = 0; g < N; g++)
            sp[g] = c->gpus[g].speed;
        for (int k = 0; k < 3; k++) {
            double v = moemap_quantile(sp, N, qs[k]);
            val_sum[k] += v;
            /* Population CDF at v: fraction of the population at or below it. */
            int below = 0;
            while (below < pop->n && pops[below] <= v)
                below++;
            rank_sum[k] += (double)below / pop->n;
        }
        qsort(sp, N, sizeof *sp, mm_cmp_double);
        spread_sum += sp[N - 1] / sp[0];
        moemap_cluster_free(c);
    }
    for (int k = 0; k < 3; k++) {
        double q = qs[k];
        double expect = (q * (N - 1) + 1) / (N + 1);
        double se = sqrt(q * (1 - q) / N) / sqrt(SEEDS);
        double got = rank_sum[k] / SEEDS;
        double pq = moemap_quantile(pops, (size_t)pop->n, q);
        printf("# q%.0f: population rank %.3f, expected %.3f +- %.3f; speed: population "
               "%.4f, clusters %.4f on average\n", 100 * q, got, expect, 3.5 * se, pq,
               val_sum[k] / SEEDS);
        CHECK_NEAR(got, expect, 3.5 * se);
        /* In speed units the same: within 1% of the population's quantile (the whole
         * 10-90% range is 4%). */
        CHECK_NEAR(val_sum[k] / SEEDS, pq, 0.01);
    }
    /* The fastest and slowest of 32 random GPUs fall on average near the population's
     * 1/33 and 32/33 quantiles: the clusters' mean spread must reach the ratio of those
     * (less 3%), and can never exceed the whole population's 1.26x. */
    double pop_spread = pops[pop->n - 1] / pops[0], mean_spread = spread_sum / SEEDS;
    double outer = moemap_quantile(pops, (size_t)pop->n, 32.0 / 33) /
                   moemap_quantile(pops, (size_t)pop->n, 1.0 / 33);
    printf("# spread (fastest/slowest): population %.3f (1/33..32/33 quantiles %.3f), "
           "32-GPU clusters %.3f on average\n", pop_spread, outer, mean_spread);
    CHECK(mean_spread >= 0.97 * outer && mean_spread <= pop_spread);
    free(pops);
    moemap_gpu_population_free(pop);
}

TEST(synth_whole_population_is_a_permutation)
{
    moemap_gpu_population *pop = sgemm(3);
    REQUIRE(pop);
    moemap_synth_params p = base_params(pop, pop->n, 5);
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_cluster_synth(&p, &c, &err), &err);
    REQUIRE(c);
    /* Without replacement: every population GPU exactly once. */
    double *a = malloc((size_t)pop->n * sizeof *a), *b = malloc((size_t)pop->n * sizeof *b);
    REQUIRE(a && b);
    for (int i = 0; i < pop->n; i++) {
        a[i] = pop->speed[i];
        b[i] = c->gpus[i].speed;
    }
    qsort(a, (size_t)pop->n, sizeof *a, mm_cmp_double);
    qsort(b, (size_t)pop->n, sizeof *b, mm_cmp_double);
    int same = 1;
    for (int i = 0; i < pop->n; i++)
        same &= a[i] == b[i];
    CHECK(same);
    free(a);
    free(b);
    moemap_cluster_free(c);
    /* More GPUs than the population: drawn with replacement, still all from it. */
    p = base_params(pop, pop->n + 50, 5);
    CHECK_OK(moemap_cluster_synth(&p, &c, &err), &err);
    REQUIRE(c);
    CHECK_INT_EQ(c->num_gpus, pop->n + 50);
    moemap_cluster_free(c);
    moemap_gpu_population_free(pop);
}

TEST(synth_determinism_nodes_throttle)
{
    moemap_gpu_population *pop = sgemm(3);
    REQUIRE(pop);
    moemap_error err = {0};
    moemap_cluster *a = NULL, *b = NULL, *d = NULL, *t = NULL;
    moemap_synth_params p = base_params(pop, 32, 42);
    CHECK_OK(moemap_cluster_synth(&p, &a, &err), &err);
    CHECK_OK(moemap_cluster_synth(&p, &b, &err), &err);
    p.seed = 43;
    CHECK_OK(moemap_cluster_synth(&p, &d, &err), &err);
    int throttled[] = {3};
    double factor[] = {0.8};
    p.seed = 42;
    p.throttle_gpu = throttled;
    p.throttle_factor = factor;
    p.num_throttle = 1;
    CHECK_OK(moemap_cluster_synth(&p, &t, &err), &err);
    REQUIRE(a && b && d && t);
    int same = 1, differ = 0;
    for (int g = 0; g < 32; g++) {
        same &= a->gpus[g].speed == b->gpus[g].speed;
        differ += a->gpus[g].speed != d->gpus[g].speed;
        CHECK_INT_EQ(a->gpus[g].node, g / 4);
        CHECK_INT_EQ(a->gpus[g].slots, 9);
        if (g != 3)
            CHECK(t->gpus[g].speed == a->gpus[g].speed);
    }
    CHECK(same);
    CHECK(differ > 16);
    CHECK_NEAR(t->gpus[3].speed, 0.8 * a->gpus[3].speed, 1e-15);
    /* Jitter from the data: each GPU keeps the robust spread of its own runs. */
    moemap_cluster *j = NULL;
    p.num_throttle = 0;
    p.cv_from_population = 1;
    CHECK_OK(moemap_cluster_synth(&p, &j, &err), &err);
    REQUIRE(j);
    int with_cv = 0;
    for (int g = 0; g < 32; g++) {
        CHECK(j->gpus[g].speed == a->gpus[g].speed);
        CHECK_NEAR(moemap_cluster_gpu_cv(a, g), 0.02, 0); /* the base curve's */
        with_cv += moemap_cluster_gpu_cv(j, g) > 0 && moemap_cluster_gpu_cv(j, g) < 0.1;
    }
    CHECK(with_cv >= 28); /* a GPU whose runs agree to the last digit has cv 0 */
    moemap_cluster_free(j);
    /* 20% slower: every expert takes 1/0.8 = 1.25x as long on the throttled GPU. */
    for (double n = 1; n < 10000; n *= 3)
        CHECK_NEAR(moemap_cluster_expert_us(t, 3, n) / moemap_cluster_expert_us(a, 3, n), 1.25,
                   1e-12);
    CHECK_NEAR(moemap_cluster_expert_us(a, 0, 1024), 150 / a->gpus[0].speed, 1e-9);
    CHECK_NEAR(moemap_cluster_gpu_cv(a, 0), 0.02, 0);
    moemap_cluster_free(a);
    moemap_cluster_free(b);
    moemap_cluster_free(d);
    moemap_cluster_free(t);
    moemap_gpu_population_free(pop);
}

TEST(synth_explicit_speeds_and_errors)
{
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    double speeds[] = {1, 0.95, 0.9, 1.05};
    moemap_synth_params p = base_params(NULL, 4, 1);
    p.speeds = speeds;
    p.num_speeds = 4;
    p.gpus_per_node = 0;
    CHECK_OK(moemap_cluster_synth(&p, &c, &err), &err);
    REQUIRE(c);
    for (int g = 0; g < 4; g++) {
        CHECK_NEAR(c->gpus[g].speed, speeds[g], 0);
        CHECK_INT_EQ(c->gpus[g].node, 0);
    }
    moemap_cluster_free(c);
    p.num_speeds = 3;
    CHECK(moemap_cluster_synth(&p, &c, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "3 speeds for 4 GPUs");
    p.num_speeds = 4;
    speeds[2] = -1;
    CHECK(moemap_cluster_synth(&p, &c, &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "speed -1 of GPU 2");
    speeds[2] = 0.9;
    int tg[] = {4};
    double tf[] = {0.5};
    p.throttle_gpu = tg;
    p.throttle_factor = tf;
    p.num_throttle = 1;
    CHECK(moemap_cluster_synth(&p, &c, &err) == MOEMAP_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "throttle of GPU 4");
    p.num_throttle = 0;
    /* What the command line gives is checked before any file is read (a usage error). */
    CHECK_OK(moemap_synth_params_check(&p, &err), &err);
    double bad_tokens[] = {5, 1}, bad_us[] = {9, 10};
    moemap_curve backwards = {0};
    backwards.tokens = bad_tokens;
    backwards.us = bad_us;
    backwards.n = 2;
    const moemap_curve *good = p.base;
    p.base = &backwards;
    CHECK(moemap_synth_params_check(&p, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "synth: base_curve.tokens[1]: 1 is not above tokens[0] = 5");
    p.base = good;
    p.dtype = "fp7";
    CHECK(moemap_cluster_synth(&p, &c, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "\"fp7\" is not a known weight type");
    p.dtype = NULL;
    p.base = NULL;
    CHECK(moemap_cluster_synth(&p, &c, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "base curve is required");
    CHECK(c == NULL);
}

static const char *write_text(const char *name, const char *text)
{
    const char *path = mm_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f)
        exit(1);
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(variability_csv_errors_and_32gpu_file)
{
    moemap_error err = {0};
    moemap_gpu_population *pop = NULL;
    moemap_variability_params vp = {NULL, 1, MOEMAP_SPEED_MEDIAN};
    const char *p = write_text("v1.csv", "uuid,perf\nA,10\nA,12\nB,\"20\"\n");
    CHECK_OK(moemap_gpu_population_read(p, &vp, &pop, &err), &err);
    REQUIRE(pop && pop->n == 2);
    CHECK_NEAR(pop->time[0], 11, 0);
    CHECK_NEAR(pop->speed[0], 15.5 / 11, 1e-12);
    CHECK_NEAR(pop->speed[1], 15.5 / 20, 1e-12);
    moemap_gpu_population_free(pop);
    p = write_text("v2.csv", "uuid,time\nA,10\n");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "v2.csv:1: no time column \"perf\" (columns: uuid,time)");
    p = write_text("v3.csv", "uuid,perf\nA,10\nB,fast\n");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "v3.csv:3: perf \"fast\" is not a positive number");
    p = write_text("v4.csv", "uuid,perf\nA,10,3\n");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "v4.csv:2: 3 fields, the header has 2");
    p = write_text("v5.csv", "uuid,perf\nA,-1\n");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EPARSE);
    p = write_text("v6.csv", "");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "empty file");
    vp.min_runs = 5;
    p = write_text("v7.csv", "uuid,perf\nA,10\nA,11\n");
    CHECK(moemap_gpu_population_read(p, &vp, &pop, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "no GPU has at least 5 runs (the most any GPU has is 2)");
    CHECK(moemap_gpu_population_read(mm_tmp_path("nope.csv"), &vp, &pop, &err) == MOEMAP_EIO);
    CHECK(pop == NULL);
    /* 32gpu-variability.csv: one row per GPU, normalised slowdowns per workload class. */
    vp.min_runs = 1;
    vp.column = "PerfVar_classA";
    CHECK_OK(moemap_gpu_population_read(
                 mm_data_path("gpu-variability-pal/aggregated_data/32gpu-variability.csv"), &vp,
                 &pop, &err),
             &err);
    REQUIRE(pop);
    CHECK_INT_EQ(pop->n, 32);
    for (int i = 0; i < pop->n; i++)
        CHECK(pop->runs[i] == 1 && pop->speed[i] > 0.8 && pop->speed[i] < 1.25);
    moemap_gpu_population_free(pop);
}

TEST(allocation_failures)
{
    /* Every allocation failing in turn: MOEMAP_ENOMEM, never a crash or a leak. */
    const char *path = write_text("alloc.csv", "uuid,perf\nA,10\nA,12\nB,20\nC,5\n");
    moemap_variability_params vp = {NULL, 1, MOEMAP_SPEED_MEDIAN};
    moemap_error err = {0};
    moemap_gpu_population *pop = NULL;
    int failures = 0;
    for (long k = 0; k < 100; k++) {
        moemap_alloc_fail_after(k);
        int rc = moemap_gpu_population_read(path, &vp, &pop, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            break;
        CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        failures++;
    }
    REQUIRE(pop && pop->n == 3);
    CHECK(failures >= 6);
    moemap_cluster *c = NULL;
    int tg[] = {1};
    double tf[] = {0.5};
    moemap_synth_params p = base_params(pop, 5, 9);
    p.throttle_gpu = tg;
    p.throttle_factor = tf;
    p.num_throttle = 1;
    failures = 0;
    for (long k = 0; k < 100; k++) {
        moemap_alloc_fail_after(k);
        int rc = moemap_cluster_synth(&p, &c, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            break;
        CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        CHECK(c == NULL);
        failures++;
    }
    REQUIRE(c);
    CHECK(failures >= 4);
    CHECK_INT_EQ(c->num_gpus, 5);
    moemap_cluster_free(c);
    moemap_gpu_population_free(pop);
}

int main(void)
{
    RUN(population_of_sgemm);
    RUN(synth_32_matches_population_quantiles);
    RUN(synth_whole_population_is_a_permutation);
    RUN(synth_determinism_nodes_throttle);
    RUN(synth_explicit_speeds_and_errors);
    RUN(variability_csv_errors_and_32gpu_file);
    RUN(allocation_failures);
    return mm_test_done();
}
