/*
 * read.c — moemap_workload_read and moemap_workload_parse_buffer: the one entry point for
 * every workload input. It decides the format (the --format the user gave, else by
 * content: a folder is an ESFT trace, JSON with "format" is moemap.loads/v1, JSON with
 * "logical_count" is an SGLang dump, a line with a tab-tab is one ESFT layer file, and
 * anything else is tried as CSV) and hands the bytes to that format's parser.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "json_util.h"
#include "workload_internal.h"

/* The layer id in a name like ".../expert_weights_7.txt", else 0. */
static int esft_layer_from_name(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    int L = 0, used = 0;
    if (sscanf(base, "expert_weights_%d.txt%n", &L, &used) == 1 && used > 0 &&
        base[used] == '\0' && L >= 0)
        return L;
    return 0;
}

/* One ESFT layer file as loads (+ routing when asked). */
static int esft_single(const char *buf, size_t len, const char *name,
                       const moemap_read_params *p, moemap_loads **out,
                       moemap_routing **routing_out, moemap_error *err)
{
    int experts = p->experts > 0 ? p->experts : MM_ESFT_DEFAULT_EXPERTS;
    int top_k = p->top_k > 0 ? p->top_k : MM_ESFT_DEFAULT_TOP_K;
    mm_esft_layer lay;
    memset(&lay, 0, sizeof lay);
    int rc = mm_esft_parse_layer(buf, len, name, experts, top_k, &lay, err);
    moemap_routing *rt = NULL;
    if (!rc) {
        rt = moemap_calloc(1, sizeof *rt);
        if (rt) {
            rt->layer_ids = moemap_malloc(sizeof *rt->layer_ids);
            rt->seq_start = moemap_malloc(((size_t)lay.num_lines + 1) * sizeof *rt->seq_start);
        }
        if (!rt || !rt->layer_ids || !rt->seq_start) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
        } else {
            rt->experts = experts;
            rt->top_k = top_k;
            rt->num_layers = 1;
            rt->layer_ids[0] = esft_layer_from_name(name);
            rt->num_tokens = lay.num_tokens;
            /* The routing takes over the parser's arrays (no copy). */
            rt->ids = lay.ids;
            rt->weights = lay.weights;
            lay.ids = NULL;
            lay.weights = NULL;
            rt->num_sequences = lay.num_lines;
            rt->seq_start[0] = 0;
            for (long s = 0; s < lay.num_lines; s++)
                rt->seq_start[s + 1] = rt->seq_start[s] + lay.line_tokens[s];
            rc = mm_loads_from_routing(rt, p->batch_tokens, out, err);
        }
    }
    mm_esft_layer_free(&lay);
    if (rc || !routing_out)
        moemap_routing_free(rt);
    else
        *routing_out = rt;
    return rc;
}

static int from_json(const json_t *root, const char *name, moemap_workload_format fmt,
                     const moemap_read_params *p, moemap_loads **out, moemap_error *err)
{
    if (fmt == MOEMAP_FORMAT_AUTO) {
        if (json_is_object(root) && json_object_get(root, "format"))
            fmt = MOEMAP_FORMAT_LOADS;
        else if (json_is_object(root) && json_object_get(root, "logical_count"))
            fmt = MOEMAP_FORMAT_SGLANG;
        else
            return moemap_error_set(err, MOEMAP_EFORMAT,
                                    "%s: JSON with neither \"format\" (moemap.loads/v1) nor "
                                    "\"logical_count\" (SGLang expert distribution)",
                                    name);
    }
    if (fmt == MOEMAP_FORMAT_LOADS)
        return mm_loads_from_json(root, name, out, err);
    return mm_sglang_from_json(root, name, p, out, err);
}

/* Every format's counts within [0, MOEMAP_MAX_COUNT] (moemap.loads/v1 names the JSON
 * path itself; this catches CSV and SGLang dumps, whose parsers only check finiteness). */
static int check_counts(const moemap_loads *ld, const char *name, moemap_error *err)
{
    size_t per_batch = (size_t)ld->num_layers * (size_t)ld->experts;
    for (int b = 0; b < ld->num_batches; b++) {
        const double *c = &ld->counts[(size_t)b * per_batch];
        for (size_t i = 0; i < per_batch; i++)
            if (!(c[i] >= 0 && c[i] <= MOEMAP_MAX_COUNT))
                return moemap_error_set(
                    err, MOEMAP_ERANGE,
                    "%s: batch %d, layer %d, expert %d: count %g is outside [0, %g] "
                    "(docs/limits.md)",
                    name, b, ld->layer_ids[i / (size_t)ld->experts],
                    (int)(i % (size_t)ld->experts), c[i], MOEMAP_MAX_COUNT);
        if (!(ld->batch_tokens[b] >= 0 && ld->batch_tokens[b] <= MOEMAP_MAX_COUNT))
            return moemap_error_set(err, MOEMAP_ERANGE,
                                    "%s: batch %d has %g tokens, above the limit of %g", name,
                                    b, ld->batch_tokens[b], MOEMAP_MAX_COUNT);
    }
    return 0;
}

static int parse_buffer_any(const char *buf, size_t len, const char *name,
                            const moemap_read_params *p, moemap_loads **out,
                            moemap_routing **routing_out, moemap_error *err)
{
    moemap_workload_format fmt = p->format;
    if (fmt == MOEMAP_FORMAT_AUTO) {
        size_t i = 0;
        if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
            i = 3;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
            i++;
        const char *nl = memchr(buf, '\n', len);
        size_t first_len = nl ? (size_t)(nl - buf) : len;
        int tabtab = 0;
        for (size_t k = 0; k + 1 < first_len && !tabtab; k++)
            tabtab = buf[k] == '\t' && buf[k + 1] == '\t';
        if (i < len && (buf[i] == '{' || buf[i] == '['))
            fmt = MOEMAP_FORMAT_LOADS; /* refined from the JSON content below */
        else if (tabtab)
            fmt = MOEMAP_FORMAT_ESFT;
        else
            fmt = MOEMAP_FORMAT_CSV;
        if (fmt == MOEMAP_FORMAT_LOADS) {
            if (mm_loads_parse_stream(buf, len, out) == 0)
                return 0;
            json_t *root = mm_json_load_buffer(buf, len, name, err);
            if (!root)
                return err ? err->code : MOEMAP_EPARSE;
            int rc = from_json(root, name, MOEMAP_FORMAT_AUTO, p, out, err);
            json_decref(root);
            return rc;
        }
    }
    switch (fmt) {
    case MOEMAP_FORMAT_ESFT:
        return esft_single(buf, len, name, p, out, routing_out, err);
    case MOEMAP_FORMAT_CSV:
        return mm_csv_parse(buf, len, name, p, out, err);
    case MOEMAP_FORMAT_LOADS:
    case MOEMAP_FORMAT_SGLANG: {
        if (fmt == MOEMAP_FORMAT_LOADS && mm_loads_parse_stream(buf, len, out) == 0)
            return 0;
        json_t *root = mm_json_load_buffer(buf, len, name, err);
        if (!root)
            return err ? err->code : MOEMAP_EPARSE;
        int rc = from_json(root, name, fmt, p, out, err);
        json_decref(root);
        return rc;
    }
    default:
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: unknown format %d", name, (int)fmt);
    }
}

static int parse_buffer(const char *buf, size_t len, const char *name,
                        const moemap_read_params *p, moemap_loads **out,
                        moemap_routing **routing_out, moemap_error *err)
{
    int rc = parse_buffer_any(buf, len, name, p, out, routing_out, err);
    if (!rc && (rc = check_counts(*out, name, err)) != 0) {
        moemap_loads_free(*out);
        *out = NULL;
        if (routing_out) {
            moemap_routing_free(*routing_out);
            *routing_out = NULL;
        }
    }
    return rc;
}

int moemap_workload_parse_buffer(const char *buf, size_t len, const char *name,
                                 const moemap_read_params *params, moemap_loads **loads_out,
                                 moemap_error *err)
{
    moemap_read_params p = params ? *params : moemap_read_default_params();
    *loads_out = NULL;
    if (!buf && len)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: no buffer", name ? name : "input");
    return parse_buffer(buf ? buf : "", len, name ? name : "input", &p, loads_out, NULL, err);
}

int moemap_workload_read(const char *path, const moemap_read_params *params,
                         moemap_loads **loads_out, moemap_routing **routing_out,
                         moemap_error *err)
{
    moemap_read_params p = params ? *params : moemap_read_default_params();
    *loads_out = NULL;
    if (routing_out)
        *routing_out = NULL;
    if (p.batch_tokens <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "batch tokens must be positive (got %ld)",
                                p.batch_tokens);
    if (p.experts < 0 || p.top_k < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "experts and top-k must not be negative");
    struct stat st = {0}; /* "-" (standard input) is a file, never a folder */
    if (!path || (strcmp(path, "-") != 0 && stat(path, &st) != 0))
        return moemap_error_set(err, MOEMAP_EIO, "%s: cannot open: %s", path ? path : "(null)",
                                strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (p.format != MOEMAP_FORMAT_AUTO && p.format != MOEMAP_FORMAT_ESFT)
            return moemap_error_set(err, MOEMAP_EFORMAT,
                                    "%s: is a folder, but format %s is a single file", path,
                                    moemap_workload_format_name(p.format));
        return mm_esft_read_dir(path, &p, loads_out, routing_out, err);
    }
    char *buf;
    size_t len;
    int rc = moemap_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = parse_buffer(buf, len, path, &p, loads_out, routing_out, err);
    moemap_free(buf);
    return rc;
}
