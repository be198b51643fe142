/*
 * options.c — the workload parameters as data (moemap/options.h): the generator's shape
 * and popularity knobs and what the statistics count as consistent, temporal and
 * co-activated, with their ranges and help.
 */
#include "moemap/options.h"
#include "moemap/workload.h"

#define OFF(field) offsetof(moemap_gen_params, field)
const moemap_option moemap_gen_options[] = {
    {"layers", 0, MOEMAP_OPT_INT, OFF(num_layers), 1, 100000, "N",
     "model layers (default {})"},
    {"first-dense", 0, MOEMAP_OPT_INT, OFF(first_dense), 0, 100000, "N",
     "leading dense layers, which get no entry (default {})"},
    {"experts", 0, MOEMAP_OPT_INT, OFF(experts), 1, 32767, "N",
     "routed experts per MoE layer (default {})"},
    {"top-k", 0, MOEMAP_OPT_INT, OFF(top_k), 1, 32767, "K",
     "experts per token (default {})"},
    {"batches", 'n', MOEMAP_OPT_INT, OFF(batches), 1, 10000000, "N",
     "batches (engine iterations) (default {})"},
    {"batch-tokens", 'b', MOEMAP_OPT_LONG, OFF(batch_tokens), 1, 1000000000L, "N",
     "tokens per batch (default {})"},
    {"seed", 's', MOEMAP_OPT_SEED, OFF(seed), 0, 0, "N",
     "random seed (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, "popularity:\n"},
    {"zipf", 0, MOEMAP_OPT_DOUBLE, OFF(zipf), 0, 10, "S",
     "popularity of rank r is 1/r^S under a per-layer\npermutation; 0 = uniform "
     "(default {})"},
    {"consistent", 0, MOEMAP_OPT_INT, OFF(consistent), 0, 32767, "N",
     "experts per layer that get tokens in almost every batch\n(default {})"},
    {"consistent-boost", 0, MOEMAP_OPT_DOUBLE, OFF(consistent_boost), 0, 1000, "X",
     "their popularity is at least X x the mean (default {})"},
    {"temporal-groups", 0, MOEMAP_OPT_INT, OFF(temporal_groups), 0, 32767, "N",
     "groups of bursty experts per layer (default {})"},
    {"temporal-size", 0, MOEMAP_OPT_INT, OFF(temporal_size), 0, 32767, "N",
     "experts per group; a group bursts together, in every\nlayer at once (default {})"},
    {"burst-prob", 0, MOEMAP_OPT_DOUBLE, OFF(burst_prob), 0, 1, "P",
     "chance per batch that an idle group starts a burst\n(default {})"},
    {"burst-len", 0, MOEMAP_OPT_INT, OFF(burst_len), 1, 1000000, "N",
     "mean burst length in batches, geometric (default {})"},
    {"burst-boost", 0, MOEMAP_OPT_DOUBLE, OFF(burst_boost), 0, 1000, "X",
     "popularity of a bursting expert, x the mean (default {});\nidle temporal experts "
     "get no tokens"},
    {"noise", 0, MOEMAP_OPT_DOUBLE, OFF(noise), 0, 5, "SIGMA",
     "log-normal batch-to-batch noise on popularity (default {})"},
    {"drift-at", 0, MOEMAP_OPT_INT, OFF(drift_at), 0, 10000000, "B",
     "task switch at batch B: new permutation, new consistent\nand temporal sets "
     "(default: none)"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF

#define OFF(field) offsetof(moemap_stats_params, field)
const moemap_option moemap_stats_options[] = {
    {"consistent-threshold", 0, MOEMAP_OPT_DOUBLE, OFF(consistent_threshold), 0, 1, "X",
     "consistent: gets tokens in >= X of the batches ({})"},
    {"temporal-min-ratio", 0, MOEMAP_OPT_DOUBLE, OFF(temporal_min_ratio), 1e-9, 1e6, "X",
     "hot in a batch: >= X x the batch's mean load per expert\n({})"},
    {"temporal-max-active", 0, MOEMAP_OPT_DOUBLE, OFF(temporal_max_active), 0, 1, "X",
     "temporal: hot in at least one batch, at most X of them\n({})"},
    {"temporal-min-contrast", 0, MOEMAP_OPT_DOUBLE, OFF(temporal_min_contrast), 0, 1e6, "X",
     "temporal: its load when hot is >= X x its load in the\nother batches ({})"},
    {"pairs", 0, MOEMAP_OPT_INT, OFF(max_pairs), 0, 100000, "N",
     "co-activated pairs shown per layer ({})"},
    {"cluster-corr", 0, MOEMAP_OPT_DOUBLE, OFF(cluster_min_corr), -1, 1, "X",
     "correlation that links hot experts into a cluster ({})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF
