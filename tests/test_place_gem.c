/*
 * test_place_gem.c — the GEM strategy (src/place/strategy_gem.c): the hottest expert
 * goes to the fast GPU (closed form), co-activated temporal experts are kept apart when
 * token balance does not care, every output on hundreds of random instances is a valid
 * placement with one replica per expert and equal experts per GPU, and on a real ESFT
 * layer (law, model layer 5) a throttled GPU gets less than its share of tokens.
 */
#include "harness.h"
#include "place_fixtures.h"
#include "place_layer_fixture.h"

/* Loads of one layer from a B x E table. */
static moemap_loads *table_loads(int E, int B, const double *tab)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_loads_create(E, 2, 1, B, &ld, &err))
        return NULL;
    for (int b = 0; b < B; b++) {
        ld->batch_tokens[b] = 0;
        for (int e = 0; e < E; e++) {
            MOEMAP_LOADS_AT(ld, b, 0, e) = tab[b * E + e];
            ld->batch_tokens[b] += tab[b * E + e] / 2;
        }
    }
    return ld;
}

TEST(hottest_expert_on_fast_gpu)
{
    double speeds[] = {0.5, 1.0};
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 2, NULL, speeds, 0, 60, 128, 0.1, &err);
    double tab[] = {1000, 600, 100, 50, 1100, 500, 120, 40, 900, 650, 80, 60};
    moemap_loads *ld = table_loads(4, 3, tab);
    REQUIRE(c && ld);
    fx_layer fl;
    REQUIRE(fx_layer_init(&fl, ld, 0, c, 0, 1.0) == 0);
    int rc;
    moemap_placement *p = fx_layer_run(&fl, place_gem, &rc, &err);
    REQUIRE(p);
    CHECK_OK(moemap_placement_validate(p, c, &err), &err);
    int gpu_of[4] = {-1, -1, -1, -1};
    for (int i = 0; i < p->layers[0].num_replicas; i++)
        gpu_of[p->layers[0].replicas[i].expert] = p->layers[0].replicas[i].gpu;
    CHECK_INT_EQ(gpu_of[0], 1); /* hottest on the fast GPU (gpu 1) */
    /* fast GPU's target is 2/3 of 1000+583+100+50: {0, 2|3} vs {1, 3|2} is closest */
    CHECK(gpu_of[1] == 0);
    int cnt[2];
    fx_layer_per_gpu(p, cnt);
    CHECK_INT_EQ(cnt[0], 2);
    CHECK_INT_EQ(cnt[1], 2);
    moemap_placement_free(p);
    fx_layer_clear(&fl);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

TEST(coactivated_temporal_experts_kept_apart)
{
    /* 8 experts with the same mean load (100 per batch): 0-5 constant (consistent), 6 and
     * 7 fire together in 4 of 20 batches with 500 tokens (temporal, correlation 1). Token
     * balance is the same for every 2-per-GPU split; only co-activation separates 6, 7. */
    int E = 8, B = 20;
    double tab[20 * 8];
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++)
            tab[b * E + e] = e < 6 ? 100 : (b % 5 == 0 ? 500 : 0);
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(4, 2, NULL, NULL, 0, 60, 128, 0.1, &err);
    moemap_loads *ld = table_loads(E, B, tab);
    REQUIRE(c && ld);
    fx_layer fl;
    REQUIRE(fx_layer_init(&fl, ld, 0, c, 0, 1.0) == 0);
    int rc;
    moemap_placement *p = fx_layer_run(&fl, place_gem, &rc, &err);
    REQUIRE(p);
    CHECK_OK(moemap_placement_validate(p, c, &err), &err);
    int gpu_of[8];
    for (int i = 0; i < p->layers[0].num_replicas; i++)
        gpu_of[p->layers[0].replicas[i].expert] = p->layers[0].replicas[i].gpu;
    CHECK(gpu_of[6] != gpu_of[7]);
    /* and the result is no slower than putting them together (linear: 6, 7 on gpu 3) */
    moemap_placement *lin = fx_layer_run(&fl, place_linear, &rc, &err);
    REQUIRE(lin);
    CHECK(fx_layer_mean_us(&fl, p) < fx_layer_mean_us(&fl, lin));
    moemap_placement_free(lin);
    moemap_placement_free(p);
    fx_layer_clear(&fl);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

TEST(random_instances_valid_and_even)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 2026);
    int failures = 0;
    for (int seed = 0; seed < 200; seed++) {
        int G = 2 + (int)moemap_rng_below(&rng, 7);
        int E = G + (int)moemap_rng_below(&rng, 40);
        int B = 1 + (int)moemap_rng_below(&rng, 12);
        int slots = (E + G - 1) / G + (int)moemap_rng_below(&rng, 3);
        double speeds[16];
        for (int g = 0; g < G; g++)
            speeds[g] = 0.7 + 0.3 * moemap_rng_uniform(&rng);
        moemap_error err = {0};
        moemap_cluster *c = fx_cluster(G, slots, NULL, speeds, 0, 60, 128, 0.1, &err);
        moemap_loads *ld = fx_loads(E, 1, B, 256, 2, (uint64_t)seed, &err);
        REQUIRE(c && ld);
        fx_layer fl;
        REQUIRE(fx_layer_init(&fl, ld, 0, c, 0, 0.5) == 0);
        fl.params.seed = (uint64_t)seed;
        int rc, cnt[16];
        moemap_placement *p = fx_layer_run(&fl, place_gem, &rc, &err);
        if (!p || moemap_placement_validate(p, c, &err) != 0) {
            fprintf(stderr, "  seed %d: %s\n", seed, err.msg);
            failures++;
        } else {
            fx_layer_per_gpu(p, cnt);
            int lo = E, hi = 0;
            for (int g = 0; g < G; g++) {
                lo = cnt[g] < lo ? cnt[g] : lo;
                hi = cnt[g] > hi ? cnt[g] : hi;
            }
            if (p->layers[0].num_replicas != E || hi - lo > 1) {
                fprintf(stderr, "  seed %d: %d replicas, %d..%d per GPU\n", seed,
                        p->layers[0].num_replicas, lo, hi);
                failures++;
            }
        }
        moemap_placement_free(p);
        fx_layer_clear(&fl);
        moemap_loads_free(ld);
        moemap_cluster_free(c);
    }
    CHECK_INT_EQ(failures, 0);
}

TEST(real_esft_layer_throttled_gpu_gets_less)
{
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = 512;
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_read(
                 mm_data_path("esft-dsv2lite-routing/expert_scores/law/expert_weights_5.txt"),
                 &rp, &ld, NULL, &err), &err);
    REQUIRE(ld);
    REQUIRE(ld->experts == 64 && ld->num_batches > 4);
    double speeds[8] = {1, 1, 1, 0.8, 1, 1, 1, 1};
    moemap_cluster *c = fx_cluster(8, 8, NULL, speeds, 0, 60, 128, 0.1, &err);
    REQUIRE(c);
    fx_layer fl;
    REQUIRE(fx_layer_init(&fl, ld, 0, c, 0, 1.0) == 0);
    int rc;
    moemap_placement *p = fx_layer_run(&fl, place_gem, &rc, &err);
    REQUIRE(p);
    CHECK_OK(moemap_placement_validate(p, c, &err), &err);
    double load[8] = {0}, sum = 0;
    for (int i = 0; i < p->layers[0].num_replicas; i++) {
        const moemap_replica *r = &p->layers[0].replicas[i];
        load[r->gpu] += fl.total[r->expert] * r->share;
        sum += fl.total[r->expert] * r->share;
    }
    /* target of the 0.8x GPU: 0.8 / 7.8 of the tokens, about 82% of the mean */
    CHECK(load[3] < 0.95 * sum / 8);
    /* and GEM beats the speed-blind contiguous layout on this cluster */
    moemap_placement *lin = fx_layer_run(&fl, place_linear, &rc, &err);
    REQUIRE(lin);
    CHECK(fx_layer_mean_us(&fl, p) < fx_layer_mean_us(&fl, lin));
    moemap_placement_free(lin);
    moemap_placement_free(p);
    fx_layer_clear(&fl);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

TEST(too_few_slots_refused)
{
    moemap_error err = {0};
    moemap_cluster *c = fx_cluster(2, 1, NULL, NULL, 0, 60, 128, 0.1, &err);
    moemap_loads *ld = fx_loads(4, 1, 2, 64, 2, 1, &err);
    REQUIRE(c && ld);
    fx_layer fl;
    REQUIRE(fx_layer_init(&fl, ld, 0, c, 0, 1.0) == 0);
    int rc;
    moemap_placement *p = fx_layer_run(&fl, place_gem, &rc, &err);
    CHECK(p == NULL);
    CHECK_INT_EQ(rc, MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "2 slots for 4 experts");
    fx_layer_clear(&fl);
    moemap_loads_free(ld);
    moemap_cluster_free(c);
}

int main(void)
{
    RUN(hottest_expert_on_fast_gpu);
    RUN(coactivated_temporal_experts_kept_apart);
    RUN(random_instances_valid_and_even);
    RUN(real_esft_layer_throttled_gpu_gets_less);
    RUN(too_few_slots_refused);
    return mm_test_done();
}
