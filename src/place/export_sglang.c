/*
 * export_sglang.c — SGLang's --init-expert-location document: exactly one key,
 * "physical_to_logical_map", shape [all model layers][physical slots]. SGLang indexes
 * the map by model layer (ExpertLocationMetadata is built for num_hidden_layers rows)
 * and reads only the MoE rows; dense rows still have to hold valid expert ids, so they
 * get the trivial row (slot p -> expert p mod experts) that SGLang itself builds for
 * --init-expert-location trivial.
 */
#include "export_layout.h"
#include "json_util.h"

json_t *export_sglang_json(const moemap_placement *p, const export_layout *lay,
                           const moemap_export_params *params, moemap_error *err)
{
    const moemap_model *m = params->model;
    int rows = 0;
    for (int l = 0; l < p->num_layers; l++)
        rows = p->layers[l].layer + 1 > rows ? p->layers[l].layer + 1 : rows;
    int last = rows - 1;
    if (m) {
        if (m->experts != p->experts) {
            moemap_error_set(err, MOEMAP_EINVAL,
                             "export: model %s has %d routed experts, the placement %d",
                             m->name ? m->name : "?", m->experts, p->experts);
            return NULL;
        }
        rows = m->num_layers;
    } else if (params->num_model_layers > 0) {
        rows = params->num_model_layers;
    }
    if (last >= rows) {
        moemap_error_set(err, MOEMAP_EINVAL,
                         "export: the placement has layer %d but the model has %d layers",
                         last, rows);
        return NULL;
    }
    /* Which placement entry serves each model layer. */
    int *entry = moemap_malloc((size_t)rows * sizeof(int));
    int *trivial = moemap_malloc((size_t)lay->physical * sizeof(int));
    json_t *map = json_array(), *root = json_object();
    if (!entry || !trivial || !map || !root)
        goto oom;
    for (int r = 0; r < rows; r++)
        entry[r] = -1;
    for (int l = 0; l < p->num_layers; l++) {
        int id = p->layers[l].layer;
        if (id < 0 || entry[id] >= 0) {
            moemap_error_set(err, MOEMAP_EINVAL, "export: layer id %d is %s", id,
                             id < 0 ? "negative" : "placed twice");
            goto fail;
        }
        if (m && !moemap_model_is_moe_layer(m, id)) {
            moemap_error_set(err, MOEMAP_EINVAL,
                             "export: layer %d is a dense layer of model %s but the "
                             "placement places experts on it", id, m->name ? m->name : "?");
            goto fail;
        }
        entry[id] = l;
    }
    for (int i = 0; i < lay->physical; i++)
        trivial[i] = i % p->experts;
    for (int r = 0; r < rows; r++) {
        if (entry[r] < 0 && m && moemap_model_is_moe_layer(m, r)) {
            moemap_error_set(err, MOEMAP_EINVAL,
                             "export: layer %d is an MoE layer of model %s but the "
                             "placement has no entry for it", r, m->name ? m->name : "?");
            goto fail;
        }
        const int *row = entry[r] >= 0 ? lay->phy2log + (size_t)entry[r] * lay->physical
                                       : trivial;
        if (json_array_append_new(map, mm_json_int_array(row, (size_t)lay->physical)) != 0)
            goto oom;
    }
    if (json_object_set_new(root, "physical_to_logical_map", map) != 0) {
        map = NULL;
        goto oom;
    }
    moemap_free(entry);
    moemap_free(trivial);
    return root;
oom:
    moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
fail:
    moemap_free(entry);
    moemap_free(trivial);
    json_decref(map);
    json_decref(root);
    return NULL;
}
