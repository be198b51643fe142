/*
 * strategy_eplb.c — `eplb` and `eplb_global`: the token-balancing baseline everybody
 * uses, DeepSeek's published Expert-Parallelism Load Balancer, implemented from its
 * description:
 *   1. replication: every slot beyond one per expert goes, one at a time, to the expert
 *      with the highest load per replica (load / replica count);
 *   2. packing: replicas, heaviest (load per replica) first, each onto the GPU with the
 *      least token load that still has a free slot;
 *   3. hierarchical variant: expert groups are first packed onto nodes (equal groups per
 *      node, heaviest group to the lightest node), then 1-2 run inside each node.
 * Shares are equal (1 / replicas). GPU speed is ignored on purpose: that is the point of
 * the comparison. Loads are the sum over the batches. Two deviations the real engines need
 * here: slots may differ per GPU (a GPU's slot count is its pack capacity), and a GPU
 * never gets two replicas of one expert (the next lightest GPU is taken instead; an expert
 * never gets more replicas than there are GPUs with slots).
 * Cost: O(slots x experts) per layer, far below a millisecond at DeepSeek-V3 scale.
 */
#include "engine_rules.h"
#include "place_util.h"

#include <string.h>

/* rep_better: position a's next replica before b's: the larger load per replica, then
 * the earlier position (what a scan keeping the first maximum picks). */
static int rep_better(const int *ids, const double *w, const int *cnt, int a, int b)
{
    double va = w[ids[a]] / cnt[ids[a]], vb = w[ids[b]] / cnt[ids[b]];
    return va > vb || (va == vb && a < b);
}

static void rep_down(const int *ids, const double *w, const int *cnt, int *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, t = i;
        if (l < n && rep_better(ids, w, cnt, h[l], h[t]))
            t = l;
        if (r < n && rep_better(ids, w, cnt, h[r], h[t]))
            t = r;
        if (t == i)
            return;
        int x = h[i];
        h[i] = h[t];
        h[t] = x;
        i = t;
    }
}

/* Replica counts for experts ids[0..n) with weights w[id], filling `phys` slots, at most
 * max_rep replicas each: each extra slot to the expert with the most load per replica.
 * A max-heap of the experts makes that O(log n) per slot where a scan was O(n) (1,024
 * GPUs: 768 extra slots over 256 experts per layer, three times per eplb call); the same
 * choices, ties to the earlier expert. Without memory for the heap, the scan. */
static void replicate(const int *ids, int n, const double *w, int phys, int max_rep, int *cnt)
{
    for (int i = 0; i < n; i++)
        cnt[ids[i]] = 1;
    if (phys <= n)
        return;
    int *h = moemap_malloc((size_t)n * sizeof *h);
    if (!h) {
        for (int r = n; r < phys; r++) {
            int best = -1;
            double bv = -1;
            for (int i = 0; i < n; i++) {
                int e = ids[i];
                if (cnt[e] >= max_rep)
                    continue;
                double v = w[e] / cnt[e];
                if (v > bv) {
                    bv = v;
                    best = e;
                }
            }
            if (best < 0)
                break;
            cnt[best]++;
        }
        return;
    }
    int hn = 0;
    for (int i = 0; i < n && max_rep > 1; i++)
        h[hn++] = i;
    for (int i = hn / 2 - 1; i >= 0; i--)
        rep_down(ids, w, cnt, h, hn, i);
    for (int r = n; r < phys && hn > 0; r++) {
        int e = ids[h[0]];
        cnt[e]++;
        if (cnt[e] >= max_rep)
            h[0] = h[--hn];
        rep_down(ids, w, cnt, h, hn, 0);
    }
    moemap_free(h);
}

/* A min-heap of positions q in gpus, by gload[gpus[q]], then q. */
typedef struct pack_heap {
    int *q;
    int n;
    const int *gpus;
    const double *gload;
} pack_heap;

static int heap_less(const pack_heap *h, int a, int b)
{
    double la = h->gload[h->gpus[a]], lb = h->gload[h->gpus[b]];
    return la < lb || (la == lb && a < b);
}

static void heap_push(pack_heap *h, int q)
{
    int i = h->n++;
    while (i > 0 && heap_less(h, q, h->q[(i - 1) / 2])) {
        h->q[i] = h->q[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->q[i] = q;
}

static int heap_pop(pack_heap *h)
{
    int top = h->q[0], last = h->q[--h->n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && heap_less(h, h->q[c + 1], h->q[c]))
            c++;
        if (!heap_less(h, h->q[c], last))
            break;
        h->q[i] = h->q[c];
        i = c;
    }
    if (h->n > 0)
        h->q[i] = last;
    return top;
}

/* Packs the replicas of experts ids[0..n) (cnt[e] each, weight w[e] / cnt[e]) onto GPUs
 * gpus[0..ng) with free[] slots, least token load first. */
static int pack(int experts, const int *ids, int n, const double *w, int *cnt, const int *gpus,
                int ng, int *free_slots, double *gload, place_result *out, moemap_error *err)
{
    int nitems = 0;
    for (int i = 0; i < n; i++)
        nitems += cnt[ids[i]];
    int *item_e = moemap_malloc((size_t)(nitems > 0 ? nitems : 1) * sizeof *item_e);
    double *item_w = moemap_malloc((size_t)(nitems > 0 ? nitems : 1) * sizeof *item_w);
    int *order = moemap_malloc((size_t)(nitems > 0 ? nitems : 1) * sizeof *order);
    /* The GPUs already holding each expert: on[first[e] .. first[e] + placed[e]) (an
     * expert has a few replicas; an experts x GPUs bitmap was 256 KB per call at 1,024
     * GPUs, cleared and faulted in three times a layer). */
    int *on = moemap_malloc((size_t)(nitems > 0 ? nitems : 1) * sizeof *on);
    int *first = moemap_malloc((size_t)(experts > 0 ? experts : 1) * sizeof *first);
    int *placed = moemap_calloc((size_t)(experts > 0 ? experts : 1), sizeof *placed);
    pack_heap h = {NULL, 0, gpus, gload};
    int *aside = NULL, rc = 0;
    if (!item_e || !item_w || !order || !on || !first || !placed) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eplb: out of memory");
        goto done;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        first[ids[i]] = k;
        for (int r = 0; r < cnt[ids[i]]; r++) {
            item_e[k] = ids[i];
            item_w[k] = w[ids[i]] / cnt[ids[i]];
            k++;
        }
    }
    place_sort_desc(item_w, nitems, order);
    /* The GPUs with room in a min-heap by (load, position in gpus): the least loaded,
     * the first of equals, is what a scan of every GPU for every replica chose (1,024
     * GPUs made that scan most of a DeepSeek-V3 eplb call); GPUs that already hold the
     * expert are popped aside and pushed back. */
    h.q = moemap_malloc((size_t)(ng > 0 ? ng : 1) * sizeof *h.q);
    aside = moemap_malloc((size_t)(ng > 0 ? ng : 1) * sizeof *aside);
    rc = h.q && aside ? 0 : moemap_error_set(err, MOEMAP_ENOMEM, "eplb: out of memory");
    for (int q = 0; q < ng && !rc; q++)
        if (free_slots[gpus[q]] > 0)
            heap_push(&h, q);
    for (int j = 0; j < nitems && !rc; j++) {
        int e = item_e[order[j]];
        int na = 0, best = -1;
        while (h.n > 0) {
            int q = heap_pop(&h), held = 0;
            for (int t = 0; t < placed[e] && !held; t++)
                held = on[first[e] + t] == gpus[q];
            if (held) {
                aside[na++] = q;
                continue;
            }
            best = q;
            break;
        }
        for (int a = 0; a < na; a++)
            heap_push(&h, aside[a]);
        if (best < 0)
            continue; /* every GPU with room already holds e: one replica fewer */
        int g = gpus[best];
        rc = place_result_add(out, e, g, 1.0, err);
        on[first[e] + placed[e]++] = g;
        free_slots[g]--;
        gload[g] += item_w[order[j]];
        if (free_slots[g] > 0)
            heap_push(&h, best);
    }
done:
    moemap_free(h.q);
    moemap_free(aside);
    moemap_free(item_e);
    moemap_free(item_w);
    moemap_free(order);
    moemap_free(on);
    moemap_free(first);
    moemap_free(placed);
    return rc;
}

/* Equal shares over the replicas each expert actually got. */
static void equal_shares(place_result *out, int first, int experts, int *cnt)
{
    for (int e = 0; e < experts; e++)
        cnt[e] = 0;
    for (int x = first; x < out->n; x++)
        cnt[out->reps[x].expert]++;
    for (int x = first; x < out->n; x++)
        out->reps[x].share = 1.0 / cnt[out->reps[x].expert];
}

/* The scratch arrays both variants hand to replicate and pack. */
typedef struct eplb_work {
    int *ids;        /* [E] the experts being packed */
    int *cnt;        /* [E] replicas of each expert */
    int *gpus;       /* [G] the GPUs packed onto */
    int *free_slots; /* [G] slots left on each GPU */
    double *gload;   /* [G] token load packed onto each GPU */
} eplb_work;

static void work_free(eplb_work *w)
{
    moemap_free(w->ids);
    moemap_free(w->cnt);
    moemap_free(w->gpus);
    moemap_free(w->free_slots);
    moemap_free(w->gload);
}

/* Returns 0, or -1 when an allocation failed (w is then still safe to free). */
static int work_alloc(eplb_work *w, int E, int G)
{
    w->ids = moemap_malloc((size_t)E * sizeof *w->ids);
    w->cnt = moemap_malloc((size_t)E * sizeof *w->cnt);
    w->gpus = moemap_malloc((size_t)G * sizeof *w->gpus);
    w->free_slots = moemap_malloc((size_t)G * sizeof *w->free_slots);
    w->gload = moemap_calloc((size_t)G, sizeof *w->gload);
    return w->ids && w->cnt && w->gpus && w->free_slots && w->gload ? 0 : -1;
}

static int eplb_global(const place_problem *pb, place_result *out, moemap_error *err)
{
    int G = pb->num_gpus, E = pb->experts;
    eplb_work w;
    int bad = work_alloc(&w, E, G);
    int rc = 0;
    if (bad) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eplb: out of memory");
        goto done;
    }
    int phys = 0, with_slots = 0;
    for (int g = 0; g < G; g++) {
        w.gpus[g] = g;
        w.free_slots[g] = pb->slots[g];
        phys += pb->slots[g];
        with_slots += pb->slots[g] > 0;
    }
    for (int e = 0; e < E; e++)
        w.ids[e] = e;
    replicate(w.ids, E, pb->total, phys, with_slots, w.cnt);
    int first = out->n;
    rc = pack(E, w.ids, E, pb->total, w.cnt, w.gpus, G, w.free_slots, w.gload, out, err);
    if (!rc)
        equal_shares(out, first, E, w.cnt);
done:
    work_free(&w);
    return rc;
}

/* Hierarchical EPLB: groups of consecutive experts to nodes, then EPLB inside each node. */
static int eplb_hierarchical(const place_problem *pb, place_result *out, moemap_error *err)
{
    const moemap_cluster *c = pb->cluster;
    int G = pb->num_gpus, E = pb->experts;
    int num_nodes = 0;
    for (int g = 0; g < G; g++)
        if (c->gpus[g].node + 1 > num_nodes)
            num_nodes = c->gpus[g].node + 1;
    int groups = pb->params->nodes_groups * num_nodes;
    if (groups <= 0 || E % groups != 0)
        return moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                "eplb: %d experts do not split into %d groups (%d per node x %d "
                                "nodes)", E, groups, pb->params->nodes_groups, num_nodes);
    int gsize = E / groups;
    eplb_work w;
    int bad = work_alloc(&w, E, G);
    double *gw = moemap_calloc((size_t)groups, sizeof *gw);
    int *gorder = moemap_malloc((size_t)groups * sizeof *gorder);
    int *gnode = moemap_malloc((size_t)groups * sizeof *gnode);
    double *nload = moemap_calloc((size_t)num_nodes, sizeof *nload);
    int *ngroups = moemap_calloc((size_t)num_nodes, sizeof *ngroups);
    int rc = 0;
    if (bad || !gw || !gorder || !gnode || !nload || !ngroups) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "eplb: out of memory");
        goto done;
    }
    for (int e = 0; e < E; e++)
        gw[e / gsize] += pb->total[e];
    place_sort_desc(gw, groups, gorder);
    /* Equal groups per node, heaviest group to the lightest node with room. */
    int per_node = groups / num_nodes;
    for (int i = 0; i < groups; i++) {
        int best = -1;
        for (int nd = 0; nd < num_nodes; nd++)
            if (ngroups[nd] < per_node && (best < 0 || nload[nd] < nload[best]))
                best = nd;
        gnode[gorder[i]] = best;
        ngroups[best]++;
        nload[best] += gw[gorder[i]];
    }
    int first = out->n;
    for (int nd = 0; nd < num_nodes && !rc; nd++) {
        int n = 0, ng = 0, phys = 0, with_slots = 0;
        for (int e = 0; e < E; e++)
            if (gnode[e / gsize] == nd)
                w.ids[n++] = e;
        for (int g = 0; g < G; g++)
            if (c->gpus[g].node == nd) {
                w.gpus[ng++] = g;
                w.free_slots[g] = pb->slots[g];
                phys += pb->slots[g];
                with_slots += pb->slots[g] > 0;
            }
        if (phys < n) {
            rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                  "eplb: node %d has %d slots for its %d experts (use the global "
                                  "variant or more slots)", nd, phys, n);
            break;
        }
        replicate(w.ids, n, pb->total, phys, with_slots, w.cnt);
        rc = pack(E, w.ids, n, pb->total, w.cnt, w.gpus, ng, w.free_slots, w.gload, out, err);
    }
    if (!rc)
        equal_shares(out, first, E, w.cnt);
done:
    work_free(&w);
    moemap_free(gw);
    moemap_free(gorder);
    moemap_free(gnode);
    moemap_free(nload);
    moemap_free(ngroups);
    return rc;
}

int place_eplb(const place_problem *pb, place_result *out, moemap_error *err)
{
    if (pb->params->nodes_groups > 0)
        return eplb_hierarchical(pb, out, err);
    return eplb_global(pb, out, err);
}

int place_eplb_global(const place_problem *pb, place_result *out, moemap_error *err)
{
    return eplb_global(pb, out, err);
}

/* See place_util.h: the eplb floor every other strategy keeps (here, next to eplb, so
 * place_util.c needs no strategy). */
int place_never_worse_than_eplb(const place_problem *pb, place_result *out, int engine,
                                int *kept_eplb, moemap_error *err)
{
    place_result eplb = {0};
    double *gpu_us = moemap_malloc((size_t)pb->num_gpus * 2 * sizeof *gpu_us);
    int rc = gpu_us ? place_eplb_global(pb, &eplb, err)
                    : moemap_error_set(err, MOEMAP_ENOMEM, "place: out of memory");
    if (!rc && engine)
        rc = engine_complete(pb, &eplb, err);
    if (kept_eplb)
        *kept_eplb = 0;
    if (!rc && place_layer_mean_us(pb, &eplb, gpu_us) < place_layer_mean_us(pb, out, gpu_us)) {
        out->n = 0;
        for (int i = 0; i < eplb.n && !rc; i++)
            rc = place_result_add(out, eplb.reps[i].expert, eplb.reps[i].gpu,
                                  eplb.reps[i].share, err);
        if (kept_eplb)
            *kept_eplb = 1;
    }
    moemap_free(eplb.reps);
    moemap_free(gpu_us);
    return rc;
}
