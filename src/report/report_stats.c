/*
 * report_stats.c — the workload charts of the report, from `moemap stats --json`:
 * a heatmap of expert load per MoE layer (load relative to the layer's mean, so 1 is a
 * perfectly balanced expert and the hot experts stand out whatever the layer's size),
 * and the co-activation of the hottest experts (the pairs whose per-batch counts rise
 * and fall together, which a placement should keep on different GPUs).
 *
 * The input is read with moemap_workload_stats_read (src/workload/stats_io.c,
 * moemap.stats/v1): per layer its load shares and its co-activated pairs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/workload.h"
#include "report_internal.h"

#define MAX_PAIRS_SHOWN 16

typedef struct pair {
    int layer, a, b;
    double corr;
} pair;

/* Heatmap rows: one per layer with load shares; columns experts. */
static int add_heatmap(rp_page *page, const moemap_workload_stats *st, const char *path,
                       moemap_error *err)
{
    int rows = st->num_layers, experts = st->experts, rc = 0;
    double vmax = 1.0;
    rp_buf data = {0};
    for (int l = 0; l < rows; l++) {
        /* Load relative to the layer's mean expert: share * experts. */
        for (int e = 0; e < experts; e++) {
            double rel = st->layers[l].load_share[e] * experts;
            if (rel > vmax)
                vmax = rel;
            rp_buf_printf(&data, "%d %d %.4g\n", e, l, rel);
        }
        rp_buf_printf(&data, "\n");
    }
    if (!rc && rows == 0)
        rp_page_missing(page, "Expert load heatmap",
                        "the stats file has no layers");
    if (!rc && rows > 0) {
        rp_item *it = rp_page_add(page, RP_ITEM_CHART, "load-heatmap",
                                  "Expert load per MoE layer");
        if (!it) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        } else {
            it->height = rows > 30 ? 560 : 440;
            rp_buf_printf(&it->caption,
                          "Each row is an MoE layer, each column an expert; the colour is the "
                          "expert's load relative to the layer's mean (1 = balanced, white). "
                          "Dark cells are the hot experts a placement must spread or "
                          "replicate; the busiest expert carries %.1fx the mean.",
                          vmax);
            rp_buf *s = &it->body;
            rp_buf_printf(s, "$map << EOD\n");
            rp_buf_append(s, data.s ? data.s : "", data.len);
            rp_buf_printf(s, "EOD\n");
            /* Model layer ids as y labels, about 12 of them. */
            int step = rows > 12 ? (rows + 11) / 12 : 1;
            rp_buf_printf(s, "set ytics (");
            for (int r = 0; r < rows; r += step)
                rp_buf_printf(s, "%s'%d' %d", r ? ", " : "", st->layers[r].layer, r);
            rp_buf_printf(s, ")\n");
            rp_buf_printf(s,
                          "set title 'Expert load relative to the layer mean'\n"
                          "set xlabel 'expert'\nset ylabel 'MoE layer (model index)'\n"
                          "set cblabel 'load / mean load (log scale)'\n"
                          "set logscale cb\nset cbrange [0.1:%g]\n"
                          "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 0.75 '#f4a582', "
                          "1 '#67001f')\n"
                          "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nunset grid\nunset key\n"
                          "plot $map using 1:2:($3 > 0.1 ? $3 : 0.1) with image "
                          "notitle\n",
                          vmax < 1.5 ? 1.5 : vmax, experts - 1, rows - 1);
        }
    }
    rp_buf_free(&data);
    return rc;
}

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    return (a->corr < b->corr) - (a->corr > b->corr);
}

/* The strongest co-activated pairs over all layers, as horizontal bars. */
static int add_coactive(rp_page *page, const moemap_workload_stats *st, const char *path,
                        moemap_error *err)
{
    int np = 0, rc = 0;
    for (int l = 0; l < st->num_layers; l++)
        np += st->layers[l].num_pairs;
    pair *pairs = moemap_malloc((size_t)(np ? np : 1) * sizeof *pairs);
    if (!pairs)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    np = 0;
    for (int l = 0; l < st->num_layers; l++)
        for (int i = 0; i < st->layers[l].num_pairs; i++) {
            const moemap_coactive_pair *cp = &st->layers[l].pairs[i];
            pairs[np++] = (pair){st->layers[l].layer, cp->a, cp->b, cp->corr};
        }
    if (!rc && np == 0)
        rp_page_missing(page, "Co-activation of the hottest experts",
                        "the stats file has no coactive_pairs");
    if (!rc && np > 0) {
        qsort(pairs, (size_t)np, sizeof *pairs, cmp_pair);
        int shown = np < MAX_PAIRS_SHOWN ? np : MAX_PAIRS_SHOWN;
        rp_item *it = rp_page_add(page, RP_ITEM_CHART, "coactivation",
                                  "Co-activation of the hottest experts");
        if (!it) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        } else {
            rp_buf_printf(&it->caption,
                          "The %d most strongly co-activated expert pairs over all layers "
                          "(Pearson correlation of their per-batch token counts). Such pairs "
                          "burst together: on one GPU they make it the straggler exactly when "
                          "both are hot, so GEM and moemap keep them apart.",
                          shown);
            rp_buf *s = &it->body;
            rp_buf_printf(s, "$pairs << EOD\n");
            for (int i = 0; i < shown; i++)
                rp_buf_printf(s, "%d \"L%d: %d+%d\" %.4f %d\n", i, pairs[i].layer, pairs[i].a,
                              pairs[i].b, pairs[i].corr, pairs[i].layer);
            rp_buf_printf(s, "EOD\n");
            rp_buf_printf(s,
                          "set title 'Most co-activated expert pairs (layer: expert + expert)'\n"
                          "set ylabel 'correlation of per-batch counts'\n"
                          "set xlabel 'expert pair'\n"
                          "set yrange [0:1.05]\nset xrange [-0.6:%d.6]\n"
                          "set xtics rotate by -35 left\nset boxwidth 0.7\n"
                          "set key top right\n"
                          "plot $pairs using 1:3:xtic(2) with boxes lc rgb '%s' "
                          "title 'correlation', 0.5 with lines dt 2 lc rgb '#555555' "
                          "title 'strong (0.5)'\n",
                          shown - 1, rp_gp_color(1));
        }
    }
    moemap_free(pairs);
    return rc;
}

int rp_add_stats(rp_page *page, const char *path, int with_pairs, moemap_error *err)
{
    moemap_workload_stats *st = NULL;
    int rc = moemap_workload_stats_read(path, &st, err);
    if (!rc)
        rc = add_heatmap(page, st, path, err);
    if (!rc && with_pairs)
        rc = add_coactive(page, st, path, err);
    moemap_workload_stats_free(st);
    return rc;
}
