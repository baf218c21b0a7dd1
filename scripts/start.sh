#!/usr/bin/env bash
# Starts the whole local stack (NATS, timer, IDE, VGA, vcpu, gateway when present) and boots
# the default guest; Ctrl-C stops everything. The command README.md gives a newcomer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
(cd guests && node build.mjs >/dev/null)
# The default guest is Debian's 32-bit Linux (direct kernel boot); build its images unless a
# firmware was named. If they cannot be built, the stack still starts with SeaBIOS alone.
if [[ " $* " != *" --firmware "* ]]; then
  npm run --silent build -w @quasivm/guest-images >/dev/null 2>&1 || echo "quasivm: guest images could not be built; the default VM runs SeaBIOS only (see images/README.md)" >&2
fi
exec node --import tsx scripts/start-stack.ts "$@"
