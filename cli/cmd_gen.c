/*
 * cmd_gen.c — `moemap gen`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_gen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap gen: not available yet in this build\n");
    return 2;
}
