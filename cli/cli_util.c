/*
 * cli_util.c — error printing, strict flag-value parsing, the input flags and reading
 * shared by place, eval and validate, and terminal progress for the moemap subcommands
 * (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_fail(const char *cmd, const moemap_error *err)
{
    fprintf(stderr, "moemap %s: %s\n", cmd,
            err && err->msg[0] ? err->msg : moemap_status_message(err ? err->code : -1));
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "moemap %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'moemap %s --help')\n", cmd);
    return 2;
}

int cli_parse_long(const char *cmd, const char *flag, const char *s, long lo, long hi,
                   long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno)
        return cli_usage_error(cmd, "%s: '%s' is not an integer", flag, s ? s : "");
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "%s: %ld is outside [%ld, %ld]", flag, v, lo, hi);
    *out = v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                     double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v))
        return cli_usage_error(cmd, "%s: '%s' is not a number", flag, s ? s : "");
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "%s: %g is outside [%g, %g]", flag, v, lo, hi);
    *out = v;
    return 0;
}

int cli_parse_double_list(const char *cmd, const char *flag, const char *s, double **out,
                          int *n)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    double *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        return cli_usage_error(cmd, "%s: out of memory", flag);
    char *copy = strdup(s), *save = NULL;
    int k = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (cli_parse_double(cmd, flag, tok, -1e300, 1e300, &v[k]) != 0) {
            free(copy);
            free(v);
            return 2;
        }
        k++;
    }
    free(copy);
    if (k == 0) {
        free(v);
        return cli_usage_error(cmd, "%s: empty list", flag);
    }
    *out = v;
    *n = k;
    return 0;
}

int cli_parse_workload_format(const char *cmd, const char *arg, moemap_read_params *rp)
{
    int f = moemap_workload_format_parse(arg);
    if (f < 0)
        return cli_usage_error(cmd, "--format: unknown format '%s' (esft, sglang, loads, csv)",
                               arg);
    rp->format = (moemap_workload_format)f;
    return 0;
}

int cli_parse_dispatch(const char *cmd, const char *arg, moemap_a2a_params *a2a)
{
    int d = moemap_dispatch_from_name(arg);
    if (d < 0 && strcmp(arg, "off"))
        return cli_usage_error(cmd, "--dispatch: unknown mode '%s' (token-gpu, token-expert, "
                               "off)", arg);
    a2a->off = d < 0;
    a2a->dispatch = d < 0 ? MOEMAP_DISPATCH_TOKEN_GPU : (moemap_dispatch)d;
    return 0;
}

int cli_parse_batch_tokens(const char *cmd, const char *arg, moemap_read_params *rp)
{
    long v = 0;
    if (cli_parse_long(cmd, "--batch-tokens", arg, 1, 100000000, &v))
        return 2;
    rp->batch_tokens = v;
    return 0;
}

/* --batch-tokens N1[:W1],N2[:W2],...: a mix of operating points (weights default 1). */
static int parse_mix(const char *cmd, const char *arg, cli_inputs *in)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf)
        return cli_usage_error(cmd, "--batch-tokens: '%.40s...' is too long", arg);
    snprintf(buf, sizeof buf, "%s", arg);
    in->num_mix = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (in->num_mix == CLI_MAX_MIX)
            return cli_usage_error(cmd, "--batch-tokens: at most %d operating points",
                                   CLI_MAX_MIX);
        char *colon = strchr(tok, ':');
        long n;
        double w = 1;
        if (colon)
            *colon = '\0';
        if (cli_parse_long(cmd, "--batch-tokens", tok, 1, 100000000, &n) ||
            (colon && cli_parse_double(cmd, "--batch-tokens (weight)", colon + 1, 1e-6, 1e6,
                                       &w)))
            return 2;
        in->mix_tokens[in->num_mix] = (double)n;
        in->mix_weights[in->num_mix] = w;
        in->num_mix++;
    }
    if (in->num_mix == 0)
        return cli_usage_error(cmd, "--batch-tokens: no operating point in '%s'", arg);
    in->rp.batch_tokens = (long)in->mix_tokens[0];
    return 0;
}

cli_inputs cli_inputs_default(void)
{
    cli_inputs in;
    memset(&in, 0, sizeof in);
    in.rp = moemap_read_default_params();
    in.a2a = moemap_a2a_default_params();
    return in;
}

int cli_input_option(const char *cmd, int c, char **argv, cli_inputs *in)
{
    const char *arg = optarg;
    long v = 0;
    switch (c) {
    case 'l': in->loads_path = arg; return 0;
    case 'c': in->cluster_path = arg; return 0;
    case CLI_OPT_PREVIOUS: in->previous_path = arg; return 0;
    case CLI_OPT_FORMAT: return cli_parse_workload_format(cmd, arg, &in->rp);
    case CLI_OPT_BATCH:
        in->batch_given = 1;
        if (strchr(arg, ',') || strchr(arg, ':'))
            return parse_mix(cmd, arg, in);
        in->num_mix = 0;
        return cli_parse_batch_tokens(cmd, arg, &in->rp);
    case CLI_OPT_TOPK:
        if (cli_parse_long(cmd, "--top-k", arg, 1, 4096, &v))
            return 2;
        in->rp.top_k = (int)v;
        return 0;
    case 'm': {
        moemap_error err = {0};
        if (!(in->model = moemap_model_find(arg, &err)))
            return cli_usage_error(cmd, "--model: %s", err.msg);
        return 0;
    }
    case CLI_OPT_ENGINE: {
        int e = moemap_engine_parse(arg);
        if (e < 0)
            return cli_usage_error(cmd, "--engine: unknown engine '%s' (sglang, vllm, none)",
                                   arg);
        in->engine = (moemap_engine)e;
        return 0;
    }
    case CLI_OPT_DISPATCH: return cli_parse_dispatch(cmd, arg, &in->a2a);
    case CLI_OPT_SLOTS:
        if (cli_parse_long(cmd, "--slots", arg, 1, 1000000, &v))
            return 2;
        in->slots = (int)v;
        return 0;
    case ':': return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
    default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
}

/* Aggregate loads become iterations at the operating point (moemap/workload.h); with
 * --batch-tokens, recorded iterations are merged or scaled to it. Per-token traces were
 * cut into such batches by the reader already. Says on stderr which operating point it
 * assumed when none was given. */
static int at_operating_point(cli_inputs *in, moemap_loads **ld, const moemap_cluster *cl,
                              moemap_error *err)
{
    int trace = in->rp.format == MOEMAP_FORMAT_ESFT ||
                (in->rp.format == MOEMAP_FORMAT_AUTO && (*ld)->num_batches > 0 &&
                 cli_is_directory(in->loads_path));
    in->batch_tokens = 0;
    in->op_text[0] = '\0';
    if (trace && in->num_mix > 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: a per-token trace is cut into "
                                "batches of one size: give one --batch-tokens N",
                                in->loads_path);
    if (trace || (!in->batch_given && !moemap_loads_is_aggregate(*ld)))
        return 0;
    moemap_operating_point op = moemap_operating_point_default();
    op.top_k = in->rp.top_k;
    if (in->batch_given)
        op.batch_tokens = (double)in->rp.batch_tokens;
    else {
        int G = cl ? cl->num_gpus : 32;
        op.batch_tokens = moemap_operating_point_default_tokens(G);
        fprintf(stderr, "moemap %s: operating point: %.0f tokens per iteration (128 per GPU "
                "x %d GPUs, a decode iteration; --batch-tokens N sets yours): the loads are "
                "an aggregate, judged on its expected iteration and %d sampled ones\n",
                in->cmd ? in->cmd : "", op.batch_tokens, G, op.samples);
    }
    moemap_loads *iters = NULL;
    int rc = in->num_mix > 1 ? moemap_loads_at_operating_mix(*ld, &op, in->mix_tokens,
                                                             in->mix_weights, in->num_mix,
                                                             &iters, err)
                             : moemap_loads_at_operating_point(*ld, &op, &iters, err);
    if (rc) {
        moemap_error_prefix(err, "%s", in->loads_path);
        return rc;
    }
    moemap_loads_free(*ld);
    *ld = iters;
    in->batch_tokens = op.batch_tokens;
    snprintf(in->op_text, sizeof in->op_text, "%.0f", op.batch_tokens);
    double wsum = 0;
    for (int i = 0; i < in->num_mix; i++)
        wsum += in->mix_weights[i];
    for (int i = 0; i < in->num_mix && in->num_mix > 1; i++) {
        size_t len = strlen(in->op_text) * (i > 0);
        snprintf(in->op_text + len, sizeof in->op_text - len, "%s%.0f (%.0f%%)",
                 i == 0 ? "" : i + 1 < in->num_mix ? ", " : " and ", in->mix_tokens[i],
                 100 * in->mix_weights[i] / wsum);
        /* the largest size is the moemap strategy's window */
        if (in->mix_tokens[i] > in->batch_tokens)
            in->batch_tokens = in->mix_tokens[i];
    }
    return 0;
}

int cli_inputs_read(cli_inputs *in, moemap_loads **ld, moemap_cluster **cl,
                    moemap_placement **prev, moemap_error *err)
{
    int rc = 0;
    if (in->model && in->rp.top_k == 0)
        in->rp.top_k = in->model->top_k;
    if (in->cluster_path && cl)
        rc = moemap_cluster_read(in->cluster_path, cl, err);
    if (!rc && in->loads_path && ld) {
        rc = moemap_workload_read(in->loads_path, &in->rp, ld, NULL, err);
        if (!rc)
            rc = at_operating_point(in, ld, cl ? *cl : NULL, err);
    }
    if (!rc && in->model && ld && *ld && (*ld)->experts != in->model->experts)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: %d experts per layer, but --model %s "
                              "has %d", in->loads_path, (*ld)->experts, in->model->name,
                              in->model->experts);
    if (!rc && in->previous_path && prev)
        rc = cli_read_placement(in, in->previous_path, cl ? *cl : NULL, ld ? *ld : NULL, prev,
                                err);
    return rc;
}

int cli_read_placement(const cli_inputs *in, const char *path, const moemap_cluster *cl,
                       const moemap_loads *ld, moemap_placement **out, moemap_error *err)
{
    moemap_import_params ip = moemap_import_default_params();
    ip.num_gpus = cl ? cl->num_gpus : 0;
    ip.model = in->model;
    if (ld && !in->model) {
        ip.layers = ld->layer_ids;
        ip.num_layers = ld->num_layers;
    }
    return moemap_placement_read_any(path, &ip, out, NULL, err);
}

int cli_is_directory(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int progress_active;

void cli_progress(const char *what, long done, long total)
{
    if (!isatty(STDERR_FILENO))
        return;
    int pct = total > 0 ? (int)(100.0 * (double)done / (double)total) : 0;
    fprintf(stderr, "\r%s: %3d%% (%ld/%ld)", what, pct, done, total);
    fflush(stderr);
    progress_active = 1;
}

void cli_progress_done(void)
{
    if (progress_active && isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
    progress_active = 0;
}

int cli_stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO);
}

int cli_check_strategy(const char *cmd, const char *name)
{
    char known[512] = "";
    size_t k = 0;
    for (const char *const *n = moemap_place_strategy_names(); *n; n++) {
        if (!strcmp(*n, name))
            return 0;
        k += (size_t)snprintf(known + k, k < sizeof known ? sizeof known - k : 0, "%s%s",
                              k ? ", " : "", *n);
    }
    return cli_usage_error(cmd, "unknown strategy '%s' (known: %s)", name, known);
}
