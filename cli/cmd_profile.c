/*
 * cmd_profile.c — `moemap profile`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_profile(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap profile: not available yet in this build\n");
    return 2;
}
