#!/usr/bin/env python3
"""compare-profiles.py A.json B.json [C.json ...] — run-to-run agreement of consecutive
moemap profiles of the same GPU (first GPU of each file): max and median relative
difference per grid point, and how many points differ by more than 3% (issue 3's bar)."""
import json
import sys

files = sys.argv[1:]
if len(files) < 2:
    sys.exit("usage: compare-profiles.py A.json B.json [C.json ...]")
curves = [json.load(open(f))["gpus"][0]["curve"] for f in files]
for i in range(len(curves) - 1):
    a, b = curves[i], curves[i + 1]
    if a["tokens"] != b["tokens"]:
        sys.exit(f"{files[i]} and {files[i + 1]}: different token grids")
    d = sorted(abs(x - y) / x for x, y in zip(a["us"], b["us"]))
    print(f"{files[i]} vs {files[i + 1]}: max {100 * d[-1]:.2f}% median "
          f"{100 * d[len(d) // 2]:.2f}%, points over 3%: {sum(x > 0.03 for x in d)} of {len(d)}")
