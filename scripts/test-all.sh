#!/usr/bin/env bash
# Runs every test of every project (the command README.md gives, and what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
npx nx run-many -t test --parallel=1 --outputStyle=stream "$@"
