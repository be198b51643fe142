/*
 * fuzz_arrivals.c — libFuzzer target for the arrival-trace parsers (Azure CSV and
 * Mooncake JSONL, chosen by the first byte like moemap_arrivals_read) and the event-spec
 * parser. Whatever parses must be a usable trace: sorted, first arrival at 0, finite
 * times, token counts >= 1; windowing it keeps those properties; otherwise the target
 * traps.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moemap/sim.h"

static void check(const moemap_arrivals *a)
{
    if (a->n < 1 || a->reqs[0].arrival_s != 0)
        __builtin_trap();
    for (long i = 0; i < a->n; i++) {
        const moemap_request *q = &a->reqs[i];
        if (!isfinite(q->arrival_s) || q->prompt_tokens < 1 || q->output_tokens < 1 ||
            (i > 0 && q->arrival_s < a->reqs[i - 1].arrival_s))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_error err = {0};
    moemap_arrivals *a = NULL, *w = NULL;
    const char *buf = (const char *)data;
    int rc = size > 0 && buf[0] == '{'
                 ? moemap_arrivals_parse_mooncake(buf, size, "fuzz", &a, &err)
                 : moemap_arrivals_parse_azure(buf, size, "fuzz", &a, &err);
    if (rc == 0) {
        check(a);
        if (moemap_arrivals_window(a, a->reqs[a->n - 1].arrival_s / 2 + 1, 1.5, &w, &err) == 0) {
            check(w);
            moemap_arrivals_free(w);
        }
        moemap_arrivals_free(a);
    } else if (a != NULL || err.msg[0] == 0) {
        __builtin_trap(); /* a failure leaves no trace and always says why */
    }
    /* The same bytes as an event spec. */
    char spec[200];
    size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
    memcpy(spec, data, n);
    spec[n] = 0;
    moemap_sim_event ev;
    const char *path = NULL;
    if (moemap_sim_event_parse(spec, &ev, &path, &err) == 0) {
        if (!(ev.time_s >= 0) || ev.gpu < 0 ||
            (ev.kind == MOEMAP_EVENT_SLOW && !(ev.factor > 0 && ev.factor <= 10)) ||
            (ev.kind == MOEMAP_EVENT_SWITCH && !path))
            __builtin_trap();
    }
    return 0;
}
