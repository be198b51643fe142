/*
 * cmd_validate.c — `moemap validate`: checks a placement file against its cluster (and,
 * with --loads, against the workload's MoE layers and expert count) and prints OK or
 * every problem found, one per line. Exit 0 when valid, 1 otherwise.
 */
#include <getopt.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap validate --cluster C [--loads L] [--model NAME] [--slots N] P.json\n\n"
            "Checks a placement (moemap.placement/v1): every expert of every layer has a\n"
            "replica, an expert's shares sum to 1 (within 1e-6), no GPU holds more replicas of\n"
            "a layer than its slots or two replicas of one expert, ids are in range, and with\n"
            "--loads every MoE layer of the workload is placed, and with --model the layers\n"
            "are the model's MoE layers with its expert count. Prints OK or each problem.\n\n"
            "  -c, --cluster C         cluster profile (moemap.cluster/v1)\n"
            "  -l, --loads L           workload (any format moemap place reads)\n"
            "  --format F, --batch-tokens N   as for moemap place\n"
            "  -m, --model NAME        model preset (moemap models)\n"
            "  --slots N               slots of every GPU (as given to moemap place --slots)\n"
            "  -h, --help\n");
}

typedef struct printer {
    const char *file;
    int shown;
} printer;

static void print_problem(void *ctx, const char *msg)
{
    printer *pr = ctx;
    if (pr->shown++ < 50)
        printf("%s: %s\n", pr->file, msg);
}

int cmd_validate(int argc, char **argv)
{
    const char *cmd = "validate";
    enum { O_FORMAT = 256, O_BATCH, O_SLOTS };
    const char *model_name = NULL;
    static const struct option opts[] = {
        {"cluster", required_argument, 0, 'c'},
        {"loads", required_argument, 0, 'l'},
        {"format", required_argument, 0, O_FORMAT},
        {"batch-tokens", required_argument, 0, O_BATCH},
        {"slots", required_argument, 0, O_SLOTS},
        {"model", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *cluster_path = NULL, *loads_path = NULL;
    moemap_read_params rp = moemap_read_default_params();
    int slots = 0;
    long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:l:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cluster_path = optarg; break;
        case 'l': loads_path = optarg; break;
        case 'm': model_name = optarg; break;
        case O_FORMAT:
            if (cli_parse_workload_format(cmd, optarg, &rp))
                return 2;
            break;
        case O_BATCH:
            if (cli_parse_batch_tokens(cmd, optarg, &rp))
                return 2;
            break;
        case O_SLOTS:
            if (cli_parse_long(cmd, "--slots", optarg, 1, 1000000, &v))
                return 2;
            slots = (int)v;
            break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!cluster_path)
        return cli_usage_error(cmd, "--cluster is required");
    if (optind != argc - 1)
        return cli_usage_error(cmd, "expected exactly one placement file");
    const char *file = argv[optind];
    moemap_error err = {0};
    moemap_cluster *cl = NULL;
    moemap_loads *ld = NULL;
    moemap_placement *p = NULL;
    int rc = 1;
    const moemap_model *model = NULL;
    if (model_name && !(model = moemap_model_find(model_name, &err)))
        goto fail;
    if (moemap_cluster_read(cluster_path, &cl, &err) != 0)
        goto fail;
    if (loads_path && moemap_workload_read(loads_path, &rp, &ld, NULL, &err) != 0)
        goto fail;
    if (moemap_placement_read(file, &p, &err) != 0)
        goto fail;
    printer pr = {file, 0};
    int n = moemap_placement_check(p, cl, slots, print_problem, &pr);
    if (n < 0) {
        moemap_error_set(&err, n, "%s: out of memory", file);
        goto fail;
    }
    if (ld)
        n += moemap_placement_check_loads(p, ld, print_problem, &pr);
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
    if (n == 0) {
        long reps = 0;
        for (int l = 0; l < p->num_layers; l++)
            reps += p->layers[l].num_replicas;
        printf("%s: OK (%d layers, %ld replicas, %d GPUs)\n", file, p->num_layers, reps,
               p->num_gpus);
        rc = 0;
    } else {
        if (pr.shown > 50)
            printf("%s: ... %d more not shown\n", file, pr.shown - 50);
        printf("%s: %d problem%s\n", file, n, n > 1 ? "s" : "");
    }
    goto done;
fail:
    cli_fail(cmd, &err);
done:
    moemap_placement_free(p);
    moemap_loads_free(ld);
    moemap_cluster_free(cl);
    return rc;
}
