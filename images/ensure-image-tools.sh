#!/usr/bin/env bash
# Installs the Debian tools the guest-image build needs (through apt-get when missing) and
# enables Debian's i386 architecture so `apt-get download ...:i386` finds the 32-bit kernel
# and busybox. Safe to run again; does nothing when everything is present.
set -euo pipefail

# command or file -> Debian package
declare -A NEEDED=(
  [apt-get]=apt
  [dpkg-deb]=dpkg
  [cpio]=cpio
  [gzip]=gzip
  [mformat]=mtools
  [mcopy]=mtools
  [sfdisk]=fdisk
  [syslinux]=syslinux
  [/usr/lib/syslinux/mbr/mbr.bin]=syslinux-common
  [/usr/lib/syslinux/modules/bios/ldlinux.c32]=syslinux-common
  [/usr/lib/ISOLINUX/isolinux.bin]=isolinux
  [xorriso]=xorriso
  [qemu-system-i386]=qemu-system-x86
)
missing=()
for what in "${!NEEDED[@]}"; do
  if [[ $what == /* ]]; then [[ -e $what ]] || missing+=("${NEEDED[$what]}")
  else command -v "$what" >/dev/null 2>&1 || missing+=("${NEEDED[$what]}"); fi
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

need_i386=0
dpkg --print-foreign-architectures | grep -qx i386 || need_i386=1

if ((${#missing[@]} || need_i386)); then
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "quasivm-images: not root and no sudo. Run as root:" >&2
    ((need_i386)) && echo "  dpkg --add-architecture i386 && apt-get update" >&2
    ((${#missing[@]})) && echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ((need_i386)); then
    echo "quasivm-images: enabling Debian's i386 architecture (for the 32-bit kernel and busybox)" >&2
    $SUDO dpkg --add-architecture i386
  fi
  # A mirror mid-sync can fail one index (e.g. security's i386 list); what did load is still used.
  $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null 2>&1 || echo "quasivm-images: apt-get update reported errors; going on with the package lists that loaded" >&2
  if ((${#missing[@]})); then
    echo "quasivm-images: installing Debian packages: ${missing[*]}" >&2
    $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
