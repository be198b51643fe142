/*
 * eval_io.c — the eval file (moemap.eval/v1, docs/formats.md): writing and reading the
 * summaries of placements evaluated on one workload and cluster. `moemap eval --json`
 * writes it and `moemap report` reads it, both through these two functions, so the file
 * has one owner. It carries everything the report draws (the per-batch model time and
 * every layer's per-GPU time), so no reader needs the placement or loads files again.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "moemap/eval.h"

#define EVAL_FORMAT "moemap.eval/v1"

static json_t *layer_json(const moemap_eval_summary *s, int l)
{
    const moemap_eval_layer *el = &s->layers[l];
    json_t *lo = json_object();
    json_object_set_new(lo, "layer", json_integer(el->layer));
    json_object_set_new(lo, "mean_us", json_real(el->mean_us));
    json_object_set_new(lo, "p90_us", json_real(el->p90_us));
    json_object_set_new(lo, "p99_us", json_real(el->p99_us));
    json_object_set_new(lo, "bound_mean_us", json_real(el->bound_mean_us));
    json_object_set_new(lo, "gap", json_real(el->gap));
    json_object_set_new(lo, "fixed_bound_mean_us", json_real(el->fixed_bound_mean_us));
    json_object_set_new(lo, "fixed_gap", json_real(el->fixed_gap));
    json_object_set_new(lo, "max_over_mean", json_real(el->imbalance));
    json_object_set_new(lo, "layer_mean_us", json_real(el->layer_mean_us));
    json_object_set_new(lo, "a2a_mean_us", json_real(el->a2a_mean_us));
    json_object_set_new(lo, "replicas", json_integer(el->replicas));
    if (s->moved >= 0)
        json_object_set_new(lo, "moved", json_integer(el->moved));
    if (s->layer_gpu_us && s->num_gpus > 0)
        json_object_set_new(lo, "gpu_us",
                            mm_json_real_array(&s->layer_gpu_us[(size_t)l * s->num_gpus],
                                               (size_t)s->num_gpus, -1));
    return lo;
}

static json_t *summary_json(const char *file, const moemap_eval_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(file ? file : ""));
    json_object_set_new(o, "strategy", json_string(s->strategy));
    json_object_set_new(o, "mean_us", json_real(s->mean_us));
    json_object_set_new(o, "p90_us", json_real(s->p90_us));
    json_object_set_new(o, "p99_us", json_real(s->p99_us));
    json_object_set_new(o, "bound_mean_us", json_real(s->bound_mean_us));
    json_object_set_new(o, "bound_p90_us", json_real(s->bound_p90_us));
    if (s->engine_bound_mean_us > 0)
        json_object_set_new(o, "engine_bound_mean_us", json_real(s->engine_bound_mean_us));
    json_object_set_new(o, "gap", json_real(s->gap));
    json_object_set_new(o, "fixed_bound_mean_us", json_real(s->fixed_bound_mean_us));
    json_object_set_new(o, "fixed_gap", json_real(s->fixed_gap));
    json_object_set_new(o, "max_over_mean", json_real(s->imbalance));
    json_object_set_new(o, "layer_mean_us", json_real(s->layer_mean_us));
    json_object_set_new(o, "layer_p90_us", json_real(s->layer_p90_us));
    json_object_set_new(o, "layer_p99_us", json_real(s->layer_p99_us));
    json_object_set_new(o, "a2a_mean_us", json_real(s->a2a_mean_us));
    json_object_set_new(o, "replicas", json_integer(s->replicas));
    json_object_set_new(o, "moved", s->moved >= 0 ? json_integer(s->moved) : json_null());
    if (s->batch_us)
        json_object_set_new(o, "batch_us",
                            mm_json_real_array(s->batch_us, (size_t)s->num_batches, -1));
    if (s->batch_layer_us)
        json_object_set_new(o, "batch_layer_us",
                            mm_json_real_array(s->batch_layer_us, (size_t)s->num_batches, -1));
    json_t *layers = json_array();
    for (int l = 0; l < s->num_layers; l++)
        json_array_append_new(layers, layer_json(s, l));
    json_object_set_new(o, "layers", layers);
    return o;
}

int moemap_eval_write(const char *path, const moemap_eval_file *f, moemap_error *err)
{
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "format", json_string(EVAL_FORMAT));
    json_object_set_new(root, "batches", json_integer(f->num_batches));
    for (int i = 0; i < f->num_placements; i++)
        json_array_append_new(arr, summary_json(f->files ? f->files[i] : NULL,
                                                f->summaries[i]));
    json_object_set_new(root, "placements", arr);
    int rc = mm_json_dump_file(root, path, err);
    json_decref(root);
    return rc;
}

void moemap_eval_file_free(moemap_eval_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->num_placements; i++) {
        if (f->files)
            moemap_free(f->files[i]);
        if (f->summaries)
            moemap_eval_summary_free(f->summaries[i]);
    }
    moemap_free(f->files);
    moemap_free(f->summaries);
    moemap_free(f);
}

/* An optional array of n numbers under key into a moemap_malloc'ed array (*out stays
 * NULL when absent); n < 0 takes the array's length into *len. */
static int read_nums(const json_t *o, const char *key, const char *where, int n,
                     double **out, int *len, moemap_error *err)
{
    json_t *a = json_object_get(o, key);
    *out = NULL;
    if (!a)
        return 0;
    if (!json_is_array(a) || (n >= 0 && json_array_size(a) != (size_t)n))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected an array of %d numbers",
                                where, key, n);
    size_t m = json_array_size(a);
    double *x = moemap_malloc((m ? m : 1) * sizeof *x);
    if (!x)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s.%s: out of memory", where, key);
    for (size_t i = 0; i < m; i++) {
        char w[400];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        if (mm_json_number(json_array_get(a, i), w, &x[i], err)) {
            moemap_free(x);
            return err->code;
        }
    }
    *out = x;
    if (len)
        *len = (int)m;
    return 0;
}

/* The numbers every summary and layer carry, by key. */
typedef struct num_field {
    const char *key;
    size_t off;
    int optional;
} num_field;

static int read_fields(const json_t *o, const char *where, void *dst, const num_field *f,
                       size_t n, moemap_error *err)
{
    for (size_t i = 0; i < n; i++) {
        double *d = (double *)((char *)dst + f[i].off);
        int rc = f[i].optional ? mm_json_get_num_opt(o, f[i].key, where, -1e300, 1e300, d, err)
                               : mm_json_get_num(o, f[i].key, where, -1e300, 1e300, d, err);
        if (rc)
            return rc;
    }
    return 0;
}

#define SF(k, m, opt) {k, offsetof(moemap_eval_summary, m), opt}
static const num_field summary_fields[] = {
    SF("mean_us", mean_us, 0), SF("p90_us", p90_us, 0), SF("p99_us", p99_us, 0),
    SF("bound_mean_us", bound_mean_us, 0), SF("bound_p90_us", bound_p90_us, 1),
    SF("engine_bound_mean_us", engine_bound_mean_us, 1), SF("gap", gap, 0),
    SF("fixed_bound_mean_us", fixed_bound_mean_us, 1), SF("fixed_gap", fixed_gap, 1),
    SF("max_over_mean", imbalance, 1),
    SF("layer_mean_us", layer_mean_us, 1), SF("layer_p90_us", layer_p90_us, 1),
    SF("layer_p99_us", layer_p99_us, 1), SF("a2a_mean_us", a2a_mean_us, 1),
};
#define LF(k, m, opt) {k, offsetof(moemap_eval_layer, m), opt}
static const num_field layer_fields[] = {
    LF("mean_us", mean_us, 0), LF("p90_us", p90_us, 0), LF("p99_us", p99_us, 0),
    LF("bound_mean_us", bound_mean_us, 0), LF("gap", gap, 0),
    LF("fixed_bound_mean_us", fixed_bound_mean_us, 1), LF("fixed_gap", fixed_gap, 1),
    LF("max_over_mean", imbalance, 1),
    LF("layer_mean_us", layer_mean_us, 1), LF("a2a_mean_us", a2a_mean_us, 1),
};
#define NF(a) (sizeof a / sizeof *a)

static int read_layer(const json_t *lo, const char *where, moemap_eval_summary *s, int l,
                      moemap_error *err)
{
    moemap_eval_layer *el = &s->layers[l];
    long id, reps = 0, moved = 0;
    int rc = mm_json_get_int(lo, "layer", where, 0, 1000000, &id, err);
    if (!rc)
        rc = mm_json_get_int_opt(lo, "replicas", where, 0, 1L << 30, &reps, err);
    if (!rc)
        rc = mm_json_get_int_opt(lo, "moved", where, 0, 1L << 40, &moved, err);
    if (!rc)
        rc = read_fields(lo, where, el, layer_fields, NF(layer_fields), err);
    if (rc)
        return rc;
    el->layer = (int)id;
    el->replicas = (int)reps;
    el->moved = moved;
    double *g = NULL;
    int ng = 0;
    rc = read_nums(lo, "gpu_us", where, l > 0 && s->num_gpus > 0 ? s->num_gpus : -1, &g, &ng,
                   err);
    if (rc || !g)
        return rc;
    if (!s->layer_gpu_us) {
        if (l > 0) {
            moemap_free(g);
            return moemap_error_set(err, MOEMAP_EPARSE, "%s.gpu_us: layers before it have "
                                    "none", where);
        }
        s->num_gpus = ng;
        s->layer_gpu_us = moemap_calloc((size_t)s->num_layers * (size_t)(ng ? ng : 1),
                                        sizeof *s->layer_gpu_us);
        if (!s->layer_gpu_us) {
            moemap_free(g);
            return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
        }
    }
    memcpy(&s->layer_gpu_us[(size_t)l * s->num_gpus], g, (size_t)ng * sizeof *g);
    moemap_free(g);
    return 0;
}

static int read_summary(const json_t *o, const char *where, int batches,
                        moemap_eval_summary **out, moemap_error *err)
{
    moemap_eval_summary *s = moemap_calloc(1, sizeof *s);
    if (!s)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    json_t *st = json_object_get(o, "strategy"), *mv = json_object_get(o, "moved");
    int rc = 0;
    long reps = 0, moved = -1;
    if (!json_is_string(st))
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.strategy: expected a string", where);
    if (!rc)
        snprintf(s->strategy, sizeof s->strategy, "%s", json_string_value(st));
    if (!rc)
        rc = read_fields(o, where, s, summary_fields, NF(summary_fields), err);
    if (!rc)
        rc = mm_json_get_int_opt(o, "replicas", where, 0, 1L << 40, &reps, err);
    if (!rc && mv && !json_is_null(mv))
        rc = mm_json_get_int(o, "moved", where, 0, 1L << 40, &moved, err);
    s->replicas = reps;
    s->moved = moved;
    s->num_batches = batches;
    if (!rc)
        rc = read_nums(o, "batch_us", where, batches, &s->batch_us, NULL, err);
    if (!rc) /* optional: files from before the whole-layer model lack it */
        rc = read_nums(o, "batch_layer_us", where, batches, &s->batch_layer_us, NULL, err);
    json_t *ls = rc ? NULL : mm_json_get_array(o, "layers", where, err);
    if (!rc && !ls)
        rc = err->code;
    if (!rc) {
        s->num_layers = (int)json_array_size(ls);
        s->layers = moemap_calloc((size_t)(s->num_layers ? s->num_layers : 1), sizeof *s->layers);
        if (!s->layers)
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    }
    for (int l = 0; !rc && l < s->num_layers; l++) {
        char w[400];
        snprintf(w, sizeof w, "%s.layers[%d]", where, l);
        rc = read_layer(json_array_get(ls, (size_t)l), w, s, l, err);
    }
    if (rc) {
        moemap_eval_summary_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int parse_eval(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    moemap_eval_file **out = ctx;
    if (mm_json_check_format(root, name, EVAL_FORMAT, "moemap eval --json writes it", err))
        return err->code;
    long batches;
    if (mm_json_get_int(root, "batches", name, 0, 1L << 30, &batches, err))
        return err->code;
    json_t *arr = mm_json_get_array(root, "placements", name, err);
    if (!arr)
        return err->code;
    moemap_eval_file *f = moemap_calloc(1, sizeof *f);
    size_t n = json_array_size(arr);
    if (f) {
        f->num_batches = (int)batches;
        f->files = moemap_calloc(n ? n : 1, sizeof *f->files);
        f->summaries = moemap_calloc(n ? n : 1, sizeof *f->summaries);
    }
    if (!f || !f->files || !f->summaries) {
        moemap_eval_file_free(f);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        char where[300];
        snprintf(where, sizeof where, "%s: placements[%zu]", name, i);
        json_t *o = json_array_get(arr, i), *file = json_object_get(o, "file");
        if (!json_is_object(o)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
            break;
        }
        const char *fs = json_is_string(file) ? json_string_value(file) : "";
        size_t len = strlen(fs);
        f->files[i] = moemap_malloc(len + 1);
        if (!f->files[i]) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
            break;
        }
        memcpy(f->files[i], fs, len + 1);
        f->num_placements = (int)i + 1;
        rc = read_summary(o, where, (int)batches, &f->summaries[i], err);
    }
    if (rc) {
        moemap_eval_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int moemap_eval_read(const char *path, moemap_eval_file **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_eval, out, err);
}

int moemap_eval_parse_buffer(const char *buf, size_t len, const char *name,
                             moemap_eval_file **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_buffer(buf, len, name, parse_eval, out, err);
}
