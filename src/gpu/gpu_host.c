/*
 * gpu_host.c — host-only parts of the GPU work, built into libmoemap with or without
 * CUDA: the executor's and the profiler's parameters as data (moemap/options.h), and
 * `moemap run`'s inputs read (the routing from any workload input, cluster, placements).
 */
#include "moemap/gpu_exec.h"
#include "moemap/gpu_profile.h"
#include "moemap/options.h"

#define OFF(field) offsetof(moemap_exec_params, field)
const moemap_option moemap_exec_options[] = {
    {"layers", 0, MOEMAP_OPT_INT, OFF(layers), 0, 1000, "N",
     "MoE layers run: the placements' first N (default {};\n0 = all)"},
    {"iterations", 'i', MOEMAP_OPT_INT, OFF(iterations), 1, 100000, "N",
     "timed iterations (default {})"},
    {"warmup", 0, MOEMAP_OPT_INT, OFF(warmup), 0, 100000, "N",
     "untimed iterations first (default {})"},
    {"tokens-per-iter", 0, MOEMAP_OPT_LONG, OFF(tokens_per_iter), 1, 1L << 24, "N",
     "tokens per iteration over all GPUs (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF

#define OFF(field) offsetof(moemap_profile_params, field)
const moemap_option moemap_profile_options[] = {
    {"repeats", 0, MOEMAP_OPT_INT, OFF(repeats), 3, 100000, "R",
     "timed runs per token count, median kept (default {})"},
    {"rounds", 0, MOEMAP_OPT_INT, OFF(rounds), 1, 100000, "K",
     "passes over the grid the repeats are spread over, so that\nevery point sees the "
     "same clock and thermal states\n(default {})"},
    {"warmup", 0, MOEMAP_OPT_INT, OFF(warmup), 0, 100000, "W",
     "untimed runs before each block of timed runs (default {})"},
    {"settle", 0, MOEMAP_OPT_DOUBLE, OFF(settle_s), 0, 600, "S",
     "seconds of the largest size before timing, so a cold GPU\nreaches its working "
     "clocks and temperature (default {})"},
    {"max-tokens", 0, MOEMAP_OPT_INT, OFF(max_tokens), 1, 1 << 20, "N",
     "largest token count of the default grid (default {})"},
    {NULL, 0, MOEMAP_OPT_TEXT, 0, 0, 0, NULL, NULL}};
#undef OFF

static int read_routing(const char *path, const moemap_model *m, long batch_tokens,
                        const moemap_exec_params *p, moemap_routing **out, moemap_error *err)
{
    moemap_read_params rp = moemap_read_default_params();
    moemap_loads *ld = NULL;
    rp.batch_tokens = batch_tokens > 0 ? batch_tokens : p->tokens_per_iter;
    rp.top_k = m ? m->top_k : rp.top_k;
    rp.experts = m ? m->experts : rp.experts;
    *out = NULL;
    int rc = moemap_workload_read(path, &rp, &ld, out, err);
    if (!rc && !*out)
        rc = moemap_exec_routing_from_loads(ld, m ? m->top_k : 0, out, err);
    moemap_loads_free(ld);
    return rc;
}

int moemap_exec_run_files(const moemap_exec_params *p, const char *loads,
                          const moemap_model *m, long batch_tokens, const char *cluster_path,
                          char *const *paths, int np, moemap_exec_result **res,
                          moemap_cluster **cl, moemap_error *err)
{
    moemap_routing *rt = NULL;
    moemap_placement **pl = moemap_calloc((size_t)np, sizeof *pl);
    int rc = pl ? read_routing(loads, m, batch_tokens, p, &rt, err)
                : moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    if (!rc && cluster_path)
        rc = moemap_cluster_read(cluster_path, cl, err);
    for (int i = 0; !rc && i < np; i++)
        rc = moemap_placement_read(paths[i], &pl[i], err);
    if (!rc)
        rc = moemap_exec_run(p, *cl, rt, (const moemap_placement *const *)pl, np, res, err);
    for (int i = 0; pl && i < np; i++)
        moemap_placement_free(pl[i]);
    moemap_free(pl);
    moemap_routing_free(rt);
    return rc;
}
