/*
 * cmd_simulate.c — `moemap simulate`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap simulate: not available yet in this build\n");
    return 2;
}
