/*
 * moemap/model.h — Mixture-of-Experts model specifications and presets for real models.
 *
 * A model spec says which layers are MoE layers, how many routed and shared experts each
 * has, top-k, and the sizes that decide an expert's cost (hidden, expert intermediate,
 * dtype) and the attention/dense cost used by the serving simulator.
 */
#ifndef MOEMAP_MODEL_H
#define MOEMAP_MODEL_H

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_model {
    const char *name;         /* preset key, e.g. "deepseek-v3" */
    const char *display;      /* e.g. "DeepSeek-V3/R1" */
    int num_layers;           /* all transformer layers */
    int first_dense;          /* number of leading dense (non-MoE) layers */
    int moe_every;            /* after first_dense, every moe_every-th layer is MoE (1 = all) */
    int experts;              /* routed experts per MoE layer */
    int shared_experts;       /* always-active shared experts per MoE layer */
    int top_k;                /* routed experts per token */
    int hidden;               /* model hidden size */
    int expert_intermediate;  /* routed expert FFN intermediate size */
    int dense_intermediate;   /* FFN intermediate of dense layers */
    int heads;                /* attention query heads */
    int kv_heads;             /* key/value heads (MLA models: the latent is modelled) */
    int head_dim;             /* per-head dimension */
    int vocab;                /* vocabulary size */
    int dtype_bytes;          /* bytes per weight (2 for bf16) */
} moemap_model;

/* Number of presets and the i-th one (NULL when out of range). */
int moemap_model_preset_count(void);
const moemap_model *moemap_model_preset(int i);
/* Finds a preset by name, case-insensitively, accepting a few aliases ("deepseek-r1",
 * "dsv3"); returns NULL and fills err with the list of names when not found. */
const moemap_model *moemap_model_find(const char *name, moemap_error *err);

/* 1 if model layer `layer` (0-based) is an MoE layer. */
int moemap_model_is_moe_layer(const moemap_model *m, int layer);
/* Number of MoE layers. */
int moemap_model_moe_layer_count(const moemap_model *m);
/* Bytes of one routed expert's weights (gate, up, down). */
double moemap_model_expert_bytes(const moemap_model *m);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
