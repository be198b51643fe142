/*
 * test_place_property.c — property tests of every strategy (issue 4): on hundreds of
 * random instances (random seeds, small clusters with uneven slots and speeds, some GPUs
 * with their own curves, random skewed loads) every placement passes the validator and
 * never beats the lower bound on any layer and batch; `exact` runs on the smallest ones.
 * The real-data counterpart is test_place_real.c.
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
            if (!strcmp(names[s], "exact") && (!small || exact_runs >= 10))
                continue;
            moemap_place_params pp = moemap_place_default_params();
            pp.strategy = names[s];
            pp.seed = moemap_rng_next(&rng);
            pp.time_limit_s = !strcmp(names[s], "exact") ? 0.2 : 0.001;
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

int main(void)
{
    RUN(random_instances_all_strategies);
    return mm_test_done();
}
