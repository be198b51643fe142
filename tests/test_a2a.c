/*
 * test_a2a.c — dispatch and combine in the cost model (moemap/a2a.h) on cases small
 * enough to work out by hand: rows of 1,000 bytes over 1 GB/s links (1 us a row), tokens
 * spread evenly over the GPUs, per-(token, GPU) rows deduplicated under independence,
 * nodes, the exact-rows form the executor uses, the per-token part folded into curves,
 * and the whole-layer figures of moemap_eval_placement and moemap_place.
 */
#include "harness.h"
#include "place_fixtures.h"

/* G GPUs of gpus_per_node, hidden 500 (x 2 bytes = 1,000-byte rows), intra 1 GB/s,
 * inter 0.5 GB/s, latency 10 us; flat 100 us curve up to 1,000 tokens then 0.1 us/token. */
static moemap_cluster *net_cluster(int G, int gpus_per_node)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(G, 4, NULL, NULL, gpus_per_node, 100, 1000, 0.1, &err);
    if (!c)
        return NULL;
    c->hidden = 500;
    c->intra_node_GBps = 1.0;
    c->inter_node_GBps = 0.5;
    c->latency_us = 10;
    return c;
}

/* A layer placement of n replicas (expert, gpu, share). */
static moemap_layer_placement layer_of(moemap_replica *r, int n)
{
    moemap_layer_placement lp = {0, n, r};
    return lp;
}

TEST(two_gpus_one_node)
{
    moemap_cluster *c = net_cluster(2, 0);
    CHECK(c != NULL);
    moemap_replica r[] = {{0, 0, 1.0}, {1, 1, 1.0}};
    moemap_layer_placement lp = layer_of(r, 2);
    double counts[] = {40, 20}, d[2];
    moemap_a2a_params p = moemap_a2a_default_params();
    /* g0 computes 40 rows, receives half of them (20) and sends half of g1's (10):
     * 10 + 20 us; g1 receives 10, sends 20: the same 30 us. */
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 30.0, 1e-9);
    CHECK_NEAR(d[0], 30.0, 1e-9);
    CHECK_NEAR(d[1], 30.0, 1e-9);
    p.dispatch = MOEMAP_DISPATCH_TOKEN_EXPERT; /* one expert per GPU: the same rows */
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 30.0, 1e-9);
    p.off = 1;
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 0.0, 0);
    CHECK_NEAR(d[0] + d[1], 0.0, 0);
    moemap_cluster_free(c);
}

TEST(token_gpu_rows_are_deduplicated)
{
    moemap_cluster *c = net_cluster(2, 0);
    CHECK(c != NULL);
    /* both experts on g0, each chosen by half of 40 tokens: independent choices give
     * 40 * (1 - 0.5 * 0.5) = 30 distinct tokens, against 40 (token, expert) rows */
    moemap_replica r[] = {{0, 0, 1.0}, {1, 0, 1.0}};
    moemap_layer_placement lp = layer_of(r, 2);
    double counts[] = {20, 20}, d[2];
    moemap_a2a_params p = moemap_a2a_default_params();
    /* g0: receives 15, sends 0 -> 25 us; g1 computes nothing but sends 15 -> 25 us */
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 25.0, 1e-9);
    CHECK_NEAR(d[1], 25.0, 1e-9);
    p.dispatch = MOEMAP_DISPATCH_TOKEN_EXPERT; /* 40 rows: 20 received */
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 30.0, 1e-9);
    /* a share of an expert counts its part of the tokens: half of e0 on g1 */
    moemap_replica r2[] = {{0, 0, 0.5}, {0, 1, 0.5}, {1, 0, 1.0}};
    moemap_layer_placement lp2 = layer_of(r2, 3);
    p.dispatch = MOEMAP_DISPATCH_TOKEN_GPU;
    /* g0: 40 * (1 - 0.75 * 0.5) = 25 rows, g1: 10 rows */
    moemap_a2a_layer_batch(c, &lp2, counts, 2, 40, &p, d);
    CHECK_NEAR(d[0], 10 + 12.5, 1e-9); /* receives 12.5, sends 5 */
    CHECK_NEAR(d[1], 10 + 12.5, 1e-9); /* receives 5, sends 12.5 */
    moemap_cluster_free(c);
}

TEST(local_first_keeps_own_tokens_home)
{
    /* Expert 0 copied on both GPUs, half the tokens each, all 40 tokens choosing it. An
     * even origin: a copy's 20 rows come half from home, 10 cross each way: 10 + 10 us.
     * SGLang's static dispatch (local_first): each GPU computes its own 20 tokens, nothing
     * crosses: the latency alone. */
    moemap_cluster *c = net_cluster(2, 0);
    CHECK(c != NULL);
    moemap_replica r[] = {{0, 0, 0.5}, {0, 1, 0.5}};
    moemap_layer_placement lp = layer_of(r, 2);
    double counts[] = {40, 0}, d[2];
    moemap_a2a_params p = moemap_a2a_default_params();
    for (int mode = 0; mode < 2; mode++) {
        p.dispatch = mode ? MOEMAP_DISPATCH_TOKEN_EXPERT : MOEMAP_DISPATCH_TOKEN_GPU;
        p.local_first = 0;
        CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 20.0, 1e-9);
        p.local_first = 1;
        CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 2, 40, &p, d), 10.0, 1e-9);
        CHECK_NEAR(d[1], 10.0, 1e-9);
    }
    /* One copy only (on GPU 0): its own 20 tokens stay either way, GPU 1's 20 cross. */
    moemap_replica r1[] = {{0, 0, 1.0}};
    moemap_layer_placement lp1 = layer_of(r1, 1);
    p.local_first = 1;
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp1, counts, 2, 40, &p, d), 30.0, 1e-9);
    p.local_first = 0;
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp1, counts, 2, 40, &p, d), 30.0, 1e-9);
    moemap_cluster_free(c);
}

TEST(nodes_and_one_gpu)
{
    /* 4 GPUs, 2 per node; one expert per GPU with 40 rows each (N = 40, top-1 x 4
     * experts would be 160 tokens, but rows only depend on the counts): every GPU
     * receives 10 rows from its node mate (10 us) and 20 from the other node (2 us a
     * row: 40 us), sends the same: 10 + 10 + 40 = 60 us. */
    moemap_cluster *c = net_cluster(4, 2);
    CHECK(c != NULL);
    moemap_replica r[] = {{0, 0, 1.0}, {1, 1, 1.0}, {2, 2, 1.0}, {3, 3, 1.0}};
    moemap_layer_placement lp = layer_of(r, 4);
    double counts[] = {40, 40, 40, 40}, d[4];
    moemap_a2a_params p = moemap_a2a_default_params();
    p.dispatch = MOEMAP_DISPATCH_TOKEN_EXPERT;
    CHECK_NEAR(moemap_a2a_layer_batch(c, &lp, counts, 4, 160, &p, d), 60.0, 1e-9);
    for (int g = 0; g < 4; g++)
        CHECK_NEAR(d[g], 60.0, 1e-9);
    /* the exact matrix of the same traffic: each GPU sends 10 rows to every other */
    double rows[16];
    for (int s = 0; s < 4; s++)
        for (int t = 0; t < 4; t++)
            rows[s * 4 + t] = 10;
    CHECK_NEAR(moemap_a2a_rows_us(c, rows, &p, d), 60.0, 1e-9);
    /* uneven: GPU 0 sends 30 rows to GPU 3 (another node) instead of 10: it sends 40
     * across nodes, GPU 3 receives 40: 10 + 10 + 2 * 40 */
    rows[0 * 4 + 3] = 30;
    CHECK_NEAR(moemap_a2a_rows_us(c, rows, &p, d), 100.0, 1e-9);
    CHECK_NEAR(d[0], 100.0, 1e-9);
    CHECK_NEAR(d[3], 100.0, 1e-9);
    CHECK_NEAR(d[1], 60.0, 1e-9);
    /* the linear part: a token received by a GPU of a 2-GPU node among 4 crosses its
     * node's link with probability 1/4 (1 us) and the network with 2/4 (2 us), twice */
    double per_token[4];
    moemap_a2a_per_token_us(c, &p, per_token);
    CHECK_NEAR(per_token[2], 2 * (0.25 * 1 + 0.5 * 2), 1e-12);
    moemap_cluster_free(c);
    moemap_cluster *one = net_cluster(1, 0);
    CHECK(one != NULL);
    moemap_replica r1[] = {{0, 0, 1.0}};
    moemap_layer_placement lp1 = layer_of(r1, 1);
    CHECK_NEAR(moemap_a2a_layer_batch(one, &lp1, counts, 1, 40, &p, d), 0.0, 0);
    moemap_cluster_free(one);
}

TEST(curves_with_a2a)
{
    moemap_cluster *c = net_cluster(2, 0);
    CHECK(c != NULL);
    c->gpus[1].speed = 0.5; /* base curve / 0.5: twice as slow */
    moemap_error err = {0};
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    moemap_a2a_params p = moemap_a2a_default_params();
    moemap_cluster *f = NULL;
    CHECK_OK(moemap_cluster_with_a2a(c, &p, &f, &err), &err);
    /* per token: 2 phases x 1 us x half the rows cross = 1 us */
    for (double n = 1; f && n <= 4000; n *= 3)
        for (int g = 0; g < 2; g++)
            CHECK_NEAR(moemap_cluster_expert_us(f, g, n),
                       moemap_cluster_expert_us(c, g, n) + 1.0 * n, 1e-6 * n);
    moemap_cluster_free(f);
    moemap_cluster_free(c);
}

TEST(eval_and_place_report_the_whole_layer)
{
    moemap_cluster *c = net_cluster(2, 0);
    CHECK(c != NULL);
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_loads_create(2, 1, 1, 1, &ld, &err), &err);
    MOEMAP_LOADS_AT(ld, 0, 0, 0) = 40;
    MOEMAP_LOADS_AT(ld, 0, 0, 1) = 20;
    ld->batch_tokens[0] = 60;
    moemap_placement *pl = NULL;
    CHECK_OK(moemap_placement_create(2, 2, 1, &pl, &err), &err);
    moemap_replica r[] = {{0, 0, 1.0}, {1, 1, 1.0}};
    pl->layers[0].layer = 0;
    pl->layers[0].num_replicas = 2;
    pl->layers[0].replicas = moemap_malloc(sizeof r);
    memcpy(pl->layers[0].replicas, r, sizeof r);
    moemap_eval_params ep = moemap_eval_default_params();
    ep.no_bound = 1;
    moemap_eval_summary *s = NULL;
    CHECK_OK(moemap_eval_placement(ld, c, pl, &ep, &s, &err), &err);
    /* compute: both GPUs on the 100 us floor; dispatch as in two_gpus_one_node with
     * N = 60: g0 rows 40, g1 20 -> 30 us each phase; whole layer 100 + 2 * 30 */
    CHECK_NEAR(s->mean_us, 100.0, 1e-9);
    CHECK_NEAR(s->layer_mean_us, 160.0, 1e-9);
    CHECK_NEAR(s->layers[0].layer_mean_us, 160.0, 1e-9);
    CHECK_NEAR(s->a2a_mean_us, 60.0, 1e-9);
    CHECK_NEAR(s->batch_layer_us[0], 160.0, 1e-9);
    moemap_eval_summary_free(s);
    ep.a2a.off = 1; /* the compute-only model: the whole layer is the compute */
    CHECK_OK(moemap_eval_placement(ld, c, pl, &ep, &s, &err), &err);
    CHECK_NEAR(s->layer_mean_us, 100.0, 1e-9);
    CHECK_NEAR(s->a2a_mean_us, 0.0, 0);
    moemap_eval_summary_free(s);
    /* moemap_place records the whole layer in its prediction */
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = "round_robin";
    pp.batch_tokens = 60;
    moemap_placement *out = NULL;
    CHECK_OK(moemap_place(ld, c, &pp, &out, &err), &err);
    CHECK(out && out->predicted_json && strstr(out->predicted_json, "\"layer_mean_us\""));
    moemap_placement_free(out);
    moemap_placement_free(pl);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

TEST(dispatch_names)
{
    CHECK_INT_EQ(moemap_dispatch_from_name("token-gpu"), MOEMAP_DISPATCH_TOKEN_GPU);
    CHECK_INT_EQ(moemap_dispatch_from_name("token-expert"), MOEMAP_DISPATCH_TOKEN_EXPERT);
    CHECK_INT_EQ(moemap_dispatch_from_name("ring"), -1);
    CHECK_INT_EQ(moemap_dispatch_from_name(NULL), -1);
    CHECK(strcmp(moemap_dispatch_name(MOEMAP_DISPATCH_TOKEN_EXPERT), "token-expert") == 0);
}

int main(void)
{
    RUN(two_gpus_one_node);
    RUN(token_gpu_rows_are_deduplicated);
    RUN(local_first_keeps_own_tokens_home);
    RUN(nodes_and_one_gpu);
    RUN(curves_with_a2a);
    RUN(eval_and_place_report_the_whole_layer);
    RUN(dispatch_names);
    return mm_test_done();
}
