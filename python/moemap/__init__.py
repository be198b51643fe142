"""moemap — places the experts of Mixture-of-Experts models on GPUs of unequal speed.

A pure-Python package over libmoemap.so (ctypes; numpy required, torch optional for
SGLang's .pt dumps and torch tensors). ``moemap.library_path`` is the library it
loaded and ``moemap.library_origin`` how it was found (MOEMAP_LIBRARY, next to the
package, the system path, or beside a moemap executable on PATH).

    import moemap
    loads = moemap.read_loads("expert_distribution_recorder_1700000000.pt", top_k=8)
    p = moemap.place(loads, "cluster.json", strategy="moemap")
    p.export("sglang", "placement.json", model="deepseek-v3")
    phy2log, log2phy, logcnt = moemap.rebalance_experts(weight, 288, 8, 4, 32)

Errors from moemap raise moemap.MoemapError with moemap's message.
"""

from ._lib import MoemapError, library_origin, library_path, version
from ._api import Cluster, Loads, Placement, evaluate, place, read_loads
from ._rebalance import rebalance_experts
from ._version import __version__
__all__ = ["Cluster", "Loads", "MoemapError", "Placement", "evaluate", "library_origin",
           "library_path", "place", "read_loads", "rebalance_experts", "version"]
