/*
 * strategy_linear.c — the `linear` layout serving engines start with (vLLM's default
 * expert parallelism): experts in contiguous blocks, GPU 0 first, as evenly as the slots
 * allow, one replica each. It ignores loads and speeds: the baseline of baselines.
 */
#include "place_util.h"

int place_linear(const place_problem *pb, place_result *out, moemap_error *err)
{
    int *quota = moemap_malloc((size_t)pb->num_gpus * sizeof *quota);
    if (!quota)
        return moemap_error_set(err, MOEMAP_ENOMEM, "linear: out of memory");
    place_even_quota(pb->num_gpus, pb->slots, pb->experts, quota);
    int e = 0, rc = 0;
    for (int g = 0; g < pb->num_gpus && !rc; g++)
        for (int k = 0; k < quota[g] && e < pb->experts && !rc; k++)
            rc = place_result_add(out, e++, g, 1.0, err);
    moemap_free(quota);
    return rc;
}
