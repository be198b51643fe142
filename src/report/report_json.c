/*
 * report_json.c — lenient field lookups for the report's builders (see report_json.h).
 */
#include <math.h>
#include <stdio.h>

#include "json_util.h"
#include "report_internal.h"
#include "report_json.h"

const char *const RP_K_STRATS[] = {"strategies", "placements", "results", NULL};
const char *const RP_K_NAME[] = {"strategy", "name", "label", NULL};
const char *const RP_K_MEAN[] = {"mean_us", "mean", "straggler_mean_us", NULL};
const char *const RP_K_P90[] = {"p90_us", "p90", "straggler_p90_us", NULL};
const char *const RP_K_P99[] = {"p99_us", "p99", "straggler_p99_us", NULL};
const char *const RP_K_BOUND[] = {"bound_mean_us", "bound_us", "lower_bound_us",
                                  "lower_bound", "bound", NULL};
const char *const RP_K_GAP[] = {"gap", "gap_to_bound", NULL};

json_t *rp_json_any(const json_t *obj, const char *const *names)
{
    if (!json_is_object(obj))
        return NULL;
    for (; *names; names++) {
        json_t *v = json_object_get(obj, *names);
        if (v && !json_is_null(v))
            return v;
    }
    return NULL;
}

static const char *found_name(const json_t *obj, const char *const *names)
{
    for (; *names; names++) {
        json_t *v = json_object_get(obj, *names);
        if (v && !json_is_null(v))
            return *names;
    }
    return "?";
}

int rp_json_num_any(const json_t *obj, const char *const *names, const char *where,
                    double *out, moemap_error *err)
{
    json_t *v = rp_json_any(obj, names);
    if (!v)
        return 0;
    char w[400];
    rp_fmt(w, sizeof w, "%s.%s", where, found_name(obj, names));
    if (mm_json_number(v, w, out, err))
        return err && err->code ? err->code : MOEMAP_EPARSE;
    return 1;
}

int rp_json_array_any(const json_t *obj, const char *const *names, const char *where,
                      double **out, int *n, moemap_error *err)
{
    json_t *v = rp_json_any(obj, names);
    if (!v)
        return 0;
    char w[400];
    rp_fmt(w, sizeof w, "%s.%s", where, found_name(obj, names));
    if (!json_is_array(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array of numbers", w);
    size_t len = json_array_size(v);
    double *x = moemap_malloc((len ? len : 1) * sizeof *x);
    if (!x)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t i = 0; i < len; i++) {
        char wi[420];
        rp_fmt(wi, sizeof wi, "%s[%zu]", w, i);
        json_t *e = json_array_get(v, i);
        if (json_is_null(e)) { /* a bucket without data (e.g. no request finished) */
            x[i] = NAN;
            continue;
        }
        if (mm_json_number(e, wi, &x[i], err)) {
            moemap_free(x);
            return err && err->code ? err->code : MOEMAP_EPARSE;
        }
    }
    *out = x;
    *n = (int)len;
    return 1;
}

const char *rp_json_str_any(const json_t *obj, const char *const *names)
{
    json_t *v = rp_json_any(obj, names);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
