/*
 * moemap_search.c — the incremental cost state of the `moemap` strategy (see
 * moemap_search.h). Every candidate touches at most two GPUs, so its price per sampled
 * batch is two GPU times recomputed from a few curve evaluations, the straggler of the
 * other GPUs read from a per-batch top-3, and the running sums of T and T^2 adjusted.
 * Nothing here allocates after ms_init except when a replica is added.
 */
#include "moemap_search.h"

#include <math.h>
#include <string.h>

static double fcost(const ms_state *s, int g, double n)
{
    return moemap_cluster_expert_us(s->pb->cluster, g, n);
}

int ms_init(ms_state *s, const place_problem *pb, int max_batches, double window_tokens,
            int max_windows, moemap_error *err)
{
    memset(s, 0, sizeof *s);
    s->pb = pb;
    s->G = pb->num_gpus;
    s->E = pb->experts;
    s->B = pb->num_batches < max_batches ? pb->num_batches : max_batches;
    if (s->B < 1)
        s->B = 1;
    s->B0 = s->B;
    s->window_ref = INFINITY;
    /* Windows of w consecutive input batches, w = tokens wanted / mean batch tokens. */
    double tok = 0;
    for (int b = 0; b < pb->num_batches; b++)
        tok += pb->batch_tokens ? pb->batch_tokens[b] : 0;
    double mean_tok = pb->num_batches > 0 ? tok / pb->num_batches : 0;
    int w = mean_tok > 0 && window_tokens > 0 ? (int)ceil(window_tokens / mean_tok - 1e-9) : 1;
    if (w > pb->num_batches)
        w = pb->num_batches;
    int nw = w > 1 && max_windows > 0 ? max_windows : 0;
    s->tail_weight = pb->params->tail_weight >= 0 ? pb->params->tail_weight : 0;
    s->B += nw;
    size_t G = (size_t)s->G, E = (size_t)s->E, B = (size_t)s->B;
    s->cnt = moemap_malloc(B * sizeof *s->cnt);
    s->wcnt = nw ? moemap_calloc((size_t)nw * E, sizeof *s->wcnt) : NULL;
    s->at = moemap_malloc(E * G * sizeof *s->at);
    s->nrep = moemap_calloc(G, sizeof *s->nrep);
    s->T = moemap_calloc(B * G, sizeof *s->T);
    s->S1 = moemap_calloc(B, sizeof *s->S1);
    s->S2 = moemap_calloc(B, sizeof *s->S2);
    s->top = moemap_calloc(B * 3, sizeof *s->top);
    s->topg = moemap_malloc(B * 3 * sizeof *s->topg);
    s->M = moemap_malloc(B * sizeof *s->M);
    s->sel = moemap_malloc(B * sizeof *s->sel);
    if (!s->cnt || !s->at || !s->nrep || !s->T || !s->S1 || !s->S2 || !s->top || !s->topg ||
        !s->M || !s->sel || (nw && !s->wcnt)) {
        ms_free(s);
        return moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
    }
    /* Batches spread evenly over the input when there are more than max_batches. */
    for (int b = 0; b < s->B0; b++) {
        long src = pb->num_batches <= s->B0 ? b
                                            : (long)(((double)b + 0.5) * pb->num_batches / s->B0);
        s->cnt[b] = pb->counts + (size_t)src * E;
    }
    /* Window i starts at input batch i * nb / nw and sums w batches (cyclically). */
    for (int i = 0; i < nw; i++) {
        double *row = s->wcnt + (size_t)i * E;
        long start = (long)((double)i * pb->num_batches / nw);
        for (int j = 0; j < w; j++) {
            const double *src = pb->counts + (size_t)((start + j) % pb->num_batches) * E;
            for (size_t e = 0; e < E; e++)
                row[e] += src[e];
        }
        s->cnt[s->B0 + i] = row;
    }
    for (size_t i = 0; i < E * G; i++)
        s->at[i] = -1;
    for (size_t i = 0; i < B * 3; i++)
        s->topg[i] = -1;
    return 0;
}

void ms_free(ms_state *s)
{
    moemap_free(s->cnt);
    moemap_free(s->wcnt);
    moemap_free(s->at);
    moemap_free(s->nrep);
    moemap_free(s->T);
    moemap_free(s->S1);
    moemap_free(s->S2);
    moemap_free(s->top);
    moemap_free(s->topg);
    moemap_free(s->M);
    moemap_free(s->sel);
    moemap_free(s->reps);
    moemap_free(s->rc);
    moemap_free(s->enode);
    moemap_free(s->node);
    memset(s, 0, sizeof *s);
}

int ms_track_nodes(ms_state *s, moemap_error *err)
{
    const moemap_cluster *c = s->pb->cluster;
    int nn = 0;
    for (int g = 0; g < s->G; g++)
        if (c->gpus[g].node + 1 > nn)
            nn = c->gpus[g].node + 1;
    if (nn <= 1)
        return 0;
    s->enode = moemap_calloc((size_t)s->E * nn, sizeof *s->enode);
    s->node = moemap_malloc((size_t)s->G * sizeof *s->node);
    if (!s->enode || !s->node) {
        moemap_free(s->enode);
        moemap_free(s->node);
        s->enode = NULL;
        s->node = NULL;
        return moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
    }
    for (int g = 0; g < s->G; g++)
        s->node[g] = c->gpus[g].node;
    s->num_nodes = nn;
    return 0;
}

/* Node bookkeeping for one replica added (+1) or removed (-1). */
static void node_count(ms_state *s, int e, int g, int dir)
{
    if (s->num_nodes <= 1)
        return;
    int *cnt = &s->enode[(size_t)e * s->num_nodes];
    int nd = s->node[g];
    int before = 0, after;
    for (int n = 0; n < s->num_nodes; n++)
        before += cnt[n] > 0;
    cnt[nd] += dir;
    after = 0;
    for (int n = 0; n < s->num_nodes; n++)
        after += cnt[n] > 0;
    s->spread += (after > 0 ? after - 1 : 0) - (before > 0 ? before - 1 : 0);
}

/* Change of the node spread a delta causes (simulated on a copy of the few counts). */
static int delta_spread(const ms_state *s, const ms_delta *d)
{
    if (s->num_nodes <= 1 || s->node_pen_us <= 0)
        return 0;
    int ds = 0;
    int done[4] = {-1, -1, -1, -1};
    for (int i = 0; i < d->n; i++) {
        int e = d->items[i].expert, seen = 0;
        for (int j = 0; j < i; j++)
            seen |= done[j] == e;
        done[i] = e;
        if (seen)
            continue;
        const int *cnt = &s->enode[(size_t)e * s->num_nodes];
        int before = 0, after = 0;
        for (int n = 0; n < s->num_nodes; n++) {
            int v = cnt[n];
            before += v > 0;
            for (int k = 0; k < d->n; k++) {
                const ms_item *it = &d->items[k];
                if (it->expert != e || s->node[it->gpu] != n)
                    continue;
                if (it->rep < 0)
                    v++;
                else if (it->new_share <= 0)
                    v--;
            }
            after += v > 0;
        }
        ds += (after > 0 ? after - 1 : 0) - (before > 0 ? before - 1 : 0);
    }
    return ds;
}

static void recompute_top(ms_state *s, int b)
{
    double *t = &s->top[b * 3];
    int *tg = &s->topg[b * 3];
    t[0] = t[1] = t[2] = -1;
    tg[0] = tg[1] = tg[2] = -1;
    const double *row = &s->T[(size_t)b * s->G];
    for (int g = 0; g < s->G; g++) {
        double v = row[g];
        if (v > t[2]) {
            if (v > t[1]) {
                t[2] = t[1];
                tg[2] = tg[1];
                if (v > t[0]) {
                    t[1] = t[0];
                    tg[1] = tg[0];
                    t[0] = v;
                    tg[0] = g;
                } else {
                    t[1] = v;
                    tg[1] = g;
                }
            } else {
                t[2] = v;
                tg[2] = g;
            }
        }
    }
}

static void recompute_all(ms_state *s)
{
    for (int b = 0; b < s->B; b++) {
        double *row = &s->T[(size_t)b * s->G];
        for (int g = 0; g < s->G; g++)
            row[g] = 0;
        for (int i = 0; i < s->nreps; i++)
            row[s->reps[i].gpu] += s->rc[(size_t)i * s->B + b];
        double s1 = 0, s2 = 0;
        for (int g = 0; g < s->G; g++) {
            s1 += row[g];
            s2 += row[g] * row[g];
        }
        s->S1[b] = s1;
        s->S2[b] = s2;
        recompute_top(s, b);
    }
}

static int is_prev(const ms_state *s, int e, int g)
{
    return s->prev && s->prev[(size_t)e * s->G + g];
}

static int push_rep(ms_state *s, int expert, int gpu, double share, moemap_error *err)
{
    if (s->nreps == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        ms_rep *grown = moemap_realloc(s->reps, (size_t)cap * sizeof *grown);
        if (!grown)
            return moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
        s->reps = grown;
        double *rcg = moemap_realloc(s->rc, (size_t)cap * s->B * sizeof *rcg);
        if (!rcg)
            return moemap_error_set(err, MOEMAP_ENOMEM, "moemap: out of memory");
        s->rc = rcg;
        s->cap = cap;
    }
    ms_rep *r = &s->reps[s->nreps];
    r->expert = expert;
    r->gpu = gpu;
    r->share = share;
    double *row = &s->rc[(size_t)s->nreps * s->B];
    for (int b = 0; b < s->B; b++) {
        double ce = s->cnt[b][expert];
        row[b] = ce > 0 ? fcost(s, gpu, share * ce) : 0.0;
    }
    s->at[(size_t)expert * s->G + gpu] = s->nreps;
    s->nrep[gpu]++;
    s->nreps++;
    node_count(s, expert, gpu, +1);
    if (!is_prev(s, expert, gpu))
        s->nnew++;
    return 0;
}

int ms_load(ms_state *s, const moemap_replica *reps, int n, moemap_error *err)
{
    for (int i = 0; i < s->nreps; i++)
        s->at[(size_t)s->reps[i].expert * s->G + s->reps[i].gpu] = -1;
    s->nreps = 0;
    s->nnew = 0;
    s->spread = 0;
    if (s->enode)
        memset(s->enode, 0, (size_t)s->E * s->num_nodes * sizeof *s->enode);
    for (int g = 0; g < s->G; g++)
        s->nrep[g] = 0;
    for (int i = 0; i < n; i++) {
        int rc = push_rep(s, reps[i].expert, reps[i].gpu, reps[i].share, err);
        if (rc)
            return rc;
    }
    recompute_all(s);
    return 0;
}

int ms_add(ms_state *s, int expert, int gpu, double share, moemap_error *err)
{
    int rc = push_rep(s, expert, gpu, share, err);
    if (rc)
        return rc;
    const double *cost = &s->rc[(size_t)(s->nreps - 1) * s->B];
    for (int b = 0; b < s->B; b++) {
        double *tg = &s->T[(size_t)b * s->G + gpu];
        double old = *tg;
        *tg += cost[b];
        s->S1[b] += *tg - old;
        s->S2[b] += *tg * *tg - old * old;
        /* T only grew: the top-3 changes by moving or inserting this GPU. */
        double *t = &s->top[b * 3];
        int *tgi = &s->topg[b * 3];
        int pos = -1;
        for (int k = 0; k < 3; k++)
            if (tgi[k] == gpu)
                pos = k;
        if (pos < 0) {
            if (*tg <= t[2])
                continue;
            pos = 2;
        }
        t[pos] = *tg;
        tgi[pos] = gpu;
        while (pos > 0 && t[pos] > t[pos - 1]) {
            double tv = t[pos];
            int tgv = tgi[pos];
            t[pos] = t[pos - 1];
            tgi[pos] = tgi[pos - 1];
            t[pos - 1] = tv;
            tgi[pos - 1] = tgv;
            pos--;
        }
    }
    return 0;
}

/* Swap-free quickselect: the k-th smallest of x[0..n) (x is reordered). */
static double select_kth(double *x, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = x[(lo + hi) >> 1];
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return x[k];
}

/* Mean + w * p90 (interpolated like moemap_quantile) of M[0..B); sel is scratch. */
static double group_objective(double tail_weight, const double *M, int B, double *sel)
{
    if (B <= 0)
        return 0;
    double sum = 0;
    for (int b = 0; b < B; b++)
        sum += M[b];
    double mean = sum / B;
    if (tail_weight <= 0 || B == 1)
        return mean + tail_weight * (B == 1 ? M[0] : 0);
    memcpy(sel, M, (size_t)B * sizeof *M);
    double pos = 0.9 * (B - 1);
    int k = (int)pos;
    double frac = pos - k;
    double lo = select_kth(sel, B, k);
    double hi = lo;
    if (k + 1 < B && frac > 0) {
        hi = sel[k + 1];
        for (int b = k + 2; b < B; b++)
            if (sel[b] < hi)
                hi = sel[b];
    }
    return mean + tail_weight * (lo + (hi - lo) * frac);
}

/* J of the input batches plus J of the engine-sized windows (when there are any). */
static double objective(ms_state *s, const double *M)
{
    double j = group_objective(s->tail_weight, M, s->B0, s->sel);
    if (s->B > s->B0 && isfinite(s->window_ref)) {
        double jw = group_objective(s->tail_weight, M + s->B0, s->B - s->B0, s->sel);
        if (jw > s->window_ref)
            j += jw - s->window_ref;
    }
    return j;
}

double ms_window_j(ms_state *s)
{
    for (int b = s->B0; b < s->B; b++)
        s->M[b] = s->top[b * 3] > 0 ? s->top[b * 3] : 0;
    return group_objective(s->tail_weight, s->M + s->B0, s->B - s->B0, s->sel);
}

ms_score ms_score_now(ms_state *s)
{
    double sec = 0;
    for (int b = 0; b < s->B; b++) {
        s->M[b] = s->top[b * 3] > 0 ? s->top[b * 3] : 0;
        sec += s->S1[b] > 0 ? s->S2[b] / s->S1[b] : 0;
    }
    ms_score sc = {objective(s, s->M) + s->nnew * s->move_pen_us,
                   sec / s->B + s->spread * s->node_pen_us};
    return sc;
}

/* Change of the new-pair count a delta causes. */
static int delta_new(const ms_state *s, const ms_delta *d)
{
    int dn = 0;
    for (int i = 0; i < d->n; i++) {
        const ms_item *it = &d->items[i];
        if (is_prev(s, it->expert, it->gpu))
            continue;
        if (it->rep < 0)
            dn++;
        else if (it->new_share <= 0)
            dn--;
    }
    return dn;
}

ms_score ms_score_delta(ms_state *s, const ms_delta *d, int *ok)
{
    ms_score sc = {INFINITY, INFINITY};
    int dn = delta_new(s, d);
    *ok = !(s->max_moves > 0 && dn > 0 && s->nnew + dn > s->max_moves);
    if (!*ok)
        return sc;
    int g1 = d->g1, g2 = d->g2;
    double sec = 0;
    for (int b = 0; b < s->B; b++) {
        const double *c = s->cnt[b];
        double d1 = 0, d2 = 0;
        for (int i = 0; i < d->n; i++) {
            const ms_item *it = &d->items[i];
            double ce = c[it->expert];
            if (ce <= 0)
                continue;
            double dv = it->new_share > 0 ? fcost(s, it->gpu, it->new_share * ce) : 0.0;
            if (it->rep >= 0)
                dv -= s->rc[(size_t)it->rep * s->B + b];
            if (it->gpu == g1)
                d1 += dv;
            else
                d2 += dv;
        }
        const double *row = &s->T[(size_t)b * s->G];
        double t1 = row[g1] + d1, t2 = g2 != g1 ? row[g2] + d2 : t1;
        if (t1 < 0)
            t1 = 0;
        if (t2 < 0)
            t2 = 0;
        double excl = 0;
        for (int k = 0; k < 3; k++) {
            int tg = s->topg[b * 3 + k];
            if (tg >= 0 && tg != g1 && tg != g2) {
                excl = s->top[b * 3 + k];
                break;
            }
        }
        double m = excl > t1 ? excl : t1;
        s->M[b] = m > t2 ? m : t2;
        double s1 = s->S1[b] - row[g1] + t1, s2 = s->S2[b] - row[g1] * row[g1] + t1 * t1;
        if (g2 != g1) {
            s1 += t2 - row[g2];
            s2 += t2 * t2 - row[g2] * row[g2];
        }
        sec += s1 > 0 ? s2 / s1 : 0;
    }
    s->work += s->B;
    sc.primary = objective(s, s->M) + (s->nnew + dn) * s->move_pen_us;
    sc.secondary = sec / s->B + (s->spread + delta_spread(s, d)) * s->node_pen_us;
    return sc;
}

int ms_apply(ms_state *s, const ms_delta *d, moemap_error *err)
{
    int g1 = d->g1, g2 = d->g2;
    /* Times first (they depend only on experts, GPUs and shares). */
    for (int b = 0; b < s->B; b++) {
        double *row = &s->T[(size_t)b * s->G];
        double o1 = row[g1], o2 = row[g2];
        for (int i = 0; i < d->n; i++) {
            const ms_item *it = &d->items[i];
            double ce = s->cnt[b][it->expert];
            if (ce <= 0)
                continue;
            double nc = it->new_share > 0 ? fcost(s, it->gpu, it->new_share * ce) : 0.0;
            double *oc = it->rep >= 0 ? &s->rc[(size_t)it->rep * s->B + b] : NULL;
            row[it->gpu] += nc - (oc ? *oc : 0.0);
            if (oc)
                *oc = nc; /* removed replicas' rows are dropped below */
        }
        if (row[g1] < 0)
            row[g1] = 0;
        if (row[g2] < 0)
            row[g2] = 0;
        s->S1[b] += row[g1] - o1;
        s->S2[b] += row[g1] * row[g1] - o1 * o1;
        if (g2 != g1) {
            s->S1[b] += row[g2] - o2;
            s->S2[b] += row[g2] * row[g2] - o2 * o2;
        }
        recompute_top(s, b);
    }
    /* Then the replica list: share changes and additions, removals last (highest index
     * first, so a swap-with-last never moves a replica still to be removed). */
    int rem[4], nrem = 0;
    for (int i = 0; i < d->n; i++) {
        const ms_item *it = &d->items[i];
        if (it->rep < 0) {
            int rc = push_rep(s, it->expert, it->gpu, it->new_share, err);
            if (rc)
                return rc;
        } else if (it->new_share <= 0) {
            rem[nrem++] = it->rep;
        } else {
            s->reps[it->rep].share = it->new_share;
        }
    }
    for (int i = 0; i < nrem; i++)
        for (int j = i + 1; j < nrem; j++)
            if (rem[j] > rem[i]) {
                int t = rem[i];
                rem[i] = rem[j];
                rem[j] = t;
            }
    for (int i = 0; i < nrem; i++) {
        int r = rem[i];
        ms_rep *x = &s->reps[r];
        s->at[(size_t)x->expert * s->G + x->gpu] = -1;
        s->nrep[x->gpu]--;
        node_count(s, x->expert, x->gpu, -1);
        if (!is_prev(s, x->expert, x->gpu))
            s->nnew--;
        int last = s->nreps - 1;
        if (r != last) {
            s->reps[r] = s->reps[last];
            memcpy(&s->rc[(size_t)r * s->B], &s->rc[(size_t)last * s->B],
                   (size_t)s->B * sizeof *s->rc);
            s->at[(size_t)s->reps[r].expert * s->G + s->reps[r].gpu] = r;
        }
        s->nreps--;
    }
    return 0;
}

int ms_better(ms_score a, ms_score b)
{
    double tol = 1e-9 * (fabs(b.primary) > 1e-12 ? fabs(b.primary) : 1e-12);
    if (a.primary < b.primary - tol)
        return 1;
    if (a.primary > b.primary + tol)
        return 0;
    return a.secondary < b.secondary - 1e-9 * fabs(b.secondary);
}
