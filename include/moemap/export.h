/*
 * moemap/export.h — placements written for serving engines: SGLang
 * --init-expert-location JSON and vLLM/EPLB-style phy2log/log2phy/logcnt JSON, and the
 * matching readers for round trips. Owned by the placement engine (issue 4).
 *
 * Both engines lay physical expert slots out rank by rank with the SAME number of slots
 * on every rank (physical slot p lives on rank p / slots_per_rank), fill every slot, and
 * split an expert's tokens evenly over its replicas. A moemap placement can be richer:
 * uneven replica counts per GPU and unequal shares. The writers refuse such placements
 * with a message that says what the engine cannot express, unless params.approximate is
 * set: then shares are treated as equal and GPUs with fewer replicas than the busiest
 * one get extra copies of experts they do not hold yet (fewest replicas first), and
 * moemap_export_info.note says what was changed.
 *
 * Formats (docs/export.md):
 *   SGLang: {"physical_to_logical_map": [[...]]}, exactly that one key, shape
 *           [all model layers][physical slots]; dense layers get a valid trivial row
 *           (slot p -> expert p mod experts), as SGLang's own "trivial" init does.
 *   vLLM:   {"phy2log": [moe layers][physical], "log2phy": [moe layers][experts][max
 *           replicas] padded with -1, "logcnt": [moe layers][experts]} over MoE layers
 *           only, plus "layers" (model layer ids) and "num_ranks" so it reads back.
 */
#ifndef MOEMAP_EXPORT_H
#define MOEMAP_EXPORT_H

#include <stddef.h>

#include "moemap/model.h"
#include "moemap/placement.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

typedef enum {
    MOEMAP_EXPORT_MOEMAP = 0, /* moemap.placement/v1 (moemap_placement_write) */
    MOEMAP_EXPORT_SGLANG,     /* SGLang --init-expert-location JSON */
    MOEMAP_EXPORT_VLLM        /* vLLM/EPLB phy2log/log2phy/logcnt JSON */
} moemap_export_format;

/* "moemap", "sglang", "vllm" (also accepts "eplb" for vllm); -1 when unknown. */
int moemap_export_format_parse(const char *name);
const char *moemap_export_format_name(moemap_export_format f);

typedef struct moemap_export_params {
    const moemap_model *model; /* optional: gives the model's layer count (SGLang rows)
                                  and which layers are MoE (checked against the
                                  placement) */
    int num_model_layers;      /* SGLang rows when model is NULL; 0: last placed layer + 1 */
    int approximate;           /* 1: equalise shares / pad uneven slots instead of failing */
} moemap_export_params;
moemap_export_params moemap_export_default_params(void);

/* What a writer did. */
typedef struct moemap_export_info {
    int slots_per_rank;        /* physical slots on every rank */
    int physical_experts;      /* slots_per_rank * GPUs */
    int redundant_experts;     /* physical_experts - experts (SGLang's
                                  --ep-num-redundant-experts) */
    int approximated;          /* 1 when shares were equalised or slots padded */
    char note[256];            /* what was approximated, "" when nothing */
} moemap_export_info;

/* Serialises p in `fmt` into a newly allocated NUL-terminated string (*out, free with
 * moemap_free). info may be NULL. MOEMAP_EINFEASIBLE when the engine cannot express the
 * placement (and approximate is off); the message says why. */
int moemap_export_to_string(const moemap_placement *p, moemap_export_format fmt,
                            const moemap_export_params *params, char **out,
                            moemap_export_info *info, moemap_error *err);
/* Same, written to path ("-" = stdout). */
int moemap_export_write(const moemap_placement *p, moemap_export_format fmt,
                        const moemap_export_params *params, const char *path,
                        moemap_export_info *info, moemap_error *err);

typedef struct moemap_import_params {
    int num_gpus;              /* ranks the physical slots are split over (required for
                                  SGLang; vLLM files carry "num_ranks") */
    const moemap_model *model; /* SGLang: which rows are MoE layers (NULL: every row) */
    const int *layers;         /* SGLang without a model: only these rows (model layer
                                  ids, e.g. the MoE layers of the loads) become layers;
                                  NULL: every row */
    int num_layers;            /* entries of layers */
} moemap_import_params;
moemap_import_params moemap_import_default_params(void);

/* Parses an export from a buffer (fuzz targets) or a file into a placement with equal
 * shares per replica. `name` stands for the file name in messages. Errors name the JSON
 * path ("x.json: phy2log[3][17]: expert 70 outside 0..63"). */
int moemap_export_parse(moemap_export_format fmt, const char *buf, size_t len,
                        const char *name, const moemap_import_params *params,
                        moemap_placement **out, moemap_error *err);
int moemap_export_read(moemap_export_format fmt, const char *path,
                       const moemap_import_params *params, moemap_placement **out,
                       moemap_error *err);

/* Reads a placement in any of the three formats, detected by content: a "format" key
 * (moemap.placement/v1), "physical_to_logical_map" (SGLang) or "phy2log" (vLLM/EPLB).
 * Engine layouts get the engines' dispatch semantics: each of an expert's copies serves an
 * equal part of its tokens. *fmt (may be NULL) receives the format found. */
int moemap_placement_read_any(const char *path, const moemap_import_params *params,
                              moemap_placement **out, moemap_export_format *fmt,
                              moemap_error *err);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
