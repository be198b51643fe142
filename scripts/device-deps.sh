#!/usr/bin/env bash
# device-deps.sh — for the lent GPU machines, which reach no package registry.
#   here:   scripts/device-deps.sh fetch     downloads the Debian packages moemap needs into
#                                            .deps/ (git-ignored; name it in the device
#                                            tool's `carry`)
#   there:  source scripts/device-deps.sh use   unpacks them under /tmp/moemap-deps and
#                                            exports CMAKE_PREFIX_PATH / LD_LIBRARY_PATH
set -euo pipefail
case "${1:-}" in
  fetch)
    mkdir -p .deps
    (cd .deps && apt-get download libjansson4 libjansson-dev >/dev/null)
    ls .deps ;;
  use)
    mkdir -p /tmp/moemap-deps
    for f in .deps/*.deb; do dpkg -x "$f" /tmp/moemap-deps; done
    export CMAKE_PREFIX_PATH=/tmp/moemap-deps/usr
    export LD_LIBRARY_PATH=/tmp/moemap-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-} ;;
  *) echo "usage: $0 fetch|use" >&2; exit 2 ;;
esac
