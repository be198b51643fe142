/*
 * moemap_search.h — the search state of the `moemap` strategy (internal): one layer's
 * replicas with their per-batch, per-GPU times kept up to date, so that a candidate
 * change touching two GPUs is priced in O(batches) — the exact cost model on every
 * sampled batch, not on an average batch.
 *
 * The objective of a state is lexicographic: first J = mean + tail_weight * p90 of the
 * per-batch straggler time (+ a migration penalty when re-placing, + the excess of J over
 * engine-sized windows above a reference, see ms_init), then, to leave
 * plateaus where the straggler cannot move, the mean over batches of sum_g T_g^2 /
 * sum_g T_g (a smooth measure of imbalance that only falls when load leaves busy GPUs)
 * plus a small charge per extra node an expert's replicas span (so that, among equally
 * fast choices, replicas stay inside a node).
 */
#ifndef MOEMAP_PLACE_MOEMAP_SEARCH_H
#define MOEMAP_PLACE_MOEMAP_SEARCH_H

#include "strategy.h"

typedef struct ms_rep {
    int expert;
    int gpu;
    double share;
} ms_rep;

/* One replica change of a candidate: old_share 0 = a new replica, new_share 0 = removed. */
typedef struct ms_item {
    int rep;        /* replica index, -1 for a new one */
    int expert;
    int gpu;
    double old_share;
    double new_share;
} ms_item;

typedef struct ms_delta {
    int n;
    ms_item items[4];
    int g1, g2;     /* the (at most two) GPUs it touches; g2 may equal g1 */
} ms_delta;

typedef struct ms_score {
    double primary;
    double secondary;
} ms_score;

typedef struct ms_state {
    const place_problem *pb;
    int G, E, B;            /* GPUs, experts, sampled batches (B0 given + windows) */
    int B0;                 /* batches [0, B0) are the input's; [B0, B) engine-sized
                               windows: sums of consecutive input batches */
    const double **cnt;     /* [B] counts row of each sampled batch */
    double *wcnt;           /* [(B - B0) * E] the windows' counts (owned) */
    double window_ref;      /* the objective adds max(0, J(windows) - window_ref);
                               INFINITY (the default): the windows do not count */
    double tail_weight;
    ms_rep *reps;
    int nreps, cap;
    int *at;                /* [E * G] replica index of expert e on GPU g, or -1 */
    int *nrep;              /* [G] replicas on each GPU */
    double *rc;             /* [cap * B] cost of replica r in batch b on its GPU */
    double *T;              /* [B * G] time of GPU g in batch b */
    double *S1, *S2;        /* [B] sum of T and of T^2 */
    double *top;            /* [B * 3] three largest T per batch */
    int *topg;              /* [B * 3] their GPUs */
    double *M;              /* scratch [B] */
    double *sel;            /* scratch [B] */
    /* migration-aware re-placement */
    const unsigned char *prev; /* [E * G] pairs of the previous placement, or NULL */
    int nnew;               /* (expert, gpu) pairs not in prev */
    int max_moves;          /* > 0: limit on nnew */
    double move_pen_us;     /* objective cost of one new pair */
    long work;              /* batch-evaluations done (deterministic work budget) */
    /* replicas inside one node: each extra node an expert spans adds node_pen_us to the
     * secondary score (ties of the objective only) */
    int num_nodes;          /* > 1 to track */
    int *node;              /* [G] node of each GPU */
    int *enode;             /* [E * num_nodes] replicas of expert e in node n */
    int spread;             /* sum over experts of (nodes holding it - 1) */
    double node_pen_us;
} ms_state;

/* Samples up to max_batches of the input batches; when they hold fewer tokens than
 * window_tokens, also up to max_windows windows of consecutive input batches of about
 * window_tokens each (see strategy_moemap.c for why). The objective is J over the input
 * batches plus max(0, J(windows) - window_ref), window_ref set by the caller. */
int ms_init(ms_state *s, const place_problem *pb, int max_batches, double window_tokens,
            int max_windows, moemap_error *err);
/* Starts tracking how many nodes each expert spans (call before loading replicas). */
int ms_track_nodes(ms_state *s, moemap_error *err);
void ms_free(ms_state *s);
/* Replaces the replicas with reps[0..n) and recomputes every time. */
int ms_load(ms_state *s, const moemap_replica *reps, int n, moemap_error *err);
/* Adds a replica (construction); the caller keeps slots and duplicates in check. */
int ms_add(ms_state *s, int expert, int gpu, double share, moemap_error *err);
/* J (mean + tail_weight * p90) of the current state over the windows alone (0: none). */
double ms_window_j(ms_state *s);
/* Score of the current state, and of the state after d (without applying it). */
ms_score ms_score_now(ms_state *s);
ms_score ms_score_delta(ms_state *s, const ms_delta *d, int *ok);
/* Applies d. */
int ms_apply(ms_state *s, const ms_delta *d, moemap_error *err);
/* a better than b (lexicographic with a relative tolerance). */
int ms_better(ms_score a, ms_score b);

#endif
