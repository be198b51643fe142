/*
 * strategy_moemap.c — `moemap`, the default strategy: the best placement we can compute
 * under the exact cost model, judged on the real batches (mean + tail_weight * p90 of the
 * per-batch straggler), not on an average batch.
 *
 * 1. Starts. (a) A greedy construction: experts heaviest first, each to the GPU (with a
 *    free slot) whose addition raises the sampled batches' stragglers least, ties to the
 *    least busy GPU — it sees each GPU's own curve, so it knows a replica costs a near-
 *    constant floor even with few tokens, and co-activated hot experts collide in the
 *    same batches and so are kept apart. (b) EPLB's token-balanced layout. (c) With
 *    --previous, the previous placement (only start when max_moves limits changes).
 *    The best start under the objective is kept.
 * 2. Local search on the exact per-batch cost (moemap_search.c): for the GPUs that are
 *    the straggler most often, every replica is tried moved to, swapped with, or split
 *    onto the least busy GPUs, and share shifted to (or merged into) its other replicas;
 *    the best improving change is applied, until none improves or the work budget is
 *    spent. Splits and shifts give unequal shares matched to GPU speed; merges free slots
 *    where a replica's floor costs more than it saves; slots may stay empty.
 * 3. When the descent stalls and budget remains, a seeded random kick (iterated local
 *    search) and the best state seen is returned: deterministic for a seed.
 * Replicas of one expert prefer one node: among changes of equal cost, the one that
 * spreads experts over fewer nodes wins (moemap_search.h).
 * Batch sizes: when the input batches hold fewer than ~8192 tokens (an engine's largest
 * iteration, its chunked-prefill budget), the state also keeps 8 windows of consecutive
 * input batches of ~8192 tokens, and the objective adds max(0, J(windows) - 1.05 x
 * eplb's J(windows)). Judged on small batches alone, where every expert sits on the
 * curve's flat floor, the search balances replica counts and ignores token balance, and
 * the placement is slow on the large prefill iterations that decide queueing near
 * capacity (measured in bench/results/sim.md, "Why moemap lost to eplb").
 * The work budget counts batch evaluations, not seconds, so the result does not depend on
 * the machine's speed or load, unless the wall-clock deadline (the whole call's
 * --time-limit, pb->deadline_s) stops the search first on a slow or busy machine.
 */
#include "moemap_search.h"
#include "place_util.h"
#include "base_util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_SAMPLED_BATCHES 64
/* Engine-sized windows: the largest iteration a serving engine runs is its chunked-
 * prefill token budget (8192 by default in vLLM and SGLang); placements judged only on
 * smaller input batches fall behind there (see "Batch sizes" in docs/placement.md). */
#define ENGINE_TOKENS 8192.0
#define MAX_WINDOWS 8
/* The search may leave the windows' J up to 5% above eplb's there for free; beyond that
 * each us counts like one on the input batches. (1.00 costs up to 2.6 points of gap on
 * 512-token input batches; 1.10 keeps less of the engine-size gain: docs/placement.md.) */
#define WINDOW_SLACK 1.05
#define CONSTRUCT_BATCHES 16
#define NUM_CRITICAL 3
#define NUM_TARGETS 24
/* Batch evaluations per second of budget (about 100 ns each on the 2-core CI machine). */
#define WORK_PER_SECOND 6e6
#define NODE_PENALTY 1e-3
#define MAX_KICKS 400

typedef struct ctx {
    const place_problem *pb;
    ms_state s;
    int *cls;          /* [G] class: lowest GPU index with the same effective curve */
    int *order;        /* [E] experts by total load, descending */
    int *targets;      /* [G] */
    double *gmean;     /* [G] */
    double *weight;    /* [G] */
    int *stamp;        /* [G] per class: expert + 1 whose greedy step saw an empty GPU */
    int *stamp_slots;  /* [G] that GPU's slots */
    moemap_replica *best;
    int nbest;
    moemap_replica *tmp;
    int ntmp, captmp;
} ctx;

/* The engine-sized windows' tokens: the operating point when given, else the engines'
 * default chunked-prefill budget. */
static double pp_window_tokens(const place_problem *pb)
{
    return pb->params->batch_tokens > 0 ? pb->params->batch_tokens : ENGINE_TOKENS;
}

/* Greedy placement of one expert with full share: returns the chosen GPU or -1. */
static int greedy_gpu(ctx *x, int e)
{
    ms_state *s = &x->s;
    const place_problem *pb = x->pb;
    int step = s->B > CONSTRUCT_BATCHES ? s->B / CONSTRUCT_BATCHES : 1;
    int best = -1;
    double bv = INFINITY, bt = INFINITY;
    for (int g = 0; g < s->G; g++) {
        if (s->nrep[g] >= pb->slots[g] || s->at[(size_t)e * s->G + g] >= 0)
            continue;
        if (s->nrep[g] == 0) {
            /* An empty GPU is as good as an earlier empty GPU of its class with as many
             * slots: only the first one is priced (a stamp per class and call). */
            int c = x->cls[g];
            if (x->stamp[c] == e + 1 && x->stamp_slots[c] == pb->slots[g])
                continue;
            x->stamp[c] = e + 1;
            x->stamp_slots[c] = pb->slots[g];
        }
        double v = 0, t = 0;
        for (int b = 0; b < s->B; b += step) {
            double ce = s->cnt[b][e];
            double nt = s->T[(size_t)b * s->G + g] +
                        (ce > 0 ? moemap_cluster_expert_us(pb->cluster, g, ce) : 0);
            double m = s->top[b * 3];
            v += nt > m ? nt : m;
            t += nt;
        }
        if (v < bv - 1e-9 * bv || (v <= bv + 1e-9 * bv && t < bt)) {
            bv = v;
            bt = t;
            best = g;
        }
    }
    return best;
}

static int construct(ctx *x, const moemap_replica *seed, int nseed, moemap_error *err)
{
    ms_state *s = &x->s;
    memset(x->stamp, 0, (size_t)s->G * sizeof *x->stamp);
    int rc = ms_load(s, seed, nseed, err);
    for (int i = 0; i < s->E && !rc; i++) {
        int e = x->order[i], have = 0;
        for (int g = 0; g < s->G && !have; g++)
            have = s->at[(size_t)e * s->G + g] >= 0;
        if (have)
            continue;
        int g = greedy_gpu(x, e);
        if (g < 0)
            return moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                    "moemap: no free slot left for expert %d", e);
        rc = ms_add(s, e, g, 1.0, err);
    }
    return rc;
}

static int snapshot(ctx *x, moemap_replica **dst, int *n, moemap_error *err)
{
    moemap_replica *r = moemap_realloc(*dst, (size_t)(x->s.nreps > 0 ? x->s.nreps : 1) * sizeof *r);
    if (!r)
        return moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
    for (int i = 0; i < x->s.nreps; i++) {
        r[i].expert = x->s.reps[i].expert;
        r[i].gpu = x->s.reps[i].gpu;
        r[i].share = x->s.reps[i].share;
    }
    *dst = r;
    *n = x->s.nreps;
    return 0;
}

/* Considers one candidate; keeps it in *bd when it beats *bs. */
static void consider(ctx *x, const ms_delta *d, ms_delta *bd, ms_score *bs, int *found)
{
    int ok;
    ms_score sc = ms_score_delta(&x->s, d, &ok);
    if (ok && ms_better(sc, *bs)) {
        *bs = sc;
        *bd = *d;
        *found = 1;
    }
}

static void item(ms_delta *d, int rep, int e, int g, double o, double n)
{
    ms_item *it = &d->items[d->n++];
    it->rep = rep;
    it->expert = e;
    it->gpu = g;
    it->old_share = o;
    it->new_share = n;
}

/* Best change involving the replicas on GPU a; returns 1 with *bd filled when one beats
 * cur. */
static int best_for_gpu(ctx *x, int a, int nt, ms_score cur, ms_delta *bd, ms_score *bs)
{
    ms_state *s = &x->s;
    const int *slots = x->pb->slots;
    int G = s->G, found = 0;
    *bs = cur;
    static const double split_frac[3] = {0.25, 0.5, 0.75};
    static const double shift_frac[4] = {1.0, 0.5, 0.2, 0.07};
    for (int ri = 0; ri < s->nreps; ri++) {
        if (s->reps[ri].gpu != a)
            continue;
        int e = s->reps[ri].expert;
        double sh = s->reps[ri].share;
        /* Shift share to (or merge into) the expert's other replicas, wherever they are. */
        for (int g = 0; g < G; g++) {
            int rb = g == a ? -1 : s->at[(size_t)e * G + g];
            if (rb < 0)
                continue;
            for (int k = 0; k < 4; k++) {
                double dlt = sh * shift_frac[k];
                ms_delta d = {.n = 0, .g1 = a, .g2 = g};
                item(&d, ri, e, a, sh, k == 0 ? 0.0 : sh - dlt);
                item(&d, rb, e, g, s->reps[rb].share, s->reps[rb].share + dlt);
                consider(x, &d, bd, bs, &found);
            }
        }
        for (int t = 0; t < nt; t++) {
            int b = x->targets[t];
            if (b == a || s->at[(size_t)e * G + b] >= 0)
                continue;
            if (s->nrep[b] < slots[b]) {
                ms_delta d = {.n = 0, .g1 = a, .g2 = b};
                item(&d, ri, e, a, sh, 0.0);
                item(&d, -1, e, b, 0.0, sh);
                consider(x, &d, bd, bs, &found);
                for (int k = 0; k < 3; k++) {
                    ms_delta d2 = {.n = 0, .g1 = a, .g2 = b};
                    item(&d2, ri, e, a, sh, sh * (1 - split_frac[k]));
                    item(&d2, -1, e, b, 0.0, sh * split_frac[k]);
                    consider(x, &d2, bd, bs, &found);
                }
            }
            for (int r2 = 0; r2 < s->nreps; r2++) {
                if (s->reps[r2].gpu != b)
                    continue;
                int e2 = s->reps[r2].expert;
                if (e2 == e || s->at[(size_t)e2 * G + a] >= 0)
                    continue;
                double sh2 = s->reps[r2].share;
                ms_delta d = {.n = 0, .g1 = a, .g2 = b};
                item(&d, ri, e, a, sh, 0.0);
                item(&d, -1, e, b, 0.0, sh);
                item(&d, r2, e2, b, sh2, 0.0);
                item(&d, -1, e2, a, 0.0, sh2);
                consider(x, &d, bd, bs, &found);
            }
        }
    }
    return found;
}

/* GPUs that are the straggler most often (tail batches count more), and the least busy
 * GPUs as targets. Returns the number of critical GPUs in crit[]. */
static int pick_gpus(ctx *x, int *crit, int *nt)
{
    ms_state *s = &x->s;
    int G = s->G, B = s->B;
    for (int g = 0; g < G; g++) {
        x->weight[g] = 0;
        x->gmean[g] = 0;
    }
    for (int b = 0; b < B; b++)
        s->sel[b] = s->top[b * 3];
    double q90 = B > 1 ? s->sel[0] : 0;
    if (B > 1) {
        /* the 90th-percentile straggler, for weighting tail batches */
        double mx = 0;
        for (int b = 0; b < B; b++)
            mx = s->top[b * 3] > mx ? s->top[b * 3] : mx;
        int above = 0;
        q90 = mx;
        for (int it = 0; it < 40; it++) {
            above = 0;
            for (int b = 0; b < B; b++)
                above += s->top[b * 3] >= q90;
            if (above >= (B + 9) / 10)
                break;
            q90 *= 0.98;
        }
    }
    for (int b = 0; b < B; b++) {
        int g = s->topg[b * 3];
        if (g >= 0)
            x->weight[g] += 1.0 + (s->top[b * 3] >= q90 ? 2.0 * s->tail_weight : 0);
        for (int h = 0; h < G; h++)
            x->gmean[h] += s->T[(size_t)b * G + h];
    }
    int nc = 0;
    for (int k = 0; k < NUM_CRITICAL; k++) {
        int best = -1;
        for (int g = 0; g < G; g++) {
            int taken = 0;
            for (int j = 0; j < nc; j++)
                taken |= crit[j] == g;
            if (!taken && x->weight[g] > 0 && (best < 0 || x->weight[g] > x->weight[best]))
                best = g;
        }
        if (best < 0)
            break;
        crit[nc++] = best;
    }
    int n = G < NUM_TARGETS ? G : NUM_TARGETS;
    /* partial selection of the n least busy GPUs (n is small) */
    for (int g = 0; g < G; g++)
        x->targets[g] = g;
    for (int i = 0; i < n; i++) {
        int m = i;
        for (int j = i + 1; j < G; j++)
            if (x->gmean[x->targets[j]] < x->gmean[x->targets[m]])
                m = j;
        int t = x->targets[i];
        x->targets[i] = x->targets[m];
        x->targets[m] = t;
    }
    *nt = n;
    return nc;
}

/* A random swap or move of a replica of a critical GPU: the kick of iterated search. */
static int kick(ctx *x, int a, moemap_error *err)
{
    ms_state *s = &x->s;
    moemap_rng *rng = x->pb->rng;
    int G = s->G;
    for (int tries = 0; tries < 20; tries++) {
        int ri = (int)moemap_rng_below(rng, (uint64_t)s->nreps);
        if (s->reps[ri].gpu != a && tries < 10)
            continue;
        int src = s->reps[ri].gpu, e = s->reps[ri].expert;
        int b = (int)moemap_rng_below(rng, (uint64_t)G);
        if (b == src || s->at[(size_t)e * G + b] >= 0)
            continue;
        double sh = s->reps[ri].share;
        ms_delta d = {.n = 0, .g1 = src, .g2 = b};
        if (s->nrep[b] < x->pb->slots[b]) {
            item(&d, ri, e, src, sh, 0.0);
            item(&d, -1, e, b, 0.0, sh);
        } else {
            int r2 = -1;
            for (int r = 0; r < s->nreps && r2 < 0; r++)
                if (s->reps[r].gpu == b && s->at[(size_t)s->reps[r].expert * G + src] < 0 &&
                    s->reps[r].expert != e)
                    r2 = r;
            if (r2 < 0)
                continue;
            item(&d, ri, e, src, sh, 0.0);
            item(&d, -1, e, b, 0.0, sh);
            item(&d, r2, s->reps[r2].expert, b, s->reps[r2].share, 0.0);
            item(&d, -1, s->reps[r2].expert, src, 0.0, s->reps[r2].share);
        }
        int ok;
        ms_score_delta(s, &d, &ok);
        if (!ok)
            continue;
        return ms_apply(s, &d, err);
    }
    return 0;
}

static int search(ctx *x, long budget, moemap_error *err)
{
    ms_state *s = &x->s;
    ms_score cur = ms_score_now(s), best = cur;
    int rc = snapshot(x, &x->best, &x->nbest, err);
    int crit[NUM_CRITICAL], stalls = 0;
    double deadline = x->pb->deadline_s;
    while (!rc && s->work < budget && !(deadline > 0 && mm_now_s() > deadline)) {
        int nt, nc = pick_gpus(x, crit, &nt);
        int improved = 0;
        for (int i = 0; i < nc && !improved; i++) {
            ms_delta d;
            ms_score sc;
            if (best_for_gpu(x, crit[i], nt, cur, &d, &sc)) {
                rc = ms_apply(s, &d, err);
                cur = ms_score_now(s);
                improved = 1;
            }
        }
        if (improved)
            continue;
        /* Local optimum: remember it when it is the best so far, else go back to the
         * best; then kick from there while budget remains (iterated local search). */
        if (ms_better(cur, best)) {
            best = cur;
            rc = snapshot(x, &x->best, &x->nbest, err);
        } else if (ms_better(best, cur) && (stalls & 7) == 7) {
            rc = ms_load(s, x->best, x->nbest, err);
            nc = rc ? 0 : pick_gpus(x, crit, &nt);
        }
        if (rc || ++stalls > MAX_KICKS || nc == 0)
            break;
        rc = kick(x, crit[0], err);
        if (!rc)
            rc = kick(x, crit[nc > 1 ? 1 : 0], err);
        cur = ms_score_now(s);
    }
    if (!rc && ms_better(cur, best))
        rc = snapshot(x, &x->best, &x->nbest, err);
    return rc;
}

/* Candidate start: keeps it as the best when it scores better. */
static int try_start(ctx *x, ms_score *bs, int *have, moemap_error *err)
{
    ms_score sc = ms_score_now(&x->s);
    if (x->s.max_moves > 0 && x->s.nnew > x->s.max_moves)
        return 0;
    if (*have && !ms_better(sc, *bs))
        return 0;
    *bs = sc;
    *have = 1;
    return snapshot(x, &x->best, &x->nbest, err);
}

static int previous_start(ctx *x, moemap_error *err)
{
    const moemap_layer_placement *pl = x->pb->previous;
    ms_state *s = &x->s;
    int G = s->G, E = s->E;
    x->ntmp = 0;
    for (int i = 0; i < pl->num_replicas; i++) {
        const moemap_replica *r = &pl->replicas[i];
        if (r->expert < 0 || r->expert >= E || r->gpu < 0 || r->gpu >= G)
            continue;
        int dup = 0, on = 0;
        for (int j = 0; j < x->ntmp; j++) {
            dup |= x->tmp[j].expert == r->expert && x->tmp[j].gpu == r->gpu;
            on += x->tmp[j].gpu == r->gpu;
        }
        if (dup || on >= x->pb->slots[r->gpu])
            continue;
        x->tmp[x->ntmp++] = *r;
    }
    /* Shares of the kept replicas of each expert rescaled to 1. */
    for (int j = 0; j < x->ntmp; j++) {
        double sum = 0;
        int cnt = 0;
        for (int k = 0; k < x->ntmp; k++)
            if (x->tmp[k].expert == x->tmp[j].expert) {
                sum += x->tmp[k].share;
                cnt++;
            }
        (void)cnt;
        x->tmp[j].share = sum > 0 ? x->tmp[j].share / sum : 1.0 / cnt;
    }
    return construct(x, x->tmp, x->ntmp, err);
}

/* A hash of a curve's points (equal curves hash alike: +0 and -0 both as 0). */
/* A hash of what GPU g's expert costs: its own curve's points, or the base curve's with
 * the times divided by its speed (moemap_cluster_same_cost's notion of equal). */
static uint64_t cost_hash(const moemap_cluster *cl, int g)
{
    const moemap_gpu *gpu = &cl->gpus[g];
    const moemap_curve *c = gpu->curve.n > 0 ? &gpu->curve : &cl->base;
    double d = gpu->curve.n > 0 ? 1.0 : gpu->speed;
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)c->n;
    for (int i = 0; i < 2 * c->n; i++) {
        double v = i < c->n ? c->tokens[i] : c->us[i - c->n] / d;
        uint64_t u = 0;
        if (v != 0)
            memcpy(&u, &v, sizeof u);
        h = (h ^ u) * 1099511628211ULL;
        h ^= h >> 29;
    }
    return h;
}

/* cls[g] = the first GPU with g's curve: by a hash table of the curves, where comparing
 * every pair was O(G^2) per layer (a second of CPU for DeepSeek-V3 on 1,024 distinct
 * GPUs); on a hash shared by different curves, the pairwise scan for that GPU, so the
 * classes are the same as the scan's. */
static void curve_classes(const moemap_cluster *c, int G, int *cls)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)G)
        cap *= 2;
    int *first = moemap_malloc(cap * sizeof *first);
    uint64_t *hs = moemap_malloc((size_t)(G > 0 ? G : 1) * sizeof *hs);
    for (size_t i = 0; first && i < cap; i++)
        first[i] = -1;
    for (int g = 0; g < G; g++) {
        cls[g] = g;
        int found = -1, scan = !first || !hs;
        if (!scan) {
            hs[g] = cost_hash(c, g);
            size_t i = (size_t)hs[g] & (cap - 1);
            while (first[i] >= 0 && hs[first[i]] != hs[g])
                i = (i + 1) & (cap - 1);
            if (first[i] < 0)
                first[i] = g; /* a new hash: a new curve */
            else if (moemap_cluster_same_cost(c, first[i], g))
                found = first[i];
            else
                scan = 1; /* two curves, one hash */
        }
        for (int h = 0; scan && h < g && found < 0; h++)
            if (moemap_cluster_same_cost(c, h, g))
                found = h;
        if (found >= 0)
            cls[g] = cls[found];
    }
    moemap_free(first);
    moemap_free(hs);
}

int place_moemap(const place_problem *pb, place_result *out, moemap_error *err)
{
    ctx x;
    memset(&x, 0, sizeof x);
    x.pb = pb;
    int G = pb->num_gpus, E = pb->experts;
    double window = pp_window_tokens(pb);
    int rc = ms_init(&x.s, pb, MAX_SAMPLED_BATCHES, window, MAX_WINDOWS, err);
    if (rc)
        return rc;
    rc = ms_track_nodes(&x.s, err);
    if (rc) {
        ms_free(&x.s);
        return rc;
    }
    unsigned char *prev = NULL;
    int total_slots = 0;
    for (int g = 0; g < G; g++)
        total_slots += pb->slots[g];
    x.cls = moemap_malloc((size_t)G * sizeof *x.cls);
    x.order = moemap_malloc((size_t)E * sizeof *x.order);
    x.targets = moemap_malloc((size_t)G * sizeof *x.targets);
    x.gmean = moemap_malloc((size_t)G * sizeof *x.gmean);
    x.weight = moemap_malloc((size_t)G * sizeof *x.weight);
    x.stamp = moemap_calloc((size_t)G, sizeof *x.stamp);
    x.stamp_slots = moemap_calloc((size_t)G, sizeof *x.stamp_slots);
    x.captmp = (pb->previous ? pb->previous->num_replicas : 0) + total_slots + 1;
    x.tmp = moemap_malloc((size_t)x.captmp * sizeof *x.tmp);
    if (!x.cls || !x.order || !x.targets || !x.gmean || !x.weight || !x.tmp || !x.stamp ||
        !x.stamp_slots) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
        goto done;
    }
    curve_classes(pb->cluster, G, x.cls);
    place_sort_desc(pb->total, E, x.order);
    const moemap_place_params *pp = pb->params;
    if (pb->previous) {
        prev = moemap_calloc((size_t)E * G, 1);
        if (!prev) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
            goto done;
        }
        for (int i = 0; i < pb->previous->num_replicas; i++) {
            const moemap_replica *r = &pb->previous->replicas[i];
            if (r->expert >= 0 && r->expert < E && r->gpu >= 0 && r->gpu < G)
                prev[(size_t)r->expert * G + r->gpu] = 1;
        }
        x.s.prev = prev;
        x.s.max_moves = pp->max_moves;
        if (pp->move_cost_us_per_gb > 0 && pp->expert_bytes > 0)
            x.s.move_pen_us = pp->move_cost_us_per_gb * pp->expert_bytes / 1e9;
    }
    ms_score bs = {0, 0};
    int have = 0;
    double ref = INFINITY;
    if (pb->previous) {
        rc = previous_start(&x, err);
        if (!rc)
            rc = try_start(&x, &bs, &have, err);
    }
    if (!rc && !(pb->previous && pp->max_moves > 0)) {
        /* The greedy construction prices every expert on every GPU class over up to
         * CONSTRUCT_BATCHES batches (~8 ns each, measured: 1 s for DeepSeek-V3 on 1,024
         * distinct GPUs): when that would run past the layer's deadline it is skipped and
         * the search starts from eplb alone, so a small --time-limit holds at scale. */
        double est = 1e-8 * E * G * (x.s.B < CONSTRUCT_BATCHES ? x.s.B : CONSTRUCT_BATCHES);
        if (!(pb->deadline_s > 0 && mm_now_s() + est > pb->deadline_s)) {
            rc = construct(&x, NULL, 0, err);
            if (!rc)
                rc = try_start(&x, &bs, &have, err);
        }
        place_result eplb = {0};
        if (!rc)
            rc = place_eplb_global(pb, &eplb, err);
        if (!rc) {
            /* eplb's shares are set per expert already */
            rc = ms_load(&x.s, eplb.reps, eplb.n, err);
            if (!rc)
                rc = try_start(&x, &bs, &have, err);
            /* eplb's time on the engine-sized windows is the level the search may not
             * exceed without paying for it (ms_state.window_ref) */
            if (!rc && x.s.B > x.s.B0)
                ref = WINDOW_SLACK * ms_window_j(&x.s);
        }
        moemap_free(eplb.reps);
    }
    if (!rc && !have)
        rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                              "moemap: the previous placement needs more than %d moves to serve "
                              "every expert", pp->max_moves);
    x.s.window_ref = ref;
    if (!rc)
        rc = ms_load(&x.s, x.best, x.nbest, err);
    /* Replicas of one expert prefer one node (the dispatch stays on the fast links). The
     * cost model has no network term, so this only breaks ties of the objective: each
     * extra node an expert spans weighs NODE_PENALTY of the start's secondary score. */
    if (!rc && x.s.num_nodes > 1)
        x.s.node_pen_us = NODE_PENALTY * ms_score_now(&x.s).secondary;
    if (!rc) {
        double budget_s = pb->time_budget_s > 0 ? pb->time_budget_s : 0.05;
        /* the windows add batches to every evaluation: the input batches keep their steps */
        rc = search(&x, (long)(budget_s * WORK_PER_SECOND * x.s.B / x.s.B0), err);
    }
    for (int i = 0; i < x.nbest && !rc; i++)
        rc = place_result_add(out, x.best[i].expert, x.best[i].gpu, x.best[i].share, err);
    /* The objective weighs the tail and the windows; the promise is on the mean: never
     * slower than eplb on the layer's batches. */
    if (!rc && !pb->previous)
        rc = place_never_worse_than_eplb(pb, out, 0, NULL, err);
done:
    ms_free(&x.s);
    moemap_free(prev);
    moemap_free(x.cls);
    moemap_free(x.order);
    moemap_free(x.targets);
    moemap_free(x.gmean);
    moemap_free(x.weight);
    moemap_free(x.stamp);
    moemap_free(x.stamp_slots);
    moemap_free(x.best);
    moemap_free(x.tmp);
    return rc;
}
