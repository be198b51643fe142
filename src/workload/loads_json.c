/*
 * loads_json.c — the moemap.loads/v1 reader and writer (DESIGN.md):
 *   {"format": "moemap.loads/v1", "experts": E, "top_k": k, "layers": [ids...],
 *    "batches": [{"tokens": T, "counts": [[c_e for each expert] for each layer]}]}
 * The reader checks every field and names it in messages (file: batches[3].counts[2][17]),
 * since jansson keeps no positions for values; syntax errors carry line:column.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "workload_internal.h"

#define LOADS_FORMAT "moemap.loads/v1"

static int read_layers(const json_t *arr, const char *name, int **ids_out, int *n_out,
                       moemap_error *err)
{
    size_t n = json_array_size(arr);
    if (n == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: \"layers\" is empty", name);
    if (n > 100000)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu layers is too many", name, n);
    int *ids = moemap_malloc(n * sizeof *ids);
    if (!ids)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 1000000) {
            moemap_free(ids);
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s: layers[%zu]: expected a layer index in [0, 1000000]",
                                    name, i);
        }
        ids[i] = (int)json_integer_value(v);
        for (size_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) {
                int dup = ids[i];
                moemap_free(ids);
                return moemap_error_set(err, MOEMAP_EPARSE,
                                        "%s: layers[%zu]: layer %d is listed twice", name, i,
                                        dup);
            }
    }
    *ids_out = ids;
    *n_out = (int)n;
    return 0;
}

/* Checks that each batch is an object with "counts" of nl rows of `experts` entries. */
static int check_shapes(const json_t *batches, int nl, long experts, const char *name,
                        moemap_error *err)
{
    char where[96];
    for (size_t b = 0; b < json_array_size(batches); b++) {
        const json_t *bo = json_array_get(batches, b);
        snprintf(where, sizeof where, "%s: batches[%zu]", name, b);
        if (!json_is_object(bo))
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
        const json_t *counts = mm_json_get_array(bo, "counts", where, err);
        if (!counts)
            return err ? err->code : MOEMAP_EPARSE;
        if (json_array_size(counts) != (size_t)nl)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s.counts: %zu rows, expected one per layer (%d)", where,
                                    json_array_size(counts), nl);
        for (int l = 0; l < nl; l++) {
            const json_t *row = json_array_get(counts, (size_t)l);
            if (!json_is_array(row) || json_array_size(row) != (size_t)experts)
                return moemap_error_set(
                    err, MOEMAP_EPARSE,
                    "%s.counts[%d]: expected an array of %ld counts (one per expert), got %s%zu",
                    where, l, experts, json_is_array(row) ? "" : "not an array, ",
                    json_is_array(row) ? json_array_size(row) : (size_t)0);
        }
    }
    return 0;
}

int mm_loads_from_json(const json_t *root, const char *name, moemap_loads **out,
                       moemap_error *err)
{
    *out = NULL;
    if (!json_is_object(root))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", name);
    const json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), LOADS_FORMAT))
        return moemap_error_set(err, MOEMAP_EFORMAT, "%s: \"format\" is %s%s%s, expected \"%s\"",
                                name, json_is_string(fmt) ? "\"" : "",
                                json_is_string(fmt) ? json_string_value(fmt) : "not a string",
                                json_is_string(fmt) ? "\"" : "", LOADS_FORMAT);
    long experts = 0, top_k = 0;
    int rc = mm_json_get_int(root, "experts", name, 1, 32767, &experts, err);
    if (!rc)
        rc = mm_json_get_int_opt(root, "top_k", name, 0, experts, &top_k, err);
    if (rc)
        return rc;
    json_t *layers = mm_json_get_array(root, "layers", name, err);
    if (!layers)
        return err ? err->code : MOEMAP_EPARSE;
    json_t *batches = mm_json_get_array(root, "batches", name, err);
    if (!batches)
        return err ? err->code : MOEMAP_EPARSE;
    size_t nb = json_array_size(batches);
    if (nb == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: \"batches\" is empty", name);
    if (nb > 100000000)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu batches is too many", name, nb);
    int *ids = NULL, nl = 0;
    rc = read_layers(layers, name, &ids, &nl, err);
    if (rc)
        return rc;
    /* Every batch's shape is checked before allocating, so the allocation is bounded
     * by the number of values actually in the file (a tiny file cannot claim GiBs). */
    rc = check_shapes(batches, nl, experts, name, err);
    if (rc) {
        moemap_free(ids);
        return rc;
    }
    moemap_loads *ld;
    rc = moemap_loads_create((int)experts, (int)top_k, nl, (int)nb, &ld, err);
    if (rc) {
        moemap_free(ids);
        return rc;
    }
    for (int l = 0; l < nl; l++)
        ld->layer_ids[l] = ids[l];
    moemap_free(ids);
    char where[96];
    /* Shapes were checked by check_shapes; what is left are the values. */
    for (size_t b = 0; b < nb && !rc; b++) {
        const json_t *bo = json_array_get(batches, b);
        snprintf(where, sizeof where, "%s: batches[%zu]", name, b);
        rc = mm_json_get_num(bo, "tokens", where, 0, MOEMAP_MAX_COUNT, &ld->batch_tokens[b],
                             err);
        const json_t *counts = json_object_get(bo, "counts");
        for (int l = 0; l < nl && !rc; l++) {
            const json_t *row = json_array_get(counts, (size_t)l);
            double *dst = &MOEMAP_LOADS_AT(ld, b, l, 0);
            for (long e = 0; e < experts; e++) {
                const json_t *v = json_array_get(row, (size_t)e);
                double x = json_is_number(v) ? json_number_value(v) : NAN;
                if (!json_is_number(v) || !isfinite(x) || x < 0) {
                    rc = moemap_error_set(err, json_is_number(v) ? MOEMAP_ERANGE : MOEMAP_EPARSE,
                                          "%s.counts[%d][%ld]: expected a non-negative count",
                                          where, l, e);
                    break;
                }
                if (x > MOEMAP_MAX_COUNT) {
                    rc = moemap_error_set(err, MOEMAP_ERANGE,
                                          "%s.counts[%d][%ld]: %g is above the limit of %g "
                                          "tokens (docs/limits.md)",
                                          where, l, e, x, MOEMAP_MAX_COUNT);
                    break;
                }
                dst[e] = x;
            }
            /* Each token picks top_k experts of a layer, so a layer's counts cannot sum to
             * more than tokens x top_k (0.1% slack for rounded dumps). A file that says
             * otherwise has its tokens or its counts wrong, and costs would be off. */
            double sum = 0;
            for (long e = 0; e < experts && !rc; e++)
                sum += dst[e];
            double cap = ld->batch_tokens[b] * (double)top_k;
            if (!rc && top_k > 0 && ld->batch_tokens[b] > 0 && sum > cap * 1.001 + 1)
                rc = moemap_error_set(err, MOEMAP_ERANGE,
                                      "%s: tokens %g contradicts counts[%d], which sum to %g, "
                                      "more than tokens x top_k = %g",
                                      where, ld->batch_tokens[b], l, sum, cap);
        }
    }
    if (rc) {
        moemap_loads_free(ld);
        return rc;
    }
    *out = ld;
    return 0;
}

/* A count as an integer when it is one (the usual case), else a real. */
static json_t *count_json(double x)
{
    if (x == floor(x) && fabs(x) < 9007199254740992.0)
        return json_integer((json_int_t)x);
    return mm_json_real(x, 6);
}

/* Writes one batch as a compact JSON line through jansson; 0 or -1 on failure. */
static int write_batch(FILE *f, const moemap_loads *ld, int b)
{
    json_t *bo = json_object(), *counts = json_array();
    int bad = !bo || !counts;
    for (int l = 0; l < ld->num_layers && !bad; l++) {
        json_t *row = json_array();
        const double *c = &MOEMAP_LOADS_AT(ld, b, l, 0);
        for (int e = 0; row && e < ld->experts && !bad; e++)
            bad |= json_array_append_new(row, count_json(c[e])) != 0;
        bad |= !row || json_array_append_new(counts, row) != 0;
    }
    if (!bad) {
        bad |= json_object_set_new(bo, "tokens", count_json(ld->batch_tokens[b])) != 0;
        bad |= json_object_set_new(bo, "counts", counts) != 0;
        counts = NULL;
    }
    if (!bad)
        bad |= json_dumpf(bo, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0;
    json_decref(counts);
    json_decref(bo);
    return bad ? -1 : 0;
}

/* One batch per line rather than mm_json_dump_file's one value per line: a DeepSeek-V3
 * workload has millions of counts, and a line per batch keeps files small and diffable. */
int moemap_loads_write(const moemap_loads *ld, const char *path, moemap_error *err)
{
    if (!ld)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: no loads to write", path);
    moemap_outfile *of;
    int rc = moemap_outfile_open(path, &of, err);
    if (rc)
        return rc;
    FILE *f = moemap_outfile_stream(of);
    json_t *layers = json_array();
    int bad = !layers;
    for (int l = 0; l < ld->num_layers && !bad; l++)
        bad |= json_array_append_new(layers, json_integer(ld->layer_ids[l])) != 0;
    bad |= fprintf(f, "{\"format\": \"%s\", \"experts\": %d, \"top_k\": %d,\n \"layers\": ",
                   LOADS_FORMAT, ld->experts, ld->top_k) < 0;
    if (!bad)
        bad |= json_dumpf(layers, f, JSON_COMPACT) != 0;
    json_decref(layers);
    bad |= fputs(",\n \"batches\": [\n", f) == EOF;
    for (int b = 0; b < ld->num_batches && !bad; b++) {
        bad |= fputs("  ", f) == EOF;
        bad |= write_batch(f, ld, b) != 0;
        bad |= fputs(b + 1 < ld->num_batches ? ",\n" : "\n", f) == EOF;
    }
    bad |= fputs(" ]}\n", f) == EOF;
    if (bad) {
        int e = errno;
        moemap_outfile_abort(of);
        return moemap_error_set(err, MOEMAP_EIO, "%s: write failed: %s", path, strerror(e));
    }
    return moemap_outfile_commit(of, err);
}
