/*
 * report_table.c — the one comparison table the demo prints: per strategy, the
 * predicted straggler time (mean and p99 per batch) and its gap to the lower bound from
 * `moemap eval --json`, the whole layer with dispatch and combine when eval has it, next to p90 TTFT, p90 TPOT and SLO attainment from
 * `moemap simulate --json` for the same placement, and with `--capacity`, the highest
 * request rate it sustains with the target share of requests inside the SLO. Plain text,
 * aligned, so it reads the same in a terminal, a log and the README.
 *
 * Runs of simulate are matched to eval's placements by file: simulate names a run after
 * its placement file ("eplb.json", or "eplb.json/moemap" with a recalibration policy) and
 * eval records each placement's path, so the label up to its '/' is compared with the
 * path's file name (else, for a placement eval has no path of, with the strategy's name);
 * of several runs of one placement the one without a recalibration policy (or "none") is
 * shown. Both files are read through the library's readers (moemap_eval_read,
 * moemap_sim_read).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moemap/sim.h"
#include "report_internal.h"
#include "moemap/eval.h"

#define MAX_ROWS 32

typedef struct row {
    char name[64];
    char file[64];               /* eval: the placement's file name ("" when unknown) */
    double mean, p99, gap;       /* eval: straggler per batch (us), gap (fraction) */
    double layer;                /* eval: whole layer per batch (us), NAN when absent */
    double ttft90, tpot90, slo;  /* simulate: seconds, seconds, fraction */
    double capacity;             /* simulate --capacity: req/s sustained at the target */
    int sim_rank;                /* 0 none yet, 1 a run with a policy, 2 without / none */
} row;

static void key_of(const char *label, char *out, size_t size)
{
    size_t n = strcspn(label, "./");
    if (n >= size)
        n = size - 1;
    memcpy(out, label, n);
    out[n] = '\0';
}

static int find_row(row *rows, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, key))
            return i;
    return -1;
}

/* The eval row of the placement a run was simulated with: its file name, else its
 * strategy's name (label "eplb.json/drift": file "eplb.json", strategy "eplb"). */
static int find_placement(row *rows, int n, const char *label)
{
    char file[64];
    size_t len = strcspn(label, "/");
    rp_fmt(file, sizeof file, "%.*s", (int)len, label);
    for (int i = 0; i < n; i++)
        if (rows[i].file[0] && !strcmp(rows[i].file, file))
            return i;
    char key[64];
    key_of(label, key, sizeof key);
    return find_row(rows, n, key);
}

static row blank_row(const char *name)
{
    row r;
    rp_fmt(r.name, sizeof r.name, "%s", name);
    r.file[0] = '\0';
    r.mean = r.p99 = r.gap = r.layer = r.ttft90 = r.tpot90 = r.slo = r.capacity = NAN;
    r.sim_rank = 0;
    return r;
}

static int read_eval(const char *path, row *rows, int *n, moemap_error *err)
{
    moemap_eval_file *f = NULL;
    int rc = moemap_eval_read(path, &f, err);
    if (rc)
        return rc;
    for (int i = 0; i < f->num_placements && *n < MAX_ROWS; i++) {
        const moemap_eval_summary *e = f->summaries[i];
        row r = blank_row(e->strategy);
        const char *slash = strrchr(f->files[i], '/');
        rp_fmt(r.file, sizeof r.file, "%s", slash ? slash + 1 : f->files[i]);
        r.mean = e->mean_us;
        r.p99 = e->p99_us;
        r.gap = e->bound_mean_us > 0 ? e->gap : NAN;
        r.layer = e->layer_mean_us > 0 ? e->layer_mean_us : NAN;
        rows[(*n)++] = r;
    }
    moemap_eval_file_free(f);
    return 0;
}

static int read_simulate(const char *path, row *rows, int *n, int add_rows,
                         moemap_error *err)
{
    moemap_sim_file *f = NULL;
    int rc = moemap_sim_read(path, &f, err);
    if (rc)
        return rc;
    for (int i = 0; i < f->num_runs; i++) {
        const char *label = f->labels[i];
        const moemap_sim_result *r = f->runs[i];
        char key[64];
        key_of(label, key, sizeof key);
        int k = add_rows ? find_row(rows, *n, key) : find_placement(rows, *n, label);
        if (k < 0 && add_rows && *n < MAX_ROWS) {
            /* No eval: a row per run, named after its label without ".json". */
            char name[64];
            const char *dot = strstr(label, ".json");
            if (dot)
                rp_fmt(name, sizeof name, "%.*s%s", (int)(dot - label), label, dot + 5);
            else
                rp_fmt(name, sizeof name, "%s", *label ? label : "run");
            rows[*n] = blank_row(name);
            k = (*n)++;
        }
        /* Several runs of one placement (one per recalibration policy): the table shows
         * the placement alone, i.e. the run without a policy or with "none". */
        const char *pol = strchr(label, '/');
        int rank = !pol || !strcmp(pol, "/none") ? 2 : 1;
        if (k < 0 || rank <= rows[k].sim_rank)
            continue;
        rows[k].sim_rank = rank;
        rows[k].ttft90 = r->ttft.p90;
        rows[k].tpot90 = r->tpot.p90;
        rows[k].slo = r->slo_attainment;
        rows[k].capacity = r->capacity_rps;
    }
    moemap_sim_file_free(f);
    return 0;
}

static void cell(rp_buf *b, double v, const char *fmt, double scale, int width)
{
    if (isfinite(v))
        rp_buf_printf(b, fmt, width, v * scale);
    else /* as wide as a number would be, "%" included */
        rp_buf_printf(b, "%*s", width + (strstr(fmt, "%%") != NULL), "-");
}

int moemap_report_table(const moemap_report_params *p, char **text, moemap_error *err)
{
    *text = NULL;
    if (!p || (!p->eval_path && !p->simulate_path))
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the comparison table needs the eval or the simulate input");
    row rows[MAX_ROWS];
    int n = 0, rc = 0;
    if (p->eval_path)
        rc = read_eval(p->eval_path, rows, &n, err);
    if (!rc && p->simulate_path)
        rc = read_simulate(p->simulate_path, rows, &n, p->eval_path == NULL, err);
    if (rc)
        return rc;
    int with_cap = 0, with_layer = 0;
    for (int i = 0; i < n; i++) {
        with_cap |= isfinite(rows[i].capacity);
        with_layer |= isfinite(rows[i].layer);
    }
    rp_buf b = {0};
    rp_buf_printf(&b, "%-14s %12s %12s %8s", "strategy", "straggler", "p99", "gap to");
    if (with_layer)
        rp_buf_printf(&b, " %12s", "whole layer");
    rp_buf_printf(&b, " %10s %10s %8s", "p90 TTFT", "p90 TPOT", "SLO");
    rp_buf_printf(&b, with_cap ? " %10s\n" : "\n", "capacity");
    rp_buf_printf(&b, "%-14s %12s %12s %8s", "", "mean (ms)", "(ms)", "bound");
    if (with_layer)
        rp_buf_printf(&b, " %12s", "mean (ms)");
    rp_buf_printf(&b, " %10s %10s %8s", "(s)", "(ms)", "met");
    rp_buf_printf(&b, with_cap ? " %10s\n" : "\n", "(req/s)");
    for (int i = 0; i < n; i++) {
        rp_buf_printf(&b, "%-14s ", rows[i].name);
        cell(&b, rows[i].mean, "%*.2f", 1e-3, 12);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].p99, "%*.2f", 1e-3, 12);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].gap, "%*.1f%%", 100, 7);
        if (with_layer) {
            rp_buf_printf(&b, " ");
            cell(&b, rows[i].layer, "%*.2f", 1e-3, 12);
        }
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].ttft90, "%*.3f", 1, 10);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].tpot90, "%*.1f", 1e3, 10);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].slo, "%*.1f%%", 100, 7);
        if (with_cap) {
            rp_buf_printf(&b, " ");
            cell(&b, rows[i].capacity, "%*.1f", 1, 10);
        }
        rp_buf_printf(&b, "\n");
    }
    if (b.oom) {
        rp_buf_free(&b);
        return moemap_error_set(err, MOEMAP_ENOMEM, "comparison table: out of memory");
    }
    *text = b.s;
    return 0;
}
