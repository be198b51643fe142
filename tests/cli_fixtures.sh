#!/usr/bin/env bash
# cli_fixtures.sh — the figures `moemap eval` prints, checked by value against a case done
# by hand, and the deterministic outputs of models, eval, validate and stats compared with
# golden files (tests/golden); needs no real data, only the small fixtures in tests/data:
#   tiny-cluster.json  2 GPUs, speeds 1 and 0.5, base curve f(n) = 9 + n us (n >= 1)
#   tiny-loads.json    2 experts, top-1, layers 0 and 1, batches b = 1..10:
#                      layer 0 counts [100b, 1], layer 1 [50b + 1, 50b]
#   tiny-split.json    expert 0 on GPU 0, expert 1 on GPU 1 (both layers)
#   tiny-swapped.json  the other way round
#   tiny-broken.json   four problems validate must name
# By hand, split: layer 0 waits for GPU 0, 9 + 100b; layer 1 for GPU 1 at half speed,
# 2 (9 + 50b) = 18 + 100b; a batch takes 27 + 200b: 227, 427, ..., 2027 us. Mean 1127;
# p90 (linear between sorted values, position 0.9 x 9 = 8.1) 1827 + 0.1 x 200 = 1847;
# p99 (position 8.91) 1827 + 0.91 x 200 = 2009. Swapped: 2 (9 + 100b) + 2 (10 + 50b) =
# 38 + 300b: mean 1688, p90 2768, p99 3011. The oracle below recomputes them from the
# fixture files with that cost model, so a table or JSON column that is swapped, shifted
# or mislabelled fails.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
mm_tmp cli_fixtures --clean
cl=tests/data/tiny-cluster.json
ld=tests/data/tiny-loads.json

# --- the oracle: per-batch straggler sums and their mean/p90/p99, from the fixture files
oracle() {
  python3 - "$ld" "$cl" "$@" <<'PY'
import json, sys
loads, cluster = (json.load(open(p)) for p in sys.argv[1:3])
speed = [g["speed"] for g in cluster["gpus"]]
f = lambda n, g: (9 + n) / speed[g] if n > 0 else 0.0   # the fixture's base curve
def q(xs, p):
    xs = sorted(xs); pos = p * (len(xs) - 1); lo = int(pos)
    return xs[lo] + (pos - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])
for path in sys.argv[3:]:
    pl = json.load(open(path))
    per_layer = {}
    batch = []
    for b in loads["batches"]:
        tot = 0
        for li, layer in enumerate(loads["layers"]):
            lp = next(x for x in pl["layers"] if x["layer"] == layer)
            t = [0.0] * len(speed)
            for r in lp["replicas"]:
                t[r["gpu"]] += f(r["share"] * b["counts"][li][r["expert"]], r["gpu"])
            per_layer.setdefault(layer, []).append(max(t))
            tot += max(t)
        batch.append(tot)
    stats = lambda xs: "%.1f %.1f %.1f" % (sum(xs) / len(xs), q(xs, .9), q(xs, .99))
    print(path.split("/")[-1], stats(batch),
          " ".join("%d:%s" % (l, stats(v).replace(" ", ",")) for l, v in per_layer.items()))
PY
}
oracle tests/data/tiny-split.json tests/data/tiny-swapped.json >"$tmp/oracle.txt"
check "oracle computed (python3 is a make test dependency)" test "$(wc -l <"$tmp/oracle.txt")" -eq 2
check "oracle agrees with the hand computation in this file's header" \
  grep -qx "tiny-split.json 1127.0 1847.0 2009.0 0:559.0,919.0,1000.0 1:568.0,928.0,1009.0" "$tmp/oracle.txt"

# --- eval's table: mean, p90 and p99 by value, per placement
"$bin" eval --loads "$ld" --cluster "$cl" tests/data/tiny-split.json tests/data/tiny-swapped.json \
  >"$tmp/eval.txt" 2>"$tmp/eval.err"
check "eval of the fixtures exits 0" test $? -eq 0
check "eval's header names mean, p90, p99 in that order" \
  grep -qE '^placement +strategy +mean +p90 +p99 ' "$tmp/eval.txt"
while read -r file mean p90 p99 _; do
  row=$(awk -v f="$file" '$1 == f { print $3, $4, $5 }' "$tmp/eval.txt")
  check "eval table, $file: mean p90 p99 = $mean $p90 $p99 (by hand)" test "$row" = "$mean $p90 $p99"
done <"$tmp/oracle.txt"

# --- eval --json: the same figures, placement and layer level
"$bin" eval --loads "$ld" --cluster "$cl" --json tests/data/tiny-split.json \
  tests/data/tiny-swapped.json >"$tmp/eval.json" 2>"$tmp/eval.err"
check "eval --json exits 0" test $? -eq 0
python3 - "$tmp/eval.json" "$tmp/oracle.txt" >"$tmp/json.check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {}
for line in open(sys.argv[2]):
    f, m, p90, p99, *layers = line.split()
    want[f] = ((float(m), float(p90), float(p99)),
               {int(x.split(":")[0]): tuple(map(float, x.split(":")[1].split(","))) for x in layers})
assert d["format"] == "moemap.eval/v1" and d["batches"] == 10, d
assert len(d["placements"]) == 2
for p in d["placements"]:
    top, layers = want[p["file"].split("/")[-1]]
    got = (p["mean_us"], p["p90_us"], p["p99_us"])
    assert all(abs(a - b) < 1e-6 for a, b in zip(got, top)), (p["file"], got, top)
    assert len(p["layers"]) == 2
    for l in p["layers"]:
        got = (l["mean_us"], l["p90_us"], l["p99_us"])
        assert all(abs(a - b) < 1e-6 for a, b in zip(got, layers[l["layer"]])), (l, layers)
print("ok")
PY
check "eval --json: mean_us, p90_us, p99_us of placements and layers by hand ($(tail -1 "$tmp/json.check"))" \
  grep -qx ok "$tmp/json.check"

# --- golden files: outputs that are deterministic
"$bin" models >"$tmp/models.txt"
golden "moemap models" models.txt "$tmp/models.txt"
"$bin" models --json >"$tmp/models.json"
golden "moemap models --json" models.json "$tmp/models.json"
golden "moemap eval on the fixtures (table)" eval-tiny.txt "$tmp/eval.txt"
golden "moemap eval on the fixtures (--json)" eval-tiny.json "$tmp/eval.json"
"$bin" validate --cluster "$cl" --loads "$ld" tests/data/tiny-broken.json >"$tmp/validate.txt" 2>&1
check "validate of the broken fixture exits 1" test $? -eq 1
"$bin" validate --cluster "$cl" --loads "$ld" tests/data/tiny-split.json >>"$tmp/validate.txt" 2>&1
check "validate of the split fixture exits 0" test $? -eq 0
"$bin" validate --cluster "$cl" --model deepseek-v3 tests/data/tiny-split.json >>"$tmp/validate.txt" 2>&1
check "validate against a model of another shape exits 1" test $? -eq 1
golden "moemap validate messages" validate.txt "$tmp/validate.txt"
"$bin" stats "$ld" >"$tmp/stats.txt" 2>&1
check "stats of the fixture exits 0" test $? -eq 0
golden "moemap stats on the fixture" stats-tiny.txt "$tmp/stats.txt"
"$bin" stats "$ld" --json >"$tmp/stats.json" 2>&1
golden "moemap stats --json on the fixture" stats-tiny.json "$tmp/stats.json"

# --- --json wherever a command prints results
"$bin" validate --json --cluster "$cl" --loads "$ld" tests/data/tiny-broken.json >"$tmp/vj.json"
check "validate --json of the broken fixture exits 1" test $? -eq 1
check "  ... and lists its four problems" python3 -c "
import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (d['ok'] is False and len(d['problems']) == 4 and d['gpus'] == 2))" "$tmp/vj.json"
"$bin" place --json --loads "$ld" --cluster "$cl" --strategy round_robin --out "$tmp/rr.json" \
  >"$tmp/pj.json" 2>/dev/null
"$bin" eval --json --loads "$ld" --cluster "$cl" "$tmp/rr.json" >"$tmp/ej.json"
check "place --json prints what eval --json says of the placement" python3 -c "
import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(not (a['format'] == 'moemap.eval/v1' and
              a['placements'][0]['mean_us'] == b['placements'][0]['mean_us']))" \
  "$tmp/pj.json" "$tmp/ej.json"
"$bin" convert "$ld" --out "$tmp/conv.json" --json >"$tmp/cj.json"
check "convert --json says what it wrote" python3 -c "
import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (d['layers'] == 2 and d['batches'] == 10 and d['tokens'] == 5510))" "$tmp/cj.json"
"$bin" gen -n 3 --layers 2 --first-dense 0 --experts 8 --top-k 2 --temporal-groups 0 --out "$tmp/gen.json" --json >"$tmp/gj.json"
check "gen --json says what it wrote" python3 -c "
import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (d['layers'] == 2 and d['experts'] == 8 and d['batches'] == 3))" "$tmp/gj.json"
expect_rc "gen --json with the workload on stdout: a usage error" 2 "--json needs --out FILE" \
  "$bin" gen -n 3 --json

# --- '-' is standard input or output wherever a file is read or written (docs/cli.md)
"$bin" stats - --json <"$ld" >"$tmp/stats-stdin.json" 2>&1
check "stats reads the workload from '-'" grep -q '"batches": 10' "$tmp/stats-stdin.json"
"$bin" eval --loads - --cluster "$cl" tests/data/tiny-split.json --json <"$ld" >"$tmp/e1.json"
check "eval reads the loads from '-'" grep -q '"mean_us": 1127.0' "$tmp/e1.json"
"$bin" eval --loads "$ld" --cluster "$cl" - --json <tests/data/tiny-split.json >"$tmp/e2.json"
check "eval reads a placement from '-'" grep -q '"mean_us": 1127.0' "$tmp/e2.json"
"$bin" validate --cluster - tests/data/tiny-split.json <"$cl" >"$tmp/v.txt" 2>&1
check "validate reads the cluster from '-'" grep -q "OK (2 layers" "$tmp/v.txt"
"$bin" place --loads - --cluster "$cl" --out - <"$ld" >"$tmp/p.json" 2>"$tmp/p.err"
check "place reads '-' and writes the placement to '-'" grep -q '"moemap.placement/v1"' "$tmp/p.json"
"$bin" convert - --out - <"$ld" >"$tmp/c.json" 2>&1
check "convert from '-' to '-'" grep -q '"moemap.loads/v1"' "$tmp/c.json"
if command -v gnuplot >/dev/null; then
  "$bin" report --stats - --out - <"$tmp/stats.json" >"$tmp/r.html" 2>"$tmp/r.err"
  check "report --out - writes the page, and only the page, to stdout" \
    bash -c "head -c 15 '$tmp/r.html' | grep -q '<!DOCTYPE html>' && tail -1 '$tmp/r.html' | grep -q '</html>'"
  check "  ... and what it says about it to stderr" grep -q "report: <stdout>" "$tmp/r.err"
else
  bad "report --out -: gnuplot is missing (the report needs it)"
fi

mm_done
