/*
 * report_sim.c — the serving part of the report, from `moemap simulate`: a table of
 * TTFT / TPOT / SLO attainment per run (--json), and the p90 TTFT over time per run
 * (--timeseries) with the drift events and recalibrations marked as vertical lines, so
 * one sees latency rise after a drift and which policy brings it back down.
 *
 * The input is read with moemap_sim_read (src/sim/sim_io.c, moemap.simulate/v1): per run
 * its label, latencies, SLO attainment, migration, capacity, time series and markers.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moemap/sim.h"
#include "report_internal.h"

#define MAX_RUNS 16
#define MAX_MARKERS 64

/* A run's name for legends: its label without ".json" (simulate names runs after
 * their placement file: "eplb.json/moemap" -> "eplb/moemap"). */
static void run_label(const char *l, int i, char *out, size_t size)
{
    const char *dot = strstr(l, ".json");
    if (dot)
        rp_fmt(out, size, "%.*s%s", (int)(dot - l), l, dot + 5);
    else if (*l)
        rp_fmt(out, size, "%s", l);
    else
        rp_fmt(out, size, "run %d", i + 1);
}

static int add_sim_table(rp_page *page, const moemap_sim_file *f, const char *path,
                         moemap_error *err)
{
    int n = f->num_runs < MAX_RUNS ? f->num_runs : MAX_RUNS;
    rp_item *it = rp_page_add(page, RP_ITEM_HTML, "sim-table", "Serving (simulated)");
    if (!it)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    rp_buf_printf(&it->caption,
                  "Time to first token (TTFT), time per output token (TPOT) and the share of "
                  "requests meeting both SLO targets, from the discrete-event serving "
                  "simulator on the same arrivals for every run.");
    rp_buf *b = &it->body;
    int with_cap = 0;
    for (int i = 0; i < n; i++)
        with_cap |= isfinite(f->runs[i]->capacity_rps);
    rp_buf_printf(b, "<table><tr><th>run</th><th>TTFT p50 (s)</th><th>TTFT p90 (s)</th>"
                     "<th>TTFT p99 (s)</th><th>TPOT p90 (ms)</th><th>SLO attainment</th>"
                     "<th>migrated (GB)</th>%s</tr>\n",
                  with_cap ? "<th>capacity (req/s at 90% SLO)</th>" : "");
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = f->runs[i];
        char label[128];
        run_label(f->labels[i], i, label, sizeof label);
        rp_buf_printf(b, "<tr><td>");
        rp_buf_html(b, label);
        rp_buf_printf(b, "</td>");
        double v[7] = {r->ttft.p50, r->ttft.p90, r->ttft.p99, r->tpot.p90 * 1e3,
                       100 * r->slo_attainment, r->migration_bytes / 1e9, r->capacity_rps};
        static const char *const fmt[7] = {"<td>%.3f</td>", "<td>%.3f</td>", "<td>%.3f</td>",
                                           "<td>%.3f</td>", "<td>%.1f%%</td>",
                                           "<td>%.2f</td>", "<td>%.1f</td>"};
        for (int k = 0; k < (with_cap ? 7 : 6); k++)
            rp_buf_printf(b, isfinite(v[k]) ? fmt[k] : "<td>–</td>",
                          isfinite(v[k]) ? v[k] : 0.0);
        rp_buf_printf(b, "</tr>\n");
    }
    rp_buf_printf(b, "</table>\n");
    return 0;
}

int rp_add_simulate(rp_page *page, const char *path, moemap_error *err)
{
    moemap_sim_file *f = NULL;
    int rc = moemap_sim_read(path, &f, err);
    if (!rc)
        rc = add_sim_table(page, f, path, err);
    moemap_sim_file_free(f);
    return rc;
}

typedef struct marker {
    double t;
    int event;        /* an input event (drift, GPU change), else a recalibration */
    int run;          /* the run it belongs to (a recalibration is drawn in its colour) */
    char label[96];
} marker;

static int add_ts_chart(rp_page *page, const moemap_sim_file *f, const char *path,
                        moemap_error *err);

int rp_add_timeseries(rp_page *page, const char *path, moemap_error *err)
{
    moemap_sim_file *f = NULL;
    int rc = moemap_sim_read(path, &f, err);
    if (!rc)
        rc = add_ts_chart(page, f, path, err);
    moemap_sim_file_free(f);
    return rc;
}

/* The markers of every run: input events once, recalibrations per run. */
static int collect_markers(const moemap_sim_file *f, int n, marker *mk)
{
    int nm = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < f->runs[i]->num_markers; k++) {
            double tm = f->runs[i]->markers[k].time_s;
            const char *lab = f->runs[i]->markers[k].label;
            /* An input event (switch@T=PATH, slow@T=GPU:F, recover@T=GPU, lost@T=GPU) is
             * the same in every run: shown once, its path cut to the file name. Anything
             * else is a recalibration of that run. */
            int is_event = !strncmp(lab, "switch@", 7) || !strncmp(lab, "slow@", 5) ||
                           !strncmp(lab, "recover@", 8) || !strncmp(lab, "lost@", 5);
            char text[96];
            const char *eq = strchr(lab, '=');
            const char *slash = eq ? strrchr(eq, '/') : NULL;
            if (is_event && slash)
                rp_fmt(text, sizeof text, "%.*s%s", (int)(eq - lab + 1), lab, slash + 1);
            else if (is_event)
                rp_fmt(text, sizeof text, "%s", lab);
            else {
                /* A recalibration's label explains itself at length; the chart keeps
                 * the head ("moemap: 57 moves"), the table has the rest. */
                int head = (int)strcspn(lab, ",(");
                while (head > 0 && lab[head - 1] == ' ')
                    head--;
                rp_fmt(text, sizeof text, "%.*s", head, lab);
            }
            int dup = 0;
            for (int j = 0; j < nm && is_event; j++)
                dup |= mk[j].event && fabs(mk[j].t - tm) < 1e-9 && !strcmp(mk[j].label, text);
            if (!dup && nm < MAX_MARKERS) {
                mk[nm].t = tm;
                mk[nm].event = is_event;
                mk[nm].run = i;
                rp_fmt(mk[nm].label, sizeof mk[nm].label, "%s", text);
                nm++;
            }
        }
    return nm;
}

static int add_ts_chart(rp_page *page, const moemap_sim_file *f, const char *path,
                        moemap_error *err)
{
    int n = f->num_runs < MAX_RUNS ? f->num_runs : MAX_RUNS, with = 0;
    marker mk[MAX_MARKERS];
    char label[MAX_RUNS][128];
    double tmax = 0;
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = f->runs[i];
        run_label(f->labels[i], i, label[i], sizeof label[i]);
        with += r->ts_n > 0;
        for (int k = 0; k < r->ts_n; k++)
            if (r->ts_time_s[k] > tmax)
                tmax = r->ts_time_s[k];
    }
    int nm = collect_markers(f, n, mk);
    if (with == 0) {
        rp_page_missing(page, "p90 TTFT over time",
                        "the time-series file has no time_s / p90_ttft_s arrays");
        return 0;
    }
    rp_item *it = rp_page_add(page, RP_ITEM_CHART, "ttft-over-time",
                              "p90 TTFT over time, with drift and recalibration events");
    if (!it)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    it->height = 460;
    rp_buf_printf(&it->caption,
                  "p90 time to first token of the requests served in each interval, per "
                  "run. Vertical lines mark events: a routing drift or a GPU slowing "
                  "down (grey, dashed), and recalibrations (dotted, %s), where a policy "
                  "moved experts.",
                  n > 1 ? "in the colour of the run that made them" : "green");
    rp_buf *b = &it->body;
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = f->runs[i];
        if (!r->ts_n)
            continue;
        rp_buf_printf(b, "$r%d << EOD\n", i);
        for (int k = 0; k < r->ts_n; k++) {
            if (isfinite(r->ts_p90_ttft_s[k]))
                rp_buf_printf(b, "%.6g %.6g\n", r->ts_time_s[k], r->ts_p90_ttft_s[k]);
            else
                rp_buf_printf(b, "%.6g ?\n", r->ts_time_s[k]);
        }
        rp_buf_printf(b, "EOD\n");
    }
    rp_buf_printf(b, "set title 'p90 TTFT over time'\nset xlabel 'time (s)'\n"
                     "set ylabel 'p90 TTFT (s)'\nset key top left\nset yrange [0:*]\n"
                     "set xrange [0:%g]\n",
                  tmax > 0 ? tmax : 1);
    for (int j = 0; j < nm; j++) {
        int recal = !mk[j].event;
        const char *col = !recal ? "#777777" : n > 1 ? rp_gp_color(mk[j].run) : "#009E73";
        rp_buf_printf(b, "set arrow from %g, graph 0 to %g, graph 1 nohead dt %d lw 1.5 "
                         "lc rgb '%s'\n",
                      mk[j].t, mk[j].t, recal ? 3 : 2, col);
        if (!recal || nm <= 12) {
            rp_buf_printf(b, "set label ");
            rp_buf_gp_str(b, mk[j].label);
            rp_buf_printf(b, " at %g, graph 0.98 rotate by 90 right front font ',8' "
                             "offset -1.1,0 tc rgb '%s'\n",
                          mk[j].t, recal ? col : "#444444");
        }
    }
    rp_buf_printf(b, "plot ");
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!f->runs[i]->ts_n)
            continue;
        rp_buf_printf(b, "%s$r%d using 1:2 with lines lw 1.8 lc rgb '%s' title ",
                      first ? "" : ", ", i, rp_gp_color(i));
        rp_buf_gp_str(b, label[i]);
        first = 0;
    }
    rp_buf_printf(b, ", NaN with lines dt 2 lc rgb '#777777' title 'drift / GPU event', "
                     "NaN with lines dt 3 lc rgb '%s' title '%s'\n",
                  n > 1 ? "#333333" : "#009E73",
                  n > 1 ? "recalibration (run colour)" : "recalibration");
    return 0;
}
