/*
 * sglang.c — importer for SGLang's expert-distribution dumps:
 *   {"logical_count": [layers][experts]}          one aggregate batch, or
 *   {"logical_count": [steps][layers][experts]}   one batch per recorded step.
 * The row index is the model layer. SGLang writes all-zero rows for dense layers, so a
 * layer whose counts are zero in every step gets no entry. SGLang does not record the
 * number of tokens: a batch's tokens are its busiest layer's token-slots divided by top-k
 * (given with --top-k), or the token-slots themselves when top-k is unknown.
 */
#include <math.h>
#include <stdio.h>

#include "workload_internal.h"

/* Checks one [layers][experts] matrix; sets *nl and *ne from the first one seen. */
static int check_matrix(const json_t *m, const char *name, const char *where, int *nl, int *ne,
                        moemap_error *err)
{
    if (!json_is_array(m) || json_array_size(m) == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: %s: expected a non-empty array of "
                                "layers", name, where);
    size_t layers = json_array_size(m);
    if (*nl < 0)
        *nl = (int)(layers > 100000 ? 100001 : layers);
    if (*nl > 100000)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu layers is too many", name, layers);
    if ((size_t)*nl != layers)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: %s: %zu layers, expected %d as in the "
                                "first step", name, where, layers, *nl);
    for (size_t l = 0; l < layers; l++) {
        const json_t *row = json_array_get(m, l);
        if (!json_is_array(row) || json_array_size(row) == 0)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s: %s[%zu]: expected a non-empty array of expert counts",
                                    name, where, l);
        size_t n = json_array_size(row);
        if (*ne < 0) {
            if (n > 32767)
                return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu experts is too many", name,
                                        n);
            *ne = (int)n;
        }
        if (n != (size_t)*ne)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s: %s[%zu]: %zu experts, expected %d as in the first row",
                                    name, where, l, n, *ne);
        for (size_t e = 0; e < n; e++) {
            const json_t *v = json_array_get(row, e);
            double x = json_is_number(v) ? json_number_value(v) : NAN;
            if (!isfinite(x) || x < 0)
                return moemap_error_set(err, json_is_number(v) ? MOEMAP_ERANGE : MOEMAP_EPARSE,
                                        "%s: %s[%zu][%zu]: expected a non-negative count", name,
                                        where, l, e);
        }
    }
    return 0;
}

int mm_sglang_from_json(const json_t *root, const char *name, const moemap_read_params *p,
                        moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    const json_t *lc = json_is_object(root) ? json_object_get(root, "logical_count") : NULL;
    if (!json_is_array(lc) || json_array_size(lc) == 0)
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s: expected {\"logical_count\": [[...]]} (SGLang expert "
                                "distribution) with a non-empty array",
                                name);
    /* [steps][layers][experts] when the elements of the elements are arrays. */
    const json_t *first = json_array_get(lc, 0);
    int three_d = json_is_array(first) && json_array_size(first) > 0 &&
                  json_is_array(json_array_get(first, 0));
    size_t steps = three_d ? json_array_size(lc) : 1;
    if (steps > 10000000)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu steps is too many", name, steps);
    int nl = -1, ne = -1;
    char where[64];
    for (size_t s = 0; s < steps; s++) {
        const json_t *m = three_d ? json_array_get(lc, s) : lc;
        if (three_d)
            snprintf(where, sizeof where, "logical_count[%zu]", s);
        else
            snprintf(where, sizeof where, "logical_count");
        int rc = check_matrix(m, name, where, &nl, &ne, err);
        if (rc)
            return rc;
    }
    if (p->experts > 0 && p->experts != ne)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: %d experts per layer, expected %d",
                                name, ne, p->experts);
    if (p->top_k > ne)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: top-k %d exceeds %d experts", name,
                                p->top_k, ne);
    /* Which layers are MoE: any non-zero count in any step. */
    int *moe = moemap_calloc((size_t)nl, sizeof *moe);
    if (!moe)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    int n_moe = 0;
    for (int l = 0; l < nl; l++) {
        for (size_t s = 0; s < steps && !moe[l]; s++) {
            const json_t *row = json_array_get(three_d ? json_array_get(lc, s) : lc, (size_t)l);
            for (int e = 0; e < ne && !moe[l]; e++)
                moe[l] = json_number_value(json_array_get(row, (size_t)e)) > 0;
        }
        n_moe += moe[l];
    }
    if (n_moe == 0) {
        moemap_free(moe);
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s: every count is zero: no MoE layer received tokens", name);
    }
    moemap_loads *ld;
    int rc = moemap_loads_create(ne, p->top_k, n_moe, (int)steps, &ld, err);
    if (rc) {
        moemap_free(moe);
        return rc;
    }
    for (int l = 0, k = 0; l < nl; l++)
        if (moe[l])
            ld->layer_ids[k++] = l;
    for (size_t s = 0; s < steps; s++) {
        const json_t *m = three_d ? json_array_get(lc, s) : lc;
        double busiest = 0;
        for (int k = 0; k < n_moe; k++) {
            const json_t *row = json_array_get(m, (size_t)ld->layer_ids[k]);
            double *dst = &MOEMAP_LOADS_AT(ld, s, k, 0), sum = 0;
            for (int e = 0; e < ne; e++) {
                dst[e] = json_number_value(json_array_get(row, (size_t)e));
                sum += dst[e];
            }
            if (sum > busiest)
                busiest = sum;
        }
        ld->batch_tokens[s] = p->top_k > 0 ? busiest / p->top_k : busiest;
    }
    moemap_free(moe);
    *out = ld;
    return 0;
}
