/*
 * cmd_place.c — `moemap place`: reads a workload (any format moemap_workload_read
 * knows) and a cluster profile, computes a placement with the chosen strategy, writes it
 * (moemap.placement/v1) plus optional exports for SGLang / vLLM and a migration plan from
 * a previous placement, and prints a one-line summary with the predicted cost and its gap
 * to the lower bound; for the exact strategy, also whether every layer was proven optimal.
 * Parsing and printing only: the call is moemap_place_job_run (src/eval/place_job.c).
 */
#include <getopt.h>
#include <string.h>

#include "base_util.h"
#include "cli.h"

#define MAX_EXPORTS 8

static const char usage[] =
    "usage: moemap place --loads L --cluster C --out P.json [options]\n\n"
    "Places every MoE layer's experts on the cluster's GPUs (layers whose loads are\n"
    "all zero are dense and get no entry). Prints the strategy, time taken, predicted\n"
    "mean/p90 straggler time over the batches, the lower bound and the gap to it;\n"
    "for exact, how many layers were proven optimal (else: the time limit struck,\n"
    "and the worst gap between a layer's answer and its proven bound).\n"
    "See docs/placement.md.\n\n"
    "With --engine sglang|vllm the placement is one the engine runs as it is (every\n"
    "GPU fills the same slots, an expert's copies split its tokens evenly), and the\n"
    "summary also gives eplb's figure under the same rules and the engine bound.\n"
    "The moemap strategy is never predicted slower than eplb (mean straggler).\n\n"
    "input:\n";

/* What the command line asked for besides the job's parameters. */
typedef struct place_opts {
    cli_inputs in;
    const char *out_path, *plan_path;
    const char *exports[MAX_EXPORTS];
    int nexp, approximate, no_fewer, as_json;
} place_opts;

/* One --export FORMAT=FILE; 0 or 2 after a usage error. */
static int add_export(const char *cmd, const char *arg, void *dst)
{
    place_opts *o = dst;
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return cli_usage_error(cmd, "--export: expected FORMAT=FILE, got '%s'", arg);
    if (o->nexp == MAX_EXPORTS)
        return cli_usage_error(cmd, "--export: at most %d exports", MAX_EXPORTS);
    char name[32];
    size_t n = (size_t)(eq - arg);
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), arg);
    if (moemap_export_format_parse(name) < 0)
        return cli_usage_error(cmd, "--export: unknown format '%s' (sglang, vllm, moemap)", name);
    o->exports[o->nexp++] = arg;
    return 0;
}

/* Parses the command line: -1 to go on, else the exit status (0 after --help). */
static int parse_place(int argc, char **argv, place_opts *o, moemap_place_job *job)
{
    moemap_place_params *pp = &job->place;
    char strategies[512];
    moemap_place_strategy_known(NULL, strategies, sizeof strategies - 20);
    strcat(strategies, "\n(default moemap)");
    const cli_flag flags[] = {
        CLI_INPUT_FLAGS(&o->in),
        CLI_HELP("strategy:\n"),
        {"strategy", 0, CLI_FN, &pp->strategy, 0, 0, "NAME", strategies, cli_strategy},
        CLI_GROUP(pp, moemap_place_search_options),
        CLI_HELP("re-placement:\n"),
        CLI_PREVIOUS_FLAG(&o->in, "the placement now in service"),
        CLI_GROUP(pp, moemap_place_move_options),
        {"plan", 0, CLI_STR, &o->plan_path, 0, 0, "PLAN.json",
         "write the migration plan from OLD (needs --previous)", NULL},
        CLI_HELP("output:\n"),
        {"out", 'o', CLI_STR, &o->out_path, 0, 0, "P.json", "the placement", NULL},
        {"export", 0, CLI_FN, o, 0, 0, "FMT=FILE",
         "also write sglang, vllm or moemap format; repeatable", add_export},
        {"approximate-exports", 0, CLI_SET, &o->approximate, 0, 0, NULL,
         "equalise shares / pad slots where SGLang or vLLM\ncannot express the placement "
         "(else: an error)", NULL},
        CLI_JSON(&o->as_json, "print the placement's evaluation (moemap.eval/v1) "
                              "instead\nof the summary line"),
        {"no-fewer-slots-check", 0, CLI_SET, &o->no_fewer, 0, 0, NULL,
         "with --engine, do not also place with one slot fewer\nper GPU (by default, when "
         "that is predicted faster,\na note says so: a smaller --ep-num-redundant-experts)",
         NULL},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"place", usage, flags, NULL, 26, NULL};
    int rc = cli_parse(&spec, argc, argv);
    if (rc < 0) { /* the strategy's default budget, then a --time-limit given over it */
        pp->time_limit_s = moemap_place_strategy_budget(pp->strategy);
        o->nexp = 0;
        rc = cli_parse(&spec, argc, argv);
    }
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("place", "unexpected argument '%s'", argv[optind]);
    if (!o->in.loads_path || !o->in.cluster_path || !o->out_path)
        return cli_usage_error("place", "--loads, --cluster and --out are required");
    if ((pp->max_moves > 0 || pp->move_cost_us_per_gb > 0 || o->plan_path) &&
        !o->in.previous_path)
        return cli_usage_error("place", "--max-moves, --move-cost-us-per-GB and --plan need "
                               "--previous");
    job->fewer_check = !o->no_fewer;
    return -1;
}

/* The placement written, then the evaluation (--json) or the summary and the note. */
static int place_and_report(place_opts *o, moemap_place_job *job, moemap_loads *ld,
                            moemap_cluster *cl, moemap_placement *prev, moemap_error *err)
{
    moemap_migration_plan *plan = NULL;
    moemap_export_params xp = moemap_export_default_params();
    xp.model = o->in.ip.model;
    xp.approximate = o->approximate;
    char notes[4096];
    int rc = moemap_place_job_run(job, ld, cl, prev, &o->in.ip, err);
    cli_progress_done();
    if (!rc) {
        rc = moemap_place_job_write(job, o->out_path, o->exports, o->nexp, &xp, prev,
                                    o->plan_path, &plan, notes, sizeof notes, err);
        cli_notes("place", notes);
    }
    rc = rc ? 1 : 0;
    if (!rc && o->as_json) { /* the placement's evaluation, as moemap eval --json writes it */
        char *files[1] = {(char *)o->out_path};
        moemap_eval_file ef = {ld->num_batches, 1, files, &job->es};
        rc = moemap_eval_write("-", &ef, err) ? 1 : 0;
    } else if (!rc) {
        rc = cli_put("place", moemap_text_place(job, &o->in.ip, prev != NULL, plan), stdout)
                 ? -1
                 : moemap_place_job_fewer_slots(job, ld, cl, prev, err) ? 1 : 0;
        char *note = rc ? NULL : moemap_text_place_fewer(job);
        cli_notes("place", note);
        moemap_free(note);
    }
    moemap_migration_plan_free(plan);
    return rc;
}

int cmd_place(int argc, char **argv)
{
    moemap_place_job job = moemap_place_job_default();
    job.t_start = mm_now_s();
    job.place.progress = cli_progress_fn;
    job.place.progress_ctx = (void *)"place: layers";
    place_opts o = {.in = {.ip = moemap_input_default_params(), .cmd = "place"}};
    int rc = parse_place(argc, argv, &o, &job);
    if (rc >= 0)
        return rc;
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_cluster *cl = NULL;
    moemap_placement *prev = NULL;
    rc = cli_inputs_read(&o.in, &ld, &cl, &prev, &err) ? 1
                                                       : place_and_report(&o, &job, ld, cl,
                                                                          prev, &err);
    if (rc > 0)
        cli_fail("place", &err);
    moemap_place_job_free(&job);
    moemap_placement_free(prev);
    moemap_cluster_free(cl);
    moemap_loads_free(ld);
    return rc ? 1 : 0;
}
