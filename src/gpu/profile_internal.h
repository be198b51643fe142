/*
 * profile_internal.h — what the profiler's files share inside libmoemap: the default
 * grouped layer and the MPI hooks of profile_mpi.c (trivial when built without MPI). The
 * default parameters and grid are in profile_params.c, built with and without CUDA.
 */
#ifndef MOEMAP_GPU_PROFILE_INTERNAL_H
#define MOEMAP_GPU_PROFILE_INTERNAL_H

#include "moemap/gpu_profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default grouped layer: 16 experts with a skewed (roughly Zipf) load, as a real
 * router gives one GPU's experts in a prefill batch. */
static const int mm_profile_default_group[] = {1024, 640, 384, 256, 192, 128, 96, 64,
                                               48,   32,  24,  16,  8,   4,   2,   1};

/* 1 when built with MPI and MPI is initialised with more than one rank. */
int mm_profile_mpi_active(void);
/* This rank's index among the ranks on its host and how many share the host. */
int mm_profile_mpi_host_share(int *index, int *count, moemap_error *err);
/* Sends every rank's GPUs to rank 0, which replaces r->gpus by all of them in rank order;
 * node ids are assigned from host names in order of first appearance. Without MPI only
 * sets every GPU's node to 0. */
int mm_profile_mpi_gather(moemap_profile_result *r, moemap_error *err);
/* Frees the arrays a GPU result owns (not the struct). */
void mm_profile_gpu_clear(moemap_profile_gpu *g);

#ifdef __cplusplus
}
#endif
#endif
