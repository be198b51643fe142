#!/usr/bin/env bash
# cli_workload.sh — end-to-end tests of `moemap models`, `gen`, `convert` and `stats`
# with the built binary and the real ESFT traces: the profile of the law task covers all
# 26 MoE layers with the documented JSON keys, --compare prints 26 distances, gen is
# deterministic and round-trips through convert, and bad files (truncated, non-numeric,
# out-of-range expert, ragged CSV, broken JSON) or flags get a one-line error naming file
# and line, with a non-zero exit that is not a crash.
. "$(dirname "$0")/lib.sh"
mm_tmp cli_workload
law=$data/esft-dsv2lite-routing/expert_scores/law
translation=$data/esft-dsv2lite-routing/expert_scores/translation
need_data "$law" "$translation"

# --- models
"$bin" models >"$tmp/models.txt"; rc=$?
check "models exits 0" [ $rc -eq 0 ]
check "models lists deepseek-v3 with 58 MoE layers" grep -qE '^deepseek-v3 +DeepSeek-V3/R1 +61 +58 +256' "$tmp/models.txt"
check "models lists 11 presets" [ "$(tail -n +2 "$tmp/models.txt" | wc -l)" -eq 11 ]
"$bin" models --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==11 and d[1]["experts"]==64' 2>/dev/null
check "models --json parses" [ $? -eq 0 ]

# --- stats on the real law trace
"$bin" stats "$law" --batch-tokens 512 >"$tmp/law.txt"; rc=$?
check "stats law exits 0" [ $rc -eq 0 ]
check "stats law table has 26 layer rows" [ "$(grep -cE '^ +[0-9]+ +8327 ' "$tmp/law.txt")" -eq 26 ]
"$bin" stats "$law" --batch-tokens 512 --json >"$tmp/law.json"; rc=$?
check "stats --json exits 0" [ $rc -eq 0 ]
python3 - "$tmp/law.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
L = d["layers"]
assert len(L) == 26, len(L)
keys = ["layer", "tokens", "max_over_mean", "cv", "gini", "consistent", "temporal", "coactive_pairs"]
for l in L:
    for k in keys:
        assert k in l, k
assert [l["layer"] for l in L] == list(range(1, 27))
assert sum(1 for l in L if l["consistent"]) > 13
assert sum(1 for l in L if l["temporal"]) > 13
PY
check "stats --json: 26 layers with the documented keys, consistent/temporal on most" [ $? -eq 0 ]
"$bin" stats "$law" --compare "$translation" >"$tmp/cmp.txt"; rc=$?
check "stats --compare exits 0" [ $rc -eq 0 ]
check "stats --compare prints 26 distances" \
  [ "$(sed -n '/cosine distance/,$p' "$tmp/cmp.txt" | grep -cE '^ +[0-9]+ +0\.[0-9]{4}$')" -eq 26 ]

# --- gen, convert, round trip
"$bin" gen --model deepseek-v2-lite --batches 20 --batch-tokens 256 --seed 7 --out "$tmp/g1.json" 2>/dev/null
"$bin" gen --model deepseek-v2-lite --batches 20 --batch-tokens 256 --seed 7 --out "$tmp/g2.json" 2>/dev/null
check "gen is deterministic for a seed" cmp -s "$tmp/g1.json" "$tmp/g2.json"
"$bin" gen --model deepseek-v2-lite --batches 20 --batch-tokens 256 --seed 8 --out "$tmp/g3.json" 2>/dev/null
differ() { ! cmp -s "$1" "$2"; }
check "gen differs for another seed" differ "$tmp/g1.json" "$tmp/g3.json"
"$bin" convert "$tmp/g1.json" --out "$tmp/g1c.json" 2>/dev/null
check "convert of moemap.loads/v1 is the identity" cmp -s "$tmp/g1.json" "$tmp/g1c.json"
"$bin" convert "$law" --batch-tokens 1024 --out "$tmp/law_loads.json" 2>/dev/null
"$bin" stats "$tmp/law_loads.json" --json >"$tmp/law2.json"
"$bin" stats "$law" --batch-tokens 1024 --json >"$tmp/law3.json"
check "stats of the converted trace equals stats of the trace" cmp -s "$tmp/law2.json" <(sed 's#"input": ".*"#"input": "'"$tmp/law_loads.json"'"#' "$tmp/law3.json")
"$bin" stats "$tmp/g1.json" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [l["layer"] for l in d["layers"]]==list(range(1,27))'
check "gen --model deepseek-v2-lite gives layers 1..26" [ $? -eq 0 ]
for cmd in models gen convert stats; do
  "$bin" $cmd --help >/dev/null; check "$cmd --help exits 0" [ $? -eq 0 ]
done

# --- bad input: one line naming file and line, exit 1
printf '1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n7\t8\t9\t10\t11\t12\t\t0.1\t0.2\n' >"$tmp/expert_weights_1.txt"
expect_rc "truncated ESFT line" 1 "^moemap stats: $tmp/expert_weights_1.txt:2: truncated line" \
  "$bin" stats "$tmp/expert_weights_1.txt"
printf '1\t2\t3\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n1\t2\tthree\t4\t5\t6\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n' >"$tmp/expert_weights_2.txt"
expect_rc "non-numeric ESFT field" 1 "^moemap stats: $tmp/expert_weights_2.txt:2:5: expert id 'three' is not" \
  "$bin" stats "$tmp/expert_weights_2.txt"
printf '1\t2\t3\t4\t5\t300\t\t0.1\t0.1\t0.1\t0.1\t0.1\t0.1\n' >"$tmp/expert_weights_3.txt"
expect_rc "out-of-range ESFT expert" 1 "^moemap stats: $tmp/expert_weights_3.txt:1:11: expert 300 >= 64 experts" \
  "$bin" stats "$tmp/expert_weights_3.txt"
mkdir -p "$tmp/trace"; cp "$tmp/expert_weights_1.txt" "$tmp/trace/"
expect_rc "bad layer file inside a trace folder" 1 "^moemap convert: $tmp/trace/expert_weights_1.txt:2: truncated" \
  "$bin" convert "$tmp/trace" --out "$tmp/x.json"
printf '1,2,3\n4,5\n' >"$tmp/ragged.csv"
expect_rc "ragged CSV" 1 "^moemap stats: $tmp/ragged.csv:2: ragged row" "$bin" stats "$tmp/ragged.csv"
printf '1,2,3\n4,five,6\n' >"$tmp/nonnum.csv"
expect_rc "non-numeric CSV" 1 "^moemap stats: $tmp/nonnum.csv:2:3: cell 2 'five' is not a number" "$bin" stats "$tmp/nonnum.csv"
printf '{"logical_count": [[1, 2], [3, 4]' >"$tmp/trunc.json"
expect_rc "truncated JSON" 1 "^moemap stats: $tmp/trunc.json:1:" "$bin" stats "$tmp/trunc.json"
printf '{"format": "moemap.loads/v1", "experts": 2, "layers": [3], "batches": [{"tokens": 1, "counts": [[1, "x"]]}]}' >"$tmp/badcount.json"
expect_rc "non-numeric count in loads" 1 "^moemap stats: $tmp/badcount.json: batches[0].counts[0][1]" "$bin" stats "$tmp/badcount.json"
expect_rc "missing input file" 1 "^moemap stats: $tmp/none.json: cannot open" "$bin" stats "$tmp/none.json"
expect_rc "bad --batch-tokens" 2 "^moemap stats: --batch-tokens: 'x' is not an integer" "$bin" stats "$law" --batch-tokens x
expect_rc "unknown --format" 2 "^moemap convert: --format: unknown format 'xml'" "$bin" convert "$law" --format xml --out "$tmp/x.json"
expect_rc "convert without --out" 2 "^moemap convert: missing --out" "$bin" convert "$law"
expect_rc "gen with an unknown model" 2 "^moemap gen: --model: unknown model 'gpt-9'" "$bin" gen --model gpt-9
expect_rc "gen with drift after the end" 2 "^moemap gen: drift at batch 50" "$bin" gen --batches 10 --drift-at 50
printf '0,0,0\n1,2,3\n' >"$tmp/three.csv"
expect_rc "compare with another expert count" 1 "^moemap stats: --compare $tmp/g1.json: cannot compare: 3 experts" \
  "$bin" stats "$tmp/three.csv" --compare "$tmp/g1.json"
mm_done
