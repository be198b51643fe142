/*
 * test_migrate.c — migration plans (moemap/migrate.h): closed-form cases (a swap between
 * two full GPUs needs exactly one staging buffer, a shift into a free slot needs none),
 * a property test that replays plans between hundreds of random placements and checks
 * that every expert stays served after every step and the end state is the new
 * placement (and the same for a GEM -> ViBE re-placement of the real ESFT law task), the
 * experts-moved count, the JSON output and the error messages.
 */
#include "moemap/migrate.h"

#include <jansson.h>

#include "harness.h"
#include "moemap.h"

/* A one-layer placement from a list of (expert, gpu) pairs with equal shares. */
static moemap_placement *make(int G, int E, int layer_id, const int *pairs, int n)
{
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_placement_create(G, E, 1, &p, &err))
        return NULL;
    moemap_replica reps[256];
    int cnt[64] = {0};
    for (int i = 0; i < n; i++)
        cnt[pairs[2 * i]]++;
    for (int i = 0; i < n; i++)
        reps[i] = (moemap_replica){pairs[2 * i], pairs[2 * i + 1], 1.0 / cnt[pairs[2 * i]]};
    moemap_placement_set_layer(p, 0, layer_id, reps, n, &err);
    return p;
}

/* Random valid layer: every expert once, then extra replicas on GPUs that lack them,
 * at most `slots` per GPU. */
static void random_layer(moemap_rng *rng, int G, int E, int slots, moemap_replica *reps,
                         int *n)
{
    unsigned char has[64][16] = {{0}};
    int occ[16] = {0};
    *n = 0;
    for (int e = 0; e < E; e++) {
        int g;
        do
            g = (int)moemap_rng_below(rng, (uint64_t)G);
        while (occ[g] >= slots);
        has[e][g] = 1;
        occ[g]++;
        reps[(*n)++] = (moemap_replica){e, g, 1.0};
    }
    int extra = (int)moemap_rng_below(rng, (uint64_t)(G * slots - E + 1));
    for (int k = 0; k < extra; k++) {
        int e = (int)moemap_rng_below(rng, (uint64_t)E), g = (int)moemap_rng_below(rng, (uint64_t)G);
        if (has[e][g] || occ[g] >= slots)
            continue;
        has[e][g] = 1;
        occ[g]++;
        reps[(*n)++] = (moemap_replica){e, g, 1.0};
    }
    for (int i = 0; i < *n; i++) {
        int c = 0;
        for (int g = 0; g < G; g++)
            c += has[reps[i].expert][g];
        reps[i].share = 1.0 / c;
    }
}

/* Replays a plan on the old placement (layer entry l) and checks every step. Returns the
 * number of problems found. */
static int replay(const moemap_placement *o, const moemap_placement *nw,
                  const moemap_migration_plan *plan, int *max_over)
{
    int G = o->num_gpus, E = o->experts, bad = 0;
    *max_over = 0;
    for (int l = 0; l < o->num_layers; l++) {
        int layer = o->layers[l].layer;
        unsigned char cur[64][16] = {{0}}, want[64][16] = {{0}};
        int occ[16] = {0}, cap[16] = {0}, ncnt[16] = {0};
        for (int i = 0; i < o->layers[l].num_replicas; i++) {
            cur[o->layers[l].replicas[i].expert][o->layers[l].replicas[i].gpu] = 1;
            occ[o->layers[l].replicas[i].gpu]++;
        }
        const moemap_layer_placement *nl = NULL;
        for (int k = 0; k < nw->num_layers; k++)
            if (nw->layers[k].layer == layer)
                nl = &nw->layers[k];
        if (!nl)
            return 1;
        for (int i = 0; i < nl->num_replicas; i++) {
            want[nl->replicas[i].expert][nl->replicas[i].gpu] = 1;
            ncnt[nl->replicas[i].gpu]++;
        }
        for (int g = 0; g < G; g++)
            cap[g] = occ[g] > ncnt[g] ? occ[g] : ncnt[g];
        for (int s = 0; s < plan->num_steps; s++) {
            const moemap_migration_step *st = &plan->steps[s];
            if (st->layer != layer)
                continue;
            int e = st->expert;
            if (st->op == MOEMAP_MIGRATION_COPY) {
                bad += !cur[e][st->from_gpu];  /* source must hold it now */
                bad += cur[e][st->to_gpu];     /* destination must not */
                cur[e][st->to_gpu] = 1;
                occ[st->to_gpu]++;
                if (occ[st->to_gpu] - cap[st->to_gpu] > *max_over)
                    *max_over = occ[st->to_gpu] - cap[st->to_gpu];
            } else {
                bad += !cur[e][st->from_gpu];
                cur[e][st->from_gpu] = 0;
                occ[st->from_gpu]--;
                int held = 0;
                for (int g = 0; g < G; g++)
                    held += cur[e][g];
                bad += held == 0; /* the expert stopped being served */
            }
        }
        for (int e = 0; e < E; e++)
            for (int g = 0; g < G; g++)
                bad += cur[e][g] != want[e][g];
    }
    return bad;
}

TEST(swap_between_full_gpus_needs_one_staging_buffer)
{
    int a[] = {0, 0, 1, 1}, b[] = {1, 0, 0, 1};
    moemap_placement *o = make(2, 2, 3, a, 2), *n = make(2, 2, 3, b, 2);
    moemap_migration_plan *plan = NULL;
    moemap_error err = {0};
    REQUIRE(o && n);
    CHECK_OK(moemap_migration_plan_create(o, n, 1e6, &plan, &err), &err);
    REQUIRE(plan);
    CHECK_INT_EQ(plan->copies, 2);
    CHECK_INT_EQ(plan->drops, 2);
    CHECK_INT_EQ(plan->experts_moved, 2);
    CHECK_INT_EQ(plan->peak_staging, 1);
    CHECK_NEAR(plan->total_bytes, 2e6, 1e-6);
    int over;
    CHECK_INT_EQ(replay(o, n, plan, &over), 0);
    CHECK(over <= plan->peak_staging);
    CHECK_INT_EQ(plan->steps[0].op, MOEMAP_MIGRATION_COPY);
    CHECK_INT_EQ(plan->steps[0].staged, 1);
    CHECK_INT_EQ(plan->steps[0].layer, 3);
    moemap_migration_plan_free(plan);
    moemap_placement_free(o);
    moemap_placement_free(n);
}

TEST(shift_into_free_slot_needs_no_staging)
{
    /* old: A on gpu0, B on gpu1; new: A on gpu1, B on gpu2 (gpu2 was empty). B must move
     * first so that A finds gpu1's slot free. */
    int a[] = {0, 0, 1, 1}, b[] = {0, 1, 1, 2};
    moemap_placement *o = make(3, 2, 0, a, 2), *n = make(3, 2, 0, b, 2);
    moemap_migration_plan *plan = NULL;
    moemap_error err = {0};
    REQUIRE(o && n);
    CHECK_OK(moemap_migration_plan_create(o, n, 10, &plan, &err), &err);
    REQUIRE(plan);
    CHECK_INT_EQ(plan->peak_staging, 0);
    CHECK_INT_EQ(plan->num_steps, 4);
    int over;
    CHECK_INT_EQ(replay(o, n, plan, &over), 0);
    CHECK_INT_EQ(over, 0);
    /* The first step copies B (expert 1) from gpu1 to gpu2. */
    CHECK_INT_EQ(plan->steps[0].op, MOEMAP_MIGRATION_COPY);
    CHECK_INT_EQ(plan->steps[0].expert, 1);
    CHECK_INT_EQ(plan->steps[0].from_gpu, 1);
    CHECK_INT_EQ(plan->steps[0].to_gpu, 2);
    moemap_migration_plan_free(plan);
    moemap_placement_free(o);
    moemap_placement_free(n);
}

TEST(identical_placements_have_empty_plan)
{
    int a[] = {0, 0, 1, 1, 0, 1};
    moemap_placement *o = make(2, 2, 0, a, 3);
    moemap_migration_plan *plan = NULL;
    moemap_error err = {0};
    REQUIRE(o);
    CHECK_OK(moemap_migration_plan_create(o, o, 5, &plan, &err), &err);
    REQUIRE(plan);
    CHECK_INT_EQ(plan->num_steps, 0);
    CHECK_INT_EQ(plan->experts_moved, 0);
    CHECK_NEAR(plan->total_bytes, 0, 0);
    long moved = -1;
    CHECK_OK(moemap_migration_experts_moved(o, o, &moved, &err), &err);
    CHECK_INT_EQ(moved, 0);
    moemap_migration_plan_free(plan);
    moemap_placement_free(o);
}

TEST(random_plans_keep_every_expert_served)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 42);
    int failures = 0;
    for (int seed = 0; seed < 400; seed++) {
        int G = 2 + (int)moemap_rng_below(&rng, 7);
        int slots = 1 + (int)moemap_rng_below(&rng, 4);
        int maxE = G * slots < 40 ? G * slots : 40;
        int E = 1 + (int)moemap_rng_below(&rng, (uint64_t)maxE);
        int L = 1 + (int)moemap_rng_below(&rng, 3);
        moemap_placement *o = NULL, *n = NULL;
        moemap_error err = {0};
        REQUIRE(moemap_placement_create(G, E, L, &o, &err) == 0);
        REQUIRE(moemap_placement_create(G, E, L, &n, &err) == 0);
        for (int l = 0; l < L; l++) {
            moemap_replica reps[256];
            int cnt;
            random_layer(&rng, G, E, slots, reps, &cnt);
            moemap_placement_set_layer(o, l, 2 * l + 1, reps, cnt, &err);
            random_layer(&rng, G, E, slots, reps, &cnt);
            /* new placement lists its layers in reverse: matching is by layer id */
            moemap_placement_set_layer(n, L - 1 - l, 2 * l + 1, reps, cnt, &err);
        }
        moemap_migration_plan *plan = NULL;
        int rc = moemap_migration_plan_create(o, n, 3.5, &plan, &err);
        if (rc) {
            fprintf(stderr, "  seed %d: %s\n", seed, err.msg);
            failures++;
        } else {
            int over;
            long moved = 0;
            moemap_migration_experts_moved(o, n, &moved, &err);
            int bad = replay(o, n, plan, &over);
            if (bad || over > plan->peak_staging || moved != plan->experts_moved ||
                plan->copies != plan->experts_moved ||
                fabs(plan->total_bytes - 3.5 * (double)plan->copies) > 1e-9) {
                fprintf(stderr, "  seed %d: %d bad steps, over %d peak %d moved %ld/%ld\n",
                        seed, bad, over, plan->peak_staging, moved, plan->experts_moved);
                failures++;
            }
        }
        moemap_migration_plan_free(plan);
        moemap_placement_free(o);
        moemap_placement_free(n);
    }
    CHECK_INT_EQ(failures, 0);
}

TEST(count_moves_matches_pairs)
{
    int a[] = {0, 0, 1, 1, 2, 0}, b[] = {0, 0, 1, 0, 2, 1, 1, 1};
    moemap_placement *o = make(2, 3, 0, a, 3), *n = make(2, 3, 0, b, 4);
    REQUIRE(o && n);
    /* new pairs not in old: (1,0), (2,1) */
    CHECK_INT_EQ(moemap_migration_count_moves(&o->layers[0], &n->layers[0]), 2);
    CHECK_INT_EQ(moemap_migration_count_moves(&n->layers[0], &o->layers[0]), 1);
    CHECK_INT_EQ(moemap_migration_count_moves(NULL, &n->layers[0]), 4);
    moemap_placement_free(o);
    moemap_placement_free(n);
}

TEST(plan_json_has_format_and_steps)
{
    int a[] = {0, 0, 1, 1}, b[] = {1, 0, 0, 1};
    moemap_placement *o = make(2, 2, 5, a, 2), *n = make(2, 2, 5, b, 2);
    moemap_migration_plan *plan = NULL;
    moemap_error err = {0};
    REQUIRE(o && n);
    CHECK_OK(moemap_migration_plan_create(o, n, 2048, &plan, &err), &err);
    REQUIRE(plan);
    const char *path = mm_tmp_path("migrate_plan.json");
    CHECK_OK(moemap_migration_plan_write(plan, path, &err), &err);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    REQUIRE(root);
    CHECK_STR_CONTAINS(json_string_value(json_object_get(root, "format")),
                       "moemap.migration/v1");
    json_t *steps = json_object_get(root, "steps");
    CHECK_INT_EQ(json_array_size(steps), plan->num_steps);
    json_t *s0 = json_array_get(steps, 0);
    CHECK_STR_CONTAINS(json_string_value(json_object_get(s0, "op")), "copy");
    CHECK_INT_EQ(json_integer_value(json_object_get(s0, "layer")), 5);
    CHECK_NEAR(json_number_value(json_object_get(s0, "bytes")), 2048, 0);
    CHECK_NEAR(json_number_value(json_object_get(root, "total_bytes")), 4096, 0);
    json_decref(root);
    moemap_migration_plan_free(plan);
    moemap_placement_free(o);
    moemap_placement_free(n);
}

TEST(errors_name_the_problem)
{
    int a[] = {0, 0, 1, 1}, b[] = {0, 0, 1, 0};
    moemap_placement *o = make(2, 2, 0, a, 2), *n3 = make(3, 2, 0, a, 2);
    moemap_placement *other = make(2, 2, 7, b, 2), *gap = make(2, 2, 0, a, 1);
    moemap_migration_plan *plan = NULL;
    moemap_error err = {0};
    REQUIRE(o && n3 && other && gap);
    CHECK(moemap_migration_plan_create(o, n3, 1, &plan, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "same cluster");
    CHECK(moemap_migration_plan_create(o, other, 1, &plan, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "layer 0 is in the old placement");
    CHECK(moemap_migration_plan_create(o, gap, 1, &plan, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "expert 1 has no replica in the new");
    CHECK(moemap_migration_plan_create(o, o, -1, &plan, &err) == MOEMAP_EINVAL);
    CHECK(plan == NULL);
    moemap_placement_free(o);
    moemap_placement_free(n3);
    moemap_placement_free(other);
    moemap_placement_free(gap);
}

TEST(allocation_failures_are_reported)
{
    int a[] = {0, 0, 1, 1}, b[] = {1, 0, 0, 1};
    moemap_placement *o = make(2, 2, 0, a, 2), *n = make(2, 2, 0, b, 2);
    REQUIRE(o && n);
    int ok_at = -1;
    for (long k = 0; k < 40 && ok_at < 0; k++) {
        moemap_migration_plan *plan = NULL;
        moemap_error err = {0};
        moemap_alloc_fail_after(k);
        int rc = moemap_migration_plan_create(o, n, 1, &plan, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            ok_at = (int)k;
        else
            CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        moemap_migration_plan_free(plan);
    }
    CHECK(ok_at > 0);
    moemap_placement_free(o);
    moemap_placement_free(n);
}

/* Real data: the plan from a GEM placement to a ViBE placement of the ESFT law task
 * (26 MoE layers x 64 experts) on 8 GPUs, replayed step by step. */
TEST(real_esft_gem_to_vibe)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_loads *ld = NULL;
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/law"), &rp,
                                  &ld, NULL, &err), &err);
    REQUIRE(ld);
    REQUIRE(moemap_cluster_create(8, &c, &err) == 0);
    c->base.n = 2;
    c->base.tokens = moemap_malloc(2 * sizeof(double));
    c->base.us = moemap_malloc(2 * sizeof(double));
    REQUIRE(c->base.tokens && c->base.us);
    c->base.tokens[0] = 1, c->base.us[0] = 60;
    c->base.tokens[1] = 4096, c->base.us[1] = 560;
    for (int g = 0; g < 8; g++) {
        c->gpus[g].slots = 8;
        c->gpus[g].speed = g == 5 ? 0.8 : 1.0;
    }
    REQUIRE(moemap_cluster_finalize(c, &err) == 0);
    moemap_place_params pp = moemap_place_default_params();
    moemap_placement *a = NULL, *b = NULL;
    pp.strategy = "gem";
    CHECK_OK(moemap_place(ld, c, &pp, &a, &err), &err);
    pp.strategy = "vibe";
    CHECK_OK(moemap_place(ld, c, &pp, &b, &err), &err);
    REQUIRE(a && b);
    moemap_migration_plan *plan = NULL;
    CHECK_OK(moemap_migration_plan_create(a, b, 11.5e6, &plan, &err), &err);
    REQUIRE(plan);
    int over;
    CHECK_INT_EQ(replay(a, b, plan, &over), 0);
    CHECK(over <= plan->peak_staging);
    long moved = 0;
    CHECK_OK(moemap_migration_experts_moved(a, b, &moved, &err), &err);
    CHECK_INT_EQ(moved, plan->copies);
    CHECK(plan->copies > 0 && plan->copies <= 26 * 64);
    printf("# law, gem -> vibe on 8 GPUs: %ld copies, %ld drops, %.0f MB, peak staging %d\n",
           plan->copies, plan->drops, plan->total_bytes / 1e6, plan->peak_staging);
    moemap_migration_plan_free(plan);
    moemap_placement_free(a);
    moemap_placement_free(b);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(swap_between_full_gpus_needs_one_staging_buffer);
    RUN(shift_into_free_slot_needs_no_staging);
    RUN(identical_placements_have_empty_plan);
    RUN(random_plans_keep_every_expert_served);
    RUN(count_moves_matches_pairs);
    RUN(plan_json_has_format_and_steps);
    RUN(errors_name_the_problem);
    RUN(allocation_failures_are_reported);
    RUN(real_esft_gem_to_vibe);
    return mm_test_done();
}
