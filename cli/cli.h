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

/* Each subcommand is `int cmd_<name>(int argc, char **argv)`, argv[0] being its name. */
typedef int (*cli_command_fn)(int argc, char **argv);
typedef struct cli_command {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} cli_command;

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

/* Strict number parsing for flag values: the whole string must be a number within
 * [lo, hi]. On failure prints a usage error naming the flag and returns 2. */
int cli_parse_long(const char *cmd, const char *flag, const char *s, long lo, long hi,
                   long *out);
int cli_parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                     double *out);
/* Comma-separated list of doubles ("1,0.9,0.95"). *out is malloc'ed; caller frees. */
int cli_parse_double_list(const char *cmd, const char *flag, const char *s, double **out,
                          int *n);

/* The workload-input flags every command that reads loads shares: --format NAME and
 * --batch-tokens N into a moemap_read_params. 0, or 2 after printing a usage error. */
int cli_parse_workload_format(const char *cmd, const char *arg, moemap_read_params *rp);
/* --dispatch token-gpu|token-expert|off into *a2a; 2 after a usage error. */
int cli_parse_dispatch(const char *cmd, const char *arg, moemap_a2a_params *a2a);
int cli_parse_batch_tokens(const char *cmd, const char *arg, moemap_read_params *rp);

/* The input flags that place, eval and validate share, and reading what they name.
 * Add CLI_INPUT_OPTIONS (and, where wanted, CLI_PREVIOUS_OPTION) to the getopt_long
 * table, call cli_input_option from the switch's default, then read with
 * cli_inputs_read. */
#define CLI_MAX_MIX 8

typedef struct cli_inputs {
    const char *loads_path;      /* -l, --loads */
    const char *cluster_path;    /* -c, --cluster */
    const char *previous_path;   /* --previous: a placement now in service */
    moemap_read_params rp;       /* --format, --batch-tokens, --top-k */
    int batch_given;             /* --batch-tokens was given */
    int num_mix;                 /* --batch-tokens N1:W1,N2:W2: a mix of operating points */
    double mix_tokens[CLI_MAX_MIX];
    double mix_weights[CLI_MAX_MIX];
    int slots;                   /* --slots: every GPU's slots (0: the cluster's) */
    const moemap_model *model;   /* -m, --model: top-k for aggregates, SGLang rows */
    moemap_engine engine;        /* --engine sglang|vllm (default none: a free placement) */
    moemap_a2a_params a2a;       /* --dispatch token-gpu|token-expert|off */
    const char *cmd;             /* the command, for messages */
    char op_text[160];           /* after cli_inputs_read: the operating point in words
                                    ("4096", "4096 (80%) and 16384 (20%)"); "" if none */
    double batch_tokens;         /* after cli_inputs_read: the operating point used (0 when
                                    the loads were taken as they are) */
} cli_inputs;

enum {
    CLI_OPT_FORMAT = 1000, CLI_OPT_BATCH, CLI_OPT_SLOTS, CLI_OPT_PREVIOUS, CLI_OPT_TOPK,
    CLI_OPT_ENGINE, CLI_OPT_DISPATCH
};

/* getopt_long entries (needs <getopt.h>); the short options are 'l' and 'c'. */
#define CLI_INPUT_OPTIONS                                                                   \
    {"loads", required_argument, 0, 'l'}, {"cluster", required_argument, 0, 'c'},          \
        {"format", required_argument, 0, CLI_OPT_FORMAT},                                  \
        {"batch-tokens", required_argument, 0, CLI_OPT_BATCH},                             \
        {"slots", required_argument, 0, CLI_OPT_SLOTS},                                   \
        {"top-k", required_argument, 0, CLI_OPT_TOPK}, {"model", required_argument, 0, 'm'}, \
        {"engine", required_argument, 0, CLI_OPT_ENGINE},                                 \
        {"dispatch", required_argument, 0, CLI_OPT_DISPATCH}
#define CLI_PREVIOUS_OPTION {"previous", required_argument, 0, CLI_OPT_PREVIOUS}

/* The input flags' help text, shared by place, eval and validate. */
#define CLI_INPUT_HELP                                                                      \
    "  -l, --loads L           workload: moemap.loads/v1, SGLang dump (logical_count), CSV,\n" \
    "                          or an ESFT folder of per-token routing\n"                      \
    "  --format F              esft, sglang, loads or csv (default: detected)\n"            \
    "  --batch-tokens N        the operating point: tokens per engine iteration. Traces are\n" \
    "                          cut into N-token batches (default 512); aggregate loads (one\n" \
    "                          batch) become iterations of N tokens, expected and sampled\n" \
    "                          (default 128 per GPU, a decode iteration, said on stderr);\n"  \
    "                          N1:W1,N2:W2 mixes sizes (e.g. 4096:0.8,16384:0.2: decode and\n" \
    "                          prefill iterations, W the share of iterations)\n"            \
    "  --top-k K               experts per token (aggregate inputs need it, or --model)\n"   \
    "  -m, --model NAME        model preset (moemap models): top-k, expert size, SGLang rows\n" \
    "  -c, --cluster C         cluster profile (moemap.cluster/v1)\n"                       \
    "  --slots N               expert slots of every GPU (default: the cluster's)\n"        \
    "  --engine E              sglang or vllm: place / judge under that engine's rules\n"    \
    "                          (equal slots, every slot filled, equal split over copies)\n" \
    CLI_DISPATCH_HELP
/* Shared by the input flags and simulate. */
#define CLI_DISPATCH_HELP                                                                   \
    "  --dispatch D            dispatch and combine in the cost: token-gpu (default: one row\n" \
    "                          per token and GPU), token-expert (one per token and expert)\n" \
    "                          or off (expert compute alone, the model before all-to-all)\n"

/* Reads any placement file (moemap, SGLang or vLLM format, detected by content) for the
 * inputs' cluster (SGLang's ranks), model (its rows) and loads (their layers). */
int cli_is_directory(const char *path);
int cli_read_placement(const cli_inputs *in, const char *path, const moemap_cluster *cl,
                       const moemap_loads *ld, moemap_placement **out, moemap_error *err);

cli_inputs cli_inputs_default(void);
/* The `default:` of a getopt_long switch in a command that takes the input flags: 0 when
 * c is an input flag, taken (with optarg) into *in; else 2 after printing the usage
 * error for a bad value, a missing value (':') or an unknown option. */
int cli_input_option(const char *cmd, int c, char **argv, cli_inputs *in);
/* Reads what *in names, in this order, each only when its path is set: the workload into
 * *ld, the cluster into *cl, the previous placement into *prev (ld, cl or prev may be
 * NULL when their path is unset). Returns 0, or the first failure's status with its
 * message in err; what was read before it is left in the outputs for the caller to
 * free. */
int cli_inputs_read(cli_inputs *in, moemap_loads **ld, moemap_cluster **cl,
                    moemap_placement **prev, moemap_error *err);

/* What gen and convert wrote: with --json an object {out, layers, experts, top_k,
 * batches, tokens} on stdout (out must not be '-' then: the caller refuses it), else a
 * line on stderr unless the workload itself went to stdout. */
void cli_loads_written(const char *out, const moemap_loads *ld, const char *what, int as_json);

/* "GPU=VALUE" (--sm-limit 1=66, --throttle 3=0.8): GPU in [0, max_gpu], VALUE in
 * [lo, hi]. 0, or 2 after a usage error naming the flag. */
int cli_parse_gpu_value(const char *cmd, const char *flag, const char *s, int max_gpu,
                        double lo, double hi, int *gpu, double *value);
/* "0,2,5": integers in [lo, hi] into a malloc'ed array. 0, or 2. */
int cli_parse_int_list(const char *cmd, const char *flag, const char *s, long lo, long hi,
                       int **out, int *n);
/* "moemap ARGS..." (malloc'ed; NULL when out of memory): what a profile records as the
 * command that made it. argv[0] is the subcommand. */
char *cli_command_line(int argc, char **argv);

/* A --strategy value: 0 when the library knows it, else 2 after a usage error listing
 * the known names (an unknown name is a usage error, like an unknown --model). */
int cli_check_strategy(const char *cmd, const char *name);

/* Progress on stderr when it is a terminal (silent otherwise, so logs stay clean):
 * "what: 45% (9/20)" redrawn in place; cli_progress_done ends the line. */
void cli_progress(const char *what, long done, long total);
void cli_progress_done(void);

/* 1 when stdout is a terminal (for choosing table vs. plain output). */
int cli_stdout_is_tty(void);

#endif
