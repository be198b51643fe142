#!/usr/bin/env bash
# cli_conventions.sh — the rules every command shares (docs/cli.md, issue 12), checked
# command by command with small synthetic inputs only (tests/data and files made here):
#   '-'     standard input for every input a command reads, standard output for every
#           output it writes; given to two inputs, to two outputs, or to an output with
#           --json, a usage error; with an output on stdout, what the command prints goes
#           to stderr so stdout holds the file alone;
#   --json  every command that prints results prints JSON that parses;
#   exit    0 done, 1 the work failed (a missing, malformed or unwritable file), 2 a
#           usage error (unknown flag or name, bad value, missing required flag), each
#           with one line on stderr.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
mm_tmp cli_conventions --clean
cl=tests/data/tiny-cluster.json
ld=tests/data/tiny-loads.json
sp=tests/data/tiny-split.json

# is_json FILE [PYTHON-CONDITION on d]: FILE parses as JSON (and the condition holds).
is_json() {
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (${2:-True}))" "$1" \
    2>/dev/null
}
# A simulate setup of its own: 4 GPUs with DeepSeek-V2-Lite's expert shape, a generated
# workload, a round-robin placement and a 40-request Azure-style arrivals CSV.
"$bin" cluster synth --speeds 1,1,0.9,0.8 --base-curve 1:9,128:9.7,1024:42.4,4096:154.5 \
  --hidden 2048 --intermediate 1408 --slots 17 --out "$tmp/c4.json" >/dev/null 2>&1
"$bin" gen -m deepseek-v2-lite -n 8 -b 1024 --out "$tmp/l.json" 2>/dev/null
"$bin" place -m deepseek-v2-lite -l "$tmp/l.json" -c "$tmp/c4.json" --strategy round_robin \
  --out "$tmp/p.json" >/dev/null 2>&1
{ echo "TIMESTAMP,ContextTokens,GeneratedTokens"
  for i in $(seq 10 49); do echo "2023-11-16 18:15:$i.0000000,$((100 + 7 * i)),$((10 + i))"; done
} >"$tmp/az.csv"
check "simulate fixtures made" test -s "$tmp/c4.json" -a -s "$tmp/l.json" -a -s "$tmp/p.json"
sim() {
  "$bin" simulate -m deepseek-v2-lite --duration 5 "$@"
}

# --- '-' reads standard input, for every input of every command ---------------------------
# stdin_ok WHAT FILE CMD...: CMD with FILE on stdin exits 0 and prints what it printed
# with FILE named instead of '-' (the same work was done).
stdin_ok() {
  local what=$1 file=$2; shift 2
  "$@" <"$file" >"$tmp/in.out" 2>"$tmp/in.err"; local rc=$?
  if [ $rc -eq 0 ] && [ -s "$tmp/in.out" ]; then ok "$what"; else
    bad "$what (rc $rc): $(head -c 300 "$tmp/in.err")"; fi
}
stdin_ok "place --loads -" "$ld" "$bin" place -l - -c "$cl" --out - --strategy round_robin
stdin_ok "place --cluster -" "$cl" "$bin" place -l "$ld" -c - --out - --strategy round_robin
stdin_ok "place --previous -" "$sp" "$bin" place -l "$ld" -c "$cl" --previous - --out -
stdin_ok "eval --previous -" "$sp" "$bin" eval -l "$ld" -c "$cl" --previous - "$sp"
stdin_ok "validate --loads -" "$ld" "$bin" validate -l - -c "$cl" "$sp"
stdin_ok "validate, the placement '-'" "$sp" "$bin" validate -c "$cl" -
stdin_ok "stats --compare -" "$ld" "$bin" stats "$ld" --compare -
stdin_ok "stats -l -" "$ld" "$bin" stats -l -
stdin_ok "convert -" "$ld" "$bin" convert - --out -
stdin_ok "cluster show -" "$cl" "$bin" cluster show -
stdin_ok "cluster merge -" "$cl" "$bin" cluster merge - "$cl"
stdin_ok "cluster synth --base -" "$cl" "$bin" cluster synth --speeds 1,0.5 --base -
stdin_ok "simulate --cluster -" "$tmp/c4.json" sim -c - -l "$tmp/l.json" -p "$tmp/p.json" -a "$tmp/az.csv"
stdin_ok "simulate --loads -" "$tmp/l.json" sim -c "$tmp/c4.json" -l - -p "$tmp/p.json" -a "$tmp/az.csv"
stdin_ok "simulate --placement -" "$tmp/p.json" sim -c "$tmp/c4.json" -l "$tmp/l.json" -p - -a "$tmp/az.csv"
stdin_ok "simulate --arrivals -" "$tmp/az.csv" sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" -a -
stdin_ok "simulate --event switch@T=-" "$tmp/l.json" sim -c "$tmp/c4.json" -l "$tmp/l.json" \
  -p "$tmp/p.json" -a "$tmp/az.csv" --event switch@1=-
sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" -a - --json <"$tmp/az.csv" >"$tmp/a1.json" 2>/dev/null
sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" -a "$tmp/az.csv" --json >"$tmp/a2.json" 2>/dev/null
# One request a second: --duration 5 serves the first five.
check "  ... simulate -a - serves the same 5 requests as the file" \
  is_json "$tmp/a1.json" "d['runs'][0]['requests'] == 5 and open(sys.argv[1]).read() == open('$tmp/a2.json').read()"

# Standard input is one stream: two inputs reading it is a usage error, naming both.
expect_rc "place: --loads - and --cluster -" 2 "--loads - and --cluster -: both read standard input" \
  "$bin" place --loads - --cluster - --out "$tmp/x.json"
expect_rc "eval: --loads - and a placement '-'" 2 "both read standard input" \
  "$bin" eval --loads - -c "$cl" - <"$ld"
expect_rc "eval: --loads=- and -c-" 2 "--loads=- and -c-: both read standard input" \
  "$bin" eval --loads=- -c- "$sp"
expect_rc "simulate: -c - and --event switch@1=-" 2 "-c - and --event switch@1=-: both read" \
  sim -c - -l "$tmp/l.json" -p "$tmp/p.json" --event switch@1=-
expect_rc "report: --eval - and --stats -" 2 "both read standard input" \
  "$bin" report --eval - --stats - --out "$tmp/r.html"
expect_rc "stdin that is no file: one line naming '-'" 1 "moemap stats: -: " "$bin" stats - </dev/null

# --- '-' writes standard output, for every output; the rest goes to stderr -----------------
"$bin" place -l "$ld" -c "$cl" --out - >"$tmp/o1" 2>"$tmp/e1"
check "place --out -: stdout is the placement alone" is_json "$tmp/o1" "d['format'] == 'moemap.placement/v1'"
check "  ... and the summary is on stderr" grep -q "^moemap: 2 layers" "$tmp/e1"
"$bin" place -l "$ld" -c "$cl" --out "$tmp/x.json" --previous "$sp" --plan - >"$tmp/o2" 2>/dev/null
check "place --plan -: stdout is the plan alone" is_json "$tmp/o2" "d['format'] == 'moemap.migration/v1'"
"$bin" place -l "$ld" -c "$cl" --out "$tmp/x.json" --export moemap=- >"$tmp/o3" 2>/dev/null
check "place --export moemap=-: stdout is the export alone" is_json "$tmp/o3" "'layers' in d"
"$bin" convert "$ld" --out - >"$tmp/o4" 2>/dev/null
check "convert --out -: stdout is the workload alone" is_json "$tmp/o4" "d['format'] == 'moemap.loads/v1'"
"$bin" gen -n 2 --experts 8 --top-k 2 --layers 1 --first-dense 0 --temporal-groups 0 >"$tmp/o5" 2>/dev/null
check "gen (default --out -): stdout is the workload alone" is_json "$tmp/o5" "d['format'] == 'moemap.loads/v1'"
"$bin" cluster synth --speeds 1,0.5 --base "$cl" --out - >"$tmp/o6" 2>"$tmp/e6"
check "cluster synth --out -: stdout is the cluster alone" is_json "$tmp/o6" "d['format'] == 'moemap.cluster/v1'"
check "  ... and the summary is on stderr" grep -q "^cluster: 2 GPUs" "$tmp/e6"
"$bin" cluster merge "$cl" "$cl" --out - >"$tmp/o7" 2>/dev/null
check "cluster merge --out -: stdout is the cluster alone" is_json "$tmp/o7" "len(d['gpus']) == 4"
sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" -a "$tmp/az.csv" --timeseries - \
  >"$tmp/o8" 2>"$tmp/e8"
check "simulate --timeseries -: stdout is the time series alone" is_json "$tmp/o8" "'runs' in d"
check "  ... and the table is on stderr" grep -q "TTFT p50" "$tmp/e8"

expect_rc "place: --out - and --plan -" 2 "--out - and --plan -: both write to standard output" \
  "$bin" place -l "$ld" -c "$cl" --out - --previous "$sp" --plan -
expect_rc "place: --json with --out -" 2 "--json prints on standard output, so --out - cannot" \
  "$bin" place -l "$ld" -c "$cl" --out - --json
expect_rc "place: --json with --export sglang=-" 2 "so --export sglang=- cannot write there" \
  "$bin" place -l "$ld" -c "$cl" --out "$tmp/x.json" --export sglang=- --json
expect_rc "convert: --json with -o -" 2 "--json prints on standard output" \
  "$bin" convert "$ld" -o - --json
expect_rc "simulate: --json with --timeseries -" 2 "so --timeseries - cannot write there" \
  sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" --json --timeseries -
expect_rc "report: --out - twice" 2 "both write to standard output" \
  "$bin" report --stats "$tmp/x" --out - --out=-

# --- --json wherever a command prints results ---------------------------------------------
"$bin" place -l "$ld" -c "$cl" --out "$tmp/pl.json" --json >"$tmp/j.place" 2>/dev/null
check "place --json: moemap.eval/v1" is_json "$tmp/j.place" "d['format'] == 'moemap.eval/v1'"
"$bin" eval -l "$ld" -c "$cl" "$sp" --json >"$tmp/j.eval"
check "eval --json: moemap.eval/v1" is_json "$tmp/j.eval" "d['format'] == 'moemap.eval/v1'"
"$bin" validate -c "$cl" "$sp" --json >"$tmp/j.val"
check "validate --json: {file, ok, ...}" is_json "$tmp/j.val" "d['ok'] is True and d['problems'] == []"
"$bin" stats "$ld" --json >"$tmp/j.stats"
check "stats --json: moemap.stats/v1" is_json "$tmp/j.stats" "d['format'] == 'moemap.stats/v1'"
"$bin" cluster show "$cl" --json >"$tmp/j.show"
check "cluster show --json" is_json "$tmp/j.show" "d['gpus_total'] == 2"
"$bin" models --json >"$tmp/j.models"
check "models --json" is_json "$tmp/j.models" "len(d) > 5"
"$bin" convert "$ld" --out "$tmp/cv.json" --json >"$tmp/j.conv"
check "convert --json: what was written" is_json "$tmp/j.conv" "d['out'].endswith('cv.json') and d['batches'] == 10"
"$bin" gen -n 2 --experts 8 --top-k 2 --layers 1 --first-dense 0 --temporal-groups 0 \
  --out "$tmp/g.json" --json >"$tmp/j.gen"
check "gen --json: what was written" is_json "$tmp/j.gen" "d['experts'] == 8 and d['batches'] == 2"
sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" -a "$tmp/az.csv" --json >"$tmp/j.sim" 2>/dev/null
check "simulate --json: moemap.simulate/v1" is_json "$tmp/j.sim" "d['format'] == 'moemap.simulate/v1'"

# --- exit codes: 2 for usage, 1 for work that failed, one line on stderr each -------------
P=("$bin" place -l "$ld" -c "$cl" --out "$tmp/x.json")
expect_rc "place: unknown flag" 2 "unknown option '--bogus'" "${P[@]}" --bogus
expect_rc "place: unknown strategy" 2 "unknown strategy 'nope'" "${P[@]}" --strategy nope
expect_rc "place: unknown model" 2 "unknown model 'nope'" "${P[@]}" --model nope
expect_rc "place: unknown engine" 2 "unknown engine 'nope'" "${P[@]}" --engine nope
expect_rc "place: bad value" 2 "--time-limit: -1 is outside" "${P[@]}" --time-limit -1
expect_rc "place: missing --out" 2 "are required" "$bin" place -l "$ld" -c "$cl"
expect_rc "place: missing loads file" 1 "nope.json: cannot open" \
  "$bin" place -l "$tmp/nope.json" -c "$cl" --out "$tmp/x.json"
expect_rc "place: a cluster given as loads" 1 "expected \"moemap.loads/v1\"" \
  "$bin" place -l "$cl" -c "$cl" --out "$tmp/x.json"
expect_rc "place: unwritable output, named" 1 "/nonexistent-dir/x.json: cannot create" \
  "$bin" place -l "$ld" -c "$cl" --out /nonexistent-dir/x.json
expect_rc "eval: no placement" 2 "no placement files given" "$bin" eval -l "$ld" -c "$cl"
expect_rc "eval: missing placement file" 1 "nope.json: cannot open" \
  "$bin" eval -l "$ld" -c "$cl" "$tmp/nope.json"
expect_rc "validate: two placements" 2 "expected exactly one placement file" \
  "$bin" validate -c "$cl" "$sp" "$sp"
expect_rc "stats: no input" 2 "missing INPUT" "$bin" stats
expect_rc "stats: bad value" 2 "--consistent-threshold: 5 is outside" \
  "$bin" stats "$ld" --consistent-threshold 5
expect_rc "stats: malformed input" 1 "is not a number" "$bin" stats "$ld" --format csv
expect_rc "convert: missing --out" 2 "missing --out" "$bin" convert "$ld"
expect_rc "gen: unknown model" 2 "unknown model 'nope'" "$bin" gen --model nope
expect_rc "gen: top-k over experts" 2 "top-k 8 is outside" "$bin" gen --experts 4 --top-k 8
expect_rc "gen: unwritable output, named" 1 "/nonexistent-dir/g.json: cannot create" \
  "$bin" gen -n 1 --out /nonexistent-dir/g.json
expect_rc "cluster: unknown subcommand" 2 "unknown subcommand 'nope'" "$bin" cluster nope
expect_rc "cluster show: loads given" 1 "expected \"moemap.cluster/v1\"" "$bin" cluster show "$ld"
expect_rc "cluster synth: speed 0" 2 "speed 0 of GPU 0 must be" \
  "$bin" cluster synth --speeds 0,0.5 --base "$cl"
expect_rc "cluster synth: unknown dtype" 2 "dtype \"fp7\" is not a known weight type" \
  "$bin" cluster synth --speeds 1,0.5 --base "$cl" --dtype fp7
expect_rc "cluster synth: missing base file" 1 "nope.json: cannot open" \
  "$bin" cluster synth --speeds 1,0.5 --base "$tmp/nope.json"
expect_rc "simulate: --poisson with --bursty" 2 "--poisson and --bursty" \
  sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" --poisson 5 --bursty 5
expect_rc "simulate: unknown policy" 2 "--policy: unknown 'nope'" \
  sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" --policy nope
expect_rc "simulate: unknown strategy" 2 "unknown strategy 'nope'" \
  sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$tmp/p.json" --strategy nope
expect_rc "simulate: placement of another cluster" 1 "placement is for 2 gpus" \
  sim -c "$tmp/c4.json" -l "$tmp/l.json" -p "$sp" -a "$tmp/az.csv"
expect_rc "run: unknown model" 2 "unknown model 'nope'" "$bin" run -m nope -l "$ld" "$sp"
expect_rc "run: no placement" 2 "give at least one placement file" \
  "$bin" run -m deepseek-v2-lite -l "$ld"
expect_rc "profile: no shape" 2 "give --model NAME" "$bin" profile
expect_rc "report: missing --out" 2 "--out FILE is required" "$bin" report --stats "$tmp/j.stats"
expect_rc "report: a stats file given as eval" 1 "expected \"moemap.eval/v1\"" \
  "$bin" report --eval "$tmp/j.stats" --out "$tmp/r.html"
"$bin" nope >/dev/null 2>"$tmp/err"; rc=$?
check "unknown command: 2, the usage after the error line" \
  test $rc -eq 2 -a "$(head -1 "$tmp/err")" = "moemap: unknown command 'nope'"

mm_done
