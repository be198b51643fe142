/*
 * exec_nocuda.c — the executor in builds without CUDA or NCCL: moemap_exec_run returns
 * MOEMAP_ENOTSUP with "built without GPU support", so the CLI and tests give one clear
 * answer instead of a link error. The host-only parts (plan, summaries, routing from
 * loads, CPU reference: exec_host.c, exec_plan.c) are built in every configuration
 * (CMakeLists.txt, MOEMAP_GPU_HOST_SOURCES).
 */
#include "exec_internal.h"

int moemap_exec_run(const moemap_exec_params *params, const moemap_cluster *cluster,
                    const moemap_routing *routing, const moemap_placement *const *placements,
                    int num_placements, moemap_exec_result **results, moemap_error *err)
{
    (void)params, (void)cluster, (void)routing, (void)placements;
    for (int i = 0; results && i < num_placements; i++)
        results[i] = NULL;
    return moemap_error_set(err, MOEMAP_ENOTSUP,
                            "built without GPU support (needs CUDA and NCCL; "
                            "rebuild with -DMOEMAP_CUDA=ON where nvcc and NCCL exist)");
}

int moemap_exec_is_root(void) { return 1; }

void moemap_exec_shutdown(void) {}
