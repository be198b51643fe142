/*
 * fuzz_loads.c — libFuzzer target for the moemap.loads/v1 JSON parser, through
 * moemap_workload_parse_buffer (no file system). Whatever parses must be well-formed
 * loads and a failure must leave a one-line message (checks in fuzz_workload.h).
 */
#include "fuzz_workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_read_params p = moemap_read_default_params();
    p.format = MOEMAP_FORMAT_LOADS;
    return fuzz_workload_parse(data, size, &p);
}
