/*
 * cmd_eval.c — `moemap eval`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap eval: not available yet in this build\n");
    return 2;
}
