#!/usr/bin/env bash
# cli_faults.sh — fault tests of the moemap CLI (issue 14: nothing lost, nothing
# runaway). Each block answers one numbered finding of the issue and failed before the
# fix:
#   1 memory: arrivals far in the future, /dev/zero and oversized files to every reader
#   2 outputs: a killed write (SIGTERM, SIGKILL at several points) leaves the old file
#     intact and no temporary file; an output equal to an input is refused; a failed
#     command writes none of its outputs; a full disk (RLIMIT_FSIZE) loses nothing
#   3 assertions: counts of 1e308, huge expert ids, through every strategy and stats
#   4 sizes: clusters beyond the tested maximum refused, naming the limit
#   5 stdout: every printing command exits non-zero on /dev/full
#   6 mismatched inputs refused with a message naming both
. "$(dirname "$0")/lib.sh"
mm_tmp cli_faults --clean

# Sanitizer builds reserve terabytes of address space: no ulimit -v there.
asan=0
grep -qa __asan_init "$bin" && asan=1
# Runs a command with at most 1 GB of memory (where that can be enforced) and 60 s.
bounded() { if [ $asan -eq 0 ]; then (ulimit -v 1000000; timeout 60 "$@"); else timeout 60 "$@"; fi; }
# Every expected failure runs bounded: exit status $2 and one stderr line containing $3.
mm_runner=bounded

# --- fixtures: a small model-shaped workload, a cluster, a placement
"$bin" gen --model olmoe -n 16 -b 512 --out "$tmp/l.json" >/dev/null 2>&1
"$bin" cluster synth --speeds 1,0.9,0.8,1 --base-curve 1:60,256:75,4096:560 \
  --hidden 2048 --intermediate 1024 --slots 17 --out "$tmp/c.json" >/dev/null
"$bin" place -l "$tmp/l.json" -c "$tmp/c.json" -o "$tmp/p.json" >/dev/null
"$bin" stats "$tmp/l.json" --json >"$tmp/stats.json"
"$bin" eval -l "$tmp/l.json" -c "$tmp/c.json" --json "$tmp/p.json" >"$tmp/eval.json"
[ -s "$tmp/p.json" ] && [ -s "$tmp/eval.json" ] || { echo "FATAL: fixtures"; exit 1; }
sim=(simulate -m olmoe -c "$tmp/c.json" -l "$tmp/l.json" -p "$tmp/p.json")

# ============================================================ 1. memory and time runaways
printf '{"timestamp": 0, "input_length": 100, "output_length": 10}\n{"timestamp": 999999999999, "input_length": 100, "output_length": 10}\n' >"$tmp/far.jsonl"
bounded "$bin" "${sim[@]}" -a "$tmp/far.jsonl" --timeseries "$tmp/ts.json" >/dev/null 2>"$tmp/err"
check "1: arrivals 10^9 s apart: simulate --timeseries finishes in 1 GB" test $? -eq 0
check "1: ... and its time series skips the idle stretch (< 10 KB)" \
  test "$(stat -c %s "$tmp/ts.json" 2>/dev/null || echo 99999999)" -lt 10000
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n9999-12-31 23:59:59.0000000,396,109\n' >"$tmp/far.csv"
bounded "$bin" "${sim[@]}" -a "$tmp/far.csv" --timeseries "$tmp/ts.json" >/dev/null 2>"$tmp/err"
check "1: an Azure row dated 9999-12-31 finishes in 1 GB" test $? -eq 0
rm -f "$tmp/ts.json"
bounded "$bin" "${sim[@]}" --poisson 0.000001 --duration 10000000 --timeseries "$tmp/ts.json" \
  >/dev/null 2>"$tmp/err"
check "1: --poisson 1e-6 over 10^7 s finishes in 1 GB" test $? -eq 0
check "1: ... with a time series under 100 KB (was 265 MB)" \
  test "$(stat -c %s "$tmp/ts.json" 2>/dev/null || echo 99999999)" -lt 100000

# /dev/zero to every reader: refused at once, naming the path.
z=/dev/zero
expect_rc "1: stats /dev/zero" 1 "$z: not a regular file" "$bin" stats $z
expect_rc "1: convert /dev/zero" 1 "$z: not a regular file" "$bin" convert $z -o "$tmp/x.json"
expect_rc "1: place --loads /dev/zero" 1 "$z: not a regular file" \
  "$bin" place -l $z -c "$tmp/c.json" -o "$tmp/x.json"
expect_rc "1: place --cluster /dev/zero" 1 "$z: not a regular file" \
  "$bin" place -l "$tmp/l.json" -c $z -o "$tmp/x.json"
expect_rc "1: place --previous /dev/zero" 1 "$z: not a regular file" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" --previous $z -o "$tmp/x.json"
expect_rc "1: eval placement /dev/zero" 1 "$z: not a regular file" \
  "$bin" eval -l "$tmp/l.json" -c "$tmp/c.json" $z
expect_rc "1: validate /dev/zero" 1 "$z: not a regular file" \
  "$bin" validate -c "$tmp/c.json" $z
expect_rc "1: simulate --arrivals /dev/zero" 1 "$z: not a regular file" \
  "$bin" "${sim[@]}" -a $z
expect_rc "1: simulate --placement /dev/zero" 1 "$z: not a regular file" \
  "$bin" simulate -m olmoe -c "$tmp/c.json" -l "$tmp/l.json" -p $z
expect_rc "1: cluster synth --variability /dev/zero" 1 "$z: not a regular file" \
  "$bin" cluster synth -v $z -g 4 --base "$tmp/c.json"
expect_rc "1: cluster synth --base /dev/zero" 1 "$z: not a regular file" \
  "$bin" cluster synth --speeds 1,1 --base $z
expect_rc "1: cluster show /dev/zero" 1 "$z: not a regular file" "$bin" cluster show $z
expect_rc "1: cluster merge /dev/zero" 1 "$z: not a regular file" \
  "$bin" cluster merge $z "$tmp/c.json"
for flag in stats eval simulate timeseries cluster loads; do
  expect_rc "1: report --$flag /dev/zero" 1 "$z: not a regular file" \
    "$bin" report --$flag $z --out "$tmp/r.html"
done
mkdir -p "$tmp/esft"
ln -sf $z "$tmp/esft/expert_weights_3.txt"
expect_rc "1: an ESFT layer file that is /dev/zero" 1 "not a regular file" \
  "$bin" stats "$tmp/esft/expert_weights_3.txt"
# Oversized files, with the limit lowered so the test stays small; the override works.
head -c 5000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
cat "$tmp/l.json" >>"$tmp/big.json"
for r in "stats $tmp/big.json" "validate -c $tmp/big.json $tmp/p.json" \
         "validate -c $tmp/c.json $tmp/big.json"; do
  # shellcheck disable=SC2086
  expect_rc "1: over the input limit: ${r%% *}" 1 "larger than the input limit of 4096 bytes" \
    env MOEMAP_MAX_INPUT_BYTES=4K "$bin" $r
done
expect_rc "1: --max-input-bytes before the command sets the limit too" 1 \
  "larger than the input limit of 4096 bytes" "$bin" --max-input-bytes 4096 stats "$tmp/big.json"
MOEMAP_MAX_INPUT_BYTES=4K "$bin" --max-input-bytes 1M stats "$tmp/big.json" >/dev/null 2>&1
check "1: --max-input-bytes raises the limit" test $? -eq 0
expect_rc "1: a malformed limit is a usage error" 2 "is not a size" \
  env MOEMAP_MAX_INPUT_BYTES=lots "$bin" stats "$tmp/l.json"

# ============================================================ 2. outputs
# A long write killed at several points: the old file is intact, nothing else remains.
mkdir -p "$tmp/kill"
"$bin" gen -n 400 --out "$tmp/kill/w.json" >/dev/null 2>&1
cp "$tmp/kill/w.json" "$tmp/kill.orig"
start=$(date +%s%N)
"$bin" gen -n 400 --seed 2 --out "$tmp/kill/w2.json" >/dev/null 2>&1
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rm -f "$tmp/kill/w2.json"
kills_ok=1
for sig in TERM KILL; do
  for i in 1 2 3 4 5 6 7; do
    "$bin" gen -n 400 --seed 2 --out "$tmp/kill/w.json" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v d="$dur_ms" -v i="$i" 'BEGIN{printf "%.3f", d * i / 8 / 1000}')"
    kill -s $sig $pid 2>/dev/null
    wait $pid 2>/dev/null
    if ! cmp -s "$tmp/kill/w.json" "$tmp/kill.orig" && \
       ! "$bin" convert "$tmp/kill/w.json" -o - >/dev/null 2>&1; then
      kills_ok=0; echo "# SIG$sig at $i/8: the output is neither the old file nor a whole new one"
    fi
    cp "$tmp/kill/w.json" "$tmp/kill.orig" # a completed run replaced it: compare with that
    if [ "$(ls -A "$tmp/kill" | wc -l)" -ne 1 ]; then
      kills_ok=0; echo "# SIG$sig at $i/8 left: $(ls -A "$tmp/kill")"
    fi
  done
done
check "2: gen killed (SIGTERM, SIGKILL) at 7 points: output whole, no temporary file" \
  test $kills_ok -eq 1

# An output that is one of the inputs is refused before any work, the input unchanged.
cp "$tmp/l.json" "$tmp/l2.json"; cp "$tmp/p.json" "$tmp/p2.json"; cp "$tmp/c.json" "$tmp/c2.json"
cp "$tmp/stats.json" "$tmp/stats2.json"
expect_rc "2: convert X --out X refused" 2 "is also the input" \
  "$bin" convert "$tmp/l2.json" --out "$tmp/l2.json"
expect_rc "2: place --out equal to --loads refused" 2 "is also the input" \
  "$bin" place -l "$tmp/l2.json" -c "$tmp/c.json" --out "$tmp/l2.json"
expect_rc "2: place --previous P --plan P --out P refused" 2 "is also the input" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" --previous "$tmp/p2.json" --plan "$tmp/p2.json" \
  --out "$tmp/p2.json"
expect_rc "2: place --export FMT=FILE equal to an input refused" 2 "is also the input" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c2.json" --out "$tmp/x.json" --export "sglang=$tmp/c2.json"
expect_rc "2: report --out equal to --stats refused" 2 "is also the input" \
  "$bin" report --stats "$tmp/stats2.json" --out "$tmp/stats2.json"
expect_rc "2: cluster merge X X --out X refused" 2 "is also the input" \
  "$bin" cluster merge "$tmp/c2.json" "$tmp/c2.json" --out "$tmp/c2.json"
expect_rc "2: the same file through another name (a link) refused" 2 "is also the input" \
  "$bin" convert "$tmp/l2.json" --out "$tmp/../cli_faults/l2.json"
check "2: ... and every input is unchanged" cmp -s "$tmp/l.json" "$tmp/l2.json"
check "2: ... placement unchanged" cmp -s "$tmp/p.json" "$tmp/p2.json"
check "2: ... cluster unchanged" cmp -s "$tmp/c.json" "$tmp/c2.json"
check "2: ... stats unchanged" cmp -s "$tmp/stats.json" "$tmp/stats2.json"

# A command that fails writes none of its outputs: a refused --export leaves no --out.
rm -f "$tmp/x.json"
"$bin" place -l "$tmp/l.json" -c "$tmp/c.json" --out "$tmp/x.json" \
  --export "sglang=$tmp/x-sglang.json" >/dev/null 2>&1
rc=$?
check "2: a refused --export fails the command" test $rc -ne 0
check "2: ... and leaves no --out" test ! -e "$tmp/x.json"
# The disk fills up (RLIMIT_FSIZE, SIGXFSZ ignored): the old file stays, no debris.
mkdir -p "$tmp/full"
cp "$tmp/p.json" "$tmp/full/p.json"
(trap '' XFSZ; ulimit -f 2; "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" --strategy eplb \
  -o "$tmp/full/p.json") >/dev/null 2>"$tmp/err"
rc=$?
check "2: a write past the file size limit fails" test $rc -eq 1
check "2: ... saying why" grep -q "p.json: write failed: File too large" "$tmp/err"
check "2: ... the old file is intact" cmp -s "$tmp/p.json" "$tmp/full/p.json"
check "2: ... and nothing else is left" test "$(ls -A "$tmp/full" | wc -l)" -eq 1
expect_rc "2: --out /dev/full fails" 1 "/dev/full: write failed" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" -o /dev/full
"$bin" place -l "$tmp/l.json" -c "$tmp/c.json" -o /dev/null >/dev/null 2>&1
check "2: --out /dev/null still works (written in place)" test $? -eq 0 -a -c /dev/null
expect_rc "2: --out naming a folder says so" 1 "is a directory" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" -o "$tmp/full"

# ============================================================ 3. extreme values
# Loads whose values are 0, 1, the largest accepted (1e15) and beyond (1e308), through
# every strategy, stats, eval, simulate and report: a clean result or a clean refusal,
# never an abort, a sanitizer report, inf or nan.
python3 - "$tmp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/l.json"))
def put(name, fn):
    e = json.loads(json.dumps(d))
    for b in e["batches"]:
        fn(b)
    json.dump(e, open(sys.argv[1] + "/" + name, "w"))
def zero(b):  b["counts"] = [[0] * len(r) for r in b["counts"]]; b["counts"][0][0] = 0
def one(b):   b["counts"] = [[1] * len(r) for r in b["counts"]]; b["tokens"] = 64
def big(b):   b["counts"][0][3] = 1e15; b["tokens"] = 1e15
def huge(b):  b["counts"][0][3] = 1e308
def liar(b):  b["tokens"] = 1
put("x-one.json", one); put("x-big.json", big); put("x-huge.json", huge)
put("x-liar.json", liar); put("x-zero.json", zero)
s = json.load(open(sys.argv[1] + "/stats.json"))
s["layers"][0]["coactive_pairs"] = [{"experts": [1e308, 3], "corr": 0.9}]
json.dump(s, open(sys.argv[1] + "/x-stats-huge-id.json", "w"))
PY
printf 'batch,layer,e0,e1\n0,0,1e308,5\n' >"$tmp/x-huge.csv"
clean() { # rc 0 or 1, no crash, no sanitizer or assertion text, no inf/nan printed
  local rc=$1 f=$2
  [ "$rc" -le 1 ] && ! grep -qE "internal error|runtime error|AddressSanitizer|assertion" "$tmp/err" \
    && ! grep -qiwE "inf|-?nan" "$f"
}
extreme_ok=1
for f in x-zero x-one x-big; do
  for s in moemap eplb eplb_global gem vibe linear round_robin exact; do
    "$bin" place -l "$tmp/$f.json" -c "$tmp/c.json" --strategy $s --time-limit 0.1 \
      -o "$tmp/x-p.json" >"$tmp/out" 2>"$tmp/err"
    clean $? "$tmp/out" || { extreme_ok=0; echo "# place $s $f: $(head -c 200 "$tmp/err")"; }
  done
  "$bin" stats "$tmp/$f.json" >"$tmp/out" 2>"$tmp/err"
  clean $? "$tmp/out" || { extreme_ok=0; echo "# stats $f"; }
  "$bin" stats --json "$tmp/$f.json" >"$tmp/x-st.json" 2>"$tmp/err"
  clean $? "$tmp/x-st.json" || { extreme_ok=0; echo "# stats --json $f"; }
  "$bin" eval -l "$tmp/$f.json" -c "$tmp/c.json" --json "$tmp/p.json" >"$tmp/x-ev.json" 2>"$tmp/err"
  clean $? "$tmp/x-ev.json" || { extreme_ok=0; echo "# eval $f"; }
  timeout 120 "$bin" simulate -m olmoe -c "$tmp/c.json" -l "$tmp/$f.json" -p "$tmp/p.json" \
    --poisson 2 --duration 5 >"$tmp/out" 2>"$tmp/err"
  clean $? "$tmp/out" || { extreme_ok=0; echo "# simulate $f: $(head -c 200 "$tmp/err")"; }
  "$bin" report --stats "$tmp/x-st.json" --eval "$tmp/x-ev.json" --table \
    --out "$tmp/x.html" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -le 1 ] && ! grep -qE "internal error|runtime error|assertion" "$tmp/err" || \
    { extreme_ok=0; echo "# report $f: $(head -c 200 "$tmp/err")"; }
done
check "3: counts of 0, 1 and 1e15 through every strategy, stats, eval, simulate, report" \
  test $extreme_ok -eq 1
expect_rc "3: counts of 1e308 refused by place --strategy gem (was an abort)" 1 \
  "is above the limit of 1e+15 tokens" "$bin" place -l "$tmp/x-huge.json" -c "$tmp/c.json" \
  --strategy gem -o "$tmp/x-p.json"
expect_rc "3: ... by place --strategy exact" 1 "is above the limit of 1e+15 tokens" \
  "$bin" place -l "$tmp/x-huge.json" -c "$tmp/c.json" --strategy exact -o "$tmp/x-p.json"
expect_rc "3: ... by stats (was inf/nan)" 1 "is above the limit of 1e+15 tokens" \
  "$bin" stats "$tmp/x-huge.json"
expect_rc "3: a CSV count of 1e308 refused" 1 "count 1e+308 is outside [0, 1e+15]" \
  "$bin" stats "$tmp/x-huge.csv"
python3 - "$tmp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/l.json")); d["layers"][0] = 10**18
json.dump(d, open(sys.argv[1] + "/x-layer-id.json", "w"))
p = json.load(open(sys.argv[1] + "/p.json")); p["layers"][0]["replicas"][0]["gpu"] = 1e308
json.dump(p, open(sys.argv[1] + "/x-gpu-id.json", "w"))
p = json.load(open(sys.argv[1] + "/p.json")); p["layers"][0]["layer"] = 2**62
json.dump(p, open(sys.argv[1] + "/x-p-layer.json", "w"))
PY
expect_rc "3: a loads layer id of 10^18 refused" 1 "layers[0]: expected a layer index" \
  "$bin" stats "$tmp/x-layer-id.json"
expect_rc "3: a placement GPU of 1e308 refused" 1 "replicas[0].gpu: expected an integer" \
  "$bin" eval -l "$tmp/l.json" -c "$tmp/c.json" "$tmp/x-gpu-id.json"
expect_rc "3: a placement layer of 2^62 refused" 1 "layers[0].layer: 4611686018427387904 is outside" \
  "$bin" validate -c "$tmp/c.json" "$tmp/x-p-layer.json"
expect_rc "3: a stats file with expert id 1e308 refused by report (was UB)" 1 \
  "coactive_pairs[0][0]: expected an expert id" "$bin" report --stats "$tmp/x-stats-huge-id.json" \
  --out "$tmp/x.html"

# ============================================================ 4. sizes
python3 -c 'import json; print(json.dumps({"format": "moemap.cluster/v1", "expert": {"hidden": 2048, "intermediate": 1024, "dtype": "bf16"},
  "base_curve": {"tokens": [1, 4096], "us": [60, 560]}, "network": {"intra_node_GBps": 450, "inter_node_GBps": 50, "latency_us": 10},
  "gpus": [{"id": i, "node": i // 8, "slots": 2, "speed": 1} for i in range(1025)]}))' >"$tmp/c1025.json"
expect_rc "4: a cluster file of 1025 GPUs refused, naming the limit" 1 \
  "1025 GPUs is more than the limit of 1024" "$bin" place -l "$tmp/l.json" \
  -c "$tmp/c1025.json" -o "$tmp/x.json"
expect_rc "4: cluster synth of 1025 GPUs refused, naming the limit" 2 "1024" \
  "$bin" cluster synth -v /dev/null -g 1025 --base "$tmp/c.json"

# ============================================================ 5. standard output
for r in "eval -l $tmp/l.json -c $tmp/c.json $tmp/p.json" \
         "eval -l $tmp/l.json -c $tmp/c.json --json $tmp/p.json" \
         "stats $tmp/l.json" "stats --json $tmp/l.json" "cluster show $tmp/c.json" \
         "models" "models --json" "validate -c $tmp/c.json $tmp/p.json" \
         "cluster synth --speeds 1,0.9 --base $tmp/c.json" "gen -n 2" \
         "${sim[*]} --json" "place -l $tmp/l.json -c $tmp/c.json -o -" ; do
  # shellcheck disable=SC2086
  "$bin" $r >/dev/full 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 1 ] && grep -q "write failed: No space left on device" "$tmp/err"; then
    ok "5: $(echo "$r" | cut -d' ' -f1-2 | sed "s|$tmp/||g") > /dev/full exits 1"
  else
    bad "5: $r > /dev/full (rc $rc): $(head -c 200 "$tmp/err")"
  fi
done

# ============================================================ 6. inputs that disagree
"$bin" cluster synth --speeds 1,0.9,0.8 --base "$tmp/c.json" --slots 30 --out "$tmp/c3.json" >/dev/null 2>&1
"$bin" place -l "$tmp/l.json" -c "$tmp/c3.json" -o "$tmp/p3.json" >/dev/null 2>&1
python3 - "$tmp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/p.json"))
r = d["layers"][0]["replicas"]
d["layers"][0]["replicas"] = [x for x in r if x["expert"] != r[0]["expert"]]
json.dump(d, open(sys.argv[1] + "/p-missing.json", "w"))
c = json.load(open(sys.argv[1] + "/c.json"))
c["expert"]["dtype"] = "int3"
json.dump(c, open(sys.argv[1] + "/c-int3.json", "w"))
PY
expect_rc "6: eval --previous of another shape refused (was 'moved 1665')" 1 \
  "the previous placement is for 3 gpus x 64 experts" \
  "$bin" eval -l "$tmp/l.json" -c "$tmp/c.json" --previous "$tmp/p3.json" "$tmp/p.json"
expect_rc "6: eval --previous that is not a valid placement refused" 1 "has no replica" \
  "$bin" eval -l "$tmp/l.json" -c "$tmp/c.json" --previous "$tmp/p-missing.json" "$tmp/p.json"
expect_rc "6: place --previous that is not a valid placement refused" 1 "has no replica" \
  "$bin" place -l "$tmp/l.json" -c "$tmp/c.json" --previous "$tmp/p-missing.json" -o "$tmp/x.json"
expect_rc "6: simulate --model deepseek-v3 with a 64-expert placement refused" 1 \
  "the placement has 64 experts per layer, model deepseek-v3 has 256" \
  "$bin" simulate -m deepseek-v3 -c "$tmp/c.json" -l "$tmp/l.json" -p "$tmp/p.json"
expect_rc "6: loads whose tokens contradict the counts refused" 1 "tokens 1 contradicts counts[0]" \
  "$bin" stats "$tmp/x-liar.json"
expect_rc "6: dtype \"int3\" refused" 1 '"int3" is not a known weight type' \
  "$bin" cluster show "$tmp/c-int3.json"
expect_rc "6: a placement given as report --stats refused by its format" 1 \
  'format is "moemap.placement/v1", expected "moemap.stats/v1"' \
  "$bin" report --stats "$tmp/p.json" --out "$tmp/x.html"
expect_rc "6: a cluster given as report --timeseries refused by its format" 1 \
  'format is "moemap.cluster/v1", expected "moemap.simulate/v1"' \
  "$bin" report --timeseries "$tmp/c.json" --out "$tmp/x.html"
expect_rc "6: a placement given as simulate --arrivals named as such" 1 \
  'format is "moemap.placement/v1", not an arrivals trace' "$bin" "${sim[@]}" -a "$tmp/p.json"
echo 42 >"$tmp/x42"
expect_rc "6: a file holding 42 is not a CSV workload" 1 "one count per row: not a load matrix" \
  "$bin" stats "$tmp/x42"
printf '1e400,2\n3,4\n' >"$tmp/x-e400.csv"
expect_rc "6: a CSV whose first cell is 1e400 is a bad number, not a header" 1 \
  "x-e400.csv:1:1: cell 1 '1e400' is not a number" "$bin" stats "$tmp/x-e400.csv"
printf '0x10,2\n3,4\n' >"$tmp/x-hex.csv"
expect_rc "6: ... and so is 0x10" 1 "x-hex.csv:1:1: cell 1 '0x10' is not a number" \
  "$bin" stats "$tmp/x-hex.csv"
printf '\xef\xbb\xbf' >"$tmp/bom-l.json"; cat "$tmp/l.json" >>"$tmp/bom-l.json"
printf '\xef\xbb\xbf' >"$tmp/bom-c.json"; cat "$tmp/c.json" >>"$tmp/bom-c.json"
"$bin" place -l "$tmp/bom-l.json" -c "$tmp/bom-c.json" -o "$tmp/x.json" >/dev/null 2>"$tmp/err"
check "6: JSON inputs with a UTF-8 byte-order mark are read" test $? -eq 0
expect_rc "6: a folder given as the cluster says so" 1 "$tmp: is a directory, not a file" \
  "$bin" place -l "$tmp/l.json" -c "$tmp" -o "$tmp/x.json"

mm_done
