/*
 * report_cluster.c — the cluster chart of the report: every GPU's expert latency curve
 * f_g(n) over token counts, and each GPU's speed relative to the fastest at a small and
 * a large token count (the spread depends on the work: the weight-read floor of a few
 * tokens and the compute-bound end differ, which is why moemap keeps whole curves).
 *
 * The profile is read and checked by moemap_cluster_read, and every point drawn is the
 * cost model's own f_g(n) (moemap_cluster_expert_us), so the chart shows exactly what
 * the placement strategies and the evaluator use.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moemap/cluster.h"
#include "report_internal.h"

/* f_g(n) in microseconds, the cost model's own. */
static double f(const moemap_cluster *c, int g, double n)
{
    return moemap_cluster_expert_us(c, g, n);
}

int rp_add_cluster(rp_page *page, const char *path, moemap_error *err)
{
    moemap_cluster *c = NULL;
    int rc = moemap_cluster_read(path, &c, err);
    if (rc)
        return rc;
    int ng = c->num_gpus;
    double *speed = moemap_calloc((size_t)ng, sizeof *speed);
    if (!speed) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }

    /* Token grid: powers of two up to the largest measured point (at least 4096). */
    double nmax = 4096;
    for (int g = 0; g < ng; g++) {
        /* f_g's points are its own curve's, or the base curve's (scaled in time only). */
        const moemap_curve *e = c->gpus[g].curve.n > 0 ? &c->gpus[g].curve : &c->base;
        if (e->n > 0 && e->tokens[e->n - 1] > nmax)
            nmax = e->tokens[e->n - 1];
    }
    const double small_n = 16, large_n = nmax >= 8192 ? 8192 : nmax;
    /* Relative speed = fastest GPU's time / this GPU's time, at each token count. */
    double best_s = INFINITY, best_l = INFINITY;
    for (int g = 0; g < ng; g++) {
        double ts = f(c, g, small_n), tl = f(c, g, large_n);
        if (ts > 0 && ts < best_s)
            best_s = ts;
        if (tl > 0 && tl < best_l)
            best_l = tl;
    }
    int fastest = 0, slowest = 0;
    for (int g = 0; g < ng; g++) {
        speed[g] = f(c, g, large_n) > 0 ? best_l / f(c, g, large_n) : 0;
        if (speed[g] > speed[fastest])
            fastest = g;
        if (speed[g] < speed[slowest])
            slowest = g;
    }

    rp_item *it =
        rp_page_add(page, RP_ITEM_CHART, "cluster", "GPU speed curves of the cluster");
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
            rp_buf_printf(s, "%g %.6g\n", n, f(c, g, n));
        rp_buf_printf(s, "\n\n");
    }
    rp_buf_printf(s, "EOD\n$speed << EOD\n");
    for (int g = 0; g < ng; g++) {
        double ts = f(c, g, small_n);
        rp_buf_printf(s, "%d %.6g %.6g\n", g, ts > 0 ? best_s / ts : 0, speed[g]);
    }
    rp_buf_printf(s, "EOD\n");
    /* Start the speed axis just below the slowest GPU so a 5% spread is visible. */
    double ymin = 1.0;
    for (int g = 0; g < ng; g++) {
        double ts = f(c, g, small_n), rel = ts > 0 ? best_s / ts : 0;
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
                  "set title 'Expert latency per GPU, f(n)'\n"
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
    moemap_free(speed);
    moemap_cluster_free(c);
    return rc;
}
