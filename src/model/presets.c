/*
 * presets.c — the table of real MoE model specifications and the lookups over it.
 *
 * Every number comes from the model's published config.json (Hugging Face) or its paper:
 * num_hidden_layers, first_k_dense_replace / decoder_sparse_step / interleave step,
 * n_routed_experts / num_experts / num_local_experts, n_shared_experts, top-k, hidden
 * size, the routed expert's intermediate size (moe_intermediate_size, or intermediate_size
 * for models whose every FFN is an expert), the dense FFN's intermediate size, attention
 * heads, KV heads, head dim and vocabulary. dtype_bytes is the width of the published
 * expert weights (bf16 = 2; DeepSeek-V3/R1 ship FP8 = 1).
 *
 * A table rather than config-file parsing keeps the presets available without network
 * or files; a model not listed here can still be described by its loads alone.
 */
#include "moemap/model.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Field order: name, display, layers, first_dense, moe_every, experts, shared, top_k,
 * hidden, expert_intermediate, dense_intermediate, heads, kv_heads, head_dim, vocab,
 * dtype_bytes. */
static const moemap_model presets[] = {
    /* deepseek-ai/DeepSeek-V3: first_k_dense_replace 3, n_routed_experts 256,
     * n_shared_experts 1, num_experts_per_tok 8, moe_intermediate_size 2048,
     * intermediate_size 18432, MLA (qk_nope 128 + rope 64 = 192 per head). FP8 weights. */
    {"deepseek-v3", "DeepSeek-V3/R1", 61, 3, 1, 256, 1, 8, 7168, 2048, 18432, 128, 128, 192,
     129280, 1},
    /* deepseek-ai/DeepSeek-V2-Lite: first_k_dense_replace 1, 64 routed + 2 shared, top-6,
     * moe_intermediate_size 1408, intermediate_size 10944, MLA heads of 192. */
    {"deepseek-v2-lite", "DeepSeek-V2-Lite", 27, 1, 1, 64, 2, 6, 2048, 1408, 10944, 16, 16,
     192, 102400, 2},
    /* mistralai/Mixtral-8x7B-v0.1: every layer MoE, 8 experts, top-2, FFN 14336. Having no
     * dense layers, dense_intermediate repeats the expert FFN size. */
    {"mixtral-8x7b", "Mixtral-8x7B", 32, 0, 1, 8, 0, 2, 4096, 14336, 14336, 32, 8, 128, 32000,
     2},
    /* mistralai/Mixtral-8x22B-v0.1 */
    {"mixtral-8x22b", "Mixtral-8x22B", 56, 0, 1, 8, 0, 2, 6144, 16384, 16384, 48, 8, 128,
     32768, 2},
    /* Qwen/Qwen3-30B-A3B: decoder_sparse_step 1, mlp_only_layers [], 128 experts, top-8,
     * moe_intermediate_size 768, intermediate_size 6144. */
    {"qwen3-30b-a3b", "Qwen3-30B-A3B", 48, 0, 1, 128, 0, 8, 2048, 768, 6144, 32, 4, 128,
     151936, 2},
    /* Qwen/Qwen3-235B-A22B */
    {"qwen3-235b-a22b", "Qwen3-235B-A22B", 94, 0, 1, 128, 0, 8, 4096, 1536, 12288, 64, 4, 128,
     151936, 2},
    /* Qwen/Qwen1.5-MoE-A2.7B: 60 experts, top-4, moe_intermediate_size 1408; one shared
     * expert with shared_expert_intermediate_size 5632 = 4 x 1408, counted here as 4
     * expert-sized shared experts so that its cost comes out right. */
    {"qwen1.5-moe-a2.7b", "Qwen1.5-MoE-A2.7B", 24, 0, 1, 60, 4, 4, 2048, 1408, 5632, 16, 16,
     128, 151936, 2},
    /* meta-llama/Llama-4-Scout-17B-16E: interleave_moe_layer_step 1, 16 experts + 1 shared,
     * top-1, intermediate_size 8192 (experts), intermediate_size_mlp 16384. */
    {"llama-4-scout", "Llama-4-Scout-17B-16E", 48, 0, 1, 16, 1, 1, 5120, 8192, 16384, 40, 8,
     128, 202048, 2},
    /* allenai/OLMoE-1B-7B-0924: 64 experts, top-8, intermediate_size 1024. */
    {"olmoe-1b-7b", "OLMoE-1B-7B", 16, 0, 1, 64, 0, 8, 2048, 1024, 1024, 16, 16, 128, 50304, 2},
    /* openai/gpt-oss-120b: 128 experts, top-4, intermediate_size 2880, head_dim 64. Its
     * experts ship in MXFP4 (4.25 bits); the integer field cannot say that, so it holds
     * the bf16 width the model is served in when not using MXFP4 kernels. */
    {"gpt-oss-120b", "GPT-OSS-120B", 36, 0, 1, 128, 0, 4, 2880, 2880, 2880, 64, 8, 64, 201088,
     2},
    /* moonshotai/Kimi-K2-Instruct (config.json, DeepSeek-V3 architecture): 61 layers,
     * first_k_dense_replace 1, 384 routed + 1 shared expert, top-8, moe_intermediate_size
     * 2048, intermediate_size 18432, 64 heads (MLA: 64 kv heads, qk 128 + 64 rope),
     * vocab 163840, FP8 block-quantized weights as DeepSeek-V3's. */
    {"kimi-k2", "Kimi-K2", 61, 1, 1, 384, 1, 8, 7168, 2048, 18432, 64, 64, 192, 163840, 1},
};
#define NUM_PRESETS ((int)(sizeof presets / sizeof presets[0]))

/* Other names people use for the same architecture. */
static const struct {
    const char *alias;
    const char *name;
} aliases[] = {
    {"deepseek-r1", "deepseek-v3"},   {"dsv3", "deepseek-v3"},
    {"kimi-k2-instruct", "kimi-k2"},  {"kimi-k2-base", "kimi-k2"},
    {"deepseek-v3/r1", "deepseek-v3"}, {"r1", "deepseek-v3"},
    {"dsv2-lite", "deepseek-v2-lite"}, {"deepseek-v2lite", "deepseek-v2-lite"},
    {"esft-vanilla-lite", "deepseek-v2-lite"},
    {"mixtral", "mixtral-8x7b"},      {"qwen3-30b", "qwen3-30b-a3b"},
    {"qwen3-235b", "qwen3-235b-a22b"}, {"qwen1.5-moe", "qwen1.5-moe-a2.7b"},
    {"qwen2-moe", "qwen1.5-moe-a2.7b"}, {"llama4-scout", "llama-4-scout"},
    {"llama-4-scout-17b-16e", "llama-4-scout"}, {"olmoe", "olmoe-1b-7b"},
    {"olmoe-1b-7b-0924", "olmoe-1b-7b"}, {"gpt-oss", "gpt-oss-120b"},
};

int moemap_model_preset_count(void)
{
    return NUM_PRESETS;
}

const moemap_model *moemap_model_preset(int i)
{
    return i >= 0 && i < NUM_PRESETS ? &presets[i] : NULL;
}

/* Case-insensitive equality that also treats '_' like '-' ("Qwen3_30B_A3B"). */
static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca == '_')
            ca = '-';
        if (cb == '_')
            cb = '-';
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

const moemap_model *moemap_model_find(const char *name, moemap_error *err)
{
    if (!name || !*name) {
        moemap_error_set(err, MOEMAP_EINVAL, "no model name given");
        return NULL;
    }
    for (int i = 0; i < NUM_PRESETS; i++)
        if (name_eq(name, presets[i].name) || name_eq(name, presets[i].display))
            return &presets[i];
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (name_eq(name, aliases[i].alias))
            return moemap_model_find(aliases[i].name, err);
    char list[MOEMAP_ERROR_MSG_MAX / 2];
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; i < NUM_PRESETS && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 presets[i].name);
    moemap_error_set(err, MOEMAP_EINVAL, "unknown model '%s' (known: %s)", name, list);
    return NULL;
}

int moemap_model_is_moe_layer(const moemap_model *m, int layer)
{
    if (!m || layer < m->first_dense || layer >= m->num_layers)
        return 0;
    int every = m->moe_every > 0 ? m->moe_every : 1;
    /* With interleaving (every > 1) the MoE layer closes each group of `every` layers,
     * as in Llama-4 Maverick's interleave_moe_layer_step. */
    return (layer - m->first_dense + 1) % every == 0;
}

int moemap_model_moe_layer_count(const moemap_model *m)
{
    int n = 0;
    for (int l = 0; m && l < m->num_layers; l++)
        n += moemap_model_is_moe_layer(m, l);
    return n;
}

double moemap_model_expert_bytes(const moemap_model *m)
{
    /* gate and up projections (hidden x inter each) plus down (inter x hidden). */
    return m ? 3.0 * (double)m->hidden * (double)m->expert_intermediate * m->dtype_bytes : 0.0;
}
