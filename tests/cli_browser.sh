#!/usr/bin/env bash
# cli_browser.sh — opens the demo's report in a real browser (headless Chromium) and
# checks that every chart rendered: the quick demo (scripts/demo.sh --quick) builds the
# report from the whole pipeline, Chromium loads it from file:// with no network, the
# page's own check (each <img class="chart"> decoded, naturalWidth > 0) must report all
# charts, the browser must log no console message (no script error, no failed load),
# and a screenshot is saved under the test output ($MOEMAP_TEST_TMP/browser/report.png).
# Skips (exit 77) only where Chromium is not installed and cannot be.
cd "$(dirname "$0")/.." || exit 1
. "$(dirname "$0")/lib.sh"
set -eo pipefail
mm_tmp browser
out=$tmp
expected_charts=6

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "# SKIP chromium not found (scripts/install-deps.sh test installs Debian's chromium)"
  exit 77
fi

rm -rf "$out"
mkdir -p "$out"
# A fresh profile per run; every background service off, so nothing reaches the network.
chrome() {
  local profile
  profile=$(mktemp -d "$out/profile.XXXXXX")
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --no-default-browser-check --disable-background-networking \
    --disable-component-update --disable-sync --disable-extensions \
    --disable-default-apps --metrics-recording-only --mute-audio \
    --user-data-dir="$profile" "$@"
  local rc=$?
  rm -rf "$profile"
  return $rc
}

# 1. The demo's report, from the whole pipeline (quick mode: fewer batches, shorter run).
if MOEMAP_BIN="$bin" scripts/demo.sh --quick "$out/demo" >"$out/demo.txt" 2>&1; then
  ok "quick demo ran"
else
  bad "quick demo failed:"; tail -20 "$out/demo.txt"; exit 1
fi
report="$out/demo/report.html"
[ -s "$report" ] && ok "report written" || { bad "no report at $report"; exit 1; }
report_abs=$(cd "$(dirname "$report")" && pwd)/report.html

charts=$(grep -o '<img class="chart"' "$report" | wc -l)
[ "$charts" -eq "$expected_charts" ] && ok "report has $charts charts" ||
  bad "report has $charts charts, expected $expected_charts"
# Self-contained: no reference to anything outside the file.
if grep -Eq '(src|href)="(https?:|file:|//)|@import|url\(' "$report"; then
  bad "report references external resources"
else
  ok "report is self-contained"
fi

# 2. Load it; the page writes "<rendered>/<total>" into body[data-charts] on load.
if chrome --enable-logging=stderr --v=0 --virtual-time-budget=15000 --dump-dom \
     "file://$report_abs" >"$out/dom.html" 2>"$out/chrome.log"; then
  ok "chromium loaded the report"
else
  bad "chromium failed (see $out/chrome.log)"; tail -5 "$out/chrome.log"
fi
state=$(grep -o 'data-charts="[0-9]*/[0-9]*"' "$out/dom.html" | head -1 | cut -d'"' -f2)
if [ "$state" = "$charts/$charts" ] && [ "$charts" -gt 0 ]; then
  ok "every chart rendered in the browser ($state)"
else
  bad "charts rendered: '${state:-none}' of $charts"
fi
# Any console message is a failure: the page logs nothing of its own, so a message is
# an error (uncaught exception, resource that failed to load, blocked request).
if grep -E 'CONSOLE|Failed to load resource|net::ERR' "$out/chrome.log" >"$out/console.txt"; then
  bad "browser console messages:"; cat "$out/console.txt"
else
  ok "no console errors"
fi

# 3. A screenshot of the whole page (tall window; scale 0.6 keeps the file small).
shot="$out/report.png"
if chrome --hide-scrollbars --window-size=1100,5600 --force-device-scale-factor=0.6 \
     --virtual-time-budget=15000 --screenshot="$shot" "file://$report_abs" \
     >"$out/shot.log" 2>&1 && [ -s "$shot" ] &&
   [ "$(head -c 4 "$shot" | od -An -c | tr -d ' ')" = "211PNG" ]; then
  ok "screenshot saved: $shot ($(($(stat -c %s "$shot") / 1024)) KB)"
else
  bad "no screenshot (see $out/shot.log)"
fi

mm_done
