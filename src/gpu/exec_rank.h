/*
 * exec_rank.h — one executor rank (one GPU) and the job all ranks share (CUDA + NCCL
 * builds only). exec_launch.cu starts the ranks (threads on one host, or this process
 * under MPI); exec_rank.cu is what each rank runs.
 */
#ifndef MOEMAP_EXEC_RANK_H
#define MOEMAP_EXEC_RANK_H

#include <nccl.h>

#include "exec_check.h"
#include "exec_internal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct exec_job {
    const moemap_exec_params *params;
    const moemap_routing *rt;
    const moemap_placement *const *placements;
    int num_placements;
    const exec_layer_map *maps;       /* [num_placements] */
    moemap_exec_result **results;     /* [num_placements]; each rank fills its GPU's column */
    int num_gpus;
    int layers;                       /* executed layers (same for all placements) */
    ncclUniqueId id;
    int use_mpi;                      /* 1: ranks are MPI processes */
    /* Host-side agreement between ranks before collectives, so that a rank that failed
     * its setup never leaves the others waiting inside NCCL: returns the first failing
     * status of any rank (0 when all are fine). Provided by the launcher. */
    int (*agree)(struct exec_job *job, int rank, int status);
    void *agree_ctx;
    /* Called by a rank that fails after NCCL started (others may be blocked in a
     * collective with it): aborts every rank's communicator (threads) or the job (MPI). */
    void (*fail_all)(struct exec_job *job, int rank);
    ncclComm_t *comms;                /* [num_gpus] communicators, for fail_all */
    volatile int *comm_aborted;       /* [num_gpus] set when fail_all aborted one */
    exec_check_acc *acc;              /* [num_placements * num_gpus] check results */
} exec_job;

/* Runs rank `rank` on CUDA device `device`: all placements, all iterations. */
int exec_rank_run(exec_job *job, int rank, int device, moemap_error *err);

#ifdef __cplusplus
}
#endif
#endif
