/*
 * test_stats.c — workload statistics on small loads whose answers are known in closed
 * form: skew measures, consistent and temporal experts, co-activated pairs and hot
 * clusters, cosine distances, and parameter checking.
 */
#include "harness.h"
#include "moemap.h"

static moemap_loads *make(int experts, int layers, int batches)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_loads_create(experts, 1, layers, batches, &ld, &err))
        fprintf(stderr, "  create: %s\n", err.msg);
    return ld;
}

static void set_tokens(moemap_loads *ld)
{
    for (int b = 0; b < ld->num_batches; b++) {
        double s = 0;
        for (int e = 0; e < ld->experts; e++)
            s += MOEMAP_LOADS_AT(ld, b, 0, e);
        ld->batch_tokens[b] = s;
    }
}

TEST(skew_closed_form)
{
    moemap_loads *ld = make(4, 2, 1);
    REQUIRE(ld != NULL);
    MOEMAP_LOADS_AT(ld, 0, 0, 0) = 4; /* all on one expert */
    for (int e = 0; e < 4; e++)
        MOEMAP_LOADS_AT(ld, 0, 1, e) = 3; /* perfectly even */
    ld->batch_tokens[0] = 4;
    ld->layer_ids[0] = 7;
    ld->layer_ids[1] = 9;
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_stats_compute(ld, NULL, &st, &err), &err);
    REQUIRE(st != NULL);
    const moemap_layer_stats *a = &st->layers[0], *b = &st->layers[1];
    CHECK_INT_EQ(a->layer, 7);
    CHECK_NEAR(a->tokens, 4, 0);
    CHECK_NEAR(a->max_over_mean, 4, 1e-12);
    CHECK_NEAR(a->cv, sqrt(3.0), 1e-12);
    CHECK_NEAR(a->gini, 0.75, 1e-12);
    CHECK_NEAR(a->load_share[0], 1, 0);
    CHECK_INT_EQ(a->num_consistent, 1);
    CHECK_INT_EQ(a->consistent[0], 0);
    CHECK_NEAR(b->max_over_mean, 1, 1e-12);
    CHECK_NEAR(b->cv, 0, 1e-12);
    CHECK_NEAR(b->gini, 0, 1e-12);
    CHECK_INT_EQ(b->num_consistent, 4);
    CHECK_INT_EQ(b->num_pairs, 0); /* one batch: no correlation to speak of */
    moemap_workload_stats_free(st);
    moemap_loads_free(ld);
}

TEST(consistent_and_temporal)
{
    /* 10 batches: experts 0-4, 6, 7 get 4 tokens each time; expert 5 gets 20 tokens in
     * batch 3 only. */
    moemap_loads *ld = make(8, 1, 10);
    REQUIRE(ld != NULL);
    for (int b = 0; b < 10; b++)
        for (int e = 0; e < 8; e++)
            MOEMAP_LOADS_AT(ld, b, 0, e) = e == 5 ? (b == 3 ? 20 : 0) : 4;
    set_tokens(ld);
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_stats_compute(ld, NULL, &st, &err), &err);
    REQUIRE(st != NULL);
    const moemap_layer_stats *s = &st->layers[0];
    CHECK_INT_EQ(s->num_consistent, 7);
    for (int i = 0; i < s->num_consistent; i++)
        CHECK(s->consistent[i] != 5);
    CHECK_INT_EQ(s->num_temporal, 1);
    CHECK_INT_EQ(s->temporal[0], 5);
    CHECK_NEAR(s->active_frac[5], 0.1, 1e-12);
    CHECK_NEAR(s->hot_frac[5], 0.1, 1e-12);
    moemap_workload_stats_free(st);

    /* A looser threshold for "few batches" that excludes 10% makes it not temporal; a
     * consistency threshold of 0.1 makes it consistent. */
    moemap_stats_params p = moemap_stats_default_params();
    p.temporal_max_active = 0.05;
    p.consistent_threshold = 0.1;
    CHECK_OK(moemap_workload_stats_compute(ld, &p, &st, &err), &err);
    REQUIRE(st != NULL);
    CHECK_INT_EQ(st->layers[0].num_temporal, 0);
    CHECK_INT_EQ(st->layers[0].num_consistent, 8);
    moemap_workload_stats_free(st);
    moemap_loads_free(ld);
}

TEST(coactive_pairs_and_clusters)
{
    /* Experts 0 and 1 are hot together on odd batches, expert 2 on even batches, experts
     * 3-7 are steady (their shares still move with the batch size, so they correlate
     * with expert 2, but they are never hot and so join no cluster). */
    moemap_loads *ld = make(8, 1, 6);
    REQUIRE(ld != NULL);
    for (int b = 0; b < 6; b++) {
        MOEMAP_LOADS_AT(ld, b, 0, 0) = b % 2 ? 12 : 0;
        MOEMAP_LOADS_AT(ld, b, 0, 1) = b % 2 ? 12 : 0;
        MOEMAP_LOADS_AT(ld, b, 0, 2) = b % 2 ? 0 : 12;
        for (int e = 3; e < 8; e++)
            MOEMAP_LOADS_AT(ld, b, 0, e) = 2;
    }
    set_tokens(ld);
    moemap_stats_params p = moemap_stats_default_params();
    p.max_pairs = 40;
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_stats_compute(ld, &p, &st, &err), &err);
    REQUIRE(st != NULL);
    const moemap_layer_stats *s = &st->layers[0];
    int found01 = 0, found02 = 0;
    for (int i = 0; i < s->num_pairs; i++) {
        CHECK(s->pairs[i].a < s->pairs[i].b);
        CHECK(s->pairs[i].corr > 0 && s->pairs[i].corr <= 1 + 1e-12);
        if (s->pairs[i].a == 0 && s->pairs[i].b == 1) {
            found01 = 1;
            CHECK_NEAR(s->pairs[i].corr, 1, 1e-9);
        }
        found02 |= s->pairs[i].a == 0 && s->pairs[i].b == 2;
    }
    CHECK(found01);
    CHECK(!found02); /* anti-correlated: not co-activated */
    /* 0+1, and 2 with each of 3..7, and the 10 pairs among 3..7: 16 positive pairs. */
    CHECK_INT_EQ(s->num_pairs, 16);
    CHECK_INT_EQ(s->num_clusters, 1);
    CHECK_INT_EQ(s->cluster_start[1] - s->cluster_start[0], 2);
    CHECK_INT_EQ(s->cluster_experts[0], 0);
    CHECK_INT_EQ(s->cluster_experts[1], 1);
    moemap_workload_stats_free(st);

    /* Capped list keeps the best ones first. */
    p.max_pairs = 1;
    CHECK_OK(moemap_workload_stats_compute(ld, &p, &st, &err), &err);
    REQUIRE(st != NULL);
    CHECK_INT_EQ(st->layers[0].num_pairs, 1);
    CHECK_NEAR(st->layers[0].pairs[0].corr, 1, 1e-9);
    moemap_workload_stats_free(st);
    moemap_loads_free(ld);
}

TEST(cosine_distances)
{
    moemap_loads *a = make(2, 1, 1), *b = make(2, 2, 1), *c = make(3, 1, 1);
    REQUIRE(a && b && c);
    MOEMAP_LOADS_AT(a, 0, 0, 0) = 1;
    b->layer_ids[0] = 5;
    b->layer_ids[1] = 0;
    MOEMAP_LOADS_AT(b, 0, 1, 1) = 3; /* model layer 0 of b: orthogonal to a's */
    MOEMAP_LOADS_AT(b, 0, 0, 0) = 2;
    moemap_error err = {0};
    double d = -1;
    CHECK_OK(moemap_loads_cosine_distance(a, 0, b, &d, &err), &err);
    CHECK_NEAR(d, 1, 1e-12);
    MOEMAP_LOADS_AT(b, 0, 1, 0) = 3; /* now [3, 3] vs [1, 0]: 1 - 1/sqrt(2) */
    CHECK_OK(moemap_loads_cosine_distance(a, 0, b, &d, &err), &err);
    CHECK_NEAR(d, 1 - 1 / sqrt(2.0), 1e-12);
    a->layer_ids[0] = 4;
    CHECK(moemap_loads_cosine_distance(a, 0, b, &d, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "layer 4 is missing");
    CHECK(moemap_loads_cosine_distance(a, 0, c, &d, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "2 experts per layer vs 3");
    moemap_loads_free(a);
    moemap_loads_free(b);
    moemap_loads_free(c);
}

TEST(bad_params)
{
    moemap_loads *ld = make(2, 1, 1);
    REQUIRE(ld != NULL);
    moemap_stats_params p = moemap_stats_default_params();
    moemap_workload_stats *st = NULL;
    moemap_error err = {0};
    p.consistent_threshold = 1.5;
    CHECK(moemap_workload_stats_compute(ld, &p, &st, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "consistent threshold 1.5");
    p = moemap_stats_default_params();
    p.temporal_min_ratio = 0;
    CHECK(moemap_workload_stats_compute(ld, &p, &st, &err) == MOEMAP_EINVAL);
    CHECK(st == NULL);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(skew_closed_form);
    RUN(consistent_and_temporal);
    RUN(coactive_pairs_and_clusters);
    RUN(cosine_distances);
    RUN(bad_params);
    return mm_test_done();
}
