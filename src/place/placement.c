/*
 * placement.c — the moemap_placement value type: creation, deep copy, freeing and
 * replacing one layer's replicas. I/O lives in placement_io.c, the invariant checks in
 * validate.c; this file only owns memory, so every other file can rely on one layout.
 */
#include "moemap/placement.h"

#include <string.h>

int moemap_placement_create(int num_gpus, int experts, int num_layers,
                            moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    if (num_gpus <= 0 || experts <= 0 || num_layers < 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "placement: need gpus > 0, experts > 0, layers >= 0 "
                                "(got %d, %d, %d)", num_gpus, experts, num_layers);
    moemap_placement *p = moemap_calloc(1, sizeof *p);
    if (!p)
        return moemap_error_set(err, MOEMAP_ENOMEM, "placement: out of memory");
    p->num_gpus = num_gpus;
    p->experts = experts;
    p->num_layers = num_layers;
    if (num_layers > 0) {
        p->layers = moemap_calloc((size_t)num_layers, sizeof *p->layers);
        if (!p->layers) {
            moemap_free(p);
            return moemap_error_set(err, MOEMAP_ENOMEM, "placement: out of memory");
        }
    }
    for (int l = 0; l < num_layers; l++)
        p->layers[l].layer = l;
    *out = p;
    return 0;
}

void moemap_placement_free(moemap_placement *p)
{
    if (!p)
        return;
    for (int l = 0; l < p->num_layers; l++)
        moemap_free(p->layers[l].replicas);
    moemap_free(p->layers);
    moemap_free(p->predicted_json);
    moemap_free(p);
}

int moemap_placement_set_layer(moemap_placement *p, int l, int layer_id,
                               const moemap_replica *reps, int n, moemap_error *err)
{
    if (!p || l < 0 || l >= p->num_layers || n < 0 || (n > 0 && !reps))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "placement: layer entry %d out of range or bad replicas", l);
    moemap_replica *copy = NULL;
    if (n > 0) {
        copy = moemap_malloc((size_t)n * sizeof *copy);
        if (!copy)
            return moemap_error_set(err, MOEMAP_ENOMEM, "placement: out of memory");
        memcpy(copy, reps, (size_t)n * sizeof *copy);
    }
    moemap_free(p->layers[l].replicas);
    p->layers[l].replicas = copy;
    p->layers[l].num_replicas = n;
    p->layers[l].layer = layer_id;
    return 0;
}

int moemap_placement_clone(const moemap_placement *p, moemap_placement **out,
                           moemap_error *err)
{
    *out = NULL;
    moemap_placement *q;
    int rc = moemap_placement_create(p->num_gpus, p->experts, p->num_layers, &q, err);
    if (rc)
        return rc;
    memcpy(q->strategy, p->strategy, sizeof q->strategy);
    for (int l = 0; l < p->num_layers; l++) {
        rc = moemap_placement_set_layer(q, l, p->layers[l].layer, p->layers[l].replicas,
                                        p->layers[l].num_replicas, err);
        if (rc) {
            moemap_placement_free(q);
            return rc;
        }
    }
    if (p->predicted_json) {
        q->predicted_json = moemap_strdup(p->predicted_json);
        if (!q->predicted_json) {
            moemap_placement_free(q);
            return moemap_error_set(err, MOEMAP_ENOMEM, "placement: out of memory");
        }
    }
    *out = q;
    return 0;
}
