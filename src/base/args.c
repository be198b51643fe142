/*
 * args.c — the rules every command of the command-line tool shares about its files,
 * kept in the library so that no command (and no other front end) can forget them: an
 * output that is the same file as one of the inputs is found before any work, and so is
 * standard input given to two inputs or standard output to two outputs; temporary
 * files are removed on a signal; sizes are read as bytes with K, M, G or T; numbers,
 * lists and "GPU=VALUE" typed by a user are read strictly, saying what is wrong.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/io.h"

/* Options whose value is a file the command writes. Every other argument may be an
 * input (a positional file or a flag's value), so an output is compared with all. */
static const char *const output_flags[] = {"--out", "-o", "--export", "--plan"};
#define NUM_OUTPUT_FLAGS 4

/* The output path argv[i] names, or NULL ("--out X", "--out=X", "-oX"); *skip is set
 * when the path is the next argument. */
static const char *output_of(char **argv, int i, int argc, const char *const *extra, int *skip)
{
    const char *a = argv[i];
    *skip = 0;
    for (int k = 0;; k++) {
        const char *flag = k < NUM_OUTPUT_FLAGS ? output_flags[k]
                           : extra               ? extra[k - NUM_OUTPUT_FLAGS]
                                                 : NULL;
        if (!flag)
            return NULL;
        size_t n = strlen(flag);
        if (strncmp(a, flag, n) != 0)
            continue;
        const char *v = NULL;
        if (a[n] == '\0' && i + 1 < argc) {
            *skip = 1;
            v = argv[i + 1];
        } else if (a[n] == '=' && flag[1] == '-') {
            v = a + n + 1;
        } else if (a[n] != '\0' && flag[1] != '-') {
            v = a + n; /* -oFILE */
        }
        if (v && !strcmp(flag, "--export") && strchr(v, '=')) /* --export FORMAT=FILE */
            v = strchr(v, '=') + 1;
        if (v)
            return v;
    }
}

/* Whether an argument that is not an output reads standard input: "-" itself, a flag's
 * value glued to it ("--loads=-", "-l-") or a file inside a value ("switch@10=-"). */
static int reads_stdin(const char *a)
{
    size_t n = strlen(a);
    return !strcmp(a, "-") || (n >= 2 && a[n - 2] == '=' && a[n - 1] == '-') ||
           (n == 3 && a[0] == '-' && a[1] != '-' && a[2] == '-');
}

/* argv[i] as a user would find it in the command line: with its flag when it is a
 * flag's value ("--loads -", "--export sglang=-"), else the argument itself. */
static void name_arg(char **argv, int i, char *dst, size_t size)
{
    if ((argv[i][0] != '-' || !argv[i][1]) && i > 1 && argv[i - 1][0] == '-' && argv[i - 1][1])
        snprintf(dst, size, "%s %s", argv[i - 1], argv[i]);
    else
        snprintf(dst, size, "%s", argv[i]);
}

/* Standard input and output are one stream each: at most one input reads "-" (a second
 * would find it empty), at most one output writes "-", and --json (which prints on
 * standard output) takes none. */
static int std_streams(int argc, char **argv, const char *const *extra, char *why, size_t size)
{
    int in_at = 0, out_at = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        int skip;
        const char *o = output_of(argv, i, argc, extra, &skip);
        char a[256], b[256];
        json |= !strcmp(argv[i], "--json");
        if (o && strcmp(o, "-")) {
            i += skip;
        } else if (o && out_at) {
            name_arg(argv, out_at, a, sizeof a);
            name_arg(argv, i + skip, b, sizeof b);
            snprintf(why, size, "%s and %s: both write to standard output; give '-' to one "
                     "output only", a, b);
            return 1;
        } else if (o) {
            out_at = i += skip;
        } else if (reads_stdin(argv[i]) && in_at) {
            name_arg(argv, in_at, a, sizeof a);
            name_arg(argv, i, b, sizeof b);
            snprintf(why, size, "%s and %s: both read standard input, which can be read once; "
                     "give '-' to one input only", a, b);
            return 1;
        } else if (reads_stdin(argv[i])) {
            in_at = i;
        }
    }
    if (json && out_at) {
        char a[256];
        name_arg(argv, out_at, a, sizeof a);
        snprintf(why, size, "--json prints on standard output, so %s cannot write there too "
                 "(give it a FILE)", a);
        return 1;
    }
    return 0;
}

int moemap_args_stdout_output(int argc, char **argv, const char *const *extra_outputs)
{
    for (int i = 1; i < argc; i++) {
        int skip;
        const char *o = output_of(argv, i, argc, extra_outputs, &skip);
        if (o && !strcmp(o, "-"))
            return 1;
        i += skip;
    }
    return 0;
}

int moemap_args_output_clash(int argc, char **argv, const char *const *extra_outputs,
                             char *why, size_t size)
{
    if (std_streams(argc, argv, extra_outputs, why, size))
        return 1;
    for (int i = 1; i < argc; i++) {
        int skip;
        const char *o = output_of(argv, i, argc, extra_outputs, &skip);
        if (!o || !strcmp(o, "-"))
            continue;
        for (int j = 1; j < argc; j++) {
            if (j == i || (skip && j == i + 1))
                continue;
            int s2;
            const char *oo = output_of(argv, j, argc, extra_outputs, &s2);
            const char *cand = oo ? oo : argv[j];
            if (!oo && !strncmp(cand, "--", 2) && strchr(cand, '='))
                cand = strchr(cand, '=') + 1; /* --loads=FILE */
            if (!strcmp(cand, "-") || cand == o)
                continue;
            if (moemap_same_file(o, cand) || (oo && !strcmp(oo, o))) {
                /* The flag as typed, without "=FILE" or a glued "-oFILE" value. */
                int flen = argv[i][1] == '-' ? (int)strcspn(argv[i], "=") : 2;
                snprintf(why, size, "%.*s %s is also %s %s; refusing to overwrite a file the "
                         "command uses", flen, argv[i], o, oo ? "the output" : "the input",
                         cand);
                return 1;
            }
        }
    }
    return 0;
}

static void on_signal(int sig)
{
    moemap_outputs_on_signal();
    signal(sig, SIG_DFL);
    raise(sig);
}

void moemap_outputs_catch_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

uint64_t moemap_parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return 0;
    const char *units = "KMGT", *u = *end ? strchr(units, *end & ~0x20) : NULL;
    unsigned long long mul = u ? 1ULL << (10 * (u - units + 1)) : 1;
    end += u != NULL;
    if (*end || v > (~0ULL) / mul)
        return 0;
    return v * mul;
}

int moemap_parse_long(const char *s, long lo, long hi, long *out, char *why, size_t size)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno)
        return snprintf(why, size, "'%s' is not an integer", s ? s : ""), -1;
    if (v < lo || v > hi)
        return snprintf(why, size, "%ld is outside [%ld, %ld]", v, lo, hi), -1;
    *out = v;
    return 0;
}

int moemap_parse_double(const char *s, double lo, double hi, double *out, char *why,
                        size_t size)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v))
        return snprintf(why, size, "'%s' is not a number", s ? s : ""), -1;
    if (v < lo || v > hi)
        return snprintf(why, size, "%g is outside [%g, %g]", v, lo, hi), -1;
    *out = v;
    return 0;
}

int moemap_parse_list(const char *s, int ints, long lo, long hi, double **out, int *n,
                      char *why, size_t size)
{
    int cap = 1, k = 0, rc = 0;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    double *v = moemap_malloc((size_t)cap * sizeof *v);
    char *copy = moemap_malloc(strlen(s) + 1), *save = NULL;
    if (!v || !copy)
        rc = (snprintf(why, size, "out of memory"), -1);
    else
        strcpy(copy, s);
    for (char *t = rc ? NULL : strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        rc = moemap_parse_double(t, -1e300, 1e300, &v[k], why, size);
        if (!rc && ints && (v[k] != floor(v[k]) || v[k] < lo || v[k] > hi))
            rc = (snprintf(why, size, "%g is not an integer in %ld..%ld", v[k], lo, hi), -1);
        k++;
    }
    if (!rc && k == 0)
        rc = (snprintf(why, size, "empty list"), -1);
    moemap_free(copy);
    if (rc)
        return moemap_free(v), rc;
    *out = v;
    *n = k;
    return 0;
}

int moemap_parse_gpu_value(const char *s, int max_gpu, double lo, double hi, int *gpu,
                           double *value, char *why, size_t size)
{
    const char *eq = strchr(s, '=');
    char head[32], part[128];
    long g;
    if (!eq || eq == s || (size_t)(eq - s) >= sizeof head)
        return snprintf(why, size, "'%s' is not GPU=VALUE", s), -1;
    memcpy(head, s, (size_t)(eq - s));
    head[eq - s] = '\0';
    if (moemap_parse_long(head, 0, max_gpu, &g, part, sizeof part))
        return snprintf(why, size, "GPU: %s", part), -1;
    if (moemap_parse_double(eq + 1, lo, hi, value, part, sizeof part))
        return snprintf(why, size, "VALUE: %s", part), -1;
    *gpu = (int)g;
    return 0;
}

char *moemap_args_join(const char *first, int argc, char **argv)
{
    size_t len = strlen(first) + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = moemap_malloc(len);
    if (!s)
        return NULL;
    strcpy(s, first);
    for (int i = 0; i < argc; i++)
        strcat(strcat(s, " "), argv[i]);
    return s;
}
