#!/usr/bin/env bash
# install-deps.sh — makes sure what moemap needs is there before `make`, `make test` and
# `make demo`: each Debian package counts as present when dpkg says it is installed OR
# when what it provides is found another way (the command on PATH, the header and
# library through the C compiler, the Python module), so a non-root user, a library
# built from source or a non-Debian system is fine. Only what is missing is installed,
# and only as root with apt-get; otherwise one line names what is missing and, when that
# is needed to build, the script fails. Optional pieces (GLPK, gnuplot, help2man,
# Chromium, torch, ...) are named but never fail it.
# Usage: scripts/install-deps.sh [build|test|demo]   (test adds the fuzz/Python/browser tools)
# MOEMAP_SKIP_DEPS=1 skips every check (CMake then finds the libraries its own way).
set -euo pipefail
[ "${MOEMAP_SKIP_DEPS:-0}" = 1 ] && exit 0
mode=${1:-build}
want=(cmake make gcc pkg-config libjansson-dev libglpk-dev gnuplot-nox help2man)
case "$mode" in
  # python3-numpy/-pip/-venv: the Python package's tests (pip install offline, a venv in
  # docs/engines.md); python3-torch (optional): the .pt and tensor tests, skipped without.
  test) want+=(clang libclang-rt-14-dev chromium python3 python3-numpy python3-pip python3-venv
              python3-torch) ;;
  build|demo) ;;
  *) echo "install-deps.sh: unknown mode '$mode' (build, test or demo)" >&2; exit 2 ;;
esac
# The Python the tests run with (CMakeLists.txt prefers Debian's).
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || cc=gcc

# compiles_with HEADER LIB CALL: a C program including HEADER, calling CALL, links with -lLIB.
compiles_with() {
  printf '#include <%s>\nint main(void) { return (int)(%s); }\n' "$1" "$3" |
    "$cc" -x c - -l"$2" -o /dev/null >/dev/null 2>&1
}
# found PACKAGE: what the package provides is usable here, however it was installed.
found() {
  case "$1" in
    gcc) command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 ;;
    gnuplot-nox) command -v gnuplot >/dev/null 2>&1 ;;
    chromium) command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
                command -v google-chrome >/dev/null 2>&1 ;;
    libjansson-dev) compiles_with jansson.h jansson 'json_object() == 0' ;;
    libglpk-dev) compiles_with glpk.h glpk 'glp_version() == 0' ;;
    libclang-rt-*) printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)n * 0 + (d == 0); }\n' |
                     clang -fsanitize=fuzzer,address -x c - -o /dev/null >/dev/null 2>&1 ;;
    python3-numpy) "$py" -c 'import numpy' >/dev/null 2>&1 ;;
    python3-pip) "$py" -m pip --version >/dev/null 2>&1 ;;
    python3-venv) "$py" -c 'import ensurepip, venv' >/dev/null 2>&1 ;;
    python3-torch) "$py" -c 'import torch' >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
# What is lost without an optional package (empty: the package is required).
without() {
  case "$1" in
    libglpk-dev) echo "no exact strategy (built without GLPK)" ;;
    gnuplot-nox) echo "moemap report draws no charts (its tests fail)" ;;
    help2man) echo "no man page" ;;
    pkg-config) echo "the install test cannot check moemap.pc" ;;
    chromium) echo "the browser test is skipped" ;;
    python3-torch) echo "the .pt and tensor tests are skipped" ;;
  esac
}

missing=()
for p in "${want[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || found "$p"; then
    continue
  fi
  missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

core=(); optional=()
for p in "${missing[@]}"; do
  if [ -n "$(without "$p")" ]; then optional+=("$p"); else core+=("$p"); fi
done

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "moemap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  [ ${#core[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${core[@]}" >/dev/null
  # Optional ones may not exist in every release (chromium, python3-torch): say so, go on.
  [ ${#optional[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null ||
    echo "moemap: could not install ${optional[*]}; the tests needing them will be skipped or fail" >&2
  exit 0
fi

if [ ${#optional[@]} -gt 0 ]; then
  notes=()
  for p in "${optional[@]}"; do notes+=("$p ($(without "$p"))"); done
  (IFS=';'; echo "moemap: optional, not found:${notes[*]/#/ }" >&2)
fi
if [ ${#core[@]} -gt 0 ]; then
  echo "moemap: missing ${core[*]} (not installed and not found by compiler, PATH or $py); install them (Debian: apt-get install ${core[*]}), or set MOEMAP_SKIP_DEPS=1 if CMake finds them another way" >&2
  exit 1
fi
exit 0
