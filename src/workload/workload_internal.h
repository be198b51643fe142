/*
 * workload_internal.h — what the workload importers share inside libmoemap: the
 * per-format parsers (each from a buffer or a parsed JSON tree, so the fuzz targets and
 * moemap_workload_read use the same code) and small helpers. Not installed.
 */
#ifndef MOEMAP_WORKLOAD_INTERNAL_H
#define MOEMAP_WORKLOAD_INTERNAL_H

#include <jansson.h>

#include "moemap/workload.h"

/* The ESFT layout's shape when the caller does not say: DeepSeek-V2-Lite routing. */
#define MM_ESFT_DEFAULT_EXPERTS 64
#define MM_ESFT_DEFAULT_TOP_K 6

/* One ESFT layer file parsed: tokens in file order, top_k ids and weights each. The
 * arrays grow as needed and are reused across files (one allocation pattern per read,
 * not per line). */
typedef struct mm_esft_layer {
    int16_t *ids;      /* [num_tokens * top_k] */
    float *weights;    /* [num_tokens * top_k] */
    long num_tokens;
    long cap_values;   /* capacity of ids/weights in values */
    long *line_tokens; /* [num_lines] tokens on each line (one line = one sequence) */
    long num_lines;
    long cap_lines;
} mm_esft_layer;

/* Parses one layer file held in buf[0..len) (need not be NUL-terminated). Messages name
 * `name`, the line and the column. Resets `out` first (keeps its capacity). */
int mm_esft_parse_layer(const char *buf, size_t len, const char *name, int experts, int top_k,
                        mm_esft_layer *out, moemap_error *err);
void mm_esft_layer_free(mm_esft_layer *l);

/* Reads a folder of expert_weights_<L>.txt files. */
int mm_esft_read_dir(const char *dir, const moemap_read_params *p, moemap_loads **loads_out,
                     moemap_routing **routing_out, moemap_error *err);
/* Builds loads from routing, batching consecutive tokens. */
int mm_loads_from_routing(const moemap_routing *rt, long batch_tokens, moemap_loads **out,
                          moemap_error *err);

/* JSON formats, from a parsed tree; `name` is the file name for messages. */
int mm_loads_from_json(const json_t *root, const char *name, moemap_loads **out,
                       moemap_error *err);
/* moemap.loads/v1 as moemap writes it, read from the text without a tree: 0 with *out,
 * 1 when the text is anything else or has a problem (nothing reported; read it with
 * mm_loads_from_json then, which words the message). */
int mm_loads_parse_stream(const char *buf, size_t len, moemap_loads **out);
int mm_sglang_from_json(const json_t *root, const char *name, const moemap_read_params *p,
                        moemap_loads **out, moemap_error *err);
/* CSV from a buffer. */
int mm_csv_parse(const char *buf, size_t len, const char *name, const moemap_read_params *p,
                 moemap_loads **out, moemap_error *err);

#endif
