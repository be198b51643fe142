/*
 * test_rebalance.c — the online rebalancing functions of moemap/rebalance.h (drift swaps,
 * repair after a lost GPU, migration cost, the cluster at measured speeds) on clusters
 * and placements small enough that every expected value is computed by hand below.
 *
 * Every cluster here has one curve: 10 us up to 100 tokens, then 1 us per token more
 * (f(n) = 10 for n <= 100, 10 + (n - 100) beyond), so a 300-token replica costs 210 us
 * and a 50-token one 10 us.
 */
#include "harness.h"

#include "place_fixtures.h"

static moemap_cluster *cluster(int G, int slots, int per_node)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(G, slots, NULL, NULL, per_node, 10, 100, 1, &err);
    if (!c)
        fprintf(stderr, "cluster: %s\n", err.msg);
    return c;
}

/* A one-layer placement (layer id 1) from (expert, gpu, share) triples. */
static moemap_placement *placement(int G, int E, const moemap_replica *reps, int n)
{
    moemap_error err = {0};
    moemap_placement *p = NULL;
    if (moemap_placement_create(G, E, 1, &p, &err) ||
        moemap_placement_set_layer(p, 0, 1, reps, n, &err)) {
        fprintf(stderr, "placement: %s\n", err.msg);
        moemap_placement_free(p);
        return NULL;
    }
    return p;
}

/* The GPU of expert e's only replica in layer 0 (-1: none, -2: several). */
static int gpu_of(const moemap_placement *p, int e)
{
    int g = -1;
    for (int i = 0; i < p->layers[0].num_replicas; i++)
        if (p->layers[0].replicas[i].expert == e)
            g = g == -1 ? p->layers[0].replicas[i].gpu : -2;
    return g;
}

/* GPU 0 holds e0, e1 (300 tokens each: 420 us), GPU 1 e2, e3 (50 each: 20 us). Swapping
 * e0 with e2 gives 220 us on both, below 0.99 x 420; after it the two are equal, so the
 * second round finds no slower GPU and stops: exactly one swap. */
TEST(swaps_balance_the_slowest_with_the_fastest)
{
    moemap_cluster *c = cluster(2, 2, 0);
    moemap_replica r[] = {{0, 0, 1}, {1, 0, 1}, {2, 1, 1}, {3, 1, 1}};
    moemap_placement *p = placement(2, 4, r, 4), *q = NULL;
    REQUIRE(c && p);
    double counts[] = {300, 300, 50, 50};
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_swaps(p, c, counts, NULL, NULL, 3, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(gpu_of(q, 0), 1);
    CHECK_INT_EQ(gpu_of(q, 2), 0);
    CHECK_INT_EQ(gpu_of(q, 1), 0);
    CHECK_INT_EQ(gpu_of(q, 3), 1);
    CHECK_INT_EQ(gpu_of(p, 0), 0); /* the input is left as it was */
    moemap_placement_free(q);
    moemap_placement_free(p);
    moemap_cluster_free(c);
}

/* At speed[1] = 0.5 GPU 1 takes twice as long: any swap leaves it at 220 / 0.5 = 440 us,
 * worse than the 420 us straggler now, so nothing moves. With GPU 1 lost only GPU 0 is
 * alive: no pair to swap either. With max_swaps 0 nothing is tried. */
TEST(swaps_judge_at_measured_speeds_and_skip_lost_gpus)
{
    moemap_cluster *c = cluster(2, 2, 0);
    moemap_replica r[] = {{0, 0, 1}, {1, 0, 1}, {2, 1, 1}, {3, 1, 1}};
    moemap_placement *p = placement(2, 4, r, 4), *q = NULL;
    REQUIRE(c && p);
    double counts[] = {300, 300, 50, 50}, speed[] = {1, 0.5};
    unsigned char alive[] = {1, 0};
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_swaps(p, c, counts, speed, NULL, 3, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(gpu_of(q, 0), 0);
    CHECK_INT_EQ(gpu_of(q, 2), 1);
    moemap_placement_free(q);
    CHECK_OK(moemap_rebalance_swaps(p, c, counts, NULL, alive, 3, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(gpu_of(q, 0), 0);
    moemap_placement_free(q);
    CHECK_OK(moemap_rebalance_swaps(p, c, counts, NULL, NULL, 0, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(gpu_of(q, 0), 0);
    moemap_placement_free(q);
    moemap_placement_free(p);
    moemap_cluster_free(c);
}

/* GPU 0: e0 (half), e1; GPU 1: e0 (half), e2; GPU 2 empty; 2 slots each. Losing GPU 1
 * leaves e0's replica on GPU 0 with all of e0 (share 1) and orphans e2, which goes to the
 * live GPU with a free slot: GPU 2 (GPU 0's two slots are taken). */
TEST(repair_rehomes_orphans_and_renormalises_shares)
{
    moemap_cluster *c = cluster(3, 2, 0);
    moemap_replica r[] = {{0, 0, 0.5}, {1, 0, 1}, {0, 1, 0.5}, {2, 1, 1}};
    moemap_placement *p = placement(3, 3, r, 4), *q = NULL;
    REQUIRE(c && p);
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_repair_lost(p, c, NULL, 1, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(q->layers[0].num_replicas, 3);
    CHECK_INT_EQ(gpu_of(q, 0), 0);
    CHECK_INT_EQ(gpu_of(q, 1), 0);
    CHECK_INT_EQ(gpu_of(q, 2), 2);
    for (int i = 0; i < q->layers[0].num_replicas; i++)
        CHECK_NEAR(q->layers[0].replicas[i].share, 1.0, 1e-12);
    CHECK_INT_EQ(q->layers[0].layer, 1);
    moemap_placement_free(q);
    /* GPU 2 already lost too: only GPU 0 is left, over-subscribed with e2 */
    unsigned char alive[] = {1, 1, 0};
    CHECK_OK(moemap_rebalance_repair_lost(p, c, alive, 1, &q, &err), &err);
    REQUIRE(q);
    CHECK_INT_EQ(gpu_of(q, 2), 0);
    moemap_placement_free(q);
    /* nothing left alive, and a GPU that does not exist */
    unsigned char none[] = {0, 1, 0};
    CHECK(moemap_rebalance_repair_lost(p, c, none, 1, &q, &err) == MOEMAP_EINFEASIBLE);
    CHECK(q == NULL);
    CHECK(moemap_rebalance_repair_lost(p, c, NULL, 3, &q, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "GPU 3");
    moemap_placement_free(p);
    moemap_cluster_free(c);
}

/* 4 GPUs, 2 per node, 1 GB experts, migration link 10 GB/s, intra-node 100 GB/s, 50 us
 * latency. From {e0: GPU 0, e1: GPU 2}:
 *   to {e0: GPU 1, e1: GPU 2}: one copy, e0 is on GPU 0 of the same node: 1e9 / 100e9 =
 *     0.01 s + 50 us;
 *   the same with GPU 0 lost: the copy comes over the link: 0.1 s + 50 us;
 *   to {e0: GPU 1, e1: GPU 2 and GPU 0}: two copies, GPU 0's over the link (e1 is only on
 *     the other node): the stall is the busiest receiver's, 0.1 s + 50 us, 2 GB moved;
 *   to itself: nothing, no latency. */
TEST(migration_cost_by_link_and_busiest_receiver)
{
    moemap_cluster *c = cluster(4, 2, 2);
    REQUIRE(c);
    c->latency_us = 50;
    moemap_replica ra[] = {{0, 0, 1}, {1, 2, 1}}, rb[] = {{0, 1, 1}, {1, 2, 1}},
                   rc2[] = {{0, 1, 1}, {1, 2, 0.5}, {1, 0, 0.5}};
    moemap_placement *a = placement(4, 2, ra, 2), *b = placement(4, 2, rb, 2),
                     *d = placement(4, 2, rc2, 3);
    REQUIRE(a && b && d);
    moemap_rebalance_cost mc;
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_migration_cost(a, b, c, NULL, 1e9, 10, 100, &mc, &err), &err);
    CHECK_INT_EQ(mc.moves, 1);
    CHECK_NEAR(mc.bytes, 1e9, 1e-3);
    CHECK_NEAR(mc.stall_s, 0.01 + 50e-6, 1e-12);
    unsigned char alive[] = {0, 1, 1, 1};
    CHECK_OK(moemap_rebalance_migration_cost(a, b, c, alive, 1e9, 10, 100, &mc, &err), &err);
    CHECK_NEAR(mc.stall_s, 0.1 + 50e-6, 1e-12);
    CHECK_OK(moemap_rebalance_migration_cost(a, d, c, NULL, 1e9, 10, 100, &mc, &err), &err);
    CHECK_INT_EQ(mc.moves, 2);
    CHECK_NEAR(mc.bytes, 2e9, 1e-3);
    CHECK_NEAR(mc.stall_s, 0.1 + 50e-6, 1e-12);
    /* intra 0: within a node at the link's speed too */
    CHECK_OK(moemap_rebalance_migration_cost(a, b, c, NULL, 1e9, 10, 0, &mc, &err), &err);
    CHECK_NEAR(mc.stall_s, 0.1 + 50e-6, 1e-12);
    CHECK_OK(moemap_rebalance_migration_cost(a, a, c, NULL, 1e9, 10, 100, &mc, &err), &err);
    CHECK_INT_EQ(mc.moves, 0);
    CHECK_NEAR(mc.stall_s, 0, 0);
    CHECK(moemap_rebalance_migration_cost(a, b, c, NULL, 1e9, 0, 100, &mc, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "link");
    moemap_placement_free(a);
    moemap_placement_free(b);
    moemap_placement_free(d);
    moemap_cluster_free(c);
}

/* GPU 1 measured at half speed and GPU 2 lost: GPU 1's 200-token replica costs
 * 2 x 110 = 220 us instead of 110, GPU 2 keeps no slot, GPU 0 is unchanged; without
 * speeds only the lost GPU changes. A speed <= 0 is refused. */
TEST(cluster_at_measured_speeds)
{
    moemap_cluster *c = cluster(3, 4, 0), *s = NULL;
    REQUIRE(c);
    double speed[] = {1, 0.5, 1};
    unsigned char alive[] = {1, 1, 0};
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_cluster(c, speed, alive, &s, &err), &err);
    REQUIRE(s);
    CHECK_NEAR(moemap_cluster_expert_us(s, 0, 200), 110, 1e-9);
    CHECK_NEAR(moemap_cluster_expert_us(s, 1, 200), 220, 1e-9);
    CHECK_INT_EQ(s->gpus[0].slots, 4);
    CHECK_INT_EQ(s->gpus[2].slots, 0);
    CHECK_NEAR(moemap_cluster_expert_us(c, 1, 200), 110, 1e-9); /* c itself untouched */
    moemap_cluster_free(s);
    CHECK_OK(moemap_rebalance_cluster(c, NULL, alive, &s, &err), &err);
    REQUIRE(s);
    CHECK_NEAR(moemap_cluster_expert_us(s, 1, 200), 110, 1e-9);
    CHECK_INT_EQ(s->gpus[2].slots, 0);
    moemap_cluster_free(s);
    double bad[] = {1, 0, 1};
    CHECK(moemap_rebalance_cluster(c, bad, NULL, &s, &err) == MOEMAP_EINVAL);
    CHECK(s == NULL);
    CHECK_STR_CONTAINS(err.msg, "GPU 1");
    moemap_cluster_free(c);
}

int main(void)
{
    RUN(swaps_balance_the_slowest_with_the_fastest);
    RUN(swaps_judge_at_measured_speeds_and_skip_lost_gpus);
    RUN(repair_rehomes_orphans_and_renormalises_shares);
    RUN(migration_cost_by_link_and_busiest_receiver);
    RUN(cluster_at_measured_speeds);
    return mm_test_done();
}
