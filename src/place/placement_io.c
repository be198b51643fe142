/*
 * placement_io.c — reading and writing moemap.placement/v1 (see DESIGN.md). The reader
 * checks the document's shape and ranges (types, ids, shares in [0, 1]) and names the
 * JSON path of each problem ("p.json: layers[2].replicas[5].gpu: 40 is outside [0, 31]");
 * the cross-replica invariants (coverage, share sums, slots) are validate.c's job, so a
 * placement that reads fine can still be reported problem by problem by `moemap validate`.
 */
#include "placement_io.h"

#include <stdio.h>
#include <string.h>

#include "json_util.h"

#define FORMAT_NAME "moemap.placement/v1"
#define MAX_IDS 1000000L

static int parse_replica(const json_t *r, const char *where, long gpus, long experts,
                         moemap_replica *out, moemap_error *err)
{
    if (!json_is_object(r))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
    long e = 0, g = 0;
    double share = 1.0;
    int rc = mm_json_get_int(r, "expert", where, 0, experts > 0 ? experts - 1 : MAX_IDS, &e,
                             err);
    if (!rc)
        rc = mm_json_get_int(r, "gpu", where, 0, gpus - 1, &g, err);
    if (!rc)
        rc = mm_json_get_num(r, "share", where, 0.0, 1.0, &share, err);
    if (rc)
        return rc;
    out->expert = (int)e;
    out->gpu = (int)g;
    out->share = share;
    return 0;
}

static int parse_root(const json_t *root, const char *name, moemap_placement **out,
                      moemap_error *err)
{
    if (!json_is_object(root))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", name);
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt)
        return moemap_error_set(err, MOEMAP_EFORMAT,
                                "%s: missing \"format\" (expected \"" FORMAT_NAME "\")", name);
    if (strcmp(fmt, FORMAT_NAME) != 0)
        return moemap_error_set(err, MOEMAP_EFORMAT,
                                "%s: format is \"%s\", expected \"" FORMAT_NAME "\"", name,
                                fmt);
    long gpus = 0, experts = 0;
    int rc = mm_json_get_int(root, "gpus", name, 1, MAX_IDS, &gpus, err);
    if (!rc)
        rc = mm_json_get_int_opt(root, "experts", name, 1, MAX_IDS, &experts, err);
    if (rc)
        return rc;
    json_t *strategy = json_object_get(root, "strategy");
    if (strategy && !json_is_string(strategy))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.strategy: expected a string", name);
    json_t *layers = mm_json_get_array(root, "layers", name, err);
    if (!layers)
        return err ? err->code : MOEMAP_EPARSE;
    json_t *predicted = json_object_get(root, "predicted");
    if (predicted && !json_is_object(predicted))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.predicted: expected an object", name);

    size_t nl = json_array_size(layers);
    if (nl > (size_t)MAX_IDS)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.layers: too many layers", name);
    /* When "experts" is absent (files written by other tools), it is inferred as the
     * largest expert id + 1; the reader needs it before allocating. */
    long inferred = 0;
    if (experts == 0) {
        for (size_t l = 0; l < nl; l++) {
            json_t *reps = json_object_get(json_array_get(layers, l), "replicas");
            for (size_t i = 0; i < json_array_size(reps); i++) {
                json_t *e = json_object_get(json_array_get(reps, i), "expert");
                if (json_is_integer(e) && json_integer_value(e) >= inferred &&
                    json_integer_value(e) < MAX_IDS)
                    inferred = (long)json_integer_value(e) + 1;
            }
        }
        if (inferred == 0)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s: no \"experts\" field and no replicas to infer it from",
                                    name);
    }
    moemap_placement *p;
    rc = moemap_placement_create((int)gpus, (int)(experts ? experts : inferred), (int)nl, &p,
                                 err);
    if (rc)
        return rc;
    if (strategy)
        snprintf(p->strategy, sizeof p->strategy, "%s", json_string_value(strategy));
    char where[160];
    for (size_t l = 0; l < nl && !rc; l++) {
        json_t *lo = json_array_get(layers, l);
        snprintf(where, sizeof where, "%s: layers[%zu]", name, l);
        if (!json_is_object(lo)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
            break;
        }
        long layer_id = 0;
        rc = mm_json_get_int(lo, "layer", where, 0, MAX_IDS, &layer_id, err);
        json_t *reps = rc ? NULL : mm_json_get_array(lo, "replicas", where, err);
        if (!reps) {
            rc = rc ? rc : (err ? err->code : MOEMAP_EPARSE);
            break;
        }
        size_t nr = json_array_size(reps);
        moemap_replica *buf = NULL;
        if (nr > 0) {
            buf = moemap_malloc(nr * sizeof *buf);
            if (!buf) {
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
                break;
            }
        }
        for (size_t i = 0; i < nr && !rc; i++) {
            char rwhere[200];
            snprintf(rwhere, sizeof rwhere, "%s.replicas[%zu]", where, i);
            rc = parse_replica(json_array_get(reps, i), rwhere, gpus, p->experts, &buf[i], err);
        }
        if (!rc)
            rc = moemap_placement_set_layer(p, (int)l, (int)layer_id, buf, (int)nr, err);
        moemap_free(buf);
    }
    if (!rc && predicted) {
        char *s = json_dumps(predicted, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
        else {
            p->predicted_json = moemap_strdup(s);
            free(s);
            if (!p->predicted_json)
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
        }
    }
    if (rc) {
        moemap_placement_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* parse_root as an mm_json_parse_fn. */
static int parse_cb(json_t *root, const char *name, void *out, moemap_error *err)
{
    return parse_root(root, name, out, err);
}

int mm_placement_parse_buffer(const char *buf, size_t len, const char *name,
                              moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_buffer(buf, len, name, parse_cb, out, err);
}

int moemap_placement_read(const char *path, moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_cb, out, err);
}

static json_t *layer_json(const moemap_layer_placement *lp)
{
    json_t *lo = json_object();
    json_t *reps = json_array();
    if (!lo || !reps) {
        json_decref(lo);
        json_decref(reps);
        return NULL;
    }
    int bad = json_object_set_new(lo, "layer", json_integer(lp->layer));
    bad |= json_object_set_new(lo, "replicas", reps);
    for (int i = 0; i < lp->num_replicas && !bad; i++) {
        const moemap_replica *r = &lp->replicas[i];
        json_t *ro = json_object();
        if (!ro)
            bad = 1;
        else {
            bad |= json_object_set_new(ro, "expert", json_integer(r->expert));
            bad |= json_object_set_new(ro, "gpu", json_integer(r->gpu));
            bad |= json_object_set_new(ro, "share", mm_json_real(r->share, 9));
            bad |= json_array_append_new(reps, ro);
        }
    }
    if (bad) {
        json_decref(lo);
        return NULL;
    }
    return lo;
}

int moemap_placement_write(const moemap_placement *p, const char *path, moemap_error *err)
{
    json_t *root = json_object();
    json_t *layers = json_array();
    int bad = !root || !layers;
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_string(FORMAT_NAME));
        bad |= json_object_set_new(root, "strategy", json_string(p->strategy));
        bad |= json_object_set_new(root, "gpus", json_integer(p->num_gpus));
        bad |= json_object_set_new(root, "experts", json_integer(p->experts));
        bad |= json_object_set_new(root, "layers", layers);
        layers = NULL;
    }
    for (int l = 0; l < p->num_layers && !bad; l++) {
        json_t *lo = layer_json(&p->layers[l]);
        bad |= !lo || json_array_append_new(json_object_get(root, "layers"), lo);
    }
    if (!bad && p->predicted_json) {
        json_error_t jerr;
        json_t *pred = json_loads(p->predicted_json, 0, &jerr);
        bad |= !pred || json_object_set_new(root, "predicted", pred);
    }
    json_decref(layers);
    if (bad) {
        json_decref(root);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory building JSON", path);
    }
    int rc = mm_json_dump_file(root, path, err);
    json_decref(root);
    return rc;
}
