/*
 * cmd_stats.c — `moemap stats INPUT`: the workload profile of any workload input, as a
 * table for people or JSON (--json) for machines, optionally with the per-layer cosine
 * distance to a second workload (--compare) to show how far the load drifted.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    moemap_stats_params d = moemap_stats_default_params();
    fprintf(f,
            "usage: moemap stats (INPUT | --loads INPUT) [--batch-tokens N] [--json]\n"
            "                    [--compare OTHER]\n"
            "                    [--consistent-threshold X] [--temporal-max-active X]\n"
            "                    [--temporal-min-ratio X] [--temporal-min-contrast X]\n"
            "                    [--format F] [--experts E] [--top-k K]\n\n"
            "Profiles a workload per MoE layer: tokens, load share, skew (busiest/mean, CV,\n"
            "Gini), consistent and temporal experts, co-activated pairs and hot clusters.\n"
            "  INPUT, -l, --loads INPUT  ESFT trace folder or layer file, SGLang JSON,\n"
            "                          moemap.loads/v1 or CSV (detected by content)\n"
            "  -b, --batch-tokens N    consecutive tokens per batch for traces (default 512)\n"
            "  --json                  JSON output (per layer: layer, tokens, max_over_mean, cv,\n"
            "                          gini, consistent, temporal, coactive_pairs, clusters,\n"
            "                          load_share; cosine_distance with --compare)\n"
            "  --compare OTHER         per-layer cosine distance of the expert-load vectors\n"
            "                          between INPUT and OTHER (read the same way)\n"
            "  --consistent-threshold X  consistent: gets tokens in >= X of the batches (%g)\n"
            "  --temporal-min-ratio X  hot in a batch: >= X x the batch's mean load per expert\n"
            "                          (%g)\n"
            "  --temporal-max-active X temporal: hot in at least one batch, at most X of them\n"
            "                          (%g)\n"
"  --temporal-min-contrast X  temporal: its load when hot is >= X x its load in the\n"
            "                          other batches (%g)\n"
            "  --pairs N               co-activated pairs shown per layer (%d)\n"
            "  --cluster-corr X        correlation that links hot experts into a cluster (%g)\n"
            "  -f, --format F          esft, sglang, loads or csv (default: detect)\n"
            "  --experts E, --top-k K  shape of traces / aggregate inputs (see moemap convert)\n"
            "  -h, --help\n",
            d.consistent_threshold, d.temporal_min_ratio, d.temporal_max_active,
            d.temporal_min_contrast, d.max_pairs,
            d.cluster_min_corr);
}

/* "3,17,40" cut to fit `width` characters ("3,17,+5"), "-" when empty. */
static void id_list(char *dst, size_t width, const int *v, int n)
{
    size_t k = 0;
    dst[0] = '\0';
    if (n == 0) {
        snprintf(dst, width + 1, "-");
        return;
    }
    for (int i = 0; i < n; i++) {
        char item[24];
        int len = snprintf(item, sizeof item, "%s%d", i ? "," : "", v[i]);
        char more[24];
        int mlen = snprintf(more, sizeof more, ",+%d", n - i);
        if (k + (size_t)len + (i + 1 < n ? (size_t)mlen : 0) > width) {
            snprintf(dst + k, width + 1 - k, "%s", i ? more : more + 1);
            return;
        }
        memcpy(dst + k, item, (size_t)len + 1);
        k += (size_t)len;
    }
}

static void print_table(const char *input, const moemap_loads *ld,
                        const moemap_workload_stats *st, const double *dist, const char *other)
{
    double tokens = 0;
    for (int b = 0; b < ld->num_batches; b++)
        tokens += ld->batch_tokens[b];
    printf("%s: %d MoE layers x %d experts, %d batches, %.0f tokens", input, ld->num_layers,
           ld->experts, ld->num_batches, tokens);
    if (ld->top_k > 0)
        printf(", top-%d", ld->top_k);
    printf("\n\n%5s %9s %8s %6s %6s %5s %5s  %-22s %-17s %s\n", "layer", "tokens", "max/mean",
           "cv", "gini", "cons", "temp", "temporal experts", "top pair (corr)", "hot clusters");
    for (int l = 0; l < st->num_layers; l++) {
        const moemap_layer_stats *s = &st->layers[l];
        char temporal[24], pair[32] = "-", clusters[64] = "-";
        id_list(temporal, 22, s->temporal, s->num_temporal);
        if (s->num_pairs > 0)
            snprintf(pair, sizeof pair, "%d+%d (%.2f)", s->pairs[0].a, s->pairs[0].b,
                     s->pairs[0].corr);
        if (s->num_clusters > 0) {
            int biggest = 0;
            for (int c = 1; c < s->num_clusters; c++)
                if (s->cluster_start[c + 1] - s->cluster_start[c] >
                    s->cluster_start[biggest + 1] - s->cluster_start[biggest])
                    biggest = c;
            char ids[40];
            id_list(ids, 30, s->cluster_experts + s->cluster_start[biggest],
                    s->cluster_start[biggest + 1] - s->cluster_start[biggest]);
            snprintf(clusters, sizeof clusters, "%d, largest {%s}", s->num_clusters, ids);
        }
        printf("%5d %9.0f %8.2f %6.3f %6.3f %5d %5d  %-22s %-17s %s\n", s->layer, s->tokens,
               s->max_over_mean, s->cv, s->gini, s->num_consistent, s->num_temporal, temporal,
               pair, clusters);
    }
    if (dist) {
        double sum = 0, mx = 0;
        printf("\ncosine distance of expert loads vs %s:\n%5s %10s\n", other, "layer",
               "distance");
        for (int l = 0; l < st->num_layers; l++) {
            printf("%5d %10.4f\n", st->layers[l].layer, dist[l]);
            sum += dist[l];
            if (dist[l] > mx)
                mx = dist[l];
        }
        printf("mean %.4f, max %.4f over %d layers\n", sum / st->num_layers, mx,
               st->num_layers);
    }
}

enum {
    O_JSON = 256, O_COMPARE, O_CONS, O_TMAX, O_TRATIO, O_TCONTRAST, O_PAIRS, O_CCORR,
    O_EXPERTS, O_TOPK
};

static const struct option opts[] = {
    {"batch-tokens", required_argument, NULL, 'b'}, {"json", no_argument, NULL, O_JSON},
    {"loads", required_argument, NULL, 'l'},
    {"compare", required_argument, NULL, O_COMPARE},
    {"consistent-threshold", required_argument, NULL, O_CONS},
    {"temporal-max-active", required_argument, NULL, O_TMAX},
    {"temporal-min-ratio", required_argument, NULL, O_TRATIO},
    {"temporal-min-contrast", required_argument, NULL, O_TCONTRAST},
    {"pairs", required_argument, NULL, O_PAIRS},
    {"cluster-corr", required_argument, NULL, O_CCORR},
    {"format", required_argument, NULL, 'f'}, {"experts", required_argument, NULL, O_EXPERTS},
    {"top-k", required_argument, NULL, O_TOPK}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* A flag's value into an int within [lo, hi]; 0, or 2 after a usage error. */
static int int_flag(const char *flag, long lo, long hi, int *out)
{
    long v;
    if (cli_parse_long("stats", flag, optarg, lo, hi, &v))
        return 2;
    *out = (int)v;
    return 0;
}

/* One option; 0, or 2 after a usage error. */
static int stats_option(int c, moemap_read_params *rp, moemap_stats_params *sp)
{
    switch (c) {
    case 'b': return cli_parse_batch_tokens("stats", optarg, rp);
    case 'f': return cli_parse_workload_format("stats", optarg, rp);
    case O_CONS:
        return cli_parse_double("stats", "--consistent-threshold", optarg, 0, 1,
                                &sp->consistent_threshold);
    case O_TMAX:
        return cli_parse_double("stats", "--temporal-max-active", optarg, 0, 1,
                                &sp->temporal_max_active);
    case O_TRATIO:
        return cli_parse_double("stats", "--temporal-min-ratio", optarg, 1e-9, 1e6,
                                &sp->temporal_min_ratio);
    case O_TCONTRAST:
        return cli_parse_double("stats", "--temporal-min-contrast", optarg, 0, 1e6,
                                &sp->temporal_min_contrast);
    case O_PAIRS: return int_flag("--pairs", 0, 100000, &sp->max_pairs);
    case O_CCORR:
        return cli_parse_double("stats", "--cluster-corr", optarg, -1, 1, &sp->cluster_min_corr);
    case O_EXPERTS: return int_flag("--experts", 1, 32767, &rp->experts);
    case O_TOPK: return int_flag("--top-k", 1, 32767, &rp->top_k);
    default: return cli_usage_error("stats", "unknown option");
    }
}

/* Reads, profiles (and compares) and prints. */
static int profile(const char *input, const char *compare, int json,
                   const moemap_read_params *rp, const moemap_stats_params *sp,
                   moemap_error *err)
{
    moemap_loads *ld = NULL, *other = NULL;
    moemap_workload_stats *st = NULL;
    int rc = moemap_workload_read(input, rp, &ld, NULL, err);
    if (!rc && compare)
        rc = moemap_workload_read(compare, rp, &other, NULL, err);
    if (!rc)
        rc = moemap_workload_stats_compute(ld, sp, &st, err);
    if (!rc && compare && (rc = moemap_workload_stats_compare(st, ld, other, err)))
        moemap_error_prefix(err, "--compare %s", compare);
    if (!rc && json)
        rc = moemap_workload_stats_write("-", st, input, compare, err);
    else if (!rc)
        print_table(input, ld, st, st->cosine_distance, compare);
    moemap_workload_stats_free(st);
    moemap_loads_free(ld);
    moemap_loads_free(other);
    return rc;
}

int cmd_stats(int argc, char **argv)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_stats_params sp = moemap_stats_default_params();
    const char *compare = NULL, *input = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:b:f:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'l')
            input = optarg;
        else if (c == O_JSON)
            json = 1;
        else if (c == O_COMPARE)
            compare = optarg;
        else if (stats_option(c, &rp, &sp))
            return 2;
    }
    if (!input && optind < argc)
        input = argv[optind++];
    if (!input)
        return cli_usage_error("stats", "missing INPUT");
    if (optind < argc)
        return cli_usage_error("stats", "unexpected argument '%s'", argv[optind]);
    moemap_error err = {0};
    return profile(input, compare, json, &rp, &sp, &err) ? cli_fail("stats", &err) : 0;
}
