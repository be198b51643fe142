/*
 * fuzz_workload.h — what the four workload-parser fuzz targets share: parse a buffer with
 * moemap_workload_parse_buffer in one format, and trap on any result that is not
 * well-formed loads (positive shape, distinct layer ids, finite non-negative counts and
 * batch tokens, statistics that compute) or on a failure without a one-line message.
 * Each target (fuzz_loads.c, fuzz_sglang.c, fuzz_csv.c, fuzz_esft.c) only picks the
 * format and the read parameters.
 */
#ifndef MOEMAP_FUZZ_WORKLOAD_H
#define MOEMAP_FUZZ_WORKLOAD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "moemap/workload.h"

static void check_loads(const moemap_loads *ld)
{
    if (!ld || ld->experts <= 0 || ld->num_layers <= 0 || ld->num_batches <= 0 ||
        ld->top_k < 0)
        __builtin_trap();
    for (int l = 0; l < ld->num_layers; l++)
        for (int k = 0; k < l; k++)
            if (ld->layer_ids[k] == ld->layer_ids[l])
                __builtin_trap();
    size_t n = (size_t)ld->num_batches * (size_t)ld->num_layers * (size_t)ld->experts;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(ld->counts[i]) || ld->counts[i] < 0)
            __builtin_trap();
    for (int b = 0; b < ld->num_batches; b++)
        if (!isfinite(ld->batch_tokens[b]) || ld->batch_tokens[b] < 0)
            __builtin_trap();
    /* Statistics on whatever parsed (bounded, so a run stays fast). */
    if (n <= 200000) {
        moemap_workload_stats *st = NULL;
        moemap_error err = {0};
        if (moemap_workload_stats_compute(ld, NULL, &st, &err) != 0 && err.code != MOEMAP_ENOMEM)
            __builtin_trap();
        for (int l = 0; st && l < st->num_layers; l++)
            if (isnan(st->layers[l].max_over_mean) || isnan(st->layers[l].gini))
                __builtin_trap();
        moemap_workload_stats_free(st);
    }
}

static int fuzz_workload_parse(const uint8_t *data, size_t size, const moemap_read_params *p)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    int rc = moemap_workload_parse_buffer((const char *)data, size, "fuzz", p, &ld, &err);
    if (rc == 0) {
        check_loads(ld);
    } else if (ld != NULL || err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
        __builtin_trap();
    }
    moemap_loads_free(ld);
    return 0;
}

#endif
