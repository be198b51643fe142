/*
 * report_text.c — the plain-text tables and summaries of the command-line tool (see
 * moemap/report_text.h), built into a growable buffer: stats, eval, simulate, cluster
 * show and synth, run, profile and the model presets.
 */
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "moemap/report_text.h"
#include "report_internal.h"

/* The buffer's text for the caller, or NULL (and nothing left allocated) when an append
 * ran out of memory. */
static char *text_of(rp_buf *b)
{
    if (b->oom) {
        rp_buf_free(b);
        return NULL;
    }
    if (!b->s)
        rp_buf_append(b, "", 0);
    return b->oom ? NULL : b->s;
}

static double total_tokens(const moemap_loads *ld)
{
    double tokens = 0;
    for (int b = 0; b < ld->num_batches; b++)
        tokens += ld->batch_tokens[b];
    return tokens;
}

/* "3,17,40" cut to fit `width` characters ("3,17,+5"), "-" when empty. */
static void id_list(char *dst, size_t width, const int *v, int n)
{
    size_t k = 0;
    dst[0] = '\0';
    if (n == 0) {
        snprintf(dst, width + 1, "-");
        return;
    }
    for (int i = 0; i < n; i++) {
        char item[24];
        int len = snprintf(item, sizeof item, "%s%d", i ? "," : "", v[i]);
        char more[24];
        int mlen = snprintf(more, sizeof more, ",+%d", n - i);
        if (k + (size_t)len + (i + 1 < n ? (size_t)mlen : 0) > width) {
            snprintf(dst + k, width + 1 - k, "%s", i ? more : more + 1);
            return;
        }
        memcpy(dst + k, item, (size_t)len + 1);
        k += (size_t)len;
    }
}

/* One layer's row of the stats table. */
static void stats_row(rp_buf *b, const moemap_layer_stats *s)
{
    char temporal[24], pair[32] = "-", clusters[64] = "-";
    id_list(temporal, 22, s->temporal, s->num_temporal);
    if (s->num_pairs > 0)
        snprintf(pair, sizeof pair, "%d+%d (%.2f)", s->pairs[0].a, s->pairs[0].b,
                 s->pairs[0].corr);
    if (s->num_clusters > 0) {
        int biggest = 0;
        for (int c = 1; c < s->num_clusters; c++)
            if (s->cluster_start[c + 1] - s->cluster_start[c] >
                s->cluster_start[biggest + 1] - s->cluster_start[biggest])
                biggest = c;
        char ids[40];
        id_list(ids, 30, s->cluster_experts + s->cluster_start[biggest],
                s->cluster_start[biggest + 1] - s->cluster_start[biggest]);
        snprintf(clusters, sizeof clusters, "%d, largest {%s}", s->num_clusters, ids);
    }
    rp_buf_printf(b, "%5d %9.0f %8.2f %6.3f %6.3f %5d %5d  %-22s %-17s %s\n", s->layer,
                  s->tokens, s->max_over_mean, s->cv, s->gini, s->num_consistent,
                  s->num_temporal, temporal, pair, clusters);
}

char *moemap_text_stats(const char *input, const moemap_loads *ld,
                        const moemap_workload_stats *st, const char *other)
{
    rp_buf b = {0};
    const double *dist = st->cosine_distance;
    rp_buf_printf(&b, "%s: %d MoE layers x %d experts, %d batches, %.0f tokens", input,
                  ld->num_layers, ld->experts, ld->num_batches, total_tokens(ld));
    if (ld->top_k > 0)
        rp_buf_printf(&b, ", top-%d", ld->top_k);
    rp_buf_printf(&b, "\n\n%5s %9s %8s %6s %6s %5s %5s  %-22s %-17s %s\n", "layer", "tokens",
                  "max/mean", "cv", "gini", "cons", "temp", "temporal experts",
                  "top pair (corr)", "hot clusters");
    for (int l = 0; l < st->num_layers; l++)
        stats_row(&b, &st->layers[l]);
    if (dist) {
        double sum = 0, mx = 0;
        rp_buf_printf(&b, "\ncosine distance of expert loads vs %s:\n%5s %10s\n", other,
                      "layer", "distance");
        for (int l = 0; l < st->num_layers; l++) {
            rp_buf_printf(&b, "%5d %10.4f\n", st->layers[l].layer, dist[l]);
            sum += dist[l];
            if (dist[l] > mx)
                mx = dist[l];
        }
        rp_buf_printf(&b, "mean %.4f, max %.4f over %d layers\n", sum / st->num_layers, mx,
                      st->num_layers);
    }
    return text_of(&b);
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* One placement's table per layer (eval --layers). */
static void eval_layers(rp_buf *b, const char *file, const moemap_eval_summary *s)
{
    rp_buf_printf(b, "\n%s (%s), per layer:\n", file, s->strategy);
    rp_buf_printf(b, "%6s %10s %10s %10s %10s %7s %10s %7s %8s %8s\n", "layer", "mean", "p90",
                  "p99", "bound", "gap%", "fixed", "fgap%", "max/mean", "replicas");
    for (int l = 0; l < s->num_layers; l++) {
        const moemap_eval_layer *el = &s->layers[l];
        rp_buf_printf(b, "%6d %10.1f %10.1f %10.1f %10.1f %7.2f %10.1f %7.2f %8.3f %8d\n",
                      el->layer, el->mean_us, el->p90_us, el->p99_us, el->bound_mean_us,
                      100 * el->gap, el->fixed_bound_mean_us, 100 * el->fixed_gap,
                      el->imbalance, el->replicas);
    }
}

char *moemap_text_eval(const moemap_loads *ld, const moemap_cluster *cl,
                       const moemap_input_params *ip, char *const *files,
                       moemap_eval_summary **sums, int n, int per_layer)
{
    rp_buf b = {0};
    rp_buf_printf(&b, "%d batches, %d GPUs; times in us per batch (sum over MoE layers of "
                  "the straggler)", ld->num_batches, cl->num_gpus);
    if (ip->op_text[0])
        rp_buf_printf(&b, " at %s tokens per iteration", ip->op_text);
    if (ip->engine != MOEMAP_ENGINE_NONE)
        rp_buf_printf(&b, "; %s-rules bound %.1f", moemap_engine_name(ip->engine),
                      sums[0]->engine_bound_mean_us);
    int a2a = !ip->a2a.off;
    rp_buf_printf(&b, "\n");
    if (a2a)
        rp_buf_printf(&b, "mean .. max/mean: expert compute; layer: the whole layer with "
                      "dispatch and combine (%s rows), a2a: their part\n",
                      moemap_dispatch_name(ip->a2a.dispatch));
    rp_buf_printf(&b, "%-24s %-14s %10s %10s %10s %10s %7s %10s %7s %8s %8s %6s", "placement",
                  "strategy", "mean", "p90", "p99", "bound", "gap%", "fixed", "fgap%",
                  "max/mean", "replicas", "moved");
    rp_buf_printf(&b, a2a ? " %10s %8s\n" : "\n", "layer", "a2a");
    for (int i = 0; i < n; i++) {
        const moemap_eval_summary *s = sums[i];
        char moved[24] = "-";
        if (s->moved >= 0)
            snprintf(moved, sizeof moved, "%ld", s->moved);
        rp_buf_printf(&b, "%-24.24s %-14.14s %10.1f %10.1f %10.1f %10.1f %7.2f %10.1f %7.2f "
                      "%8.3f %8ld %6s", base_name(files[i]), s->strategy, s->mean_us,
                      s->p90_us, s->p99_us, s->bound_mean_us, 100 * s->gap,
                      s->fixed_bound_mean_us, 100 * s->fixed_gap, s->imbalance, s->replicas,
                      moved);
        if (a2a)
            rp_buf_printf(&b, " %10.1f %8.1f", s->layer_mean_us, s->a2a_mean_us);
        rp_buf_printf(&b, "\n");
    }
    for (int i = 0; per_layer && i < n; i++)
        eval_layers(&b, files[i], sums[i]);
    return text_of(&b);
}

/* The capacity sweep: per run, the highest rate meeting the target and each rate's
 * attainment. */
static void sim_capacity(rp_buf *b, moemap_sim_result **res, char **labels, int n,
                         const moemap_capacity_params *cp)
{
    rp_buf_printf(b, "\ncapacity: the highest rate with >= %.0f%% of requests inside the SLO "
                  "(%g s of arrivals per rate, same arrivals for every run)\n",
                  100 * cp->target, cp->duration_s);
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = res[i];
        rp_buf_printf(b, "%-22.22s %7.2f req/s  (", labels[i], r->capacity_rps);
        for (int k = 0; k < r->capacity_n; k++)
            rp_buf_printf(b, "%s%g: %.1f%%", k ? ", " : "", r->capacity_rate[k],
                          100 * r->capacity_slo[k]);
        rp_buf_printf(b, ")\n");
    }
}

char *moemap_text_sim(moemap_sim_result **res, char **labels, int n,
                      const moemap_sim_params *sp, const moemap_capacity_params *cp)
{
    rp_buf b = {0};
    const char *head = "%-22s %8s %8s %8s  %8s %8s %8s  %8s  %6s %8s %9s %7s %9s %8s\n";
    rp_buf_printf(&b, head, "run", "TTFT p50", "p90", "p99", "TPOT p50", "p90", "p99",
                  "E2E p90", "SLO%", "goodput", "tok/s", "idle%", "moved GB", "stall s");
    rp_buf_printf(&b, head, "", "(s)", "(s)", "(s)", "(ms)", "(ms)", "(ms)", "(s)", "",
                  "(req/s)", "", "", "", "");
    for (int i = 0; i < n; i++) {
        const moemap_sim_result *r = res[i];
        double idle = 0;
        for (int g = 0; g < r->num_gpus; g++)
            idle += r->gpu_idle_s[g];
        idle = r->sim_time_s > 0 ? 100 * idle / (r->num_gpus * r->sim_time_s) : 0;
        rp_buf_printf(&b, "%-22.22s %8.3f %8.3f %8.3f  %8.2f %8.2f %8.2f  %8.2f  %6.1f %8.2f "
                      "%9.0f %7.1f %9.2f %8.3f\n", labels[i], r->ttft.p50, r->ttft.p90,
                      r->ttft.p99, r->tpot.p50 * 1e3, r->tpot.p90 * 1e3, r->tpot.p99 * 1e3,
                      r->e2e.p90, 100 * r->slo_attainment, r->goodput_rps, r->throughput_tps,
                      idle, r->migration_bytes / 1e9, r->migration_stall_s);
    }
    rp_buf_printf(&b, "(%ld requests over %.0f s, %.0f tokens per iteration; SLO: TTFT <= %g "
                  "ms and TPOT <= %g ms; idle%% = GPU time waiting at layer barriers)\n",
                  n > 0 ? res[0]->requests : 0, n > 0 ? res[0]->sim_time_s : 0,
                  n > 0 ? res[0]->mean_iteration_tokens : 0, sp->slo_ttft_s * 1e3,
                  sp->slo_tpot_s * 1e3);
    if (cp && cp->num_rates > 0)
        sim_capacity(&b, res, labels, n, cp);
    return text_of(&b);
}

/* cluster show --json: every GPU's curve at the token counts and its relative speed. */
static char *cluster_json(const char *path, const moemap_cluster *c, const double *tk, int nt,
                          const double *rel)
{
    int n = c->num_gpus;
    json_t *root = json_object(), *ta = json_array(), *ga = json_array();
    for (int k = 0; k < nt; k++)
        json_array_append_new(ta, json_real(tk[k]));
    for (int g = 0; g < n; g++) {
        const moemap_gpu *gp = &c->gpus[g];
        json_t *us = json_array(), *rl = json_array();
        for (int k = 0; k < nt; k++) {
            json_array_append_new(us, json_real(moemap_cluster_expert_us(c, g, tk[k])));
            json_array_append_new(rl, json_real(rel[(size_t)k * (size_t)n + (size_t)g]));
        }
        json_array_append_new(
            ga, json_pack("{s:i,s:i,s:s,s:i,s:f,s:b,s:f,s:i,s:o,s:o}", "id", gp->id, "node",
                          gp->node, "name", gp->name, "slots", gp->slots, "speed", gp->speed,
                          "own_curve", gp->curve.n > 0, "cv", moemap_cluster_gpu_cv(c, g),
                          "sm_limit", gp->sm_limit, "us", us, "relative", rl));
    }
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "gpus_total", json_integer(n));
    json_object_set_new(root, "nodes", json_integer(moemap_cluster_num_nodes(c)));
    json_object_set_new(root, "tokens", ta);
    json_object_set_new(root, "gpus", ga);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(root);
    rp_buf b = {0};
    if (s)
        rp_buf_printf(&b, "%s\n", s);
    free(s);
    return s ? text_of(&b) : NULL;
}

/* One GPU's row of cluster show. */
static void cluster_row(rp_buf *b, const moemap_cluster *c, int g, int nt, const double *rel)
{
    const moemap_gpu *gp = &c->gpus[g];
    char sp[16] = "own", sms[16] = "all";
    if (gp->curve.n == 0)
        snprintf(sp, sizeof sp, "%.4f", gp->speed);
    if (gp->sm_limit > 0)
        snprintf(sms, sizeof sms, "%d", gp->sm_limit);
    rp_buf_printf(b, "%4d %4d %5d %7s %6.4f %4s", gp->id, gp->node, gp->slots, sp,
                  moemap_cluster_gpu_cv(c, g), sms);
    for (int k = 0; k < nt; k++)
        rp_buf_printf(b, " %8.4f", rel[(size_t)k * (size_t)c->num_gpus + (size_t)g]);
    rp_buf_printf(b, "  %s\n", gp->name[0] ? gp->name : "-");
}

static char *cluster_table(const char *path, const moemap_cluster *c, const double *tk, int nt,
                           const double *rel)
{
    rp_buf b = {0};
    int n = c->num_gpus;
    rp_buf_printf(&b, "%s: %d GPUs on %d nodes, %d slots; expert hidden %d, intermediate %d, "
                  "%s\n", path, n, moemap_cluster_num_nodes(c), moemap_cluster_total_slots(c),
                  c->hidden, c->intermediate, c->dtype);
    rp_buf_printf(&b, "network: intra-node %g GB/s, inter-node %g GB/s, latency %g us\n",
                  c->intra_node_GBps, c->inter_node_GBps, c->latency_us);
    rp_buf_printf(&b, "speed relative to the fastest GPU at each token count (1 = fastest):\n");
    rp_buf_printf(&b, "%4s %4s %5s %7s %6s %4s", "gpu", "node", "slots", "speed", "cv", "sms");
    for (int k = 0; k < nt; k++) {
        char h[32];
        snprintf(h, sizeof h, "@%g", tk[k]);
        rp_buf_printf(&b, " %8s", h);
    }
    rp_buf_printf(&b, "  name\n");
    for (int g = 0; g < n; g++)
        cluster_row(&b, c, g, nt, rel);
    rp_buf_printf(&b, "%35s", "fastest GPU, us per expert:");
    for (int k = 0; k < nt; k++) {
        double best = 0;
        for (int g = 0; g < n; g++) {
            double u = moemap_cluster_expert_us(c, g, tk[k]);
            best = g == 0 || u < best ? u : best;
        }
        rp_buf_printf(&b, " %8.1f", best);
    }
    rp_buf_printf(&b, "\n");
    return text_of(&b);
}

char *moemap_text_cluster(const char *path, const moemap_cluster *c, const double *tokens,
                          int nt, int json)
{
    double *rel = malloc((size_t)c->num_gpus * (size_t)nt * sizeof *rel);
    if (!rel)
        return NULL;
    for (int k = 0; k < nt; k++)
        moemap_cluster_relative_speed(c, tokens[k], rel + (size_t)k * (size_t)c->num_gpus);
    char *s = json ? cluster_json(path, c, tokens, nt, rel)
                   : cluster_table(path, c, tokens, nt, rel);
    free(rel);
    return s;
}

/* "p10 %.4f p50 %.4f p90 %.4f" and friends of n speeds. */
static double q(const double *v, int n, double p)
{
    return moemap_quantile(v, (size_t)n, p);
}

char *moemap_text_cluster_synth(const moemap_cluster *c, const moemap_gpu_population *pop,
                                const char *varfile)
{
    int n = c->num_gpus;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NULL;
    for (int g = 0; g < n; g++)
        s[g] = c->gpus[g].speed;
    rp_buf b = {0};
    if (pop)
        rp_buf_printf(&b, "population %s: %d GPUs (%d dropped with too few runs, %d rows); "
                      "speed p10 %.4f p50 %.4f p90 %.4f, fastest/slowest %.3fx; "
                      "run-to-run cv median %.4f\n", varfile, pop->n, pop->dropped, pop->rows,
                      q(pop->speed, pop->n, 0.1), q(pop->speed, pop->n, 0.5),
                      q(pop->speed, pop->n, 0.9),
                      q(pop->speed, pop->n, 1) / q(pop->speed, pop->n, 0),
                      q(pop->cv, pop->n, 0.5));
    rp_buf_printf(&b, "cluster: %d GPUs on %d nodes, %d slots; speed min %.4f p10 %.4f p50 "
                  "%.4f p90 %.4f max %.4f, fastest/slowest %.3fx\n", n,
                  moemap_cluster_num_nodes(c), moemap_cluster_total_slots(c), q(s, n, 0),
                  q(s, n, 0.1), q(s, n, 0.5), q(s, n, 0.9), q(s, n, 1), q(s, n, 1) / q(s, n, 0));
    free(s);
    return text_of(&b);
}

/* One row of the run table: a label and one value per placement. */
#define RUN_ROW(label, expr)                                      \
    do {                                                          \
        rp_buf_printf(b, "%-34s", label);                         \
        for (int i = 0; i < np; i++)                              \
            rp_buf_printf(b, " %16.1f", (double)(expr));          \
        rp_buf_printf(b, "\n");                                   \
    } while (0)

/* Measured (and predicted) times side by side, one column per placement. */
static void run_table(rp_buf *b, char **paths, int np, moemap_exec_result **res,
                      const moemap_exec_summary *s, int have_pred)
{
    rp_buf_printf(b, "%-34s", "");
    for (int i = 0; i < np; i++)
        rp_buf_printf(b, " %16.16s", base_name(paths[i]));
    rp_buf_printf(b, "\n");
    RUN_ROW("straggler mean (us)", s[i].straggler_mean_us);
    RUN_ROW("straggler p90 (us)", s[i].straggler_p90_us);
    if (have_pred) {
        RUN_ROW("  predicted mean (us)", s[i].pred_straggler_mean_us);
        RUN_ROW("  predicted p90 (us)", s[i].pred_straggler_p90_us);
    }
    int pred_a2a = have_pred && res[0]->predicted_dispatch_us;
    RUN_ROW("layer time mean (us)", s[i].layer_mean_us);
    if (pred_a2a) {
        RUN_ROW("  predicted, whole layer (us)", s[i].pred_layer_mean_us);
        RUN_ROW("  whole-layer error (%)", 100 * s[i].layer_err);
    }
    RUN_ROW("dispatch all-to-all mean (us)", s[i].dispatch_mean_us);
    RUN_ROW("combine all-to-all mean (us)", s[i].combine_mean_us);
    if (pred_a2a) {
        RUN_ROW("  predicted, each (us)", s[i].pred_dispatch_mean_us);
        RUN_ROW("  dispatch+combine error (%)", 100 * s[i].dispatch_err);
    }
    RUN_ROW("barrier wait mean (us)", s[i].wait_mean_us);
    for (int g = 0; g < res[0]->num_gpus; g++) {
        char label[64];
        snprintf(label, sizeof label, "GPU %d compute mean (us)", g);
        RUN_ROW(label, s[i].gpu_compute_mean_us[g]);
        if (have_pred)
            RUN_ROW("  predicted (us)", s[i].gpu_pred_mean_us[g]);
        RUN_ROW("  rows per layer", s[i].gpu_rows_mean[g]);
    }
    if (have_pred) {
        RUN_ROW("median |pred-meas|/meas (%)", 100 * s[i].median_abs_err);
        RUN_ROW("median per-GPU mean error (%)", 100 * s[i].median_gpu_mean_abs_err);
    }
    if (np > 1)
        RUN_ROW("straggler vs first (%)",
                100 * (s[i].straggler_mean_us / s[0].straggler_mean_us - 1));
}
#undef RUN_ROW

char *moemap_text_run(char **paths, int np, const moemap_exec_params *p,
                      moemap_exec_result **res, const moemap_exec_summary *sum, int have_pred)
{
    rp_buf b = {0};
    rp_buf_printf(&b, "moemap run: %d GPUs,", res[0]->num_gpus);
    for (int g = 0; g < res[0]->num_gpus; g++)
        rp_buf_printf(&b, " %d=%s (%d SMs)%s", g, res[0]->device_names[g],
                      res[0]->device_sms[g], g + 1 < res[0]->num_gpus ? "," : "");
    rp_buf_printf(&b, "\n  experts %dx%d bf16, %d layers, %d iterations x %ld tokens (+%d "
                  "warm-up)\n", p->hidden, p->intermediate, res[0]->layers, p->iterations,
                  p->tokens_per_iter, p->warmup);
    run_table(&b, paths, np, res, sum, have_pred);
    if (p->check)
        rp_buf_printf(&b, "(--check: times include the CPU reference after every layer; use "
                      "a run without --check to measure)\n");
    for (int i = 0; p->check && i < np; i++)
        rp_buf_printf(&b, "check %s: %s (rel err %.2e, worst token %.2e, rows %ld/%ld, tag "
                      "errors %ld)\n", paths[i],
                      moemap_exec_check_passed(res[i]) ? "PASS" : "FAIL",
                      res[i]->check_rel_err, res[i]->check_max_rel_err, res[i]->check_rows,
                      res[i]->check_rows_expected, res[i]->check_tag_errors);
    return text_of(&b);
}

/* One GPU of the profile summary. */
static void profile_gpu(rp_buf *b, const moemap_profile_gpu *g)
{
    rp_buf_printf(b, "\nGPU %d: %s (%s, node %d), ", g->device, g->name, g->host, g->node);
    if (g->sm_limit)
        rp_buf_printf(b, "green context %d of %d SMs (asked %d)\n", g->sm_limit, g->sm_total,
                      g->sm_requested);
    else
        rp_buf_printf(b, "%d SMs\n", g->sm_total);
    rp_buf_printf(b, "  weight-read floor %.1f us (%.1f MB at %.0f GB/s copy), %d weight sets, "
                  "cv %.4f, %.1f s\n", g->floor_us, g->weight_bytes / 1e6, g->copy_GBps,
                  g->weight_sets, g->curve.cv, g->seconds);
    if (g->nvml_samples)
        rp_buf_printf(b, "  NVML (%d readings): SM clock %.0f MHz (%.0f-%.0f), power %.0f W "
                      "(max %.0f, limit %.0f), temperature %.0f C (max %.0f)\n",
                      g->nvml_samples, g->sm_clock_mhz_mean, g->sm_clock_mhz_min,
                      g->sm_clock_mhz_max, g->power_w_mean, g->power_w_max, g->power_limit_w,
                      g->temp_c_mean, g->temp_c_max);
    else
        rp_buf_printf(b, "  NVML: no readings\n");
    rp_buf_printf(b, "  %8s %10s %10s %7s %7s\n", "tokens", "median_us", "fit_us", "cv",
                  "x_floor");
    for (int k = 0; k < g->num_points; k++) {
        const moemap_profile_point *p = &g->points[k];
        rp_buf_printf(b, "  %8d %10.2f %10.2f %7.4f %7.2f\n", p->tokens, p->median_us,
                      moemap_curve_eval(&g->curve, p->tokens), p->cv,
                      g->floor_us > 0 ? p->median_us / g->floor_us : 0);
    }
    if (g->num_group > 0)
        rp_buf_printf(b, "  grouped layer (%d experts): measured %.1f us, sum of predictions "
                      "%.1f us, measured/predicted %.3f\n", g->num_group,
                      g->group_measured_us, g->group_predicted_us,
                      g->group_predicted_us > 0 ? g->group_measured_us / g->group_predicted_us
                                                : 0);
}

char *moemap_text_profile(const moemap_profile_result *r, const char *out)
{
    rp_buf b = {0};
    rp_buf_printf(&b, "expert %dx%d %s, %d repeats in %d rounds; %d GPU%s in %.1f s; wrote "
                  "%s\n", r->hidden, r->intermediate, r->dtype, r->repeats, r->rounds,
                  r->num_gpus, r->num_gpus == 1 ? "" : "s", r->seconds, out);
    for (int i = 0; i < r->num_gpus; i++)
        profile_gpu(&b, &r->gpus[i]);
    return text_of(&b);
}

static json_t *model_json(const moemap_model *m)
{
    json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,"
                          "s:i}", "name", m->name, "display", m->display, "num_layers",
                          m->num_layers, "first_dense", m->first_dense, "moe_every",
                          m->moe_every, "moe_layers", moemap_model_moe_layer_count(m),
                          "experts", m->experts, "shared_experts", m->shared_experts, "top_k",
                          m->top_k, "hidden", m->hidden, "expert_intermediate",
                          m->expert_intermediate, "dense_intermediate", m->dense_intermediate,
                          "heads", m->heads, "kv_heads", m->kv_heads, "head_dim", m->head_dim,
                          "vocab", m->vocab, "dtype_bytes", m->dtype_bytes);
    json_object_set_new(o, "expert_mib",
                        mm_json_real(moemap_model_expert_bytes(m) / 1048576.0, 2));
    return o;
}

char *moemap_text_models(int json)
{
    rp_buf b = {0};
    int n = moemap_model_preset_count();
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, model_json(moemap_model_preset(i)));
        char *s = json_dumps(arr, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        json_decref(arr);
        if (s)
            rp_buf_printf(&b, "%s\n", s);
        free(s);
        return s ? text_of(&b) : NULL;
    }
    rp_buf_printf(&b, "%-18s %-22s %6s %5s %7s %6s %5s %6s %6s %5s %8s %10s\n", "name",
                  "model", "layers", "moe", "experts", "shared", "top-k", "hidden", "inter",
                  "heads", "vocab", "expert MiB");
    for (int i = 0; i < n; i++) {
        const moemap_model *m = moemap_model_preset(i);
        rp_buf_printf(&b, "%-18s %-22s %6d %5d %7d %6d %5d %6d %6d %5d %8d %10.1f\n", m->name,
                      m->display, m->num_layers, moemap_model_moe_layer_count(m), m->experts,
                      m->shared_experts, m->top_k, m->hidden, m->expert_intermediate,
                      m->heads, m->vocab, moemap_model_expert_bytes(m) / 1048576.0);
    }
    return text_of(&b);
}

/* The exact solver's verdict from the placement's "predicted"."solver" (written when the
 * strategy can prove optimality): ", optimal: all 26 layers" or ", NOT proven optimal: 3
 * of 26 layers hit the time limit (worst gap 4.10%)"; nothing for heuristics. */
static void place_solver(rp_buf *b, const moemap_placement *p)
{
    json_t *pred = p->predicted_json ? json_loads(p->predicted_json, 0, NULL) : NULL;
    json_t *s = json_object_get(pred, "solver");
    json_t *opt = json_object_get(s, "optimal_layers");
    json_t *tl = json_object_get(s, "time_limit_layers");
    json_t *gap = json_object_get(s, "worst_gap");
    if (json_is_integer(opt) && json_is_integer(tl) && json_is_number(gap)) {
        long long n_tl = json_integer_value(tl);
        long long n = json_integer_value(opt) + n_tl;
        if (n_tl == 0)
            rp_buf_printf(b, ", optimal: all %lld layers", n);
        else if (json_number_value(gap) < 1)
            rp_buf_printf(b, ", NOT proven optimal: %lld of %lld layers hit the time limit "
                          "(worst gap %.2f%%)", n_tl, n, 100 * json_number_value(gap));
        else
            rp_buf_printf(b, ", NOT proven optimal: %lld of %lld layers hit the time limit "
                          "(no bound proven for at least one)", n_tl, n);
    }
    json_decref(pred);
}

char *moemap_text_place(const moemap_place_job *job, const moemap_input_params *ip,
                        int replaced, const moemap_migration_plan *plan)
{
    rp_buf b = {0};
    const moemap_eval_summary *es = job->es, *base = job->base;
    rp_buf_printf(&b, "%s: %d layers, %ld replicas, %.3f s: mean %.1f us, p90 %.1f us, bound "
                  "%.1f us, gap %.2f%%", job->p->strategy, job->p->num_layers, es->replicas,
                  job->took, es->mean_us, es->p90_us, es->bound_mean_us, 100 * es->gap);
    int a2a = !job->place.a2a.off;
    if (a2a)
        rp_buf_printf(&b, "; whole layer with dispatch and combine %.1f us (p90 %.1f)",
                      es->layer_mean_us, es->layer_p90_us);
    if (es->engine_bound_mean_us > 0)
        rp_buf_printf(&b, ", %s-rules bound %.1f us", moemap_engine_name(job->place.engine),
                      es->engine_bound_mean_us);
    if (base) {
        double mine = moemap_place_job_headline_us(job, es);
        double theirs = moemap_place_job_headline_us(job, base);
        rp_buf_printf(&b, "; eplb under the same rules: %s %.1f us (%s %.3fx eplb)",
                      a2a ? "whole layer" : "mean", theirs, job->place.strategy,
                      theirs > 0 ? mine / theirs : 1.0);
    }
    if (ip->op_text[0])
        rp_buf_printf(&b, "; at %s tokens per iteration", ip->op_text);
    if (replaced)
        rp_buf_printf(&b, ", %ld experts moved", es->moved);
    if (plan)
        rp_buf_printf(&b, ", plan %d steps (%.2f GB)", plan->num_steps,
                      plan->total_bytes / 1e9);
    place_solver(&b, job->p);
    rp_buf_printf(&b, "\n");
    return text_of(&b);
}

char *moemap_text_place_fewer(const moemap_place_job *job)
{
    rp_buf b = {0};
    int S = job->fewer_slots, G = job->p->num_gpus;
    double mine = moemap_place_job_headline_us(job, job->es);
    if (S > 0)
        rp_buf_printf(&b, "note: with %d slots per GPU (SGLang --ep-num-redundant-experts %d) "
                      "the predicted %s is %.1f us, %.1f%% below this placement's: every "
                      "filled slot pays the curve's floor\n", S, S * G - job->p->experts,
                      job->place.a2a.off ? "mean" : "whole layer", job->fewer_mean_us,
                      100 * (1 - job->fewer_mean_us / mine));
    return text_of(&b);
}

char *moemap_text_loads_written(const char *out, const moemap_loads *ld, const char *what,
                                int json)
{
    rp_buf b = {0};
    if (!json) {
        if (strcmp(out, "-"))
            rp_buf_printf(&b, "wrote %s: %d MoE layers x %d experts, %d batches%s\n", out,
                          ld->num_layers, ld->experts, ld->num_batches, what);
        return text_of(&b);
    }
    json_t *o = json_pack("{s:s,s:i,s:i,s:i,s:i,s:f}", "out", out, "layers", ld->num_layers,
                          "experts", ld->experts, "top_k", ld->top_k, "batches",
                          ld->num_batches, "tokens", total_tokens(ld));
    char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (s)
        rp_buf_printf(&b, "%s\n", s);
    free(s);
    return s ? text_of(&b) : NULL;
}

/* Where validate's problems go: the text (the first 50) or a JSON array. */
typedef struct problems {
    rp_buf *b;
    const char *file;
    int shown;
    json_t *list;
} problems;

static void add_problem(void *ctx, const char *msg)
{
    problems *pr = ctx;
    if (pr->list)
        json_array_append_new(pr->list, json_string(msg));
    else if (pr->shown++ < 50)
        rp_buf_printf(pr->b, "%s: %s\n", pr->file, msg);
}

char *moemap_text_validate(const char *file, const moemap_placement *p,
                           const moemap_cluster *cl, const moemap_loads *ld,
                           const moemap_input_params *ip, int json, int *problems_found)
{
    rp_buf b = {0};
    problems pr = {&b, file, 0, json ? json_array() : NULL};
    int n = *problems_found = moemap_input_check_placement(ip, p, cl, ld, add_problem, &pr);
    long reps = 0;
    for (int l = 0; l < p->num_layers; l++)
        reps += p->layers[l].num_replicas;
    json_t *o = n >= 0 && json ? json_pack("{s:s,s:b,s:i,s:I,s:i,s:O}", "file", file, "ok",
                                           n == 0, "layers", p->num_layers, "replicas",
                                           (json_int_t)reps, "gpus", p->num_gpus, "problems",
                                           pr.list)
                               : NULL;
    char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        rp_buf_printf(&b, "%s\n", s);
    else if (n == 0)
        rp_buf_printf(&b, "%s: OK (%d layers, %ld replicas, %d GPUs)\n", file, p->num_layers,
                      reps, p->num_gpus);
    else if (n > 0 && pr.shown > 50)
        rp_buf_printf(&b, "%s: ... %d more not shown\n", file, pr.shown - 50);
    if (!json && n > 0)
        rp_buf_printf(&b, "%s: %d problem%s\n", file, n, n > 1 ? "s" : "");
    free(s);
    json_decref(o);
    json_decref(pr.list);
    if (n < 0 || (json && !s))
        return rp_buf_free(&b), NULL;
    return text_of(&b);
}

char *moemap_text_report(const moemap_report_params *p, const char *out,
                         const moemap_report_summary *sum, int table, moemap_error *err)
{
    rp_buf b = {0};
    char *text = NULL;
    if (table && moemap_report_table(p, &text, err))
        return NULL;
    if (text)
        rp_buf_printf(&b, "%s", text);
    moemap_free(text);
    rp_buf_printf(&b, "report: %s (%d charts, %.0f KB)", strcmp(out, "-") ? out : "<stdout>",
                  sum->charts, sum->bytes / 1024.0);
    if (sum->charts_missing)
        rp_buf_printf(&b, "; %d not shown for lack of an input (listed on the page)",
                      sum->charts_missing);
    rp_buf_printf(&b, "\n");
    char *s = text_of(&b);
    if (!s)
        moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    return s;
}
