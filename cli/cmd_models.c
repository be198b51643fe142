/*
 * cmd_models.c — `moemap models`: lists the MoE model presets as a table, or as JSON
 * with --json, so users can see the names `--model` accepts and the shapes behind them.
 */
#include <getopt.h>

#include "cli.h"

int cmd_models(int argc, char **argv)
{
    int json = 0;
    const cli_flag flags[] = {
        CLI_JSON(&json, "print the presets as a JSON array"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"models", "usage: moemap models [--json]\n\n"
                           "Lists the MoE model presets (numbers from each model's published "
                           "config).\n", flags, NULL, 12, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
    return cli_put("models", moemap_text_models(json), stdout);
}
