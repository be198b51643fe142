/*
 * test_gpu_exec.c — the expert-parallel executor.
 *
 * Everywhere (no GPU needed): the host-side dispatch plan on the real ESFT routing, per
 * (token, expert) and per (token, GPU), run on the CPU with one number per hidden state
 * (every choice is computed once by the GPU holding its expert and comes back, weighted,
 * to its token; per (token, GPU) a token crosses to a GPU once; an expert's rows are
 * split over its replicas by their shares), token-level routing expanded from aggregate loads, and
 * the summary arithmetic. Without CUDA: moemap_exec_run answers "built without GPU
 * support". With CUDA: the CLI links no GPU library and names a missing GPU module; with
 * a GPU, a small run in --check mode (CPU float64 reference, tags) on one GPU, and on two
 * when there are two; without a GPU the test exits 77 after the host tests passed.
 */
#include "harness.h"

#include <sys/wait.h>

#include "gpu/exec_internal.h"
#include "moemap.h"

#ifdef MOEMAP_HAVE_CUDA
#include <cuda_runtime.h>
#endif

static moemap_routing *g_rt; /* the law task, read once */

static moemap_routing *routing(void)
{
    if (g_rt)
        return g_rt;
    moemap_read_params rp = moemap_read_default_params();
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    if (moemap_workload_read(mm_data_path("esft-dsv2lite-routing/expert_scores/law"), &rp, &ld,
                             &g_rt, &err)) {
        fprintf(stderr, "  cannot read the ESFT trace: %s\n", err.msg);
        return NULL;
    }
    moemap_loads_free(ld);
    return g_rt;
}

/* Two GPUs, layers 1..nl: expert e on GPU e % 2; experts 0..5 also replicated on the
 * other GPU with shares 0.7 / 0.3 (the first replica in placement order gets 0.7). */
static moemap_placement *two_gpu_placement(int nl, int gpus)
{
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_placement_create(gpus, 64, nl, &p, &err))
        return NULL;
    moemap_replica reps[64 + 6];
    for (int l = 0; l < nl; l++) {
        int n = 0;
        for (int e = 0; e < 64; e++) {
            int g = e % gpus;
            if (gpus > 1 && e < 6) {
                reps[n++] = (moemap_replica){e, g, 0.7};
                reps[n++] = (moemap_replica){e, (g + 1) % gpus, 0.3};
            } else {
                reps[n++] = (moemap_replica){e, g, 1.0};
            }
        }
        if (moemap_placement_set_layer(p, l, l + 1, reps, n, &err)) {
            moemap_placement_free(p);
            return NULL;
        }
    }
    return p;
}

/* Runs one iteration and layer of the plans of all G ranks on the CPU with one number per
 * hidden state (token t's is 1 + t / 1000) and expert e computing y = (e + 1) * x + e, as
 * the GPUs would: gather, all-to-all, regroup, experts, weighted sums, all-to-all back,
 * sum at home. Checks every output against sum_j w_tj * f_(e_tj)(x_t) taken straight
 * from the routing, and every row's tag on its way there and back. */
static void emulate(exec_rank_plan *pl, int G, const exec_layer_map *m, int l,
                    const moemap_routing *rt, long T, int iter)
{
    int k = rt->top_k;
    long base = ((long)iter * T) % rt->num_tokens;
    const int16_t *ids = rt->ids + (size_t)m->route_layer[l] * rt->num_tokens * k;
    const float *wts = rt->weights + (size_t)m->route_layer[l] * rt->num_tokens * k;
    double *recv[64], *ret[64];
    long bad_out = 0, bad_tag = 0;
    for (int r = 0; r < G; r++) {
        recv[r] = calloc((size_t)pl[r].n_recv + 1, sizeof(double));
        ret[r] = calloc((size_t)pl[r].n_recv + 1, sizeof(double));
    }
    /* dispatch: source s's rows for rank r sit after its rows for ranks < r, and arrive
     * at r after the rows of sources < s */
    for (int r = 0; r < G; r++) {
        long ro = 0;
        for (int src = 0; src < G; src++) {
            long so = 0;
            for (int d = 0; d < r; d++)
                so += pl[src].send_counts[d];
            CHECK_INT_EQ(pl[src].send_counts[r], pl[r].recv_counts[src]);
            for (long i = 0; i < pl[r].recv_counts[src]; i++) {
                long t = pl[src].tok_begin + pl[src].send_idx[so + i];
                recv[r][ro + i] = 1.0 + t / 1000.0;
            }
            ro += pl[r].recv_counts[src];
        }
        /* experts, in expert-contiguous order; each expert row's tag names its token */
        double *ye = calloc((size_t)pl[r].n_exp + 1, sizeof(double));
        long e0 = 0;
        for (int sl = 0; sl < pl[r].num_slots; sl++) {
            int expert = m->slot_expert[((size_t)l * G + r) * m->max_slots + sl];
            for (long i = e0; i < e0 + pl[r].slot_rows[sl]; i++) {
                long t = pl[r].recv_tag[i] / k;
                int chose = 0;
                for (int j = 0; j < k; j++)
                    chose |= ids[((base + t) % rt->num_tokens) * k + j] == expert;
                bad_tag += !chose || recv[r][pl[r].perm[i]] != 1.0 + t / 1000.0;
                ye[i] = (expert + 1) * recv[r][pl[r].perm[i]] + expert;
            }
            e0 += pl[r].slot_rows[sl];
        }
        CHECK_INT_EQ(e0, pl[r].n_exp);
        CHECK_INT_EQ(pl[r].red_off[pl[r].n_recv], pl[r].n_exp);
        for (long q = 0; q < pl[r].n_recv; q++)
            for (long i = pl[r].red_off[q]; i < pl[r].red_off[q + 1]; i++) {
                bad_tag += pl[r].perm[pl[r].red_row[i]] != q;
                ret[r][q] += pl[r].red_w[i] * ye[pl[r].red_row[i]];
            }
        free(ye);
    }
    /* combine: rows go back where they came from and are summed at home */
    for (int src = 0; src < G; src++) {
        double *back = calloc((size_t)pl[src].n_send + 1, sizeof(double));
        long so = 0;
        for (int r = 0; r < G; r++) {
            long ro = 0;
            for (int s2 = 0; s2 < src; s2++)
                ro += pl[r].recv_counts[s2];
            for (long i = 0; i < pl[src].send_counts[r]; i++)
                back[so + i] = ret[r][ro + i];
            so += pl[src].send_counts[r];
        }
        for (long t = 0; t < pl[src].tok_count; t++) {
            long tg = pl[src].tok_begin + t, tok = (base + tg) % rt->num_tokens;
            double out = 0, ref = 0, x = 1.0 + tg / 1000.0;
            for (int j = 0; j < k; j++) {
                int32_t pos = pl[src].comb_pos[t * k + j];
                if (pos >= 0) {
                    out += pl[src].comb_w[t * k + j] * back[pos];
                    bad_tag += pl[src].send_idx[pos] != t;
                    bad_tag += pl[src].send_tag[pos] / k != tg;
                }
                int e = ids[tok * k + j];
                ref += wts[tok * k + j] * ((e + 1) * x + e);
            }
            bad_out += fabs(out - ref) > 1e-4 * (1 + fabs(ref));
        }
        free(back);
    }
    CHECK_INT_EQ(bad_tag, 0);
    CHECK_INT_EQ(bad_out, 0);
    for (int r = 0; r < G; r++)
        free(recv[r]), free(ret[r]);
}

static void plan_routes_every_choice_once(moemap_dispatch dispatch)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(2, 2);
    REQUIRE(p);
    moemap_error err = {0};
    exec_layer_map m;
    CHECK_OK(exec_layer_map_build(p, rt, 2, &m, &err), &err);
    long T = 1000; /* not a multiple of anything in particular */
    int k = rt->top_k, G = 2;
    for (int iter = 0; iter < 2; iter++)
        for (int l = 0; l < 2; l++) {
            exec_rank_plan pl[2];
            for (int r = 0; r < G; r++)
                CHECK_OK(exec_plan_build(&m, p, rt, T, iter, l, r, dispatch, &pl[r], &err),
                         &err);
            CHECK_INT_EQ(pl[0].tok_count + pl[1].tok_count, T);
            CHECK_INT_EQ(pl[0].n_exp + pl[1].n_exp, T * k); /* every choice computed */
            long sent = pl[0].n_send + pl[1].n_send;
            CHECK_INT_EQ(sent, pl[0].n_recv + pl[1].n_recv);
            /* rows per (token, GPU): as many as the distinct tokens among a GPU's expert
             * rows, fewer than (token, choice) pairs (choices meet on a GPU often) */
            long distinct = 0;
            for (int r = 0; r < G; r++) {
                unsigned char *tok = calloc((size_t)T, 1);
                for (long i = 0; i < pl[r].n_exp; i++)
                    tok[pl[r].recv_tag[i] / k] = 1;
                for (long t = 0; t < T; t++)
                    distinct += tok[t];
                free(tok);
            }
            if (dispatch == MOEMAP_DISPATCH_TOKEN_GPU) {
                CHECK_INT_EQ(sent, distinct);
                CHECK(sent < T * k);
            } else {
                CHECK_INT_EQ(sent, T * k);
            }
            /* the traffic matrix the predictions use is the plans' */
            double traffic[4];
            CHECK_OK(exec_plan_traffic(&m, p, rt, T, iter, l, dispatch, traffic, &err), &err);
            for (int a = 0; a < G; a++)
                for (int b = 0; b < G; b++)
                    CHECK_NEAR(traffic[a * G + b], pl[a].send_counts[b], 0);
            emulate(pl, G, &m, l, rt, T, iter);
            for (int r = 0; r < G; r++)
                exec_plan_clear(&pl[r]);
        }
    exec_layer_map_clear(&m);
    moemap_placement_free(p);
}

TEST(plan_routes_every_choice_once_per_expert) { plan_routes_every_choice_once(MOEMAP_DISPATCH_TOKEN_EXPERT); }
TEST(plan_routes_every_choice_once_per_gpu) { plan_routes_every_choice_once(MOEMAP_DISPATCH_TOKEN_GPU); }

TEST(replicas_split_rows_by_share)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(2, 2);
    REQUIRE(p);
    moemap_error err = {0};
    exec_layer_map m;
    CHECK_OK(exec_layer_map_build(p, rt, 2, &m, &err), &err);
    long T = 1000;
    int k = rt->top_k, G = 2;
    for (int iter = 0; iter < 2; iter++)
        for (int l = 0; l < 2; l++) {
            long base = ((long)iter * T) % rt->num_tokens;
            const int16_t *ids = rt->ids + (size_t)m.route_layer[l] * rt->num_tokens * k;
            /* the replicated experts' rows split 0.7 / 0.3 (within one row of rounding) */
            long rows[2 * 64];
            CHECK_OK(exec_plan_slot_rows(&m, p, rt, T, iter, l, rows, &err), &err);
            long cnt[64] = {0};
            for (long i = 0; i < T * k; i++)
                cnt[ids[((base + i / k) % rt->num_tokens) * k + i % k]]++;
            for (int e = 0; e < 6; e++) {
                int g = e % 2;
                /* slot of expert e on its home GPU and on the other one */
                long home = -1, other = -1;
                for (int s = 0; s < m.num_slots[l * G + g]; s++)
                    if (m.slot_expert[((size_t)l * G + g) * m.max_slots + s] == e)
                        home = rows[(size_t)g * m.max_slots + s];
                for (int s = 0; s < m.num_slots[l * G + 1 - g]; s++)
                    if (m.slot_expert[((size_t)l * G + 1 - g) * m.max_slots + s] == e)
                        other = rows[(size_t)(1 - g) * m.max_slots + s];
                CHECK_INT_EQ(home + other, cnt[e]);
                CHECK_NEAR(home, 0.7 * cnt[e], 1.0);
            }
        }
    exec_layer_map_clear(&m);
    moemap_placement_free(p);
}

/* The predictions of a run on a routing small enough to count by hand: 4 tokens, each
 * choosing experts 0 and 1 (weights 0.5), tokens 0-1 at home on GPU 0, 2-3 on GPU 1;
 * rows of 500 x 2 bytes over a 1 GB/s link (1 us a row), 10 us latency, an expert curve
 * of 100 us at 1 token and 0.1 us a token more (4 rows: 100.3 us). */
TEST(predictions_by_hand)
{
    int16_t ids[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    float w[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    int lid = 1;
    moemap_routing rt = {.experts = 2, .top_k = 2, .num_layers = 1, .layer_ids = &lid,
                         .num_tokens = 4, .ids = ids, .weights = w};
    moemap_error err = {0};
    moemap_cluster *c = NULL;
    REQUIRE(moemap_cluster_create(2, &c, &err) == 0);
    double tok[2] = {1, 1001}, us[2] = {100, 200};
    c->base.n = 2;
    c->base.tokens = moemap_malloc(sizeof tok);
    c->base.us = moemap_malloc(sizeof us);
    memcpy(c->base.tokens, tok, sizeof tok);
    memcpy(c->base.us, us, sizeof us);
    c->intra_node_GBps = 1;
    c->latency_us = 10;
    CHECK_OK(moemap_cluster_finalize(c, &err), &err);
    moemap_exec_params P = moemap_exec_default_params();
    P.hidden = 500;
    P.intermediate = 64;
    P.iterations = 1;
    P.tokens_per_iter = 4;
    /* (a) one expert per GPU: both rows of every token cross or stay, one per GPU
     *     either way: each GPU sends 2 and receives 2 -> 10 + 2 us; computes 4 rows. */
    moemap_placement *split = NULL, *both = NULL;
    moemap_replica rs[2] = {{0, 0, 1.0}, {1, 1, 1.0}}, rb[2] = {{0, 0, 1.0}, {1, 0, 1.0}};
    REQUIRE(moemap_placement_create(2, 2, 1, &split, &err) == 0 &&
            moemap_placement_set_layer(split, 0, 1, rs, 2, &err) == 0 &&
            moemap_placement_create(2, 2, 1, &both, &err) == 0 &&
            moemap_placement_set_layer(both, 0, 1, rb, 2, &err) == 0);
    for (int d = 0; d < 2; d++) {
        P.dispatch = d ? MOEMAP_DISPATCH_TOKEN_EXPERT : MOEMAP_DISPATCH_TOKEN_GPU;
        exec_layer_map m;
        moemap_exec_result *r = NULL;
        CHECK_OK(exec_layer_map_build(split, &rt, 1, &m, &err), &err);
        CHECK_OK(exec_result_alloc(2, 1, 1, &r, &err), &err);
        CHECK_OK(exec_predict(&m, split, &rt, &P, 1, c, r, &err), &err);
        CHECK_NEAR(r->predicted_us[0], 100.3, 1e-9);
        CHECK_NEAR(r->predicted_us[1], 100.3, 1e-9);
        CHECK_NEAR(r->predicted_dispatch_us[0], 12, 1e-9);
        CHECK_NEAR(r->predicted_dispatch_us[1], 12, 1e-9);
        moemap_exec_result_free(r);
        exec_layer_map_clear(&m);
        /* (b) both experts on GPU 0: per (token, GPU) tokens 2-3 cross once each (GPU 0
         *     receives 2, GPU 1 sends 2: 12 us); per (token, expert) twice (14 us).
         *     GPU 0 computes two experts of 4 rows: 200.6 us; GPU 1 nothing. */
        CHECK_OK(exec_layer_map_build(both, &rt, 1, &m, &err), &err);
        CHECK_OK(exec_result_alloc(2, 1, 1, &r, &err), &err);
        CHECK_OK(exec_predict(&m, both, &rt, &P, 1, c, r, &err), &err);
        CHECK_NEAR(r->predicted_us[0], 200.6, 1e-9);
        CHECK_NEAR(r->predicted_us[1], 0, 0);
        CHECK_NEAR(r->predicted_dispatch_us[0], d ? 14 : 12, 1e-9);
        CHECK_NEAR(r->predicted_dispatch_us[1], d ? 14 : 12, 1e-9);
        moemap_exec_result_free(r);
        exec_layer_map_clear(&m);
    }
    moemap_placement_free(split);
    moemap_placement_free(both);
    moemap_cluster_free(c);
}

TEST(layer_map_names_missing_layer)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(1, 2);
    REQUIRE(p);
    p->layers[0].layer = 0; /* layer 0 is dense in DeepSeek-V2-Lite: no routing */
    moemap_error err = {0};
    exec_layer_map m;
    CHECK(exec_layer_map_build(p, rt, 1, &m, &err) == MOEMAP_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "layer 0");
    moemap_placement_free(p);
}

TEST(routing_from_loads_gives_distinct_choices_and_counts)
{
    moemap_loads *ld = NULL;
    moemap_error err = {0};
    REQUIRE(moemap_loads_create(8, 2, 1, 2, &ld, &err) == 0);
    ld->layer_ids[0] = 3;
    double c0[8] = {10, 0, 3, 3, 2, 1, 0, 1}; /* 20 = 10 tokens x 2 */
    double c1[8] = {1.5, 1.5, 1, 1, 1, 1, 1, 4}; /* sums to 12, scaled to 6 x 2 */
    ld->batch_tokens[0] = 10;
    ld->batch_tokens[1] = 6;
    for (int e = 0; e < 8; e++) {
        MOEMAP_LOADS_AT(ld, 0, 0, e) = c0[e];
        MOEMAP_LOADS_AT(ld, 1, 0, e) = c1[e];
    }
    moemap_routing *rt = NULL;
    CHECK_OK(moemap_exec_routing_from_loads(ld, 0, &rt, &err), &err);
    REQUIRE(rt);
    CHECK_INT_EQ(rt->num_tokens, 16);
    CHECK_INT_EQ(rt->layer_ids[0], 3);
    long cnt[8] = {0};
    for (long t = 0; t < 10; t++) {
        CHECK(rt->ids[t * 2] != rt->ids[t * 2 + 1]);
        cnt[rt->ids[t * 2]]++, cnt[rt->ids[t * 2 + 1]]++;
        CHECK_NEAR(rt->weights[t * 2], 0.5, 1e-6);
    }
    for (int e = 0; e < 8; e++)
        CHECK_INT_EQ(cnt[e], (long)c0[e]);
    for (long t = 10; t < 16; t++)
        CHECK(rt->ids[t * 2] != rt->ids[t * 2 + 1]);
    moemap_routing_free(rt);
    moemap_loads_free(ld);
}

TEST(summary_of_known_numbers)
{
    moemap_exec_result *r = NULL;
    moemap_error err = {0};
    REQUIRE(exec_result_alloc(2, 1, 2, &r, &err) == 0);
    /* iteration 0: GPU0 100 us, GPU1 200; iteration 1: 300, 100. Predictions 110/190,
     * 300/100. */
    double c[4] = {100, 200, 300, 100}, p[4] = {110, 190, 300, 100};
    /* dispatch measured 20 us and combine 40 on every GPU; predicted 10 on GPU 0 and 40
     * on GPU 1 */
    double pd[4] = {10, 40, 10, 40};
    for (int i = 0; i < 4; i++) {
        r->compute_us[i] = c[i];
        r->predicted_us[i] = p[i];
        r->layer_us[i] = c[i] + 50;
        r->dispatch_us[i] = 20;
        r->combine_us[i] = 40;
        r->predicted_dispatch_us[i] = pd[i];
    }
    moemap_exec_summary s;
    CHECK_OK(moemap_exec_summarize(r, &s, &err), &err);
    CHECK_NEAR(s.straggler_mean_us, 250, 1e-9);
    CHECK_NEAR(s.pred_straggler_mean_us, 245, 1e-9);
    CHECK_NEAR(s.gpu_compute_mean_us[0], 200, 1e-9);
    CHECK_NEAR(s.gpu_pred_mean_us[1], 145, 1e-9);
    /* sample errors 0.1, 0.05, 0, 0 -> median 0.025 */
    CHECK_NEAR(s.median_abs_err, 0.025, 1e-12);
    CHECK_NEAR(s.layer_mean_us, 300, 1e-9);
    /* whole layer predicted: max(110 + 20, 190 + 80) = 270, max(300 + 20, 100 + 80) = 320 */
    CHECK_NEAR(s.pred_layer_mean_us, 295, 1e-9);
    CHECK_NEAR(s.layer_err, 295.0 / 300 - 1, 1e-12);
    CHECK_NEAR(s.pred_dispatch_mean_us, 25, 1e-9);
    CHECK_NEAR(s.dispatch_err, (2 * 25.0 - 60) / 60, 1e-12); /* 50 predicted, 60 measured */
    CHECK_INT_EQ(s.num_gpus, 2);
    /* GPU 1: compute 150, predicted 145: its mean error is -5/150. */
    CHECK_NEAR(s.gpu_mean_err[1], -5.0 / 150, 1e-12);
    moemap_exec_summary_clear(&s);
    CHECK(s.gpu_compute_mean_us == NULL && s.num_gpus == 0);
    moemap_exec_summary_clear(&s); /* a cleared summary clears again */
    moemap_exec_result_free(r);
}

/* Every allocation of the host-side code failing in turn: ENOMEM, nothing leaked (ASan). */
TEST(allocation_failures)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(2, 2);
    REQUIRE(p);
    moemap_error err = {0};
    int done = 0;
    for (long n = 0; n < 200 && !done; n++) {
        exec_layer_map m;
        exec_rank_plan pl;
        moemap_alloc_fail_after(n);
        int rc = exec_layer_map_build(p, rt, 2, &m, &err);
        if (rc == 0) {
            rc = exec_plan_build(&m, p, rt, 300, 1, 1, 1, MOEMAP_DISPATCH_TOKEN_GPU, &pl, &err);
            if (rc == 0) {
                done = 1;
                exec_plan_clear(&pl);
            }
            exec_layer_map_clear(&m);
        }
        moemap_alloc_fail_after(-1);
        if (!done)
            CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
    }
    CHECK(done);
    moemap_loads *ld = NULL;
    REQUIRE(moemap_loads_create(4, 2, 1, 1, &ld, &err) == 0);
    ld->batch_tokens[0] = 8;
    for (int e = 0; e < 4; e++)
        MOEMAP_LOADS_AT(ld, 0, 0, e) = 4;
    done = 0;
    for (long n = 0; n < 50 && !done; n++) {
        moemap_routing *r2 = NULL;
        moemap_alloc_fail_after(n);
        int rc = moemap_exec_routing_from_loads(ld, 0, &r2, &err);
        moemap_alloc_fail_after(-1);
        if (rc == 0)
            done = 1;
        else
            CHECK_INT_EQ(rc, MOEMAP_ENOMEM);
        moemap_routing_free(r2);
    }
    CHECK(done);
    moemap_loads_free(ld);
    moemap_placement_free(p);
}

/* Runs `moemap ARGS` (MOEMAP_BIN) and returns its exit status; its stderr goes to
 * *errtext (static buffer). -1 when the binary is not known. */
static int run_cli(const char *args, const char **errtext)
{
    static char buf[4096];
    const char *bin = getenv("MOEMAP_BIN");
    buf[0] = 0;
    *errtext = buf;
    if (!bin || !*bin)
        return -1;
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", bin, args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(cli_usage_errors)
{
    const char *e;
    int rc = run_cli("run --model deepseek-v2-lite --loads x", &e);
    if (rc == -1)
        return; /* run outside ctest: no binary to call */
    CHECK_INT_EQ(rc, 2);
    CHECK_STR_CONTAINS(e, "placement");
    CHECK_INT_EQ(run_cli("run --model deepseek-v2-lite p.json", &e), 2);
    CHECK_STR_CONTAINS(e, "--loads");
    CHECK_INT_EQ(run_cli("run --model deepseek-v2-lite --loads x --sm-limit 1 p.json", &e), 2);
    CHECK_STR_CONTAINS(e, "GPU=VALUE");
    CHECK_INT_EQ(run_cli("run --model deepseek-v2-lite --loads x --iterations 0 p.json", &e), 2);
    CHECK_STR_CONTAINS(e, "--iterations");
    /* an unknown model is a usage error, as everywhere (docs/cli.md) */
    CHECK_INT_EQ(run_cli("run --model no-such-model --loads x p.json", &e), 2);
    CHECK_STR_CONTAINS(e, "no-such-model");
}

#ifndef MOEMAP_HAVE_CUDA
TEST(cli_without_cuda_says_so)
{
    moemap_placement *p = two_gpu_placement(1, 2);
    REQUIRE(p);
    moemap_error err = {0};
    const char *path = mm_tmp_path("exec_two_gpu.json");
    CHECK_OK(moemap_placement_write(p, path, &err), &err);
    moemap_placement_free(p);
    char args[4096];
    snprintf(args, sizeof args, "run --model deepseek-v2-lite --loads %s %s",
             mm_data_path("esft-dsv2lite-routing/expert_scores/law"), path);
    const char *e;
    int rc = run_cli(args, &e);
    if (rc == -1)
        return;
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_CONTAINS(e, "built without GPU support");
}

TEST(run_without_cuda_says_so)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(1, 2);
    REQUIRE(p);
    moemap_exec_params prm = moemap_exec_default_params();
    prm.hidden = 128, prm.intermediate = 64;
    moemap_exec_result *res = (moemap_exec_result *)&prm; /* must be reset to NULL */
    moemap_error err = {0};
    const moemap_placement *pp = p;
    CHECK(moemap_exec_run(&prm, NULL, rt, &pp, 1, &res, &err) == MOEMAP_ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "built without GPU support");
    CHECK(res == NULL);
    moemap_placement_free(p);
}
#else
/* The CUDA build keeps the GPU code in libmoemap_gpu.so: a missing module is one line
 * naming it, and the CLI itself links no GPU library (measured by what it maps). */
TEST(cli_names_a_missing_gpu_module)
{
    moemap_placement *p = two_gpu_placement(1, 2);
    REQUIRE(p);
    moemap_error err = {0};
    const char *path = mm_tmp_path("exec_two_gpu.json");
    CHECK_OK(moemap_placement_write(p, path, &err), &err);
    moemap_placement_free(p);
    char args[4096];
    snprintf(args, sizeof args,
             "run --model deepseek-v2-lite --loads %s %s",
             mm_data_path("esft-dsv2lite-routing/expert_scores/law"), path);
    const char *e;
    setenv("MOEMAP_GPU_MODULE", "/nonexistent/libmoemap_gpu.so", 1);
    int rc = run_cli(args, &e);
    unsetenv("MOEMAP_GPU_MODULE");
    if (rc == -1)
        return;
    CHECK_INT_EQ(rc, 1);
    CHECK_STR_CONTAINS(e, "cannot load the GPU module");
    CHECK_STR_CONTAINS(e, "/nonexistent/libmoemap_gpu.so");
}

TEST(cli_maps_no_gpu_library)
{
    const char *bin = getenv("MOEMAP_BIN");
    if (!bin || !*bin)
        return;
    /* What the dynamic loader maps at start-up: no CUDA runtime, cuBLAS(Lt) or NCCL. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ldd '%s' 2>&1", bin);
    FILE *f = popen(cmd, "r");
    REQUIRE(f);
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        CHECK(!strstr(line, "libcuda") && !strstr(line, "libcublas") && !strstr(line, "nccl"));
    }
    pclose(f);
    CHECK(lines > 0);
}

static int gpu_count(void)
{
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

/* A small real run in check mode: the outputs must match the CPU reference and every
 * row must come back once. */
static void check_run(int gpus)
{
    moemap_routing *rt = routing();
    REQUIRE(rt);
    moemap_placement *p = two_gpu_placement(2, gpus);
    REQUIRE(p);
    moemap_exec_params prm = moemap_exec_default_params();
    prm.hidden = 256, prm.intermediate = 128; /* small: the CPU reference stays fast */
    prm.layers = 2, prm.iterations = 2, prm.warmup = 1, prm.tokens_per_iter = 200;
    prm.check = 1;
    moemap_exec_result *res = NULL;
    moemap_error err = {0};
    const moemap_placement *pp = p;
    CHECK_OK(moemap_exec_run(&prm, NULL, rt, &pp, 1, &res, &err), &err);
    if (res) {
        CHECK(res->checked);
        CHECK_INT_EQ(res->check_rows, res->check_rows_expected);
        CHECK_INT_EQ(res->check_rows_expected, 2L * 2 * 200 * rt->top_k);
        CHECK_INT_EQ(res->check_tag_errors, 0);
        CHECK(res->check_rel_err < 1e-2);
        CHECK(res->check_max_rel_err < 3e-2);
        for (int g = 0; g < gpus; g++)
            CHECK(res->compute_us[g] > 0);
    }
    moemap_exec_result_free(res);
    moemap_placement_free(p);
}

TEST(check_one_gpu) { check_run(1); }
TEST(check_two_gpus) { check_run(2); }
#endif

int main(void)
{
    RUN(plan_routes_every_choice_once_per_expert);
    RUN(plan_routes_every_choice_once_per_gpu);
    RUN(replicas_split_rows_by_share);
    RUN(predictions_by_hand);
    RUN(layer_map_names_missing_layer);
    RUN(routing_from_loads_gives_distinct_choices_and_counts);
    RUN(summary_of_known_numbers);
    RUN(allocation_failures);
    RUN(cli_usage_errors);
#ifndef MOEMAP_HAVE_CUDA
    RUN(run_without_cuda_says_so);
    RUN(cli_without_cuda_says_so);
#else
    RUN(cli_names_a_missing_gpu_module);
    RUN(cli_maps_no_gpu_library);
    int n = gpu_count();
    if (n >= 1 && !mm_tests_failed)
        RUN(check_one_gpu);
    if (n >= 2 && !mm_tests_failed)
        RUN(check_two_gpus);
    if (n < 1) {
        moemap_routing_free(g_rt);
        if (mm_tests_failed)
            return mm_test_done();
        SKIP_ALL("no GPU visible (host-side tests passed)");
    }
#endif
    moemap_routing_free(g_rt);
    return mm_test_done();
}
