/*
 * test_sim.c — the serving simulator against closed forms: one request through one MoE
 * layer with known curve times (TTFT, TPOT, E2E, barrier idle), chunked prefill, an
 * M/D/1 queue at low load against the Pollaczek-Khinchine mean wait, GPU slowdown and
 * loss events, determinism for a seed, and bad parameters; and every figure a user reads
 * (attainments over arrived requests, goodput, throughput, latency quantiles, the time
 * series) checked by hand in overload, with requests unfinished at the horizon.
 */
#include "harness.h"

#include "moemap/sim.h"

/* A model whose only cost is its MoE layers (no attention, dense or LM head work). */
static moemap_model moe_only_model(int layers)
{
    moemap_model m;
    memset(&m, 0, sizeof m);
    m.name = "test";
    m.display = "test";
    m.num_layers = layers;
    m.moe_every = 1;
    m.experts = 2;
    m.top_k = 1;
    m.hidden = 16;
    m.expert_intermediate = 16;
    m.dtype_bytes = 2;
    return m;
}

/* Two GPUs, base curve f(n) = a + b (n - 1) for n >= 1 (a below the first point). */
static moemap_cluster *two_gpus(double a, double b, double speed1)
{
    moemap_cluster *c;
    moemap_error err = {0};
    if (moemap_cluster_create(2, &c, &err))
        return NULL;
    c->base.n = 2;
    c->base.tokens = moemap_malloc(2 * sizeof(double));
    c->base.us = moemap_malloc(2 * sizeof(double));
    c->base.tokens[0] = 1;
    c->base.tokens[1] = 10001;
    c->base.us[0] = a;
    c->base.us[1] = a + b * 10000;
    c->gpus[0].slots = c->gpus[1].slots = 2;
    c->gpus[1].speed = speed1;
    c->gpus[1].node = 0;
    if (moemap_cluster_finalize(c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        moemap_cluster_free(c);
        return NULL;
    }
    return c;
}

/* Expert 0 on GPU 0, expert 1 on GPU 1, for `layers` layers. */
static moemap_placement *split_placement(int layers)
{
    moemap_placement *p;
    moemap_error err = {0};
    if (moemap_placement_create(2, 2, layers, &p, &err))
        return NULL;
    moemap_replica r[2] = {{0, 0, 1.0}, {1, 1, 1.0}};
    for (int l = 0; l < layers; l++)
        moemap_placement_set_layer(p, l, l, r, 2, &err);
    return p;
}

/* One batch of 100 tokens: 75 to expert 0, 25 to expert 1, on every layer. */
static moemap_loads *skewed_loads(int layers)
{
    moemap_loads *ld;
    moemap_error err = {0};
    if (moemap_loads_create(2, 1, layers, 1, &ld, &err))
        return NULL;
    ld->batch_tokens[0] = 100;
    for (int l = 0; l < layers; l++) {
        MOEMAP_LOADS_AT(ld, 0, l, 0) = 75;
        MOEMAP_LOADS_AT(ld, 0, l, 1) = 25;
    }
    return ld;
}

static moemap_sim_params quiet_params(void)
{
    moemap_sim_params p = moemap_sim_default_params();
    p.layer_overhead_us = 0;
    p.jitter_scale = 0;
    return p;
}

TEST(one_request_one_layer)
{
    moemap_model m = moe_only_model(1);
    moemap_cluster *c = two_gpus(10, 1, 1.0); /* f(n) = 9 + n us */
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    moemap_request rq = {0.0, 100, 3};
    moemap_arrivals arr = {1, &rq};
    moemap_sim_params sp = quiet_params();
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    /* Prefill: 100 tokens, GPU 0 runs 75 -> 84 us, GPU 1 runs 25 -> 34 us; straggler 84.
     * Decode: 1 token -> 0.75 / 0.25 tokens, both below the first point -> 10 us. */
    CHECK_INT_EQ(r->completed, 1);
    CHECK_INT_EQ(r->iterations, 3);
    CHECK_NEAR(r->ttft.p50, 84e-6, 1e-9);
    CHECK_NEAR(r->tpot.p50, 10e-6, 1e-9);
    CHECK_NEAR(r->e2e.p50, 104e-6, 1e-9);
    CHECK_NEAR(r->gpu_idle_s[0], 0, 1e-12);
    CHECK_NEAR(r->gpu_idle_s[1], 50e-6, 1e-9);
    CHECK_NEAR(r->moe_share, 1.0, 1e-9);
    CHECK_NEAR(r->slo_attainment, 1.0, 0);
    CHECK_NEAR(r->throughput_tps, 3 / 104e-6, 1);
    moemap_sim_result_free(r);

    /* A GPU at half speed doubles its times: 2 x 34 = 68 < 84, still GPU 0 the straggler;
     * at a quarter speed GPU 1 takes 136 us and becomes it. */
    moemap_cluster *slow = two_gpus(10, 1, 0.25);
    REQUIRE(slow);
    CHECK_OK(moemap_simulate(&m, slow, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_NEAR(r->ttft.p50, 136e-6, 1e-9);
    CHECK_NEAR(r->tpot.p50, 40e-6, 1e-9);
    moemap_sim_result_free(r);
    moemap_cluster_free(slow);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

/* Every figure a user reads from a run, on a case small enough to do by hand, in
 * overload: requests left unfinished at the horizon and one arriving after it. One layer,
 * f(n) = 9 + n ms per GPU (10 ms below one token), GPU 0 runs 75% of the tokens, so an
 * iteration of T tokens takes 9 + 0.75 T ms (10 ms when 0.75 T < 1); on GPU 1 it takes
 * 9 + 0.25 T ms. Two requests run at once, budget 200 tokens:
 *   A: at 0,   prompt 100, output 2     B: at 0,   prompt 100, output 4
 *   C: at 0,   prompt 100, output 2     D: at 0.2, prompt 100, output 5
 *   E: at 0.4 (after the 0.3 s horizon: not arrived, counted nowhere)
 *   it 1  A+B prefill, 200 tokens    159     ms -> t 0.159    A, B first token
 *   it 2  A, B decode, 2 tokens       10.5   ms -> t 0.1695   A done
 *   it 3  B decode + C prefill, 101   84.75  ms -> t 0.25425  C first token
 *   it 4  B, C decode, 2 tokens       10.5   ms -> t 0.26475  B, C done
 *   it 5  D prefill, 100 tokens       84     ms -> t 0.34875  past the horizon: stop
 * TTFT A .159 B .159 C .25425 D .14875 (unfinished); TPOT A .0105 B (.26475-.159)/3 =
 * .03525 C .0105. Targets TTFT 0.2 s, TPOT 0.02 s: A meets both, B only TTFT, C only
 * TPOT, D neither (unfinished). 4 arrived, 3 completed, 8 output tokens of completed
 * requests, over the 0.3 s horizon. */
/* The curve's interpolation works in a few ulps of float: times agree to ~1e-8 s. */
#define S_TOL 1e-7

static void check_overload_case(const moemap_sim_result *r)
{
    CHECK_INT_EQ(r->requests, 4);
    CHECK_INT_EQ(r->completed, 3);
    CHECK_INT_EQ(r->iterations, 5);
    CHECK_NEAR(r->sim_time_s, 0.3, 0);
    /* Over arrived requests (4), not completed ones (3): 1/4, not 1/3. */
    CHECK_NEAR(r->slo_attainment, 0.25, 0);
    CHECK_NEAR(r->ttft_attainment, 0.5, 0);
    CHECK_NEAR(r->tpot_attainment, 0.5, 0);
    /* Goodput counts A only; throughput A, B and C. */
    CHECK_NEAR(r->goodput_rps, 1 / 0.3, 1e-9);
    CHECK_NEAR(r->throughput_rps, 3 / 0.3, 1e-9);
    CHECK_NEAR(r->throughput_tps, 8 / 0.3, 1e-9);
    /* Latencies of completed requests; quantiles interpolate between sorted values. */
    CHECK_NEAR(r->ttft.p50, 0.159, S_TOL);
    CHECK_NEAR(r->ttft.p90, 0.159 + 0.8 * (0.25425 - 0.159), S_TOL);
    CHECK_NEAR(r->ttft.p99, 0.159 + 0.98 * (0.25425 - 0.159), S_TOL);
    CHECK_NEAR(r->ttft.mean, (0.159 * 2 + 0.25425) / 3, S_TOL);
    CHECK_NEAR(r->tpot.p50, 0.0105, S_TOL);
    CHECK_NEAR(r->tpot.p90, 0.0105 + 0.8 * (0.03525 - 0.0105), S_TOL);
    CHECK_NEAR(r->tpot.mean, (0.0105 * 2 + 0.03525) / 3, S_TOL);
    CHECK_NEAR(r->e2e.p50, 0.26475, S_TOL);
    CHECK_NEAR(r->e2e.mean, (0.1695 + 0.26475 * 2) / 3, S_TOL);
    CHECK_NEAR(r->mean_iteration_ms, (159 + 10.5 + 84.75 + 10.5 + 84) / 5, 1e3 * S_TOL);
    /* GPU 1 waits f(0.75T) - f(0.25T) at each barrier: 100, 0.5, 50.5, 0.5, 50 ms. */
    CHECK_NEAR(r->gpu_idle_s[0], 0, 0);
    CHECK_NEAR(r->gpu_idle_s[1], 0.2015, S_TOL);
    /* The time series, 0.1 s buckets by the time things happen: bucket 0 is empty (kept:
     * a short gap), 1 holds A's and B's first tokens, 2 C's, 3 D's. Each bucket's p90
     * TTFT is over its own first tokens (bucket 2: C alone, not the run's p90) and is a
     * TTFT, not the time the token came (bucket 3: 0.14875, not 0.34875). */
    REQUIRE(r->ts_n == 4);
    static const double t0[4] = {0, 0.1, 0.2, 0.3}, p90[4] = {NAN, 0.159, 0.25425, 0.14875};
    static const double tok[4] = {0, 40, 40, 10}; /* 4, 4, 1 tokens per 0.1 s */
    static const double strag[4] = {0, 50.25, 25.5, 25}; /* max - mean over 2 GPUs, ms */
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(r->ts_time_s[i], t0[i], 1e-12);
        if (i == 0)
            CHECK(isnan(r->ts_p90_ttft_s[i]));
        else
            CHECK_NEAR(r->ts_p90_ttft_s[i], p90[i], S_TOL);
        CHECK_NEAR(r->ts_tokens_per_s[i], tok[i], 1e-9);
        CHECK_NEAR(r->ts_straggler_ms[i], strag[i], 1e3 * S_TOL);
    }
}

TEST(user_metrics_by_hand_in_overload)
{
    moemap_model m = moe_only_model(1);
    moemap_cluster *c = two_gpus(10000, 1000, 1.0); /* f(n) = 9 + n ms */
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    moemap_request rq[5] = {{0.0, 100, 2}, {0.0, 100, 4}, {0.0, 100, 2},
                            {0.2, 100, 5}, {0.4, 100, 1}};
    moemap_arrivals arr = {5, rq};
    moemap_sim_params sp = quiet_params();
    sp.max_running = 2;
    sp.max_batch_tokens = 200;
    sp.horizon_s = 0.3;
    sp.slo_ttft_s = 0.2;
    sp.slo_tpot_s = 0.02;
    sp.timeseries_dt = 0.1;
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    check_overload_case(r);

    /* The JSON a user (and the report) reads carries the same figures under their keys. */
    char *js = moemap_sim_result_json(r, "x", 1);
    REQUIRE(js);
    CHECK_STR_CONTAINS(js, "\"requests\": 4,");
    CHECK_STR_CONTAINS(js, "\"completed\": 3,");
    CHECK_STR_CONTAINS(js, "\"slo_attainment\": 0.25,");
    CHECK_STR_CONTAINS(js, "\"ttft_attainment\": 0.5,");
    CHECK_STR_CONTAINS(js, "\"tpot_attainment\": 0.5,");
    CHECK_STR_CONTAINS(js, "\"goodput_rps\": 3.3333,");
    CHECK_STR_CONTAINS(js, "\"throughput_rps\": 10,");
    CHECK_STR_CONTAINS(js, "\"throughput_tps\": 26.67,");
    CHECK_STR_CONTAINS(js, "\"ttft\": {\n  \"p50\": 0.159,\n  \"p90\": 0.2352,\n  \"p99\": 0.252345,");
    CHECK_STR_CONTAINS(js, "\"p90_ttft_s\": [\n   null,\n   0.159,\n   0.25425,\n   0.14875\n  ]");
    moemap_free(js);
    moemap_sim_result_free(r);

    /* Targets that tell the attainments apart by count: with a 0.3 s TTFT target A, B
     * and C meet it, TPOT still only A and C: 3/4, 2/4, both 2/4; goodput 2 / 0.3 s. */
    sp.slo_ttft_s = 0.3;
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_NEAR(r->ttft_attainment, 0.75, 0);
    CHECK_NEAR(r->tpot_attainment, 0.5, 0);
    CHECK_NEAR(r->slo_attainment, 0.5, 0);
    CHECK_NEAR(r->goodput_rps, 2 / 0.3, 1e-9);
    moemap_sim_result_free(r);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(attention_roofline_and_network)
{
    /* One layer with attention only through the roofline: heads=1, head_dim=8, hidden=16
     * -> attention weights 16*8*2 + 16*8*2 = 512 params; with peak 1e-6 TFLOP/s (1e6
     * FLOP/s) and huge bandwidth, 100 prefill tokens cost 2*512*100 + score FLOPs
     * 4*1*8 * (100*101/2) = 102400 + 161600 FLOPs = 0.264 s. */
    moemap_model m = moe_only_model(1);
    m.heads = 1;
    m.kv_heads = 1;
    m.head_dim = 8;
    moemap_cluster *c = two_gpus(10, 1, 1.0);
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    moemap_request rq = {0.0, 100, 1};
    moemap_arrivals arr = {1, &rq};
    moemap_sim_params sp = quiet_params();
    sp.peak_tflops = 1e-6;
    sp.mem_GBps = 1e9;
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    /* Data-parallel attention: 50 tokens per GPU, context split too. */
    double flops_per_gpu = (2.0 * 512 * 100 + 32.0 * 5050) / 2;
    CHECK_NEAR(r->ttft.p50, flops_per_gpu / 1e6 + 84e-6, 1e-9);
    moemap_sim_result_free(r);

    /* Network (moemap/a2a.h): 2 GPUs on different nodes, 1 GB/s between them, 5 us
     * latency, rows of 16 hidden x 2 bytes. GPU 0 computes 75 tokens, half of them from
     * the other node: 37.5 rows, 1200 bytes -> 1.2 us (it sends only 12.5); its whole
     * layer is 84 us of compute + dispatch + combine = 2 x (5 + 1.2) us. */
    c->hidden = 16;
    c->gpus[1].node = 1;
    c->inter_node_GBps = 1;
    c->intra_node_GBps = 100;
    c->latency_us = 5;
    sp = quiet_params();
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_NEAR(r->ttft.p50, 84e-6 + 2 * (5e-6 + 1.2e-6), 2e-9);
    moemap_sim_result_free(r);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(chunked_prefill)
{
    /* Prompt 250 with a budget of 100: chunks 100, 100, 50; then 1 decode. With 3 layers
     * the straggler time scales: chunk of 100 -> 3 x 84 us, 50 -> 3 x f(37.5) = 3 x 46.5. */
    moemap_model m = moe_only_model(3);
    moemap_cluster *c = two_gpus(10, 1, 1.0);
    moemap_placement *p = split_placement(3);
    moemap_loads *ld = skewed_loads(3);
    REQUIRE(c && p && ld);
    moemap_request rq = {0.0, 250, 2};
    moemap_arrivals arr = {1, &rq};
    moemap_sim_params sp = quiet_params();
    sp.max_batch_tokens = 100;
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_INT_EQ(r->iterations, 4);
    CHECK_NEAR(r->ttft.p50, 3 * (84 + 84 + 46.5) * 1e-6, 1e-8);
    CHECK_NEAR(r->tpot.p50, 3 * 10e-6, 1e-9);
    moemap_sim_result_free(r);

    /* Two requests that arrive together share iterations (continuous batching): both
     * prefills fit one 200-token iteration, then both decode in one iteration. */
    moemap_request two[2] = {{0.0, 100, 2}, {0.0, 100, 2}};
    moemap_arrivals arr2 = {2, two};
    sp.max_batch_tokens = 200;
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr2, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_INT_EQ(r->iterations, 2);
    CHECK_NEAR(r->ttft.p50, 3 * (9 + 150) * 1e-6, 1e-8);
    moemap_sim_result_free(r);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(md1_queue_matches_pollaczek_khinchine)
{
    /* One request at a time (max_running 1), output 1: each request is one iteration of
     * deterministic length D, arrivals Poisson: an M/D/1 queue whose mean wait is
     * W = rho D / (2 (1 - rho)). TTFT = W + D. */
    moemap_model m = moe_only_model(1);
    moemap_cluster *c = two_gpus(1000, 1, 1.0); /* f(75) = 1074 us */
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    const double D = 1074e-6;
    const double rhos[2] = {0.2, 0.4};
    for (int k = 0; k < 2; k++) {
        double lambda = rhos[k] / D;
        moemap_arrivals *arr = NULL;
        moemap_error err = {0};
        CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_POISSON, lambda, 40000 / lambda,
                                          NULL, 100, 1, 7 + k, &arr, &err),
                 &err);
        REQUIRE(arr);
        moemap_sim_params sp = quiet_params();
        sp.max_running = 1;
        moemap_sim_result *r = NULL;
        CHECK_OK(moemap_simulate(&m, c, p, ld, arr, &sp, &r, &err), &err);
        REQUIRE(r);
        double W = rhos[k] * D / (2 * (1 - rhos[k]));
        CHECK_INT_EQ(r->completed, arr->n);
        /* 40k samples: the mean wait's standard error is ~1-2% of W. */
        CHECK_NEAR(r->ttft.mean - D, W, 0.06 * W);
        CHECK_NEAR(r->ttft.p50 >= D - 1e-12, 1, 0);
        moemap_sim_result_free(r);
        moemap_arrivals_free(arr);
    }
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

/* Capacity of the M/D/1 queue above (D = 1074 us, so it saturates at 931 req/s): with a
 * 20 ms TTFT target every rate below saturation meets it (at rho 0.86 the mean wait is
 * 3.3 ms), every rate above misses (the queue grows ~0.3 s a second). The sweep reports
 * 800 and stops at 1200 without running 1600; rates out of order are an error. */
TEST(capacity_sweep_finds_the_saturation_rate)
{
    moemap_model m = moe_only_model(1);
    moemap_cluster *c = two_gpus(1000, 1, 1.0);
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    moemap_sim_params sp = quiet_params();
    sp.max_running = 1;
    sp.slo_ttft_s = 0.02;
    moemap_request rq = {0.0, 100, 1};
    moemap_arrivals lengths = {1, &rq};
    double rates[6] = {200, 400, 600, 800, 1200, 1600};
    moemap_capacity_params cp = moemap_capacity_default_params();
    cp.rates = rates;
    cp.num_rates = 6;
    cp.duration_s = 5;
    cp.lengths = &lengths;
    moemap_sim_result into;
    memset(&into, 0, sizeof into);
    moemap_error err = {0};
    CHECK_OK(moemap_sim_capacity(&m, c, p, ld, &cp, &sp, &into, &err), &err);
    CHECK_NEAR(into.capacity_rps, 800, 0);
    CHECK_INT_EQ(into.capacity_n, 5);
    CHECK_NEAR(into.capacity_target, 0.9, 0);
    for (int i = 0; i < into.capacity_n; i++)
        CHECK(i < 4 ? into.capacity_slo[i] >= 0.99 : into.capacity_slo[i] < 0.5);
    double bad[2] = {400, 200};
    cp.rates = bad;
    cp.num_rates = 2;
    CHECK(moemap_sim_capacity(&m, c, p, ld, &cp, &sp, &into, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "ascending");
    moemap_free(into.capacity_rate);
    moemap_free(into.capacity_slo);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(events_slow_and_lost)
{
    moemap_model m = moe_only_model(2);
    moemap_cluster *c = two_gpus(10, 1, 1.0);
    moemap_placement *p = split_placement(2);
    moemap_loads *ld = skewed_loads(2);
    REQUIRE(c && p && ld);
    moemap_request rq[2] = {{0.0, 100, 1}, {1.0, 100, 1}};
    moemap_arrivals arr = {2, rq};
    moemap_sim_params sp = quiet_params();
    moemap_sim_event ev[2];
    moemap_error err = {0};
    const char *path = "x";
    CHECK_OK(moemap_sim_event_parse("slow@0.5=1:0.2", &ev[0], &path, &err), &err);
    CHECK(path == NULL);
    sp.events = ev;
    sp.num_events = 1;
    moemap_sim_result *r = NULL;
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    /* Request 0 before the slowdown: 2 x 84 us. Request 1 after: GPU 1 takes 34 / 0.2 =
     * 170 us per layer. p90 interpolates between them. */
    CHECK_NEAR(r->ttft.p50, (168 + 340) / 2.0 * 1e-6, 1e-9);
    CHECK_INT_EQ(r->num_markers, 1);
    CHECK_STR_CONTAINS(r->markers[0].label, "slow@0.5");
    moemap_sim_result_free(r);

    /* GPU 1 lost: its expert is re-homed to GPU 0, which then runs 75 + 25 tokens:
     * 84 + 34 us per layer. */
    CHECK_OK(moemap_sim_event_parse("lost@0.5=1", &ev[1], NULL, &err), &err);
    sp.events = &ev[1];
    CHECK_OK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err), &err);
    REQUIRE(r);
    CHECK_INT_EQ(r->completed, 2);
    CHECK_NEAR(r->ttft.p99, 168e-6 + 0.99 * (236e-6 - 168e-6), 1e-8);
    CHECK_INT_EQ(r->replicas_moved, 2); /* one per layer */
    CHECK_NEAR(r->migration_bytes, 2 * 3.0 * 16 * 16 * 2, 1e-9);
    CHECK_INT_EQ(r->recalibrations, 1);
    CHECK(r->gpu_idle_s[1] < 60e-6 * 2 + 1e-12); /* no more work after the loss */
    moemap_sim_result_free(r);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(event_parse_errors)
{
    moemap_sim_event ev;
    moemap_error err = {0};
    const char *path = NULL;
    CHECK_OK(moemap_sim_event_parse("switch@300=/x/y.json", &ev, &path, &err), &err);
    CHECK(ev.kind == MOEMAP_EVENT_SWITCH);
    CHECK_NEAR(ev.time_s, 300, 0);
    CHECK(path && !strcmp(path, "/x/y.json"));
    CHECK_OK(moemap_sim_event_parse("recover@12.5=3", &ev, NULL, &err), &err);
    CHECK(ev.kind == MOEMAP_EVENT_SLOW && ev.gpu == 3 && ev.factor == 1.0);
    const char *bad[] = {"slow@10=3",     "slow@10=3:0",   "slow@x=3:0.5", "lost@-1=2",
                         "lost@5=",       "boom@5=1",      "lost5=1",      "slow@1=a:0.5",
                         "recover@1=1:2", "slow@1=1:0.5x", "lost@1e99=1",  ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        CHECK(moemap_sim_event_parse(bad[i], &ev, NULL, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "event");
    }
    CHECK(moemap_recal_policy_parse("periodic") == MOEMAP_RECAL_PERIODIC);
    CHECK(moemap_recal_policy_parse("moemap") == MOEMAP_RECAL_MOEMAP);
    CHECK(moemap_recal_policy_parse("eplb") == -1);
    CHECK(!strcmp(moemap_recal_policy_name(MOEMAP_RECAL_DRIFT), "drift"));
}

TEST(bad_inputs_are_errors)
{
    moemap_model m = moe_only_model(1);
    moemap_cluster *c = two_gpus(10, 1, 1.0);
    moemap_placement *p = split_placement(1);
    moemap_loads *ld = skewed_loads(1);
    REQUIRE(c && p && ld);
    moemap_request rq = {0.0, 100, 3};
    moemap_arrivals arr = {1, &rq};
    moemap_sim_params sp = quiet_params();
    moemap_sim_result *r = NULL;
    moemap_error err = {0};
    sp.max_batch_tokens = 0;
    CHECK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "budget");
    sp = quiet_params();
    moemap_sim_event ev;
    moemap_sim_event_parse("lost@1=7", &ev, NULL, &err);
    sp.events = &ev;
    sp.num_events = 1;
    CHECK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "GPU 7");
    sp = quiet_params();
    /* Workload without the placement's layer. */
    ld->layer_ids[0] = 5;
    CHECK(moemap_simulate(&m, c, p, ld, &arr, &sp, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "layer 0");
    ld->layer_ids[0] = 0;
    /* Placement with more MoE layers than the model. */
    moemap_placement *p3 = split_placement(3);
    CHECK(moemap_simulate(&m, c, p3, ld, &arr, &sp, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "MoE layers");
    moemap_placement_free(p3);
    CHECK(r == NULL);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

TEST(deterministic_for_a_seed_and_jitter_costs)
{
    moemap_model m = moe_only_model(2);
    moemap_cluster *c = two_gpus(10, 1, 1.0);
    moemap_placement *p = split_placement(2);
    moemap_loads *ld = skewed_loads(2);
    REQUIRE(c && p && ld);
    c->gpus[0].curve.cv = c->gpus[1].curve.cv = 0.1;
    /* Balanced experts: with two equally loaded GPUs, jitter makes E[max] > max E. */
    for (int l = 0; l < 2; l++)
        MOEMAP_LOADS_AT(ld, 0, l, 0) = MOEMAP_LOADS_AT(ld, 0, l, 1) = 50;
    moemap_arrivals *arr = NULL;
    moemap_error err = {0};
    CHECK_OK(moemap_arrivals_generate(MOEMAP_ARRIVALS_BURSTY, 2000, 2, NULL, 300, 20, 3, &arr,
                                      &err),
             &err);
    REQUIRE(arr);
    moemap_sim_params sp = quiet_params();
    sp.jitter_scale = 1;
    sp.seed = 11;
    moemap_sim_result *a = NULL, *b = NULL, *q = NULL;
    CHECK_OK(moemap_simulate(&m, c, p, ld, arr, &sp, &a, &err), &err);
    CHECK_OK(moemap_simulate(&m, c, p, ld, arr, &sp, &b, &err), &err);
    sp.jitter_scale = 0;
    CHECK_OK(moemap_simulate(&m, c, p, ld, arr, &sp, &q, &err), &err);
    REQUIRE(a && b && q);
    CHECK_NEAR(a->ttft.p99, b->ttft.p99, 0);
    CHECK_NEAR(a->tpot.mean, b->tpot.mean, 0);
    CHECK_INT_EQ(a->iterations, b->iterations);
    /* Jitter makes the straggler slower on average (E max >= max E). */
    CHECK(a->tpot.mean > q->tpot.mean);
    /* The time series covers the run and counts every output token. */
    double tok = 0;
    for (int i = 0; i < a->ts_n; i++)
        tok += a->ts_tokens_per_s[i] * 1.0;
    CHECK_NEAR(tok, a->throughput_tps * a->sim_time_s, 1e-6 * tok);
    char *js = moemap_sim_result_json(a, "x", 1);
    CHECK_STR_CONTAINS(js, "\"slo_attainment\"");
    CHECK_STR_CONTAINS(js, "\"p90_ttft_s\"");
    moemap_free(js);
    moemap_sim_result_free(a);
    moemap_sim_result_free(b);
    moemap_sim_result_free(q);
    moemap_arrivals_free(arr);
    moemap_cluster_free(c);
    moemap_placement_free(p);
    moemap_loads_free(ld);
}

int main(void)
{
    RUN(one_request_one_layer);
    RUN(user_metrics_by_hand_in_overload);
    RUN(attention_roofline_and_network);
    RUN(chunked_prefill);
    RUN(md1_queue_matches_pollaczek_khinchine);
    RUN(capacity_sweep_finds_the_saturation_rate);
    RUN(events_slow_and_lost);
    RUN(event_parse_errors);
    RUN(bad_inputs_are_errors);
    RUN(deterministic_for_a_seed_and_jitter_costs);
    return mm_test_done();
}
