/*
 * test_place_property.c — property tests of every strategy (issue 4): on hundreds of
 * random instances (random seeds, small clusters with uneven slots and speeds, some GPUs
 * with their own curves, random skewed loads) every placement passes the validator and
 * never beats the lower bound on any layer and batch; `exact` runs on the smallest ones.
 * On the real ESFT routing (law task) every strategy's placement is valid, and `moemap`
 * meets its targets: within 3% of the bound, no worse than eplb on a homogeneous cluster,
 * at least 10% better than eplb with one GPU throttled to 0.8x. Same seed, same placement.
 */
#include "harness.h"
#include "place_fixtures.h"

static moemap_cluster *random_cluster(moemap_rng *rng, int E, moemap_error *err)
{
    int G = 1 + (int)moemap_rng_below(rng, 6);
    int slots[8], total = 0;
    double speeds[8];
    for (int g = 0; g < G; g++) {
        slots[g] = (int)moemap_rng_below(rng, 5);
        total += slots[g];
        speeds[g] = 0.6 + 0.8 * moemap_rng_uniform(rng);
    }
    for (int g = 0; total < E; g = (g + 1) % G) {
        slots[g]++;
        total++;
    }
    int per_node = (int)moemap_rng_below(rng, 3);
    moemap_cluster *c = fx_cluster(G, 0, slots, speeds, per_node, 20 + 60 * moemap_rng_uniform(rng),
                                   1 + 400 * moemap_rng_uniform(rng),
                                   0.02 + 0.2 * moemap_rng_uniform(rng), err);
    if (!c)
        return NULL;
    /* Some GPUs get a measured-looking curve of their own. */
    int changed = 0;
    for (int g = 0; g < G; g++) {
        if (moemap_rng_below(rng, 3) != 0)
            continue;
        if (fx_set_curve(&c->gpus[g].curve, 10 + 90 * moemap_rng_uniform(rng),
                         1 + 300 * moemap_rng_uniform(rng), 0.01 + 0.3 * moemap_rng_uniform(rng)))
            break;
        changed = 1;
    }
    if (changed && moemap_cluster_finalize(c, err) != 0) {
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

typedef struct tally {
    int ok, infeasible;
} tally;

/* Every layer and batch: straggler >= bound. Returns the number of violations. */
static int bound_violations(const moemap_loads *ld, const moemap_cluster *c, int slots,
                            const moemap_placement *p)
{
    moemap_error err = {0};
    moemap_bound *bd;
    if (moemap_bound_create(c, slots, &bd, &err) != 0)
        return 1;
    int bad = 0;
    for (int i = 0; i < p->num_layers; i++) {
        int l = moemap_loads_find_layer(ld, p->layers[i].layer);
        for (int b = 0; b < ld->num_batches; b++) {
            const double *cnt = &MOEMAP_LOADS_AT(ld, b, l, 0);
            double t = moemap_eval_layer_batch(c, &p->layers[i], cnt, ld->experts, NULL);
            double lb = moemap_bound_layer_batch(bd, cnt, ld->experts);
            if (lb > t * (1 + 1e-9) + 1e-9) {
                bad++;
                fprintf(stderr, "  %s: layer %d batch %d: bound %.6f > straggler %.6f\n",
                        p->strategy, p->layers[i].layer, b, lb, t);
            }
        }
    }
    moemap_bound_free(bd);
    return bad;
}

TEST(random_instances_all_strategies)
{
    const char *const *names = moemap_place_strategy_names();
    int ns = 0;
    while (names[ns])
        ns++;
    tally t[16] = {{0, 0}};
    moemap_rng rng;
    moemap_rng_seed(&rng, 2026);
    int instances = 200, exact_runs = 0;
    for (int it = 0; it < instances; it++) {
        moemap_error err = {0};
        int E = 2 + (int)moemap_rng_below(&rng, 11);
        moemap_cluster *c = random_cluster(&rng, E, &err);
        moemap_loads *ld = fx_loads(E, 1 + (int)moemap_rng_below(&rng, 2),
                                    1 + (int)moemap_rng_below(&rng, 5),
                                    16 + (int)moemap_rng_below(&rng, 600),
                                    1 + (int)moemap_rng_below(&rng, E < 4 ? E : 4),
                                    moemap_rng_next(&rng), &err);
        REQUIRE(c && ld);
        int small = E <= 5 && c->num_gpus <= 3 && ld->num_batches <= 3 && ld->num_layers == 1;
        for (int s = 0; s < ns && s < 16; s++) {
            if (!strcmp(names[s], "exact") && (!small || exact_runs >= 25))
                continue;
            moemap_place_params pp = moemap_place_default_params();
            pp.strategy = names[s];
            pp.seed = moemap_rng_next(&rng);
            pp.time_limit_s = !strcmp(names[s], "exact") ? 2.0 : 0.02;
            moemap_placement *p = NULL;
            int rc = moemap_place(ld, c, &pp, &p, &err);
            if (rc == MOEMAP_EINFEASIBLE && err.msg[0]) {
                t[s].infeasible++; /* e.g. equal experts per GPU cannot fit uneven slots */
                continue;
            }
            CHECK_OK(rc, &err);
            if (rc) {
                fprintf(stderr, "  instance %d, %s\n", it, names[s]);
                continue;
            }
            exact_runs += !strcmp(names[s], "exact");
            moemap_error verr = {0};
            CHECK_OK(moemap_placement_validate(p, c, &verr), &verr);
            CHECK_INT_EQ(moemap_placement_check_loads(p, ld, NULL, NULL), 0);
            CHECK_INT_EQ(bound_violations(ld, c, 0, p), 0);
            t[s].ok++;
            moemap_placement_free(p);
        }
        moemap_loads_free(ld);
        moemap_cluster_free(c);
    }
    for (int s = 0; s < ns && s < 16; s++) {
        printf("# %-12s valid on %d instances, refused (infeasible) on %d\n", names[s], t[s].ok,
               t[s].infeasible);
        CHECK(t[s].ok > 0);
        /* The baselines and moemap place anything with enough slots. */
        if (!strcmp(names[s], "moemap") || !strcmp(names[s], "linear") ||
            !strcmp(names[s], "round_robin") || !strcmp(names[s], "eplb_global"))
            CHECK_INT_EQ(t[s].infeasible, 0);
    }
}

static moemap_placement *place(const moemap_loads *ld, const moemap_cluster *c,
                               const char *name, uint64_t seed)
{
    moemap_error err = {0};
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = name;
    pp.seed = seed;
    pp.time_limit_s = 0.3;
    moemap_placement *p = NULL;
    if (moemap_place(ld, c, &pp, &p, &err) != 0) {
        fprintf(stderr, "  %s: %s\n", name, err.msg);
        return NULL;
    }
    return p;
}

static double mean_of(const moemap_loads *ld, const moemap_cluster *c, const moemap_placement *p,
                      double *gap)
{
    moemap_error err = {0};
    moemap_eval_summary *s;
    if (moemap_eval_placement(ld, c, p, NULL, &s, &err) != 0)
        return NAN;
    double m = s->mean_us;
    if (gap)
        *gap = s->gap;
    moemap_eval_summary_free(s);
    return m;
}

TEST(real_esft_routing)
{
    moemap_error err = {0};
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = 1024;
    moemap_loads *ld;
    CHECK_OK(moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/law"), &rp,
                                  &ld, NULL, &err), &err);
    REQUIRE(ld);
    CHECK_INT_EQ(ld->experts, 64);
    double throttled[8] = {0.8, 1, 1, 1, 1, 1, 1, 1};
    /* DESIGN.md's example H200 curve shape, flat to ~64 tokens then linear */
    moemap_cluster *homo = fx_cluster(8, 10, NULL, NULL, 8, 60, 64, 0.12, &err);
    moemap_cluster *slow = fx_cluster(8, 10, NULL, throttled, 8, 60, 64, 0.12, &err);
    REQUIRE(homo && slow);
    const char *const *names = moemap_place_strategy_names();
    for (int s = 0; names[s]; s++) {
        if (!strcmp(names[s], "exact"))
            continue; /* 64 experts x 8 GPUs is far beyond a MIP in a unit test */
        moemap_placement *p = place(ld, slow, names[s], 1);
        CHECK(p != NULL);
        if (p)
            CHECK_OK(moemap_placement_validate(p, slow, &err), &err);
        moemap_placement_free(p);
    }
    moemap_placement *mh = place(ld, homo, "moemap", 1), *eh = place(ld, homo, "eplb", 1);
    moemap_placement *ms = place(ld, slow, "moemap", 1), *es = place(ld, slow, "eplb", 1);
    REQUIRE(mh && eh && ms && es);
    double gap_h = 0, gap_s = 0;
    double m_h = mean_of(ld, homo, mh, &gap_h), e_h = mean_of(ld, homo, eh, NULL);
    double m_s = mean_of(ld, slow, ms, &gap_s), e_s = mean_of(ld, slow, es, NULL);
    printf("# law, 1024-token batches, 8 GPUs x 10 slots: homogeneous moemap %.0f us (gap "
           "%.2f%%) eplb %.0f us; GPU 0 at 0.8x: moemap %.0f us (gap %.2f%%) eplb %.0f us\n",
           m_h, 100 * gap_h, e_h, m_s, 100 * gap_s, e_s);
    CHECK(m_h <= e_h);
    CHECK(m_s <= 0.9 * e_s);
    CHECK(gap_h < 0.03);
    CHECK(gap_s < 0.03);
    /* Deterministic for a seed. */
    moemap_placement *again = place(ld, slow, "moemap", 1);
    REQUIRE(again);
    int same = again->num_layers == ms->num_layers;
    for (int l = 0; same && l < ms->num_layers; l++) {
        same &= again->layers[l].num_replicas == ms->layers[l].num_replicas;
        for (int i = 0; same && i < ms->layers[l].num_replicas; i++)
            same &= again->layers[l].replicas[i].expert == ms->layers[l].replicas[i].expert &&
                    again->layers[l].replicas[i].gpu == ms->layers[l].replicas[i].gpu &&
                    again->layers[l].replicas[i].share == ms->layers[l].replicas[i].share;
    }
    CHECK(same);
    moemap_placement_free(again);
    moemap_placement_free(mh);
    moemap_placement_free(eh);
    moemap_placement_free(ms);
    moemap_placement_free(es);
    moemap_cluster_free(homo);
    moemap_cluster_free(slow);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(random_instances_all_strategies);
    RUN(real_esft_routing);
    return mm_test_done();
}
