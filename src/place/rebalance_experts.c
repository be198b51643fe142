/*
 * rebalance_experts.c — moemap_rebalance_experts (moemap/rebalance.h): DeepSeek's EPLB
 * entry point over plain arrays, so that the Python drop-in for rebalance_experts (the
 * function vLLM's EPLB policy and SGLang's EPLB algorithms call) runs moemap.
 *
 * How: the weight rows become loads, the GPUs a cluster (the caller's, or equal GPUs in
 * num_nodes nodes), and moemap_place places them under the engine's rules (every GPU
 * num_replicas / num_gpus slots, all filled, tokens split evenly over copies); the
 * answer is laid out the engines' way, GPU g's experts in slots g*S .. g*S+S-1.
 *  - With a cluster: the moemap strategy, speed-aware, judged on iterations of
 *    batch_tokens tokens (the aggregate weight is expanded to them, which needs top_k).
 *  - Without: token balancing on equal GPUs, judged as the engines judge it, by the
 *    busiest GPU's tokens. Two candidates per layer: moemap's eplb strategy, and
 *    DeepSeek's own algorithm (deepseek_layer below, written from its description: same
 *    variant choice, replication and packing); each is polished by swapping two slots'
 *    experts between the busiest GPU and another while that lowers the larger of the
 *    two, and the better one is kept. So the answer is never worse than DeepSeek's
 *    function by its own measure, and on real routing it is better
 *    (python/tests/test_rebalance.py checks both).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moemap/place.h"
#include "moemap/rebalance.h"

#include "cost/cost_internal.h"

moemap_rebalance_params moemap_rebalance_default_params(void)
{
    return (moemap_rebalance_params){.engine = "vllm"};
}

int moemap_rebalance_log2phy_width(int num_experts, int num_replicas)
{
    int w = num_replicas - num_experts + 1;
    return w > 0 ? w : 1;
}

static int check_args(const double *weight, int L, int E, int R, int num_groups,
                      int num_nodes, int G, const moemap_rebalance_params *rp,
                      moemap_error *err)
{
    if (L < 1 || E < 1)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: weight must be [layers][experts] with "
                                "both > 0 (got %d x %d)", L, E);
    if (G < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "rebalance_experts: num_gpus %d < 1", G);
    if (num_nodes < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "rebalance_experts: num_nodes %d < 1",
                                num_nodes);
    if (num_groups < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "rebalance_experts: num_groups %d < 1",
                                num_groups);
    if (R < E)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: num_replicas %d < %d experts (every "
                                "expert needs a slot)", R, E);
    if (R % G != 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: num_replicas %d is not a multiple of "
                                "num_gpus %d (every GPU holds the same number of slots)", R, G);
    if (!rp->cluster && G % num_nodes != 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: num_gpus %d is not a multiple of "
                                "num_nodes %d", G, num_nodes);
    if (rp->cluster && rp->cluster->num_gpus != G)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: the cluster has %d GPUs but num_gpus is %d "
                                "(GPU g of the cluster is EP rank g)",
                                rp->cluster->num_gpus, G);
    if (R / G > E)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: %d slots per GPU (num_replicas %d / "
                                "num_gpus %d) exceed the %d experts: a GPU would hold an "
                                "expert twice", R / G, R, G, E);
    if (rp->engine && strcmp(rp->engine, "sglang") && strcmp(rp->engine, "vllm"))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: engine '%s' is not sglang or vllm",
                                rp->engine);
    if (!(rp->batch_tokens >= 0) || !isfinite(rp->batch_tokens))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: batch_tokens %g must be >= 0",
                                rp->batch_tokens);
    for (size_t i = 0; i < (size_t)L * (size_t)E; i++)
        if (!isfinite(weight[i]) || weight[i] < 0)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "rebalance_experts: weight[%zu][%zu] = %g (loads must be "
                                    "finite and >= 0)", i / (size_t)E, i % (size_t)E,
                                    weight[i]);
    return 0;
}

/* Equal GPUs, num_nodes nodes of G / num_nodes GPUs each, S slots each. The curve only
 * matters to speed-aware strategies; eplb ignores it. */
static int equal_cluster(int G, int num_nodes, int S, moemap_cluster **out, moemap_error *err)
{
    double tokens[2] = {1, 4096}, us[2] = {60, 560};
    moemap_curve base = {2, tokens, us, 0};
    moemap_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.num_gpus = G;
    sp.gpus_per_node = G / num_nodes;
    sp.slots = S;
    sp.base = &base;
    sp.hidden = 7168;
    sp.intermediate = 2048;
    double *speeds = moemap_malloc((size_t)G * sizeof *speeds);
    if (!speeds)
        return moemap_error_set(err, MOEMAP_ENOMEM, "rebalance_experts: out of memory");
    for (int g = 0; g < G; g++)
        speeds[g] = 1;
    sp.speeds = speeds;
    sp.num_speeds = G;
    int rc = moemap_cluster_synth(&sp, out, err);
    moemap_free(speeds);
    return rc;
}

/* Scratch of one layer's layout: the experts of each GPU's slots and the token load. */
typedef struct layout {
    int G, S, E;
    int *slot;            /* [G * S] expert in each slot, -1 while empty */
    int *fill;            /* [G] slots used */
    int *cnt;             /* [E] copies */
    unsigned char *holds; /* [G * E] copies of expert e on GPU g (DeepSeek's layout can
                             hold two) */
    double *load;         /* [G] sum over the GPU's slots of w_e / cnt_e */
    const int *node;      /* [G] node of each GPU, or NULL: swaps may cross nodes */
} layout;

static void recompute_loads(layout *ly, const double *w)
{
    for (int g = 0; g < ly->G; g++) {
        double s = 0;
        for (int k = 0; k < ly->fill[g]; k++) {
            int e = ly->slot[g * ly->S + k];
            s += w[e] / ly->cnt[e];
        }
        ly->load[g] = s;
    }
}

static int busiest(const layout *ly)
{
    int a = 0;
    for (int g = 1; g < ly->G; g++)
        if (ly->load[g] > ly->load[a])
            a = g;
    return a;
}

/* Swaps slots between the busiest GPU and another while that lowers the larger of the
 * two GPUs' tokens below the busiest's: the busiest GPU's load never rises, and the
 * round limit bounds the time on large inputs. In the hierarchical variant (ly->node set)
 * both GPUs are on one node, so every group's copies stay on the node it was packed to,
 * which is what that variant is for (tokens routed within a node). */
static void polish(layout *ly, const double *w)
{
    int G = ly->G, S = ly->S, E = ly->E;
    recompute_loads(ly, w);
    for (int round = 0; round < 4 * G * S; round++) {
        int a = busiest(ly);
        double la = ly->load[a], best_max = la * (1 - 1e-12);
        int bi = -1, bb = -1, bj = -1;
        for (int i = 0; i < S; i++) {
            int x = ly->slot[a * S + i];
            double wx = w[x] / ly->cnt[x];
            for (int b = 0; b < G; b++) {
                if (b == a || ly->holds[(size_t)b * E + x] ||
                    (ly->node && ly->node[b] != ly->node[a]))
                    continue;
                for (int j = 0; j < S; j++) {
                    int y = ly->slot[b * S + j];
                    double d = wx - w[y] / ly->cnt[y];
                    if (d <= 0 || ly->holds[(size_t)a * E + y])
                        continue;
                    double m = fmax(la - d, ly->load[b] + d);
                    if (m < best_max) {
                        best_max = m;
                        bi = i;
                        bb = b;
                        bj = j;
                    }
                }
            }
        }
        if (bi < 0)
            return;
        int x = ly->slot[a * S + bi], y = ly->slot[bb * S + bj];
        double d = w[x] / ly->cnt[x] - w[y] / ly->cnt[y];
        ly->slot[a * S + bi] = y;
        ly->slot[bb * S + bj] = x;
        ly->holds[(size_t)a * E + x]--;
        ly->holds[(size_t)a * E + y]++;
        ly->holds[(size_t)bb * E + y]--;
        ly->holds[(size_t)bb * E + x]++;
        ly->load[a] -= d;
        ly->load[bb] += d;
    }
}

/* Sorts a GPU's slots by expert id: the layout the exports write, deterministic. */
static void sort_slots(int *s, int n)
{
    for (int i = 1; i < n; i++) {
        int v = s[i], j = i - 1;
        while (j >= 0 && s[j] > v) {
            s[j + 1] = s[j];
            j--;
        }
        s[j + 1] = v;
    }
}

/* Packs n items of weight w[] into `packs` packs of per_pack items each, heaviest first,
 * each to the lightest pack with room (the first on ties): item i goes to where[i]. */
static void balanced_pack(const double *w, int n, int packs, int per_pack, int *order,
                          double *load, int *fill, int *where)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) { /* stable insertion sort, heaviest first */
        int v = order[i], j = i - 1;
        while (j >= 0 && w[order[j]] < w[v]) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    for (int p = 0; p < packs; p++) {
        load[p] = 0;
        fill[p] = 0;
    }
    for (int k = 0; k < n; k++) {
        int i = order[k], best = -1;
        for (int p = 0; p < packs; p++)
            if (fill[p] < per_pack && (best < 0 || load[p] < load[best]))
                best = p;
        where[i] = best;
        load[best] += w[i];
        fill[best]++;
    }
}

/* Scratch of deepseek_layer, sized for the whole layer. */
typedef struct ds_work {
    double *gw, *load, *wl, *pw;
    int *order, *fill, *where, *experts, *cnt, *phys, *gfill;
} ds_work;

/* DeepSeek's EPLB for one layer into ly (slots, cnt, holds): groups of consecutive
 * experts packed onto nodes (hierarchical when num_groups % num_nodes == 0, else one node
 * and one group), inside each node one copy per expert and each further copy to the
 * expert with the most load per copy, then the node's copies packed onto its GPUs. Two
 * copies of an expert can land on one GPU, as in DeepSeek's code (holds counts them;
 * the swaps never add such a pair). */
static void deepseek_layer(layout *ly, const double *w, int num_groups, int num_nodes,
                           ds_work *k)
{
    int G = ly->G, S = ly->S, E = ly->E;
    if (num_groups % num_nodes != 0 || E % num_groups != 0)
        num_groups = num_nodes = 1;
    int gsize = E / num_groups, gpn = num_groups / num_nodes;
    int per_node = G * S / num_nodes, gpus_node = G / num_nodes;
    for (int g = 0; g < num_groups; g++) {
        k->gw[g] = 0;
        for (int j = 0; j < gsize; j++)
            k->gw[g] += w[g * gsize + j];
    }
    balanced_pack(k->gw, num_groups, num_nodes, gpn, k->order, k->load, k->fill, k->where);
    memset(ly->cnt, 0, (size_t)E * sizeof *ly->cnt);
    memset(ly->holds, 0, (size_t)G * E);
    for (int n = 0; n < num_nodes; n++) {
        /* the node's experts: its groups in packing order, each group's experts in order */
        int m = 0;
        for (int r = 0; r < gpn; r++) {
            int seen = 0;
            for (int g = 0; g < num_groups; g++)
                if (k->where[g] == n && seen++ == r)
                    for (int j = 0; j < gsize; j++)
                        k->experts[m++] = g * gsize + j;
        }
        for (int i = 0; i < m; i++) {
            k->wl[i] = w[k->experts[i]];
            k->cnt[i] = 1;
            k->phys[i] = i;
        }
        for (int p = m; p < per_node; p++) {
            int best = 0;
            for (int i = 1; i < m; i++)
                if (k->wl[i] / k->cnt[i] > k->wl[best] / k->cnt[best])
                    best = i;
            k->phys[p] = best;
            k->cnt[best]++;
        }
        for (int p = 0; p < per_node; p++)
            k->pw[p] = k->wl[k->phys[p]] / k->cnt[k->phys[p]];
        /* group placement of nodes is kept in k->where; GPU packing uses its own arrays */
        int *gwhere = k->where + num_groups;
        balanced_pack(k->pw, per_node, gpus_node, S, k->order, k->load, k->gfill, gwhere);
        for (int g = 0; g < gpus_node; g++)
            k->gfill[g] = 0;
        for (int p = 0; p < per_node; p++) {
            int gpu = n * gpus_node + gwhere[p], e = k->experts[k->phys[p]];
            ly->slot[gpu * S + k->gfill[gwhere[p]]++] = e;
            ly->holds[(size_t)gpu * E + e]++;
            ly->cnt[e]++;
        }
    }
    for (int g = 0; g < G; g++)
        ly->fill[g] = S;
}

/* The engines' measure of a layout: the busiest GPU's tokens. */
static double busiest_tokens(layout *ly, const double *w)
{
    recompute_loads(ly, w);
    return ly->load[busiest(ly)];
}

static int ds_alloc(ds_work *k, int E, int G, int R)
{
    int n = E > R ? E : R;
    n = n > G ? n : G;
    k->gw = moemap_malloc((size_t)n * sizeof(double));
    k->load = moemap_malloc((size_t)n * sizeof(double));
    k->wl = moemap_malloc((size_t)n * sizeof(double));
    k->pw = moemap_malloc((size_t)n * sizeof(double));
    k->order = moemap_malloc((size_t)n * sizeof(int));
    k->fill = moemap_malloc((size_t)n * sizeof(int));
    k->where = moemap_malloc((size_t)2 * n * sizeof(int));
    k->experts = moemap_malloc((size_t)n * sizeof(int));
    k->cnt = moemap_malloc((size_t)n * sizeof(int));
    k->phys = moemap_malloc((size_t)n * sizeof(int));
    k->gfill = moemap_malloc((size_t)n * sizeof(int));
    return k->gw && k->load && k->wl && k->pw && k->order && k->fill && k->where &&
                   k->experts && k->cnt && k->phys && k->gfill
               ? 0
               : -1;
}

static void ds_free(ds_work *k)
{
    moemap_free(k->gw);
    moemap_free(k->load);
    moemap_free(k->wl);
    moemap_free(k->pw);
    moemap_free(k->order);
    moemap_free(k->fill);
    moemap_free(k->where);
    moemap_free(k->experts);
    moemap_free(k->cnt);
    moemap_free(k->phys);
    moemap_free(k->gfill);
}

/* Loads for moemap_place. moemap_place expands a one-batch (aggregate) input into
 * sampled iterations at the operating point; token balancing must see the weights as
 * they are, so there the rows are given as two equal halves (w/2 + w/2 == w exactly).
 * A row of zeros (nothing recorded yet) counts every expert once, so every layer gets a
 * placement: an engine needs a map for each of its MoE layers. */
static int make_loads(const double *weight, int L, int E, int top_k, int aggregate,
                      moemap_loads **out, moemap_error *err)
{
    int nb = aggregate ? 1 : 2;
    int rc = moemap_loads_create(E, top_k, L, nb, out, err);
    if (rc)
        return rc;
    moemap_loads *ld = *out;
    double most = 0;
    for (int l = 0; l < L; l++) {
        const double *wl = weight + (size_t)l * E;
        double s = 0;
        for (int e = 0; e < E; e++)
            s += wl[e];
        for (int b = 0; b < nb; b++)
            for (int e = 0; e < E; e++)
                MOEMAP_LOADS_AT(ld, b, l, e) = (s > 0 ? wl[e] : 1.0) / nb;
        most = fmax(most, s > 0 ? s : E);
    }
    for (int b = 0; b < nb; b++)
        ld->batch_tokens[b] = (top_k > 0 ? most / top_k : most) / nb;
    return 0;
}

/* Copies one layer of a placement into ly; EINFEASIBLE when a GPU is not filled to S. */
static int from_placement(layout *ly, const moemap_layer_placement *lp, const char *strategy,
                          int l, moemap_error *err)
{
    int G = ly->G, S = ly->S, E = ly->E;
    memset(ly->fill, 0, (size_t)G * sizeof *ly->fill);
    memset(ly->cnt, 0, (size_t)E * sizeof *ly->cnt);
    memset(ly->holds, 0, (size_t)G * E);
    for (int i = 0; i < lp->num_replicas; i++) {
        const moemap_replica *r = &lp->replicas[i];
        if (ly->fill[r->gpu] >= S)
            break;
        ly->slot[r->gpu * S + ly->fill[r->gpu]++] = r->expert;
        ly->holds[(size_t)r->gpu * E + r->expert] = 1;
        ly->cnt[r->expert]++;
    }
    for (int g = 0; g < G; g++)
        if (ly->fill[g] != S || lp->num_replicas != G * S)
            return moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                    "rebalance_experts: strategy %s gave GPU %d of layer %d "
                                    "%d copies, not the %d slots every GPU has", strategy, g,
                                    l, ly->fill[g], S);
    return 0;
}

int moemap_rebalance_experts(const double *weight, int num_layers, int num_experts,
                             int num_replicas, int num_groups, int num_nodes, int num_gpus,
                             const moemap_rebalance_params *params, int64_t *phy2log,
                             int64_t *log2phy, int64_t *logcnt, int *max_copies,
                             moemap_error *err)
{
    moemap_rebalance_params rp = params ? *params : moemap_rebalance_default_params();
    int L = num_layers, E = num_experts, R = num_replicas, G = num_gpus;
    if (!weight || !phy2log || !log2phy || !logcnt)
        return moemap_error_set(err, MOEMAP_EINVAL, "rebalance_experts: NULL array");
    int rc = check_args(weight, L, E, R, num_groups, num_nodes, G, &rp, err);
    if (rc)
        return rc;
    const char *strategy = rp.strategy ? rp.strategy : rp.cluster ? "moemap" : "eplb";
    int token_objective = !strcmp(strategy, "eplb") && !rp.cluster;
    if (!token_objective && rp.top_k <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rebalance_experts: top_k (experts per token) is needed to "
                                "place on %s at an operating point of batch_tokens tokens",
                                rp.cluster ? "a cluster" : "a strategy other than eplb");
    int S = R / G, W = moemap_rebalance_log2phy_width(E, R);
    moemap_loads *ld = NULL;
    moemap_cluster *own = NULL;
    moemap_placement *pl = NULL;
    layout ly = {G, S, E, NULL, NULL, NULL, NULL, NULL, NULL};
    layout alt = ly;
    ds_work dk;
    memset(&dk, 0, sizeof dk);
    int *node_of = NULL;
    double *row = NULL;
    rc = make_loads(weight, L, E, rp.top_k, !token_objective, &ld, err);
    if (rc)
        goto done;
    const moemap_cluster *c = rp.cluster;
    int nodes = num_nodes;
    if (!c) {
        rc = equal_cluster(G, num_nodes, S, &own, err);
        if (rc)
            goto done;
        c = own;
    } else {
        nodes = 0;
        for (int g = 0; g < G; g++)
            nodes = c->gpus[g].node + 1 > nodes ? c->gpus[g].node + 1 : nodes;
    }
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = strategy;
    pp.slots = S;
    pp.no_predicted = 1;
    pp.engine = rp.engine && !strcmp(rp.engine, "sglang") ? MOEMAP_ENGINE_SGLANG
                                                            : MOEMAP_ENGINE_VLLM;
    pp.batch_tokens = rp.batch_tokens;
    pp.top_k = rp.top_k;
    if (rp.time_limit_s > 0)
        pp.time_limit_s = rp.time_limit_s;
    /* DeepSeek's choice of variant: groups packed onto nodes when they divide evenly. */
    if (nodes > 1 && num_groups % nodes == 0 && E % num_groups == 0)
        pp.nodes_groups = num_groups / nodes;
    rc = moemap_place(ld, c, &pp, &pl, err);
    if (rc)
        goto done;
    ly.slot = moemap_malloc((size_t)G * S * sizeof *ly.slot);
    ly.fill = moemap_malloc((size_t)G * sizeof *ly.fill);
    ly.cnt = moemap_malloc((size_t)E * sizeof *ly.cnt);
    ly.holds = moemap_malloc((size_t)G * E);
    ly.load = moemap_malloc((size_t)G * sizeof *ly.load);
    alt.slot = moemap_malloc((size_t)G * S * sizeof *alt.slot);
    alt.fill = moemap_malloc((size_t)G * sizeof *alt.fill);
    alt.cnt = moemap_malloc((size_t)E * sizeof *alt.cnt);
    alt.holds = moemap_malloc((size_t)G * E);
    alt.load = moemap_malloc((size_t)G * sizeof *alt.load);
    node_of = moemap_malloc((size_t)G * sizeof *node_of);
    row = moemap_malloc((size_t)E * sizeof *row);
    if (!ly.slot || !ly.fill || !ly.cnt || !ly.holds || !ly.load || !alt.slot || !alt.fill ||
        !alt.cnt || !alt.holds || !alt.load || !node_of || !row ||
        (token_objective && ds_alloc(&dk, E, G, R))) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "rebalance_experts: out of memory");
        goto done;
    }
    if (pp.nodes_groups > 0) {
        for (int g = 0; g < G; g++)
            node_of[g] = c->gpus[g].node;
        ly.node = node_of;
    }
    /* DeepSeek's hierarchical variant keeps each node's experts on its GPUs too. */
    int ds_hier = num_nodes > 1 && num_groups % num_nodes == 0 && E % num_groups == 0;
    if (ds_hier) {
        for (int g = 0; g < G; g++)
            node_of[g] = g / (G / num_nodes);
        alt.node = node_of;
    }
    int most = 1;
    for (int l = 0; l < L; l++) {
        const moemap_layer_placement *lp = mm_placement_layer(pl, l);
        MOEMAP_ASSERT(lp != NULL); /* every row has tokens, so every layer is placed */
        for (int e = 0; e < E; e++)
            row[e] = MOEMAP_LOADS_AT(ld, 0, l, e);
        rc = from_placement(&ly, lp, strategy, l, err);
        if (rc)
            goto done;
        if (token_objective) {
            polish(&ly, row);
            deepseek_layer(&alt, row, num_groups, num_nodes, &dk);
            polish(&alt, row);
            if (busiest_tokens(&alt, row) < busiest_tokens(&ly, row)) {
                layout t = ly;
                ly = alt;
                alt = t;
            }
        }
        for (int g = 0; g < G; g++)
            sort_slots(ly.slot + g * S, S);
        int64_t *p2l = phy2log + (size_t)l * R;
        int64_t *l2p = log2phy + (size_t)l * E * W;
        for (size_t i = 0; i < (size_t)E * W; i++)
            l2p[i] = -1;
        for (int e = 0; e < E; e++)
            logcnt[(size_t)l * E + e] = 0;
        for (int p = 0; p < R; p++) {
            int e = ly.slot[p];
            p2l[p] = e;
            int64_t k = logcnt[(size_t)l * E + e]++;
            l2p[(size_t)e * W + k] = p;
            most = k + 1 > most ? (int)k + 1 : most;
        }
    }
    if (max_copies)
        *max_copies = most;
done:
    moemap_free(ly.slot);
    moemap_free(ly.fill);
    moemap_free(ly.cnt);
    moemap_free(ly.holds);
    moemap_free(ly.load);
    moemap_free(alt.slot);
    moemap_free(alt.fill);
    moemap_free(alt.cnt);
    moemap_free(alt.holds);
    moemap_free(alt.load);
    ds_free(&dk);
    moemap_free(row);
    moemap_free(node_of);
    moemap_placement_free(pl);
    moemap_cluster_free(own);
    moemap_loads_free(ld);
    return rc;
}
