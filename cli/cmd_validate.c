/*
 * cmd_validate.c — `moemap validate`: checks a placement file against its cluster (and,
 * with --loads, against the workload's MoE layers and expert count) and prints OK or
 * every problem found, one per line. Exit 0 when valid, 1 otherwise.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap validate --cluster C [--loads L] [--model NAME] [--slots N]\n"
            "                       [--engine E] P.json\n\n"
            "Checks a placement (moemap.placement/v1, or an SGLang or vLLM file, detected by\n"
            "content): every expert of every layer has a\n"
            "replica, an expert's shares sum to 1 (within 1e-6), no GPU holds more replicas of\n"
            "a layer than its slots or two replicas of one expert, ids are in range, and with\n"
            "--loads every MoE layer of the workload is placed, and with --model the layers\n"
            "are the model's MoE layers with its expert count, and with --engine every GPU\n"
            "fills the same number of slots and every expert's copies split its tokens\n"
            "evenly (what SGLang and vLLM run). Prints OK or each problem.\n\n"
            CLI_INPUT_HELP
            "  --json                  {file, ok, layers, replicas, gpus, problems: [...]}\n"
            "  -h, --help\n");
}

typedef struct printer {
    const char *file;
    int shown;
    json_t *problems;   /* --json: every problem, printed at the end */
} printer;

static void print_problem(void *ctx, const char *msg)
{
    printer *pr = ctx;
    if (pr->problems)
        json_array_append_new(pr->problems, json_string(msg));
    else if (pr->shown++ < 50)
        printf("%s: %s\n", pr->file, msg);
}

/* The verdict: a line, or with --json one object with every problem. */
static void print_verdict(printer *pr, const moemap_placement *p, int n)
{
    long reps = 0;
    for (int l = 0; l < p->num_layers; l++)
        reps += p->layers[l].num_replicas;
    if (pr->problems) {
        json_t *o = json_pack("{s:s,s:b,s:i,s:I,s:i,s:O}", "file", pr->file, "ok", n == 0,
                              "layers", p->num_layers, "replicas", (json_int_t)reps, "gpus", p->num_gpus,
                              "problems", pr->problems);
        char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else if (n == 0) {
        printf("%s: OK (%d layers, %ld replicas, %d GPUs)\n", pr->file, p->num_layers, reps,
               p->num_gpus);
    } else {
        if (pr->shown > 50)
            printf("%s: ... %d more not shown\n", pr->file, pr->shown - 50);
        printf("%s: %d problem%s\n", pr->file, n, n > 1 ? "s" : "");
    }
}

int cmd_validate(int argc, char **argv)
{
    const char *cmd = "validate";
    static const struct option opts[] = {
        CLI_INPUT_OPTIONS,
        {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_inputs in = cli_inputs_default();
    in.cmd = cmd;
    int c, as_json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:l:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'j': as_json = 1; break;
        default:
            if (cli_input_option(cmd, c, argv, &in))
                return 2;
        }
    }
    if (!in.cluster_path)
        return cli_usage_error(cmd, "--cluster is required");
    if (optind != argc - 1)
        return cli_usage_error(cmd, "expected exactly one placement file");
    const char *file = argv[optind];
    printer pr = {file, 0, as_json ? json_array() : NULL};
    moemap_error err = {0};
    moemap_cluster *cl = NULL;
    moemap_loads *ld = NULL;
    moemap_placement *p = NULL;
    int rc = 1;
    const moemap_model *model = in.model;
    if (cli_inputs_read(&in, &ld, &cl, NULL, &err) != 0)
        goto fail;
    if (cli_read_placement(&in, file, cl, ld, &p, &err) != 0)
        goto fail;
    int n = moemap_placement_check(p, cl, in.slots, print_problem, &pr);
    if (n < 0) {
        moemap_error_set(&err, n, "%s: out of memory", file);
        goto fail;
    }
    if (ld)
        n += moemap_placement_check_loads(p, ld, print_problem, &pr);
    if (in.engine != MOEMAP_ENGINE_NONE)
        n += moemap_placement_check_engine(p, cl, in.slots, in.engine, print_problem, &pr);
    if (model) {
        char msg[256];
        if (p->experts != model->experts) {
            snprintf(msg, sizeof msg, "placement has %d experts per layer but %s has %d",
                     p->experts, model->name, model->experts);
            print_problem(&pr, msg);
            n++;
        }
        for (int l = 0; l < p->num_layers; l++) {
            int id = p->layers[l].layer;
            if (id >= model->num_layers || !moemap_model_is_moe_layer(model, id)) {
                snprintf(msg, sizeof msg, "layer %d: not an MoE layer of %s (%d layers, the "
                         "first %d dense)", id, model->name, model->num_layers,
                         model->first_dense);
                print_problem(&pr, msg);
                n++;
            }
        }
    }
    print_verdict(&pr, p, n);
    rc = n == 0 ? 0 : 1;
    goto done;
fail:
    cli_fail(cmd, &err);
done:
    json_decref(pr.problems);
    moemap_placement_free(p);
    moemap_loads_free(ld);
    moemap_cluster_free(cl);
    return rc;
}
