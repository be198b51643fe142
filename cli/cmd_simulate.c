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
#include <sys/stat.h>
#include <unistd.h>

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
            "  -t, --batch-tokens N      tokens per batch for per-token traces (default 512)\n"
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
            "  -h, --help\n");
}

/* Resolves a named trace under the data folder: $MOEMAP_DATA, ../shared/data from the
 * working directory, or ../../shared/data from the binary (build/moemap in the repo).
 * Returns the name itself when it is not a known name (a file path), NULL when a known
 * name is found in none of those folders. */
static const char *named_trace(const char *name)
{
    static const char *const names[][2] = {
        {"azure-conv", "azure-llm-2023/data/AzureLLMInferenceTrace_conv.csv"},
        {"azure-code", "azure-llm-2023/data/AzureLLMInferenceTrace_code.csv"},
        {"mooncake-conv", "mooncake/FAST25-release/traces/conversation_trace.jsonl"},
        {"mooncake-synth", "mooncake/FAST25-release/traces/synthetic_trace.jsonl"}};
    static char buf[1400];
    const char *rel = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i][0]))
            rel = names[i][1];
    if (!rel)
        return name;
    char roots[3][1024];
    int nr = 0;
    const char *env = getenv("MOEMAP_DATA");
    if (env && *env)
        snprintf(roots[nr++], sizeof roots[0], "%.1000s", env);
    snprintf(roots[nr++], sizeof roots[0], "../shared/data");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) {
            *s = 0;
            snprintf(roots[nr++], sizeof roots[0], "%.900s/../../shared/data", exe);
        }
    }
    struct stat st;
    for (int i = 0; i < nr; i++) {
        snprintf(buf, sizeof buf, "%.1000s/%.200s", roots[i], rel);
        if (stat(buf, &st) == 0)
            return buf;
    }
    return NULL; /* a named trace that is nowhere: the caller says where it looked */
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
    O_SLO_TTFT, O_SLO_TPOT, O_JSON, O_TS, O_CAPACITY, O_CAP_DUR, O_CAP_TARGET
};

#define MAX_RATES 64

typedef struct sim_inputs {
    const moemap_model *model;
    moemap_cluster *cluster;
    moemap_loads *loads;
    moemap_arrivals *arr;
    moemap_placement *pl[MAX_RUNS];
    int npl;
    moemap_loads *ev_loads[MAX_EVENTS];
    moemap_sim_event ev[MAX_EVENTS];
    int nev;
    moemap_sim_result *res[MAX_RUNS];
    moemap_arrivals *lengths;   /* the trace whose request lengths are resampled */
    double *rates;              /* --capacity */
} sim_inputs;

static void inputs_free(sim_inputs *in)
{
    moemap_arrivals_free(in->lengths);
    free(in->rates);
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

static int run(int argc, char **argv, sim_inputs *in)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"cluster", required_argument, NULL, 'c'},
        {"loads", required_argument, NULL, 'l'},
        {"batch-tokens", required_argument, NULL, 't'},
        {"placement", required_argument, NULL, 'p'},
        {"compare", no_argument, NULL, O_COMPARE},
        {"arrivals", required_argument, NULL, 'a'},
        {"poisson", required_argument, NULL, O_POISSON},
        {"bursty", required_argument, NULL, O_BURSTY},
        {"duration", required_argument, NULL, 'd'},
        {"rate-scale", required_argument, NULL, O_RATE_SCALE},
        {"max-batch-tokens", required_argument, NULL, O_MAXTOK},
        {"max-running", required_argument, NULL, O_MAXRUN},
        {"peak-tflops", required_argument, NULL, O_PEAK},
        {"mem-GBps", required_argument, NULL, O_MEM},
        {"jitter", required_argument, NULL, O_JITTER},
        {"policy", required_argument, NULL, O_POLICY},
        {"policies", required_argument, NULL, O_POLICIES},
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"recal-interval", required_argument, NULL, O_INTERVAL},
        {"recal-window", required_argument, NULL, O_WINDOW},
        {"drift-threshold", required_argument, NULL, O_THRESH},
        {"event", required_argument, NULL, O_EVENT},
        {"slo-ttft-ms", required_argument, NULL, O_SLO_TTFT},
        {"slo-tpot-ms", required_argument, NULL, O_SLO_TPOT},
        {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, O_JSON},
        {"timeseries", required_argument, NULL, O_TS},
        {"capacity", required_argument, NULL, O_CAPACITY},
        {"capacity-duration", required_argument, NULL, O_CAP_DUR},
        {"capacity-target", required_argument, NULL, O_CAP_TARGET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model = NULL, *cluster = NULL, *loads = NULL, *arrivals = "azure-conv";
    const char *placements[MAX_RUNS], *ts_path = NULL, *policies = NULL;
    const char *events[MAX_EVENTS];
    int npl = 0, nev = 0, compare = 0, json = 0, gen = -1;
    long batch_tokens = 512, v;
    double rate = 0, duration = 0, rate_scale = 1, d;
    moemap_sim_params sp = moemap_sim_default_params();
    moemap_capacity_params cp = moemap_capacity_default_params();
    double *rates = NULL;
    int nrates = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:c:l:t:p:a:d:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'c': cluster = optarg; break;
        case 'l': loads = optarg; break;
        case 't':
            if (cli_parse_long("simulate", "--batch-tokens", optarg, 1, 100000000, &batch_tokens))
                return 2;
            break;
        case 'p':
            if (npl >= MAX_RUNS)
                return cli_usage_error("simulate", "at most %d placements", MAX_RUNS);
            placements[npl++] = optarg;
            break;
        case O_COMPARE: compare = 1; break;
        case 'a': arrivals = optarg; break;
        case O_POISSON:
        case O_BURSTY:
            if (cli_parse_double("simulate", c == O_POISSON ? "--poisson" : "--bursty", optarg,
                                 1e-6, 1e6, &rate))
                return 2;
            gen = c == O_POISSON ? MOEMAP_ARRIVALS_POISSON : MOEMAP_ARRIVALS_BURSTY;
            break;
        case 'd':
            if (cli_parse_double("simulate", "--duration", optarg, 1e-3, 1e7, &duration))
                return 2;
            break;
        case O_RATE_SCALE:
            if (cli_parse_double("simulate", "--rate-scale", optarg, 1e-3, 1e3, &rate_scale))
                return 2;
            break;
        case O_MAXTOK:
            if (cli_parse_long("simulate", "--max-batch-tokens", optarg, 1, 10000000, &v))
                return 2;
            sp.max_batch_tokens = (int)v;
            break;
        case O_MAXRUN:
            if (cli_parse_long("simulate", "--max-running", optarg, 1, 1000000, &v))
                return 2;
            sp.max_running = (int)v;
            break;
        case O_PEAK:
            if (cli_parse_double("simulate", "--peak-tflops", optarg, 1e-3, 1e6, &sp.peak_tflops))
                return 2;
            break;
        case O_MEM:
            if (cli_parse_double("simulate", "--mem-GBps", optarg, 1e-3, 1e7, &sp.mem_GBps))
                return 2;
            break;
        case O_JITTER:
            if (cli_parse_double("simulate", "--jitter", optarg, 0, 100, &sp.jitter_scale))
                return 2;
            break;
        case O_POLICY: {
            int p = moemap_recal_policy_parse(optarg);
            if (p < 0)
                return cli_usage_error("simulate",
                                       "--policy: unknown '%s' (none, periodic, drift, moemap)",
                                       optarg);
            sp.policy = (moemap_recal_policy)p;
            break;
        }
        case O_POLICIES: policies = optarg; break;
        case O_STRATEGY: sp.strategy = optarg; break;
        case O_INTERVAL:
            if (cli_parse_long("simulate", "--recal-interval", optarg, 1, 100000000, &v))
                return 2;
            sp.recal_interval = (int)v;
            break;
        case O_WINDOW:
            if (cli_parse_long("simulate", "--recal-window", optarg, 1, 1000000, &v))
                return 2;
            sp.recal_window = (int)v;
            break;
        case O_THRESH:
            if (cli_parse_double("simulate", "--drift-threshold", optarg, 0, 10,
                                 &sp.drift_threshold))
                return 2;
            break;
        case O_EVENT:
            if (nev >= MAX_EVENTS)
                return cli_usage_error("simulate", "at most %d events", MAX_EVENTS);
            events[nev++] = optarg;
            break;
        case O_SLO_TTFT:
            if (cli_parse_double("simulate", "--slo-ttft-ms", optarg, 1e-3, 1e9, &d))
                return 2;
            sp.slo_ttft_s = d / 1e3;
            break;
        case O_SLO_TPOT:
            if (cli_parse_double("simulate", "--slo-tpot-ms", optarg, 1e-3, 1e9, &d))
                return 2;
            sp.slo_tpot_s = d / 1e3;
            break;
        case 's':
            if (cli_parse_long("simulate", "--seed", optarg, 0, LONG_MAX, &v))
                return 2;
            sp.seed = (uint64_t)v;
            break;
        case O_JSON: json = 1; break;
        case O_TS: ts_path = optarg; break;
        case O_CAPACITY:
            free(rates);
            rates = NULL;
            if (cli_parse_double_list("simulate", "--capacity", optarg, &rates, &nrates))
                return 2;
            in->rates = rates;
            if (nrates > MAX_RATES)
                return cli_usage_error("simulate", "--capacity: at most %d rates", MAX_RATES);
            for (int i = 0; i < nrates; i++)
                if (!(rates[i] > 0) || (i > 0 && rates[i] <= rates[i - 1]))
                    return cli_usage_error("simulate", "--capacity: rates must be positive "
                                           "and ascending ('%s')", optarg);
            break;
        case O_CAP_DUR:
            if (cli_parse_double("simulate", "--capacity-duration", optarg, 1, 86400,
                                 &cp.duration_s))
                return 2;
            break;
        case O_CAP_TARGET:
            if (cli_parse_double("simulate", "--capacity-target", optarg, 0.01, 1, &cp.target))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: return cli_usage_error("simulate", "unknown option");
        }
    }
    for (; optind < argc; optind++) {
        if (!compare)
            return cli_usage_error("simulate", "unexpected argument '%s' (placements to "
                                   "compare go after --compare)", argv[optind]);
        if (npl >= MAX_RUNS)
            return cli_usage_error("simulate", "at most %d placements", MAX_RUNS);
        placements[npl++] = argv[optind];
    }
    if (!model || !cluster || !loads || npl == 0)
        return cli_usage_error("simulate", "--model, --cluster, --loads and --placement are "
                               "required");
    /* Policies to run. */
    moemap_recal_policy pols[8];
    int npol = 0;
    if (policies) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", policies);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            int p = moemap_recal_policy_parse(tok);
            if (p < 0)
                return cli_usage_error("simulate", "--policies: unknown '%s'", tok);
            if (npol >= 8)
                return cli_usage_error("simulate", "--policies: at most 8");
            pols[npol++] = (moemap_recal_policy)p;
        }
    } else {
        pols[npol++] = sp.policy;
    }
    if (npl * npol > MAX_RUNS)
        return cli_usage_error("simulate", "at most %d runs (placements x policies)", MAX_RUNS);

    moemap_error err = {0};
    if (!(in->model = moemap_model_find(model, &err)))
        return cli_usage_error("simulate", "--model: %s", err.msg);
    if (moemap_cluster_read(cluster, &in->cluster, &err))
        return cli_fail("simulate", &err);
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = batch_tokens;
    if (moemap_workload_read(loads, &rp, &in->loads, NULL, &err))
        return cli_fail("simulate", &err);
    for (int i = 0; i < npl; i++) {
        if (moemap_placement_read(placements[i], &in->pl[i], &err))
            return cli_fail("simulate", &err); /* the reader names the file */
        if (moemap_placement_validate(in->pl[i], in->cluster, &err)) {
            moemap_error_prefix(&err, "%s", placements[i]);
            return cli_fail("simulate", &err);
        }
    }
    in->npl = npl;
    for (int i = 0; i < nev; i++) {
        const char *path = NULL;
        if (moemap_sim_event_parse(events[i], &in->ev[i], &path, &err))
            return cli_usage_error("simulate", "--event: %s", err.msg);
        if (path) {
            if (moemap_workload_read(path, &rp, &in->ev_loads[i], NULL, &err)) {
                moemap_error_prefix(&err, "event '%s'", events[i]);
                return cli_fail("simulate", &err);
            }
            in->ev[i].loads = in->ev_loads[i];
        }
    }
    in->nev = nev;
    sp.events = in->ev;
    sp.num_events = nev;
    /* Arrivals. */
    moemap_arrivals *src = NULL;
    const char *trace = named_trace(arrivals);
    if (!trace) {
        fprintf(stderr, "moemap simulate: trace '%s' not found under $MOEMAP_DATA, "
                        "../shared/data or ../../shared/data from the binary; set MOEMAP_DATA "
                        "or pass a file to --arrivals\n", arrivals);
        return 1;
    }
    if (moemap_arrivals_read(trace, &src, &err))
        return cli_fail("simulate", &err);
    int rc;
    if (gen >= 0)
        rc = moemap_arrivals_generate((moemap_arrival_process)gen, rate,
                                      duration > 0 ? duration : 60, src, 0, 0, sp.seed,
                                      &in->arr, &err);
    else
        rc = moemap_arrivals_window(src, duration, rate_scale, &in->arr, &err);
    in->lengths = src; /* the capacity sweep resamples its request lengths */
    if (rc)
        return cli_fail("simulate", &err);
    cp.rates = rates;
    cp.num_rates = nrates;
    cp.lengths = src;
    if (gen > 0)
        cp.process = MOEMAP_ARRIVALS_BURSTY;

    char labels[MAX_RUNS][96];
    int n = 0;
    for (int i = 0; i < npl; i++) {
        for (int k = 0; k < npol; k++) {
            sp.policy = pols[k];
            const char *base = strrchr(placements[i], '/');
            base = base ? base + 1 : placements[i];
            if (npol > 1 || pols[k] != MOEMAP_RECAL_NONE)
                snprintf(labels[n], sizeof labels[n], "%.60s/%s", base,
                         moemap_recal_policy_name(pols[k]));
            else
                snprintf(labels[n], sizeof labels[n], "%.90s", base);
            sp.progress = progress;
            sp.progress_ctx = labels[n];
            rc = moemap_simulate(in->model, in->cluster, in->pl[i], in->loads, in->arr, &sp,
                                 &in->res[n], &err);
            if (!rc && nrates > 0) {
                cli_progress("capacity sweep", n, (long)npl * npol);
                rc = moemap_sim_capacity(in->model, in->cluster, in->pl[i], in->loads, &cp,
                                         &sp, in->res[n], &err);
            }
            cli_progress_done();
            if (rc) {
                moemap_error_prefix(&err, "%s", labels[n]);
                return cli_fail("simulate", &err);
            }
            n++;
        }
    }
    if (ts_path && write_json(in->res, labels, n, 1, ts_path))
        return 1;
    if (json)
        return write_json(in->res, labels, n, 0, "-");
    print_table(in->res, labels, n, &sp);
    if (nrates > 0)
        print_capacity(in->res, labels, n, &cp);
    return 0;
}

int cmd_simulate(int argc, char **argv)
{
    sim_inputs in;
    memset(&in, 0, sizeof in);
    int rc = run(argc, argv, &in);
    inputs_free(&in);
    return rc;
}
