/*
 * cmd_gen.c — `moemap gen`: writes a synthetic workload (moemap.loads/v1) from the
 * library's generator. The knobs map one-to-one onto moemap_gen_params; docs/workload.md
 * explains what each does to the loads.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap gen [--model NAME] [options] [--out FILE]\n\n"
    "Generates per-batch expert token counts (moemap.loads/v1); deterministic for a\n"
    "seed. See docs/workload.md.\n\n"
    "shape:\n";

int cmd_gen(int argc, char **argv)
{
    moemap_gen_params p = moemap_gen_default_params();
    const moemap_model *model = NULL;
    const char *out = "-";
    int as_json = 0;
    const cli_flag flags[] = {
        {"model", 'm', CLI_FN, &model, 0, 0, "NAME",
         "take layers, dense layers, experts and top-k from a preset\n(moemap models), and "
         "scale --consistent and the temporal\ngroups to its expert count; default "
         "DeepSeek-V3's shape", cli_input_model},
        {"layers", 0, CLI_INT, &p.num_layers, 1, 100000, "N", "model layers (default {})", NULL},
        {"first-dense", 0, CLI_INT, &p.first_dense, 0, 100000, "N",
         "leading dense layers, which get no entry (default {})", NULL},
        {"experts", 0, CLI_INT, &p.experts, 1, 32767, "N",
         "routed experts per MoE layer (default {})", NULL},
        {"top-k", 0, CLI_INT, &p.top_k, 1, 32767, "K", "experts per token (default {})", NULL},
        {"batches", 'n', CLI_INT, &p.batches, 1, 10000000, "N",
         "batches (engine iterations) (default {})", NULL},
        {"batch-tokens", 'b', CLI_LONG, &p.batch_tokens, 1, 1000000000L, "N",
         "tokens per batch (default {})", NULL},
        {"seed", 's', CLI_SEED, &p.seed, 0, 0, "N", "random seed (default {})", NULL},
        CLI_HELP("popularity:\n"),
        {"zipf", 0, CLI_DOUBLE, &p.zipf, 0, 10, "S",
         "popularity of rank r is 1/r^S under a per-layer\npermutation; 0 = uniform "
         "(default {})", NULL},
        {"consistent", 0, CLI_INT, &p.consistent, 0, 32767, "N",
         "experts per layer that get tokens in almost every batch\n(default {})", NULL},
        {"consistent-boost", 0, CLI_DOUBLE, &p.consistent_boost, 0, 1000, "X",
         "their popularity is at least X x the mean (default {})", NULL},
        {"temporal-groups", 0, CLI_INT, &p.temporal_groups, 0, 32767, "N",
         "groups of bursty experts per layer (default {})", NULL},
        {"temporal-size", 0, CLI_INT, &p.temporal_size, 0, 32767, "N",
         "experts per group; a group bursts together, in every\nlayer at once (default {})",
         NULL},
        {"burst-prob", 0, CLI_DOUBLE, &p.burst_prob, 0, 1, "P",
         "chance per batch that an idle group starts a burst\n(default {})", NULL},
        {"burst-len", 0, CLI_INT, &p.burst_len, 1, 1000000, "N",
         "mean burst length in batches, geometric (default {})", NULL},
        {"burst-boost", 0, CLI_DOUBLE, &p.burst_boost, 0, 1000, "X",
         "popularity of a bursting expert, x the mean (default {});\nidle temporal experts "
         "get no tokens", NULL},
        {"noise", 0, CLI_DOUBLE, &p.noise, 0, 5, "SIGMA",
         "log-normal batch-to-batch noise on popularity (default {})", NULL},
        {"drift-at", 0, CLI_INT, &p.drift_at, 0, 10000000, "B",
         "task switch at batch B: new permutation, new consistent\nand temporal sets "
         "(default: none)", NULL},
        CLI_HELP("output:\n"),
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE", "output file (default '-', stdout)", NULL},
        {"json", 0, CLI_SET, &as_json, 0, 0, NULL,
         "what was written, as JSON on stdout (needs --out FILE)", NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"gen", usage, flags, NULL, 26};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0 && model) {
        /* The shape flags given win over the model's, whatever their order. */
        moemap_gen_params_from_model(&p, model);
        rc = cli_parse(&spec, argc, argv);
    }
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
    if (as_json && !strcmp(out, "-"))
        return cli_usage_error("gen", "--json needs --out FILE (the workload is stdout)");
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    if (moemap_gen(&p, &ld, &err)) {
        /* The library's message starts with "gen: "; the CLI prefix says that already. */
        const char *msg = strncmp(err.msg, "gen: ", 5) ? err.msg : err.msg + 5;
        return err.code == MOEMAP_EINVAL ? cli_usage_error("gen", "%s", msg)
                                         : cli_fail("gen", &err);
    }
    char what[48];
    snprintf(what, sizeof what, " of %ld tokens", p.batch_tokens);
    rc = moemap_loads_write(ld, out, &err)
             ? cli_fail("gen", &err)
             : cli_put("gen", moemap_text_loads_written(out, ld, what, as_json),
                       as_json ? stdout : stderr);
    moemap_loads_free(ld);
    return rc;
}
