/*
 * cluster.c — the cluster handle: creation, cloning, validation (finalize), each GPU's
 * cost f_g as a curve or compared between GPUs, and the cost of a GPU or a whole layer
 * for one batch.
 *
 * Finalize is the single place where a cluster's invariants are checked, whatever built
 * it (file reader, synthesiser, profiler, a test): afterwards the cost functions run
 * without checks, because they sit in the inner loops of placement and simulation. It
 * builds nothing: f_g is computed from the GPU's curve or the base curve and its speed on
 * each call, so no derived state can go stale after an edit.
 */
#include "moemap/cluster.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int moemap_cluster_create(int num_gpus, moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    if (num_gpus < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "a cluster needs at least one GPU (got %d)",
                                num_gpus);
    if (num_gpus > MOEMAP_MAX_GPUS)
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "%d GPUs is more than the limit of %d (docs/limits.md)",
                                num_gpus, MOEMAP_MAX_GPUS);
    moemap_cluster *c = moemap_calloc(1, sizeof *c);
    moemap_gpu *g = moemap_calloc((size_t)num_gpus, sizeof *g);
    if (!c || !g) {
        moemap_free(c);
        moemap_free(g);
        return moemap_error_set(err, MOEMAP_ENOMEM, "cluster of %d GPUs: out of memory",
                                num_gpus);
    }
    c->num_gpus = num_gpus;
    c->gpus = g;
    snprintf(c->dtype, sizeof c->dtype, "bf16");
    for (int i = 0; i < num_gpus; i++) {
        g[i].id = i;
        g[i].speed = 1.0;
    }
    *out = c;
    return 0;
}

void moemap_cluster_free(moemap_cluster *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->num_gpus; i++)
        moemap_curve_clear(&c->gpus[i].curve);
    moemap_curve_clear(&c->base);
    moemap_free(c->gpus);
    moemap_free(c->source_json);
    moemap_free(c);
}

int moemap_cluster_clone(const moemap_cluster *c, moemap_cluster **out, moemap_error *err)
{
    moemap_cluster *d;
    int rc = moemap_cluster_create(c->num_gpus, &d, err);
    if (rc)
        return rc;
    moemap_gpu *gpus = d->gpus;
    *d = *c;
    d->gpus = gpus;
    d->base = (moemap_curve){0};
    d->source_json = NULL;
    for (int i = 0; i < c->num_gpus; i++) {
        d->gpus[i] = c->gpus[i];
        d->gpus[i].curve = (moemap_curve){0};
    }
    rc = moemap_curve_copy(&c->base, &d->base, err);
    for (int i = 0; i < c->num_gpus && !rc; i++)
        rc = moemap_curve_copy(&c->gpus[i].curve, &d->gpus[i].curve, err);
    if (!rc && c->source_json)
        rc = moemap_cluster_set_source(d, c->source_json, err);
    if (rc) {
        moemap_cluster_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int moemap_cluster_set_source(moemap_cluster *c, const char *json_object_text,
                              moemap_error *err)
{
    char *s = NULL;
    if (json_object_text) {
        s = moemap_strdup(json_object_text);
        if (!s)
            return moemap_error_set(err, MOEMAP_ENOMEM, "cluster source: out of memory");
    }
    moemap_free(c->source_json);
    c->source_json = s;
    return 0;
}

/* Checks everything but the curves' points of one GPU; `i` is its index. */
static int check_gpu(const moemap_cluster *c, int i, moemap_error *err)
{
    const moemap_gpu *g = &c->gpus[i];
    if (g->id != i)
        return moemap_error_set(err, MOEMAP_EINVAL, "gpus[%d].id: %d, expected %d (ids are "
                                "the GPUs' indices 0..%d)", i, g->id, i, c->num_gpus - 1);
    if (g->node < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].node: %d must be >= 0", i,
                                g->node);
    if (g->slots < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].slots: %d must be >= 0", i,
                                g->slots);
    if (!isfinite(g->speed) || g->speed <= 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].speed: %g must be a finite "
                                "number > 0", i, g->speed);
    if (!isfinite(g->mem_gb) || g->mem_gb < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].mem_gb: %g must be >= 0", i,
                                g->mem_gb);
    if (g->sm_limit < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].sm_limit: %d must be >= 0", i,
                                g->sm_limit);
    if (!isfinite(g->curve.cv) || g->curve.cv < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].cv: %g must be finite and >= 0",
                                i, g->curve.cv);
    if (memchr(g->name, '\0', sizeof g->name) == NULL)
        return moemap_error_set(err, MOEMAP_EINVAL, "gpus[%d].name: not terminated", i);
    return 0;
}

int moemap_cluster_gpu_curve(const moemap_cluster *c, int g, moemap_curve *out,
                             moemap_error *err)
{
    const moemap_gpu *gpu = &c->gpus[g];
    int scaled = gpu->curve.n == 0;
    int rc = moemap_curve_copy(scaled ? &c->base : &gpu->curve, out, err);
    if (rc)
        return rc;
    for (int k = 0; scaled && k < out->n; k++)
        out->us[k] /= gpu->speed;
    out->cv = moemap_cluster_gpu_cv(c, g);
    return 0;
}

int moemap_cluster_same_cost(const moemap_cluster *c, int g, int h)
{
    const moemap_gpu *a = &c->gpus[g], *b = &c->gpus[h];
    /* Both on the base curve: the same speed is the same cost. */
    if (a->curve.n == 0 && b->curve.n == 0)
        return a->speed == b->speed;
    const moemap_curve *ca = a->curve.n > 0 ? &a->curve : &c->base;
    const moemap_curve *cb = b->curve.n > 0 ? &b->curve : &c->base;
    double da = a->curve.n > 0 ? 1.0 : a->speed, db = b->curve.n > 0 ? 1.0 : b->speed;
    if (ca->n != cb->n)
        return 0;
    for (int i = 0; i < ca->n; i++)
        if (ca->tokens[i] != cb->tokens[i] || ca->us[i] / da != cb->us[i] / db)
            return 0;
    return 1;
}

double moemap_dtype_bytes(const char *dtype)
{
    static const struct {
        const char *name;
        double bytes;
    } known[] = {{"bf16", 2}, {"fp16", 2}, {"fp32", 4}, {"fp8", 1},
                 {"int8", 1}, {"int4", 0.5}, {"mxfp4", 0.5}};
    for (size_t i = 0; dtype && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(dtype, known[i].name) == 0)
            return known[i].bytes;
    return 0;
}

double moemap_cluster_expert_bytes(const moemap_cluster *c)
{
    return 3.0 * c->hidden * c->intermediate * moemap_dtype_bytes(c->dtype);
}

int moemap_cluster_finalize(moemap_cluster *c, moemap_error *err)
{
    char what[64];
    if (c->num_gpus < 1 || !c->gpus)
        return moemap_error_set(err, MOEMAP_EINVAL, "cluster has no GPUs");
    if (c->hidden < 0 || c->intermediate < 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "expert: hidden %d / intermediate %d "
                                "must be >= 0", c->hidden, c->intermediate);
    if (memchr(c->dtype, '\0', sizeof c->dtype) == NULL)
        return moemap_error_set(err, MOEMAP_EINVAL, "expert.dtype: not terminated");
    if (moemap_dtype_bytes(c->dtype) == 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert.dtype: \"%s\" is not a known weight type (bf16, fp16, "
                                "fp32, fp8, int8, int4, mxfp4)", c->dtype);
    if (c->base.n > 0) {
        int rc = moemap_curve_check(&c->base, "base_curve", err);
        if (rc)
            return rc;
    }
    const double net[3] = {c->intra_node_GBps, c->inter_node_GBps, c->latency_us};
    const char *net_name[3] = {"intra_node_GBps", "inter_node_GBps", "latency_us"};
    for (int k = 0; k < 3; k++)
        if (!isfinite(net[k]) || net[k] < 0)
            return moemap_error_set(err, MOEMAP_ERANGE, "network.%s: %g must be >= 0",
                                    net_name[k], net[k]);
    for (int i = 0; i < c->num_gpus; i++) {
        moemap_gpu *g = &c->gpus[i];
        int rc = check_gpu(c, i, err);
        if (rc)
            return rc;
        if (g->curve.n > 0) {
            snprintf(what, sizeof what, "gpus[%d].curve", i);
            rc = moemap_curve_check(&g->curve, what, err);
            if (rc)
                return rc;
        } else if (c->base.n == 0) {
            return moemap_error_set(err, MOEMAP_EINVAL, "gpus[%d]: has no \"curve\" and the "
                                    "cluster has no \"base_curve\" to scale by its speed", i);
        } else {
            /* An extreme speed can push the scaled times past the range of a double. */
            for (int k = 0; k < c->base.n; k++)
                if (!isfinite(c->base.us[k] / g->speed))
                    return moemap_error_set(err, MOEMAP_ERANGE, "gpus[%d].speed: %g scales "
                                            "the base curve beyond the range of a double", i,
                                            g->speed);
        }
    }
    return 0;
}

int moemap_cluster_total_slots(const moemap_cluster *c)
{
    int s = 0;
    for (int i = 0; i < c->num_gpus; i++)
        s += c->gpus[i].slots;
    return s;
}

int moemap_cluster_num_nodes(const moemap_cluster *c)
{
    int nodes = 0;
    for (int g = 0; g < c->num_gpus; g++)
        if (c->gpus[g].node + 1 > nodes)
            nodes = c->gpus[g].node + 1;
    return nodes;
}

int moemap_cluster_check_shape(const moemap_cluster *c, int hidden, int intermediate,
                               const char *dtype, moemap_error *err)
{
    if (c->hidden != hidden || c->intermediate != intermediate ||
        (dtype && strcmp(dtype, c->dtype) != 0))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "cluster profile was measured for experts of hidden %d, "
                                "intermediate %d, %s, but the model's experts are hidden %d, "
                                "intermediate %d, %s",
                                c->hidden, c->intermediate, c->dtype, hidden, intermediate,
                                dtype ? dtype : c->dtype);
    return 0;
}

double moemap_cluster_gpu_layer_us(const moemap_cluster *c, int g, const double *tokens,
                                   int n)
{
    double t = 0;
    for (int i = 0; i < n; i++)
        if (tokens[i] > 0)
            t += moemap_cluster_expert_us(c, g, tokens[i]);
    return t;
}

double moemap_cluster_layer_max_us(const moemap_cluster *c, const int *gpu,
                                   const double *tokens, int n, double *per_gpu)
{
    for (int g = 0; g < c->num_gpus; g++)
        per_gpu[g] = 0;
    for (int i = 0; i < n; i++)
        if (tokens[i] > 0)
            per_gpu[gpu[i]] += moemap_cluster_expert_us(c, gpu[i], tokens[i]);
    double m = 0;
    for (int g = 0; g < c->num_gpus; g++)
        if (per_gpu[g] > m)
            m = per_gpu[g];
    return m;
}

double moemap_cluster_gpu_cv(const moemap_cluster *c, int g)
{
    /* The GPU's own jitter wins; else the base curve's. */
    const moemap_gpu *gpu = &c->gpus[g];
    return gpu->curve.cv > 0 ? gpu->curve.cv : c->base.cv;
}

void moemap_cluster_relative_speed(const moemap_cluster *c, double n, double *rel)
{
    double best = INFINITY;
    for (int g = 0; g < c->num_gpus; g++) {
        rel[g] = moemap_cluster_expert_us(c, g, n);
        best = rel[g] < best ? rel[g] : best;
    }
    /* A curve that costs 0 (a zero-time floor) counts as the fastest; so do all GPUs when
     * every time overflowed (extreme extrapolation), rather than inf / inf. */
    for (int g = 0; g < c->num_gpus; g++)
        rel[g] = rel[g] > 0 && !isinf(best) ? best / rel[g] : 1.0;
}
