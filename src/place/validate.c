/*
 * validate.c — the placement invariants of DESIGN.md, checked problem by problem:
 * ids in range, every expert of every layer served, an expert's shares sum to 1 (within
 * 1e-6), no GPU over its slots, no GPU with two replicas of one expert in a layer, no
 * layer listed twice. Each problem gets its own message naming the layer (model index),
 * expert and GPU, so `moemap validate` can print them all and the library can return the
 * first one.
 */
#include "moemap/placement.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base_util.h"

#define SHARE_TOL 1e-6

typedef struct checker {
    moemap_problem_fn fn;
    void *ctx;
    int count;
} checker;

/* One problem found: counted, and handed to the caller's callback. */
#define problem(ck, ...) mm_problem((ck)->fn, (ck)->ctx, &(ck)->count, __VA_ARGS__)

static int cmp_rep(const void *a, const void *b)
{
    const moemap_replica *x = a, *y = b;
    if (x->expert != y->expert)
        return (x->expert > y->expert) - (x->expert < y->expert);
    return (x->gpu > y->gpu) - (x->gpu < y->gpu);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Checks one layer; `sorted` is scratch for num_replicas replicas, `per_gpu` for
 * num_gpus counters. */
static void check_layer(const moemap_placement *p, const moemap_layer_placement *lp,
                        const moemap_cluster *c, int slots, moemap_replica *sorted,
                        int *per_gpu, checker *ck)
{
    int G = p->num_gpus, E = p->experts, L = lp->layer;
    int n = 0;
    for (int g = 0; g < G; g++)
        per_gpu[g] = 0;
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        int ok = 1;
        if (r->expert < 0 || r->expert >= E) {
            problem(ck, "layer %d: replica %d: expert %d is outside [0, %d]", L, i, r->expert,
                    E - 1);
            ok = 0;
        }
        if (r->gpu < 0 || r->gpu >= G) {
            problem(ck, "layer %d: replica %d: gpu %d is outside [0, %d]", L, i, r->gpu, G - 1);
            ok = 0;
        }
        if (!isfinite(r->share) || r->share < 0 || r->share > 1 + SHARE_TOL) {
            problem(ck, "layer %d: replica %d (expert %d on gpu %d): share %g is outside [0, 1]",
                    L, i, r->expert, r->gpu, r->share);
            ok = 0;
        }
        if (ok) {
            sorted[n++] = *r;
            per_gpu[r->gpu]++;
        }
    }
    for (int g = 0; g < G; g++) {
        int cap = slots > 0 ? slots : (c && g < c->num_gpus ? c->gpus[g].slots : -1);
        if (cap >= 0 && per_gpu[g] > cap)
            problem(ck, "layer %d: gpu %d holds %d replicas but has %d slots", L, g, per_gpu[g],
                    cap);
    }
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_rep);
    int i = 0;
    for (int e = 0; e < E; e++) {
        if (i >= n || sorted[i].expert != e) {
            problem(ck, "layer %d: expert %d has no replica", L, e);
            continue;
        }
        double sum = 0;
        for (; i < n && sorted[i].expert == e; i++) {
            sum += sorted[i].share;
            if (i + 1 < n && sorted[i + 1].expert == e && sorted[i + 1].gpu == sorted[i].gpu)
                problem(ck, "layer %d: gpu %d holds two replicas of expert %d", L, sorted[i].gpu,
                        e);
        }
        if (fabs(sum - 1.0) > SHARE_TOL)
            problem(ck, "layer %d: expert %d shares sum to %.9g, not 1", L, e, sum);
    }
}

int moemap_placement_check(const moemap_placement *p, const moemap_cluster *c, int slots,
                           moemap_problem_fn fn, void *ctx)
{
    checker ck = {fn, ctx, 0};
    if (!p) {
        problem(&ck, "no placement");
        return ck.count;
    }
    if (p->num_gpus <= 0 || p->experts <= 0) {
        problem(&ck, "placement has %d gpus and %d experts; both must be positive",
                p->num_gpus, p->experts);
        return ck.count;
    }
    if (c && c->num_gpus != p->num_gpus) {
        problem(&ck, "placement is for %d gpus but the cluster has %d", p->num_gpus,
                c->num_gpus);
        c = NULL; /* per-GPU slots would be misattributed */
    }
    int maxr = 0;
    for (int l = 0; l < p->num_layers; l++)
        if (p->layers[l].num_replicas > maxr)
            maxr = p->layers[l].num_replicas;
    moemap_replica *sorted = moemap_malloc((size_t)(maxr > 0 ? maxr : 1) * sizeof *sorted);
    int *per_gpu = moemap_malloc((size_t)p->num_gpus * sizeof *per_gpu);
    int *ids = moemap_malloc((size_t)(p->num_layers > 0 ? p->num_layers : 1) * sizeof *ids);
    if (!sorted || !per_gpu || !ids) {
        ck.count = MOEMAP_ENOMEM;
    } else {
        for (int l = 0; l < p->num_layers; l++) {
            ids[l] = p->layers[l].layer;
            check_layer(p, &p->layers[l], c, slots, sorted, per_gpu, &ck);
        }
        qsort(ids, (size_t)p->num_layers, sizeof *ids, cmp_int);
        for (int l = 1; l < p->num_layers; l++)
            if (ids[l] == ids[l - 1] && (l < 2 || ids[l - 2] != ids[l]))
                problem(&ck, "layer %d is listed more than once", ids[l]);
    }
    moemap_free(sorted);
    moemap_free(per_gpu);
    moemap_free(ids);
    return ck.count;
}

int moemap_placement_validate(const moemap_placement *p, const moemap_cluster *c,
                              moemap_error *err)
{
    moemap_error first = {0};
    int n = moemap_placement_check(p, c, 0, mm_keep_first_problem, &first);
    if (n == 0)
        return 0;
    if (n < 0)
        return moemap_error_set(err, MOEMAP_ENOMEM, "validate: out of memory");
    if (n == 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s", first.msg);
    return moemap_error_set(err, MOEMAP_EINVAL, "%s (and %d more problem%s)", first.msg,
                            n - 1, n > 2 ? "s" : "");
}
