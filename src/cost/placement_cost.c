/*
 * placement_cost.c — the predicted cost of a whole placement over real batches (see
 * cost_internal.h): per layer and batch the straggler time and the lower bounds, then
 * their distributions per layer and for the whole model (a batch's model time is the sum
 * of its layers' stragglers). moemap_place records it as "predicted" and
 * moemap_eval_placement returns it (adding the moves from a previous placement), so both
 * compute it here, below placement.
 */
#include "moemap/eval.h"

#include <stdio.h>
#include <string.h>

#include "base_util.h"
#include "bound_internal.h"
#include "cost_internal.h"

void moemap_eval_summary_free(moemap_eval_summary *s)
{
    if (!s)
        return;
    moemap_free(s->batch_us);
    moemap_free(s->batch_bound_us);
    moemap_free(s->batch_layer_us);
    moemap_free(s->layers);
    moemap_free(s->layer_gpu_us);
    moemap_free(s);
}

void mm_cost_bounds_clear(mm_cost_bounds *b)
{
    moemap_free(b->per_batch);
    moemap_free(b->fixed);
    b->per_batch = b->fixed = NULL;
}

int mm_cost_bounds_compute(const moemap_loads *loads, const moemap_cluster *c, int slots,
                           double deadline, mm_cost_bounds *out, moemap_error *err)
{
    out->per_batch = out->fixed = NULL;
    out->num_layers = loads->num_layers;
    out->num_batches = loads->num_batches;
    out->experts = loads->experts;
    moemap_bound *bound = NULL;
    int rc = moemap_bound_create(c, slots, &bound, err);
    if (!rc)
        rc = mm_bound_loads(bound, loads, &out->per_batch, err);
    int L = loads->num_layers, B = loads->num_batches;
    if (!rc && !(out->fixed = moemap_calloc((size_t)(L > 0 ? L : 1), sizeof *out->fixed)))
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eval: out of memory");
    for (int l = 0; !rc && l < L; l++) {
        /* each layer's LP gets an even share of what is left before the deadline */
        int tm_ms = 2000;
        if (deadline > 0) {
            double left = (deadline - mm_now_s()) / (L - l);
            if (left < 0.001) { /* out of time: the per-batch mean, no LP built */
                double m = 0;
                for (int b = 0; b < B; b++)
                    m += out->per_batch[(size_t)l * B + b];
                out->fixed[l] = B > 0 ? m / B : 0;
                continue;
            }
            tm_ms = (int)(left * 1e3) < 2000 ? (int)(left * 1e3) : 2000;
        }
        rc = mm_bound_scenario_layer_ms(bound, &MOEMAP_LOADS_AT(loads, 0, l, 0), B,
                                        (size_t)L * loads->experts, loads->experts,
                                        &out->per_batch[(size_t)l * B], tm_ms, &out->fixed[l],
                                        err);
    }
    moemap_bound_free(bound);
    if (rc)
        mm_cost_bounds_clear(out);
    return rc;
}

int mm_cost_check_placement(const moemap_loads *loads, const moemap_cluster *c,
                            const moemap_placement *p, moemap_error *err)
{
    if (p->num_gpus != c->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "placement is for %d gpus but the cluster has %d", p->num_gpus,
                                c->num_gpus);
    moemap_error first = {0};
    if (moemap_placement_check_loads(p, loads, mm_keep_first_problem, &first) > 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s", first.msg);
    return 0;
}

int mm_cost_placement(const moemap_loads *loads, const moemap_cluster *c,
                      const moemap_placement *p, const moemap_eval_params *params,
                      const mm_cost_bounds *given, moemap_eval_summary **out,
                      moemap_error *err)
{
    *out = NULL;
    moemap_eval_params defaults;
    memset(&defaults, 0, sizeof defaults);
    if (!params)
        params = &defaults;
    int rc = mm_cost_check_placement(loads, c, p, err);
    if (rc)
        return rc;
    int B = loads->num_batches, G = c->num_gpus;
    moemap_eval_summary *s = moemap_calloc(1, sizeof *s);
    mm_cost_bounds own = {NULL, NULL, 0, 0, 0};
    const mm_cost_bounds *bd = given;
    double *lay_us = moemap_malloc((size_t)(B > 0 ? B : 1) * sizeof *lay_us);
    double *gpu_us = moemap_malloc((size_t)G * sizeof *gpu_us);
    double *a2a_us = moemap_malloc((size_t)G * sizeof *a2a_us);
    double *whole_us = moemap_malloc((size_t)(B > 0 ? B : 1) * sizeof *whole_us);
    double *scratch = moemap_malloc((size_t)loads->experts * sizeof *scratch);
    double ebound_sum = 0;
    if (!s || !lay_us || !gpu_us || !a2a_us || !whole_us || !scratch) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eval: out of memory");
        goto done;
    }
    snprintf(s->strategy, sizeof s->strategy, "%s", p->strategy);
    s->num_batches = B;
    s->batch_us = moemap_calloc((size_t)(B > 0 ? B : 1), sizeof *s->batch_us);
    s->batch_bound_us = moemap_calloc((size_t)(B > 0 ? B : 1), sizeof *s->batch_bound_us);
    s->batch_layer_us = moemap_calloc((size_t)(B > 0 ? B : 1), sizeof *s->batch_layer_us);
    s->layers = moemap_calloc((size_t)(p->num_layers > 0 ? p->num_layers : 1), sizeof *s->layers);
    s->num_gpus = G;
    s->layer_gpu_us = moemap_calloc((size_t)(p->num_layers > 0 ? p->num_layers : 1) * (size_t)G,
                                    sizeof *s->layer_gpu_us);
    if (!s->batch_us || !s->batch_bound_us || !s->batch_layer_us || !s->layers ||
        !s->layer_gpu_us) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eval: out of memory");
        goto done;
    }
    if (!bd && !params->no_bound) {
        rc = mm_cost_bounds_compute(loads, c, params->slots, 0, &own, err);
        if (rc)
            goto done;
        bd = &own;
    }
    s->moved = -1; /* the caller with a previous placement counts the moves */
    double imb_sum = 0;
    long imb_n = 0;
    for (int l = 0; l < loads->num_layers; l++) {
        const moemap_layer_placement *lp = mm_placement_layer(p, loads->layer_ids[l]);
        if (!lp)
            continue; /* a layer without tokens (checked above) */
        moemap_eval_layer *el = &s->layers[s->num_layers++];
        el->layer = lp->layer;
        el->replicas = lp->num_replicas;
        s->replicas += lp->num_replicas;
        double bsum = 0, esum = 0, limb = 0, a2a_sum = 0;
        int limb_n = 0;
        for (int b = 0; b < B; b++) {
            const double *cnt = &MOEMAP_LOADS_AT(loads, b, l, 0);
            double t = moemap_eval_layer_batch(c, lp, cnt, loads->experts, gpu_us);
            double lb = bd ? bd->per_batch[(size_t)l * B + b] : 0;
            lay_us[b] = t;
            s->batch_us[b] += t;
            /* the whole layer: each GPU's dispatch + compute + combine, its straggler */
            double dmax = moemap_a2a_layer_batch(c, lp, cnt, loads->experts,
                                                 loads->batch_tokens[b], &params->a2a, a2a_us);
            double whole = 0;
            for (int g = 0; g < G; g++)
                if (gpu_us[g] + 2 * a2a_us[g] > whole)
                    whole = gpu_us[g] + 2 * a2a_us[g];
            whole_us[b] = whole;
            s->batch_layer_us[b] += whole;
            a2a_sum += 2 * dmax;
            s->batch_bound_us[b] += lb;
            bsum += lb;
            if (params->engine_slots > 0) {
                double eb = moemap_bound_engine_layer_batch(c, params->engine_slots, cnt,
                                                            loads->experts, scratch);
                esum += eb > lb ? eb : lb;
            }
            double mean = 0, *lg = &s->layer_gpu_us[(size_t)(s->num_layers - 1) * G];
            for (int g = 0; g < G; g++) {
                mean += gpu_us[g];
                lg[g] += gpu_us[g] / B;
            }
            mean /= G;
            if (mean > 0) {
                limb += t / mean;
                limb_n++;
            }
        }
        el->mean_us = moemap_mean(lay_us, (size_t)B);
        el->p90_us = B ? moemap_quantile(lay_us, (size_t)B, 0.9) : 0;
        el->p99_us = B ? moemap_quantile(lay_us, (size_t)B, 0.99) : 0;
        el->layer_mean_us = moemap_mean(whole_us, (size_t)B);
        el->a2a_mean_us = B ? a2a_sum / B : 0;
        s->a2a_mean_us += el->a2a_mean_us;
        el->bound_mean_us = B ? bsum / B : 0;
        el->engine_bound_mean_us = B ? esum / B : 0;
        ebound_sum += el->engine_bound_mean_us;
        el->gap = el->bound_mean_us > 0 ? el->mean_us / el->bound_mean_us - 1 : 0;
        el->imbalance = limb_n ? limb / limb_n : 1.0;
        el->fixed_bound_mean_us = bd ? bd->fixed[l] : 0;
        el->fixed_gap = el->fixed_bound_mean_us > 0 ? el->mean_us / el->fixed_bound_mean_us - 1
                                                    : 0;
        s->fixed_bound_mean_us += el->fixed_bound_mean_us;
        imb_sum += limb;
        imb_n += limb_n;
    }
    s->mean_us = moemap_mean(s->batch_us, (size_t)B);
    s->p90_us = B ? moemap_quantile(s->batch_us, (size_t)B, 0.9) : 0;
    s->p99_us = B ? moemap_quantile(s->batch_us, (size_t)B, 0.99) : 0;
    s->layer_mean_us = moemap_mean(s->batch_layer_us, (size_t)B);
    s->layer_p90_us = B ? moemap_quantile(s->batch_layer_us, (size_t)B, 0.9) : 0;
    s->layer_p99_us = B ? moemap_quantile(s->batch_layer_us, (size_t)B, 0.99) : 0;
    s->bound_mean_us = moemap_mean(s->batch_bound_us, (size_t)B);
    s->bound_p90_us = B ? moemap_quantile(s->batch_bound_us, (size_t)B, 0.9) : 0;
    s->engine_bound_mean_us = ebound_sum; /* layers add up, as the straggler times do */
    s->gap = s->bound_mean_us > 0 ? s->mean_us / s->bound_mean_us - 1 : 0;
    s->fixed_gap = s->fixed_bound_mean_us > 0 ? s->mean_us / s->fixed_bound_mean_us - 1 : 0;
    s->imbalance = imb_n ? imb_sum / imb_n : 1.0;
done:
    mm_cost_bounds_clear(&own);
    moemap_free(lay_us);
    moemap_free(gpu_us);
    moemap_free(a2a_us);
    moemap_free(whole_us);
    moemap_free(scratch);
    if (rc) {
        moemap_eval_summary_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
