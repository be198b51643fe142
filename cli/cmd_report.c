/*
 * cmd_report.c — `moemap report`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap report: not available yet in this build\n");
    return 2;
}
