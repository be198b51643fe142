/*
 * variability.c — a GPU population from real variability measurements: per-GPU speeds
 * from a CSV of benchmark runs on many nominally identical GPUs (the PAL / SC'22 data:
 * TACC Longhorn V100s, Frontera RTX 5000s, Lonestar6 A100s).
 *
 * Each row is one run: a GPU id (column "uuid", or "GPU_UUID" in 32gpu-variability.csv)
 * and a time (column "perf" by default; lower is faster). A GPU's time is the median of
 * its runs, robust to the odd slow run; GPUs with too few runs are dropped because their
 * median is mostly noise. Speed = reference time / GPU time, the reference being the
 * population's median GPU (so a measured profile stands for a typical GPU, and the
 * population has speeds on both sides of 1) or its fastest GPU.
 */
#include "moemap/cluster.h"
#include "moemap/io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base_util.h"

typedef struct run {
    char *uuid;
    double perf;
} run;

typedef struct run_vec {
    run *v;
    size_t n, cap;
} run_vec;

/* Splits a CSV line in place into fields (double quotes and "" escapes honoured; a
 * trailing CR is dropped). Returns the number of fields, -1 on an unterminated quote. */
static int split_csv(char *line, char **fields, int max_fields)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    int nf = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',')
                *w++ = *p++;
        } else {
            while (*p && *p != ',')
                p++;
            w = p;
        }
        char sep = *p;
        *w = '\0';
        if (nf < max_fields)
            fields[nf] = start;
        nf++;
        if (sep == '\0')
            break;
        p++;
    }
    return nf;
}

static int cmp_run(const void *a, const void *b)
{
    const run *x = a, *y = b;
    int c = strcmp(x->uuid, y->uuid);
    if (c)
        return c;
    return (x->perf > y->perf) - (x->perf < y->perf);
}

void moemap_gpu_population_free(moemap_gpu_population *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        moemap_free(p->uuid[i]);
    moemap_free(p->uuid);
    moemap_free(p->runs);
    moemap_free(p->time);
    moemap_free(p->speed);
    moemap_free(p->cv);
    moemap_free(p);
}

static void free_runs(run_vec *r)
{
    for (size_t i = 0; i < r->n; i++)
        moemap_free(r->v[i].uuid);
    moemap_free(r->v);
}

#define MAX_FIELDS 256

/* Reads every data row of the file into runs. */
static int read_runs(FILE *f, const char *path, const char *column, run_vec *runs,
                     int *rows, moemap_error *err)
{
    char *line = NULL, *fields[MAX_FIELDS];
    size_t cap = 0;
    int rc = 0, lineno = 1, id_col = -1, perf_col = -1, ncols;
    if (getline(&line, &cap, f) < 0) {
        free(line);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: empty file (expected a CSV header "
                                "line)", path);
    }
    ncols = split_csv(line, fields, MAX_FIELDS);
    if (ncols < 0 || ncols > MAX_FIELDS) {
        free(line);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s:1: bad CSV header (unterminated "
                                "quote or more than %d columns)", path, MAX_FIELDS);
    }
    for (int i = 0; i < ncols; i++) {
        if (id_col < 0 && (!strcmp(fields[i], "uuid") || !strcmp(fields[i], "GPU_UUID")))
            id_col = i;
        if (perf_col < 0 && !strcmp(fields[i], column))
            perf_col = i;
    }
    if (id_col < 0 || perf_col < 0) {
        /* Name the columns that exist so the user can pick one. */
        char list[300] = "";
        size_t used = 0;
        for (int i = 0; i < ncols && used + 4 < sizeof list; i++) {
            int k = snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "", fields[i]);
            used += k > 0 ? (size_t)k : 0;
        }
        rc = moemap_error_set(err, MOEMAP_EFORMAT, "%s:1: no %s column \"%s\" (columns: "
                              "%.200s)", path, id_col < 0 ? "GPU id" : "time",
                              id_col < 0 ? "uuid" : column, list);
        free(line);
        return rc;
    }
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n') || line[0] == '\0')
            continue;
        int nf = split_csv(line, fields, MAX_FIELDS);
        if (nf != ncols) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s:%d: %d fields, the header has %d%s",
                                  path, lineno, nf, ncols,
                                  nf < 0 ? " (unterminated quote)" : "");
            break;
        }
        const char *id = fields[id_col], *ps = fields[perf_col];
        if (!*id) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s:%d: empty GPU id", path, lineno);
            break;
        }
        char *end;
        errno = 0;
        double v = strtod(ps, &end);
        if (!*ps || *end || errno || !isfinite(v) || v <= 0) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s:%d: %s \"%.40s\" is not a positive "
                                  "number", path, lineno, column, ps);
            break;
        }
        if (runs->n == runs->cap) {
            size_t nc = runs->cap ? 2 * runs->cap : 1024;
            run *nv = moemap_realloc(runs->v, nc * sizeof *nv);
            if (!nv) {
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s:%d: out of memory", path,
                                      lineno);
                break;
            }
            runs->v = nv;
            runs->cap = nc;
        }
        char *u = moemap_strdup(id);
        if (!u) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s:%d: out of memory", path, lineno);
            break;
        }
        runs->v[runs->n++] = (run){u, v};
    }
    if (!rc && ferror(f))
        rc = moemap_error_set(err, MOEMAP_EIO, "%s: read error", path);
    free(line);
    *rows = lineno - 1;
    return rc;
}

moemap_variability_params moemap_variability_default_params(void)
{
    return (moemap_variability_params){"perf", 3, MOEMAP_SPEED_MEDIAN};
}

int moemap_gpu_population_read(const char *path, const moemap_variability_params *params,
                               moemap_gpu_population **out, moemap_error *err)
{
    *out = NULL;
    const char *column = params && params->column ? params->column : "perf";
    int min_runs = params && params->min_runs > 0 ? params->min_runs : 3;
    moemap_speed_norm norm = params ? params->norm : MOEMAP_SPEED_MEDIAN;
    if (norm != MOEMAP_SPEED_MEDIAN && norm != MOEMAP_SPEED_FASTEST)
        return moemap_error_set(err, MOEMAP_EINVAL, "%s: unknown speed normalisation %d",
                                path, (int)norm);
    /* Through the input gate (size limit, no devices), then parsed from memory. */
    char *text;
    size_t text_len;
    int rc = moemap_read_file(path, &text, &text_len, err);
    if (rc)
        return rc;
    if (text_len == 0) {
        moemap_free(text);
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: empty file", path);
    }
    FILE *f = fmemopen(text, text_len, "r");
    if (!f) {
        moemap_free(text);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
    }
    run_vec runs = {0};
    int rows = 0;
    rc = read_runs(f, path, column, &runs, &rows, err);
    fclose(f);
    moemap_free(text);
    moemap_gpu_population *p = NULL;
    double *tmp = NULL;
    if (rc)
        goto done;
    if (runs.n == 0) {
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: no data rows", path);
        goto done;
    }
    qsort(runs.v, runs.n, sizeof *runs.v, cmp_run);
    size_t groups = 0;
    for (size_t i = 0; i < runs.n; i++)
        groups += i == 0 || strcmp(runs.v[i].uuid, runs.v[i - 1].uuid) != 0;
    p = moemap_calloc(1, sizeof *p);
    tmp = moemap_malloc(runs.n * sizeof *tmp);
    if (p) {
        p->uuid = moemap_calloc(groups, sizeof *p->uuid);
        p->runs = moemap_malloc(groups * sizeof *p->runs);
        p->time = moemap_malloc(groups * sizeof *p->time);
        p->speed = moemap_malloc(groups * sizeof *p->speed);
        p->cv = moemap_calloc(groups, sizeof *p->cv);
    }
    if (!p || !tmp || !p->uuid || !p->runs || !p->time || !p->speed || !p->cv) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    p->rows = rows;
    int most = 0;
    for (size_t i = 0; i < runs.n;) {
        size_t j = i;
        while (j < runs.n && !strcmp(runs.v[j].uuid, runs.v[i].uuid))
            j++;
        int m = (int)(j - i); /* runs of one GPU, sorted by perf */
        most = m > most ? m : most;
        if (m < min_runs) {
            p->dropped++;
        } else {
            double med = m % 2 ? runs.v[i + (size_t)m / 2].perf
                               : 0.5 * (runs.v[i + (size_t)m / 2 - 1].perf +
                                        runs.v[i + (size_t)m / 2].perf);
            /* Robust jitter of this GPU's runs: the MAD is 0.6745 sigma for normal noise. */
            if (m >= 3) {
                for (int k = 0; k < m; k++)
                    tmp[k] = fabs(runs.v[i + (size_t)k].perf - med);
                qsort(tmp, (size_t)m, sizeof *tmp, mm_cmp_double);
                double mad = m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
                p->cv[p->n] = 1.4826 * mad / med;
            }
            p->uuid[p->n] = runs.v[i].uuid;
            runs.v[i].uuid = NULL; /* the population owns it now */
            p->runs[p->n] = m;
            p->time[p->n] = med;
            p->n++;
        }
        i = j;
    }
    if (p->n == 0) {
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: no GPU has at least %d runs (the most "
                              "any GPU has is %d); lower the minimum number of runs", path,
                              min_runs, most);
        goto done;
    }
    double ref;
    if (norm == MOEMAP_SPEED_FASTEST) {
        ref = p->time[0];
        for (int i = 1; i < p->n; i++)
            ref = p->time[i] < ref ? p->time[i] : ref;
    } else {
        memcpy(tmp, p->time, (size_t)p->n * sizeof *tmp);
        qsort(tmp, (size_t)p->n, sizeof *tmp, mm_cmp_double);
        ref = p->n % 2 ? tmp[p->n / 2] : 0.5 * (tmp[p->n / 2 - 1] + tmp[p->n / 2]);
    }
    for (int i = 0; i < p->n; i++)
        p->speed[i] = ref / p->time[i];
done:
    free_runs(&runs);
    moemap_free(tmp);
    if (rc) {
        moemap_gpu_population_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
