/*
 * moemap/sim_job.h — one whole `moemap simulate` call as the library does it: read the
 * cluster, the workload, the placements and the events' workloads; find or generate the
 * arrivals; run every placement under every recalibration policy on the same arrivals
 * and seed, with the capacity sweep when rates are given. Front ends parse, call and
 * print (moemap_text_sim, moemap_sim_write).
 */
#ifndef MOEMAP_SIM_JOB_H
#define MOEMAP_SIM_JOB_H

#include "moemap/sim.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

#define MOEMAP_SIM_MAX_RUNS 16
#define MOEMAP_SIM_MAX_EVENTS 32
#define MOEMAP_SIM_MAX_POLICIES 8

typedef struct moemap_sim_job {
    const moemap_model *model;
    const char *cluster_path, *loads_path;
    const char *arrivals;        /* a trace name (moemap_arrivals_find) or file (default
                                    "azure-conv"); with a generator, its request lengths */
    const char *placements[MOEMAP_SIM_MAX_RUNS];
    int num_placements;
    const char *events[MOEMAP_SIM_MAX_EVENTS]; /* moemap_sim_event_parse specs */
    int num_events;
    moemap_recal_policy policies[MOEMAP_SIM_MAX_POLICIES];
    int num_policies;            /* 0: sim.policy alone */
    long batch_tokens;           /* tokens per batch for per-token traces */
    int process;                 /* -1: replay the trace (default); else the generator
                                    (moemap_arrival_process) at `rate` */
    double rate;                 /* req/s of the generator */
    double duration_s;           /* arrivals of the first S seconds (0: the whole trace;
                                    60 for a generator) */
    double rate_scale;           /* compress the trace's time by this (default 1) */
    moemap_sim_params sim;
    moemap_capacity_params capacity; /* rates: the sweep (num_rates 0: none) */
    /* Results and what was read, freed by moemap_sim_job_free: */
    int num_runs;                /* placements x policies */
    char labels[MOEMAP_SIM_MAX_RUNS][96]; /* "eplb.json" or "eplb.json/drift" */
    moemap_sim_result *results[MOEMAP_SIM_MAX_RUNS];
    moemap_cluster *cluster;
    moemap_loads *loads, *event_loads[MOEMAP_SIM_MAX_EVENTS];
    moemap_sim_event event_list[MOEMAP_SIM_MAX_EVENTS];
    moemap_arrivals *served, *lengths;
    moemap_placement *placement_list[MOEMAP_SIM_MAX_RUNS];
} moemap_sim_job;

moemap_sim_job moemap_sim_job_default(void);

/* Adds one placement (path), one event (a moemap_sim_event_parse spec, checked now) or the
 * policies of a comma-separated list ("none,drift"); sets the capacity sweep's rates
 * (positive, ascending; borrowed). 0, or -1 with what is wrong in why. */
int moemap_sim_job_add_placement(moemap_sim_job *job, const char *path, char *why,
                                 size_t size);
int moemap_sim_job_add_event(moemap_sim_job *job, const char *spec, char *why, size_t size);
int moemap_sim_job_set_policies(moemap_sim_job *job, const char *list, char *why, size_t size);
int moemap_sim_job_set_rates(moemap_sim_job *job, const double *rates, int n, char *why,
                             size_t size);

/* Reads, simulates every run and records it in job->results / labels. The message of a
 * failure names the file or run. */
int moemap_sim_job_run(moemap_sim_job *job, moemap_error *err);

void moemap_sim_job_free(moemap_sim_job *job);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
