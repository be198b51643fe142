#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages moemap needs when they are missing, so
# that `make test` and `make demo` work on a fresh Debian 12 machine (run as root).
# Usage: scripts/install-deps.sh [build|test|demo]   (test adds the fuzz/browser tools)
set -euo pipefail
want=(cmake make gcc pkg-config libjansson-dev libglpk-dev gnuplot-nox help2man)
case "${1:-build}" in
  # python3-numpy/-pip/-venv: the Python package's tests (pip install offline, a venv in
  # docs/engines.md); python3-torch (optional): the .pt and tensor tests, skipped without.
  test) want+=(clang libclang-rt-14-dev chromium python3 python3-numpy python3-pip python3-venv
              python3-torch) ;;
  demo) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "moemap: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "moemap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# chromium is only for the browser test and python3-torch only for the torch tests; both
# skip (exit 77) where they cannot be had.
core=(); optional=()
for p in "${missing[@]}"; do
  case "$p" in
    chromium|python3-torch) optional+=("$p") ;;
    *) core+=("$p") ;;
  esac
done
[ ${#core[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${core[@]}" >/dev/null
[ ${#optional[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null ||
  echo "moemap: could not install ${optional[*]}; the tests needing them will be skipped" >&2
