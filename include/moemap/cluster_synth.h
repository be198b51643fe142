/*
 * moemap/cluster_synth.h — `moemap cluster synth` as one library call: the defaults of a
 * synthetic cluster, a curve written as "tokens:us" pairs, and building the cluster from
 * a base profile file and a variability file (what the flags name), recording the
 * command that made it.
 */
#ifndef MOEMAP_CLUSTER_SYNTH_H
#define MOEMAP_CLUSTER_SYNTH_H

#include "moemap/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* 8 GPUs per node, seed 1; GPUs, slots and network unset (-1: from the speeds, the base
 * profile, or the nominal network). */
moemap_synth_params moemap_synth_default_params(void);

/* "median" or "fastest" (a population's speed 1); -1 for another name. */
int moemap_speed_norm_parse(const char *name);

/* "1:60,256:75,4096:560" (tokens:us pairs) into a curve (moemap_curve_clear frees it);
 * the message names the bad pair. Monotonicity is checked by moemap_synth_params_check. */
int moemap_curve_parse(const char *text, moemap_curve *c, moemap_error *err);

/* Builds the cluster p describes, reading base_path (may be NULL: p->base is the curve)
 * for what p leaves unset and varfile (may be NULL: p->speeds) for the population the
 * speeds are drawn from (*pop, freed by the caller; NULL without varfile). command (may
 * be NULL): the command line, recorded as the cluster's provenance. */
int moemap_cluster_synth_files(moemap_synth_params *p, const moemap_variability_params *vp,
                               const char *base_path, const char *varfile, const char *command,
                               moemap_cluster **out, moemap_gpu_population **pop,
                               moemap_error *err);

/* Reads the n cluster files and merges them (moemap_cluster_merge); a shape mismatch is
 * named by the files. */
int moemap_cluster_merge_files(char *const *files, int n, int one_node, int slots,
                               moemap_cluster **out, moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
