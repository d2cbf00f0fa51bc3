#!/usr/bin/env bash
# Host tools for `npm run deb` and `npm run test:package`, installed when missing (a fresh Debian 12 has
# none of them): dpkg-dev (dpkg-shlibdeps: the addons' library dependencies), binutils (strip),
# lintian, mmdebstrap (the Debian trees the package is installed in), util-linux (unshare).
set -euo pipefail
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
missing=()
for pkg in dpkg-dev binutils lintian mmdebstrap util-linux; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "package-tools: apt-get install ${missing[*]}"
  if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
