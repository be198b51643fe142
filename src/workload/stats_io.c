/*
 * stats_io.c — the stats file (moemap.stats/v1, docs/formats.md): writing and reading a
 * workload profile. `moemap stats --json` writes it and `moemap report` reads it, both
 * through these functions, so the file has one owner and one set of key names.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "moemap/workload.h"

#define STATS_FORMAT "moemap.stats/v1"

static json_t *layer_json(const moemap_layer_stats *s, int E, const double *dist)
{
    json_t *o = json_object();
    json_object_set_new(o, "layer", json_integer(s->layer));
    json_object_set_new(o, "tokens", mm_json_real(s->tokens, 3));
    json_object_set_new(o, "max_over_mean", mm_json_real(s->max_over_mean, 6));
    json_object_set_new(o, "cv", mm_json_real(s->cv, 6));
    json_object_set_new(o, "gini", mm_json_real(s->gini, 6));
    json_object_set_new(o, "consistent",
                        mm_json_int_array(s->consistent, (size_t)s->num_consistent));
    json_object_set_new(o, "temporal", mm_json_int_array(s->temporal, (size_t)s->num_temporal));
    json_t *pairs = json_array();
    for (int i = 0; i < s->num_pairs; i++) {
        json_t *pr = json_object();
        int ab[2] = {s->pairs[i].a, s->pairs[i].b};
        json_object_set_new(pr, "experts", mm_json_int_array(ab, 2));
        json_object_set_new(pr, "corr", mm_json_real(s->pairs[i].corr, 4));
        json_array_append_new(pairs, pr);
    }
    json_object_set_new(o, "coactive_pairs", pairs);
    json_t *cl = json_array();
    for (int c = 0; c < s->num_clusters; c++)
        json_array_append_new(cl, mm_json_int_array(s->cluster_experts + s->cluster_start[c],
                                                    (size_t)(s->cluster_start[c + 1] -
                                                             s->cluster_start[c])));
    json_object_set_new(o, "clusters", cl);
    json_t *share = json_array();
    for (int e = 0; s->load_share && e < E; e++)
        json_array_append_new(share, mm_json_real(s->load_share[e], 6));
    json_object_set_new(o, "load_share", share);
    if (dist)
        json_object_set_new(o, "cosine_distance", mm_json_real(*dist, 6));
    return o;
}

int moemap_workload_stats_write(const char *path, const moemap_workload_stats *st,
                                const char *input, const char *compare, moemap_error *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(STATS_FORMAT));
    if (input)
        json_object_set_new(root, "input", json_string(input));
    if (compare)
        json_object_set_new(root, "compare", json_string(compare));
    json_object_set_new(root, "experts", json_integer(st->experts));
    json_object_set_new(root, "top_k", json_integer(st->top_k));
    json_object_set_new(root, "batches", json_integer(st->num_batches));
    json_t *layers = json_array();
    for (int l = 0; l < st->num_layers; l++)
        json_array_append_new(layers, layer_json(&st->layers[l], st->experts,
                                                 st->cosine_distance ? &st->cosine_distance[l]
                                                                     : NULL));
    json_object_set_new(root, "layers", layers);
    int rc = mm_json_dump_file(root, path, err);
    json_decref(root);
    return rc;
}

/* An array of expert ids (integers in [0, experts)) into a moemap_malloc'ed array. */
static int read_ids(const json_t *a, const char *where, int experts, int **out, int *n,
                    moemap_error *err)
{
    if (!json_is_array(a))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array of expert ids",
                                where);
    size_t m = json_array_size(a);
    int *v = moemap_malloc((m ? m : 1) * sizeof *v);
    if (!v)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    for (size_t i = 0; i < m; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0 ||
            json_integer_value(x) >= experts) {
            moemap_free(v);
            return moemap_error_set(err, MOEMAP_EPARSE, "%s[%zu]: expected an expert id in "
                                    "[0, %d)", where, i, experts);
        }
        v[i] = (int)json_integer_value(x);
    }
    *out = v;
    *n = (int)m;
    return 0;
}

static int read_pairs(const json_t *lo, const char *where, int experts, moemap_layer_stats *s,
                      moemap_error *err)
{
    char w[400];
    snprintf(w, sizeof w, "%s.coactive_pairs", where);
    json_t *a = json_object_get(lo, "coactive_pairs");
    if (!json_is_array(a))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", w);
    size_t m = json_array_size(a);
    s->pairs = moemap_calloc(m ? m : 1, sizeof *s->pairs);
    if (!s->pairs)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t i = 0; i < m; i++) {
        char wi[448];
        snprintf(wi, sizeof wi, "%s[%zu]", w, i);
        json_t *p = json_array_get(a, i);
        int *ab = NULL, n = 0;
        int rc = read_ids(json_object_get(p, "experts"), wi, experts, &ab, &n, err);
        if (!rc && n != 2)
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s.experts: expected two ids", wi);
        if (!rc)
            rc = mm_json_get_num(p, "corr", wi, -1, 1, &s->pairs[i].corr, err);
        if (!rc) {
            s->pairs[i].a = ab[0];
            s->pairs[i].b = ab[1];
        }
        moemap_free(ab);
        if (rc)
            return rc;
        s->num_pairs = (int)i + 1;
    }
    return 0;
}

static int read_clusters(const json_t *lo, const char *where, int experts,
                         moemap_layer_stats *s, moemap_error *err)
{
    char w[400];
    snprintf(w, sizeof w, "%s.clusters", where);
    json_t *a = json_object_get(lo, "clusters");
    if (!json_is_array(a))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", w);
    size_t m = json_array_size(a), total = 0;
    for (size_t c = 0; c < m; c++)
        total += json_array_size(json_array_get(a, c));
    s->cluster_start = moemap_calloc(m + 1, sizeof *s->cluster_start);
    s->cluster_experts = moemap_calloc(total ? total : 1, sizeof *s->cluster_experts);
    if (!s->cluster_start || !s->cluster_experts)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t c = 0; c < m; c++) {
        char wc[448];
        snprintf(wc, sizeof wc, "%s[%zu]", w, c);
        int *ids = NULL, n = 0;
        int rc = read_ids(json_array_get(a, c), wc, experts, &ids, &n, err);
        if (rc)
            return rc;
        memcpy(s->cluster_experts + s->cluster_start[c], ids, (size_t)n * sizeof *ids);
        s->cluster_start[c + 1] = s->cluster_start[c] + n;
        moemap_free(ids);
        s->num_clusters = (int)c + 1;
    }
    return 0;
}

static int read_layer(const json_t *lo, const char *where, moemap_workload_stats *st, int l,
                      moemap_error *err)
{
    moemap_layer_stats *s = &st->layers[l];
    long id;
    int E = st->experts, rc = mm_json_get_int(lo, "layer", where, 0, 1000000, &id, err);
    s->layer = (int)id;
    if (!rc)
        rc = mm_json_get_num(lo, "tokens", where, 0, 1e300, &s->tokens, err);
    if (!rc)
        rc = mm_json_get_num(lo, "max_over_mean", where, 0, 1e300, &s->max_over_mean, err);
    if (!rc)
        rc = mm_json_get_num(lo, "cv", where, 0, 1e300, &s->cv, err);
    if (!rc)
        rc = mm_json_get_num(lo, "gini", where, 0, 1, &s->gini, err);
    char w[400];
    snprintf(w, sizeof w, "%s.consistent", where);
    if (!rc)
        rc = read_ids(json_object_get(lo, "consistent"), w, E, &s->consistent,
                      &s->num_consistent, err);
    snprintf(w, sizeof w, "%s.temporal", where);
    if (!rc)
        rc = read_ids(json_object_get(lo, "temporal"), w, E, &s->temporal, &s->num_temporal,
                      err);
    if (!rc)
        rc = read_pairs(lo, where, E, s, err);
    if (!rc)
        rc = read_clusters(lo, where, E, s, err);
    json_t *share = rc ? NULL : mm_json_get_array(lo, "load_share", where, err);
    if (!rc && (!share || json_array_size(share) != (size_t)E))
        rc = share ? moemap_error_set(err, MOEMAP_EPARSE, "%s.load_share: %zu experts, "
                                      "expected %d", where, json_array_size(share), E)
                   : err->code;
    if (!rc && !(s->load_share = moemap_malloc((size_t)E * sizeof *s->load_share)))
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    for (int e = 0; !rc && e < E; e++) {
        snprintf(w, sizeof w, "%s.load_share[%d]", where, e);
        rc = mm_json_number(json_array_get(share, (size_t)e), w, &s->load_share[e], err);
    }
    json_t *d = json_object_get(lo, "cosine_distance");
    if (!rc && d && !st->cosine_distance && l == 0 &&
        !(st->cosine_distance = moemap_calloc((size_t)st->num_layers, sizeof(double))))
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    if (!rc && d && st->cosine_distance)
        rc = mm_json_get_num(lo, "cosine_distance", where, 0, 2, &st->cosine_distance[l], err);
    return rc;
}

static int parse_stats(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    moemap_workload_stats **out = ctx;
    if (mm_json_check_format(root, name, STATS_FORMAT, "moemap stats --json writes it", err))
        return err->code;
    long experts, top_k = 0, batches;
    if (mm_json_get_int(root, "experts", name, 1, 1L << 20, &experts, err) ||
        mm_json_get_int_opt(root, "top_k", name, 0, 1L << 20, &top_k, err) ||
        mm_json_get_int(root, "batches", name, 0, 1L << 30, &batches, err))
        return err->code;
    json_t *layers = mm_json_get_array(root, "layers", name, err);
    if (!layers)
        return err->code;
    moemap_workload_stats *st = moemap_calloc(1, sizeof *st);
    size_t n = json_array_size(layers);
    if (!st || !(st->layers = moemap_calloc(n ? n : 1, sizeof *st->layers))) {
        moemap_workload_stats_free(st);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    st->experts = (int)experts;
    st->top_k = (int)top_k;
    st->num_batches = (int)batches;
    st->num_layers = (int)n;
    int rc = 0;
    for (size_t l = 0; !rc && l < n; l++) {
        char where[300];
        snprintf(where, sizeof where, "%s: layers[%zu]", name, l);
        rc = read_layer(json_array_get(layers, l), where, st, (int)l, err);
    }
    if (rc) {
        moemap_workload_stats_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int moemap_workload_stats_read(const char *path, moemap_workload_stats **out,
                               moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_stats, out, err);
}

int moemap_workload_stats_parse_buffer(const char *buf, size_t len, const char *name,
                                       moemap_workload_stats **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_buffer(buf, len, name, parse_stats, out, err);
}
