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
#include <stdlib.h>
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

/* --- the streaming reader ------------------------------------------------------------
 * 64 batches of DeepSeek-V3 (58 x 256 counts each, 3.2 MB of text) made a jansson tree of
 * ~1 million nodes: 50 MB and a tenth of a second, more than a small --time-limit. The
 * streaming path reads the files moemap writes ("format", "experts", "layers" before
 * "batches"; batches of "tokens" and "counts" only) with its own number scanner straight
 * into the counts. It takes the happy path only: on anything else (a syntax error, another
 * order, an unknown batch key, a value out of range, a sum over tokens x top_k) it
 * declines and the tree path above reads the file and words the message. Numbers become
 * the same doubles as jansson makes them: integers (up to 18 digits) as a long long cast
 * to double, reals through strtod. */

/* A non-negative JSON number by the grammar (no sign, no leading zero); 0 when there is
 * none or it is not one jansson would read the same. */
static int ls_number(mm_json_cursor *in, double *out)
{
    mm_jc_ws(in);
    const char *s = in->s + in->i;
    size_t n = in->n - in->i, k = 0;
    if (k < n && s[k] == '0')
        k++;
    else if (k < n && s[k] >= '1' && s[k] <= '9')
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
    else
        return 0;
    size_t digits = k;
    int real = 0;
    if (k < n && s[k] == '.') {
        real = 1;
        if (++k >= n || s[k] < '0' || s[k] > '9')
            return 0;
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
    }
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        real = 1;
        k++;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k >= n || s[k] < '0' || s[k] > '9')
            return 0;
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
    }
    if (!real && digits <= 18) { /* jansson: strtoll, then a cast to double */
        long long v = 0;
        for (size_t i = 0; i < k; i++)
            v = 10 * v + (s[i] - '0');
        *out = (double)v;
    } else {
        char buf[64];
        if (k >= sizeof buf || !real)
            return 0; /* longer: jansson's range rules, the tree path decides */
        memcpy(buf, s, k);
        buf[k] = '\0';
        errno = 0;
        char *end;
        *out = strtod(buf, &end);
        if (errno || end != buf + k)
            return 0;
    }
    in->i += k;
    return 1;
}

/* One batch object into tokens and dst[nl * experts]; 1: decline. */
static int ls_batch(mm_json_cursor *in, int nl, long experts, long top_k, double *tokens, double *dst)
{
    if (!mm_jc_char(in, '{'))
        return 1;
    int have_tokens = 0, have_counts = 0;
    for (int first = 1; !mm_jc_char(in, '}'); first = 0) {
        if (!first && !mm_jc_char(in, ','))
            return 1;
        json_t *key = mm_jc_value(in);
        const char *k = json_string_value(key);
        int is_tokens = k && !strcmp(k, "tokens"), is_counts = k && !strcmp(k, "counts");
        json_decref(key);
        if (!mm_jc_char(in, ':') || (!is_tokens && !is_counts) ||
            (is_tokens && have_tokens) || (is_counts && have_counts))
            return 1;
        if (is_tokens) {
            if (!ls_number(in, tokens) || *tokens > MOEMAP_MAX_COUNT)
                return 1;
            have_tokens = 1;
            continue;
        }
        if (!mm_jc_char(in, '['))
            return 1;
        for (int l = 0; l < nl; l++) {
            if ((l > 0 && !mm_jc_char(in, ',')) || !mm_jc_char(in, '['))
                return 1;
            for (long e = 0; e < experts; e++) {
                double *x = &dst[(size_t)l * (size_t)experts + (size_t)e];
                if ((e > 0 && !mm_jc_char(in, ',')) || !ls_number(in, x) ||
                    !(*x <= MOEMAP_MAX_COUNT))
                    return 1;
            }
            if (!mm_jc_char(in, ']'))
                return 1;
        }
        if (!mm_jc_char(in, ']'))
            return 1;
        have_counts = 1;
    }
    if (!have_tokens || !have_counts)
        return 1;
    /* the tree path's sum check: a file that fails it gets its message there */
    for (int l = 0; l < nl && top_k > 0 && *tokens > 0; l++) {
        double sum = 0;
        for (long e = 0; e < experts; e++)
            sum += dst[(size_t)l * (size_t)experts + (size_t)e];
        if (sum > *tokens * (double)top_k * 1.001 + 1)
            return 1;
    }
    return 0;
}

int mm_loads_parse_stream(const char *buf, size_t len, moemap_loads **out)
{
    *out = NULL;
    mm_json_cursor in = {buf, len, 0};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        in.i = 3;
    json_t *meta = json_object();
    int declined = !meta || !mm_jc_char(&in, '{'), first = 1, done = 0;
    long experts = 0, top_k = 0;
    int *ids = NULL, nl = 0;
    double *counts = NULL, *tokens = NULL;
    size_t nb = 0, cap = 0;
    while (!declined && !mm_jc_char(&in, '}')) {
        if ((!first && !mm_jc_char(&in, ',')) || done) {
            declined = 1; /* "batches" last, as moemap writes it */
            break;
        }
        first = 0;
        json_t *key = mm_jc_value(&in);
        const char *k = json_string_value(key);
        /* moemap writes "format" first: anything else (an SGLang dump's "logical_count")
         * is declined before its values are parsed for nothing */
        if (!k || !mm_jc_char(&in, ':') || json_object_get(meta, k) ||
            (json_object_size(meta) == 0 && strcmp(k, "format") != 0)) {
            json_decref(key);
            declined = 1;
            break;
        }
        if (strcmp(k, "batches") == 0) {
            json_t *fmt = json_object_get(meta, "format"), *e = json_object_get(meta, "experts");
            json_t *kk = json_object_get(meta, "top_k"), *layers = json_object_get(meta, "layers");
            declined = !json_is_string(fmt) || strcmp(json_string_value(fmt), LOADS_FORMAT) ||
                       !json_is_integer(e) || json_integer_value(e) < 1 ||
                       json_integer_value(e) > 32767 || (kk && !json_is_integer(kk)) ||
                       !json_is_array(layers) ||
                       read_layers(layers, "", &ids, &nl, NULL) != 0 || !mm_jc_char(&in, '[');
            if (!declined) {
                experts = (long)json_integer_value(e);
                top_k = kk ? (long)json_integer_value(kk) : 0;
                declined = top_k < 0 || top_k > experts;
            }
            size_t per = (size_t)nl * (size_t)experts;
            for (; !declined && !mm_jc_char(&in, ']'); nb++) {
                if ((nb > 0 && !mm_jc_char(&in, ',')) || nb >= 100000000) {
                    declined = 1;
                    break;
                }
                if (nb == cap) { /* grows with what the file holds, never ahead of it */
                    size_t nc = cap ? 2 * cap : 16;
                    double *c = moemap_realloc(counts, nc * per * sizeof *c);
                    if (c)
                        counts = c;
                    double *t = c ? moemap_realloc(tokens, nc * sizeof *t) : NULL;
                    if (!t) {
                        declined = 1;
                        break;
                    }
                    tokens = t;
                    cap = nc;
                }
                declined = ls_batch(&in, nl, experts, top_k, &tokens[nb], counts + nb * per);
            }
            done = 1;
        } else {
            json_t *v = mm_jc_value(&in);
            declined = !v || json_object_set_new(meta, k, v) != 0;
        }
        json_decref(key);
    }
    mm_jc_ws(&in);
    declined |= !done || nb == 0 || in.i != in.n;
    /* moemap_loads_create's limit on the shape, then the loads take over the arrays read
     * (no second copy of the counts) */
    declined |= (double)experts * nl * (double)nb > 2147483648.0;
    moemap_loads *ld = NULL;
    if (!declined)
        declined = moemap_loads_create((int)experts, (int)top_k, nl, 1, &ld, NULL) != 0;
    if (!declined) {
        memcpy(ld->layer_ids, ids, (size_t)nl * sizeof *ids);
        moemap_free(ld->counts);
        moemap_free(ld->batch_tokens);
        double *fit = moemap_realloc(counts, nb * (size_t)nl * (size_t)experts * sizeof *fit);
        ld->counts = fit ? fit : counts;
        ld->batch_tokens = tokens;
        ld->num_batches = (int)nb;
        counts = tokens = NULL;
    }
    json_decref(meta);
    moemap_free(ids);
    moemap_free(counts);
    moemap_free(tokens);
    if (declined) {
        moemap_loads_free(ld);
        return 1;
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
