/*
 * report_recompute.c — per-batch straggler times and per-GPU times for the eval charts
 * when the eval output does not carry them (moemap eval --json keeps summaries only):
 * each strategy's placement file (the eval entry's "file") is evaluated again on the
 * workload (--loads) and cluster (--cluster) with the library's own cost function
 * (moemap_eval_layer_batch, what moemap eval sums), so the charts and the eval table
 * agree by construction.
 *
 * A placement path that does not exist as given is also looked up next to the eval
 * file, since eval records paths as they were typed, relative to where it ran.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "moemap/cluster.h"
#include "moemap/eval.h"
#include "moemap/placement.h"
#include "moemap/workload.h"
#include "report_internal.h"

struct rp_recompute {
    moemap_loads *loads;
    moemap_cluster *cluster;
    char eval_dir[4096];
};

int rp_recompute_open(const char *loads_path, const char *cluster_path, const char *eval_path,
                      rp_recompute **out, moemap_error *err)
{
    *out = NULL;
    rp_recompute *r = moemap_calloc(1, sizeof *r);
    if (!r)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    moemap_read_params rp = moemap_read_default_params();
    int rc = moemap_workload_read(loads_path, &rp, &r->loads, NULL, err);
    if (!rc)
        rc = moemap_cluster_read(cluster_path, &r->cluster, err);
    if (rc) {
        rp_recompute_close(r);
        return rc;
    }
    const char *slash = strrchr(eval_path, '/');
    if (slash)
        rp_fmt(r->eval_dir, sizeof r->eval_dir, "%.*s", (int)(slash - eval_path), eval_path);
    *out = r;
    return 0;
}

void rp_recompute_close(rp_recompute *r)
{
    if (!r)
        return;
    moemap_loads_free(r->loads);
    moemap_cluster_free(r->cluster);
    moemap_free(r);
}

static int read_placement(const rp_recompute *r, const char *file, moemap_placement **p,
                          moemap_error *err)
{
    struct stat st;
    if (stat(file, &st) != 0 && file[0] != '/' && r->eval_dir[0]) {
        char alt[8200];
        rp_fmt(alt, sizeof alt, "%s/%s", r->eval_dir, file);
        if (stat(alt, &st) == 0)
            return moemap_placement_read(alt, p, err);
    }
    return moemap_placement_read(file, p, err);
}

int rp_recompute_strategy(const rp_recompute *r, const char *file, int layer_id,
                          double **batch_us, int *num_batches, double **gpu_us, int *num_gpus,
                          moemap_error *err)
{
    *batch_us = NULL;
    *gpu_us = NULL;
    *num_batches = *num_gpus = 0;
    moemap_placement *p = NULL;
    int rc = read_placement(r, file, &p, err);
    if (!rc)
        rc = moemap_placement_check_loads(p, r->loads, NULL, NULL) == 0
                 ? moemap_placement_validate(p, r->cluster, err)
                 : moemap_error_set(err, MOEMAP_EINVAL,
                                    "the placement does not fit the workload (layers or "
                                    "experts differ; see moemap validate --loads)");
    if (rc) {
        moemap_error_prefix(err, "recomputing %s for the charts", file);
        goto done;
    }
    /* The model's time per batch: the sum over its MoE layers of the straggler time,
     * exactly as moemap eval sums it (the lower bound is not needed here, and it is the
     * expensive part of moemap_eval_placement). */
    const moemap_loads *ld = r->loads;
    *batch_us = moemap_calloc((size_t)(ld->num_batches ? ld->num_batches : 1), sizeof(double));
    if (!*batch_us) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
        goto done;
    }
    for (int l = 0; l < p->num_layers; l++) {
        int ll = moemap_loads_find_layer(ld, p->layers[l].layer);
        for (int b = 0; ll >= 0 && b < ld->num_batches; b++)
            (*batch_us)[b] += moemap_eval_layer_batch(r->cluster, &p->layers[l],
                                                      &MOEMAP_LOADS_AT(ld, b, ll, 0),
                                                      ld->experts, NULL);
    }
    *num_batches = ld->num_batches;

    /* Per-GPU time of one layer, averaged over the batches. */
    int lp = -1;
    for (int i = 0; i < p->num_layers; i++)
        if (p->layers[i].layer == layer_id)
            lp = i;
    int ll = moemap_loads_find_layer(r->loads, layer_id);
    int G = r->cluster->num_gpus;
    if (lp < 0 || ll < 0)
        goto done; /* that layer is not in this placement: no bars for it */
    double *acc = moemap_calloc((size_t)G, sizeof *acc);
    double *one = moemap_malloc((size_t)G * sizeof *one);
    if (!acc || !one) {
        moemap_free(acc);
        moemap_free(one);
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
        goto done;
    }
    for (int b = 0; b < ld->num_batches; b++) {
        moemap_eval_layer_batch(r->cluster, &p->layers[lp], &MOEMAP_LOADS_AT(ld, b, ll, 0),
                                ld->experts, one);
        for (int g = 0; g < G; g++)
            acc[g] += one[g] / ld->num_batches;
    }
    moemap_free(one);
    *gpu_us = acc;
    *num_gpus = G;
done:
    if (rc) {
        moemap_free(*batch_us);
        *batch_us = NULL;
        *num_batches = 0;
    }
    moemap_placement_free(p);
    return rc;
}
