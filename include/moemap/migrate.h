/*
 * moemap/migrate.h — migration plans between two placements: which expert copies go from
 * which GPU to which, bytes each, in an order that keeps every expert served.
 * Owned by the placement engine (issue 4).
 *
 * A plan is a sequence of steps. A copy reads an expert's weights from a GPU that holds
 * the expert at that moment and writes them to a GPU of the new placement; a drop frees a
 * replica the new placement no longer has. Replaying the steps from the old placement,
 * every expert of every layer has at least one replica after every step, and the end
 * state is the new placement's set of (expert, gpu) pairs. Drops go as early as they are
 * safe so that copies find free slots; when a copy must land on a GPU that is still full
 * (a cycle such as two GPUs swapping experts), it goes to a staging buffer, counted in
 * peak_staging (the most extra expert buffers any GPU needs at once).
 */
#ifndef MOEMAP_MIGRATE_H
#define MOEMAP_MIGRATE_H

#include "moemap/placement.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef enum {
    MOEMAP_MIGRATION_COPY = 0,
    MOEMAP_MIGRATION_DROP = 1
} moemap_migration_op;

typedef struct moemap_migration_step {
    moemap_migration_op op;
    int layer;       /* model layer index */
    int expert;
    int from_gpu;    /* copy: source GPU; drop: the GPU that frees the replica */
    int to_gpu;      /* copy: destination GPU; drop: -1 */
    double bytes;    /* copy: expert_bytes; drop: 0 */
    int staged;      /* copy: 1 when the destination was full and a staging buffer is used */
} moemap_migration_step;

typedef struct moemap_migration_plan {
    int num_steps;
    moemap_migration_step *steps;
    double expert_bytes;
    double total_bytes;     /* sum of copy bytes */
    long copies;
    long drops;
    long experts_moved;     /* replica additions: (layer, expert, gpu) new, not old */
    int peak_staging;       /* most staging buffers one GPU needs at once */
} moemap_migration_plan;

/* Plans the migration from old_p to new_p (same GPU count and experts; layers matched by
 * model layer id; a layer only in new_p is copied from nowhere and refused, a layer only
 * in old_p is refused too: both must place the same layers). expert_bytes >= 0. */
int moemap_migration_plan_create(const moemap_placement *old_p, const moemap_placement *new_p,
                                 double expert_bytes, moemap_migration_plan **out,
                                 moemap_error *err);
void moemap_migration_plan_free(moemap_migration_plan *plan);

/* Writes {"format": "moemap.migration/v1", ...} to path ("-" = stdout). */
int moemap_migration_plan_write(const moemap_migration_plan *plan, const char *path,
                                moemap_error *err);

/* Replica additions from old_layer to new_layer: pairs (expert, gpu) in new, not in old.
 * old_layer NULL counts every replica of new_layer. */
long moemap_migration_count_moves(const moemap_layer_placement *old_layer,
                                  const moemap_layer_placement *new_layer);
/* Sum of moemap_migration_count_moves over the layers of new_p, matched by layer id to
 * old_p (layers missing in old_p count all their replicas). Fills *moved. */
int moemap_migration_experts_moved(const moemap_placement *old_p,
                                   const moemap_placement *new_p, long *moved,
                                   moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
