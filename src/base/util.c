/*
 * util.c — see base_util.h: the monotonic clock and the double comparison, once for the
 * whole library instead of a private copy in each file that sorts or keeps a deadline.
 */
#include "base_util.h"

#include <time.h>

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
