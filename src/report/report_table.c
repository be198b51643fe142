/*
 * report_table.c — the one comparison table the demo prints: per strategy, the
 * predicted straggler time (mean and p99 per batch) and its gap to the lower bound from
 * `moemap eval --json`, next to p90 TTFT, p90 TPOT and SLO attainment from
 * `moemap simulate --json` for the same placement, and with `--capacity`, the highest
 * request rate it sustains with the target share of requests inside the SLO. Plain text, aligned, so it reads the
 * same in a terminal, a log and the README.
 *
 * Runs of simulate are matched to strategies by label: simulate names a run after its
 * placement file ("eplb.json", or "eplb.json/moemap" with a recalibration policy), so
 * the label up to its first '.' or '/' is compared with the strategy's name; of several
 * runs of one placement the one without a recalibration policy (or "none") is shown.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "report_internal.h"
#include "moemap/eval.h"

#define MAX_ROWS 32

typedef struct row {
    char name[64];
    double mean, p99, gap;       /* eval: straggler per batch (us), gap (fraction) */
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

static row blank_row(const char *name)
{
    row r;
    rp_fmt(r.name, sizeof r.name, "%s", name);
    r.mean = r.p99 = r.gap = r.ttft90 = r.tpot90 = r.slo = r.capacity = NAN;
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
        r.mean = e->mean_us;
        r.p99 = e->p99_us;
        r.gap = e->bound_mean_us > 0 ? e->gap : NAN;
        rows[(*n)++] = r;
    }
    moemap_eval_file_free(f);
    return 0;
}

static int read_simulate(const char *path, row *rows, int *n, int add_rows,
                         moemap_error *err)
{
    json_t *root = mm_json_load_file(path, err);
    if (!root)
        return err ? err->code : MOEMAP_EIO;
    json_t *runs = json_object_get(root, "runs");
    int rc = 0, count = runs ? (int)json_array_size(runs) : 1;
    if (runs && !json_is_array(runs))
        rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: runs: expected an array", path);
    for (int i = 0; !rc && i < count; i++) {
        json_t *run = runs ? json_array_get(runs, (size_t)i) : root;
        char where[300];
        rp_fmt(where, sizeof where, "%s: runs[%d]", path, i);
        if (!json_is_object(run)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", where);
            break;
        }
        const char *label = json_string_value(json_object_get(run, "label"));
        char key[64];
        key_of(label ? label : "", key, sizeof key);
        int k = find_row(rows, *n, key);
        if (k < 0 && add_rows && *n < MAX_ROWS) {
            /* No eval: a row per run, named after its label without ".json". */
            char name[64];
            const char *dot = label ? strstr(label, ".json") : NULL;
            if (dot)
                rp_fmt(name, sizeof name, "%.*s%s", (int)(dot - label), label, dot + 5);
            else
                rp_fmt(name, sizeof name, "%s", label && *label ? label : "run");
            rows[*n] = blank_row(name);
            k = (*n)++;
        }
        /* Several runs of one placement (one per recalibration policy): the table shows
         * the placement alone, i.e. the run without a policy or with "none". */
        const char *pol = label ? strchr(label, '/') : NULL;
        int rank = !pol || !strcmp(pol, "/none") ? 2 : 1;
        if (k < 0 || rank <= rows[k].sim_rank)
            continue;
        rows[k].sim_rank = rank;
        json_t *ttft = json_object_get(run, "ttft"), *tpot = json_object_get(run, "tpot");
        char w[340];
        rp_fmt(w, sizeof w, "%s.ttft", where);
        if (ttft && (rc = mm_json_get_num_opt(ttft, "p90", w, 0, 1e12, &rows[k].ttft90, err)))
            break;
        rp_fmt(w, sizeof w, "%s.tpot", where);
        if (tpot && (rc = mm_json_get_num_opt(tpot, "p90", w, 0, 1e12, &rows[k].tpot90, err)))
            break;
        if ((rc = mm_json_get_num_opt(run, "slo_attainment", where, 0, 1, &rows[k].slo, err)))
            break;
        if ((rc = mm_json_get_num_opt(run, "capacity_rps", where, 0, 1e9, &rows[k].capacity,
                                      err)))
            break;
    }
    json_decref(root);
    return rc;
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
    int with_cap = 0;
    for (int i = 0; i < n; i++)
        with_cap |= isfinite(rows[i].capacity);
    rp_buf b = {0};
    rp_buf_printf(&b, "%-14s %12s %12s %8s %10s %10s %8s", "strategy", "straggler",
                  "p99", "gap to", "p90 TTFT", "p90 TPOT", "SLO");
    rp_buf_printf(&b, with_cap ? " %10s\n" : "\n", "capacity");
    rp_buf_printf(&b, "%-14s %12s %12s %8s %10s %10s %8s", "", "mean (ms)", "(ms)",
                  "bound", "(s)", "(ms)", "met");
    rp_buf_printf(&b, with_cap ? " %10s\n" : "\n", "(req/s)");
    for (int i = 0; i < n; i++) {
        rp_buf_printf(&b, "%-14s ", rows[i].name);
        cell(&b, rows[i].mean, "%*.2f", 1e-3, 12);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].p99, "%*.2f", 1e-3, 12);
        rp_buf_printf(&b, " ");
        cell(&b, rows[i].gap, "%*.1f%%", 100, 7);
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
