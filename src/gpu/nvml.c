/*
 * nvml.c — NVML through dlopen (see nvml.h). The few NVML entry points used are declared
 * here with their documented C signatures; NVML's handles are opaque pointers and its
 * return code 0 means success, so no header is needed.
 */
#include "nvml.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

typedef void *nvml_device;
enum { NVML_OK = 0, NVML_CLOCK_SM = 1, NVML_TEMPERATURE_GPU = 0 };

typedef struct nvml_api {
    void *lib;
    int (*init)(void);
    int (*shutdown)(void);
    int (*by_pci)(const char *, nvml_device *);
    int (*clock)(nvml_device, int, unsigned *);
    int (*power)(nvml_device, unsigned *);
    int (*temp)(nvml_device, int, unsigned *);
    int (*power_limit)(nvml_device, unsigned *);
} nvml_api;

struct mm_nvml_sampler {
    nvml_api api;
    nvml_device dev;
    int period_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    mm_nvml_stats st;
    double clock_sum, power_sum, temp_sum;
};

/* dlsym returns void *; converting it to a function pointer goes through memcpy to stay
 * within ISO C. */
static int sym(void *lib, const char *name, void *fnptr)
{
    void *p = dlsym(lib, name);
    if (!p)
        return -1;
    memcpy(fnptr, &p, sizeof p);
    return 0;
}

static int load(nvml_api *a, moemap_error *err)
{
    memset(a, 0, sizeof *a);
    a->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!a->lib)
        return moemap_error_set(err, MOEMAP_ENOTSUP, "NVML not available: %s", dlerror());
    if (sym(a->lib, "nvmlInit_v2", &a->init) || sym(a->lib, "nvmlShutdown", &a->shutdown) ||
        sym(a->lib, "nvmlDeviceGetHandleByPciBusId_v2", &a->by_pci) ||
        sym(a->lib, "nvmlDeviceGetClockInfo", &a->clock) ||
        sym(a->lib, "nvmlDeviceGetPowerUsage", &a->power) ||
        sym(a->lib, "nvmlDeviceGetTemperature", &a->temp)) {
        dlclose(a->lib);
        a->lib = NULL;
        return moemap_error_set(err, MOEMAP_ENOTSUP, "NVML lacks an entry point moemap uses");
    }
    /* Optional: older drivers or restricted containers may not report it. */
    sym(a->lib, "nvmlDeviceGetEnforcedPowerLimit", &a->power_limit);
    if (a->init() != NVML_OK) {
        dlclose(a->lib);
        a->lib = NULL;
        return moemap_error_set(err, MOEMAP_ENOTSUP, "NVML did not initialise");
    }
    return MOEMAP_OK;
}

static void take_sample(mm_nvml_sampler *s)
{
    unsigned mhz = 0, mw = 0, c = 0;
    int ok_clock = s->api.clock(s->dev, NVML_CLOCK_SM, &mhz) == NVML_OK;
    int ok_power = s->api.power(s->dev, &mw) == NVML_OK;
    int ok_temp = s->api.temp(s->dev, NVML_TEMPERATURE_GPU, &c) == NVML_OK;
    if (!ok_clock || !ok_power || !ok_temp)
        return;
    pthread_mutex_lock(&s->mu);
    mm_nvml_stats *st = &s->st;
    double w = mw / 1000.0;
    if (st->samples == 0 || mhz < st->sm_clock_mhz_min)
        st->sm_clock_mhz_min = mhz;
    if (mhz > st->sm_clock_mhz_max)
        st->sm_clock_mhz_max = mhz;
    if (w > st->power_w_max)
        st->power_w_max = w;
    if (c > st->temp_c_max)
        st->temp_c_max = c;
    s->clock_sum += mhz;
    s->power_sum += w;
    s->temp_sum += c;
    st->samples++;
    pthread_mutex_unlock(&s->mu);
}

static void *sampler_main(void *arg)
{
    mm_nvml_sampler *s = arg;
    struct timespec ts = {s->period_ms / 1000, (long)(s->period_ms % 1000) * 1000000L};
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        take_sample(s);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int mm_nvml_sampler_start(const char *pci_bus_id, int period_ms, mm_nvml_sampler **out,
                          moemap_error *err)
{
    *out = NULL;
    mm_nvml_sampler *s = moemap_calloc(1, sizeof *s);
    if (!s)
        return moemap_error_set(err, MOEMAP_ENOMEM, "out of memory (NVML sampler)");
    int rc = load(&s->api, err);
    if (rc) {
        moemap_free(s);
        return rc;
    }
    if (s->api.by_pci(pci_bus_id, &s->dev) != NVML_OK) {
        rc = moemap_error_set(err, MOEMAP_ENOTSUP, "NVML does not know GPU %s", pci_bus_id);
        goto fail;
    }
    unsigned limit_mw = 0;
    if (s->api.power_limit && s->api.power_limit(s->dev, &limit_mw) == NVML_OK)
        s->st.power_limit_w = limit_mw / 1000.0;
    s->period_ms = period_ms < 1 ? 1 : period_ms;
    pthread_mutex_init(&s->mu, NULL);
    take_sample(s); /* at least one reading even for very short runs */
    if (pthread_create(&s->thread, NULL, sampler_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        rc = moemap_error_set(err, MOEMAP_ENOTSUP, "could not start the NVML sampler thread");
        goto fail;
    }
    *out = s;
    return MOEMAP_OK;
fail:
    s->api.shutdown();
    dlclose(s->api.lib);
    moemap_free(s);
    return rc;
}

void mm_nvml_sampler_stop(mm_nvml_sampler *s, mm_nvml_stats *stats)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    mm_nvml_stats st = s->st;
    if (st.samples > 0) {
        st.sm_clock_mhz_mean = s->clock_sum / st.samples;
        st.power_w_mean = s->power_sum / st.samples;
        st.temp_c_mean = s->temp_sum / st.samples;
    }
    if (stats)
        *stats = st;
    s->api.shutdown();
    dlclose(s->api.lib);
    moemap_free(s);
}
