#!/usr/bin/env bash
# cli_sim.sh — end-to-end tests of `moemap simulate` with the built binary and real data:
# a DeepSeek-V2-Lite-shaped cluster synthesised from the PAL variability data, the real
# ESFT routing (law, translation) and the real Azure conversation trace. Checks the table,
# --json keys, --compare with policy lists, --timeseries with event markers, that a
# placement serving the busiest experts on one GPU is slower than a spread one, that a
# seed gives the same result, and that bad flags and files get a one-line error.
. "$(dirname "$0")/lib.sh"
mm_tmp cli_sim
sgemm=$data/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv
law=$data/esft-dsv2lite-routing/expert_scores/law
trans=$data/esft-dsv2lite-routing/expert_scores/translation
need_data "$sgemm" "$law" "$trans"
export MOEMAP_DATA=$data

# 8 GPUs x 9 slots, DeepSeek-V2-Lite expert shape, speeds from the PAL population.
"$bin" cluster synth --variability "$sgemm" --gpus 8 --seed 3 \
  --base-curve 1:9,128:9.7,256:14.3,1024:42.4,4096:154.5 --hidden 2048 \
  --intermediate 1408 --slots 9 --out "$tmp/cluster.json" >/dev/null 2>&1
check "cluster synth" test -s "$tmp/cluster.json"

# Placements written here: "spread" puts expert e on GPU e % 8; "packed" puts experts
# 0..7 (the same count per GPU) on GPU e / 8 — same slots, different co-location.
placement() { # name, gpu-of-expert expression in $e
  local name=$1 expr=$2 out="$tmp/$1.json"
  {
    printf '{"format": "moemap.placement/v1", "strategy": "%s", "gpus": 8, "experts": 64, "layers": [' "$name"
    for l in $(seq 1 26); do
      [ "$l" -gt 1 ] && printf ','
      printf '{"layer": %d, "replicas": [' "$l"
      for e in $(seq 0 63); do
        [ "$e" -gt 0 ] && printf ','
        printf '{"expert": %d, "gpu": %d, "share": 1}' "$e" $((expr))
      done
      printf ']}'
    done
    printf ']}\n'
  } >"$out"
}
placement spread 'e % 8'
placement packed 'e / 8'

sim() {
  "$bin" simulate -m deepseek-v2-lite -c "$tmp/cluster.json" -l "$law" \
    -a azure-conv --duration 20 --rate-scale 20 "$@"
}

sim -p "$tmp/spread.json" >"$tmp/table.txt" 2>"$tmp/err"
check "table run exits 0" test $? -eq 0
check "table has the latency columns" grep -q "TTFT p50" "$tmp/table.txt"
check "table names the run" grep -q "spread.json" "$tmp/table.txt"

sim -p "$tmp/spread.json" --json >"$tmp/a.json" 2>/dev/null
for k in '"ttft"' '"tpot"' '"e2e"' '"slo_attainment"' '"goodput_rps"' '"gpu_idle_s"' \
         '"migration_bytes"' '"mean_iteration_tokens"' '"p99"'; do
  check "--json has $k" grep -q "$k" "$tmp/a.json"
done
sim -p "$tmp/spread.json" --json >"$tmp/b.json" 2>/dev/null
check "same seed, same result" cmp -s "$tmp/a.json" "$tmp/b.json"
sim -p "$tmp/spread.json" --json --seed 2 >"$tmp/c.json" 2>/dev/null
check "another seed, another result" bash -c "! cmp -s '$tmp/a.json' '$tmp/c.json'"

# Experts 0..7 are not hotter than the others by construction, but the ESFT law routing
# is skewed: the spread and packed placements differ in per-GPU load, so the per-GPU
# barrier idle times differ.
sim -p "$tmp/spread.json" --compare "$tmp/packed.json" --policies none,drift \
  --event "switch@8=$trans" --event slow@12=3:0.5 --json \
  --timeseries "$tmp/ts.json" >"$tmp/cmp.json" 2>"$tmp/err"
check "--compare with --policies exits 0" test $? -eq 0
check "--compare writes 4 runs" test "$(grep -c '^   "label"' "$tmp/cmp.json")" -eq 4
check "--json says its format" grep -q '"format": "moemap.simulate/v1"' "$tmp/a.json"
check "runs are labelled placement/policy" grep -q '"packed.json/drift"' "$tmp/cmp.json"
check "time series written" grep -q '"p90_ttft_s"' "$tmp/ts.json"
check "time series has straggler time" grep -q '"straggler_ms"' "$tmp/ts.json"
check "markers name the switch" grep -q "switch@8" "$tmp/ts.json"
check "markers name the slowdown" grep -q "slow@12=3:0.5" "$tmp/ts.json"

# Poisson arrivals.
sim -p "$tmp/spread.json" --poisson 50 --json >"$tmp/p.json" 2>/dev/null
check "--poisson runs" grep -q '"requests"' "$tmp/p.json"

expect_fail "unknown policy" "--policy" sim -p "$tmp/spread.json" --policy sometimes
expect_fail "bad event" "event" sim -p "$tmp/spread.json" --event slow@1=2
expect_fail "event GPU out of range" "GPU 99" sim -p "$tmp/spread.json" --event lost@1=99
expect_fail "missing placement file" "nope.json" sim -p "$tmp/nope.json"
expect_fail "bad rate scale" "--rate-scale" sim -p "$tmp/spread.json" --rate-scale -1
expect_fail "missing arguments" "required" "$bin" simulate -m deepseek-v2-lite
expect_fail "unknown model" "model" sim -p "$tmp/spread.json" -m nosuchmodel
expect_fail "missing trace file" "nope.csv" sim -p "$tmp/spread.json" -a "$tmp/nope.csv"
"$bin" simulate --help >"$tmp/help" 2>&1
check "--help exits 0" test $? -eq 0
check "--help documents --event" grep -q -- "--event" "$tmp/help"

mm_done
