/*
 * operating_point.c — per-iteration loads at a stated operating point (tokens per engine
 * iteration), see moemap_loads_at_operating_point in moemap/workload.h.
 *
 * Why: a placement is judged by the straggler of each engine iteration, and what an
 * iteration costs depends on its size (decode iterations sit on the flat floor of the
 * cost curve, prefill ones on its slope). An aggregate dump — SGLang's logical_count,
 * the form its recorder writes — holds the whole run as one "batch" of tens of seconds
 * of expert time, where every cost is linear; placed on that, a strategy balances tokens
 * and ignores the floor each copy pays. So aggregates become iterations of N tokens: the
 * expected counts, plus sampled iterations around them (binomial per expert) so the
 * tail of the straggler distribution is seen. Per-iteration inputs keep their own mix,
 * merged or scaled to N tokens.
 */
#include <math.h>
#include <string.h>

#include "moemap/workload.h"

#define DEFAULT_SAMPLES 32
#define DECODE_TOKENS_PER_GPU 128.0

moemap_operating_point moemap_operating_point_default(void)
{
    return (moemap_operating_point){.samples = DEFAULT_SAMPLES, .seed = 1};
}

double moemap_operating_point_default_tokens(int num_gpus)
{
    return DECODE_TOKENS_PER_GPU * (num_gpus > 0 ? num_gpus : 1);
}

int moemap_loads_is_aggregate(const moemap_loads *ld)
{
    return ld && ld->num_batches == 1;
}

/* A binomial(n, q) draw: exact enough for placement (normal approximation when the
 * variance is large, Poisson on the rare side otherwise). */
static double binomial(moemap_rng *rng, double n, double q)
{
    if (q <= 0 || n <= 0)
        return 0;
    if (q >= 1)
        return n;
    double var = n * q * (1 - q);
    double x;
    if (var >= 25)
        x = floor(n * q + sqrt(var) * moemap_rng_normal(rng) + 0.5);
    else if (q <= 0.5)
        x = (double)moemap_rng_poisson(rng, n * q);
    else
        x = n - (double)moemap_rng_poisson(rng, n * (1 - q));
    return x < 0 ? 0 : x > n ? n : x;
}

static int from_aggregate(const moemap_loads *in, const moemap_operating_point *op, int k,
                          moemap_loads **out, moemap_error *err)
{
    int E = in->experts, L = in->num_layers, S = op->samples > 0 ? op->samples : 0;
    moemap_loads *ld = NULL;
    int rc = moemap_loads_create(E, k, L, 1 + S, &ld, err);
    if (rc)
        return rc;
    memcpy(ld->layer_ids, in->layer_ids, (size_t)L * sizeof *ld->layer_ids);
    moemap_rng rng;
    moemap_rng_seed(&rng, op->seed);
    double N = op->batch_tokens;
    for (int l = 0; l < L; l++) {
        double sum = 0;
        for (int e = 0; e < E; e++)
            sum += MOEMAP_LOADS_AT(in, 0, l, e);
        if (sum <= 0)
            continue; /* a dense layer stays all zero */
        for (int e = 0; e < E; e++) {
            /* probability that one token picks e: k * (e's share of the token-slots) */
            double q = k * MOEMAP_LOADS_AT(in, 0, l, e) / sum;
            q = q > 1 ? 1 : q;
            MOEMAP_LOADS_AT(ld, 0, l, e) = N * q;
            for (int b = 1; b <= S; b++)
                MOEMAP_LOADS_AT(ld, b, l, e) = binomial(&rng, N, q);
        }
    }
    for (int b = 0; b <= S; b++)
        ld->batch_tokens[b] = N;
    *out = ld;
    return 0;
}

/* Consecutive batches merged until they hold >= N tokens, each group scaled to N. */
static int from_iterations(const moemap_loads *in, double N, moemap_loads **out,
                           moemap_error *err)
{
    int E = in->experts, L = in->num_layers, B = in->num_batches;
    int groups = 0;
    double acc = 0;
    for (int b = 0; b < B; b++) {
        acc += in->batch_tokens[b];
        if (acc >= N) {
            groups++;
            acc = 0;
        }
    }
    /* a tail of at least half an iteration counts too; with less than one iteration in
     * all, the whole input is one (scaled) iteration */
    int tail = acc >= 0.5 * N || groups == 0;
    moemap_loads *ld = NULL;
    int rc = moemap_loads_create(E, in->top_k, L, groups + tail, &ld, err);
    if (rc)
        return rc;
    memcpy(ld->layer_ids, in->layer_ids, (size_t)L * sizeof *ld->layer_ids);
    int g = 0;
    acc = 0;
    for (int b = 0; b < B && g < ld->num_batches; b++) {
        for (int l = 0; l < L; l++)
            for (int e = 0; e < E; e++)
                MOEMAP_LOADS_AT(ld, g, l, e) += MOEMAP_LOADS_AT(in, b, l, e);
        acc += in->batch_tokens[b];
        if (acc >= N || b == B - 1) {
            double scale = acc > 0 ? N / acc : 0;
            for (int l = 0; l < L; l++)
                for (int e = 0; e < E; e++)
                    MOEMAP_LOADS_AT(ld, g, l, e) *= scale;
            ld->batch_tokens[g] = N;
            g++;
            acc = 0;
        }
    }
    *out = ld;
    return 0;
}

int moemap_loads_at_operating_point(const moemap_loads *in, const moemap_operating_point *op,
                                    moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    if (!in || !op)
        return moemap_error_set(err, MOEMAP_EINVAL, "operating point: no loads");
    if (!(op->batch_tokens >= 1 && op->batch_tokens <= 1e8))
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "operating point: %g tokens per iteration is outside [1, 1e8]",
                                op->batch_tokens);
    if (op->samples < 0 || op->samples > 4096)
        return moemap_error_set(err, MOEMAP_ERANGE,
                                "operating point: %d sampled iterations is outside [0, 4096]",
                                op->samples);
    if (!moemap_loads_is_aggregate(in))
        return from_iterations(in, op->batch_tokens, out, err);
    int k = op->top_k > 0 ? op->top_k : in->top_k;
    if (k <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the loads are an aggregate with no token counts: say how many "
                                "experts each token picks with --top-k K or --model NAME");
    if (k > in->experts)
        return moemap_error_set(err, MOEMAP_ERANGE, "top-k %d > %d experts", k, in->experts);
    return from_aggregate(in, op, k, out, err);
}

int moemap_loads_at_operating_mix(const moemap_loads *in, const moemap_operating_point *op,
                                  const double *tokens, const double *weights, int n,
                                  moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    if (!in || !op || !tokens || n <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "operating point: nothing to mix");
    if (n == 1) {
        moemap_operating_point one = *op;
        one.batch_tokens = tokens[0];
        return moemap_loads_at_operating_point(in, &one, out, err);
    }
    if (!moemap_loads_is_aggregate(in))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "a mix of operating points needs an aggregate input (the "
                                "loads hold %d recorded iterations); give one --batch-tokens",
                                in->num_batches);
    double wsum = 0;
    for (int i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        if (!(w > 0 && isfinite(w)))
            return moemap_error_set(err, MOEMAP_ERANGE,
                                    "operating point %d: weight %g is not positive", i + 1, w);
        wsum += w;
    }
    moemap_loads **parts = moemap_calloc((size_t)n, sizeof *parts);
    if (!parts)
        return moemap_error_set(err, MOEMAP_ENOMEM, "operating point: out of memory");
    int rc = 0, total = 0;
    for (int i = 0; i < n && !rc; i++) {
        moemap_operating_point one = *op;
        one.batch_tokens = tokens[i];
        double share = (weights ? weights[i] : 1.0) / wsum;
        one.samples = (int)floor(share * op->samples + 0.5);
        one.samples = one.samples < 1 ? 1 : one.samples;
        one.seed = op->seed + (uint64_t)i; /* independent samples per point */
        rc = moemap_loads_at_operating_point(in, &one, &parts[i], err);
        if (!rc)
            total += parts[i]->num_batches;
    }
    moemap_loads *mix = NULL;
    if (!rc)
        rc = moemap_loads_create(in->experts, parts[0]->top_k, in->num_layers, total, &mix,
                                 err);
    if (!rc) {
        memcpy(mix->layer_ids, in->layer_ids, (size_t)in->num_layers * sizeof *mix->layer_ids);
        size_t cells = (size_t)in->num_layers * (size_t)in->experts, at = 0;
        for (int i = 0; i < n; i++) {
            size_t nb = (size_t)parts[i]->num_batches;
            memcpy(&mix->counts[at * cells], parts[i]->counts, nb * cells * sizeof *mix->counts);
            memcpy(&mix->batch_tokens[at], parts[i]->batch_tokens, nb * sizeof(double));
            at += nb;
        }
        *out = mix;
    }
    for (int i = 0; i < n; i++)
        moemap_loads_free(parts[i]);
    moemap_free(parts);
    return rc;
}
