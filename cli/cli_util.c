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

int cli_parse_long(const char *cmd, const char *flag, const char *s, long lo, long hi,
                   long *out)
{
    char why[200];
    return moemap_parse_long(s, lo, hi, out, why, sizeof why)
               ? cli_usage_error(cmd, "%s: %s", flag, why) : 0;
}

int cli_parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                     double *out)
{
    char why[200];
    return moemap_parse_double(s, lo, hi, out, why, sizeof why)
               ? cli_usage_error(cmd, "%s: %s", flag, why) : 0;
}

int cli_parse_gpu_value(const char *cmd, const char *flag, const char *s, int max_gpu,
                        double lo, double hi, int *gpu, double *value)
{
    char why[200];
    return moemap_parse_gpu_value(s, max_gpu, lo, hi, gpu, value, why, sizeof why)
               ? cli_usage_error(cmd, "%s: %s", flag, why) : 0;
}

char *cli_command_line(int argc, char **argv)
{
    size_t len = strlen("moemap") + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    strcpy(s, "moemap");
    for (int i = 0; i < argc; i++)
        strcat(strcat(s, " "), argv[i]);
    return s;
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

/* --batch-tokens N, or N1[:W1],N2[:W2],...: a mix of operating points (weights default
 * 1). */
int cli_input_batch(const char *cmd, const char *arg, void *dst)
{
    moemap_input_params *ip = dst;
    char buf[256], *save = NULL;
    long n;
    ip->batch_given = 1;
    ip->num_mix = 0;
    if (strlen(arg) >= sizeof buf)
        return cli_usage_error(cmd, "--batch-tokens: '%.40s...' is too long", arg);
    snprintf(buf, sizeof buf, "%s", arg);
    int mix = strchr(arg, ',') || strchr(arg, ':');
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (ip->num_mix == MOEMAP_MAX_MIX)
            return cli_usage_error(cmd, "--batch-tokens: at most %d operating points",
                                   MOEMAP_MAX_MIX);
        char *colon = strchr(tok, ':');
        double w = 1;
        if (colon)
            *colon = '\0';
        if (cli_parse_long(cmd, "--batch-tokens", tok, 1, 100000000, &n) ||
            (colon && cli_parse_double(cmd, "--batch-tokens (weight)", colon + 1, 1e-6, 1e6,
                                       &w)))
            return 2;
        ip->mix_tokens[ip->num_mix] = (double)n;
        ip->mix_weights[ip->num_mix++] = w;
    }
    if (ip->num_mix == 0)
        return cli_usage_error(cmd, mix ? "--batch-tokens: no operating point in '%s'"
                                        : "--batch-tokens: '%s' is not an integer", arg);
    ip->num_mix = mix ? ip->num_mix : 0;
    ip->read.batch_tokens = (long)ip->mix_tokens[0];
    return 0;
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

int cli_put(const char *cmd, char *text, FILE *f)
{
    if (!text) {
        fprintf(stderr, "moemap %s: out of memory\n", cmd);
        return 1;
    }
    fputs(text, f);
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

void cli_progress_done(void)
{
    if (progress_active && isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
    progress_active = 0;
}
