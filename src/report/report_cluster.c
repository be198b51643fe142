/*
 * report_cluster.c — the cluster chart of the report: every GPU's expert latency curve
 * f_g(n) over token counts, and each GPU's speed relative to the fastest at a small and
 * a large token count (the spread depends on the work: the weight-read floor of a few
 * tokens and the compute-bound end differ, which is why moemap keeps whole curves).
 *
 * Reads moemap.cluster/v1 as DESIGN.md defines it: a GPU's curve is its own `curve` when
 * present, else `base_curve` divided by its `speed`; piecewise-linear, the first point's
 * value below it, extended with the last slope past the end.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "report_internal.h"

#define MAX_POINTS 256

typedef struct curve {
    int n;
    double tokens[MAX_POINTS], us[MAX_POINTS];
} curve;

static int read_curve(const json_t *obj, const char *where, curve *c, moemap_error *err)
{
    char w[256];
    json_t *t = mm_json_get_array(obj, "tokens", where, err);
    json_t *u = t ? mm_json_get_array(obj, "us", where, err) : NULL;
    if (!t || !u)
        return err ? err->code : MOEMAP_EPARSE;
    size_t n = json_array_size(t);
    if (n == 0 || n != json_array_size(u) || n > MAX_POINTS)
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s: tokens and us must have the same length in [1, %d] "
                                "(got %zu and %zu)",
                                where, MAX_POINTS, n, json_array_size(u));
    for (size_t i = 0; i < n; i++) {
        rp_fmt(w, sizeof w, "%s.tokens[%zu]", where, i);
        if (mm_json_number(json_array_get(t, i), w, &c->tokens[i], err))
            return err ? err->code : MOEMAP_EPARSE;
        rp_fmt(w, sizeof w, "%s.us[%zu]", where, i);
        if (mm_json_number(json_array_get(u, i), w, &c->us[i], err))
            return err ? err->code : MOEMAP_EPARSE;
        if (c->tokens[i] <= 0 || (i > 0 && c->tokens[i] <= c->tokens[i - 1]) || c->us[i] < 0)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s: point %zu: tokens must be positive and increasing, "
                                    "us non-negative",
                                    where, i);
    }
    c->n = (int)n;
    return 0;
}

static double curve_at(const curve *c, double n)
{
    if (n <= 0)
        return 0;
    if (c->n == 1 || n <= c->tokens[0])
        return c->us[0] * (c->n == 1 && n > c->tokens[0] ? n / c->tokens[0] : 1.0);
    int i = 1;
    while (i < c->n - 1 && c->tokens[i] < n)
        i++;
    double x0 = c->tokens[i - 1], x1 = c->tokens[i];
    return c->us[i - 1] + (c->us[i] - c->us[i - 1]) * (n - x0) / (x1 - x0);
}

int rp_add_cluster(rp_page *page, const json_t *root, const char *path, moemap_error *err)
{
    char where[256];
    json_t *gpus = mm_json_get_array(root, "gpus", path, err);
    if (!gpus)
        return err ? err->code : MOEMAP_EPARSE;
    int ng = (int)json_array_size(gpus);
    if (ng == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: gpus is empty", path);
    curve base = {0};
    json_t *bc = json_object_get(root, "base_curve");
    if (bc) {
        rp_fmt(where, sizeof where, "%s: base_curve", path);
        if (read_curve(bc, where, &base, err))
            return err ? err->code : MOEMAP_EPARSE;
    }
    curve *cv = moemap_calloc((size_t)ng, sizeof *cv);
    double *speed = moemap_calloc((size_t)ng, sizeof *speed);
    int *node = moemap_calloc((size_t)ng, sizeof *node);
    int rc = 0;
    if (!cv || !speed || !node) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int g = 0; g < ng && !rc; g++) {
        json_t *gj = json_array_get(gpus, (size_t)g);
        rp_fmt(where, sizeof where, "%s: gpus[%d]", path, g);
        if (!json_is_object(gj)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
            break;
        }
        long nd = 0;
        if (mm_json_get_int_opt(gj, "node", where, 0, 1 << 20, &nd, err)) {
            rc = err ? err->code : MOEMAP_EPARSE;
            break;
        }
        node[g] = (int)nd;
        json_t *own = json_object_get(gj, "curve");
        if (own) {
            char w2[300];
            rp_fmt(w2, sizeof w2, "%s.curve", where);
            if (read_curve(own, w2, &cv[g], err))
                rc = err ? err->code : MOEMAP_EPARSE;
            continue;
        }
        double s = 1.0;
        if (mm_json_get_num_opt(gj, "speed", where, 1e-6, 1e6, &s, err)) {
            rc = err ? err->code : MOEMAP_EPARSE;
            break;
        }
        if (base.n == 0) {
            rc = moemap_error_set(err, MOEMAP_EPARSE,
                                  "%s: no curve of its own and the cluster has no base_curve",
                                  where);
            break;
        }
        cv[g] = base;
        for (int i = 0; i < cv[g].n; i++)
            cv[g].us[i] /= s;
    }
    if (rc)
        goto done;

    /* Token grid: powers of two up to the largest measured point (at least 4096). */
    double nmax = 4096;
    for (int g = 0; g < ng; g++)
        if (cv[g].tokens[cv[g].n - 1] > nmax)
            nmax = cv[g].tokens[cv[g].n - 1];
    const double small_n = 16, large_n = nmax >= 8192 ? 8192 : nmax;
    /* Relative speed = fastest GPU's time / this GPU's time, at each token count. */
    double best_s = INFINITY, best_l = INFINITY;
    for (int g = 0; g < ng; g++) {
        double ts = curve_at(&cv[g], small_n), tl = curve_at(&cv[g], large_n);
        if (ts > 0 && ts < best_s)
            best_s = ts;
        if (tl > 0 && tl < best_l)
            best_l = tl;
    }
    int fastest = 0, slowest = 0;
    for (int g = 0; g < ng; g++) {
        speed[g] = curve_at(&cv[g], large_n) > 0 ? best_l / curve_at(&cv[g], large_n) : 0;
        if (speed[g] > speed[fastest])
            fastest = g;
        if (speed[g] < speed[slowest])
            slowest = g;
    }

    rp_item *it = rp_page_add(page, RP_ITEM_CHART, "cluster", "GPU speed curves of the cluster");
    if (!it) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    rp_buf_printf(&it->caption,
                  "Left: each GPU's time for one expert as a function of its token count "
                  "(%d GPUs; the fastest and the slowest at %.0f tokens highlighted). Right: "
                  "each GPU's speed relative to the fastest, with few tokens (%.0f, where the "
                  "weight read dominates) and many (%.0f). Token balancing assumes these are "
                  "all 1.",
                  ng, large_n, small_n, large_n);
    rp_buf *s = &it->body;
    rp_buf_printf(s, "$curves << EOD\n");
    for (int g = 0; g < ng; g++) {
        for (double n = 1; n <= nmax * 1.0001; n *= 2)
            rp_buf_printf(s, "%g %.6g\n", n, curve_at(&cv[g], n));
        rp_buf_printf(s, "\n\n");
    }
    rp_buf_printf(s, "EOD\n$speed << EOD\n");
    for (int g = 0; g < ng; g++) {
        double ts = curve_at(&cv[g], small_n);
        rp_buf_printf(s, "%d %.6g %.6g %d\n", g, ts > 0 ? best_s / ts : 0, speed[g], node[g]);
    }
    rp_buf_printf(s, "EOD\n");
    /* Start the speed axis just below the slowest GPU so a 5% spread is visible. */
    double ymin = 1.0;
    for (int g = 0; g < ng; g++) {
        double ts = curve_at(&cv[g], small_n), rel = ts > 0 ? best_s / ts : 0;
        if (rel < ymin)
            ymin = rel;
        if (speed[g] < ymin)
            ymin = speed[g];
    }
    ymin = floor((ymin - 0.05) * 20) / 20;
    if (ymin < 0)
        ymin = 0;
    rp_buf_printf(s,
                  "set multiplot layout 1,2\n"
                  "set title 'Expert latency f_g(n)'\n"
                  "set xlabel 'tokens routed to the expert (n)'\n"
                  "set ylabel 'time per expert (µs)'\n"
                  "set logscale xy\nset key top left\nset xrange [1:%g]\n"
                  "plot for [g=0:%d] $curves index g using 1:2 with lines lc rgb '#c0c4cc' "
                  "notitle, "
                  "NaN with lines lc rgb '#c0c4cc' title 'other GPUs', "
                  "$curves index %d using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb '%s' "
                  "title 'fastest (GPU %d)', "
                  "$curves index %d using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb '%s' "
                  "title 'slowest (GPU %d)'\n",
                  nmax, ng - 1, fastest, rp_gp_color(0), fastest, slowest, rp_gp_color(1),
                  slowest);
    rp_buf_printf(s,
                  "unset logscale\nset title 'Relative speed per GPU (fastest = 1)'\n"
                  "set xlabel 'GPU'\nset ylabel 'speed relative to the fastest'\n"
                  "set key bottom right\nset yrange [%.3f:1.02]\nset xrange [-0.7:%d.7]\n"
                  "set boxwidth 0.4\n"
                  "plot $speed using ($1-0.2):2 with boxes lc rgb '%s' title '%.0f tokens', "
                  "$speed using ($1+0.2):3 with boxes lc rgb '%s' title '%.0f tokens'\n"
                  "unset multiplot\n",
                  ymin, ng - 1, rp_gp_color(5), small_n, rp_gp_color(0), large_n);
done:
    moemap_free(cv);
    moemap_free(speed);
    moemap_free(node);
    return rc;
}
