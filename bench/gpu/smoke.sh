#!/usr/bin/env bash
# smoke.sh — first check of the GPU module on a lent one-GPU machine: builds the CUDA
# build, runs the GPU tests and profiles one GPU (full, then limited to 96 SMs).
# Run through the device tool with carry [".deps"]; results land in $OUT.
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
cd build-gpu
for t in test_gpu_profile test_gpu_exec; do
  timeout 200 ./$t > "$OUT/$t.log" 2>&1; echo "$t rc=$?"; tail -5 "$OUT/$t.log"
done
cd ..
/usr/bin/time -v timeout 200 $M profile --model deepseek-v3 -o "$OUT/h100-full.json" \
  > "$OUT/profile-full.log" 2>&1; echo "profile full rc=$?"; tail -25 "$OUT/profile-full.log"
timeout 200 $M profile --model deepseek-v3 --sm-limit 0=96 -o "$OUT/h100-96.json" \
  > "$OUT/profile-96.log" 2>&1; echo "profile 96 rc=$?"; tail -15 "$OUT/profile-96.log"
