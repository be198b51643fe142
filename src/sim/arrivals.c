/*
 * arrivals.c — request arrival traces for the serving simulator: readers for the Azure
 * LLM inference trace (CSV, wall-clock timestamps) and the Mooncake traces (JSONL,
 * milliseconds), Poisson and bursty generators, and windowing/rate scaling.
 *
 * The parsers work on memory buffers so the fuzz target can drive them; every malformed
 * line is an error naming the file and line, never a silently dropped request.
 */
#include "moemap/sim.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"

void moemap_arrivals_free(moemap_arrivals *a)
{
    if (!a)
        return;
    moemap_free(a->reqs);
    moemap_free(a);
}

/* A growable request array. */
typedef struct reqvec {
    moemap_arrivals *a;
    long cap;
} reqvec;

static int reqvec_init(reqvec *v, moemap_error *err)
{
    v->a = moemap_calloc(1, sizeof *v->a);
    v->cap = 0;
    if (!v->a)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for arrivals");
    return 0;
}

static int reqvec_push(reqvec *v, double t, long prompt, long output, moemap_error *err)
{
    if (v->a->n == v->cap) {
        long nc = v->cap ? v->cap * 2 : 1024;
        moemap_request *r = moemap_realloc(v->a->reqs, (size_t)nc * sizeof *r);
        if (!r)
            return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory for arrivals");
        v->a->reqs = r;
        v->cap = nc;
    }
    moemap_request *q = &v->a->reqs[v->a->n++];
    q->arrival_s = t;
    q->prompt_tokens = (int)prompt;
    q->output_tokens = (int)output;
    return 0;
}

static int cmp_arrival(const void *x, const void *y)
{
    const moemap_request *a = x, *b = y;
    return (a->arrival_s > b->arrival_s) - (a->arrival_s < b->arrival_s);
}

/* Sorts by time (traces are nearly sorted; ties keep no particular order, which is fine
 * since the simulator admits all requests of one instant together) and shifts so the
 * first request arrives at 0. */
static int finish(reqvec *v, const char *name, moemap_arrivals **out, moemap_error *err)
{
    moemap_arrivals *a = v->a;
    if (a->n == 0) {
        moemap_arrivals_free(a);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: no requests", name);
    }
    qsort(a->reqs, (size_t)a->n, sizeof *a->reqs, cmp_arrival);
    double t0 = a->reqs[0].arrival_s;
    for (long i = 0; i < a->n; i++)
        a->reqs[i].arrival_s -= t0;
    *out = a;
    return 0;
}

/* Token counts: 0 prompt tokens (seen in the traces) count as 1; outputs likewise. The
 * limit keeps the scheduler's int arithmetic safe. */
#define MAX_TOKENS 10000000L

static int check_tokens(long v, const char *name, long line, const char *what,
                        moemap_error *err)
{
    if (v < 0 || v > MAX_TOKENS)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld: %s %ld outside [0, %ld]", name,
                                line, what, v, MAX_TOKENS);
    return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly `n` digits at *p into *out. */
static int digits(const char **p, const char *end, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.fraction]" -> seconds since the epoch. */
static int parse_timestamp(const char *p, const char *end, double *out)
{
    long y, mo, d, h, mi, s;
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) ||
        p >= end || *p++ != '-' || digits(&p, end, 2, &d) || p >= end ||
        (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi) ||
        p >= end || *p++ != ':' || digits(&p, end, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    double frac = 0, scale = 0.1;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !isdigit((unsigned char)*p))
            return -1;
        while (p < end && isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale *= 0.1;
            p++;
        }
    }
    if (p != end)
        return -1;
    *out = (double)(days_from_civil(y, mo, d) * 86400L + h * 3600 + mi * 60 + s) + frac;
    return 0;
}

/* A non-negative integer field [p, end) with optional surrounding blanks. */
static int parse_count(const char *p, const char *end, long *out)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (p == end)
        return -1;
    long v = 0;
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p) || v > MAX_TOKENS)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

/* The next line of [*p, end) as [*ls, *le), without its '\n' and a '\r' before it (CRLF
 * files); *p moves past it. 0 when no line is left. */
static int next_line(const char **p, const char *end, const char **ls, const char **le)
{
    if (*p >= end)
        return 0;
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));
    if (!eol)
        eol = end;
    *ls = *p;
    *le = eol > *p && eol[-1] == '\r' ? eol - 1 : eol;
    *p = eol < end ? eol + 1 : end;
    return 1;
}

/* One line [ls, le) of a text trace (line numbers from 1) into v: 0, or an error naming
 * name:line. */
typedef int (*line_fn)(reqvec *v, const char *name, long line, const char *ls,
                       const char *le, moemap_error *err);

/* Both text traces are read line by line into one request vector, then finished. */
static int parse_lines(const char *buf, size_t len, const char *name, line_fn fn,
                       moemap_arrivals **out, moemap_error *err)
{
    reqvec v;
    int rc = reqvec_init(&v, err);
    if (rc)
        return rc;
    const char *p = buf, *end = buf + len, *ls, *le;
    long line = 0;
    while (!rc && next_line(&p, end, &ls, &le))
        rc = fn(&v, name, ++line, ls, le, err);
    if (rc) {
        moemap_arrivals_free(v.a);
        return rc;
    }
    return finish(&v, name, out, err);
}

/* Azure: "TIMESTAMP,ContextTokens,GeneratedTokens" rows after an optional header. */
static int azure_line(reqvec *v, const char *name, long line, const char *ls, const char *le,
                      moemap_error *err)
{
    if (le == ls)
        return 0; /* blank line */
    if (line == 1 && !isdigit((unsigned char)*ls)) {
        /* Header: must name the three columns, in the trace's order. */
        if ((size_t)(le - ls) < 9 || strncmp(ls, "TIMESTAMP", 9) != 0)
            return moemap_error_set(err, MOEMAP_EPARSE,
                                    "%s:1: expected the header "
                                    "TIMESTAMP,ContextTokens,GeneratedTokens",
                                    name);
        return 0;
    }
    const char *c1 = memchr(ls, ',', (size_t)(le - ls));
    const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(le - c1 - 1)) : NULL;
    if (!c2 || memchr(c2 + 1, ',', (size_t)(le - c2 - 1)))
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: expected 3 comma-separated fields", name, line);
    double t;
    long prompt, output;
    if (parse_timestamp(ls, c1, &t))
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: bad timestamp (expected YYYY-MM-DD HH:MM:SS.f)",
                                name, line);
    if (parse_count(c1 + 1, c2, &prompt) || parse_count(c2 + 1, le, &output))
        return moemap_error_set(err, MOEMAP_EPARSE,
                                "%s:%ld: token counts must be non-negative integers", name,
                                line);
    int rc;
    if ((rc = check_tokens(prompt, name, line, "ContextTokens", err)) ||
        (rc = check_tokens(output, name, line, "GeneratedTokens", err)))
        return rc;
    return reqvec_push(v, t, prompt > 0 ? prompt : 1, output > 0 ? output : 1, err);
}

int moemap_arrivals_parse_azure(const char *buf, size_t len, const char *name,
                                moemap_arrivals **out, moemap_error *err)
{
    return parse_lines(buf, len, name, azure_line, out, err);
}

/* Mooncake: one JSON object per line with timestamp (ms), input_length, output_length. */
static int mooncake_line(reqvec *v, const char *name, long line, const char *ls,
                         const char *le, moemap_error *err)
{
    const char *q = ls;
    while (q < le && isspace((unsigned char)*q))
        q++;
    if (q == le)
        return 0; /* blank line */
    char where[600];
    snprintf(where, sizeof where, "%.400s:%ld", name, line);
    moemap_error jerr = {0};
    json_t *obj = mm_json_load_buffer(ls, (size_t)(le - ls), where, &jerr);
    if (!obj)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s", jerr.msg);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a JSON object", where);
    }
    double ts;
    long in, outl;
    int rc = mm_json_get_num(obj, "timestamp", where, 0, 1e12, &ts, err);
    if (!rc)
        rc = mm_json_get_int(obj, "input_length", where, 0, MAX_TOKENS, &in, err);
    if (!rc)
        rc = mm_json_get_int(obj, "output_length", where, 0, MAX_TOKENS, &outl, err);
    json_decref(obj);
    if (rc)
        return rc;
    return reqvec_push(v, ts / 1000.0, in > 0 ? in : 1, outl > 0 ? outl : 1, err);
}

int moemap_arrivals_parse_mooncake(const char *buf, size_t len, const char *name,
                                   moemap_arrivals **out, moemap_error *err)
{
    return parse_lines(buf, len, name, mooncake_line, out, err);
}

int moemap_arrivals_read(const char *path, moemap_arrivals **out, moemap_error *err)
{
    /* The input gate: size limit, no devices (/dev/zero used to grow without end). */
    char *buf;
    size_t len;
    int rc = moemap_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    size_t i = 0;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    /* Another moemap file (a placement, a cluster) is named as such, not reported as a
     * syntax error of a JSONL line. */
    json_t *whole = i < len && buf[i] == '{' ? json_loadb(buf, len, 0, NULL) : NULL;
    json_t *fmt = json_object_get(whole, "format");
    if (json_is_string(fmt))
        rc = moemap_error_set(err, MOEMAP_EFORMAT,
                              "%s: format is \"%s\", not an arrivals trace (Azure CSV or "
                              "Mooncake JSONL)", path, json_string_value(fmt));
    json_decref(whole);
    if (rc) {
        moemap_free(buf);
        return rc;
    }
    if (i < len && buf[i] == '{')
        rc = moemap_arrivals_parse_mooncake(buf, len, path, out, err);
    else
        rc = moemap_arrivals_parse_azure(buf, len, path, out, err);
    moemap_free(buf);
    return rc;
}

int moemap_arrivals_generate(moemap_arrival_process proc, double rate, double duration_s,
                             const moemap_arrivals *lengths, int prompt_tokens,
                             int output_tokens, uint64_t seed, moemap_arrivals **out,
                             moemap_error *err)
{
    if (!(rate > 0) || !isfinite(rate) || rate > 1e6)
        return moemap_error_set(err, MOEMAP_EINVAL, "arrival rate %g must be in (0, 1e6]",
                                rate);
    if (!(duration_s > 0) || !isfinite(duration_s) || rate * duration_s > 5e7)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "duration %g s must be positive (and rate x duration <= 5e7)",
                                duration_s);
    if (!lengths && (prompt_tokens < 1 || output_tokens < 1))
        return moemap_error_set(err, MOEMAP_EINVAL, "prompt and output lengths must be >= 1");
    if (lengths && lengths->n < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "length source has no requests");
    moemap_rng rng;
    moemap_rng_seed(&rng, seed);
    reqvec v;
    int rc = reqvec_init(&v, err);
    if (rc)
        return rc;
    /* Bursty: a balanced two-phase hyper-exponential with squared CV 9: with probability
     * p the gap has mean 1/(2 p rate), else 1/(2 (1-p) rate); mean gap stays 1/rate. */
    const double cv2 = 9.0;
    const double p = 0.5 * (1.0 - sqrt((cv2 - 1.0) / (cv2 + 1.0)));
    double t = 0;
    for (;;) {
        double gap;
        if (proc == MOEMAP_ARRIVALS_BURSTY) {
            double r = moemap_rng_uniform(&rng) < p ? 2.0 * p * rate : 2.0 * (1.0 - p) * rate;
            gap = moemap_rng_exponential(&rng, r);
        } else {
            gap = moemap_rng_exponential(&rng, rate);
        }
        t += gap;
        if (t >= duration_s)
            break;
        long pr = prompt_tokens, ou = output_tokens;
        if (lengths) {
            const moemap_request *src = &lengths->reqs[moemap_rng_below(&rng, (uint64_t)lengths->n)];
            pr = src->prompt_tokens;
            ou = src->output_tokens;
        }
        if ((rc = reqvec_push(&v, t, pr, ou, err))) {
            moemap_arrivals_free(v.a);
            return rc;
        }
    }
    if (v.a->n == 0) {
        moemap_arrivals_free(v.a);
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "rate %g over %g s generated no request", rate, duration_s);
    }
    *out = v.a;
    return 0;
}

int moemap_arrivals_window(const moemap_arrivals *a, double duration_s, double rate_scale,
                           moemap_arrivals **out, moemap_error *err)
{
    if (!(rate_scale > 0) || !isfinite(rate_scale))
        return moemap_error_set(err, MOEMAP_EINVAL, "rate scale %g must be positive",
                                rate_scale);
    reqvec v;
    int rc = reqvec_init(&v, err);
    if (rc)
        return rc;
    for (long i = 0; i < a->n; i++) {
        double t = a->reqs[i].arrival_s / rate_scale;
        if (duration_s > 0 && t >= duration_s)
            break;
        if ((rc = reqvec_push(&v, t, a->reqs[i].prompt_tokens, a->reqs[i].output_tokens,
                              err))) {
            moemap_arrivals_free(v.a);
            return rc;
        }
    }
    if (v.a->n == 0) {
        moemap_arrivals_free(v.a);
        return moemap_error_set(err, MOEMAP_EINVAL, "no request arrives within %g s",
                                duration_s);
    }
    *out = v.a;
    return 0;
}

int moemap_arrivals_find(const char *name, char *path, size_t size, moemap_error *err)
{
    static const char *const names[][2] = {
        {"azure-conv", "azure-llm-2023/data/AzureLLMInferenceTrace_conv.csv"},
        {"azure-code", "azure-llm-2023/data/AzureLLMInferenceTrace_code.csv"},
        {"mooncake-conv", "mooncake/FAST25-release/traces/conversation_trace.jsonl"},
        {"mooncake-synth", "mooncake/FAST25-release/traces/synthetic_trace.jsonl"}};
    const char *rel = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i][0]))
            rel = names[i][1];
    if (!rel) {
        if (strlen(name) >= size)
            return moemap_error_set(err, MOEMAP_EINVAL, "%.64s...: path too long", name);
        memcpy(path, name, strlen(name) + 1);
        return 0;
    }
    char roots[3][1024];
    int nr = 0;
    const char *env = getenv("MOEMAP_DATA");
    if (env && *env)
        snprintf(roots[nr++], sizeof roots[0], "%.1000s", env);
    snprintf(roots[nr++], sizeof roots[0], "../shared/data");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = 0;
        snprintf(roots[nr++], sizeof roots[0], "%.900s/../../shared/data", exe);
    }
    struct stat st;
    for (int i = 0; i < nr; i++) {
        char buf[1400];
        snprintf(buf, sizeof buf, "%.1000s/%.200s", roots[i], rel);
        if (stat(buf, &st) == 0 && strlen(buf) < size) {
            memcpy(path, buf, strlen(buf) + 1);
            return 0;
        }
    }
    return moemap_error_set(err, MOEMAP_EIO, "trace '%s' not found under $MOEMAP_DATA, "
                            "../shared/data or ../../shared/data from the binary; set "
                            "MOEMAP_DATA or pass a file to --arrivals", name);
}
