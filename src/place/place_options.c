/*
 * place_options.c — the placement parameters as data (moemap/options.h): the search
 * (seed, objective, budget, eplb's groups) and re-placement (moves and their cost), with
 * their ranges and help.
 */
#include "moemap/options.h"
#include "moemap/place.h"

#define OFF(field) offsetof(moemap_place_params, field)
const moemap_option moemap_place_search_options[] = {
    {"seed", 0, MOEMAP_OPT_SEED, OFF(seed), 0, 0, "S",
     "random seed (default 1)"},
    {"tail-weight", 0, MOEMAP_OPT_DOUBLE, OFF(tail_weight), 0, 100, "W",
     "moemap objective: mean + W * p90 (default 0.5)"},
    {"time-limit", 0, MOEMAP_OPT_DOUBLE, OFF(time_limit_s), 0.001, 86400, "S",
     "wall-clock budget of the whole command: reading,\nsearch, bounds, writing (default "
     "1; exact: search\nper layer, default 60)"},
    {"deterministic", 0, MOEMAP_OPT_SET, OFF(deterministic), 0, 0, NULL,
     "the search stops on its work budget, never on the\nclock: the same placement on any "
     "machine and load\n(the call may then take longer than --time-limit)"},
    {"nodes-groups", 0, MOEMAP_OPT_INT, OFF(nodes_groups), 1, 1000000, "N",
     "eplb: hierarchical, N expert groups per node"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};

const moemap_option moemap_place_move_options[] = {
    {"max-moves", 0, MOEMAP_OPT_INT, OFF(max_moves), 1, 100000000, "K",
     "at most K replica additions per layer vs OLD"},
    {"move-cost-us-per-GB", 0, MOEMAP_OPT_DOUBLE, OFF(move_cost_us_per_gb), 0, 1e12, "X",
     "objective pays X us per GB of weights copied"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF
