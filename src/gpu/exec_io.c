/*
 * exec_io.c — the run file (moemap.run/v1, docs/formats.md): writing and reading what
 * `moemap run` measured on real GPUs, per placement its summary (measured and predicted
 * straggler, per-GPU means, prediction errors), every sample of measured and predicted
 * compute time, and the correctness check when it ran. Host-only (no CUDA): it is built
 * into libmoemap with or without the GPU module, so a run file can be read anywhere.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "exec_internal.h"
#include "json_util.h"
#include "moemap/gpu_exec.h"

#define RUN_FORMAT "moemap.run/v1"

typedef struct sum_field {
    const char *key;
    size_t off;
    int digits;
} sum_field;
#define SF(k, m, d) {k, offsetof(moemap_exec_summary, m), d}
static const sum_field scalars[] = {
    SF("straggler_mean_us", straggler_mean_us, 2),
    SF("straggler_p90_us", straggler_p90_us, 2),
    SF("predicted_straggler_mean_us", pred_straggler_mean_us, 2),
    SF("predicted_straggler_p90_us", pred_straggler_p90_us, 2),
    SF("layer_mean_us", layer_mean_us, 2),
    SF("dispatch_mean_us", dispatch_mean_us, 2),
    SF("combine_mean_us", combine_mean_us, 2),
    SF("wait_mean_us", wait_mean_us, 2),
};
/* The whole-layer prediction (dispatch and combine in the cost model): absent in run
 * files from before it, so optional when read. */
static const sum_field whole_layer[] = {
    SF("predicted_layer_mean_us", pred_layer_mean_us, 2),
    SF("layer_error", layer_err, 4),
    SF("predicted_dispatch_mean_us", pred_dispatch_mean_us, 2),
    SF("dispatch_error", dispatch_err, 4),
};
static const sum_field per_gpu[] = {
    SF("gpu_compute_mean_us", gpu_compute_mean_us, 2),
    SF("gpu_predicted_mean_us", gpu_pred_mean_us, 2),
    SF("gpu_rows_mean", gpu_rows_mean, 1),
    SF("gpu_mean_error", gpu_mean_err, 4),
};
static const sum_field errors[] = {
    SF("median_sample_error", median_abs_err, 4),
    SF("median_gpu_mean_error", median_gpu_mean_abs_err, 4),
    SF("straggler_error", straggler_err, 4),
};
#undef SF
#define NF(a) (sizeof a / sizeof *a)

static void put_fields(json_t *o, const moemap_exec_summary *s, const sum_field *f, size_t n,
                       int gpus)
{
    for (size_t i = 0; i < n; i++) {
        const char *at = (const char *)s + f[i].off; /* per GPU: the field is an array */
        json_object_set_new(o, f[i].key,
                            gpus ? mm_json_real_array(*(double *const *)at, (size_t)gpus,
                                                      f[i].digits)
                                 : mm_json_real(*(const double *)at, f[i].digits));
    }
}

static json_t *result_json(const char *path, const moemap_exec_result *r,
                           const moemap_exec_summary *s)
{
    int G = r->num_gpus;
    json_t *o = json_object();
    json_object_set_new(o, "placement", json_string(path ? path : ""));
    put_fields(o, s, scalars, NF(scalars), 0);
    if (r->predicted_dispatch_us)
        put_fields(o, s, whole_layer, NF(whole_layer), 0);
    put_fields(o, s, per_gpu, NF(per_gpu), G);
    put_fields(o, s, errors, NF(errors), 0);
    size_t n = (size_t)G * r->layers * r->iterations;
    json_object_set_new(o, "compute_us", mm_json_real_array(r->compute_us, n, 2));
    json_object_set_new(o, "predicted_us", mm_json_real_array(r->predicted_us, n, 2));
    /* the phases, and the dispatch the cost model predicts from the plans' exact rows */
    const struct { const char *key; const double *v; } phases[] = {
        {"dispatch_us", r->dispatch_us}, {"combine_us", r->combine_us},
        {"layer_us", r->layer_us}, {"predicted_dispatch_us", r->predicted_dispatch_us}};
    for (size_t i = 0; i < sizeof phases / sizeof *phases; i++)
        if (phases[i].v)
            json_object_set_new(o, phases[i].key, mm_json_real_array(phases[i].v, n, 2));
    if (r->checked) {
        json_t *c = json_object();
        json_object_set_new(c, "rel_err", mm_json_real(r->check_rel_err, 6));
        json_object_set_new(c, "max_token_rel_err", mm_json_real(r->check_max_rel_err, 6));
        json_object_set_new(c, "rows", json_integer(r->check_rows));
        json_object_set_new(c, "rows_expected", json_integer(r->check_rows_expected));
        json_object_set_new(c, "tag_errors", json_integer(r->check_tag_errors));
        json_object_set_new(o, "check", c);
    }
    return o;
}

int moemap_exec_write(const char *path, const moemap_exec_file *f, moemap_error *err)
{
    if (f->num_placements < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: no run to write", path);
    const moemap_exec_result *r0 = f->results[0];
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(RUN_FORMAT));
    json_object_set_new(root, "gpus", json_integer(r0->num_gpus));
    json_t *names = json_array(), *sms = json_array();
    for (int g = 0; g < r0->num_gpus; g++) {
        json_array_append_new(names, json_string(r0->device_names[g]));
        json_array_append_new(sms, json_integer(r0->device_sms[g]));
    }
    json_object_set_new(root, "devices", names);
    json_object_set_new(root, "sms", sms);
    json_object_set_new(root, "hidden", json_integer(f->params.hidden));
    json_object_set_new(root, "intermediate", json_integer(f->params.intermediate));
    json_object_set_new(root, "layers", json_integer(r0->layers));
    json_object_set_new(root, "iterations", json_integer(f->params.iterations));
    json_object_set_new(root, "tokens_per_iter", json_integer(f->params.tokens_per_iter));
    json_object_set_new(root, "dispatch", json_string(moemap_dispatch_name(f->params.dispatch)));
    json_t *arr = json_array();
    for (int i = 0; i < f->num_placements; i++)
        json_array_append_new(arr, result_json(f->files ? f->files[i] : NULL, f->results[i],
                                               &f->summaries[i]));
    json_object_set_new(root, "placements", arr);
    int rc = mm_json_dump_file(root, path, err);
    json_decref(root);
    return rc;
}

void moemap_exec_file_free(moemap_exec_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->num_placements; i++) {
        if (f->files)
            moemap_free(f->files[i]);
        if (f->results)
            moemap_exec_result_free(f->results[i]);
        if (f->summaries)
            moemap_exec_summary_clear(&f->summaries[i]);
    }
    moemap_free(f->files);
    moemap_free(f->results);
    moemap_free(f->summaries);
    moemap_free(f);
}

/* An array of exactly n numbers under key into out (n doubles). */
static int get_nums(const json_t *o, const char *key, const char *where, size_t n, double *out,
                    moemap_error *err)
{
    json_t *a = mm_json_get_array(o, key, where, err);
    if (!a)
        return err->code;
    if (json_array_size(a) != n)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: %zu values, expected %zu", where,
                                key, json_array_size(a), n);
    for (size_t i = 0; i < n; i++) {
        char w[400];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        if (mm_json_number(json_array_get(a, i), w, &out[i], err))
            return err->code;
    }
    return 0;
}

static int read_check(const json_t *o, const char *where, moemap_exec_result *r,
                      moemap_error *err)
{
    json_t *c = json_object_get(o, "check");
    if (!c)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.check", where);
    r->checked = 1;
    if (mm_json_get_num(c, "rel_err", w, 0, 1e300, &r->check_rel_err, err) ||
        mm_json_get_num(c, "max_token_rel_err", w, 0, 1e300, &r->check_max_rel_err, err) ||
        mm_json_get_int(c, "rows", w, 0, 1L << 62, &r->check_rows, err) ||
        mm_json_get_int(c, "rows_expected", w, 0, 1L << 62, &r->check_rows_expected, err) ||
        mm_json_get_int(c, "tag_errors", w, 0, 1L << 62, &r->check_tag_errors, err))
        return err->code;
    return 0;
}

static int read_result(const json_t *o, const char *where, const moemap_exec_result *shape,
                       moemap_exec_result *r, moemap_exec_summary *s, moemap_error *err)
{
    r->num_gpus = shape->num_gpus;
    r->layers = shape->layers;
    r->iterations = shape->iterations;
    r->dispatch = shape->dispatch;
    size_t n = (size_t)r->num_gpus * r->layers * r->iterations;
    r->compute_us = moemap_calloc(n ? n : 1, sizeof(double));
    r->predicted_us = moemap_calloc(n ? n : 1, sizeof(double));
    if (!r->compute_us || !r->predicted_us || exec_result_devices_alloc(r, NULL) ||
        exec_summary_alloc(s, r->num_gpus, NULL))
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    memcpy(r->device_names, shape->device_names, (size_t)r->num_gpus * sizeof *r->device_names);
    memcpy(r->device_sms, shape->device_sms, (size_t)r->num_gpus * sizeof *r->device_sms);
    for (size_t i = 0; i < NF(scalars); i++)
        if (mm_json_get_num(o, scalars[i].key, where, -1e300, 1e300,
                            (double *)((char *)s + scalars[i].off), err))
            return err->code;
    for (size_t i = 0; i < NF(errors); i++)
        if (mm_json_get_num(o, errors[i].key, where, -1e300, 1e300,
                            (double *)((char *)s + errors[i].off), err))
            return err->code;
    for (size_t i = 0; i < NF(per_gpu); i++)
        if (get_nums(o, per_gpu[i].key, where, (size_t)r->num_gpus,
                     *(double **)((char *)s + per_gpu[i].off), err))
            return err->code;
    for (size_t i = 0; i < NF(whole_layer); i++)
        if (mm_json_get_num_opt(o, whole_layer[i].key, where, -1e300, 1e300,
                                (double *)((char *)s + whole_layer[i].off), err))
            return err->code;
    if (get_nums(o, "compute_us", where, n, r->compute_us, err) ||
        get_nums(o, "predicted_us", where, n, r->predicted_us, err))
        return err->code;
    double **phases[] = {&r->dispatch_us, &r->combine_us, &r->layer_us,
                         &r->predicted_dispatch_us};
    const char *keys[] = {"dispatch_us", "combine_us", "layer_us", "predicted_dispatch_us"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        *phases[i] = NULL;
        if (!json_object_get(o, keys[i]))
            continue; /* a run file from before the phases were written */
        if (!(*phases[i] = moemap_calloc(n ? n : 1, sizeof(double))))
            return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
        if (get_nums(o, keys[i], where, n, *phases[i], err))
            return err->code;
    }
    return read_check(o, where, r, err);
}

/* The header: GPUs and their names, the shape of every result. */
static int read_header(const json_t *root, const char *name, moemap_exec_file *f,
                       moemap_exec_result *shape, moemap_error *err)
{
    long gpus, hidden, inter, layers, iters, tokens;
    if (mm_json_get_int(root, "gpus", name, 1, MOEMAP_MAX_GPUS, &gpus, err) ||
        mm_json_get_int(root, "hidden", name, 1, 1L << 30, &hidden, err) ||
        mm_json_get_int(root, "intermediate", name, 1, 1L << 30, &inter, err) ||
        mm_json_get_int(root, "layers", name, 0, 1L << 20, &layers, err) ||
        mm_json_get_int(root, "iterations", name, 0, 1L << 30, &iters, err) ||
        mm_json_get_int(root, "tokens_per_iter", name, 0, 1L << 40, &tokens, err))
        return err->code;
    f->params = moemap_exec_default_params();
    f->params.hidden = (int)hidden;
    f->params.intermediate = (int)inter;
    f->params.layers = (int)layers;
    f->params.iterations = (int)iters;
    f->params.tokens_per_iter = tokens;
    json_t *dm = json_object_get(root, "dispatch");
    int d = dm ? moemap_dispatch_from_name(json_string_value(dm)) : MOEMAP_DISPATCH_TOKEN_EXPERT;
    if (d < 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: dispatch: expected \"token-gpu\" or "
                                "\"token-expert\"", name);
    f->params.dispatch = (moemap_dispatch)d;
    shape->num_gpus = (int)gpus;
    shape->layers = (int)layers;
    shape->iterations = (int)iters;
    shape->dispatch = f->params.dispatch;
    if (exec_result_devices_alloc(shape, NULL))
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    json_t *names = json_object_get(root, "devices"), *sms = json_object_get(root, "sms");
    for (int g = 0; g < gpus; g++) {
        json_t *nm = json_array_get(names, (size_t)g), *sm = json_array_get(sms, (size_t)g);
        if (!json_is_string(nm) || !json_is_integer(sm))
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: devices[%d] / sms[%d]: expected "
                                    "a name and an SM count per GPU", name, g, g);
        snprintf(shape->device_names[g], sizeof shape->device_names[g], "%s",
                 json_string_value(nm));
        shape->device_sms[g] = (int)json_integer_value(sm);
    }
    return 0;
}

static int parse_run(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    moemap_exec_file **out = ctx;
    if (mm_json_check_format(root, name, RUN_FORMAT, "moemap run --json writes it", err))
        return err->code;
    json_t *arr = mm_json_get_array(root, "placements", name, err);
    if (!arr)
        return err->code;
    size_t n = json_array_size(arr);
    moemap_exec_file *f = moemap_calloc(1, sizeof *f);
    if (f) {
        f->files = moemap_calloc(n ? n : 1, sizeof *f->files);
        f->results = moemap_calloc(n ? n : 1, sizeof *f->results);
        f->summaries = moemap_calloc(n ? n : 1, sizeof *f->summaries);
    }
    if (!f || !f->files || !f->results || !f->summaries) {
        moemap_exec_file_free(f);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    moemap_exec_result shape = {0}; /* gpus, layers, iterations, devices */
    int rc = read_header(root, name, f, &shape, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char where[300];
        snprintf(where, sizeof where, "%s: placements[%zu]", name, i);
        json_t *o = json_array_get(arr, i), *pl = json_object_get(o, "placement");
        f->num_placements = (int)i + 1;
        f->files[i] = moemap_strdup(json_is_string(pl) ? json_string_value(pl) : "");
        f->results[i] = moemap_calloc(1, sizeof *f->results[i]);
        if (!f->files[i] || !f->results[i])
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
        else
            rc = read_result(o, where, &shape, f->results[i], &f->summaries[i], err);
    }
    moemap_free(shape.device_names);
    moemap_free(shape.device_sms);
    if (rc) {
        moemap_exec_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int moemap_exec_read(const char *path, moemap_exec_file **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_run, out, err);
}
