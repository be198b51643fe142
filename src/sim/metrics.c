/*
 * metrics.c — what users feel, from the simulated requests: TTFT, TPOT and end-to-end
 * latency percentiles, SLO attainment, goodput and throughput; what operators watch:
 * per-GPU barrier idle time, migration bytes and stall; and a per-second time series
 * (p90 TTFT, straggler time, tokens/s) with event markers. Also the JSON rendering of a
 * result, whose keys docs/simulate.md documents (kept stable for the report).
 *
 * The time series is sparse: only buckets with an iteration or a first token are
 * recorded, and an idle stretch longer than MOEMAP_SIM_TS_MAX_GAP buckets is skipped in
 * the result rather than filled with zeros. A dense series grew with the trace's time
 * span, not its work: one request at t = 10^9 s made 10^8 buckets and 17 GB.
 */
#include "sim_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct ttft_rec {
    long long bucket;
    double ttft;
} ttft_rec;

/* One non-empty bucket of the time series. */
typedef struct ts_rec {
    long long bucket;
    double straggler;       /* seconds */
    double tokens;
} ts_rec;

struct metrics {
    moemap_sim_params params;
    int G;
    double *idle;           /* [G] */
    double dt;
    long ts_cap;
    long ts_n;
    ts_rec *ts;             /* [ts_n] non-empty buckets in time order */
    ttft_rec *firsts;
    long nfirst, capfirst;
    moemap_sim_marker *markers;
    int nmark, capmark;
    long last_tokens_out;
    double busy_s, moe_s, tokens;
    long oom;               /* allocation failures while recording (reported) */
};

int metrics_create(const moemap_sim_params *params, int num_gpus, metrics **out,
                   moemap_error *err)
{
    metrics *m = moemap_calloc(1, sizeof *m);
    if (!m)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    m->params = *params;
    m->G = num_gpus;
    m->dt = params->timeseries_dt > 0 ? params->timeseries_dt : 1.0;
    m->idle = moemap_calloc((size_t)num_gpus, sizeof *m->idle);
    if (!m->idle) {
        metrics_free(m);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    }
    *out = m;
    return 0;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    moemap_free(m->idle);
    moemap_free(m->ts);
    moemap_free(m->firsts);
    moemap_free(m->markers);
    moemap_free(m);
}

double *metrics_idle(metrics *m) { return m->idle; }

/* The record of bucket k (the last one, or a new one after it); NULL when out of
 * memory. Iterations end in time order, so k never goes back. */
static ts_rec *ts_at(metrics *m, long long k)
{
    if (m->ts_n > 0 && m->ts[m->ts_n - 1].bucket >= k)
        return &m->ts[m->ts_n - 1];
    if (m->ts_n == m->ts_cap) {
        long nc = m->ts_cap ? m->ts_cap * 2 : 256;
        ts_rec *a = moemap_realloc(m->ts, (size_t)nc * sizeof *a);
        if (!a)
            return NULL;
        m->ts = a;
        m->ts_cap = nc;
    }
    ts_rec *r = &m->ts[m->ts_n++];
    r->bucket = k;
    r->straggler = r->tokens = 0;
    return r;
}

/* Bucket of time t; times past 2^52 buckets (beyond any real trace) share the last. */
static long long bucket_of(const metrics *m, double t)
{
    double k = floor(t / m->dt);
    return !(k > 0) ? 0 : k > 4503599627370496.0 ? 4503599627370496LL : (long long)k;
}

void metrics_first_token(metrics *m, const sim_req *q)
{
    if (m->nfirst == m->capfirst) {
        long nc = m->capfirst ? m->capfirst * 2 : 1024;
        ttft_rec *r = moemap_realloc(m->firsts, (size_t)nc * sizeof *r);
        if (!r) {
            m->oom++;
            return;
        }
        m->firsts = r;
        m->capfirst = nc;
    }
    m->firsts[m->nfirst].bucket = bucket_of(m, q->first_token);
    m->firsts[m->nfirst].ttft = q->first_token - q->arrival;
    m->nfirst++;
}

void metrics_iteration(metrics *m, double t_end, const sim_iter *it, long tokens_out)
{
    long long k = bucket_of(m, t_end);
    m->busy_s += it->time_s;
    m->tokens += it->tokens;
    m->moe_s += it->moe_s;
    ts_rec *r = ts_at(m, k);
    if (!r) {
        m->oom++;
        return;
    }
    r->straggler += it->moe_s - it->moe_mean_s;
    r->tokens += (double)(tokens_out - m->last_tokens_out);
    m->last_tokens_out = tokens_out;
}

int metrics_marker(metrics *m, double t, const char *label)
{
    if (m->nmark == m->capmark) {
        int nc = m->capmark ? m->capmark * 2 : 16;
        moemap_sim_marker *a = moemap_realloc(m->markers, (size_t)nc * sizeof *a);
        if (!a)
            return MOEMAP_ENOMEM;
        m->markers = a;
        m->capmark = nc;
    }
    m->markers[m->nmark].time_s = t;
    snprintf(m->markers[m->nmark].label, sizeof m->markers[0].label, "%s", label);
    m->nmark++;
    return 0;
}

static void latency(double *x, long n, moemap_latency *out)
{
    if (n == 0) {
        out->p50 = out->p90 = out->p99 = out->mean = NAN;
        return;
    }
    out->p50 = moemap_quantile(x, (size_t)n, 0.50);
    out->p90 = moemap_quantile(x, (size_t)n, 0.90);
    out->p99 = moemap_quantile(x, (size_t)n, 0.99);
    out->mean = moemap_mean(x, (size_t)n);
}

static int cmp_ttft(const void *a, const void *b)
{
    const ttft_rec *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return (x->ttft > y->ttft) - (x->ttft < y->ttft);
}

void moemap_sim_result_free(moemap_sim_result *r)
{
    if (!r)
        return;
    moemap_free(r->gpu_idle_s);
    moemap_free(r->ts_time_s);
    moemap_free(r->ts_p90_ttft_s);
    moemap_free(r->ts_straggler_ms);
    moemap_free(r->ts_tokens_per_s);
    moemap_free(r->markers);
    moemap_free(r->capacity_rate);
    moemap_free(r->capacity_slo);
    moemap_free(r);
}

/* p90 of the sorted TTFTs firsts[j0..j1). */
static double p90_of(const ttft_rec *f, long j0, long j1)
{
    long cnt = j1 - j0;
    double pos = 0.9 * (double)(cnt - 1);
    long lo = (long)pos;
    double fr = pos - (double)lo;
    double a = f[j0 + lo].ttft;
    double b = lo + 1 < cnt ? f[j0 + lo + 1].ttft : a;
    return a + fr * (b - a);
}

/* Walks the time series' points in time order: every bucket with an iteration or a first
 * token, and the empty buckets of idle stretches of at most MOEMAP_SIM_TS_MAX_GAP buckets
 * (counted from bucket 0 for the first), so a chart shows short pauses as zeros and
 * skips long ones. Stops after MOEMAP_SIM_TS_MAX_POINTS points (*truncated = 1). With r
 * NULL only counts; else fills r's ts arrays (sized by a counting walk). firsts must be
 * sorted by bucket. Returns the number of points. */
static long ts_walk(const metrics *m, moemap_sim_result *r, int *truncated)
{
    long n = 0, i = 0, j = 0;
    long long prev = -1;
    while (i < m->ts_n || j < m->nfirst) {
        long long k = i < m->ts_n ? m->ts[i].bucket : LLONG_MAX;
        if (j < m->nfirst && m->firsts[j].bucket < k)
            k = m->firsts[j].bucket;
        /* The empty buckets before k, when the stretch is short enough to draw. */
        long long gap = k - prev - 1;
        for (long long e = prev + 1; gap <= MOEMAP_SIM_TS_MAX_GAP && e < k; e++) {
            if (n == MOEMAP_SIM_TS_MAX_POINTS) {
                *truncated = 1;
                return n;
            }
            if (r) {
                r->ts_time_s[n] = (double)e * m->dt;
                r->ts_straggler_ms[n] = 0;
                r->ts_tokens_per_s[n] = 0;
                r->ts_p90_ttft_s[n] = NAN;
            }
            n++;
        }
        if (n == MOEMAP_SIM_TS_MAX_POINTS) {
            *truncated = 1;
            return n;
        }
        long j0 = j;
        while (j < m->nfirst && m->firsts[j].bucket == k)
            j++;
        int has_iter = i < m->ts_n && m->ts[i].bucket == k;
        if (r) {
            r->ts_time_s[n] = (double)k * m->dt;
            r->ts_straggler_ms[n] = has_iter ? m->ts[i].straggler * 1e3 : 0;
            r->ts_tokens_per_s[n] = has_iter ? m->ts[i].tokens / m->dt : 0;
            r->ts_p90_ttft_s[n] = j > j0 ? p90_of(m->firsts, j0, j) : NAN;
        }
        i += has_iter;
        n++;
        prev = k;
    }
    return n;
}

int metrics_finish(metrics *m, const sim_req *reqs, long n, double sim_time,
                   long iterations, moemap_sim_result **out, moemap_error *err)
{
    if (m->oom)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory recording metrics");
    moemap_sim_result *r = moemap_calloc(1, sizeof *r);
    double *ttft = moemap_malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    double *tpot = moemap_malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    double *e2e = moemap_malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (m->nfirst > 0)
        qsort(m->firsts, (size_t)m->nfirst, sizeof *m->firsts, cmp_ttft);
    int truncated = 0;
    long T = ts_walk(m, NULL, &truncated);
    if (r) {
        r->gpu_idle_s = moemap_malloc((size_t)m->G * sizeof(double));
        r->ts_time_s = moemap_malloc((size_t)(T > 0 ? T : 1) * sizeof(double));
        r->ts_p90_ttft_s = moemap_malloc((size_t)(T > 0 ? T : 1) * sizeof(double));
        r->ts_straggler_ms = moemap_malloc((size_t)(T > 0 ? T : 1) * sizeof(double));
        r->ts_tokens_per_s = moemap_malloc((size_t)(T > 0 ? T : 1) * sizeof(double));
        r->markers = moemap_malloc((size_t)(m->nmark + 1) * sizeof *r->markers);
    }
    if (!r || !ttft || !tpot || !e2e || !r->gpu_idle_s || !r->ts_time_s ||
        !r->ts_p90_ttft_s || !r->ts_straggler_ms || !r->ts_tokens_per_s || !r->markers) {
        moemap_free(ttft);
        moemap_free(tpot);
        moemap_free(e2e);
        moemap_sim_result_free(r);
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for the result");
    }
    long arrived = 0, done = 0, ntp = 0, ok_ttft = 0, ok_tpot = 0, ok_both = 0;
    double out_tokens = 0;
    for (long i = 0; i < n; i++) {
        const sim_req *q = &reqs[i];
        if (q->arrival > sim_time)
            continue;
        arrived++;
        if (q->done < 0)
            continue; /* unfinished at the horizon: misses its SLOs */
        double tt = q->first_token - q->arrival;
        double tp = q->output > 1 ? (q->done - q->first_token) / (q->output - 1) : 0;
        ttft[done] = tt;
        e2e[done] = q->done - q->arrival;
        if (q->output > 1)
            tpot[ntp++] = tp;
        done++;
        out_tokens += q->output;
        int a = tt <= m->params.slo_ttft_s, b = tp <= m->params.slo_tpot_s;
        ok_ttft += a;
        ok_tpot += b;
        ok_both += a && b;
    }
    r->requests = arrived;
    r->completed = done;
    r->iterations = iterations;
    r->sim_time_s = sim_time;
    latency(ttft, done, &r->ttft);
    latency(tpot, ntp, &r->tpot);
    latency(e2e, done, &r->e2e);
    double den = arrived > 0 ? (double)arrived : 1;
    r->slo_attainment = ok_both / den;
    r->ttft_attainment = ok_ttft / den;
    r->tpot_attainment = ok_tpot / den;
    double span = sim_time > 0 ? sim_time : 1;
    r->goodput_rps = ok_both / span;
    r->throughput_rps = done / span;
    r->throughput_tps = out_tokens / span;
    r->mean_iteration_ms = iterations > 0 ? m->busy_s / iterations * 1e3 : 0;
    r->mean_iteration_tokens = iterations > 0 ? m->tokens / iterations : 0;
    r->moe_share = m->busy_s > 0 ? m->moe_s / m->busy_s : 0;
    r->num_gpus = m->G;
    memcpy(r->gpu_idle_s, m->idle, (size_t)m->G * sizeof(double));
    r->ts_n = (int)T;
    ts_walk(m, r, &truncated);
    if (m->nmark > 0)
        memcpy(r->markers, m->markers, (size_t)m->nmark * sizeof *r->markers);
    r->num_markers = m->nmark;
    if (truncated) {
        moemap_sim_marker *mk = &r->markers[r->num_markers++];
        mk->time_s = r->ts_time_s[T - 1];
        snprintf(mk->label, sizeof mk->label, "time series truncated at %d points",
                 MOEMAP_SIM_TS_MAX_POINTS);
    }
    moemap_free(ttft);
    moemap_free(tpot);
    moemap_free(e2e);
    *out = r;
    return 0;
}
