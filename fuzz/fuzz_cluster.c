/*
 * fuzz_cluster.c — libFuzzer target for the moemap.cluster/v1 reader
 * (moemap_cluster_parse_buffer). Whatever parses must be a usable cluster: every GPU's
 * cost is never NaN or negative, zero for zero tokens and non-decreasing in the token
 * count, a clone prices the same, the relative speeds lie in [0, 1], and the cluster
 * survives a second finalize; otherwise the target traps.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "moemap/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_cluster *c = NULL, *d = NULL;
    moemap_error err = {0};
    if (moemap_cluster_parse_buffer((const char *)data, size, "fuzz", &c, &err) != 0)
        return 0;
    if (moemap_cluster_clone(c, &d, &err) != 0 && err.code != MOEMAP_ENOMEM)
        __builtin_trap();
    double *rel = malloc((size_t)c->num_gpus * sizeof *rel);
    for (int g = 0; g < c->num_gpus && g < 64; g++) {
        if (moemap_cluster_expert_us(c, g, 0) != 0.0)
            __builtin_trap();
        double prev = 0;
        for (double n = 0.5; n < 1e6; n *= 1.7) {
            double v = moemap_cluster_expert_us(c, g, n);
            if (isnan(v) || v < 0 || v < prev)
                __builtin_trap();
            if (d && moemap_cluster_expert_us(d, g, n) != v)
                __builtin_trap();
            prev = v;
        }
    }
    if (rel) {
        moemap_cluster_relative_speed(c, 100, rel);
        for (int g = 0; g < c->num_gpus; g++)
            if (!(rel[g] >= 0 && rel[g] <= 1))
                __builtin_trap();
    }
    if (moemap_cluster_finalize(c, &err) != 0 && err.code != MOEMAP_ENOMEM)
        __builtin_trap();
    free(rel);
    moemap_cluster_free(d);
    moemap_cluster_free(c);
    return 0;
}
