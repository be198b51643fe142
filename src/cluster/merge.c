/*
 * merge.c — one cluster from several measured ones. The profiler writes one file per run
 * (per machine, per SM limit); a cluster of unequal GPUs measured for real — a full H200
 * next to one limited to 66 SMs — is their concatenation. Each GPU keeps exactly the cost
 * it had in its own file: its effective curve becomes its own curve.
 */
#include "moemap/cluster.h"

#include <string.h>

int moemap_cluster_merge(const moemap_cluster *const *parts, int num_parts, int one_node,
                         int slots, moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    if (num_parts < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "merge: no clusters to merge");
    long total = 0;
    for (int i = 0; i < num_parts; i++) {
        const moemap_cluster *p = parts[i];
        if (i > 0 && (p->hidden != parts[0]->hidden ||
                      p->intermediate != parts[0]->intermediate ||
                      strcmp(p->dtype, parts[0]->dtype) != 0))
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "merge: cluster %d was measured for experts of hidden %d, "
                                    "intermediate %d, %s, but cluster 0 for hidden %d, "
                                    "intermediate %d, %s", i, p->hidden, p->intermediate,
                                    p->dtype, parts[0]->hidden, parts[0]->intermediate,
                                    parts[0]->dtype);
        total += p->num_gpus;
    }
    if (total > 1000000)
        return moemap_error_set(err, MOEMAP_ERANGE, "merge: %ld GPUs is too many", total);
    moemap_cluster *c;
    int rc = moemap_cluster_create((int)total, &c, err);
    if (rc)
        return rc;
    const moemap_cluster *first = parts[0];
    c->hidden = first->hidden;
    c->intermediate = first->intermediate;
    memcpy(c->dtype, first->dtype, sizeof c->dtype);
    c->intra_node_GBps = first->intra_node_GBps;
    c->inter_node_GBps = first->inter_node_GBps;
    c->latency_us = first->latency_us;
    rc = moemap_curve_copy(&first->base, &c->base, err);
    int g = 0, node_base = 0;
    for (int i = 0; i < num_parts && !rc; i++) {
        const moemap_cluster *p = parts[i];
        int max_node = -1;
        for (int k = 0; k < p->num_gpus && !rc; k++, g++) {
            const moemap_gpu *src = &p->gpus[k];
            moemap_gpu *dst = &c->gpus[g];
            moemap_curve keep = {0};
            *dst = *src;
            dst->curve = keep;
            dst->id = g;
            dst->node = one_node ? 0 : node_base + src->node;
            if (slots >= 0)
                dst->slots = slots;
            max_node = src->node > max_node ? src->node : max_node;
            /* f_g as a curve holds the GPU's own or scaled cost and its cv. */
            rc = moemap_cluster_gpu_curve(p, k, &dst->curve, err);
            if (rc)
                break;
            if (dst->curve.n == 0)
                rc = moemap_error_set(err, MOEMAP_EINVAL, "merge: cluster %d GPU %d has no "
                                      "curve and its cluster no base curve", i, k);
            dst->speed = 1.0; /* the own curve is the cost; speed is unused */
        }
        node_base += max_node + 1;
    }
    if (!rc)
        rc = moemap_cluster_finalize(c, err);
    if (rc) {
        moemap_cluster_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
