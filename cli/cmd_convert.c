/*
 * cmd_convert.c — `moemap convert IN --out OUT.json`: reads any workload input (ESFT trace
 * folder or layer file, SGLang dump, moemap.loads/v1, CSV) and writes it as
 * moemap.loads/v1, the form every later stage reads.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap convert INPUT --out OUT.json [--format F] [--batch-tokens N]\n"
            "                      [--experts E] [--top-k K]\n\n"
            "Converts a workload input to moemap.loads/v1.\n"
            "  INPUT, -l, --loads INPUT\n"
            "                     an ESFT trace folder (expert_weights_<layer>.txt files) or\n"
            "                     layer file, an SGLang {\"logical_count\": ...} JSON, a\n"
            "                     moemap.loads/v1 JSON, or a CSV (row per layer, column per\n"
            "                     expert); detected by content unless --format is given\n"
            "  -o, --out FILE     output file ('-' for stdout)\n"
            "  -f, --format F     esft, sglang, loads or csv (default: detect)\n"
            "  -b, --batch-tokens N  consecutive tokens per batch for per-token traces\n"
            "                     (default 512)\n"
            "  --experts E        routed experts per layer (default: inferred; ESFT 64)\n"
            "  --top-k K          experts per token (default: ESFT 6; otherwise unknown, then\n"
            "                     SGLang/CSV batch tokens are token-slots)\n"
            "  --json             what was written, as JSON on stdout (needs --out FILE)\n"
            "  -h, --help\n");
}

void cli_loads_written(const char *out, const moemap_loads *ld, const char *what, int as_json)
{
    if (!as_json) {
        if (strcmp(out, "-"))
            fprintf(stderr, "wrote %s: %d MoE layers x %d experts, %d batches%s\n", out,
                    ld->num_layers, ld->experts, ld->num_batches, what);
        return;
    }
    double tokens = 0;
    for (int b = 0; b < ld->num_batches; b++)
        tokens += ld->batch_tokens[b];
    json_t *o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:f}", "out", out, "layers", ld->num_layers,
                          "experts", ld->experts, "top_k", ld->top_k, "batches",
                          ld->num_batches, "tokens", tokens);
    char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(o);
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"loads", required_argument, NULL, 'l'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"batch-tokens", required_argument, NULL, 'b'},
                                         {"experts", required_argument, NULL, 'E'},
                                         {"top-k", required_argument, NULL, 'K'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    moemap_read_params rp = moemap_read_default_params();
    const char *out = NULL, *input = NULL;
    long v;
    int c, as_json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:o:f:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': input = optarg; break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            if (cli_parse_workload_format("convert", optarg, &rp))
                return 2;
            break;
        case 'b':
            if (cli_parse_batch_tokens("convert", optarg, &rp))
                return 2;
            break;
        case 'E':
            if (cli_parse_long("convert", "--experts", optarg, 1, 32767, &v))
                return 2;
            rp.experts = (int)v;
            break;
        case 'K':
            if (cli_parse_long("convert", "--top-k", optarg, 1, 32767, &v))
                return 2;
            rp.top_k = (int)v;
            break;
        case 'j': as_json = 1; break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_usage_error("convert", "unknown option");
        }
    }
    if (!input && optind < argc)
        input = argv[optind++];
    if (!input)
        return cli_usage_error("convert", "missing INPUT");
    if (optind < argc)
        return cli_usage_error("convert", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("convert", "missing --out");
    if (as_json && !strcmp(out, "-"))
        return cli_usage_error("convert", "--json needs --out FILE (the workload is stdout)");
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    if (moemap_workload_read(input, &rp, &ld, NULL, &err))
        return cli_fail("convert", &err);
    int rc = moemap_loads_write(ld, out, &err);
    if (!rc)
        cli_loads_written(out, ld, "", as_json);
    moemap_loads_free(ld);
    return rc ? cli_fail("convert", &err) : 0;
}
