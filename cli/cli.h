/*
 * cli.h — what the moemap subcommands share: the command table, error printing, number
 * parsing for flags, and terminal progress. Algorithms never live in cli/: a subcommand
 * parses arguments, calls libmoemap and prints.
 *
 * Exit statuses: 0 success, 1 a failure of the work (bad input file, infeasible request),
 * 2 a usage error (unknown flag, bad flag value).
 */
#ifndef MOEMAP_CLI_H
#define MOEMAP_CLI_H

#include <stdio.h>

#include "moemap.h"

/* The subcommands (main.c's table): argv[0] is the subcommand's name. */
int cmd_models(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_place(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Prints "moemap <cmd>: <err->msg>" on stderr and returns 1. */
int cli_fail(const char *cmd, const moemap_error *err);
/* Prints "moemap <cmd>: <message>" and a hint to --help on stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The rules every command keeps (docs/cli.md), at the end of every --help. */
#define CLI_CONVENTIONS                                                                     \
    "\nA file named '-' is standard input or output (one input and one output at most).\n" \
    "Exit status: 0 done, 1 the work failed, 2 a usage error. See docs/cli.md.\n"
/* One flag of a command's table (see cli_parse): its long name (without "--"), short
 * key (0: none), what its value becomes, and its line in --help. */
typedef enum cli_kind {
    CLI_TEXT = MOEMAP_OPT_TEXT,     /* no flag: help text as it is (a heading) */
    CLI_STR = MOEMAP_OPT_STR,       /* const char *: the value as given */
    CLI_SET = MOEMAP_OPT_SET,       /* int: set to 1; takes no value */
    CLI_INT = MOEMAP_OPT_INT,       /* int within [lo, hi] */
    CLI_LONG = MOEMAP_OPT_LONG,     /* long within [lo, hi] */
    CLI_SEED = MOEMAP_OPT_SEED,     /* uint64_t within [lo, hi] (hi 0: LONG_MAX) */
    CLI_DOUBLE = MOEMAP_OPT_DOUBLE, /* double within [lo, hi] */
    CLI_MS = MOEMAP_OPT_MS,         /* milliseconds within [lo, hi], stored as seconds */
    CLI_DLIST,  /* cli_dlist: "1,0.9,0.95" (a later use replaces an earlier one) */
    CLI_ILIST,  /* cli_ilist: "0,2,5", integers within [lo, hi] */
    CLI_FN,     /* fn(cmd, value, dst): 0, or 2 after a usage error */
    CLI_GROUP   /* the library's options (moemap/options.h) of the struct at dst */
} cli_kind;

typedef struct cli_dlist {
    double *v; /* moemap_malloc'ed: free with moemap_free */
    int n;
} cli_dlist;
typedef struct cli_ilist {
    int *v;    /* moemap_malloc'ed */
    int n;
} cli_ilist;

typedef struct cli_flag {
    const char *name;  /* NULL with help NULL ends the table */
    char key;
    cli_kind kind;
    void *dst;
    double lo, hi;
    const char *arg;   /* the value's name in --help ("N", "FILE"), NULL for none */
    const char *help;  /* the help line; "\n" continues it under the help column, "{}"
                          shows the current (default) value; NULL: not listed */
    int (*fn)(const char *cmd, const char *arg, void *dst);
} cli_flag;

/* What a CLI_GROUP entry's dst points at. */
typedef struct cli_group {
    void *base;
    const moemap_option *options;
} cli_group;

/* A help-only line, and the end of a table. */
#define CLI_HELP(text) {NULL, 0, CLI_TEXT, NULL, 0, 0, NULL, text, NULL}
#define CLI_HELP_FLAG CLI_HELP("  -h, --help\n")
#define CLI_END CLI_HELP(NULL)
/* --json (every command that prints results takes it, docs/cli.md) into the int *dst. */
#define CLI_JSON(dst, help) {"json", 0, CLI_SET, (dst), 0, 0, NULL, (help), NULL}
/* --model, --hidden and --intermediate: an expert shape from a preset or given. */
#define CLI_SHAPE_FLAGS(model, hidden, inter, arg, help, shape_help)                       \
    {"model", 'm', CLI_FN, (model), 0, 0, (arg), (help), cli_input_model},                \
    {"hidden", 0, CLI_INT, (hidden), 8, 1 << 20, NULL, NULL, NULL},                        \
    {"intermediate", 0, CLI_INT, (inter), 8, 1 << 20, NULL, NULL, NULL}, CLI_HELP(shape_help)
/* The library's options of the struct *base (moemap_gen_options(), ...), in their order. */
#define CLI_GROUP(base, options)                                                            \
    {NULL, 0, CLI_GROUP, &(cli_group){(base), (options)}, 0, 0, NULL, NULL, NULL}

typedef struct cli_spec {
    const char *cmd;      /* "place", "cluster synth": messages name it */
    const char *usage;    /* --help before the flags */
    const cli_flag *flags;
    const char *footer;   /* --help after the flags, or NULL */
    int width;            /* the help column (0: 26) */
    const cli_flag *more; /* a second table after flags (a long one split), or NULL */
} cli_spec;

/* Parses argv[1..] by the table: -1 to go on (positional arguments are then
 * argv[optind..argc)), 0 after printing --help, 2 after a usage error (an unknown flag,
 * a missing or bad value). */
int cli_parse(const cli_spec *s, int argc, char **argv);
/* cli_parse for a command whose one input is its argument or -l/--loads (stats,
 * convert): *input set, and any other argument a usage error. */
int cli_parse_input(const cli_spec *s, int argc, char **argv, const char **input);

/* The input flags that place, eval and validate share, and reading what they name:
 * put CLI_INPUT_FLAGS(&in) (and, where wanted, CLI_PREVIOUS_FLAG(&in)) in the table,
 * then read with cli_inputs_read. */
typedef struct cli_inputs {
    const char *loads_path;      /* -l, --loads */
    const char *cluster_path;    /* -c, --cluster */
    const char *previous_path;   /* --previous: a placement now in service */
    moemap_input_params ip;      /* --format, --batch-tokens, --top-k, --slots, --engine,
                                    --model; after cli_inputs_read the operating point */
    const char *cmd;             /* the command, for messages */
} cli_inputs;

int cli_input_format(const char *cmd, const char *arg, void *rp);
int cli_input_batch(const char *cmd, const char *arg, void *ip);
int cli_input_model(const char *cmd, const char *arg, void *model);
int cli_input_engine(const char *cmd, const char *arg, void *engine);
int cli_input_dispatch(const char *cmd, const char *arg, void *a2a); /* token-gpu|...|off */

#define CLI_INPUT_FLAGS(in)                                                                 \
    {"loads", 'l', CLI_STR, &(in)->loads_path, 0, 0, "L",                                  \
     "workload: moemap.loads/v1, SGLang dump (logical_count), CSV,\n"                      \
     "or an ESFT folder of per-token routing", NULL},                                      \
    {"format", 0, CLI_FN, &(in)->ip.read, 0, 0, "F",                                       \
     "esft, sglang, loads or csv (default: detected)", cli_input_format},                  \
    {"batch-tokens", 0, CLI_FN, &(in)->ip, 0, 0, "N",                                      \
     "the operating point: tokens per engine iteration. Traces are\n"                      \
     "cut into N-token batches (default 512); aggregate loads (one\n"                      \
     "batch) become iterations of N tokens, expected and sampled\n"                        \
     "(default 128 per GPU, a decode iteration, said on stderr);\n"                        \
     "N1:W1,N2:W2 mixes sizes (e.g. 4096:0.8,16384:0.2: decode and\n"                      \
     "prefill iterations, W the share of iterations)", cli_input_batch},                   \
    {"top-k", 0, CLI_INT, &(in)->ip.read.top_k, 1, 4096, "K",                              \
     "experts per token (aggregate inputs need it, or --model)", NULL},                    \
    {"model", 'm', CLI_FN, &(in)->ip.model, 0, 0, "NAME",                                  \
     "model preset (moemap models): top-k, expert size, SGLang rows", cli_input_model},    \
    {"cluster", 'c', CLI_STR, &(in)->cluster_path, 0, 0, "C",                              \
     "cluster profile (moemap.cluster/v1)", NULL},                                         \
    {"slots", 0, CLI_INT, &(in)->ip.slots, 1, 1000000, "N",                                \
     "expert slots of every GPU (default: the cluster's)", NULL},                          \
    {"engine", 0, CLI_FN, &(in)->ip.engine, 0, 0, "E",                                     \
     "sglang or vllm: place / judge under that engine's rules\n"                           \
     "(equal slots, every slot filled, equal split over copies)", cli_input_engine},       \
    {"dispatch", 0, CLI_FN, &(in)->ip.a2a, 0, 0, "D",                                      \
     "dispatch and combine in the cost: token-gpu (default: one row\n"                     \
     "per token and GPU), token-expert (one per token and expert)\n"                       \
     "or off (expert compute alone, the model before all-to-all)", cli_input_dispatch}
#define CLI_PREVIOUS_FLAG(in, text)                                                         \
    {"previous", 0, CLI_STR, &(in)->previous_path, 0, 0, "OLD.json", text, NULL}

/* moemap_inputs_read of what *in names, saying on stderr what the library notes (the
 * operating point it assumed). */
int cli_inputs_read(cli_inputs *in, moemap_loads **ld, moemap_cluster **cl,
                    moemap_placement **prev, moemap_error *err);

/* "GPU=VALUE" (--sm-limit 1=66, --throttle 3=0.8): GPU in [0, max_gpu], VALUE in
 * [lo, hi]. 0, or 2 after a usage error naming the flag. */
int cli_parse_gpu_value(const char *cmd, const char *flag, const char *s, int max_gpu,
                        double lo, double hi, int *gpu, double *value);

/* A CLI_FN for --strategy: an unknown name is a usage error listing the known ones. */
int cli_strategy(const char *cmd, const char *arg, void *dst);

/* Progress on stderr when it is a terminal (silent otherwise, so logs stay clean):
 * "what: 45% (9/20)" redrawn in place; cli_progress_done ends the line. */
void cli_progress(const char *what, long done, long total);
void cli_progress_done(void);
/* cli_progress as the library's moemap_progress_fn: the label is ctx (a const char *)
 * when set, else the library's own `what`. */
void cli_progress_fn(void *ctx, const char *what, long done, long total);

/* Each line of text (may be NULL) on stderr as "moemap <cmd>: <line>". */
void cli_notes(const char *cmd, const char *text);
/* Prints text (from the library's report builders) on f and frees it: 0, or 1 after
 * saying "out of memory" when text is NULL. Text for stdout goes to stderr when an
 * output is "-" (cli_stdout_taken, set by main.c): the file's bytes stay alone there. */
extern int cli_stdout_taken;
int cli_put(const char *cmd, char *text, FILE *f);

#endif
