/*
 * export_layout.h — internal to the exporters (export*.c): the physical slot layout that
 * SGLang and vLLM both use (rank-major, equal slots per rank, every slot filled), built
 * from a placement, and the JSON builders of each engine format.
 */
#ifndef MOEMAP_EXPORT_LAYOUT_H
#define MOEMAP_EXPORT_LAYOUT_H

#include <jansson.h>

#include "moemap/export.h"

typedef struct export_layout {
    int num_layers;      /* placement layers, same order as the placement */
    int num_gpus;
    int experts;
    int slots_per_rank;
    int physical;        /* num_gpus * slots_per_rank */
    int *phy2log;        /* [num_layers * physical] logical expert of each slot */
} export_layout;

/* Builds the layout; refuses what the engines cannot express unless approximate. info
 * receives the shape and what was approximated. */
int export_layout_build(const moemap_placement *p, int approximate, export_layout *lay,
                        moemap_export_info *info, moemap_error *err);
void export_layout_clear(export_layout *lay);

/* The engine documents (new references; NULL with err set on failure). */
json_t *export_sglang_json(const moemap_placement *p, const export_layout *lay,
                           const moemap_export_params *params, moemap_error *err);
json_t *export_vllm_json(const moemap_placement *p, const export_layout *lay,
                         moemap_error *err);

/* Turns one layer's physical row (physical = num_gpus * slots_per_rank entries) into
 * replicas: copies of one expert on one rank merge into one replica, shares are the
 * fraction of the expert's physical copies. reps must hold `physical` entries; returns
 * the count, or a negative status with err naming `where` when an expert id is out of
 * range or an expert has no slot. */
int export_row_to_replicas(const int *row, int physical, int num_gpus, int experts,
                           const char *where, moemap_replica *reps, moemap_error *err);

#endif
