/*
 * place.c — the placement driver behind moemap_place: checks the request, splits the
 * workload into its MoE layers (all-zero rows are dense layers and get no entry), builds
 * one place_problem per layer (see strategy.h), runs the chosen strategy on the layers
 * in parallel (one worker per core, each layer with its own RNG seeded from the seed and
 * the layer id, so the result does not depend on the thread count), normalises shares,
 * validates the whole placement and records the predicted cost next to it, with, for a
 * strategy that can prove optimality (exact), how many layers it proved optimal and how
 * many the time limit cut ("solver").
 */
#include "moemap/eval.h"
#include "moemap/place.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_rules.h"
#include "base_util.h"
#include "cost/cost_internal.h"
#include "json_util.h"
#include "strategy.h"

typedef struct strategy_entry {
    const char *name;
    place_layer_fn fn;
} strategy_entry;

static const strategy_entry strategies[] = {
    {"moemap", place_moemap},
    {"eplb", place_eplb},
    {"eplb_global", place_eplb_global},
    {"gem", place_gem},
    {"vibe", place_vibe},
    {"exact", place_exact},
    {"linear", place_linear},
    {"round_robin", place_round_robin},
};
#define NUM_STRATEGIES (sizeof strategies / sizeof strategies[0])

const char *const *moemap_place_strategy_names(void)
{
    static const char *names[NUM_STRATEGIES + 1];
    for (size_t i = 0; i < NUM_STRATEGIES; i++)
        names[i] = strategies[i].name;
    names[NUM_STRATEGIES] = NULL;
    return names;
}

moemap_place_params moemap_place_default_params(void)
{
    return (moemap_place_params){.strategy = "moemap", .seed = 1, .tail_weight = 0.5,
                                 .time_limit_s = 1.0, .consistent_threshold = 0.8,
                                 .temporal_max_active = 0.3, .temporal_min_ratio = 2.0};
}

static const strategy_entry *find_strategy(const char *name)
{
    for (size_t i = 0; i < NUM_STRATEGIES; i++)
        if (strcmp(strategies[i].name, name) == 0)
            return &strategies[i];
    return NULL;
}

/* The solver verdicts of the layers (place_result.solver), summed by the workers. */
typedef struct solver_tally {
    int optimal;             /* layers proven optimal */
    int time_limit;          /* layers cut by the time limit */
    double worst_gap;        /* largest relative gap to the proven bound */
} solver_tally;

/* Shared state of the layer workers. */
typedef struct driver {
    const moemap_loads *loads;
    const moemap_cluster *cluster;  /* what the search sees (with dispatch and combine) */
    const moemap_cluster *measured; /* the cluster as given */
    const moemap_place_params *params;
    const strategy_entry *strategy;
    const int *slots;
    const int *entries;      /* [num] loads layer entry of each placed layer */
    int num;
    double budget_s;         /* search time per layer */
    double search_end;       /* > 0: monotonic second by which every search must end */
    int workers;
    moemap_placement *out;
    pthread_mutex_t lock;
    int next;                /* next layer to take */
    int failed_at;           /* lowest failed layer index, num when none */
    int done;                /* layers placed, for the progress callback */
    moemap_error *errs;      /* [num] per-layer errors */
    solver_tally solver;     /* under lock */
} driver;

/* Shares of each expert scaled to sum to 1 (equal when a strategy left them all zero). */
static void normalise(moemap_replica *reps, int n, int experts, double *sum, int *cnt)
{
    for (int e = 0; e < experts; e++) {
        sum[e] = 0;
        cnt[e] = 0;
    }
    for (int i = 0; i < n; i++) {
        int e = reps[i].expert;
        if (e < 0 || e >= experts)
            continue;
        sum[e] += reps[i].share > 0 ? reps[i].share : 0;
        cnt[e]++;
    }
    for (int i = 0; i < n; i++) {
        int e = reps[i].expert;
        if (e < 0 || e >= experts)
            continue;
        double s = reps[i].share > 0 ? reps[i].share : 0;
        reps[i].share = sum[e] > 0 ? s / sum[e] : 1.0 / cnt[e];
    }
}

static int place_one(driver *d, int i, double *counts, double *total, double *sum, int *cnt,
                     place_result *res, moemap_error *err)
{
    const moemap_loads *ld = d->loads;
    int l = d->entries[i], E = ld->experts, B = ld->num_batches;
    int layer_id = ld->layer_ids[l];
    for (int e = 0; e < E; e++)
        total[e] = 0;
    for (int b = 0; b < B; b++) {
        const double *src = &MOEMAP_LOADS_AT(ld, b, l, 0);
        memcpy(&counts[(size_t)b * E], src, (size_t)E * sizeof *counts);
        for (int e = 0; e < E; e++)
            total[e] += src[e];
    }
    moemap_rng rng;
    moemap_rng_seed(&rng, d->params->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(layer_id + 1)));
    place_problem pb = {
        .cluster = d->cluster,
        .measured = d->measured,
        .num_gpus = d->cluster->num_gpus,
        .slots = d->slots,
        .experts = E,
        .num_batches = B,
        .counts = counts,
        .batch_tokens = ld->batch_tokens,
        .total = total,
        .layer_id = layer_id,
        .params = d->params,
        .previous = mm_placement_layer(d->params->previous, layer_id),
        .time_budget_s = d->budget_s,
        .rng = &rng,
    };
    if (d->search_end > 0) {
        /* What is left of the wall-clock budget, shared by the layers still to place
         * (workers of them at a time): a layer that ran long leaves less to the others. */
        double left = d->search_end - mm_now_s();
        int rest = d->num - i, run = rest < d->workers ? rest : d->workers;
        double share = left > 0 ? left * run / rest : 0;
        if (share < pb.time_budget_s)
            pb.time_budget_s = share > 1e-4 ? share : 1e-4;
        pb.deadline_s = mm_now_s() + pb.time_budget_s;
    }
    res->n = 0;
    res->solver = PLACE_SOLVER_NONE;
    res->solver_gap = 0.0;
    int engine = d->params->engine != MOEMAP_ENGINE_NONE;
    int rc = engine && d->strategy->fn == place_moemap ? place_moemap_engine(&pb, res, err)
                                                        : d->strategy->fn(&pb, res, err);
    /* Strategies that do not know the engine's rules get their answer completed to them
     * (equal shares, every slot filled); eplb's is already except in rare corner cases. */
    if (!rc && engine)
        rc = engine_complete(&pb, res, err);
    if (rc) {
        moemap_error_prefix(err, "layer %d", layer_id);
        return rc;
    }
    normalise(res->reps, res->n, E, sum, cnt);
    rc = moemap_placement_set_layer(d->out, i, layer_id, res->reps, res->n, err);
    if (!rc && engine) {
        rc = engine_check(&d->out->layers[i], d->cluster->num_gpus, E, d->slots[0], err);
        if (rc)
            moemap_error_prefix(err, "place: strategy %s broke the %s rules",
                                d->strategy->name, moemap_engine_name(d->params->engine));
    }
    return rc;
}

static void *worker(void *arg)
{
    driver *d = arg;
    const moemap_loads *ld = d->loads;
    int E = ld->experts;
    double *counts = moemap_malloc((size_t)(ld->num_batches > 0 ? ld->num_batches : 1) *
                                   (size_t)E * sizeof *counts);
    double *total = moemap_malloc((size_t)E * sizeof *total);
    double *sum = moemap_malloc((size_t)E * sizeof *sum);
    int *cnt = moemap_malloc((size_t)E * sizeof *cnt);
    place_result res = {0};
    for (;;) {
        pthread_mutex_lock(&d->lock);
        int i = d->next < d->failed_at ? d->next++ : d->num;
        pthread_mutex_unlock(&d->lock);
        if (i >= d->num)
            break;
        int rc;
        if (!counts || !total || !sum || !cnt)
            rc = moemap_error_set(&d->errs[i], MOEMAP_ENOMEM, "place: out of memory");
        else
            rc = place_one(d, i, counts, total, sum, cnt, &res, &d->errs[i]);
        pthread_mutex_lock(&d->lock);
        if (rc && i < d->failed_at)
            d->failed_at = i;
        d->done++;
        if (!rc) {
            d->solver.optimal += res.solver == PLACE_SOLVER_OPTIMAL;
            d->solver.time_limit += res.solver == PLACE_SOLVER_TIME_LIMIT;
            if (res.solver != PLACE_SOLVER_NONE && res.solver_gap > d->solver.worst_gap)
                d->solver.worst_gap = res.solver_gap;
        }
        if (!rc && d->params->progress)
            d->params->progress(d->params->progress_ctx, "layers", d->done, d->num);
        pthread_mutex_unlock(&d->lock);
    }
    moemap_free(res.reps);
    moemap_free(counts);
    moemap_free(total);
    moemap_free(sum);
    moemap_free(cnt);
    return NULL;
}

static int workers_for(int layers)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 16)
        n = 16;
    return layers < n ? (layers > 0 ? layers : 1) : (int)n;
}

/* Sets the predicted cost of an evaluation (mean/p90/p99 straggler, bound, gap) in o. */
static int add_summary(json_t *o, const moemap_eval_summary *s, moemap_error *err)
{
    int bad = 0;
    bad |= json_object_set_new(o, "batches", json_integer(s->num_batches));
    bad |= json_object_set_new(o, "mean_us", mm_json_real(s->mean_us, 3));
    bad |= json_object_set_new(o, "p90_us", mm_json_real(s->p90_us, 3));
    bad |= json_object_set_new(o, "p99_us", mm_json_real(s->p99_us, 3));
    bad |= json_object_set_new(o, "bound_mean_us", mm_json_real(s->bound_mean_us, 3));
    if (s->engine_bound_mean_us > 0)
        bad |= json_object_set_new(o, "engine_bound_mean_us",
                                   mm_json_real(s->engine_bound_mean_us, 3));
    bad |= json_object_set_new(o, "gap", mm_json_real(s->gap, 6));
    bad |= json_object_set_new(o, "fixed_bound_mean_us", mm_json_real(s->fixed_bound_mean_us, 3));
    bad |= json_object_set_new(o, "fixed_gap", mm_json_real(s->fixed_gap, 6));
    bad |= json_object_set_new(o, "layer_mean_us", mm_json_real(s->layer_mean_us, 3));
    bad |= json_object_set_new(o, "a2a_mean_us", mm_json_real(s->a2a_mean_us, 3));
    bad |= json_object_set_new(o, "replicas", json_integer(s->replicas));
    return bad ? moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory") : 0;
}

/* Adds the predicted cost (mean/p90/p99 straggler, bounds, gaps) to o, computed by the
 * cost layer (the same numbers moemap_eval_placement gives, without the moves); bounds:
 * computed before the search (NULL: here). */
static int add_cost(json_t *o, const moemap_loads *loads, const moemap_cluster *c,
                    const moemap_place_params *params, const moemap_placement *p,
                    const mm_cost_bounds *bounds, moemap_error *err)
{
    moemap_eval_params ep;
    memset(&ep, 0, sizeof ep); /* moemap_eval_default_params(), which lives above place */
    ep.slots = params->slots;
    ep.a2a = params->a2a;
    moemap_eval_summary *s;
    int rc = mm_cost_placement(loads, c, p, &ep, bounds, &s, err);
    if (rc)
        return rc;
    rc = add_summary(o, s, err);
    moemap_eval_summary_free(s);
    return rc;
}

/* Replaces p->predicted_json by o serialised. */
static int set_predicted_json(moemap_placement *p, json_t *o, moemap_error *err)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
    moemap_free(p->predicted_json);
    p->predicted_json = moemap_strdup(text);
    free(text);
    return p->predicted_json ? 0 : moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
}

int moemap_placement_set_predicted(moemap_placement *p, const moemap_eval_summary *s,
                                   moemap_error *err)
{
    json_t *o = p->predicted_json ? json_loads(p->predicted_json, 0, NULL) : json_object();
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (!o)
        return moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
    int rc = add_summary(o, s, err);
    if (!rc)
        rc = set_predicted_json(p, o, err);
    json_decref(o);
    return rc;
}

/* Adds the solver's verdicts: {"optimal_layers", "time_limit_layers", "worst_gap"}. */
static int add_solver(json_t *o, const solver_tally *t, moemap_error *err)
{
    json_t *s = json_object();
    int bad = !s;
    if (!bad) {
        bad |= json_object_set_new(s, "optimal_layers", json_integer(t->optimal));
        bad |= json_object_set_new(s, "time_limit_layers", json_integer(t->time_limit));
        bad |= json_object_set_new(s, "worst_gap", mm_json_real(t->worst_gap, 6));
    }
    bad |= json_object_set_new(o, "solver", s);
    return bad ? moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory") : 0;
}

/* Records p->predicted_json: the predicted cost unless with_cost is 0, and the solver's
 * verdicts when the strategy gave any (exact). Nothing to record leaves it NULL. */
static int fill_predicted(const moemap_loads *loads, const moemap_cluster *c,
                          const moemap_place_params *params, const mm_cost_bounds *bounds,
                          const solver_tally *t, moemap_placement *p, moemap_error *err)
{
    int with_solver = t->optimal + t->time_limit > 0, with_cost = !params->no_predicted;
    if (!with_cost && !with_solver)
        return 0;
    json_t *o = json_object();
    if (!o)
        return moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
    int rc = with_cost ? add_cost(o, loads, c, params, p, bounds, err) : 0;
    if (!rc && with_solver)
        rc = add_solver(o, t, err);
    if (!rc)
        rc = set_predicted_json(p, o, err);
    json_decref(o);
    return rc;
}

static int place_loads(const moemap_loads *loads, const moemap_cluster *cluster,
                       const moemap_place_params *params, double t0, moemap_placement **out,
                       moemap_error *err);

int moemap_place(const moemap_loads *loads, const moemap_cluster *cluster,
                 const moemap_place_params *params, moemap_placement **out,
                 moemap_error *err)
{
    *out = NULL;
    double t0 = mm_now_s();
    moemap_place_params defaults = moemap_place_default_params(), sglang;
    if (!params)
        params = &defaults;
    if (params->engine == MOEMAP_ENGINE_SGLANG && !params->a2a.local_first) {
        /* SGLang's static dispatch keeps a rank's tokens on its own copy (moemap/a2a.h) */
        sglang = *params;
        sglang.a2a.local_first = 1;
        params = &sglang;
    }
    if (!cluster || cluster->num_gpus <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: the cluster has no GPUs");
    if (!loads || !moemap_loads_is_aggregate(loads))
        return place_loads(loads, cluster, params, t0, out, err);
    /* An aggregate is the whole run as one batch, where every cost is linear: placed on
     * that, the floor each copy pays at the engine's real iteration size is invisible.
     * It becomes iterations at the operating point first. */
    moemap_operating_point op = moemap_operating_point_default();
    op.batch_tokens = params->batch_tokens > 0
                          ? params->batch_tokens
                          : moemap_operating_point_default_tokens(cluster->num_gpus);
    op.top_k = params->top_k;
    op.seed = params->seed;
    moemap_loads *iters = NULL;
    int rc = moemap_loads_at_operating_point(loads, &op, &iters, err);
    if (!rc)
        rc = place_loads(iters, cluster, params, t0, out, err);
    moemap_loads_free(iters);
    return rc;
}

/* t0: when the call began (mm_now_s), for its wall-clock budget. */
static int place_loads(const moemap_loads *loads, const moemap_cluster *cluster,
                       const moemap_place_params *params, double t0, moemap_placement **out,
                       moemap_error *err)
{
    const char *name = params->strategy ? params->strategy : "moemap";
    const strategy_entry *st = find_strategy(name);
    if (!st) {
        char list[256] = "";
        for (size_t i = 0; i < NUM_STRATEGIES; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, strategies[i].name, sizeof list - strlen(list) - 1);
        }
        return moemap_error_set(err, MOEMAP_EINVAL, "unknown strategy '%s' (known: %s)", name,
                                list);
    }
    if (!cluster || cluster->num_gpus <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: the cluster has no GPUs");
    if (!loads || loads->experts <= 0 || loads->num_layers <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: the loads have no MoE layers");
    if (loads->num_batches <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: the loads have no batches");
    if (params->slots < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: slots %d < 0", params->slots);
    if (params->engine < MOEMAP_ENGINE_NONE || params->engine > MOEMAP_ENGINE_VLLM)
        return moemap_error_set(err, MOEMAP_EINVAL, "place: unknown engine %d",
                                (int)params->engine);
    int engine_slots = 0;
    if (params->engine != MOEMAP_ENGINE_NONE) {
        int rc0 = engine_uniform_slots(cluster, params->slots, &engine_slots, err);
        if (rc0)
            return rc0;
    }
    if (params->previous && (params->previous->num_gpus != cluster->num_gpus ||
                             params->previous->experts != loads->experts))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "place: the previous placement is for %d gpus x %d experts, "
                                "not %d x %d", params->previous->num_gpus,
                                params->previous->experts, cluster->num_gpus, loads->experts);
    moemap_error bad_prev = {0};
    if (params->previous &&
        (moemap_placement_check(params->previous, NULL, 0, mm_keep_first_problem, &bad_prev) > 0 ||
         moemap_placement_check_loads(params->previous, loads, mm_keep_first_problem, &bad_prev) > 0))
        return moemap_error_set(err, MOEMAP_EINVAL, "place: the previous placement: %s",
                                bad_prev.msg);
    int G = cluster->num_gpus, E = loads->experts;
    int *slots = moemap_malloc((size_t)G * sizeof *slots);
    int *entries = moemap_malloc((size_t)loads->num_layers * sizeof *entries);
    moemap_error *errs = moemap_calloc((size_t)loads->num_layers, sizeof *errs);
    moemap_placement *p = NULL;
    mm_cost_bounds bounds = {NULL, NULL, 0, 0, 0};
    moemap_cluster *with_a2a = NULL; /* the curves the search sees (below) */
    int rc = 0;
    if (!slots || !entries || !errs) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
        goto done;
    }
    long total_slots = 0;
    for (int g = 0; g < G; g++) {
        slots[g] = engine_slots > 0 ? engine_slots
                   : params->slots > 0 ? params->slots : cluster->gpus[g].slots;
        total_slots += slots[g];
    }
    if (total_slots < E) {
        rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                              "place: %d GPUs have %ld expert slots per layer, fewer than the "
                              "%d experts (raise the slots in the cluster file or use --slots)",
                              G, total_slots, E);
        goto done;
    }
    int num = 0;
    for (int l = 0; l < loads->num_layers; l++)
        if (mm_layer_has_tokens(loads, l))
            entries[num++] = l;
    if (num == 0) {
        rc = moemap_error_set(err, MOEMAP_EINVAL, "place: every layer of the loads is all zero");
        goto done;
    }
    /* Memory: a GPU with mem_gb for experts holds at most mem_gb / (expert bytes x MoE
     * layers) replicas per layer, whatever its slots say. */
    if (params->expert_bytes > 0) {
        total_slots = 0;
        for (int g = 0; g < G; g++) {
            double mem = cluster->gpus[g].mem_gb;
            if (mem > 0) {
                double cap = floor(mem * 1e9 / (params->expert_bytes * num));
                if (cap < slots[g])
                    slots[g] = (int)cap;
            }
            total_slots += slots[g];
        }
        /* under engine rules every rank has as many slots as the smallest one */
        for (int g = 0; g < G && engine_slots > 0; g++)
            engine_slots = slots[g] < engine_slots ? slots[g] : engine_slots;
        if (engine_slots > 0) {
            for (int g = 0; g < G; g++)
                slots[g] = engine_slots;
            total_slots = (long)engine_slots * G;
        }
        if (total_slots < E) {
            rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                  "place: the GPUs' memory (mem_gb) holds %ld replicas per layer "
                                  "of %d layers at %.3g GB per expert, fewer than the %d experts",
                                  total_slots, num, params->expert_bytes / 1e9, E);
            goto done;
        }
    }
    rc = moemap_placement_create(G, E, num, &p, err);
    if (rc)
        goto done;
    /* The wall-clock budget is the whole call's (search, bounds, evaluation, checks),
     * except exact's, which is per layer. The bounds need no placement: computed first,
     * their time (the one-placement LPs get at most half the budget) comes out of the
     * search's, which also leaves room for evaluating the placement. The one-placement
     * LPs stop at 30% of the budget (later layers then keep the per-batch mean). */
    int is_exact = strcmp(st->name, "exact") == 0;
    double limit = params->time_limit_s > 0 ? params->time_limit_s : 1.0, search_end = 0;
    if (!params->no_predicted) {
        rc = mm_cost_bounds_compute(loads, cluster, params->slots,
                                    is_exact ? 0 : t0 + 0.3 * limit, &bounds, err);
        if (rc)
            goto done;
    }
    if (!is_exact && !params->deterministic) {
        double reserve = 0.03 * limit; /* checks, shares: a few % of the call */
        if (!params->no_predicted) /* ~25 ns per replica and batch, measured */
            reserve += 25e-9 * (double)num * loads->num_batches * (double)total_slots;
        search_end = t0 + 0.97 * limit - reserve;
    }
    /* An engine placement is named after both ("moemap-sglang"), so reports tell it from
     * the free one. */
    if (params->engine != MOEMAP_ENGINE_NONE)
        snprintf(p->strategy, sizeof p->strategy, "%s-%s", st->name,
                 moemap_engine_name(params->engine));
    else
        snprintf(p->strategy, sizeof p->strategy, "%s", st->name);
    /* The search sees each GPU's curve plus the linear part of its dispatch and combine
     * (moemap/a2a.h), so it balances whole layers; bounds, checks and the predicted cost
     * keep the measured curves. */
    if (!params->a2a.off && G > 1 &&
        (rc = moemap_cluster_with_a2a(cluster, &params->a2a, &with_a2a, err)))
        goto done;
    int nw = workers_for(num);
    driver d = {
        .loads = loads, .cluster = with_a2a ? with_a2a : cluster, .measured = cluster, .params = params, .strategy = st,
        .slots = slots, .entries = entries, .num = num,
        /* The whole-model budget is shared by the layers (each worker runs num / nw of
         * them); exact's budget is per layer, as place.h documents. */
        .budget_s = is_exact ? (params->time_limit_s > 0 ? params->time_limit_s : 60.0)
                             : limit * nw / num,
        .search_end = search_end, .workers = nw,
        .out = p, .next = 0, .failed_at = num, .done = 0, .errs = errs, .solver = {0, 0, 0.0},
    };
    pthread_mutex_init(&d.lock, NULL);
    pthread_t tids[16];
    int started = 0;
    for (int w = 1; w < nw; w++)
        if (pthread_create(&tids[started], NULL, worker, &d) == 0)
            started++;
    worker(&d); /* the calling thread works too; with no thread started it does it all */
    for (int w = 0; w < started; w++)
        pthread_join(tids[w], NULL);
    pthread_mutex_destroy(&d.lock);
    if (d.failed_at < num) {
        moemap_error *e = &errs[d.failed_at];
        rc = moemap_error_set(err, e->code ? e->code : MOEMAP_EINVAL, "%s", e->msg);
        goto done;
    }
    moemap_error first = {0};
    int problems = moemap_placement_check(p, cluster, params->slots, mm_keep_first_problem, &first);
    if (problems < 0) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory while validating");
        goto done;
    }
    if (problems > 0) {
        rc = moemap_error_set(err, MOEMAP_EINVAL,
                              "place: strategy %s produced an invalid placement (%d problems; "
                              "first: %s)", st->name, problems, first.msg);
        goto done;
    }
    rc = fill_predicted(loads, cluster, params, &bounds, &d.solver, p, err);
done:
    mm_cost_bounds_clear(&bounds);
    moemap_cluster_free(with_a2a);
    moemap_free(slots);
    moemap_free(entries);
    moemap_free(errs);
    if (rc) {
        moemap_placement_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
