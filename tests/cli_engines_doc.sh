#!/usr/bin/env bash
# cli_engines_doc.sh — runs docs/engines.md ("Deploy with SGLang / vLLM") as written:
# every ```sh and ```python block, in order, in one shell, in a scratch folder where
# `build`, `python` and `data` point at this build and checkout, with a real DeepSeek-V3
# load recorded by SGLang (../shared/data/sglang-dsv3-expert-stats, saved with torch.save
# the way SGLang's recorder saves it) in $SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR.
# ```sh-gpu blocks run only where nvidia-smi sees a GPU and the build has CUDA; ```text
# blocks (engine servers, HTTP calls) are not run. Skips (77) without libmoemap.so (the
# sanitizer build) or without torch for Debian's python3.
. "$(dirname "$0")/lib.sh"
build=$(cd "$(dirname "$bin")" && pwd)
src=$(pwd)
need_data "$data/sglang-dsv3-expert-stats/prefill_in4096.json"
data=$(cd "$data" && pwd)
mm_tmp cli_engines_doc --clean
py=${MOEMAP_PYTHON:-/usr/bin/python3}
[ -e "$build/libmoemap.so" ] || { echo "SKIP: this build has no libmoemap.so"; exit 77; }
"$py" -c 'import numpy, torch' 2>/dev/null ||
  { echo "SKIP: $py lacks numpy or torch (Debian: python3-numpy python3-torch)"; exit 77; }
mkdir -p "$tmp/work" "$tmp/bin" "$tmp/sglang-dumps"
ln -s "$build" "$tmp/work/build"
ln -s "$src/python" "$tmp/work/python"
ln -s "$src/data" "$tmp/work/data"
ln -s "$py" "$tmp/bin/python3"
# The recorder's file, as SGLang's _StatAccumulator.dump writes it (one pass recorded).
"$py" - "$data/sglang-dsv3-expert-stats/prefill_in4096.json" \
  "$tmp/sglang-dumps/expert_distribution_recorder_1765000000.0.pt" <<'PY'
import json, sys, torch
counts = json.load(open(sys.argv[1]))["logical_count"]
torch.save(dict(rank=0, logical_count=torch.tensor([counts], dtype=torch.int32),
                average_utilization_rate_over_window=None), sys.argv[2])
PY

gpu=0
if nvidia-smi -L >/dev/null 2>&1 && "$bin" profile --help 2>&1 | grep -q -- --sm-limit &&
   ! "$bin" profile --gpus 0 --tokens 1 --no-group --repeats 1 --rounds 1 --settle 0 \
       --model deepseek-v3 --out "$tmp/probe.json" 2>&1 | grep -q "without CUDA"; then
  gpu=1
fi

# The guide's blocks -> one script; each block announces itself, and any failing command
# stops the script (set -e) with the block's number.
"$py" - "$src/docs/engines.md" "$gpu" > "$tmp/guide.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
gpu = sys.argv[2] == "1"
out = ["set -euo pipefail"]
for n, (lang, body) in enumerate(re.findall(r"^```([a-z-]*)\n(.*?)^```", text, re.S | re.M), 1):
    if lang == "sh" or (lang == "sh-gpu" and gpu):
        out.append("echo '--- block %d (%s)'" % (n, lang))
        out.append(body)
    elif lang == "python":
        out.append("echo '--- block %d (python)'" % n)
        out.append("python3 - <<'MOEMAP_PY'\n%sMOEMAP_PY" % body)
    elif lang == "sh-gpu":
        out.append("echo '--- block %d (sh-gpu): not run, no GPU here'" % n)
print("\n".join(out))
PY

blocks=$(grep -c '^echo .--- block' "$tmp/guide.sh")
[ "$blocks" -ge 8 ] && ok "the guide has $blocks blocks to run" || bad "only $blocks blocks found"
( cd "$tmp/work" && env -u PYTHONPATH -u MOEMAP_LIBRARY PATH="$tmp/bin:$PATH" PREFIX="$tmp/prefix" \
    SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR="$tmp/sglang-dumps" bash "$tmp/guide.sh" ) \
  > "$tmp/guide.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "every block of docs/engines.md ran"; else
  bad "docs/engines.md stopped (exit $rc) in $(grep '^--- block' "$tmp/guide.out" | tail -1)"
  tail -15 "$tmp/guide.out"
fi
w=$tmp/work
grep -q "found via beside the moemap executable $tmp/prefix/bin/moemap" "$tmp/guide.out" &&
  ok "the installed package found the installed library beside the CLI" ||
  bad "python3 -m moemap info: $(grep -A1 '^moemap 0' "$tmp/guide.out" | tail -1)"
[ -s "$w/loads.json" ] && "$bin" stats "$w/loads.json" >/dev/null 2>&1 &&
  ok ".pt dump converted to loads the CLI reads" || bad "loads.json from the .pt dump"
"$py" - "$w/sglang-placement.json" <<'PY' && ok "SGLang file: 61 rows x 288 slots, every expert placed" || bad "SGLang file shape"
import json, sys
m = json.load(open(sys.argv[1]))["physical_to_logical_map"]
assert list(json.load(open(sys.argv[1]))) == ["physical_to_logical_map"]
assert len(m) == 61 and all(len(r) == 288 for r in m)
assert all(sorted(set(r)) == list(range(256)) for r in m[3:])
PY
grep -q -- "--ep-num-redundant-experts 32" "$tmp/guide.out" &&
  ok "the Python example prints SGLang's redundant-expert flag" || bad "no --ep-num-redundant-experts 32"
grep -q "moemap.vllm_plugin:register" "$tmp/guide.out" &&
  ok "the vLLM plugin entry point is installed" || bad "entry point vllm.general_plugins missing"
grep -q "^(58, 256, " "$tmp/guide.out" && ok "rebalance_experts as vLLM calls it" ||
  bad "rebalance_experts example output"
mm_done
