/*
 * report.c — moemap_report_write: loads each input named in the parameters, lets its
 * builder add charts and tables to the page, draws the charts with gnuplot in a work
 * folder and writes the self-contained HTML page.
 *
 * Inputs are all optional, but at least one is needed; a builder that finds an input
 * without what one chart needs notes the chart as missing (the page lists it) rather
 * than failing, because older or partial pipeline outputs are still worth a report. An
 * input that is not JSON, or whose fields have the wrong type, is an error that names
 * the file and field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"
#include "report_internal.h"

moemap_report_params moemap_report_default_params(void)
{
    return (moemap_report_params){.layer = -1, .hot_experts = 16};
}

/* The inputs, in the order their sections appear on the page. */
typedef enum { IN_EVAL, IN_SIMULATE, IN_STATS, IN_LOADS, IN_CLUSTER, IN_TIMESERIES } input_kind;

static void note_input(rp_page *page, const char *what, const char *path)
{
    rp_buf_printf(&page->inputs, "<li>%s: <code>", what);
    rp_buf_html(&page->inputs, path);
    rp_buf_printf(&page->inputs, "</code></li>\n");
}

/* Reads one input through the library's reader of its kind (each refuses a file of
 * another kind by its "format") and lets its builder add to the page. */
static int add_input(rp_page *page, input_kind kind, const char *what, const char *path,
                     const moemap_report_params *p, moemap_error *err)
{
    note_input(page, what, path);
    if (kind == IN_CLUSTER)
        return rp_add_cluster(page, path, err);
    if (kind == IN_LOADS)
        return rp_add_coactivation_loads(page, path, p->hot_experts, err);
    if (kind == IN_EVAL)
        return rp_add_eval(page, path, p->layer, err);
    if (kind == IN_STATS)
        return rp_add_stats(page, path, p->loads_path == NULL, err);
    if (kind == IN_SIMULATE)
        return rp_add_simulate(page, path, err);
    return rp_add_timeseries(page, path, err);
}

/* Removes what the runner wrote into a temporary work folder, then the folder. */
static void clean_work_dir(const char *dir, const rp_page *page)
{
    static const char *ext[] = {"gp", "png", "err"};
    char path[4096];
    for (int i = 0; i < page->num_items; i++)
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s.%s", dir, page->items[i].id, ext[k]);
            remove(path);
        }
    rmdir(dir);
}

int moemap_report_write(const moemap_report_params *params, const char *out_html,
                        moemap_report_summary *summary, moemap_error *err)
{
    moemap_report_params p = params ? *params : moemap_report_default_params();
    if (!out_html || !*out_html)
        return moemap_error_set(err, MOEMAP_EINVAL, "no output file given");
    if (!p.stats_path && !p.eval_path && !p.simulate_path && !p.timeseries_path &&
        !p.cluster_path && !p.loads_path)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "nothing to report: give at least one of the stats, eval, "
                                "simulate, timeseries, cluster or loads inputs");
    if (p.work_dir && strlen(p.work_dir) > 3800) /* room for "/<chart>.png" in 4096 */
        return moemap_error_set(err, MOEMAP_EINVAL, "work folder path is too long (%zu bytes)",
                                strlen(p.work_dir));
    if (p.hot_experts < 2 || p.hot_experts > 64)
        return moemap_error_set(err, MOEMAP_ERANGE, "hot experts %d is outside [2, 64]",
                                p.hot_experts);

    rp_page page;
    memset(&page, 0, sizeof page);
    snprintf(page.title, sizeof page.title, "%s",
             p.title && *p.title ? p.title : "moemap report");

    /* Order on the page: the verdict (eval, simulate) first, then why (workload,
     * cluster), then serving over time. */
    const struct {
        input_kind kind;
        const char *what, *path;
    } in[] = {{IN_EVAL, "eval", p.eval_path},
              {IN_SIMULATE, "simulate", p.simulate_path},
              {IN_STATS, "stats", p.stats_path},
              {IN_LOADS, "workload", p.loads_path},
              {IN_CLUSTER, "cluster", p.cluster_path},
              {IN_TIMESERIES, "timeseries", p.timeseries_path}};
    int rc = 0;
    for (size_t i = 0; i < sizeof in / sizeof in[0] && !rc; i++)
        if (in[i].path)
            rc = add_input(&page, in[i].kind, in[i].what, in[i].path, &p, err);
    if (!p.eval_path) {
        rp_page_missing(&page, "Per-GPU time per strategy", "give --eval (moemap eval --json)");
        rp_page_missing(&page, "Straggler time CDF", "give --eval (moemap eval --json)");
    }
    if (!p.stats_path)
        rp_page_missing(&page, "Expert load heatmap", "give --stats (moemap stats --json)");
    if (!p.stats_path && !p.loads_path)
        rp_page_missing(&page, "Co-activation of the hottest experts",
                        "give --loads (the workload) or --stats (moemap stats --json)");
    if (!p.cluster_path)
        rp_page_missing(&page, "GPU speed curves", "give --cluster (moemap.cluster/v1)");
    if (!p.timeseries_path)
        rp_page_missing(&page, "p90 TTFT over time",
                        "give --timeseries (moemap simulate --timeseries)");
    if (rc) {
        rp_page_free(&page);
        return rc;
    }
    if (page.inputs.oom || page.missing.oom) {
        rp_page_free(&page);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    for (int i = 0; i < page.num_items; i++)
        if (page.items[i].body.oom || page.items[i].caption.oom) {
            rp_page_free(&page);
            return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
        }

    char tmp_dir[4096] = "";
    const char *dir = p.work_dir;
    if (!dir) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/moemap-report-XXXXXX",
                 base && *base ? base : "/tmp");
        if (!mkdtemp(tmp_dir)) {
            rp_page_free(&page);
            return moemap_error_set(err, MOEMAP_EIO, "cannot create a folder in %s: %s",
                                    base && *base ? base : "/tmp", strerror(errno));
        }
        dir = tmp_dir;
    } else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rp_page_free(&page);
        return moemap_error_set(err, MOEMAP_EIO, "%s: cannot create: %s", dir, strerror(errno));
    }
    rc = rp_render_charts(&page, p.gnuplot && *p.gnuplot ? p.gnuplot : "gnuplot", dir,
                          p.progress, p.progress_ctx, err);
    long bytes = 0;
    if (!rc)
        rc = rp_write_html(&page, out_html, &bytes, err);
    if (tmp_dir[0])
        clean_work_dir(tmp_dir, &page);
    if (!rc && summary) {
        summary->charts = 0;
        for (int i = 0; i < page.num_items; i++)
            summary->charts += page.items[i].kind == RP_ITEM_CHART;
        summary->charts_missing = page.charts_missing;
        summary->bytes = bytes;
    }
    rp_page_free(&page);
    return rc;
}
