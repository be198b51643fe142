"""SGLang's expert-distribution recorder files, as torch.save writes them.

SGLang's recorder (``--expert-distribution-recorder-mode stat``, then POST
/start_expert_distribution_record, /stop_expert_distribution_record and
/dump_expert_distribution_record) saves ``expert_distribution_recorder_<time>.pt`` under
SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR: a dict holding "logical_count", an integer
tensor [steps, layers, experts] (one row per forward pass in the recorder's buffer) or
[layers, experts]. Reading it needs torch; without torch the error names the missing
module. The counts then go through moemap's own SGLang reader (the one the CLI uses for
the JSON form), so the two agree: all-zero layers are dense and get no entry. Steps whose
every count is zero are unused entries of the recorder's circular buffer, not
iterations, and are dropped.
"""

import numpy as np

from ._lib import MoemapError


def _torch():
    try:
        import torch
    except ImportError as e:
        raise MoemapError("reading a .pt file needs the Python module 'torch' (%s); install "
                          "it (Debian: apt-get install python3-torch; or pip install torch)"
                          % e, name="ENOTSUP") from None
    return torch


def load_logical_count(path):
    """The "logical_count" of an SGLang .pt dump as a numpy array (int64)."""
    torch = _torch()
    try:
        try:
            doc = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # torch < 1.13 has no weights_only
            doc = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds for a file that is not its own
        raise MoemapError("%s: not a torch.save file torch can read (%s)" % (path, e),
                          name="EPARSE") from None
    if not isinstance(doc, dict) or "logical_count" not in doc:
        keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        hint = (" (a per_token dump: record with --expert-distribution-recorder-mode stat)"
                if isinstance(doc, dict) and "records" in doc else "")
        raise MoemapError("%s: no 'logical_count' in the saved object (found %s)%s"
                          % (path, keys, hint), name="EFORMAT")
    lc = doc["logical_count"]
    a = lc.detach().cpu().numpy() if hasattr(lc, "detach") else np.asarray(lc)
    if a.ndim not in (2, 3) or a.size == 0:
        raise MoemapError("%s: logical_count has shape %s, expected [layers, experts] or "
                          "[steps, layers, experts]" % (path, tuple(a.shape)), name="EPARSE")
    if not np.issubdtype(a.dtype, np.number) or (a < 0).any():
        raise MoemapError("%s: logical_count must hold counts >= 0" % path, name="EPARSE")
    if a.ndim == 3:
        used = a.reshape(a.shape[0], -1).any(axis=1)
        if not used.any():
            raise MoemapError("%s: every count is zero: nothing was recorded" % path,
                              name="EPARSE")
        a = a[used]
    return a.astype(np.int64)


def sglang_json(a):
    """The SGLang JSON form of a logical_count array (what moemap's reader parses)."""
    return '{"logical_count": ' + np.array2string(
        a, separator=",", threshold=a.size + 1, max_line_width=1 << 30).replace(
            "\n", "").replace(" ", "") + "}"


def read_pt(path, top_k=None):
    from . import _api, _lib
    import ctypes
    a = load_logical_count(path)
    text = sglang_json(a).encode()
    params = _lib.lib.moemap_read_default_params()
    params.format = _lib.lib.moemap_workload_format_parse(b"sglang")
    if top_k is not None:
        params.top_k = int(top_k)
    ptr, err = ctypes.POINTER(_lib.Loads)(), _lib.Error()
    _lib.check(_lib.lib.moemap_workload_parse_buffer(text, len(text), _lib.encode(path),
                                                     ctypes.byref(params), ctypes.byref(ptr),
                                                     ctypes.byref(err)), err)
    return _api.Loads(ptr)
