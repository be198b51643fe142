/*
 * cmd_models.c — `moemap models`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_models(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap models: not available yet in this build\n");
    return 2;
}
