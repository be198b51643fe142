/*
 * util.c — see base_util.h: the monotonic clock, the double comparison and the
 * problem callbacks of the checks, once for the whole library instead of a private copy in each
 * file that sorts, keeps a deadline or runs a check.
 */
#include "base_util.h"

#include <stdarg.h>
#include <stdio.h>
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

void mm_problem(void (*fn)(void *ctx, const char *msg), void *ctx, int *count,
                const char *fmt, ...)
{
    (*count)++;
    va_list ap;
    va_start(ap, fmt);
    if (fn) {
        char msg[MOEMAP_ERROR_MSG_MAX];
        vsnprintf(msg, sizeof msg, fmt, ap);
        fn(ctx, msg);
    }
    va_end(ap);
}
