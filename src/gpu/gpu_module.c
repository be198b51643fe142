/*
 * gpu_module.c — the one exported symbol of the GPU module libmoemap_gpu.so: the table
 * of entry points that gpu_loader.c calls through (see gpu_module.h for why the GPU code
 * is a module). Everything else in the module is hidden.
 */
#include "gpu_module.h"

__attribute__((visibility("default"))) const mm_gpu_module *moemap_gpu_module_v1(void);

/* The executor needs NCCL; a CUDA build without it profiles but runs no placement. */
#ifdef MOEMAP_HAVE_NCCL
#define MM_EXEC_ENTRIES mm_gpu_exec_run, mm_gpu_exec_is_root, mm_gpu_exec_shutdown
#else
#define MM_EXEC_ENTRIES NULL, NULL, NULL
#endif

const mm_gpu_module *moemap_gpu_module_v1(void)
{
    static const mm_gpu_module table = {
        MM_GPU_MODULE_VERSION, sizeof(mm_gpu_module), mm_gpu_profile_run,
        MM_EXEC_ENTRIES,       mm_gpu_mpi_init,       mm_gpu_mpi_finalize,
    };
    return &table;
}
