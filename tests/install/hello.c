/*
 * hello.c — the small C program the install test (tests/cli_install.sh) builds against an
 * installed libmoemap, once through pkg-config and once through find_package(moemap): it
 * places 8 experts with given loads on 4 equal GPUs of 3 slots with the eplb strategy,
 * validates the result and prints one line, so that a library that installs but cannot be
 * linked, loaded or called fails the test.
 */
#include <stdio.h>

#include <moemap.h>

int main(void)
{
    static const double load[8] = {80, 40, 40, 20, 10, 10, 5, 5};
    moemap_error err = {0};
    moemap_loads *ld = NULL;
    moemap_cluster *c = NULL;
    moemap_placement *p = NULL;
    int rc = moemap_loads_create(8, 2, 1, 1, &ld, &err);
    if (!rc) {
        for (int e = 0; e < 8; e++)
            MOEMAP_LOADS_AT(ld, 0, 0, e) = load[e];
        ld->batch_tokens[0] = 110;
        double tokens[2] = {1, 4096}, us[2] = {60, 560}, speeds[4] = {1, 1, 1, 1};
        moemap_curve base = {2, tokens, us, 0};
        moemap_synth_params sp = {0};
        sp.num_gpus = 4;
        sp.slots = 3;
        sp.speeds = speeds;
        sp.num_speeds = 4;
        sp.base = &base;
        sp.hidden = 7168;
        sp.intermediate = 2048;
        rc = moemap_cluster_synth(&sp, &c, &err);
    }
    moemap_place_params pp = moemap_place_default_params();
    pp.strategy = "eplb";
    if (!rc)
        rc = moemap_place(ld, c, &pp, &p, &err);
    if (!rc)
        rc = moemap_placement_validate(p, c, &err);
    if (!rc)
        printf("moemap %s: %d replicas on %d GPUs, valid\n", moemap_version(),
               p->layers[0].num_replicas, p->num_gpus);
    else
        fprintf(stderr, "hello: %s\n", err.msg);
    moemap_placement_free(p);
    moemap_cluster_free(c);
    moemap_loads_free(ld);
    return rc ? 1 : 0;
}
