/*
 * result.c — place_result, the growable replica list a strategy fills for one layer
 * (see strategy.h). Doubling growth keeps appends amortised O(1).
 */
#include "strategy.h"

int place_result_add(place_result *r, int expert, int gpu, double share, moemap_error *err)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        moemap_replica *grown = moemap_realloc(r->reps, (size_t)cap * sizeof *grown);
        if (!grown)
            return moemap_error_set(err, MOEMAP_ENOMEM, "placement: out of memory");
        r->reps = grown;
        r->cap = cap;
    }
    r->reps[r->n].expert = expert;
    r->reps[r->n].gpu = gpu;
    r->reps[r->n].share = share;
    r->n++;
    return 0;
}
