/*
 * loads.c — the moemap_loads and moemap_routing containers: allocation, copy, per-layer
 * totals and lookups, plus the names of the workload input formats. Every importer and
 * the generator build their result through moemap_loads_create so the shape invariants
 * (counts sized batches x layers x experts, layer ids set) hold in one place.
 */
#include <string.h>
#include <strings.h>

#include "moemap/workload.h"
#include "workload_internal.h"

int moemap_loads_create(int experts, int top_k, int num_layers, int num_batches,
                        moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    if (experts <= 0 || num_layers <= 0 || num_batches <= 0 || top_k < 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "loads: bad shape (%d experts, %d layers, %d batches, top-k %d)",
                                experts, num_layers, num_batches, top_k);
    /* Refuse shapes whose count array would not fit in memory anyway (and whose size
     * would overflow size_t on 32-bit hosts): 2^31 doubles is 16 GiB. */
    double cells = (double)experts * (double)num_layers * (double)num_batches;
    if (cells > 2147483648.0)
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "loads: %d batches x %d layers x %d experts is too large",
                                num_batches, num_layers, experts);
    moemap_loads *ld = moemap_calloc(1, sizeof *ld);
    if (!ld)
        return moemap_error_set(err, MOEMAP_ENOMEM, "loads: out of memory");
    ld->experts = experts;
    ld->top_k = top_k;
    ld->num_layers = num_layers;
    ld->num_batches = num_batches;
    ld->layer_ids = moemap_malloc((size_t)num_layers * sizeof *ld->layer_ids);
    ld->batch_tokens = moemap_calloc((size_t)num_batches, sizeof *ld->batch_tokens);
    ld->counts = moemap_calloc((size_t)cells, sizeof *ld->counts);
    if (!ld->layer_ids || !ld->batch_tokens || !ld->counts) {
        moemap_loads_free(ld);
        return moemap_error_set(err, MOEMAP_ENOMEM, "loads: out of memory (%.0f counts)",
                                cells);
    }
    for (int l = 0; l < num_layers; l++)
        ld->layer_ids[l] = l;
    *out = ld;
    return 0;
}

void moemap_loads_free(moemap_loads *ld)
{
    if (!ld)
        return;
    moemap_free(ld->layer_ids);
    moemap_free(ld->batch_tokens);
    moemap_free(ld->counts);
    moemap_free(ld);
}

int moemap_loads_clone(const moemap_loads *ld, moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    if (!ld)
        return moemap_error_set(err, MOEMAP_EINVAL, "loads: clone of NULL");
    moemap_loads *c;
    int rc = moemap_loads_create(ld->experts, ld->top_k, ld->num_layers, ld->num_batches, &c,
                                 err);
    if (rc)
        return rc;
    memcpy(c->layer_ids, ld->layer_ids, (size_t)ld->num_layers * sizeof *ld->layer_ids);
    memcpy(c->batch_tokens, ld->batch_tokens, (size_t)ld->num_batches * sizeof *ld->batch_tokens);
    memcpy(c->counts, ld->counts,
           (size_t)ld->num_batches * (size_t)ld->num_layers * (size_t)ld->experts *
               sizeof *ld->counts);
    *out = c;
    return 0;
}

void moemap_loads_layer_total(const moemap_loads *ld, int l, double *out)
{
    for (int e = 0; e < ld->experts; e++)
        out[e] = 0.0;
    for (int b = 0; b < ld->num_batches; b++) {
        const double *row = &MOEMAP_LOADS_AT(ld, b, l, 0);
        for (int e = 0; e < ld->experts; e++)
            out[e] += row[e];
    }
}

int moemap_loads_find_layer(const moemap_loads *ld, int layer_id)
{
    for (int l = 0; ld && l < ld->num_layers; l++)
        if (ld->layer_ids[l] == layer_id)
            return l;
    return -1;
}

void moemap_routing_free(moemap_routing *rt)
{
    if (!rt)
        return;
    moemap_free(rt->layer_ids);
    moemap_free(rt->ids);
    moemap_free(rt->weights);
    moemap_free(rt->seq_start);
    moemap_free(rt);
}

moemap_read_params moemap_read_default_params(void)
{
    return (moemap_read_params){.format = MOEMAP_FORMAT_AUTO, .batch_tokens = 512,
                                .experts = 0, .top_k = 0};
}

static const char *const format_names[] = {"auto", "esft", "sglang", "loads", "csv"};

const char *moemap_workload_format_name(moemap_workload_format f)
{
    return (int)f >= 0 && (int)f < (int)(sizeof format_names / sizeof format_names[0])
               ? format_names[f]
               : "unknown";
}

int moemap_workload_format_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof format_names / sizeof format_names[0]); i++)
        if (!strcasecmp(name, format_names[i]))
            return i;
    if (!strcasecmp(name, "moemap.loads/v1") || !strcasecmp(name, "json"))
        return MOEMAP_FORMAT_LOADS;
    return -1;
}
