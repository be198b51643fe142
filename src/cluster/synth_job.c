/*
 * synth_job.c — `moemap cluster synth` as one call (moemap/cluster_synth.h): defaults,
 * a "tokens:us" curve, the base profile and the variability file read, the cluster built
 * and the command recorded as its provenance; cluster files merged.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/cluster_synth.h"

#define DEFAULT_GPUS_PER_NODE 8

moemap_synth_params moemap_synth_default_params(void)
{
    /* -1: taken from the base profile, else nominal (moemap_synth_params_from_base) */
    return (moemap_synth_params){.gpus_per_node = DEFAULT_GPUS_PER_NODE, .seed = 1,
                                 .slots = -1, .num_gpus = -1, .intra_node_GBps = -1,
                                 .inter_node_GBps = -1, .latency_us = -1};
}

int moemap_speed_norm_parse(const char *name)
{
    return !strcmp(name, "median") ? MOEMAP_SPEED_MEDIAN
           : !strcmp(name, "fastest") ? MOEMAP_SPEED_FASTEST
                                      : -1;
}

/* One "tokens:us" pair. */
static int parse_pair(char *tok, double *tokens, double *us, moemap_error *err)
{
    char *colon = strchr(tok, ':'), *end;
    if (!colon)
        return moemap_error_set(err, MOEMAP_EINVAL, "'%s' is not tokens:us", tok);
    *colon = '\0';
    *tokens = strtod(tok, &end);
    if (!*tok || *end || !(*tokens > 0) || *tokens > 1e12)
        return moemap_error_set(err, MOEMAP_EINVAL, "tokens: '%s' is not a number in "
                                "(0, 1e12]", tok);
    *us = strtod(colon + 1, &end);
    if (!colon[1] || *end || !(*us >= 0) || *us > 1e12)
        return moemap_error_set(err, MOEMAP_EINVAL, "us: '%s' is not a number in [0, 1e12]",
                                colon + 1);
    return 0;
}

int moemap_curve_parse(const char *text, moemap_curve *c, moemap_error *err)
{
    int cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    c->tokens = moemap_malloc((size_t)cap * sizeof *c->tokens);
    c->us = moemap_malloc((size_t)cap * sizeof *c->us);
    char *copy = moemap_malloc(strlen(text) + 1), *save = NULL;
    int n = 0, rc = 0;
    if (!c->tokens || !c->us || !copy)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    else
        strcpy(copy, text);
    for (char *tok = rc ? NULL : strtok_r(copy, ",", &save); tok && !rc;
         tok = strtok_r(NULL, ",", &save))
        if (!(rc = parse_pair(tok, &c->tokens[n], &c->us[n], err)))
            n++;
    moemap_free(copy);
    c->n = n;
    if (!rc && n == 0)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "no points");
    return rc;
}

/* The command line as the cluster's provenance ("source"). */
static int set_command(moemap_cluster *c, const char *command, moemap_error *err)
{
    const char *rest = strncmp(command, "moemap", 6) ? command : command + 6;
    json_t *o = json_pack("{s:s,s:s+}", "tool", "moemap cluster synth", "command",
                          "moemap cluster", rest);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    int rc = text ? moemap_cluster_set_source(c, text, err)
                  : moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    free(text);
    return rc;
}

int moemap_cluster_synth_files(moemap_synth_params *p, const moemap_variability_params *vp,
                               const char *base_path, const char *varfile, const char *command,
                               moemap_cluster **out, moemap_gpu_population **pop,
                               moemap_error *err)
{
    moemap_cluster *base = NULL;
    moemap_curve curve = {0};
    const moemap_curve *given = p->base;
    int rc = 0;
    *out = NULL;
    *pop = NULL;
    if (base_path && !(rc = moemap_cluster_read(base_path, &base, err)) &&
        (rc = moemap_synth_params_from_base(p, base, &curve, err)))
        moemap_error_prefix(err, "%s", base_path);
    moemap_synth_params_network_defaults(p);
    if (!rc && varfile)
        rc = moemap_gpu_population_read(varfile, vp, pop, err);
    p->population = *pop;
    if (!rc)
        rc = moemap_cluster_synth(p, out, err);
    if (!rc && command)
        rc = set_command(*out, command, err);
    p->base = given;
    moemap_curve_clear(&curve);
    moemap_cluster_free(base);
    return rc;
}

int moemap_cluster_merge_files(char *const *files, int n, int one_node, int slots,
                               moemap_cluster **out, moemap_error *err)
{
    moemap_cluster **parts = moemap_calloc((size_t)n, sizeof *parts);
    int rc = parts ? 0 : moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    *out = NULL;
    for (int i = 0; i < n && !rc; i++)
        rc = moemap_cluster_read(files[i], &parts[i], err);
    if (!rc) {
        rc = moemap_cluster_merge((const moemap_cluster *const *)parts, n, one_node, slots, out,
                                  err);
        if (rc == MOEMAP_EINVAL && strstr(err->msg, "merge: cluster "))
            moemap_error_prefix(err, "%s ... %s", files[0], files[n - 1]);
    }
    for (int i = 0; parts && i < n; i++)
        moemap_cluster_free(parts[i]);
    moemap_free(parts);
    return rc;
}
