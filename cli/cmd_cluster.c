/*
 * cmd_cluster.c — `moemap cluster`. Placeholder until its issue lands: says so and exits 2.
 */
#include "cli.h"

int cmd_cluster(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "moemap cluster: not available yet in this build\n");
    return 2;
}
