/*
 * moemap/report.h — one self-contained HTML report from the JSON outputs of the pipeline
 * (stats, eval, simulate and its time series, the cluster profile).
 *
 * Charts are drawn by gnuplot (pngcairo terminal), run as a subprocess on a generated
 * script with the data inline; the PNGs are embedded in the page as data: URIs and the
 * page has no external reference, so it opens offline and can be mailed as one file.
 * Every input is optional; a chart whose input is missing is left out and the page says
 * which input would add it. Owned by the report issue (issue 7).
 */
#ifndef MOEMAP_REPORT_H
#define MOEMAP_REPORT_H

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef struct moemap_report_params {
    const char *title;           /* page title; NULL: "moemap report" */
    const char *stats_path;      /* `moemap stats --json` output, or NULL */
    const char *eval_path;       /* `moemap eval --json` output, or NULL */
    const char *simulate_path;   /* `moemap simulate --json` output, or NULL */
    const char *timeseries_path; /* `moemap simulate --timeseries` output, or NULL */
    const char *cluster_path;    /* moemap.cluster/v1, or NULL */
    const char *loads_path;      /* the workload (any input moemap stats reads), or NULL:
                                    gives the full co-activation matrix of the hottest
                                    experts instead of stats' strongest pairs */
    const char *gnuplot;         /* gnuplot executable (searched in PATH); NULL: "gnuplot" */
    const char *work_dir;        /* where scripts and PNGs are written; NULL: a fresh
                                    temporary folder, removed afterwards */
    int layer;                   /* model layer of the per-GPU time bars; -1: the layer
                                    with the largest straggler spread between strategies */
    int hot_experts;             /* experts shown in the co-activation chart (default 16) */
    /* Called after each chart is drawn ("charts", from the calling thread); may be NULL. */
    moemap_progress_fn progress;
    void *progress_ctx;
} moemap_report_params;

moemap_report_params moemap_report_default_params(void);

/* What went into a written report. */
typedef struct moemap_report_summary {
    int charts;         /* charts drawn and embedded */
    int charts_missing; /* charts left out for lack of an input */
    long bytes;         /* size of the HTML file */
} moemap_report_summary;

/* Reads the inputs named in params, draws every chart they allow and writes the page to
 * out_html. Fails (nothing written) when no input is given, an input cannot be read or
 * is malformed (the message names the file and field), or gnuplot is missing or fails
 * (the message quotes gnuplot's own error). summary may be NULL. */
int moemap_report_write(const moemap_report_params *params, const char *out_html,
                        moemap_report_summary *summary, moemap_error *err);

/* The comparison table `make demo` prints, as aligned plain text: one row per strategy
 * of the eval input (or per run of the simulate input when there is none) with the
 * straggler time per batch (mean, p99), the gap to the lower bound, p90 TTFT, p90 TPOT
 * and SLO attainment ("-" where an input lacks a value). Simulate runs are matched to
 * strategies by label (placement file "eplb.json" -> "eplb"). Needs eval_path or
 * simulate_path. *text is allocated with moemap_malloc (free with moemap_free). */
int moemap_report_table(const moemap_report_params *params, char **text, moemap_error *err);

/* Base64 (RFC 4648, with padding) of n bytes into a NUL-terminated string allocated
 * with moemap_malloc (free with moemap_free); NULL when out of memory. */
char *moemap_base64_encode(const unsigned char *data, size_t n);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
