/*
 * exec_check.c — the executor's independent reference: for one rank, iteration and
 * layer, recomputes every local token's MoE output on the CPU in float64 from the same
 * deterministic weights and hidden states (exec_value), without looking at the plan's
 * dispatch (experts come straight from the routing trace), and compares with what came
 * back from the GPUs. Also checks the row tags: each (token, choice) row must come back
 * exactly once, to the place it left from.
 */
#include <math.h>
#include <string.h>

#include "exec_check.h"

/* Accumulates the reference of this rank's tokens, one expert at a time so that only one
 * expert's weights are materialised. */
int exec_check_layer(const exec_check_in *in, exec_check_acc *acc, moemap_error *err)
{
    int H = in->hidden, I = in->inter, k = in->rt->top_k;
    long n = in->tok_count;
    const moemap_routing *rt = in->rt;
    const int16_t *ids = rt->ids + (size_t)in->route_layer * rt->num_tokens * k;
    const float *wts = rt->weights + (size_t)in->route_layer * rt->num_tokens * k;
    long N = rt->num_tokens;
    long base = (long)(((long long)in->iter * in->tokens_per_iter) % N);
    double *ref = moemap_calloc((size_t)n * H, sizeof(double));
    float *x = moemap_malloc((size_t)H * sizeof(float));
    double *y = moemap_malloc((size_t)H * sizeof(double));
    double *h = moemap_malloc((size_t)I * sizeof(double));
    float *wgu = moemap_malloc((size_t)2 * I * H * sizeof(float));
    float *wd = moemap_malloc((size_t)H * I * sizeof(float));
    unsigned char *used = moemap_calloc((size_t)rt->experts, 1);
    int rc = 0;
    if (!ref || !x || !y || !h || !wgu || !wd || !used) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for the CPU reference");
        goto done;
    }
    for (long t = 0; t < n; t++) {
        long tok = (base + in->tok_begin + t) % N;
        for (int j = 0; j < k; j++)
            used[ids[tok * k + j]] = 1;
    }
    uint64_t xs = exec_stream_id(EXEC_KIND_HIDDEN, 0, 0);
    for (int e = 0; e < rt->experts; e++) {
        if (!used[e])
            continue;
        exec_ref_weights(in->seed, in->layer_id, e, H, I, wgu, wd);
        for (long t = 0; t < n; t++) {
            long tok = (base + in->tok_begin + t) % N;
            for (int j = 0; j < k; j++) {
                if (ids[tok * k + j] != e)
                    continue;
                for (int d = 0; d < H; d++)
                    x[d] = exec_bf2f(exec_f2bf(
                        exec_value(in->seed, xs, (uint64_t)(in->tok_begin + t) * H + d, 1.0f)));
                exec_ref_expert(in->seed, in->layer_id, e, H, I, x, y, h, wgu, wd);
                double w = wts[tok * k + j];
                for (int d = 0; d < H; d++)
                    ref[t * H + d] += w * y[d];
            }
        }
    }
    for (long t = 0; t < n; t++) {
        double e2 = 0, r2 = 0;
        for (int d = 0; d < H; d++) {
            double o = in->out[t * H + d], r = ref[t * H + d];
            if (!isfinite(o))
                o = 1e300; /* a NaN or Inf output must fail, never compare as "close" */
            e2 += (o - r) * (o - r);
            r2 += r * r;
        }
        acc->err2 += e2;
        acc->ref2 += r2;
        double rel = r2 > 0 ? sqrt(e2 / r2) : sqrt(e2);
        if (rel > acc->max_rel)
            acc->max_rel = rel;
    }
done:
    moemap_free(ref), moemap_free(x), moemap_free(y), moemap_free(h);
    moemap_free(wgu), moemap_free(wd), moemap_free(used);
    return rc;
}

void exec_check_tags(const int32_t *got, const int32_t *want, long n, exec_check_acc *acc)
{
    for (long i = 0; i < n; i++) {
        if (got[i] == want[i])
            acc->rows_ok++;
        else
            acc->tag_errors++;
    }
}
