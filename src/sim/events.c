/*
 * events.c — what changes during a simulated run: parsing of event specs
 * ("switch@300=LOADS", "slow@600=3:0.7", "recover@700=3", "lost@900=5") and the names of
 * the recalibration policies. Applying an event is the driver's job (simulate.c), since
 * it touches the iteration model and the recalibration state together.
 */
#include "moemap/sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_names[] = {"none", "periodic", "drift", "moemap"};

const char *moemap_recal_policy_name(moemap_recal_policy p)
{
    return (unsigned)p < 4 ? policy_names[p] : "?";
}

int moemap_recal_policy_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, policy_names[i]))
            return i;
    return -1;
}

/* A whole-string non-negative integer GPU index. */
static int parse_gpu(const char *s, const char *end, int *out)
{
    if (s == end)
        return -1;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9' || v > 1000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = (int)v;
    return 0;
}

int moemap_sim_event_parse(const char *spec, moemap_sim_event *ev, const char **path_out,
                           moemap_error *err)
{
    memset(ev, 0, sizeof *ev);
    if (path_out)
        *path_out = NULL;
    snprintf(ev->spec, sizeof ev->spec, "%s", spec);
    const char *at = strchr(spec, '@'), *eq = at ? strchr(at, '=') : NULL;
    if (!at || !eq || eq == at + 1 || !eq[1])
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "event '%s': expected KIND@SECONDS=ARG (switch@300=LOADS, "
                                "slow@600=GPU:FACTOR, recover@700=GPU, lost@900=GPU)",
                                spec);
    size_t klen = (size_t)(at - spec);
    char tbuf[64];
    size_t tlen = (size_t)(eq - at - 1);
    if (tlen >= sizeof tbuf)
        return moemap_error_set(err, MOEMAP_EINVAL, "event '%s': bad time", spec);
    memcpy(tbuf, at + 1, tlen);
    tbuf[tlen] = 0;
    char *e;
    errno = 0;
    double t = strtod(tbuf, &e);
    if (*e || errno || !isfinite(t) || t < 0 || t > 1e9)
        return moemap_error_set(err, MOEMAP_EINVAL,
                                "event '%s': time '%s' must be seconds >= 0", spec, tbuf);
    ev->time_s = t;
    const char *arg = eq + 1, *aend = arg + strlen(arg);
    if (klen == 6 && !strncmp(spec, "switch", 6)) {
        ev->kind = MOEMAP_EVENT_SWITCH;
        if (path_out)
            *path_out = arg;
        return 0;
    }
    if ((klen == 4 && !strncmp(spec, "slow", 4))) {
        const char *colon = strchr(arg, ':');
        if (!colon || parse_gpu(arg, colon, &ev->gpu))
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "event '%s': expected slow@T=GPU:FACTOR", spec);
        errno = 0;
        double f = strtod(colon + 1, &e);
        if (*e || errno || colon[1] == 0 || !(f > 0) || f > 10)
            return moemap_error_set(err, MOEMAP_EINVAL,
                                    "event '%s': speed factor must be in (0, 10]", spec);
        ev->kind = MOEMAP_EVENT_SLOW;
        ev->factor = f;
        return 0;
    }
    if ((klen == 7 && !strncmp(spec, "recover", 7)) || (klen == 4 && !strncmp(spec, "lost", 4))) {
        if (parse_gpu(arg, aend, &ev->gpu))
            return moemap_error_set(err, MOEMAP_EINVAL, "event '%s': GPU must be an index",
                                    spec);
        ev->kind = klen == 4 ? MOEMAP_EVENT_LOST : MOEMAP_EVENT_SLOW;
        ev->factor = 1.0;
        return 0;
    }
    return moemap_error_set(err, MOEMAP_EINVAL,
                            "event '%s': unknown kind (switch, slow, recover, lost)", spec);
}
