#!/usr/bin/env bash
# Builds every service image (quasivm/<service>:dev, the names docker-compose.yml uses) from
# ONE snapshot of the checkout: a tar of just what docker/Dockerfile copies, without .git,
# data, test caches or the build/test tooling the Dockerfile drops anyway. One snapshot
# means the shared workspace layers are built once and reused by every target, even while
# the checkout keeps changing; no registry is used.
# `docker compose build` does the same job from the live checkout.
# Usage: docker/build-images.sh [service...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
services=("$@"); ((${#services[@]})) || services=(nats timer ide vga vcpu gateway)
base=${QUASIVM_BASE_IMAGE:-quasivm/node20-debian:bookworm}
[[ $base == quasivm/* ]] && docker/build-base-image.sh
[[ -d node_modules ]] || { echo "build-images: node_modules is missing; run scripts/ensure-deps.sh" >&2; exit 1; }

snapshot=$(mktemp /tmp/quasivm-context.XXXXXX.tar)
log=$(mktemp /tmp/quasivm-build.XXXXXX.log)
trap 'rm -f "$snapshot"' EXIT
tar -c -f "$snapshot" --exclude-vcs --exclude='*/node_modules/.vite' --exclude='node_modules/.cache' \
  --exclude='*/coverage' --exclude='*.tsbuildinfo' \
  $(for p in typescript nx @nx playwright-core testcontainers dockerode ssh2 vitest @vitest vite rolldown @rolldown 'lightningcss*'; do
      printf -- '--exclude=node_modules/%s ' "$p"; done) \
  package.json tsconfig.base.json node_modules proto libs apps docker
echo "build-images: context snapshot $(($(stat -c %s "$snapshot") / 1000000)) MB, base $base" >&2
for svc in "${services[@]}"; do
  start=$SECONDS
  docker build -q -f docker/Dockerfile --target "$svc" --build-arg "BASE_IMAGE=$base" -t "quasivm/$svc:dev" - <"$snapshot" >"$log" 2>&1 \
    || { tail -30 "$log" >&2; echo "build-images: $svc failed (log: $log)" >&2; exit 1; }
  echo "build-images: quasivm/$svc:dev ($((SECONDS - start)) s)" >&2
done
rm -f "$log"
