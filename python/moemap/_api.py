"""The Python face of moemap's pipeline: loads, clusters, placements, evaluation.

Each class owns one libmoemap object (freed with the Python object) and converts to and
from numpy where that is what a Python user wants to hold. Every call that can fail
raises MoemapError with moemap's own message ("law.json: batches[3].counts[2][70]: ...").
"""

import ctypes
import json
import os

import numpy as np

from . import _lib
from ._lib import MoemapError, check, encode, lib


class Loads:
    """Token counts per batch (engine iteration), MoE layer and expert: moemap_loads.

    ``counts`` is a numpy array [batches, layers, experts], ``layers`` the model layer id
    of each layer entry, ``batch_tokens`` the tokens of each batch, ``top_k`` the experts
    per token (0 when the input did not say)."""

    def __init__(self, ptr):
        self._ptr = ptr

    def __del__(self):
        if getattr(self, "_ptr", None):
            lib.moemap_loads_free(self._ptr)
            self._ptr = None

    @classmethod
    def from_array(cls, counts, layers=None, top_k=0, batch_tokens=None):
        """Loads from counts [batches, layers, experts] or [layers, experts] (one
        aggregate batch). layers: model layer ids (default 0..n-1); batch_tokens: tokens
        per batch (default: the busiest layer's token-slots / top_k, or the token-slots
        when top_k is 0)."""
        a = np.asarray(counts, dtype=np.float64)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise MoemapError("counts must be [batches, layers, experts] or [layers, "
                              "experts], got shape %s" % (a.shape,))
        if not np.all(np.isfinite(a)) or (a < 0).any():
            raise MoemapError("counts must be finite and >= 0")
        nb, nl, ne = a.shape
        ptr = ctypes.POINTER(_lib.Loads)()
        err = _lib.Error()
        check(lib.moemap_loads_create(ne, int(top_k), nl, nb, ctypes.byref(ptr),
                                      ctypes.byref(err)), err)
        self = cls(ptr)
        ld = ptr.contents
        np.ctypeslib.as_array(ld.counts, shape=(nb * nl * ne,))[:] = a.ravel()
        ids = np.arange(nl) if layers is None else np.asarray(layers, dtype=np.int64)
        if ids.shape != (nl,):
            raise MoemapError("layers has %d ids for %d layers" % (ids.size, nl))
        np.ctypeslib.as_array(ld.layer_ids, shape=(nl,))[:] = ids
        if batch_tokens is None:
            slots = a.sum(axis=2).max(axis=1)
            bt = slots / top_k if top_k else slots
        else:
            bt = np.broadcast_to(np.asarray(batch_tokens, dtype=np.float64), (nb,))
        np.ctypeslib.as_array(ld.batch_tokens, shape=(nb,))[:] = bt
        return self

    @property
    def experts(self):
        return self._ptr.contents.experts

    @property
    def top_k(self):
        return self._ptr.contents.top_k

    @property
    def layers(self):
        ld = self._ptr.contents
        return [ld.layer_ids[i] for i in range(ld.num_layers)]

    @property
    def num_batches(self):
        return self._ptr.contents.num_batches

    @property
    def batch_tokens(self):
        ld = self._ptr.contents
        return np.ctypeslib.as_array(ld.batch_tokens, shape=(ld.num_batches,)).copy()

    @property
    def counts(self):
        ld = self._ptr.contents
        return np.ctypeslib.as_array(
            ld.counts, shape=(ld.num_batches, ld.num_layers, ld.experts)).copy()

    @property
    def is_aggregate(self):
        """One batch: a whole run summed (an SGLang dump), not engine iterations."""
        return self.num_batches == 1

    def at_operating_point(self, batch_tokens, top_k=None, samples=None, seed=1):
        """Iterations of batch_tokens tokens from these loads (moemap's operating point):
        an aggregate gives its expected iteration plus `samples` sampled ones (default
        32); per-iteration loads are merged or scaled to batch_tokens. top_k: experts per
        token, needed for an aggregate whose input did not record it."""
        op = lib.moemap_operating_point_default()
        op.batch_tokens = float(batch_tokens)
        if top_k is not None:
            op.top_k = int(top_k)
        if samples is not None:
            op.samples = int(samples)
        op.seed = int(seed)
        ptr, err = ctypes.POINTER(_lib.Loads)(), _lib.Error()
        check(lib.moemap_loads_at_operating_point(self._ptr, ctypes.byref(op),
                                                  ctypes.byref(ptr), ctypes.byref(err)), err)
        return Loads(ptr)

    def total(self):
        """Counts summed over batches: [layers, experts] (the weight EPLB takes)."""
        return self.counts.sum(axis=0)

    def write(self, path):
        """Writes moemap.loads/v1."""
        err = _lib.Error()
        check(lib.moemap_loads_write(self._ptr, encode(os.fspath(path)), ctypes.byref(err)),
              err)

    def __repr__(self):
        return "<moemap.Loads %d batches x %d layers x %d experts, top-%d>" % (
            self.num_batches, len(self.layers), self.experts, self.top_k)


class Cluster:
    """A cluster profile (moemap.cluster/v1): GPUs, their cost curves, nodes, slots."""

    def __init__(self, ptr):
        self._ptr = ptr

    def __del__(self):
        if getattr(self, "_ptr", None):
            lib.moemap_cluster_free(self._ptr)
            self._ptr = None

    @classmethod
    def read(cls, path):
        ptr, err = ctypes.c_void_p(), _lib.Error()
        check(lib.moemap_cluster_read(encode(os.fspath(path)), ctypes.byref(ptr),
                                      ctypes.byref(err)), err)
        return cls(ptr)

    @classmethod
    def from_dict(cls, doc, name="<dict>"):
        """A cluster from the moemap.cluster/v1 document as a dict (or JSON text)."""
        text = (doc if isinstance(doc, str) else json.dumps(doc)).encode()
        ptr, err = ctypes.c_void_p(), _lib.Error()
        check(lib.moemap_cluster_parse_buffer(text, len(text), name.encode(),
                                              ctypes.byref(ptr), ctypes.byref(err)), err)
        return cls(ptr)

    @property
    def num_gpus(self):
        return ctypes.cast(self._ptr, ctypes.POINTER(_lib.ClusterHead)).contents.num_gpus

    def write(self, path):
        err = _lib.Error()
        check(lib.moemap_cluster_write(self._ptr, encode(os.fspath(path)), ctypes.byref(err)),
              err)

    def __repr__(self):
        return "<moemap.Cluster %d GPUs>" % self.num_gpus


def as_cluster(cluster):
    """A Cluster from a Cluster, a path or a dict."""
    if cluster is None or isinstance(cluster, Cluster):
        return cluster
    if isinstance(cluster, dict):
        return Cluster.from_dict(cluster)
    return Cluster.read(cluster)


def _model(name, err):
    m = lib.moemap_model_find(name.encode(), ctypes.byref(err))
    if not m:
        raise MoemapError(err.msg.decode() or "unknown model '%s'" % name)
    return m


class Placement:
    """A placement (moemap.placement/v1): for each MoE layer, replicas (expert, gpu,
    share)."""

    def __init__(self, ptr):
        self._ptr = ptr

    def __del__(self):
        if getattr(self, "_ptr", None):
            lib.moemap_placement_free(self._ptr)
            self._ptr = None

    @classmethod
    def read(cls, path, *, num_gpus=0, model=None):
        """Reads a placement in any format, detected by content: moemap.placement/v1, an
        SGLang --init-expert-location file (needs num_gpus: its ranks) or a vLLM/EPLB
        phy2log file. model: a preset name, for which SGLang rows are MoE layers."""
        params = _lib.ImportParams()
        params.num_gpus = int(num_gpus)
        err = _lib.Error()
        if model is not None:
            params.model = _model(model, err)
        ptr, fmt = ctypes.POINTER(_lib.Placement)(), ctypes.c_int(0)
        check(lib.moemap_placement_read_any(encode(os.fspath(path)), ctypes.byref(params),
                                            ctypes.byref(ptr), ctypes.byref(fmt),
                                            ctypes.byref(err)), err)
        return cls(ptr)

    @classmethod
    def from_phy2log(cls, phy2log, num_gpus, layers=None):
        """The placement an engine runs from a phy2log map [layers, physical slots] (what
        rebalance_experts returns; torch or numpy): slot p on GPU p // (slots / num_gpus),
        each expert's tokens split evenly over its copies. layers: the model layer id of
        each row (default 0..n-1)."""
        a = phy2log.detach().cpu().numpy() if hasattr(phy2log, "detach") else phy2log
        a = np.asarray(a, dtype=np.int64)
        if a.ndim != 2:
            raise MoemapError("phy2log must be [layers, physical slots], got shape %s"
                              % (a.shape,))
        ids = list(range(a.shape[0])) if layers is None else [int(x) for x in layers]
        text = json.dumps({"phy2log": a.tolist(), "layers": ids,
                           "num_ranks": int(num_gpus)}).encode()
        params = _lib.ImportParams()
        params.num_gpus = int(num_gpus)
        ptr, err = ctypes.POINTER(_lib.Placement)(), _lib.Error()
        check(lib.moemap_export_parse(lib.moemap_export_format_parse(b"vllm"), text,
                                      len(text), b"phy2log", ctypes.byref(params),
                                      ctypes.byref(ptr), ctypes.byref(err)), err)
        return cls(ptr)

    @property
    def strategy(self):
        return self._ptr.contents.strategy.decode()

    @property
    def num_gpus(self):
        return self._ptr.contents.num_gpus

    @property
    def experts(self):
        return self._ptr.contents.experts

    @property
    def layers(self):
        p = self._ptr.contents
        return [p.layers[i].layer for i in range(p.num_layers)]

    def replicas(self, layer):
        """[(expert, gpu, share), ...] of model layer `layer`."""
        p = self._ptr.contents
        for i in range(p.num_layers):
            lp = p.layers[i]
            if lp.layer == layer:
                return [(lp.replicas[k].expert, lp.replicas[k].gpu, lp.replicas[k].share)
                        for k in range(lp.num_replicas)]
        raise MoemapError("placement has no layer %d (layers: %s)" % (layer, self.layers))

    def validate(self, cluster=None):
        err = _lib.Error()
        c = as_cluster(cluster)
        check(lib.moemap_placement_validate(self._ptr, c._ptr if c else None,
                                            ctypes.byref(err)), err)

    def write(self, path):
        err = _lib.Error()
        check(lib.moemap_placement_write(self._ptr, encode(os.fspath(path)),
                                         ctypes.byref(err)), err)

    def export(self, engine, path, *, model=None, num_model_layers=0, approximate=False):
        """Writes the placement for a serving engine: engine "sglang" (the file for
        --init-expert-location), "vllm" (phy2log/log2phy/logcnt) or "moemap". model: a
        preset name ("deepseek-v3"), for SGLang's rows of dense layers. Returns what the
        writer did: {"slots_per_rank", "physical_experts", "redundant_experts" (SGLang's
        --ep-num-redundant-experts), "approximated", "note"}."""
        fmt = lib.moemap_export_format_parse(engine.encode())
        if fmt < 0:
            raise MoemapError("export: engine '%s' is not sglang, vllm or moemap" % engine)
        params = lib.moemap_export_default_params()
        err = _lib.Error()
        if model is not None:
            params.model = _model(model, err)
        params.num_model_layers = int(num_model_layers)
        params.approximate = 1 if approximate else 0
        info = _lib.ExportInfo()
        check(lib.moemap_export_write(self._ptr, fmt, ctypes.byref(params),
                                      encode(os.fspath(path)), ctypes.byref(info),
                                      ctypes.byref(err)), err)
        return {"slots_per_rank": info.slots_per_rank,
                "physical_experts": info.physical_experts,
                "redundant_experts": info.redundant_experts,
                "approximated": bool(info.approximated), "note": info.note.decode()}

    def __repr__(self):
        return "<moemap.Placement %s: %d layers on %d GPUs>" % (
            self.strategy, len(self.layers), self.num_gpus)


_FORMATS = {None: 0, "auto": 0}


def read_loads(path, *, format=None, batch_tokens=None, experts=None, top_k=None):
    """Reads any workload input the CLI reads (moemap.loads/v1, an SGLang dump as JSON, a
    one-row-per-layer CSV, an ESFT folder of per-token routing) and SGLang's recorder
    files as torch.save writes them (.pt holding "logical_count"; needs torch).

    format: "loads", "sglang", "csv", "esft" or "pt" (default: detected);
    batch_tokens: tokens per batch for per-token traces; experts, top_k: as the CLI's
    --experts / --top-k."""
    path = os.fspath(path)
    if format == "pt" or (format is None and path.endswith((".pt", ".pth"))):
        from ._pt import read_pt
        return read_pt(path, top_k=top_k)
    params = lib.moemap_read_default_params()
    if format not in _FORMATS:
        f = lib.moemap_workload_format_parse(format.encode())
        if f < 0:
            raise MoemapError("read_loads: format '%s' is not loads, sglang, csv, esft or pt"
                              % format)
        params.format = f
    if batch_tokens is not None:
        params.batch_tokens = int(batch_tokens)
    if experts is not None:
        params.experts = int(experts)
    if top_k is not None:
        params.top_k = int(top_k)
    ptr, err = ctypes.POINTER(_lib.Loads)(), _lib.Error()
    check(lib.moemap_workload_read(encode(path), ctypes.byref(params), ctypes.byref(ptr),
                                   None, ctypes.byref(err)), err)
    return Loads(ptr)


def _as_loads(loads):
    if isinstance(loads, Loads):
        return loads
    if isinstance(loads, (str, bytes, os.PathLike)):
        return read_loads(loads)
    return Loads.from_array(loads)


def _engine(engine):
    if engine is None:
        return 0
    e = lib.moemap_engine_parse(engine.encode())
    if e < 0:
        raise MoemapError("engine '%s' is not sglang, vllm or none" % engine)
    return e


def _a2a(params, dispatch):
    """Sets params.a2a from dispatch: "token-gpu" (default), "token-expert" or "off"."""
    if dispatch == "off":
        params.a2a.off = 1
        return
    d = lib.moemap_dispatch_from_name(dispatch.encode())
    if d < 0:
        raise MoemapError("dispatch '%s' is not token-gpu, token-expert or off" % dispatch)
    params.a2a.dispatch = d


def place(loads, cluster, strategy="moemap", *, engine=None, batch_tokens=None, top_k=None,
          slots=0, seed=1, time_limit=None, tail_weight=None, nodes_groups=0,
          previous=None, max_moves=0, no_predicted=False, dispatch="token-gpu"):
    """Places every MoE layer of `loads` (Loads, a path, or counts as numpy) on `cluster`
    (Cluster, a path or a dict) with a strategy ("moemap", "eplb", "eplb_global", "gem",
    "vibe", "exact", "linear", "round_robin"); returns a Placement.

    engine: "sglang" or "vllm" places under that engine's rules (equal slots on every
    GPU, all filled, equal shares: what the exports need); None is a free placement.
    batch_tokens: tokens per engine iteration, the operating point an aggregate input
    (an SGLang dump) is expanded to (default: 128 per GPU); top_k: experts per token,
    needed for such an input when it did not record it. dispatch: how the all-to-alls
    are counted ("token-gpu", the default, "token-expert", or "off" to balance the expert
    compute alone; docs/placement.md, "Dispatch and combine")."""
    ld = _as_loads(loads)
    c = as_cluster(cluster)
    if c is None:
        raise MoemapError("place: a cluster is required (a path, a dict or moemap.Cluster)")
    params = lib.moemap_place_default_params()
    params.strategy = strategy.encode()
    params.slots = int(slots)
    params.seed = int(seed)
    if time_limit is not None:
        params.time_limit_s = float(time_limit)
    if tail_weight is not None:
        params.tail_weight = float(tail_weight)
    params.nodes_groups = int(nodes_groups)
    if previous is not None:
        params.previous = ctypes.cast(previous._ptr, ctypes.c_void_p)
    params.max_moves = int(max_moves)
    params.no_predicted = 1 if no_predicted else 0
    params.engine = _engine(engine)
    _a2a(params, dispatch)
    if batch_tokens is not None:
        params.batch_tokens = float(batch_tokens)
    if top_k is not None:
        params.top_k = int(top_k)
    ptr, err = ctypes.POINTER(_lib.Placement)(), _lib.Error()
    check(lib.moemap_place(ld._ptr, c._ptr, ctypes.byref(params), ctypes.byref(ptr),
                           ctypes.byref(err)), err)
    return Placement(ptr)


def evaluate(loads, cluster, placement, *, batch_tokens=None, top_k=None, slots=0,
             engine_slots=0, previous=None, dispatch="token-gpu"):
    """Predicted cost of `placement` (a Placement or a file in any format: moemap,
    SGLang, vLLM) on every batch of `loads`: a dict with the model's straggler time per
    batch (mean_us, p90_us, p99_us), the lower bound (bound_mean_us; engine_bound_mean_us
    too with engine_slots), the gap to it, the bound for one fixed placement serving every
    batch (fixed_bound_mean_us) and the gap to it, the imbalance, the whole layer with
    dispatch and combine (layer_mean_us, layer_p90_us, layer_p99_us, a2a_mean_us,
    batch_layer_us; dispatch as for place) and one dict per layer ("layers"). These
    mean_us etc. are the expert compute. An aggregate input is judged at the operating point, as `moemap eval`
    does: iterations of batch_tokens tokens (default 128 per GPU; top_k as for place)."""
    ld = _as_loads(loads)
    c = as_cluster(cluster)
    if c is None:
        raise MoemapError("evaluate: a cluster is required")
    if ld.is_aggregate or batch_tokens is not None:
        bt = batch_tokens if batch_tokens is not None else \
            lib.moemap_operating_point_default_tokens(c.num_gpus)
        ld = ld.at_operating_point(bt, top_k=top_k)
    if not isinstance(placement, Placement):
        placement = Placement.read(placement)
    params = lib.moemap_eval_default_params()
    params.slots = int(slots)
    params.engine_slots = int(engine_slots)
    _a2a(params, dispatch)
    if previous is not None:
        params.previous = ctypes.cast(previous._ptr, ctypes.c_void_p)
    ptr, err = ctypes.POINTER(_lib.EvalSummary)(), _lib.Error()
    check(lib.moemap_eval_placement(ld._ptr, c._ptr, placement._ptr, ctypes.byref(params),
                                    ctypes.byref(ptr), ctypes.byref(err)), err)
    try:
        s = ptr.contents
        keys = ("mean_us", "p90_us", "p99_us", "bound_mean_us", "bound_p90_us",
                "engine_bound_mean_us", "gap", "fixed_bound_mean_us", "fixed_gap",
                "imbalance", "replicas", "moved", "layer_mean_us", "layer_p90_us",
                "layer_p99_us", "a2a_mean_us")
        out = {k: getattr(s, k) for k in keys}
        out["strategy"] = s.strategy.decode()
        out["batch_us"] = np.ctypeslib.as_array(s.batch_us, shape=(s.num_batches,)).copy()
        out["batch_layer_us"] = np.ctypeslib.as_array(s.batch_layer_us,
                                                      shape=(s.num_batches,)).copy()
        out["layers"] = [{k: getattr(s.layers[i], k) for k in
                          ("layer", "mean_us", "p90_us", "p99_us", "bound_mean_us",
                           "engine_bound_mean_us", "gap", "fixed_bound_mean_us", "fixed_gap",
                           "imbalance", "replicas", "moved", "layer_mean_us", "a2a_mean_us")}
                         for i in range(s.num_layers)]
        return out
    finally:
        lib.moemap_eval_summary_free(ptr)
