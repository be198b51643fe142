/*
 * export.c — entry points of the engine exports (moemap/export.h): format names,
 * defaults, the physical slot layout shared by SGLang and vLLM, and serialisation to a
 * string or a file. The engine-specific documents are built in export_sglang.c and
 * export_vllm.c; the readers are in export_read.c.
 *
 * Both engines give every rank the same number of physical slots, fill every slot and
 * split an expert's tokens evenly over its copies. The layout therefore needs every GPU
 * of every layer to hold the same number of replicas and every expert's shares to be
 * equal. When they are not, the export fails with a message that says which layer, GPU
 * or expert breaks the rule, or (approximate) pads and equalises and says so.
 */
#include "export_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json_util.h"

int moemap_export_format_parse(const char *name)
{
    if (!name)
        return -1;
    if (!strcasecmp(name, "moemap"))
        return MOEMAP_EXPORT_MOEMAP;
    if (!strcasecmp(name, "sglang"))
        return MOEMAP_EXPORT_SGLANG;
    if (!strcasecmp(name, "vllm") || !strcasecmp(name, "eplb"))
        return MOEMAP_EXPORT_VLLM;
    return -1;
}

const char *moemap_export_format_name(moemap_export_format f)
{
    switch (f) {
    case MOEMAP_EXPORT_MOEMAP: return "moemap";
    case MOEMAP_EXPORT_SGLANG: return "sglang";
    case MOEMAP_EXPORT_VLLM: return "vllm";
    }
    return "unknown";
}

moemap_export_params moemap_export_default_params(void)
{
    moemap_export_params p = {NULL, 0, 0};
    return p;
}

moemap_import_params moemap_import_default_params(void)
{
    moemap_import_params p = {0, NULL, NULL, 0};
    return p;
}

void export_layout_clear(export_layout *lay)
{
    moemap_free(lay->phy2log);
    memset(lay, 0, sizeof *lay);
}

/* Checks indices and duplicates of one layer and counts replicas per GPU and expert. */
static int count_layer(const moemap_placement *p, int l, int *per_gpu, int *per_expert,
                       unsigned char *has, moemap_error *err)
{
    const moemap_layer_placement *lp = &p->layers[l];
    int G = p->num_gpus, E = p->experts;
    memset(per_gpu, 0, (size_t)G * sizeof *per_gpu);
    memset(per_expert, 0, (size_t)E * sizeof *per_expert);
    memset(has, 0, (size_t)G * (size_t)E);
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (r->expert < 0 || r->expert >= E || r->gpu < 0 || r->gpu >= G)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "export: layer %d: replica %d has expert %d / gpu %d "
                                    "outside %d experts / %d GPUs",
                                    lp->layer, i, r->expert, r->gpu, E, G);
        if (has[(size_t)r->gpu * E + r->expert])
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "export: layer %d: gpu %d holds expert %d twice",
                                    lp->layer, r->gpu, r->expert);
        has[(size_t)r->gpu * E + r->expert] = 1;
        per_gpu[r->gpu]++;
        per_expert[r->expert]++;
    }
    for (int e = 0; e < E; e++)
        if (per_expert[e] == 0)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "export: layer %d: expert %d has no replica",
                                    lp->layer, e);
    return 0;
}

static void add_note(moemap_export_info *info, const char *text)
{
    size_t n = strlen(info->note);
    snprintf(info->note + n, sizeof info->note - n, "%s%s", n ? "; " : "", text);
}

/* Fills one layer's rows: each GPU's experts in increasing id, then (approximate) pads
 * the GPU's remaining slots with experts it does not hold, fewest replicas first. `has`
 * is the layer's [G * E] holder matrix; padded experts are marked in it as they go. */
static void fill_layer(const moemap_placement *p, unsigned char *has, int *per_expert, int S,
                       int *row, long *padded)
{
    int G = p->num_gpus, E = p->experts;
    for (int g = 0; g < G; g++) {
        unsigned char *mine = has + (size_t)g * E;
        int k = 0;
        for (int e = 0; e < E; e++)
            if (mine[e])
                row[g * S + k++] = e;
        while (k < S) {
            int best = -1;
            for (int e = 0; e < E; e++)
                if (!mine[e] && (best < 0 || per_expert[e] < per_expert[best]))
                    best = e;
            MOEMAP_ASSERT(best >= 0); /* S <= E, so some expert is missing on g */
            row[g * S + k++] = best;
            mine[best] = 1;
            per_expert[best]++;
            (*padded)++;
        }
    }
}

int export_layout_build(const moemap_placement *p, int approximate, export_layout *lay,
                        moemap_export_info *info, moemap_error *err)
{
    memset(lay, 0, sizeof *lay);
    memset(info, 0, sizeof *info);
    if (!p || p->num_gpus <= 0 || p->experts <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: empty placement");
    if (p->num_layers <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: the placement has no MoE layers");
    int G = p->num_gpus, E = p->experts, L = p->num_layers;
    int *per_gpu = moemap_malloc((size_t)G * sizeof(int));
    int *per_expert = moemap_malloc((size_t)E * sizeof(int));
    unsigned char *has = moemap_malloc((size_t)G * (size_t)E);
    int rc = 0;
    if (!per_gpu || !per_expert || !has) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
        goto done;
    }
    /* First pass: the slots per rank (the largest replica count of any GPU in any layer)
     * and the first thing the engines cannot express. */
    int S = 0, uneven_l = -1, uneven_g = -1, unequal_l = -1, unequal_e = -1;
    long unequal = 0;
    for (int l = 0; l < L; l++) {
        if ((rc = count_layer(p, l, per_gpu, per_expert, has, err)) != 0)
            goto done;
        for (int g = 0; g < G; g++)
            S = per_gpu[g] > S ? per_gpu[g] : S;
        const moemap_layer_placement *lp = &p->layers[l];
        for (int i = 0; i < lp->num_replicas; i++) {
            const moemap_replica *r = &lp->replicas[i];
            if (fabs(r->share - 1.0 / per_expert[r->expert]) > 1e-6) {
                unequal++;
                if (unequal_l < 0) {
                    unequal_l = lp->layer;
                    unequal_e = r->expert;
                }
            }
        }
    }
    for (int l = 0; l < L && uneven_l < 0; l++) {
        count_layer(p, l, per_gpu, per_expert, has, err);
        for (int g = 0; g < G && uneven_l < 0; g++)
            if (per_gpu[g] != S) {
                uneven_l = p->layers[l].layer;
                uneven_g = g;
            }
    }
    if (!approximate && unequal_l >= 0) {
        rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                              "export: layer %d: the replicas of expert %d have unequal "
                              "shares; SGLang and vLLM split an expert's tokens evenly over "
                              "its copies (place with --engine sglang|vllm for a placement "
                              "they run as it is, or --approximate-exports to equalise "
                              "shares)",
                              unequal_l, unequal_e);
        goto done;
    }
    if (!approximate && uneven_l >= 0) {
        rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                              "export: layer %d: gpu %d holds fewer experts than the busiest "
                              "GPU (%d); SGLang and vLLM need the same number of filled "
                              "slots on every rank and layer (place with --engine sglang|vllm "
                              "for a placement they run as it is, or --approximate-exports to "
                              "fill the empty slots with extra replicas)",
                              uneven_l, uneven_g, S);
        goto done;
    }
    lay->num_layers = L;
    lay->num_gpus = G;
    lay->experts = E;
    lay->slots_per_rank = S;
    lay->physical = G * S;
    lay->phy2log = moemap_malloc((size_t)L * (size_t)lay->physical * sizeof(int));
    if (!lay->phy2log) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
        goto done;
    }
    long padded = 0;
    for (int l = 0; l < L; l++) {
        count_layer(p, l, per_gpu, per_expert, has, err);
        fill_layer(p, has, per_expert, S, lay->phy2log + (size_t)l * lay->physical, &padded);
    }
    info->slots_per_rank = S;
    info->physical_experts = lay->physical;
    info->redundant_experts = lay->physical - E;
    if (unequal > 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "equalised the shares of %ld replicas", unequal);
        add_note(info, buf);
    }
    if (padded > 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "filled %ld empty slots with extra replicas", padded);
        add_note(info, buf);
    }
    info->approximated = unequal > 0 || padded > 0;
done:
    if (rc)
        export_layout_clear(lay);
    moemap_free(per_gpu);
    moemap_free(per_expert);
    moemap_free(has);
    return rc;
}

/* moemap.placement/v1 goes through the placement writer; to get it as a string it is
 * written to a private temporary file and read back. */
static int moemap_format_string(const moemap_placement *p, char **out, moemap_error *err)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/moemap-export-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return moemap_error_set(err, MOEMAP_EIO, "export: cannot create a temporary file in %s",
                                dir && *dir ? dir : "/tmp");
    close(fd);
    int rc = moemap_placement_write(p, path, err);
    FILE *f = rc ? NULL : fopen(path, "rb");
    if (!rc && !f)
        rc = moemap_error_set(err, MOEMAP_EIO, "export: cannot reopen %s", path);
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        char *buf = n >= 0 ? moemap_malloc((size_t)n + 1) : NULL;
        if (!buf)
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
        else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            moemap_free(buf);
            rc = moemap_error_set(err, MOEMAP_EIO, "export: cannot read back %s", path);
        } else {
            buf[n] = '\0';
            *out = buf;
        }
        fclose(f);
    }
    remove(path);
    return rc;
}

static json_t *build_doc(const moemap_placement *p, moemap_export_format fmt,
                         const moemap_export_params *params, moemap_export_info *info,
                         moemap_error *err)
{
    export_layout lay;
    if (export_layout_build(p, params->approximate, &lay, info, err) != 0)
        return NULL;
    json_t *doc = fmt == MOEMAP_EXPORT_SGLANG ? export_sglang_json(p, &lay, params, err)
                                              : export_vllm_json(p, &lay, err);
    export_layout_clear(&lay);
    return doc;
}

int moemap_export_to_string(const moemap_placement *p, moemap_export_format fmt,
                            const moemap_export_params *params, char **out,
                            moemap_export_info *info, moemap_error *err)
{
    moemap_export_params defaults = moemap_export_default_params();
    moemap_export_info scratch;
    if (!out)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: no output");
    *out = NULL;
    if (!params)
        params = &defaults;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    if (!p)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: no placement");
    if (fmt == MOEMAP_EXPORT_MOEMAP)
        return moemap_format_string(p, out, err);
    if (fmt != MOEMAP_EXPORT_SGLANG && fmt != MOEMAP_EXPORT_VLLM)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: unknown format %d", (int)fmt);
    json_t *doc = build_doc(p, fmt, params, info, err);
    if (!doc)
        return err && err->code ? err->code : MOEMAP_ENOMEM;
    /* Compact rows: a DeepSeek-V3 map is 61 x 288 numbers. */
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!s)
        return moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
    *out = moemap_strdup(s);
    free(s);
    if (!*out)
        return moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
    return 0;
}

int moemap_export_write(const moemap_placement *p, moemap_export_format fmt,
                        const moemap_export_params *params, const char *path,
                        moemap_export_info *info, moemap_error *err)
{
    if (!path)
        return moemap_error_set(err, MOEMAP_EINVAL, "export: no output path");
    if (fmt == MOEMAP_EXPORT_MOEMAP) {
        if (info)
            memset(info, 0, sizeof *info);
        return moemap_placement_write(p, path, err);
    }
    char *s = NULL;
    int rc = moemap_export_to_string(p, fmt, params, &s, info, err);
    if (rc)
        return rc;
    /* Temporary file renamed into place: a failed export never leaves half a map. */
    size_t n = strlen(s);
    char *line = moemap_realloc(s, n + 2);
    if (!line) {
        moemap_free(s);
        return moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
    }
    line[n] = '\n';
    rc = moemap_outfile_write(path, line, n + 1, err);
    moemap_free(line);
    return rc;
}
