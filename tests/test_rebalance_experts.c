/*
 * test_rebalance_experts.c — moemap_rebalance_experts (moemap/rebalance.h) in C, so
 * the sanitizer build runs it too (the Python tests cannot load an instrumented library):
 * a case worked out by hand (hot expert copied, slots by expert id, log2phy padded with
 * -1 to the most copies), the hierarchical variant keeping each group on one node, a
 * speed-aware call on a cluster, errors naming the argument, and every allocation
 * failing in turn (an error, never a crash or a leak).
 */
#include "harness.h"

#include <stdint.h>

#include "moemap.h"

TEST(hand_worked_two_layers)
{
    /* Layer 0: 12,1,1,1 in 6 slots on 2 GPUs: expert 0 once per GPU, then expert 1:
     * {0,1,2} | {0,1,3}. Layer 1: 1,1,1,9 -> {0,1,3} | {0,2,3}. */
    double w[8] = {12, 1, 1, 1, 1, 1, 1, 9};
    int W = moemap_rebalance_log2phy_width(4, 6);
    CHECK_INT_EQ(W, 3);
    int64_t p[12], l2p[2 * 4 * 3], cnt[8];
    int most = 0;
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_experts(w, 2, 4, 6, 1, 1, 2, NULL, p, l2p, cnt, &most, &err),
             &err);
    static const int64_t want_p[12] = {0, 1, 2, 0, 1, 3, 0, 1, 3, 0, 2, 3};
    static const int64_t want_cnt[8] = {2, 2, 1, 1, 2, 1, 1, 2};
    static const int64_t want_l2p[24] = {0, 3, -1, 1, 4, -1, 2, -1, -1, 5, -1, -1,
                                         0, 3, -1, 1, -1, -1, 4, -1, -1, 2, 5, -1};
    for (int i = 0; i < 12; i++)
        CHECK_INT_EQ(p[i], want_p[i]);
    for (int i = 0; i < 8; i++)
        CHECK_INT_EQ(cnt[i], want_cnt[i]);
    for (int i = 0; i < 24; i++)
        CHECK_INT_EQ(l2p[i], want_l2p[i]);
    CHECK_INT_EQ(most, 2);
}

TEST(hierarchical_groups_stay_on_their_node)
{
    /* 16 experts in 4 groups of 4, 2 nodes of 2 GPUs, 24 slots: every copy of a group's
     * experts is on the node the group was packed to. */
    double w[16];
    for (int e = 0; e < 16; e++)
        w[e] = (double)((e * 37) % 11 + 1) * (e < 4 ? 5 : 1);
    int64_t p[24], l2p[16 * 9], cnt[16];
    moemap_error err = {0};
    CHECK_OK(moemap_rebalance_experts(w, 1, 16, 24, 4, 2, 4, NULL, p, l2p, cnt, NULL, &err),
             &err);
    int node_of_group[4] = {-1, -1, -1, -1};
    for (int s = 0; s < 24; s++) {
        int grp = (int)p[s] / 4, node = s / 12;
        if (node_of_group[grp] < 0)
            node_of_group[grp] = node;
        CHECK_INT_EQ(node_of_group[grp], node);
    }
    long total = 0;
    for (int e = 0; e < 16; e++)
        total += cnt[e];
    CHECK_INT_EQ(total, 24);
}

TEST(cluster_and_errors)
{
    double tokens[2] = {1, 4096}, us[2] = {60, 560}, speeds[4] = {1, 1, 1, 0.8};
    moemap_curve base = {2, tokens, us, 0};
    moemap_synth_params sp = {0};
    sp.num_gpus = 4;
    sp.slots = 3;
    sp.speeds = speeds;
    sp.num_speeds = 4;
    sp.base = &base;
    sp.hidden = 7168;
    sp.intermediate = 2048;
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_cluster_synth(&sp, &c, &err), &err);
    double w[10] = {50, 40, 30, 20, 10, 9, 8, 7, 6, 5};
    int64_t p[12], l2p[10 * 3], cnt[10];
    moemap_rebalance_params rp = moemap_rebalance_default_params();
    rp.cluster = c;
    CHECK(moemap_rebalance_experts(w, 1, 10, 12, 1, 1, 4, &rp, p, l2p, cnt, NULL, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "top_k (experts per token) is needed");
    rp.top_k = 2;
    rp.batch_tokens = 8192;
    CHECK_OK(moemap_rebalance_experts(w, 1, 10, 12, 1, 1, 4, &rp, p, l2p, cnt, NULL, &err),
             &err);
    long copies = 0;
    for (int e = 0; e < 10; e++) {
        CHECK(cnt[e] >= 1);
        copies += cnt[e];
    }
    CHECK_INT_EQ(copies, 12);
    CHECK(moemap_rebalance_experts(w, 1, 10, 12, 1, 1, 3, &rp, p, l2p, cnt, NULL, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "the cluster has 4 GPUs but num_gpus is 3");
    CHECK(moemap_rebalance_experts(w, 1, 10, 10, 1, 1, 4, NULL, p, l2p, cnt, NULL, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "num_replicas 10 is not a multiple of num_gpus 4");
    w[3] = NAN;
    CHECK(moemap_rebalance_experts(w, 1, 10, 12, 1, 1, 4, NULL, p, l2p, cnt, NULL, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "weight[0][3]");
    moemap_cluster_free(c);
}

TEST(allocation_failures)
{
    double w[8] = {12, 1, 1, 1, 1, 1, 1, 9};
    int64_t p[12], l2p[24], cnt[8];
    moemap_error err = {0};
    int failures = 0;
    for (long k = 0; k < 400; k++) {
        moemap_alloc_fail_after(k);
        int rc = moemap_rebalance_experts(w, 2, 4, 6, 1, 1, 2, NULL, p, l2p, cnt, NULL, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            break;
        CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        failures++;
    }
    CHECK(failures > 5);
}

int main(void)
{
    RUN(hand_worked_two_layers);
    RUN(hierarchical_groups_stay_on_their_node);
    RUN(cluster_and_errors);
    RUN(allocation_failures);
    return mm_test_done();
}
