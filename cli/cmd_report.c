/*
 * cmd_report.c — `moemap report`: one self-contained HTML page with gnuplot charts from
 * the JSON outputs of stats, eval and simulate and a cluster profile. Parses flags,
 * calls moemap_report_write and prints where the page went.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "moemap/report.h"

static const char usage[] =
    "usage: moemap report --out REPORT.html [inputs] [options]\n\n"
    "Writes one HTML file with charts drawn by gnuplot, embedded in the page (it\n"
    "opens offline). Give at least one input; charts whose input is missing are\n"
    "listed on the page as not shown.\n\n"
    "inputs:\n";

static void progress(void *ctx, int done, int total)
{
    (void)ctx;
    cli_progress("report: drawing charts", done, total);
}

/* The comparison table (--table) and a line about the page written. --out -: the page is
 * standard output, so what is said about it goes to stderr. */
static int print_done(const moemap_report_params *p, const char *out,
                      const moemap_report_summary *sum, int table)
{
    moemap_error err = {0};
    FILE *info = strcmp(out, "-") ? stdout : stderr;
    if (table) {
        char *text = NULL;
        if (moemap_report_table(p, &text, &err))
            return cli_fail("report", &err);
        fputs(text, info);
        moemap_free(text);
    }
    fprintf(info, "report: %s (%d charts, %.0f KB)", strcmp(out, "-") ? out : "<stdout>",
            sum->charts, sum->bytes / 1024.0);
    if (sum->charts_missing)
        fprintf(info, "; %d not shown for lack of an input (listed on the page)",
                sum->charts_missing);
    fprintf(info, "\n");
    return 0;
}

int cmd_report(int argc, char **argv)
{
    moemap_report_params p = moemap_report_default_params();
    const char *out = NULL;
    int table = 0;
    const cli_flag flags[] = {
        {"stats", 0, CLI_STR, &p.stats_path, 0, 0, "FILE",
         "moemap stats --json: expert load heatmap, co-activation", NULL},
        {"eval", 0, CLI_STR, &p.eval_path, 0, 0, "FILE",
         "moemap eval --json: straggler table, per-GPU time bars,\nstraggler-time CDF", NULL},
        {"simulate", 0, CLI_STR, &p.simulate_path, 0, 0, "FILE",
         "moemap simulate --json: TTFT / TPOT / SLO table", NULL},
        {"timeseries", 0, CLI_STR, &p.timeseries_path, 0, 0, "FILE",
         "moemap simulate --timeseries: p90 TTFT over time, events", NULL},
        {"cluster", 0, CLI_STR, &p.cluster_path, 0, 0, "FILE",
         "moemap.cluster/v1: GPU speed curves", NULL},
        {"loads", 0, CLI_STR, &p.loads_path, 0, 0, "FILE",
         "the workload (any input moemap stats reads): the\nco-activation matrix of the "
         "hottest experts\n", NULL},
        CLI_HELP("options:\n"),
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE",
         "the HTML file to write (required; - for standard output)", NULL},
        {"title", 0, CLI_STR, &p.title, 0, 0, "TEXT", "page title (default \"moemap report\")",
         NULL},
        {"layer", 0, CLI_INT, &p.layer, 0, 100000, "N",
         "model layer of the per-GPU time bars (default: the layer\nwhere the strategies' "
         "straggler times differ most)", NULL},
        {"gnuplot", 0, CLI_STR, &p.gnuplot, 0, 0, "PATH",
         "gnuplot executable (default: $MOEMAP_GNUPLOT, else\ngnuplot in PATH; Debian: "
         "apt-get install gnuplot-nox)", NULL},
        {"table", 0, CLI_SET, &table, 0, 0, NULL,
         "also print the comparison table (strategy, straggler\ntime, gap to bound, p90 "
         "TTFT/TPOT, SLO) from --eval and\n--simulate", NULL},
        {"hot", 0, CLI_INT, &p.hot_experts, 2, 64, "N",
         "experts in the co-activation matrix (default 16)", NULL},
        {"work-dir", 0, CLI_STR, &p.work_dir, 0, 0, "DIR",
         "keep the gnuplot scripts and PNGs in DIR", NULL},
        CLI_HELP("  -h, --help         this help\n"),
        CLI_END};
    const cli_spec spec = {"report", usage, flags, NULL, 21, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("report", "--out FILE is required");
    if (!p.stats_path && !p.eval_path && !p.simulate_path && !p.timeseries_path &&
        !p.cluster_path && !p.loads_path)
        return cli_usage_error("report", "give at least one of --stats, --eval, --simulate, "
                                         "--timeseries, --cluster, --loads");
    if (table && !p.eval_path && !p.simulate_path)
        return cli_usage_error("report", "--table needs --eval or --simulate");
    const char *env = getenv("MOEMAP_GNUPLOT");
    if (!p.gnuplot && env && *env)
        p.gnuplot = env;
    p.progress = progress;
    moemap_report_summary sum;
    moemap_error err = {0};
    rc = moemap_report_write(&p, out, &sum, &err);
    cli_progress_done();
    if (rc)
        return cli_fail("report", &err);
    return print_done(&p, out, &sum, table);
}
