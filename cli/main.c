/*
 * main.c — the moemap command-line tool: dispatches to one subcommand per pipeline stage
 * (DESIGN.md) under the rules every command shares about files (moemap/io.h): an output
 * that is also an input is refused first; outputs are put in place only when the command
 * succeeds; a signal removes temporary files; a failed write to stdout is an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Each subcommand is `int cmd_<name>(int argc, char **argv)`, argv[0] being its name. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"models", cmd_models, "list the MoE model presets"},
    {"gen", cmd_gen, "generate a synthetic workload (moemap.loads/v1)"},
    {"convert", cmd_convert, "convert a workload input to moemap.loads/v1"},
    {"stats", cmd_stats, "profile a workload: skew, consistent/temporal experts, co-activation"},
    {"cluster", cmd_cluster, "build (synth) or show a cluster profile"},
    {"profile", cmd_profile, "measure each GPU's expert cost curve (CUDA)"},
    {"place", cmd_place, "place experts on GPUs with a strategy"},
    {"eval", cmd_eval, "compare placements: straggler time, gap to the lower bound"},
    {"validate", cmd_validate, "check a placement against its cluster"},
    {"simulate", cmd_simulate, "simulate serving: TTFT, TPOT, SLO attainment"},
    {"run", cmd_run, "execute MoE layers on real GPUs under placements (CUDA, NCCL)"},
    {"report", cmd_report, "write an HTML report with charts"},
};
#define NUM_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "moemap %s — expert placement for MoE serving on GPUs of unequal speed\n\n"
            "usage: moemap <command> [options]   (moemap <command> --help for details)\n\n"
            "  (moemap --max-input-bytes SIZE <command> ...: raise the input file limit)\n\n"
            "commands:\n", moemap_version());
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs(CLI_CONVENTIONS, f);
}

/* Refuses (exit 2) an output that is the same file as any other argument, or as another
 * output: writing it would destroy an input the command is still reading; and "-" given
 * to two inputs or two outputs. --timeseries is an output of simulate only (report reads
 * one). */
static int check_outputs(const char *cmd, int argc, char **argv)
{
    static const char *const sim_outputs[] = {"--timeseries", NULL};
    const char *const *extra = strcmp(cmd, "simulate") ? NULL : sim_outputs;
    char why[1200];
    cli_stdout_taken = moemap_args_stdout_output(argc, argv, extra);
    if (!moemap_args_output_clash(argc, argv, extra, why, sizeof why))
        return 0;
    fprintf(stderr, "moemap %s: %s\n", cmd, why);
    return 2;
}

/* Runs one command under the shared file rules (see the top of this file). */
static int run_command(const char *name, int (*fn)(int, char **), int argc, char **argv)
{
    int rc = check_outputs(name, argc, argv);
    if (rc)
        return rc;
    moemap_outputs_catch_signals();
    moemap_outputs_hold();
    rc = fn(argc, argv);
    moemap_error err = {0};
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        fprintf(stderr, "moemap %s: <stdout>: write failed: %s\n", name,
                e ? strerror(e) : "error on the stream");
        rc = rc ? rc : 1;
    }
    if (moemap_outputs_release(rc == 0, &err) != 0)
        rc = cli_fail(name, &err);
    return rc;
}

int main(int argc, char **argv)
{
    /* The input limit: MOEMAP_MAX_INPUT_BYTES, or --max-input-bytes SIZE before the
     * command (for real files larger than the default; see docs/limits.md). */
    const char *limit = getenv("MOEMAP_MAX_INPUT_BYTES");
    if (argc >= 3 && !strcmp(argv[1], "--max-input-bytes")) {
        limit = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (limit) {
        uint64_t v = moemap_parse_size(limit);
        if (!v) {
            fprintf(stderr, "moemap: --max-input-bytes / MOEMAP_MAX_INPUT_BYTES: '%s' is not "
                            "a size (bytes, or a number with K, M, G or T)\n", limit);
            return 2;
        }
        moemap_set_max_input_bytes(v);
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("moemap %s\n", moemap_version());
        return 0;
    }
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return run_command(name, commands[i].fn, argc - 1, argv + 1);
    fprintf(stderr, "moemap: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
