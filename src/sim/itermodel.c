/*
 * itermodel.c — the time of one engine iteration: every transformer layer in lock step.
 *
 * Per layer: attention (and the dense FFN or shared experts) by a roofline model on each
 * GPU — data-parallel attention, the iteration's tokens split evenly over the live GPUs,
 * time = max(FLOPs / peak, bytes / bandwidth) / (speed x event factor x jitter), and the
 * layer waits for the slowest GPU; then, on MoE layers, each GPU's whole MoE layer —
 * dispatch, its experts' compute under the cluster's cost model for this iteration's
 * expert counts, and combine (moemap/a2a.h: the whole-layer model that place and eval
 * use, tokens living on the live GPUs) — and the layer waits for the slowest GPU.
 *
 * Expert counts come from a real workload, replayed in order from a random start at the
 * engine's token rate: each iteration takes the current batch (the same for every layer,
 * so cross-layer co-activation is real, and consecutive iterations follow the trace, so
 * bursts are real too) and, from it, sums
 * consecutive batches until the iteration's token count is covered (the last pro rata;
 * an iteration smaller than a batch is that batch scaled down), so skew and burstiness
 * average out over a large iteration exactly as they do in real routing. Evaluating 58 layers x 32 GPUs x ~300 replicas of
 * curves every iteration would cost ~100 us; instead a table of per-(layer, GPU) MoE
 * times at nominal speed is filled lazily for each (batch, token bucket) — 64 buckets
 * log-spaced up to the token budget, interpolated linearly — so an iteration costs
 * O(layers x GPUs) multiply-adds: a few microseconds. Event factors and jitter are per
 * GPU multipliers applied at evaluation time, so the tables survive them.
 */
#include "sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base_util.h"
#include "cost/cost_internal.h"

#define NBUCKETS 64
#define MAX_SAMPLED_BATCHES 128
#define REF_TOKENS 256.0

struct itermodel {
    const moemap_model *model;
    const moemap_cluster *cluster;
    moemap_sim_params params;
    int G, L;                   /* GPUs, MoE layers (placement layers) */
    int n_dense, n_moe;         /* model layers of each kind */
    double *speed;              /* [G] profiled relative speed (from the curves) */
    double *factor;             /* [G] event speed factor */
    double *cv;                 /* [G] jitter coefficient of variation */
    unsigned char *alive;       /* [G] */
    int alive_n;
    /* Roofline constants (per layer). */
    double attn_params, dense_params, shared_params, lm_params;
    double score_flops_per_ctx, kv_bytes_per_ctx, dtype;
    double peak_flops, mem_Bps, overhead_s;
    /* Workload. */
    const moemap_loads *loads;
    int *entry;                 /* [L] loads row of each placement layer */
    int nb;                     /* batches sampled from */
    int *batch_ids;             /* [nb] */
    double tmax;                /* largest iteration token count in the table */
    double bucket_tokens[NBUCKETS];
    float **tab;                /* [nb] -> [NBUCKETS][L][2][G] nominal MoE compute seconds,
                                   then dispatch seconds (combine takes as long), lazily */
    unsigned char *filled;      /* [nb * NBUCKETS] */
    moemap_placement *placement;
    double *scratch;            /* [4 * G] */
    double *counts;             /* [experts] */
    double pos;                 /* replay position in sampled batches (< 0: not started) */
    double mean_bt;             /* mean tokens of the sampled batches */
};

static double curve_speed(const moemap_cluster *c, int g, double ref)
{
    double t = moemap_cluster_expert_us(c, g, REF_TOKENS);
    return t > 0 && ref > 0 ? ref / t : 1.0;
}

static void reset_cache(itermodel *im)
{
    if (im->filled)
        memset(im->filled, 0, (size_t)im->nb * NBUCKETS);
}

static void free_tables(itermodel *im)
{
    if (im->tab)
        for (int b = 0; b < im->nb; b++)
            moemap_free(im->tab[b]);
    moemap_free(im->tab);
    moemap_free(im->filled);
    moemap_free(im->batch_ids);
    moemap_free(im->entry);
    im->tab = NULL;
    im->filled = NULL;
    im->batch_ids = im->entry = NULL;
}

void itermodel_free(itermodel *im)
{
    if (!im)
        return;
    free_tables(im);
    moemap_free(im->speed);
    moemap_free(im->factor);
    moemap_free(im->cv);
    moemap_free(im->alive);
    moemap_free(im->scratch);
    moemap_free(im->counts);
    moemap_placement_free(im->placement);
    moemap_free(im);
}

/* Binds a workload: maps placement layers to its rows and picks the batches to sample. */
static int bind_loads(itermodel *im, const moemap_loads *ld, moemap_error *err)
{
    const moemap_placement *p = im->placement;
    if (ld->experts != p->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "workload has %d experts per layer, the placement %d",
                                ld->experts, p->experts);
    free_tables(im);
    im->loads = ld;
    im->entry = moemap_malloc((size_t)im->L * sizeof *im->entry);
    if (!im->entry)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int l = 0; l < im->L; l++) {
        int id = p->layers[l].layer, found = -1;
        for (int j = 0; j < ld->num_layers; j++)
            if (ld->layer_ids[j] == id)
                found = j;
        if (found < 0)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "the workload has no counts for placement layer %d", id);
        im->entry[l] = found;
    }
    int usable = 0;
    for (int b = 0; b < ld->num_batches; b++)
        usable += ld->batch_tokens[b] > 0;
    if (usable == 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "the workload has no batch with tokens");
    im->nb = usable < MAX_SAMPLED_BATCHES ? usable : MAX_SAMPLED_BATCHES;
    im->batch_ids = moemap_malloc((size_t)im->nb * sizeof *im->batch_ids);
    im->tab = moemap_calloc((size_t)im->nb, sizeof *im->tab);
    im->filled = moemap_calloc((size_t)im->nb * NBUCKETS, 1);
    if (!im->batch_ids || !im->tab || !im->filled)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    /* More batches than the cap: an evenly spaced subset, so every phase of the trace is
     * represented. */
    int k = 0, seen = 0;
    for (int b = 0; b < ld->num_batches && k < im->nb; b++) {
        if (!(ld->batch_tokens[b] > 0))
            continue;
        if ((long)seen * im->nb / usable == k)
            im->batch_ids[k++] = b;
        seen++;
    }
    im->nb = k;
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += ld->batch_tokens[im->batch_ids[i]];
    im->mean_bt = sum / k;
    im->pos = -1;
    return 0;
}

int itermodel_create(const moemap_model *model, const moemap_cluster *cluster,
                     const moemap_placement *placement, const moemap_loads *loads,
                     const moemap_sim_params *params, itermodel **out, moemap_error *err)
{
    if (placement->num_gpus != cluster->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the placement is for %d GPUs, the cluster has %d",
                                placement->num_gpus, cluster->num_gpus);
    if (placement->num_layers < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "the placement has no MoE layer");
    if (placement->num_layers > model->num_layers)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the placement has %d MoE layers, model %s only %d layers",
                                placement->num_layers, model->name, model->num_layers);
    itermodel *im = moemap_calloc(1, sizeof *im);
    if (!im)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    int G = cluster->num_gpus, rc;
    im->model = model;
    im->cluster = cluster;
    im->params = *params;
    im->G = G;
    im->L = placement->num_layers;
    im->n_moe = im->L;
    im->n_dense = model->num_layers - im->L;
    im->speed = moemap_malloc((size_t)G * sizeof(double));
    im->factor = moemap_malloc((size_t)G * sizeof(double));
    im->cv = moemap_malloc((size_t)G * sizeof(double));
    im->alive = moemap_malloc((size_t)G);
    im->scratch = moemap_malloc((size_t)G * 4 * sizeof(double));
    im->counts = moemap_malloc((size_t)(placement->experts > 0 ? placement->experts : 1) *
                               sizeof(double));
    if (!im->counts || !im->speed || !im->factor || !im->cv || !im->alive || !im->scratch) {
        itermodel_free(im);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    /* Profiled speed relative to the base curve, or to the median GPU without one. */
    double ref;
    if (cluster->base.n > 0) {
        ref = moemap_curve_eval(&cluster->base, REF_TOKENS);
    } else {
        for (int g = 0; g < G; g++)
            im->scratch[g] = moemap_cluster_expert_us(cluster, g, REF_TOKENS);
        qsort(im->scratch, (size_t)G, sizeof(double), mm_cmp_double);
        ref = im->scratch[G / 2];
    }
    for (int g = 0; g < G; g++) {
        im->speed[g] = curve_speed(cluster, g, ref);
        im->factor[g] = 1.0;
        im->cv[g] = moemap_cluster_gpu_cv(cluster, g) * params->jitter_scale;
        im->alive[g] = 1;
    }
    im->alive_n = G;
    double h = model->hidden;
    im->dtype = model->dtype_bytes > 0 ? model->dtype_bytes : 2;
    im->attn_params = h * (double)model->heads * model->head_dim * 2.0 +
                      h * (double)model->kv_heads * model->head_dim * 2.0;
    im->dense_params = 3.0 * h * model->dense_intermediate;
    im->shared_params = 3.0 * h * model->expert_intermediate * model->shared_experts;
    im->lm_params = h * (double)model->vocab;
    im->score_flops_per_ctx = 4.0 * model->heads * (double)model->head_dim;
    im->kv_bytes_per_ctx = 2.0 * model->kv_heads * (double)model->head_dim * im->dtype;
    im->peak_flops = params->peak_tflops * 1e12;
    im->mem_Bps = params->mem_GBps * 1e9;
    im->overhead_s = params->layer_overhead_us * 1e-6;
    im->tmax = params->max_batch_tokens > 1 ? params->max_batch_tokens : 2;
    for (int k = 0; k < NBUCKETS; k++)
        im->bucket_tokens[k] = exp(log(im->tmax) * k / (NBUCKETS - 1));
    if ((rc = moemap_placement_clone(placement, &im->placement, err)) ||
        (rc = bind_loads(im, loads, err))) {
        itermodel_free(im);
        return rc;
    }
    *out = im;
    return 0;
}

int itermodel_set_loads(itermodel *im, const moemap_loads *loads, moemap_error *err)
{
    return bind_loads(im, loads, err);
}

int itermodel_set_placement(itermodel *im, const moemap_placement *p, moemap_error *err)
{
    moemap_placement *c;
    int rc = moemap_placement_clone(p, &c, err);
    if (rc)
        return rc;
    moemap_placement_free(im->placement);
    im->placement = c;
    reset_cache(im);
    return 0;
}

const moemap_placement *itermodel_placement(const itermodel *im) { return im->placement; }
const moemap_loads *itermodel_loads(const itermodel *im) { return im->loads; }
void itermodel_set_factor(itermodel *im, int gpu, double f) { im->factor[gpu] = f; }
double itermodel_factor(const itermodel *im, int gpu) { return im->factor[gpu]; }
int itermodel_alive(const itermodel *im, int gpu) { return im->alive[gpu]; }
const double *itermodel_factors(const itermodel *im) { return im->factor; }
const unsigned char *itermodel_alive_mask(const itermodel *im) { return im->alive; }
int itermodel_num_gpus(const itermodel *im) { return im->G; }
int itermodel_moe_layers(const itermodel *im) { return im->L; }
int itermodel_loads_entry(const itermodel *im, int l) { return im->entry[l]; }

void itermodel_set_lost(itermodel *im, int gpu)
{
    if (im->alive[gpu]) {
        im->alive[gpu] = 0;
        im->alive_n--;
        reset_cache(im); /* all-to-all fan-out changed */
    }
}

double itermodel_layer_times(const itermodel *im, const moemap_layer_placement *lp,
                             const double *c, const double *est, double *t)
{
    return mm_layer_gpu_s(im->cluster, lp, c, est, im->alive, t);
}

/* The expert counts of an iteration of T tokens starting at sampled batch bi, layer
 * entry `entry`, into c[experts]: consecutive batches are summed until T tokens are
 * covered (the last one pro rata), so a large iteration averages real batches the way a
 * large engine batch does, and a small one is a scaled-down real batch. */
static void iteration_counts(const itermodel *im, int bi, double T, int entry, double *c)
{
    const moemap_loads *ld = im->loads;
    int E = ld->experts;
    for (int e = 0; e < E; e++)
        c[e] = 0;
    double left = T;
    for (int j = 0; left > 1e-9 && j < 4 * im->nb + 64; j++) {
        int b = im->batch_ids[(bi + j) % im->nb];
        double bt = ld->batch_tokens[b];
        double f = left < bt ? left / bt : 1.0;
        const double *src = &MOEMAP_LOADS_AT(ld, b, entry, 0);
        for (int e = 0; e < E; e++)
            c[e] += f * src[e];
        left -= f * bt;
    }
}

/* Fills the table entry of (sampled batch bi, bucket k): each GPU's expert compute and
 * its dispatch under the cost model (moemap/a2a.h: the same whole-layer model as place
 * and eval), tokens living on the live GPUs. */
static int fill(itermodel *im, int bi, int k)
{
    size_t G = (size_t)im->G, L = (size_t)im->L;
    if (!im->tab[bi]) {
        im->tab[bi] = moemap_malloc((size_t)NBUCKETS * L * 2 * G * sizeof(float));
        if (!im->tab[bi])
            return -1;
    }
    float *row = im->tab[bi] + (size_t)k * L * 2 * G;
    double *t = im->scratch, *d = im->scratch + G, *c = im->counts;
    for (size_t l = 0; l < L; l++) {
        const moemap_layer_placement *lp = &im->placement->layers[l];
        iteration_counts(im, bi, im->bucket_tokens[k], im->entry[l], c);
        mm_layer_gpu_s(im->cluster, lp, c, NULL, NULL, t);
        mm_a2a_layer_batch(im->cluster, lp, c, im->loads->experts, im->bucket_tokens[k],
                           &im->params.a2a, im->alive, d);
        for (size_t g = 0; g < G; g++) {
            row[(l * 2) * G + g] = (float)t[g];
            row[(l * 2 + 1) * G + g] = (float)(d[g] * 1e-6);
        }
    }
    im->filled[(size_t)bi * NBUCKETS + k] = 1;
    return 0;
}

/* Roofline time of `params` weights applied to x tokens, plus extra FLOPs and bytes. */
static double roofline(const itermodel *im, double params, double x, double flops,
                       double bytes)
{
    double f = 2.0 * params * x + flops;
    double by = params * im->dtype + bytes;
    double tf = f / im->peak_flops, tb = by / im->mem_Bps;
    return tf > tb ? tf : tb;
}

void itermodel_eval(itermodel *im, const sim_batch *b, moemap_rng *rng, double *idle,
                    sim_iter *out)
{
    int G = im->G;
    double *mult = im->scratch + 2 * G; /* time multiplier per GPU: jitter / speed */
    double A = im->alive_n > 0 ? im->alive_n : 1;
    for (int g = 0; g < G; g++) {
        double j = 1.0;
        if (im->cv[g] > 0) {
            j = 1.0 + im->cv[g] * moemap_rng_normal(rng);
            if (j < 0.5)
                j = 0.5;
        }
        mult[g] = j / (im->factor[g] > 0 ? im->factor[g] : 1e-9);
    }
    /* Attention + dense FFN / shared experts, per live GPU, on its share of tokens. */
    double x = (double)b->tokens / A;
    double attn = roofline(im, im->attn_params, x, im->score_flops_per_ctx * b->attn_ctx / A,
                           im->kv_bytes_per_ctx * b->kv_read / A);
    double dense = roofline(im, im->dense_params, x, 0, 0);
    double shared = im->shared_params > 0 ? roofline(im, im->shared_params, x, 0, 0) : 0;
    double lm = roofline(im, im->lm_params, (double)(b->decode + b->prefill_done) / A, 0, 0);
    double mx_d = 0, mx_m = 0, mx_lm = 0;
    for (int g = 0; g < G; g++) {
        if (!im->alive[g])
            continue;
        double m = mult[g] / im->speed[g];
        if ((attn + dense) * m > mx_d)
            mx_d = (attn + dense) * m;
        if ((attn + shared) * m > mx_m)
            mx_m = (attn + shared) * m;
        if (lm * m > mx_lm)
            mx_lm = lm * m;
    }
    for (int g = 0; g < G; g++) {
        if (!im->alive[g])
            continue;
        double m = mult[g] / im->speed[g];
        idle[g] += im->n_dense * (mx_d - (attn + dense) * m) +
                   im->n_moe * (mx_m - (attn + shared) * m) + (mx_lm - lm * m);
    }
    double t = im->n_dense * mx_d + im->n_moe * mx_m + mx_lm +
               im->model->num_layers * im->overhead_s;

    /* MoE: the routing trace is replayed in order at the engine's token rate from a random
     * start (so bursts of the real routing last as long in tokens as they did), and the
     * table is interpolated between the two buckets around T. */
    if (im->pos < 0)
        im->pos = (double)moemap_rng_below(rng, (uint64_t)im->nb);
    int bi = (int)im->pos % im->nb;
    im->pos = fmod(im->pos + (double)b->tokens / im->mean_bt, (double)im->nb);
    const moemap_loads *ld = im->loads;
    double T = (double)b->tokens < 1 ? 1 : (double)b->tokens;
    if (T > im->tmax)
        T = im->tmax;
    double pos = log(T) / log(im->tmax) * (NBUCKETS - 1);
    int k = (int)pos;
    if (k >= NBUCKETS - 1)
        k = NBUCKETS - 2;
    double w = (T - im->bucket_tokens[k]) / (im->bucket_tokens[k + 1] - im->bucket_tokens[k]);
    if (w < 0)
        w = 0;
    if (w > 1)
        w = 1;
    for (int kk = k; kk <= k + 1; kk++)
        if (!im->filled[(size_t)bi * NBUCKETS + kk] && fill(im, bi, kk) != 0) {
            /* Out of memory for the table: this iteration's MoE time is unknown; count it
             * as zero rather than crash (the result states the iteration count). */
            out->time_s = t;
            out->tokens = b->tokens;
            out->moe_s = out->moe_mean_s = 0;
            out->batch = im->batch_ids[bi];
            out->scale = (double)b->tokens / ld->batch_tokens[out->batch];
            return;
        }
    const float *r0 = im->tab[bi] + (size_t)k * im->L * 2 * G;
    const float *r1 = r0 + (size_t)im->L * 2 * G;
    double moe = 0, moe_mean = 0;
    double *tg = im->scratch + 3 * G;
    for (int l = 0; l < im->L; l++) {
        double mx = 0, sum = 0;
        const float *a0 = r0 + (size_t)l * 2 * G, *a1 = r1 + (size_t)l * 2 * G;
        for (int g = 0; g < G; g++) {
            /* the whole layer: compute (slowed by events and jitter) + dispatch + combine */
            double v = ((double)a0[g] + w * ((double)a1[g] - (double)a0[g])) * mult[g] +
                       2.0 * ((double)a0[G + g] + w * ((double)a1[G + g] - (double)a0[G + g]));
            tg[g] = v;
            if (im->alive[g]) {
                sum += v;
                if (v > mx)
                    mx = v;
            }
        }
        for (int g = 0; g < G; g++)
            if (im->alive[g])
                idle[g] += mx - tg[g];
        moe += mx;
        moe_mean += sum / A;
    }
    double scale = (double)b->tokens / ld->batch_tokens[im->batch_ids[bi]];
    out->time_s = t + moe;
    out->tokens = b->tokens;
    out->moe_s = moe;
    out->moe_mean_s = moe_mean;
    out->batch = im->batch_ids[bi];
    out->scale = scale;
}
