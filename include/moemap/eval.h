/*
 * moemap/eval.h — the predicted cost of placements under the cost model: per-batch
 * straggler time, its distribution, per-GPU times, and lower bounds.
 * Owned by the placement engine (issue 4).
 */
#ifndef MOEMAP_EVAL_H
#define MOEMAP_EVAL_H

#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#endif
