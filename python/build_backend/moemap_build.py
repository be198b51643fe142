"""A PEP 517 build backend for the moemap package, with the standard library only.

Why not setuptools: pip builds a package in an isolated environment and fetches the
backend it names from an index first, so a setuptools-built package cannot be installed
offline. This backend is in the source tree (pyproject.toml: backend-path), needs nothing,
and does what a pure-Python package needs: a wheel of moemap/*.py with its metadata and
entry points, and an sdist of the folder.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "moemap"


def _version():
    with open(os.path.join(ROOT, NAME, "_version.py")) as f:
        return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: Place the experts of MoE models on GPUs of unequal speed "
            "(libmoemap over ctypes)\nRequires-Python: >=3.8\nRequires-Dist: numpy\n"
            "Provides-Extra: torch\nRequires-Dist: torch; extra == \"torch\"\n"
            % (NAME, _version()))


ENTRY_POINTS = "[vllm.general_plugins]\nmoemap = moemap.vllm_plugin:register\n"
WHEEL = ("Wheel-Version: 1.0\nGenerator: moemap_build\nRoot-Is-Purelib: true\n"
         "Tag: py3-none-any\n")


def _sources():
    pkg = os.path.join(ROOT, NAME)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            yield "%s/%s" % (NAME, name), os.path.join(pkg, name)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info(dest):
    di = os.path.join(dest, "%s-%s.dist-info" % (NAME, _version()))
    os.makedirs(di, exist_ok=True)
    for name, text in (("METADATA", _metadata()), ("WHEEL", WHEEL),
                       ("entry_points.txt", ENTRY_POINTS)):
        with open(os.path.join(di, name), "w") as f:
            f.write(text)
    return os.path.basename(di)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _dist_info(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    di = "%s-%s.dist-info" % (NAME, version)
    files = [(arc, open(path, "rb").read()) for arc, path in _sources()]
    files += [(di + "/METADATA", _metadata().encode()), (di + "/WHEEL", WHEEL.encode()),
              (di + "/entry_points.txt", ENTRY_POINTS.encode())]
    record = []
    for arc, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append("%s,sha256=%s,%d" % (arc, digest.decode(), len(data)))
    record.append(di + "/RECORD,,")
    name = "%s-%s-py3-none-any.whl" % (NAME, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            z.writestr(arc, data)
        z.writestr(di + "/RECORD", "\n".join(record) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "build_backend/moemap_build.py"] + \
                [arc for arc, _ in _sources()]:
            t.add(os.path.join(ROOT, rel), arcname=base + "/" + rel)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
