/*
 * cmd_run.c — `moemap run`: executes MoE layers for real on the GPUs under one or more
 * placements (moemap_exec_run) and prints, side by side, the measured and predicted
 * straggler time, per-GPU expert compute, all-to-all times and the prediction error;
 * --check verifies the combined outputs against a CPU float64 reference instead.
 * Under mpirun only rank 0 prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CMD "run"

static void usage(FILE *f)
{
    moemap_exec_params d = moemap_exec_default_params();
    fprintf(f,
            "usage: moemap run --model M --loads TRACE [--cluster PROFILE.json] [options]\n"
            "                  [--compare] P1.json [P2.json ...]\n\n"
            "Runs expert-parallel MoE layers on the GPUs (one rank per GPU, NCCL all-to-all,\n"
            "bf16 expert FFNs through cuBLASLt) under each placement over the same trace tokens,\n"
            "and compares measured with predicted times. Needs a build with CUDA and NCCL.\n"
            "  -m, --model M           model preset giving the expert shape (moemap models)\n"
            "  --hidden N, --intermediate N  override the expert shape\n"
            "  -l, --loads TRACE       routing: ESFT trace folder (per-token), or any workload\n"
            "                          input (aggregate loads are expanded to token choices)\n"
            "  -b, --batch-tokens N    batch size when reading the trace (default: tokens/iter)\n"
            "  -c, --cluster FILE      moemap.cluster/v1 profile for predictions (taken on the\n"
            "                          same GPUs, under the same --sm-limit)\n"
            "  --layers N              MoE layers run: the placements' first N (default %d;\n"
            "                          0 = all)\n"
            "  -i, --iterations N      timed iterations (default %d)\n"
            "  --warmup N              untimed iterations first (default %d)\n"
            "  --tokens-per-iter N     tokens per iteration over all GPUs (default %ld)\n"
            "  --sm-limit GPU=N        run GPU's expert compute in a green context of N SMs\n"
            "                          (repeatable)\n"
            "  -s, --seed S            weights and hidden states (default 1)\n"
            "  --dispatch D            token-gpu (default: a token crosses to a GPU once, its\n"
            "                          choices there summed before combine) or token-expert\n"
            "                          (one row per token and choice)\n"
            "  --check                 correctness: outputs against a CPU float64 reference,\n"
            "                          every row back exactly once (small defaults: 256 tokens,\n"
            "                          2 layers, 2 iterations)\n"
            "  --compare               several placements (also implied by giving several)\n"
            "  --json                  JSON output (moemap.run/v1) instead of the table\n"
            "  -o, --out FILE          also write the JSON to FILE\n"
            "  -h, --help\n",
            d.layers, d.iterations, d.warmup, d.tokens_per_iter);
}

static int parse_sm_limit(const char *s, moemap_exec_params *p)
{
    int g;
    double sms;
    if (cli_parse_gpu_value(CMD, "--sm-limit", s, MOEMAP_EXEC_MAX_GPUS - 1, 1, 100000, &g,
                            &sms))
        return 2;
    p->sm_limit[g] = (int)sms;
    return 0;
}

static void progress(void *ctx, long done, long total)
{
    (void)ctx;
    cli_progress("run", done, total);
}

static void print_table(char **paths, int np, moemap_exec_result **res, moemap_exec_summary *s,
                        int have_pred)
{
    int G = res[0]->num_gpus;
    printf("%-34s", "");
    for (int i = 0; i < np; i++) {
        const char *b = strrchr(paths[i], '/');
        printf(" %16.16s", b ? b + 1 : paths[i]);
    }
    printf("\n");
#define ROW(label, expr)                          \
    do {                                          \
        printf("%-34s", label);                   \
        for (int i = 0; i < np; i++)              \
            printf(" %16.1f", (double)(expr));    \
        printf("\n");                             \
    } while (0)
    ROW("straggler mean (us)", s[i].straggler_mean_us);
    ROW("straggler p90 (us)", s[i].straggler_p90_us);
    if (have_pred) {
        ROW("  predicted mean (us)", s[i].pred_straggler_mean_us);
        ROW("  predicted p90 (us)", s[i].pred_straggler_p90_us);
    }
    ROW("layer time mean (us)", s[i].layer_mean_us);
    if (have_pred && res[0]->predicted_dispatch_us) {
        ROW("  predicted, whole layer (us)", s[i].pred_layer_mean_us);
        ROW("  whole-layer error (%)", 100 * s[i].layer_err);
    }
    ROW("dispatch all-to-all mean (us)", s[i].dispatch_mean_us);
    ROW("combine all-to-all mean (us)", s[i].combine_mean_us);
    if (have_pred && res[0]->predicted_dispatch_us) {
        ROW("  predicted, each (us)", s[i].pred_dispatch_mean_us);
        ROW("  dispatch+combine error (%)", 100 * s[i].dispatch_err);
    }
    ROW("barrier wait mean (us)", s[i].wait_mean_us);
    for (int g = 0; g < G; g++) {
        char label[64];
        snprintf(label, sizeof label, "GPU %d compute mean (us)", g);
        ROW(label, s[i].gpu_compute_mean_us[g]);
        if (have_pred) {
            snprintf(label, sizeof label, "  predicted (us)");
            ROW(label, s[i].gpu_pred_mean_us[g]);
        }
        snprintf(label, sizeof label, "  rows per layer");
        ROW(label, s[i].gpu_rows_mean[g]);
    }
    if (have_pred) {
        ROW("median |pred-meas|/meas (%)", 100 * s[i].median_abs_err);
        ROW("median per-GPU mean error (%)", 100 * s[i].median_gpu_mean_abs_err);
    }
    if (np > 1)
        ROW("straggler vs first (%)",
            100 * (s[i].straggler_mean_us / s[0].straggler_mean_us - 1));
#undef ROW
}

/* What the flags say; -1: not given. */
typedef struct run_args {
    const char *model, *loads, *cluster_path, *out_path;
    long batch_tokens, hidden, inter, layers, iterations, warmup, tokens, seed;
    int json, check;
} run_args;

static const struct option opts[] = {
    {"model", required_argument, NULL, 'm'},      {"loads", required_argument, NULL, 'l'},
    {"cluster", required_argument, NULL, 'c'},    {"batch-tokens", required_argument, NULL, 'b'},
    {"layers", required_argument, NULL, 'L'},     {"iterations", required_argument, NULL, 'i'},
    {"warmup", required_argument, NULL, 'w'},
    {"tokens-per-iter", required_argument, NULL, 'T'},
    {"sm-limit", required_argument, NULL, 'M'},   {"seed", required_argument, NULL, 's'},
    {"check", no_argument, NULL, 'C'},            {"compare", no_argument, NULL, 'p'},
    {"json", no_argument, NULL, 'j'},             {"hidden", required_argument, NULL, 'H'},
    {"intermediate", required_argument, NULL, 'I'}, {"help", no_argument, NULL, 'h'},
    {"out", required_argument, NULL, 'o'},        {"dispatch", required_argument, NULL, 'D'},
    {NULL, 0, NULL, 0}};

/* One option; 0, or 2 after a usage error. */
static int run_option(int c, run_args *a, moemap_exec_params *p)
{
    switch (c) {
    case 'm': a->model = optarg; return 0;
    case 'l': a->loads = optarg; return 0;
    case 'c': a->cluster_path = optarg; return 0;
    case 'D': {
        int d = moemap_dispatch_from_name(optarg);
        if (d < 0)
            return cli_usage_error("run", "--dispatch: unknown mode '%s' (token-gpu, "
                                   "token-expert)", optarg);
        p->dispatch = (moemap_dispatch)d;
        return 0;
    }
    case 'o': a->out_path = optarg; return 0;
    case 'C': a->check = 1; return 0;
    case 'p': return 0; /* several placements are compared whether or not it is given */
    case 'j': a->json = 1; return 0;
    case 'b': return cli_parse_long(CMD, "--batch-tokens", optarg, 1, 1L << 24, &a->batch_tokens);
    case 'L': return cli_parse_long(CMD, "--layers", optarg, 0, 1000, &a->layers);
    case 'i': return cli_parse_long(CMD, "--iterations", optarg, 1, 100000, &a->iterations);
    case 'w': return cli_parse_long(CMD, "--warmup", optarg, 0, 100000, &a->warmup);
    case 'T': return cli_parse_long(CMD, "--tokens-per-iter", optarg, 1, 1L << 24, &a->tokens);
    case 'M': return parse_sm_limit(optarg, p);
    case 's': return cli_parse_long(CMD, "--seed", optarg, 0, 0x7fffffffffffffffL, &a->seed);
    case 'H': return cli_parse_long(CMD, "--hidden", optarg, 8, 1 << 20, &a->hidden);
    case 'I': return cli_parse_long(CMD, "--intermediate", optarg, 8, 1 << 20, &a->inter);
    default: return cli_usage_error(CMD, "unknown option");
    }
}

/* The executor's parameters: defaults, the check's sizes with --check, then the flags. */
static int run_params(const run_args *a, moemap_exec_params *p, const moemap_model **m)
{
    moemap_error err = {0};
    *m = NULL;
    if (!a->model && (a->hidden < 0 || a->inter < 0))
        return cli_usage_error(CMD, "--model M (or --hidden and --intermediate) is required");
    if (a->model && !(*m = moemap_model_find(a->model, &err)))
        return cli_usage_error(CMD, "--model: %s", err.msg);
    if (a->check)
        moemap_exec_check_params(p);
    p->layers = a->layers >= 0 ? (int)a->layers : p->layers;
    p->iterations = a->iterations >= 0 ? (int)a->iterations : p->iterations;
    p->warmup = a->warmup >= 0 ? (int)a->warmup : p->warmup;
    p->tokens_per_iter = a->tokens >= 0 ? a->tokens : p->tokens_per_iter;
    p->seed = a->seed >= 0 ? (uint64_t)a->seed : p->seed;
    p->hidden = a->hidden >= 0 ? (int)a->hidden : (*m)->hidden;
    p->intermediate = a->inter >= 0 ? (int)a->inter : (*m)->expert_intermediate;
    p->progress = progress;
    return 0;
}

/* The human-readable report of a run. */
static void print_run(char **paths, int np, const moemap_exec_params *p,
                      moemap_exec_result **res, moemap_exec_summary *sum, int have_pred)
{
    printf("moemap run: %d GPUs,", res[0]->num_gpus);
    for (int g = 0; g < res[0]->num_gpus; g++)
        printf(" %d=%s (%d SMs)%s", g, res[0]->device_names[g], res[0]->device_sms[g],
               g + 1 < res[0]->num_gpus ? "," : "");
    printf("\n  experts %dx%d bf16, %d layers, %d iterations x %ld tokens (+%d warm-up)\n",
           p->hidden, p->intermediate, res[0]->layers, p->iterations, p->tokens_per_iter,
           p->warmup);
    print_table(paths, np, res, sum, have_pred);
    if (!p->check)
        return;
    printf("(--check: times include the CPU reference after every layer; use a run without "
           "--check to measure)\n");
    for (int i = 0; i < np; i++)
        printf("check %s: %s (rel err %.2e, worst token %.2e, rows %ld/%ld, tag errors %ld)\n",
               paths[i], moemap_exec_check_passed(res[i]) ? "PASS" : "FAIL", res[i]->check_rel_err,
               res[i]->check_max_rel_err, res[i]->check_rows, res[i]->check_rows_expected,
               res[i]->check_tag_errors);
}

/* Reads the inputs, runs every placement and reports. The status of the command. */
static int execute(const run_args *a, moemap_exec_params *p, const moemap_model *m,
                   char **paths, int np, moemap_placement **pl, moemap_exec_result **res,
                   moemap_exec_summary *sum)
{
    moemap_error err = {0};
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = a->batch_tokens > 0 ? a->batch_tokens : p->tokens_per_iter;
    rp.top_k = m ? m->top_k : rp.top_k;
    rp.experts = m ? m->experts : rp.experts;
    moemap_loads *ld = NULL;
    moemap_routing *rt = NULL;
    moemap_cluster *cl = NULL;
    int rc = moemap_workload_read(a->loads, &rp, &ld, &rt, &err);
    if (!rc && !rt)
        rc = moemap_exec_routing_from_loads(ld, m ? m->top_k : 0, &rt, &err);
    if (!rc && a->cluster_path)
        rc = moemap_cluster_read(a->cluster_path, &cl, &err);
    for (int i = 0; !rc && i < np; i++)
        rc = moemap_placement_read(paths[i], &pl[i], &err);
    if (!rc)
        rc = moemap_exec_run(p, cl, rt, (const moemap_placement *const *)pl, np, res, &err);
    cli_progress_done();
    int root = !rc && moemap_exec_is_root(), status = 0;
    for (int i = 0; root && !rc && i < np; i++)
        rc = moemap_exec_summarize(res[i], &sum[i], &err);
    moemap_exec_file ef = {np, paths, *p, res, sum};
    if (root && !rc && ((a->json && moemap_exec_write("-", &ef, &err)) ||
                        (a->out_path && moemap_exec_write(a->out_path, &ef, &err))))
        rc = err.code;
    if (root && !rc && !a->json)
        print_run(paths, np, p, res, sum, cl != NULL);
    for (int i = 0; root && !rc && p->check && i < np; i++)
        status |= !moemap_exec_check_passed(res[i]);
    moemap_cluster_free(cl);
    moemap_routing_free(rt);
    moemap_loads_free(ld);
    return rc ? cli_fail(CMD, &err) : status;
}

int cmd_run(int argc, char **argv)
{
    moemap_exec_params p = moemap_exec_default_params();
    run_args a = {NULL, NULL, NULL, NULL, 0, -1, -1, -1, -1, -1, -1, -1, 0, 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:l:c:b:i:s:o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (run_option(c, &a, &p))
            return 2;
    }
    int np = argc - optind;
    if (np < 1)
        return cli_usage_error(CMD, "give at least one placement file");
    if (!a.loads)
        return cli_usage_error(CMD, "--loads TRACE is required (the routing to execute)");
    const moemap_model *m;
    if (run_params(&a, &p, &m))
        return 2;
    moemap_placement **pl = calloc((size_t)np, sizeof *pl);
    moemap_exec_result **res = calloc((size_t)np, sizeof *res);
    moemap_exec_summary *sum = calloc((size_t)np, sizeof *sum);
    int status = pl && res && sum ? execute(&a, &p, m, argv + optind, np, pl, res, sum)
                                  : (fprintf(stderr, "moemap run: out of memory\n"), 1);
    for (int i = 0; i < np; i++) {
        if (pl)
            moemap_placement_free(pl[i]);
        if (res)
            moemap_exec_result_free(res[i]);
    }
    free(pl), free(res), free(sum);
    moemap_exec_shutdown();
    return status;
}
