/*
 * cmd_convert.c — `moemap convert IN --out OUT.json`: reads any workload input (ESFT trace
 * folder or layer file, SGLang dump, moemap.loads/v1, CSV) and writes it as
 * moemap.loads/v1, the form every later stage reads.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap convert INPUT --out OUT.json [--format F] [--batch-tokens N]\n"
    "                      [--experts E] [--top-k K]\n\n"
    "Converts a workload input to moemap.loads/v1.\n";

int cmd_convert(int argc, char **argv)
{
    moemap_read_params rp = moemap_read_default_params();
    const char *out = NULL, *input = NULL;
    int as_json = 0;
    const cli_flag flags[] = {
        CLI_HELP("  INPUT, -l, --loads INPUT\n"),
        {"loads", 'l', CLI_STR, &input, 0, 0, NULL, NULL, NULL},
        CLI_HELP(
         "                     an ESFT trace folder (expert_weights_<layer>.txt files) or\n"
         "                     layer file, an SGLang {\"logical_count\": ...} JSON, a\n"
         "                     moemap.loads/v1 JSON, or a CSV (row per layer, column per\n"
         "                     expert); detected by content unless --format is given\n"),
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE", "output file ('-' for stdout)", NULL},
        {"format", 'f', CLI_FN, &rp, 0, 0, "F", "esft, sglang, loads or csv (default: detect)",
         cli_input_format},
        {"batch-tokens", 'b', CLI_LONG, &rp.batch_tokens, 1, 100000000, "N",
         "consecutive tokens per batch for per-token traces\n(default 512)", NULL},
        {"experts", 0, CLI_INT, &rp.experts, 1, 32767, "E",
         "routed experts per layer (default: inferred; ESFT 64)", NULL},
        {"top-k", 0, CLI_INT, &rp.top_k, 1, 32767, "K",
         "experts per token (default: ESFT 6; otherwise unknown, then\n"
         "SGLang/CSV batch tokens are token-slots)", NULL},
        CLI_JSON(&as_json, "what was written, as JSON on stdout (needs --out FILE)"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"convert", usage, flags, NULL, 21, NULL};
    int rc = cli_parse_input(&spec, argc, argv, &input);
    if (rc >= 0)
        return rc;
    if (!out)
        return cli_usage_error("convert", "missing --out");
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    if (moemap_workload_read(input, &rp, &ld, NULL, &err))
        return cli_fail("convert", &err);
    rc = moemap_loads_write(ld, out, &err)
             ? cli_fail("convert", &err)
             : cli_put("convert", moemap_text_loads_written(out, ld, "", as_json),
                       as_json ? stdout : stderr);
    moemap_loads_free(ld);
    return rc;
}
