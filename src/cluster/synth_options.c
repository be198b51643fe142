/*
 * synth_options.c — a synthetic cluster's parameters as data (moemap/options.h): how GPU
 * speeds are drawn from variability data, the expert shape, the layout and the network,
 * with their ranges and help.
 */
#include "moemap/cluster.h"
#include "moemap/options.h"

#define OFF(field) offsetof(moemap_variability_params, field)
const moemap_option moemap_variability_options[] = {
    {"column", 0, MOEMAP_OPT_STR, OFF(column), 0, 0, "NAME",
     "the time column (default perf; PerfVar_classA..D for\n32gpu-variability.csv)"},
    {"min-runs", 0, MOEMAP_OPT_INT, OFF(min_runs), 1, 1000000, "N",
     "drop GPUs with fewer runs (default 3)"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF

#define OFF(field) offsetof(moemap_synth_params, field)
const moemap_option moemap_synth_draw_options[] = {
    {"gpus", 'g', MOEMAP_OPT_INT, OFF(num_gpus), 1, MOEMAP_MAX_GPUS, "N",
     "GPUs to draw (without replacement when N <= population)"},
    {"seed", 's', MOEMAP_OPT_SEED, OFF(seed), 0, 0x7fffffff, "S",
     "random seed (default 1)"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_synth_shape_options[] = {
    {"hidden", 0, MOEMAP_OPT_INT, OFF(hidden), 1, 1 << 24, NULL, NULL},
    {"intermediate", 0, MOEMAP_OPT_INT, OFF(intermediate), 1, 1 << 24, NULL, NULL},
    {"dtype", 0, MOEMAP_OPT_STR, OFF(dtype), 0, 0, NULL, NULL},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL,
     "  --hidden H, --intermediate I, --dtype D\n"
     "                          the expert shape (required with --base-curve; dtype bf16)\n"
     "layout:\n"},
    {"gpus-per-node", 0, MOEMAP_OPT_INT, OFF(gpus_per_node), 1, 1000000, "M",
     "GPU g is on node g / M (default 8)"},
    {"slots", 0, MOEMAP_OPT_INT, OFF(slots), 0, 1 << 20, "K",
     "expert slots per GPU (default: the base profile's first\nGPU; required with "
     "--base-curve)"},
    {"intra-GBps", 0, MOEMAP_OPT_DOUBLE, OFF(intra_node_GBps), 0, 1e9, NULL, NULL},
    {"inter-GBps", 0, MOEMAP_OPT_DOUBLE, OFF(inter_node_GBps), 0, 1e9, NULL, NULL},
    {"latency-us", 0, MOEMAP_OPT_DOUBLE, OFF(latency_us), 0, 1e9, NULL, NULL},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL,
     "  --intra-GBps X, --inter-GBps X, --latency-us X\n"
     "                          network (default: the base profile's, else 450, 50, 10)\n"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF
