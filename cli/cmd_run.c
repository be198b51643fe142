/*
 * cmd_run.c — `moemap run`: executes MoE layers for real on the GPUs under one or more
 * placements (moemap_exec_run) and prints, side by side, the measured and predicted
 * straggler time, per-GPU expert compute, all-to-all times and the prediction error;
 * --check verifies the combined outputs against a CPU float64 reference instead.
 * Under mpirun only rank 0 prints.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"

#define CMD "run"

static const char usage[] =
    "usage: moemap run --model M --loads TRACE [--cluster PROFILE.json] [options]\n"
    "                  [--compare] P1.json [P2.json ...]\n\n"
    "Runs expert-parallel MoE layers on the GPUs (one rank per GPU, NCCL all-to-all,\n"
    "bf16 expert FFNs through cuBLASLt) under each placement over the same trace tokens,\n"
    "and compares measured with predicted times. Needs a build with CUDA and NCCL.\n";

/* What the flags say besides the executor's parameters. */
typedef struct run_args {
    const moemap_model *model;
    const char *loads, *cluster_path, *out_path;
    long batch_tokens;
    int json, check, compare;
    moemap_a2a_params a2a; /* --dispatch: a run has no "off" */
    int sm_limit[MOEMAP_MAX_GPUS], num_sm_limit; /* --sm-limit, per GPU (params borrow it) */
} run_args;

/* --sm-limit GPU=N into the table of limits (dst: the run_args). */
static int set_sm_limit(const char *cmd, const char *arg, void *dst)
{
    run_args *a = dst;
    int g;
    double sms;
    if (cli_parse_gpu_value(cmd, "--sm-limit", arg, MOEMAP_MAX_GPUS - 1, 1, 100000, &g, &sms))
        return 2;
    a->sm_limit[g] = (int)sms;
    a->num_sm_limit = g + 1 > a->num_sm_limit ? g + 1 : a->num_sm_limit;
    return 0;
}

/* On the root rank: the summaries, the JSON and the table. The command's status. */
static int report(const run_args *a, const moemap_exec_params *p, char **paths, int np,
                  moemap_exec_result **res, const moemap_cluster *cl, moemap_error *err)
{
    moemap_exec_summary *sum = calloc((size_t)np, sizeof *sum);
    int rc = sum ? 0 : moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < np; i++)
        rc = moemap_exec_summarize(res[i], &sum[i], err);
    moemap_exec_file ef = {np, paths, *p, res, sum};
    if (!rc && ((a->json && moemap_exec_write("-", &ef, err)) ||
                (a->out_path && moemap_exec_write(a->out_path, &ef, err))))
        rc = err->code;
    rc = rc ? cli_fail(CMD, err)
         : a->json ? 0
                   : cli_put(CMD, moemap_text_run(paths, np, p, res, sum, cl != NULL), stdout);
    for (int i = 0; !rc && p->check && i < np; i++)
        rc |= !moemap_exec_check_passed(res[i]);
    for (int i = 0; sum && i < np; i++)
        moemap_exec_summary_clear(&sum[i]);
    free(sum);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    moemap_exec_params p = moemap_exec_default_params();
    run_args a = {.a2a = moemap_a2a_default_params()};
    const cli_flag flags[] = {
        CLI_SHAPE_FLAGS(&a.model, &p.hidden, &p.intermediate, "M",
                        "model preset giving the expert shape (moemap models)",
                        "  --hidden N, --intermediate N  override the expert shape\n"),
        {"loads", 'l', CLI_STR, &a.loads, 0, 0, "TRACE",
         "routing: ESFT trace folder (per-token), or any workload\ninput (aggregate loads "
         "are expanded to token choices)", NULL},
        {"batch-tokens", 'b', CLI_LONG, &a.batch_tokens, 1, 1L << 24, "N",
         "batch size when reading the trace (default: tokens/iter)", NULL},
        {"cluster", 'c', CLI_STR, &a.cluster_path, 0, 0, "FILE",
         "moemap.cluster/v1 profile for predictions (taken on the\nsame GPUs, under the same "
         "--sm-limit)", NULL},
        CLI_GROUP(&p, moemap_exec_options),
        {"sm-limit", 0, CLI_FN, &a, 0, 0, "GPU=N",
         "run GPU's expert compute in a green context of N SMs\n(repeatable)", set_sm_limit},
        {"seed", 's', CLI_SEED, &p.seed, 0, 0, "S", "weights and hidden states (default {})",
         NULL},
        {"dispatch", 0, CLI_FN, &a.a2a, 0, 0, "D",
         "token-gpu (default: a token crosses to a GPU once, its\nchoices there summed before "
         "combine) or token-expert\n(one row per token and choice)", cli_input_dispatch},
        {"check", 0, CLI_SET, &a.check, 0, 0, NULL,
         "correctness: outputs against a CPU float64 reference,\nevery row back exactly once "
         "(small defaults: 256 tokens,\n2 layers, 2 iterations)", NULL},
        {"compare", 0, CLI_SET, &a.compare, 0, 0, NULL,
         "several placements (also implied by giving several)", NULL},
        CLI_JSON(&a.json, "JSON output (moemap.run/v1) instead of the table"),
        {"out", 'o', CLI_STR, &a.out_path, 0, 0, "FILE", "also write the JSON to FILE", NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {CMD, usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0 && (a.model || a.check)) {
        /* The model's shape and --check's sizes, then the flags given over them. */
        p.hidden = a.model ? a.model->hidden : p.hidden;
        p.intermediate = a.model ? a.model->expert_intermediate : p.intermediate;
        if (a.check)
            moemap_exec_check_params(&p);
        rc = cli_parse(&spec, argc, argv);
    }
    if (rc >= 0)
        return rc;
    int np = argc - optind;
    if (np < 1)
        return cli_usage_error(CMD, "give at least one placement file");
    if (!a.loads)
        return cli_usage_error(CMD, "--loads TRACE is required (the routing to execute)");
    if (!a.model && (p.hidden <= 0 || p.intermediate <= 0))
        return cli_usage_error(CMD, "--model M (or --hidden and --intermediate) is required");
    if (a.a2a.off)
        return cli_usage_error(CMD, "--dispatch: unknown mode 'off' (token-gpu, token-expert)");
    p.dispatch = a.a2a.dispatch;
    p.sm_limit = a.sm_limit;
    p.num_sm_limit = a.num_sm_limit;
    p.progress = cli_progress_fn;
    p.progress_ctx = (void *)CMD;
    moemap_exec_result **res = calloc((size_t)np, sizeof *res);
    moemap_cluster *cl = NULL;
    moemap_error err = {0};
    rc = res ? moemap_exec_run_files(&p, a.loads, a.model, a.batch_tokens, a.cluster_path,
                                     argv + optind, np, res, &cl, &err)
             : moemap_error_set(&err, MOEMAP_ENOMEM, "out of memory");
    cli_progress_done();
    if (rc)
        rc = cli_fail(CMD, &err);
    else
        rc = moemap_exec_is_root() ? report(&a, &p, argv + optind, np, res, cl, &err) : 0;
    for (int i = 0; res && i < np; i++)
        moemap_exec_result_free(res[i]);
    free(res), moemap_cluster_free(cl);
    moemap_exec_shutdown();
    return rc;
}
