/*
 * cmd_validate.c — `moemap validate`: checks a placement file against its cluster (and,
 * with --loads, against the workload's MoE layers and expert count) and prints OK or
 * every problem found, one per line. Exit 0 when valid, 1 otherwise.
 */
#include <getopt.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap validate --cluster C [--loads L] [--model NAME] [--slots N]\n"
    "                       [--engine E] P.json\n\n"
    "Checks a placement (moemap.placement/v1, or an SGLang or vLLM file, detected by\n"
    "content): every expert of every layer has a\n"
    "replica, an expert's shares sum to 1 (within 1e-6), no GPU holds more replicas of\n"
    "a layer than its slots or two replicas of one expert, ids are in range, and with\n"
    "--loads every MoE layer of the workload is placed, and with --model the layers\n"
    "are the model's MoE layers with its expert count, and with --engine every GPU\n"
    "fills the same number of slots and every expert's copies split its tokens\n"
    "evenly (what SGLang and vLLM run). Prints OK or each problem.\n\n";

int cmd_validate(int argc, char **argv)
{
    cli_inputs in = {.ip = moemap_input_default_params(), .cmd = "validate"};
    int as_json = 0;
    const cli_flag flags[] = {
        CLI_INPUT_FLAGS(&in),
        CLI_JSON(&as_json, "{file, ok, layers, replicas, gpus, problems: [...]}"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"validate", usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (!in.cluster_path)
        return cli_usage_error("validate", "--cluster is required");
    if (optind != argc - 1)
        return cli_usage_error("validate", "expected exactly one placement file");
    const char *file = argv[optind];
    moemap_error err = {0};
    moemap_cluster *cl = NULL;
    moemap_loads *ld = NULL;
    moemap_placement *p = NULL;
    int n = -1;
    if (cli_inputs_read(&in, &ld, &cl, NULL, &err) ||
        moemap_input_read_placement(&in.ip, file, cl, ld, &p, &err))
        cli_fail("validate", &err);
    else
        cli_put("validate", moemap_text_validate(file, p, cl, ld, &in.ip, as_json, &n), stdout);
    moemap_placement_free(p);
    moemap_loads_free(ld);
    moemap_cluster_free(cl);
    return n == 0 ? 0 : 1;
}
