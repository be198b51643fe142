/*
 * scheduler.c — continuous batching as vLLM/SGLang do it: each iteration first gives one
 * decode token to every running request that finished its prefill, then fills the rest
 * of the token budget with prefill chunks — running requests still in prefill first,
 * then new requests in arrival order (FCFS) while fewer than max_running run. A request's
 * prefill may span iterations (chunked prefill); the iteration that completes it emits
 * the first token, and each later iteration one more, until its output length.
 */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

struct scheduler {
    const moemap_arrivals *arr;
    sim_req *reqs;       /* [n] */
    long n;
    long admitted;       /* requests [0, admitted) have arrived */
    long next_start;     /* first arrived request not yet running */
    long *running;       /* [max_running] request indices */
    int *chunk;          /* [max_running] prefill tokens this iteration (-1: decode) */
    int nrun;
    int max_running;
    long budget;
    long completed;
    long tokens_out;
};

int scheduler_create(const moemap_arrivals *arr, const moemap_sim_params *params,
                     scheduler **out, moemap_error *err)
{
    if (params->max_batch_tokens < 1 || params->max_running < 1)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "token budget (%d) and max running requests (%d) must be >= 1",
                                params->max_batch_tokens, params->max_running);
    scheduler *s = moemap_calloc(1, sizeof *s);
    if (!s)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    s->arr = arr;
    s->n = arr->n;
    s->max_running = params->max_running;
    s->budget = params->max_batch_tokens;
    s->reqs = moemap_calloc((size_t)(arr->n > 0 ? arr->n : 1), sizeof *s->reqs);
    s->running = moemap_calloc((size_t)s->max_running, sizeof *s->running);
    s->chunk = moemap_calloc((size_t)s->max_running, sizeof *s->chunk);
    if (!s->reqs || !s->running || !s->chunk) {
        scheduler_free(s);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for %ld requests", arr->n);
    }
    for (long i = 0; i < arr->n; i++) {
        sim_req *q = &s->reqs[i];
        q->arrival = arr->reqs[i].arrival_s;
        q->prompt = arr->reqs[i].prompt_tokens > 0 ? arr->reqs[i].prompt_tokens : 1;
        q->output = arr->reqs[i].output_tokens > 0 ? arr->reqs[i].output_tokens : 1;
        q->first_token = -1;
        q->done = -1;
    }
    *out = s;
    return 0;
}

void scheduler_free(scheduler *s)
{
    if (!s)
        return;
    moemap_free(s->reqs);
    moemap_free(s->running);
    moemap_free(s->chunk);
    moemap_free(s);
}

double scheduler_admit(scheduler *s, double t)
{
    while (s->admitted < s->n && s->reqs[s->admitted].arrival <= t)
        s->admitted++;
    return s->admitted < s->n ? s->reqs[s->admitted].arrival : INFINITY;
}

/* Adds a prefill chunk of c tokens of request q (starting at its progress) to the batch. */
static void add_prefill(sim_batch *b, const sim_req *q, int c)
{
    double p = q->prefilled;
    b->tokens += c;
    b->attn_ctx += c * p + 0.5 * (double)c * (c + 1);
    b->kv_read += p + c;
    if (q->prefilled + c == q->prompt)
        b->prefill_done++;
}

int scheduler_form(scheduler *s, sim_batch *b)
{
    memset(b, 0, sizeof *b);
    long left = s->budget;
    /* Decode tokens first: running requests past their prefill. */
    for (int i = 0; i < s->nrun; i++) {
        sim_req *q = &s->reqs[s->running[i]];
        s->chunk[i] = 0;
        if (q->prefilled == q->prompt && left > 0) {
            double ctx = (double)q->prompt + q->generated;
            s->chunk[i] = -1;
            b->tokens++;
            b->decode++;
            b->attn_ctx += ctx;
            b->kv_read += ctx;
            left--;
        }
    }
    /* Running requests still in prefill. */
    for (int i = 0; i < s->nrun && left > 0; i++) {
        sim_req *q = &s->reqs[s->running[i]];
        if (q->prefilled < q->prompt) {
            long c = q->prompt - q->prefilled;
            if (c > left)
                c = left;
            s->chunk[i] = (int)c;
            add_prefill(b, q, (int)c);
            left -= c;
        }
    }
    /* New requests, FCFS. */
    while (left > 0 && s->nrun < s->max_running && s->next_start < s->admitted) {
        long idx = s->next_start++;
        sim_req *q = &s->reqs[idx];
        long c = q->prompt < left ? q->prompt : left;
        s->running[s->nrun] = idx;
        s->chunk[s->nrun] = (int)c;
        s->nrun++;
        add_prefill(b, q, (int)c);
        left -= c;
    }
    return b->tokens > 0;
}

void scheduler_commit(scheduler *s, double t, void (*on_first)(void *, const sim_req *),
                      void *ctx)
{
    int w = 0;
    for (int i = 0; i < s->nrun; i++) {
        long idx = s->running[i];
        sim_req *q = &s->reqs[idx];
        if (s->chunk[i] > 0) {
            q->prefilled += s->chunk[i];
            if (q->prefilled == q->prompt) {
                q->generated = 1;
                q->first_token = t;
                s->tokens_out++;
                if (on_first)
                    on_first(ctx, q);
            }
        } else if (s->chunk[i] < 0) {
            q->generated++;
            s->tokens_out++;
        }
        if (q->first_token >= 0 && q->generated >= q->output) {
            q->done = t;
            s->completed++;
            continue; /* leaves the running set */
        }
        s->running[w] = idx;
        s->chunk[w] = 0;
        w++;
    }
    s->nrun = w;
}

long scheduler_pending(const scheduler *s) { return s->admitted - s->completed; }
long scheduler_arrived(const scheduler *s) { return s->admitted; }
long scheduler_completed(const scheduler *s) { return s->completed; }
long scheduler_tokens_out(const scheduler *s) { return s->tokens_out; }

const sim_req *scheduler_requests(const scheduler *s, long *n)
{
    *n = s->n;
    return s->reqs;
}
