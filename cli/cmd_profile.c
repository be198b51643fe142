/*
 * cmd_profile.c — `moemap profile`: measures each GPU's expert cost curve (libmoemap's
 * moemap_profile_run) and writes a moemap.cluster/v1 profile; prints a summary: the
 * curve per GPU, jitter, the weight-read floor, the grouped layer against the sum of
 * single-expert predictions, and NVML clock/power/temperature readings.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"

#define CMD "profile"
#define MAX_LIMITS 64

static const char usage[] =
    "usage: moemap profile [--model NAME | --hidden H --intermediate I [--dtype bf16]]\n"
    "                      [--gpus LIST] [--sm-limit GPU=N ...] [--repeats R]\n"
    "                      [--rounds K] [--warmup W] [--settle S] [--max-tokens N]\n"
    "                      [--tokens LIST] [--group LIST | --no-group] [--seed S]\n"
    "                      [--out FILE]\n\n"
    "Times one routed expert's FFN (bf16 gate/up GEMM, SiLU*up, down GEMM through\n"
    "cuBLASLt, fastest of its candidate algorithms) on every visible GPU at token\n"
    "counts from 1 to --max-tokens, and writes a moemap.cluster/v1 profile with each\n"
    "GPU's own latency curve.\n\n";

static const char footer[] =
    "\nWith MPI (mpirun -n K moemap profile ...) every rank profiles its host's GPUs and\n"
    "rank 0 writes one file with node ids from the host names.\n";

/* What the flags say besides the profiler's parameters; the lists are malloc'ed. */
typedef struct profile_args {
    const moemap_model *model;
    const char *out;
    cli_ilist gpus, tokens, group;
    int no_group, hidden, inter;
    int lim_gpu[MAX_LIMITS], lim_sms[MAX_LIMITS], nlim;
} profile_args;

static int add_sm_limit(const char *cmd, const char *arg, void *dst)
{
    profile_args *a = dst;
    double n;
    if (a->nlim == MAX_LIMITS)
        return cli_usage_error(cmd, "--sm-limit: at most %d", MAX_LIMITS);
    if (cli_parse_gpu_value(cmd, "--sm-limit", arg, 1023, 1, 100000, &a->lim_gpu[a->nlim], &n))
        return 2;
    a->lim_sms[a->nlim++] = (int)n;
    return 0;
}

/* The expert shape and the lists into the profiler's parameters. 0, or 2. */
static int profile_params(profile_args *a, moemap_profile_params *p)
{
    const moemap_model *m = a->model;
    if (m && (a->hidden || a->inter))
        return cli_usage_error(CMD, "give --model or --hidden/--intermediate, not both");
    if (!m && (!a->hidden || !a->inter))
        return cli_usage_error(CMD, "give --model NAME or both --hidden and --intermediate");
    if (a->no_group && a->group.v)
        return cli_usage_error(CMD, "--group and --no-group together");
    p->hidden = m ? m->hidden : a->hidden;
    p->intermediate = m ? m->expert_intermediate : a->inter;
    p->gpus = a->gpus.v;
    p->num_gpus = a->gpus.n;
    p->sm_limit_gpu = a->lim_gpu;
    p->sm_limit_sms = a->lim_sms;
    p->num_sm_limits = a->nlim;
    p->tokens = a->tokens.v;
    p->num_tokens = a->tokens.n;
    p->group_tokens = a->group.v;
    p->num_group = a->no_group ? -1 : a->group.n;
    p->progress = cli_progress_fn; /* the library names the GPU and phase */
    return 0;
}

/* Measures and, on rank 0, writes the cluster profile. */
static int measure(const moemap_profile_params *p, const char *out, int rank, int argc,
                   char **argv)
{
    moemap_error err = {0};
    moemap_profile_result *res = NULL;
    moemap_cluster *cl = NULL;
    char *command = moemap_args_join("moemap", argc, argv);
    int rc = moemap_profile_run(p, &res, &err);
    int bad_flag = rc == MOEMAP_EINVAL; /* a parameter the profiler refused: a flag's value */
    cli_progress_done();
    if (rc == 0 && rank == 0)
        rc = moemap_profile_to_cluster(res, command, &cl, &err) ||
             moemap_cluster_write(cl, out, &err);
    if (rc)
        rc = bad_flag ? cli_usage_error(CMD, "%s", err.msg) : cli_fail(CMD, &err);
    else if (rank == 0)
        rc = cli_put(CMD, moemap_text_profile(res, out), stdout);
    moemap_cluster_free(cl);
    moemap_profile_result_free(res);
    moemap_free(command);
    return rc;
}

static int run(int argc, char **argv, int rank)
{
    moemap_profile_params p = moemap_profile_default_params();
    profile_args a = {.out = "profile.json"};
    const cli_flag flags[] = {
        CLI_SHAPE_FLAGS(&a.model, &a.hidden, &a.inter, "NAME",
                        "expert shape of a preset (see `moemap models`)",
                        "  --hidden H --intermediate I   explicit expert shape (multiples of "
                        "8)\n"),
        {"dtype", 0, CLI_STR, &p.dtype, 0, 0, "bf16", "weight type (only bf16)", NULL},
        {"gpus", 'g', CLI_ILIST, &a.gpus, 0, 1023, "LIST",
         "CUDA devices to profile, e.g. 0,2 (default: all visible)", NULL},
        {"sm-limit", 0, CLI_FN, &a, 0, 0, "GPU=N",
         "run GPU's work in a green context of about N SMs (an\nemulated slower GPU; "
         "repeatable; the granted count is\nrecorded as the GPU's sm_limit)", add_sm_limit},
        CLI_GROUP(&p, moemap_profile_options),
        {"tokens", 't', CLI_ILIST, &a.tokens, 1, 1 << 20, "LIST",
         "explicit increasing token grid instead", NULL},
        {"group", 0, CLI_ILIST, &a.group, 0, 1 << 20, "LIST",
         "token counts of the grouped layer (default: 16 experts,\n1024,640,...,1); "
         "--no-group skips it", NULL},
        {"no-group", 0, CLI_SET, &a.no_group, 0, 0, NULL, NULL, NULL},
        {"seed", 0, CLI_SEED, &p.seed, 0, 0x7fffffff, "S",
         "seed of the random weights and inputs", NULL},
        {"out", 'o', CLI_STR, &a.out, 0, 0, "FILE", "output file (default profile.json)",
         NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {CMD, usage, flags, footer, 23, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0 && optind < argc)
        rc = cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (rc < 0 && !(rc = profile_params(&a, &p)))
        rc = measure(&p, a.out, rank, argc, argv);
    moemap_free(a.gpus.v);
    moemap_free(a.tokens.v);
    moemap_free(a.group.v);
    return rc;
}

int cmd_profile(int argc, char **argv)
{
    /* MPI only under a launcher (mpirun -n K moemap profile), started by the GPU module. */
    int rank = moemap_profile_mpi_init(&argc, &argv);
    int rc = run(argc, argv, rank);
    moemap_profile_mpi_finalize();
    return rc;
}
