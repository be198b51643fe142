/*
 * moemap/gpu.h — CUDA profiler and executor entry points. Present in every build; in a
 * build without CUDA the functions return MOEMAP_ENOTSUP ("built without CUDA").
 * Owned by the GPU profile (issue 3) and executor (issue 6) work.
 */
#ifndef MOEMAP_GPU_H
#define MOEMAP_GPU_H

#include "moemap/base.h"
#include "moemap/cluster.h"

#endif
