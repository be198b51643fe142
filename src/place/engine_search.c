/*
 * engine_search.c — the moemap strategy under a serving engine's rules (SGLang, vLLM):
 * every GPU holds exactly S copies, every slot is filled, an expert's k copies each serve
 * 1/k of its tokens. Inside those rules a placement can still be speed-aware: hot experts
 * and their extra copies go to fast GPUs, cold experts fill the slow GPUs' slots, and a
 * copy is added only where it pays (at decode sizes every copy costs the curve's floor,
 * so a copy that halves a cold expert's tokens buys nothing).
 *
 * 1. Starts: (a) EPLB's replica counts (slots to the expert with the most tokens per
 *    copy), packed heaviest copy first onto the GPU whose *time* — its own curve — grows
 *    least, counting the floors its still-empty slots will cost; (b) EPLB's own layout.
 *    The better one under the objective is searched from.
 * 2. Local search on the sampled iterations (up to 64 of the input batches), the
 *    objective being the mean per-iteration straggler time, ties broken by the sum of
 *    squared GPU times (it falls only when time leaves busy GPUs): for the GPUs that are
 *    most often the straggler, (i) swap one of its copies with a copy on a less busy GPU,
 *    (ii) re-replicate: drop a copy of an expert it holds twice or more and give the slot
 *    to another expert (one copy fewer there, one more here), (iii) give one of its
 *    heavy experts another copy on a less busy GPU in place of a copy of an expert that
 *    has several. Every candidate is priced exactly on every sampled iteration; the best
 *    improving one is applied until none improves or the work budget (counted in
 *    evaluations, so the answer does not depend on the machine) is spent, or the call's
 *    wall-clock deadline (pb->deadline_s, the --time-limit) comes first.
 * 3. Never worse than the baseline: the result is compared with eplb's layout on all the
 *    layer's batches, and eplb's is returned when it has the lower mean straggler.
 */
#include "engine_rules.h"
#include "base_util.h"
#include "place_util.h"

#include <math.h>
#include <string.h>

#define MAX_SAMPLED_BATCHES 64
#define NUM_CRITICAL 3
#define NUM_TARGETS 16
#define NUM_ADD_CANDIDATES 48
#define MAX_KICKS 300
/* GPU times kept per batch, largest first: a candidate touching fewer GPUs than this
 * finds the untouched maximum without a scan (a swap on the straggler touches two). */
#define TOPK 4
/* Evaluations (GPU-batch cells priced) per second of budget on the 2-core CI machine. */
#define WORK_PER_SECOND 4e7

typedef struct es {
    const place_problem *pb;
    int G, E, S, B, C;
    const double **cnt;     /* [B] sampled batches' count rows */
    int *cls;               /* [G] class: GPUs with the same effective curve share one */
    int *crep;              /* [C] a GPU of each class */
    int *k;                 /* [E] copies of each expert */
    unsigned char *hold;    /* [E * G] */
    int *gl;                /* [G * S] experts on each GPU, -1 for a free slot */
    double *tab;            /* [(c * E + e) * B + b] f_c(cnt_b,e / k_e), see tabv */
    double *T;              /* [B * G] time of each GPU in each batch */
    double *M;              /* [B] straggler time */
    int *Mg;                /* [B] straggler GPU */
    double *top;            /* [B * TOPK] the largest GPU times of each batch, descending */
    int *topg;              /* [B * TOPK] their GPUs (-1 past the GPU count) */
    /* candidate scratch */
    int *xs;                /* [G] touched GPUs */
    int *xpos;              /* [G] position in xs or -1 */
    double *nT;             /* [G * B] new times of touched GPUs */
    double *fv;             /* [C * B] curve values under new copy counts */
    int *fvset;             /* [2 * C * E] ver[e] + 1 when fv holds e's values */
    int *ver;               /* [E] bumped whenever e's copy count changes */
    int *tabset;            /* [C * E] ver[e] + 1 when tab holds e's prices for class c */
    int nx;                 /* touched GPUs of the candidate being priced */
    double mean, sq;        /* objective now */
    long work;
} es;

static double fcls(const es *s, int c, double n)
{
    return moemap_cluster_expert_us(s->pb->cluster, s->crep[c], n);
}

/* e's copy count changed: every price of e cached below is stale. */
static void tab_update(es *s, int e)
{
    s->ver[e]++;
}

/* The cost of one copy of e on a GPU of class c in each sampled batch,
 * f_c(cnt_b,e / k_e), computed when first asked for and kept until e's copy count
 * changes: a search touches a few classes per expert, so with hundreds of distinct GPU
 * curves most (class, expert) pairs are never priced. */
static const double *tabv(es *s, int c, int e)
{
    size_t at = (size_t)c * s->E + e;
    double *t = &s->tab[at * s->B];
    if (s->tabset[at] != s->ver[e] + 1) {
        for (int b = 0; b < s->B; b++)
            t[b] = s->k[e] > 0 ? fcls(s, c, s->cnt[b][e] / s->k[e]) : 0.0;
        s->tabset[at] = s->ver[e] + 1;
    }
    return t;
}

#define TAB(s, c, e) tabv((s), (c), (e))

/* Recomputes every GPU's time, the stragglers and the objective. */
static void recompute(es *s)
{
    int G = s->G, B = s->B;
    memset(s->T, 0, (size_t)B * G * sizeof *s->T);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < s->S; i++) {
            int e = s->gl[g * s->S + i];
            if (e < 0)
                continue;
            const double *t = TAB(s, s->cls[g], e);
            for (int b = 0; b < B; b++)
                s->T[(size_t)b * G + g] += t[b];
        }
    s->mean = s->sq = 0;
    for (int b = 0; b < B; b++) {
        double *tv = &s->top[(size_t)b * TOPK];
        int *tg = &s->topg[(size_t)b * TOPK];
        for (int j = 0; j < TOPK; j++) {
            tv[j] = -1;
            tg[j] = -1;
        }
        for (int g = 0; g < G; g++) {
            double v = s->T[(size_t)b * G + g];
            s->sq += v * v;
            if (v <= tv[TOPK - 1])
                continue;
            int j = TOPK - 1;
            for (; j > 0 && v > tv[j - 1]; j--) {
                tv[j] = tv[j - 1];
                tg[j] = tg[j - 1];
            }
            tv[j] = v;
            tg[j] = g;
        }
        s->M[b] = tv[0];
        s->Mg[b] = tg[0];
        s->mean += tv[0];
    }
    s->mean /= B;
}

/* Loads a layout (replicas with any shares; only (expert, gpu) pairs count). */
static int load(es *s, const moemap_replica *reps, int n, moemap_error *err)
{
    int G = s->G, S = s->S;
    memset(s->k, 0, (size_t)s->E * sizeof *s->k);
    memset(s->hold, 0, (size_t)s->E * G);
    for (int i = 0; i < G * S; i++)
        s->gl[i] = -1;
    for (int i = 0; i < n; i++) {
        int e = reps[i].expert, g = reps[i].gpu, j = 0;
        while (j < S && s->gl[g * S + j] >= 0)
            j++;
        if (j == S || s->hold[(size_t)e * G + g])
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "moemap engine search: start holds more than %d copies on "
                                    "GPU %d or expert %d twice", S, g, e);
        s->gl[g * S + j] = e;
        s->hold[(size_t)e * G + g] = 1;
        s->k[e]++;
    }
    for (int e = 0; e < s->E; e++)
        tab_update(s, e);
    recompute(s);
    return 0;
}

/* ---- pricing a candidate ---------------------------------------------------------- */

static void cand_begin(es *s)
{
    for (int i = 0; i < s->G; i++)
        s->xpos[i] = -1;
    s->nx = 0;
}

/* New-time row of GPU g (copied from T when first touched). */
static double *touch(es *s, int g)
{
    if (s->xpos[g] < 0) {
        s->xpos[g] = s->nx;
        s->xs[s->nx] = g;
        double *row = &s->nT[(size_t)s->nx * s->B];
        for (int b = 0; b < s->B; b++)
            row[b] = s->T[(size_t)b * s->G + g];
        s->nx++;
    }
    return &s->nT[(size_t)s->xpos[g] * s->B];
}

/* f_c(cnt_b,e / kk) for class c, kk being e's copy count minus one (slot 0) or plus one
 * (slot 1): the prices of a re-replication, cached per class and expert until e's copy
 * count changes (the same expert appears in many candidates of one step). */
static const double *newf(es *s, int c, int e, int kk, int slot)
{
    size_t at = ((size_t)slot * s->C + c) * s->E + e;
    double *v = &s->fv[at * s->B];
    if (s->fvset[at] != s->ver[e] + 1) {
        for (int b = 0; b < s->B; b++)
            v[b] = fcls(s, c, s->cnt[b][e] / kk);
        s->fvset[at] = s->ver[e] + 1;
    }
    return v;
}

/* Mean straggler and sum of squares after the touched GPUs take their new times. */
static void cand_score(es *s, double *mean, double *sq)
{
    int G = s->G, B = s->B;
    double m_sum = 0, dsq = 0;
    for (int b = 0; b < B; b++) {
        /* the largest time among untouched GPUs: from the kept top list, else a scan */
        double m = 0;
        int j = 0;
        const int *tg = &s->topg[(size_t)b * TOPK];
        while (j < TOPK && tg[j] >= 0 && s->xpos[tg[j]] >= 0)
            j++;
        if (j < TOPK)
            m = tg[j] >= 0 ? s->top[(size_t)b * TOPK + j] : 0; /* -1: every GPU listed */
        else
            for (int g = 0; g < G; g++)
                if (s->xpos[g] < 0 && s->T[(size_t)b * G + g] > m)
                    m = s->T[(size_t)b * G + g];
        for (int x = 0; x < s->nx; x++) {
            double nv = s->nT[(size_t)x * B + b], ov = s->T[(size_t)b * G + s->xs[x]];
            if (nv > m)
                m = nv;
            dsq += nv * nv - ov * ov;
        }
        m_sum += m;
    }
    s->work += (long)B * (s->nx + 1);
    *mean = m_sum / B;
    *sq = s->sq + dsq;
}

static int better(double m1, double q1, double m0, double q0)
{
    if (m1 < m0 - 1e-9 * m0)
        return 1;
    return m1 <= m0 + 1e-12 * m0 && q1 < q0 - 1e-9 * q0;
}

/* ---- the moves ----------------------------------------------------------------------- */

typedef struct move {
    int kind;          /* 1 swap, 2 re-replicate */
    int g, e;          /* swap: copy of e on g ...; rerep: drop a copy of e on gpu g ... */
    int h, f;          /* swap: ... with copy of f on h; rerep: ... add a copy of f on h */
    double mean, sq;
} move;

static void price_swap(es *s, move *mv)
{
    cand_begin(s);
    const double *a = TAB(s, s->cls[mv->g], mv->e), *a2 = TAB(s, s->cls[mv->g], mv->f);
    const double *b1 = TAB(s, s->cls[mv->h], mv->f), *b2 = TAB(s, s->cls[mv->h], mv->e);
    double *rg = touch(s, mv->g), *rh = touch(s, mv->h);
    for (int b = 0; b < s->B; b++) {
        rg[b] += a2[b] - a[b];
        rh[b] += b2[b] - b1[b];
    }
    cand_score(s, &mv->mean, &mv->sq);
}

/* Drop e's copy on g, add a copy of f on h (h may equal g). */
static void price_rerep(es *s, move *mv)
{
    int G = s->G, B = s->B, e = mv->e, f = mv->f;
    cand_begin(s);
    int ke = s->k[e] - 1, kf = s->k[f] + 1;
    for (int g = 0; g < G; g++) {
        if (s->hold[(size_t)e * G + g]) {
            int c = s->cls[g];
            double *r = touch(s, g);
            const double *old = TAB(s, c, e);
            if (g == mv->g)
                for (int b = 0; b < B; b++)
                    r[b] -= old[b];
            else {
                const double *nv = newf(s, c, e, ke, 0);
                for (int b = 0; b < B; b++)
                    r[b] += nv[b] - old[b];
            }
        }
        if (s->hold[(size_t)f * G + g] || g == mv->h) {
            int c = s->cls[g];
            double *r = touch(s, g);
            const double *nv = newf(s, c, f, kf, 1);
            if (g == mv->h)
                for (int b = 0; b < B; b++)
                    r[b] += nv[b];
            else {
                const double *old = TAB(s, c, f);
                for (int b = 0; b < B; b++)
                    r[b] += nv[b] - old[b];
            }
        }
    }
    cand_score(s, &mv->mean, &mv->sq);
}

static int slot_of(const es *s, int g, int e)
{
    for (int i = 0; i < s->S; i++)
        if (s->gl[g * s->S + i] == e)
            return i;
    return -1;
}

static void apply(es *s, const move *mv)
{
    int G = s->G;
    if (mv->kind == 1) {
        s->gl[mv->g * s->S + slot_of(s, mv->g, mv->e)] = mv->f;
        s->gl[mv->h * s->S + slot_of(s, mv->h, mv->f)] = mv->e;
        s->hold[(size_t)mv->e * G + mv->g] = 0;
        s->hold[(size_t)mv->f * G + mv->h] = 0;
        s->hold[(size_t)mv->f * G + mv->g] = 1;
        s->hold[(size_t)mv->e * G + mv->h] = 1;
    } else {
        int i = slot_of(s, mv->g, mv->e);
        s->gl[mv->g * s->S + i] = -1;
        s->hold[(size_t)mv->e * G + mv->g] = 0;
        s->k[mv->e]--;
        int j = slot_of(s, mv->h, -1);
        s->gl[mv->h * s->S + j] = mv->f;
        s->hold[(size_t)mv->f * G + mv->h] = 1;
        s->k[mv->f]++;
        tab_update(s, mv->e);
        tab_update(s, mv->f);
    }
    recompute(s);
}

static void consider(es *s, move *cand, move *best)
{
    if (cand->kind == 1)
        price_swap(s, cand);
    else
        price_rerep(s, cand);
    if (better(cand->mean, cand->sq, best->mean, best->sq))
        *best = *cand;
}

/* GPUs by how often they are the straggler (desc) into crit[], least busy into tgt[]. */
static int rank_gpus(es *s, int *crit, int *tgt, double *w, double *busy)
{
    int G = s->G, B = s->B;
    for (int g = 0; g < G; g++) {
        w[g] = 0;
        busy[g] = 0;
    }
    for (int b = 0; b < B; b++) {
        w[s->Mg[b]] += 1.0;
        for (int g = 0; g < G; g++)
            busy[g] += s->T[(size_t)b * G + g];
    }
    int nc = 0;
    for (int i = 0; i < NUM_CRITICAL; i++) {
        int best = -1;
        for (int g = 0; g < G; g++) {
            int taken = 0;
            for (int j = 0; j < nc; j++)
                taken |= crit[j] == g;
            if (!taken && w[g] > 0 && (best < 0 || w[g] > w[best]))
                best = g;
        }
        if (best < 0)
            break;
        crit[nc++] = best;
    }
    int nt = G < NUM_TARGETS ? G : NUM_TARGETS;
    for (int g = 0; g < G; g++)
        tgt[g] = g;
    for (int i = 0; i < nt; i++) {
        int m = i;
        for (int j = i + 1; j < G; j++)
            if (busy[tgt[j]] < busy[tgt[m]])
                m = j;
        int t = tgt[i];
        tgt[i] = tgt[m];
        tgt[m] = t;
    }
    return nc;
}

/* Best improving move around critical GPU a. */
static int best_move(es *s, int a, const int *tgt, int nt, const int *addc, int na, move *best)
{
    int G = s->G, S = s->S;
    best->kind = 0;
    best->mean = s->mean;
    best->sq = s->sq;
    for (int i = 0; i < S; i++) {
        int e = s->gl[a * S + i];
        /* (ii) a's copy of e (one of several) gives its slot to another expert */
        if (s->k[e] >= 2)
            for (int q = 0; q < na; q++) {
                int f = addc[q];
                if (f == e || s->hold[(size_t)f * G + a] || s->k[f] >= G)
                    continue;
                move m = {2, a, e, a, f, 0, 0};
                consider(s, &m, best);
            }
        for (int t = 0; t < nt; t++) {
            int h = tgt[t];
            if (h == a || s->hold[(size_t)e * G + h])
                continue;
            for (int j = 0; j < S; j++) {
                int f = s->gl[h * S + j];
                if (f == e)
                    continue;
                /* (i) swap a's copy of e with h's copy of f */
                if (!s->hold[(size_t)f * G + a]) {
                    move m = {1, a, e, h, f, 0, 0};
                    consider(s, &m, best);
                }
                /* (iii) e gets another copy on h, in place of h's copy of f (one of
                 * several) */
                if (s->k[e] < G && s->k[f] >= 2) {
                    move m = {2, h, f, h, e, 0, 0};
                    consider(s, &m, best);
                }
            }
        }
    }
    return best->kind != 0;
}

/* Puts the layout gl back (after kicks that did not pay): copy counts and holdings are
 * rebuilt; only experts whose copy count changed are re-priced. old_k is scratch [E]. */
static void restore(es *s, const int *gl, int *old_k)
{
    int G = s->G, S = s->S, E = s->E;
    memcpy(old_k, s->k, (size_t)E * sizeof *old_k);
    memcpy(s->gl, gl, (size_t)G * S * sizeof *s->gl);
    memset(s->k, 0, (size_t)E * sizeof *s->k);
    memset(s->hold, 0, (size_t)E * G);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < S; i++) {
            int e = gl[g * S + i];
            if (e >= 0) {
                s->k[e]++;
                s->hold[(size_t)e * G + g] = 1;
            }
        }
    for (int e = 0; e < E; e++)
        if (s->k[e] != old_k[e])
            tab_update(s, e);
    recompute(s);
}

/* A random change around GPU a, whatever it costs: the kick of iterated local search. A
 * swap of one of a's copies with a copy on a random GPU, or (one time in three) one of
 * a's copies of a replicated expert given to one of the candidates for an extra copy. */
static void kick(es *s, int a, const int *addc, int na)
{
    moemap_rng *rng = s->pb->rng;
    int G = s->G, S = s->S;
    for (int tries = 0; tries < 20; tries++) {
        int e = s->gl[a * S + (int)moemap_rng_below(rng, (uint64_t)S)];
        if (e < 0)
            continue;
        if (moemap_rng_below(rng, 3) == 0 && s->k[e] >= 2 && na > 0) {
            int f = addc[moemap_rng_below(rng, (uint64_t)na)];
            if (f == e || s->hold[(size_t)f * G + a] || s->k[f] >= G)
                continue;
            move m = {2, a, e, a, f, 0, 0};
            apply(s, &m);
            return;
        }
        int h = (int)moemap_rng_below(rng, (uint64_t)G);
        int f = s->gl[h * S + (int)moemap_rng_below(rng, (uint64_t)S)];
        if (h == a || f < 0 || f == e || s->hold[(size_t)e * G + h] ||
            s->hold[(size_t)f * G + a])
            continue;
        move m = {1, a, e, h, f, 0, 0};
        apply(s, &m);
        return;
    }
}

/* Experts by tokens per copy, descending: the candidates for an extra copy. */
static int add_candidates(es *s, double *w, int *order, int *out)
{
    for (int e = 0; e < s->E; e++)
        w[e] = s->pb->total[e] / (s->k[e] > 0 ? s->k[e] : 1);
    place_sort_desc(w, s->E, order);
    int n = s->E < NUM_ADD_CANDIDATES ? s->E : NUM_ADD_CANDIDATES;
    memcpy(out, order, (size_t)n * sizeof *out);
    return n;
}

/* ---- construction -------------------------------------------------------------------- */

/* EPLB's replica counts, then time-aware packing with the empty slots' floors counted. */
static void construct(es *s, moemap_replica *reps, int *n, int *item_e, double *item_w,
                      int *order, double *gtime, int *used)
{
    const place_problem *pb = s->pb;
    int G = s->G, E = s->E, S = s->S;
    for (int e = 0; e < E; e++)
        s->k[e] = 1;
    for (int r = E; r < G * S; r++) {
        int best = -1;
        double bv = -1;
        for (int e = 0; e < E; e++)
            if (s->k[e] < G && pb->total[e] / s->k[e] > bv) {
                bv = pb->total[e] / s->k[e];
                best = e;
            }
        if (best < 0)
            break;
        s->k[best]++;
    }
    double nb = pb->num_batches > 0 ? pb->num_batches : 1;
    int items = 0;
    for (int e = 0; e < E; e++)
        for (int r = 0; r < s->k[e]; r++) {
            item_e[items] = e;
            item_w[items] = pb->total[e] / s->k[e] / nb;
            items++;
        }
    place_sort_desc(item_w, items, order);
    double w_last = items > 0 ? item_w[order[items - 1]] : 0;
    memset(s->hold, 0, (size_t)E * G);
    for (int g = 0; g < G; g++) {
        gtime[g] = 0;
        used[g] = 0;
    }
    *n = 0;
    for (int i = 0; i < items; i++) {
        int e = item_e[order[i]];
        double we = item_w[order[i]];
        int best = -1;
        double bv = INFINITY;
        for (int g = 0; g < G; g++) {
            if (used[g] >= S || s->hold[(size_t)e * G + g])
                continue;
            double v = gtime[g] + moemap_cluster_expert_us(pb->cluster, g, we) +
                       (S - used[g] - 1) * moemap_cluster_expert_us(pb->cluster, g, w_last);
            if (v < bv) {
                bv = v;
                best = g;
            }
        }
        if (best < 0)
            continue; /* every GPU with room holds e already: engine_complete refills */
        s->hold[(size_t)e * G + best] = 1;
        used[best]++;
        gtime[best] += moemap_cluster_expert_us(pb->cluster, best, we);
        reps[(*n)++] = (moemap_replica){e, best, 0.0};
    }
}

static int layout_to_result(const es *s, place_result *out, moemap_error *err)
{
    int rc = 0;
    for (int g = 0; g < s->G && !rc; g++)
        for (int i = 0; i < s->S && !rc; i++) {
            int e = s->gl[g * s->S + i];
            if (e >= 0)
                rc = place_result_add(out, e, g, 1.0 / s->k[e], err);
        }
    return rc;
}

int place_moemap_engine(const place_problem *pb, place_result *out, moemap_error *err)
{
    int G = pb->num_gpus, E = pb->experts, S = pb->slots[0];
    es s;
    memset(&s, 0, sizeof s);
    s.pb = pb;
    s.G = G;
    s.E = E;
    s.S = S;
    s.B = pb->num_batches < MAX_SAMPLED_BATCHES ? pb->num_batches : MAX_SAMPLED_BATCHES;
    int GS = G * S;
    place_result eplb = {0}, mine = {0};
    s.cnt = moemap_malloc((size_t)s.B * sizeof *s.cnt);
    s.cls = moemap_malloc((size_t)G * sizeof *s.cls);
    s.crep = moemap_malloc((size_t)G * sizeof *s.crep);
    s.k = moemap_malloc((size_t)E * sizeof *s.k);
    s.hold = moemap_malloc((size_t)E * G);
    s.gl = moemap_malloc((size_t)GS * sizeof *s.gl);
    s.T = moemap_malloc((size_t)s.B * G * sizeof *s.T);
    s.M = moemap_malloc((size_t)s.B * sizeof *s.M);
    s.Mg = moemap_malloc((size_t)s.B * sizeof *s.Mg);
    s.top = moemap_malloc((size_t)s.B * TOPK * sizeof *s.top);
    s.topg = moemap_malloc((size_t)s.B * TOPK * sizeof *s.topg);
    s.xs = moemap_malloc((size_t)G * sizeof *s.xs);
    s.xpos = moemap_malloc((size_t)G * sizeof *s.xpos);
    s.nT = moemap_malloc((size_t)G * s.B * sizeof *s.nT);
    /* w and order: [E + GS] sort keys and order, then [GS] construction items */
    double *w = moemap_malloc((size_t)(E + 2 * GS + G) * sizeof *w);
    int *order = moemap_malloc((size_t)(E + 2 * GS + G) * sizeof *order);
    double *gtime = moemap_malloc((size_t)G * 2 * sizeof *gtime); /* place_layer_mean_us */
    int *used = moemap_malloc((size_t)G * sizeof *used);
    int *crit = moemap_malloc((size_t)G * sizeof *crit);
    int *tgt = moemap_malloc((size_t)G * sizeof *tgt);
    int *addc = moemap_malloc((size_t)E * sizeof *addc);
    moemap_replica *reps = moemap_malloc((size_t)GS * sizeof *reps);
    int *best_gl = moemap_malloc((size_t)GS * sizeof *best_gl);
    int rc = 0;
    if (!s.cnt || !s.cls || !s.crep || !s.k || !s.hold || !s.gl || !s.T || !s.M || !s.Mg ||
        !s.top || !s.topg ||
        !s.xs || !s.xpos || !s.nT || !w || !order || !gtime || !used || !crit || !tgt ||
        !addc || !reps || !best_gl) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
        goto done;
    }
    for (int b = 0; b < s.B; b++) {
        long src = (long)b * pb->num_batches / s.B; /* evenly spread sample */
        s.cnt[b] = &pb->counts[(size_t)src * E];
    }
    for (int g = 0; g < G; g++) {
        s.cls[g] = -1;
        for (int c = 0; c < s.C && s.cls[g] < 0; c++)
            if (moemap_cluster_same_cost(pb->cluster, s.crep[c], g))
                s.cls[g] = c;
        if (s.cls[g] < 0) {
            s.crep[s.C] = g;
            s.cls[g] = s.C++;
        }
    }
    s.tab = moemap_malloc((size_t)s.C * E * s.B * sizeof *s.tab);
    s.fv = moemap_malloc((size_t)2 * s.C * E * s.B * sizeof *s.fv);
    s.fvset = moemap_calloc((size_t)2 * s.C * E, sizeof *s.fvset);
    s.ver = moemap_calloc((size_t)E, sizeof *s.ver);
    s.tabset = moemap_calloc((size_t)s.C * E, sizeof *s.tabset);
    if (!s.tab || !s.fv || !s.fvset || !s.ver || !s.tabset) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
        goto done;
    }
    /* Start (b): eplb's layout under the same rules. */
    rc = place_eplb_global(pb, &eplb, err);
    if (!rc)
        rc = engine_complete(pb, &eplb, err);
    if (!rc)
        rc = load(&s, eplb.reps, eplb.n, err);
    if (rc)
        goto done;
    double eplb_mean = s.mean, eplb_sq = s.sq;
    /* Start (a): speed-aware counts and packing, completed to the rules. */
    int n = 0;
    construct(&s, reps, &n, order + E + GS, w + E + GS, order, gtime, used);
    for (int i = 0; i < n && !rc; i++)
        rc = place_result_add(&mine, reps[i].expert, reps[i].gpu, 0.0, err);
    if (!rc)
        rc = engine_complete(pb, &mine, err);
    if (!rc)
        rc = load(&s, mine.reps, mine.n, err);
    if (!rc && !better(s.mean, s.sq, eplb_mean, eplb_sq))
        rc = load(&s, eplb.reps, eplb.n, err);
    if (rc)
        goto done;
    long budget = (long)((pb->time_budget_s > 0 ? pb->time_budget_s : 0.05) * WORK_PER_SECOND);
    double *busy = gtime;
    /* Descent; at a local optimum, remember it if it is the best so far (else go back to
     * the best now and then), then kick and descend again while budget remains. */
    memcpy(best_gl, s.gl, (size_t)GS * sizeof *best_gl);
    double best_mean = s.mean, best_sq = s.sq;
    int stalls = 0;
    double deadline = pb->deadline_s;
    while (s.work < budget && !(deadline > 0 && mm_now_s() > deadline)) {
        int na = add_candidates(&s, w, order, addc);
        int nc = rank_gpus(&s, crit, tgt, w + E, busy);
        int nt = G < NUM_TARGETS ? G : NUM_TARGETS;
        move best;
        int found = 0;
        for (int i = 0; i < nc && !found; i++)
            found = best_move(&s, crit[i], tgt, nt, addc, na, &best);
        if (found) {
            apply(&s, &best);
            continue;
        }
        if (better(s.mean, s.sq, best_mean, best_sq)) {
            memcpy(best_gl, s.gl, (size_t)GS * sizeof *best_gl);
            best_mean = s.mean;
            best_sq = s.sq;
        } else if ((stalls & 7) == 7) {
            restore(&s, best_gl, order);
        }
        if (++stalls > MAX_KICKS || nc == 0)
            break;
        kick(&s, crit[0], addc, na);
        kick(&s, crit[nc > 1 ? 1 : 0], addc, na);
    }
    if (better(best_mean, best_sq, s.mean, s.sq))
        restore(&s, best_gl, order);
    mine.n = 0;
    rc = layout_to_result(&s, &mine, err);
    if (rc)
        goto done;
    /* Never worse than the baseline, on every batch of the layer (not only the sample). */
    const place_result *pick = place_layer_mean_us(pb, &mine, gtime) <=
                                       place_layer_mean_us(pb, &eplb, gtime)
                                   ? &mine : &eplb;
    for (int i = 0; i < pick->n && !rc; i++)
        rc = place_result_add(out, pick->reps[i].expert, pick->reps[i].gpu,
                              pick->reps[i].share, err);
done:
    moemap_free(eplb.reps);
    moemap_free(mine.reps);
    moemap_free(s.cnt);
    moemap_free(s.cls);
    moemap_free(s.crep);
    moemap_free(s.k);
    moemap_free(s.hold);
    moemap_free(s.gl);
    moemap_free(s.tab);
    moemap_free(s.T);
    moemap_free(s.M);
    moemap_free(s.Mg);
    moemap_free(s.top);
    moemap_free(s.topg);
    moemap_free(s.xs);
    moemap_free(s.xpos);
    moemap_free(s.nT);
    moemap_free(s.fv);
    moemap_free(s.fvset);
    moemap_free(s.ver);
    moemap_free(s.tabset);
    moemap_free(w);
    moemap_free(order);
    moemap_free(gtime);
    moemap_free(used);
    moemap_free(crit);
    moemap_free(tgt);
    moemap_free(addc);
    moemap_free(reps);
    moemap_free(best_gl);
    return rc;
}
