/*
 * cmd_models.c — `moemap models`: lists the MoE model presets as a table, or as JSON
 * with --json, so users can see the names `--model` accepts and the shapes behind them.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "json_util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap models [--json]\n\n"
            "Lists the MoE model presets (numbers from each model's published config).\n"
            "  --json    print the presets as a JSON array\n"
            "  -h, --help\n");
}

static json_t *model_json(const moemap_model *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "display", json_string(m->display));
    json_object_set_new(o, "num_layers", json_integer(m->num_layers));
    json_object_set_new(o, "first_dense", json_integer(m->first_dense));
    json_object_set_new(o, "moe_every", json_integer(m->moe_every));
    json_object_set_new(o, "moe_layers", json_integer(moemap_model_moe_layer_count(m)));
    json_object_set_new(o, "experts", json_integer(m->experts));
    json_object_set_new(o, "shared_experts", json_integer(m->shared_experts));
    json_object_set_new(o, "top_k", json_integer(m->top_k));
    json_object_set_new(o, "hidden", json_integer(m->hidden));
    json_object_set_new(o, "expert_intermediate", json_integer(m->expert_intermediate));
    json_object_set_new(o, "dense_intermediate", json_integer(m->dense_intermediate));
    json_object_set_new(o, "heads", json_integer(m->heads));
    json_object_set_new(o, "kv_heads", json_integer(m->kv_heads));
    json_object_set_new(o, "head_dim", json_integer(m->head_dim));
    json_object_set_new(o, "vocab", json_integer(m->vocab));
    json_object_set_new(o, "dtype_bytes", json_integer(m->dtype_bytes));
    json_object_set_new(o, "expert_mib", mm_json_real(moemap_model_expert_bytes(m) / 1048576.0, 2));
    return o;
}

int cmd_models(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return cli_usage_error("models", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
    int n = moemap_model_preset_count();
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, model_json(moemap_model_preset(i)));
        moemap_error err = {0};
        int rc = mm_json_dump_file(arr, "-", &err);
        json_decref(arr);
        return rc ? cli_fail("models", &err) : 0;
    }
    printf("%-18s %-22s %6s %5s %7s %6s %5s %6s %6s %5s %8s %10s\n", "name", "model", "layers",
           "moe", "experts", "shared", "top-k", "hidden", "inter", "heads", "vocab",
           "expert MiB");
    for (int i = 0; i < n; i++) {
        const moemap_model *m = moemap_model_preset(i);
        printf("%-18s %-22s %6d %5d %7d %6d %5d %6d %6d %5d %8d %10.1f\n", m->name, m->display,
               m->num_layers, moemap_model_moe_layer_count(m), m->experts, m->shared_experts,
               m->top_k, m->hidden, m->expert_intermediate, m->heads, m->vocab,
               moemap_model_expert_bytes(m) / 1048576.0);
    }
    return 0;
}
