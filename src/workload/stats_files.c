/*
 * stats_files.c — `moemap stats` as one call: read a workload, profile it and, with a
 * second workload, record how far each layer's load drifted from it.
 */
#include "moemap/workload.h"

int moemap_workload_stats_files(const char *input, const char *compare,
                                const moemap_read_params *rp, const moemap_stats_params *sp,
                                moemap_loads **ld, moemap_workload_stats **st,
                                moemap_error *err)
{
    moemap_loads *other = NULL;
    *ld = NULL;
    *st = NULL;
    int rc = moemap_workload_read(input, rp, ld, NULL, err);
    if (!rc && compare)
        rc = moemap_workload_read(compare, rp, &other, NULL, err);
    if (!rc)
        rc = moemap_workload_stats_compute(*ld, sp, st, err);
    if (!rc && compare && (rc = moemap_workload_stats_compare(*st, *ld, other, err)))
        moemap_error_prefix(err, "--compare %s", compare);
    moemap_loads_free(other);
    return rc;
}
