/*
 * test_model.c — the model presets: the published numbers of the two DeepSeek models the
 * rest of moemap leans on, lookups by name and alias, the MoE-layer layout rules and the
 * per-expert weight size.
 */
#include "harness.h"
#include "moemap.h"

TEST(deepseek_v3_matches_published_config)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find("deepseek-v3", &err);
    REQUIRE(m != NULL);
    CHECK_INT_EQ(m->num_layers, 61);
    CHECK_INT_EQ(m->first_dense, 3);
    CHECK_INT_EQ(m->experts, 256);
    CHECK_INT_EQ(m->shared_experts, 1);
    CHECK_INT_EQ(m->top_k, 8);
    CHECK_INT_EQ(m->hidden, 7168);
    CHECK_INT_EQ(m->expert_intermediate, 2048);
    CHECK_INT_EQ(m->dense_intermediate, 18432);
    CHECK_INT_EQ(m->vocab, 129280);
    CHECK_INT_EQ(m->heads, 128);
    CHECK_INT_EQ(moemap_model_moe_layer_count(m), 58);
    CHECK(!moemap_model_is_moe_layer(m, 2));
    CHECK(moemap_model_is_moe_layer(m, 3));
    CHECK(moemap_model_is_moe_layer(m, 60));
    CHECK(!moemap_model_is_moe_layer(m, 61));
    CHECK(!moemap_model_is_moe_layer(m, -1));
    /* 3 matrices of 7168 x 2048 at 1 byte (FP8). */
    CHECK_NEAR(moemap_model_expert_bytes(m), 3.0 * 7168 * 2048 * 1, 0.5);
}

TEST(deepseek_v2_lite_matches_published_config)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find("DeepSeek-V2-Lite", &err);
    REQUIRE(m != NULL);
    CHECK_INT_EQ(m->num_layers, 27);
    CHECK_INT_EQ(m->first_dense, 1);
    CHECK_INT_EQ(m->experts, 64);
    CHECK_INT_EQ(m->shared_experts, 2);
    CHECK_INT_EQ(m->top_k, 6);
    CHECK_INT_EQ(m->hidden, 2048);
    CHECK_INT_EQ(m->expert_intermediate, 1408);
    CHECK_INT_EQ(m->dense_intermediate, 10944);
    CHECK_INT_EQ(m->heads, 16);
    CHECK_INT_EQ(m->vocab, 102400);
    /* The ESFT traces have exactly these 26 MoE layers, 1..26. */
    CHECK_INT_EQ(moemap_model_moe_layer_count(m), 26);
    CHECK(!moemap_model_is_moe_layer(m, 0));
    CHECK(moemap_model_is_moe_layer(m, 26));
}

/* Kimi-K2 (moonshotai/Kimi-K2-Instruct config.json): DeepSeek-V3's architecture with 384
 * experts, one dense layer and 64 heads. */
TEST(kimi_k2_matches_published_config)
{
    moemap_error err = {0};
    const moemap_model *m = moemap_model_find("Kimi-K2-Instruct", &err);
    REQUIRE(m != NULL);
    CHECK_INT_EQ(m->num_layers, 61);
    CHECK_INT_EQ(m->first_dense, 1);
    CHECK_INT_EQ(m->experts, 384);
    CHECK_INT_EQ(m->shared_experts, 1);
    CHECK_INT_EQ(m->top_k, 8);
    CHECK_INT_EQ(m->hidden, 7168);
    CHECK_INT_EQ(m->expert_intermediate, 2048);
    CHECK_INT_EQ(m->heads, 64);
    CHECK_INT_EQ(m->vocab, 163840);
    CHECK_INT_EQ(moemap_model_moe_layer_count(m), 60);
}

TEST(all_presets_are_sane_and_findable)
{
    int n = moemap_model_preset_count();
    CHECK_INT_EQ(n, 11);
    CHECK(moemap_model_preset(n) == NULL);
    CHECK(moemap_model_preset(-1) == NULL);
    for (int i = 0; i < n; i++) {
        const moemap_model *m = moemap_model_preset(i);
        moemap_error err = {0};
        REQUIRE(m != NULL);
        CHECK(moemap_model_find(m->name, &err) == m);
        CHECK(m->top_k >= 1 && m->top_k <= m->experts);
        CHECK(moemap_model_moe_layer_count(m) >= 1);
        CHECK(m->hidden > 0 && m->expert_intermediate > 0 && m->vocab > 0);
        CHECK(m->heads % m->kv_heads == 0);
        CHECK(moemap_model_expert_bytes(m) > 0);
    }
}

TEST(aliases_and_case)
{
    moemap_error err = {0};
    const moemap_model *v3 = moemap_model_find("deepseek-v3", &err);
    CHECK(moemap_model_find("deepseek-r1", &err) == v3);
    CHECK(moemap_model_find("DSV3", &err) == v3);
    CHECK(moemap_model_find("DeepSeek-V3/R1", &err) == v3);
    const moemap_model *q = moemap_model_find("qwen3_30b_a3b", &err);
    REQUIRE(q != NULL);
    CHECK_INT_EQ(q->experts, 128);
    CHECK_INT_EQ(q->top_k, 8);
    const moemap_model *mx = moemap_model_find("mixtral", &err);
    REQUIRE(mx != NULL);
    CHECK_INT_EQ(mx->experts, 8);
    CHECK_INT_EQ(mx->top_k, 2);
    const moemap_model *g = moemap_model_find("gpt-oss", &err);
    REQUIRE(g != NULL);
    CHECK_INT_EQ(g->experts, 128);
    CHECK_INT_EQ(g->num_layers, 36);
}

TEST(unknown_model_names_the_known_ones)
{
    moemap_error err = {0};
    CHECK(moemap_model_find("gpt-5", &err) == NULL);
    CHECK_INT_EQ(err.code, MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "unknown model 'gpt-5'");
    CHECK_STR_CONTAINS(err.msg, "deepseek-v3");
    CHECK_STR_CONTAINS(err.msg, "gpt-oss-120b");
    CHECK(moemap_model_find("", &err) == NULL);
    CHECK(moemap_model_find(NULL, &err) == NULL);
}

TEST(interleaved_layout)
{
    /* moe_every = 2 (Llama-4 Maverick style): layers 1, 3, 5, ... are MoE. */
    moemap_model m = {0};
    m.num_layers = 8;
    m.moe_every = 2;
    CHECK_INT_EQ(moemap_model_moe_layer_count(&m), 4);
    CHECK(!moemap_model_is_moe_layer(&m, 0));
    CHECK(moemap_model_is_moe_layer(&m, 1));
    CHECK(moemap_model_is_moe_layer(&m, 7));
}

int main(void)
{
    RUN(deepseek_v3_matches_published_config);
    RUN(deepseek_v2_lite_matches_published_config);
    RUN(kimi_k2_matches_published_config);
    RUN(all_presets_are_sane_and_findable);
    RUN(aliases_and_case);
    RUN(unknown_model_names_the_known_ones);
    RUN(interleaved_layout);
    return mm_test_done();
}
