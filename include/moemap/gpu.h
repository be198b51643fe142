/*
 * moemap/gpu.h — GPU entry points: the CUDA profiler (gpu_profile.h) and the executor
 * (gpu_exec.h). Present in every build; without CUDA the functions return
 * MOEMAP_ENOTSUP with "built without CUDA".
 */
#ifndef MOEMAP_GPU_H
#define MOEMAP_GPU_H

#include "moemap/gpu_profile.h"
#include "moemap/gpu_exec.h"

#endif
