/*
 * harness.h — the in-tree test harness: TAP-style "ok N - name" lines, assertions that
 * print both operands, a closing "N passed, N failed" line, exit 77 for skips (ctest's
 * SKIP_RETURN_CODE), and helpers to find the real data in ../shared/data.
 *
 * Usage: TEST(name) { CHECK(...); } and in main: RUN(name); ... return mm_test_done();
 */
#ifndef MOEMAP_TEST_HARNESS_H
#define MOEMAP_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int mm_tests_run, mm_tests_failed, mm_current_failed;

#define TEST(name) static void name(void)

#define MM_FAIL_(...)                                              \
    do {                                                           \
        fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);     \
        fprintf(stderr, __VA_ARGS__);                              \
        fprintf(stderr, "\n");                                     \
        mm_current_failed = 1;                                     \
    } while (0)

#define CHECK(cond)                                                \
    do {                                                           \
        if (!(cond))                                               \
            MM_FAIL_("CHECK(%s)", #cond);                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                          \
    do {                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                         \
        if (a_ != b_)                                                               \
            MM_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                       \
    do {                                                                            \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);              \
        if (!(fabs(a_ - b_) <= t_))                                                 \
            MM_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, t_);         \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                             \
    do {                                                                            \
        const char *h_ = (hay), *n_ = (needle);                                     \
        if (!h_ || !strstr(h_, n_))                                                 \
            MM_FAIL_("\"%s\" should contain \"%s\"", h_ ? h_ : "(null)", n_);       \
    } while (0)

/* A library call expected to succeed: prints the error message when it does not. */
#define CHECK_OK(call, errp)                                                        \
    do {                                                                            \
        int rc_ = (call);                                                           \
        if (rc_ != 0)                                                               \
            MM_FAIL_("%s returned %d: %s", #call, rc_, (errp)->msg);                \
    } while (0)

/* Stops the current test (after a failure that makes the rest meaningless). */
#define REQUIRE(cond)                                                               \
    do {                                                                            \
        if (!(cond)) {                                                              \
            MM_FAIL_("REQUIRE(%s)", #cond);                                         \
            return;                                                                 \
        }                                                                           \
    } while (0)

static void mm_run_test(const char *name, void (*fn)(void))
{
    mm_current_failed = 0;
    fn();
    mm_tests_run++;
    if (mm_current_failed)
        mm_tests_failed++;
    printf("%s %d - %s\n", mm_current_failed ? "not ok" : "ok", mm_tests_run, name);
    fflush(stdout);
}
#define RUN(name) mm_run_test(#name, name)

static int mm_test_done(void)
{
    printf("%d passed, %d failed\n", mm_tests_run - mm_tests_failed, mm_tests_failed);
    return mm_tests_failed ? 1 : 0;
}

/* Skips the whole test binary (ctest reports it as skipped, never as passed). */
#define SKIP_ALL(reason)                                                            \
    do {                                                                            \
        printf("# SKIP %s\n", reason);                                              \
        exit(77);                                                                   \
    } while (0)

/* Path of a file under the real data folder (MOEMAP_DATA, else ../shared/data). The
 * data is part of the test contract: when it is missing the test fails loudly. */
__attribute__((unused)) static const char *mm_data_path(const char *rel)
{
    static char buf[8][4096];
    static int next;
    const char *root = getenv("MOEMAP_DATA");
    if (!root || !*root)
        root = "../shared/data";
    char *out = buf[next++ % 8];
    snprintf(out, sizeof buf[0], "%s/%s", root, rel);
    struct stat st;
    if (stat(out, &st) != 0) {
        fprintf(stderr, "FATAL: real test data not found: %s (this test needs ../shared/data "
                        "beside the checkout, or MOEMAP_DATA)\n", out);
        exit(1);
    }
    return out;
}

/* A scratch directory for files a test writes (created on demand). */
__attribute__((unused)) static const char *mm_tmp_path(const char *name)
{
    static char buf[8][4096];
    static int next;
    const char *root = getenv("MOEMAP_TEST_TMP");
    if (!root || !*root)
        root = "/tmp/moemap-test";
    mkdir(root, 0777);
    char *out = buf[next++ % 8];
    snprintf(out, sizeof buf[0], "%s/%s", root, name);
    return out;
}

#endif
