/*
 * fuzz_export.c — libFuzzer target for the engine export readers (export_read.c).
 * The first byte picks the format (even: SGLang, odd: vLLM) and the GPU count (1..8);
 * the rest is the JSON document. Whatever parses must be a valid placement, and must
 * export again with the approximate option (the readers' output is always expressible
 * after equalising shares and filling slots), else the target traps.
 */
#include <stdint.h>
#include <stdlib.h>

#include "moemap/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    moemap_export_format fmt = (data[0] & 1) ? MOEMAP_EXPORT_VLLM : MOEMAP_EXPORT_SGLANG;
    moemap_import_params ip = moemap_import_default_params();
    ip.num_gpus = 1 + ((data[0] >> 1) & 7);
    moemap_placement *p = NULL;
    moemap_error err = {0};
    if (moemap_export_parse(fmt, (const char *)data + 1, size - 1, "fuzz", &ip, &p, &err) == 0) {
        if (moemap_placement_validate(p, NULL, &err) != 0)
            __builtin_trap();
        moemap_export_params ep = moemap_export_default_params();
        ep.approximate = 1;
        char *s = NULL;
        int rc = moemap_export_to_string(p, fmt, &ep, &s, NULL, &err);
        if (rc != 0 && rc != MOEMAP_ENOMEM)
            __builtin_trap();
        moemap_free(s);
        moemap_placement_free(p);
    }
    return 0;
}
