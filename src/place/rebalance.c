/*
 * rebalance.c — online rebalancing of a running deployment (see moemap/rebalance.h, its
 * second half): ViBE's drift swaps, the repair after a lost GPU, the cost of migrating
 * from one placement to another, and the cluster a re-placement sees once GPUs are
 * measured slower or lost. They are placement algorithms, so they live with placement;
 * what decides WHEN to call them (the simulator's recalibration policies in
 * src/sim/recal.c, or an engine's controller) keeps the triggers and the timing.
 *
 * The GPUs' state comes as plain arrays (speed[g], alive[g]), never as a caller's own
 * struct, so a binding or an engine can call these without the simulator.
 */
#include "moemap/rebalance.h"

#include <string.h>

#include "cost/cost_internal.h"

static int is_alive(const unsigned char *alive, int g)
{
    return !alive || alive[g];
}

int moemap_rebalance_swaps(const moemap_placement *src, const moemap_cluster *c,
                           const double *counts, const double *speed,
                           const unsigned char *alive, int max_swaps,
                           moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    if (!src || !c || !counts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance swaps: no placement, cluster or counts");
    if (src->num_gpus != c->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance swaps: the placement is for %d gpus, the cluster "
                                "has %d", src->num_gpus, c->num_gpus);
    moemap_placement *p;
    int rc = moemap_placement_clone(src, &p, err);
    if (rc)
        return rc;
    int G = c->num_gpus, E = p->experts;
    double *est = moemap_malloc((size_t)G * sizeof *est);
    double *tg = moemap_malloc((size_t)G * sizeof *tg);
    if (!est || !tg) {
        moemap_free(est);
        moemap_free(tg);
        moemap_placement_free(p);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    for (int g = 0; g < G; g++)
        est[g] = speed ? speed[g] : 1.0;
    for (int l = 0; l < p->num_layers; l++) {
        moemap_layer_placement *lp = &p->layers[l];
        const double *cnt = &counts[(size_t)l * E];
        for (int s = 0; s < max_swaps; s++) {
            mm_layer_gpu_s(c, lp, cnt, est, alive, tg);
            int a = -1, b = -1; /* the slowest and the fastest live GPU */
            for (int g = 0; g < G; g++) {
                if (!is_alive(alive, g))
                    continue;
                if (a < 0 || tg[g] > tg[a])
                    a = g;
                if (b < 0 || tg[g] < tg[b])
                    b = g;
            }
            if (a < 0 || a == b)
                break;
            double best = tg[a], ta = tg[a], tb = tg[b];
            int bx = -1, by = -1;
            for (int x = 0; x < lp->num_replicas; x++) {
                if (lp->replicas[x].gpu != a)
                    continue;
                for (int y = 0; y < lp->num_replicas; y++) {
                    if (lp->replicas[y].gpu != b)
                        continue;
                    int ex = lp->replicas[x].expert, ey = lp->replicas[y].expert, clash = 0;
                    /* a GPU never holds two replicas of one expert after a swap */
                    for (int z = 0; z < lp->num_replicas; z++)
                        if ((lp->replicas[z].gpu == b && lp->replicas[z].expert == ex) ||
                            (lp->replicas[z].gpu == a && lp->replicas[z].expert == ey))
                            clash = 1;
                    if (clash)
                        continue;
                    double nx = lp->replicas[x].share * cnt[ex];
                    double ny = lp->replicas[y].share * cnt[ey];
                    double fa = (moemap_cluster_expert_us(c, a, ny) -
                                 moemap_cluster_expert_us(c, a, nx)) * 1e-6 / est[a];
                    double fb = (moemap_cluster_expert_us(c, b, nx) -
                                 moemap_cluster_expert_us(c, b, ny)) * 1e-6 / est[b];
                    double m = ta + fa > tb + fb ? ta + fa : tb + fb;
                    if (m < best * 0.99) { /* 1%: a swap must pay for its move */
                        best = m;
                        bx = x;
                        by = y;
                    }
                }
            }
            if (bx < 0)
                break;
            lp->replicas[bx].gpu = b;
            lp->replicas[by].gpu = a;
        }
    }
    moemap_free(est);
    moemap_free(tg);
    *out = p;
    return 0;
}

/* One layer of the repair: cur's replicas off the dead GPUs, shares renormalised, orphans
 * re-homed; held[G] is scratch. */
static int repair_layer(const moemap_layer_placement *lp, const moemap_cluster *c,
                        const unsigned char *alive, int lost, int experts, int *held,
                        moemap_placement *p, int l, moemap_error *err)
{
    int G = c->num_gpus;
    moemap_replica *nr = moemap_malloc((size_t)(lp->num_replicas + experts) * sizeof *nr);
    double *left = moemap_calloc((size_t)experts, sizeof *left);
    if (!nr || !left) {
        moemap_free(nr);
        moemap_free(left);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    int n = 0, rc = 0;
    for (int g = 0; g < G; g++)
        held[g] = 0;
    for (int i = 0; i < lp->num_replicas; i++) {
        if (lp->replicas[i].gpu == lost || !is_alive(alive, lp->replicas[i].gpu))
            continue;
        nr[n++] = lp->replicas[i];
        left[lp->replicas[i].expert] += lp->replicas[i].share;
        held[lp->replicas[i].gpu]++;
    }
    for (int i = 0; i < n; i++)
        nr[i].share /= left[nr[i].expert];
    /* Orphans go to the live GPU with a free slot holding the fewest replicas (or the
     * fewest overall when every slot is taken: the engine over-subscribes memory). */
    for (int e = 0; e < experts && !rc; e++) {
        if (left[e] > 0)
            continue;
        int best = -1, best_free = -1;
        for (int g = 0; g < G; g++) {
            if (!is_alive(alive, g) || g == lost)
                continue;
            int fr = c->gpus[g].slots > held[g];
            if (best < 0 || fr > best_free || (fr == best_free && held[g] < held[best])) {
                best = g;
                best_free = fr;
            }
        }
        if (best < 0) {
            rc = moemap_error_set(err, MOEMAP_EINFEASIBLE, "no GPU left alive");
            break;
        }
        nr[n].expert = e;
        nr[n].gpu = best;
        nr[n].share = 1.0;
        held[best]++;
        n++;
    }
    if (!rc)
        rc = moemap_placement_set_layer(p, l, lp->layer, nr, n, err);
    moemap_free(nr);
    moemap_free(left);
    return rc;
}

int moemap_rebalance_repair_lost(const moemap_placement *cur, const moemap_cluster *c,
                                 const unsigned char *alive, int lost_gpu,
                                 moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    if (!cur || !c)
        return moemap_error_set(err, MOEMAP_EINVAL, "rebalance repair: no placement or cluster");
    if (cur->num_gpus != c->num_gpus || lost_gpu < 0 || lost_gpu >= c->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance repair: GPU %d of a placement for %d gpus on a "
                                "cluster of %d", lost_gpu, cur->num_gpus, c->num_gpus);
    moemap_placement *p;
    int rc = moemap_placement_clone(cur, &p, err);
    if (rc)
        return rc;
    int *held = moemap_malloc((size_t)c->num_gpus * sizeof *held);
    if (!held)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int l = 0; l < p->num_layers && !rc; l++)
        rc = repair_layer(&cur->layers[l], c, alive, lost_gpu, p->experts, held, p, l, err);
    moemap_free(held);
    if (rc) {
        moemap_placement_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int moemap_rebalance_migration_cost(const moemap_placement *a, const moemap_placement *b,
                                    const moemap_cluster *c, const unsigned char *alive,
                                    double expert_bytes, double link_GBps, double intra_GBps,
                                    moemap_rebalance_cost *out, moemap_error *err)
{
    memset(out, 0, sizeof *out);
    if (!a || !b || !c)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance migration cost: no placements or cluster");
    if (!(link_GBps > 0) || intra_GBps < 0 || expert_bytes < 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance migration cost: link %g GB/s must be > 0, intra-node "
                                "%g GB/s and expert bytes %g >= 0", link_GBps, intra_GBps,
                                expert_bytes);
    int G = c->num_gpus;
    double link_Bps = link_GBps * 1e9;
    double intra_Bps = intra_GBps > 0 ? intra_GBps * 1e9 : link_Bps;
    double *recv = moemap_calloc((size_t)(G > 0 ? G : 1), sizeof *recv); /* s per GPU */
    if (!recv)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int l = 0; l < b->num_layers; l++) {
        const moemap_layer_placement *nl = &b->layers[l];
        const moemap_layer_placement *ol = mm_placement_layer(a, nl->layer);
        for (int i = 0; i < nl->num_replicas; i++) {
            int e = nl->replicas[i].expert, g = nl->replicas[i].gpu, had = 0, near = 0;
            for (int j = 0; ol && j < ol->num_replicas; j++) {
                if (ol->replicas[j].expert != e)
                    continue;
                int h = ol->replicas[j].gpu;
                if (h == g)
                    had = 1;
                else if (c->gpus[h].node == c->gpus[g].node && is_alive(alive, h))
                    near = 1;
            }
            if (had)
                continue;
            out->moves++;
            out->bytes += expert_bytes;
            recv[g] += expert_bytes / (near ? intra_Bps : link_Bps);
        }
    }
    double mx = 0;
    for (int g = 0; g < G; g++)
        if (recv[g] > mx)
            mx = recv[g];
    moemap_free(recv);
    out->stall_s = mx + (out->moves > 0 ? c->latency_us * 1e-6 : 0);
    return 0;
}

int moemap_rebalance_cluster(const moemap_cluster *src, const double *speed,
                             const unsigned char *alive, moemap_cluster **out,
                             moemap_error *err)
{
    *out = NULL;
    moemap_cluster *c;
    int rc = moemap_cluster_clone(src, &c, err);
    if (rc)
        return rc;
    for (int g = 0; g < c->num_gpus; g++) {
        if (!is_alive(alive, g))
            c->gpus[g].slots = 0;
        double f = speed ? speed[g] : 1.0;
        if (f == 1.0)
            continue;
        if (!(f > 0)) {
            moemap_cluster_free(c);
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "rebalance cluster: speed of GPU %d is %g, not > 0", g, f);
        }
        if (c->gpus[g].curve.n > 0)
            for (int i = 0; i < c->gpus[g].curve.n; i++)
                c->gpus[g].curve.us[i] /= f;
        else
            c->gpus[g].speed *= f;
    }
    if ((rc = moemap_cluster_finalize(c, err))) {
        moemap_cluster_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
