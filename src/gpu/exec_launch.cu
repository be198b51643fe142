/*
 * exec_launch.cu — moemap_exec_run: checks the request, computes the cost model's
 * predictions, starts the ranks and collects their measurements.
 *
 * Bootstrap, on one host: one process drives every GPU, one POSIX thread per GPU; the
 * NCCL unique id is made once and shared in memory, and each thread joins with
 * ncclCommInitRank (the pattern NCCL documents for one thread per device). This keeps
 * results in shared memory and needs no fork (CUDA state does not survive fork).
 * Under mpirun (built with MPI): each process is one rank on GPU local_rank; rank 0 makes
 * the id and MPI_Bcast's it; results are summed/maxed onto rank 0 with MPI_Reduce.
 *
 * Before every step that would block inside NCCL (joining the communicator, starting a
 * placement's timed loop) the ranks agree on success on the host, so a rank that failed
 * its setup makes all of them return the error instead of hanging.
 *
 * Built only with NCCL: without it the module's table has no executor and gpu_loader.c
 * answers MOEMAP_ENOTSUP, naming the missing library.
 */
#ifdef MOEMAP_HAVE_NCCL
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef MOEMAP_HAVE_MPI
#include <mpi.h>
#endif

#include "cuda_check.h"
#include "exec_rank.h"
#include "gpu_module.h"

/* ---- agreement between threads ------------------------------------------------------ */

typedef struct thread_agree {
    pthread_barrier_t barrier;
    int status[EXEC_MAX_GPUS];
} thread_agree;

static int agree_threads(exec_job *job, int rank, int status)
{
    thread_agree *a = (thread_agree *)job->agree_ctx;
    a->status[rank] = status;
    pthread_barrier_wait(&a->barrier);
    int first = 0;
    for (int r = 0; r < job->num_gpus && !first; r++)
        first = a->status[r];
    pthread_barrier_wait(&a->barrier); /* nobody overwrites status before all have read */
    return first;
}

static pthread_mutex_t abort_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail_threads(exec_job *job, int rank)
{
    (void)rank;
    pthread_mutex_lock(&abort_lock);
    for (int r = 0; r < job->num_gpus; r++)
        if (job->comms[r] && !job->comm_aborted[r]) {
            job->comm_aborted[r] = 1;
            ncclCommAbort(job->comms[r]);
        }
    pthread_mutex_unlock(&abort_lock);
}

typedef struct thread_arg {
    exec_job *job;
    int rank;
    int rc;
    moemap_error err;
} thread_arg;

static void *rank_thread(void *p)
{
    thread_arg *a = (thread_arg *)p;
    a->rc = exec_rank_run(a->job, a->rank, a->rank, &a->err);
    return NULL;
}

static int run_threads(exec_job *job, moemap_error *err)
{
    int G = job->num_gpus, count = 0;
    MM_CUDA_CHECK(cudaGetDeviceCount(&count), err);
    if (count < G)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the placement is for %d GPUs but %d are visible (on several "
                                "hosts, launch with mpirun)", G, count);
    MM_NCCL_CHECK(ncclGetUniqueId(&job->id), err);
    thread_agree agree;
    memset(&agree, 0, sizeof agree);
    pthread_barrier_init(&agree.barrier, NULL, (unsigned)G);
    ncclComm_t comms[EXEC_MAX_GPUS];
    volatile int aborted[EXEC_MAX_GPUS];
    memset(comms, 0, sizeof comms);
    for (int i = 0; i < EXEC_MAX_GPUS; i++)
        aborted[i] = 0;
    job->agree = agree_threads;
    job->agree_ctx = &agree;
    job->fail_all = fail_threads;
    job->comms = comms;
    job->comm_aborted = aborted;
    thread_arg args[EXEC_MAX_GPUS];
    pthread_t th[EXEC_MAX_GPUS];
    int started = 0, rc = 0;
    for (int r = 0; r < G; r++) {
        memset(&args[r], 0, sizeof args[r]);
        args[r].job = job;
        args[r].rank = r;
    }
    for (int r = 0; r < G; r++) {
        if (pthread_create(&th[r], NULL, rank_thread, &args[r]) != 0)
            break;
        started++;
    }
    if (started < G) {
        /* Threads that started wait at the first barrier for the missing ones; they can
         * never come, so this is fatal by design of the bootstrap. Report it plainly. */
        return moemap_error_set(err, MOEMAP_ENOMEM, "could not start %d GPU threads", G);
    }
    for (int r = 0; r < G; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&agree.barrier);
    /* The first rank whose error is its own (not "another GPU failed") explains best. */
    for (int r = 0; r < G && !rc; r++)
        if (args[r].rc && !strstr(args[r].err.msg, "another GPU") &&
            !strstr(args[r].err.msg, "on another GPU")) {
            rc = args[r].rc;
            *err = args[r].err;
        }
    for (int r = 0; r < G && !rc; r++)
        if (args[r].rc) {
            rc = args[r].rc;
            *err = args[r].err;
        }
    job->comms = NULL;
    job->comm_aborted = NULL;
    return rc;
}

/* ---- MPI ---------------------------------------------------------------------------- */

#ifdef MOEMAP_HAVE_MPI
static int g_mpi_started; /* MPI_Init was called by the executor */
#endif

static int launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

#ifdef MOEMAP_HAVE_MPI
static int agree_mpi(exec_job *job, int rank, int status)
{
    (void)job, (void)rank;
    int first = 0;
    MPI_Allreduce(&status, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return first;
}

static void fail_mpi(exec_job *job, int rank)
{
    (void)job, (void)rank;
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static int run_mpi(exec_job *job, moemap_error *err)
{
    int inited = 0, size = 0, rank = 0, local = 0, count = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        MPI_Init(NULL, NULL);
        g_mpi_started = 1;
    }
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (size != job->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "the placement is for %d GPUs but mpirun started %d ranks",
                                job->num_gpus, size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);
    MM_CUDA_CHECK(cudaGetDeviceCount(&count), err);
    if (count < 1)
        return moemap_error_set(err, MOEMAP_EGPU, "rank %d sees no GPU", rank);
    if (rank == 0)
        MM_NCCL_CHECK(ncclGetUniqueId(&job->id), err);
    MPI_Bcast(&job->id, (int)sizeof job->id, MPI_BYTE, 0, MPI_COMM_WORLD);
    job->agree = agree_mpi;
    job->fail_all = fail_mpi;
    job->comms = NULL;
    int rc = exec_rank_run(job, rank, local % count, err);
    /* every rank filled only its own column: sums put the columns together on rank 0 */
    for (int i = 0; i < job->num_placements; i++) {
        moemap_exec_result *r = job->results[i];
        int n = r->num_gpus * r->layers * r->iterations;
        double *d[] = {r->compute_us, r->dispatch_us, r->wait_us, r->combine_us, r->layer_us};
        for (size_t j = 0; j < sizeof d / sizeof *d; j++)
            MPI_Reduce(rank ? d[j] : MPI_IN_PLACE, d[j], n, MPI_DOUBLE, MPI_SUM, 0,
                       MPI_COMM_WORLD);
        MPI_Reduce(rank ? r->rows : MPI_IN_PLACE, r->rows, n, MPI_LONG, MPI_SUM, 0,
                   MPI_COMM_WORLD);
        MPI_Reduce(rank ? r->replicas_active : MPI_IN_PLACE, r->replicas_active, n, MPI_LONG,
                   MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Reduce(rank ? r->device_sms : MPI_IN_PLACE, r->device_sms, r->num_gpus,
                   MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
        char names[EXEC_MAX_GPUS][64];
        MPI_Gather(r->device_names[rank], 64, MPI_CHAR, names, 64, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (rank == 0)
            memcpy(r->device_names, names, (size_t)size * 64);
        exec_check_acc *a = &job->acc[(size_t)i * job->num_gpus];
        double sums[2] = {a[rank].err2, a[rank].ref2}, tot[2] = {0, 0}, mx = 0;
        long cnt[3] = {a[rank].rows_ok, a[rank].tag_errors, a[rank].rows_expected};
        long ctot[3] = {0, 0, 0};
        MPI_Reduce(sums, tot, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Reduce(&a[rank].max_rel, &mx, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        MPI_Reduce(cnt, ctot, 3, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            memset(a, 0, (size_t)job->num_gpus * sizeof *a);
            a[0].err2 = tot[0], a[0].ref2 = tot[1], a[0].max_rel = mx;
            a[0].rows_ok = ctot[0], a[0].tag_errors = ctot[1], a[0].rows_expected = ctot[2];
        }
    }
    int worst = 0;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!rc && worst)
        rc = moemap_error_set(err, worst, "another rank failed");
    return rc;
}
#endif

int mm_gpu_exec_is_root(void)
{
#ifdef MOEMAP_HAVE_MPI
    if (launched_by_mpi()) {
        int inited = 0, rank = 0;
        MPI_Initialized(&inited);
        if (!inited) {
            MPI_Init(NULL, NULL);
            g_mpi_started = 1;
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return rank == 0;
    }
#endif
    return 1;
}

void mm_gpu_exec_shutdown(void)
{
#ifdef MOEMAP_HAVE_MPI
    int fin = 0;
    if (g_mpi_started && (MPI_Finalized(&fin), !fin))
        MPI_Finalize();
    g_mpi_started = 0;
#endif
}

/* ---- the entry point ---------------------------------------------------------------- */

static int check_request(const moemap_exec_params *P, const moemap_cluster *c,
                         const moemap_routing *rt, const moemap_placement *const *pl, int np,
                         moemap_error *err)
{
    if (!P || !rt || !pl || np < 1)
        return moemap_error_set(err, MOEMAP_EINVAL, "executor: nothing to run");
    if (P->hidden < 8 || P->hidden % 8 || P->intermediate < 8 || P->intermediate % 8)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "expert shape %dx%d: hidden and intermediate must be positive "
                                "multiples of 8", P->hidden, P->intermediate);
    if (P->iterations < 1 || P->warmup < 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "iterations %d, warm-up %d: need >= 1, >= 0",
                                P->iterations, P->warmup);
    if (P->tokens_per_iter < 1 || P->tokens_per_iter > (1L << 24) ||
        P->tokens_per_iter * rt->top_k > INT32_MAX / 2)
        return moemap_error_set(err, MOEMAP_ERANGE, "tokens per iteration %ld out of range",
                                P->tokens_per_iter);
    for (int i = 0; i < np; i++) {
        if (pl[i]->num_gpus != pl[0]->num_gpus)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "placement %d is for %d GPUs, placement 1 for %d: compare "
                                    "placements of one cluster", i + 1, pl[i]->num_gpus,
                                    pl[0]->num_gpus);
        int rc = moemap_placement_validate(pl[i], NULL, err);
        if (rc) {
            moemap_error_prefix(err, "placement %d", i + 1);
            return rc;
        }
    }
    if (P->num_sm_limit < 0 || (P->num_sm_limit > 0 && !P->sm_limit))
        return moemap_error_set(err, MOEMAP_EINVAL, "sm_limit: %d entries but no array",
                                P->num_sm_limit);
    for (int g = pl[0]->num_gpus; g < P->num_sm_limit; g++)
        if (P->sm_limit[g] > 0)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "--sm-limit for GPU %d, but the placement has GPUs 0..%d", g,
                                    pl[0]->num_gpus - 1);
    if (P->tokens_per_iter < pl[0]->num_gpus)
        return moemap_error_set(err, MOEMAP_EINVAL, "%ld tokens per iteration for %d GPUs",
                                P->tokens_per_iter, pl[0]->num_gpus);
    if (c) {
        if (c->num_gpus < pl[0]->num_gpus)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "the cluster profile has %d GPUs, the placement %d",
                                    c->num_gpus, pl[0]->num_gpus);
        int rc = moemap_cluster_check_shape(c, P->hidden, P->intermediate, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

int mm_gpu_exec_run(const moemap_exec_params *P, const moemap_cluster *cluster,
                    const moemap_routing *rt, const moemap_placement *const *pl, int np,
                    moemap_exec_result **results, moemap_error *err)
{
    for (int i = 0; results && i < np; i++)
        results[i] = NULL;
    int rc = check_request(P, cluster, rt, pl, np, err);
    if (rc)
        return rc;
    exec_job job;
    memset(&job, 0, sizeof job);
    job.params = P;
    job.rt = rt;
    job.placements = pl;
    job.num_placements = np;
    job.num_gpus = pl[0]->num_gpus;
    job.results = results;
    int L = P->layers > 0 ? P->layers : pl[0]->num_layers;
    for (int i = 0; i < np; i++)
        if (pl[i]->num_layers < L)
            L = pl[i]->num_layers;
    job.layers = L;
    exec_layer_map *maps = (exec_layer_map *)moemap_calloc((size_t)np, sizeof *maps);
    job.acc = (exec_check_acc *)moemap_calloc((size_t)np * job.num_gpus, sizeof(exec_check_acc));
    if (!maps || !job.acc) {
        rc = moemap_error_set(err, MOEMAP_ENOMEM, "out of memory");
        goto done;
    }
    job.maps = maps;
    for (int i = 0; i < np && !rc; i++) {
        rc = exec_layer_map_build(pl[i], rt, L, &maps[i], err);
        if (rc)
            moemap_error_prefix(err, "placement %d", i + 1);
        else if ((rc = exec_result_alloc(job.num_gpus, L, P->iterations, &results[i], err)) == 0)
            memcpy(results[i]->layer_ids, maps[i].layer_id, (size_t)L * sizeof(int));
    }
    for (int i = 0; !rc && cluster && i < np; i++)
        rc = exec_predict(&maps[i], pl[i], rt, P, L, cluster, results[i], err);
    if (!rc) {
        if (launched_by_mpi()) {
#ifdef MOEMAP_HAVE_MPI
            job.use_mpi = 1;
            rc = run_mpi(&job, err);
#else
            rc = moemap_error_set(err, MOEMAP_ENOTSUP,
                                  "launched by mpirun but built without MPI (rebuild where Open "
                                  "MPI is installed)");
#endif
        } else {
            rc = run_threads(&job, err);
        }
    }
    for (int i = 0; !rc && i < np; i++) {
        exec_check_acc tot;
        memset(&tot, 0, sizeof tot);
        for (int g = 0; g < job.num_gpus; g++) {
            const exec_check_acc *a = &job.acc[(size_t)i * job.num_gpus + g];
            tot.err2 += a->err2, tot.ref2 += a->ref2;
            tot.max_rel = a->max_rel > tot.max_rel ? a->max_rel : tot.max_rel;
            tot.rows_ok += a->rows_ok, tot.tag_errors += a->tag_errors;
            tot.rows_expected += a->rows_expected;
        }
        results[i]->checked = P->check != 0;
        results[i]->check_rel_err = tot.ref2 > 0 ? sqrt(tot.err2 / tot.ref2) : sqrt(tot.err2);
        results[i]->check_max_rel_err = tot.max_rel;
        results[i]->check_rows = tot.rows_ok;
        results[i]->check_rows_expected = tot.rows_expected;
        results[i]->dispatch = P->dispatch;
        results[i]->check_tag_errors = tot.tag_errors;
    }
done:
    for (int i = 0; maps && i < np; i++)
        exec_layer_map_clear(&maps[i]);
    moemap_free(maps);
    moemap_free(job.acc);
    if (rc || (job.use_mpi && !mm_gpu_exec_is_root()))
        for (int i = 0; results && i < np; i++) {
            moemap_exec_result_free(results[i]);
            results[i] = NULL;
        }
    return rc;
}
#endif /* MOEMAP_HAVE_NCCL; without it the module has no executor (gpu_module.c) */
