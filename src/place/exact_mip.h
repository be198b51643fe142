/*
 * exact_mip.h — internal interface of the exact strategy (strategy_exact.c): the
 * mixed-integer program for one layer through GLPK, with a report that keeps "the call
 * worked" apart from "what the answer is" (proven optimal, or the best found when the
 * time limit struck). place_exact (strategy.h) is the driver's entry; benchmarks and
 * tests call exact_solve to see the report.
 */
#ifndef MOEMAP_EXACT_MIP_H
#define MOEMAP_EXACT_MIP_H

#include "strategy.h"

/* Instance limits: the MIP grows as experts x GPUs x batches. */
#define EXACT_MAX_EXPERTS 16
#define EXACT_MAX_GPUS 8
#define EXACT_MAX_COST_VARS 40000 /* experts x GPUs x batches with tokens */

typedef enum {
    EXACT_OPTIMAL = 0,    /* proven optimal for the MIP */
    EXACT_TIME_LIMIT = 1  /* time limit: best placement found, not proven optimal */
} exact_status;

typedef struct exact_report {
    exact_status status;
    double objective_us;  /* MIP objective: mean over batches of the modelled straggler */
    double bound_us;      /* best proven lower bound on the MIP objective */
    double start_us;      /* MIP objective of the best heuristic start (0: none) */
    double seconds;       /* solver wall time */
    int convex;           /* 1: every GPU curve is convex on n > 0, so the MIP cost equals
                             the cost model exactly; 0: the MIP used each curve's convex
                             minorant (its objective under-estimates; evaluate the result
                             with the cost model) */
    int rows, cols, binaries;
} exact_report;

/* Solves one layer. Returns 0 with out filled (and rep, which may be NULL) when a
 * placement was found; MOEMAP_ENOTSUP without GLPK; MOEMAP_EINVAL when the instance is
 * too large (the message gives the limits); MOEMAP_ELIMIT when the time ran out before
 * any placement was found. */
int exact_solve(const place_problem *pb, place_result *out, exact_report *rep,
                moemap_error *err);

#endif
