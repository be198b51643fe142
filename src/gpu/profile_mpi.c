/*
 * profile_mpi.c — `mpirun -n K moemap profile ...`: every rank profiles its host's GPUs
 * (ranks on one host deal them round-robin) and rank 0 receives all results and writes
 * one cluster file, node ids numbered by host name in rank order. Built with MPI only when
 * CMake finds it (MOEMAP_HAVE_MPI); otherwise every GPU is on node 0.
 *
 * A GPU result travels as its struct's bytes followed by its arrays (points, samples,
 * grouped layer, curve): all ranks run the same binary, so the layout is shared.
 */
#include <stdlib.h>
#include <string.h>

#include "gpu_module.h"
#include "profile_internal.h"

#ifdef MOEMAP_HAVE_MPI
#include <mpi.h>

static int g_mpi_inited; /* MPI_Init was called here */

/* moemap_profile_mpi_init through the GPU module: the loader calls this only under a
 * launcher, so a plain run stays a plain single-host run. */
int mm_gpu_mpi_init(int *argc, char ***argv)
{
    int init = 0, rank = 0;
    MPI_Initialized(&init);
    if (!init) {
        MPI_Init(argc, argv);
        g_mpi_inited = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

void mm_gpu_mpi_finalize(void)
{
    int fin = 0;
    if (g_mpi_inited && (MPI_Finalized(&fin), !fin))
        MPI_Finalize();
    g_mpi_inited = 0;
}

int mm_profile_mpi_active(void)
{
    int init = 0, fin = 0, size = 1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin)
        return 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size > 1;
}

int mm_profile_mpi_host_share(int *index, int *count, moemap_error *err)
{
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) !=
        MPI_SUCCESS)
        return moemap_error_set(err, MOEMAP_EGPU, "MPI: could not group the ranks by host");
    MPI_Comm_rank(local, index);
    MPI_Comm_size(local, count);
    MPI_Comm_free(&local);
    return MOEMAP_OK;
}

static size_t gpu_bytes(const moemap_profile_gpu *g)
{
    return sizeof *g + (size_t)g->num_points * sizeof *g->points +
           2 * (size_t)g->num_samples * sizeof(double) + (size_t)g->num_group * sizeof(int) +
           2 * (size_t)g->curve.n * sizeof(double);
}

#define PUT(ptr, bytes)                         \
    do {                                        \
        memcpy(w, (ptr), (bytes));              \
        w += (bytes);                           \
    } while (0)

static char *pack(const moemap_profile_gpu *g, char *w)
{
    PUT(g, sizeof *g);
    PUT(g->points, (size_t)g->num_points * sizeof *g->points);
    PUT(g->samples_tokens, (size_t)g->num_samples * sizeof(double));
    PUT(g->samples_us, (size_t)g->num_samples * sizeof(double));
    PUT(g->group_tokens, (size_t)g->num_group * sizeof(int));
    PUT(g->curve.tokens, (size_t)g->curve.n * sizeof(double));
    PUT(g->curve.us, (size_t)g->curve.n * sizeof(double));
    return w;
}

/* Reads one GPU back; its arrays are new allocations. */
static const char *unpack(const char *r, moemap_profile_gpu *g, int *oom)
{
    memcpy(g, r, sizeof *g);
    r += sizeof *g;
    size_t sz[6] = {(size_t)g->num_points * sizeof *g->points,
                    (size_t)g->num_samples * sizeof(double),
                    (size_t)g->num_samples * sizeof(double), (size_t)g->num_group * sizeof(int),
                    (size_t)g->curve.n * sizeof(double), (size_t)g->curve.n * sizeof(double)};
    void **dst[6] = {(void **)&g->points,      (void **)&g->samples_tokens,
                     (void **)&g->samples_us,  (void **)&g->group_tokens,
                     (void **)&g->curve.tokens, (void **)&g->curve.us};
    for (int k = 0; k < 6; k++) {
        *dst[k] = sz[k] ? moemap_malloc(sz[k]) : NULL;
        if (sz[k] && !*dst[k])
            *oom = 1;
        else if (sz[k])
            memcpy(*dst[k], r, sz[k]);
        r += sz[k];
    }
    return r;
}

static void number_nodes(moemap_profile_result *r)
{
    for (int i = 0; i < r->num_gpus; i++) {
        int node = -1, next = 0;
        for (int j = 0; j < i; j++) {
            if (strcmp(r->gpus[j].host, r->gpus[i].host) == 0)
                node = r->gpus[j].node;
            if (r->gpus[j].node >= next)
                next = r->gpus[j].node + 1;
        }
        r->gpus[i].node = node >= 0 ? node : next;
    }
}

int mm_profile_mpi_gather(moemap_profile_result *r, moemap_error *err)
{
    if (!mm_profile_mpi_active()) {
        for (int i = 0; i < r->num_gpus; i++)
            r->gpus[i].node = 0;
        return MOEMAP_OK;
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t mine = sizeof(int);
    for (int i = 0; i < r->num_gpus; i++)
        mine += gpu_bytes(&r->gpus[i]);
    if (mine > (size_t)1 << 30)
        return moemap_error_set(err, MOEMAP_ERANGE, "MPI: profile of rank %d too large", rank);
    char *buf = moemap_malloc(mine);
    int *counts = NULL, *displs = NULL, rc = MOEMAP_OK;
    char *all = NULL;
    if (!buf)
        return moemap_error_set(err, MOEMAP_ENOMEM, "MPI: out of memory");
    memcpy(buf, &r->num_gpus, sizeof(int));
    char *w = buf + sizeof(int);
    for (int i = 0; i < r->num_gpus; i++)
        w = pack(&r->gpus[i], w);
    int n = (int)mine;
    if (rank == 0) {
        counts = moemap_calloc((size_t)size, sizeof *counts);
        displs = moemap_calloc((size_t)size, sizeof *displs);
    }
    /* Every rank takes part in the gathers even when rank 0 ran out of memory, so that no
     * rank is left waiting; rank 0 reports the failure afterwards. */
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    long total = 0;
    if (rank == 0 && counts && displs) {
        for (int k = 0; k < size; k++) {
            displs[k] = (int)total;
            total += counts[k];
        }
        if (total < (1L << 31))
            all = moemap_malloc((size_t)total);
    }
    MPI_Gatherv(buf, n, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        if (!all) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "MPI: out of memory gathering %ld bytes",
                                  total);
            goto done;
        }
        int ngpus = 0;
        for (int k = 0; k < size; k++) {
            int c;
            memcpy(&c, all + displs[k], sizeof c);
            ngpus += c;
        }
        moemap_profile_gpu *gpus = moemap_calloc(ngpus ? (size_t)ngpus : 1, sizeof *gpus);
        if (!gpus) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "MPI: out of memory");
            goto done;
        }
        int oom = 0, at = 0;
        for (int k = 0; k < size; k++) {
            const char *p = all + displs[k];
            int c;
            memcpy(&c, p, sizeof c);
            p += sizeof c;
            for (int i = 0; i < c; i++)
                p = unpack(p, &gpus[at++], &oom);
        }
        for (int i = 0; i < r->num_gpus; i++)
            mm_profile_gpu_clear(&r->gpus[i]);
        moemap_free(r->gpus);
        r->gpus = gpus;
        r->num_gpus = ngpus;
        if (oom) {
            rc = moemap_error_set(err, MOEMAP_ENOMEM, "MPI: out of memory unpacking results");
            goto done;
        }
        number_nodes(r);
    }
done:
    moemap_free(buf);
    moemap_free(all);
    moemap_free(counts);
    moemap_free(displs);
    return rc;
}

#else /* no MPI */

int mm_gpu_mpi_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

void mm_gpu_mpi_finalize(void) {}

int mm_profile_mpi_active(void)
{
    return 0;
}

int mm_profile_mpi_host_share(int *index, int *count, moemap_error *err)
{
    (void)err;
    *index = 0;
    *count = 1;
    return MOEMAP_OK;
}

int mm_profile_mpi_gather(moemap_profile_result *r, moemap_error *err)
{
    (void)err;
    for (int i = 0; i < r->num_gpus; i++)
        r->gpus[i].node = 0;
    return MOEMAP_OK;
}

#endif
