#!/usr/bin/env bash
# Makes the local base image quasivm/node20-debian:bookworm when it is missing: a minimal
# Debian 12 root file system (debootstrap, from this machine's Debian mirror) plus this
# machine's own Node 20 binary, imported with `docker import`. No registry is involved.
# With a registry at hand the same role is played by node:20-bookworm-slim
# (QUASIVM_BASE_IMAGE=node:20-bookworm-slim, see README "Containers").
# Usage: docker/build-base-image.sh [--force]
set -euo pipefail
image=${QUASIVM_BASE_IMAGE:-quasivm/node20-debian:bookworm}
say() { echo "base-image: $*" >&2; }

if [[ ${1:-} != --force ]] && docker image inspect "$image" >/dev/null 2>&1; then
  say "$image is present"; exit 0
fi
node_bin=$(readlink -f "$(command -v node)")
major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[[ $major == 20 ]] || { say "this machine's node is $("$node_bin" -v); Node 20 is needed"; exit 1; }
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
mirror=$(grep -rh '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}' || true)
[[ -n $mirror ]] || mirror=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}' || true)
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian

root=$(mktemp -d /tmp/quasivm-rootfs.XXXXXX)
log=$(mktemp /tmp/quasivm-debootstrap.XXXXXX.log)
trap 'rm -rf "$root" "$log"' EXIT
say "debootstrap bookworm from $mirror (quiet; its log is shown on failure)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
# Keep the image small and let later `apt-get install` calls skip recommends.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90quasivm-no-recommends"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
say "importing as $image"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["node"]' - "$image" >/dev/null
say "$image ready ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'), node $("$node_bin" -v))"
