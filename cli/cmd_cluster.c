/*
 * cmd_cluster.c — `moemap cluster synth` builds a moemap.cluster/v1 profile whose GPU
 * speeds come from real variability data (or a list) and whose curve shape comes from a
 * measured profile; `moemap cluster show` prints each GPU's speed relative to the fastest
 * at a few token counts; `moemap cluster merge` joins measured profiles. Parsing and
 * printing only: the work is in src/cluster/.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What cluster synth's flags say besides the library's parameters. */
typedef struct synth_args {
    moemap_synth_params p;
    moemap_variability_params vp;
    const char *varfile, *base_path, *out;
    cli_dlist speeds;
    moemap_curve curve;
    int tgpu[64];
    double tfac[64];
} synth_args;

static int set_norm(const char *cmd, const char *arg, void *dst)
{
    int n = moemap_speed_norm_parse(arg);
    *(moemap_speed_norm *)dst = n < 0 ? *(moemap_speed_norm *)dst : (moemap_speed_norm)n;
    return n < 0 ? cli_usage_error(cmd, "--normalise: '%s' is not median or fastest", arg) : 0;
}

static int add_throttle(const char *cmd, const char *arg, void *dst)
{
    synth_args *a = dst;
    int *n = &a->p.num_throttle;
    if (*n == 64)
        return cli_usage_error(cmd, "--throttle: at most 64");
    if (cli_parse_gpu_value(cmd, "--throttle", arg, 1000000, 1e-6, 100, &a->tgpu[*n],
                            &a->tfac[*n]))
        return 2;
    (*n)++;
    return 0;
}

static int set_base_curve(const char *cmd, const char *arg, void *dst)
{
    moemap_error err = {0};
    moemap_curve_clear(dst);
    if (moemap_curve_parse(arg, dst, &err))
        return cli_usage_error(cmd, "--base-curve: %s", err.msg);
    return 0;
}

static const char synth_usage[] =
    "usage: moemap cluster synth (--variability FILE --gpus N | --speeds LIST)\n"
    "                            (--base PROFILE | --base-curve LIST --hidden H\n"
    "                             --intermediate I) [options] [--out FILE]\n\n"
    "Builds a cluster profile (moemap.cluster/v1): every GPU shares the base curve's\n"
    "shape, scaled by its own speed. Speeds are drawn (with --seed) from a real GPU\n"
    "population: rows of a CSV grouped by GPU uuid, each GPU's median time, speed =\n"
    "reference time / GPU time. See docs/cluster.md.\n\n"
    "speeds:\n";

/* The flags that only make sense together. 0, or 2 after a usage error. */
static int synth_check(synth_args *a)
{
    const char *cmd = "cluster synth";
    moemap_synth_params *p = &a->p;
    p->speeds = a->speeds.v;
    p->num_speeds = a->speeds.n;
    if (!a->varfile == !a->speeds.v)
        return cli_usage_error(cmd, "give either --variability FILE or --speeds LIST");
    if (a->varfile && p->num_gpus < 1)
        return cli_usage_error(cmd, "--variability needs --gpus N");
    if (a->speeds.v && p->num_gpus >= 1 && p->num_gpus != p->num_speeds)
        return cli_usage_error(cmd, "--gpus %d but --speeds lists %d", p->num_gpus,
                               p->num_speeds);
    if (a->speeds.v)
        p->num_gpus = p->num_speeds;
    if (p->cv_from_population && !a->varfile)
        return cli_usage_error(cmd, "--cv-from-data needs --variability FILE");
    if (!a->base_path == !a->curve.n)
        return cli_usage_error(cmd, "give either --base PROFILE or --base-curve LIST");
    if (a->curve.n && (p->hidden < 1 || p->intermediate < 1))
        return cli_usage_error(cmd, "--base-curve needs --hidden and --intermediate (the "
                                    "expert shape the curve stands for)");
    if (a->curve.n && p->slots < 0)
        return cli_usage_error(cmd, "--base-curve needs --slots K");
    p->base = a->curve.n ? &a->curve : NULL;
    moemap_error err = {0}; /* speeds, throttles, the curve: still flags, so usage errors */
    return moemap_synth_params_check(p, &err) ? cli_usage_error(cmd, "%s", err.msg + 7) : 0;
}

/* Builds the cluster, writes it and says what it is. */
static int synth_build(synth_args *a, int argc, char **argv)
{
    moemap_cluster *c = NULL;
    moemap_gpu_population *pop = NULL;
    moemap_error err = {0};
    char *cmd = moemap_args_join("moemap", argc, argv);
    int rc = moemap_cluster_synth_files(&a->p, &a->vp, a->base_path, a->varfile, cmd, &c,
                                        &pop, &err) ||
             moemap_cluster_write(c, a->out, &err);
    if (rc)
        rc = cli_fail("cluster synth", &err);
    else
        rc = cli_put("cluster synth", moemap_text_cluster_synth(c, pop, a->varfile),
                     strcmp(a->out, "-") ? stdout : stderr);
    moemap_free(cmd);
    moemap_cluster_free(c);
    moemap_gpu_population_free(pop);
    return rc;
}

static int cmd_synth(int argc, char **argv)
{
    synth_args a = {.p = moemap_synth_default_params(), .out = "-"};
    moemap_synth_params *p = &a.p;
    p->throttle_gpu = a.tgpu;
    p->throttle_factor = a.tfac;
    const cli_flag flags[] = {
        {"variability", 'v', CLI_STR, &a.varfile, 0, 0, "FILE",
         "CSV of benchmark runs (e.g. the PAL data's\nsgemm-longhorn-agg.csv): columns uuid "
         "(or GPU_UUID)\nand a time, lower = faster", NULL},
        CLI_GROUP(&a.vp, moemap_variability_options),
        {"normalise", 0, CLI_FN, &a.vp.norm, 0, 0, "MODE",
         "median: the population's median GPU has speed 1\n(default; the base curve stands "
         "for a typical GPU);\nfastest: the fastest GPU has speed 1", set_norm},
        {"normalize", 0, CLI_FN, &a.vp.norm, 0, 0, NULL, NULL, set_norm},
        CLI_GROUP(p, moemap_synth_draw_options),
        {"speeds", 0, CLI_DLIST, &a.speeds, 0, 0, "LIST",
         "explicit speeds instead (1,0.95,0.9,...; one per GPU)", NULL},
        {"throttle", 0, CLI_FN, &a, 0, 0, "GPU=F",
         "multiply GPU's speed by F (0.8 = 20% slower); repeatable", add_throttle},
        {"cv-from-data", 0, CLI_SET, &p->cv_from_population, 0, 0, NULL,
         "each drawn GPU's jitter (cv) = the robust spread of its\nruns in the data (1.4826 "
         "MAD / median); default: the\nbase curve's cv for every GPU", NULL},
        CLI_HELP("curve:\n"),
        {"base", 0, CLI_STR, &a.base_path, 0, 0, "PROFILE",
         "a moemap.cluster/v1 file: its base_curve (else its first\nGPU's curve), expert "
         "shape, network and slots", NULL},
        {"base-curve", 0, CLI_FN, &a.curve, 0, 0, "LIST",
         "tokens:us pairs instead (1:60,256:75,4096:560)", set_base_curve},
        CLI_GROUP(p, moemap_synth_shape_options),
        CLI_HELP("output:\n"),
        {"out", 'o', CLI_STR, &a.out, 0, 0, "FILE",
         "output file (default '-', stdout; the summary then goes\nto stderr)", NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"cluster synth", synth_usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0 && optind < argc)
        rc = cli_usage_error("cluster synth", "unexpected argument '%s'", argv[optind]);
    if (rc < 0 && !(rc = synth_check(&a)))
        rc = synth_build(&a, argc, argv);
    moemap_free(a.speeds.v);
    moemap_curve_clear(&a.curve);
    return rc;
}

static int cmd_show(int argc, char **argv)
{
    cli_dlist tokens = {NULL, 0};
    int json = 0;
    const cli_flag flags[] = {
        {"tokens", 't', CLI_DLIST, &tokens, 0, 0, "LIST",
         "token counts (default 1,64,512,4096)", NULL},
        CLI_JSON(&json, "machine-readable output"),
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {
        "cluster show",
        "usage: moemap cluster show FILE [--tokens LIST] [--json]\n\n"
        "Prints every GPU's node, slots, speed factor, jitter (cv), SM limit and its speed\n"
        "relative to the fastest GPU at a few token counts (1 = fastest; 0.8 = takes\n"
        "1/0.8 = 1.25x as long), and the fastest GPU's time per expert.\n\n",
        flags, NULL, 26, NULL};
    double default_tokens[] = {1, 64, 512, 4096};
    int rc = cli_parse(&spec, argc, argv);
    for (int i = 0; rc < 0 && i < tokens.n; i++)
        if (!(tokens.v[i] > 0))
            rc = cli_usage_error("cluster show", "--tokens: token counts must be > 0");
    if (rc < 0 && optind != argc - 1)
        rc = cli_usage_error("cluster show", "expects exactly one cluster file");
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    if (rc < 0 && moemap_cluster_read(argv[optind], &c, &err))
        rc = cli_fail("cluster show", &err);
    if (rc < 0)
        rc = cli_put("cluster show",
                     moemap_text_cluster(argv[optind], c, tokens.v ? tokens.v : default_tokens,
                                         tokens.v ? tokens.n : 4, json), stdout);
    moemap_free(tokens.v);
    moemap_cluster_free(c);
    return rc;
}

/* Merges the files and writes the cluster. */
static int merge_files(char **files, int n, int one_node, int slots, const char *out)
{
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    int rc = moemap_cluster_merge_files(files, n, one_node, slots, &c, &err) ||
             moemap_cluster_write(c, out, &err);
    if (!rc)
        fprintf(strcmp(out, "-") ? stdout : stderr, "merged %d files: %d GPUs on %d nodes, "
                "%d slots\n", n, c->num_gpus, moemap_cluster_num_nodes(c),
                moemap_cluster_total_slots(c));
    moemap_cluster_free(c);
    return rc ? cli_fail("cluster merge", &err) : 0;
}

static int cmd_merge(int argc, char **argv)
{
    const char *out = "-";
    int slots = -1, one_node = 0;
    const cli_flag flags[] = {
        {"slots", 0, CLI_INT, &slots, 0, 1 << 20, "K",
         "expert slots of every GPU (default: as in the files)", NULL},
        {"one-node", 0, CLI_SET, &one_node, 0, 0, NULL, "put every GPU on node 0", NULL},
        {"out", 'o', CLI_STR, &out, 0, 0, "FILE", "output file (default '-', stdout)", NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {
        "cluster merge",
        "usage: moemap cluster merge FILE... [--slots K] [--one-node] [--out FILE]\n\n"
        "Concatenates cluster profiles measured separately (e.g. moemap profile on two\n"
        "machines, or a full GPU and an SM-limited one) into one cluster: GPUs in order,\n"
        "each keeping its own measured cost; each file's nodes come after the previous\n"
        "files' nodes. All files must be for the same expert shape.\n\n",
        flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (argc - optind < 1)
        return cli_usage_error("cluster merge", "expects at least one cluster file");
    return merge_files(argv + optind, argc - optind, one_node, slots, out);
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("cluster", "expects a subcommand: synth, show or merge");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: moemap cluster <synth|show|merge> [options]   (moemap cluster <sub> "
               "--help)\n\n"
               "  synth   build a cluster profile from real GPU variability data or speeds\n"
               "  show    print each GPU's relative speed at a few token counts\n"
               "  merge   join measured profiles into one cluster\n");
        return 0;
    }
    if (!strcmp(argv[1], "synth"))
        return cmd_synth(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show"))
        return cmd_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "merge"))
        return cmd_merge(argc - 1, argv + 1);
    return cli_usage_error("cluster", "unknown subcommand '%s' (synth, show or merge)", argv[1]);
}
