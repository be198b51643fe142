/*
 * moemap/gpu_profile.h — measuring each GPU's expert cost curve with cuBLAS(Lt) in bf16,
 * optionally inside a green context of N SMs. Owned by the GPU-profile work (issue 3).
 */
#ifndef MOEMAP_GPU_PROFILE_H
#define MOEMAP_GPU_PROFILE_H

#include "moemap/base.h"
#include "moemap/cluster.h"

#endif
