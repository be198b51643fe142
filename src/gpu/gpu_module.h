/*
 * gpu_module.h — the contract between libmoemap and its GPU module, libmoemap_gpu.so.
 *
 * Why a module: the CUDA runtime, cuBLASLt and NCCL take ~0.2 s and ~200 MB to load, and a
 * binary linked against them pays that on every command, even `moemap models`. So in a
 * CUDA build everything that touches a GPU library (the profiler, the executor, MPI) is
 * built into a separate shared module that gpu_loader.c opens with dlopen the first time
 * a GPU entry point is called; the CLI and libmoemap link no GPU library at all
 * (`ldd build/moemap` shows none). Host-only parts (parameters, plans, summaries, turning
 * a profile into a cluster) stay in libmoemap.
 *
 * The module exports one C symbol, MM_GPU_MODULE_SYMBOL, returning a table of entry points
 * with a version number; the loader refuses a module of another version instead of calling
 * through a table it does not understand. The module carries its own (hidden) copy of the
 * libmoemap code it uses, so it needs nothing from the program that opens it; results it
 * allocates are plain malloc memory that libmoemap's free functions release.
 */
#ifndef MOEMAP_GPU_MODULE_H
#define MOEMAP_GPU_MODULE_H

#include "moemap/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_GPU_MODULE_NAME "libmoemap_gpu.so"
#define MM_GPU_MODULE_SYMBOL "moemap_gpu_module_v1"
#define MM_GPU_MODULE_VERSION 1

typedef struct mm_gpu_module {
    int version;      /* MM_GPU_MODULE_VERSION */
    size_t size;      /* sizeof(mm_gpu_module) as the module was built */
    int (*profile_run)(const moemap_profile_params *p, moemap_profile_result **out,
                       moemap_error *err);
    int (*exec_run)(const moemap_exec_params *params, const moemap_cluster *cluster,
                    const moemap_routing *routing, const moemap_placement *const *placements,
                    int num_placements, moemap_exec_result **results, moemap_error *err);
    int (*exec_is_root)(void);     /* the three exec entries are NULL in a module built */
    void (*exec_shutdown)(void);   /* without NCCL (no executor) */
    int (*mpi_init)(int *argc, char ***argv);
    void (*mpi_finalize)(void);
} mm_gpu_module;

typedef const mm_gpu_module *(*mm_gpu_module_fn)(void);

/* The module's implementations (profile.cu, profile_mpi.c; exec_launch.cu with NCCL only). */
int mm_gpu_profile_run(const moemap_profile_params *p, moemap_profile_result **out,
                       moemap_error *err);
int mm_gpu_exec_run(const moemap_exec_params *params, const moemap_cluster *cluster,
                    const moemap_routing *routing, const moemap_placement *const *placements,
                    int num_placements, moemap_exec_result **results, moemap_error *err);
int mm_gpu_exec_is_root(void);
void mm_gpu_exec_shutdown(void);
int mm_gpu_mpi_init(int *argc, char ***argv);
void mm_gpu_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif
