/*
 * cmd_validate.c — `moemap validate`: checks a placement file against its cluster (and,
 * with --loads, against the workload's MoE layers and expert count) and prints OK or
 * every problem found, one per line. Exit 0 when valid, 1 otherwise.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap validate --cluster C [--loads L] [--model NAME] [--slots N]\n"
    "                       [--engine E] P.json\n\n"
    "Checks a placement (moemap.placement/v1, or an SGLang or vLLM file, detected by\n"
    "content): every expert of every layer has a\n"
    "replica, an expert's shares sum to 1 (within 1e-6), no GPU holds more replicas of\n"
    "a layer than its slots or two replicas of one expert, ids are in range, and with\n"
    "--loads every MoE layer of the workload is placed, and with --model the layers\n"
    "are the model's MoE layers with its expert count, and with --engine every GPU\n"
    "fills the same number of slots and every expert's copies split its tokens\n"
    "evenly (what SGLang and vLLM run). Prints OK or each problem.\n\n";

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

/* Every check that applies: the cluster, the loads, the engine's rules, the model. */
static int check_all(const cli_inputs *in, const moemap_placement *p, const moemap_cluster *cl,
                     const moemap_loads *ld, printer *pr)
{
    int n = moemap_placement_check(p, cl, in->ip.slots, print_problem, pr);
    if (n < 0)
        return n;
    if (ld)
        n += moemap_placement_check_loads(p, ld, print_problem, pr);
    if (in->ip.engine != MOEMAP_ENGINE_NONE)
        n += moemap_placement_check_engine(p, cl, in->ip.slots, in->ip.engine, print_problem,
                                           pr);
    if (in->ip.model)
        n += moemap_placement_check_model(p, in->ip.model, print_problem, pr);
    return n;
}

int cmd_validate(int argc, char **argv)
{
    cli_inputs in = {.ip = moemap_input_default_params(), .cmd = "validate"};
    int as_json = 0;
    const cli_flag flags[] = {
        CLI_INPUT_FLAGS(&in),
        {"json", 0, CLI_SET, &as_json, 0, 0, NULL,
         "{file, ok, layers, replicas, gpus, problems: [...]}", NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"validate", usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (!in.cluster_path)
        return cli_usage_error("validate", "--cluster is required");
    if (optind != argc - 1)
        return cli_usage_error("validate", "expected exactly one placement file");
    const char *file = argv[optind];
    printer pr = {file, 0, as_json ? json_array() : NULL};
    moemap_error err = {0};
    moemap_cluster *cl = NULL;
    moemap_loads *ld = NULL;
    moemap_placement *p = NULL;
    int n = cli_inputs_read(&in, &ld, &cl, NULL, &err) ||
                    moemap_input_read_placement(&in.ip, file, cl, ld, &p, &err)
                ? -1
                : check_all(&in, p, cl, ld, &pr);
    if (n < -1)
        moemap_error_set(&err, n, "%s: out of memory", file);
    if (n < 0)
        cli_fail("validate", &err);
    else
        print_verdict(&pr, p, n);
    json_decref(pr.problems);
    moemap_placement_free(p);
    moemap_loads_free(ld);
    moemap_cluster_free(cl);
    return n == 0 ? 0 : 1;
}
