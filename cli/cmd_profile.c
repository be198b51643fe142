/*
 * cmd_profile.c — `moemap profile`: measures each GPU's expert cost curve (libmoemap's
 * moemap_profile_run) and writes a moemap.cluster/v1 profile; prints a summary: the
 * curve per GPU, jitter, the weight-read floor, the grouped layer against the sum of
 * single-expert predictions, and NVML clock/power/temperature readings.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CMD "profile"
#define MAX_LIMITS 64

static int g_rank; /* MPI rank (0 without MPI): only rank 0 writes */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap profile [--model NAME | --hidden H --intermediate I [--dtype bf16]]\n"
            "                      [--gpus LIST] [--sm-limit GPU=N ...] [--repeats R]\n"
            "                      [--rounds K] [--warmup W] [--settle S] [--max-tokens N]\n"
            "                      [--tokens LIST] [--group LIST | --no-group] [--seed S]\n"
            "                      [--out FILE]\n\n"
            "Times one routed expert's FFN (bf16 gate/up GEMM, SiLU*up, down GEMM through\n"
            "cuBLASLt, fastest of its candidate algorithms) on every visible GPU at token\n"
            "counts from 1 to --max-tokens, and writes a moemap.cluster/v1 profile with each\n"
            "GPU's own latency curve.\n\n"
            "  -m, --model NAME     expert shape of a preset (see `moemap models`)\n"
            "  --hidden H --intermediate I   explicit expert shape (multiples of 8)\n"
            "  --dtype bf16         weight type (only bf16)\n"
            "  -g, --gpus LIST      CUDA devices to profile, e.g. 0,2 (default: all visible)\n"
            "  --sm-limit GPU=N     run GPU's work in a green context of about N SMs (an\n"
            "                       emulated slower GPU; repeatable; the granted count is\n"
            "                       recorded as the GPU's sm_limit)\n"
            "  --repeats R          timed runs per token count, median kept (default 200)\n"
            "  --rounds K           passes over the grid the repeats are spread over, so that\n"
            "                       every point sees the same clock and thermal states\n"
            "                       (default 20)\n"
            "  --warmup W           untimed runs before each block of timed runs (default 2)\n"
            "  --settle S           seconds of the largest size before timing, so a cold GPU\n"
            "                       reaches its working clocks and temperature (default 3)\n"
            "  --max-tokens N       largest token count of the default grid (default 16384)\n"
            "  -t, --tokens LIST    explicit increasing token grid instead\n"
            "  --group LIST         token counts of the grouped layer (default: 16 experts,\n"
            "                       1024,640,...,1); --no-group skips it\n"
            "  --seed S             seed of the random weights and inputs\n"
            "  -o, --out FILE       output file (default profile.json)\n"
            "  -h, --help\n\n"
            "With MPI (mpirun -n K moemap profile ...) every rank profiles its host's GPUs and\n"
            "rank 0 writes one file with node ids from the host names.\n");
}

/* Comma-separated non-negative integers within [lo, hi]; *out is malloc'ed. */
static int parse_sm_limit(const char *s, int *gpu, int *sms)
{
    double n;
    if (cli_parse_gpu_value(CMD, "--sm-limit", s, 1023, 1, 100000, gpu, &n))
        return 2;
    *sms = (int)n;
    return 0;
}

static void on_progress(void *user, const char *what, long done, long total)
{
    (void)user;
    cli_progress(what, done, total);
}

static void print_summary(const moemap_profile_result *r, const char *out)
{
    printf("expert %dx%d %s, %d repeats in %d rounds; %d GPU%s in %.1f s; wrote %s\n",
           r->hidden, r->intermediate, r->dtype, r->repeats, r->rounds, r->num_gpus,
           r->num_gpus == 1 ? "" : "s", r->seconds, out);
    for (int i = 0; i < r->num_gpus; i++) {
        const moemap_profile_gpu *g = &r->gpus[i];
        printf("\nGPU %d: %s (%s, node %d), ", g->device, g->name, g->host, g->node);
        if (g->sm_limit)
            printf("green context %d of %d SMs (asked %d)\n", g->sm_limit, g->sm_total,
                   g->sm_requested);
        else
            printf("%d SMs\n", g->sm_total);
        printf("  weight-read floor %.1f us (%.1f MB at %.0f GB/s copy), %d weight sets, "
               "cv %.4f, %.1f s\n", g->floor_us, g->weight_bytes / 1e6, g->copy_GBps,
               g->weight_sets, g->curve.cv, g->seconds);
        if (g->nvml_samples)
            printf("  NVML (%d readings): SM clock %.0f MHz (%.0f-%.0f), power %.0f W "
                   "(max %.0f, limit %.0f), temperature %.0f C (max %.0f)\n",
                   g->nvml_samples, g->sm_clock_mhz_mean, g->sm_clock_mhz_min,
                   g->sm_clock_mhz_max, g->power_w_mean, g->power_w_max, g->power_limit_w,
                   g->temp_c_mean, g->temp_c_max);
        else
            printf("  NVML: no readings\n");
        printf("  %8s %10s %10s %7s %7s\n", "tokens", "median_us", "fit_us", "cv", "x_floor");
        for (int k = 0; k < g->num_points; k++) {
            const moemap_profile_point *p = &g->points[k];
            printf("  %8d %10.2f %10.2f %7.4f %7.2f\n", p->tokens, p->median_us,
                   moemap_curve_eval(&g->curve, p->tokens), p->cv,
                   g->floor_us > 0 ? p->median_us / g->floor_us : 0);
        }
        if (g->num_group > 0)
            printf("  grouped layer (%d experts): measured %.1f us, sum of predictions %.1f us, "
                   "measured/predicted %.3f\n", g->num_group, g->group_measured_us,
                   g->group_predicted_us,
                   g->group_predicted_us > 0 ? g->group_measured_us / g->group_predicted_us
                                             : 0);
    }
}

static const struct option opts[] = {
    {"model", required_argument, NULL, 'm'},     {"hidden", required_argument, NULL, 'H'},
    {"intermediate", required_argument, NULL, 'I'}, {"dtype", required_argument, NULL, 'd'},
    {"gpus", required_argument, NULL, 'g'},      {"sm-limit", required_argument, NULL, 's'},
    {"repeats", required_argument, NULL, 'r'},   {"warmup", required_argument, NULL, 'w'},
    {"rounds", required_argument, NULL, 'R'},    {"settle", required_argument, NULL, 'T'},
    {"max-tokens", required_argument, NULL, 'M'}, {"tokens", required_argument, NULL, 't'},
    {"group", required_argument, NULL, 'G'},     {"no-group", no_argument, NULL, 'N'},
    {"seed", required_argument, NULL, 'S'},      {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};

/* What the flags say; the lists are malloc'ed. */
typedef struct profile_args {
    const char *model, *out;
    long hidden, inter;
    int *gpus, *tokens, *group, ngpus, ntokens, ngroup, no_group;
    int lim_gpu[MAX_LIMITS], lim_sms[MAX_LIMITS], nlim;
} profile_args;

static int int_flag(const char *flag, long lo, long hi, int *out)
{
    long v;
    if (cli_parse_long(CMD, flag, optarg, lo, hi, &v))
        return 2;
    *out = (int)v;
    return 0;
}

/* One option; 0, or 2 after a usage error. */
static int profile_option(int c, profile_args *a, moemap_profile_params *p)
{
    long v;
    switch (c) {
    case 'm': a->model = optarg; return 0;
    case 'o': a->out = optarg; return 0;
    case 'd': p->dtype = optarg; return 0;
    case 'N': a->no_group = 1; return 0;
    case 'H': return cli_parse_long(CMD, "--hidden", optarg, 8, 1 << 20, &a->hidden);
    case 'I': return cli_parse_long(CMD, "--intermediate", optarg, 8, 1 << 20, &a->inter);
    case 'g':
        free(a->gpus);
        return cli_parse_int_list(CMD, "--gpus", optarg, 0, 1023, &a->gpus, &a->ngpus);
    case 't':
        free(a->tokens);
        return cli_parse_int_list(CMD, "--tokens", optarg, 1, 1 << 20, &a->tokens, &a->ntokens);
    case 'G':
        free(a->group);
        return cli_parse_int_list(CMD, "--group", optarg, 0, 1 << 20, &a->group, &a->ngroup);
    case 's':
        if (a->nlim == MAX_LIMITS)
            return cli_usage_error(CMD, "--sm-limit: at most %d", MAX_LIMITS);
        if (parse_sm_limit(optarg, &a->lim_gpu[a->nlim], &a->lim_sms[a->nlim]))
            return 2;
        a->nlim++;
        return 0;
    case 'r': return int_flag("--repeats", 3, 100000, &p->repeats);
    case 'R': return int_flag("--rounds", 1, 100000, &p->rounds);
    case 'w': return int_flag("--warmup", 0, 100000, &p->warmup);
    case 'T': return cli_parse_double(CMD, "--settle", optarg, 0, 600, &p->settle_s);
    case 'M': return int_flag("--max-tokens", 1, 1 << 20, &p->max_tokens);
    case 'S':
        if (cli_parse_long(CMD, "--seed", optarg, 0, 0x7fffffffL, &v))
            return 2;
        p->seed = (uint64_t)v;
        return 0;
    default: return cli_usage_error(CMD, "unknown option");
    }
}

/* The expert shape and the lists into the profiler's parameters. 0, or 2. */
static int profile_params(profile_args *a, moemap_profile_params *p)
{
    moemap_error err = {0};
    if (a->model && (a->hidden || a->inter))
        return cli_usage_error(CMD, "give --model or --hidden/--intermediate, not both");
    const moemap_model *m = a->model ? moemap_model_find(a->model, &err) : NULL;
    if (a->model && !m)
        return cli_usage_error(CMD, "--model: %s", err.msg);
    if (!m && (!a->hidden || !a->inter))
        return cli_usage_error(CMD, "give --model NAME or both --hidden and --intermediate");
    if (a->no_group && a->group)
        return cli_usage_error(CMD, "--group and --no-group together");
    p->hidden = m ? m->hidden : (int)a->hidden;
    p->intermediate = m ? m->expert_intermediate : (int)a->inter;
    p->gpus = a->gpus;
    p->num_gpus = a->ngpus;
    p->sm_limit_gpu = a->lim_gpu;
    p->sm_limit_sms = a->lim_sms;
    p->num_sm_limits = a->nlim;
    p->tokens = a->tokens;
    p->num_tokens = a->ntokens;
    p->group_tokens = a->group;
    p->num_group = a->no_group ? -1 : a->ngroup;
    p->progress = on_progress;
    return 0;
}

/* Measures and, on rank 0, writes the cluster profile. */
static int measure(const moemap_profile_params *p, const char *out, int argc, char **argv)
{
    moemap_error err = {0};
    moemap_profile_result *res = NULL;
    moemap_cluster *cl = NULL;
    char *command = cli_command_line(argc, argv);
    int rc = moemap_profile_run(p, &res, &err);
    cli_progress_done();
    if (rc == 0 && g_rank == 0) {
        rc = moemap_profile_to_cluster(res, command, &cl, &err);
        if (rc == 0)
            rc = moemap_cluster_write(cl, out, &err);
        if (rc == 0)
            print_summary(res, out);
    }
    if (rc)
        rc = cli_fail(CMD, &err);
    moemap_cluster_free(cl);
    moemap_profile_result_free(res);
    free(command);
    return rc;
}

static int run(int argc, char **argv)
{
    moemap_profile_params p;
    moemap_profile_params_default(&p);
    profile_args a;
    memset(&a, 0, sizeof a);
    a.out = "profile.json";
    int c, rc = 0, help = 0;
    optind = 1;
    while (!rc && !help && (c = getopt_long(argc, argv, "m:g:t:o:h", opts, NULL)) != -1) {
        if (c == 'h')
            help = 1;
        else
            rc = profile_option(c, &a, &p);
    }
    if (help)
        usage(stdout);
    else if (!rc && optind < argc)
        rc = cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (!help && !rc)
        rc = profile_params(&a, &p);
    if (!help && !rc)
        rc = measure(&p, a.out, argc, argv);
    free(a.gpus);
    free(a.tokens);
    free(a.group);
    return rc;
}

int cmd_profile(int argc, char **argv)
{
    /* MPI only under a launcher (mpirun -n K moemap profile), started by the GPU module. */
    g_rank = moemap_profile_mpi_init(&argc, &argv);
    int rc = run(argc, argv);
    moemap_profile_mpi_finalize();
    return rc;
}
