#!/usr/bin/env bash
# Renders the HTML report of the hacked testdata run in headless Chromium,
# takes a screenshot, and fails when the page logs anything to the console
# (script errors, blocked resources, CSP violations) or renders blank.
# Skips cleanly when no Chromium is installed (apt-get install chromium).
# The screenshot and report are kept in $SCREENSHOT_DIR (default: a
# temporary directory, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "screenshot: no Chromium installed; skipped (apt-get install -y chromium)"
  exit 0
fi

out=${SCREENSHOT_DIR:-$(mktemp -d)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
report="$out/report-hacked.html"
shot="$out/report-hacked.png"

# Exit code 1 means "the run is flagged", which it is: that is expected.
go build -o "$out/reportgen" ./cmd/reportgen
set +e
"$out/reportgen" report testdata/runs/hacked.jsonl -o "$report" --expected correctness=0.7,format=0.3
code=$?
set -e
if [ "$code" -ne 1 ] || [ ! -s "$report" ]; then
  echo "screenshot: reportgen report exited $code (want 1: the hacked run is flagged)" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --screenshot="$shot" --window-size=1400,3000 "file://$report" >"$out/chromium.log" 2>&1 || {
  echo "screenshot: chromium failed:" >&2
  tail -n 20 "$out/chromium.log" >&2
  exit 1
}
if grep -E ':CONSOLE[:(]|Uncaught|Refused to' "$out/chromium.log" >&2; then
  echo "screenshot: the report logged console messages (above)" >&2
  exit 1
fi
size=$(wc -c <"$shot")
if [ "$size" -lt 50000 ]; then
  echo "screenshot: $shot is only $size bytes: the page looks blank" >&2
  exit 1
fi
echo "screenshot: $shot ($size bytes), no console messages"
