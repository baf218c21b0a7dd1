#!/usr/bin/env bash
# End-to-end check of the container stack, as a user would see it: builds the images
# without any registry, `docker-compose up -d`, boots a test guest through the gateway's
# VmControl gRPC API with devices in other containers, checks its serial lines, scales ide
# to 3 healthy replicas, boots again, and tears everything down (`down -v`).
# Needs root (or sudo) only to install docker.io/docker-compose or start dockerd.
#   QUASIVM_E2E_BACKEND=soft|kvm|auto   CPU backend of the test VMs (default soft)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { printf '\n[compose-e2e %4ss] %s\n' "$((SECONDS - t0))" "$*"; }
ok() { printf '[compose-e2e %4ss]   ok: %s\n' "$((SECONDS - t0))" "$*"; }
die() { printf '[compose-e2e %4ss] FAILED: %s\n' "$((SECONDS - t0))" "$*" >&2; exit 1; }
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
backend=${QUASIVM_E2E_BACKEND:-soft}
[[ $backend =~ ^(soft|kvm|auto)$ ]] || die "QUASIVM_E2E_BACKEND must be soft, kvm or auto (got \"$backend\")"

step "tools: docker engine and docker-compose"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
if ((${#need[@]})); then
  echo "  installing ${need[*]} from Debian"
  $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "  starting dockerd (log: /tmp/quasivm-dockerd.log)"
  ($SUDO dockerd >/tmp/quasivm-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up; see /tmp/quasivm-dockerd.log"
fi
if command -v docker-compose >/dev/null; then compose=(docker-compose); else compose=(docker compose); fi
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-quasivm-e2e}
ok "docker $(docker version -f '{{.Server.Version}}'), $("${compose[@]}" version --short 2>/dev/null || echo compose), project $COMPOSE_PROJECT_NAME"

step "host side: node_modules and the test guests"
bash scripts/ensure-deps.sh
(cd guests && node build.mjs >/dev/null)
[[ -f guests/build/two-lines.bin ]] || die "guests/build/two-lines.bin was not built"
ok "node $(node -v), guests/build/two-lines.bin"

step "images: local base image, then every service (no registry)"
docker/build-images.sh 2>&1 | sed 's/^/  /' || die "image build failed"
ok "$(docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' 'quasivm/*' | tr '\n' ' ')"

# Everything below runs against a stack that is always torn down, even on failure.
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
export QUASIVM_HTTP_PUBLISH=127.0.0.1:$(free_port) QUASIVM_GRPC_PUBLISH=127.0.0.1:$(free_port)
export QUASIVM_TOKEN=${QUASIVM_TOKEN:-e2e-$(node -p 'require("crypto").randomBytes(16).toString("hex")')}
if [[ -e /dev/kvm ]]; then export QUASIVM_KVM_GID=$(stat -c %g /dev/kvm); kvm_note="/dev/kvm passed in (group $QUASIVM_KVM_GID)"
else export QUASIVM_KVM_DEVICE=/dev/null; kvm_note="no /dev/kvm here: the vcpu gets /dev/null, soft CPU only"; fi
teardown() {
  local rc=$?
  if ((rc != 0)); then
    echo "--- last log lines of each service ---"
    "${compose[@]}" logs --no-color --tail 15 2>&1 | cut -c1-300 || true
  fi
  step "teardown: ${compose[*]} down -v"
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  local filter="label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" left
  left=$(( $(docker ps -aq --filter "$filter" | wc -l) + $(docker volume ls -q --filter "$filter" | wc -l) ))
  ((left == 0)) && ok "no containers or volumes left" || echo "  $left containers/volumes left behind"
  if ((rc == 0)); then printf '\n[compose-e2e %4ss] PASSED\n' "$((SECONDS - t0))"; else printf '\n[compose-e2e %4ss] FAILED\n' "$((SECONDS - t0))"; fi
}
trap teardown EXIT

# wait_healthy SERVICE COUNT TIMEOUT_S: every container of SERVICE (COUNT of them) is healthy.
wait_healthy() {
  local svc=$1 want=$2 until=$((SECONDS + $3)) ids states
  while :; do
    ids=$("${compose[@]}" ps -q "$svc" 2>/dev/null)
    states=$(for id in $ids; do docker inspect -f '{{.State.Health.Status}}' "$id"; done)
    [[ $(grep -c '^healthy$' <<<"$states") -eq $want ]] && return 0
    ((SECONDS < until)) || { echo "  $svc: $(echo $states)"; return 1; }
    sleep 2
  done
}

step "up: ${compose[*]} up -d ($kvm_note; gateway on $QUASIVM_HTTP_PUBLISH and gRPC $QUASIVM_GRPC_PUBLISH)"
up_start=$SECONDS
"${compose[@]}" up -d --no-build 2>&1 | sed 's/^/  /'
for svc in nats timer ide vga vcpu gateway; do wait_healthy "$svc" 1 180 || die "$svc did not become healthy"; done
ok "all six services healthy $((SECONDS - up_start)) s after up"
"${compose[@]}" ps | sed 's/^/  /'

step "KVM inside the vcpu container"
"${compose[@]}" exec -T vcpu node -e '
  try { require("fs").closeSync(require("fs").openSync("/dev/kvm", "r+")); console.log("  /dev/kvm opens for user", require("os").userInfo().username); }
  catch (e) { console.log("  /dev/kvm not usable (" + e.code + "): VMs use the soft CPU backend"); }'

step "boot: two-lines guest through the gateway (VmControl gRPC), devices timer:50051 ide:50052 vga:50053, backend $backend"
node --import tsx docker/e2e-client.ts --address "$QUASIVM_GRPC_PUBLISH" --backend "$backend" | sed 's/^/  /' \
  || die "the guest's serial lines did not arrive"
ok "serial output 'two-lines: first' and 'two-lines: second' seen"

step "scale: ${compose[*]} up -d --scale ide=3"
"${compose[@]}" up -d --no-build --no-recreate --scale ide=3 2>&1 | sed 's/^/  /'
wait_healthy ide 3 180 || die "three ide containers did not become healthy"
ok "3 ide containers healthy: $("${compose[@]}" ps ide | awk 'NR>2{print $1}' | tr '\n' ' ')"
node --import tsx docker/e2e-client.ts --address "$QUASIVM_GRPC_PUBLISH" --backend "$backend" | sed 's/^/  /' \
  || die "the guest did not boot with three ide replicas"
ok "guest boots with ide scaled to 3"
