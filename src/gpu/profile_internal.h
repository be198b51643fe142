/*
 * profile_internal.h — what the profiler's files share inside libmoemap: default
 * parameters and grid (also compiled into the no-CUDA build, hence inline), and the MPI
 * hooks of profile_mpi.c (trivial when built without MPI).
 */
#ifndef MOEMAP_GPU_PROFILE_INTERNAL_H
#define MOEMAP_GPU_PROFILE_INTERNAL_H

#include <string.h>

#include "moemap/gpu_profile.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline moemap_profile_params mm_profile_default_params(void)
{
    moemap_profile_params p;
    memset(&p, 0, sizeof p);
    p.dtype = "bf16";
    p.max_tokens = 16384;
    p.repeats = 200;
    p.rounds = 20;
    p.warmup = 2;
    p.settle_s = 3.0;
    p.seed = 20261122;
    return p;
}

/* Steps between powers of two where cuBLAS's tile shapes change (multiples of 8 up to 16,
 * then quarter steps), so the curve's kinks fall on grid points. */
static inline int mm_profile_default_grid(int max_tokens, int *out, int cap)
{
    static const int head[] = {1, 2, 4, 8, 12, 16, 24, 32, 48};
    int grid[160], n = 0;
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        if (head[i] <= max_tokens)
            grid[n++] = head[i];
    for (long base = 64; base <= max_tokens && n < 150; base *= 2)
        for (int q = 0; q < 4; q++) {
            long t = base + q * base / 4;
            /* Above 4096 tokens the curve is linear: halves are enough. */
            if (t <= max_tokens && !(base >= 4096 && q % 2))
                grid[n++] = (int)t;
        }
    if (max_tokens >= 1 && (n == 0 || grid[n - 1] < max_tokens))
        grid[n++] = max_tokens;
    for (int i = 0; i < n && i < cap; i++)
        out[i] = grid[i];
    return n;
}

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
