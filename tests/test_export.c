/*
 * test_export.c — engine exports (moemap/export.h): the documented shapes of the SGLang
 * and vLLM documents on closed-form placements, dense rows for a real model spec
 * (DeepSeek-V2-Lite: 27 layers, layer 0 dense), round trips export -> read -> same
 * placement over random placements and over EPLB's placement of real ESFT loads, the
 * refusals (unequal shares, uneven slots) and their approximations, and reader errors on
 * malformed input.
 */
#include "moemap/export.h"

#include <jansson.h>

#include "harness.h"
#include "moemap.h"

static moemap_placement *make(int G, int E, int L, const int *layer_ids,
                              const moemap_replica *reps, const int *n)
{
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_placement_create(G, E, L, &p, &err))
        return NULL;
    for (int l = 0, off = 0; l < L; off += n[l], l++)
        moemap_placement_set_layer(p, l, layer_ids[l], reps + off, n[l], &err);
    return p;
}

/* A random placement every engine can express: S slots on each of G GPUs, every
 * expert at least once, no expert twice on a GPU, equal shares. */
static void random_equal_layer(moemap_rng *rng, int G, int S, int E, moemap_replica *reps)
{
    int P = G * S, phys[512];
    int perm[512];
    for (int i = 0; i < P; i++)
        perm[i] = i;
    for (int i = P - 1; i > 0; i--) {
        int j = (int)moemap_rng_below(rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < P; i++)
        phys[i] = -1;
    for (int e = 0; e < E; e++)
        phys[perm[e]] = e;
    for (int i = 0; i < P; i++) {
        if (phys[i] >= 0)
            continue;
        int g = i / S, e, dup;
        do {
            e = (int)moemap_rng_below(rng, (uint64_t)E);
            dup = 0;
            for (int k = g * S; k < (g + 1) * S; k++)
                dup |= phys[k] == e;
        } while (dup);
        phys[i] = e;
    }
    int cnt[512] = {0};
    for (int i = 0; i < P; i++)
        cnt[phys[i]]++;
    for (int i = 0; i < P; i++)
        reps[i] = (moemap_replica){phys[i], i / S, 1.0 / cnt[phys[i]]};
}

/* 1 when every layer of a is in b with the same (expert, gpu, share) set. */
static int layers_within(const moemap_placement *a, const moemap_placement *b)
{
    if (a->num_gpus != b->num_gpus || a->experts != b->experts)
        return 0;
    for (int l = 0; l < a->num_layers; l++) {
        const moemap_layer_placement *x = &a->layers[l], *y = NULL;
        for (int k = 0; k < b->num_layers; k++)
            if (b->layers[k].layer == x->layer)
                y = &b->layers[k];
        if (!y || y->num_replicas != x->num_replicas)
            return 0;
        for (int i = 0; i < x->num_replicas; i++) {
            int found = 0;
            for (int j = 0; j < y->num_replicas && !found; j++)
                found = x->replicas[i].expert == y->replicas[j].expert &&
                        x->replicas[i].gpu == y->replicas[j].gpu &&
                        fabs(x->replicas[i].share - y->replicas[j].share) < 1e-9;
            if (!found)
                return 0;
        }
    }
    return 1;
}

/* 1 when a and b place the same layers with the same replicas. */
static int same_placement(const moemap_placement *a, const moemap_placement *b)
{
    return a->num_layers == b->num_layers && layers_within(a, b);
}

static json_t *parse(const char *s)
{
    json_error_t jerr;
    return json_loads(s, 0, &jerr);
}

TEST(sglang_closed_form_with_redundant_slot)
{
    /* 2 GPUs, 3 experts, expert 0 on both GPUs: 2 slots per rank, 4 physical. */
    moemap_replica reps[] = {{0, 0, 0.5}, {1, 0, 1}, {2, 1, 1}, {0, 1, 0.5}};
    int ids[] = {1}, n[] = {4};
    moemap_placement *p = make(2, 3, 1, ids, reps, n);
    REQUIRE(p);
    moemap_export_params ep = moemap_export_default_params();
    ep.num_model_layers = 3;
    moemap_export_info info;
    moemap_error err = {0};
    char *s = NULL;
    CHECK_OK(moemap_export_to_string(p, MOEMAP_EXPORT_SGLANG, &ep, &s, &info, &err), &err);
    REQUIRE(s);
    CHECK_INT_EQ(info.slots_per_rank, 2);
    CHECK_INT_EQ(info.physical_experts, 4);
    CHECK_INT_EQ(info.redundant_experts, 1);
    CHECK_INT_EQ(info.approximated, 0);
    json_t *root = parse(s);
    REQUIRE(root);
    CHECK_INT_EQ(json_object_size(root), 1); /* exactly one key */
    json_t *map = json_object_get(root, "physical_to_logical_map");
    REQUIRE(json_is_array(map));
    CHECK_INT_EQ(json_array_size(map), 3);
    int want[3][4] = {{0, 1, 2, 0}, {0, 1, 0, 2}, {0, 1, 2, 0}};
    for (int r = 0; r < 3; r++) {
        json_t *row = json_array_get(map, (size_t)r);
        CHECK_INT_EQ(json_array_size(row), 4);
        for (int k = 0; k < 4; k++)
            CHECK_INT_EQ(json_integer_value(json_array_get(row, (size_t)k)), want[r][k]);
    }
    json_decref(root);
    moemap_free(s);
    moemap_placement_free(p);
}

TEST(vllm_closed_form_shapes)
{
    moemap_replica reps[] = {{0, 0, 0.5}, {1, 0, 1}, {2, 1, 1}, {0, 1, 0.5},
                             {2, 0, 1}, {1, 0, 0.5}, {0, 1, 1}, {1, 1, 0.5}};
    int ids[] = {1, 4}, n[] = {4, 4};
    moemap_placement *p = make(2, 3, 2, ids, reps, n);
    REQUIRE(p);
    moemap_error err = {0};
    char *s = NULL;
    CHECK_OK(moemap_export_to_string(p, MOEMAP_EXPORT_VLLM, NULL, &s, NULL, &err), &err);
    REQUIRE(s);
    json_t *root = parse(s);
    REQUIRE(root);
    json_t *phy = json_object_get(root, "phy2log"), *l2p = json_object_get(root, "log2phy");
    json_t *cnt = json_object_get(root, "logcnt");
    CHECK_INT_EQ(json_array_size(phy), 2);
    CHECK_INT_EQ(json_array_size(json_array_get(phy, 0)), 4);
    CHECK_INT_EQ(json_array_size(l2p), 2);
    CHECK_INT_EQ(json_array_size(json_array_get(l2p, 1)), 3);
    /* max replicas is 2: every log2phy entry has 2 columns, padded with -1 */
    CHECK_INT_EQ(json_array_size(json_array_get(json_array_get(l2p, 1), 2)), 2);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(json_array_get(l2p, 1), 2),
                                                   1)), -1);
    /* layer 4: gpu0 = {1, 2}, gpu1 = {0, 1}: phy2log [1, 2, 0, 1], expert 1 in slots 0, 3 */
    int want[4] = {1, 2, 0, 1};
    for (int k = 0; k < 4; k++)
        CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(phy, 1), (size_t)k)),
                     want[k]);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(json_array_get(l2p, 1), 1),
                                                   1)), 3);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(cnt, 1), 1)), 2);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(cnt, 1), 2)), 1);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_object_get(root, "layers"), 1)), 4);
    CHECK_INT_EQ(json_integer_value(json_object_get(root, "num_ranks")), 2);
    json_decref(root);
    moemap_free(s);
    moemap_placement_free(p);
}

TEST(refusals_and_approximations)
{
    moemap_error err = {0};
    char *s = NULL;
    moemap_export_info info;
    /* unequal shares */
    moemap_replica r1[] = {{0, 0, 0.7}, {1, 0, 1}, {0, 1, 0.3}, {2, 1, 1}};
    int ids[] = {0}, n4[] = {4}, n3[] = {3};
    moemap_placement *p = make(2, 3, 1, ids, r1, n4);
    REQUIRE(p);
    CHECK_INT_EQ(moemap_export_to_string(p, MOEMAP_EXPORT_SGLANG, NULL, &s, NULL, &err),
                 MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "unequal shares");
    CHECK(s == NULL);
    moemap_export_params ep = moemap_export_default_params();
    ep.approximate = 1;
    CHECK_OK(moemap_export_to_string(p, MOEMAP_EXPORT_SGLANG, &ep, &s, &info, &err), &err);
    CHECK_INT_EQ(info.approximated, 1);
    CHECK_STR_CONTAINS(info.note, "equalised the shares of 2 replicas");
    moemap_free(s);
    s = NULL;
    moemap_placement_free(p);
    /* uneven slots: gpu0 holds 2 experts, gpu1 only 1 */
    moemap_replica r2[] = {{0, 0, 1}, {1, 0, 1}, {2, 1, 1}};
    p = make(2, 3, 1, ids, r2, n3);
    REQUIRE(p);
    CHECK_INT_EQ(moemap_export_to_string(p, MOEMAP_EXPORT_VLLM, NULL, &s, NULL, &err),
                 MOEMAP_EINFEASIBLE);
    CHECK_STR_CONTAINS(err.msg, "gpu 1 holds fewer experts");
    CHECK_OK(moemap_export_to_string(p, MOEMAP_EXPORT_VLLM, &ep, &s, &info, &err), &err);
    CHECK_STR_CONTAINS(info.note, "filled 1 empty slots");
    /* the padded slot holds an expert gpu1 lacked: one of the single-replica experts */
    moemap_import_params ip = moemap_import_default_params();
    moemap_placement *back = NULL;
    REQUIRE(s);
    CHECK_OK(moemap_export_parse(MOEMAP_EXPORT_VLLM, s, strlen(s), "pad", &ip, &back, &err),
             &err);
    REQUIRE(back);
    CHECK_INT_EQ(back->layers[0].num_replicas, 4);
    CHECK_OK(moemap_placement_validate(back, NULL, &err), &err);
    moemap_placement_free(back);
    moemap_free(s);
    moemap_placement_free(p);
}

TEST(sglang_dense_rows_for_a_real_model)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find("deepseek-v2-lite", &err);
    REQUIRE(m);
    int L = moemap_model_moe_layer_count(m), G = 8, S = 10, E = m->experts;
    moemap_rng rng;
    moemap_rng_seed(&rng, 7);
    moemap_replica *reps = moemap_malloc((size_t)L * G * S * sizeof *reps);
    int ids[64], n[64];
    REQUIRE(reps && L < 64);
    for (int l = 0, k = 0; k < m->num_layers; k++)
        if (moemap_model_is_moe_layer(m, k)) {
            ids[l] = k;
            n[l] = G * S;
            random_equal_layer(&rng, G, S, E, reps + (size_t)l * G * S);
            l++;
        }
    moemap_placement *p = make(G, E, L, ids, reps, n);
    REQUIRE(p);
    moemap_export_params ep = moemap_export_default_params();
    ep.model = m;
    const char *path = mm_tmp_path("export_dsv2lite_sglang.json");
    moemap_export_info info;
    CHECK_OK(moemap_export_write(p, MOEMAP_EXPORT_SGLANG, &ep, path, &info, &err), &err);
    CHECK_INT_EQ(info.redundant_experts, G * S - E);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    REQUIRE(root);
    json_t *map = json_object_get(root, "physical_to_logical_map");
    CHECK_INT_EQ(json_array_size(map), m->num_layers);
    /* layer 0 is dense: the trivial row, slot p -> p mod experts */
    json_t *row0 = json_array_get(map, 0);
    CHECK_INT_EQ(json_array_size(row0), G * S);
    CHECK_INT_EQ(json_integer_value(json_array_get(row0, 70)), 70 % E);
    json_decref(root);
    moemap_import_params ip = moemap_import_default_params();
    ip.num_gpus = G;
    ip.model = m;
    moemap_placement *back = NULL;
    CHECK_OK(moemap_export_read(MOEMAP_EXPORT_SGLANG, path, &ip, &back, &err), &err);
    REQUIRE(back);
    CHECK(same_placement(p, back));
    moemap_placement_free(back);
    /* without the model, every row (the dense one too) reads as a layer */
    ip.model = NULL;
    CHECK_OK(moemap_export_read(MOEMAP_EXPORT_SGLANG, path, &ip, &back, &err), &err);
    REQUIRE(back);
    CHECK_INT_EQ(back->num_layers, m->num_layers);
    moemap_placement_free(back);
    /* a placement that misses an MoE layer of the model is refused */
    p->layers[0].layer = 0;
    CHECK_INT_EQ(moemap_export_write(p, MOEMAP_EXPORT_SGLANG, &ep, path, NULL, &err),
                 MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "dense layer");
    moemap_free(reps);
    moemap_placement_free(p);
}

TEST(random_round_trips)
{
    moemap_rng rng;
    moemap_rng_seed(&rng, 99);
    int failures = 0;
    for (int seed = 0; seed < 300; seed++) {
        int G = 1 + (int)moemap_rng_below(&rng, 8), S = 1 + (int)moemap_rng_below(&rng, 6);
        int E = 1 + (int)moemap_rng_below(&rng, (uint64_t)(G * S));
        if (E > 60)
            E = 60;
        if (E < S) /* no expert twice on a GPU needs S <= E */
            E = S;
        int L = 1 + (int)moemap_rng_below(&rng, 4);
        moemap_replica reps[4 * 48];
        int ids[4], n[4];
        for (int l = 0; l < L; l++) {
            ids[l] = 3 * l + (int)moemap_rng_below(&rng, 3);
            n[l] = G * S;
            random_equal_layer(&rng, G, S, E, reps + l * G * S);
        }
        moemap_placement *p = make(G, E, L, ids, reps, n);
        REQUIRE(p);
        for (int f = MOEMAP_EXPORT_SGLANG; f <= MOEMAP_EXPORT_VLLM; f++) {
            moemap_error err = {0};
            char *s = NULL;
            moemap_placement *back = NULL;
            moemap_import_params ip = moemap_import_default_params();
            ip.num_gpus = G;
            int rc = moemap_export_to_string(p, (moemap_export_format)f, NULL, &s, NULL, &err);
            if (!rc)
                rc = moemap_export_parse((moemap_export_format)f, s, strlen(s), "rt", &ip,
                                         &back, &err);
            /* SGLang rows cover every model layer up to the last placed one: the
             * placed layers must come back, the others are the trivial rows. */
            if (!rc && f == MOEMAP_EXPORT_SGLANG && back->num_layers != ids[L - 1] + 1)
                rc = -100;
            if (rc || !layers_within(p, back) ||
                (f == MOEMAP_EXPORT_VLLM && !same_placement(p, back))) {
                fprintf(stderr, "  seed %d format %d: rc %d %s\n", seed, f, rc, err.msg);
                failures++;
            }
            moemap_free(s);
            moemap_placement_free(back);
        }
        moemap_placement_free(p);
    }
    CHECK_INT_EQ(failures, 0);
}

TEST(reader_errors_name_the_input)
{
    moemap_import_params ip = moemap_import_default_params();
    ip.num_gpus = 2;
    moemap_placement *p = NULL;
    moemap_error err = {0};
    struct {
        int fmt;
        const char *text, *msg;
    } cases[] = {
        {MOEMAP_EXPORT_SGLANG, "{\"physical_to_logical_map\": [[0, 1, 2]]}",
         "do not split evenly over 2 GPUs"},
        {MOEMAP_EXPORT_SGLANG, "{\"physical_to_logical_map\": [[0, 1], [0]]}",
         "physical_to_logical_map[1]: expected an array of 2"},
        {MOEMAP_EXPORT_SGLANG, "{\"physical_to_logical_map\": [[0, -3]]}",
         "physical_to_logical_map[0][1]"},
        {MOEMAP_EXPORT_SGLANG, "{\"physical_to_logical_map\": [[0, 2, 2, 2]]}",
         "expert 1 has no physical slot"},
        {MOEMAP_EXPORT_SGLANG, "{\"logical_count\": [[1, 2]]}", "not a"},
        {MOEMAP_EXPORT_SGLANG, "[1, 2]", "expected a JSON object"},
        {MOEMAP_EXPORT_SGLANG, "{\"physical_to_logical_map\": [[0, 1.5]]}", "not an integer"},
        {MOEMAP_EXPORT_VLLM, "{\"phy2log\": [[0, 1]], \"num_ranks\": 3}",
         "num_ranks is 3 but 2 GPUs"},
        {MOEMAP_EXPORT_VLLM, "{\"phy2log\": [[0, 1]], \"logcnt\": [[2, 1]]}",
         "logcnt[0][0]: 2 copies, but phy2log has 1"},
        {MOEMAP_EXPORT_VLLM,
         "{\"phy2log\": [[0, 1]], \"log2phy\": [[[1], [0]]]}", "slot 1 holds expert 1"},
        {MOEMAP_EXPORT_VLLM, "{\"phy2log\": [[0, 1], [1, 0]], \"layers\": [3, 3]}",
         "layer 3 appears twice"},
        {MOEMAP_EXPORT_VLLM, "{\"phy2log\": [[0, 1]", "rt:1:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = moemap_export_parse((moemap_export_format)cases[i].fmt, cases[i].text,
                                     strlen(cases[i].text), "rt", &ip, &p, &err);
        CHECK(rc < 0);
        CHECK(p == NULL);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        moemap_placement_free(p);
        p = NULL;
    }
    /* two copies of one expert on one rank merge into one replica with share 2/3 */
    const char *dup = "{\"phy2log\": [[0, 0, 1, 0]]}";
    CHECK_OK(moemap_export_parse(MOEMAP_EXPORT_VLLM, dup, strlen(dup), "dup", &ip, &p, &err),
             &err);
    REQUIRE(p);
    CHECK_INT_EQ(p->layers[0].num_replicas, 3);
    CHECK_NEAR(p->layers[0].replicas[0].share, 2.0 / 3.0, 1e-12);
    CHECK_OK(moemap_placement_validate(p, NULL, &err), &err);
    moemap_placement_free(p);
    /* an SGLang map needs the GPU count */
    ip.num_gpus = 0;
    const char *one = "{\"physical_to_logical_map\": [[0]]}";
    CHECK(moemap_export_parse(MOEMAP_EXPORT_SGLANG, one, strlen(one), "x", &ip, &p, &err) ==
          MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "number of GPUs");
}

TEST(format_names)
{
    CHECK_INT_EQ(moemap_export_format_parse("sglang"), MOEMAP_EXPORT_SGLANG);
    CHECK_INT_EQ(moemap_export_format_parse("vLLM"), MOEMAP_EXPORT_VLLM);
    CHECK_INT_EQ(moemap_export_format_parse("eplb"), MOEMAP_EXPORT_VLLM);
    CHECK_INT_EQ(moemap_export_format_parse("moemap"), MOEMAP_EXPORT_MOEMAP);
    CHECK_INT_EQ(moemap_export_format_parse("tensorrt"), -1);
    CHECK_STR_CONTAINS(moemap_export_format_name(MOEMAP_EXPORT_VLLM), "vllm");
}

TEST(moemap_format_round_trip)
{
    moemap_replica reps[] = {{0, 0, 0.25}, {1, 0, 1}, {0, 1, 0.75}};
    int ids[] = {2}, n[] = {3};
    moemap_placement *p = make(2, 2, 1, ids, reps, n), *back = NULL;
    REQUIRE(p);
    moemap_error err = {0};
    const char *path = mm_tmp_path("export_moemap.json");
    CHECK_OK(moemap_export_write(p, MOEMAP_EXPORT_MOEMAP, NULL, path, NULL, &err), &err);
    CHECK_OK(moemap_export_read(MOEMAP_EXPORT_MOEMAP, path, NULL, &back, &err), &err);
    REQUIRE(back);
    CHECK(same_placement(p, back));
    char *s = NULL;
    CHECK_OK(moemap_export_to_string(p, MOEMAP_EXPORT_MOEMAP, NULL, &s, NULL, &err), &err);
    CHECK_STR_CONTAINS(s, "moemap.placement/v1");
    moemap_free(s);
    moemap_placement_free(back);
    moemap_placement_free(p);
}

/* Real data: EPLB's placement of the ESFT translation task (26 MoE layers of
 * DeepSeek-V2-Lite, 64 experts) on 8 GPUs with 10 slots each (16 redundant experts)
 * exports to both engines and reads back unchanged. */
TEST(real_esft_eplb_round_trip)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_loads *ld = NULL;
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/translation"),
                                  &rp, &ld, NULL, &err), &err);
    REQUIRE(ld);
    REQUIRE(moemap_cluster_create(8, &c, &err) == 0);
    c->base.n = 2;
    c->base.tokens = moemap_malloc(2 * sizeof(double));
    c->base.us = moemap_malloc(2 * sizeof(double));
    REQUIRE(c->base.tokens && c->base.us);
    c->base.tokens[0] = 1, c->base.us[0] = 60;
    c->base.tokens[1] = 4096, c->base.us[1] = 560;
    for (int g = 0; g < 8; g++)
        c->gpus[g].slots = 10;
    REQUIRE(moemap_cluster_finalize(c, &err) == 0);
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = "eplb";
    moemap_placement *p = NULL;
    CHECK_OK(moemap_place(ld, c, &pp, &p, &err), &err);
    REQUIRE(p);
    const moemap_model *m = moemap_model_find("deepseek-v2-lite", &err);
    REQUIRE(m);
    moemap_export_params ep = moemap_export_default_params();
    ep.model = m;
    moemap_import_params ip = moemap_import_default_params();
    ip.num_gpus = 8;
    ip.model = m;
    for (int f = MOEMAP_EXPORT_SGLANG; f <= MOEMAP_EXPORT_VLLM; f++) {
        char *s = NULL;
        moemap_export_info info;
        moemap_placement *back = NULL;
        CHECK_OK(moemap_export_to_string(p, (moemap_export_format)f, &ep, &s, &info, &err), &err);
        REQUIRE(s);
        CHECK_INT_EQ(info.slots_per_rank, 10);
        CHECK_INT_EQ(info.redundant_experts, 16);
        CHECK_INT_EQ(info.approximated, 0);
        CHECK_OK(moemap_export_parse((moemap_export_format)f, s, strlen(s), "real", &ip, &back,
                                     &err), &err);
        REQUIRE(back);
        CHECK(same_placement(p, back));
        CHECK_OK(moemap_placement_validate(back, c, &err), &err);
        moemap_placement_free(back);
        moemap_free(s);
    }
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(sglang_closed_form_with_redundant_slot);
    RUN(vllm_closed_form_shapes);
    RUN(refusals_and_approximations);
    RUN(sglang_dense_rows_for_a_real_model);
    RUN(random_round_trips);
    RUN(reader_errors_name_the_input);
    RUN(format_names);
    RUN(moemap_format_round_trip);
    RUN(real_esft_eplb_round_trip);
    return mm_test_done();
}
