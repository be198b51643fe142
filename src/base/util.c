/*
 * util.c — see base_util.h: the monotonic clock, the double comparison and the
 * first-problem callback, once for the whole library instead of a private copy in each
 * file that sorts, keeps a deadline or runs a check.
 */
#include "base_util.h"

#include <time.h>

#include "moemap/base.h"

double mm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mm_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mm_keep_first_problem(void *ctx, const char *msg)
{
    moemap_error *e = ctx;
    if (e && e->code == 0)
        moemap_error_set(e, MOEMAP_EINVAL, "%s", msg);
}
