/*
 * bound.c — the lower bound on one layer's straggler time for one batch: a time T that no
 * placement can beat, whatever its replicas and shares (even one chosen for that batch).
 *
 * Why it is valid. Fix a placement and let GPU g serve pieces n_1..n_k > 0 (k <= slots_g,
 * one piece per replica that gets tokens). Its time is sum_i f_g(n_i) >= sum_i c_g(n_i)
 * >= k * c_g(n_g / k), where c_g is the convex minorant of f_g on (0, inf) with value
 * F_g = f_g(0+) (the weight-read floor) at 0, and n_g = sum_i n_i (Jensen). So if the
 * straggler is at most T, each GPU with k_g pieces serves at most
 * m_g(k_g) = k_g * cinv_g(T / k_g) tokens and k_g <= K_g(T) = min(slots_g, T / F_g).
 * Three necessary conditions follow, and T* = the least T meeting all three is a bound:
 *  (a)+(b) there are k_g <= K_g(T) with sum_g k_g >= A (each of the A experts with tokens
 *     needs a piece) and sum_g m_g(k_g) >= N (the batch's tokens). m_g is concave in k
 *     (the perspective of the concave cinv_g), so the best choice starts every GPU at the
 *     peak of m_g and, if pieces are short, adds the extra pieces with the smallest
 *     marginal token losses — exact for concave m_g, which a greedy over sorted losses is
 *     (the smallest losses are selected, not sorted: see feasible());
 *  (c) the busiest expert (c_max tokens) is served by at most one piece per GPU, each
 *     piece costing f_g itself: sum_g finv_g(T) >= c_max.
 * Feasibility is monotone in T, so T* is found by bisection; the returned value is the
 * largest T found infeasible, so rounding can only make the bound lower, never invalid.
 * GPUs with the same effective curve and slots are grouped, which makes a homogeneous
 * cluster of 256 GPUs as cheap as one GPU; beyond 64 distinct curves, GPUs of close speed
 * are grouped under their lower envelope (group_classes), which keeps the bound valid.
 */
#include "moemap/eval.h"
#include "bound_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base_util.h"

typedef struct gpu_class {
    int count;        /* GPUs in the class */
    int slots;
    double floor_us;  /* F = f(0+) */
    int nh;           /* hull vertices (x, y), x[0] = 0, y[0] = F */
    double *hx, *hy;
    double tail;      /* slope after the last vertex (>= 0) */
    double *dxdy;     /* [nh] dx/dy of the segment ending at vertex i (0 where flat) */
    double inv_tail;  /* 1 / tail (INFINITY when flat) */
    const moemap_curve *curve; /* the class's curve f, for finv: always &own */
    moemap_curve own;  /* f: a member GPU's f_g, or a grouped class's lower envelope */
    int gpu;           /* a member GPU (before grouping) */
    double key;        /* grouping order: the curve at KEY_TOKENS */
} gpu_class;

/* More distinct GPU curves than this are grouped (see group_classes). */
#define MAX_CLASSES 64
#define KEY_TOKENS 512.0

struct moemap_bound {
    int num_classes;
    gpu_class *classes;
    int max_k;        /* largest K of any class (scratch sizing) */
    /* phi(n) = min over classes of f(n), from below: exact at the union of the curves'
     * points, linear between them (the minimum of functions linear there is concave, so
     * above its chord), the least tail slope past the last point. */
    int env_n;
    double *env_x, *env_y;
    double env_tail;
    /* env_oct[k]: the first point with x >= 2^(k - 1074) in binary exponent order, so a
     * lookup starts in n's octave (mm_bound_fastest_us is called ~100,000 times a layer
     * by the one-placement bound, and a bisection over every curve's points was most of
     * it). [2048 + 1] by the IEEE exponent field. */
    int *env_oct;
    int env_zero;     /* some GPU has no curve: phi = 0 */
    /* Condition (c) as a table: S(T) = sum over the classes of count * finv(T) at every
     * distinct point of the curves (c_bp, sorted), and its slope on [c_bp[i], c_bp[i+1])
     * (the last: past the last point), where S is linear (see solve_single). */
    int c_n;
    double *c_bp, *c_S, *c_slope;
    /* Condition (a)'s pieces alone: at T the GPUs offer sum count * min(slots, floor(T/F))
     * pieces, a step function: p_t[i] (sorted) is where it reaches p_cum[i] pieces,
     * p_base what floorless classes offer at any T > 0 (see pieces_from). */
    int p_n;
    double *p_t, *p_cum, p_base;
    int has_free;     /* a GPU with slots and no curve: every T is feasible, the bound 0 */
};

static double last_slope(const moemap_curve *c);
static int build_single_table(moemap_bound *b);
static int build_piece_steps(moemap_bound *b);

/* Sorts x[0..n) and drops repeats; returns how many distinct values are left. */
static int sort_unique(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, mm_cmp_double);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || x[i] != x[u - 1])
            x[u++] = x[i];
    return u;
}

/* The biased exponent of a positive double (0..2047): its octave, ordered as the value. */
static int exponent_field(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (int)((u >> 52) & 0x7ff);
}

static int build_envelope(moemap_bound *b)
{
    int total = 0;
    for (int j = 0; j < b->num_classes; j++) {
        if (b->classes[j].curve->n <= 0)
            b->env_zero = 1;
        total += b->classes[j].curve->n;
    }
    if (b->env_zero || total == 0) {
        b->env_zero = 1;
        return 0;
    }
    b->env_x = moemap_malloc((size_t)total * sizeof *b->env_x);
    b->env_y = moemap_malloc((size_t)total * sizeof *b->env_y);
    if (!b->env_x || !b->env_y)
        return MOEMAP_ENOMEM;
    int n = 0;
    for (int j = 0; j < b->num_classes; j++)
        for (int i = 0; i < b->classes[j].curve->n; i++)
            b->env_x[n++] = b->classes[j].curve->tokens[i];
    int u = sort_unique(b->env_x, n);
    b->env_n = u;
    b->env_tail = INFINITY;
    for (int i = 0; i < u; i++) {
        double best = INFINITY;
        for (int j = 0; j < b->num_classes; j++) {
            double t = moemap_curve_eval(b->classes[j].curve, b->env_x[i]);
            best = t < best ? t : best;
        }
        b->env_y[i] = best;
    }
    for (int j = 0; j < b->num_classes; j++) {
        double s = last_slope(b->classes[j].curve);
        b->env_tail = s < b->env_tail ? s : b->env_tail;
    }
    b->env_oct = moemap_malloc(2049 * sizeof *b->env_oct);
    if (!b->env_oct)
        return MOEMAP_ENOMEM;
    for (int k = 0, i = 0; k <= 2048; k++) {
        while (i < u && exponent_field(b->env_x[i]) < k)
            i++;
        b->env_oct[k] = i;
    }
    return 0;
}

static double last_slope(const moemap_curve *c)
{
    if (c->n < 2)
        return 0.0;
    int l = c->n - 1;
    double s = (c->us[l] - c->us[l - 1]) / (c->tokens[l] - c->tokens[l - 1]);
    return s > 0 ? s : 0.0;
}

/* Lower convex hull of (0, F), the curve's points, and the ray of the last slope. */
static int build_hull(gpu_class *k, const moemap_curve *c)
{
    int n = c->n + 1;
    k->hx = moemap_malloc((size_t)n * sizeof *k->hx);
    k->hy = moemap_malloc((size_t)n * sizeof *k->hy);
    if (!k->hx || !k->hy)
        return MOEMAP_ENOMEM;
    k->floor_us = c->n > 0 ? c->us[0] : 0.0;
    k->tail = last_slope(c);
    int h = 0;
    for (int i = -1; i < c->n; i++) {
        double x = i < 0 ? 0.0 : c->tokens[i], y = i < 0 ? k->floor_us : c->us[i];
        while (h >= 2) {
            /* Pop the middle vertex when it lies on or above the chord. */
            double x1 = k->hx[h - 2], y1 = k->hy[h - 2], x2 = k->hx[h - 1], y2 = k->hy[h - 1];
            if ((y2 - y1) * (x - x1) >= (y - y1) * (x2 - x1))
                h--;
            else
                break;
        }
        k->hx[h] = x;
        k->hy[h] = y;
        h++;
    }
    /* The ray at the end has the largest slope a convex function may have here: drop
     * vertices whose incoming edge is steeper than it. */
    while (h >= 2 && (k->hy[h - 1] - k->hy[h - 2]) > k->tail * (k->hx[h - 1] - k->hx[h - 2]))
        h--;
    k->nh = h;
    k->dxdy = moemap_calloc((size_t)h, sizeof *k->dxdy);
    if (!k->dxdy)
        return MOEMAP_ENOMEM;
    for (int i = 1; i < h; i++) {
        double dy = k->hy[i] - k->hy[i - 1];
        k->dxdy[i] = dy > 0 ? (k->hx[i] - k->hx[i - 1]) / dy : 0;
    }
    k->inv_tail = k->tail > 0 ? 1 / k->tail : INFINITY;
    return 0;
}

/* The pointwise minimum of n curves, from below: exact at the union of their points,
 * linear between them (the minimum of functions that are linear there is concave, so it
 * lies above the chord), and past the last point the least last slope of any, through
 * one extra point at twice the last token count. */
static int lower_envelope(const moemap_curve *const *cs, int n, moemap_curve *out)
{
    int total = 1;
    for (int i = 0; i < n; i++)
        total += cs[i]->n;
    out->n = 0;
    out->cv = 0;
    out->tokens = moemap_malloc((size_t)total * sizeof *out->tokens);
    out->us = moemap_malloc((size_t)total * sizeof *out->us);
    if (!out->tokens || !out->us)
        return MOEMAP_ENOMEM;
    int m = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < cs[i]->n; j++)
            out->tokens[m++] = cs[i]->tokens[j];
    qsort(out->tokens, (size_t)m, sizeof *out->tokens, mm_cmp_double);
    int u = 0;
    for (int i = 0; i < m; i++)
        if (u == 0 || out->tokens[i] != out->tokens[u - 1])
            out->tokens[u++] = out->tokens[i];
    double tail = INFINITY;
    for (int i = 0; i < u; i++) {
        double best = INFINITY;
        for (int j = 0; j < n; j++) {
            double t = moemap_curve_eval(cs[j], out->tokens[i]);
            best = t < best ? t : best;
        }
        out->us[i] = best;
    }
    for (int j = 0; j < n; j++) {
        double sl = last_slope(cs[j]);
        tail = sl < tail ? sl : tail;
    }
    if (u >= 1 && out->tokens[u - 1] > 0) {
        out->tokens[u] = 2 * out->tokens[u - 1];
        out->us[u] = out->us[u - 1] + tail * out->tokens[u - 1];
        u++;
    }
    out->n = u;
    return 0;
}

static int cmp_class(const void *a, const void *b)
{
    const gpu_class *x = a, *y = b;
    if (x->slots != y->slots)
        return x->slots < y->slots ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

/* A cluster with more distinct curves than MAX_CLASSES (GPUs drawn from a population all
 * differ a little) would make every bisection step visit every GPU. Classes of equal
 * slots, in order of speed, are grouped (about num_classes / MAX_CLASSES per group) into
 * one class whose curve is their lower envelope: a cluster at least as fast, so the bound
 * stays valid, looser by at most the speed spread inside a group (a fraction of a
 * percent for 1,024 GPUs drawn from the PAL population). */
static int group_classes(moemap_bound *b)
{
    int n = b->num_classes;
    for (int j = 0; j < n; j++)
        b->classes[j].key = moemap_curve_eval(b->classes[j].curve, KEY_TOKENS);
    qsort(b->classes, (size_t)n, sizeof *b->classes, cmp_class);
    for (int j = 0; j < n; j++) /* each class's curve moved with it */
        b->classes[j].curve = &b->classes[j].own;
    int per = (n + MAX_CLASSES - 1) / MAX_CLASSES;
    gpu_class *g = moemap_calloc((size_t)n, sizeof *g);
    const moemap_curve **cs = moemap_malloc((size_t)per * sizeof *cs);
    if (!g || !cs) {
        moemap_free(g);
        moemap_free(cs);
        return MOEMAP_ENOMEM;
    }
    int ng = 0, rc = 0;
    for (int i = 0; i < n && !rc;) {
        int j = i, count = 0;
        while (j < n && j - i < per && b->classes[j].slots == b->classes[i].slots) {
            cs[j - i] = b->classes[j].curve;
            count += b->classes[j].count;
            j++;
        }
        gpu_class *k = &g[ng++];
        k->count = count;
        k->slots = b->classes[i].slots;
        rc = lower_envelope(cs, j - i, &k->own);
        if (!rc) {
            k->curve = &k->own;
            rc = build_hull(k, k->curve);
        }
        i = j;
    }
    moemap_free(cs);
    for (int j = 0; j < n; j++) {
        moemap_free(b->classes[j].hx);
        moemap_free(b->classes[j].hy);
        moemap_curve_clear(&b->classes[j].own);
        moemap_free(b->classes[j].dxdy);
    }
    moemap_free(b->classes);
    b->classes = g;
    b->num_classes = ng;
    return rc;
}

int moemap_bound_create(const moemap_cluster *c, int slots, moemap_bound **out,
                        moemap_error *err)
{
    *out = NULL;
    moemap_bound *b = moemap_calloc(1, sizeof *b);
    if (b)
        b->classes = moemap_calloc((size_t)(c->num_gpus > 0 ? c->num_gpus : 1),
                                   sizeof *b->classes);
    if (!b || !b->classes) {
        moemap_free(b);
        return moemap_error_set(err, MOEMAP_ENOMEM, "lower bound: out of memory");
    }
    for (int g = 0; g < c->num_gpus; g++) {
        int s = slots > 0 ? slots : c->gpus[g].slots;
        int found = -1;
        for (int j = 0; j < b->num_classes && found < 0; j++)
            if (b->classes[j].slots == s && moemap_cluster_same_cost(c, b->classes[j].gpu, g))
                found = j;
        if (found >= 0) {
            b->classes[found].count++;
            continue;
        }
        gpu_class *k = &b->classes[b->num_classes++];
        k->count = 1;
        k->slots = s;
        k->gpu = g;
        k->curve = &k->own;
        if (moemap_cluster_gpu_curve(c, g, &k->own, NULL) != 0 || build_hull(k, k->curve) != 0) {
            moemap_bound_free(b);
            return moemap_error_set(err, MOEMAP_ENOMEM, "lower bound: out of memory");
        }
        if (s > b->max_k)
            b->max_k = s;
    }
    if (b->num_classes > MAX_CLASSES && group_classes(b) != 0) {
        moemap_bound_free(b);
        return moemap_error_set(err, MOEMAP_ENOMEM, "lower bound: out of memory");
    }
    if (build_envelope(b) != 0 || build_single_table(b) != 0 || build_piece_steps(b) != 0) {
        moemap_bound_free(b);
        return moemap_error_set(err, MOEMAP_ENOMEM, "lower bound: out of memory");
    }
    *out = b;
    return 0;
}

void moemap_bound_free(moemap_bound *b)
{
    if (!b)
        return;
    for (int j = 0; j < b->num_classes; j++) {
        moemap_free(b->classes[j].hx);
        moemap_free(b->classes[j].hy);
        moemap_free(b->classes[j].dxdy);
        moemap_curve_clear(&b->classes[j].own);
    }
    moemap_free(b->classes);
    moemap_free(b->env_x);
    moemap_free(b->env_y);
    moemap_free(b->env_oct);
    moemap_free(b->c_bp);
    moemap_free(b->c_S);
    moemap_free(b->c_slope);
    moemap_free(b->p_t);
    moemap_free(b->p_cum);
    moemap_free(b);
}

/* sup{x >= 0 : hull(x) <= y} for y >= F (INFINITY when the tail is flat). */
static double hull_inv(const gpu_class *k, double y)
{
    int h = k->nh;
    /* The first vertex above y, by bisection: hy does not decrease along the hull. */
    int lo = 1, hi = h;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (k->hy[mid] > y)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo < h) {
        int i = lo;
        double dy = k->hy[i] - k->hy[i - 1];
        return k->hx[i - 1] + (y - k->hy[i - 1]) * (k->hx[i] - k->hx[i - 1]) / dy;
    }
    if (k->tail <= 0)
        return INFINITY;
    return k->hx[h - 1] + (y - k->hy[h - 1]) / k->tail;
}

/* Most tokens one replica can take within T on this curve: sup{n : f(n) <= T}. */
static double curve_inv(const moemap_curve *c, double T)
{
    if (c->n <= 0)
        return INFINITY; /* a GPU without a curve costs nothing */
    if (T < c->us[0])
        return 0.0;
    int lo = 1, hi = c->n; /* the first point above T: curves never decrease */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (c->us[mid] > T)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo < c->n) {
        int i = lo;
        double dy = c->us[i] - c->us[i - 1];
        return c->tokens[i - 1] + (T - c->us[i - 1]) * (c->tokens[i] - c->tokens[i - 1]) / dy;
    }
    double s = last_slope(c);
    if (s <= 0)
        return INFINITY;
    return c->tokens[c->n - 1] + (T - c->us[c->n - 1]) / s;
}

/* Tokens a GPU of class k can serve within T using p pieces (p >= 1, p * F <= T). */
static double pieces_cap(const gpu_class *k, double T, int p)
{
    return (double)p * hull_inv(k, T / p);
}

/* Tokens lost by one more piece: m(p) - m(p + 1). A class whose curve ends flat serves
 * any number of tokens (m infinite for every p), and loses none: INF - INF would be NaN,
 * which made the test fail at any T where extra pieces were needed. */
static double piece_loss(double m, double next)
{
    return isinf(m) && isinf(next) ? 0.0 : m - next;
}

typedef struct loss_entry {
    double loss;
    int count;
} loss_entry;

static int cmp_loss(const void *a, const void *b)
{
    double x = ((const loss_entry *)a)->loss, y = ((const loss_entry *)b)->loss;
    return (x > y) - (x < y);
}

/* Per class at one T: where its pieces stand at the peak of m(p). */
typedef struct class_state {
    int p;            /* pieces at the peak of m */
    int K;            /* most pieces at T */
    double m;         /* m(p): tokens with p pieces */
} class_state;

/* Scratch of one bound computation: room for every class and for every loss. */
typedef struct bound_scratch {
    class_state *st;  /* [num_classes] */
    loss_entry *all;  /* [sum of slots] every class's losses at one T */
    double *mv;       /* [most slots + 2] m(p) of one class (feasible_ab) */
    int *seg;         /* [most slots + 2] the hull segment of its piece size T / p */
    int *start;       /* [num_classes + 1] where each class's losses begin in all */
    int *heap;        /* [num_classes] classes by their largest loss left (drop_largest) */
    int *end;         /* [num_classes] each class's last loss not yet dropped */
} bound_scratch;

/* Sum of take x loss over the smallest losses until `need` pieces are taken (an entry
 * gives up to `count` pieces), by weighted quickselect: expected linear time, where sorting
 * the list costs n log n. Reorders e. Returns the pieces taken (< need when the list runs
 * out). */
static double take_smallest(loss_entry *e, int n, double need, double *sum)
{
    double taken = 0;
    while (n > 0 && need > 0) {
        if (n <= 8) { /* small: insertion sort, then take in order */
            for (int i = 1; i < n; i++) {
                loss_entry x = e[i];
                int j = i;
                for (; j > 0 && e[j - 1].loss > x.loss; j--)
                    e[j] = e[j - 1];
                e[j] = x;
            }
            for (int i = 0; i < n && need > 0; i++) {
                double t = need < e[i].count ? need : e[i].count;
                taken += t, need -= t, *sum += t * e[i].loss;
            }
            return taken;
        }
        /* Median of three, then a three-way partition: < pivot | == pivot | > pivot. */
        double a = e[0].loss, b = e[n / 2].loss, c = e[n - 1].loss;
        double piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int lt = 0, i = 0, gt = n;
        while (i < gt) {
            if (e[i].loss < piv) {
                loss_entry t = e[i];
                e[i++] = e[lt];
                e[lt++] = t;
            } else if (e[i].loss > piv) {
                loss_entry t = e[i];
                e[i] = e[--gt];
                e[gt] = t;
            } else {
                i++;
            }
        }
        double wlt = 0, slt = 0, weq = 0;
        for (int k = 0; k < lt; k++)
            wlt += e[k].count, slt += e[k].count * e[k].loss;
        if (wlt >= need) { /* all the pieces come from below the pivot */
            n = lt;
            continue;
        }
        taken += wlt, need -= wlt, *sum += slt;
        for (int k = lt; k < gt; k++)
            weq += e[k].count;
        double t = need < weq ? need : weq;
        taken += t, need -= t, *sum += t * piv;
        e += gt;
        n -= gt;
    }
    return taken;
}

/* The extra pieces by the sorted list of every class's losses (the original algorithm):
 * updates tokens/pieces as feasible()'s selection does. Kept as the reference that the
 * selection is tested against (mm_bound_layer_batch_sorted). */
static int extra_by_sort(const moemap_bound *b, const class_state *st, double T, double A,
                         loss_entry *all, double *tokens, double *pieces)
{
    int ns = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        double m = st[j].m;
        for (int p = st[j].p; p < st[j].K; p++) {
            double next = pieces_cap(k, T, p + 1);
            all[ns].loss = piece_loss(m, next);
            all[ns].count = k->count;
            ns++;
            m = next;
        }
    }
    qsort(all, (size_t)ns, sizeof *all, cmp_loss);
    for (int i = 0; i < ns && *pieces < A; i++) {
        double take = A - *pieces;
        if (take > all[i].count)
            take = all[i].count;
        *pieces += take;
        *tokens -= take * all[i].loss;
    }
    return *pieces >= A;
}

/* The most pieces a GPU of class k can serve within T: its slots, and no more than T
 * over its weight-read floor. */
static int pieces_within(const gpu_class *k, double T)
{
    int K = k->slots;
    if (k->floor_us > 0) {
        double byfloor = floor(T / k->floor_us);
        if (byfloor < K)
            K = (int)byfloor;
    }
    return K;
}

/* Conditions (a)+(b) and (c) at time T. When the peaks give fewer than A pieces, the
 * extra pieces take the smallest losses over all classes. The original code sorted every
 * loss at every bisection step (half of the bound's time); merging the classes' lists
 * (each increases with p, m being concave) through a heap was measured no faster, since
 * the extra pieces are usually most of the list; a weighted quickselect is linear. The
 * sum is formed in another order than the sorted path's, which could move a bisection
 * step only if tokens came within rounding of N at a probed T; the test compares the two
 * on 1,000 batches and finds the same bound everywhere. by_sort forces the sorted path. */
static int feasible(const moemap_bound *b, double T, double N, double A, double cmax,
                    bound_scratch *sc, int by_sort)
{
    double tokens = 0, pieces = 0, single = 0;
    class_state *st = sc->st;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        int K = pieces_within(k, T);
        st[j].K = K > 0 ? K : 0;
        st[j].p = 0;
        if (K <= 0)
            continue;
        if (k->curve->n <= 0)
            return 1; /* free GPU: anything fits */
        single += k->count * curve_inv(k->curve, T);
        int p = 1;
        double m = pieces_cap(k, T, 1);
        while (p < K) {
            double next = pieces_cap(k, T, p + 1);
            if (!(next > m))
                break;
            m = next;
            p++;
        }
        tokens += k->count * m;
        pieces += (double)k->count * p;
        st[j].p = p;
        st[j].m = m;
    }
    if (single < cmax)
        return 0;
    if (pieces >= A)
        return tokens >= N;
    if (by_sort)
        return extra_by_sort(b, st, T, A, sc->all, &tokens, &pieces) && tokens >= N;
    /* Every loss of every class once, then the smallest A - pieces of them by selection. */
    int ns = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        double m = st[j].m;
        for (int p = st[j].p; p < st[j].K; p++) {
            double next = pieces_cap(k, T, p + 1);
            sc->all[ns].loss = piece_loss(m, next);
            sc->all[ns].count = k->count;
            ns++;
            m = next;
        }
    }
    double lost = 0;
    pieces += take_smallest(sc->all, ns, A - pieces, &lost);
    tokens -= lost;
    return pieces >= A && tokens >= N;
}

/* The scratch of one bound computation: 16 KB on the stack covers a few hundred classes;
 * more come from the heap. */
typedef struct scratch_mem {
    _Alignas(double) unsigned char stack_buf[16384];
    unsigned char *mem;
} scratch_mem;

static int scratch_get(const moemap_bound *b, scratch_mem *m, bound_scratch *sc)
{
    size_t cap = 0, most = 0;
    for (int j = 0; j < b->num_classes; j++) {
        cap += (size_t)b->classes[j].slots;
        most = (size_t)b->classes[j].slots > most ? (size_t)b->classes[j].slots : most;
    }
    most += 2;
    size_t C = (size_t)b->num_classes;
    size_t need = cap * sizeof(loss_entry) + most * sizeof(double) + C * sizeof(class_state) +
                  (most + 3 * C + 1) * sizeof(int);
    m->mem = need <= sizeof m->stack_buf ? m->stack_buf : moemap_malloc(need);
    if (!m->mem)
        return MOEMAP_ENOMEM;
    /* in order of alignment: the entries and doubles, then the states, then the ints */
    sc->all = (loss_entry *)m->mem;
    sc->mv = (double *)(m->mem + cap * sizeof(loss_entry));
    sc->st = (class_state *)((unsigned char *)sc->mv + most * sizeof(double));
    sc->seg = (int *)((unsigned char *)sc->st + C * sizeof(class_state));
    sc->start = sc->seg + most;
    sc->heap = sc->start + C + 1;
    sc->end = sc->heap + C;
    return 0;
}

static void scratch_put(scratch_mem *m)
{
    if (m->mem != m->stack_buf)
        moemap_free(m->mem);
}

/* What the bound needs of a batch: its tokens N, active experts A, busiest expert cmax. */
static void batch_totals(const double *counts, int experts, double *N, double *A, double *cmax)
{
    *N = *A = *cmax = 0;
    for (int e = 0; e < experts; e++) {
        if (counts[e] > 0) {
            *N += counts[e];
            *A += 1;
            if (counts[e] > *cmax)
                *cmax = counts[e];
        }
    }
}

/* The bound of one batch by the original algorithm: one bisection on all three
 * conditions together, from T = 1 doubled until feasible, to 1e-9 relative (by_sort: the
 * sorted loss list). Kept as the reference the fast path is tested against
 * (mm_bound_layer_batch_sorted, mm_bound_feasible_at) and timed against (bench_scale). */
static double layer_batch_ref(const moemap_bound *b, const double *counts, int experts,
                              int by_sort)
{
    double N, A, cmax;
    batch_totals(counts, experts, &N, &A, &cmax);
    if (A == 0)
        return 0.0;
    scratch_mem m;
    bound_scratch sc;
    if (scratch_get(b, &m, &sc))
        return 0.0; /* out of memory: 0 is still a valid (trivial) bound */
    double lo = 0, hi = 1;
    while (!feasible(b, hi, N, A, cmax, &sc, by_sort)) {
        lo = hi;
        hi *= 2;
        if (hi > 1e18) { /* no capacity at all (no slots): report the trivial bound */
            hi = lo = 0;
            break;
        }
    }
    for (int it = 0; it < 100 && hi - lo > 1e-9 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (feasible(b, mid, N, A, cmax, &sc, by_sort))
            hi = mid;
        else
            lo = mid;
    }
    scratch_put(&m);
    return lo;
}

/* Condition (c)'s tokens at T: what the busiest expert can get with one piece on every
 * GPU that has a slot and whose floor fits in T (as feasible() counts them). */
static double single_tokens(const moemap_bound *b, double T)
{
    double single = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        if (k->slots <= 0 || k->curve->n <= 0)
            continue;
        if (k->floor_us > 0 && floor(T / k->floor_us) < 1)
            continue;
        single += k->count * curve_inv(k->curve, T);
    }
    return single;
}

/* The table of single_tokens for solve_single: S is linear between consecutive points of
 * the classes' curves (each finv is, and a class enters at its floor, which is one of
 * them), so its value at each point and its slope on each interval (measured at the
 * interval's middle) give it everywhere. */
static int build_single_table(moemap_bound *b)
{
    int total = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        if (k->slots > 0 && k->curve->n <= 0)
            b->has_free = 1;
        if (k->slots > 0)
            total += k->curve->n;
    }
    if (total == 0)
        return 0;
    b->c_bp = moemap_malloc((size_t)total * sizeof *b->c_bp);
    b->c_S = moemap_malloc((size_t)total * sizeof *b->c_S);
    b->c_slope = moemap_malloc((size_t)total * sizeof *b->c_slope);
    if (!b->c_bp || !b->c_S || !b->c_slope)
        return MOEMAP_ENOMEM;
    int n = 0;
    for (int j = 0; j < b->num_classes; j++)
        if (b->classes[j].slots > 0)
            for (int i = 0; i < b->classes[j].curve->n; i++)
                b->c_bp[n++] = b->classes[j].curve->us[i];
    int u = sort_unique(b->c_bp, n);
    b->c_n = u;
    for (int i = 0; i < u; i++)
        b->c_S[i] = single_tokens(b, b->c_bp[i]);
    for (int i = 0; i < u; i++) {
        double x0 = b->c_bp[i];
        double x1 = i + 1 < u ? 0.5 * (x0 + b->c_bp[i + 1]) : x0 + (x0 > 1 ? x0 : 1);
        double s = (single_tokens(b, x1) - b->c_S[i]) / (x1 - x0);
        b->c_slope[i] = isfinite(s) && s > 0 ? s : 0;
    }
    return 0;
}

/* The largest T found infeasible for condition (c) alone (-1: none is feasible): the
 * table gives the root, single_tokens confirms a point just below it. */
static double solve_single(const moemap_bound *b, double cmax)
{
    const double *bp = b->c_bp, *S = b->c_S;
    int n = b->c_n;
    if (n == 0)
        return -1;
    int lo = 0, hi = n; /* the first point where S >= cmax */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (S[mid] >= cmax)
            hi = mid;
        else
            lo = mid + 1;
    }
    double T;
    if (lo == 0) {
        T = bp[0]; /* S jumps from 0 at the lowest floor */
    } else {
        int i = lo - 1;
        double s = b->c_slope[i];
        T = s > 0 ? bp[i] + (cmax - S[i]) / s : INFINITY;
        if (lo < n && !(T < bp[lo]))
            T = bp[lo];
        if (!isfinite(T))
            return -1;
    }
    /* A point just below the root, confirmed infeasible by the direct sum (rounding in
     * the table could put T a hair above the root). */
    double step = 1e-12;
    for (int it = 0; it < 40; it++, step *= 4) {
        double t = T * (1 - step);
        if (single_tokens(b, t) < cmax)
            return t;
    }
    return -1; /* not reached for valid curves; the caller then bisects */
}

/* The sum of count x loss over the smallest `need` pieces when most are taken: every
 * class's losses increase along its list (m is concave in p), so the pieces left out are
 * the `drop` largest, found at the lists' ends by a max-heap of the classes (drop
 * entries popped, log C each) instead of a selection over every entry. */
static void heap_down(const loss_entry *e, const int *end, int *heap, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && e[end[heap[l]]].loss > e[end[heap[big]]].loss)
            big = l;
        if (r < n && e[end[heap[r]]].loss > e[end[heap[big]]].loss)
            big = r;
        if (big == i)
            return;
        int t = heap[i];
        heap[i] = heap[big];
        heap[big] = t;
        i = big;
    }
}

static double drop_largest(loss_entry *e, const int *start, int C, double drop, double total,
                           int *heap, int *end)
{
    int n = 0;
    for (int j = 0; j < C; j++) {
        end[j] = start[j + 1] - 1; /* the class's last (largest) entry */
        if (end[j] >= start[j])
            heap[n++] = j;
    }
    for (int i = n / 2 - 1; i >= 0; i--)
        heap_down(e, end, heap, n, i);
    double removed = 0;
    while (drop > 0 && n > 0) {
        int j = heap[0];
        loss_entry *x = &e[end[j]];
        double t = drop < x->count ? drop : x->count;
        removed += t * x->loss;
        drop -= t;
        if (t < x->count)
            break; /* the entry is only partly dropped: done */
        if (--end[j] < start[j])
            heap[0] = heap[--n];
        heap_down(e, end, heap, n, 0);
    }
    return total - removed;
}

/* Conditions (a)+(b) at T: feasible() without (c), with *g = tokens - N (the surplus the
 * root finder interpolates; -INFINITY when even K pieces per GPU are fewer than A). */
static int feasible_ab(const moemap_bound *b, double T, double N, double A, bound_scratch *sc,
                       double *g)
{
    double tokens = 0, pieces = 0;
    int ns = 0;
    double *mv = sc->mv;
    int *seg = sc->seg;
    loss_entry *all = sc->all;
    /* Per class: m(p) = p * hinv(T / p) for every p <= K in one pass (the piece size
     * falls as p grows, so the hull segment is found by walking down, not by a bisection
     * per p), its peak, and the losses after the peak, one entry per run of pieces on
     * one segment (their losses are equal: m is linear in p there). */
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        int K = pieces_within(k, T);
        sc->start[j] = ns;
        if (K <= 0)
            continue;
        const double *hx = k->hx, *hy = k->hy;
        int h = k->nh, i = h;
        for (int p = 1; p <= K; p++) {
            double y = T / p;
            while (i > 1 && hy[i - 1] > y)
                i--;
            double x;
            if (i < h)
                x = hx[i - 1] + (y - hy[i - 1]) * k->dxdy[i];
            else
                x = k->tail > 0 ? hx[h - 1] + (y - hy[h - 1]) * k->inv_tail : INFINITY;
            mv[p] = p * x;
            seg[p] = i;
        }
        int p = 1;
        while (p < K && mv[p + 1] > mv[p])
            p++;
        tokens += k->count * mv[p];
        pieces += (double)k->count * p;
        while (p < K) {
            int q = p + 1;
            while (q < K && seg[q + 1] == seg[p] && seg[q] == seg[p] && isfinite(mv[q + 1]))
                q++;
            all[ns].loss = isfinite(mv[p]) ? (mv[p] - mv[q]) / (q - p) : piece_loss(mv[p], mv[q]);
            all[ns].count = k->count * (q - p);
            ns++;
            p = q;
        }
    }
    sc->start[b->num_classes] = ns;
    if (pieces < A) {
        double lost = 0, weight = 0, total = 0;
        for (int e = 0; e < ns; e++)
            weight += all[e].count, total += all[e].count * all[e].loss;
        double need = A - pieces;
        if (need >= weight) {
            lost = total, pieces += weight;
        } else if (weight - need < need) { /* most are taken: drop the largest */
            lost = drop_largest(all, sc->start, b->num_classes, weight - need, total, sc->heap,
                                sc->end);
            pieces = A;
        } else {
            pieces += take_smallest(all, ns, need, &lost);
        }
        tokens -= lost;
    }
    if (pieces < A) {
        *g = -INFINITY;
        return 0;
    }
    *g = tokens - N;
    return *g >= 0;
}

/* The largest T found infeasible for (a)+(b), within 1e-9 of the least feasible one (0:
 * every T > 0 is feasible; -1: none is, too few slots). The tokens the cluster can serve
 * grow piecewise linearly with T, so regula falsi (Illinois: the end that stays twice has
 * its surplus halved) lands on the root in a few steps where bisection takes ~45
 * (doubling from 1, then 30 halvings); a point that lands within rounding of the root is
 * confirmed from the other side at 0.9e-9 (closing the bracket), and every fourth step is
 * a bisection when the bracket did not shrink enough, so it never does worse than
 * bisection. A warm start (w->t > 0: the previous batch's root, w->slope its surplus per
 * us) first tries where that slope puts the root: with batches alike, the bracket closes
 * in two or three evaluations. Where the root is a jump of the served tokens (a class
 * gaining a piece at T = k F), a narrow bracket tries the jump itself. */
typedef struct ab_search {
    double lo, glo, hi, ghi; /* infeasible and feasible ends, their surpluses */
    int have_lo, have_hi;
    double near;             /* a point within rounding of the root, 0: none */
    int near_ok;
} ab_search;

static int ab_probe(const moemap_bound *b, double N, double A, bound_scratch *sc,
                    ab_search *s, double t, double *g)
{
    int ok = feasible_ab(b, t, N, A, sc, g);
    if (ok && (!s->have_hi || t < s->hi))
        s->hi = t, s->ghi = *g, s->have_hi = 1;
    else if (!ok && (!s->have_lo || t > s->lo))
        s->lo = t, s->glo = *g, s->have_lo = 1;
    s->near = isfinite(*g) && fabs(*g) <= 1e-10 * N ? t : 0;
    s->near_ok = ok;
    return ok;
}

typedef struct piece_step {
    double t, n;
} piece_step;

static int cmp_step(const void *a, const void *b)
{
    double x = ((const piece_step *)a)->t, y = ((const piece_step *)b)->t;
    return (x > y) - (x < y);
}

static int build_piece_steps(moemap_bound *b)
{
    size_t n = 0;
    for (int j = 0; j < b->num_classes; j++)
        if (b->classes[j].floor_us > 0 && b->classes[j].slots > 0)
            n += (size_t)b->classes[j].slots;
    piece_step *st = moemap_malloc((n > 0 ? n : 1) * sizeof *st);
    b->p_t = moemap_malloc((n > 0 ? n : 1) * sizeof *b->p_t);
    b->p_cum = moemap_malloc((n > 0 ? n : 1) * sizeof *b->p_cum);
    if (!st || !b->p_t || !b->p_cum) {
        moemap_free(st);
        return MOEMAP_ENOMEM;
    }
    size_t m = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        if (k->slots <= 0)
            continue;
        if (!(k->floor_us > 0)) {
            b->p_base += (double)k->count * k->slots;
            continue;
        }
        for (int p = 1; p <= k->slots; p++)
            st[m++] = (piece_step){p * k->floor_us, (double)k->count};
    }
    qsort(st, m, sizeof *st, cmp_step);
    double cum = b->p_base;
    for (size_t i = 0; i < m; i++) {
        cum += st[i].n;
        b->p_t[i] = st[i].t;
        b->p_cum[i] = cum;
    }
    b->p_n = (int)m;
    moemap_free(st);
    return 0;
}

/* The least T at which the GPUs offer A pieces: 0 when they do at any T > 0, -1 never.
 * Below it (a)+(b) fails for want of pieces whatever the tokens. */
static double pieces_from(const moemap_bound *b, double A)
{
    if (b->p_base >= A)
        return 0;
    int lo = 0, hi = b->p_n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (b->p_cum[mid] >= A)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < b->p_n ? b->p_t[lo] : -1;
}

/* The first T in (lo, hi) where a class's most pieces K = min(slots, floor(T / F)) grows
 * (T = k F): the served tokens jump there, 0 when none. */
static double next_jump(const moemap_bound *b, double lo, double hi)
{
    double best = 0;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        if (!(k->floor_us > 0))
            continue;
        double m = ceil(lo / k->floor_us);
        if (m * k->floor_us <= lo)
            m += 1;
        double c = m * k->floor_us;
        if (m <= k->slots && c < hi && (best == 0 || c < best))
            best = c;
    }
    return best;
}

static double solve_ab(const moemap_bound *b, double N, double A, bound_scratch *sc,
                       mm_bound_warm *w)
{
    ab_search s = {0};
    double g, slope = w && w->slope > 0 ? w->slope : 0;
    double t = w && w->t > 0 && isfinite(w->t) ? w->t : 1;
    /* With as many experts active as in the previous batch, the surplus at its root is
     * about the difference in tokens: start where the slope puts the new root. */
    if (t != 1 && slope > 0 && w->a == A) {
        double t1 = t + (N - w->n) / slope;
        t = t1 > 0.5 * t && t1 < 2 * t ? t1 : t;
    }
    int warm = w && w->t > 0;
    double step = warm ? 1.0 / 256 : 1.0; /* warm: 4 times further each; cold: doubling */
    double seen = 0; /* the surplus per us over the first bracket */
    int side = 0;
    double width4 = INFINITY;
    /* Below the step where the GPUs first offer A pieces nothing is feasible: a point
     * 0.9e-9 under it is the infeasible end (no probe needed: the pieces are short there
     * by far more than rounding), and just above it (4e-16, past the rounding of k F) is
     * the first point to try. Where the pieces decide, that closes the bracket at once;
     * regula falsi on the step was what made some batches take 20 evaluations. */
    double tA = pieces_from(b, A);
    if (tA < 0)
        return -1; /* too few slots for the experts: never feasible */
    if (tA > 0) {
        s.lo = tA * (1 - 0.9e-9), s.glo = -INFINITY, s.have_lo = 1;
        if (!(t > tA))
            t = tA * (1 + 4e-16);
    }
    ab_probe(b, N, A, sc, &s, t, &g);
    for (int it = 0; it < 300; it++) {
        if (s.have_lo && s.have_hi && s.hi - s.lo <= 1e-9 * s.hi)
            break;
        if (s.near > 0) { /* within rounding of the root: look just across it */
            t = s.near_ok ? s.near * (1 - 0.9e-9) : s.near * (1 + 0.9e-9);
            s.near = 0;
            if ((!s.have_lo || t > s.lo) && (!s.have_hi || t < s.hi)) {
                ab_probe(b, N, A, sc, &s, t, &g);
                continue;
            }
        }
        if (!s.have_lo || !s.have_hi) { /* one side only: the slope's guess, else step out */
            double from = s.have_hi ? s.hi : s.lo, gf = s.have_hi ? s.ghi : s.glo;
            t = slope > 0 && isfinite(gf) ? from - gf / slope : 0;
            if (!(t > 0.5 * from && t < 2 * from) || (s.have_hi ? t >= from : t <= from)) {
                t = s.have_hi ? from / (1 + step) : from * (1 + step);
                step *= warm ? 4 : 1;
            }
            slope = 0; /* one guess from the slope; then the steps */
            if (!(t > 1e-300))
                return 0; /* feasible at every T > 0 */
            if (t > 1e18)
                return -1; /* too few slots for the experts: never feasible */
            ab_probe(b, N, A, sc, &s, t, &g);
            if (s.have_lo && s.have_hi && isfinite(s.glo) && s.hi - s.lo > 1e-6 * s.hi)
                seen = (s.ghi - s.glo) / (s.hi - s.lo);
            continue;
        }
        /* The infeasible end is the pieces' step (no surplus to interpolate): try just
         * above the step, feasible when the pieces decide, else a surplus for the secant. */
        if (s.have_hi && isinf(s.glo) && tA > 0 && tA * (1 + 4e-16) > s.lo &&
            tA * (1 + 4e-16) < s.hi) {
            ab_probe(b, N, A, sc, &s, tA * (1 + 4e-16), &g);
            continue;
        }
        /* A narrow bracket that holds a jump (a class gains a piece): the root is most
         * likely the jump, where regula falsi would creep; try just above it, then
         * (as a near point) just below. */
        if (s.hi - s.lo < 1e-6 * s.hi) {
            double c = next_jump(b, s.lo, s.hi) * (1 + 4e-16);
            if (c > s.lo && c < s.hi) {
                if (ab_probe(b, N, A, sc, &s, c, &g))
                    s.near = c, s.near_ok = 1;
                continue;
            }
        }
        /* A bracket: regula falsi (Illinois), a bisection when it does not shrink. */
        int secant = isfinite(s.glo) && s.ghi > s.glo &&
                     (it % 4 != 3 || s.hi - s.lo < 0.25 * width4);
        if (it % 4 == 3)
            width4 = s.hi - s.lo;
        t = secant ? s.lo + (s.hi - s.lo) * (-s.glo) / (s.ghi - s.glo) : 0.5 * (s.lo + s.hi);
        if (!(t > s.lo && t < s.hi))
            t = 0.5 * (s.lo + s.hi);
        double keep_lo = s.glo, keep_hi = s.ghi;
        if (ab_probe(b, N, A, sc, &s, t, &g)) {
            if (side > 0)
                s.glo = 0.5 * keep_lo;
            side = 1;
        } else {
            if (side < 0)
                s.ghi = 0.5 * keep_hi;
            side = -1;
        }
    }
    if (!s.have_lo)
        return 0;
    if (w) {
        w->t = s.lo;
        w->n = N;
        w->a = A;
        if (seen > 0 && isfinite(seen))
            w->slope = seen;
    }
    /* The root is found within rounding, where the selection's sum (in another order than
     * the original's sorted one) may decide the other way: step back by 1e-11, far more
     * than rounding moves the root, so no algorithm finds the value feasible. */
    return s.lo * (1 - 1e-11);
}

/* The bound of one batch: the three conditions hold together exactly when (c) and (a)+(b)
 * each do, both are monotone in T, so T* is the larger of their roots: (c)'s from a table
 * (it depends on the busiest expert only), (a)+(b)'s by regula falsi (it depends on N and
 * A only). The value returned is infeasible for one of them, so never above T*, and
 * within 1e-9 relative of it (test_eval compares with the original bisection). */
static double layer_batch(const moemap_bound *b, const double *counts, int experts,
                          mm_bound_warm *w)
{
    double N, A, cmax;
    batch_totals(counts, experts, &N, &A, &cmax);
    if (A == 0 || b->has_free)
        return 0.0;
    double t1 = solve_single(b, cmax);
    if (t1 < 0)
        return layer_batch_ref(b, counts, experts, 0); /* not expected: the safe path */
    scratch_mem m;
    bound_scratch sc;
    if (scratch_get(b, &m, &sc))
        return 0.0; /* out of memory: 0 is still a valid (trivial) bound */
    mm_bound_warm keep = w ? *w : (mm_bound_warm){0};
    double t2 = solve_ab(b, N, A, &sc, w);
    scratch_put(&m);
    if (t2 < 0) {
        if (w)
            *w = keep; /* as the original: no placement at all, the trivial bound */
        return 0.0;
    }
    return t1 > t2 ? t1 : t2;
}

double moemap_bound_layer_batch(const moemap_bound *b, const double *counts, int experts)
{
    return layer_batch(b, counts, experts, NULL);
}

double mm_bound_layer_batch_from(const moemap_bound *b, const double *counts, int experts,
                                 mm_bound_warm *w)
{
    return layer_batch(b, counts, experts, w);
}

double mm_bound_layer_batch_bisect(const moemap_bound *b, const double *counts, int experts)
{
    return layer_batch_ref(b, counts, experts, 0);
}

double mm_bound_layer_batch_sorted(const moemap_bound *b, const double *counts, int experts)
{
    return layer_batch_ref(b, counts, experts, 1);
}

int mm_bound_feasible_at(const moemap_bound *b, const double *counts, int experts, double T)
{
    double N, A, cmax;
    batch_totals(counts, experts, &N, &A, &cmax);
    if (A == 0)
        return 1;
    scratch_mem m;
    bound_scratch sc;
    if (scratch_get(b, &m, &sc))
        return -1;
    int ok = feasible(b, T, N, A, cmax, &sc, 1);
    scratch_put(&m);
    return ok;
}

double mm_bound_fastest_us(const moemap_bound *b, double n)
{
    if (!(n > 0) || b->env_zero)
        return 0.0;
    const double *x = b->env_x, *y = b->env_y;
    int last = b->env_n - 1;
    if (n <= x[0])
        return y[0]; /* every curve is flat below its first point */
    if (n >= x[last])
        return y[last] + b->env_tail * (n - x[last]);
    /* the first point above n: in n's octave or the next one's first point */
    int k = exponent_field(n);
    int lo = b->env_oct[k] > 1 ? b->env_oct[k] : 1, hi = k < 2047 ? b->env_oct[k + 1] : last;
    hi = hi > last ? last : hi < lo ? lo : hi;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (x[mid] > n)
            hi = mid;
        else
            lo = mid + 1;
    }
    return y[lo - 1] + (y[lo] - y[lo - 1]) * (n - x[lo - 1]) / (x[lo] - x[lo - 1]);
}

void mm_bound_size(const moemap_bound *b, int *gpus, long *slots)
{
    *gpus = 0;
    *slots = 0;
    for (int j = 0; j < b->num_classes; j++) {
        *gpus += b->classes[j].count;
        *slots += (long)b->classes[j].count * b->classes[j].slots;
    }
}

/* mm_bound_loads: workers take layers in turn (the per-batch bounds are independent). */
typedef struct loads_job {
    const moemap_bound *b;
    const moemap_loads *ld;
    double *out;
    mm_bound_warm start; /* every layer's first search starts here (see mm_bound_loads) */
    pthread_mutex_t lock;
    int next;
} loads_job;

static void *loads_worker(void *arg)
{
    loads_job *j = arg;
    const moemap_loads *ld = j->ld;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int l = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (l >= ld->num_layers)
            return NULL;
        mm_bound_warm w = j->start; /* then the previous batch's root: the next is near */
        for (int bt = 0; bt < ld->num_batches; bt++)
            j->out[(size_t)l * ld->num_batches + bt] =
                layer_batch(j->b, &MOEMAP_LOADS_AT(ld, bt, l, 0), ld->experts, &w);
    }
}

int mm_bound_loads(const moemap_bound *b, const moemap_loads *loads, double **out,
                   moemap_error *err)
{
    size_t n = (size_t)loads->num_layers * (size_t)(loads->num_batches > 0 ? loads->num_batches
                                                                            : 1);
    *out = moemap_calloc(n, sizeof **out);
    if (!*out)
        return moemap_error_set(err, MOEMAP_ENOMEM, "lower bound: out of memory");
    loads_job j = {.b = b, .ld = loads, .out = *out, .next = 0};
    /* The first layer's first batch from cold (doubling from 1 us), then its root starts
     * every layer's search: layers of one model are alike, and the start is the same
     * whichever worker takes a layer, so the values do not depend on the scheduling. */
    for (int l = 0; l < loads->num_layers && j.start.t == 0; l++)
        if (loads->num_batches > 0)
            (void)layer_batch(b, &MOEMAP_LOADS_AT(loads, 0, l, 0), loads->experts, &j.start);
    pthread_mutex_init(&j.lock, NULL);
    long nw = sysconf(_SC_NPROCESSORS_ONLN);
    nw = nw < 1 ? 1 : nw > 16 ? 16 : nw;
    if (nw > loads->num_layers)
        nw = loads->num_layers > 0 ? loads->num_layers : 1;
    pthread_t tids[16];
    int started = 0;
    for (long w = 1; w < nw; w++)
        if (pthread_create(&tids[started], NULL, loads_worker, &j) == 0)
            started++;
    loads_worker(&j); /* this thread works too; with none started it does it all */
    for (int w = 0; w < started; w++)
        pthread_join(tids[w], NULL);
    pthread_mutex_destroy(&j.lock);
    return 0;
}

int mm_bound_piece_line(const moemap_bound *b, double nstar, double *H, double *mu)
{
    *H = 0;
    *mu = INFINITY;
    for (int j = 0; j < b->num_classes; j++) {
        const gpu_class *k = &b->classes[j];
        if (k->curve->n <= 0 || k->nh < 1)
            return 0;
        /* the hull's line through nstar: its segment, or the tail past the last vertex */
        int i = 1;
        while (i < k->nh && k->hx[i] < nstar)
            i++;
        double slope = i < k->nh ? (k->hy[i] - k->hy[i - 1]) / (k->hx[i] - k->hx[i - 1])
                                 : k->tail;
        double a = k->hy[i - 1] - slope * k->hx[i - 1];
        if (!(a > 0))
            return 0;
        *H += k->count / a;
        if (slope / a < *mu)
            *mu = slope / a;
    }
    if (!(*H > 0) || !isfinite(*mu))
        return 0;
    if (*mu < 0)
        *mu = 0;
    return 1;
}
