/*
 * sim_io.c — the simulate file (moemap.simulate/v1, docs/formats.md and the keys in
 * docs/simulate.md): writing and reading the results of one or more simulated runs.
 * `moemap simulate --json` / `--timeseries` write it and `moemap report` reads it, both
 * through these functions, so the file has one owner and one shape: always
 * {"format": "moemap.simulate/v1", "runs": [...]}, one object per run.
 *
 * The reader is strict about types and lenient about absence: a metric a run lacks is
 * NAN (counts 0), so the report shows a dash rather than refusing an older file.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "moemap/sim.h"

#define SIM_FORMAT "moemap.simulate/v1"

/* A real rounded for readability; NaN (no data) becomes null. */
static json_t *num(double x, int digits)
{
    if (!isfinite(x))
        return json_null();
    return mm_json_real(x, digits);
}

static json_t *lat_json(const moemap_latency *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "p50", num(l->p50, 6));
    json_object_set_new(o, "p90", num(l->p90, 6));
    json_object_set_new(o, "p99", num(l->p99, 6));
    json_object_set_new(o, "mean", num(l->mean, 6));
    return o;
}

static void capacity_json(json_t *o, const moemap_sim_result *r)
{
    json_t *sweep = json_array();
    for (int i = 0; i < r->capacity_n; i++) {
        json_t *pt = json_object();
        json_object_set_new(pt, "rate_rps", num(r->capacity_rate[i], 4));
        json_object_set_new(pt, "slo_attainment", num(r->capacity_slo[i], 5));
        json_array_append_new(sweep, pt);
    }
    json_object_set_new(o, "capacity_rps", num(r->capacity_rps, 4));
    json_object_set_new(o, "capacity_target", num(r->capacity_target, 4));
    json_object_set_new(o, "capacity_sweep", sweep);
}

static json_t *run_json(const moemap_sim_result *r, const char *label, int timeseries)
{
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(label ? label : ""));
    json_object_set_new(o, "requests", json_integer(r->requests));
    json_object_set_new(o, "completed", json_integer(r->completed));
    json_object_set_new(o, "iterations", json_integer(r->iterations));
    json_object_set_new(o, "sim_time_s", num(r->sim_time_s, 4));
    json_object_set_new(o, "ttft", lat_json(&r->ttft));
    json_object_set_new(o, "tpot", lat_json(&r->tpot));
    json_object_set_new(o, "e2e", lat_json(&r->e2e));
    json_object_set_new(o, "slo_attainment", num(r->slo_attainment, 5));
    if (r->capacity_n > 0)
        capacity_json(o, r);
    json_object_set_new(o, "ttft_attainment", num(r->ttft_attainment, 5));
    json_object_set_new(o, "tpot_attainment", num(r->tpot_attainment, 5));
    json_object_set_new(o, "goodput_rps", num(r->goodput_rps, 4));
    json_object_set_new(o, "throughput_rps", num(r->throughput_rps, 4));
    json_object_set_new(o, "throughput_tps", num(r->throughput_tps, 2));
    json_object_set_new(o, "mean_iteration_ms", num(r->mean_iteration_ms, 4));
    json_object_set_new(o, "mean_iteration_tokens", num(r->mean_iteration_tokens, 2));
    json_object_set_new(o, "moe_share", num(r->moe_share, 4));
    json_object_set_new(o, "gpu_idle_s",
                        mm_json_real_array(r->gpu_idle_s, (size_t)r->num_gpus, 4));
    json_object_set_new(o, "migration_bytes", num(r->migration_bytes, 0));
    json_object_set_new(o, "migration_stall_s", num(r->migration_stall_s, 6));
    json_object_set_new(o, "replicas_moved", json_integer(r->replicas_moved));
    json_object_set_new(o, "recalibrations", json_integer(r->recalibrations));
    json_t *marks = json_array();
    for (int i = 0; i < r->num_markers; i++) {
        json_t *mk = json_object();
        json_object_set_new(mk, "time_s", num(r->markers[i].time_s, 3));
        json_object_set_new(mk, "label", json_string(r->markers[i].label));
        json_array_append_new(marks, mk);
    }
    json_object_set_new(o, "markers", marks);
    if (timeseries) {
        json_t *ts = json_object();
        size_t tn = (size_t)r->ts_n;
        json_object_set_new(ts, "time_s", mm_json_real_array(r->ts_time_s, tn, 3));
        json_object_set_new(ts, "p90_ttft_s", mm_json_real_array(r->ts_p90_ttft_s, tn, 5));
        json_object_set_new(ts, "straggler_ms", mm_json_real_array(r->ts_straggler_ms, tn, 4));
        json_object_set_new(ts, "tokens_per_s", mm_json_real_array(r->ts_tokens_per_s, tn, 1));
        json_object_set_new(o, "timeseries", ts);
    }
    return o;
}

/* Dumped with 12 significant digits (migration bytes run to 1e11). */
static char *dump(json_t *o)
{
    char *txt = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(o);
    if (!txt)
        return NULL;
    char *res = moemap_strdup(txt);
    free(txt);
    return res;
}

char *moemap_sim_result_json(const moemap_sim_result *r, const char *label, int timeseries)
{
    return dump(run_json(r, label, timeseries));
}

int moemap_sim_write(const char *path, const moemap_sim_file *f, int timeseries,
                     moemap_error *err)
{
    json_t *root = json_object(), *runs = json_array();
    json_object_set_new(root, "format", json_string(SIM_FORMAT));
    for (int i = 0; i < f->num_runs; i++)
        json_array_append_new(runs, run_json(f->runs[i], f->labels ? f->labels[i] : NULL,
                                             timeseries));
    json_object_set_new(root, "runs", runs);
    char *text = dump(root);
    if (!text)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory writing JSON",
                                strcmp(path, "-") ? path : "<stdout>");
    size_t n = strlen(text);
    char *with_nl = moemap_malloc(n + 2);
    int rc;
    if (!with_nl) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
    } else {
        memcpy(with_nl, text, n);
        with_nl[n] = '\n';
        rc = moemap_outfile_write(path, with_nl, n + 1, err);
    }
    moemap_free(with_nl);
    moemap_free(text);
    return rc;
}

void moemap_sim_file_free(moemap_sim_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->num_runs; i++) {
        if (f->labels)
            moemap_free(f->labels[i]);
        if (f->runs)
            moemap_sim_result_free(f->runs[i]);
    }
    moemap_free(f->labels);
    moemap_free(f->runs);
    moemap_free(f);
}

/* An optional number: absent or null is NAN. */
static int opt_num(const json_t *o, const char *key, const char *where, double *out,
                   moemap_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.%s", where, key);
    return mm_json_number(v, w, out, err) ? err->code : 0;
}

/* An optional array of numbers (null entries NAN) into a moemap_malloc'ed array. */
static int opt_nums(const json_t *o, const char *key, const char *where, double **out,
                    int *n, moemap_error *err)
{
    json_t *a = json_object_get(o, key);
    *out = NULL;
    *n = 0;
    if (!a)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!json_is_array(a))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array of numbers", w);
    size_t m = json_array_size(a);
    double *x = moemap_malloc((m ? m : 1) * sizeof *x);
    if (!x)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t i = 0; i < m; i++) {
        char wi[440];
        snprintf(wi, sizeof wi, "%s[%zu]", w, i);
        json_t *e = json_array_get(a, i);
        x[i] = NAN;
        if (!json_is_null(e) && mm_json_number(e, wi, &x[i], err)) {
            moemap_free(x);
            return err->code;
        }
    }
    *out = x;
    *n = (int)m;
    return 0;
}

static int read_latency(const json_t *run, const char *key, const char *where,
                        moemap_latency *l, moemap_error *err)
{
    json_t *o = json_object_get(run, key);
    l->p50 = l->p90 = l->p99 = l->mean = NAN;
    if (!o)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (!json_is_object(o))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", w);
    int rc = opt_num(o, "p50", w, &l->p50, err);
    if (!rc)
        rc = opt_num(o, "p90", w, &l->p90, err);
    if (!rc)
        rc = opt_num(o, "p99", w, &l->p99, err);
    if (!rc)
        rc = opt_num(o, "mean", w, &l->mean, err);
    return rc;
}

typedef struct sim_field {
    const char *key;
    size_t off;
} sim_field;
#define F(k) {#k, offsetof(moemap_sim_result, k)}
static const sim_field sim_fields[] = {
    F(sim_time_s), F(slo_attainment), F(ttft_attainment), F(tpot_attainment),
    F(goodput_rps), F(throughput_rps), F(throughput_tps), F(mean_iteration_ms),
    F(mean_iteration_tokens), F(moe_share), F(migration_bytes), F(migration_stall_s),
    F(capacity_rps), F(capacity_target),
};
#undef F

static int read_counts(const json_t *run, const char *where, moemap_sim_result *r,
                       moemap_error *err)
{
    long v[5] = {0, 0, 0, 0, 0};
    static const char *const keys[5] = {"requests", "completed", "iterations",
                                        "replicas_moved", "recalibrations"};
    for (int k = 0; k < 5; k++)
        if (mm_json_get_int_opt(run, keys[k], where, 0, 1L << 62, &v[k], err))
            return err->code;
    r->requests = v[0];
    r->completed = v[1];
    r->iterations = v[2];
    r->replicas_moved = v[3];
    r->recalibrations = (int)v[4];
    return 0;
}

static int read_markers(const json_t *run, const char *where, moemap_sim_result *r,
                        moemap_error *err)
{
    json_t *ms = json_object_get(run, "markers");
    if (!ms)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.markers", where);
    if (!json_is_array(ms))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", w);
    size_t m = json_array_size(ms);
    r->markers = moemap_calloc(m ? m : 1, sizeof *r->markers);
    if (!r->markers)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t k = 0; k < m; k++) {
        json_t *mk = json_array_get(ms, k), *lab = json_object_get(mk, "label");
        char wk[440];
        snprintf(wk, sizeof wk, "%s[%zu]", w, k);
        if (!json_is_object(mk) || !json_is_string(lab))
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected {time_s, label}", wk);
        if (mm_json_get_num(mk, "time_s", wk, -1e12, 1e12, &r->markers[k].time_s, err))
            return err->code;
        snprintf(r->markers[k].label, sizeof r->markers[k].label, "%s",
                 json_string_value(lab));
        r->num_markers = (int)k + 1;
    }
    return 0;
}

static int read_timeseries(const json_t *run, const char *where, moemap_sim_result *r,
                           moemap_error *err)
{
    json_t *ts = json_object_get(run, "timeseries");
    if (!ts)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.timeseries", where);
    if (!json_is_object(ts))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object", w);
    double **arr[4] = {&r->ts_time_s, &r->ts_p90_ttft_s, &r->ts_straggler_ms,
                       &r->ts_tokens_per_s};
    static const char *const keys[4] = {"time_s", "p90_ttft_s", "straggler_ms",
                                        "tokens_per_s"};
    for (int k = 0; k < 4; k++) {
        int n = 0;
        if (opt_nums(ts, keys[k], w, arr[k], &n, err))
            return err->code;
        if (k == 0)
            r->ts_n = n;
        else if (*arr[k] && n != r->ts_n)
            return moemap_error_set(err, MOEMAP_EPARSE, "%s: time_s has %d entries, %s %d",
                                    w, r->ts_n, keys[k], n);
    }
    if (r->ts_n > 0 && !r->ts_p90_ttft_s)
        r->ts_n = 0; /* times without values: no series */
    return 0;
}

static int read_capacity(const json_t *run, const char *where, moemap_sim_result *r,
                         moemap_error *err)
{
    json_t *sw = json_object_get(run, "capacity_sweep");
    if (!sw)
        return 0;
    char w[400];
    snprintf(w, sizeof w, "%s.capacity_sweep", where);
    if (!json_is_array(sw))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an array", w);
    size_t m = json_array_size(sw);
    r->capacity_rate = moemap_calloc(m ? m : 1, sizeof(double));
    r->capacity_slo = moemap_calloc(m ? m : 1, sizeof(double));
    if (!r->capacity_rate || !r->capacity_slo)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", w);
    for (size_t k = 0; k < m; k++) {
        char wk[440];
        snprintf(wk, sizeof wk, "%s[%zu]", w, k);
        json_t *pt = json_array_get(sw, k);
        if (mm_json_get_num(pt, "rate_rps", wk, 0, 1e12, &r->capacity_rate[k], err) ||
            mm_json_get_num(pt, "slo_attainment", wk, 0, 1, &r->capacity_slo[k], err))
            return err->code;
        r->capacity_n = (int)k + 1;
    }
    return 0;
}

static int read_run(const json_t *run, const char *where, moemap_sim_result *r,
                    moemap_error *err)
{
    int rc = read_counts(run, where, r, err);
    for (size_t k = 0; !rc && k < sizeof sim_fields / sizeof *sim_fields; k++)
        rc = opt_num(run, sim_fields[k].key, where,
                     (double *)((char *)r + sim_fields[k].off), err);
    if (!rc)
        rc = read_latency(run, "ttft", where, &r->ttft, err);
    if (!rc)
        rc = read_latency(run, "tpot", where, &r->tpot, err);
    if (!rc)
        rc = read_latency(run, "e2e", where, &r->e2e, err);
    if (!rc)
        rc = opt_nums(run, "gpu_idle_s", where, &r->gpu_idle_s, &r->num_gpus, err);
    if (!rc)
        rc = read_capacity(run, where, r, err);
    if (!rc)
        rc = read_markers(run, where, r, err);
    if (!rc)
        rc = read_timeseries(run, where, r, err);
    return rc;
}

static int parse_sim(json_t *root, const char *name, void *ctx, moemap_error *err)
{
    moemap_sim_file **out = ctx;
    if (mm_json_check_format(root, name, SIM_FORMAT,
                             "moemap simulate --json or --timeseries writes it", err))
        return err->code;
    json_t *runs = mm_json_get_array(root, "runs", name, err);
    if (!runs)
        return err->code;
    size_t n = json_array_size(runs);
    if (n == 0)
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: runs: expected a non-empty array",
                                name);
    moemap_sim_file *f = moemap_calloc(1, sizeof *f);
    if (f) {
        f->labels = moemap_calloc(n, sizeof *f->labels);
        f->runs = moemap_calloc(n, sizeof *f->runs);
    }
    if (!f || !f->labels || !f->runs) {
        moemap_sim_file_free(f);
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", name);
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        char where[300];
        snprintf(where, sizeof where, "%s: runs[%zu]", name, i);
        json_t *run = json_array_get(runs, i), *lab = json_object_get(run, "label");
        if (!json_is_object(run) || !json_is_string(lab)) {
            rc = moemap_error_set(err, MOEMAP_EPARSE, "%s: expected an object with a "
                                  "\"label\"", where);
            break;
        }
        f->num_runs = (int)i + 1;
        f->labels[i] = moemap_strdup(json_string_value(lab));
        f->runs[i] = moemap_calloc(1, sizeof *f->runs[i]);
        if (!f->labels[i] || !f->runs[i])
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory", where);
        else
            rc = read_run(run, where, f->runs[i], err);
    }
    if (rc) {
        moemap_sim_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int moemap_sim_read(const char *path, moemap_sim_file **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_file(path, parse_sim, out, err);
}

int moemap_sim_parse_buffer(const char *buf, size_t len, const char *name,
                            moemap_sim_file **out, moemap_error *err)
{
    *out = NULL;
    return mm_json_read_buffer(buf, len, name, parse_sim, out, err);
}
