#!/usr/bin/env bash
# Short fuzz run of every Fuzz target in the module (or the packages given).
#
# Go 1.26's fuzz coordinator can report "context deadline exceeded" when a
# duration -fuzztime expires while a worker is mid-call (go.dev/issue/75804,
# fixed in Go 1.27). That failure writes no reproducer. A real finding always
# prints "Failing input written to", so a run that failed with the deadline
# message and nothing else is retried (up to twice); anything else fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
FUZZTIME=${FUZZTIME:-8s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

is_deadline_flake() {
  grep -q 'context deadline exceeded' "$1" &&
    ! grep -qE 'Failing input written|panic:|^[[:space:]]+[A-Za-z0-9_]+\.go:[0-9]+:' "$1"
}

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || mapfile -t pkgs < <(go list ./...)
for pkg in "${pkgs[@]}"; do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    for attempt in 1 2 3; do
      if [ $attempt = 1 ]; then echo "fuzz $pkg $f"; else echo "fuzz $pkg $f (attempt $attempt)"; fi
      if go test -run '^$' -fuzz "^${f}\$" -fuzztime "$FUZZTIME" "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ $attempt -lt 3 ] && is_deadline_flake "$log"; then
        echo "  fuzz coordinator deadline flake (go.dev/issue/75804), no failing input; retrying"
        continue
      fi
      cat "$log"
      exit 1
    done
  done
done
