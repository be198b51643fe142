/*
 * report_sim.c — the serving part of the report, from `moemap simulate`: a table of
 * TTFT / TPOT / SLO attainment per run (--json), and the p90 TTFT over time per run
 * (--timeseries) with the drift events and recalibrations marked as vertical lines, so
 * one sees latency rise after a drift and which policy brings it back down.
 *
 * A file holds one run (an object) or several ("runs": [...], as --compare writes).
 * Keys read per run (see docs/report.md): label, ttft {p50,p90,p99}, tpot {...},
 * slo_attainment, goodput_rps, migration_bytes, capacity_rps; timeseries {time_s, p90_ttft_s},
 * markers [{time_s, label}].
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "report_internal.h"
#include "report_json.h"

#define MAX_RUNS 16
#define MAX_MARKERS 64

static const char *const K_RUNS[] = {"runs", "results", "compare", NULL};
static const char *const K_LABEL[] = {"label", "name", "strategy", "placement", NULL};
static const char *const K_TS[] = {"timeseries", "time_series", "ts", NULL};
static const char *const K_T[] = {"time_s", "t", "times_s", NULL};
static const char *const K_TTFT90[] = {"p90_ttft_s", "ttft_p90_s", "p90_ttft", NULL};
static const char *const K_MARKERS[] = {"markers", "events", NULL};

/* The runs of a simulate output: "runs" array, or the object itself as one run. */
static int runs_of(const json_t *root, const char *path, const json_t **runs, int *n,
                   moemap_error *err)
{
    json_t *arr = rp_json_any(root, K_RUNS);
    if (!arr) {
        runs[0] = root;
        *n = 1;
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: runs: expected a non-empty array",
                                path);
    *n = (int)json_array_size(arr) < MAX_RUNS ? (int)json_array_size(arr) : MAX_RUNS;
    for (int i = 0; i < *n; i++) {
        runs[i] = json_array_get(arr, (size_t)i);
        if (!json_is_object(runs[i]))
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: runs[%d]: expected an object",
                                    path, i);
    }
    return 0;
}

/* A run's name for legends: its label without ".json" (simulate names runs after
 * their placement file: "eplb.json/moemap" -> "eplb/moemap"). */
static void run_label(const json_t *run, int i, char *out, size_t size)
{
    const char *l = rp_json_str_any(run, K_LABEL);
    const char *dot = l ? strstr(l, ".json") : NULL;
    if (dot)
        rp_fmt(out, size, "%.*s%s", (int)(dot - l), l, dot + 5);
    else if (l && *l)
        rp_fmt(out, size, "%s", l);
    else
        rp_fmt(out, size, "run %d", i + 1);
}

/* A latency quantile: obj[key][q] (e.g. ttft.p90) in seconds, NAN when absent. */
static int latency(const json_t *run, const char *key, const char *q, const char *where,
                   double *out, moemap_error *err)
{
    *out = NAN;
    json_t *o = json_object_get(run, key);
    if (!o)
        return 0;
    char w[300];
    rp_fmt(w, sizeof w, "%s.%s", where, key);
    if (!json_is_object(o))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", w);
    return mm_json_get_num_opt(o, q, w, 0, 1e12, out, err);
}

int rp_add_simulate(rp_page *page, const json_t *root, const char *path, moemap_error *err)
{
    const json_t *runs[MAX_RUNS];
    int n = 0;
    int rc = runs_of(root, path, runs, &n, err);
    if (rc)
        return rc;
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
        with_cap |= json_object_get(runs[i], "capacity_rps") != NULL;
    rp_buf_printf(b, "<table><tr><th>run</th><th>TTFT p50 (s)</th><th>TTFT p90 (s)</th>"
                     "<th>TTFT p99 (s)</th><th>TPOT p90 (ms)</th><th>SLO attainment</th>"
                     "<th>migrated (GB)</th>%s</tr>\n",
                  with_cap ? "<th>capacity (req/s at 90% SLO)</th>" : "");
    for (int i = 0; i < n && !rc; i++) {
        char where[300], label[128];
        rp_fmt(where, sizeof where, "%s: runs[%d]", path, i);
        run_label(runs[i], i, label, sizeof label);
        double t50, t90, t99, p90, slo = NAN, mig = NAN, cap = NAN;
        rc = latency(runs[i], "ttft", "p50", where, &t50, err);
        if (!rc)
            rc = latency(runs[i], "ttft", "p90", where, &t90, err);
        if (!rc)
            rc = latency(runs[i], "ttft", "p99", where, &t99, err);
        if (!rc)
            rc = latency(runs[i], "tpot", "p90", where, &p90, err);
        if (!rc)
            rc = mm_json_get_num_opt(runs[i], "slo_attainment", where, 0, 1, &slo, err);
        if (!rc)
            rc = mm_json_get_num_opt(runs[i], "migration_bytes", where, 0, 1e18, &mig, err);
        if (!rc)
            rc = mm_json_get_num_opt(runs[i], "capacity_rps", where, 0, 1e9, &cap, err);
        if (rc)
            break;
        rp_buf_printf(b, "<tr><td>");
        rp_buf_html(b, label);
        rp_buf_printf(b, "</td>");
        double v[4] = {t50, t90, t99, p90 * 1e3};
        for (int k = 0; k < 4; k++)
            rp_buf_printf(b, isfinite(v[k]) ? "<td>%.3f</td>" : "<td>–</td>",
                          isfinite(v[k]) ? v[k] : 0.0);
        rp_buf_printf(b, isfinite(slo) ? "<td>%.1f%%</td>" : "<td>–</td>",
                      isfinite(slo) ? 100 * slo : 0.0);
        rp_buf_printf(b, isfinite(mig) ? "<td>%.2f</td>" : "<td>–</td>",
                      isfinite(mig) ? mig / 1e9 : 0.0);
        if (with_cap)
            rp_buf_printf(b, isfinite(cap) ? "<td>%.1f</td>" : "<td>–</td>",
                          isfinite(cap) ? cap : 0.0);
        rp_buf_printf(b, "</tr>\n");
    }
    rp_buf_printf(b, "</table>\n");
    return rc;
}

typedef struct marker {
    double t;
    int event;        /* an input event (drift, GPU change), else a recalibration */
    int run;          /* the run it belongs to (a recalibration is drawn in its colour) */
    char label[96];
} marker;

int rp_add_timeseries(rp_page *page, const json_t *root, const char *path, moemap_error *err)
{
    const json_t *runs[MAX_RUNS];
    int n = 0, rc = runs_of(root, path, runs, &n, err);
    if (rc)
        return rc;
    double *t[MAX_RUNS] = {0}, *y[MAX_RUNS] = {0};
    int len[MAX_RUNS] = {0}, with = 0, nm = 0;
    marker mk[MAX_MARKERS];
    char label[MAX_RUNS][128];
    double tmax = 0;
    for (int i = 0; i < n && !rc; i++) {
        char where[300];
        rp_fmt(where, sizeof where, "%s: runs[%d]", path, i);
        run_label(runs[i], i, label[i], sizeof label[i]);
        const json_t *ts = rp_json_any(runs[i], K_TS);
        if (!ts)
            ts = runs[i];
        if (!json_is_object(ts)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.timeseries: expected an object",
                                  where);
            break;
        }
        int nt = 0, ny = 0;
        int r1 = rp_json_array_any(ts, K_T, where, &t[i], &nt, err);
        int r2 = r1 < 0 ? 0 : rp_json_array_any(ts, K_TTFT90, where, &y[i], &ny, err);
        if (r1 < 0 || r2 < 0) {
            rc = r1 < 0 ? r1 : r2;
            break;
        }
        if (r1 > 0 && r2 > 0) {
            if (nt != ny) {
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s: time_s has %d entries, p90_ttft_s %d", where, nt, ny);
                break;
            }
            len[i] = nt;
            with++;
            for (int k = 0; k < nt; k++)
                if (t[i][k] > tmax)
                    tmax = t[i][k];
        }
        json_t *ms = rp_json_any(runs[i], K_MARKERS);
        if (ms && !json_is_array(ms)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.markers: expected an array", where);
            break;
        }
        for (size_t k = 0; ms && k < json_array_size(ms) && !rc; k++) {
            json_t *m = json_array_get(ms, k);
            char w[340];
            rp_fmt(w, sizeof w, "%s.markers[%zu]", where, k);
            double tm = 0;
            if (!json_is_object(m)) {
                rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", w);
                break;
            }
            if ((rc = mm_json_get_num(m, "time_s", w, -1e12, 1e12, &tm, err)))
                break;
            const char *lab = json_string_value(json_object_get(m, "label"));
            if (!lab)
                lab = "event";
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
    }
    if (!rc && with == 0)
        rp_page_missing(page, "p90 TTFT over time",
                        "the time-series file has no time_s / p90_ttft_s arrays");
    if (!rc && with > 0) {
        rp_item *it = rp_page_add(page, RP_ITEM_CHART, "ttft-over-time",
                                  "p90 TTFT over time, with drift and recalibration events");
        if (!it) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        it->height = 460;
        rp_buf_printf(&it->caption,
                      "p90 time to first token of the requests served in each interval, per "
                      "run. Vertical lines mark events: a routing drift or a GPU slowing "
                      "down (grey, dashed), and recalibrations (dotted, %s), where a policy "
                      "moved experts.",
                      n > 1 ? "in the colour of the run that made them" : "green");
        rp_buf *b = &it->body;
        for (int i = 0; i < n; i++) {
            if (!len[i])
                continue;
            rp_buf_printf(b, "$r%d << EOD\n", i);
            for (int k = 0; k < len[i]; k++) {
                if (isfinite(y[i][k]))
                    rp_buf_printf(b, "%.6g %.6g\n", t[i][k], y[i][k]);
                else
                    rp_buf_printf(b, "%.6g ?\n", t[i][k]);
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
            if (!len[i])
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
    }
done:
    for (int i = 0; i < n; i++) {
        moemap_free(t[i]);
        moemap_free(y[i]);
    }
    return rc;
}
