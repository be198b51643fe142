/*
 * export_read.c — readers for the engine exports (SGLang physical_to_logical_map and
 * vLLM/EPLB phy2log/log2phy/logcnt), so exports can be checked by a round trip and
 * placements that an engine computed (SGLang's or vLLM's own EPLB) can be evaluated
 * with moemap. Input is untrusted (a fuzz target drives moemap_export_parse): every
 * shape, id and cross-reference is checked and reported with its JSON path.
 *
 * A physical row becomes replicas with the engines' semantics: an expert's tokens are
 * split evenly over its physical copies, so k copies of an expert on one rank out of n
 * copies in all become one replica with share k / n.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_layout.h"
#include "json_util.h"
#include "placement_io.h"

/* Upper limits that keep a hostile file from asking for absurd allocations. */
#define MAX_EXPERTS 65536
#define MAX_PHYSICAL (1 << 20)
#define MAX_ROWS 100000

int export_row_to_replicas(const int *row, int physical, int num_gpus, int experts,
                           const char *where, moemap_replica *reps, moemap_error *err)
{
    int S = physical / num_gpus;
    int *total = moemap_calloc((size_t)experts, sizeof(int));
    int *stamp = moemap_calloc((size_t)experts, sizeof(int));
    int *index = moemap_malloc((size_t)experts * sizeof(int));
    int n = 0, rc = 0;
    if (!total || !stamp || !index) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
        goto done;
    }
    for (int s = 0; s < physical; s++) {
        if (row[s] < 0 || row[s] >= experts) {
            rc = moemap_error_set(err, MOEMAP_ERANGE, "%s[%d]: expert %d outside 0..%d",
                                  where, s, row[s], experts - 1);
            goto done;
        }
        total[row[s]]++;
    }
    for (int e = 0; e < experts; e++)
        if (total[e] == 0) {
            rc = moemap_error_set(err, MOEMAP_EINVAL,
                                  "%s: expert %d has no physical slot (every expert needs "
                                  "one)", where, e);
            goto done;
        }
    for (int g = 0; g < num_gpus; g++) {
        for (int s = g * S; s < (g + 1) * S; s++) {
            int e = row[s];
            if (stamp[e] != g + 1) { /* first copy of e on this rank */
                stamp[e] = g + 1;
                index[e] = n;
                reps[n++] = (moemap_replica){e, g, 0.0};
            }
            reps[index[e]].share += 1.0 / total[e];
        }
    }
    rc = n;
done:
    moemap_free(total);
    moemap_free(stamp);
    moemap_free(index);
    return rc;
}

/* An integer-valued JSON number in [lo, hi]. */
static int get_int(const json_t *v, const char *where, int i, long lo, long hi, int *out,
                   moemap_error *err)
{
    if (!json_is_number(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s[%d]: expected an integer", where, i);
    double x = json_number_value(v);
    if (!(x >= (double)lo && x <= (double)hi) || floor(x) != x)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s[%d]: %g is not an integer in "
                                "%ld..%ld", where, i, x, lo, hi);
    *out = (int)x;
    return 0;
}

/* Reads a [rows][cols] integer matrix; *cols is set from the first row when 0. */
static int read_matrix(const json_t *a, const char *where, int rows, int *cols, long lo,
                       long hi, int **out, moemap_error *err)
{
    *out = NULL;
    if (rows <= 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a non-empty array", where);
    const json_t *first = json_array_get(a, 0);
    if (!json_is_array(first))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s[0]: expected an array", where);
    if (*cols == 0)
        *cols = (int)(json_array_size(first) < (size_t)MAX_PHYSICAL + 1
                          ? json_array_size(first) : (size_t)MAX_PHYSICAL + 1);
    if (*cols <= 0 || *cols > MAX_PHYSICAL)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s[0]: %zu entries (need 1..%d)", where,
                                json_array_size(first), MAX_PHYSICAL);
    if ((size_t)rows * (size_t)*cols > (size_t)64 << 20)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %d x %d is too large", where,
                                rows, *cols);
    int *m = moemap_malloc((size_t)rows * (size_t)*cols * sizeof(int));
    if (!m)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
    char w[96];
    for (int r = 0; r < rows; r++) {
        const json_t *row = json_array_get(a, (size_t)r);
        snprintf(w, sizeof w, "%s[%d]", where, r);
        if (!json_is_array(row) || json_array_size(row) != (size_t)*cols) {
            moemap_free(m);
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array of %d "
                                    "integers (rows must have equal length)", w, *cols);
        }
        for (int c = 0; c < *cols; c++) {
            int rc = get_int(json_array_get(row, (size_t)c), w, c, lo, hi,
                             &m[(size_t)r * *cols + c], err);
            if (rc) {
                moemap_free(m);
                return rc;
            }
        }
    }
    *out = m;
    return 0;
}

/* Builds the placement from MoE rows of a physical map. */
static int rows_to_placement(const int *map, int physical, int num_gpus, int experts,
                             const int *row_ids, const int *layer_ids, int n_layers,
                             const char *key, const char *name, moemap_placement **out,
                             moemap_error *err)
{
    moemap_placement *p = NULL;
    moemap_replica *reps = moemap_malloc((size_t)physical * sizeof *reps);
    if (!reps)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    int rc = moemap_placement_create(num_gpus, experts, n_layers, &p, err);
    for (int l = 0; rc == 0 && l < n_layers; l++) {
        char where[128];
        snprintf(where, sizeof where, "%s: %s[%d]", name, key, row_ids[l]);
        int n = export_row_to_replicas(map + (size_t)row_ids[l] * physical, physical,
                                       num_gpus, experts, where, reps, err);
        rc = n < 0 ? n : moemap_placement_set_layer(p, l, layer_ids[l], reps, n, err);
    }
    moemap_free(reps);
    if (rc) {
        moemap_placement_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int max_plus_one(const int *v, size_t n)
{
    int m = -1;
    for (size_t i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m + 1;
}

static int parse_sglang(const json_t *root, const char *name,
                        const moemap_import_params *ip, moemap_placement **out,
                        moemap_error *err)
{
    char where[128];
    const json_t *a = json_object_get(root, "physical_to_logical_map");
    if (!json_is_array(a)) {
        if (json_object_get(root, "logical_count"))
            return moemap_error_set(err, MOEMAP_EFORMAT,
                                    "%s: has logical_count (expert loads), not a "
                                    "physical_to_logical_map placement", name);
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s: missing array \"physical_to_logical_map\"", name);
    }
    if (ip->num_gpus <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "%s: reading an SGLang map needs the number of GPUs (ranks)",
                                name);
    size_t rows = json_array_size(a);
    if (rows == 0 || rows > MAX_ROWS)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: physical_to_logical_map has %zu "
                                "rows (need 1..%d)", name, rows, MAX_ROWS);
    const moemap_model *m = ip->model;
    if (m && (size_t)m->num_layers != rows)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "%s: physical_to_logical_map has %zu rows, model %s has %d "
                                "layers", name, rows, m->name ? m->name : "?", m->num_layers);
    int P = 0, *map = NULL;
    snprintf(where, sizeof where, "%s: physical_to_logical_map", name);
    int rc = read_matrix(a, where, (int)rows, &P, 0, MAX_EXPERTS - 1, &map, err);
    if (rc)
        return rc;
    int *row_ids = moemap_malloc(rows * sizeof(int));
    int n = 0;
    if (!row_ids) {
        moemap_free(map);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    for (int r = 0; r < (int)rows; r++) {
        int keep = !m || moemap_model_is_moe_layer(m, r);
        if (keep && !m && ip->layers) {
            keep = 0;
            for (int i = 0; i < ip->num_layers && !keep; i++)
                keep = ip->layers[i] == r;
        }
        if (keep)
            row_ids[n++] = r;
    }
    int experts = m ? m->experts : 0;
    if (!m)
        for (int i = 0; i < n; i++) {
            int e = max_plus_one(map + (size_t)row_ids[i] * P, (size_t)P);
            experts = e > experts ? e : experts;
        }
    if (P % ip->num_gpus != 0)
        rc = moemap_error_set(err, MOEMAP_EINVAL,
                              "%s: %d physical slots do not split evenly over %d GPUs", name,
                              P, ip->num_gpus);
    else if (n == 0)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: no MoE layer rows", name);
    else if (experts <= 0 || experts > P)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: %d experts do not fit %d slots", name,
                              experts, P);
    else
        rc = rows_to_placement(map, P, ip->num_gpus, experts, row_ids, row_ids, n,
                               "physical_to_logical_map", name, out, err);
    moemap_free(map);
    moemap_free(row_ids);
    return rc;
}

/* Checks logcnt and log2phy (when present) against phy2log. */
static int check_vllm_extras(const json_t *root, const int *phy, int L, int P, int E,
                             const char *name, moemap_error *err)
{
    char where[128];
    const json_t *lc = json_object_get(root, "logcnt");
    const json_t *l2p = json_object_get(root, "log2phy");
    int *cnt = moemap_calloc((size_t)E, sizeof(int));
    int rc = cnt ? 0 : moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    if (lc && !rc && (!json_is_array(lc) || json_array_size(lc) != (size_t)L))
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: logcnt: expected %d rows", name, L);
    if (l2p && !rc && (!json_is_array(l2p) || json_array_size(l2p) != (size_t)L))
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: log2phy: expected %d rows", name, L);
    for (int l = 0; !rc && l < L; l++) {
        const int *row = phy + (size_t)l * P;
        memset(cnt, 0, (size_t)E * sizeof(int));
        for (int s = 0; s < P; s++)
            cnt[row[s]]++;
        const json_t *crow = lc ? json_array_get(lc, (size_t)l) : NULL;
        if (lc && (!json_is_array(crow) || json_array_size(crow) != (size_t)E)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: logcnt[%d]: expected %d counts",
                                  name, l, E);
            break;
        }
        snprintf(where, sizeof where, "%s: logcnt[%d]", name, l);
        for (int e = 0; lc && !rc && e < E; e++) {
            int c;
            rc = get_int(json_array_get(crow, (size_t)e), where, e, 0, P, &c, err);
            if (!rc && c != cnt[e])
                rc = moemap_error_set(err, MOEMAP_EINVAL, "%s[%d]: %d copies, but phy2log "
                                      "has %d", where, e, c, cnt[e]);
        }
        const json_t *lrow = l2p ? json_array_get(l2p, (size_t)l) : NULL;
        if (l2p && !rc && (!json_is_array(lrow) || json_array_size(lrow) != (size_t)E))
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: log2phy[%d]: expected %d experts",
                                  name, l, E);
        for (int e = 0; l2p && !rc && e < E; e++) {
            const json_t *slots = json_array_get(lrow, (size_t)e);
            snprintf(where, sizeof where, "%s: log2phy[%d][%d]", name, l, e);
            if (!json_is_array(slots)) {
                rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", where);
                break;
            }
            int valid = 0;
            for (size_t k = 0; !rc && k < json_array_size(slots); k++) {
                int s;
                rc = get_int(json_array_get(slots, k), where, (int)k, -1, P - 1, &s, err);
                if (rc || s < 0)
                    continue;
                valid++;
                if (row[s] != e)
                    rc = moemap_error_set(err, MOEMAP_EINVAL, "%s[%zu]: slot %d holds "
                                          "expert %d in phy2log", where, k, s, row[s]);
            }
            if (!rc && valid != cnt[e])
                rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: %d slots, phy2log has %d",
                                      where, valid, cnt[e]);
        }
    }
    moemap_free(cnt);
    return rc;
}

static int parse_vllm(const json_t *root, const char *name, const moemap_import_params *ip,
                      moemap_placement **out, moemap_error *err)
{
    char where[128];
    const json_t *a = json_object_get(root, "phy2log");
    if (!json_is_array(a))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: missing array \"phy2log\"", name);
    size_t rows = json_array_size(a);
    if (rows == 0 || rows > MAX_ROWS)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: phy2log has %zu rows (need 1..%d)",
                                name, rows, MAX_ROWS);
    int L = (int)rows;
    long ranks = ip->num_gpus;
    snprintf(where, sizeof where, "%s", name);
    if (json_object_get(root, "num_ranks")) {
        long r;
        int rc = mm_json_get_int(root, "num_ranks", where, 1, MAX_PHYSICAL, &r, err);
        if (rc)
            return rc;
        if (ranks > 0 && r != ranks)
            return moemap_error_set(err, MOEMAP_EINVAL, "%s: num_ranks is %ld but %ld GPUs "
                                    "were given", name, r, ranks);
        ranks = r;
    }
    if (ranks <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: no num_ranks in the file and no "
                                "GPU count given", name);
    int P = 0, *map = NULL, *ids = NULL, *rowix = NULL;
    snprintf(where, sizeof where, "%s: phy2log", name);
    int rc = read_matrix(a, where, L, &P, 0, MAX_EXPERTS - 1, &map, err);
    if (rc)
        return rc;
    ids = moemap_malloc(rows * sizeof(int));
    rowix = moemap_malloc(rows * sizeof(int));
    if (!ids || !rowix) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    const json_t *jl = json_object_get(root, "layers");
    if (jl && (!json_is_array(jl) || json_array_size(jl) != rows)) {
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: layers: expected %d layer ids", name,
                              L);
        goto done;
    }
    snprintf(where, sizeof where, "%s: layers", name);
    for (int l = 0; l < L; l++) {
        rowix[l] = l;
        ids[l] = l;
        if (jl && (rc = get_int(json_array_get(jl, (size_t)l), where, l, 0, MAX_ROWS,
                                &ids[l], err)) != 0)
            goto done;
        for (int k = 0; k < l; k++)
            if (ids[k] == ids[l]) {
                rc = moemap_error_set(err, MOEMAP_EINVAL, "%s[%d]: layer %d appears twice",
                                      where, l, ids[l]);
                goto done;
            }
    }
    int experts = ip->model ? ip->model->experts : max_plus_one(map, (size_t)L * P);
    const json_t *lc = json_object_get(root, "logcnt");
    if (json_is_array(lc) && json_is_array(json_array_get(lc, 0)))
        experts = (int)json_array_size(json_array_get(lc, 0));
    if (P % ranks != 0)
        rc = moemap_error_set(err, MOEMAP_EINVAL,
                              "%s: %d physical slots do not split evenly over %ld ranks", name,
                              P, ranks);
    else if (experts <= 0 || experts > P || experts > MAX_EXPERTS)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: %d experts do not fit %d slots", name,
                              experts, P);
    else if ((rc = rows_to_placement(map, P, (int)ranks, experts, rowix, ids, L, "phy2log",
                                     name, out, err)) == 0 &&
             (rc = check_vllm_extras(root, map, L, P, experts, name, err)) != 0) {
        moemap_placement_free(*out);
        *out = NULL;
    }
done:
    moemap_free(map);
    moemap_free(ids);
    moemap_free(rowix);
    return rc;
}

/* What parse_root needs besides the JSON (an mm_json_parse_fn takes one pointer). */
typedef struct import_ctx {
    moemap_export_format fmt;
    const moemap_import_params *params;
    moemap_placement **out;
} import_ctx;

static int parse_root(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    const import_ctx *ic = ctx;
    moemap_export_format fmt = ic->fmt;
    const moemap_import_params *params = ic->params;
    moemap_placement **out = ic->out;
    moemap_import_params defaults = moemap_import_default_params();
    if (!params)
        params = &defaults;
    if (!json_is_object(root))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", name);
    if (fmt == MOEMAP_EXPORT_SGLANG)
        return parse_sglang(root, name, params, out, err);
    if (fmt == MOEMAP_EXPORT_VLLM)
        return parse_vllm(root, name, params, out, err);
    return moemap_error_set(err, MOEMAP_EINVAL, "%s: the moemap format is read with "
                            "moemap_placement_read", name);
}

int moemap_export_parse(moemap_export_format fmt, const char *buf, size_t len,
                        const char *name, const moemap_import_params *params,
                        moemap_placement **out, moemap_error *err)
{
    if (!out || (!buf && len))
        return moemap_error_set(err, MOEMAP_EINVAL, "export: nothing to parse");
    *out = NULL;
    if (!name)
        name = "(buffer)";
    import_ctx ic = {fmt, params, out};
    return mm_json_read_buffer(buf ? buf : "", len, name, parse_root, &ic, err);
}

int moemap_export_read(moemap_export_format fmt, const char *path,
                       const moemap_import_params *params, moemap_placement **out,
                       moemap_error *err)
{
    if (!out || !path)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: no file to read");
    *out = NULL;
    if (fmt == MOEMAP_EXPORT_MOEMAP)
        return moemap_placement_read(path, out, err);
    import_ctx ic = {fmt, params, out};
    return mm_json_read_file(path, parse_root, &ic, err);
}

/* Which format a parsed document is in, by its keys. */
static int detect_cb(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    int *fmt = ctx;
    if (!json_is_object(root))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", name);
    if (json_object_get(root, "format"))
        *fmt = MOEMAP_EXPORT_MOEMAP;
    else if (json_object_get(root, "physical_to_logical_map"))
        *fmt = MOEMAP_EXPORT_SGLANG;
    else if (json_object_get(root, "phy2log"))
        *fmt = MOEMAP_EXPORT_VLLM;
    else
        return moemap_error_set(err, MOEMAP_EFORMAT,
                                "%s: not a placement: no \"format\" (moemap), "
                                "\"physical_to_logical_map\" (SGLang) or \"phy2log\" (vLLM) key",
                                name);
    return 0;
}

/* detect_cb's answer from the top-level keys alone, without building the document's
 * tree (for a 16,704-replica placement that tree was 10 MB, built once to detect and
 * again to parse): the keys are read off the text, the values skipped by matching
 * brackets and quotes. -1 when unsure — not an object, a key with an escape, no key
 * that names a format, text it cannot follow — and detect_cb decides on the tree, with
 * jansson's message for a syntax error. */
static int detect_by_keys(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
#define WS() while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
    WS();
    if (i >= n || s[i++] != '{')
        return -1;
    int has_format = 0, has_sglang = 0, has_vllm = 0;
    for (;;) {
        WS();
        if (i < n && s[i] == '}')
            break;
        if (i >= n || s[i] != '"')
            return -1;
        size_t k0 = ++i;
        while (i < n && s[i] != '"' && s[i] != '\\')
            i++;
        if (i >= n || s[i] != '"')
            return -1; /* an escape in a key: let jansson read it */
        size_t klen = i++ - k0;
        has_format |= klen == 6 && !memcmp(s + k0, "format", 6);
        has_sglang |= klen == 23 && !memcmp(s + k0, "physical_to_logical_map", 23);
        has_vllm |= klen == 7 && !memcmp(s + k0, "phy2log", 7);
        WS();
        if (i >= n || s[i++] != ':')
            return -1;
        /* skip the value: strings (with escapes) and nesting; a scalar ends at , or } */
        int depth = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '"') {
                for (i++; i < n && s[i] != '"'; i++)
                    if (s[i] == '\\')
                        i++;
                if (i >= n)
                    return -1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0)
                    break;
                if (--depth < 0)
                    return -1;
            } else if (c == ',' && depth == 0) {
                break;
            }
        }
        if (i >= n)
            return -1;
        if (s[i] == ',')
            i++;
        else if (s[i] != '}')
            return -1;
    }
#undef WS
    if (has_format)
        return MOEMAP_EXPORT_MOEMAP;
    if (has_sglang)
        return MOEMAP_EXPORT_SGLANG;
    if (has_vllm)
        return MOEMAP_EXPORT_VLLM;
    return -1;
}

int moemap_placement_read_any(const char *path, const moemap_import_params *params,
                              moemap_placement **out, moemap_export_format *fmt,
                              moemap_error *err)
{
    if (!out || !path)
        return moemap_error_set(err, MOEMAP_EINVAL, "placement: no file to read");
    *out = NULL;
    /* Read once, then detect and parse from memory: "-" (standard input) can be read
     * only once. */
    char *buf = NULL;
    size_t len = 0;
    int found = -1;
    int rc = moemap_read_file(path, &buf, &len, err);
    if (!rc && (found = detect_by_keys(buf, len)) < 0)
        rc = mm_json_read_buffer(buf, len, path, detect_cb, &found, err);
    if (!rc && fmt)
        *fmt = (moemap_export_format)found;
    if (!rc)
        rc = found == MOEMAP_EXPORT_MOEMAP
                 ? mm_placement_parse_buffer(buf, len, path, out, err)
                 : moemap_export_parse((moemap_export_format)found, buf, len, path, params, out,
                                       err);
    moemap_free(buf);
    /* an engine file does not say who made it: name its format where a strategy goes */
    if (!rc && !(*out)->strategy[0])
        snprintf((*out)->strategy, sizeof (*out)->strategy, "%s-file",
                 moemap_export_format_name((moemap_export_format)found));
    return rc;
}
