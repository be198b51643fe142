/*
 * gen.c — the synthetic workload generator (moemap gen): per-batch expert token counts
 * with the features that matter for placement, for when no trace is at hand.
 *
 * Per MoE layer, expert popularity follows a Zipf-like law (rank r weighs 1/r^zipf)
 * under a per-layer random permutation, so each layer has its own hot experts. On top:
 *  - consistent experts (a random set) get at least consistent_boost x the mean weight,
 *    so they receive tokens in (almost) every batch;
 *  - temporal experts come in groups that are idle (no tokens) until a burst starts
 *    (probability burst_prob per batch), then all members of the group run at
 *    burst_boost x the mean weight for a geometric number of batches (mean burst_len).
 *    A group's burst state is shared by all layers, as a burst of one kind of request
 *    shows in every layer at once;
 *  - every batch multiplies each weight by log-normal noise (sigma = noise);
 *  - at drift_at the task switches: every layer draws a new permutation and new
 *    consistent/temporal sets.
 * A batch then routes batch_tokens x top_k token-slots by a multinomial draw (sequential
 * binomials: E draws per layer and batch, not one per token, so a DeepSeek-V3 shape with
 * 256 batches takes a fraction of a second), with probabilities capped at 1/top_k and
 * counts capped at batch_tokens because a token picks top_k distinct experts.
 */
#include <math.h>
#include <string.h>

#include "moemap/model.h"
#include "workload_internal.h"

moemap_gen_params moemap_gen_default_params(void)
{
    return (moemap_gen_params){.num_layers = 61, .first_dense = 3, .moe_every = 1,
                               .experts = 256, .top_k = 8, .batches = 256,
                               .batch_tokens = 4096, .seed = 1, .zipf = 0.5, .consistent = 8,
                               .consistent_boost = 1.5, .temporal_groups = 4,
                               .temporal_size = 4, .burst_prob = 0.08, .burst_len = 4,
                               .burst_boost = 6.0, .noise = 0.25, .drift_at = -1};
}

void moemap_gen_params_from_model(moemap_gen_params *p, const moemap_model *m)
{
    p->num_layers = m->num_layers;
    p->first_dense = m->first_dense;
    p->moe_every = m->moe_every;
    p->experts = m->experts;
    p->top_k = m->top_k;
    /* Scale the expert-count knobs so that a small model keeps the same proportions as
     * the 256-expert defaults (8 consistent, 4 groups of 4 temporal experts). */
    int E = m->experts;
    p->consistent = E / 32 > 1 ? E / 32 : 1;
    p->temporal_size = E / 64 > 1 ? E / 64 : 1;
    p->temporal_groups = E >= 16 ? 4 : 1;
}

/* Standard normals from Box-Muller, both values of each pair used (the generator draws
 * millions of them; moemap_rng_normal discards the second to keep one stream). */
typedef struct {
    moemap_rng rng;
    int has_spare;
    double spare;
} gen_rng;

static double gauss(gen_rng *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double u1 = moemap_rng_uniform(&g->rng), u2 = moemap_rng_uniform(&g->rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
    g->spare = r * sin(a);
    g->has_spare = 1;
    return r * cos(a);
}

/* Binomial(n, q) draw: inversion for small means, a rounded normal otherwise (the
 * generator needs the shape of the distribution, not its far tails). */
static long binomial(gen_rng *g, long n, double q)
{
    if (n <= 0 || q <= 0)
        return 0;
    if (q >= 1)
        return n;
    if (q > 0.5)
        return n - binomial(g, n, 1.0 - q);
    double mean = (double)n * q;
    if (mean < 20) {
        /* Inversion by sequential search: O(mean) expected steps. */
        double u = moemap_rng_uniform(&g->rng), pk = pow(1.0 - q, (double)n), cdf = pk;
        long k = 0;
        while (u > cdf && k < n) {
            pk *= (double)(n - k) / (double)(k + 1) * q / (1.0 - q);
            k++;
            cdf += pk;
            if (pk < 1e-300 && k > mean)
                break;
        }
        return k;
    }
    double x = floor(mean + sqrt(mean * (1.0 - q)) * gauss(g) + 0.5);
    return x < 0 ? 0 : (x > (double)n ? n : (long)x);
}

/* Geometric length with mean `mean` batches, at least 1. */
static int burst_length(moemap_rng *rng, int mean)
{
    if (mean <= 1)
        return 1;
    double u = 1.0 - moemap_rng_uniform(rng); /* in (0, 1] */
    double k = 1.0 + floor(log(u) / log(1.0 - 1.0 / mean));
    return k > 1e6 ? 1000000 : (int)k;
}

/* Per-layer, per-phase setup: the expert behind each rank, who is consistent, and which
 * temporal group (or -1) each expert belongs to. */
typedef struct {
    double *base;  /* [E] zipf weight after permutation */
    int *group;    /* [E] temporal group or -1 */
    char *consistent; /* [E] */
} layer_setup;

static void setup_layer(moemap_rng *rng, const moemap_gen_params *p, int *perm, layer_setup *s)
{
    int E = p->experts;
    for (int e = 0; e < E; e++)
        perm[e] = e;
    for (int i = E - 1; i > 0; i--) {
        int j = (int)moemap_rng_below(rng, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    double sum = 0;
    for (int r = 0; r < E; r++) {
        s->base[perm[r]] = pow((double)(r + 1), -p->zipf);
        sum += s->base[perm[r]];
    }
    double mean = sum / E;
    for (int e = 0; e < E; e++) {
        s->group[e] = -1;
        s->consistent[e] = 0;
    }
    /* Temporal groups take the coldest ranks (a bursty expert is cold between bursts);
     * consistent experts are a random draw among the rest. */
    int r = E - 1;
    for (int g = 0; g < p->temporal_groups; g++)
        for (int k = 0; k < p->temporal_size && r >= 0; k++, r--)
            s->group[perm[r]] = g;
    int free_n = r + 1, want = p->consistent < free_n ? p->consistent : free_n;
    for (int k = 0; k < want; k++) {
        int j = k + (int)moemap_rng_below(rng, (uint64_t)(free_n - k));
        int t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
        s->consistent[perm[k]] = 1;
        if (s->base[perm[k]] < p->consistent_boost * mean)
            s->base[perm[k]] = p->consistent_boost * mean;
    }
    /* Normalise so that "x the mean weight" means the same in every layer. */
    double total = 0;
    for (int e = 0; e < E; e++)
        total += s->base[e];
    for (int e = 0; e < E; e++)
        s->base[e] *= E / total;
}

static int check_params(const moemap_gen_params *p, moemap_error *err)
{
#define BAD(...) return moemap_error_set(err, MOEMAP_EINVAL, __VA_ARGS__)
    if (p->num_layers < 1 || p->num_layers > 100000)
        BAD("gen: layers %d is outside [1, 100000]", p->num_layers);
    if (p->first_dense < 0 || p->first_dense >= p->num_layers)
        BAD("gen: first_dense %d leaves no MoE layer among %d", p->first_dense, p->num_layers);
    if (p->moe_every < 1)
        BAD("gen: moe_every must be at least 1 (got %d)", p->moe_every);
    if (p->experts < 1 || p->experts > 32767)
        BAD("gen: experts %d is outside [1, 32767]", p->experts);
    if (p->top_k < 1 || p->top_k > p->experts)
        BAD("gen: top-k %d is outside [1, experts=%d]", p->top_k, p->experts);
    if (p->batches < 1 || p->batches > 10000000)
        BAD("gen: batches %d is outside [1, 10000000]", p->batches);
    if (p->batch_tokens < 1 || p->batch_tokens > 1000000000L)
        BAD("gen: batch tokens %ld is outside [1, 1e9]", p->batch_tokens);
    if (!(p->zipf >= 0 && p->zipf <= 10))
        BAD("gen: zipf exponent %g is outside [0, 10]", p->zipf);
    if (p->consistent < 0 || p->temporal_groups < 0 || p->temporal_size < 0)
        BAD("gen: consistent, temporal groups and sizes must not be negative");
    if ((double)p->temporal_groups * p->temporal_size > p->experts)
        BAD("gen: %d temporal groups of %d exceed %d experts", p->temporal_groups,
            p->temporal_size, p->experts);
    if (!(p->consistent_boost >= 0 && p->consistent_boost <= 1000))
        BAD("gen: consistent boost %g is outside [0, 1000]", p->consistent_boost);
    if (!(p->burst_prob >= 0 && p->burst_prob <= 1))
        BAD("gen: burst probability %g is outside [0, 1]", p->burst_prob);
    if (p->burst_len < 1)
        BAD("gen: burst length must be at least 1 (got %d)", p->burst_len);
    if (!(p->burst_boost >= 0 && p->burst_boost <= 1000))
        BAD("gen: burst boost %g is outside [0, 1000]", p->burst_boost);
    if (!(p->noise >= 0 && p->noise <= 5))
        BAD("gen: noise %g is outside [0, 5]", p->noise);
    if (p->drift_at >= p->batches)
        BAD("gen: drift at batch %d is not before the last batch (%d batches)", p->drift_at,
            p->batches);
    if ((double)p->batches * p->num_layers * p->experts > 2e9)
        BAD("gen: %d batches x %d layers x %d experts is too large", p->batches, p->num_layers,
            p->experts);
#undef BAD
    return 0;
}

/* Caps probabilities at `cap` (water-filling: the excess goes to the uncapped ones). */
static void cap_probs(double *q, int E, double cap)
{
    for (int iter = 0; iter < 64; iter++) {
        double excess = 0, free_mass = 0;
        for (int e = 0; e < E; e++) {
            if (q[e] > cap) {
                excess += q[e] - cap;
                q[e] = cap;
            } else if (q[e] < cap) {
                free_mass += q[e];
            }
        }
        if (excess <= 1e-15 || free_mass <= 0)
            return;
        for (int e = 0; e < E; e++)
            if (q[e] < cap)
                q[e] += excess * q[e] / free_mass;
    }
}

int moemap_gen(const moemap_gen_params *params, moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    moemap_gen_params p = params ? *params : moemap_gen_default_params();
    int rc = check_params(&p, err);
    if (rc)
        return rc;
    moemap_model shape;
    memset(&shape, 0, sizeof shape);
    shape.num_layers = p.num_layers;
    shape.first_dense = p.first_dense;
    shape.moe_every = p.moe_every;
    int nl = moemap_model_moe_layer_count(&shape);
    if (nl == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "gen: the layer layout has no MoE layer");
    moemap_loads *ld;
    rc = moemap_loads_create(p.experts, p.top_k, nl, p.batches, &ld, err);
    if (rc)
        return rc;
    for (int l = 0, k = 0; l < p.num_layers; l++)
        if (moemap_model_is_moe_layer(&shape, l))
            ld->layer_ids[k++] = l;

    int E = p.experts, phases = p.drift_at >= 0 ? 2 : 1, G = p.temporal_groups;
    size_t cells = (size_t)phases * (size_t)nl * (size_t)E;
    double *base = moemap_malloc(cells * sizeof *base);
    int *group = moemap_malloc(cells * sizeof *group);
    char *cons = moemap_malloc(cells);
    int *perm = moemap_malloc((size_t)E * sizeof *perm);
    double *w = moemap_malloc((size_t)E * sizeof *w);
    int *burst_left = moemap_calloc((size_t)G + 1, sizeof *burst_left);
    if (!base || !group || !cons || !perm || !w || !burst_left) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "gen: out of memory");
        goto done;
    }
    gen_rng gr;
    moemap_rng_seed(&gr.rng, p.seed);
    gr.has_spare = 0;
    gr.spare = 0;
    moemap_rng *rng = &gr.rng;
    for (int ph = 0; ph < phases; ph++)
        for (int l = 0; l < nl; l++) {
            size_t off = ((size_t)ph * (size_t)nl + (size_t)l) * (size_t)E;
            layer_setup s = {base + off, group + off, cons + off};
            setup_layer(rng, &p, perm, &s);
        }
    const double slots = (double)p.batch_tokens * p.top_k;
    const double sigma = p.noise;
    for (int b = 0; b < p.batches; b++) {
        /* Burst state of each temporal group, shared by all layers. */
        for (int g = 0; g < G; g++) {
            if (burst_left[g] > 0)
                burst_left[g]--;
            else if (moemap_rng_uniform(rng) < p.burst_prob)
                burst_left[g] = burst_length(rng, p.burst_len);
        }
        int ph = (p.drift_at >= 0 && b >= p.drift_at) ? 1 : 0;
        ld->batch_tokens[b] = (double)p.batch_tokens;
        for (int l = 0; l < nl; l++) {
            size_t off = ((size_t)ph * (size_t)nl + (size_t)l) * (size_t)E;
            double sum = 0;
            for (int e = 0; e < E; e++) {
                int g = group[off + e];
                double x = g >= 0 ? (burst_left[g] > 0 ? p.burst_boost : 0.0) : base[off + e];
                if (sigma > 0 && x > 0)
                    x *= exp(sigma * gauss(&gr) - 0.5 * sigma * sigma);
                w[e] = x;
                sum += x;
            }
            double *c = &MOEMAP_LOADS_AT(ld, b, l, 0);
            if (sum <= 0) {
                /* Everything idle (e.g. only temporal experts): spread evenly. */
                for (int e = 0; e < E; e++)
                    w[e] = 1.0;
                sum = E;
            }
            for (int e = 0; e < E; e++)
                w[e] /= sum;
            cap_probs(w, E, 1.0 / p.top_k);
            /* Multinomial by sequential binomials. */
            long left = (long)slots;
            double mass = 1.0;
            for (int e = 0; e < E; e++) {
                long k = (e == E - 1 || mass <= 0) ? left : binomial(&gr, left, w[e] / mass);
                if (k > left)
                    k = left;
                c[e] = (double)k;
                left -= k;
                mass -= w[e];
            }
            /* A token picks distinct experts: no expert exceeds batch_tokens. The excess
             * of a rare overflow moves to the experts with the most room. */
            double excess = 0;
            for (int e = 0; e < E; e++)
                if (c[e] > (double)p.batch_tokens) {
                    excess += c[e] - (double)p.batch_tokens;
                    c[e] = (double)p.batch_tokens;
                }
            for (int e = 0; excess > 0 && e < E; e++) {
                double room = (double)p.batch_tokens - c[e];
                double add = room < excess ? room : excess;
                c[e] += add;
                excess -= add;
            }
        }
    }
done:
    moemap_free(base);
    moemap_free(group);
    moemap_free(cons);
    moemap_free(perm);
    moemap_free(w);
    moemap_free(burst_left);
    if (rc) {
        moemap_loads_free(ld);
        return rc;
    }
    *out = ld;
    return 0;
}
