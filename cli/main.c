/*
 * main.c — the moemap command-line tool: dispatches to one subcommand per pipeline stage
 * (see DESIGN.md: profile, stats, place, eval, simulate, run, report, ...).
 */
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
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
    fprintf(f, "moemap %s — expert placement for MoE serving on GPUs of unequal speed\n\n",
            moemap_version());
    fprintf(f, "usage: moemap <command> [options]   (moemap <command> --help for details)\n\n");
    fprintf(f, "commands:\n");
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("moemap %s\n", moemap_version());
        return 0;
    }
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "moemap: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
