/*
 * place_job.c — one whole `moemap place` call (moemap/place_job.h): the call's budget
 * split between the bounds, the search, the evaluation and writing; one evaluation of the
 * placement; eplb under the same rules as the baseline; the one-slot-fewer check.
 */
#include <stdio.h>
#include <string.h>

#include "base_util.h"
#include "moemap/place_job.h"

/* The exact strategy's limit is per layer (place.h), the others' the whole call's. */
#define EXACT_LAYER_LIMIT_S 60

moemap_place_job moemap_place_job_default(void)
{
    return (moemap_place_job){.place = moemap_place_default_params(), .fewer_check = 1};
}

double moemap_place_strategy_budget(const char *strategy)
{
    return strategy && !strcmp(strategy, "exact") ? EXACT_LAYER_LIMIT_S
                                                  : moemap_place_default_params().time_limit_s;
}

int moemap_place_strategy_known(const char *name, char *list, size_t size)
{
    int known = 0;
    size_t k = 0;
    list[0] = '\0';
    for (const char *const *n = moemap_place_strategy_names(); *n; n++) {
        known |= name && !strcmp(*n, name);
        if (k < size)
            k += (size_t)snprintf(list + k, size - k, "%s%s", k ? ", " : "", *n);
    }
    return known;
}

double moemap_place_job_headline_us(const moemap_place_job *job,
                                    const moemap_eval_summary *s)
{
    return job->place.a2a.off ? s->mean_us : s->layer_mean_us;
}

void moemap_place_job_free(moemap_place_job *job)
{
    moemap_eval_bounds_free(job->bounds);
    moemap_eval_summary_free(job->es);
    moemap_eval_summary_free(job->base);
    moemap_placement_free(job->eplb);
    moemap_placement_free(job->p);
    job->bounds = NULL;
    job->es = job->base = NULL;
    job->p = job->eplb = NULL;
}

/* The budget is the whole call's. The bounds need no placement: computed first (the
 * one-placement LPs stop at 30% of the budget), their time and what reading took come off
 * the search's, which also leaves a reserve for evaluating (the placement, and eplb's as
 * the baseline: ~25 ns per batch and replica slot, measured) and for writing (~0.3 us per
 * replica slot since the placement is streamed); with an engine a quarter of the search's time goes to the
 * one-slot-fewer check. */
#define PROCESS_S 0.005

static int budget_and_bounds(moemap_place_job *job, const moemap_loads *ld,
                             const moemap_cluster *cl, const moemap_placement *prev,
                             moemap_error *err)
{
    moemap_place_params *pp = &job->place;
    int budgeted = strcmp(pp->strategy, "exact") != 0 && !pp->deterministic;
    job->limit_s = pp->time_limit_s;
    double lp_s = budgeted ? 0.3 * pp->time_limit_s - (mm_now_s() - job->t_start) : 0;
    if (moemap_eval_bounds_create(ld, cl, pp->slots, budgeted && lp_s < 0.001 ? 0.001 : lp_s,
                                  &job->bounds, err))
        return 1;
    if (!budgeted)
        return 0;
    double slots_total = 0;
    for (int g = 0; g < cl->num_gpus; g++)
        slots_total += pp->slots > 0 ? pp->slots : cl->gpus[g].slots;
    double layer_slots = (double)ld->num_layers * slots_total;
    /* PROCESS_S: what a command spends outside the job (loading its libraries before
     * main, exiting), ~5 ms on the 2-core machine under load, measured by strace */
    double left = pp->time_limit_s - (mm_now_s() - job->t_start) - PROCESS_S -
                  0.3e-6 * layer_slots - 2 * 25e-9 * layer_slots * ld->num_batches;
    if (job->fewer_check && pp->engine != MOEMAP_ENGINE_NONE && !prev)
        left *= 0.75;
    pp->time_limit_s = left > 0.001 ? left : 0.001;
    return 0;
}

/* Places, evaluates once, and places eplb under the same rules as the baseline the
 * summary compares with (not for eplb itself, nor for a re-placement). */
static int place_and_evaluate(moemap_place_job *job, const moemap_loads *ld,
                              const moemap_cluster *cl, const moemap_placement *prev,
                              moemap_error *err)
{
    moemap_place_params *pp = &job->place;
    double t0 = mm_now_s();
    int rc = moemap_place(ld, cl, pp, &job->p, err);
    if (rc)
        return rc;
    job->took = mm_now_s() - t0;
    moemap_eval_params ep = moemap_eval_default_params();
    ep.slots = pp->slots;
    ep.a2a = pp->a2a;
    ep.previous = prev;
    ep.bounds = job->bounds;
    if (pp->engine != MOEMAP_ENGINE_NONE)
        ep.engine_slots = job->p->layers[0].num_replicas / job->p->num_gpus;
    rc = moemap_eval_placement(ld, cl, job->p, &ep, &job->es, err);
    if (rc || strncmp(pp->strategy, "eplb", 4) == 0 || prev)
        return rc;
    moemap_place_params bp = *pp;
    bp.strategy = "eplb";
    bp.progress = NULL;
    bp.no_predicted = 1;
    ep.engine_slots = 0;
    ep.no_bound = 1;
    rc = moemap_place(ld, cl, &bp, &job->eplb, err);
    return rc ? rc : moemap_eval_placement(ld, cl, job->eplb, &ep, &job->base, err);
}

int moemap_place_job_run(moemap_place_job *job, const moemap_loads *ld,
                         const moemap_cluster *cl, const moemap_placement *prev,
                         const moemap_input_params *ip, moemap_error *err)
{
    moemap_place_params *pp = &job->place;
    if (job->t_start <= 0)
        job->t_start = mm_now_s();
    pp->slots = ip->slots;
    pp->engine = ip->engine;
    pp->a2a = ip->a2a;
    pp->a2a.local_first = ip->engine == MOEMAP_ENGINE_SGLANG; /* SGLang's static dispatch */
    pp->batch_tokens = ip->batch_tokens;
    pp->top_k = ip->read.top_k;
    pp->previous = prev;
    pp->expert_bytes = ip->model ? moemap_model_expert_bytes(ip->model)
                                 : moemap_cluster_expert_bytes(cl);
    pp->no_predicted = 1; /* evaluated once, then recorded */
    if (budget_and_bounds(job, ld, cl, prev, err) ||
        place_and_evaluate(job, ld, cl, prev, err))
        return err->code ? err->code : MOEMAP_EINVAL;
    return moemap_placement_set_predicted(job->p, job->es, err);
}

int moemap_place_job_fewer_slots(moemap_place_job *job, const moemap_loads *ld,
                                 const moemap_cluster *cl, const moemap_placement *prev,
                                 moemap_error *err)
{
    const moemap_placement *p = job->p;
    int G = p->num_gpus, S = p->layers[0].num_replicas / G;
    job->fewer_slots = 0;
    if (!job->fewer_check || job->place.engine == MOEMAP_ENGINE_NONE || prev ||
        (S - 1) * G < p->experts)
        return 0;
    double budget_s = job->limit_s - (mm_now_s() - job->t_start) - 0.05 * job->limit_s;
    moemap_place_params fp = job->place;
    fp.slots = S - 1;
    fp.progress = NULL;
    fp.time_limit_s = budget_s > 0.001 ? budget_s : 0.001;
    moemap_placement *alt = NULL;
    moemap_eval_summary *s = NULL;
    moemap_eval_params ep = moemap_eval_default_params();
    ep.no_bound = 1;
    ep.a2a = fp.a2a;
    int rc = moemap_place(ld, cl, &fp, &alt, err);
    if (!rc)
        rc = moemap_eval_placement(ld, cl, alt, &ep, &s, err);
    double alt_us = rc ? 0 : moemap_place_job_headline_us(job, s);
    if (!rc && alt_us < moemap_place_job_headline_us(job, job->es)) {
        job->fewer_slots = S - 1;
        job->fewer_mean_us = alt_us;
    }
    moemap_eval_summary_free(s);
    moemap_placement_free(alt);
    return rc;
}

/* One "FORMAT=FILE" export and what to tell about it. */
static int write_export(const moemap_placement *p, const char *spec,
                        const moemap_export_params *xp, char *notes, size_t size,
                        moemap_error *err)
{
    char name[32];
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : 0;
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), spec);
    int fmt = moemap_export_format_parse(name);
    moemap_export_info info;
    if (!eq || fmt < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "--export %s: not FORMAT=FILE", spec);
    if (moemap_export_write(p, (moemap_export_format)fmt, xp, eq + 1, &info, err))
        return moemap_error_prefix(err, "--export %s", spec), err->code;
    size_t k = strlen(notes);
    if (info.approximated && k < size)
        k += (size_t)snprintf(notes + k, size - k, "--export %s: approximated: %s\n", spec,
                              info.note);
    if (fmt == MOEMAP_EXPORT_SGLANG && k < size)
        snprintf(notes + k, size - k, "SGLang loads it with --init-expert-location %s "
                 "--ep-size %d --ep-num-redundant-experts %d (GPU g = EP rank g)\n", eq + 1,
                 p->num_gpus, info.redundant_experts);
    return 0;
}

int moemap_place_job_write(const moemap_place_job *job, const char *out,
                           const char *const *exports, int num_exports,
                           const moemap_export_params *xp, const moemap_placement *prev,
                           const char *plan_path, moemap_migration_plan **plan, char *notes,
                           size_t notes_size, moemap_error *err)
{
    notes[0] = '\0';
    int rc = moemap_placement_write(job->p, out, err);
    for (int i = 0; !rc && i < num_exports; i++)
        rc = write_export(job->p, exports[i], xp, notes, notes_size, err);
    if (!rc && plan_path &&
        !(rc = moemap_migration_plan_create(prev, job->p, job->place.expert_bytes, plan, err)))
        rc = moemap_migration_plan_write(*plan, plan_path, err);
    return rc;
}
