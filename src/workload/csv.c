/*
 * csv.c — importer for load matrices as CSV: one row per layer, one column per expert,
 * comma-separated (one aggregate batch). Lines starting with '#' and blank lines are
 * skipped. A first line whose first cell is not a number is a header; when that cell is
 * "layer", the first column of every row is the model layer index, otherwise row i is
 * model layer i. As in SGLang dumps, an all-zero row is a dense layer and gets no entry.
 * A batch's tokens are its busiest layer's token-slots / top-k (--top-k), or the
 * token-slots when top-k is unknown.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "workload_internal.h"

/* Parses the cell [a, b) (blanks around it allowed) as a finite decimal number. */
static int cell_number(const char *a, const char *b, double *out)
{
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
        b--;
    size_t n = (size_t)(b - a);
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, a, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", tmp[i]))
            return -1;
    char *end;
    errno = 0;
    double x = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

typedef struct {
    double *vals;   /* rows x cols, row-major */
    int *ids;       /* layer id per row */
    long *line_of;  /* source line per row */
    int rows, cap;
} csv_rows;

static void rows_free(csv_rows *r)
{
    moemap_free(r->vals);
    moemap_free(r->ids);
    moemap_free(r->line_of);
}

int mm_csv_parse(const char *buf, size_t len, const char *name, const moemap_read_params *p,
                 moemap_loads **out, moemap_error *err)
{
    *out = NULL;
    csv_rows R;
    memset(&R, 0, sizeof R);
    int cols = -1, has_layer_col = 0, header_seen = 0, rc = 0;
    long cols_line = 0, line = 0;
    double *cells = NULL; /* scratch for one row */
    int cells_cap = 0;
    const char *pos = buf, *end = buf + len;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        pos += 3;
    while (pos < end && !rc) {
        line++;
        const char *eol = memchr(pos, '\n', (size_t)(end - pos));
        if (!eol)
            eol = end;
        const char *a = pos, *b = eol;
        pos = eol < end ? eol + 1 : end;
        const char *q = a;
        while (q < b && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q == b || *q == '#')
            continue;
        /* Split into cells. */
        int n = 0;
        const char *c = a;
        for (;;) {
            const char *ce = c;
            while (ce < b && *ce != ',')
                ce++;
            if (n == cells_cap) {
                int ncap = cells_cap ? 2 * cells_cap : 256;
                if (ncap > 1 << 20) {
                    rc = moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld: too many columns", name,
                                          line);
                    break;
                }
                double *nc = moemap_realloc(cells, (size_t)ncap * sizeof *nc);
                if (!nc) {
                    rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
                    break;
                }
                cells = nc;
                cells_cap = ncap;
            }
            if (cell_number(c, ce, &cells[n]) != 0) {
                /* Only a cell that does not start like a number makes a header: "1e400"
                 * or "0x10" in the first row is a bad number, as it would be anywhere. */
                const char *h0 = c;
                while (h0 < ce && (*h0 == ' ' || *h0 == '\t'))
                    h0++;
                int numeric_start = h0 < ce && strchr("0123456789.+-", *h0);
                if (!header_seen && R.rows == 0 && n == 0 && !numeric_start) {
                    /* A header line: note whether its first cell names the layer column. */
                    const char *h = c;
                    while (h < ce && isspace((unsigned char)*h))
                        h++;
                    has_layer_col = (ce - h) >= 5 && !strncasecmp(h, "layer", 5);
                    header_seen = 1;
                    n = -1;
                    break;
                }
                char shown[24];
                size_t k = 0;
                for (const char *s = c; s < ce && k < 16; s++)
                    shown[k++] = (*s >= 32 && *s < 127) ? *s : '?';
                shown[k] = '\0';
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s:%ld:%ld: cell %d '%s' is not a number", name, line,
                                      (long)(c - a) + 1, n + 1, shown);
                break;
            }
            if (cells[n] < 0 && !(has_layer_col && n == 0)) {
                rc = moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld:%ld: count %g is negative",
                                      name, line, (long)(c - a) + 1, cells[n]);
                break;
            }
            n++;
            if (ce >= b)
                break;
            c = ce + 1;
        }
        if (rc)
            break;
        if (n < 0) /* header */
            continue;
        int first = has_layer_col ? 1 : 0, ne = n - first;
        if (ne <= 0) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s:%ld: no expert counts on the line",
                                  name, line);
            break;
        }
        if (cols < 0) {
            if (ne > 32767) {
                rc = moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld: %d experts is too many",
                                      name, line, ne);
                break;
            }
            cols = ne;
            cols_line = line;
        } else if (ne != cols) {
            rc = moemap_error_set(err, MOEMAP_EPARSE,
                                  "%s:%ld: ragged row: %d expert counts, expected %d as on "
                                  "line %ld",
                                  name, line, ne, cols, cols_line);
            break;
        }
        int id = R.rows;
        if (has_layer_col) {
            double v = cells[0];
            if (v != floor(v) || v < 0 || v > 1000000) {
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s:%ld:1: layer '%g' is not an index in [0, 1000000]",
                                      name, line, v);
                break;
            }
            id = (int)v;
        }
        for (int r = 0; r < R.rows; r++)
            if (R.ids[r] == id) {
                rc = moemap_error_set(err, MOEMAP_EPARSE,
                                      "%s:%ld: layer %d already given on line %ld", name, line,
                                      id, R.line_of[r]);
                break;
            }
        if (rc)
            break;
        if (R.rows == R.cap) {
            int ncap = R.cap ? 2 * R.cap : 64;
            if (ncap > 200000) {
                rc = moemap_error_set(err, MOEMAP_ERANGE, "%s:%ld: too many rows", name, line);
                break;
            }
            /* Each successful realloc is kept at once, so a later failure leaks nothing. */
            double *nv = moemap_realloc(R.vals, (size_t)ncap * (size_t)cols * sizeof *nv);
            if (nv)
                R.vals = nv;
            int *ni = nv ? moemap_realloc(R.ids, (size_t)ncap * sizeof *ni) : NULL;
            if (ni)
                R.ids = ni;
            long *nlo = ni ? moemap_realloc(R.line_of, (size_t)ncap * sizeof *nlo) : NULL;
            if (nlo)
                R.line_of = nlo;
            if (!nlo) {
                rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
                break;
            }
            R.cap = ncap;
        }
        memcpy(R.vals + (size_t)R.rows * (size_t)cols, cells + first,
               (size_t)cols * sizeof *cells);
        R.ids[R.rows] = id;
        R.line_of[R.rows] = line;
        R.rows++;
    }
    moemap_free(cells);
    if (!rc && R.rows == 0)
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: no data rows", name);
    /* A load matrix has a column per expert; one column is a stray number ("42"), not a
     * mixture of experts. */
    if (!rc && cols < 2)
        rc = moemap_error_set(err, MOEMAP_EPARSE,
                              "%s: one count per row: not a load matrix (one column per "
                              "expert, at least 2)", name);
    if (!rc && p->experts > 0 && p->experts != cols)
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: %d experts per row, expected %d", name,
                              cols, p->experts);
    if (!rc && p->top_k > cols)
        rc = moemap_error_set(err, MOEMAP_EINVAL, "%s: top-k %d exceeds %d experts", name,
                              p->top_k, cols);
    int n_moe = 0;
    for (int r = 0; !rc && r < R.rows; r++) {
        double s = 0;
        for (int e = 0; e < cols; e++)
            s += R.vals[(size_t)r * (size_t)cols + e];
        n_moe += s > 0;
    }
    if (!rc && n_moe == 0)
        rc = moemap_error_set(err, MOEMAP_EPARSE,
                              "%s: every count is zero: no MoE layer received tokens", name);
    moemap_loads *ld = NULL;
    if (!rc)
        rc = moemap_loads_create(cols, p->top_k, n_moe, 1, &ld, err);
    if (!rc) {
        double busiest = 0;
        for (int r = 0, k = 0; r < R.rows; r++) {
            const double *v = R.vals + (size_t)r * (size_t)cols;
            double s = 0;
            for (int e = 0; e < cols; e++)
                s += v[e];
            if (s <= 0)
                continue;
            ld->layer_ids[k] = R.ids[r];
            memcpy(&MOEMAP_LOADS_AT(ld, 0, k, 0), v, (size_t)cols * sizeof *v);
            if (s > busiest)
                busiest = s;
            k++;
        }
        ld->batch_tokens[0] = p->top_k > 0 ? busiest / p->top_k : busiest;
        *out = ld;
    }
    rows_free(&R);
    return rc;
}
