#!/usr/bin/env bash
# fuzz-smoke.sh BUILD_DIR SECONDS — runs every libFuzzer target built in BUILD_DIR for
# SECONDS each, starting from its seed corpus under fuzz/corpus/<target>/ (copied to a
# scratch folder so runs never change the repository). Any crash fails the run.
set -euo pipefail
build=$1; seconds=$2
shopt -s nullglob
targets=("$build"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets built"; exit 0; fi
pass=0; fail=0
for t in "${targets[@]}"; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  work=$(mktemp -d)
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
  # The simulator target runs under a tighter memory limit: its bug class is growth
  # with the trace's time span (issue 14), which a 2 GB limit would hide for a while.
  limits="-rss_limit_mb=2048"
  [ "$name" = fuzz_simulate ] && limits="-rss_limit_mb=512 -malloc_limit_mb=256"
  # shellcheck disable=SC2086
  if "$t" -max_total_time="$seconds" -timeout=10 $limits -print_final_stats=0 \
       -artifact_prefix="$build/$name-" "$work" >"$build/$name.log" 2>&1; then
    echo "ok - fuzz $name (${seconds}s)"; pass=$((pass+1))
  else
    echo "not ok - fuzz $name: see $build/$name.log"; tail -30 "$build/$name.log"; fail=$((fail+1))
  fi
  rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
