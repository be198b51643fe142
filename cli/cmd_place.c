/*
 * cmd_place.c — `moemap place`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_place(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap place: not available yet in this build\n");
    return 2;
}
