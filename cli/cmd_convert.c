/*
 * cmd_convert.c — `moemap convert`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap convert: not available yet in this build\n");
    return 2;
}
