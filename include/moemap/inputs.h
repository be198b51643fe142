/*
 * moemap/inputs.h — the inputs that placing, evaluating and validating share, read one
 * way: a workload at an operating point, a cluster, a previous placement, and placement
 * files in any format for that cluster and model. The command-line tool's place, eval and
 * validate are thin clients of it; so can any other front end be.
 *
 * The operating point (moemap/workload.h): aggregate loads (one batch) become iterations
 * of batch_tokens tokens, expected and sampled; a mix of sizes weighs several; recorded
 * iterations are merged or scaled to it only when it is given; per-token traces were cut
 * into batches of that size by the reader already.
 */
#ifndef MOEMAP_INPUTS_H
#define MOEMAP_INPUTS_H

#include "moemap/eval.h"
#include "moemap/export.h"
#include "moemap/model.h"
#include "moemap/place.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

#define MOEMAP_MAX_MIX 8

typedef struct moemap_input_params {
    moemap_read_params read;     /* format, batch tokens (the first size), top-k */
    int batch_given;             /* the operating point was given (else the default is
                                    taken and said in `note`) */
    int num_mix;                 /* > 1: a mix of operating points */
    double mix_tokens[MOEMAP_MAX_MIX];
    double mix_weights[MOEMAP_MAX_MIX];
    int slots;                   /* every GPU's slots (0: the cluster's) */
    const moemap_model *model;   /* top-k for aggregates, SGLang rows; may be NULL */
    moemap_engine engine;        /* the rules placements are made / judged under */
    moemap_a2a_params a2a;       /* dispatch and combine in the cost (moemap/a2a.h) */
    /* Set by moemap_inputs_read: */
    double batch_tokens;         /* the operating point used (the largest size of a mix;
                                    0 when the loads were taken as they are) */
    char op_text[160];           /* it in words ("4096", "4096 (80%) and 16384 (20%)"),
                                    "" when none */
    char note[400];              /* what the caller should tell the user (the default
                                    operating point taken), "" when nothing */
} moemap_input_params;

moemap_input_params moemap_input_default_params(void);

/* Parses an operating point, "N" or a mix "N1:W1,N2:W2,..." (weights default 1: the
 * share of iterations), into ip (batch_given, read.batch_tokens, the mix). 0, or -1 with
 * what is wrong in why, worded to follow the flag's name (": 'x' is not an integer",
 * " (weight): 'y' is not a number"). */
int moemap_input_parse_batch(moemap_input_params *ip, const char *text, char *why,
                             size_t size);

/* Reads what is named (each path may be NULL, and an output pointer NULL when its path
 * is): the cluster, the workload at the operating point, the previous placement. The
 * workload must have the model's expert count. What was read before a failure is left in
 * the outputs for the caller to free. */
int moemap_inputs_read(moemap_input_params *ip, const char *loads_path,
                       const char *cluster_path, const char *previous_path, moemap_loads **ld,
                       moemap_cluster **cl, moemap_placement **prev, moemap_error *err);

/* Reads a placement in any format (moemap, SGLang, vLLM, detected by content) for the
 * cluster (SGLang's ranks), the model (its rows) or else the loads' layers. */
int moemap_input_read_placement(const moemap_input_params *ip, const char *path,
                                const moemap_cluster *cl, const moemap_loads *ld,
                                moemap_placement **out, moemap_error *err);

/* Reads, checks (moemap_placement_check; each problem goes to `problem` with the file's
 * path as ctx) and evaluates every placement file on the loads, with the inputs' slots
 * and engine rules and experts moved from prev (may be NULL). progress (may be NULL) is
 * called with progress_ctx and "files" before each file. *out: n summaries in an array
 * allocated with moemap_calloc,
 * each freed with moemap_eval_summary_free, the array with moemap_free; on failure the
 * summaries done are left there. */
int moemap_eval_files(const moemap_loads *ld, const moemap_cluster *cl,
                      const moemap_placement *prev, const moemap_input_params *ip,
                      char *const *files, int n, moemap_problem_fn problem,
                      moemap_progress_fn progress, void *progress_ctx,
                      moemap_eval_summary ***out, moemap_error *err);

/* Every check that applies to a placement: against the cluster (with the inputs' slots),
 * the loads (may be NULL), the engine's rules and the model (when set in ip). Each
 * problem goes to `problem`; returns how many, or MOEMAP_ENOMEM. */
int moemap_input_check_placement(const moemap_input_params *ip, const moemap_placement *p,
                                 const moemap_cluster *cl, const moemap_loads *ld,
                                 moemap_problem_fn problem, void *ctx);

/* The problems of a placement for the model: another expert count, layers that are not
 * the model's MoE layers. Each is passed to `problem` (may be NULL); returns how many. */
int moemap_placement_check_model(const moemap_placement *p, const moemap_model *m,
                                 void (*problem)(void *ctx, const char *msg), void *ctx);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
