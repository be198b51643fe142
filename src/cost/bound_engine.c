/*
 * bound_engine.c — the lower bound under engine rules (moemap/eval.h,
 * moemap_bound_engine_layer_batch): what no SGLang or vLLM placement can beat, however
 * it is chosen. Under those rules GPU g holds exactly S distinct experts and an expert has
 * at most G copies splitting its tokens evenly, so a copy of e carries at least c_e / G
 * tokens and costs at least f_g(c_e / G) (curves never fall). GPU g's time is then at
 * least the sum of f_g over the S experts with the fewest tokens — the same S experts for
 * every GPU, since every f_g is monotone — and the straggler at least the largest such
 * sum. It matters at decode sizes, where the general bound (free placements may leave a
 * slow GPU's slots empty) is far below what a filled slow GPU must pay: S weight reads.
 */
#include <stdlib.h>

#include "moemap/eval.h"
#include "base_util.h"

double moemap_bound_engine_layer_batch(const moemap_cluster *c, int S, const double *counts,
                                       int experts, double *scratch)
{
    int G = c->num_gpus;
    if (S <= 0 || G <= 0 || experts <= 0)
        return 0;
    for (int e = 0; e < experts; e++)
        scratch[e] = counts[e] > 0 ? counts[e] / G : 0;
    qsort(scratch, (size_t)experts, sizeof *scratch, mm_cmp_double);
    int n = S < experts ? S : experts;
    double worst = 0;
    for (int g = 0; g < G; g++) {
        double t = 0;
        for (int i = 0; i < n; i++)
            t += moemap_cluster_expert_us(c, g, scratch[i]);
        worst = t > worst ? t : worst;
    }
    return worst;
}
