/*
 * recal.c — recalibration policies that run inside the simulation, and what they pay.
 *
 *  none      keeps the initial placement (only a lost GPU forces a repair).
 *  periodic  every recal_interval iterations re-runs a strategy (default eplb) from
 *            scratch on the loads of the last recal_window iterations, blind to GPU
 *            speeds — what vLLM and SGLang do with EPLB.
 *  drift     ViBE: every recal_interval/4 iterations compares the recent per-layer load
 *            vector with the one the placement was made for (cosine distance) and the
 *            measured per-GPU speeds with the profiled ones; past drift_threshold it makes
 *            up to drift_swaps swaps per layer between the slowest and the fastest GPU.
 *  moemap    same trigger check, then migration-aware re-placement (moemap_place with the
 *            current placement as previous, max_moves and a move cost) on the recent
 *            loads and measured speeds; applied only when the predicted saving over the
 *            coming interval exceeds the migration stall. After a move it checks again at
 *            the next check without waiting for new drift, since max_moves may have
 *            stopped it short of what pays; it also looks at its first check.
 *
 * Moves pay weight bytes over the link (intra-node bandwidth when a copy of the expert
 * is on the destination's node, else the migration link) and the engine stalls for the
 * transfer: the busiest receiving GPU's transfer time over all layers, as the engines
 * copy weights before the next forward.
 *
 * This file keeps only the triggers and the timing (when to look, when a move pays); the
 * algorithms are the library's online rebalancing (src/place/rebalance.c,
 * moemap/rebalance.h): the swaps, the repair after a loss, the migration cost and the
 * cluster at measured speeds.
 *
 * "Measured speeds" are the true current GPU factors: an engine timing its kernels over
 * a window of hundreds of iterations averages the jitter out.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/place.h"
#include "moemap/rebalance.h"

#define MAX_WINDOW_BATCHES 64

struct recal {
    moemap_sim_params params;
    const moemap_model *model;
    const moemap_cluster *cluster;
    itermodel *im;
    double expert_bytes;
    double link_GBps, intra_GBps; /* migration link, within a node (0: the link's) */
    double link_Bps;
    int W;                  /* ring capacity */
    int *ring_b;            /* [W] batch sampled */
    double *ring_s;         /* [W] scale */
    long nrec;
    const moemap_loads *ring_loads; /* workload the ring's batches index */
    double *ref;            /* [L * E] load vector the placement was made for */
    double *ref_speed;      /* [G] speeds it was made for */
    double *win;            /* [L * E] scratch: recent mean counts per iteration */
    int improving;          /* moemap: the last check moved, look again next time */
};

void recal_free(recal *r)
{
    if (!r)
        return;
    moemap_free(r->ring_b);
    moemap_free(r->ring_s);
    moemap_free(r->ref);
    moemap_free(r->ref_speed);
    moemap_free(r->win);
    moemap_free(r);
}

int recal_create(const moemap_sim_params *params, const moemap_model *model,
                 const moemap_cluster *cluster, itermodel *im, recal **out,
                 moemap_error *err)
{
    recal *r = moemap_calloc(1, sizeof *r);
    if (!r)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    r->params = *params;
    r->model = model;
    r->cluster = cluster;
    r->im = im;
    r->expert_bytes = 3.0 * model->hidden * (double)model->expert_intermediate *
                      (model->dtype_bytes > 0 ? model->dtype_bytes : 2);
    double link = params->link_GBps > 0 ? params->link_GBps : cluster->inter_node_GBps;
    r->link_GBps = link > 0 ? link : 25.0;
    r->link_Bps = r->link_GBps * 1e9;
    r->intra_GBps = cluster->intra_node_GBps > 0 ? cluster->intra_node_GBps : 0;
    r->W = params->recal_window > 0 ? params->recal_window : 500;
    int L = itermodel_moe_layers(im), G = cluster->num_gpus;
    int E = itermodel_placement(im)->experts;
    r->ring_b = moemap_malloc((size_t)r->W * sizeof *r->ring_b);
    r->ring_s = moemap_malloc((size_t)r->W * sizeof *r->ring_s);
    r->ref = moemap_calloc((size_t)L * E, sizeof *r->ref);
    r->win = moemap_calloc((size_t)L * E, sizeof *r->win);
    r->ref_speed = moemap_malloc((size_t)G * sizeof *r->ref_speed);
    if (!r->ring_b || !r->ring_s || !r->ref || !r->win || !r->ref_speed) {
        recal_free(r);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    /* The initial placement was made for the whole workload at profiled speeds. */
    const moemap_loads *ld = itermodel_loads(im);
    for (int l = 0; l < L; l++)
        moemap_loads_layer_total(ld, itermodel_loads_entry(im, l), &r->ref[(size_t)l * E]);
    for (int g = 0; g < G; g++)
        r->ref_speed[g] = 1.0;
    r->ring_loads = ld;
    /* moemap looks once at its first check even without drift: the placement it was
     * given may not be the best for this cluster, and it moves only when that pays. */
    r->improving = params->policy == MOEMAP_RECAL_MOEMAP;
    *out = r;
    return 0;
}

void recal_record(recal *r, const sim_iter *it)
{
    if (r->ring_loads != itermodel_loads(r->im)) {
        /* Workload switched: batch indices refer to the new one from now on. */
        r->ring_loads = itermodel_loads(r->im);
        r->nrec = 0;
    }
    r->ring_b[r->nrec % r->W] = it->batch;
    r->ring_s[r->nrec % r->W] = it->scale;
    r->nrec++;
}

/* Mean counts per iteration over the recorded window into r->win; returns the number of
 * iterations it covers. */
static long window_mean(recal *r)
{
    int L = itermodel_moe_layers(r->im), E = itermodel_placement(r->im)->experts;
    const moemap_loads *ld = itermodel_loads(r->im);
    long n = r->nrec < r->W ? r->nrec : r->W;
    memset(r->win, 0, (size_t)L * E * sizeof *r->win);
    for (long i = 0; i < n; i++) {
        int b = r->ring_b[i];
        double s = r->ring_s[i] / (double)n;
        for (int l = 0; l < L; l++) {
            const double *c = &MOEMAP_LOADS_AT(ld, b, itermodel_loads_entry(r->im, l), 0);
            double *w = &r->win[(size_t)l * E];
            for (int e = 0; e < E; e++)
                w[e] += c[e] * s;
        }
    }
    return n;
}

/* The recorded window as a workload (at most MAX_WINDOW_BATCHES evenly spaced
 * iterations), with the placement's layer ids, for moemap_place. */
static int window_loads(recal *r, moemap_loads **out, moemap_error *err)
{
    const moemap_placement *p = itermodel_placement(r->im);
    const moemap_loads *ld = itermodel_loads(r->im);
    int L = p->num_layers, E = p->experts;
    long n = r->nrec < r->W ? r->nrec : r->W;
    int nb = n < MAX_WINDOW_BATCHES ? (int)n : MAX_WINDOW_BATCHES;
    moemap_loads *w;
    int rc = moemap_loads_create(E, ld->top_k, L, nb, &w, err);
    if (rc)
        return rc;
    for (int l = 0; l < L; l++)
        w->layer_ids[l] = p->layers[l].layer;
    for (int k = 0; k < nb; k++) {
        long i = (long)k * n / nb;
        int b = r->ring_b[i];
        double s = r->ring_s[i];
        w->batch_tokens[k] = ld->batch_tokens[b] * s;
        for (int l = 0; l < L; l++) {
            const double *c = &MOEMAP_LOADS_AT(ld, b, itermodel_loads_entry(r->im, l), 0);
            for (int e = 0; e < E; e++)
                MOEMAP_LOADS_AT(w, k, l, e) = c[e] * s;
        }
    }
    *out = w;
    return 0;
}

/* Mean over layers of the cosine distance between the window and the reference. */
static double load_drift(recal *r)
{
    int L = itermodel_moe_layers(r->im), E = itermodel_placement(r->im)->experts;
    double d = 0;
    for (int l = 0; l < L; l++) {
        const double *a = &r->win[(size_t)l * E], *b = &r->ref[(size_t)l * E];
        double ab = 0, aa = 0, bb = 0;
        for (int e = 0; e < E; e++) {
            ab += a[e] * b[e];
            aa += a[e] * a[e];
            bb += b[e] * b[e];
        }
        d += aa > 0 && bb > 0 ? 1.0 - ab / sqrt(aa * bb) : 0;
    }
    return L > 0 ? d / L : 0;
}

static double speed_drift(recal *r)
{
    double mx = 0;
    for (int g = 0; g < r->cluster->num_gpus; g++) {
        if (!itermodel_alive(r->im, g))
            continue;
        double d = fabs(itermodel_factor(r->im, g) / r->ref_speed[g] - 1.0);
        if (d > mx)
            mx = d;
    }
    return mx;
}

static void remember(recal *r)
{
    int L = itermodel_moe_layers(r->im), E = itermodel_placement(r->im)->experts;
    memcpy(r->ref, r->win, (size_t)L * E * sizeof *r->ref);
    for (int g = 0; g < r->cluster->num_gpus; g++)
        r->ref_speed[g] = itermodel_factor(r->im, g);
}

/* Predicted MoE seconds per iteration of placement p on the window mean, at the current
 * measured speeds. */
static double predicted(recal *r, const moemap_placement *p)
{
    int E = p->experts, G = r->cluster->num_gpus;
    double *est = moemap_malloc((size_t)G * sizeof *est), t = 0;
    double *tg = moemap_malloc((size_t)G * sizeof *tg);
    if (!est || !tg) {
        moemap_free(est);
        moemap_free(tg);
        return INFINITY;
    }
    for (int g = 0; g < G; g++)
        est[g] = itermodel_factor(r->im, g);
    for (int l = 0; l < p->num_layers; l++)
        t += itermodel_layer_times(r->im, &p->layers[l], &r->win[(size_t)l * E], est, tg);
    moemap_free(est);
    moemap_free(tg);
    return t;
}

/* What moving from the current placement to np costs (moemap_rebalance_migration_cost). */
static int migration_cost(const recal *r, const moemap_placement *np, moemap_rebalance_cost *mc,
                          moemap_error *err)
{
    return moemap_rebalance_migration_cost(itermodel_placement(r->im), np, r->cluster,
                                           itermodel_alive_mask(r->im), r->expert_bytes,
                                           r->link_GBps, r->intra_GBps, mc, err);
}

static int apply(recal *r, const moemap_placement *np, recal_action *act, moemap_error *err)
{
    moemap_rebalance_cost mc;
    int rc = migration_cost(r, np, &mc, err);
    if (rc)
        return rc;
    act->bytes = mc.bytes;
    act->stall_s = mc.stall_s;
    act->moves = mc.moves;
    rc = itermodel_set_placement(r->im, np, err);
    if (rc)
        return rc;
    act->changed = 1;
    remember(r);
    return 0;
}

/* Runs moemap_place on the window; *out is the new placement. */
static int run_place(recal *r, const char *strategy, int speed_aware, int migration_aware,
                     moemap_placement **out, moemap_error *err)
{
    moemap_loads *w = NULL;
    moemap_cluster *c = NULL;
    int rc = window_loads(r, &w, err);
    if (!rc)
        rc = moemap_rebalance_cluster(r->cluster, speed_aware ? itermodel_factors(r->im) : NULL,
                                      itermodel_alive_mask(r->im), &c, err);
    if (!rc) {
        moemap_place_params pp = moemap_place_default_params();
        pp.strategy = strategy;
        pp.seed = r->params.seed;
        pp.time_limit_s = 0.05; /* search budget per re-placement: keeps the simulation fast */
        /* counted in evaluations, not seconds: a simulation is the same for a seed on any
         * machine and load (under a sanitizer too) */
        pp.deterministic = 1;
        pp.expert_bytes = r->expert_bytes;
        pp.a2a = r->params.a2a; /* balance what the simulator times */
        if (migration_aware) {
            pp.previous = itermodel_placement(r->im);
            pp.max_moves = r->params.moemap_max_moves;
            /* us of stall per GB moved, spread over the iterations of one interval. */
            pp.move_cost_us_per_gb = 1e9 / r->link_Bps * 1e6 /
                                     (r->params.recal_interval > 0 ? r->params.recal_interval : 1);
        }
        rc = moemap_place(w, c, &pp, out, err);
        if (rc)
            moemap_error_prefix(err, "recalibration (%s)", strategy);
    }
    moemap_loads_free(w);
    moemap_cluster_free(c);
    return rc;
}

/* A re-placement the strategy refuses (e.g. too few slots left after a GPU loss) leaves
 * the engine serving with what it has, as a real one would: noted, not fatal. Running
 * out of memory stays fatal. */
static int skipped(recal_action *act, int rc, moemap_error *err)
{
    if (rc == MOEMAP_ENOMEM)
        return rc;
    snprintf(act->why, sizeof act->why, "recalibration skipped: %.90s", err ? err->msg : "");
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    return 0;
}

int recal_step(recal *r, long iteration, recal_action *act, moemap_error *err)
{
    memset(act, 0, sizeof *act);
    moemap_recal_policy pol = r->params.policy;
    int interval = r->params.recal_interval > 0 ? r->params.recal_interval : 2000;
    if (pol == MOEMAP_RECAL_NONE || iteration <= 0 || r->nrec < 8)
        return 0;
    int every = pol == MOEMAP_RECAL_PERIODIC ? interval : (interval / 4 > 0 ? interval / 4 : 1);
    if (iteration % every != 0)
        return 0;
    window_mean(r);
    moemap_placement *np = NULL;
    int rc = 0;
    if (pol == MOEMAP_RECAL_PERIODIC) {
        if ((rc = run_place(r, r->params.strategy ? r->params.strategy : "eplb", 0, 0, &np,
                            err)))
            return skipped(act, rc, err);
        snprintf(act->why, sizeof act->why, "periodic: %s re-placement",
                 r->params.strategy ? r->params.strategy : "eplb");
        rc = apply(r, np, act, err);
        moemap_placement_free(np);
        return rc;
    }
    double ld = load_drift(r), sd = speed_drift(r), th = r->params.drift_threshold;
    if (ld <= th && sd <= th && !(pol == MOEMAP_RECAL_MOEMAP && r->improving))
        return 0;
    if (pol == MOEMAP_RECAL_DRIFT) {
        if ((rc = moemap_rebalance_swaps(itermodel_placement(r->im), r->cluster, r->win,
                                         itermodel_factors(r->im), itermodel_alive_mask(r->im),
                                         r->params.drift_swaps, &np, err)))
            return rc;
        snprintf(act->why, sizeof act->why, "drift: swaps (load drift %.3f, speed drift %.3f)",
                 ld, sd);
        rc = apply(r, np, act, err);
        moemap_placement_free(np);
        return rc;
    }
    /* moemap: re-place migration-aware, keep it only when it pays for itself. */
    if ((rc = run_place(r, "moemap", 1, 1, &np, err)))
        return skipped(act, rc, err);
    double cur = predicted(r, itermodel_placement(r->im)), nxt = predicted(r, np);
    moemap_rebalance_cost mc;
    if ((rc = migration_cost(r, np, &mc, err))) {
        moemap_placement_free(np);
        return rc;
    }
    double saving = (cur - nxt) * interval;
    if (mc.moves > 0 && saving > mc.stall_s) {
        snprintf(act->why, sizeof act->why,
                 "moemap: %ld moves, saving %.3f s over %d iterations > stall %.3f s", mc.moves,
                 saving, interval, mc.stall_s);
        rc = apply(r, np, act, err);
        r->improving = 1; /* max_moves may have cut it short: re-check next interval */
    } else {
        remember(r); /* the drift is acknowledged; staying put is the decision */
        r->improving = 0;
    }
    moemap_placement_free(np);
    return rc;
}

int recal_repair_lost(recal *r, int gpu, recal_action *act, moemap_error *err)
{
    memset(act, 0, sizeof *act);
    moemap_placement *p;
    int rc = moemap_rebalance_repair_lost(itermodel_placement(r->im), r->cluster,
                                          itermodel_alive_mask(r->im), gpu, &p, err);
    if (rc)
        return rc;
    itermodel_set_lost(r->im, gpu);
    snprintf(act->why, sizeof act->why, "GPU %d lost: orphaned experts re-homed", gpu);
    rc = apply(r, p, act, err);
    moemap_placement_free(p);
    return rc;
}
