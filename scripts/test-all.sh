#!/usr/bin/env bash
# Runs every test of every project (the command README.md gives, and what CI runs).
# On failure the failing tests are printed again at the very end, so the tail of a
# long log (all a CI summary shows) says what failed and why.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
log="$(mktemp -t quasivm-tests.XXXXXX)"
status=0
npx nx run-many -t test --parallel=1 --outputStyle=stream "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo
  echo "=== failing tests (repeated from above; full log: $log) ==="
  # vitest's failure blocks: from each 'FAIL' header, the error and its first lines of context.
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E -A14 ' FAIL | × |Error: ' | grep -v '^--$' | head -150 || true
fi
exit "$status"
