/*
 * cmd_run.c — `moemap run`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap run: not available yet in this build\n");
    return 2;
}
