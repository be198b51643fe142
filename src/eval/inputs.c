/*
 * inputs.c — the inputs placing, evaluating and validating share, read one way (see
 * moemap/inputs.h): the workload at its operating point, the cluster, a previous
 * placement, and placement files of any format for that cluster and model.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "moemap/inputs.h"
#include "moemap/io.h"

moemap_input_params moemap_input_default_params(void)
{
    return (moemap_input_params){.read = moemap_read_default_params(),
                                 .a2a = moemap_a2a_default_params()};
}

int moemap_input_parse_batch(moemap_input_params *ip, const char *text, char *why,
                             size_t size)
{
    char buf[256], part[160], *save = NULL;
    long n;
    int mix = strchr(text, ',') || strchr(text, ':');
    ip->batch_given = 1;
    ip->num_mix = 0;
    if (strlen(text) >= sizeof buf)
        return snprintf(why, size, ": '%.40s...' is too long", text), -1;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        double w = 1;
        if (ip->num_mix == MOEMAP_MAX_MIX)
            return snprintf(why, size, ": at most %d operating points", MOEMAP_MAX_MIX), -1;
        if (colon)
            *colon = '\0';
        if (moemap_parse_long(tok, 1, 100000000, &n, part, sizeof part))
            return snprintf(why, size, ": %s", part), -1;
        if (colon && moemap_parse_double(colon + 1, 1e-6, 1e6, &w, part, sizeof part))
            return snprintf(why, size, " (weight): %s", part), -1;
        ip->mix_tokens[ip->num_mix] = (double)n;
        ip->mix_weights[ip->num_mix++] = w;
    }
    if (ip->num_mix == 0)
        return snprintf(why, size, ": no operating point in '%s'", text), -1;
    ip->num_mix = mix ? ip->num_mix : 0;
    ip->read.batch_tokens = (long)ip->mix_tokens[0];
    return 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ip->op_text: the operating point in words, and ip->batch_tokens the largest size (the
 * moemap strategy's window). */
static void describe_mix(moemap_input_params *ip, double tokens)
{
    ip->batch_tokens = tokens;
    snprintf(ip->op_text, sizeof ip->op_text, "%.0f", tokens);
    double wsum = 0;
    for (int i = 0; i < ip->num_mix; i++)
        wsum += ip->mix_weights[i];
    for (int i = 0; i < ip->num_mix && ip->num_mix > 1; i++) {
        size_t len = strlen(ip->op_text) * (i > 0);
        snprintf(ip->op_text + len, sizeof ip->op_text - len, "%s%.0f (%.0f%%)",
                 i == 0 ? "" : i + 1 < ip->num_mix ? ", " : " and ", ip->mix_tokens[i],
                 100 * ip->mix_weights[i] / wsum);
        if (ip->mix_tokens[i] > ip->batch_tokens)
            ip->batch_tokens = ip->mix_tokens[i];
    }
}

/* Aggregate loads become iterations at the operating point; with one given, recorded
 * iterations are merged or scaled to it. Per-token traces were cut into such batches by
 * the reader already. */
static int at_operating_point(moemap_input_params *ip, const char *path, moemap_loads **ld,
                              const moemap_cluster *cl, moemap_error *err)
{
    int trace = ip->read.format == MOEMAP_FORMAT_ESFT ||
                (ip->read.format == MOEMAP_FORMAT_AUTO && (*ld)->num_batches > 0 &&
                 is_directory(path));
    ip->batch_tokens = 0;
    ip->op_text[0] = '\0';
    if (trace && ip->num_mix > 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: a per-token trace is cut into "
                                "batches of one size: give one --batch-tokens N", path);
    if (trace || (!ip->batch_given && !moemap_loads_is_aggregate(*ld)))
        return 0;
    moemap_operating_point op = moemap_operating_point_default();
    op.top_k = ip->read.top_k;
    if (ip->batch_given) {
        op.batch_tokens = (double)ip->read.batch_tokens;
    } else {
        int G = cl ? cl->num_gpus : 32;
        op.batch_tokens = moemap_operating_point_default_tokens(G);
        snprintf(ip->note, sizeof ip->note, "operating point: %.0f tokens per iteration "
                 "(%.0f per GPU x %d GPUs, a decode iteration; --batch-tokens N sets yours): "
                 "the loads are an aggregate, judged on its expected iteration and %d sampled "
                 "ones", op.batch_tokens, op.batch_tokens / G, G, op.samples);
    }
    moemap_loads *iters = NULL;
    int rc = ip->num_mix > 1 ? moemap_loads_at_operating_mix(*ld, &op, ip->mix_tokens,
                                                             ip->mix_weights, ip->num_mix,
                                                             &iters, err)
                             : moemap_loads_at_operating_point(*ld, &op, &iters, err);
    if (rc)
        return moemap_error_prefix(err, "%s", path), rc;
    moemap_loads_free(*ld);
    *ld = iters;
    describe_mix(ip, op.batch_tokens);
    return 0;
}

int moemap_inputs_read(moemap_input_params *ip, const char *loads_path,
                       const char *cluster_path, const char *previous_path, moemap_loads **ld,
                       moemap_cluster **cl, moemap_placement **prev, moemap_error *err)
{
    int rc = 0;
    ip->note[0] = '\0';
    if (ip->model && ip->read.top_k == 0)
        ip->read.top_k = ip->model->top_k;
    if (cluster_path && cl)
        rc = moemap_cluster_read(cluster_path, cl, err);
    if (!rc && loads_path && ld) {
        rc = moemap_workload_read(loads_path, &ip->read, ld, NULL, err);
        if (!rc)
            rc = at_operating_point(ip, loads_path, ld, cl ? *cl : NULL, err);
    }
    if (!rc && ip->model && ld && *ld && (*ld)->experts != ip->model->experts)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: %d experts per layer, but --model %s "
                              "has %d", loads_path, (*ld)->experts, ip->model->name,
                              ip->model->experts);
    if (!rc && previous_path && prev)
        rc = moemap_input_read_placement(ip, previous_path, cl ? *cl : NULL, ld ? *ld : NULL,
                                         prev, err);
    return rc;
}

int moemap_input_read_placement(const moemap_input_params *ip, const char *path,
                                const moemap_cluster *cl, const moemap_loads *ld,
                                moemap_placement **out, moemap_error *err)
{
    moemap_import_params imp = moemap_import_default_params();
    imp.num_gpus = cl ? cl->num_gpus : 0;
    imp.model = ip->model;
    if (ld && !ip->model) {
        imp.layers = ld->layer_ids;
        imp.num_layers = ld->num_layers;
    }
    return moemap_placement_read_any(path, &imp, out, NULL, err);
}

/* Reads, checks and evaluates one placement file. */
static int eval_one(const moemap_input_params *ip, const char *f, const moemap_cluster *cl,
                    const moemap_loads *ld, const moemap_eval_params *ep,
                    moemap_problem_fn problem, moemap_eval_summary **out, moemap_error *err)
{
    moemap_placement *p;
    if (moemap_input_read_placement(ip, f, cl, ld, &p, err) != 0)
        return err->code;
    int bad = moemap_placement_check(p, cl, ep->slots, problem, (void *)f);
    int rc = bad < 0 ? moemap_error_set(err, bad, "%s: out of memory", f)
             : bad   ? moemap_error_set(err, MOEMAP_EINVAL, "%s: %d problem%s (see above); "
                                        "run moemap validate", f, bad, bad > 1 ? "s" : "")
                     : moemap_eval_placement(ld, cl, p, ep, out, err);
    if (rc && bad == 0)
        moemap_error_prefix(err, "%s", f);
    moemap_placement_free(p);
    return rc;
}

int moemap_eval_files(const moemap_loads *ld, const moemap_cluster *cl,
                      const moemap_placement *prev, const moemap_input_params *ip,
                      char *const *files, int n, moemap_problem_fn problem,
                      moemap_progress_fn progress, void *progress_ctx,
                      moemap_eval_summary ***out, moemap_error *err)
{
    moemap_eval_params ep = moemap_eval_default_params();
    ep.slots = ip->slots;
    ep.a2a = ip->a2a;
    ep.a2a.local_first = ip->engine == MOEMAP_ENGINE_SGLANG; /* SGLang's static dispatch */
    ep.previous = prev;
    if (ip->engine != MOEMAP_ENGINE_NONE)
        ep.engine_slots = ip->slots > 0 ? ip->slots : cl->gpus[0].slots;
    if (!(*out = moemap_calloc((size_t)n, sizeof **out)))
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        if (progress)
            progress(progress_ctx, "files", i, n);
        int rc = eval_one(ip, files[i], cl, ld, &ep, problem, &(*out)[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

int moemap_placement_check_model(const moemap_placement *p, const moemap_model *m,
                                 void (*problem)(void *ctx, const char *msg), void *ctx)
{
    char msg[256];
    int n = 0;
    if (p->experts != m->experts) {
        snprintf(msg, sizeof msg, "placement has %d experts per layer but %s has %d",
                 p->experts, m->name, m->experts);
        if (problem)
            problem(ctx, msg);
        n++;
    }
    for (int l = 0; l < p->num_layers; l++) {
        int id = p->layers[l].layer;
        if (id >= m->num_layers || !moemap_model_is_moe_layer(m, id)) {
            snprintf(msg, sizeof msg, "layer %d: not an MoE layer of %s (%d layers, the "
                     "first %d dense)", id, m->name, m->num_layers, m->first_dense);
            if (problem)
                problem(ctx, msg);
            n++;
        }
    }
    return n;
}

int moemap_input_check_placement(const moemap_input_params *ip, const moemap_placement *p,
                                 const moemap_cluster *cl, const moemap_loads *ld,
                                 moemap_problem_fn problem, void *ctx)
{
    int n = moemap_placement_check(p, cl, ip->slots, problem, ctx);
    if (n < 0)
        return n;
    if (ld)
        n += moemap_placement_check_loads(p, ld, problem, ctx);
    if (ip->engine != MOEMAP_ENGINE_NONE)
        n += moemap_placement_check_engine(p, cl, ip->slots, ip->engine, problem, ctx);
    if (ip->model)
        n += moemap_placement_check_model(p, ip->model, problem, ctx);
    return n;
}
