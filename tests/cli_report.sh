#!/usr/bin/env bash
# cli_report.sh — `moemap report` end to end on real data: the ESFT law routing trace
# (stats, placements, eval) and a cluster drawn from the real PAL GPU variability data;
# checks the charts and tables against the other tools' own outputs, self-containment,
# and the errors a user can meet (usage errors exit 2; a missing or malformed input or a
# missing gnuplot exits 1 with one line naming the problem).
cd "$(dirname "$0")/.." || exit 1
. "$(dirname "$0")/lib.sh"
set -o pipefail
mm_tmp cli_report --clean
law="$data/esft-dsv2lite-routing/expert_scores/law"
pal="$data/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv"
need_data "$law" "$pal"

# --- inputs from the real data, made by the other subcommands ------------------------
"$bin" stats "$law" --batch-tokens 512 --json >"$tmp/stats.json" 2>/dev/null ||
  { echo "FATAL: moemap stats failed"; exit 1; }
"$bin" cluster synth --variability "$pal" --gpus 8 --seed 3 \
  --base-curve 1:40,64:41,256:50,1024:100,4096:380 --hidden 2048 --intermediate 1408 \
  --slots 9 --out "$tmp/cluster.json" >/dev/null 2>&1 || { echo "FATAL: cluster synth failed"; exit 1; }
for s in eplb vibe; do
  "$bin" place --loads "$law" --cluster "$tmp/cluster.json" --strategy $s \
    --out "$tmp/$s.json" >/dev/null 2>&1 || { echo "FATAL: moemap place $s failed"; exit 1; }
done
"$bin" eval --loads "$law" --cluster "$tmp/cluster.json" --json "$tmp/eplb.json" \
  "$tmp/vibe.json" >"$tmp/eval.json" 2>/dev/null || { echo "FATAL: moemap eval failed"; exit 1; }

# --- the report ----------------------------------------------------------------------
"$bin" report --out "$tmp/report.html" --stats "$tmp/stats.json" --eval "$tmp/eval.json" \
  --cluster "$tmp/cluster.json" --loads "$law" --title "law <on> 8 GPUs" --table \
  --work-dir "$tmp/work" >"$tmp/table.txt" 2>"$tmp/err.txt"
check "report on real data exits 0" test $? -eq 0
html="$tmp/report.html"
charts=$(grep -o '<img class="chart"' "$html" | wc -l)
check "5 charts (all but the TTFT time series, which needs simulate): got $charts" \
  test "$charts" -eq 5
check "every chart is an embedded PNG" \
  test "$(grep -o 'src="data:image/png;base64,iVBORw0KGgo' "$html" | wc -l)" -eq 5
check "no external reference" bash -c "! grep -Eq '(src|href)=\"(https?:|file:|//)|url\\(' '$html'"
check "title escaped" grep -q 'law &lt;on&gt; 8 GPUs' "$html"
check "the missing chart is named with the input that adds it" \
  grep -q 'p90 TTFT over time</b>: give --timeseries' "$html"

# The heatmap has one row per MoE layer: the 26 of DeepSeek-V2-Lite (layers 1..26).
rows=$(awk '/^\$map << EOD/{on=1; next} /^EOD/{on=0} on && NF==0 {r++} END {print r+0}' \
  "$tmp/work/load-heatmap.gp")
check "heatmap: 26 layer rows (got $rows)" test "$rows" -eq 26
# Its caption's busiest expert equals the largest max_over_mean that stats reports.
want=$(grep -o '"max_over_mean": [0-9.]*' "$tmp/stats.json" | awk '{print $2}' | sort -g |
  tail -1)
want=$(printf '%.1f' "$want")
check "heatmap caption: busiest expert ${want}x the mean, as stats says" \
  grep -q "carries ${want}x the mean" "$html"
# The co-activation matrix: the 16 hottest experts, correlations within [-1, 1].
cells=$(awk '/^\$m << EOD/{on=1; next} /^EOD/{on=0} on && NF==3 {c++; if ($3 < -1 || $3 > 1) b++}
  END {print c+0, b+0}' "$tmp/work/coactivation.gp")
check "co-activation: 16x16 cells, all in [-1, 1] (got $cells)" test "$cells" = "256 0"

# The comparison table carries eval's own numbers: eplb's gap to the bound.
gap=$(grep -o '"gap": [0-9.e-]*' "$tmp/eval.json" | head -1 | awk '{printf "%.1f%%", 100*$2}')
check "table: eplb's gap $gap as eval says" grep -Eq "^eplb .* $gap " "$tmp/table.txt"
check "table: a row for vibe" grep -q '^vibe ' "$tmp/table.txt"
# The per-batch CDF was recomputed from the placement files: one step per batch.
batches=$(grep -o '"batches": [0-9]*' "$tmp/eval.json" | head -1 | awk '{print $2}')
steps=$(awk '/^\$c0 << EOD/{on=1; next} /^EOD/{on=0} on {c++} END {print c+0}' \
  "$tmp/work/straggler-cdf.gp")
check "CDF: $batches batches (+1 closing point), got $steps" test "$steps" -eq $((batches + 1))
# ... and their mean is eval's own mean for eplb (the same cost model, summed the same way).
cdf_mean=$(awk '/^\$c0 << EOD/{on=1; next} /^EOD/{on=0} on {n++; s+=$1; l=$1}
  END {printf "%.1f", (s-l)/(n-1)}' "$tmp/work/straggler-cdf.gp")
eval_mean=$(grep -o '"mean_us": [0-9.e+-]*' "$tmp/eval.json" | head -1 | awk '{printf "%.1f", $2}')
check "CDF mean $cdf_mean us = eval's mean $eval_mean us" test "$cdf_mean" = "$eval_mean"

# --- errors --------------------------------------------------------------------------
expect_rc "no arguments" 2 "" "$bin" report
expect_rc "no input" 2 "" "$bin" report --out "$tmp/x.html"
expect_rc "no --out" 2 "" "$bin" report --stats "$tmp/stats.json"
expect_rc "unknown flag" 2 "" "$bin" report --out "$tmp/x.html" --bogus
expect_rc "flag without its value" 2 "" "$bin" report --out "$tmp/x.html" --stats
check "  ... says which" grep -q -- '--stats needs a value' "$tmp/err"
expect_rc "bad --layer" 2 "" "$bin" report --out "$tmp/x.html" --stats "$tmp/stats.json" --layer x
expect_rc "--table without eval/simulate" 2 "" "$bin" report --out "$tmp/x.html" \
  --stats "$tmp/stats.json" --table
expect_rc "missing input file" 1 "" "$bin" report --out "$tmp/x.html" --stats "$tmp/nope.json"
printf '{"format": "moemap.stats/v1", "experts": 2, "batches": 1, "layers": [\n  {"layer": 1, "tokens": 2, "max_over_mean": 1, "cv": 0, "gini": 0, "consistent": [],\n   "temporal": [], "coactive_pairs": [], "clusters": [], "load_share": [0.5, "x"]}]}\n' >"$tmp/bad.json"
expect_rc "malformed stats field" 1 "" "$bin" report --out "$tmp/x.html" --stats "$tmp/bad.json"
check "  ... names file and field" grep -q 'bad.json: layers\[0\].load_share\[1\]' "$tmp/err"
printf '{"layers": [\n  {,}]}\n' >"$tmp/syntax.json"
expect_rc "JSON syntax error" 1 "" "$bin" report --out "$tmp/x.html" --stats "$tmp/syntax.json"
check "  ... names file:line:column" grep -q 'syntax.json:2:' "$tmp/err"
MOEMAP_GNUPLOT=/nonexistent/gnuplot expect_rc "gnuplot missing" 1 "" "$bin" report \
  --out "$tmp/x.html" --cluster "$tmp/cluster.json"
check "  ... says how to get it" grep -q 'gnuplot-nox' "$tmp/err"
check "  ... and writes nothing" test ! -e "$tmp/x.html"
check "--help exits 0 and documents every input" bash -c "'$bin' report --help |
  grep -q -- '--timeseries FILE'"

mm_done
