/*
 * cmd_eval.c — `moemap eval`: the predicted cost of one or more placements on the same
 * workload and cluster, side by side: mean / p90 / p99 of the model's straggler time over
 * the batches, the lower bound and the gap to it, max/mean GPU time, replicas, and experts
 * moved relative to a previous placement. A table, or --json for machines. Parsing and
 * printing only: the work is moemap_eval_placement (src/eval).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap eval --loads L --cluster C [options] P1.json [P2.json ...]\n\n"
            "Evaluates placements under the cost model on every batch of the loads: a batch's\n"
            "time is the sum over MoE layers of the slowest GPU's time (the straggler). Shows\n"
            "mean, p90 and p99 over batches, the mean lower bound no placement can beat, the\n"
            "gap to it, the bound for one fixed placement serving every batch (fixed) and\n"
            "the gap to it (fgap%%), the mean max/mean GPU time, replicas and experts moved.\n"
            "Placements may be moemap files or what SGLang (physical_to_logical_map; --model\n"
            "maps its rows to layers, else the loads' layers are taken) and vLLM (phy2log)\n"
            "load, scored under the engine's dispatch (copies split an expert's tokens\n"
            "evenly). With --engine, the engine-rules bound is shown too.\n\n"
            CLI_INPUT_HELP
            "  --previous OLD.json     count experts moved relative to this placement\n"
            "  --layers                also print one row per layer\n"
            "  --json                  machine-readable output (moemap.eval/v1)\n"
            "  -h, --help\n");
}

static void print_problem(void *ctx, const char *msg)
{
    fprintf(stderr, "moemap eval: %s: %s\n", (const char *)ctx, msg);
}

/* Reads, checks and evaluates one placement file. */
static int eval_one(const cli_inputs *in, const char *f, const moemap_cluster *cl,
                    const moemap_loads *ld, const moemap_eval_params *ep,
                    moemap_eval_summary **out, moemap_error *err)
{
    moemap_placement *p;
    if (cli_read_placement(in, f, cl, ld, &p, err) != 0)
        return err->code;
    int bad = moemap_placement_check(p, cl, ep->slots, print_problem, (void *)f);
    int rc = bad < 0 ? moemap_error_set(err, bad, "%s: out of memory", f)
             : bad   ? moemap_error_set(err, MOEMAP_EINVAL, "%s: %d problem%s (see above); "
                                        "run moemap validate", f, bad, bad > 1 ? "s" : "")
                     : moemap_eval_placement(ld, cl, p, ep, out, err);
    if (rc && bad == 0)
        moemap_error_prefix(err, "%s", f);
    moemap_placement_free(p);
    return rc;
}

/* The side-by-side table, and with --layers one table per placement and layer. */
static void print_table(const moemap_loads *ld, const moemap_cluster *cl, const cli_inputs *in,
                        const moemap_eval_params *ep, char **files,
                        moemap_eval_summary **sums, int np, int per_layer)
{
    printf("%d batches, %d GPUs; times in us per batch (sum over MoE layers of the "
           "straggler)", ld->num_batches, cl->num_gpus);
    if (in->op_text[0])
        printf(" at %s tokens per iteration", in->op_text);
    if (ep->engine_slots > 0)
        printf("; %s-rules bound %.1f", moemap_engine_name(in->engine),
               sums[0]->engine_bound_mean_us);
    printf("\n");
    int a2a = !ep->a2a.off;
    if (a2a)
        printf("mean .. max/mean: expert compute; layer: the whole layer with dispatch and "
               "combine (%s rows), a2a: their part\n", moemap_dispatch_name(ep->a2a.dispatch));
    printf("%-24s %-14s %10s %10s %10s %10s %7s %10s %7s %8s %8s %6s", "placement",
           "strategy", "mean", "p90", "p99", "bound", "gap%", "fixed", "fgap%", "max/mean",
           "replicas", "moved");
    printf(a2a ? " %10s %8s\n" : "\n", "layer", "a2a");
    for (int i = 0; i < np; i++) {
        const moemap_eval_summary *s = sums[i];
        const char *base = strrchr(files[i], '/');
        char moved[24] = "-";
        if (s->moved >= 0)
            snprintf(moved, sizeof moved, "%ld", s->moved);
        printf("%-24.24s %-14.14s %10.1f %10.1f %10.1f %10.1f %7.2f %10.1f %7.2f %8.3f %8ld "
               "%6s", base ? base + 1 : files[i], s->strategy, s->mean_us, s->p90_us,
               s->p99_us, s->bound_mean_us, 100 * s->gap, s->fixed_bound_mean_us,
               100 * s->fixed_gap, s->imbalance, s->replicas, moved);
        if (a2a)
            printf(" %10.1f %8.1f", s->layer_mean_us, s->a2a_mean_us);
        printf("\n");
    }
    for (int i = 0; per_layer && i < np; i++) {
        const moemap_eval_summary *s = sums[i];
        printf("\n%s (%s), per layer:\n", files[i], s->strategy);
        printf("%6s %10s %10s %10s %10s %7s %10s %7s %8s %8s\n", "layer", "mean", "p90",
               "p99", "bound", "gap%", "fixed", "fgap%", "max/mean", "replicas");
        for (int l = 0; l < s->num_layers; l++) {
            const moemap_eval_layer *el = &s->layers[l];
            printf("%6d %10.1f %10.1f %10.1f %10.1f %7.2f %10.1f %7.2f %8.3f %8d\n",
                   el->layer, el->mean_us, el->p90_us, el->p99_us, el->bound_mean_us,
                   100 * el->gap, el->fixed_bound_mean_us, 100 * el->fixed_gap,
                   el->imbalance, el->replicas);
        }
    }
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    enum { O_JSON = 256, O_LAYERS };
    static const struct option opts[] = {
        CLI_INPUT_OPTIONS,
        CLI_PREVIOUS_OPTION,
        {"json", no_argument, 0, O_JSON},
        {"layers", no_argument, 0, O_LAYERS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_inputs in = cli_inputs_default();
    in.cmd = cmd;
    int as_json = 0, per_layer = 0;
    moemap_eval_params ep = moemap_eval_default_params();
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:c:m:h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON: as_json = 1; break;
        case O_LAYERS: per_layer = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            if (cli_input_option(cmd, c, argv, &in))
                return 2;
        }
    }
    if (!in.loads_path || !in.cluster_path)
        return cli_usage_error(cmd, "--loads and --cluster are required");
    if (optind >= argc)
        return cli_usage_error(cmd, "no placement files given");
    int np = argc - optind;
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_cluster *cl = NULL;
    moemap_placement *prev = NULL;
    moemap_eval_summary **sums = calloc((size_t)np, sizeof *sums);
    int rc = 1;
    if (!sums) {
        moemap_error_set(&err, MOEMAP_ENOMEM, "out of memory");
        goto out;
    }
    if (cli_inputs_read(&in, &ld, &cl, &prev, &err) != 0)
        goto out;
    ep.slots = in.slots;
    ep.a2a = in.a2a;
    ep.previous = prev;
    if (in.engine != MOEMAP_ENGINE_NONE)
        ep.engine_slots = in.slots > 0 ? in.slots : cl->gpus[0].slots;
    for (int i = 0; i < np; i++) {
        cli_progress("eval", i, np);
        if (eval_one(&in, argv[optind + i], cl, ld, &ep, &sums[i], &err) != 0) {
            cli_progress_done();
            goto out;
        }
    }
    cli_progress_done();
    if (as_json) {
        moemap_eval_file ef = {ld->num_batches, np, argv + optind, sums};
        if (moemap_eval_write("-", &ef, &err) != 0)
            goto out;
    } else {
        print_table(ld, cl, &in, &ep, argv + optind, sums, np, per_layer);
    }
    rc = 0;
out:
    if (rc)
        cli_fail(cmd, &err);
    for (int i = 0; sums && i < np; i++)
        moemap_eval_summary_free(sums[i]);
    free(sums);
    moemap_placement_free(prev);
    moemap_cluster_free(cl);
    moemap_loads_free(ld);
    return rc;
}
