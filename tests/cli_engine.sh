#!/usr/bin/env bash
# cli_engine.sh — end-to-end tests of placements that reach the engine (issue 10), with
# the built binary on the real SGLang DeepSeek-V3 decode dump (an aggregate
# logical_count) and a 32-GPU cluster from the measured H200 curve with one GPU at 0.8x:
# an aggregate needs --top-k or --model; without --batch-tokens the operating point is
# said on stderr; `--engine sglang` placements export exactly (no approximation) and
# print the SGLang flags; `moemap eval` of the SGLang and vLLM files equals the score of
# the moemap file; validate reads engine files; moemap is never slower than eplb.
. "$(dirname "$0")/lib.sh"
mm_tmp cli_engine
dump=$data/sglang-dsv3-expert-stats/decode_in2000out100.json
need_data "$dump"

speeds=0.8$(printf ',1%.0s' $(seq 31))
"$bin" cluster synth --speeds "$speeds" --base data/profiles/h200-deepseek-v3.json --slots 9 \
  --out "$tmp/c.json" >/dev/null 2>&1
check "cluster: 32 GPUs, one at 0.8x" test -s "$tmp/c.json"

# An aggregate says nothing of tokens per iteration or per token: top-k must be given.
"$bin" place --loads "$dump" --cluster "$tmp/c.json" --out "$tmp/x.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "aggregate without --top-k or --model: exit 1" test $rc -eq 1
check "... the message names --top-k and --model" grep -q -- "--top-k K or --model NAME" "$tmp/err"
check "... and no placement is written" test ! -e "$tmp/x.json"

# Without --batch-tokens: one stderr line names the operating point assumed.
# --deterministic: the search stops on its work budget, not the clock, so the figures
# below hold on a slow or loaded machine (and under the sanitizers) too.
"$bin" place --loads "$dump" --model deepseek-v3 --cluster "$tmp/c.json" --engine sglang \
  --deterministic \
  --out "$tmp/p.json" --export sglang="$tmp/sglang.json" --export vllm="$tmp/vllm.json" \
  >"$tmp/place.out" 2>"$tmp/place.err"
check "place --engine sglang with exports: exit 0" test $? -eq 0
check "operating point said on stderr (4096 tokens = 128 x 32 GPUs)" \
  grep -q "operating point: 4096 tokens per iteration" "$tmp/place.err"
check "exports are exact (nothing approximated)" bash -c "! grep -q approximated '$tmp/place.err'"
check "the SGLang launch flags are printed" \
  grep -q -- "--init-expert-location $tmp/sglang.json --ep-size 32 --ep-num-redundant-experts 32" \
  "$tmp/place.err"
check "fewer redundant slots predicted faster at decode: the note gives the figure" \
  grep -q "note: with 8 slots per GPU (SGLang --ep-num-redundant-experts 0) the predicted whole layer is" \
  "$tmp/place.err"
ratio=$(grep -o 'moemap [0-9.]*x eplb' "$tmp/place.out" | grep -o '[0-9.]*x' | tr -d x)
check "summary gives eplb under the same rules (ratio '$ratio')" test -n "$ratio"
check "moemap's whole layer is not slower than eplb's under SGLang's rules" \
  awk -v r="$ratio" 'BEGIN { exit !(r <= 1.0) }'
check "the summary gives the whole layer with dispatch and combine" \
  grep -q "whole layer with dispatch and combine" "$tmp/place.out"
# The expert compute alone (--dispatch off): with one GPU at 0.8x clearly faster. Across
# 4 nodes at 50 GB/s the all-to-all, the same for every placement, dilutes the gain above.
"$bin" place --loads "$dump" --model deepseek-v3 --cluster "$tmp/c.json" --engine sglang \
  --deterministic --dispatch off --no-fewer-slots-check --out "$tmp/pc.json" \
  >"$tmp/pc.out" 2>/dev/null
ratio=$(grep -o 'moemap [0-9.]*x eplb' "$tmp/pc.out" | grep -o '[0-9.]*x' | tr -d x)
check "compute alone, one GPU at 0.8x: clearly faster (ratio '$ratio' <= 0.95)" \
  awk -v r="$ratio" 'BEGIN { exit !(r != "" && r <= 0.95) }'
check "with --dispatch off the summary compares the compute means" \
  bash -c "grep -q 'eplb under the same rules: mean' '$tmp/pc.out' && ! grep -q 'whole layer' '$tmp/pc.out'"

# The engine files score exactly like the placement they came from.
"$bin" eval --loads "$dump" --model deepseek-v3 --batch-tokens 4096 --cluster "$tmp/c.json" \
  --engine sglang "$tmp/p.json" "$tmp/sglang.json" "$tmp/vllm.json" >"$tmp/eval.out" 2>"$tmp/eval.err"
check "eval reads the moemap, SGLang and vLLM files: exit 0" test $? -eq 0
means=$(awk '$1 ~ /\.json$/ { print $3 }' "$tmp/eval.out" | sort -u | wc -l)
rows=$(awk '$1 ~ /\.json$/' "$tmp/eval.out" | wc -l)
check "three rows with one and the same mean ($rows rows, $means distinct)" \
  test "$rows" -eq 3 -a "$means" -eq 1
check "the table names the operating point and the engine bound" \
  grep -q "at 4096 tokens per iteration; sglang-rules bound" "$tmp/eval.out"

"$bin" validate --cluster "$tmp/c.json" --model deepseek-v3 --engine sglang "$tmp/sglang.json" \
  >"$tmp/val.out" 2>&1
check "validate --engine sglang on the SGLang file: OK" grep -q ": OK" "$tmp/val.out"

# A free placement uses unequal shares: validate --engine says what SGLang cannot run.
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 16384 --cluster "$tmp/c.json" \
  --out "$tmp/free.json" >/dev/null 2>&1
"$bin" validate --cluster "$tmp/c.json" --engine sglang "$tmp/free.json" >"$tmp/val2.out" 2>&1
rc=$?
check "validate --engine sglang on a free placement: exit 1 naming the rule" \
  bash -c "test $rc -eq 1 && grep -q 'sglang rules' '$tmp/val2.out'"
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 16384 --cluster "$tmp/c.json" \
  --out "$tmp/free2.json" --export sglang="$tmp/free-sglang.json" >"$tmp/out" 2>"$tmp/err"
check "exporting a free placement names --approximate-exports and --engine" \
  bash -c "grep -q -- '--approximate-exports' '$tmp/err' && grep -q -- '--engine' '$tmp/err'"

# Never worse at prefill sizes either, and an unknown engine is a usage error.
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 16384 --cluster "$tmp/c.json" \
  --engine vllm --deterministic --out "$tmp/pv.json" >"$tmp/pv.out" 2>&1
ratio=$(grep -o 'moemap [0-9.]*x eplb' "$tmp/pv.out" | grep -o '[0-9.]*x' | tr -d x)
check "prefill, vLLM rules: whole layer not slower than eplb (ratio '$ratio')" \
  awk -v r="$ratio" 'BEGIN { exit !(r != "" && r <= 1.0) }'
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 16384 --cluster "$tmp/c.json" \
  --engine vllm --deterministic --dispatch off --out "$tmp/pv.json" >"$tmp/pv.out" 2>&1
ratio=$(grep -o 'moemap [0-9.]*x eplb' "$tmp/pv.out" | grep -o '[0-9.]*x' | tr -d x)
check "prefill, vLLM rules, one GPU at 0.8x, compute alone: ratio '$ratio' <= 0.85" \
  awk -v r="$ratio" 'BEGIN { exit !(r != "" && r <= 0.85) }'
"$bin" place --loads "$dump" --model deepseek-v3 --cluster "$tmp/c.json" --dispatch ring \
  --out "$tmp/y.json" >"$tmp/out" 2>"$tmp/err"
check "unknown --dispatch: exit 2 naming the modes" \
  bash -c "test $? -eq 2 && grep -q 'token-gpu, token-expert, off' '$tmp/err'"
"$bin" place --loads "$dump" --model deepseek-v3 --cluster "$tmp/c.json" --engine trt \
  --out "$tmp/y.json" >"$tmp/out" 2>"$tmp/err"
check "unknown --engine: exit 2 naming the engines" \
  bash -c "test $? -eq 2 && grep -q 'sglang, vllm' '$tmp/err'"

# A mix of operating points: decode and prefill iterations side by side.
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 4096:0.8,16384:0.2 \
  --cluster "$tmp/c.json" --engine sglang --no-fewer-slots-check --out "$tmp/mix.json" \
  >"$tmp/mix.out" 2>&1
check "--batch-tokens 4096:0.8,16384:0.2 places at both sizes" \
  grep -q "at 4096 (80%) and 16384 (20%) tokens per iteration" "$tmp/mix.out"
"$bin" place --loads "$dump" --model deepseek-v3 --batch-tokens 4096:x --cluster "$tmp/c.json" \
  --out "$tmp/y.json" >"$tmp/out" 2>"$tmp/err"
check "a bad weight is a usage error naming the flag" \
  bash -c "test $? -eq 2 && grep -q -- '--batch-tokens (weight)' '$tmp/err'"

mm_done
