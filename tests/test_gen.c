/*
 * test_gen.c — the workload generator: deterministic for a seed, exact token-slot sums,
 * the model's layer ids, and each documented knob having its effect (zipf raises skew,
 * consistent experts are active in almost every batch, temporal groups show up as
 * temporal experts in the stats, drift moves the load vectors after the drift batch).
 * Shapes are small so the test stays fast under sanitizers.
 */
#include "harness.h"
#include "moemap.h"

static moemap_gen_params small(void)
{
    moemap_gen_params p = moemap_gen_default_params();
    p.num_layers = 6;
    p.first_dense = 1;
    p.experts = 32;
    p.top_k = 4;
    p.batches = 60;
    p.batch_tokens = 256;
    p.consistent = 2;
    p.temporal_groups = 2;
    p.temporal_size = 2;
    return p;
}

static moemap_loads *gen(const moemap_gen_params *p)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_gen(p, &ld, &err))
        fprintf(stderr, "  gen: %s\n", err.msg);
    return ld;
}

static int same_counts(const moemap_loads *a, const moemap_loads *b)
{
    size_t n = (size_t)a->num_batches * (size_t)a->num_layers * (size_t)a->experts;
    return a->num_batches == b->num_batches && a->num_layers == b->num_layers &&
           !memcmp(a->counts, b->counts, n * sizeof *a->counts);
}

TEST(deterministic_for_a_seed)
{
    moemap_gen_params p = small();
    moemap_loads *a = gen(&p), *b = gen(&p);
    p.seed = 2;
    moemap_loads *c = gen(&p);
    REQUIRE(a && b && c);
    CHECK(same_counts(a, b));
    CHECK(!same_counts(a, c));
    moemap_loads_free(a);
    moemap_loads_free(b);
    moemap_loads_free(c);
}

TEST(slots_and_caps)
{
    moemap_gen_params p = small();
    p.zipf = 3.0; /* steep: the cap at batch_tokens per expert matters */
    p.batch_tokens = 50;
    moemap_loads *ld = gen(&p);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->num_layers, 5);
    CHECK_INT_EQ(ld->layer_ids[0], 1);
    CHECK_INT_EQ(ld->layer_ids[4], 5);
    CHECK_INT_EQ(ld->top_k, 4);
    for (int b = 0; b < ld->num_batches; b++) {
        CHECK_NEAR(ld->batch_tokens[b], 50, 0);
        for (int l = 0; l < ld->num_layers; l++) {
            double s = 0;
            for (int e = 0; e < ld->experts; e++) {
                double c = MOEMAP_LOADS_AT(ld, b, l, e);
                CHECK(c >= 0 && c <= 50 && c == floor(c));
                s += c;
            }
            CHECK_NEAR(s, 200, 0);
        }
    }
    moemap_loads_free(ld);
}

TEST(model_shape)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find("deepseek-v3", &err);
    REQUIRE(m != NULL);
    moemap_gen_params p = moemap_gen_default_params();
    moemap_gen_params_from_model(&p, m);
    p.batches = 2;
    p.batch_tokens = 64;
    moemap_loads *ld = gen(&p);
    REQUIRE(ld != NULL);
    CHECK_INT_EQ(ld->num_layers, 58);
    CHECK_INT_EQ(ld->experts, 256);
    CHECK_INT_EQ(ld->top_k, 8);
    CHECK_INT_EQ(ld->layer_ids[0], 3);
    CHECK_INT_EQ(ld->layer_ids[57], 60);
    moemap_loads_free(ld);
}

static double mean_max_over_mean(const moemap_loads *ld, const moemap_stats_params *sp,
                                 int *temporal, int *consistent)
{
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    if (moemap_workload_stats_compute(ld, sp, &st, &err))
        return -1;
    double s = 0;
    *temporal = *consistent = 0;
    for (int l = 0; l < st->num_layers; l++) {
        s += st->layers[l].max_over_mean;
        *temporal += st->layers[l].num_temporal;
        *consistent += st->layers[l].num_consistent;
    }
    s /= st->num_layers;
    moemap_workload_stats_free(st);
    return s;
}

TEST(zipf_raises_skew)
{
    moemap_gen_params p = small();
    p.temporal_groups = 0;
    int t, c;
    p.zipf = 0;
    moemap_loads *flat = gen(&p);
    p.zipf = 1.2;
    moemap_loads *steep = gen(&p);
    REQUIRE(flat && steep);
    double a = mean_max_over_mean(flat, NULL, &t, &c), b = mean_max_over_mean(steep, NULL, &t, &c);
    CHECK(a > 1.0 && a < 2.0);
    CHECK(b > 2.0 * a);
    moemap_loads_free(flat);
    moemap_loads_free(steep);
}

TEST(temporal_groups_become_temporal_experts)
{
    /* Without noise the Zipf experts are steady, so only the groups are bursty. */
    moemap_gen_params p = small();
    p.noise = 0;
    p.burst_prob = 0.05;
    p.burst_len = 3;
    p.temporal_groups = 0;
    int t0, t1, c;
    moemap_loads *none = gen(&p);
    p.temporal_groups = 2;
    p.temporal_size = 3;
    moemap_loads *some = gen(&p);
    REQUIRE(none && some);
    mean_max_over_mean(none, NULL, &t0, &c);
    mean_max_over_mean(some, NULL, &t1, &c);
    /* Binomial sampling alone may push a steady expert over the thresholds once in a
     * while, but hardly ever. */
    CHECK(t0 <= 2);
    /* 2 groups of 3 in each of the 5 layers, and they are the experts that get no tokens
     * between bursts: every one of those must be reported temporal. */
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_stats_compute(some, NULL, &st, &err), &err);
    REQUIRE(st != NULL);
    CHECK(t1 >= 5 * 6 && t1 <= 5 * 6 + 2);
    for (int l = 0; l < some->num_layers; l++) {
        int idle_half = 0;
        for (int e = 0; e < some->experts; e++) {
            int active = 0;
            for (int b = 0; b < some->num_batches; b++)
                active += MOEMAP_LOADS_AT(some, b, l, e) > 0;
            if (active >= some->num_batches / 2)
                continue;
            idle_half++;
            int listed = 0;
            for (int i = 0; i < st->layers[l].num_temporal; i++)
                listed |= st->layers[l].temporal[i] == e;
            CHECK(listed);
        }
        CHECK_INT_EQ(idle_half, 6);
    }
    moemap_workload_stats_free(st);
    moemap_loads_free(none);
    moemap_loads_free(some);
}

TEST(consistent_experts_are_always_active)
{
    /* Few tokens and a steep popularity: most experts miss many batches, except the
     * consistent ones, lifted to 1.5 x the mean. */
    moemap_gen_params p = small();
    p.batch_tokens = 16;
    p.zipf = 1.5;
    p.temporal_groups = 0;
    p.consistent = 0;
    int t, c0, c8;
    moemap_loads *a = gen(&p);
    p.consistent = 8;
    p.consistent_boost = 2.0;
    moemap_loads *b = gen(&p);
    REQUIRE(a && b);
    mean_max_over_mean(a, NULL, &t, &c0);
    mean_max_over_mean(b, NULL, &t, &c8);
    /* Some of the 8 drawn are popular enough to be consistent anyway: expect at least 3
     * more per layer (5 layers). */
    CHECK(c8 >= c0 + 5 * 3);
    moemap_loads_free(a);
    moemap_loads_free(b);
}

/* Cosine distance between the totals of batches [b0, b1) and [b2, b3) of entry l. */
static double range_distance(const moemap_loads *ld, int l, int b0, int b1, int b2, int b3)
{
    double x[64] = {0}, y[64] = {0}, xy = 0, xx = 0, yy = 0;
    for (int e = 0; e < ld->experts; e++) {
        for (int b = b0; b < b1; b++)
            x[e] += MOEMAP_LOADS_AT(ld, b, l, e);
        for (int b = b2; b < b3; b++)
            y[e] += MOEMAP_LOADS_AT(ld, b, l, e);
        xy += x[e] * y[e];
        xx += x[e] * x[e];
        yy += y[e] * y[e];
    }
    return 1 - xy / sqrt(xx * yy);
}

TEST(drift_changes_the_load_after_the_drift_batch)
{
    moemap_gen_params p = small();
    p.zipf = 1.0;
    p.temporal_groups = 0; /* bursts would move the windows too; isolate the drift */
    p.drift_at = 30;
    moemap_loads *ld = gen(&p);
    p.drift_at = -1;
    moemap_loads *steady = gen(&p);
    REQUIRE(ld && steady);
    for (int l = 0; l < ld->num_layers; l++) {
        double within = range_distance(ld, l, 0, 15, 15, 30);
        double across = range_distance(ld, l, 15, 30, 30, 45);
        double steady_across = range_distance(steady, l, 15, 30, 30, 45);
        CHECK(across > 5 * within);
        CHECK(across > 5 * steady_across);
        /* Batch-level view used by recalibration triggers. */
        CHECK(moemap_loads_batch_cosine_distance(ld, l, 29, 30) >
              moemap_loads_batch_cosine_distance(ld, l, 28, 29));
    }
    moemap_loads_free(ld);
    moemap_loads_free(steady);
}

TEST(bad_params)
{
    moemap_gen_params p = small();
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    p.top_k = 33;
    CHECK(moemap_gen(&p, &ld, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "top-k 33");
    p = small();
    p.temporal_groups = 20;
    CHECK(moemap_gen(&p, &ld, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "exceed 32 experts");
    p = small();
    p.drift_at = 60;
    CHECK(moemap_gen(&p, &ld, &err) == MOEMAP_EINVAL);
    p = small();
    p.first_dense = 6;
    CHECK(moemap_gen(&p, &ld, &err) == MOEMAP_EINVAL);
    CHECK(ld == NULL);
}

TEST(allocation_failures)
{
    /* Each allocation of the generator, then of the statistics, failing in turn. */
    moemap_gen_params p = small();
    p.drift_at = 10;
    moemap_loads *ok = NULL;
    int gen_fail = 0, stats_fail = 0, stats_ok = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        moemap_error err = {0};
        moemap_alloc_fail_after(n);
        int rc = moemap_gen(&p, &ok, &err);
        moemap_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == MOEMAP_ENOMEM);
        CHECK(rc == 0 || ok == NULL);
        gen_fail |= rc == MOEMAP_ENOMEM;
    }
    REQUIRE(ok != NULL);
    for (long n = 0; n < 200 && !stats_ok; n++) {
        moemap_workload_stats *st = NULL;
        moemap_error err = {0};
        moemap_alloc_fail_after(n);
        int rc = moemap_workload_stats_compute(ok, NULL, &st, &err);
        moemap_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == MOEMAP_ENOMEM);
        stats_fail |= rc == MOEMAP_ENOMEM;
        stats_ok |= rc == 0;
        moemap_workload_stats_free(st);
    }
    CHECK(gen_fail && stats_fail && stats_ok);
    moemap_loads_free(ok);
}

int main(void)
{
    RUN(deterministic_for_a_seed);
    RUN(slots_and_caps);
    RUN(model_shape);
    RUN(zipf_raises_skew);
    RUN(temporal_groups_become_temporal_experts);
    RUN(consistent_experts_are_always_active);
    RUN(drift_changes_the_load_after_the_drift_batch);
    RUN(bad_params);
    RUN(allocation_failures);
    return mm_test_done();
}
