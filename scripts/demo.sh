#!/usr/bin/env bash
# demo.sh — the pipeline on embedded defaults (what `make demo` runs).
set -euo pipefail
bin=build/moemap
out=build/demo
mkdir -p "$out"
echo "== generating a DeepSeek-V3-shaped workload (moemap gen)"
"$bin" gen --model deepseek-v3 --batches 64 --seed 1 --out "$out/workload.json"
echo "== profiling the workload (moemap stats)"
"$bin" stats "$out/workload.json"
