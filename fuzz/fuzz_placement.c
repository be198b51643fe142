/*
 * fuzz_placement.c — libFuzzer target for the moemap.placement/v1 reader
 * (placement_io.c, through the buffer entry point moemap_placement_read uses). Whatever
 * parses is then checked problem by problem, cloned and freed: none of that may crash,
 * leak or trip a sanitizer, and a clone must report the same number of problems.
 */
#include <stdint.h>
#include <stdlib.h>

#include "moemap/placement.h"
#include "place/placement_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    moemap_placement *p = NULL, *q = NULL;
    moemap_error err = {0};
    if (mm_placement_parse_buffer((const char *)data, size, "fuzz", &p, &err) != 0)
        return 0;
    int n = moemap_placement_check(p, NULL, 0, NULL, NULL);
    if (moemap_placement_clone(p, &q, &err) == 0) {
        if (moemap_placement_check(q, NULL, 0, NULL, NULL) != n)
            __builtin_trap();
        moemap_placement_free(q);
    }
    if ((n == 0) != (moemap_placement_validate(p, NULL, &err) == 0))
        __builtin_trap();
    moemap_placement_free(p);
    return 0;
}
