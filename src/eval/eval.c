/*
 * eval.c — moemap_eval_placement (see moemap/eval.h): the predicted cost of a placement
 * over real batches, computed by the cost layer (src/cost/placement_cost.c, which
 * moemap_place also uses for its "predicted"), plus what only an evaluation asks: the
 * checks of a previous placement and the replicas moved from it. Also the bounds object
 * a caller computes once to score several placements.
 */
#include "moemap/eval.h"

#include <string.h>

#include "moemap/migrate.h"

#include "base_util.h"
#include "cost/cost_internal.h"

moemap_eval_params moemap_eval_default_params(void)
{
    return (moemap_eval_params){0};
}

int moemap_eval_bounds_create(const moemap_loads *loads, const moemap_cluster *c, int slots,
                              double time_limit_s, moemap_eval_bounds **out,
                              moemap_error *err)
{
    *out = NULL;
    if (!loads || !c)
        return moemap_error_set(err, MOEMAP_EINVAL, "eval bounds: no loads or no cluster");
    moemap_eval_bounds *b = moemap_calloc(1, sizeof *b);
    if (!b)
        return moemap_error_set(err, MOEMAP_ENOMEM, "eval: out of memory");
    int rc = mm_cost_bounds_compute(loads, c, slots,
                                    time_limit_s > 0 ? mm_now_s() + time_limit_s : 0, b, err);
    if (rc) {
        moemap_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void moemap_eval_bounds_free(moemap_eval_bounds *b)
{
    if (!b)
        return;
    mm_cost_bounds_clear(b);
    moemap_free(b);
}

int moemap_eval_placement(const moemap_loads *loads, const moemap_cluster *c,
                          const moemap_placement *p, const moemap_eval_params *params,
                          moemap_eval_summary **out, moemap_error *err)
{
    const moemap_eval_bounds *b = params ? params->bounds : NULL;
    if (b && (b->num_layers != loads->num_layers || b->num_batches != loads->num_batches ||
              b->experts != loads->experts)) {
        *out = NULL;
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "eval: the bounds given were computed for other loads (%d "
                                "layers x %d batches, not %d x %d)", b->num_layers,
                                b->num_batches, loads->num_layers, loads->num_batches);
    }
    *out = NULL;
    moemap_eval_params defaults = moemap_eval_default_params();
    if (!params)
        params = &defaults;
    int rc = mm_cost_check_placement(loads, c, p, err);
    if (rc)
        return rc;
    /* The previous placement must be a valid one of the same shape (place refuses the
     * same): another shape would be counted as hundreds of phantom moves. */
    const moemap_placement *prev = params->previous;
    moemap_error first = {0};
    if (prev && (prev->num_gpus != p->num_gpus || prev->experts != p->experts))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the previous placement is for %d gpus x %d experts, this "
                                "one for %d x %d", prev->num_gpus, prev->experts, p->num_gpus,
                                p->experts);
    if (prev && (moemap_placement_check(prev, NULL, 0, mm_keep_first_problem, &first) > 0 ||
                 moemap_placement_check_loads(prev, loads, mm_keep_first_problem, &first) > 0))
        return moemap_error_set(err, MOEMAP_EINVAL, "the previous placement: %s", first.msg);
    moemap_eval_summary *s = NULL;
    rc = mm_cost_placement(loads, c, p, params, b, &s, err);
    if (rc)
        return rc;
    if (prev) {
        s->moved = 0;
        for (int i = 0; i < s->num_layers; i++) {
            moemap_eval_layer *el = &s->layers[i];
            el->moved = moemap_migration_count_moves(mm_placement_layer(prev, el->layer),
                                                     mm_placement_layer(p, el->layer));
            s->moved += el->moved;
        }
    }
    *out = s;
    return 0;
}

