/*
 * capacity.c — how much load a placement sustains (moemap_sim_capacity, moemap/sim.h):
 * the highest request rate at which at least 90% (the target) of requests meet the SLO.
 *
 * Why: one near-capacity operating point says little — below capacity every placement
 * meets the SLO, above it every one fails, and where exactly the knee falls depends on
 * the rate picked. The rate a placement sustains is what a user buys GPUs for. Each rate
 * is simulated on freshly generated arrivals with the same seed, so every placement sees
 * the same requests at a given rate; the sweep stops at the first rate that misses, as
 * attainment only falls with load.
 */
#include <math.h>
#include <string.h>

#include "moemap/sim.h"

moemap_capacity_params moemap_capacity_default_params(void)
{
    return (moemap_capacity_params){.duration_s = 60, .target = 0.9,
                                    .process = MOEMAP_ARRIVALS_POISSON};
}

int moemap_sim_capacity(const moemap_model *model, const moemap_cluster *cluster,
                        const moemap_placement *placement, const moemap_loads *loads,
                        const moemap_capacity_params *cp, const moemap_sim_params *sp,
                        moemap_sim_result *into, moemap_error *err)
{
    if (!cp || !cp->rates || cp->num_rates <= 0)
        return moemap_error_set(err, MOEMAP_EINVAL, "capacity: no rates to sweep");
    if (!(cp->target > 0 && cp->target <= 1))
        return moemap_error_set(err, MOEMAP_ERANGE, "capacity: target %g outside (0, 1]",
                                cp->target);
    for (int i = 0; i < cp->num_rates; i++)
        if (!(cp->rates[i] > 0 && isfinite(cp->rates[i])) ||
            (i > 0 && cp->rates[i] <= cp->rates[i - 1]))
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "capacity: rates must be positive and ascending (rate %d: "
                                    "%g)", i + 1, cp->rates[i]);
    double *rate = moemap_malloc((size_t)cp->num_rates * sizeof *rate);
    double *slo = moemap_malloc((size_t)cp->num_rates * sizeof *slo);
    if (!rate || !slo) {
        moemap_free(rate);
        moemap_free(slo);
        return moemap_error_set(err, MOEMAP_ENOMEM, "capacity: out of memory");
    }
    moemap_sim_params p = *sp;
    p.progress = NULL;
    double duration = cp->duration_s > 0 ? cp->duration_s : 60;
    int n = 0, rc = 0;
    double capacity = 0;
    for (int i = 0; i < cp->num_rates && !rc; i++) {
        moemap_arrivals *arr = NULL;
        moemap_sim_result *r = NULL;
        rc = moemap_arrivals_generate(cp->process, cp->rates[i], duration, cp->lengths, 0, 0,
                                      sp->seed, &arr, err);
        if (!rc)
            rc = moemap_simulate(model, cluster, placement, loads, arr, &p, &r, err);
        if (!rc) {
            rate[n] = cp->rates[i];
            slo[n] = r->slo_attainment;
            n++;
        }
        int met = !rc && r->slo_attainment >= cp->target;
        moemap_sim_result_free(r);
        moemap_arrivals_free(arr);
        if (rc) {
            moemap_error_prefix(err, "capacity at %g req/s", cp->rates[i]);
            break;
        }
        if (!met)
            break;
        capacity = cp->rates[i];
    }
    if (rc) {
        moemap_free(rate);
        moemap_free(slo);
        return rc;
    }
    moemap_free(into->capacity_rate);
    moemap_free(into->capacity_slo);
    into->capacity_rate = rate;
    into->capacity_slo = slo;
    into->capacity_n = n;
    into->capacity_rps = capacity;
    into->capacity_target = cp->target;
    return 0;
}
