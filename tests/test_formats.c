/*
 * test_formats.c — the stage files each have one writer and one reader in the library
 * (docs/formats.md): eval (moemap.eval/v1), stats (moemap.stats/v1), simulate
 * (moemap.simulate/v1) and run (moemap.run/v1). Each is written from a hand-built struct,
 * read back, and compared field by field; each reader refuses a file of another kind by
 * its "format", naming the file.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "moemap/eval.h"
#include "moemap/gpu_exec.h"
#include "moemap/sim.h"
#include "moemap/workload.h"

static double b_us[3] = {100, 200, 330};
static double gpu_us[4] = {40, 50, 60, 10}; /* 2 layers x 2 GPUs */

TEST(eval_round_trip)
{
    moemap_eval_layer layers[2] = {{.layer = 3, .mean_us = 90, .p90_us = 95, .p99_us = 99,
                                    .bound_mean_us = 80, .gap = 0.125, .replicas = 5},
                                   {.layer = 7, .mean_us = 120, .p90_us = 130, .p99_us = 140,
                                    .bound_mean_us = 100, .gap = 0.2, .replicas = 4,
                                    .layer_mean_us = 150, .a2a_mean_us = 30}};
    double bl_us[3] = {160, 260, 390};
    moemap_eval_summary s = {.num_batches = 3, .batch_us = b_us, .mean_us = 210,
                             .p90_us = 304, .p99_us = 327.4, .bound_mean_us = 180,
                             .gap = 1.0 / 6, .replicas = 9, .moved = -1, .num_layers = 2,
                             .layers = layers, .num_gpus = 2, .layer_gpu_us = gpu_us,
                             .batch_layer_us = bl_us, .layer_mean_us = 270,
                             .layer_p90_us = 364, .layer_p99_us = 387.4, .a2a_mean_us = 60};
    snprintf(s.strategy, sizeof s.strategy, "eplb");
    moemap_eval_summary *sums[1] = {&s};
    char *files[1] = {"p/eplb.json"};
    moemap_eval_file f = {3, 1, files, sums};
    const char *path = mm_tmp_path("formats_eval.json");
    moemap_error err = {0};
    CHECK_OK(moemap_eval_write(path, &f, &err), &err);
    moemap_eval_file *r = NULL;
    CHECK_OK(moemap_eval_read(path, &r, &err), &err);
    REQUIRE(r != NULL);
    CHECK_INT_EQ(r->num_placements, 1);
    CHECK_INT_EQ(r->num_batches, 3);
    CHECK(!strcmp(r->files[0], "p/eplb.json"));
    const moemap_eval_summary *e = r->summaries[0];
    CHECK(!strcmp(e->strategy, "eplb"));
    CHECK_NEAR(e->p99_us, 327.4, 1e-9);
    CHECK_NEAR(e->gap, 1.0 / 6, 1e-9);
    CHECK_INT_EQ(e->moved, -1);
    CHECK_INT_EQ(e->replicas, 9);
    REQUIRE(e->batch_us != NULL);
    CHECK_NEAR(e->batch_us[2], 330, 1e-9);
    CHECK_INT_EQ(e->num_layers, 2);
    CHECK_INT_EQ(e->layers[1].layer, 7);
    CHECK_NEAR(e->layers[1].p90_us, 130, 1e-9);
    CHECK_INT_EQ(e->num_gpus, 2);
    REQUIRE(e->layer_gpu_us != NULL);
    CHECK_NEAR(e->layer_gpu_us[2], 60, 1e-9); /* layer 7, GPU 0 */
    /* the whole layer with dispatch and combine */
    CHECK_NEAR(e->layer_mean_us, 270, 1e-9);
    CHECK_NEAR(e->layer_p90_us, 364, 1e-9);
    CHECK_NEAR(e->layer_p99_us, 387.4, 1e-9);
    CHECK_NEAR(e->a2a_mean_us, 60, 1e-9);
    REQUIRE(e->batch_layer_us != NULL);
    CHECK_NEAR(e->batch_layer_us[2], 390, 1e-9);
    CHECK_NEAR(e->layers[1].layer_mean_us, 150, 1e-9);
    CHECK_NEAR(e->layers[1].a2a_mean_us, 30, 1e-9);
    moemap_eval_file_free(r);
}

TEST(stats_round_trip)
{
    double share[2][3] = {{0.5, 0.3, 0.2}, {0.1, 0.1, 0.8}};
    int cons[2] = {0, 1}, temp[1] = {2}, cstart[2] = {0, 2}, cexp[2] = {0, 2};
    moemap_coactive_pair pair = {0, 2, 0.75};
    moemap_layer_stats ls[2] = {
        {.layer = 1, .tokens = 30, .load_share = share[0], .max_over_mean = 1.5, .cv = 0.4,
         .gini = 0.2, .num_consistent = 2, .consistent = cons, .num_temporal = 1,
         .temporal = temp, .num_pairs = 1, .pairs = &pair, .num_clusters = 1,
         .cluster_start = cstart, .cluster_experts = cexp},
        {.layer = 2, .tokens = 10, .load_share = share[1], .max_over_mean = 2.4, .cv = 0.9,
         .gini = 0.5}};
    double dist[2] = {0.01, 0.25};
    moemap_workload_stats st = {.experts = 3, .num_batches = 4, .num_layers = 2,
                                .layers = ls, .top_k = 2, .cosine_distance = dist};
    const char *path = mm_tmp_path("formats_stats.json");
    moemap_error err = {0};
    CHECK_OK(moemap_workload_stats_write(path, &st, "in.json", "other.json", &err), &err);
    moemap_workload_stats *r = NULL;
    CHECK_OK(moemap_workload_stats_read(path, &r, &err), &err);
    REQUIRE(r != NULL);
    CHECK_INT_EQ(r->experts, 3);
    CHECK_INT_EQ(r->top_k, 2);
    CHECK_INT_EQ(r->num_batches, 4);
    CHECK_INT_EQ(r->num_layers, 2);
    CHECK_INT_EQ(r->layers[1].layer, 2);
    CHECK_NEAR(r->layers[1].load_share[2], 0.8, 1e-9);
    CHECK_NEAR(r->layers[0].gini, 0.2, 1e-9);
    CHECK_INT_EQ(r->layers[0].num_consistent, 2);
    CHECK_INT_EQ(r->layers[0].temporal[0], 2);
    CHECK_INT_EQ(r->layers[0].num_pairs, 1);
    CHECK_INT_EQ(r->layers[0].pairs[0].b, 2);
    CHECK_NEAR(r->layers[0].pairs[0].corr, 0.75, 1e-9);
    CHECK_INT_EQ(r->layers[0].num_clusters, 1);
    CHECK_INT_EQ(r->layers[0].cluster_experts[1], 2);
    CHECK_INT_EQ(r->layers[1].num_pairs, 0);
    REQUIRE(r->cosine_distance != NULL);
    CHECK_NEAR(r->cosine_distance[1], 0.25, 1e-9);
    moemap_workload_stats_free(r);
}

TEST(simulate_round_trip)
{
    double idle[2] = {0.5, 1.25}, t[3] = {0, 1, 2}, p90[3] = {0.4, NAN, 0.9};
    double strag[3] = {1, 2, 3}, tok[3] = {10, 20, 30}, rate[2] = {5, 10}, slo[2] = {1, 0.95};
    moemap_sim_marker mk = {1.5, "slow@1.5=0:0.5"};
    moemap_sim_result res = {.requests = 12, .completed = 10, .iterations = 400,
                             .sim_time_s = 3, .ttft = {0.1, 0.3, 0.6, 0.2},
                             .tpot = {0.01, 0.02, 0.05, 0.015}, .e2e = {1, 2, 3, 1.5},
                             .slo_attainment = 0.75, .ttft_attainment = 0.8,
                             .tpot_attainment = 0.9, .goodput_rps = 3, .num_gpus = 2,
                             .gpu_idle_s = idle, .migration_bytes = 123456789012.0,
                             .ts_n = 3, .ts_time_s = t, .ts_p90_ttft_s = p90,
                             .ts_straggler_ms = strag, .ts_tokens_per_s = tok,
                             .num_markers = 1, .markers = &mk, .capacity_rps = 10,
                             .capacity_target = 0.9, .capacity_n = 2, .capacity_rate = rate,
                             .capacity_slo = slo};
    moemap_sim_result *runs[1] = {&res};
    char *labels[1] = {"eplb.json/drift"};
    moemap_sim_file f = {1, labels, runs};
    const char *path = mm_tmp_path("formats_sim.json");
    moemap_error err = {0};
    CHECK_OK(moemap_sim_write(path, &f, 1, &err), &err);
    moemap_sim_file *r = NULL;
    CHECK_OK(moemap_sim_read(path, &r, &err), &err);
    REQUIRE(r != NULL && r->num_runs == 1);
    const moemap_sim_result *x = r->runs[0];
    CHECK(!strcmp(r->labels[0], "eplb.json/drift"));
    CHECK_INT_EQ(x->requests, 12);
    CHECK_INT_EQ(x->completed, 10);
    CHECK_NEAR(x->ttft.p90, 0.3, 1e-9);
    CHECK_NEAR(x->tpot.p99, 0.05, 1e-9);
    CHECK_NEAR(x->slo_attainment, 0.75, 1e-9);
    CHECK_NEAR(x->goodput_rps, 3, 1e-9);
    CHECK_NEAR(x->migration_bytes, 123456789012.0, 0.5); /* 12 digits kept */
    CHECK_INT_EQ(x->num_gpus, 2);
    CHECK_NEAR(x->gpu_idle_s[1], 1.25, 1e-9);
    CHECK_INT_EQ(x->ts_n, 3);
    CHECK(isnan(x->ts_p90_ttft_s[1])); /* a bucket without a first token: null */
    CHECK_NEAR(x->ts_p90_ttft_s[2], 0.9, 1e-9);
    CHECK_INT_EQ(x->num_markers, 1);
    CHECK(!strcmp(x->markers[0].label, "slow@1.5=0:0.5"));
    CHECK_INT_EQ(x->capacity_n, 2);
    CHECK_NEAR(x->capacity_slo[1], 0.95, 1e-9);
    CHECK_NEAR(x->capacity_rps, 10, 1e-9);
    moemap_sim_file_free(r);

    /* Without the time series: none read back. */
    CHECK_OK(moemap_sim_write(path, &f, 0, &err), &err);
    CHECK_OK(moemap_sim_read(path, &r, &err), &err);
    REQUIRE(r != NULL);
    CHECK_INT_EQ(r->runs[0]->ts_n, 0);
    moemap_sim_file_free(r);
}

TEST(run_round_trip)
{
    double comp[4] = {10, 11, 12, 13}, pred[4] = {9, 12, 12, 14};
    double disp[4] = {5, 6, 7, 8}, comb[4] = {6, 7, 8, 9}, lay[4] = {30, 31, 32, 33};
    double pdisp[4] = {4, 5, 6, 7};
    char names[2][64] = {"GPU A", "GPU B"};
    int sms[2] = {132, 66};
    moemap_exec_result res = {.num_gpus = 2, .layers = 1, .iterations = 2, .compute_us = comp,
                              .predicted_us = pred, .checked = 1, .check_rel_err = 0.004,
                              .check_rows = 64, .check_rows_expected = 64,
                              .dispatch_us = disp, .combine_us = comb, .layer_us = lay,
                              .predicted_dispatch_us = pdisp, .device_names = names,
                              .device_sms = sms};
    double gpu_comp[2] = {11, 12}, gpu_pred[2] = {10.5, 13}, gpu_rows[2] = {40, 24},
           gpu_err[2] = {-0.05, 0.08};
    moemap_exec_summary sum = {.straggler_mean_us = 12.5, .straggler_err = -0.02,
                               .pred_layer_mean_us = 29, .layer_err = -0.1,
                               .num_gpus = 2, .gpu_compute_mean_us = gpu_comp,
                               .gpu_pred_mean_us = gpu_pred, .gpu_rows_mean = gpu_rows,
                               .gpu_mean_err = gpu_err};
    moemap_exec_result *results[1] = {&res};
    char *files[1] = {"moemap.json"};
    moemap_exec_params p = moemap_exec_default_params();
    p.hidden = 2048;
    p.intermediate = 1408;
    p.iterations = 2;
    p.dispatch = MOEMAP_DISPATCH_TOKEN_EXPERT;
    moemap_exec_file f = {1, files, p, results, &sum};
    const char *path = mm_tmp_path("formats_run.json");
    moemap_error err = {0};
    CHECK_OK(moemap_exec_write(path, &f, &err), &err);
    moemap_exec_file *r = NULL;
    CHECK_OK(moemap_exec_read(path, &r, &err), &err);
    REQUIRE(r != NULL && r->num_placements == 1);
    CHECK_INT_EQ(r->params.hidden, 2048);
    CHECK_INT_EQ(r->params.intermediate, 1408);
    CHECK(!strcmp(r->files[0], "moemap.json"));
    const moemap_exec_result *x = r->results[0];
    CHECK_INT_EQ(x->num_gpus, 2);
    CHECK(!strcmp(x->device_names[1], "GPU B"));
    CHECK_INT_EQ(x->device_sms[1], 66);
    CHECK_NEAR(x->compute_us[3], 13, 1e-9);
    CHECK_NEAR(x->predicted_us[0], 9, 1e-9);
    CHECK_INT_EQ(x->checked, 1);
    CHECK_INT_EQ(x->check_rows_expected, 64);
    CHECK_NEAR(r->summaries[0].straggler_mean_us, 12.5, 1e-9);
    CHECK_INT_EQ(r->summaries[0].num_gpus, 2);
    CHECK_NEAR(r->summaries[0].gpu_compute_mean_us[1], 12, 1e-9);
    CHECK_NEAR(r->summaries[0].gpu_pred_mean_us[0], 10.5, 1e-9);
    CHECK_NEAR(r->summaries[0].gpu_rows_mean[0], 40, 1e-9);
    CHECK_NEAR(r->summaries[0].gpu_mean_err[1], 0.08, 1e-9);
    CHECK(!strcmp(x->device_names[0], "GPU A"));
    CHECK_NEAR(r->summaries[0].straggler_err, -0.02, 1e-9);
    /* dispatch mode, phases and the whole-layer prediction */
    CHECK_INT_EQ(r->params.dispatch, MOEMAP_DISPATCH_TOKEN_EXPERT);
    CHECK_INT_EQ(x->dispatch, MOEMAP_DISPATCH_TOKEN_EXPERT);
    REQUIRE(x->dispatch_us && x->combine_us && x->layer_us && x->predicted_dispatch_us);
    CHECK_NEAR(x->dispatch_us[1], 6, 1e-9);
    CHECK_NEAR(x->combine_us[2], 8, 1e-9);
    CHECK_NEAR(x->layer_us[3], 33, 1e-9);
    CHECK_NEAR(x->predicted_dispatch_us[0], 4, 1e-9);
    CHECK_NEAR(r->summaries[0].pred_layer_mean_us, 29, 1e-9);
    CHECK_NEAR(r->summaries[0].layer_err, -0.1, 1e-9);
    moemap_exec_file_free(r);

    /* A bad dispatch mode or a phase array of the wrong length is named, not guessed. */
    char *text = NULL;
    {
        FILE *fi = fopen(path, "r");
        REQUIRE(fi != NULL);
        fseek(fi, 0, SEEK_END);
        long n = ftell(fi);
        fseek(fi, 0, SEEK_SET);
        text = calloc((size_t)n + 64, 1);
        REQUIRE(text && fread(text, 1, (size_t)n, fi) == (size_t)n);
        fclose(fi);
    }
    char *d = strstr(text, "\"token-expert\"");
    REQUIRE(d != NULL);
    memcpy(d, "\"token-ring\"  ", 14); /* same length, another name */
    const char *bad = mm_tmp_path("formats_run_bad.json");
    FILE *fo = fopen(bad, "w");
    REQUIRE(fo != NULL);
    fputs(text, fo);
    fclose(fo);
    CHECK(moemap_exec_read(bad, &r, &err) == MOEMAP_EPARSE);
    CHECK_STR_CONTAINS(err.msg, "dispatch: expected \"token-gpu\" or \"token-expert\"");
    free(text);
}

/* Each reader names the file and the kind it found when given another stage's file. */
TEST(readers_refuse_other_kinds)
{
    const char *path = mm_tmp_path("formats_other.json");
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("{\"format\": \"moemap.placement/v1\"}\n", f);
    fclose(f);
    moemap_error err = {0};
    moemap_eval_file *ef = NULL;
    CHECK(moemap_eval_read(path, &ef, &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "formats_other.json: format is \"moemap.placement/v1\", "
                                "expected \"moemap.eval/v1\"");
    moemap_workload_stats *st = NULL;
    CHECK(moemap_workload_stats_read(path, &st, &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "expected \"moemap.stats/v1\"");
    moemap_sim_file *sf = NULL;
    CHECK(moemap_sim_read(path, &sf, &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "expected \"moemap.simulate/v1\"");
    moemap_exec_file *xf = NULL;
    CHECK(moemap_exec_read(path, &xf, &err) == MOEMAP_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "expected \"moemap.run/v1\"");
    CHECK(ef == NULL && st == NULL && sf == NULL && xf == NULL);
}

int main(void)
{
    RUN(eval_round_trip);
    RUN(stats_round_trip);
    RUN(simulate_round_trip);
    RUN(run_round_trip);
    RUN(readers_refuse_other_kinds);
    return mm_test_done();
}
