/*
 * cli_util.c — what the moemap subcommands share besides their flag tables: error
 * printing, flag values read strictly (through the library's parsers, worded as usage
 * errors naming the flag), the input flags of place, eval and validate, printing the
 * library's texts, and terminal progress (see cli.h).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

int cli_parse_gpu_value(const char *cmd, const char *flag, const char *s, int max_gpu,
                        double lo, double hi, int *gpu, double *value)
{
    char why[200];
    return moemap_parse_gpu_value(s, max_gpu, lo, hi, gpu, value, why, sizeof why)
               ? cli_usage_error(cmd, "%s: %s", flag, why) : 0;
}

int cli_input_format(const char *cmd, const char *arg, void *rp)
{
    int f = moemap_workload_format_parse(arg);
    if (f < 0)
        return cli_usage_error(cmd, "--format: unknown format '%s' (esft, sglang, loads, csv)",
                               arg);
    ((moemap_read_params *)rp)->format = (moemap_workload_format)f;
    return 0;
}

int cli_input_batch(const char *cmd, const char *arg, void *ip)
{
    char why[256];
    return moemap_input_parse_batch(ip, arg, why, sizeof why)
               ? cli_usage_error(cmd, "--batch-tokens%s", why) : 0;
}

int cli_input_model(const char *cmd, const char *arg, void *model)
{
    moemap_error err = {0};
    if (!(*(const moemap_model **)model = moemap_model_find(arg, &err)))
        return cli_usage_error(cmd, "--model: %s", err.msg);
    return 0;
}

int cli_input_engine(const char *cmd, const char *arg, void *engine)
{
    int e = moemap_engine_parse(arg);
    if (e < 0)
        return cli_usage_error(cmd, "--engine: unknown engine '%s' (sglang, vllm, none)", arg);
    *(moemap_engine *)engine = (moemap_engine)e;
    return 0;
}

int cli_input_dispatch(const char *cmd, const char *arg, void *dst)
{
    moemap_a2a_params *a2a = dst;
    int d = moemap_dispatch_from_name(arg);
    if (d < 0 && strcmp(arg, "off"))
        return cli_usage_error(cmd, "--dispatch: unknown mode '%s' (token-gpu, token-expert, "
                               "off)", arg);
    a2a->off = d < 0;
    a2a->dispatch = d < 0 ? MOEMAP_DISPATCH_TOKEN_GPU : (moemap_dispatch)d;
    return 0;
}

int cli_inputs_read(cli_inputs *in, moemap_loads **ld, moemap_cluster **cl,
                    moemap_placement **prev, moemap_error *err)
{
    int rc = moemap_inputs_read(&in->ip, in->loads_path, in->cluster_path, in->previous_path,
                                ld, cl, prev, err);
    cli_notes(in->cmd, in->ip.note);
    return rc;
}

int cli_strategy(const char *cmd, const char *arg, void *dst)
{
    char known[512];
    *(const char **)dst = arg;
    if (moemap_place_strategy_known(arg, known, sizeof known))
        return 0;
    return cli_usage_error(cmd, "unknown strategy '%s' (known: %s)", arg, known);
}

void cli_notes(const char *cmd, const char *text)
{
    for (const char *s = text; s && *s;) {
        int n = (int)strcspn(s, "\n");
        fprintf(stderr, "moemap %s: %.*s\n", cmd, n, s);
        s += n + (s[n] == '\n');
    }
}

int cli_stdout_taken;

int cli_put(const char *cmd, char *text, FILE *f)
{
    if (!text) {
        fprintf(stderr, "moemap %s: out of memory\n", cmd);
        return 1;
    }
    fputs(text, f == stdout && cli_stdout_taken ? stderr : f);
    moemap_free(text);
    return 0;
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

void cli_progress_fn(void *ctx, const char *what, long done, long total)
{
    cli_progress(ctx ? (const char *)ctx : what, done, total);
}

void cli_progress_done(void)
{
    if (progress_active && isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
    progress_active = 0;
}
