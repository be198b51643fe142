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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap report --out REPORT.html [inputs] [options]\n\n"
            "Writes one HTML file with charts drawn by gnuplot, embedded in the page (it\n"
            "opens offline). Give at least one input; charts whose input is missing are\n"
            "listed on the page as not shown.\n\n"
            "inputs:\n"
            "  --stats FILE       moemap stats --json: expert load heatmap, co-activation\n"
            "  --eval FILE        moemap eval --json: straggler table, per-GPU time bars,\n"
            "                     straggler-time CDF\n"
            "  --simulate FILE    moemap simulate --json: TTFT / TPOT / SLO table\n"
            "  --timeseries FILE  moemap simulate --timeseries: p90 TTFT over time, events\n"
            "  --cluster FILE     moemap.cluster/v1: GPU speed curves\n"
            "  --loads FILE       the workload (any input moemap stats reads): the\n"
            "                     co-activation matrix of the hottest experts\n\n"
            "options:\n"
            "  --out FILE         the HTML file to write (required; - for standard output)\n"
            "  --title TEXT       page title (default \"moemap report\")\n"
            "  --layer N          model layer of the per-GPU time bars (default: the layer\n"
            "                     where the strategies' straggler times differ most)\n"
            "  --gnuplot PATH     gnuplot executable (default: $MOEMAP_GNUPLOT, else\n"
            "                     gnuplot in PATH; Debian: apt-get install gnuplot-nox)\n"
            "  --table            also print the comparison table (strategy, straggler\n"
            "                     time, gap to bound, p90 TTFT/TPOT, SLO) from --eval and\n"
            "                     --simulate\n"
            "  --hot N            experts in the co-activation matrix (default 16)\n"
            "  --work-dir DIR     keep the gnuplot scripts and PNGs in DIR\n"
            "  -h, --help         this help\n");
}

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
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},      {"stats", required_argument, NULL, 's'},
        {"eval", required_argument, NULL, 'e'},     {"simulate", required_argument, NULL, 'm'},
        {"timeseries", required_argument, NULL, 't'},
        {"cluster", required_argument, NULL, 'c'},  {"title", required_argument, NULL, 'T'},
        {"layer", required_argument, NULL, 'l'},    {"gnuplot", required_argument, NULL, 'g'},
        {"work-dir", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
        {"loads", required_argument, NULL, 'L'},    {"hot", required_argument, NULL, 'H'},
        {"table", no_argument, NULL, 'X'},
        {NULL, 0, NULL, 0}};
    moemap_report_params p = moemap_report_default_params();
    const char *out = NULL;
    long layer = -1;
    int table = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': p.stats_path = optarg; break;
        case 'e': p.eval_path = optarg; break;
        case 'm': p.simulate_path = optarg; break;
        case 't': p.timeseries_path = optarg; break;
        case 'c': p.cluster_path = optarg; break;
        case 'L': p.loads_path = optarg; break;
        case 'X': table = 1; break;
        case 'H': {
            long v;
            if (cli_parse_long("report", "--hot", optarg, 2, 64, &v))
                return 2;
            p.hot_experts = (int)v;
            break;
        }
        case 'T': p.title = optarg; break;
        case 'g': p.gnuplot = optarg; break;
        case 'w': p.work_dir = optarg; break;
        case 'l':
            if (cli_parse_long("report", "--layer", optarg, 0, 100000, &layer))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        case ':':
            return cli_usage_error("report", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
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
    p.layer = (int)layer;
    if (!p.gnuplot) {
        const char *env = getenv("MOEMAP_GNUPLOT");
        if (env && *env)
            p.gnuplot = env;
    }
    p.progress = progress;
    moemap_report_summary sum;
    moemap_error err = {0};
    int rc = moemap_report_write(&p, out, &sum, &err);
    cli_progress_done();
    if (rc)
        return cli_fail("report", &err);
    return print_done(&p, out, &sum, table);
}
