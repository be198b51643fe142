#!/usr/bin/env bash
# place_engine.sh — what reaches the engine (issue 10): for each cluster scenario and
# operating point, eplb / moemap free / moemap --engine sglang / --engine vllm / moemap
# --engine sglang with one slot fewer per GPU, each placed by the CLI (wall time of the
# whole call), then scored together by `moemap eval --json` on the same iterations:
# mean and p90 straggler of the expert compute, the whole layer with dispatch and combine
# (what the placements are balanced for), the general bound and the engine-rules bound,
# ratios to eplb.
# Prints markdown on stdout (bench/results/place_engine.md is its output).
#
#   bench/place_engine.sh [BUILD_DIR]          (default build)
#   DISPATCH=off bench/place_engine.sh ...     the compute-only model (--dispatch off on
#                                              every place and eval): issue 10's figures
#
# Workloads: the real SGLang DeepSeek-V3 dumps (decode_in2000out100 at 4,096 tokens per
# iteration, prefill_in4096 at 16,384), 32 GPUs x 9 slots on the measured H200 curve;
# the real ESFT routing (law task, DeepSeek-V2-Lite shape) at the README's settings (8
# GPUs x 9 slots, 512-token batches) and at 4,096.
set -euo pipefail
build=${1:-build}
bin=$build/moemap
dispatch=(--dispatch "${DISPATCH:-token-gpu}")
data=${MOEMAP_DATA:-../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pal=$data/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv

speeds() { # G kind
  python3 - "$1" "$2" <<'EOF'
import sys
G, kind = int(sys.argv[1]), sys.argv[2]
if kind == "identical": s = [1.0] * G
elif kind == "slow": s = [0.8] + [1.0] * (G - 1)
else:  # nodes of 8 at 1, 0.917, 0.833, 0.75 (25% from the fastest to the slowest node)
    s = [1.0 - 0.25 * ((g // 8) % 4) / 3 for g in range(G)]
print(",".join("%.4f" % x for x in s))
EOF
}

cluster() { # G base slots kind out
  if [ "$4" = pal ]; then
    "$bin" cluster synth --variability "$pal" --gpus "$1" --seed 7 --base "$2" --slots "$3" \
      --out "$5" >/dev/null 2>&1
  else
    "$bin" cluster synth --speeds "$(speeds "$1" "$4")" --base "$2" --slots "$3" \
      --out "$5" >/dev/null 2>&1
  fi
}

# place LABEL ARGS... : runs moemap place, records wall seconds in $tmp/LABEL.t
place() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" place "$@" "${dispatch[@]}" --out "$tmp/$label.json" >"$tmp/$label.out" 2>"$tmp/$label.err"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$tmp/$label.t"
}

# scenario TITLE LOADS_ARGS... -- CLUSTER
scenario() {
  local title=$1 cl=$2 slots=$3; shift 3
  local in=("$@")
  place eplb "${in[@]}" --cluster "$cl" --strategy eplb
  place free "${in[@]}" --cluster "$cl"
  place sglang "${in[@]}" --cluster "$cl" --engine sglang
  place vllm "${in[@]}" --cluster "$cl" --engine vllm
  place sglang_less "${in[@]}" --cluster "$cl" --engine sglang --slots $((slots - 1))
  "$bin" eval "${in[@]}" --cluster "$cl" --engine sglang --json "${dispatch[@]}" \
    "$tmp/eplb.json" "$tmp/free.json" "$tmp/sglang.json" "$tmp/vllm.json" \
    "$tmp/sglang_less.json" >"$tmp/eval.json" 2>/dev/null
  python3 - "$tmp" "$title" "$slots" <<'EOF'
import json, sys
tmp, title, slots = sys.argv[1], sys.argv[2], int(sys.argv[3])
ev = json.load(open(tmp + "/eval.json"))
rows = {p["file"].split("/")[-1][:-5]: p for p in ev["placements"]}
base = rows["eplb"]["mean_us"]
lbase = rows["eplb"].get("layer_mean_us", 0)
names = [("eplb", "eplb (token balancing)"), ("free", "moemap, free"),
         ("sglang", "moemap --engine sglang"), ("vllm", "moemap --engine vllm"),
         ("sglang_less", "moemap --engine sglang --slots %d" % (slots - 1))]
print("\n**%s**\n" % title)
print("| placement | compute mean (us) | p90 (us) | / eplb | whole layer (us) | / eplb | bound (us) | engine bound (us) | place wall (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for key, name in names:
    p = rows[key]
    t = float(open("%s/%s.t" % (tmp, key)).read())
    eb = p.get("engine_bound_mean_us", 0)
    lm = p.get("layer_mean_us", 0)
    print("| %s | %.1f | %.1f | %.3f | %.1f | %.3f | %.1f | %.1f | %.2f |" % (
        name, p["mean_us"], p["p90_us"], p["mean_us"] / base, lm, lm / lbase if lbase else 0,
        p["bound_mean_us"], eb, t))
EOF
}

h200=data/profiles/h200-deepseek-v3.json
echo "Command: \`DISPATCH=${DISPATCH:-token-gpu} bench/place_engine.sh $build\` ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for kind in slow nodes pal identical; do
  cluster 32 "$h200" 9 "$kind" "$tmp/c-$kind.json"
done
for op in decode prefill; do
  if [ $op = decode ]; then
    dump=$data/sglang-dsv3-expert-stats/decode_in2000out100.json; N=4096
  else
    dump=$data/sglang-dsv3-expert-stats/prefill_in4096.json; N=16384
  fi
  echo
  echo "### DeepSeek-V3, SGLang $op dump ($(basename "$dump")), $N tokens per iteration, 32 GPUs x 9 slots"
  for kind in slow nodes pal identical; do
    case $kind in
      slow) t="one GPU at 0.8x";; nodes) t="4 nodes at 1 / 0.917 / 0.833 / 0.75";;
      pal) t="PAL-sampled speeds (392 V100s, seed 7)";; identical) t="identical GPUs";;
    esac
    scenario "$t" "$tmp/c-$kind.json" 9 --loads "$dump" --model deepseek-v3 --batch-tokens $N
  done
done

# The real ESFT routing (DeepSeek-V2-Lite shape) at the README's settings.
law=$data/esft-dsv2lite-routing/expert_scores/law
"$bin" convert "$law" --batch-tokens 512 --out "$tmp/law512.json" >/dev/null 2>&1
"$bin" convert "$law" --batch-tokens 4096 --out "$tmp/law4096.json" >/dev/null 2>&1
base="1:40,64:41,256:50,1024:100,4096:380"
for kind in slow nodes pal identical; do
  if [ $kind = pal ]; then
    "$bin" cluster synth --variability "$pal" --gpus 8 --seed 7 --base-curve "$base" \
      --hidden 2048 --intermediate 1408 --slots 9 --out "$tmp/l-$kind.json" >/dev/null 2>&1
  else
    s=$(speeds 8 "$kind")
    [ $kind = nodes ] && s=1,1,0.917,0.917,0.833,0.833,0.75,0.75
    "$bin" cluster synth --speeds "$s" --base-curve "$base" --hidden 2048 \
      --intermediate 1408 --slots 9 --gpus-per-node 2 --out "$tmp/l-$kind.json" >/dev/null 2>&1
  fi
done
for N in 512 4096; do
  echo
  echo "### ESFT law routing (DeepSeek-V2-Lite shape, 26 x 64 experts, top-6), $N-token batches, 8 GPUs x 9 slots"
  for kind in slow nodes pal identical; do
    case $kind in
      slow) t="one GPU at 0.8x";; nodes) t="4 pairs at 1 / 0.917 / 0.833 / 0.75";;
      pal) t="PAL-sampled speeds (seed 7)";; identical) t="identical GPUs";;
    esac
    scenario "$t" "$tmp/l-$kind.json" 9 --loads "$tmp/law$N.json"
  done
done

# An aggregate dump placed without --batch-tokens (the default operating point, 128
# tokens per GPU: 4,096 here), then scored at other decode-sized iterations.
echo
echo "### Aggregate without --batch-tokens: placed at the default (4,096 tokens), scored at other sizes"
echo
echo "moemap / eplb, mean whole layer (dispatch + compute + combine), same rules for both (free = no --engine):"
echo
echo "| dump | cluster | rules | 1,024 | 2,048 | 4,096 | 8,192 |"
echo "|---|---|---|---:|---:|---:|---:|"
for dump in decode_in2000out100 decode_in1800out100; do
  for kind in slow nodes pal identical; do
    for eng in none sglang; do
      "$bin" place --loads "$data/sglang-dsv3-expert-stats/$dump.json" --model deepseek-v3 \
        --cluster "$tmp/c-$kind.json" --engine $eng --no-fewer-slots-check "${dispatch[@]}" \
        --out "$tmp/agg-m.json" >/dev/null 2>&1
      "$bin" place --loads "$data/sglang-dsv3-expert-stats/$dump.json" --model deepseek-v3 \
        --cluster "$tmp/c-$kind.json" --engine $eng --strategy eplb "${dispatch[@]}" \
        --out "$tmp/agg-e.json" >/dev/null 2>&1
      line="| $dump | $kind | $([ $eng = none ] && echo free || echo $eng) |"
      for N in 1024 2048 4096 8192; do
        r=$("$bin" eval --loads "$data/sglang-dsv3-expert-stats/$dump.json" --model deepseek-v3 \
              --cluster "$tmp/c-$kind.json" --batch-tokens $N --json "${dispatch[@]}" "$tmp/agg-m.json" \
              "$tmp/agg-e.json" 2>/dev/null |
            python3 -c 'import json,sys; p=json.load(sys.stdin)["placements"]; print("%.3f" % (p[0]["layer_mean_us"]/p[1]["layer_mean_us"]))')
        line="$line $r |"
      done
      echo "$line"
    done
  done
done
