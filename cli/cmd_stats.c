/*
 * cmd_stats.c — `moemap stats`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_stats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap stats: not available yet in this build\n");
    return 2;
}
