#!/usr/bin/env bash
# bench-profile.sh — the one script run on a lent GPU machine (device tool) for issue 3:
# builds moemap with CUDA, runs the GPU test, profiles the DeepSeek-V3, Mixtral-8x7B and
# Qwen3-30B-A3B expert shapes, profiles DeepSeek-V3 twice (run-to-run agreement) and under
# green-context SM limits (66 and 96 SMs), and leaves everything in $OUT/profile-results.tgz
# (profiles, summaries, logs). Usage, from the repository root:
#   scripts/bench-profile.sh [all|quick]      (quick: DeepSeek-V3 once, for a smoke run)
# Never touches clocks or power; keeps NCCL's NVLink multicast off.
set -u
export NCCL_NVLS_ENABLE=0
MODE=${1:-all}
OUT=${OUT:-/tmp/bench-profile-out}
RES=/tmp/profile-results
rm -rf "$RES"
mkdir -p "$OUT" "$RES"
finish() { tar czf "$OUT/profile-results.tgz" -C /tmp profile-results; }
trap finish EXIT

if [ -d .deps ]; then
  # shellcheck disable=SC1091
  source scripts/device-deps.sh use
  set +e +o pipefail   # device-deps.sh turns these on; this script reports failures itself
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit \
  --format=csv > "$RES/nvidia-smi.csv" 2>&1
cat "$RES/nvidia-smi.csv"
NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case "$NAME" in
  *H200*) KIND=h200 ;;
  *H100*) KIND=h100 ;;
  *) KIND=gpu ;;
esac
NGPU=$(nvidia-smi -L | wc -l)
[ "$NGPU" -gt 1 ] && KIND="${NGPU}x${KIND}"

t0=$(date +%s)
{ cmake -S . -B build-gpu -DMOEMAP_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release &&
  cmake --build build-gpu -j16 --target moemap_cli test_gpu_profile; } > "$RES/build.log" 2>&1 ||
  { tail -40 "$RES/build.log"; exit 1; }
echo "build: $(( $(date +%s) - t0 )) s"
B=build-gpu/moemap

( cd build-gpu && MOEMAP_TEST_TMP=/tmp/moemap-test timeout 120 ./test_gpu_profile ) \
  > "$RES/test_gpu_profile.log" 2>&1
echo "test_gpu_profile: exit $? ($(tail -1 "$RES/test_gpu_profile.log"))"
grep -E "not ok|FAIL" "$RES/test_gpu_profile.log" | head -20

# profile NAME ARGS...: runs one profile, records wall time, summary and exit status.
profile() {
  local name=$1; shift
  local s; s=$(date +%s.%N)
  timeout 150 "$B" profile "$@" --out "$RES/$name.json" > "$RES/$name.txt" 2> "$RES/$name.err"
  local rc=$?
  local e; e=$(date +%s.%N)
  printf '%-32s exit %d  %6.1f s wall  (%s)\n' "$name" "$rc" "$(awk "BEGIN{print $e - $s}")" "$*" |
    tee -a "$RES/wall.txt"
  [ $rc -ne 0 ] && tail -3 "$RES/$name.err"
}

profile "$KIND-deepseek-v3" --model deepseek-v3
[ "$MODE" = quick ] && exit 0
profile "$KIND-deepseek-v3-run2" --model deepseek-v3
profile "$KIND-deepseek-v3-run3" --model deepseek-v3
# The earlier default (50 repeats in 5 rounds), for comparison of run-to-run agreement.
profile "$KIND-deepseek-v3-short" --model deepseek-v3 --repeats 50 --rounds 5
profile "$KIND-deepseek-v3-short-run2" --model deepseek-v3 --repeats 50 --rounds 5
profile "$KIND-sm66-deepseek-v3" --model deepseek-v3 --sm-limit 0=66
profile "$KIND-sm96-deepseek-v3" --model deepseek-v3 --sm-limit 0=96
profile "$KIND-mixtral-8x7b" --model mixtral-8x7b
profile "$KIND-qwen3-30b-a3b" --model qwen3-30b-a3b

# Short table last (the device tool returns the end of the output).
python3 - "$RES" "$KIND" <<'PY'
import json, sys, os
res, kind = sys.argv[1], sys.argv[2]
def load(n):
    p = os.path.join(res, n + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def curve(c, g=0):
    d = c["gpus"][g]["curve"]
    return dict(zip(d["tokens"], d["us"]))
def pts(c, g=0):
    d = c["source"]["gpus"][g]["points"]
    return dict(zip(d["tokens"], d["median_us"]))
for first, second in (("deepseek-v3", "deepseek-v3-run2"), ("deepseek-v3-run2", "deepseek-v3-run3"),
                      ("deepseek-v3-short", "deepseek-v3-short-run2")):
    a, b = load(kind + "-" + first), load(kind + "-" + second)
    if a and b:
        for what, pa, pb in (("medians", pts(a), pts(b)), ("curves", curve(a), curve(b))):
            diffs = {t: abs(pa[t] - pb[t]) / pa[t] for t in pa if t in pb}
            worst = max(diffs, key=diffs.get)
            print("run-to-run %s vs %s, %s: max |diff| %.2f%% at %d tokens; median %.2f%%; "
                  ">3%%: %d of %d" % (first, second, what, 100 * diffs[worst], worst,
                  100 * sorted(diffs.values())[len(diffs) // 2],
                  sum(d > 0.03 for d in diffs.values()), len(diffs)))
a = load(kind + "-deepseek-v3")
for lim in ("sm66", "sm96"):
    c = load(kind + "-%s-deepseek-v3" % lim)
    if a and c:
        pf, pl = pts(a), pts(c)
        sm = c["gpus"][0].get("sm_limit")
        print("%s (%s SMs): " % (lim, sm) + ", ".join("%d: %.2fx" % (t, pl[t] / pf[t])
              for t in (1, 64, 256, 1024, 4096, 16384) if t in pl and t in pf))
for n in ("deepseek-v3", "deepseek-v3-run2", "deepseek-v3-run3", "deepseek-v3-short",
          "deepseek-v3-short-run2",
          "sm66-deepseek-v3", "sm96-deepseek-v3",
          "mixtral-8x7b", "qwen3-30b-a3b"):
    c = load(kind + "-" + n)
    if not c:
        continue
    s = c["source"]["gpus"][0]
    g = s.get("grouped_layer", {})
    p = s["points"]
    nv = s.get("nvml")
    nvs = ("clk %.0f MHz %.0f W %.0f C" % (nv["sm_clock_mhz_mean"], nv["power_w_mean"],
           nv["temp_c_mean"])) if isinstance(nv, dict) else "no NVML"
    print("%-18s %5.1fs floor %5.1fus t1 %6.1f t128 %6.1f t16k %8.1f grp %.3f %s" % (
        n, c["source"]["seconds"], s["floor_us"], p["median_us"][0],
        dict(zip(p["tokens"], p["median_us"])).get(128, 0), p["median_us"][-1],
        g.get("measured_over_predicted", 0), nvs))
PY
