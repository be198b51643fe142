"""vLLM plugin: vLLM's EPLB places experts with moemap.rebalance_experts.

Installed with the package under vLLM's plugin entry point group
``vllm.general_plugins`` (vLLM calls ``register`` in every process it starts); it does
nothing unless MOEMAP_VLLM_EPLB=1, so installing moemap never changes a vLLM that did not
ask. Settings, from the environment of the vLLM server:

  MOEMAP_VLLM_EPLB=1       turn it on
  MOEMAP_CLUSTER=path      cluster profile, GPU g = EP rank g: speed-aware placement
                           (unset: token balancing, never worse than DeepSeek's)
  MOEMAP_TOP_K=k           experts per token (needed with a cluster)
  MOEMAP_BATCH_TOKENS=n    tokens per engine iteration, the operating point

What is replaced, by vLLM version (read from vLLM's code):
  - vllm/distributed/eplb/policy/: EplbState calls
    ``self.policy.rebalance_experts(weight, num_replicas, num_groups, num_nodes,
    num_ranks, old_global_expert_indices)`` on the class EPLB_POLICIES["default"]
    (DefaultEplbPolicy); recent versions return phy2log alone and derive log2phy and
    logcnt themselves, earlier ones return all three. The classmethod is replaced and
    answers in the form the original declares.
  - older vLLM (vllm/distributed/eplb/rebalance_algo.py): eplb_state imports the module
    function ``rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus)``
    returning all three; both names are replaced.
"""

import inspect
import logging
import os

log = logging.getLogger("moemap")


def _settings():
    cluster = os.environ.get("MOEMAP_CLUSTER") or None
    top_k = os.environ.get("MOEMAP_TOP_K")
    bt = os.environ.get("MOEMAP_BATCH_TOKENS")
    return dict(cluster=cluster, engine="vllm", top_k=int(top_k) if top_k else None,
                batch_tokens=float(bt) if bt else None)


def _returns_tuple(fn):
    try:
        ann = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return True
    return ann is inspect.Signature.empty or "tuple" in str(ann).lower()


def _make_policy_method(whole):
    from . import rebalance_experts

    def rebalance(cls, weight, num_replicas, num_groups, num_nodes, num_ranks,
                  old_global_expert_indices=None):
        out = rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_ranks,
                                **_settings())
        return out if whole else out[0]
    return classmethod(rebalance)


def register():
    """vLLM's plugin hook (entry point vllm.general_plugins: moemap)."""
    if os.environ.get("MOEMAP_VLLM_EPLB", "").lower() not in ("1", "true", "yes", "on"):
        return
    from . import library_path, rebalance_experts
    done = []
    try:
        from vllm.distributed.eplb import policy as pol
        for name, cls in list(getattr(pol, "EPLB_POLICIES", {}).items()):
            if name != "default":
                continue
            orig = cls.__dict__.get("rebalance_experts")
            fn = orig.__func__ if isinstance(orig, classmethod) else cls.rebalance_experts
            cls.rebalance_experts = _make_policy_method(_returns_tuple(fn))
            done.append("EPLB_POLICIES[%r].rebalance_experts" % name)
    except ImportError:
        pass
    for modname in ("vllm.distributed.eplb.rebalance_algo", "vllm.distributed.eplb.eplb_state"):
        try:
            mod = __import__(modname, fromlist=["rebalance_experts"])
        except ImportError:
            continue
        if callable(getattr(mod, "rebalance_experts", None)):
            def fn(weight, num_replicas, num_groups, num_nodes, num_gpus):
                return rebalance_experts(weight, num_replicas, num_groups, num_nodes,
                                         num_gpus, **_settings())
            mod.rebalance_experts = fn
            done.append(modname + ".rebalance_experts")
    if not done:
        raise RuntimeError("moemap: MOEMAP_VLLM_EPLB=1 but this vLLM has neither "
                           "vllm.distributed.eplb.policy nor rebalance_algo: its EPLB is "
                           "not one moemap knows how to replace")
    log.info("moemap %s replaces vLLM's EPLB placement (%s)", library_path, ", ".join(done))
