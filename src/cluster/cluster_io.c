/*
 * cluster_io.c — reading and writing cluster profiles (moemap.cluster/v1, DESIGN.md).
 *
 * The reader is strict because a wrong profile silently skews every placement built on
 * it: each message names the file and the JSON path of the offending field
 * ("prof.json: gpus[3].curve.us[4]: ..."). Unknown extra fields are ignored (the format
 * may grow), except "source", which is kept verbatim so that provenance (command,
 * machine) survives a read/write cycle.
 */
#include "moemap/cluster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define FORMAT_NAME "moemap.cluster/v1"

/* Reads {"tokens": [...], "us": [...], "cv": x?} into c (checked). */
static int read_curve(const json_t *obj, const char *where, moemap_curve *c,
                      moemap_error *err)
{
    char w[256];
    if (!json_is_object(obj))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object {\"tokens\": "
                                "[...], \"us\": [...]}", where);
    json_t *t = mm_json_get_array(obj, "tokens", where, err);
    if (!t)
        return err ? err->code : MOEMAP_EPARSE;
    json_t *u = mm_json_get_array(obj, "us", where, err);
    if (!u)
        return err ? err->code : MOEMAP_EPARSE;
    size_t n = json_array_size(t);
    if (n == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s.tokens: empty (a curve needs at "
                                "least one point)", where);
    if (json_array_size(u) != n)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: %zu token counts but %zu times "
                                "(tokens and us must have the same length)", where, n,
                                json_array_size(u));
    if (n > 1000000)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %zu points is too many", where, n);
    double cv = 0;
    int rc = mm_json_get_num_opt(obj, "cv", where, 0, 1e6, &cv, err);
    if (rc)
        return rc;
    moemap_curve_clear(c);
    c->tokens = moemap_malloc(n * sizeof *c->tokens);
    c->us = moemap_malloc(n * sizeof *c->us);
    if (!c->tokens || !c->us) {
        moemap_curve_clear(c);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    }
    c->n = (int)n;
    c->cv = cv;
    for (size_t i = 0; i < n; i++) {
        snprintf(w, sizeof w, "%s.tokens[%zu]", where, i);
        rc = mm_json_number(json_array_get(t, i), w, &c->tokens[i], err);
        if (!rc) {
            snprintf(w, sizeof w, "%s.us[%zu]", where, i);
            rc = mm_json_number(json_array_get(u, i), w, &c->us[i], err);
        }
        if (rc)
            return rc;
    }
    return moemap_curve_check(c, where, err);
}

static int get_string(const json_t *obj, const char *key, const char *where, int required,
                      char *out, size_t cap, moemap_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (!required)
            return 0;
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: missing field \"%s\"", where, key);
    }
    if (!json_is_string(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected a string", where, key);
    const char *s = json_string_value(v);
    if (strlen(s) >= cap || json_string_length(v) != strlen(s))
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.%s: \"%.40s\" is longer than %zu "
                                "characters or contains NUL", where, key, s, cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* The smallest id in 0..n-1 that no entry of gpus names (n when none is missing). */
static int first_missing_id(const json_t *gpus, int n)
{
    char *named = moemap_calloc((size_t)n, 1);
    if (!named)
        return n;
    for (size_t k = 0; k < json_array_size(gpus); k++) {
        json_t *v = json_object_get(json_array_get(gpus, k), "id");
        if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < n)
            named[json_integer_value(v)] = 1;
    }
    int id = 0;
    while (id < n && named[id])
        id++;
    moemap_free(named);
    return id;
}

/* Reads gpus[k] into the GPU slot its id names; seen[] catches duplicates. */
static int read_gpu(const json_t *gpus, size_t k, moemap_cluster *c, char *seen,
                    const char *name, moemap_error *err)
{
    const json_t *v = json_array_get(gpus, k);
    char where[128], w[160];
    snprintf(where, sizeof where, "%s: gpus[%zu]", name, k);
    if (!json_is_object(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
    long id, node, slots, sm = 0;
    int rc = mm_json_get_int(v, "id", where, 0, 1L << 30, &id, err);
    if (rc)
        return rc;
    if (id >= c->num_gpus) {
        int missing = first_missing_id(gpus, c->num_gpus);
        if (missing == c->num_gpus) /* only when out of memory */
            return moemap_error_set(err, MOEMAP_EINVAL, "%s.id: %ld but the file lists %d "
                                    "GPUs (ids must be 0..%d)", where, id, c->num_gpus,
                                    c->num_gpus - 1);
        return moemap_error_set(err, MOEMAP_EINVAL, "%s.id: %ld but the file lists %d GPUs "
                                "(ids must be 0..%d; id %d is missing)", where, id,
                                c->num_gpus, c->num_gpus - 1, missing);
    }
    if (seen[id])
        return moemap_error_set(err, MOEMAP_EINVAL, "%s.id: duplicate GPU id %ld", where, id);
    seen[id] = 1;
    moemap_gpu *g = &c->gpus[id];
    if ((rc = mm_json_get_int(v, "node", where, 0, 1L << 30, &node, err)) ||
        (rc = mm_json_get_int(v, "slots", where, 0, 1L << 20, &slots, err)) ||
        (rc = mm_json_get_int_opt(v, "sm_limit", where, 0, 1L << 20, &sm, err)) ||
        (rc = mm_json_get_num_opt(v, "mem_gb", where, 0, 1e9, &g->mem_gb, err)) ||
        (rc = get_string(v, "name", where, 0, g->name, sizeof g->name, err)))
        return rc;
    g->node = (int)node;
    g->slots = (int)slots;
    g->sm_limit = (int)sm;
    json_t *curve = json_object_get(v, "curve");
    if (curve) {
        snprintf(w, sizeof w, "%s.curve", where);
        if ((rc = read_curve(curve, w, &g->curve, err)))
            return rc;
    } else if (c->base.n == 0) {
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: has no \"curve\" and the file has "
                                "no \"base_curve\" to scale by its speed", where);
    }
    /* speed scales the base curve: required for a GPU without its own curve. */
    g->speed = 1.0;
    if (!curve)
        rc = mm_json_get_num(v, "speed", where, -1e300, 1e300, &g->speed, err);
    else
        rc = mm_json_get_num_opt(v, "speed", where, -1e300, 1e300, &g->speed, err);
    if (rc)
        return rc;
    if (g->speed <= 0)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.speed: %g must be > 0", where,
                                g->speed);
    double cv = g->curve.cv;
    if ((rc = mm_json_get_num_opt(v, "cv", where, 0, 1e6, &cv, err)))
        return rc;
    g->curve.cv = cv;
    return 0;
}

static int parse_root(const json_t *root, const char *name, moemap_cluster **out,
                      moemap_error *err)
{
    char where[128];
    int rc;
    *out = NULL;
    if (!json_is_object(root))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", name);
    json_t *fmt = json_object_get(root, "format");
    if (!fmt)
        return moemap_error_set(err, MOEMAP_EFORMAT, "%s: missing field \"format\" (expected "
                                "\"%s\")", name, FORMAT_NAME);
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), FORMAT_NAME) != 0)
        return moemap_error_set(err, MOEMAP_EFORMAT, "%s: format is %s%s%s, expected \"%s\"",
                                name, json_is_string(fmt) ? "\"" : "",
                                json_is_string(fmt) ? json_string_value(fmt) : "not a string",
                                json_is_string(fmt) ? "\"" : "", FORMAT_NAME);
    json_t *gpus = mm_json_get_array(root, "gpus", name, err);
    if (!gpus)
        return err ? err->code : MOEMAP_EPARSE;
    size_t ng = json_array_size(gpus);
    if (ng == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: gpus: empty (a cluster needs at "
                                "least one GPU)", name);
    if (ng > MOEMAP_MAX_GPUS)
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "%s: gpus: %zu GPUs is more than the limit of %d "
                                "(docs/limits.md)", name, ng, MOEMAP_MAX_GPUS);
    moemap_cluster *c;
    if ((rc = moemap_cluster_create((int)ng, &c, err)))
        return rc;
    char *seen = moemap_calloc(ng, 1);
    if (!seen) {
        moemap_cluster_free(c);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    snprintf(where, sizeof where, "%s: expert", name);
    json_t *expert = mm_json_get_object(root, "expert", name, err);
    long hidden = 0, inter = 0;
    rc = expert ? 0 : (err ? err->code : MOEMAP_EPARSE);
    if (!rc)
        rc = mm_json_get_int(expert, "hidden", where, 1, 1L << 24, &hidden, err);
    if (!rc)
        rc = mm_json_get_int(expert, "intermediate", where, 1, 1L << 24, &inter, err);
    if (!rc)
        rc = get_string(expert, "dtype", where, 1, c->dtype, sizeof c->dtype, err);
    if (!rc && moemap_dtype_bytes(c->dtype) == 0)
        rc = moemap_error_set(err, MOEMAP_EINVAL,
                              "%s.dtype: \"%s\" is not a known weight type (bf16, fp16, fp32, "
                              "fp8, int8, int4, mxfp4)", where, c->dtype);
    c->hidden = (int)hidden;
    c->intermediate = (int)inter;
    json_t *base = json_object_get(root, "base_curve");
    if (!rc && base) {
        snprintf(where, sizeof where, "%s: base_curve", name);
        rc = read_curve(base, where, &c->base, err);
    }
    for (size_t k = 0; k < ng && !rc; k++)
        rc = read_gpu(gpus, k, c, seen, name, err);
    json_t *net = rc ? NULL : mm_json_get_object(root, "network", name, err);
    if (!rc && !net)
        rc = err ? err->code : MOEMAP_EPARSE;
    snprintf(where, sizeof where, "%s: network", name);
    if (!rc)
        rc = mm_json_get_num(net, "intra_node_GBps", where, 0, 1e12, &c->intra_node_GBps, err);
    if (!rc)
        rc = mm_json_get_num(net, "inter_node_GBps", where, 0, 1e12, &c->inter_node_GBps, err);
    if (!rc)
        rc = mm_json_get_num(net, "latency_us", where, 0, 1e12, &c->latency_us, err);
    json_t *src = json_object_get(root, "source");
    if (!rc && src) {
        char *text = json_dumps(src, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!text)
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: source: out of memory", name);
        else
            rc = moemap_cluster_set_source(c, text, err);
        free(text);
    }
    moemap_free(seen);
    if (!rc) {
        rc = moemap_cluster_finalize(c, err);
        if (rc)
            moemap_error_prefix(err, "%s", name);
    }
    if (rc) {
        moemap_cluster_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* parse_root as an mm_json_parse_fn. */
static int parse_cb(json_t *root, const char *name, void *out, moemap_error *err)
{
    return parse_root(root, name, out, err);
}

int moemap_cluster_parse_buffer(const char *buf, size_t len, const char *name,
                                moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_buffer(buf, len, name, parse_cb, out, err);
}

int moemap_cluster_read(const char *path, moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_cb, out, err);
}

/* --- writer ----------------------------------------------------------------------------- */

/* Adds key -> value to obj; a NULL value (allocation failure) marks *bad. */
static void put(json_t *obj, const char *key, json_t *value, int *bad)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *bad = 1;
}

/* A number as written: an integer when it is one, else a real that the dump prints with
 * 10 significant digits. Rounding to a fixed number of decimals instead could merge two
 * close token counts or turn a tiny speed into 0, and the file would not read back. */
static json_t *num(double x)
{
    if (x == floor(x) && fabs(x) < 9e15)
        return json_integer((json_int_t)x);
    return json_real(x);
}

static json_t *curve_json(const moemap_curve *c, int with_cv, int *bad)
{
    json_t *o = json_object(), *t = json_array(), *u = json_array();
    if (!o || !t || !u) {
        json_decref(o);
        json_decref(t);
        json_decref(u);
        *bad = 1;
        return NULL;
    }
    for (int i = 0; i < c->n; i++) {
        if (json_array_append_new(t, num(c->tokens[i])) ||
            json_array_append_new(u, num(c->us[i])))
            *bad = 1;
    }
    put(o, "tokens", t, bad);
    put(o, "us", u, bad);
    if (with_cv && c->cv > 0)
        put(o, "cv", num(c->cv), bad);
    return o;
}

static json_t *cluster_json(const moemap_cluster *c, int *bad)
{
    json_t *root = json_object();
    if (!root) {
        *bad = 1;
        return NULL;
    }
    put(root, "format", json_string(FORMAT_NAME), bad);
    json_t *ex = json_object();
    if (ex) {
        put(ex, "hidden", json_integer(c->hidden), bad);
        put(ex, "intermediate", json_integer(c->intermediate), bad);
        put(ex, "dtype", json_string(c->dtype), bad);
    }
    put(root, "expert", ex, bad);
    if (c->base.n > 0)
        put(root, "base_curve", curve_json(&c->base, 1, bad), bad);
    json_t *gpus = json_array();
    for (int i = 0; gpus && i < c->num_gpus; i++) {
        const moemap_gpu *g = &c->gpus[i];
        json_t *o = json_object();
        if (!o) {
            *bad = 1;
            break;
        }
        put(o, "id", json_integer(g->id), bad);
        put(o, "node", json_integer(g->node), bad);
        if (g->name[0])
            put(o, "name", json_string(g->name), bad);
        put(o, "slots", json_integer(g->slots), bad);
        put(o, "speed", num(g->speed), bad);
        if (g->curve.n > 0)
            put(o, "curve", curve_json(&g->curve, 0, bad), bad);
        if (g->curve.cv > 0)
            put(o, "cv", num(g->curve.cv), bad);
        if (g->mem_gb > 0)
            put(o, "mem_gb", num(g->mem_gb), bad);
        if (g->sm_limit > 0)
            put(o, "sm_limit", json_integer(g->sm_limit), bad);
        if (json_array_append_new(gpus, o))
            *bad = 1;
    }
    put(root, "gpus", gpus, bad);
    json_t *net = json_object();
    if (net) {
        put(net, "intra_node_GBps", num(c->intra_node_GBps), bad);
        put(net, "inter_node_GBps", num(c->inter_node_GBps), bad);
        put(net, "latency_us", num(c->latency_us), bad);
    }
    put(root, "network", net, bad);
    if (c->source_json) {
        json_error_t jerr;
        json_t *src = json_loads(c->source_json, JSON_DECODE_ANY, &jerr);
        put(root, "source", src, bad);
    }
    return root;
}

int moemap_cluster_write(const moemap_cluster *c, const char *path, moemap_error *err)
{
    int bad = 0;
    json_t *root = cluster_json(c, &bad);
    if (bad || !root) {
        json_decref(root);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: building the cluster JSON failed "
                                "(out of memory or invalid source text)", path);
    }
    int rc = mm_json_dump_file(root, path, err);
    json_decref(root);
    return rc;
}
