/*
 * test_place.c — the placement driver and the baselines (issue 4): linear and
 * round_robin layouts in closed form, eplb's replication and packing rules, dense layers
 * skipped, impossible requests refused with a message, determinism for a seed, and the
 * predicted cost recorded with the placement.
 */
#include "harness.h"
#include "place_fixtures.h"

static moemap_placement *run(const moemap_loads *ld, const moemap_cluster *c,
                             const char *strategy, int slots, moemap_error *err)
{
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = strategy;
    pp.slots = slots;
    moemap_placement *p = NULL;
    if (moemap_place(ld, c, &pp, &p, err) != 0)
        return NULL;
    return p;
}

static int gpu_of(const moemap_layer_placement *lp, int e)
{
    for (int i = 0; i < lp->num_replicas; i++)
        if (lp->replicas[i].expert == e)
            return lp->replicas[i].gpu;
    return -1;
}

TEST(linear_and_round_robin_layouts)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(4, 3, NULL, NULL, 0, 60, 200, 0.13, &err);
    moemap_loads *ld = fx_loads(10, 2, 3, 256, 2, 7, &err);
    REQUIRE(c && ld);
    moemap_placement *p = run(ld, c, "linear", 0, &err);
    REQUIRE(p);
    CHECK_INT_EQ(p->num_layers, 2);
    CHECK_INT_EQ(p->layers[0].layer, 1);
    /* 10 experts on 4 GPUs: blocks of 3, 3, 2, 2. */
    int want_lin[10] = {0, 0, 0, 1, 1, 1, 2, 2, 3, 3};
    for (int e = 0; e < 10; e++)
        CHECK_INT_EQ(gpu_of(&p->layers[0], e), want_lin[e]);
    CHECK_INT_EQ(p->layers[0].num_replicas, 10);
    CHECK(strcmp(p->strategy, "linear") == 0);
    CHECK(p->predicted_json && strstr(p->predicted_json, "mean_us"));
    moemap_placement_free(p);
    p = run(ld, c, "round_robin", 0, &err);
    REQUIRE(p);
    for (int e = 0; e < 10; e++)
        CHECK_INT_EQ(gpu_of(&p->layers[1], e), e % 4);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(uneven_slots_respected)
{
    moemap_error err = {0};
    int slots[3] = {1, 6, 3};
    moemap_cluster *c = fx_cluster(3, 0, slots, NULL, 0, 60, 200, 0.13, &err);
    moemap_loads *ld = fx_loads(9, 1, 2, 128, 2, 3, &err);
    REQUIRE(c && ld);
    const char *names[] = {"linear", "round_robin", "eplb", "eplb_global"};
    for (int i = 0; i < 4; i++) {
        moemap_placement *p = run(ld, c, names[i], 0, &err);
        CHECK(p != NULL);
        if (!p) {
            fprintf(stderr, "  %s: %s\n", names[i], err.msg);
            continue;
        }
        int per[3] = {0, 0, 0};
        for (int r = 0; r < p->layers[0].num_replicas; r++)
            per[p->layers[0].replicas[r].gpu]++;
        for (int g = 0; g < 3; g++)
            CHECK(per[g] <= slots[g]);
        CHECK_OK(moemap_placement_validate(p, c, &err), &err);
        moemap_placement_free(p);
    }
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(eplb_replicates_hot_expert_and_balances_tokens)
{
    moemap_error err = {0};
    /* 4 experts, 2 GPUs x 3 slots: 2 redundant slots. Expert 0 carries 600 tokens, the
     * others 100: both extra slots go to expert 0 (600/1 > 100, then 600/2 = 300 > 100),
     * giving replicas 200,200,200,100,100,100 — 600 tokens per GPU either way. */
    moemap_cluster *c = fx_cluster(2, 3, NULL, NULL, 0, 60, 200, 0.13, &err);
    moemap_loads *ld;
    REQUIRE(c && moemap_loads_create(4, 1, 1, 1, &ld, &err) == 0);
    MOEMAP_LOADS_AT(ld, 0, 0, 0) = 600;
    for (int e = 1; e < 4; e++)
        MOEMAP_LOADS_AT(ld, 0, 0, e) = 100;
    ld->batch_tokens[0] = 900;
    moemap_placement *p = run(ld, c, "eplb", 0, &err);
    REQUIRE(p);
    const moemap_layer_placement *lp = &p->layers[0];
    CHECK_INT_EQ(lp->num_replicas, 6);
    int r0 = 0;
    double tok[2] = {0, 0};
    for (int i = 0; i < lp->num_replicas; i++) {
        r0 += lp->replicas[i].expert == 0;
        tok[lp->replicas[i].gpu] += lp->replicas[i].share *
                                    MOEMAP_LOADS_AT(ld, 0, 0, lp->replicas[i].expert);
    }
    /* Expert 0 cannot have 3 replicas on 2 GPUs: the third slot goes elsewhere. */
    CHECK_INT_EQ(r0, 2);
    CHECK_NEAR(tok[0] + tok[1], 900, 1e-9);
    CHECK(fabs(tok[0] - tok[1]) <= 100 + 1e-9);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(eplb_hierarchical_keeps_groups_in_nodes)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(4, 5, NULL, NULL, 2, 60, 200, 0.13, &err);
    moemap_loads *ld = fx_loads(16, 2, 4, 512, 4, 11, &err);
    REQUIRE(c && ld);
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = "eplb";
    pp.nodes_groups = 2; /* 4 groups of 4 experts, 2 per node */
    moemap_placement *p;
    CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
    REQUIRE(p);
    for (int l = 0; l < p->num_layers; l++) {
        const moemap_layer_placement *lp = &p->layers[l];
        /* All replicas of a group of 4 experts sit in one node. */
        for (int grp = 0; grp < 4; grp++) {
            int node = -1, same = 1;
            for (int i = 0; i < lp->num_replicas; i++)
                if (lp->replicas[i].expert / 4 == grp) {
                    int nd = c->gpus[lp->replicas[i].gpu].node;
                    if (node < 0)
                        node = nd;
                    same &= nd == node;
                }
            CHECK(same);
        }
    }
    moemap_placement_free(p);
    pp.nodes_groups = 3; /* 16 experts do not split into 6 groups */
    CHECK(moemap_place(ld, c, &pp, &p, &err) == MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "groups");
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(dense_layers_skipped_and_errors)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 2, NULL, NULL, 0, 60, 200, 0.13, &err);
    moemap_loads *ld = fx_loads(4, 3, 2, 64, 2, 5, &err);
    REQUIRE(c && ld);
    for (int b = 0; b < 2; b++)
        for (int e = 0; e < 4; e++)
            MOEMAP_LOADS_AT(ld, b, 1, e) = 0; /* layer id 2 is dense */
    moemap_placement *p = run(ld, c, "round_robin", 0, &err);
    REQUIRE(p);
    CHECK_INT_EQ(p->num_layers, 2);
    CHECK_INT_EQ(p->layers[0].layer, 1);
    CHECK_INT_EQ(p->layers[1].layer, 3);
    moemap_placement_free(p);
    /* 1 slot x 2 GPUs < 4 experts. */
    CHECK(run(ld, c, "linear", 1, &err) == NULL);
    CHECK_INT_EQ(err.code, MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "fewer than the 4 experts");
    CHECK(run(ld, c, "nosuch", 0, &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "unknown strategy 'nosuch'");
    CHECK_STR_CONTAINS(err.msg, "eplb");
    /* --slots overrides the cluster: 4 per GPU lets linear put 2 + 2. */
    p = run(ld, c, "linear", 4, &err);
    CHECK(p != NULL);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(memory_caps_slots)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(4, 5, NULL, NULL, 0, 60, 200, 0.13, &err);
    moemap_loads *ld = fx_loads(8, 2, 3, 256, 2, 9, &err);
    REQUIRE(c && ld);
    /* 1 GB experts, 2 MoE layers, 4.5 GB per GPU: 2 replicas per layer, not 5. */
    for (int g = 0; g < 4; g++)
        c->gpus[g].mem_gb = 4.5;
    moemap_place_params pp = moemap_place_default_params();
    pp.expert_bytes = 1e9;
    const char *names[3] = {"moemap", "eplb", "linear"};
    for (int i = 0; i < 3; i++) {
        pp.strategy = names[i];
        moemap_placement *p;
        CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
        if (!p)
            continue;
        for (int l = 0; l < p->num_layers; l++) {
            int per[4] = {0, 0, 0, 0};
            for (int r = 0; r < p->layers[l].num_replicas; r++)
                per[p->layers[l].replicas[r].gpu]++;
            for (int g = 0; g < 4; g++)
                CHECK(per[g] <= 2);
        }
        moemap_placement_free(p);
    }
    for (int g = 0; g < 4; g++)
        c->gpus[g].mem_gb = 3.0; /* 1 per layer: 4 slots for 8 experts */
    moemap_placement *p = NULL;
    pp.strategy = "moemap";
    CHECK(moemap_place(ld, c, &pp, &p, &err) == MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "memory (mem_gb) holds 4 replicas per layer");
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

static void count_progress(void *ctx, const char *what, long done, long total)
{
    int *seen = ctx;
    if (done == seen[0] + 1 && total == 3 && what && strcmp(what, "layers") == 0)
        seen[0] = done;
    else
        seen[1] = 1; /* out of order or wrong total */
}

TEST(replacement_limits_moves_and_reports_progress)
{
    moemap_error err = {0};
    double speeds[4] = {0.8, 1, 1, 1.1};
    moemap_cluster *c = fx_cluster(4, 4, NULL, speeds, 2, 60, 64, 0.12, &err);
    moemap_loads *ld = fx_loads(12, 3, 6, 1024, 4, 21, &err);
    REQUIRE(c && ld);
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = "round_robin";
    moemap_placement *old, *p;
    REQUIRE(moemap_place(ld, c, &pp, &old, &err) == 0);
    int seen[2] = {0, 0};
    pp.strategy = "moemap";
    pp.previous = old;
    pp.max_moves = 2;
    pp.progress = count_progress;
    pp.progress_ctx = seen;
    CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
    REQUIRE(p);
    CHECK_INT_EQ(seen[0], 3);
    CHECK_INT_EQ(seen[1], 0);
    long total = 0;
    for (int l = 0; l < p->num_layers; l++) {
        long m = moemap_migration_count_moves(&old->layers[l], &p->layers[l]);
        CHECK(m <= 2);
        total += m;
    }
    CHECK(total > 0); /* round_robin ignores speeds: a few moves must pay */
    moemap_placement_free(p);
    /* Moves priced far above any gain: the previous placement stays. */
    pp.max_moves = 0;
    pp.move_cost_us_per_gb = 1e9;
    pp.expert_bytes = 1e9;
    pp.progress = NULL;
    CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
    REQUIRE(p);
    for (int l = 0; l < p->num_layers; l++)
        CHECK_INT_EQ(moemap_migration_count_moves(&old->layers[l], &p->layers[l]), 0);
    moemap_placement_free(p);
    moemap_placement_free(old);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(allocation_failures_fail_cleanly)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(3, 3, NULL, NULL, 0, 60, 64, 0.12, &err);
    /* one layer: the driver runs it on the calling thread (the hook is not thread-safe) */
    moemap_loads *ld = fx_loads(6, 1, 3, 256, 2, 4, &err);
    REQUIRE(c && ld);
    const char *names[4] = {"moemap", "eplb", "linear", "round_robin"};
    for (int i = 0; i < 4; i++) {
        int failures = 0, successes = 0;
        for (long n = 0; n < 400 && successes == 0; n++) {
            moemap_place_params pp = moemap_place_default_params();
            pp.strategy = names[i];
            pp.time_limit_s = 0.001;
            moemap_placement *p = NULL;
            moemap_error e = {0};
            moemap_alloc_fail_after(n);
            int rc = moemap_place(ld, c, &pp, &p, &e);
            moemap_alloc_fail_after(-1);
            if (rc) {
                if (rc != MOEMAP_ENOMEM)
                    fprintf(stderr, "  %s, failing allocation %ld: %s\n", names[i], n, e.msg);
                CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
                CHECK(e.msg[0] != 0);
                CHECK(p == NULL);
                failures++;
            } else {
                CHECK_OK(moemap_placement_validate(p, c, &e), &e);
                successes++;
            }
            moemap_placement_free(p);
        }
        CHECK(failures > 0);
        CHECK(successes == 1);
    }
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

TEST(strategy_names_listed)
{
    const char *const *names = moemap_place_strategy_names();
    int n = 0, have_eplb = 0, have_moemap = 0;
    for (; names[n]; n++) {
        have_eplb |= !strcmp(names[n], "eplb");
        have_moemap |= !strcmp(names[n], "moemap");
    }
    CHECK(n >= 4);
    CHECK(have_eplb);
    CHECK(have_moemap);
}

int main(void)
{
    RUN(linear_and_round_robin_layouts);
    RUN(uneven_slots_respected);
    RUN(eplb_replicates_hot_expert_and_balances_tokens);
    RUN(eplb_hierarchical_keeps_groups_in_nodes);
    RUN(dense_layers_skipped_and_errors);
    RUN(memory_caps_slots);
    RUN(replacement_limits_moves_and_reports_progress);
    RUN(allocation_failures_fail_cleanly);
    RUN(strategy_names_listed);
    return mm_test_done();
}
