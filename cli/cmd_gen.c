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

int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"layers", required_argument, NULL, O_LAYERS},
        {"first-dense", required_argument, NULL, O_FIRST_DENSE},
        {"experts", required_argument, NULL, O_EXPERTS},
        {"top-k", required_argument, NULL, O_TOPK},
        {"batches", required_argument, NULL, 'n'},
        {"batch-tokens", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 's'},
        {"zipf", required_argument, NULL, O_ZIPF},
        {"consistent", required_argument, NULL, O_CONS},
        {"consistent-boost", required_argument, NULL, O_CONS_BOOST},
        {"temporal-groups", required_argument, NULL, O_TGROUPS},
        {"temporal-size", required_argument, NULL, O_TSIZE},
        {"burst-prob", required_argument, NULL, O_BPROB},
        {"burst-len", required_argument, NULL, O_BLEN},
        {"burst-boost", required_argument, NULL, O_BBOOST},
        {"noise", required_argument, NULL, O_NOISE},
        {"drift-at", required_argument, NULL, O_DRIFT},
        {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    moemap_gen_params p = moemap_gen_default_params();
    /* Shape flags given explicitly win over --model, whatever their order. */
    long layers = -1, first_dense = -1, experts = -1, top_k = -1, v;
    long consistent = -1, tgroups = -1, tsize = -1;
    const char *out = "-", *model = NULL;
    int c, as_json = 0;
    optind = 1;
#define LONG_FLAG(flag, lo, hi, dst)                                   \
    do {                                                               \
        if (cli_parse_long("gen", flag, optarg, lo, hi, &v))           \
            return 2;                                                  \
        dst = v;                                                       \
    } while (0)
#define DBL_FLAG(flag, lo, hi, dst)                                    \
    do {                                                               \
        if (cli_parse_double("gen", flag, optarg, lo, hi, &dst))       \
            return 2;                                                  \
    } while (0)
    while ((c = getopt_long(argc, argv, "m:n:b:s:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case O_LAYERS: LONG_FLAG("--layers", 1, 100000, layers); break;
        case O_FIRST_DENSE: LONG_FLAG("--first-dense", 0, 100000, first_dense); break;
        case O_EXPERTS: LONG_FLAG("--experts", 1, 32767, experts); break;
        case O_TOPK: LONG_FLAG("--top-k", 1, 32767, top_k); break;
        case 'n': LONG_FLAG("--batches", 1, 10000000, p.batches); break;
        case 'b': LONG_FLAG("--batch-tokens", 1, 1000000000L, p.batch_tokens); break;
        case 's': LONG_FLAG("--seed", 0, 0x7fffffffffffffffL, p.seed); break;
        case O_ZIPF: DBL_FLAG("--zipf", 0, 10, p.zipf); break;
        case O_CONS: LONG_FLAG("--consistent", 0, 32767, consistent); break;
        case O_CONS_BOOST: DBL_FLAG("--consistent-boost", 0, 1000, p.consistent_boost); break;
        case O_TGROUPS: LONG_FLAG("--temporal-groups", 0, 32767, tgroups); break;
        case O_TSIZE: LONG_FLAG("--temporal-size", 0, 32767, tsize); break;
        case O_BPROB: DBL_FLAG("--burst-prob", 0, 1, p.burst_prob); break;
        case O_BLEN: LONG_FLAG("--burst-len", 1, 1000000, p.burst_len); break;
        case O_BBOOST: DBL_FLAG("--burst-boost", 0, 1000, p.burst_boost); break;
        case O_NOISE: DBL_FLAG("--noise", 0, 5, p.noise); break;
        case O_DRIFT: LONG_FLAG("--drift-at", 0, 10000000, p.drift_at); break;
        case 'o': out = optarg; break;
        case O_JSON: as_json = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_usage_error("gen", "unknown option");
        }
    }
#undef LONG_FLAG
#undef DBL_FLAG
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
    if (layers >= 0)
        p.num_layers = (int)layers;
    if (first_dense >= 0)
        p.first_dense = (int)first_dense;
    if (experts >= 0)
        p.experts = (int)experts;
    if (top_k >= 0)
        p.top_k = (int)top_k;
    if (consistent >= 0)
        p.consistent = (int)consistent;
    if (tgroups >= 0)
        p.temporal_groups = (int)tgroups;
    if (tsize >= 0)
        p.temporal_size = (int)tsize;
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
