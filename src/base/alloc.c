/*
 * alloc.c — the library's allocation functions. They exist so that tests can inject
 * allocation failures (the n-th allocation and every later one fails) and check that
 * every code path reports MOEMAP_ENOMEM instead of crashing, as SQLite and libuv do.
 */
#include "moemap/base.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1; /* < 0: injection off (test hook only) */

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

void moemap_alloc_fail_after(long n)
{
    fail_countdown = n;
}

void *moemap_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *moemap_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    return calloc(count, size);
}

void *moemap_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void moemap_free(void *ptr)
{
    free(ptr);
}

char *moemap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = moemap_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
