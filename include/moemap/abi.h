/*
 * moemap/abi.h — what a binding that mirrors moemap's structs (the Python package
 * reaches libmoemap.so through ctypes) needs to check that its mirror matches the library
 * it loaded: the size of each public struct it fills or reads. A mismatch means the
 * binding and the library come from different versions; the binding then refuses to run
 * instead of writing past a struct.
 */
#ifndef MOEMAP_ABI_H
#define MOEMAP_ABI_H

#include <stddef.h>

#include "moemap/base.h"

#ifdef __cplusplus
extern "C" {
#endif
MOEMAP_API_BEGIN

/* sizeof the public struct `name` ("moemap_place_params", "moemap_loads", ...), or 0
 * when the name is not one of them. */
size_t moemap_abi_sizeof(const char *name);

MOEMAP_API_END
#ifdef __cplusplus
}
#endif
#endif
