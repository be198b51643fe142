/*
 * sim_options.c — the simulator's parameters as data (moemap/options.h): the engine, the
 * recalibration knobs, the SLO and the capacity sweep, with their ranges and help.
 */
#include "moemap/options.h"
#include "moemap/sim.h"

#define OFF(field) offsetof(moemap_sim_params, field)
const moemap_option moemap_sim_engine_options[] = {
    {"max-batch-tokens", 0, MOEMAP_OPT_INT, OFF(max_batch_tokens), 1, 10000000, "N",
     "token budget per iteration (default {})"},
    {"max-running", 0, MOEMAP_OPT_INT, OFF(max_running), 1, 1000000, "N",
     "concurrent requests (default {})"},
    {"peak-tflops", 0, MOEMAP_OPT_DOUBLE, OFF(peak_tflops), 1e-3, 1e6, "X",
     "roofline rate of a speed-1 GPU (default {})"},
    {"mem-GBps", 0, MOEMAP_OPT_DOUBLE, OFF(mem_GBps), 1e-3, 1e7, "X",
     "roofline bandwidth (default {})"},
    {"jitter", 0, MOEMAP_OPT_DOUBLE, OFF(jitter_scale), 0, 100, "X",
     "scale of each GPU's curve cv (default {}; 0 = off)"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_sim_recal_options[] = {
    {"recal-interval", 0, MOEMAP_OPT_INT, OFF(recal_interval), 1, 100000000, "N",
     "iterations between re-placements/checks (default {})"},
    {"recal-window", 0, MOEMAP_OPT_INT, OFF(recal_window), 1, 1000000, "N",
     "iterations of recorded loads used (default {})"},
    {"drift-threshold", 0, MOEMAP_OPT_DOUBLE, OFF(drift_threshold), 0, 10, "X",
     "drift/moemap trigger (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_sim_slo_options[] = {
    {"slo-ttft-ms", 0, MOEMAP_OPT_MS, OFF(slo_ttft_s), 1e-3, 1e9, "X",
     "TTFT target (default 2000)"},
    {"slo-tpot-ms", 0, MOEMAP_OPT_MS, OFF(slo_tpot_s), 1e-3, 1e9, "X",
     "TPOT target (default 100)"},
    {"seed", 's', MOEMAP_OPT_SEED, OFF(seed), 0, 0, "N",
     "random seed (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF

#define OFF(field) offsetof(moemap_capacity_params, field)
const moemap_option moemap_capacity_options[] = {
    {"capacity-duration", 0, MOEMAP_OPT_DOUBLE, OFF(duration_s), 1, 86400, "S",
     "seconds of arrivals per rate (default {})"},
    {"capacity-target", 0, MOEMAP_OPT_DOUBLE, OFF(target), 0.01, 1, "X",
     "share inside the SLO required (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF
