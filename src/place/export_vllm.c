/*
 * export_vllm.c — the vLLM/EPLB-style document: "phy2log" [moe layers][physical slots],
 * "log2phy" [moe layers][experts][max replicas] padded with -1, "logcnt" [moe layers]
 * [experts], over MoE layers only, as returned by the EPLB rebalance function that vLLM
 * and DeepSeek publish. Two more keys make the file self-describing so it reads back:
 * "layers" (the model layer id of each row) and "num_ranks" (physical slots are split
 * over this many ranks, slot p on rank p / (physical / num_ranks)).
 */
#include "export_layout.h"

static int append_int(json_t *a, long v)
{
    return json_array_append_new(a, json_integer(v));
}

json_t *export_vllm_json(const moemap_placement *p, const export_layout *lay,
                         moemap_error *err)
{
    int E = lay->experts, P = lay->physical;
    int *cnt = moemap_calloc((size_t)lay->num_layers * (size_t)E, sizeof(int));
    json_t *root = json_object(), *phy = json_array(), *l2p = json_array();
    json_t *lc = json_array(), *ids = json_array();
    int bad = !cnt || !root || !phy || !l2p || !lc || !ids;
    int maxrep = 1;
    for (int l = 0; !bad && l < lay->num_layers; l++) {
        const int *row = lay->phy2log + (size_t)l * P;
        for (int s = 0; s < P; s++) {
            int c = ++cnt[(size_t)l * E + row[s]];
            maxrep = c > maxrep ? c : maxrep;
        }
    }
    for (int l = 0; !bad && l < lay->num_layers; l++) {
        const int *row = lay->phy2log + (size_t)l * P;
        json_t *prow = json_array(), *lrow = json_array(), *crow = json_array();
        bad |= !prow || !lrow || !crow;
        for (int s = 0; !bad && s < P; s++)
            bad |= append_int(prow, row[s]);
        for (int e = 0; !bad && e < E; e++) {
            json_t *slots = json_array();
            bad |= !slots;
            int k = 0;
            for (int s = 0; !bad && s < P; s++)
                if (row[s] == e) {
                    bad |= append_int(slots, s);
                    k++;
                }
            for (; !bad && k < maxrep; k++)
                bad |= append_int(slots, -1);
            bad |= json_array_append_new(lrow, slots);
            bad |= append_int(crow, cnt[(size_t)l * E + e]);
        }
        bad |= json_array_append_new(phy, prow);
        bad |= json_array_append_new(l2p, lrow);
        bad |= json_array_append_new(lc, crow);
        bad |= append_int(ids, p->layers[l].layer);
    }
    moemap_free(cnt);
    if (!bad) {
        bad |= json_object_set_new(root, "phy2log", phy);
        bad |= json_object_set_new(root, "log2phy", l2p);
        bad |= json_object_set_new(root, "logcnt", lc);
        bad |= json_object_set_new(root, "layers", ids);
        bad |= json_object_set_new(root, "num_ranks", json_integer(lay->num_gpus));
        if (bad) {
            json_decref(root);
            moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
            return NULL;
        }
        return root;
    }
    json_decref(phy);
    json_decref(l2p);
    json_decref(lc);
    json_decref(ids);
    json_decref(root);
    moemap_error_set(err, MOEMAP_ENOMEM, "export: out of memory");
    return NULL;
}
