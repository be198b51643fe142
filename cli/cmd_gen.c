/*
 * cmd_gen.c — `moemap gen`: writes a synthetic workload (moemap.loads/v1) from the
 * library's generator. The knobs map one-to-one onto moemap_gen_params; docs/workload.md
 * explains what each does to the loads.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    moemap_gen_params d = moemap_gen_default_params();
    fprintf(f,
            "usage: moemap gen [--model NAME] [options] [--out FILE]\n\n"
            "Generates per-batch expert token counts (moemap.loads/v1); deterministic for a\n"
            "seed. See docs/workload.md.\n\n"
            "shape:\n"
            "  -m, --model NAME        take layers, dense layers, experts and top-k from a preset\n"
            "                          (moemap models), and scale --consistent and the temporal\n"
            "                          groups to its expert count; default DeepSeek-V3's shape\n"
            "  --layers N              model layers (default %d)\n"
            "  --first-dense N         leading dense layers, which get no entry (default %d)\n"
            "  --experts N             routed experts per MoE layer (default %d)\n"
            "  --top-k K               experts per token (default %d)\n"
            "  -n, --batches N         batches (engine iterations) (default %d)\n"
            "  -b, --batch-tokens N    tokens per batch (default %ld)\n"
            "  -s, --seed N            random seed (default %llu)\n"
            "popularity:\n"
            "  --zipf S                popularity of rank r is 1/r^S under a per-layer\n"
            "                          permutation; 0 = uniform (default %g)\n"
            "  --consistent N          experts per layer that get tokens in almost every batch\n"
            "                          (default %d)\n"
            "  --consistent-boost X    their popularity is at least X x the mean (default %g)\n"
            "  --temporal-groups N     groups of bursty experts per layer (default %d)\n"
            "  --temporal-size N       experts per group; a group bursts together, in every\n"
            "                          layer at once (default %d)\n"
            "  --burst-prob P          chance per batch that an idle group starts a burst\n"
            "                          (default %g)\n"
            "  --burst-len N           mean burst length in batches, geometric (default %d)\n"
            "  --burst-boost X         popularity of a bursting expert, x the mean (default %g);\n"
            "                          idle temporal experts get no tokens\n"
            "  --noise SIGMA           log-normal batch-to-batch noise on popularity (default %g)\n"
            "  --drift-at B            task switch at batch B: new permutation, new consistent\n"
            "                          and temporal sets (default: none)\n"
            "output:\n"
            "  -o, --out FILE          output file (default '-', stdout)\n"
            "  --json                  what was written, as JSON on stdout (needs --out FILE)\n"
            "  -h, --help\n",
            d.num_layers, d.first_dense, d.experts, d.top_k, d.batches, d.batch_tokens,
            (unsigned long long)d.seed, d.zipf, d.consistent, d.consistent_boost,
            d.temporal_groups, d.temporal_size, d.burst_prob, d.burst_len, d.burst_boost,
            d.noise);
}

enum {
    O_LAYERS = 256, O_FIRST_DENSE, O_EXPERTS, O_TOPK, O_ZIPF, O_CONS, O_CONS_BOOST, O_TGROUPS,
    O_TSIZE, O_BPROB, O_BLEN, O_BBOOST, O_NOISE, O_DRIFT, O_JSON
};

static const struct option opts[] = {
    {"model", required_argument, NULL, 'm'}, {"layers", required_argument, NULL, O_LAYERS},
    {"first-dense", required_argument, NULL, O_FIRST_DENSE},
    {"experts", required_argument, NULL, O_EXPERTS}, {"top-k", required_argument, NULL, O_TOPK},
    {"batches", required_argument, NULL, 'n'}, {"batch-tokens", required_argument, NULL, 'b'},
    {"seed", required_argument, NULL, 's'}, {"zipf", required_argument, NULL, O_ZIPF},
    {"consistent", required_argument, NULL, O_CONS},
    {"consistent-boost", required_argument, NULL, O_CONS_BOOST},
    {"temporal-groups", required_argument, NULL, O_TGROUPS},
    {"temporal-size", required_argument, NULL, O_TSIZE},
    {"burst-prob", required_argument, NULL, O_BPROB}, {"burst-len", required_argument, NULL, O_BLEN},
    {"burst-boost", required_argument, NULL, O_BBOOST}, {"noise", required_argument, NULL, O_NOISE},
    {"drift-at", required_argument, NULL, O_DRIFT}, {"out", required_argument, NULL, 'o'},
    {"json", no_argument, NULL, O_JSON}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

/* The shape flags, kept apart so that given explicitly they win over --model whatever
 * their order (-1: not given). */
typedef struct gen_shape {
    long layers, first_dense, experts, top_k, consistent, tgroups, tsize;
} gen_shape;

static int int_flag(const char *flag, long lo, long hi, int *out)
{
    long v;
    if (cli_parse_long("gen", flag, optarg, lo, hi, &v))
        return 2;
    *out = (int)v;
    return 0;
}

/* One option into the parameters or the shape; 0, or 2 after a usage error. */
static int gen_option(int c, moemap_gen_params *p, gen_shape *sh)
{
    long v;
    switch (c) {
    case O_LAYERS: return cli_parse_long("gen", "--layers", optarg, 1, 100000, &sh->layers);
    case O_FIRST_DENSE:
        return cli_parse_long("gen", "--first-dense", optarg, 0, 100000, &sh->first_dense);
    case O_EXPERTS: return cli_parse_long("gen", "--experts", optarg, 1, 32767, &sh->experts);
    case O_TOPK: return cli_parse_long("gen", "--top-k", optarg, 1, 32767, &sh->top_k);
    case O_CONS: return cli_parse_long("gen", "--consistent", optarg, 0, 32767, &sh->consistent);
    case O_TGROUPS:
        return cli_parse_long("gen", "--temporal-groups", optarg, 0, 32767, &sh->tgroups);
    case O_TSIZE: return cli_parse_long("gen", "--temporal-size", optarg, 0, 32767, &sh->tsize);
    case 'n': return int_flag("--batches", 1, 10000000, &p->batches);
    case 'b': return cli_parse_long("gen", "--batch-tokens", optarg, 1, 1000000000L,
                                    &p->batch_tokens);
    case 's':
        if (cli_parse_long("gen", "--seed", optarg, 0, 0x7fffffffffffffffL, &v))
            return 2;
        p->seed = (uint64_t)v;
        return 0;
    case O_ZIPF: return cli_parse_double("gen", "--zipf", optarg, 0, 10, &p->zipf);
    case O_CONS_BOOST:
        return cli_parse_double("gen", "--consistent-boost", optarg, 0, 1000,
                                &p->consistent_boost);
    case O_BPROB: return cli_parse_double("gen", "--burst-prob", optarg, 0, 1, &p->burst_prob);
    case O_BLEN: return int_flag("--burst-len", 1, 1000000, &p->burst_len);
    case O_BBOOST:
        return cli_parse_double("gen", "--burst-boost", optarg, 0, 1000, &p->burst_boost);
    case O_NOISE: return cli_parse_double("gen", "--noise", optarg, 0, 5, &p->noise);
    case O_DRIFT: return int_flag("--drift-at", 0, 10000000, &p->drift_at);
    default: return cli_usage_error("gen", "unknown option");
    }
}

/* The shape flags given, over the model's or the defaults. */
static void apply_shape(moemap_gen_params *p, const gen_shape *sh)
{
    p->num_layers = sh->layers >= 0 ? (int)sh->layers : p->num_layers;
    p->first_dense = sh->first_dense >= 0 ? (int)sh->first_dense : p->first_dense;
    p->experts = sh->experts >= 0 ? (int)sh->experts : p->experts;
    p->top_k = sh->top_k >= 0 ? (int)sh->top_k : p->top_k;
    p->consistent = sh->consistent >= 0 ? (int)sh->consistent : p->consistent;
    p->temporal_groups = sh->tgroups >= 0 ? (int)sh->tgroups : p->temporal_groups;
    p->temporal_size = sh->tsize >= 0 ? (int)sh->tsize : p->temporal_size;
}

int cmd_gen(int argc, char **argv)
{
    moemap_gen_params p = moemap_gen_default_params();
    gen_shape sh = {-1, -1, -1, -1, -1, -1, -1};
    const char *out = "-", *model = NULL;
    int c, as_json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:n:b:s:o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'm')
            model = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == O_JSON)
            as_json = 1;
        else if (gen_option(c, &p, &sh))
            return 2;
    }
    if (optind < argc)
        return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
    if (as_json && !strcmp(out, "-"))
        return cli_usage_error("gen", "--json needs --out FILE (the workload is stdout)");
    moemap_error err = {0};
    if (model) {
        const moemap_model *m = moemap_model_find(model, &err);
        if (!m)
            return cli_usage_error("gen", "--model: %s", err.msg);
        moemap_gen_params_from_model(&p, m);
    }
    apply_shape(&p, &sh);
    moemap_loads *ld = NULL;
    if (moemap_gen(&p, &ld, &err)) {
        /* The library's message starts with "gen: "; the CLI prefix says that already. */
        const char *msg = strncmp(err.msg, "gen: ", 5) ? err.msg : err.msg + 5;
        return err.code == MOEMAP_EINVAL ? cli_usage_error("gen", "%s", msg)
                                         : cli_fail("gen", &err);
    }
    int rc = moemap_loads_write(ld, out, &err);
    char what[48];
    snprintf(what, sizeof what, " of %ld tokens", p.batch_tokens);
    if (!rc)
        cli_loads_written(out, ld, what, as_json);
    moemap_loads_free(ld);
    return rc ? cli_fail("gen", &err) : 0;
}
