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

int cmd_report(int argc, char **argv)
{
    moemap_report_params p = moemap_report_default_params();
    const char *out = NULL;
    int table = 0;
    const cli_flag flags[] = {
        CLI_GROUP(&p, moemap_report_input_options),
        CLI_HELP("options:\n"),
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE",
         "the HTML file to write (required; - for standard output)", NULL},
        CLI_GROUP(&p, moemap_report_look_options),
        {"table", 0, CLI_SET, &table, 0, 0, NULL,
         "also print the comparison table (strategy, straggler\ntime, gap to bound, p90 "
         "TTFT/TPOT, SLO) from --eval and\n--simulate", NULL},
        CLI_GROUP(&p, moemap_report_chart_options),
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
    p.progress = cli_progress_fn;
    p.progress_ctx = (void *)"report: drawing charts";
    moemap_report_summary sum;
    moemap_error err = {0};
    rc = moemap_report_write(&p, out, &sum, &err);
    cli_progress_done();
    char *text = rc ? NULL : moemap_text_report(&p, out, &sum, table, &err);
    /* --out -: the page is standard output, so what is said about it goes to stderr. */
    return text ? cli_put("report", text, strcmp(out, "-") ? stdout : stderr)
                : cli_fail("report", &err);
}
