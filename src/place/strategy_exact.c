/*
 * strategy_exact.c — the optimum of one layer's placement as a mixed-integer program,
 * solved by GLPK (glp_intopt), to measure how far the heuristics are from optimal on
 * small instances (at most EXACT_MAX_EXPERTS experts and EXACT_MAX_GPUS GPUs).
 *
 * Formulation (B batches with tokens c_eb, GPUs g with curves f_g):
 *   x_eg in {0,1}   replica of expert e on GPU g
 *   s_eg in [0,1]   its share of e's tokens;   s_eg <= x_eg,   sum_g s_eg = 1
 *   sum_e x_eg <= slots_g
 *   y_egb >= alpha_k x_eg + beta_k c_eb s_eg   for every line k of GPU g's minorant,
 *                                              for every (e, b) with c_eb > 0
 *   T_b >= sum_e y_egb                         for every g, b
 *   T_b >= LB_b                                (the batch's lower bound, cost/bound.c)
 *   minimise (1/B) sum_b T_b                   (mean straggler time over the batches)
 * The cost model charges f_g(n) for a replica with n > 0 tokens: a floor (the weight
 * read) for any n > 0, then the curve. On n > 0, f_g is written as the maximum of lines
 * (alpha_k + beta_k n): exactly right when f_g is convex there (measured GEMM curves
 * are: flat floor, then growing slope), and its convex minorant otherwise, which makes
 * the MIP objective a lower estimate (report.convex says which). The fixed part
 * alpha_k x_eg models "pays the floor as soon as it holds tokens"; a replica with
 * x = 1 and s = 0 would pay a floor it does not owe in the model, but x = 0 is then
 * at least as good, so optima are unaffected. No constraint is written for batches
 * where the expert has no tokens, which matches f(0) = 0.
 *
 * The solver starts from the best of the ViBE, GEM and moemap placements (given through
 * GLPK's heuristic callback), so the result is never worse than them in the MIP's cost
 * (the cost model itself for convex curves) even when the time limit
 * (pb->time_budget_s) stops the search; report.status tells whether the optimum was
 * proven. GLPK's output is switched off (the library never prints), calls
 * are serialised (one mutex) and each call frees GLPK's per-thread environment.
 */
#include "exact_mip.h"

#include "moemap/eval.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "base_util.h"

#ifdef MOEMAP_HAVE_GLPK
#include <glpk.h>
#include <pthread.h>
#endif

#define MAX_LINES 256 /* curve points + 2 (floor point, final ray) */

/* Lines whose maximum is the convex minorant of f on n > 0: the lower hull of the points
 * (0+, floor), (t_i, us_i), restricted to slopes below the final ray's slope, plus the
 * supporting line of that slope. Returns the number of lines; *convex = 1 when the
 * minorant equals f at every curve point (then it equals f on all of n > 0). */
static int minorant_lines(const moemap_curve *c, double *alpha, double *beta, int *convex)
{
    int n = c->n;
    double px[MAX_LINES + 1], py[MAX_LINES + 1];
    int m = 0;
    /* points: the floor at 0+, then the curve's points */
    MOEMAP_ASSERT(n >= 1 && n + 2 <= MAX_LINES); /* checked by exact_solve */
    px[m] = 0;
    py[m++] = c->us[0];
    for (int i = 0; i < n; i++) {
        px[m] = c->tokens[i];
        py[m++] = c->us[i];
    }
    double ray = n >= 2 ? (c->us[n - 1] - c->us[n - 2]) / (c->tokens[n - 1] - c->tokens[n - 2])
                        : 0.0;
    /* lower hull (monotone chain; x strictly increasing) */
    int hull[MAX_LINES + 1], h = 0;
    for (int i = 0; i < m; i++) {
        while (h >= 2) {
            int a = hull[h - 2], b = hull[h - 1];
            double cross = (px[b] - px[a]) * (py[i] - py[a]) - (py[b] - py[a]) * (px[i] - px[a]);
            if (cross <= 0)
                h--;
            else
                break;
        }
        hull[h++] = i;
    }
    int k = 0;
    for (int i = 0; i + 1 < h; i++) {
        int a = hull[i], b = hull[i + 1];
        double sl = (py[b] - py[a]) / (px[b] - px[a]);
        if (sl < ray - 1e-15) {
            beta[k] = sl;
            alpha[k++] = py[a] - sl * px[a];
        }
    }
    double icpt = INFINITY;
    for (int i = 0; i < m; i++)
        icpt = py[i] - ray * px[i] < icpt ? py[i] - ray * px[i] : icpt;
    beta[k] = ray;
    alpha[k++] = icpt;
    *convex = 1;
    for (int i = 1; i < m; i++) {
        double v = -INFINITY;
        for (int j = 0; j < k; j++)
            v = alpha[j] + beta[j] * px[i] > v ? alpha[j] + beta[j] * px[i] : v;
        if (v < py[i] - 1e-9 * (1 + fabs(py[i])))
            *convex = 0;
    }
    return k;
}

#ifndef MOEMAP_HAVE_GLPK

int exact_solve(const place_problem *pb, place_result *out, exact_report *rep,
                moemap_error *err)
{
    (void)pb;
    (void)out;
    (void)rep;
    (void)minorant_lines;
    return moemap_error_set(err, MOEMAP_ENOTSUP,
                            "exact: this build has no GLPK (install libglpk-dev and rebuild)");
}

#else

static pthread_mutex_t glpk_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct mip {
    const place_problem *pb;
    int E, G, B;
    int nl[EXACT_MAX_GPUS];
    double alpha[EXACT_MAX_GPUS][MAX_LINES], beta[EXACT_MAX_GPUS][MAX_LINES];
    int *ycol;        /* [E * G * B] column of y_egb, 0 when c_eb = 0 */
    int ncols;
    double *start;    /* [ncols + 1] best heuristic start, NULL when none */
    double start_obj;
    int start_given;
    double bound;
} mip;

#define XCOL(m, e, g) (1 + (e) * (m)->G + (g))
#define SCOL(m, e, g) (1 + (m)->E * (m)->G + (e) * (m)->G + (g))
#define TCOL(m, b) (1 + 2 * (m)->E * (m)->G + (b))

static double line_cost(const mip *m, int g, double n)
{
    double v = 0;
    for (int k = 0; k < m->nl[g]; k++)
        v = m->alpha[g][k] + m->beta[g][k] * n > v ? m->alpha[g][k] + m->beta[g][k] * n : v;
    return v;
}

/* Column values of a placement (replicas with shares), and its MIP objective. */
static double fill_start(const mip *m, const place_result *r, double *x)
{
    const place_problem *pb = m->pb;
    for (int j = 0; j <= m->ncols; j++)
        x[j] = 0;
    for (int i = 0; i < r->n; i++) {
        x[XCOL(m, r->reps[i].expert, r->reps[i].gpu)] = 1;
        x[SCOL(m, r->reps[i].expert, r->reps[i].gpu)] = r->reps[i].share;
    }
    double obj = 0;
    for (int b = 0; b < m->B; b++) {
        double tmax = 0;
        for (int g = 0; g < m->G; g++) {
            double t = 0;
            for (int e = 0; e < m->E; e++) {
                int col = m->ycol[((size_t)e * m->G + g) * m->B + b];
                if (!col || x[XCOL(m, e, g)] < 0.5)
                    continue;
                double y = line_cost(m, g, pb->counts[(size_t)b * m->E + e] * x[SCOL(m, e, g)]);
                x[col] = y;
                t += y;
            }
            tmax = t > tmax ? t : tmax;
        }
        x[TCOL(m, b)] = tmax;
        obj += tmax;
    }
    return obj / m->B;
}

static void callback(glp_tree *tree, void *info)
{
    mip *m = info;
    int reason = glp_ios_reason(tree);
    if (reason == GLP_IHEUR && m->start && !m->start_given) {
        glp_ios_heur_sol(tree, m->start);
        m->start_given = 1;
    }
    if (reason == GLP_ISELECT || reason == GLP_IBINGO || reason == GLP_IHEUR) {
        int best = glp_ios_best_node(tree);
        if (best)
            m->bound = glp_ios_node_bound(tree, best);
    }
}

/* Normalises the shares of a heuristic's replicas as the driver does (all zero: equal)
 * and checks that they satisfy every MIP constraint: GLPK takes a start without
 * checking it, and an infeasible one would corrupt the search. */
static int feasible_start(const mip *m, place_result *r)
{
    double sum[EXACT_MAX_EXPERTS] = {0};
    int cnt[EXACT_MAX_EXPERTS] = {0}, per_gpu[EXACT_MAX_GPUS] = {0};
    unsigned char has[EXACT_MAX_EXPERTS][EXACT_MAX_GPUS] = {{0}};
    for (int i = 0; i < r->n; i++) {
        int e = r->reps[i].expert, g = r->reps[i].gpu;
        if (e < 0 || e >= m->E || g < 0 || g >= m->G || has[e][g] ||
            !(r->reps[i].share >= 0))
            return 0;
        has[e][g] = 1;
        per_gpu[g]++;
        sum[e] += r->reps[i].share;
        cnt[e]++;
    }
    for (int g = 0; g < m->G; g++)
        if (per_gpu[g] > m->pb->slots[g])
            return 0;
    for (int e = 0; e < m->E; e++)
        if (cnt[e] == 0)
            return 0;
    for (int i = 0; i < r->n; i++) {
        int e = r->reps[i].expert;
        r->reps[i].share = sum[e] > 0 ? r->reps[i].share / sum[e] : 1.0 / cnt[e];
    }
    return 1;
}

/* Runs a heuristic layer function and keeps its start if better than the current one. */
static int try_start(mip *m, place_layer_fn fn, double *x, moemap_error *err)
{
    place_result r = {0};
    moemap_error scratch = {0};
    /* Each heuristic gets a tenth of the budget, at most 1 s (moemap's default). */
    place_problem pb = *m->pb;
    pb.time_budget_s = fmin(0.1 * (pb.time_budget_s > 0 ? pb.time_budget_s : 60.0), 1.0);
    int rc = fn(&pb, &r, &scratch);
    if (rc == MOEMAP_ENOMEM) {
        moemap_free(r.reps);
        return moemap_error_set(err, rc, "exact: out of memory");
    }
    if (rc == 0 && r.n > 0 && feasible_start(m, &r)) {
        double obj = fill_start(m, &r, x);
        if (!m->start || obj < m->start_obj) {
            if (!m->start)
                m->start = moemap_malloc(((size_t)m->ncols + 1) * sizeof(double));
            if (m->start) {
                memcpy(m->start, x, ((size_t)m->ncols + 1) * sizeof(double));
                m->start_obj = obj;
            }
        }
    }
    moemap_free(r.reps);
    return 0;
}

static int build_and_solve(mip *m, place_result *out, exact_report *rep, moemap_error *err)
{
    const place_problem *pb = m->pb;
    int E = m->E, G = m->G, B = m->B, rc = 0;
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    int nbase = 2 * E * G + B;
    glp_add_cols(lp, nbase);
    for (int e = 0; e < E; e++)
        for (int g = 0; g < G; g++) {
            glp_set_col_kind(lp, XCOL(m, e, g), GLP_BV);
            glp_set_col_bnds(lp, SCOL(m, e, g), GLP_DB, 0.0, 1.0);
        }
    /* T_b >= the batch's lower bound (cost/bound.c): valid for every placement, and it
     * lifts the LP relaxation, which otherwise spreads the work perfectly. */
    moemap_bound *bd = NULL;
    moemap_error scratch = {0};
    if (moemap_bound_create(pb->cluster, pb->params ? pb->params->slots : 0, &bd, &scratch))
        bd = NULL; /* without it the MIP is still right, only slower */
    for (int b = 0; b < B; b++) {
        double lb = bd ? moemap_bound_layer_batch(bd, pb->counts + (size_t)b * E, E) : 0.0;
        glp_set_col_bnds(lp, TCOL(m, b), GLP_LO, isfinite(lb) && lb > 0 ? lb : 0.0, 0.0);
        glp_set_obj_coef(lp, TCOL(m, b), 1.0 / B);
    }
    moemap_bound_free(bd);
    int ny = 0;
    for (size_t i = 0; i < (size_t)E * G * B; i++) {
        int e = (int)(i / ((size_t)G * B)), b = (int)(i % (size_t)B);
        m->ycol[i] = pb->counts[(size_t)b * E + e] > 0 ? nbase + ++ny : 0;
    }
    if (ny > 0) {
        glp_add_cols(lp, ny);
        for (int j = nbase + 1; j <= nbase + ny; j++)
            glp_set_col_bnds(lp, j, GLP_LO, 0.0, 0.0);
    }
    m->ncols = nbase + ny;
    int ind[EXACT_MAX_EXPERTS + 2 > EXACT_MAX_GPUS + 2 ? EXACT_MAX_EXPERTS + 2
                                                      : EXACT_MAX_GPUS + 2];
    double val[sizeof ind / sizeof ind[0]];
    /* sum_g s_eg = 1 */
    for (int e = 0; e < E; e++) {
        int r = glp_add_rows(lp, 1);
        for (int g = 0; g < G; g++) {
            ind[g + 1] = SCOL(m, e, g);
            val[g + 1] = 1.0;
        }
        glp_set_mat_row(lp, r, G, ind, val);
        glp_set_row_bnds(lp, r, GLP_FX, 1.0, 1.0);
    }
    /* s_eg - x_eg <= 0 */
    for (int e = 0; e < E; e++)
        for (int g = 0; g < G; g++) {
            int r = glp_add_rows(lp, 1);
            ind[1] = SCOL(m, e, g);
            val[1] = 1.0;
            ind[2] = XCOL(m, e, g);
            val[2] = -1.0;
            glp_set_mat_row(lp, r, 2, ind, val);
            glp_set_row_bnds(lp, r, GLP_UP, 0.0, 0.0);
        }
    /* sum_e x_eg <= slots_g */
    for (int g = 0; g < G; g++) {
        int r = glp_add_rows(lp, 1);
        for (int e = 0; e < E; e++) {
            ind[e + 1] = XCOL(m, e, g);
            val[e + 1] = 1.0;
        }
        glp_set_mat_row(lp, r, E, ind, val);
        glp_set_row_bnds(lp, r, GLP_UP, 0.0, pb->slots[g]);
    }
    /* y_egb - alpha_k x_eg - beta_k c_eb s_eg >= 0 */
    for (int e = 0; e < E; e++)
        for (int g = 0; g < G; g++)
            for (int b = 0; b < B; b++) {
                int col = m->ycol[((size_t)e * G + g) * B + b];
                if (!col)
                    continue;
                double c = pb->counts[(size_t)b * E + e];
                for (int k = 0; k < m->nl[g]; k++) {
                    int r = glp_add_rows(lp, 1);
                    ind[1] = col;
                    val[1] = 1.0;
                    ind[2] = XCOL(m, e, g);
                    val[2] = -m->alpha[g][k];
                    ind[3] = SCOL(m, e, g);
                    val[3] = -m->beta[g][k] * c;
                    glp_set_mat_row(lp, r, 3, ind, val);
                    glp_set_row_bnds(lp, r, GLP_LO, 0.0, 0.0);
                }
            }
    /* T_b - sum_e y_egb >= 0 */
    for (int b = 0; b < B; b++)
        for (int g = 0; g < G; g++) {
            int n = 0;
            ind[++n] = TCOL(m, b);
            val[n] = 1.0;
            for (int e = 0; e < E; e++) {
                int col = m->ycol[((size_t)e * G + g) * B + b];
                if (col) {
                    ind[++n] = col;
                    val[n] = -1.0;
                }
            }
            int r = glp_add_rows(lp, 1);
            glp_set_mat_row(lp, r, n, ind, val);
            glp_set_row_bnds(lp, r, GLP_LO, 0.0, 0.0);
        }
    rep->rows = glp_get_num_rows(lp);
    rep->cols = glp_get_num_cols(lp);
    rep->binaries = E * G;

    /* Heuristic starts. */
    double *x = moemap_malloc(((size_t)m->ncols + 1) * sizeof(double));
    if (!x) {
        glp_delete_prob(lp);
        return moemap_error_set(err, MOEMAP_ENOMEM, "exact: out of memory");
    }
    if ((rc = try_start(m, place_vibe, x, err)) != 0 ||
        (rc = try_start(m, place_gem, x, err)) != 0 ||
        (rc = try_start(m, place_moemap, x, err)) != 0) {
        moemap_free(x);
        glp_delete_prob(lp);
        return rc;
    }

    rep->start_us = m->start ? m->start_obj : 0.0;
    double budget = pb->time_budget_s > 0 ? pb->time_budget_s : 60.0;
    double t0 = mm_now_s();
    glp_smcp smcp;
    glp_init_smcp(&smcp);
    smcp.msg_lev = GLP_MSG_OFF;
    smcp.tm_lim = (int)fmin(budget * 1000.0, 2e9);
    int src = glp_simplex(lp, &smcp);
    /* The LP relaxation's optimum is a proven bound even if the tree never gets going. */
    double lp_bound = src == 0 && glp_get_status(lp) == GLP_OPT ? glp_get_obj_val(lp) : 0.0;
    glp_iocp iocp;
    glp_init_iocp(&iocp);
    iocp.msg_lev = GLP_MSG_OFF;
    iocp.presolve = GLP_OFF; /* keeps the tree's columns = ours, for the heuristic start */
    iocp.cb_func = callback;
    iocp.cb_info = m;
    iocp.br_tech = GLP_BR_DTH;
    iocp.bt_tech = GLP_BT_BLB;
    iocp.mir_cuts = GLP_ON;
    iocp.gmi_cuts = GLP_ON;
    iocp.cov_cuts = GLP_ON;
    iocp.clq_cuts = GLP_ON;
    double left = budget - (mm_now_s() - t0);
    iocp.tm_lim = (int)fmin(fmax(left, 0.001) * 1000.0, 2e9);
    m->bound = -INFINITY;
    int irc = src == 0 && glp_get_status(lp) == GLP_OPT ? glp_intopt(lp, &iocp) : GLP_ETMLIM;
    rep->seconds = mm_now_s() - t0;
    int st = irc == 0 || irc == GLP_ETMLIM ? glp_mip_status(lp) : GLP_UNDEF;
    if (st == GLP_OPT || st == GLP_FEAS) {
        rep->status = irc == 0 && st == GLP_OPT ? EXACT_OPTIMAL : EXACT_TIME_LIMIT;
        rep->objective_us = glp_mip_obj_val(lp);
        for (int j = 1; j <= m->ncols; j++)
            x[j] = glp_mip_col_val(lp, j);
        if (rep->status == EXACT_OPTIMAL)
            m->bound = rep->objective_us;
    } else if (m->start) {
        /* The LP or the tree never got going in time: the best heuristic start stands. */
        rep->status = EXACT_TIME_LIMIT;
        rep->objective_us = m->start_obj;
        memcpy(x, m->start, ((size_t)m->ncols + 1) * sizeof(double));
    } else {
        rc = moemap_error_set(err, MOEMAP_ELIMIT,
                              "exact: no placement found within %.3g s (GLPK status %d)",
                              budget, irc);
    }
    rep->bound_us = isfinite(m->bound) && m->bound > lp_bound ? m->bound : lp_bound;
    for (int e = 0; e < E && !rc; e++) {
        double sum = 0;
        int nrep = 0;
        for (int g = 0; g < G; g++)
            if (x[XCOL(m, e, g)] > 0.5 && x[SCOL(m, e, g)] > 1e-9) {
                sum += x[SCOL(m, e, g)];
                nrep++;
            }
        for (int g = 0; g < G && !rc; g++)
            if (x[XCOL(m, e, g)] > 0.5 && x[SCOL(m, e, g)] > 1e-9)
                rc = place_result_add(out, e, g, sum > 0 ? x[SCOL(m, e, g)] / sum : 1.0 / nrep,
                                      err);
        MOEMAP_ASSERT(rc || nrep > 0); /* sum_g s_eg = 1 holds in every solution */
    }
    moemap_free(x);
    glp_delete_prob(lp);
    return rc;
}

int exact_solve(const place_problem *pb, place_result *out, exact_report *rep,
                moemap_error *err)
{
    exact_report scratch;
    if (!rep)
        rep = &scratch;
    memset(rep, 0, sizeof *rep);
    int E = pb->experts, G = pb->num_gpus, B = pb->num_batches;
    if (E > EXACT_MAX_EXPERTS || G > EXACT_MAX_GPUS)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "exact: %d experts on %d GPUs is too large for the MIP (at "
                                "most %d experts and %d GPUs; use the moemap strategy)",
                                E, G, EXACT_MAX_EXPERTS, EXACT_MAX_GPUS);
    long nz = 0;
    for (long i = 0; i < (long)B * E; i++)
        nz += pb->counts[i] > 0;
    if (nz * G > EXACT_MAX_COST_VARS)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "exact: %d batches give %ld cost variables (at most %d; use "
                                "fewer or larger batches)", B, nz * G, EXACT_MAX_COST_VARS);
    long total_slots = 0;
    for (int g = 0; g < G; g++)
        total_slots += pb->slots[g];
    if (total_slots < E)
        return moemap_error_set(err, MOEMAP_EINFEASIBLE, "exact: %ld slots for %d experts",
                                total_slots, E);
    mip *m = moemap_calloc(1, sizeof *m);
    if (!m)
        return moemap_error_set(err, MOEMAP_ENOMEM, "exact: out of memory");
    m->pb = pb;
    m->E = E;
    m->G = G;
    m->B = B;
    rep->convex = 1;
    for (int g = 0; g < G; g++) {
        moemap_curve f = {0}; /* f_g's points */
        int convex, rc = moemap_cluster_gpu_curve(pb->cluster, g, &f, err);
        if (!rc && (f.n < 1 || f.n + 2 > MAX_LINES))
            rc = moemap_error_set(err, MOEMAP_EINVAL, "exact: gpu %d's curve has %d points "
                                  "(the MIP takes 1 to %d)", g, f.n, MAX_LINES - 2);
        if (rc) {
            moemap_curve_clear(&f);
            moemap_free(m);
            return rc;
        }
        m->nl[g] = minorant_lines(&f, m->alpha[g], m->beta[g], &convex);
        moemap_curve_clear(&f);
        rep->convex &= convex;
    }
    m->ycol = moemap_calloc((size_t)E * G * (B > 0 ? B : 1), sizeof(int));
    int rc;
    if (!m->ycol) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "exact: out of memory");
    } else {
        pthread_mutex_lock(&glpk_lock);
        glp_term_out(GLP_OFF); /* some cut generators print despite msg_lev */
        rc = build_and_solve(m, out, rep, err);
        glp_free_env(); /* GLPK keeps per-thread state; the driver's threads come and go */
        pthread_mutex_unlock(&glpk_lock);
    }
    moemap_free(m->ycol);
    moemap_free(m->start);
    moemap_free(m);
    return rc;
}

#endif /* MOEMAP_HAVE_GLPK */

/* The driver's entry: the placement, and the report's verdict in out->solver. */
int place_exact(const place_problem *pb, place_result *out, moemap_error *err)
{
    exact_report rep;
    memset(&rep, 0, sizeof rep); /* without GLPK, exact_solve fails before filling it */
    int rc = exact_solve(pb, out, &rep, err);
    if (rc)
        return rc;
    out->solver = rep.status == EXACT_OPTIMAL ? PLACE_SOLVER_OPTIMAL : PLACE_SOLVER_TIME_LIMIT;
    if (rep.status == EXACT_OPTIMAL)
        out->solver_gap = 0.0;
    else if (rep.objective_us > 0 && rep.bound_us > 0)
        out->solver_gap = fmax(0.0, (rep.objective_us - rep.bound_us) / rep.objective_us);
    else
        out->solver_gap = 1.0; /* no bound proven: nothing is known */
    return 0;
}
