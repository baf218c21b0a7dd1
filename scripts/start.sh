#!/usr/bin/env bash
# Starts the whole local stack (NATS, timer, IDE, VGA, vcpu, gateway when present) and boots
# the default guest; Ctrl-C stops everything. The command README.md gives a newcomer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
(cd guests && node build.mjs >/dev/null)
exec node --import tsx scripts/start-stack.ts "$@"
