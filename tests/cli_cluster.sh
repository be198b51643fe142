#!/usr/bin/env bash
# cli_cluster.sh — end-to-end tests of `moemap cluster synth` and `moemap cluster show`
# with the built binary and the real PAL variability data: a synthesised cluster is
# readable by show, is the same for the same seed, a throttled GPU shows up as the slowest
# at every token count, explicit speeds are kept, and bad flags or files get a one-line
# error and a non-zero exit (never a crash).
. "$(dirname "$0")/lib.sh"
mm_tmp cli_cluster
sgemm=$data/gpu-variability-pal/aggregated_data/sim/sgemm-longhorn-agg.csv
need_data "$sgemm"
curve=1:60,64:61,256:75,1024:150,4096:560

synth() {
  "$bin" cluster synth --variability "$sgemm" --gpus 32 --gpus-per-node 4 \
    --base-curve "$curve" --hidden 7168 --intermediate 2048 --slots 9 "$@"
}

synth --seed 7 --out "$tmp/a.json" >/dev/null
check "synth 32 GPUs from the SGEMM data" test $? -eq 0
synth --seed 7 --out "$tmp/b.json" >"$tmp/summary"
# The files differ only in the recorded command line (--out).
check "same seed, same file" cmp -s <(grep -v '"command"' "$tmp/a.json") \
  <(grep -v '"command"' "$tmp/b.json")
check "summary names the population" grep -q "population .*: 384 GPUs (8 dropped" "$tmp/summary"
check "summary gives the spread" grep -q "cluster: 32 GPUs on 8 nodes, 288 slots" "$tmp/summary"
synth --seed 8 --out "$tmp/c.json" >/dev/null
check "another seed, another file" bash -c "! cmp -s '$tmp/a.json' '$tmp/c.json'"

"$bin" cluster show "$tmp/a.json" >"$tmp/show" 2>&1
check "show reads it" grep -q "32 GPUs on 8 nodes, 288 slots; expert hidden 7168" "$tmp/show"
check "show has a column per token count" grep -q "@1 .*@64 .*@512 .*@4096" "$tmp/show"
# Exactly one GPU is the fastest (relative speed 1.0000 in every column).
fastest=$(grep -cE '^ +[0-9]+ +[0-9]+ +9 .* 1\.0000 +1\.0000 +1\.0000 +1\.0000' "$tmp/show")
check "one fastest GPU" test "$fastest" -eq 1

# Throttling GPU 5 to 50% makes it the slowest at every token count, at half its speed.
synth --seed 7 --throttle 5=0.5 --out "$tmp/t.json" >/dev/null
"$bin" cluster show "$tmp/t.json" --json --tokens 1,4096 >"$tmp/t.show"
"$bin" cluster show "$tmp/a.json" --json --tokens 1,4096 >"$tmp/a.show"
python3 - "$tmp/a.show" "$tmp/t.show" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
ga, gt = a["gpus"], t["gpus"]
assert abs(gt[5]["speed"] - 0.5 * ga[5]["speed"]) < 2e-6, (gt[5]["speed"], ga[5]["speed"])
for k in range(2):
    rel = [g["relative"][k] for g in gt]
    assert min(rel) == rel[5], rel
    assert abs(gt[5]["us"][k] - 2 * ga[5]["us"][k]) < 1e-3 * ga[5]["us"][k]
EOF
check "throttled GPU is half as fast and the slowest" test $? -eq 0

"$bin" cluster synth --speeds 1,0.95,0.9,1.05 --gpus-per-node 2 --base-curve "$curve" \
  --hidden 2048 --intermediate 768 --slots 4 --out "$tmp/s.json" >/dev/null
"$bin" cluster show "$tmp/s.json" --json >"$tmp/s.show"
python3 -c "
import json,sys
s = json.load(open('$tmp/s.show'))
sp = [g['speed'] for g in s['gpus']]
assert sp == [1, 0.95, 0.9, 1.05], sp
assert [g['node'] for g in s['gpus']] == [0, 0, 1, 1]
assert abs(s['gpus'][2]['relative'][0] - 0.9 / 1.05) < 1e-6
"
check "explicit speeds kept" test $? -eq 0

# A synthesised profile can be the --base of another (its base curve and shape).
"$bin" cluster synth --base "$tmp/s.json" --speeds 1,1 --out "$tmp/r.json" >/dev/null
check "profile as --base" grep -q '"intermediate": 768' "$tmp/r.json"

# Merge: the synthesised 4-GPU cluster twice, as two nodes each, then on one node.
"$bin" cluster merge "$tmp/s.json" "$tmp/s.json" --slots 5 --out "$tmp/m.json" >"$tmp/m.out"
check "merge summary" grep -q "merged 2 files: 8 GPUs on 4 nodes, 40 slots" "$tmp/m.out"
"$bin" cluster show "$tmp/m.json" --json >"$tmp/m.show"
python3 -c "
import json
s = json.load(open('$tmp/m.show'))
g = s['gpus']
assert [x['node'] for x in g] == [0, 0, 1, 1, 2, 2, 3, 3], g
assert all(x['own_curve'] and x['slots'] == 5 for x in g)
assert abs(g[6]['relative'][2] - 0.9 / 1.05) < 1e-6
"
check "merged GPUs keep their cost" test $? -eq 0
expect_fail "merge: different expert shapes" "merge: cluster 1 was measured for experts of hidden 7168" \
  "$bin" cluster merge "$tmp/s.json" "$tmp/a.json"
expect_fail "merge: no files" "expects at least one cluster file" "$bin" cluster merge

# The 32-GPU variability file with a named column.
check "32gpu-variability.csv" quiet "$bin" cluster synth --variability \
  "$data/gpu-variability-pal/aggregated_data/32gpu-variability.csv" --column PerfVar_classB \
  --min-runs 1 --gpus 8 --base-curve "$curve" --hidden 1 --intermediate 1 --slots 1 \
  --out "$tmp/v.json"

# Errors: one line, non-zero exit.
expect_fail "no subcommand" "expects a subcommand: synth, show or merge" "$bin" cluster
expect_fail "unknown subcommand" "unknown subcommand 'grow'" "$bin" cluster grow
expect_fail "no speeds source" "give either --variability FILE or --speeds LIST" \
  "$bin" cluster synth --base-curve "$curve" --hidden 1 --intermediate 1 --slots 1
expect_fail "variability without --gpus" "--variability needs --gpus N" \
  "$bin" cluster synth --variability "$sgemm" --base-curve "$curve" --hidden 1 \
  --intermediate 1 --slots 1
expect_fail "base curve without shape" "--base-curve needs --hidden and --intermediate" \
  "$bin" cluster synth --speeds 1 --base-curve "$curve" --slots 1
expect_rc "non-monotone base curve: a usage error" 2 "base_curve.us[1]: 50 us at 64 tokens is below" \
  "$bin" cluster synth --speeds 1 --base-curve 1:60,64:50 --hidden 1 --intermediate 1 --slots 1
expect_fail "bad base curve syntax" "--base-curve: '64' is not tokens:us" \
  "$bin" cluster synth --speeds 1 --base-curve 1:60,64 --hidden 1 --intermediate 1 --slots 1
expect_rc "throttle out of range: a usage error" 2 "throttle of GPU 40, but the cluster has GPUs 0..31" \
  synth --throttle 40=0.5 --out "$tmp/x.json"
expect_fail "throttle syntax" "--throttle: '3' is not GPU=VALUE" synth --throttle 3
expect_rc "negative speed: a usage error" 2 "speed -0.9 of GPU 1 must be a finite number > 0" \
  "$bin" cluster synth --speeds 1,-0.9 --base-curve "$curve" --hidden 1 --intermediate 1 --slots 1
expect_fail "missing column" "no time column \"nope\"" synth --column nope
expect_fail "too few runs" "no GPU has at least 100000 runs" synth --min-runs 100000
expect_fail "missing variability file" "nope.csv: cannot open" "$bin" cluster synth \
  --variability "$tmp/nope.csv" --gpus 2 --base-curve "$curve" --hidden 1 --intermediate 1 --slots 1
printf '{"format": "moemap.cluster/v1", "expert": {"hidden": 1, "intermediate": 1, "dtype": "bf16"},
 "gpus": [{"id": 0, "node": 0, "slots": 1, "speed": 1}],
 "network": {"intra_node_GBps": 1, "inter_node_GBps": 1, "latency_us": 1}}\n' >"$tmp/nocurve.json"
expect_fail "show: GPU without a curve" "nocurve.json: gpus[0]: has no \"curve\"" \
  "$bin" cluster show "$tmp/nocurve.json"
expect_fail "show: missing file" "missing.json: cannot open" "$bin" cluster show "$tmp/missing.json"
expect_fail "show: bad --tokens" "--tokens: token counts must be > 0" \
  "$bin" cluster show "$tmp/a.json" --tokens 0,5
expect_fail "--base with another shape" "but the model's experts are hidden 4096" \
  "$bin" cluster synth --base "$tmp/a.json" --hidden 4096 --speeds 1
"$bin" cluster synth --speeds 1 --base-curve "$curve" --hidden 1 --intermediate 1 --slots 0 \
  --out "$tmp/noslots.json" >/dev/null
expect_fail "--base profile without slots" "the base profile's GPUs have no slots; give --slots K" \
  "$bin" cluster synth --base "$tmp/noslots.json" --speeds 1
"$bin" cluster synth --help | grep -q -- "--throttle GPU=F"; check "synth --help" test $? -eq 0
"$bin" cluster show --help | grep -q -- "--json"; check "show --help" test $? -eq 0

mm_done
