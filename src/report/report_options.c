/*
 * report_options.c — the report's parameters as data (moemap/options.h): its inputs and
 * its look, with their help.
 */
#include "moemap/options.h"
#include "moemap/report.h"

#define OFF(field) offsetof(moemap_report_params, field)
const moemap_option moemap_report_input_options[] = {
    {"stats", 0, MOEMAP_OPT_STR, OFF(stats_path), 0, 0, "FILE",
     "moemap stats --json: expert load heatmap, co-activation"},
    {"eval", 0, MOEMAP_OPT_STR, OFF(eval_path), 0, 0, "FILE",
     "moemap eval --json: straggler table, per-GPU time bars,\nstraggler-time CDF"},
    {"simulate", 0, MOEMAP_OPT_STR, OFF(simulate_path), 0, 0, "FILE",
     "moemap simulate --json: TTFT / TPOT / SLO table"},
    {"timeseries", 0, MOEMAP_OPT_STR, OFF(timeseries_path), 0, 0, "FILE",
     "moemap simulate --timeseries: p90 TTFT over time, events"},
    {"cluster", 0, MOEMAP_OPT_STR, OFF(cluster_path), 0, 0, "FILE",
     "moemap.cluster/v1: GPU speed curves"},
    {"loads", 0, MOEMAP_OPT_STR, OFF(loads_path), 0, 0, "FILE",
     "the workload (any input moemap stats reads): the\nco-activation matrix of the "
     "hottest experts\n"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_report_look_options[] = {
    {"title", 0, MOEMAP_OPT_STR, OFF(title), 0, 0, "TEXT",
     "page title (default \"moemap report\")"},
    {"layer", 0, MOEMAP_OPT_INT, OFF(layer), 0, 100000, "N",
     "model layer of the per-GPU time bars (default: the layer\nwhere the strategies' "
     "straggler times differ most)"},
    {"gnuplot", 0, MOEMAP_OPT_STR, OFF(gnuplot), 0, 0, "PATH",
     "gnuplot executable (default: $MOEMAP_GNUPLOT, else\ngnuplot in PATH; Debian: "
     "apt-get install gnuplot-nox)"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_report_chart_options[] = {
    {"hot", 0, MOEMAP_OPT_INT, OFF(hot_experts), 2, 64, "N",
     "experts in the co-activation matrix (default 16)"},
    {"work-dir", 0, MOEMAP_OPT_STR, OFF(work_dir), 0, 0, "DIR",
     "keep the gnuplot scripts and PNGs in DIR"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF
