/*
 * cmd_stats.c — `moemap stats INPUT`: the workload profile of any workload input, as a
 * table for people or JSON (--json) for machines, optionally with the per-layer cosine
 * distance to a second workload (--compare) to show how far the load drifted.
 */
#include <getopt.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap stats (INPUT | --loads INPUT) [--batch-tokens N] [--json]\n"
    "                    [--compare OTHER]\n"
    "                    [--consistent-threshold X] [--temporal-max-active X]\n"
    "                    [--temporal-min-ratio X] [--temporal-min-contrast X]\n"
    "                    [--format F] [--experts E] [--top-k K]\n\n"
    "Profiles a workload per MoE layer: tokens, load share, skew (busiest/mean, CV,\n"
    "Gini), consistent and temporal experts, co-activated pairs and hot clusters.\n";

int cmd_stats(int argc, char **argv)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_stats_params sp = moemap_stats_default_params();
    const char *compare = NULL, *input = NULL;
    int json = 0;
    const cli_flag flags[] = {
        CLI_HELP("  INPUT, -l, --loads INPUT  ESFT trace folder or layer file, SGLang JSON,\n"
                 "                          moemap.loads/v1 or CSV (detected by content)\n"),
        {"loads", 'l', CLI_STR, &input, 0, 0, NULL, NULL, NULL},
        {"batch-tokens", 'b', CLI_LONG, &rp.batch_tokens, 1, 100000000, "N",
         "consecutive tokens per batch for traces (default 512)", NULL},
        CLI_JSON(&json, "JSON output (per layer: layer, tokens, max_over_mean, cv,\ngini, "
                        "consistent, temporal, coactive_pairs, clusters,\nload_share; "
                        "cosine_distance with --compare)"),
        {"compare", 0, CLI_STR, &compare, 0, 0, "OTHER",
         "per-layer cosine distance of the expert-load vectors\nbetween INPUT and OTHER (read "
         "the same way)", NULL},
        CLI_GROUP(&sp, moemap_stats_options),
        {"format", 'f', CLI_FN, &rp, 0, 0, "F", "esft, sglang, loads or csv (default: detect)",
         cli_input_format},
        {"experts", 0, CLI_INT, &rp.experts, 1, 32767, NULL, NULL, NULL},
        {"top-k", 0, CLI_INT, &rp.top_k, 1, 32767, NULL, NULL, NULL},
        CLI_HELP("  --experts E, --top-k K  shape of traces / aggregate inputs (see moemap "
                 "convert)\n"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"stats", usage, flags, NULL, 26, NULL};
    int rc = cli_parse_input(&spec, argc, argv, &input);
    if (rc >= 0)
        return rc;
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_workload_stats *st = NULL;
    if (moemap_workload_stats_files(input, compare, &rp, &sp, &ld, &st, &err) ||
        (json && moemap_workload_stats_write("-", st, input, compare, &err)))
        rc = cli_fail("stats", &err);
    else
        rc = json ? 0 : cli_put("stats", moemap_text_stats(input, ld, st, compare), stdout);
    moemap_workload_stats_free(st);
    moemap_loads_free(ld);
    return rc;
}
