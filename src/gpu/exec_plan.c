/*
 * exec_plan.c — the executor's host-side dispatch plan: which rows each rank sends to
 * which GPU (one per (token, GPU) or per (token, choice)), in which order they arrive, how
 * the receiving GPU regroups them by expert and sums them back, and where each result
 * lands when it comes back; and the cost model's predictions from the same plans. Every
 * rank computes its own plan from the same routing and placement, so no plan travels
 * between ranks and the split of an expert's tokens over its replicas is the same
 * everywhere.
 *
 * Pure C with no CUDA: built into every configuration (CMakeLists.txt,
 * MOEMAP_GPU_HOST_SOURCES) so that CI checks the plans and predictions without a GPU.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"

void exec_layer_map_clear(exec_layer_map *m)
{
    if (!m)
        return;
    moemap_free(m->place_layer);
    moemap_free(m->route_layer);
    moemap_free(m->layer_id);
    moemap_free(m->num_slots);
    moemap_free(m->slot_expert);
    memset(m, 0, sizeof *m);
}

int exec_layer_map_build(const moemap_placement *p, const moemap_routing *rt, int layers,
                         exec_layer_map *out, moemap_error *err)
{
    memset(out, 0, sizeof *out);
    if (p->num_layers < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "placement has no layers");
    if (layers <= 0 || layers > p->num_layers)
        layers = p->num_layers;
    if (p->num_gpus < 1 || p->num_gpus > EXEC_MAX_GPUS)
        return moemap_error_set(err, MOEMAP_ERANGE, "placement has %d GPUs (1..%d supported)",
                                p->num_gpus, EXEC_MAX_GPUS);
    if (rt->top_k < 1 || rt->num_tokens < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "routing has no tokens");
    if (p->experts != rt->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "placement is for %d experts but the routing has %d",
                                p->experts, rt->experts);
    int G = p->num_gpus;
    out->layers = layers;
    out->num_gpus = G;
    out->experts = p->experts;
    out->top_k = rt->top_k;
    out->place_layer = moemap_calloc((size_t)layers, sizeof(int));
    out->route_layer = moemap_calloc((size_t)layers, sizeof(int));
    out->layer_id = moemap_calloc((size_t)layers, sizeof(int));
    out->num_slots = moemap_calloc((size_t)layers * (size_t)G, sizeof(int));
    if (!out->place_layer || !out->route_layer || !out->layer_id || !out->num_slots)
        goto oom;
    int max_slots = 1;
    for (int l = 0; l < layers; l++) {
        const moemap_layer_placement *lp = &p->layers[l];
        int r = -1;
        for (int i = 0; i < rt->num_layers; i++)
            if (rt->layer_ids[i] == lp->layer)
                r = i;
        if (r < 0) {
            exec_layer_map_clear(out);
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "placement layer %d has no routing in the trace", lp->layer);
        }
        out->place_layer[l] = l;
        out->route_layer[l] = r;
        out->layer_id[l] = lp->layer;
        for (int i = 0; i < lp->num_replicas; i++) {
            const moemap_replica *rep = &lp->replicas[i];
            if (rep->gpu < 0 || rep->gpu >= G || rep->expert < 0 || rep->expert >= p->experts) {
                exec_layer_map_clear(out);
                return moemap_error_set(err, MOEMAP_EINVAL,
                                        "placement layer %d: replica %d (expert %d, gpu %d) "
                                        "out of range", lp->layer, i, rep->expert, rep->gpu);
            }
            int n = ++out->num_slots[l * G + rep->gpu];
            if (n > max_slots)
                max_slots = n;
        }
    }
    out->max_slots = max_slots;
    out->slot_expert = moemap_malloc((size_t)layers * (size_t)G * (size_t)max_slots * sizeof(int));
    if (!out->slot_expert)
        goto oom;
    for (int l = 0; l < layers; l++) {
        const moemap_layer_placement *lp = &p->layers[l];
        int fill[EXEC_MAX_GPUS] = {0};
        for (int i = 0; i < lp->num_replicas; i++) {
            int g = lp->replicas[i].gpu;
            out->slot_expert[((size_t)l * G + g) * max_slots + fill[g]++] = lp->replicas[i].expert;
        }
    }
    return 0;
oom:
    exec_layer_map_clear(out);
    return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory building the layer map");
}

void exec_plan_clear(exec_rank_plan *pl)
{
    if (!pl)
        return;
    moemap_free(pl->send_counts);
    moemap_free(pl->recv_counts);
    moemap_free(pl->send_idx);
    moemap_free(pl->send_tag);
    moemap_free(pl->comb_pos);
    moemap_free(pl->comb_w);
    moemap_free(pl->perm);
    moemap_free(pl->recv_tag);
    moemap_free(pl->red_off);
    moemap_free(pl->red_row);
    moemap_free(pl->red_w);
    moemap_free(pl->slot_rows);
    memset(pl, 0, sizeof *pl);
}

/* First token of rank r's block: floor(r * T / G). */
static long tok_begin(long T, int G, int r) { return (long)((long long)r * T / G); }

/* Home rank of token t (0..T-1) under contiguous blocks [r*T/G, (r+1)*T/G). */
static int home_of(long t, long T, int G)
{
    int r = (int)(((double)t * G) / (double)T);
    while (r + 1 < G && tok_begin(T, G, r + 1) <= t)
        r++;
    while (r > 0 && tok_begin(T, G, r) > t)
        r--;
    return r;
}

/* The row-level assignment of one iteration and layer: for every (t, j), the replica's
 * GPU and slot. dest/slot are [T * k]. */
static int assign_rows(const exec_layer_map *m, const moemap_placement *p,
                       const moemap_routing *rt, long T, int iter, int l, int *dest,
                       int *slot, moemap_error *err)
{
    int E = m->experts, k = m->top_k;
    const moemap_layer_placement *lp = &p->layers[m->place_layer[l]];
    long *count = moemap_calloc((size_t)E, sizeof(long));
    long *seen = moemap_calloc((size_t)E, sizeof(long));
    int *rep_first = moemap_malloc((size_t)E * sizeof(int));
    int *rep_next = moemap_malloc((size_t)lp->num_replicas * sizeof(int) + 1);
    int *rep_slot = moemap_malloc((size_t)lp->num_replicas * sizeof(int) + 1);
    long *bound = moemap_malloc((size_t)lp->num_replicas * sizeof(long) + 1);
    int rc = 0;
    if (!count || !seen || !rep_first || !rep_next || !rep_slot || !bound) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning layer %d",
                              m->layer_id[l]);
        goto done;
    }
    const int16_t *ids = rt->ids + (size_t)m->route_layer[l] * (size_t)rt->num_tokens * k;
    long N = rt->num_tokens;
    long base = (long)(((long long)iter * T) % N);
    for (long t = 0; t < T; t++) {
        long tok = (base + t) % N;
        for (int j = 0; j < k; j++) {
            int e = ids[tok * k + j];
            if (e < 0 || e >= E) {
                rc = moemap_error_set(err, MOEMAP_EINVAL,
                                      "routing layer %d token %ld: expert %d out of range",
                                      m->layer_id[l], tok, e);
                goto done;
            }
            count[e]++;
        }
    }
    /* Replicas of each expert as a linked list in placement order; each replica's slot on
     * its GPU; the cut points of its share of the rows. */
    for (int e = 0; e < E; e++)
        rep_first[e] = -1;
    int fill[EXEC_MAX_GPUS] = {0};
    for (int i = 0; i < lp->num_replicas; i++)
        rep_next[i] = -1;
    int *tail = moemap_malloc((size_t)E * sizeof(int));
    if (!tail) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning");
        goto done;
    }
    for (int e = 0; e < E; e++)
        tail[e] = -1;
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        rep_slot[i] = fill[r->gpu]++;
        if (tail[r->expert] < 0)
            rep_first[r->expert] = i;
        else
            rep_next[tail[r->expert]] = i;
        tail[r->expert] = i;
    }
    moemap_free(tail);
    for (int e = 0; e < E; e++) {
        if (rep_first[e] < 0) {
            if (count[e] > 0) {
                rc = moemap_error_set(err, MOEMAP_EINVAL,
                                      "placement layer %d: expert %d has no replica",
                                      m->layer_id[l], e);
                goto done;
            }
            continue;
        }
        double cum = 0;
        for (int i = rep_first[e]; i >= 0; i = rep_next[i]) {
            cum += lp->replicas[i].share;
            bound[i] = rep_next[i] < 0 ? count[e] : (long)floor(cum * (double)count[e] + 0.5);
            if (bound[i] > count[e])
                bound[i] = count[e];
        }
    }
    for (long t = 0; t < T; t++) {
        long tok = (base + t) % N;
        for (int j = 0; j < k; j++) {
            int e = ids[tok * k + j];
            long q = seen[e]++;
            int i = rep_first[e];
            while (rep_next[i] >= 0 && q >= bound[i])
                i = rep_next[i];
            dest[t * k + j] = lp->replicas[i].gpu;
            slot[t * k + j] = rep_slot[i];
        }
    }
done:
    moemap_free(count);
    moemap_free(seen);
    moemap_free(rep_first);
    moemap_free(rep_next);
    moemap_free(rep_slot);
    moemap_free(bound);
    return rc;
}

int exec_plan_slot_rows(const exec_layer_map *m, const moemap_placement *p,
                        const moemap_routing *rt, long T, int iter, int l, long *rows_out,
                        moemap_error *err)
{
    int k = m->top_k;
    int *dest = moemap_malloc((size_t)T * k * sizeof(int));
    int *slot = moemap_malloc((size_t)T * k * sizeof(int));
    int rc;
    if (!dest || !slot) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning");
        goto done;
    }
    rc = assign_rows(m, p, rt, T, iter, l, dest, slot, err);
    if (rc)
        goto done;
    memset(rows_out, 0, (size_t)m->num_gpus * m->max_slots * sizeof(long));
    for (long i = 0; i < T * k; i++)
        rows_out[(size_t)dest[i] * m->max_slots + slot[i]]++;
done:
    moemap_free(dest);
    moemap_free(slot);
    return rc;
}

/* For every (t, j) of the iteration: 1 when it is the first of token t's choices going
 * to its GPU (always 1 under TOKEN_EXPERT: every choice is its own row), and the choice
 * whose id tags the row: first[T * k], tag_j[T * k]. */
static void mark_rows(const int *dest, long T, int k, moemap_dispatch dispatch,
                      unsigned char *first, int *tag_j)
{
    for (long t = 0; t < T; t++)
        for (int j = 0; j < k; j++) {
            long i = t * k + j;
            int jf = j;
            if (dispatch == MOEMAP_DISPATCH_TOKEN_GPU)
                for (int q = 0; q < j; q++)
                    if (dest[t * k + q] == dest[i]) {
                        jf = q;
                        break;
                    }
            first[i] = jf == j;
            tag_j[i] = jf;
        }
}

int exec_plan_traffic(const exec_layer_map *m, const moemap_placement *p,
                      const moemap_routing *rt, long T, int iter, int l,
                      moemap_dispatch dispatch, double *traffic, moemap_error *err)
{
    int G = m->num_gpus, k = m->top_k;
    int *dest = moemap_malloc((size_t)T * k * sizeof(int));
    int *slot = moemap_malloc((size_t)T * k * sizeof(int));
    int *tag_j = moemap_malloc((size_t)T * k * sizeof(int));
    unsigned char *first = moemap_malloc((size_t)T * k);
    int rc;
    if (!dest || !slot || !tag_j || !first) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning");
        goto done;
    }
    if ((rc = assign_rows(m, p, rt, T, iter, l, dest, slot, err)))
        goto done;
    mark_rows(dest, T, k, dispatch, first, tag_j);
    memset(traffic, 0, (size_t)G * G * sizeof *traffic);
    for (long t = 0; t < T; t++) {
        int src = home_of(t, T, G);
        for (int j = 0; j < k; j++)
            if (first[t * k + j])
                traffic[(size_t)src * G + dest[t * k + j]] += 1;
    }
done:
    moemap_free(dest);
    moemap_free(slot);
    moemap_free(tag_j);
    moemap_free(first);
    return rc;
}

int exec_plan_build(const exec_layer_map *m, const moemap_placement *p,
                    const moemap_routing *rt, long T, int iter, int l, int rank,
                    moemap_dispatch dispatch, exec_rank_plan *out, moemap_error *err)
{
    memset(out, 0, sizeof *out);
    int G = m->num_gpus, k = m->top_k;
    if (T < G)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "%ld tokens per iteration for %d GPUs: need at least one each",
                                T, G);
    if (k > 64) /* rpos below */
        return moemap_error_set(err, MOEMAP_ERANGE, "routing with %d experts per token: the "
                                "executor runs at most 64", k);
    int S = m->num_slots[l * G + rank];
    int per_gpu = dispatch == MOEMAP_DISPATCH_TOKEN_GPU;
    const float *wts = rt->weights + (size_t)m->route_layer[l] * (size_t)rt->num_tokens * k;
    long N = rt->num_tokens;
    long base = (long)(((long long)iter * T) % N);
    int *dest = moemap_malloc((size_t)T * k * sizeof(int));
    int *slot = moemap_malloc((size_t)T * k * sizeof(int));
    int *tag_j = moemap_malloc((size_t)T * k * sizeof(int));
    unsigned char *first = moemap_malloc((size_t)T * k);
    /* counts per (destination, slot) on the send side, per (source, slot) on the receive
     * side: G * max_slots each (slot 0 only under TOKEN_GPU) */
    size_t cells = (size_t)G * m->max_slots;
    long *send_cell = moemap_calloc(cells, sizeof(long));
    long *recv_cell = moemap_calloc(cells, sizeof(long));
    long *slot_off = moemap_calloc((size_t)S + 1, sizeof(long));
    long *slot_fill = moemap_calloc((size_t)S + 1, sizeof(long));
    long *red_fill = NULL;
    float *exp_w = NULL; /* [n_exp] gate weight of each expert row */
    int rc = 0;
    out->num_gpus = G;
    out->top_k = k;
    out->dispatch = dispatch;
    out->num_slots = S;
    out->tok_begin = tok_begin(T, G, rank);
    out->tok_count = tok_begin(T, G, rank + 1) - out->tok_begin;
    out->send_counts = moemap_calloc((size_t)G, sizeof(long));
    out->recv_counts = moemap_calloc((size_t)G, sizeof(long));
    out->slot_rows = moemap_calloc((size_t)S + 1, sizeof(long));
    if (!dest || !slot || !tag_j || !first || !send_cell || !recv_cell || !slot_off ||
        !slot_fill || !out->send_counts || !out->recv_counts || !out->slot_rows) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning");
        goto done;
    }
    rc = assign_rows(m, p, rt, T, iter, l, dest, slot, err);
    if (rc)
        goto done;
    mark_rows(dest, T, k, dispatch, first, tag_j);
    long tb = out->tok_begin, te = tb + out->tok_count;
    for (long t = 0; t < T; t++) {
        int src = (t >= tb && t < te) ? rank : home_of(t, T, G);
        for (int j = 0; j < k; j++) {
            long i = t * k + j;
            int cs = per_gpu ? 0 : slot[i];
            if (dest[i] == rank)
                out->slot_rows[slot[i]]++;
            if (!first[i])
                continue;
            if (src == rank) {
                send_cell[(size_t)dest[i] * m->max_slots + cs]++;
                out->send_counts[dest[i]]++;
            }
            if (dest[i] == rank) {
                recv_cell[(size_t)src * m->max_slots + cs]++;
                out->recv_counts[src]++;
            }
        }
    }
    for (int g = 0; g < G; g++) {
        out->n_send += out->send_counts[g];
        out->n_recv += out->recv_counts[g];
    }
    for (int s = 0; s < S; s++)
        out->n_exp += out->slot_rows[s];
    size_t ns = (size_t)out->n_send + 1, nr = (size_t)out->n_recv + 1;
    size_t ne = (size_t)out->n_exp + 1;
    out->send_idx = moemap_malloc(ns * sizeof(int32_t));
    out->send_tag = moemap_malloc(ns * sizeof(int32_t));
    out->comb_pos = moemap_malloc(((size_t)out->tok_count * k + 1) * sizeof(int32_t));
    out->comb_w = moemap_malloc(((size_t)out->tok_count * k + 1) * sizeof(float));
    out->perm = moemap_malloc(ne * sizeof(int32_t));
    out->recv_tag = moemap_malloc(ne * sizeof(int32_t));
    out->red_off = moemap_calloc(nr + 1, sizeof(long));
    out->red_row = moemap_malloc(ne * sizeof(int32_t));
    out->red_w = moemap_malloc(ne * sizeof(float));
    red_fill = moemap_calloc(nr, sizeof(long));
    exp_w = moemap_malloc(ne * sizeof(float));
    if (!exp_w || !out->send_idx || !out->send_tag || !out->comb_pos || !out->comb_w ||
        !out->perm || !out->recv_tag || !out->red_off || !out->red_row || !out->red_w ||
        !red_fill) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory planning");
        goto done;
    }
    /* Exclusive prefix sums turn the cell counts into start offsets, in place. */
    long acc = 0;
    for (size_t c = 0; c < cells; c++) {
        long n = send_cell[c];
        send_cell[c] = acc;
        acc += n;
    }
    acc = 0;
    for (size_t c = 0; c < cells; c++) {
        long n = recv_cell[c];
        recv_cell[c] = acc;
        acc += n;
    }
    acc = 0;
    for (int s = 0; s < S; s++) {
        slot_off[s] = acc;
        acc += out->slot_rows[s];
    }
    /* rpos[j]: the receive row of (t, j) here; sends in (destination, slot, token) order */
    long rpos[64];
    for (long t = 0; t < T; t++) {
        int src = (t >= tb && t < te) ? rank : home_of(t, T, G);
        long tok = (base + t) % N;
        for (int j = 0; j < k; j++) {
            long i = t * k + j;
            int cs = per_gpu ? 0 : slot[i];
            if (src == rank) {
                long c = (t - tb) * k + j;
                if (first[i]) {
                    long pos = send_cell[(size_t)dest[i] * m->max_slots + cs]++;
                    out->send_idx[pos] = (int32_t)(t - tb);
                    out->send_tag[pos] = (int32_t)i;
                    out->comb_pos[c] = (int32_t)pos;
                    out->comb_w[c] = per_gpu ? 1.0f : wts[tok * k + j];
                } else {
                    out->comb_pos[c] = -1;
                    out->comb_w[c] = 0.0f;
                }
            }
            if (dest[i] != rank)
                continue;
            rpos[j] = first[i] ? recv_cell[(size_t)src * m->max_slots + cs]++ : rpos[tag_j[i]];
            long epos = slot_off[slot[i]] + slot_fill[slot[i]]++;
            out->perm[epos] = (int32_t)rpos[j];
            out->recv_tag[epos] = (int32_t)(t * k + tag_j[i]);
            exp_w[epos] = wts[tok * k + j];
            out->red_off[rpos[j] + 1]++;
        }
    }
    /* The weighted sums: expert rows grouped by their receive row (CSR). */
    for (long r = 0; r < out->n_recv; r++)
        out->red_off[r + 1] += out->red_off[r];
    for (long e = 0; e < out->n_exp; e++) {
        long r = out->perm[e], q = out->red_off[r] + red_fill[r]++;
        out->red_row[q] = (int32_t)e;
        out->red_w[q] = per_gpu ? exp_w[e] : 1.0f; /* under TOKEN_GPU, the gate weight */
    }
done:
    moemap_free(dest);
    moemap_free(slot);
    moemap_free(tag_j);
    moemap_free(first);
    moemap_free(send_cell);
    moemap_free(recv_cell);
    moemap_free(slot_off);
    moemap_free(slot_fill);
    moemap_free(red_fill);
    moemap_free(exp_w);
    if (rc)
        exec_plan_clear(out);
    return rc;
}

int exec_predict(const exec_layer_map *m, const moemap_placement *p, const moemap_routing *rt,
                 const moemap_exec_params *P, int layers, const moemap_cluster *c,
                 moemap_exec_result *r, moemap_error *err)
{
    moemap_a2a_params ap = moemap_a2a_default_params();
    ap.dispatch = P->dispatch;
    ap.act_bytes = 2.0; /* rows are bf16 hidden states */
    /* the rows are those of the executed expert shape: the cluster's network with the
     * executor's hidden size */
    moemap_cluster shape = *c;
    shape.hidden = P->hidden;
    int G = m->num_gpus, rc = 0;
    long *rows = moemap_malloc((size_t)G * m->max_slots * sizeof(long));
    double *traffic = moemap_malloc((size_t)G * G * sizeof(double));
    double *disp = moemap_malloc((size_t)G * sizeof(double));
    if (!rows || !traffic || !disp)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory predicting");
    for (int it = 0; !rc && it < P->iterations; it++)
        for (int l = 0; !rc && l < layers; l++) {
            rc = exec_plan_slot_rows(m, p, rt, P->tokens_per_iter, it, l, rows, err);
            if (!rc)
                rc = exec_plan_traffic(m, p, rt, P->tokens_per_iter, it, l, P->dispatch,
                                       traffic, err);
            if (rc)
                break;
            moemap_a2a_rows_us(&shape, traffic, &ap, disp);
            for (int g = 0; g < G; g++) {
                double t = 0;
                for (int s = 0; s < m->num_slots[l * G + g]; s++)
                    t += moemap_cluster_expert_us(c, g, (double)rows[(size_t)g * m->max_slots + s]);
                MOEMAP_EXEC_AT(r, predicted_us, it, l, g) = t;
                MOEMAP_EXEC_AT(r, predicted_dispatch_us, it, l, g) = disp[g];
            }
        }
    moemap_free(rows);
    moemap_free(traffic);
    moemap_free(disp);
    return rc;
}
