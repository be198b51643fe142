/*
 * esft.c — importer for per-token routing traces in the ESFT layout: a folder holding
 * expert_weights_<L>.txt per MoE layer L, one line per sequence, each line
 * "<ids>\t\t<weights>" where each half is tab-separated and every top_k consecutive values
 * are one token's expert ids (resp. gate weights). Lines and tokens line up across the
 * layer files of a folder.
 *
 * The files are large (~0.5 MB per layer, tens of MB per task), so the parser works on
 * the whole file in one buffer: no per-line allocation, integers parsed by hand, weights
 * through strtof on a small stack copy (the buffer need not be NUL-terminated, which the
 * fuzz target relies on). Every malformed input is reported as file:line:column.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/io.h"

#include "workload_internal.h"

void mm_esft_layer_free(mm_esft_layer *l)
{
    if (!l)
        return;
    moemap_free(l->ids);
    moemap_free(l->weights);
    moemap_free(l->line_tokens);
    memset(l, 0, sizeof *l);
}

static int grow_values(mm_esft_layer *out, long need)
{
    if (need <= out->cap_values)
        return 0;
    long cap = out->cap_values ? out->cap_values : 4096;
    while (cap < need)
        cap *= 2;
    int16_t *ids = moemap_realloc(out->ids, (size_t)cap * sizeof *ids);
    if (!ids)
        return -1;
    out->ids = ids;
    float *w = moemap_realloc(out->weights, (size_t)cap * sizeof *w);
    if (!w)
        return -1;
    out->weights = w;
    out->cap_values = cap;
    return 0;
}

static int push_line(mm_esft_layer *out, long tokens)
{
    if (out->num_lines == out->cap_lines) {
        long cap = out->cap_lines ? 2 * out->cap_lines : 64;
        long *lt = moemap_realloc(out->line_tokens, (size_t)cap * sizeof *lt);
        if (!lt)
            return -1;
        out->line_tokens = lt;
        out->cap_lines = cap;
    }
    out->line_tokens[out->num_lines++] = tokens;
    return 0;
}

/* Shows a field in a message: at most 16 characters, control characters as '?'. */
static void show_field(const char *s, size_t n, char *dst, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && i < 16 && k + 1 < cap; i++)
        dst[k++] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    if (n > 16 && k + 4 < cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

/* Parses one line [a, b) (no newline) of an ESFT layer file, appending its tokens. */
static int parse_line(const char *a, const char *b, const char *name, long line, int experts,
                      int top_k, mm_esft_layer *out, moemap_error *err)
{
    const char *sep = NULL;
    for (const char *p = a; p + 1 < b; p++)
        if (p[0] == '\t' && p[1] == '\t') {
            sep = p;
            break;
        }
    if (!sep)
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: truncated line: no tab-tab between the expert ids "
                                "and the gate weights",
                                name, line);
    long first = out->num_tokens * top_k; /* index of this line's first value */
    long nids = 0;
    char shown[24];
    /* expert ids */
    for (const char *p = a; p < sep;) {
        const char *f = p;
        long v = 0;
        while (p < sep && *p >= '0' && *p <= '9') {
            if (v <= 1000000)
                v = v * 10 + (*p - '0');
            p++;
        }
        const char *fe = f;
        while (fe < sep && *fe != '\t')
            fe++;
        if (p == f || p != fe) {
            show_field(f, (size_t)(fe - f), shown, sizeof shown);
            if (fe == f)
                return moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld:%ld: empty expert id field",
                                        name, line, (long)(f - a) + 1);
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s:%ld:%ld: expert id '%s' is not a non-negative integer",
                                    name, line, (long)(f - a) + 1, shown);
        }
        if (v >= experts)
            return moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld:%ld: expert %ld >= %d experts",
                                    name, line, (long)(f - a) + 1, v, experts);
        if (grow_values(out, first + nids + 1))
            return moemap_error_set(err, MOEMAP_ENOMEM, "%s:%ld: out of memory", name, line);
        out->ids[first + nids] = (int16_t)v;
        /* Within one token an expert appears at most once. */
        long tok0 = first + (nids / top_k) * top_k;
        for (long j = tok0; j < first + nids; j++)
            if (out->ids[j] == v)
                return moemap_error_set(err, MOEMAP_EPARSE,
                                        "%s:%ld:%ld: expert %ld chosen twice by token %ld of "
                                        "the line",
                                        name, line, (long)(f - a) + 1, v, nids / top_k + 1);
        nids++;
        if (p < sep)
            p++; /* the single tab between fields (sep is the first double tab) */
    }
    if (nids == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld:1: line has no expert ids", name,
                                line);
    if (nids % top_k)
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: %ld expert ids is not a multiple of top-k %d", name,
                                line, nids, top_k);
    /* gate weights */
    long nw = 0;
    const char *p = sep + 2;
    while (p < b) {
        const char *f = p;
        while (p < b && *p != '\t')
            p++;
        size_t n = (size_t)(p - f);
        char tmp[40];
        char *end = NULL;
        int ok = n > 0 && n < sizeof tmp;
        if (ok) {
            memcpy(tmp, f, n);
            tmp[n] = '\0';
            /* strtof accepts "nan", "inf", hex and leading blanks: allow only decimals. */
            for (size_t i = 0; i < n && ok; i++)
                ok = strchr("0123456789.eE+-", tmp[i]) != NULL;
        }
        float w = 0;
        if (ok) {
            errno = 0;
            w = strtof(tmp, &end);
            ok = end == tmp + n && isfinite(w);
        }
        if (!ok && n == 0)
            return moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld:%ld: empty gate weight field",
                                    name, line, (long)(f - a) + 1);
        if (!ok) {
            show_field(f, n, shown, sizeof shown);
            return moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld:%ld: gate weight '%s' is not a number",
                                    name, line, (long)(f - a) + 1, shown);
        }
        if (w < 0.0f || w > 1.001f)
            return moemap_error_set(err, MOEMAP_ERANGE,
                                    "%s:%ld:%ld: gate weight %g is outside [0, 1]", name, line,
                                    (long)(f - a) + 1, (double)w);
        if (nw >= nids)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s:%ld:%ld: more gate weights than the %ld expert ids",
                                    name, line, (long)(f - a) + 1, nids);
        out->weights[first + nw++] = w;
        if (p < b)
            p++;
        if (p == b && p[-1] == '\t')
            return moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld:%ld: trailing tab", name, line,
                                    (long)(p - a));
    }
    if (nw != nids)
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: truncated line: %ld expert ids but %ld gate weights",
                                name, line, nids, nw);
    out->num_tokens += nids / top_k;
    if (push_line(out, nids / top_k))
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s:%ld: out of memory", name, line);
    return 0;
}

int mm_esft_parse_layer(const char *buf, size_t len, const char *name, int experts, int top_k,
                        mm_esft_layer *out, moemap_error *err)
{
    out->num_tokens = 0;
    out->num_lines = 0;
    if (top_k <= 0 || experts <= 0 || experts > 32767)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: bad shape (%d experts, top-k %d)",
                                name, experts, top_k);
    const char *p = buf, *end = buf + len;
    long line = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *b = eol;
        if (b > p && b[-1] == '\r')
            b--;
        if (b == p) {
            /* Blank lines may only close the file (an editor's trailing newline). */
            const char *q = eol;
            while (q < end && (*q == '\n' || *q == '\r' || *q == ' ' || *q == '\t'))
                q++;
            if (q < end)
                return moemap_error_set(err, MOEMAP_EPARSE,
                                        "%s:%ld: empty line (every line is one sequence: "
                                        "<ids>\\t\\t<weights>)",
                                        name, line);
            break;
        }
        int rc = parse_line(p, b, name, line, experts, top_k, out, err);
        if (rc)
            return rc;
        p = eol < end ? eol + 1 : end;
    }
    if (out->num_tokens == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: no tokens (empty file)", name);
    return 0;
}

/* "expert_weights_<L>.txt" -> L, or -1 when the name does not have that form. */
static int layer_of_name(const char *base)
{
    static const char prefix[] = "expert_weights_";
    size_t n = sizeof prefix - 1;
    if (strncmp(base, prefix, n))
        return -1;
    const char *p = base + n;
    long v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 1000000)
            return -1;
        p++;
    }
    return strcmp(p, ".txt") ? -1 : (int)v;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int mm_loads_from_routing(const moemap_routing *rt, long batch_tokens, moemap_loads **out,
                          moemap_error *err)
{
    if (batch_tokens <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "batch tokens must be positive (got %ld)",
                                batch_tokens);
    long nb = (rt->num_tokens + batch_tokens - 1) / batch_tokens;
    if (nb > 100000000L)
        return moemap_error_set(err, MOEMAP_ERANGE, "too many batches (%ld)", nb);
    moemap_loads *ld;
    int rc = moemap_loads_create(rt->experts, rt->top_k, rt->num_layers, (int)nb, &ld, err);
    if (rc)
        return rc;
    memcpy(ld->layer_ids, rt->layer_ids, (size_t)rt->num_layers * sizeof *ld->layer_ids);
    for (long b = 0; b < nb; b++) {
        long t0 = b * batch_tokens;
        long t1 = t0 + batch_tokens < rt->num_tokens ? t0 + batch_tokens : rt->num_tokens;
        ld->batch_tokens[b] = (double)(t1 - t0);
        for (int l = 0; l < rt->num_layers; l++) {
            double *row = &MOEMAP_LOADS_AT(ld, b, l, 0);
            const int16_t *ids = rt->ids + ((size_t)l * (size_t)rt->num_tokens + (size_t)t0) *
                                               (size_t)rt->top_k;
            size_t n = (size_t)(t1 - t0) * (size_t)rt->top_k;
            for (size_t i = 0; i < n; i++)
                row[ids[i]] += 1.0;
        }
    }
    *out = ld;
    return 0;
}

int mm_esft_read_dir(const char *dir, const moemap_read_params *p, moemap_loads **loads_out,
                     moemap_routing **routing_out, moemap_error *err)
{
    int experts = p->experts > 0 ? p->experts : MM_ESFT_DEFAULT_EXPERTS;
    int top_k = p->top_k > 0 ? p->top_k : MM_ESFT_DEFAULT_TOP_K;
    if (experts > 32767)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: %d experts: traces hold at most 32767",
                                dir, experts);
    DIR *d = opendir(dir);
    if (!d)
        return moemap_error_set(err, MOEMAP_EIO, "%s: cannot open folder: %s", dir,
                                strerror(errno));
    int *layers = NULL, nl = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int L = layer_of_name(de->d_name);
        if (L < 0)
            continue;
        if (nl == cap) {
            cap = cap ? 2 * cap : 32;
            int *nlay = moemap_realloc(layers, (size_t)cap * sizeof *nlay);
            if (!nlay) {
                closedir(d);
                moemap_free(layers);
                return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", dir);
            }
            layers = nlay;
        }
        layers[nl++] = L;
    }
    closedir(d);
    if (nl == 0) {
        moemap_free(layers);
        return moemap_error_set(err, MOEMAP_EFORMAT,
                                "%s: no expert_weights_<layer>.txt files (ESFT trace folder)",
                                dir);
    }
    qsort(layers, (size_t)nl, sizeof *layers, cmp_int);
    for (int i = 1; i < nl; i++)
        if (layers[i] == layers[i - 1]) {
            int L = layers[i];
            moemap_free(layers);
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: two files for layer %d", dir, L);
        }

    moemap_routing *rt = moemap_calloc(1, sizeof *rt);
    mm_esft_layer scratch;
    memset(&scratch, 0, sizeof scratch);
    long *ref_lines = NULL;
    long ref_nlines = 0;
    char path[4096], ref_name[64] = "";
    int rc = 0;
    if (!rt) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", dir);
        goto done;
    }
    rt->experts = experts;
    rt->top_k = top_k;
    rt->num_layers = nl;
    rt->layer_ids = layers;
    layers = NULL;
    for (int i = 0; i < nl && !rc; i++) {
        snprintf(path, sizeof path, "%s/expert_weights_%d.txt", dir, rt->layer_ids[i]);
        char *buf = NULL;
        size_t len = 0;
        rc = moemap_read_file(path, &buf, &len, err);
        if (rc)
            break;
        rc = mm_esft_parse_layer(buf, len, path, experts, top_k, &scratch, err);
        moemap_free(buf);
        if (rc)
            break;
        if (i == 0) {
            /* The first file fixes the token layout every other layer must match. */
            rt->num_tokens = scratch.num_tokens;
            ref_nlines = scratch.num_lines;
            snprintf(ref_name, sizeof ref_name, "expert_weights_%d.txt", rt->layer_ids[0]);
            size_t nv = (size_t)nl * (size_t)rt->num_tokens * (size_t)top_k;
            rt->ids = moemap_malloc(nv * sizeof *rt->ids);
            rt->weights = moemap_malloc(nv * sizeof *rt->weights);
            ref_lines = moemap_malloc((size_t)ref_nlines * sizeof *ref_lines);
            rt->seq_start = moemap_malloc(((size_t)ref_nlines + 1) * sizeof *rt->seq_start);
            if (!rt->ids || !rt->weights || !ref_lines || !rt->seq_start) {
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", dir);
                break;
            }
            memcpy(ref_lines, scratch.line_tokens, (size_t)ref_nlines * sizeof *ref_lines);
            rt->num_sequences = ref_nlines;
            rt->seq_start[0] = 0;
            for (long s = 0; s < ref_nlines; s++)
                rt->seq_start[s + 1] = rt->seq_start[s] + ref_lines[s];
        } else {
            if (scratch.num_lines != ref_nlines) {
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s: %ld lines (sequences) but %s has %ld: layer files "
                                      "must line up",
                                      path, scratch.num_lines, ref_name, ref_nlines);
                break;
            }
            for (long s = 0; s < ref_nlines; s++)
                if (scratch.line_tokens[s] != ref_lines[s]) {
                    rc = moemap_error_set(err, MOEMAP_EPARSE,
                                          "%s:%ld: %ld tokens but line %ld of %s has %ld: "
                                          "inconsistent token counts across layer files",
                                          path, s + 1, scratch.line_tokens[s], s + 1, ref_name,
                                          ref_lines[s]);
                    break;
                }
            if (rc)
                break;
        }
        size_t nv1 = (size_t)rt->num_tokens * (size_t)top_k, off = (size_t)i * nv1;
        memcpy(rt->ids + off, scratch.ids, nv1 * sizeof *rt->ids);
        memcpy(rt->weights + off, scratch.weights, nv1 * sizeof *rt->weights);
    }
    if (!rc)
        rc = mm_loads_from_routing(rt, p->batch_tokens, loads_out, err);
done:
    mm_esft_layer_free(&scratch);
    moemap_free(ref_lines);
    moemap_free(layers);
    if (rc || !routing_out)
        moemap_routing_free(rt);
    else
        *routing_out = rt;
    return rc;
}
