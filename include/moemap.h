/*
 * moemap.h — the public interface of libmoemap: MoE expert placement that accounts for
 * each GPU's own speed. Include this one header; the components live under moemap/.
 *
 * Conventions shared by every component (docs/api.md): moemap_ names; int status with a
 * moemap_error message; options in a moemap_<x>_params struct started from
 * moemap_<x>_default_params(); one progress callback type (moemap_progress_fn); objects
 * in _create/_free pairs, _free(NULL) a no-op; arrays sized by their data; no derived
 * state in public structs.
 */
#ifndef MOEMAP_H
#define MOEMAP_H

#include "moemap/base.h"
#include "moemap/io.h"
#include "moemap/model.h"
#include "moemap/workload.h"
#include "moemap/cluster.h"
#include "moemap/placement.h"
#include "moemap/place.h"
#include "moemap/rebalance.h"
#include "moemap/a2a.h"
#include "moemap/eval.h"
#include "moemap/export.h"
#include "moemap/migrate.h"
#include "moemap/sim.h"
#include "moemap/gpu.h"
#include "moemap/report.h"
#include "moemap/inputs.h"
#include "moemap/place_job.h"
#include "moemap/cluster_synth.h"
#include "moemap/options.h"
#include "moemap/report_text.h"
#include "moemap/sim_job.h"
#include "moemap/abi.h"

#endif
