#!/usr/bin/env bash
# Installs what quasivm needs on a Debian machine with Node 20: Debian packages through
# apt-get when missing, then the npm packages (npm ci). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A NEEDED=(
  [nats-server]=nats-server
  [nasm]=nasm
  [/usr/share/seabios/bios.bin]=seabios
  [/usr/bin/chromium]=chromium
)
missing=()
for what in "${!NEEDED[@]}"; do
  if [[ $what == /* ]]; then [[ -e $what ]] || missing+=("${NEEDED[$what]}")
  else command -v "$what" >/dev/null 2>&1 || missing+=("${NEEDED[$what]}"); fi
done
for pkg in ${QUASIVM_EXTRA_PACKAGES:-}; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done

if ((${#missing[@]})); then
  echo "quasivm: installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "quasivm: cannot install ${missing[*]}: not root and no sudo. Run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A mirror in the middle of a sync fails one index now and then: try again, then install
  # from the package lists that loaded (the install says so if that is not enough).
  for try in 1 2 3; do
    $SUDO apt-get update -qq >/dev/null && break
    if ((try < 3)); then echo "quasivm: apt-get update failed (try $try of 3); again in 10 s" >&2; sleep 10
    else echo "quasivm: apt-get update failed 3 times; installing from the package lists that loaded" >&2; fi
  done
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "quasivm: could not install ${missing[*]}; install by hand: apt-get install -y ${missing[*]}" >&2; exit 1; }
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then echo "quasivm: Node.js >= 20 is needed (found $(node -v))" >&2; exit 1; fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "quasivm: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
