/*
 * cmd_eval.c — `moemap eval`: the predicted cost of one or more placements on the same
 * workload and cluster, side by side: mean / p90 / p99 of the model's straggler time over
 * the batches, the lower bound and the gap to it, max/mean GPU time, replicas, and experts
 * moved relative to a previous placement. A table, or --json for machines. Parsing and
 * printing only: the work is moemap_eval_files (src/eval).
 */
#include <getopt.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap eval --loads L --cluster C [options] P1.json [P2.json ...]\n\n"
    "Evaluates placements under the cost model on every batch of the loads: a batch's\n"
    "time is the sum over MoE layers of the slowest GPU's time (the straggler). Shows\n"
    "mean, p90 and p99 over batches, the mean lower bound no placement can beat, the\n"
    "gap to it, the bound for one fixed placement serving every batch (fixed) and\n"
    "the gap to it (fgap%), the mean max/mean GPU time, replicas and experts moved.\n"
    "Placements may be moemap files or what SGLang (physical_to_logical_map; --model\n"
    "maps its rows to layers, else the loads' layers are taken) and vLLM (phy2log)\n"
    "load, scored under the engine's dispatch (copies split an expert's tokens\n"
    "evenly). With --engine, the engine-rules bound is shown too.\n\n";

static void print_problem(void *ctx, const char *msg)
{
    fprintf(stderr, "moemap eval: %s: %s\n", (const char *)ctx, msg);
}

int cmd_eval(int argc, char **argv)
{
    cli_inputs in = {.ip = moemap_input_default_params(), .cmd = "eval"};
    int as_json = 0, per_layer = 0;
    const cli_flag flags[] = {
        CLI_INPUT_FLAGS(&in),
        CLI_PREVIOUS_FLAG(&in, "count experts moved relative to this placement"),
        {"layers", 0, CLI_SET, &per_layer, 0, 0, NULL, "also print one row per layer", NULL},
        CLI_JSON(&as_json, "machine-readable output (moemap.eval/v1)"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"eval", usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (!in.loads_path || !in.cluster_path)
        return cli_usage_error("eval", "--loads and --cluster are required");
    if (optind >= argc)
        return cli_usage_error("eval", "no placement files given");
    int np = argc - optind;
    char **files = argv + optind;
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_cluster *cl = NULL;
    moemap_placement *prev = NULL;
    moemap_eval_summary **sums = NULL;
    rc = cli_inputs_read(&in, &ld, &cl, &prev, &err) ||
         moemap_eval_files(ld, cl, prev, &in.ip, files, np, print_problem, cli_progress_fn,
                           (void *)"eval", &sums, &err);
    cli_progress_done();
    if (!rc && as_json) {
        moemap_eval_file ef = {ld->num_batches, np, files, sums};
        rc = moemap_eval_write("-", &ef, &err) ? 1 : 0;
    } else if (!rc) {
        rc = cli_put("eval", moemap_text_eval(ld, cl, &in.ip, files, sums, np, per_layer),
                     stdout) ? -1 : 0;
    }
    if (rc > 0)
        cli_fail("eval", &err);
    for (int i = 0; sums && i < np; i++)
        moemap_eval_summary_free(sums[i]);
    moemap_free(sums);
    moemap_placement_free(prev);
    moemap_cluster_free(cl);
    moemap_loads_free(ld);
    return rc ? 1 : 0;
}
