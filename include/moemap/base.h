/*
 * moemap/base.h — status codes, error messages, RNG and small utilities shared by
 * every layer of libmoemap.
 *
 * Every fallible library function returns an int status: 0 (MOEMAP_OK) on success, a
 * negative MOEMAP_E* code on failure. Such functions take a trailing `moemap_error *err`
 * (may be NULL) into which they write a human-readable message that names the input
 * ("trace.txt:42: expert 300 >= 256 experts"). The library never prints.
 */
#ifndef MOEMAP_BASE_H
#define MOEMAP_BASE_H

#include <stddef.h>
#include <stdint.h>

/* Symbol export. libmoemap.so is built with hidden visibility by default, so only what
 * the public headers declare is exported: MOEMAP_API marks one declaration, and
 * MOEMAP_API_BEGIN / MOEMAP_API_END bracket a header's declarations (every public header
 * does this). Internal functions (src/, place_*, mm_json_*, ...) stay out of the ABI:
 * hidden in libmoemap.so, made local in libmoemap.a (docs/api.md, "Symbols"). */
#if defined(__GNUC__) || defined(__clang__)
#define MOEMAP_API __attribute__((visibility("default")))
#define MOEMAP_API_BEGIN _Pragma("GCC visibility push(default)")
#define MOEMAP_API_END _Pragma("GCC visibility pop")
#else
#define MOEMAP_API
#define MOEMAP_API_BEGIN
#define MOEMAP_API_END
#endif

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* One X-macro table generates the status enum, its names and its default messages. */
#define MOEMAP_STATUS_MAP(X)                                        \
    X(OK, 0, "ok")                                                  \
    X(EINVAL, -1, "invalid argument")                               \
    X(ENOMEM, -2, "out of memory")                                  \
    X(EIO, -3, "input/output error")                                \
    X(EPARSE, -4, "malformed input")                                \
    X(ERANGE, -5, "value out of range")                             \
    X(EFORMAT, -6, "unsupported or unrecognised format")            \
    X(EINFEASIBLE, -7, "request cannot be satisfied")               \
    X(ENOTSUP, -8, "not supported in this build")                   \
    X(EGPU, -9, "GPU error")                                        \
    X(ELIMIT, -10, "time or iteration limit reached")

typedef enum {
#define MOEMAP_STATUS_ENUM_(name, code, msg) MOEMAP_##name = code,
    MOEMAP_STATUS_MAP(MOEMAP_STATUS_ENUM_)
#undef MOEMAP_STATUS_ENUM_
} moemap_status;

/* The symbolic name ("EPARSE") and the default message of a status code. */
const char *moemap_status_name(int status);
const char *moemap_status_message(int status);

/* An error report filled in by library calls. Zero-initialise it before use
 * (moemap_error err = {0};). `code` is the status, `msg` the full message. */
#define MOEMAP_ERROR_MSG_MAX 512
typedef struct moemap_error {
    int code;                        /* last status written, 0 when none */
    char msg[MOEMAP_ERROR_MSG_MAX];  /* message naming where and what */
} moemap_error;

/* Records `code` and a printf-style message in err (if err is non-NULL) and returns
 * `code`, so callers can write `return moemap_error_set(err, MOEMAP_EPARSE, ...)`. */
int moemap_error_set(moemap_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to an existing message (used to add a file name or context). */
void moemap_error_prefix(moemap_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The one progress callback of every long call (moemap_place, moemap_simulate,
 * moemap_report_write, moemap_exec_run, moemap_profile_gpus): their params carry
 * `moemap_progress_fn progress` (NULL = none) and `void *progress_ctx`, passed back as
 * ctx. `what` names the work being counted ("layers", "arrivals", "charts", "steps", or
 * a GPU and phase while profiling; never NULL, valid during the call only); `done` of
 * `total` units are finished (total > 0). Calls come one at a time, but possibly from a
 * worker thread (each params comment says which); the callback must not call back into
 * the same computation. */
typedef void (*moemap_progress_fn)(void *ctx, const char *what, long done, long total);

/* Always-on assertion for moemap's own invariants (never for user input): prints
 * file:line and aborts. User input errors must go through moemap_error_set instead. */
void moemap_assert_fail_(const char *expr, const char *file, int line);
#define MOEMAP_ASSERT(expr) \
    ((expr) ? (void)0 : moemap_assert_fail_(#expr, __FILE__, __LINE__))

/* Allocation. All library allocations go through these so that tests can make them fail
 * (moemap_alloc_fail_after). They return NULL on failure; callers report MOEMAP_ENOMEM. */
void *moemap_malloc(size_t size);
void *moemap_calloc(size_t count, size_t size);
void *moemap_realloc(void *ptr, size_t size);
void moemap_free(void *ptr);
char *moemap_strdup(const char *s);
/* Test hook: the n-th allocation from now (0 = the next one) and every later one fails;
 * n < 0 switches failure injection off. Not thread-safe; for tests only. */
void moemap_alloc_fail_after(long n);

/* A small, fast, seedable RNG (xoshiro256**). Deterministic for a seed on every
 * platform; one state per user, no global state. */
typedef struct moemap_rng {
    uint64_t s[4];
} moemap_rng;
void moemap_rng_seed(moemap_rng *rng, uint64_t seed);
uint64_t moemap_rng_next(moemap_rng *rng);
double moemap_rng_uniform(moemap_rng *rng);             /* in [0, 1) */
double moemap_rng_normal(moemap_rng *rng);              /* standard normal */
uint64_t moemap_rng_below(moemap_rng *rng, uint64_t n); /* uniform in [0, n), n > 0 */
double moemap_rng_exponential(moemap_rng *rng, double rate);
long moemap_rng_poisson(moemap_rng *rng, double mean);

/* Statistics helpers over double arrays (the input is not modified). */
double moemap_quantile(const double *x, size_t n, double q); /* linear interpolation */
double moemap_mean(const double *x, size_t n);

/* Library version string, e.g. "0.1.0". */
const char *moemap_version(void);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
