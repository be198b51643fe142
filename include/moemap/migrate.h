/*
 * moemap/migrate.h — migration plans between two placements: which expert copies go from
 * which GPU to which, bytes each, in an order that keeps every expert served.
 * Owned by the placement engine (issue 4).
 */
#ifndef MOEMAP_MIGRATE_H
#define MOEMAP_MIGRATE_H

#include "moemap/placement.h"

#endif
