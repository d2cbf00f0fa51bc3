#!/usr/bin/env bash
# apt-get install the given Debian packages that are not installed yet (as root, or through sudo), with
# one `apt-get update` retry when the package lists are missing or stale (a fresh machine has none).
#   bash scripts/apt-install-missing.sh WHO PKG...    WHO names the caller in the one line it prints
set -euo pipefail
who=$1
shift
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "$who: apt-get install ${missing[*]}"
  if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
