/*
 * fuzz_esft.c — libFuzzer target for the ESFT per-token routing line parser, through
 * moemap_workload_parse_buffer (no file system). Whatever parses must be well-formed
 * loads and a failure must leave a one-line message (checks in fuzz_workload.h).
 */
#include "fuzz_workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_read_params p = moemap_read_default_params();
    p.format = MOEMAP_FORMAT_ESFT;
    /* A small shape so that random inputs parse often: top-2 over 16 experts. */
    p.experts = 16;
    p.top_k = 2;
    p.batch_tokens = 3;
    return fuzz_workload_parse(data, size, &p);
}
