/*
 * a2a.c — dispatch and combine in the cost model (see moemap/a2a.h for the model): the
 * rows each GPU receives from a layer placement and a batch's per-expert counts, the time
 * of one all-to-all phase per GPU from those rows and the cluster's network, the same
 * from an exact row matrix (the executor's plan), and the linear part that placement
 * folds into the GPU curves.
 *
 * Of the rows GPU g computes, those of its own tokens stay home (1 / G of them with
 * tokens spread evenly; all its own tokens of the experts it holds under SGLang's static
 * dispatch) and the rest come evenly from the other GPUs, so g sends every other GPU h
 * 1 / (G - 1) of h's remote rows: one pass over the GPUs with per-node sums gives every
 * GPU's traffic in O(G).
 */
#include "moemap/a2a.h"

#include <math.h>
#include <string.h>

#include "base_util.h"
#include "cost_internal.h"

moemap_a2a_params moemap_a2a_default_params(void)
{
    return (moemap_a2a_params){.dispatch = MOEMAP_DISPATCH_TOKEN_GPU, .act_bytes = 2.0};
}

const char *moemap_dispatch_name(moemap_dispatch d)
{
    return d == MOEMAP_DISPATCH_TOKEN_EXPERT ? "token-expert" : "token-gpu";
}

int moemap_dispatch_from_name(const char *name)
{
    if (name && !strcmp(name, "token-gpu"))
        return MOEMAP_DISPATCH_TOKEN_GPU;
    if (name && !strcmp(name, "token-expert"))
        return MOEMAP_DISPATCH_TOKEN_EXPERT;
    return -1;
}

/* Bytes of one row and the microseconds per byte of each kind of link. */
static void link_costs(const moemap_cluster *c, const moemap_a2a_params *p, double *row_bytes,
                       double *us_per_byte_intra, double *us_per_byte_inter)
{
    double ab = p->act_bytes > 0 ? p->act_bytes : 2.0;
    *row_bytes = (double)c->hidden * ab;
    /* GB/s = 1e3 bytes per microsecond */
    *us_per_byte_intra = c->intra_node_GBps > 0 ? 1.0 / (c->intra_node_GBps * 1e3) : 0;
    *us_per_byte_inter = c->inter_node_GBps > 0 ? 1.0 / (c->inter_node_GBps * 1e3) : 0;
}

static double phase_us(const moemap_cluster *c, double row_bytes, double ui, double ux,
                       double send_in, double recv_in, double send_x, double recv_x)
{
    double in = send_in > recv_in ? send_in : recv_in;
    double x = send_x > recv_x ? send_x : recv_x;
    return c->latency_us + row_bytes * (in * ui + x * ux);
}

/* Dispatch time of every live GPU when GPU g computes rows[g] rows, local[g] of them of
 * its own tokens: the other rows[g] - local[g] come evenly from the other live GPUs, and
 * a GPU sends each of those its share (a lost GPU neither holds tokens nor sends; its
 * time is 0). nn: the cluster's nodes; scratch: 2 * nn doubles. */
static double uniform_origin_us(const moemap_cluster *c, int nn, const double *rows,
                                const double *local, const unsigned char *alive,
                                const moemap_a2a_params *p, double *out, double *scratch)
{
    int G = c->num_gpus;
    double rb, ui, ux;
    link_costs(c, p, &rb, &ui, &ux);
    double *sum = scratch, *gpus = scratch + nn;
    for (int n = 0; n < nn; n++)
        gpus[n] = 0, sum[n] = 0;
    double total = 0, A = 0, mx = 0;
    for (int g = 0; g < G; g++) {
        if (alive && !alive[g])
            continue;
        double remote = rows[g] - local[g] > 0 ? rows[g] - local[g] : 0;
        gpus[c->gpus[g].node]++;
        sum[c->gpus[g].node] += remote;
        total += remote;
        A++;
    }
    double inv = A > 1 ? 1.0 / (A - 1) : 0; /* one division: this runs per layer and batch */
    for (int g = 0; g < G; g++) {
        double t = 0;
        if (!alive || alive[g]) {
            int nd = c->gpus[g].node;
            double remote = rows[g] - local[g] > 0 ? rows[g] - local[g] : 0;
            double send_in = (sum[nd] - remote) * inv, send_x = (total - sum[nd]) * inv;
            double recv_in = remote * (gpus[nd] - 1) * inv;
            double recv_x = remote * (A - gpus[nd]) * inv;
            t = phase_us(c, rb, ui, ux, send_in, recv_in, send_x, recv_x);
        }
        if (t > mx)
            mx = t;
        if (out)
            out[g] = t;
    }
    return mx;
}

double mm_a2a_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                          const double *counts, int experts, double batch_tokens,
                          const moemap_a2a_params *params, const unsigned char *alive,
                          double *dispatch_us)
{
    int G = c->num_gpus, live = 0;
    moemap_a2a_params dp = moemap_a2a_default_params();
    const moemap_a2a_params *p = params ? params : &dp;
    for (int g = 0; g < G; g++)
        live += !alive || alive[g];
    if (live <= 1 || p->off) {
        if (dispatch_us)
            for (int g = 0; g < G; g++)
                dispatch_us[g] = 0;
        return 0;
    }
    double N = batch_tokens;
    if (!(N > 0))
        for (int e = 0; e < experts; e++)
            N = counts[e] > N ? counts[e] : N;
    int nn = moemap_cluster_num_nodes(c);
    /* rows[G], local[G], then the scratch of uniform_origin_us (on the stack up to 1,024
     * GPUs: evaluation calls this for every layer and batch) */
    double stack_buf[2560];
    size_t need = (size_t)G * 2 + (size_t)nn * 2;
    double *buf = need <= 2560 ? stack_buf : moemap_malloc(need * sizeof *buf);
    if (!buf)
        return NAN;
    double *rows = buf, *local = buf + G, inv_n = N > 0 ? 1.0 / N : 0;
    int per_gpu = p->dispatch == MOEMAP_DISPATCH_TOKEN_GPU;
    for (int g = 0; g < G; g++)
        rows[g] = local[g] = per_gpu ? 1.0 : 0.0; /* per GPU: the products of misses */
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (r->gpu < 0 || r->gpu >= G || r->expert < 0 || r->expert >= experts)
            continue;
        double c_e = counts[r->expert], n = r->share * c_e;
        if (!(n > 0))
            continue;
        if (!per_gpu) {
            rows[r->gpu] += n;
            /* its GPU's own tokens of the expert, as many as the replica takes */
            if (p->local_first)
                local[r->gpu] += c_e / live < n ? c_e / live : n;
        } else {
            /* the probability that a token misses this replica (or, for its own tokens
             * with local_first, the expert), under independence */
            double q = 1.0 - n * inv_n, qe = 1.0 - c_e * inv_n;
            rows[r->gpu] *= q > 0 ? q : 0.0;
            local[r->gpu] *= qe > 0 ? qe : 0.0;
        }
    }
    for (int g = 0; g < G; g++) {
        if (per_gpu) {
            rows[g] = N * (1.0 - rows[g]);
            local[g] = N / live * (1.0 - local[g]);
        }
        if (!p->local_first)
            local[g] = rows[g] / live; /* the GPU's share of every expert's tokens */
        if (alive && !alive[g])
            rows[g] = local[g] = 0;
    }
    double mx = uniform_origin_us(c, nn, rows, local, alive, p, dispatch_us, buf + 2 * G);
    if (buf != stack_buf)
        moemap_free(buf);
    return mx;
}

double moemap_a2a_layer_batch(const moemap_cluster *c, const moemap_layer_placement *lp,
                              const double *counts, int experts, double batch_tokens,
                              const moemap_a2a_params *params, double *dispatch_us)
{
    return mm_a2a_layer_batch(c, lp, counts, experts, batch_tokens, params, NULL, dispatch_us);
}

double moemap_a2a_rows_us(const moemap_cluster *c, const double *rows,
                          const moemap_a2a_params *params, double *dispatch_us)
{
    int G = c->num_gpus;
    moemap_a2a_params dp = moemap_a2a_default_params();
    const moemap_a2a_params *p = params ? params : &dp;
    double rb, ui, ux, mx = 0;
    link_costs(c, p, &rb, &ui, &ux);
    for (int g = 0; g < G; g++) {
        double t = 0;
        if (G > 1 && !p->off) {
            double s_in = 0, r_in = 0, s_x = 0, r_x = 0;
            for (int h = 0; h < G; h++) {
                if (h == g)
                    continue;
                int same = c->gpus[h].node == c->gpus[g].node;
                *(same ? &s_in : &s_x) += rows[(size_t)g * G + h];
                *(same ? &r_in : &r_x) += rows[(size_t)h * G + g];
            }
            t = phase_us(c, rb, ui, ux, s_in, r_in, s_x, r_x);
        }
        if (dispatch_us)
            dispatch_us[g] = t;
        if (t > mx)
            mx = t;
    }
    return mx;
}

void moemap_a2a_per_token_us(const moemap_cluster *c, const moemap_a2a_params *params,
                             double *per_token_us)
{
    int G = c->num_gpus;
    moemap_a2a_params dp = moemap_a2a_default_params();
    const moemap_a2a_params *p = params ? params : &dp;
    double rb, ui, ux;
    link_costs(c, p, &rb, &ui, &ux);
    for (int g = 0; g < G; g++) {
        if (G <= 1 || p->off) {
            per_token_us[g] = 0;
            continue;
        }
        int on_node = 0;
        for (int h = 0; h < G; h++)
            on_node += c->gpus[h].node == c->gpus[g].node;
        /* a received row: (on_node - 1) / G of them over the node's links, the rest over
         * the network; twice (dispatch and combine) */
        per_token_us[g] = 2.0 * rb * ((double)(on_node - 1) / G * ui +
                                      (double)(G - on_node) / G * ux);
    }
}

int moemap_cluster_with_a2a(const moemap_cluster *c, const moemap_a2a_params *params,
                            moemap_cluster **out, moemap_error *err)
{
    *out = NULL;
    int G = c->num_gpus;
    double *alpha = moemap_malloc((size_t)(G > 0 ? G : 1) * sizeof *alpha);
    moemap_cluster *f = NULL;
    int rc = alpha ? moemap_cluster_clone(c, &f, err)
                   : moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    if (rc)
        goto done;
    moemap_a2a_per_token_us(c, params, alpha);
    for (int g = 0; g < G && !rc; g++) {
        /* the GPU's own points, or the base curve's: f_g there plus the linear term */
        const moemap_curve *src = c->gpus[g].curve.n > 0 ? &c->gpus[g].curve : &c->base;
        moemap_curve nc = {0, NULL, NULL, src->cv};
        nc.tokens = moemap_malloc((size_t)src->n * sizeof(double));
        nc.us = moemap_malloc((size_t)src->n * sizeof(double));
        if (!nc.tokens || !nc.us) {
            moemap_curve_clear(&nc);
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
            break;
        }
        nc.n = src->n;
        for (int i = 0; i < src->n; i++) {
            nc.tokens[i] = src->tokens[i];
            nc.us[i] = moemap_cluster_expert_us(c, g, src->tokens[i]) + alpha[g] * src->tokens[i];
        }
        moemap_curve_clear(&f->gpus[g].curve);
        f->gpus[g].curve = nc;
        f->gpus[g].speed = 1.0;
    }
    if (!rc)
        rc = moemap_cluster_finalize(f, err);
done:
    moemap_free(alpha);
    if (rc) {
        moemap_cluster_free(f);
        return rc;
    }
    *out = f;
    return 0;
}
