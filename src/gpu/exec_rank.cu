/*
 * exec_rank.cu — what one executor rank (one GPU) does: set up its streams (the expert
 * compute stream inside a green context when --sm-limit asks for fewer SMs), its NCCL
 * communicator and its expert FFN runner; then, per placement, build its dispatch plans,
 * hold the weights of its replicas, and run warm-up and timed iterations of every layer:
 *
 *   gather own rows -> all-to-all (NCCL grouped send/recv) -> regroup by expert
 *   -> expert FFNs (compute stream) -> barrier (waits for the slowest GPU)
 *   -> back to arrival order -> all-to-all back -> gate-weighted combine
 *
 * with CUDA events around each phase. Plans are uploaded and every token count the FFN
 * will see is autotuned before timing, so the timed loop does no host-side waiting other
 * than one synchronisation per iteration to read the events.
 */
#ifdef MOEMAP_HAVE_NCCL /* without NCCL, exec_launch.cu answers ENOTSUP */
#include <cuda_bf16.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"
#include "exec_check.h"
#include "exec_kernels.h"
#include "exec_rank.h"
#include "expert_ffn.h"
#include "green_ctx.h"

enum { EV_START, EV_DISPATCHED, EV_COMPUTED, EV_WAITED, EV_DONE, EV_COUNT };

/* One plan on the device, with the host numbers the loop needs. */
typedef struct dev_plan {
    exec_rank_plan h;       /* host copy (counts, tags for the check) */
    long *pstart;           /* [num_slots + 1] padded start row of each slot */
    long n_exp_pad;         /* expert rows with each slot's start aligned */
    void *blob;             /* one device allocation for the arrays below */
    int32_t *send_idx, *comb_pos, *perm, *prow, *send_tag, *red_off, *red_row;
    float *comb_w, *red_w;
} dev_plan;

typedef struct rank_state {
    int rank, G, device, H, I, k;
    CUcontext primary;
    cudaStream_t main, cstream;
    mm_green_ctx *green;
    mm_expert_ffn *ffn;
    ncclComm_t comm;
    int have_comm;
    cudaEvent_t *ev;        /* [layers * EV_COUNT] on main */
    cudaEvent_t *cev;       /* [layers * 2] on the compute stream */
    float *barrier;
    /* buffers, sized for the largest plan of the current placement */
    void *x, *sendbuf, *recvbuf, *xe, *ye;
    float *out;
    int32_t *tag_send, *tag_recv, *tag_e;
    long cap_send, cap_recv, cap_pad, cap_tok;
    void **w13, **w2;       /* [layers * max_slots] device pointers into wblob */
    void **wblob;           /* [layers] */
} rank_state;

static int use_green(rank_state *s, moemap_error *err)
{
    return s->green ? mm_green_ctx_make_current(s->green, err) : 0;
}

static int use_primary(rank_state *s, moemap_error *err)
{
    MM_CU_CHECK(cuCtxSetCurrent(s->primary), err);
    return 0;
}

static void plan_free(dev_plan *p)
{
    exec_plan_clear(&p->h);
    moemap_free(p->pstart);
    cudaFree(p->blob);
    memset(p, 0, sizeof *p);
}

/* Rows of slot s start at a multiple of rows_align so that every expert's input and
 * output are 256-byte aligned (cuBLASLt's requirement in expert_ffn). */
static int plan_upload(rank_state *s, dev_plan *p, moemap_error *err)
{
    const exec_rank_plan *h = &p->h;
    int a = 128;
    for (int x = s->H % 128; x; ) { int t = a % x; a = x; x = t; } /* gcd(H, 128) */
    long rows_align = 128 / a;
    p->pstart = (long *)moemap_malloc(((size_t)h->num_slots + 1) * sizeof(long));
    int32_t *prow = (int32_t *)moemap_malloc(((size_t)h->n_exp + 1) * sizeof(int32_t));
    /* the sums' expert rows by padded position, offsets as int32 for the kernel */
    int32_t *red_row = (int32_t *)moemap_malloc(((size_t)h->n_exp + 1) * sizeof(int32_t));
    int32_t *red_off = (int32_t *)moemap_malloc(((size_t)h->n_recv + 1) * sizeof(int32_t));
    int rc = 0;
    char *blob = NULL;
    if (!p->pstart || !prow || !red_row || !red_off) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory uploading a plan");
        goto done;
    }
    {
        long row = 0, e = 0;
        for (int sl = 0; sl < h->num_slots; sl++) {
            row = (row + rows_align - 1) / rows_align * rows_align;
            p->pstart[sl] = row;
            for (long i = 0; i < h->slot_rows[sl]; i++)
                prow[e++] = (int32_t)(row + i);
            row += h->slot_rows[sl];
        }
        p->pstart[h->num_slots] = row;
        p->n_exp_pad = row;
    }
    for (long q = 0; q < h->n_exp; q++)
        red_row[q] = prow[h->red_row[q]];
    for (long r = 0; r <= h->n_recv; r++)
        red_off[r] = (int32_t)h->red_off[r];
    {
        size_t nt = (size_t)h->tok_count * h->top_k, ne = (size_t)h->n_exp * 4;
        enum { NARR = 9 };
        size_t sizes[NARR] = {(size_t)h->n_send * 4, nt * 4, ne, ne, (size_t)h->n_send * 4,
                              nt * 4, ((size_t)h->n_recv + 1) * 4, ne, ne};
        const void *srcs[NARR] = {h->send_idx, h->comb_pos, h->perm, prow, h->send_tag,
                                  h->comb_w, red_off, red_row, h->red_w};
        size_t off[NARR], total = 0;
        for (int i = 0; i < NARR; i++) {
            off[i] = total;
            total += (sizes[i] + 255) / 256 * 256;
        }
        MM_CUDA_GOTO(cudaMalloc((void **)&blob, total ? total : 256), err, rc, done);
        p->blob = blob;
        for (int i = 0; i < NARR; i++)
            if (sizes[i])
                MM_CUDA_GOTO(cudaMemcpy(blob + off[i], srcs[i], sizes[i], cudaMemcpyHostToDevice),
                             err, rc, done);
        p->send_idx = (int32_t *)(blob + off[0]);
        p->comb_pos = (int32_t *)(blob + off[1]);
        p->perm = (int32_t *)(blob + off[2]);
        p->prow = (int32_t *)(blob + off[3]);
        p->send_tag = (int32_t *)(blob + off[4]);
        p->comb_w = (float *)(blob + off[5]);
        p->red_off = (int32_t *)(blob + off[6]);
        p->red_row = (int32_t *)(blob + off[7]);
        p->red_w = (float *)(blob + off[8]);
    }
done:
    moemap_free(prow);
    moemap_free(red_row);
    moemap_free(red_off);
    return rc;
}

static void buffers_free(rank_state *s, int layers)
{
    void *bufs[] = {s->x, s->sendbuf, s->recvbuf, s->xe, s->ye, s->out,
                    s->tag_send, s->tag_recv, s->tag_e};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        cudaFree(bufs[i]);
    s->x = s->sendbuf = s->recvbuf = s->xe = s->ye = NULL;
    s->out = NULL;
    s->tag_send = s->tag_recv = s->tag_e = NULL;
    for (int l = 0; s->wblob && l < layers; l++)
        cudaFree(s->wblob[l]);
    moemap_free(s->wblob), moemap_free(s->w13), moemap_free(s->w2);
    s->wblob = NULL, s->w13 = s->w2 = NULL;
}

/* Device buffers for the largest plan, the placement's weights (deterministic values,
 * the same for every replica of an expert) and the hidden states of this rank's tokens. */
static int buffers_alloc(rank_state *s, const exec_job *job, const exec_layer_map *m,
                         const dev_plan *plans, int nplans, moemap_error *err)
{
    const moemap_exec_params *P = job->params;
    long ms = 1, mr = 1, me = 1, mp = 1, mt = 1;
    for (int i = 0; i < nplans; i++) {
        ms = plans[i].h.n_send > ms ? plans[i].h.n_send : ms;
        mr = plans[i].h.n_recv > mr ? plans[i].h.n_recv : mr;
        me = plans[i].h.n_exp > me ? plans[i].h.n_exp : me;
        mp = plans[i].n_exp_pad > mp ? plans[i].n_exp_pad : mp;
        mt = plans[i].h.tok_count > mt ? plans[i].h.tok_count : mt;
    }
    size_t row = (size_t)s->H * sizeof(__nv_bfloat16);
    int rc = 0;
    MM_CUDA_CHECK(cudaMalloc(&s->x, mt * row), err);
    MM_CUDA_CHECK(cudaMalloc(&s->sendbuf, ms * row), err);
    MM_CUDA_CHECK(cudaMalloc(&s->recvbuf, mr * row), err);
    MM_CUDA_CHECK(cudaMalloc(&s->xe, mp * row), err);
    MM_CUDA_CHECK(cudaMalloc(&s->ye, mp * row), err);
    MM_CUDA_CHECK(cudaMalloc((void **)&s->out, mt * s->H * sizeof(float)), err);
    if (P->check) {
        MM_CUDA_CHECK(cudaMalloc((void **)&s->tag_send, ms * sizeof(int32_t)), err);
        MM_CUDA_CHECK(cudaMalloc((void **)&s->tag_recv, mr * sizeof(int32_t)), err);
        MM_CUDA_CHECK(cudaMalloc((void **)&s->tag_e, me * sizeof(int32_t)), err);
    }
    s->cap_send = ms, s->cap_recv = mr, s->cap_pad = mp, s->cap_tok = mt;
    /* hidden states: token (tok_begin + i) of the iteration; every iteration reuses them */
    long tb = plans[0].h.tok_begin, tc = plans[0].h.tok_count;
    if ((rc = exec_fill(s->x, (size_t)tc * s->H, P->seed, exec_stream_id(EXEC_KIND_HIDDEN, 0, 0),
                        (uint64_t)tb * s->H, 1.0f, s->main, err)))
        return rc;
    int L = job->layers, S = m->max_slots;
    s->wblob = (void **)moemap_calloc((size_t)L, sizeof(void *));
    s->w13 = (void **)moemap_calloc((size_t)L * S, sizeof(void *));
    s->w2 = (void **)moemap_calloc((size_t)L * S, sizeof(void *));
    if (!s->wblob || !s->w13 || !s->w2)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for weight tables");
    size_t n13 = (size_t)2 * s->I * s->H, n2 = (size_t)s->H * s->I;
    size_t off2 = (n13 * 2 + 255) / 256 * 256, per = off2 + (n2 * 2 + 255) / 256 * 256;
    for (int l = 0; l < L; l++) {
        int ns = m->num_slots[l * s->G + s->rank];
        if (ns == 0)
            continue;
        MM_CUDA_CHECK(cudaMalloc(&s->wblob[l], per * ns), err);
        for (int sl = 0; sl < ns; sl++) {
            int e = m->slot_expert[((size_t)l * s->G + s->rank) * S + sl];
            char *w = (char *)s->wblob[l] + per * sl;
            s->w13[l * S + sl] = w;
            s->w2[l * S + sl] = w + off2;
            if ((rc = exec_fill(w, n13, P->seed, exec_stream_id(EXEC_KIND_GATEUP, m->layer_id[l], e),
                                0, exec_weight_scale(s->H), s->main, err)) ||
                (rc = exec_fill(s->w2[l * S + sl], n2, P->seed,
                                exec_stream_id(EXEC_KIND_DOWN, m->layer_id[l], e), 0,
                                exec_weight_scale(s->I), s->main, err)))
                return rc;
        }
    }
    MM_CUDA_CHECK(cudaStreamSynchronize(s->main), err);
    return 0;
}

/* Autotunes every distinct per-expert row count of the plans (the FFN would otherwise
 * tune inside the timed loop). Weight sets rotate over the first layer's slots. */
static int tune_counts(rank_state *s, const exec_layer_map *m, const dev_plan *plans,
                       int nplans, int L, moemap_error *err)
{
    int S = m->max_slots;
    long maxc = 0;
    for (int i = 0; i < nplans; i++)
        for (int sl = 0; sl < plans[i].h.num_slots; sl++)
            maxc = plans[i].h.slot_rows[sl] > maxc ? plans[i].h.slot_rows[sl] : maxc;
    unsigned char *seen = (unsigned char *)moemap_calloc((size_t)maxc + 1, 1);
    if (!seen)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int i = 0; i < nplans; i++)
        for (int sl = 0; sl < plans[i].h.num_slots; sl++)
            seen[plans[i].h.slot_rows[sl]] = 1;
    const void *w13[4], *w2[4];
    int nsets = 0;
    for (int l = 0; l < L && nsets < 4; l++)
        for (int sl = 0; sl < m->num_slots[l * s->G + s->rank] && nsets < 4; sl++) {
            w13[nsets] = s->w13[l * S + sl];
            w2[nsets] = s->w2[l * S + sl];
            nsets++;
        }
    int rc = 0;
    for (long c = 1; c <= maxc && nsets > 0 && !rc; c++)
        if (seen[c])
            rc = mm_expert_ffn_tune(s->ffn, (int)c, nsets, w13, w2, s->xe, s->ye, err);
    moemap_free(seen);
    mm_expert_ffn_set_autotune(s->ffn, 0);
    return rc;
}

/* All-to-all of rows: block p of `send` (scnt[p] rows) goes to rank p, block p of `recv`
 * (rcnt[p] rows) comes from rank p; the rank's own block is a device copy. With tags, the
 * same for one int32 per row. */
static int all_to_all(rank_state *s, const void *send, const long *scnt, void *recv,
                      const long *rcnt, const int32_t *tsend, int32_t *trecv,
                      moemap_error *err)
{
    size_t row = (size_t)s->H * sizeof(__nv_bfloat16);
    long so = 0, ro = 0;
    MM_NCCL_CHECK(ncclGroupStart(), err);
    for (int p = 0; p < s->G; p++) {
        if (p == s->rank) {
            if (scnt[p])
                MM_CUDA_CHECK(cudaMemcpyAsync((char *)recv + ro * row, (const char *)send + so * row,
                                              scnt[p] * row, cudaMemcpyDeviceToDevice, s->main),
                              err);
            if (tsend && scnt[p])
                MM_CUDA_CHECK(cudaMemcpyAsync(trecv + ro, tsend + so, scnt[p] * 4,
                                              cudaMemcpyDeviceToDevice, s->main), err);
        } else {
            if (scnt[p])
                MM_NCCL_CHECK(ncclSend((const char *)send + so * row, scnt[p] * s->H,
                                       ncclBfloat16, p, s->comm, s->main), err);
            if (rcnt[p])
                MM_NCCL_CHECK(ncclRecv((char *)recv + ro * row, rcnt[p] * s->H, ncclBfloat16,
                                       p, s->comm, s->main), err);
            if (tsend && scnt[p])
                MM_NCCL_CHECK(ncclSend(tsend + so, scnt[p], ncclInt32, p, s->comm, s->main), err);
            if (tsend && rcnt[p])
                MM_NCCL_CHECK(ncclRecv(trecv + ro, rcnt[p], ncclInt32, p, s->comm, s->main), err);
        }
        so += scnt[p];
        ro += rcnt[p];
    }
    MM_NCCL_CHECK(ncclGroupEnd(), err);
    return 0;
}

/* Enqueues one layer; events bracket the phases. */
static int run_layer(rank_state *s, const exec_layer_map *m, const dev_plan *p, int l,
                     int check, moemap_error *err)
{
    const exec_rank_plan *h = &p->h;
    cudaEvent_t *ev = s->ev + l * EV_COUNT, *cev = s->cev + l * 2;
    int S = m->max_slots, rc;
    MM_CUDA_CHECK(cudaEventRecord(ev[EV_START], s->main), err);
    if ((rc = exec_copy_rows(s->sendbuf, NULL, s->x, p->send_idx, h->n_send, s->H, s->main, err)))
        return rc;
    if ((rc = all_to_all(s, s->sendbuf, h->send_counts, s->recvbuf, h->recv_counts,
                         check ? p->send_tag : NULL, s->tag_recv, err)))
        return rc;
    /* regroup by expert: a row whose token chose several experts here feeds each */
    if ((rc = exec_copy_rows(s->xe, p->prow, s->recvbuf, p->perm, h->n_exp, s->H, s->main, err)))
        return rc;
    if (check && (rc = exec_copy_tags(s->tag_e, NULL, s->tag_recv, p->perm, h->n_exp, s->main,
                                      err)))
        return rc;
    MM_CUDA_CHECK(cudaEventRecord(ev[EV_DISPATCHED], s->main), err);

    /* expert compute on the (possibly green) compute stream */
    MM_CUDA_CHECK(cudaStreamWaitEvent(s->cstream, ev[EV_DISPATCHED], 0), err);
    if ((rc = use_green(s, err)))
        return rc;
    MM_CUDA_CHECK(cudaEventRecord(cev[0], s->cstream), err);
    size_t row = (size_t)s->H * sizeof(__nv_bfloat16);
    for (int sl = 0; sl < h->num_slots; sl++) {
        if (h->slot_rows[sl] == 0)
            continue;
        if ((rc = mm_expert_ffn_run(s->ffn, (int)h->slot_rows[sl],
                                    (char *)s->xe + p->pstart[sl] * row, s->w13[l * S + sl],
                                    s->w2[l * S + sl], (char *)s->ye + p->pstart[sl] * row,
                                    err)))
            return rc;
    }
    MM_CUDA_CHECK(cudaEventRecord(cev[1], s->cstream), err);
    if ((rc = use_primary(s, err)))
        return rc;
    MM_CUDA_CHECK(cudaStreamWaitEvent(s->main, cev[1], 0), err);
    MM_CUDA_CHECK(cudaEventRecord(ev[EV_COMPUTED], s->main), err);

    /* barrier: how long this GPU waits for the slowest one */
    MM_NCCL_CHECK(ncclAllReduce(s->barrier, s->barrier, 1, ncclFloat, ncclSum, s->comm, s->main),
                  err);
    MM_CUDA_CHECK(cudaEventRecord(ev[EV_WAITED], s->main), err);

    /* combine: each received row becomes its expert rows' weighted sum (weight 1 when the
     * origin applies the gate weights), goes home, and is summed there */
    if ((rc = exec_reduce_rows(s->recvbuf, p->red_off, p->red_row, p->red_w, s->ye, h->n_recv,
                               s->H, s->main, err)))
        return rc;
    /* tags back to arrival order (a row's expert rows carry the same tag) */
    if (check && (rc = exec_copy_tags(s->tag_recv, p->perm, s->tag_e, NULL, h->n_exp, s->main,
                                      err)))
        return rc;
    if ((rc = all_to_all(s, s->recvbuf, h->recv_counts, s->sendbuf, h->send_counts,
                         check ? s->tag_recv : NULL, s->tag_send, err)))
        return rc;
    if ((rc = exec_combine(s->out, s->sendbuf, p->comb_pos, p->comb_w, h->tok_count, h->top_k,
                           s->H, s->main, err)))
        return rc;
    MM_CUDA_CHECK(cudaEventRecord(ev[EV_DONE], s->main), err);
    return 0;
}

/* After a checked layer: the outputs against the CPU reference, and the tags. */
static int check_layer(rank_state *s, const exec_job *job, const exec_layer_map *m,
                       const dev_plan *p, int it, int l, exec_check_acc *acc, moemap_error *err)
{
    const exec_rank_plan *h = &p->h;
    MM_CUDA_CHECK(cudaStreamSynchronize(s->main), err);
    size_t nout = (size_t)h->tok_count * s->H;
    float *out = (float *)moemap_malloc(nout * sizeof(float) + 1);
    int32_t *te = (int32_t *)moemap_malloc(((size_t)h->n_exp + 1) * 4);
    int32_t *ts = (int32_t *)moemap_malloc(((size_t)h->n_send + 1) * 4);
    int rc = 0;
    if (!out || !te || !ts) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for the check");
        goto done;
    }
    MM_CUDA_GOTO(cudaMemcpy(out, s->out, nout * sizeof(float), cudaMemcpyDeviceToHost), err, rc,
                 done);
    MM_CUDA_GOTO(cudaMemcpy(te, s->tag_e, (size_t)h->n_exp * 4, cudaMemcpyDeviceToHost), err, rc,
                 done);
    MM_CUDA_GOTO(cudaMemcpy(ts, s->tag_send, (size_t)h->n_send * 4, cudaMemcpyDeviceToHost), err,
                 rc, done);
    /* rows that arrived at this GPU, in expert order, and rows that came home */
    {
        exec_check_acc arrived;
        memset(&arrived, 0, sizeof arrived);
        exec_check_tags(te, h->recv_tag, h->n_exp, &arrived);
        acc->tag_errors += arrived.tag_errors;
    }
    exec_check_tags(ts, h->send_tag, h->n_send, acc);
    acc->rows_expected += h->n_send;
    {
        exec_check_in in;
        memset(&in, 0, sizeof in);
        in.rt = job->rt;
        in.route_layer = m->route_layer[l];
        in.layer_id = m->layer_id[l];
        in.hidden = s->H;
        in.inter = s->I;
        in.seed = job->params->seed;
        in.tokens_per_iter = job->params->tokens_per_iter;
        in.iter = it;
        in.tok_begin = h->tok_begin;
        in.tok_count = h->tok_count;
        in.out = out;
        rc = exec_check_layer(&in, acc, err);
    }
done:
    moemap_free(out), moemap_free(te), moemap_free(ts);
    return rc;
}

static int setup(rank_state *s, const exec_job *job, moemap_exec_result *const *results,
                 moemap_error *err)
{
    const moemap_exec_params *P = job->params;
    int L = job->layers, rc = 0;
    MM_CUDA_CHECK(cudaSetDevice(s->device), err);
    MM_CUDA_CHECK(cudaFree(0), err); /* creates the primary context */
    MM_CU_CHECK(cuCtxGetCurrent(&s->primary), err);
    cudaDeviceProp prop;
    MM_CUDA_CHECK(cudaGetDeviceProperties(&prop, s->device), err);
    MM_CUDA_CHECK(cudaStreamCreateWithFlags(&s->main, cudaStreamNonBlocking), err);
    MM_CUDA_CHECK(cudaMalloc((void **)&s->barrier, sizeof(float)), err);
    MM_CUDA_CHECK(cudaMemset(s->barrier, 0, sizeof(float)), err);
    s->ev = (cudaEvent_t *)moemap_calloc((size_t)L * EV_COUNT, sizeof(cudaEvent_t));
    s->cev = (cudaEvent_t *)moemap_calloc((size_t)L * 2, sizeof(cudaEvent_t));
    if (!s->ev || !s->cev)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for events");
    for (int i = 0; i < L * EV_COUNT; i++)
        MM_CUDA_CHECK(cudaEventCreate(&s->ev[i]), err);
    int sms = prop.multiProcessorCount;
    int limit = s->rank < P->num_sm_limit ? P->sm_limit[s->rank] : 0;
    if (limit > 0 && limit < prop.multiProcessorCount) {
        if ((rc = mm_green_ctx_create(s->device, limit, &s->green, err))) {
            moemap_error_prefix(err, "GPU %d: --sm-limit %d", s->rank, limit);
            return rc;
        }
        sms = mm_green_ctx_sm_count(s->green);
        s->cstream = mm_green_ctx_stream(s->green);
        if ((rc = use_green(s, err)))
            return rc;
    } else {
        MM_CUDA_CHECK(cudaStreamCreateWithFlags(&s->cstream, cudaStreamNonBlocking), err);
    }
    /* compute-stream events and the FFN belong to the compute stream's context */
    for (int i = 0; i < L * 2; i++)
        MM_CUDA_CHECK(cudaEventCreate(&s->cev[i]), err);
    long max_tok = P->tokens_per_iter; /* an expert gets at most one row per token */
    if ((rc = mm_expert_ffn_create(s->H, s->I, (int)max_tok, s->cstream, &s->ffn, err)))
        return rc;
    if ((rc = use_primary(s, err)))
        return rc;
    for (int i = 0; i < job->num_placements; i++) {
        snprintf(results[i]->device_names[s->rank], sizeof results[i]->device_names[0], "%.63s",
                 prop.name);
        results[i]->device_sms[s->rank] = sms;
    }
    return 0;
}

static void state_free(rank_state *s, const exec_job *job)
{
    buffers_free(s, job->layers);
    if (s->green)
        mm_green_ctx_make_current(s->green, NULL);
    mm_expert_ffn_free(s->ffn);
    for (int i = 0; s->cev && i < job->layers * 2; i++)
        if (s->cev[i])
            cudaEventDestroy(s->cev[i]);
    if (s->primary)
        cuCtxSetCurrent(s->primary);
    if (s->green)
        mm_green_ctx_free(s->green); /* destroys its stream */
    else if (s->cstream)
        cudaStreamDestroy(s->cstream);
    if (s->primary)
        cuCtxSetCurrent(s->primary);
    for (int i = 0; s->ev && i < job->layers * EV_COUNT; i++)
        if (s->ev[i])
            cudaEventDestroy(s->ev[i]);
    moemap_free(s->ev), moemap_free(s->cev);
    if (s->have_comm && !(job->comm_aborted && job->comm_aborted[s->rank]))
        ncclCommDestroy(s->comm);
    cudaFree(s->barrier);
    if (s->main)
        cudaStreamDestroy(s->main);
}

/* Reads one iteration's events into the result's column of this rank. */
static int read_events(rank_state *s, const dev_plan *plans, int it, int L,
                       moemap_exec_result *res, moemap_error *err)
{
    /* the compute events belong to the compute stream's (green) context */
    int rc = use_green(s, err);
    for (int l = 0; !rc && l < L; l++) {
        float c = 0;
        cudaError_t e = cudaEventElapsedTime(&c, s->cev[l * 2], s->cev[l * 2 + 1]);
        if (e != cudaSuccess)
            rc = moemap_error_set(err, MOEMAP_EGPU, "GPU %d: compute events: %s", s->rank,
                                  cudaGetErrorName(e));
        MOEMAP_EXEC_AT(res, compute_us, it, l, s->rank) = 1000.0 * c;
    }
    int rc2 = use_primary(s, err);
    if (rc || rc2)
        return rc ? rc : rc2;
    for (int l = 0; l < L; l++) {
        cudaEvent_t *ev = s->ev + l * EV_COUNT;
        float d, w, cb, ly;
        MM_CUDA_CHECK(cudaEventElapsedTime(&d, ev[EV_START], ev[EV_DISPATCHED]), err);
        MM_CUDA_CHECK(cudaEventElapsedTime(&w, ev[EV_COMPUTED], ev[EV_WAITED]), err);
        MM_CUDA_CHECK(cudaEventElapsedTime(&cb, ev[EV_WAITED], ev[EV_DONE]), err);
        MM_CUDA_CHECK(cudaEventElapsedTime(&ly, ev[EV_START], ev[EV_DONE]), err);
        const exec_rank_plan *h = &plans[it * L + l].h;
        long rows = 0, active = 0;
        for (int sl = 0; sl < h->num_slots; sl++) {
            rows += h->slot_rows[sl];
            active += h->slot_rows[sl] > 0;
        }
        MOEMAP_EXEC_AT(res, dispatch_us, it, l, s->rank) = 1000.0 * d;
        MOEMAP_EXEC_AT(res, wait_us, it, l, s->rank) = 1000.0 * w;
        MOEMAP_EXEC_AT(res, combine_us, it, l, s->rank) = 1000.0 * cb;
        MOEMAP_EXEC_AT(res, layer_us, it, l, s->rank) = 1000.0 * ly;
        MOEMAP_EXEC_AT(res, rows, it, l, s->rank) = rows;
        MOEMAP_EXEC_AT(res, replicas_active, it, l, s->rank) = active;
    }
    return 0;
}

/* One placement on this rank: plans, weights, tuning, then warm-up and timed steps. */
static int run_placement(rank_state *s, exec_job *job, int pi, long *progress_done,
                         long progress_total, moemap_error *err)
{
    const moemap_exec_params *P = job->params;
    const exec_layer_map *m = &job->maps[pi];
    moemap_exec_result *res = job->results[pi];
    int L = job->layers, iters = P->iterations, rc = 0;
    int nplans = iters * L;
    dev_plan *plans = (dev_plan *)moemap_calloc((size_t)nplans, sizeof(dev_plan));
    exec_check_acc *acc = &job->acc[(size_t)pi * job->num_gpus + s->rank];
    if (!plans)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for plans");
    for (int it = 0; !rc && it < iters; it++)
        for (int l = 0; !rc && l < L; l++) {
            dev_plan *p = &plans[it * L + l];
            rc = exec_plan_build(m, job->placements[pi], job->rt, P->tokens_per_iter, it, l,
                                 s->rank, P->dispatch, &p->h, err);
            if (!rc)
                rc = plan_upload(s, p, err);
        }
    if (!rc)
        rc = buffers_alloc(s, job, m, plans, nplans, err);
    if (!rc && (rc = use_green(s, err)) == 0) {
        mm_expert_ffn_set_autotune(s->ffn, 1);
        rc = tune_counts(s, m, plans, nplans, L, err);
        int rc2 = use_primary(s, err);
        rc = rc ? rc : rc2;
    }
    int other = job->agree(job, s->rank, rc);
    if (!rc && other)
        rc = moemap_error_set(err, MOEMAP_EGPU, "another GPU failed to set up placement %d", pi);
    for (int step = 0; !rc && !other && step < P->warmup + iters; step++) {
        int timed = step >= P->warmup;
        int it = timed ? step - P->warmup : step % iters;
        /* line the ranks up so each iteration starts together */
        if (ncclAllReduce(s->barrier, s->barrier, 1, ncclFloat, ncclSum, s->comm, s->main) !=
            ncclSuccess)
            rc = moemap_error_set(err, MOEMAP_EGPU, "NCCL barrier failed on GPU %d", s->rank);
        for (int l = 0; !rc && l < L; l++) {
            rc = run_layer(s, m, &plans[it * L + l], l, P->check && timed, err);
            if (!rc && P->check && timed)
                rc = check_layer(s, job, m, &plans[it * L + l], it, l, acc, err);
        }
        if (!rc && cudaStreamSynchronize(s->main) != cudaSuccess)
            rc = moemap_error_set(err, MOEMAP_EGPU, "GPU %d: %s", s->rank,
                                  cudaGetErrorString(cudaGetLastError()));
        if (!rc && timed)
            rc = read_events(s, plans, it, L, res, err);
        if (rc)
            job->fail_all(job, s->rank);
        (*progress_done)++;
        if (s->rank == 0 && P->progress)
            P->progress(P->progress_ctx, "steps", *progress_done, progress_total);
    }
    if (!rc && other)
        rc = MOEMAP_EGPU;
    for (int i = 0; plans && i < nplans; i++)
        plan_free(&plans[i]);
    moemap_free(plans);
    buffers_free(s, L);
    return rc;
}

extern "C" int exec_rank_run(exec_job *job, int rank, int device, moemap_error *err)
{
    rank_state s;
    memset(&s, 0, sizeof s);
    s.rank = rank;
    s.G = job->num_gpus;
    s.device = device;
    s.H = job->params->hidden;
    s.I = job->params->intermediate;
    s.k = job->rt->top_k;
    int rc = setup(&s, job, job->results, err);
    int other = job->agree(job, rank, rc);
    if (!rc && other)
        rc = moemap_error_set(err, MOEMAP_EGPU, "another GPU failed to start");
    if (!rc) {
        ncclResult_t nr = ncclCommInitRank(&s.comm, s.G, job->id, rank);
        if (nr != ncclSuccess)
            rc = moemap_error_set(err, MOEMAP_EGPU, "GPU %d: ncclCommInitRank failed: %s", rank,
                                  ncclGetErrorString(nr));
        else {
            s.have_comm = 1;
            if (job->comms)
                job->comms[rank] = s.comm;
        }
        other = job->agree(job, rank, rc);
        if (!rc && other)
            rc = moemap_error_set(err, MOEMAP_EGPU, "NCCL failed to start on another GPU");
    }
    long done = 0, total = (long)job->num_placements * (job->params->warmup + job->params->iterations);
    for (int pi = 0; !rc && pi < job->num_placements; pi++)
        rc = run_placement(&s, job, pi, &done, total, err);
    state_free(&s, job);
    return rc;
}
#endif /* MOEMAP_HAVE_NCCL */
