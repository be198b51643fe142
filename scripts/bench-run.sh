#!/usr/bin/env bash
# bench-run.sh — the executor benchmark of issue 6, in one call on a GPU machine:
# build, correctness check, profile with an emulated slower GPU, place with eplb and
# moemap from that profile, run both placements side by side (and again under mpirun
# when Open MPI is there). Results go to $OUT (at most 8 files).
#
#   here:  scripts/device-deps.sh fetch          jansson for the GPU machine (.deps/)
#          scripts/bench-run.sh prepare          routing data for the GPU machine (.esft/):
#                                                the law task (for test_gpu_exec) and the
#                                                first $PREP_LAYERS MoE layers of all four
#                                                ESFT tasks concatenated (more tokens)
#          (also: Open MPI's Debian packages in .mpi/ for the MPI mode, see below)
#   there: scripts/bench-run.sh quick            environment, build, test_gpu_exec
#          scripts/bench-run.sh [full]           + profile, place, check, compare
#          scripts/bench-run.sh wide             issue 15 on 4 or 8 GPUs: profile (natural;
#                                                GPU 1 at SM_LIMIT SMs, GPU 2 at SM_LIMIT2),
#                                                eplb / moemap / moemap --engine sglang for
#                                                DeepSeek-V2-Lite (ESFT) and DeepSeek-V3-sized
#                                                experts (generated routing), --check and
#                                                --compare, dispatch per (token, GPU) and per
#                                                (token, expert) side by side
#          scripts/bench-run.sh profile-mpi      moemap profile of both GPUs, by one process
#                                                and by mpirun -n 2 (issue 3's MPI path)
#          scripts/bench-run.sh mpi              the comparison under mpirun -n 2, with the
#                                                cluster and placements committed under
#                                                bench/results/run/ (Open MPI from .mpi/
#                                                when the machine has none)
#          carry .deps and .esft (and .mpi)
#
# Knobs (environment): SM_LIMIT (96) for GPU 1, SM_LIMIT2 (66) for GPU 2 (wide), TOKENS per
# iteration (8192), LAYERS (8), ITERS (8), WARMUP (2), SLOTS per GPU (36), MODEL
# (deepseek-v2-lite), GPUS (all visible).
set -uo pipefail
cd "$(dirname "$0")/.."

DATA_SRC=${MOEMAP_DATA:-../shared/data}/esft-dsv2lite-routing/expert_scores
if [ "${1:-}" = prepare ]; then
  PREP_LAYERS=${PREP_LAYERS:-8}
  ex=$(git rev-parse --git-path info/exclude)
  mkdir -p "$(dirname "$ex")"
  grep -qx '/.esft/' "$ex" 2>/dev/null || echo '/.esft/' >> "$ex"
  rm -rf .esft && mkdir -p .esft/esft-dsv2lite-routing/expert_scores/law .esft/combined
  cp "$DATA_SRC"/law/*.txt .esft/esft-dsv2lite-routing/expert_scores/law/
  cp "$DATA_SRC"/../SOURCE.txt .esft/ 2>/dev/null || true
  for l in $(seq 1 "$PREP_LAYERS"); do
    cat "$DATA_SRC"/{intent,law,summary,translation}/expert_weights_"$l".txt \
      > .esft/combined/expert_weights_"$l".txt
  done
  du -sh .esft
  exit 0
fi

export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
OUT=${OUT:-/tmp/bench-run-out}
W=$OUT/w
mkdir -p "$W"
LOG=$OUT/log.txt
SM=${SM_LIMIT:-96}
T=${TOKENS:-8192}
LAYERS=${LAYERS:-8}
ITERS=${ITERS:-8}
WARM=${WARMUP:-2}
SLOTS=${SLOTS:-36}
MODEL=${MODEL:-deepseek-v2-lite}
TRACE=.esft/combined
export MOEMAP_DATA=$PWD/.esft
step() { echo; echo "=== $* ($(date -u +%T))" | tee -a "$LOG"; }

MODE=${1:-full}
step environment
{ nvidia-smi --query-gpu=index,name,memory.total,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv
  nvidia-smi topo -m; nvcc --version | tail -1; cmake --version | head -1
  echo "mpirun: $(command -v mpirun || echo absent)"; uname -r; nproc; } 2>&1 | tee -a "$LOG"

source scripts/device-deps.sh use
set +e
# NCCL: next to the CUDA toolkit, else the copy PyTorch's pip packages carry
NCCLFLAGS=()
MPIFLAGS=()
CUDA_INC=$(dirname "$(command -v nvcc)")/../include
if [ ! -f "$CUDA_INC/nccl.h" ]; then
  ND=$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))' 2>/dev/null ||
       python3 -c 'import nvidia.nccl; print(list(nvidia.nccl.__path__)[0])' 2>/dev/null)
  if [ -n "$ND" ] && [ -f "$ND/include/nccl.h" ]; then
    export CPATH=$ND/include:${CPATH:-}
    export LD_LIBRARY_PATH=$ND/lib:${LD_LIBRARY_PATH:-}
    NCCLFLAGS=(-DNCCL_LIBRARY="$(ls "$ND"/lib/libnccl.so* | head -1)")
  fi
  echo "nccl: ${ND:-not found} ${NCCLFLAGS[*]}" | tee -a "$LOG"
fi
B=build-gpu/moemap
if [ "$MODE" = mpi ] || [ "$MODE" = profile-mpi ]; then
  R=bench/results/run
  if ! command -v mpirun >/dev/null; then
    mkdir -p /tmp/ompi && for f in .mpi/*.deb; do dpkg -x "$f" /tmp/ompi; done
    P=/tmp/ompi/usr; L=$P/lib/x86_64-linux-gnu
    export OPAL_PREFIX=$P PMIX_INSTALL_PREFIX=$P PATH=$P/bin:$PATH
    export LD_LIBRARY_PATH=$L:$L/openmpi/lib:${LD_LIBRARY_PATH:-}
    ln -sf mpirun.openmpi $P/bin/mpirun
    MPIFLAGS=(-DMPI_C_HEADER_DIR=$L/openmpi/include -DMPI_C_LIB_NAMES=mpi
              -DMPI_mpi_LIBRARY=$L/openmpi/lib/libmpi.so -DMPI_SKIP_COMPILER_WRAPPER=TRUE
              "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$L -Wl,-rpath-link,$L/openmpi/lib")
  fi
  step "build with MPI"
  { cmake -S . -B build-gpu -DMOEMAP_CUDA=ON -DMOEMAP_MPI=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DCMAKE_BUILD_TYPE=Release "${MPIFLAGS[@]}" "${NCCLFLAGS[@]}" &&
    cmake --build build-gpu -j32 --target moemap_cli; } > "$W/build-mpi.txt" 2>&1 ||
    { tail -30 "$W/build-mpi.txt"; exit 1; }
  grep "moemap:" "$W/build-mpi.txt" | tee -a "$LOG"
  if [ "$MODE" = profile-mpi ]; then
    # Issue 3's multi-host path on one host: the same GPUs profiled by one process and by
    # two MPI ranks (one GPU each); rank 0 writes one cluster file for both.
    step "moemap profile, both GPUs, one process"
    timeout 200 build-gpu/moemap profile --model deepseek-v3 --out "$OUT/h200x2-deepseek-v3.json" \
      2>&1 | tail -20 | tee -a "$LOG"
    step "mpirun -n 2 moemap profile"
    timeout 200 mpirun --allow-run-as-root -n 2 --mca pml ob1 --mca btl self,vader \
      -x LD_LIBRARY_PATH build-gpu/moemap profile --model deepseek-v3 \
      --out "$OUT/h200x2-mpi-deepseek-v3.json" 2>&1 |
      grep -v "mca_base_component\|help file\|help-" | tail -20 | tee -a "$LOG"
    exit 0
  fi
  step "mpirun -n 2 moemap run (MPI bootstrap)"
  timeout 200 mpirun --allow-run-as-root -n 2 --mca pml ob1 --mca btl self,vader -x NCCL_NVLS_ENABLE \
    -x LD_LIBRARY_PATH build-gpu/moemap run --model "$MODEL" --loads "$TRACE" \
    --cluster $R/cluster.json --batch-tokens "$T" --tokens-per-iter "$T" --layers "$LAYERS" \
    --iterations "$ITERS" --warmup "$WARM" --sm-limit 1="$SM" --out "$W/run-mpi.json" \
    --compare $R/eplb.json $R/moemap.json 2>&1 | grep -v "mca_base_component\|help file\|help-" |
    tee -a "$LOG"
  step "mpirun -n 2 moemap run --check"
  timeout 200 mpirun --allow-run-as-root -n 2 --mca pml ob1 --mca btl self,vader -x NCCL_NVLS_ENABLE \
    -x LD_LIBRARY_PATH build-gpu/moemap run --check --model "$MODEL" --loads "$TRACE" \
    --tokens-per-iter 128 --iterations 1 --layers 2 --sm-limit 1="$SM" \
    $R/eplb.json $R/moemap.json 2>&1 | grep -v "mca_base_component\|help file\|help-" |
    tee -a "$LOG"
  cp "$W"/*.json "$OUT"/ 2>/dev/null; exit 0
fi

step build
{ cmake -S . -B build-gpu -DMOEMAP_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_BUILD_TYPE=Release -DMOEMAP_DATA_DIR="$MOEMAP_DATA" "${NCCLFLAGS[@]}" &&
  cmake --build build-gpu -j32 --target moemap_cli test_gpu_exec; } > "$W/build.txt" 2>&1
rc=$?
grep -E "moemap:|error|warning" "$W/build.txt" | head -30 | tee -a "$LOG"
grep "^NCCL_LIBRARY" build-gpu/CMakeCache.txt | tee -a "$LOG"
if [ $rc -ne 0 ]; then tail -40 "$W/build.txt"; tar czf "$OUT/work.tgz" -C "$OUT" w; exit 1; fi
step "test_gpu_exec (plan invariants; check runs on 1 and 2 GPUs, small shape)"
MOEMAP_BIN=$B timeout 180 build-gpu/test_gpu_exec 2>&1 | tee -a "$LOG"
[ "$MODE" = quick ] && exit 0

if [ "$MODE" = wide ]; then
  # Issue 15: the executor at expert-parallel width. Every step is bounded so the whole
  # call stays inside the device tool's 10 minutes on 8 GPUs.
  SM2=${SM_LIMIT2:-66}
  LIM=(--sm-limit 1="$SM" --sm-limit 2="$SM2")
  NG=$(nvidia-smi -L | wc -l)
  SLOTS_V3=$(( (288 + NG - 1) / NG )) # 288 slots in all for 256 experts, as SGLang's 32 x 9
  step "profiles: natural, and GPU 1 at $SM / GPU 2 at $SM2 SMs (V2-Lite and V3 expert shapes)"
  timeout 90 $B profile --model "$MODEL" --repeats 60 --rounds 10 --max-tokens "$T" \
    --out "$W/natural.json" > "$W/profile-natural.txt" 2>&1; echo "rc=$?" | tee -a "$LOG"
  timeout 90 $B profile --model "$MODEL" "${LIM[@]}" --repeats 60 --rounds 10 --max-tokens "$T" \
    --out "$W/limited.json" > "$W/profile-limited.txt" 2>&1; echo "rc=$?" | tee -a "$LOG"
  timeout 120 $B profile --model deepseek-v3 "${LIM[@]}" --repeats 40 --rounds 8 \
    --max-tokens "$T" --out "$W/limited-v3.json" > "$W/profile-v3.txt" 2>&1
  echo "rc=$?" | tee -a "$LOG"; tail -12 "$W/profile-limited.txt" | tee -a "$LOG"
  $B gen --model deepseek-v3 --batches 16 --batch-tokens "$T" --out "$W/gen-v3.json" \
    >/dev/null 2>&1
  for shape in lite v3; do
    if [ $shape = lite ]; then m=$MODEL; in=(--loads "$TRACE" --batch-tokens "$T"); c=$W/limited.json
      sl=$SLOTS
    else m=deepseek-v3; in=(--loads "$W/gen-v3.json"); c=$W/limited-v3.json; sl=$SLOTS_V3; fi
    step "place ($shape): eplb, moemap, moemap --engine sglang"
    for s in eplb moemap sglang; do
      extra=(--strategy "$s"); [ $s = sglang ] && extra=(--engine sglang)
      timeout 60 $B place "${in[@]}" --cluster "$c" --model "$m" --slots "$sl" \
        "${extra[@]}" --no-fewer-slots-check --out "$W/$shape-$s.json" 2>&1 | tail -2 | tee -a "$LOG"
    done
    for d in token-gpu token-expert; do
      step "check ($shape, $d)"
      timeout 60 $B run --check --model "$m" --loads "${in[1]}" --tokens-per-iter 128 \
        --iterations 1 --layers 1 "${LIM[@]}" --dispatch $d "$W/$shape-eplb.json" \
        "$W/$shape-moemap.json" 2>&1 | tail -3 | tee -a "$LOG"
      step "compare ($shape, $d): measured vs predicted, compute and whole layer"
      timeout 100 $B run --model "$m" --loads "${in[1]}" --cluster "$c" --tokens-per-iter "$T" \
        --layers "$LAYERS" --iterations "$ITERS" --warmup "$WARM" "${LIM[@]}" --dispatch $d \
        --out "$W/run-$shape-$d.json" --compare "$W/$shape-eplb.json" "$W/$shape-moemap.json" \
        "$W/$shape-sglang.json" 2>&1 | tee -a "$LOG"
    done
  done
  cp "$W"/run-*.json "$OUT"/ 2>/dev/null
  tar czf "$OUT/work.tgz" -C "$OUT" w
  exit 0
fi

step "profile, GPU 1 limited to $SM SMs"
timeout 200 $B profile --model "$MODEL" --sm-limit 1="$SM" --max-tokens "$T" --out "$W/cluster.json" \
  > "$W/profile.txt" 2>&1
echo "profile rc=$?" | tee -a "$LOG"; tail -25 "$W/profile.txt" | tee -a "$LOG"

step "place eplb and moemap ($SLOTS slots per GPU, batches of $T tokens)"
for s in eplb moemap; do
  timeout 60 $B place --loads "$TRACE" --batch-tokens "$T" --cluster "$W/cluster.json" --strategy $s \
    --slots "$SLOTS" --model "$MODEL" --out "$W/$s.json" 2>&1 | tail -5 | tee -a "$LOG"
done

step "correctness: DeepSeek-V2-Lite experts, real routing, both placements, CPU float64"
timeout 150 $B run --check --model "$MODEL" --loads "$TRACE" --tokens-per-iter 128 --iterations 1 \
  --layers 1 --sm-limit 1="$SM" "$W/eplb.json" "$W/moemap.json" 2>&1 | tee -a "$LOG"

RUNARGS=(--model "$MODEL" --loads "$TRACE" --cluster "$W/cluster.json" --batch-tokens "$T"
         --tokens-per-iter "$T" --layers "$LAYERS" --iterations "$ITERS" --warmup "$WARM"
         --sm-limit 1="$SM")
step "compare: ${RUNARGS[*]}"
timeout 200 $B run "${RUNARGS[@]}" --out "$W/run.json" --compare "$W/eplb.json" "$W/moemap.json" 2>&1 |
  tee -a "$LOG"

step "same, no SM limit (natural variability only)"
timeout 150 $B run --model "$MODEL" --loads "$TRACE" --tokens-per-iter "$T" --batch-tokens "$T" \
  --layers "$LAYERS" --iterations "$ITERS" --warmup "$WARM" --out "$W/run-nolimit.json" \
  --compare "$W/eplb.json" "$W/moemap.json" 2>&1 | tee -a "$LOG"
cp "$W"/cluster.json "$W"/eplb.json "$W"/moemap.json "$W"/run.json "$W"/run-nolimit.json "$OUT"/
tar czf "$OUT/work.tgz" -C "$OUT" w
ls -la "$OUT" | tee -a "$LOG"
