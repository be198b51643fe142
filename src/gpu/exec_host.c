/*
 * exec_host.c — the executor's pieces that need no GPU: default parameters, result
 * allocation and summaries (straggler mean/p90, prediction errors), token-level routing
 * expanded from aggregate loads, and the CPU float64 reference of one expert used by the
 * correctness check. Built in every configuration (CMakeLists.txt, MOEMAP_GPU_HOST_SOURCES)
 * so the CLI and CI can use and test it without CUDA.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "base_util.h"

moemap_exec_params moemap_exec_default_params(void)
{
    return (moemap_exec_params){.layers = 4, .iterations = 10, .warmup = 2,
                                .tokens_per_iter = 4096, .seed = 1};
}

void moemap_exec_check_params(moemap_exec_params *p)
{
    p->check = 1;
    p->tokens_per_iter = 256;
    p->iterations = 2;
    p->layers = 2;
    p->warmup = 1;
}

int moemap_exec_check_passed(const moemap_exec_result *r)
{
    return r->check_rel_err <= 1e-2 && r->check_max_rel_err <= 3e-2 &&
           r->check_tag_errors == 0 && r->check_rows == r->check_rows_expected;
}

void moemap_exec_result_free(moemap_exec_result *r)
{
    if (!r)
        return;
    moemap_free(r->layer_ids);
    moemap_free(r->compute_us);
    moemap_free(r->predicted_us);
    moemap_free(r->predicted_dispatch_us);
    moemap_free(r->dispatch_us);
    moemap_free(r->wait_us);
    moemap_free(r->combine_us);
    moemap_free(r->layer_us);
    moemap_free(r->rows);
    moemap_free(r->replicas_active);
    moemap_free(r->device_names);
    moemap_free(r->device_sms);
    moemap_free(r);
}

int exec_result_devices_alloc(moemap_exec_result *r, moemap_error *err)
{
    size_t G = (size_t)(r->num_gpus > 0 ? r->num_gpus : 1);
    r->device_names = moemap_calloc(G, sizeof *r->device_names);
    r->device_sms = moemap_calloc(G, sizeof *r->device_sms);
    if (!r->device_names || !r->device_sms)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for results");
    return 0;
}

int exec_result_alloc(int num_gpus, int layers, int iterations, moemap_exec_result **out,
                      moemap_error *err)
{
    *out = NULL;
    moemap_exec_result *r = moemap_calloc(1, sizeof *r);
    if (!r)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for results");
    size_t n = (size_t)num_gpus * layers * iterations;
    r->num_gpus = num_gpus;
    r->layers = layers;
    r->iterations = iterations;
    r->layer_ids = moemap_calloc((size_t)layers, sizeof(int));
    r->compute_us = moemap_calloc(n, sizeof(double));
    r->predicted_us = moemap_calloc(n, sizeof(double));
    r->predicted_dispatch_us = moemap_calloc(n, sizeof(double));
    r->dispatch_us = moemap_calloc(n, sizeof(double));
    r->wait_us = moemap_calloc(n, sizeof(double));
    r->combine_us = moemap_calloc(n, sizeof(double));
    r->layer_us = moemap_calloc(n, sizeof(double));
    r->rows = moemap_calloc(n, sizeof(long));
    r->replicas_active = moemap_calloc(n, sizeof(long));
    if (!r->layer_ids || !r->compute_us || !r->predicted_us || !r->predicted_dispatch_us ||
        !r->dispatch_us || !r->wait_us || !r->combine_us || !r->layer_us || !r->rows ||
        !r->replicas_active || exec_result_devices_alloc(r, NULL)) {
        moemap_exec_result_free(r);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for results");
    }
    *out = r;
    return 0;
}

static double median_of(double *x, size_t n)
{
    if (n == 0)
        return 0;
    qsort(x, n, sizeof *x, mm_cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

void moemap_exec_summary_clear(moemap_exec_summary *s)
{
    if (!s)
        return;
    moemap_free(s->gpu_compute_mean_us);
    moemap_free(s->gpu_pred_mean_us);
    moemap_free(s->gpu_rows_mean);
    moemap_free(s->gpu_mean_err);
    memset(s, 0, sizeof *s);
}

int exec_summary_alloc(moemap_exec_summary *s, int num_gpus, moemap_error *err)
{
    memset(s, 0, sizeof *s);
    size_t G = (size_t)(num_gpus > 0 ? num_gpus : 1);
    s->num_gpus = num_gpus;
    s->gpu_compute_mean_us = moemap_calloc(G, sizeof(double));
    s->gpu_pred_mean_us = moemap_calloc(G, sizeof(double));
    s->gpu_rows_mean = moemap_calloc(G, sizeof(double));
    s->gpu_mean_err = moemap_calloc(G, sizeof(double));
    if (!s->gpu_compute_mean_us || !s->gpu_pred_mean_us || !s->gpu_rows_mean ||
        !s->gpu_mean_err) {
        moemap_exec_summary_clear(s);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory summarising");
    }
    return 0;
}

int moemap_exec_summarize(const moemap_exec_result *r, moemap_exec_summary *s,
                          moemap_error *err)
{
    memset(s, 0, sizeof *s);
    if (!r || r->num_gpus < 1 || r->layers < 1 || r->iterations < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "empty executor result");
    int G = r->num_gpus;
    int rc = exec_summary_alloc(s, G, err);
    if (rc)
        return rc;
    size_t samples = (size_t)r->layers * r->iterations;
    double *strag = moemap_malloc(samples * sizeof(double));
    double *pstrag = moemap_malloc(samples * sizeof(double));
    double *layer = moemap_malloc(samples * sizeof(double));
    double *player = moemap_malloc(samples * sizeof(double));
    double *errs = moemap_malloc(samples * G * sizeof(double));
    double *gerr = moemap_malloc((size_t)G * sizeof(double));
    if (!strag || !pstrag || !layer || !player || !errs || !gerr) {
        moemap_free(strag), moemap_free(pstrag), moemap_free(layer), moemap_free(errs);
        moemap_free(player), moemap_free(gerr);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory summarising");
    }
    size_t ne = 0;
    const double *pd = r->predicted_dispatch_us;
    for (size_t i = 0; i < samples; i++) {
        double m = 0, pm = 0, lm = 0, plm = 0;
        for (int g = 0; g < G; g++) {
            size_t at = i * G + g;
            double c = r->compute_us[at], p = r->predicted_us[at];
            double pl = pd ? p + 2 * pd[at] : 0; /* dispatch + compute + combine */
            m = c > m ? c : m;
            pm = p > pm ? p : pm;
            plm = pl > plm ? pl : plm;
            s->pred_dispatch_mean_us += pd ? pd[at] : 0;
            lm = r->layer_us[at] > lm ? r->layer_us[at] : lm;
            s->dispatch_mean_us += r->dispatch_us[at];
            s->combine_mean_us += r->combine_us[at];
            s->wait_mean_us += r->wait_us[at];
            s->gpu_compute_mean_us[g] += c;
            s->gpu_pred_mean_us[g] += p;
            s->gpu_rows_mean[g] += (double)r->rows[at];
            if (c > 0 && p > 0)
                errs[ne++] = fabs(p - c) / c;
        }
        strag[i] = m;
        pstrag[i] = pm;
        layer[i] = lm;
        player[i] = plm;
    }
    double inv = 1.0 / (double)samples;
    s->pred_dispatch_mean_us *= inv / G;
    s->dispatch_mean_us *= inv / G;
    s->combine_mean_us *= inv / G;
    s->wait_mean_us *= inv / G;
    for (int g = 0; g < G; g++) {
        s->gpu_compute_mean_us[g] *= inv;
        s->gpu_pred_mean_us[g] *= inv;
        s->gpu_rows_mean[g] *= inv;
    }
    s->straggler_mean_us = moemap_mean(strag, samples);
    s->straggler_p90_us = moemap_quantile(strag, samples, 0.9);
    s->pred_straggler_mean_us = moemap_mean(pstrag, samples);
    s->pred_straggler_p90_us = moemap_quantile(pstrag, samples, 0.9);
    s->layer_mean_us = moemap_mean(layer, samples);
    s->pred_layer_mean_us = pd ? moemap_mean(player, samples) : 0;
    s->layer_err = pd && s->layer_mean_us > 0
                       ? (s->pred_layer_mean_us - s->layer_mean_us) / s->layer_mean_us : 0;
    double a2a = s->dispatch_mean_us + s->combine_mean_us;
    s->dispatch_err = pd && a2a > 0 ? (2 * s->pred_dispatch_mean_us - a2a) / a2a : 0;
    s->median_abs_err = median_of(errs, ne);
    for (int g = 0; g < G; g++) {
        double c = s->gpu_compute_mean_us[g];
        s->gpu_mean_err[g] = c > 0 ? (s->gpu_pred_mean_us[g] - c) / c : 0;
        gerr[g] = fabs(s->gpu_mean_err[g]);
    }
    s->median_gpu_mean_abs_err = median_of(gerr, (size_t)G);
    s->straggler_err = s->straggler_mean_us > 0
                           ? (s->pred_straggler_mean_us - s->straggler_mean_us) /
                                 s->straggler_mean_us
                           : 0;
    moemap_free(strag), moemap_free(pstrag), moemap_free(layer), moemap_free(errs);
    moemap_free(player), moemap_free(gerr);
    return 0;
}

/* Largest-remainder rounding of x[n] >= 0 to integers summing to `total`. */
static void round_to_total(const double *x, int n, long total, long *out, double *rem)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += x[i] > 0 ? x[i] : 0;
    long got = 0;
    for (int i = 0; i < n; i++) {
        double v = sum > 0 && x[i] > 0 ? x[i] * (double)total / sum : 0;
        out[i] = (long)floor(v);
        rem[i] = v - (double)out[i];
        got += out[i];
    }
    while (got < total) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (rem[i] >= 0 && (best < 0 || rem[i] > rem[best]))
                best = i;
        if (best < 0)
            break;
        out[best]++;
        rem[best] = -1;
        got++;
    }
}

int moemap_exec_routing_from_loads(const moemap_loads *ld, int top_k, moemap_routing **out,
                                   moemap_error *err)
{
    *out = NULL;
    if (top_k <= 0)
        top_k = ld->top_k;
    if (top_k <= 0 || top_k > ld->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "loads: top_k %d unusable for %d experts (give the model)",
                                top_k, ld->experts);
    if (ld->experts > 32767)
        return moemap_error_set(err, MOEMAP_ERANGE, "loads: %d experts (at most 32767)",
                                ld->experts);
    long total = 0;
    for (int b = 0; b < ld->num_batches; b++) {
        if (!(ld->batch_tokens[b] >= 1))
            return moemap_error_set(err, MOEMAP_EINVAL, "loads: batch %d has no tokens", b);
        total += (long)floor(ld->batch_tokens[b] + 0.5);
    }
    moemap_routing *rt = moemap_calloc(1, sizeof *rt);
    if (!rt)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    int E = ld->experts, L = ld->num_layers, k = top_k;
    rt->experts = E;
    rt->top_k = k;
    rt->num_layers = L;
    rt->num_tokens = total;
    rt->num_sequences = ld->num_batches;
    rt->layer_ids = moemap_malloc((size_t)L * sizeof(int));
    rt->ids = moemap_malloc((size_t)L * total * k * sizeof(int16_t));
    rt->weights = moemap_malloc((size_t)L * total * k * sizeof(float));
    rt->seq_start = moemap_malloc(((size_t)ld->num_batches + 1) * sizeof(long));
    long *cnt = moemap_malloc((size_t)E * sizeof(long));
    double *rem = moemap_malloc((size_t)E * sizeof(double));
    int16_t *seq = moemap_malloc(((size_t)total * k + 1) * sizeof(int16_t));
    if (!rt->layer_ids || !rt->ids || !rt->weights || !rt->seq_start || !cnt || !rem || !seq) {
        moemap_free(cnt), moemap_free(rem), moemap_free(seq);
        moemap_routing_free(rt);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory expanding loads");
    }
    memcpy(rt->layer_ids, ld->layer_ids, (size_t)L * sizeof(int));
    long t0 = 0;
    for (int b = 0; b < ld->num_batches; b++) {
        long T = (long)floor(ld->batch_tokens[b] + 0.5);
        rt->seq_start[b] = t0;
        for (int l = 0; l < L; l++) {
            const double *c = &MOEMAP_LOADS_AT(ld, b, l, 0);
            /* An expert is chosen at most once per token: cap at T, then fill T*k choices.
             * Experts laid out in order, dealt column-wise (choice j of token t is position
             * j*T + t), so an expert's run of at most T positions never meets one token
             * twice. */
            round_to_total(c, E, T * k, cnt, rem);
            long over = 0;
            for (int e = 0; e < E; e++)
                if (cnt[e] > T) {
                    over += cnt[e] - T;
                    cnt[e] = T;
                }
            for (int e = 0; over > 0 && e < E; e++) {
                long room = T - cnt[e];
                long add = room < over ? room : over;
                cnt[e] += add;
                over -= add;
            }
            long pos = 0;
            for (int e = 0; e < E; e++)
                for (long i = 0; i < cnt[e]; i++)
                    seq[pos++] = (int16_t)e;
            for (long t = 0; t < T; t++)
                for (int j = 0; j < k; j++) {
                    size_t at = ((size_t)l * total + t0 + t) * k + j;
                    rt->ids[at] = seq[(long)j * T + t];
                    rt->weights[at] = 1.0f / (float)k;
                }
        }
        t0 += T;
    }
    rt->seq_start[ld->num_batches] = total;
    moemap_free(cnt), moemap_free(rem), moemap_free(seq);
    *out = rt;
    return 0;
}

float exec_weight_scale(int fan_in) { return (float)(1.0 / sqrt((double)fan_in)); }

void exec_ref_weights(uint64_t seed, int layer_id, int expert, int hidden, int inter,
                      float *wgu, float *wd)
{
    uint64_t sgu = exec_stream_id(EXEC_KIND_GATEUP, layer_id, expert);
    uint64_t sd = exec_stream_id(EXEC_KIND_DOWN, layer_id, expert);
    float agu = exec_weight_scale(hidden), ad = exec_weight_scale(inter);
    for (size_t i = 0; i < (size_t)2 * inter * hidden; i++)
        wgu[i] = exec_bf2f(exec_f2bf(exec_value(seed, sgu, i, agu)));
    for (size_t i = 0; i < (size_t)hidden * inter; i++)
        wd[i] = exec_bf2f(exec_f2bf(exec_value(seed, sd, i, ad)));
}

void exec_ref_expert(uint64_t seed, int layer_id, int expert, int hidden, int inter,
                     const float *x, double *y, double *h, const float *wgu, const float *wd)
{
    (void)seed, (void)layer_id, (void)expert;
    for (int i = 0; i < inter; i++) {
        double g = 0, u = 0;
        const float *rg = wgu + (size_t)i * hidden, *ru = wgu + (size_t)(inter + i) * hidden;
        for (int d = 0; d < hidden; d++) {
            g += (double)rg[d] * x[d];
            u += (double)ru[d] * x[d];
        }
        /* the GPU stores gate and up in bf16 before the activation */
        g = exec_bf2f(exec_f2bf((float)g));
        u = exec_bf2f(exec_f2bf((float)u));
        double a = g / (1.0 + exp(-g)) * u;
        h[i] = (double)exec_bf2f(exec_f2bf((float)a));
    }
    for (int d = 0; d < hidden; d++) {
        double acc = 0;
        const float *r = wd + (size_t)d * inter;
        for (int i = 0; i < inter; i++)
            acc += (double)r[i] * h[i];
        y[d] = acc;
    }
}
