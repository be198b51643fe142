/*
 * profile_nocuda.c — the GPU profiler in a build without CUDA: measuring says "built
 * without CUDA" (parameters and the grid, in profile_params.c, work in every build, so
 * the CLI can still explain itself).
 */
#include "profile_internal.h"

int moemap_profile_run(const moemap_profile_params *p, moemap_profile_result **out,
                       moemap_error *err)
{
    (void)p;
    if (out)
        *out = NULL;
    return moemap_error_set(err, MOEMAP_ENOTSUP,
                            "GPU profiling: built without CUDA (rebuild with -DMOEMAP_CUDA=ON "
                            "on a machine with nvcc)");
}

void moemap_profile_result_free(moemap_profile_result *r)
{
    /* No result can exist in this build; a NULL is all that can arrive. */
    moemap_free(r);
}

int moemap_profile_to_cluster(const moemap_profile_result *r, const char *command,
                              moemap_cluster **out, moemap_error *err)
{
    (void)r;
    (void)command;
    if (out)
        *out = NULL;
    return moemap_error_set(err, MOEMAP_ENOTSUP, "GPU profiling: built without CUDA");
}

int moemap_profile_mpi_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

void moemap_profile_mpi_finalize(void) {}
