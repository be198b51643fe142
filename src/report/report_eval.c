/*
 * report_eval.c — the placement charts of the report, from `moemap eval --json`:
 * a summary table (mean / p90 / p99 straggler time, lower bound, gap per strategy), the
 * per-GPU MoE time of one layer under each strategy (one panel per strategy, the
 * straggler GPU in red, so the imbalance is visible at a glance), and the distribution
 * (CDF) of the straggler time over the batches per strategy.
 *
 * Keys read (see docs/report.md): "strategies": [{strategy, mean_us, p90_us, p99_us,
 * bound_us, gap, straggler_us: [per batch], layers: [{layer, gpu_us: [per GPU]}]}].
 * A few alternative names are accepted (report_json.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "report_internal.h"
#include "report_json.h"
#include "base_util.h"

#define MAX_STRATEGIES 16

typedef struct strat {
    char name[48];
    double mean, p90, p99, bound, gap; /* NAN when absent */
    double *straggler;                 /* per batch, or NULL */
    int num_straggler;
    int summed;                        /* per-batch times are sums over the MoE layers */
    const json_t *layers;              /* per-layer array, or NULL */
    double *gpu;                       /* per-GPU time of the layer shown, or NULL */
    int ngpu;
    const json_t *entry;
} strat;

static const char *const K_STRAG[] = {"straggler_us", "batch_straggler_us", "batch_us",
                                      NULL};
static const char *const K_GPU[] = {"gpu_us", "gpu_time_us", "per_gpu_us", NULL};

static double num_or_nan(const json_t *o, const char *const *k, const char *w, int *rc,
                         moemap_error *err)
{
    double v = NAN;
    int r = rp_json_num_any(o, k, w, &v, err);
    if (r < 0)
        *rc = r;
    return v;
}

/* The per-GPU times of model layer `layer` in entry s (NULL when it has none): the
 * entry of s->layers with that layer id; layer < 0 takes the first. */
static int gpu_times(const strat *s, int layer, const char *where, double **out, int *n,
                     int *layer_out, moemap_error *err)
{
    *out = NULL;
    *n = 0;
    if (!s->layers)
        return 0;
    for (size_t i = 0; i < json_array_size(s->layers); i++) {
        json_t *lj = json_array_get(s->layers, i);
        char w[300];
        rp_fmt(w, sizeof w, "%s.layers[%zu]", where, i);
        long id = (long)i;
        if (mm_json_get_int_opt(lj, "layer", w, 0, 1000000, &id, err))
            return err->code;
        if (layer >= 0 && id != layer)
            continue;
        int r = rp_json_array_any(lj, K_GPU, w, out, n, err);
        if (r < 0)
            return r;
        if (r > 0) {
            *layer_out = (int)id;
            return 0;
        }
    }
    return 0;
}

static void add_table(rp_page *page, const strat *s, int ns)
{
    rp_item *it = rp_page_add(page, RP_ITEM_HTML, "eval-table",
                              "Straggler time per strategy (predicted)");
    if (!it)
        return;
    rp_buf_printf(&it->caption,
                  "Predicted MoE time per batch: the sum over the MoE layers of each "
                  "layer's slowest-GPU time, over the workload's batches. Lower is better; "
                  "the lower bound is what no placement can beat, the gap is how far each "
                  "strategy is from it. Best value per column in bold.");
    double best[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    for (int i = 0; i < ns; i++) {
        double v[4] = {s[i].mean, s[i].p90, s[i].p99, s[i].gap};
        for (int k = 0; k < 4; k++)
            if (isfinite(v[k]) && v[k] < best[k])
                best[k] = v[k];
    }
    rp_buf *b = &it->body;
    rp_buf_printf(b, "<table><tr><th>strategy</th><th>mean (µs)</th><th>p90 (µs)</th>"
                     "<th>p99 (µs)</th><th>lower bound (µs)</th><th>gap</th></tr>\n");
    for (int i = 0; i < ns; i++) {
        rp_buf_printf(b, "<tr><td>");
        rp_buf_html(b, s[i].name);
        rp_buf_printf(b, "</td>");
        double v[4] = {s[i].mean, s[i].p90, s[i].p99, s[i].gap};
        for (int k = 0; k < 3; k++) {
            if (isfinite(v[k]))
                rp_buf_printf(b, "<td%s>%.1f</td>", v[k] == best[k] ? " class=\"best\"" : "",
                              v[k]);
            else
                rp_buf_printf(b, "<td>–</td>");
        }
        if (isfinite(s[i].bound))
            rp_buf_printf(b, "<td>%.1f</td>", s[i].bound);
        else
            rp_buf_printf(b, "<td>–</td>");
        if (isfinite(v[3]))
            rp_buf_printf(b, "<td%s>%.1f%%</td>", v[3] == best[3] ? " class=\"best\"" : "",
                          100 * v[3]);
        else
            rp_buf_printf(b, "<td>–</td>");
        rp_buf_printf(b, "</tr>\n");
    }
    rp_buf_printf(b, "</table>\n");
}

/* Per-GPU time bars, one panel per strategy, the straggler GPU in red. */
static int add_gpu_bars(rp_page *page, const strat *s, int ns, int lid, const char *path,
                        moemap_error *err)
{
    double *t[MAX_STRATEGIES] = {0};
    int n[MAX_STRATEGIES] = {0}, with = 0, rc = 0;
    for (int i = 0; i < ns; i++) {
        t[i] = s[i].gpu;
        n[i] = s[i].ngpu;
        with += t[i] != NULL;
    }
    if (with == 0) {
        rp_page_missing(page, "Per-GPU time per strategy",
                        "the eval file has no per-GPU times; give --loads and --cluster to "
                        "compute them from its placement files");
        return 0;
    }
    {
        double ymax = 0;
        for (int i = 0; i < ns; i++)
            for (int g = 0; g < n[i]; g++)
                if (t[i][g] > ymax)
                    ymax = t[i][g];
        rp_item *it = rp_page_add(page, RP_ITEM_CHART, "gpu-bars",
                                  "Per-GPU MoE time of one layer under each strategy");
        if (!it)
            return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        int rows = (with + 1) / 2;
        it->height = 60 + 230 * rows;
        rp_buf_printf(&it->caption,
                      "Model layer %d: each bar is one GPU's predicted MoE time (mean over the "
                      "batches); the red bar is the straggler every other GPU waits for, the "
                      "dashed line the mean GPU. The gap between the red bar and the dashed "
                      "line is time the whole layer wastes.",
                      lid);
        rp_buf *b = &it->body;
        for (int i = 0; i < ns; i++) {
            if (!t[i])
                continue;
            rp_buf_printf(b, "$s%d << EOD\n", i);
            int worst = 0;
            for (int g = 0; g < n[i]; g++)
                if (t[i][g] > t[i][worst])
                    worst = g;
            for (int g = 0; g < n[i]; g++)
                rp_buf_printf(b, "%d %.6g %d\n", g, t[i][g], g == worst);
            rp_buf_printf(b, "EOD\n");
        }
        rp_buf_printf(b, "set multiplot layout %d,%d\nset boxwidth 0.8\n"
                         "set yrange [0:%g]\nset xlabel 'GPU'\nset ylabel 'MoE time (µs)'\n"
                         "set key top right horizontal\n",
                      rows, with > 1 ? 2 : 1, ymax * 1.25);
        for (int i = 0; i < ns; i++) {
            if (!t[i])
                continue;
            double mean = 0, mx = 0;
            for (int g = 0; g < n[i]; g++) {
                mean += t[i][g] / n[i];
                if (t[i][g] > mx)
                    mx = t[i][g];
            }
            rp_buf_printf(b, "set title ");
            char title[160];
            rp_fmt(title, sizeof title, "%s: straggler %.0f µs, mean GPU %.0f µs", s[i].name,
                      mx, mean);
            rp_buf_gp_str(b, title);
            rp_buf_printf(b, "\nset xrange [-0.7:%d.7]\n"
                             "plot $s%d using 1:($3 > 0.5 ? NaN : $2) with boxes lc rgb '%s' "
                             "title 'GPU time', "
                             "$s%d using 1:($3 > 0.5 ? $2 : NaN) with boxes lc rgb '%s' "
                             "title 'straggler', "
                             "%g with lines dt 2 lw 1.5 lc rgb '#333333' title 'mean GPU'\n",
                          n[i] - 1, i, rp_gp_color(0), i, rp_gp_color(1), mean);
        }
        rp_buf_printf(b, "unset multiplot\n");
    }
    return rc;
}

/* Empirical CDF of the per-batch straggler time, one line per strategy. */
static int add_cdf(rp_page *page, strat *s, int ns, const char *path, moemap_error *err)
{
    int with = 0;
    for (int i = 0; i < ns; i++)
        with += s[i].num_straggler > 0;
    if (with == 0) {
        rp_page_missing(page, "Straggler time CDF",
                        "the eval file has no per-batch times; give --loads and --cluster to "
                        "compute them from its placement files");
        return 0;
    }
    rp_item *it = rp_page_add(page, RP_ITEM_CHART, "straggler-cdf",
                              "Distribution of the straggler time per strategy");
    if (!it)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    rp_buf_printf(&it->caption,
                  "For each strategy, the share of batches (y) whose MoE layer time — the "
                  "slowest GPU's — is at most x. Further left is better; the upper end is the "
                  "tail (p90, p99) that decides latency SLOs.");
    rp_buf *b = &it->body;
    for (int i = 0; i < ns; i++) {
        if (!s[i].num_straggler)
            continue;
        qsort(s[i].straggler, (size_t)s[i].num_straggler, sizeof(double), mm_cmp_double);
        rp_buf_printf(b, "$c%d << EOD\n", i);
        int m = s[i].num_straggler;
        /* At most ~400 points per line: enough for a smooth curve, small scripts. */
        int step = m > 400 ? m / 400 : 1;
        for (int k = 0; k < m; k += step)
            rp_buf_printf(b, "%.6g %.6g\n", s[i].straggler[k], (double)(k + 1) / m);
        rp_buf_printf(b, "%.6g 1\nEOD\n", s[i].straggler[m - 1]);
    }
    int summed = 0;
    for (int i = 0; i < ns; i++)
        summed |= s[i].num_straggler > 0 && s[i].summed;
    rp_buf_printf(b, "set title 'CDF of the per-batch straggler time'\nset xlabel ");
    rp_buf_gp_str(b, summed ? "MoE time per batch: sum over the layers of the slowest GPU's "
                              "time (µs)"
                            : "straggler (slowest GPU) time per layer and batch (µs)");
    rp_buf_printf(b, "\nset ylabel 'share of batches'\nset yrange [0:1.02]\n"
                     "set key bottom right\nset grid xtics ytics\nplot ");
    int first = 1;
    for (int i = 0; i < ns; i++) {
        if (!s[i].num_straggler)
            continue;
        rp_buf_printf(b, "%s$c%d using 1:2 with steps lw 2 lc rgb '%s' title ", first ? "" : ", ",
                      i, rp_gp_color(i));
        rp_buf_gp_str(b, s[i].name);
        first = 0;
    }
    rp_buf_printf(b, "\n");
    return 0;
}

/* The layer to show when none is asked for: where the strategies differ most (largest
 * spread of their per-layer mean straggler time), else the first one listed. */
static int pick_layer(const strat *s, int ns, const char *path, moemap_error *err)
{
    int best = -1;
    double best_spread = -1;
    const json_t *ref = NULL;
    for (int i = 0; i < ns && !ref; i++)
        ref = s[i].layers;
    for (size_t k = 0; ref && k < json_array_size(ref); k++) {
        long id = -1;
        char w[300];
        rp_fmt(w, sizeof w, "%s: layers[%zu]", path, k);
        if (mm_json_get_int_opt(json_array_get(ref, k), "layer", w, 0, 1000000, &id, err))
            return err && err->code ? err->code : MOEMAP_EPARSE;
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < ns; i++) {
            for (size_t j = 0; s[i].layers && j < json_array_size(s[i].layers); j++) {
                const json_t *lj = json_array_get(s[i].layers, j);
                json_t *lid = json_object_get(lj, "layer");
                double m = NAN;
                if (!json_is_integer(lid) || json_integer_value(lid) != id)
                    continue;
                if (rp_json_num_any(lj, RP_K_MEAN, w, &m, err) < 0)
                    return err && err->code ? err->code : MOEMAP_EPARSE;
                if (m < lo)
                    lo = m;
                if (m > hi)
                    hi = m;
            }
        }
        if (id >= 0 && best < 0)
            best = (int)id;
        if (id >= 0 && hi > lo && hi - lo > best_spread) {
            best_spread = hi - lo;
            best = (int)id;
        }
    }
    return best;
}

int rp_add_eval(rp_page *page, const json_t *root, const char *path, int layer,
                const char *loads_path, const char *cluster_path, moemap_error *err)
{
    json_t *arr = rp_json_any(root, RP_K_STRATS);
    if (!json_is_array(arr))
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s: expected an array \"strategies\" (moemap eval --json)",
                                path);
    int ns = (int)json_array_size(arr), rc = 0;
    if (ns == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: strategies is empty", path);
    if (ns > MAX_STRATEGIES)
        ns = MAX_STRATEGIES; /* more would not fit on a chart; the table says how many */
    strat s[MAX_STRATEGIES];
    memset(s, 0, sizeof s);
    char where[300];
    for (int i = 0; i < ns && !rc; i++) {
        json_t *e = json_array_get(arr, (size_t)i);
        rp_fmt(where, sizeof where, "%s: strategies[%d]", path, i);
        if (!json_is_object(e)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
            break;
        }
        const char *name = rp_json_str_any(e, RP_K_NAME);
        rp_fmt(s[i].name, sizeof s[i].name, "%s", name ? name : "?");
        if (!name)
            rp_fmt(s[i].name, sizeof s[i].name, "placement %d", i + 1);
        s[i].entry = e;
        s[i].mean = num_or_nan(e, RP_K_MEAN, where, &rc, err);
        s[i].p90 = num_or_nan(e, RP_K_P90, where, &rc, err);
        s[i].p99 = num_or_nan(e, RP_K_P99, where, &rc, err);
        s[i].bound = num_or_nan(e, RP_K_BOUND, where, &rc, err);
        s[i].gap = num_or_nan(e, RP_K_GAP, where, &rc, err);
        if (rc)
            break;
        if (!isfinite(s[i].gap) && isfinite(s[i].bound) && s[i].bound > 0 &&
            isfinite(s[i].mean))
            s[i].gap = s[i].mean / s[i].bound - 1;
        int r = rp_json_array_any(e, K_STRAG, where, &s[i].straggler, &s[i].num_straggler,
                                  err);
        s[i].summed = !json_object_get(e, "straggler_us") &&
                      !json_object_get(e, "batch_straggler_us");
        if (r < 0) {
            rc = r;
            break;
        }
        json_t *ls = json_object_get(e, "layers");
        if (ls && !json_is_array(ls)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.layers: expected an array", where);
            break;
        }
        s[i].layers = ls;
    }
    int lid = layer;
    if (!rc && lid < 0) {
        lid = pick_layer(s, ns, path, err);
        if (lid < -1)
            rc = lid;
    }
    int missing = 0;
    for (int i = 0; i < ns && !rc; i++) {
        rp_fmt(where, sizeof where, "%s: strategies[%d]", path, i);
        int got = lid;
        rc = gpu_times(&s[i], lid, where, &s[i].gpu, &s[i].ngpu, &got, err);
        if (lid < 0 && s[i].gpu)
            lid = got;
        missing |= !s[i].gpu || !s[i].num_straggler;
    }
    /* eval --json keeps summaries: recompute what the charts need from the placements. */
    if (!rc && missing && loads_path && cluster_path) {
        rp_recompute *r = NULL;
        rc = rp_recompute_open(loads_path, cluster_path, path, &r, err);
        for (int i = 0; i < ns && !rc; i++) {
            const char *file = json_string_value(json_object_get(s[i].entry, "file"));
            if (!file || (s[i].gpu && s[i].num_straggler))
                continue;
            double *bt = NULL, *gt = NULL;
            int nb = 0, ng = 0;
            rc = rp_recompute_strategy(r, file, lid, &bt, &nb, &gt, &ng, err);
            if (rc)
                break;
            if (!s[i].num_straggler) {
                moemap_free(s[i].straggler);
                s[i].straggler = bt;
                s[i].num_straggler = nb;
                s[i].summed = 1;
            } else {
                moemap_free(bt);
            }
            if (!s[i].gpu) {
                s[i].gpu = gt;
                s[i].ngpu = ng;
            } else {
                moemap_free(gt);
            }
        }
        rp_recompute_close(r);
    }
    if (!rc) {
        add_table(page, s, ns);
        rc = add_gpu_bars(page, s, ns, lid, path, err);
    }
    if (!rc)
        rc = add_cdf(page, s, ns, path, err);
    for (int i = 0; i < ns; i++) {
        moemap_free(s[i].straggler);
        moemap_free(s[i].gpu);
    }
    return rc;
}
