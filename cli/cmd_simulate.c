/*
 * cmd_simulate.c — `moemap simulate`: serve a real arrival trace (or a Poisson/bursty
 * stream) with one or more placements and recalibration policies in the discrete-event
 * simulator, and print TTFT/TPOT/E2E percentiles, SLO attainment, goodput, throughput,
 * barrier idle and migration cost side by side (or as JSON). Parsing and printing only;
 * the call is moemap_sim_job_run (moemap/sim_job.h, docs/simulate.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: moemap simulate --model M --cluster C.json --loads L --placement P.json\n"
    "                       [options]\n"
    "       moemap simulate ... --compare P1.json P2.json ... [--policies LIST]\n\n"
    "Discrete-event simulation of an expert-parallel MoE serving engine: requests\n"
    "arrive, a continuous-batching scheduler with chunked prefill forms iterations,\n"
    "each layer runs in lock step (attention roofline, all-to-all, MoE straggler\n"
    "under the cluster's cost model with expert counts sampled from --loads).\n"
    "Deterministic for a seed. See docs/simulate.md.\n\n"
    "inputs:\n";

/* A library answer as a usage error naming the flag ("" for none). */
static int usage_if(int rc, const char *flag, const char *why)
{
    return rc ? cli_usage_error("simulate", "%s%s", flag, why) : 0;
}

static int add_placement(const char *cmd, const char *arg, void *job)
{
    char why[256];
    (void)cmd;
    return usage_if(moemap_sim_job_add_placement(job, arg, why, sizeof why), "", why);
}

static int add_event(const char *cmd, const char *arg, void *job)
{
    char why[256];
    (void)cmd;
    return usage_if(moemap_sim_job_add_event(job, arg, why, sizeof why), "--event: ", why);
}

static int set_policies(const char *cmd, const char *arg, void *job)
{
    char why[256];
    (void)cmd;
    return usage_if(moemap_sim_job_set_policies(job, arg, why, sizeof why), "--policies: ",
                    why);
}

static int set_policy(const char *cmd, const char *arg, void *dst)
{
    int p = moemap_recal_policy_parse(arg);
    if (p < 0)
        return cli_usage_error(cmd, "--policy: unknown '%s' (none, periodic, drift, moemap)",
                               arg);
    *(moemap_recal_policy *)dst = (moemap_recal_policy)p;
    return 0;
}

/* Simulates and prints (or writes JSON: the library's writer puts a temporary file in
 * place, so a killed or failed run never leaves half a file where the old one was). */
static int run(moemap_sim_job *job, int json, const char *ts_path)
{
    moemap_error err = {0};
    int rc = moemap_sim_job_run(job, &err);
    cli_progress_done();
    char *labels[MOEMAP_SIM_MAX_RUNS];
    for (int i = 0; i < job->num_runs; i++)
        labels[i] = job->labels[i];
    moemap_sim_file f = {job->num_runs, labels, job->results};
    if (!rc && ts_path)
        rc = moemap_sim_write(ts_path, &f, 1, &err);
    if (!rc && json)
        rc = moemap_sim_write("-", &f, 0, &err);
    if (rc)
        return cli_fail("simulate", &err);
    if (json)
        return 0;
    return cli_put("simulate", moemap_text_sim(job->results, labels, job->num_runs, &job->sim,
                                               &job->capacity), stdout);
}

/* What the flags say besides the job's parameters. */
typedef struct sim_cli {
    moemap_sim_job job;
    cli_dlist rates;
    int compare, json;
    double poisson, bursty; /* req/s of a generator */
    const char *ts_path;
} sim_cli;

/* The engine, recalibration, metric and capacity flags (after `first`, the input and
 * arrival flags) and the parse. */
static int parse(int argc, char **argv, sim_cli *o, const cli_flag *first)
{
    moemap_sim_params *sp = &o->job.sim;
    const cli_flag flags[] = {
        CLI_HELP("engine:\n"),
        CLI_GROUP(sp, moemap_sim_engine_options),
        CLI_HELP("recalibration:\n"),
        {"policy", 0, CLI_FN, &sp->policy, 0, 0, "NAME",
         "none, periodic, drift, moemap (default none)", set_policy},
        {"policies", 0, CLI_FN, &o->job, 0, 0, "LIST", "comma-separated policies to compare",
         set_policies},
        {"strategy", 0, CLI_FN, &sp->strategy, 0, 0, "NAME",
         "strategy the periodic policy re-runs (default eplb)", cli_strategy},
        CLI_GROUP(sp, moemap_sim_recal_options),
        {"event", 0, CLI_FN, &o->job, 0, 0, "SPEC",
         "switch@T=LOADS, slow@T=GPU:FACTOR, recover@T=GPU,\nlost@T=GPU (repeatable)",
         add_event},
        CLI_HELP("metrics and output:\n"),
        CLI_GROUP(sp, moemap_sim_slo_options),
        CLI_JSON(&o->json, "JSON on stdout (keys in docs/simulate.md)"),
        {"timeseries", 0, CLI_STR, &o->ts_path, 0, 0, "FILE",
         "JSON with per-second series and markers to FILE", NULL},
        CLI_HELP("capacity (how much load each run sustains):\n"),
        {"capacity", 0, CLI_DLIST, &o->rates, 0, 0, "RATES",
         "also sweep these request rates (ascending, req/s,\ncomma-separated): Poisson "
         "(--bursty: bursty)\narrivals, lengths resampled from --arrivals, the same\nfor every "
         "run; reports the highest rate with at least\nthe target share of requests inside "
         "the SLO", NULL},
        CLI_GROUP(&o->job.capacity, moemap_capacity_options),
        {"dispatch", 0, CLI_FN, &sp->a2a, 0, 0, "D",
         "dispatch and combine of every MoE layer: token-gpu\n(default: one row per token and "
         "GPU), token-expert\nor off (expert compute alone)", cli_input_dispatch},
        CLI_HELP_FLAG,
        CLI_END};
    const cli_spec spec = {"simulate", usage, first, NULL, 28, flags};
    return cli_parse(&spec, argc, argv);
}

int cmd_simulate(int argc, char **argv)
{
    sim_cli o = {.job = moemap_sim_job_default()};
    moemap_sim_job *job = &o.job;
    const cli_flag flags[] = {
        {"model", 'm', CLI_FN, &job->model, 0, 0, "NAME", "model preset (moemap models)",
         cli_input_model},
        {"cluster", 'c', CLI_STR, &job->cluster_path, 0, 0, "FILE",
         "cluster profile (moemap.cluster/v1)", NULL},
        {"loads", 'l', CLI_STR, &job->loads_path, 0, 0, "PATH",
         "workload the expert counts are sampled from (any\ninput moemap reads)", NULL},
        {"batch-tokens", 'b', CLI_LONG, &job->batch_tokens, 1, 100000000, "N",
         "tokens per batch for per-token traces (default 512)", NULL},
        {"placement", 'p', CLI_FN, job, 0, 0, "FILE", "placement (moemap.placement/v1)",
         add_placement},
        {"compare", 0, CLI_SET, &o.compare, 0, 0, NULL,
         "the remaining arguments are more placements; every\nplacement x policy runs on the "
         "same arrivals and seed", NULL},
        CLI_HELP("arrivals (default azure-conv):\n"),
        {"arrivals", 'a', CLI_STR, &job->arrivals, 0, 0, "NAME|FILE",
         "azure-conv, azure-code, mooncake-conv,\nmooncake-synth (from $MOEMAP_DATA or "
         "../shared/data),\nor an Azure CSV / Mooncake JSONL file", NULL},
        {"poisson", 0, CLI_DOUBLE, &o.poisson, 1e-6, 1e6, "RATE",
         "Poisson arrivals at RATE req/s (lengths resampled\nfrom --arrivals)", NULL},
        {"bursty", 0, CLI_DOUBLE, &o.bursty, 1e-6, 1e6, "RATE",
         "bursty arrivals (hyper-exponential gaps, CV 3)", NULL},
        {"duration", 'd', CLI_DOUBLE, &job->duration_s, 1e-3, 1e7, "S",
         "serve the arrivals of the first S seconds, then drain\n(default: the whole trace; "
         "60 for generators)", NULL},
        {"rate-scale", 0, CLI_DOUBLE, &job->rate_scale, 1e-3, 1e3, "X",
         "compress the trace's time by X (default 1)", NULL},
        CLI_END};
    int rc = parse(argc, argv, &o, flags);
    for (; rc < 0 && optind < argc; optind++)
        rc = !o.compare ? cli_usage_error("simulate", "unexpected argument '%s' (placements "
                                          "to compare go after --compare)", argv[optind])
                        : add_placement("simulate", argv[optind], job) ? 2 : -1;
    if (rc < 0 && (!job->model || !job->cluster_path || !job->loads_path ||
                   !job->num_placements))
        rc = cli_usage_error("simulate", "--model, --cluster, --loads and --placement are "
                             "required");
    if (rc < 0 && o.poisson > 0 && o.bursty > 0)
        rc = cli_usage_error("simulate", "--poisson and --bursty: give one arrival process");
    if (rc < 0 && job->num_placements * (job->num_policies ? job->num_policies : 1) >
                      MOEMAP_SIM_MAX_RUNS)
        rc = cli_usage_error("simulate", "at most %d runs (placements x policies)",
                             MOEMAP_SIM_MAX_RUNS);
    char why[256];
    if (rc < 0 && !(rc = usage_if(moemap_sim_job_set_rates(job, o.rates.v, o.rates.n, why,
                                                           sizeof why), "--capacity: ", why))) {
        job->process = o.bursty > 0 ? MOEMAP_ARRIVALS_BURSTY
                       : o.poisson > 0 ? MOEMAP_ARRIVALS_POISSON : -1;
        job->rate = o.bursty > 0 ? o.bursty : o.poisson;
        job->sim.progress = cli_progress_fn;
        rc = run(job, o.json, o.ts_path);
    }
    moemap_free(o.rates.v);
    moemap_sim_job_free(job);
    return rc;
}
