/*
 * placement_io.c — reading and writing moemap.placement/v1 (see DESIGN.md). The reader
 * checks the document's shape and ranges (types, ids, shares in [0, 1]) and names the
 * JSON path of each problem ("p.json: layers[2].replicas[5].gpu: 40 is outside [0, 31]");
 * the cross-replica invariants (coverage, share sums, slots) are validate.c's job, so a
 * placement that reads fine can still be reported problem by problem by `moemap validate`.
 */
#include "placement_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* --- the streaming reader ------------------------------------------------------------
 * A DeepSeek-V3 placement on 32 GPUs (16,704 replicas, 1 MB of text) becomes a jansson
 * tree of ~70,000 nodes, 10 MB: most of what `moemap validate` used. The streaming path
 * walks the top-level object itself and has jansson parse one value at a time (each
 * layer with JSON_DISABLE_EOF_CHECK, converted and freed before the next), so at most one
 * layer's tree lives at once. It takes only the happy path of the files moemap writes
 * ("format" first; "gpus" and "experts" before "layers"): on anything else — a syntax error,
 * another key order, a value out of range, a duplicate key — it declines and the whole
 * document goes through the tree path above, which gives the usual messages. */

typedef struct stream_out {
    moemap_replica *reps;   /* every layer's replicas, one after the other */
    long nreps, cap;
    int *ids, *counts;      /* per layer */
    int nl, lcap;
} stream_out;

/* A layer object into out; 1 (decline) when it is anything but well-formed and in range. */
static int sp_layer(const json_t *lo, long gpus, long experts, stream_out *out)
{
    json_t *id = json_object_get(lo, "layer"), *reps = json_object_get(lo, "replicas");
    if (!json_is_object(lo) || !json_is_integer(id) || json_integer_value(id) < 0 ||
        json_integer_value(id) > MAX_IDS || !json_is_array(reps))
        return 1;
    size_t nr = json_array_size(reps);
    if (out->nl == out->lcap) {
        int cap = out->lcap ? 2 * out->lcap : 64;
        int *a = moemap_realloc(out->ids, (size_t)cap * sizeof *a);
        if (a)
            out->ids = a;
        int *b = a ? moemap_realloc(out->counts, (size_t)cap * sizeof *b) : NULL;
        if (!b)
            return 1;
        out->counts = b;
        out->lcap = cap;
    }
    if (out->nreps + (long)nr > out->cap) {
        long cap = out->cap ? out->cap : 4096;
        while (cap < out->nreps + (long)nr)
            cap *= 2;
        moemap_replica *r = moemap_realloc(out->reps, (size_t)cap * sizeof *r);
        if (!r)
            return 1;
        out->reps = r;
        out->cap = cap;
    }
    for (size_t i = 0; i < nr; i++) {
        if (parse_replica(json_array_get(reps, i), "", gpus, experts, &out->reps[out->nreps + i],
                          NULL) != 0)
            return 1;
    }
    out->ids[out->nl] = (int)json_integer_value(id);
    out->counts[out->nl] = (int)nr;
    out->nl++;
    out->nreps += (long)nr;
    return 0;
}

/* The streaming parse: 0 with *out set, 1 when it declines (nothing is reported). */
static int parse_stream(const char *buf, size_t len, moemap_placement **out)
{
    mm_json_cursor in = {buf, len, 0};
    stream_out so = {0};
    json_t *meta = json_object(); /* every top-level value but the layers */
    int declined = !meta || !mm_jc_char(&in, '{'), layers_seen = 0, first = 1;
    long gpus = 0, experts = 0;
    while (!declined && !mm_jc_char(&in, '}')) {
        if (!first && !mm_jc_char(&in, ',')) {
            declined = 1;
            break;
        }
        first = 0;
        json_t *key = mm_jc_value(&in);
        const char *k = json_string_value(key);
        if (!k || !mm_jc_char(&in, ':') || json_object_get(meta, k) ||
            (layers_seen && !strcmp(k, "layers")) ||
            (json_object_size(meta) == 0 && !layers_seen && strcmp(k, "format") != 0)) {
            json_decref(key);
            declined = 1;
            break;
        }
        if (strcmp(k, "layers") == 0) {
            /* format, gpus and experts first, as moemap writes them, so that each layer
             * is checked as it comes */
            json_t *fmt = json_object_get(meta, "format"), *g = json_object_get(meta, "gpus"),
                   *e = json_object_get(meta, "experts");
            declined = !json_is_string(fmt) || strcmp(json_string_value(fmt), FORMAT_NAME) ||
                       !json_is_integer(g) || json_integer_value(g) < 1 ||
                       json_integer_value(g) > MAX_IDS || !json_is_integer(e) ||
                       json_integer_value(e) < 1 || json_integer_value(e) > MAX_IDS ||
                       !mm_jc_char(&in, '[');
            if (!declined) {
                gpus = (long)json_integer_value(g);
                experts = (long)json_integer_value(e);
            }
            for (int n = 0; !declined && !mm_jc_char(&in, ']'); n++) {
                if (n > 0 && !mm_jc_char(&in, ',')) {
                    declined = 1;
                    break;
                }
                json_t *lo = mm_jc_value(&in);
                declined = !lo || sp_layer(lo, gpus, experts, &so);
                json_decref(lo);
            }
            layers_seen = 1;
        } else {
            json_t *v = mm_jc_value(&in);
            declined = !v || json_object_set_new(meta, k, v) != 0;
        }
        json_decref(key);
    }
    mm_jc_ws(&in);
    declined |= !layers_seen || in.i != in.n;
    json_t *strategy = declined ? NULL : json_object_get(meta, "strategy");
    json_t *predicted = declined ? NULL : json_object_get(meta, "predicted");
    declined |= (strategy && !json_is_string(strategy)) ||
                (predicted && !json_is_object(predicted));
    moemap_placement *p = NULL;
    if (!declined)
        declined = moemap_placement_create((int)gpus, (int)experts, so.nl, &p, NULL) != 0;
    long at = 0;
    for (int l = 0; !declined && l < so.nl; l++) {
        declined = moemap_placement_set_layer(p, l, so.ids[l], so.reps + at, so.counts[l],
                                              NULL) != 0;
        at += so.counts[l];
    }
    if (!declined && strategy)
        snprintf(p->strategy, sizeof p->strategy, "%s", json_string_value(strategy));
    if (!declined && predicted) {
        char *t = json_dumps(predicted, JSON_COMPACT | JSON_PRESERVE_ORDER);
        p->predicted_json = t ? moemap_strdup(t) : NULL;
        free(t);
        declined = !p->predicted_json;
    }
    json_decref(meta);
    moemap_free(so.reps);
    moemap_free(so.ids);
    moemap_free(so.counts);
    if (declined) {
        moemap_placement_free(p);
        return 1;
    }
    *out = p;
    return 0;
}

int mm_placement_parse_buffer(const char *buf, size_t len, const char *name,
                              moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) /* as mm_json_load_buffer */
        buf += 3, len -= 3;
    if (parse_stream(buf, len, out) == 0)
        return 0;
    return mm_json_read_buffer(buf, len, name, parse_cb, out, err);
}

int moemap_placement_read(const char *path, moemap_placement **out, moemap_error *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    int rc = moemap_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = mm_placement_parse_buffer(buf, len, path, out, err);
    moemap_free(buf);
    return rc;
}

/* The writer streams the text instead of building jansson's tree of a whole placement
 * (16,704 replicas at DeepSeek-V3 on 32 GPUs: a tree of ~70,000 nodes built, dumped and
 * freed was a fifth of a `moemap place --strategy eplb` call). It writes the very bytes
 * json_dumps wrote with JSON_INDENT(1), JSON_PRESERVE_ORDER and JSON_REAL_PRECISION(10):
 * same layout, reals as jansson prints them (text_real). */
typedef struct text_buf {
    char *s;
    size_t n, cap;
    int bad;
} text_buf;

static void text_put(text_buf *t, const char *s, size_t n)
{
    if (t->bad)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1 << 16;
        while (t->n + n + 1 > cap)
            cap *= 2;
        char *ns = moemap_realloc(t->s, cap);
        if (!ns) {
            t->bad = 1;
            return;
        }
        t->s = ns;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void text_str(text_buf *t, const char *s)
{
    text_put(t, s, strlen(s));
}

static void text_long(text_buf *t, long long v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", v);
    text_put(t, b, (size_t)n);
}

/* A share as mm_json_real(x, 9) stored it and jansson printed it: rounded to 9 decimals,
 * an integer when whole, else "%.10g" with ".0" added when it has neither '.' nor 'e'
 * and the exponent's '+' and leading zeros removed (jansson's dtostr). */
static void text_real(text_buf *t, double x)
{
    double r = round(x * 1e9) / 1e9;
    if (r == floor(r) && fabs(r) < 9e15) {
        text_long(t, (long long)r);
        return;
    }
    char b[48];
    int n = snprintf(b, sizeof b - 3, "%.10g", r);
    if (n < 0 || n >= (int)sizeof b - 3) {
        t->bad = 1;
        return;
    }
    if (!strchr(b, '.') && !strchr(b, 'e')) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(b, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(n - (end - b)) + 1);
            n -= (int)(end - start);
        }
    }
    text_put(t, b, (size_t)n);
}

/* A JSON value's text as jansson writes it at the given depth (indent 1): used for the
 * strategy name (escaped) and the "predicted" object kept as text. */
static void text_json(text_buf *t, json_t *v, int depth)
{
    char *s = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10) |
                                JSON_ENCODE_ANY);
    if (!s) {
        t->bad = 1;
        return;
    }
    for (const char *c = s; *c; c++) { /* raw newlines only separate lines in JSON text */
        text_put(t, c, 1);
        for (int d = 0; *c == '\n' && d < depth; d++)
            text_put(t, " ", 1);
    }
    free(s);
}

static void layer_text(text_buf *t, const moemap_layer_placement *lp)
{
    text_str(t, "  {\n   \"layer\": ");
    text_long(t, lp->layer);
    if (lp->num_replicas == 0) {
        text_str(t, ",\n   \"replicas\": []\n  }");
        return;
    }
    text_str(t, ",\n   \"replicas\": [\n");
    for (int i = 0; i < lp->num_replicas && !t->bad; i++) {
        const moemap_replica *r = &lp->replicas[i];
        text_str(t, "    {\n     \"expert\": ");
        text_long(t, r->expert);
        text_str(t, ",\n     \"gpu\": ");
        text_long(t, r->gpu);
        text_str(t, ",\n     \"share\": ");
        text_real(t, r->share);
        text_str(t, i + 1 < lp->num_replicas ? "\n    },\n" : "\n    }\n");
    }
    text_str(t, "   ]\n  }");
}

int moemap_placement_write(const moemap_placement *p, const char *path, moemap_error *err)
{
    const char *name = strcmp(path, "-") ? path : "<stdout>";
    text_buf t = {0};
    json_t *strategy = json_string(p->strategy);
    json_t *pred = NULL;
    if (p->predicted_json) {
        json_error_t jerr;
        pred = json_loads(p->predicted_json, 0, &jerr);
        t.bad |= !pred;
    }
    t.bad |= !strategy;
    text_str(&t, "{\n \"format\": \"" FORMAT_NAME "\",\n \"strategy\": ");
    if (strategy)
        text_json(&t, strategy, 1);
    text_str(&t, ",\n \"gpus\": ");
    text_long(&t, p->num_gpus);
    text_str(&t, ",\n \"experts\": ");
    text_long(&t, p->experts);
    text_str(&t, p->num_layers > 0 ? ",\n \"layers\": [\n" : ",\n \"layers\": []");
    for (int l = 0; l < p->num_layers && !t.bad; l++) {
        layer_text(&t, &p->layers[l]);
        text_str(&t, l + 1 < p->num_layers ? ",\n" : "\n ]");
    }
    if (pred) {
        text_str(&t, ",\n \"predicted\": ");
        text_json(&t, pred, 1);
    }
    text_str(&t, "\n}\n");
    json_decref(strategy);
    json_decref(pred);
    if (t.bad) {
        moemap_free(t.s);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory writing JSON", name);
    }
    int rc = moemap_outfile_write(path, t.s, t.n, err);
    moemap_free(t.s);
    return rc;
}
