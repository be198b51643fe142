"""SGLang: its EPLB (``--enable-eplb``) places experts with moemap.rebalance_experts.

SGLang's EPLB manager calls ``sglang.srt.eplb.eplb_algorithms.rebalance_experts``, which
for the "deepseek" and "deepseek_hierarchical" algorithms calls
``deepseek.rebalance_experts(weight=..., num_replicas=..., num_groups=..., num_nodes=...,
num_gpus=..., enable_hierarchical=...)`` and uses the (phy2log, log2phy, logcnt) it
returns. ``register()`` replaces that function when MOEMAP_SGLANG_EPLB=1. SGLang has no
plugin entry point, so it is called from a sitecustomize.py on the server's PYTHONPATH
(every process SGLang starts runs it; docs/engines.md shows the two lines). Settings come
from the environment as for vLLM: MOEMAP_CLUSTER, MOEMAP_TOP_K, MOEMAP_BATCH_TOKENS.
"""

import os

from .vllm_plugin import _settings


def register():
    if os.environ.get("MOEMAP_SGLANG_EPLB", "").lower() not in ("1", "true", "yes", "on"):
        return False
    try:
        from sglang.srt.eplb.eplb_algorithms import deepseek
    except ImportError as e:
        raise RuntimeError("moemap: MOEMAP_SGLANG_EPLB=1 but sglang's EPLB algorithms "
                           "cannot be imported (%s)" % e) from None
    from . import rebalance_experts

    def moemap_rebalance(weight, num_replicas, num_groups, num_nodes, num_gpus,
                         enable_hierarchical=None):
        settings = _settings()
        settings["engine"] = "sglang"
        return rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus,
                                 enable_hierarchical=enable_hierarchical, **settings)

    deepseek.rebalance_experts = moemap_rebalance
    return True
