"""Runs one of the package's test files for ctest: exits 77 (ctest's skip) when numpy,
or a module the file lists in REQUIRES (torch), cannot be imported here, so a missing
optional module is reported as a skip and never counted as a pass; else runs the file's
unittest cases and exits 0 when all pass.

Usage: python3 run.py python/tests/test_x.py   (PYTHONPATH must reach the package)
"""

import importlib
import importlib.util
import os
import sys
import unittest


def main():
    path = sys.argv[1]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("SKIP: numpy is not installed for %s (Debian: python3-numpy)" % sys.executable)
        return 77
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    for req in _requires(path):
        try:
            importlib.import_module(req)
        except ImportError:
            print("SKIP: %s needs the Python module %s (Debian: python3-%s)" % (name, req, req))
            return 77
    spec.loader.exec_module(mod)
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    if result.skipped:
        print("a test skipped inside a file: not allowed, a skip must be the whole file (77)")
        return 1
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


def _requires(path):
    """REQUIRES = ("torch",) at the top of a test file, read without importing it."""
    with open(path) as f:
        for line in f:
            if line.startswith("REQUIRES"):
                return [m.strip(" '\"") for m in line.split("=", 1)[1].strip(" ()\n").split(",")
                        if m.strip(" '\"")]
    return []


if __name__ == "__main__":
    sys.exit(main())
