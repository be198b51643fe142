/*
 * nvml.h — GPU clock, power and temperature readings through NVML, loaded at run time
 * with dlopen("libnvidia-ml.so.1") so that moemap neither links against nor needs the
 * NVML headers; on a machine without the library the readings are simply absent.
 *
 * A sampler thread reads one GPU every few milliseconds while a profile runs (a single
 * reading before or after the work would see an idle, cool GPU) and keeps the mean and
 * extremes of each quantity.
 */
#ifndef MOEMAP_GPU_NVML_H
#define MOEMAP_GPU_NVML_H

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_nvml_stats {
    int samples;                       /* readings taken (0 = no NVML readings) */
    double sm_clock_mhz_mean, sm_clock_mhz_min, sm_clock_mhz_max;
    double power_w_mean, power_w_max;
    double temp_c_mean, temp_c_max;
    double power_limit_w;              /* enforced power limit, 0 when unknown */
} mm_nvml_stats;

typedef struct mm_nvml_sampler mm_nvml_sampler;

/* Starts sampling the GPU with PCI bus id `pci_bus_id` (as cudaDeviceGetPCIBusId gives it)
 * every period_ms milliseconds. Returns MOEMAP_ENOTSUP with a reason when NVML cannot be
 * loaded or does not know the GPU; callers treat that as "no readings", not as failure. */
int mm_nvml_sampler_start(const char *pci_bus_id, int period_ms, mm_nvml_sampler **out,
                          moemap_error *err);
/* Stops the thread, fills *stats (if non-NULL) and frees the sampler. NULL is a no-op. */
void mm_nvml_sampler_stop(mm_nvml_sampler *s, mm_nvml_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
