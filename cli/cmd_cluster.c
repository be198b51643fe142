/*
 * cmd_cluster.c — `moemap cluster synth` builds a moemap.cluster/v1 profile whose GPU
 * speeds come from real variability data (or a list) and whose curve shape comes from a
 * measured profile; `moemap cluster show` prints each GPU's speed relative to the fastest
 * at a few token counts. Parsing and printing only: the work is in src/cluster/.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage_synth(FILE *f)
{
    fprintf(f,
            "usage: moemap cluster synth (--variability FILE --gpus N | --speeds LIST)\n"
            "                            (--base PROFILE | --base-curve LIST --hidden H\n"
            "                             --intermediate I) [options] [--out FILE]\n\n"
            "Builds a cluster profile (moemap.cluster/v1): every GPU shares the base curve's\n"
            "shape, scaled by its own speed. Speeds are drawn (with --seed) from a real GPU\n"
            "population: rows of a CSV grouped by GPU uuid, each GPU's median time, speed =\n"
            "reference time / GPU time. See docs/cluster.md.\n\n"
            "speeds:\n"
            "  -v, --variability FILE  CSV of benchmark runs (e.g. the PAL data's\n"
            "                          sgemm-longhorn-agg.csv): columns uuid (or GPU_UUID)\n"
            "                          and a time, lower = faster\n"
            "  --column NAME           the time column (default perf; PerfVar_classA..D for\n"
            "                          32gpu-variability.csv)\n"
            "  --min-runs N            drop GPUs with fewer runs (default 3)\n"
            "  --normalise MODE        median: the population's median GPU has speed 1\n"
            "                          (default; the base curve stands for a typical GPU);\n"
            "                          fastest: the fastest GPU has speed 1\n"
            "  -g, --gpus N            GPUs to draw (without replacement when N <= population)\n"
            "  -s, --seed S            random seed (default 1)\n"
            "  --speeds LIST           explicit speeds instead (1,0.95,0.9,...; one per GPU)\n"
            "  --throttle GPU=F        multiply GPU's speed by F (0.8 = 20%% slower); repeatable\n"
            "  --cv-from-data          each drawn GPU's jitter (cv) = the robust spread of its\n"
            "                          runs in the data (1.4826 MAD / median); default: the\n"
            "                          base curve's cv for every GPU\n"
            "curve:\n"
            "  --base PROFILE          a moemap.cluster/v1 file: its base_curve (else its first\n"
            "                          GPU's curve), expert shape, network and slots\n"
            "  --base-curve LIST       tokens:us pairs instead (1:60,256:75,4096:560)\n"
            "  --hidden H, --intermediate I, --dtype D\n"
            "                          the expert shape (required with --base-curve; dtype bf16)\n"
            "layout:\n"
            "  --gpus-per-node M       GPU g is on node g / M (default 8)\n"
            "  --slots K               expert slots per GPU (default: the base profile's first\n"
            "                          GPU; required with --base-curve)\n"
            "  --intra-GBps X, --inter-GBps X, --latency-us X\n"
            "                          network (default: the base profile's, else 450, 50, 10)\n"
            "output:\n"
            "  -o, --out FILE          output file (default '-', stdout; the summary then goes\n"
            "                          to stderr)\n"
            "  -h, --help\n");
}

static void usage_show(FILE *f)
{
    fprintf(f,
            "usage: moemap cluster show FILE [--tokens LIST] [--json]\n\n"
            "Prints every GPU's node, slots, speed factor, jitter (cv), SM limit and its speed\n"
            "relative to the fastest GPU at a few token counts (1 = fastest; 0.8 = takes\n"
            "1/0.8 = 1.25x as long), and the fastest GPU's time per expert.\n\n"
            "  -t, --tokens LIST       token counts (default 1,64,512,4096)\n"
            "  --json                  machine-readable output\n"
            "  -h, --help\n");
}

static void usage_merge(FILE *f)
{
    fprintf(f,
            "usage: moemap cluster merge FILE... [--slots K] [--one-node] [--out FILE]\n\n"
            "Concatenates cluster profiles measured separately (e.g. moemap profile on two\n"
            "machines, or a full GPU and an SM-limited one) into one cluster: GPUs in order,\n"
            "each keeping its own measured cost; each file's nodes come after the previous\n"
            "files' nodes. All files must be for the same expert shape.\n\n"
            "  --slots K               expert slots of every GPU (default: as in the files)\n"
            "  --one-node              put every GPU on node 0\n"
            "  -o, --out FILE          output file (default '-', stdout)\n"
            "  -h, --help\n");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: moemap cluster <synth|show|merge> [options]   (moemap cluster <sub> "
               "--help)\n\n"
               "  synth   build a cluster profile from real GPU variability data or speeds\n"
               "  show    print each GPU's relative speed at a few token counts\n"
               "  merge   join measured profiles into one cluster\n");
}

/* "1:60,256:75" -> curve (the library checks monotonicity). */
static int parse_base_curve(const char *s, moemap_curve *c)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    c->tokens = moemap_malloc((size_t)cap * sizeof *c->tokens);
    c->us = moemap_malloc((size_t)cap * sizeof *c->us);
    char *copy = strdup(s), *save = NULL;
    if (!c->tokens || !c->us || !copy) {
        free(copy);
        return cli_usage_error("cluster synth", "--base-curve: out of memory");
    }
    int n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) {
            cli_usage_error("cluster synth", "--base-curve: '%s' is not tokens:us", tok);
            free(copy);
            return 2;
        }
        *colon = '\0';
        if (cli_parse_double("cluster synth", "--base-curve tokens", tok, 1e-9, 1e12,
                             &c->tokens[n]) ||
            cli_parse_double("cluster synth", "--base-curve us", colon + 1, 0, 1e12,
                             &c->us[n])) {
            free(copy);
            return 2;
        }
        n++;
    }
    free(copy);
    c->n = n;
    if (n == 0)
        return cli_usage_error("cluster synth", "--base-curve: no points");
    return 0;
}

/* The command line as the profile's provenance ("source"). */
static char *source_text(int argc, char **argv)
{
    char *cmd = cli_command_line(argc, argv);
    json_t *o = cmd ? json_pack("{s:s,s:s+}", "tool", "moemap cluster synth", "command",
                                "moemap cluster", cmd + strlen("moemap")) : NULL;
    free(cmd);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

/* The spread of the synthesised speeds, on `f`. */
static void print_summary(FILE *f, const moemap_cluster *c, const moemap_gpu_population *pop,
                          const char *varfile)
{
    int n = c->num_gpus;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return;
    for (int g = 0; g < n; g++)
        s[g] = c->gpus[g].speed;
    if (pop)
        fprintf(f, "population %s: %d GPUs (%d dropped with too few runs, %d rows); "
                   "speed p10 %.4f p50 %.4f p90 %.4f, fastest/slowest %.3fx; "
                   "run-to-run cv median %.4f\n",
                varfile, pop->n, pop->dropped, pop->rows,
                moemap_quantile(pop->speed, (size_t)pop->n, 0.1),
                moemap_quantile(pop->speed, (size_t)pop->n, 0.5),
                moemap_quantile(pop->speed, (size_t)pop->n, 0.9),
                moemap_quantile(pop->speed, (size_t)pop->n, 1) /
                    moemap_quantile(pop->speed, (size_t)pop->n, 0),
                moemap_quantile(pop->cv, (size_t)pop->n, 0.5));
    fprintf(f, "cluster: %d GPUs on %d nodes, %d slots; speed min %.4f p10 %.4f p50 %.4f "
               "p90 %.4f max %.4f, fastest/slowest %.3fx\n",
            n, moemap_cluster_num_nodes(c), moemap_cluster_total_slots(c),
            moemap_quantile(s, (size_t)n, 0), moemap_quantile(s, (size_t)n, 0.1),
            moemap_quantile(s, (size_t)n, 0.5), moemap_quantile(s, (size_t)n, 0.9),
            moemap_quantile(s, (size_t)n, 1),
            moemap_quantile(s, (size_t)n, 1) / moemap_quantile(s, (size_t)n, 0));
    free(s);
}

enum {
    O_COLUMN = 256, O_MINRUNS, O_NORM, O_SPEEDS, O_THROTTLE, O_BASECURVE, O_HIDDEN, O_INTER,
    O_DTYPE, O_GPN, O_SLOTS, O_INTRA, O_INTERNODE, O_LAT, O_JSON, O_CVDATA
};

/* What cluster synth's flags say: the library's parameters and the files they name. */
typedef struct synth_args {
    moemap_synth_params p;
    moemap_variability_params vp;
    const char *varfile, *base_path, *base_curve, *out;
    double *speeds;
    int tgpu[64];
    double tfac[64];
} synth_args;

static const struct option synth_opts[] = {
    {"variability", required_argument, NULL, 'v'}, {"column", required_argument, NULL, O_COLUMN},
    {"min-runs", required_argument, NULL, O_MINRUNS},
    {"normalise", required_argument, NULL, O_NORM},
    {"normalize", required_argument, NULL, O_NORM},
    {"gpus", required_argument, NULL, 'g'}, {"seed", required_argument, NULL, 's'},
    {"speeds", required_argument, NULL, O_SPEEDS},
    {"throttle", required_argument, NULL, O_THROTTLE},
    {"cv-from-data", no_argument, NULL, O_CVDATA}, {"base", required_argument, NULL, 'B'},
    {"base-curve", required_argument, NULL, O_BASECURVE},
    {"hidden", required_argument, NULL, O_HIDDEN},
    {"intermediate", required_argument, NULL, O_INTER},
    {"dtype", required_argument, NULL, O_DTYPE}, {"gpus-per-node", required_argument, NULL, O_GPN},
    {"slots", required_argument, NULL, O_SLOTS}, {"intra-GBps", required_argument, NULL, O_INTRA},
    {"inter-GBps", required_argument, NULL, O_INTERNODE},
    {"latency-us", required_argument, NULL, O_LAT}, {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

/* A long flag's value into an int within [lo, hi]. */
static int synth_int(const char *flag, long lo, long hi, int *out)
{
    long v;
    if (cli_parse_long("cluster synth", flag, optarg, lo, hi, &v))
        return 2;
    *out = (int)v;
    return 0;
}

/* One option of cluster synth; 0, or 2 after a usage error. */
static int synth_option(int opt, synth_args *a)
{
    const char *cmd = "cluster synth";
    moemap_synth_params *p = &a->p;
    long seed;
    switch (opt) {
    case 'v': a->varfile = optarg; return 0;
    case O_COLUMN: a->vp.column = optarg; return 0;
    case O_MINRUNS: return synth_int("--min-runs", 1, 1000000, &a->vp.min_runs);
    case O_NORM:
        if (strcmp(optarg, "median") && strcmp(optarg, "fastest"))
            return cli_usage_error(cmd, "--normalise: '%s' is not median or fastest", optarg);
        a->vp.norm = !strcmp(optarg, "median") ? MOEMAP_SPEED_MEDIAN : MOEMAP_SPEED_FASTEST;
        return 0;
    case 'g': return synth_int("--gpus", 1, MOEMAP_MAX_GPUS, &p->num_gpus);
    case 's':
        if (cli_parse_long(cmd, "--seed", optarg, 0, 0x7fffffffL, &seed))
            return 2;
        p->seed = (uint64_t)seed;
        return 0;
    case O_SPEEDS:
        free(a->speeds);
        a->speeds = NULL;
        return cli_parse_double_list(cmd, "--speeds", optarg, &a->speeds, &p->num_speeds);
    case O_THROTTLE:
        if (p->num_throttle == 64)
            return cli_usage_error(cmd, "--throttle: at most 64");
        if (cli_parse_gpu_value(cmd, "--throttle", optarg, 1000000, 1e-6, 100,
                                &a->tgpu[p->num_throttle], &a->tfac[p->num_throttle]))
            return 2;
        p->num_throttle++;
        return 0;
    case O_CVDATA: p->cv_from_population = 1; return 0;
    case 'B': a->base_path = optarg; return 0;
    case O_BASECURVE: a->base_curve = optarg; return 0;
    case O_HIDDEN: return synth_int("--hidden", 1, 1 << 24, &p->hidden);
    case O_INTER: return synth_int("--intermediate", 1, 1 << 24, &p->intermediate);
    case O_DTYPE: p->dtype = optarg; return 0;
    case O_GPN: return synth_int("--gpus-per-node", 1, 1000000, &p->gpus_per_node);
    case O_SLOTS: return synth_int("--slots", 0, 1 << 20, &p->slots);
    case O_INTRA: return cli_parse_double(cmd, "--intra-GBps", optarg, 0, 1e9, &p->intra_node_GBps);
    case O_INTERNODE:
        return cli_parse_double(cmd, "--inter-GBps", optarg, 0, 1e9, &p->inter_node_GBps);
    case O_LAT: return cli_parse_double(cmd, "--latency-us", optarg, 0, 1e9, &p->latency_us);
    case 'o': a->out = optarg; return 0;
    default: return cli_usage_error(cmd, "unknown option");
    }
}

/* The flags that only make sense together. 0, or 2 after a usage error. */
static int synth_check(synth_args *a)
{
    const char *cmd = "cluster synth";
    moemap_synth_params *p = &a->p;
    if (!a->varfile == !a->speeds)
        return cli_usage_error(cmd, "give either --variability FILE or --speeds LIST");
    if (a->varfile && p->num_gpus < 1)
        return cli_usage_error(cmd, "--variability needs --gpus N");
    if (a->speeds && p->num_gpus >= 1 && p->num_gpus != p->num_speeds)
        return cli_usage_error(cmd, "--gpus %d but --speeds lists %d", p->num_gpus,
                               p->num_speeds);
    if (a->speeds)
        p->num_gpus = p->num_speeds;
    if (p->cv_from_population && !a->varfile)
        return cli_usage_error(cmd, "--cv-from-data needs --variability FILE");
    if (!a->base_path == !a->base_curve)
        return cli_usage_error(cmd, "give either --base PROFILE or --base-curve LIST");
    if (a->base_curve && (p->hidden < 1 || p->intermediate < 1))
        return cli_usage_error(cmd, "--base-curve needs --hidden and --intermediate (the "
                                    "expert shape the curve stands for)");
    if (a->base_curve && p->slots < 0)
        return cli_usage_error(cmd, "--base-curve needs --slots K");
    return 0;
}

/* Builds the cluster the checked arguments describe and writes it. */
static int synth_build(synth_args *a, moemap_curve *curve, int argc, char **argv,
                       moemap_error *err)
{
    moemap_cluster *base = NULL, *c = NULL;
    moemap_gpu_population *pop = NULL;
    char *source = NULL;
    int rc = 0;
    if (a->base_path && !(rc = moemap_cluster_read(a->base_path, &base, err)) &&
        (rc = moemap_synth_params_from_base(&a->p, base, curve, err)))
        moemap_error_prefix(err, "%s", a->base_path);
    moemap_synth_params_network_defaults(&a->p);
    if (!rc && a->varfile)
        rc = moemap_gpu_population_read(a->varfile, &a->vp, &pop, err);
    a->p.population = pop;
    if (!rc)
        rc = moemap_cluster_synth(&a->p, &c, err);
    if (!rc && (source = source_text(argc, argv)))
        rc = moemap_cluster_set_source(c, source, err);
    if (!rc)
        rc = moemap_cluster_write(c, a->out, err);
    if (!rc)
        print_summary(strcmp(a->out, "-") ? stdout : stderr, c, pop, a->varfile);
    free(source);
    moemap_cluster_free(base);
    moemap_cluster_free(c);
    moemap_gpu_population_free(pop);
    return rc;
}

static int cmd_synth(int argc, char **argv)
{
    synth_args a;
    memset(&a, 0, sizeof a);
    a.vp.norm = MOEMAP_SPEED_MEDIAN;
    a.out = "-";
    a.p.gpus_per_node = 8;
    a.p.seed = 1;
    a.p.slots = a.p.num_gpus = -1;
    a.p.intra_node_GBps = a.p.inter_node_GBps = a.p.latency_us = -1;
    a.p.throttle_gpu = a.tgpu;
    a.p.throttle_factor = a.tfac;
    moemap_curve curve = {0};
    moemap_error err = {0};
    int opt, rc = 0;
    optind = 1;
    while (!rc && (opt = getopt_long(argc, argv, "v:g:s:o:h", synth_opts, NULL)) != -1) {
        if (opt == 'h') {
            usage_synth(stdout);
            free(a.speeds);
            return 0;
        }
        rc = synth_option(opt, &a);
    }
    if (!rc && optind < argc)
        rc = cli_usage_error("cluster synth", "unexpected argument '%s'", argv[optind]);
    if (!rc)
        rc = synth_check(&a);
    a.p.speeds = a.speeds;
    if (!rc && a.base_curve && !(rc = parse_base_curve(a.base_curve, &curve)))
        a.p.base = &curve;
    if (!rc && synth_build(&a, &curve, argc, argv, &err))
        rc = cli_fail("cluster synth", &err);
    free(a.speeds);
    moemap_curve_clear(&curve);
    return rc;
}

/* cluster show --json: every GPU's curve at the token counts and its relative speed. */
static int show_json(const char *path, const moemap_cluster *c, const double *tk, int nt,
                     const double *rel)
{
    int n = c->num_gpus;
    json_t *root = json_object(), *ta = json_array(), *ga = json_array();
    for (int k = 0; k < nt; k++)
        json_array_append_new(ta, json_real(tk[k]));
    for (int g = 0; g < n; g++) {
        const moemap_gpu *gp = &c->gpus[g];
        json_t *us = json_array(), *rl = json_array();
        for (int k = 0; k < nt; k++) {
            json_array_append_new(us, json_real(moemap_cluster_expert_us(c, g, tk[k])));
            json_array_append_new(rl, json_real(rel[(size_t)k * (size_t)n + (size_t)g]));
        }
        json_array_append_new(
            ga, json_pack("{s:i,s:i,s:s,s:i,s:f,s:b,s:f,s:i,s:o,s:o}", "id", gp->id, "node",
                          gp->node, "name", gp->name, "slots", gp->slots, "speed", gp->speed,
                          "own_curve", gp->curve.n > 0, "cv", moemap_cluster_gpu_cv(c, g),
                          "sm_limit", gp->sm_limit, "us", us, "relative", rl));
    }
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "gpus_total", json_integer(n));
    json_object_set_new(root, "nodes", json_integer(moemap_cluster_num_nodes(c)));
    json_object_set_new(root, "tokens", ta);
    json_object_set_new(root, "gpus", ga);
    int rc = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
                                          JSON_REAL_PRECISION(8)) != 0;
    printf("\n");
    json_decref(root);
    return rc;
}

/* cluster show: the same as a table. */
static void show_table(const char *path, const moemap_cluster *c, const double *tk, int nt,
                       const double *rel)
{
    int n = c->num_gpus;
    printf("%s: %d GPUs on %d nodes, %d slots; expert hidden %d, intermediate %d, %s\n", path,
           n, moemap_cluster_num_nodes(c), moemap_cluster_total_slots(c), c->hidden,
           c->intermediate, c->dtype);
    printf("network: intra-node %g GB/s, inter-node %g GB/s, latency %g us\n",
           c->intra_node_GBps, c->inter_node_GBps, c->latency_us);
    printf("speed relative to the fastest GPU at each token count (1 = fastest):\n");
    printf("%4s %4s %5s %7s %6s %4s", "gpu", "node", "slots", "speed", "cv", "sms");
    for (int k = 0; k < nt; k++) {
        char h[32];
        snprintf(h, sizeof h, "@%g", tk[k]);
        printf(" %8s", h);
    }
    printf("  name\n");
    for (int g = 0; g < n; g++) {
        const moemap_gpu *gp = &c->gpus[g];
        char sp[16] = "own", sms[16] = "all";
        if (gp->curve.n == 0)
            snprintf(sp, sizeof sp, "%.4f", gp->speed);
        if (gp->sm_limit > 0)
            snprintf(sms, sizeof sms, "%d", gp->sm_limit);
        printf("%4d %4d %5d %7s %6.4f %4s", gp->id, gp->node, gp->slots, sp,
               moemap_cluster_gpu_cv(c, g), sms);
        for (int k = 0; k < nt; k++)
            printf(" %8.4f", rel[(size_t)k * (size_t)n + (size_t)g]);
        printf("  %s\n", gp->name[0] ? gp->name : "-");
    }
    printf("%35s", "fastest GPU, us per expert:");
    for (int k = 0; k < nt; k++) {
        double best = 0;
        for (int g = 0; g < n; g++) {
            double u = moemap_cluster_expert_us(c, g, tk[k]);
            best = g == 0 || u < best ? u : best;
        }
        printf(" %8.1f", best);
    }
    printf("\n");
}

/* --tokens: positive token counts. 0, or 2 after a usage error. */
static int parse_tokens(double **tokens, int *nt)
{
    free(*tokens);
    *tokens = NULL;
    if (cli_parse_double_list("cluster show", "--tokens", optarg, tokens, nt))
        return 2;
    for (int i = 0; i < *nt; i++)
        if (!((*tokens)[i] > 0))
            return cli_usage_error("cluster show", "--tokens: token counts must be > 0");
    return 0;
}

static int cmd_show(int argc, char **argv)
{
    static const struct option opts[] = {{"tokens", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cmd = "cluster show";
    double default_tokens[] = {1, 64, 512, 4096}, *tokens = NULL, *rel = NULL;
    int nt = 4, json = 0, opt, rc = 0;
    optind = 1;
    while (!rc && (opt = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage_show(stdout);
            free(tokens);
            return 0;
        }
        rc = opt == 't' ? parse_tokens(&tokens, &nt)
             : opt == O_JSON ? (json = 1, 0)
                             : cli_usage_error(cmd, "unknown option");
    }
    if (!rc && optind != argc - 1)
        rc = cli_usage_error(cmd, "expects exactly one cluster file");
    const double *tk = tokens ? tokens : default_tokens;
    moemap_cluster *c = NULL;
    moemap_error err = {0};
    if (!rc && moemap_cluster_read(argv[optind], &c, &err))
        rc = cli_fail(cmd, &err);
    if (!rc && !(rel = malloc((size_t)c->num_gpus * (size_t)nt * sizeof *rel)))
        rc = (fprintf(stderr, "moemap %s: out of memory\n", cmd), 1);
    for (int k = 0; !rc && k < nt; k++)
        moemap_cluster_relative_speed(c, tk[k], rel + (size_t)k * (size_t)c->num_gpus);
    if (!rc && json)
        rc = show_json(argv[optind], c, tk, nt, rel);
    else if (!rc)
        show_table(argv[optind], c, tk, nt, rel);
    free(rel);
    free(tokens);
    moemap_cluster_free(c);
    return rc;
}

static int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"slots", required_argument, NULL, O_SLOTS},
                                         {"one-node", no_argument, NULL, O_GPN},
                                         {"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cmd = "cluster merge", *out = "-";
    long slots = -1;
    int one_node = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case O_SLOTS:
            if (cli_parse_long(cmd, "--slots", optarg, 0, 1 << 20, &slots))
                return 2;
            break;
        case O_GPN: one_node = 1; break;
        case 'o': out = optarg; break;
        case 'h':
            usage_merge(stdout);
            return 0;
        default:
            return cli_usage_error(cmd, "unknown option");
        }
    }
    int n = argc - optind;
    if (n < 1)
        return cli_usage_error(cmd, "expects at least one cluster file");
    moemap_cluster **parts = calloc((size_t)n, sizeof *parts), *c = NULL;
    moemap_error err = {0};
    int rc = 0;
    if (!parts) {
        fprintf(stderr, "moemap %s: out of memory\n", cmd);
        return 1;
    }
    for (int i = 0; i < n && !rc; i++)
        rc = moemap_cluster_read(argv[optind + i], &parts[i], &err);
    if (!rc) {
        rc = moemap_cluster_merge((const moemap_cluster *const *)parts, n, one_node,
                                  (int)slots, &c, &err);
        if (rc == MOEMAP_EINVAL && strstr(err.msg, "merge: cluster "))
            moemap_error_prefix(&err, "%s ... %s", argv[optind], argv[argc - 1]);
    }
    if (!rc)
        rc = moemap_cluster_write(c, out, &err);
    if (!rc)
        fprintf(strcmp(out, "-") ? stdout : stderr, "merged %d files: %d GPUs on %d nodes, "
                "%d slots\n", n, c->num_gpus, moemap_cluster_num_nodes(c),
                moemap_cluster_total_slots(c));
    for (int i = 0; i < n; i++)
        moemap_cluster_free(parts[i]);
    free(parts);
    moemap_cluster_free(c);
    return rc ? cli_fail(cmd, &err) : 0;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("cluster", "expects a subcommand: synth, show or merge");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
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
