/*
 * rebalance_experts.c — moemap_rebalance_experts (moemap/rebalance.h): DeepSeek's EPLB
 * entry point over plain arrays, so that the Python drop-in for rebalance_experts (the
 * function vLLM's EPLB policy and SGLang's EPLB algorithms call) runs moemap.
 *
 * How: the weight rows become aggregate loads, the GPUs a cluster (the caller's, or
 * equal GPUs in num_nodes nodes), moemap_place places them with every GPU holding
 * num_replicas / num_gpus slots, and the placement is laid out the engines' way: GPU g's
 * experts in slots g*S .. g*S+S-1, every slot filled, tokens split evenly over copies.
 * Without a cluster the strategy is eplb (DeepSeek's algorithm from its description); its
 * answer is then polished on the engines' own measure, the busiest GPU's tokens, by
 * swapping two slots' experts between the busiest GPU and another while that lowers the
 * larger of the two: an answer never worse than eplb's, and in practice never worse than
 * DeepSeek's own function (python/tests/test_rebalance.py checks it on real routing).
 * Slots a strategy left empty (eplb never puts two copies of an expert on one GPU, so it
 * can run out of candidates) get a further copy of an expert the GPU lacks: the one that
 * relieves most without making that GPU the busiest.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moemap/place.h"
#include "moemap/rebalance.h"

moemap_rebalance_params moemap_rebalance_default_params(void)
{
    moemap_rebalance_params p;
    memset(&p, 0, sizeof p);
    p.engine = "vllm";
    return p;
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
    unsigned char *holds; /* [G * E] */
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

/* Fills empty slots: each gets a copy of an expert its GPU lacks, preferring the one that
 * relieves its other copies most among those that keep this GPU below the busiest. */
static void pad_slots(layout *ly, const double *w)
{
    for (int g = 0; g < ly->G; g++) {
        while (ly->fill[g] < ly->S) {
            recompute_loads(ly, w);
            double top = ly->load[busiest(ly)];
            int best = -1, fallback = -1;
            for (int e = 0; e < ly->E; e++) {
                if (ly->holds[(size_t)g * ly->E + e])
                    continue;
                double add = w[e] / (ly->cnt[e] + 1);
                if (ly->load[g] + add <= top &&
                    (best < 0 || w[e] / ly->cnt[e] > w[best] / ly->cnt[best]))
                    best = e;
                if (fallback < 0 || add < w[fallback] / (ly->cnt[fallback] + 1))
                    fallback = e;
            }
            int e = best >= 0 ? best : fallback;
            MOEMAP_ASSERT(e >= 0); /* S <= E, so some expert is missing from g */
            ly->slot[g * ly->S + ly->fill[g]++] = e;
            ly->holds[(size_t)g * ly->E + e] = 1;
            ly->cnt[e]++;
        }
    }
    recompute_loads(ly, w);
}

/* Swaps slots between the busiest GPU and another while that lowers the larger of the
 * two GPUs' tokens below the busiest's: the busiest GPU's load never rises, and the
 * round limit bounds the time on large inputs. In the hierarchical variant (ly->node set)
 * both GPUs are on one node, so every group's copies stay on the node it was packed to,
 * which is what that variant is for (tokens routed within a node). */
static void polish(layout *ly, const double *w)
{
    int G = ly->G, S = ly->S, E = ly->E;
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
        ly->holds[(size_t)a * E + x] = 0;
        ly->holds[(size_t)a * E + y] = 1;
        ly->holds[(size_t)bb * E + y] = 0;
        ly->holds[(size_t)bb * E + x] = 1;
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
    int S = R / G, W = moemap_rebalance_log2phy_width(E, R);
    moemap_loads *ld = NULL;
    moemap_cluster *own = NULL;
    moemap_placement *pl = NULL;
    layout ly = {G, S, E, NULL, NULL, NULL, NULL, NULL, NULL};
    int *node_of = NULL;
    double *row = NULL;
    rc = moemap_loads_create(E, rp.top_k, L, 1, &ld, err);
    if (rc)
        goto done;
    /* Every row becomes a layer with tokens (a zero row counts every expert once), so
     * every layer gets a placement: an engine needs a map for each of its MoE layers. */
    double total = 0;
    for (int l = 0; l < L; l++) {
        const double *wl = weight + (size_t)l * E;
        double s = 0;
        for (int e = 0; e < E; e++)
            s += wl[e];
        for (int e = 0; e < E; e++)
            MOEMAP_LOADS_AT(ld, 0, l, e) = s > 0 ? wl[e] : 1.0;
        total = fmax(total, s > 0 ? s : E);
    }
    ld->batch_tokens[0] = rp.top_k > 0 ? total / rp.top_k : total;
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
    pp.strategy = rp.strategy ? rp.strategy : "eplb";
    pp.slots = S;
    pp.no_predicted = 1;
    if (rp.time_limit_s > 0)
        pp.time_limit_s = rp.time_limit_s;
    /* DeepSeek's choice of variant: groups packed onto nodes when they divide evenly. */
    if (nodes > 1 && num_groups % nodes == 0 && E % num_groups == 0)
        pp.nodes_groups = num_groups / nodes;
    rc = moemap_place(ld, c, &pp, &pl, err);
    if (rc)
        goto done;
    if (pp.nodes_groups > 0) {
        node_of = moemap_malloc((size_t)G * sizeof *node_of);
        if (!node_of) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "rebalance_experts: out of memory");
            goto done;
        }
        for (int g = 0; g < G; g++)
            node_of[g] = c->gpus[g].node;
        ly.node = node_of;
    }
    ly.slot = moemap_malloc((size_t)G * S * sizeof *ly.slot);
    ly.fill = moemap_malloc((size_t)G * sizeof *ly.fill);
    ly.cnt = moemap_malloc((size_t)E * sizeof *ly.cnt);
    ly.holds = moemap_malloc((size_t)G * E);
    ly.load = moemap_malloc((size_t)G * sizeof *ly.load);
    row = moemap_malloc((size_t)E * sizeof *row);
    if (!ly.slot || !ly.fill || !ly.cnt || !ly.holds || !ly.load || !row) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "rebalance_experts: out of memory");
        goto done;
    }
    int most = 1;
    int token_objective = !rp.strategy || !strcmp(rp.strategy, "eplb");
    for (int l = 0; l < L; l++) {
        const moemap_layer_placement *lp = NULL;
        for (int i = 0; i < pl->num_layers; i++)
            if (pl->layers[i].layer == l)
                lp = &pl->layers[i];
        MOEMAP_ASSERT(lp != NULL); /* every row has tokens, so every layer is placed */
        for (int e = 0; e < E; e++)
            row[e] = MOEMAP_LOADS_AT(ld, 0, l, e);
        memset(ly.fill, 0, (size_t)G * sizeof *ly.fill);
        memset(ly.cnt, 0, (size_t)E * sizeof *ly.cnt);
        memset(ly.holds, 0, (size_t)G * E);
        for (int i = 0; i < lp->num_replicas; i++) {
            const moemap_replica *r = &lp->replicas[i];
            if (ly.fill[r->gpu] >= S) {
                rc = moemap_error_set(err, MOEMAP_EINFEASIBLE,
                                      "rebalance_experts: strategy %s put more than %d experts "
                                      "on GPU %d of layer %d", pp.strategy, S, r->gpu, l);
                goto done;
            }
            ly.slot[r->gpu * S + ly.fill[r->gpu]++] = r->expert;
            ly.holds[(size_t)r->gpu * E + r->expert] = 1;
            ly.cnt[r->expert]++;
        }
        pad_slots(&ly, row);
        if (token_objective)
            polish(&ly, row);
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
    moemap_free(row);
    moemap_free(node_of);
    moemap_placement_free(pl);
    moemap_cluster_free(own);
    moemap_loads_free(ld);
    return rc;
}
