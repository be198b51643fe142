/*
 * moemap/place.h — placement strategies (linear, round_robin, eplb, gem, vibe, moemap,
 * exact), lower bounds, migration-aware re-placement and exports for SGLang and vLLM.
 * Owned by the placement engine (issue 4).
 */
#ifndef MOEMAP_PLACE_H
#define MOEMAP_PLACE_H

#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#endif
