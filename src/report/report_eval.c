/*
 * report_eval.c — the placement charts of the report, from `moemap eval --json`:
 * a summary table (mean / p90 / p99 straggler time, lower bound, gap per strategy, and
 * the whole layer with dispatch and combine when the file has it), the
 * per-GPU MoE time of one layer under each strategy (one panel per strategy, the
 * straggler GPU in red, so the imbalance is visible at a glance), and the distribution
 * (CDF) of the straggler time over the batches per strategy.
 *
 * The input is read with moemap_eval_read (src/eval/eval_io.c, moemap.eval/v1): each
 * placement's summary, its per-batch model time and every layer's per-GPU time, as
 * moemap eval computed them, so the charts and the eval table agree by construction.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/eval.h"
#include "report_internal.h"
#include "base_util.h"

#define MAX_STRATEGIES 16

typedef struct strat {
    char name[48];
    double mean, p90, p99, bound, gap;
    double layer;                      /* whole layer per batch, NAN when absent */
    double *straggler;                 /* per batch (the summary's, sorted here) */
    int num_straggler;
    const moemap_eval_summary *sum;
    const double *gpu;                 /* per-GPU time of the layer shown, or NULL */
    int ngpu;
} strat;

/* The per-GPU times of model layer `layer` in s (NULL when it has none). */
static const double *gpu_times(const moemap_eval_summary *s, int layer)
{
    for (int l = 0; s->layer_gpu_us && l < s->num_layers; l++)
        if (s->layers[l].layer == layer)
            return &s->layer_gpu_us[(size_t)l * s->num_gpus];
    return NULL;
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
    int with_layer = 0;
    double best[5] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
    for (int i = 0; i < ns; i++) {
        double v[5] = {s[i].mean, s[i].p90, s[i].p99, s[i].gap, s[i].layer};
        for (int k = 0; k < 5; k++)
            if (isfinite(v[k]) && v[k] < best[k])
                best[k] = v[k];
        with_layer |= isfinite(s[i].layer);
    }
    if (with_layer)
        rp_buf_printf(&it->caption,
                      " These are the experts' compute; the whole layer adds each GPU's "
                      "dispatch and combine (the all-to-alls) before taking the slowest GPU: "
                      "the time a user waits for.");
    rp_buf *b = &it->body;
    rp_buf_printf(b, "<table><tr><th>strategy</th><th>mean (µs)</th><th>p90 (µs)</th>"
                     "<th>p99 (µs)</th><th>lower bound (µs)</th><th>gap</th>%s</tr>\n",
                  with_layer ? "<th>whole layer, mean (µs)</th>" : "");
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
        if (with_layer && isfinite(s[i].layer))
            rp_buf_printf(b, "<td%s>%.1f</td>", s[i].layer == best[4] ? " class=\"best\"" : "",
                          s[i].layer);
        else if (with_layer)
            rp_buf_printf(b, "<td>–</td>");
        rp_buf_printf(b, "</tr>\n");
    }
    rp_buf_printf(b, "</table>\n");
}

/* Per-GPU time bars, one panel per strategy, the straggler GPU in red. */
static int add_gpu_bars(rp_page *page, const strat *s, int ns, int lid, const char *path,
                        moemap_error *err)
{
    const double *t[MAX_STRATEGIES] = {0};
    int n[MAX_STRATEGIES] = {0}, with = 0, rc = 0;
    for (int i = 0; i < ns; i++) {
        t[i] = s[i].gpu;
        n[i] = s[i].ngpu;
        with += t[i] != NULL;
    }
    if (with == 0) {
        rp_page_missing(page, "Per-GPU time per strategy",
                        "the eval file has no per-GPU times (write it again with moemap "
                        "eval --json)");
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
                        "the eval file has no per-batch times (write it again with moemap "
                        "eval --json)");
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
    rp_buf_printf(b, "set title 'CDF of the per-batch straggler time'\nset xlabel ");
    rp_buf_gp_str(b, "MoE time per batch: sum over the layers of the slowest GPU's time (µs)");
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
static int pick_layer(const strat *s, int ns)
{
    const moemap_eval_summary *ref = s[0].sum;
    int best = ref->num_layers ? ref->layers[0].layer : -1;
    double best_spread = 0;
    for (int k = 0; k < ref->num_layers; k++) {
        int id = ref->layers[k].layer;
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < ns; i++)
            for (int j = 0; j < s[i].sum->num_layers; j++) {
                double m = s[i].sum->layers[j].mean_us;
                if (s[i].sum->layers[j].layer != id)
                    continue;
                lo = m < lo ? m : lo;
                hi = m > hi ? m : hi;
            }
        if (hi > lo && hi - lo > best_spread) {
            best_spread = hi - lo;
            best = id;
        }
    }
    return best;
}

int rp_add_eval(rp_page *page, const char *path, int layer, moemap_error *err)
{
    moemap_eval_file *f = NULL;
    int rc = moemap_eval_read(path, &f, err);
    if (rc)
        return rc;
    int ns = f->num_placements;
    if (ns == 0) {
        moemap_eval_file_free(f);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: placements is empty", path);
    }
    if (ns > MAX_STRATEGIES)
        ns = MAX_STRATEGIES; /* more would not fit on a chart */
    strat s[MAX_STRATEGIES];
    memset(s, 0, sizeof s);
    for (int i = 0; i < ns; i++) {
        const moemap_eval_summary *e = f->summaries[i];
        rp_fmt(s[i].name, sizeof s[i].name, "%s", e->strategy);
        s[i].sum = e;
        s[i].mean = e->mean_us;
        s[i].p90 = e->p90_us;
        s[i].p99 = e->p99_us;
        s[i].bound = e->bound_mean_us > 0 ? e->bound_mean_us : NAN;
        s[i].gap = e->bound_mean_us > 0 ? e->gap : NAN;
        s[i].layer = e->layer_mean_us > 0 ? e->layer_mean_us : NAN;
        s[i].straggler = e->batch_us;
        s[i].num_straggler = e->batch_us ? e->num_batches : 0;
    }
    int lid = layer >= 0 ? layer : pick_layer(s, ns);
    for (int i = 0; i < ns; i++) {
        s[i].gpu = gpu_times(s[i].sum, lid);
        s[i].ngpu = s[i].gpu ? s[i].sum->num_gpus : 0;
    }
    add_table(page, s, ns);
    rc = add_gpu_bars(page, s, ns, lid, path, err);
    if (!rc)
        rc = add_cdf(page, s, ns, path, err);
    moemap_eval_file_free(f);
    return rc;
}
