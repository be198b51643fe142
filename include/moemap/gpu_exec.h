/*
 * moemap/gpu_exec.h — the multi-GPU expert-parallel executor (CUDA + NCCL): runs MoE
 * layers under a placement and measures them. Owned by the executor work (issue 6).
 */
#ifndef MOEMAP_GPU_EXEC_H
#define MOEMAP_GPU_EXEC_H

#include "moemap/base.h"
#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#endif
