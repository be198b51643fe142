/*
 * json_util.c — see json_util.h. Every JSON file moemap reads goes through
 * mm_json_load_file, so syntax errors are reported the same way everywhere.
 */
#include "json_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *finish_load(json_t *root, const json_error_t *jerr, const char *name,
                           moemap_error *err)
{
    if (!root) {
        int code = (jerr->line <= 0 && strstr(jerr->text, "unable to open")) ? MOEMAP_EIO
                                                                             : MOEMAP_EPARSE;
        if (code == MOEMAP_EIO)
            moemap_error_set(err, code, "%s: cannot open: %s", name, strerror(errno));
        else
            moemap_error_set(err, code, "%s:%d:%d: %s", name, jerr->line, jerr->column,
                             jerr->text);
    }
    return root;
}

json_t *mm_json_load_file(const char *path, moemap_error *err)
{
    /* Through the input gate, so /dev/zero or a 50 GB file is refused before jansson
     * starts building a tree from it. */
    char *buf;
    size_t len;
    if (moemap_read_file(path, &buf, &len, err) != 0)
        return NULL;
    json_t *root = mm_json_load_buffer(buf, len, path, err);
    moemap_free(buf);
    return root;
}

json_t *mm_json_load_buffer(const char *buf, size_t len, const char *name, moemap_error *err)
{
    /* A UTF-8 byte-order mark (editors on Windows add one) is not JSON but harmless. */
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
        buf += 3;
        len -= 3;
    }
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    return finish_load(root, &jerr, name, err);
}

/* Runs parse on a loaded root (NULL: the load failed with `fallback` as its code when the
 * caller passed no err to read it from). */
static int run_parse(json_t *root, const char *name, mm_json_parse_fn parse, void *ctx,
                     int fallback, moemap_error *err)
{
    if (!root)
        return err && err->code ? err->code : fallback;
    int rc = parse(root, name, ctx, err);
    json_decref(root);
    return rc;
}

int mm_json_read_file(const char *path, mm_json_parse_fn parse, void *ctx, moemap_error *err)
{
    return run_parse(mm_json_load_file(path, err), path, parse, ctx, MOEMAP_EIO, err);
}

int mm_json_read_buffer(const char *buf, size_t len, const char *name, mm_json_parse_fn parse,
                        void *ctx, moemap_error *err)
{
    return run_parse(mm_json_load_buffer(buf, len, name, err), name, parse, ctx, MOEMAP_EPARSE,
                     err);
}

int mm_json_number(const json_t *v, const char *where, double *out, moemap_error *err)
{
    if (!json_is_number(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: expected a number", where);
    double x = json_number_value(v);
    if (!isfinite(x))
        return moemap_error_set(err, MOEMAP_ERANGE, "%s: number is not finite", where);
    *out = x;
    return 0;
}

static int get_num(const json_t *obj, const char *key, const char *where, double lo,
                   double hi, int required, double *out, moemap_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (!required)
            return 0;
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: missing field \"%s\"", where, key);
    }
    double x;
    if (!json_is_number(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected a number", where, key);
    x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.%s: %g is outside [%g, %g]", where,
                                key, x, lo, hi);
    *out = x;
    return 0;
}

int mm_json_get_num(const json_t *obj, const char *key, const char *where, double lo,
                    double hi, double *out, moemap_error *err)
{
    return get_num(obj, key, where, lo, hi, 1, out, err);
}

int mm_json_get_num_opt(const json_t *obj, const char *key, const char *where, double lo,
                        double hi, double *out, moemap_error *err)
{
    return get_num(obj, key, where, lo, hi, 0, out, err);
}

static int get_int(const json_t *obj, const char *key, const char *where, long lo, long hi,
                   int required, long *out, moemap_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (!required)
            return 0;
        return moemap_error_set(err, MOEMAP_EPARSE, "%s: missing field \"%s\"", where, key);
    }
    if (!json_is_integer(v))
        return moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected an integer", where, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return moemap_error_set(err, MOEMAP_ERANGE, "%s.%s: %lld is outside [%ld, %ld]",
                                where, key, (long long)x, lo, hi);
    *out = (long)x;
    return 0;
}

int mm_json_get_int(const json_t *obj, const char *key, const char *where, long lo, long hi,
                    long *out, moemap_error *err)
{
    return get_int(obj, key, where, lo, hi, 1, out, err);
}

int mm_json_get_int_opt(const json_t *obj, const char *key, const char *where, long lo,
                        long hi, long *out, moemap_error *err)
{
    return get_int(obj, key, where, lo, hi, 0, out, err);
}

json_t *mm_json_get_array(const json_t *obj, const char *key, const char *where,
                          moemap_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        moemap_error_set(err, MOEMAP_EPARSE, "%s: missing field \"%s\"", where, key);
        return NULL;
    }
    if (!json_is_array(v)) {
        moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected an array", where, key);
        return NULL;
    }
    return v;
}

json_t *mm_json_get_object(const json_t *obj, const char *key, const char *where,
                           moemap_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        moemap_error_set(err, MOEMAP_EPARSE, "%s: missing field \"%s\"", where, key);
        return NULL;
    }
    if (!json_is_object(v)) {
        moemap_error_set(err, MOEMAP_EPARSE, "%s.%s: expected an object", where, key);
        return NULL;
    }
    return v;
}

int mm_json_dump_file(const json_t *root, const char *path, moemap_error *err)
{
    size_t flags = JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
    /* One string, one write: json_dumpf calls fwrite for every token, which was a fifth
     * of a whole `moemap place --strategy eplb` call for a 58-layer placement. */
    char *text = json_dumps(root, flags);
    if (!text)
        return moemap_error_set(err, MOEMAP_ENOMEM, "%s: out of memory writing JSON",
                                strcmp(path, "-") ? path : "<stdout>");
    moemap_outfile *f;
    int rc = moemap_outfile_open(path, &f, err);
    if (rc) {
        free(text);
        return rc;
    }
    FILE *s = moemap_outfile_stream(f);
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, s) != n || fputc('\n', s) == EOF;
    free(text);
    if (bad) {
        int e = errno;
        moemap_outfile_abort(f);
        return moemap_error_set(err, MOEMAP_EIO, "%s: write failed: %s",
                                strcmp(path, "-") ? path : "<stdout>", strerror(e));
    }
    return moemap_outfile_commit(f, err);
}

json_t *mm_json_real(double x, int digits)
{
    double scale = pow(10.0, digits);
    double r = round(x * scale) / scale;
    if (r == floor(r) && fabs(r) < 9e15)
        return json_integer((json_int_t)r);
    return json_real(r);
}

json_t *mm_json_real_array(const double *x, size_t n, int digits)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *v = !isfinite(x[i]) ? json_null()
                    : digits < 0    ? json_real(x[i])
                                    : mm_json_real(x[i], digits);
        if (json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *mm_json_int_array(const int *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int mm_json_check_format(const json_t *root, const char *name, const char *want,
                         const char *hint, moemap_error *err)
{
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt))
        return moemap_error_set(err, MOEMAP_EFORMAT, "%s: missing \"format\" (expected "
                                "\"%s\": %s)", name, want, hint);
    if (strcmp(json_string_value(fmt), want) != 0)
        return moemap_error_set(err, MOEMAP_EFORMAT, "%s: format is \"%s\", expected \"%s\" "
                                "(%s)", name, json_string_value(fmt), want, hint);
    return 0;
}

void mm_jc_ws(mm_json_cursor *in)
{
    while (in->i < in->n && (in->s[in->i] == ' ' || in->s[in->i] == '\n' ||
                             in->s[in->i] == '\r' || in->s[in->i] == '\t'))
        in->i++;
}

int mm_jc_char(mm_json_cursor *in, char c)
{
    mm_jc_ws(in);
    if (in->i < in->n && in->s[in->i] == c) {
        in->i++;
        return 1;
    }
    return 0;
}

json_t *mm_jc_value(mm_json_cursor *in)
{
    mm_jc_ws(in);
    json_error_t jerr;
    json_t *v = json_loadb(in->s + in->i, in->n - in->i,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
                           &jerr);
    if (v)
        in->i += (size_t)jerr.position;
    return v;
}
