/*
 * json_util.h — internal helpers around jansson: load a file with a file:line:column
 * message on syntax errors, fetch typed fields with messages that name the JSON path,
 * and dump to a file. Internal to libmoemap (not installed).
 */
#ifndef MOEMAP_JSON_UTIL_H
#define MOEMAP_JSON_UTIL_H

#include <jansson.h>

#include "moemap/base.h"
#include "moemap/io.h"

/* Loads a JSON file. On failure returns NULL and sets err to
 * "PATH:LINE:COL: <jansson's message>" (MOEMAP_EIO when the file can't be opened,
 * MOEMAP_EPARSE on a syntax error). Numbers are loaded as reals and integers as usual. */
json_t *mm_json_load_file(const char *path, moemap_error *err);
/* Same for an in-memory buffer (fuzz targets); `name` stands for the file name. */
json_t *mm_json_load_buffer(const char *buf, size_t len, const char *name, moemap_error *err);

/* The reader behind every "read a file / parse a buffer" pair of a JSON format: loads
 * the JSON, hands the root to parse(root, name, ctx, err) (name: the path, or the
 * buffer's name for messages) and frees it. Returns parse's status, or the load's
 * (MOEMAP_EIO / MOEMAP_EPARSE, message in err) when the JSON could not be loaded. */
typedef int (*mm_json_parse_fn)(json_t *root, const char *name, void *ctx, moemap_error *err);
int mm_json_read_file(const char *path, mm_json_parse_fn parse, void *ctx, moemap_error *err);
int mm_json_read_buffer(const char *buf, size_t len, const char *name, mm_json_parse_fn parse,
                        void *ctx, moemap_error *err);

/* Typed getters. `where` names the object for messages ("file.json: gpus[3]"). Each
 * returns 0 and sets *out, or an error naming where.key and what was expected. The
 * _opt variants leave *out unchanged and return 0 when the key is absent. */
int mm_json_get_int(const json_t *obj, const char *key, const char *where, long lo, long hi,
                    long *out, moemap_error *err);
int mm_json_get_int_opt(const json_t *obj, const char *key, const char *where, long lo,
                        long hi, long *out, moemap_error *err);
int mm_json_get_num(const json_t *obj, const char *key, const char *where, double lo,
                    double hi, double *out, moemap_error *err);
int mm_json_get_num_opt(const json_t *obj, const char *key, const char *where, double lo,
                        double hi, double *out, moemap_error *err);
/* Returns the member or NULL with an error when absent or of the wrong type. */
json_t *mm_json_get_array(const json_t *obj, const char *key, const char *where,
                          moemap_error *err);
json_t *mm_json_get_object(const json_t *obj, const char *key, const char *where,
                           moemap_error *err);
/* A number (integer or real) as double; 0 and an error when it is neither or not finite. */
int mm_json_number(const json_t *v, const char *where, double *out, moemap_error *err);

/* Writes `root` to path (indent 1, keys in insertion order, reals with 17 significant
 * digits trimmed by jansson). path "-" writes to stdout. */
int mm_json_dump_file(const json_t *root, const char *path, moemap_error *err);

/* Checks root's "format" is `want`: 0, or MOEMAP_EFORMAT with "NAME: format is ...,
 * expected WANT (HINT)" or "missing \"format\"" (hint: what writes such a file). */
int mm_json_check_format(const json_t *root, const char *name, const char *want,
                         const char *hint, moemap_error *err);

/* A real rounded to `digits` decimals, so files stay readable (1.2300000000000002 -> 1.23). */
json_t *mm_json_real(double x, int digits);
/* Arrays for the writers: n numbers, each mm_json_real(x[i], digits) (digits < 0: as
 * they are) and null when not finite (no data); n integers. NULL when out of memory. */
json_t *mm_json_real_array(const double *x, size_t n, int digits);
json_t *mm_json_int_array(const int *v, size_t n);

/* A cursor over JSON text for the streaming readers (moemap's own placement and loads
 * files read without building the whole tree): skip white space, take one expected
 * character, or have jansson parse the one value at the cursor and move past it. */
typedef struct mm_json_cursor {
    const char *s;
    size_t n, i;
} mm_json_cursor;
void mm_jc_ws(mm_json_cursor *in);
/* 1 and past it when the next non-blank character is c; else 0, the cursor unmoved
 * except for the blanks. */
int mm_jc_char(mm_json_cursor *in, char c);
/* The JSON value at the cursor (NULL on a syntax error), duplicates refused. */
json_t *mm_jc_value(mm_json_cursor *in);

#endif
