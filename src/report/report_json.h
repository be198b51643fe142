/*
 * report_json.h — lenient lookups used by the report's builders. The report reads the
 * outputs of several pipeline stages; these helpers find a field under any of a few
 * names (e.g. "mean_us" or "mean") so that a report can still be drawn from an older
 * output, while a field that is present with the wrong type is still an error.
 */
#ifndef MOEMAP_REPORT_JSON_H
#define MOEMAP_REPORT_JSON_H

#include <jansson.h>

#include "moemap/base.h"

/* Field names accepted for the eval output's strategies (shared by report_eval.c and
 * report_table.c). */
extern const char *const RP_K_STRATS[]; /* "strategies", ... */
extern const char *const RP_K_NAME[];   /* "strategy", "name", "label" */
extern const char *const RP_K_MEAN[];   /* "mean_us", ... */
extern const char *const RP_K_P90[];
extern const char *const RP_K_P99[];
extern const char *const RP_K_BOUND[];
extern const char *const RP_K_GAP[];

/* The first of the NULL-terminated names present in obj, or NULL. */
json_t *rp_json_any(const json_t *obj, const char *const *names);
/* A number under any of the names: 1 found (set *out), 0 absent, negative on a wrong type
 * (err names where.key). */
int rp_json_num_any(const json_t *obj, const char *const *names, const char *where,
                    double *out, moemap_error *err);
/* A numeric array under any of the names into a moemap_malloc'ed array: 1 found, 0
 * absent, negative on a wrong type. */
int rp_json_array_any(const json_t *obj, const char *const *names, const char *where,
                      double **out, int *n, moemap_error *err);
/* A string under any of the names, or NULL. */
const char *rp_json_str_any(const json_t *obj, const char *const *names);

#endif
