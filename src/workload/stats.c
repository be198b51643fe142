/*
 * stats.c — the workload profile behind `moemap stats`: per MoE layer, the load share of
 * every expert, skew (busiest / mean, coefficient of variation, Gini), consistent and
 * temporal experts (definitions in workload.h, next to moemap_stats_params), the most
 * co-activated expert pairs and clusters of experts that are hot together, plus the
 * cosine distance between two workloads' load vectors (drift).
 *
 * Co-activation is the Pearson correlation of two experts' per-batch load *shares*
 * (count / the batch's token-slots), so that a short last batch of a trace does not
 * make every pair look correlated. All pairs are scored from z-scored vectors, one dot
 * product each: E^2/2 x B per layer, about a quarter of a second for a DeepSeek-V3 shape
 * with 256 batches.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workload_internal.h"
#include "base_util.h"

moemap_stats_params moemap_stats_default_params(void)
{
    return (moemap_stats_params){.consistent_threshold = 0.8, .temporal_max_active = 0.3,
                                 .temporal_min_ratio = 2.0, .temporal_min_contrast = 1.5,
                                 .max_pairs = 5, .cluster_min_corr = 0.5};
}

static void layer_free(moemap_layer_stats *s)
{
    moemap_free(s->load_share);
    moemap_free(s->active_frac);
    moemap_free(s->hot_frac);
    moemap_free(s->consistent);
    moemap_free(s->temporal);
    moemap_free(s->pairs);
    moemap_free(s->cluster_start);
    moemap_free(s->cluster_experts);
}

void moemap_workload_stats_free(moemap_workload_stats *st)
{
    if (!st)
        return;
    for (int l = 0; st->layers && l < st->num_layers; l++)
        layer_free(&st->layers[l]);
    moemap_free(st->layers);
    moemap_free(st->cosine_distance);
    moemap_free(st);
}

/* Skew of the expert totals: busiest / mean, coefficient of variation, Gini. */
static void skew(const double *tot, int E, double *sorted, double *mom, double *cv,
                 double *gini)
{
    double sum = 0, mx = 0;
    for (int e = 0; e < E; e++) {
        sum += tot[e];
        if (tot[e] > mx)
            mx = tot[e];
    }
    double mean = sum / E, var = 0;
    for (int e = 0; e < E; e++)
        var += (tot[e] - mean) * (tot[e] - mean);
    var /= E;
    *mom = mean > 0 ? mx / mean : 0;
    *cv = mean > 0 ? sqrt(var) / mean : 0;
    memcpy(sorted, tot, (size_t)E * sizeof *sorted);
    qsort(sorted, (size_t)E, sizeof *sorted, mm_cmp_double);
    double acc = 0;
    for (int i = 0; i < E; i++)
        acc += (double)(i + 1) * sorted[i];
    *gini = sum > 0 ? 2.0 * acc / ((double)E * sum) - (double)(E + 1) / E : 0;
}

/* Dot product with four partial sums: independent chains let the CPU overlap the
 * multiply-adds (the all-pairs correlation is most of the statistics' time). */
static double dot(const double *x, const double *y, int n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

static int find_root(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Keeps the best `cap` pairs by correlation in `best` (sorted, descending). */
static void keep_pair(moemap_coactive_pair *best, int *n, int cap, int a, int b, double r)
{
    if (cap <= 0 || (*n == cap && r <= best[cap - 1].corr))
        return;
    int i = *n < cap ? (*n)++ : cap - 1;
    while (i > 0 && best[i - 1].corr < r) {
        best[i] = best[i - 1];
        i--;
    }
    best[i].a = a;
    best[i].b = b;
    best[i].corr = r;
}

/* Everything about one layer entry. `z` is scratch of E x B, `tmp` of E. */
static int layer_stats(const moemap_loads *ld, int l, const moemap_stats_params *p,
                       moemap_layer_stats *s, double *z, double *tmp, int *parent, int *order,
                       double *hot_rel, double *cold_rel)
{
    const int E = ld->experts, B = ld->num_batches;
    for (int e = 0; e < E; e++)
        hot_rel[e] = cold_rel[e] = 0;
    s->layer = ld->layer_ids[l];
    s->load_share = moemap_calloc((size_t)E, sizeof(double));
    s->active_frac = moemap_calloc((size_t)E, sizeof(double));
    s->hot_frac = moemap_calloc((size_t)E, sizeof(double));
    s->consistent = moemap_malloc((size_t)E * sizeof(int));
    s->temporal = moemap_malloc((size_t)E * sizeof(int));
    int cap = p->max_pairs > 0 ? p->max_pairs : 0;
    s->pairs = moemap_malloc(((size_t)cap + 1) * sizeof *s->pairs);
    s->cluster_start = moemap_malloc(((size_t)E + 1) * sizeof(int));
    s->cluster_experts = moemap_malloc((size_t)E * sizeof(int));
    if (!s->load_share || !s->active_frac || !s->hot_frac || !s->consistent || !s->temporal ||
        !s->pairs || !s->cluster_start || !s->cluster_experts)
        return -1;

    double tokens = 0;
    for (int b = 0; b < B; b++) {
        const double *c = &MOEMAP_LOADS_AT(ld, b, l, 0);
        double slots = 0;
        for (int e = 0; e < E; e++)
            slots += c[e];
        tokens += ld->batch_tokens[b];
        double hot_at = p->temporal_min_ratio * slots / E;
        for (int e = 0; e < E; e++) {
            int hot = c[e] > 0 && c[e] >= hot_at;
            double rel = slots > 0 ? c[e] * E / slots : 0; /* load / the batch's mean */
            s->load_share[e] += c[e];
            s->active_frac[e] += c[e] > 0;
            s->hot_frac[e] += hot;
            hot_rel[e] += hot ? rel : 0;
            cold_rel[e] += hot ? 0 : rel;
            z[(size_t)e * (size_t)B + (size_t)b] = slots > 0 ? c[e] / slots : 0;
        }
    }
    s->tokens = tokens;
    skew(s->load_share, E, tmp, &s->max_over_mean, &s->cv, &s->gini);
    double total = 0;
    for (int e = 0; e < E; e++)
        total += s->load_share[e];
    for (int e = 0; e < E; e++) {
        s->load_share[e] = total > 0 ? s->load_share[e] / total : 0;
        s->active_frac[e] /= B;
        s->hot_frac[e] /= B;
        if (s->active_frac[e] >= p->consistent_threshold)
            s->consistent[s->num_consistent++] = e;
        /* Bursty, not merely hovering at the threshold: when hot it carries at least
         * min_contrast x its own (relative) load in the other batches. */
        double nh = s->hot_frac[e] * B;
        double hot_mean = nh > 0 ? hot_rel[e] / nh : 0;
        double cold_mean = B - nh > 0 ? cold_rel[e] / (B - nh) : 0;
        if (s->hot_frac[e] > 0 && s->hot_frac[e] <= p->temporal_max_active &&
            hot_mean >= p->temporal_min_contrast * cold_mean)
            s->temporal[s->num_temporal++] = e;
    }

    /* z-score each expert's share series; a constant series gets no correlation. */
    for (int e = 0; e < E; e++) {
        double *v = z + (size_t)e * (size_t)B, m = 0, var = 0;
        for (int b = 0; b < B; b++)
            m += v[b];
        m /= B;
        for (int b = 0; b < B; b++)
            var += (v[b] - m) * (v[b] - m);
        double sd = sqrt(var / B);
        tmp[e] = sd > 1e-12 && B >= 3 ? 1.0 : 0.0; /* usable for correlation */
        for (int b = 0; b < B; b++)
            v[b] = tmp[e] > 0 ? (v[b] - m) / sd : 0;
    }
    for (int e = 0; e < E; e++)
        parent[e] = e;
    for (int a = 0; a < E; a++) {
        if (tmp[a] == 0)
            continue;
        const double *va = z + (size_t)a * (size_t)B;
        for (int b2 = a + 1; b2 < E; b2++) {
            if (tmp[b2] == 0)
                continue;
            double r = dot(va, z + (size_t)b2 * (size_t)B, B) / B;
            if (r > 0)
                keep_pair(s->pairs, &s->num_pairs, cap, a, b2, r);
            /* Clusters: experts that are hot at some point and rise and fall together. */
            if (r >= p->cluster_min_corr && s->hot_frac[a] > 0 && s->hot_frac[b2] > 0) {
                int ra = find_root(parent, a), rb = find_root(parent, b2);
                if (ra != rb)
                    parent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
            }
        }
    }
    /* Collect clusters of two or more, each ascending, ordered by their smallest expert. */
    for (int e = 0; e < E; e++)
        order[e] = 0;
    for (int e = 0; e < E; e++)
        order[find_root(parent, e)]++;
    int k = 0;
    s->cluster_start[0] = 0;
    for (int r = 0; r < E; r++) {
        if (find_root(parent, r) != r || order[r] < 2)
            continue;
        for (int e = r; e < E; e++)
            if (find_root(parent, e) == r)
                s->cluster_experts[k++] = e;
        s->cluster_start[++s->num_clusters] = k;
    }
    return 0;
}

int moemap_workload_stats_compute(const moemap_loads *ld, const moemap_stats_params *params,
                                  moemap_workload_stats **out, moemap_error *err)
{
    *out = NULL;
    moemap_stats_params p = params ? *params : moemap_stats_default_params();
    if (!ld)
        return moemap_error_set(err, MOEMAP_EINVAL, "stats: no loads");
    if (!(p.consistent_threshold >= 0 && p.consistent_threshold <= 1))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "stats: consistent threshold %g is outside [0, 1]",
                                p.consistent_threshold);
    if (!(p.temporal_max_active >= 0 && p.temporal_max_active <= 1))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "stats: temporal max active %g is outside [0, 1]",
                                p.temporal_max_active);
    if (!(p.temporal_min_ratio > 0 && p.temporal_min_ratio < 1e9))
        return moemap_error_set(err, MOEMAP_EINVAL, "stats: temporal min ratio %g must be > 0",
                                p.temporal_min_ratio);
    if (!(p.temporal_min_contrast >= 0 && p.temporal_min_contrast < 1e9))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "stats: temporal min contrast %g must be >= 0",
                                p.temporal_min_contrast);
    if (p.max_pairs < 0 || p.max_pairs > 1000000)
        return moemap_error_set(err, MOEMAP_EINVAL, "stats: max pairs %d is outside [0, 1e6]",
                                p.max_pairs);
    if (!(p.cluster_min_corr >= -1 && p.cluster_min_corr <= 1))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "stats: cluster correlation %g is outside [-1, 1]",
                                p.cluster_min_corr);
    const int E = ld->experts, B = ld->num_batches;
    moemap_workload_stats *st = moemap_calloc(1, sizeof *st);
    double *z = moemap_malloc((size_t)E * (size_t)B * sizeof *z);
    double *tmp = moemap_malloc((size_t)E * sizeof *tmp);
    int *parent = moemap_malloc((size_t)E * sizeof *parent);
    int *order = moemap_malloc((size_t)E * sizeof *order);
    double *rel = moemap_malloc(2 * (size_t)E * sizeof *rel);
    int rc = 0;
    if (!st || !z || !tmp || !parent || !order || !rel ||
        !(st->layers = moemap_calloc((size_t)ld->num_layers, sizeof *st->layers)))
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "stats: out of memory");
    if (!rc) {
        st->experts = E;
        st->num_batches = B;
        st->top_k = ld->top_k;
        st->num_layers = ld->num_layers;
        for (int l = 0; l < ld->num_layers && !rc; l++)
            if (layer_stats(ld, l, &p, &st->layers[l], z, tmp, parent, order, rel, rel + E))
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "stats: out of memory");
    }
    moemap_free(z);
    moemap_free(tmp);
    moemap_free(parent);
    moemap_free(order);
    moemap_free(rel);
    if (rc) {
        moemap_workload_stats_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

static double cosine_distance(const double *x, const double *y, int n)
{
    double xy = 0, xx = 0, yy = 0;
    for (int i = 0; i < n; i++) {
        xy += x[i] * y[i];
        xx += x[i] * x[i];
        yy += y[i] * y[i];
    }
    if (xx == 0 && yy == 0)
        return 0;
    if (xx == 0 || yy == 0)
        return 1;
    double d = 1.0 - xy / (sqrt(xx) * sqrt(yy));
    return d < 0 ? 0 : d;
}

int moemap_loads_cosine_distance(const moemap_loads *a, int la, const moemap_loads *b,
                                 double *out, moemap_error *err)
{
    if (!a || !b || la < 0 || la >= a->num_layers)
        return moemap_error_set(err, MOEMAP_EINVAL, "cosine distance: bad layer entry %d", la);
    if (a->experts != b->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "cannot compare: %d experts per layer vs %d", a->experts,
                                b->experts);
    int lb = moemap_loads_find_layer(b, a->layer_ids[la]);
    if (lb < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "cannot compare: layer %d is missing",
                                a->layer_ids[la]);
    double *x = moemap_malloc(2 * (size_t)a->experts * sizeof *x);
    if (!x)
        return moemap_error_set(err, MOEMAP_ENOMEM, "cosine distance: out of memory");
    moemap_loads_layer_total(a, la, x);
    moemap_loads_layer_total(b, lb, x + a->experts);
    *out = cosine_distance(x, x + a->experts, a->experts);
    moemap_free(x);
    return 0;
}

double moemap_loads_batch_cosine_distance(const moemap_loads *ld, int l, int b1, int b2)
{
    return cosine_distance(&MOEMAP_LOADS_AT(ld, b1, l, 0), &MOEMAP_LOADS_AT(ld, b2, l, 0),
                           ld->experts);
}

int moemap_workload_stats_compare(moemap_workload_stats *st, const moemap_loads *a,
                                  const moemap_loads *b, moemap_error *err)
{
    double *d = moemap_malloc((size_t)(a->num_layers > 0 ? a->num_layers : 1) * sizeof *d);
    if (!d)
        return moemap_error_set(err, MOEMAP_ENOMEM, "stats: out of memory");
    for (int l = 0; l < a->num_layers; l++) {
        int rc = moemap_loads_cosine_distance(a, l, b, &d[l], err);
        if (rc) {
            moemap_free(d);
            return rc;
        }
    }
    moemap_free(st->cosine_distance);
    st->cosine_distance = d;
    return 0;
}
