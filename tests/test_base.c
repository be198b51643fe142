/*
 * test_base.c — unit tests of the base layer: status table, error messages, allocation
 * failure injection, RNG determinism and distributions, quantiles.
 */
#include "harness.h"
#include "moemap/base.h"

TEST(status_table)
{
    CHECK(strcmp(moemap_status_name(MOEMAP_EPARSE), "EPARSE") == 0);
    CHECK(strcmp(moemap_status_message(MOEMAP_OK), "ok") == 0);
    CHECK(strcmp(moemap_status_name(12345), "UNKNOWN") == 0);
}

TEST(error_messages)
{
    moemap_error err = {0};
    int rc = moemap_error_set(&err, MOEMAP_ERANGE, "trace.txt:%d: expert %d >= %d", 42, 300, 256);
    CHECK_INT_EQ(rc, MOEMAP_ERANGE);
    CHECK_INT_EQ(err.code, MOEMAP_ERANGE);
    CHECK(strcmp(err.msg, "trace.txt:42: expert 300 >= 256") == 0);
    moemap_error_prefix(&err, "loading %s", "law");
    CHECK(strcmp(err.msg, "loading law: trace.txt:42: expert 300 >= 256") == 0);
    CHECK_INT_EQ(moemap_error_set(NULL, MOEMAP_EIO, "x"), MOEMAP_EIO);
    /* Quoted input with control bytes still gives a one-line message. */
    moemap_error_set(&err, MOEMAP_EPARSE, "f.json:1:6: invalid escape near '%s'", "\"for\\\n");
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK_STR_CONTAINS(err.msg, "invalid escape near");
}

TEST(alloc_failure_injection)
{
    moemap_alloc_fail_after(1);
    void *a = moemap_malloc(8);
    void *b = moemap_malloc(8);
    void *c = moemap_calloc(2, 8);
    moemap_alloc_fail_after(-1);
    void *d = moemap_malloc(8);
    CHECK(a != NULL);
    CHECK(b == NULL);
    CHECK(c == NULL);
    CHECK(d != NULL);
    moemap_free(a);
    moemap_free(d);
    moemap_free(NULL);
}

TEST(rng_deterministic_and_uniform)
{
    moemap_rng r1, r2;
    moemap_rng_seed(&r1, 7);
    moemap_rng_seed(&r2, 7);
    for (int i = 0; i < 100; i++)
        CHECK(moemap_rng_next(&r1) == moemap_rng_next(&r2));
    double sum = 0, sq = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = moemap_rng_uniform(&r1);
        CHECK(u >= 0 && u < 1);
        sum += u;
        double z = moemap_rng_normal(&r2);
        sq += z * z;
    }
    CHECK_NEAR(sum / n, 0.5, 0.01);
    CHECK_NEAR(sq / n, 1.0, 0.02);
    long tot = 0;
    for (int i = 0; i < 20000; i++)
        tot += moemap_rng_poisson(&r1, 3.5);
    CHECK_NEAR(tot / 20000.0, 3.5, 0.1);
    for (int i = 0; i < 1000; i++)
        CHECK(moemap_rng_below(&r1, 7) < 7);
}

TEST(quantiles)
{
    double x[] = {5, 1, 4, 2, 3};
    CHECK_NEAR(moemap_quantile(x, 5, 0.5), 3, 1e-12);
    CHECK_NEAR(moemap_quantile(x, 5, 0.0), 1, 1e-12);
    CHECK_NEAR(moemap_quantile(x, 5, 1.0), 5, 1e-12);
    CHECK_NEAR(moemap_quantile(x, 5, 0.9), 4.6, 1e-12);
    CHECK_NEAR(moemap_mean(x, 5), 3, 1e-12);
    CHECK(x[0] == 5); /* input untouched */
}

int main(void)
{
    RUN(status_table);
    RUN(error_messages);
    RUN(alloc_failure_injection);
    RUN(rng_deterministic_and_uniform);
    RUN(quantiles);
    return mm_test_done();
}
