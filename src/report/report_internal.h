/*
 * report_internal.h — the pieces `moemap report` is built from, internal to libmoemap:
 * a growable text buffer, the page being assembled (charts as gnuplot scripts, HTML
 * tables, notes), one builder per input kind, the gnuplot runner and the HTML writer.
 *
 * Flow (report.c): each input file is loaded with jansson and handed to its builder
 * (report_stats.c, report_eval.c, report_cluster.c, report_sim.c), which appends charts
 * (a gnuplot script with its data inline as datablocks) and summary tables to the page;
 * report_gnuplot.c then runs gnuplot once per chart, and report_html.c embeds the PNGs.
 */
#ifndef MOEMAP_REPORT_INTERNAL_H
#define MOEMAP_REPORT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "moemap/base.h"
#include "moemap/io.h"
#include "moemap/report.h"

/* A growable NUL-terminated string. A failed allocation sets `oom` and later appends
 * do nothing, so builders append freely and check once at the end. */
typedef struct rp_buf {
    char *s;
    size_t len, cap;
    int oom;
} rp_buf;
void rp_buf_printf(rp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void rp_buf_append(rp_buf *b, const char *s, size_t n);
/* Appends s with &, <, >, " escaped for HTML text and attributes. */
void rp_buf_html(rp_buf *b, const char *s);
/* Appends s as a gnuplot single-quoted string (single quotes doubled). */
void rp_buf_gp_str(rp_buf *b, const char *s);
void rp_buf_free(rp_buf *b);
/* snprintf for messages and JSON paths, where cutting a long name short is fine (kept
 * apart so the compiler's truncation warnings stay meaningful elsewhere). */
void rp_fmt(char *out, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Default size of a chart in pixels; charts may ask for another height. */
#define RP_CHART_W 1000
#define RP_CHART_H 420

typedef enum { RP_ITEM_CHART, RP_ITEM_HTML } rp_item_kind;

/* One block of the page: a chart (gnuplot script that draws it, without the terminal
 * and output lines, which the runner adds) or a ready HTML fragment (a table). */
typedef struct rp_item {
    rp_item_kind kind;
    char id[32];        /* chart id (file names, HTML anchors) */
    char title[160];
    rp_buf caption;     /* HTML: what the chart shows and what to look for */
    rp_buf body;        /* gnuplot script (chart) or HTML fragment */
    int height;         /* chart height in pixels */
    unsigned char *png; /* drawn chart, filled by the runner */
    size_t png_len;
} rp_item;

typedef struct rp_page {
    char title[160];
    int num_items, cap_items;
    rp_item *items;
    rp_buf inputs;      /* HTML list of the input files */
    rp_buf missing;     /* HTML list of charts left out and the input that adds them */
    int charts_missing;
} rp_page;

/* Appends a new item (zeroed, kind and id set); NULL when out of memory. */
rp_item *rp_page_add(rp_page *page, rp_item_kind kind, const char *id, const char *title);
/* Notes a chart that could not be drawn and why ("needs --eval with per-GPU times"). */
void rp_page_missing(rp_page *page, const char *chart, const char *why);
void rp_page_free(rp_page *page);

/* Builders: read one parsed input (file name `path` for messages) and append to page.
 * They return 0 or a negative status with err naming path and the JSON field. */
/* with_pairs: also draw the strongest co-activated pairs (when no --loads is given). */
int rp_add_stats(rp_page *page, const char *path, int with_pairs, moemap_error *err);
/* The co-activation matrix of the hottest experts, from a workload (report_coact.c). */
int rp_add_coactivation_loads(rp_page *page, const char *path, int hot, moemap_error *err);
/* The eval charts from an eval file (read with moemap_eval_read); layer < 0: the layer
 * where the placements differ most. */
int rp_add_eval(rp_page *page, const char *path, int layer, moemap_error *err);
int rp_add_cluster(rp_page *page, const char *path, moemap_error *err);
int rp_add_simulate(rp_page *page, const char *path, moemap_error *err);
int rp_add_timeseries(rp_page *page, const char *path, moemap_error *err);

/* Common gnuplot preamble (fonts, grid, colours) appended to every chart script. */
void rp_gp_style(rp_buf *script);
/* Colour of the i-th series (a colour-blind-safe palette), as "#rrggbb". */
const char *rp_gp_color(int i);

/* Runs `gnuplot` on every chart of the page inside work_dir and loads the PNGs. */
int rp_render_charts(rp_page *page, const char *gnuplot, const char *work_dir,
                     moemap_progress_fn progress, void *ctx,
                     moemap_error *err);

/* Writes the whole page as one self-contained HTML file; *bytes gets its size. */
int rp_write_html(const rp_page *page, const char *path, long *bytes, moemap_error *err);

#endif
