#!/usr/bin/env bash
# Fetch the real-image test fixtures (too big to commit) into test/fixtures/real/.
# Every .deb is fetched with `apt-get download`, checked against a pinned sha256, and only the one
# file we need is extracted and checked against its own pinned sha256. Idempotent: a fixture whose
# sha256 already matches is kept. Needs apt (Debian/Ubuntu) and root (or sudo) for `apt-get update`.
#
#   vmlinuz-6.1.0-56-cloud-amd64             bookworm, signed bzImage, lz4 payload
#   vmlinuz-6.12.107+deb12-cloud-amd64       bookworm, signed bzImage, zstd payload
#   vmlinuz-6.12.107+deb12-cloud-amd64.unsigned   the same kernel from the -unsigned package
#   vmlinuz-6.12.107+deb13-cloud-arm64       trixie arm64 Image (EFI stub, uncompressed: Debian has no zboot)
#   vmlinux-6.12.107+deb13-riscv64           trixie riscv64 Image (Debian names it vmlinux)
#   linuxx64.efi.stub                        systemd-boot-efi 252 (bookworm), the UKI stub
#   uki-6.12.107+deb12-cloud-amd64.efi       built here: stub + 6.12 signed kernel + sections (objcopy)
#
# Also installs liblzo2-2, cpio and binutils when missing: the unit tests load the system's liblzo2.so.2 as
# `vmcore save -l` does (src/sys/liblzo2.ts), and must not pass on a machine without it by testing only the
# JS fallback; cpio and objcopy build the UKI fixture. zsh and groff-base: the unit tests run the zsh
# completion and check the man pages with groff, as they are generated from the command tables.
#
# arm64 and riscv64 packages come from trixie (riscv64 is not a bookworm architecture) through a
# private apt state directory, so the machine's apt configuration and architectures stay untouched.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=test/fixtures/real
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK" # apt's _apt user downloads into it

sha() { sha256sum "$1" | cut -d' ' -f1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Host packages the fixtures need, installed when missing:
# - liblzo2-2 (Debian's LZO 2, the library makedumpfile links): installed, not extracted, because
#   `vmcore save -l` dlopens it by soname from the system's library path;
# - cpio and binutils: the UKI fixture's initrd and sections below (a fresh Debian 12 has neither);
# - busybox-static: the capture initramfs tests run its sh and pack it;
# - zstd: the reference decoder the zstd tests compare with.
# - sbsigntool: test/unit/formats/authenticode.test.ts re-signs the real kernels with sbsign/sbattach;
# - zsh and groff-base: the completion tests run zsh, the man page tests run groff -ww.
bash scripts/apt-install-missing.sh fetch-fixtures liblzo2-2 cpio binutils busybox-static zstd sbsigntool zsh groff-base

# A private apt for foreign architectures (trixie main, arm64 + riscv64), set up on first use.
FOREIGN_APT=()
foreign_apt() {
  if [[ ${#FOREIGN_APT[@]} -eq 0 ]]; then
    local d="$WORK/apt"
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    touch "$d/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$d/sources.list"
    FOREIGN_APT=(-o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" -o "Dir::Cache=$d/cache"
      -o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
      -o "APT::Architecture=arm64" -o "APT::Architectures::=arm64" -o "APT::Architectures::=riscv64")
    # Not fatal: a mirror can serve a Packages index that disagrees with its Release (seen here for
    # trixie riscv64: "File has unexpected size ... Mirror sync in progress?"); fetch() then takes the
    # .deb straight from the pool, and the pinned sha256 checks it either way.
    apt-get -q "${FOREIGN_APT[@]}" update >/dev/null 2>"$WORK/update-err" ||
      echo "fetch-fixtures: trixie package lists incomplete ($(grep -m1 '^E:' "$WORK/update-err" || true)); using the pool if needed" >&2
  fi
}

# pool_get DIR POOL PKG: download NAME:ARCH=VERSION from the Debian pool directory POOL into DIR.
pool_get() {
  local dir="$1" pool="$2" spec="$3"
  local name="${spec%%:*}" rest="${spec#*:}"
  local arch="${rest%%=*}" version="${rest#*=}"
  local url="http://deb.debian.org/debian/$pool/${name}_${version}_${arch}.deb"
  if command -v curl >/dev/null; then curl -fsSL -o "$dir/${name}_${version}_${arch}.deb" "$url"
  else wget -q -O "$dir/${name}_${version}_${arch}.deb" "$url"; fi
}

# fetch DEST FILE_SHA256 PKG=VERSION DEB_SHA256 MEMBER [POOL_DIR: a trixie foreign-arch package, its pool directory]
fetch() {
  local dest="$OUT/$1" want="$2" pkg="$3" deb_sha="$4" member="$5" foreign="${6:-}"
  if [[ -f "$dest" && "$(sha "$dest")" == "$want" ]]; then
    echo "fetch-fixtures: $dest is up to date"
    return
  fi
  local dir="$WORK/dl-$1"
  mkdir -p "$dir" && chmod 755 "$dir"
  local opts=()
  if [[ -n "$foreign" ]]; then
    foreign_apt
    opts=("${FOREIGN_APT[@]}")
  fi
  dl() { (cd "$dir" && apt-get download -q ${opts[@]+"${opts[@]}"} "$pkg") >/dev/null 2>"$WORK/err"; }
  if ! dl; then
    # A fresh machine has no package lists yet (or stale ones): refresh once and retry.
    [[ -n "$foreign" ]] || as_root apt-get update -q >/dev/null
    if ! dl && ! { [[ -n "$foreign" ]] && pool_get "$dir" "$foreign" "$pkg"; }; then
      cat "$WORK/err" >&2
      echo "fetch-fixtures: cannot download $pkg from the Debian archive." >&2
      echo "  If Debian has dropped this version, pin a newer one here (package, both sha256 values)" >&2
      echo "  and the release names in test/unit/formats/real-*.test.ts and test/golden/." >&2
      exit 1
    fi
  fi
  local deb
  deb=$(echo "$dir"/*.deb)
  if [[ "$(sha "$deb")" != "$deb_sha" ]]; then
    echo "fetch-fixtures: sha256 mismatch for $(basename "$deb"): got $(sha "$deb"), want $deb_sha" >&2
    exit 1
  fi
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "$member" >"$dir/file"
  if [[ "$(sha "$dir/file")" != "$want" ]]; then
    echo "fetch-fixtures: sha256 mismatch for $member inside $pkg" >&2
    exit 1
  fi
  mv "$dir/file" "$dest"
  rm -rf "$dir"
  echo "fetch-fixtures: wrote $dest ($(stat -c %s "$dest") bytes)"
}

fetch vmlinuz-6.1.0-56-cloud-amd64 51349501a3d1ff83836437d2b365fd2d57f2feb8642d315e5181dec23d4c3275 \
  linux-image-6.1.0-56-cloud-amd64=6.1.192-2 e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee \
  ./boot/vmlinuz-6.1.0-56-cloud-amd64
K612=6.12.107+deb12-cloud-amd64
fetch "vmlinuz-$K612" 241e61dfe76ca0b21ce38152d57347c1a8be11c66e8a7f5d7064593bafaca855 \
  "linux-image-$K612=6.12.107-1~deb12u1" 1d7627f454e202a1bfee7e5e9b74de48a3d097fc2c339d33ff9b58ab285bf4e4 \
  "./boot/vmlinuz-$K612"
fetch "vmlinuz-$K612.unsigned" 6bca3e6081205564e1aee3bf1ce06a1921b504eff3a177ad924aa005a2789dfe \
  "linux-image-$K612-unsigned=6.12.107-1~deb12u1" 752d15dbe0817b35ec227f352e226122ec6567bd47e7240c90e01e61a179baad \
  "./boot/vmlinuz-$K612"
fetch vmlinuz-6.12.107+deb13-cloud-arm64 9dc1f2e9500e26ce3655cda4d57ae8a0ad7e6bf5e0f7f413433fcd06793cd7a6 \
  "linux-image-6.12.107+deb13-cloud-arm64-unsigned:arm64=6.12.107-1" 26e8cba299e701c5e7d0d35ffabf83cf8e315e594a834a3b8832e03a0f9787cf \
  ./boot/vmlinuz-6.12.107+deb13-cloud-arm64 pool/main/l/linux
fetch vmlinux-6.12.107+deb13-riscv64 8898c27a38f0bfcc3d9a4b0687ee752c4a2b3028576f919ba8955d2cbd6d4722 \
  "linux-image-6.12.107+deb13-riscv64:riscv64=6.12.107-1" abe9f65d74b434692149482b031db7a2aaf832921e09f69f775293c0e0c5799c \
  ./boot/vmlinux-6.12.107+deb13-riscv64 pool/main/l/linux
fetch linuxx64.efi.stub c62ae56ffaf49d1a61de4434f4f531dd1d4ed3b5aee46c934c56e3f809b22cc4 \
  "systemd-boot-efi=252.39-1~deb12u2" 8f2b81bdcfafc466882a0cae460272dbf10d8d97c6a3c1c6ea33038c155a2f5e \
  ./usr/lib/systemd/boot/efi/linuxx64.efi.stub

# A UKI the way systemd's documentation built them before ukify (Debian 12 has no systemd-ukify):
# objcopy adds each part as a PE section at a VMA above the stub's own sections. The inputs are
# pinned above; the output is rebuilt whenever it is missing or older than this script.
UKI="$OUT/uki-$K612.efi"
if [[ ! -f "$UKI" || "$UKI" -ot "$0" ]]; then
  command -v objcopy >/dev/null || { echo "fetch-fixtures: objcopy (binutils) is needed for the UKI" >&2; exit 1; }
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' >"$WORK/osrel"
  printf 'console=ttyS0 kexec-ts.fixture=uki' >"$WORK/cmdline"
  printf '%s' "$K612" >"$WORK/uname"
  mkdir -p "$WORK/ramfs/kernel/x86/microcode"
  printf '#!/bin/sh\necho kexec-ts fixture\n' >"$WORK/ramfs/init"
  chmod 755 "$WORK/ramfs/init"
  # cpio --reproducible leaves mtime and owner as they are: fix both, or the gzip's size follows the date.
  touch -d @0 "$WORK/ramfs/init"
  (cd "$WORK/ramfs" && printf 'init\n' | cpio --quiet -o -H newc --reproducible -R 0:0) | gzip -9n >"$WORK/initrd"
  # Section VMAs: past the stub's last section, each part aligned to 64 KiB (systemd's recipe).
  end=0
  while read -r _ _ size vma _; do
    ((16#$vma + 16#$size > end)) && end=$((16#$vma + 16#$size))
  done < <(objdump -h "$OUT/linuxx64.efi.stub" | grep -E '^ *[0-9]+ ')
  args=()
  for part in osrel cmdline uname initrd; do
    vma=$(((end + 0xffff) & ~0xffff))
    args+=(--add-section ".$part=$WORK/$part" --change-section-vma ".$part=$(printf '0x%x' "$vma")")
    end=$((vma + $(stat -c %s "$WORK/$part")))
  done
  vma=$(((end + 0xffff) & ~0xffff))
  args+=(--add-section ".linux=$OUT/vmlinuz-$K612" --change-section-vma ".linux=$(printf '0x%x' "$vma")")
  objcopy "${args[@]}" "$OUT/linuxx64.efi.stub" "$WORK/uki.efi"
  mv "$WORK/uki.efi" "$UKI"
  echo "fetch-fixtures: built $UKI ($(stat -c %s "$UKI") bytes)"
fi
