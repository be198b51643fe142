/*
 * moemap/placement.h — the placement data type (moemap.placement/v1), its I/O and its
 * validator. Strategies that compute placements live in moemap/place.h.
 *
 * For each MoE layer, a placement lists replicas (expert, gpu, share): the share is the
 * fraction of that expert's tokens the replica serves. Invariants (checked by
 * moemap_placement_validate): every expert has at least one replica, an expert's shares
 * sum to 1, no GPU holds more replicas of a layer than its slots, no GPU holds two
 * replicas of the same expert in one layer.
 */
#ifndef MOEMAP_PLACEMENT_H
#define MOEMAP_PLACEMENT_H

#include "moemap/base.h"
#include "moemap/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_replica {
    int expert;
    int gpu;
    double share;
} moemap_replica;

typedef struct moemap_layer_placement {
    int layer;               /* model layer index */
    int num_replicas;
    moemap_replica *replicas;
} moemap_layer_placement;

typedef struct moemap_placement {
    char strategy[32];       /* strategy that produced it */
    int num_gpus;
    int experts;             /* routed experts per layer */
    int num_layers;
    moemap_layer_placement *layers;
    char *predicted_json;    /* optional serialized "predicted" object (NULL if none) */
} moemap_placement;

/* An empty placement for num_layers layers (layer ids 0..num_layers-1, no replicas). */
int moemap_placement_create(int num_gpus, int experts, int num_layers,
                            moemap_placement **out, moemap_error *err);
void moemap_placement_free(moemap_placement *p);
int moemap_placement_clone(const moemap_placement *p, moemap_placement **out,
                           moemap_error *err);
/* Sets layer l's replicas (copied). */
int moemap_placement_set_layer(moemap_placement *p, int l, int layer_id,
                               const moemap_replica *reps, int n, moemap_error *err);

int moemap_placement_read(const char *path, moemap_placement **out, moemap_error *err);
int moemap_placement_write(const moemap_placement *p, const char *path, moemap_error *err);

/* Checks the invariants against a cluster (slots, GPU count); the first problem found
 * goes in err ("layer 3: expert 17 shares sum to 0.8"). cluster may be NULL (then slots
 * are not checked). Returns 0 when valid. */
int moemap_placement_validate(const moemap_placement *p, const moemap_cluster *c,
                              moemap_error *err);

/* Receives one problem message at a time from moemap_placement_check. */
typedef void (*moemap_problem_fn)(void *ctx, const char *msg);
/* Like moemap_placement_validate but reports every problem (not only the first) through
 * fn (may be NULL) and returns how many were found (0 = valid), or MOEMAP_ENOMEM (< 0)
 * when its scratch memory cannot be allocated. slots > 0 overrides every
 * GPU's slots (as moemap_place_params.slots does); c may be NULL (slots unchecked unless
 * slots > 0). */
int moemap_placement_check(const moemap_placement *p, const moemap_cluster *c, int slots,
                           moemap_problem_fn fn, void *ctx);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
