"""Loading libmoemap.so and describing its C API to ctypes.

The package is pure Python: every computation happens in libmoemap.so, reached through
ctypes. This module finds the library, checks that the structs mirrored here have the
sizes the library reports (moemap_abi_sizeof: a library of another version is refused
with a message instead of being written past), declares the argument and result types of
the functions the package calls, and turns a failed status into MoemapError carrying
moemap's own message.

Where the library is looked for, first hit wins (``moemap.library_path`` and
``moemap.library_origin`` say which was loaded):
  1. the file named by the environment variable MOEMAP_LIBRARY;
  2. next to this package (the build tree puts libmoemap.so.0 in build/python/moemap/);
  3. the system's search path (ldconfig, LD_LIBRARY_PATH) as libmoemap.so.0;
  4. ../lib*/ beside a ``moemap`` executable on PATH (a `make install PREFIX=P` tree).
"""

import ctypes
import ctypes.util
import glob
import os
import shutil

SONAME = "libmoemap.so.0"


class MoemapError(Exception):
    """An error reported by libmoemap: ``str(e)`` is moemap's message, ``e.code`` the
    status (negative), ``e.name`` its symbolic name ("EINVAL", "EPARSE", ...)."""

    def __init__(self, message, code=-1, name="EINVAL"):
        super().__init__(message)
        self.code = code
        self.name = name


# --- the structs (mirrors of include/moemap/*.h; sizes checked at load) ----------------

c_int, c_long, c_double, c_char_p, c_void_p, c_size_t = (
    ctypes.c_int, ctypes.c_long, ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p,
    ctypes.c_size_t)


class Error(ctypes.Structure):
    _fields_ = [("code", c_int), ("msg", ctypes.c_char * 512)]


class Loads(ctypes.Structure):
    _fields_ = [("experts", c_int), ("top_k", c_int), ("num_layers", c_int),
                ("layer_ids", ctypes.POINTER(c_int)), ("num_batches", c_int),
                ("batch_tokens", ctypes.POINTER(c_double)),
                ("counts", ctypes.POINTER(c_double))]


class ReadParams(ctypes.Structure):
    _fields_ = [("format", c_int), ("batch_tokens", c_long), ("experts", c_int),
                ("top_k", c_int)]


class A2AParams(ctypes.Structure):
    _fields_ = [("off", c_int), ("dispatch", c_int), ("act_bytes", c_double),
                ("local_first", c_int)]


class PlaceParams(ctypes.Structure):
    _fields_ = [("strategy", c_char_p), ("seed", ctypes.c_uint64), ("slots", c_int),
                ("tail_weight", c_double), ("time_limit_s", c_double),
                ("deterministic", c_int), ("consistent_threshold", c_double), ("temporal_max_active", c_double),
                ("temporal_min_ratio", c_double), ("nodes_groups", c_int),
                ("previous", c_void_p), ("max_moves", c_int),
                ("move_cost_us_per_gb", c_double), ("expert_bytes", c_double),
                ("engine", c_int), ("batch_tokens", c_double), ("top_k", c_int),
                ("no_predicted", c_int), ("a2a", A2AParams), ("progress", c_void_p),
                ("progress_ctx", c_void_p)]


class Replica(ctypes.Structure):
    _fields_ = [("expert", c_int), ("gpu", c_int), ("share", c_double)]


class LayerPlacement(ctypes.Structure):
    _fields_ = [("layer", c_int), ("num_replicas", c_int),
                ("replicas", ctypes.POINTER(Replica))]


class Placement(ctypes.Structure):
    _fields_ = [("strategy", ctypes.c_char * 32), ("num_gpus", c_int), ("experts", c_int),
                ("num_layers", c_int), ("layers", ctypes.POINTER(LayerPlacement)),
                ("predicted_json", c_char_p)]


class EvalParams(ctypes.Structure):
    _fields_ = [("slots", c_int), ("no_bound", c_int), ("engine_slots", c_int),
                ("previous", c_void_p), ("bounds", c_void_p), ("a2a", A2AParams)]


class EvalLayer(ctypes.Structure):
    _fields_ = [("layer", c_int), ("mean_us", c_double), ("p90_us", c_double),
                ("p99_us", c_double), ("bound_mean_us", c_double),
                ("engine_bound_mean_us", c_double), ("gap", c_double),
                ("fixed_bound_mean_us", c_double), ("fixed_gap", c_double),
                ("imbalance", c_double), ("replicas", c_int), ("moved", c_long),
                ("layer_mean_us", c_double), ("a2a_mean_us", c_double)]


class EvalSummary(ctypes.Structure):
    _fields_ = [("strategy", ctypes.c_char * 32), ("num_batches", c_int),
                ("batch_us", ctypes.POINTER(c_double)),
                ("batch_bound_us", ctypes.POINTER(c_double)),
                ("mean_us", c_double), ("p90_us", c_double), ("p99_us", c_double),
                ("bound_mean_us", c_double), ("bound_p90_us", c_double),
                ("engine_bound_mean_us", c_double), ("gap", c_double),
                ("fixed_bound_mean_us", c_double), ("fixed_gap", c_double),
                ("imbalance", c_double), ("replicas", c_long), ("moved", c_long),
                ("num_layers", c_int), ("layers", ctypes.POINTER(EvalLayer)),
                ("num_gpus", c_int), ("layer_gpu_us", ctypes.POINTER(c_double)),
                ("batch_layer_us", ctypes.POINTER(c_double)),
                ("layer_mean_us", c_double), ("layer_p90_us", c_double),
                ("layer_p99_us", c_double), ("a2a_mean_us", c_double)]


class ImportParams(ctypes.Structure):
    _fields_ = [("num_gpus", c_int), ("model", c_void_p)]


class OperatingPoint(ctypes.Structure):
    _fields_ = [("batch_tokens", c_double), ("top_k", c_int), ("samples", c_int),
                ("seed", ctypes.c_uint64)]


class ExportParams(ctypes.Structure):
    _fields_ = [("model", c_void_p), ("num_model_layers", c_int), ("approximate", c_int)]


class ExportInfo(ctypes.Structure):
    _fields_ = [("slots_per_rank", c_int), ("physical_experts", c_int),
                ("redundant_experts", c_int), ("approximated", c_int),
                ("note", ctypes.c_char * 256)]


class RebalanceParams(ctypes.Structure):
    _fields_ = [("cluster", c_void_p), ("engine", c_char_p), ("batch_tokens", c_double),
                ("top_k", c_int), ("strategy", c_char_p), ("time_limit_s", c_double)]


class ClusterHead(ctypes.Structure):
    """The leading fields of moemap_cluster, enough to read the GPU count."""
    _fields_ = [("hidden", c_int), ("intermediate", c_int), ("dtype", ctypes.c_char * 16),
                ("base_n", c_int), ("base_tokens", c_void_p), ("base_us", c_void_p),
                ("base_cv", c_double), ("num_gpus", c_int)]


_MIRRORS = {
    "moemap_error": Error, "moemap_loads": Loads, "moemap_read_params": ReadParams,
    "moemap_place_params": PlaceParams, "moemap_replica": Replica,
    "moemap_layer_placement": LayerPlacement, "moemap_placement": Placement,
    "moemap_eval_params": EvalParams, "moemap_eval_layer": EvalLayer,
    "moemap_eval_summary": EvalSummary, "moemap_export_params": ExportParams,
    "moemap_export_info": ExportInfo, "moemap_rebalance_params": RebalanceParams,
    "moemap_a2a_params": A2AParams,
}

P = ctypes.POINTER
_SIGNATURES = {
    # name: (result, [arguments])
    "moemap_version": (c_char_p, []),
    "moemap_abi_sizeof": (c_size_t, [c_char_p]),
    "moemap_status_name": (c_char_p, [c_int]),
    "moemap_free": (None, [c_void_p]),
    "moemap_read_default_params": (ReadParams, []),
    "moemap_workload_read": (c_int, [c_char_p, P(ReadParams), P(P(Loads)), c_void_p, P(Error)]),
    "moemap_workload_parse_buffer": (c_int, [c_char_p, c_size_t, c_char_p, P(ReadParams),
                                             P(P(Loads)), P(Error)]),
    "moemap_workload_format_parse": (c_int, [c_char_p]),
    "moemap_loads_create": (c_int, [c_int, c_int, c_int, c_int, P(P(Loads)), P(Error)]),
    "moemap_loads_free": (None, [P(Loads)]),
    "moemap_loads_write": (c_int, [P(Loads), c_char_p, P(Error)]),
    "moemap_operating_point_default": (OperatingPoint, []),
    "moemap_operating_point_default_tokens": (c_double, [c_int]),
    "moemap_loads_at_operating_point": (c_int, [P(Loads), P(OperatingPoint), P(P(Loads)),
                                                P(Error)]),
    "moemap_cluster_read": (c_int, [c_char_p, P(c_void_p), P(Error)]),
    "moemap_cluster_parse_buffer": (c_int, [c_char_p, c_size_t, c_char_p, P(c_void_p),
                                            P(Error)]),
    "moemap_cluster_write": (c_int, [c_void_p, c_char_p, P(Error)]),
    "moemap_cluster_free": (None, [c_void_p]),
    "moemap_place_default_params": (PlaceParams, []),
    "moemap_place": (c_int, [P(Loads), c_void_p, P(PlaceParams), P(P(Placement)), P(Error)]),
    "moemap_placement_free": (None, [P(Placement)]),
    "moemap_placement_read": (c_int, [c_char_p, P(P(Placement)), P(Error)]),
    "moemap_placement_read_any": (c_int, [c_char_p, P(ImportParams), P(P(Placement)),
                                          P(c_int), P(Error)]),
    "moemap_export_parse": (c_int, [c_int, c_char_p, c_size_t, c_char_p, P(ImportParams),
                                    P(P(Placement)), P(Error)]),
    "moemap_placement_write": (c_int, [P(Placement), c_char_p, P(Error)]),
    "moemap_placement_validate": (c_int, [P(Placement), c_void_p, P(Error)]),
    "moemap_eval_default_params": (EvalParams, []),
    "moemap_eval_placement": (c_int, [P(Loads), c_void_p, P(Placement), P(EvalParams),
                                      P(P(EvalSummary)), P(Error)]),
    "moemap_eval_summary_free": (None, [P(EvalSummary)]),
    "moemap_export_format_parse": (c_int, [c_char_p]),
    "moemap_engine_parse": (c_int, [c_char_p]),
    "moemap_dispatch_from_name": (c_int, [c_char_p]),
    "moemap_export_default_params": (ExportParams, []),
    "moemap_export_write": (c_int, [P(Placement), c_int, P(ExportParams), c_char_p,
                                    P(ExportInfo), P(Error)]),
    "moemap_model_find": (c_void_p, [c_char_p, P(Error)]),
    "moemap_rebalance_default_params": (RebalanceParams, []),
    "moemap_rebalance_log2phy_width": (c_int, [c_int, c_int]),
    "moemap_rebalance_experts": (c_int, [c_void_p, c_int, c_int, c_int, c_int, c_int, c_int,
                                         P(RebalanceParams), c_void_p, c_void_p, c_void_p,
                                         P(c_int), P(Error)]),
}


def _candidates():
    """(path, origin) pairs in the order they are tried."""
    env = os.environ.get("MOEMAP_LIBRARY")
    if env:
        yield env, "MOEMAP_LIBRARY"
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (SONAME, "libmoemap.so"):
        yield os.path.join(here, name), "next to the package"
    yield SONAME, "the system library path"
    found = ctypes.util.find_library("moemap")
    if found:
        yield found, "the system library path"
    exe = shutil.which("moemap")
    if exe:
        root = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
        for path in sorted(glob.glob(os.path.join(root, "lib*", SONAME)) +
                           glob.glob(os.path.join(root, "lib*", "*", SONAME))):
            yield path, "beside the moemap executable " + exe


def _load():
    tried = []
    for path, origin in _candidates():
        if os.sep in path and not os.path.exists(path):
            if origin == "MOEMAP_LIBRARY":
                raise ImportError("moemap: MOEMAP_LIBRARY=%s cannot be loaded: no such file"
                                  % path)
            tried.append(path + " (absent)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            if origin == "MOEMAP_LIBRARY":
                raise ImportError("moemap: MOEMAP_LIBRARY=%s cannot be loaded: %s" % (path, e))
            continue
        if not hasattr(lib, "moemap_rebalance_experts"):
            tried.append(path + " (not libmoemap, or too old: no moemap_rebalance_experts)")
            continue
        real = path
        try:
            # The file the dynamic loader actually mapped, when it searched for a bare name.
            with open("/proc/self/maps") as maps:
                for line in maps:
                    if "/libmoemap.so" in line:
                        real = line.split()[-1]
                        break
        except OSError:
            pass
        return lib, os.path.realpath(real) if os.sep in real else real, origin
    raise ImportError("moemap: libmoemap.so not found; tried " + "; ".join(tried) +
                      ". Build it (make), install it (make install PREFIX=...), or point "
                      "MOEMAP_LIBRARY at libmoemap.so.0")


lib, library_path, library_origin = _load()
for _name, (_res, _args) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

for _cname, _mirror in _MIRRORS.items():
    _size = lib.moemap_abi_sizeof(_cname.encode())
    if _size != ctypes.sizeof(_mirror):
        raise ImportError("moemap: %s (%s) is another version than this package: struct %s "
                          "has %d bytes there, %d here" % (library_path, library_origin,
                                                           _cname, _size,
                                                           ctypes.sizeof(_mirror)))

version = lib.moemap_version().decode()


def check(rc, err):
    """Raises MoemapError with moemap's message when rc is a failure status."""
    if rc < 0:
        name = lib.moemap_status_name(rc)
        raise MoemapError(err.msg.decode(errors="replace") or "moemap: error %d" % rc, rc,
                          name.decode() if name else "E?")
    return rc


def encode(s):
    return None if s is None else os.fsencode(s) if not isinstance(s, bytes) else s
