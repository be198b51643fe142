# lib.sh — the helpers every tests/cli_*.sh shares, sourced as `. tests/lib.sh` (ctest
# runs the scripts from the repository root): TAP-style ok/bad lines and the closing
# count, check and the two expected-failure forms, the per-test scratch folder, the real
# data (a missing path is one FATAL line naming it and a failure, never a silent skip),
# the small synthetic fixtures under tests/data, and golden files under tests/golden
# (MOEMAP_UPDATE_GOLDEN=1 rewrites them; review the diff before committing).
#
# It sets: bin (the built moemap), data (the real data folder), fixtures (tests/data),
# golden_dir (tests/golden); mm_tmp NAME sets tmp.
set -u
bin=${MOEMAP_BIN:?MOEMAP_BIN is not set (run through ctest, or export MOEMAP_BIN=build/moemap)}
data=${MOEMAP_DATA:-../shared/data}
mm_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixtures=$mm_root/tests/data
golden_dir=$mm_root/tests/golden
n=0; failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
quiet() { "$@" >/dev/null; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# mm_tmp NAME [--clean]: the scratch folder $MOEMAP_TEST_TMP/NAME (emptied with --clean).
mm_tmp() {
  tmp=${MOEMAP_TEST_TMP:-/tmp/moemap-test}/$1
  [ "${2:-}" = --clean ] && rm -rf "$tmp"
  mkdir -p "$tmp"
}

# need_data PATH...: every path must exist; else one line naming the first missing one and
# exit 1 (CI always has ../shared/data, so a missing file is a failure, not a skip).
need_data() {
  local p
  for p in "$@"; do
    [ -e "$p" ] || { echo "FATAL: real data not found: $p (this test needs ../shared/data beside the checkout, or MOEMAP_DATA)"; exit 1; }
  done
}

# The command runner of the expect forms: a script may set mm_runner (e.g. to bound
# memory and time); by default the command runs as is.
mm_runner=""

# expect_fail WHAT WANT CMD...: a non-zero exit that is not a signal, at most two lines
# on stderr, one containing WANT (a crash, an assert or a silent success fails).
expect_fail() {
  local what=$1 want=$2; shift 2
  $mm_runner "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF -- "$want" "$tmp/err" && \
     [ "$(wc -l <"$tmp/err")" -le 2 ]; then
    ok "$what"
  else
    bad "$what (rc $rc): $(head -c 300 "$tmp/err")"
  fi
}

# expect_rc WHAT RC WANT CMD...: exit status exactly RC and exactly one line on stderr,
# containing WANT (or, when WANT starts with ^, starting with the rest of it).
expect_rc() {
  local what=$1 want_rc=$2 want=$3; shift 3
  $mm_runner "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  local first; first=$(head -1 "$tmp/err")
  local found=0
  if [ "${want#^}" != "$want" ]; then
    [ "${first#"${want#^}"}" != "$first" ] && found=1
  else
    grep -qF -- "$want" "$tmp/err" && found=1
  fi
  if [ $rc -eq "$want_rc" ] && [ $found -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
    ok "$what"
  else
    bad "$what (rc $rc, want $want_rc with '$want'): $(head -c 300 "$tmp/err")"
  fi
}

# golden WHAT NAME FILE: FILE must equal tests/golden/NAME byte for byte (the diff is
# printed when not). With MOEMAP_UPDATE_GOLDEN=1 the golden file is rewritten instead.
golden() {
  local what=$1 name=$2 file=$3
  if [ "${MOEMAP_UPDATE_GOLDEN:-0}" = 1 ]; then
    mkdir -p "$golden_dir"
    cp "$file" "$golden_dir/$name"
    ok "$what (golden $name rewritten)"
  elif [ ! -f "$golden_dir/$name" ]; then
    bad "$what: golden file tests/golden/$name is missing (MOEMAP_UPDATE_GOLDEN=1 writes it)"
  elif diff -u "$golden_dir/$name" "$file" >"$tmp/golden.diff"; then
    ok "$what (= tests/golden/$name)"
  else
    bad "$what differs from tests/golden/$name:"
    sed 's/^/#   /' "$tmp/golden.diff"
  fi
}

# mm_done: the closing count; the script's exit status (0 only when nothing failed, and
# not when nothing ran: a test that asserts nothing is a failure).
mm_done() {
  echo "$((n - failed)) passed, $failed failed"
  [ $failed -eq 0 ] && [ $n -gt 0 ]
}
