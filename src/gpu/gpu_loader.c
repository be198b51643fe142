/*
 * gpu_loader.c — libmoemap's GPU entry points in a CUDA build: each opens the GPU module
 * (libmoemap_gpu.so, see gpu_module.h) on first use and calls through its table, so that
 * only `moemap profile` and `moemap run` load the CUDA runtime, cuBLASLt and NCCL.
 *
 * Where the module is looked for, first found wins:
 *   1. $MOEMAP_GPU_MODULE (a path), for tests and unusual installs;
 *   2. next to the file holding this code: the program for a static libmoemap (the CLI),
 *      libmoemap.so for a shared one (the Python package), found with dladdr; then next
 *      to the running program (/proc/self/exe);
 *   3. ../<libdir>/ relative to the program, where `cmake --install` puts it next to
 *      libmoemap (MOEMAP_GPU_MODULE_RELDIR, "../lib" by default);
 *   4. the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig).
 * A failure is one line naming what is missing: the module itself, or the GPU library the
 * module needs (dlerror names it: "libcudart.so.13: cannot open shared object file").
 * The result (table or message) is kept for the process: loading is tried once.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_module.h"
#include "profile_internal.h"

#ifndef MOEMAP_GPU_MODULE_RELDIR
#define MOEMAP_GPU_MODULE_RELDIR "../lib"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const mm_gpu_module *module;   /* NULL when loading failed */
static char load_error[1024];         /* why, when it failed */

/* Copies the folder of the file holding this code (self = 1) or of the program (0) into
 * dir (with the trailing '/'); 0 when unknown. */
static int program_dir(char *dir, size_t cap, int self)
{
    if (self) {
        Dl_info info;
        void *addr = NULL;
        int (*fn)(char *, size_t, int) = program_dir;
        memcpy(&addr, &fn, sizeof addr); /* ISO C has no function-to-object cast */
        if (!dladdr(addr, &info) || !info.dli_fname || info.dli_fname[0] != '/' ||
            strlen(info.dli_fname) >= cap)
            return 0;
        snprintf(dir, cap, "%s", info.dli_fname);
    } else {
        ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
        if (n <= 0 || (size_t)n >= cap - 1)
            return 0;
        dir[n] = '\0';
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    slash[1] = '\0';
    return 1;
}

/* dlopen's message for a module that exists but cannot be loaded names the library it
 * lacks; for a path that does not exist it says so too. Keep the first real problem. */
static void *try_open(const char *path, char *why, size_t cap)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h && !why[0] && access(path, F_OK) == 0) {
        const char *e = dlerror();
        snprintf(why, cap, "%s", e ? e : "dlopen failed");
    }
    return h;
}

static void load(void)
{
    char why[512] = "", tried[PATH_MAX + 64] = "";
    void *h = NULL;
    const char *env = getenv("MOEMAP_GPU_MODULE");
    if (env && env[0]) {
        h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            snprintf(load_error, sizeof load_error, "cannot load the GPU module "
                     "$MOEMAP_GPU_MODULE=%s: %s", env, e ? e : "dlopen failed");
            return;
        }
    }
    char dir[PATH_MAX], path[PATH_MAX + 64];
    for (int self = 1; self >= 0 && !h; self--) {
        if (!program_dir(dir, sizeof dir, self))
            continue;
        if (!tried[0])
            snprintf(tried, sizeof tried, "%s", dir);
        snprintf(path, sizeof path, "%s%s", dir, MM_GPU_MODULE_NAME);
        h = try_open(path, why, sizeof why);
        if (!h) {
            snprintf(path, sizeof path, "%s" MOEMAP_GPU_MODULE_RELDIR "/%s", dir,
                     MM_GPU_MODULE_NAME);
            h = try_open(path, why, sizeof why);
        }
    }
    if (!h && !why[0]) {
        h = dlopen(MM_GPU_MODULE_NAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            /* "not found" from the search path is the expected message when the module is
             * absent; anything else (a missing dependency) is the real reason. */
            if (e && !strstr(e, MM_GPU_MODULE_NAME ": cannot open"))
                snprintf(why, sizeof why, "%s", e);
        }
    }
    if (!h) {
        if (why[0])
            snprintf(load_error, sizeof load_error,
                     "cannot load the GPU module: %s (GPU commands need the CUDA runtime, "
                     "cuBLAS and NCCL libraries the module was built against)", why);
        else
            snprintf(load_error, sizeof load_error,
                     "the GPU module %s was not found next to the program (%s), in "
                     MOEMAP_GPU_MODULE_RELDIR " or on the library path (set "
                     "MOEMAP_GPU_MODULE to its path)",
                     MM_GPU_MODULE_NAME, tried[0] ? tried : "unknown folder");
        return;
    }
    mm_gpu_module_fn get = NULL;
    void *sym = dlsym(h, MM_GPU_MODULE_SYMBOL);
    memcpy(&get, &sym, sizeof get); /* ISO C has no object-to-function pointer cast */
    const mm_gpu_module *m = get ? get() : NULL;
    if (!m || m->version != MM_GPU_MODULE_VERSION || m->size != sizeof *m) {
        snprintf(load_error, sizeof load_error,
                 "the GPU module %s is not of this build of moemap (%s; version %d, want %d)",
                 MM_GPU_MODULE_NAME, get ? "wrong table" : "no " MM_GPU_MODULE_SYMBOL,
                 m ? m->version : 0, MM_GPU_MODULE_VERSION);
        dlclose(h);
        return;
    }
    module = m; /* the handle stays open for the life of the process */
}

static const mm_gpu_module *gpu(moemap_error *err)
{
    pthread_once(&load_once, load);
    if (!module)
        moemap_error_set(err, MOEMAP_ENOTSUP, "%s", load_error);
    return module;
}

static int under_mpi_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int moemap_profile_run(const moemap_profile_params *p, moemap_profile_result **out,
                       moemap_error *err)
{
    if (out)
        *out = NULL;
    const mm_gpu_module *m = gpu(err);
    return m ? m->profile_run(p, out, err) : MOEMAP_ENOTSUP;
}

int moemap_profile_mpi_init(int *argc, char ***argv)
{
    /* A plain run stays a plain run: no module is loaded to find that out. */
    if (!under_mpi_launcher())
        return 0;
    const mm_gpu_module *m = gpu(NULL);
    return m ? m->mpi_init(argc, argv) : 0;
}

void moemap_profile_mpi_finalize(void)
{
    if (module)
        module->mpi_finalize();
}

int moemap_exec_run(const moemap_exec_params *params, const moemap_cluster *cluster,
                    const moemap_routing *routing, const moemap_placement *const *placements,
                    int num_placements, moemap_exec_result **results, moemap_error *err)
{
    for (int i = 0; results && i < num_placements; i++)
        results[i] = NULL;
    const mm_gpu_module *m = gpu(err);
    if (m && !m->exec_run)
        return moemap_error_set(err, MOEMAP_ENOTSUP,
                                "built without GPU support for the executor: CUDA was found "
                                "but not NCCL (install NCCL next to the CUDA toolkit and "
                                "rebuild)");
    return m ? m->exec_run(params, cluster, routing, placements, num_placements, results, err)
             : MOEMAP_ENOTSUP;
}

int moemap_exec_is_root(void)
{
    if (!under_mpi_launcher())
        return 1;
    const mm_gpu_module *m = gpu(NULL);
    return m && m->exec_is_root ? m->exec_is_root() : 1;
}

void moemap_exec_shutdown(void)
{
    if (module && module->exec_shutdown)
        module->exec_shutdown();
}
