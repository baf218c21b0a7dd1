#!/usr/bin/env bash
# End-to-end check of the container stack, as a user would see it: builds the images
# without any registry, `docker-compose up -d`, boots a test guest through the gateway's
# VmControl gRPC API with devices in other containers, checks its serial lines, scales ide
# to 3 healthy replicas, boots ide-read-loop (it reads and checks its disk forever and keeps
# its count on the screen), checks its SCREEN TEXT, moves its IDE session from replica 1 to
# replica 2 and then 3 while it reads (no read error allowed), and tears everything down (`down -v`).
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
# Skipped (exit 0, with the reason) only where containers cannot run at all; any other
# trouble getting Docker up fails the check with the reason.
skip() { printf '\n[compose-e2e %4ss] SKIPPED: %s\n' "$((SECONDS - t0))" "$*"; exit 0; }
in_container() { [[ -f /.dockerenv || -f /run/.containerenv ]] || grep -qE 'docker|containerd|kubepods|lxc' /proc/1/cgroup 2>/dev/null; }
has_cap_sys_admin() { local eff; eff=$(awk '/^CapEff/{print $2}' /proc/self/status); (( (16#$eff >> 21) & 1 )); }
if ! docker info >/dev/null 2>&1; then
  if [[ -n $SUDO ]] && ! sudo -n true 2>/dev/null; then
    skip "no Docker daemon reachable by $(id -un), who is not root and has no passwordless sudo to install or start one (add the user to the docker group, or run as root)"
  fi
  if in_container && ! has_cap_sys_admin; then
    skip "this machine is a container without CAP_SYS_ADMIN (not --privileged): dockerd cannot mount filesystems or create namespaces here, so no container can run inside it"
  fi
fi
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
if ((${#need[@]})); then
  echo "  installing ${need[*]} from Debian"
  # A mirror in the middle of a sync fails one index now and then (seen: bookworm-security's
  # i386 list, "File has unexpected size"): try again, then install from the lists that loaded.
  for try in 1 2 3; do
    $SUDO apt-get update -qq >/dev/null && break
    if ((try < 3)); then echo "  apt-get update failed (try $try of 3); again in 10 s"; sleep 10
    else echo "  apt-get update failed 3 times; installing from the package lists that loaded"; fi
  done
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null \
    || die "could not install ${need[*]} with apt-get (see above)"
fi
if ! docker info >/dev/null 2>&1; then
  echo "  starting dockerd (log: /tmp/quasivm-dockerd.log)"
  ($SUDO dockerd >/tmp/quasivm-dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  if ! docker info >/dev/null 2>&1; then
    echo "--- last lines of /tmp/quasivm-dockerd.log ---"; tail -15 /tmp/quasivm-dockerd.log 2>/dev/null | cut -c1-300
    die "dockerd did not come up within 60 s (its log is above)"
  fi
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
# (written as a string: under Nx, FORCE_COLOR makes console.log colour a number)
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }
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

step "disk: loop.img in the ide-disks volume (64 sectors, each tagged with its LBA, as ide-read-loop checks)"
"${compose[@]}" exec -T ide node -e '
  const fs = require("fs"), file = "/var/lib/quasivm/disks/loop.img", fd = fs.openSync(file, "w"), head = Buffer.alloc(4);
  for (let lba = 0; lba < 64; lba++) { head.writeUInt32LE((0x5ec00000 + lba) >>> 0); fs.writeSync(fd, head, 0, 4, lba * 512); }
  fs.writeSync(fd, Buffer.alloc(1), 0, 1, 64 * 512 - 1); fs.closeSync(fd); console.log("  " + file + ": " + fs.statSync(file).size + " bytes");' \
  || die "could not write loop.img into the ide-disks volume"

step "scale: ${compose[*]} up -d --scale ide=3"
"${compose[@]}" up -d --no-build --no-recreate --scale ide=3 2>&1 | sed 's/^/  /'
wait_healthy ide 3 180 || die "three ide containers did not become healthy"
# Each replica by name and address on the compose network, in replica order.
mapfile -t replicas < <(for id in $("${compose[@]}" ps -q ide); do
  docker inspect -f '{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id"; done | sed 's#^/##' | sort -V)
((${#replicas[@]} == 3)) || die "expected 3 ide replicas, found: ${replicas[*]}"
ok "3 ide containers healthy: ${replicas[*]}"

step "move: ide-read-loop starts on ${replicas[0]%% *}; its IDE session moves to ${replicas[1]%% *}, then ${replicas[2]%% *}, while it reads its disk"
addr() { echo "${1##* }:50052"; }
node --import tsx docker/e2e-move.ts --address "$QUASIVM_GRPC_PUBLISH" --backend "$backend" \
  --ide "$(addr "${replicas[0]}")" --move-to "$(addr "${replicas[1]}")" --move-to "$(addr "${replicas[2]}")" | sed 's/^/  /' \
  || die "moving the IDE session between replicas while the guest read its disk failed"
for r in "${replicas[1]}" "${replicas[2]}"; do
  logs=$(docker logs "${r%% *}" 2>&1)  # (not piped into grep -q: with pipefail its early exit fails the pipe)
  grep -q '"msg":"state loaded"' <<<"$logs" || die "${r%% *} does not log that it loaded the moved session's state"
done
ok "screen text counted on across both moves, no read error; ${replicas[1]%% *} and ${replicas[2]%% *} each loaded the session's state"
