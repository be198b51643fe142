/*
 * fuzz_simulate.c — libFuzzer target for the path that once grew to 17 GB from a
 * two-line file: an arrival trace (Azure CSV or Mooncake JSONL, by the first byte) run
 * through the serving simulator with its time series, then rendered as JSON. The
 * arrival times are kept as parsed, so the fuzzer can space requests up to the readers'
 * limit (10^9 s) apart; the request count and lengths are clamped so that each run is a
 * few iterations. It traps when the time series is longer than the work can explain
 * (points beyond iterations x (1 + MOEMAP_SIM_TS_MAX_GAP) + first tokens), when a
 * failure says nothing, or when the JSON cannot be built. fuzz-smoke.sh runs it under a
 * tighter memory limit than the parsers (-rss_limit_mb=512 -malloc_limit_mb=256), so a
 * time series that grows with the time span instead of the work fails the run.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/sim.h"

#define MAX_REQS 32

/* A two-layer, two-expert model whose cost is all MoE (as in test_sim.c). */
static moemap_model tiny_model(void)
{
    moemap_model m;
    memset(&m, 0, sizeof m);
    m.name = "fuzz";
    m.display = "fuzz";
    m.num_layers = 2;
    m.moe_every = 1;
    m.experts = 2;
    m.top_k = 1;
    m.hidden = 16;
    m.expert_intermediate = 16;
    m.dtype_bytes = 2;
    return m;
}

static moemap_cluster *tiny_cluster(void)
{
    moemap_cluster *c;
    moemap_error err = {0};
    if (moemap_cluster_create(2, &c, &err))
        return NULL;
    c->base.n = 2;
    c->base.tokens = moemap_malloc(2 * sizeof(double));
    c->base.us = moemap_malloc(2 * sizeof(double));
    if (!c->base.tokens || !c->base.us) {
        moemap_cluster_free(c);
        return NULL;
    }
    c->base.tokens[0] = 1;
    c->base.tokens[1] = 10001;
    c->base.us[0] = 50;
    c->base.us[1] = 50 + 0.01 * 10000;
    c->gpus[0].slots = c->gpus[1].slots = 2;
    c->gpus[1].speed = 0.8;
    if (moemap_cluster_finalize(c, &err)) {
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_error err = {0};
    moemap_arrivals *a = NULL;
    const char *buf = (const char *)data;
    int rc = size > 0 && buf[0] == '{'
                 ? moemap_arrivals_parse_mooncake(buf, size, "fuzz", &a, &err)
                 : moemap_arrivals_parse_azure(buf, size, "fuzz", &a, &err);
    if (rc != 0) {
        if (a != NULL || err.msg[0] == 0)
            __builtin_trap();
        return 0;
    }
    if (a->n > MAX_REQS)
        a->n = MAX_REQS; /* sorted: the first ones, times untouched */
    for (long i = 0; i < a->n; i++) {
        if (a->reqs[i].prompt_tokens > 64)
            a->reqs[i].prompt_tokens = 64;
        if (a->reqs[i].output_tokens > 4)
            a->reqs[i].output_tokens = 4;
    }
    moemap_model m = tiny_model();
    moemap_cluster *c = tiny_cluster();
    moemap_placement *p = NULL;
    moemap_loads *ld = NULL;
    moemap_sim_result *r = NULL;
    moemap_replica reps[2] = {{0, 0, 1.0}, {1, 1, 1.0}};
    if (!c || moemap_placement_create(2, 2, 2, &p, &err) ||
        moemap_placement_set_layer(p, 0, 0, reps, 2, &err) ||
        moemap_placement_set_layer(p, 1, 1, reps, 2, &err) ||
        moemap_loads_create(2, 1, 2, 1, &ld, &err))
        goto done; /* out of memory only */
    ld->batch_tokens[0] = 100;
    for (int l = 0; l < 2; l++) {
        MOEMAP_LOADS_AT(ld, 0, l, 0) = 70;
        MOEMAP_LOADS_AT(ld, 0, l, 1) = 30;
    }
    moemap_sim_params sp = moemap_sim_default_params();
    sp.seed = 1;
    rc = moemap_simulate(&m, c, p, ld, a, &sp, &r, &err);
    if (rc != 0) {
        if (err.msg[0] == 0)
            __builtin_trap();
        goto done;
    }
    /* Every point is a bucket with an iteration or a first token, or an empty bucket
     * of a short idle stretch before one. */
    double most = (double)(r->iterations + a->n) * (1 + MOEMAP_SIM_TS_MAX_GAP);
    if (r->ts_n < 0 || r->ts_n > most || r->ts_n > MOEMAP_SIM_TS_MAX_POINTS)
        __builtin_trap();
    for (int i = 1; i < r->ts_n; i++)
        if (!(r->ts_time_s[i] > r->ts_time_s[i - 1]))
            __builtin_trap();
    char *js = moemap_sim_result_json(r, "fuzz", 1);
    if (!js)
        __builtin_trap();
    moemap_free(js);
done:
    moemap_sim_result_free(r);
    moemap_loads_free(ld);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_arrivals_free(a);
    return 0;
}
