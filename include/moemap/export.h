/*
 * moemap/export.h — placements written for serving engines: SGLang
 * --init-expert-location JSON and vLLM/EPLB-style phy2log/log2phy/logcnt JSON, and the
 * matching readers for round trips. Owned by the placement engine (issue 4).
 */
#ifndef MOEMAP_EXPORT_H
#define MOEMAP_EXPORT_H

#include "moemap/placement.h"

#endif
