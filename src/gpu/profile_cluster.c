/*
 * profile_cluster.c — turning a profile into a moemap.cluster/v1 cluster (and freeing
 * profile results). The cluster keeps to the contract (each GPU's own fitted curve, cv,
 * name, node, sm_limit); everything else a reader may want to check the measurement
 * against — the command, machine, date, CUDA version, per-point medians and spreads, the
 * cuBLASLt choices, the weight-read floor, NVML readings and the grouped layer — goes into
 * the "source" object, which the cluster reader keeps verbatim.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "json_util.h"
#include "profile_internal.h"

void mm_profile_gpu_clear(moemap_profile_gpu *g)
{
    moemap_free(g->points);
    moemap_free(g->samples_tokens);
    moemap_free(g->samples_us);
    moemap_free(g->group_tokens);
    moemap_curve_clear(&g->curve);
    g->points = NULL;
    g->samples_tokens = g->samples_us = NULL;
    g->group_tokens = NULL;
}

void moemap_profile_result_free(moemap_profile_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->num_gpus; i++)
        mm_profile_gpu_clear(&r->gpus[i]);
    moemap_free(r->gpus);
    moemap_free(r);
}

/* json_object_set_new that remembers a failure (allocation) instead of checking each. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o || !v || json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

static void push(json_t *a, json_t *v, int *bad)
{
    if (!a || !v || json_array_append_new(a, v) != 0)
        *bad = 1;
}

static json_t *gpu_details(const moemap_profile_gpu *g, int *bad)
{
    json_t *o = json_object();
    put(o, "device", json_integer(g->device), bad);
    put(o, "host", json_string(g->host), bad);
    put(o, "pci_bus_id", json_string(g->pci_bus_id), bad);
    put(o, "sm_total", json_integer(g->sm_total), bad);
    put(o, "sm_requested", json_integer(g->sm_requested), bad);
    put(o, "l2_mb", mm_json_real(g->l2_mb, 4), bad);
    put(o, "weight_sets", json_integer(g->weight_sets), bad);
    put(o, "copy_GBps", mm_json_real(g->copy_GBps, 5), bad);
    put(o, "floor_us", mm_json_real(g->floor_us, 4), bad);
    put(o, "seconds", mm_json_real(g->seconds, 4), bad);
    json_t *pts = json_object();
    json_t *t = json_array(), *med = json_array(), *mn = json_array(), *mx = json_array(),
           *cv = json_array(), *cand = json_array(), *r1 = json_array(), *r2 = json_array();
    for (int i = 0; i < g->num_points; i++) {
        const moemap_profile_point *p = &g->points[i];
        push(t, json_integer(p->tokens), bad);
        push(med, mm_json_real(p->median_us, 5), bad);
        push(mn, mm_json_real(p->min_us, 5), bad);
        push(mx, mm_json_real(p->max_us, 5), bad);
        push(cv, mm_json_real(p->cv, 4), bad);
        push(cand, json_integer(p->candidates), bad);
        push(r1, json_integer(p->rank_gate_up), bad);
        push(r2, json_integer(p->rank_down), bad);
    }
    put(pts, "tokens", t, bad);
    put(pts, "median_us", med, bad);
    put(pts, "min_us", mn, bad);
    put(pts, "max_us", mx, bad);
    put(pts, "cv", cv, bad);
    put(pts, "cublaslt_candidates", cand, bad);
    put(pts, "algo_rank_gate_up", r1, bad);
    put(pts, "algo_rank_down", r2, bad);
    put(o, "points", pts, bad);
    json_t *fit = json_object();
    put(fit, "samples", json_integer(g->fit.samples), bad);
    put(fit, "monotone_fixes", json_integer(g->fit.monotone_fixes), bad);
    put(fit, "outliers", json_integer(g->fit.outliers), bad);
    put(fit, "max_rel_err", mm_json_real(g->fit.max_rel_err, 4), bad);
    put(fit, "r2", mm_json_real(g->fit.r2, 6), bad);
    put(o, "fit", fit, bad);
    if (g->num_group > 0) {
        json_t *grp = json_object(), *gt = json_array();
        for (int e = 0; e < g->num_group; e++)
            push(gt, json_integer(g->group_tokens[e]), bad);
        put(grp, "tokens", gt, bad);
        put(grp, "measured_us", mm_json_real(g->group_measured_us, 5), bad);
        put(grp, "predicted_us", mm_json_real(g->group_predicted_us, 5), bad);
        put(grp, "measured_over_predicted",
            mm_json_real(g->group_predicted_us > 0
                             ? g->group_measured_us / g->group_predicted_us : 0, 4), bad);
        put(grp, "cv", mm_json_real(g->group_cv, 4), bad);
        put(o, "grouped_layer", grp, bad);
    }
    if (g->nvml_samples > 0) {
        json_t *n = json_object();
        put(n, "samples", json_integer(g->nvml_samples), bad);
        put(n, "sm_clock_mhz_mean", mm_json_real(g->sm_clock_mhz_mean, 5), bad);
        put(n, "sm_clock_mhz_min", mm_json_real(g->sm_clock_mhz_min, 5), bad);
        put(n, "sm_clock_mhz_max", mm_json_real(g->sm_clock_mhz_max, 5), bad);
        put(n, "power_w_mean", mm_json_real(g->power_w_mean, 4), bad);
        put(n, "power_w_max", mm_json_real(g->power_w_max, 4), bad);
        put(n, "power_limit_w", mm_json_real(g->power_limit_w, 4), bad);
        put(n, "temp_c_mean", mm_json_real(g->temp_c_mean, 3), bad);
        put(n, "temp_c_max", mm_json_real(g->temp_c_max, 3), bad);
        put(o, "nvml", n, bad);
    } else {
        put(o, "nvml", json_string("no readings (NVML not available)"), bad);
    }
    return o;
}

static char *source_text(const moemap_profile_result *r, const char *command, int *bad)
{
    json_t *s = json_object();
    struct utsname u;
    char machine[512] = "unknown";
    if (uname(&u) == 0)
        snprintf(machine, sizeof machine, "%s (%s %s, %s)", u.nodename, u.sysname, u.release,
                 u.machine);
    put(s, "tool", json_string("moemap profile"), bad);
    put(s, "command", json_string(command ? command : ""), bad);
    put(s, "machine", json_string(machine), bad);
    put(s, "date", json_string(r->date), bad);
    put(s, "cuda", json_string(r->cuda_version), bad);
    put(s, "repeats", json_integer(r->repeats), bad);
    put(s, "rounds", json_integer(r->rounds), bad);
    put(s, "warmup", json_integer(r->warmup), bad);
    put(s, "settle_s", json_real(r->settle_s), bad);
    put(s, "seconds", mm_json_real(r->seconds, 4), bad);
    put(s, "network", json_string("nominal (NVLink 450 GB/s in a node, 50 GB/s between "
                                  "nodes, 10 us): not measured by the profiler"), bad);
    json_t *gpus = json_array();
    for (int i = 0; i < r->num_gpus; i++)
        push(gpus, gpu_details(&r->gpus[i], bad), bad);
    put(s, "gpus", gpus, bad);
    char *text = *bad ? NULL : json_dumps(s, JSON_COMPACT);
    json_decref(s);
    if (!text)
        *bad = 1;
    return text;
}

int moemap_profile_to_cluster(const moemap_profile_result *r, const char *command,
                              moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    if (!r || r->num_gpus < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "profile has no GPUs");
    moemap_cluster *c;
    int rc = moemap_cluster_create(r->num_gpus, &c, err);
    if (rc)
        return rc;
    c->hidden = r->hidden;
    c->intermediate = r->intermediate;
    snprintf(c->dtype, sizeof c->dtype, "%s", r->dtype);
    c->intra_node_GBps = MOEMAP_NET_INTRA_NODE_GBPS;
    c->inter_node_GBps = MOEMAP_NET_INTER_NODE_GBPS;
    c->latency_us = MOEMAP_NET_LATENCY_US;
    /* The base curve is the first whole (not SM-limited) GPU's, so a consumer that scales
     * it by a speed starts from real hardware. */
    int base = 0;
    for (int i = r->num_gpus - 1; i >= 0; i--)
        if (r->gpus[i].sm_limit == 0)
            base = i;
    if ((rc = moemap_curve_copy(&r->gpus[base].curve, &c->base, err)))
        goto fail;
    const moemap_curve *bc = &r->gpus[base].curve;
    double nmax = bc->n > 0 ? bc->tokens[bc->n - 1] : 1;
    for (int i = 0; i < r->num_gpus; i++) {
        const moemap_profile_gpu *pg = &r->gpus[i];
        moemap_gpu *g = &c->gpus[i];
        g->node = pg->node;
        snprintf(g->name, sizeof g->name, "%s", pg->name);
        g->sm_limit = pg->sm_limit;
        g->slots = 0;
        if ((rc = moemap_curve_copy(&pg->curve, &g->curve, err)))
            goto fail;
        /* Speed at the compute-bound end relative to the base GPU (informative: the GPU's
         * own curve is what the cost model uses). */
        double own = moemap_curve_eval(&pg->curve, nmax);
        g->speed = own > 0 ? moemap_curve_eval(bc, nmax) / own : 1.0;
    }
    int bad = 0;
    char *src = source_text(r, command, &bad);
    if (bad) {
        free(src);
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (profile source)");
        goto fail;
    }
    rc = moemap_cluster_set_source(c, src, err);
    free(src);
    if (rc || (rc = moemap_cluster_finalize(c, err)))
        goto fail;
    *out = c;
    return MOEMAP_OK;
fail:
    moemap_cluster_free(c);
    return rc;
}
