/*
 * base_util.h — the small helpers every layer wanted and wrote again for itself: a
 * monotonic clock for wall-clock budgets, the qsort comparison of doubles and the problem
 * callback that keeps the first problem of a check. Internal to libmoemap (not
 * installed); tests and benchmarks use them too.
 */
#ifndef MOEMAP_BASE_UTIL_H
#define MOEMAP_BASE_UTIL_H

/* Monotonic wall-clock seconds (CLOCK_MONOTONIC): deadlines and budgets are compared
 * against this, never against the time of day, which can jump. */
double mm_now_s(void);

/* qsort comparison of two doubles, ascending (NaN-free input; equal values compare 0). */
int mm_cmp_double(const void *a, const void *b);

/* A moemap_problem_fn for the checks (moemap_placement_check, ..._check_loads) whose
 * ctx is a moemap_error: keeps the first problem as MOEMAP_EINVAL, ignores the rest. */
void mm_keep_first_problem(void *ctx, const char *msg);

/* The reporting half of every check that takes a moemap_problem_fn: counts one problem in
 * *count and, when fn is not NULL, hands it the printf-formatted message. */
void mm_problem(void (*fn)(void *ctx, const char *msg), void *ctx, int *count,
                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
