/*
 * engine_rules.c — what SGLang and vLLM can run, as constraints on a layer's placement
 * (see moemap_engine in moemap/place.h and "Engine rules" in docs/placement.md):
 * the same number of slots S on every GPU, every slot filled, no GPU holding an expert
 * twice, and an expert's tokens split evenly over its copies (both engines' dispatch
 * rules give each of k copies 1/k of the tokens in expectation).
 *
 * Strategies that know the rules (eplb, moemap) produce such layouts themselves; for the
 * others (linear, round_robin, gem, vibe, exact) engine_complete turns their answer into
 * one the engine runs: shares made equal, and every empty slot filled with a copy of the
 * expert whose copies carry the most tokens (EPLB's replication rule), on the GPU with a
 * free slot whose predicted time (its own curve) grows least. engine_check verifies the
 * result, so a strategy that breaks the rules is an internal error, never an export that
 * silently differs from what was placed.
 */
#include "engine_rules.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int moemap_engine_parse(const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, "none"))
        return MOEMAP_ENGINE_NONE;
    if (!strcmp(name, "sglang"))
        return MOEMAP_ENGINE_SGLANG;
    if (!strcmp(name, "vllm"))
        return MOEMAP_ENGINE_VLLM;
    return -1;
}

const char *moemap_engine_name(moemap_engine e)
{
    switch (e) {
    case MOEMAP_ENGINE_NONE: return "none";
    case MOEMAP_ENGINE_SGLANG: return "sglang";
    case MOEMAP_ENGINE_VLLM: return "vllm";
    }
    return "unknown";
}

int engine_uniform_slots(const moemap_cluster *c, int slots_override, int *S,
                         moemap_error *err)
{
    if (slots_override > 0) {
        *S = slots_override;
        return 0;
    }
    int s0 = c->gpus[0].slots;
    for (int g = 1; g < c->num_gpus; g++)
        if (c->gpus[g].slots != s0)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "engine rules need the same slots on every GPU, but GPU 0 "
                                    "has %d and GPU %d has %d (pass --slots N)",
                                    s0, g, c->gpus[g].slots);
    *S = s0;
    return 0;
}

/* Tokens over the problem's batches that one more copy would leave on each copy. */
static double per_copy(const place_problem *pb, int e, int k)
{
    return pb->total[e] / (k > 0 ? k : 1);
}

int engine_complete(const place_problem *pb, place_result *res, moemap_error *err)
{
    int G = pb->num_gpus, E = pb->experts;
    int *k = moemap_calloc((size_t)E, sizeof *k);
    int *used = moemap_calloc((size_t)G, sizeof *used);
    unsigned char *holds = moemap_calloc((size_t)E * (size_t)G, 1);
    double *gtime = moemap_calloc((size_t)G, sizeof *gtime);
    int rc = 0;
    if (!k || !used || !holds || !gtime) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "engine rules: out of memory");
        goto done;
    }
    for (int i = 0; i < res->n; i++) {
        const moemap_replica *r = &res->reps[i];
        k[r->expert]++;
        used[r->gpu]++;
        holds[(size_t)r->expert * G + r->gpu] = 1;
    }
    double nb = pb->num_batches > 0 ? pb->num_batches : 1;
    for (int i = 0; i < res->n; i++) {
        const moemap_replica *r = &res->reps[i];
        gtime[r->gpu] += moemap_cluster_expert_us(pb->cluster, r->gpu,
                                                  per_copy(pb, r->expert, k[r->expert]) / nb);
    }
    for (;;) {
        /* the expert whose copies carry the most tokens and that some GPU with a free
         * slot does not hold yet */
        int best_e = -1, best_g = -1;
        double bw = -1;
        for (int e = 0; e < E; e++) {
            double w = per_copy(pb, e, k[e]);
            if (w <= bw || k[e] >= G)
                continue;
            int g_pick = -1;
            double gd = INFINITY;
            for (int g = 0; g < G; g++) {
                if (used[g] >= pb->slots[g] || holds[(size_t)e * G + g])
                    continue;
                double t = gtime[g] + moemap_cluster_expert_us(pb->cluster, g,
                                                               per_copy(pb, e, k[e] + 1) / nb);
                if (t < gd) {
                    gd = t;
                    g_pick = g;
                }
            }
            if (g_pick >= 0) {
                bw = w;
                best_e = e;
                best_g = g_pick;
            }
        }
        if (best_e < 0)
            break;
        rc = place_result_add(res, best_e, best_g, 0.0, err);
        if (rc)
            goto done;
        k[best_e]++;
        used[best_g]++;
        holds[(size_t)best_e * G + best_g] = 1;
        gtime[best_g] += moemap_cluster_expert_us(pb->cluster, best_g,
                                                  per_copy(pb, best_e, k[best_e]) / nb);
    }
    for (int i = 0; i < res->n; i++)
        res->reps[i].share = 1.0 / k[res->reps[i].expert];
done:
    moemap_free(k);
    moemap_free(used);
    moemap_free(holds);
    moemap_free(gtime);
    return rc;
}

int engine_check(const moemap_layer_placement *lp, int num_gpus, int experts, int S,
                 moemap_error *err)
{
    int *used = moemap_calloc((size_t)num_gpus, sizeof *used);
    int *k = moemap_calloc((size_t)experts, sizeof *k);
    int rc = 0;
    if (!used || !k) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "engine rules: out of memory");
        goto done;
    }
    for (int i = 0; i < lp->num_replicas; i++) {
        used[lp->replicas[i].gpu]++;
        k[lp->replicas[i].expert]++;
    }
    for (int g = 0; g < num_gpus && !rc; g++)
        if (used[g] != S)
            rc = moemap_error_set(err, MOEMAP_EINVAL, "layer %d: GPU %d holds %d copies, not "
                                  "the %d every rank has", lp->layer, g, used[g], S);
    for (int i = 0; i < lp->num_replicas && !rc; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (fabs(r->share - 1.0 / k[r->expert]) > 1e-9)
            rc = moemap_error_set(err, MOEMAP_EINVAL, "layer %d: expert %d's copy on GPU %d "
                                  "serves %.4g of its tokens, not 1/%d", lp->layer, r->expert,
                                  r->gpu, r->share, k[r->expert]);
    }
done:
    moemap_free(used);
    moemap_free(k);
    return rc;
}

int moemap_placement_check_engine(const moemap_placement *p, const moemap_cluster *c,
                                  int slots, moemap_engine engine, moemap_problem_fn fn,
                                  void *ctx)
{
    moemap_error err = {0};
    int S = 0, n = 0;
    if (engine_uniform_slots(c, slots, &S, &err) != 0) {
        if (fn)
            fn(ctx, err.msg);
        return 1;
    }
    for (int l = 0; l < p->num_layers; l++) {
        memset(&err, 0, sizeof err);
        int rc = engine_check(&p->layers[l], p->num_gpus, p->experts, S, &err);
        if (rc == MOEMAP_ENOMEM)
            return rc;
        if (rc) {
            n++;
            if (fn) {
                char msg[MOEMAP_ERROR_MSG_MAX + 32];
                snprintf(msg, sizeof msg, "%s (%s rules)", err.msg, moemap_engine_name(engine));
                fn(ctx, msg);
            }
        }
    }
    return n;
}
