/*
 * cli_args.c — argument shapes several subcommands share, parsed one way: a per-GPU value
 * "GPU=X" (--sm-limit of run and profile, --throttle of cluster synth), a list of
 * integers (profile's --gpus, --tokens, --group), and the command line itself as the
 * provenance a written profile records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_gpu_value(const char *cmd, const char *flag, const char *s, int max_gpu,
                        double lo, double hi, int *gpu, double *value)
{
    const char *eq = strchr(s, '=');
    char head[32], what[64];
    if (!eq || eq == s || (size_t)(eq - s) >= sizeof head)
        return cli_usage_error(cmd, "%s: '%s' is not GPU=VALUE", flag, s);
    memcpy(head, s, (size_t)(eq - s));
    head[eq - s] = '\0';
    long g;
    snprintf(what, sizeof what, "%s GPU", flag);
    if (cli_parse_long(cmd, what, head, 0, max_gpu, &g))
        return 2;
    snprintf(what, sizeof what, "%s VALUE", flag);
    if (cli_parse_double(cmd, what, eq + 1, lo, hi, value))
        return 2;
    *gpu = (int)g;
    return 0;
}

int cli_parse_int_list(const char *cmd, const char *flag, const char *s, long lo, long hi,
                       int **out, int *n)
{
    double *v;
    int k;
    if (cli_parse_double_list(cmd, flag, s, &v, &k))
        return 2;
    int *iv = malloc((size_t)(k ? k : 1) * sizeof *iv);
    int rc = iv ? 0 : cli_usage_error(cmd, "%s: out of memory", flag);
    for (int i = 0; !rc && i < k; i++) {
        if (v[i] != floor(v[i]) || v[i] < lo || v[i] > hi)
            rc = cli_usage_error(cmd, "%s: %g is not an integer in %ld..%ld", flag, v[i], lo,
                                 hi);
        else
            iv[i] = (int)v[i];
    }
    free(v);
    if (rc) {
        free(iv);
        return rc;
    }
    *out = iv;
    *n = k;
    return 0;
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
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}
