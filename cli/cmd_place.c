/*
 * cmd_place.c — `moemap place`: reads a workload (any format moemap_workload_read
 * knows) and a cluster profile, computes a placement with the chosen strategy, writes it
 * (moemap.placement/v1) plus optional exports for SGLang / vLLM and a migration plan from
 * a previous placement, and prints a one-line summary with the predicted cost and its gap
 * to the lower bound; for the exact strategy, also whether every layer was proven optimal
 * (the placement's "predicted"."solver"). Parsing and printing only: the work is in
 * src/place and src/eval.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

#define MAX_EXPORTS 8

static void usage(FILE *f)
{
    fprintf(f,
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
            "input:\n"
            CLI_INPUT_HELP
            "strategy:\n"
            "  --strategy NAME         ");
    for (const char *const *n = moemap_place_strategy_names(); *n; n++)
        fprintf(f, "%s%s", n == moemap_place_strategy_names() ? "" : ", ", *n);
    fprintf(f,
            "\n                          (default moemap)\n"
            "  --seed S                random seed (default 1)\n"
            "  --tail-weight W         moemap objective: mean + W * p90 (default 0.5)\n"
            "  --time-limit S          wall-clock budget of the whole command: reading,\n"
            "                          search, bounds, writing (default 1; exact: search\n"
            "                          per layer, default 60)\n"
            "  --deterministic         the search stops on its work budget, never on the\n"
            "                          clock: the same placement on any machine and load\n"
            "                          (the call may then take longer than --time-limit)\n"
            "  --nodes-groups N        eplb: hierarchical, N expert groups per node\n"
            "re-placement:\n"
            "  --previous OLD.json     the placement now in service\n"
            "  --max-moves K           at most K replica additions per layer vs OLD\n"
            "  --move-cost-us-per-GB X objective pays X us per GB of weights copied\n"
            "  --plan PLAN.json        write the migration plan from OLD (needs --previous)\n"
            "output:\n"
            "  -o, --out P.json        the placement\n"
            "  --export FMT=FILE       also write sglang, vllm or moemap format; repeatable\n"
            "  --approximate-exports   equalise shares / pad slots where SGLang or vLLM\n"
            "                          cannot express the placement (else: an error)\n"
            "  --json                  print the placement's evaluation (moemap.eval/v1) instead\n"
            "                          of the summary line\n"
            "  --no-fewer-slots-check  with --engine, do not also place with one slot fewer\n"
            "                          per GPU (by default, when that is predicted faster,\n"
            "                          a note says so: a smaller --ep-num-redundant-experts)\n"
            "  -h, --help\n");
}

static void on_progress(void *ctx, int done, int total)
{
    (void)ctx;
    cli_progress("place: layers", done, total);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The exact solver's verdict from the placement's "predicted"."solver" (written by the
 * driver when the strategy can prove optimality): ", optimal: all 26 layers" or
 * ", NOT proven optimal: 3 of 26 layers hit the time limit (worst gap 4.10%)". Prints
 * nothing when there is no verdict (heuristics). */
static void print_solver(const moemap_placement *p)
{
    json_t *pred = p->predicted_json ? json_loads(p->predicted_json, 0, NULL) : NULL;
    json_t *s = json_object_get(pred, "solver");
    json_t *opt = json_object_get(s, "optimal_layers");
    json_t *tl = json_object_get(s, "time_limit_layers");
    json_t *gap = json_object_get(s, "worst_gap");
    if (json_is_integer(opt) && json_is_integer(tl) && json_is_number(gap)) {
        long long n_tl = json_integer_value(tl);
        long long n = json_integer_value(opt) + n_tl;
        if (n_tl == 0)
            printf(", optimal: all %lld layers", n);
        else if (json_number_value(gap) < 1)
            printf(", NOT proven optimal: %lld of %lld layers hit the time limit (worst gap "
                   "%.2f%%)", n_tl, n, 100 * json_number_value(gap));
        else
            printf(", NOT proven optimal: %lld of %lld layers hit the time limit (no bound "
                   "proven for at least one)", n_tl, n);
    }
    json_decref(pred);
}

/* The figure a placement is judged by: the whole layer (dispatch + compute + combine)
 * unless the cost model was asked to leave the all-to-all out. */
static double headline_us(const moemap_eval_summary *s, const moemap_place_params *pp)
{
    return pp->a2a.off ? s->mean_us : s->layer_mean_us;
}

/* Under engine rules every slot is filled, and at decode sizes every copy costs the
 * curve's floor: fewer redundant copies can be faster. Places again with one slot fewer
 * per GPU (in what is left of the budget: a quarter of the search's) and says so on
 * stderr when that is predicted faster, with the figure and the SGLang flag. */
static int fewer_slots_note(const moemap_loads *ld, const moemap_cluster *cl,
                            const moemap_place_params *pp, const moemap_placement *p,
                            double mean_us, double budget_s, moemap_error *err)
{
    int G = p->num_gpus, S = p->layers[0].num_replicas / G;
    if ((S - 1) * G < p->experts)
        return 0;
    moemap_place_params fp = *pp;
    fp.slots = S - 1;
    fp.progress = NULL;
    fp.time_limit_s = budget_s > 0.001 ? budget_s : 0.001;
    moemap_placement *alt = NULL;
    moemap_eval_summary *s = NULL;
    moemap_eval_params ep = moemap_eval_default_params();
    ep.no_bound = 1;
    ep.a2a = pp->a2a;
    int rc = moemap_place(ld, cl, &fp, &alt, err);
    if (!rc)
        rc = moemap_eval_placement(ld, cl, alt, &ep, &s, err);
    if (!rc && headline_us(s, pp) < mean_us)
        fprintf(stderr, "moemap place: note: with %d slots per GPU (SGLang "
                "--ep-num-redundant-experts %d) the predicted %s is %.1f us, %.1f%% below "
                "this placement's: every filled slot pays the curve's floor\n", S - 1,
                (S - 1) * G - p->experts, pp->a2a.off ? "mean" : "whole layer",
                headline_us(s, pp), 100 * (1 - headline_us(s, pp) / mean_us));
    moemap_eval_summary_free(s);
    moemap_placement_free(alt);
    return rc;
}

/* What the command line asked for. */
typedef struct place_opts {
    cli_inputs in;
    moemap_place_params pp;
    const char *out_path, *plan_path;
    const char *exp_fmt[MAX_EXPORTS], *exp_file[MAX_EXPORTS];
    int fmts[MAX_EXPORTS];
    int nexp, time_given, approximate, fewer_check, as_json;
} place_opts;

/* What the command read and computed; freed by place_state_free. */
typedef struct place_state {
    double t_start;          /* --time-limit counts from here */
    double limit_s;          /* the whole call's budget */
    double took;             /* seconds in moemap_place */
    moemap_loads *ld;
    moemap_cluster *cl;
    moemap_placement *prev, *p, *eplb;
    moemap_eval_summary *es, *base;
    moemap_migration_plan *plan;
    moemap_eval_bounds *bounds;
} place_state;

static void place_state_free(place_state *st)
{
    moemap_migration_plan_free(st->plan);
    moemap_eval_bounds_free(st->bounds);
    moemap_eval_summary_free(st->es);
    moemap_eval_summary_free(st->base);
    moemap_placement_free(st->eplb);
    moemap_placement_free(st->p);
    moemap_placement_free(st->prev);
    moemap_cluster_free(st->cl);
    moemap_loads_free(st->ld);
}

/* One --export FORMAT=FILE; 0 or 2 after a usage error. */
static int add_export(const char *cmd, const char *arg, place_opts *o)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return cli_usage_error(cmd, "--export: expected FORMAT=FILE, got '%s'", arg);
    if (o->nexp == MAX_EXPORTS)
        return cli_usage_error(cmd, "--export: at most %d exports", MAX_EXPORTS);
    char name[32];
    size_t n = (size_t)(eq - arg);
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), arg);
    int f = moemap_export_format_parse(name);
    if (f < 0)
        return cli_usage_error(cmd, "--export: unknown format '%s' (sglang, vllm, moemap)", name);
    o->exp_fmt[o->nexp] = arg;
    o->exp_file[o->nexp] = eq + 1;
    o->fmts[o->nexp++] = f;
    return 0;
}

enum {
    O_SEED = 256, O_TAIL, O_TIME, O_GROUPS, O_MOVES, O_MCOST, O_PLAN, O_EXPORT, O_APPROX,
    O_NO_FEWER, O_DETERMINISTIC, O_JSON
};

/* One option of the place-specific table; 0, or 2 after a usage error. */
static int place_option(const char *cmd, int c, const char *arg, place_opts *o)
{
    moemap_place_params *pp = &o->pp;
    long v;
    switch (c) {
    case 'S':
        if (cli_check_strategy(cmd, arg))
            return 2;
        pp->strategy = arg;
        return 0;
    case 'o': o->out_path = arg; return 0;
    case O_JSON: o->as_json = 1; return 0;
    case O_SEED:
        if (cli_parse_long(cmd, "--seed", arg, 0, 0x7fffffffffffffffL, &v))
            return 2;
        pp->seed = (uint64_t)v;
        return 0;
    case O_TAIL: return cli_parse_double(cmd, "--tail-weight", arg, 0, 100, &pp->tail_weight);
    case O_TIME:
        o->time_given = 1;
        return cli_parse_double(cmd, "--time-limit", arg, 0.001, 86400, &pp->time_limit_s);
    case O_GROUPS:
        if (cli_parse_long(cmd, "--nodes-groups", arg, 1, 1000000, &v))
            return 2;
        pp->nodes_groups = (int)v;
        return 0;
    case O_MOVES:
        if (cli_parse_long(cmd, "--max-moves", arg, 1, 100000000, &v))
            return 2;
        pp->max_moves = (int)v;
        return 0;
    case O_MCOST:
        return cli_parse_double(cmd, "--move-cost-us-per-GB", arg, 0, 1e12,
                                &pp->move_cost_us_per_gb);
    case O_PLAN: o->plan_path = arg; return 0;
    case O_EXPORT: return add_export(cmd, arg, o);
    case O_APPROX: o->approximate = 1; return 0;
    case O_NO_FEWER: o->fewer_check = 0; return 0;
    case O_DETERMINISTIC: pp->deterministic = 1; return 0;
    }
    return -1; /* not ours */
}

/* Parses the command line into o: -1 to go on, else the exit status (0 after --help). */
static int parse_place(int argc, char **argv, place_opts *o)
{
    const char *cmd = "place";
    static const struct option opts[] = {
        CLI_INPUT_OPTIONS,
        CLI_PREVIOUS_OPTION,
        {"strategy", required_argument, 0, 'S'},
        {"out", required_argument, 0, 'o'},
        {"seed", required_argument, 0, O_SEED},
        {"tail-weight", required_argument, 0, O_TAIL},
        {"time-limit", required_argument, 0, O_TIME},
        {"nodes-groups", required_argument, 0, O_GROUPS},
        {"max-moves", required_argument, 0, O_MOVES},
        {"move-cost-us-per-GB", required_argument, 0, O_MCOST},
        {"plan", required_argument, 0, O_PLAN},
        {"export", required_argument, 0, O_EXPORT},
        {"approximate-exports", no_argument, 0, O_APPROX},
        {"no-fewer-slots-check", no_argument, 0, O_NO_FEWER},
        {"deterministic", no_argument, 0, O_DETERMINISTIC},
        {"json", no_argument, 0, O_JSON},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:c:o:m:h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        int r = place_option(cmd, c, optarg, o);
        if (r < 0)
            r = cli_input_option(cmd, c, argv, &o->in);
        if (r)
            return 2;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->in.loads_path || !o->in.cluster_path || !o->out_path)
        return cli_usage_error(cmd, "--loads, --cluster and --out are required");
    if (o->as_json && !strcmp(o->out_path, "-"))
        return cli_usage_error(cmd, "--json needs --out FILE (the placement is stdout)");
    if ((o->pp.max_moves > 0 || o->pp.move_cost_us_per_gb > 0 || o->plan_path) &&
        !o->in.previous_path)
        return cli_usage_error(cmd, "--max-moves, --move-cost-us-per-GB and --plan need "
                               "--previous");
    return -1;
}

/* --time-limit is the command's budget. The bounds need no placement: computed first (the
 * one-placement LPs stop at 30% of the budget), their time and what reading took come off
 * the search's, which also leaves a reserve for evaluating (the placement, and eplb's as
 * the baseline: ~25 ns per batch and replica slot, measured) and for writing (~1.5 us per
 * replica slot); with --engine a quarter of the search's time goes to the one-slot-fewer
 * check. */
static int budget_and_bounds(place_opts *o, place_state *st, moemap_error *err)
{
    moemap_place_params *pp = &o->pp;
    int budgeted = strcmp(pp->strategy, "exact") != 0 && !pp->deterministic;
    st->limit_s = pp->time_limit_s;
    double lp_s = budgeted ? 0.3 * pp->time_limit_s - (now_s() - st->t_start) : 0;
    if (moemap_eval_bounds_create(st->ld, st->cl, pp->slots,
                                  budgeted && lp_s < 0.001 ? 0.001 : lp_s, &st->bounds, err))
        return 1;
    if (!budgeted)
        return 0;
    double slots_total = 0;
    for (int g = 0; g < st->cl->num_gpus; g++)
        slots_total += o->in.slots > 0 ? o->in.slots : st->cl->gpus[g].slots;
    double layer_slots = (double)st->ld->num_layers * slots_total;
    double left = pp->time_limit_s - (now_s() - st->t_start) - 1.5e-6 * layer_slots -
                  2 * 25e-9 * layer_slots * st->ld->num_batches;
    if (o->fewer_check && pp->engine != MOEMAP_ENGINE_NONE && !st->prev)
        left *= 0.75;
    pp->time_limit_s = left > 0.001 ? left : 0.001;
    return 0;
}

/* Places, evaluates once, and places eplb under the same rules as the baseline the
 * summary compares with (not for eplb itself, nor for a re-placement). */
static int place_and_evaluate(place_opts *o, place_state *st, moemap_error *err)
{
    moemap_place_params *pp = &o->pp;
    double t0 = now_s();
    int rc = moemap_place(st->ld, st->cl, pp, &st->p, err);
    cli_progress_done();
    if (rc)
        return rc;
    st->took = now_s() - t0;
    moemap_eval_params ep = moemap_eval_default_params();
    ep.slots = pp->slots;
    ep.a2a = pp->a2a;
    ep.previous = st->prev;
    ep.bounds = st->bounds;
    if (pp->engine != MOEMAP_ENGINE_NONE)
        ep.engine_slots = st->p->layers[0].num_replicas / st->p->num_gpus;
    rc = moemap_eval_placement(st->ld, st->cl, st->p, &ep, &st->es, err);
    if (rc || strncmp(pp->strategy, "eplb", 4) == 0 || st->prev)
        return rc;
    moemap_place_params bp = *pp;
    bp.strategy = "eplb";
    bp.progress = NULL;
    bp.no_predicted = 1;
    ep.engine_slots = 0;
    ep.no_bound = 1;
    rc = moemap_place(st->ld, st->cl, &bp, &st->eplb, err);
    return rc ? rc : moemap_eval_placement(st->ld, st->cl, st->eplb, &ep, &st->base, err);
}

/* The placement (with its prediction), the exports (saying what SGLang needs to load
 * one) and the migration plan. */
static int write_outputs(const place_opts *o, place_state *st, moemap_error *err)
{
    if (moemap_placement_set_predicted(st->p, st->es, err) ||
        moemap_placement_write(st->p, o->out_path, err))
        return 1;
    moemap_export_params xp = moemap_export_default_params();
    xp.model = o->in.model;
    xp.approximate = o->approximate;
    for (int i = 0; i < o->nexp; i++) {
        moemap_export_info info;
        if (moemap_export_write(st->p, (moemap_export_format)o->fmts[i], &xp, o->exp_file[i],
                                &info, err) != 0) {
            moemap_error_prefix(err, "--export %s", o->exp_fmt[i]);
            return 1;
        }
        if (info.approximated)
            fprintf(stderr, "moemap place: --export %s: approximated: %s\n", o->exp_fmt[i],
                    info.note);
        if (o->fmts[i] == MOEMAP_EXPORT_SGLANG)
            fprintf(stderr, "moemap place: SGLang loads it with --init-expert-location %s "
                    "--ep-size %d --ep-num-redundant-experts %d (GPU g = EP rank g)\n",
                    o->exp_file[i], st->p->num_gpus, info.redundant_experts);
    }
    if (o->plan_path &&
        (moemap_migration_plan_create(st->prev, st->p, o->pp.expert_bytes, &st->plan, err) ||
         moemap_migration_plan_write(st->plan, o->plan_path, err)))
        return 1;
    return 0;
}

/* The one-line summary: cost, bounds, the baseline, the operating point. */
static void print_summary(const place_opts *o, const place_state *st)
{
    const moemap_eval_summary *es = st->es;
    printf("%s: %d layers, %ld replicas, %.3f s: mean %.1f us, p90 %.1f us, bound %.1f us, "
           "gap %.2f%%", st->p->strategy, st->p->num_layers, es->replicas, st->took,
           es->mean_us, es->p90_us, es->bound_mean_us, 100 * es->gap);
    if (!o->pp.a2a.off)
        printf("; whole layer with dispatch and combine %.1f us (p90 %.1f)", es->layer_mean_us,
               es->layer_p90_us);
    if (es->engine_bound_mean_us > 0)
        printf(", %s-rules bound %.1f us", moemap_engine_name(o->pp.engine),
               es->engine_bound_mean_us);
    if (st->base) {
        double mine = headline_us(es, &o->pp), theirs = headline_us(st->base, &o->pp);
        printf("; eplb under the same rules: %s %.1f us (%s %.3fx eplb)",
               o->pp.a2a.off ? "mean" : "whole layer", theirs, o->pp.strategy,
               theirs > 0 ? mine / theirs : 1.0);
    }
    if (o->in.op_text[0])
        printf("; at %s tokens per iteration", o->in.op_text);
    if (st->prev)
        printf(", %ld experts moved", es->moved);
    if (st->plan)
        printf(", plan %d steps (%.2f GB)", st->plan->num_steps, st->plan->total_bytes / 1e9);
    print_solver(st->p);
    printf("\n");
}

int cmd_place(int argc, char **argv)
{
    place_state st = {0};
    st.t_start = now_s();
    place_opts o = {0};
    o.in = cli_inputs_default();
    o.in.cmd = "place";
    o.pp = moemap_place_default_params();
    o.fewer_check = 1;
    int rc = parse_place(argc, argv, &o);
    if (rc >= 0)
        return rc;
    moemap_error err = {0};
    moemap_place_params *pp = &o.pp;
    rc = 1;
    if (cli_inputs_read(&o.in, &st.ld, &st.cl, &st.prev, &err) != 0)
        goto out;
    pp->slots = o.in.slots;
    pp->engine = o.in.engine;
    pp->a2a = o.in.a2a;
    pp->batch_tokens = o.in.batch_tokens;
    pp->top_k = o.in.rp.top_k;
    if (!o.time_given && strcmp(pp->strategy, "exact") == 0)
        pp->time_limit_s = 60; /* exact's limit is per layer (place.h) */
    pp->previous = st.prev;
    pp->expert_bytes = o.in.model ? moemap_model_expert_bytes(o.in.model)
                                  : moemap_cluster_expert_bytes(st.cl);
    pp->progress = on_progress;
    pp->no_predicted = 1; /* evaluated once, then recorded */
    if (budget_and_bounds(&o, &st, &err) || place_and_evaluate(&o, &st, &err) ||
        write_outputs(&o, &st, &err))
        goto out;
    if (o.as_json) { /* the placement's evaluation, as moemap eval --json writes it */
        char *files[1] = {(char *)o.out_path};
        moemap_eval_file ef = {st.ld->num_batches, 1, files, &st.es};
        rc = moemap_eval_write("-", &ef, &err) ? 1 : 0;
        goto out;
    }
    print_summary(&o, &st);
    if (o.fewer_check && pp->engine != MOEMAP_ENGINE_NONE && !st.prev &&
        fewer_slots_note(st.ld, st.cl, pp, st.p, headline_us(st.es, pp),
                         st.limit_s - (now_s() - st.t_start) - 0.05 * st.limit_s, &err) != 0)
        goto out;
    rc = 0;
out:
    if (rc)
        cli_fail("place", &err);
    place_state_free(&st);
    return rc;
}
