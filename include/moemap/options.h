/*
 * moemap/options.h — the tunable fields of the library's parameter structs described as
 * data (as FFmpeg's AVOption does): each option's name, value kind, place in the struct,
 * valid range, the value's name and a one-line help. The command-line tool builds its
 * flags and its --help from these tables, so a parameter's range and meaning are stated
 * once, next to the code that uses it, and any front end can offer the same knobs.
 *
 * A table ends with an entry whose name and help are both NULL. An entry with a NULL name
 * is a heading for help ("popularity:\n"). In help, "\n" continues a line under the help
 * column and "{}" stands for the field's current (default) value.
 */
#ifndef MOEMAP_OPTIONS_H
#define MOEMAP_OPTIONS_H

#include <stddef.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef enum moemap_option_kind {
    MOEMAP_OPT_TEXT,   /* a heading for help, no field */
    MOEMAP_OPT_STR,    /* const char * */
    MOEMAP_OPT_SET,    /* int, set to 1 (a switch, no value) */
    MOEMAP_OPT_INT,    /* int within [lo, hi] */
    MOEMAP_OPT_LONG,   /* long within [lo, hi] */
    MOEMAP_OPT_SEED,   /* uint64_t within [lo, hi] (hi 0: LONG_MAX) */
    MOEMAP_OPT_DOUBLE, /* double within [lo, hi] */
    MOEMAP_OPT_MS      /* given in milliseconds within [lo, hi], stored in seconds */
} moemap_option_kind;

typedef struct moemap_option {
    const char *name;  /* the flag's long name ("max-batch-tokens") */
    char key;          /* its short name, 0 for none */
    moemap_option_kind kind;
    size_t offset;     /* of the field in the struct */
    double lo, hi;
    const char *arg;   /* the value's name in help ("N"), NULL for a switch */
    const char *help;
} moemap_option;

/* moemap_gen_params: shape and popularity of a synthetic workload. */
extern const moemap_option moemap_gen_options[];
/* moemap_stats_params: what counts as consistent, temporal, co-activated. */
extern const moemap_option moemap_stats_options[];
/* moemap_sim_params: the engine; the recalibration knobs; the SLO. */
extern const moemap_option moemap_sim_engine_options[];
extern const moemap_option moemap_sim_recal_options[];
extern const moemap_option moemap_sim_slo_options[];
/* moemap_capacity_params: the capacity sweep. */
extern const moemap_option moemap_capacity_options[];
/* moemap_place_params: the search (seed, objective, budget, eplb groups) and
 * re-placement (moves and their cost). */
extern const moemap_option moemap_place_search_options[];
extern const moemap_option moemap_place_move_options[];

/* moemap_variability_params: reading GPU speeds from benchmark data; moemap_synth_params:
 * drawing GPUs (count, seed) and the expert shape, layout and network. */
extern const moemap_option moemap_variability_options[];
extern const moemap_option moemap_synth_draw_options[];
extern const moemap_option moemap_synth_shape_options[];

/* moemap_exec_params: layers, iterations and tokens of a run; moemap_profile_params:
 * the profiler's repeats, rounds, warm-up and grid. */
extern const moemap_option moemap_exec_options[];
extern const moemap_option moemap_profile_options[];

/* moemap_report_params: the inputs; title, layer and gnuplot; the co-activation chart
 * and where the work files go. */
extern const moemap_option moemap_report_input_options[];
extern const moemap_option moemap_report_look_options[];
extern const moemap_option moemap_report_chart_options[];

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
