#!/usr/bin/env bash
# cli_place.sh — end-to-end tests of `moemap place`, `moemap eval` and `moemap validate`
# with the built binary on the real ESFT routing (law task) and a cluster synthesised
# from explicit speeds: every strategy writes a placement that validates, eval prints the
# side-by-side table and JSON, moemap beats eplb with a throttled GPU, re-placement with
# --previous/--max-moves writes a plan, exports are written, and bad flags or files get a
# one-line error and a non-zero exit (never a crash).
. "$(dirname "$0")/lib.sh"
mm_tmp cli_place
law=$data/esft-dsv2lite-routing/expert_scores/law
need_data "$law"

"$bin" cluster synth --speeds 0.8,1,1,1,1,1,1,1 --gpus-per-node 8 \
  --base-curve 1:60,64:61,256:75,1024:150,4096:560 --hidden 7168 --intermediate 2048 \
  --slots 10 --out "$tmp/c.json" >/dev/null 2>&1
check "cluster for the tests" test -s "$tmp/c.json"

# The real routing, read once (per-token text) and kept as moemap.loads/v1 for the rest.
"$bin" convert "$law" --batch-tokens 2048 --out "$tmp/law.json" >/dev/null 2>&1
check "ESFT law task converted" test -s "$tmp/law.json"
"$bin" place --loads "$law" --batch-tokens 2048 --cluster "$tmp/c.json" --strategy eplb \
  --out "$tmp/eplb-esft.json" >"$tmp/esft.out" 2>&1
check "place reads the ESFT folder itself" grep -q "^eplb: 26 layers" "$tmp/esft.out"
law=$tmp/law.json

for s in moemap eplb eplb_global gem vibe linear round_robin; do
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --strategy $s \
    --time-limit 0.05 --out "$tmp/$s.json" >"$tmp/$s.out" 2>"$tmp/$s.err"
  rc=$?
  check "place --strategy $s" test $rc -eq 0
  check "place $s prints a summary" grep -q "^$s: 26 layers, .* gap " "$tmp/$s.out"
  check "validate $s" "$bin" validate --cluster "$tmp/c.json" --loads "$law" "$tmp/$s.json" \
    >"$tmp/$s.valid"
done

"$bin" eval --loads "$law" --cluster "$tmp/c.json" \
  "$tmp/moemap.json" "$tmp/eplb.json" "$tmp/linear.json" >"$tmp/eval.txt" 2>"$tmp/eval.err"
check "eval exits 0" test $? -eq 0
check "eval table header" grep -q "strategy .*mean .*p90 .*p99 .*bound .*gap% .*max/mean .*replicas .*moved" "$tmp/eval.txt"
check "eval has one row per placement" test "$(grep -cE '^(moemap|eplb|linear)\.json' "$tmp/eval.txt")" -eq 3

"$bin" eval --loads "$law" --cluster "$tmp/c.json" --json \
  "$tmp/moemap.json" "$tmp/eplb.json" >"$tmp/eval.json"
check "eval --json is moemap.eval/v1" grep -q '"format": "moemap.eval/v1"' "$tmp/eval.json"
# python3 is a make test dependency (scripts/install-deps.sh): no silent skip without it.
python3 - "$tmp/eval.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m, e = d["placements"]
assert m["strategy"] == "moemap" and e["strategy"] == "eplb"
assert m["bound_mean_us"] <= m["mean_us"] and m["bound_mean_us"] == e["bound_mean_us"]
# one GPU at 0.8x: moemap must be at least 10% faster than eplb
assert m["mean_us"] <= 0.9 * e["mean_us"], (m["mean_us"], e["mean_us"])
assert len(m["layers"]) == 26
PY
check "eval --json: moemap >= 10% faster than eplb, bound below" test $? -eq 0
# The table prints the same mean, p90 and p99 as --json (to its one decimal).
python3 - "$tmp/eval.json" "$tmp/eval.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {w[0]: w for w in map(str.split, open(sys.argv[2])) if w and w[0].endswith(".json")}
for p in d["placements"]:
    r = rows[p["file"].split("/")[-1]]
    got = tuple(float(x) for x in r[2:5])
    want = tuple(round(p[k], 1) for k in ("mean_us", "p90_us", "p99_us"))
    assert all(abs(a - b) <= 0.051 for a, b in zip(got, want)), (p["file"], got, want)
PY
check "eval table: mean, p90, p99 columns equal --json's values" test $? -eq 0

# Re-placement from the eplb layout with few moves, its plan, exports.
"$bin" place --loads "$law" --cluster "$tmp/c.json" --time-limit 0.05 \
  --previous "$tmp/eplb.json" --max-moves 4 --plan "$tmp/plan.json" \
  --export sglang="$tmp/sglang.json" --export vllm="$tmp/vllm.json" --model deepseek-v2-lite \
  --approximate-exports \
  --out "$tmp/re.json" >"$tmp/re.out" 2>"$tmp/re.err"
check "re-placement with --max-moves exits 0" test $? -eq 0
check "re-placement reports experts moved and a plan" grep -q "experts moved, plan .* steps" "$tmp/re.out"
check "plan written" grep -q '"moemap.migration/v1"' "$tmp/plan.json"
check "sglang export written" grep -q "physical_to_logical_map" "$tmp/sglang.json"
check "vllm export written" grep -q "phy2log" "$tmp/vllm.json"
"$bin" eval --loads "$law" --cluster "$tmp/c.json" --previous "$tmp/eplb.json" \
  --json "$tmp/re.json" >"$tmp/re-eval.json"
python3 -c "
import json,sys; d=json.load(open('$tmp/re-eval.json'))['placements'][0]
assert all(l['moved'] <= 4 for l in d['layers']), [l['moved'] for l in d['layers']]"
check "at most 4 replica additions per layer" test $? -eq 0

# A broken placement: validate lists each problem and exits 1.
sed 's/"share": 1$/"share": 0.5/' "$tmp/linear.json" >"$tmp/broken.json"
"$bin" validate --cluster "$tmp/c.json" "$tmp/broken.json" >"$tmp/v.out" 2>&1
rc=$?
check "validate of a broken placement exits 1" test $rc -eq 1
check "validate names the layer and expert" grep -q "layer 1: expert 0 shares sum to 0.5, not 1" "$tmp/v.out"
check "validate counts the problems" grep -qE "broken.json: [0-9]+ problems" "$tmp/v.out"

check "validate --model deepseek-v2-lite accepts the ESFT placement" \
  "$bin" validate --cluster "$tmp/c.json" --model deepseek-v2-lite "$tmp/moemap.json" >"$tmp/vm.out"
"$bin" validate --cluster "$tmp/c.json" --model deepseek-v3 "$tmp/moemap.json" >"$tmp/vm.out" 2>&1
check "validate --model deepseek-v3 names the expert mismatch" \
  grep -q "placement has 64 experts per layer but deepseek-v3 has 256" "$tmp/vm.out"
expect_fail "place without --out" "--loads, --cluster and --out are required" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json"
expect_rc "unknown strategy: a usage error, like an unknown model" 2 "unknown strategy 'nope'" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --strategy nope --out "$tmp/x.json"
expect_rc "unknown model: a usage error" 2 "unknown model 'nope'" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --model nope --out "$tmp/x.json"
expect_fail "too few slots" "fewer than the 64 experts" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --slots 7 --out "$tmp/x.json"
expect_fail "--plan without --previous" "need --previous" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --plan p.json --out "$tmp/x.json"
expect_fail "bad --slots" "--slots: 'abc' is not an integer" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --slots abc --out "$tmp/x.json"
expect_fail "bad --export" "unknown format 'word'" \
  "$bin" place --loads "$law" --cluster "$tmp/c.json" --export word=x --out "$tmp/x.json"
expect_fail "missing cluster file" "nonexistent.json" \
  "$bin" place --loads "$law" --cluster "$tmp/nonexistent.json" --out "$tmp/x.json"
echo '{"format": "moemap.placement/v1", "gpus": 8, "layers": [' >"$tmp/trunc.json"
expect_fail "eval of a truncated placement" "trunc.json:" \
  "$bin" eval --loads "$law" --cluster "$tmp/c.json" "$tmp/trunc.json"
expect_fail "eval without placements" "no placement files given" \
  "$bin" eval --loads "$law" --cluster "$tmp/c.json"
expect_fail "validate without --cluster" "--cluster is required" \
  "$bin" validate "$tmp/linear.json"
check "place --help" "$bin" place --help >"$tmp/help"
check "eval --help" "$bin" eval --help >"$tmp/help"
check "validate --help" "$bin" validate --help >"$tmp/help"
# Without --approximate-exports an export SGLang cannot express is refused with a reason.
if grep -q '"share": 0\.' "$tmp/re.json"; then
  expect_fail "a placement SGLang cannot express is refused with a reason" "SGLang and vLLM" \
    "$bin" place --loads "$law" --cluster "$tmp/c.json" --time-limit 0.05 \
    --export sglang="$tmp/sg2.json" --out "$tmp/x.json"
fi

mm_done
