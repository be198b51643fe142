/*
 * moemap/report_text.h — the plain-text tables and summaries the command-line tool
 * prints, built here so that every front end shows the same figures the same way and the
 * tool stays parse -> call -> print: each function returns the text (lines ending in
 * "\n") allocated with moemap_malloc (free with moemap_free), or NULL when out of memory.
 * JSON forms of the same results (cluster show, models) are here too.
 */
#ifndef MOEMAP_REPORT_TEXT_H
#define MOEMAP_REPORT_TEXT_H

#include "moemap/cluster.h"
#include "moemap/eval.h"
#include "moemap/gpu_exec.h"
#include "moemap/gpu_profile.h"
#include "moemap/inputs.h"
#include "moemap/place_job.h"
#include "moemap/model.h"
#include "moemap/place.h"
#include "moemap/report.h"
#include "moemap/sim.h"
#include "moemap/workload.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* moemap stats: the workload's shape and one row per layer (skew, consistent and
 * temporal experts, top pair, hot clusters); with st->cosine_distance, the distance to
 * `other` per layer. */
char *moemap_text_stats(const char *input, const moemap_loads *ld,
                        const moemap_workload_stats *st, const char *other);

/* moemap eval: one row per placement (files[i] named by its base name), and with
 * per_layer one table per placement and layer; the inputs' operating point and, under
 * an engine's rules, that bound in the title. */
char *moemap_text_eval(const moemap_loads *ld, const moemap_cluster *cl,
                       const moemap_input_params *ip, char *const *files,
                       moemap_eval_summary **sums, int n, int per_layer);

/* moemap place: the one-line summary (cost, bounds, the baseline, the operating point,
 * experts moved and the migration plan when there is one, the exact solver's verdict),
 * and the note on stderr's line when one slot fewer per GPU is faster ("" if not). */
char *moemap_text_place(const moemap_place_job *job, const moemap_input_params *ip,
                        int replaced, const moemap_migration_plan *plan);
char *moemap_text_place_fewer(const moemap_place_job *job);

/* moemap validate: every check that applies (moemap_input_check_placement) and the
 * verdict: each problem as "FILE: problem" (the first 50) and "FILE: OK (...)" or
 * "FILE: N problems", or with json one object {file, ok, layers, replicas, gpus,
 * problems}. *problems: how many were found (< 0: out of memory, NULL returned). */
char *moemap_text_validate(const char *file, const moemap_placement *p,
                           const moemap_cluster *cl, const moemap_loads *ld,
                           const moemap_input_params *ip, int json, int *problems);

/* moemap simulate: one row per run (TTFT, TPOT, E2E, SLO, goodput, throughput, barrier
 * idle, migration), and with capacity also each run's capacity sweep. */
char *moemap_text_sim(moemap_sim_result **res, char **labels, int n,
                      const moemap_sim_params *sp, const moemap_capacity_params *cp);

/* moemap cluster show: every GPU's node, slots, speed, cv, SM limit and speed relative
 * to the fastest at each token count, as a table or (json) a JSON object. */
char *moemap_text_cluster(const char *path, const moemap_cluster *c, const double *tokens,
                          int nt, int json);

/* moemap cluster synth: the spread of the speeds drawn (and of the population they were
 * drawn from, when pop is not NULL). */
char *moemap_text_cluster_synth(const moemap_cluster *c, const moemap_gpu_population *pop,
                                const char *varfile);

/* moemap run: the devices, the expert shape and one column per placement (measured and,
 * with have_pred, predicted times per GPU), then --check's verdicts. */
char *moemap_text_run(char **paths, int np, const moemap_exec_params *p,
                      moemap_exec_result **res, const moemap_exec_summary *sum, int have_pred);

/* moemap profile: every GPU's curve, floor, jitter and NVML readings. */
char *moemap_text_profile(const moemap_profile_result *r, const char *out);

/* What gen and convert wrote: with json an object {out, layers, experts, top_k, batches,
 * tokens} for stdout, else the line for stderr ("" when the workload itself went to
 * stdout, out "-"). what: said after the batch count (" of 4096 tokens"). */
char *moemap_text_loads_written(const char *out, const moemap_loads *ld, const char *what,
                                int json);

/* moemap report: the comparison table (with table; moemap_report_table, which may fail:
 * NULL with err set) and the line about the page written to out. */
char *moemap_text_report(const moemap_report_params *p, const char *out,
                         const moemap_report_summary *sum, int table, moemap_error *err);

/* moemap models: the presets as a table, or (json) a JSON array. */
char *moemap_text_models(int json);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
