#!/usr/bin/env bash
# smoke.sh — the GPU module on a lent one-GPU machine: builds the CUDA build, runs the GPU
# tests, profiles the GPU (DeepSeek-V3 and DeepSeek-V2-Lite expert shapes, short), and runs the executor on the real ESFT routing in --check mode and
# timed, with one row per (token, GPU) and per (token, expert).
# Run through the device tool with carry [".deps", ".gpudata"] (.gpudata/data holds the
# ESFT law task, copied from ../shared/data); results land in $OUT.
set -uo pipefail
export NCCL_NVLS_ENABLE=0
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
source scripts/device-deps.sh use; set +e  # the script sets -e
nvidia-smi -L > "$OUT/gpus.txt" 2>&1
{ cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DMOEMAP_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  && cmake --build build-gpu -j16 --target moemap_cli moemap_gpu test_gpu_profile test_gpu_exec; } \
  > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
M=build-gpu/moemap
export MOEMAP_DATA=$PWD/.gpudata/data
LAW=$MOEMAP_DATA/esft-dsv2lite-routing/expert_scores/law
for t in test_gpu_profile test_gpu_exec; do
  (cd build-gpu && timeout 200 ./$t > "$OUT/$t.log" 2>&1); echo "$t rc=$?"; tail -4 "$OUT/$t.log"
done
timeout 120 $M profile --model deepseek-v3 --repeats 60 --rounds 10 -o "$OUT/h100-dsv3.json" \
  > "$OUT/profile-dsv3.log" 2>&1; echo "profile dsv3 rc=$?"; tail -12 "$OUT/profile-dsv3.log"
timeout 90 $M profile --model deepseek-v2-lite --repeats 40 --rounds 8 --max-tokens 8192 \
  -o /tmp/lite.json > "$OUT/profile-lite.log" 2>&1; echo "profile lite rc=$?"; tail -4 "$OUT/profile-lite.log"
$M place --loads "$LAW" --batch-tokens 4096 --cluster /tmp/lite.json -o /tmp/p1.json 2>&1 | tail -2
for d in token-gpu token-expert; do
  timeout 60 $M run --model deepseek-v2-lite --loads "$LAW" --cluster /tmp/lite.json --check \
    --dispatch $d /tmp/p1.json > "$OUT/check-$d.log" 2>&1; echo "check $d rc=$?"; tail -2 "$OUT/check-$d.log"
  timeout 90 $M run --model deepseek-v2-lite --loads "$LAW" --cluster /tmp/lite.json --layers 8 \
    --dispatch $d /tmp/p1.json > "$OUT/run-$d.log" 2>&1; echo "run $d rc=$?"; cat "$OUT/run-$d.log"
done
