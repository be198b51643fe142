/*
 * engine_rules.h — the serving engines' rules as constraints on a layer placement
 * (internal to src/place; see engine_rules.c), and the engine-constrained search of the
 * moemap strategy (engine_search.c).
 */
#ifndef MOEMAP_PLACE_ENGINE_RULES_H
#define MOEMAP_PLACE_ENGINE_RULES_H

#include "strategy.h"

/* The slots every GPU has under engine rules: slots_override when > 0, else the
 * cluster's, which must then be equal on every GPU (error naming two that differ). */
int engine_uniform_slots(const moemap_cluster *c, int slots_override, int *S,
                         moemap_error *err);

/* Makes a strategy's answer for one layer runnable by the engine: equal shares, and every
 * free slot (pb->slots) filled with a copy of the expert carrying the most tokens per
 * copy, on the free GPU whose time grows least. */
int engine_complete(const place_problem *pb, place_result *res, moemap_error *err);

/* 0 when lp fills exactly S slots on each of num_gpus GPUs with equal shares; else an
 * error naming the first GPU or expert that breaks the rule. */
int engine_check(const moemap_layer_placement *lp, int num_gpus, int experts, int S,
                 moemap_error *err);

/* The moemap strategy under engine rules (pb->params->engine != NONE): speed-aware
 * replica counts and packing, then local search (swaps, and re-replication moving a
 * copy from one expert to another) on the per-iteration straggler. Never returns a
 * layout with a higher mean straggler than eplb's under the same rules. */
int place_moemap_engine(const place_problem *pb, place_result *out, moemap_error *err);

#endif
