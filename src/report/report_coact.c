/*
 * report_coact.c — the co-activation chart drawn from the workload itself (--loads):
 * in the most skewed MoE layer, the correlation of the per-batch token counts of the
 * hottest experts, as a matrix. Blocks of red show experts that burst together; a
 * placement that puts two of them on one GPU makes that GPU the straggler exactly when
 * they are hot. (Without --loads the report falls back to the strongest pairs that
 * `moemap stats --json` lists, see report_stats.c.)
 *
 * The workload is read with moemap_workload_read, so any input `moemap stats` accepts
 * works here too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/workload.h"
#include "report_internal.h"

typedef struct ranked {
    int expert;
    double total;
} ranked;

static int by_total_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->total != y->total)
        return (x->total < y->total) - (x->total > y->total);
    return x->expert - y->expert;
}

/* Pearson correlation of two series; 0 when either is constant. */
static double pearson(const double *x, const double *y, int n)
{
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

int rp_add_coactivation_loads(rp_page *page, const char *path, int hot, moemap_error *err)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_loads *ld = NULL;
    int rc = moemap_workload_read(path, &rp, &ld, NULL, err);
    if (rc)
        return rc;
    int E = ld->experts, B = ld->num_batches;
    ranked *rk = moemap_malloc((size_t)E * sizeof *rk);
    double *tot = moemap_malloc((size_t)E * sizeof *tot);
    double *series = NULL;
    if (!rk || !tot) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (B < 3 || ld->num_layers == 0) {
        rp_page_missing(page, "Co-activation of the hottest experts",
                        "the workload has fewer than 3 batches or no MoE layer");
        goto done;
    }
    /* The most skewed layer: the largest busiest-expert / mean-expert load. */
    int best = -1;
    double best_skew = -1;
    for (int l = 0; l < ld->num_layers; l++) {
        moemap_loads_layer_total(ld, l, tot);
        double sum = 0, mx = 0;
        for (int e = 0; e < E; e++) {
            sum += tot[e];
            if (tot[e] > mx)
                mx = tot[e];
        }
        if (sum > 0 && mx * E / sum > best_skew) {
            best_skew = mx * E / sum;
            best = l;
        }
    }
    if (best < 0) {
        rp_page_missing(page, "Co-activation of the hottest experts",
                        "the workload routes no tokens");
        goto done;
    }
    moemap_loads_layer_total(ld, best, tot);
    for (int e = 0; e < E; e++)
        rk[e] = (ranked){e, tot[e]};
    qsort(rk, (size_t)E, sizeof *rk, by_total_desc);
    int k = hot < E ? hot : E;
    series = moemap_malloc((size_t)k * (size_t)B * sizeof *series);
    if (!series) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < k; i++)
        for (int b = 0; b < B; b++)
            series[(size_t)i * B + b] = MOEMAP_LOADS_AT(ld, b, best, rk[i].expert);

    rp_item *it = rp_page_add(page, RP_ITEM_CHART, "coactivation",
                              "Co-activation of the hottest experts");
    if (!it) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    it->height = 560;
    rp_buf_printf(&it->caption,
                  "Model layer %d (the most skewed: busiest expert %.1fx the mean): the "
                  "correlation of the per-batch token counts of its %d hottest experts, "
                  "hottest first, over %d batches. Red blocks are experts that are hot "
                  "together: on one GPU they make it the straggler exactly when they burst, "
                  "so GEM and moemap keep them apart.",
                  ld->layer_ids[best], best_skew, k, B);
    rp_buf *s = &it->body;
    rp_buf_printf(s, "$m << EOD\n");
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++)
            rp_buf_printf(s, "%d %d %.4f\n", j, i,
                          i == j ? 1.0 : pearson(series + (size_t)i * B,
                                                 series + (size_t)j * B, B));
        rp_buf_printf(s, "\n");
    }
    rp_buf_printf(s, "EOD\nset xtics (");
    for (int i = 0; i < k; i++)
        rp_buf_printf(s, "%s'%d' %d", i ? ", " : "", rk[i].expert, i);
    rp_buf_printf(s, ") rotate by -60 left\nset ytics (");
    for (int i = 0; i < k; i++)
        rp_buf_printf(s, "%s'%d' %d", i ? ", " : "", rk[i].expert, i);
    rp_buf_printf(s, ")\n");
    rp_buf_printf(s, "set title 'Correlation of per-batch token counts, hottest experts of "
                     "layer %d'\n"
                     "set xlabel 'expert (hottest first)'\nset ylabel 'expert (hottest first)'\n"
                     "set cblabel 'Pearson correlation'\nset cbrange [-1:1]\n"
                     "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
                     "set size ratio -1\nunset grid\nunset key\n"
                     "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n"
                     "plot $m using 1:2:3 with image notitle\n",
                  ld->layer_ids[best], k - 1, k - 1);
done:
    moemap_free(series);
    moemap_free(rk);
    moemap_free(tot);
    moemap_loads_free(ld);
    return rc;
}
