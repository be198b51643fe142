/*
 * moemap/sim.h — discrete-event simulator of an expert-parallel MoE serving engine
 * (TTFT, TPOT, SLO attainment). Owned by the simulator (issue 5).
 */
#ifndef MOEMAP_SIM_H
#define MOEMAP_SIM_H

#include "moemap/cluster.h"
#include "moemap/model.h"
#include "moemap/placement.h"
#include "moemap/workload.h"

#endif
