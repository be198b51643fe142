/*
 * place_util.c — see place_util.h.
 */
#include "place_util.h"

#include <stdlib.h>

#include "moemap/eval.h"

void place_even_quota(int num_gpus, const int *slots, int experts, int *quota)
{
    for (int g = 0; g < num_gpus; g++)
        quota[g] = 0;
    int remaining = experts;
    while (remaining > 0) {
        int open = 0;
        for (int g = 0; g < num_gpus; g++)
            open += quota[g] < slots[g];
        if (open == 0)
            return; /* not enough slots: the caller checked, nothing more to give */
        int each = remaining / open;
        if (each == 0) {
            for (int g = 0; g < num_gpus && remaining > 0; g++)
                if (quota[g] < slots[g]) {
                    quota[g]++;
                    remaining--;
                }
            continue;
        }
        for (int g = 0; g < num_gpus; g++) {
            int room = slots[g] - quota[g];
            int give = room < each ? room : each;
            if (give > 0) {
                quota[g] += give;
                remaining -= give;
            }
        }
    }
}

/* qsort has no context argument: the weights travel in the sorted records. */
typedef struct keyed {
    double w;
    int i;
} keyed;

static int cmp_keyed_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

void place_sort_desc(const double *weight, int n, int *order)
{
    keyed *k = moemap_malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    if (!k) {
        /* Without memory, fall back to insertion sort in place (same order). */
        for (int i = 0; i < n; i++)
            order[i] = i;
        for (int i = 1; i < n; i++) {
            int v = order[i], j = i - 1;
            while (j >= 0 && (weight[order[j]] < weight[v] ||
                              (weight[order[j]] == weight[v] && order[j] > v))) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = v;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        k[i].w = weight[i];
        k[i].i = i;
    }
    qsort(k, (size_t)n, sizeof *k, cmp_keyed_desc);
    for (int i = 0; i < n; i++)
        order[i] = k[i].i;
    moemap_free(k);
}

double place_layer_mean_us(const place_problem *pb, const place_result *r, double *gpu_us)
{
    int G = pb->num_gpus, E = pb->experts;
    const moemap_cluster *c = pb->measured ? pb->measured : pb->cluster;
    /* the whole layer unless compute only: the measured curves plus the full dispatch and
     * combine model (sent rows, latency, per-GPU rows), not the search's linear part */
    int a2a = pb->measured && !pb->params->a2a.off;
    moemap_layer_placement lp = {pb->layer_id, r->n, r->reps};
    double sum = 0;
    for (int b = 0; b < pb->num_batches; b++) {
        const double *cnt = &pb->counts[(size_t)b * E];
        double m = moemap_eval_layer_batch(c, &lp, cnt, E, gpu_us);
        if (a2a) {
            m = 0;
            double *t = gpu_us + G; /* dispatch of each GPU */
            moemap_a2a_layer_batch(c, &lp, cnt, E, pb->batch_tokens[b], &pb->params->a2a, t);
            for (int g = 0; g < G; g++)
                m = gpu_us[g] + 2 * t[g] > m ? gpu_us[g] + 2 * t[g] : m;
        }
        sum += m;
    }
    return sum / (pb->num_batches > 0 ? pb->num_batches : 1);
}

