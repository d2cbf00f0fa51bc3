#!/usr/bin/env bash
# Fetch the real-kernel test fixtures (too big to commit) into test/fixtures/real/.
# A pinned, signed Debian bookworm cloud kernel: the .deb is fetched with `apt-get download`,
# checked against a pinned sha256, and only boot/vmlinuz-* is extracted. Idempotent: a fixture
# whose sha256 already matches is kept. Needs apt (Debian/Ubuntu); run as root on a fresh machine
# so `apt-get update` can fill the package lists.
set -euo pipefail

PKG=linux-image-6.1.0-56-cloud-amd64
VERSION=6.1.192-2
DEB_SHA256=e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee
KREL=6.1.0-56-cloud-amd64
VMLINUZ_SHA256=51349501a3d1ff83836437d2b365fd2d57f2feb8642d315e5181dec23d4c3275

cd "$(dirname "$0")/.."
OUT=test/fixtures/real
DEST="$OUT/vmlinuz-$KREL"
mkdir -p "$OUT"

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$DEST" && "$(sha "$DEST")" == "$VMLINUZ_SHA256" ]]; then
  echo "fetch-fixtures: $DEST is up to date"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK" # apt's _apt user downloads into it

download() { (cd "$WORK" && apt-get download -q "$PKG=$VERSION") >/dev/null 2>"$WORK/err"; }
if ! download; then
  # A fresh machine has no package lists yet (or stale ones): refresh once and retry.
  if [[ $(id -u) -eq 0 ]]; then apt-get update -q >/dev/null; else sudo apt-get update -q >/dev/null; fi
  if ! download; then
    cat "$WORK/err" >&2
    echo "fetch-fixtures: cannot download $PKG=$VERSION from the Debian archive." >&2
    echo "  If Debian has dropped this version, pin a newer one: update PKG, VERSION, KREL and both" >&2
    echo "  sha256 values here, and the release in test/unit/formats/real-kernel.test.ts." >&2
    exit 1
  fi
fi

DEB=$(echo "$WORK"/*.deb)
if [[ "$(sha "$DEB")" != "$DEB_SHA256" ]]; then
  echo "fetch-fixtures: sha256 mismatch for $(basename "$DEB"): got $(sha "$DEB"), want $DEB_SHA256" >&2
  exit 1
fi
dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./boot/vmlinuz-$KREL" >"$WORK/vmlinuz"
if [[ "$(sha "$WORK/vmlinuz")" != "$VMLINUZ_SHA256" ]]; then
  echo "fetch-fixtures: sha256 mismatch for vmlinuz-$KREL inside the package" >&2
  exit 1
fi
mv "$WORK/vmlinuz" "$DEST"
echo "fetch-fixtures: wrote $DEST ($(stat -c %s "$DEST") bytes)"
