/*
 * cmd_simulate.c — `moemap simulate`: serve a real arrival trace (or a Poisson/bursty
 * stream) with one or more placements and recalibration policies in the discrete-event
 * simulator, and print TTFT/TPOT/E2E percentiles, SLO attainment, goodput, throughput,
 * barrier idle and migration cost side by side (or as JSON). Parsing and printing only;
 * the simulator is libmoemap's (moemap/sim.h, docs/simulate.md).
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RUNS 16
#define MAX_EVENTS 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moemap simulate --model M --cluster C.json --loads L --placement P.json\n"
            "                       [options]\n"
            "       moemap simulate ... --compare P1.json P2.json ... [--policies LIST]\n\n"
            "Discrete-event simulation of an expert-parallel MoE serving engine: requests\n"
            "arrive, a continuous-batching scheduler with chunked prefill forms iterations,\n"
            "each layer runs in lock step (attention roofline, all-to-all, MoE straggler\n"
            "under the cluster's cost model with expert counts sampled from --loads).\n"
            "Deterministic for a seed. See docs/simulate.md.\n\n"
            "inputs:\n"
            "  -m, --model NAME          model preset (moemap models)\n"
            "  -c, --cluster FILE        cluster profile (moemap.cluster/v1)\n"
            "  -l, --loads PATH          workload the expert counts are sampled from (any\n"
            "                            input moemap reads)\n"
            "  -b, --batch-tokens N      tokens per batch for per-token traces (default 512)\n"
            "  -p, --placement FILE      placement (moemap.placement/v1)\n"
            "  --compare                 the remaining arguments are more placements; every\n"
            "                            placement x policy runs on the same arrivals and seed\n"
            "arrivals (default azure-conv):\n"
            "  -a, --arrivals NAME|FILE  azure-conv, azure-code, mooncake-conv,\n"
            "                            mooncake-synth (from $MOEMAP_DATA or ../shared/data),\n"
            "                            or an Azure CSV / Mooncake JSONL file\n"
            "  --poisson RATE            Poisson arrivals at RATE req/s (lengths resampled\n"
            "                            from --arrivals)\n"
            "  --bursty RATE             bursty arrivals (hyper-exponential gaps, CV 3)\n"
            "  -d, --duration S          serve the arrivals of the first S seconds, then drain\n"
            "                            (default: the whole trace; 60 for generators)\n"
            "  --rate-scale X            compress the trace's time by X (default 1)\n"
            "engine:\n"
            "  --max-batch-tokens N      token budget per iteration (default 8192)\n"
            "  --max-running N           concurrent requests (default 256)\n"
            "  --peak-tflops X           roofline rate of a speed-1 GPU (default 790)\n"
            "  --mem-GBps X              roofline bandwidth (default 4300)\n"
            "  --jitter X                scale of each GPU's curve cv (default 1; 0 = off)\n"
            "recalibration:\n"
            "  --policy NAME             none, periodic, drift, moemap (default none)\n"
            "  --policies LIST           comma-separated policies to compare\n"
            "  --strategy NAME           strategy the periodic policy re-runs (default eplb)\n"
            "  --recal-interval N        iterations between re-placements/checks (default 2000)\n"
            "  --recal-window N          iterations of recorded loads used (default 500)\n"
            "  --drift-threshold X       drift/moemap trigger (default 0.05)\n"
            "  --event SPEC              switch@T=LOADS, slow@T=GPU:FACTOR, recover@T=GPU,\n"
            "                            lost@T=GPU (repeatable)\n"
            "metrics and output:\n"
            "  --slo-ttft-ms X           TTFT target (default 2000)\n"
            "  --slo-tpot-ms X           TPOT target (default 100)\n"
            "  -s, --seed N              random seed (default 1)\n"
            "  --json                    JSON on stdout (keys in docs/simulate.md)\n"
            "  --timeseries FILE         JSON with per-second series and markers to FILE\n"
            "capacity (how much load each run sustains):\n"
            "  --capacity RATES          also sweep these request rates (ascending, req/s,\n"
            "                            comma-separated): Poisson (--bursty: bursty)\n"
            "                            arrivals, lengths resampled from --arrivals, the same\n"
            "                            for every run; reports the highest rate with at least\n"
            "                            the target share of requests inside the SLO\n"
            "  --capacity-duration S     seconds of arrivals per rate (default 60)\n"
            "  --capacity-target X       share inside the SLO required (default 0.9)\n"
            "  --dispatch D              dispatch and combine of every MoE layer: token-gpu\n"
            "                            (default: one row per token and GPU), token-expert\n"
            "                            or off (expert compute alone)\n"
            "  -h, --help\n");
}

static void progress(void *ctx, long done, long total)
{
    cli_progress((const char *)ctx, done, total);
}

/* One side-by-side row per run. */
static void print_table(moemap_sim_result **res, char labels[][96], int n,
                        const moemap_sim_params *sp)
{
    printf("%-22s %8s %8s %8s  %8s %8s %8s  %8s  %6s %8s %9s %7s %9s %8s\n", "run", "TTFT p50",
           "p90", "p99", "TPOT p50", "p90", "p99", "E2E p90", "SLO%", "goodput", "tok/s",
           "idle%", "moved GB", "stall s");
    printf("%-22s %8s %8s %8s  %8s %8s %8s  %8s  %6s %8s %9s %7s %9s %8s\n", "", "(s)", "(s)",
           "(s)", "(ms)", "(ms)", "(ms)", "(s)", "", "(req/s)", "", "", "", "");
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = res[i];
        double idle = 0;
        for (int g = 0; g < r->num_gpus; g++)
            idle += r->gpu_idle_s[g];
        idle = r->sim_time_s > 0 ? 100 * idle / (r->num_gpus * r->sim_time_s) : 0;
        printf("%-22.22s %8.3f %8.3f %8.3f  %8.2f %8.2f %8.2f  %8.2f  %6.1f %8.2f %9.0f %7.1f "
               "%9.2f %8.3f\n",
               labels[i], r->ttft.p50, r->ttft.p90, r->ttft.p99, r->tpot.p50 * 1e3,
               r->tpot.p90 * 1e3, r->tpot.p99 * 1e3, r->e2e.p90, 100 * r->slo_attainment,
               r->goodput_rps, r->throughput_tps, idle, r->migration_bytes / 1e9,
               r->migration_stall_s);
    }
    printf("(%ld requests over %.0f s, %.0f tokens per iteration; SLO: TTFT <= %g ms and "
           "TPOT <= %g ms; idle%% = GPU time waiting at layer barriers)\n",
           n > 0 ? res[0]->requests : 0, n > 0 ? res[0]->sim_time_s : 0,
           n > 0 ? res[0]->mean_iteration_tokens : 0, sp->slo_ttft_s * 1e3, sp->slo_tpot_s * 1e3);
}

/* The capacity sweep: per run, the highest rate meeting the target and each rate's
 * attainment. */
static void print_capacity(moemap_sim_result **res, char labels[][96], int n,
                           const moemap_capacity_params *cp)
{
    printf("\ncapacity: the highest rate with >= %.0f%% of requests inside the SLO (%g s of "
           "arrivals per rate, same arrivals for every run)\n", 100 * cp->target,
           cp->duration_s);
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = res[i];
        printf("%-22.22s %7.2f req/s  (", labels[i], r->capacity_rps);
        for (int k = 0; k < r->capacity_n; k++)
            printf("%s%g: %.1f%%", k ? ", " : "", r->capacity_rate[k],
                   100 * r->capacity_slo[k]);
        printf(")\n");
    }
}

/* Through the library's writer (a temporary file renamed into place, so a killed or
 * failed run never leaves half a file where the old one was). */
static int write_json(moemap_sim_result **res, char labels[][96], int n, int ts,
                      const char *path)
{
    char *lab[MAX_RUNS];
    for (int i = 0; i < n; i++)
        lab[i] = labels[i];
    moemap_sim_file f = {n, lab, res};
    moemap_error err = {0};
    return moemap_sim_write(path, &f, ts, &err) ? cli_fail("simulate", &err) : 0;
}

enum {
    O_COMPARE = 256, O_POISSON, O_BURSTY, O_RATE_SCALE, O_MAXTOK, O_MAXRUN, O_PEAK, O_MEM,
    O_JITTER, O_POLICY, O_POLICIES, O_STRATEGY, O_INTERVAL, O_WINDOW, O_THRESH, O_EVENT,
    O_SLO_TTFT, O_SLO_TPOT, O_JSON, O_TS, O_CAPACITY, O_CAP_DUR, O_CAP_TARGET, O_DISPATCH
};

#define MAX_RATES 64

/* What the flags say. */
typedef struct sim_args {
    const char *model, *cluster, *loads, *arrivals, *ts_path, *policies;
    const char *placements[MAX_RUNS], *events[MAX_EVENTS];
    int npl, nev, compare, json, gen;
    long batch_tokens;
    double rate, duration, rate_scale;
    moemap_sim_params sp;
    moemap_capacity_params cp;
    double *rates;              /* --capacity */
    int nrates;
    moemap_recal_policy pols[8];
    int npol;
} sim_args;

/* What was read and computed. */
typedef struct sim_inputs {
    const moemap_model *model;
    moemap_cluster *cluster;
    moemap_loads *loads;
    moemap_arrivals *arr;
    moemap_placement *pl[MAX_RUNS];
    moemap_loads *ev_loads[MAX_EVENTS];
    moemap_sim_event ev[MAX_EVENTS];
    moemap_sim_result *res[MAX_RUNS];
    char labels[MAX_RUNS][96];
    int nruns;
    moemap_arrivals *lengths;   /* the trace whose request lengths are resampled */
} sim_inputs;

static void inputs_free(sim_inputs *in, sim_args *a)
{
    moemap_arrivals_free(in->lengths);
    free(a->rates);
    moemap_cluster_free(in->cluster);
    moemap_loads_free(in->loads);
    moemap_arrivals_free(in->arr);
    for (int i = 0; i < MAX_RUNS; i++) {
        moemap_placement_free(in->pl[i]);
        moemap_sim_result_free(in->res[i]);
    }
    for (int i = 0; i < MAX_EVENTS; i++)
        moemap_loads_free(in->ev_loads[i]);
}

static const struct option sim_opts[] = {
    {"model", required_argument, NULL, 'm'}, {"cluster", required_argument, NULL, 'c'},
    {"loads", required_argument, NULL, 'l'}, {"batch-tokens", required_argument, NULL, 'b'},
    {"placement", required_argument, NULL, 'p'}, {"compare", no_argument, NULL, O_COMPARE},
    {"arrivals", required_argument, NULL, 'a'}, {"poisson", required_argument, NULL, O_POISSON},
    {"bursty", required_argument, NULL, O_BURSTY}, {"duration", required_argument, NULL, 'd'},
    {"rate-scale", required_argument, NULL, O_RATE_SCALE},
    {"max-batch-tokens", required_argument, NULL, O_MAXTOK},
    {"max-running", required_argument, NULL, O_MAXRUN},
    {"peak-tflops", required_argument, NULL, O_PEAK}, {"mem-GBps", required_argument, NULL, O_MEM},
    {"jitter", required_argument, NULL, O_JITTER}, {"policy", required_argument, NULL, O_POLICY},
    {"policies", required_argument, NULL, O_POLICIES},
    {"strategy", required_argument, NULL, O_STRATEGY},
    {"recal-interval", required_argument, NULL, O_INTERVAL},
    {"recal-window", required_argument, NULL, O_WINDOW},
    {"drift-threshold", required_argument, NULL, O_THRESH},
    {"event", required_argument, NULL, O_EVENT},
    {"slo-ttft-ms", required_argument, NULL, O_SLO_TTFT},
    {"slo-tpot-ms", required_argument, NULL, O_SLO_TPOT}, {"seed", required_argument, NULL, 's'},
    {"json", no_argument, NULL, O_JSON}, {"timeseries", required_argument, NULL, O_TS},
    {"capacity", required_argument, NULL, O_CAPACITY},
    {"dispatch", required_argument, NULL, O_DISPATCH},
    {"capacity-duration", required_argument, NULL, O_CAP_DUR},
    {"capacity-target", required_argument, NULL, O_CAP_TARGET},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

/* A flag's value into an int within [lo, hi]; 0, or 2 after a usage error. */
static int int_flag(const char *flag, long lo, long hi, int *out)
{
    long v;
    if (cli_parse_long("simulate", flag, optarg, lo, hi, &v))
        return 2;
    *out = (int)v;
    return 0;
}

static int ms_flag(const char *flag, double *seconds)
{
    double d;
    if (cli_parse_double("simulate", flag, optarg, 1e-3, 1e9, &d))
        return 2;
    *seconds = d / 1e3;
    return 0;
}

/* --capacity RATES: positive and ascending. */
static int parse_rates(sim_args *a)
{
    free(a->rates);
    a->rates = NULL;
    if (cli_parse_double_list("simulate", "--capacity", optarg, &a->rates, &a->nrates))
        return 2;
    if (a->nrates > MAX_RATES)
        return cli_usage_error("simulate", "--capacity: at most %d rates", MAX_RATES);
    for (int i = 0; i < a->nrates; i++)
        if (!(a->rates[i] > 0) || (i > 0 && a->rates[i] <= a->rates[i - 1]))
            return cli_usage_error("simulate", "--capacity: rates must be positive and "
                                   "ascending ('%s')", optarg);
    return 0;
}

/* The engine, recalibration and metric flags. */
static int sim_option(int c, sim_args *a)
{
    moemap_sim_params *sp = &a->sp;
    long v;
    int p;
    switch (c) {
    case O_MAXTOK: return int_flag("--max-batch-tokens", 1, 10000000, &sp->max_batch_tokens);
    case O_MAXRUN: return int_flag("--max-running", 1, 1000000, &sp->max_running);
    case O_PEAK:
        return cli_parse_double("simulate", "--peak-tflops", optarg, 1e-3, 1e6, &sp->peak_tflops);
    case O_MEM: return cli_parse_double("simulate", "--mem-GBps", optarg, 1e-3, 1e7, &sp->mem_GBps);
    case O_JITTER:
        return cli_parse_double("simulate", "--jitter", optarg, 0, 100, &sp->jitter_scale);
    case O_POLICY:
        if ((p = moemap_recal_policy_parse(optarg)) < 0)
            return cli_usage_error("simulate", "--policy: unknown '%s' (none, periodic, drift, "
                                   "moemap)", optarg);
        sp->policy = (moemap_recal_policy)p;
        return 0;
    case O_POLICIES: a->policies = optarg; return 0;
    case O_STRATEGY:
        sp->strategy = optarg;
        return cli_check_strategy("simulate", optarg);
    case O_INTERVAL: return int_flag("--recal-interval", 1, 100000000, &sp->recal_interval);
    case O_WINDOW: return int_flag("--recal-window", 1, 1000000, &sp->recal_window);
    case O_THRESH:
        return cli_parse_double("simulate", "--drift-threshold", optarg, 0, 10,
                                &sp->drift_threshold);
    case O_SLO_TTFT: return ms_flag("--slo-ttft-ms", &sp->slo_ttft_s);
    case O_SLO_TPOT: return ms_flag("--slo-tpot-ms", &sp->slo_tpot_s);
    case 's':
        if (cli_parse_long("simulate", "--seed", optarg, 0, LONG_MAX, &v))
            return 2;
        sp->seed = (uint64_t)v;
        return 0;
    case O_CAPACITY: return parse_rates(a);
    case O_DISPATCH: return cli_parse_dispatch("simulate", optarg, &sp->a2a);
    case O_CAP_DUR:
        return cli_parse_double("simulate", "--capacity-duration", optarg, 1, 86400,
                                &a->cp.duration_s);
    case O_CAP_TARGET:
        return cli_parse_double("simulate", "--capacity-target", optarg, 0.01, 1, &a->cp.target);
    default: return cli_usage_error("simulate", "unknown option");
    }
}

/* The input and arrival flags; the others go to sim_option. */
static int input_option(int c, sim_args *a)
{
    switch (c) {
    case 'm': a->model = optarg; return 0;
    case 'c': a->cluster = optarg; return 0;
    case 'l': a->loads = optarg; return 0;
    case 'b':
        return cli_parse_long("simulate", "--batch-tokens", optarg, 1, 100000000,
                              &a->batch_tokens);
    case 'p':
        if (a->npl >= MAX_RUNS)
            return cli_usage_error("simulate", "at most %d placements", MAX_RUNS);
        a->placements[a->npl++] = optarg;
        return 0;
    case O_COMPARE: a->compare = 1; return 0;
    case 'a': a->arrivals = optarg; return 0;
    case O_POISSON:
    case O_BURSTY:
        a->gen = c == O_POISSON ? MOEMAP_ARRIVALS_POISSON : MOEMAP_ARRIVALS_BURSTY;
        return cli_parse_double("simulate", c == O_POISSON ? "--poisson" : "--bursty", optarg,
                                1e-6, 1e6, &a->rate);
    case 'd': return cli_parse_double("simulate", "--duration", optarg, 1e-3, 1e7, &a->duration);
    case O_RATE_SCALE:
        return cli_parse_double("simulate", "--rate-scale", optarg, 1e-3, 1e3, &a->rate_scale);
    case O_EVENT:
        if (a->nev >= MAX_EVENTS)
            return cli_usage_error("simulate", "at most %d events", MAX_EVENTS);
        a->events[a->nev++] = optarg;
        return 0;
    case O_JSON: a->json = 1; return 0;
    case O_TS: a->ts_path = optarg; return 0;
    default: return sim_option(c, a);
    }
}

/* Placements after --compare, the required flags, the policies to run. */
static int finish_args(int argc, char **argv, sim_args *a)
{
    for (; optind < argc; optind++) {
        if (!a->compare)
            return cli_usage_error("simulate", "unexpected argument '%s' (placements to "
                                   "compare go after --compare)", argv[optind]);
        if (a->npl >= MAX_RUNS)
            return cli_usage_error("simulate", "at most %d placements", MAX_RUNS);
        a->placements[a->npl++] = argv[optind];
    }
    if (!a->model || !a->cluster || !a->loads || a->npl == 0)
        return cli_usage_error("simulate", "--model, --cluster, --loads and --placement are "
                               "required");
    if (!a->policies)
        a->pols[a->npol++] = a->sp.policy;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", a->policies ? a->policies : "");
    for (char *tok = strtok(buf, ","); a->policies && tok; tok = strtok(NULL, ",")) {
        int p = moemap_recal_policy_parse(tok);
        if (p < 0)
            return cli_usage_error("simulate", "--policies: unknown '%s'", tok);
        if (a->npol >= 8)
            return cli_usage_error("simulate", "--policies: at most 8");
        a->pols[a->npol++] = (moemap_recal_policy)p;
    }
    if (a->npl * a->npol > MAX_RUNS)
        return cli_usage_error("simulate", "at most %d runs (placements x policies)", MAX_RUNS);
    return 0;
}

/* The cluster, loads, placements and events' workloads. 0, or the error's status. */
static int read_inputs(sim_args *a, sim_inputs *in, moemap_error *err)
{
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = a->batch_tokens;
    if (moemap_cluster_read(a->cluster, &in->cluster, err) ||
        moemap_workload_read(a->loads, &rp, &in->loads, NULL, err))
        return err->code;
    for (int i = 0; i < a->npl; i++) {
        if (moemap_placement_read(a->placements[i], &in->pl[i], err))
            return err->code; /* the reader names the file */
        if (moemap_placement_validate(in->pl[i], in->cluster, err))
            return moemap_error_prefix(err, "%s", a->placements[i]), err->code;
    }
    for (int i = 0; i < a->nev; i++) {
        const char *path = NULL;
        if (moemap_sim_event_parse(a->events[i], &in->ev[i], &path, err))
            return cli_usage_error("simulate", "--event: %s", err->msg);
        if (path && moemap_workload_read(path, &rp, &in->ev_loads[i], NULL, err))
            return moemap_error_prefix(err, "event '%s'", a->events[i]), err->code;
        if (path)
            in->ev[i].loads = in->ev_loads[i];
    }
    a->sp.events = in->ev;
    a->sp.num_events = a->nev;
    return 0;
}

/* The arrivals served, and the trace whose lengths the capacity sweep resamples. */
static int make_arrivals(sim_args *a, sim_inputs *in, moemap_error *err)
{
    char trace[1400];
    if (moemap_arrivals_find(a->arrivals, trace, sizeof trace, err) ||
        moemap_arrivals_read(trace, &in->lengths, err))
        return err->code;
    if (a->gen >= 0 && moemap_arrivals_generate((moemap_arrival_process)a->gen, a->rate,
                                                a->duration > 0 ? a->duration : 60,
                                                in->lengths, 0, 0, a->sp.seed, &in->arr, err))
        return err->code;
    if (a->gen < 0 &&
        moemap_arrivals_window(in->lengths, a->duration, a->rate_scale, &in->arr, err))
        return err->code;
    a->cp.rates = a->rates;
    a->cp.num_rates = a->nrates;
    a->cp.lengths = in->lengths;
    if (a->gen > 0)
        a->cp.process = MOEMAP_ARRIVALS_BURSTY;
    return 0;
}

/* Every placement under every policy, on the same arrivals and seed. */
static int simulate_all(sim_args *a, sim_inputs *in, moemap_error *err)
{
    int n = 0;
    for (int i = 0; i < a->npl; i++)
        for (int k = 0; k < a->npol; k++, n++) {
            a->sp.policy = a->pols[k];
            const char *base = strrchr(a->placements[i], '/');
            base = base ? base + 1 : a->placements[i];
            if (a->npol > 1 || a->pols[k] != MOEMAP_RECAL_NONE)
                snprintf(in->labels[n], sizeof in->labels[n], "%.60s/%s", base,
                         moemap_recal_policy_name(a->pols[k]));
            else
                snprintf(in->labels[n], sizeof in->labels[n], "%.90s", base);
            a->sp.progress = progress;
            a->sp.progress_ctx = in->labels[n];
            int rc = moemap_simulate(in->model, in->cluster, in->pl[i], in->loads, in->arr,
                                     &a->sp, &in->res[n], err);
            if (!rc && a->nrates > 0) {
                cli_progress("capacity sweep", n, (long)a->npl * a->npol);
                rc = moemap_sim_capacity(in->model, in->cluster, in->pl[i], in->loads, &a->cp,
                                         &a->sp, in->res[n], err);
            }
            cli_progress_done();
            if (rc)
                return moemap_error_prefix(err, "%s", in->labels[n]), rc;
            in->nruns = n + 1;
        }
    return 0;
}

static int run(int argc, char **argv, sim_args *a, sim_inputs *in)
{
    int c, rc = 0;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "m:c:l:b:p:a:d:s:h", sim_opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        rc = input_option(c, a);
    }
    if (rc || (rc = finish_args(argc, argv, a)))
        return rc;
    moemap_error err = {0};
    if (!(in->model = moemap_model_find(a->model, &err)))
        return cli_usage_error("simulate", "--model: %s", err.msg);
    if ((rc = read_inputs(a, in, &err)) == 2)
        return 2; /* a bad --event, said already */
    if (rc || make_arrivals(a, in, &err) || simulate_all(a, in, &err))
        return cli_fail("simulate", &err);
    if (a->ts_path && write_json(in->res, in->labels, in->nruns, 1, a->ts_path))
        return 1;
    if (a->json)
        return write_json(in->res, in->labels, in->nruns, 0, "-");
    print_table(in->res, in->labels, in->nruns, &a->sp);
    if (a->nrates > 0)
        print_capacity(in->res, in->labels, in->nruns, &a->cp);
    return 0;
}

int cmd_simulate(int argc, char **argv)
{
    sim_inputs in;
    sim_args a;
    memset(&in, 0, sizeof in);
    memset(&a, 0, sizeof a);
    a.arrivals = "azure-conv";
    a.gen = -1;
    a.batch_tokens = moemap_read_default_params().batch_tokens;
    a.rate_scale = 1;
    a.sp = moemap_sim_default_params();
    a.cp = moemap_capacity_default_params();
    int rc = run(argc, argv, &a, &in);
    inputs_free(&in, &a);
    return rc;
}
