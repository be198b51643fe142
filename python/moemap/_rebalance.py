"""moemap.rebalance_experts: a drop-in for DeepSeek's EPLB rebalance_experts.

SGLang and vLLM place experts online by calling DeepSeek's
``rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus)``. This one
takes the same arguments and returns the same three things in the same shapes and dtypes:

  phy2log  [layers, num_replicas]  int64: the logical expert of each physical slot; slot p
           is on GPU (EP rank) p // (num_replicas // num_gpus)
  log2phy  [layers, experts, X]    int64: the physical slots of each expert, padded with
           -1 to X = the most copies any expert got
  logcnt   [layers, experts]       int64: copies of each expert

torch tensors in give torch tensors out on the weight's device; numpy (or lists) in give
numpy out. Without a cluster it balances tokens on equal GPUs (moemap's eplb strategy,
then swaps that lower the busiest GPU's tokens): never worse than DeepSeek's function by
that measure. With a cluster (a path, a dict or moemap.Cluster, GPU g = EP rank g) the
placement is moemap's, for the engine's rules at the operating point batch_tokens.
The work is one call into libmoemap (moemap_rebalance_experts); the Python around it
converts arrays and costs well under a millisecond.
"""

import ctypes
import os

import numpy as np

from . import _lib
from ._api import Cluster, as_cluster
from ._lib import MoemapError, check, lib

_cluster_cache = {}


def _cluster(cluster):
    """Cluster objects for paths are cached by (path, mtime): an engine calls this every
    rebalancing interval with the same file."""
    if isinstance(cluster, (str, bytes, os.PathLike)):
        path = os.fspath(cluster)
        try:
            key = (path, os.stat(path).st_mtime_ns)
        except OSError as e:
            raise MoemapError("rebalance_experts: cluster %s: %s" % (path, e.strerror),
                              name="EIO") from None
        c = _cluster_cache.get(key)
        if c is None:
            c = Cluster.read(path)
            _cluster_cache.clear()
            _cluster_cache[key] = c
        return c
    return as_cluster(cluster)


def _is_torch(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus, *,
                      cluster=None, engine="vllm", batch_tokens=None, top_k=None,
                      enable_hierarchical=None):
    """Drop-in for DeepSeek's EPLB rebalance_experts (see the module's description).

    weight: [layers, experts] load of each logical expert (any numeric dtype);
    num_replicas: physical experts per layer, a multiple of num_gpus; num_groups: expert
    groups (groups are packed onto nodes when num_groups % num_nodes == 0, as DeepSeek
    does); num_nodes, num_gpus: the EP deployment. cluster: moemap cluster profile for
    speed-aware placement; engine: "vllm" or "sglang"; batch_tokens: tokens per engine
    iteration (the operating point); top_k: experts per token (needed with a cluster).
    enable_hierarchical: SGLang's variant of the signature (its EPLB algorithms pass it,
    and num_groups may be None there): True packs groups onto nodes, False is the global
    variant, None (default) is DeepSeek's rule, num_groups % num_nodes == 0.
    Returns (phy2log, log2phy, logcnt)."""
    if enable_hierarchical is False:
        num_groups, num_nodes = 1, 1
    elif num_groups is None:
        num_groups = 1  # no groups: the global variant, as DeepSeek's rule gives it
    elif enable_hierarchical and int(num_groups) % int(num_nodes) != 0:
        raise MoemapError("rebalance_experts: enable_hierarchical needs num_groups %d to be "
                          "a multiple of num_nodes %d" % (num_groups, num_nodes))
    torch_in = _is_torch(weight)
    if torch_in:
        import torch
        device = weight.device
        w = weight.detach().to("cpu", torch.float64).numpy()
    else:
        w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 2:
        raise MoemapError("rebalance_experts: weight must be [layers, experts], got shape %s"
                          % (tuple(w.shape),))
    w = np.ascontiguousarray(w)
    L, E = w.shape
    R, G = int(num_replicas), int(num_gpus)
    if R < E:
        raise MoemapError("rebalance_experts: num_replicas %d < %d experts (every expert "
                          "needs a slot)" % (R, E))
    width = lib.moemap_rebalance_log2phy_width(E, R)
    phy2log = np.empty((L, R), dtype=np.int64)
    log2phy = np.empty((L, E, width), dtype=np.int64)
    logcnt = np.empty((L, E), dtype=np.int64)
    params = lib.moemap_rebalance_default_params()
    c = _cluster(cluster)
    if c is not None:
        params.cluster = c._ptr
    if engine is not None:
        params.engine = engine.encode() if isinstance(engine, str) else engine
    if batch_tokens is not None:
        params.batch_tokens = float(batch_tokens)
    if top_k is not None:
        params.top_k = int(top_k)
    most = ctypes.c_int(0)
    err = _lib.Error()
    check(lib.moemap_rebalance_experts(
        w.ctypes.data, L, E, R, int(num_groups), int(num_nodes), G, ctypes.byref(params),
        phy2log.ctypes.data, log2phy.ctypes.data, logcnt.ctypes.data, ctypes.byref(most),
        ctypes.byref(err)), err)
    log2phy = np.ascontiguousarray(log2phy[:, :, :most.value])
    if torch_in:
        return tuple(torch.from_numpy(a).to(device) for a in (phy2log, log2phy, logcnt))
    return phy2log, log2phy, logcnt
