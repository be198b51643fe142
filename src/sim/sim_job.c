/*
 * sim_job.c — one whole `moemap simulate` call (moemap/sim_job.h): the inputs read, the
 * arrivals found or generated, every placement under every policy simulated on the same
 * arrivals and seed, and the capacity sweep.
 */
#include <stdio.h>
#include <string.h>

#include "moemap/sim_job.h"

/* A generator with no --duration serves this many seconds of arrivals. */
#define GENERATOR_DURATION_S 60
/* Rates of one capacity sweep (each rate is a whole simulation). */
#define MAX_RATES 64

moemap_sim_job moemap_sim_job_default(void)
{
    return (moemap_sim_job){.arrivals = "azure-conv", .process = -1,
                            .batch_tokens = moemap_read_default_params().batch_tokens,
                            .rate_scale = 1, .sim = moemap_sim_default_params(),
                            .capacity = moemap_capacity_default_params()};
}

void moemap_sim_job_free(moemap_sim_job *job)
{
    moemap_arrivals_free(job->lengths);
    moemap_arrivals_free(job->served);
    moemap_cluster_free(job->cluster);
    moemap_loads_free(job->loads);
    for (int i = 0; i < MOEMAP_SIM_MAX_RUNS; i++) {
        moemap_placement_free(job->placement_list[i]);
        moemap_sim_result_free(job->results[i]);
    }
    for (int i = 0; i < MOEMAP_SIM_MAX_EVENTS; i++)
        moemap_loads_free(job->event_loads[i]);
    memset(job->results, 0, sizeof job->results);
    memset(job->placement_list, 0, sizeof job->placement_list);
    memset(job->event_loads, 0, sizeof job->event_loads);
    job->lengths = job->served = NULL;
    job->cluster = NULL;
    job->loads = NULL;
}

int moemap_sim_job_add_placement(moemap_sim_job *job, const char *path, char *why,
                                 size_t size)
{
    if (job->num_placements >= MOEMAP_SIM_MAX_RUNS)
        return snprintf(why, size, "at most %d placements", MOEMAP_SIM_MAX_RUNS), -1;
    job->placements[job->num_placements++] = path;
    return 0;
}

int moemap_sim_job_add_event(moemap_sim_job *job, const char *spec, char *why, size_t size)
{
    moemap_sim_event ev;
    const char *path;
    moemap_error err = {0};
    if (job->num_events >= MOEMAP_SIM_MAX_EVENTS)
        return snprintf(why, size, "at most %d events", MOEMAP_SIM_MAX_EVENTS), -1;
    if (moemap_sim_event_parse(spec, &ev, &path, &err))
        return snprintf(why, size, "%s", err.msg), -1;
    job->events[job->num_events++] = spec;
    return 0;
}

int moemap_sim_job_set_policies(moemap_sim_job *job, const char *list, char *why, size_t size)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    job->num_policies = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int p = moemap_recal_policy_parse(tok);
        if (p < 0)
            return snprintf(why, size, "unknown '%s'", tok), -1;
        if (job->num_policies >= MOEMAP_SIM_MAX_POLICIES)
            return snprintf(why, size, "at most %d", MOEMAP_SIM_MAX_POLICIES), -1;
        job->policies[job->num_policies++] = (moemap_recal_policy)p;
    }
    return 0;
}

int moemap_sim_job_set_rates(moemap_sim_job *job, const double *rates, int n, char *why,
                             size_t size)
{
    for (int i = 0; i < n; i++)
        if (!(rates[i] > 0) || (i > 0 && rates[i] <= rates[i - 1]))
            return snprintf(why, size, "rates must be positive and ascending"), -1;
    if (n > MAX_RATES)
        return snprintf(why, size, "at most %d rates", MAX_RATES), -1;
    job->capacity.rates = rates;
    job->capacity.num_rates = n;
    return 0;
}

/* The cluster, loads, placements and events' workloads. */
static int read_inputs(moemap_sim_job *job, moemap_error *err)
{
    moemap_read_params rp = moemap_read_default_params();
    rp.batch_tokens = job->batch_tokens;
    if (moemap_cluster_read(job->cluster_path, &job->cluster, err) ||
        moemap_workload_read(job->loads_path, &rp, &job->loads, NULL, err))
        return err->code;
    for (int i = 0; i < job->num_placements; i++) {
        if (moemap_placement_read(job->placements[i], &job->placement_list[i], err))
            return err->code; /* the reader names the file */
        if (moemap_placement_validate(job->placement_list[i], job->cluster, err))
            return moemap_error_prefix(err, "%s", job->placements[i]), err->code;
    }
    for (int i = 0; i < job->num_events; i++) {
        const char *path = NULL;
        if (moemap_sim_event_parse(job->events[i], &job->event_list[i], &path, err))
            return moemap_error_prefix(err, "--event"), err->code;
        if (path && moemap_workload_read(path, &rp, &job->event_loads[i], NULL, err))
            return moemap_error_prefix(err, "event '%s'", job->events[i]), err->code;
        if (path)
            job->event_list[i].loads = job->event_loads[i];
    }
    job->sim.events = job->event_list;
    job->sim.num_events = job->num_events;
    return 0;
}

/* The arrivals served, and the trace whose lengths the capacity sweep resamples. */
static int make_arrivals(moemap_sim_job *job, moemap_error *err)
{
    char trace[1400];
    if (moemap_arrivals_find(job->arrivals, trace, sizeof trace, err) ||
        moemap_arrivals_read(trace, &job->lengths, err))
        return err->code;
    if (job->process >= 0 &&
        moemap_arrivals_generate((moemap_arrival_process)job->process, job->rate,
                                 job->duration_s > 0 ? job->duration_s : GENERATOR_DURATION_S,
                                 job->lengths, 0, 0, job->sim.seed, &job->served, err))
        return err->code;
    if (job->process < 0 && moemap_arrivals_window(job->lengths, job->duration_s,
                                                   job->rate_scale, &job->served, err))
        return err->code;
    job->capacity.lengths = job->lengths;
    if (job->process > 0)
        job->capacity.process = MOEMAP_ARRIVALS_BURSTY;
    return 0;
}

/* "eplb.json", or "eplb.json/drift" when policies are compared or one is on. */
static void label_run(moemap_sim_job *job, int n, const char *path, moemap_recal_policy pol)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (job->num_policies > 1 || pol != MOEMAP_RECAL_NONE)
        snprintf(job->labels[n], sizeof job->labels[n], "%.60s/%s", base,
                 moemap_recal_policy_name(pol));
    else
        snprintf(job->labels[n], sizeof job->labels[n], "%.90s", base);
}

int moemap_sim_job_run(moemap_sim_job *job, moemap_error *err)
{
    if (job->num_policies == 0)
        job->policies[job->num_policies++] = job->sim.policy;
    if (job->num_placements * job->num_policies > MOEMAP_SIM_MAX_RUNS)
        return moemap_error_set(err, MOEMAP_EINVAL, "at most %d runs (placements x policies)",
                                MOEMAP_SIM_MAX_RUNS);
    int rc = read_inputs(job, err);
    if (rc || (rc = make_arrivals(job, err)))
        return rc;
    void *ctx = job->sim.progress_ctx;
    for (int i = 0, n = 0; i < job->num_placements; i++)
        for (int k = 0; k < job->num_policies; k++, n++) {
            moemap_sim_params sp = job->sim;
            sp.policy = job->policies[k];
            label_run(job, n, job->placements[i], sp.policy);
            sp.progress_ctx = ctx ? ctx : job->labels[n];
            rc = moemap_simulate(job->model, job->cluster, job->placement_list[i], job->loads,
                                 job->served, &sp, &job->results[n], err);
            if (!rc && job->capacity.num_rates > 0)
                rc = moemap_sim_capacity(job->model, job->cluster, job->placement_list[i],
                                         job->loads, &job->capacity, &sp, job->results[n],
                                         err);
            if (rc)
                return moemap_error_prefix(err, "%s", job->labels[n]), rc;
            job->num_runs = n + 1;
        }
    return 0;
}
