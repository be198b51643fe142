"""A reference of DeepSeek's EPLB (github.com/deepseek-ai/EPLB, eplb.py), written in
numpy from its description, for the tests to compare moemap.rebalance_experts with:

  1. hierarchical when num_groups % num_nodes == 0: groups of consecutive experts are
     packed onto nodes (equal groups per node; heaviest group first, each to the
     lightest node with room), else one node and one group;
  2. inside each node, every expert gets one copy and each further copy goes to the
     expert with the highest load per copy (the first on ties);
  3. the node's copies (load = the expert's load / its copies) are packed onto its GPUs,
     heaviest first, each to the lightest GPU with a free slot (equal slots per GPU).

Returns phy2log [layers, num_replicas]; only the layout matters for the comparison.
"""

import numpy as np


def _pack(weights, packs, per_pack):
    """Balanced packing: item i -> (pack, rank in pack)."""
    order = np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    load = np.zeros(packs)
    fill = np.zeros(packs, dtype=np.int64)
    where = np.empty((len(weights), 2), dtype=np.int64)
    for i in order:
        room = np.flatnonzero(fill < per_pack)
        p = room[np.argmin(load[room])]
        where[i] = (p, fill[p])
        load[p] += weights[i]
        fill[p] += 1
    return where


def rebalance_phy2log(weight, num_replicas, num_groups, num_nodes, num_gpus):
    weight = np.asarray(weight, dtype=np.float64)
    L, E = weight.shape
    if num_groups % num_nodes != 0:
        num_groups, num_nodes = 1, 1
    gsize = E // num_groups
    per_node_phys = num_replicas // num_nodes
    gpus_per_node = num_gpus // num_nodes
    S = num_replicas // num_gpus
    out = np.empty((L, num_replicas), dtype=np.int64)
    for l in range(L):
        w = weight[l]
        gw = w.reshape(num_groups, gsize).sum(axis=1)
        gwhere = _pack(gw, num_nodes, num_groups // num_nodes)
        for n in range(num_nodes):
            groups = sorted(np.flatnonzero(gwhere[:, 0] == n), key=lambda g: gwhere[g, 1])
            experts = [g * gsize + k for g in groups for k in range(gsize)]
            cnt = np.ones(len(experts), dtype=np.int64)
            phys = list(range(len(experts)))
            wl = w[experts]
            for _ in range(per_node_phys - len(experts)):
                i = int(np.argmax(wl / cnt))
                phys.append(i)
                cnt[i] += 1
            where = _pack([wl[i] / cnt[i] for i in phys], gpus_per_node, S)
            for item, i in enumerate(phys):
                p, r = where[item]
                out[l, n * per_node_phys + p * S + r] = experts[i]
    return out


def max_gpu_tokens(weight, phy2log, num_gpus):
    """Per layer: the busiest GPU's tokens when each expert's tokens are split evenly
    over its copies (what the engines do)."""
    weight = np.asarray(weight, dtype=np.float64)
    L, R = phy2log.shape
    out = np.empty(L)
    for l in range(L):
        cnt = np.bincount(phy2log[l], minlength=weight.shape[1])
        per = weight[l][phy2log[l]] / cnt[phy2log[l]]
        out[l] = per.reshape(num_gpus, R // num_gpus).sum(axis=1).max()
    return out
