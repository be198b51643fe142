/*
 * strategy_round_robin.c — the `round_robin` layout: expert e dealt to GPU e mod G
 * (vLLM's round-robin expert placement), skipping GPUs whose even share of slots is used
 * up, one replica each. Ignores loads and speeds.
 */
#include "place_util.h"

int place_round_robin(const place_problem *pb, place_result *out, moemap_error *err)
{
    int G = pb->num_gpus;
    int *quota = moemap_malloc((size_t)G * sizeof *quota);
    int *used = moemap_calloc((size_t)G, sizeof *used);
    if (!quota || !used) {
        moemap_free(quota);
        moemap_free(used);
        return moemap_error_set(err, MOEMAP_ENOMEM, "round_robin: out of memory");
    }
    place_even_quota(G, pb->slots, pb->experts, quota);
    int g = 0, rc = 0;
    for (int e = 0; e < pb->experts && !rc; e++) {
        int tries = 0;
        while (used[g] >= quota[g] && tries++ < G)
            g = (g + 1) % G;
        if (used[g] >= quota[g]) {
            rc = moemap_error_set(err, MOEMAP_EINFEASIBLE, "round_robin: out of slots");
            break;
        }
        rc = place_result_add(out, e, g, 1.0, err);
        used[g]++;
        g = (g + 1) % G;
    }
    moemap_free(quota);
    moemap_free(used);
    return rc;
}
