/*
 * place_util.c — see place_util.h.
 */
#include "place_util.h"

#include <stdlib.h>

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
    double sum = 0;
    for (int b = 0; b < pb->num_batches; b++) {
        const double *c = &pb->counts[(size_t)b * E];
        for (int g = 0; g < G; g++)
            gpu_us[g] = 0;
        for (int i = 0; i < r->n; i++) {
            double n = r->reps[i].share * c[r->reps[i].expert];
            gpu_us[r->reps[i].gpu] += moemap_cluster_expert_us(pb->cluster, r->reps[i].gpu, n);
        }
        double m = 0;
        for (int g = 0; g < G; g++)
            m = gpu_us[g] > m ? gpu_us[g] : m;
        sum += m;
    }
    return sum / (pb->num_batches > 0 ? pb->num_batches : 1);
}

int place_same_curve(const moemap_curve *a, const moemap_curve *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->tokens[i] != b->tokens[i] || a->us[i] != b->us[i])
            return 0;
    return 1;
}
