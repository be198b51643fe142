/*
 * simulate.c — the discrete-event loop of `moemap simulate`: admit arrivals, apply due
 * events, let the recalibration policy act (paying its stall), form a batch, advance the
 * clock by the iteration model's time, commit tokens; when the engine is idle, jump to
 * the next arrival. The simulation ends when every request is done or at the horizon.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

moemap_sim_params moemap_sim_default_params(void)
{
    return (moemap_sim_params){.max_batch_tokens = 8192, .max_running = 256, .slo_ttft_s = 2.0,
                               .slo_tpot_s = 0.1, .seed = 1, .peak_tflops = 790,
                               .mem_GBps = 4300, .layer_overhead_us = 20, .jitter_scale = 1.0,
                               .policy = MOEMAP_RECAL_NONE, .strategy = "eplb",
                               .recal_interval = 2000, .recal_window = 500,
                               .drift_threshold = 0.05, .drift_swaps = 2,
                               .moemap_max_moves = 4, .timeseries_dt = 1.0};
}

static int cmp_event(const void *a, const void *b)
{
    const moemap_sim_event *x = *(const moemap_sim_event *const *)a;
    const moemap_sim_event *y = *(const moemap_sim_event *const *)b;
    return (x->time_s > y->time_s) - (x->time_s < y->time_s);
}

static void on_first(void *ctx, const sim_req *q) { metrics_first_token(ctx, q); }

static int check_params(const moemap_sim_params *p, const moemap_cluster *c,
                        moemap_error *err)
{
    if (p->max_batch_tokens < 1 || p->max_running < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "token budget and max running must be >= 1");
    if (!(p->peak_tflops > 0) || !(p->mem_GBps > 0) || p->layer_overhead_us < 0 ||
        p->jitter_scale < 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "GPU rates must be positive, overhead and jitter >= 0");
    if (!(p->slo_ttft_s > 0) || !(p->slo_tpot_s > 0))
        return moemap_error_set(err, MOEMAP_EINVAL, "SLO targets must be positive");
    if ((unsigned)p->policy > MOEMAP_RECAL_MOEMAP)
        return moemap_error_set(err, MOEMAP_EINVAL, "unknown recalibration policy %d",
                                (int)p->policy);
    for (int i = 0; i < p->num_events; i++) {
        const moemap_sim_event *e = &p->events[i];
        if ((e->kind == MOEMAP_EVENT_SLOW || e->kind == MOEMAP_EVENT_LOST) &&
            (e->gpu < 0 || e->gpu >= c->num_gpus))
            return moemap_error_set(err, MOEMAP_EINVAL, "event '%s': GPU %d outside 0..%d",
                                    e->spec, e->gpu, c->num_gpus - 1);
        if (e->kind == MOEMAP_EVENT_SWITCH && !e->loads)
            return moemap_error_set(err, MOEMAP_EINVAL, "event '%s': no workload", e->spec);
        if (e->kind == MOEMAP_EVENT_SLOW && !(e->factor > 0))
            return moemap_error_set(err, MOEMAP_EINVAL, "event '%s': factor must be > 0",
                                    e->spec);
    }
    return 0;
}

typedef struct sim_state {
    itermodel *im;
    scheduler *s;
    recal *rc;
    metrics *m;
    const moemap_sim_event **ev;
} sim_state;

static void state_free(sim_state *st)
{
    itermodel_free(st->im);
    scheduler_free(st->s);
    recal_free(st->rc);
    metrics_free(st->m);
    moemap_free(st->ev);
}

/* Records a recalibration's cost and marker. */
static int account(moemap_sim_result *acc, metrics *m, double t, const recal_action *a)
{
    if (!a->changed)
        return 0;
    acc->migration_bytes += a->bytes;
    acc->migration_stall_s += a->stall_s;
    acc->replicas_moved += a->moves;
    acc->recalibrations++;
    char lab[200];
    snprintf(lab, sizeof lab, "%.150s (%ld replicas, %.2f GB)", a->why, a->moves, a->bytes / 1e9);
    return metrics_marker(m, t, lab);
}

static int apply_event(sim_state *st, const moemap_sim_event *e, double t,
                       moemap_sim_result *acc, moemap_error *err)
{
    int rc = metrics_marker(st->m, t, e->spec);
    if (rc)
        return moemap_error_set(err, rc, "out of memory");
    switch (e->kind) {
    case MOEMAP_EVENT_SWITCH:
        rc = itermodel_set_loads(st->im, e->loads, err);
        if (rc)
            moemap_error_prefix(err, "event '%s'", e->spec);
        return rc;
    case MOEMAP_EVENT_SLOW:
        if (itermodel_alive(st->im, e->gpu))
            itermodel_set_factor(st->im, e->gpu, e->factor);
        return 0;
    case MOEMAP_EVENT_LOST: {
        if (!itermodel_alive(st->im, e->gpu))
            return 0;
        recal_action a;
        rc = recal_repair_lost(st->rc, e->gpu, &a, err);
        if (rc)
            return rc;
        return account(acc, st->m, t, &a) ? moemap_error_set(err, MOEMAP_ENOMEM, "out of memory")
                                          : 0;
    }
    }
    return 0;
}

int moemap_simulate(const moemap_model *model, const moemap_cluster *cluster,
                    const moemap_placement *placement, const moemap_loads *loads,
                    const moemap_arrivals *arrivals, const moemap_sim_params *params,
                    moemap_sim_result **out, moemap_error *err)
{
    int rc = check_params(params, cluster, err);
    if (rc)
        return rc;
    if (!arrivals || arrivals->n < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "no requests to simulate");
    /* The model's shape must be the placement's and the loads': a 64-expert placement
     * run as DeepSeek-V3 (256) would simulate a model that does not exist. */
    if (model && placement && placement->experts != model->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the placement has %d experts per layer, model %s has %d",
                                placement->experts, model->name ? model->name : "(unnamed)",
                                model->experts);
    if (model && loads && loads->experts != model->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the loads have %d experts per layer, model %s has %d",
                                loads->experts, model->name ? model->name : "(unnamed)",
                                model->experts);
    sim_state st = {0};
    moemap_sim_result acc = {0};
    if ((rc = itermodel_create(model, cluster, placement, loads, params, &st.im, err)) ||
        (rc = scheduler_create(arrivals, params, &st.s, err)) ||
        (rc = recal_create(params, model, cluster, st.im, &st.rc, err)) ||
        (rc = metrics_create(params, cluster->num_gpus, &st.m, err)))
        goto done;
    st.ev = moemap_malloc((size_t)(params->num_events + 1) * sizeof *st.ev);
    if (!st.ev) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < params->num_events; i++)
        st.ev[i] = &params->events[i];
    qsort(st.ev, (size_t)params->num_events, sizeof *st.ev, cmp_event);

    moemap_rng rng;
    moemap_rng_seed(&rng, params->seed);
    double t = 0, horizon = params->horizon_s > 0 ? params->horizon_s : INFINITY;
    long it = 0, next_ev = 0, step = arrivals->n / 100 > 0 ? arrivals->n / 100 : 1;
    long last_report = -1;
    for (;;) {
        double next_arrival = scheduler_admit(st.s, t);
        while (next_ev < params->num_events && st.ev[next_ev]->time_s <= t) {
            if ((rc = apply_event(&st, st.ev[next_ev], t, &acc, err)))
                goto done;
            next_ev++;
        }
        if (t >= horizon)
            break;
        sim_batch b;
        if (!scheduler_form(st.s, &b)) {
            /* Idle: jump to the next arrival or event. */
            double nt = next_arrival;
            if (next_ev < params->num_events && st.ev[next_ev]->time_s < nt)
                nt = st.ev[next_ev]->time_s;
            if (!isfinite(nt))
                break;
            t = nt > t ? nt : t;
            continue;
        }
        sim_iter r;
        itermodel_eval(st.im, &b, &rng, metrics_idle(st.m), &r);
        t += r.time_s;
        it++;
        scheduler_commit(st.s, t, on_first, st.m);
        metrics_iteration(st.m, t, &r, scheduler_tokens_out(st.s));
        recal_record(st.rc, &r);
        recal_action a;
        if ((rc = recal_step(st.rc, it, &a, err)))
            goto done;
        if (a.changed) {
            t += a.stall_s; /* weights move before the next forward */
            if (account(&acc, st.m, t, &a)) {
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
                goto done;
            }
        } else if (a.why[0] && metrics_marker(st.m, t, a.why)) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
            goto done;
        }
        long arrived = scheduler_arrived(st.s);
        if (params->progress && arrived / step != last_report) {
            last_report = arrived / step;
            params->progress(params->progress_ctx, "arrivals", arrived, arrivals->n);
        }
    }
    long n;
    const sim_req *reqs = scheduler_requests(st.s, &n);
    double end = isfinite(horizon) ? horizon : t;
    if ((rc = metrics_finish(st.m, reqs, n, end, it, out, err)))
        goto done;
    (*out)->migration_bytes = acc.migration_bytes;
    (*out)->migration_stall_s = acc.migration_stall_s;
    (*out)->replicas_moved = acc.replicas_moved;
    (*out)->recalibrations = acc.recalibrations;
done:
    state_free(&st);
    return rc;
}
