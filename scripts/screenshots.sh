#!/usr/bin/env bash
# Refreshes the console screenshots the README links (docs/screenshots/):
# runs the browser tests (web/browsertest, headless Chromium against a real
# `omadm demo`) with OMADM_SCREENSHOTS set, then keeps one PNG per view,
# 1280×800 each. Needs Debian's chromium (or OMADM_CHROMIUM).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
out=docs/screenshots
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OMADM_SCREENSHOTS=$tmp OMADM_REQUIRE_GATEWAYS=${OMADM_REQUIRE_GATEWAYS:-} \
  go test -count=1 ./web/browsertest/ "$@"
mkdir -p "$out"
# test's name → the README's name
declare -A views=(
  [login.png]=login.png
  [fleet.png]=fleet.png
  [tree.png]=device-tree.png
  [traces.png]=device-traces.png
  [operations.png]=operations-fumo.png
  [campaigns.png]=campaigns.png
  [settings.png]=settings.png
)
missing=0
for src in "${!views[@]}"; do
  if [ -f "$tmp/$src" ]; then
    cp "$tmp/$src" "$out/${views[$src]}"
  else
    echo "no screenshot $src (did its test run?)" >&2
    missing=1
  fi
done
total=$(du -cb "$out"/*.png | tail -1 | cut -f1)
ls -l "$out"
echo "total $total bytes in $out"
if [ "$total" -gt 1572864 ]; then
  echo "the screenshots are over 1.5 MB: make the views smaller or fewer" >&2
  exit 1
fi
exit $missing
