/*
 * bound_scenario.c — a lower bound on one layer's mean straggler time over the batches
 * for ONE placement serving all of them (the "one-placement" bound), next to the
 * per-batch bound of bound.c, which lets the placement change with every batch.
 *
 * Why another bound: at 128-1,024 GPUs the per-batch bound is loose (gaps of 60-120% for
 * every strategy) because it may replicate each batch's hot experts afresh, which no real
 * placement does: its replicas and shares are fixed while bursty experts come and go.
 *
 * The argument. Fix a placement and let expert e have r_e replicas (an integer, 1 <= r_e
 * <= G, sum_e r_e <= S, the slots). In batch b, some replica of e gets at least the
 * average share 1/r_e of its c_eb tokens, and its GPU takes at least
 * phi(c_eb / r_e), phi(n) = min over GPUs of f_g(n) (the curves never decrease). So the
 * layer's straggler in batch b is at least T_b = max(LB_b, max_e phi(c_eb / r_e)), LB_b
 * being the per-batch bound (valid for any placement, so for this one). Choosing r_e as
 * one of 1..R_e with weights x_er (one of them 1) makes this a mixed-integer program:
 *   minimise  (1/B) sum_b T_b
 *   subject   sum_r x_er = 1 (each e), sum_e sum_r r x_er <= S,
 *             T_b >= LB_b, T_b >= sum_r phi(c_eb / r) x_er (each e, b), x_er >= 0,
 * and, since every replica with a share works whenever its expert has tokens, batch b
 * runs P_b = sum over its active experts of r_e pieces, each costing at least a tangent
 * a_g + s_g n of its GPU's convex minorant: T_b >= (P_b + mu N_b) / H, H = sum_g 1/a_g,
 * mu = min_g s_g/a_g (N_b the batch's tokens; two tangents per batch). This is what a
 * fixed placement pays for replicating a bursty expert: its extra floors in every batch
 * it is active, hot or not. The linear relaxation (x fractional), solved by GLPK's
 * simplex, is the bound: no
 * integer choice, hence no placement, does better. Pruning keeps it small: an expert
 * whose single replica already stays under LB_b in every batch gets r = 1 and no row
 * (more replicas cannot help it); R_e is the least r after which every one of e's rows is
 * slack; only rows with phi(c_eb) > LB_b are written. The value is shrunk by 1e-6
 * (relative) against the simplex's tolerances. It is at least the per-batch bound's mean
 * by construction; without GLPK it is that mean.
 */
#include "moemap/eval.h"
#include "bound_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef MOEMAP_HAVE_GLPK
#include <glpk.h>
#endif

#define phi(bd, n) mm_bound_fastest_us(bd, n)
#ifndef ROW_CAP
#define ROW_CAP 1000 /* (expert, batch) rows kept apart; more are summed per expert */
#endif

/* 1 when every expert can have its R_e replicas within the slots and the piece rows then
 * stay under LB_b in every batch: T_b = LB_b is then feasible, the LP cannot rise above
 * the per-batch mean, and solving it would be wasted (at 1,024 GPUs, seconds of it). */
static int all_replicas_fit(const moemap_bound *c, const double *counts, int B,
                            size_t batch_stride, int E, const double *lb, const int *R, long S)
{
    long need = 0;
    for (int e = 0; e < E; e++)
        need += R[e];
    if (need > S)
        return 0;
    for (int b = 0; b < B; b++) {
        double N = 0, A = 0, P = 0;
        for (int e = 0; e < E; e++) {
            double n = counts[(size_t)b * batch_stride + e];
            if (n > 0)
                N += n, A += 1, P += R[e];
        }
        for (int t = 0; A > 0 && t < 2; t++) {
            double H, mu;
            if (mm_bound_piece_line(c, N / (A * (t + 1)), &H, &mu) && (P + mu * N) / H > lb[b])
                return 0;
        }
    }
    return 1;
}

/* A count n <= the cut has phi(n) <= every LB_b (phi never decreases): no row, without
 * evaluating phi for each of the layer's E x B counts (most of them are that small, and
 * those lookups were a tenth of an `eplb` call). The cut is confirmed by phi itself, so
 * every decision is the one phi would make; 0 when none is found. */
static double phi_cut(const moemap_bound *c, const double *lb, int B)
{
    double level = INFINITY;
    for (int b = 0; b < B; b++)
        level = lb[b] < level ? lb[b] : level;
    if (!(level > 0) || !isfinite(level) || !(phi(c, 1e-9) <= level))
        return 0;
    double lo = 1e-9, hi = 1;
    while (phi(c, hi) <= level) {
        lo = hi;
        hi *= 2;
        if (hi > 1e18)
            return lo; /* phi stays under the level: every count is below it */
    }
    for (int it = 0; it < 60 && hi - lo > 1e-9 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (phi(c, mid) <= level)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

#ifdef MOEMAP_HAVE_GLPK
/* GLPK keeps state per thread and is not re-entrant for one problem; the exact strategy
 * serialises its calls too. One bound at a time is plenty (a few ms per layer). */
static pthread_mutex_t scenario_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

int moemap_bound_scenario_layer(const moemap_bound *c, const double *counts, int num_batches,
                                size_t batch_stride, int experts, const double *lb,
                                double *out, moemap_error *err)
{
    return mm_bound_scenario_layer_ms(c, counts, num_batches, batch_stride, experts, lb, 2000,
                                      out, err);
}

int mm_bound_scenario_layer_ms(const moemap_bound *c, const double *counts, int num_batches,
                               size_t batch_stride, int experts, const double *lb, int tm_ms,
                               double *out, moemap_error *err)
{
    int B = num_batches, E = experts, G = 0;
    long S = 0;
    mm_bound_size(c, &G, &S);
    double base = 0;
    for (int b = 0; b < B; b++)
        base += lb[b];
    base = B > 0 ? base / B : 0;
    *out = base;
    if (B <= 0 || E <= 0)
        return 0;
    int *R = moemap_calloc((size_t)E, sizeof *R);
    if (!R)
        return moemap_error_set(err, MOEMAP_ENOMEM, "one-placement bound: out of memory");
    double cut = phi_cut(c, lb, B);
    int hot = 0;
    long rows = 0, cols = 0;
    for (int e = 0; e < E; e++) {
        R[e] = 1;
        for (int b = 0; b < B; b++) {
            double n = counts[(size_t)b * batch_stride + e];
            if (n <= cut || phi(c, n) <= lb[b])
                continue;
            rows++;
            /* the least r (<= G) with phi(n / r) <= LB_b */
            int r = R[e];
            while (r < G && phi(c, n / r) > lb[b])
                r++;
            R[e] = r;
        }
        if (R[e] > 1) {
            hot++;
            cols += R[e];
        }
    }
    int rc = 0;
    if (hot > 0 && all_replicas_fit(c, counts, B, batch_stride, E, lb, R, S))
        hot = 0; /* the LP's optimum is the per-batch mean: no LP to solve */
#ifdef MOEMAP_HAVE_GLPK
    if (hot > 0) {
        /* columns: T_b (1..B), x_er of the hot experts, rho_e = sum_r r x_er of each hot
         * expert, P = sum_e rho_e (the hot experts' replicas: the piece rows name P and
         * the few idle experts instead of every x); rows: one choice per hot expert, the
         * definitions of rho and P, the (e, b) rows and the piece rows */
        int ncol = B + (int)cols + hot + 1;
        int *col0 = moemap_malloc((size_t)E * sizeof *col0);
        int *ind = moemap_malloc((size_t)(ncol + 1) * sizeof *ind);
        double *val = moemap_malloc((size_t)(ncol + 1) * sizeof *val);
        if (!col0 || !ind || !val) {
            moemap_free(col0), moemap_free(ind), moemap_free(val), moemap_free(R);
            return moemap_error_set(err, MOEMAP_ENOMEM, "one-placement bound: out of memory");
        }
        pthread_mutex_lock(&scenario_lock);
        glp_term_out(GLP_OFF);
        glp_prob *lp = glp_create_prob();
        glp_set_obj_dir(lp, GLP_MIN);
        glp_add_cols(lp, ncol);
        for (int b = 0; b < B; b++) {
            glp_set_col_bnds(lp, b + 1, GLP_LO, lb[b] > 0 ? lb[b] : 0.0, 0.0);
            glp_set_obj_coef(lp, b + 1, 1.0 / B);
        }
        int next = B + 1, cold = 0;
        for (int e = 0; e < E; e++) {
            col0[e] = 0;
            if (R[e] <= 1) {
                cold++;
                continue;
            }
            col0[e] = next;
            for (int r = 1; r <= R[e]; r++)
                glp_set_col_bnds(lp, next++, GLP_DB, 0.0, 1.0);
        }
        /* each hot expert: one replica count */
        for (int e = 0; e < E; e++) {
            if (!col0[e])
                continue;
            int row = glp_add_rows(lp, 1);
            for (int r = 1; r <= R[e]; r++)
                ind[r] = col0[e] + r - 1, val[r] = 1.0;
            glp_set_mat_row(lp, row, R[e], ind, val);
            glp_set_row_bnds(lp, row, GLP_FX, 1.0, 1.0);
        }
        /* rho_e - sum_r r x_er = 0, and the hot replicas: P - sum_e rho_e = 0 */
        int rho0 = next, Pcol = next + hot, h = 0;
        int *rho = moemap_calloc((size_t)E, sizeof *rho);
        int row, k;
        for (int e = 0; rho && e < E; e++) {
            if (!col0[e])
                continue;
            rho[e] = rho0 + h++;
            glp_set_col_bnds(lp, rho[e], GLP_DB, 1.0, (double)R[e]);
            k = 0;
            ind[++k] = rho[e], val[k] = 1.0;
            for (int r = 1; r <= R[e]; r++)
                ++k, ind[k] = col0[e] + r - 1, val[k] = -(double)r;
            row = glp_add_rows(lp, 1);
            glp_set_mat_row(lp, row, k, ind, val);
            glp_set_row_bnds(lp, row, GLP_FX, 0.0, 0.0);
        }
        /* slots: the cold experts take one each, the hot ones P */
        glp_set_col_bnds(lp, Pcol, GLP_DB, 0.0, (double)(S - cold));
        k = 0;
        ind[++k] = Pcol, val[k] = 1.0;
        for (int e = 0; rho && e < E; e++)
            if (rho[e])
                ++k, ind[k] = rho[e], val[k] = -1.0;
        row = glp_add_rows(lp, 1);
        glp_set_mat_row(lp, row, k, ind, val);
        glp_set_row_bnds(lp, row, GLP_FX, 0.0, 0.0);
        /* pieces: every replica with a share works whenever its expert has tokens, so
         * batch b runs P_b = (cold experts active) + P - (rho of the hot experts idle in
         * b) pieces, and T_b >= (P_b + mu N_b) / H (mm_bound_piece_line) at two piece
         * sizes: the batch's tokens over its active experts, and over twice as many. */
        for (int b = 0; rho && b < B; b++) {
            double N = 0, A = 0, Pcold = 0;
            for (int e = 0; e < E; e++) {
                double n = counts[(size_t)b * batch_stride + e];
                if (n > 0) {
                    N += n, A += 1;
                    Pcold += col0[e] ? 0 : 1;
                }
            }
            if (A == 0)
                continue;
            for (int t = 0; t < 2; t++) {
                double H, mu;
                if (!mm_bound_piece_line(c, N / (A * (t + 1)), &H, &mu))
                    continue;
                k = 0;
                ind[++k] = b + 1, val[k] = H;
                ind[++k] = Pcol, val[k] = -1.0;
                for (int e = 0; e < E; e++)
                    if (rho[e] && !(counts[(size_t)b * batch_stride + e] > 0))
                        ++k, ind[k] = rho[e], val[k] = 1.0;
                row = glp_add_rows(lp, 1);
                glp_set_mat_row(lp, row, k, ind, val);
                glp_set_row_bnds(lp, row, GLP_LO, Pcold + mu * N, 0.0);
            }
        }
        /* T_b - sum_r phi(c_eb / r) x_er >= 0 where a single replica is over LB_b. Past
         * ROW_CAP such rows, the ROW_CAP with the largest excess phi(c_eb) - LB_b stay
         * apart and each expert's other rows are summed into one (a sum of valid rows is
         * valid, and weaker): the simplex time grows with the rows, and at hundreds of
         * GPUs most experts have rows in most batches. */
        int aggregate = rows > ROW_CAP;
        double *agg = aggregate ? moemap_calloc((size_t)G + 1, sizeof *agg) : NULL;
        double *ex = aggregate ? moemap_malloc((size_t)rows * sizeof *ex) : NULL;
        double keep = -INFINITY; /* rows whose excess phi(c_eb) - LB_b is at least this
                                  * stay apart: the ROW_CAP largest */
        if (aggregate && (!agg || !ex))
            aggregate = 0; /* out of memory: the rows one by one, slower but the same */
        if (aggregate) {
            long m = 0;
            for (int e = 0; e < E; e++)
                for (int b = 0; col0[e] && b < B; b++) {
                    double n = counts[(size_t)b * batch_stride + e];
                    if (n > cut && phi(c, n) > lb[b])
                        ex[m++] = phi(c, n) - lb[b];
                }
            qsort(ex, (size_t)m, sizeof *ex, cmp_desc);
            keep = m > ROW_CAP ? ex[ROW_CAP - 1] : -INFINITY;
        }
        moemap_free(ex);
        for (int e = 0; e < E; e++) {
            if (!col0[e])
                continue;
            k = 0;
            for (int r = 1; aggregate && r <= R[e]; r++)
                agg[r] = 0;
            for (int b = 0; b < B; b++) {
                double n = counts[(size_t)b * batch_stride + e];
                if (n <= cut || phi(c, n) <= lb[b])
                    continue;
                if (aggregate && phi(c, n) - lb[b] < keep) {
                    ++k, ind[k] = b + 1, val[k] = 1.0;
                    for (int r = 1; r <= R[e]; r++)
                        agg[r] += phi(c, n / r);
                    continue;
                }
                /* a row of its own (ind past B: the summed row fills ind[1..B] first) */
                int *ri = ind + B + 1;
                double *rv = val + B + 1;
                int q = 0;
                ri[++q] = b + 1, rv[q] = 1.0;
                for (int r = 1; r <= R[e]; r++)
                    ++q, ri[q] = col0[e] + r - 1, rv[q] = -phi(c, n / r);
                row = glp_add_rows(lp, 1);
                glp_set_mat_row(lp, row, q, ri, rv);
                glp_set_row_bnds(lp, row, GLP_LO, 0.0, 0.0);
            }
            if (aggregate && k > 0) {
                for (int r = 1; r <= R[e]; r++)
                    ++k, ind[k] = col0[e] + r - 1, val[k] = -agg[r];
                row = glp_add_rows(lp, 1);
                glp_set_mat_row(lp, row, k, ind, val);
                glp_set_row_bnds(lp, row, GLP_LO, 0.0, 0.0);
            }
        }
        moemap_free(agg);
        moemap_free(rho);
        glp_smcp smcp;
        glp_init_smcp(&smcp);
        smcp.msg_lev = GLP_MSG_OFF;
        smcp.meth = GLP_DUALP; /* measured 1.7x faster than the primal here, presolve off */
        smcp.tm_lim = tm_ms;   /* an LP cut short gives no bound (the mean of LB_b) */
        int sr = glp_simplex(lp, &smcp);
        /* Only a proven optimum is a bound; anything else keeps the per-batch mean. */
        if (sr == 0 && glp_get_status(lp) == GLP_OPT) {
            double v = glp_get_obj_val(lp) * (1 - 1e-6);
            if (v > base)
                *out = v;
        }
        glp_delete_prob(lp);
        glp_free_env(); /* per-thread state: eval may run on a thread that goes away */
        pthread_mutex_unlock(&scenario_lock);
        moemap_free(col0), moemap_free(ind), moemap_free(val);
    }
#else
    (void)hot, (void)rows, (void)cols;
#endif
    moemap_free(R);
    return rc;
}
