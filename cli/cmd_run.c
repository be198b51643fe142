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
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return cli_usage_error(CMD, "--sm-limit %s: expected GPU=N, e.g. 1=96", s);
    char head[32];
    size_t n = (size_t)(eq - s);
    if (n >= sizeof head)
        return cli_usage_error(CMD, "--sm-limit %s: expected GPU=N", s);
    memcpy(head, s, n);
    head[n] = 0;
    long g, sms;
    int rc;
    if ((rc = cli_parse_long(CMD, "--sm-limit GPU", head, 0, MOEMAP_EXEC_MAX_GPUS - 1, &g)) ||
        (rc = cli_parse_long(CMD, "--sm-limit N", eq + 1, 1, 100000, &sms)))
        return rc;
    p->sm_limit[g] = (int)sms;
    return 0;
}

static void progress(void *ctx, long done, long total)
{
    (void)ctx;
    cli_progress("run", done, total);
}

/* The correctness verdict: bf16 storage of the intermediate and of each expert output
 * bounds the error near 1e-2 relative; a misrouted row gives errors of order 1. */
static int check_passed(const moemap_exec_result *r)
{
    return r->check_rel_err <= 1e-2 && r->check_max_rel_err <= 3e-2 &&
           r->check_tag_errors == 0 && r->check_rows == r->check_rows_expected;
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
    ROW("dispatch all-to-all mean (us)", s[i].dispatch_mean_us);
    ROW("combine all-to-all mean (us)", s[i].combine_mean_us);
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

int cmd_run(int argc, char **argv)
{
    moemap_exec_params p = moemap_exec_default_params();
    const char *model = NULL, *loads = NULL, *cluster_path = NULL, *out_path = NULL;
    long v, batch_tokens = 0, hidden = 0, inter = 0;
    int json = 0, tokens_set = 0, iters_set = 0, layers_set = 0, warm_set = 0, rc;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},      {"loads", required_argument, NULL, 'l'},
        {"cluster", required_argument, NULL, 'c'},    {"batch-tokens", required_argument, NULL, 'b'},
        {"layers", required_argument, NULL, 'L'},     {"iterations", required_argument, NULL, 'i'},
        {"warmup", required_argument, NULL, 'w'},     {"tokens-per-iter", required_argument, NULL, 'T'},
        {"sm-limit", required_argument, NULL, 'M'},   {"seed", required_argument, NULL, 's'},
        {"check", no_argument, NULL, 'C'},            {"compare", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},             {"hidden", required_argument, NULL, 'H'},
        {"intermediate", required_argument, NULL, 'I'}, {"help", no_argument, NULL, 'h'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:l:c:b:i:s:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'l': loads = optarg; break;
        case 'c': cluster_path = optarg; break;
        case 'b':
            if ((rc = cli_parse_long(CMD, "--batch-tokens", optarg, 1, 1L << 24, &batch_tokens)))
                return rc;
            break;
        case 'L':
            if ((rc = cli_parse_long(CMD, "--layers", optarg, 0, 1000, &v)))
                return rc;
            p.layers = (int)v, layers_set = 1;
            break;
        case 'i':
            if ((rc = cli_parse_long(CMD, "--iterations", optarg, 1, 100000, &v)))
                return rc;
            p.iterations = (int)v, iters_set = 1;
            break;
        case 'w':
            if ((rc = cli_parse_long(CMD, "--warmup", optarg, 0, 100000, &v)))
                return rc;
            p.warmup = (int)v, warm_set = 1;
            break;
        case 'T':
            if ((rc = cli_parse_long(CMD, "--tokens-per-iter", optarg, 1, 1L << 24, &v)))
                return rc;
            p.tokens_per_iter = v, tokens_set = 1;
            break;
        case 'M':
            if ((rc = parse_sm_limit(optarg, &p)))
                return rc;
            break;
        case 's':
            if ((rc = cli_parse_long(CMD, "--seed", optarg, 0, 0x7fffffffffffffffL, &v)))
                return rc;
            p.seed = (uint64_t)v;
            break;
        case 'C': p.check = 1; break;
        case 'p': break; /* several placements are compared whether or not it is given */
        case 'j': json = 1; break;
        case 'o': out_path = optarg; break;
        case 'H':
            if ((rc = cli_parse_long(CMD, "--hidden", optarg, 8, 1 << 20, &hidden)))
                return rc;
            break;
        case 'I':
            if ((rc = cli_parse_long(CMD, "--intermediate", optarg, 8, 1 << 20, &inter)))
                return rc;
            break;
        case 'h': usage(stdout); return 0;
        default: return cli_usage_error(CMD, "unknown option");
        }
    }
    int np = argc - optind;
    if (np < 1)
        return cli_usage_error(CMD, "give at least one placement file");
    if (!loads)
        return cli_usage_error(CMD, "--loads TRACE is required (the routing to execute)");
    if (!model && (!hidden || !inter))
        return cli_usage_error(CMD, "--model M (or --hidden and --intermediate) is required");
    if (p.check) {
        /* the CPU reference costs ~3*H*I*2 flops per row: keep the check small */
        if (!tokens_set)
            p.tokens_per_iter = 256;
        if (!iters_set)
            p.iterations = 2;
        if (!layers_set)
            p.layers = 2;
        if (!warm_set)
            p.warmup = 1;
    }
    moemap_error err = {0};
    const moemap_model *m = NULL;
    if (model && !(m = moemap_model_find(model, &err)))
        return cli_fail(CMD, &err);
    p.hidden = hidden ? (int)hidden : m->hidden;
    p.intermediate = inter ? (int)inter : m->expert_intermediate;
    p.progress = progress;

    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = batch_tokens ? batch_tokens : p.tokens_per_iter;
    if (m) {
        rp.top_k = m->top_k;
        rp.experts = m->experts;
    }
    moemap_loads *ld = NULL;
    moemap_routing *rt = NULL;
    moemap_cluster *cl = NULL;
    moemap_placement **pl = calloc((size_t)np, sizeof *pl);
    moemap_exec_result **res = calloc((size_t)np, sizeof *res);
    moemap_exec_summary *sum = calloc((size_t)np, sizeof *sum);
    int status = 1;
    if (!pl || !res || !sum) {
        moemap_error_set(&err, MOEMAP_ENOMEM, "out of memory");
        goto fail;
    }
    if (moemap_workload_read(loads, &rp, &ld, &rt, &err))
        goto fail;
    if (!rt && moemap_exec_routing_from_loads(ld, m ? m->top_k : 0, &rt, &err))
        goto fail;
    if (cluster_path && moemap_cluster_read(cluster_path, &cl, &err))
        goto fail;
    for (int i = 0; i < np; i++)
        if (moemap_placement_read(argv[optind + i], &pl[i], &err))
            goto fail;
    if (moemap_exec_run(&p, cl, rt, (const moemap_placement *const *)pl, np, res, &err)) {
        cli_progress_done();
        goto fail;
    }
    cli_progress_done();
    if (!moemap_exec_is_root()) {
        status = 0;
        goto done;
    }
    for (int i = 0; i < np; i++)
        if (moemap_exec_summarize(res[i], &sum[i], &err))
            goto fail;
    status = 0;
    if (p.check)
        for (int i = 0; i < np; i++)
            if (!check_passed(res[i]))
                status = 1;
    if (json || out_path) {
        moemap_exec_file ef = {np, argv + optind, p, res, sum};
        if ((json && moemap_exec_write("-", &ef, &err)) ||
            (out_path && moemap_exec_write(out_path, &ef, &err)))
            goto fail;
    }
    if (!json) {
        printf("moemap run: %d GPUs,", res[0]->num_gpus);
        for (int g = 0; g < res[0]->num_gpus; g++)
            printf(" %d=%s (%d SMs)%s", g, res[0]->device_names[g], res[0]->device_sms[g],
                   g + 1 < res[0]->num_gpus ? "," : "");
        printf("\n  experts %dx%d bf16, %d layers, %d iterations x %ld tokens (+%d warm-up)\n",
               p.hidden, p.intermediate, res[0]->layers, p.iterations, p.tokens_per_iter,
               p.warmup);
        print_table(argv + optind, np, res, sum, cl != NULL);
        if (p.check)
            printf("(--check: times include the CPU reference after every layer; use a run "
                   "without --check to measure)\n");
        if (p.check)
            for (int i = 0; i < np; i++)
                printf("check %s: %s (rel err %.2e, worst token %.2e, rows %ld/%ld, tag "
                       "errors %ld)\n",
                       argv[optind + i], check_passed(res[i]) ? "PASS" : "FAIL",
                       res[i]->check_rel_err, res[i]->check_max_rel_err, res[i]->check_rows,
                       res[i]->check_rows_expected, res[i]->check_tag_errors);
    }
    goto done;
fail:
    status = cli_fail(CMD, &err);
done:
    for (int i = 0; i < np; i++) {
        if (pl)
            moemap_placement_free(pl[i]);
        if (res)
            moemap_exec_result_free(res[i]);
    }
    free(pl), free(res), free(sum);
    moemap_cluster_free(cl);
    moemap_routing_free(rt);
    moemap_loads_free(ld);
    moemap_exec_shutdown();
    return status;
}
