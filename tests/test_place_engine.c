/*
 * test_place_engine.c — placements under the serving engines' rules (issue 10): the
 * rules themselves on hand-computed small cases (slots per GPU, every slot filled, equal
 * split over copies), SGLang's static dispatch rule simulated rank by rank against the
 * equal split moemap models, the engine-rules bound in closed form, the operating point
 * (aggregate loads into iterations), and the never-worse property: on random instances
 * the moemap strategy's mean straggler is never above eplb's under the same rules.
 */
#include "harness.h"
#include "place_fixtures.h"

/* Mean straggler of p on every batch of ld. */
static double mean_us(const moemap_loads *ld, const moemap_cluster *c, const moemap_placement *p)
{
    moemap_eval_summary *s = NULL;
    moemap_error err = {0};
    if (moemap_eval_placement(ld, c, p, NULL, &s, &err) != 0) {
        fprintf(stderr, "  eval: %s\n", err.msg);
        return INFINITY;
    }
    double m = s->mean_us;
    moemap_eval_summary_free(s);
    return m;
}

/* Places with moemap and with eplb under the same engine rules (time limit in seconds)
 * and returns moemap's mean / eplb's on every batch of ld; NAN when a call failed. */
static double ratio_to_eplb(const moemap_loads *ld, const moemap_cluster *c, moemap_engine eng,
                            double time_limit)
{
    moemap_error err = {0};
    moemap_place_params pp = moemap_place_default_params();
    pp.engine = eng;
    pp.time_limit_s = time_limit;
    pp.no_predicted = 1;
    moemap_placement *pm = NULL, *pe = NULL;
    CHECK_OK(moemap_place(ld, c, &pp, &pm, &err), &err);
    pp.strategy = "eplb";
    CHECK_OK(moemap_place(ld, c, &pp, &pe, &err), &err);
    double r = pm && pe ? mean_us(ld, c, pm) / mean_us(ld, c, pe) : NAN;
    moemap_placement_free(pm);
    moemap_placement_free(pe);
    return r;
}

/* Copies per GPU and per expert of one layer. */
static void count_layer(const moemap_layer_placement *lp, int *per_gpu, int G, int *per_e,
                        int E)
{
    for (int g = 0; g < G; g++)
        per_gpu[g] = 0;
    for (int e = 0; e < E; e++)
        per_e[e] = 0;
    for (int i = 0; i < lp->num_replicas; i++) {
        per_gpu[lp->replicas[i].gpu]++;
        per_e[lp->replicas[i].expert]++;
    }
}

/* 4 GPUs x 3 slots, 8 experts: 12 slots, so 4 extra copies. Every strategy under the
 * rules fills 3 slots on every GPU and gives each copy 1/k. */
TEST(every_strategy_fills_every_slot_with_equal_shares)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(4, 3, NULL, NULL, 0, 40, 200, 0.1, &err);
    moemap_loads *ld = fx_loads(8, 2, 6, 512, 2, 7, &err);
    REQUIRE(c && ld);
    for (const char *const *n = moemap_place_strategy_names(); *n; n++) {
        for (int eng = MOEMAP_ENGINE_SGLANG; eng <= MOEMAP_ENGINE_VLLM; eng++) {
            moemap_place_params pp = moemap_place_default_params();
            pp.strategy = *n;
            pp.engine = (moemap_engine)eng;
            pp.time_limit_s = 0.05;
            moemap_placement *p = NULL;
            CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
            if (!p)
                continue;
            for (int l = 0; l < p->num_layers; l++) {
                int per_gpu[4], per_e[8];
                count_layer(&p->layers[l], per_gpu, 4, per_e, 8);
                CHECK_INT_EQ(p->layers[l].num_replicas, 12);
                for (int g = 0; g < 4; g++)
                    CHECK_INT_EQ(per_gpu[g], 3);
                for (int i = 0; i < p->layers[l].num_replicas; i++) {
                    const moemap_replica *r = &p->layers[l].replicas[i];
                    CHECK_NEAR(r->share, 1.0 / per_e[r->expert], 1e-12);
                }
            }
            CHECK_INT_EQ(moemap_placement_check_engine(p, c, 0, pp.engine, NULL, NULL), 0);
            moemap_placement_free(p);
        }
    }
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

/* The engines give every rank the same slots: a cluster with 3 and 4 slots is refused
 * unless --slots says how many, and the message names both GPUs. */
TEST(unequal_slots_are_refused_under_engine_rules)
{
    moemap_error err = {0};
    int slots[2] = {3, 4};
    moemap_cluster *c = fx_cluster(2, 0, slots, NULL, 0, 40, 200, 0.1, &err);
    moemap_loads *ld = fx_loads(4, 1, 3, 256, 2, 3, &err);
    REQUIRE(c && ld);
    moemap_place_params pp = moemap_place_default_params();
    pp.engine = MOEMAP_ENGINE_SGLANG;
    moemap_placement *p = NULL;
    CHECK(moemap_place(ld, c, &pp, &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "GPU 0 has 3 and GPU 1 has 4");
    pp.slots = 3;
    memset(&err, 0, sizeof err);
    CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
    if (p)
        CHECK_INT_EQ(p->layers[0].num_replicas, 6);
    moemap_placement_free(p);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

static void keep_msg(void *ctx, const char *msg)
{
    snprintf(ctx, 512, "%s", msg);
}

/* A free placement may leave a slot empty; check_engine reports the GPU and the count,
 * and unequal shares by expert. Hand-made layer: 2 GPUs x 2 slots, 3 experts. */
TEST(check_engine_names_what_breaks_the_rules)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 2, NULL, NULL, 0, 40, 200, 0.1, &err);
    moemap_placement *p = NULL;
    REQUIRE(c && moemap_placement_create(2, 3, 1, &p, &err) == 0);
    moemap_replica a[3] = {{0, 0, 1.0}, {1, 0, 1.0}, {2, 1, 1.0}};
    CHECK_OK(moemap_placement_set_layer(p, 0, 5, a, 3, &err), &err);
    char msg[512] = "";
    CHECK_INT_EQ(moemap_placement_check_engine(p, c, 0, MOEMAP_ENGINE_VLLM, keep_msg, msg), 1);
    CHECK_STR_CONTAINS(msg, "GPU 1 holds 1 copies, not the 2");
    moemap_replica b[4] = {{0, 0, 1.0}, {1, 0, 0.7}, {2, 1, 1.0}, {1, 1, 0.3}};
    CHECK_OK(moemap_placement_set_layer(p, 0, 5, b, 4, &err), &err);
    CHECK_INT_EQ(moemap_placement_check_engine(p, c, 0, MOEMAP_ENGINE_VLLM, keep_msg, msg), 1);
    CHECK_STR_CONTAINS(msg, "expert 1's copy on GPU 0 serves 0.7");
    moemap_replica d[4] = {{0, 0, 1.0}, {1, 0, 0.5}, {2, 1, 1.0}, {1, 1, 0.5}};
    CHECK_OK(moemap_placement_set_layer(p, 0, 5, d, 4, &err), &err);
    CHECK_INT_EQ(moemap_placement_check_engine(p, c, 0, MOEMAP_ENGINE_VLLM, NULL, NULL), 0);
    moemap_placement_free(p);
    moemap_cluster_free(c);
}

/* SGLang's static dispatch (python/sglang/srt/eplb/expert_location.py,
 * compute_logical_to_rank_dispatch_physical_map): a rank holding a copy sends to it; the
 * other ranks are dealt over all copies, `quotient` each plus a random `remainder`. Here
 * simulated rank by rank with random remainders; the mean share of each copy over many
 * draws must be the 1/k moemap models, and every single draw within one rank of it. */
TEST(sglang_static_dispatch_splits_evenly_on_average)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 42);
    const int G = 8;
    const int ks[3] = {2, 3, 4};
    for (int t = 0; t < 3; t++) {
        int k = ks[t];
        double mean[4] = {0};
        const int draws = 4000;
        for (int d = 0; d < draws; d++) {
            int ranks[4] = {0};
            for (int i = 0; i < k; i++)
                ranks[i] = 1; /* its own rank */
            int remain = G - k, q = remain / k, r = remain % k;
            for (int i = 0; i < k; i++)
                ranks[i] += q;
            int pick[4] = {0, 1, 2, 3};
            for (int i = 0; i < r; i++) { /* r.sample(arr, k=remainder): distinct copies */
                int j = i + (int)moemap_rng_below(&rng, (uint64_t)(k - i));
                int tmp = pick[i];
                pick[i] = pick[j];
                pick[j] = tmp;
                ranks[pick[i]]++;
            }
            for (int i = 0; i < k; i++) {
                CHECK(fabs((double)ranks[i] / G - 1.0 / k) <= 1.0 / G + 1e-12);
                mean[i] += (double)ranks[i] / G / draws;
            }
        }
        for (int i = 0; i < k; i++)
            CHECK_NEAR(mean[i], 1.0 / k, 0.01);
    }
}

/* The engine bound in closed form: 2 GPUs (speed 1 and 0.5), flat 10 us curve, S = 3,
 * 4 experts all active: each GPU pays at least 3 floors, the slow one 3 x 20 = 60 us. An
 * expert with no tokens costs nothing: with two idle experts the slow GPU pays 1 x 20. */
TEST(engine_bound_closed_form)
{
    moemap_error err = {0};
    double speeds[2] = {1.0, 0.5};
    moemap_cluster *c = fx_cluster(2, 3, NULL, speeds, 0, 10, 1e6, 0.0, &err);
    REQUIRE(c);
    double scratch[4];
    double counts[4] = {8, 4, 2, 1};
    CHECK_NEAR(moemap_bound_engine_layer_batch(c, 3, counts, 4, scratch), 60.0, 1e-9);
    double idle[4] = {0, 0, 5, 9};
    CHECK_NEAR(moemap_bound_engine_layer_batch(c, 3, idle, 4, scratch), 20.0, 1e-9);
    moemap_cluster_free(c);
}

/* An aggregate (one batch) becomes iterations of N tokens: batch 0 the expected counts
 * N * k * p_e, the samples binomial around them (mean within 3 standard errors). */
TEST(operating_point_of_an_aggregate)
{
    moemap_error err = {0};
    moemap_loads *agg = NULL;
    REQUIRE(moemap_loads_create(4, 2, 1, 1, &agg, &err) == 0);
    double c[4] = {400, 300, 200, 100}; /* 500 tokens x top-2 */
    for (int e = 0; e < 4; e++)
        MOEMAP_LOADS_AT(agg, 0, 0, e) = c[e];
    moemap_operating_point op = moemap_operating_point_default();
    op.batch_tokens = 1000;
    op.samples = 400;
    moemap_loads *it = NULL;
    CHECK_OK(moemap_loads_at_operating_point(agg, &op, &it, &err), &err);
    REQUIRE(it);
    CHECK_INT_EQ(it->num_batches, 401);
    for (int e = 0; e < 4; e++) {
        double q = 2 * c[e] / 1000.0, expect = 1000 * q;
        CHECK_NEAR(MOEMAP_LOADS_AT(it, 0, 0, e), expect, 1e-9);
        double m = 0;
        for (int b = 1; b <= 400; b++)
            m += MOEMAP_LOADS_AT(it, b, 0, e) / 400;
        CHECK_NEAR(m, expect, 3 * sqrt(1000 * q * (1 - q) / 400));
    }
    moemap_loads_free(it);
    /* Without top-k the tokens are unknown: the error names both ways to give it. */
    agg->top_k = 0;
    CHECK(moemap_loads_at_operating_point(agg, &op, &it, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--top-k");
    CHECK_STR_CONTAINS(err.msg, "--model");
    moemap_loads_free(agg);
}

/* A mix of operating points (decode and prefill side by side): 32 samples split 80/20
 * give 26 + 1 iterations of 4096 tokens and 6 + 1 of 16384, point after point; the
 * expected iterations scale with the size. A mix of recorded iterations is refused. */
TEST(operating_point_mix)
{
    moemap_error err = {0};
    moemap_loads *agg = NULL;
    REQUIRE(moemap_loads_create(4, 2, 1, 1, &agg, &err) == 0);
    double c[4] = {400, 300, 200, 100};
    for (int e = 0; e < 4; e++)
        MOEMAP_LOADS_AT(agg, 0, 0, e) = c[e];
    moemap_operating_point op = moemap_operating_point_default();
    double tokens[2] = {4096, 16384}, weights[2] = {0.8, 0.2};
    moemap_loads *mix = NULL;
    CHECK_OK(moemap_loads_at_operating_mix(agg, &op, tokens, weights, 2, &mix, &err), &err);
    REQUIRE(mix);
    CHECK_INT_EQ(mix->num_batches, 34);
    CHECK_NEAR(mix->batch_tokens[26], 4096, 0);
    CHECK_NEAR(mix->batch_tokens[27], 16384, 0);
    CHECK_NEAR(MOEMAP_LOADS_AT(mix, 0, 0, 0), 4096 * 2 * 0.4, 1e-9);
    CHECK_NEAR(MOEMAP_LOADS_AT(mix, 27, 0, 0), 16384 * 2 * 0.4, 1e-9);
    moemap_loads_free(mix);
    moemap_loads *iters = fx_loads(4, 1, 3, 256, 2, 1, &err);
    REQUIRE(iters);
    CHECK(moemap_loads_at_operating_mix(iters, &op, tokens, weights, 2, &mix, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "needs an aggregate input");
    moemap_loads_free(iters);
    moemap_loads_free(agg);
}

/* Per-iteration loads at another size: 4 batches of 256 tokens at N = 512 become 2
 * batches, each the sum of two. */
TEST(operating_point_merges_small_iterations)
{
    moemap_error err = {0};
    moemap_loads *ld = fx_loads(6, 1, 4, 256, 2, 11, &err);
    REQUIRE(ld);
    moemap_operating_point op = moemap_operating_point_default();
    op.batch_tokens = 512;
    moemap_loads *it = NULL;
    CHECK_OK(moemap_loads_at_operating_point(ld, &op, &it, &err), &err);
    REQUIRE(it);
    CHECK_INT_EQ(it->num_batches, 2);
    for (int e = 0; e < 6; e++)
        CHECK_NEAR(MOEMAP_LOADS_AT(it, 1, 0, e),
                   MOEMAP_LOADS_AT(ld, 2, 0, e) + MOEMAP_LOADS_AT(ld, 3, 0, e), 1e-9);
    moemap_loads_free(it);
    moemap_loads_free(ld);
}

/* Never worse: on random clusters (speeds 0.6-1.2, floor-then-slope curves) and random
 * skewed loads at decode- and prefill-like sizes, moemap's mean straggler is never above
 * eplb's, free and under both engines' rules. */
TEST(never_worse_than_eplb_on_random_instances)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 2026);
    int worse = 0, runs = 0;
    for (int it = 0; it < 24; it++) {
        moemap_error err = {0};
        int G = 2 + (int)moemap_rng_below(&rng, 7), E = 8 + (int)moemap_rng_below(&rng, 25);
        int S = (E + G - 1) / G + (int)moemap_rng_below(&rng, 3);
        double speeds[8];
        for (int g = 0; g < G; g++)
            speeds[g] = 0.6 + 0.6 * moemap_rng_uniform(&rng);
        int T = moemap_rng_below(&rng, 2) ? 128 : 4096;
        moemap_cluster *c = fx_cluster(G, S, NULL, speeds, 4, 20 + 40 * moemap_rng_uniform(&rng),
                                       64 + 400 * moemap_rng_uniform(&rng),
                                       0.02 + 0.2 * moemap_rng_uniform(&rng), &err);
        moemap_loads *ld = fx_loads(E, 2, 8, T, 2, 100 + (uint64_t)it, &err);
        REQUIRE(c && ld);
        for (int eng = MOEMAP_ENGINE_NONE; eng <= MOEMAP_ENGINE_VLLM; eng++) {
            double r = ratio_to_eplb(ld, c, (moemap_engine)eng, 0.05);
            runs += isfinite(r);
            if (!(r <= 1 + 1e-9)) {
                worse++;
                fprintf(stderr, "  instance %d engine %d: moemap / eplb = %.6f\n", it, eng, r);
            }
        }
        moemap_cluster_free(c);
        moemap_loads_free(ld);
    }
    CHECK_INT_EQ(runs, 72);
    CHECK_INT_EQ(worse, 0);
}

/* Speed awareness survives the rules: with one GPU at half speed at a prefill-like
 * size, the engine-constrained moemap placement is clearly faster than eplb's. */
TEST(engine_placement_is_speed_aware)
{
    moemap_error err = {0};
    double speeds[8] = {0.5, 1, 1, 1, 1, 1, 1, 1};
    moemap_cluster *c = fx_cluster(8, 5, NULL, speeds, 8, 40, 256, 0.15, &err);
    moemap_loads *ld = fx_loads(32, 2, 16, 8192, 4, 5, &err);
    REQUIRE(c && ld);
    double r = ratio_to_eplb(ld, c, MOEMAP_ENGINE_SGLANG, 1.0);
    fprintf(stderr, "  moemap / eplb = %.3f\n", r);
    CHECK(r < 0.85);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(every_strategy_fills_every_slot_with_equal_shares);
    RUN(unequal_slots_are_refused_under_engine_rules);
    RUN(check_engine_names_what_breaks_the_rules);
    RUN(sglang_static_dispatch_splits_evenly_on_average);
    RUN(engine_bound_closed_form);
    RUN(operating_point_of_an_aggregate);
    RUN(operating_point_merges_small_iterations);
    RUN(operating_point_mix);
    RUN(never_worse_than_eplb_on_random_instances);
    RUN(engine_placement_is_speed_aware);
    return mm_test_done();
}
