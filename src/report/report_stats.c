/*
 * report_stats.c — the workload charts of the report, from `moemap stats --json`:
 * a heatmap of expert load per MoE layer (load relative to the layer's mean, so 1 is a
 * perfectly balanced expert and the hot experts stand out whatever the layer's size),
 * and the co-activation of the hottest experts (the pairs whose per-batch counts rise
 * and fall together, which a placement should keep on different GPUs).
 *
 * Keys read per entry of "layers": layer, load_share (fraction of the layer's
 * token-slots per expert), max_over_mean, coactive_pairs ([{experts: [a, b], corr}]). A stats file
 * without load shares still gives the co-activation chart, and vice versa.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "report_internal.h"

/* An expert id read as a JSON number: an integer in [0, 2^20] (the same bound as the
 * {"a", "b"} form), checked before the conversion to long, which a value such as 1e308
 * would make undefined. */
static int expert_id(double d, const char *where, long *out, moemap_error *err)
{
    if (!(d >= 0 && d <= (double)(1 << 20)) || d != floor(d))
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "%s: expert id %g is not an integer in [0, %d]", where, d,
                                1 << 20);
    *out = (long)d;
    return 0;
}

#define MAX_PAIRS_SHOWN 16

typedef struct pair {
    int layer, a, b;
    double corr;
} pair;

/* Reads a numeric array into out (moemap_malloc'ed); *n its length. */
static int read_numbers(const json_t *arr, const char *where, double **out, int *n,
                        moemap_error *err)
{
    size_t len = json_array_size(arr);
    double *v = moemap_malloc((len ? len : 1) * sizeof *v);
    if (!v)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    char w[300];
    for (size_t i = 0; i < len; i++) {
        rp_fmt(w, sizeof w, "%s[%zu]", where, i);
        if (mm_json_number(json_array_get(arr, i), w, &v[i], err)) {
            moemap_free(v);
            return err ? err->code : MOEMAP_EPARSE;
        }
    }
    *out = v;
    *n = (int)len;
    return 0;
}

/* Heatmap rows: one per layer with load shares; columns experts. */
static int add_heatmap(rp_page *page, const json_t *layers, const char *path,
                       moemap_error *err)
{
    int nl = (int)json_array_size(layers), experts = 0, rows = 0, rc = 0;
    double vmax = 1.0;
    rp_buf data = {0};
    int *ids = moemap_malloc((size_t)(nl ? nl : 1) * sizeof *ids);
    if (!ids)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    for (int l = 0; l < nl && !rc; l++) {
        const json_t *lj = json_array_get(layers, (size_t)l);
        json_t *sh = json_object_get(lj, "load_share");
        if (!sh)
            continue;
        char where[300];
        rp_fmt(where, sizeof where, "%s: layers[%d].load_share", path, l);
        if (!json_is_array(sh)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", where);
            break;
        }
        double *v = NULL;
        int n = 0;
        if ((rc = read_numbers(sh, where, &v, &n, err)))
            break;
        if (n == 0 || (experts && n != experts)) {
            moemap_free(v);
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: %d experts, expected %d", where,
                                  n, experts ? experts : 1);
            break;
        }
        experts = n;
        long id = l;
        rp_fmt(where, sizeof where, "%s: layers[%d]", path, l);
        if ((rc = mm_json_get_int_opt(lj, "layer", where, 0, 100000, &id, err))) {
            moemap_free(v);
            break;
        }
        ids[rows] = (int)id;
        /* Load relative to the layer's mean expert: share * experts. */
        for (int e = 0; e < n; e++) {
            double rel = v[e] * n;
            if (rel > vmax)
                vmax = rel;
            rp_buf_printf(&data, "%d %d %.4g\n", e, rows, rel);
        }
        rp_buf_printf(&data, "\n");
        rows++;
        moemap_free(v);
    }
    if (!rc && rows == 0)
        rp_page_missing(page, "Expert load heatmap",
                        "the stats file has no per-layer load_share arrays");
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
                rp_buf_printf(s, "%s'%d' %d", r ? ", " : "", ids[r], r);
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
    moemap_free(ids);
    return rc;
}

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    return (a->corr < b->corr) - (a->corr > b->corr);
}

/* The strongest co-activated pairs over all layers, as horizontal bars. */
static int add_coactive(rp_page *page, const json_t *layers, const char *path,
                        moemap_error *err)
{
    int nl = (int)json_array_size(layers), np = 0, cap = 0, rc = 0;
    pair *pairs = NULL;
    char where[300];
    for (int l = 0; l < nl && !rc; l++) {
        const json_t *lj = json_array_get(layers, (size_t)l);
        json_t *cp = json_object_get(lj, "coactive_pairs");
        if (!cp)
            continue;
        rp_fmt(where, sizeof where, "%s: layers[%d]", path, l);
        long id = l;
        if ((rc = mm_json_get_int_opt(lj, "layer", where, 0, 100000, &id, err)))
            break;
        if (!json_is_array(cp)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.coactive_pairs: expected an array",
                                  where);
            break;
        }
        for (size_t i = 0; i < json_array_size(cp) && !rc; i++) {
            json_t *pj = json_array_get(cp, i);
            char w[340];
            rp_fmt(w, sizeof w, "%s.coactive_pairs[%zu]", where, i);
            long a = 0, b = 0;
            double corr = 0;
            if (json_is_array(pj) && json_array_size(pj) == 3) { /* [a, b, corr] */
                double da = 0, db = 0;
                rc = mm_json_number(json_array_get(pj, 0), w, &da, err);
                if (!rc)
                    rc = mm_json_number(json_array_get(pj, 1), w, &db, err);
                if (!rc)
                    rc = mm_json_number(json_array_get(pj, 2), w, &corr, err);
                if (!rc)
                    rc = expert_id(da, w, &a, err);
                if (!rc)
                    rc = expert_id(db, w, &b, err);
            } else if (json_is_object(pj) && json_is_array(json_object_get(pj, "experts"))) {
                json_t *ab = json_object_get(pj, "experts"); /* {"experts": [a, b], corr} */
                double da = 0, db = 0;
                if (json_array_size(ab) != 2)
                    rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.experts: expected [a, b]", w);
                if (!rc)
                    rc = mm_json_number(json_array_get(ab, 0), w, &da, err);
                if (!rc)
                    rc = mm_json_number(json_array_get(ab, 1), w, &db, err);
                if (!rc)
                    rc = mm_json_get_num(pj, "corr", w, -1.0001, 1.0001, &corr, err);
                if (!rc)
                    rc = expert_id(da, w, &a, err);
                if (!rc)
                    rc = expert_id(db, w, &b, err);
            } else if (json_is_object(pj)) {
                rc = mm_json_get_int(pj, "a", w, 0, 1 << 20, &a, err);
                if (!rc)
                    rc = mm_json_get_int(pj, "b", w, 0, 1 << 20, &b, err);
                if (!rc)
                    rc = mm_json_get_num(pj, "corr", w, -1.0001, 1.0001, &corr, err);
            } else {
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s: expected {\"a\", \"b\", \"corr\"} or [a, b, corr]",
                                      w);
            }
            if (rc)
                break;
            if (np == cap) {
                cap = cap ? 2 * cap : 64;
                pair *p2 = moemap_realloc(pairs, (size_t)cap * sizeof *p2);
                if (!p2) {
                    rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
                    break;
                }
                pairs = p2;
            }
            pairs[np++] = (pair){(int)id, (int)a, (int)b, corr};
        }
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

int rp_add_stats(rp_page *page, const json_t *root, const char *path, int with_pairs,
                 moemap_error *err)
{
    json_t *layers = mm_json_get_array(root, "layers", path, err);
    if (!layers)
        return err ? err->code : MOEMAP_EPARSE;
    int rc = add_heatmap(page, layers, path, err);
    if (!rc && with_pairs)
        rc = add_coactive(page, layers, path, err);
    return rc;
}
