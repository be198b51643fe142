/*
 * moemap/place_job.h — one whole `moemap place` call as the library does it: the
 * wall-clock budget of the call split between the bounds, the search, the evaluation and
 * writing; the placement evaluated once; eplb placed under the same rules as the baseline
 * it is compared with; and, under an engine's rules, whether one slot fewer per GPU would
 * be faster. Front ends parse, call and print (moemap_text_place).
 */
#ifndef MOEMAP_PLACE_JOB_H
#define MOEMAP_PLACE_JOB_H

#include "moemap/eval.h"
#include "moemap/export.h"
#include "moemap/inputs.h"
#include "moemap/migrate.h"
#include "moemap/place.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_place_job {
    moemap_place_params place; /* strategy, seed, tail weight, time limit, ... (slots,
                                  engine, operating point, previous placement and expert
                                  size are taken from the inputs by moemap_place_job_run) */
    int fewer_check;           /* under an engine's rules, also try one slot fewer */
    double t_start;            /* when the call began (the budget counts from it; 0: now) */
    /* Results, freed by moemap_place_job_free: */
    moemap_placement *p;       /* the placement, its prediction recorded */
    moemap_eval_summary *es;   /* its evaluation */
    moemap_placement *eplb;    /* the baseline under the same rules (NULL for eplb itself
                                  and for a re-placement) */
    moemap_eval_summary *base; /* its evaluation */
    moemap_eval_bounds *bounds;
    double took;               /* seconds in moemap_place */
    double limit_s;            /* the whole call's budget */
    int fewer_slots;           /* > 0: this many slots per GPU is predicted faster */
    double fewer_mean_us;      /* ... with this headline time (moemap_place_job_headline_us) */
} moemap_place_job;

moemap_place_job moemap_place_job_default(void);

/* The default time_limit_s of a strategy: 1 s for the whole call, exact's 60 s per
 * layer (its limit is per layer, place.h). */
double moemap_place_strategy_budget(const char *strategy);

/* 1 when name (may be NULL) is a strategy's name; list gets every name, ", "-separated. */
int moemap_place_strategy_known(const char *name, char *list, size_t size);

/* Bounds, placement, one evaluation, and the baseline. prev: the placement in service
 * (may be NULL). */
int moemap_place_job_run(moemap_place_job *job, const moemap_loads *ld,
                         const moemap_cluster *cl, const moemap_placement *prev,
                         const moemap_input_params *ip, moemap_error *err);

/* Under an engine's rules every slot is filled, and at decode sizes every copy costs the
 * curve's floor: fewer redundant copies can be faster. Places again with one slot fewer
 * per GPU in what is left of the budget and sets fewer_slots / fewer_mean_us when that is
 * predicted faster. Does nothing without an engine, with a previous placement or without
 * fewer_check. */
int moemap_place_job_fewer_slots(moemap_place_job *job, const moemap_loads *ld,
                                 const moemap_cluster *cl, const moemap_placement *prev,
                                 moemap_error *err);

/* Writes the placement to out, each export given as "FORMAT=FILE" (sglang, vllm, moemap)
 * and, with plan_path, the migration plan from prev (*plan, freed by the caller). notes
 * gets what the user should be told, a line each: what an export approximated, and the
 * SGLang flags that load an SGLang export. */
int moemap_place_job_write(const moemap_place_job *job, const char *out,
                           const char *const *exports, int num_exports,
                           const moemap_export_params *xp, const moemap_placement *prev,
                           const char *plan_path, moemap_migration_plan **plan, char *notes,
                           size_t notes_size, moemap_error *err);

/* The figure a placement is judged by: the whole layer (dispatch + compute + combine)
 * unless the cost model was asked to leave the all-to-all out (place.a2a.off). */
double moemap_place_job_headline_us(const moemap_place_job *job,
                                    const moemap_eval_summary *s);

void moemap_place_job_free(moemap_place_job *job);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
