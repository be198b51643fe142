/*
 * cmd_validate.c — `moemap validate`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_validate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap validate: not available yet in this build\n");
    return 2;
}
