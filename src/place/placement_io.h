/*
 * placement_io.h — internal entry point of the moemap.placement/v1 parser that works on
 * an in-memory buffer, so the fuzz target (fuzz/fuzz_placement.c) drives exactly the code
 * moemap_placement_read uses. Not installed.
 */
#ifndef MOEMAP_PLACEMENT_IO_H
#define MOEMAP_PLACEMENT_IO_H

#include <stddef.h>

#include "moemap/placement.h"

/* Parses a moemap.placement/v1 document held in buf[0..len); `name` stands for the file
 * name in messages. Same checks and messages as moemap_placement_read. */
int mm_placement_parse_buffer(const char *buf, size_t len, const char *name,
                              moemap_placement **out, moemap_error *err);

#endif
