#!/usr/bin/env bash
# place_speed.sh — the CLI's cost per call (issue 13), two builds side by side in one run
# (BEFORE and AFTER, each a folder with a moemap binary), interleaved so that both see
# the same load: start-up (`moemap models`), `moemap validate` of a 16,704-replica
# placement, `moemap place --strategy eplb` on SGLang's DeepSeek-V3 decode dump (58 MoE
# layers x 256 experts at 4,096 tokens per iteration: 33 iterations) on 32 GPUs x 9 slots
# of three kinds (identical, one at 0.8x, PAL-drawn speeds: 32 distinct curves), and
# --time-limit against the wall time of the whole `moemap place` at 32 and 1,024 GPUs on
# that dump and on 64 generated batches of 4,096 tokens (3.2 MB of loads). Prints
# markdown on stdout (bench/results/place_speed.md quotes it).
#
#   bench/place_speed.sh BEFORE AFTER [REPS]      (e.g. build-base build; REPS default 20)
#
# Elapsed and CPU ms are perf stat's means over REPS runs (GNU time when perf is missing);
# peak MB is GNU time's maximum resident set of one run.
set -euo pipefail
before=$1 after=$2 reps=${3:-20}
data=${MOEMAP_DATA:-../shared/data}
dump=$data/sglang-dsv3-expert-stats/decode_in1800out100.json
pal=$data/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv
base=data/profiles/h200-deepseek-v3.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$after/moemap
ones=$(python3 -c 'print(",".join(["1"] * 32))')
"$bin" cluster synth --speeds "$ones" --base "$base" --slots 9 -o "$tmp/identical.json" >/dev/null 2>&1
"$bin" cluster synth --speeds "$ones" --throttle 5=0.8 --base "$base" --slots 9 \
  -o "$tmp/one-slow.json" >/dev/null 2>&1
"$bin" cluster synth -v "$pal" -g 32 --seed 7 --base "$base" --slots 9 -o "$tmp/pal.json" >/dev/null 2>&1
"$bin" cluster synth -v "$pal" -g 1024 --seed 7 --base "$base" --slots 1 -o "$tmp/pal1024.json" >/dev/null 2>&1
"$bin" gen --model deepseek-v3 -n 64 -o "$tmp/gen64.json" >/dev/null 2>&1
"$bin" place -l "$dump" --model deepseek-v3 -c "$tmp/pal.json" --strategy eplb \
  -o "$tmp/placement.json" >/dev/null 2>&1

# "elapsed_ms cpu_ms peak_MB" of a command
measure() {
  local e c m
  if command -v perf >/dev/null && perf stat -o "$tmp/ps" -r "$reps" "$@" >/dev/null 2>&1; then
    e=$(awk '/seconds time elapsed/ {printf "%.1f", $1 * 1000}' "$tmp/ps")
    c=$(awk '/msec task-clock/ {printf "%.1f", $1}' "$tmp/ps")
  else
    /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" >/dev/null 2>&1 || true
    read -r w u s <"$tmp/t"
    e=$(python3 -c "print('%.1f' % ($w * 1000))")
    c=$(python3 -c "print('%.1f' % (($u + $s) * 1000))")
  fi
  /usr/bin/time -f "%M" -o "$tmp/m" "$@" >/dev/null 2>&1 || true
  m=$(awk '{printf "%.1f", $1 / 1024}' "$tmp/m")
  echo "${e:-?} ${c:-?} $m"
}

echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');"\
     "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | cluster | before: elapsed ms / CPU ms / peak MB | after: elapsed ms / CPU ms / peak MB |"
echo "|---|---|---|---|"
row() { # label cluster args...
  local label=$1 cl=$2
  shift 2
  local b a
  b=$(measure "$before/moemap" "$@")
  a=$(measure "$after/moemap" "$@")
  echo "| $label | $cl | ${b// / \/ } | ${a// / \/ } |"
}
row '`moemap models`' - models
row '`moemap validate -c C P` (16,704 replicas)' PAL validate -c "$tmp/pal.json" "$tmp/placement.json"
for kind in identical one-slow pal; do
  row '`moemap place --strategy eplb` (SGLang decode dump, whole call)' "$kind" \
    place -l "$dump" --model deepseek-v3 -c "$tmp/$kind.json" --strategy eplb -o "$tmp/p.json"
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "--time-limit against the whole call's wall time (one run each, GNU time; moemap strategy):"
echo
echo "| GPUs | loads | --time-limit s | before: wall s / peak MB | after: wall s / peak MB |"
echo "|---|---|---|---|---|"
limit_row() { # gpus cluster loads-label limit loads-args...
  local g=$1 cl=$2 lab=$3 tl=$4
  shift 4
  local out=""
  for b in "$before" "$after"; do
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$b/moemap" place -l "$@" -c "$cl" --time-limit "$tl" \
      -o "$tmp/q.json" >/dev/null 2>&1 || true
    out="$out | $(awk '{printf "%.2f / %.0f", $1, $2 / 1024}' "$tmp/t")"
  done
  echo "| $g | $lab | $tl$out |"
}
for tl in 0.1 0.3 1; do
  limit_row 32 "$tmp/pal.json" "SGLang dump (33 iterations)" "$tl" "$dump" --model deepseek-v3
  limit_row 32 "$tmp/pal.json" "64 batches, 3.2 MB" "$tl" "$tmp/gen64.json"
done
for tl in 0.3 1 5; do
  limit_row 1024 "$tmp/pal1024.json" "SGLang dump (33 iterations)" "$tl" "$dump" --model deepseek-v3
  limit_row 1024 "$tmp/pal1024.json" "64 batches, 3.2 MB" "$tl" "$tmp/gen64.json"
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
