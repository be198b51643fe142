/*
 * migrate.c — migration plans between two placements (moemap/migrate.h) and the
 * "experts moved" count that eval and the migration-aware strategies use.
 *
 * The plan is built layer by layer by replaying the migration on a holder matrix
 * (which GPU holds which expert right now). Each round first performs every drop that
 * is safe (the expert keeps another holder), then every copy whose destination has a
 * free slot, so the plan never needs more memory than the larger of the two placements
 * on any GPU unless the moves form a cycle; only then one copy goes to a staging buffer
 * and the count is reported. Every copy reads from a GPU that holds the expert at that
 * moment, preferring a replica the new placement keeps.
 */
#include "moemap/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "cost/cost_internal.h"
#include "json_util.h"

/* ---------------------------------------------------------------- counting moves -- */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long pair_key(int expert, int gpu)
{
    return (long)expert * 1000003L + (long)gpu;
}

long moemap_migration_count_moves(const moemap_layer_placement *old_layer,
                                  const moemap_layer_placement *new_layer)
{
    if (!new_layer)
        return 0;
    if (!old_layer || old_layer->num_replicas == 0)
        return new_layer->num_replicas;
    long moved = 0;
    int n = old_layer->num_replicas;
    long *keys = moemap_malloc((size_t)n * sizeof *keys);
    if (keys) {
        for (int i = 0; i < n; i++)
            keys[i] = pair_key(old_layer->replicas[i].expert, old_layer->replicas[i].gpu);
        qsort(keys, (size_t)n, sizeof *keys, cmp_long);
    }
    for (int i = 0; i < new_layer->num_replicas; i++) {
        const moemap_replica *r = &new_layer->replicas[i];
        int found = 0;
        if (keys) {
            long k = pair_key(r->expert, r->gpu);
            found = bsearch(&k, keys, (size_t)n, sizeof *keys, cmp_long) != NULL;
        } else { /* no memory for the index: the quadratic scan gives the same answer */
            for (int j = 0; j < n && !found; j++)
                found = old_layer->replicas[j].expert == r->expert &&
                        old_layer->replicas[j].gpu == r->gpu;
        }
        moved += !found;
    }
    moemap_free(keys);
    return moved;
}

int moemap_migration_experts_moved(const moemap_placement *old_p,
                                   const moemap_placement *new_p, long *moved,
                                   moemap_error *err)
{
    if (!old_p || !new_p || !moved)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "migration: experts_moved needs two placements");
    long total = 0;
    for (int l = 0; l < new_p->num_layers; l++)
        total += moemap_migration_count_moves(mm_placement_layer(old_p, new_p->layers[l].layer),
                                              &new_p->layers[l]);
    *moved = total;
    return 0;
}

/* ------------------------------------------------------------------ the planner -- */

typedef struct planner {
    moemap_migration_plan *plan;
    int cap_steps;
} planner;

static int add_step(planner *pl, moemap_migration_op op, int layer, int expert, int from,
                    int to, double bytes, int staged, moemap_error *err)
{
    moemap_migration_plan *plan = pl->plan;
    if (plan->num_steps == pl->cap_steps) {
        int cap = pl->cap_steps ? 2 * pl->cap_steps : 64;
        moemap_migration_step *s = moemap_realloc(plan->steps, (size_t)cap * sizeof *s);
        if (!s)
            return moemap_error_set(err, MOEMAP_ENOMEM, "migration: out of memory");
        plan->steps = s;
        pl->cap_steps = cap;
    }
    moemap_migration_step *st = &plan->steps[plan->num_steps++];
    st->op = op;
    st->layer = layer;
    st->expert = expert;
    st->from_gpu = from;
    st->to_gpu = to;
    st->bytes = bytes;
    st->staged = staged;
    return 0;
}

/* Marks the replicas of one layer in has[e * G + g]; checks indices and duplicates. */
static int fill_has(const moemap_layer_placement *lp, const char *which, int E, int G,
                    unsigned char *has, int *count, moemap_error *err)
{
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (r->expert < 0 || r->expert >= E || r->gpu < 0 || r->gpu >= G)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "migration: %s placement, layer %d, replica %d: expert "
                                    "%d / gpu %d out of range (%d experts, %d GPUs)",
                                    which, lp->layer, i, r->expert, r->gpu, E, G);
        if (has[(size_t)r->expert * G + r->gpu])
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "migration: %s placement, layer %d: expert %d twice on "
                                    "gpu %d", which, lp->layer, r->expert, r->gpu);
        has[(size_t)r->expert * G + r->gpu] = 1;
        count[r->gpu]++;
    }
    return 0;
}

typedef struct pending {
    int expert, gpu, done;
} pending;

/* Emits the copy of pending c, reading from a current holder (preferring one the new
 * placement keeps, so that the source is not about to be dropped). */
static int do_copy(planner *pl, int layer, pending *c, int G, unsigned char *cur,
                   const unsigned char *new_has, int staged, moemap_error *err)
{
    int src = -1;
    size_t row = (size_t)c->expert * G;
    for (int g = 0; g < G; g++) {
        if (!cur[row + g])
            continue;
        if (src < 0 || (new_has[row + g] && !new_has[row + src]))
            src = g;
    }
    MOEMAP_ASSERT(src >= 0); /* the drop rule keeps every expert held */
    int rc = add_step(pl, MOEMAP_MIGRATION_COPY, layer, c->expert, src, c->gpu,
                      pl->plan->expert_bytes, staged, err);
    if (rc)
        return rc;
    cur[row + c->gpu] = 1;
    c->done = 1;
    return 0;
}

static int plan_layer(planner *pl, const moemap_layer_placement *ol,
                      const moemap_layer_placement *nl, int E, int G, moemap_error *err)
{
    int rc = MOEMAP_ENOMEM;
    size_t cells = (size_t)E * (size_t)G;
    unsigned char *old_has = moemap_calloc(cells, 1), *new_has = moemap_calloc(cells, 1);
    unsigned char *cur = moemap_calloc(cells, 1);
    int *old_cnt = moemap_calloc((size_t)G, sizeof(int));
    int *new_cnt = moemap_calloc((size_t)G, sizeof(int));
    int *occ = moemap_calloc((size_t)G, sizeof(int));
    int *holders = moemap_calloc((size_t)E, sizeof(int));
    pending *copies = moemap_malloc((nl->num_replicas + 1) * sizeof *copies);
    pending *drops = moemap_malloc((ol->num_replicas + 1) * sizeof *drops);
    int nc = 0, nd = 0;
    if (!old_has || !new_has || !cur || !old_cnt || !new_cnt || !occ || !holders ||
        !copies || !drops) {
        moemap_error_set(err, rc, "migration: out of memory");
        goto done;
    }
    if ((rc = fill_has(ol, "old", E, G, old_has, old_cnt, err)) != 0 ||
        (rc = fill_has(nl, "new", E, G, new_has, new_cnt, err)) != 0)
        goto done;
    memcpy(cur, old_has, cells);
    memcpy(occ, old_cnt, (size_t)G * sizeof(int));
    for (int e = 0; e < E; e++) {
        int no = 0, nn = 0;
        for (int g = 0; g < G; g++) {
            no += old_has[(size_t)e * G + g];
            nn += new_has[(size_t)e * G + g];
            if (new_has[(size_t)e * G + g] && !old_has[(size_t)e * G + g])
                copies[nc++] = (pending){e, g, 0};
            if (old_has[(size_t)e * G + g] && !new_has[(size_t)e * G + g])
                drops[nd++] = (pending){e, g, 0};
        }
        /* An expert nobody holds cannot be copied, and one the new placement drops
         * everywhere would stop being served: both placements must serve every expert. */
        if (no == 0 || nn == 0) {
            rc = moemap_error_set(err, MOEMAP_EINVAL,
                                  "migration: layer %d: expert %d has no replica in the %s "
                                  "placement", nl->layer, e, no == 0 ? "old" : "new");
            goto done;
        }
        holders[e] = no;
    }

    int left_c = nc, left_d = nd;
    while (left_c > 0 || left_d > 0) {
        int progress = 0;
        for (int i = 0; i < nd; i++) {
            pending *d = &drops[i];
            if (d->done || holders[d->expert] < 2)
                continue;
            if ((rc = add_step(pl, MOEMAP_MIGRATION_DROP, nl->layer, d->expert, d->gpu, -1,
                               0.0, 0, err)) != 0)
                goto done;
            cur[(size_t)d->expert * G + d->gpu] = 0;
            holders[d->expert]--;
            occ[d->gpu]--;
            d->done = 1;
            left_d--;
            progress = 1;
        }
        /* Pass 0: copies whose destination has a free slot. Pass 1, only when nothing
         * moved: the remaining moves form cycles (e.g. two full GPUs swapping experts);
         * one copy into a staging buffer breaks one cycle, then normal rounds resume. */
        for (int pass = 0; pass < 2 && !progress; pass++) {
            for (int i = 0; i < nc; i++) {
                pending *c = &copies[i];
                int cap = old_cnt[c->gpu] > new_cnt[c->gpu] ? old_cnt[c->gpu]
                                                            : new_cnt[c->gpu];
                int staged = occ[c->gpu] >= cap;
                if (c->done || (staged && pass == 0))
                    continue;
                if ((rc = do_copy(pl, nl->layer, c, G, cur, new_has, staged, err)) != 0)
                    goto done;
                holders[c->expert]++;
                occ[c->gpu]++;
                if (occ[c->gpu] - cap > pl->plan->peak_staging)
                    pl->plan->peak_staging = occ[c->gpu] - cap;
                left_c--;
                progress = 1;
                if (pass == 1)
                    break;
            }
        }
        MOEMAP_ASSERT(progress); /* with copies done, every remaining drop is safe */
    }
    pl->plan->copies += nc;
    pl->plan->drops += nd;
    pl->plan->experts_moved += nc;
    pl->plan->total_bytes += nc * pl->plan->expert_bytes;
    rc = 0;
done:
    moemap_free(old_has);
    moemap_free(new_has);
    moemap_free(cur);
    moemap_free(old_cnt);
    moemap_free(new_cnt);
    moemap_free(occ);
    moemap_free(holders);
    moemap_free(copies);
    moemap_free(drops);
    return rc;
}

int moemap_migration_plan_create(const moemap_placement *old_p, const moemap_placement *new_p,
                                 double expert_bytes, moemap_migration_plan **out,
                                 moemap_error *err)
{
    if (!old_p || !new_p || !out)
        return moemap_error_set(err, MOEMAP_EINVAL, "migration: needs two placements");
    *out = NULL;
    if (!(expert_bytes >= 0) || expert_bytes > 1e15)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "migration: expert bytes %g must be >= 0", expert_bytes);
    if (old_p->num_gpus != new_p->num_gpus || old_p->experts != new_p->experts)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "migration: old placement has %d GPUs x %d experts, new has "
                                "%d x %d: both must be for the same cluster and model",
                                old_p->num_gpus, old_p->experts, new_p->num_gpus,
                                new_p->experts);
    if (old_p->num_gpus <= 0 || old_p->experts <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "migration: empty placement");
    for (int l = 0; l < old_p->num_layers; l++)
        if (!mm_placement_layer(new_p, old_p->layers[l].layer))
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "migration: layer %d is in the old placement but not in "
                                    "the new one", old_p->layers[l].layer);
    moemap_migration_plan *plan = moemap_calloc(1, sizeof *plan);
    if (!plan)
        return moemap_error_set(err, MOEMAP_ENOMEM, "migration: out of memory");
    plan->expert_bytes = expert_bytes;
    planner pl = {plan, 0};
    for (int l = 0; l < new_p->num_layers; l++) {
        const moemap_layer_placement *nl = &new_p->layers[l];
        const moemap_layer_placement *ol = mm_placement_layer(old_p, nl->layer);
        if (!ol) {
            moemap_migration_plan_free(plan);
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "migration: layer %d is in the new placement but not in "
                                    "the old one", nl->layer);
        }
        int rc = plan_layer(&pl, ol, nl, new_p->experts, new_p->num_gpus, err);
        if (rc) {
            moemap_migration_plan_free(plan);
            return rc;
        }
    }
    *out = plan;
    return 0;
}

void moemap_migration_plan_free(moemap_migration_plan *plan)
{
    if (!plan)
        return;
    moemap_free(plan->steps);
    moemap_free(plan);
}

/* ---------------------------------------------------------------------- writing -- */

static int set_new(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

int moemap_migration_plan_write(const moemap_migration_plan *plan, const char *path,
                                moemap_error *err)
{
    if (!plan || !path)
        return moemap_error_set(err, MOEMAP_EINVAL, "migration: nothing to write");
    json_t *root = json_object(), *steps = json_array();
    int bad = !root || !steps;
    bad |= set_new(root, "format", json_string("moemap.migration/v1"));
    bad |= set_new(root, "expert_bytes", json_real(plan->expert_bytes));
    bad |= set_new(root, "total_bytes", json_real(plan->total_bytes));
    bad |= set_new(root, "copies", json_integer(plan->copies));
    bad |= set_new(root, "drops", json_integer(plan->drops));
    bad |= set_new(root, "experts_moved", json_integer(plan->experts_moved));
    bad |= set_new(root, "peak_staging", json_integer(plan->peak_staging));
    for (int i = 0; i < plan->num_steps && !bad; i++) {
        const moemap_migration_step *s = &plan->steps[i];
        json_t *o = json_object();
        bad |= !o;
        if (bad)
            break;
        int copy = s->op == MOEMAP_MIGRATION_COPY;
        bad |= set_new(o, "op", json_string(copy ? "copy" : "drop"));
        bad |= set_new(o, "layer", json_integer(s->layer));
        bad |= set_new(o, "expert", json_integer(s->expert));
        if (copy) {
            bad |= set_new(o, "from", json_integer(s->from_gpu));
            bad |= set_new(o, "to", json_integer(s->to_gpu));
            bad |= set_new(o, "bytes", json_real(s->bytes));
            if (s->staged)
                bad |= set_new(o, "staged", json_true());
        } else {
            bad |= set_new(o, "gpu", json_integer(s->from_gpu));
        }
        bad |= json_array_append_new(steps, o);
    }
    if (!bad) {
        bad |= json_object_set_new(root, "steps", steps);
        steps = NULL;
    }
    int rc;
    if (bad)
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory building the plan", path);
    else
        rc = mm_json_dump_file(root, path, err);
    json_decref(steps);
    json_decref(root);
    return rc;
}
