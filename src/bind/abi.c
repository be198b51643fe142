/*
 * abi.c — moemap_abi_sizeof (moemap/abi.h): the sizes of the public structs that
 * bindings mirror (python/moemap/_lib.py), so a binding can tell a library of another
 * version from its own before it fills a struct. Lives above every layer it names.
 */
#include <string.h>

#include "moemap.h"
#include "moemap/abi.h"

#define ENTRY(type) {#type, sizeof(type)}

static const struct {
    const char *name;
    size_t size;
} sizes[] = {
    ENTRY(moemap_error),          ENTRY(moemap_loads),
    ENTRY(moemap_read_params),    ENTRY(moemap_place_params),
    ENTRY(moemap_replica),        ENTRY(moemap_layer_placement),
    ENTRY(moemap_placement),      ENTRY(moemap_eval_params),
    ENTRY(moemap_eval_layer),     ENTRY(moemap_eval_summary),
    ENTRY(moemap_export_params),  ENTRY(moemap_export_info),
    ENTRY(moemap_rebalance_params), ENTRY(moemap_curve),
    ENTRY(moemap_operating_point), ENTRY(moemap_import_params),
    ENTRY(moemap_a2a_params),
};

size_t moemap_abi_sizeof(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (!strcmp(sizes[i].name, name))
            return sizes[i].size;
    return 0;
}
